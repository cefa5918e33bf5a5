//! Committing a unit of work, and running it again when it conflicted: one policy for requests,
//! internal calls and jobs alike.
//!
//! A commit conflicts when a key the unit of work read changed before it committed. The work is
//! then run again from the start, on fresh reads, after a random pause that grows with each
//! conflict, so that calls colliding on one key spread out instead of colliding again.

use crate::error::{CommonError, CommonKind};
use crate::ids::IdGen;
use ingot_store::{Batch, Store, StoreError};
use std::time::Duration;

/// Attempts of one unit of work before the caller gets `ServiceUnavailable`. Many clients
/// creating parameters at once collide on shared counters; too few attempts turn that ordinary
/// contention into errors AWS would not give.
pub const MAX_ATTEMPTS: u32 = 20;

/// How a commit ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Committed {
    /// The batch is durable.
    Done,
    /// It conflicted; the pause is over: run the work again.
    RunAgain,
}

/// Counts the attempts of one unit of work.
#[derive(Debug, Default)]
pub struct ConflictRetry {
    attempt: u32,
}

impl ConflictRetry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Commits `batch`. On a conflict, pauses and answers [`Committed::RunAgain`] until the
    /// attempts are used up, then `ServiceUnavailable`; a store failure is an internal error.
    /// Times each commit in `ingot_commit_duration_seconds` and counts conflicts in
    /// `ingot_commit_conflicts_total`.
    pub async fn commit(&mut self, store: &dyn Store, ids: &IdGen, batch: Batch) -> Result<Committed, CommonError> {
        let started = std::time::Instant::now();
        let committed = store.commit(batch).await;
        metrics::histogram!("ingot_commit_duration_seconds").record(started.elapsed());
        match committed {
            Ok(()) => Ok(Committed::Done),
            Err(StoreError::Conflict(key)) => {
                metrics::counter!("ingot_commit_conflicts_total").increment(1);
                self.attempt += 1;
                if self.attempt >= MAX_ATTEMPTS {
                    tracing::warn!(%key, "commit kept conflicting");
                    return Err(CommonError::new(
                        CommonKind::ServiceUnavailable,
                        "The request conflicted with concurrent changes; try again.",
                    ));
                }
                tracing::debug!(%key, attempt = self.attempt, "commit conflicted; running the work again");
                tokio::time::sleep(backoff(ids, self.attempt)).await;
                Ok(Committed::RunAgain)
            }
            Err(e) => Err(CommonError::internal(e)),
        }
    }
}

/// A random pause before run `conflicts + 1`, its ceiling doubling with each conflict (up to
/// about 51 ms).
fn backoff(ids: &IdGen, conflicts: u32) -> Duration {
    let bytes = ids.bytes(2);
    let jitter = u64::from(u16::from_le_bytes([bytes[0], bytes[1]]));
    let ceiling_us = 100u64 << conflicts.min(9);
    Duration::from_micros(jitter % ceiling_us)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_stay_under_a_ceiling_that_doubles_per_conflict() {
        let ids = IdGen::seeded(7);
        for conflicts in 1..30 {
            let ceiling = Duration::from_micros(100u64 << conflicts.min(9));
            assert!(backoff(&ids, conflicts) < ceiling);
        }
    }
}
