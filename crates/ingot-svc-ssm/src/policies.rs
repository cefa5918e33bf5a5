//! Parameter policies: parsing and validation of the `Policies` JSON, how policies are kept on a
//! parameter, and the durable timers that apply them (`ssm.parameter-policy` jobs).
//!
//! - `Expiration` deletes the parameter at its timestamp (updating the parameter does not move it).
//! - `ExpirationNotification` sends a `Parameter Store Policy Action` event a number of days or
//!   hours before the expiration.
//! - `NoChangeNotification` sends one when the parameter has not changed for a number of days or
//!   hours; every change of the parameter starts the period again.

use crate::errors::SsmError;
use crate::events::Events;
use crate::names::parameter_arn;
use crate::store::{self, ParameterRecord};
use crate::types::ParameterInlinePolicy;
use async_trait::async_trait;
use ingot_core::{IdGen, RequestContext, Timestamp};
use ingot_jobs::{JobContext, JobError, JobHandler, JobOutcome, JobRecord, JobRef};
use ingot_store::Tx;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

/// The job kind of policy timers.
pub const JOB_KIND: &str = "ssm.parameter-policy";
/// At most this many policies on a parameter.
pub const MAX_POLICIES: usize = 10;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// What a policy does, with its attributes resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum PolicyRule {
    Expiration { at: Timestamp },
    ExpirationNotification { before_ms: i64 },
    NoChangeNotification { after_ms: i64 },
}

impl PolicyRule {
    pub fn type_name(&self) -> &'static str {
        match self {
            PolicyRule::Expiration { .. } => "Expiration",
            PolicyRule::ExpirationNotification { .. } => "ExpirationNotification",
            PolicyRule::NoChangeNotification { .. } => "NoChangeNotification",
        }
    }
}

/// `Pending` until applied, then `Finished`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyStatus {
    Pending,
    InProgress,
    Finished,
    Failed,
}

impl PolicyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyStatus::Pending => "Pending",
            PolicyStatus::InProgress => "InProgress",
            PolicyStatus::Finished => "Finished",
            PolicyStatus::Failed => "Failed",
        }
    }
}

/// A policy as kept on a parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPolicy {
    /// Identifies the policy to its timer: a timer whose policy was replaced finds nothing to do.
    pub id: String,
    /// The policy's JSON as the caller wrote it.
    pub text: String,
    pub rule: PolicyRule,
    pub status: PolicyStatus,
    /// The pending timer, if any.
    #[serde(default)]
    pub job: Option<JobRef>,
}

impl StoredPolicy {
    pub fn to_inline(&self) -> ParameterInlinePolicy {
        ParameterInlinePolicy {
            policy_text: Some(self.text.clone()),
            policy_type: Some(self.rule.type_name().to_string()),
            policy_status: Some(self.status.as_str().to_string()),
        }
    }
}

pub fn inline_policies(policies: &[StoredPolicy]) -> Vec<ParameterInlinePolicy> {
    policies.iter().map(StoredPolicy::to_inline).collect()
}

fn invalid_attribute(message: impl Into<String>) -> SsmError {
    SsmError::invalid_policy_attribute_exception(message)
}

fn invalid_type() -> SsmError {
    SsmError::invalid_policy_type_exception(
        "The policy type isn't supported. Parameter Store supports the following policy types: Expiration, \
         ExpirationNotification, and NoChangeNotification.",
    )
}

fn incompatible() -> SsmError {
    SsmError::incompatible_policy_exception(
        "There is a conflict in the policies specified for this parameter. You can't, for example, specify two \
         Expiration policies for a parameter. Review your policies, and try again.",
    )
}

