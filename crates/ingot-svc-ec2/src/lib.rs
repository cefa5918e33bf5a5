//! Amazon EC2 (`ec2`): regions and Availability Zones, each account's default network (VPC,
//! subnets, security groups), EBS encryption by default, tags, and the public images every
//! region has and the accounts' own images and snapshots (shared by launch and volume
//! permissions), instances launched from them (directly or through launch templates).
//!
//! It must not depend on HTTP, the gateway, or other service crates.
//!
//! | file | owns |
//! |---|---|
//! | `access.rs` | authorization in EC2's words (`UnauthorizedOperation` with an encoded message) |
//! | `store.rs` | key layout, records, the default network |
//! | `regions.rs` | DescribeRegions, DescribeAvailabilityZones |
//! | `network.rs` | DescribeAccountAttributes, DescribeVpcs, DescribeSubnets, Describe paging |
//! | `security_groups.rs` | security groups and their ingress rules |
//! | `ebs.rs` | EBS encryption by default and its key |
//! | `images.rs` | images: the public ones every region has and the accounts' own, launch permissions, deprecation |
//! | `snapshots.rs` | snapshots: describing, copying, deleting, `createVolumePermission` |
//! | `instances.rs` | instances, their states on Ingot's clock, `resolve:ssm:` images |
//! | `volumes.rs` | DescribeVolumes: the volumes launches made |
//! | `launch_templates.rs` | launch templates and their versions |
//! | `tags.rs` | CreateTags, DeleteTags, DescribeTags, TagSpecifications |
//! | `filters.rs` | `Filter.N` matching |

mod access;
mod ebs;
mod filters;
mod generated;
mod images;
mod instances;
mod launch_templates;
mod network;
mod regions;
mod security_groups;
mod snapshots;
mod store;
mod tags;
mod volumes;

pub use generated::{errors, model::MODEL, operations, types};

use errors::Ec2Error;

/// The `ec2` service as the invoker serves it.
pub struct Ec2;

/// EC2's `DryRun`: once the caller is authorized, report that the call would have succeeded.
fn dry_run(flag: Option<bool>) -> Result<(), Ec2Error> {
    if flag == Some(true) {
        return Err(Ec2Error::unmodeled(
            "DryRunOperation",
            412,
            "Request would have succeeded, but DryRun flag is set.",
        ));
    }
    Ok(())
}

/// The durable-job handlers of this service (instance, image and snapshot state changes), for the job runner.
pub fn job_handlers() -> Vec<std::sync::Arc<dyn ingot_jobs::JobHandler>> {
    vec![std::sync::Arc::new(instances::InstanceStateJob), std::sync::Arc::new(images::ImageStateJob)]
}
