//! IAM users: CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser, their tags and their
//! permissions boundaries. A user's record holds its inline policies, attached policy ARNs, the
//! names of its groups and its access key ids, so the authorizer gathers a user's own policies
//! with one read.

use crate::access;
use crate::errors::IamError;
use crate::managed_policies::{adjust_usage, boundary_policy, boundary_shape};
use crate::names::{path_matches, path_or_default, same_name};
use crate::operations::{
    CreateUser, DeleteUser, DeleteUserPermissionsBoundary, GetUser, ListUserTags, ListUsers,
    PutUserPermissionsBoundary, TagUser, UntagUser, UpdateUser,
};
use crate::pages::{max_items, scan_page};
use crate::store;
use crate::tags;
use crate::types::{
    CreateUserRequest, CreateUserResponse, DeleteUserPermissionsBoundaryRequest, DeleteUserRequest, GetUserRequest,
    GetUserResponse, ListUserTagsRequest, ListUserTagsResponse, ListUsersRequest, ListUsersResponse,
    PutUserPermissionsBoundaryRequest, TagUserRequest, UntagUserRequest, UpdateUserRequest, User,
};
use crate::Iam;
use ingot_core::credentials::{access_key_storage_key, AccessKeyRecord};
use ingot_core::{Access, CommonError, Empty, Handler, Operation, PrincipalKind, RequestContext};
use ingot_identity::iam::{parse_entity_arn, EntityKind};
use ingot_identity::UserRecord;

/// A user as responses show it; `full` adds what only GetUser and CreateUser show (permissions
/// boundary, tags).
pub fn user_shape(u: &UserRecord, full: bool) -> User {
    User {
        path: u.path.clone(),
        user_name: u.name.clone(),
        user_id: u.id.clone(),
        arn: u.arn.clone(),
        create_date: u.created,
        password_last_used: None,
        permissions_boundary: if full { boundary_shape(&u.permissions_boundary) } else { None },
        tags: if full { tags::to_wire(&u.tags) } else { None },
    }
}

/// Finds user `name` after authorizing `Op` on it (with its tags and whatever `extend` adds).
/// A user that does not exist is authorized under its ARN at path `/`, then `NoSuchEntity`.
pub async fn user_for<Op: Operation>(
    ctx: &RequestContext<'_>,
    name: &str,
    extend: impl FnOnce(Access<'_>) -> Access<'_>,
) -> Result<UserRecord, IamError> {
    let found = store::find_user(ctx, name).await?;
    let arn = found.as_ref().map_or_else(|| store::arn(ctx, EntityKind::User, "/", name), |u| u.arn.clone());
    let entity_tags = found.as_ref().map_or(&[][..], |u| u.tags.as_slice());
    let access = extend(tags::with_resource_tags(Access::resource(&arn), entity_tags));
    access::authorize_with::<Op>(ctx, access).await?;
    found.ok_or_else(|| store::no_such_user(name))
}

/// Who the caller is, for the calls whose `UserName` defaults to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Root,
    /// An IAM user (long-term keys or its GetSessionToken credentials), by name.
    User(String),
    /// A role session or Ingot's internal principal: such calls must name a user.
    Other,
}

pub fn caller(ctx: &RequestContext<'_>) -> Caller {
    match ctx.principal.kind {
        PrincipalKind::Root => Caller::Root,
        PrincipalKind::User => match parse_entity_arn(&ctx.principal.arn) {
            Some(user) if user.kind == EntityKind::User => Caller::User(user.name.to_string()),
            _ => Caller::Other,
        },
        PrincipalKind::AssumedRole | PrincipalKind::Internal => Caller::Other,
    }
}

pub fn must_name_user() -> IamError {
    CommonError::validation("Must specify userName when calling with non-User credentials").into()
}

