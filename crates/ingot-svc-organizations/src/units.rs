//! The tree: ListRoots, organizational units (create, describe, rename, delete, list), ListChildren,
//! ListParents, ListAccountsForParent and MoveAccount.
//!
//! An organization has one root. OUs nest at most five levels below it
//! (`OU_DEPTH_LIMIT_EXCEEDED`), their names are unique under a parent, and only an empty OU (no
//! accounts, no child OUs) can be deleted. A new OU starts with `FullAWSAccess` while SCPs are
//! enabled. Moving an account is one write of its parent, so SCP inheritance follows at once.

use crate::access;
use crate::errors::OrganizationsError;
use crate::fail;
use crate::ids::{self, kind_of, IdKind, OrgArns};
use crate::listing;
use crate::operations::{
    CreateOrganizationalUnit, DeleteOrganizationalUnit, DescribeOrganizationalUnit, ListAccountsForParent,
    ListChildren, ListOrganizationalUnitsForParent, ListParents, ListRoots, MoveAccount, UpdateOrganizationalUnit,
};
use crate::shapes;
use crate::store::{self, OuTree, MAX_OUS, MAX_OU_DEPTH};
use crate::tags;
use crate::types::{
    Child, ChildType, ConstraintViolationExceptionReason, CreateOrganizationalUnitRequest,
    CreateOrganizationalUnitResponse, DeleteOrganizationalUnitRequest, DescribeOrganizationalUnitRequest,
    DescribeOrganizationalUnitResponse, ListAccountsForParentRequest, ListAccountsForParentResponse,
    ListChildrenRequest, ListChildrenResponse, ListOrganizationalUnitsForParentRequest,
    ListOrganizationalUnitsForParentResponse, ListParentsRequest, ListParentsResponse, ListRootsRequest,
    ListRootsResponse, MoveAccountRequest, Parent, ParentType, UpdateOrganizationalUnitRequest,
    UpdateOrganizationalUnitResponse,
};
use crate::Organizations;
use ingot_core::{Empty, Handler, Operation, RequestContext};
use ingot_identity::organization::{ou_key, ou_name_key, NameIndexRecord};
use ingot_identity::{OrganizationRecord, OuRecord};

/// The ARN of a root or OU id, for authorization (nothing for an id of another shape).
fn parent_arns(org: &OrganizationRecord, ids: &[&str]) -> Vec<String> {
    let arns = OrgArns::of(org);
    ids.iter()
        .filter(|id| matches!(kind_of(id), IdKind::Root | IdKind::OrganizationalUnit))
        .filter_map(|id| arns.target(id))
        .collect()
}

/// The management account's organization, after authorizing `Op` on the root or OU `id`.
async fn authorized_on<Op: Operation>(
    ctx: &RequestContext<'_>,
    id: &str,
    conditions: Vec<(String, Vec<String>)>,
) -> Result<OrganizationRecord, OrganizationsError> {
    let org = access::management::<Op>(ctx).await?;
    access::resources::<Op>(ctx, &parent_arns(&org, &[id]), conditions).await?;
    Ok(org)
}

/// The parent `parent_id` names, or `ParentNotFoundException`.
async fn existing_parent(
    ctx: &RequestContext<'_>,
    org: &OrganizationRecord,
    parent_id: &str,
) -> Result<store::Parent, OrganizationsError> {
    store::parent(&ctx.tx, org, parent_id)
        .await?
        .ok_or_else(|| OrganizationsError::parent_not_found_exception(fail::PARENT_NOT_FOUND))
}

/// The OU `id` names, or `OrganizationalUnitNotFoundException`.
async fn existing_ou(
    ctx: &RequestContext<'_>,
    org: &OrganizationRecord,
    id: &str,
) -> Result<OuRecord, OrganizationsError> {
    store::ou(&ctx.tx, org, id)
        .await?
        .ok_or_else(|| OrganizationsError::organizational_unit_not_found_exception(fail::OU_NOT_FOUND))
}

