//! The cache lease: a replica may serve point reads from memory only while it holds the lease,
//! and no other replica writes while the lease is held.
//!
//! Why: on PostgreSQL every read was a round trip, several times the cost of the rest of a cheap
//! API call. A replica cannot know what other replicas wrote without asking the database, so a
//! cache is exact only when no one else writes. The lease makes that a fact the database checks:
//!
//! - every replica records itself alive in `replicas` about four times a second, and holds or
//!   takes the single row of `cache_lease` for [`TTL`] when no other replica is alive
//!   (`ingot_lease_tick`);
//! - every write (`ingot_commit`, reset) checks the lease row under the lock below, before it
//!   commits, and calls `ingot_lease_check` when another replica holds it: while that lease is
//!   unexpired the write fails with SQLSTATE `IGC02`; the writer then revokes the
//!   lease (its holder can no longer renew it), waits until it expires, and writes. An expired
//!   lease is cleared by the first writer that sees it, in the writer's transaction, with an
//!   update that re-checks the expiry against the row's latest version: a renewal and a clear
//!   of one lease serialize on the row, and only one of them can succeed;
//! - writes hold the shared side of an advisory lock and *taking* the lease its exclusive side,
//!   so a new holder starts after every write that did not see it has committed. Renewing takes
//!   no advisory lock (only the row), so a holder under write load does not stall its writes
//!   four times a second;
//! - the holder trusts its cache only until the time it *sent* its last successful renewal plus
//!   [`TTL`] minus [`MARGIN`]: the database computed the expiry later than that send, so the
//!   holder stops before any other writer may start;
//! - the holder's own commits, before they return, keep what they wrote in its cache (with the
//!   versions `ingot_commit` returns) or forget it, as `ingot_store::backend::ReadCache` describes.
//!
//! One replica alone therefore reads from memory; with several, the first write of another
//! replica waits out the lease once (at most [`TTL`]) and from then on no one caches while they
//! are all alive. The SQL functions named here are created by migration 5
//! (`migrations/0005_cache_lease.sql`).

use crate::pool::{PgConn, Pool};
use crate::PostgresStore;
use ingot_store::backend::ReadCache;
use ingot_store::StoreError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Weak;
use std::time::{Duration, Instant};

/// How often a replica records itself alive and renews or tries to take the lease.
const TICK: Duration = Duration::from_millis(250);
/// How long a renewal keeps the lease, from the database's clock at the renewal.
const TTL: Duration = Duration::from_secs(2);
/// How much earlier than the lease's expiry the holder stops trusting its cache.
const MARGIN: Duration = Duration::from_millis(250);
/// How long a replica counts as alive after it last said so.
const ALIVE: Duration = Duration::from_secs(3);
/// Leases a single write waits out before it gives up (each wait is at most [`TTL`]).
const MAX_WAITS: u32 = 10;

/// The SQLSTATE of a write refused because another replica holds the lease; the message is the
/// holder.
const SQLSTATE_LEASE_HELD: &str = "IGC02";

/// The replica holding the lease, when `e` is a write refused because of it.
pub(crate) fn held_by(e: &tokio_postgres::Error) -> Option<String> {
    e.as_db_error().filter(|db| db.code().code() == SQLSTATE_LEASE_HELD).map(|db| db.message().to_string())
}

const SQL_TICK: &str = "SELECT ingot_lease_tick($1, $2, $3)";
const SQL_REVOKE: &str = "SELECT ingot_lease_revoke($1)";

/// This replica's side of the lease.
pub(crate) struct CacheLease {
    /// This replica's id, also set as `ingot.replica` on every pooled connection.
    pub(crate) replica: String,
    /// Until when the cache may be trusted, in nanoseconds after `started`; 0 when the lease is
    /// not held. An atomic rather than a lock: every cached read asks, from every core.
    trusted_until: AtomicU64,
    started: Instant,
}

impl CacheLease {
    pub(crate) fn new(replica: String) -> CacheLease {
        CacheLease { replica, trusted_until: AtomicU64::new(0), started: Instant::now() }
    }

    /// Whether cached reads are exact now.
    pub(crate) fn covers(&self) -> bool {
        let until = self.trusted_until.load(Ordering::SeqCst);
        until != 0 && self.nanos(Instant::now()) < until
    }

    fn nanos(&self, at: Instant) -> u64 {
        // At least 1, so that a lease held from the very start is not read as none.
        u64::try_from(at.saturating_duration_since(self.started).as_nanos()).unwrap_or(u64::MAX).max(1)
    }

    /// Records the outcome of a tick sent at `sent`. A lease newly held starts from an empty
    /// cache: other replicas may have written while it was not.
    fn ticked(&self, sent: Instant, held: bool, cache: &ReadCache) {
        let newly = held && !self.covers();
        if newly || !held {
            cache.clear();
        }
        let until = if held { self.nanos(sent + TTL - MARGIN) } else { 0 };
        self.trusted_until.store(until, Ordering::SeqCst);
    }
}

/// Ticks every [`TICK`] while the store exists.
pub(crate) async fn run(store: Weak<PostgresStore>) {
    loop {
        tokio::time::sleep(TICK).await;
        let Some(store) = store.upgrade() else {
            return;
        };
        tick(&store).await;
    }
}

/// Records this replica alive, renews or takes the lease, and trusts the cache accordingly.
pub(crate) async fn tick(store: &PostgresStore) {
    let sent = Instant::now();
    let held = async {
        let mut pooled = store.pool.get().await?;
        tick_once(pooled.conn()?, &store.cache_lease.replica).await
    };
    let held = match held.await {
        Ok(held) => held,
        Err(e) => {
            tracing::debug!(error = %e, "cache lease tick failed");
            false
        }
    };
    store.cache_lease.ticked(sent, held, &store.cache);
}

