//! The policies that apply to an IAM identity, read through the request's unit of work (so a
//! policy change made while a call runs conflicts with the call's decision): the identity's
//! inline and attached managed policies (a user's groups' too), its permissions boundary, and the
//! service control policies on its account's path.
//! The authorizer and IAM's policy simulation both gather through here.

use ingot_core::AccountId;
use ingot_identity::iam::{entity_name_key, parse_entity_arn, EntityKind};
use ingot_identity::managed::aws_managed_policy;
use ingot_identity::organization::{policy_key, AccountPath, FULL_AWS_ACCESS_CONTENT, FULL_AWS_ACCESS_ID};
use ingot_identity::OrgPolicyRecord;
use ingot_identity::{GroupRecord, ManagedPolicyRecord, RoleRecord, Tag, UserRecord};
use ingot_store::{StoreError, Tx};

/// Where a policy document comes from, as IAM's simulation reports it (`SourcePolicyType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// An inline policy of a user, group or role.
    User,
    Group,
    Role,
    /// A managed policy of AWS's.
    AwsManaged,
    /// A customer managed policy.
    UserManaged,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::User => "user",
            SourceKind::Group => "group",
            SourceKind::Role => "role",
            SourceKind::AwsManaged => "aws-managed",
            SourceKind::UserManaged => "user-managed",
        }
    }
}

/// One policy document and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedDocument {
    /// The inline policy's name, or the managed policy's ARN.
    pub id: String,
    pub kind: SourceKind,
    pub document: String,
}

/// The identity-based policies of a user or role, and its boundary and tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityPolicies {
    /// The entity's unique id (`AIDA…`, `AROA…`, `AGPA…`): a session or key of an entity that was
    /// deleted and created again under the same name is not the new entity's.
    pub id: String,
    pub identity: Vec<SourcedDocument>,
    pub boundary: Option<SourcedDocument>,
    pub tags: Vec<Tag>,
}

/// The default version of a managed policy by ARN: AWS's (data) or the account's (a record).
/// `None` when no such policy exists.
pub async fn managed_policy(tx: &Tx, arn: &str) -> Result<Option<SourcedDocument>, StoreError> {
    if let Some(aws) = aws_managed_policy(arn) {
        return Ok(Some(SourcedDocument {
            id: arn.to_string(),
            kind: SourceKind::AwsManaged,
            document: aws.document.clone(),
        }));
    }
    let Some(parsed) = parse_entity_arn(arn).filter(|p| p.kind == EntityKind::Policy) else {
        return Ok(None);
    };
    let Some(account) = AccountId::parse(parsed.account) else {
        return Ok(None);
    };
    let key = entity_name_key(&account, EntityKind::Policy, parsed.name);
    let Some(record) = tx.get_record_cached::<ManagedPolicyRecord>(key).await? else {
        return Ok(None);
    };
    if record.arn != arn {
        return Ok(None);
    }
    Ok(record.default_document().map(|document| SourcedDocument {
        id: arn.to_string(),
        kind: SourceKind::UserManaged,
        document: document.to_string(),
    }))
}

async fn attached(tx: &Tx, arns: &[String], into: &mut Vec<SourcedDocument>) -> Result<(), StoreError> {
    for arn in arns {
        // An attachment whose policy vanished grants nothing (IAM refuses to delete attached
        // policies, so this is only a race with a detach).
        if let Some(policy) = managed_policy(tx, arn).await? {
            into.push(policy);
        }
    }
    Ok(())
}

fn inline<'a>(
    policies: impl IntoIterator<Item = (&'a String, &'a String)>,
    kind: SourceKind,
    into: &mut Vec<SourcedDocument>,
) {
    into.extend(policies.into_iter().map(|(name, document)| SourcedDocument {
        id: name.clone(),
        kind,
        document: document.clone(),
    }));
}

async fn boundary(tx: &Tx, arn: &Option<String>) -> Result<Option<SourcedDocument>, StoreError> {
    match arn {
        Some(arn) => managed_policy(tx, arn).await,
        None => Ok(None),
    }
}

