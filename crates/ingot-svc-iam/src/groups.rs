//! IAM groups: CreateGroup, GetGroup, ListGroups, UpdateGroup, DeleteGroup, and membership
//! (AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser). Membership lives on the user's side
//! (`UserRecord::groups`, the authorizer's one read per user); a group's members are the users
//! naming it. A change of membership also rewrites the group's record, so it conflicts with a
//! concurrent DeleteGroup or UpdateGroup that read the group.

use crate::access;
use crate::errors::IamError;
use crate::names::{path_matches, path_or_default, same_name};
use crate::operations::{
    AddUserToGroup, CreateGroup, DeleteGroup, GetGroup, ListGroups, ListGroupsForUser, RemoveUserFromGroup, UpdateGroup,
};
use crate::pages::{max_items, page_of, scan_page};
use crate::store;
use crate::types::{
    AddUserToGroupRequest, CreateGroupRequest, CreateGroupResponse, DeleteGroupRequest, GetGroupRequest,
    GetGroupResponse, Group, ListGroupsForUserRequest, ListGroupsForUserResponse, ListGroupsRequest,
    ListGroupsResponse, RemoveUserFromGroupRequest, UpdateGroupRequest,
};
use crate::users::{user_for, user_shape};
use crate::Iam;
use ingot_core::{Access, Empty, Handler, Operation, RequestContext};
use ingot_identity::iam::EntityKind;
use ingot_identity::{GroupRecord, UserRecord};

/// Groups a user may belong to.
pub const MAX_GROUPS_PER_USER: usize = 10;

pub fn group_shape(g: &GroupRecord) -> Group {
    Group {
        path: g.path.clone(),
        group_name: g.name.clone(),
        group_id: g.id.clone(),
        arn: g.arn.clone(),
        create_date: g.created,
    }
}

/// Finds group `name` after authorizing `Op` on it (with whatever `extend` adds).
pub async fn group_for<Op: Operation>(
    ctx: &RequestContext<'_>,
    name: &str,
    extend: impl FnOnce(Access<'_>) -> Access<'_>,
) -> Result<GroupRecord, IamError> {
    let found = store::find_group(ctx, name).await?;
    let arn = found.as_ref().map_or_else(|| store::arn(ctx, EntityKind::Group, "/", name), |g| g.arn.clone());
    access::authorize_with::<Op>(ctx, extend(Access::resource(&arn))).await?;
    found.ok_or_else(|| store::no_such_group(name))
}

/// Whether `user` belongs to the group called `group`.
pub fn is_member(user: &UserRecord, group: &str) -> bool {
    user.groups.iter().any(|g| same_name(g, group))
}

/// Every member of the group called `group`.
pub async fn members(ctx: &RequestContext<'_>, group: &str) -> Result<Vec<UserRecord>, IamError> {
    let users = store::all::<UserRecord>(ctx, EntityKind::User).await?;
    Ok(users.into_iter().filter(|u| is_member(u, group)).collect())
}

impl Handler<CreateGroup> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: CreateGroupRequest,
    ) -> Result<CreateGroupResponse, IamError> {
        let path = path_or_default(input.path);
        let arn = store::arn(ctx, EntityKind::Group, &path, &input.group_name);
        access::authorize::<CreateGroup>(ctx, &arn, &[]).await?;
        if store::find_group(ctx, &input.group_name).await?.is_some() {
            return Err(IamError::entity_already_exists_exception(format!(
                "Group with name {} already exists.",
                input.group_name
            )));
        }
        let record = GroupRecord {
            id: ctx.ids().unique_id("AGPA"),
            name: input.group_name,
            path,
            arn,
            created: ctx.now,
            inline_policies: Default::default(),
            attached_policies: Vec::new(),
        };
        store::save_group(ctx, &record);
        Ok(CreateGroupResponse { group: group_shape(&record) })
    }
}

impl Handler<GetGroup> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: GetGroupRequest) -> Result<GetGroupResponse, IamError> {
        let group = group_for::<GetGroup>(ctx, &input.group_name, |a| a).await?;
        let query = format!("GetGroup\n{}", group.name.to_ascii_lowercase());
        let page = scan_page::<UserRecord>(
            &ctx.tx,
            &store::prefix(ctx, EntityKind::User),
            &query,
            input.marker.as_deref(),
            max_items(input.max_items),
            |u| is_member(u, &group.name),
        )
        .await?;
        Ok(GetGroupResponse {
            group: group_shape(&group),
            users: page.items.iter().map(|u| user_shape(u, false)).collect(),
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
        })
    }
}

