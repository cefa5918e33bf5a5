//! Versions, labels, selectors and history.

use crate::ssm::support::{overwrite, put};
use crate::support::TestServer;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::ParameterType;

#[tokio::test]
async fn every_write_makes_a_new_version() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    assert_eq!(put(&ssm, "/v", "1").await, 1);
    assert_eq!(overwrite(&ssm, "/v", "2").await, 2);
    assert_eq!(overwrite(&ssm, "/v", "3").await, 3);
    let p = ssm.get_parameter().name("/v").send().await.unwrap().parameter.unwrap();
    assert_eq!((p.value(), p.version(), p.selector()), (Some("3"), 3, None));
    server.stop().await;
}

#[tokio::test]
async fn a_missing_version_names_the_version_and_the_parameter() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/v", "1").await;
    let err = ssm.get_parameter().name("/v:7").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterVersionNotFound"));
    assert_eq!(
        err.message(),
        Some("Systems Manager could not find version 7 of /v. Verify the version and try again.")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_label_selector_reads_the_labelled_version() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/app/db", "one").await;
    overwrite(&ssm, "/app/db", "two").await;
    let labelled =
        ssm.label_parameter_version().name("/app/db").parameter_version(1).labels("Stable").send().await.unwrap();
    assert_eq!(labelled.parameter_version(), 1);
    assert!(labelled.invalid_labels().is_empty());
    let p = ssm.get_parameter().name("/app/db:Stable").send().await.unwrap().parameter.unwrap();
    assert_eq!((p.value(), p.version(), p.selector()), (Some("one"), 1, Some(":Stable")));
    server.stop().await;
}

#[tokio::test]
async fn selectors_work_after_a_full_arn() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/sel/arn", "one").await;
    overwrite(&ssm, "/sel/arn", "two").await;
    ssm.label_parameter_version().name("/sel/arn").parameter_version(2).labels("Live").send().await.unwrap();
    let arn = format!("arn:aws:ssm:us-east-1:{}:parameter/sel/arn", server.account());
    let by_version = ssm.get_parameter().name(format!("{arn}:1")).send().await.unwrap().parameter.unwrap();
    assert_eq!((by_version.value(), by_version.selector()), (Some("one"), Some(":1")));
    let by_label = ssm.get_parameter().name(format!("{arn}:Live")).send().await.unwrap().parameter.unwrap();
    assert_eq!((by_label.value(), by_label.selector()), (Some("two"), Some(":Live")));
    server.stop().await;
}

#[tokio::test]
async fn labelling_without_a_version_labels_the_latest() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/latest", "1").await;
    overwrite(&ssm, "/latest", "2").await;
    let out = ssm.label_parameter_version().name("/latest").labels("Now").send().await.unwrap();
    assert_eq!(out.parameter_version(), 2);
    server.stop().await;
}

#[tokio::test]
async fn attaching_a_label_to_another_version_moves_it() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/move", "1").await;
    overwrite(&ssm, "/move", "2").await;
    ssm.label_parameter_version().name("/move").parameter_version(1).labels("Prod").send().await.unwrap();
    ssm.label_parameter_version().name("/move").parameter_version(2).labels("Prod").send().await.unwrap();
    let history = ssm.get_parameter_history().name("/move").send().await.unwrap();
    let labels: Vec<Vec<String>> = history.parameters().iter().map(|h| h.labels().to_vec()).collect();
    assert_eq!(labels, vec![Vec::<String>::new(), vec!["Prod".to_string()]]);
    server.stop().await;
}

#[tokio::test]
async fn invalid_labels_are_returned_not_raised() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/labels", "1").await;
    let out = ssm
        .label_parameter_version()
        .name("/labels")
        .labels("awsLabel")
        .labels("1st")
        .labels("ok-label")
        .labels("has space")
        .send()
        .await
        .unwrap();
    assert_eq!(out.invalid_labels(), ["awsLabel", "1st", "has space"]);
    let got = ssm.get_parameter().name("/labels:ok-label").send().await.unwrap();
    assert_eq!(got.parameter().unwrap().version(), 1);
    server.stop().await;
}

