//! The embedded backend: one SQLite database file per data directory (`<dir>/ingot.db`).
//!
//! Writes go through a single writer thread that owns the only read-write connection. It drains
//! every commit request already queued and runs them in one SQLite transaction (group commit),
//! each batch inside its own SAVEPOINT so that a batch whose expectations fail is rolled back alone
//! while the others commit. One `COMMIT` — one WAL fsync with `synchronous=FULL` — then
//! acknowledges the whole group, so throughput under concurrency is far above one fsync per
//! request while every acknowledged commit is on disk.
//!
//! Versions come from a one-row counter (`kv_clock`). The writer reads it once per group, right
//! after `BEGIN IMMEDIATE` (so under SQLite's write lock), hands out the next value to every key a
//! batch puts, and stores the new value before `COMMIT`: one read and at most one update per
//! group, in the same transaction as the rows that carry the versions. A batch rolled back to its
//! savepoint gives its values back (no row carrying them survives); a group whose transaction
//! fails leaves the stored counter untouched, and the next group reads it again.
//!
//! Reads use a small pool of read-only connections; WAL mode lets them run concurrently with the
//! writer and each statement sees a consistent committed snapshot. Point reads go through a
//! bounded in-memory [`ReadCache`] that the writer thread invalidates before it acknowledges a
//! commit (see `read_cache.rs` for why that is exact).
//!
//! One process owns a data directory: `open` takes an exclusive lock on `<dir>/ingot.lock`
//! (released when the store is dropped or the process dies), and a second process gets an
//! error instead of a server whose read cache would miss the other's writes. Outbox `seq` is
//! allocated by the single writer, so it is in commit order.

use crate::common::{
    expectation_holds, key_from_db, limit_to_db, prefix_successor, reset_gaps, scan_lower_bound, version_from_db,
};
use crate::read_cache::{ReadCache, DEFAULT_CAPACITY_BYTES};
use crate::{Batch, Expect, Item, OutboxPosition, OutboxRecord, Store, StoreError};
use async_trait::async_trait;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{oneshot, Semaphore};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "ingot.db";

/// File in the data directory that the owning process holds an exclusive lock on.
pub const LOCK_FILE: &str = "ingot.lock";

/// Most batches one SQLite transaction carries: bounds the work lost when a group fails as a whole
/// (a failed `COMMIT`) and the latency added for the first request of a large group.
const MAX_GROUP: usize = 256;

/// WAL pages (4 KiB each) after which the writer copies the WAL into the database file. SQLite's
/// default, 1,000, put a checkpoint and its fsyncs into every few commits, and their writes
/// made the next commits' WAL fsyncs wait; one checkpoint per 64 MiB of WAL did best under a
/// write load on this project's machine (PutParameter: 9.8k/s with 1,000, 12.1k/s with this).
/// A separate checkpointing connection was tried: PASSIVE checkpoints cannot finish while
/// commits keep arriving, so the WAL never restarted from them and the writer still had to
/// checkpoint.
const WRITER_AUTOCHECKPOINT_PAGES: i64 = 16_384;

/// Page cache of the writer connection, in KiB (SQLite's convention for negative sizes). The
/// writer touches pages all over the database; the default 2 MiB made it re-read them.
const WRITER_CACHE_KIB: i64 = 16 * 1024;

/// Read-only connections kept open; also the number of reads that run at once.
const READERS: usize = 8;

/// Page cache of each reader, in pages. A reader drops its whole cache whenever another
/// connection has committed since its last read, so under writes a cache is refilled instead of
/// reused. SQLite allocates a cache's first 20 pages in one block when it creates the cache and
/// each further page on its own: at 20 pages a reader's cache never goes back to the allocator,
/// where 64 pages (256 KiB) freed and allocated 44 page buffers per refill, from whichever
/// thread ran the read, and RSS crept up under load.
const READER_CACHE_PAGES: i64 = 20;

