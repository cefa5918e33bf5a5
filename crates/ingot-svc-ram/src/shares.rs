//! Resource shares: CreateResourceShare, UpdateResourceShare, DeleteResourceShare,
//! GetResourceShares, AssociateResourceShare, DisassociateResourceShare,
//! EnableSharingWithAwsOrganization, TagResource, UntagResource.
//!
//! Statuses move as AWS reports them: a call that adds an association answers `ASSOCIATING` and
//! the association is `ASSOCIATED` from then on (an invited account's stays `ASSOCIATING` until it
//! accepts); one that removes answers `DISASSOCIATING`, and the association stays listed as
//! `DISASSOCIATED`. A deleted share stays listed as `DELETED`.

use crate::client_token;
use crate::errors::RamError;
use crate::invitations::invite;
use crate::operations::{
    AssociateResourceShare, CreateResourceShare, DeleteResourceShare, DisassociateResourceShare,
    EnableSharingWithAwsOrganization, GetResourceShares, TagResource, UntagResource, UpdateResourceShare,
};
use crate::pages::page;
use crate::permissions::{attachment, find_permission};
use crate::principals::{self, SharePrincipal};
use crate::resources::{check_resource, parse_resource};
use crate::store::{self, load_share, share_index_prefix, shares_prefix, Association, ShareIndexRecord, ShareRecord};
use crate::types::{self, ResourceOwner, ResourceShareAssociationStatus, ResourceShareAssociationType};
use crate::Ram;
use ingot_core::{Access, AccountId, Arn, Call, CommonError, Handler, Operation, Origin, RequestContext, Scope};
use ingot_identity::organization::AccountPath;
use serde_json::json;

/// AWS's quota of tags per share.
const MAX_TAGS: usize = 50;

fn malformed_share_arn() -> RamError {
    RamError::malformed_arn_exception("The specified resource share ARN is not valid. Verify the ARN and try again.")
}

/// `arn:PARTITION:ram:REGION:ACCOUNT:resource-share/ID`.
pub fn share_arn(scope: &Scope, id: &str) -> String {
    scope.arn("ram", &["resource-share/", id].concat())
}

/// The owner's scope and the id of a share ARN (of this region).
pub fn parse_share_arn(ctx: &RequestContext<'_>, arn: &str) -> Result<(Scope, String), RamError> {
    let parsed = Arn::parse(arn).map_err(|_| malformed_share_arn())?;
    let id = parsed.resource.strip_prefix("resource-share/").ok_or_else(malformed_share_arn)?;
    let account = AccountId::parse(&parsed.account).ok_or_else(malformed_share_arn)?;
    if parsed.service != "ram" || id.is_empty() || parsed.partition != ctx.scope.partition() {
        return Err(malformed_share_arn());
    }
    let region = ingot_core::Region::parse(&parsed.region).ok_or_else(malformed_share_arn)?;
    Ok((Scope::new(account, region), id.to_string()))
}

fn unknown_share(arn: &str) -> RamError {
    RamError::unknown_resource_exception(format!("ResourceShare {arn} could not be found."))
}

/// A share of the caller's account and region that `arn` names. A share that does not exist is
/// reported only to a caller whose policies would allow `action` on it.
pub async fn find_own_share(
    ctx: &RequestContext<'_>,
    action: &'static str,
    arn: &str,
) -> Result<ShareRecord, RamError> {
    let (owner, id) = parse_share_arn(ctx, arn)?;
    let found = if owner == *ctx.scope { load_share(&ctx.tx, &owner, &id).await? } else { None };
    match found {
        Some(share) => Ok(share),
        None => {
            ctx.authorize_dependent(action, Access::resource(arn)).await?;
            Err(unknown_share(arn))
        }
    }
}

