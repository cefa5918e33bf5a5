//! Parameter policies and their timers, driven by clock control.
//!
//! SigV4 signatures are checked against the server's (moved) clock, so a test moves it at most a
//! few minutes before it calls the API again; later effects are read from the store.

use crate::ssm::support::{advance_clock, details, events, eventually};
use crate::support::TestServer;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{ParameterStringFilter, ParameterTier, ParameterType};
use ingot_core::Timestamp;

fn in_minutes(minutes: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    Timestamp(now + minutes * 60_000).to_iso8601()
}

fn expiration(minutes: i64) -> String {
    format!(r#"{{"Type":"Expiration","Version":"1.0","Attributes":{{"Timestamp":"{}"}}}}"#, in_minutes(minutes))
}

const NOTIFY_HOUR_BEFORE: &str =
    r#"{"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"1","Unit":"Hours"}}"#;
const NO_CHANGE_HOUR: &str =
    r#"{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"1","Unit":"Hours"}}"#;

async fn clock_server() -> TestServer {
    TestServer::start_with(|c| c.enable_clock_control = true).await
}

async fn put_with_policies(server: &TestServer, name: &str, policies: &str) {
    server
        .ssm("us-east-1")
        .put_parameter()
        .name(name)
        .value("v")
        .r#type(ParameterType::String)
        .tier(ParameterTier::Advanced)
        .policies(policies)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutParameter with policies: {e:?}"));
}

async fn policy_statuses(server: &TestServer, name: &str) -> Vec<(String, String)> {
    let out = server
        .ssm("us-east-1")
        .describe_parameters()
        .parameter_filters(ParameterStringFilter::builder().key("Name").values(name).build().unwrap())
        .send()
        .await
        .unwrap();
    out.parameters()[0]
        .policies()
        .iter()
        .map(|p| (p.policy_type().unwrap().to_string(), p.policy_status().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn policies_need_the_advanced_tier() {
    let server = TestServer::start().await;
    let err = server
        .ssm("us-east-1")
        .put_parameter()
        .name("/standard/policy")
        .value("v")
        .r#type(ParameterType::String)
        .policies(format!("[{}]", expiration(10)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    server.stop().await;
}

#[tokio::test]
async fn intelligent_tiering_puts_a_parameter_with_policies_in_the_advanced_tier() {
    let server = TestServer::start().await;
    let put = server
        .ssm("us-east-1")
        .put_parameter()
        .name("/it/policy")
        .value("v")
        .r#type(ParameterType::String)
        .tier(ParameterTier::IntelligentTiering)
        .policies(format!("[{}]", expiration(10)))
        .send()
        .await
        .unwrap();
    assert_eq!(put.tier(), Some(&ParameterTier::Advanced));
    server.stop().await;
}

#[tokio::test]
async fn policies_are_listed_with_their_text_type_and_status() {
    let server = TestServer::start().await;
    let text = expiration(60);
    put_with_policies(&server, "/listed", &format!("[{text},{NO_CHANGE_HOUR}]")).await;
    let out = server
        .ssm("us-east-1")
        .describe_parameters()
        .parameter_filters(ParameterStringFilter::builder().key("Name").values("/listed").build().unwrap())
        .send()
        .await
        .unwrap();
    let policies = out.parameters()[0].policies();
    assert_eq!(policies.len(), 2);
    assert_eq!(policies[0].policy_text(), Some(text.as_str()));
    assert_eq!((policies[0].policy_type(), policies[0].policy_status()), (Some("Expiration"), Some("Pending")));
    assert_eq!(policies[1].policy_type(), Some("NoChangeNotification"));
    let history = server.ssm("us-east-1").get_parameter_history().name("/listed").send().await.unwrap();
    assert_eq!(history.parameters()[0].policies().len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn invalid_policies_are_refused_with_their_own_errors() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    let attempt = |policies: String| {
        ssm.put_parameter()
            .name("/bad/policies")
            .value("v")
            .r#type(ParameterType::String)
            .tier(ParameterTier::Advanced)
            .policies(policies)
            .send()
    };
    let unknown = r#"[{"Type":"Rotate","Version":"1.0","Attributes":{}}]"#.to_string();
    assert_eq!(attempt(unknown).await.unwrap_err().code(), Some("InvalidPolicyTypeException"));
    let bad_unit = r#"[{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"1","Unit":"Weeks"}}]"#;
    assert_eq!(attempt(bad_unit.to_string()).await.unwrap_err().code(), Some("InvalidPolicyAttributeException"));
    let two = format!("[{},{}]", expiration(10), expiration(20));
    assert_eq!(attempt(two).await.unwrap_err().code(), Some("IncompatiblePolicyException"));
    let eleven = format!("[{}]", [NO_CHANGE_HOUR; 11].join(","));
    assert_eq!(attempt(eleven).await.unwrap_err().code(), Some("PoliciesLimitExceededException"));
    server.stop().await;
}

#[tokio::test]
async fn an_expired_parameter_is_deleted_with_events() {
    let server = clock_server().await;
    put_with_policies(&server, "/expiring", &format!("[{}]", expiration(5))).await;
    advance_clock(&server, 6 * 60).await;
    let ssm = server.ssm("us-east-1");
    let gone = eventually(|| async { ssm.get_parameter().name("/expiring").send().await.is_err() }).await;
    assert!(gone, "the parameter expired");
    let err = ssm.get_parameter().name("/expiring").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterNotFound"));
    let actions = details(&server, "Parameter Store Policy Action", "/expiring").await;
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0]["policy-type"], "Expiration");
    let changes = details(&server, "Parameter Store Change", "/expiring").await;
    assert_eq!(changes.last().unwrap()["operation"], "Delete");
    // The deletion is Systems Manager's own action, audited as such.
    let records = server.audit_records(1).await;
    let deleted = records
        .iter()
        .find(|r| r["eventName"] == "DeleteParameter" && r["requestParameters"]["name"] == "/expiring")
        .expect("the expiration's deletion is audited");
    assert_eq!(deleted["userIdentity"]["type"], "AWSService");
    assert_eq!(deleted["sourceIPAddress"], "ssm.amazonaws.com");
    assert_eq!(deleted["readOnly"], false);
    server.stop().await;
}

#[tokio::test]
async fn an_unexpired_parameter_survives() {
    let server = clock_server().await;
    put_with_policies(&server, "/not-yet", &format!("[{}]", expiration(10))).await;
    advance_clock(&server, 60).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(server.ssm("us-east-1").get_parameter().name("/not-yet").send().await.is_ok());
    server.stop().await;
}

#[tokio::test]
async fn an_expiration_notification_fires_before_the_expiry() {
    let server = clock_server().await;
    put_with_policies(&server, "/soon", &format!("[{},{NOTIFY_HOUR_BEFORE}]", expiration(30))).await;
    advance_clock(&server, 0).await;
    let fired = eventually(|| async {
        details(&server, "Parameter Store Policy Action", "/soon")
            .await
            .iter()
            .any(|d| d["policy-type"] == "ExpirationNotification")
    })
    .await;
    assert!(fired, "notification sent an hour before the expiry, which is now");
    assert!(server.ssm("us-east-1").get_parameter().name("/soon").send().await.is_ok(), "not expired yet");
    let statuses = policy_statuses(&server, "/soon").await;
    assert_eq!(
        statuses,
        [
            ("Expiration".to_string(), "Pending".to_string()),
            ("ExpirationNotification".to_string(), "Finished".to_string())
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn replacing_the_policies_with_an_empty_one_cancels_the_expiry() {
    let server = clock_server().await;
    put_with_policies(&server, "/reprieve", &format!("[{}]", expiration(5))).await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter().name("/reprieve").value("v2").overwrite(true).policies("[{}]").send().await.unwrap();
    advance_clock(&server, 6 * 60).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let p = ssm.get_parameter().name("/reprieve").send().await.unwrap().parameter.unwrap();
    assert_eq!(p.value(), Some("v2"));
    assert!(policy_statuses(&server, "/reprieve").await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn updating_the_value_keeps_the_expiry() {
    let server = clock_server().await;
    put_with_policies(&server, "/keeps", &format!("[{}]", expiration(5))).await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter().name("/keeps").value("v2").overwrite(true).send().await.unwrap();
    advance_clock(&server, 6 * 60).await;
    let gone = eventually(|| async { ssm.get_parameter().name("/keeps").send().await.is_err() }).await;
    assert!(gone, "the expiry still applies after the update");
    server.stop().await;
}

async fn no_change_events(server: &TestServer) -> usize {
    let actions = details(server, "Parameter Store Policy Action", "/stale").await;
    actions.iter().filter(|d| d["policy-type"] == "NoChangeNotification").count()
}

#[tokio::test]
async fn a_no_change_notification_fires_after_the_period_and_each_change_restarts_it() {
    let server = clock_server().await;
    put_with_policies(&server, "/stale", &format!("[{NO_CHANGE_HOUR}]")).await;
    advance_clock(&server, 10 * 60).await;
    // A change ten minutes in restarts the hour.
    server.ssm("us-east-1").put_parameter().name("/stale").value("v2").overwrite(true).send().await.unwrap();
    advance_clock(&server, 55 * 60).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(no_change_events(&server).await, 0, "an hour since creation but not since the change");
    advance_clock(&server, 10 * 60).await;
    assert!(eventually(|| async { no_change_events(&server).await == 1 }).await, "an hour since the change");
    assert!(events(&server).await.iter().all(|e| e["source"] == "aws.ssm"));
    server.stop().await;
}

#[tokio::test]
async fn policy_timers_survive_a_restart() {
    let mut server = clock_server().await;
    put_with_policies(&server, "/durable", &format!("[{}]", expiration(5))).await;
    server.restart().await;
    advance_clock(&server, 6 * 60).await;
    let ssm = server.ssm("us-east-1");
    let gone = eventually(|| async { ssm.get_parameter().name("/durable").send().await.is_err() }).await;
    assert!(gone, "the timer was kept in the store");
    server.stop().await;
}
