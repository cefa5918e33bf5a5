//! The account's network as EC2 describes it: DescribeAccountAttributes, DescribeVpcs,
//! DescribeSubnets. Every account and region has its default VPC and default subnets
//! (`store::ensure_default_network`).

use crate::access::authorize;
use crate::errors::Ec2Error;
use crate::filters::{check_filter_names, matches_filters};
use crate::operations::{DescribeAccountAttributes, DescribeSubnets, DescribeVpcs};
use crate::store::{self, SubnetRecord, VpcRecord};
use crate::tags::to_wire as tags_to_wire;
use crate::types::{self, AccountAttribute, AccountAttributeValue, Subnet, Vpc};
use crate::Ec2;
use ingot_core::page::{page_of, Page, PageError};
use ingot_core::{Access, Handler, RequestContext};

const VPC_FILTERS: &[&str] = &[
    "cidr",
    "cidr-block-association.cidr-block",
    "cidr-block-association.state",
    "dhcp-options-id",
    "is-default",
    "owner-id",
    "state",
    "tag-key",
    "vpc-id",
];
const SUBNET_FILTERS: &[&str] = &[
    "availability-zone",
    "availability-zone-id",
    "available-ip-address-count",
    "cidr-block",
    "default-for-az",
    "map-public-ip-on-launch",
    "owner-id",
    "state",
    "subnet-id",
    "tag-key",
    "vpc-id",
];
/// Usable addresses of a /20 (AWS keeps five of each subnet).
const SUBNET_20_ADDRESSES: i32 = 4091;

/// A page of a Describe call's results (`MaxResults` 5..=1000 where given).
pub fn page<T>(
    items: Vec<(String, T)>,
    query: &str,
    token: Option<&str>,
    max: Option<i32>,
) -> Result<Page<T>, Ec2Error> {
    let size = match max {
        Some(n) if !(5..=1000).contains(&n) => {
            return Err(Ec2Error::unmodeled(
                "InvalidParameterValue",
                400,
                format!("Value ( {n} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000."),
            ))
        }
        Some(n) => n as usize,
        None => usize::MAX,
    };
    page_of(items, query, token, size).map_err(|e| match e {
        PageError::InvalidToken => Ec2Error::unmodeled("InvalidParameterValue", 400, "Invalid value for NextToken"),
        PageError::Store(e) => e.into(),
    })
}

/// The value a tag filter (`tag:KEY`, `tag-key`) reads from a resource's tags.
pub fn tag_field(tags: &store::Tags, name: &str) -> Option<String> {
    if let Some(key) = name.strip_prefix("tag:") {
        return tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    }
    None
}

/// Whether a resource with `tags` passes the filters, `field` giving its other values. A
/// `tag-key` filter matches any of the tags.
pub fn passes(filters: &[types::Filter], tags: &store::Tags, field: impl Fn(&str) -> Option<String>) -> bool {
    filters.iter().all(|filter| {
        let one = std::slice::from_ref(filter);
        match filter.name.as_deref() {
            Some("tag-key") => tags.iter().any(|(k, _)| matches_filters(one, |_| Some(k.clone()))),
            Some(name) if name.starts_with("tag:") => matches_filters(one, |n| tag_field(tags, n)),
            _ => matches_filters(one, &field),
        }
    })
}

fn vpc_to_wire(ctx: &RequestContext<'_>, vpc: &VpcRecord) -> Vpc {
    Vpc {
        owner_id: Some(ctx.account().to_string()),
        instance_tenancy: Some(types::Tenancy::Default),
        cidr_block_association_set: Some(vec![types::VpcCidrBlockAssociation {
            association_id: Some(vpc.cidr_association_id.clone()),
            cidr_block: Some(vpc.cidr_block.clone()),
            cidr_block_state: Some(types::VpcCidrBlockState {
                state: Some(types::VpcCidrBlockStateCode::Associated),
                status_message: None,
            }),
        }]),
        is_default: Some(vpc.is_default),
        tags: tags_to_wire(&vpc.tags),
        vpc_id: Some(vpc.id.clone()),
        state: Some(types::VpcState::Available),
        cidr_block: Some(vpc.cidr_block.clone()),
        dhcp_options_id: Some(vpc.dhcp_options_id.clone()),
        ..Default::default()
    }
}

fn subnet_to_wire(ctx: &RequestContext<'_>, subnet: &SubnetRecord) -> Subnet {
    Subnet {
        availability_zone_id: Some(subnet.availability_zone_id.clone()),
        owner_id: Some(ctx.account().to_string()),
        assign_ipv6_address_on_creation: Some(false),
        tags: tags_to_wire(&subnet.tags),
        subnet_arn: Some(crate::access::resource_arn(ctx, "subnet", &subnet.id)),
        enable_dns64: Some(false),
        ipv6_native: Some(false),
        map_customer_owned_ip_on_launch: Some(false),
        subnet_id: Some(subnet.id.clone()),
        state: Some(types::SubnetState::Available),
        vpc_id: Some(subnet.vpc_id.clone()),
        cidr_block: Some(subnet.cidr_block.clone()),
        available_ip_address_count: Some(SUBNET_20_ADDRESSES),
        availability_zone: Some(subnet.availability_zone.clone()),
        default_for_az: Some(subnet.default_for_az),
        map_public_ip_on_launch: Some(subnet.map_public_ip_on_launch),
        ..Default::default()
    }
}