/// A user's policies, its groups' included; `None` when the user does not exist.
pub async fn user_policies(tx: &Tx, account: &AccountId, name: &str) -> Result<Option<EntityPolicies>, StoreError> {
    let Some(user) = tx.get_record_cached::<UserRecord>(entity_name_key(account, EntityKind::User, name)).await? else {
        return Ok(None);
    };
    let mut identity = Vec::new();
    inline(&user.inline_policies, SourceKind::User, &mut identity);
    attached(tx, &user.attached_policies, &mut identity).await?;
    for group_name in &user.groups {
        let key = entity_name_key(account, EntityKind::Group, group_name);
        if let Some(group) = tx.get_record_cached::<GroupRecord>(key).await? {
            inline(&group.inline_policies, SourceKind::Group, &mut identity);
            attached(tx, &group.attached_policies, &mut identity).await?;
        }
    }
    Ok(Some(EntityPolicies {
        id: user.id.clone(),
        identity,
        boundary: boundary(tx, &user.permissions_boundary).await?,
        tags: user.tags.clone(),
    }))
}

/// A role's policies; `None` when the role does not exist.
pub async fn role_policies(tx: &Tx, account: &AccountId, name: &str) -> Result<Option<EntityPolicies>, StoreError> {
    let Some(role) = tx.get_record_cached::<RoleRecord>(entity_name_key(account, EntityKind::Role, name)).await? else {
        return Ok(None);
    };
    let mut identity = Vec::new();
    inline(&role.inline_policies, SourceKind::Role, &mut identity);
    attached(tx, &role.attached_policies, &mut identity).await?;
    Ok(Some(EntityPolicies {
        id: role.id.clone(),
        identity,
        boundary: boundary(tx, &role.permissions_boundary).await?,
        tags: role.tags.clone(),
    }))
}

/// A group's own policies (no boundary: groups have none); `None` when it does not exist.
pub async fn group_policies(tx: &Tx, account: &AccountId, name: &str) -> Result<Option<EntityPolicies>, StoreError> {
    let Some(group) = tx.get_record_cached::<GroupRecord>(entity_name_key(account, EntityKind::Group, name)).await?
    else {
        return Ok(None);
    };
    let mut identity = Vec::new();
    inline(&group.inline_policies, SourceKind::Group, &mut identity);
    attached(tx, &group.attached_policies, &mut identity).await?;
    Ok(Some(EntityPolicies { id: group.id.clone(), identity, boundary: None, tags: Vec::new() }))
}

/// The policies of the user, group or role an IAM ARN names (SimulatePrincipalPolicy's
/// `PolicySourceArn`); `None` for an ARN of another shape or an entity that does not exist.
pub async fn entity_policies(tx: &Tx, arn: &str) -> Result<Option<EntityPolicies>, StoreError> {
    let Some(parsed) = parse_entity_arn(arn) else {
        return Ok(None);
    };
    let Some(account) = AccountId::parse(parsed.account) else {
        return Ok(None);
    };
    let found = match parsed.kind {
        EntityKind::User => user_policies(tx, &account, parsed.name).await?,
        EntityKind::Role => role_policies(tx, &account, parsed.name).await?,
        EntityKind::Group => group_policies(tx, &account, parsed.name).await?,
        EntityKind::Policy | EntityKind::InstanceProfile => None,
    };
    Ok(found)
}

/// The SCP texts on each level of an account's path in its organization (root, each OU, the
/// account), for a principal of that account whose identity ARN is `identity_arn`; empty when
/// SCPs do not apply: SCPs not enabled, the management account, or a service-linked role.
pub async fn service_control_policies(
    tx: &Tx,
    path: &AccountPath,
    account: &AccountId,
    identity_arn: &str,
) -> Result<Vec<Vec<String>>, StoreError> {
    let service_linked = identity_arn.contains(":role/aws-service-role/");
    if !path.scps_enabled || path.is_management_account(account) || service_linked {
        return Ok(Vec::new());
    }
    let mut levels = Vec::with_capacity(path.policies_by_level.len());
    for ids in &path.policies_by_level {
        let mut level = Vec::with_capacity(ids.len());
        for id in ids {
            if id == FULL_AWS_ACCESS_ID {
                level.push(FULL_AWS_ACCESS_CONTENT.to_string());
            } else if let Some(record) =
                tx.get_record_cached::<OrgPolicyRecord>(policy_key(&path.organization_id, id)).await?
            {
                level.push(record.content.clone());
            }
        }
        levels.push(level);
    }
    Ok(levels)
}
