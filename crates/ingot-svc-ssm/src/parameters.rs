//! Parameters: PutParameter, GetParameter, GetParameters, DeleteParameter and DeleteParameters,
//! and the rules of values, types, tiers and versions they share.

use crate::access;
use crate::datatypes;
use crate::errors::SsmError;
use crate::events::Events;
use crate::names::{parameter_arn, validation, Owner, ParameterName, ParameterReference, Selector};
use crate::operations::{DeleteParameter, DeleteParameters, GetParameter, GetParameters, PutParameter};
use crate::policies::{self, StoredPolicy};
use crate::public::{self, PublicParameter};
use crate::secure::{self, DEFAULT_KEY_ID};
use crate::store::{self, ParameterRecord, Shown};
use crate::types::{
    DeleteParameterRequest, DeleteParameterResult, DeleteParametersRequest, DeleteParametersResult,
    GetParameterRequest, GetParameterResult, GetParametersRequest, GetParametersResult, Parameter, ParameterTier,
    ParameterType, PutParameterRequest, PutParameterResult,
};
use crate::Ssm;
use ingot_core::{Handler, Region, RequestContext};

pub const STANDARD_VALUE_LIMIT: usize = 4096;
pub const ADVANCED_VALUE_LIMIT: usize = 8192;
/// Standard parameters an account may have in a region.
pub const STANDARD_PARAMETER_LIMIT: u64 = 10_000;
/// Advanced parameters an account may have in a region.
pub const ADVANCED_PARAMETER_LIMIT: u64 = 100_000;
/// Versions kept per parameter.
pub const MAX_VERSIONS: i64 = 100;
/// Tags a parameter may carry.
pub const MAX_TAGS: usize = 50;

/// ParameterNotFound as GetParameter sends it: without a message.
fn not_found_silently() -> SsmError {
    SsmError::parameter_not_found("")
}

/// ParameterNotFound as the other operations send it.
pub fn not_found(name: &str) -> SsmError {
    SsmError::parameter_not_found(format!("Parameter {name} not found."))
}

pub fn version_not_found(version: i64, name: &str) -> SsmError {
    SsmError::parameter_version_not_found(format!(
        "Systems Manager could not find version {version} of {name}. Verify the version and try again."
    ))
}

fn label_not_found(label: &str, name: &str) -> SsmError {
    SsmError::parameter_version_not_found(format!(
        "Systems Manager could not find label {label} of {name}. Verify the label and try again."
    ))
}

fn parameter_limit_exceeded() -> SsmError {
    SsmError::parameter_limit_exceeded(
        "You have exceeded the number of parameters for this AWS account. Delete one or more parameters and try again.",
    )
}

/// What makes a write need the advanced tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TierNeeds {
    pub large_value: bool,
    pub policies: bool,
    pub data_type: bool,
    /// The account already has as many parameters as the standard tier allows.
    pub crowded: bool,
}

impl TierNeeds {
    fn any(self) -> bool {
        self.large_value || self.policies || self.data_type || self.crowded
    }
}

/// The tier a write lands in: Intelligent-Tiering picks Advanced only when needed, a missing tier
/// means the default (Standard) for a new parameter and the current tier otherwise, and a
/// parameter never moves back from Advanced to Standard.
pub fn choose_tier(
    requested: Option<ParameterTier>,
    current: Option<ParameterTier>,
    needs: TierNeeds,
    value_len: usize,
) -> Result<ParameterTier, SsmError> {
    let tier = match requested {
        Some(ParameterTier::IntelligentTiering) => {
            if needs.any() || current == Some(ParameterTier::Advanced) {
                ParameterTier::Advanced
            } else {
                ParameterTier::Standard
            }
        }
        Some(t) => t,
        None => current.unwrap_or(ParameterTier::Standard),
    };
    if current == Some(ParameterTier::Advanced) && tier == ParameterTier::Standard {
        return Err(validation(
            "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the \
             advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced \
             parameter and recreate it as a standard parameter.",
        ));
    }
    if value_len > ADVANCED_VALUE_LIMIT {
        return Err(validation("Advanced tier parameters support a maximum parameter value of 8192 characters."));
    }
    if tier == ParameterTier::Standard {
        if value_len > STANDARD_VALUE_LIMIT {
            return Err(validation(
                "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger \
                 parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see \
                 https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html",
            ));
        }
        if needs.policies {
            return Err(validation(
                "Parameter policies are supported only for parameters in the advanced-parameter tier. Upgrade the \
                 parameter to use the advanced-parameter tier, and try again.",
            ));
        }
        if needs.data_type {
            return Err(validation(
                "The url, json and jsonc data types are supported only for parameters in the advanced-parameter \
                 tier. Upgrade the parameter to use the advanced-parameter tier, and try again.",
            ));
        }
    }
    Ok(tier)
}