impl Handler<ListRoots> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListRootsRequest,
    ) -> Result<ListRootsResponse, OrganizationsError> {
        let org = access::management_any::<ListRoots>(ctx, ingot_core::Access::any_resource()).await?;
        let items = vec![(org.root_id.clone(), shapes::root(&org))];
        let (roots, next_token) = listing::page(items, "ListRoots", input.next_token.as_deref(), input.max_results)?;
        Ok(ListRootsResponse { roots: Some(roots), next_token })
    }
}

impl Handler<CreateOrganizationalUnit> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: CreateOrganizationalUnitRequest,
    ) -> Result<CreateOrganizationalUnitResponse, OrganizationsError> {
        let request_tags = input.tags.unwrap_or_default();
        let conditions = tags::request_conditions(&request_tags);
        let org = authorized_on::<CreateOrganizationalUnit>(ctx, &input.parent_id, conditions).await?;
        tags::validate(&request_tags)?;
        let parent = existing_parent(ctx, &org, &input.parent_id).await?;
        let parent_id = parent.id(&org).to_string();
        let chain = store::ou_chain(&ctx.tx, &org, &parent_id).await?;
        if chain.len() >= MAX_OU_DEPTH {
            return Err(fail::constraint(
                ConstraintViolationExceptionReason::OuDepthLimitExceeded,
                "You attempted to create an OU tree that is too many levels deep.",
            ));
        }
        let name_key = ou_name_key(&org.id, &parent_id, &input.name);
        if ctx.tx.get_record::<NameIndexRecord>(&name_key).await?.is_some() {
            return Err(OrganizationsError::duplicate_organizational_unit_exception(fail::DUPLICATE_OU));
        }
        if store::all_ous(&ctx.tx, &org).await?.len() >= MAX_OUS {
            return Err(fail::constraint(
                ConstraintViolationExceptionReason::OuNumberLimitExceeded,
                "You have exceeded the number of OUs allowed in an organization.",
            ));
        }
        let id = ids::ou_id(ctx.ids(), &org.root_id);
        let record = OuRecord {
            arn: OrgArns::of(&org).ou(&id),
            id: id.clone(),
            name: input.name,
            parent_id,
            policies: store::initial_policies(&org),
            tags: tags::stored(request_tags),
        };
        ctx.tx.insert_new(&ou_key(&org.id, &id), ingot_store::encode_record(&record));
        ctx.tx.put_record(&name_key, &NameIndexRecord { id });
        let shown = shapes::ou(&record, &store::path_of(&org, &chain));
        Ok(CreateOrganizationalUnitResponse { organizational_unit: Some(shown) })
    }
}

impl Handler<DescribeOrganizationalUnit> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: DescribeOrganizationalUnitRequest,
    ) -> Result<DescribeOrganizationalUnitResponse, OrganizationsError> {
        let id = &input.organizational_unit_id;
        let org = authorized_on::<DescribeOrganizationalUnit>(ctx, id, Vec::new()).await?;
        let record = existing_ou(ctx, &org, id).await?;
        let shown = shapes::ou_with_path(&ctx.tx, &org, &record).await?;
        Ok(DescribeOrganizationalUnitResponse { organizational_unit: Some(shown) })
    }
}

impl Handler<UpdateOrganizationalUnit> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: UpdateOrganizationalUnitRequest,
    ) -> Result<UpdateOrganizationalUnitResponse, OrganizationsError> {
        let id = &input.organizational_unit_id;
        let org = authorized_on::<UpdateOrganizationalUnit>(ctx, id, Vec::new()).await?;
        let mut record = existing_ou(ctx, &org, id).await?;
        if let Some(name) = input.name.filter(|n| *n != record.name) {
            let new_key = ou_name_key(&org.id, &record.parent_id, &name);
            if ctx.tx.get_record::<NameIndexRecord>(&new_key).await?.is_some() {
                return Err(OrganizationsError::duplicate_organizational_unit_exception(fail::DUPLICATE_OU));
            }
            ctx.tx.delete(&ou_name_key(&org.id, &record.parent_id, &record.name));
            ctx.tx.put_record(&new_key, &NameIndexRecord { id: record.id.clone() });
            record.name = name;
            store::save_ou(&ctx.tx, &org, &record);
        }
        let shown = shapes::ou_with_path(&ctx.tx, &org, &record).await?;
        Ok(UpdateOrganizationalUnitResponse { organizational_unit: Some(shown) })
    }
}

