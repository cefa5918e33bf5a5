//! Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant, and grant
//! tokens.
//!
//! Grants live inside their key's record (`KeyRecord::grants`): deciding a cryptographic call
//! reads that one record. Grants take effect at once in Ingot (AWS's are eventually consistent,
//! which grant tokens bridge), so a token only has to be genuine: it is the grant's key ARN and
//! id sealed under the master key. A grant with a retiring principal is also indexed under that
//! principal's account for ListRetirableGrants (`store.rs`).

use crate::access::{authorize_key, authorize_key_action, is_principal, takes_encryption_context, KeyConditions};
use crate::errors::KmsError;
use crate::keys::{find_key, owner_scope, save, Forms, Found};
use crate::operations::{CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant};
use crate::pages::{limit, page_error};
use crate::types::{self, GrantConstraints, GrantListEntry};
use crate::Kms;
use base64::Engine;
use ingot_core::{Access, AccountId, CommonError, Handler, RequestContext, Scope};
use ingot_keys::{KeyFamily, KeyGrant, KeyRecord, KeyUsage};
use ingot_store::Tx;
use serde::{Deserialize, Serialize};

/// AWS's fixed quota of grants per key.
const MAX_GRANTS_PER_KEY: usize = 50_000;
/// Binds sealed grant tokens to their purpose.
const TOKEN_AAD: &[u8] = b"ingot:kms-grant-token";

/// Where a grant with a retiring principal is listed for that principal's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetirableGrantRecord {
    pub key_arn: String,
    pub grant_id: String,
    pub retiring_principal: String,
}

impl ingot_store::Record for RetirableGrantRecord {
    const KIND: &'static str = "kms.retirable-grant";
    const SCHEMA_VERSION: u32 = 1;
}

/// The account a principal ARN (or account id) belongs to.
fn account_of_principal(principal: &str) -> Option<AccountId> {
    AccountId::parse(principal).or_else(|| {
        let account = ingot_core::Arn::account_of(principal).ok()?;
        AccountId::parse(account)
    })
}

fn retirable_key(grant: &KeyGrant, key_scope: &Scope) -> Option<String> {
    let retiring = grant.retiring_principal.as_deref()?;
    let account = account_of_principal(retiring)?;
    let scope = Scope::new(account, key_scope.region.clone());
    Some([crate::store::retirable_grants_prefix(&scope), grant.grant_id.clone()].concat())
}

/// Removes a grant's entry from its retiring principal's listing.
pub fn forget_retirable(tx: &Tx, grant: &KeyGrant, key_scope: &Scope) {
    if let Some(key) = retirable_key(grant, key_scope) {
        tx.delete(&key);
    }
}

#[derive(Serialize, Deserialize)]
struct Token {
    k: String,
    g: String,
}

/// A new token for a grant (every call gets a fresh one; all of them are valid).
fn grant_token(ctx: &RequestContext<'_>, key_arn: &str, grant_id: &str) -> String {
    let token = Token { k: key_arn.to_string(), g: grant_id.to_string() };
    let plain = serde_json::to_vec(&token).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(ctx.secrets().seal(ctx.ids(), &plain, TOKEN_AAD))
}

/// The key ARN and grant id a token names; `None` for anything Ingot did not issue.
fn open_token(ctx: &RequestContext<'_>, token: &str) -> Option<(String, String)> {
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.trim().as_bytes()).ok()?;
    let plain = ctx.secrets().open(&sealed, TOKEN_AAD).ok()?;
    let token: Token = serde_json::from_slice(&plain).ok()?;
    Some((token.k, token.g))
}

fn invalid_token() -> KmsError {
    KmsError::invalid_grant_token_exception("Grant token is invalid.")
}

/// Refuses `GrantTokens` that Ingot did not issue.
pub fn check_tokens(ctx: &RequestContext<'_>, tokens: Option<&[String]>) -> Result<(), KmsError> {
    for token in tokens.unwrap_or_default() {
        if open_token(ctx, token).is_none() {
            return Err(invalid_token());
        }
    }
    Ok(())
}

