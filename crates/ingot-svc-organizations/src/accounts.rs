//! Member accounts: DescribeAccount, ListAccounts, RemoveAccountFromOrganization.
//!
//! Removal deletes the account's membership and its record (with its organization tags and
//! directly attached policies); its email and name stay with the account. AWS makes accounts
//! created through CreateAccount wait some days before they can leave (`WAIT_PERIOD_ACTIVE`; 4
//! or 7 days, the sources disagree) and asks for standalone billing details: Ingot enforces
//! neither.

use crate::access;
use crate::errors::OrganizationsError;
use crate::fail;
use crate::ids::OrgArns;
use crate::listing;
use crate::operations::{DescribeAccount, ListAccounts, RemoveAccountFromOrganization};
use crate::shapes;
use crate::store::{self, OuTree};
use crate::types::{
    DescribeAccountRequest, DescribeAccountResponse, ListAccountsRequest, ListAccountsResponse,
    RemoveAccountFromOrganizationRequest,
};
use crate::Organizations;
use ingot_core::{Empty, Handler, RequestContext};
use ingot_identity::organization::{account_record_key, membership_key};

impl Handler<DescribeAccount> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: DescribeAccountRequest,
    ) -> Result<DescribeAccountResponse, OrganizationsError> {
        let org = access::management::<DescribeAccount>(ctx).await?;
        access::resource::<DescribeAccount>(ctx, &OrgArns::of(&org).account(&input.account_id)).await?;
        let Some(record) = store::account(&ctx.tx, &org, &input.account_id).await? else {
            return Err(OrganizationsError::account_not_found_exception(fail::ACCOUNT_NOT_FOUND));
        };
        let chain = store::ou_chain(&ctx.tx, &org, &record.parent_id).await?;
        let account = shapes::account(&record, &store::path_of(&org, &chain));
        Ok(DescribeAccountResponse { account: Some(account) })
    }
}

impl Handler<ListAccounts> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListAccountsRequest,
    ) -> Result<ListAccountsResponse, OrganizationsError> {
        let org = access::management_any::<ListAccounts>(ctx, ingot_core::Access::any_resource()).await?;
        let tree = OuTree::load(&ctx.tx, &org).await?;
        let items = store::all_accounts(&ctx.tx, &org)
            .await?
            .into_iter()
            .map(|record| (record.id.to_string(), shapes::account_in_tree(&org, &tree, &record)))
            .collect();
        let (accounts, next_token) =
            listing::page(items, "ListAccounts", input.next_token.as_deref(), input.max_results)?;
        Ok(ListAccountsResponse { accounts: Some(accounts), next_token })
    }
}

impl Handler<RemoveAccountFromOrganization> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: RemoveAccountFromOrganizationRequest,
    ) -> Result<Empty, OrganizationsError> {
        let org = access::management::<RemoveAccountFromOrganization>(ctx).await?;
        access::resource::<RemoveAccountFromOrganization>(ctx, &OrgArns::of(&org).account(&input.account_id)).await?;
        if input.account_id == org.management_account.as_str() {
            return Err(OrganizationsError::master_cannot_leave_organization_exception(fail::MANAGEMENT_CANNOT_LEAVE));
        }
        let Some(record) = store::account(&ctx.tx, &org, &input.account_id).await? else {
            return Err(OrganizationsError::account_not_found_exception(fail::ACCOUNT_NOT_FOUND));
        };
        ctx.tx.delete(&account_record_key(&org.id, &record.id));
        ctx.tx.delete(&membership_key(&record.id));
        Ok(Empty {})
    }
}
