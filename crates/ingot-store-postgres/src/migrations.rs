//! The schema: migrations applied in order at connect and recorded by number in
//! `schema_migrations`, all in one transaction under an advisory lock, so that replicas starting
//! together neither race on `CREATE SCHEMA` nor apply a migration twice.
//!
//! Each migration is a SQL file under `migrations/`, embedded in the binary, and frozen once
//! released: a database records only the numbers it applied, so a migration's text must never
//! change (a test below holds every file to the fingerprint it was frozen with). Append new ones;
//! never edit, renumber or reorder an applied one. A migration that changes `ingot_commit`
//! creates it whole, so the files repeat much of its text; the last one is the current function
//! (`plan.rs` describes what it does).
//!
//! 1. The key-value table and the outbox.
//! 2. The store-wide version sequence `kv_version`, replacing per-key counting (`version + 1`),
//!    started above every existing version; the table lock keeps writers that are still running
//!    from adding a higher one meanwhile.
//! 3. Outbox rows record their transaction id, and are read in (`xid`, `seq`) order (`outbox.rs`).
//! 4. `ingot_commit`: a whole commit in one statement, so that it costs one round trip.
//! 5. The cache lease (`lease.rs`), and `ingot_commit` checking it first.
//! 6. `ingot_commit` swaps the keys expected at a version and written, returns the versions it
//!    gave, and runs three statements where it ran nine and a nested function call. A new result
//!    type needs `DROP` first; the migration runs in one transaction.
//! 7. Cheaper writes: every index entry a write adds is WAL and CPU inside the commit. The
//!    outbox's primary key on `seq` serves no query (readers go by (`topic`, `xid`, `seq`), and the
//!    sequence already makes `seq` unique), so it goes. The key-value table leaves a fifth of each
//!    new page free, so that an updated row (a parameter's current record, rewritten by every
//!    PutParameter) usually fits on its page as a heap-only tuple and the primary key gets no new
//!    entry.
//! 8. LZ4 for outbox payloads: the audit records of reads are written as outbox entries of up to
//!    256 records (tens of kilobytes), which PostgreSQL compresses when it stores them out of
//!    line, and its own `pglz` costs several times LZ4's CPU for that. PostgreSQL builds without
//!    LZ4 (and versions before 14, which cannot choose) keep the default: the statement is run
//!    dynamically and its failure ignored.
//! 9. An outbox row may hold several entries of one topic (`outbox.rs`); `ingot_commit` takes the
//!    entry counts as a seventeenth argument, in an overload beside the old one, which older
//!    replicas keep calling.
//!
//! Upgrades: replicas of a build without migration 2 count versions per key and could reuse one,
//! so they must all be stopped before the first replica of a newer build starts (no rolling
//! upgrade across this migration). The same holds for migration 5 (replicas of an older build
//! neither keep nor understand the cache lease, so their writes fail while a newer replica holds
//! it) and for migration 6, which changes `ingot_commit`'s arguments. Older replicas run on
//! migrations 7 and 8 unchanged. They write on migration 9 too, but do not read merged outbox
//! rows: outbox consumers must run a build that knows migration 9.

use crate::locks::Locks;
use crate::pool::{describe, pg_err, PgConn};
use ingot_store::StoreError;
use std::collections::HashSet;

/// Advisory lock classes (first key of the two-`int4` form, a space distinct from the `int8` key
/// locks). The second key is derived from the schema so that tests in separate schemas and
/// several Ingot deployments in one database do not block each other.
const LOCK_CLASS_MIGRATIONS: i32 = 0x1460_0001;

/// Every migration, by number, in the order it is applied.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_kv_and_outbox.sql")),
    (2, include_str!("../migrations/0002_version_sequence.sql")),
    (3, include_str!("../migrations/0003_outbox_transaction_order.sql")),
    (4, include_str!("../migrations/0004_commit_function.sql")),
    (5, include_str!("../migrations/0005_cache_lease.sql")),
    (6, include_str!("../migrations/0006_commit_swaps.sql")),
    (7, include_str!("../migrations/0007_cheaper_writes.sql")),
    (8, include_str!("../migrations/0008_outbox_lz4.sql")),
    (9, include_str!("../migrations/0009_shared_outbox_rows.sql")),
    (10, include_str!("../migrations/0010_shared_check_locks.sql")),
];

