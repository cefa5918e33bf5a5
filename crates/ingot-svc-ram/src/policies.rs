//! Shares as resource policies: each share compiles, for each resource it holds, into statements
//! that allow its principals its permission's actions on that resource, kept with the resource
//! (`ingot_identity::resource_policies`) for the resource's service to hand to the policy engine.
//! Also GetResourcePolicies, and the shares made by a service's PutResourcePolicy, which RAM lists
//! as `CREATED_FROM_POLICY` until PromoteResourceShareCreatedFromPolicy makes them standard.

use crate::errors::RamError;
use crate::operations::{GetResourcePolicies, PromoteResourceShareCreatedFromPolicy};
use crate::pages::page;
use crate::permissions::{attachment, permission_for, MANAGED_PERMISSIONS};
use crate::principals::{self, statement_principal};
use crate::resources::parse_resource;
use crate::shares::{find_own_share, parse_share_arn, save_and_compile};
use crate::store::{Association, ShareRecord};
use crate::types;
use crate::Ram;
use ingot_core::{Access, AccountId, Handler, RequestContext, Scope};
use ingot_identity::resource_policies::{
    resource_policies_key, resource_policies_prefix, AttachedPolicy, PolicyOrigin, ResourcePoliciesRecord,
};
use ingot_store::Tx;
use serde_json::{json, Value};

/// The policy `share` gives `resource`: one statement per associated principal, allowing the
/// actions of the share's permission for the resource's type. `None` when the share gives nothing.
fn share_policy(share: &ShareRecord, resource: &Association, partition: &str) -> Option<String> {
    if share.status != "ACTIVE" || resource.status != "ASSOCIATED" {
        return None;
    }
    let permission = permission_for(&share.permissions, resource.resource_type.as_deref()?)?;
    let statements: Vec<Value> = share
        .principals
        .iter()
        .filter(|p| p.status == "ASSOCIATED")
        .filter_map(|p| principals::parse_principal(&p.entity).ok())
        .map(|principal| {
            let (who, condition) = statement_principal(&principal, partition);
            let mut statement = json!({
                "Effect": "Allow",
                "Principal": who,
                "Action": permission.actions,
                "Resource": resource.entity,
            });
            if let Some(condition) = condition {
                statement["Condition"] = condition;
            }
            statement
        })
        .collect();
    if statements.is_empty() {
        return None;
    }
    Some(json!({ "Version": "2012-10-17", "Statement": statements }).to_string())
}

/// Rewrites the statements `share` keeps with each of its resources.
pub async fn compile(tx: &Tx, owner: &Scope, share: &ShareRecord) -> Result<(), RamError> {
    let origin = PolicyOrigin::ResourceShare { share_arn: share.arn.clone() };
    for resource in &share.resources {
        let key = resource_policies_key(owner, &resource.entity);
        let stored = tx.get_record::<ResourcePoliciesRecord>(&key).await?;
        let mut record = stored
            .clone()
            .unwrap_or_else(|| ResourcePoliciesRecord { resource_arn: resource.entity.clone(), policies: Vec::new() });
        let attached = share_policy(share, resource, owner.partition()).map(|document| AttachedPolicy {
            policy_id: share.id.clone(),
            policy_hash: ingot_core::crypto::sha256_hex(document.as_bytes()),
            origin: origin.clone(),
            document,
        });
        record.set(&origin, attached);
        if stored.as_ref() == Some(&record) {
            continue;
        }
        if record.policies.is_empty() {
            tx.delete(&key);
        } else {
            tx.put_record(&key, &record);
        }
    }
    Ok(())
}

/// The shares of the caller's account made by a service's PutResourcePolicy and not promoted
/// yet, as RAM shows them.
pub async fn shares_created_from_policies(ctx: &RequestContext<'_>) -> Result<Vec<ShareRecord>, RamError> {
    let records =
        ctx.tx.scan_records::<ResourcePoliciesRecord>(&resource_policies_prefix(ctx.scope), None, usize::MAX).await?;
    let mut shares = Vec::new();
    for (_, record) in records {
        for policy in &record.policies {
            let PolicyOrigin::ServicePolicy { share_arn } = &policy.origin else { continue };
            shares.push(share_from_policy(ctx, share_arn, &record.resource_arn, policy));
        }
    }
    Ok(shares)
}

