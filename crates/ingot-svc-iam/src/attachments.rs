//! Managed policy attachments: Attach/Detach{User,Group,Role}Policy, ListAttached*Policies and
//! ListEntitiesForPolicy. An attachment is the policy's ARN on the entity (in the order attached),
//! counted on the policy (`AttachmentCount`); at most ten per entity.

use crate::access;
use crate::errors::IamError;
use crate::groups::group_for;
use crate::managed_policies::{adjust_usage, attachable, find, ManagedPolicy};
use crate::names::{name_of_arn, path_matches, path_of_arn};
use crate::operations::{
    AttachGroupPolicy, AttachRolePolicy, AttachUserPolicy, DetachGroupPolicy, DetachRolePolicy, DetachUserPolicy,
    ListAttachedGroupPolicies, ListAttachedRolePolicies, ListAttachedUserPolicies, ListEntitiesForPolicy,
};
use crate::pages::{max_items, page_of, Page};
use crate::roles::role_for;
use crate::store;
use crate::types::{
    AttachGroupPolicyRequest, AttachRolePolicyRequest, AttachUserPolicyRequest, AttachedPolicy,
    DetachGroupPolicyRequest, DetachRolePolicyRequest, DetachUserPolicyRequest, EntityType,
    ListAttachedGroupPoliciesRequest, ListAttachedGroupPoliciesResponse, ListAttachedRolePoliciesRequest,
    ListAttachedRolePoliciesResponse, ListAttachedUserPoliciesRequest, ListAttachedUserPoliciesResponse,
    ListEntitiesForPolicyRequest, ListEntitiesForPolicyResponse, PolicyGroup, PolicyRole, PolicyUsageType, PolicyUser,
};
use crate::users::user_for;
use crate::Iam;
use ingot_core::{Empty, Handler, RequestContext};
use ingot_identity::iam::EntityKind;
use ingot_identity::{GroupRecord, RoleRecord, UserRecord};

/// Managed policies one user, group or role may have attached.
pub const MAX_ATTACHED: usize = 10;

/// Adds `policy` to an entity's attachments; whether it was not attached yet. `quota` names the
/// entity's quota (`PoliciesPerRole`).
async fn attach(
    ctx: &RequestContext<'_>,
    attached: &mut Vec<String>,
    policy: &ManagedPolicy,
    quota: &str,
) -> Result<bool, IamError> {
    if attached.iter().any(|a| a == policy.arn()) {
        return Ok(false);
    }
    if attached.len() >= MAX_ATTACHED {
        return Err(IamError::limit_exceeded_exception(format!("Cannot exceed quota for {quota}: {MAX_ATTACHED}")));
    }
    attached.push(policy.arn().to_string());
    adjust_usage(ctx, policy.arn(), 1, 0).await?;
    Ok(true)
}

/// Removes `arn` from an entity's attachments, or `NoSuchEntity` when it is not attached.
async fn detach(ctx: &RequestContext<'_>, attached: &mut Vec<String>, arn: &str) -> Result<(), IamError> {
    let Some(index) = attached.iter().position(|a| a == arn) else {
        return Err(store::no_such_policy(arn));
    };
    attached.remove(index);
    adjust_usage(ctx, arn, -1, 0).await
}

/// `AttachedPolicy` of each attachment.
pub fn attached_shapes(attached: &[String]) -> Vec<AttachedPolicy> {
    attached
        .iter()
        .map(|arn| AttachedPolicy { policy_name: Some(name_of_arn(arn).to_string()), policy_arn: Some(arn.clone()) })
        .collect()
}

/// One page of an entity's attachments whose policy path starts with `prefix`.
fn attached_page(
    attached: &[String],
    prefix: Option<&str>,
    query: &str,
    marker: Option<&str>,
    max: Option<i32>,
) -> Result<Page<AttachedPolicy>, IamError> {
    let items = attached
        .iter()
        .filter(|arn| path_matches(&path_of_arn(arn), prefix))
        .enumerate()
        .map(|(i, arn)| {
            let shape =
                AttachedPolicy { policy_name: Some(name_of_arn(arn).to_string()), policy_arn: Some(arn.clone()) };
            (format!("{i:04}"), shape)
        })
        .collect();
    let query = format!("{query}\n{}", prefix.unwrap_or(""));
    page_of(items, &query, marker, max_items(max))
}

