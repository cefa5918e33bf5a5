//! Inline policies: Put/Get/Delete/List{User,Group,Role}Policy. They live inside the entity's
//! record (by name, documents as given), so the authorizer reads them with the entity; all of an
//! entity's inline policies together stay within its quota (user 2048, group 5120, role 10240
//! characters other than whitespace).

use crate::access;
use crate::documents::{
    check_inline_total, parse_identity, url_encode, GROUP_INLINE_MAX, ROLE_INLINE_MAX, USER_INLINE_MAX,
};
use crate::errors::IamError;
use crate::groups::group_for;
use crate::operations::{
    DeleteGroupPolicy, DeleteRolePolicy, DeleteUserPolicy, GetGroupPolicy, GetRolePolicy, GetUserPolicy,
    ListGroupPolicies, ListRolePolicies, ListUserPolicies, PutGroupPolicy, PutRolePolicy, PutUserPolicy,
};
use crate::pages::{max_items, page_of, Page};
use crate::roles::role_for;
use crate::store;
use crate::types::{
    DeleteGroupPolicyRequest, DeleteRolePolicyRequest, DeleteUserPolicyRequest, GetGroupPolicyRequest,
    GetGroupPolicyResponse, GetRolePolicyRequest, GetRolePolicyResponse, GetUserPolicyRequest, GetUserPolicyResponse,
    ListGroupPoliciesRequest, ListGroupPoliciesResponse, ListRolePoliciesRequest, ListRolePoliciesResponse,
    ListUserPoliciesRequest, ListUserPoliciesResponse, PutGroupPolicyRequest, PutRolePolicyRequest,
    PutUserPolicyRequest,
};
use crate::users::user_for;
use crate::Iam;
use ingot_core::{Empty, Handler, RequestContext};
use std::collections::BTreeMap;

/// `NoSuchEntity` for an inline policy (`what`: `user`, `group`, `role`).
fn no_such_inline(what: &str, name: &str) -> IamError {
    IamError::no_such_entity_exception(format!("The {what} policy with name {name} cannot be found."))
}

/// Validates `document` and stores it as `name` among `policies`.
fn put(
    policies: &mut BTreeMap<String, String>,
    name: String,
    document: String,
    quota: usize,
    what: &str,
    entity: &str,
) -> Result<(), IamError> {
    parse_identity(&document)?;
    check_inline_total(policies, &name, &document, quota, what, entity)?;
    policies.insert(name, document);
    Ok(())
}

/// The document of inline policy `name`, URL-encoded.
fn get(policies: &BTreeMap<String, String>, name: &str, what: &str) -> Result<String, IamError> {
    policies.get(name).map(|d| url_encode(d)).ok_or_else(|| no_such_inline(what, name))
}

fn remove(policies: &mut BTreeMap<String, String>, name: &str, what: &str) -> Result<(), IamError> {
    policies.remove(name).map(|_| ()).ok_or_else(|| no_such_inline(what, name))
}

/// One page of an entity's inline policy names, in name order.
fn names_page(
    policies: &BTreeMap<String, String>,
    query: &str,
    marker: Option<&str>,
    max: Option<i32>,
) -> Result<Page<String>, IamError> {
    let items = policies.keys().map(|name| (name.clone(), name.clone())).collect();
    page_of(items, query, marker, max_items(max))
}

impl Handler<PutUserPolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: PutUserPolicyRequest) -> Result<Empty, IamError> {
        let mut user = user_for::<PutUserPolicy>(ctx, &input.user_name, |a| a).await?;
        let entity = user.name.clone();
        put(&mut user.inline_policies, input.policy_name, input.policy_document, USER_INLINE_MAX, "user", &entity)?;
        store::save_user(ctx, &user);
        Ok(Empty {})
    }
}

impl Handler<GetUserPolicy> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: GetUserPolicyRequest,
    ) -> Result<GetUserPolicyResponse, IamError> {
        let user = user_for::<GetUserPolicy>(ctx, &input.user_name, |a| a).await?;
        let policy_document = get(&user.inline_policies, &input.policy_name, "user")?;
        Ok(GetUserPolicyResponse { user_name: user.name, policy_name: input.policy_name, policy_document })
    }
}

impl Handler<DeleteUserPolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: DeleteUserPolicyRequest) -> Result<Empty, IamError> {
        let mut user = user_for::<DeleteUserPolicy>(ctx, &input.user_name, |a| a).await?;
        remove(&mut user.inline_policies, &input.policy_name, "user")?;
        store::save_user(ctx, &user);
        Ok(Empty {})
    }
}

