//! Group commit: concurrent commits of one replica whose batches touch disjoint keys run as one
//! call of `ingot_commit`, so they share one transaction, one WAL flush and one execution of
//! each statement in the function.
//!
//! Why: under concurrent writes PostgreSQL's own CPU per transaction (each statement's executor
//! start-up inside the function, commit, lock release) was the limit of the write path, not
//! the disk; a group pays it once for all its batches.
//!
//! Why it is exact: no batch of a group writes a key another batch of it checks or writes (a
//! batch that would waits for a later group; batches may share keys they only check), so
//! checking every expectation against the state before the group gives each batch the answer it
//! would get after the batches before it, and applying the union of their writes leaves what
//! applying them one after another would. When an expectation fails, `ingot_commit` names its
//! key: the first batch that expects it is told it conflicted and the others run again as a
//! group (where another batch that expects the key fails in turn).
//! Any other failure of a group commits nothing (deadlock, unique violation, a connection that
//! died before the call was sent): every batch then commits on its own, with the single-batch
//! retries. When the connection is lost with the call in flight, no batch's outcome is known,
//! and each is told so.
//!
//! How groups form: a dispatcher task takes commits off a queue. It waits for one of
//! [`GROUPS_IN_FLIGHT`] slots before it gathers a group, so commits that arrive while every slot
//! is busy join the next group: under light load a commit goes alone at once, under heavy load
//! groups grow with the load. While another group commits, a new one also waits until as many
//! commits wait as the groups committing carry on average, or until none commits: a commit pays
//! PostgreSQL's cost per group, and without this rule every other group under a steady load was
//! a single commit that came in just as a slot freed (see docs/benchmarks.md). The dispatcher and
//! the groups run on a thread of their own ([`runtime`]).

use crate::lease::CacheLease;
use crate::locks::fnv1a;
use crate::plan::{commit_alone, try_commit, Failure, Plan, Versions};
use crate::pool::Pool;
use ingot_store::backend::ReadCache;
use ingot_store::StoreError;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify, Semaphore};

/// Groups being committed at once, each on a pooled connection; the rest of the pool serves
/// reads. Two keep one group forming while the other commits; more make smaller groups, and
/// PostgreSQL's cost is mostly per group, so three or four did worse (see docs/benchmarks.md).
const GROUPS_IN_FLIGHT: usize = 2;

/// Batches in one group at most.
const MAX_GROUP: usize = 32;

/// A commit waiting for its group.
struct Pending {
    plan: Plan,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// The queue in front of the dispatcher. Dropping it ends the dispatcher once the commits
/// already queued have been handed to groups.
pub(crate) struct Committer {
    queue: mpsc::UnboundedSender<Pending>,
    cache: Arc<ReadCache>,
}

/// What a group needs besides its batches.
pub(crate) struct Shared {
    pub(crate) pool: Arc<Pool>,
    /// The store's read cache: a group ends its batches' writes there before it replies, as the
    /// SQLite writer does, so no requester hears of a commit while the cache may still hold a
    /// value it replaced, and a cancelled requester cannot leave its keys marked in flight.
    /// What a batch wrote stays there while `lease` covers the cache.
    pub(crate) cache: Arc<ReadCache>,
    pub(crate) lease: Arc<CacheLease>,
}

impl Committer {
    /// Starts the dispatcher on the group-commit thread.
    pub(crate) fn start(pool: Arc<Pool>, cache: Arc<ReadCache>, lease: Arc<CacheLease>) -> Committer {
        let (queue, pending) = mpsc::unbounded_channel();
        runtime().spawn(dispatch(Arc::new(Shared { pool, cache: cache.clone(), lease }), pending));
        Committer { queue, cache }
    }