/// Creates the schema and applies pending migrations in one transaction under an advisory lock,
/// so that replicas starting together neither race on `CREATE SCHEMA` nor apply a migration
/// twice.
pub(crate) async fn migrate(conn: &mut PgConn, schema: Option<&str>, locks: Locks) -> Result<(), StoreError> {
    conn.in_transaction = true;
    let client = &conn.client;
    client.batch_execute("BEGIN").await.map_err(pg_err("begin migrations"))?;
    client
        .execute("SELECT pg_advisory_xact_lock($1::int4, $2::int4)", &[&LOCK_CLASS_MIGRATIONS, &locks.class_key()])
        .await
        .map_err(pg_err("lock migrations"))?;
    if let Some(schema) = schema {
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .await
            .map_err(pg_err("create schema"))?;
    }
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await
        .map_err(pg_err("create schema_migrations"))?;
    let applied: HashSet<i64> = client
        .query("SELECT version FROM schema_migrations", &[])
        .await
        .map_err(pg_err("read schema_migrations"))?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()
        .map_err(pg_err("read schema_migrations"))?;
    for (version, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        client
            .batch_execute(sql)
            .await
            .map_err(|e| StoreError::Backend(format!("postgres migration {version}: {}", describe(&e))))?;
        client
            .execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[version])
            .await
            .map_err(pg_err("record migration"))?;
        tracing::info!(version, "applied postgres migration");
    }
    client.batch_execute("COMMIT").await.map_err(pg_err("commit migrations"))?;
    conn.in_transaction = false;
    let known = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if let Some(newest) = applied.iter().max().filter(|v| **v > known) {
        // A newer Ingot migrated this database. Migrations only add, so keep going, but say so.
        tracing::warn!(newest, known, "postgres schema has migrations newer than this build");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locks::fnv1a;
    use crate::pool::{open_client, parse_config};
    use crate::{drop_schema, PostgresStore};
    use ingot_store::{Batch, Expect, Item, OutboxEntry, OutboxPosition, Store, Write};

    /// FNV-1a 64 of each migration's text when it was frozen.
    const FROZEN: &[(i64, u64)] = &[
        (1, 0x6550_25a4_e7fc_069d),
        (2, 0x064f_072d_a575_4128),
        (3, 0xadd4_d46a_5ecd_0760),
        (4, 0x4a86_fc36_0303_3020),
        (5, 0xe92c_78ab_95f3_a7f2),
        (6, 0xeda2_1e74_adb3_4d64),
        (7, 0xd4b4_26d6_5857_327c),
        (8, 0xd50b_1d87_ca69_3726),
        (9, 0x3348_21e7_4131_0df9),
        (10, 0xc985_80c9_94ae_45ad),
    ];

    #[test]
    fn migrations_are_numbered_in_order_complete_and_unchanged() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        ingot_store::backend::assert_migrations_frozen(&dir, MIGRATIONS, FROZEN);
    }

    fn write(key: &str, value: Option<&str>, expect: Expect) -> Write {
        Write { key: key.into(), value: value.map(|v| v.as_bytes().to_vec()), expect }
    }

    #[tokio::test]
    async fn a_schema_from_migration_one_keeps_its_versions_and_continues_above_them() {
        let Ok(url) = std::env::var("INGOT_TEST_DATABASE_URL") else {
            println!("skipped: INGOT_TEST_DATABASE_URL is not set");
            return;
        };
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let schema =
            format!("ingot_test_{:016x}", fnv1a(&[b"m1", &nanos.to_be_bytes(), &std::process::id().to_be_bytes()]));
        let check = {
            let (url, schema) = (url.clone(), schema.clone());
            async move {
                // The schema and data as a build that knew only migration 1 left them.
                let raw = open_client(&parse_config(&url).unwrap()).await.unwrap();
                raw.batch_execute(&format!(
                    "CREATE SCHEMA \"{schema}\"; SET search_path TO \"{schema}\";
                     CREATE TABLE schema_migrations (
                         version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
                     INSERT INTO schema_migrations (version) VALUES (1);"
                ))
                .await
                .unwrap();
                raw.batch_execute(MIGRATIONS[0].1).await.unwrap();
                raw.batch_execute(
                    "INSERT INTO kv VALUES ('old/high'::bytea, 7, '\\x68'), ('old/low'::bytea, 3, '\\x6c');
                     INSERT INTO outbox (topic, payload) VALUES ('old', '\\x01');",
                )
                .await
                .unwrap();
                let store = PostgresStore::connect(&url, Some(&schema)).await.unwrap();
                let version = |key: &'static str| {
                    let store = store.clone();
                    async move { store.get(key).await.unwrap().unwrap().version }
                };
                assert_eq!(store.get("old/high").await.unwrap(), Some(Item { version: 7, value: b"h".to_vec() }));
                assert_eq!(version("old/low").await, 3);
                // Writes continue above every version migration 1 handed out, whatever the key.
                store
                    .commit(Batch { writes: vec![write("old/low", Some("x"), Expect::Version(3))], ..Batch::default() })
                    .await
                    .unwrap();
                assert!(version("old/low").await > 7);
                store
                    .commit(Batch { writes: vec![write("old/new", Some("n"), Expect::Absent)], ..Batch::default() })
                    .await
                    .unwrap();
                assert!(version("old/new").await > version("old/low").await);
                // Outbox rows from before migration 3 come before the ones appended after it.
                store
                    .commit(Batch {
                        outbox: vec![OutboxEntry { topic: "old".into(), payload: vec![2] }],
                        ..Batch::default()
                    })
                    .await
                    .unwrap();
                let records = store.outbox_after("old", OutboxPosition::START, 10).await.unwrap();
                assert_eq!(records.iter().map(|r| r.payload.clone()).collect::<Vec<_>>(), vec![vec![1], vec![2]]);
            }
        };
        let outcome = tokio::spawn(check).await;
        drop_schema(&url, &schema).await.unwrap();
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}
