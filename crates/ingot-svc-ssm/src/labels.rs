//! Labels: LabelParameterVersion and UnlabelParameterVersion.
//!
//! A label names one version of a parameter at a time (labelling another version moves it); a
//! version carries at most 10 labels. Labels are kept on the parameter's record, so moving one is
//! a single write.

use crate::access;
use crate::errors::SsmError;
use crate::events::Events;
use crate::names::{parameter_arn, ParameterName};
use crate::operations::{LabelParameterVersion, UnlabelParameterVersion};
use crate::parameters::{not_found, version_not_found};
use crate::store;
use crate::types::{
    LabelParameterVersionRequest, LabelParameterVersionResult, UnlabelParameterVersionRequest,
    UnlabelParameterVersionResult,
};
use crate::Ssm;
use ingot_core::{Handler, RequestContext};

/// Labels a version may carry.
pub const MAX_LABELS_PER_VERSION: usize = 10;
pub const MAX_LABEL_LENGTH: usize = 100;

/// Whether `label` may be attached: 1–100 letters, digits, `.`, `-`, `_`; not starting with a
/// digit, nor with `aws` or `ssm` in any case.
pub fn is_valid_label(label: &str) -> bool {
    let lower = label.to_ascii_lowercase();
    !label.is_empty()
        && label.len() <= MAX_LABEL_LENGTH
        && label.bytes().all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c))
        && !label.as_bytes()[0].is_ascii_digit()
        && !lower.starts_with("aws")
        && !lower.starts_with("ssm")
}

fn dedup(labels: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(labels.len());
    for label in labels {
        if !out.contains(&label) {
            out.push(label);
        }
    }
    out
}

impl Handler<LabelParameterVersion> for Ssm {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: LabelParameterVersionRequest,
    ) -> Result<LabelParameterVersionResult, SsmError> {
        let name = ParameterName::for_write(&input.name, ctx.scope)?;
        let arn = parameter_arn(ctx.scope, &name.canonical);
        access::authorize_write::<LabelParameterVersion>(ctx, &name, &arn, &[]).await?;
        let Some(mut record) = store::load(ctx, &name.canonical).await? else {
            return Err(not_found(&name.given));
        };
        let version = input.parameter_version.unwrap_or(record.version);
        if version < record.oldest_version || version > record.version {
            return Err(version_not_found(version, &name.given));
        }
        let (valid, invalid): (Vec<String>, Vec<String>) =
            dedup(input.labels).into_iter().partition(|l| is_valid_label(l));
        let already = record.labels_of(version);
        let added = valid.iter().filter(|l| !already.contains(l)).count();
        if already.len() + added > MAX_LABELS_PER_VERSION {
            return Err(SsmError::parameter_version_label_limit_exceeded(
                "A parameter version can have maximum 10 labels. Move one or more labels to another version and try \
                 again.",
            ));
        }
        if !valid.is_empty() {
            for label in &valid {
                // Attaching moves the label from whichever version had it.
                record.labels.insert(label.clone(), version);
            }
            store::save(&ctx.tx, ctx.scope, &name.canonical, &record);
            Events::of(ctx).change(&record, &arn, "LabelParameterVersion");
        }
        Ok(LabelParameterVersionResult { invalid_labels: Some(invalid), parameter_version: Some(version) })
    }
}

impl Handler<UnlabelParameterVersion> for Ssm {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: UnlabelParameterVersionRequest,
    ) -> Result<UnlabelParameterVersionResult, SsmError> {
        let name = ParameterName::for_write(&input.name, ctx.scope)?;
        let arn = parameter_arn(ctx.scope, &name.canonical);
        access::authorize_write::<UnlabelParameterVersion>(ctx, &name, &arn, &[]).await?;
        let Some(mut record) = store::load(ctx, &name.canonical).await? else {
            return Err(not_found(&name.given));
        };
        let version = input.parameter_version;
        if version < record.oldest_version || version > record.version {
            return Err(version_not_found(version, &name.given));
        }
        let mut removed = Vec::new();
        let mut invalid = Vec::new();
        for label in dedup(input.labels) {
            if record.labels.get(&label) == Some(&version) {
                record.labels.remove(&label);
                removed.push(label);
            } else {
                invalid.push(label);
            }
        }
        if !removed.is_empty() {
            store::save(&ctx.tx, ctx.scope, &name.canonical, &record);
            Events::of(ctx).change(&record, &arn, "UnlabelParameterVersion");
        }
        Ok(UnlabelParameterVersionResult { removed_labels: Some(removed), invalid_labels: Some(invalid) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_of_letters_digits_and_dot_dash_underscore_are_valid() {
        for ok in ["Prod", "release-1.2_b", "x", &"a".repeat(100)] {
            assert!(is_valid_label(ok), "{ok}");
        }
    }

    #[test]
    fn labels_with_reserved_prefixes_leading_digits_or_other_characters_are_invalid() {
        for bad in ["awsProd", "AWS", "ssm-x", "SSMx", "1st", "a b", "a/b", "", "é", &"a".repeat(101)] {
            assert!(!is_valid_label(bad), "{bad}");
        }
    }

    #[test]
    fn repeated_labels_count_once() {
        assert_eq!(dedup(vec!["a".into(), "b".into(), "a".into()]), vec!["a".to_string(), "b".to_string()]);
    }
}
