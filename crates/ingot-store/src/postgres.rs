//! The scale-out backend: several Ingot replicas share one PostgreSQL database.
//!
//! A commit is one READ COMMITTED transaction that is correct across replicas because of locks,
//! not isolation level:
//!
//! - keys a batch reads with an expectation but does not write are locked with
//!   `SELECT … FOR UPDATE` (in key order, so two commits lock in the same order) and checked
//!   against the locked rows; keys it writes expecting a version are swapped by an upsert whose
//!   update applies only at that version (its row lock is the lock), and keys it writes expecting
//!   absence are inserted only if absent (`ON CONFLICT DO NOTHING`, waiting for a racing insert);
//! - a row that does not exist cannot be locked, so keys whose *absence* matters (`Absent` checks)
//!   and every key a batch puts (which may create it) take a transaction-level advisory lock on a
//!   stable 64-bit hash of the key first. Two commits that could disagree about a key's existence
//!   therefore serialize, and so do any two puts of one key; a hash collision only makes two
//!   unrelated commits wait for each other;
//! - a unique violation (from a writer that does not take these locks) still maps to
//!   [`StoreError::Conflict`].
//!
//! Versions come from the sequence `kv_version`: the insert takes `nextval` for each row, and the
//! `ON CONFLICT DO UPDATE` path keeps that value (`EXCLUDED.version`), or, for a swap, takes one
//! when it updates. A sequence gives each value out once, to whichever replica asks, and never
//! goes back, even when the transaction that took a value rolls back (gaps are expected), so no
//! version is ever given twice. Per key, versions grow
//! strictly — across a delete and re-create too — because a put holds the key's advisory lock
//! from before it takes its value until its transaction ends: every earlier put of the key took
//! its value before it committed, so before this one's. Without the lock on every put, a put
//! expecting a version (row lock only) and a put expecting nothing (advisory lock only) could take
//! their values in one order and apply them in the other.
//!
//! All of this happens inside one call of the SQL function `ingot_commit` (migration 4, replaced
//! by 5 and 6), run as its own implicit transaction: a commit costs one round trip plus its WAL
//! flush. It returns the versions it gave, so the lease holder can keep what it wrote cached. A
//! violated expectation raises SQLSTATE `IGC01` with the key as the message. (The statements sent
//! pipelined in two phases gave about 5 % less PutParameter throughput.) Concurrent commits whose
//! batches touch disjoint keys share one call, and so one transaction (`group.rs`).
//!
//! Point reads are served from memory while this replica holds the cache lease, that is while no
//! other replica may write (`lease.rs`); `ingot_commit` checks the lease before it commits.
//!
//! Outbox ordering: sequence values are handed out when rows are inserted but become visible when
//! their transaction commits, so a consumer ordering by `seq` could read seq 11 (committed) before
//! seq 10 (still in flight), advance its cursor past 10 and miss it forever. Each outbox row
//! therefore also records its transaction's id (`xid8`, default `pg_current_xact_id()`), the
//! delivery order is (`xid`, `seq`), and [`Store::outbox_after`] delivers only rows whose
//! transaction is older than the oldest one still running (`pg_snapshot_xmin`): every transaction
//! below that horizon has finished, so no row can later appear behind a consumer's cursor. Commits
//! take no lock for the outbox and group their WAL flushes. A read that sees rows above the
//! horizon waits (briefly: transactions here are short) until the horizon passes them, so that
//! everything committed before the call is delivered. A group commit stores each topic's entries
//! in one row, each entry at a position of its own (migration 9, [`SQL_SHARED_OUTBOX_ROWS`]).

use crate::common::{key_from_db, limit_to_db, prefix_successor, reset_gaps, scan_lower_bound, version_from_db};
use crate::read_cache::{ReadCache, DEFAULT_CAPACITY_BYTES};
use crate::{Batch, Expect, Item, OutboxPosition, OutboxRecord, Store, StoreError};
use async_trait::async_trait;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, NoTls, Row, Statement};

mod group;
#[macro_use]
mod lease;

/// Connections per store (per replica). Each commit holds one for two round trips plus a flush.
pub const POOL_SIZE: usize = 8;

/// Attempts for a commit that keeps failing with a deadlock or serialization failure.
const MAX_ATTEMPTS: u32 = 5;

/// Advisory lock classes (first key of the two-`int4` form, a space distinct from the `int8` key
/// locks). The second key is derived from the schema so that tests in separate schemas and
/// several Ingot deployments in one database do not block each other.
const LOCK_CLASS_MIGRATIONS: i32 = 0x1460_0001;

/// Schema migrations, applied in order at connect under an advisory lock and recorded in
/// `schema_migrations`. Append new ones; never edit or reorder an applied one.
///
/// Migration 2 replaces per-key version counting (`version + 1`) with the store-wide sequence,
/// started above every existing version; the table lock keeps writers that are still running
/// from adding a higher one meanwhile. Replicas of a build without migration 2 still count per
/// key and could reuse a version, so they must all be stopped before the first replica of a newer
/// build starts (no rolling upgrade across this migration). The same holds for migration 5:
/// replicas of an older build neither keep nor understand the cache lease, so their writes fail
/// while a newer replica holds it; and for migration 6, which changes `ingot_commit`'s arguments.
/// Migrations 7 and 8 only make writes cheaper and older builds run on them unchanged.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE kv (key BYTEA PRIMARY KEY, version BIGINT NOT NULL, value BYTEA NOT NULL);
     CREATE TABLE outbox (seq BIGSERIAL PRIMARY KEY, topic TEXT NOT NULL, payload BYTEA NOT NULL);
     CREATE INDEX outbox_topic_seq ON outbox (topic, seq);",
    ),
    (
        2,
        "LOCK TABLE kv IN EXCLUSIVE MODE;
         CREATE SEQUENCE kv_version AS BIGINT OWNED BY kv.version;
         SELECT setval('kv_version', coalesce(max(version), 0) + 1, false) FROM kv;",
    ),
    (
        3,
        "LOCK TABLE outbox IN EXCLUSIVE MODE;
         ALTER TABLE outbox ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
         DROP INDEX outbox_topic_seq;
         CREATE INDEX outbox_topic_xid_seq ON outbox (topic, xid, seq);",
    ),
    (4, SQL_CREATE_COMMIT_FUNCTION),
    (5, SQL_CREATE_CACHE_LEASE),
    (6, SQL_COMMIT_SWAPS),
    (7, SQL_CHEAPER_WRITES),
    (8, SQL_OUTBOX_LZ4),
    (9, SQL_SHARED_OUTBOX_ROWS),
];

/// Migration 8: the audit records of reads are written as outbox entries of up to 256 records
/// (tens of kilobytes), which PostgreSQL compresses when it stores them out of line; with its
/// own `pglz` that cost PostgreSQL about a tenth of a core under a GetParameter load. LZ4 does the
/// same work several times faster. PostgreSQL builds without LZ4 (and versions before 14, which
/// cannot choose) keep the default: the statement is run dynamically and its failure ignored.
const SQL_OUTBOX_LZ4: &str = "DO $$
BEGIN
    EXECUTE 'ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'outbox payloads keep the default compression: %', SQLERRM;
END
$$;";

/// Migration 7: every write updates keys in place and appends outbox rows, and each index entry
/// it adds is WAL and CPU inside the commit. The outbox's primary key on `seq` serves no query
/// (readers go by `(topic, xid, seq)`; the sequence already makes `seq` unique), so it goes. The
/// key-value table leaves a fifth of each new page free, so that an updated row (a parameter's
/// current record, rewritten by every PutParameter) usually fits on its page as a heap-only tuple
/// and the primary key gets no new entry.
const SQL_CHEAPER_WRITES: &str = "ALTER TABLE outbox DROP CONSTRAINT outbox_pkey;
ALTER TABLE kv SET (fillfactor = 80);";

