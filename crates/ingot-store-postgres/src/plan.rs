//! A commit: the batch turned into the arguments of the SQL function `ingot_commit` (a [`Plan`]),
//! the call, plans merged for a group commit, and how a failed call is classified.
//!
//! A commit is one READ COMMITTED transaction that is correct across replicas because of locks,
//! not isolation level:
//!
//! - keys a batch reads with an expectation but does not write are locked with
//!   `SELECT … FOR UPDATE` (in key order, so two commits lock in the same order) and checked
//!   against the locked rows; keys it writes expecting a version are swapped by an upsert whose
//!   update applies only at that version (its row lock is the lock), and keys it writes expecting
//!   absence are inserted only if absent (`ON CONFLICT DO NOTHING`, waiting for a racing insert);
//! - a row that does not exist cannot be locked, so keys whose *absence* matters (`Absent` checks)
//!   and every key a batch puts (which may create it) take a transaction-level advisory lock on a
//!   stable 64-bit hash of the key first. Two commits that could disagree about a key's existence
//!   therefore serialize, and so do any two puts of one key; a hash collision only makes two
//!   unrelated commits wait for each other;
//! - a unique violation (from a writer that does not take these locks) still maps to
//!   [`StoreError::Conflict`].
//!
//! Versions come from the sequence `kv_version`: the insert takes `nextval` for each row, and the
//! `ON CONFLICT DO UPDATE` path keeps that value (`EXCLUDED.version`), or, for a swap, takes one
//! when it updates. A sequence gives each value out once, to whichever replica asks, and never
//! goes back, even when the transaction that took a value rolls back (gaps are expected), so no
//! version is ever given twice. Per key, versions grow strictly — across a delete and re-create
//! too — because a put holds the key's advisory lock from before it takes its value until its
//! transaction ends: every earlier put of the key took its value before it committed, so before
//! this one's. Without the lock on every put, a put expecting a version (row lock only) and a put
//! expecting nothing (advisory lock only) could take their values in one order and apply them in
//! the other.
//!
//! All of this happens inside one call of `ingot_commit`, run as its own implicit transaction: a
//! commit costs one round trip plus its WAL flush, and the function runs as few statements as it
//! can, because each statement costs PostgreSQL more than the rows it writes. Its current text is
//! the last migration that creates it (`migrations.rs`). In order, it:
//!
//! - takes the shared side of the lease lock (`lease.rs`), then the advisory locks of the keys,
//!   in one statement (PostgreSQL evaluates the list in order; the other order could only add
//!   deadlocks with a replica taking the lease, which are retried);
//! - locks, in key order, the rows of keys checked before any write and checks their
//!   expectations in batch order (a NULL version means absent); then runs the deletes or, when the
//!   batch writes a key twice, its writes one by one in batch order (the multi-row statements
//!   cannot touch a row twice);
//! - runs the rest in one statement. The write parts touch disjoint keys, so running them together
//!   on one snapshot is running them in turn. Keys expected at a version are swapped: an upsert
//!   whose update applies only where that version is stored, which replaces locking, checking and
//!   writing them; a row it inserted (the key was absent) carries the expected version, which no
//!   updated row can, so either that, or a row neither inserted nor updated, is a violated
//!   expectation. Keys expected absent are inserted with `DO NOTHING`: a row that was there is not
//!   returned, which names the batch exactly (a unique violation would fail a whole group). Then
//!   the upserts, the outbox rows (`outbox.rs`), and a look at the lease row: read on a snapshot
//!   taken after the shared lease lock, it shows any holder that took the lease before this
//!   transaction could write, and as the lock is held to the end, checking after the writes is as
//!   good as checking first. Only another replica's lease needs `ingot_lease_check`;
//! - returns the keys it inserted, swapped or upserted with the versions they took, so that the
//!   lease holder can keep what it wrote in its read cache.
//!
//! A violated expectation raises SQLSTATE `IGC01` with the key as the message, which undoes the
//! call. Concurrent commits whose batches touch disjoint keys share one call, and so one
//! transaction (`group.rs`).

