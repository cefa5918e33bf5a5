//! Every call is recorded CloudTrail-style, successful or not, without secrets.

use crate::support::TestServer;
use aws_sdk_ssm::types::ParameterType;
use std::time::Duration;

async fn audit_records(server: &TestServer, at_least: usize) -> Vec<serde_json::Value> {
    // Calls that change nothing are recorded by a background flush within ~100 ms.
    // An outbox entry holds one or more records, stored compactly.
    let mut records = Vec::new();
    for _ in 0..100 {
        let entries =
            server.store().outbox_after("audit", ingot_store::OutboxPosition::START, 10_000).await.expect("outbox");
        records =
            entries.iter().flat_map(|e| ingot_invoker::expand_audit_entry(&e.payload).expect("audit entry")).collect();
        if records.len() >= at_least {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    records
}

#[tokio::test]
async fn a_successful_write_is_recorded_with_who_what_and_where() {
    let server = TestServer::start().await;
    let ssm = server.ssm("eu-west-1");
    ssm.put_parameter().name("/audited").value("v1").r#type(ParameterType::String).send().await.unwrap();
    let records = audit_records(&server, 1).await;
    let put = records.iter().find(|r| r["eventName"] == "PutParameter").expect("PutParameter recorded");
    assert_eq!(put["eventSource"], "ssm.amazonaws.com");
    assert_eq!(put["awsRegion"], "eu-west-1");
    assert_eq!(put["userIdentity"]["type"], "Root");
    assert_eq!(put["userIdentity"]["arn"], format!("arn:aws:iam::{}:root", server.account()));
    assert_eq!(put["requestParameters"]["name"], "/audited");
    assert_eq!(put["responseElements"]["version"], 1);
    assert_eq!(put["readOnly"], false);
    assert!(put["eventID"].is_string() && put["requestID"].is_string() && put["eventTime"].is_string());
    server.stop().await;
}

#[tokio::test]
async fn a_failed_call_is_recorded_with_its_error_code() {
    let server = TestServer::start().await;
    let _ = server.ssm("us-east-1").get_parameter().name("/missing").send().await;
    let records = audit_records(&server, 1).await;
    let get = records.iter().find(|r| r["eventName"] == "GetParameter").expect("GetParameter recorded");
    assert_eq!(get["errorCode"], "ParameterNotFound");
    assert_eq!(get["readOnly"], true);
    server.stop().await;
}

#[tokio::test]
async fn parameter_values_never_reach_the_audit_trail() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter().name("/secretish").value("do-not-log-me").r#type(ParameterType::String).send().await.unwrap();
    ssm.get_parameter().name("/secretish").send().await.unwrap();
    let records = audit_records(&server, 2).await;
    assert!(records.len() >= 2);
    for r in &records {
        assert!(!r.to_string().contains("do-not-log-me"), "value leaked into {r}");
    }
    server.stop().await;
}

#[tokio::test]
async fn an_unauthenticated_call_is_recorded_too() {
    let server = TestServer::start().await;
    let _ = server.sts_with("AKIAIDONOTEXIST00000", "x").get_caller_identity().send().await;
    let records = audit_records(&server, 1).await;
    assert!(records.iter().any(|r| r["errorCode"] == "InvalidClientTokenId"));
    server.stop().await;
}
