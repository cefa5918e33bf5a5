//! Rotation of symmetric customer managed keys: EnableKeyRotation, DisableKeyRotation,
//! GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations, and the durable timer that rotates
//! automatically every `RotationPeriodInDays` on Ingot's clock. Rotation adds new material that
//! encrypts from then on; every older material still decrypts what it encrypted (the blob names
//! its material).

use crate::access::{authorize_key, KeyConditions};
use crate::errors::KmsError;
use crate::keys::{check_customer_managed, check_usable, find_key, save, wire, Forms};
use crate::operations::{
    DisableKeyRotation, EnableKeyRotation, GetKeyRotationStatus, ListKeyRotations, RotateKeyOnDemand,
};
use crate::pages::{limit, page_error};
use crate::types;
use crate::Kms;
use async_trait::async_trait;
use ingot_core::{CommonError, Handler, RequestContext, Timestamp};
use ingot_jobs::{JobContext, JobError, JobHandler, JobOutcome, JobRecord};
use ingot_keys::{KeyManager, KeyRecord, KeySpec, KeyState, RotationSchedule, RotationType};

pub const JOB_KIND: &str = "kms.key-rotation";
const DEFAULT_PERIOD_DAYS: i32 = 365;
const MIN_PERIOD_DAYS: i32 = 90;
const MAX_PERIOD_DAYS: i32 = 2560;
/// AWS allows ten on-demand rotations per key.
const MAX_ON_DEMAND_ROTATIONS: usize = 10;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Only symmetric encryption keys rotate.
fn check_rotatable(key: &KeyRecord) -> Result<(), KmsError> {
    if key.key_spec != KeySpec::SymmetricDefault {
        // AWS says nothing more than the code.
        return Err(KmsError::unsupported_operation_exception(""));
    }
    Ok(())
}

fn after_days(now: Timestamp, days: i32) -> Timestamp {
    Timestamp(now.0 + i64::from(days) * DAY_MS)
}

impl Handler<EnableKeyRotation> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::EnableKeyRotationRequest,
    ) -> Result<ingot_core::Empty, KmsError> {
        let days = input.rotation_period_in_days.unwrap_or(DEFAULT_PERIOD_DAYS);
        let found = find_key(ctx, "kms:EnableKeyRotation", &input.key_id, Forms::KeyOnly, false).await?;
        let conditions = KeyConditions::own_account().condition("kms:RotationPeriodInDays", [days.to_string()]);
        authorize_key::<EnableKeyRotation>(ctx, &found, conditions).await?;
        check_customer_managed(ctx, &found.key, "kms:EnableKeyRotation")?;
        check_usable(&found.key)?;
        check_rotatable(&found.key)?;
        if !(MIN_PERIOD_DAYS..=MAX_PERIOD_DAYS).contains(&days) {
            return Err(CommonError::validation(format!(
                "1 validation error detected: Value '{days}' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have value {}",
                if days < MIN_PERIOD_DAYS {
                    format!("greater than or equal to {MIN_PERIOD_DAYS}")
                } else {
                    format!("less than or equal to {MAX_PERIOD_DAYS}")
                }
            ))
            .into());
        }
        let mut key = found.key;
        let next = after_days(ctx.now, days);
        let unchanged = key.rotation_schedule.as_ref().is_some_and(|s| s.period_days == days as u32);
        if !unchanged {
            key.rotation_schedule = Some(RotationSchedule { period_days: days as u32, next_rotation: next });
            save(ctx, &key)?;
            crate::store::schedule_key_job(ctx, &key, JOB_KIND, next)?;
        }
        Ok(ingot_core::Empty {})
    }
}

impl Handler<DisableKeyRotation> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DisableKeyRotationRequest,
    ) -> Result<ingot_core::Empty, KmsError> {
        let found = find_key(ctx, "kms:DisableKeyRotation", &input.key_id, Forms::KeyOnly, false).await?;
        authorize_key::<DisableKeyRotation>(ctx, &found, KeyConditions::own_account()).await?;
        check_customer_managed(ctx, &found.key, "kms:DisableKeyRotation")?;
        check_usable(&found.key)?;
        check_rotatable(&found.key)?;
        let mut key = found.key;
        if key.rotation_schedule.take().is_some() {
            // The queued timer finds no schedule and does nothing.
            save(ctx, &key)?;
        }
        Ok(ingot_core::Empty {})
    }
}