/// The grant operations a key can be given, by its type.
fn grantable_operations(key: &KeyRecord) -> &'static [&'static str] {
    const COMMON: [&str; 3] = ["CreateGrant", "RetireGrant", "DescribeKey"];
    match (key.key_spec.family(), key.key_usage) {
        (KeyFamily::Symmetric, _) => &[
            "Decrypt",
            "Encrypt",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "ReEncryptFrom",
            "ReEncryptTo",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext",
            COMMON[0],
            COMMON[1],
            COMMON[2],
        ],
        (KeyFamily::Asymmetric(_), KeyUsage::EncryptDecrypt) => {
            &["Decrypt", "Encrypt", "ReEncryptFrom", "ReEncryptTo", "GetPublicKey", COMMON[0], COMMON[1], COMMON[2]]
        }
        (KeyFamily::Asymmetric(_), _) => &["Sign", "Verify", "GetPublicKey", COMMON[0], COMMON[1], COMMON[2]],
        (KeyFamily::Hmac(_), _) => &["GenerateMac", "VerifyMac", COMMON[0], COMMON[1], COMMON[2]],
    }
}

fn entry(key: &KeyRecord, grant: &KeyGrant) -> GrantListEntry {
    let constraints =
        (grant.encryption_context_equals.is_some() || grant.encryption_context_subset.is_some()).then(|| {
            GrantConstraints {
                encryption_context_subset: grant.encryption_context_subset.clone(),
                encryption_context_equals: grant.encryption_context_equals.clone(),
                source_arn: None,
            }
        });
    GrantListEntry {
        key_id: Some(key.arn.clone()),
        grant_id: Some(grant.grant_id.clone()),
        name: grant.name.clone(),
        creation_date: Some(grant.creation_date),
        grantee_principal: Some(grant.grantee_principal.clone()),
        retiring_principal: grant.retiring_principal.clone(),
        issuing_account: Some(grant.issuing_account.clone()),
        operations: Some(grant.operations.iter().map(|o| crate::keys::wire(o)).collect()),
        constraints,
        grantee_service_principal: None,
        retiring_service_principal: None,
    }
}

impl Handler<CreateGrant> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::CreateGrantRequest,
    ) -> Result<types::CreateGrantResponse, KmsError> {
        let operations: Vec<String> = input.operations.iter().map(|o| o.as_str().to_string()).collect();
        let (equals, subset) = match &input.constraints {
            Some(c) => (c.encryption_context_equals.clone(), c.encryption_context_subset.clone()),
            None => (None, None),
        };
        let grantee_given =
            u8::from(input.grantee_principal.is_some()) + u8::from(input.grantee_service_principal.is_some());
        let grantee = input.grantee_principal.or(input.grantee_service_principal).unwrap_or_default();
        let retiring = input.retiring_principal.or(input.retiring_service_principal);
        let found = find_key(ctx, "kms:CreateGrant", &input.key_id, Forms::KeyOnly, false).await?;
        check_tokens(ctx, input.grant_tokens.as_deref())?;
        let mut conditions = KeyConditions { delegated_operations: Some(&operations), ..KeyConditions::default() }
            .condition("kms:GrantOperations", operations.iter().cloned())
            .condition("kms:GrantIsForAWSResource", [ctx.origin.via_service.is_some().to_string()]);
        if !grantee.is_empty() {
            conditions = conditions.condition("kms:GranteePrincipal", [grantee.clone()]);
        }
        if let Some(retiring) = &retiring {
            conditions = conditions.condition("kms:RetiringPrincipal", [retiring.clone()]);
        }
        let constraint_types: Vec<&str> =
            [equals.as_ref().map(|_| "EncryptionContextEquals"), subset.as_ref().map(|_| "EncryptionContextSubset")]
                .into_iter()
                .flatten()
                .collect();
        if !constraint_types.is_empty() {
            conditions = conditions.condition("kms:GrantConstraintType", constraint_types);
        }
        authorize_key::<CreateGrant>(ctx, &found, conditions).await?;
        if grantee_given != 1 {
            return Err(CommonError::validation(
                "Exactly one of GranteePrincipal or GranteeServicePrincipal must be specified.",
            )
            .into());
        }
        if operations.iter().all(|o| o == "CreateGrant") {
            return Err(CommonError::validation("Grants must not contain only the CreateGrant operation.").into());
        }
        let mut key = found.key;
        crate::keys::check_usable(&key)?;
        let allowed = grantable_operations(&key);
        if let Some(bad) = operations.iter().find(|o| !allowed.contains(&o.as_str())) {
            return Err(CommonError::validation(format!(
                "Grant operation {bad} is not valid for a key with KeySpec {} and KeyUsage {}.",
                key.key_spec.as_str(),
                key.key_usage.as_str()
            ))
            .into());
        }
        if (equals.is_some() || subset.is_some())
            && !operations.iter().all(|o| takes_encryption_context(o) || o == "DescribeKey" || o == "RetireGrant")
        {
            return Err(CommonError::validation(
                "Encryption context constraints are allowed only for grants of operations that take an encryption context.",
            )
            .into());
        }
        crate::encryption::dry_run(input.dry_run)?;
        let issuing_account = ctx.scope.global_arn("iam", "root");
        let mut sorted_ops = operations.clone();
        sorted_ops.sort();
        let same = |g: &&KeyGrant| {
            let mut ops = g.operations.clone();
            ops.sort();
            g.name == input.name
                && g.grantee_principal == grantee
                && g.retiring_principal == retiring
                && ops == sorted_ops
                && g.encryption_context_equals == equals
                && g.encryption_context_subset == subset
        };
        // A named grant asked for again with the same parameters is the same grant.
        if input.name.is_some() {
            if let Some(existing) = key.grants.iter().find(same) {
                return Ok(types::CreateGrantResponse {
                    grant_token: Some(grant_token(ctx, &key.arn, &existing.grant_id)),
                    grant_id: Some(existing.grant_id.clone()),
                });
            }
        }
        if key.grants.len() >= MAX_GRANTS_PER_KEY {
            return Err(KmsError::limit_exceeded_exception(format!(
                "Grants per key limit of {MAX_GRANTS_PER_KEY} exceeded for {}",
                key.arn
            )));
        }
        let grant = KeyGrant {
            grant_id: hex_id(ctx),
            name: input.name,
            creation_date: ctx.now,
            grantee_principal: grantee,
            retiring_principal: retiring.clone(),
            issuing_account,
            operations,
            encryption_context_subset: subset,
            encryption_context_equals: equals,
        };
        let key_scope = owner_scope(&key)?;
        if let (Some(path), Some(retiring)) = (retirable_key(&grant, &key_scope), retiring) {
            let index = RetirableGrantRecord {
                key_arn: key.arn.clone(),
                grant_id: grant.grant_id.clone(),
                retiring_principal: retiring,
            };
            ctx.tx.put_record(&path, &index);
        }
        let response = types::CreateGrantResponse {
            grant_token: Some(grant_token(ctx, &key.arn, &grant.grant_id)),
            grant_id: Some(grant.grant_id.clone()),
        };
        key.grants.push(grant);
        save(ctx, &key)?;
        Ok(response)
    }
}

