//! Prometheus metrics: the process's one recorder (the `metrics` facade's macros record into it
//! from the invoker and the commit policy), and the text `GET /metrics` answers with.
//!
//! Recorded as they happen: `ingot_calls_total{service,operation,outcome}`,
//! `ingot_call_duration_seconds{service,operation}`, `ingot_commit_duration_seconds`,
//! `ingot_commit_conflicts_total`. Computed from the store when scraped: `ingot_jobs_due` and
//! `ingot_outbox_backlog{topic}`, each counted up to [`GAUGE_LIMIT`].

use ingot_core::{Env, Timestamp};
use ingot_gateway::MetricsEndpoint;
use ingot_store::{OutboxPosition, Store, StoreError};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Upper bounds of the latency histograms' buckets, in seconds.
const LATENCY_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// How often recorded histogram samples are folded into the buckets, scraped or not (until then
/// each sample takes memory).
const UPKEEP: Duration = Duration::from_secs(5);

/// The gauges read through the store count at most this many keys or records per scrape.
pub const GAUGE_LIMIT: usize = 10_000;

/// Keys read per scan while counting due jobs.
const PAGE: usize = 1_000;

/// The outbox topics whose backlog is reported.
const OUTBOX_TOPICS: [&str; 2] = [ingot_core::AUDIT_TOPIC, ingot_core::EVENTS_TOPIC];

/// The process's recorder, installed by the first call (a test process starts many servers; the
/// recorder is process-wide). `None` when another recorder was installed first.
pub fn handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE.get_or_init(install).clone()
}

fn install() -> Option<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets(LATENCY_BUCKETS)
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|e| tracing::warn!(error = %e, "metrics are not recorded"))
        .ok()?;
    describe();
    let upkeep = handle.clone();
    let started = std::thread::Builder::new().name("ingot-metrics".into()).spawn(move || loop {
        std::thread::sleep(UPKEEP);
        upkeep.run_upkeep();
    });
    if let Err(e) = started {
        tracing::warn!(error = %e, "no metrics upkeep thread: histogram samples are folded only when scraped");
    }
    Some(handle)
}

fn describe() {
    use metrics::Unit;
    metrics::describe_counter!(
        "ingot_calls_total",
        "Operation calls by service, operation and outcome (ok or the error code)."
    );
    metrics::describe_histogram!(
        "ingot_call_duration_seconds",
        Unit::Seconds,
        "Time to run an operation call, retries included."
    );
    metrics::describe_histogram!(
        "ingot_commit_duration_seconds",
        Unit::Seconds,
        "Time to commit a unit of work to the store."
    );
    metrics::describe_counter!("ingot_commit_conflicts_total", "Commits that conflicted (their work ran again).");
    // Shown from the start, at 0, so that its rate is defined before the first conflict.
    metrics::counter!("ingot_commit_conflicts_total").increment(0);
    metrics::describe_gauge!("ingot_jobs_due", "Jobs due now or earlier, not yet run (counted up to 10000).");
    metrics::describe_gauge!(
        "ingot_outbox_backlog",
        "Outbox records per topic waiting for delivery (counted up to 10000; nothing consumes the outbox yet, so this is every record)."
    );
}

/// `GET /metrics` for the gateway: the gauges read through the server's store, then the text of
/// everything recorded. `None` when metrics are not recorded.
pub fn endpoint() -> Option<MetricsEndpoint> {
    let handle = handle()?;
    Some(MetricsEndpoint(Arc::new(move |env: Arc<Env>| {
        let handle = handle.clone();
        Box::pin(async move {
            record_gauges(&env).await;
            handle.render()
        })
    })))
}

async fn record_gauges(env: &Env) {
    match jobs_due(&*env.store, env.clock.now()).await {
        Ok(due) => metrics::gauge!("ingot_jobs_due").set(due as f64),
        Err(e) => tracing::warn!(error = %e, "counting due jobs for metrics"),
    }
    for topic in OUTBOX_TOPICS {
        match env.store.outbox_after(topic, OutboxPosition::START, GAUGE_LIMIT).await {
            Ok(records) => metrics::gauge!("ingot_outbox_backlog", "topic" => topic).set(records.len() as f64),
            Err(e) => tracing::warn!(error = %e, topic, "counting outbox records for metrics"),
        }
    }
}

/// Jobs due at `now` or earlier, up to [`GAUGE_LIMIT`]. Job keys sort by due time, so these are
/// the keys before the first one due after `now`.
pub async fn jobs_due(store: &dyn Store, now: Timestamp) -> Result<usize, StoreError> {
    let later = ingot_jobs::job_storage_key(Timestamp::from_millis(now.millis().saturating_add(1)), "");
    let mut count = 0;
    let mut after: Option<String> = None;
    while count < GAUGE_LIMIT {
        let limit = PAGE.min(GAUGE_LIMIT - count);
        let page = store.scan(ingot_jobs::JOBS_PREFIX, after.as_deref(), limit).await?;
        let full = page.len() == limit;
        let due = page.iter().take_while(|(key, _)| key.as_str() < later.as_str()).count();
        count += due;
        if due < page.len() || !full {
            break;
        }
        after = page.into_iter().last().map(|(key, _)| key);
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingot_store::{Batch, Expect, Write};

    async fn plant_jobs(store: &dyn Store, due_millis: i64, count: usize) {
        let writes = (0..count)
            .map(|i| Write {
                key: ingot_jobs::job_storage_key(
                    Timestamp::from_millis(due_millis),
                    &format!("job-{due_millis}-{i:06}"),
                ),
                value: Some(b"{}".to_vec()),
                expect: Expect::Any,
            })
            .collect();
        store.commit(Batch { writes, ..Batch::default() }).await.unwrap();
    }

    #[tokio::test]
    async fn due_jobs_are_counted_up_to_now_and_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store = ingot_store_sqlite::SqliteStore::open(dir.path()).unwrap();
        let due = |now: i64| {
            let store = store.clone();
            async move { jobs_due(&*store, Timestamp::from_millis(now)).await.unwrap() }
        };
        assert_eq!(due(5_000).await, 0);
        plant_jobs(&*store, 1_000, 3).await;
        plant_jobs(&*store, 2_000, 2).await;
        store
            .commit(Batch {
                writes: vec![Write {
                    key: "global/jobs/other".into(),
                    value: Some(b"x".to_vec()),
                    expect: Expect::Any,
                }],
                ..Batch::default()
            })
            .await
            .unwrap();
        assert_eq!(due(999).await, 0);
        assert_eq!(due(1_000).await, 3);
        assert_eq!(due(1_999).await, 3);
        assert_eq!(due(2_000).await, 5);
        // Across pages of the scan, and no further than the limit.
        plant_jobs(&*store, 3_000, 2 * PAGE + 10).await;
        assert_eq!(due(3_000).await, 2 * PAGE + 15);
        plant_jobs(&*store, 4_000, GAUGE_LIMIT).await;
        assert_eq!(due(3_999).await, 2 * PAGE + 15);
        assert_eq!(due(4_000).await, GAUGE_LIMIT);
    }
}
