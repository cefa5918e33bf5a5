//! Tags of roots, OUs, accounts and policies: TagResource, UntagResource, ListTagsForResource, and
//! the validation and condition keys every operation that takes `Tags` shares. At most 50 tags
//! per resource; keys are unique within a request and may not use the reserved `aws:` prefix.

use crate::access;
use crate::errors::OrganizationsError;
use crate::fail;
use crate::ids::{kind_of, IdKind, OrgArns};
use crate::operations::{ListTagsForResource, TagResource, UntagResource};
use crate::store;
use crate::types::{
    InvalidInputExceptionReason, ListTagsForResourceRequest, ListTagsForResourceResponse, Tag, TagResourceRequest,
    UntagResourceRequest,
};
use crate::Organizations;
use ingot_core::{Empty, Handler, Operation, RequestContext};
use ingot_identity::organization::FULL_AWS_ACCESS_ID;
use ingot_identity::{AccountRecord, OrgPolicyRecord, OrganizationRecord, OuRecord};

/// Tags per root, OU, account or policy.
pub const MAX_TAGS: usize = 50;

/// Checks the tags a request brings: unique keys, no reserved prefix, at most [`MAX_TAGS`].
pub fn validate(tags: &[Tag]) -> Result<(), OrganizationsError> {
    for (i, tag) in tags.iter().enumerate() {
        if tags[..i].iter().any(|t| t.key == tag.key) {
            return Err(fail::duplicate_tag_key());
        }
        if tag.key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
            return Err(fail::invalid_input(
                InvalidInputExceptionReason::InvalidSystemTagsParameter,
                "You specified a tag key that is a system tag. You can't add, edit, or delete system tag keys.",
            ));
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(fail::too_many_tags());
    }
    Ok(())
}

/// `aws:RequestTag/KEY` for each tag and `aws:TagKeys`, for the authorizer.
pub fn request_conditions(tags: &[Tag]) -> Vec<(String, Vec<String>)> {
    let mut conditions: Vec<(String, Vec<String>)> =
        tags.iter().map(|t| (["aws:RequestTag/", &t.key].concat(), vec![t.value.clone()])).collect();
    if !tags.is_empty() {
        conditions.push(("aws:TagKeys".to_string(), tags.iter().map(|t| t.key.clone()).collect()));
    }
    conditions
}

pub fn stored(tags: Vec<Tag>) -> Vec<ingot_identity::Tag> {
    tags.into_iter().map(|t| ingot_identity::Tag { key: t.key, value: t.value }).collect()
}

pub fn wire(tags: &[ingot_identity::Tag]) -> Vec<Tag> {
    tags.iter().map(|t| Tag { key: t.key.clone(), value: t.value.clone() }).collect()
}

/// Adds or replaces `tags` on `existing`, refusing more than [`MAX_TAGS`] in all.
pub fn merge(existing: &mut Vec<ingot_identity::Tag>, tags: Vec<Tag>) -> Result<(), OrganizationsError> {
    for tag in tags {
        match existing.iter_mut().find(|t| t.key == tag.key) {
            Some(slot) => slot.value = tag.value,
            None => existing.push(ingot_identity::Tag { key: tag.key, value: tag.value }),
        }
    }
    if existing.len() > MAX_TAGS {
        return Err(fail::too_many_tags());
    }
    Ok(())
}

/// A taggable resource of the caller's organization.
enum Tagged {
    Root,
    Ou(OuRecord),
    Account(AccountRecord),
    Policy(OrgPolicyRecord),
}

impl Tagged {
    fn tags<'a>(&'a self, org: &'a OrganizationRecord) -> &'a [ingot_identity::Tag] {
        match self {
            Tagged::Root => &org.root_tags,
            Tagged::Ou(ou) => &ou.tags,
            Tagged::Account(account) => &account.tags,
            Tagged::Policy(policy) => &policy.tags,
        }
    }

    fn tags_mut<'a>(&'a mut self, org: &'a mut OrganizationRecord) -> &'a mut Vec<ingot_identity::Tag> {
        match self {
            Tagged::Root => &mut org.root_tags,
            Tagged::Ou(ou) => &mut ou.tags,
            Tagged::Account(account) => &mut account.tags,
            Tagged::Policy(policy) => &mut policy.tags,
        }
    }

    fn save(&self, ctx: &RequestContext<'_>, org: &OrganizationRecord) {
        match self {
            Tagged::Root => store::save_organization(&ctx.tx, org),
            Tagged::Ou(ou) => store::save_ou(&ctx.tx, org, ou),
            Tagged::Account(account) => store::save_account(&ctx.tx, org, account),
            Tagged::Policy(policy) => store::save_policy(&ctx.tx, org, policy),
        }
    }
}

