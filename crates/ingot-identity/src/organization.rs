//! AWS Organizations as stored. An organization's own records are kept under
//! `org/ORG_ID/organizations/…`; each account knows its organization through one record of its
//! own, so a call finds the organization of its principal's (or resource's) account with one read.
//!
//! | key | record | why |
//! |---|---|---|
//! | `ACCOUNT/global/organizations/membership` | [`MembershipRecord`] | the organization an account is in |
//! | `org/ORG/organizations/organization` | [`OrganizationRecord`] | the organization, its one root and the root's policies |
//! | `org/ORG/organizations/accounts/ACCOUNT` | [`AccountRecord`] | a member account, its parent and policies |
//! | `org/ORG/organizations/ous/OU_ID` | [`OuRecord`] | an OU, its parent and policies |
//! | `org/ORG/organizations/policies/POLICY_ID` | [`OrgPolicyRecord`] | a customer policy (AWS's `FullAWSAccess` is data) |
//! | `org/ORG/organizations/handshakes/H_ID` | [`HandshakeRecord`] | an invitation; the invited account finds it through `ACCOUNT/global/organizations/handshakes/H_ID` |
//! | `ACCOUNT/global/organizations/handshakes/H_ID` | [`HandshakeRefRecord`] | the organization that sent the invitation, for the invited account's listing and acceptance |
//! | `org/ORG/organizations/create-account-statuses/CAR_ID` | [`CreateAccountStatusRecord`] | a CreateAccount request, its job's progress and outcome |
//! | `org/ORG/organizations/ou-names/PARENT_ID/NAME` | [`NameIndexRecord`] | OU names are unique under a parent: one point read, and a concurrent create conflicts |
//! | `org/ORG/organizations/policy-names/TYPE/NAME` | [`NameIndexRecord`] | policy names are unique per policy type in an organization |
//! | `ACCOUNT/global/organizations/profile` | [`AccountProfileRecord`] | an account's email and name, kept when it leaves its organization |
//! | `global/organizations/emails/EMAIL` | [`EmailRecord`] | emails are unique across accounts (lower-cased) |
//!
//! Parents are stored on the child (`parent_id`), so moving an account is one write and every
//! decision after it walks the new path.

use crate::iam::Tag;
use ingot_core::scope::{account_key, global_key, org_key};
use ingot_core::{AccountId, Timestamp};
use ingot_store::{StoreError, Tx};
use serde::{Deserialize, Serialize};

/// The id of AWS's managed SCP that allows everything.
pub const FULL_AWS_ACCESS_ID: &str = "p-FullAWSAccess";
/// Its content.
pub const FULL_AWS_ACCESS_CONTENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// The policy type of service control policies.
pub const SERVICE_CONTROL_POLICY: &str = "SERVICE_CONTROL_POLICY";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembershipRecord {
    pub organization_id: String,
    pub management_account: AccountId,
}

impl ingot_store::Record for MembershipRecord {
    const KIND: &'static str = "organizations.membership";
    const SCHEMA_VERSION: u32 = 1;
}

/// A policy type's status on the root (`SERVICE_CONTROL_POLICY` → `ENABLED`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyTypeStatus {
    pub policy_type: String,
    pub status: String,
}

/// A service given access to the organization (EnableAWSServiceAccess).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceAccess {
    pub service_principal: String,
    pub enabled: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationRecord {
    /// `o-…`.
    pub id: String,
    pub arn: String,
    /// `ALL` or `CONSOLIDATED_BILLING`.
    pub feature_set: String,
    pub management_account: AccountId,
    pub management_email: String,
    pub created: Timestamp,
    /// `r-…`: an organization has exactly one root.
    pub root_id: String,
    pub root_arn: String,
    pub root_name: String,
    #[serde(default)]
    pub policy_types: Vec<PolicyTypeStatus>,
    /// Policy ids attached to the root.
    #[serde(default)]
    pub root_policies: Vec<String>,
    #[serde(default)]
    pub root_tags: Vec<Tag>,
    #[serde(default)]
    pub service_access: Vec<ServiceAccess>,
}

