//! How IAM lays out its state. Entities are the records of `ingot_identity::iam` (the authorizer
//! reads them); the records defined here are IAM's own bookkeeping.
//!
//! Under `ACCOUNT/global/iam/` (names in lower case: IAM names are unique whatever their case):
//!
//! | key | record | why |
//! |---|---|---|
//! | `users/NAME` | [`UserRecord`]: inline policies, attachments, group names, access key ids | one read gathers a user's own policies |
//! | `groups/NAME` | [`GroupRecord`] | members are the users naming the group (a scan of `users/`) |
//! | `roles/NAME` | [`RoleRecord`] | one read per call made by a session of the role |
//! | `policies/NAME` | [`ManagedPolicyRecord`]: every version, attachment and boundary counts | customer managed policy names are unique per account whatever their path |
//! | `instance-profiles/NAME` | [`InstanceProfileRecord`] | the profiles of a role are a scan of `instance-profiles/` |
//! | `root-access-keys` | [`RootAccessKeysRecord`] | ListAccessKeys and the two-key quota of the root user |
//! | `aws-policy-usage/PATH-AND-NAME` | [`AwsPolicyUsageRecord`] | how often an AWS managed policy is attached in this account (AWS managed policies are data, not records) |
//! | `slr-deletion-tasks/UUID` | [`DeletionTaskRecord`] | GetServiceLinkedRoleDeletionStatus after the role is gone |
//! | `account-alias` | [`AccountAliasRecord`] | the account's one alias |
//!
//! Installation-wide: `global/iam/access-keys/ID` ([`ingot_core::credentials::AccessKeyRecord`]),
//! found by the gateway from a request's key id alone; `global/iam/account-aliases/PARTITION/ALIAS`
//! ([`AliasOwnerRecord`]), because an alias is unique across the accounts of a partition.

use crate::errors::IamError;
use ingot_core::scope::account_key;
use ingot_core::{AccountId, RequestContext, Timestamp};
use ingot_identity::iam::{entity_arn, entity_name_key, entity_prefix, parse_entity_arn, EntityKind};
use ingot_identity::{GroupRecord, InstanceProfileRecord, ManagedPolicyRecord, RoleRecord, UserRecord};
use ingot_store::Record;
use serde::{Deserialize, Serialize};

/// The access key ids of an account's root user, oldest first. The key that bootstrapped the
/// management account predates this record; it joins the list the first time root uses it for an
/// access key call (see `access_keys.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootAccessKeysRecord {
    pub ids: Vec<String>,
}

impl Record for RootAccessKeysRecord {
    const KIND: &'static str = "iam.root-access-keys";
    const SCHEMA_VERSION: u32 = 1;
}

/// How many users, groups and roles of one account use an AWS managed policy. Removed when both
/// counts are zero.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsPolicyUsageRecord {
    pub arn: String,
    #[serde(default)]
    pub attachment_count: u32,
    #[serde(default)]
    pub boundary_usage_count: u32,
}

impl Record for AwsPolicyUsageRecord {
    const KIND: &'static str = "iam.aws-policy-usage";
    const SCHEMA_VERSION: u32 = 1;
}

/// A service-linked role deletion: Ingot deletes at once, so every task has succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionTaskRecord {
    /// `task/aws-service-role/<service principal>/<role name>/<uuid>`.
    pub task_id: String,
    pub role_arn: String,
    pub created: Timestamp,
}

impl Record for DeletionTaskRecord {
    const KIND: &'static str = "iam.slr-deletion-task";
    const SCHEMA_VERSION: u32 = 1;
}

/// The alias of an account (AWS allows one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountAliasRecord {
    pub alias: String,
}

impl Record for AccountAliasRecord {
    const KIND: &'static str = "iam.account-alias";
    const SCHEMA_VERSION: u32 = 1;
}

/// The account an alias belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasOwnerRecord {
    pub account: AccountId,
}

impl Record for AliasOwnerRecord {
    const KIND: &'static str = "iam.alias-owner";
    const SCHEMA_VERSION: u32 = 1;
}

/// `ACCOUNT/global/iam/account-alias`.
pub fn account_alias_key(account: &AccountId) -> String {
    account_key(account, "iam", "account-alias")
}