/// The SQLSTATE `ingot_commit` raises when an expectation does not hold; the message is the key.
const SQLSTATE_CONFLICT: &str = "IGC01";

/// A whole commit in one statement, so that it costs one round trip and runs as one implicit
/// transaction: advisory locks on the keys whose existence matters, row locks on the expected keys
/// (sorted), the expectations checked in batch order (a NULL version means absent), then deletes,
/// inserts of keys expected absent (a racing insert is a unique violation), upserts, or — when the
/// batch writes a key twice — its writes one by one in batch order, and the outbox rows.
///
/// Applied migrations must not change, so the function's text is assembled from pieces that the
/// three migrations defining it (4, 5, 6) share; the head and the writes after the deletes differ.
macro_rules! commit_key_locks {
    () => {
        "    PERFORM pg_advisory_xact_lock(k) FROM unnest(key_locks) AS t(k);\n"
    };
}

/// The expectations checked before any write, the batch-ordered writes and the deletes.
macro_rules! commit_checks {
    () => {
"    IF cardinality(expect_keys) > 0 THEN
        PERFORM 1 FROM kv WHERE key = ANY(locked_keys) ORDER BY key FOR UPDATE;
        SELECT e.k INTO violated
          FROM unnest(expect_keys, expect_versions) WITH ORDINALITY AS e(k, v, n)
          LEFT JOIN kv ON kv.key = e.k
         WHERE kv.version IS DISTINCT FROM e.v
         ORDER BY e.n LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'IGC01', MESSAGE = convert_from(violated, 'UTF8');
        END IF;
    END IF;
    IF cardinality(ordered_keys) > 0 THEN
        FOR i IN 1 .. cardinality(ordered_keys) LOOP
            IF ordered_values[i] IS NULL THEN
                DELETE FROM kv WHERE key = ordered_keys[i];
            ELSE
                INSERT INTO kv (key, version, value) VALUES (ordered_keys[i], nextval('kv_version'), ordered_values[i])
                ON CONFLICT (key) DO UPDATE SET version = EXCLUDED.version, value = EXCLUDED.value;
            END IF;
        END LOOP;
    END IF;
    IF cardinality(deletes) > 0 THEN
        DELETE FROM kv WHERE key = ANY(deletes);
    END IF;
"
    };
}

/// The inserts of migrations 4 and 5, which return nothing.
macro_rules! commit_inserts_v4 {
    () => {
        "    IF cardinality(new_keys) > 0 THEN
        INSERT INTO kv (key, version, value)
        SELECT k, nextval('kv_version'), v FROM unnest(new_keys, new_values) AS t(k, v);
    END IF;
    IF cardinality(upsert_keys) > 0 THEN
        INSERT INTO kv (key, version, value)
        SELECT k, nextval('kv_version'), v FROM unnest(upsert_keys, upsert_values) AS t(k, v)
        ON CONFLICT (key) DO UPDATE SET version = EXCLUDED.version, value = EXCLUDED.value;
    END IF;
"
    };
}

/// The rest of `ingot_commit` after the deletes (migrations 6 and 9, which write outbox rows
/// differently), in one statement (each statement costs PostgreSQL more than the rows these
/// write): the swaps, inserts and upserts, the outbox rows, and the look at the cache lease. It collects the version each row took, so that the
/// writer can keep what it wrote in its read cache (the batch-ordered loop collects nothing: its
/// keys are only forgotten).
///
/// - The keys of the write parts are disjoint (a batch writing a key twice goes through the
///   loop), so running them together on one snapshot is running them in turn.
/// - Keys expected at a version and written are swapped: an upsert whose update applies only
///   where the stored version is the expected one, which replaces locking, checking and writing
///   them. A row it inserted (the key was absent) carries the expected version, which no updated
///   row can (those take a new value of the sequence): either that, or a row neither inserted nor
///   updated (another version is stored), is a violated expectation; raising it undoes the call.
///   Keys expected absent are inserted with `DO NOTHING`: a row that was there is not returned,
///   which names the batch exactly (a unique violation would fail the whole group).
/// - The lease row is read on a snapshot taken after the shared lease lock (the first statement),
///   so it shows any holder that took the lease before this transaction could write; the lock is
///   held to the end, so checking here, after the writes but before the commit, is as good as
///   checking first. Only another replica's lease needs `ingot_lease_check`.
macro_rules! commit_writes {
    ($outbox:expr) => {
        concat!(
            "    WITH s AS (
        INSERT INTO kv (key, version, value)
        SELECT k, v, val FROM unnest(swap_keys, swap_versions, swap_values) AS t(k, v, val)
        ON CONFLICT (key) DO UPDATE SET version = nextval('kv_version'), value = EXCLUDED.value
         WHERE kv.version = EXCLUDED.version
        RETURNING kv.key, kv.version
    ), n AS (
        INSERT INTO kv (key, version, value)
        SELECT k, nextval('kv_version'), v FROM unnest(new_keys, new_values) AS t(k, v)
        ON CONFLICT (key) DO NOTHING
        RETURNING kv.key, kv.version
    ), u AS (
        INSERT INTO kv (key, version, value)
        SELECT k, nextval('kv_version'), v FROM unnest(upsert_keys, upsert_values) AS t(k, v)
        ON CONFLICT (key) DO UPDATE SET version = EXCLUDED.version, value = EXCLUDED.value
        RETURNING kv.key, kv.version
    ), o AS (
",
            $outbox,
            "    )
    SELECT array_agg(w.key), array_agg(w.version),
           (SELECT count(*) FROM s) = cardinality(swap_keys)
           AND NOT EXISTS (SELECT 1 FROM s WHERE s.version = ANY(swap_versions))
           AND (SELECT count(*) FROM n) = cardinality(new_keys),
           (SELECT holder FROM cache_lease
             WHERE id = 0 AND holder IS DISTINCT FROM current_setting('ingot.replica', true))
      INTO written_keys, written_versions, swapped, other_holder
      FROM (SELECT key, version FROM s UNION ALL SELECT key, version FROM n
            UNION ALL SELECT key, version FROM u) AS w;
    IF NOT swapped THEN
        SELECT t.k INTO violated FROM unnest(swap_keys, swap_versions) WITH ORDINALITY AS t(k, v, n)
         WHERE NOT EXISTS (SELECT 1 FROM unnest(written_keys, written_versions) AS x(k, v)
                            WHERE x.k = t.k AND x.v <> t.v)
         ORDER BY t.n LIMIT 1;
        IF violated IS NULL THEN
            SELECT t.k INTO violated FROM unnest(new_keys) AS t(k)
             WHERE t.k <> ALL(coalesce(written_keys, '{}')) LIMIT 1;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'IGC01', MESSAGE = convert_from(violated, 'UTF8');
    END IF;
    IF other_holder IS NOT NULL THEN
        PERFORM ingot_lease_check();
    END IF;
"
        )
    };
}

/// Migration 6's outbox rows: one per entry, `seq` from the column's default.
macro_rules! commit_outbox_v6 {
    () => {
        "        INSERT INTO outbox (topic, payload)
        SELECT t, p FROM unnest(topics, payloads) WITH ORDINALITY AS e(t, p, n) ORDER BY n
"
    };
}

/// Migration 9's outbox rows: a row may hold several entries ([`frame_entries`]); its `seq` is
/// its last entry's (see [`SQL_SHARED_OUTBOX_ROWS`]).
macro_rules! commit_outbox_v9 {
    () => {
        "        INSERT INTO outbox (topic, payload, entries, seq)
        SELECT t, p, nullif(c, 1), nextval('outbox_seq_seq') + c - 1
          FROM unnest(topics, payloads, entry_counts) WITH ORDINALITY AS e(t, p, c, n) ORDER BY n
"
    };
}

