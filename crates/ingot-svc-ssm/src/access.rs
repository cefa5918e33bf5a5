//! Parameter Store's access decisions, in one place: the reserved `aws` prefix, which no
//! principal may write whatever its policies say, and then the authorizer, asked with the
//! operation's action, the parameter's ARN, the parameter's own tags (`aws:ResourceTag/*`), the
//! tags a request sets (`aws:RequestTag/*`, `aws:TagKeys`) and, for another account's parameter,
//! the resource policies attached to it (RAM's shares and the owner's PutResourcePolicy).

use crate::errors::SsmError;
use crate::names::{Owner, ParameterName, ParameterReference};
use crate::store::{self, ParameterRecord};
use crate::types::Tag;
use ingot_core::{Access, CommonError, Operation, RequestContext};
use ingot_identity::resource_policies::{resource_policies_key, ResourcePoliciesRecord};
use std::sync::Arc;

/// Authorizes `Op`, which writes parameter `name` (at `arn`) and sets `request_tags` on it.
pub async fn authorize_write<Op: Operation>(
    ctx: &RequestContext<'_>,
    name: &ParameterName,
    arn: &str,
    request_tags: &[Tag],
) -> Result<(), SsmError> {
    if name.reserved {
        let canonical = &name.canonical;
        return Err(CommonError::access_denied(format!("No access to reserved parameter name: {canonical}.")).into());
    }
    let tags = resource_tags(ctx, Some(&name.canonical)).await?;
    let access = Access::resource(arn)
        .with_resource_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .with_request_tags(request_tags.iter().map(|t| (t.key.as_str(), t.value.as_str())));
    Ok(ctx.authorize::<Op>(access).await?)
}

/// Authorizes `Op` on one resource (a parameter it reads or tags, at `arn`). `own` names the
/// parameter when it is the caller's own, whose tags the decision may look at.
pub async fn authorize<Op: Operation>(ctx: &RequestContext<'_>, arn: &str, own: Option<&str>) -> Result<(), SsmError> {
    let tags = resource_tags(ctx, own).await?;
    let access = Access::resource(arn).with_resource_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    Ok(ctx.authorize::<Op>(access).await?)
}

/// Authorizes `Op`, which reads the parameter `reference` names (at `arn`): the caller's own,
/// whose tags the decision looks at; another account's, whose tags and attached resource
/// policies (RAM's shares, the owner's PutResourcePolicy) decide with the caller's own policies;
/// or a public one. Answers with the parameter's current record as the decision saw it (`None`
/// for a public parameter or one that does not exist), so that the read does not load it again.
pub async fn authorize_read<Op: Operation>(
    ctx: &RequestContext<'_>,
    reference: &ParameterReference<'_>,
    arn: &str,
) -> Result<Option<Arc<ParameterRecord>>, SsmError> {
    let owner = match &reference.owner {
        Owner::Account(scope) => scope,
        Owner::Public(_) => {
            authorize::<Op>(ctx, arn, None).await?;
            return Ok(None);
        }
    };
    let record = store::load_for_get_in(&ctx.tx, owner, &reference.name.canonical).await?;
    let tags = record.as_ref().map_or(&[][..], |r| &r.tags[..]);
    let mut access = Access::resource(arn).with_resource_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let document;
    if **owner != *ctx.scope {
        let policies = ctx.tx.get_record::<ResourcePoliciesRecord>(&resource_policies_key(owner, arn)).await?;
        document = policies.and_then(|p| p.combined_document());
        if let Some(document) = &document {
            access = access.with_resource_policy(document);
        }
    }
    ctx.authorize::<Op>(access).await?;
    Ok(record)
}

/// Authorizes `Op`, which changes the tags of the caller's own parameter `canonical`: the tags it
/// sets (or, removing, the keys it names) are the request's.
pub async fn authorize_tagging<Op: Operation>(
    ctx: &RequestContext<'_>,
    arn: &str,
    canonical: &str,
    request_tags: &[(String, Option<String>)],
) -> Result<(), SsmError> {
    let tags = resource_tags(ctx, Some(canonical)).await?;
    let mut access = Access::resource(arn).with_resource_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let keys: Vec<&str> = request_tags.iter().map(|(k, _)| k.as_str()).collect();
    for (key, value) in request_tags {
        if let Some(value) = value {
            access = access.condition(["aws:RequestTag/", key].concat(), [value.as_str()]);
        }
    }
    if !keys.is_empty() {
        access = access.condition("aws:TagKeys", keys);
    }
    Ok(ctx.authorize::<Op>(access).await?)
}

/// Authorizes `Op`, which is not about one parameter (DescribeParameters).
pub async fn authorize_any<Op: Operation>(ctx: &RequestContext<'_>) -> Result<(), SsmError> {
    Ok(ctx.authorize::<Op>(Access::any_resource()).await?)
}

/// The tags of the caller's own parameter `canonical`; none when it does not exist (yet).
async fn resource_tags(ctx: &RequestContext<'_>, own: Option<&str>) -> Result<Vec<(String, String)>, SsmError> {
    let Some(canonical) = own else { return Ok(Vec::new()) };
    Ok(store::load_for_get(ctx, canonical).await?.map(|record| record.tags.clone()).unwrap_or_default())
}
