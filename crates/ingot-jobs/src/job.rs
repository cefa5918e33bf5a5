//! Jobs as stored, and their scheduling inside a unit of work.

use ingot_core::{IdGen, Principal, Scope, Timestamp};
use ingot_store::{encode_record, Tx};
use serde::{Deserialize, Serialize};

/// Every job lives under this prefix, at `{JOBS_PREFIX}{due_millis:015}/{id}`: a prefix scan
/// returns jobs in due order.
pub const JOBS_PREFIX: &str = "global/jobs/due/";

/// Largest due time the 15-digit key field holds (about the year 33658).
const MAX_DUE_MILLIS: i64 = 999_999_999_999_999;

/// A job waiting in the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// A UUID; stays the same when the job is rescheduled.
    pub id: String,
    /// Which [`crate::JobHandler`] runs it (`ssm.parameter-policy`).
    pub kind: String,
    /// When it is due; part of its storage key.
    pub due: Timestamp,
    /// What the handler needs to know, as the scheduler wrote it.
    pub payload: serde_json::Value,
    /// Failed runs since it was scheduled.
    pub attempts: u32,
    /// After a failed run: not before this instant (backoff). The job keeps its place (and its
    /// storage key) in the queue, so a [`JobRef`] kept by its scheduler still cancels it.
    #[serde(default)]
    pub not_before: Option<Timestamp>,
    /// The error of the last failed run, for diagnostics.
    #[serde(default)]
    pub last_error: Option<String>,
    /// The account and region the job acts in.
    pub scope: Scope,
    /// Whom the job acts as; `None` for the internal principal of the service that runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
}

impl ingot_store::Record for JobRecord {
    const KIND: &'static str = "jobs.job";
    const SCHEMA_VERSION: u32 = 2;

    /// Version 1 had no scope: its only jobs (parameter policies) kept account and region in
    /// their payload.
    fn upgrade(version: u32, mut data: serde_json::Value) -> Result<serde_json::Value, String> {
        if version != 1 {
            return Err(format!("jobs.job has no upgrade from schema version {version}"));
        }
        let payload = &data["payload"];
        let scope = serde_json::json!({ "account": payload["account"], "region": payload["region"] });
        if !scope["account"].is_string() || !scope["region"].is_string() {
            return Err("a version 1 job without account and region in its payload".to_string());
        }
        data["scope"] = scope;
        Ok(data)
    }
}

impl JobRecord {
    /// The reference that cancels this job.
    pub fn job_ref(&self) -> JobRef {
        JobRef { id: self.id.clone(), due: self.due }
    }
}

/// What a scheduler keeps to cancel its job later (serializable into its own records).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct JobRef {
    pub id: String,
    pub due: Timestamp,
}

impl JobRef {
    /// Where the job is stored.
    pub fn storage_key(&self) -> String {
        job_storage_key(self.due, &self.id)
    }
}

/// `global/jobs/due/{due_millis:015}/{id}`. Due times before the epoch sort (and run) as the
/// epoch; due times past the 15-digit field as its largest value.
pub fn job_storage_key(due: Timestamp, id: &str) -> String {
    format!("{JOBS_PREFIX}{:015}/{id}", due.millis().clamp(0, MAX_DUE_MILLIS))
}

/// The due time encoded in a job's storage key.
pub(crate) fn due_of_key(key: &str) -> Option<Timestamp> {
    let digits = key.strip_prefix(JOBS_PREFIX)?.get(..15)?;
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(Timestamp::from_millis)
}

/// Schedules a job of `kind` acting in `scope`, due at `due`, in the caller's unit of work: the
/// job exists if and only if that unit of work commits. It runs as the internal principal of the
/// service whose handler runs it.
pub fn schedule(tx: &Tx, ids: &IdGen, scope: &Scope, kind: &str, due: Timestamp, payload: serde_json::Value) -> JobRef {
    schedule_as(tx, ids, scope, kind, due, payload, None)
}

/// [`schedule`] for a job that acts as `principal` (the caller whose request it finishes, so
/// that the caller's permissions decide what it may do), or as the service when `None`.
pub fn schedule_as(
    tx: &Tx,
    ids: &IdGen,
    scope: &Scope,
    kind: &str,
    due: Timestamp,
    payload: serde_json::Value,
    principal: Option<Principal>,
) -> JobRef {
    let job = JobRecord {
        id: ids.uuid(),
        kind: kind.to_string(),
        due,
        payload,
        attempts: 0,
        not_before: None,
        last_error: None,
        scope: scope.clone(),
        principal,
    };
    tx.insert_new(&job_storage_key(due, &job.id), encode_record(&job));
    job.job_ref()
}

/// Cancels a job in the caller's unit of work. A run that has not committed when the cancel
/// commits does not take effect (the runner expects the job's version, so its commit conflicts and
/// the job is gone on retry). Cancelling a job that already ran or was cancelled does nothing, and
/// so does a stale reference: a handler returning [`crate::JobOutcome::RunAgainAt`] moves the job
/// to a new due time, so whoever keeps its [`JobRef`] must keep `JobRef { id, due: new_due }`
/// (handlers update it in the same unit of work). Failed runs keep the job where it is.
pub fn cancel(tx: &Tx, job: &JobRef) {
    tx.delete(&job.storage_key());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_keys_sort_in_due_order() {
        let a = job_storage_key(Timestamp(9_000), "b");
        let b = job_storage_key(Timestamp(10_000), "a");
        assert!(a < b);
        assert_eq!(b, "global/jobs/due/000000000010000/a");
        assert_eq!(due_of_key(&b), Some(Timestamp(10_000)));
    }

    #[test]
    fn due_times_outside_the_key_field_are_clamped() {
        assert_eq!(job_storage_key(Timestamp(-5), "x"), "global/jobs/due/000000000000000/x");
        assert_eq!(job_storage_key(Timestamp(i64::MAX), "x"), "global/jobs/due/999999999999999/x");
        assert_eq!(due_of_key("global/jobs/due/12/x"), None);
        assert_eq!(due_of_key("other/000000000000001/x"), None);
    }

    #[test]
    fn job_refs_serialize_for_keeping_in_records() {
        let r = JobRef { id: "id-1".into(), due: Timestamp(1_500) };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<JobRef>(&json).unwrap(), r);
    }
}