/// Parses the `Policies` of PutParameter. An empty list (`[]`, or AWS's `[{}]`) removes every
/// policy. Fresh policies are `Pending` and have no timer yet.
pub fn parse(text: &str, now: Timestamp, ids: &IdGen) -> Result<Vec<StoredPolicy>, SsmError> {
    let elements: Vec<Box<RawValue>> = serde_json::from_str(text).map_err(|_| {
        invalid_attribute("The policies are not valid: Policies must be a JSON array of policy objects.")
    })?;
    let is_empty_object =
        |raw: &RawValue| matches!(serde_json::from_str::<Value>(raw.get()), Ok(Value::Object(m)) if m.is_empty());
    if elements.len() == 1 && is_empty_object(&elements[0]) {
        return Ok(Vec::new());
    }
    if elements.len() > MAX_POLICIES {
        return Err(SsmError::policies_limit_exceeded_exception(
            "You specified more than the maximum number of allowed policies for the parameter. The maximum is 10.",
        ));
    }
    let mut policies = Vec::with_capacity(elements.len());
    for raw in &elements {
        let value: Value =
            serde_json::from_str(raw.get()).map_err(|_| invalid_attribute("A policy is not valid JSON."))?;
        let rule = parse_rule(&value, now)?;
        policies.push(StoredPolicy {
            id: ids.uuid(),
            text: raw.get().trim().to_string(),
            rule,
            status: PolicyStatus::Pending,
            job: None,
        });
    }
    let expirations = policies.iter().filter(|p| matches!(p.rule, PolicyRule::Expiration { .. })).count();
    let notifications = policies.iter().filter(|p| matches!(p.rule, PolicyRule::ExpirationNotification { .. })).count();
    if expirations > 1 || (notifications > 0 && expirations == 0) {
        return Err(incompatible());
    }
    Ok(policies)
}

fn parse_rule(value: &Value, now: Timestamp) -> Result<PolicyRule, SsmError> {
    let Some(object) = value.as_object() else { return Err(invalid_type()) };
    let Some(kind) = object.get("Type").and_then(Value::as_str) else { return Err(invalid_type()) };
    if !matches!(kind, "Expiration" | "ExpirationNotification" | "NoChangeNotification") {
        return Err(invalid_type());
    }
    for key in object.keys() {
        if !matches!(key.as_str(), "Type" | "Version" | "Attributes") {
            return Err(invalid_attribute(format!("The policy contains an unknown field: {key}.")));
        }
    }
    match object.get("Version") {
        Some(Value::String(v)) if v == "1.0" => {}
        _ => return Err(invalid_attribute(format!("The {kind} policy must have Version 1.0."))),
    }
    let Some(attributes) = object.get("Attributes").and_then(Value::as_object) else {
        return Err(invalid_attribute(format!("The {kind} policy must have Attributes.")));
    };
    let allowed: &[&str] = match kind {
        "Expiration" => &["Timestamp"],
        "ExpirationNotification" => &["Before", "Unit"],
        _ => &["After", "Unit"],
    };
    for key in attributes.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(invalid_attribute(format!("The attribute {key} isn't valid for the {kind} policy.")));
        }
    }
    match kind {
        "Expiration" => {
            let text = attributes
                .get("Timestamp")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid_attribute("The Expiration policy needs a Timestamp attribute."))?;
            let at = parse_timestamp(text).ok_or_else(|| {
                invalid_attribute(format!(
                    "The Timestamp {text} isn't valid. Use the ISO_INSTANT format (2018-12-02T21:34:33.000Z) or the \
                     ISO_OFFSET_DATE_TIME format (2019-11-01T22:13:48.87+10:30:00)."
                ))
            })?;
            if at <= now {
                return Err(invalid_attribute(format!("The Expiration Timestamp {text} must be in the future.")));
            }
            Ok(PolicyRule::Expiration { at })
        }
        "ExpirationNotification" => {
            Ok(PolicyRule::ExpirationNotification { before_ms: duration(kind, "Before", attributes)? })
        }
        _ => Ok(PolicyRule::NoChangeNotification { after_ms: duration(kind, "After", attributes)? }),
    }
}

