//! AWS Security Token Service (`sts`): who is calling.
//!
//! It must not depend on HTTP, the gateway, or other service crates.

mod generated;
mod identity;

pub use generated::{errors, model::MODEL, operations, types};

/// The `sts` service as the gateway serves it.
pub struct Sts;
