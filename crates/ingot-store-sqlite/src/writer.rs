//! The writer thread: the only read-write connection, and every commit and reset through it.
//!
//! It drains every request already queued and runs them in one SQLite transaction (group
//! commit), each inside its own SAVEPOINT so that a batch whose expectations fail is rolled back
//! alone; one `COMMIT`, one WAL fsync, acknowledges the whole group. The store-wide version
//! counter (`kv_clock`) is read once per group under SQLite's write lock and stored before
//! `COMMIT`. Before any requester hears of its commit, the thread ends the commit's write in the
//! read cache, so no later read is served an older value.

use crate::{db_err, BUSY_TIMEOUT};
use ingot_store::backend::{expectation_holds, reset_gaps, version_from_db, ReadCache};
use ingot_store::{Batch, Expect, StoreError};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use tokio::sync::oneshot;

/// Most batches one SQLite transaction carries: bounds the work lost when a group fails as a whole
/// (a failed `COMMIT`) and the latency added for the first request of a large group.
const MAX_GROUP: usize = 256;

/// WAL pages (4 KiB each) after which the writer copies the WAL into the database file. SQLite's
/// default, 1,000, put a checkpoint and its fsyncs into every few commits, and their writes
/// made the next commits' WAL fsyncs wait; one checkpoint per 64 MiB of WAL did best under a
/// write load (see docs/benchmarks.md). A separate checkpointing connection was tried: PASSIVE
/// checkpoints cannot finish while commits keep arriving, so the WAL never restarted from them
/// and the writer still had to checkpoint.
const WRITER_AUTOCHECKPOINT_PAGES: i64 = 16_384;

/// Page cache of the writer connection, in KiB (SQLite's convention for negative sizes). The
/// writer touches pages all over the database; the default 2 MiB made it re-read them.
const WRITER_CACHE_KIB: i64 = 16 * 1024;

/// The shared atomics behind [`crate::SqliteStats`], updated by the writer thread.
#[derive(Default)]
pub(crate) struct StatCounters {
    pub(crate) transactions: AtomicU64,
    pub(crate) requests: AtomicU64,
}

/// What the writer thread is asked to do.
pub(crate) enum Op {
    Commit(Batch),
    Reset(Vec<String>),
}

/// One queued operation and where its outcome goes.
pub(crate) struct Request {
    pub(crate) op: Op,
    pub(crate) reply: oneshot::Sender<Result<(), StoreError>>,
}

/// Opens the read-write connection with the durability settings every commit relies on.
pub(crate) fn open(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(db_err("open"))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_err("busy_timeout"))?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)).map_err(db_err("journal_mode"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Backend(format!("sqlite refused WAL mode (got {mode})")));
    }
    // FULL: the WAL is fsynced at every commit, so an acknowledged commit survives power loss.
    conn.pragma_update(None, "synchronous", "FULL").map_err(db_err("synchronous"))?;
    conn.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)
        .map_err(db_err("wal_autocheckpoint"))?;
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB).map_err(db_err("cache_size"))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The writer thread: receives requests until every sender is gone, grouping whatever is queued.
pub(crate) fn run(conn: Connection, rx: mpsc::Receiver<Request>, stats: &StatCounters, cache: &ReadCache) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(request) => group.push(request),
                Err(_) => break,
            }
        }
        let (ops, replies): (Vec<Op>, Vec<_>) = group.into_iter().map(|r| (r.op, r.reply)).unzip();
        for op in &ops {
            if let Op::Commit(batch) = op {
                cache.begin_write(batch.writes.iter().map(|w| w.key.as_str()));
            }
        }
        let results = run_group(&conn, &ops);
        stats.transactions.fetch_add(1, Ordering::Relaxed);
        stats.requests.fetch_add(ops.len() as u64, Ordering::Relaxed);
        // Before anyone hears of the commit: no later read may be served an older cached value.
        // Keys a batch wrote are forgotten, committed or not (a failed batch changed nothing, so
        // that costs one miss at most). Keeping the written values instead (write-through) made
        // PutParameter faster but kept memory growing under a write load with a steady number of
        // entries; forgetting them keeps memory flat (see docs/benchmarks.md).
        for op in &ops {
            match op {
                Op::Commit(batch) => cache.end_write(batch.writes.iter().map(|w| w.key.as_str())),
                Op::Reset(_) => cache.clear(),
            }
        }
        for (reply, result) in replies.into_iter().zip(results) {
            // The requester may have gone away (cancelled request); its outcome is still durable.
            let _ = reply.send(result);
        }
    }
}