/// How long a connection waits for a lock held by another connection (checkpoints, a second
/// process) before failing with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema migrations, applied in order at open and recorded in `schema_migrations`. Append new
/// ones; never edit or reorder an applied one.
///
/// Migration 2 adds the store-wide version counter, starting above every version migration 1's
/// per-key counting gave out, so versions are never reused from then on.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE kv (key BLOB PRIMARY KEY, version INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;
     CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, payload BLOB NOT NULL);
     CREATE INDEX outbox_topic_seq ON outbox (topic, seq);",
    ),
    (
        2,
        "CREATE TABLE kv_clock (id INTEGER PRIMARY KEY CHECK (id = 0), last INTEGER NOT NULL);
         INSERT INTO kv_clock (id, last) SELECT 0, coalesce(max(version), 0) FROM kv;",
    ),
];

/// Maps a SQLite error to the contract's backend failure, with context on what was being done.
fn db_err(context: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| StoreError::Backend(format!("sqlite {context}: {e}"))
}

/// Counters of the writer thread, for metrics and for checking that group commit happens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SqliteStats {
    /// SQLite write transactions committed (each one WAL fsync).
    pub transactions: u64,
    /// Requests (commits and resets) carried by those transactions, including failed ones.
    pub requests: u64,
}

/// The shared atomics behind [`SqliteStats`], updated by the writer thread.
#[derive(Default)]
struct StatCounters {
    transactions: AtomicU64,
    requests: AtomicU64,
}

/// What the writer thread is asked to do.
enum Op {
    Commit(Batch),
    Reset(Vec<String>),
}

/// One queued operation and where its outcome goes.
struct Request {
    op: Op,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// The embedded [`Store`]: see the module documentation. Cheap to share as `Arc<SqliteStore>`;
/// the last handle dropped stops the writer thread and closes the database.
pub struct SqliteStore {
    path: PathBuf,
    /// `Some` until drop; dropping it closes the channel, which ends the writer thread.
    writer: Option<mpsc::Sender<Request>>,
    writer_thread: Option<JoinHandle<()>>,
    readers: Arc<Readers>,
    stats: Arc<StatCounters>,
    cache: Arc<ReadCache>,
    decoded: crate::DecodedCache,
    /// Holds the data directory's exclusive lock for as long as the store is open.
    _lock: Option<std::fs::File>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) `dir/ingot.db`, runs pending migrations and starts the writer
    /// thread. Blocking: it is called once at startup, before serving.
    pub fn open(dir: &Path) -> Result<Arc<SqliteStore>, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Backend(format!("cannot create data directory {}: {e}", dir.display())))?;
        let lock = lock_data_dir(dir)?;
        Self::open_locked(dir, Some(lock))
    }

    /// Opens a directory that a running server owns, without its lock: for test tools that
    /// look at what the server wrote. Writes through this handle bypass the owner's read cache,
    /// so they must only touch keys the owner has not read yet.
    pub fn open_without_lock(dir: &Path) -> Result<Arc<SqliteStore>, StoreError> {
        Self::open_locked(dir, None)
    }

    fn open_locked(dir: &Path, lock: Option<std::fs::File>) -> Result<Arc<SqliteStore>, StoreError> {
        let path = dir.join(DB_FILE);
        let mut conn = open_writer(&path)?;
        migrate(&mut conn)?;
        let stats = Arc::new(StatCounters::default());
        let cache = Arc::new(ReadCache::new(DEFAULT_CAPACITY_BYTES));
        let (tx, rx) = mpsc::channel();
        let thread_stats = stats.clone();
        let thread_cache = cache.clone();
        let writer_thread = std::thread::Builder::new()
            .name("ingot-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, &thread_stats, &thread_cache))
            .map_err(|e| StoreError::Backend(format!("cannot start sqlite writer thread: {e}")))?;
        let readers = Arc::new(Readers {
            path: path.clone(),
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(READERS)),
        });
        Ok(Arc::new(SqliteStore {
            path,
            writer: Some(tx),
            writer_thread: Some(writer_thread),
            readers,
            stats,
            cache,
            decoded: crate::DecodedCache::default(),
            _lock: lock,
        }))
    }

    /// The database file, for diagnostics.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writer counters; `requests / transactions` is the group-commit factor.
    pub fn stats(&self) -> SqliteStats {
        SqliteStats {
            transactions: self.stats.transactions.load(Ordering::Relaxed),
            requests: self.stats.requests.load(Ordering::Relaxed),
        }
    }

    /// Hands an operation to the writer thread and waits for its durable outcome.
    async fn submit(&self, op: Op) -> Result<(), StoreError> {
        let (reply, outcome) = oneshot::channel();
        let writer = self.writer.as_ref().ok_or_else(|| StoreError::Backend("sqlite store is closed".into()))?;
        writer
            .send(Request { op, reply })
            .map_err(|_| StoreError::Backend("sqlite writer thread has stopped".into()))?;
        outcome.await.map_err(|_| StoreError::Backend("sqlite writer thread dropped the request".into()))?
    }
}

