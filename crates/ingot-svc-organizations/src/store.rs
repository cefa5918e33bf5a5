//! How Organizations lays out its state. The records and key builders are in
//! `ingot_identity::organization` (the policy authorizer reads the same records); this file reads
//! and writes them for the handlers.
//!
//! | key | record | why |
//! |---|---|---|
//! | `ACCOUNT/global/organizations/membership` | `MembershipRecord` | the organization an account is in: one read finds the caller's organization |
//! | `ACCOUNT/global/organizations/profile` | `AccountProfileRecord` | an account's email and name, kept after it leaves |
//! | `ACCOUNT/global/organizations/handshakes/H_ID` | `HandshakeRefRecord` | invitations addressed to an account (ListHandshakesForAccount, AcceptHandshake) |
//! | `org/ORG/organizations/organization` | `OrganizationRecord` | the organization, its root, the root's policies and tags, service access |
//! | `org/ORG/organizations/accounts/ACCOUNT` | `AccountRecord` | a member account (the management account too): parent, policies, tags |
//! | `org/ORG/organizations/ous/OU_ID` | `OuRecord` | an OU: parent, policies, tags |
//! | `org/ORG/organizations/ou-names/PARENT_ID/NAME` | `NameIndexRecord` | OU names unique under a parent |
//! | `org/ORG/organizations/policies/POLICY_ID` | `OrgPolicyRecord` | a customer policy (`p-FullAWSAccess` is data) |
//! | `org/ORG/organizations/policy-names/TYPE/NAME` | `NameIndexRecord` | policy names unique per type |
//! | `org/ORG/organizations/handshakes/H_ID` | `HandshakeRecord` | an invitation, with its wire shape |
//! | `org/ORG/organizations/create-account-statuses/CAR_ID` | `CreateAccountStatusRecord` | a CreateAccount request and its outcome |
//! | `global/organizations/emails/EMAIL` | `EmailRecord` | account emails are unique (lower-cased) |
//!
//! Parents are stored on the child (`parent_id`): a move is one write. Children are found by
//! scanning the organization's accounts and OUs (an organization holds at most
//! [`crate::account_creation::MAX_ACCOUNTS`] accounts and [`MAX_OUS`] OUs).

use crate::errors::OrganizationsError;
use crate::ids::{kind_of, IdKind};
use ingot_core::AccountId;
use ingot_identity::organization::{
    account_record_key, accounts_prefix, membership_key, organization_key, ou_key, ous_prefix, policies_prefix,
    policy_key, CreateAccountStatusRecord, SERVICE_CONTROL_POLICY,
};
use ingot_identity::{AccountRecord, MembershipRecord, OrgPolicyRecord, OrganizationRecord, OuRecord};
use ingot_store::{Record, Tx};
use std::collections::HashMap;

/// OUs are at most five levels below the root.
pub const MAX_OU_DEPTH: usize = 5;
/// OUs per organization (AWS's current quota).
pub const MAX_OUS: usize = 2_000;

/// Records read per scan page.
const SCAN_PAGE: usize = 500;

pub async fn membership(tx: &Tx, account: &AccountId) -> Result<Option<MembershipRecord>, OrganizationsError> {
    Ok(tx.get_record(&membership_key(account)).await?)
}

pub async fn organization(tx: &Tx, organization_id: &str) -> Result<Option<OrganizationRecord>, OrganizationsError> {
    Ok(tx.get_record(&organization_key(organization_id)).await?)
}

pub fn save_organization(tx: &Tx, org: &OrganizationRecord) {
    tx.put_record(&organization_key(&org.id), org);
}

pub async fn account(tx: &Tx, org: &OrganizationRecord, id: &str) -> Result<Option<AccountRecord>, OrganizationsError> {
    let Some(account) = AccountId::parse(id) else { return Ok(None) };
    Ok(tx.get_record(&account_record_key(&org.id, &account)).await?)
}

pub fn save_account(tx: &Tx, org: &OrganizationRecord, record: &AccountRecord) {
    tx.put_record(&account_record_key(&org.id, &record.id), record);
}

