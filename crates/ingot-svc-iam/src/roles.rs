//! IAM roles: CreateRole, GetRole, ListRoles, UpdateRole, UpdateRoleDescription,
//! UpdateAssumeRolePolicy, DeleteRole, role tags and role permissions boundaries. A role's trust
//! policy is validated as one (and every user and role it names must exist); service-linked roles
//! are changed only by their service (`access::refuse_protected`).

use crate::access;
use crate::documents::{check_trust, url_encode};
use crate::errors::IamError;
use crate::instance_profiles::profiles_of_role;
use crate::managed_policies::{adjust_usage, boundary_policy, boundary_shape};
use crate::names::{path_matches, path_or_default};
use crate::operations::{
    CreateRole, DeleteRole, DeleteRolePermissionsBoundary, GetRole, ListRoleTags, ListRoles,
    PutRolePermissionsBoundary, TagRole, UntagRole, UpdateAssumeRolePolicy, UpdateRole, UpdateRoleDescription,
};
use crate::pages::{max_items, scan_page};
use crate::store;
use crate::tags;
use crate::types::{
    CreateRoleRequest, CreateRoleResponse, DeleteRolePermissionsBoundaryRequest, DeleteRoleRequest, GetRoleRequest,
    GetRoleResponse, ListRoleTagsRequest, ListRoleTagsResponse, ListRolesRequest, ListRolesResponse,
    PutRolePermissionsBoundaryRequest, Role, RoleLastUsed, TagRoleRequest, UntagRoleRequest,
    UpdateAssumeRolePolicyRequest, UpdateRoleDescriptionRequest, UpdateRoleDescriptionResponse, UpdateRoleRequest,
    UpdateRoleResponse,
};
use crate::Iam;
use ingot_core::{Access, Empty, Handler, Operation, RequestContext};
use ingot_identity::iam::EntityKind;
use ingot_identity::RoleRecord;

/// A role's session duration unless it says otherwise, in seconds.
pub const DEFAULT_MAX_SESSION_DURATION: i64 = 3600;

/// Which response shows a role: AWS leaves out different members in different places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleView {
    /// GetRole: everything, `RoleLastUsed` included (empty when never used).
    Get,
    /// CreateRole, UpdateRoleDescription, CreateServiceLinkedRole: tags and boundary.
    Created,
    /// ListRoles and instance profiles: no tags, boundary or last use.
    Listed,
}

pub fn role_shape(r: &RoleRecord, view: RoleView) -> Role {
    let full = view != RoleView::Listed;
    Role {
        path: r.path.clone(),
        role_name: r.name.clone(),
        role_id: r.id.clone(),
        arn: r.arn.clone(),
        create_date: r.created,
        assume_role_policy_document: Some(url_encode(&r.assume_role_policy)),
        description: r.description.clone(),
        max_session_duration: Some(i32::try_from(r.max_session_duration).unwrap_or(i32::MAX)),
        permissions_boundary: if full { boundary_shape(&r.permissions_boundary) } else { None },
        tags: if full { tags::to_wire(&r.tags) } else { None },
        role_last_used: (view == RoleView::Get).then(|| last_used(r)),
        source_role_template: None,
    }
}

/// `RoleLastUsed`: when and where a session of the role last made a call.
pub fn last_used(r: &RoleRecord) -> RoleLastUsed {
    match &r.last_used {
        Some((when, region)) => RoleLastUsed { last_used_date: Some(*when), region: Some(region.clone()) },
        None => RoleLastUsed::default(),
    }
}

