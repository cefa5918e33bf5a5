//! Parameters: `impl Handler` for the Parameter Store operations, and the rules of names,
//! values, types and tiers they share.

use crate::errors::SsmError;
use crate::operations::{GetParameter, PutParameter};
use crate::types::{
    GetParameterRequest, GetParameterResult, Parameter, ParameterTier, ParameterType, PutParameterRequest,
    PutParameterResult,
};
use crate::Ssm;
use ingot_core::{CommonError, CommonKind, Handler, RequestContext, Timestamp};
use ingot_store::Record;
use serde::{Deserialize, Serialize};

/// At most this many levels in a hierarchical name.
const MAX_HIERARCHY_LEVELS: usize = 15;
/// The name limit counts the ARN prefix too.
const MAX_NAME_WITH_ARN_PREFIX: usize = 1011;
const STANDARD_VALUE_LIMIT: usize = 4096;
const ADVANCED_VALUE_LIMIT: usize = 8192;

/// One version of a parameter. The current version is also kept under the parameter's own key,
/// so reading the latest value is a single lookup.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParameterRecord {
    /// The name exactly as created (with or without a leading slash for single-level names).
    pub name: String,
    pub parameter_type: ParameterType,
    pub value: String,
    pub version: i64,
    pub last_modified: Timestamp,
    pub last_modified_user: String,
    pub data_type: String,
    pub tier: ParameterTier,
    pub description: Option<String>,
    pub allowed_pattern: Option<String>,
    pub tags: Vec<(String, String)>,
}

impl Record for ParameterRecord {
    const KIND: &'static str = "ssm.parameter";
    const SCHEMA_VERSION: u32 = 1;
}

/// A validated parameter name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterName {
    /// As given (kept for responses).
    pub given: String,
    /// Without a leading slash: `/a` and `a` are the same parameter.
    pub canonical: String,
}

fn invalid_name() -> SsmError {
    CommonError::validation(
        "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can \
         consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and \
         the following 3 symbols .-_",
    )
    .into()
}

impl ParameterName {
    /// Checks a plain name (no ARN, no selector) for writing in `region` of `account`.
    pub fn parse(text: &str, region: &str, account: &str) -> Result<Self, SsmError> {
        let name = text.trim();
        if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || b"_.-/".contains(&c)) {
            return Err(invalid_name());
        }
        let canonical = name.strip_prefix('/').unwrap_or(name);
        let lower = canonical.to_ascii_lowercase();
        if lower.starts_with("aws") || lower.starts_with("ssm") {
            return Err(invalid_name());
        }
        if canonical.contains('/') && !name.starts_with('/') {
            return Err(CommonError::validation(
                "Parameter name must be a fully qualified name: a hierarchical name must begin with a forward slash (/).",
            )
            .into());
        }
        if canonical.is_empty() || canonical.split('/').any(str::is_empty) {
            return Err(invalid_name());
        }
        if canonical.split('/').count() > MAX_HIERARCHY_LEVELS {
            return Err(SsmError::hierarchy_level_limit_exceeded_exception(
                "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and \
                 Constraints for Parameter Names in the AWS Systems Manager User Guide.",
            ));
        }
        if arn_prefix(region, account).len() + canonical.len() > MAX_NAME_WITH_ARN_PREFIX {
            return Err(CommonError::validation(format!(
                "Parameter name: the name including the ARN prefix arn:aws:ssm:{region}:{account}:parameter/ \
                 must be {MAX_NAME_WITH_ARN_PREFIX} characters or fewer."
            ))
            .into());
        }
        Ok(ParameterName { given: name.to_string(), canonical: canonical.to_string() })
    }
}

fn arn_prefix(region: &str, account: &str) -> String {
    format!("arn:{}:ssm:{region}:{account}:parameter/", ingot_core::identity::partition_of(region))
}

