//! Tags of parameters: AddTagsToResource, RemoveTagsFromResource and ListTagsForResource with
//! `ResourceType: Parameter` (Ingot has no other taggable Systems Manager resources yet, so every
//! other type is `InvalidResourceType`). Tags belong to the parameter, not to a version.

use crate::access;
use crate::errors::SsmError;
use crate::names::{parameter_arn, validation, ParameterName, MALFORMED_PATH};
use crate::operations::{AddTagsToResource, ListTagsForResource, RemoveTagsFromResource};
use crate::parameters::MAX_TAGS;
use crate::store::{self, ParameterRecord};
use crate::types::{
    AddTagsToResourceRequest, AddTagsToResourceResult, ListTagsForResourceRequest, ListTagsForResourceResult,
    RemoveTagsFromResourceRequest, RemoveTagsFromResourceResult, ResourceTypeForTagging, Tag,
};
use crate::Ssm;
use ingot_core::{CommonKind, Handler, Operation, RequestContext};

/// Finds the tagged parameter after authorizing `action` on it; `request_tags` are the tags the
/// call sets (a key without a value: one it removes).
async fn tagged_parameter<Op: Operation>(
    ctx: &RequestContext<'_>,
    resource_type: ResourceTypeForTagging,
    resource_id: &str,
    request_tags: &[(String, Option<String>)],
) -> Result<(String, ParameterRecord), SsmError> {
    if resource_type != ResourceTypeForTagging::Parameter {
        access::authorize_any::<Op>(ctx).await?;
        return Err(SsmError::InvalidResourceType(Default::default()));
    }
    let name = ParameterName::for_read(resource_id, ctx.scope).map_err(|e| match e {
        SsmError::Common(c) if c.kind == CommonKind::Validation => validation(MALFORMED_PATH),
        other => other,
    })?;
    let arn = parameter_arn(ctx.scope, &name.canonical);
    access::authorize_tagging::<Op>(ctx, &arn, &name.canonical, request_tags).await?;
    if name.is_public() {
        return Err(SsmError::InvalidResourceId(Default::default()));
    }
    match store::load(ctx, &name.canonical).await? {
        Some(record) => Ok((name.canonical, record)),
        None => Err(SsmError::InvalidResourceId(Default::default())),
    }
}

/// Adds or replaces `tags` on `existing`, refusing more than 50 in all.
pub fn merge_tags(existing: &mut Vec<(String, String)>, tags: Vec<Tag>) -> Result<(), SsmError> {
    for tag in tags {
        match existing.iter_mut().find(|(k, _)| *k == tag.key) {
            Some(slot) => slot.1 = tag.value,
            None => existing.push((tag.key, tag.value)),
        }
    }
    if existing.len() > MAX_TAGS {
        return Err(SsmError::TooManyTagsError(Default::default()));
    }
    Ok(())
}

impl Handler<AddTagsToResource> for Ssm {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: AddTagsToResourceRequest,
    ) -> Result<AddTagsToResourceResult, SsmError> {
        let request: Vec<(String, Option<String>)> =
            input.tags.iter().map(|t| (t.key.clone(), Some(t.value.clone()))).collect();
        let (canonical, mut record) =
            tagged_parameter::<AddTagsToResource>(ctx, input.resource_type, &input.resource_id, &request).await?;
        merge_tags(&mut record.tags, input.tags)?;
        store::save(&ctx.tx, ctx.scope, &canonical, &record);
        Ok(AddTagsToResourceResult {})
    }
}

impl Handler<RemoveTagsFromResource> for Ssm {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: RemoveTagsFromResourceRequest,
    ) -> Result<RemoveTagsFromResourceResult, SsmError> {
        let request: Vec<(String, Option<String>)> = input.tag_keys.iter().map(|k| (k.clone(), None)).collect();
        let (canonical, mut record) =
            tagged_parameter::<RemoveTagsFromResource>(ctx, input.resource_type, &input.resource_id, &request).await?;
        let before = record.tags.len();
        record.tags.retain(|(k, _)| !input.tag_keys.contains(k));
        if record.tags.len() != before {
            store::save(&ctx.tx, ctx.scope, &canonical, &record);
        }
        Ok(RemoveTagsFromResourceResult {})
    }
}

impl Handler<ListTagsForResource> for Ssm {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListTagsForResourceRequest,
    ) -> Result<ListTagsForResourceResult, SsmError> {
        let (_, record) =
            tagged_parameter::<ListTagsForResource>(ctx, input.resource_type, &input.resource_id, &[]).await?;
        let tag_list = record.tags.into_iter().map(|(key, value)| Tag { key, value }).collect();
        Ok(ListTagsForResourceResult { tag_list: Some(tag_list) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> Tag {
        Tag { key: k.into(), value: v.into() }
    }

    #[test]
    fn adding_a_tag_with_an_existing_key_replaces_its_value() {
        let mut tags = vec![("env".to_string(), "dev".to_string())];
        merge_tags(&mut tags, vec![tag("env", "prod"), tag("team", "core")]).unwrap();
        assert_eq!(tags, vec![("env".into(), "prod".into()), ("team".into(), "core".into())]);
    }

    #[test]
    fn more_than_fifty_tags_are_too_many() {
        let mut tags: Vec<(String, String)> = (0..50).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(merge_tags(&mut tags.clone(), vec![tag("k0", "x")]).is_ok());
        assert!(matches!(merge_tags(&mut tags, vec![tag("new", "x")]), Err(SsmError::TooManyTagsError(_))));
    }
}
