//! The schema: migrations applied in order at open, each in its own transaction, and recorded
//! by number in `schema_migrations`.
//!
//! Each migration is a SQL file under `migrations/`, embedded in the binary, and frozen once
//! released: a database records only the numbers it applied, so a migration's text must never
//! change (the test below holds every file to the fingerprint it was frozen with). Append new
//! ones; never edit, renumber or reorder an applied one.
//!
//! Migration 2 adds the store-wide version counter, starting above every version migration 1's
//! per-key counting gave out, so versions are never reused from then on.

use crate::db_err;
use ingot_store::StoreError;
use rusqlite::Connection;

/// Every migration, by number, in the order it is applied.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_kv_and_outbox.sql")),
    (2, include_str!("../migrations/0002_version_counter.sql")),
];

/// Applies the migrations not yet recorded, each in its own transaction, so that a crash during
/// an upgrade leaves the schema at a recorded version.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    )
    .map_err(db_err("create schema_migrations"))?;
    for (version, sql) in MIGRATIONS {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db_err("begin migration"))?;
        let applied: bool = tx
            .query_row("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)", [version], |r| r.get(0))
            .map_err(db_err("read schema_migrations"))?;
        if applied {
            continue;
        }
        tx.execute_batch(sql).map_err(|e| StoreError::Backend(format!("sqlite migration {version}: {e}")))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            [version],
        )
        .map_err(db_err("record migration"))?;
        tx.commit().map_err(db_err("commit migration"))?;
        tracing::info!(version, "applied sqlite migration");
    }
    let newest: Option<i64> = conn
        .query_row("SELECT max(version) FROM schema_migrations", [], |r| r.get(0))
        .map_err(db_err("read schema_migrations"))?;
    let known = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if newest.is_some_and(|v| v > known) {
        // A newer Ingot migrated this database. Migrations only add, so keep going, but say so.
        tracing::warn!(newest, known, "sqlite database has migrations newer than this build");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{put, version_of};
    use crate::{SqliteStore, DB_FILE};
    use ingot_store::{Expect, Item, Store};

    #[tokio::test]
    async fn a_database_from_migration_one_keeps_its_versions_and_continues_above_them() {
        let dir = tempfile::tempdir().unwrap();
        {
            // The schema and data as a build that knew only migration 1 left them.
            let conn = crate::writer::open(&dir.path().join(DB_FILE)).unwrap();
            conn.execute_batch(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
                 INSERT INTO schema_migrations VALUES (1, '2024-01-01T00:00:00.000Z');",
            )
            .unwrap();
            conn.execute_batch(MIGRATIONS[0].1).unwrap();
            conn.execute_batch(
                "INSERT INTO kv VALUES (CAST('old/high' AS BLOB), 7, x'68');
                 INSERT INTO kv VALUES (CAST('old/low' AS BLOB), 3, x'6c');",
            )
            .unwrap();
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.get("old/high").await.unwrap(), Some(Item { version: 7, value: b"h".to_vec() }));
        assert_eq!(version_of(&store, "old/low").await, 3);
        // Writes continue above every version migration 1 handed out, whatever the key.
        store.commit(put("old/low", "x", Expect::Version(3))).await.unwrap();
        assert!(version_of(&store, "old/low").await > 7);
        store.commit(put("old/new", "n", Expect::Absent)).await.unwrap();
        assert!(version_of(&store, "old/new").await > version_of(&store, "old/low").await);
    }

    /// FNV-1a 64 of each migration's text when it was frozen.
    const FROZEN: &[(i64, u64)] = &[(1, 0xd87b_88ef_8c2b_9e19), (2, 0xc85e_b54e_a28d_365c)];

    #[test]
    fn migrations_are_numbered_in_order_complete_and_unchanged() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        ingot_store::backend::assert_migrations_frozen(&dir, MIGRATIONS, FROZEN);
    }

    #[test]
    fn migrations_are_recorded_once_and_reopening_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        drop(SqliteStore::open(dir.path()).unwrap());
        drop(SqliteStore::open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
        let versions: Vec<i64> = conn
            .prepare("SELECT version FROM schema_migrations ORDER BY version")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(versions, MIGRATIONS.iter().map(|(v, _)| *v).collect::<Vec<_>>());
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }
}
