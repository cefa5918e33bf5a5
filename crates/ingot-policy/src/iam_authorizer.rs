//! The authorizer that decides every call as AWS does: it gathers the policies that apply (the
//! caller's identity policies, permissions boundary and session policies, the SCPs on its
//! account's path, the resource's own policy), builds the request context (global condition
//! keys and the service's), and lets the engine decide in AWS's order. Denials carry AWS's text.
//!
//! What a principal's decisions share (its compiled policies, the SCPs on its path, the context
//! keys that describe it) is gathered once into a [`Snapshot`] kept per access key, and used again
//! while nothing it was gathered from has changed: at once while the store reports no change at
//! all, and after changes to other keys once the store's read cache shows each record it read at
//! the version it read. Every record a snapshot was gathered
//! from joins the read set of each call it decides, so a policy change and a decision conflict
//! like any two writes. Documents are compiled once per text and shared ([`PolicyCache`]).

use crate::engine::{evaluate, ContextKeys, Policy, PolicyKind, PolicySet, PrincipalFacts, Request};
use crate::gather::{self, EntityPolicies};
use crate::own_account;
use ingot_core::authz::denied;
use ingot_core::{Access, AccountId, Arn, Authorizer, CommonError, Decision, Principal, PrincipalKind, RequestContext};
use ingot_identity::iam::{parse_entity_arn, role_of_session_arn};
use ingot_identity::organization::{account_path, AccountPath};
use ingot_store::{StoreError, Tx};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Decides with IAM's policy language and evaluation logic.
#[derive(Default)]
pub struct IamAuthorizer {
    cache: PolicyCache,
    snapshots: RwLock<HashMap<String, Arc<Snapshot>>>,
}

/// Everything the decisions of one principal share, as gathered at one moment.
struct Snapshot {
    /// The store's change count when gathering began, or a later one at which every read was
    /// found still current: while it has not moved, nothing the snapshot read can have changed.
    changes_at: AtomicU64,
    /// The principal it was gathered for (an access key always speaks for the same one).
    principal_arn: String,
    /// Every key read while gathering, with the version seen.
    reads: ingot_store::SharedReads,
    gathered: Gathered,
    /// The context keys that describe the principal (`aws:PrincipalArn`, `aws:PrincipalTag/*`,
    /// `aws:PrincipalOrgID`, …); each request adds its own over them.
    context: Arc<ContextKeys>,
    facts: PrincipalFacts,
    /// The principal's account's place in its organization.
    path: Option<AccountPath>,
    /// Every condition key (and policy variable) the gathered policies name, lower-cased: a
    /// request key no policy names cannot change a decision and is not built.
    referenced: HashSet<String>,
}

impl Snapshot {
    fn references(&self, lowered: &str, resource_policy: Option<&Policy>) -> bool {
        self.referenced.contains(lowered) || resource_policy.is_some_and(|p| p.references(lowered))
    }
}

/// Snapshots kept at most; the map starts over when full.
const SNAPSHOTS_MAX: usize = 10_000;

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
}

