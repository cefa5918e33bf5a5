//! Invitations: InviteAccountToOrganization, ListHandshakesForAccount, AcceptHandshake.
//!
//! The management account invites an account by id (`Target.Type` `ACCOUNT`), or by the email of
//! an account Organizations knows (`EMAIL`; an address no known account holds is refused with
//! `INVALID_EMAIL_ADDRESS_TARGET`, since Ingot sends no mail). The invitation is `REQUESTED` until
//! the invited account accepts it, and expires 15 days after it was sent, on Ingot's clock (a
//! handshake read after that reports `EXPIRED`). Finished handshakes leave the invited account's
//! listing 30 days after they finished. Accepting puts the account under the root with
//! `JoinedMethod` `INVITED` (and `FullAWSAccess` while SCPs are enabled).

use crate::access;
use crate::errors::OrganizationsError;
use crate::fail;
use crate::ids::{self, OrgArns};
use crate::listing;
use crate::operations::{AcceptHandshake, InviteAccountToOrganization, ListHandshakesForAccount};
use crate::organization::{profile, remember_profile};
use crate::shapes;
use crate::store;
use crate::tags;
use crate::types::{
    AcceptHandshakeRequest, AcceptHandshakeResponse, ActionType, Handshake,
    HandshakeConstraintViolationExceptionReason, HandshakeParty, HandshakePartyType, HandshakeResource,
    HandshakeResourceType, HandshakeState, InvalidInputExceptionReason, InviteAccountToOrganizationRequest,
    InviteAccountToOrganizationResponse, ListHandshakesForAccountRequest, ListHandshakesForAccountResponse,
};
use crate::Organizations;
use ingot_core::{AccountId, Handler, RequestContext, Timestamp};
use ingot_identity::organization::{
    account_handshake_key, account_handshakes_prefix, email_key, handshake_key, membership_key, EmailRecord,
    HandshakeRefRecord,
};
use ingot_identity::{AccountRecord, HandshakeRecord, MembershipRecord, OrganizationRecord};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// How long an invitation stays open.
pub const INVITATION_LIFETIME_MS: i64 = 15 * DAY_MS;
/// How long a finished handshake stays listed.
pub const FINISHED_LISTED_MS: i64 = 30 * DAY_MS;

/// The wire shape kept on a record.
fn wire(record: &HandshakeRecord) -> Result<Handshake, OrganizationsError> {
    serde_json::from_value(record.handshake.clone()).map_err(|e| ingot_core::CommonError::internal(e).into())
}

/// The state of `record` at `now`: an open invitation past its expiry is `EXPIRED`.
pub fn state_at(record: &HandshakeRecord, now: Timestamp) -> HandshakeState {
    let stored = shapes::wire_enum::<HandshakeState>(&record.state).unwrap_or(HandshakeState::Requested);
    match stored {
        HandshakeState::Requested | HandshakeState::Open if now >= record.expires => HandshakeState::Expired,
        other => other,
    }
}

/// Whether `record` still appears in listings at `now`.
fn listed_at(record: &HandshakeRecord, now: Timestamp) -> bool {
    let finished_at = match state_at(record, now) {
        HandshakeState::Requested | HandshakeState::Open => return true,
        HandshakeState::Expired => Some(record.expires),
        _ => record.finished,
    };
    finished_at.is_none_or(|t| now.millis() < t.millis().saturating_add(FINISHED_LISTED_MS))
}

/// The handshake as reported at `now`.
fn shown(record: &HandshakeRecord, now: Timestamp) -> Result<Handshake, OrganizationsError> {
    let mut handshake = wire(record)?;
    handshake.state = Some(state_at(record, now));
    Ok(handshake)
}

