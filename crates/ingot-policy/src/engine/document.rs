//! A policy document: parsed from JSON, validated with AWS's `MalformedPolicyDocument` messages,
//! and compiled once for evaluation.

use serde_json::{Map, Value};

use super::condition::{Condition, Operator};
use super::context::{lower_key, root_account_of};
use super::pattern::{ActionPattern, ResourcePattern};
use super::{PolicyError, PolicyKind};

pub(crate) const SYNTAX_ERRORS: &str = "Syntax errors in policy.";
pub(crate) const INVALID_JSON: &str = "This policy contains invalid Json";
pub(crate) const LEGACY_PARSING: &str = "The policy failed legacy parsing";
pub(crate) const NO_ACTIONS: &str = "Policy statement must contain actions.";
pub(crate) const NO_RESOURCES: &str = "Policy statement must contain resources.";
pub(crate) const NO_VENDOR: &str = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
pub(crate) const TWO_COLONS: &str = "Actions/Condition can contain only one colon.";
pub(crate) const VENDOR_WILDCARD: &str = "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards";
pub(crate) const DUPLICATE_SID: &str = "Statement IDs (SID) in a single policy must be unique.";
pub(crate) const SID_NOT_ALPHANUMERIC: &str =
    "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*";
pub(crate) const PRINCIPAL_IN_IDENTITY_POLICY: &str = "Policy document should not specify a principal.";
pub(crate) const NO_PRINCIPALS: &str = "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!";
/// Organizations answers every malformed SCP with this one text.
pub(crate) const SCP_MALFORMED: &str =
    "The provided policy document does not meet the requirements of the specified policy type.";
/// What IAM answers when a managed policy (`CreatePolicy`, `CreatePolicyVersion`) has no
/// `Version` or `2008-10-17`; see [`Policy::has_current_version`].
pub const MANAGED_POLICY_VERSION_MESSAGE: &str = "Policy document must be version 2012-10-17 or greater.";

const CURRENT_VERSION: &str = "2012-10-17";
const OLD_VERSION: &str = "2008-10-17";

fn fail<T>(message: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError { message: message.into() })
}

/// A compiled policy: cheap to evaluate many times, `Send + Sync`, meant to be shared behind an
/// `Arc`.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    kind: PolicyKind,
    version: Option<Box<str>>,
    id: Option<Box<str>>,
    pub(crate) statements: Vec<Statement>,
    named_principals: Vec<String>,
    condition_keys: Vec<String>,
    pub(crate) index: ActionIndex,
}

/// Which statements a request's action can concern, by the action's vendor (`ssm`), so that a
/// request looks at those alone instead of every statement of a long policy.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ActionIndex {
    /// Statements that may apply to any action (`*`, or `NotAction`), in statement order.
    any: Vec<usize>,
    /// Statements naming actions of one vendor (lower-cased), in statement order.
    by_vendor: Vec<(Box<str>, Vec<usize>)>,
}

impl ActionIndex {
    fn new(statements: &[Statement]) -> Self {
        let mut index = ActionIndex::default();
        for (i, statement) in statements.iter().enumerate() {
            let any = statement.not_action || statement.actions.iter().any(|a| a.vendor().is_none());
            if any {
                index.any.push(i);
                continue;
            }
            for vendor in statement.actions.iter().filter_map(ActionPattern::vendor) {
                match index.by_vendor.iter_mut().find(|(v, _)| **v == *vendor) {
                    Some((_, list)) if list.last() == Some(&i) => {}
                    Some((_, list)) => list.push(i),
                    None => index.by_vendor.push((vendor.into(), vec![i])),
                }
            }
        }
        index
    }

    /// The statements an action of `vendor` (lower-cased) can concern, in statement order.
    pub(crate) fn candidates<'a>(&'a self, vendor: &str) -> impl Iterator<Item = usize> + 'a {
        let listed: &[usize] = self.by_vendor.iter().find(|(v, _)| **v == *vendor).map_or(&[], |(_, l)| l);
        merge_sorted(&self.any, listed)
    }
}

