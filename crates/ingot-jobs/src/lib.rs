//! Durable timers and jobs: the one queue, kept in the store, behind everything Ingot does later
//! than the request that asked for it (workflows, event delivery, schedules, parameter policies,
//! simulated state changes).
//!
//! A job is written with [`schedule`] into the unit of work of the change that needs it, so it
//! exists exactly when that change committed. A [`JobRunner`] runs due jobs through the
//! [`JobHandler`] of their kind; a job's removal from the queue and the handler's writes commit in
//! one batch, so a job takes effect exactly once, also with several replicas on one database.
//!
//! It must not depend on HTTP, the gateway, the protocol codecs or any service crate: services
//! bring their handlers, and the binary wires them into the runner.

mod job;
mod runner;

pub use job::{cancel, job_storage_key, schedule, schedule_as, JobRecord, JobRef, JOBS_PREFIX};
pub use runner::{JobContext, JobError, JobHandler, JobOutcome, JobRunner, MAX_RETRY_DELAY_MS, UNKNOWN_KIND_DELAY_MS};