/// Refuses ids that are not of the resource's shape (`vpc-` and hex digits).
pub fn check_ids(ids: &[String], prefix: &str, malformed_code: &'static str, noun: &str) -> Result<(), Ec2Error> {
    for id in ids {
        let well_formed = id
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|hex| (8..=17).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        if !well_formed {
            return Err(Ec2Error::unmodeled(malformed_code, 400, format!("Invalid id: \"{id}\" ({noun})")));
        }
    }
    Ok(())
}

impl Handler<DescribeVpcs> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DescribeVpcsRequest,
    ) -> Result<types::DescribeVpcsResult, Ec2Error> {
        authorize::<DescribeVpcs>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let filters = input.filters.unwrap_or_default();
        check_filter_names(&filters, VPC_FILTERS)?;
        let ids = input.vpc_ids.unwrap_or_default();
        check_ids(&ids, "vpc", "InvalidVpcID.Malformed", "expecting \"vpc-...\"")?;
        store::ensure_default_network(ctx).await?;
        let vpcs = store::all::<VpcRecord>(&ctx.tx, &store::vpcs_prefix(ctx.scope)).await?;
        if let Some(missing) = ids.iter().find(|id| !vpcs.iter().any(|v| v.id == **id)) {
            return Err(Ec2Error::unmodeled(
                "InvalidVpcID.NotFound",
                400,
                format!("The vpc ID '{missing}' does not exist"),
            ));
        }
        let items = vpcs
            .iter()
            .filter(|v| ids.is_empty() || ids.contains(&v.id))
            .filter(|v| {
                passes(&filters, &v.tags, |name| match name {
                    "cidr" | "cidr-block-association.cidr-block" => Some(v.cidr_block.clone()),
                    "cidr-block-association.state" => Some("associated".into()),
                    "dhcp-options-id" => Some(v.dhcp_options_id.clone()),
                    "is-default" => Some(v.is_default.to_string()),
                    "owner-id" => Some(ctx.account().to_string()),
                    "state" => Some("available".into()),
                    "vpc-id" => Some(v.id.clone()),
                    _ => None,
                })
            })
            .map(|v| (v.id.clone(), vpc_to_wire(ctx, v)))
            .collect();
        let query = format!("DescribeVpcs;{ids:?};{filters:?}");
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::DescribeVpcsResult { next_token: page.marker, vpcs: Some(page.items) })
    }
}

impl Handler<DescribeSubnets> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DescribeSubnetsRequest,
    ) -> Result<types::DescribeSubnetsResult, Ec2Error> {
        authorize::<DescribeSubnets>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let filters = input.filters.unwrap_or_default();
        check_filter_names(&filters, SUBNET_FILTERS)?;
        let ids = input.subnet_ids.unwrap_or_default();
        check_ids(&ids, "subnet", "InvalidSubnetID.Malformed", "expecting \"subnet-...\"")?;
        store::ensure_default_network(ctx).await?;
        let subnets = store::all::<SubnetRecord>(&ctx.tx, &store::subnets_prefix(ctx.scope)).await?;
        if let Some(missing) = ids.iter().find(|id| !subnets.iter().any(|s| s.id == **id)) {
            return Err(Ec2Error::unmodeled(
                "InvalidSubnetID.NotFound",
                400,
                format!("The subnet ID '{missing}' does not exist"),
            ));
        }
        let items = subnets
            .iter()
            .filter(|s| ids.is_empty() || ids.contains(&s.id))
            .filter(|s| {
                passes(&filters, &s.tags, |name| match name {
                    "availability-zone" => Some(s.availability_zone.clone()),
                    "availability-zone-id" => Some(s.availability_zone_id.clone()),
                    "available-ip-address-count" => Some(SUBNET_20_ADDRESSES.to_string()),
                    "cidr-block" => Some(s.cidr_block.clone()),
                    "default-for-az" => Some(s.default_for_az.to_string()),
                    "map-public-ip-on-launch" => Some(s.map_public_ip_on_launch.to_string()),
                    "owner-id" => Some(ctx.account().to_string()),
                    "state" => Some("available".into()),
                    "subnet-id" => Some(s.id.clone()),
                    "vpc-id" => Some(s.vpc_id.clone()),
                    _ => None,
                })
            })
            .map(|s| (format!("{}#{}", s.availability_zone, s.id), subnet_to_wire(ctx, s)))
            .collect();
        let query = format!("DescribeSubnets;{ids:?};{filters:?}");
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::DescribeSubnetsResult { next_token: page.marker, subnets: Some(page.items) })
    }
}

impl Handler<DescribeAccountAttributes> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DescribeAccountAttributesRequest,
    ) -> Result<types::DescribeAccountAttributesResult, Ec2Error> {
        authorize::<DescribeAccountAttributes>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let default_vpc = store::ensure_default_network(ctx).await?;
        let all: [(&str, Vec<String>); 6] = [
            ("supported-platforms", vec!["VPC".to_string()]),
            ("vpc-max-security-groups-per-interface", vec!["5".to_string()]),
            ("max-elastic-ips", vec!["5".to_string()]),
            ("max-instances", vec!["20".to_string()]),
            ("vpc-max-elastic-ips", vec!["5".to_string()]),
            ("default-vpc", vec![default_vpc]),
        ];
        let wanted: Vec<&str> = input.attribute_names.iter().flatten().map(|n| n.as_str()).collect();
        let attributes = all
            .into_iter()
            .filter(|(name, _)| wanted.is_empty() || wanted.contains(name))
            .map(|(name, values)| AccountAttribute {
                attribute_name: Some(name.to_string()),
                attribute_values: Some(
                    values.into_iter().map(|v| AccountAttributeValue { attribute_value: Some(v) }).collect(),
                ),
            })
            .collect();
        Ok(types::DescribeAccountAttributesResult { account_attributes: Some(attributes) })
    }
}
