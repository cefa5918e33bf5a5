//! `Parameter Store Change` events, written with the change they describe.

use crate::ssm::support::{details, events, eventually, overwrite, public_image, put};
use crate::support::TestServer;
use aws_sdk_ssm::types::ParameterType;

#[tokio::test]
async fn create_update_label_and_delete_each_write_a_change_event() {
    let server = TestServer::start().await;
    let ssm = server.ssm("eu-west-1");
    ssm.put_parameter()
        .name("/ev")
        .value("1")
        .r#type(ParameterType::String)
        .description("watched")
        .send()
        .await
        .unwrap();
    overwrite(&ssm, "/ev", "2").await;
    ssm.label_parameter_version().name("/ev").labels("Live").send().await.unwrap();
    ssm.delete_parameter().name("/ev").send().await.unwrap();
    let operations: Vec<String> = details(&server, "Parameter Store Change", "/ev")
        .await
        .iter()
        .map(|d| d["operation"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(operations, ["Create", "Update", "LabelParameterVersion", "Delete"]);
    server.stop().await;
}

#[tokio::test]
async fn a_change_event_has_aws_envelope_and_detail() {
    let server = TestServer::start().await;
    let ssm = server.ssm("eu-west-1");
    ssm.put_parameter()
        .name("golden-ami")
        .value(public_image("eu-west-1"))
        .r#type(ParameterType::String)
        .data_type("aws:ec2:image")
        .description("the image")
        .send()
        .await
        .unwrap();
    // An aws:ec2:image value is announced once its image has been checked, after the answer.
    let announced = || async { !details(&server, "Parameter Store Change", "golden-ami").await.is_empty() };
    assert!(eventually(announced).await, "no event once the image was checked");
    let all = events(&server).await;
    let event = all.iter().find(|e| e["detail"]["name"] == "golden-ami").expect("event");
    assert_eq!(event["source"], "aws.ssm");
    assert_eq!(event["detail-type"], "Parameter Store Change");
    assert_eq!(event["account"], server.account());
    assert_eq!(event["region"], "eu-west-1");
    assert_eq!(event["version"], "0");
    assert_eq!(event["resources"][0], format!("arn:aws:ssm:eu-west-1:{}:parameter/golden-ami", server.account()));
    assert_eq!(event["detail"]["type"], "String");
    assert_eq!(event["detail"]["description"], "the image");
    assert_eq!(event["detail"]["dataType"], "aws:ec2:image");
    assert_eq!(event["detail"]["operation"], "Create");
    assert!(event["time"].as_str().unwrap().ends_with('Z'));
    server.stop().await;
}

#[tokio::test]
async fn a_failed_write_writes_no_event() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/once", "1").await;
    let _ = ssm.put_parameter().name("/once").value("2").r#type(ParameterType::String).send().await.unwrap_err();
    assert_eq!(details(&server, "Parameter Store Change", "/once").await.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn secure_string_values_are_not_in_events() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter().name("/s").value("hush-hush").r#type(ParameterType::SecureString).send().await.unwrap();
    let all = events(&server).await;
    assert!(!all.is_empty());
    assert!(all.iter().all(|e| !e.to_string().contains("hush-hush")));
    server.stop().await;
}

#[tokio::test]
async fn an_image_value_no_image_answers_to_is_announced_as_failed_and_not_kept() {
    let server = TestServer::start().await;
    let ssm = server.ssm("eu-west-1");
    let put = ssm
        .put_parameter()
        .name("/golden/missing")
        .value("ami-0123456789abcdef0")
        .r#type(ParameterType::String)
        .data_type("aws:ec2:image")
        .send()
        .await
        .unwrap();
    assert_eq!(put.version(), 1);
    let failed = || async { !details(&server, "Parameter Store Change", "/golden/missing").await.is_empty() };
    assert!(eventually(failed).await, "no event once the image was checked");
    let detail = details(&server, "Parameter Store Change", "/golden/missing").await.remove(0);
    assert_eq!(detail["exception"], "Unable to Describe Resource");
    assert_eq!((detail["operation"].as_str(), detail["dataType"].as_str()), (Some("Create"), Some("aws:ec2:image")));
    let err = ssm.get_parameter().name("/golden/missing").send().await.unwrap_err();
    assert!(err.into_service_error().is_parameter_not_found());
    server.stop().await;
}