/// The outbox rows of migrations 4 and 5.
macro_rules! commit_outbox {
    () => {
        "    IF cardinality(topics) > 0 THEN
        INSERT INTO outbox (topic, payload)
        SELECT t, p FROM unnest(topics, payloads) WITH ORDINALITY AS u(t, p, n) ORDER BY n;
    END IF;
"
    };
}

/// Migrations 4 and 5 differ only in the lease check in front.
macro_rules! commit_function_v4 {
    ($lease_check:expr) => {
        concat!(
            "ingot_commit(
    key_locks int8[], locked_keys bytea[], expect_keys bytea[], expect_versions int8[],
    deletes bytea[], new_keys bytea[], new_values bytea[], upsert_keys bytea[], upsert_values bytea[],
    ordered_keys bytea[], ordered_values bytea[], topics text[], payloads bytea[]
) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    violated bytea;
BEGIN
",
            $lease_check,
            commit_key_locks!(),
            commit_checks!(),
            commit_inserts_v4!(),
            commit_outbox!(),
            "END\n$fn$;"
        )
    };
}

const SQL_CREATE_COMMIT_FUNCTION: &str = concat!("\nCREATE FUNCTION ", commit_function_v4!(""));

/// Migration 5: the cache lease (see `postgres/lease.rs`) and `ingot_commit` checking it first.
const SQL_CREATE_CACHE_LEASE: &str = concat!(
    "CREATE TABLE cache_lease (
    id int PRIMARY KEY CHECK (id = 0),
    holder text,
    revoked boolean NOT NULL DEFAULT false,
    expires timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO cache_lease (id) VALUES (0);
CREATE TABLE replicas (id text PRIMARY KEY, alive_until timestamptz NOT NULL);
",
    lease_sql!(),
    "CREATE OR REPLACE FUNCTION ",
    commit_function_v4!("    PERFORM ingot_lease_check();\n")
);

/// `ingot_commit` from migration 6 on, whose versions differ in the outbox arguments (the last
/// before the results) and how the outbox rows are written.
macro_rules! commit_function_v6 {
    ($outbox_arguments:expr, $outbox:expr) => {
        concat!(
            "CREATE FUNCTION ingot_commit(
    key_locks int8[], locked_keys bytea[], expect_keys bytea[], expect_versions int8[],
    deletes bytea[], new_keys bytea[], new_values bytea[], upsert_keys bytea[], upsert_values bytea[],
    swap_keys bytea[], swap_versions int8[], swap_values bytea[],
    ordered_keys bytea[], ordered_values bytea[], ",
            $outbox_arguments,
            "
    OUT written_keys bytea[], OUT written_versions int8[]
) LANGUAGE plpgsql AS $fn$
DECLARE
    violated bytea;
    swapped boolean;
    other_holder text;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(ingot_lease_lock()),
            (SELECT count(pg_advisory_xact_lock(k)) FROM unnest(key_locks) AS t(k));
",
            commit_checks!(),
            commit_writes!($outbox),
            "END\n$fn$;"
        )
    };
}

/// Migration 6: `ingot_commit` takes the keys expected at a version and written apart (it swaps
/// them), returns the keys it inserted or upserted with their new versions, and runs in three
/// statements where it ran nine and a nested function call: the key locks with the shared lease
/// lock, the checks of keys only read (when there are any), and the writes with the outbox rows
/// and the look at the lease (`commit_writes`). Keys expected absent and inserted are checked
/// by their insert. (A new result type needs `DROP` first; the migration runs in one
/// transaction.) In the first statement PostgreSQL takes the shared lease lock before the key
/// locks (it evaluates the list in order and the subquery when it reaches it); the other order
/// could only add deadlocks with a replica taking the lease, which are detected and retried.
const SQL_COMMIT_SWAPS: &str = concat!(
    "DROP FUNCTION ingot_commit(
    int8[], bytea[], bytea[], int8[], bytea[], bytea[], bytea[], bytea[], bytea[], bytea[], bytea[], text[], bytea[]);
",
    commit_function_v6!("topics text[], payloads bytea[],", commit_outbox_v6!())
);

/// Migration 9: an outbox row may hold several entries of one topic. A group commit wrote one
/// row per entry, two per PutParameter (its event and its audit record), and each row is a heap
/// tuple, an index entry and their WAL inside the commit (without any, PutParameter at 16
/// connections ran 15.2k/s against 12.8k); merged per topic, a group writes two (11.7k and 12.9k
/// against 11.5k and 11.9k before, alternating runs on 2026-11-25).
///
/// `entries` is NULL for a row of one entry, stored as it is; otherwise the payload holds that
/// many framed entries ([`frame_entries`]). Positions stay one per entry: a row of `c` entries
/// takes `s = nextval + c - 1` as its `seq`, and its entries are at `s - c + 1 ..= s`. Other
/// transactions may use values in that range, but positions order by transaction first, and a
/// transaction writes rows of `c > 1` only in a group commit, one per topic, so the positions of
/// one topic within one transaction never overlap. The row's `seq` being its last entry's, a
/// cursor inside a row still selects it; the reader skips the entries at or before the cursor.
/// (Reserving `c` values of the sequence for the row cost PostgreSQL ~100 µs per call more.)
///
/// The new `ingot_commit` takes the entry counts as a seventeenth argument, beside the old one,
/// which older replicas keep calling. Older replicas do not read merged rows, though: outbox
/// consumers must run this build or later.
const SQL_SHARED_OUTBOX_ROWS: &str = concat!(
    "ALTER TABLE outbox ADD COLUMN entries int4;
",
    commit_function_v6!("topics text[], payloads bytea[], entry_counts int4[],", commit_outbox_v9!())
);

const SQL_COMMIT: &str = "SELECT written_keys, written_versions FROM ingot_commit($1::int8[], $2::bytea[], \
     $3::bytea[], $4::int8[], $5::bytea[], $6::bytea[], $7::bytea[], $8::bytea[], $9::bytea[], $10::bytea[], \
     $11::int8[], $12::bytea[], $13::bytea[], $14::bytea[], $15::text[], $16::bytea[], $17::int4[])";

const SQL_GET: &str = "SELECT version, value FROM kv WHERE key = $1";
/// The rows after a position, each with whether its transaction is below the horizon (settled).
/// `xid8` has no cast to or from `int8`; its text form is the decimal number.
const SQL_OUTBOX_AFTER: &str = "SELECT xid::text::int8, seq, topic, payload,
            xid < pg_snapshot_xmin(pg_current_snapshot()), entries
     FROM outbox WHERE topic = $1 AND (xid, seq) > ($2::int8::text::xid8, $3::int8)
     ORDER BY xid, seq LIMIT $4";
/// The horizon: every transaction with a smaller id has finished.
const SQL_OUTBOX_HORIZON: &str = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::int8";
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

/// Describes a driver error with the server's message: the driver's own `Display` says only
/// "db error".
fn describe(e: &tokio_postgres::Error) -> String {
    match (e.as_db_error(), std::error::Error::source(e)) {
        (Some(db), _) => format!("{} ({})", db, db.code().code()),
        (None, Some(source)) => format!("{e}: {source}"),
        (None, None) => e.to_string(),
    }
}

/// Maps a driver error to the contract's backend failure, with context.
fn pg_err(context: &'static str) -> impl Fn(tokio_postgres::Error) -> StoreError {
    move |e| StoreError::Backend(format!("postgres {context}: {}", describe(&e)))
}