impl OrganizationRecord {
    pub fn policy_type_enabled(&self, policy_type: &str) -> bool {
        self.policy_types.iter().any(|t| t.policy_type == policy_type && t.status == "ENABLED")
    }
}

impl ingot_store::Record for OrganizationRecord {
    const KIND: &'static str = "organizations.organization";
    const SCHEMA_VERSION: u32 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub id: AccountId,
    pub arn: String,
    pub email: String,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`.
    pub status: String,
    /// `CREATED` or `INVITED`.
    pub joined_method: String,
    pub joined: Timestamp,
    /// `r-…` or `ou-…`.
    pub parent_id: String,
    /// Policy ids attached directly to the account.
    #[serde(default)]
    pub policies: Vec<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl ingot_store::Record for AccountRecord {
    const KIND: &'static str = "organizations.account";
    const SCHEMA_VERSION: u32 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OuRecord {
    /// `ou-…`.
    pub id: String,
    pub arn: String,
    pub name: String,
    pub parent_id: String,
    #[serde(default)]
    pub policies: Vec<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl ingot_store::Record for OuRecord {
    const KIND: &'static str = "organizations.ou";
    const SCHEMA_VERSION: u32 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgPolicyRecord {
    /// `p-…`.
    pub id: String,
    pub arn: String,
    pub name: String,
    pub description: String,
    pub policy_type: String,
    pub content: String,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl ingot_store::Record for OrgPolicyRecord {
    const KIND: &'static str = "organizations.policy";
    const SCHEMA_VERSION: u32 = 1;
}

/// An invitation (or another handshake) as the Organizations API reports it; `handshake` is the
/// wire shape, kept whole so that it is reported as it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandshakeRecord {
    pub id: String,
    pub organization_id: String,
    /// The invited account, when the target is an account.
    pub target_account: Option<AccountId>,
    pub state: String,
    pub expires: Timestamp,
    pub handshake: serde_json::Value,
    /// When it was accepted, declined or canceled (finished handshakes leave listings 30 days
    /// later).
    #[serde(default)]
    pub finished: Option<Timestamp>,
}

impl ingot_store::Record for HandshakeRecord {
    const KIND: &'static str = "organizations.handshake";
    const SCHEMA_VERSION: u32 = 1;
}

/// Where the invited account finds a handshake addressed to it ([`account_handshake_key`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandshakeRefRecord {
    pub organization_id: String,
}

impl ingot_store::Record for HandshakeRefRecord {
    const KIND: &'static str = "organizations.handshake-ref";
    const SCHEMA_VERSION: u32 = 1;
}

/// A CreateAccount request (`car-…`) as DescribeCreateAccountStatus reports it, and what its
/// job needs to finish it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateAccountStatusRecord {
    pub id: String,
    pub organization_id: String,
    pub account_name: String,
    pub email: String,
    /// The role made in the new account (`OrganizationAccountAccessRole` by default).
    pub role_name: String,
    /// `ALLOW` or `DENY`.
    pub iam_user_access_to_billing: String,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// `IN_PROGRESS`, `SUCCEEDED` or `FAILED`.
    pub state: String,
    pub requested: Timestamp,
    #[serde(default)]
    pub completed: Option<Timestamp>,
    /// The new account's id, chosen (and its email reserved) before its roles are made, so a
    /// repeated run makes them in the same account.
    #[serde(default)]
    pub account_id: Option<AccountId>,
    /// A `CreateAccountFailureReason` when `state` is `FAILED`.
    #[serde(default)]
    pub failure_reason: Option<String>,
}

impl ingot_store::Record for CreateAccountStatusRecord {
    const KIND: &'static str = "organizations.create-account-status";
    const SCHEMA_VERSION: u32 = 1;
}

/// A name taken under a parent (OU names) or in a policy type (policy names): the id holding it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameIndexRecord {
    pub id: String,
}

impl ingot_store::Record for NameIndexRecord {
    const KIND: &'static str = "organizations.name";
    const SCHEMA_VERSION: u32 = 1;
}

/// An account's email address and name, as Organizations knows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountProfileRecord {
    pub email: String,
    pub name: String,
}

impl ingot_store::Record for AccountProfileRecord {
    const KIND: &'static str = "organizations.profile";
    const SCHEMA_VERSION: u32 = 1;
}

/// The account that holds an email address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailRecord {
    pub account: AccountId,
}

impl ingot_store::Record for EmailRecord {
    const KIND: &'static str = "organizations.email";
    const SCHEMA_VERSION: u32 = 1;
}

pub fn membership_key(account: &AccountId) -> String {
    account_key(account, "organizations", "membership")
}

pub fn organization_key(organization_id: &str) -> String {
    org_key(organization_id, "organizations", "organization")
}

pub fn account_record_key(organization_id: &str, account: &AccountId) -> String {
    org_key(organization_id, "organizations", &["accounts/", account.as_str()].concat())
}

pub fn ou_key(organization_id: &str, ou_id: &str) -> String {
    org_key(organization_id, "organizations", &["ous/", ou_id].concat())
}

pub fn policy_key(organization_id: &str, policy_id: &str) -> String {
    org_key(organization_id, "organizations", &["policies/", policy_id].concat())
}

pub fn handshake_key(organization_id: &str, handshake_id: &str) -> String {
    org_key(organization_id, "organizations", &["handshakes/", handshake_id].concat())
}

/// Where the invited account finds a handshake addressed to it (the value is the organization id).
pub fn account_handshake_key(account: &AccountId, handshake_id: &str) -> String {
    account_key(account, "organizations", &["handshakes/", handshake_id].concat())
}

/// The prefix of every record of an organization (`org/ORG/organizations/`).
pub fn organization_prefix(organization_id: &str) -> String {
    org_key(organization_id, "organizations", "")
}

/// `org/ORG/organizations/accounts/`.
pub fn accounts_prefix(organization_id: &str) -> String {
    org_key(organization_id, "organizations", "accounts/")
}

/// `org/ORG/organizations/ous/`.
pub fn ous_prefix(organization_id: &str) -> String {
    org_key(organization_id, "organizations", "ous/")
}

/// `org/ORG/organizations/policies/`.
pub fn policies_prefix(organization_id: &str) -> String {
    org_key(organization_id, "organizations", "policies/")
}

pub fn create_account_status_key(organization_id: &str, request_id: &str) -> String {
    org_key(organization_id, "organizations", &["create-account-statuses/", request_id].concat())
}

/// `org/ORG/organizations/create-account-statuses/`.
pub fn create_account_statuses_prefix(organization_id: &str) -> String {
    org_key(organization_id, "organizations", "create-account-statuses/")
}

pub fn ou_name_key(organization_id: &str, parent_id: &str, name: &str) -> String {
    org_key(organization_id, "organizations", &["ou-names/", parent_id, "/", name].concat())
}

pub fn policy_name_key(organization_id: &str, policy_type: &str, name: &str) -> String {
    org_key(organization_id, "organizations", &["policy-names/", policy_type, "/", name].concat())
}

/// `ACCOUNT/global/organizations/handshakes/`: the handshakes addressed to an account.
pub fn account_handshakes_prefix(account: &AccountId) -> String {
    account_key(account, "organizations", "handshakes/")
}

pub fn profile_key(account: &AccountId) -> String {
    account_key(account, "organizations", "profile")
}

/// `global/organizations/emails/EMAIL`, the email lower-cased (addresses are compared without case).
pub fn email_key(email: &str) -> String {
    global_key("organizations", &["emails/", &email.to_ascii_lowercase()].concat())
}

/// An account's place in its organization: what SCPs apply to it and what `aws:PrincipalOrgID`
/// and `aws:PrincipalOrgPaths` (or their resource twins) say about it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountPath {
    pub organization_id: String,
    pub management_account: AccountId,
    pub root_id: String,
    /// OU ids from the root down to the account's parent.
    pub ous: Vec<String>,
    /// Whether service control policies are enabled on the root.
    pub scps_enabled: bool,
    /// Policy ids attached at each level: the root, each OU in order, the account.
    pub policies_by_level: Vec<Vec<String>>,
}

impl AccountPath {
    /// `o-…/r-…/ou-…/…/`: the account's parent path, as `aws:PrincipalOrgPaths` gives it.
    pub fn org_path(&self) -> String {
        let mut path = [self.organization_id.as_str(), "/", self.root_id.as_str(), "/"].concat();
        for ou in &self.ous {
            path.push_str(ou);
            path.push('/');
        }
        path
    }

    pub fn is_management_account(&self, account: &AccountId) -> bool {
        &self.management_account == account
    }
}

/// OUs are at most five deep; a longer walk means a cycle in corrupt data and stops.
const MAX_DEPTH: usize = 8;

/// The organization path of `account`, read through `tx` (so a later move conflicts with a
/// decision made on the old path); `None` when the account is in no organization.
pub async fn account_path(tx: &Tx, account: &AccountId) -> Result<Option<AccountPath>, StoreError> {
    let Some(membership) = tx.get_record_cached::<MembershipRecord>(membership_key(account)).await? else {
        return Ok(None);
    };
    let org_id = &membership.organization_id;
    let Some(organization) = tx.get_record_cached::<OrganizationRecord>(organization_key(org_id)).await? else {
        return Ok(None);
    };
    let account_record = tx.get_record_cached::<AccountRecord>(account_record_key(org_id, account)).await?;
    let (parent, account_policies) = match &account_record {
        Some(record) => (record.parent_id.clone(), record.policies.clone()),
        // A membership without its account record is a half-made join; the root holds it.
        None => (organization.root_id.clone(), Vec::new()),
    };
    let mut ous = Vec::new();
    let mut ou_policies = Vec::new();
    let mut next = parent;
    while next != organization.root_id && ous.len() < MAX_DEPTH {
        let Some(ou) = tx.get_record_cached::<OuRecord>(ou_key(org_id, &next)).await? else {
            break;
        };
        ous.push(ou.id.clone());
        ou_policies.push(ou.policies.clone());
        next = ou.parent_id.clone();
    }
    ous.reverse();
    ou_policies.reverse();
    let mut policies_by_level = vec![organization.root_policies.clone()];
    policies_by_level.extend(ou_policies);
    policies_by_level.push(account_policies);
    Ok(Some(AccountPath {
        organization_id: org_id.clone(),
        management_account: membership.management_account.clone(),
        root_id: organization.root_id.clone(),
        ous,
        scps_enabled: organization.policy_type_enabled(SERVICE_CONTROL_POLICY),
        policies_by_level,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_org_path_lists_root_and_ous_with_a_trailing_slash() {
        let path = AccountPath {
            organization_id: "o-abcdefghij".into(),
            management_account: AccountId::parse("111111111111").unwrap(),
            root_id: "r-ab12".into(),
            ous: vec!["ou-ab12-11111111".into()],
            scps_enabled: true,
            policies_by_level: vec![],
        };
        assert_eq!(path.org_path(), "o-abcdefghij/r-ab12/ou-ab12-11111111/");
    }

    #[test]
    fn keys_keep_the_documented_layout() {
        let account = AccountId::parse("111111111111").unwrap();
        assert_eq!(create_account_status_key("o-x", "car-1"), "org/o-x/organizations/create-account-statuses/car-1");
        assert!(create_account_status_key("o-x", "car-1").starts_with(&create_account_statuses_prefix("o-x")));
        assert_eq!(ou_name_key("o-x", "r-ab12", "Dev"), "org/o-x/organizations/ou-names/r-ab12/Dev");
        assert_eq!(
            policy_name_key("o-x", "SERVICE_CONTROL_POLICY", "p"),
            "org/o-x/organizations/policy-names/SERVICE_CONTROL_POLICY/p"
        );
        assert_eq!(profile_key(&account), "111111111111/global/organizations/profile");
        assert_eq!(email_key("A@Example.com"), "global/organizations/emails/a@example.com");
        assert!(account_handshake_key(&account, "h-1").starts_with(&account_handshakes_prefix(&account)));
        assert!(account_record_key("o-x", &account).starts_with(&accounts_prefix("o-x")));
        assert!(ou_key("o-x", "ou-1").starts_with(&ous_prefix("o-x")));
        assert!(policy_key("o-x", "p-1").starts_with(&policies_prefix("o-x")));
        assert!(organization_key("o-x").starts_with(&organization_prefix("o-x")));
    }
}