#[tokio::test]
async fn an_eleventh_label_on_a_version_exceeds_the_limit() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/ten", "1").await;
    let mut request = ssm.label_parameter_version().name("/ten").parameter_version(1);
    for i in 0..10 {
        request = request.labels(format!("L{i}"));
    }
    request.send().await.unwrap();
    let err = ssm.label_parameter_version().name("/ten").parameter_version(1).labels("L10").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterVersionLabelLimitExceeded"));
    server.stop().await;
}

#[tokio::test]
async fn labelling_a_missing_parameter_or_version_fails() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    let err = ssm.label_parameter_version().name("/nothing").labels("x").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterNotFound"));
    put(&ssm, "/something", "1").await;
    let err =
        ssm.label_parameter_version().name("/something").parameter_version(5).labels("x").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterVersionNotFound"));
    server.stop().await;
}

#[tokio::test]
async fn unlabelling_reports_removed_and_invalid_labels() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/unlabel", "1").await;
    overwrite(&ssm, "/unlabel", "2").await;
    ssm.label_parameter_version().name("/unlabel").parameter_version(1).labels("A").labels("B").send().await.unwrap();
    let out = ssm
        .unlabel_parameter_version()
        .name("/unlabel")
        .parameter_version(1)
        .labels("A")
        .labels("Missing")
        .send()
        .await
        .unwrap();
    assert_eq!(out.removed_labels(), ["A"]);
    assert_eq!(out.invalid_labels(), ["Missing"]);
    let err = ssm.get_parameter().name("/unlabel:A").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterVersionNotFound"));
    server.stop().await;
}

#[tokio::test]
async fn only_the_latest_hundred_versions_are_kept() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/many", "1").await;
    for i in 2..=101 {
        overwrite(&ssm, "/many", &i.to_string()).await;
    }
    let err = ssm.get_parameter().name("/many:1").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterVersionNotFound"));
    assert_eq!(ssm.get_parameter().name("/many:2").send().await.unwrap().parameter().unwrap().value(), Some("2"));
    let pages = ssm.get_parameter_history().name("/many").into_paginator().send().collect::<Result<Vec<_>, _>>().await;
    let history: Vec<_> = pages.unwrap().iter().flat_map(|p| p.parameters().to_vec()).collect();
    assert_eq!(history.len(), 100);
    assert_eq!(history.first().unwrap().version(), 2);
    server.stop().await;
}

#[tokio::test]
async fn a_labelled_oldest_version_blocks_the_hundred_and_first() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/pinned", "1").await;
    ssm.label_parameter_version().name("/pinned").parameter_version(1).labels("Keep").send().await.unwrap();
    for i in 2..=100 {
        overwrite(&ssm, "/pinned", &i.to_string()).await;
    }
    let err = ssm.put_parameter().name("/pinned").value("101").overwrite(true).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterMaxVersionLimitExceeded"));
    assert_eq!(
        err.message(),
        Some(
            "You attempted to create a new version of /pinned by calling the PutParameter API with the overwrite flag. \
             Version 1, the oldest version, can't be deleted because it has a label associated with it. Move the label \
             to another version of the parameter, and try again."
        )
    );
    ssm.label_parameter_version().name("/pinned").parameter_version(100).labels("Keep").send().await.unwrap();
    assert_eq!(overwrite(&ssm, "/pinned", "101").await, 101);
    server.stop().await;
}

#[tokio::test]
async fn history_lists_versions_oldest_first_with_who_changed_them() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter().name("/hist").value("a").r#type(ParameterType::String).description("d1").send().await.unwrap();
    overwrite(&ssm, "/hist", "b").await;
    let history = ssm.get_parameter_history().name("/hist").send().await.unwrap();
    let entries = history.parameters();
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[0].value(), entries[0].version()), (Some("a"), 1));
    assert_eq!((entries[1].value(), entries[1].version()), (Some("b"), 2));
    let root = format!("arn:aws:iam::{}:root", server.account());
    assert!(entries.iter().all(|e| e.last_modified_user() == Some(root.as_str())));
    assert_eq!(entries[0].description(), Some("d1"));
    assert_eq!(entries[0].tier(), Some(&aws_sdk_ssm::types::ParameterTier::Standard));
    assert!(history.next_token().is_none());
    server.stop().await;
}