    /// Commits `plan` in the next group it fits in, and waits for its outcome. The group ends
    /// the plan's cached write (`Plan::end_cached_write`) before it replies.
    pub(crate) async fn commit(&self, plan: Plan) -> Result<(), StoreError> {
        let (reply, outcome) = oneshot::channel();
        if let Err(unsent) = self.queue.send(Pending { plan, reply }) {
            unsent.0.plan.end_cached_write(&self.cache);
            return Err(StoreError::Backend("postgres group commit has stopped".into()));
        }
        outcome.await.unwrap_or_else(|_| Err(StoreError::Backend("postgres group commit dropped a commit".into())))
    }
}

/// The runtime of the group-commit thread: one for the process, started on first use and never
/// stopped. On the workers that serve requests, a group that PostgreSQL had answered waited in
/// line behind requests before it could reply and let the next group start, so groups took longer
/// and carried fewer batches (see docs/benchmarks.md). A connection a group opens lives here too;
/// one a request opens stays on the workers, where reads (most of what the pool serves) answer
/// sooner.
fn runtime() -> &'static tokio::runtime::Handle {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Handle> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the group-commit runtime starts");
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("ingot-pg-commit".into())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .expect("the group-commit thread starts");
        handle
    })
}

async fn dispatch(shared: Arc<Shared>, mut queue: mpsc::UnboundedReceiver<Pending>) {
    let slots = Arc::new(Semaphore::new(GROUPS_IN_FLIGHT));
    let committing = Arc::new(Committing::default());
    let mut waiting: VecDeque<Pending> = VecDeque::new();
    loop {
        if waiting.is_empty() {
            match queue.recv().await {
                Some(pending) => waiting.push_back(pending),
                None => return,
            }
        }
        // A slot first, then the group: what arrives while all slots are busy joins it.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        // While other groups commit, this one waits to be as large as they are on average (see
        // the module documentation).
        loop {
            drain(&mut queue, &mut waiting);
            let others = GROUPS_IN_FLIGHT - 1 - slots.available_permits();
            if may_start(waiting.len(), others, committing.batches.load(Ordering::Acquire)) {
                break;
            }
            tokio::select! {
                pending = queue.recv() => match pending {
                    Some(pending) => waiting.push_back(pending),
                    None => break,
                },
                () = committing.ended.notified() => {}
            }
        }
        let group = take_disjoint(&mut waiting);
        let size = group.len();
        committing.batches.fetch_add(size, Ordering::AcqRel);
        let shared = shared.clone();
        let committing = committing.clone();
        tokio::spawn(async move {
            commit_group(&shared, group).await;
            committing.batches.fetch_sub(size, Ordering::AcqRel);
            committing.ended.notify_one();
            drop(slot);
        });
    }
}

/// Whether a group of `waiting` commits may start while `others` groups carrying `in_flight`
/// commits are committing: when none is, or when it is as large as they are on average.
fn may_start(waiting: usize, others: usize, in_flight: usize) -> bool {
    others == 0 || waiting >= (in_flight / others).min(MAX_GROUP)
}

/// The groups being committed: how many batches they carry, and a signal when one ends.
#[derive(Default)]
struct Committing {
    batches: AtomicUsize,
    ended: Notify,
}

/// Moves what the queue holds into `waiting`, up to two groups' worth.
fn drain(queue: &mut mpsc::UnboundedReceiver<Pending>, waiting: &mut VecDeque<Pending>) {
    while waiting.len() < 2 * MAX_GROUP {
        match queue.try_recv() {
            Ok(pending) => waiting.push_back(pending),
            Err(_) => break,
        }
    }
}

/// Takes from the front of `waiting` up to [`MAX_GROUP`] commits that touch disjoint keys, but
/// for keys they only check: those several may share, as long as none of the group writes them
/// (many calls check the same policies, and none of them changes those). The others keep their
/// places for a later group. Keys are compared by a 64-bit hash: a collision only puts a batch
/// into a later group.
fn take_disjoint(waiting: &mut VecDeque<Pending>) -> Vec<Pending> {
    let mut group = Vec::new();
    let mut written = HashSet::new();
    let mut checked = HashSet::new();
    let mut index = 0;
    while index < waiting.len() && group.len() < MAX_GROUP {
        let plan = &waiting[index].plan;
        let writes: Vec<u64> = plan.written_keys().map(|key| fnv1a(&[key])).collect();
        let checks: Vec<u64> = plan.checked_only_keys().map(|key| fnv1a(&[key])).collect();
        let clashes = writes.iter().any(|h| written.contains(h) || checked.contains(h))
            || checks.iter().any(|h| written.contains(h));
        if clashes {
            index += 1;
            continue;
        }
        written.extend(writes);
        checked.extend(checks);
        if let Some(pending) = waiting.remove(index) {
            group.push(pending);
        }
    }
    group
}

