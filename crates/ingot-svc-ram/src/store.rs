//! How RAM lays out its state, and the records it keeps.
//!
//! | key | record | why |
//! |---|---|---|
//! | `OWNER/REGION/ram/resource-shares/SHARE_ID` | [`ShareRecord`]: the share, its resources, principals and permissions with their statuses | one read answers anything about a share |
//! | `global/ram/shares/REGION/OWNER/SHARE_ID` | [`ShareIndexRecord`]: where a share lives | shares shared with an account (`OTHER-ACCOUNTS`, SSM's `Shared` listing) without knowing the owners |
//! | `RECEIVER/REGION/ram/invitations/INVITATION_ID` | [`InvitationRecord`] | an account's invitations are one prefix scan |
//! | `OWNER/REGION/ram/resource-policies/RESOURCE_ARN` | `ingot_identity::resource_policies::ResourcePoliciesRecord` | the owning service's access check reads a resource's RAM statements (and its own policies) in one read |
//!
//! Sharing with the organization is on when the organization's trusted access lists
//! `ram.amazonaws.com` (Organizations' `EnableAWSServiceAccess`, which
//! EnableSharingWithAwsOrganization calls).

use ingot_core::{AccountId, Region, Scope, Timestamp};
use ingot_store::Tx;
use serde::{Deserialize, Serialize};

/// The service principal RAM acts as.
pub const RAM_SERVICE: &str = "ram.amazonaws.com";

/// A resource share and everything associated with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareRecord {
    /// `arn:PARTITION:ram:REGION:OWNER:resource-share/UUID`.
    pub arn: String,
    pub id: String,
    pub name: String,
    pub owner: AccountId,
    pub allow_external_principals: bool,
    /// `ACTIVE` or `DELETED`.
    pub status: String,
    /// `STANDARD`, or `CREATED_FROM_POLICY` for a share made by a service's PutResourcePolicy.
    pub feature_set: String,
    pub created: Timestamp,
    pub updated: Timestamp,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub resources: Vec<Association>,
    #[serde(default)]
    pub principals: Vec<Association>,
    /// Permission ARNs with the version attached (one per resource type).
    #[serde(default)]
    pub permissions: Vec<PermissionAssociation>,
    /// Client tokens of the calls that made or changed the share, with a fingerprint of the call,
    /// for idempotent retries.
    #[serde(default)]
    pub client_tokens: Vec<(String, String)>,
}

impl ingot_store::Record for ShareRecord {
    const KIND: &'static str = "ram.resource-share";
    const SCHEMA_VERSION: u32 = 1;
}

/// A resource or a principal associated with a share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Association {
    /// The resource ARN, or the principal (account id, organization, OU or IAM ARN).
    pub entity: String,
    /// `ASSOCIATING`, `ASSOCIATED`, `FAILED`, `DISASSOCIATING`, `DISASSOCIATED`.
    pub status: String,
    #[serde(default)]
    pub status_message: Option<String>,
    /// For principals: outside the owner's organization.
    #[serde(default)]
    pub external: bool,
    /// For resources: the resource type (`ssm:Parameter`).
    #[serde(default)]
    pub resource_type: Option<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
}

/// A permission attached to a share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionAssociation {
    pub arn: String,
    pub version: i32,
    pub created: Timestamp,
    pub updated: Timestamp,
}

/// Where a share lives, for lookups that do not know its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareIndexRecord {
    pub share_arn: String,
    pub owner: AccountId,
    pub share_id: String,
}

impl ingot_store::Record for ShareIndexRecord {
    const KIND: &'static str = "ram.share-index";
    const SCHEMA_VERSION: u32 = 1;
}

/// An invitation to an account outside the owner's organization (or in it, when sharing with the
/// organization is off).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRecord {
    pub arn: String,
    pub id: String,
    pub share_arn: String,
    pub share_name: String,
    pub sender: AccountId,
    pub receiver: AccountId,
    pub created: Timestamp,
    /// `PENDING`, `ACCEPTED`, `REJECTED`; a pending invitation past its expiry reads `EXPIRED`.
    pub status: String,
}

impl ingot_store::Record for InvitationRecord {
    const KIND: &'static str = "ram.invitation";
    const SCHEMA_VERSION: u32 = 1;
}

pub fn share_key(owner: &Scope, share_id: &str) -> String {
    owner.key("ram", &["resource-shares/", share_id].concat())
}

pub fn shares_prefix(owner: &Scope) -> String {
    owner.key("ram", "resource-shares/")
}

/// `global/ram/shares/REGION/`: every share of a region.
pub fn share_index_prefix(region: &Region) -> String {
    ingot_core::scope::global_key("ram", &["shares/", region.as_str(), "/"].concat())
}

pub fn share_index_key(owner: &Scope, share_id: &str) -> String {
    [share_index_prefix(&owner.region), owner.account.to_string(), "/".into(), share_id.to_string()].concat()
}

pub fn invitation_key(receiver: &Scope, invitation_id: &str) -> String {
    receiver.key("ram", &["invitations/", invitation_id].concat())
}

pub fn invitations_prefix(receiver: &Scope) -> String {
    receiver.key("ram", "invitations/")
}

/// Loads a share of `owner` by id.
pub async fn load_share(
    tx: &Tx,
    owner: &Scope,
    share_id: &str,
) -> Result<Option<ShareRecord>, ingot_store::StoreError> {
    tx.get_record::<ShareRecord>(&share_key(owner, share_id)).await
}

/// Saves a share and its index entry.
pub fn save_share(tx: &Tx, owner: &Scope, share: &ShareRecord) {
    tx.put_record(&share_key(owner, &share.id), share);
    let index =
        ShareIndexRecord { share_arn: share.arn.clone(), owner: owner.account.clone(), share_id: share.id.clone() };
    tx.put_record(&share_index_key(owner, &share.id), &index);
}