/// Two ascending lists as one ascending sequence.
fn merge_sorted<'a>(a: &'a [usize], b: &'a [usize]) -> impl Iterator<Item = usize> + 'a {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        let next = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) if x <= y => {
                i += 1;
                x
            }
            (_, Some(&y)) => {
                j += 1;
                y
            }
            (Some(&x), None) => {
                i += 1;
                x
            }
            (None, None) => return None,
        };
        Some(next)
    })
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    pub(crate) sid: Option<Box<str>>,
    pub(crate) allow: bool,
    /// `NotAction` when true.
    pub(crate) not_action: bool,
    pub(crate) actions: Vec<ActionPattern>,
    /// `None` when the statement has neither `Resource` nor `NotResource` (trust policies): it
    /// then covers any resource.
    pub(crate) resources: Option<Resources>,
    /// `None` when the statement names no principal (identity-type policies).
    pub(crate) principals: Option<Principals>,
    pub(crate) conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resources {
    /// `NotResource` when true.
    pub(crate) negated: bool,
    pub(crate) patterns: Vec<ResourcePattern>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Principals {
    /// `NotPrincipal` when true.
    pub(crate) negated: bool,
    pub(crate) entries: Vec<PrincipalEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`.
    Anyone,
    /// `"A"` or `arn:aws:iam::A:root`.
    Account(Box<str>),
    /// A user, role, assumed-role session or federated-user ARN.
    Arn(Box<str>),
    /// `AIDA…`, `AROA…`: what trust policies keep once the named entity is gone.
    UniqueId(Box<str>),
    Service(Box<str>),
    Federated(Box<str>),
    /// S3 only; Ingot has no canonical users, so it never matches.
    CanonicalUser(Box<str>),
}

impl Policy {
    /// Parses, validates and compiles a policy document of the given kind.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        let parsed = parse_document(text, kind);
        match (kind, parsed) {
            (PolicyKind::ServiceControl, Err(_)) => fail(SCP_MALFORMED),
            (_, parsed) => parsed,
        }
    }

    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The `Version` element as written.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The `Id` element as written.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// True for `Version: 2012-10-17`. IAM managed policies require it and answer
    /// [`MANAGED_POLICY_VERSION_MESSAGE`] otherwise; inline policies do not.
    pub fn has_current_version(&self) -> bool {
        self.version.as_deref() == Some(CURRENT_VERSION)
    }

    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// The `Sid` of statement `index`, if it has one.
    pub fn sid(&self, index: usize) -> Option<&str> {
        self.statements.get(index).and_then(|s| s.sid.as_deref())
    }

    /// Every `AWS` entry (account ids, ARNs, unique ids) of every `Principal` / `NotPrincipal`,
    /// as written, without `*` and without repeats, so the caller can check they exist.
    pub fn named_aws_principals(&self) -> Vec<String> {
        self.named_principals.clone()
    }

    /// The condition keys the policy references (in `Condition` blocks and as policy variables),
    /// as first written, without case-insensitive repeats.
    pub fn condition_keys(&self) -> Vec<String> {
        self.condition_keys.clone()
    }

    /// Whether a condition or a policy variable of this policy names `key` (any case).
    pub fn references(&self, key: &str) -> bool {
        self.condition_keys.iter().any(|k| k.eq_ignore_ascii_case(key))
    }
}

fn parse_document(text: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
    let document: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(_) if kind == PolicyKind::Trust => return fail(INVALID_JSON),
        Err(_) => return fail(SYNTAX_ERRORS),
    };
    let Value::Object(top) = document else { return fail(SYNTAX_ERRORS) };
    if top.keys().any(|k| !matches!(k.as_str(), "Version" | "Id" | "Statement")) {
        return fail(SYNTAX_ERRORS);
    }
    let version = match top.get("Version") {
        None => None,
        Some(Value::String(v)) if v == CURRENT_VERSION || v == OLD_VERSION => Some(v.as_str()),
        Some(_) => return fail(SYNTAX_ERRORS),
    };
    if kind == PolicyKind::ServiceControl && version != Some(CURRENT_VERSION) {
        return fail(SCP_MALFORMED);
    }
    let id = match top.get("Id") {
        None => None,
        Some(Value::String(id)) => Some(id.as_str()),
        Some(_) => return fail(SYNTAX_ERRORS),
    };
    let raw_statements: Vec<&Map<String, Value>> = match top.get("Statement") {
        Some(Value::Object(one)) => vec![one],
        Some(Value::Array(many)) if !many.is_empty() => {
            let mut statements = Vec::with_capacity(many.len());
            for item in many {
                let Value::Object(statement) = item else { return fail(SYNTAX_ERRORS) };
                statements.push(statement);
            }
            statements
        }
        _ => return fail(SYNTAX_ERRORS),
    };

    let variables = version == Some(CURRENT_VERSION);
    let mut builder = Builder { kind, variables, sids: Vec::new(), principals: Vec::new(), keys: Vec::new() };
    let mut statements = Vec::with_capacity(raw_statements.len());
    for raw in raw_statements {
        statements.push(builder.statement(raw)?);
    }
    Ok(Policy {
        kind,
        version: version.map(Into::into),
        id: id.map(Into::into),
        index: ActionIndex::new(&statements),
        statements,
        named_principals: builder.principals,
        condition_keys: builder.keys,
    })
}

/// Validation state across statements.
struct Builder {
    kind: PolicyKind,
    variables: bool,
    sids: Vec<String>,
    principals: Vec<String>,
    /// (as written, lowered)
    keys: Vec<String>,
}

const STATEMENT_KEYS: [&str; 9] =
    ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"];

impl Builder {
    fn iam_rules(&self) -> bool {
        matches!(self.kind, PolicyKind::Identity | PolicyKind::Session | PolicyKind::Trust)
    }

    fn statement(&mut self, raw: &Map<String, Value>) -> Result<Statement, PolicyError> {
        if raw.keys().any(|k| !STATEMENT_KEYS.contains(&k.as_str())) {
            return fail(SYNTAX_ERRORS);
        }
        let sid = self.sid(raw.get("Sid"))?;
        let allow = match raw.get("Effect") {
            Some(Value::String(e)) if e == "Allow" => true,
            Some(Value::String(e)) if e == "Deny" => false,
            // IAM's answer to `"Effect": "allow"` (effects are case-sensitive) or none at all.
            _ => return fail(LEGACY_PARSING),
        };
        let principals = self.principals(raw.get("Principal"), raw.get("NotPrincipal"))?;
        let (not_action, actions) = self.actions(raw.get("Action"), raw.get("NotAction"))?;
        let resources = self.resources(raw.get("Resource"), raw.get("NotResource"))?;
        let conditions = match raw.get("Condition") {
            None => Vec::new(),
            Some(block) => self.conditions(block)?,
        };
        for pattern in resources.iter().flat_map(|r| &r.patterns) {
            for variable in pattern.variables() {
                self.note_key(&variable.key);
            }
        }
        Ok(Statement { sid, allow, not_action, actions, resources, principals, conditions })
    }

    fn sid(&mut self, raw: Option<&Value>) -> Result<Option<Box<str>>, PolicyError> {
        let sid = match raw {
            None => return Ok(None),
            Some(Value::String(sid)) => sid,
            Some(_) => return fail(SYNTAX_ERRORS),
        };
        if self.iam_rules() {
            if !sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return fail(SID_NOT_ALPHANUMERIC);
            }
            if !sid.is_empty() && self.sids.contains(sid) {
                return fail(DUPLICATE_SID);
            }
            self.sids.push(sid.clone());
        }
        Ok(Some(sid.as_str().into()))
    }

    fn principals(
        &mut self,
        principal: Option<&Value>,
        not_principal: Option<&Value>,
    ) -> Result<Option<Principals>, PolicyError> {
        let (negated, raw) = match (principal, not_principal) {
            (Some(_), Some(_)) => return fail(SYNTAX_ERRORS),
            (Some(p), None) => (false, Some(p)),
            (None, Some(p)) => (true, Some(p)),
            (None, None) => (false, None),
        };
        match self.kind {
            PolicyKind::Identity | PolicyKind::Session | PolicyKind::ServiceControl => {
                return match raw {
                    Some(_) => fail(PRINCIPAL_IN_IDENTITY_POLICY),
                    None => Ok(None),
                };
            }
            PolicyKind::Trust if negated => return fail(NO_PRINCIPALS),
            PolicyKind::Trust | PolicyKind::Resource => {}
        }
        let Some(raw) = raw else { return fail(NO_PRINCIPALS) };
        let mut entries = Vec::new();
        match raw {
            Value::String(s) if s == "*" => entries.push(PrincipalEntry::Anyone),
            Value::Object(map) => {
                for (kind, values) in map {
                    for value in string_list(values)? {
                        entries.push(self.principal_entry(kind, value)?);
                    }
                }
            }
            _ => return fail(SYNTAX_ERRORS),
        }
        if entries.is_empty() {
            return fail(NO_PRINCIPALS);
        }
        Ok(Some(Principals { negated, entries }))
    }

    fn principal_entry(&mut self, kind: &str, value: &str) -> Result<PrincipalEntry, PolicyError> {
        match kind {
            "AWS" => {
                let entry = aws_principal(value).ok_or_else(|| PolicyError {
                    message: format!("Invalid principal in policy: \"AWS\":\"{value}\""),
                })?;
                if entry != PrincipalEntry::Anyone && !self.principals.iter().any(|p| p == value) {
                    self.principals.push(value.to_string());
                }
                Ok(entry)
            }
            "Service" => {
                if value == "*" {
                    Ok(PrincipalEntry::Anyone)
                } else if valid_service_principal(value) {
                    Ok(PrincipalEntry::Service(value.into()))
                } else {
                    fail(format!("Invalid principal in policy: \"SERVICE\":\"{value}\""))
                }
            }
            "Federated" if !value.is_empty() => Ok(PrincipalEntry::Federated(value.into())),
            "CanonicalUser" if !value.is_empty() => Ok(PrincipalEntry::CanonicalUser(value.into())),
            _ => fail(format!("Invalid principal in policy: \"{}\":\"{value}\"", kind.to_ascii_uppercase())),
        }
    }

    fn actions(
        &mut self,
        action: Option<&Value>,
        not_action: Option<&Value>,
    ) -> Result<(bool, Vec<ActionPattern>), PolicyError> {
        let (negated, raw) = match (action, not_action) {
            (Some(_), Some(_)) => return fail(SYNTAX_ERRORS),
            (Some(a), None) => (false, a),
            (None, Some(a)) => (true, a),
            (None, None) => return fail(NO_ACTIONS),
        };
        let texts = string_list(raw)?;
        if texts.is_empty() {
            return fail(NO_ACTIONS);
        }
        let mut patterns = Vec::with_capacity(texts.len());
        for text in texts {
            if text != "*" {
                let Some((vendor, name)) = text.split_once(':') else { return fail(NO_VENDOR) };
                if name.contains(':') {
                    return fail(TWO_COLONS);
                }
                if vendor.is_empty() {
                    return fail(NO_VENDOR);
                }
                if vendor.contains(['*', '?']) {
                    return fail(VENDOR_WILDCARD);
                }
            }
            patterns.push(ActionPattern::parse(text));
        }
        Ok((negated, patterns))
    }

    fn resources(
        &mut self,
        resource: Option<&Value>,
        not_resource: Option<&Value>,
    ) -> Result<Option<Resources>, PolicyError> {
        if self.kind == PolicyKind::Trust {
            return match (resource, not_resource) {
                (Some(_), _) => fail("Has prohibited field Resource"),
                (None, Some(_)) => fail("Has prohibited field NotResource"),
                (None, None) => Ok(None),
            };
        }
        let (negated, raw) = match (resource, not_resource) {
            (Some(_), Some(_)) => return fail(SYNTAX_ERRORS),
            (Some(r), None) => (false, r),
            (None, Some(r)) => (true, r),
            // SCPs may leave the resource out (it then means every resource).
            (None, None) if self.kind == PolicyKind::ServiceControl => return Ok(None),
            (None, None) => return fail(NO_RESOURCES),
        };
        let texts = string_list(raw)?;
        if texts.is_empty() {
            return fail(NO_RESOURCES);
        }
        let mut patterns = Vec::with_capacity(texts.len());
        for text in texts {
            validate_resource(text)?;
            patterns.push(ResourcePattern::parse(text, self.variables));
        }
        Ok(Some(Resources { negated, patterns }))
    }

    fn conditions(&mut self, block: &Value) -> Result<Vec<Condition>, PolicyError> {
        let Value::Object(operators) = block else { return fail(SYNTAX_ERRORS) };
        let mut conditions = Vec::new();
        for (operator_name, keys) in operators {
            let Value::Object(keys) = keys else { return fail(SYNTAX_ERRORS) };
            let Some(operator) = Operator::parse(operator_name) else { return fail(SYNTAX_ERRORS) };
            for (key, values) in keys {
                let values = condition_values(values)?;
                let condition = Condition::new(operator, key, &values, self.variables);
                self.note_key(key);
                for variable in condition.variables() {
                    self.note_key(&variable.key);
                }
                conditions.push(condition);
            }
        }
        Ok(conditions)
    }

    fn note_key(&mut self, key: &str) {
        let lowered = lower_key(key);
        if !self.keys.iter().any(|k| lower_key(k) == lowered) {
            self.keys.push(key.to_string());
        }
    }
}

/// A string or a list of strings (an empty list is returned empty, for the caller to judge).
fn string_list(value: &Value) -> Result<Vec<&str>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(items) => {
            items.iter().map(|item| item.as_str().ok_or(PolicyError { message: SYNTAX_ERRORS.into() })).collect()
        }
        _ => fail(SYNTAX_ERRORS),
    }
}

/// Condition values: strings, numbers or booleans, alone or in a list; as text.
fn condition_values(value: &Value) -> Result<Vec<String>, PolicyError> {
    fn scalar(value: &Value) -> Result<String, PolicyError> {
        match value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => fail(SYNTAX_ERRORS),
        }
    }
    match value {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => Ok(vec![scalar(other)?]),
    }
}

/// `*`, or an ARN with six parts (or fewer when the last ends with `*`, which then spans the
/// rest).
fn validate_resource(text: &str) -> Result<(), PolicyError> {
    if text == "*" {
        return Ok(());
    }
    if !text.starts_with("arn:") {
        return fail(format!("Resource {text} must be in ARN format or \"*\"."));
    }
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    if parts.len() < 6 && !text.ends_with('*') {
        return fail(LEGACY_PARSING);
    }
    let service = parts.get(2).copied().unwrap_or("");
    let region = parts.get(3).copied().unwrap_or("");
    let account = parts.get(4).copied();
    if service == "iam" && !region.is_empty() && !region.contains(['*', '?']) {
        return fail(format!("IAM resource {text} cannot contain region information."));
    }
    // A malformed region (`us-west--2`) or an IAM/STS account that is no account id fails
    // IAM's legacy parser.
    if !region.is_empty() && !region.contains(['*', '?']) && !valid_region(region) {
        return fail(LEGACY_PARSING);
    }
    if matches!(service, "iam" | "sts") {
        if let Some(account) = account {
            let wild = account.contains(['*', '?']);
            if !wild && !account.is_empty() && account != "aws" && !is_account_id(account) {
                return fail(LEGACY_PARSING);
            }
        }
    }
    Ok(())
}

fn valid_region(region: &str) -> bool {
    region.split('-').all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric()))
}

pub(crate) fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// An `AWS` principal: `*`, an account id, an IAM/STS ARN without wildcards, or a unique id.
fn aws_principal(value: &str) -> Option<PrincipalEntry> {
    if value == "*" {
        return Some(PrincipalEntry::Anyone);
    }
    if is_account_id(value) {
        return Some(PrincipalEntry::Account(value.into()));
    }
    if value.starts_with("arn:") {
        if value.contains(['*', '?']) {
            return None;
        }
        if let Some(account) = root_account_of(value) {
            return is_account_id(account).then(|| PrincipalEntry::Account(account.into()));
        }
        let parts: Vec<&str> = value.splitn(6, ':').collect();
        let [_, _, service, _, account, resource] = parts.as_slice() else { return None };
        let ok = matches!(*service, "iam" | "sts") && is_account_id(account) && !resource.is_empty();
        return ok.then(|| PrincipalEntry::Arn(value.into()));
    }
    let unique = value.len() >= 16
        && value.len() <= 128
        && value.starts_with('A')
        && value.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    unique.then(|| PrincipalEntry::UniqueId(value.into()))
}

/// `ec2.amazonaws.com`, `states.us-east-1.amazonaws.com`, `….amazonaws.com.cn`.
fn valid_service_principal(value: &str) -> bool {
    let prefix =
        [".amazonaws.com", ".amazonaws.com.cn", ".aws.internal"].iter().find_map(|suffix| value.strip_suffix(suffix));
    prefix.is_some_and(|p| {
        !p.is_empty()
            && p.split('.').all(|label| {
                !label.is_empty() && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str, kind: PolicyKind) -> String {
        match Policy::parse(text, kind) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e.message,
        }
    }

    fn identity_error(statement: &str) -> String {
        error(&format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#), PolicyKind::Identity)
    }

    fn ok(text: &str, kind: PolicyKind) -> Policy {
        Policy::parse(text, kind).unwrap_or_else(|e| panic!("rejected ({}): {text}", e.message))
    }

    const ALLOW_ALL: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;

    #[test]
    fn a_simple_identity_policy_compiles() {
        let p = ok(ALLOW_ALL, PolicyKind::Identity);
        assert_eq!(p.statement_count(), 1);
        assert_eq!(p.version(), Some("2012-10-17"));
        assert!(p.has_current_version());
        assert_eq!(p.kind(), PolicyKind::Identity);
    }

    #[test]
    fn statements_may_be_an_object_or_a_list_and_values_strings_or_lists() {
        let p = ok(
            r#"{"Statement":[{"Sid":"A1","Effect":"Allow","Action":["ssm:GetParameter","ssm:PutParameter"],
                "Resource":["arn:aws:ssm:us-east-1:111122223333:parameter/a","*"]},
               {"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:s3:::b/*"}]}"#,
            PolicyKind::Identity,
        );
        assert_eq!(p.statement_count(), 2);
        assert_eq!(p.sid(0), Some("A1"));
        assert_eq!(p.sid(1), None);
        assert!(!p.has_current_version());
    }

    #[test]
    fn text_that_is_not_json_is_a_syntax_error_except_for_trust_policies() {
        assert_eq!(error("{not json", PolicyKind::Identity), SYNTAX_ERRORS);
        assert_eq!(error("{not json", PolicyKind::Session), SYNTAX_ERRORS);
        assert_eq!(error("{not json", PolicyKind::Trust), INVALID_JSON);
        assert_eq!(error("", PolicyKind::Trust), INVALID_JSON);
    }

    #[test]
    fn a_wrong_top_level_structure_is_a_syntax_error() {
        for text in [
            "[]",
            "null",
            r#""text""#,
            r#"{"Version":"2012-10-17"}"#,
            r#"{"Version":"2012-10-17","Statement":[]}"#,
            r#"{"Version":"2012-10-17","Statement":"x"}"#,
            r#"{"Version":"2012-10-17","Statement":["x"]}"#,
            r#"{"Version":"2012-10-17","Extra":1,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
            r#"{"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
            r#"{"Version":20121017,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
            r#"{"Id":5,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
        ] {
            assert_eq!(error(text, PolicyKind::Identity), SYNTAX_ERRORS, "{text}");
        }
    }

    #[test]
    fn an_unknown_statement_element_is_a_syntax_error() {
        assert_eq!(identity_error(r#"{"Effect":"Allow","Action":"*","Resource":"*","Foo":1}"#), SYNTAX_ERRORS);
        assert_eq!(identity_error(r#"{"effect":"Allow","Action":"*","Resource":"*"}"#), SYNTAX_ERRORS);
    }

    #[test]
    fn an_effect_other_than_allow_or_deny_fails_legacy_parsing() {
        assert_eq!(identity_error(r#"{"Effect":"allow","Action":"*","Resource":"*"}"#), LEGACY_PARSING);
        assert_eq!(identity_error(r#"{"Effect":"Permit","Action":"*","Resource":"*"}"#), LEGACY_PARSING);
        assert_eq!(identity_error(r#"{"Action":"*","Resource":"*"}"#), LEGACY_PARSING);
    }

    #[test]
    fn a_statement_without_actions_is_refused() {
        assert_eq!(identity_error(r#"{"Effect":"Allow","Resource":"*"}"#), NO_ACTIONS);
        assert_eq!(identity_error(r#"{"Effect":"Allow","Action":[],"Resource":"*"}"#), NO_ACTIONS);
    }

    #[test]
    fn action_and_not_action_together_are_a_syntax_error() {
        assert_eq!(
            identity_error(r#"{"Effect":"Allow","Action":"s3:*","NotAction":"iam:*","Resource":"*"}"#),
            SYNTAX_ERRORS
        );
        assert_eq!(
            identity_error(r#"{"Effect":"Allow","Action":"s3:*","Resource":"*","NotResource":"*"}"#),
            SYNTAX_ERRORS
        );
        assert_eq!(identity_error(r#"{"Effect":"Allow","Action":5,"Resource":"*"}"#), SYNTAX_ERRORS);
        assert_eq!(identity_error(r#"{"Effect":"Allow","Action":"*","Resource":[1]}"#), SYNTAX_ERRORS);
    }

    #[test]
    fn identity_and_session_statements_without_resources_are_refused() {
        assert_eq!(identity_error(r#"{"Effect":"Allow","Action":"*"}"#), NO_RESOURCES);
        assert_eq!(identity_error(r#"{"Effect":"Allow","Action":"*","Resource":[]}"#), NO_RESOURCES);
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*"}}"#;
        assert_eq!(error(text, PolicyKind::Session), NO_RESOURCES);
    }

    #[test]
    fn a_resource_that_is_not_an_arn_is_refused_with_its_text() {
        assert_eq!(
            identity_error(r#"{"Effect":"Allow","Action":"*","Resource":"my-bucket"}"#),
            "Resource my-bucket must be in ARN format or \"*\"."
        );
        assert_eq!(
            identity_error(r#"{"Effect":"Allow","Action":"*","Resource":""}"#),
            "Resource  must be in ARN format or \"*\"."
        );
    }

    #[test]
    fn an_arn_with_too_few_parts_fails_legacy_parsing() {
        assert_eq!(
            identity_error(r#"{"Effect":"Allow","Action":"*","Resource":"arn:aws:iam:111122223333:user/u"}"#),
            LEGACY_PARSING
        );
        assert_eq!(identity_error(r#"{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3"}"#), LEGACY_PARSING);
        // A final `*` may span the missing parts.
        ok(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:ssm:*"}}"#, PolicyKind::Identity);
    }

    #[test]
    fn iam_resource_arns_are_checked_for_region_and_account() {
        assert_eq!(
            identity_error(r#"{"Effect":"Allow","Action":"*","Resource":"arn:aws:iam:us-east-1:111122223333:role/r"}"#),
            "IAM resource arn:aws:iam:us-east-1:111122223333:role/r cannot contain region information."
        );
        assert_eq!(
            identity_error(r#"{"Effect":"Allow","Action":"*","Resource":"arn:aws:iam::xxx:role/bastion"}"#),
            LEGACY_PARSING
        );
        assert_eq!(
            identity_error(
                r#"{"Effect":"Allow","Action":"*","Resource":"arn:aws:dynamodb:us-west--2:111122223333:table/t"}"#
            ),
            LEGACY_PARSING
        );
        ok(
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":["arn:aws:iam::*:role/*","arn:aws:iam::aws:policy/X"]}}"#,
            PolicyKind::Identity,
        );
    }

    #[test]
    fn an_action_needs_exactly_one_colon_and_a_vendor_without_wildcards() {
        assert_eq!(identity_error(r#"{"Effect":"Allow","Action":"GetParameter","Resource":"*"}"#), NO_VENDOR);
        assert_eq!(identity_error(r#"{"Effect":"Allow","Action":":GetParameter","Resource":"*"}"#), NO_VENDOR);
        assert_eq!(identity_error(r#"{"Effect":"Allow","Action":"ssm:Get:Parameter","Resource":"*"}"#), TWO_COLONS);
        assert_eq!(identity_error(r#"{"Effect":"Allow","Action":"*:Untag*","Resource":"*"}"#), VENDOR_WILDCARD);
        assert_eq!(identity_error(r#"{"Effect":"Allow","Action":"s?m:Get","Resource":"*"}"#), VENDOR_WILDCARD);
    }

    #[test]
    fn sids_must_be_unique_and_alphanumeric_in_iam_policies() {
        assert_eq!(
            identity_error(
                r#"{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}"#
            ),
            DUPLICATE_SID
        );
        assert_eq!(
            identity_error(r#"{"Sid":"has space","Effect":"Allow","Action":"*","Resource":"*"}"#),
            SID_NOT_ALPHANUMERIC
        );
        assert_eq!(
            identity_error(r#"{"Sid":"a-b","Effect":"Allow","Action":"*","Resource":"*"}"#),
            SID_NOT_ALPHANUMERIC
        );
        ok(
            r#"{"Statement":[{"Sid":"","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"","Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            PolicyKind::Identity,
        );
        // Key policies keep their readable Sids.
        ok(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow",
                "Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#,
            PolicyKind::Resource,
        );
    }

    #[test]
    fn identity_and_session_policies_may_not_name_a_principal() {
        assert_eq!(
            identity_error(r#"{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}"#),
            PRINCIPAL_IN_IDENTITY_POLICY
        );
        assert_eq!(
            identity_error(r#"{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}"#),
            PRINCIPAL_IN_IDENTITY_POLICY
        );
        let text = r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}"#;
        assert_eq!(error(text, PolicyKind::Session), PRINCIPAL_IN_IDENTITY_POLICY);
    }

    #[test]
    fn trust_policies_need_principals_and_may_not_name_resources() {
        let trust = |statement: &str| {
            error(&format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#), PolicyKind::Trust)
        };
        assert_eq!(
            trust(
                r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}"#
            ),
            "Has prohibited field Resource"
        );
        assert_eq!(trust(r#"{"Effect":"Allow","Action":"sts:AssumeRole"}"#), NO_PRINCIPALS);
        assert_eq!(trust(r#"{"Effect":"Allow","Principal":{"AWS":[]},"Action":"sts:AssumeRole"}"#), NO_PRINCIPALS);
        assert_eq!(
            trust(r#"{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}"#),
            NO_PRINCIPALS
        );
        let p = ok(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#,
            PolicyKind::Trust,
        );
        assert_eq!(p.statement_count(), 1);
    }

    #[test]
    fn resource_policies_need_a_principal_in_each_statement() {
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#;
        assert_eq!(error(text, PolicyKind::Resource), NO_PRINCIPALS);
    }

    #[test]
    fn invalid_principals_are_refused_naming_the_entry() {
        let trust = |principal: &str| {
            error(
                &format!(r#"{{"Statement":{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"}}}}"#),
                PolicyKind::Trust,
            )
        };
        assert_eq!(
            trust(r#"{"Service":"amazonaws.com"}"#),
            r#"Invalid principal in policy: "SERVICE":"amazonaws.com""#
        );
        assert_eq!(trust(r#"{"AWS":"bob"}"#), r#"Invalid principal in policy: "AWS":"bob""#);
        assert_eq!(
            trust(r#"{"AWS":"arn:aws:iam::111122223333:user/*"}"#),
            r#"Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:user/*""#
        );
        assert_eq!(
            trust(r#"{"AWS":"arn:aws:iam::xxx:root"}"#),
            r#"Invalid principal in policy: "AWS":"arn:aws:iam::xxx:root""#
        );
        assert_eq!(trust(r#""someone""#), SYNTAX_ERRORS);
        assert_eq!(trust(r#"{"AWS":5}"#), SYNTAX_ERRORS);
    }

    #[test]
    fn named_aws_principals_lists_accounts_and_arns_once() {
        let p = ok(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:role/r","*"]},"Action":"sts:AssumeRole"},
                {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/r","Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},
                {"Effect":"Allow","Principal":{"AWS":"AROAEXAMPLEEXAMPLE12"},"Action":"sts:TagSession"}]}"#,
            PolicyKind::Trust,
        );
        assert_eq!(
            p.named_aws_principals(),
            vec!["111122223333", "arn:aws:iam::444455556666:role/r", "AROAEXAMPLEEXAMPLE12"]
        );
    }

    #[test]
    fn condition_keys_are_listed_as_written_once() {
        let p = ok(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username}/*",
                 "Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1","aws:PrincipalTag/Team":"${aws:PrincipalTag/team}"},
                              "Bool":{"aws:SecureTransport":true}}},
                {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"IpAddress":{"AWS:SourceIp":"10.0.0.0/8"},"NotIpAddress":{"aws:SourceIp":"10.1.0.0/16"}}}]}"#,
            PolicyKind::Identity,
        );
        let mut keys = p.condition_keys();
        keys.sort();
        assert_eq!(
            keys,
            vec!["AWS:SourceIp", "aws:PrincipalTag/Team", "aws:RequestedRegion", "aws:SecureTransport", "aws:username"]
        );
    }

    #[test]
    fn malformed_condition_blocks_are_syntax_errors() {
        let cond =
            |c: &str| identity_error(&format!(r#"{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{c}}}"#));
        assert_eq!(cond(r#"{"servicecatalog:accountLevel":"self"}"#), SYNTAX_ERRORS);
        assert_eq!(cond(r#"{"StringEqualz":{"k":"v"}}"#), SYNTAX_ERRORS);
        assert_eq!(cond(r#"{"StringEquals":{"k":{"nested":1}}}"#), SYNTAX_ERRORS);
        assert_eq!(cond(r#"{"StringEquals":{"k":[null]}}"#), SYNTAX_ERRORS);
        assert_eq!(cond(r#"[]"#), SYNTAX_ERRORS);
        assert_eq!(cond(r#"{"NullIfExists":{"k":"true"}}"#), SYNTAX_ERRORS);
    }

    #[test]
    fn service_control_policies_need_the_current_version_and_no_principal() {
        ok(ALLOW_ALL, PolicyKind::ServiceControl);
        let old = r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
        assert_eq!(error(old, PolicyKind::ServiceControl), SCP_MALFORMED);
        let none = r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
        assert_eq!(error(none, PolicyKind::ServiceControl), SCP_MALFORMED);
        let principal =
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}}"#;
        assert_eq!(error(principal, PolicyKind::ServiceControl), SCP_MALFORMED);
        assert_eq!(error("nope", PolicyKind::ServiceControl), SCP_MALFORMED);
        let no_resource = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ec2:*"}}"#;
        ok(no_resource, PolicyKind::ServiceControl);
    }

    #[test]
    fn service_principals_are_recognised_by_their_domain() {
        for good in
            ["ec2.amazonaws.com", "states.us-east-1.amazonaws.com", "ec2.amazonaws.com.cn", "ecs-tasks.amazonaws.com"]
        {
            assert!(valid_service_principal(good), "{good}");
        }
        for bad in ["amazonaws.com", "lambda.amazon.com", "EC2.amazonaws.com", ".amazonaws.com", "a..amazonaws.com"] {
            assert!(!valid_service_principal(bad), "{bad}");
        }
    }

    #[test]
    fn aws_principals_are_accounts_arns_or_unique_ids() {
        assert_eq!(aws_principal("111122223333"), Some(PrincipalEntry::Account("111122223333".into())));
        assert_eq!(
            aws_principal("arn:aws:iam::111122223333:root"),
            Some(PrincipalEntry::Account("111122223333".into()))
        );
        assert!(matches!(aws_principal("arn:aws:sts::111122223333:assumed-role/r/s"), Some(PrincipalEntry::Arn(_))));
        assert!(matches!(aws_principal("AIDAEXAMPLEEXAMPLE12"), Some(PrincipalEntry::UniqueId(_))));
        assert_eq!(aws_principal("arn:aws:s3:::bucket"), None);
        assert_eq!(aws_principal("11112222333"), None);
    }

    #[test]
    fn no_input_makes_parsing_panic() {
        let samples = [
            "{",
            "}",
            "[[[",
            r#"{"Statement":{}}"#,
            r#"{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"arn:"}}"#,
            r#"{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"arn:::::::::"}}"#,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:${","Resource":"arn:a:b:c:d:${x"}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:"},"Action":"a:b"}}"#,
            "\u{0}",
            "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"é:é\",\"Resource\":\"arn:é\"}}",
        ];
        for text in samples {
            for kind in [
                PolicyKind::Identity,
                PolicyKind::Session,
                PolicyKind::Resource,
                PolicyKind::Trust,
                PolicyKind::ServiceControl,
            ] {
                let _ = Policy::parse(text, kind);
            }
        }
    }
}

#[cfg(test)]
mod index_tests {
    use super::*;

    #[test]
    fn a_request_looks_only_at_statements_of_its_vendor_and_those_for_any_action_in_order() {
        let text = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"},
            {"Effect":"Allow","Action":["ssm:GetParameter","ec2:RunInstances"],"Resource":"*"},
            {"Effect":"Deny","NotAction":"iam:*","Resource":"*"},
            {"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Allow","Action":"SSM:Put*","Resource":"*"}]}"#;
        let policy = Policy::parse(text, PolicyKind::Identity).unwrap();
        assert_eq!(policy.index.candidates("ssm").collect::<Vec<_>>(), vec![1, 2, 3, 4]);
        assert_eq!(policy.index.candidates("ec2").collect::<Vec<_>>(), vec![0, 1, 2, 3]);
        assert_eq!(policy.index.candidates("kms").collect::<Vec<_>>(), vec![2, 3]);
    }
}