/// `{"Before": "15", "Unit": "Days"}` as milliseconds.
fn duration(kind: &str, field: &str, attributes: &serde_json::Map<String, Value>) -> Result<i64, SsmError> {
    let amount = match attributes.get(field) {
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) => s.parse::<i64>().ok(),
        Some(Value::Number(n)) => n.as_i64(),
        _ => None,
    }
    .filter(|n| *n >= 1 && *n <= 100_000)
    .ok_or_else(|| {
        invalid_attribute(format!("The {field} attribute of the {kind} policy must be a positive whole number."))
    })?;
    let unit = match attributes.get("Unit").and_then(Value::as_str) {
        Some("Days") => DAY_MS,
        Some("Hours") => HOUR_MS,
        _ => return Err(invalid_attribute(format!("The Unit attribute of the {kind} policy must be Days or Hours."))),
    };
    Ok(amount * unit)
}

/// ISO 8601 instants, also with an offset that has seconds (`+10:30:00`), as AWS's examples show.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    if !text.contains('T') {
        return None;
    }
    let bytes = text.as_bytes();
    let n = bytes.len();
    // `…±HH:MM:SS`: parse with `±HH:MM`, then apply the seconds.
    if n > 9 && matches!(bytes[n - 9], b'+' | b'-') && bytes[n - 6] == b':' && bytes[n - 3] == b':' {
        let seconds: i64 = text[n - 2..].parse().ok()?;
        let sign = if bytes[n - 9] == b'+' { 1 } else { -1 };
        let base = Timestamp::parse_iso8601(&text[..n - 3])?;
        return Some(Timestamp(base.0 - sign * seconds * 1000));
    }
    Timestamp::parse_iso8601(text)
}

/// When a policy's timer is due, given the parameter it is on.
fn due_of(policy: &StoredPolicy, record: &ParameterRecord) -> Option<Timestamp> {
    match &policy.rule {
        PolicyRule::Expiration { at } => Some(*at),
        PolicyRule::ExpirationNotification { before_ms } => record.policies.iter().find_map(|p| match p.rule {
            PolicyRule::Expiration { at } => Some(Timestamp(at.0 - before_ms)),
            _ => None,
        }),
        PolicyRule::NoChangeNotification { after_ms } => Some(Timestamp(record.last_modified.0 + after_ms)),
    }
}

/// What a policy timer knows (the job itself knows the account and region).
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    /// The canonical name.
    name: String,
    policy: String,
}

/// Starts the timer of every pending policy that has none, in the call's unit of work.
pub fn arm(ctx: &RequestContext<'_>, canonical: &str, record: &mut ParameterRecord) {
    let snapshot = record.clone();
    for policy in record.policies.iter_mut() {
        if policy.status != PolicyStatus::Pending || policy.job.is_some() {
            continue;
        }
        let Some(due) = due_of(policy, &snapshot) else { continue };
        let payload = Payload { name: canonical.to_string(), policy: policy.id.clone() };
        let payload = serde_json::to_value(payload).unwrap_or(Value::Null);
        policy.job = Some(ingot_jobs::schedule(&ctx.tx, ctx.ids(), ctx.scope, JOB_KIND, due, payload));
    }
}

/// Cancels the timers of `policies`, in `tx`.
pub fn disarm(tx: &Tx, policies: &mut [StoredPolicy]) {
    for policy in policies {
        if let Some(job) = policy.job.take() {
            ingot_jobs::cancel(tx, &job);
        }
    }
}

/// The policies a write leaves on a parameter: the new ones when the request has `Policies`
/// (the old ones' timers cancelled), otherwise the old ones, with `NoChangeNotification` started
/// again because the parameter changed.
pub fn carry_over(tx: &Tx, mut old: Vec<StoredPolicy>, new: Option<Vec<StoredPolicy>>) -> Vec<StoredPolicy> {
    match new {
        Some(new) => {
            disarm(tx, &mut old);
            new
        }
        None => {
            for policy in old.iter_mut() {
                if matches!(policy.rule, PolicyRule::NoChangeNotification { .. }) {
                    if let Some(job) = policy.job.take() {
                        ingot_jobs::cancel(tx, &job);
                    }
                    policy.status = PolicyStatus::Pending;
                }
            }
            old
        }
    }
}