/// Longest value AWS accepts at all (its own model's limit on `Value`; the tiers allow less).
pub const MAX_VALUE_LENGTH: usize = 32_768;

/// A value's length as AWS's request validation checks it (it runs before the tier rules), and
/// values can't reference other parameters.
fn check_value(value: &str) -> Result<(), SsmError> {
    if value.is_empty() {
        return Err(validation(
            "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length \
             greater than or equal to 1",
        ));
    }
    if value.len() > MAX_VALUE_LENGTH && value.chars().count() > MAX_VALUE_LENGTH {
        return Err(validation(format!(
            "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length \
             less than or equal to {MAX_VALUE_LENGTH}"
        )));
    }
    if let Some(open) = value.find("{{") {
        if value[open + 2..].contains("}}") {
            return Err(validation("Parameter value can't nest another parameter. Do not use \"{{}}\" in the value."));
        }
    }
    Ok(())
}

pub fn check_allowed_pattern(pattern: &str, value: &str) -> Result<(), SsmError> {
    let re = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|_| {
        SsmError::invalid_allowed_pattern_exception(format!(
            "The allowed pattern {pattern} is not a valid regular expression."
        ))
    })?;
    if re.is_match(value) {
        Ok(())
    } else {
        Err(SsmError::parameter_pattern_mismatch_exception(format!(
            "Parameter value, cannot be validated against allowedPattern: {pattern}"
        )))
    }
}

fn check_tags(tags: &[crate::types::Tag]) -> Result<(), SsmError> {
    if tags.len() > MAX_TAGS {
        return Err(validation(format!("A parameter can have at most {MAX_TAGS} tags.")));
    }
    for (i, tag) in tags.iter().enumerate() {
        if tags[..i].iter().any(|t| t.key == tag.key) {
            return Err(validation(format!("Duplicate tag key: {}. Tag keys must be unique.", tag.key)));
        }
    }
    Ok(())
}