impl Handler<CreateUser> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: CreateUserRequest) -> Result<CreateUserResponse, IamError> {
        let path = path_or_default(input.path);
        let arn = store::arn(ctx, EntityKind::User, &path, &input.user_name);
        let new_tags = tags::requested(input.tags);
        let mut request = tags::with_request_tags(Access::resource(&arn), &new_tags);
        if let Some(boundary) = &input.permissions_boundary {
            request = request.condition("iam:PermissionsBoundary", [boundary.clone()]);
        }
        access::authorize_with::<CreateUser>(ctx, request).await?;
        tags::check_unique(&new_tags)?;
        if store::find_user(ctx, &input.user_name).await?.is_some() {
            return Err(IamError::entity_already_exists_exception(format!(
                "User with name {} already exists.",
                input.user_name
            )));
        }
        if let Some(boundary) = &input.permissions_boundary {
            boundary_policy(ctx, boundary).await?;
            adjust_usage(ctx, boundary, 0, 1).await?;
        }
        let record = UserRecord {
            id: ctx.ids().unique_id("AIDA"),
            name: input.user_name,
            path,
            arn,
            created: ctx.now,
            permissions_boundary: input.permissions_boundary,
            tags: new_tags,
            inline_policies: Default::default(),
            attached_policies: Vec::new(),
            groups: Vec::new(),
            access_keys: Vec::new(),
        };
        store::save_user(ctx, &record);
        Ok(CreateUserResponse { user: Some(user_shape(&record, true)) })
    }
}

impl Handler<GetUser> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: GetUserRequest) -> Result<GetUserResponse, IamError> {
        let name = match (input.user_name, caller(ctx)) {
            (Some(name), _) | (None, Caller::User(name)) => name,
            (None, Caller::Root) => {
                let arn = store::root_arn(ctx);
                access::authorize::<GetUser>(ctx, &arn, &[]).await?;
                // The root user has no name or path of its own; AWS leaves them out.
                let user = User {
                    path: String::new(),
                    user_name: String::new(),
                    user_id: ctx.scope.account.to_string(),
                    arn,
                    create_date: ctx.now,
                    password_last_used: None,
                    permissions_boundary: None,
                    tags: None,
                };
                return Ok(GetUserResponse { user });
            }
            (None, Caller::Other) => {
                access::authorize_any::<GetUser>(ctx).await?;
                return Err(must_name_user());
            }
        };
        let record = user_for::<GetUser>(ctx, &name, |a| a).await?;
        Ok(GetUserResponse { user: user_shape(&record, true) })
    }
}

impl Handler<ListUsers> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: ListUsersRequest) -> Result<ListUsersResponse, IamError> {
        access::authorize_any::<ListUsers>(ctx).await?;
        let prefix = input.path_prefix.as_deref();
        let query = format!("ListUsers\n{}", prefix.unwrap_or(""));
        let page = scan_page::<UserRecord>(
            &ctx.tx,
            &store::prefix(ctx, EntityKind::User),
            &query,
            input.marker.as_deref(),
            max_items(input.max_items),
            |u| path_matches(&u.path, prefix),
        )
        .await?;
        Ok(ListUsersResponse {
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
            users: page.items.iter().map(|u| user_shape(u, false)).collect(),
        })
    }
}

impl Handler<UpdateUser> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: UpdateUserRequest) -> Result<Empty, IamError> {
        let mut record = user_for::<UpdateUser>(ctx, &input.user_name, |a| a).await?;
        let new_name = input.new_user_name.unwrap_or_else(|| record.name.clone());
        let new_path = input.new_path.unwrap_or_else(|| record.path.clone());
        if new_name == record.name && new_path == record.path {
            return Ok(Empty {});
        }
        let new_arn = store::arn(ctx, EntityKind::User, &new_path, &new_name);
        // Renaming or moving needs the permission on the new name too.
        access::authorize::<UpdateUser>(ctx, &new_arn, &record.tags).await?;
        if !same_name(&new_name, &record.name) {
            if store::find_user(ctx, &new_name).await?.is_some() {
                return Err(IamError::entity_already_exists_exception(format!(
                    "User with name {new_name} already exists."
                )));
            }
            store::remove(ctx, EntityKind::User, &record.name);
        }
        // The keys speak for the user under its ARN.
        for id in &record.access_keys {
            let key = access_key_storage_key(id);
            if let Some(mut stored) = ctx.tx.get_record::<AccessKeyRecord>(&key).await? {
                stored.principal.arn = new_arn.clone();
                ctx.tx.put_record(&key, &stored);
            }
        }
        record.name = new_name;
        record.path = new_path;
        record.arn = new_arn;
        store::save_user(ctx, &record);
        Ok(Empty {})
    }
}