/// Applies parameter policies when their timers are due.
pub struct PolicyJobs;

#[async_trait]
impl JobHandler for PolicyJobs {
    fn kind(&self) -> &'static str {
        JOB_KIND
    }

    fn service(&self) -> &'static str {
        "ssm"
    }

    async fn run(&self, job: &JobRecord, ctx: &JobContext<'_>) -> Result<JobOutcome, JobError> {
        let payload: Payload =
            serde_json::from_value(job.payload.clone()).map_err(|e| JobError::new(format!("bad payload: {e}")))?;
        let key = store::current_key(ctx.scope, &payload.name);
        let Some(mut record) = ctx.tx.get_record::<ParameterRecord>(&key).await? else {
            return Ok(JobOutcome::Done);
        };
        let Some(index) = record.policies.iter().position(|p| p.id == payload.policy) else {
            return Ok(JobOutcome::Done);
        };
        // A timer the parameter no longer points at (replaced or restarted) has nothing to do.
        if record.policies[index].job.as_ref().map(|j| j.id.as_str()) != Some(job.id.as_str()) {
            return Ok(JobOutcome::Done);
        }
        let arn = parameter_arn(ctx.scope, &payload.name);
        let events = Events::of(ctx);
        let rule = record.policies[index].rule.clone();
        match rule {
            PolicyRule::Expiration { .. } => {
                record.policies[index].job = None;
                record.policies[index].status = PolicyStatus::Finished;
                let mut others = record.policies.clone();
                disarm(&ctx.tx, &mut others);
                store::remove(&ctx.tx, ctx.scope, &payload.name, &record)
                    .await
                    .map_err(|e| JobError::new(format!("{e:?}")))?;
                ctx.record("DeleteParameter", serde_json::json!({ "Name": record.name }));
                events.policy_action(
                    &record,
                    &arn,
                    "Expiration",
                    &format!("The parameter {} expired and was deleted by its Expiration policy.", record.name),
                );
                events.change(&record, &arn, "Delete");
            }
            PolicyRule::ExpirationNotification { .. } => {
                record.policies[index].job = None;
                record.policies[index].status = PolicyStatus::Finished;
                store::save(&ctx.tx, ctx.scope, &payload.name, &record);
                events.policy_action(
                    &record,
                    &arn,
                    "ExpirationNotification",
                    &format!(
                        "The parameter {} is going to expire soon according to its Expiration policy.",
                        record.name
                    ),
                );
            }
            PolicyRule::NoChangeNotification { .. } => {
                record.policies[index].job = None;
                record.policies[index].status = PolicyStatus::Finished;
                store::save(&ctx.tx, ctx.scope, &payload.name, &record);
                events.policy_action(
                    &record,
                    &arn,
                    "NoChangeNotification",
                    &format!(
                        "The parameter {} has not been changed for the period its NoChangeNotification policy sets.",
                        record.name
                    ),
                );
            }
        }
        Ok(JobOutcome::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::parse_iso8601("2024-01-01T00:00:00Z").unwrap()
    }

    fn parse_at(text: &str) -> Result<Vec<StoredPolicy>, SsmError> {
        parse(text, now(), &IdGen::seeded(1))
    }

    #[test]
    fn the_three_policy_types_parse_with_their_attributes() {
        let text = r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2024-02-01T00:00:00.000Z"}},
            {"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"15","Unit":"Days"}},
            {"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"20","Unit":"Hours"}}]"#;
        let p = parse_at(text).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].rule, PolicyRule::Expiration { at: Timestamp::parse_iso8601("2024-02-01T00:00:00Z").unwrap() });
        assert_eq!(p[1].rule, PolicyRule::ExpirationNotification { before_ms: 15 * DAY_MS });
        assert_eq!(p[2].rule, PolicyRule::NoChangeNotification { after_ms: 20 * HOUR_MS });
        assert!(p.iter().all(|p| p.status == PolicyStatus::Pending));
        assert!(p[1].text.starts_with(r#"{"Type":"ExpirationNotification""#));
    }

    #[test]
    fn an_empty_policy_removes_all_policies() {
        assert!(parse_at("[{}]").unwrap().is_empty());
        assert!(parse_at("[]").unwrap().is_empty());
    }

    #[test]
    fn more_than_ten_policies_exceed_the_limit() {
        let one = r#"{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"1","Unit":"Days"}}"#;
        let eleven = format!("[{}]", [one; 11].join(","));
        assert!(matches!(parse_at(&eleven), Err(SsmError::PoliciesLimitExceededException(_))));
        let ten = format!("[{}]", [one; 10].join(","));
        assert_eq!(parse_at(&ten).unwrap().len(), 10);
    }

    #[test]
    fn unknown_policy_types_are_invalid_types() {
        for text in [r#"[{"Type":"Rotation","Version":"1.0","Attributes":{}}]"#, r#"[{"Version":"1.0"}]"#, "[3]"] {
            assert!(matches!(parse_at(text), Err(SsmError::InvalidPolicyTypeException(_))), "{text}");
        }
    }

    #[test]
    fn bad_attributes_are_invalid_attributes() {
        for text in [
            r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"tomorrow"}}]"#,
            r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2023-01-01T00:00:00Z"}}]"#,
            r#"[{"Type":"Expiration","Version":"2.0","Attributes":{"Timestamp":"2024-02-01T00:00:00Z"}}]"#,
            r#"[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"0","Unit":"Days"}}]"#,
            r#"[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"3","Unit":"Weeks"}}]"#,
            r#"[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"3","Unit":"Days","X":"1"}}]"#,
            "not json",
        ] {
            assert!(matches!(parse_at(text), Err(SsmError::InvalidPolicyAttributeException(_))), "{text}");
        }
    }

    #[test]
    fn two_expirations_or_a_notification_without_expiration_are_incompatible() {
        let exp = r#"{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2024-02-01T00:00:00Z"}}"#;
        let note = r#"{"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"1","Unit":"Days"}}"#;
        assert!(matches!(parse_at(&format!("[{exp},{exp}]")), Err(SsmError::IncompatiblePolicyException(_))));
        assert!(matches!(parse_at(&format!("[{note}]")), Err(SsmError::IncompatiblePolicyException(_))));
        assert_eq!(parse_at(&format!("[{exp},{note},{note}]")).unwrap().len(), 3);
    }

    #[test]
    fn offsets_with_seconds_are_understood() {
        let t = parse_timestamp("2019-11-01T22:13:48.87+10:30:00").unwrap();
        assert_eq!(t.to_iso8601(), "2019-11-01T11:43:48.870Z");
        assert_eq!(parse_timestamp("2018-12-02T21:34:33.000Z").unwrap().to_iso8601(), "2018-12-02T21:34:33Z");
        assert!(parse_timestamp("2018-12-02").is_none());
    }

    #[test]
    fn notifications_are_due_relative_to_expiry_and_last_change() {
        let text = r#"[{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2024-02-01T00:00:00Z"}},
            {"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"1","Unit":"Days"}},
            {"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"2","Unit":"Hours"}}]"#;
        let policies = parse_at(text).unwrap();
        let record = ParameterRecord {
            name: "p".into(),
            parameter_type: crate::types::ParameterType::String,
            value: "v".into(),
            version: 1,
            last_modified: now(),
            last_modified_user: "u".into(),
            data_type: "text".into(),
            tier: crate::types::ParameterTier::Advanced,
            description: None,
            allowed_pattern: None,
            key_id: None,
            policies: policies.clone(),
            tags: vec![],
            labels: Default::default(),
            oldest_version: 1,
        };
        let expiry = Timestamp::parse_iso8601("2024-02-01T00:00:00Z").unwrap();
        assert_eq!(due_of(&policies[0], &record), Some(expiry));
        assert_eq!(due_of(&policies[1], &record), Some(Timestamp(expiry.0 - DAY_MS)));
        assert_eq!(due_of(&policies[2], &record), Some(Timestamp(now().0 + 2 * HOUR_MS)));
    }
}