impl Handler<PutParameter> for Ssm {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: PutParameterRequest,
    ) -> Result<PutParameterResult, SsmError> {
        let name = ParameterName::for_write(&input.name, ctx.scope)?;
        let arn = parameter_arn(ctx.scope, &name.canonical);
        access::authorize_write::<PutParameter>(ctx, &name, &arn, input.tags.as_deref().unwrap_or_default()).await?;

        let overwrite = input.overwrite.unwrap_or(false);
        let tags = input.tags.clone().unwrap_or_default();
        if overwrite && !tags.is_empty() {
            return Err(validation(
                "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please \
                 remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or \
                 RemoveTagsFromResource.",
            ));
        }
        check_value(&input.value)?;
        check_tags(&tags)?;

        let existing = store::load(ctx, &name.canonical).await?;
        if existing.is_some() && !overwrite {
            return Err(SsmError::parameter_already_exists(
                "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
            ));
        }
        let parameter_type = match (input.r#type, &existing) {
            (Some(t), Some(old)) if t != old.parameter_type => {
                return Err(SsmError::hierarchy_type_mismatch_exception(
                    "Parameter Store doesn't support changing a parameter type in a hierarchy. For example, you can't \
                     change a parameter from a String type to a SecureString type. You must create a new, unique \
                     parameter.",
                ))
            }
            (Some(t), _) => t,
            (None, Some(old)) => old.parameter_type,
            (None, None) => return Err(validation("A parameter type is required when you create a parameter.")),
        };
        let data_type = match input.data_type.as_deref() {
            None | Some("") => existing.as_ref().map_or_else(|| datatypes::TEXT.to_string(), |o| o.data_type.clone()),
            Some(d) => d.to_string(),
        };
        datatypes::check(
            &data_type,
            existing.as_ref().map(|o| o.data_type.as_str()),
            parameter_type,
            &name.canonical,
            &input.value,
        )?;
        let allowed_pattern = match input.allowed_pattern.as_deref() {
            Some("") => None,
            Some(p) => Some(p.to_string()),
            None => existing.as_ref().and_then(|o| o.allowed_pattern.clone()),
        };
        if let Some(pattern) = &allowed_pattern {
            check_allowed_pattern(pattern, &input.value)?;
        }
        let new_policies = match &input.policies {
            Some(text) => Some(policies::parse(text, ctx.now, ctx.ids())?),
            None => None,
        };
        let has_policies = match &new_policies {
            Some(p) => !p.is_empty(),
            None => existing.as_ref().is_some_and(|o| !o.policies.is_empty()),
        };

        // The tier, and the per-account/region limits.
        let value_len = input.value.chars().count();
        let current_tier = existing.as_ref().map(|o| o.tier);
        let mut needs = TierNeeds {
            large_value: value_len > STANDARD_VALUE_LIMIT,
            policies: has_policies,
            data_type: datatypes::needs_advanced(&data_type),
            crowded: false,
        };
        let needs_counts = existing.is_none() || input.tier.is_some_and(|t| Some(t) != current_tier);
        let mut counts = if needs_counts {
            let counts = store::load_counts(&ctx.tx, ctx.scope, &name.canonical).await?;
            needs.crowded = existing.is_none()
                && (counts.total.standard >= STANDARD_PARAMETER_LIMIT
                    || counts.total.standard + counts.total.advanced >= STANDARD_PARAMETER_LIMIT);
            Some(counts)
        } else {
            None
        };
        let tier = choose_tier(input.tier, current_tier, needs, value_len)?;
        if let Some(counts) = counts.as_mut() {
            if current_tier != Some(tier) {
                let full = match tier {
                    ParameterTier::Advanced => counts.total.advanced >= ADVANCED_PARAMETER_LIMIT,
                    _ => counts.total.standard >= STANDARD_PARAMETER_LIMIT,
                };
                if full {
                    return Err(parameter_limit_exceeded());
                }
                if let Some(old) = current_tier {
                    counts.add(old, -1);
                }
                counts.add(tier, 1);
                counts.write(&ctx.tx);
            }
        }

        // Versions: at most 100 are kept; the oldest goes unless it carries a label.
        let version = existing.as_ref().map_or(1, |o| o.version + 1);
        let mut oldest_version = existing.as_ref().map_or(1, |o| o.oldest_version.max(1));
        if version - oldest_version + 1 > MAX_VERSIONS {
            if existing.as_ref().is_some_and(|o| o.labels.values().any(|v| *v == oldest_version)) {
                return Err(SsmError::parameter_max_version_limit_exceeded(format!(
                    "You attempted to create a new version of {} by calling the PutParameter API with the overwrite \
                     flag. Version {oldest_version}, the oldest version, can't be deleted because it has a label \
                     associated with it. Move the label to another version of the parameter, and try again.",
                    input.name.trim_matches(' ')
                )));
            }
            ctx.tx.delete(&store::version_key(ctx.scope, &name.canonical, oldest_version));
            oldest_version += 1;
        }

        // SecureString values are stored encrypted only.
        let key_id = if parameter_type == ParameterType::SecureString {
            Some(match input.key_id.as_deref() {
                Some(k) => k.to_string(),
                None => existing.as_ref().and_then(|o| o.key_id.clone()).unwrap_or_else(|| DEFAULT_KEY_ID.to_string()),
            })
        } else {
            None
        };
        let value = match &key_id {
            Some(key_id) => secure::encrypt(ctx, key_id, &arn, &input.value).await?,
            None => input.value,
        };

        let old_policies: Vec<StoredPolicy> = existing.as_ref().map(|o| o.policies.clone()).unwrap_or_default();
        let mut record = ParameterRecord {
            name: existing.as_ref().map_or_else(|| name.given.clone(), |o| o.name.clone()),
            parameter_type,
            value,
            version,
            last_modified: ctx.now,
            last_modified_user: ctx.principal.arn.clone(),
            data_type,
            tier,
            description: input.description.or_else(|| existing.as_ref().and_then(|o| o.description.clone())),
            allowed_pattern,
            key_id,
            policies: policies::carry_over(&ctx.tx, old_policies, new_policies),
            tags: match &existing {
                Some(old) => old.tags.clone(),
                None => tags.into_iter().map(|t| (t.key, t.value)).collect(),
            },
            labels: existing.as_ref().map(|o| o.labels.clone()).unwrap_or_default(),
            oldest_version,
        };
        policies::arm(ctx, &name.canonical, &mut record);

        store::save(&ctx.tx, ctx.scope, &name.canonical, &record);
        if existing.is_none() {
            store::index_child(&ctx.tx, ctx.scope, &name.canonical);
        }
        ctx.tx.put_record(&store::version_key(ctx.scope, &name.canonical, version), &record.as_version());
        let operation = if existing.is_some() { "Update" } else { "Create" };
        if record.data_type == datatypes::EC2_IMAGE {
            // Announced, or taken back, once the image is checked.
            crate::image_check::schedule(ctx, &name.canonical, version, &record.value, operation);
        } else {
            Events::of(ctx).change(&record, &arn, operation);
        }
        Ok(PutParameterResult { version: Some(version), tier: Some(tier) })
    }
}

