//! AWS Security Token Service (`sts`): who is calling, whose access key an id is, temporary
//! credentials (role sessions and session tokens), and decoding authorization failures.
//!
//! It must not depend on HTTP, the gateway, or other service crates.
//!
//! | file | owns |
//! |---|---|
//! | `identity.rs` | GetCallerIdentity |
//! | `access_keys.rs` | GetAccessKeyInfo |
//! | `sessions.rs` | AssumeRole, GetSessionToken |
//! | `authorization_messages.rs` | DecodeAuthorizationMessage |

mod access_keys;
mod authorization_messages;
mod generated;
mod identity;
mod sessions;

pub use generated::{errors, model::MODEL, operations, types};

/// The `sts` service as the invoker serves it.
pub struct Sts;
