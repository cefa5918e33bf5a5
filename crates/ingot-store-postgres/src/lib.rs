//! The scale-out backend of `ingot-store`: several Ingot replicas share one PostgreSQL database.
//!
//! Owns [`PostgresStore`] (an implementation of [`ingot_store::Store`] that passes
//! [`ingot_store::conformance`]), its connection pool, the SQL function that runs a commit, group
//! commit, the cache lease that lets a lone replica read from memory, and the schema migrations,
//! frozen as SQL files under `migrations/` and embedded in the binary. It must not depend on any
//! ingot crate but `ingot-store`, nor on the SQLite backend; only the binary and tests that need a
//! real store depend on it.
//!
//! | File | Concern |
//! |---|---|
//! | `lib.rs` | the store: connecting, reads, reset, and which file each operation goes to |
//! | `pool.rs` | the connection pool ([`POOL_SIZE`] per replica), error mapping, pipelining |
//! | `plan.rs` | a commit: why it is correct across replicas, its plan, failure classification |
//! | `group.rs` | group commit: concurrent batches on disjoint keys share one transaction |
//! | `lease.rs` | the cache lease: reads from memory while no other replica may write |
//! | `outbox.rs` | outbox ordering across transactions, rows holding several entries, reads |
//! | `locks.rs` | advisory lock ids, stable across builds and namespaced by schema |
//! | `migrations.rs` | the schema, applied in order at connect |
//!
//! Replicas coordinate only through the database: a commit is correct because of the locks it
//! takes, not the isolation level (`plan.rs`). Point reads are served from memory while this
//! replica holds the cache lease, that is while no other replica may write (`lease.rs`);
//! `ingot_commit` checks the lease before it commits.

use async_trait::async_trait;
use group::Committer;
use ingot_store::backend::{key_from_db, limit_to_db, prefix_successor, reset_gaps, scan_lower_bound, version_from_db};
use ingot_store::backend::{ReadCache, DEFAULT_CAPACITY_BYTES};
use ingot_store::{Batch, DecodedCache, Item, OutboxPosition, OutboxRecord, Store, StoreError};
use lease::CacheLease;
use locks::Locks;
use plan::{commit_alone, is_retryable, Failure, Plan};
use pool::{
    describe, first_error, open_client, parse_config, pg_err, pipeline, query, retry_read, simple, PgConn, Pool,
};
use std::sync::Arc;
use std::time::Duration;

mod group;
mod lease;
mod locks;
mod migrations;
mod outbox;
mod plan;
mod pool;

pub use pool::POOL_SIZE;

/// Attempts for a commit that keeps failing with a deadlock or serialization failure.
pub(crate) const MAX_ATTEMPTS: u32 = 5;

const SQL_GET: &str = "SELECT version, value FROM kv WHERE key = $1";
const SQL_RESET_RANGE: &str = "DELETE FROM kv WHERE key >= $1 AND key < $2";
const SQL_RESET_FROM: &str = "DELETE FROM kv WHERE key >= $1";
const SQL_RESET_OUTBOX: &str = "DELETE FROM outbox";
const SQL_LEASE_CHECK: &str = "SELECT ingot_lease_check()";

/// The scan statement for a lower bound kind and the presence of an upper bound; fixed texts so
/// that every prepared plan is a bounded primary-key range scan.
fn scan_sql(exclusive: bool, bounded: bool) -> &'static str {
    match (exclusive, bounded) {
        (false, true) => "SELECT key, version, value FROM kv WHERE key >= $1 AND key < $2 ORDER BY key LIMIT $3",
        (true, true) => "SELECT key, version, value FROM kv WHERE key > $1 AND key < $2 ORDER BY key LIMIT $3",
        (false, false) => "SELECT key, version, value FROM kv WHERE key >= $1 ORDER BY key LIMIT $2",
        (true, false) => "SELECT key, version, value FROM kv WHERE key > $1 ORDER BY key LIMIT $2",
    }
}

/// Schema names are interpolated into SQL (identifiers cannot be parameters), so only plain
/// identifiers are accepted; they are still quoted so that case is preserved.
fn validate_schema(schema: &str) -> Result<(), StoreError> {
    let mut chars = schema.chars();
    let valid_start = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if valid_start && schema.len() <= 63 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(StoreError::Backend(format!("invalid schema name {schema:?}: use ASCII letters, digits and _")))
    }
}