/// A parameter version found for a read.
pub struct Found {
    pub parameter: Parameter,
}

/// Why a reference found nothing.
pub enum Miss {
    NotFound,
    Version(SsmError),
}

/// Reads what a reference names (the caller has been authorized for it); `current` is the
/// parameter's current record as the authorization loaded it ([`access::authorize_read`]), and
/// `arn` the reference's ARN ([`ParameterReference::arn`]), which the answer carries.
pub async fn read_reference(
    ctx: &RequestContext<'_>,
    reference: &ParameterReference<'_>,
    current: Option<std::sync::Arc<ParameterRecord>>,
    arn: String,
    with_decryption: bool,
) -> Result<Result<Found, Miss>, SsmError> {
    let requested = reference.name.given.as_str();
    if let Owner::Public(region) = &reference.owner {
        let Some(p) = public::find(region.as_str(), &reference.name.canonical) else {
            return Ok(Err(Miss::NotFound));
        };
        if **region != *ctx.region() {
            return Ok(Err(Miss::NotFound));
        }
        return Ok(match &reference.selector {
            Some(Selector::Version(v)) if *v != p.version => Err(Miss::Version(version_not_found(*v, requested))),
            Some(Selector::Label(l)) => Err(Miss::Version(label_not_found(l, requested))),
            _ => Ok(Found { parameter: public_parameter(&p, region, reference.selector.as_ref()) }),
        });
    }
    let Owner::Account(owner) = &reference.owner else { return Ok(Err(Miss::NotFound)) };
    let canonical = &reference.name.canonical;
    let Some(current) = current else {
        return Ok(Err(Miss::NotFound));
    };
    let wanted = match &reference.selector {
        None => current.version,
        Some(Selector::Version(v)) => *v,
        Some(Selector::Label(l)) => match current.labels.get(l) {
            Some(v) => *v,
            None => return Ok(Err(Miss::Version(label_not_found(l, requested)))),
        },
    };
    let older;
    let shown = if wanted == current.version {
        current.shown()
    } else if wanted < current.oldest_version || wanted > current.version {
        return Ok(Err(Miss::Version(version_not_found(wanted, requested))));
    } else {
        older = match store::load_version(&ctx.tx, owner, canonical, wanted).await? {
            Some(v) => v,
            None => return Ok(Err(Miss::Version(version_not_found(wanted, requested)))),
        };
        older.shown()
    };
    let mut parameter = to_parameter(ctx, shown, arn, reference.selector.as_ref(), with_decryption).await?;
    if let Some(asked) = reference.response_name() {
        parameter.name = Some(asked.to_string());
    }
    Ok(Ok(Found { parameter }))
}

/// The `Parameter` shape of a stored version; `arn` is the parameter's ARN.
pub async fn to_parameter(
    ctx: &RequestContext<'_>,
    version: Shown<'_>,
    arn: String,
    selector: Option<&Selector>,
    with_decryption: bool,
) -> Result<Parameter, SsmError> {
    let value = secure::readable_value(ctx, &arn, version.parameter_type, version.value, with_decryption).await?;
    Ok(Parameter {
        name: Some(version.name.to_string()),
        r#type: Some(version.parameter_type),
        value: Some(value),
        version: Some(version.version),
        selector: selector.map(Selector::to_response),
        source_result: None,
        last_modified_date: Some(version.last_modified),
        arn: Some(arn),
        data_type: Some(version.data_type.to_string()),
    })
}

