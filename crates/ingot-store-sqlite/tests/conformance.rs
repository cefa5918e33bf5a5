//! Runs the conformance suite of `ingot-store` on SQLite, each test on a fresh store in a
//! temporary directory.

use ingot_store::Store;
use ingot_store_sqlite::SqliteStore;
use std::future::Future;
use std::sync::Arc;

/// Runs `check` on a fresh SQLite store in a temporary directory.
async fn with_sqlite<F, Fut>(_test: &str, check: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temporary directory");
    let store: Arc<dyn Store> = SqliteStore::open(dir.path()).expect("open sqlite store");
    check(store).await;
}

ingot_store::conformance_tests!(with_sqlite);
