//! AWS's evaluation order over the policies that apply to one request, and the reason for a
//! denial in the words of AWS's access-denied messages.

use super::context::{root_account_of, PrincipalFacts, Request};
use super::document::{Policy, PrincipalEntry, Principals, Statement};
use super::pattern::SplitArn;
use super::PolicyKind;

/// Which policies apply to one request.
#[derive(Debug, Clone, Default)]
pub struct PolicySet<'a> {
    /// Empty: the principal is not subject to SCPs (no organization, management account, or a
    /// service-linked role). Else one list per level, root → OUs → account; each level must allow.
    pub scp_levels: Vec<Vec<&'a Policy>>,
    pub resource_policy: Option<&'a Policy>,
    /// KMS key policies and role trust policies: the resource policy itself must allow, directly
    /// or by naming the account (which delegates to the identity policies). Denials speak of the
    /// "role trust policy" when the resource policy was parsed as [`PolicyKind::Trust`] (or, with
    /// none given, when the action is `sts:AssumeRole*`).
    pub resource_policy_is_required: bool,
    /// The user's and its groups' policies, or the role's; empty for root.
    pub identity: Vec<&'a Policy>,
    pub boundary: Option<&'a Policy>,
    /// `Some` only for sessions with session policies (they must allow). A federated-user session
    /// without a session policy has no permissions: pass `Some(vec![])`.
    pub session: Option<Vec<&'a Policy>>,
    /// Root is implicitly allowed in its own account (SCPs, explicit denies and required resource
    /// policies still apply).
    pub principal_is_root: bool,
    /// The resource's account is the principal's (`*` resources count as same account).
    pub same_account: bool,
    /// A KMS grant allows the request: it needs no policy's allow, only no explicit deny and
    /// the SCPs' allow.
    pub granted: bool,
}

/// Where a matched statement lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicySource {
    Scp { level: usize, index: usize },
    ResourcePolicy,
    Identity(usize),
    Boundary,
    Session(usize),
}

/// A statement that applied to the request (action, resource, principal and conditions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchedStatement {
    pub source: PolicySource,
    pub statement: usize,
    pub effect_allow: bool,
}

/// Why a request was denied, as AWS words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    NoIdentityPolicy,
    NoResourcePolicy,
    NoPermissionsBoundary,
    NoSessionPolicy,
    NoTrustPolicy,
    ExplicitIdentity,
    ExplicitResource,
    ExplicitBoundary,
    ExplicitSession,
    ExplicitTrust,
    /// An explicit deny in an SCP, or a level without an allow (AWS words both the same way).
    ServiceControlPolicy,
}

impl Denial {
    /// The clause that ends AWS's message, e.g. `because no identity-based policy allows the
    /// ssm:GetParameter action` or `with an explicit deny in a service control policy`.
    pub fn because(&self, action: &str) -> String {
        let no = |what: &str| format!("because no {what} allows the {action} action");
        match self {
            Denial::NoIdentityPolicy => no("identity-based policy"),
            Denial::NoResourcePolicy => no("resource-based policy"),
            Denial::NoPermissionsBoundary => no("permissions boundary"),
            Denial::NoSessionPolicy => no("session policy"),
            Denial::NoTrustPolicy => no("role trust policy"),
            Denial::ExplicitIdentity => "with an explicit deny in an identity-based policy".to_string(),
            Denial::ExplicitResource => "with an explicit deny in a resource-based policy".to_string(),
            Denial::ExplicitBoundary => "with an explicit deny in a permissions boundary".to_string(),
            // Sic: AWS writes "sessions policy" here.
            Denial::ExplicitSession => "with an explicit deny in a sessions policy".to_string(),
            Denial::ExplicitTrust => "with an explicit deny in the role trust policy".to_string(),
            Denial::ServiceControlPolicy => "with an explicit deny in a service control policy".to_string(),
        }
    }

