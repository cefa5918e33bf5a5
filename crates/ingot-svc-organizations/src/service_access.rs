//! Trusted access for AWS services: EnableAWSServiceAccess, DisableAWSServiceAccess,
//! ListAWSServiceAccessForOrganization. Ingot records which service principals have access (and
//! since when); it makes no service-linked roles for them. Enabling or disabling twice is not an
//! error. A principal must look like a service's (`*.amazonaws.com`), else
//! `UNRECOGNIZED_SERVICE_PRINCIPAL`; an organization without all features has no trusted access
//! (`ORGANIZATION_NOT_IN_ALL_FEATURES_MODE`).

use crate::access;
use crate::errors::OrganizationsError;
use crate::fail;
use crate::listing;
use crate::operations::{DisableAWSServiceAccess, EnableAWSServiceAccess, ListAWSServiceAccessForOrganization};
use crate::store;
use crate::types::{
    ConstraintViolationExceptionReason, DisableAWSServiceAccessRequest, EnableAWSServiceAccessRequest,
    EnabledServicePrincipal, InvalidInputExceptionReason, ListAWSServiceAccessForOrganizationRequest,
    ListAWSServiceAccessForOrganizationResponse,
};
use crate::Organizations;
use ingot_core::{Access, Empty, Handler, Operation, RequestContext};
use ingot_identity::organization::ServiceAccess;
use ingot_identity::OrganizationRecord;

/// Whether `principal` names an AWS service (`ssm.amazonaws.com`).
pub fn is_service_principal(principal: &str) -> bool {
    principal.strip_suffix(".amazonaws.com").is_some_and(|name| {
        !name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
    })
}

/// The organization, after authorizing `Op` with `organizations:ServicePrincipal` and checking the
/// principal and the feature set.
async fn for_principal<Op: Operation>(
    ctx: &RequestContext<'_>,
    principal: &str,
) -> Result<OrganizationRecord, OrganizationsError> {
    let access = Access::any_resource().condition("organizations:ServicePrincipal", [principal]);
    let org = access::management_any::<Op>(ctx, access).await?;
    if !is_service_principal(principal) {
        return Err(fail::invalid_input(
            InvalidInputExceptionReason::UnrecognizedServicePrincipal,
            "You specified a service principal that isn't recognized.",
        ));
    }
    if org.feature_set != "ALL" {
        return Err(fail::constraint(
            ConstraintViolationExceptionReason::OrganizationNotInAllFeaturesMode,
            "You attempted to perform an operation that requires the organization to be configured to support all features.",
        ));
    }
    Ok(org)
}

impl Handler<EnableAWSServiceAccess> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: EnableAWSServiceAccessRequest,
    ) -> Result<Empty, OrganizationsError> {
        let mut org = for_principal::<EnableAWSServiceAccess>(ctx, &input.service_principal).await?;
        if !org.service_access.iter().any(|s| s.service_principal == input.service_principal) {
            org.service_access.push(ServiceAccess { service_principal: input.service_principal, enabled: ctx.now });
            store::save_organization(&ctx.tx, &org);
        }
        Ok(Empty {})
    }
}

impl Handler<DisableAWSServiceAccess> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: DisableAWSServiceAccessRequest,
    ) -> Result<Empty, OrganizationsError> {
        let mut org = for_principal::<DisableAWSServiceAccess>(ctx, &input.service_principal).await?;
        let before = org.service_access.len();
        org.service_access.retain(|s| s.service_principal != input.service_principal);
        if org.service_access.len() != before {
            store::save_organization(&ctx.tx, &org);
        }
        Ok(Empty {})
    }
}

impl Handler<ListAWSServiceAccessForOrganization> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListAWSServiceAccessForOrganizationRequest,
    ) -> Result<ListAWSServiceAccessForOrganizationResponse, OrganizationsError> {
        let org = access::management_any::<ListAWSServiceAccessForOrganization>(ctx, Access::any_resource()).await?;
        let items = org
            .service_access
            .iter()
            .map(|s| {
                let shown = EnabledServicePrincipal {
                    service_principal: Some(s.service_principal.clone()),
                    date_enabled: Some(s.enabled),
                };
                (s.service_principal.clone(), shown)
            })
            .collect();
        let (principals, next_token) = listing::page(
            items,
            "ListAWSServiceAccessForOrganization",
            input.next_token.as_deref(),
            input.max_results,
        )?;
        Ok(ListAWSServiceAccessForOrganizationResponse { enabled_service_principals: Some(principals), next_token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_principals_end_with_the_aws_domain() {
        assert!(is_service_principal("ssm.amazonaws.com"));
        assert!(is_service_principal("config-multiaccountsetup.amazonaws.com"));
        assert!(!is_service_principal(".amazonaws.com"));
        assert!(!is_service_principal("ssm"));
        assert!(!is_service_principal("evil@x.amazonaws.com"));
    }
}
