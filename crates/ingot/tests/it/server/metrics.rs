//! `GET /metrics`: Prometheus text of the calls, commits and queues. The recorder is
//! process-wide, so counts include other tests' calls: only growth is asserted.

use crate::support::TestServer;

/// The value of the sample named exactly `series` (name and labels), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_calls_by_service_operation_and_outcome() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter()
        .name("/metrics/p")
        .value("v")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    ssm.get_parameter().name("/metrics/absent").send().await.unwrap_err();

    let r = server.raw("GET", "/metrics", &[], b"", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers.get("content-type").map(String::as_str), Some("text/plain; version=0.0.4"));
    let put = r#"ingot_calls_total{service="ssm",operation="PutParameter",outcome="ok"}"#;
    let not_found = r#"ingot_calls_total{service="ssm",operation="GetParameter",outcome="ParameterNotFound"}"#;
    let puts = sample(&r.body, put).unwrap_or_else(|| panic!("{put} missing from\n{}", r.body));
    assert!(puts >= 1.0);
    assert!(sample(&r.body, not_found).is_some_and(|n| n >= 1.0), "{}", r.body);
    for series in [
        "# TYPE ingot_call_duration_seconds histogram",
        r#"ingot_call_duration_seconds_count{service="ssm",operation="PutParameter"}"#,
        r#"ingot_call_duration_seconds_bucket{service="ssm",operation="PutParameter",le="+Inf"}"#,
        "# TYPE ingot_commit_duration_seconds histogram",
        "ingot_commit_duration_seconds_count",
        "ingot_commit_conflicts_total",
        "ingot_jobs_due",
        r#"ingot_outbox_backlog{topic="audit"}"#,
    ] {
        assert!(r.body.contains(series), "{series} missing from\n{}", r.body);
    }
    // This server's outbox holds at least the put's audit record and its event.
    assert!(sample(&r.body, r#"ingot_outbox_backlog{topic="audit"}"#).is_some_and(|n| n >= 1.0), "{}", r.body);
    assert!(sample(&r.body, r#"ingot_outbox_backlog{topic="events"}"#).is_some_and(|n| n >= 1.0), "{}", r.body);

    ssm.put_parameter()
        .name("/metrics/q")
        .value("v")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();
    let again = server.raw("GET", "/metrics", &[], b"", None).await;
    assert!(sample(&again.body, put).is_some_and(|n| n >= puts + 1.0), "{}", again.body);
    server.stop().await;
}

#[tokio::test]
async fn two_servers_in_one_process_both_serve_metrics() {
    // The second server finds the recorder installed and renders from it too.
    let (a, b) = (TestServer::start().await, TestServer::start().await);
    a.sts().get_caller_identity().send().await.unwrap();
    let r = a.raw("GET", "/metrics", &[], b"", None).await;
    let series = r#"ingot_calls_total{service="sts",operation="GetCallerIdentity",outcome="ok"}"#;
    assert!(sample(&r.body, series).is_some_and(|n| n >= 1.0), "{}", r.body);
    let r = b.raw("GET", "/metrics", &[], b"", None).await;
    assert_eq!(r.status, 200);
    assert!(sample(&r.body, "ingot_jobs_due").is_some(), "{}", r.body);
    a.stop().await;
    b.stop().await;
}
