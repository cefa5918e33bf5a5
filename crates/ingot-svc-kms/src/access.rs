//! Authorization of operations on a key, as AWS decides them: the key policy is a required
//! resource policy (a statement naming the account delegates to IAM policies; without one no
//! identity policy is enough), a grant for the caller and operation allows by itself, and the
//! policies see the KMS condition keys of the request (`kms:CallerAccount`, `kms:ViaService`,
//! `kms:EncryptionContext:*`, `kms:KeySpec`, `kms:ResourceAliases`, …). Operations that AWS does
//! not serve across accounts are refused for another account's key whatever the policies say.

use crate::errors::KmsError;
use crate::keys::Found;
use ingot_core::{Access, Operation, Principal, PrincipalKind, RequestContext};
use ingot_keys::{KeyGrant, KeyRecord};
use std::collections::BTreeMap;

/// What an operation adds to the decision besides the key.
#[derive(Debug, Default, Clone)]
pub struct KeyConditions<'a> {
    /// The request's encryption context (`kms:EncryptionContext:KEY`, `kms:EncryptionContextKeys`,
    /// grant constraints).
    pub encryption_context: Option<&'a BTreeMap<String, String>>,
    /// Further condition keys of the operation (`kms:EncryptionAlgorithm`, `kms:GrantOperations`).
    pub extra: Vec<(std::borrow::Cow<'static, str>, Vec<String>)>,
    /// The operation works only on keys of the caller's account (administration).
    pub own_account_only: bool,
    /// For CreateGrant: a grant allows creating another only for operations it has itself.
    pub delegated_operations: Option<&'a [String]>,
}

impl<'a> KeyConditions<'a> {
    /// An administrative operation: only the key's own account can do it.
    pub fn own_account() -> Self {
        KeyConditions { own_account_only: true, ..Default::default() }
    }

    pub fn with_context(context: &'a BTreeMap<String, String>) -> Self {
        KeyConditions { encryption_context: Some(context), ..Default::default() }
    }

    pub fn condition(mut self, key: &'static str, values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.extra.push((key.into(), values.into_iter().map(Into::into).collect()));
        self
    }

    /// `aws:RequestTag/KEY` for a tag the request sets.
    pub fn extra_request_tag(mut self, key: &str, value: &str) -> Self {
        self.extra.push((format!("aws:RequestTag/{key}").into(), vec![value.to_string()]));
        self
    }
}

/// `kms:ViaService` for a call that `service` (`ssm.amazonaws.com`) makes: its regional endpoint
/// (`ssm.us-east-1.amazonaws.com`).
pub fn via_service_endpoint(ctx: &RequestContext<'_>, service: &str) -> String {
    let name = service.strip_suffix(".amazonaws.com").unwrap_or(service);
    let suffix = if ctx.scope.partition() == "aws-cn" { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("{name}.{}.{suffix}", ctx.region())
}

/// Authorizes the operation `Op` on the key.
pub async fn authorize_key<Op: Operation>(
    ctx: &RequestContext<'_>,
    found: &Found,
    conditions: KeyConditions<'_>,
) -> Result<(), KmsError> {
    authorize_key_action(ctx, found, Op::IAM_ACTION, conditions).await
}

/// Authorizes `action` (`kms:ReEncryptFrom`) on the key; the grant operation is the action's name.
pub async fn authorize_key_action(
    ctx: &RequestContext<'_>,
    found: &Found,
    action: &'static str,
    conditions: KeyConditions<'_>,
) -> Result<(), KmsError> {
    let key = &found.key;
    if conditions.own_account_only && key.account != ctx.account().as_str() {
        return Err(KmsError::Common(ingot_core::authz::denied(
            &ctx.principal.arn,
            action,
            &key.arn,
            &format!("because no resource-based policy allows the {action} action"),
        )));
    }
    let mut access = Access::resource(&key.arn)
        .with_required_resource_policy(&key.policy)
        .condition("kms:CallerAccount", [ctx.account().as_str()])
        .condition("kms:KeySpec", [key.key_spec.as_str()])
        .condition("kms:KeyUsage", [key.key_usage.as_str()])
        .condition("kms:KeyOrigin", ["AWS_KMS"])
        .condition("kms:MultiRegion", ["false"])
        .with_resource_tags(key.tags.iter().map(|t| (t.key.as_str(), t.value.as_str())));
    if !key.aliases.is_empty() {
        access = access.condition("kms:ResourceAliases", key.aliases.iter().cloned());
    }
    if let Some(alias) = &found.alias {
        access = access.condition("kms:RequestAlias", [alias.clone()]);
    }
    if let Some(via) = ctx.origin.via_service {
        access = access.condition("kms:ViaService", [via_service_endpoint(ctx, via)]);
    }
    if let Some(context) = conditions.encryption_context {
        for (k, v) in context {
            access = access.condition(format!("kms:EncryptionContext:{k}"), [v.clone()]);
        }
        if !context.is_empty() {
            access = access.condition("kms:EncryptionContextKeys", context.keys().cloned());
        }
    }
    for (name, values) in conditions.extra.iter() {
        access = access.condition(name.to_string(), values.iter().cloned());
    }
    let operation = action.strip_prefix("kms:").unwrap_or(action);
    let granted = key.grants.iter().any(|grant| {
        grant_allows(grant, ctx.principal, operation, conditions.encryption_context)
            && conditions.delegated_operations.is_none_or(|ops| ops.iter().all(|op| grant.operations.contains(op)))
    });
    if granted {
        access = access.with_grant();
    }
    ctx.authorize_dependent(action, access).await?;
    Ok(())
}

/// Operations that take an encryption context, to which grant constraints apply.
const CONTEXT_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
];