use crate::lease;
use crate::locks::Locks;
use crate::pool::{connection_lost, describe, PgConn, Pool};
use crate::MAX_ATTEMPTS;
use ingot_store::backend::ReadCache;
use ingot_store::{Batch, Expect, Item, StoreError};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

/// The SQLSTATE `ingot_commit` raises when an expectation does not hold; the message is the key.
const SQLSTATE_CONFLICT: &str = "IGC01";

const SQL_COMMIT: &str = "SELECT written_keys, written_versions FROM ingot_commit($1::int8[], $2::int8[], \
     $3::bytea[], $4::bytea[], $5::bytea[], $6::int8[], $7::bytea[], $8::bytea[], $9::bytea[], $10::bytea[], \
     $11::bytea[], $12::bytea[], $13::int8[], $14::bytea[], $15::bytea[], $16::bytea[], $17::text[], \
     $18::bytea[], $19::int4[])";

/// How a commit attempt failed: worth another attempt, or final.
pub(crate) enum Failure {
    Retry(String),
    Fail(StoreError),
    /// `ingot_commit` found an expectation that does not hold: the key. Nothing was committed.
    Violated(String),
    /// The connection was lost with the commit in flight: it may or may not have happened.
    Unknown(String),
    /// Another replica holds the cache lease (`lease.rs`): the holder. Nothing was written.
    LeaseHeld(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Fail(e)
    }
}

/// The keys a commit inserted or upserted, with the versions they took.
pub(crate) type Versions = HashMap<Vec<u8>, i64>;

/// One commit attempt on `conn`: one call of `ingot_commit`, which is its own transaction.
pub(crate) async fn try_commit(conn: &mut PgConn, plan: &Plan) -> Result<Versions, Failure> {
    let statement = match conn.statement(SQL_COMMIT).await {
        Ok(statement) => statement,
        // Nothing was sent yet: a connection found dead is simply replaced.
        Err(e) if conn.lost() => return Err(Failure::Retry(e.to_string())),
        Err(e) => return Err(Failure::Fail(e)),
    };
    let params: [&(dyn ToSql + Sync); 19] = [
        &plan.key_locks,
        &plan.shared_key_locks,
        &plan.locked_keys,
        &plan.share_locked_keys,
        &plan.expect_keys,
        &plan.expect_versions,
        &plan.deletes,
        &plan.new_keys,
        &plan.new_values,
        &plan.upsert_keys,
        &plan.upsert_values,
        &plan.swap_keys,
        &plan.swap_versions,
        &plan.swap_values,
        &plan.ordered_keys,
        &plan.ordered_values,
        &plan.topics,
        &plan.payloads,
        &plan.entry_counts,
    ];
    match conn.client.query_one(&statement, &params).await {
        Ok(row) => {
            // The commit is durable whatever follows: a result that does not decode (it cannot,
            // the types are the function's) only means nothing is kept in the cache.
            let keys: Vec<Vec<u8>> = row.try_get(0).ok().flatten().unwrap_or_default();
            let versions: Vec<i64> = row.try_get(1).ok().flatten().unwrap_or_default();
            Ok(keys.into_iter().zip(versions).collect())
        }
        Err(e) => {
            if connection_lost(&e) {
                conn.broken = true;
            }
            if let Some(holder) = lease::held_by(&e) {
                return Err(Failure::LeaseHeld(holder));
            }
            match e.as_db_error() {
                Some(db) if db.code().code() == SQLSTATE_CONFLICT => Err(Failure::Violated(db.message().to_string())),
                // The server reported why it stopped, so nothing was committed.
                Some(_) if connection_lost(&e) => Err(Failure::Retry(describe(&e))),
                Some(_) => Err(plan.classify(&e)),
                // The connection dropped with the call in flight: it may or may not have run.
                None => Err(Failure::Unknown(format!(
                    "postgres connection lost during commit, outcome unknown: {}",
                    describe(&e)
                ))),
            }
        }
    }
}