#[tokio::test]
async fn history_pages_with_max_results() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/paged", "1").await;
    for i in 2..=5 {
        overwrite(&ssm, "/paged", &i.to_string()).await;
    }
    let first = ssm.get_parameter_history().name("/paged").max_results(2).send().await.unwrap();
    assert_eq!(first.parameters().iter().map(|p| p.version()).collect::<Vec<_>>(), [1, 2]);
    let second = ssm
        .get_parameter_history()
        .name("/paged")
        .max_results(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.parameters().iter().map(|p| p.version()).collect::<Vec<_>>(), [3, 4]);
    server.stop().await;
}

#[tokio::test]
async fn history_accepts_an_arn_and_reports_a_missing_parameter() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/h/arn", "1").await;
    let arn = format!("arn:aws:ssm:us-east-1:{}:parameter/h/arn", server.account());
    assert_eq!(ssm.get_parameter_history().name(arn).send().await.unwrap().parameters().len(), 1);
    let err = ssm.get_parameter_history().name("/h/none").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterNotFound"));
    let err = ssm.get_parameter_history().name("/h/arn").next_token("garbage").send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidNextToken"));
    server.stop().await;
}

#[tokio::test]
async fn get_parameters_returns_found_ones_alphabetically_and_echoes_the_rest() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/b", "B").await;
    put(&ssm, "/a", "A").await;
    overwrite(&ssm, "/a", "A2").await;
    let out = ssm.get_parameters().names("/b").names("/missing").names("/a:1").names("/a:9").send().await.unwrap();
    let names: Vec<_> = out.parameters().iter().map(|p| (p.name().unwrap(), p.value().unwrap())).collect();
    assert_eq!(names, [("/a", "A"), ("/b", "B")]);
    assert_eq!(out.invalid_parameters(), ["/missing", "/a:9"]);
    server.stop().await;
}

#[tokio::test]
async fn get_parameters_refuses_more_than_ten_names() {
    let server = TestServer::start().await;
    let mut request = server.ssm("us-east-1").get_parameters();
    for i in 0..11 {
        request = request.names(format!("/n{i}"));
    }
    assert_eq!(request.send().await.unwrap_err().code(), Some("ValidationException"));
    server.stop().await;
}

#[tokio::test]
async fn deleting_removes_every_version() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/gone", "1").await;
    overwrite(&ssm, "/gone", "2").await;
    ssm.delete_parameter().name("/gone").send().await.unwrap();
    assert_eq!(ssm.get_parameter().name("/gone:1").send().await.unwrap_err().code(), Some("ParameterNotFound"));
    let leftovers = server.store().scan(&format!("{}/us-east-1/ssm/", server.account()), None, 100).await.unwrap();
    assert!(leftovers.iter().all(|(k, _)| k.contains("/parameter-counts/")), "{leftovers:?}");
    assert_eq!(put(&ssm, "/gone", "fresh").await, 1);
    server.stop().await;
}

#[tokio::test]
async fn deleting_a_missing_parameter_is_not_found() {
    let server = TestServer::start().await;
    let err = server.ssm("us-east-1").delete_parameter().name("/never").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterNotFound"));
    server.stop().await;
}

#[tokio::test]
async fn delete_parameters_reports_deleted_and_invalid_names() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/d1", "1").await;
    put(&ssm, "d2", "2").await;
    let out = ssm.delete_parameters().names("/d1").names("/d2").names("/d3").send().await.unwrap();
    assert_eq!(out.deleted_parameters(), ["/d1", "/d2"]);
    assert_eq!(out.invalid_parameters(), ["/d3"]);
    server.stop().await;
}
