//! Every call is recorded CloudTrail-style, successful or not, without secrets.

use crate::support::TestServer;
use aws_sdk_ssm::types::ParameterType;

#[tokio::test]
async fn a_successful_write_is_recorded_with_who_what_and_where() {
    let server = TestServer::start().await;
    let ssm = server.ssm("eu-west-1");
    ssm.put_parameter().name("/audited").value("v1").r#type(ParameterType::String).send().await.unwrap();
    let records = server.audit_records(1).await;
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
    let records = server.audit_records(1).await;
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
    let records = server.audit_records(2).await;
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
    let records = server.audit_records(1).await;
    assert!(records.iter().any(|r| r["errorCode"] == "InvalidClientTokenId"));
    server.stop().await;
}

#[tokio::test]
async fn a_call_made_inside_ingot_is_recorded_as_its_principal_with_its_origin() {
    let server = TestServer::start_in_process().await;
    let env = server.env();
    let account = ingot_core::AccountId::parse(&server.account()).unwrap();
    let principal = ingot_core::Principal::service("ssm", account.clone());
    let scope = ingot_core::Scope::new(account, ingot_core::Region::parse("eu-west-1").unwrap());
    let origin = ingot_core::Origin {
        request_id: "internal-1",
        source_ip: "ssm.amazonaws.com",
        user_agent: "ssm.amazonaws.com",
        access_key_id: None,
        via_service: None,
    };
    let call =
        ingot_core::Call { service: "ssm", operation: "PutParameter", scope: &scope, principal: &principal, origin };
    let input = serde_json::json!({ "Name": "/internal", "Value": "v", "Type": "String" });
    let output = env.invoker.invoke(&env, call, input).await.expect("internal PutParameter");
    assert_eq!(output["Version"], 1);
    let records = server.audit_records(1).await;
    let put = records.iter().find(|r| r["requestID"] == "internal-1").expect("the internal call is recorded");
    assert_eq!(put["eventName"], "PutParameter");
    assert_eq!(put["userIdentity"]["type"], "AWSService");
    assert_eq!(put["userIdentity"]["invokedBy"], "ssm.amazonaws.com");
    assert_eq!(put["sourceIPAddress"], "ssm.amazonaws.com");
    assert_eq!(put["awsRegion"], "eu-west-1");
    let ssm = server.ssm("eu-west-1");
    let read = ssm.get_parameter().name("/internal").send().await.expect("the internal write committed");
    assert_eq!(read.parameter().and_then(|p| p.value()), Some("v"));
    server.stop().await;
}

#[tokio::test]
async fn an_internal_call_with_input_the_model_refuses_changes_nothing() {
    let server = TestServer::start_in_process().await;
    let env = server.env();
    let account = ingot_core::AccountId::parse(&server.account()).unwrap();
    let principal = ingot_core::Principal::root(account.clone());
    let scope = ingot_core::Scope::new(account, ingot_core::Region::parse("us-east-1").unwrap());
    let origin = ingot_core::Origin {
        request_id: "internal-2",
        source_ip: "x",
        user_agent: "x",
        access_key_id: None,
        via_service: None,
    };
    let call =
        ingot_core::Call { service: "ssm", operation: "PutParameter", scope: &scope, principal: &principal, origin };
    let input = serde_json::json!({ "Name": "/internal", "Value": "v", "Type": "Nope" });
    let failure = env.invoker.invoke(&env, call, input).await.unwrap_err();
    assert!(failure.message().unwrap_or("").contains("Member must satisfy enum value set"), "{failure:?}");
    let missing = server.ssm("us-east-1").get_parameter().name("/internal").send().await;
    assert!(missing.is_err());
    server.stop().await;
}