fn resource(kind: HandshakeResourceType, value: impl Into<String>) -> HandshakeResource {
    HandshakeResource { value: Some(value.into()), r#type: Some(kind), resources: None }
}

/// The invited account: by id, or by the email of an account Organizations knows.
async fn invited_account(ctx: &RequestContext<'_>, target: &HandshakeParty) -> Result<AccountId, OrganizationsError> {
    match target.r#type {
        HandshakePartyType::Account => AccountId::parse(&target.id).ok_or_else(|| {
            fail::invalid_input(
                InvalidInputExceptionReason::InvalidPattern,
                "You provided a value that doesn't match the required pattern.",
            )
        }),
        HandshakePartyType::Email => match ctx.tx.get_record::<EmailRecord>(&email_key(&target.id)).await? {
            Some(found) => Ok(found.account),
            None => Err(fail::invalid_input(
                InvalidInputExceptionReason::InvalidEmailAddressTarget,
                "You specified an invalid email address for the invited account owner.",
            )),
        },
        HandshakePartyType::Organization => Err(fail::invalid_input(
            InvalidInputExceptionReason::InvalidPartyTypeTarget,
            "You specified the wrong type of entity (account, organization, or email) as a party.",
        )),
    }
}

fn account_limit() -> OrganizationsError {
    fail::handshake_constraint(
        HandshakeConstraintViolationExceptionReason::AccountNumberLimitExceeded,
        "You attempted to exceed the limit on the number of accounts in an organization.",
    )
}

