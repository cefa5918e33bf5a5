//! Invitations: an account outside the owner's organization (or inside it, while sharing with the
//! organization is off) is invited, and has access once it accepts. GetResourceShareInvitations,
//! AcceptResourceShareInvitation, RejectResourceShareInvitation, ListPendingInvitationResources.
//! An invitation to share SSM parameters expires after 12 hours on Ingot's clock, as AWS's do.

use crate::client_token;
use crate::errors::RamError;
use crate::operations::{
    AcceptResourceShareInvitation, GetResourceShareInvitations, ListPendingInvitationResources,
    RejectResourceShareInvitation,
};
use crate::pages::page;
use crate::shares::save_and_compile;
use crate::store::{invitation_key, invitations_prefix, load_share, InvitationRecord, ShareRecord};
use crate::types;
use crate::Ram;
use ingot_core::{Access, AccountId, Arn, Handler, RequestContext, Scope, Timestamp};

/// How long an invitation waits for an answer.
pub const LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;

fn malformed() -> RamError {
    RamError::malformed_arn_exception(
        "The specified resource share invitation ARN is not valid. Verify the ARN and try again.",
    )
}

/// Invites `receiver` to `share`, in the caller's unit of work.
pub async fn invite(ctx: &RequestContext<'_>, share: &ShareRecord, receiver: &AccountId) -> Result<(), RamError> {
    let id = ctx.ids().uuid();
    let invitation = InvitationRecord {
        arn: ctx.scope.arn("ram", &["resource-share-invitation/", &id].concat()),
        id: id.clone(),
        share_arn: share.arn.clone(),
        share_name: share.name.clone(),
        sender: share.owner.clone(),
        receiver: receiver.clone(),
        created: ctx.now,
        status: "PENDING".to_string(),
    };
    let receiver_scope = Scope::new(receiver.clone(), ctx.scope.region.clone());
    ctx.tx.put_record(&invitation_key(&receiver_scope, &id), &invitation);
    Ok(())
}

/// The status an invitation has now: a pending one past its lifetime has expired.
pub fn status_at(invitation: &InvitationRecord, now: Timestamp) -> &str {
    if invitation.status == "PENDING" && now.0 >= invitation.created.0 + LIFETIME_MS {
        "EXPIRED"
    } else {
        &invitation.status
    }
}

fn to_wire(invitation: &InvitationRecord, now: Timestamp) -> types::ResourceShareInvitation {
    types::ResourceShareInvitation {
        resource_share_invitation_arn: Some(invitation.arn.clone()),
        resource_share_name: Some(invitation.share_name.clone()),
        resource_share_arn: Some(invitation.share_arn.clone()),
        sender_account_id: Some(invitation.sender.to_string()),
        receiver_account_id: Some(invitation.receiver.to_string()),
        invitation_timestamp: Some(invitation.created),
        status: Some(crate::wire(status_at(invitation, now))),
        resource_share_associations: None,
        receiver_arn: None,
    }
}

/// The caller's invitation that `arn` names.
async fn find_invitation(
    ctx: &RequestContext<'_>,
    action: &'static str,
    arn: &str,
) -> Result<InvitationRecord, RamError> {
    let parsed = Arn::parse(arn).map_err(|_| malformed())?;
    let id = parsed.resource.strip_prefix("resource-share-invitation/").ok_or_else(malformed)?;
    if parsed.service != "ram" || id.is_empty() || AccountId::parse(&parsed.account).is_none() {
        return Err(malformed());
    }
    match ctx.tx.get_record::<InvitationRecord>(&invitation_key(ctx.scope, id)).await? {
        Some(invitation) if invitation.arn == arn => Ok(invitation),
        _ => {
            // Not one of the caller's invitations: only a caller who may act on invitations at
            // all learns that.
            ctx.authorize_dependent(action, Access::any_resource()).await?;
            Err(RamError::resource_share_invitation_arn_not_found_exception(format!(
                "ResourceShareInvitation {arn} could not be found."
            )))
        }
    }
}

/// Authorizes `Op` on an invitation, by its receiver. The invitation's ARN names the sending
/// account; its receiver acts on it by right of being invited, which AWS decides as the receiver's
/// own IAM permission: here, a resource policy that names the receiver.
async fn authorize_invitation<Op: ingot_core::Operation>(
    ctx: &RequestContext<'_>,
    invitation: &InvitationRecord,
) -> Result<(), RamError> {
    let receiver_policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": invitation.receiver.to_string() },
            "Action": Op::IAM_ACTION,
            "Resource": invitation.arn,
        }]
    })
    .to_string();
    ctx.authorize::<Op>(Access::resource(&invitation.arn).with_resource_policy(&receiver_policy)).await?;
    Ok(())
}

/// Refuses an invitation that is no longer pending.
fn check_pending(invitation: &InvitationRecord, now: Timestamp) -> Result<(), RamError> {
    let arn = &invitation.arn;
    match status_at(invitation, now) {
        "PENDING" => Ok(()),
        "ACCEPTED" => Err(RamError::resource_share_invitation_already_accepted_exception(format!(
            "The invitation {arn} has already been accepted."
        ))),
        "REJECTED" => Err(RamError::resource_share_invitation_already_rejected_exception(format!(
            "The invitation {arn} has already been rejected."
        ))),
        _ => Err(RamError::resource_share_invitation_expired_exception(format!("The invitation {arn} has expired."))),
    }
}

