//! What shares hold, listed: GetResourceShareAssociations (the caller's shares), ListResources
//! and ListPrincipals (shared by the caller, or with it by other accounts).

use crate::errors::RamError;
use crate::operations::{GetResourceShareAssociations, ListPrincipals, ListResources};
use crate::pages::page;
use crate::shares::{association_to_wire, own_shares_and_policies, parse_share_arn, shares_with_caller};
use crate::store::{Association, ShareRecord};
use crate::types::{self, ResourceOwner, ResourceShareAssociationType};
use crate::Ram;
use ingot_core::{Access, Handler, RequestContext};

/// A shared resource as ListResources shows it.
pub fn resource_to_wire(share: &ShareRecord, resource: &Association) -> types::Resource {
    types::Resource {
        arn: Some(resource.entity.clone()),
        r#type: resource.resource_type.clone(),
        resource_share_arn: Some(share.arn.clone()),
        resource_group_arn: None,
        status: Some(crate::wire(if resource.status == "FAILED" { "UNAVAILABLE" } else { "AVAILABLE" })),
        status_message: resource.status_message.clone(),
        creation_time: Some(resource.created),
        last_updated_time: Some(resource.updated),
        resource_region_scope: Some(types::ResourceRegionScope::Regional),
    }
}

/// The shares a listing looks at, by `resourceOwner`, narrowed to `share_arns` when given.
async fn shares_for(
    ctx: &RequestContext<'_>,
    owner: &ResourceOwner,
    share_arns: Option<&Vec<String>>,
) -> Result<Vec<ShareRecord>, RamError> {
    for arn in share_arns.into_iter().flatten() {
        parse_share_arn(ctx, arn)?;
    }
    let shares = match owner {
        ResourceOwner::SelfValue => own_shares_and_policies(ctx).await?,
        ResourceOwner::OtherAccounts => shares_with_caller(ctx).await?,
    };
    Ok(shares.into_iter().filter(|s| share_arns.is_none_or(|arns| arns.contains(&s.arn))).collect())
}

fn check_resource_type(resource_type: Option<&str>) -> Result<(), RamError> {
    match resource_type {
        Some(t) if !crate::resource_types::is_shareable_type(t) => {
            Err(RamError::invalid_resource_type_exception(format!("The specified resource type {t} is not valid.")))
        }
        _ => Ok(()),
    }
}

impl Handler<GetResourceShareAssociations> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GetResourceShareAssociationsRequest,
    ) -> Result<types::GetResourceShareAssociationsResponse, RamError> {
        ctx.authorize::<GetResourceShareAssociations>(Access::any_resource()).await?;
        let kind = input.association_type;
        if kind == ResourceShareAssociationType::Resource && input.principal.is_some() {
            return Err(RamError::invalid_parameter_exception(
                "You cannot specify a principal when the association type is RESOURCE.",
            ));
        }
        if kind == ResourceShareAssociationType::Principal && input.resource_arn.is_some() {
            return Err(RamError::invalid_parameter_exception(
                "You cannot specify a resource ARN when the association type is PRINCIPAL.",
            ));
        }
        let shares = shares_for(ctx, &ResourceOwner::SelfValue, input.resource_share_arns.as_ref()).await?;
        let mut items = Vec::new();
        for share in &shares {
            let list = match kind {
                ResourceShareAssociationType::Principal => &share.principals,
                _ => &share.resources,
            };
            for association in list {
                let matches = input.principal.as_ref().is_none_or(|p| *p == association.entity)
                    && input.resource_arn.as_ref().is_none_or(|r| *r == association.entity)
                    && input.association_status.as_ref().is_none_or(|s| s.as_str() == association.status);
                if matches {
                    let key = format!("{}#{}#{}", share.created.millis(), share.id, association.entity);
                    items.push((key, association_to_wire(share, association, kind, &association.status)));
                }
            }
        }
        let query = format!(
            "GetResourceShareAssociations;{:?};{:?};{:?};{:?};{:?}",
            kind, input.resource_share_arns, input.resource_arn, input.principal, input.association_status
        );
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::GetResourceShareAssociationsResponse {
            resource_share_associations: Some(page.items),
            next_token: page.marker,
        })
    }
}

