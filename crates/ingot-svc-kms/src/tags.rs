//! Tags of keys: TagResource, UntagResource, ListResourceTags; and the checks CreateKey's tags
//! pass too. At most 50 tags per key; keys are case-sensitive; the `aws:` prefix is reserved.

use crate::access::{authorize_key, KeyConditions};
use crate::errors::KmsError;
use crate::keys::{check_customer_managed, check_not_pending_deletion, find_key, save, Forms};
use crate::operations::{ListResourceTags, TagResource, UntagResource};
use crate::pages::{limit, page_error};
use crate::types;
use crate::Kms;
use ingot_core::{Handler, RequestContext};
use ingot_keys::KeyTag;

const MAX_TAGS: usize = 50;

/// Tags as stored, from the wire.
pub fn tags_from_wire(tags: Vec<types::Tag>) -> Vec<KeyTag> {
    tags.into_iter().map(|t| KeyTag { key: t.tag_key, value: t.tag_value }).collect()
}

/// Refuses reserved tag keys and repeated keys in one request.
pub fn check_new_tags(tags: &[KeyTag]) -> Result<(), KmsError> {
    for (i, tag) in tags.iter().enumerate() {
        if tag.key.to_ascii_lowercase().starts_with("aws:") {
            return Err(KmsError::tag_exception("Tags beginning with aws: are reserved"));
        }
        if tags[..i].iter().any(|t| t.key == tag.key) {
            return Err(KmsError::tag_exception("Duplicate tag keys"));
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(KmsError::tag_exception("Too many tags"));
    }
    Ok(())
}

impl Handler<TagResource> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::TagResourceRequest,
    ) -> Result<ingot_core::Empty, KmsError> {
        let tags = tags_from_wire(input.tags);
        let found = find_key(ctx, "kms:TagResource", &input.key_id, Forms::KeyOnly, false).await?;
        let conditions = KeyConditions::own_account().condition("aws:TagKeys", tags.iter().map(|t| t.key.clone()));
        let conditions = tags.iter().fold(conditions, |c, t| c.extra_request_tag(&t.key, &t.value));
        authorize_key::<TagResource>(ctx, &found, conditions).await?;
        check_customer_managed(ctx, &found.key, "kms:TagResource")?;
        check_not_pending_deletion(&found.key)?;
        check_new_tags(&tags)?;
        let mut key = found.key;
        for tag in tags {
            match key.tags.iter_mut().find(|t| t.key == tag.key) {
                Some(slot) => slot.value = tag.value,
                None => key.tags.push(tag),
            }
        }
        if key.tags.len() > MAX_TAGS {
            return Err(KmsError::tag_exception("Too many tags"));
        }
        save(ctx, &key)?;
        Ok(ingot_core::Empty {})
    }
}

impl Handler<UntagResource> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::UntagResourceRequest,
    ) -> Result<ingot_core::Empty, KmsError> {
        let found = find_key(ctx, "kms:UntagResource", &input.key_id, Forms::KeyOnly, false).await?;
        let conditions = KeyConditions::own_account().condition("aws:TagKeys", input.tag_keys.iter().cloned());
        authorize_key::<UntagResource>(ctx, &found, conditions).await?;
        check_customer_managed(ctx, &found.key, "kms:UntagResource")?;
        check_not_pending_deletion(&found.key)?;
        let mut key = found.key;
        let before = key.tags.len();
        key.tags.retain(|t| !input.tag_keys.contains(&t.key));
        if key.tags.len() != before {
            save(ctx, &key)?;
        }
        Ok(ingot_core::Empty {})
    }
}

impl Handler<ListResourceTags> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ListResourceTagsRequest,
    ) -> Result<types::ListResourceTagsResponse, KmsError> {
        let found = find_key(ctx, "kms:ListResourceTags", &input.key_id, Forms::KeyOnly, false).await?;
        authorize_key::<ListResourceTags>(ctx, &found, KeyConditions::own_account()).await?;
        let key = &found.key;
        let items = key
            .tags
            .iter()
            .map(|t| (t.key.clone(), types::Tag { tag_key: t.key.clone(), tag_value: t.value.clone() }))
            .collect();
        let query = format!("ListResourceTags;{}", key.arn);
        let page = ingot_core::page::page_of(items, &query, input.marker.as_deref(), limit(input.limit))
            .map_err(page_error)?;
        let truncated = page.is_truncated();
        Ok(types::ListResourceTagsResponse {
            tags: Some(page.items),
            next_marker: page.marker,
            truncated: Some(truncated),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str) -> KeyTag {
        KeyTag { key: k.into(), value: "v".into() }
    }

    #[test]
    fn reserved_and_repeated_tag_keys_are_refused() {
        assert!(check_new_tags(&[tag("env"), tag("Env")]).is_ok());
        assert!(matches!(check_new_tags(&[tag("aws:x")]), Err(KmsError::TagException(_))));
        assert!(matches!(check_new_tags(&[tag("a"), tag("a")]), Err(KmsError::TagException(_))));
        let many: Vec<_> = (0..51).map(|i| tag(&format!("k{i}"))).collect();
        assert!(matches!(check_new_tags(&many), Err(KmsError::TagException(_))));
    }
}