/// Answers an invitation: the receiver's principal association moves to `status`.
async fn answer(
    ctx: &RequestContext<'_>,
    mut invitation: InvitationRecord,
    accepted: bool,
) -> Result<types::ResourceShareInvitation, RamError> {
    check_pending(&invitation, ctx.now)?;
    invitation.status = if accepted { "ACCEPTED" } else { "REJECTED" }.to_string();
    ctx.tx.put_record(&invitation_key(ctx.scope, &invitation.id), &invitation);
    let owner = Scope::new(invitation.sender.clone(), ctx.scope.region.clone());
    let share_id = invitation.share_arn.rsplit('/').next().unwrap_or_default();
    if let Some(mut share) = load_share(&ctx.tx, &owner, share_id).await? {
        let receiver = invitation.receiver.to_string();
        if let Some(association) =
            share.principals.iter_mut().find(|p| p.entity == receiver && p.status == "ASSOCIATING")
        {
            association.status = if accepted { "ASSOCIATED" } else { "DISASSOCIATED" }.to_string();
            association.updated = ctx.now;
            share.updated = ctx.now;
            save_and_compile(ctx, &share).await?;
        }
    }
    Ok(to_wire(&invitation, ctx.now))
}

impl Handler<AcceptResourceShareInvitation> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::AcceptResourceShareInvitationRequest,
    ) -> Result<types::AcceptResourceShareInvitationResponse, RamError> {
        let arn = &input.resource_share_invitation_arn;
        let invitation = find_invitation(ctx, "ram:AcceptResourceShareInvitation", arn).await?;
        authorize_invitation::<AcceptResourceShareInvitation>(ctx, &invitation).await?;
        let answered = answer(ctx, invitation, true).await?;
        Ok(types::AcceptResourceShareInvitationResponse {
            resource_share_invitation: Some(answered),
            client_token: Some(client_token(ctx, input.client_token)),
        })
    }
}

impl Handler<RejectResourceShareInvitation> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::RejectResourceShareInvitationRequest,
    ) -> Result<types::RejectResourceShareInvitationResponse, RamError> {
        let arn = &input.resource_share_invitation_arn;
        let invitation = find_invitation(ctx, "ram:RejectResourceShareInvitation", arn).await?;
        authorize_invitation::<RejectResourceShareInvitation>(ctx, &invitation).await?;
        let answered = answer(ctx, invitation, false).await?;
        Ok(types::RejectResourceShareInvitationResponse {
            resource_share_invitation: Some(answered),
            client_token: Some(client_token(ctx, input.client_token)),
        })
    }
}

impl Handler<GetResourceShareInvitations> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GetResourceShareInvitationsRequest,
    ) -> Result<types::GetResourceShareInvitationsResponse, RamError> {
        ctx.authorize::<GetResourceShareInvitations>(Access::any_resource()).await?;
        for arn in input.resource_share_invitation_arns.iter().flatten() {
            if !arn.starts_with("arn:") || !arn.contains(":resource-share-invitation/") {
                return Err(malformed());
            }
        }
        let received =
            ctx.tx.scan_records::<InvitationRecord>(&invitations_prefix(ctx.scope), None, usize::MAX).await?;
        let received: Vec<InvitationRecord> = received.into_iter().map(|(_, i)| i).collect();
        for arn in input.resource_share_invitation_arns.iter().flatten() {
            if !received.iter().any(|i| i.arn == *arn) {
                return Err(RamError::resource_share_invitation_arn_not_found_exception(format!(
                    "ResourceShareInvitation {arn} could not be found."
                )));
            }
        }
        let items = received
            .into_iter()
            .filter(|i| input.resource_share_invitation_arns.as_ref().is_none_or(|arns| arns.contains(&i.arn)))
            .filter(|i| input.resource_share_arns.as_ref().is_none_or(|arns| arns.contains(&i.share_arn)))
            .map(|i| (format!("{}#{}", i.created.millis(), i.id), to_wire(&i, ctx.now)))
            .collect();
        let query = format!(
            "GetResourceShareInvitations;{:?};{:?}",
            input.resource_share_invitation_arns, input.resource_share_arns
        );
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::GetResourceShareInvitationsResponse {
            resource_share_invitations: Some(page.items),
            next_token: page.marker,
        })
    }
}

impl Handler<ListPendingInvitationResources> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ListPendingInvitationResourcesRequest,
    ) -> Result<types::ListPendingInvitationResourcesResponse, RamError> {
        let arn = &input.resource_share_invitation_arn;
        let invitation = find_invitation(ctx, "ram:ListPendingInvitationResources", arn).await?;
        authorize_invitation::<ListPendingInvitationResources>(ctx, &invitation).await?;
        match status_at(&invitation, ctx.now) {
            "REJECTED" => check_pending(&invitation, ctx.now)?,
            "EXPIRED" => check_pending(&invitation, ctx.now)?,
            _ => {}
        }
        let owner = Scope::new(invitation.sender.clone(), ctx.scope.region.clone());
        let share_id = invitation.share_arn.rsplit('/').next().unwrap_or_default();
        let share = load_share(&ctx.tx, &owner, share_id).await?;
        let items = share
            .iter()
            .flat_map(|s| s.resources.iter().filter(|r| r.status == "ASSOCIATED").map(move |r| (s, r)))
            .map(|(s, r)| (r.entity.clone(), crate::associations::resource_to_wire(s, r)))
            .collect();
        let query = format!("ListPendingInvitationResources;{arn}");
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::ListPendingInvitationResourcesResponse { resources: Some(page.items), next_token: page.marker })
    }
}
