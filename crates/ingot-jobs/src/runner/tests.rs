use super::*;
use crate::{cancel, schedule, JobRef};
use ingot_core::time::ManualClock;
use ingot_core::{AccountId, IdGen, Region, Scope};
use ingot_store::Store;
use ingot_store_sqlite::SqliteStore;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};

const T0: Timestamp = Timestamp(1_700_000_000_000);

/// Counts each committed run in the store: `test/effects/{name}` holds how often job `name` took
/// effect. Fails its first `failures` runs; asks to run again `again` times, 5 s later each.
struct Effect {
    calls: AtomicUsize,
    failures: usize,
    again: usize,
    panics: bool,
}

impl Effect {
    fn new() -> Self {
        Effect { calls: AtomicUsize::new(0), failures: 0, again: 0, panics: false }
    }
}

#[async_trait]
impl JobHandler for Effect {
    fn kind(&self) -> &'static str {
        "test.effect"
    }
    fn service(&self) -> &'static str {
        "test"
    }
    async fn run(&self, job: &JobRecord, ctx: &JobContext<'_>) -> Result<JobOutcome, JobError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if self.panics && call == 0 {
            panic!("handler bug");
        }
        if call < self.failures {
            return Err(format!("failure {call}").into());
        }
        let name = job.payload["name"].as_str().ok_or("no name")?;
        let key = format!("test/effects/{name}");
        let count: u64 = match ctx.tx.get(&key).await? {
            Some(bytes) => String::from_utf8_lossy(&bytes).parse().map_err(|_| "bad count")?,
            None => 0,
        };
        ctx.tx.put(&key, (count + 1).to_string().into_bytes());
        // Give a racing runner time to read the same job.
        tokio::task::yield_now().await;
        if call < self.failures + self.again {
            return Ok(JobOutcome::RunAgainAt(Timestamp(ctx.now.millis() + 5_000)));
        }
        Ok(JobOutcome::Done)
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    env: Arc<Env>,
}

/// The environment of a runner: `store`, a manual `clock`, no served services.
fn env(store: Arc<dyn Store>, clock: Arc<ManualClock>) -> Arc<Env> {
    Arc::new(Env {
        store,
        clock,
        ids: IdGen::seeded(17),
        secrets: ingot_core::crypto::SecretBox::new(&[2u8; 32]),
        authorizer: Arc::new(ingot_policy::OwnAccountAuthorizer),
        invoker: Arc::new(ingot_invoker::Invoker::new(Vec::new())),
        clock_moved: tokio::sync::Notify::new(),
    })
}

fn scope() -> Scope {
    Scope::new(AccountId::parse("111122223333").unwrap(), Region::parse("us-east-1").unwrap())
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = SqliteStore::open(dir.path()).unwrap();
        let clock = Arc::new(ManualClock::at(T0));
        Setup { _dir: dir, env: env(store.clone(), clock.clone()), store, clock }
    }

    fn runner(&self, handlers: Vec<Arc<dyn JobHandler>>) -> JobRunner {
        JobRunner::new(self.env.clone(), handlers)
    }

    /// Schedules `name` at `T0 + after_ms` in its own committed unit of work.
    async fn schedule(&self, name: &str, after_ms: i64) -> JobRef {
        let tx = Tx::new(self.store.clone());
        let due = Timestamp(T0.millis() + after_ms);
        let job = schedule(&tx, &self.env.ids, &scope(), "test.effect", due, json!({ "name": name }));
        self.store.commit(tx.take_batch()).await.unwrap();
        job
    }

    async fn effects(&self, name: &str) -> u64 {
        match self.store.get(&format!("test/effects/{name}")).await.unwrap() {
            Some(item) => String::from_utf8(item.value).unwrap().parse().unwrap(),
            None => 0,
        }
    }

    async fn queued(&self) -> Vec<JobRecord> {
        self.store
            .scan(JOBS_PREFIX, None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, item)| decode_record(&item.value).unwrap())
            .collect()
    }
}

#[tokio::test]
async fn a_job_runs_only_once_it_is_due() {
    let s = Setup::new();
    let handler = Arc::new(Effect::new());
    let runner = s.runner(vec![handler.clone()]);
    s.schedule("a", 10_000).await;
    assert_eq!(runner.run_due().await.unwrap(), 0);
    s.clock.advance(9_999);
    assert_eq!(runner.run_due().await.unwrap(), 0);
    assert_eq!(s.effects("a").await, 0);
    s.clock.advance(1);
    assert_eq!(runner.run_due().await.unwrap(), 1);
    assert_eq!(s.effects("a").await, 1);
    assert_eq!(runner.run_due().await.unwrap(), 0);
    assert_eq!(s.effects("a").await, 1);
    assert!(s.queued().await.is_empty());
}