/// Whether an error means the connection is gone (closed socket, server shutdown or backend
/// terminated: SQLSTATE classes 08 and 57P): the connection must not be reused, and an operation
/// that certainly did not commit may be repeated on a fresh one.
fn connection_lost(e: &tokio_postgres::Error) -> bool {
    e.is_closed() || e.code().is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57P"))
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

/// FNV-1a: a hash that is stable across builds, platforms and Ingot versions. Advisory lock ids
/// derived from it must agree between replicas, possibly of different versions, so this must
/// never change.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in *part {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// Advisory lock ids of one store: every id is namespaced by the schema.
#[derive(Debug, Clone, Copy)]
struct Locks {
    schema_tag: u64,
}

impl Locks {
    /// Lock ids for the tables in `schema` (`None`: the default search path).
    fn new(schema: Option<&str>) -> Self {
        Locks { schema_tag: fnv1a(&[schema.unwrap_or("").as_bytes()]) }
    }

    /// The `int8` advisory lock guarding the existence of `key`.
    fn key(&self, key: &[u8]) -> i64 {
        // Reinterpreting the bits is intended: any 64-bit value is a valid lock id.
        fnv1a(&[&self.schema_tag.to_be_bytes(), key]) as i64
    }

    /// The second key of the two-`int4` class locks.
    fn class_key(&self) -> i32 {
        // Folding to 32 bits is intended; collisions only make two schemas share a lock.
        (self.schema_tag ^ (self.schema_tag >> 32)) as i32
    }
}

/// One pooled connection, with the statements it has prepared (they live as long as the
/// session, so each is prepared once per connection).
struct PgConn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
    /// Set between `BEGIN` and the end of the transaction; a connection dropped while set (a
    /// cancelled request, a failed rollback) is closed rather than returned to the pool.
    in_transaction: bool,
    /// Set when an error showed the connection is gone, before the driver may have noticed.
    broken: bool,
}

impl PgConn {
    /// The prepared statement for `sql`, preparing it on first use on this connection.
    async fn statement(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).await.map_err(|e| self.failed("prepare", e))?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    /// Maps a driver error to a backend failure, remembering whether it lost the connection.
    fn failed(&mut self, context: &'static str, e: tokio_postgres::Error) -> StoreError {
        if connection_lost(&e) {
            self.broken = true;
        }
        StoreError::Backend(format!("postgres {context}: {}", describe(&e)))
    }

    /// Whether the connection is known to be unusable.
    fn lost(&self) -> bool {
        self.broken || self.client.is_closed()
    }
}

/// A small pool of our own: a semaphore bounds connections in use, idle ones wait in a stack,
/// closed ones are dropped and replaced on demand.
struct Pool {
    config: Config,
    /// Run on every new connection: the search path (when a schema is given) and the replica id.
    session_setup: String,
    idle: Mutex<Vec<PgConn>>,
    permits: Semaphore,
}

/// A connection borrowed from the pool; returned on drop when it is still usable.
struct Lease<'a> {
    conn: Option<PgConn>,
    pool: &'a Pool,
    _permit: SemaphorePermit<'a>,
}

impl Lease<'_> {
    /// The leased connection; it is only taken out when the lease is dropped.
    fn conn(&mut self) -> Result<&mut PgConn, StoreError> {
        self.conn.as_mut().ok_or_else(|| StoreError::Backend("postgres lease has no connection".into()))
    }
}

impl Drop for Lease<'_> {
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
    /// Borrows a connection, waiting for a free slot and opening a connection if no idle one is
    /// healthy.
    async fn lease(&self) -> Result<Lease<'_>, StoreError> {
        let permit = self.permits.acquire().await.map_err(|_| StoreError::Backend("postgres pool closed".into()))?;
        loop {
            let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            match idle {
                Some(conn) if conn.lost() => continue,
                Some(conn) => return Ok(Lease { conn: Some(conn), pool: self, _permit: permit }),
                None => break,
            }
        }
        let conn = self.open().await?;
        Ok(Lease { conn: Some(conn), pool: self, _permit: permit })
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
async fn open_client(config: &Config) -> Result<Client, StoreError> {
    let (client, connection) = config.connect(NoTls).await.map_err(pg_err("connect"))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %describe(&e), "postgres connection ended");
        }
    });
    Ok(client)
}

/// A fresh id for this replica: random, so a restarted replica is a new one.
fn new_replica_id() -> String {
    use std::hash::BuildHasher;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let random = std::collections::hash_map::RandomState::new().hash_one((nanos, std::process::id()));
    format!("{random:016x}")
}

/// The statements every new connection runs: the schema's search path and the replica id that
/// `ingot_lease_check` compares with the lease holder. Both are plain identifiers or hex.
///
/// Sequential scans are also switched off: every statement here reads by key or key range, and
/// `ingot_commit` keeps the plans PL/pgSQL made for it for the connection's life. Plans made
/// while `kv` was small (a new schema; and nothing refreshes its statistics where autovacuum is
/// off) scanned the whole table for each `key = ANY(…)`, which halved PutParameter throughput
/// once the table had grown. JIT compilation is off too: it only pays for long analytical
/// queries, and the planner's penalty for a disabled scan made it compile short ones.
fn session_setup(schema: Option<&str>, replica: &str) -> String {
    let search_path = schema.map(|s| format!("SET search_path TO \"{s}\"; ")).unwrap_or_default();
    format!("{search_path}SET ingot.replica TO '{replica}'; SET enable_seqscan TO off; SET jit TO off")
}