pub async fn ou(tx: &Tx, org: &OrganizationRecord, id: &str) -> Result<Option<OuRecord>, OrganizationsError> {
    if kind_of(id) != IdKind::OrganizationalUnit {
        return Ok(None);
    }
    Ok(tx.get_record(&ou_key(&org.id, id)).await?)
}

pub fn save_ou(tx: &Tx, org: &OrganizationRecord, record: &OuRecord) {
    tx.put_record(&ou_key(&org.id, &record.id), record);
}

pub async fn policy(
    tx: &Tx,
    org: &OrganizationRecord,
    id: &str,
) -> Result<Option<OrgPolicyRecord>, OrganizationsError> {
    Ok(tx.get_record(&policy_key(&org.id, id)).await?)
}

pub fn save_policy(tx: &Tx, org: &OrganizationRecord, record: &OrgPolicyRecord) {
    tx.put_record(&policy_key(&org.id, &record.id), record);
}

/// Every record under `prefix`, in key order.
pub async fn scan_all<R: Record>(tx: &Tx, prefix: &str) -> Result<Vec<(String, R)>, OrganizationsError> {
    let mut out: Vec<(String, R)> = Vec::new();
    loop {
        let after = out.last().map(|(k, _)| k.clone());
        let page = tx.scan_records::<R>(prefix, after.as_deref(), SCAN_PAGE).await?;
        let full = page.len() == SCAN_PAGE;
        out.extend(page);
        if !full {
            return Ok(out);
        }
    }
}

/// Every key under `prefix`, in order (records of any kind).
pub async fn scan_keys(tx: &Tx, prefix: &str) -> Result<Vec<String>, OrganizationsError> {
    let mut out: Vec<String> = Vec::new();
    loop {
        let page = tx.scan(prefix, out.last().map(String::as_str), SCAN_PAGE).await?;
        let full = page.len() == SCAN_PAGE;
        out.extend(page.into_iter().map(|(k, _)| k));
        if !full {
            return Ok(out);
        }
    }
}

pub async fn all_accounts(tx: &Tx, org: &OrganizationRecord) -> Result<Vec<AccountRecord>, OrganizationsError> {
    Ok(scan_all::<AccountRecord>(tx, &accounts_prefix(&org.id)).await?.into_iter().map(|(_, r)| r).collect())
}

pub async fn all_ous(tx: &Tx, org: &OrganizationRecord) -> Result<Vec<OuRecord>, OrganizationsError> {
    Ok(scan_all::<OuRecord>(tx, &ous_prefix(&org.id)).await?.into_iter().map(|(_, r)| r).collect())
}

pub async fn all_policies(tx: &Tx, org: &OrganizationRecord) -> Result<Vec<OrgPolicyRecord>, OrganizationsError> {
    Ok(scan_all::<OrgPolicyRecord>(tx, &policies_prefix(&org.id)).await?.into_iter().map(|(_, r)| r).collect())
}

pub async fn all_statuses(
    tx: &Tx,
    org: &OrganizationRecord,
) -> Result<Vec<CreateAccountStatusRecord>, OrganizationsError> {
    let prefix = ingot_identity::organization::create_account_statuses_prefix(&org.id);
    Ok(scan_all::<CreateAccountStatusRecord>(tx, &prefix).await?.into_iter().map(|(_, r)| r).collect())
}

/// Whether service control policies are enabled on the organization's root.
pub fn scps_enabled(org: &OrganizationRecord) -> bool {
    org.policy_type_enabled(SERVICE_CONTROL_POLICY)
}

/// The policies a new OU or account starts with: `FullAWSAccess` while SCPs are enabled.
pub fn initial_policies(org: &OrganizationRecord) -> Vec<String> {
    if scps_enabled(org) {
        vec![ingot_identity::organization::FULL_AWS_ACCESS_ID.to_string()]
    } else {
        Vec::new()
    }
}

/// A parent (or policy target) that exists: the root or an OU.
#[derive(Debug, Clone)]
pub enum Parent {
    Root,
    Ou(OuRecord),
}

impl Parent {
    pub fn id<'a>(&'a self, org: &'a OrganizationRecord) -> &'a str {
        match self {
            Parent::Root => &org.root_id,
            Parent::Ou(ou) => &ou.id,
        }
    }
}