/// `global/iam/account-aliases/PARTITION/ALIAS`.
pub fn alias_owner_key(partition: &str, alias: &str) -> String {
    ingot_core::scope::global_key("iam", &["account-aliases/", partition, "/", alias].concat())
}

/// `ACCOUNT/global/iam/<collection>/<name in lower case>` of the caller's account.
pub fn key(ctx: &RequestContext<'_>, kind: EntityKind, name: &str) -> String {
    entity_name_key(&ctx.scope.account, kind, name)
}

/// Where every entity of `kind` of the caller's account is kept.
pub fn prefix(ctx: &RequestContext<'_>, kind: EntityKind) -> String {
    entity_prefix(&ctx.scope.account, kind)
}

/// The ARN of an entity of the caller's account.
pub fn arn(ctx: &RequestContext<'_>, kind: EntityKind, path: &str, name: &str) -> String {
    entity_arn(ctx.scope.partition(), &ctx.scope.account, kind, path, name)
}

/// `arn:PARTITION:iam::ACCOUNT:root`.
pub fn root_arn(ctx: &RequestContext<'_>) -> String {
    ctx.scope.global_arn("iam", "root")
}

/// `ACCOUNT/global/iam/root-access-keys`.
pub fn root_access_keys_key(account: &AccountId) -> String {
    account_key(account, "iam", "root-access-keys")
}

/// `ACCOUNT/global/iam/aws-policy-usage/`.
pub fn aws_policy_usage_prefix(account: &AccountId) -> String {
    account_key(account, "iam", "aws-policy-usage/")
}

/// `ACCOUNT/global/iam/aws-policy-usage/PATH-AND-NAME` of an AWS managed policy ARN
/// (`arn:aws:iam::aws:policy/service-role/X` → `…/aws-policy-usage/service-role/X`).
pub fn aws_policy_usage_key(account: &AccountId, arn: &str) -> String {
    let tail = arn.split_once(":policy/").map_or(arn, |(_, tail)| tail);
    account_key(account, "iam", &["aws-policy-usage/", tail].concat())
}

/// `ACCOUNT/global/iam/slr-deletion-tasks/UUID`.
pub fn deletion_task_key(account: &AccountId, uuid: &str) -> String {
    account_key(account, "iam", &["slr-deletion-tasks/", uuid].concat())
}

/// Reads an entity of the caller's account by name (any case).
pub async fn find<R: Record>(ctx: &RequestContext<'_>, kind: EntityKind, name: &str) -> Result<Option<R>, IamError> {
    Ok(ctx.tx.get_record(&key(ctx, kind, name)).await?)
}

pub async fn find_user(ctx: &RequestContext<'_>, name: &str) -> Result<Option<UserRecord>, IamError> {
    find(ctx, EntityKind::User, name).await
}

pub async fn find_group(ctx: &RequestContext<'_>, name: &str) -> Result<Option<GroupRecord>, IamError> {
    find(ctx, EntityKind::Group, name).await
}

pub async fn find_role(ctx: &RequestContext<'_>, name: &str) -> Result<Option<RoleRecord>, IamError> {
    find(ctx, EntityKind::Role, name).await
}

pub async fn find_instance_profile(
    ctx: &RequestContext<'_>,
    name: &str,
) -> Result<Option<InstanceProfileRecord>, IamError> {
    find(ctx, EntityKind::InstanceProfile, name).await
}

/// The customer managed policy of the caller's account with exactly this ARN (its path included).
pub async fn find_policy(ctx: &RequestContext<'_>, arn: &str) -> Result<Option<ManagedPolicyRecord>, IamError> {
    let Some(parsed) = parse_entity_arn(arn).filter(|p| p.kind == EntityKind::Policy) else {
        return Ok(None);
    };
    if parsed.account != ctx.scope.account.as_str() {
        return Ok(None);
    }
    let record: Option<ManagedPolicyRecord> = find(ctx, EntityKind::Policy, parsed.name).await?;
    Ok(record.filter(|r| r.arn == arn))
}

pub fn save_user(ctx: &RequestContext<'_>, record: &UserRecord) {
    ctx.tx.put_record(&key(ctx, EntityKind::User, &record.name), record);
}