/// A fresh id for this replica: random, so a restarted replica is a new one.
fn new_replica_id() -> String {
    use std::hash::BuildHasher;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let random = std::collections::hash_map::RandomState::new().hash_one((nanos, std::process::id()));
    format!("{random:016x}")
}

/// The scale-out [`Store`]: see the crate documentation. Every replica opens its own; they
/// coordinate only through the database.
pub struct PostgresStore {
    pool: Arc<Pool>,
    locks: Locks,
    committer: Committer,
    cache_lease: Arc<CacheLease>,
    /// Point reads, trusted only while this replica holds the cache lease.
    cache: Arc<ReadCache>,
    decoded: DecodedCache,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("session_setup", &self.pool.session_setup)
            .field("replica", &self.cache_lease.replica)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to `url` (no TLS), creates `schema` when given and uses it on every connection,
    /// and runs pending migrations. Replicas may call this concurrently: schema creation and
    /// migrations run under an advisory lock.
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Arc<PostgresStore>, StoreError> {
        let config = parse_config(url)?;
        if let Some(schema) = schema {
            validate_schema(schema)?;
        }
        let replica = new_replica_id();
        let pool = Pool::new(config, pool::session_setup(schema, &replica));
        let locks = Locks::new(schema);
        {
            let mut pooled = pool.get().await?;
            migrations::migrate(pooled.conn()?, schema, locks).await?;
        }
        let pool = Arc::new(pool);
        let cache = Arc::new(ReadCache::new(DEFAULT_CAPACITY_BYTES));
        let cache_lease = Arc::new(CacheLease::new(replica));
        let committer = Committer::start(pool.clone(), cache.clone(), cache_lease.clone());
        let decoded = DecodedCache::default();
        let store = Arc::new(PostgresStore { pool, locks, committer, cache_lease, cache, decoded });
        lease::tick(&store).await;
        tokio::spawn(lease::run(Arc::downgrade(&store)));
        Ok(store)
    }

    /// Drops `schema` and everything in it; for test cleanup. See [`drop_schema`].
    pub async fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        drop_schema(url, schema).await
    }

    /// Whether `schema` exists (tests check that they leave none behind).
    pub async fn schema_exists(url: &str, schema: &str) -> Result<bool, StoreError> {
        let client = open_client(&parse_config(url)?).await?;
        let row = client
            .query_one("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", &[&schema])
            .await
            .map_err(pg_err("schema exists"))?;
        Ok(row.get(0))
    }

    /// One reset attempt: deletes the key ranges outside the kept prefixes and the outbox.
    async fn try_reset(&self, conn: &mut PgConn, gaps: &[(Vec<u8>, Option<Vec<u8>>)]) -> Result<(), Failure> {
        let range = conn.statement(SQL_RESET_RANGE).await?;
        let from = conn.statement(SQL_RESET_FROM).await?;
        let outbox = conn.statement(SQL_RESET_OUTBOX).await?;
        conn.in_transaction = true;
        let client = &conn.client;
        let mut phase = vec![simple(client, "BEGIN"), simple(client, SQL_LEASE_CHECK)];
        for (lo, hi) in gaps {
            phase.push(match hi {
                Some(hi) => query(client, &range, vec![lo, hi]),
                None => query(client, &from, vec![lo]),
            });
        }
        phase.push(query(client, &outbox, vec![]));
        phase.push(simple(client, "COMMIT"));
        let results = pipeline(phase).await;
        if matches!(results.last(), Some(Ok(_))) {
            conn.in_transaction = false;
        }
        let Some(e) = first_error(&results) else {
            return Ok(());
        };
        Err(match lease::held_by(e) {
            Some(holder) => Failure::LeaseHeld(holder),
            None if is_retryable(e) => Failure::Retry(describe(e)),
            None => Failure::Fail(StoreError::Backend(format!("postgres reset: {}", describe(e)))),
        })
    }
}