/// Parses the URL and fills in defaults that make connections identifiable and bounded.
fn parse_config(url: &str) -> Result<Config, StoreError> {
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

/// The scale-out [`Store`]: see the module documentation. Every replica opens its own; they
/// coordinate only through the database.
pub struct PostgresStore {
    pool: Arc<Pool>,
    locks: Locks,
    committer: group::Committer,
    cache_lease: Arc<lease::CacheLease>,
    /// Point reads, trusted only while this replica holds the cache lease.
    cache: Arc<ReadCache>,
    decoded: crate::DecodedCache,
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
        let pool = Pool {
            config,
            session_setup: session_setup(schema, &replica),
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(POOL_SIZE),
        };
        let locks = Locks::new(schema);
        {
            let mut lease = pool.lease().await?;
            migrate(lease.conn()?, schema, locks).await?;
        }
        let pool = Arc::new(pool);
        let cache = Arc::new(ReadCache::new(DEFAULT_CAPACITY_BYTES));
        let cache_lease = Arc::new(lease::CacheLease::new(replica));
        let committer = group::Committer::start(pool.clone(), cache.clone(), cache_lease.clone());
        let decoded = crate::DecodedCache::default();
        let store = Arc::new(PostgresStore { pool, locks, committer, cache_lease, cache, decoded });
        lease::tick(&store).await;
        tokio::spawn(lease::run(Arc::downgrade(&store)));
        Ok(store)
    }

    /// Drops `schema` and everything in it; for test cleanup. See [`drop_schema`].
    pub async fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        drop_schema(url, schema).await
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

/// Creates the schema and applies pending migrations in one transaction under an advisory lock,
/// so that replicas starting together neither race on `CREATE SCHEMA` nor apply a migration
/// twice.
async fn migrate(conn: &mut PgConn, schema: Option<&str>, locks: Locks) -> Result<(), StoreError> {
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

/// How a commit attempt failed: worth another attempt, or final.
enum Failure {
    Retry(String),
    Fail(StoreError),
    /// `ingot_commit` found an expectation that does not hold: the key. Nothing was committed.
    Violated(String),
    /// The connection was lost with the commit in flight: it may or may not have happened.
    Unknown(String),
    /// Another replica holds the cache lease (`lease.rs`): the holder. Nothing was written.
    LeaseHeld(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Fail(e)
    }
}

/// The keys a commit inserted or upserted, with the versions they took.
type Versions = HashMap<Vec<u8>, i64>;

/// One commit attempt on `conn`: one call of `ingot_commit`, which is its own transaction.
async fn try_commit(conn: &mut PgConn, plan: &Plan) -> Result<Versions, Failure> {
    let statement = match conn.statement(SQL_COMMIT).await {
        Ok(statement) => statement,
        // Nothing was sent yet: a connection found dead is simply replaced.
        Err(e) if conn.lost() => return Err(Failure::Retry(e.to_string())),
        Err(e) => return Err(Failure::Fail(e)),
    };
    let params: [&(dyn ToSql + Sync); 17] = [
        &plan.key_locks,
        &plan.locked_keys,
        &plan.expect_keys,
        &plan.expect_versions,
        &plan.deletes,
        &plan.new_keys,
        &plan.new_values,
        &plan.upsert_keys,
        &plan.upsert_values,
        &plan.swap_keys,
        &plan.swap_versions,
        &plan.swap_values,
        &plan.ordered_keys,
        &plan.ordered_values,
        &plan.topics,
        &plan.payloads,
        &plan.entry_counts,
    ];
    match conn.client.query_one(&statement, &params).await {
        Ok(row) => {
            // The commit is durable whatever follows: a result that does not decode (it cannot,
            // the types are the function's) only means nothing is kept in the cache.
            let keys: Vec<Vec<u8>> = row.try_get(0).ok().flatten().unwrap_or_default();
            let versions: Vec<i64> = row.try_get(1).ok().flatten().unwrap_or_default();
            Ok(keys.into_iter().zip(versions).collect())
        }
        Err(e) => {
            if connection_lost(&e) {
                conn.broken = true;
            }
            if let Some(holder) = lease::held_by(&e) {
                return Err(Failure::LeaseHeld(holder));
            }
            match e.as_db_error() {
                Some(db) if db.code().code() == SQLSTATE_CONFLICT => Err(Failure::Violated(db.message().to_string())),
                // The server reported why it stopped, so nothing was committed.
                Some(_) if connection_lost(&e) => Err(Failure::Retry(describe(&e))),
                Some(_) => Err(plan.classify(&e)),
                // The connection dropped with the call in flight: it may or may not have run.
                None => Err(Failure::Unknown(format!(
                    "postgres connection lost during commit, outcome unknown: {}",
                    describe(&e)
                ))),
            }
        }
    }
}

/// Commits one batch in a transaction of its own, running it again after deadlocks and
/// serialization failures.
async fn commit_alone(pool: &Pool, plan: &Plan) -> Result<Versions, StoreError> {
    let mut attempt = 1;
    let mut lease_waits = 0;
    loop {
        let outcome = {
            let mut lease = pool.lease().await?;
            try_commit(lease.conn()?, plan).await
        };
        match outcome {
            Ok(versions) => return Ok(versions),
            Err(Failure::Violated(key)) => return Err(StoreError::Conflict(key)),
            Err(Failure::Fail(e)) => return Err(e),
            Err(Failure::Unknown(e)) => return Err(StoreError::Backend(e)),
            Err(Failure::LeaseHeld(holder)) => lease::wait_out(pool, &holder, &mut lease_waits).await?,
            Err(Failure::Retry(e)) if attempt >= MAX_ATTEMPTS => {
                return Err(StoreError::Backend(format!("postgres commit failed {attempt} times: {e}")))
            }
            Err(Failure::Retry(e)) => {
                tracing::debug!(attempt, error = %e, "retrying postgres commit");
                tokio::time::sleep(Duration::from_millis(1 << attempt)).await;
                attempt += 1;
            }
        }
    }
}

/// A version as the database holds it. Versions fit BIGINT (they come from the store's sequence);
/// a larger one can match no row, which `i64::MAX` reproduces.
fn db_version(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

/// Deadlocks (lock order between row locks, unique-index waits and advisory locks is not total)
/// and serialization failures say nothing about the batch; the same batch may succeed when run
/// again, and its expectations are re-checked when it is.
fn is_retryable(e: &tokio_postgres::Error) -> bool {
    matches!(e.code(), Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED)
}

/// A batch as the arguments of `ingot_commit`.
#[derive(Debug, Default)]
struct Plan {
    /// Advisory lock ids of keys whose existence matters and of every key put, sorted and
    /// deduplicated.
    key_locks: Vec<i64>,
    /// The keys of `expect_keys`, sorted and deduplicated: rows are locked in this order.
    locked_keys: Vec<Vec<u8>>,
    /// The expectations checked against the state before the batch, in batch order (checks,
    /// then writes): every non-`Any` one but those of the swaps and inserts below (unless the
    /// batch writes a key twice); `None` means the key must be absent.
    expect_keys: Vec<Vec<u8>>,
    expect_versions: Vec<Option<i64>>,
    deletes: Vec<Vec<u8>>,
    /// Writes expecting `Absent`: inserted only where no row is, a row that was there is a
    /// violated expectation.
    new_keys: Vec<Vec<u8>>,
    new_values: Vec<Vec<u8>>,
    /// Writes expecting nothing.
    upsert_keys: Vec<Vec<u8>>,
    upsert_values: Vec<Vec<u8>>,
    /// Writes expecting a version: applied only where that version is stored.
    swap_keys: Vec<Vec<u8>>,
    swap_versions: Vec<i64>,
    swap_values: Vec<Vec<u8>>,
    /// Used instead of the arrays above when a key is written more than once (the multi-row
    /// statements cannot touch a row twice): every write in batch order, `None` deleting.
    ordered_keys: Vec<Vec<u8>>,
    ordered_values: Vec<Option<Vec<u8>>>,
    /// Outbox rows: a topic, a payload and how many entries it holds ([`frame_entries`]).
    topics: Vec<String>,
    payloads: Vec<Vec<u8>>,
    entry_counts: Vec<i32>,
}

impl Plan {
    /// Builds the plan, consuming the batch so values are moved rather than copied.
    fn new(batch: Batch, locks: Locks) -> Plan {
        let mut plan = Plan::default();
        let mut key_locks = Vec::new();
        let mut expectations = Vec::new();
        for (key, expect) in batch.checks {
            if expect == Expect::Absent {
                key_locks.push(locks.key(key.as_bytes()));
            }
            if expect != Expect::Any {
                expectations.push((key.into_bytes(), expect));
            }
        }
        let duplicates = {
            let mut seen = HashSet::with_capacity(batch.writes.len());
            !batch.writes.iter().all(|w| seen.insert(w.key.as_str()))
        };
        let (mut new, mut upserts, mut swaps) = (Vec::new(), Vec::new(), Vec::new());
        for write in batch.writes {
            // Existence matters for an `Absent` expectation and for a put, which may create the
            // key. Every put takes the lock, whatever its expectation, so that all puts of a key
            // take their versions one after the other (see the module documentation).
            if write.expect == Expect::Absent || write.value.is_some() {
                key_locks.push(locks.key(write.key.as_bytes()));
            }
            let key = write.key.into_bytes();
            // Inserts and swaps check their own expectation as they write; deletes and the
            // batch-ordered writes are checked before.
            let checked_before = duplicates || write.value.is_none();
            if checked_before && write.expect != Expect::Any {
                expectations.push((key.clone(), write.expect));
            }
            match (write.value, write.expect) {
                (value, _) if duplicates => {
                    plan.ordered_keys.push(key);
                    plan.ordered_values.push(value);
                }
                (None, _) => plan.deletes.push(key),
                (Some(value), Expect::Absent) => new.push((key, value)),
                (Some(value), Expect::Version(v)) => swaps.push((key, db_version(v), value)),
                (Some(value), Expect::Any) => upserts.push((key, value)),
            }
        }
        // Rows are locked in the order statements reach them; sorted arrays give concurrent
        // commits one lock order, which avoids most deadlocks (the rest are retried).
        plan.deletes.sort();
        new.sort_by(|a, b| a.0.cmp(&b.0));
        upserts.sort_by(|a, b| a.0.cmp(&b.0));
        (plan.new_keys, plan.new_values) = new.into_iter().unzip();
        (plan.upsert_keys, plan.upsert_values) = upserts.into_iter().unzip();
        plan.set_swaps(swaps);
        key_locks.sort_unstable();
        key_locks.dedup();
        plan.key_locks = key_locks;
        let mut locked: Vec<Vec<u8>> = expectations.iter().map(|(k, _)| k.clone()).collect();
        locked.sort();
        locked.dedup();
        plan.locked_keys = locked;
        for (key, expect) in expectations {
            plan.expect_keys.push(key);
            plan.expect_versions.push(match expect {
                Expect::Version(v) => Some(db_version(v)),
                _ => None,
            });
        }
        for entry in batch.outbox {
            plan.topics.push(entry.topic);
            plan.payloads.push(entry.payload);
            plan.entry_counts.push(1);
        }
        plan
    }

    /// The plan's outbox entries with their topics, one by one (a plan built by [`Plan::new`]
    /// holds one entry per row).
    fn outbox_entries(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.topics.iter().map(String::as_str).zip(self.payloads.iter().map(Vec::as_slice))
    }

    /// Sets the swaps, sorted by key like every other write (one lock order for all commits).
    fn set_swaps(&mut self, mut swaps: Vec<(Vec<u8>, i64, Vec<u8>)>) {
        swaps.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, version, value) in swaps {
            self.swap_keys.push(key);
            self.swap_versions.push(version);
            self.swap_values.push(value);
        }
    }

    /// Whether the batch writes a key twice, so its writes run one by one in batch order.
    fn writes_in_order(&self) -> bool {
        !self.ordered_keys.is_empty()
    }

    /// Every key the batch checks or writes (keys with only an `Any` check are not in the plan).
    fn touched_keys(&self) -> impl Iterator<Item = &[u8]> {
        self.expect_keys
            .iter()
            .chain(&self.deletes)
            .chain(&self.new_keys)
            .chain(&self.upsert_keys)
            .chain(&self.swap_keys)
            .chain(&self.ordered_keys)
            .map(Vec::as_slice)
    }

    /// The touched keys as text (keys come from `String`s, so all of them).
    fn touched_text(&self) -> impl Iterator<Item = &str> {
        self.touched_keys().filter_map(|key| std::str::from_utf8(key).ok())
    }

    /// Tells `cache` the batch is about to be committed: its keys are not cached meanwhile.
    fn begin_cached_write(&self, cache: &ReadCache) {
        cache.begin_write(self.touched_text());
    }

    /// Forgets every key the batch touched from `cache`, after its commit (whatever the outcome:
    /// a failed one costs a miss, and a violated expectation showed its key was stale) and
    /// before anyone hears of it, so no later read is served an older value.
    fn end_cached_write(&self, cache: &ReadCache) {
        cache.end_write(self.touched_text());
    }

    /// [`Plan::end_cached_write`] after the batch committed, keeping in `cache` the values it
    /// inserted or swapped with the `versions` they took when `keep` (this replica holds the
    /// cache lease). Upserts are not kept: nothing read them before writing (a new version
    /// record, a child marker), most are never read again, and kept they would fill the cache
    /// with write-once keys and push out the ones read-modify-writes come back to.
    fn end_cached_write_keeping(mut self, cache: &ReadCache, versions: &Versions, keep: bool) {
        if !keep {
            return self.end_cached_write(cache);
        }
        let new = self.new_keys.iter().zip(std::mem::take(&mut self.new_values));
        let swaps = self.swap_keys.iter().zip(std::mem::take(&mut self.swap_values));
        let written = new
            .chain(swaps)
            .filter_map(|(key, value)| {
                let version = u64::try_from(*versions.get(key)?).ok()?;
                Some((String::from_utf8(key.clone()).ok()?, Item { version, value }))
            })
            .collect();
        cache.end_write_keeping(self.touched_text(), written);
    }

    /// Whether the batch has an expectation on `key` that `ingot_commit` can find violated.
    fn expects(&self, key: &[u8]) -> bool {
        self.expect_keys.iter().chain(&self.swap_keys).any(|k| k == key)
    }

    /// One plan doing what `plans` do one after another, for batches that touch pairwise
    /// disjoint keys and write no key twice: then every expectation can be checked against the
    /// state before all of them, and the writes applied together. Outbox rows keep the plans'
    /// order.
    fn merge<'a>(plans: impl IntoIterator<Item = &'a Plan>) -> Plan {
        let mut merged = Plan::default();
        let (mut new, mut upserts, mut swaps) = (Vec::new(), Vec::new(), Vec::new());
        // One outbox row per topic (migration 9), its entries in group order.
        let mut topics: Vec<(&str, Vec<&[u8]>)> = Vec::new();
        for plan in plans {
            debug_assert!(!plan.writes_in_order(), "plans that write a key twice are committed alone");
            merged.key_locks.extend_from_slice(&plan.key_locks);
            merged.locked_keys.extend_from_slice(&plan.locked_keys);
            merged.expect_keys.extend_from_slice(&plan.expect_keys);
            merged.expect_versions.extend_from_slice(&plan.expect_versions);
            merged.deletes.extend_from_slice(&plan.deletes);
            new.extend(plan.new_keys.iter().cloned().zip(plan.new_values.iter().cloned()));
            upserts.extend(plan.upsert_keys.iter().cloned().zip(plan.upsert_values.iter().cloned()));
            let versions = plan.swap_keys.iter().cloned().zip(plan.swap_versions.iter().copied());
            swaps.extend(versions.zip(plan.swap_values.iter().cloned()).map(|((k, v), value)| (k, v, value)));
            for (topic, entry) in plan.outbox_entries() {
                match topics.iter_mut().find(|(t, _)| *t == topic) {
                    Some((_, entries)) => entries.push(entry),
                    None => topics.push((topic, vec![entry])),
                }
            }
        }
        for (topic, entries) in topics {
            merged.topics.push(topic.to_owned());
            merged.entry_counts.push(i32::try_from(entries.len()).unwrap_or(i32::MAX));
            merged.payloads.push(match entries.as_slice() {
                [one] => one.to_vec(),
                many => frame_entries(many),
            });
        }
        // The same lock order as a single plan's: sorted ids, sorted keys.
        merged.key_locks.sort_unstable();
        merged.key_locks.dedup();
        merged.locked_keys.sort();
        merged.locked_keys.dedup();
        merged.deletes.sort();
        new.sort_by(|a, b| a.0.cmp(&b.0));
        upserts.sort_by(|a, b| a.0.cmp(&b.0));
        (merged.new_keys, merged.new_values) = new.into_iter().unzip();
        (merged.upsert_keys, merged.upsert_values) = upserts.into_iter().unzip();
        merged.set_swaps(swaps);
        merged
    }

    /// Classifies a statement failure of a commit attempt.
    fn classify(&self, e: &tokio_postgres::Error) -> Failure {
        if is_retryable(e) {
            return Failure::Retry(describe(e));
        }
        if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            // Migration 6 inserts keys expected absent with `DO NOTHING`, so this comes from an
            // older `ingot_commit` or a batch-ordered write racing a writer without key locks.
            let key = self.new_keys.first().map(|k| String::from_utf8_lossy(k).into_owned()).unwrap_or_default();
            return Failure::Fail(StoreError::Conflict(key));
        }
        Failure::Fail(StoreError::Backend(format!("postgres commit: {}", describe(e))))
    }
}

