//! Systems Manager: Parameter Store, with `aws-sdk-ssm`.

mod events;
mod listing;
mod names;
mod parameters;
mod policies;
mod public;
mod secure;
pub mod support;
mod tags;
mod values;
mod versions;