/// `arn:aws:ssm:REGION:ACCOUNT:parameter/NAME`, never with a doubled slash.
pub fn parameter_arn(region: &str, account: &str, canonical: &str) -> String {
    format!("{}{canonical}", arn_prefix(region, account))
}

fn current_key(ctx: &RequestContext, canonical: &str) -> String {
    format!("{}/{}/ssm/parameters/{canonical}", ctx.account, ctx.region)
}

/// Versions sort by number within a parameter ('#' cannot occur in names).
fn version_key(ctx: &RequestContext, canonical: &str, version: i64) -> String {
    format!("{}/{}/ssm/parameter-versions/{canonical}#{version:010}", ctx.account, ctx.region)
}

/// What GetParameter's `Name` may hold: a name or an ARN, optionally followed by `:selector`.
#[derive(Debug, PartialEq, Eq)]
struct ParameterReference {
    /// The account that owns the parameter (the caller's unless an ARN says otherwise).
    account: String,
    region: String,
    name: String,
    selector: Option<Selector>,
}

#[derive(Debug, PartialEq, Eq)]
enum Selector {
    Version(i64),
    Label(String),
}

impl ParameterReference {
    fn parse(text: &str, ctx: &RequestContext) -> Result<Self, SsmError> {
        let (account, region, rest) = if text.starts_with("arn:") {
            let arn = ingot_core::Arn::parse(text).map_err(|_| invalid_name())?;
            let Some(path) = arn.resource.strip_prefix("parameter/") else {
                return Err(invalid_name());
            };
            if arn.service != "ssm" {
                return Err(invalid_name());
            }
            // The ARN drops the leading slash of hierarchical names.
            let name = if path.contains('/') { format!("/{path}") } else { path.to_string() };
            (arn.account, arn.region, name)
        } else {
            (ctx.account.to_string(), ctx.region.to_string(), text.to_string())
        };
        let (name, selector) = match rest.split_once(':') {
            None => (rest, None),
            Some((name, sel)) if !sel.is_empty() && !sel.contains(':') => {
                let selector = match sel.parse::<i64>() {
                    Ok(v) if sel.bytes().all(|c| c.is_ascii_digit()) => Selector::Version(v),
                    _ => Selector::Label(sel.to_string()),
                };
                (name.to_string(), Some(selector))
            }
            Some(_) => return Err(invalid_name()),
        };
        Ok(ParameterReference { account, region, name, selector })
    }
}

fn parameter_not_found() -> SsmError {
    // AWS sends no message with this error for GetParameter.
    SsmError::parameter_not_found("")
}

