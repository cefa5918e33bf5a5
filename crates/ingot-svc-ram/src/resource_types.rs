//! The resource types RAM can share: ListResourceTypes.

use crate::errors::RamError;
use crate::operations::ListResourceTypes;
use crate::types::{
    ListResourceTypesRequest, ListResourceTypesResponse, ResourceRegionScope, ResourceRegionScopeFilter,
    ServiceNameAndResourceType,
};
use crate::Ram;
use ingot_core::page::{decode_page_token, encode_page_token};
use ingot_core::{Access, Handler, RequestContext};

/// Shareable resource types: (type, service, global?). Sorted by type.
const RESOURCE_TYPES: &[(&str, &str, bool)] = &[
    ("acm-pca:CertificateAuthority", "acm-pca", false),
    ("appmesh:Mesh", "appmesh", false),
    ("codebuild:Project", "codebuild", false),
    ("codebuild:ReportGroup", "codebuild", false),
    ("ec2:CapacityReservation", "ec2", false),
    ("ec2:CoipPool", "ec2", false),
    ("ec2:DedicatedHost", "ec2", false),
    ("ec2:IpamPool", "ec2", false),
    ("ec2:LocalGatewayRouteTable", "ec2", false),
    ("ec2:PlacementGroup", "ec2", false),
    ("ec2:PrefixList", "ec2", false),
    ("ec2:Subnet", "ec2", false),
    ("ec2:TrafficMirrorTarget", "ec2", false),
    ("ec2:TransitGateway", "ec2", false),
    ("ec2:TransitGatewayMulticastDomain", "ec2", false),
    ("glue:Catalog", "glue", false),
    ("glue:Database", "glue", false),
    ("glue:Table", "glue", false),
    ("imagebuilder:Component", "imagebuilder", false),
    ("imagebuilder:ContainerRecipe", "imagebuilder", false),
    ("imagebuilder:Image", "imagebuilder", false),
    ("imagebuilder:ImageRecipe", "imagebuilder", false),
    ("license-manager:LicenseConfiguration", "license-manager", false),
    ("network-firewall:FirewallPolicy", "network-firewall", false),
    ("network-firewall:StatefulRuleGroup", "network-firewall", false),
    ("network-firewall:StatelessRuleGroup", "network-firewall", false),
    ("networkmanager:CoreNetwork", "networkmanager", true),
    ("outposts:Outpost", "outposts", false),
    ("outposts:Site", "outposts", false),
    ("rds:Cluster", "rds", false),
    ("resource-groups:Group", "resource-groups", false),
    ("route53resolver:FirewallRuleGroup", "route53resolver", false),
    ("route53resolver:ResolverQueryLogConfig", "route53resolver", false),
    ("route53resolver:ResolverRule", "route53resolver", false),
    ("ssm-contacts:Contact", "ssm-contacts", false),
    ("ssm-contacts:Rotation", "ssm-contacts", false),
    ("ssm-incidents:ResponsePlan", "ssm-incidents", false),
    ("ssm:Parameter", "ssm", false),
    ("vpc-lattice:Service", "vpc-lattice", false),
    ("vpc-lattice:ServiceNetwork", "vpc-lattice", false),
];

const DEFAULT_PAGE: usize = 500;

/// Whether RAM shares resources of `resource_type` (`ssm:Parameter`), in any case.
pub fn is_shareable_type(resource_type: &str) -> bool {
    RESOURCE_TYPES.iter().any(|(t, _, _)| t.eq_ignore_ascii_case(resource_type))
}

fn invalid_token() -> RamError {
    RamError::invalid_next_token_exception("The specified value for NextToken is not valid.")
}

/// The query a page token is bound to: the region scope filter.
fn query(scope: ResourceRegionScopeFilter) -> String {
    format!("ListResourceTypes;{scope:?}")
}

/// The offset of the next item, from a token made for the same query.
fn decode_token(scope: ResourceRegionScopeFilter, token: &str) -> Result<usize, RamError> {
    let position = decode_page_token(&query(scope), token).ok_or_else(invalid_token)?;
    position.parse().map_err(|_| invalid_token())
}

fn encode_token(scope: ResourceRegionScopeFilter, offset: usize) -> String {
    encode_page_token(&query(scope), &offset.to_string())
}

impl Handler<ListResourceTypes> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListResourceTypesRequest,
    ) -> Result<ListResourceTypesResponse, RamError> {
        ctx.authorize::<ListResourceTypes>(Access::any_resource()).await?;
        let scope = input.resource_region_scope.unwrap_or(ResourceRegionScopeFilter::All);
        let matching: Vec<ServiceNameAndResourceType> = RESOURCE_TYPES
            .iter()
            .filter(|(_, _, global)| match scope {
                ResourceRegionScopeFilter::All => true,
                ResourceRegionScopeFilter::Global => *global,
                ResourceRegionScopeFilter::Regional => !*global,
            })
            .map(|(resource_type, service, global)| ServiceNameAndResourceType {
                resource_type: Some(resource_type.to_string()),
                service_name: Some(service.to_string()),
                resource_region_scope: Some(if *global {
                    ResourceRegionScope::Global
                } else {
                    ResourceRegionScope::Regional
                }),
            })
            .collect();
        let start = match input.next_token.as_deref() {
            Some(t) => decode_token(scope, t)?,
            None => 0,
        };
        if start > matching.len() {
            return Err(invalid_token());
        }
        let page = input.max_results.map_or(DEFAULT_PAGE, |m| m.max(1) as usize);
        let end = (start + page).min(matching.len());
        Ok(ListResourceTypesResponse {
            resource_types: Some(matching[start..end].to_vec()),
            next_token: (end < matching.len()).then(|| encode_token(scope, end)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_types_are_sorted_and_unique() {
        let names: Vec<&str> = RESOURCE_TYPES.iter().map(|t| t.0).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn page_tokens_round_trip_and_garbage_or_another_querys_token_is_rejected() {
        let all = ResourceRegionScopeFilter::All;
        assert_eq!(decode_token(all, &encode_token(all, 7)).unwrap(), 7);
        assert!(decode_token(all, "!!").is_err());
        assert!(decode_token(ResourceRegionScopeFilter::Global, &encode_token(all, 7)).is_err());
    }
}
