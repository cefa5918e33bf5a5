//! Regions and Availability Zones: DescribeRegions and DescribeAvailabilityZones.

use crate::errors::Ec2Error;
use crate::filters::{check_filter_names, matches_filters};
use crate::operations::{DescribeAvailabilityZones, DescribeRegions};
use crate::types::{
    AvailabilityZone, AvailabilityZoneOptInStatus, AvailabilityZoneState, DescribeAvailabilityZonesRequest,
    DescribeAvailabilityZonesResult, DescribeRegionsRequest, DescribeRegionsResult, Region,
};
use crate::Ec2;
use ingot_core::identity::{region_info, region_short_name, COMMERCIAL_REGIONS};
use ingot_core::{Access, Handler, RequestContext};

const REGION_FILTERS: &[&str] = &["endpoint", "region-name", "opt-in-status"];
const ZONE_FILTERS: &[&str] = &[
    "group-name",
    "message",
    "opt-in-status",
    "region-name",
    "state",
    "zone-id",
    "zone-name",
    "zone-type",
    "network-border-group",
];

fn opt_in_status(opt_in: bool) -> &'static str {
    // New accounts have no opt-in region enabled.
    if opt_in {
        "not-opted-in"
    } else {
        "opt-in-not-required"
    }
}

impl Handler<DescribeRegions> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: DescribeRegionsRequest,
    ) -> Result<DescribeRegionsResult, Ec2Error> {
        crate::access::authorize::<DescribeRegions>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let filters = input.filters.unwrap_or_default();
        check_filter_names(&filters, REGION_FILTERS)?;
        let names = input.region_names.unwrap_or_default();
        if let Some(unknown) = names.iter().find(|n| region_info(n).is_none()) {
            return Err(Ec2Error::unmodeled("InvalidParameterValue", 400, format!("Invalid region: {unknown}")));
        }
        let all = input.all_regions.unwrap_or(false) || !names.is_empty();
        let regions = COMMERCIAL_REGIONS
            .iter()
            .filter(|r| all || !r.opt_in)
            .filter(|r| names.is_empty() || names.iter().any(|n| n == r.name))
            .map(|r| Region {
                region_name: Some(r.name.to_string()),
                endpoint: Some(format!("ec2.{}.amazonaws.com", r.name)),
                opt_in_status: Some(opt_in_status(r.opt_in).to_string()),
                geography: None,
            })
            .filter(|r| {
                matches_filters(&filters, |name| match name {
                    "endpoint" => r.endpoint.clone(),
                    "region-name" => r.region_name.clone(),
                    "opt-in-status" => r.opt_in_status.clone(),
                    _ => None,
                })
            })
            .collect();
        Ok(DescribeRegionsResult { regions: Some(regions) })
    }
}

impl Handler<DescribeAvailabilityZones> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: DescribeAvailabilityZonesRequest,
    ) -> Result<DescribeAvailabilityZonesResult, Ec2Error> {
        crate::access::authorize::<DescribeAvailabilityZones>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let filters = input.filters.unwrap_or_default();
        check_filter_names(&filters, ZONE_FILTERS)?;
        let region = ctx.region().as_str();
        let count = region_info(region).map_or(3, |r| r.zones);
        let short = region_short_name(region);
        let zones: Vec<AvailabilityZone> = (0..count)
            .map(|i| AvailabilityZone {
                opt_in_status: Some(AvailabilityZoneOptInStatus::OptInNotRequired),
                messages: Some(Vec::new()),
                region_name: Some(region.to_string()),
                zone_name: Some(format!("{region}{}", (b'a' + i) as char)),
                zone_id: Some(format!("{short}-az{}", i + 1)),
                group_name: Some(region.to_string()),
                network_border_group: Some(region.to_string()),
                zone_type: Some("availability-zone".to_string()),
                parent_zone_name: None,
                parent_zone_id: None,
                group_long_name: None,
                geography: None,
                sub_geography: None,
                state: Some(AvailabilityZoneState::Available),
            })
            .collect();
        let zone_names = input.zone_names.unwrap_or_default();
        let zone_ids = input.zone_ids.unwrap_or_default();
        for name in &zone_names {
            if !zones.iter().any(|z| z.zone_name.as_deref() == Some(name)) {
                return Err(Ec2Error::unmodeled(
                    "InvalidParameterValue",
                    400,
                    format!("The Availability Zone with name '{name}' does not exist."),
                ));
            }
        }
        for id in &zone_ids {
            if !zones.iter().any(|z| z.zone_id.as_deref() == Some(id)) {
                return Err(Ec2Error::unmodeled(
                    "InvalidParameterValue",
                    400,
                    format!("The Availability Zone with ID '{id}' does not exist."),
                ));
            }
        }
        let selected = zones
            .into_iter()
            .filter(|z| zone_names.is_empty() || zone_names.iter().any(|n| z.zone_name.as_deref() == Some(n)))
            .filter(|z| zone_ids.is_empty() || zone_ids.iter().any(|n| z.zone_id.as_deref() == Some(n)))
            .filter(|z| {
                matches_filters(&filters, |name| match name {
                    "group-name" => z.group_name.clone(),
                    "opt-in-status" => z.opt_in_status.map(|s| s.as_str().to_string()),
                    "region-name" => z.region_name.clone(),
                    "state" => z.state.map(|s| s.as_str().to_string()),
                    "zone-id" => z.zone_id.clone(),
                    "zone-name" => z.zone_name.clone(),
                    "zone-type" => z.zone_type.clone(),
                    "network-border-group" => z.network_border_group.clone(),
                    _ => None,
                })
            })
            .collect();
        Ok(DescribeAvailabilityZonesResult { availability_zones: Some(selected) })
    }
}
