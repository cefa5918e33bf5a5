//! The resource types RAM can share: ListResourceTypes.

use crate::errors::RamError;
use crate::operations::ListResourceTypes;
use crate::types::{
    ListResourceTypesRequest, ListResourceTypesResponse, ResourceRegionScope, ResourceRegionScopeFilter,
    ServiceNameAndResourceType,
};
use crate::Ram;
use base64::Engine;
use ingot_core::{Handler, RequestContext};

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

fn invalid_token() -> RamError {
    RamError::invalid_next_token_exception("The specified value for NextToken is not valid.")
}

/// Page tokens are opaque to clients: the offset of the next item, base64-encoded.
fn decode_token(token: &str) -> Result<usize, RamError> {
    let raw = base64::engine::general_purpose::STANDARD.decode(token).map_err(|_| invalid_token())?;
    let text = String::from_utf8(raw).map_err(|_| invalid_token())?;
    text.strip_prefix("rt:").and_then(|n| n.parse().ok()).ok_or_else(invalid_token)
}

fn encode_token(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("rt:{offset}"))
}

impl Handler<ListResourceTypes> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListResourceTypesRequest,
    ) -> Result<ListResourceTypesResponse, RamError> {
        ctx.authorize("ram:ListResourceTypes", "*")?;
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
            Some(t) => decode_token(t)?,
            None => 0,
        };
        if start > matching.len() {
            return Err(invalid_token());
        }
        let page = input.max_results.map_or(DEFAULT_PAGE, |m| m.max(1) as usize);
        let end = (start + page).min(matching.len());
        Ok(ListResourceTypesResponse {
            resource_types: Some(matching[start..end].to_vec()),
            next_token: (end < matching.len()).then(|| encode_token(end)),
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
    fn page_tokens_round_trip_and_garbage_is_rejected() {
        assert_eq!(decode_token(&encode_token(7)).unwrap(), 7);
        assert!(decode_token("!!").is_err());
        assert!(decode_token(&base64::engine::general_purpose::STANDARD.encode("x:1")).is_err());
    }
}