impl Handler<AttachUserPolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: AttachUserPolicyRequest) -> Result<Empty, IamError> {
        let arn = input.policy_arn;
        let mut user =
            user_for::<AttachUserPolicy>(ctx, &input.user_name, |a| a.condition("iam:PolicyARN", [arn.clone()]))
                .await?;
        let policy = attachable(ctx, &arn).await?;
        if attach(ctx, &mut user.attached_policies, &policy, "PoliciesPerUser").await? {
            store::save_user(ctx, &user);
        }
        Ok(Empty {})
    }
}

impl Handler<AttachGroupPolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: AttachGroupPolicyRequest) -> Result<Empty, IamError> {
        let arn = input.policy_arn;
        let mut group =
            group_for::<AttachGroupPolicy>(ctx, &input.group_name, |a| a.condition("iam:PolicyARN", [arn.clone()]))
                .await?;
        let policy = attachable(ctx, &arn).await?;
        if attach(ctx, &mut group.attached_policies, &policy, "PoliciesPerGroup").await? {
            store::save_group(ctx, &group);
        }
        Ok(Empty {})
    }
}

impl Handler<AttachRolePolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: AttachRolePolicyRequest) -> Result<Empty, IamError> {
        let arn = input.policy_arn;
        let mut role =
            role_for::<AttachRolePolicy>(ctx, &input.role_name, |a| a.condition("iam:PolicyARN", [arn.clone()]))
                .await?;
        access::refuse_protected(&role)?;
        let policy = attachable(ctx, &arn).await?;
        if policy.is_service_role_policy() {
            return Err(IamError::policy_not_attachable_exception(
                "Cannot attach a Service Role Policy to a Customer Role.",
            ));
        }
        if attach(ctx, &mut role.attached_policies, &policy, "PoliciesPerRole").await? {
            store::save_role(ctx, &role);
        }
        Ok(Empty {})
    }
}

impl Handler<DetachUserPolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: DetachUserPolicyRequest) -> Result<Empty, IamError> {
        let arn = input.policy_arn;
        let mut user =
            user_for::<DetachUserPolicy>(ctx, &input.user_name, |a| a.condition("iam:PolicyARN", [arn.clone()]))
                .await?;
        detach(ctx, &mut user.attached_policies, &arn).await?;
        store::save_user(ctx, &user);
        Ok(Empty {})
    }
}

impl Handler<DetachGroupPolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: DetachGroupPolicyRequest) -> Result<Empty, IamError> {
        let arn = input.policy_arn;
        let mut group =
            group_for::<DetachGroupPolicy>(ctx, &input.group_name, |a| a.condition("iam:PolicyARN", [arn.clone()]))
                .await?;
        detach(ctx, &mut group.attached_policies, &arn).await?;
        store::save_group(ctx, &group);
        Ok(Empty {})
    }
}

impl Handler<DetachRolePolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: DetachRolePolicyRequest) -> Result<Empty, IamError> {
        let arn = input.policy_arn;
        let mut role =
            role_for::<DetachRolePolicy>(ctx, &input.role_name, |a| a.condition("iam:PolicyARN", [arn.clone()]))
                .await?;
        access::refuse_protected(&role)?;
        detach(ctx, &mut role.attached_policies, &arn).await?;
        store::save_role(ctx, &role);
        Ok(Empty {})
    }
}

impl Handler<ListAttachedUserPolicies> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListAttachedUserPoliciesRequest,
    ) -> Result<ListAttachedUserPoliciesResponse, IamError> {
        let user = user_for::<ListAttachedUserPolicies>(ctx, &input.user_name, |a| a).await?;
        let query = format!("ListAttachedUserPolicies\n{}", user.name.to_ascii_lowercase());
        let page = attached_page(
            &user.attached_policies,
            input.path_prefix.as_deref(),
            &query,
            input.marker.as_deref(),
            input.max_items,
        )?;
        Ok(ListAttachedUserPoliciesResponse {
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
            attached_policies: Some(page.items),
        })
    }
}

impl Handler<ListAttachedGroupPolicies> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListAttachedGroupPoliciesRequest,
    ) -> Result<ListAttachedGroupPoliciesResponse, IamError> {
        let group = group_for::<ListAttachedGroupPolicies>(ctx, &input.group_name, |a| a).await?;
        let query = format!("ListAttachedGroupPolicies\n{}", group.name.to_ascii_lowercase());
        let page = attached_page(
            &group.attached_policies,
            input.path_prefix.as_deref(),
            &query,
            input.marker.as_deref(),
            input.max_items,
        )?;
        Ok(ListAttachedGroupPoliciesResponse {
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
            attached_policies: Some(page.items),
        })
    }
}