/// Runs `ops` in one transaction, each in its own savepoint, and commits once. Returns one
/// outcome per op; an op reported `Ok` is durable.
fn run_group(conn: &Connection, ops: &[Op]) -> Vec<Result<(), StoreError>> {
    let fail_all = |e: &StoreError| ops.iter().map(|_| Err(StoreError::Backend(e.to_string()))).collect::<Vec<_>>();
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        return fail_all(&e);
    }
    // Read under the write lock, so even a second process's writer cannot hand out the same values.
    let stored_clock = match read_clock(conn) {
        Ok(clock) => clock,
        Err(e) => {
            abort(conn);
            return fail_all(&e);
        }
    };
    let mut clock = stored_clock;
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        if let Err(e) = exec(conn, "SAVEPOINT batch") {
            abort(conn);
            return fail_all(&e);
        }
        let clock_before = clock;
        let outcome = match op {
            Op::Commit(batch) => apply_batch(conn, batch, &mut clock),
            Op::Reset(keep) => apply_reset(conn, keep),
        };
        let end = if outcome.is_ok() {
            exec(conn, "RELEASE batch")
        } else {
            // No row written with the batch's versions survives the rollback: reuse them.
            clock = clock_before;
            exec(conn, "ROLLBACK TO batch").and_then(|()| exec(conn, "RELEASE batch"))
        };
        // Some errors (I/O, full disk) make SQLite roll back the whole transaction; then the
        // batches already applied in this group are lost too and must not be acknowledged.
        if let Err(e) = end {
            abort(conn);
            return fail_all(&e);
        }
        if conn.is_autocommit() {
            let e = StoreError::Backend(format!(
                "sqlite rolled back the transaction: {}",
                outcome.as_ref().err().map_or_else(|| "unknown cause".to_string(), |e| e.to_string())
            ));
            return fail_all(&e);
        }
        if let Err(StoreError::Backend(e)) = &outcome {
            tracing::warn!(error = %e, "sqlite batch failed");
        }
        results.push(outcome);
    }
    if clock != stored_clock {
        if let Err(e) = write_clock(conn, clock) {
            abort(conn);
            return fail_all(&e);
        }
    }
    if let Err(e) = exec(conn, "COMMIT") {
        abort(conn);
        return fail_all(&e);
    }
    results
}

/// Runs one parameterless statement through the statement cache (savepoint and transaction
/// control run several times per group).
fn exec(conn: &Connection, sql: &'static str) -> Result<(), StoreError> {
    conn.prepare_cached(sql).and_then(|mut s| s.execute([])).map(|_| ()).map_err(db_err(sql))
}

/// The last version handed out (0: none yet).
fn read_clock(conn: &Connection) -> Result<i64, StoreError> {
    conn.prepare_cached("SELECT last FROM kv_clock WHERE id = 0")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(db_err("read version counter"))
}

/// Stores the last version handed out; runs in the group's transaction, before `COMMIT`.
fn write_clock(conn: &Connection, last: i64) -> Result<(), StoreError> {
    let updated = conn
        .prepare_cached("UPDATE kv_clock SET last = ?1 WHERE id = 0")
        .and_then(|mut s| s.execute([last]))
        .map_err(db_err("write version counter"))?;
    if updated == 1 {
        Ok(())
    } else {
        Err(StoreError::Backend("sqlite version counter row is missing".into()))
    }
}

/// Rolls back whatever is left of a failed group so the connection is usable for the next one.
fn abort(conn: &Connection) {
    if !conn.is_autocommit() {
        if let Err(e) = conn.execute_batch("ROLLBACK") {
            tracing::error!(error = %e, "sqlite rollback failed");
        }
    }
}