/// The accounts a service policy names as principals.
fn policy_accounts(document: &str) -> Vec<AccountId> {
    let Ok(policy) = ingot_policy::Policy::parse(document, ingot_policy::PolicyKind::Resource) else {
        return Vec::new();
    };
    let mut accounts = Vec::new();
    for principal in policy.named_aws_principals() {
        let account = AccountId::parse(&principal)
            .or_else(|| ingot_core::Arn::account_of(&principal).ok().and_then(AccountId::parse));
        if let Some(account) = account.filter(|a| !accounts.contains(a)) {
            accounts.push(account);
        }
    }
    accounts
}

fn share_from_policy(
    ctx: &RequestContext<'_>,
    share_arn: &str,
    resource_arn: &str,
    policy: &AttachedPolicy,
) -> ShareRecord {
    let association = |entity: String, resource_type: Option<String>| Association {
        entity,
        status: "ASSOCIATED".to_string(),
        status_message: None,
        external: false,
        resource_type,
        created: ctx.now,
        updated: ctx.now,
    };
    ShareRecord {
        arn: share_arn.to_string(),
        id: share_arn.rsplit('/').next().unwrap_or_default().to_string(),
        name: format!("Created from policy {}", policy.policy_id),
        owner: ctx.account().clone(),
        allow_external_principals: true,
        status: "ACTIVE".to_string(),
        feature_set: "CREATED_FROM_POLICY".to_string(),
        created: ctx.now,
        updated: ctx.now,
        tags: Vec::new(),
        resources: vec![association(resource_arn.to_string(), Some("ssm:Parameter".to_string()))],
        principals: policy_accounts(&policy.document).into_iter().map(|a| association(a.to_string(), None)).collect(),
        permissions: Vec::new(),
        client_tokens: Vec::new(),
    }
}

impl Handler<GetResourcePolicies> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GetResourcePoliciesRequest,
    ) -> Result<types::GetResourcePoliciesResponse, RamError> {
        ctx.authorize::<GetResourcePolicies>(Access::any_resource()).await?;
        let mut items = Vec::new();
        for arn in &input.resource_arns {
            let resource = parse_resource(ctx, arn)?;
            if resource.owner.as_ref() != Some(ctx.account()) {
                return Err(RamError::resource_arn_not_found_exception(format!(
                    "The specified resource ARN {arn} was not found."
                )));
            }
            let record = ctx.tx.get_record::<ResourcePoliciesRecord>(&resource_policies_key(ctx.scope, arn)).await?;
            for policy in record.iter().flat_map(|r| r.policies.iter()) {
                if let Some(principal) = &input.principal {
                    if !policy.document.contains(principal.as_str()) {
                        continue;
                    }
                }
                items.push((format!("{arn}#{}", policy.policy_id), policy.document.clone()));
            }
        }
        let query = format!("GetResourcePolicies;{:?};{:?}", input.resource_arns, input.principal);
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::GetResourcePoliciesResponse { policies: Some(page.items), next_token: page.marker })
    }
}