impl Handler<DeleteOrganizationalUnit> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: DeleteOrganizationalUnitRequest,
    ) -> Result<Empty, OrganizationsError> {
        let id = &input.organizational_unit_id;
        let org = authorized_on::<DeleteOrganizationalUnit>(ctx, id, Vec::new()).await?;
        let record = existing_ou(ctx, &org, id).await?;
        let has_ous = store::all_ous(&ctx.tx, &org).await?.iter().any(|ou| ou.parent_id == record.id);
        let has_accounts = store::all_accounts(&ctx.tx, &org).await?.iter().any(|a| a.parent_id == record.id);
        if has_ous || has_accounts {
            return Err(OrganizationsError::organizational_unit_not_empty_exception(fail::OU_NOT_EMPTY));
        }
        ctx.tx.delete(&ou_key(&org.id, &record.id));
        ctx.tx.delete(&ou_name_key(&org.id, &record.parent_id, &record.name));
        Ok(Empty {})
    }
}

impl Handler<ListOrganizationalUnitsForParent> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListOrganizationalUnitsForParentRequest,
    ) -> Result<ListOrganizationalUnitsForParentResponse, OrganizationsError> {
        let org = authorized_on::<ListOrganizationalUnitsForParent>(ctx, &input.parent_id, Vec::new()).await?;
        let parent = existing_parent(ctx, &org, &input.parent_id).await?;
        let parent_id = parent.id(&org);
        let tree = OuTree::load(&ctx.tx, &org).await?;
        let items = tree
            .ous
            .values()
            .filter(|ou| ou.parent_id == parent_id)
            .map(|ou| (ou.id.clone(), shapes::ou_in_tree(&org, &tree, ou)))
            .collect();
        let query = ["ListOrganizationalUnitsForParent;", parent_id].concat();
        let (units, next_token) = listing::page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(ListOrganizationalUnitsForParentResponse { organizational_units: Some(units), next_token })
    }
}

impl Handler<ListAccountsForParent> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListAccountsForParentRequest,
    ) -> Result<ListAccountsForParentResponse, OrganizationsError> {
        let org = authorized_on::<ListAccountsForParent>(ctx, &input.parent_id, Vec::new()).await?;
        let parent = existing_parent(ctx, &org, &input.parent_id).await?;
        let parent_id = parent.id(&org);
        let chain = store::ou_chain(&ctx.tx, &org, parent_id).await?;
        let path = store::path_of(&org, &chain);
        let items = store::all_accounts(&ctx.tx, &org)
            .await?
            .into_iter()
            .filter(|a| a.parent_id == parent_id)
            .map(|a| (a.id.to_string(), shapes::account(&a, &path)))
            .collect();
        let query = ["ListAccountsForParent;", parent_id].concat();
        let (accounts, next_token) = listing::page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(ListAccountsForParentResponse { accounts: Some(accounts), next_token })
    }
}

