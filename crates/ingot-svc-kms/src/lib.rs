//! AWS Key Management Service (`kms`): customer managed and AWS managed keys (symmetric, RSA,
//! elliptic-curve and HMAC), aliases, key policies, grants, real cryptography, rotation,
//! scheduled deletion and tags, every call decided by the policy engine with the key policy as a
//! required resource policy.
//!
//! The keys themselves are `ingot-keys` records (the key core that SecureString parameters used
//! before KMS existed): this crate is the service around them. Other services use keys only by
//! calling this service through the invoker, as the principal they act for, with
//! `Origin::via_service` naming themselves (`kms:ViaService`).
//!
//! It must not depend on HTTP, the gateway, the protocol codecs or other service crates.
//!
//! | file | owns |
//! |---|---|
//! | `keys.rs` | finding the key a `KeyId` names, key metadata; CreateKey, DescribeKey, ListKeys, UpdateKeyDescription, EnableKey, DisableKey |
//! | `access.rs` | authorization of key operations: key policy, grants, KMS condition keys |
//! | `deletion.rs` | ScheduleKeyDeletion, CancelKeyDeletion, and the timer that deletes |
//! | `aliases.rs` | CreateAlias, UpdateAlias, DeleteAlias, ListAliases |
//! | `key_policies.rs` | GetKeyPolicy, PutKeyPolicy, ListKeyPolicies, policy validation and the lockout check |
//! | `grants.rs` | CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant, grant tokens |
//! | `encryption.rs` | Encrypt, Decrypt, ReEncrypt, GenerateDataKey*, GenerateDataKeyPair*, GenerateRandom |
//! | `signing.rs` | Sign, Verify, GetPublicKey |
//! | `macs.rs` | GenerateMac, VerifyMac |
//! | `rotation.rs` | Enable/DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations, the rotation timer |
//! | `tags.rs` | TagResource, UntagResource, ListResourceTags |
//! | `pages.rs` | `Limit` / `Marker` pagination |
//! | `store.rs` | key layout |

mod generated;

pub mod access;
pub mod aliases;
pub mod deletion;
pub mod encryption;
pub mod grants;
pub mod key_policies;
pub mod keys;
pub mod macs;
pub mod pages;
pub mod rotation;
pub mod signing;
pub mod store;
pub mod tags;

pub use generated::{errors, model::MODEL, operations, types};

use std::sync::Arc;

/// The `kms` service as the invoker serves it.
pub struct Kms;

/// The durable-job handlers of this service (key deletion and automatic rotation), for the job
/// runner.
pub fn job_handlers() -> Vec<Arc<dyn ingot_jobs::JobHandler>> {
    vec![Arc::new(deletion::KeyDeletionJob), Arc::new(rotation::KeyRotationJob)]
}