impl Handler<PromoteResourceShareCreatedFromPolicy> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::PromoteResourceShareCreatedFromPolicyRequest,
    ) -> Result<types::PromoteResourceShareCreatedFromPolicyResponse, RamError> {
        let arn = &input.resource_share_arn;
        let (owner, _) = parse_share_arn(ctx, arn)?;
        let from_policy = if owner == *ctx.scope {
            shares_created_from_policies(ctx).await?.into_iter().find(|s| s.arn == *arn)
        } else {
            None
        };
        let Some(mut share) = from_policy else {
            // A standard share of the caller's cannot be promoted; anything else is unknown.
            let existing = find_own_share(ctx, "ram:PromoteResourceShareCreatedFromPolicy", arn).await?;
            ctx.authorize::<PromoteResourceShareCreatedFromPolicy>(Access::resource(&existing.arn)).await?;
            return Err(RamError::operation_not_permitted_exception(format!(
                "The resource share {arn} was not created from a policy and cannot be promoted."
            )));
        };
        ctx.authorize::<PromoteResourceShareCreatedFromPolicy>(Access::resource(arn)).await?;
        let resource_arn = share.resources[0].entity.clone();
        let key = resource_policies_key(ctx.scope, &resource_arn);
        let Some(mut record) = ctx.tx.get_record::<ResourcePoliciesRecord>(&key).await? else {
            return Err(RamError::unknown_resource_exception(format!("ResourceShare {arn} could not be found.")));
        };
        let origin = PolicyOrigin::ServicePolicy { share_arn: arn.clone() };
        let Some(policy) = record.policies.iter().find(|p| p.origin == origin).cloned() else {
            return Err(RamError::unknown_resource_exception(format!("ResourceShare {arn} could not be found.")));
        };
        let actions = policy_actions(&policy.document);
        let Some(permission) = MANAGED_PERMISSIONS.iter().find(|p| {
            p.resource_type == "ssm:Parameter"
                && actions.iter().all(|a| p.actions.iter().any(|pa| pa.eq_ignore_ascii_case(a)))
        }) else {
            return Err(RamError::unmatched_policy_permission_exception(
                "There is no AWS managed permission that matches the actions of the resource policy.",
            ));
        };
        let owner_org = principals::owner_organization(&ctx.tx, ctx.account()).await?;
        for principal in &mut share.principals {
            if let Ok(parsed) = principals::parse_principal(&principal.entity) {
                principal.external = principals::is_external(&ctx.tx, &parsed, owner_org.as_ref()).await?;
            }
        }
        share.feature_set = "STANDARD".to_string();
        share.name = format!("Promoted from policy {}", policy.policy_id);
        share.permissions = vec![attachment(ctx, permission)];
        record.set(&origin, None);
        if record.policies.is_empty() {
            ctx.tx.delete(&key);
        } else {
            ctx.tx.put_record(&key, &record);
        }
        save_and_compile(ctx, &share).await?;
        Ok(types::PromoteResourceShareCreatedFromPolicyResponse { return_value: Some(true) })
    }
}

/// The actions a policy document allows.
fn policy_actions(document: &str) -> Vec<String> {
    let Ok(value) = serde_json::from_str::<Value>(document) else { return Vec::new() };
    let statements = match &value["Statement"] {
        Value::Array(list) => list.clone(),
        one @ Value::Object(_) => vec![one.clone()],
        _ => Vec::new(),
    };
    let mut actions = Vec::new();
    for statement in statements {
        match &statement["Action"] {
            Value::String(a) => actions.push(a.clone()),
            Value::Array(list) => actions.extend(list.iter().filter_map(|a| a.as_str().map(str::to_string))),
            _ => {}
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingot_core::Timestamp;

    fn association(entity: &str, status: &str, resource_type: Option<&str>) -> Association {
        Association {
            entity: entity.into(),
            status: status.into(),
            status_message: None,
            external: false,
            resource_type: resource_type.map(str::to_string),
            created: Timestamp(0),
            updated: Timestamp(0),
        }
    }

    #[test]
    fn a_share_compiles_into_one_statement_per_associated_principal() {
        let parameter = "arn:aws:ssm:us-east-1:111122223333:parameter/golden/ami";
        let share = ShareRecord {
            arn: "arn:aws:ram:us-east-1:111122223333:resource-share/s".into(),
            id: "s".into(),
            name: "n".into(),
            owner: AccountId::parse("111122223333").unwrap(),
            allow_external_principals: false,
            status: "ACTIVE".into(),
            feature_set: "STANDARD".into(),
            created: Timestamp(0),
            updated: Timestamp(0),
            tags: vec![],
            resources: vec![association(parameter, "ASSOCIATED", Some("ssm:Parameter"))],
            principals: vec![
                association("arn:aws:organizations::111122223333:organization/o-abc123", "ASSOCIATED", None),
                association("444455556666", "ASSOCIATING", None),
            ],
            permissions: vec![],
            client_tokens: vec![],
        };
        let document: Value = serde_json::from_str(&share_policy(&share, &share.resources[0], "aws").unwrap()).unwrap();
        let statements = document["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(statements[0]["Principal"], "*");
        assert_eq!(statements[0]["Condition"]["StringEquals"]["aws:PrincipalOrgID"], "o-abc123");
        assert_eq!(statements[0]["Resource"], parameter);
        assert_eq!(statements[0]["Action"], json!(["ssm:DescribeParameters", "ssm:GetParameter", "ssm:GetParameters"]));
        assert!(ingot_policy::Policy::parse(&document.to_string(), ingot_policy::PolicyKind::Resource).is_ok());
        let deleted = ShareRecord { status: "DELETED".into(), ..share.clone() };
        assert_eq!(share_policy(&deleted, &share.resources[0], "aws"), None);
    }
}
