//! Running due jobs: exactly once per job, in due order, on any number of replicas.

use crate::job::{due_of_key, job_storage_key, JobRecord, JOBS_PREFIX};
use async_trait::async_trait;
use ingot_core::crypto::SecretBox;
use ingot_core::{Clock, IdGen, Timestamp};
use ingot_store::{decode_record, Store, StoreError, Tx};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

/// Longest wait between two attempts of a failing job.
pub const MAX_RETRY_DELAY_MS: i64 = 60 * 60 * 1000;

/// How long a job of a kind this replica has no handler for waits before it is looked at again
/// (a newer replica may know the kind).
pub const UNKNOWN_KIND_DELAY_MS: i64 = 60 * 1000;

/// Jobs read per scan page.
const PAGE: usize = 64;

/// Times one job's run is repeated when its commit conflicts and the job is still there (the
/// handler's reads raced a request): as many as the gateway retries a request.
const CONFLICT_RETRIES: usize = 8;

/// What a handler sees when it runs a job.
pub struct JobContext {
    /// The job's unit of work. The job's removal from the queue is already in it; the handler
    /// reads and writes through it, and everything commits together after the handler returns
    /// `Ok` (nothing commits after `Err`). The handler may schedule further jobs in it.
    pub tx: Tx,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<IdGen>,
    pub secrets: Arc<SecretBox>,
    /// The clock reading when the runner's pass started (at or after the job's due time).
    pub now: Timestamp,
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
    /// Runs one job. `Err` discards the unit of work and retries the job later with exponential
    /// backoff; the message is logged and kept on the job.
    async fn run(&self, job: &JobRecord, ctx: &JobContext) -> Result<JobOutcome, String>;
}

/// Runs due jobs from the store's queue.
pub struct JobRunner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: Arc<IdGen>,
    secrets: Arc<SecretBox>,
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
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ids: Arc<IdGen>,
        secrets: Arc<SecretBox>,
        handlers: Vec<Arc<dyn JobHandler>>,
    ) -> Self {
        let mut by_kind: HashMap<&'static str, Arc<dyn JobHandler>> = HashMap::new();
        for handler in handlers {
            let kind = handler.kind();
            if by_kind.contains_key(kind) {
                tracing::warn!(kind, "a second job handler for the same kind is ignored");
                continue;
            }
            by_kind.insert(kind, handler);
        }
        JobRunner { store, clock, ids, secrets, handlers: by_kind }
    }

    /// Runs every job due now (due time at or before the clock), in due order, and returns how
    /// many runs committed. A job another runner ran meanwhile is skipped; a failing job is
    /// retried later. Errs only when the store fails.
    pub async fn run_due(&self) -> Result<usize, StoreError> {
        self.run_pass(None).await
    }

    /// Runs [`JobRunner::run_due`] every `poll`, and at once whenever `wake` is notified (the
    /// gateway notifies it when clock control moves the clock), until `shutdown` turns true or its
    /// sender is dropped. Shutdown lets the job in progress finish and starts no other.
    pub fn spawn(
        self: Arc<Self>,
        poll: Duration,
        wake: Arc<Notify>,
        mut shutdown: watch::Receiver<bool>,
    ) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if *shutdown.borrow_and_update() {
                    break;
                }
                // Registered before the pass, so a notification during the pass is not lost.
                let notified = wake.notified();
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
        let now = self.clock.now();
        let mut committed = 0;
        let mut after: Option<String> = None;
        loop {
            let page = self.store.scan(JOBS_PREFIX, after.as_deref(), PAGE).await?;
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

    /// Runs the job at `key` in its own unit of work, retrying when the commit conflicts while
    /// the job is still there.
    async fn run_one(&self, key: &str, now: Timestamp) -> Result<Run, StoreError> {
        for _ in 0..CONFLICT_RETRIES {
            let tx = Tx::new(self.store.clone());
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
            let ctx = Arc::new(JobContext {
                tx,
                clock: self.clock.clone(),
                ids: self.ids.clone(),
                secrets: self.secrets.clone(),
                now,
            });
            // In a task of its own, so a panicking handler fails its job, not the runner.
            let result = {
                let (job, ctx) = (job.clone(), ctx.clone());
                tokio::spawn(async move { handler.run(&job, &ctx).await }).await
            };
            let outcome = match result {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(message)) => {
                    self.record_failure(key, &job, now, message).await?;
                    return Ok(Run::Skipped);
                }
                Err(join_error) => {
                    let message =
                        if join_error.is_panic() { "the handler panicked" } else { "the handler was cancelled" };
                    self.record_failure(key, &job, now, message.to_string()).await?;
                    return Ok(Run::Skipped);
                }
            };
            if let JobOutcome::RunAgainAt(at) = outcome {
                let due = at.max(Timestamp(now.millis().saturating_add(1)));
                let next = JobRecord { due, attempts: 0, not_before: None, last_error: None, ..job.clone() };
                ctx.tx.put_record(&job_storage_key(due, &job.id), &next);
            }
            match self.store.commit(ctx.tx.take_batch()).await {
                Ok(()) => return Ok(Run::Committed),
                Err(StoreError::Conflict(on)) => {
                    tracing::debug!(kind = job.kind, id = job.id, key = on, "job commit conflicted; re-reading");
                }
                Err(e) => return Err(e),
            }
        }
        tracing::warn!(key, "job still contended after retries; leaving it for the next pass");
        Ok(Run::Skipped)
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
        let tx = Tx::new(self.store.clone());
        let Some(mut job) = tx.get_record::<JobRecord>(key).await? else {
            return Ok(());
        };
        if let Some(message) = failure {
            job.attempts = job.attempts.saturating_add(1);
            job.last_error = Some(message);
        }
        job.not_before = Some(Timestamp(now.millis().saturating_add(delay_ms)));
        tx.put_record(key, &job);
        match self.store.commit(tx.take_batch()).await {
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
