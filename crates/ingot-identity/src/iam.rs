//! IAM entities as stored. Every IAM record is kept per account under
//! `ACCOUNT/global/iam/…` (IAM is global: no region), keyed by the entity's name in lower case,
//! because IAM names are unique per account whatever their case (`ADMINS` and `admins` collide)
//! while the record keeps the case it was created with.
//!
//! | key | record | why |
//! |---|---|---|
//! | `ACCOUNT/global/iam/users/NAME` | [`UserRecord`] | inline policies, attachments and group names inside: one read gathers a user's own policies |
//! | `ACCOUNT/global/iam/groups/NAME` | [`GroupRecord`] | members are found from the users' side (`UserRecord::groups`) |
//! | `ACCOUNT/global/iam/roles/NAME` | [`RoleRecord`] | one read per call made by one of its sessions |
//! | `ACCOUNT/global/iam/policies/NAME` | [`ManagedPolicyRecord`] | customer managed policies with every version |
//! | `ACCOUNT/global/iam/instance-profiles/NAME` | [`InstanceProfileRecord`] | |
//!
//! Access keys and sessions are installation-wide (`global/iam/access-keys/ID`,
//! `ingot_core::credentials`): a request names only its key id.

use ingot_core::{scope::account_key, AccountId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A tag on an IAM entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub name: String,
    pub path: String,
    /// `AIDA…`.
    pub id: String,
    pub arn: String,
    pub created: Timestamp,
    #[serde(default)]
    pub permissions_boundary: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Inline policies by name, documents as given (already URL-decoded).
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
    /// Attached managed policy ARNs, in the order they were attached.
    #[serde(default)]
    pub attached_policies: Vec<String>,
    /// Names of the groups the user belongs to, as the groups spell them.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The user's access key ids (at most two), oldest first; each key's record is
    /// `global/iam/access-keys/ID`.
    #[serde(default)]
    pub access_keys: Vec<String>,
}

impl ingot_store::Record for UserRecord {
    const KIND: &'static str = "iam.user";
    const SCHEMA_VERSION: u32 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRecord {
    pub name: String,
    pub path: String,
    /// `AGPA…`.
    pub id: String,
    pub arn: String,
    pub created: Timestamp,
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
    #[serde(default)]
    pub attached_policies: Vec<String>,
}

impl ingot_store::Record for GroupRecord {
    const KIND: &'static str = "iam.group";
    const SCHEMA_VERSION: u32 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleRecord {
    pub name: String,
    pub path: String,
    /// `AROA…`.
    pub id: String,
    pub arn: String,
    pub created: Timestamp,
    /// The trust policy, as given (already URL-decoded).
    pub assume_role_policy: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Seconds, 3600..=43200.
    pub max_session_duration: i64,
    #[serde(default)]
    pub permissions_boundary: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
    #[serde(default)]
    pub attached_policies: Vec<String>,
    /// For a service-linked role, the service principal that owns it (`organizations.amazonaws.com`):
    /// only that service may change it, and SCPs do not restrict it.
    #[serde(default)]
    pub service_linked: Option<String>,
    /// When a session of the role last made a call, and in which region.
    #[serde(default)]
    pub last_used: Option<(Timestamp, String)>,
}

impl ingot_store::Record for RoleRecord {
    const KIND: &'static str = "iam.role";
    const SCHEMA_VERSION: u32 = 1;
}

/// One version of a managed policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// `v1`, `v2`, …; never reused.
    pub version_id: String,
    pub document: String,
    pub created: Timestamp,
}

/// A customer managed policy. AWS managed policies are data ([`crate::managed`]), not records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedPolicyRecord {
    pub name: String,
    pub path: String,
    /// `ANPA…`.
    pub id: String,
    pub arn: String,
    pub created: Timestamp,
    pub updated: Timestamp,
    #[serde(default)]
    pub description: Option<String>,
    pub default_version: String,
    /// At most five, oldest first.
    pub versions: Vec<PolicyVersion>,
    /// The number the next version gets (`v{next_version}`).
    pub next_version: u32,
    /// Users, groups and roles it is attached to as a permissions policy.
    #[serde(default)]
    pub attachment_count: u32,
    /// Users and roles it bounds.
    #[serde(default)]
    pub boundary_usage_count: u32,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl ManagedPolicyRecord {
    /// The document of the default version.
    pub fn default_document(&self) -> Option<&str> {
        self.versions.iter().find(|v| v.version_id == self.default_version).map(|v| v.document.as_str())
    }
}

impl ingot_store::Record for ManagedPolicyRecord {
    const KIND: &'static str = "iam.managed-policy";
    const SCHEMA_VERSION: u32 = 1;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceProfileRecord {
    pub name: String,
    pub path: String,
    /// `AIPA…`.
    pub id: String,
    pub arn: String,
    pub created: Timestamp,
    /// Role names; at most one.
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl ingot_store::Record for InstanceProfileRecord {
    const KIND: &'static str = "iam.instance-profile";
    const SCHEMA_VERSION: u32 = 1;
}

/// The kinds of named IAM entity, each with its own key prefix and ARN resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    User,
    Group,
    Role,
    Policy,
    InstanceProfile,
}

impl EntityKind {
    /// The key segment under `ACCOUNT/global/iam/`.
    pub fn collection(self) -> &'static str {
        match self {
            EntityKind::User => "users/",
            EntityKind::Group => "groups/",
            EntityKind::Role => "roles/",
            EntityKind::Policy => "policies/",
            EntityKind::InstanceProfile => "instance-profiles/",
        }
    }