/// Ends `pending`'s cached write, then tells it `outcome`: the cache forgets, or holds what the
/// batch wrote, before anyone hears.
fn finish(pending: Pending, shared: &Shared, outcome: Result<&Versions, StoreError>) {
    let Pending { plan, reply } = pending;
    let outcome = match outcome {
        Ok(versions) => {
            plan.end_cached_write_keeping(&shared.cache, versions, shared.lease.covers());
            Ok(())
        }
        Err(e) => {
            plan.end_cached_write(&shared.cache);
            Err(e)
        }
    };
    let _ = reply.send(outcome);
}

/// Tells every member of `group` that its commit failed with `message`.
fn fail_all(group: Vec<Pending>, shared: &Shared, message: &str) {
    for pending in group {
        finish(pending, shared, Err(StoreError::Backend(message.to_owned())));
    }
}

/// Commits a group and tells every member its outcome.
async fn commit_group(shared: &Shared, mut group: Vec<Pending>) {
    let pool = &*shared.pool;
    let mut lease_waits = 0;
    while group.len() > 1 {
        let merged = Plan::merge(group.iter().map(|p| &p.plan));
        let outcome = async {
            let mut pooled = pool.get().await?;
            try_commit(pooled.conn()?, &merged).await
        }
        .await;
        match outcome {
            Ok(versions) => {
                group.into_iter().for_each(|pending| finish(pending, shared, Ok(&versions)));
                return;
            }
            Err(Failure::Violated(key)) => match group.iter().position(|p| p.plan.expects(key.as_bytes())) {
                Some(index) => finish(group.remove(index), shared, Err(StoreError::Conflict(key))),
                None => break,
            },
            Err(Failure::Unknown(e)) => return fail_all(group, shared, &e),
            Err(Failure::LeaseHeld(holder)) => {
                if let Err(e) = crate::lease::wait_out(pool, &holder, &mut lease_waits).await {
                    return fail_all(group, shared, &e.to_string());
                }
            }
            Err(Failure::Retry(_) | Failure::Fail(_)) => break,
        }
    }
    for pending in group {
        let outcome = commit_alone(pool, &pending.plan).await;
        match outcome {
            Ok(versions) => finish(pending, shared, Ok(&versions)),
            Err(e) => finish(pending, shared, Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::in_test_schema;
    use crate::PostgresStore;
    use ingot_store::{Batch, Expect, OutboxEntry, OutboxPosition, Store, Write};

    fn batch(key: &str, expect: Expect) -> Batch {
        Batch {
            checks: vec![],
            writes: vec![Write { key: key.into(), value: Some(key.as_bytes().to_vec()), expect }],
            outbox: vec![OutboxEntry { topic: "group.test".into(), payload: key.as_bytes().to_vec() }],
        }
    }

    fn pending(plan: Plan) -> (Pending, oneshot::Receiver<Result<(), StoreError>>) {
        let (reply, outcome) = oneshot::channel();
        (Pending { plan, reply }, outcome)
    }

    /// Commits `batches` as one group, as the dispatcher would, and returns their outcomes.
    async fn commit_as_group(
        store: &PostgresStore,
        batches: Vec<Batch>,
    ) -> Vec<oneshot::Receiver<Result<(), StoreError>>> {
        let (group, outcomes): (Vec<_>, Vec<_>) = batches
            .into_iter()
            .map(|b| {
                let plan = Plan::new(b, store.locks);
                plan.begin_cached_write(&store.cache);
                pending(plan)
            })
            .unzip();
        let shared = Shared { pool: store.pool.clone(), cache: store.cache.clone(), lease: store.cache_lease.clone() };
        commit_group(&shared, group).await;
        outcomes
    }

    #[test]
    fn a_group_takes_disjoint_batches_in_order_and_leaves_the_others_in_place() {
        let locks = crate::locks::Locks::new(None);
        let mut waiting: VecDeque<Pending> = ["a", "b", "a", "c", "b"]
            .into_iter()
            .map(|key| pending(Plan::new(batch(key, Expect::Any), locks)).0)
            .collect();
        let first = take_disjoint(&mut waiting);
        let keys = |plans: &mut dyn Iterator<Item = &Pending>| -> Vec<Vec<u8>> {
            plans.map(|p| p.plan.written_keys().next().unwrap().to_vec()).collect()
        };
        assert_eq!(keys(&mut first.iter()), [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        assert_eq!(keys(&mut waiting.iter()), [b"a".to_vec(), b"b".to_vec()]);
        let second = take_disjoint(&mut waiting);
        assert_eq!(second.len(), 2);
        assert!(waiting.is_empty());
    }

    #[test]
    fn batches_that_only_check_a_key_share_a_group_but_not_with_one_that_writes_it() {
        let locks = crate::locks::Locks::new(None);
        let checking = |write: &str| {
            let mut b = batch(write, Expect::Any);
            b.checks.push(("policy".into(), Expect::Absent));
            pending(Plan::new(b, locks)).0
        };
        let mut waiting: VecDeque<Pending> =
            [checking("a"), checking("b"), pending(Plan::new(batch("policy", Expect::Any), locks)).0, checking("c")]
                .into_iter()
                .collect();
        let first = take_disjoint(&mut waiting);
        assert_eq!(first.len(), 3, "the three batches that only check `policy` go together");
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].plan.written_keys().next(), Some(&b"policy"[..]));
    }

    #[tokio::test]
    async fn batches_sharing_a_checked_key_commit_together_and_all_conflict_when_it_changed() {
        in_test_schema(|store, _url, _schema| async move {
            store.commit(batch("s/policy", Expect::Any)).await.unwrap();
            let seen = store.get("s/policy").await.unwrap().unwrap().version;
            let checking = |write: &str, expect: Expect| {
                let mut b = batch(write, Expect::Any);
                b.checks.push(("s/policy".into(), expect));
                b
            };
            let fresh = vec![checking("s/a", Expect::Version(seen)), checking("s/b", Expect::Version(seen))];
            for outcome in commit_as_group(&store, fresh).await {
                outcome.await.unwrap().unwrap();
            }
            let stale = vec![
                checking("s/c", Expect::Version(seen - 1)),
                checking("s/d", Expect::Version(seen - 1)),
                batch("s/e", Expect::Any),
            ];
            let mut results = Vec::new();
            for outcome in commit_as_group(&store, stale).await {
                results.push(outcome.await.unwrap());
            }
            assert!(matches!(&results[0], Err(StoreError::Conflict(k)) if k == "s/policy"), "{results:?}");
            assert!(matches!(&results[1], Err(StoreError::Conflict(k)) if k == "s/policy"), "{results:?}");
            assert!(results[2].is_ok(), "{results:?}");
            assert!(store.get("s/c").await.unwrap().is_none() && store.get("s/d").await.unwrap().is_none());
            assert!(store.get("s/e").await.unwrap().is_some());
        })
        .await;
    }

    #[test]
    fn a_group_starts_at_once_when_none_commits_and_otherwise_once_it_is_as_large_as_those_committing() {
        assert!(may_start(1, 0, 0));
        assert!(!may_start(1, 1, 8));
        assert!(!may_start(7, 1, 8));
        assert!(may_start(8, 1, 8));
        assert!(!may_start(3, 2, 8));
        assert!(may_start(4, 2, 8));
        // A group that has just ended leaves nothing to wait for.
        assert!(may_start(1, 1, 0));
        assert!(may_start(MAX_GROUP, 1, 10 * MAX_GROUP));
    }

    #[tokio::test]
    async fn a_group_writes_one_outbox_row_per_topic_and_its_entries_are_read_one_by_one_in_order() {
        in_test_schema(|store, url, schema| async move {
            store.commit(batch("o/before", Expect::Any)).await.unwrap();
            let batches: Vec<Batch> = ["o/a", "o/b", "o/c"]
                .into_iter()
                .map(|key| {
                    let mut b = batch(key, Expect::Any);
                    b.outbox.push(OutboxEntry { topic: "group.other".into(), payload: format!("other {key}").into() });
                    b
                })
                .collect();
            for outcome in commit_as_group(&store, batches).await {
                outcome.await.unwrap().unwrap();
            }
            store.commit(batch("o/after", Expect::Any)).await.unwrap();

            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            let rows = client
                .query(&format!("SELECT topic, entries FROM \"{schema}\".outbox ORDER BY xid, seq"), &[])
                .await
                .unwrap();
            let rows: Vec<(String, Option<i32>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            let test = |n: Option<i32>| ("group.test".to_string(), n);
            assert_eq!(rows, [test(None), test(Some(3)), ("group.other".to_string(), Some(3)), test(None)]);

            // Read one entry at a time, and all at once: the same entries, positions rising.
            let mut one_by_one = Vec::new();
            let mut cursor = OutboxPosition::START;
            loop {
                let page = store.outbox_after("group.test", cursor, 1).await.unwrap();
                let Some(record) = page.into_iter().next() else { break };
                assert!(record.position > cursor);
                cursor = record.position;
                one_by_one.push(record);
            }
            let all = store.outbox_after("group.test", OutboxPosition::START, 100).await.unwrap();
            assert_eq!(one_by_one, all);
            let payloads: Vec<&[u8]> = all.iter().map(|e| e.payload.as_slice()).collect();
            assert_eq!(payloads, [&b"o/before"[..], b"o/a", b"o/b", b"o/c", b"o/after"]);
            // A page of two from the middle of the shared row ends inside it.
            let page = store.outbox_after("group.test", all[1].position, 2).await.unwrap();
            assert_eq!(page, all[2..4]);
            let other = store.outbox_after("group.other", OutboxPosition::START, 100).await.unwrap();
            let payloads: Vec<&[u8]> = other.iter().map(|e| e.payload.as_slice()).collect();
            assert_eq!(payloads, [&b"other o/a"[..], b"other o/b", b"other o/c"]);
        })
        .await;
    }

    #[tokio::test]
    async fn a_stale_batch_in_a_group_fails_alone_and_the_others_commit_together() {
        in_test_schema(|store, _url, _schema| async move {
            for key in ["g/a", "g/b", "g/c"] {
                store.commit(batch(key, Expect::Any)).await.unwrap();
            }
            let version = |key: &'static str| {
                let store = store.clone();
                async move { store.get(key).await.unwrap().unwrap().version }
            };
            let (a, c) = (version("g/a").await, version("g/c").await);
            let plans = [
                batch("g/a", Expect::Version(a)),
                batch("g/b", Expect::Version(1)),
                batch("g/c", Expect::Version(c)),
                batch("g/d", Expect::Absent),
            ];
            let mut results = Vec::new();
            for outcome in commit_as_group(&store, plans.into()).await {
                results.push(outcome.await.unwrap());
            }
            assert!(results[0].is_ok() && results[2].is_ok() && results[3].is_ok(), "{results:?}");
            assert!(matches!(&results[1], Err(StoreError::Conflict(k)) if k == "g/b"), "{results:?}");
            assert!(version("g/a").await > a && version("g/c").await > c);
            assert!(store.get("g/d").await.unwrap().is_some());
            let events = store.outbox_after("group.test", OutboxPosition::START, 100).await.unwrap();
            let payloads: Vec<&[u8]> = events.iter().map(|e| e.payload.as_slice()).collect();
            // Three single commits first, then the group's three in group order.
            assert_eq!(payloads, [&b"g/a"[..], b"g/b", b"g/c", b"g/a", b"g/c", b"g/d"]);
        })
        .await;
    }
}
