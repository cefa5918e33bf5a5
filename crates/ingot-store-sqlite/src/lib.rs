//! The embedded backend of `ingot-store`: one SQLite database file per data directory
//! (`<dir>/ingot.db`).
//!
//! Owns [`SqliteStore`] (an implementation of [`ingot_store::Store`] that passes
//! [`ingot_store::conformance`]), its writer thread, its pool of read-only connections and its
//! schema migrations, frozen as SQL files under `migrations/` and embedded in the binary. It must
//! not depend on any ingot crate but `ingot-store`, nor on the PostgreSQL backend; only the binary
//! and tests that need a real store depend on it.
//!
//! | File | Concern |
//! |---|---|
//! | `lib.rs` | the store: opening a data directory, its lock, reads through the read cache |
//! | `writer.rs` | the writer thread: group commit, savepoints, the version counter |
//! | `readers.rs` | the read-only connection pool |
//! | `migrations.rs` | the schema, applied in order at open |
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
//! commit (see [`ReadCache`] for why that is exact).
//!
//! One process owns a data directory: `open` takes an exclusive lock on `<dir>/ingot.lock`
//! (released when the store is dropped or the process dies), and a second process gets an
//! error instead of a server whose read cache would miss the other's writes. Outbox `seq` is
//! allocated by the single writer, so it is in commit order.

use async_trait::async_trait;
use ingot_store::backend::{key_from_db, limit_to_db, prefix_successor, scan_lower_bound, version_from_db};
use ingot_store::backend::{ReadCache, DEFAULT_CAPACITY_BYTES};
use ingot_store::{Batch, DecodedCache, Item, OutboxPosition, OutboxRecord, Store, StoreError};
use readers::Readers;
use rusqlite::{params, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{oneshot, Semaphore};
use writer::{Op, Request, StatCounters};

mod migrations;
mod readers;
mod writer;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "ingot.db";

/// File in the data directory that the owning process holds an exclusive lock on.
pub const LOCK_FILE: &str = "ingot.lock";

/// How long a connection waits for a lock held by another connection (checkpoints, a second
/// process) before failing with `SQLITE_BUSY`.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Maps a SQLite error to the contract's backend failure, with context on what was being done.
pub(crate) fn db_err(context: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
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

/// The embedded [`Store`]: see the crate documentation. Cheap to share as `Arc<SqliteStore>`;
/// the last handle dropped stops the writer thread and closes the database.
pub struct SqliteStore {
    path: PathBuf,
    /// `Some` until drop; dropping it closes the channel, which ends the writer thread.
    writer: Option<mpsc::Sender<Request>>,
    writer_thread: Option<JoinHandle<()>>,
    readers: Arc<Readers>,
    stats: Arc<StatCounters>,
    cache: Arc<ReadCache>,
    decoded: DecodedCache,
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
        let mut conn = writer::open(&path)?;
        migrations::migrate(&mut conn)?;
        let stats = Arc::new(StatCounters::default());
        let cache = Arc::new(ReadCache::new(DEFAULT_CAPACITY_BYTES));
        let (tx, rx) = mpsc::channel();
        let thread_stats = stats.clone();
        let thread_cache = cache.clone();
        let writer_thread = std::thread::Builder::new()
            .name("ingot-sqlite-writer".into())
            .spawn(move || writer::run(conn, rx, &thread_stats, &thread_cache))
            .map_err(|e| StoreError::Backend(format!("cannot start sqlite writer thread: {e}")))?;
        let readers = Arc::new(Readers {
            path: path.clone(),
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(readers::READERS)),
        });
        Ok(Arc::new(SqliteStore {
            path,
            writer: Some(tx),
            writer_thread: Some(writer_thread),
            readers,
            stats,
            cache,
            decoded: DecodedCache::default(),
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

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &str) -> Result<Option<Item>, StoreError> {
        if let Some(hit) = self.cache.get(key) {
            return Ok(hit);
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
                let mut stmt =
                    conn.prepare_cached(readers::scan_sql(exclusive, upper.is_some())).map_err(db_err("prepare"))?;
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

    fn reads_current(&self, reads: &[(String, Option<u64>)]) -> Option<u64> {
        self.cache.reads_current(reads)
    }

    fn cache_changes(&self) -> Option<u64> {
        Some(self.cache.changes())
    }

    fn decoded_records(&self) -> Option<&DecodedCache> {
        Some(&self.decoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingot_store::{Expect, OutboxEntry, Write};
    use std::sync::atomic::AtomicU64;

    pub(crate) fn put(key: &str, value: &str, expect: Expect) -> Batch {
        Batch {
            writes: vec![Write { key: key.into(), value: Some(value.as_bytes().to_vec()), expect }],
            ..Batch::default()
        }
    }

    pub(crate) async fn version_of(store: &SqliteStore, key: &str) -> u64 {
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
}
