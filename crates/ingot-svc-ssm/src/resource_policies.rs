//! Resource policies on parameters: PutResourcePolicy, GetResourcePolicies, DeleteResourcePolicy.
//!
//! A policy put here shares the parameter as a RAM share does: it is kept with the parameter's
//! other attached policies (`ingot_identity::resource_policies`, beside the statements of RAM's
//! shares), which the access check hands to the policy engine when another account reads the
//! parameter, and RAM lists it as a share created from a policy (featureSet `CREATED_FROM_POLICY`)
//! until it is promoted. Only Advanced-tier parameters can be shared.

use crate::access;
use crate::errors::SsmError;
use crate::names::{Owner, ParameterReference};
use crate::operations::{DeleteResourcePolicy, GetResourcePolicies, PutResourcePolicy};
use crate::store;
use crate::types::{self, ParameterTier};
use crate::Ssm;
use ingot_core::{Handler, RequestContext};
use ingot_identity::resource_policies::{resource_policies_key, AttachedPolicy, PolicyOrigin, ResourcePoliciesRecord};
use ingot_policy::{Policy, PolicyKind};

/// The largest policy document, in bytes.
const POLICY_MAX_BYTES: usize = 1024;

fn hash_of(document: &str) -> String {
    ingot_core::crypto::sha256_hex(document.as_bytes())
}

fn invalid(names: &[&str], message: impl Into<String>) -> SsmError {
    SsmError::ResourcePolicyInvalidParameterException(types::ResourcePolicyInvalidParameterException {
        parameter_names: Some(names.iter().map(|n| n.to_string()).collect()),
        message: Some(message.into()),
    })
}

/// The caller's own Advanced-tier parameter a resource ARN names, with its canonical name.
async fn own_parameter(ctx: &RequestContext<'_>, arn: &str) -> Result<String, SsmError> {
    let not_found =
        || SsmError::resource_not_found_exception(format!("The specified parameter {arn} could not be found."));
    let reference = ParameterReference::parse(arn, ctx.scope, false)
        .map_err(|_| invalid(&["ResourceArn"], "The resource ARN is not valid."))?;
    if !reference.by_arn || !matches!(reference.owner, Owner::Account(_)) || !reference.is_own(ctx) {
        return Err(not_found());
    }
    let canonical = reference.name.canonical.clone();
    let record = store::load(ctx, &canonical).await?.ok_or_else(not_found)?;
    if record.tier != ParameterTier::Advanced {
        return Err(invalid(&["ResourceArn"], "Only parameters in the Advanced tier can be shared."));
    }
    Ok(canonical)
}

async fn load_policies(ctx: &RequestContext<'_>, arn: &str) -> Result<ResourcePoliciesRecord, SsmError> {
    let stored = ctx.tx.get_record::<ResourcePoliciesRecord>(&resource_policies_key(ctx.scope, arn)).await?;
    Ok(stored.unwrap_or_else(|| ResourcePoliciesRecord { resource_arn: arn.to_string(), policies: Vec::new() }))
}

fn save_policies(ctx: &RequestContext<'_>, record: &ResourcePoliciesRecord) {
    let key = resource_policies_key(ctx.scope, &record.resource_arn);
    if record.policies.is_empty() {
        ctx.tx.delete(&key);
    } else {
        ctx.tx.put_record(&key, record);
    }
}