async fn tick_once(conn: &mut PgConn, replica: &str) -> Result<bool, StoreError> {
    let statement = conn.statement(SQL_TICK).await?;
    let (ttl, alive) = (TTL.as_millis() as i32, ALIVE.as_millis() as i32);
    let row =
        conn.client.query_one(&statement, &[&replica, &ttl, &alive]).await.map_err(|e| conn.failed("lease", e))?;
    row.try_get(0).map_err(|e| StoreError::Backend(format!("postgres lease: {e}")))
}

/// Revokes the lease `holder` holds and waits until it has expired; the caller then writes
/// again. `waits` counts the leases one write has waited out.
pub(crate) async fn wait_out(pool: &Pool, holder: &str, waits: &mut u32) -> Result<(), StoreError> {
    *waits += 1;
    if *waits > MAX_WAITS {
        return Err(StoreError::Backend(format!("postgres write kept finding the cache lease held by {holder}")));
    }
    let remaining: Option<f64> = {
        let mut pooled = pool.get().await?;
        let conn = pooled.conn()?;
        let statement = conn.statement(SQL_REVOKE).await?;
        let row = conn.client.query_one(&statement, &[&holder]).await.map_err(|e| conn.failed("lease revoke", e))?;
        row.try_get(0).map_err(|e| StoreError::Backend(format!("postgres lease revoke: {e}")))?
    };
    tracing::debug!(holder, ?remaining, "waiting out another replica's cache lease");
    // No row: the lease changed hands meanwhile; write again at once and look again.
    if let Some(seconds) = remaining {
        let wait = Duration::from_secs_f64(seconds.clamp(0.0, TTL.as_secs_f64())) + Duration::from_millis(5);
        tokio::time::sleep(wait).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::{open_client, parse_config};
    use crate::tests::in_test_schema;
    use ingot_store::{Batch, Expect, Store, Write};

    fn write(key: &str, value: &[u8], expect: Expect) -> Batch {
        Batch { writes: vec![Write { key: key.into(), value: Some(value.to_vec()), expect }], ..Batch::default() }
    }

    /// A write expecting nothing: the store did not read the key first.
    fn put(key: &str, value: &[u8]) -> Batch {
        write(key, value, Expect::Any)
    }

    async fn value(store: &PostgresStore, key: &str) -> Vec<u8> {
        store.get(key).await.unwrap().unwrap().value
    }

    /// A write of a key that must be absent: what a read-modify-write commits after reading
    /// the key and finding nothing.
    fn insert(key: &str, value: &[u8]) -> Batch {
        write(key, value, Expect::Absent)
    }

    #[tokio::test]
    async fn the_lease_holder_keeps_what_it_read_then_wrote_with_the_version_the_database_gave_it_but_not_blind_writes()
    {
        in_test_schema(|store, url, schema| async move {
            assert!(store.cache_lease.covers());
            store.commit(insert("kept/k", b"one")).await.unwrap();
            store.commit(put("blind/k", b"one")).await.unwrap();
            let client = open_client(&parse_config(&url).unwrap()).await.unwrap();
            let select = format!("SELECT version FROM \"{schema}\".kv WHERE key = convert_to('kept/k', 'UTF8')");
            let version: i64 = client.query_one(&select, &[]).await.unwrap().get(0);
            // Writes bypassing the store are seen only where the store reads the database.
            for key in ["kept/k", "blind/k"] {
                let raw = format!("UPDATE \"{schema}\".kv SET value = 'raw' WHERE key = convert_to('{key}', 'UTF8')");
                client.batch_execute(&raw).await.unwrap();
            }
            // Not read since the commit, yet served from memory.
            let item = store.get("kept/k").await.unwrap().unwrap();
            assert_eq!((item.version, item.value.as_slice()), (u64::try_from(version).unwrap(), &b"one"[..]));
            // Written without an expectation (nothing read it first): not kept, read from the database.
            assert_eq!(value(&store, "blind/k").await, b"raw");
        })
        .await;
    }

    #[tokio::test]
    async fn a_lone_replica_reads_from_memory_and_a_second_replica_writes_only_once_the_lease_has_expired() {
        in_test_schema(|first, url, schema| async move {
            assert!(first.cache_lease.covers(), "a replica alone takes the lease when it connects");
            first.commit(put("lease/k", b"one")).await.unwrap();
            assert_eq!(value(&first, "lease/k").await, b"one");
            // A write that bypasses the store is not seen: the read above now comes from memory.
            let client = open_client(&parse_config(&url).unwrap()).await.unwrap();
            let raw = format!("UPDATE \"{schema}\".kv SET value = 'raw' WHERE key = convert_to('lease/k', 'UTF8')");
            client.batch_execute(&raw).await.unwrap();
            assert_eq!(value(&first, "lease/k").await, b"one");

            let second = PostgresStore::connect(&url, Some(&schema)).await.unwrap();
            assert!(!second.cache_lease.covers(), "the lease is held by the first replica");
            let started = Instant::now();
            second.commit(put("lease/k", b"two")).await.unwrap();
            assert!(started.elapsed() < TTL + Duration::from_secs(2), "waited {:?}", started.elapsed());
            assert!(!first.cache_lease.covers(), "the holder stopped trusting its cache before the write");
            assert_eq!(value(&first, "lease/k").await, b"two");

            // While both are alive neither caches: the first does not take the lease back.
            tokio::time::sleep(TICK * 4).await;
            assert!(!first.cache_lease.covers() && !second.cache_lease.covers());
            second.commit(put("lease/k", b"three")).await.unwrap();
            assert_eq!(value(&first, "lease/k").await, b"three");
        })
        .await;
    }
}