/// Commits one batch in a transaction of its own, running it again after deadlocks and
/// serialization failures.
pub(crate) async fn commit_alone(pool: &Pool, plan: &Plan) -> Result<Versions, StoreError> {
    let mut attempt = 1;
    let mut lease_waits = 0;
    loop {
        let outcome = {
            let mut pooled = pool.get().await?;
            try_commit(pooled.conn()?, plan).await
        };
        match outcome {
            Ok(versions) => return Ok(versions),
            Err(Failure::Violated(key)) => return Err(StoreError::Conflict(key)),
            Err(Failure::Fail(e)) => return Err(e),
            Err(Failure::Unknown(e)) => return Err(StoreError::Backend(e)),
            Err(Failure::LeaseHeld(holder)) => lease::wait_out(pool, &holder, &mut lease_waits).await?,
            Err(Failure::Retry(e)) if attempt >= MAX_ATTEMPTS => {
                return Err(StoreError::Backend(format!("postgres commit failed {attempt} times: {e}")))
            }
            Err(Failure::Retry(e)) => {
                tracing::debug!(attempt, error = %e, "retrying postgres commit");
                tokio::time::sleep(Duration::from_millis(1 << attempt)).await;
                attempt += 1;
            }
        }
    }
}

/// A version as the database holds it. Versions fit BIGINT (they come from the store's sequence);
/// a larger one can match no row, which `i64::MAX` reproduces.
fn db_version(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

/// Deadlocks (lock order between row locks, unique-index waits and advisory locks is not total)
/// and serialization failures say nothing about the batch; the same batch may succeed when run
/// again, and its expectations are re-checked when it is.
pub(crate) fn is_retryable(e: &tokio_postgres::Error) -> bool {
    matches!(e.code(), Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED)
}

/// A batch as the arguments of `ingot_commit`.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Advisory lock ids of keys whose existence matters and of every key put, sorted and
    /// deduplicated; taken exclusively.
    key_locks: Vec<i64>,
    /// The same for keys the batch only checks (expects absent) and does not write: taken
    /// shared, so that commits checking one key do not wait for each other (migration 10).
    shared_key_locks: Vec<i64>,
    /// The keys of `expect_keys` the batch writes, sorted and deduplicated: rows are locked in
    /// this order, `FOR UPDATE`.
    locked_keys: Vec<Vec<u8>>,
    /// The keys of `expect_keys` the batch only checks, sorted and deduplicated: locked
    /// `FOR SHARE`.
    share_locked_keys: Vec<Vec<u8>>,
    /// The expectations checked against the state before the batch, in batch order (checks,
    /// then writes): every non-`Any` one but those of the swaps and inserts below (unless the
    /// batch writes a key twice); `None` means the key must be absent.
    expect_keys: Vec<Vec<u8>>,
    expect_versions: Vec<Option<i64>>,
    deletes: Vec<Vec<u8>>,
    /// Writes expecting `Absent`: inserted only where no row is, a row that was there is a
    /// violated expectation.
    new_keys: Vec<Vec<u8>>,
    new_values: Vec<Vec<u8>>,
    /// Writes expecting nothing.
    upsert_keys: Vec<Vec<u8>>,
    upsert_values: Vec<Vec<u8>>,
    /// Writes expecting a version: applied only where that version is stored.
    swap_keys: Vec<Vec<u8>>,
    swap_versions: Vec<i64>,
    swap_values: Vec<Vec<u8>>,
    /// Used instead of the arrays above when a key is written more than once (the multi-row
    /// statements cannot touch a row twice): every write in batch order, `None` deleting.
    ordered_keys: Vec<Vec<u8>>,
    ordered_values: Vec<Option<Vec<u8>>>,
    /// Outbox rows: a topic, a payload and how many entries it holds
    /// ([`crate::outbox::frame_entries`]).
    topics: Vec<String>,
    payloads: Vec<Vec<u8>>,
    entry_counts: Vec<i32>,
}