/// Finds role `name` after authorizing `Op` on it (with its tags and whatever `extend` adds).
pub async fn role_for<Op: Operation>(
    ctx: &RequestContext<'_>,
    name: &str,
    extend: impl FnOnce(Access<'_>) -> Access<'_>,
) -> Result<RoleRecord, IamError> {
    let found = store::find_role(ctx, name).await?;
    let arn = found.as_ref().map_or_else(|| store::arn(ctx, EntityKind::Role, "/", name), |r| r.arn.clone());
    let entity_tags = found.as_ref().map_or(&[][..], |r| r.tags.as_slice());
    let access = extend(tags::with_resource_tags(Access::resource(&arn), entity_tags));
    access::authorize_with::<Op>(ctx, access).await?;
    found.ok_or_else(|| store::no_such_role(name))
}

impl Handler<CreateRole> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: CreateRoleRequest) -> Result<CreateRoleResponse, IamError> {
        let path = path_or_default(input.path);
        let arn = store::arn(ctx, EntityKind::Role, &path, &input.role_name);
        let new_tags = tags::requested(input.tags);
        let mut request = tags::with_request_tags(Access::resource(&arn), &new_tags);
        if let Some(boundary) = &input.permissions_boundary {
            request = request.condition("iam:PermissionsBoundary", [boundary.clone()]);
        }
        access::authorize_with::<CreateRole>(ctx, request).await?;
        tags::check_unique(&new_tags)?;
        check_trust(ctx, &input.assume_role_policy_document).await?;
        if store::find_role(ctx, &input.role_name).await?.is_some() {
            return Err(IamError::entity_already_exists_exception(format!(
                "Role with name {} already exists.",
                input.role_name
            )));
        }
        if let Some(boundary) = &input.permissions_boundary {
            boundary_policy(ctx, boundary).await?;
            adjust_usage(ctx, boundary, 0, 1).await?;
        }
        let record = RoleRecord {
            id: ctx.ids().unique_id("AROA"),
            name: input.role_name,
            path,
            arn,
            created: ctx.now,
            assume_role_policy: input.assume_role_policy_document,
            description: input.description,
            max_session_duration: input.max_session_duration.map_or(DEFAULT_MAX_SESSION_DURATION, i64::from),
            permissions_boundary: input.permissions_boundary,
            tags: new_tags,
            inline_policies: Default::default(),
            attached_policies: Vec::new(),
            service_linked: None,
            last_used: None,
        };
        store::save_role(ctx, &record);
        Ok(CreateRoleResponse { role: role_shape(&record, RoleView::Created) })
    }
}

impl Handler<GetRole> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: GetRoleRequest) -> Result<GetRoleResponse, IamError> {
        let record = role_for::<GetRole>(ctx, &input.role_name, |a| a).await?;
        Ok(GetRoleResponse { role: role_shape(&record, RoleView::Get) })
    }
}

impl Handler<ListRoles> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: ListRolesRequest) -> Result<ListRolesResponse, IamError> {
        access::authorize_any::<ListRoles>(ctx).await?;
        let prefix = input.path_prefix.as_deref();
        let query = format!("ListRoles\n{}", prefix.unwrap_or(""));
        let page = scan_page::<RoleRecord>(
            &ctx.tx,
            &store::prefix(ctx, EntityKind::Role),
            &query,
            input.marker.as_deref(),
            max_items(input.max_items),
            |r| path_matches(&r.path, prefix),
        )
        .await?;
        Ok(ListRolesResponse {
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
            roles: page.items.iter().map(|r| role_shape(r, RoleView::Listed)).collect(),
        })
    }
}

impl Handler<UpdateRole> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: UpdateRoleRequest) -> Result<UpdateRoleResponse, IamError> {
        let mut record = role_for::<UpdateRole>(ctx, &input.role_name, |a| a).await?;
        // AWS lets the description of a service-linked role be edited, nothing else.
        if input.max_session_duration.is_some() {
            access::refuse_protected(&record)?;
        }
        let mut changed = false;
        if let Some(description) = input.description {
            record.description = Some(description);
            changed = true;
        }
        if let Some(duration) = input.max_session_duration {
            record.max_session_duration = i64::from(duration);
            changed = true;
        }
        if changed {
            store::save_role(ctx, &record);
        }
        Ok(UpdateRoleResponse {})
    }
}

impl Handler<UpdateRoleDescription> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: UpdateRoleDescriptionRequest,
    ) -> Result<UpdateRoleDescriptionResponse, IamError> {
        let mut record = role_for::<UpdateRoleDescription>(ctx, &input.role_name, |a| a).await?;
        record.description = Some(input.description);
        store::save_role(ctx, &record);
        Ok(UpdateRoleDescriptionResponse { role: Some(role_shape(&record, RoleView::Created)) })
    }
}