pub fn public_parameter(p: &PublicParameter, region: &Region, selector: Option<&Selector>) -> Parameter {
    Parameter {
        name: Some(p.name()),
        r#type: Some(PublicParameter::TYPE),
        value: Some(p.value.clone()),
        version: Some(p.version),
        selector: selector.map(Selector::to_response),
        source_result: None,
        last_modified_date: Some(p.last_modified),
        arn: Some(p.arn(region)),
        data_type: Some(p.data_type.to_string()),
    }
}

impl Handler<GetParameter> for Ssm {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: GetParameterRequest,
    ) -> Result<GetParameterResult, SsmError> {
        let reference = ParameterReference::parse(&input.name, ctx.scope, true)?;
        let arn = reference.arn();
        let current = access::authorize_read::<GetParameter>(ctx, &reference, &arn).await?;
        match read_reference(ctx, &reference, current, arn, input.with_decryption.unwrap_or(false)).await? {
            Ok(found) => Ok(GetParameterResult { parameter: Some(found.parameter) }),
            Err(Miss::NotFound) => Err(not_found_silently()),
            Err(Miss::Version(e)) => Err(e),
        }
    }
}

impl Handler<GetParameters> for Ssm {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: GetParametersRequest,
    ) -> Result<GetParametersResult, SsmError> {
        let with_decryption = input.with_decryption.unwrap_or(false);
        let mut names: Vec<String> = Vec::new();
        for name in input.names {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let mut references = Vec::with_capacity(names.len());
        for name in &names {
            let reference = ParameterReference::parse(name, ctx.scope, true)?;
            let arn = reference.arn();
            let current = access::authorize_read::<GetParameters>(ctx, &reference, &arn).await?;
            references.push((reference, current, arn));
        }
        let mut parameters = Vec::new();
        let mut invalid = Vec::new();
        for (name, (reference, current, arn)) in names.into_iter().zip(references) {
            match read_reference(ctx, &reference, current, arn, with_decryption).await? {
                Ok(found) => parameters.push(found.parameter),
                Err(_) => invalid.push(name),
            }
        }
        parameters.sort_by(|a, b| a.name.cmp(&b.name).then(a.selector.cmp(&b.selector)));
        Ok(GetParametersResult { parameters: Some(parameters), invalid_parameters: Some(invalid) })
    }
}

/// Deletes a parameter of the caller's account and region, in the request's unit of work.
pub async fn delete(ctx: &RequestContext<'_>, canonical: &str, record: &ParameterRecord) -> Result<(), SsmError> {
    let mut timers = record.policies.clone();
    policies::disarm(&ctx.tx, &mut timers);
    store::remove(&ctx.tx, ctx.scope, canonical, record).await?;
    Events::of(ctx).change(record, &parameter_arn(ctx.scope, canonical), "Delete");
    Ok(())
}

impl Handler<DeleteParameter> for Ssm {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: DeleteParameterRequest,
    ) -> Result<DeleteParameterResult, SsmError> {
        let name = ParameterName::for_write(&input.name, ctx.scope)?;
        let arn = parameter_arn(ctx.scope, &name.canonical);
        access::authorize_write::<DeleteParameter>(ctx, &name, &arn, &[]).await?;
        let Some(record) = store::load(ctx, &name.canonical).await? else {
            return Err(not_found(&name.given));
        };
        delete(ctx, &name.canonical, &record).await?;
        Ok(DeleteParameterResult {})
    }
}