    /// The resource type in the entity's ARN.
    pub fn arn_type(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Group => "group",
            EntityKind::Role => "role",
            EntityKind::Policy => "policy",
            EntityKind::InstanceProfile => "instance-profile",
        }
    }
}

/// `ACCOUNT/global/iam/<collection>/<name in lower case>`.
pub fn entity_name_key(account: &AccountId, kind: EntityKind, name: &str) -> String {
    account_key(account, "iam", &[kind.collection(), &name.to_ascii_lowercase()].concat())
}

/// The prefix under which every entity of one kind of an account is kept.
pub fn entity_prefix(account: &AccountId, kind: EntityKind) -> String {
    account_key(account, "iam", kind.collection())
}

/// `arn:PARTITION:iam::ACCOUNT:TYPE/PATH-WITHOUT-LEADING-SLASH/NAME`, as AWS builds an entity's ARN
/// from its path (`/` gives `role/Name`, `/a/b/` gives `role/a/b/Name`).
pub fn entity_arn(partition: &str, account: &AccountId, kind: EntityKind, path: &str, name: &str) -> String {
    ["arn:", partition, ":iam::", account.as_str(), ":", kind.arn_type(), path, name].concat()
}

/// An IAM entity named by its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityArn<'a> {
    /// The account id, or `aws` for AWS managed policies.
    pub account: &'a str,
    pub kind: EntityKind,
    pub path: String,
    pub name: &'a str,
}

/// Parses `arn:PARTITION:iam::ACCOUNT:TYPE/…/NAME`; `None` for anything else.
pub fn parse_entity_arn(arn: &str) -> Option<EntityArn<'_>> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("iam"), Some(""), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let (arn_type, rest) = resource.split_once('/')?;
    let kind = [EntityKind::User, EntityKind::Group, EntityKind::Role, EntityKind::Policy, EntityKind::InstanceProfile]
        .into_iter()
        .find(|k| k.arn_type() == arn_type)?;
    let (path_inner, name) = match rest.rsplit_once('/') {
        Some((inner, name)) => (Some(inner), name),
        None => (None, rest),
    };
    if name.is_empty() || account.is_empty() {
        return None;
    }
    let path = match path_inner {
        Some(inner) => ["/", inner, "/"].concat(),
        None => "/".to_string(),
    };
    Some(EntityArn { account, kind, path, name })
}

/// The role a session ARN (`arn:aws:sts::A:assumed-role/ROLE/SESSION`) belongs to: (account, role name).
pub fn role_of_session_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("sts::")?;
    let (account, resource) = rest.split_once(':')?;
    let role_and_session = resource.strip_prefix("assumed-role/")?;
    let (role, _session) = role_and_session.split_once('/')?;
    Some((account, role))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> AccountId {
        AccountId::parse("111122223333").unwrap()
    }

    #[test]
    fn entity_keys_ignore_the_case_of_names() {
        assert_eq!(entity_name_key(&account(), EntityKind::Role, "Admins"), "111122223333/global/iam/roles/admins");
        assert_eq!(
            entity_name_key(&account(), EntityKind::Role, "ADMINS"),
            entity_name_key(&account(), EntityKind::Role, "admins")
        );
    }

    #[test]
    fn arns_carry_the_path_without_its_leading_slash() {
        assert_eq!(entity_arn("aws", &account(), EntityKind::User, "/", "jane"), "arn:aws:iam::111122223333:user/jane");
        assert_eq!(
            entity_arn("aws", &account(), EntityKind::Role, "/service-role/", "r"),
            "arn:aws:iam::111122223333:role/service-role/r"
        );
    }

    #[test]
    fn entity_arns_parse_back_to_account_kind_path_and_name() {
        let parsed = parse_entity_arn("arn:aws:iam::111122223333:role/a/b/Name").unwrap();
        assert_eq!(
            (parsed.account, parsed.kind, parsed.path.as_str(), parsed.name),
            ("111122223333", EntityKind::Role, "/a/b/", "Name")
        );
        let managed = parse_entity_arn("arn:aws:iam::aws:policy/service-role/AmazonSSMAutomationRole").unwrap();
        assert_eq!((managed.account, managed.path.as_str()), ("aws", "/service-role/"));
        for bad in [
            "arn:aws:iam::1:root",
            "arn:aws:sts::1:role/x",
            "arn:aws:iam:us-east-1:1:role/x",
            "role/x",
            "arn:aws:iam::1:role/",
        ] {
            assert!(parse_entity_arn(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_session_arn_names_its_role() {
        assert_eq!(
            role_of_session_arn("arn:aws:sts::111122223333:assumed-role/Admin/s1"),
            Some(("111122223333", "Admin"))
        );
        assert_eq!(role_of_session_arn("arn:aws:iam::111122223333:role/Admin"), None);
    }
}