impl Handler<InviteAccountToOrganization> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: InviteAccountToOrganizationRequest,
    ) -> Result<InviteAccountToOrganizationResponse, OrganizationsError> {
        let request_tags = input.tags.unwrap_or_default();
        let org = access::management::<InviteAccountToOrganization>(ctx).await?;
        access::resources::<InviteAccountToOrganization>(ctx, &[], tags::request_conditions(&request_tags)).await?;
        tags::validate(&request_tags)?;
        let target = invited_account(ctx, &input.target).await?;
        if target == org.management_account || store::membership(&ctx.tx, &target).await?.is_some() {
            return Err(fail::already_in_an_organization());
        }
        let handshakes = store::scan_all::<HandshakeRecord>(&ctx.tx, &handshake_key(&org.id, "")).await?;
        let open: Vec<&HandshakeRecord> = handshakes
            .iter()
            .map(|(_, h)| h)
            .filter(|h| matches!(state_at(h, ctx.now), HandshakeState::Requested | HandshakeState::Open))
            .collect();
        if open.iter().any(|h| h.target_account.as_ref() == Some(&target)) {
            return Err(OrganizationsError::duplicate_handshake_exception(fail::DUPLICATE_HANDSHAKE));
        }
        // Pending invitations count toward the account quota.
        let accounts = store::all_accounts(&ctx.tx, &org).await?;
        if accounts.len() + open.len() >= crate::account_creation::MAX_ACCOUNTS {
            return Err(account_limit());
        }
        let management_name =
            accounts.iter().find(|a| a.id == org.management_account).map(|a| a.name.clone()).unwrap_or_default();
        let id = ids::handshake_id(ctx.ids());
        let party_type = input.target.r#type;
        let target_resource = match party_type {
            HandshakePartyType::Email => HandshakeResourceType::Email,
            _ => HandshakeResourceType::Account,
        };
        let mut resources = vec![
            HandshakeResource {
                value: Some(org.id.clone()),
                r#type: Some(HandshakeResourceType::Organization),
                resources: Some(vec![
                    resource(HandshakeResourceType::MasterEmail, org.management_email.clone()),
                    resource(HandshakeResourceType::MasterName, management_name),
                    resource(HandshakeResourceType::OrganizationFeatureSet, org.feature_set.clone()),
                ]),
            },
            resource(target_resource, input.target.id.clone()),
        ];
        if let Some(notes) = input.notes.filter(|n| !n.is_empty()) {
            resources.push(resource(HandshakeResourceType::Notes, notes));
        }
        let expires = Timestamp(ctx.now.millis().saturating_add(INVITATION_LIFETIME_MS));
        let handshake = Handshake {
            id: Some(id.clone()),
            arn: Some(OrgArns::of(&org).handshake(ActionType::Invite.as_str(), &id)),
            parties: Some(vec![
                HandshakeParty { id: org.id.clone(), r#type: HandshakePartyType::Organization },
                HandshakeParty { id: input.target.id.clone(), r#type: party_type },
            ]),
            state: Some(HandshakeState::Requested),
            requested_timestamp: Some(ctx.now),
            expiration_timestamp: Some(expires),
            action: Some(ActionType::Invite),
            resources: Some(resources),
        };
        let record = HandshakeRecord {
            id: id.clone(),
            organization_id: org.id.clone(),
            target_account: Some(target.clone()),
            state: shapes::wire_name(&HandshakeState::Requested),
            expires,
            handshake: serde_json::to_value(&handshake).map_err(ingot_core::CommonError::internal)?,
            finished: None,
        };
        ctx.tx.insert_new(&handshake_key(&org.id, &id), ingot_store::encode_record(&record));
        ctx.tx
            .put_record(&account_handshake_key(&target, &id), &HandshakeRefRecord { organization_id: org.id.clone() });
        Ok(InviteAccountToOrganizationResponse { handshake: Some(handshake) })
    }
}

/// The handshakes addressed to the caller's account, listed or not.
async fn received(ctx: &RequestContext<'_>) -> Result<Vec<HandshakeRecord>, OrganizationsError> {
    let prefix = account_handshakes_prefix(ctx.account());
    let mut found = Vec::new();
    for (key, reference) in store::scan_all::<HandshakeRefRecord>(&ctx.tx, &prefix).await? {
        let id = key.strip_prefix(&prefix).unwrap_or(&key);
        if let Some(record) =
            ctx.tx.get_record::<HandshakeRecord>(&handshake_key(&reference.organization_id, id)).await?
        {
            found.push(record);
        }
    }
    Ok(found)
}

impl Handler<ListHandshakesForAccount> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListHandshakesForAccountRequest,
    ) -> Result<ListHandshakesForAccountResponse, OrganizationsError> {
        // Invited accounts are usually in no organization yet: any account may ask.
        access::any::<ListHandshakesForAccount>(ctx).await?;
        let filter = input.filter.unwrap_or_default();
        let mut query = "ListHandshakesForAccount".to_string();
        if let Some(action) = filter.action_type {
            query.push_str(";action=");
            query.push_str(action.as_str());
        }
        if let Some(parent) = &filter.parent_handshake_id {
            query.push_str(";parent=");
            query.push_str(parent);
        }
        let mut items = Vec::new();
        for record in received(ctx).await? {
            if !listed_at(&record, ctx.now) {
                continue;
            }
            let handshake = shown(&record, ctx.now)?;
            if filter.action_type.is_some_and(|a| handshake.action != Some(a)) {
                continue;
            }
            // Invitations have no parent handshake.
            if filter.parent_handshake_id.is_some() {
                continue;
            }
            items.push((record.id.clone(), handshake));
        }
        let (handshakes, next_token) = listing::page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(ListHandshakesForAccountResponse { handshakes: Some(handshakes), next_token })
    }
}