    /// True for denials caused by a `Deny` statement.
    pub fn is_explicit(&self) -> bool {
        matches!(
            self,
            Denial::ExplicitIdentity
                | Denial::ExplicitResource
                | Denial::ExplicitBoundary
                | Denial::ExplicitSession
                | Denial::ExplicitTrust
        )
    }
}

/// The decision and what led to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub allowed: bool,
    pub denial: Option<Denial>,
    /// A `Deny` statement applied (an SCP level without an allow is not one).
    pub explicit_deny: bool,
    /// Every statement that applied, in evaluation order.
    pub matched: Vec<MatchedStatement>,
    /// Condition keys of statements whose action and resource matched that the request lacked
    /// (as written in the policy, once each), for simulation.
    pub missing_context: Vec<String>,
}

/// How far a resource-policy allow reaches, by which principal it names (spec §1.2 step 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Reach {
    /// The account: delegates to the identity policies.
    Delegated,
    /// The role (or the IAM user behind a federated session): allowed, within boundary and
    /// session policy.
    Capped,
    /// The caller itself (user, session, federated user), `*`, or a service: allowed outright.
    Direct,
}

/// What one policy says about the request.
#[derive(Debug, Default, Clone, Copy)]
struct Outcome {
    allow: bool,
    deny: bool,
    /// The strongest resource-policy allow (resource slot only).
    reach: Option<Reach>,
}

struct Collector<'r> {
    matched: Vec<MatchedStatement>,
    missing: Vec<String>,
    /// The request's action, split at its colon and lower-cased once for every statement.
    vendor: &'r str,
    name: &'r str,
    /// The request's resource, split at its colons once for every pattern.
    resource: SplitArn<'r>,
}

/// Evaluates one request against the policies that apply to it.
pub fn evaluate(set: &PolicySet<'_>, request: &Request<'_>) -> Evaluation {
    let lowered = request.action.to_ascii_lowercase();
    let (vendor, name) = lowered.split_once(':').unwrap_or(("", lowered.as_str()));
    let resource = SplitArn::new(request.resource);
    let mut out = Collector { matched: Vec::new(), missing: Vec::new(), vendor, name, resource };

    let mut scp_deny = false;
    let mut scp_level_without_allow = false;
    for (level, policies) in set.scp_levels.iter().enumerate() {
        let mut level_allows = false;
        for (index, policy) in policies.iter().enumerate() {
            let o = scan(policy, request, false, PolicySource::Scp { level, index }, &mut out);
            level_allows |= o.allow;
            scp_deny |= o.deny;
        }
        scp_level_without_allow |= !level_allows;
    }
    let resource = set.resource_policy.map(|p| scan(p, request, true, PolicySource::ResourcePolicy, &mut out));
    let mut identity = Outcome::default();
    for (index, policy) in set.identity.iter().enumerate() {
        let o = scan(policy, request, false, PolicySource::Identity(index), &mut out);
        identity.allow |= o.allow;
        identity.deny |= o.deny;
    }
    let boundary = set.boundary.map(|p| scan(p, request, false, PolicySource::Boundary, &mut out));
    let session = set.session.as_ref().map(|policies| {
        // Session policies (inline and managed) together form one cap: any of them may allow.
        let mut joined = Outcome::default();
        for (index, policy) in policies.iter().enumerate() {
            let o = scan(policy, request, false, PolicySource::Session(index), &mut out);
            joined.allow |= o.allow;
            joined.deny |= o.deny;
        }
        joined
    });

    let trust = is_trust(set, request);
    let explicit = if scp_deny {
        Some(Denial::ServiceControlPolicy)
    } else if resource.is_some_and(|o| o.deny) {
        Some(if trust { Denial::ExplicitTrust } else { Denial::ExplicitResource })
    } else if identity.deny {
        Some(Denial::ExplicitIdentity)
    } else if boundary.is_some_and(|o| o.deny) {
        Some(Denial::ExplicitBoundary)
    } else if session.is_some_and(|o| o.deny) {
        Some(Denial::ExplicitSession)
    } else {
        None
    };

    let decision = match explicit {
        Some(denial) => Err(denial),
        None if scp_level_without_allow => Err(Denial::ServiceControlPolicy),
        None if set.granted => Ok(()),
        None => decide(set, trust, identity.allow, resource.and_then(|o| o.reach), boundary, session),
    };
    Evaluation {
        allowed: decision.is_ok(),
        denial: decision.err(),
        explicit_deny: explicit.is_some(),
        matched: out.matched,
        missing_context: out.missing,
    }
}