/// Authorizes `Op` on a share, with its tags and RAM's share condition keys.
pub async fn authorize_share<Op: Operation>(ctx: &RequestContext<'_>, share: &ShareRecord) -> Result<(), RamError> {
    let access = Access::resource(&share.arn)
        .with_resource_tags(share.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .condition("ram:ResourceShareName", [share.name.clone()])
        .condition("ram:AllowsExternalPrincipals", [share.allow_external_principals.to_string()]);
    ctx.authorize::<Op>(access).await?;
    Ok(())
}

/// Every share of the caller's account and region.
pub async fn own_shares(ctx: &RequestContext<'_>) -> Result<Vec<ShareRecord>, RamError> {
    Ok(ctx
        .tx
        .scan_records::<ShareRecord>(&shares_prefix(ctx.scope), None, usize::MAX)
        .await?
        .into_iter()
        .map(|(_, s)| s)
        .collect())
}

/// The caller's shares, with those made by services' PutResourcePolicy and not promoted yet.
pub async fn own_shares_and_policies(ctx: &RequestContext<'_>) -> Result<Vec<ShareRecord>, RamError> {
    let mut shares = own_shares(ctx).await?;
    shares.extend(crate::policies::shares_created_from_policies(ctx).await?);
    Ok(shares)
}

/// Saves a share and recompiles the policies of its resources.
pub async fn save_and_compile(ctx: &RequestContext<'_>, share: &ShareRecord) -> Result<(), RamError> {
    let owner = Scope::new(share.owner.clone(), ctx.scope.region.clone());
    store::save_share(&ctx.tx, &owner, share);
    crate::policies::compile(&ctx.tx, &owner, share).await
}

/// The shares of other accounts in this region that share something with the caller: active
/// shares with an associated principal that covers the caller's account.
pub async fn shares_with_caller(ctx: &RequestContext<'_>) -> Result<Vec<ShareRecord>, RamError> {
    let path = principals::owner_organization(&ctx.tx, ctx.account()).await?;
    let index = ctx.tx.scan_records::<ShareIndexRecord>(&share_index_prefix(ctx.region()), None, usize::MAX).await?;
    let mut found = Vec::new();
    for (_, entry) in index {
        if entry.owner == *ctx.account() {
            continue;
        }
        let owner = Scope::new(entry.owner.clone(), ctx.scope.region.clone());
        let Some(share) = load_share(&ctx.tx, &owner, &entry.share_id).await? else { continue };
        if share.status == "ACTIVE" && covers_caller(&share, ctx.account(), path.as_ref()) {
            found.push(share);
        }
    }
    Ok(found)
}

/// Whether an associated principal of `share` covers `account`.
pub fn covers_caller(share: &ShareRecord, account: &AccountId, path: Option<&AccountPath>) -> bool {
    share.principals.iter().filter(|p| p.status == "ASSOCIATED").any(|p| {
        principals::parse_principal(&p.entity).is_ok_and(|principal| principals::covers(&principal, account, path))
    })
}

/// The wire form of a share.
pub fn to_wire(share: &ShareRecord) -> types::ResourceShare {
    types::ResourceShare {
        resource_share_arn: Some(share.arn.clone()),
        name: Some(share.name.clone()),
        owning_account_id: Some(share.owner.to_string()),
        allow_external_principals: Some(share.allow_external_principals),
        status: Some(crate::wire(&share.status)),
        status_message: None,
        tags: (!share.tags.is_empty()).then(|| tags_to_wire(&share.tags)),
        creation_time: Some(share.created),
        last_updated_time: Some(share.updated),
        feature_set: Some(crate::wire(&share.feature_set)),
        resource_share_configuration: Some(types::ResourceShareConfiguration {
            retain_sharing_on_account_leave_organization: Some(false),
        }),
    }
}

fn tags_to_wire(tags: &[(String, String)]) -> Vec<types::Tag> {
    tags.iter().map(|(k, v)| types::Tag { key: Some(k.clone()), value: Some(v.clone()) }).collect()
}

fn tags_from_wire(tags: Option<Vec<types::Tag>>) -> Result<Vec<(String, String)>, RamError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for tag in tags.unwrap_or_default() {
        let key = tag.key.unwrap_or_default();
        if key.is_empty() {
            return Err(RamError::invalid_parameter_exception("The tag key must not be empty."));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(RamError::invalid_parameter_exception("Tag keys beginning with aws: are reserved."));
        }
        out.retain(|(k, _)| *k != key);
        out.push((key, tag.value.unwrap_or_default()));
    }
    Ok(out)
}

