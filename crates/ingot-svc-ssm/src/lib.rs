//! AWS Systems Manager (`ssm`): Parameter Store.
//!
//! Owns parameters (names, versions, types, tiers, values) and their `Parameter Store Change`
//! events. It must not depend on HTTP, the gateway, or other service crates; it reaches storage
//! only through the request's unit of work.

mod generated;
pub mod parameters;

pub use generated::{errors, model::MODEL, operations, types};

/// The `ssm` service as the gateway serves it.
pub struct Ssm;