impl Handler<ListChildren> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListChildrenRequest,
    ) -> Result<ListChildrenResponse, OrganizationsError> {
        let org = authorized_on::<ListChildren>(ctx, &input.parent_id, Vec::new()).await?;
        let parent = existing_parent(ctx, &org, &input.parent_id).await?;
        let parent_id = parent.id(&org);
        let ids: Vec<String> = match input.child_type {
            ChildType::Account => store::all_accounts(&ctx.tx, &org)
                .await?
                .into_iter()
                .filter(|a| a.parent_id == parent_id)
                .map(|a| a.id.to_string())
                .collect(),
            ChildType::OrganizationalUnit => store::all_ous(&ctx.tx, &org)
                .await?
                .into_iter()
                .filter(|ou| ou.parent_id == parent_id)
                .map(|ou| ou.id)
                .collect(),
        };
        let items =
            ids.into_iter().map(|id| (id.clone(), Child { id: Some(id), r#type: Some(input.child_type) })).collect();
        let query = ["ListChildren;", parent_id, ";", input.child_type.as_str()].concat();
        let (children, next_token) = listing::page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(ListChildrenResponse { children: Some(children), next_token })
    }
}

impl Handler<ListParents> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListParentsRequest,
    ) -> Result<ListParentsResponse, OrganizationsError> {
        let child = &input.child_id;
        let org = access::management::<ListParents>(ctx).await?;
        let arns: Vec<String> = match kind_of(child) {
            IdKind::Account | IdKind::OrganizationalUnit => OrgArns::of(&org).target(child).into_iter().collect(),
            IdKind::Root | IdKind::Other => Vec::new(),
        };
        access::resources::<ListParents>(ctx, &arns, Vec::new()).await?;
        let parent_id = match kind_of(child) {
            IdKind::Account => store::account(&ctx.tx, &org, child).await?.map(|a| a.parent_id),
            IdKind::OrganizationalUnit => store::ou(&ctx.tx, &org, child).await?.map(|ou| ou.parent_id),
            IdKind::Root | IdKind::Other => None,
        };
        let Some(parent_id) = parent_id else {
            return Err(OrganizationsError::child_not_found_exception(fail::CHILD_NOT_FOUND));
        };
        let parent_type = if parent_id == org.root_id { ParentType::Root } else { ParentType::OrganizationalUnit };
        let items = vec![(parent_id.clone(), Parent { id: Some(parent_id), r#type: Some(parent_type) })];
        let query = ["ListParents;", child.as_str()].concat();
        let (parents, next_token) = listing::page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(ListParentsResponse { parents: Some(parents), next_token })
    }
}

impl Handler<MoveAccount> for Organizations {
    async fn handle(&self, ctx: &RequestContext<'_>, input: MoveAccountRequest) -> Result<Empty, OrganizationsError> {
        let org = access::management::<MoveAccount>(ctx).await?;
        let mut arns = parent_arns(&org, &[&input.source_parent_id, &input.destination_parent_id]);
        if kind_of(&input.account_id) == IdKind::Account {
            arns.insert(0, OrgArns::of(&org).account(&input.account_id));
        }
        access::resources::<MoveAccount>(ctx, &arns, Vec::new()).await?;
        let Some(mut account) = store::account(&ctx.tx, &org, &input.account_id).await? else {
            return Err(OrganizationsError::account_not_found_exception(fail::ACCOUNT_NOT_FOUND));
        };
        if store::parent(&ctx.tx, &org, &input.source_parent_id).await?.is_none() {
            return Err(OrganizationsError::source_parent_not_found_exception(fail::SOURCE_PARENT_NOT_FOUND));
        }
        let Some(destination) = store::parent(&ctx.tx, &org, &input.destination_parent_id).await? else {
            return Err(OrganizationsError::destination_parent_not_found_exception(fail::DESTINATION_PARENT_NOT_FOUND));
        };
        if account.parent_id != input.source_parent_id {
            return Err(OrganizationsError::source_parent_not_found_exception(fail::SOURCE_PARENT_NOT_FOUND));
        }
        let destination_id = destination.id(&org).to_string();
        if account.parent_id == destination_id {
            return Err(OrganizationsError::duplicate_account_exception(fail::DUPLICATE_ACCOUNT));
        }
        account.parent_id = destination_id;
        store::save_account(&ctx.tx, &org, &account);
        Ok(Empty {})
    }
}
