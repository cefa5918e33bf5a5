//! AWS Resource Access Manager (`ram`): what can be shared (resource shares arrive later).
//!
//! It must not depend on HTTP, the gateway, or other service crates.

mod generated;
mod resource_types;

pub use generated::{errors, model::MODEL, operations, types};

/// The `ram` service as the invoker serves it.
pub struct Ram;
