//! The behaviour every [`Store`] backend must have, as plain async functions that panic on the
//! first deviation. Backends run it from their integration tests, one test per function, with
//! [`conformance_tests!`](crate::conformance_tests); a new backend is done when [`run_all`]
//! passes.
//!
//! Every function works under its own key prefix and outbox topics, so the suite also runs on a
//! store that already holds data — except [`reset_keeps_listed_prefixes_and_clears_the_outbox`],
//! which by nature deletes everything else and therefore runs last in [`run_all`].

use crate::{Batch, Expect, Item, OutboxEntry, OutboxPosition, Store, StoreError, Tx, Write};
use std::collections::HashSet;
use std::sync::Arc;

/// A write of `value` with `expect`.
fn put(key: &str, value: &[u8], expect: Expect) -> Write {
    Write { key: key.to_string(), value: Some(value.to_vec()), expect }
}

/// A delete with `expect`.
fn del(key: &str, expect: Expect) -> Write {
    Write { key: key.to_string(), value: None, expect }
}

/// A batch of writes only.
fn writes(writes: Vec<Write>) -> Batch {
    Batch { writes, ..Batch::default() }
}

/// An outbox entry.
fn event(topic: &str, payload: &[u8]) -> OutboxEntry {
    OutboxEntry { topic: topic.to_string(), payload: payload.to_vec() }
}

/// Asserts a conflict on `key`, with the actual outcome in the message when not.
fn assert_conflict(result: Result<(), StoreError>, key: &str) {
    match result {
        Err(StoreError::Conflict(k)) => assert_eq!(k, key, "conflict reported on the wrong key"),
        other => panic!("expected a conflict on {key}, got {other:?}"),
    }
}

/// The current version of `key`, which must exist.
async fn version_of(store: &Arc<dyn Store>, key: &str) -> u64 {
    match store.get(key).await.unwrap() {
        Some(item) => item.version,
        None => panic!("{key} should exist"),
    }
}

/// The keys of a scan, for compact comparisons.
async fn scan_keys(store: &Arc<dyn Store>, prefix: &str, start_after: Option<&str>, limit: usize) -> Vec<String> {
    store.scan(prefix, start_after, limit).await.unwrap().into_iter().map(|(k, _)| k).collect()
}

/// A missing key is `None`, not an error: handlers rely on it to report "not found".
pub async fn get_of_a_missing_key_returns_none(store: Arc<dyn Store>) {
    assert_eq!(store.get("conf/missing/nothing-here").await.unwrap(), None);
    assert_eq!(store.scan("conf/missing/", None, 10).await.unwrap(), vec![]);
}

/// A put is read back with a version of at least 1 that every later write makes strictly greater:
/// optimistic concurrency is built on them. Versions are not consecutive, so nothing more is
/// promised about their values.
pub async fn put_then_get_returns_the_value_at_a_version_that_grows_with_every_write(store: Arc<dyn Store>) {
    let key = "conf/put/k";
    store.commit(writes(vec![put(key, b"first", Expect::Any)])).await.unwrap();
    let first = store.get(key).await.unwrap().unwrap();
    assert_eq!(first.value, b"first".to_vec());
    assert!(first.version >= 1, "versions start at 1: {first:?}");
    store.commit(writes(vec![put(key, b"second", Expect::Any)])).await.unwrap();
    let second = store.get(key).await.unwrap().unwrap();
    assert_eq!(second.value, b"second".to_vec());
    assert!(second.version > first.version, "{second:?} after {first:?}");
    // Rewriting the same value is still a write.
    store.commit(writes(vec![put(key, b"second", Expect::Any)])).await.unwrap();
    assert!(version_of(&store, key).await > second.version);
    // Binary values round-trip byte for byte, including an empty one.
    let binary: Vec<u8> = (0..=255u8).collect();
    store
        .commit(writes(vec![put("conf/put/bin", &binary, Expect::Any), put("conf/put/empty", b"", Expect::Any)]))
        .await
        .unwrap();
    assert_eq!(store.get("conf/put/bin").await.unwrap().map(|i| i.value), Some(binary));
    assert_eq!(store.get("conf/put/empty").await.unwrap().map(|i| i.value), Some(Vec::new()));
    // An empty batch is a no-op.
    store.commit(Batch::default()).await.unwrap();
}

/// Deletes remove the key entirely (scans skip it) and are idempotent; a key created again gets
/// a version above every version it had before the delete.
pub async fn delete_removes_the_key_and_a_recreated_key_gets_a_version_above_all_it_had_before(store: Arc<dyn Store>) {
    let key = "conf/delete/k";
    store.commit(writes(vec![put(key, b"v", Expect::Absent)])).await.unwrap();
    let first = version_of(&store, key).await;
    store.commit(writes(vec![put(key, b"v2", Expect::Version(first))])).await.unwrap();
    let last = version_of(&store, key).await;
    assert!(last > first);
    store.commit(writes(vec![del(key, Expect::Version(last))])).await.unwrap();
    assert_eq!(store.get(key).await.unwrap(), None);
    assert_eq!(scan_keys(&store, "conf/delete/", None, 10).await, Vec::<String>::new());
    // Deleting an absent key is not an error.
    store.commit(writes(vec![del(key, Expect::Any)])).await.unwrap();
    store.commit(writes(vec![put(key, b"again", Expect::Absent)])).await.unwrap();
    let again = store.get(key).await.unwrap().unwrap();
    assert_eq!(again.value, b"again".to_vec());
    assert!(again.version > last, "re-created at {} after {last}", again.version);
}