impl Drop for SqliteStore {
    /// Closes the channel and waits for the writer to finish its current group, so that the
    /// database is closed (WAL checkpointed) when the last handle is gone and a reopen of the same
    /// directory never races the old writer. No request can be queued at this point: every
    /// pending commit borrows the store.
    fn drop(&mut self) {
        self.writer.take();
        if let Some(thread) = self.writer_thread.take() {
            if thread.join().is_err() {
                tracing::error!("sqlite writer thread panicked");
            }
        }
    }
}

/// Takes the data directory's exclusive lock, or says which process-level conflict stops us.
fn lock_data_dir(dir: &Path) -> Result<std::fs::File, StoreError> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Backend(format!(
            "data directory {} is in use by another Ingot process (it holds {LOCK_FILE})",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(StoreError::Backend(format!("cannot lock {}: {e}", path.display())))
        }
    }
}

/// Opens the read-write connection with the durability settings every commit relies on.
fn open_writer(path: &Path) -> Result<Connection, StoreError> {
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

/// Applies the migrations not yet recorded, each in its own transaction, so that a crash during
/// an upgrade leaves the schema at a recorded version.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    )
    .map_err(db_err("create schema_migrations"))?;
    for (version, sql) in MIGRATIONS {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db_err("begin migration"))?;
        let applied: bool = tx
            .query_row("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)", [version], |r| r.get(0))
            .map_err(db_err("read schema_migrations"))?;
        if applied {
            continue;
        }
        tx.execute_batch(sql).map_err(|e| StoreError::Backend(format!("sqlite migration {version}: {e}")))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            [version],
        )
        .map_err(db_err("record migration"))?;
        tx.commit().map_err(db_err("commit migration"))?;
        tracing::info!(version, "applied sqlite migration");
    }
    let newest: Option<i64> = conn
        .query_row("SELECT max(version) FROM schema_migrations", [], |r| r.get(0))
        .map_err(db_err("read schema_migrations"))?;
    let known = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if newest.is_some_and(|v| v > known) {
        // A newer Ingot migrated this database. Migrations only add, so keep going, but say so.
        tracing::warn!(newest, known, "sqlite database has migrations newer than this build");
    }
    Ok(())
}

/// The writer thread: receives requests until every sender is gone, grouping whatever is queued.
fn writer_loop(conn: Connection, rx: mpsc::Receiver<Request>, stats: &StatCounters, cache: &ReadCache) {
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
        // PutParameter ~8 % faster but kept memory growing by about 2 MB a minute under a write
        // load, with a steady number of entries; forgetting them keeps memory flat.
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

/// The read-only connection pool.
struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Bounds concurrent reads (and so open connections and busy blocking threads); waiting for a
    /// permit is asynchronous. The permit moves into the blocking task, so a cancelled read
    /// still holds it until its connection is back in the pool.
    permits: Arc<Semaphore>,
}

impl Readers {
    /// Runs a point read on a pooled connection on the calling thread. A lookup by primary key
    /// takes microseconds from SQLite's page cache; handing it to a blocking thread and back
    /// cost more than the read itself (two thread wake-ups per request on the hot path). A
    /// cold page may block this async worker for one disk read, which is the accepted price.
    async fn run_inline<T, F>(self: &Arc<Self>, read: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError>,
    {
        let _permit =
            self.permits.acquire().await.map_err(|_| StoreError::Backend("sqlite reader pool closed".into()))?;
        let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => open_reader(&self.path)?,
        };
        let result = read(&conn);
        if !matches!(result, Err(StoreError::Backend(_))) {
            self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
        }
        result
    }