fn hex_id(ctx: &RequestContext<'_>) -> String {
    ctx.ids().bytes(32).iter().map(|b| format!("{b:02x}")).collect()
}

impl Handler<ListGrants> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ListGrantsRequest,
    ) -> Result<types::ListGrantsResponse, KmsError> {
        let found = find_key(ctx, "kms:ListGrants", &input.key_id, Forms::KeyOnly, false).await?;
        let conditions = KeyConditions::default()
            .condition("kms:GrantIsForAWSResource", [ctx.origin.via_service.is_some().to_string()]);
        authorize_key::<ListGrants>(ctx, &found, conditions).await?;
        let grantee = input.grantee_principal.or(input.grantee_service_principal);
        let key = &found.key;
        let items = key
            .grants
            .iter()
            .enumerate()
            .filter(|(_, g)| input.grant_id.as_ref().is_none_or(|id| *id == g.grant_id))
            .filter(|(_, g)| grantee.as_ref().is_none_or(|p| *p == g.grantee_principal))
            .map(|(i, g)| (format!("{i:08}"), entry(key, g)))
            .collect();
        let query = format!("ListGrants;{};{:?};{:?}", key.arn, input.grant_id, grantee);
        let page = ingot_core::page::page_of(items, &query, input.marker.as_deref(), limit(input.limit))
            .map_err(page_error)?;
        let truncated = page.is_truncated();
        Ok(types::ListGrantsResponse { grants: Some(page.items), next_marker: page.marker, truncated: Some(truncated) })
    }
}