/// Whether the grant's operations may carry encryption-context constraints.
pub fn takes_encryption_context(operation: &str) -> bool {
    CONTEXT_OPERATIONS.contains(&operation) || operation == "CreateGrant"
}

/// Whether `grantee` (a grant's principal) is the caller: its session or user ARN, its role, or
/// the account root when the caller is root.
pub fn is_principal(grantee: &str, principal: &Principal) -> bool {
    grantee == principal.arn
        || grantee == principal.identity_arn()
        || (principal.kind == PrincipalKind::Root && grantee == root_arn(principal))
}

fn root_arn(principal: &Principal) -> String {
    let partition = ingot_core::Arn::parse(&principal.arn).map(|a| a.partition).unwrap_or_else(|_| "aws".into());
    format!("arn:{partition}:iam::{}:root", principal.account)
}

/// Whether `grant` allows `principal` the `operation` with this encryption context.
pub fn grant_allows(
    grant: &KeyGrant,
    principal: &Principal,
    operation: &str,
    context: Option<&BTreeMap<String, String>>,
) -> bool {
    if !is_principal(&grant.grantee_principal, principal) || !grant.operations.iter().any(|o| o == operation) {
        return false;
    }
    if !CONTEXT_OPERATIONS.contains(&operation) {
        // Constraints are about encryption context: they do not limit the other operations.
        return true;
    }
    let empty = BTreeMap::new();
    let context = context.unwrap_or(&empty);
    let lookup = |key: &str| context.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v);
    if let Some(equals) = &grant.encryption_context_equals {
        if equals.len() != context.len() || !equals.iter().all(|(k, v)| lookup(k) == Some(v)) {
            return false;
        }
    }
    if let Some(subset) = &grant.encryption_context_subset {
        if !subset.iter().all(|(k, v)| lookup(k) == Some(v)) {
            return false;
        }
    }
    true
}

/// Whether the key belongs to the caller's account.
pub fn is_own(ctx: &RequestContext<'_>, key: &KeyRecord) -> bool {
    key.account == ctx.account().as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingot_core::{AccountId, Timestamp};

    fn role_session() -> Principal {
        Principal {
            account: AccountId::parse("111122223333").unwrap(),
            arn: "arn:aws:sts::111122223333:assumed-role/app/s1".into(),
            user_id: "AROAEXAMPLE:s1".into(),
            kind: PrincipalKind::AssumedRole,
            session: Some(Box::new(ingot_core::identity::Session {
                identity_arn: "arn:aws:iam::111122223333:role/app".into(),
                role_id: Some("AROAEXAMPLE".into()),
                issued: Timestamp(0),
                expires: Timestamp(1),
                policies: vec![],
                policy_arns: vec![],
                tags: Default::default(),
                transitive_tag_keys: vec![],
                source_identity: None,
                chained: false,
            })),
        }
    }

    fn grant(ops: &[&str]) -> KeyGrant {
        KeyGrant {
            grant_id: "g".into(),
            name: None,
            creation_date: Timestamp(0),
            grantee_principal: "arn:aws:iam::111122223333:role/app".into(),
            retiring_principal: None,
            issuing_account: "arn:aws:iam::111122223333:root".into(),
            operations: ops.iter().map(|s| s.to_string()).collect(),
            encryption_context_subset: None,
            encryption_context_equals: None,
        }
    }

    fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_grant_to_a_role_covers_its_sessions_for_the_listed_operations_only() {
        let g = grant(&["Decrypt"]);
        assert!(grant_allows(&g, &role_session(), "Decrypt", None));
        assert!(!grant_allows(&g, &role_session(), "Encrypt", None));
        let mut other = g.clone();
        other.grantee_principal = "arn:aws:iam::111122223333:role/other".into();
        assert!(!grant_allows(&other, &role_session(), "Decrypt", None));
    }

    #[test]
    fn encryption_context_constraints_apply_to_operations_that_take_a_context() {
        let mut g = grant(&["Decrypt", "DescribeKey"]);
        g.encryption_context_subset = Some(ctx(&[("app", "web")]));
        assert!(grant_allows(&g, &role_session(), "Decrypt", Some(&ctx(&[("app", "web"), ("x", "y")]))));
        assert!(!grant_allows(&g, &role_session(), "Decrypt", Some(&ctx(&[("app", "db")]))));
        assert!(!grant_allows(&g, &role_session(), "Decrypt", None));
        assert!(grant_allows(&g, &role_session(), "DescribeKey", None));
        g.encryption_context_subset = None;
        g.encryption_context_equals = Some(ctx(&[("app", "web")]));
        assert!(grant_allows(&g, &role_session(), "Decrypt", Some(&ctx(&[("APP", "web")]))));
        assert!(!grant_allows(&g, &role_session(), "Decrypt", Some(&ctx(&[("app", "web"), ("x", "y")]))));
        assert!(!grant_allows(&g, &role_session(), "Decrypt", Some(&ctx(&[("app", "WEB")]))));
    }
}