impl Handler<DeleteParameters> for Ssm {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: DeleteParametersRequest,
    ) -> Result<DeleteParametersResult, SsmError> {
        let mut deleted = Vec::new();
        let mut invalid = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for given in input.names {
            let Ok(name) = ParameterName::for_write(&given, ctx.scope) else {
                invalid.push(given);
                continue;
            };
            let arn = parameter_arn(ctx.scope, &name.canonical);
            access::authorize_write::<DeleteParameters>(ctx, &name, &arn, &[]).await?;
            if seen.contains(&name.canonical) {
                // Named twice: the first mention deleted it.
                invalid.push(given);
                continue;
            }
            seen.push(name.canonical.clone());
            match store::load(ctx, &name.canonical).await? {
                Some(record) => {
                    delete(ctx, &name.canonical, &record).await?;
                    deleted.push(given);
                }
                None => invalid.push(given),
            }
        }
        Ok(DeleteParametersResult { deleted_parameters: Some(deleted), invalid_parameters: Some(invalid) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs() -> TierNeeds {
        TierNeeds::default()
    }

    #[test]
    fn intelligent_tiering_picks_advanced_only_when_needed() {
        let it = Some(ParameterTier::IntelligentTiering);
        assert_eq!(choose_tier(it, None, needs(), 5).unwrap(), ParameterTier::Standard);
        let large = TierNeeds { large_value: true, ..needs() };
        assert_eq!(choose_tier(it, None, large, 5000).unwrap(), ParameterTier::Advanced);
        let policies = TierNeeds { policies: true, ..needs() };
        assert_eq!(choose_tier(it, None, policies, 5).unwrap(), ParameterTier::Advanced);
        let json = TierNeeds { data_type: true, ..needs() };
        assert_eq!(choose_tier(it, None, json, 5).unwrap(), ParameterTier::Advanced);
        let crowded = TierNeeds { crowded: true, ..needs() };
        assert_eq!(choose_tier(it, None, crowded, 5).unwrap(), ParameterTier::Advanced);
    }

    #[test]
    fn a_missing_tier_keeps_the_current_one_or_is_standard() {
        assert_eq!(choose_tier(None, None, needs(), 5).unwrap(), ParameterTier::Standard);
        assert_eq!(choose_tier(None, Some(ParameterTier::Advanced), needs(), 5).unwrap(), ParameterTier::Advanced);
    }

    #[test]
    fn advanced_parameters_never_go_back_to_standard() {
        let err = choose_tier(Some(ParameterTier::Standard), Some(ParameterTier::Advanced), needs(), 1).unwrap_err();
        assert!(err.message().unwrap().contains("can't downgrade"));
        let it = Some(ParameterTier::IntelligentTiering);
        assert_eq!(choose_tier(it, Some(ParameterTier::Advanced), needs(), 1).unwrap(), ParameterTier::Advanced);
    }

    #[test]
    fn values_over_the_tier_limit_are_rejected() {
        let large = TierNeeds { large_value: true, ..needs() };
        assert!(choose_tier(Some(ParameterTier::Standard), None, large, 4097).is_err());
        assert!(choose_tier(Some(ParameterTier::Advanced), None, large, 8193).is_err());
        assert!(choose_tier(Some(ParameterTier::Advanced), None, large, 8192).is_ok());
    }

    #[test]
    fn policies_and_advanced_data_types_are_refused_in_the_standard_tier() {
        let policies = TierNeeds { policies: true, ..needs() };
        assert!(choose_tier(Some(ParameterTier::Standard), None, policies, 1).is_err());
        let json = TierNeeds { data_type: true, ..needs() };
        assert!(choose_tier(None, None, json, 1).is_err());
    }

    #[test]
    fn allowed_patterns_match_the_whole_value() {
        assert!(check_allowed_pattern(r"\d+", "123").is_ok());
        assert!(check_allowed_pattern(r"\d+", "123a").is_err());
        assert!(check_allowed_pattern(r"^\d+$", "123").is_ok());
        assert!(matches!(check_allowed_pattern("(", "x"), Err(SsmError::InvalidAllowedPatternException(_))));
    }

    #[test]
    fn values_may_not_reference_other_parameters() {
        assert!(check_value("plain {braces}").is_ok());
        assert!(check_value("{{ssm:/other}}").is_err());
        assert!(check_value("a {{ b }} c").is_err());
        assert!(check_value("").is_err());
    }

    #[test]
    fn value_lengths_are_checked_in_aws_words_before_any_tier_rule() {
        let message = |v: &str| check_value(v).unwrap_err().message().unwrap_or_default().to_string();
        assert_eq!(
            message(""),
            "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length \
             greater than or equal to 1"
        );
        assert_eq!(
            message(&"x".repeat(MAX_VALUE_LENGTH + 1)),
            "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length \
             less than or equal to 32768"
        );
        assert!(check_value(&"x".repeat(MAX_VALUE_LENGTH)).is_ok());
        // Characters count, not bytes.
        assert!(check_value(&"\u{e9}".repeat(MAX_VALUE_LENGTH)).is_ok());
    }

    #[test]
    fn duplicate_tag_keys_and_too_many_tags_are_rejected() {
        let tag = |k: &str| crate::types::Tag { key: k.into(), value: "v".into() };
        assert!(check_tags(&[tag("a"), tag("b")]).is_ok());
        assert!(check_tags(&[tag("a"), tag("a")]).is_err());
        let many: Vec<_> = (0..51).map(|i| tag(&format!("k{i}"))).collect();
        assert!(check_tags(&many).is_err());
    }
}