impl Handler<PutParameter> for Ssm {
    async fn handle(&self, ctx: &RequestContext, input: PutParameterRequest) -> Result<PutParameterResult, SsmError> {
        let name = ParameterName::parse(&input.name, ctx.region.as_str(), ctx.account.as_str())?;
        let arn = parameter_arn(ctx.region.as_str(), ctx.account.as_str(), &name.canonical);
        ctx.authorize("ssm:PutParameter", &arn)?;

        let overwrite = input.overwrite.unwrap_or(false);
        if overwrite && input.tags.as_ref().is_some_and(|t| !t.is_empty()) {
            return Err(CommonError::validation(
                "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please \
                 remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or \
                 RemoveTagsFromResource.",
            )
            .into());
        }
        if input.policies.is_some() {
            return Err(CommonError::new(CommonKind::NotImplemented, "Parameter policies are not yet served by Ingot.")
                .into());
        }
        let key = current_key(ctx, &name.canonical);
        let existing: Option<ParameterRecord> = ctx.tx.get_record(&key).await?;
        if existing.is_some() && !overwrite {
            return Err(SsmError::parameter_already_exists(
                "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
            ));
        }
        let parameter_type = match (input.r#type, &existing) {
            (Some(t), Some(old)) if t != old.parameter_type => {
                return Err(SsmError::hierarchy_type_mismatch_exception(
                    "The parameter type can't be changed. Delete the parameter and create it again with the new type.",
                ))
            }
            (Some(t), _) => t,
            (None, Some(old)) => old.parameter_type,
            (None, None) => {
                return Err(CommonError::validation("A parameter type is required when you create a parameter.").into())
            }
        };
        if parameter_type == ParameterType::SecureString {
            return Err(CommonError::new(
                CommonKind::NotImplemented,
                "SecureString parameters are not yet served by Ingot (they arrive with KMS).",
            )
            .into());
        }
        let data_type = match input.data_type.as_deref() {
            None | Some("") => existing.as_ref().map_or_else(|| "text".to_string(), |o| o.data_type.clone()),
            Some(d) => d.to_string(),
        };
        check_data_type(&data_type, parameter_type, &input.value)?;
        let allowed_pattern = input.allowed_pattern.clone().or_else(|| existing.as_ref().and_then(|o| o.allowed_pattern.clone()));
        if let Some(pattern) = &allowed_pattern {
            check_allowed_pattern(pattern, &input.value)?;
        }
        let tier = choose_tier(input.tier, existing.as_ref().map(|o| o.tier), &input.value)?;

        let version = existing.as_ref().map_or(1, |o| o.version + 1);
        let record = ParameterRecord {
            name: existing.as_ref().map_or_else(|| name.given.clone(), |o| o.name.clone()),
            parameter_type,
            value: input.value,
            version,
            last_modified: ctx.now,
            last_modified_user: ctx.principal.arn.clone(),
            data_type,
            tier,
            description: input.description.or_else(|| existing.as_ref().and_then(|o| o.description.clone())),
            allowed_pattern,
            tags: match &existing {
                Some(old) => old.tags.clone(),
                None => input.tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)).collect(),
            },
        };
        ctx.tx.put_record(&key, &record);
        ctx.tx.put_record(&version_key(ctx, &name.canonical, version), &record);
        emit_change(ctx, &record, &arn, if existing.is_some() { "Update" } else { "Create" });
        Ok(PutParameterResult { version: Some(version), tier: Some(tier) })
    }
}

impl Handler<GetParameter> for Ssm {
    async fn handle(&self, ctx: &RequestContext, input: GetParameterRequest) -> Result<GetParameterResult, SsmError> {
        let reference = ParameterReference::parse(&input.name, ctx)?;
        let name = ParameterName::parse(&reference.name, &reference.region, &reference.account).map_err(|e| match e {
            // Reading a reserved name is simply not finding it (public parameters arrive later).
            SsmError::Common(c) if c.kind == CommonKind::Validation => parameter_not_found(),
            other => other,
        })?;
        let arn = parameter_arn(&reference.region, &reference.account, &name.canonical);
        ctx.authorize("ssm:GetParameter", &arn)?;
        if reference.account != ctx.account.as_str() || reference.region != ctx.region.as_str() {
            return Err(parameter_not_found());
        }
        let record: ParameterRecord = match &reference.selector {
            None => ctx.tx.get_record(&current_key(ctx, &name.canonical)).await?.ok_or_else(parameter_not_found)?,
            Some(Selector::Version(v)) => {
                if ctx.tx.get(&current_key(ctx, &name.canonical)).await?.is_none() {
                    return Err(parameter_not_found());
                }
                ctx.tx.get_record(&version_key(ctx, &name.canonical, *v)).await?.ok_or_else(|| {
                    SsmError::parameter_version_not_found(format!(
                        "Systems Manager could not find version {v} of {}. Verify the version and try again.",
                        reference.name
                    ))
                })?
            }
            Some(Selector::Label(label)) => {
                if ctx.tx.get(&current_key(ctx, &name.canonical)).await?.is_none() {
                    return Err(parameter_not_found());
                }
                // No version carries labels until LabelParameterVersion is served.
                return Err(SsmError::parameter_version_not_found(format!(
                    "Systems Manager could not find label {label} of {}. Verify the label and try again.",
                    reference.name
                )));
            }
        };
        let selector = reference.selector.as_ref().map(|s| match s {
            Selector::Version(v) => format!(":{v}"),
            Selector::Label(l) => format!(":{l}"),
        });
        Ok(GetParameterResult {
            parameter: Some(Parameter {
                name: Some(record.name),
                r#type: Some(record.parameter_type),
                value: Some(record.value),
                version: Some(record.version),
                selector,
                source_result: None,
                last_modified_date: Some(record.last_modified),
                arn: Some(arn),
                data_type: Some(record.data_type),
            }),
        })
    }
}