#[tokio::test]
async fn due_jobs_run_in_due_order_across_scan_pages() {
    let s = Setup::new();
    let runner = s.runner(vec![Arc::new(Effect::new())]);
    for i in (0..150).rev() {
        s.schedule(&format!("j{i}"), i).await;
    }
    s.clock.advance(99);
    assert_eq!(runner.run_due().await.unwrap(), 100);
    assert_eq!(s.effects("j99").await, 1);
    assert_eq!(s.effects("j100").await, 0);
    assert_eq!(s.queued().await.len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_takes_effect_exactly_once_when_two_runners_race() {
    let s = Setup::new();
    let a = Arc::new(s.runner(vec![Arc::new(Effect::new())]));
    let b = Arc::new(s.runner(vec![Arc::new(Effect::new())]));
    for i in 0..30 {
        s.schedule(&format!("r{i}"), 0).await;
    }
    let (ra, rb) = tokio::join!(
        tokio::spawn({
            let a = a.clone();
            async move { a.run_due().await.unwrap() }
        }),
        tokio::spawn({
            let b = b.clone();
            async move { b.run_due().await.unwrap() }
        }),
    );
    assert_eq!(ra.unwrap() + rb.unwrap(), 30);
    for i in 0..30 {
        assert_eq!(s.effects(&format!("r{i}")).await, 1, "r{i}");
    }
    assert!(s.queued().await.is_empty());
}

#[tokio::test]
async fn a_failed_job_is_retried_later_with_backoff() {
    let s = Setup::new();
    let handler = Arc::new(Effect { failures: 2, ..Effect::new() });
    let runner = s.runner(vec![handler.clone()]);
    s.schedule("f", 0).await;
    assert_eq!(runner.run_due().await.unwrap(), 0);
    let queued = s.queued().await;
    assert_eq!(queued[0].attempts, 1);
    assert_eq!(queued[0].last_error.as_deref(), Some("failure 0"));
    assert_eq!(s.effects("f").await, 0);
    // Not again before the backoff has passed.
    assert_eq!(runner.run_due().await.unwrap(), 0);
    assert_eq!(handler.calls.load(Ordering::SeqCst), 1);
    s.clock.advance(2_000);
    assert_eq!(runner.run_due().await.unwrap(), 0);
    assert_eq!(s.queued().await[0].attempts, 2);
    s.clock.advance(2_000);
    assert_eq!(runner.run_due().await.unwrap(), 0, "the second backoff is longer");
    s.clock.advance(2_000);
    assert_eq!(runner.run_due().await.unwrap(), 1);
    assert_eq!(s.effects("f").await, 1);
    assert_eq!(handler.calls.load(Ordering::SeqCst), 3);
    assert!(s.queued().await.is_empty());
}

#[test]
fn retry_delays_double_up_to_an_hour() {
    assert_eq!(retry_delay_ms(1), 2_000);
    assert_eq!(retry_delay_ms(2), 4_000);
    assert_eq!(retry_delay_ms(12), MAX_RETRY_DELAY_MS);
    assert_eq!(retry_delay_ms(u32::MAX), MAX_RETRY_DELAY_MS);
}

#[tokio::test]
async fn a_panicking_handler_fails_its_job_and_not_the_runner() {
    let s = Setup::new();
    let handler = Arc::new(Effect { panics: true, ..Effect::new() });
    let runner = s.runner(vec![handler.clone()]);
    s.schedule("p", 0).await;
    assert_eq!(runner.run_due().await.unwrap(), 0);
    assert_eq!(s.queued().await[0].last_error.as_deref(), Some("the handler panicked"));
    s.clock.advance(2_000);
    assert_eq!(runner.run_due().await.unwrap(), 1);
    assert_eq!(s.effects("p").await, 1);
}

#[tokio::test]
async fn a_job_cancelled_in_a_unit_of_work_never_runs() {
    let s = Setup::new();
    let handler = Arc::new(Effect::new());
    let runner = s.runner(vec![handler.clone()]);
    let job = s.schedule("c", 1_000).await;
    let tx = Tx::new(s.store.clone());
    cancel(&tx, &job);
    s.store.commit(tx.take_batch()).await.unwrap();

    // Scheduled and cancelled in one unit of work; scheduled in one that never commits.
    let tx = Tx::new(s.store.clone());
    let other = schedule(&tx, &s.env.ids, &scope(), "test.effect", T0, json!({ "name": "c2" }));
    cancel(&tx, &other);
    s.store.commit(tx.take_batch()).await.unwrap();
    let tx = Tx::new(s.store.clone());
    schedule(&tx, &s.env.ids, &scope(), "test.effect", T0, json!({ "name": "c3" }));
    tx.discard();

    s.clock.advance(5_000);
    assert_eq!(runner.run_due().await.unwrap(), 0);
    assert_eq!(handler.calls.load(Ordering::SeqCst), 0);
    assert!(s.queued().await.is_empty());
}

#[tokio::test]
async fn a_cancel_that_commits_first_wins_over_a_run_in_progress() {
    let s = Setup::new();
    let job = s.schedule("w", 0).await;
    // The runner's unit of work as it stands after reading the job.
    let tx = Tx::new(s.store.clone());
    assert!(tx.get_record::<JobRecord>(&job.storage_key()).await.unwrap().is_some());
    tx.delete(&job.storage_key());
    let cancel_tx = Tx::new(s.store.clone());
    cancel(&cancel_tx, &job);
    s.store.commit(cancel_tx.take_batch()).await.unwrap();
    assert!(matches!(s.store.commit(tx.take_batch()).await, Err(StoreError::Conflict(_))));
}

#[tokio::test]
async fn run_again_at_reschedules_the_job() {
    let s = Setup::new();
    let handler = Arc::new(Effect { again: 2, ..Effect::new() });
    let runner = s.runner(vec![handler.clone()]);
    let first = s.schedule("g", 0).await;
    assert_eq!(runner.run_due().await.unwrap(), 1);
    let queued = s.queued().await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].id, first.id);
    assert_eq!(queued[0].due, Timestamp(T0.millis() + 5_000));
    assert_eq!(runner.run_due().await.unwrap(), 0);
    s.clock.advance(5_000);
    assert_eq!(runner.run_due().await.unwrap(), 1);
    s.clock.advance(5_000);
    assert_eq!(runner.run_due().await.unwrap(), 1);
    assert_eq!(s.effects("g").await, 3);
    assert!(s.queued().await.is_empty());
}

