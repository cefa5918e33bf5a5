//! Durable storage, the API only: a narrow transactional key-value store with an outbox.
//!
//! Owns the [`Store`] trait, the per-request unit of work [`Tx`], typed [`Record`]s with a
//! schema version, the decoded-record cache ([`DecodedCache`]), the building blocks every backend
//! shares ([`backend`]: key ranges, expectation checks, the read cache), and the [`conformance`]
//! suite every backend must pass. The backends live in crates of their own: `ingot-store-sqlite`
//! (embedded default) and `ingot-store-postgres` (scale-out); only the binary names them.
//!
//! It knows nothing about AWS, HTTP or services, and must not depend on any other ingot crate nor
//! on a database driver (`rusqlite`, `tokio-postgres`): everything above the store (core, the
//! codecs, the services, the fuzz targets) links this crate and must not link a database.
//!
//! Model: keys are UTF-8 strings ordered bytewise; every key has a version, at least 1, taken
//! from a counter shared by the whole store: each write of a key gives it a version greater than
//! any version the key had before — also before it was deleted and re-created — and no version is
//! ever given twice within a store. Versions are not consecutive (other keys' writes take values
//! in between), so callers compare them for equality or order, never count with them. An
//! [`Expect::Version`] taken before a key was deleted and re-created therefore fails afterwards
//! (no ABA). A [`Batch`] commits atomically: every expectation is checked, then every write
//! applied and every outbox entry appended, or nothing happens ([`StoreError::Conflict`]). A
//! commit returns only once the data is on disk.

use async_trait::async_trait;

/// A stored value and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// At least 1; every write of the key makes it strictly greater, and a value is never reused
    /// within the store — not by another key, nor by this key after a delete and re-create. Not
    /// consecutive: the first version of a key is whatever the store's counter is at.
    pub version: u64,
    pub value: Vec<u8>,
}

/// What a commit expects of a key's current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No expectation.
    Any,
    /// The key must not exist.
    Absent,
    /// The key must exist at exactly this version. Versions are never reused, so this fails if
    /// the key was written, or deleted and re-created, since the version was read.
    Version(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub key: String,
    /// `None` deletes the key (deleting an absent key is not an error).
    pub value: Option<Vec<u8>>,
    pub expect: Expect,
}

/// An entry appended to the outbox in the same transaction as the writes (events, audit records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub topic: String,
    pub payload: Vec<u8>,
}

/// Where a record sits in the outbox's delivery order; a consumer keeps the position of the last
/// record it handled as its cursor. Positions only grow: once [`Store::outbox_after`] has returned
/// a record, no record ever appears at or before its position, so a consumer resuming after its
/// cursor misses nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct OutboxPosition {
    /// Orders the committing transactions: always 0 on SQLite (its one writer appends in commit
    /// order), the transaction id (`xid8`) on PostgreSQL.
    pub transaction: u64,
    /// The append order (SQLite: of the store; PostgreSQL: within a transaction).
    pub seq: u64,
}

impl OutboxPosition {
    /// Before every record: a new consumer's cursor.
    pub const START: OutboxPosition = OutboxPosition { transaction: 0, seq: 0 };
    /// After every record.
    pub const END: OutboxPosition = OutboxPosition { transaction: u64::MAX, seq: u64::MAX };
}

/// An outbox entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    pub position: OutboxPosition,
    pub topic: String,
    pub payload: Vec<u8>,
}

/// One atomic commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// Expectations on keys that are read but not written (optimistic read set).
    pub checks: Vec<(String, Expect)>,
    pub writes: Vec<Write>,
    pub outbox: Vec<OutboxEntry>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty() && self.writes.is_empty() && self.outbox.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An expectation did not hold; nothing was written. Callers retry with fresh reads.
    #[error("conflict on key {0}")]
    Conflict(String),
    /// The backend failed (I/O, connection, corruption).
    #[error("storage backend failure: {0}")]
    Backend(String),
    /// A stored record could not be decoded.
    #[error("record decode failure: {0}")]
    Decode(String),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Reads one key (committed state).
    async fn get(&self, key: &str) -> Result<Option<Item>, StoreError>;

    /// Keys starting with `prefix`, strictly after `start_after` when given, in ascending bytewise
    /// order, at most `limit`.
    async fn scan(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Item)>, StoreError>;

    /// Applies a batch atomically and durably.
    async fn commit(&self, batch: Batch) -> Result<(), StoreError>;

    /// Outbox records of `topic` positioned after `after`, ascending, at most `limit`. Records of
    /// every commit that returned before the call are included (PostgreSQL may briefly wait for
    /// concurrent transactions to finish so that none can later appear behind the result).
    async fn outbox_after(
        &self,
        topic: &str,
        after: OutboxPosition,
        limit: usize,
    ) -> Result<Vec<OutboxRecord>, StoreError>;

    /// Deletes every key that does not start with one of `keep_prefixes`, and the whole outbox.
    async fn reset(&self, keep_prefixes: &[String]) -> Result<(), StoreError>;

    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Where [`Tx::get_record_cached`] keeps records it decoded; `None` decodes every read.
    fn decoded_records(&self) -> Option<&DecodedCache> {
        None
    }

    /// The version of `key` that [`Store::get`] would return now, when the store knows it
    /// without a read (its read cache holds the key), with the [`Store::cache_changes`] count it
    /// was read at; `None` says nothing about the key. Lets a record already decoded at that
    /// version be used without copying the value.
    fn cached_version(&self, _key: &str) -> Option<(u64, u64)> {
        None
    }

    /// Whether every key of `reads` is still at the version it was read at (`None`: absent),
    /// as far as the store knows without a read: `Some` with the [`Store::cache_changes`] count
    /// at which all of them were found so in its read cache, `None` when any differs or is not
    /// cached. Lets what was derived from those reads be kept across changes to other keys.
    fn reads_current(&self, _reads: &[(String, Option<u64>)]) -> Option<u64> {
        None
    }

    /// A count that moves whenever any key's version may have changed (a commit with keys
    /// begins or ends, the cache is cleared), when the store keeps one: a version learnt from
    /// [`Store::cached_version`] at this count is still current. `None` when the store cannot
    /// tell (no read cache, or not covered by its lease).
    fn cache_changes(&self) -> Option<u64> {
        None
    }
}

pub mod backend;
pub mod conformance;
mod decoded;
pub mod hash;
mod read_cache;
pub mod record;
pub mod tx;

pub use decoded::DecodedCache;
pub use record::{decode_record, encode_record, Record};
pub use tx::{SharedReads, Tx};
