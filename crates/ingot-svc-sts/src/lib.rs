//! AWS Security Token Service (`sts`): who is calling, and whose access key an id is.
//!
//! It must not depend on HTTP, the gateway, or other service crates.
//!
//! | file | owns |
//! |---|---|
//! | `identity.rs` | GetCallerIdentity |
//! | `access_keys.rs` | GetAccessKeyInfo |

mod access_keys;
mod generated;
mod identity;

pub use generated::{errors, model::MODEL, operations, types};

/// The `sts` service as the invoker serves it.
pub struct Sts;
