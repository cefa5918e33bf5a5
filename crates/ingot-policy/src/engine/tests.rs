//! Whole-engine tests: AWS's evaluation order, resource-policy principals, root, cross-account,
//! global condition keys and policy variables.

use super::*;

const A: &str = "111122223333";
const B: &str = "444455556666";
const USER_ARN: &str = "arn:aws:iam::111122223333:user/alice";
const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/team/app";
const SESSION_ARN: &str = "arn:aws:sts::111122223333:assumed-role/app/s1";
const PARAM: &str = "arn:aws:ssm:us-east-1:111122223333:parameter/app/db";
const FOREIGN_PARAM: &str = "arn:aws:ssm:us-east-1:444455556666:parameter/app/db";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const GET: &str = "ssm:GetParameter";

fn parse(text: &str, kind: PolicyKind) -> Policy {
    Policy::parse(text, kind).unwrap_or_else(|e| panic!("{}: {text}", e.message))
}

fn statement_policy(effect: &str, action: &str, resource: &str) -> Policy {
    parse(
        &format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"{effect}","Action":"{action}","Resource":"{resource}"}}}}"#
        ),
        PolicyKind::Identity,
    )
}

fn allow(action: &str, resource: &str) -> Policy {
    statement_policy("Allow", action, resource)
}

fn deny(action: &str, resource: &str) -> Policy {
    statement_policy("Deny", action, resource)
}

fn allow_all() -> Policy {
    allow("*", "*")
}

/// A resource policy with one statement for `principal` (a JSON value).
fn resource_policy(effect: &str, principal: &str, action: &str) -> Policy {
    parse(
        &format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"{effect}","Principal":{principal},"Action":"{action}","Resource":"*"}}}}"#
        ),
        PolicyKind::Resource,
    )
}

fn trust_policy(effect: &str, principal: &str) -> Policy {
    parse(
        &format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"{effect}","Principal":{principal},"Action":"sts:AssumeRole"}}}}"#
        ),
        PolicyKind::Trust,
    )
}

fn user() -> PrincipalFacts {
    PrincipalFacts::user(A, USER_ARN, Some("AIDAEXAMPLEEXAMPLE01"))
}

fn session() -> PrincipalFacts {
    PrincipalFacts::role_session(A, SESSION_ARN, ROLE_ARN, Some("AROAEXAMPLEEXAMPLE01"))
}

fn root() -> PrincipalFacts {
    PrincipalFacts::root(A)
}

fn same_account<'a>() -> PolicySet<'a> {
    PolicySet { same_account: true, ..Default::default() }
}

fn run_with(set: &PolicySet<'_>, who: &PrincipalFacts, action: &str, resource: &str, ctx: &ContextKeys) -> Evaluation {
    evaluate(set, &Request { action, resource, principal: who, context: ctx })
}

fn run(set: &PolicySet<'_>, who: &PrincipalFacts, action: &str, resource: &str) -> Evaluation {
    run_with(set, who, action, resource, &ContextKeys::new())
}

fn denial(evaluation: &Evaluation) -> Option<Denial> {
    assert_eq!(evaluation.allowed, evaluation.denial.is_none(), "{evaluation:?}");
    evaluation.denial
}

// ---- The evaluation order -------------------------------------------------------------------

#[test]
fn an_identity_allow_allows_the_action() {
    let p = allow("ssm:Get*", "arn:aws:ssm:*:*:parameter/app/*");
    let set = PolicySet { identity: vec![&p], ..same_account() };
    let e = run(&set, &user(), GET, PARAM);
    assert!(e.allowed);
    assert!(!e.explicit_deny);
}

#[test]
fn without_any_allow_the_request_is_implicitly_denied_naming_identity_policies() {
    let p = allow("ssm:PutParameter", "*");
    let set = PolicySet { identity: vec![&p], ..same_account() };
    let e = run(&set, &user(), GET, PARAM);
    assert_eq!(denial(&e), Some(Denial::NoIdentityPolicy));
    assert!(!e.explicit_deny);
    assert_eq!(denial(&run(&same_account(), &user(), GET, PARAM)), Some(Denial::NoIdentityPolicy));
}

#[test]
fn an_explicit_deny_in_an_identity_policy_beats_an_allow() {
    let (a, d) = (allow_all(), deny("ssm:GetParameter", PARAM));
    let set = PolicySet { identity: vec![&a, &d], ..same_account() };
    let e = run(&set, &user(), GET, PARAM);
    assert_eq!(denial(&e), Some(Denial::ExplicitIdentity));
    assert!(e.explicit_deny);
}

#[test]
fn a_grant_allows_without_any_policy_but_not_against_an_explicit_deny_or_an_scp() {
    let key = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let nobody = parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:*","Resource":"*"}]}"#,
        PolicyKind::Resource,
    );
    let required = PolicySet { resource_policy: Some(&nobody), resource_policy_is_required: true, ..same_account() };
    assert_eq!(denial(&run(&required, &user(), "kms:Decrypt", key)), Some(Denial::NoResourcePolicy));
    let granted = PolicySet { granted: true, ..required.clone() };
    assert!(run(&granted, &user(), "kms:Decrypt", key).allowed);
    let d = deny("kms:Decrypt", "*");
    let denied = PolicySet { identity: vec![&d], ..granted.clone() };
    assert_eq!(denial(&run(&denied, &user(), "kms:Decrypt", key)), Some(Denial::ExplicitIdentity));
    let only_ssm = allow("ssm:*", "*");
    let capped = PolicySet { scp_levels: vec![vec![&only_ssm]], ..granted };
    assert_eq!(denial(&run(&capped, &user(), "kms:Decrypt", key)), Some(Denial::ServiceControlPolicy));
}

#[test]
fn an_explicit_deny_in_a_boundary_beats_an_identity_allow() {
    let a = allow_all();
    let b = parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Deny","Action":"ssm:*","Resource":"*"}]}"#,
        PolicyKind::Identity,
    );
    let set = PolicySet { identity: vec![&a], boundary: Some(&b), ..same_account() };
    assert_eq!(denial(&run(&set, &user(), GET, PARAM)), Some(Denial::ExplicitBoundary));
}

#[test]
fn an_explicit_deny_in_a_session_policy_beats_an_identity_allow() {
    let (a, d) = (allow_all(), deny("ssm:*", "*"));
    let set = PolicySet { identity: vec![&a], session: Some(vec![&d]), ..same_account() };
    assert_eq!(denial(&run(&set, &session(), GET, PARAM)), Some(Denial::ExplicitSession));
}