/// The data types Ingot validates today; others are refused rather than stored unchecked.
fn check_data_type(data_type: &str, parameter_type: ParameterType, value: &str) -> Result<(), SsmError> {
    match data_type {
        "text" => Ok(()),
        "aws:ec2:image" => {
            if parameter_type != ParameterType::String {
                return Err(CommonError::validation(
                    "The aws:ec2:image data type is only supported for parameters of type String.",
                )
                .into());
            }
            if !is_ami_id(value) {
                return Err(CommonError::validation(format!(
                    "Parameter value {value} is not a valid AMI ID: the aws:ec2:image data type requires an \
                     ID of the form ami-0123456789abcdef0."
                ))
                .into());
            }
            Ok(())
        }
        other => Err(CommonError::validation(format!(
            "The following data type is not supported: {other} (Data type names are all lowercase.)"
        ))
        .into()),
    }
}

fn is_ami_id(value: &str) -> bool {
    value.strip_prefix("ami-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17) && hex.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    })
}

fn check_allowed_pattern(pattern: &str, value: &str) -> Result<(), SsmError> {
    let re = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|_| {
        SsmError::invalid_allowed_pattern_exception(format!("The allowed pattern {pattern} is not a valid regular expression."))
    })?;
    if re.is_match(value) {
        Ok(())
    } else {
        Err(SsmError::parameter_pattern_mismatch_exception(format!(
            "Parameter value, cannot be validated against allowedPattern: {pattern}"
        )))
    }
}

/// The tier a write lands in: Intelligent-Tiering picks Advanced only when needed, and a
/// parameter never moves back from Advanced to Standard.
fn choose_tier(
    requested: Option<ParameterTier>,
    current: Option<ParameterTier>,
    value: &str,
) -> Result<ParameterTier, SsmError> {
    let len = value.chars().count();
    let tier = match requested {
        Some(ParameterTier::IntelligentTiering) => {
            if len > STANDARD_VALUE_LIMIT || current == Some(ParameterTier::Advanced) {
                ParameterTier::Advanced
            } else {
                ParameterTier::Standard
            }
        }
        Some(t) => t,
        None => current.unwrap_or(ParameterTier::Standard),
    };
    if current == Some(ParameterTier::Advanced) && tier == ParameterTier::Standard {
        return Err(CommonError::validation(
            "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the \
             advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced \
             parameter and recreate it as a standard parameter.",
        )
        .into());
    }
    match tier {
        ParameterTier::Standard if len > STANDARD_VALUE_LIMIT => Err(CommonError::validation(
            "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger \
             parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see \
             https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html",
        )
        .into()),
        _ if len > ADVANCED_VALUE_LIMIT => Err(CommonError::validation(
            "Advanced tier parameters support a maximum parameter value of 8192 characters.",
        )
        .into()),
        _ => Ok(tier),
    }
}

