//! The connection pool, and what every use of a connection shares: error mapping, detection of
//! a lost connection, and pipelining.
//!
//! The pool is a small one of our own: a semaphore bounds the connections in use, idle ones wait
//! in a stack, and closed ones are dropped and replaced on demand. A connection borrowed from it
//! is a [`PooledConn`]; it goes back on drop unless it is lost or was left inside a transaction
//! (a cancelled request), so a connection in an unknown state is never reused. Each connection
//! keeps the statements it has prepared for its whole session.

use ingot_store::StoreError;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::Poll;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, NoTls, Row, Statement};

/// Connections per store (per replica). A commit, or a group of them, holds one for a round trip
/// plus its flush.
pub const POOL_SIZE: usize = 8;

/// Describes a driver error with the server's message: the driver's own `Display` says only
/// "db error".
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match (e.as_db_error(), std::error::Error::source(e)) {
        (Some(db), _) => format!("{} ({})", db, db.code().code()),
        (None, Some(source)) => format!("{e}: {source}"),
        (None, None) => e.to_string(),
    }
}

/// Maps a driver error to the contract's backend failure, with context.
pub(crate) fn pg_err(context: &'static str) -> impl Fn(tokio_postgres::Error) -> StoreError {
    move |e| StoreError::Backend(format!("postgres {context}: {}", describe(&e)))
}

/// Whether an error means the connection is gone (closed socket, server shutdown or backend
/// terminated: SQLSTATE classes 08 and 57P): the connection must not be reused, and an operation
/// that certainly did not commit may be repeated on a fresh one.
pub(crate) fn connection_lost(e: &tokio_postgres::Error) -> bool {
    e.is_closed() || e.code().is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57P"))
}

/// One pooled connection, with the statements it has prepared (they live as long as the
/// session, so each is prepared once per connection).
pub(crate) struct PgConn {
    pub(crate) client: Client,
    statements: HashMap<&'static str, Statement>,
    /// Set between `BEGIN` and the end of the transaction; a connection dropped while set (a
    /// cancelled request, a failed rollback) is closed rather than returned to the pool.
    pub(crate) in_transaction: bool,
    /// Set when an error showed the connection is gone, before the driver may have noticed.
    pub(crate) broken: bool,
}

impl PgConn {
    /// The prepared statement for `sql`, preparing it on first use on this connection.
    pub(crate) async fn statement(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).await.map_err(|e| self.failed("prepare", e))?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    /// Maps a driver error to a backend failure, remembering whether it lost the connection.
    pub(crate) fn failed(&mut self, context: &'static str, e: tokio_postgres::Error) -> StoreError {
        if connection_lost(&e) {
            self.broken = true;
        }
        StoreError::Backend(format!("postgres {context}: {}", describe(&e)))
    }

    /// Whether the connection is known to be unusable.
    pub(crate) fn lost(&self) -> bool {
        self.broken || self.client.is_closed()
    }
}

/// The pool (see the module documentation).
pub(crate) struct Pool {
    config: Config,
    /// Run on every new connection: the search path (when a schema is given) and the replica id.
    pub(crate) session_setup: String,
    idle: Mutex<Vec<PgConn>>,
    permits: Semaphore,
}

/// A connection borrowed from the pool; returned on drop when it is still usable.
pub(crate) struct PooledConn<'a> {
    conn: Option<PgConn>,
    pool: &'a Pool,
    _permit: SemaphorePermit<'a>,
}

impl PooledConn<'_> {
    /// The borrowed connection; it is only taken out when the guard is dropped.
    pub(crate) fn conn(&mut self) -> Result<&mut PgConn, StoreError> {
        self.conn.as_mut().ok_or_else(|| StoreError::Backend("postgres pooled connection is gone".into()))
    }
}

impl Drop for PooledConn<'_> {
    /// Returns the connection unless it is closed or left inside a transaction.
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if !conn.in_transaction && !conn.lost() {
                self.pool.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
            }
        }
    }
}