type PgResult = Result<Vec<Row>, tokio_postgres::Error>;
type PgFuture<'a> = Pin<Box<dyn Future<Output = PgResult> + Send + 'a>>;

/// A prepared statement execution as a pipeline element.
fn query<'a>(client: &'a Client, statement: &'a Statement, params: Vec<&'a (dyn ToSql + Sync)>) -> PgFuture<'a> {
    Box::pin(async move { client.query(statement, &params).await })
}

/// A simple-protocol command (`BEGIN`, `COMMIT`) as a pipeline element.
fn simple<'a>(client: &'a Client, sql: &'static str) -> PgFuture<'a> {
    Box::pin(async move { client.batch_execute(sql).await.map(|()| Vec::new()) })
}

/// Runs statements pipelined: each future sends its request on its first poll, and the first
/// polls happen in order, so the server executes them in order while the client waits for all
/// answers once. Results are in the same order.
async fn pipeline(futures: Vec<PgFuture<'_>>) -> Vec<PgResult> {
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
fn first_error(results: &[PgResult]) -> Option<&tokio_postgres::Error> {
    results.iter().find_map(|r| r.as_ref().err())
}

/// Whether a failed read is repeated: once, when its connection turned out to be closed (server
/// restart, idle connection terminated) — a read has no effect, so repeating it is safe, and the
/// closed connection is replaced by the next lease.
fn retry_read(conn: &PgConn, attempt: &mut u32) -> bool {
    let retry = *attempt == 1 && conn.lost();
    *attempt += 1;
    retry
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

/// How long [`Store::outbox_after`] waits for running transactions to pass rows it has seen but
/// may not deliver yet; after that it returns what it may deliver.
const OUTBOX_SETTLE_LIMIT: Duration = Duration::from_secs(5);

/// An outbox entry read, and whether its transaction is below the horizon.
struct OutboxRow {
    record: OutboxRecord,
    settled: bool,
}

/// The entries of the rows after `after`, in order, without those at or before it (a row holding
/// several entries may be partly behind the cursor: migration 9).
async fn outbox_rows(
    conn: &mut PgConn,
    statement: &Statement,
    topic: &str,
    after: [i64; 2],
    limit: i64,
) -> Result<Vec<OutboxRow>, StoreError> {
    let rows = conn
        .client
        .query(statement, &[&topic, &after[0], &after[1], &limit])
        .await
        .map_err(|e| conn.failed("outbox", e))?;
    let corrupt = |what: String| StoreError::Backend(format!("corrupt outbox row: {what}"));
    let position_part = |value: i64| u64::try_from(value).map_err(|_| corrupt(format!("position {value}")));
    let cursor = OutboxPosition { transaction: position_part(after[0])?, seq: position_part(after[1])? };
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let transaction = position_part(row.try_get(0).map_err(pg_err("outbox"))?)?;
        let last = position_part(row.try_get(1).map_err(pg_err("outbox"))?)?;
        let topic: String = row.try_get(2).map_err(pg_err("outbox"))?;
        let payload: Vec<u8> = row.try_get(3).map_err(pg_err("outbox"))?;
        let settled: bool = row.try_get(4).map_err(pg_err("outbox"))?;
        let count: Option<i32> = row.try_get(5).map_err(pg_err("outbox"))?;
        let payloads = match count {
            None => vec![payload],
            Some(count) => {
                let framed = unframe_entries(&payload).ok_or_else(|| corrupt("entry framing".into()))?;
                if usize::try_from(count).ok() != Some(framed.len()) || last < framed.len() as u64 {
                    return Err(corrupt(format!("{count} entries announced, {} framed", framed.len())));
                }
                framed
            }
        };
        let first = last + 1 - payloads.len() as u64;
        for (seq, payload) in (first..).zip(payloads) {
            let position = OutboxPosition { transaction, seq };
            if position > cursor {
                entries.push(OutboxRow { record: OutboxRecord { position, topic: topic.clone(), payload }, settled });
            }
        }
    }
    Ok(entries)
}

/// Several outbox entries as one payload: each entry's length (4 bytes, big-endian), then the
/// entry.
fn frame_entries(entries: &[&[u8]]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(entries.iter().map(|e| e.len() + 4).sum());
    for entry in entries {
        // An entry is far below 4 GiB: PostgreSQL stores at most 1 GB in a field.
        framed.extend_from_slice(&u32::try_from(entry.len()).unwrap_or(u32::MAX).to_be_bytes());
        framed.extend_from_slice(entry);
    }
    framed
}

/// The entries of a framed payload; `None` when the framing is broken.
fn unframe_entries(mut framed: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut entries = Vec::new();
    while !framed.is_empty() {
        let (length, rest) = framed.split_first_chunk::<4>()?;
        let length = usize::try_from(u32::from_be_bytes(*length)).ok()?;
        let (entry, rest) = (rest.get(..length)?, &rest[length..]);
        entries.push(entry.to_vec());
        framed = rest;
    }
    Some(entries)
}

/// One attempt of [`Store::outbox_after`] (`limit` > 0, `after` within BIGINT). Rows come in
/// (xid, seq) order, so the settled ones are a prefix. When rows of transactions above the horizon
/// are visible (committed while an older transaction still runs), waits until the horizon passes
/// the newest of them and reads again, so that every commit that returned before the call is in
/// the answer.
async fn outbox_once(
    conn: &mut PgConn,
    topic: &str,
    after: [i64; 2],
    limit: usize,
) -> Result<Vec<OutboxRecord>, StoreError> {
    let statement = conn.statement(SQL_OUTBOX_AFTER).await?;
    // Every row read holds at least one entry after the cursor (the first may also hold some
    // before it), so `limit` rows give `limit` entries whenever there are that many.
    let rows_limit = limit_to_db(limit);
    let rows = outbox_rows(conn, &statement, topic, after, rows_limit).await?;
    let newest_unsettled = rows.iter().filter(|r| !r.settled).map(|r| r.record.position.transaction).max();
    let rows = match newest_unsettled {
        None => rows,
        Some(transaction) => {
            let horizon = conn.statement(SQL_OUTBOX_HORIZON).await?;
            let deadline = tokio::time::Instant::now() + OUTBOX_SETTLE_LIMIT;
            loop {
                tokio::time::sleep(Duration::from_millis(1)).await;
                let row = conn.client.query_one(&horizon, &[]).await.map_err(|e| conn.failed("outbox horizon", e))?;
                let passed: i64 = row.try_get(0).map_err(pg_err("outbox horizon"))?;
                if u64::try_from(passed).is_ok_and(|passed| passed > transaction)
                    || tokio::time::Instant::now() >= deadline
                {
                    break;
                }
            }
            outbox_rows(conn, &statement, topic, after, rows_limit).await?
        }
    };
    Ok(rows.into_iter().take_while(|r| r.settled).take(limit).map(|r| r.record).collect())
}

#[async_trait]
impl Store for PostgresStore {
    async fn get(&self, key: &str) -> Result<Option<Item>, StoreError> {
        let covered = self.cache_lease.covers();
        if covered {
            if let Some(hit) = self.cache.get(key) {
                return Ok(Some(hit));
            }
        }
        let generation = self.cache.generation();
        let mut attempt = 1;
        let item = loop {
            let mut lease = self.pool.lease().await?;
            let conn = lease.conn()?;
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
            let mut lease = self.pool.lease().await?;
            let conn = lease.conn()?;
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
        if plan.writes_in_order() {
            // Its writes go one by one in a loop of their own; such batches are rare.
            let outcome = commit_alone(&self.pool, &plan).await;
            plan.end_cached_write(&self.cache);
            return outcome.map(drop);
        }
        // The committer ends the cached write (keeps or forgets the keys) before it replies.
        self.committer.commit(plan).await
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
            let mut lease = self.pool.lease().await?;
            let conn = lease.conn()?;
            match outbox_once(conn, topic, after, limit).await {
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
                let mut lease = self.pool.lease().await?;
                self.try_reset(lease.conn()?, &gaps).await
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
        // As in `get`: the cache answers only while the lease covers it.
        if self.cache_lease.covers() {
            self.cache.version(key)
        } else {
            None
        }
    }

    fn cache_changes(&self) -> Option<u64> {
        // A lease taken back clears the cache, which counts as a change.
        self.cache_lease.covers().then(|| self.cache.changes())
    }

    fn decoded_records(&self) -> Option<&crate::DecodedCache> {
        Some(&self.decoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OutboxEntry, Write};

    fn write(key: &str, value: Option<&str>, expect: Expect) -> Write {
        Write { key: key.into(), value: value.map(|v| v.as_bytes().to_vec()), expect }
    }

    #[test]
    fn plans_sort_writes_and_lock_keys_that_are_put_or_whose_existence_matters() {
        let locks = Locks::new(Some("s"));
        let batch = Batch {
            checks: vec![
                ("c/absent".into(), Expect::Absent),
                ("c/v".into(), Expect::Version(3)),
                ("c/any".into(), Expect::Any),
            ],
            writes: vec![
                write("w/z", Some("1"), Expect::Any),
                write("w/new", Some("2"), Expect::Absent),
                write("w/a", Some("3"), Expect::Any),
                write("w/ver", Some("4"), Expect::Version(1)),
                write("w/del", None, Expect::Version(2)),
                write("w/gone", None, Expect::Absent),
                write("w/drop", None, Expect::Any),
            ],
            outbox: vec![OutboxEntry { topic: "t".into(), payload: vec![9] }],
        };
        let plan = Plan::new(batch, locks);
        let b = |s: &str| s.as_bytes().to_vec();
        // Inserts and swaps check their own expectations as they write.
        assert_eq!(plan.expect_keys, vec![b("c/absent"), b("c/v"), b("w/del"), b("w/gone")]);
        assert_eq!(plan.expect_versions, vec![None, Some(3), Some(2), None]);
        assert_eq!(plan.locked_keys, vec![b("c/absent"), b("c/v"), b("w/del"), b("w/gone")]);
        let mut key_locks: Vec<i64> =
            ["c/absent", "w/z", "w/new", "w/a", "w/ver", "w/gone"].iter().map(|k| locks.key(k.as_bytes())).collect();
        key_locks.sort_unstable();
        assert_eq!(plan.key_locks, key_locks);
        assert_eq!(plan.deletes, vec![b("w/del"), b("w/drop"), b("w/gone")]);
        assert_eq!((plan.new_keys, plan.new_values), (vec![b("w/new")], vec![b("2")]));
        assert_eq!(plan.upsert_keys, vec![b("w/a"), b("w/z")]);
        assert_eq!(plan.upsert_values, vec![b("3"), b("1")]);
        assert_eq!((plan.swap_keys, plan.swap_versions, plan.swap_values), (vec![b("w/ver")], vec![1], vec![b("4")]));
        assert!(plan.ordered_keys.is_empty() && plan.ordered_values.is_empty());
        assert_eq!((plan.topics, plan.payloads), (vec!["t".to_string()], vec![vec![9]]));
    }

    #[test]
    fn a_key_written_twice_switches_the_plan_to_in_order_writes() {
        let batch = Batch {
            writes: vec![
                write("k", Some("a"), Expect::Absent),
                write("j", None, Expect::Any),
                write("k", Some("b"), Expect::Any),
            ],
            ..Batch::default()
        };
        let plan = Plan::new(batch, Locks::new(None));
        assert!(plan.deletes.is_empty() && plan.new_keys.is_empty() && plan.upsert_keys.is_empty());
        assert_eq!(plan.ordered_keys, vec![b"k".to_vec(), b"j".to_vec(), b"k".to_vec()]);
        assert_eq!(plan.ordered_values, vec![Some(b"a".to_vec()), None, Some(b"b".to_vec())]);
    }

    const LOCK_KEY_SSM_PARAM_IN_INGOT: i64 = -4_060_081_699_129_387_501;
    const CLASS_KEY_INGOT: i32 = -265_005_865;

    #[test]
    fn lock_ids_never_change_between_builds() {
        // Replicas of different versions must agree on these; a change here is a breaking change.
        // FNV-1a 64 of "a" is the published test vector.
        assert_eq!(fnv1a(&[b"a"]), 0xaf63_dc4c_8601_ec8c);
        let locks = Locks::new(Some("ingot"));
        assert_eq!(locks.key(b"ssm/param"), LOCK_KEY_SSM_PARAM_IN_INGOT);
        assert_eq!(locks.class_key(), CLASS_KEY_INGOT);
        assert_ne!(Locks::new(None).key(b"k"), Locks::new(Some("other")).key(b"k"));
    }

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
    pub(super) async fn in_test_schema<F, Fut>(check: F)
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

    /// Opens a connection of its own in `schema`, begins a transaction and runs `sql` in it,
    /// leaving the transaction open for the caller to commit.
    async fn begin_outside_the_store(url: &str, schema: &str, sql: &str) -> Client {
        let raw = open_client(&parse_config(url).unwrap()).await.unwrap();
        raw.batch_execute(&format!("SET search_path TO \"{schema}\"; BEGIN; {sql}")).await.unwrap();
        raw
    }

    /// Terminates the server process behind one of the store's pooled connections.
    async fn terminate_a_pooled_connection(store: &PostgresStore, url: &str) {
        let pid: i32 = {
            let mut lease = store.pool.lease().await.unwrap();
            let conn = lease.conn().unwrap();
            conn.client.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0)
        };
        let admin = open_client(&parse_config(url).unwrap()).await.unwrap();
        admin.execute("SELECT pg_terminate_backend($1)", &[&pid]).await.unwrap();
    }

    #[tokio::test]
    async fn pipelined_statements_run_in_order_in_one_transaction() {
        in_test_schema(|store, _, _| async move {
            let mut lease = store.pool.lease().await.unwrap();
            let conn = lease.conn().unwrap();
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
    async fn an_insert_racing_an_absent_expectation_is_a_conflict() {
        in_test_schema(|store, url, schema| async move {
            // A writer that does not take Ingot's key locks inserts the key and has not committed.
            let raw = begin_outside_the_store(&url, &schema, "INSERT INTO kv VALUES ('\\x6b', 1, '\\x00')").await;
            let racing = tokio::spawn({
                let store = store.clone();
                async move {
                    store
                        .commit(Batch { writes: vec![write("k", Some("mine"), Expect::Absent)], ..Batch::default() })
                        .await
                }
            });
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(!racing.is_finished(), "the insert should wait for the uncommitted row");
            raw.batch_execute("COMMIT").await.unwrap();
            assert!(matches!(racing.await.unwrap(), Err(StoreError::Conflict(k)) if k == "k"));
            assert_eq!(store.get("k").await.unwrap().map(|i| i.value), Some(vec![0]));
        })
        .await;
    }

    #[tokio::test]
    async fn an_outbox_row_committed_behind_a_running_transaction_waits_for_it_and_keeps_transaction_order() {
        in_test_schema(|store, url, schema| async move {
            // An older transaction appends and has not committed yet.
            let raw =
                begin_outside_the_store(&url, &schema, "INSERT INTO outbox (topic, payload) VALUES ('t', '\\x01')")
                    .await;
            let newer = OutboxEntry { topic: "t".into(), payload: vec![2] };
            store.commit(Batch { outbox: vec![newer], ..Batch::default() }).await.unwrap();
            let reading = tokio::spawn({
                let store = store.clone();
                async move { store.outbox_after("t", OutboxPosition::START, 10).await }
            });
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(!reading.is_finished(), "the newer row must not be delivered while the older transaction runs");
            raw.batch_execute("COMMIT").await.unwrap();
            let records = reading.await.unwrap().unwrap();
            assert_eq!(records.iter().map(|r| r.payload.clone()).collect::<Vec<_>>(), vec![vec![1], vec![2]]);
            assert!(records[0].position < records[1].position);
            assert_eq!(store.outbox_after("t", records[0].position, 10).await.unwrap(), records[1..].to_vec());
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
