use crate::support::TestServer;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::ParameterType;

#[tokio::test]
async fn a_put_string_parameter_reads_back_with_its_version_and_arn() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    let put = ssm
        .put_parameter()
        .name("/golden/linux/latest")
        .value("ami-0123456789abcdef0")
        .r#type(ParameterType::String)
        .send()
        .await
        .expect("PutParameter");
    assert_eq!(put.version(), 1);
    let got = ssm.get_parameter().name("/golden/linux/latest").send().await.expect("GetParameter");
    let p = got.parameter().expect("parameter");
    assert_eq!(p.value(), Some("ami-0123456789abcdef0"));
    assert_eq!(p.version(), 1);
    assert_eq!(p.data_type(), Some("text"));
    assert_eq!(
        p.arn(),
        Some(format!("arn:aws:ssm:us-east-1:{}:parameter/golden/linux/latest", server.account()).as_str())
    );
    assert!(p.last_modified_date().is_some());
    server.stop().await;
}

#[tokio::test]
async fn putting_an_existing_name_without_overwrite_fails_and_keeps_the_value() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter().name("p").value("one").r#type(ParameterType::String).send().await.unwrap();
    let err = ssm.put_parameter().name("p").value("two").r#type(ParameterType::String).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterAlreadyExists"));
    let got = ssm.get_parameter().name("p").send().await.unwrap();
    assert_eq!(got.parameter().unwrap().value(), Some("one"));
    server.stop().await;
}

#[tokio::test]
async fn a_leading_slash_names_the_same_single_level_parameter() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter().name("single").value("v").r#type(ParameterType::String).send().await.unwrap();
    let got = ssm.get_parameter().name("/single").send().await.expect("same parameter");
    assert_eq!(got.parameter().unwrap().value(), Some("v"));
    // Named as it was asked for (see names.rs).
    assert_eq!(got.parameter().unwrap().name(), Some("/single"));
    server.stop().await;
}

#[tokio::test]
async fn a_missing_parameter_is_not_found_with_an_empty_message() {
    let server = TestServer::start().await;
    let err = server.ssm("us-east-1").get_parameter().name("/nope").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterNotFound"));
    assert_eq!(err.message().unwrap_or_default(), "");
    server.stop().await;
}

#[tokio::test]
async fn a_version_selector_reads_an_older_version() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter().name("/v").value("one").r#type(ParameterType::String).send().await.unwrap();
    let second = ssm.put_parameter().name("/v").value("two").overwrite(true).send().await.unwrap();
    assert_eq!(second.version(), 2);
    let got = ssm.get_parameter().name("/v:1").send().await.unwrap();
    let p = got.parameter().unwrap();
    assert_eq!((p.value(), p.version(), p.selector()), (Some("one"), 1, Some(":1")));
    let err = ssm.get_parameter().name("/v:9").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterVersionNotFound"));
    server.stop().await;
}