/// The root or OU `id` names, if it exists in `org`.
pub async fn parent(tx: &Tx, org: &OrganizationRecord, id: &str) -> Result<Option<Parent>, OrganizationsError> {
    if id == org.root_id {
        return Ok(Some(Parent::Root));
    }
    Ok(ou(tx, org, id).await?.map(Parent::Ou))
}

/// The OUs of an organization by id, for paths and depths.
pub struct OuTree {
    pub ous: HashMap<String, OuRecord>,
}

impl OuTree {
    pub async fn load(tx: &Tx, org: &OrganizationRecord) -> Result<Self, OrganizationsError> {
        Ok(OuTree { ous: all_ous(tx, org).await?.into_iter().map(|ou| (ou.id.clone(), ou)).collect() })
    }

    /// The OU ids from the root down to `parent_id` (inclusive; empty for the root). A walk
    /// longer than the depth limit means corrupt data and stops.
    pub fn chain(&self, org: &OrganizationRecord, parent_id: &str) -> Vec<String> {
        let mut chain = Vec::new();
        let mut next = parent_id;
        while next != org.root_id && chain.len() <= MAX_OU_DEPTH + 2 {
            let Some(ou) = self.ous.get(next) else { break };
            chain.push(ou.id.clone());
            next = &ou.parent_id;
        }
        chain.reverse();
        chain
    }

    /// `o-…/r-…/ou-…/…/`: the path of `parent_id` (root or OU).
    pub fn path(&self, org: &OrganizationRecord, parent_id: &str) -> String {
        path_of(org, &self.chain(org, parent_id))
    }
}

/// `o-…/r-…/` followed by each OU of `chain` and a slash.
pub fn path_of(org: &OrganizationRecord, chain: &[String]) -> String {
    let mut path = [org.id.as_str(), "/", org.root_id.as_str(), "/"].concat();
    for ou in chain {
        path.push_str(ou);
        path.push('/');
    }
    path
}

/// The OU ids from the root down to `id` (inclusive), read one OU at a time (no scan).
pub async fn ou_chain(tx: &Tx, org: &OrganizationRecord, id: &str) -> Result<Vec<String>, OrganizationsError> {
    let mut chain = Vec::new();
    let mut next = id.to_string();
    while next != org.root_id && chain.len() <= MAX_OU_DEPTH + 2 {
        let Some(ou) = ou(tx, org, &next).await? else { break };
        chain.push(ou.id.clone());
        next = ou.parent_id;
    }
    chain.reverse();
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::tests::org;

    fn ou(id: &str, parent: &str) -> (String, OuRecord) {
        let record = OuRecord {
            id: id.into(),
            arn: String::new(),
            name: id.into(),
            parent_id: parent.into(),
            policies: vec![],
            tags: vec![],
        };
        (id.to_string(), record)
    }

    #[test]
    fn paths_list_the_organization_root_and_ous_with_trailing_slashes() {
        let org = org();
        let tree =
            OuTree { ous: [ou("ou-ab12-aaaaaaaa", "r-ab12"), ou("ou-ab12-bbbbbbbb", "ou-ab12-aaaaaaaa")].into() };
        assert_eq!(tree.path(&org, "r-ab12"), "o-abcdefghij/r-ab12/");
        assert_eq!(tree.path(&org, "ou-ab12-bbbbbbbb"), "o-abcdefghij/r-ab12/ou-ab12-aaaaaaaa/ou-ab12-bbbbbbbb/");
        assert_eq!(tree.chain(&org, "ou-ab12-aaaaaaaa"), vec!["ou-ab12-aaaaaaaa".to_string()]);
    }

    #[test]
    fn a_cycle_in_corrupt_data_ends_the_walk() {
        let org = org();
        let tree = OuTree {
            ous: [ou("ou-ab12-aaaaaaaa", "ou-ab12-bbbbbbbb"), ou("ou-ab12-bbbbbbbb", "ou-ab12-aaaaaaaa")].into(),
        };
        assert!(tree.chain(&org, "ou-ab12-aaaaaaaa").len() <= MAX_OU_DEPTH + 3);
    }
}