/// No ABA: an expectation on a version read before the key was deleted and re-created fails
/// afterwards — even when the new incarnation holds the same value and was written as often.
pub async fn an_expected_version_read_before_a_delete_and_recreate_fails_after_it(store: Arc<dyn Store>) {
    let key = "conf/aba/k";
    let out = "conf/aba/out";
    store.commit(writes(vec![put(key, b"same", Expect::Absent)])).await.unwrap();
    let seen = version_of(&store, key).await;
    // A unit of work reads the key at that version...
    let tx = Tx::new(store.clone());
    assert_eq!(tx.get(key).await.unwrap(), Some(b"same".to_vec()));
    tx.put(out, b"derived".to_vec());
    // ...while another request deletes and re-creates it, identically.
    store.commit(writes(vec![del(key, Expect::Version(seen))])).await.unwrap();
    store.commit(writes(vec![put(key, b"same", Expect::Absent)])).await.unwrap();
    assert_ne!(version_of(&store, key).await, seen);
    // Every form of the stale expectation fails, and nothing is written.
    assert_conflict(store.commit(writes(vec![put(key, b"x", Expect::Version(seen))])).await, key);
    assert_conflict(store.commit(writes(vec![del(key, Expect::Version(seen))])).await, key);
    assert_conflict(
        store
            .commit(Batch {
                checks: vec![(key.into(), Expect::Version(seen))],
                writes: vec![put(out, b"x", Expect::Any)],
                outbox: vec![],
            })
            .await,
        key,
    );
    assert_conflict(store.commit(tx.take_batch()).await, key);
    assert_eq!(store.get(out).await.unwrap(), None);
    assert_eq!(store.get(key).await.unwrap().map(|i| i.value), Some(b"same".to_vec()));
}

/// Keys whose bytewise order differs from naive expectations: `/` (0x2F) sorts before `0`
/// (0x30), and multi-byte UTF-8 sorts after ASCII and by its bytes.
const ORDER_KEYS: &[&str] =
    &["a/b", "a/b/c", "a/b0", "a/c", "a/z", "a/é", "a/éa", "a/ê", "a/\u{10000}", "a.", "a0", "b"];

/// Writes [`ORDER_KEYS`] under `root` in scrambled order.
async fn write_order_keys(store: &Arc<dyn Store>, root: &str) {
    let mut batch = Vec::new();
    for (i, key) in ORDER_KEYS.iter().enumerate().rev() {
        batch.push(put(&format!("{root}{key}"), format!("{i}").as_bytes(), Expect::Absent));
    }
    store.commit(writes(batch)).await.unwrap();
}

/// Scans order keys by their UTF-8 bytes, whatever the database collation: pagination tokens
/// and the unit of work's scan merging depend on one total order.
pub async fn scan_returns_keys_in_bytewise_order(store: Arc<dyn Store>) {
    let root = "conf/order/";
    write_order_keys(&store, root).await;
    let mut expected: Vec<String> = ORDER_KEYS.iter().map(|k| format!("{root}{k}")).collect();
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(scan_keys(&store, root, None, 100).await, expected);
    // Spot-check the cases the list is there for.
    let pos = |k: &str| expected.iter().position(|e| e == &format!("{root}{k}")).unwrap();
    assert!(pos("a/b") < pos("a/b/c") && pos("a/b/c") < pos("a/b0") && pos("a/b0") < pos("a/c"));
    assert!(pos("a/z") < pos("a/é") && pos("a/é") < pos("a/éa") && pos("a/éa") < pos("a/ê"));
    assert!(pos("a/ê") < pos("a/\u{10000}") && pos("a.") < pos("a/b") && pos("a/\u{10000}") < pos("a0"));
    // Values come back with their keys.
    let all = store.scan(root, None, 100).await.unwrap();
    for (key, item) in all {
        let i = ORDER_KEYS.iter().position(|k| format!("{root}{k}") == key).unwrap();
        assert_eq!(item.value, format!("{i}").into_bytes());
        assert!(item.version >= 1);
    }
}