/// One association in a response.
pub fn association_to_wire(
    share: &ShareRecord,
    association: &Association,
    kind: ResourceShareAssociationType,
    status: &str,
) -> types::ResourceShareAssociation {
    types::ResourceShareAssociation {
        resource_share_arn: Some(share.arn.clone()),
        resource_share_name: Some(share.name.clone()),
        associated_entity: Some(association.entity.clone()),
        association_type: Some(kind),
        status: Some(crate::wire::<ResourceShareAssociationStatus>(status)),
        status_message: association.status_message.clone(),
        creation_time: Some(association.created),
        last_updated_time: Some(association.updated),
        external: (kind == ResourceShareAssociationType::Principal).then_some(association.external),
    }
}

/// What adding principals and resources to a share did.
struct Added {
    associations: Vec<types::ResourceShareAssociation>,
}

/// Adds principals and resources to `share` (which the caller owns), checking each as AWS does:
/// organization and OU principals need sharing with the organization turned on; accounts outside
/// the organization need `allowExternalPrincipals` and get an invitation; resources must be the
/// caller's and shareable.
async fn add(
    ctx: &RequestContext<'_>,
    share: &mut ShareRecord,
    principal_texts: &[String],
    resource_arns: &[String],
) -> Result<Added, RamError> {
    let owner_org = principals::owner_organization(&ctx.tx, ctx.account()).await?;
    let sharing = match &owner_org {
        Some(o) => principals::sharing_enabled(&ctx.tx, &o.organization_id).await?,
        None => false,
    };
    let mut principals_to_add = Vec::new();
    for text in principal_texts {
        let principal = principals::parse_principal(text)?;
        principals::check_exists(&ctx.tx, &principal, owner_org.as_ref()).await?;
        let org_wide = matches!(principal, SharePrincipal::Organization { .. } | SharePrincipal::Ou { .. });
        if org_wide && !sharing {
            return Err(RamError::operation_not_permitted_exception(
                "The resource you are attempting to share can only be shared within your AWS Organization. This error may also occur if you have not enabled sharing with your AWS organization, or that onboarding process is still in progress.",
            ));
        }
        let external = principals::is_external(&ctx.tx, &principal, owner_org.as_ref()).await?;
        if external && !share.allow_external_principals {
            return Err(RamError::invalid_parameter_exception(format!(
                "Principal {text} is not in your AWS organization. You do not have permission to add external AWS accounts to a resource share."
            )));
        }
        if principals::account_of(&principal) == Some(ctx.account()) {
            return Err(RamError::invalid_parameter_exception(format!(
                "The resource share owner {text} cannot be a principal of the resource share."
            )));
        }
        principals_to_add.push((text.clone(), principal, external));
    }
    let mut resources_to_add = Vec::new();
    for arn in resource_arns {
        let resource = parse_resource(ctx, arn)?;
        resources_to_add.push((arn.clone(), resource));
    }

    let mut associations = Vec::new();
    for (text, principal, external) in principals_to_add {
        if share.principals.iter().any(|p| p.entity == text && p.status != "DISASSOCIATED" && p.status != "FAILED") {
            return Err(RamError::invalid_parameter_exception(format!(
                "The principal {text} is already associated with the resource share."
            )));
        }
        // Accounts outside the organization, and accounts of it while sharing with the
        // organization is off, are invited; the others have access at once.
        let invited = principals::account_of(&principal).is_some() && (external || !sharing);
        let association = Association {
            entity: text.clone(),
            status: if invited { "ASSOCIATING" } else { "ASSOCIATED" }.to_string(),
            status_message: None,
            external,
            resource_type: None,
            created: ctx.now,
            updated: ctx.now,
        };
        if invited {
            if let Some(account) = principals::account_of(&principal) {
                invite(ctx, share, account).await?;
            }
        }
        associations.push(association_to_wire(
            share,
            &association,
            ResourceShareAssociationType::Principal,
            "ASSOCIATING",
        ));
        share.principals.retain(|p| p.entity != text);
        share.principals.push(association);
    }
    for (arn, resource) in resources_to_add {
        if share.resources.iter().any(|r| r.entity == arn && r.status == "ASSOCIATED") {
            return Err(RamError::invalid_parameter_exception(format!(
                "The resource {arn} is already associated with the resource share."
            )));
        }
        let failure = check_resource(ctx, &resource).await?;
        let association = Association {
            entity: arn.clone(),
            status: if failure.is_some() { "FAILED" } else { "ASSOCIATED" }.to_string(),
            status_message: failure,
            external: false,
            resource_type: Some(resource.resource_type.to_string()),
            created: ctx.now,
            updated: ctx.now,
        };
        associations.push(association_to_wire(
            share,
            &association,
            ResourceShareAssociationType::Resource,
            "ASSOCIATING",
        ));
        share.resources.retain(|r| r.entity != arn);
        share.resources.push(association);
    }
    // Each shared type gets its default permission unless the share names one for it.
    for resource_type in share.resources.iter().filter_map(|r| r.resource_type.clone()).collect::<Vec<_>>() {
        let covered =
            share.permissions.iter().any(|a| find_permission(&a.arn).is_ok_and(|p| p.resource_type == resource_type));
        if !covered {
            if let Some(default) = crate::permissions::default_permission(&resource_type) {
                share.permissions.push(attachment(ctx, default));
            }
        }
    }
    share.updated = ctx.now;
    Ok(Added { associations })
}

