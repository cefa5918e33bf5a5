//! The authorizer that decides every call as AWS does: it gathers the policies that apply (the
//! caller's identity policies, permissions boundary and session policies, the SCPs on its
//! account's path, the resource's own policy), builds the request context (global condition
//! keys and the service's), and lets the engine decide in AWS's order. Denials carry AWS's text.
//!
//! Policies are read through the call's unit of work, so a policy change and a decision conflict
//! like any two writes; documents are compiled once per text and shared ([`PolicyCache`]).

use crate::engine::{evaluate, ContextKeys, Policy, PolicyKind, PolicySet, PrincipalFacts, Request};
use crate::gather::{self, EntityPolicies};
use crate::own_account;
use ingot_core::authz::denied;
use ingot_core::{Access, Arn, Authorizer, CommonError, Decision, Principal, PrincipalKind, RequestContext};
use ingot_identity::iam::{parse_entity_arn, role_of_session_arn};
use ingot_identity::organization::{
    account_path, policy_key, AccountPath, FULL_AWS_ACCESS_CONTENT, FULL_AWS_ACCESS_ID,
};
use ingot_identity::OrgPolicyRecord;
use ingot_store::{StoreError, Tx};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Decides with IAM's policy language and evaluation logic.
#[derive(Default)]
pub struct IamAuthorizer {
    cache: PolicyCache,
}

impl IamAuthorizer {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Authorizer for IamAuthorizer {
    fn authorize<'a>(
        &'a self,
        ctx: &'a RequestContext<'a>,
        action: &'static str,
        access: &'a Access<'a>,
    ) -> Decision<'a> {
        if ctx.principal.kind == PrincipalKind::Internal {
            // Ingot acting as an AWS service in an account: like the service, it may act on that
            // account's resources and public ones, and SCPs do not apply to it.
            return Decision::ready(own_account::decide(ctx.principal, action, access.resources));
        }
        Decision::pending(async move { self.decide(ctx, action, access).await.map_err(store_failure)? })
    }
}

fn store_failure(e: StoreError) -> CommonError {
    CommonError::internal(e)
}

/// The compiled policies of one call.
struct Gathered {
    identity: Vec<Arc<Policy>>,
    boundary: Option<Arc<Policy>>,
    session: Option<Vec<Arc<Policy>>>,
    scp_levels: Vec<Vec<Arc<Policy>>>,
    resource_policy: Option<Arc<Policy>>,
}

impl IamAuthorizer {
    async fn decide(
        &self,
        ctx: &RequestContext<'_>,
        action: &'static str,
        access: &Access<'_>,
    ) -> Result<Result<(), CommonError>, StoreError> {
        let principal = ctx.principal;
        let tx = &ctx.tx;
        let path = account_path(tx, &principal.account).await?;
        let entity = entity_policies(tx, principal).await?;
        let gathered = Gathered {
            identity: self.compile_all(entity.identity.iter().map(|d| d.document.as_str()), PolicyKind::Identity),
            boundary: entity.boundary.as_ref().and_then(|b| self.cache.get(&b.document, PolicyKind::Identity)),
            session: session_policies(&self.cache, tx, principal).await?,
            scp_levels: self.scp_levels(tx, principal, path.as_ref()).await?,
            resource_policy: access.resource_policy.and_then(|text| {
                let kind = if access.resource_policy_required && action.starts_with("sts:") {
                    PolicyKind::Trust
                } else {
                    PolicyKind::Resource
                };
                self.cache.get(text, kind)
            }),
        };
        let mut context = base_context(ctx, principal, path.as_ref(), &entity);
        for condition in &access.conditions {
            context.set(&condition.key, condition.values.clone());
        }
        let facts = principal_facts(principal);
        for resource in access.resources.iter() {
            let resource_account = resource_account(resource);
            if let Some(account) = resource_account {
                context.set_one("aws:ResourceAccount", account);
            }
            let set = PolicySet {
                scp_levels: gathered.scp_levels.iter().map(|level| level.iter().map(Arc::as_ref).collect()).collect(),
                resource_policy: gathered.resource_policy.as_deref(),
                resource_policy_is_required: access.resource_policy_required,
                identity: gathered.identity.iter().map(Arc::as_ref).collect(),
                boundary: gathered.boundary.as_deref(),
                session: gathered.session.as_ref().map(|s| s.iter().map(Arc::as_ref).collect()),
                principal_is_root: principal.kind == PrincipalKind::Root,
                same_account: resource_account.is_none_or(|a| a == principal.account.as_str()),
            };
            let evaluation = evaluate(&set, &Request { action, resource, principal: &facts, context: &context });
            if !evaluation.allowed {
                let because = match evaluation.denial {
                    // AssumeRole's denials name no policy type.
                    _ if action.eq_ignore_ascii_case("sts:AssumeRole") => String::new(),
                    Some(denial) => denial.because(action),
                    None => String::new(),
                };
                return Ok(Err(denial_error(principal, action, resource, &because)));
            }
        }
        Ok(Ok(()))
    }

