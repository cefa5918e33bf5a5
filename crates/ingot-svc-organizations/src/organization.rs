//! The organization itself: CreateOrganization, DescribeOrganization, DeleteOrganization.
//!
//! CreateOrganization makes the caller's account the management account, under the one root
//! (`Root`). With all features (the default) service control policies are enabled on the root and
//! `FullAWSAccess` is attached to the root and the management account; consolidated billing
//! enables no policy type.

use crate::access;
use crate::errors::OrganizationsError;
use crate::fail;
use crate::ids::{self, OrgArns};
use crate::operations::{CreateOrganization, DeleteOrganization, DescribeOrganization};
use crate::shapes;
use crate::store;
use crate::types::{
    CreateOrganizationRequest, CreateOrganizationResponse, DescribeOrganizationResponse, OrganizationFeatureSet,
};
use crate::Organizations;
use ingot_core::{AccountId, Empty, Handler, RequestContext};
use ingot_identity::organization::{
    account_handshake_key, email_key, membership_key, organization_prefix, profile_key, AccountProfileRecord,
    EmailRecord, PolicyTypeStatus, FULL_AWS_ACCESS_ID, SERVICE_CONTROL_POLICY,
};
use ingot_identity::{AccountRecord, HandshakeRecord, MembershipRecord, OrganizationRecord};
use ingot_store::Tx;

/// The root's name.
pub const ROOT_NAME: &str = "Root";

/// The email Ingot gives an account it knows no email of (an account that signed up outside
/// Organizations): unique per account, in a domain reserved for never being real.
pub fn default_email(account: &AccountId) -> String {
    [account.as_str(), "@ingot.invalid"].concat()
}

/// An account's email and name as Organizations knows them; `default_name` when it knows none.
pub async fn profile(
    tx: &Tx,
    account: &AccountId,
    default_name: &str,
) -> Result<AccountProfileRecord, OrganizationsError> {
    Ok(tx
        .get_record::<AccountProfileRecord>(&profile_key(account))
        .await?
        .unwrap_or_else(|| AccountProfileRecord { email: default_email(account), name: default_name.to_string() }))
}

/// Keeps `profile` for `account` and reserves its email, in `tx`.
pub async fn remember_profile(
    tx: &Tx,
    account: &AccountId,
    profile: &AccountProfileRecord,
) -> Result<(), OrganizationsError> {
    tx.put_record(&profile_key(account), profile);
    let key = email_key(&profile.email);
    if tx.get_record::<EmailRecord>(&key).await?.is_none() {
        tx.put_record(&key, &EmailRecord { account: account.clone() });
    }
    Ok(())
}

impl Handler<CreateOrganization> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: CreateOrganizationRequest,
    ) -> Result<CreateOrganizationResponse, OrganizationsError> {
        access::any::<CreateOrganization>(ctx).await?;
        let account = ctx.account().clone();
        if store::membership(&ctx.tx, &account).await?.is_some() {
            return Err(OrganizationsError::already_in_organization_exception(fail::ALREADY_IN_ORGANIZATION));
        }
        let feature_set = input.feature_set.unwrap_or(OrganizationFeatureSet::All);
        let all_features = feature_set == OrganizationFeatureSet::All;
        let ids = ctx.ids();
        let org_id = ids::organization_id(ids);
        let root_id = ids::root_id(ids);
        let profile = profile(&ctx.tx, &account, "Management account").await?;
        let partition = ctx.scope.partition();
        let mut org = OrganizationRecord {
            id: org_id.clone(),
            arn: String::new(),
            feature_set: shapes::wire_name(&feature_set),
            management_account: account.clone(),
            management_email: profile.email.clone(),
            created: ctx.now,
            root_id: root_id.clone(),
            root_arn: String::new(),
            root_name: ROOT_NAME.to_string(),
            policy_types: if all_features {
                vec![PolicyTypeStatus {
                    policy_type: SERVICE_CONTROL_POLICY.to_string(),
                    status: "ENABLED".to_string(),
                }]
            } else {
                Vec::new()
            },
            root_policies: if all_features { vec![FULL_AWS_ACCESS_ID.to_string()] } else { Vec::new() },
            root_tags: Vec::new(),
            service_access: Vec::new(),
        };
        let arns = OrgArns { partition, management: account.as_str(), organization_id: &org_id };
        org.arn = arns.organization();
        org.root_arn = arns.root(&root_id);
        let management = AccountRecord {
            id: account.clone(),
            arn: arns.account(account.as_str()),
            email: profile.email.clone(),
            name: profile.name.clone(),
            status: "ACTIVE".to_string(),
            joined_method: "CREATED".to_string(),
            joined: ctx.now,
            parent_id: root_id.clone(),
            policies: store::initial_policies(&org),
            tags: Vec::new(),
        };
        ctx.tx.put_record(
            &membership_key(&account),
            &MembershipRecord { organization_id: org_id.clone(), management_account: account.clone() },
        );
        store::save_organization(&ctx.tx, &org);
        store::save_account(&ctx.tx, &org, &management);
        remember_profile(&ctx.tx, &account, &profile).await?;
        Ok(CreateOrganizationResponse { organization: Some(shapes::organization(&org)) })
    }
}

impl Handler<DescribeOrganization> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        _input: Empty,
    ) -> Result<DescribeOrganizationResponse, OrganizationsError> {
        let (_, org) = access::member_any::<DescribeOrganization>(ctx).await?;
        Ok(DescribeOrganizationResponse { organization: Some(shapes::organization(&org)) })
    }
}

impl Handler<DeleteOrganization> for Organizations {
    async fn handle(&self, ctx: &RequestContext<'_>, _input: Empty) -> Result<Empty, OrganizationsError> {
        let org = access::management::<DeleteOrganization>(ctx).await?;
        access::resource::<DeleteOrganization>(ctx, &org.arn).await?;
        let accounts = store::all_accounts(&ctx.tx, &org).await?;
        if accounts.iter().any(|a| a.id != org.management_account) {
            return Err(OrganizationsError::organization_not_empty_exception(fail::ORGANIZATION_NOT_EMPTY));
        }
        // Invitations still pending: their recipients stop seeing them.
        let handshakes_prefix = ingot_identity::organization::handshake_key(&org.id, "");
        for (_, handshake) in store::scan_all::<HandshakeRecord>(&ctx.tx, &handshakes_prefix).await? {
            if let Some(target) = &handshake.target_account {
                ctx.tx.delete(&account_handshake_key(target, &handshake.id));
            }
        }
        for key in store::scan_keys(&ctx.tx, &organization_prefix(&org.id)).await? {
            ctx.tx.delete(&key);
        }
        ctx.tx.delete(&membership_key(&org.management_account));
        Ok(Empty {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_emails_are_unique_per_account() {
        let a = AccountId::parse("111111111111").unwrap();
        assert_eq!(default_email(&a), "111111111111@ingot.invalid");
    }
}