impl Handler<ListRetirableGrants> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ListRetirableGrantsRequest,
    ) -> Result<types::ListGrantsResponse, KmsError> {
        ctx.authorize::<ListRetirableGrants>(Access::any_resource()).await?;
        let Some(retiring) = input.retiring_principal.or(input.retiring_service_principal) else {
            return Err(CommonError::validation("RetiringPrincipal must be specified.").into());
        };
        let query = format!("ListRetirableGrants;{retiring}");
        let page = ingot_core::page::scan_page::<RetirableGrantRecord>(
            &ctx.tx,
            &crate::store::retirable_grants_prefix(ctx.scope),
            &query,
            input.marker.as_deref(),
            limit(input.limit),
            |r| r.retiring_principal == retiring,
        )
        .await
        .map_err(page_error)?;
        let mut grants = Vec::new();
        for index in &page.items {
            let Some(found) = key_of_arn(ctx, &index.key_arn).await? else { continue };
            if let Some(grant) = found.grants.iter().find(|g| g.grant_id == index.grant_id) {
                grants.push(entry(&found, grant));
            }
        }
        let truncated = page.is_truncated();
        Ok(types::ListGrantsResponse { grants: Some(grants), next_marker: page.marker, truncated: Some(truncated) })
    }
}

/// The key of a key ARN (of any account), without authorization: for records that name it.
async fn key_of_arn(ctx: &RequestContext<'_>, arn: &str) -> Result<Option<KeyRecord>, KmsError> {
    Ok(ingot_keys::resolve_key(&ctx.tx, ctx.scope, arn).await?)
}

impl Handler<RetireGrant> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::RetireGrantRequest,
    ) -> Result<ingot_core::Empty, KmsError> {
        let (key_ref, grant_id) = match (input.grant_token, input.key_id, input.grant_id) {
            (Some(token), _, _) => open_token(ctx, &token).ok_or_else(invalid_token)?,
            (None, Some(key), Some(grant)) => (key, grant),
            _ => {
                // Nothing names a grant: only a caller who may retire grants learns that.
                ctx.authorize::<RetireGrant>(Access::any_resource()).await?;
                return Err(CommonError::validation("Grant token OR (grant ID, key ID) must be specified").into());
            }
        };
        let found = find_key(ctx, "kms:RetireGrant", &key_ref, Forms::KeyOnly, false).await?;
        let Some(grant) = found.key.grants.iter().find(|g| g.grant_id == grant_id).cloned() else {
            // Without the grant there is no retiring principal to allow the call: policies decide.
            authorize_key::<RetireGrant>(ctx, &found, KeyConditions::default()).await?;
            return Err(KmsError::not_found_exception(format!("Grant ID {grant_id} not found")));
        };
        let may_retire = grant.retiring_principal.as_deref().is_some_and(|p| is_principal(p, ctx.principal))
            || (is_principal(&grant.grantee_principal, ctx.principal)
                && grant.operations.iter().any(|o| o == "RetireGrant"))
            || grant.issuing_account == ctx.scope.global_arn("iam", "root")
                && ctx.principal.kind == ingot_core::PrincipalKind::Root;
        if may_retire {
            // The grant itself allows it; an explicit deny still refuses it.
            let access = Access::resource(&found.key.arn).with_grant();
            ctx.authorize::<RetireGrant>(access).await?;
        } else {
            authorize_key_action(ctx, &found, "kms:RetireGrant", KeyConditions::default()).await?;
        }
        crate::encryption::dry_run(input.dry_run)?;
        remove_grant(ctx, found, &grant)
    }
}

fn remove_grant<T: Default>(ctx: &RequestContext<'_>, found: Found, grant: &KeyGrant) -> Result<T, KmsError> {
    let mut key = found.key;
    let scope = owner_scope(&key)?;
    key.grants.retain(|g| g.grant_id != grant.grant_id);
    forget_retirable(&ctx.tx, grant, &scope);
    save(ctx, &key)?;
    Ok(T::default())
}

impl Handler<RevokeGrant> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::RevokeGrantRequest,
    ) -> Result<ingot_core::Empty, KmsError> {
        let found = find_key(ctx, "kms:RevokeGrant", &input.key_id, Forms::KeyOnly, false).await?;
        let conditions = KeyConditions::default()
            .condition("kms:GrantIsForAWSResource", [ctx.origin.via_service.is_some().to_string()]);
        authorize_key::<RevokeGrant>(ctx, &found, conditions).await?;
        let Some(grant) = found.key.grants.iter().find(|g| g.grant_id == input.grant_id).cloned() else {
            return Err(KmsError::not_found_exception(format!("Grant ID {} not found", input.grant_id)));
        };
        crate::encryption::dry_run(input.dry_run)?;
        remove_grant(ctx, found, &grant)
    }
}