impl Handler<DeleteUser> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: DeleteUserRequest) -> Result<Empty, IamError> {
        let record = user_for::<DeleteUser>(ctx, &input.user_name, |a| a).await?;
        let conflict = if !record.access_keys.is_empty() {
            Some("Cannot delete entity, must delete access keys first.")
        } else if !record.inline_policies.is_empty() {
            Some("Cannot delete entity, must delete policies first.")
        } else if !record.attached_policies.is_empty() {
            Some("Cannot delete entity, must detach all policies first.")
        } else if !record.groups.is_empty() {
            Some("Cannot delete entity, must remove users from group first.")
        } else {
            None
        };
        if let Some(message) = conflict {
            return Err(IamError::delete_conflict_exception(message));
        }
        if let Some(boundary) = &record.permissions_boundary {
            adjust_usage(ctx, boundary, 0, -1).await?;
        }
        store::remove(ctx, EntityKind::User, &record.name);
        Ok(Empty {})
    }
}

impl Handler<TagUser> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: TagUserRequest) -> Result<Empty, IamError> {
        let new_tags = tags::requested(Some(input.tags));
        let mut record = user_for::<TagUser>(ctx, &input.user_name, |a| tags::with_request_tags(a, &new_tags)).await?;
        tags::merge(&mut record.tags, new_tags, "TagsPerUser")?;
        store::save_user(ctx, &record);
        Ok(Empty {})
    }
}

impl Handler<UntagUser> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: UntagUserRequest) -> Result<Empty, IamError> {
        let keys = input.tag_keys;
        let mut record =
            user_for::<UntagUser>(ctx, &input.user_name, |a| a.condition("aws:TagKeys", keys.iter().cloned())).await?;
        if tags::remove(&mut record.tags, &keys) {
            store::save_user(ctx, &record);
        }
        Ok(Empty {})
    }
}

impl Handler<ListUserTags> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListUserTagsRequest,
    ) -> Result<ListUserTagsResponse, IamError> {
        let record = user_for::<ListUserTags>(ctx, &input.user_name, |a| a).await?;
        let query = format!("ListUserTags\n{}", record.name.to_ascii_lowercase());
        let page = tags::page(&record.tags, &query, input.marker.as_deref(), max_items(input.max_items))?;
        Ok(ListUserTagsResponse { is_truncated: Some(page.is_truncated()), marker: page.marker, tags: page.items })
    }
}

impl Handler<PutUserPermissionsBoundary> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: PutUserPermissionsBoundaryRequest,
    ) -> Result<Empty, IamError> {
        let boundary = input.permissions_boundary;
        let mut record = user_for::<PutUserPermissionsBoundary>(ctx, &input.user_name, |a| {
            a.condition("iam:PermissionsBoundary", [boundary.clone()])
        })
        .await?;
        boundary_policy(ctx, &boundary).await?;
        if record.permissions_boundary.as_deref() == Some(boundary.as_str()) {
            return Ok(Empty {});
        }
        if let Some(old) = &record.permissions_boundary {
            adjust_usage(ctx, old, 0, -1).await?;
        }
        adjust_usage(ctx, &boundary, 0, 1).await?;
        record.permissions_boundary = Some(boundary);
        store::save_user(ctx, &record);
        Ok(Empty {})
    }
}

impl Handler<DeleteUserPermissionsBoundary> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: DeleteUserPermissionsBoundaryRequest,
    ) -> Result<Empty, IamError> {
        let mut record = user_for::<DeleteUserPermissionsBoundary>(ctx, &input.user_name, |a| a).await?;
        if let Some(old) = record.permissions_boundary.take() {
            adjust_usage(ctx, &old, 0, -1).await?;
            store::save_user(ctx, &record);
        }
        Ok(Empty {})
    }
}