impl Handler<ListAttachedRolePolicies> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListAttachedRolePoliciesRequest,
    ) -> Result<ListAttachedRolePoliciesResponse, IamError> {
        let role = role_for::<ListAttachedRolePolicies>(ctx, &input.role_name, |a| a).await?;
        let query = format!("ListAttachedRolePolicies\n{}", role.name.to_ascii_lowercase());
        let page = attached_page(
            &role.attached_policies,
            input.path_prefix.as_deref(),
            &query,
            input.marker.as_deref(),
            input.max_items,
        )?;
        Ok(ListAttachedRolePoliciesResponse {
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
            attached_policies: Some(page.items),
        })
    }
}

/// One entity that uses a policy, for ListEntitiesForPolicy.
enum Using {
    Group(PolicyGroup),
    User(PolicyUser),
    Role(PolicyRole),
}

impl Handler<ListEntitiesForPolicy> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListEntitiesForPolicyRequest,
    ) -> Result<ListEntitiesForPolicyResponse, IamError> {
        let arn = input.policy_arn.as_str();
        let local_tags = store::find_policy(ctx, arn).await?.map(|p| p.tags).unwrap_or_default();
        access::authorize::<ListEntitiesForPolicy>(ctx, arn, &local_tags).await?;
        if find(ctx, arn).await?.is_none() {
            return Err(store::no_such_policy(arn));
        }
        let filter = input.entity_filter;
        let wanted = |kind: EntityType| filter.is_none_or(|f| f == kind);
        let usage = input.policy_usage_filter;
        let uses = |attached: &[String], boundary: Option<&String>| {
            let as_policy = attached.iter().any(|a| a == arn);
            let as_boundary = boundary.is_some_and(|b| b == arn);
            match usage {
                None => as_policy || as_boundary,
                Some(PolicyUsageType::PermissionsPolicy) => as_policy,
                Some(PolicyUsageType::PermissionsBoundary) => as_boundary,
            }
        };
        let prefix = input.path_prefix.as_deref();
        let mut items: Vec<(String, Using)> = Vec::new();
        if wanted(EntityType::Group) {
            for g in store::all::<GroupRecord>(ctx, EntityKind::Group).await? {
                if path_matches(&g.path, prefix) && uses(&g.attached_policies, None) {
                    let shape = PolicyGroup { group_name: Some(g.name.clone()), group_id: Some(g.id.clone()) };
                    items.push((["g", &g.name.to_ascii_lowercase()].concat(), Using::Group(shape)));
                }
            }
        }
        if wanted(EntityType::User) {
            for u in store::all::<UserRecord>(ctx, EntityKind::User).await? {
                if path_matches(&u.path, prefix) && uses(&u.attached_policies, u.permissions_boundary.as_ref()) {
                    let shape = PolicyUser { user_name: Some(u.name.clone()), user_id: Some(u.id.clone()) };
                    items.push((["u", &u.name.to_ascii_lowercase()].concat(), Using::User(shape)));
                }
            }
        }
        if wanted(EntityType::Role) {
            for r in store::all::<RoleRecord>(ctx, EntityKind::Role).await? {
                if path_matches(&r.path, prefix) && uses(&r.attached_policies, r.permissions_boundary.as_ref()) {
                    let shape = PolicyRole { role_name: Some(r.name.clone()), role_id: Some(r.id.clone()) };
                    items.push((["r", &r.name.to_ascii_lowercase()].concat(), Using::Role(shape)));
                }
            }
        }
        let query = format!(
            "ListEntitiesForPolicy\n{arn}\n{}\n{}\n{}",
            filter.map_or("", |f| f.as_str()),
            prefix.unwrap_or(""),
            usage.map_or("", |u| u.as_str())
        );
        let page = page_of(items, &query, input.marker.as_deref(), max_items(input.max_items))?;
        let (mut groups, mut users, mut roles) = (Vec::new(), Vec::new(), Vec::new());
        for item in page.items {
            match item {
                Using::Group(g) => groups.push(g),
                Using::User(u) => users.push(u),
                Using::Role(r) => roles.push(r),
            }
        }
        Ok(ListEntitiesForPolicyResponse {
            policy_groups: Some(groups),
            policy_users: Some(users),
            policy_roles: Some(roles),
            is_truncated: Some(page.marker.is_some()),
            marker: page.marker,
        })
    }
}
