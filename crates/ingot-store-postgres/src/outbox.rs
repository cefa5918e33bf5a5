//! The outbox: how its rows are ordered so that a consumer misses none, how a row holds several
//! entries, and how they are read back.
//!
//! Sequence values are handed out when rows are inserted but become visible when their
//! transaction commits, so a consumer ordering by `seq` could read seq 11 (committed) before
//! seq 10 (still in flight), advance its cursor past 10 and miss it forever. Each outbox row
//! therefore also records its transaction's id (`xid8`, default `pg_current_xact_id()`), the
//! delivery order is (`xid`, `seq`), and `Store::outbox_after` delivers only rows whose
//! transaction is older than the oldest one still running (`pg_snapshot_xmin`): every transaction
//! below that horizon has finished, so no row can later appear behind a consumer's cursor. Commits
//! take no lock for the outbox and group their WAL flushes. A read that sees rows above the
//! horizon waits (briefly: transactions here are short) until the horizon passes them, so that
//! everything committed before the call is delivered.
//!
//! A group commit (`group.rs`) stores each topic's entries in one row: every row is a heap tuple,
//! an index entry and their WAL inside the commit. Its `entries` column is NULL for a row of one
//! entry, stored as it is; otherwise the payload holds that many entries ([`frame_entries`]).
//! Positions stay one per entry: a row of `c` entries takes `s = nextval + c - 1` as its `seq`,
//! and its entries are at `s - c + 1 ..= s`. Other transactions may use values in that range, but
//! positions order by transaction first, and a transaction writes rows of `c > 1` only in a group
//! commit, one per topic, so the positions of one topic within one transaction never overlap. The
//! row's `seq` being its last entry's, a cursor inside a row still selects it; the reader skips
//! the entries at or before the cursor. (Reserving `c` values of the sequence for the row cost
//! PostgreSQL more per call.)

use crate::pool::{pg_err, PgConn};
use ingot_store::backend::limit_to_db;
use ingot_store::{OutboxPosition, OutboxRecord, StoreError};
use std::time::Duration;
use tokio_postgres::Statement;

/// The rows after a position, each with whether its transaction is below the horizon (settled).
/// `xid8` has no cast to or from `int8`; its text form is the decimal number.
const SQL_OUTBOX_AFTER: &str = "SELECT xid::text::int8, seq, topic, payload,
            xid < pg_snapshot_xmin(pg_current_snapshot()), entries
     FROM outbox WHERE topic = $1 AND (xid, seq) > ($2::int8::text::xid8, $3::int8)
     ORDER BY xid, seq LIMIT $4";
/// The horizon: every transaction with a smaller id has finished.
const SQL_OUTBOX_HORIZON: &str = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::int8";

/// How long `Store::outbox_after` waits for running transactions to pass rows it has seen but
/// may not deliver yet; after that it returns what it may deliver.
const OUTBOX_SETTLE_LIMIT: Duration = Duration::from_secs(5);

/// An outbox entry read, and whether its transaction is below the horizon.
struct OutboxRow {
    record: OutboxRecord,
    settled: bool,
}

/// The entries of the rows after `after`, in order, without those at or before it (a row holding
/// several entries may be partly behind the cursor).
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
pub(crate) fn frame_entries(entries: &[&[u8]]) -> Vec<u8> {
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

/// One attempt of `Store::outbox_after` (`limit` > 0, `after` within BIGINT). Rows come in
/// (xid, seq) order, so the settled ones are a prefix. When rows of transactions above the horizon
/// are visible (committed while an older transaction still runs), waits until the horizon passes
/// the newest of them and reads again, so that every commit that returned before the call is in
/// the answer.
pub(crate) async fn outbox_once(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{begin_outside_the_store, in_test_schema};
    use ingot_store::{Batch, OutboxEntry, Store};

    #[test]
    fn framed_entries_come_back_as_they_were_and_broken_framing_is_refused() {
        let entries: [&[u8]; 3] = [b"one", b"", b"three"];
        let framed = frame_entries(&entries);
        assert_eq!(unframe_entries(&framed), Some(entries.iter().map(|e| e.to_vec()).collect()));
        assert_eq!(unframe_entries(&framed[..framed.len() - 1]), None);
        assert_eq!(unframe_entries(&[0, 0, 1]), None);
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
}