impl Handler<AcceptHandshake> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: AcceptHandshakeRequest,
    ) -> Result<AcceptHandshakeResponse, OrganizationsError> {
        // On `*`: the handshake's ARN names the management account, not the invited caller's.
        access::any::<AcceptHandshake>(ctx).await?;
        let account = ctx.account().clone();
        let not_found = || OrganizationsError::handshake_not_found_exception(fail::HANDSHAKE_NOT_FOUND);
        let reference = ctx
            .tx
            .get_record::<HandshakeRefRecord>(&account_handshake_key(&account, &input.handshake_id))
            .await?
            .ok_or_else(not_found)?;
        let mut record = ctx
            .tx
            .get_record::<HandshakeRecord>(&handshake_key(&reference.organization_id, &input.handshake_id))
            .await?
            .ok_or_else(not_found)?;
        match state_at(&record, ctx.now) {
            HandshakeState::Requested | HandshakeState::Open => {}
            HandshakeState::Accepted => {
                return Err(OrganizationsError::handshake_already_in_state_exception(fail::ALREADY_ACCEPTED))
            }
            _ => return Err(OrganizationsError::invalid_handshake_transition_exception(fail::INVALID_TRANSITION)),
        }
        let Some(org) = store::organization(&ctx.tx, &reference.organization_id).await? else {
            return Err(not_found());
        };
        if store::membership(&ctx.tx, &account).await?.is_some() {
            return Err(fail::already_in_an_organization());
        }
        if store::all_accounts(&ctx.tx, &org).await?.len() >= crate::account_creation::MAX_ACCOUNTS {
            return Err(account_limit());
        }
        join(ctx, &org, &account).await?;
        record.state = shapes::wire_name(&HandshakeState::Accepted);
        record.finished = Some(ctx.now);
        let mut handshake = wire(&record)?;
        handshake.state = Some(HandshakeState::Accepted);
        record.handshake = serde_json::to_value(&handshake).map_err(ingot_core::CommonError::internal)?;
        ctx.tx.put_record(&handshake_key(&org.id, &record.id), &record);
        Ok(AcceptHandshakeResponse { handshake: Some(handshake) })
    }
}

/// Makes `account` a member of `org` under its root, as an invited account.
async fn join(
    ctx: &RequestContext<'_>,
    org: &OrganizationRecord,
    account: &AccountId,
) -> Result<(), OrganizationsError> {
    let profile = profile(&ctx.tx, account, account.as_str()).await?;
    let record = AccountRecord {
        id: account.clone(),
        arn: OrgArns::of(org).account(account.as_str()),
        email: profile.email.clone(),
        name: profile.name.clone(),
        status: "ACTIVE".to_string(),
        joined_method: "INVITED".to_string(),
        joined: ctx.now,
        parent_id: org.root_id.clone(),
        policies: store::initial_policies(org),
        tags: Vec::new(),
    };
    ctx.tx.put_record(
        &membership_key(account),
        &MembershipRecord { organization_id: org.id.clone(), management_account: org.management_account.clone() },
    );
    store::save_account(&ctx.tx, org, &record);
    remember_profile(&ctx.tx, account, &profile).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(state: &str, expires: i64, finished: Option<i64>) -> HandshakeRecord {
        HandshakeRecord {
            id: "h-0123456789".into(),
            organization_id: "o-abcdefghij".into(),
            target_account: AccountId::parse("222222222222"),
            state: state.into(),
            expires: Timestamp(expires),
            handshake: serde_json::json!({"Id": "h-0123456789", "State": state}),
            finished: finished.map(Timestamp),
        }
    }

    #[test]
    fn an_open_invitation_expires_on_the_clock() {
        let r = record("REQUESTED", 1_000, None);
        assert_eq!(state_at(&r, Timestamp(999)), HandshakeState::Requested);
        assert_eq!(state_at(&r, Timestamp(1_000)), HandshakeState::Expired);
        assert_eq!(state_at(&record("ACCEPTED", 1_000, Some(500)), Timestamp(2_000)), HandshakeState::Accepted);
        assert_eq!(shown(&r, Timestamp(5_000)).unwrap().state, Some(HandshakeState::Expired));
    }

    #[test]
    fn finished_handshakes_leave_the_listing_after_thirty_days() {
        let accepted = record("ACCEPTED", INVITATION_LIFETIME_MS, Some(1_000));
        assert!(listed_at(&accepted, Timestamp(1_000 + FINISHED_LISTED_MS - 1)));
        assert!(!listed_at(&accepted, Timestamp(1_000 + FINISHED_LISTED_MS)));
        let open = record("REQUESTED", 10, None);
        assert!(listed_at(&open, Timestamp(5)));
        assert!(!listed_at(&open, Timestamp(10 + FINISHED_LISTED_MS)));
    }
}