impl IamAuthorizer {
    async fn decide(
        &self,
        ctx: &RequestContext<'_>,
        action: &'static str,
        access: &Access<'_>,
    ) -> Result<Result<(), CommonError>, StoreError> {
        let principal = ctx.principal;
        let snapshot = self.snapshot(ctx).await?;
        ctx.tx.remember_reads(snapshot.reads.clone());
        let gathered = &snapshot.gathered;
        let resource_policy = access.resource_policy.and_then(|text| {
            let kind = if access.resource_policy_required && action.starts_with("sts:") {
                PolicyKind::Trust
            } else {
                PolicyKind::Resource
            };
            self.cache.get(text, kind)
        });
        let wanted = |key: &str| snapshot.references(key, resource_policy.as_deref());
        let mut context = request_context(ctx, snapshot.context.clone(), &wanted);
        for condition in &access.conditions {
            if wanted(&condition.key.to_ascii_lowercase()) {
                context.set(&condition.key, condition.values.clone());
            }
        }
        let facts = &snapshot.facts;
        if let Some(refused) = session_token_limits(principal, action) {
            return Ok(Err(refused));
        }
        for resource in access.resources.iter() {
            let resource_account = resource_account(resource);
            if wanted("aws:resourceaccount") || wanted("aws:resourceorgid") || wanted("aws:resourceorgpaths") {
                self.set_resource_keys(ctx, &mut context, resource_account, &snapshot).await?;
            }
            let set = PolicySet {
                scp_levels: gathered.scp_levels.iter().map(|level| level.iter().map(Arc::as_ref).collect()).collect(),
                resource_policy: resource_policy.as_deref(),
                resource_policy_is_required: access.resource_policy_required,
                identity: gathered.identity.iter().map(Arc::as_ref).collect(),
                boundary: gathered.boundary.as_deref(),
                session: gathered.session.as_ref().map(|s| s.iter().map(Arc::as_ref).collect()),
                principal_is_root: principal.kind == PrincipalKind::Root,
                same_account: resource_account.is_none_or(|a| a == principal.account.as_str()),
                granted: access.granted,
            };
            let evaluation = evaluate(&set, &Request { action, resource, principal: facts, context: &context });
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

    /// `aws:ResourceAccount`, `aws:ResourceOrgID` and `aws:ResourceOrgPaths` of one resource
    /// (none for `*` and public resources).
    async fn set_resource_keys(
        &self,
        ctx: &RequestContext<'_>,
        context: &mut ContextKeys,
        resource_account: Option<&str>,
        snapshot: &Snapshot,
    ) -> Result<(), StoreError> {
        let Some(account) = resource_account else {
            for key in ["aws:ResourceAccount", "aws:ResourceOrgID", "aws:ResourceOrgPaths"] {
                context.remove(key);
            }
            return Ok(());
        };
        context.set_one("aws:ResourceAccount", account);
        let path = if account == ctx.principal.account.as_str() {
            snapshot.path.clone()
        } else {
            match AccountId::parse(account) {
                Some(id) => account_path(&ctx.tx, &id).await?,
                None => None,
            }
        };
        match path {
            Some(path) => {
                context.set_one("aws:ResourceOrgID", path.organization_id.clone());
                context.set("aws:ResourceOrgPaths", vec![path.org_path()]);
            }
            None => {
                context.remove("aws:ResourceOrgID");
                context.remove("aws:ResourceOrgPaths");
            }
        }
        Ok(())
    }

    /// The principal's snapshot: the one kept for its access key while nothing it was gathered
    /// from has changed, else a fresh one. Other keys change all the time (instances move
    /// through their states, parameters are written), so a moved change count alone does not
    /// send the snapshot back to the store: its reads are checked against the read cache first.
    async fn snapshot(&self, ctx: &RequestContext<'_>) -> Result<Arc<Snapshot>, StoreError> {
        let store = &ctx.env.store;
        let changes = store.cache_changes();
        let key = ctx.origin.access_key_id;
        if let (Some(key), Some(changes)) = (key, changes) {
            let found = {
                let snapshots = self.snapshots.read().unwrap_or_else(|p| p.into_inner());
                snapshots.get(key).filter(|found| found.principal_arn == ctx.principal.arn).cloned()
            };
            if let Some(found) = found {
                if found.changes_at.load(Ordering::Relaxed) == changes {
                    return Ok(found);
                }
                if let Some(current_at) = store.reads_current(&found.reads) {
                    found.changes_at.fetch_max(current_at, Ordering::Relaxed);
                    return Ok(found);
                }
            }
        }
        // Gathered in a unit of work of its own, whose reads every call it decides remembers.
        let tx = Tx::new(ctx.env.store.clone());
        let snapshot = Arc::new(self.gather(ctx, &tx, changes.unwrap_or(u64::MAX)).await?);
        if let (Some(key), Some(_)) = (key, changes) {
            let mut snapshots = self.snapshots.write().unwrap_or_else(|p| p.into_inner());
            if snapshots.len() >= SNAPSHOTS_MAX {
                snapshots.clear();
            }
            snapshots.insert(key.to_string(), snapshot.clone());
        }
        Ok(snapshot)
    }

    async fn gather(&self, ctx: &RequestContext<'_>, tx: &Tx, changes_at: u64) -> Result<Snapshot, StoreError> {
        let principal = ctx.principal;
        let path = account_path(tx, &principal.account).await?;
        let entity = entity_policies(tx, principal).await?;
        let gathered = Gathered {
            identity: self.compile_all(entity.identity.iter().map(|d| d.document.as_str()), PolicyKind::Identity),
            boundary: entity.boundary.as_ref().and_then(|b| self.cache.get(&b.document, PolicyKind::Identity)),
            session: session_policies(&self.cache, tx, principal).await?,
            scp_levels: self.scp_levels(tx, principal, path.as_ref()).await?,
        };
        let policies = gathered.identity.iter().chain(&gathered.boundary).chain(gathered.session.iter().flatten());
        let referenced = policies
            .chain(gathered.scp_levels.iter().flatten())
            .flat_map(|p| p.condition_keys())
            .map(|k| k.to_ascii_lowercase())
            .collect();
        Ok(Snapshot {
            referenced,
            changes_at: AtomicU64::new(changes_at),
            principal_arn: principal.arn.clone(),
            reads: tx.read_set().into(),
            gathered,
            context: Arc::new(principal_context(principal, path.as_ref(), &entity)),
            facts: principal_facts(principal),
            path,
        })
    }

    fn compile_all<'d>(&self, documents: impl Iterator<Item = &'d str>, kind: PolicyKind) -> Vec<Arc<Policy>> {
        documents.filter_map(|d| self.cache.get(d, kind)).collect()
    }

    /// The compiled SCPs on each level of the principal's account path, root first; none when
    /// SCPs do not apply to it.
    async fn scp_levels(
        &self,
        tx: &Tx,
        principal: &Principal,
        path: Option<&AccountPath>,
    ) -> Result<Vec<Vec<Arc<Policy>>>, StoreError> {
        let Some(path) = path else { return Ok(Vec::new()) };
        let texts = gather::service_control_policies(tx, path, &principal.account, principal.identity_arn()).await?;
        let compile =
            |level: Vec<String>| self.compile_all(level.iter().map(String::as_str), PolicyKind::ServiceControl);
        Ok(texts.into_iter().map(compile).collect())
    }
}

/// What credentials from GetSessionToken may not do (they were issued without MFA): IAM refuses
/// them as unknown, and STS serves them only AssumeRole and GetCallerIdentity.
fn session_token_limits(principal: &Principal, action: &str) -> Option<CommonError> {
    if principal.session.is_none() || principal.kind == PrincipalKind::AssumedRole {
        return None;
    }
    let (service, name) = action.split_once(':')?;
    if service == "iam" {
        return Some(CommonError::new(
            ingot_core::CommonKind::InvalidClientTokenId,
            "The security token included in the request is invalid",
        ));
    }
    if service == "sts" && name != "AssumeRole" && name != "GetCallerIdentity" {
        return Some(denial_error(principal, action, "*", ""));
    }
    None
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
    // A user or role deleted while its credentials live holds no permission, nor does a new one
    // created under the same name: sessions and keys belong to the entity's unique id.
    let expected_id = match principal.kind {
        PrincipalKind::User => Some(principal.user_id.as_str()),
        _ => principal.session.as_ref().and_then(|s| s.role_id.as_deref()),
    };
    Ok(found.filter(|entity| expected_id.is_none_or(|id| id == entity.id)).unwrap_or_default())
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

/// Who `principal` is, for matching the `Principal` elements of resource policies.
pub fn principal_facts(principal: &Principal) -> PrincipalFacts {
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

/// The global condition keys AWS supplies with every request of this principal
/// (aws-identity.md §1.9).
fn principal_context(principal: &Principal, path: Option<&AccountPath>, entity: &EntityPolicies) -> ContextKeys {
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
    // Ingot stands in for AWS's endpoints, which speak only TLS: policies that deny plain HTTP
    // (`Bool aws:SecureTransport false`) decide here as they do in AWS.
    keys.set_one("aws:SecureTransport", "true");
    keys.set_one("aws:ViaAWSService", "false");
    keys.set_one("aws:PrincipalIsAWSService", "false");
    keys
}

/// The global condition keys of this request that some policy names (`wanted`, given the
/// lower-cased key), over the principal's.
fn request_context(
    ctx: &RequestContext<'_>,
    principal: Arc<ContextKeys>,
    wanted: &dyn Fn(&str) -> bool,
) -> ContextKeys {
    let mut keys = ContextKeys::over(principal);
    if !ctx.origin.source_ip.is_empty() && wanted("aws:sourceip") {
        keys.set_one("aws:SourceIp", ctx.origin.source_ip);
    }
    if wanted("aws:currenttime") {
        keys.set_one("aws:CurrentTime", ctx.now.to_iso8601());
    }
    if wanted("aws:epochtime") {
        keys.set_one("aws:EpochTime", ctx.now.seconds().to_string());
    }
    if wanted("aws:requestedregion") {
        keys.set_one("aws:RequestedRegion", ctx.scope.region.as_str());
    }
    if let Some(service) = ctx.origin.via_service {
        // A service calling with the principal's permissions (a forward access session).
        keys.set_one("aws:ViaAWSService", "true");
        keys.set("aws:CalledVia", vec![service.to_string()]);
        keys.set_one("aws:CalledViaFirst", service);
        keys.set_one("aws:CalledViaLast", service);
    }
    keys
}

/// Compiled policies by their text: a policy is parsed and compiled once per version, however
/// many calls it decides. Bounded: it starts over when full (policies are few; texts that were
/// in use are compiled again on their next call).
#[derive(Default)]
pub struct PolicyCache {
    compiled: RwLock<HashMap<(u64, PolicyKind), Vec<CompiledText>>>,
}

/// A policy text and its compiled form (texts with the same hash share a bucket).
type CompiledText = (Box<str>, Arc<Policy>);

const CACHE_MAX: usize = 4096;

impl PolicyCache {
    /// The compiled form of `text`; `None` when it does not parse (a stored policy that no longer
    /// parses grants and denies nothing).
    pub fn get(&self, text: &str, kind: PolicyKind) -> Option<Arc<Policy>> {
        let key = (ingot_store::hash::fnv1a(text.as_bytes()), kind);
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