impl Handler<ListResources> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ListResourcesRequest,
    ) -> Result<types::ListResourcesResponse, RamError> {
        ctx.authorize::<ListResources>(Access::any_resource()).await?;
        check_resource_type(input.resource_type.as_deref())?;
        let shares = shares_for(ctx, &input.resource_owner, input.resource_share_arns.as_ref()).await?;
        let mut items = Vec::new();
        for share in &shares {
            if let Some(principal) = &input.principal {
                if !share.principals.iter().any(|p| p.entity == *principal && p.status == "ASSOCIATED") {
                    continue;
                }
            }
            for resource in share.resources.iter().filter(|r| r.status == "ASSOCIATED") {
                let type_ok = input
                    .resource_type
                    .as_ref()
                    .is_none_or(|t| resource.resource_type.as_deref().is_some_and(|rt| rt.eq_ignore_ascii_case(t)));
                let arn_ok = input.resource_arns.as_ref().is_none_or(|arns| arns.contains(&resource.entity));
                if type_ok && arn_ok {
                    items.push((format!("{}#{}", resource.entity, share.arn), resource_to_wire(share, resource)));
                }
            }
        }
        let query = format!(
            "ListResources;{:?};{:?};{:?};{:?};{:?}",
            input.resource_owner, input.principal, input.resource_type, input.resource_arns, input.resource_share_arns
        );
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::ListResourcesResponse { resources: Some(page.items), next_token: page.marker })
    }
}

impl Handler<ListPrincipals> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ListPrincipalsRequest,
    ) -> Result<types::ListPrincipalsResponse, RamError> {
        ctx.authorize::<ListPrincipals>(Access::any_resource()).await?;
        check_resource_type(input.resource_type.as_deref())?;
        let shares = shares_for(ctx, &input.resource_owner, input.resource_share_arns.as_ref()).await?;
        let mut items = Vec::new();
        for share in &shares {
            let holds = |filter: &dyn Fn(&Association) -> bool| {
                share.resources.iter().filter(|r| r.status == "ASSOCIATED").any(filter)
            };
            if let Some(arn) = &input.resource_arn {
                if !holds(&|r| r.entity == *arn) {
                    continue;
                }
            }
            if let Some(t) = &input.resource_type {
                if !holds(&|r| r.resource_type.as_deref().is_some_and(|rt| rt.eq_ignore_ascii_case(t))) {
                    continue;
                }
            }
            // Shared with the caller, the principal AWS shows is the account that shares.
            let listed: Vec<(String, bool, ingot_core::Timestamp, ingot_core::Timestamp)> = match input.resource_owner {
                ResourceOwner::SelfValue => share
                    .principals
                    .iter()
                    .filter(|p| p.status == "ASSOCIATED")
                    .map(|p| (p.entity.clone(), p.external, p.created, p.updated))
                    .collect(),
                ResourceOwner::OtherAccounts => vec![(share.owner.to_string(), false, share.created, share.updated)],
            };
            for (id, external, created, updated) in listed {
                if input.principals.as_ref().is_some_and(|wanted| !wanted.contains(&id)) {
                    continue;
                }
                items.push((
                    format!("{id}#{}", share.arn),
                    types::Principal {
                        id: Some(id),
                        resource_share_arn: Some(share.arn.clone()),
                        creation_time: Some(created),
                        last_updated_time: Some(updated),
                        external: Some(external),
                    },
                ));
            }
        }
        let query = format!(
            "ListPrincipals;{:?};{:?};{:?};{:?};{:?}",
            input.resource_owner, input.resource_arn, input.principals, input.resource_type, input.resource_share_arns
        );
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::ListPrincipalsResponse { principals: Some(page.items), next_token: page.marker })
    }
}
