//! Policy documents: validation with the policy engine (AWS's `MalformedPolicyDocument` texts),
//! the principals a trust policy names, IAM's size quotas (characters other than whitespace), and
//! the URL-encoding every document gets in a response.
//!
//! Documents arrive decoded (clients send JSON text) and are stored as given; responses carry them
//! percent-encoded as RFC 3986 says (everything but `A–Z a–z 0–9 - _ . ~`), which botocore undoes
//! and parses into a dict.

use crate::errors::IamError;
use ingot_core::RequestContext;
use ingot_identity::principals::aws_principal_exists;
use ingot_policy::engine::{Policy, PolicyKind, MANAGED_POLICY_VERSION_MESSAGE};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::collections::BTreeMap;

/// Managed policy documents, each version.
pub const MANAGED_POLICY_MAX: usize = 6144;
/// A role's trust policy.
pub const TRUST_POLICY_MAX: usize = 2048;
/// All inline policies of one user, group or role together.
pub const USER_INLINE_MAX: usize = 2048;
pub const GROUP_INLINE_MAX: usize = 5120;
pub const ROLE_INLINE_MAX: usize = 10240;

/// RFC 3986 unreserved characters stay as they are.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// A document as IAM returns it.
pub fn url_encode(document: &str) -> String {
    utf8_percent_encode(document, ENCODE).to_string()
}

/// The size IAM counts against its quotas: characters other than whitespace.
pub fn policy_size(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

fn malformed(error: ingot_policy::engine::PolicyError) -> IamError {
    IamError::malformed_policy_document_exception(error.message)
}

/// Validates an inline policy or a permissions boundary document.
pub fn parse_identity(document: &str) -> Result<Policy, IamError> {
    Policy::parse(document, PolicyKind::Identity).map_err(malformed)
}

/// Validates a version of a customer managed policy: an identity policy with `Version`
/// `2012-10-17`, at most 6144 characters.
pub fn check_managed(document: &str) -> Result<Policy, IamError> {
    let policy = parse_identity(document)?;
    if !policy.has_current_version() {
        return Err(IamError::malformed_policy_document_exception(MANAGED_POLICY_VERSION_MESSAGE));
    }
    if policy_size(document) > MANAGED_POLICY_MAX {
        return Err(IamError::limit_exceeded_exception(format!(
            "Cannot exceed quota for PolicySize: {MANAGED_POLICY_MAX}"
        )));
    }
    Ok(policy)
}

/// Checks that `document`, stored as inline policy `name` beside the entity's others, keeps the
/// entity within its quota (`what`: `user`, `group` or `role`).
pub fn check_inline_total(
    existing: &BTreeMap<String, String>,
    name: &str,
    document: &str,
    quota: usize,
    what: &str,
    entity: &str,
) -> Result<(), IamError> {
    let others: usize = existing.iter().filter(|(n, _)| n.as_str() != name).map(|(_, d)| policy_size(d)).sum();
    if others + policy_size(document) > quota {
        return Err(IamError::limit_exceeded_exception(format!(
            "Maximum policy size of {quota} bytes exceeded for {what} {entity}"
        )));
    }
    Ok(())
}

/// Validates a role's trust policy: its grammar, its size, and that every user and role it names
/// exists.
pub async fn check_trust(ctx: &RequestContext<'_>, document: &str) -> Result<Policy, IamError> {
    let policy = Policy::parse(document, PolicyKind::Trust).map_err(malformed)?;
    if policy_size(document) > TRUST_POLICY_MAX {
        return Err(IamError::limit_exceeded_exception(format!(
            "Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_MAX}"
        )));
    }
    for principal in policy.named_aws_principals() {
        if !aws_principal_exists(&ctx.tx, &principal).await? {
            return Err(IamError::malformed_policy_document_exception(format!(
                "Invalid principal in policy: \"AWS\":\"{principal}\""
            )));
        }
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_percent_encoded_except_unreserved_characters() {
        let doc = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}"#;
        let encoded = url_encode(doc);
        assert!(encoded.starts_with("%7B%22Version%22%3A%20%222012-10-17%22"));
        assert!(!encoded.contains('"') && !encoded.contains(' ') && !encoded.contains('+'));
        assert_eq!(url_encode("a-b_c.d~e/f:g é"), "a-b_c.d~e%2Ff%3Ag%20%C3%A9");
    }

    #[test]
    fn sizes_do_not_count_whitespace() {
        assert_eq!(policy_size("{ \"a\" :\n\t1 }"), 7);
        assert_eq!(policy_size(""), 0);
    }

    fn doc(action: &str) -> String {
        format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#)
    }

    #[test]
    fn managed_policies_over_6144_characters_exceed_the_quota() {
        assert!(check_managed(&doc("s3:GetObject")).is_ok());
        let long = format!("s3:{}", "a".repeat(6200));
        let err = check_managed(&doc(&long)).unwrap_err();
        assert_eq!(err.code(), Some("LimitExceeded"));
        assert_eq!(err.message(), Some("Cannot exceed quota for PolicySize: 6144"));
    }

    #[test]
    fn managed_policies_need_the_current_version() {
        let err = check_managed(r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#).unwrap_err();
        assert_eq!(err.code(), Some("MalformedPolicyDocument"));
        assert!(parse_identity(r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#).is_ok());
    }

    #[test]
    fn bad_json_is_a_syntax_error() {
        let err = parse_identity("{nope").unwrap_err();
        assert_eq!(err.code(), Some("MalformedPolicyDocument"));
        assert_eq!(err.message(), Some("Syntax errors in policy."));
    }

    #[test]
    fn inline_totals_count_every_policy_of_the_entity_but_the_one_replaced() {
        let mut existing = BTreeMap::new();
        existing.insert("a".to_string(), "x".repeat(1000));
        existing.insert("b".to_string(), "y".repeat(1000));
        assert!(check_inline_total(&existing, "b", &"z".repeat(1048), USER_INLINE_MAX, "user", "u").is_ok());
        let err = check_inline_total(&existing, "c", &"z".repeat(49), USER_INLINE_MAX, "user", "u").unwrap_err();
        assert_eq!(err.message(), Some("Maximum policy size of 2048 bytes exceeded for user u"));
    }
}
