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

use crate::errors::KmsError;
use ingot_core::{CommonError, RequestContext, Scope, Timestamp};
use ingot_jobs::{JobError, JobRecord};
use ingot_keys::{key_storage_key, KeyRecord};
use ingot_store::Tx;
use serde::{Deserialize, Serialize};

/// `ACCOUNT/REGION/kms/retirable-grants/`.
pub fn retirable_grants_prefix(scope: &Scope) -> String {
    scope.key("kms", "retirable-grants/")
}

/// What a KMS timer carries: the key it is about (the job's scope is the key's).
#[derive(Debug, Serialize, Deserialize)]
struct KeyJob {
    key_id: String,
}

/// Schedules a timer of `kind` for `key` at `due`, in the caller's unit of work.
pub fn schedule_key_job(ctx: &RequestContext<'_>, key: &KeyRecord, kind: &str, due: Timestamp) -> Result<(), KmsError> {
    let payload = serde_json::to_value(KeyJob { key_id: key.key_id.clone() }).map_err(CommonError::internal)?;
    ingot_jobs::schedule(&ctx.tx, ctx.ids(), &crate::keys::owner_scope(key)?, kind, due, payload);
    Ok(())
}

/// The key a timer is about, with its storage key; `None` once the key is gone.
pub async fn key_of_job(job: &JobRecord, tx: &Tx) -> Result<Option<(String, KeyRecord)>, JobError> {
    let payload: KeyJob =
        serde_json::from_value(job.payload.clone()).map_err(|e| JobError::new(format!("bad payload: {e}")))?;
    let path = key_storage_key(&job.scope, &payload.key_id);
    let key = tx.get_record::<KeyRecord>(&path).await.map_err(|e| JobError::new(e.to_string()))?;
    Ok(key.map(|key| (path, key)))
}