impl Pool {
    /// A pool of [`POOL_SIZE`] connections to `config`, each set up with `session_setup` when it
    /// is opened.
    pub(crate) fn new(config: Config, session_setup: String) -> Pool {
        Pool { config, session_setup, idle: Mutex::new(Vec::new()), permits: Semaphore::new(POOL_SIZE) }
    }

    /// Borrows a connection, waiting for a free slot and opening a connection if no idle one is
    /// healthy.
    pub(crate) async fn get(&self) -> Result<PooledConn<'_>, StoreError> {
        let permit = self.permits.acquire().await.map_err(|_| StoreError::Backend("postgres pool closed".into()))?;
        loop {
            let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            match idle {
                Some(conn) if conn.lost() => continue,
                Some(conn) => return Ok(PooledConn { conn: Some(conn), pool: self, _permit: permit }),
                None => break,
            }
        }
        let conn = self.open().await?;
        Ok(PooledConn { conn: Some(conn), pool: self, _permit: permit })
    }

    /// Opens a connection, drives it on a spawned task and points its search path at the schema.
    async fn open(&self) -> Result<PgConn, StoreError> {
        let client = open_client(&self.config).await?;
        client.batch_execute(&self.session_setup).await.map_err(pg_err("session setup"))?;
        Ok(PgConn { client, statements: HashMap::new(), in_transaction: false, broken: false })
    }
}

/// Connects without TLS and spawns the task that drives the connection; the task ends when the
/// client is dropped or the server goes away (the client then reports itself closed).
pub(crate) async fn open_client(config: &Config) -> Result<Client, StoreError> {
    let (client, connection) = config.connect(NoTls).await.map_err(pg_err("connect"))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %describe(&e), "postgres connection ended");
        }
    });
    Ok(client)
}

/// The statements every new connection runs: the schema's search path and the replica id that
/// `ingot_lease_check` compares with the lease holder. Both are plain identifiers or hex.
///
/// Sequential scans are also switched off: every statement here reads by key or key range, and
/// `ingot_commit` keeps the plans PL/pgSQL made for it for the connection's life. Plans made
/// while `kv` was small (a new schema; and nothing refreshes its statistics where autovacuum is
/// off) scanned the whole table for each `key = ANY(…)`, which slowed writes down sharply once
/// the table had grown. JIT compilation is off too: it only pays for long analytical
/// queries, and the planner's penalty for a disabled scan made it compile short ones.
pub(crate) fn session_setup(schema: Option<&str>, replica: &str) -> String {
    let search_path = schema.map(|s| format!("SET search_path TO \"{s}\"; ")).unwrap_or_default();
    format!("{search_path}SET ingot.replica TO '{replica}'; SET enable_seqscan TO off; SET jit TO off")
}

/// Parses the URL and fills in defaults that make connections identifiable and bounded.
pub(crate) fn parse_config(url: &str) -> Result<Config, StoreError> {
    let mut config: Config =
        url.parse().map_err(|e: tokio_postgres::Error| StoreError::Backend(format!("invalid postgres url: {e}")))?;
    if config.get_application_name().is_none() {
        config.application_name("ingot");
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    Ok(config)
}

pub(crate) type PgResult = Result<Vec<Row>, tokio_postgres::Error>;
pub(crate) type PgFuture<'a> = Pin<Box<dyn Future<Output = PgResult> + Send + 'a>>;

/// A prepared statement execution as a pipeline element.
pub(crate) fn query<'a>(
    client: &'a Client,
    statement: &'a Statement,
    params: Vec<&'a (dyn ToSql + Sync)>,
) -> PgFuture<'a> {
    Box::pin(async move { client.query(statement, &params).await })
}

/// A simple-protocol command (`BEGIN`, `COMMIT`) as a pipeline element.
pub(crate) fn simple<'a>(client: &'a Client, sql: &'static str) -> PgFuture<'a> {
    Box::pin(async move { client.batch_execute(sql).await.map(|()| Vec::new()) })
}