#[tokio::test]
async fn a_job_asking_to_run_again_now_waits_for_the_next_pass() {
    struct Now;
    #[async_trait]
    impl JobHandler for Now {
        fn kind(&self) -> &'static str {
            "test.effect"
        }
        fn service(&self) -> &'static str {
            "test"
        }
        async fn run(&self, _: &JobRecord, ctx: &JobContext<'_>) -> Result<JobOutcome, JobError> {
            Ok(JobOutcome::RunAgainAt(ctx.now))
        }
    }
    let s = Setup::new();
    let runner = s.runner(vec![Arc::new(Now)]);
    s.schedule("n", 0).await;
    assert_eq!(runner.run_due().await.unwrap(), 1);
    assert_eq!(s.queued().await[0].due, Timestamp(T0.millis() + 1));
}

#[tokio::test]
async fn a_job_of_an_unknown_kind_waits_for_a_runner_that_knows_it() {
    let s = Setup::new();
    s.schedule("u", 0).await;
    let old = s.runner(vec![]);
    assert_eq!(old.run_due().await.unwrap(), 0);
    assert_eq!(s.queued().await[0].attempts, 0);
    let new = s.runner(vec![Arc::new(Effect::new())]);
    assert_eq!(new.run_due().await.unwrap(), 0, "deferred for a while");
    s.clock.advance(UNKNOWN_KIND_DELAY_MS);
    assert_eq!(new.run_due().await.unwrap(), 1);
    assert_eq!(s.effects("u").await, 1);
}

#[tokio::test]
async fn a_new_runner_over_the_same_store_picks_up_earlier_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(T0));
    {
        let store: Arc<dyn Store> = SqliteStore::open(dir.path()).unwrap();
        let env = env(store.clone(), clock.clone());
        let tx = Tx::new(store.clone());
        schedule(&tx, &env.ids, &scope(), "test.effect", Timestamp(T0.millis() + 1_000), json!({ "name": "r" }));
        store.commit(tx.take_batch()).await.unwrap();
        let runner = JobRunner::new(env, vec![Arc::new(Effect::new())]);
        assert_eq!(runner.run_due().await.unwrap(), 0);
    }
    let store: Arc<dyn Store> = SqliteStore::open(dir.path()).unwrap();
    let runner = JobRunner::new(env(store.clone(), clock.clone()), vec![Arc::new(Effect::new())]);
    clock.advance(1_000);
    assert_eq!(runner.run_due().await.unwrap(), 1);
    assert!(store.get("test/effects/r").await.unwrap().is_some());
}

#[tokio::test]
async fn the_spawned_runner_wakes_when_notified_and_stops_on_shutdown() {
    let s = Setup::new();
    let runner = Arc::new(s.runner(vec![Arc::new(Effect::new())]));
    let (stop, stopped) = watch::channel(false);
    let task = runner.spawn(Duration::from_secs(3600), stopped);
    s.schedule("s", 60_000).await;
    // Let the first pass finish and the task wait.
    tokio::time::sleep(Duration::from_millis(50)).await;
    s.clock.advance(60_000);
    s.env.clock_moved.notify_waiters();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while s.effects("s").await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the notified runner did not run the due job");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task).await.expect("runner stops").unwrap();
}

#[tokio::test]
async fn the_spawned_runner_stops_when_the_shutdown_sender_is_dropped() {
    let s = Setup::new();
    let runner = Arc::new(s.runner(vec![]));
    let (stop, stopped) = watch::channel(false);
    let task = runner.spawn(Duration::from_secs(3600), stopped);
    drop(stop);
    tokio::time::timeout(Duration::from_secs(10), task).await.expect("runner stops").unwrap();
}