/// Drops `schema` and everything in it (`DROP SCHEMA … CASCADE`), on a connection of its own;
/// tests create a schema each and clean up with this.
pub async fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
    validate_schema(schema)?;
    let client = open_client(&parse_config(url)?).await?;
    let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    let mut attempt = 1;
    loop {
        match client.batch_execute(&drop).await {
            // A replica still running (its lease ticks) locks the tables and their indexes in
            // another order than the drop; the deadlock victim may be the drop.
            Err(e) if is_retryable(&e) && attempt < MAX_ATTEMPTS => {
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                attempt += 1;
            }
            outcome => return outcome.map_err(pg_err("drop schema")),
        }
    }
}

/// One attempt of [`Store::get`].
async fn get_once(conn: &mut PgConn, key: &str) -> Result<Option<Item>, StoreError> {
    let statement = conn.statement(SQL_GET).await?;
    let row = conn.client.query_opt(&statement, &[&key.as_bytes()]).await.map_err(|e| conn.failed("get", e))?;
    row.map(|row| {
        let version: i64 = row.try_get(0).map_err(pg_err("get"))?;
        Ok(Item { version: version_from_db(version)?, value: row.try_get(1).map_err(pg_err("get"))? })
    })
    .transpose()
}

/// One attempt of [`Store::scan`] (`limit` > 0).
async fn scan_once(
    conn: &mut PgConn,
    prefix: &str,
    start_after: Option<&str>,
    limit: usize,
) -> Result<Vec<(String, Item)>, StoreError> {
    let (lower, exclusive) = scan_lower_bound(prefix, start_after);
    let upper = prefix_successor(prefix.as_bytes());
    let limit = limit_to_db(limit);
    let statement = conn.statement(scan_sql(exclusive, upper.is_some())).await?;
    let rows = match &upper {
        Some(upper) => conn.client.query(&statement, &[&lower, upper, &limit]).await,
        None => conn.client.query(&statement, &[&lower, &limit]).await,
    }
    .map_err(|e| conn.failed("scan", e))?;
    rows.into_iter()
        .map(|row| {
            let key: Vec<u8> = row.try_get(0).map_err(pg_err("scan"))?;
            let version: i64 = row.try_get(1).map_err(pg_err("scan"))?;
            let value: Vec<u8> = row.try_get(2).map_err(pg_err("scan"))?;
            Ok((key_from_db(key)?, Item { version: version_from_db(version)?, value }))
        })
        .collect()
}

impl PostgresStore {
    /// The read cache while the lease covers it, as in `get`: otherwise it answers nothing.
    fn covered_cache(&self) -> Option<&ReadCache> {
        self.cache_lease.covers().then_some(&self.cache)
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn get(&self, key: &str) -> Result<Option<Item>, StoreError> {
        let covered = self.cache_lease.covers();
        if covered {
            if let Some(hit) = self.cache.get(key) {
                return Ok(hit);
            }
        }
        let generation = self.cache.generation();
        let mut attempt = 1;
        let item = loop {
            let mut pooled = self.pool.get().await?;
            let conn = pooled.conn()?;
            match get_once(conn, key).await {
                Err(_) if retry_read(conn, &mut attempt) => continue,
                outcome => break outcome?,
            }
        };
        if covered && self.cache_lease.covers() {
            self.cache.fill(generation, key, &item);
        }
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
        let mut attempt = 1;
        loop {
            let mut pooled = self.pool.get().await?;
            let conn = pooled.conn()?;
            match scan_once(conn, prefix, start_after, limit).await {
                Err(_) if retry_read(conn, &mut attempt) => continue,
                outcome => return outcome,
            }
        }
    }

    async fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let plan = Plan::new(batch, self.locks);
        plan.begin_cached_write(&self.cache);
        let outcome = if plan.writes_in_order() {
            // Its writes go one by one in a loop of their own; such batches are rare.
            let outcome = commit_alone(&self.pool, &plan).await;
            plan.end_cached_write(&self.cache);
            outcome.map(drop)
        } else {
            // The committer ends the cached write (keeps or forgets the keys) before it replies.
            self.committer.commit(plan).await
        };
        if let Err(StoreError::Conflict(key)) = &outcome {
            self.cache.forget_stale(key);
        }
        outcome
    }