impl Handler<GetKeyRotationStatus> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GetKeyRotationStatusRequest,
    ) -> Result<types::GetKeyRotationStatusResponse, KmsError> {
        let found = find_key(ctx, "kms:GetKeyRotationStatus", &input.key_id, Forms::KeyOnly, false).await?;
        authorize_key::<GetKeyRotationStatus>(ctx, &found, KeyConditions::default()).await?;
        let key = found.key;
        if key.key_state == KeyState::PendingDeletion {
            return Err(crate::keys::state_error(&key));
        }
        // AWS managed keys rotate every year, always; keys that cannot rotate report so.
        let schedule = match key.key_manager {
            _ if key.key_spec != KeySpec::SymmetricDefault => None,
            KeyManager::Aws => Some(RotationSchedule {
                period_days: DEFAULT_PERIOD_DAYS as u32,
                next_rotation: after_days(
                    key.rotations.last().map_or(key.creation_date, |r| r.rotation_date),
                    DEFAULT_PERIOD_DAYS,
                ),
            }),
            KeyManager::Customer => key.rotation_schedule.clone(),
        };
        Ok(types::GetKeyRotationStatusResponse {
            key_rotation_enabled: Some(schedule.is_some()),
            key_id: Some(key.arn),
            rotation_period_in_days: schedule.as_ref().map(|s| s.period_days as i32),
            next_rotation_date: schedule.map(|s| s.next_rotation),
            // On-demand rotations complete within the call, so none is ever in progress.
            on_demand_rotation_start_date: None,
        })
    }
}

impl Handler<RotateKeyOnDemand> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::RotateKeyOnDemandRequest,
    ) -> Result<types::RotateKeyOnDemandResponse, KmsError> {
        let found = find_key(ctx, "kms:RotateKeyOnDemand", &input.key_id, Forms::KeyOnly, false).await?;
        authorize_key::<RotateKeyOnDemand>(ctx, &found, KeyConditions::own_account()).await?;
        check_customer_managed(ctx, &found.key, "kms:RotateKeyOnDemand")?;
        check_usable(&found.key)?;
        check_rotatable(&found.key)?;
        let mut key = found.key;
        let on_demand = key.rotations.iter().filter(|r| r.rotation_type == RotationType::OnDemand).count();
        if on_demand >= MAX_ON_DEMAND_ROTATIONS {
            return Err(KmsError::limit_exceeded_exception(format!(
                "The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: {}",
                key.arn
            )));
        }
        key.rotate(ctx.secrets(), ctx.ids(), ctx.now, RotationType::OnDemand);
        save(ctx, &key)?;
        Ok(types::RotateKeyOnDemandResponse { key_id: Some(key.arn) })
    }
}

impl Handler<ListKeyRotations> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ListKeyRotationsRequest,
    ) -> Result<types::ListKeyRotationsResponse, KmsError> {
        let found = find_key(ctx, "kms:ListKeyRotations", &input.key_id, Forms::KeyOnly, false).await?;
        authorize_key::<ListKeyRotations>(ctx, &found, KeyConditions::own_account()).await?;
        check_rotatable(&found.key)?;
        let key = &found.key;
        let items = key
            .rotations
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let entry = types::RotationsListEntry {
                    key_id: Some(key.arn.clone()),
                    key_material_id: Some(r.material_id.clone()),
                    rotation_date: Some(r.rotation_date),
                    rotation_type: Some(wire(r.rotation_type.as_str())),
                    ..Default::default()
                };
                (format!("{i:08}"), entry)
            })
            .collect();
        let query = format!("ListKeyRotations;{}", key.arn);
        let page = ingot_core::page::page_of(items, &query, input.marker.as_deref(), limit(input.limit))
            .map_err(page_error)?;
        let truncated = page.is_truncated();
        Ok(types::ListKeyRotationsResponse {
            rotations: Some(page.items),
            next_marker: page.marker,
            truncated: Some(truncated),
        })
    }
}

/// Runs `kms.key-rotation` timers: rotates a key whose automatic rotation is due, and comes back
/// for the next one.
pub struct KeyRotationJob;

#[async_trait]
impl JobHandler for KeyRotationJob {
    fn kind(&self) -> &'static str {
        JOB_KIND
    }

    fn service(&self) -> &'static str {
        "kms"
    }

    async fn run(&self, job: &JobRecord, ctx: &JobContext<'_>) -> Result<JobOutcome, JobError> {
        let Some((key_path, mut key)) = crate::store::key_of_job(job, &ctx.tx).await? else {
            return Ok(JobOutcome::Done);
        };
        let Some(schedule) = key.rotation_schedule.clone() else { return Ok(JobOutcome::Done) };
        if schedule.next_rotation > ctx.now {
            // Enabled again with another period: that schedule's own timer is queued.
            return Ok(JobOutcome::Done);
        }
        // A disabled key or one pending deletion does not rotate; its schedule resumes after.
        if key.key_state == KeyState::Enabled {
            key.rotate(ctx.secrets(), ctx.ids(), ctx.now, RotationType::Automatic);
            ctx.record("RotateKey", serde_json::json!({ "keyId": key.arn }));
        }
        let next = after_days(ctx.now, schedule.period_days as i32);
        key.rotation_schedule = Some(RotationSchedule { period_days: schedule.period_days, next_rotation: next });
        ctx.tx.put_record(&key_path, &key);
        Ok(JobOutcome::RunAgainAt(next))
    }
}
