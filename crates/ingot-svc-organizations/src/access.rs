//! Who may call what, in one place.
//!
//! Every operation asks the authorizer first. An Organizations resource ARN names the
//! organization, so it can only be built once the caller's organization is known: the handlers
//! read the caller's own membership (and its organization) to build it, and nothing else before
//! the authorizer answers. A caller in no organization is asked about `*` and, if allowed, told
//! `AWSOrganizationsNotInUseException`; a member account calling an operation reserved to the
//! management account is asked about `*` and, if allowed, gets AWS's `AccessDeniedException`.
//!
//! Two operations are authorized on `*` although AWS names a resource type for them, because the
//! ARN they would name does not belong to the caller's account in the sense the authorizers read
//! an ARN's account field:
//! - AcceptHandshake is called by the invited account, but a handshake's ARN names the management
//!   account (an authorizer would treat it as another account's resource);
//! - actions on AWS's managed `p-FullAWSAccess`, whose ARN names the account `aws`.

use crate::errors::OrganizationsError;
use crate::fail;
use crate::store;
use ingot_core::{Access, Operation, RequestContext};
use ingot_identity::{MembershipRecord, OrganizationRecord};

/// The caller's membership and organization, `None` when it is in none.
pub async fn caller_organization(
    ctx: &RequestContext<'_>,
) -> Result<Option<(MembershipRecord, OrganizationRecord)>, OrganizationsError> {
    let Some(membership) = store::membership(&ctx.tx, ctx.account()).await? else { return Ok(None) };
    Ok(store::organization(&ctx.tx, &membership.organization_id).await?.map(|org| (membership, org)))
}

/// The organization of the caller, which must be its management account. The caller still has to
/// authorize `Op` on the resource (the organization is needed to name it).
pub async fn management<Op: Operation>(ctx: &RequestContext<'_>) -> Result<OrganizationRecord, OrganizationsError> {
    match caller_organization(ctx).await? {
        None => {
            any::<Op>(ctx).await?;
            Err(OrganizationsError::aws_organizations_not_in_use_exception(fail::NOT_IN_USE))
        }
        Some((_, org)) if &org.management_account != ctx.account() => {
            any::<Op>(ctx).await?;
            Err(OrganizationsError::access_denied_exception(fail::NOT_MANAGEMENT))
        }
        Some((_, org)) => Ok(org),
    }
}

/// [`management`] for operations that name no resource: authorized on `*`.
pub async fn management_any<Op: Operation>(
    ctx: &RequestContext<'_>,
    access: Access<'_>,
) -> Result<OrganizationRecord, OrganizationsError> {
    let org = management::<Op>(ctx).await?;
    ctx.authorize::<Op>(access).await?;
    Ok(org)
}

/// The organization of a caller that may be any of its accounts, authorized on `*`.
pub async fn member_any<Op: Operation>(
    ctx: &RequestContext<'_>,
) -> Result<(MembershipRecord, OrganizationRecord), OrganizationsError> {
    any::<Op>(ctx).await?;
    caller_organization(ctx)
        .await?
        .ok_or_else(|| OrganizationsError::aws_organizations_not_in_use_exception(fail::NOT_IN_USE))
}

/// Authorizes `Op` on `*`.
pub async fn any<Op: Operation>(ctx: &RequestContext<'_>) -> Result<(), OrganizationsError> {
    Ok(ctx.authorize::<Op>(Access::any_resource()).await?)
}

/// Authorizes `Op` on one resource.
pub async fn resource<Op: Operation>(ctx: &RequestContext<'_>, arn: &str) -> Result<(), OrganizationsError> {
    Ok(ctx.authorize::<Op>(Access::resource(arn)).await?)
}

/// Authorizes `Op` on several resources (each must be allowed), `*` when there are none.
pub async fn resources<Op: Operation>(
    ctx: &RequestContext<'_>,
    arns: &[String],
    conditions: Vec<(String, Vec<String>)>,
) -> Result<(), OrganizationsError> {
    let mut access = if arns.is_empty() { Access::any_resource() } else { Access::resources(arns) };
    for (key, values) in conditions {
        access = access.condition(key, values);
    }
    Ok(ctx.authorize::<Op>(access).await?)
}
