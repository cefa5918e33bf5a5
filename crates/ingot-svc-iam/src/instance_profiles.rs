//! Instance profiles: CreateInstanceProfile, GetInstanceProfile, DeleteInstanceProfile,
//! ListInstanceProfiles, AddRoleToInstanceProfile, RemoveRoleFromInstanceProfile,
//! ListInstanceProfilesForRole and their tags. A profile holds at most one role, by name; adding
//! one passes the role to EC2, so it also needs `iam:PassRole` on the role. The profiles of a role
//! are found by scanning the account's profiles; adding or removing a role rewrites the role's
//! record too, so a concurrent DeleteRole that read the role conflicts.

use crate::access;
use crate::errors::IamError;
use crate::names::{path_matches, path_or_default, same_name};
use crate::operations::{
    AddRoleToInstanceProfile, CreateInstanceProfile, DeleteInstanceProfile, GetInstanceProfile,
    ListInstanceProfileTags, ListInstanceProfiles, ListInstanceProfilesForRole, RemoveRoleFromInstanceProfile,
    TagInstanceProfile, UntagInstanceProfile,
};
use crate::pages::{max_items, page_of, scan_page};
use crate::roles::{role_for, role_shape, RoleView};
use crate::store;
use crate::tags;
use crate::types::{
    AddRoleToInstanceProfileRequest, CreateInstanceProfileRequest, CreateInstanceProfileResponse,
    DeleteInstanceProfileRequest, GetInstanceProfileRequest, GetInstanceProfileResponse, InstanceProfile,
    ListInstanceProfileTagsRequest, ListInstanceProfileTagsResponse, ListInstanceProfilesForRoleRequest,
    ListInstanceProfilesForRoleResponse, ListInstanceProfilesRequest, ListInstanceProfilesResponse,
    RemoveRoleFromInstanceProfileRequest, TagInstanceProfileRequest, UntagInstanceProfileRequest,
};
use crate::Iam;
use ingot_core::{Access, Empty, Handler, Operation, RequestContext};
use ingot_identity::iam::EntityKind;
use ingot_identity::InstanceProfileRecord;

/// Roles an instance profile holds at most.
pub const MAX_ROLES: usize = 1;

/// An instance profile as responses show it, with its role.
pub async fn profile_shape(
    ctx: &RequestContext<'_>,
    p: &InstanceProfileRecord,
    with_tags: bool,
) -> Result<InstanceProfile, IamError> {
    let mut roles = Vec::with_capacity(p.roles.len());
    for name in &p.roles {
        if let Some(role) = store::find_role(ctx, name).await? {
            roles.push(role_shape(&role, RoleView::Listed));
        }
    }
    Ok(InstanceProfile {
        path: p.path.clone(),
        instance_profile_name: p.name.clone(),
        instance_profile_id: p.id.clone(),
        arn: p.arn.clone(),
        create_date: p.created,
        roles,
        tags: if with_tags { tags::to_wire(&p.tags) } else { None },
    })
}

/// The instance profiles that hold the role called `role`.
pub async fn profiles_of_role(ctx: &RequestContext<'_>, role: &str) -> Result<Vec<InstanceProfileRecord>, IamError> {
    let all = store::all::<InstanceProfileRecord>(ctx, EntityKind::InstanceProfile).await?;
    Ok(all.into_iter().filter(|p| p.roles.iter().any(|r| same_name(r, role))).collect())
}

/// Finds instance profile `name` after authorizing `Op` on it (with its tags and whatever
/// `extend` adds).
async fn profile_for<Op: Operation>(
    ctx: &RequestContext<'_>,
    name: &str,
    extend: impl FnOnce(Access<'_>) -> Access<'_>,
) -> Result<InstanceProfileRecord, IamError> {
    let found = store::find_instance_profile(ctx, name).await?;
    let arn = found.as_ref().map_or_else(|| store::arn(ctx, EntityKind::InstanceProfile, "/", name), |p| p.arn.clone());
    let entity_tags = found.as_ref().map_or(&[][..], |p| p.tags.as_slice());
    let access = extend(tags::with_resource_tags(Access::resource(&arn), entity_tags));
    access::authorize_with::<Op>(ctx, access).await?;
    found.ok_or_else(|| store::no_such_instance_profile(name))
}

impl Handler<CreateInstanceProfile> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: CreateInstanceProfileRequest,
    ) -> Result<CreateInstanceProfileResponse, IamError> {
        let path = path_or_default(input.path);
        let arn = store::arn(ctx, EntityKind::InstanceProfile, &path, &input.instance_profile_name);
        let new_tags = tags::requested(input.tags);
        let access = tags::with_request_tags(Access::resource(&arn), &new_tags);
        access::authorize_with::<CreateInstanceProfile>(ctx, access).await?;
        tags::check_unique(&new_tags)?;
        if store::find_instance_profile(ctx, &input.instance_profile_name).await?.is_some() {
            return Err(IamError::entity_already_exists_exception(format!(
                "Instance Profile {} already exists.",
                input.instance_profile_name
            )));
        }
        let record = InstanceProfileRecord {
            id: ctx.ids().unique_id("AIPA"),
            name: input.instance_profile_name,
            path,
            arn,
            created: ctx.now,
            roles: Vec::new(),
            tags: new_tags,
        };
        store::save_instance_profile(ctx, &record);
        Ok(CreateInstanceProfileResponse { instance_profile: profile_shape(ctx, &record, true).await? })
    }
}

impl Handler<GetInstanceProfile> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: GetInstanceProfileRequest,
    ) -> Result<GetInstanceProfileResponse, IamError> {
        let record = profile_for::<GetInstanceProfile>(ctx, &input.instance_profile_name, |a| a).await?;
        Ok(GetInstanceProfileResponse { instance_profile: profile_shape(ctx, &record, true).await? })
    }
}