/// A client token already used on this share: the same call again answers as before, another
/// call with it is refused.
fn check_client_token(share: &ShareRecord, token: Option<&str>, fingerprint: &str) -> Result<bool, RamError> {
    let Some(token) = token else { return Ok(false) };
    match share.client_tokens.iter().find(|(t, _)| t == token) {
        Some((_, seen)) if seen == fingerprint => Ok(true),
        Some(_) => Err(RamError::idempotent_parameter_mismatch_exception(
            "The client token input parameter matched one used with a previous invocation, but at least one of the other input parameters is different from the previous call.",
        )),
        None => Ok(false),
    }
}

impl Handler<CreateResourceShare> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::CreateResourceShareRequest,
    ) -> Result<types::CreateResourceShareResponse, RamError> {
        let tags = tags_from_wire(input.tags.clone())?;
        let allow_external = input.allow_external_principals.unwrap_or(true);
        let principals_given = input.principals.clone().unwrap_or_default();
        let resources_given = input.resource_arns.clone().unwrap_or_default();
        let mut access = Access::any_resource()
            .with_request_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .condition("ram:RequestedAllowsExternalPrincipals", [allow_external.to_string()]);
        if !principals_given.is_empty() {
            access = access.condition("ram:Principal", principals_given.iter().cloned());
        }
        if !resources_given.is_empty() {
            access = access.condition("ram:ResourceArn", resources_given.iter().cloned());
        }
        ctx.authorize::<CreateResourceShare>(access).await?;
        let fingerprint =
            format!("{:?}", (&input.name, &principals_given, &resources_given, allow_external, &input.permission_arns));
        if let Some(token) = input.client_token.as_deref() {
            for existing in own_shares(ctx).await? {
                if check_client_token(&existing, Some(token), &fingerprint)? {
                    return Ok(types::CreateResourceShareResponse {
                        resource_share: Some(to_wire(&existing)),
                        client_token: Some(client_token(ctx, input.client_token)),
                    });
                }
            }
        }
        if tags.len() > MAX_TAGS {
            return Err(RamError::tag_limit_exceeded_exception(format!(
                "The number of tags exceeds the limit of {MAX_TAGS}."
            )));
        }
        if input.name.is_empty() {
            return Err(RamError::invalid_parameter_exception("The resource share name must not be empty."));
        }
        if input.sources.as_ref().is_some_and(|s| !s.is_empty()) {
            return Err(RamError::invalid_parameter_exception(
                "Sources are supported only for service principals, which Ingot does not share with.",
            ));
        }
        let mut permissions = Vec::new();
        for arn in input.permission_arns.unwrap_or_default() {
            let permission = find_permission(&arn)?;
            permissions.push(attachment(ctx, permission));
        }
        let id = ctx.ids().uuid();
        let mut share = ShareRecord {
            arn: share_arn(ctx.scope, &id),
            id,
            name: input.name,
            owner: ctx.account().clone(),
            allow_external_principals: allow_external,
            status: "ACTIVE".to_string(),
            feature_set: "STANDARD".to_string(),
            created: ctx.now,
            updated: ctx.now,
            tags,
            resources: Vec::new(),
            principals: Vec::new(),
            permissions,
            client_tokens: input.client_token.iter().map(|t| (t.clone(), fingerprint.clone())).collect(),
        };
        add(ctx, &mut share, &principals_given, &resources_given).await?;
        save_and_compile(ctx, &share).await?;
        Ok(types::CreateResourceShareResponse {
            resource_share: Some(to_wire(&share)),
            client_token: Some(client_token(ctx, input.client_token)),
        })
    }
}

