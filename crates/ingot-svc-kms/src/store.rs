//! How KMS lays out its state.
//!
//! Under `ACCOUNT/REGION/kms/` (the key and alias records are `ingot-keys`' own, shared with the
//! services that encrypt through KMS):
//!
//! | key | record | why |
//! |---|---|---|
//! | `keys/KEY_ID` | `ingot_keys::KeyRecord`: state, policy, sealed material and its rotations, tags, alias names, grants | one read decides and performs any use of a key, grants included |
//! | `aliases/alias/NAME` | `ingot_keys::AliasRecord`: the target key id | an alias resolves with one read; ListAliases is a prefix scan |
//! | `retirable-grants/GRANT_ID` | [`crate::grants::RetirableGrantRecord`]: the key ARN of a grant this account's principal may retire | ListRetirableGrants without scanning every key; kept in the retiring principal's account, whichever account owns the key |
//!
//! A key's deletion removes its record, its aliases and its retirable-grant entries in one unit
//! of work (`deletion.rs`). Timers for deletion and automatic rotation are jobs of `ingot-jobs`,
//! each carrying the key's scope and id.

use ingot_core::Scope;

/// `ACCOUNT/REGION/kms/retirable-grants/`.
pub fn retirable_grants_prefix(scope: &Scope) -> String {
    scope.key("kms", "retirable-grants/")
}