/// The ARN a tagging operation is authorized on; `None` for an id that names nothing taggable.
fn resource_arn(org: &OrganizationRecord, id: &str) -> Option<String> {
    let arns = OrgArns::of(org);
    match kind_of(id) {
        IdKind::Other if id.starts_with("p-") && id != FULL_AWS_ACCESS_ID => {
            Some(arns.policy(ingot_identity::organization::SERVICE_CONTROL_POLICY, id))
        }
        _ => arns.target(id),
    }
}

/// Finds the tagged resource after authorizing `Op` on it.
async fn tagged<Op: Operation>(
    ctx: &RequestContext<'_>,
    id: &str,
    conditions: Vec<(String, Vec<String>)>,
) -> Result<(OrganizationRecord, Tagged), OrganizationsError> {
    let org = access::management::<Op>(ctx).await?;
    let arns: Vec<String> = resource_arn(&org, id).into_iter().collect();
    access::resources::<Op>(ctx, &arns, conditions).await?;
    if id == FULL_AWS_ACCESS_ID {
        return Err(fail::invalid_input(
            InvalidInputExceptionReason::TargetNotSupported,
            "You can't perform the specified operation on that target entity.",
        ));
    }
    let found = match kind_of(id) {
        IdKind::Root => (id == org.root_id).then_some(Tagged::Root),
        IdKind::OrganizationalUnit => store::ou(&ctx.tx, &org, id).await?.map(Tagged::Ou),
        IdKind::Account => store::account(&ctx.tx, &org, id).await?.map(Tagged::Account),
        IdKind::Other => store::policy(&ctx.tx, &org, id).await?.map(Tagged::Policy),
    };
    match found {
        Some(found) => Ok((org, found)),
        None => Err(OrganizationsError::target_not_found_exception(fail::TARGET_NOT_FOUND)),
    }
}

impl Handler<TagResource> for Organizations {
    async fn handle(&self, ctx: &RequestContext<'_>, input: TagResourceRequest) -> Result<Empty, OrganizationsError> {
        let conditions = request_conditions(&input.tags);
        let (mut org, mut resource) = tagged::<TagResource>(ctx, &input.resource_id, conditions).await?;
        validate(&input.tags)?;
        merge(resource.tags_mut(&mut org), input.tags)?;
        resource.save(ctx, &org);
        Ok(Empty {})
    }
}

impl Handler<UntagResource> for Organizations {
    async fn handle(&self, ctx: &RequestContext<'_>, input: UntagResourceRequest) -> Result<Empty, OrganizationsError> {
        let conditions = vec![("aws:TagKeys".to_string(), input.tag_keys.clone())];
        let (mut org, mut resource) = tagged::<UntagResource>(ctx, &input.resource_id, conditions).await?;
        let tags = resource.tags_mut(&mut org);
        let before = tags.len();
        tags.retain(|t| !input.tag_keys.contains(&t.key));
        if tags.len() != before {
            resource.save(ctx, &org);
        }
        Ok(Empty {})
    }
}

impl Handler<ListTagsForResource> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListTagsForResourceRequest,
    ) -> Result<ListTagsForResourceResponse, OrganizationsError> {
        let (org, resource) = tagged::<ListTagsForResource>(ctx, &input.resource_id, Vec::new()).await?;
        // At most 50 tags: one page.
        Ok(ListTagsForResourceResponse { tags: Some(wire(resource.tags(&org))), next_token: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> Tag {
        Tag { key: k.into(), value: v.into() }
    }

    #[test]
    fn repeated_keys_and_reserved_prefixes_are_refused() {
        assert!(validate(&[tag("a", "1"), tag("b", "2")]).is_ok());
        assert!(matches!(validate(&[tag("a", "1"), tag("a", "2")]), Err(OrganizationsError::InvalidInputException(_))));
        assert!(matches!(validate(&[tag("AWS:x", "1")]), Err(OrganizationsError::InvalidInputException(_))));
        let many: Vec<Tag> = (0..51).map(|i| tag(&format!("k{i}"), "")).collect();
        assert!(matches!(validate(&many), Err(OrganizationsError::ConstraintViolationException(_))));
    }

    #[test]
    fn merging_replaces_values_and_keeps_the_limit() {
        let mut existing = vec![ingot_identity::Tag { key: "env".into(), value: "dev".into() }];
        merge(&mut existing, vec![tag("env", "prod"), tag("team", "core")]).unwrap();
        assert_eq!(existing.len(), 2);
        assert_eq!(existing[0].value, "prod");
        let mut full: Vec<ingot_identity::Tag> =
            (0..50).map(|i| ingot_identity::Tag { key: format!("k{i}"), value: String::new() }).collect();
        assert!(merge(&mut full, vec![tag("new", "x")]).is_err());
    }

    #[test]
    fn request_tags_become_condition_keys() {
        let conditions = request_conditions(&[tag("env", "prod")]);
        assert_eq!(conditions[0], ("aws:RequestTag/env".to_string(), vec!["prod".to_string()]));
        assert_eq!(conditions[1], ("aws:TagKeys".to_string(), vec!["env".to_string()]));
        assert!(request_conditions(&[]).is_empty());
    }
}