impl Handler<ListGroups> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: ListGroupsRequest) -> Result<ListGroupsResponse, IamError> {
        access::authorize_any::<ListGroups>(ctx).await?;
        let prefix = input.path_prefix.as_deref();
        let query = format!("ListGroups\n{}", prefix.unwrap_or(""));
        let page = scan_page::<GroupRecord>(
            &ctx.tx,
            &store::prefix(ctx, EntityKind::Group),
            &query,
            input.marker.as_deref(),
            max_items(input.max_items),
            |g| path_matches(&g.path, prefix),
        )
        .await?;
        Ok(ListGroupsResponse {
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
            groups: page.items.iter().map(group_shape).collect(),
        })
    }
}

impl Handler<UpdateGroup> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: UpdateGroupRequest) -> Result<Empty, IamError> {
        let mut group = group_for::<UpdateGroup>(ctx, &input.group_name, |a| a).await?;
        let new_name = input.new_group_name.unwrap_or_else(|| group.name.clone());
        let new_path = input.new_path.unwrap_or_else(|| group.path.clone());
        if new_name == group.name && new_path == group.path {
            return Ok(Empty {});
        }
        let new_arn = store::arn(ctx, EntityKind::Group, &new_path, &new_name);
        // Renaming or moving needs the permission on the new name too.
        access::authorize::<UpdateGroup>(ctx, &new_arn, &[]).await?;
        if !same_name(&new_name, &group.name) {
            if store::find_group(ctx, &new_name).await?.is_some() {
                return Err(IamError::entity_already_exists_exception(format!(
                    "Group with name {new_name} already exists."
                )));
            }
            store::remove(ctx, EntityKind::Group, &group.name);
        }
        if new_name != group.name {
            for mut user in members(ctx, &group.name).await? {
                for g in user.groups.iter_mut().filter(|g| same_name(g, &group.name)) {
                    g.clone_from(&new_name);
                }
                store::save_user(ctx, &user);
            }
        }
        group.name = new_name;
        group.path = new_path;
        group.arn = new_arn;
        store::save_group(ctx, &group);
        Ok(Empty {})
    }
}

impl Handler<DeleteGroup> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: DeleteGroupRequest) -> Result<Empty, IamError> {
        let group = group_for::<DeleteGroup>(ctx, &input.group_name, |a| a).await?;
        let conflict = if !members(ctx, &group.name).await?.is_empty() {
            Some("Cannot delete entity, must remove users from group first.")
        } else if !group.inline_policies.is_empty() {
            Some("Cannot delete entity, must delete policies first.")
        } else if !group.attached_policies.is_empty() {
            Some("Cannot delete entity, must detach all policies first.")
        } else {
            None
        };
        if let Some(message) = conflict {
            return Err(IamError::delete_conflict_exception(message));
        }
        store::remove(ctx, EntityKind::Group, &group.name);
        Ok(Empty {})
    }
}

impl Handler<AddUserToGroup> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: AddUserToGroupRequest) -> Result<Empty, IamError> {
        let group = group_for::<AddUserToGroup>(ctx, &input.group_name, |a| a).await?;
        let mut user =
            store::require(store::find_user(ctx, &input.user_name).await?, || store::no_such_user(&input.user_name))?;
        if is_member(&user, &group.name) {
            return Ok(Empty {});
        }
        if user.groups.len() >= MAX_GROUPS_PER_USER {
            return Err(IamError::limit_exceeded_exception(format!(
                "Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}"
            )));
        }
        user.groups.push(group.name.clone());
        store::save_user(ctx, &user);
        // Rewritten unchanged: a DeleteGroup that read the group now conflicts with this call.
        store::save_group(ctx, &group);
        Ok(Empty {})
    }
}

impl Handler<RemoveUserFromGroup> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: RemoveUserFromGroupRequest) -> Result<Empty, IamError> {
        let group = group_for::<RemoveUserFromGroup>(ctx, &input.group_name, |a| a).await?;
        let mut user =
            store::require(store::find_user(ctx, &input.user_name).await?, || store::no_such_user(&input.user_name))?;
        if !is_member(&user, &group.name) {
            return Err(store::no_such_user(&input.user_name));
        }
        user.groups.retain(|g| !same_name(g, &group.name));
        store::save_user(ctx, &user);
        store::save_group(ctx, &group);
        Ok(Empty {})
    }
}

impl Handler<ListGroupsForUser> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListGroupsForUserRequest,
    ) -> Result<ListGroupsForUserResponse, IamError> {
        let user = user_for::<ListGroupsForUser>(ctx, &input.user_name, |a| a).await?;
        let mut items = Vec::new();
        for name in &user.groups {
            if let Some(group) = store::find_group(ctx, name).await? {
                items.push((group.name.to_ascii_lowercase(), group_shape(&group)));
            }
        }
        let query = format!("ListGroupsForUser\n{}", user.name.to_ascii_lowercase());
        let page = page_of(items, &query, input.marker.as_deref(), max_items(input.max_items))?;
        Ok(ListGroupsForUserResponse {
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
            groups: page.items,
        })
    }
}
