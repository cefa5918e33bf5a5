//! Tags of parameters.

use crate::ssm::support::put;
use crate::support::TestServer;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{ParameterType, ResourceTypeForTagging, Tag};

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().unwrap()
}

async fn tags_of(ssm: &aws_sdk_ssm::Client, name: &str) -> Vec<(String, String)> {
    let out = ssm
        .list_tags_for_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id(name)
        .send()
        .await
        .unwrap();
    out.tag_list().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

#[tokio::test]
async fn tags_given_at_creation_are_listed() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter()
        .name("/t")
        .value("v")
        .r#type(ParameterType::String)
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(&ssm, "/t").await, [("env".to_string(), "prod".to_string())]);
    server.stop().await;
}

#[tokio::test]
async fn tags_are_added_replaced_and_removed() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/t", "v").await;
    ssm.add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id("/t")
        .tags(tag("a", "1"))
        .tags(tag("b", "2"))
        .send()
        .await
        .unwrap();
    ssm.add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id("/t")
        .tags(tag("a", "9"))
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(&ssm, "/t").await, [("a".to_string(), "9".to_string()), ("b".to_string(), "2".to_string())]);
    ssm.remove_tags_from_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id("/t")
        .tag_keys("a")
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(&ssm, "/t").await, [("b".to_string(), "2".to_string())]);
    server.stop().await;
}

#[tokio::test]
async fn tags_stay_when_the_value_changes() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter()
        .name("/t")
        .value("v")
        .r#type(ParameterType::String)
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
    ssm.put_parameter().name("/t").value("v2").overwrite(true).send().await.unwrap();
    assert_eq!(tags_of(&ssm, "/t").await.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn other_resource_types_are_invalid() {
    let server = TestServer::start().await;
    let err = server
        .ssm("us-east-1")
        .list_tags_for_resource()
        .resource_type(ResourceTypeForTagging::Document)
        .resource_id("AWS-RunShellScript")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidResourceType"));
    server.stop().await;
}

#[tokio::test]
async fn a_missing_parameter_is_an_invalid_resource_id() {
    let server = TestServer::start().await;
    let err = server
        .ssm("us-east-1")
        .add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id("/nope")
        .tags(tag("a", "1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidResourceId"));
    server.stop().await;
}

#[tokio::test]
async fn a_fifty_first_tag_is_too_many() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/t", "v").await;
    let mut request = ssm.add_tags_to_resource().resource_type(ResourceTypeForTagging::Parameter).resource_id("/t");
    for i in 0..50 {
        request = request.tags(tag(&format!("k{i}"), "v"));
    }
    request.send().await.unwrap();
    let err = ssm
        .add_tags_to_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id("/t")
        .tags(tag("one-more", "v"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("TooManyTagsError"));
    server.stop().await;
}