/// A prefix scan returns exactly the keys with that byte prefix, at both ends of the range.
pub async fn scan_stays_within_the_prefix(store: Arc<dyn Store>) {
    let root = "conf/prefix/";
    write_order_keys(&store, root).await;
    let scan = |prefix: &str| {
        let store = store.clone();
        let prefix = format!("{root}{prefix}");
        async move {
            store
                .scan(&prefix, None, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|(k, _)| k[root.len()..].to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(scan("a/b").await, vec!["a/b", "a/b/c", "a/b0"]);
    assert_eq!(scan("a/b/").await, vec!["a/b/c"]);
    assert_eq!(scan("a/é").await, vec!["a/é", "a/éa"]);
    assert_eq!(scan("a/").await.len(), 9);
    assert_eq!(scan("a").await.len(), 11);
    assert_eq!(scan("c").await, Vec::<String>::new());
    // The prefix is a byte prefix of the key, not a path component.
    assert_eq!(scan("a/b/c").await, vec!["a/b/c"]);
}

/// Pagination: `start_after` is exclusive and need not exist; `limit` bounds the page.
pub async fn scan_honours_start_after_and_limit(store: Arc<dyn Store>) {
    let root = "conf/page/";
    write_order_keys(&store, root).await;
    let p = |k: &str| format!("{root}{k}");
    let prefix = p("a/");
    assert_eq!(scan_keys(&store, &prefix, Some(&p("a/b")), 2).await, vec![p("a/b/c"), p("a/b0")]);
    // start_after need not be an existing key.
    assert_eq!(scan_keys(&store, &prefix, Some(&p("a/b/a")), 1).await, vec![p("a/b/c")]);
    // start_after before the prefix is no constraint; after the prefix range yields nothing.
    assert_eq!(scan_keys(&store, &prefix, Some("conf/"), 1).await, vec![p("a/b")]);
    assert_eq!(scan_keys(&store, &prefix, Some(&p("a0")), 10).await, Vec::<String>::new());
    assert_eq!(scan_keys(&store, &prefix, Some(&p("a/\u{10000}")), 10).await, Vec::<String>::new());
    assert_eq!(scan_keys(&store, &prefix, None, 0).await, Vec::<String>::new());
    assert_eq!(scan_keys(&store, &prefix, None, usize::MAX).await.len(), 9);
    // Paging with the last key as start_after visits every key exactly once, in order.
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = scan_keys(&store, &prefix, after.as_deref(), 2).await;
        if page.is_empty() {
            break;
        }
        after = page.last().cloned();
        paged.extend(page);
    }
    assert_eq!(paged, scan_keys(&store, &prefix, None, 100).await);
}

/// Each kind of expectation on a write passes or fails exactly as documented on [`Expect`].
pub async fn expectations_succeed_and_fail_correctly(store: Arc<dyn Store>) {
    let k = "conf/expect/k";
    // Absent on a missing key succeeds; on an existing one it fails.
    store.commit(writes(vec![put(k, b"1", Expect::Absent)])).await.unwrap();
    let v1 = version_of(&store, k).await;
    assert_conflict(store.commit(writes(vec![put(k, b"x", Expect::Absent)])).await, k);
    // Version succeeds only at the current version.
    assert_conflict(store.commit(writes(vec![put(k, b"x", Expect::Version(v1 + 1))])).await, k);
    assert_conflict(store.commit(writes(vec![put(k, b"x", Expect::Version(0))])).await, k);
    store.commit(writes(vec![put(k, b"2", Expect::Version(v1))])).await.unwrap();
    let v2 = version_of(&store, k).await;
    assert!(v2 > v1);
    assert_conflict(store.commit(writes(vec![put(k, b"x", Expect::Version(v1))])).await, k);
    // Any always succeeds.
    store.commit(writes(vec![put(k, b"3", Expect::Any)])).await.unwrap();
    let v3 = store.get(k).await.unwrap().unwrap();
    assert_eq!(v3.value, b"3".to_vec());
    assert!(v3.version > v2);
    // Version on a missing key fails, for writes and deletes alike.
    let missing = "conf/expect/missing";
    assert_conflict(store.commit(writes(vec![put(missing, b"x", Expect::Version(1))])).await, missing);
    assert_conflict(store.commit(writes(vec![del(missing, Expect::Version(1))])).await, missing);
    assert_conflict(store.commit(writes(vec![del(k, Expect::Version(v2))])).await, k);
    assert_eq!(store.get(missing).await.unwrap(), None);
    assert_eq!(store.get(k).await.unwrap(), Some(v3));
}

/// Atomicity: one failed expectation discards every write and outbox entry of the batch.
pub async fn a_failed_batch_writes_nothing_and_appends_no_outbox(store: Arc<dyn Store>) {
    let (a, b, c) = ("conf/atomic/a", "conf/atomic/b", "conf/atomic/c");
    let topic = "conf.atomic";
    store.commit(writes(vec![put(a, b"a1", Expect::Any), put(c, b"c1", Expect::Any)])).await.unwrap();
    let (a1, c1) = (version_of(&store, a).await, version_of(&store, c).await);
    let batch = Batch {
        checks: vec![],
        writes: vec![
            put(a, b"a2", Expect::Version(a1)),
            del(c, Expect::Any),
            put("conf/atomic/new", b"n", Expect::Absent),
            put(b, b"b", Expect::Version(5)),
        ],
        outbox: vec![event(topic, b"should not appear")],
    };
    assert_conflict(store.commit(batch).await, b);
    assert_eq!(store.get(a).await.unwrap(), Some(Item { version: a1, value: b"a1".to_vec() }));
    assert_eq!(version_of(&store, c).await, c1);
    assert_eq!(store.get("conf/atomic/new").await.unwrap(), None);
    assert_eq!(store.outbox_after(topic, OutboxPosition::START, 10).await.unwrap(), vec![]);
    // The same writes with correct expectations all apply together.
    let batch = Batch {
        checks: vec![],
        writes: vec![put(a, b"a2", Expect::Version(a1)), del(c, Expect::Version(c1)), put(b, b"b", Expect::Absent)],
        outbox: vec![event(topic, b"applied")],
    };
    store.commit(batch).await.unwrap();
    let (a2, b1) = (version_of(&store, a).await, version_of(&store, b).await);
    assert!(a2 > a1);
    // Two keys never share a version, even when written by one batch.
    assert_ne!(a2, b1);
    assert_eq!(store.get(c).await.unwrap(), None);
    assert_eq!(store.outbox_after(topic, OutboxPosition::START, 10).await.unwrap().len(), 1);
}

/// The read set (`checks`) is validated like write expectations, without writing the keys.
pub async fn checks_on_read_keys_conflict_when_those_keys_changed(store: Arc<dyn Store>) {
    let (read, written) = ("conf/checks/read", "conf/checks/written");
    let missing = "conf/checks/missing";
    store.commit(writes(vec![put(read, b"r", Expect::Absent)])).await.unwrap();
    let r1 = version_of(&store, read).await;
    let with_check = |check: Vec<(String, Expect)>| Batch {
        checks: check,
        writes: vec![put(written, b"w", Expect::Any)],
        outbox: vec![],
    };
    // Checks that hold let the batch through.
    store.commit(with_check(vec![(read.into(), Expect::Version(r1)), (missing.into(), Expect::Absent)])).await.unwrap();
    let w1 = version_of(&store, written).await;
    // A read key that moved on, appeared, or vanished fails the batch, which writes nothing.
    store.commit(writes(vec![put(read, b"r2", Expect::Any)])).await.unwrap();
    let r2 = version_of(&store, read).await;
    assert!(r2 > r1);
    assert_conflict(store.commit(with_check(vec![(read.into(), Expect::Version(r1))])).await, read);
    assert_conflict(store.commit(with_check(vec![(read.into(), Expect::Absent)])).await, read);
    assert_conflict(store.commit(with_check(vec![(missing.into(), Expect::Version(1))])).await, missing);
    assert_eq!(version_of(&store, written).await, w1);
    // Checks without writes are a valid (read-only) batch.
    store.commit(Batch { checks: vec![(read.into(), Expect::Version(r2))], ..Batch::default() }).await.unwrap();
    // A check is not a write: the checked key's version does not move.
    assert_eq!(version_of(&store, read).await, r2);
}

/// Repeated writes to one key in a batch apply in order (both backends agree on the result).
pub async fn a_key_written_twice_in_one_batch_ends_with_the_last_write(store: Arc<dyn Store>) {
    let k = "conf/twice/k";
    store.commit(writes(vec![put(k, b"a", Expect::Absent), put(k, b"b", Expect::Any)])).await.unwrap();
    let item = store.get(k).await.unwrap().unwrap();
    assert_eq!(item.value, b"b".to_vec());
    store.commit(writes(vec![put(k, b"c", Expect::Version(item.version)), del(k, Expect::Any)])).await.unwrap();
    assert_eq!(store.get(k).await.unwrap(), None);
}

/// Outbox consumers read one topic in position order and resume strictly after their cursor.
pub async fn the_outbox_is_ordered_filtered_by_topic_and_resumes_after_a_seq(store: Arc<dyn Store>) {
    let (t1, t2) = ("conf.outbox.one", "conf.outbox.two");
    store
        .commit(Batch {
            checks: vec![],
            writes: vec![put("conf/outbox/k", b"v", Expect::Any)],
            outbox: vec![event(t1, b"1a"), event(t2, b"2a"), event(t1, b"1b")],
        })
        .await
        .unwrap();
    // An outbox-only batch is valid.
    store.commit(Batch { outbox: vec![event(t1, b"1c")], ..Batch::default() }).await.unwrap();
    let one = store.outbox_after(t1, OutboxPosition::START, 100).await.unwrap();
    assert_eq!(one.iter().map(|r| r.payload.as_slice()).collect::<Vec<_>>(), vec![&b"1a"[..], b"1b", b"1c"]);
    assert!(one.iter().all(|r| r.topic == t1));
    assert!(one.windows(2).all(|w| w[0].position < w[1].position), "seq must grow: {one:?}");
    let two = store.outbox_after(t2, OutboxPosition::START, 100).await.unwrap();
    assert_eq!(two.len(), 1);
    assert_eq!(two[0].payload, b"2a".to_vec());
    // Entries of one commit are in batch order; later commits come after.
    assert!(one[0].position < two[0].position && two[0].position < one[1].position);
    // `after` resumes strictly after a position; `limit` truncates.
    assert_eq!(store.outbox_after(t1, one[0].position, 100).await.unwrap(), one[1..].to_vec());
    assert_eq!(store.outbox_after(t1, one[2].position, 100).await.unwrap(), vec![]);
    assert_eq!(store.outbox_after(t1, OutboxPosition::START, 2).await.unwrap(), one[..2].to_vec());
    assert_eq!(store.outbox_after(t1, OutboxPosition::START, 0).await.unwrap(), vec![]);
    assert_eq!(store.outbox_after(t1, OutboxPosition::END, 10).await.unwrap(), vec![]);
    assert_eq!(store.outbox_after("conf.outbox.none", OutboxPosition::START, 10).await.unwrap(), vec![]);
}

/// Reset (test isolation) keeps exactly the listed prefixes, empties the outbox, and keeps seq
/// growing so existing cursors stay valid.
pub async fn reset_keeps_listed_prefixes_and_clears_the_outbox(store: Arc<dyn Store>) {
    let topic = "conf.reset";
    let keys =
        ["conf/reset/keep/a", "conf/reset/keep/b/c", "conf/reset/keep2/x", "conf/reset/other", "conf/reset/z/z", "zzz"];
    store
        .commit(Batch {
            checks: vec![],
            writes: keys.iter().map(|k| put(k, b"v", Expect::Any)).collect(),
            outbox: vec![event(topic, b"before")],
        })
        .await
        .unwrap();
    let before = store.outbox_after(topic, OutboxPosition::START, 10).await.unwrap();
    assert_eq!(before.len(), 1);
    let kept_version = version_of(&store, "conf/reset/keep/a").await;
    let deleted_version = version_of(&store, "conf/reset/other").await;
    store.reset(&["conf/reset/keep/".to_string(), "conf/reset/z/".to_string()]).await.unwrap();
    assert_eq!(
        scan_keys(&store, "", None, 100).await,
        vec!["conf/reset/keep/a", "conf/reset/keep/b/c", "conf/reset/z/z"]
    );
    assert_eq!(store.outbox_after(topic, OutboxPosition::START, 10).await.unwrap(), vec![]);
    // Kept keys keep their versions; a deleted key created again does not reuse a version; the
    // outbox positions keep growing so cursors stay valid.
    assert_eq!(version_of(&store, "conf/reset/keep/a").await, kept_version);
    store.commit(writes(vec![put("conf/reset/other", b"v", Expect::Absent)])).await.unwrap();
    assert!(version_of(&store, "conf/reset/other").await > deleted_version);
    store.commit(Batch { outbox: vec![event(topic, b"after")], ..Batch::default() }).await.unwrap();
    let after = store.outbox_after(topic, OutboxPosition::START, 10).await.unwrap();
    assert_eq!(after.len(), 1);
    assert!(after[0].position > before[0].position);
    // An empty prefix keeps everything; no prefix deletes everything.
    store.reset(&[String::new()]).await.unwrap();
    assert_eq!(scan_keys(&store, "", None, 100).await.len(), 4);
    store.reset(&[]).await.unwrap();
    assert_eq!(scan_keys(&store, "", None, 100).await, Vec::<String>::new());
}

/// Concurrent commits (grouped or pooled) all persist, with versions no two keys share and
/// unique, growing outbox positions.
pub async fn many_concurrent_commits_to_distinct_keys_all_land(store: Arc<dyn Store>) {
    const TASKS: usize = 16;
    const COMMITS: usize = 8;
    let topic = "conf.concurrent";
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                for c in 0..COMMITS {
                    let key = format!("conf/concurrent/{t:02}/{c:02}");
                    let batch = Batch {
                        checks: vec![],
                        writes: vec![put(&key, key.as_bytes(), Expect::Absent)],
                        outbox: vec![event(topic, key.as_bytes())],
                    };
                    store.commit(batch).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let all = store.scan("conf/concurrent/", None, 1000).await.unwrap();
    assert_eq!(all.len(), TASKS * COMMITS);
    assert!(all.iter().all(|(k, item)| item.value == k.as_bytes() && item.version >= 1));
    let versions: HashSet<u64> = all.iter().map(|(_, item)| item.version).collect();
    assert_eq!(versions.len(), all.len(), "a version was given twice");
    let events = store.outbox_after(topic, OutboxPosition::START, 1000).await.unwrap();
    assert_eq!(events.len(), TASKS * COMMITS);
    assert!(events.windows(2).all(|w| w[0].position < w[1].position));
    // Each task's commits are sequential, so its events appear in its commit order.
    for t in 0..TASKS {
        let own: Vec<_> =
            events.iter().filter(|e| e.payload.starts_with(format!("conf/concurrent/{t:02}/").as_bytes())).collect();
        assert!(own.windows(2).all(|w| w[0].payload < w[1].payload));
    }
}

/// Concurrent commits to distinct keys, every other one expecting a version its key does not
/// have: each stale one fails alone, naming its key, with nothing of it written, and every other
/// one lands with its outbox entry (backends that commit concurrent batches together must not
/// let one batch's failure decide another's).
pub async fn concurrent_commits_with_stale_expectations_fail_alone(store: Arc<dyn Store>) {
    const TASKS: usize = 24;
    let topic = "conf.stale";
    let mut versions = Vec::new();
    for t in 0..TASKS {
        let key = format!("conf/stale/{t:02}");
        store.commit(writes(vec![put(&key, b"old", Expect::Any)])).await.unwrap();
        versions.push(version_of(&store, &key).await);
    }
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = store.clone();
            let key = format!("conf/stale/{t:02}");
            let expected = if t % 2 == 0 { versions[t] } else { versions[t] + 1_000_000 };
            tokio::spawn(async move {
                let batch = Batch {
                    checks: vec![],
                    writes: vec![put(&key, b"new", Expect::Version(expected))],
                    outbox: vec![event(topic, key.as_bytes())],
                };
                (key, store.commit(batch).await)
            })
        })
        .collect();
    for (t, task) in tasks.into_iter().enumerate() {
        let (key, outcome) = task.await.unwrap();
        let item = store.get(&key).await.unwrap().unwrap();
        if t % 2 == 0 {
            outcome.unwrap();
            assert_eq!(item.value, b"new");
        } else {
            assert_conflict(outcome, &key);
            assert_eq!((item.value.as_slice(), item.version), (&b"old"[..], versions[t]));
        }
    }
    let events = store.outbox_after(topic, OutboxPosition::START, 1000).await.unwrap();
    let mut landed: Vec<String> = events.iter().map(|e| String::from_utf8(e.payload.clone()).unwrap()).collect();
    landed.sort();
    let expected: Vec<String> = (0..TASKS).step_by(2).map(|t| format!("conf/stale/{t:02}")).collect();
    assert_eq!(landed, expected);
}

/// Read-modify-write with `Version` expectations under contention loses no update.
pub async fn concurrent_increments_with_version_expectations_lose_none(store: Arc<dyn Store>) {
    const TASKS: u64 = 8;
    const INCREMENTS: u64 = 8;
    let key = "conf/counter/n";
    store.commit(writes(vec![put(key, b"0", Expect::Absent)])).await.unwrap();
    let initial = version_of(&store, key).await;
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                for _ in 0..INCREMENTS {
                    let mut attempts = 0;
                    loop {
                        attempts += 1;
                        assert!(attempts < 10_000, "increment never succeeded");
                        let item = store.get(key).await.unwrap().unwrap();
                        let n: u64 = std::str::from_utf8(&item.value).unwrap().parse().unwrap();
                        let write = put(key, (n + 1).to_string().as_bytes(), Expect::Version(item.version));
                        match store.commit(writes(vec![write])).await {
                            Ok(()) => break,
                            Err(StoreError::Conflict(_)) => tokio::task::yield_now().await,
                            Err(e) => panic!("increment failed: {e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    // The value counts the increments that committed; versions only say that the key moved on.
    let item = store.get(key).await.unwrap().unwrap();
    assert_eq!(item.value, (TASKS * INCREMENTS).to_string().into_bytes());
    assert!(item.version > initial);
}

/// Writers of every kind racing on one key — puts expecting nothing, read-modify-writes expecting
/// a version, deletes and re-creates — never make the version a reader sees go down, also across
/// a delete.
pub async fn versions_of_a_key_never_go_down_under_concurrent_writers_of_every_kind(store: Arc<dyn Store>) {
    const ROUNDS: usize = 25;
    let key = "conf/monotonic/k";
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = tokio::spawn({
        let (store, done) = (store.clone(), done.clone());
        async move {
            let (mut highest, mut reads) = (0, 0u64);
            while !done.load(std::sync::atomic::Ordering::SeqCst) || reads == 0 {
                reads += 1;
                if let Some(item) = store.get(key).await.unwrap() {
                    assert!(item.version >= highest, "version went down from {highest} to {}", item.version);
                    highest = item.version;
                }
                tokio::task::yield_now().await;
            }
        }
    });
    let blind = |n: u8| {
        let store = store.clone();
        tokio::spawn(async move {
            for _ in 0..ROUNDS {
                store.commit(writes(vec![put(key, &[n], Expect::Any)])).await.unwrap();
            }
        })
    };
    let guarded = |n: u8| {
        let store = store.clone();
        tokio::spawn(async move {
            for _ in 0..ROUNDS {
                let expect = match store.get(key).await.unwrap() {
                    Some(item) => Expect::Version(item.version),
                    None => Expect::Absent,
                };
                match store.commit(writes(vec![put(key, &[n], expect)])).await {
                    Ok(()) | Err(StoreError::Conflict(_)) => {}
                    Err(e) => panic!("guarded write failed: {e}"),
                }
            }
        })
    };
    let recreator = {
        let store = store.clone();
        tokio::spawn(async move {
            for _ in 0..ROUNDS {
                store.commit(writes(vec![del(key, Expect::Any)])).await.unwrap();
                match store.commit(writes(vec![put(key, b"re", Expect::Absent)])).await {
                    Ok(()) | Err(StoreError::Conflict(_)) => {}
                    Err(e) => panic!("re-create failed: {e}"),
                }
            }
        })
    };
    let writers = vec![blind(1), blind(2), guarded(3), guarded(4), recreator];
    for writer in writers {
        writer.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    reader.await.unwrap();
}

/// The unit of work sees its own buffered writes and deletes before they are committed.
pub async fn tx_reads_its_own_writes(store: Arc<dyn Store>) {
    let (a, b) = ("conf/tx-ryw/a", "conf/tx-ryw/b");
    store.commit(writes(vec![put(b, b"old", Expect::Any)])).await.unwrap();
    let tx = Tx::new(store.clone());
    assert_eq!(tx.get(a).await.unwrap(), None);
    tx.put(a, b"new".to_vec());
    assert_eq!(tx.get(a).await.unwrap(), Some(b"new".to_vec()));
    assert_eq!(tx.get(b).await.unwrap(), Some(b"old".to_vec()));
    tx.delete(b);
    assert_eq!(tx.get(b).await.unwrap(), None);
    tx.emit("conf.tx-ryw", b"e".to_vec());
    assert!(tx.has_writes());
    // Nothing is visible before the commit.
    assert_eq!(store.get(a).await.unwrap(), None);
    assert_eq!(store.outbox_after("conf.tx-ryw", OutboxPosition::START, 10).await.unwrap(), vec![]);
    store.commit(tx.take_batch()).await.unwrap();
    assert!(!tx.has_writes());
    assert_eq!(store.get(a).await.unwrap().map(|i| i.value), Some(b"new".to_vec()));
    assert_eq!(store.get(b).await.unwrap(), None);
    assert_eq!(store.outbox_after("conf.tx-ryw", OutboxPosition::START, 10).await.unwrap().len(), 1);
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Note {
    text: String,
}

impl crate::Record for Note {
    const KIND: &'static str = "conformance.note";
    const SCHEMA_VERSION: u32 = 1;
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Other {
    text: String,
}

impl crate::Record for Other {
    const KIND: &'static str = "conformance.other";
    const SCHEMA_VERSION: u32 = 1;
}

/// Typed reads return what was committed last, read after read (however the store keeps decoded
/// records), the request's own writes before they commit, and never a record as another type.
pub async fn tx_get_record_returns_the_latest_version_every_time(store: Arc<dyn Store>) {
    // Once plain, once through the store's decoded records, each on a key of its own.
    for cached in [false, true] {
        typed_reads(store.clone(), cached).await;
    }
}

async fn typed_reads(store: Arc<dyn Store>, cached: bool) {
    let key = if cached { "conf/tx-record/cached" } else { "conf/tx-record/plain" };
    let note = |text: &str| Note { text: text.to_string() };
    let commit_note = |text: &str| crate::encode_record(&note(text));
    store.commit(writes(vec![put(key, &commit_note("one"), Expect::Any)])).await.unwrap();
    for _ in 0..3 {
        let tx = Tx::new(store.clone());
        assert_eq!(read::<Note>(&tx, key, cached).await.unwrap(), Some(note("one")));
    }
    assert!(read::<Other>(&Tx::new(store.clone()), key, cached).await.is_err(), "a note is not read as another kind");
    store.commit(writes(vec![put(key, &commit_note("two"), Expect::Any)])).await.unwrap();
    let tx = Tx::new(store.clone());
    assert_eq!(read::<Note>(&tx, key, cached).await.unwrap(), Some(note("two")));
    tx.put_record(key, &note("three"));
    assert_eq!(read::<Note>(&tx, key, cached).await.unwrap(), Some(note("three")));
    tx.delete(key);
    assert_eq!(read::<Note>(&tx, key, cached).await.unwrap(), None);
    assert_eq!(read::<Note>(&Tx::new(store.clone()), key, cached).await.unwrap(), Some(note("two")));
    store.commit(writes(vec![Write { key: key.into(), value: None, expect: Expect::Any }])).await.unwrap();
    assert_eq!(read::<Note>(&Tx::new(store.clone()), key, cached).await.unwrap(), None);
    store.commit(writes(vec![put(key, &commit_note("four"), Expect::Absent)])).await.unwrap();
    assert_eq!(read::<Note>(&Tx::new(store.clone()), key, cached).await.unwrap(), Some(note("four")));
    // Read again and again (a cached record is then known current and used as it is), then
    // changed: the next read sees the change.
    for _ in 0..3 {
        assert_eq!(read::<Note>(&Tx::new(store.clone()), key, cached).await.unwrap(), Some(note("four")));
    }
    store.commit(writes(vec![put(key, &commit_note("five"), Expect::Any)])).await.unwrap();
    assert_eq!(read::<Note>(&Tx::new(store.clone()), key, cached).await.unwrap(), Some(note("five")));
}

async fn read<R: crate::Record + Clone + Send + Sync + 'static>(
    tx: &Tx,
    key: &str,
    cached: bool,
) -> Result<Option<R>, StoreError> {
    if cached {
        Ok(tx.get_record_cached::<R>(key.to_string()).await?.map(|r| (*r).clone()))
    } else {
        tx.get_record(key).await
    }
}

/// The unit of work's scans merge buffered writes and deletes into store pages correctly.
pub async fn tx_scan_merges_pending_writes_and_deletes(store: Arc<dyn Store>) {
    let p = |k: &str| format!("conf/tx-scan/{k}");
    let prefix = p("");
    store
        .commit(writes(["1", "2", "3", "4"].iter().map(|k| put(&p(k), b"stored", Expect::Absent)).collect()))
        .await
        .unwrap();
    let tx = Tx::new(store.clone());
    tx.put(&p("25"), b"pending".to_vec());
    tx.delete(&p("2"));
    tx.put(&p("3"), b"updated".to_vec());
    tx.put("conf/tx-scan0", b"outside the prefix".to_vec());
    let all = tx.scan(&prefix, None, 10).await.unwrap();
    assert_eq!(
        all,
        vec![
            (p("1"), b"stored".to_vec()),
            (p("25"), b"pending".to_vec()),
            (p("3"), b"updated".to_vec()),
            (p("4"), b"stored".to_vec()),
        ]
    );
    let keys = |v: Vec<(String, Vec<u8>)>| v.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    assert_eq!(keys(tx.scan(&prefix, None, 2).await.unwrap()), vec![p("1"), p("25")]);
    assert_eq!(keys(tx.scan(&prefix, Some(&p("1")), 2).await.unwrap()), vec![p("25"), p("3")]);
    assert_eq!(keys(tx.scan(&prefix, Some(&p("3")), 10).await.unwrap()), vec![p("4")]);
    // Paging through the merged view visits every visible key once.
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = keys(tx.scan(&prefix, after.as_deref(), 1).await.unwrap());
        if page.is_empty() {
            break;
        }
        after = page.last().cloned();
        paged.extend(page);
    }
    assert_eq!(paged, vec![p("1"), p("25"), p("3"), p("4")]);
}

/// A unit of work whose reads went stale fails to commit and succeeds once re-run.
pub async fn tx_commit_conflicts_when_another_commit_changed_a_read_key(store: Arc<dyn Store>) {
    let (read, out, missing) = ("conf/tx-conflict/read", "conf/tx-conflict/out", "conf/tx-conflict/missing");
    store.commit(writes(vec![put(read, b"v1", Expect::Any)])).await.unwrap();

    // A key read at some version changed before the commit.
    let tx = Tx::new(store.clone());
    assert_eq!(tx.get(read).await.unwrap(), Some(b"v1".to_vec()));
    tx.put(out, b"derived".to_vec());
    store.commit(writes(vec![put(read, b"v2", Expect::Any)])).await.unwrap();
    assert_conflict(store.commit(tx.take_batch()).await, read);
    assert_eq!(store.get(out).await.unwrap(), None);

    // A key read as absent appeared before the commit.
    let tx = Tx::new(store.clone());
    assert_eq!(tx.get(missing).await.unwrap(), None);
    tx.put(out, b"derived".to_vec());
    store.commit(writes(vec![put(missing, b"now here", Expect::Any)])).await.unwrap();
    assert_conflict(store.commit(tx.take_batch()).await, missing);
    assert_eq!(store.get(out).await.unwrap(), None);

    // A read-modify-write whose key moved on conflicts on that key.
    let tx = Tx::new(store.clone());
    assert_eq!(tx.get(read).await.unwrap(), Some(b"v2".to_vec()));
    tx.put(read, b"v3".to_vec());
    store.commit(writes(vec![put(read, b"other", Expect::Any)])).await.unwrap();
    assert_conflict(store.commit(tx.take_batch()).await, read);

    // Retried with fresh reads, the unit of work commits.
    tx.discard();
    assert_eq!(tx.get(read).await.unwrap(), Some(b"other".to_vec()));
    tx.put(out, b"derived".to_vec());
    store.commit(tx.take_batch()).await.unwrap();
    assert_eq!(store.get(out).await.unwrap().map(|i| i.value), Some(b"derived".to_vec()));
}

/// Reads made on a request's behalf elsewhere (an authorization decision's policies) and
/// remembered by its unit of work conflict like its own reads, present or absent.
pub async fn tx_remembered_reads_conflict_like_its_own(store: Arc<dyn Store>) {
    let (policy, absent, out) = ("conf/tx-remembered/policy", "conf/tx-remembered/absent", "conf/tx-remembered/out");
    store.commit(writes(vec![put(policy, b"allow", Expect::Any)])).await.unwrap();
    let decision = Tx::new(store.clone());
    assert_eq!(decision.get(policy).await.unwrap(), Some(b"allow".to_vec()));
    assert_eq!(decision.get(absent).await.unwrap(), None);
    let reads: crate::tx::SharedReads = decision.read_set().into();
    assert_eq!(reads.len(), 2);

    let tx = Tx::new(store.clone());
    tx.remember_reads(reads.clone());
    tx.put(out, b"decided".to_vec());
    store.commit(writes(vec![put(policy, b"deny", Expect::Any)])).await.unwrap();
    assert_conflict(store.commit(tx.take_batch()).await, policy);
    assert_eq!(store.get(out).await.unwrap(), None);

    let fresh = Tx::new(store.clone());
    assert_eq!(fresh.get(policy).await.unwrap(), Some(b"deny".to_vec()));
    let tx = Tx::new(store.clone());
    tx.remember_reads(fresh.read_set().into());
    tx.put(out, b"decided".to_vec());
    store.commit(writes(vec![put(absent, b"now here", Expect::Any)])).await.unwrap();
    store.commit(tx.take_batch()).await.unwrap();
    assert_eq!(store.get(out).await.unwrap().map(|i| i.value), Some(b"decided".to_vec()));
}

/// `insert_new` never overwrites: creating an existing resource is a conflict.
pub async fn tx_insert_new_conflicts_when_the_key_exists(store: Arc<dyn Store>) {
    let k = "conf/tx-insert/k";
    let tx = Tx::new(store.clone());
    tx.insert_new(k, b"first".to_vec());
    store.commit(tx.take_batch()).await.unwrap();
    let first = store.get(k).await.unwrap().unwrap();
    assert_eq!(first.value, b"first".to_vec());
    let tx = Tx::new(store.clone());
    tx.insert_new(k, b"second".to_vec());
    assert_conflict(store.commit(tx.take_batch()).await, k);
    assert_eq!(store.get(k).await.unwrap(), Some(first));
}

/// A commit that only checks a key leaves it as it was, so a store that caches reads keeps
/// serving it from memory: calls that check the same authorization records while others write
/// would otherwise read them again from the backend every time.
pub async fn a_commit_that_only_checks_a_key_leaves_it_cached(store: Arc<dyn Store>) {
    let (checked, written) = ("conf/check-only/policy", "conf/check-only/out");
    store.commit(writes(vec![put(checked, b"allow", Expect::Any)])).await.unwrap();
    let seen = store.get(checked).await.unwrap().unwrap();
    if store.cache_changes().is_none() {
        return; // this store (or replica) serves no read from memory
    }
    assert_eq!(store.cached_version(checked).map(|(v, _)| v), Some(seen.version), "a read fills the cache");
    let mut batch = writes(vec![put(written, b"decided", Expect::Any)]);
    batch.checks.push((checked.to_string(), Expect::Version(seen.version)));
    store.commit(batch).await.unwrap();
    assert_eq!(store.cached_version(checked).map(|(v, _)| v), Some(seen.version));
}

/// A store that caches reads can tell, without reading, that what was read is still current
/// while other keys change, and stops saying so once one of those keys changes.
pub async fn reads_stay_current_while_other_keys_change(store: Arc<dyn Store>) {
    let (policy, missing, other) = ("conf/current/policy", "conf/current/missing", "conf/current/other");
    store.commit(writes(vec![put(policy, b"allow", Expect::Any)])).await.unwrap();
    let seen = store.get(policy).await.unwrap().unwrap();
    assert_eq!(store.get(missing).await.unwrap(), None);
    if store.cache_changes().is_none() {
        assert_eq!(store.reads_current(&[(policy.to_string(), Some(seen.version))]), None);
        return; // this store (or replica) serves no read from memory
    }
    let reads = vec![(policy.to_string(), Some(seen.version)), (missing.to_string(), None)];
    assert!(store.reads_current(&reads).is_some(), "both reads were cached");
    store.commit(writes(vec![put(other, b"x", Expect::Any)])).await.unwrap();
    assert_eq!(store.reads_current(&reads), store.cache_changes(), "another key changed");
    store.commit(writes(vec![put(missing, b"now here", Expect::Any)])).await.unwrap();
    assert_eq!(store.reads_current(&reads), None, "a key read as missing was written");
    store.get(missing).await.unwrap();
    assert_eq!(store.reads_current(&reads), None, "read again, it is still not what was seen");
    assert!(store.reads_current(&reads[..1]).is_some(), "the other read is still current");
}

/// Every check above, sequentially on one store; reset last because it deletes the others' keys.
pub async fn run_all(store: Arc<dyn Store>) {
    get_of_a_missing_key_returns_none(store.clone()).await;
    put_then_get_returns_the_value_at_a_version_that_grows_with_every_write(store.clone()).await;
    delete_removes_the_key_and_a_recreated_key_gets_a_version_above_all_it_had_before(store.clone()).await;
    an_expected_version_read_before_a_delete_and_recreate_fails_after_it(store.clone()).await;
    scan_returns_keys_in_bytewise_order(store.clone()).await;
    scan_stays_within_the_prefix(store.clone()).await;
    scan_honours_start_after_and_limit(store.clone()).await;
    expectations_succeed_and_fail_correctly(store.clone()).await;
    a_failed_batch_writes_nothing_and_appends_no_outbox(store.clone()).await;
    checks_on_read_keys_conflict_when_those_keys_changed(store.clone()).await;
    a_key_written_twice_in_one_batch_ends_with_the_last_write(store.clone()).await;
    the_outbox_is_ordered_filtered_by_topic_and_resumes_after_a_seq(store.clone()).await;
    many_concurrent_commits_to_distinct_keys_all_land(store.clone()).await;
    concurrent_commits_with_stale_expectations_fail_alone(store.clone()).await;
    concurrent_increments_with_version_expectations_lose_none(store.clone()).await;
    versions_of_a_key_never_go_down_under_concurrent_writers_of_every_kind(store.clone()).await;
    tx_reads_its_own_writes(store.clone()).await;
    tx_get_record_returns_the_latest_version_every_time(store.clone()).await;
    tx_scan_merges_pending_writes_and_deletes(store.clone()).await;
    tx_commit_conflicts_when_another_commit_changed_a_read_key(store.clone()).await;
    tx_insert_new_conflicts_when_the_key_exists(store.clone()).await;
    tx_remembered_reads_conflict_like_its_own(store.clone()).await;
    a_commit_that_only_checks_a_key_leaves_it_cached(store.clone()).await;
    reads_stay_current_while_other_keys_change(store.clone()).await;
    reset_keeps_listed_prefixes_and_clears_the_outbox(store).await;
}

/// Declares one test per behaviour of this suite, and one for [`run_all`], in the calling test
/// crate. Each test calls `$runner(name, behaviour).await`: `$runner` is an async function of the
/// test's name and a `FnOnce(Arc<dyn Store>) -> impl Future<Output = ()>` that opens a fresh store,
/// runs the behaviour on it and cleans up. A backend's `tests/conformance.rs` writes
/// `ingot_store::conformance_tests!(with_store);` (and depends on `tokio` for `#[tokio::test]`).
/// The list sits beside the functions, so a behaviour added here runs on every backend.
#[macro_export]
macro_rules! conformance_tests {
    ($runner:path) => {
        $crate::conformance_tests!(@each $runner;
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
            tx_remembered_reads_conflict_like_its_own,
            a_commit_that_only_checks_a_key_leaves_it_cached,
            reads_stay_current_while_other_keys_change,
            run_all,
        );
    };
    (@each $runner:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                $runner(stringify!($name), $crate::conformance::$name).await;
            }
        )*
    };
}
