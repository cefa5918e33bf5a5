//! The test harness itself: what a failing test leaves behind.

use crate::support::{database_url, TestServer};

#[tokio::test]
async fn a_test_server_dropped_without_stop_removes_its_postgresql_schema() {
    if std::env::var("INGOT_TEST_BACKEND").as_deref() != Ok("postgres") {
        return; // SQLite's data lives in a temporary directory that is removed on drop.
    }
    let server = TestServer::start().await;
    let schema = server.schema().expect("a PostgreSQL server has a schema").to_string();
    let url = database_url();
    assert!(ingot_store_postgres::PostgresStore::schema_exists(&url, &schema).await.unwrap());
    // What a panicking test does: the server goes out of scope without `stop`.
    drop(server);
    assert!(!ingot_store_postgres::PostgresStore::schema_exists(&url, &schema).await.unwrap());
}