pub fn save_group(ctx: &RequestContext<'_>, record: &GroupRecord) {
    ctx.tx.put_record(&key(ctx, EntityKind::Group, &record.name), record);
}

pub fn save_role(ctx: &RequestContext<'_>, record: &RoleRecord) {
    ctx.tx.put_record(&key(ctx, EntityKind::Role, &record.name), record);
}

pub fn save_policy(ctx: &RequestContext<'_>, record: &ManagedPolicyRecord) {
    ctx.tx.put_record(&key(ctx, EntityKind::Policy, &record.name), record);
}

pub fn save_instance_profile(ctx: &RequestContext<'_>, record: &InstanceProfileRecord) {
    ctx.tx.put_record(&key(ctx, EntityKind::InstanceProfile, &record.name), record);
}

/// Deletes an entity of the caller's account, in the unit of work.
pub fn remove(ctx: &RequestContext<'_>, kind: EntityKind, name: &str) {
    ctx.tx.delete(&key(ctx, kind, name));
}

/// Every entity of `kind` of the caller's account, in key (lower-case name) order.
pub async fn all<R: Record>(ctx: &RequestContext<'_>, kind: EntityKind) -> Result<Vec<R>, IamError> {
    let records = ctx.tx.scan_records::<R>(&prefix(ctx, kind), None, usize::MAX).await?;
    Ok(records.into_iter().map(|(_, r)| r).collect())
}

pub fn no_such_user(name: &str) -> IamError {
    IamError::no_such_entity_exception(format!("The user with name {name} cannot be found."))
}

pub fn no_such_group(name: &str) -> IamError {
    IamError::no_such_entity_exception(format!("The group with name {name} cannot be found."))
}

pub fn no_such_role(name: &str) -> IamError {
    IamError::no_such_entity_exception(format!("The role with name {name} cannot be found."))
}

pub fn no_such_instance_profile(name: &str) -> IamError {
    IamError::no_such_entity_exception(format!("Instance Profile {name} cannot be found."))
}

pub fn no_such_policy(arn: &str) -> IamError {
    IamError::no_such_entity_exception(format!("Policy {arn} was not found."))
}

pub fn not_attachable(arn: &str) -> IamError {
    IamError::no_such_entity_exception(format!("Policy {arn} does not exist or is not attachable."))
}

pub fn no_such_access_key(id: &str) -> IamError {
    IamError::no_such_entity_exception(format!("The Access Key with id {id} cannot be found."))
}

/// `record`, or `missing()` when there is none.
pub fn require<R>(record: Option<R>, missing: impl FnOnce() -> IamError) -> Result<R, IamError> {
    record.ok_or_else(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> AccountId {
        AccountId::parse("111122223333").unwrap()
    }

    #[test]
    fn keys_keep_the_layout_of_stored_data() {
        let a = account();
        assert_eq!(root_access_keys_key(&a), "111122223333/global/iam/root-access-keys");
        assert_eq!(
            aws_policy_usage_key(&a, "arn:aws:iam::aws:policy/service-role/AmazonSSMAutomationRole"),
            "111122223333/global/iam/aws-policy-usage/service-role/AmazonSSMAutomationRole"
        );
        assert!(aws_policy_usage_key(&a, "arn:aws:iam::aws:policy/ReadOnlyAccess")
            .starts_with(&aws_policy_usage_prefix(&a)));
        assert_eq!(deletion_task_key(&a, "u-1"), "111122223333/global/iam/slr-deletion-tasks/u-1");
    }

    #[test]
    fn bookkeeping_keys_never_fall_under_an_entity_collection() {
        let a = account();
        for kind in
            [EntityKind::User, EntityKind::Group, EntityKind::Role, EntityKind::Policy, EntityKind::InstanceProfile]
        {
            let p = entity_prefix(&a, kind);
            assert!(!root_access_keys_key(&a).starts_with(&p));
            assert!(!aws_policy_usage_key(&a, "arn:aws:iam::aws:policy/X").starts_with(&p));
            assert!(!deletion_task_key(&a, "x").starts_with(&p));
        }
    }
}