#[test]
fn an_explicit_deny_in_a_resource_policy_beats_an_identity_allow() {
    let a = allow_all();
    let r = resource_policy("Deny", r#""*""#, "ssm:*");
    let set = PolicySet { identity: vec![&a], resource_policy: Some(&r), ..same_account() };
    assert_eq!(denial(&run(&set, &user(), GET, PARAM)), Some(Denial::ExplicitResource));
}

#[test]
fn an_explicit_deny_is_reported_from_the_first_policy_type_in_aws_order() {
    let (a, d) = (allow_all(), deny("*", "*"));
    let r = resource_policy("Deny", r#""*""#, "*");
    let everything = PolicySet {
        scp_levels: vec![vec![&d]],
        resource_policy: Some(&r),
        identity: vec![&a, &d],
        boundary: Some(&d),
        session: Some(vec![&d]),
        ..same_account()
    };
    assert_eq!(denial(&run(&everything, &session(), GET, PARAM)), Some(Denial::ServiceControlPolicy));
    let set = PolicySet { scp_levels: vec![vec![&a]], ..everything.clone() };
    assert_eq!(denial(&run(&set, &session(), GET, PARAM)), Some(Denial::ExplicitResource));
    let set = PolicySet { resource_policy: None, ..set };
    assert_eq!(denial(&run(&set, &session(), GET, PARAM)), Some(Denial::ExplicitIdentity));
    let set = PolicySet { identity: vec![&a], ..set };
    assert_eq!(denial(&run(&set, &session(), GET, PARAM)), Some(Denial::ExplicitBoundary));
    let set = PolicySet { boundary: None, ..set };
    assert_eq!(denial(&run(&set, &session(), GET, PARAM)), Some(Denial::ExplicitSession));
}

#[test]
fn an_explicit_deny_in_an_scp_beats_everything() {
    let (a, d) = (allow_all(), deny("ssm:*", "*"));
    let set = PolicySet { scp_levels: vec![vec![&a, &d]], identity: vec![&a], ..same_account() };
    let e = run(&set, &user(), GET, PARAM);
    assert_eq!(denial(&e), Some(Denial::ServiceControlPolicy));
    assert!(e.explicit_deny);
}

#[test]
fn an_scp_level_without_an_allow_denies_and_is_worded_as_an_explicit_scp_deny() {
    let a = allow_all();
    let only_ec2 = allow("ec2:*", "*");
    let set = PolicySet { scp_levels: vec![vec![&a], vec![&only_ec2], vec![&a]], identity: vec![&a], ..same_account() };
    let e = run(&set, &user(), GET, PARAM);
    assert_eq!(denial(&e), Some(Denial::ServiceControlPolicy));
    assert!(!e.explicit_deny);
    assert_eq!(Denial::ServiceControlPolicy.because(GET), "with an explicit deny in a service control policy");
}

#[test]
fn every_scp_level_must_allow_and_an_empty_level_allows_nothing() {
    let a = allow_all();
    let set = PolicySet { scp_levels: vec![vec![&a], vec![], vec![&a]], identity: vec![&a], ..same_account() };
    assert_eq!(denial(&run(&set, &user(), GET, PARAM)), Some(Denial::ServiceControlPolicy));
    let set = PolicySet { scp_levels: vec![vec![&a], vec![&a], vec![&a]], ..set };
    assert!(run(&set, &user(), GET, PARAM).allowed);
}

#[test]
fn scps_never_grant_by_themselves() {
    let a = allow_all();
    let set = PolicySet { scp_levels: vec![vec![&a]], ..same_account() };
    assert_eq!(denial(&run(&set, &user(), GET, PARAM)), Some(Denial::NoIdentityPolicy));
}

#[test]
fn a_principal_outside_scps_is_not_limited_by_them() {
    let a = allow_all();
    let set = PolicySet { scp_levels: vec![], identity: vec![&a], ..same_account() };
    assert!(run(&set, &user(), GET, PARAM).allowed);
}

#[test]
fn a_boundary_caps_what_identity_policies_allow() {
    let a = allow_all();
    let b = allow("ec2:*", "*");
    let set = PolicySet { identity: vec![&a], boundary: Some(&b), ..same_account() };
    assert_eq!(denial(&run(&set, &user(), GET, PARAM)), Some(Denial::NoPermissionsBoundary));
    assert!(run(&set, &user(), "ec2:DescribeInstances", "*").allowed);
}

#[test]
fn a_boundary_alone_grants_nothing() {
    let b = allow_all();
    let set = PolicySet { boundary: Some(&b), ..same_account() };
    assert_eq!(denial(&run(&set, &user(), GET, PARAM)), Some(Denial::NoIdentityPolicy));
}

#[test]
fn a_session_policy_caps_what_the_role_allows() {
    let a = allow_all();
    let s = allow("ec2:*", "*");
    let set = PolicySet { identity: vec![&a], session: Some(vec![&s]), ..same_account() };
    assert_eq!(denial(&run(&set, &session(), GET, PARAM)), Some(Denial::NoSessionPolicy));
    assert!(run(&set, &session(), "ec2:RunInstances", "*").allowed);
}

#[test]
fn session_policies_together_form_one_cap() {
    let a = allow_all();
    let (s1, s2) = (allow("ec2:*", "*"), allow("ssm:GetParameter", "*"));
    let set = PolicySet { identity: vec![&a], session: Some(vec![&s1, &s2]), ..same_account() };
    assert!(run(&set, &session(), GET, PARAM).allowed);
}

#[test]
fn a_federated_session_without_session_policies_has_no_permissions() {
    let a = allow_all();
    let set = PolicySet { identity: vec![&a], session: Some(vec![]), ..same_account() };
    assert_eq!(denial(&run(&set, &user(), GET, PARAM)), Some(Denial::NoSessionPolicy));
}

#[test]
fn the_first_missing_cap_is_reported_identity_then_boundary_then_session() {
    let a = allow_all();
    let none = allow("ec2:*", "*");
    let set = PolicySet { identity: vec![&none], boundary: Some(&none), session: Some(vec![&none]), ..same_account() };
    assert_eq!(denial(&run(&set, &session(), GET, PARAM)), Some(Denial::NoIdentityPolicy));
    let set = PolicySet { identity: vec![&a], ..set };
    assert_eq!(denial(&run(&set, &session(), GET, PARAM)), Some(Denial::NoPermissionsBoundary));
    let set = PolicySet { boundary: Some(&a), ..set };
    assert_eq!(denial(&run(&set, &session(), GET, PARAM)), Some(Denial::NoSessionPolicy));
}

// ---- Resource policies and the principals they name -----------------------------------------

#[test]
fn a_resource_policy_naming_the_user_allows_without_an_identity_policy() {
    let r = resource_policy("Allow", &format!(r#"{{"AWS":"{USER_ARN}"}}"#), "ssm:GetParameter");
    let set = PolicySet { resource_policy: Some(&r), ..same_account() };
    assert!(run(&set, &user(), GET, PARAM).allowed);
}

#[test]
fn a_resource_policy_naming_the_user_is_not_capped_by_its_boundary() {
    let r = resource_policy("Allow", &format!(r#"{{"AWS":"{USER_ARN}"}}"#), "ssm:*");
    let b = allow("ec2:*", "*");
    let set = PolicySet { resource_policy: Some(&r), boundary: Some(&b), ..same_account() };
    assert!(run(&set, &user(), GET, PARAM).allowed);
}

#[test]
fn a_resource_policy_naming_the_role_is_capped_by_boundary_and_session_policy() {
    let r = resource_policy("Allow", &format!(r#"{{"AWS":"{ROLE_ARN}"}}"#), "ssm:*");
    let set = PolicySet { resource_policy: Some(&r), ..same_account() };
    assert!(run(&set, &session(), GET, PARAM).allowed);
    let ec2 = allow("ec2:*", "*");
    let capped = PolicySet { boundary: Some(&ec2), ..set.clone() };
    assert_eq!(denial(&run(&capped, &session(), GET, PARAM)), Some(Denial::NoIdentityPolicy));
    let capped = PolicySet { session: Some(vec![&ec2]), ..set };
    assert_eq!(denial(&run(&capped, &session(), GET, PARAM)), Some(Denial::NoIdentityPolicy));
}

#[test]
fn a_resource_policy_naming_the_session_allows_past_boundary_and_session_policy() {
    let r = resource_policy("Allow", &format!(r#"{{"AWS":"{SESSION_ARN}"}}"#), "ssm:*");
    let ec2 = allow("ec2:*", "*");
    let set =
        PolicySet { resource_policy: Some(&r), boundary: Some(&ec2), session: Some(vec![&ec2]), ..same_account() };
    assert!(run(&set, &session(), GET, PARAM).allowed);
}

#[test]
fn a_resource_policy_naming_the_account_only_delegates_to_identity_policies() {
    for principal in [format!(r#"{{"AWS":"{A}"}}"#), format!(r#"{{"AWS":"arn:aws:iam::{A}:root"}}"#)] {
        let r = resource_policy("Allow", &principal, "ssm:*");
        let set = PolicySet { resource_policy: Some(&r), ..same_account() };
        assert_eq!(denial(&run(&set, &user(), GET, PARAM)), Some(Denial::NoIdentityPolicy), "{principal}");
        let a = allow(GET, PARAM);
        let set = PolicySet { identity: vec![&a], ..set };
        assert!(run(&set, &user(), GET, PARAM).allowed, "{principal}");
    }
}

#[test]
fn a_resource_policy_with_principal_star_counts_as_naming_the_caller() {
    for principal in [r#""*""#, r#"{"AWS":"*"}"#] {
        let r = resource_policy("Allow", principal, "ssm:GetParameter");
        let set = PolicySet { resource_policy: Some(&r), ..same_account() };
        assert!(run(&set, &user(), GET, PARAM).allowed, "{principal}");
    }
}

#[test]
fn a_resource_policy_naming_someone_else_grants_the_caller_nothing() {
    let r = resource_policy("Allow", r#"{"AWS":"arn:aws:iam::111122223333:user/bob"}"#, "ssm:*");
    let set = PolicySet { resource_policy: Some(&r), ..same_account() };
    assert_eq!(denial(&run(&set, &user(), GET, PARAM)), Some(Denial::NoIdentityPolicy));
}

#[test]
fn a_resource_policy_allow_for_other_actions_grants_nothing() {
    let r = resource_policy("Allow", r#""*""#, "ssm:PutParameter");
    let set = PolicySet { resource_policy: Some(&r), ..same_account() };
    assert_eq!(denial(&run(&set, &user(), GET, PARAM)), Some(Denial::NoIdentityPolicy));
}

#[test]
fn a_service_principal_is_matched_by_service_entries_only() {
    let ec2 = PrincipalFacts::service("ec2.amazonaws.com");
    let r = resource_policy("Allow", r#"{"Service":"ec2.amazonaws.com"}"#, "kms:Decrypt");
    let set = PolicySet { resource_policy: Some(&r), resource_policy_is_required: true, ..same_account() };
    assert!(run(&set, &ec2, "kms:Decrypt", KEY).allowed);
    assert_eq!(denial(&run(&set, &user(), "kms:Decrypt", KEY)), Some(Denial::NoResourcePolicy));
    let r = resource_policy("Allow", &format!(r#"{{"AWS":"{A}"}}"#), "kms:Decrypt");
    let set = PolicySet { resource_policy: Some(&r), ..set };
    assert_eq!(denial(&run(&set, &ec2, "kms:Decrypt", KEY)), Some(Denial::NoResourcePolicy));
}

#[test]
fn a_federated_principal_matches_the_sessions_identity_provider() {
    let t = trust_policy("Allow", r#"{"Federated":"cognito-identity.amazonaws.com"}"#);
    let set = PolicySet { resource_policy: Some(&t), resource_policy_is_required: true, ..same_account() };
    let mut web = session();
    web.federated = Some("cognito-identity.amazonaws.com".into());
    assert!(run(&set, &web, "sts:AssumeRole", ROLE_ARN).allowed);
    assert_eq!(denial(&run(&set, &session(), "sts:AssumeRole", ROLE_ARN)), Some(Denial::NoTrustPolicy));
}

#[test]
fn not_principal_with_deny_spares_only_callers_whose_every_identity_is_listed() {
    let listed_all = format!(r#"{{"AWS":["arn:aws:iam::{A}:root","{ROLE_ARN}","{SESSION_ARN}"]}}"#);
    let text = |principals: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"ssm:*","Resource":"*"}},
               {{"Effect":"Deny","NotPrincipal":{principals},"Action":"ssm:*","Resource":"*"}}]}}"#
        )
    };
    let spared = parse(&text(&listed_all), PolicyKind::Resource);
    let set = PolicySet { resource_policy: Some(&spared), ..same_account() };
    assert!(run(&set, &session(), GET, PARAM).allowed);
    // Listing the role without the account and session still denies the session.
    let partial = parse(&text(&format!(r#"{{"AWS":"{ROLE_ARN}"}}"#)), PolicyKind::Resource);
    let set = PolicySet { resource_policy: Some(&partial), ..same_account() };
    assert_eq!(denial(&run(&set, &session(), GET, PARAM)), Some(Denial::ExplicitResource));
    // Anyone not listed at all is denied.
    let set = PolicySet { resource_policy: Some(&spared), ..same_account() };
    assert_eq!(denial(&run(&set, &user(), GET, PARAM)), Some(Denial::ExplicitResource));
    // A user needs its account and its ARN listed.
    let for_user = parse(&text(&format!(r#"{{"AWS":["{A}","{USER_ARN}"]}}"#)), PolicyKind::Resource);
    let set = PolicySet { resource_policy: Some(&for_user), ..same_account() };
    assert!(run(&set, &user(), GET, PARAM).allowed);
}

// ---- Cross-account ---------------------------------------------------------------------------

fn cross_account<'a>() -> PolicySet<'a> {
    PolicySet { same_account: false, ..Default::default() }
}

#[test]
fn cross_account_access_needs_both_the_identity_policy_and_the_resource_policy() {
    let a = allow(GET, FOREIGN_PARAM);
    let r = resource_policy("Allow", &format!(r#"{{"AWS":"{A}"}}"#), "ssm:GetParameter");
    let both = PolicySet { identity: vec![&a], resource_policy: Some(&r), ..cross_account() };
    assert!(run(&both, &user(), GET, FOREIGN_PARAM).allowed);
    let no_identity = PolicySet { identity: vec![], ..both.clone() };
    assert_eq!(denial(&run(&no_identity, &user(), GET, FOREIGN_PARAM)), Some(Denial::NoIdentityPolicy));
    let other = resource_policy("Allow", &format!(r#"{{"AWS":"{B}"}}"#), "ssm:GetParameter");
    let wrong_account = PolicySet { resource_policy: Some(&other), ..both };
    assert_eq!(denial(&run(&wrong_account, &user(), GET, FOREIGN_PARAM)), Some(Denial::NoResourcePolicy));
}

#[test]
fn cross_account_without_a_resource_policy_is_denied_naming_resource_policies() {
    let a = allow_all();
    let set = PolicySet { identity: vec![&a], ..cross_account() };
    assert_eq!(denial(&run(&set, &user(), GET, FOREIGN_PARAM)), Some(Denial::NoResourcePolicy));
}

#[test]
fn cross_account_a_resource_policy_naming_the_user_still_needs_its_identity_allow() {
    let r = resource_policy("Allow", &format!(r#"{{"AWS":"{USER_ARN}"}}"#), "ssm:*");
    let set = PolicySet { resource_policy: Some(&r), ..cross_account() };
    assert_eq!(denial(&run(&set, &user(), GET, FOREIGN_PARAM)), Some(Denial::NoIdentityPolicy));
    let a = allow_all();
    let set = PolicySet { identity: vec![&a], ..set };
    assert!(run(&set, &user(), GET, FOREIGN_PARAM).allowed);
}

#[test]
fn cross_account_the_callers_boundary_and_scps_still_apply() {
    let a = allow_all();
    let ec2 = allow("ec2:*", "*");
    let r = resource_policy("Allow", r#""*""#, "ssm:*");
    let set = PolicySet { identity: vec![&a], boundary: Some(&ec2), resource_policy: Some(&r), ..cross_account() };
    assert_eq!(denial(&run(&set, &session(), GET, FOREIGN_PARAM)), Some(Denial::NoPermissionsBoundary));
    let set = PolicySet { boundary: None, scp_levels: vec![vec![&ec2]], ..set };
    assert_eq!(denial(&run(&set, &session(), GET, FOREIGN_PARAM)), Some(Denial::ServiceControlPolicy));
}

// ---- Required resource policies: KMS key policies and role trust policies ---------------------

fn key_policy_set(key_policy: &Policy) -> PolicySet<'_> {
    PolicySet { resource_policy: Some(key_policy), resource_policy_is_required: true, ..same_account() }
}

#[test]
fn a_key_policy_that_does_not_cover_the_caller_denies_even_when_iam_allows() {
    let a = allow_all();
    let k = resource_policy("Allow", r#"{"AWS":"arn:aws:iam::111122223333:user/bob"}"#, "kms:*");
    let set = PolicySet { identity: vec![&a], ..key_policy_set(&k) };
    assert_eq!(denial(&run(&set, &user(), "kms:Decrypt", KEY)), Some(Denial::NoResourcePolicy));
    let missing = PolicySet { identity: vec![&a], resource_policy_is_required: true, ..same_account() };
    assert_eq!(denial(&run(&missing, &user(), "kms:Decrypt", KEY)), Some(Denial::NoResourcePolicy));
}

#[test]
fn a_key_policy_naming_the_account_enables_iam_policies() {
    let k = resource_policy("Allow", &format!(r#"{{"AWS":"arn:aws:iam::{A}:root"}}"#), "kms:*");
    let set = key_policy_set(&k);
    assert_eq!(denial(&run(&set, &user(), "kms:Decrypt", KEY)), Some(Denial::NoIdentityPolicy));
    let a = allow("kms:Decrypt", KEY);
    let set = PolicySet { identity: vec![&a], ..set };
    assert!(run(&set, &user(), "kms:Decrypt", KEY).allowed);
}

#[test]
fn a_key_policy_naming_the_user_allows_without_iam() {
    let k = resource_policy("Allow", &format!(r#"{{"AWS":"{USER_ARN}"}}"#), "kms:Decrypt");
    assert!(run(&key_policy_set(&k), &user(), "kms:Decrypt", KEY).allowed);
}

#[test]
fn a_key_policy_naming_the_role_is_still_capped_by_the_boundary() {
    let k = resource_policy("Allow", &format!(r#"{{"AWS":"{ROLE_ARN}"}}"#), "kms:Decrypt");
    let ec2 = allow("ec2:*", "*");
    let set = PolicySet { boundary: Some(&ec2), ..key_policy_set(&k) };
    assert_eq!(denial(&run(&set, &session(), "kms:Decrypt", KEY)), Some(Denial::NoPermissionsBoundary));
    assert!(run(&key_policy_set(&k), &session(), "kms:Decrypt", KEY).allowed);
}

#[test]
fn an_explicit_deny_in_iam_still_beats_a_key_policy_allow() {
    let k = resource_policy("Allow", &format!(r#"{{"AWS":"{USER_ARN}"}}"#), "kms:*");
    let d = deny("kms:*", "*");
    let set = PolicySet { identity: vec![&d], ..key_policy_set(&k) };
    assert_eq!(denial(&run(&set, &user(), "kms:Decrypt", KEY)), Some(Denial::ExplicitIdentity));
}

#[test]
fn cross_account_key_use_needs_the_key_policy_naming_the_account_and_an_identity_allow() {
    let k = resource_policy("Allow", &format!(r#"{{"AWS":"arn:aws:iam::{B}:root"}}"#), "kms:Decrypt");
    let caller = PrincipalFacts::user(B, "arn:aws:iam::444455556666:user/carol", None);
    let a = allow("kms:Decrypt", KEY);
    let set = PolicySet {
        identity: vec![&a],
        resource_policy: Some(&k),
        resource_policy_is_required: true,
        ..cross_account()
    };
    assert!(run(&set, &caller, "kms:Decrypt", KEY).allowed);
    let set = PolicySet { identity: vec![], ..set };
    assert_eq!(denial(&run(&set, &caller, "kms:Decrypt", KEY)), Some(Denial::NoIdentityPolicy));
}

fn trust_set(trust: &Policy) -> PolicySet<'_> {
    PolicySet { resource_policy: Some(trust), resource_policy_is_required: true, ..same_account() }
}

#[test]
fn a_trust_policy_naming_the_user_lets_it_assume_the_role() {
    let t = trust_policy("Allow", &format!(r#"{{"AWS":"{USER_ARN}"}}"#));
    assert!(run(&trust_set(&t), &user(), "sts:AssumeRole", ROLE_ARN).allowed);
}

#[test]
fn a_trust_policy_naming_the_account_needs_an_identity_allow_too() {
    let t = trust_policy("Allow", &format!(r#"{{"AWS":"{A}"}}"#));
    assert_eq!(denial(&run(&trust_set(&t), &user(), "sts:AssumeRole", ROLE_ARN)), Some(Denial::NoIdentityPolicy));
    let a = allow("sts:AssumeRole", ROLE_ARN);
    let set = PolicySet { identity: vec![&a], ..trust_set(&t) };
    assert!(run(&set, &user(), "sts:AssumeRole", ROLE_ARN).allowed);
}

#[test]
fn a_trust_policy_that_does_not_name_the_caller_is_reported_as_the_role_trust_policy() {
    let t = trust_policy("Allow", r#"{"Service":"ec2.amazonaws.com"}"#);
    let a = allow_all();
    let set = PolicySet { identity: vec![&a], ..trust_set(&t) };
    let e = run(&set, &user(), "sts:AssumeRole", ROLE_ARN);
    assert_eq!(denial(&e), Some(Denial::NoTrustPolicy));
    assert_eq!(
        Denial::NoTrustPolicy.because("sts:AssumeRole"),
        "because no role trust policy allows the sts:AssumeRole action"
    );
}

#[test]
fn an_explicit_deny_in_a_trust_policy_is_named_as_such() {
    let t = parse(
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}},
               {{"Effect":"Deny","Principal":{{"AWS":"{USER_ARN}"}},"Action":"sts:AssumeRole"}}]}}"#
        ),
        PolicyKind::Trust,
    );
    assert_eq!(denial(&run(&trust_set(&t), &user(), "sts:AssumeRole", ROLE_ARN)), Some(Denial::ExplicitTrust));
}

#[test]
fn a_missing_trust_policy_for_assume_role_is_reported_as_the_role_trust_policy() {
    let set = PolicySet { resource_policy_is_required: true, ..same_account() };
    assert_eq!(denial(&run(&set, &user(), "sts:AssumeRole", ROLE_ARN)), Some(Denial::NoTrustPolicy));
    assert_eq!(denial(&run(&set, &user(), "kms:Decrypt", KEY)), Some(Denial::NoResourcePolicy));
}

#[test]
fn a_trust_policy_naming_the_roles_unique_id_matches_its_sessions_within_caps() {
    let t = trust_policy("Allow", r#"{"AWS":"AROAEXAMPLEEXAMPLE01"}"#);
    assert!(run(&trust_set(&t), &session(), "sts:AssumeRole", "arn:aws:iam::111122223333:role/other").allowed);
    let ec2 = allow("ec2:*", "*");
    let set = PolicySet { session: Some(vec![&ec2]), ..trust_set(&t) };
    let e = run(&set, &session(), "sts:AssumeRole", "arn:aws:iam::111122223333:role/other");
    assert_eq!(denial(&e), Some(Denial::NoSessionPolicy));
    let t = trust_policy("Allow", r#"{"AWS":"AIDAEXAMPLEEXAMPLE01"}"#);
    assert!(run(&trust_set(&t), &user(), "sts:AssumeRole", ROLE_ARN).allowed);
}

// ---- Root ------------------------------------------------------------------------------------

#[test]
fn root_is_allowed_in_its_own_account_without_any_policy() {
    let set = PolicySet { principal_is_root: true, ..same_account() };
    assert!(run(&set, &root(), GET, PARAM).allowed);
    assert!(run(&set, &root(), "iam:CreateUser", "*").allowed);
}

#[test]
fn root_is_still_bound_by_scps() {
    let ec2 = allow("ec2:*", "*");
    let set = PolicySet { principal_is_root: true, scp_levels: vec![vec![&ec2]], ..same_account() };
    assert_eq!(denial(&run(&set, &root(), GET, PARAM)), Some(Denial::ServiceControlPolicy));
}

#[test]
fn root_is_still_bound_by_explicit_denies_in_resource_policies() {
    let r = resource_policy("Deny", r#""*""#, "ssm:*");
    let set = PolicySet { principal_is_root: true, resource_policy: Some(&r), ..same_account() };
    assert_eq!(denial(&run(&set, &root(), GET, PARAM)), Some(Denial::ExplicitResource));
}

#[test]
fn root_needs_a_key_policy_that_names_its_account() {
    let other = resource_policy("Allow", &format!(r#"{{"AWS":"{USER_ARN}"}}"#), "kms:*");
    let set = PolicySet { principal_is_root: true, ..key_policy_set(&other) };
    assert_eq!(denial(&run(&set, &root(), "kms:Decrypt", KEY)), Some(Denial::NoResourcePolicy));
    let default_policy = resource_policy("Allow", &format!(r#"{{"AWS":"arn:aws:iam::{A}:root"}}"#), "kms:*");
    let set = PolicySet { principal_is_root: true, ..key_policy_set(&default_policy) };
    assert!(run(&set, &root(), "kms:Decrypt", KEY).allowed);
}

#[test]
fn root_cannot_cross_accounts_without_a_resource_policy_naming_its_account() {
    let set = PolicySet { principal_is_root: true, ..cross_account() };
    assert_eq!(denial(&run(&set, &PrincipalFacts::root(B), GET, PARAM)), Some(Denial::NoResourcePolicy));
    let r = resource_policy("Allow", &format!(r#"{{"AWS":"{B}"}}"#), "ssm:GetParameter");
    let set = PolicySet { resource_policy: Some(&r), ..set };
    assert!(run(&set, &PrincipalFacts::root(B), GET, PARAM).allowed);
}

// ---- Statement elements ----------------------------------------------------------------------

#[test]
fn not_action_with_allow_grants_every_other_action() {
    let p = parse(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#,
        PolicyKind::Identity,
    );
    let set = PolicySet { identity: vec![&p], ..same_account() };
    assert!(run(&set, &user(), GET, PARAM).allowed);
    assert_eq!(denial(&run(&set, &user(), "iam:CreateUser", "*")), Some(Denial::NoIdentityPolicy));
}

#[test]
fn not_action_with_deny_denies_every_other_action_and_grants_nothing() {
    let p = parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"ssm:Get*","Resource":"*"}]}"#,
        PolicyKind::Identity,
    );
    let a = allow_all();
    let set = PolicySet { identity: vec![&a, &p], ..same_account() };
    assert!(run(&set, &user(), GET, PARAM).allowed);
    assert_eq!(denial(&run(&set, &user(), "ssm:PutParameter", PARAM)), Some(Denial::ExplicitIdentity));
    let set = PolicySet { identity: vec![&p], ..same_account() };
    assert_eq!(denial(&run(&set, &user(), GET, PARAM)), Some(Denial::NoIdentityPolicy));
}

#[test]
fn not_resource_covers_everything_but_the_listed_resources() {
    let p = parse(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ssm:*","NotResource":"arn:aws:ssm:*:*:parameter/secret/*"}}"#,
        PolicyKind::Identity,
    );
    let set = PolicySet { identity: vec![&p], ..same_account() };
    assert!(run(&set, &user(), GET, PARAM).allowed);
    let secret = "arn:aws:ssm:us-east-1:111122223333:parameter/secret/x";
    assert_eq!(denial(&run(&set, &user(), GET, secret)), Some(Denial::NoIdentityPolicy));
    assert_eq!(denial(&run(&set, &user(), "ec2:RunInstances", "*")), Some(Denial::NoIdentityPolicy));
}

#[test]
fn actions_match_in_any_case_but_resources_only_in_their_own() {
    let p = allow("SSM:getparameter", "arn:aws:iam::111122223333:user/Bob");
    let set = PolicySet { identity: vec![&p], ..same_account() };
    assert!(run(&set, &user(), "ssm:GetParameter", "arn:aws:iam::111122223333:user/Bob").allowed);
    assert!(!run(&set, &user(), "ssm:GetParameter", "arn:aws:iam::111122223333:user/bob").allowed);
}

#[test]
fn an_action_without_a_resource_is_matched_by_resource_star_only() {
    let p = allow("ssm:DescribeParameters", "arn:aws:ssm:*:*:*");
    let set = PolicySet { identity: vec![&p], ..same_account() };
    assert!(!run(&set, &user(), "ssm:DescribeParameters", "*").allowed);
    let p = allow("ssm:DescribeParameters", "*");
    let set = PolicySet { identity: vec![&p], ..same_account() };
    assert!(run(&set, &user(), "ssm:DescribeParameters", "*").allowed);
}

// ---- What the evaluation reports -------------------------------------------------------------

#[test]
fn matched_statements_name_their_policy_statement_and_effect() {
    let a = parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"},
            {"Effect":"Allow","Action":"ssm:*","Resource":"*"}]}"#,
        PolicyKind::Identity,
    );
    let d = deny("ssm:GetParameter", "*");
    let s = allow_all();
    let set = PolicySet { scp_levels: vec![vec![&s]], identity: vec![&a, &d], boundary: Some(&s), ..same_account() };
    let e = run(&set, &user(), GET, PARAM);
    assert_eq!(
        e.matched,
        vec![
            MatchedStatement { source: PolicySource::Scp { level: 0, index: 0 }, statement: 0, effect_allow: true },
            MatchedStatement { source: PolicySource::Identity(0), statement: 1, effect_allow: true },
            MatchedStatement { source: PolicySource::Identity(1), statement: 0, effect_allow: false },
            MatchedStatement { source: PolicySource::Boundary, statement: 0, effect_allow: true },
        ]
    );
}

#[test]
fn missing_context_lists_the_absent_keys_of_statements_that_match_the_action_and_resource() {
    let p = parse(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"ssm:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1","aws:PrincipalTag/Team":"blue"}}},
            {"Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
            {"Effect":"Deny","Action":"ssm:*","Resource":"*","Condition":{"Null":{"AWS:requestedregion":"true"}}}]}"#,
        PolicyKind::Identity,
    );
    let set = PolicySet { identity: vec![&p], ..same_account() };
    let ctx = ContextKeys::new().with("aws:PrincipalTag/team", "blue");
    let e = run_with(&set, &user(), GET, PARAM, &ctx);
    assert_eq!(e.missing_context, vec!["aws:RequestedRegion"]);
    assert_eq!(denial(&e), Some(Denial::ExplicitIdentity));
}

#[test]
fn denial_reasons_are_worded_as_aws_words_them() {
    let table = [
        (Denial::NoIdentityPolicy, "because no identity-based policy allows the ssm:GetParameter action"),
        (Denial::NoResourcePolicy, "because no resource-based policy allows the ssm:GetParameter action"),
        (Denial::NoPermissionsBoundary, "because no permissions boundary allows the ssm:GetParameter action"),
        (Denial::NoSessionPolicy, "because no session policy allows the ssm:GetParameter action"),
        (Denial::NoTrustPolicy, "because no role trust policy allows the ssm:GetParameter action"),
        (Denial::ExplicitIdentity, "with an explicit deny in an identity-based policy"),
        (Denial::ExplicitResource, "with an explicit deny in a resource-based policy"),
        (Denial::ExplicitBoundary, "with an explicit deny in a permissions boundary"),
        (Denial::ExplicitSession, "with an explicit deny in a sessions policy"),
        (Denial::ExplicitTrust, "with an explicit deny in the role trust policy"),
        (Denial::ServiceControlPolicy, "with an explicit deny in a service control policy"),
    ];
    for (denial, text) in table {
        assert_eq!(denial.because(GET), text);
    }
    assert!(Denial::ExplicitSession.is_explicit());
    assert!(!Denial::ServiceControlPolicy.is_explicit());
}

// ---- Global condition keys -------------------------------------------------------------------

/// Whether an identity policy allowing everything under `condition` allows a request with `ctx`.
fn allowed_under(condition: &str, ctx: &ContextKeys) -> bool {
    let p = parse(
        &format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{condition}}}}}"#
        ),
        PolicyKind::Identity,
    );
    let set = PolicySet { identity: vec![&p], ..same_account() };
    run_with(&set, &user(), GET, PARAM, ctx).allowed
}

fn ctx(pairs: &[(&str, &str)]) -> ContextKeys {
    let mut keys = ContextKeys::new();
    for (k, v) in pairs {
        keys.set_one(k, *v);
    }
    keys
}

fn multi(key: &str, values: &[&str]) -> ContextKeys {
    let mut keys = ContextKeys::new();
    keys.set(key, values.iter().map(|v| v.to_string()).collect());
    keys
}

#[test]
fn global_keys_about_the_principal_are_matched() {
    let cases: &[(&str, ContextKeys, bool)] = &[
        (r#"{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#, ctx(&[("aws:PrincipalOrgID", "o-abc123")]), true),
        (r#"{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#, ctx(&[("aws:PrincipalOrgID", "o-other")]), false),
        (r#"{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#, ContextKeys::new(), false),
        (
            r#"{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-abc123/r-ab12/ou-ab12-11111111/*"}}"#,
            multi("aws:PrincipalOrgPaths", &["o-abc123/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"]),
            true,
        ),
        (
            r#"{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-abc123/r-ab12/ou-ab12-11111111/*"}}"#,
            multi("aws:PrincipalOrgPaths", &["o-abc123/r-ab12/ou-ab12-33333333/"]),
            false,
        ),
        (r#"{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}"#, ctx(&[("aws:PrincipalAccount", A)]), true),
        (r#"{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}"#, ctx(&[("aws:PrincipalAccount", B)]), false),
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/team/*"}}"#,
            ctx(&[("aws:PrincipalArn", ROLE_ARN)]),
            true,
        ),
        (
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ops/*"}}"#,
            ctx(&[("aws:PrincipalArn", ROLE_ARN)]),
            false,
        ),
        (
            r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:root"}}"#,
            ctx(&[("aws:PrincipalArn", "arn:aws:iam::111122223333:root")]),
            true,
        ),
        (r#"{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}"#, ctx(&[("aws:PrincipalType", "AssumedRole")]), true),
        (r#"{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}"#, ctx(&[("aws:PrincipalType", "User")]), false),
        (r#"{"StringEquals":{"aws:PrincipalTag/Team":"blue"}}"#, ctx(&[("aws:principaltag/team", "blue")]), true),
        (r#"{"StringEquals":{"aws:PrincipalTag/Team":"blue"}}"#, ctx(&[("aws:PrincipalTag/Team", "Blue")]), false),
        (r#"{"StringLike":{"aws:userid":"AIDA*"}}"#, ctx(&[("aws:userid", "AIDAEXAMPLEEXAMPLE01")]), true),
        (r#"{"StringLike":{"aws:userid":"AROA*:s1"}}"#, ctx(&[("aws:userid", "AROAEXAMPLEEXAMPLE01:s1")]), true),
        (r#"{"StringLike":{"aws:userid":"AROA*:s1"}}"#, ctx(&[("aws:userid", "AIDAEXAMPLEEXAMPLE01")]), false),
        (r#"{"StringEquals":{"aws:username":"alice"}}"#, ctx(&[("aws:username", "alice")]), true),
        (r#"{"StringEquals":{"aws:username":"alice"}}"#, ContextKeys::new(), false),
    ];
    for (condition, keys, expected) in cases {
        assert_eq!(allowed_under(condition, keys), *expected, "{condition} with {keys:?}");
    }
}

#[test]
fn global_keys_about_tags_and_the_resource_are_matched() {
    let cases: &[(&str, ContextKeys, bool)] = &[
        (r#"{"StringEquals":{"aws:ResourceTag/env":"prod"}}"#, ctx(&[("aws:ResourceTag/Env", "prod")]), true),
        (r#"{"StringEquals":{"aws:ResourceTag/env":"prod"}}"#, ContextKeys::new(), false),
        (
            r#"{"StringEquals":{"aws:RequestTag/team":["blue","green"]}}"#,
            ctx(&[("aws:RequestTag/team", "green")]),
            true,
        ),
        (r#"{"StringEquals":{"aws:RequestTag/team":["blue","green"]}}"#, ctx(&[("aws:RequestTag/team", "red")]), false),
        (r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}"#, multi("aws:TagKeys", &["team"]), true),
        (
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}"#,
            multi("aws:TagKeys", &["team", "cost"]),
            false,
        ),
        (r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}"#, ContextKeys::new(), true),
        (r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["team"]}}"#, ContextKeys::new(), false),
        (r#"{"StringEquals":{"aws:ResourceAccount":"111122223333"}}"#, ctx(&[("aws:ResourceAccount", A)]), true),
        (r#"{"StringNotEquals":{"aws:ResourceAccount":"111122223333"}}"#, ctx(&[("aws:ResourceAccount", A)]), false),
        (r#"{"StringEquals":{"aws:ResourceOrgID":"o-abc123"}}"#, ctx(&[("aws:ResourceOrgID", "o-abc123")]), true),
        (
            r#"{"ForAnyValue:StringLike":{"aws:ResourceOrgPaths":"o-abc123/r-ab12/*"}}"#,
            multi("aws:ResourceOrgPaths", &["o-abc123/r-ab12/ou-ab12-11111111/"]),
            true,
        ),
        (
            r#"{"ForAnyValue:StringLike":{"aws:ResourceOrgPaths":"o-abc123/r-ab12/*"}}"#,
            multi("aws:ResourceOrgPaths", &["o-zzz/r-ab12/"]),
            false,
        ),
    ];
    for (condition, keys, expected) in cases {
        assert_eq!(allowed_under(condition, keys), *expected, "{condition} with {keys:?}");
    }
}

#[test]
fn global_keys_about_the_network_time_and_call_path_are_matched() {
    let cases: &[(&str, ContextKeys, bool)] = &[
        (
            r#"{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]}}"#,
            ctx(&[("aws:SourceIp", "203.0.113.9")]),
            true,
        ),
        (r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#, ctx(&[("aws:SourceIp", "198.51.100.1")]), false),
        (r#"{"IpAddress":{"AWS:SOURCEIP":"203.0.113.0/24"}}"#, ctx(&[("aws:SourceIp", "203.0.113.1")]), true),
        (
            r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#,
            ctx(&[("aws:CurrentTime", "2026-01-01T00:00:00Z")]),
            true,
        ),
        (
            r#"{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#,
            ctx(&[("aws:CurrentTime", "2026-01-01T00:00:00Z")]),
            false,
        ),
        (r#"{"DateGreaterThan":{"aws:EpochTime":"1600000000"}}"#, ctx(&[("aws:EpochTime", "1700000000")]), true),
        (
            r#"{"DateLessThan":{"aws:EpochTime":"2020-01-01T00:00:00Z"}}"#,
            ctx(&[("aws:EpochTime", "1700000000")]),
            false,
        ),
        (r#"{"NumericLessThan":{"aws:EpochTime":1800000000}}"#, ctx(&[("aws:EpochTime", "1700000000")]), true),
        (r#"{"Bool":{"aws:SecureTransport":"true"}}"#, ctx(&[("aws:SecureTransport", "true")]), true),
        (r#"{"Bool":{"aws:SecureTransport":true}}"#, ctx(&[("aws:SecureTransport", "false")]), false),
        (
            r#"{"StringEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}"#,
            ctx(&[("aws:RequestedRegion", "eu-west-1")]),
            true,
        ),
        (
            r#"{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}"#,
            ctx(&[("aws:RequestedRegion", "ap-south-1")]),
            false,
        ),
        (
            r#"{"ForAnyValue:StringEquals":{"aws:CalledVia":"cloudformation.amazonaws.com"}}"#,
            multi("aws:CalledVia", &["cloudformation.amazonaws.com", "dynamodb.amazonaws.com"]),
            true,
        ),
        (r#"{"ForAnyValue:StringEquals":{"aws:CalledVia":"cloudformation.amazonaws.com"}}"#, ContextKeys::new(), false),
        (r#"{"Bool":{"aws:ViaAWSService":"false"}}"#, ctx(&[("aws:ViaAWSService", "false")]), true),
        (r#"{"Bool":{"aws:ViaAWSService":"false"}}"#, ctx(&[("aws:ViaAWSService", "true")]), false),
    ];
    for (condition, keys, expected) in cases {
        assert_eq!(allowed_under(condition, keys), *expected, "{condition} with {keys:?}");
    }
}

#[test]
fn a_deny_unless_tls_applies_when_transport_is_plain() {
    let p = parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#,
        PolicyKind::Identity,
    );
    let set = PolicySet { identity: vec![&p], ..same_account() };
    let plain = ctx(&[("aws:SecureTransport", "false")]);
    assert_eq!(denial(&run_with(&set, &user(), GET, PARAM, &plain)), Some(Denial::ExplicitIdentity));
    let tls = ctx(&[("aws:SecureTransport", "true")]);
    assert!(run_with(&set, &user(), GET, PARAM, &tls).allowed);
}

#[test]
fn a_region_deny_with_string_not_equals_if_exists_applies_when_the_key_is_missing() {
    let p = parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:RequestedRegion":"us-east-1"}}}]}"#,
        PolicyKind::Identity,
    );
    let set = PolicySet { identity: vec![&p], ..same_account() };
    assert_eq!(denial(&run(&set, &user(), GET, PARAM)), Some(Denial::ExplicitIdentity));
    let east = ctx(&[("aws:RequestedRegion", "us-east-1")]);
    assert!(run_with(&set, &user(), GET, PARAM, &east).allowed);
}

#[test]
fn an_scp_region_condition_applies_through_the_context() {
    let s = parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1"]}}}]}"#,
        PolicyKind::ServiceControl,
    );
    let a = allow_all();
    let set = PolicySet { scp_levels: vec![vec![&s]], identity: vec![&a], ..same_account() };
    let west = ctx(&[("aws:RequestedRegion", "us-west-2")]);
    assert_eq!(denial(&run_with(&set, &user(), GET, PARAM, &west)), Some(Denial::ServiceControlPolicy));
}

// ---- Policy variables ------------------------------------------------------------------------

#[test]
fn a_username_variable_in_the_resource_limits_users_to_their_own_prefix() {
    let p = allow("ssm:*", "arn:aws:ssm:*:*:parameter/home/${aws:username}/*");
    let set = PolicySet { identity: vec![&p], ..same_account() };
    let alice = ctx(&[("aws:username", "alice")]);
    let own = "arn:aws:ssm:us-east-1:111122223333:parameter/home/alice/x";
    let other = "arn:aws:ssm:us-east-1:111122223333:parameter/home/bob/x";
    assert!(run_with(&set, &user(), GET, own, &alice).allowed);
    assert!(!run_with(&set, &user(), GET, other, &alice).allowed);
    // A role session has no aws:username: the pattern matches nothing.
    assert!(!run(&set, &session(), GET, own).allowed);
}

#[test]
fn variables_are_literal_text_under_version_2008() {
    let p = parse(
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"ssm:*","Resource":"arn:aws:ssm:*:*:parameter/home/${aws:username}"}}"#,
        PolicyKind::Identity,
    );
    let set = PolicySet { identity: vec![&p], ..same_account() };
    let alice = ctx(&[("aws:username", "alice")]);
    assert!(!run_with(&set, &user(), GET, "arn:aws:ssm:us-east-1:1:parameter/home/alice", &alice).allowed);
    assert!(run_with(&set, &user(), GET, "arn:aws:ssm:us-east-1:1:parameter/home/${aws:username}", &alice).allowed);
}

#[test]
fn a_principal_tag_variable_in_a_condition_compares_with_the_resource_tag() {
    let condition = r#"{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}"#;
    assert!(allowed_under(condition, &ctx(&[("aws:PrincipalTag/Team", "blue"), ("aws:ResourceTag/team", "blue")])));
    assert!(!allowed_under(condition, &ctx(&[("aws:PrincipalTag/team", "blue"), ("aws:ResourceTag/team", "red")])));
    assert!(!allowed_under(condition, &ctx(&[("aws:ResourceTag/team", "blue")])));
    let negated = r#"{"StringNotEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}"#;
    assert!(allowed_under(negated, &ctx(&[("aws:ResourceTag/team", "blue")])));
}

#[test]
fn a_variable_default_is_used_when_the_key_is_missing() {
    let p = allow("ssm:*", "arn:aws:ssm:*:*:parameter/team/${aws:PrincipalTag/team, 'none'}/*");
    let set = PolicySet { identity: vec![&p], ..same_account() };
    assert!(run(&set, &session(), GET, "arn:aws:ssm:us-east-1:1:parameter/team/none/x").allowed);
}

// ---- Sharing and speed -----------------------------------------------------------------------

#[test]
fn compiled_policies_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Policy>();
    assert_send_sync::<ContextKeys>();
    let p = std::sync::Arc::new(allow_all());
    let handle = {
        let p = p.clone();
        std::thread::spawn(move || {
            let set = PolicySet { identity: vec![&*p], ..same_account() };
            run(&set, &user(), GET, PARAM).allowed
        })
    };
    assert_eq!(handle.join().ok(), Some(true));
}

#[test]
fn a_hundred_statements_evaluate_quickly() {
    let statements: Vec<String> = (0..100)
        .map(|i| {
            format!(
                r#"{{"Effect":"Allow","Action":["ssm:GetParameter{i}","ssm:Put*"],"Resource":"arn:aws:ssm:us-east-1:111122223333:parameter/app{i}/*",
                    "Condition":{{"StringEquals":{{"aws:RequestedRegion":"us-east-1"}},"IpAddress":{{"aws:SourceIp":"10.0.0.0/8"}}}}}}"#
            )
        })
        .collect();
    let p =
        parse(&format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, statements.join(",")), PolicyKind::Identity);
    let set = PolicySet { identity: vec![&p], ..same_account() };
    let keys = ctx(&[("aws:RequestedRegion", "us-east-1"), ("aws:SourceIp", "10.1.2.3")]);
    let resource = "arn:aws:ssm:us-east-1:111122223333:parameter/app99/db";
    let start = std::time::Instant::now();
    let rounds = 2000;
    for _ in 0..rounds {
        assert!(run_with(&set, &user(), "ssm:GetParameter99", resource, &keys).allowed);
    }
    let per_call = start.elapsed() / rounds;
    // Generous for unoptimised test builds on a shared machine; release builds take a few µs.
    assert!(per_call < std::time::Duration::from_millis(1), "{per_call:?} per evaluation");
}