    async fn outbox_after(
        &self,
        topic: &str,
        after: OutboxPosition,
        limit: usize,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        // Transaction ids and `seq` fit BIGINT; nothing lies after its maximum.
        let (Ok(transaction), Ok(seq)) = (i64::try_from(after.transaction), i64::try_from(after.seq)) else {
            return Ok(Vec::new());
        };
        let after = [transaction, seq];
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut attempt = 1;
        loop {
            let mut pooled = self.pool.get().await?;
            let conn = pooled.conn()?;
            match outbox::outbox_once(conn, topic, after, limit).await {
                Err(_) if retry_read(conn, &mut attempt) => continue,
                outcome => return outcome,
            }
        }
    }

    async fn reset(&self, keep_prefixes: &[String]) -> Result<(), StoreError> {
        let gaps = reset_gaps(keep_prefixes);
        let mut attempt = 1;
        let mut lease_waits = 0;
        loop {
            let outcome = {
                let mut pooled = self.pool.get().await?;
                self.try_reset(pooled.conn()?, &gaps).await
            };
            match outcome {
                Ok(()) => {
                    self.cache.clear();
                    return Ok(());
                }
                Err(Failure::Fail(e)) => return Err(e),
                Err(Failure::Violated(e) | Failure::Unknown(e)) => return Err(StoreError::Backend(e)),
                Err(Failure::LeaseHeld(holder)) => lease::wait_out(&self.pool, &holder, &mut lease_waits).await?,
                Err(Failure::Retry(e)) if attempt >= MAX_ATTEMPTS => {
                    return Err(StoreError::Backend(format!("postgres reset failed {attempt} times: {e}")))
                }
                Err(Failure::Retry(_)) => {
                    tokio::time::sleep(Duration::from_millis(1 << attempt)).await;
                    attempt += 1;
                }
            }
        }
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn cached_version(&self, key: &str) -> Option<(u64, u64)> {
        self.covered_cache()?.version(key)
    }

    fn reads_current(&self, reads: &[(String, Option<u64>)]) -> Option<u64> {
        self.covered_cache()?.reads_current(reads)
    }

    fn cache_changes(&self) -> Option<u64> {
        // A lease taken back clears the cache, which counts as a change.
        Some(self.covered_cache()?.changes())
    }

    fn decoded_records(&self) -> Option<&DecodedCache> {
        Some(&self.decoded)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use locks::fnv1a;
    use std::future::Future;
    use tokio_postgres::Client;

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(validate_schema("ingot_test_0123abcd").is_ok());
        assert!(validate_schema("Ingot").is_ok());
        for bad in ["", "1abc", "a-b", "a\"b", "a b", "a;drop", &"x".repeat(64)] {
            assert!(validate_schema(bad).is_err(), "{bad:?} accepted");
        }
    }

    /// Runs `check` on a store in a fresh schema when `INGOT_TEST_DATABASE_URL` is set, and
    /// drops the schema afterwards even if the check panicked.
    pub(crate) async fn in_test_schema<F, Fut>(check: F)
    where
        F: FnOnce(Arc<PostgresStore>, String, String) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Ok(url) = std::env::var("INGOT_TEST_DATABASE_URL") else {
            println!("skipped: INGOT_TEST_DATABASE_URL is not set");
            return;
        };
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let schema = format!("ingot_test_{:016x}", fnv1a(&[&nanos.to_be_bytes(), &std::process::id().to_be_bytes()]));
        let store = PostgresStore::connect(&url, Some(&schema)).await.unwrap();
        let outcome = tokio::spawn(check(store, url.clone(), schema.clone())).await;
        drop_schema(&url, &schema).await.unwrap();
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    }

    /// Opens a connection of its own in `schema`, begins a transaction and runs `sql` in it,
    /// leaving the transaction open for the caller to commit.
    pub(crate) async fn begin_outside_the_store(url: &str, schema: &str, sql: &str) -> Client {
        let raw = open_client(&parse_config(url).unwrap()).await.unwrap();
        raw.batch_execute(&format!("SET search_path TO \"{schema}\"; BEGIN; {sql}")).await.unwrap();
        raw
    }
}
