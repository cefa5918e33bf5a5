//! AWS's public parameters: readable everywhere by everyone, writable by no one.

use crate::support::TestServer;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::ParameterType;

const AL2023: &str = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

#[tokio::test]
async fn the_latest_amazon_linux_ami_is_readable_with_an_account_less_arn() {
    let server = TestServer::start().await;
    let p = server.ssm("us-east-2").get_parameter().name(AL2023).send().await.unwrap().parameter.unwrap();
    assert_eq!(p.name(), Some(AL2023));
    assert_eq!(p.r#type(), Some(&ParameterType::String));
    assert!(p.value().unwrap().starts_with("ami-"));
    assert_eq!(
        p.arn(),
        Some("arn:aws:ssm:us-east-2::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")
    );
    server.stop().await;
}

#[tokio::test]
async fn public_ami_ids_differ_per_region_and_stay_the_same() {
    let server = TestServer::start().await;
    let read = |region: &'static str| {
        let ssm = server.ssm(region);
        async move { ssm.get_parameter().name(AL2023).send().await.unwrap().parameter.unwrap().value.unwrap() }
    };
    let east = read("us-east-1").await;
    assert_eq!(east, read("us-east-1").await);
    assert_ne!(east, read("eu-west-1").await);
    server.stop().await;
}

#[tokio::test]
async fn public_parameters_are_listed_by_path() {
    let server = TestServer::start().await;
    let out = server
        .ssm("us-east-1")
        .get_parameters_by_path()
        .path("/aws/service/ami-amazon-linux-latest")
        .send()
        .await
        .unwrap();
    assert_eq!(out.parameters().len(), 10);
    assert!(out.parameters().iter().all(|p| p.arn().unwrap().starts_with("arn:aws:ssm:us-east-1::parameter/aws/")));
    let pages = server
        .ssm("us-east-1")
        .get_parameters_by_path()
        .path("/aws/service/global-infrastructure/regions")
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert!(pages.len() > 1, "regions come in pages of ten");
    assert!(pages.iter().flat_map(|p| p.parameters()).any(|p| p.value() == Some("ap-southeast-2")));
    let regions = server
        .ssm("us-east-1")
        .get_parameters_by_path()
        .path("/aws/service/global-infrastructure/regions/eu-west-1")
        .send()
        .await
        .unwrap();
    let long_name = regions.parameters().iter().find(|p| p.name().unwrap().ends_with("/longName")).unwrap();
    assert_eq!(long_name.value(), Some("Europe (Ireland)"));
    server.stop().await;
}

#[tokio::test]
async fn public_parameters_come_back_from_get_parameters_with_own_ones() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter().name("/mine").value("v").r#type(ParameterType::String).send().await.unwrap();
    let out = ssm.get_parameters().names(AL2023).names("/mine").send().await.unwrap();
    assert_eq!(out.parameters().len(), 2);
    assert!(out.invalid_parameters().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn public_parameters_cannot_be_written_or_deleted() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    let err = ssm
        .put_parameter()
        .name(AL2023)
        .value("ami-12345678")
        .r#type(ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    let err = ssm.delete_parameter().name(AL2023).send().await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    let err = ssm.label_parameter_version().name(AL2023).labels("Mine").send().await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    server.stop().await;
}

#[tokio::test]
async fn public_parameters_are_not_in_the_accounts_own_listing() {
    let server = TestServer::start().await;
    let out = server.ssm("us-east-1").describe_parameters().send().await.unwrap();
    assert!(out.parameters().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_public_parameter_with_its_version_selector_reads_and_another_version_does_not() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    let p = ssm.get_parameter().name(AL2023).send().await.unwrap().parameter.unwrap();
    let same = ssm.get_parameter().name(format!("{AL2023}:{}", p.version())).send().await.unwrap().parameter.unwrap();
    assert_eq!(same.value(), p.value());
    let err = ssm.get_parameter().name(format!("{AL2023}:{}", p.version() + 1)).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterVersionNotFound"));
    server.stop().await;
}