impl Plan {
    /// Builds the plan, consuming the batch so values are moved rather than copied.
    pub(crate) fn new(batch: Batch, locks: Locks) -> Plan {
        let mut plan = Plan::default();
        let mut key_locks = Vec::new();
        let mut shared_key_locks = Vec::new();
        let mut expectations = Vec::new();
        let written: HashSet<String> = batch.writes.iter().map(|w| w.key.clone()).collect();
        for (key, expect) in batch.checks {
            if expect == Expect::Absent {
                let lock = locks.key(key.as_bytes());
                if written.contains(&key) {
                    key_locks.push(lock);
                } else {
                    shared_key_locks.push(lock);
                }
            }
            if expect != Expect::Any {
                expectations.push((key.into_bytes(), expect));
            }
        }
        let duplicates = {
            let mut seen = HashSet::with_capacity(batch.writes.len());
            !batch.writes.iter().all(|w| seen.insert(w.key.as_str()))
        };
        let (mut new, mut upserts, mut swaps) = (Vec::new(), Vec::new(), Vec::new());
        for write in batch.writes {
            // Existence matters for an `Absent` expectation and for a put, which may create the
            // key. Every put takes the lock, whatever its expectation, so that all puts of a key
            // take their versions one after the other (see the module documentation).
            if write.expect == Expect::Absent || write.value.is_some() {
                key_locks.push(locks.key(write.key.as_bytes()));
            }
            let key = write.key.into_bytes();
            // Inserts and swaps check their own expectation as they write; deletes and the
            // batch-ordered writes are checked before.
            let checked_before = duplicates || write.value.is_none();
            if checked_before && write.expect != Expect::Any {
                expectations.push((key.clone(), write.expect));
            }
            match (write.value, write.expect) {
                (value, _) if duplicates => {
                    plan.ordered_keys.push(key);
                    plan.ordered_values.push(value);
                }
                (None, _) => plan.deletes.push(key),
                (Some(value), Expect::Absent) => new.push((key, value)),
                (Some(value), Expect::Version(v)) => swaps.push((key, db_version(v), value)),
                (Some(value), Expect::Any) => upserts.push((key, value)),
            }
        }
        // Rows are locked in the order statements reach them; sorted arrays give concurrent
        // commits one lock order, which avoids most deadlocks (the rest are retried).
        plan.deletes.sort();
        new.sort_by(|a, b| a.0.cmp(&b.0));
        upserts.sort_by(|a, b| a.0.cmp(&b.0));
        (plan.new_keys, plan.new_values) = new.into_iter().unzip();
        (plan.upsert_keys, plan.upsert_values) = upserts.into_iter().unzip();
        plan.set_swaps(swaps);
        key_locks.sort_unstable();
        key_locks.dedup();
        shared_key_locks.sort_unstable();
        shared_key_locks.dedup();
        // A key the batch also writes is locked exclusively only.
        shared_key_locks.retain(|lock| key_locks.binary_search(lock).is_err());
        plan.key_locks = key_locks;
        plan.shared_key_locks = shared_key_locks;
        let (mut locked, mut share_locked): (Vec<Vec<u8>>, Vec<Vec<u8>>) = expectations
            .iter()
            .map(|(k, _)| k.clone())
            .partition(|k| std::str::from_utf8(k).is_ok_and(|k| written.contains(k)));
        locked.sort();
        locked.dedup();
        share_locked.sort();
        share_locked.dedup();
        plan.locked_keys = locked;
        plan.share_locked_keys = share_locked;
        for (key, expect) in expectations {
            plan.expect_keys.push(key);
            plan.expect_versions.push(match expect {
                Expect::Version(v) => Some(db_version(v)),
                _ => None,
            });
        }
        for entry in batch.outbox {
            plan.topics.push(entry.topic);
            plan.payloads.push(entry.payload);
            plan.entry_counts.push(1);
        }
        plan
    }

    /// The plan's outbox entries with their topics, one by one (a plan built by [`Plan::new`]
    /// holds one entry per row).
    fn outbox_entries(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.topics.iter().map(String::as_str).zip(self.payloads.iter().map(Vec::as_slice))
    }