    fn compile_all<'d>(&self, documents: impl Iterator<Item = &'d str>, kind: PolicyKind) -> Vec<Arc<Policy>> {
        documents.filter_map(|d| self.cache.get(d, kind)).collect()
    }

    /// The SCPs on each level of the principal's account path, root first; none when SCPs do
    /// not apply (no organization, SCPs disabled, the management account, service-linked roles).
    async fn scp_levels(
        &self,
        tx: &Tx,
        principal: &Principal,
        path: Option<&AccountPath>,
    ) -> Result<Vec<Vec<Arc<Policy>>>, StoreError> {
        let Some(path) = path else { return Ok(Vec::new()) };
        if !path.scps_enabled || path.is_management_account(&principal.account) || is_service_linked(principal) {
            return Ok(Vec::new());
        }
        let mut levels = Vec::with_capacity(path.policies_by_level.len());
        for ids in &path.policies_by_level {
            let mut level = Vec::with_capacity(ids.len());
            for id in ids {
                if id == FULL_AWS_ACCESS_ID {
                    level.extend(self.cache.get(FULL_AWS_ACCESS_CONTENT, PolicyKind::ServiceControl));
                    continue;
                }
                let key = policy_key(&path.organization_id, id);
                if let Some(record) = tx.get_record_cached::<OrgPolicyRecord>(key).await? {
                    level.extend(self.cache.get(&record.content, PolicyKind::ServiceControl));
                }
            }
            levels.push(level);
        }
        Ok(levels)
    }
}

fn denial_error(principal: &Principal, action: &str, resource: &str, because: &str) -> CommonError {
    if because.is_empty() {
        CommonError::access_denied(format!(
            "User: {} is not authorized to perform: {action} on resource: {resource}",
            principal.arn
        ))
    } else {
        denied(&principal.arn, action, resource, because)
    }
}

/// The account a resource ARN names; `None` for `*` and for public resources: an empty account
/// (AWS's public parameters) or `aws` (AWS managed policies), which every account may use.
fn resource_account(resource: &str) -> Option<&str> {
    Arn::account_of(resource).ok().filter(|a| !a.is_empty() && *a != "aws")
}

fn is_service_linked(principal: &Principal) -> bool {
    principal.kind == PrincipalKind::AssumedRole
        && principal.session.as_ref().is_some_and(|s| s.identity_arn.contains(":role/aws-service-role/"))
}

/// The identity policies of the user or role behind the principal (none for root).
async fn entity_policies(tx: &Tx, principal: &Principal) -> Result<EntityPolicies, StoreError> {
    let found = match principal.kind {
        PrincipalKind::User => match parse_entity_arn(&principal.arn) {
            Some(user) => gather::user_policies(tx, &principal.account, user.name).await?,
            None => None,
        },
        PrincipalKind::AssumedRole => match role_of_session_arn(&principal.arn) {
            Some((_, role)) => gather::role_policies(tx, &principal.account, role).await?,
            None => None,
        },
        PrincipalKind::Root | PrincipalKind::Internal => None,
    };
    // A user or role deleted while its credentials live holds no permission.
    Ok(found.unwrap_or_default())
}

/// A role session's session policies, when it was created with any.
async fn session_policies(
    cache: &PolicyCache,
    tx: &Tx,
    principal: &Principal,
) -> Result<Option<Vec<Arc<Policy>>>, StoreError> {
    let Some(session) = principal.session.as_deref() else { return Ok(None) };
    if session.policies.is_empty() && session.policy_arns.is_empty() {
        return Ok(None);
    }
    let mut policies: Vec<Arc<Policy>> =
        session.policies.iter().filter_map(|text| cache.get(text, PolicyKind::Session)).collect();
    for arn in &session.policy_arns {
        if let Some(managed) = gather::managed_policy(tx, arn).await? {
            policies.extend(cache.get(&managed.document, PolicyKind::Session));
        }
    }
    Ok(Some(policies))
}

fn principal_facts(principal: &Principal) -> PrincipalFacts {
    PrincipalFacts {
        account: principal.account.to_string(),
        arn: principal.arn.clone(),
        identity_arn: principal.identity_arn().to_string(),
        unique_id: match principal.kind {
            PrincipalKind::User => Some(principal.user_id.clone()),
            PrincipalKind::AssumedRole => principal.session.as_ref().and_then(|s| s.role_id.clone()),
            _ => None,
        },
        ..Default::default()
    }
}

