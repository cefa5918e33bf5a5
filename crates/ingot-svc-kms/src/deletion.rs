//! Scheduled deletion: ScheduleKeyDeletion puts a key in `PendingDeletion` for a waiting period
//! of 7 to 30 days on Ingot's clock, CancelKeyDeletion brings it back (disabled), and a durable
//! timer deletes it when the period ends: the key, its material, its aliases and its grants.

use crate::access::{authorize_key, KeyConditions};
use crate::errors::KmsError;
use crate::keys::{check_customer_managed, find_key, save, state_error, Forms};
use crate::operations::{CancelKeyDeletion, ScheduleKeyDeletion};
use crate::types;
use crate::Kms;
use async_trait::async_trait;
use ingot_core::{CommonError, Handler, RequestContext, Scope, Timestamp};
use ingot_jobs::{JobContext, JobError, JobHandler, JobOutcome, JobRecord};
use ingot_keys::{alias_storage_key, key_storage_key, KeyRecord, KeyState};

pub const JOB_KIND: &str = "kms.key-deletion";
const MIN_WINDOW_DAYS: i32 = 7;
const MAX_WINDOW_DAYS: i32 = 30;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

impl Handler<ScheduleKeyDeletion> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ScheduleKeyDeletionRequest,
    ) -> Result<types::ScheduleKeyDeletionResponse, KmsError> {
        let days = input.pending_window_in_days.unwrap_or(MAX_WINDOW_DAYS);
        let found = find_key(ctx, "kms:ScheduleKeyDeletion", &input.key_id, Forms::KeyOnly, false).await?;
        let conditions =
            KeyConditions::own_account().condition("kms:ScheduleKeyDeletionPendingWindowInDays", [days.to_string()]);
        authorize_key::<ScheduleKeyDeletion>(ctx, &found, conditions).await?;
        check_customer_managed(ctx, &found.key, "kms:ScheduleKeyDeletion")?;
        if !(MIN_WINDOW_DAYS..=MAX_WINDOW_DAYS).contains(&days) {
            return Err(CommonError::validation(format!(
                "PendingWindowInDays must be between {MIN_WINDOW_DAYS} and {MAX_WINDOW_DAYS}"
            ))
            .into());
        }
        let mut key = found.key;
        if !matches!(key.key_state, KeyState::Enabled | KeyState::Disabled) {
            return Err(state_error(&key));
        }
        let due = Timestamp(ctx.now.0 + i64::from(days) * DAY_MS);
        key.key_state = KeyState::PendingDeletion;
        key.deletion_date = Some(due);
        key.pending_window_days = Some(days as u32);
        save(ctx, &key)?;
        crate::store::schedule_key_job(ctx, &key, JOB_KIND, due)?;
        Ok(types::ScheduleKeyDeletionResponse {
            key_id: Some(key.arn),
            deletion_date: Some(due),
            key_state: Some(crate::keys::wire("PendingDeletion")),
            pending_window_in_days: Some(days),
        })
    }
}

impl Handler<CancelKeyDeletion> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::CancelKeyDeletionRequest,
    ) -> Result<types::CancelKeyDeletionResponse, KmsError> {
        let found = find_key(ctx, "kms:CancelKeyDeletion", &input.key_id, Forms::KeyOnly, false).await?;
        authorize_key::<CancelKeyDeletion>(ctx, &found, KeyConditions::own_account()).await?;
        check_customer_managed(ctx, &found.key, "kms:CancelKeyDeletion")?;
        let mut key = found.key;
        if key.key_state != KeyState::PendingDeletion {
            return Err(KmsError::kms_invalid_state_exception(format!("{} is not pending deletion.", key.arn)));
        }
        // As in AWS, a key taken back from deletion is disabled until someone enables it.
        key.key_state = KeyState::Disabled;
        key.deletion_date = None;
        key.pending_window_days = None;
        save(ctx, &key)?;
        // The deletion timer stays queued: when it fires it finds the key no longer pending.
        Ok(types::CancelKeyDeletionResponse { key_id: Some(key.arn) })
    }
}

/// Deletes a key whose waiting period ended, with its aliases and its retirable-grant entries.
pub fn delete_key(tx: &ingot_store::Tx, scope: &Scope, key: &KeyRecord) {
    for alias in &key.aliases {
        tx.delete(&alias_storage_key(scope, alias));
    }
    for grant in &key.grants {
        crate::grants::forget_retirable(tx, grant, scope);
    }
    tx.delete(&key_storage_key(scope, &key.key_id));
}

/// Runs `kms.key-deletion` timers.
pub struct KeyDeletionJob;

#[async_trait]
impl JobHandler for KeyDeletionJob {
    fn kind(&self) -> &'static str {
        JOB_KIND
    }

    fn service(&self) -> &'static str {
        "kms"
    }

    async fn run(&self, job: &JobRecord, ctx: &JobContext<'_>) -> Result<JobOutcome, JobError> {
        let Some((_, key)) = crate::store::key_of_job(job, &ctx.tx).await? else { return Ok(JobOutcome::Done) };
        // Cancelled, or scheduled again for another day (that schedule has its own timer).
        let due = key.deletion_date.is_some_and(|d| d <= ctx.now);
        if key.key_state != KeyState::PendingDeletion || !due {
            return Ok(JobOutcome::Done);
        }
        delete_key(&ctx.tx, &job.scope, &key);
        ctx.record("DeleteKey", serde_json::json!({ "keyId": key.arn }));
        Ok(JobOutcome::Done)
    }
}