    /// Sets the swaps, sorted by key like every other write (one lock order for all commits).
    fn set_swaps(&mut self, mut swaps: Vec<(Vec<u8>, i64, Vec<u8>)>) {
        swaps.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, version, value) in swaps {
            self.swap_keys.push(key);
            self.swap_versions.push(version);
            self.swap_values.push(value);
        }
    }

    /// Whether the batch writes a key twice, so its writes run one by one in batch order.
    pub(crate) fn writes_in_order(&self) -> bool {
        !self.ordered_keys.is_empty()
    }

    /// Every key the batch writes (puts and deletes).
    pub(crate) fn written_keys(&self) -> impl Iterator<Item = &[u8]> {
        self.deletes
            .iter()
            .chain(&self.new_keys)
            .chain(&self.upsert_keys)
            .chain(&self.swap_keys)
            .chain(&self.ordered_keys)
            .map(Vec::as_slice)
    }

    /// The keys the batch checks and does not write (what it read to decide: an authorization
    /// decision's policies, say).
    pub(crate) fn checked_only_keys(&self) -> impl Iterator<Item = &[u8]> {
        self.expect_keys.iter().map(Vec::as_slice).filter(|key| !self.written_keys().any(|w| w == *key))
    }

    /// The written keys as text (keys come from `String`s, so all of them). Only these matter to
    /// the read cache: a key the batch only checks keeps its value whatever the outcome, so a
    /// cached copy of it stays exact (forgetting it made every call that checks an authorization
    /// record read it again from the database while any commit was in flight).
    fn written_text(&self) -> impl Iterator<Item = &str> {
        self.written_keys().filter_map(|key| std::str::from_utf8(key).ok())
    }

    /// Tells `cache` the batch is about to be committed: the keys it writes are not cached
    /// meanwhile.
    pub(crate) fn begin_cached_write(&self, cache: &ReadCache) {
        cache.begin_write(self.written_text());
    }

    /// Forgets every key the batch writes from `cache`, after its commit (whatever the outcome:
    /// a failed one costs a miss) and before anyone hears of it, so no later read is served an
    /// older value.
    pub(crate) fn end_cached_write(&self, cache: &ReadCache) {
        cache.end_write(self.written_text());
    }

    /// [`Plan::end_cached_write`] after the batch committed, keeping in `cache` the values it
    /// inserted or swapped with the `versions` they took when `keep` (this replica holds the
    /// cache lease). Upserts are not kept: nothing read them before writing (a new version
    /// record, a child marker), most are never read again, and kept they would fill the cache
    /// with write-once keys and push out the ones read-modify-writes come back to.
    pub(crate) fn end_cached_write_keeping(mut self, cache: &ReadCache, versions: &Versions, keep: bool) {
        if !keep {
            return self.end_cached_write(cache);
        }
        let new = self.new_keys.iter().zip(std::mem::take(&mut self.new_values));
        let swaps = self.swap_keys.iter().zip(std::mem::take(&mut self.swap_values));
        let written = new
            .chain(swaps)
            .filter_map(|(key, value)| {
                let version = u64::try_from(*versions.get(key)?).ok()?;
                Some((String::from_utf8(key.clone()).ok()?, Item { version, value }))
            })
            .collect();
        cache.end_write_keeping(self.written_text(), written);
    }

    /// Whether the batch has an expectation on `key` that `ingot_commit` can find violated.
    pub(crate) fn expects(&self, key: &[u8]) -> bool {
        self.expect_keys.iter().chain(&self.swap_keys).any(|k| k == key)
    }

    /// One plan doing what `plans` do one after another, for batches that touch pairwise
    /// disjoint keys and write no key twice: then every expectation can be checked against the
    /// state before all of them, and the writes applied together. Outbox rows keep the plans'
    /// order.
    pub(crate) fn merge<'a>(plans: impl IntoIterator<Item = &'a Plan>) -> Plan {
        let mut merged = Plan::default();
        let (mut new, mut upserts, mut swaps) = (Vec::new(), Vec::new(), Vec::new());
        // One outbox row per topic (migration 9), its entries in group order.
        let mut topics: Vec<(&str, Vec<&[u8]>)> = Vec::new();
        for plan in plans {
            debug_assert!(!plan.writes_in_order(), "plans that write a key twice are committed alone");
            merged.key_locks.extend_from_slice(&plan.key_locks);
            merged.shared_key_locks.extend_from_slice(&plan.shared_key_locks);
            merged.locked_keys.extend_from_slice(&plan.locked_keys);
            merged.share_locked_keys.extend_from_slice(&plan.share_locked_keys);
            merged.expect_keys.extend_from_slice(&plan.expect_keys);
            merged.expect_versions.extend_from_slice(&plan.expect_versions);
            merged.deletes.extend_from_slice(&plan.deletes);
            new.extend(plan.new_keys.iter().cloned().zip(plan.new_values.iter().cloned()));
            upserts.extend(plan.upsert_keys.iter().cloned().zip(plan.upsert_values.iter().cloned()));
            let versions = plan.swap_keys.iter().cloned().zip(plan.swap_versions.iter().copied());
            swaps.extend(versions.zip(plan.swap_values.iter().cloned()).map(|((k, v), value)| (k, v, value)));
            for (topic, entry) in plan.outbox_entries() {
                match topics.iter_mut().find(|(t, _)| *t == topic) {
                    Some((_, entries)) => entries.push(entry),
                    None => topics.push((topic, vec![entry])),
                }
            }
        }
        for (topic, entries) in topics {
            merged.topics.push(topic.to_owned());
            merged.entry_counts.push(i32::try_from(entries.len()).unwrap_or(i32::MAX));
            merged.payloads.push(match entries.as_slice() {
                [one] => one.to_vec(),
                many => crate::outbox::frame_entries(many),
            });
        }
        // The same lock order as a single plan's: sorted ids, sorted keys.
        merged.key_locks.sort_unstable();
        merged.key_locks.dedup();
        merged.shared_key_locks.sort_unstable();
        merged.shared_key_locks.dedup();
        merged.locked_keys.sort();
        merged.locked_keys.dedup();
        merged.share_locked_keys.sort();
        merged.share_locked_keys.dedup();
        merged.deletes.sort();
        new.sort_by(|a, b| a.0.cmp(&b.0));
        upserts.sort_by(|a, b| a.0.cmp(&b.0));
        (merged.new_keys, merged.new_values) = new.into_iter().unzip();
        (merged.upsert_keys, merged.upsert_values) = upserts.into_iter().unzip();
        merged.set_swaps(swaps);
        merged
    }

    /// Classifies a statement failure of a commit attempt.
    fn classify(&self, e: &tokio_postgres::Error) -> Failure {
        if is_retryable(e) {
            return Failure::Retry(describe(e));
        }
        if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            // Migration 6 inserts keys expected absent with `DO NOTHING`, so this comes from an
            // older `ingot_commit` or a batch-ordered write racing a writer without key locks.
            let key = self.new_keys.first().map(|k| String::from_utf8_lossy(k).into_owned()).unwrap_or_default();
            return Failure::Fail(StoreError::Conflict(key));
        }
        Failure::Fail(StoreError::Backend(format!("postgres commit: {}", describe(e))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{begin_outside_the_store, in_test_schema};
    use ingot_store::{OutboxEntry, Store, Write};

    fn write(key: &str, value: Option<&str>, expect: Expect) -> Write {
        Write { key: key.into(), value: value.map(|v| v.as_bytes().to_vec()), expect }
    }

    #[test]
    fn plans_sort_writes_and_lock_keys_that_are_put_or_whose_existence_matters_sharing_those_only_checked() {
        let locks = Locks::new(Some("s"));
        let batch = Batch {
            checks: vec![
                ("c/absent".into(), Expect::Absent),
                ("c/v".into(), Expect::Version(3)),
                ("c/any".into(), Expect::Any),
            ],
            writes: vec![
                write("w/z", Some("1"), Expect::Any),
                write("w/new", Some("2"), Expect::Absent),
                write("w/a", Some("3"), Expect::Any),
                write("w/ver", Some("4"), Expect::Version(1)),
                write("w/del", None, Expect::Version(2)),
                write("w/gone", None, Expect::Absent),
                write("w/drop", None, Expect::Any),
            ],
            outbox: vec![OutboxEntry { topic: "t".into(), payload: vec![9] }],
        };
        let plan = Plan::new(batch, locks);
        let b = |s: &str| s.as_bytes().to_vec();
        // Inserts and swaps check their own expectations as they write.
        assert_eq!(plan.expect_keys, vec![b("c/absent"), b("c/v"), b("w/del"), b("w/gone")]);
        assert_eq!(plan.expect_versions, vec![None, Some(3), Some(2), None]);
        // Rows the batch writes are locked for update, rows it only checks for share.
        assert_eq!(plan.locked_keys, vec![b("w/del"), b("w/gone")]);
        assert_eq!(plan.share_locked_keys, vec![b("c/absent"), b("c/v")]);
        let mut key_locks: Vec<i64> =
            ["w/z", "w/new", "w/a", "w/ver", "w/gone"].iter().map(|k| locks.key(k.as_bytes())).collect();
        key_locks.sort_unstable();
        assert_eq!(plan.key_locks, key_locks);
        assert_eq!(plan.shared_key_locks, vec![locks.key(b"c/absent")]);
        assert_eq!(plan.deletes, vec![b("w/del"), b("w/drop"), b("w/gone")]);
        assert_eq!((plan.new_keys, plan.new_values), (vec![b("w/new")], vec![b("2")]));
        assert_eq!(plan.upsert_keys, vec![b("w/a"), b("w/z")]);
        assert_eq!(plan.upsert_values, vec![b("3"), b("1")]);
        assert_eq!((plan.swap_keys, plan.swap_versions, plan.swap_values), (vec![b("w/ver")], vec![1], vec![b("4")]));
        assert!(plan.ordered_keys.is_empty() && plan.ordered_values.is_empty());
        assert_eq!((plan.topics, plan.payloads), (vec!["t".to_string()], vec![vec![9]]));
    }

    #[test]
    fn a_key_written_twice_switches_the_plan_to_in_order_writes() {
        let batch = Batch {
            writes: vec![
                write("k", Some("a"), Expect::Absent),
                write("j", None, Expect::Any),
                write("k", Some("b"), Expect::Any),
            ],
            ..Batch::default()
        };
        let plan = Plan::new(batch, Locks::new(None));
        assert!(plan.deletes.is_empty() && plan.new_keys.is_empty() && plan.upsert_keys.is_empty());
        assert_eq!(plan.ordered_keys, vec![b"k".to_vec(), b"j".to_vec(), b"k".to_vec()]);
        assert_eq!(plan.ordered_values, vec![Some(b"a".to_vec()), None, Some(b"b".to_vec())]);
    }

    #[tokio::test]
    async fn an_insert_racing_an_absent_expectation_is_a_conflict() {
        in_test_schema(|store, url, schema| async move {
            // A writer that does not take Ingot's key locks inserts the key and has not committed.
            let raw = begin_outside_the_store(&url, &schema, "INSERT INTO kv VALUES ('\\x6b', 1, '\\x00')").await;
            let racing = tokio::spawn({
                let store = store.clone();
                async move {
                    store
                        .commit(Batch { writes: vec![write("k", Some("mine"), Expect::Absent)], ..Batch::default() })
                        .await
                }
            });
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(!racing.is_finished(), "the insert should wait for the uncommitted row");
            raw.batch_execute("COMMIT").await.unwrap();
            assert!(matches!(racing.await.unwrap(), Err(StoreError::Conflict(k)) if k == "k"));
            assert_eq!(store.get("k").await.unwrap().map(|i| i.value), Some(vec![0]));
        })
        .await;
    }
}