/// The global condition keys AWS supplies with every request (aws-identity.md §1.9).
fn base_context(
    ctx: &RequestContext<'_>,
    principal: &Principal,
    path: Option<&AccountPath>,
    entity: &EntityPolicies,
) -> ContextKeys {
    let mut keys = ContextKeys::new();
    keys.set_one("aws:PrincipalAccount", principal.account.to_string());
    keys.set_one("aws:PrincipalArn", principal.identity_arn());
    keys.set_one("aws:userid", principal.user_id.clone());
    let principal_type = match principal.kind {
        PrincipalKind::Root => "Account",
        PrincipalKind::User => "User",
        PrincipalKind::AssumedRole => "AssumedRole",
        PrincipalKind::Internal => "AWSService",
    };
    keys.set_one("aws:PrincipalType", principal_type);
    if principal.kind == PrincipalKind::User {
        if let Some(user) = parse_entity_arn(&principal.arn) {
            keys.set_one("aws:username", user.name);
        }
    }
    if let Some(path) = path {
        keys.set_one("aws:PrincipalOrgID", path.organization_id.clone());
        keys.set("aws:PrincipalOrgPaths", vec![path.org_path()]);
    }
    for tag in &entity.tags {
        keys.set_one(&format!("aws:PrincipalTag/{}", tag.key), tag.value.clone());
    }
    if let Some(session) = principal.session.as_deref() {
        // Session tags override the role's tags of the same key.
        for (key, value) in &session.tags {
            keys.set_one(&format!("aws:PrincipalTag/{key}"), value.clone());
        }
        keys.set_one("aws:TokenIssueTime", session.issued.to_iso8601());
        keys.set_one("aws:MultiFactorAuthPresent", "false");
        if let Some(source_identity) = &session.source_identity {
            keys.set_one("aws:SourceIdentity", source_identity.clone());
        }
    }
    if !ctx.origin.source_ip.is_empty() {
        keys.set_one("aws:SourceIp", ctx.origin.source_ip);
    }
    keys.set_one("aws:CurrentTime", ctx.now.to_iso8601());
    keys.set_one("aws:EpochTime", ctx.now.seconds().to_string());
    // Ingot serves plain HTTP.
    keys.set_one("aws:SecureTransport", "false");
    keys.set_one("aws:RequestedRegion", ctx.scope.region.as_str());
    keys.set_one("aws:ViaAWSService", "false");
    keys.set_one("aws:PrincipalIsAWSService", "false");
    keys
}

/// Compiled policies by their text: a policy is parsed and compiled once per version, however
/// many calls it decides. Bounded: it starts over when full (policies are few; texts that were
/// in use are compiled again on their next call).
#[derive(Default)]
pub struct PolicyCache {
    compiled: RwLock<HashMap<(u64, PolicyKindKey), Vec<CompiledText>>>,
}

/// A policy text and its compiled form (texts with the same hash share a bucket).
type CompiledText = (Box<str>, Arc<Policy>);

/// [`PolicyKind`] as a hash key (the engine's enum need not be `Hash`).
type PolicyKindKey = u8;

const CACHE_MAX: usize = 4096;

fn kind_key(kind: PolicyKind) -> PolicyKindKey {
    match kind {
        PolicyKind::Identity => 0,
        PolicyKind::Session => 1,
        PolicyKind::Resource => 2,
        PolicyKind::Trust => 3,
        PolicyKind::ServiceControl => 4,
    }
}

impl PolicyCache {
    /// The compiled form of `text`; `None` when it does not parse (a stored policy that no longer
    /// parses grants and denies nothing).
    pub fn get(&self, text: &str, kind: PolicyKind) -> Option<Arc<Policy>> {
        let key = (ingot_store::hash::fnv1a(text.as_bytes()), kind_key(kind));
        {
            let compiled = self.compiled.read().unwrap_or_else(|p| p.into_inner());
            if let Some(found) = compiled.get(&key).and_then(|list| list.iter().find(|(t, _)| &**t == text)) {
                return Some(found.1.clone());
            }
        }
        let policy = Arc::new(Policy::parse(text, kind).ok()?);
        let mut compiled = self.compiled.write().unwrap_or_else(|p| p.into_inner());
        if compiled.len() >= CACHE_MAX {
            compiled.clear();
        }
        compiled.entry(key).or_default().push((text.into(), policy.clone()));
        Some(policy)
    }
}
