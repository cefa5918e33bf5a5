//! GetAccountAuthorizationDetails: every user, group and role of the account with its policies,
//! and the managed policies with every version: the account's own, and AWS's that are in use in
//! the account. `Filter` chooses the kinds; `MaxItems` counts items of every kind, in the order
//! users, groups, roles, policies.

use crate::access;
use crate::attachments::attached_shapes;
use crate::documents::url_encode;
use crate::errors::IamError;
use crate::instance_profiles::profile_shape;
use crate::managed_policies::{aws_time, aws_usages, aws_version, boundary_shape, version_shape};
use crate::names::same_name;
use crate::operations::GetAccountAuthorizationDetails;
use crate::pages::{max_items, page_of};
use crate::roles::last_used;
use crate::store;
use crate::tags;
use crate::types::{
    EntityType, GetAccountAuthorizationDetailsRequest, GetAccountAuthorizationDetailsResponse, GroupDetail,
    ManagedPolicyDetail, PolicyDetail, RoleDetail, UserDetail,
};
use crate::Iam;
use ingot_core::{Handler, RequestContext};
use ingot_identity::iam::EntityKind;
use ingot_identity::managed::aws_managed_policies;
use ingot_identity::{GroupRecord, InstanceProfileRecord, ManagedPolicyRecord, RoleRecord, UserRecord};
use std::collections::BTreeMap;

enum Detail {
    User(Box<UserDetail>),
    Group(Box<GroupDetail>),
    Role(Box<RoleDetail>),
    Policy(Box<ManagedPolicyDetail>),
}