/// Steps 4–7 of AWS's order (and the cross-account rule), once explicit denies and SCPs passed.
fn decide(
    set: &PolicySet<'_>,
    trust: bool,
    identity_allows: bool,
    resource_reach: Option<Reach>,
    boundary: Option<Outcome>,
    session: Option<Outcome>,
) -> Result<(), Denial> {
    let identity_allows = identity_allows || set.principal_is_root;
    let boundary_ok = boundary.is_none_or(|o| o.allow);
    let session_ok = session.is_none_or(|o| o.allow);
    let identity_side = identity_allows && boundary_ok && session_ok;
    let identity_denial = if !identity_allows {
        Denial::NoIdentityPolicy
    } else if !boundary_ok {
        Denial::NoPermissionsBoundary
    } else {
        Denial::NoSessionPolicy
    };
    let cap_denial = if !boundary_ok { Denial::NoPermissionsBoundary } else { Denial::NoSessionPolicy };
    let no_resource = if trust { Denial::NoTrustPolicy } else { Denial::NoResourcePolicy };

    if !set.same_account {
        // Both accounts must agree: the caller's side, and a resource policy naming the caller or
        // its account. Without a resource policy nothing crosses accounts.
        if !identity_side {
            return Err(identity_denial);
        }
        return if resource_reach.is_some() { Ok(()) } else { Err(no_resource) };
    }

    let grants_alone = match resource_reach {
        Some(Reach::Direct) => true,
        Some(Reach::Capped) => boundary_ok && session_ok,
        _ => false,
    };
    if set.resource_policy_is_required {
        return match resource_reach {
            _ if grants_alone => Ok(()),
            Some(Reach::Delegated) if identity_side => Ok(()),
            // The resource policy delegates to IAM (or names the role), and that side refuses.
            Some(Reach::Delegated) => Err(identity_denial),
            Some(Reach::Capped) => Err(cap_denial),
            _ => Err(no_resource),
        };
    }
    // Same account, ordinary resource: the union of resource-policy and identity grants.
    if grants_alone || identity_side {
        Ok(())
    } else {
        Err(identity_denial)
    }
}

/// Denials about the resource policy speak of the "role trust policy" when it is one (parsed as
/// [`PolicyKind::Trust`]), or when a required one is missing for an `sts:AssumeRole*` call.
fn is_trust(set: &PolicySet<'_>, request: &Request<'_>) -> bool {
    match set.resource_policy {
        Some(policy) => policy.kind() == PolicyKind::Trust,
        None => {
            set.resource_policy_is_required
                && request.action.get(..14).is_some_and(|prefix| prefix.eq_ignore_ascii_case("sts:AssumeRole"))
        }
    }
}

/// Runs every statement of one policy against the request.
fn scan(
    policy: &Policy,
    request: &Request<'_>,
    resource_slot: bool,
    source: PolicySource,
    out: &mut Collector<'_>,
) -> Outcome {
    let mut outcome = Outcome::default();
    // Only statements that can name the request's action: the others cannot apply.
    for index in policy.index.candidates(out.vendor) {
        let statement = &policy.statements[index];
        let Some(reach) = applies(statement, request, resource_slot, out) else { continue };
        out.matched.push(MatchedStatement { source, statement: index, effect_allow: statement.allow });
        if statement.allow {
            outcome.allow = true;
            if resource_slot {
                outcome.reach = outcome.reach.max(Some(reach));
            }
        } else {
            outcome.deny = true;
        }
    }
    outcome
}