impl Handler<DeleteInstanceProfile> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: DeleteInstanceProfileRequest) -> Result<Empty, IamError> {
        let record = profile_for::<DeleteInstanceProfile>(ctx, &input.instance_profile_name, |a| a).await?;
        if !record.roles.is_empty() {
            return Err(IamError::delete_conflict_exception(
                "Cannot delete entity, must remove roles from instance profile first.",
            ));
        }
        store::remove(ctx, EntityKind::InstanceProfile, &record.name);
        Ok(Empty {})
    }
}

impl Handler<ListInstanceProfiles> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListInstanceProfilesRequest,
    ) -> Result<ListInstanceProfilesResponse, IamError> {
        access::authorize_any::<ListInstanceProfiles>(ctx).await?;
        let prefix = input.path_prefix.as_deref();
        let query = format!("ListInstanceProfiles\n{}", prefix.unwrap_or(""));
        let page = scan_page::<InstanceProfileRecord>(
            &ctx.tx,
            &store::prefix(ctx, EntityKind::InstanceProfile),
            &query,
            input.marker.as_deref(),
            max_items(input.max_items),
            |p| path_matches(&p.path, prefix),
        )
        .await?;
        let mut instance_profiles = Vec::with_capacity(page.items.len());
        for p in &page.items {
            instance_profiles.push(profile_shape(ctx, p, false).await?);
        }
        Ok(ListInstanceProfilesResponse {
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
            instance_profiles,
        })
    }
}

impl Handler<AddRoleToInstanceProfile> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: AddRoleToInstanceProfileRequest,
    ) -> Result<Empty, IamError> {
        let mut profile = profile_for::<AddRoleToInstanceProfile>(ctx, &input.instance_profile_name, |a| a).await?;
        let role =
            store::require(store::find_role(ctx, &input.role_name).await?, || store::no_such_role(&input.role_name))?;
        access::authorize_pass_role(ctx, &role.arn, &role.tags).await?;
        // AWS answers a second role, and the same role again, with the quota.
        if profile.roles.len() >= MAX_ROLES {
            return Err(IamError::limit_exceeded_exception(format!(
                "Cannot exceed quota for InstanceSessionsPerInstanceProfile: {MAX_ROLES}"
            )));
        }
        profile.roles.push(role.name.clone());
        store::save_instance_profile(ctx, &profile);
        // Rewritten unchanged: a DeleteRole that read the role now conflicts with this call.
        store::save_role(ctx, &role);
        Ok(Empty {})
    }
}

impl Handler<RemoveRoleFromInstanceProfile> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: RemoveRoleFromInstanceProfileRequest,
    ) -> Result<Empty, IamError> {
        let mut profile =
            profile_for::<RemoveRoleFromInstanceProfile>(ctx, &input.instance_profile_name, |a| a).await?;
        if !profile.roles.iter().any(|r| same_name(r, &input.role_name)) {
            return Err(store::no_such_role(&input.role_name));
        }
        profile.roles.retain(|r| !same_name(r, &input.role_name));
        store::save_instance_profile(ctx, &profile);
        if let Some(role) = store::find_role(ctx, &input.role_name).await? {
            store::save_role(ctx, &role);
        }
        Ok(Empty {})
    }
}

impl Handler<ListInstanceProfilesForRole> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListInstanceProfilesForRoleRequest,
    ) -> Result<ListInstanceProfilesForRoleResponse, IamError> {
        let role = role_for::<ListInstanceProfilesForRole>(ctx, &input.role_name, |a| a).await?;
        let mut items = Vec::new();
        for p in profiles_of_role(ctx, &role.name).await? {
            items.push((p.name.to_ascii_lowercase(), profile_shape(ctx, &p, false).await?));
        }
        let query = format!("ListInstanceProfilesForRole\n{}", role.name.to_ascii_lowercase());
        let page = page_of(items, &query, input.marker.as_deref(), max_items(input.max_items))?;
        Ok(ListInstanceProfilesForRoleResponse {
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
            instance_profiles: page.items,
        })
    }
}

impl Handler<TagInstanceProfile> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: TagInstanceProfileRequest) -> Result<Empty, IamError> {
        let new_tags = tags::requested(Some(input.tags));
        let mut record = profile_for::<TagInstanceProfile>(ctx, &input.instance_profile_name, |a| {
            tags::with_request_tags(a, &new_tags)
        })
        .await?;
        tags::merge(&mut record.tags, new_tags, "TagsPerInstanceProfile")?;
        store::save_instance_profile(ctx, &record);
        Ok(Empty {})
    }
}

impl Handler<UntagInstanceProfile> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: UntagInstanceProfileRequest) -> Result<Empty, IamError> {
        let keys = input.tag_keys;
        let mut record = profile_for::<UntagInstanceProfile>(ctx, &input.instance_profile_name, |a| {
            a.condition("aws:TagKeys", keys.iter().cloned())
        })
        .await?;
        if tags::remove(&mut record.tags, &keys) {
            store::save_instance_profile(ctx, &record);
        }
        Ok(Empty {})
    }
}

impl Handler<ListInstanceProfileTags> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListInstanceProfileTagsRequest,
    ) -> Result<ListInstanceProfileTagsResponse, IamError> {
        let record = profile_for::<ListInstanceProfileTags>(ctx, &input.instance_profile_name, |a| a).await?;
        let query = format!("ListInstanceProfileTags\n{}", record.name.to_ascii_lowercase());
        let page = tags::page(&record.tags, &query, input.marker.as_deref(), max_items(input.max_items))?;
        Ok(ListInstanceProfileTagsResponse {
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
            tags: page.items,
        })
    }
}