/// Inline policies with their documents URL-encoded.
fn inline_details(policies: &BTreeMap<String, String>) -> Vec<PolicyDetail> {
    policies
        .iter()
        .map(|(name, doc)| PolicyDetail { policy_name: Some(name.clone()), policy_document: Some(url_encode(doc)) })
        .collect()
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn user_detail(u: &UserRecord) -> UserDetail {
    UserDetail {
        path: Some(u.path.clone()),
        user_name: Some(u.name.clone()),
        user_id: Some(u.id.clone()),
        arn: Some(u.arn.clone()),
        create_date: Some(u.created),
        user_policy_list: Some(inline_details(&u.inline_policies)),
        group_list: Some(u.groups.clone()),
        attached_managed_policies: Some(attached_shapes(&u.attached_policies)),
        permissions_boundary: boundary_shape(&u.permissions_boundary),
        tags: tags::to_wire(&u.tags),
    }
}

fn group_detail(g: &GroupRecord) -> GroupDetail {
    GroupDetail {
        path: Some(g.path.clone()),
        group_name: Some(g.name.clone()),
        group_id: Some(g.id.clone()),
        arn: Some(g.arn.clone()),
        create_date: Some(g.created),
        group_policy_list: Some(inline_details(&g.inline_policies)),
        attached_managed_policies: Some(attached_shapes(&g.attached_policies)),
    }
}

fn local_policy_detail(p: &ManagedPolicyRecord) -> ManagedPolicyDetail {
    ManagedPolicyDetail {
        policy_name: Some(p.name.clone()),
        policy_id: Some(p.id.clone()),
        arn: Some(p.arn.clone()),
        path: Some(p.path.clone()),
        default_version_id: Some(p.default_version.clone()),
        attachment_count: Some(to_i32(p.attachment_count)),
        permissions_boundary_usage_count: Some(to_i32(p.boundary_usage_count)),
        is_attachable: Some(true),
        description: p.description.clone(),
        create_date: Some(p.created),
        update_date: Some(p.updated),
        policy_version_list: Some(p.versions.iter().map(|v| version_shape(v, &p.default_version, true)).collect()),
    }
}

impl Handler<GetAccountAuthorizationDetails> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: GetAccountAuthorizationDetailsRequest,
    ) -> Result<GetAccountAuthorizationDetailsResponse, IamError> {
        access::authorize_any::<GetAccountAuthorizationDetails>(ctx).await?;
        let filter = input.filter.unwrap_or_default();
        let wanted = |kind: EntityType| filter.is_empty() || filter.contains(&kind);
        let mut items: Vec<(String, Detail)> = Vec::new();
        if wanted(EntityType::User) {
            for u in store::all::<UserRecord>(ctx, EntityKind::User).await? {
                items.push((["1", &u.name.to_ascii_lowercase()].concat(), Detail::User(Box::new(user_detail(&u)))));
            }
        }
        if wanted(EntityType::Group) {
            for g in store::all::<GroupRecord>(ctx, EntityKind::Group).await? {
                items.push((["2", &g.name.to_ascii_lowercase()].concat(), Detail::Group(Box::new(group_detail(&g)))));
            }
        }
        if wanted(EntityType::Role) {
            let profiles = store::all::<InstanceProfileRecord>(ctx, EntityKind::InstanceProfile).await?;
            for r in store::all::<RoleRecord>(ctx, EntityKind::Role).await? {
                let mut instance_profiles = Vec::new();
                for p in profiles.iter().filter(|p| p.roles.iter().any(|n| same_name(n, &r.name))) {
                    instance_profiles.push(profile_shape(ctx, p, false).await?);
                }
                let detail = RoleDetail {
                    path: Some(r.path.clone()),
                    role_name: Some(r.name.clone()),
                    role_id: Some(r.id.clone()),
                    arn: Some(r.arn.clone()),
                    create_date: Some(r.created),
                    assume_role_policy_document: Some(url_encode(&r.assume_role_policy)),
                    instance_profile_list: Some(instance_profiles),
                    role_policy_list: Some(inline_details(&r.inline_policies)),
                    attached_managed_policies: Some(attached_shapes(&r.attached_policies)),
                    permissions_boundary: boundary_shape(&r.permissions_boundary),
                    tags: tags::to_wire(&r.tags),
                    role_last_used: Some(last_used(&r)),
                };
                items.push((["3", &r.name.to_ascii_lowercase()].concat(), Detail::Role(Box::new(detail))));
            }
        }
        if wanted(EntityType::LocalManagedPolicy) {
            for p in store::all::<ManagedPolicyRecord>(ctx, EntityKind::Policy).await? {
                let detail = local_policy_detail(&p);
                items.push((["4", &p.name.to_ascii_lowercase()].concat(), Detail::Policy(Box::new(detail))));
            }
        }
        if wanted(EntityType::AwsManagedPolicy) {
            let usages = aws_usages(ctx).await?;
            for p in aws_managed_policies() {
                let Some(usage) = usages.get(&p.arn) else { continue };
                let version = aws_version(p);
                let detail = ManagedPolicyDetail {
                    policy_name: Some(p.name.clone()),
                    policy_id: Some(p.id.clone()),
                    arn: Some(p.arn.clone()),
                    path: Some(p.path.clone()),
                    default_version_id: Some(p.default_version.clone()),
                    attachment_count: Some(to_i32(usage.attachment_count)),
                    permissions_boundary_usage_count: Some(to_i32(usage.boundary_usage_count)),
                    is_attachable: Some(true),
                    description: (!p.description.is_empty()).then(|| p.description.clone()),
                    create_date: Some(aws_time(&p.created)),
                    update_date: Some(aws_time(&p.updated)),
                    policy_version_list: Some(vec![version_shape(&version, &p.default_version, true)]),
                };
                items.push((["5", &p.name].concat(), Detail::Policy(Box::new(detail))));
            }
        }
        let mut kinds: Vec<&str> = filter.iter().map(|f| f.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let query = format!("GetAccountAuthorizationDetails\n{}", kinds.join(","));
        let page = page_of(items, &query, input.marker.as_deref(), max_items(input.max_items))?;
        let mut response = GetAccountAuthorizationDetailsResponse {
            user_detail_list: Some(Vec::new()),
            group_detail_list: Some(Vec::new()),
            role_detail_list: Some(Vec::new()),
            policies: Some(Vec::new()),
            is_truncated: Some(page.marker.is_some()),
            marker: page.marker,
        };
        for item in page.items {
            match item {
                Detail::User(d) => response.user_detail_list.get_or_insert_with(Vec::new).push(*d),
                Detail::Group(d) => response.group_detail_list.get_or_insert_with(Vec::new).push(*d),
                Detail::Role(d) => response.role_detail_list.get_or_insert_with(Vec::new).push(*d),
                Detail::Policy(d) => response.policies.get_or_insert_with(Vec::new).push(*d),
            }
        }
        Ok(response)
    }
}
