//! Tags of users, roles, managed policies and instance profiles: at most 50 per entity, keys
//! unique whatever their case (a tag with the key of an existing one in another case replaces
//! it), the condition keys that go with them (`aws:RequestTag/*`, `aws:TagKeys`,
//! `aws:ResourceTag/*`), and the paged `List*Tags` output.

use crate::errors::IamError;
use crate::pages::{page_of, Page};
use crate::types;
use ingot_core::Access;
use ingot_identity::Tag;

pub const MAX_TAGS: usize = 50;

/// Tags as stored, from a request (not yet checked: the caller authorizes first, with them as
/// `aws:RequestTag/*`, then calls [`check_unique`]).
pub fn requested(tags: Option<Vec<types::Tag>>) -> Vec<Tag> {
    tags.unwrap_or_default().into_iter().map(|t| Tag { key: t.key, value: t.value }).collect()
}

/// Refuses tags of one request that repeat a key (in any case).
pub fn check_unique(tags: &[Tag]) -> Result<(), IamError> {
    for (i, tag) in tags.iter().enumerate() {
        if tags[..i].iter().any(|t| t.key.eq_ignore_ascii_case(&tag.key)) {
            return Err(IamError::invalid_input_exception(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
    }
    Ok(())
}

/// Adds `tags` to `existing`, replacing those whose key matches in any case; refuses more than 50
/// in all (`quota` names the entity's quota, `TagsPerUser`).
pub fn merge(existing: &mut Vec<Tag>, tags: Vec<Tag>, quota: &str) -> Result<(), IamError> {
    check_unique(&tags)?;
    for tag in tags {
        match existing.iter_mut().find(|t| t.key.eq_ignore_ascii_case(&tag.key)) {
            Some(slot) => *slot = tag,
            None => existing.push(tag),
        }
    }
    if existing.len() > MAX_TAGS {
        return Err(IamError::limit_exceeded_exception(format!("Cannot exceed quota for {quota}: {MAX_TAGS}")));
    }
    Ok(())
}

/// Removes the tags with these keys (in any case); whether any was removed.
pub fn remove(existing: &mut Vec<Tag>, keys: &[String]) -> bool {
    let before = existing.len();
    existing.retain(|t| !keys.iter().any(|k| k.eq_ignore_ascii_case(&t.key)));
    existing.len() != before
}

/// The wire form of stored tags; `None` when there are none (responses then omit `Tags`).
pub fn to_wire(tags: &[Tag]) -> Option<Vec<types::Tag>> {
    (!tags.is_empty()).then(|| to_wire_list(tags))
}

pub fn to_wire_list(tags: &[Tag]) -> Vec<types::Tag> {
    tags.iter().map(|t| types::Tag { key: t.key.clone(), value: t.value.clone() }).collect()
}

/// `aws:RequestTag/KEY` for each tag and `aws:TagKeys` for all of them.
pub fn with_request_tags<'a>(mut access: Access<'a>, tags: &[Tag]) -> Access<'a> {
    if tags.is_empty() {
        return access;
    }
    for tag in tags {
        access = access.condition(["aws:RequestTag/", &tag.key].concat(), [tag.value.clone()]);
    }
    access.condition("aws:TagKeys", tags.iter().map(|t| t.key.clone()))
}

/// `aws:ResourceTag/KEY` for each tag the entity carries.
pub fn with_resource_tags<'a>(mut access: Access<'a>, tags: &[Tag]) -> Access<'a> {
    for tag in tags {
        access = access.condition(["aws:ResourceTag/", &tag.key].concat(), [tag.value.clone()]);
    }
    access
}

/// One page of an entity's tags, in the order they were added.
pub fn page(tags: &[Tag], query: &str, marker: Option<&str>, max_items: usize) -> Result<Page<types::Tag>, IamError> {
    let items = to_wire_list(tags).into_iter().enumerate().map(|(i, t)| (format!("{i:04}"), t)).collect();
    page_of(items, query, marker, max_items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> Tag {
        Tag { key: k.into(), value: v.into() }
    }

    #[test]
    fn a_request_repeating_a_key_in_another_case_is_refused() {
        assert!(check_unique(&[tag("env", "a"), tag("team", "b")]).is_ok());
        let err = check_unique(&[tag("env", "a"), tag("ENV", "b")]).unwrap_err();
        assert_eq!(err.code(), Some("InvalidInput"));
    }

    #[test]
    fn a_tag_with_an_existing_key_in_any_case_replaces_it() {
        let mut tags = vec![Tag { key: "env".into(), value: "dev".into() }];
        merge(&mut tags, vec![tag("Env", "prod"), tag("team", "core")], "TagsPerUser").unwrap();
        assert_eq!(tags.len(), 2);
        assert_eq!((tags[0].key.as_str(), tags[0].value.as_str()), ("Env", "prod"));
    }

    #[test]
    fn more_than_fifty_tags_exceed_the_quota() {
        let mut tags: Vec<Tag> = (0..50).map(|i| Tag { key: format!("k{i}"), value: String::new() }).collect();
        assert!(merge(&mut tags.clone(), vec![tag("K0", "x")], "TagsPerRole").is_ok());
        let err = merge(&mut tags, vec![tag("new", "x")], "TagsPerRole").unwrap_err();
        assert_eq!(err.message(), Some("Cannot exceed quota for TagsPerRole: 50"));
    }

    #[test]
    fn untagging_ignores_the_case_of_keys() {
        let mut tags = vec![Tag { key: "Env".into(), value: "dev".into() }];
        assert!(!remove(&mut tags, &["team".into()]));
        assert!(remove(&mut tags, &["ENV".into()]));
        assert!(tags.is_empty());
    }

    #[test]
    fn tag_pages_keep_the_order_tags_were_added_in() {
        let tags: Vec<Tag> = (0..3).map(|i| Tag { key: format!("z{i}"), value: String::new() }).rev().collect();
        let first = page(&tags, "q", None, 2).unwrap();
        assert_eq!(first.items.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(), ["z2", "z1"]);
        let second = page(&tags, "q", first.marker.as_deref(), 2).unwrap();
        assert_eq!(second.items.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(), ["z0"]);
    }
}