impl Handler<PutResourcePolicy> for Ssm {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::PutResourcePolicyRequest,
    ) -> Result<types::PutResourcePolicyResponse, SsmError> {
        let arn = input.resource_arn;
        let own =
            ParameterReference::parse(&arn, ctx.scope, false).ok().filter(|r| r.is_own(ctx)).map(|r| r.name.canonical);
        access::authorize::<PutResourcePolicy>(ctx, &arn, own.as_deref()).await?;
        own_parameter(ctx, &arn).await?;
        if input.policy.len() > POLICY_MAX_BYTES {
            return Err(SsmError::ResourcePolicyLimitExceededException(types::ResourcePolicyLimitExceededException {
                limit: Some(POLICY_MAX_BYTES as i32),
                limit_type: Some("PolicySize".to_string()),
                message: Some(format!("The policy exceeds the maximum size of {POLICY_MAX_BYTES} bytes.")),
            }));
        }
        Policy::parse(&input.policy, PolicyKind::Resource)
            .map_err(|e| SsmError::malformed_resource_policy_document_exception(e.to_string()))?;
        let mut record = load_policies(ctx, &arn).await?;
        let (policy_id, share_arn) = match (&input.policy_id, &input.policy_hash) {
            (Some(id), hash) => {
                let Some(existing) = record.policies.iter().find(|p| p.policy_id == *id) else {
                    return Err(SsmError::resource_policy_not_found_exception(format!(
                        "No policy with the policy ID {id} was found for the resource."
                    )));
                };
                if hash.as_deref() != Some(existing.policy_hash.as_str()) {
                    return Err(SsmError::resource_policy_conflict_exception(
                        "The policy hash doesn't match the hash of the current policy. Get the current policy and try again.",
                    ));
                }
                let PolicyOrigin::ServicePolicy { share_arn } = &existing.origin else {
                    return Err(invalid(
                        &["PolicyId"],
                        "The policy was attached by AWS RAM and can be changed only there.",
                    ));
                };
                (id.clone(), share_arn.clone())
            }
            (None, Some(_)) => return Err(invalid(&["PolicyId"], "A policy hash requires a policy ID.")),
            (None, None) => (ctx.ids().uuid(), ctx.scope.arn("ram", &["resource-share/", &ctx.ids().uuid()].concat())),
        };
        let origin = PolicyOrigin::ServicePolicy { share_arn };
        let policy_hash = hash_of(&input.policy);
        record.set(
            &origin,
            Some(AttachedPolicy {
                policy_id: policy_id.clone(),
                policy_hash: policy_hash.clone(),
                origin: origin.clone(),
                document: input.policy,
            }),
        );
        save_policies(ctx, &record);
        Ok(types::PutResourcePolicyResponse { policy_id: Some(policy_id), policy_hash: Some(policy_hash) })
    }
}

impl Handler<GetResourcePolicies> for Ssm {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GetResourcePoliciesRequest,
    ) -> Result<types::GetResourcePoliciesResponse, SsmError> {
        let arn = input.resource_arn;
        let own =
            ParameterReference::parse(&arn, ctx.scope, false).ok().filter(|r| r.is_own(ctx)).map(|r| r.name.canonical);
        access::authorize::<GetResourcePolicies>(ctx, &arn, own.as_deref()).await?;
        let exists = match &own {
            Some(canonical) => store::load(ctx, canonical).await?.is_some(),
            None => false,
        };
        if !exists {
            return Err(SsmError::resource_not_found_exception(format!(
                "The specified parameter {arn} could not be found."
            )));
        }
        let record = load_policies(ctx, &arn).await?;
        // Few policies per parameter: one page holds them all.
        let policies = record
            .policies
            .into_iter()
            .map(|p| types::GetResourcePoliciesResponseEntry {
                policy_id: Some(p.policy_id),
                policy_hash: Some(p.policy_hash),
                policy: Some(p.document),
            })
            .collect();
        Ok(types::GetResourcePoliciesResponse { next_token: None, policies: Some(policies) })
    }
}

impl Handler<DeleteResourcePolicy> for Ssm {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DeleteResourcePolicyRequest,
    ) -> Result<types::DeleteResourcePolicyResponse, SsmError> {
        let arn = input.resource_arn;
        let own =
            ParameterReference::parse(&arn, ctx.scope, false).ok().filter(|r| r.is_own(ctx)).map(|r| r.name.canonical);
        access::authorize::<DeleteResourcePolicy>(ctx, &arn, own.as_deref()).await?;
        if own.is_none() {
            return Err(SsmError::resource_not_found_exception(format!(
                "The specified parameter {arn} could not be found."
            )));
        }
        let mut record = load_policies(ctx, &arn).await?;
        let Some(existing) = record.policies.iter().find(|p| p.policy_id == input.policy_id).cloned() else {
            return Err(SsmError::resource_policy_not_found_exception(
                "No policies with the specified policy ID and hash could be found.",
            ));
        };
        if existing.policy_hash != input.policy_hash {
            return Err(SsmError::resource_policy_conflict_exception(
                "The policy hash doesn't match the hash of the current policy. Get the current policy and try again.",
            ));
        }
        if !matches!(existing.origin, PolicyOrigin::ServicePolicy { .. }) {
            return Err(invalid(&["PolicyId"], "The policy was attached by AWS RAM and can be removed only there."));
        }
        record.set(&existing.origin, None);
        save_policies(ctx, &record);
        Ok(types::DeleteResourcePolicyResponse {})
    }
}
