//! The read-only connection pool. WAL mode lets these connections read while the writer
//! commits, each statement on a consistent committed snapshot; opening them read-only means no
//! code path can write outside the writer thread.

use crate::{db_err, BUSY_TIMEOUT};
use ingot_store::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// Read-only connections kept open; also the number of reads that run at once.
pub(crate) const READERS: usize = 8;

/// Page cache of each reader, in pages. A reader drops its whole cache whenever another
/// connection has committed since its last read, so under writes a cache is refilled instead of
/// reused. SQLite allocates a cache's first 20 pages in one block when it creates the cache and
/// each further page on its own: at 20 pages a reader's cache never goes back to the allocator,
/// where 64 pages (256 KiB) freed and allocated 44 page buffers per refill, from whichever
/// thread ran the read, and RSS crept up under load.
const READER_CACHE_PAGES: i64 = 20;

/// The read-only connection pool.
pub(crate) struct Readers {
    pub(crate) path: PathBuf,
    pub(crate) idle: Mutex<Vec<Connection>>,
    /// Bounds concurrent reads (and so open connections and busy blocking threads); waiting for a
    /// permit is asynchronous. The permit moves into the blocking task, so a cancelled read
    /// still holds it until its connection is back in the pool.
    pub(crate) permits: Arc<Semaphore>,
}

impl Readers {
    /// Runs a point read on a pooled connection on the calling thread. A lookup by primary key
    /// takes microseconds from SQLite's page cache; handing it to a blocking thread and back
    /// cost more than the read itself (two thread wake-ups per request on the hot path). A
    /// cold page may block this async worker for one disk read, which is the accepted price.
    pub(crate) async fn run_inline<T, F>(self: &Arc<Self>, read: F) -> Result<T, StoreError>
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
    pub(crate) async fn run<T, F>(self: &Arc<Self>, read: F) -> Result<T, StoreError>
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
pub(crate) fn scan_sql(exclusive: bool, bounded: bool) -> &'static str {
    match (exclusive, bounded) {
        (false, true) => "SELECT key, version, value FROM kv WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3",
        (true, true) => "SELECT key, version, value FROM kv WHERE key > ?1 AND key < ?2 ORDER BY key LIMIT ?3",
        (false, false) => "SELECT key, version, value FROM kv WHERE key >= ?1 ORDER BY key LIMIT ?2",
        (true, false) => "SELECT key, version, value FROM kv WHERE key > ?1 ORDER BY key LIMIT ?2",
    }
}
