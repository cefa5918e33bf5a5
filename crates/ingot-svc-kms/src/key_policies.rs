//! Key policies: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies; the default key policy, the
//! grammar and principal checks every key policy passes, and the lockout safety check.

use crate::access::{authorize_key, KeyConditions};
use crate::errors::KmsError;
use crate::keys::{check_customer_managed, check_not_pending_deletion, find_key, save, Forms};
use crate::operations::{GetKeyPolicy, ListKeyPolicies, PutKeyPolicy};
use crate::types;
use crate::Kms;
use ingot_core::{CommonError, Handler, RequestContext, Scope};
use ingot_identity::principals::aws_principal_exists;
use ingot_policy::{evaluate, principal_facts, ContextKeys, Policy, PolicyKind, PolicySet, Request};

/// The only key policy a key has.
pub const POLICY_NAME: &str = "default";
/// Key policies are at most 32 KiB.
const KEY_POLICY_MAX_BYTES: usize = 32 * 1024;

/// The key policy of a key created without one: it gives the account's root user every
/// permission, which lets the account's IAM policies decide (`Enable IAM User Permissions`).
/// Written in AWS's own layout, which GetKeyPolicy returns as is.
pub fn default_key_policy(scope: &Scope) -> String {
    let root = scope.global_arn("iam", "root");
    format!(
        "{{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {{\n    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {{\n      \"AWS\" : \"{root}\"\n    }},\n    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  }} ]\n}}"
    )
}

/// Refuses a key policy that is not a valid resource policy, is too large, or names a user or
/// role that does not exist.
pub async fn validate_key_policy(ctx: &RequestContext<'_>, text: &str) -> Result<Policy, KmsError> {
    if text.len() > KEY_POLICY_MAX_BYTES {
        return Err(KmsError::limit_exceeded_exception(format!(
            "Policy exceeds the maximum key policy size of {KEY_POLICY_MAX_BYTES} bytes."
        )));
    }
    let policy = Policy::parse(text, PolicyKind::Resource)
        .map_err(|e| KmsError::malformed_policy_document_exception(e.to_string()))?;
    for principal in policy.named_aws_principals() {
        if !aws_principal_exists(&ctx.tx, &principal).await? {
            return Err(KmsError::malformed_policy_document_exception(
                "Policy contains a statement with one or more invalid principals.",
            ));
        }
    }
    Ok(policy)
}

/// The lockout safety check: the new policy must still let the caller change the key policy
/// (directly, or by naming its account, which leaves the decision to IAM).
pub fn check_lockout(ctx: &RequestContext<'_>, text: &str) -> Result<(), KmsError> {
    let policy = Policy::parse(text, PolicyKind::Resource)
        .map_err(|e| KmsError::malformed_policy_document_exception(e.to_string()))?;
    let facts = principal_facts(ctx.principal);
    let mut context = ContextKeys::new();
    context.set_one("kms:CallerAccount", ctx.account().as_str());
    context.set_one("aws:PrincipalArn", ctx.principal.identity_arn());
    context.set_one("aws:PrincipalAccount", ctx.account().as_str());
    let set = PolicySet {
        resource_policy: Some(&policy),
        resource_policy_is_required: true,
        // The caller's own IAM policies are not this check's question: only whether the policy
        // leaves the caller a way in.
        principal_is_root: true,
        same_account: true,
        ..PolicySet::default()
    };
    let resource = ctx.scope.arn("kms", "key/*");
    let request = Request { action: "kms:PutKeyPolicy", resource: &resource, principal: &facts, context: &context };
    if evaluate(&set, &request).allowed {
        Ok(())
    } else {
        Err(KmsError::malformed_policy_document_exception(
            "The new key policy will not allow you to update the key policy in the future.",
        ))
    }
}

fn check_policy_name(name: Option<&str>) -> Result<(), KmsError> {
    match name {
        None | Some(POLICY_NAME) => Ok(()),
        Some("AWS_RAM") => {
            Err(CommonError::validation("The AWS_RAM policy can only be managed by the RAM service").into())
        }
        Some(other) => Err(KmsError::not_found_exception(format!("No such policy exists: {other}"))),
    }
}

impl Handler<GetKeyPolicy> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GetKeyPolicyRequest,
    ) -> Result<types::GetKeyPolicyResponse, KmsError> {
        let found = find_key(ctx, "kms:GetKeyPolicy", &input.key_id, Forms::KeyOnly, false).await?;
        authorize_key::<GetKeyPolicy>(ctx, &found, KeyConditions::own_account()).await?;
        check_policy_name(input.policy_name.as_deref())?;
        Ok(types::GetKeyPolicyResponse { policy: Some(found.key.policy), policy_name: Some(POLICY_NAME.to_string()) })
    }
}

impl Handler<PutKeyPolicy> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::PutKeyPolicyRequest,
    ) -> Result<ingot_core::Empty, KmsError> {
        let bypass = input.bypass_policy_lockout_safety_check.unwrap_or(false);
        let found = find_key(ctx, "kms:PutKeyPolicy", &input.key_id, Forms::KeyOnly, false).await?;
        let conditions =
            KeyConditions::own_account().condition("kms:BypassPolicyLockoutSafetyCheck", [bypass.to_string()]);
        authorize_key::<PutKeyPolicy>(ctx, &found, conditions).await?;
        check_customer_managed(ctx, &found.key, "kms:PutKeyPolicy")?;
        check_policy_name(input.policy_name.as_deref())?;
        check_not_pending_deletion(&found.key)?;
        validate_key_policy(ctx, &input.policy).await?;
        if !bypass {
            check_lockout(ctx, &input.policy)?;
        }
        let mut key = found.key;
        key.policy = input.policy;
        save(ctx, &key)?;
        Ok(ingot_core::Empty {})
    }
}

impl Handler<ListKeyPolicies> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ListKeyPoliciesRequest,
    ) -> Result<types::ListKeyPoliciesResponse, KmsError> {
        let found = find_key(ctx, "kms:ListKeyPolicies", &input.key_id, Forms::KeyOnly, false).await?;
        authorize_key::<ListKeyPolicies>(ctx, &found, KeyConditions::own_account()).await?;
        // One policy, so the first page is the only one whatever the marker says.
        Ok(types::ListKeyPoliciesResponse {
            policy_names: Some(vec![POLICY_NAME.to_string()]),
            next_marker: None,
            truncated: Some(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_key_policy_delegates_to_the_accounts_iam_policies() {
        let scope = Scope::new(
            ingot_core::AccountId::parse("111122223333").unwrap(),
            ingot_core::Region::parse("us-east-1").unwrap(),
        );
        let text = default_key_policy(&scope);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["Id"], "key-default-1");
        assert_eq!(value["Statement"][0]["Sid"], "Enable IAM User Permissions");
        assert_eq!(value["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::111122223333:root");
        assert_eq!(value["Statement"][0]["Action"], "kms:*");
        assert!(Policy::parse(&text, PolicyKind::Resource).is_ok());
    }
}