impl Handler<UpdateResourceShare> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::UpdateResourceShareRequest,
    ) -> Result<types::UpdateResourceShareResponse, RamError> {
        let mut share = find_own_share(ctx, "ram:UpdateResourceShare", &input.resource_share_arn).await?;
        authorize_share::<UpdateResourceShare>(ctx, &share).await?;
        if share.status != "ACTIVE" {
            return Err(RamError::invalid_state_transition_exception(format!(
                "The resource share {} is in the {} state and cannot be updated.",
                share.arn, share.status
            )));
        }
        if let Some(name) = input.name {
            if name.is_empty() {
                return Err(RamError::invalid_parameter_exception("The resource share name must not be empty."));
            }
            share.name = name;
        }
        if let Some(allow) = input.allow_external_principals {
            let has_external = share.principals.iter().any(|p| p.external && p.status != "DISASSOCIATED");
            if !allow && has_external {
                return Err(RamError::invalid_parameter_exception(
                    "The resource share has external principals. Remove them before you disallow external principals.",
                ));
            }
            share.allow_external_principals = allow;
        }
        share.updated = ctx.now;
        save_and_compile(ctx, &share).await?;
        Ok(types::UpdateResourceShareResponse {
            resource_share: Some(to_wire(&share)),
            client_token: Some(client_token(ctx, input.client_token)),
        })
    }
}

impl Handler<DeleteResourceShare> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DeleteResourceShareRequest,
    ) -> Result<types::DeleteResourceShareResponse, RamError> {
        let mut share = find_own_share(ctx, "ram:DeleteResourceShare", &input.resource_share_arn).await?;
        authorize_share::<DeleteResourceShare>(ctx, &share).await?;
        if share.status == "DELETED" {
            return Err(RamError::invalid_state_transition_exception(format!(
                "The resource share {} has already been deleted.",
                share.arn
            )));
        }
        share.status = "DELETED".to_string();
        for association in share.principals.iter_mut().chain(share.resources.iter_mut()) {
            if association.status != "FAILED" {
                association.status = "DISASSOCIATED".to_string();
                association.updated = ctx.now;
            }
        }
        share.updated = ctx.now;
        save_and_compile(ctx, &share).await?;
        Ok(types::DeleteResourceShareResponse {
            return_value: Some(true),
            client_token: Some(client_token(ctx, input.client_token)),
        })
    }
}

impl Handler<AssociateResourceShare> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::AssociateResourceShareRequest,
    ) -> Result<types::AssociateResourceShareResponse, RamError> {
        let mut share = find_own_share(ctx, "ram:AssociateResourceShare", &input.resource_share_arn).await?;
        let principals_given = input.principals.unwrap_or_default();
        let resources_given = input.resource_arns.unwrap_or_default();
        authorize_share::<AssociateResourceShare>(ctx, &share).await?;
        if share.status != "ACTIVE" {
            return Err(RamError::invalid_state_transition_exception(format!(
                "The resource share {} is in the {} state and cannot be changed.",
                share.arn, share.status
            )));
        }
        if principals_given.is_empty() && resources_given.is_empty() {
            return Err(RamError::invalid_parameter_exception("Specify at least one principal or resource ARN."));
        }
        let added = add(ctx, &mut share, &principals_given, &resources_given).await?;
        save_and_compile(ctx, &share).await?;
        Ok(types::AssociateResourceShareResponse {
            resource_share_associations: Some(added.associations),
            client_token: Some(client_token(ctx, input.client_token)),
        })
    }
}