/// Whether a statement applies; for resource policies, how far its principal match reaches.
fn applies(
    statement: &Statement,
    request: &Request<'_>,
    resource_slot: bool,
    out: &mut Collector<'_>,
) -> Option<Reach> {
    let ctx = request.context;
    let action_listed = statement.actions.iter().any(|a| a.matches_lowered(out.vendor, out.name, ctx));
    if action_listed == statement.not_action {
        return None;
    }
    if let Some(resources) = &statement.resources {
        let listed = resources.patterns.iter().any(|r| r.matches_split(&out.resource, ctx));
        if listed == resources.negated {
            return None;
        }
    }
    for condition in &statement.conditions {
        if ctx.get_lowered(&condition.lowered).is_none()
            && !out.missing.iter().any(|k| k.eq_ignore_ascii_case(&condition.key))
        {
            out.missing.push(condition.key.to_string());
        }
    }
    let reach = if resource_slot {
        // A resource-policy statement without a principal applies to nobody.
        principal_reach(statement.principals.as_ref()?, request.principal)?
    } else {
        Reach::Direct
    };
    statement.conditions.iter().all(|c| c.holds(ctx)).then_some(reach)
}

/// How a `Principal` / `NotPrincipal` element covers the caller; `None` when it does not.
fn principal_reach(principals: &Principals, who: &PrincipalFacts) -> Option<Reach> {
    if principals.negated {
        // NotPrincipal: the statement applies unless every identity of the caller is listed
        // (account, then role or user, then session), as AWS checks them one by one.
        return (!not_principal_covers(&principals.entries, who)).then_some(Reach::Direct);
    }
    principals.entries.iter().filter_map(|entry| entry_reach(entry, who)).max()
}

fn entry_reach(entry: &PrincipalEntry, who: &PrincipalFacts) -> Option<Reach> {
    let is_service = who.service.is_some();
    match entry {
        PrincipalEntry::Anyone => Some(Reach::Direct),
        PrincipalEntry::Service(s) => {
            who.service.as_deref().is_some_and(|w| w.eq_ignore_ascii_case(s)).then_some(Reach::Direct)
        }
        PrincipalEntry::Federated(f) => (who.federated.as_deref() == Some(&**f)).then_some(Reach::Direct),
        PrincipalEntry::CanonicalUser(_) => None,
        _ if is_service => None,
        PrincipalEntry::Account(a) => (**a == *who.account).then_some(Reach::Delegated),
        PrincipalEntry::Arn(arn) => {
            if **arn == *who.arn {
                Some(Reach::Direct)
            } else if **arn == *who.identity_arn {
                Some(Reach::Capped)
            } else {
                None
            }
        }
        PrincipalEntry::UniqueId(id) => (who.unique_id.as_deref() == Some(&**id))
            .then_some(if who.arn == who.identity_arn { Reach::Direct } else { Reach::Capped }),
    }
}

fn not_principal_covers(entries: &[PrincipalEntry], who: &PrincipalFacts) -> bool {
    let listed =
        |test: &dyn Fn(&PrincipalEntry) -> bool| entries.iter().any(|e| *e == PrincipalEntry::Anyone || test(e));
    if let Some(service) = &who.service {
        return listed(&|e| matches!(e, PrincipalEntry::Service(s) if s.eq_ignore_ascii_case(service)));
    }
    let account = listed(&|e| matches!(e, PrincipalEntry::Account(a) if **a == *who.account));
    let is_root = root_account_of(&who.identity_arn).is_some();
    let identity = is_root
        || listed(&|e| match e {
            PrincipalEntry::Arn(arn) => **arn == *who.identity_arn,
            PrincipalEntry::UniqueId(id) => who.unique_id.as_deref() == Some(&**id),
            _ => false,
        });
    let session =
        who.arn == who.identity_arn || listed(&|e| matches!(e, PrincipalEntry::Arn(arn) if **arn == *who.arn));
    account && identity && session
}