impl Handler<UpdateAssumeRolePolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: UpdateAssumeRolePolicyRequest) -> Result<Empty, IamError> {
        let mut record = role_for::<UpdateAssumeRolePolicy>(ctx, &input.role_name, |a| a).await?;
        access::refuse_protected(&record)?;
        check_trust(ctx, &input.policy_document).await?;
        record.assume_role_policy = input.policy_document;
        store::save_role(ctx, &record);
        Ok(Empty {})
    }
}

impl Handler<DeleteRole> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: DeleteRoleRequest) -> Result<Empty, IamError> {
        let record = role_for::<DeleteRole>(ctx, &input.role_name, |a| a).await?;
        access::refuse_protected(&record)?;
        let conflict = if !record.inline_policies.is_empty() {
            Some("Cannot delete entity, must delete policies first.")
        } else if !record.attached_policies.is_empty() {
            Some("Cannot delete entity, must detach all policies first.")
        } else if !profiles_of_role(ctx, &record.name).await?.is_empty() {
            Some("Cannot delete entity, must remove roles from instance profile first.")
        } else {
            None
        };
        if let Some(message) = conflict {
            return Err(IamError::delete_conflict_exception(message));
        }
        if let Some(boundary) = &record.permissions_boundary {
            adjust_usage(ctx, boundary, 0, -1).await?;
        }
        store::remove(ctx, EntityKind::Role, &record.name);
        Ok(Empty {})
    }
}

impl Handler<TagRole> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: TagRoleRequest) -> Result<Empty, IamError> {
        let new_tags = tags::requested(Some(input.tags));
        let mut record = role_for::<TagRole>(ctx, &input.role_name, |a| tags::with_request_tags(a, &new_tags)).await?;
        tags::merge(&mut record.tags, new_tags, "TagsPerRole")?;
        store::save_role(ctx, &record);
        Ok(Empty {})
    }
}

impl Handler<UntagRole> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: UntagRoleRequest) -> Result<Empty, IamError> {
        let keys = input.tag_keys;
        let mut record =
            role_for::<UntagRole>(ctx, &input.role_name, |a| a.condition("aws:TagKeys", keys.iter().cloned())).await?;
        if tags::remove(&mut record.tags, &keys) {
            store::save_role(ctx, &record);
        }
        Ok(Empty {})
    }
}

impl Handler<ListRoleTags> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListRoleTagsRequest,
    ) -> Result<ListRoleTagsResponse, IamError> {
        let record = role_for::<ListRoleTags>(ctx, &input.role_name, |a| a).await?;
        let query = format!("ListRoleTags\n{}", record.name.to_ascii_lowercase());
        let page = tags::page(&record.tags, &query, input.marker.as_deref(), max_items(input.max_items))?;
        Ok(ListRoleTagsResponse { is_truncated: Some(page.is_truncated()), marker: page.marker, tags: page.items })
    }
}

impl Handler<PutRolePermissionsBoundary> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: PutRolePermissionsBoundaryRequest,
    ) -> Result<Empty, IamError> {
        let boundary = input.permissions_boundary;
        let mut record = role_for::<PutRolePermissionsBoundary>(ctx, &input.role_name, |a| {
            a.condition("iam:PermissionsBoundary", [boundary.clone()])
        })
        .await?;
        access::refuse_protected(&record)?;
        boundary_policy(ctx, &boundary).await?;
        if record.permissions_boundary.as_deref() == Some(boundary.as_str()) {
            return Ok(Empty {});
        }
        if let Some(old) = &record.permissions_boundary {
            adjust_usage(ctx, old, 0, -1).await?;
        }
        adjust_usage(ctx, &boundary, 0, 1).await?;
        record.permissions_boundary = Some(boundary);
        store::save_role(ctx, &record);
        Ok(Empty {})
    }
}

impl Handler<DeleteRolePermissionsBoundary> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: DeleteRolePermissionsBoundaryRequest,
    ) -> Result<Empty, IamError> {
        let mut record = role_for::<DeleteRolePermissionsBoundary>(ctx, &input.role_name, |a| a).await?;
        access::refuse_protected(&record)?;
        if let Some(old) = record.permissions_boundary.take() {
            adjust_usage(ctx, &old, 0, -1).await?;
            store::save_role(ctx, &record);
        }
        Ok(Empty {})
    }
}