impl Handler<DisassociateResourceShare> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DisassociateResourceShareRequest,
    ) -> Result<types::DisassociateResourceShareResponse, RamError> {
        let mut share = find_own_share(ctx, "ram:DisassociateResourceShare", &input.resource_share_arn).await?;
        authorize_share::<DisassociateResourceShare>(ctx, &share).await?;
        let mut associations = Vec::new();
        let targets = [
            (input.principals.unwrap_or_default(), ResourceShareAssociationType::Principal),
            (input.resource_arns.unwrap_or_default(), ResourceShareAssociationType::Resource),
        ];
        for (entities, kind) in targets {
            for entity in entities {
                let list = match kind {
                    ResourceShareAssociationType::Principal => &mut share.principals,
                    _ => &mut share.resources,
                };
                let Some(association) = list.iter_mut().find(|a| a.entity == entity && a.status != "DISASSOCIATED")
                else {
                    return Err(RamError::unknown_resource_exception(format!(
                        "The association of {entity} with the resource share {} could not be found.",
                        share.arn
                    )));
                };
                association.status = "DISASSOCIATED".to_string();
                association.updated = ctx.now;
                let wire = association.clone();
                associations.push(association_to_wire(&share, &wire, kind, "DISASSOCIATING"));
            }
        }
        share.updated = ctx.now;
        save_and_compile(ctx, &share).await?;
        Ok(types::DisassociateResourceShareResponse {
            resource_share_associations: Some(associations),
            client_token: Some(client_token(ctx, input.client_token)),
        })
    }
}

impl Handler<GetResourceShares> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GetResourceSharesRequest,
    ) -> Result<types::GetResourceSharesResponse, RamError> {
        ctx.authorize::<GetResourceShares>(Access::any_resource()).await?;
        for arn in input.resource_share_arns.iter().flatten() {
            parse_share_arn(ctx, arn)?;
        }
        let shares = match input.resource_owner {
            ResourceOwner::SelfValue => own_shares_and_policies(ctx).await?,
            ResourceOwner::OtherAccounts => shares_with_caller(ctx).await?,
        };
        let wanted_permission = match &input.permission_arn {
            Some(arn) => Some(find_permission(arn)?),
            None => None,
        };
        let items = shares
            .into_iter()
            .filter(|s| input.resource_share_arns.as_ref().is_none_or(|arns| arns.contains(&s.arn)))
            .filter(|s| input.resource_share_status.as_ref().is_none_or(|st| st.as_str() == s.status))
            .filter(|s| input.name.as_ref().is_none_or(|n| *n == s.name))
            .filter(|s| {
                input.tag_filters.iter().flatten().all(|f| {
                    s.tags.iter().any(|(k, v)| {
                        f.tag_key.as_ref().is_none_or(|fk| fk == k)
                            && f.tag_values.as_ref().is_none_or(|vs| vs.is_empty() || vs.contains(v))
                    })
                })
            })
            .filter(|s| {
                wanted_permission
                    .is_none_or(|p| crate::permissions::effective_permissions(s).iter().any(|e| e.name == p.name))
            })
            .map(|s| (format!("{}#{}", s.created.millis(), s.arn), to_wire(&s)))
            .collect();
        let query = format!(
            "GetResourceShares;{:?};{:?};{:?};{:?};{:?}",
            input.resource_owner,
            input.resource_share_arns,
            input.resource_share_status,
            input.name,
            input.permission_arn
        );
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::GetResourceSharesResponse { resource_shares: Some(page.items), next_token: page.marker })
    }
}

impl Handler<EnableSharingWithAwsOrganization> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        _input: types::EnableSharingWithAwsOrganizationRequest,
    ) -> Result<types::EnableSharingWithAwsOrganizationResponse, RamError> {
        ctx.authorize::<EnableSharingWithAwsOrganization>(Access::any_resource()).await?;
        let path = principals::owner_organization(&ctx.tx, ctx.account()).await?;
        let Some(path) = path.filter(|p| p.is_management_account(ctx.account())) else {
            return Err(RamError::operation_not_permitted_exception(
                "Unable to enable sharing with AWS Organizations. Received AccessDeniedException from AWSOrganizations with the following error message: You don't have permissions to access this resource.",
            ));
        };
        if !principals::sharing_enabled(&ctx.tx, &path.organization_id).await? {
            // RAM turns on its trusted access in Organizations and creates its service-linked
            // role, with the caller's permissions, as AWS does.
            call_as_caller(
                ctx,
                "organizations",
                "EnableAWSServiceAccess",
                json!({ "ServicePrincipal": store::RAM_SERVICE }),
            )
            .await?;
            let role =
                call_as_caller(ctx, "iam", "CreateServiceLinkedRole", json!({ "AWSServiceName": store::RAM_SERVICE }))
                    .await;
            match role {
                Ok(_) => {}
                // The role already exists: nothing to do.
                Err(RamError::Common(e)) if e.message.contains("has been taken") => {}
                Err(e) => return Err(e),
            }
        }
        Ok(types::EnableSharingWithAwsOrganizationResponse { return_value: Some(true) })
    }
}

