//! Amazon EC2 (`ec2`): regions and Availability Zones (images, instances and launch templates
//! arrive later).
//!
//! It must not depend on HTTP, the gateway, or other service crates.

mod filters;
mod generated;
mod regions;

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
