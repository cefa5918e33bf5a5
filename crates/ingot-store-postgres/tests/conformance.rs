//! Runs the conformance suite of `ingot-store` on PostgreSQL when `INGOT_TEST_DATABASE_URL` is
//! set (each test in a fresh schema it drops at the end); without it every test passes as
//! skipped.

use ingot_store::Store;
use ingot_store_postgres::{drop_schema, PostgresStore};
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const DATABASE_URL_VAR: &str = "INGOT_TEST_DATABASE_URL";

/// PostgreSQL tests running at once: each store may open a full connection pool, and the test
/// harness runs as many tests in parallel as the machine has cores, which on a large CI machine
/// would exceed the server's `max_connections`.
const MAX_POSTGRES_TESTS: usize = 4;
static POSTGRES_TESTS: AtomicUsize = AtomicUsize::new(0);

/// A slot among [`MAX_POSTGRES_TESTS`], released on drop (also when the test panics).
struct PostgresSlot;

impl PostgresSlot {
    /// Waits (asynchronously) until fewer than the maximum PostgreSQL tests are running.
    async fn acquire() -> PostgresSlot {
        while POSTGRES_TESTS.fetch_add(1, Ordering::SeqCst) >= MAX_POSTGRES_TESTS {
            POSTGRES_TESTS.fetch_sub(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        PostgresSlot
    }
}

impl Drop for PostgresSlot {
    fn drop(&mut self) {
        POSTGRES_TESTS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A schema name no other test run uses.
fn fresh_schema() -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher
        .write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    hasher.write_u32(std::process::id());
    format!("ingot_test_{:016x}", hasher.finish())
}

/// Runs `check` on a PostgreSQL store in a fresh schema, then drops the schema even when the
/// check panicked (the panic is re-raised afterwards). Skips when no database is configured.
async fn with_postgres<F, Fut>(test: &str, check: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Ok(url) = std::env::var(DATABASE_URL_VAR) else {
        println!("skipped {test}: {DATABASE_URL_VAR} is not set");
        return;
    };
    let _slot = PostgresSlot::acquire().await;
    let schema = fresh_schema();
    let store: Arc<dyn Store> = PostgresStore::connect(&url, Some(&schema)).await.expect("connect to postgres");
    let outcome = tokio::spawn(check(store)).await;
    drop_schema(&url, &schema).await.expect("drop test schema");
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("check did not finish: {e}"),
        }
    }
}

ingot_store::conformance_tests!(with_postgres);