/// Calls another service as the caller, with RAM acting for them.
async fn call_as_caller(
    ctx: &RequestContext<'_>,
    service: &str,
    operation: &str,
    input: serde_json::Value,
) -> Result<serde_json::Value, RamError> {
    let origin = Origin { via_service: Some(store::RAM_SERVICE), ..ctx.origin };
    let call = Call { service, operation, scope: ctx.scope, principal: ctx.principal, origin };
    ctx.env.invoker.invoke(ctx.env, call, input).await.map_err(|failure| match failure {
        ingot_core::ServiceFailure::Common(e) => RamError::Common(e),
        ingot_core::ServiceFailure::Modeled(m) if m.code.contains("InvalidInput") || m.code.contains("EntityAlreadyExists") => {
            RamError::Common(CommonError::validation(format!("{}: has been taken", m.message.unwrap_or_default())))
        }
        ingot_core::ServiceFailure::Modeled(m) => RamError::operation_not_permitted_exception(format!(
            "Unable to enable sharing with AWS Organizations. Received {} from {service} with the following error message: {}",
            m.code,
            m.message.unwrap_or_default()
        )),
    })
}

/// The share a tagging call names (`resourceShareArn`, or `resourceArn` naming a share).
async fn tagged_share(
    ctx: &RequestContext<'_>,
    action: &'static str,
    share_arn: Option<&str>,
    resource_arn: Option<&str>,
) -> Result<ShareRecord, RamError> {
    match share_arn.or(resource_arn) {
        Some(arn) => find_own_share(ctx, action, arn).await,
        None => {
            // Nothing named: only a caller who may tag at all learns what is missing.
            ctx.authorize_dependent(action, Access::any_resource()).await?;
            Err(RamError::invalid_parameter_exception("Specify a resource share ARN."))
        }
    }
}

impl Handler<TagResource> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::TagResourceRequest,
    ) -> Result<types::TagResourceResponse, RamError> {
        let mut share =
            tagged_share(ctx, "ram:TagResource", input.resource_share_arn.as_deref(), input.resource_arn.as_deref())
                .await?;
        let requested: Vec<(String, String)> = input
            .tags
            .iter()
            .map(|t| (t.key.clone().unwrap_or_default(), t.value.clone().unwrap_or_default()))
            .collect();
        let access = Access::resource(&share.arn)
            .with_resource_tags(share.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .with_request_tags(requested.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        ctx.authorize::<TagResource>(access).await?;
        let tags = tags_from_wire(Some(input.tags))?;
        for (key, value) in tags {
            share.tags.retain(|(k, _)| *k != key);
            share.tags.push((key, value));
        }
        if share.tags.len() > MAX_TAGS {
            return Err(RamError::tag_limit_exceeded_exception(format!(
                "The number of tags exceeds the limit of {MAX_TAGS}."
            )));
        }
        share.updated = ctx.now;
        save_and_compile(ctx, &share).await?;
        Ok(types::TagResourceResponse {})
    }
}

impl Handler<UntagResource> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::UntagResourceRequest,
    ) -> Result<types::UntagResourceResponse, RamError> {
        let mut share =
            tagged_share(ctx, "ram:UntagResource", input.resource_share_arn.as_deref(), input.resource_arn.as_deref())
                .await?;
        let access = Access::resource(&share.arn)
            .with_resource_tags(share.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .condition("aws:TagKeys", input.tag_keys.iter().cloned());
        ctx.authorize::<UntagResource>(access).await?;
        share.tags.retain(|(k, _)| !input.tag_keys.contains(k));
        share.updated = ctx.now;
        save_and_compile(ctx, &share).await?;
        Ok(types::UntagResourceResponse {})
    }
}