/// Checks every expectation against the state before the batch, then applies the writes and
/// appends the outbox entries. Every put takes the next value of `clock` as its version. Runs
/// inside the batch's savepoint, which the caller rolls back on any error.
fn apply_batch(conn: &Connection, batch: &Batch, clock: &mut i64) -> Result<(), StoreError> {
    let expectations = batch.checks.iter().map(|(k, e)| (k, *e)).chain(batch.writes.iter().map(|w| (&w.key, w.expect)));
    let mut version_of = conn.prepare_cached("SELECT version FROM kv WHERE key = ?1").map_err(db_err("prepare"))?;
    for (key, expect) in expectations {
        if expect == Expect::Any {
            continue;
        }
        let current: Option<i64> =
            version_of.query_row([key.as_bytes()], |r| r.get(0)).optional().map_err(db_err("read version"))?;
        let current = current.map(version_from_db).transpose()?;
        if !expectation_holds(expect, current) {
            return Err(StoreError::Conflict(key.clone()));
        }
    }
    let mut upsert = conn
        .prepare_cached(
            "INSERT INTO kv (key, version, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET version = excluded.version, value = excluded.value",
        )
        .map_err(db_err("prepare"))?;
    let mut delete = conn.prepare_cached("DELETE FROM kv WHERE key = ?1").map_err(db_err("prepare"))?;
    for write in &batch.writes {
        match &write.value {
            Some(value) => {
                *clock = clock
                    .checked_add(1)
                    .ok_or_else(|| StoreError::Backend("sqlite version counter exhausted".into()))?;
                upsert.execute(params![write.key.as_bytes(), *clock, value])
            }
            None => delete.execute([write.key.as_bytes()]),
        }
        .map_err(db_err("write"))?;
    }
    let mut append =
        conn.prepare_cached("INSERT INTO outbox (topic, payload) VALUES (?1, ?2)").map_err(db_err("prepare"))?;
    for entry in &batch.outbox {
        append.execute(params![entry.topic, entry.payload]).map_err(db_err("append outbox"))?;
    }
    Ok(())
}

/// Deletes every key outside `keep` (by key range, on the primary key) and the whole outbox.
/// `AUTOINCREMENT` keeps `seq` growing past the deleted entries, so outbox cursors stay valid.
fn apply_reset(conn: &Connection, keep: &[String]) -> Result<(), StoreError> {
    for (from, to) in reset_gaps(keep) {
        match to {
            Some(to) => conn.execute("DELETE FROM kv WHERE key >= ?1 AND key < ?2", params![from, to]),
            None => conn.execute("DELETE FROM kv WHERE key >= ?1", [from]),
        }
        .map_err(db_err("reset kv"))?;
    }
    conn.execute("DELETE FROM outbox", []).map_err(db_err("reset outbox"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::put;
    use ingot_store::backend::DEFAULT_CAPACITY_BYTES;
    use ingot_store::OutboxEntry;

    #[test]
    fn a_conflicting_batch_in_a_group_is_rolled_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join(crate::DB_FILE)).unwrap();
        crate::migrations::migrate(&mut conn).unwrap();
        let mut conflicting = put("g/b", "b", Expect::Version(7));
        conflicting.outbox.push(OutboxEntry { topic: "t".into(), payload: vec![1] });
        let ops = vec![
            Op::Commit(put("g/a", "a", Expect::Absent)),
            Op::Commit(conflicting),
            Op::Commit(put("g/c", "c", Expect::Absent)),
        ];
        let results = run_group(&conn, &ops);
        assert!(results[0].is_ok());
        assert!(matches!(&results[1], Err(StoreError::Conflict(k)) if k == "g/b"));
        assert!(results[2].is_ok());
        let keys: Vec<Vec<u8>> = conn
            .prepare("SELECT key FROM kv ORDER BY key")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(keys, vec![b"g/a".to_vec(), b"g/c".to_vec()]);
        // The batches that committed took successive counter values; the counter is stored with
        // them.
        let versions: Vec<i64> = conn
            .prepare("SELECT version FROM kv ORDER BY key")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(versions[0] < versions[1], "{versions:?}");
        assert_eq!(read_clock(&conn).unwrap(), versions[1]);
        let outbox: i64 = conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0)).unwrap();
        assert_eq!(outbox, 0);
        assert!(conn.is_autocommit());
    }

    #[test]
    fn queued_requests_are_committed_in_one_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join(crate::DB_FILE)).unwrap();
        crate::migrations::migrate(&mut conn).unwrap();
        let (tx, rx) = mpsc::channel();
        let mut outcomes = Vec::new();
        for i in 0..10 {
            let (reply, outcome) = oneshot::channel();
            tx.send(Request { op: Op::Commit(put(&format!("gc/{i}"), "v", Expect::Absent)), reply }).unwrap();
            outcomes.push(outcome);
        }
        drop(tx);
        let stats = StatCounters::default();
        run(conn, rx, &stats, &ReadCache::new(DEFAULT_CAPACITY_BYTES));
        assert_eq!(stats.transactions.load(Ordering::Relaxed), 1);
        assert_eq!(stats.requests.load(Ordering::Relaxed), 10);
        for mut outcome in outcomes {
            assert!(outcome.try_recv().unwrap().is_ok());
        }
    }
}