/// Runs statements pipelined: each future sends its request on its first poll, and the first
/// polls happen in order, so the server executes them in order while the client waits for all
/// answers once. Results are in the same order.
pub(crate) async fn pipeline(futures: Vec<PgFuture<'_>>) -> Vec<PgResult> {
    let mut pending: Vec<Option<PgFuture<'_>>> = futures.into_iter().map(Some).collect();
    let mut results: Vec<Option<PgResult>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (slot, result) in pending.iter_mut().zip(results.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(r) => {
                        *result = Some(r);
                        *slot = None;
                    }
                    Poll::Pending => done = false,
                }
            }
        }
        if done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

/// The first failure of a pipeline: later ones are usually "transaction is aborted" echoes.
pub(crate) fn first_error(results: &[PgResult]) -> Option<&tokio_postgres::Error> {
    results.iter().find_map(|r| r.as_ref().err())
}

/// Whether a failed read is repeated: once, when its connection turned out to be closed (server
/// restart, idle connection terminated) — a read has no effect, so repeating it is safe, and the
/// closed connection is replaced by the next one taken from the pool.
pub(crate) fn retry_read(conn: &PgConn, attempt: &mut u32) -> bool {
    let retry = *attempt == 1 && conn.lost();
    *attempt += 1;
    retry
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::in_test_schema;
    use crate::PostgresStore;
    use ingot_store::{Batch, Expect, Store, Write};

    fn write(key: &str, value: Option<&str>, expect: Expect) -> Write {
        Write { key: key.into(), value: value.map(|v| v.as_bytes().to_vec()), expect }
    }

    /// Terminates the server process behind one of the store's pooled connections.
    async fn terminate_a_pooled_connection(store: &PostgresStore, url: &str) {
        let pid: i32 = {
            let mut pooled = store.pool.get().await.unwrap();
            let conn = pooled.conn().unwrap();
            conn.client.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0)
        };
        let admin = open_client(&parse_config(url).unwrap()).await.unwrap();
        admin.execute("SELECT pg_terminate_backend($1)", &[&pid]).await.unwrap();
    }

    #[tokio::test]
    async fn pipelined_statements_run_in_order_in_one_transaction() {
        in_test_schema(|store, _, _| async move {
            let mut pooled = store.pool.get().await.unwrap();
            let conn = pooled.conn().unwrap();
            let xid = conn.statement("SELECT txid_current()").await.unwrap();
            let client = &conn.client;
            let results = pipeline(vec![
                simple(client, "BEGIN"),
                query(client, &xid, vec![]),
                query(client, &xid, vec![]),
                simple(client, "COMMIT"),
            ])
            .await;
            assert!(results.iter().all(|r| r.is_ok()));
            let xids: Vec<i64> = results[1..3].iter().map(|r| r.as_ref().unwrap()[0].get::<_, i64>(0)).collect();
            assert_eq!(xids[0], xids[1]);
        })
        .await;
    }

    #[tokio::test]
    async fn a_terminated_connection_is_replaced() {
        in_test_schema(|store, url, _| async move {
            store.commit(Batch { writes: vec![write("k", Some("v"), Expect::Any)], ..Batch::default() }).await.unwrap();
            // Whether or not the pool noticed yet, the next operation works on a new connection:
            // a read is repeated, a commit that had not sent COMMIT yet is retried. (The read
            // must reach the database: the commit left "k" in the cache.)
            terminate_a_pooled_connection(&store, &url).await;
            store.cache.clear();
            assert_eq!(store.get("k").await.unwrap().map(|i| i.value), Some(b"v".to_vec()));
            let first = store.get("k").await.unwrap().unwrap().version;
            terminate_a_pooled_connection(&store, &url).await;
            store
                .commit(Batch { writes: vec![write("k", Some("w"), Expect::Version(first))], ..Batch::default() })
                .await
                .unwrap();
            assert!(store.get("k").await.unwrap().unwrap().version > first);
        })
        .await;
    }
}
