//! Running due jobs: exactly once per job, in due order, on any number of replicas.

use crate::job::{due_of_key, job_storage_key, JobRecord, JOBS_PREFIX};
use async_trait::async_trait;
use futures_util::FutureExt;
use ingot_core::{
    Committed, CommonError, ConflictRetry, Env, Origin, Principal, RequestContext, ServiceAction, ServiceFailure,
    Timestamp,
};
use ingot_store::{decode_record, StoreError, Tx};
use serde_json::Value;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Longest wait between two attempts of a failing job.
pub const MAX_RETRY_DELAY_MS: i64 = 60 * 60 * 1000;

/// How long a job of a kind this replica has no handler for waits before it is looked at again
/// (a newer replica may know the kind).
pub const UNKNOWN_KIND_DELAY_MS: i64 = 60 * 1000;

/// Jobs read per scan page.
const PAGE: usize = 64;

/// What a handler sees when it runs a job: a request context like a call's (the environment,
/// the job's scope and principal, and the job's unit of work), and a place to name what the job
/// did for the audit trail.
///
/// The job's removal from the queue is already in the unit of work; the handler reads and writes
/// through it, and everything commits together after the handler returns `Ok` (nothing commits
/// after `Err`). The handler may schedule further jobs in it.
pub struct JobContext<'a> {
    pub request: RequestContext<'a>,
    actions: Mutex<Vec<(&'static str, Value)>>,
}

impl<'a> std::ops::Deref for JobContext<'a> {
    type Target = RequestContext<'a>;

    fn deref(&self) -> &RequestContext<'a> {
        &self.request
    }
}

impl JobContext<'_> {
    /// Names an effect of this run for the audit trail: `event_name` is the operation it amounts
    /// to (`DeleteParameter`), `parameters` what it acted on. Each becomes an audit record in the
    /// run's commit, by the job's principal. A run that writes without naming anything gets one
    /// record named after its job kind.
    pub fn record(&self, event_name: &'static str, parameters: Value) {
        self.actions.lock().unwrap_or_else(|p| p.into_inner()).push((event_name, parameters));
    }
}

/// Why a job's run failed: kept on the job and logged; the job is tried again later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError(pub String);

impl JobError {
    pub fn new(message: impl Into<String>) -> Self {
        JobError(message.into())
    }
}

impl From<String> for JobError {
    fn from(message: String) -> Self {
        JobError(message)
    }
}

impl From<&str> for JobError {
    fn from(message: &str) -> Self {
        JobError(message.to_string())
    }
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        JobError(e.to_string())
    }
}

impl From<CommonError> for JobError {
    fn from(e: CommonError) -> Self {
        JobError(e.to_string())
    }
}

impl From<ServiceFailure> for JobError {
    fn from(e: ServiceFailure) -> Self {
        JobError(format!("{}: {}", e.code_for_audit(), e.message().unwrap_or("")))
    }
}

/// How a job's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    /// The job is finished and leaves the queue.
    Done,
    /// The job stays, due again at this instant (at the earliest 1 ms after the current pass's
    /// `now`). Its storage key moves with the due time: see [`crate::cancel`].
    RunAgainAt(Timestamp),
}

/// Runs the jobs of one kind. A service implements it for each kind of job it schedules.
///
/// A run may be repeated (when its commit conflicts, after a failure, on another replica after a
/// crash), but only one run's writes ever commit: keep every effect inside `ctx.tx`, and expect
/// that the state the job was scheduled for may have changed or gone meanwhile.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// The kind this handler runs (`ssm.parameter-policy`).
    fn kind(&self) -> &'static str;
    /// The service whose jobs these are (`ssm`): a job without a principal of its own runs as
    /// this service's internal principal, and its audit records name the service.
    fn service(&self) -> &'static str;
    /// Runs one job. `Err` discards the unit of work and retries the job later with exponential
    /// backoff; the message is logged and kept on the job.
    async fn run(&self, job: &JobRecord, ctx: &JobContext<'_>) -> Result<JobOutcome, JobError>;
}

/// Runs due jobs from the store's queue.
pub struct JobRunner {
    env: Arc<Env>,
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
}