    /// Runs `read` on a pooled connection on a blocking thread: SQLite calls block, and a point
    /// read must not stall the async workers if the page has to come from disk.
    async fn run<T, F>(self: &Arc<Self>, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Backend("sqlite reader pool closed".into()))?;
        let readers = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let pooled = readers.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match pooled {
                Some(conn) => conn,
                None => open_reader(&readers.path)?,
            };
            let result = read(&conn);
            // A connection that failed is dropped rather than reused; a fresh one is opened later.
            if !matches!(result, Err(StoreError::Backend(_))) {
                readers.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Backend(format!("sqlite read task failed: {e}")))?
    }
}

/// Opens a read-only connection; read-only so that no code path can write outside the writer.
fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(db_err("open reader"))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_err("busy_timeout"))?;
    conn.pragma_update(None, "cache_size", READER_CACHE_PAGES).map_err(db_err("cache_size"))?;
    conn.set_prepared_statement_cache_capacity(16);
    Ok(conn)
}

/// The scan statement for a lower bound kind and the presence of an upper bound. Four fixed
/// texts rather than `OR ? IS NULL` so that SQLite always walks a bounded primary-key range.
fn scan_sql(exclusive: bool, bounded: bool) -> &'static str {
    match (exclusive, bounded) {
        (false, true) => "SELECT key, version, value FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3",
        (true, true) => "SELECT key, version, value FROM kv WHERE key > ?1 AND key < ?2 ORDER BY key LIMIT ?3",
        (false, false) => "SELECT key, version, value FROM kv WHERE key >= ?1 ORDER BY key LIMIT ?2",
        (true, false) => "SELECT key, version, value FROM kv WHERE key > ?1 ORDER BY key LIMIT ?2",
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &str) -> Result<Option<Item>, StoreError> {
        if let Some(hit) = self.cache.get(key) {
            return Ok(Some(hit));
        }
        let generation = self.cache.generation();
        let item = self
            .readers
            .run_inline(|conn| {
                let mut stmt =
                    conn.prepare_cached("SELECT version, value FROM kv WHERE key = ?1").map_err(db_err("prepare"))?;
                let row: Option<(i64, Vec<u8>)> = stmt
                    .query_row([key.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(db_err("get"))?;
                row.map(|(version, value)| Ok(Item { version: version_from_db(version)?, value })).transpose()
            })
            .await?;
        self.cache.fill(generation, key, &item);
        Ok(item)
    }

    async fn scan(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Item)>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (lower, exclusive) = scan_lower_bound(prefix, start_after);
        let lower = lower.to_vec();
        let upper = prefix_successor(prefix.as_bytes());
        let limit = limit_to_db(limit);
        self.readers
            .run(move |conn| {
                let mut stmt = conn.prepare_cached(scan_sql(exclusive, upper.is_some())).map_err(db_err("prepare"))?;
                let map =
                    |r: &rusqlite::Row<'_>| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?));
                let rows = match &upper {
                    Some(upper) => stmt.query_map(params![lower, upper, limit], map),
                    None => stmt.query_map(params![lower, limit], map),
                }
                .map_err(db_err("scan"))?;
                let mut out = Vec::new();
                for row in rows {
                    let (key, version, value) = row.map_err(db_err("scan"))?;
                    out.push((key_from_db(key)?, Item { version: version_from_db(version)?, value }));
                }
                Ok(out)
            })
            .await
    }

    async fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.submit(Op::Commit(batch)).await
    }

    async fn outbox_after(
        &self,
        topic: &str,
        after: OutboxPosition,
        limit: usize,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        // Every record here is in transaction 0, and `seq` is a signed 64-bit integer in SQLite:
        // nothing lies after a later transaction or past the maximum.
        if after.transaction > 0 {
            return Ok(Vec::new());
        }
        let Ok(after) = i64::try_from(after.seq) else {
            return Ok(Vec::new());
        };
        if limit == 0 {
            return Ok(Vec::new());
        }
        let topic = topic.to_string();
        let limit = limit_to_db(limit);
        self.readers
            .run(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT seq, topic, payload FROM outbox WHERE topic = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                    )
                    .map_err(db_err("prepare"))?;
                let rows = stmt
                    .query_map(params![topic, after, limit], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Vec<u8>>(2)?))
                    })
                    .map_err(db_err("outbox"))?;
                let mut out = Vec::new();
                for row in rows {
                    let (seq, topic, payload) = row.map_err(db_err("outbox"))?;
                    let seq =
                        u64::try_from(seq).map_err(|_| StoreError::Backend(format!("corrupt outbox seq {seq}")))?;
                    out.push(OutboxRecord { position: OutboxPosition { transaction: 0, seq }, topic, payload });
                }
                Ok(out)
            })
            .await
    }

    async fn reset(&self, keep_prefixes: &[String]) -> Result<(), StoreError> {
        self.submit(Op::Reset(keep_prefixes.to_vec())).await
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn cached_version(&self, key: &str) -> Option<(u64, u64)> {
        self.cache.version(key)
    }

    fn cache_changes(&self) -> Option<u64> {
        Some(self.cache.changes())
    }

    fn decoded_records(&self) -> Option<&crate::DecodedCache> {
        Some(&self.decoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OutboxEntry, Write};

    fn put(key: &str, value: &str, expect: Expect) -> Batch {
        Batch {
            writes: vec![Write { key: key.into(), value: Some(value.as_bytes().to_vec()), expect }],
            ..Batch::default()
        }
    }

    async fn version_of(store: &SqliteStore, key: &str) -> u64 {
        store.get(key).await.unwrap().unwrap().version
    }

    #[tokio::test]
    async fn reopening_a_dropped_store_reads_back_committed_data() {
        let dir = tempfile::tempdir().unwrap();
        let written;
        {
            let store = SqliteStore::open(dir.path()).unwrap();
            store.commit(put("durable/a", "one", Expect::Absent)).await.unwrap();
            let first = version_of(&store, "durable/a").await;
            store.commit(put("durable/a", "two", Expect::Version(first))).await.unwrap();
            written = version_of(&store, "durable/a").await;
            assert!(written > first);
            let mut batch = put("durable/b", "x", Expect::Any);
            batch.outbox.push(OutboxEntry { topic: "t".into(), payload: b"event".to_vec() });
            store.commit(batch).await.unwrap();
            // Dropped here without any explicit close.
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.get("durable/a").await.unwrap(), Some(Item { version: written, value: b"two".to_vec() }));
        assert_eq!(store.get("durable/b").await.unwrap().map(|i| i.value), Some(b"x".to_vec()));
        let events = store.outbox_after("t", OutboxPosition::START, 10).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].payload, b"event".to_vec());
    }

    #[tokio::test]
    async fn the_version_counter_survives_a_reopen_so_a_recreated_key_never_reuses_a_version() {
        let dir = tempfile::tempdir().unwrap();
        let old;
        {
            let store = SqliteStore::open(dir.path()).unwrap();
            store.commit(put("clock/k", "v1", Expect::Any)).await.unwrap();
            store.commit(put("clock/k", "v2", Expect::Any)).await.unwrap();
            old = version_of(&store, "clock/k").await;
            store
                .commit(Batch {
                    writes: vec![Write { key: "clock/k".into(), value: None, expect: Expect::Version(old) }],
                    ..Batch::default()
                })
                .await
                .unwrap();
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        store.commit(put("clock/k", "again", Expect::Absent)).await.unwrap();
        assert!(version_of(&store, "clock/k").await > old);
        assert!(matches!(
            store.commit(put("clock/k", "stale", Expect::Version(old))).await,
            Err(StoreError::Conflict(k)) if k == "clock/k"
        ));
    }

    #[tokio::test]
    async fn a_database_from_migration_one_keeps_its_versions_and_continues_above_them() {
        let dir = tempfile::tempdir().unwrap();
        {
            // The schema and data as a build that knew only migration 1 left them.
            let conn = open_writer(&dir.path().join(DB_FILE)).unwrap();
            conn.execute_batch(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
                 INSERT INTO schema_migrations VALUES (1, '2024-01-01T00:00:00.000Z');",
            )
            .unwrap();
            conn.execute_batch(MIGRATIONS[0].1).unwrap();
            conn.execute_batch(
                "INSERT INTO kv VALUES (CAST('old/high' AS BLOB), 7, x'68');
                 INSERT INTO kv VALUES (CAST('old/low' AS BLOB), 3, x'6c');",
            )
            .unwrap();
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.get("old/high").await.unwrap(), Some(Item { version: 7, value: b"h".to_vec() }));
        assert_eq!(version_of(&store, "old/low").await, 3);
        // Writes continue above every version migration 1 handed out, whatever the key.
        store.commit(put("old/low", "x", Expect::Version(3))).await.unwrap();
        assert!(version_of(&store, "old/low").await > 7);
        store.commit(put("old/new", "n", Expect::Absent)).await.unwrap();
        assert!(version_of(&store, "old/new").await > version_of(&store, "old/low").await);
    }

    #[test]
    fn migrations_are_recorded_once_and_reopening_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        drop(SqliteStore::open(dir.path()).unwrap());
        drop(SqliteStore::open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
        let versions: Vec<i64> = conn
            .prepare("SELECT version FROM schema_migrations ORDER BY version")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(versions, MIGRATIONS.iter().map(|(v, _)| *v).collect::<Vec<_>>());
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_conflicting_batch_in_a_group_is_rolled_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open_writer(&dir.path().join(DB_FILE)).unwrap();
        migrate(&mut conn).unwrap();
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
    fn a_second_open_of_an_owned_data_directory_is_refused_until_the_owner_closes() {
        let dir = tempfile::tempdir().unwrap();
        let owner = SqliteStore::open(dir.path()).unwrap();
        let err = SqliteStore::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("in use by another Ingot process"), "{err}");
        drop(owner);
        SqliteStore::open(dir.path()).unwrap();
    }

    #[tokio::test]
    async fn a_cached_read_is_replaced_by_the_committed_write_before_the_commit_returns() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        store.commit(put("c/k", "one", Expect::Absent)).await.unwrap();
        assert_eq!(store.get("c/k").await.unwrap().unwrap().value, b"one");
        assert_eq!(store.get("c/missing").await.unwrap(), None);
        // Both answers are now cached; commits must replace them.
        store.commit(put("c/k", "two", Expect::Any)).await.unwrap();
        store.commit(put("c/missing", "here", Expect::Absent)).await.unwrap();
        assert_eq!(store.get("c/k").await.unwrap().unwrap().value, b"two");
        assert_eq!(store.get("c/missing").await.unwrap().unwrap().value, b"here");
        store
            .commit(Batch {
                writes: vec![Write { key: "c/k".into(), value: None, expect: Expect::Any }],
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(store.get("c/k").await.unwrap(), None);
        store.reset(&[]).await.unwrap();
        assert_eq!(store.get("c/missing").await.unwrap(), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_readers_never_see_a_value_older_than_the_last_acknowledged_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        store.commit(put("race/k", "0", Expect::Absent)).await.unwrap();
        let acknowledged = Arc::new(AtomicU64::new(0));
        let mut readers = Vec::new();
        for _ in 0..4 {
            let (store, acknowledged) = (store.clone(), acknowledged.clone());
            readers.push(tokio::spawn(async move {
                for _ in 0..2_000 {
                    let floor = acknowledged.load(Ordering::SeqCst);
                    let item = store.get("race/k").await.unwrap().unwrap();
                    let seen: u64 = std::str::from_utf8(&item.value).unwrap().parse().unwrap();
                    assert!(seen >= floor, "read {seen} after {floor} was acknowledged");
                    tokio::task::yield_now().await;
                }
            }));
        }
        for i in 1..=300u64 {
            store.commit(put("race/k", &i.to_string(), Expect::Any)).await.unwrap();
            acknowledged.store(i, Ordering::SeqCst);
        }
        for r in readers {
            r.await.unwrap();
        }
    }

    #[test]
    fn queued_requests_are_committed_in_one_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open_writer(&dir.path().join(DB_FILE)).unwrap();
        migrate(&mut conn).unwrap();
        let (tx, rx) = mpsc::channel();
        let mut outcomes = Vec::new();
        for i in 0..10 {
            let (reply, outcome) = oneshot::channel();
            tx.send(Request { op: Op::Commit(put(&format!("gc/{i}"), "v", Expect::Absent)), reply }).unwrap();
            outcomes.push(outcome);
        }
        drop(tx);
        let stats = StatCounters::default();
        writer_loop(conn, rx, &stats, &ReadCache::new(DEFAULT_CAPACITY_BYTES));
        assert_eq!(stats.transactions.load(Ordering::Relaxed), 1);
        assert_eq!(stats.requests.load(Ordering::Relaxed), 10);
        for mut outcome in outcomes {
            assert!(outcome.try_recv().unwrap().is_ok());
        }
    }
}