/// Writes the `Parameter Store Change` event to the outbox, in the same commit as the change.
fn emit_change(ctx: &RequestContext, record: &ParameterRecord, arn: &str, operation: &str) {
    let mut detail = serde_json::json!({
        "operation": operation,
        "name": record.name,
        "type": record.parameter_type.as_str(),
    });
    if let Some(d) = &record.description {
        detail["description"] = serde_json::Value::from(d.as_str());
    }
    let event = serde_json::json!({
        "version": "0",
        "id": ctx.ids.uuid(),
        "detail-type": "Parameter Store Change",
        "source": "aws.ssm",
        "account": ctx.account.as_str(),
        "time": ctx.now.to_iso8601(),
        "region": ctx.region.as_str(),
        "resources": [arn],
        "detail": detail,
    });
    ctx.tx.emit(ingot_core::EVENTS_TOPIC, event.to_string().into_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: &str = "us-east-1";
    const A: &str = "123456789012";

    #[test]
    fn single_level_names_are_the_same_with_or_without_a_slash() {
        assert_eq!(ParameterName::parse("/x", R, A).unwrap().canonical, ParameterName::parse("x", R, A).unwrap().canonical);
    }

    #[test]
    fn reserved_prefixes_are_rejected_in_any_case_and_with_a_slash() {
        for bad in ["awsTest", "/aws/x", "SSM-x", "/Ssm/x"] {
            assert!(ParameterName::parse(bad, R, A).is_err(), "{bad}");
        }
    }

    #[test]
    fn malformed_paths_are_rejected() {
        for bad in ["/a//b", "a/b", "/a/", "/", "a b", "a*b", ""] {
            assert!(ParameterName::parse(bad, R, A).is_err(), "{bad}");
        }
    }

    #[test]
    fn fifteen_levels_are_allowed_and_sixteen_are_not() {
        let fifteen = (1..=15).map(|i| format!("/l{i}")).collect::<String>();
        assert!(ParameterName::parse(&fifteen, R, A).is_ok());
        let sixteen = format!("{fifteen}/l16");
        assert!(matches!(ParameterName::parse(&sixteen, R, A), Err(SsmError::HierarchyLevelLimitExceededException(_))));
    }

    #[test]
    fn the_length_limit_counts_the_arn_prefix() {
        let prefix = arn_prefix(R, A).len();
        let fits = "a".repeat(MAX_NAME_WITH_ARN_PREFIX - prefix);
        assert!(ParameterName::parse(&fits, R, A).is_ok());
        assert!(ParameterName::parse(&format!("{fits}a"), R, A).is_err());
    }

    #[test]
    fn arns_never_double_the_slash() {
        assert_eq!(parameter_arn(R, A, "a/b"), "arn:aws:ssm:us-east-1:123456789012:parameter/a/b");
    }

    #[test]
    fn ami_ids_have_eight_or_seventeen_hex_digits() {
        assert!(is_ami_id("ami-12345678"));
        assert!(is_ami_id("ami-0123456789abcdef0"));
        assert!(!is_ami_id("ami-0123456789ABCDEF0"));
        assert!(!is_ami_id("ami-123"));
        assert!(!is_ami_id("img-12345678"));
    }

    #[test]
    fn intelligent_tiering_picks_advanced_only_for_large_values() {
        let it = Some(ParameterTier::IntelligentTiering);
        assert_eq!(choose_tier(it, None, "small").unwrap(), ParameterTier::Standard);
        assert_eq!(choose_tier(it, None, &"x".repeat(5000)).unwrap(), ParameterTier::Advanced);
    }

    #[test]
    fn advanced_parameters_never_go_back_to_standard() {
        assert!(choose_tier(Some(ParameterTier::Standard), Some(ParameterTier::Advanced), "v").is_err());
        assert_eq!(choose_tier(None, Some(ParameterTier::Advanced), "v").unwrap(), ParameterTier::Advanced);
    }

    #[test]
    fn values_over_the_tier_limit_are_rejected() {
        assert!(choose_tier(Some(ParameterTier::Standard), None, &"x".repeat(4097)).is_err());
        assert!(choose_tier(Some(ParameterTier::Advanced), None, &"x".repeat(8193)).is_err());
    }

    #[test]
    fn allowed_patterns_match_the_whole_value() {
        assert!(check_allowed_pattern(r"\d+", "123").is_ok());
        assert!(check_allowed_pattern(r"\d+", "123a").is_err());
        assert!(matches!(check_allowed_pattern("(", "x"), Err(SsmError::InvalidAllowedPatternException(_))));
    }
}
