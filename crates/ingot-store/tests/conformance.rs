//! Runs the conformance suite against every backend: SQLite in a temporary directory always, and
//! PostgreSQL when `INGOT_TEST_DATABASE_URL` is set (each test in a fresh schema it drops at the
//! end). Test names are `<backend>::<behaviour>`.

use ingot_store::conformance;
use ingot_store::postgres::drop_schema;
use ingot_store::{PostgresStore, SqliteStore, Store};
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const DATABASE_URL_VAR: &str = "INGOT_TEST_DATABASE_URL";

/// Runs `check` on a fresh SQLite store in a temporary directory.
async fn with_sqlite<F, Fut>(check: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temporary directory");
    let store: Arc<dyn Store> = SqliteStore::open(dir.path()).expect("open sqlite store");
    check(store).await;
}

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
        println!("skipped postgres::{test}: {DATABASE_URL_VAR} is not set");
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

/// One test per (backend, conformance function).
macro_rules! conformance_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    with_sqlite(conformance::$name).await;
                }
            )*
        }

        mod postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    with_postgres(stringify!($name), conformance::$name).await;
                }
            )*
        }
    };
}

conformance_tests!(
    get_of_a_missing_key_returns_none,
    put_then_get_returns_the_value_at_a_version_that_grows_with_every_write,
    delete_removes_the_key_and_a_recreated_key_gets_a_version_above_all_it_had_before,
    an_expected_version_read_before_a_delete_and_recreate_fails_after_it,
    scan_returns_keys_in_bytewise_order,
    scan_stays_within_the_prefix,
    scan_honours_start_after_and_limit,
    expectations_succeed_and_fail_correctly,
    a_failed_batch_writes_nothing_and_appends_no_outbox,
    checks_on_read_keys_conflict_when_those_keys_changed,
    a_key_written_twice_in_one_batch_ends_with_the_last_write,
    the_outbox_is_ordered_filtered_by_topic_and_resumes_after_a_seq,
    reset_keeps_listed_prefixes_and_clears_the_outbox,
    many_concurrent_commits_to_distinct_keys_all_land,
    concurrent_commits_with_stale_expectations_fail_alone,
    concurrent_increments_with_version_expectations_lose_none,
    versions_of_a_key_never_go_down_under_concurrent_writers_of_every_kind,
    tx_reads_its_own_writes,
    tx_get_record_returns_the_latest_version_every_time,
    tx_scan_merges_pending_writes_and_deletes,
    tx_commit_conflicts_when_another_commit_changed_a_read_key,
    tx_insert_new_conflicts_when_the_key_exists,
    run_all,
);
