//! Parameter names: characters, hierarchy, reserved prefixes, ARNs.

use crate::ssm::support::put;
use crate::support::TestServer;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::ParameterType;

#[tokio::test]
async fn a_name_with_an_interior_space_is_rejected_with_aws_wording() {
    let server = TestServer::start().await;
    let err = server
        .ssm("us-east-1")
        .put_parameter()
        .name("Dev DB")
        .value("x")
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert!(err.message().unwrap().starts_with("Parameter name: can't be prefixed with \"ssm\" (case-insensitive)."));
    server.stop().await;
}

#[tokio::test]
async fn names_starting_with_aws_are_reserved_and_denied() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    for name in ["/aws/mine", "awsTool", "/AWS/x"] {
        let err = ssm.put_parameter().name(name).value("x").r#type(ParameterType::String).send().await.unwrap_err();
        assert_eq!(err.code(), Some("AccessDeniedException"), "{name}");
        assert!(err.message().unwrap().starts_with("No access to reserved parameter name: "), "{name}");
    }
    server.stop().await;
}

#[tokio::test]
async fn names_starting_with_ssm_are_validation_errors() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    let err = ssm.put_parameter().name("ssmThing").value("x").r#type(ParameterType::String).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(err.message(), Some("Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive)."));
    let err = ssm.put_parameter().name("/SSM/x").value("x").r#type(ParameterType::String).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    server.stop().await;
}

#[tokio::test]
async fn a_hierarchical_name_without_a_leading_slash_is_not_fully_qualified() {
    let server = TestServer::start().await;
    let err = server
        .ssm("us-east-1")
        .put_parameter()
        .name("a/b")
        .value("x")
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.message(), Some("Parameter name must be a fully qualified name."));
    server.stop().await;
}

#[tokio::test]
async fn a_sixteenth_level_exceeds_the_hierarchy_limit() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    let fifteen: String = (1..=15).map(|i| format!("/l{i}")).collect();
    put(&ssm, &fifteen, "ok").await;
    let err = ssm
        .put_parameter()
        .name(format!("{fifteen}/l16"))
        .value("x")
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("HierarchyLevelLimitExceededException"));
    server.stop().await;
}

#[tokio::test]
async fn the_name_length_limit_counts_the_arn_prefix() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-2");
    let prefix = format!("arn:aws:ssm:us-east-2:{}:parameter/", server.account());
    let longest = "n".repeat(1011 - prefix.len());
    put(&ssm, &longest, "fits").await;
    let err = ssm
        .put_parameter()
        .name(format!("{longest}n"))
        .value("x")
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    server.stop().await;
}

#[tokio::test]
async fn a_name_can_also_be_the_path_of_other_parameters() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/Test/Param", "parent").await;
    put(&ssm, "/Test/Param/Child", "child").await;
    let got = ssm.get_parameter().name("/Test/Param").send().await.unwrap();
    assert_eq!(got.parameter().unwrap().value(), Some("parent"));
    server.stop().await;
}

#[tokio::test]
async fn names_are_case_sensitive() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/Case/name", "lower").await;
    put(&ssm, "/Case/NAME", "upper").await;
    assert_eq!(
        ssm.get_parameter().name("/Case/name").send().await.unwrap().parameter().unwrap().value(),
        Some("lower")
    );
    server.stop().await;
}

#[tokio::test]
async fn get_parameter_accepts_the_full_arn() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/by/arn", "v").await;
    put(&ssm, "single", "s").await;
    let arn = format!("arn:aws:ssm:us-east-1:{}:parameter/by/arn", server.account());
    let p = ssm.get_parameter().name(&arn).send().await.unwrap().parameter.unwrap();
    assert_eq!((p.name(), p.arn()), (Some("/by/arn"), Some(arn.as_str())));
    let single = format!("arn:aws:ssm:us-east-1:{}:parameter/single", server.account());
    assert_eq!(ssm.get_parameter().name(single).send().await.unwrap().parameter().unwrap().value(), Some("s"));
    server.stop().await;
}

#[tokio::test]
async fn a_single_level_name_reads_back_as_it_was_asked_for_with_or_without_a_slash() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "param-x", "v").await;
    let name_of = |p: Option<&aws_sdk_ssm::types::Parameter>| p.and_then(|p| p.name()).map(str::to_string);
    let slashed = ssm.get_parameter().name("/param-x").send().await.unwrap();
    assert_eq!(name_of(slashed.parameter()).as_deref(), Some("/param-x"));
    let plain = ssm.get_parameter().name("param-x").send().await.unwrap();
    assert_eq!(name_of(plain.parameter()).as_deref(), Some("param-x"));
    let selected = ssm.get_parameter().name("/param-x:1").send().await.unwrap();
    assert_eq!(name_of(selected.parameter()).as_deref(), Some("/param-x"));
    let both = ssm.get_parameters().names("/param-x").names("param-x").send().await.unwrap();
    let names: Vec<&str> = both.parameters().iter().filter_map(|p| p.name()).collect();
    assert_eq!(names, ["/param-x", "param-x"]);
    assert!(both.invalid_parameters().is_empty());
    // Created with a slash, read without one.
    put(&ssm, "/param-y", "v").await;
    let got = ssm.get_parameters().names("param-y").send().await.unwrap();
    assert_eq!(got.parameters().iter().filter_map(|p| p.name()).collect::<Vec<_>>(), ["param-y"]);
    server.stop().await;
}

#[tokio::test]
async fn put_parameter_refuses_an_arn_for_a_name() {
    let server = TestServer::start().await;
    let arn = format!("arn:aws:ssm:us-east-1:{}:parameter/x", server.account());
    let err = server
        .ssm("us-east-1")
        .put_parameter()
        .name(arn)
        .value("v")
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    server.stop().await;
}

#[tokio::test]
async fn another_accounts_parameter_arn_is_denied() {
    let server = TestServer::start().await;
    let err = server
        .ssm("us-east-1")
        .get_parameter()
        .name("arn:aws:ssm:us-east-1:111122223333:parameter/theirs")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    server.stop().await;
}

#[tokio::test]
async fn a_missing_reserved_name_is_simply_not_found_on_read() {
    let server = TestServer::start().await;
    let err = server.ssm("us-east-1").get_parameter().name("/aws/service/not-a-thing").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterNotFound"));
    server.stop().await;
}