/// What became of one candidate job.
enum Run {
    /// Its run committed.
    Committed,
    /// Nothing committed by this runner: gone, not yet retryable, failed, deferred or contended.
    Skipped,
}

impl JobRunner {
    /// A runner with one handler per kind (for a kind given twice, the first handler counts).
    pub fn new(env: Arc<Env>, handlers: Vec<Arc<dyn JobHandler>>) -> Self {
        let mut by_kind: HashMap<&'static str, Arc<dyn JobHandler>> = HashMap::new();
        for handler in handlers {
            let kind = handler.kind();
            if by_kind.contains_key(kind) {
                tracing::warn!(kind, "a second job handler for the same kind is ignored");
                continue;
            }
            by_kind.insert(kind, handler);
        }
        JobRunner { env, handlers: by_kind }
    }

    /// Runs every job due now (due time at or before the clock), in due order, and returns how
    /// many runs committed. A job another runner ran meanwhile is skipped; a failing job is
    /// retried later. Errs only when the store fails.
    pub async fn run_due(&self) -> Result<usize, StoreError> {
        self.run_pass(None).await
    }

    /// Runs [`JobRunner::run_due`] every `poll`, and at once whenever clock control moves the
    /// clock (`Env::clock_moved`), until `shutdown` turns true or its sender is dropped. Shutdown
    /// lets the job in progress finish and starts no other.
    pub fn spawn(self: Arc<Self>, poll: Duration, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if *shutdown.borrow_and_update() {
                    break;
                }
                // Registered before the pass, so a notification during the pass is not lost.
                let notified = self.env.clock_moved.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                match self.run_pass(Some(&shutdown)).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(jobs = n, "ran due jobs"),
                    Err(e) => tracing::warn!(error = %e, "job runner pass failed; retrying at the next poll"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = &mut notified => {}
                    changed = shutdown.changed() => {
                        if changed.is_err() {
                            break;
                        }
                    }
                }
            }
        })
    }

    async fn run_pass(&self, stop: Option<&watch::Receiver<bool>>) -> Result<usize, StoreError> {
        let now = self.env.clock.now();
        let mut committed = 0;
        let mut after: Option<String> = None;
        loop {
            let page = self.env.store.scan(JOBS_PREFIX, after.as_deref(), PAGE).await?;
            let full = page.len() == PAGE;
            for (key, item) in page {
                if stop.is_some_and(|s| *s.borrow()) {
                    return Ok(committed);
                }
                after = Some(key.clone());
                let Some(due) = due_of_key(&key) else {
                    tracing::warn!(key, "ignoring a malformed job key");
                    continue;
                };
                if due > now {
                    return Ok(committed);
                }
                let job = match decode_record::<JobRecord>(&item.value) {
                    Ok(job) => job,
                    Err(e) => {
                        // Perhaps written by a newer build; leave it for that one.
                        tracing::warn!(key, error = %e, "skipping a job that cannot be decoded");
                        continue;
                    }
                };
                if job.not_before.is_some_and(|t| t > now) {
                    continue;
                }
                if let Run::Committed = self.run_one(&key, now).await? {
                    committed += 1;
                }
            }
            if !full {
                return Ok(committed);
            }
        }
    }

    /// Runs the job at `key` in its own unit of work, again when the commit conflicts while the
    /// job is still there.
    async fn run_one(&self, key: &str, now: Timestamp) -> Result<Run, StoreError> {
        let env = &*self.env;
        let mut retry = ConflictRetry::new();
        loop {
            let tx = Tx::new(env.store.clone());
            // Reading the job makes its version an expectation of the commit: of two runners, only
            // one removes it.
            let Some(job) = tx.get_record::<JobRecord>(key).await? else {
                return Ok(Run::Skipped);
            };
            if job.not_before.is_some_and(|t| t > now) {
                return Ok(Run::Skipped);
            }
            let Some(handler) = self.handlers.get(job.kind.as_str()).cloned() else {
                tracing::warn!(kind = job.kind, id = job.id, "no handler for this job kind; trying again later");
                self.postpone(key, now, UNKNOWN_KIND_DELAY_MS, None).await?;
                return Ok(Run::Skipped);
            };
            tx.delete(key);
            let principal = match &job.principal {
                Some(principal) => principal.clone(),
                None => Principal::service(handler.service(), job.scope.account.clone()),
            };
            let acting_as = ingot_core::identity::service_principal_name(handler.service());
            let origin = Origin {
                request_id: &job.id,
                source_ip: &acting_as,
                user_agent: &acting_as,
                access_key_id: None,
                via_service: None,
            };
            let ctx = JobContext {
                request: RequestContext { env, scope: &job.scope, principal: &principal, origin, now, tx },
                actions: Mutex::new(Vec::new()),
            };
            // A panicking handler fails its job, not the runner.
            let result = AssertUnwindSafe(handler.run(&job, &ctx)).catch_unwind().await;
            let outcome = match result {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(error)) => {
                    self.record_failure(key, &job, now, error.0).await?;
                    return Ok(Run::Skipped);
                }
                Err(_) => {
                    self.record_failure(key, &job, now, "the handler panicked".to_string()).await?;
                    return Ok(Run::Skipped);
                }
            };
            let JobContext { request, actions } = ctx;
            let tx = request.tx;
            let mut actions = actions.into_inner().unwrap_or_else(|p| p.into_inner());
            // The job's removal alone is no effect; any other write is, and is audited.
            if actions.is_empty() && tx.write_count() > 1 {
                actions.push((handler.kind(), job.payload.clone()));
            }
            for (event_name, parameters) in &actions {
                let action = ServiceAction {
                    service: handler.service(),
                    event_name,
                    scope: &job.scope,
                    principal: &principal,
                    origin,
                    time: now,
                    parameters,
                };
                env.invoker.record_action(&tx, &action);
            }
            if let JobOutcome::RunAgainAt(at) = outcome {
                let due = at.max(Timestamp(now.millis().saturating_add(1)));
                let next = JobRecord { due, attempts: 0, not_before: None, last_error: None, ..job.clone() };
                tx.put_record(&job_storage_key(due, &job.id), &next);
            }
            match retry.commit(&*env.store, &env.ids, tx.take_batch()).await {
                Ok(Committed::Done) => return Ok(Run::Committed),
                Ok(Committed::RunAgain) => {
                    tracing::debug!(kind = job.kind, id = job.id, "job commit conflicted; re-reading");
                }
                Err(e) => {
                    tracing::warn!(key, error = %e, "job still contended or not committed; leaving it for the next pass");
                    return Ok(Run::Skipped);
                }
            }
        }
    }

    /// A failed run: nothing of it committed; count the attempt and back off.
    async fn record_failure(
        &self,
        key: &str,
        job: &JobRecord,
        now: Timestamp,
        message: String,
    ) -> Result<(), StoreError> {
        let attempts = job.attempts.saturating_add(1);
        let delay = retry_delay_ms(attempts);
        tracing::warn!(kind = job.kind, id = job.id, attempts, retry_in_ms = delay, error = message, "job failed");
        self.postpone(key, now, delay, Some(message)).await
    }

    /// Sets the job's `not_before` in a commit of its own (and, after a failure, counts the
    /// attempt). A conflict means another runner or a cancel got there first: nothing to do.
    async fn postpone(
        &self,
        key: &str,
        now: Timestamp,
        delay_ms: i64,
        failure: Option<String>,
    ) -> Result<(), StoreError> {
        let tx = Tx::new(self.env.store.clone());
        let Some(mut job) = tx.get_record::<JobRecord>(key).await? else {
            return Ok(());
        };
        if let Some(message) = failure {
            job.attempts = job.attempts.saturating_add(1);
            job.last_error = Some(message);
        }
        job.not_before = Some(Timestamp(now.millis().saturating_add(delay_ms)));
        tx.put_record(key, &job);
        match self.env.store.commit(tx.take_batch()).await {
            Ok(()) | Err(StoreError::Conflict(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// 2 s after the first failure, doubling per failure, at most [`MAX_RETRY_DELAY_MS`].
fn retry_delay_ms(attempts: u32) -> i64 {
    1000_i64.saturating_mul(1_i64 << attempts.min(20)).min(MAX_RETRY_DELAY_MS)
}

#[cfg(test)]
mod tests;