impl Handler<ListUserPolicies> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListUserPoliciesRequest,
    ) -> Result<ListUserPoliciesResponse, IamError> {
        let user = user_for::<ListUserPolicies>(ctx, &input.user_name, |a| a).await?;
        let query = format!("ListUserPolicies\n{}", user.name.to_ascii_lowercase());
        let page = names_page(&user.inline_policies, &query, input.marker.as_deref(), input.max_items)?;
        Ok(ListUserPoliciesResponse {
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
            policy_names: page.items,
        })
    }
}

impl Handler<PutGroupPolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: PutGroupPolicyRequest) -> Result<Empty, IamError> {
        let mut group = group_for::<PutGroupPolicy>(ctx, &input.group_name, |a| a).await?;
        let entity = group.name.clone();
        put(&mut group.inline_policies, input.policy_name, input.policy_document, GROUP_INLINE_MAX, "group", &entity)?;
        store::save_group(ctx, &group);
        Ok(Empty {})
    }
}

impl Handler<GetGroupPolicy> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: GetGroupPolicyRequest,
    ) -> Result<GetGroupPolicyResponse, IamError> {
        let group = group_for::<GetGroupPolicy>(ctx, &input.group_name, |a| a).await?;
        let policy_document = get(&group.inline_policies, &input.policy_name, "group")?;
        Ok(GetGroupPolicyResponse { group_name: group.name, policy_name: input.policy_name, policy_document })
    }
}

impl Handler<DeleteGroupPolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: DeleteGroupPolicyRequest) -> Result<Empty, IamError> {
        let mut group = group_for::<DeleteGroupPolicy>(ctx, &input.group_name, |a| a).await?;
        remove(&mut group.inline_policies, &input.policy_name, "group")?;
        store::save_group(ctx, &group);
        Ok(Empty {})
    }
}

impl Handler<ListGroupPolicies> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListGroupPoliciesRequest,
    ) -> Result<ListGroupPoliciesResponse, IamError> {
        let group = group_for::<ListGroupPolicies>(ctx, &input.group_name, |a| a).await?;
        let query = format!("ListGroupPolicies\n{}", group.name.to_ascii_lowercase());
        let page = names_page(&group.inline_policies, &query, input.marker.as_deref(), input.max_items)?;
        Ok(ListGroupPoliciesResponse {
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
            policy_names: page.items,
        })
    }
}

impl Handler<PutRolePolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: PutRolePolicyRequest) -> Result<Empty, IamError> {
        let mut role = role_for::<PutRolePolicy>(ctx, &input.role_name, |a| a).await?;
        access::refuse_protected(&role)?;
        let entity = role.name.clone();
        put(&mut role.inline_policies, input.policy_name, input.policy_document, ROLE_INLINE_MAX, "role", &entity)?;
        store::save_role(ctx, &role);
        Ok(Empty {})
    }
}

impl Handler<GetRolePolicy> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: GetRolePolicyRequest,
    ) -> Result<GetRolePolicyResponse, IamError> {
        let role = role_for::<GetRolePolicy>(ctx, &input.role_name, |a| a).await?;
        let policy_document = get(&role.inline_policies, &input.policy_name, "role")?;
        Ok(GetRolePolicyResponse { role_name: role.name, policy_name: input.policy_name, policy_document })
    }
}

impl Handler<DeleteRolePolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: DeleteRolePolicyRequest) -> Result<Empty, IamError> {
        let mut role = role_for::<DeleteRolePolicy>(ctx, &input.role_name, |a| a).await?;
        access::refuse_protected(&role)?;
        remove(&mut role.inline_policies, &input.policy_name, "role")?;
        store::save_role(ctx, &role);
        Ok(Empty {})
    }
}

impl Handler<ListRolePolicies> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListRolePoliciesRequest,
    ) -> Result<ListRolePoliciesResponse, IamError> {
        let role = role_for::<ListRolePolicies>(ctx, &input.role_name, |a| a).await?;
        let query = format!("ListRolePolicies\n{}", role.name.to_ascii_lowercase());
        let page = names_page(&role.inline_policies, &query, input.marker.as_deref(), input.max_items)?;
        Ok(ListRolePoliciesResponse {
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
            policy_names: page.items,
        })
    }
}
