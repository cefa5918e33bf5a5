//! GetParametersByPath and DescribeParameters: filters and pagination.

use crate::ssm::support::{overwrite, put};
use crate::support::TestServer;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{ParameterStringFilter, ParameterTier, ParameterType, ParametersFilter, ParametersFilterKey};
use aws_sdk_ssm::Client;

fn filter(key: &str, option: Option<&str>, values: &[&str]) -> ParameterStringFilter {
    let mut b = ParameterStringFilter::builder().key(key).set_option(option.map(str::to_string));
    for v in values {
        b = b.values(*v);
    }
    b.build().unwrap()
}

async fn by_path_names(ssm: &Client, path: &str, recursive: bool) -> Vec<String> {
    let pages = ssm
        .get_parameters_by_path()
        .path(path)
        .recursive(recursive)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    pages.iter().flat_map(|p| p.parameters().iter().map(|p| p.name().unwrap().to_string())).collect()
}

async fn describe_names(ssm: &Client, filters: Vec<ParameterStringFilter>) -> Vec<String> {
    let pages = ssm
        .describe_parameters()
        .set_parameter_filters(Some(filters))
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    pages.iter().flat_map(|p| p.parameters().iter().map(|p| p.name().unwrap().to_string())).collect()
}

async fn tree(ssm: &Client) {
    for name in ["/app/a", "/app/b", "/app/sub/c", "/app/sub/deep/d", "/apple", "/other/x", "top"] {
        put(ssm, name, "v").await;
    }
}

#[tokio::test]
async fn by_path_without_recursion_returns_direct_children_only() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    tree(&ssm).await;
    assert_eq!(by_path_names(&ssm, "/app", false).await, ["/app/a", "/app/b"]);
    assert_eq!(by_path_names(&ssm, "/app/", false).await, ["/app/a", "/app/b"]);
    server.stop().await;
}

#[tokio::test]
async fn by_path_recursively_returns_the_whole_subtree() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    tree(&ssm).await;
    assert_eq!(by_path_names(&ssm, "/app", true).await, ["/app/a", "/app/b", "/app/sub/c", "/app/sub/deep/d"]);
    server.stop().await;
}

#[tokio::test]
async fn by_path_at_the_root_lists_top_level_parameters() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    tree(&ssm).await;
    assert_eq!(by_path_names(&ssm, "/", false).await, ["/apple", "top"]);
    assert_eq!(by_path_names(&ssm, "/", true).await.len(), 7);
    server.stop().await;
}

#[tokio::test]
async fn by_path_pages_hold_at_most_max_results() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    for i in 0..25 {
        put(&ssm, &format!("/paged/p{i:02}"), "v").await;
    }
    let first = ssm.get_parameters_by_path().path("/paged").max_results(10).send().await.unwrap();
    assert_eq!(first.parameters().len(), 10);
    assert!(first.next_token().is_some());
    let all = by_path_names(&ssm, "/paged", false).await;
    let expected: Vec<String> = (0..25).map(|i| format!("/paged/p{i:02}")).collect();
    assert_eq!(all, expected);
    server.stop().await;
}

#[tokio::test]
async fn by_path_refuses_more_than_ten_results_per_page() {
    let server = TestServer::start().await;
    let err = server.ssm("us-east-1").get_parameters_by_path().path("/x").max_results(11).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    server.stop().await;
}

#[tokio::test]
async fn by_path_filters_by_type_and_label() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/f/plain", "v").await;
    ssm.put_parameter().name("/f/list").value("a,b").r#type(ParameterType::StringList).send().await.unwrap();
    put(&ssm, "/f/labelled", "old").await;
    overwrite(&ssm, "/f/labelled", "new").await;
    ssm.label_parameter_version().name("/f/labelled").parameter_version(1).labels("Blue").send().await.unwrap();
    let lists = ssm
        .get_parameters_by_path()
        .path("/f")
        .parameter_filters(filter("Type", None, &["StringList"]))
        .send()
        .await
        .unwrap();
    assert_eq!(lists.parameters().iter().map(|p| p.name().unwrap()).collect::<Vec<_>>(), ["/f/list"]);
    let blue = ssm
        .get_parameters_by_path()
        .path("/f")
        .parameter_filters(filter("Label", None, &["Blue"]))
        .send()
        .await
        .unwrap();
    let p = &blue.parameters()[0];
    assert_eq!((blue.parameters().len(), p.name(), p.value(), p.version()), (1, Some("/f/labelled"), Some("old"), 1));
    server.stop().await;
}

#[tokio::test]
async fn by_path_refuses_name_path_tier_and_tag_filters() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    for key in ["Name", "Path", "Tier", "DataType", "tag:env"] {
        let err = ssm
            .get_parameters_by_path()
            .path("/x")
            .parameter_filters(filter(key, None, &["v"]))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("InvalidFilterKey"), "{key}");
    }
    let err = ssm
        .get_parameters_by_path()
        .path("/x")
        .parameter_filters(filter("Label", Some("BeginsWith"), &["v"]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidFilterOption"));
    server.stop().await;
}

#[tokio::test]
async fn by_path_rejects_a_malformed_path_and_a_foreign_token() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    let err = ssm.get_parameters_by_path().path("no-slash").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    let err = ssm.get_parameters_by_path().path("/x").next_token("bm90IGEgdG9rZW4=").send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidNextToken"));
    server.stop().await;
}

#[tokio::test]
async fn describe_lists_metadata_without_values() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter()
        .name("/meta")
        .value("secret-ish")
        .r#type(ParameterType::String)
        .description("about")
        .allowed_pattern(".*")
        .send()
        .await
        .unwrap();
    let out = ssm.describe_parameters().send().await.unwrap();
    let m = &out.parameters()[0];
    assert_eq!(m.name(), Some("/meta"));
    assert_eq!(m.arn(), Some(format!("arn:aws:ssm:us-east-1:{}:parameter/meta", server.account()).as_str()));
    assert_eq!((m.description(), m.allowed_pattern(), m.version()), (Some("about"), Some(".*"), 1));
    assert_eq!((m.tier(), m.data_type()), (Some(&ParameterTier::Standard), Some("text")));
    assert_eq!(m.last_modified_user(), Some(format!("arn:aws:iam::{}:root", server.account()).as_str()));
    server.stop().await;
}

#[tokio::test]
async fn describe_filters_names_by_equality_prefix_and_substring() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    tree(&ssm).await;
    assert_eq!(describe_names(&ssm, vec![filter("Name", None, &["/app/a", "top"])]).await, ["/app/a", "top"]);
    assert_eq!(
        describe_names(&ssm, vec![filter("Name", Some("BeginsWith"), &["/app"])]).await,
        ["/app/a", "/app/b", "/app/sub/c", "/app/sub/deep/d", "/apple"]
    );
    assert_eq!(
        describe_names(&ssm, vec![filter("Name", Some("Contains"), &["sub"])]).await,
        ["/app/sub/c", "/app/sub/deep/d"]
    );
    server.stop().await;
}

#[tokio::test]
async fn describe_filters_by_path_one_level_or_recursively() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    tree(&ssm).await;
    assert_eq!(describe_names(&ssm, vec![filter("Path", None, &["/app/sub"])]).await, ["/app/sub/c"]);
    assert_eq!(
        describe_names(&ssm, vec![filter("Path", Some("Recursive"), &["/app/sub"])]).await,
        ["/app/sub/c", "/app/sub/deep/d"]
    );
    server.stop().await;
}

#[tokio::test]
async fn describe_filters_by_type_tier_data_type_and_tag() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/k/plain", "v").await;
    ssm.put_parameter()
        .name("/k/image")
        .value(crate::ssm::support::public_image("us-east-1"))
        .r#type(ParameterType::String)
        .data_type("aws:ec2:image")
        .tier(ParameterTier::Advanced)
        .tags(aws_sdk_ssm::types::Tag::builder().key("team").value("images").build().unwrap())
        .send()
        .await
        .unwrap();
    ssm.put_parameter().name("/k/list").value("a").r#type(ParameterType::StringList).send().await.unwrap();
    assert_eq!(describe_names(&ssm, vec![filter("Type", None, &["StringList"])]).await, ["/k/list"]);
    assert_eq!(describe_names(&ssm, vec![filter("Tier", None, &["Advanced"])]).await, ["/k/image"]);
    assert_eq!(describe_names(&ssm, vec![filter("DataType", None, &["aws:ec2:image"])]).await, ["/k/image"]);
    assert_eq!(describe_names(&ssm, vec![filter("tag:team", None, &["images"])]).await, ["/k/image"]);
    assert_eq!(
        describe_names(&ssm, vec![filter("Name", Some("BeginsWith"), &["/k"]), filter("Type", None, &["String"])])
            .await,
        ["/k/image", "/k/plain"]
    );
    server.stop().await;
}

#[tokio::test]
async fn describe_accepts_the_deprecated_filters_but_not_both_kinds() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    tree(&ssm).await;
    let legacy = ParametersFilter::builder().key(ParametersFilterKey::Name).values("/app/s").build().unwrap();
    let out = ssm.describe_parameters().filters(legacy.clone()).send().await.unwrap();
    assert_eq!(
        out.parameters().iter().map(|p| p.name().unwrap()).collect::<Vec<_>>(),
        ["/app/sub/c", "/app/sub/deep/d"]
    );
    let err = ssm
        .describe_parameters()
        .filters(legacy)
        .parameter_filters(filter("Type", None, &["String"]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.message(), Some("You can use either Filters or ParameterFilters in a single request."));
    server.stop().await;
}

#[tokio::test]
async fn describe_refuses_invalid_filters() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    let err = ssm.describe_parameters().parameter_filters(filter("Label", None, &["x"])).send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidFilterKey"));
    let err =
        ssm.describe_parameters().parameter_filters(filter("Type", Some("Contains"), &["x"])).send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidFilterOption"));
    let err = ssm.describe_parameters().parameter_filters(filter("Type", None, &["Text"])).send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidFilterValue"));
    let err =
        ssm.describe_parameters().parameter_filters(filter("Path", None, &["/aws/service"])).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    server.stop().await;
}

#[tokio::test]
async fn describe_pagination_is_stable_while_parameters_are_added_and_removed() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    for i in 0..30 {
        put(&ssm, &format!("/s/p{i:02}"), "v").await;
    }
    let first = ssm.describe_parameters().max_results(10).send().await.unwrap();
    let mut seen: Vec<String> = first.parameters().iter().map(|p| p.name().unwrap().to_string()).collect();
    assert_eq!(seen.last().unwrap(), "/s/p09");
    // Between pages: remove one already returned, add one before the cursor and one after it.
    ssm.delete_parameter().name("/s/p03").send().await.unwrap();
    put(&ssm, "/s/p05a", "v").await;
    put(&ssm, "/s/p25a", "v").await;
    let mut token = first.next_token().map(str::to_string);
    while let Some(t) = token {
        let page = ssm.describe_parameters().max_results(10).next_token(t).send().await.unwrap();
        seen.extend(page.parameters().iter().map(|p| p.name().unwrap().to_string()));
        token = page.next_token().map(str::to_string);
    }
    let mut expected: Vec<String> = (0..30).map(|i| format!("/s/p{i:02}")).collect();
    expected.push("/s/p25a".to_string());
    expected.sort();
    assert_eq!(seen, expected, "no parameter repeated or skipped");
    server.stop().await;
}

#[tokio::test]
async fn describe_returns_ten_per_page_without_max_results_and_what_was_asked_with_it() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    for i in 0..12 {
        put(&ssm, &format!("/page/p{i:02}"), "v").await;
    }
    let first = ssm.describe_parameters().send().await.unwrap();
    assert_eq!(first.parameters().len(), 10);
    let rest = ssm.describe_parameters().next_token(first.next_token().expect("a token")).send().await.unwrap();
    assert_eq!(rest.parameters().len(), 2);
    assert_eq!(rest.next_token(), None);
    let one = ssm.describe_parameters().max_results(1).send().await.unwrap();
    assert_eq!((one.parameters().len(), one.next_token().is_some()), (1, true));
    let fifty = ssm.describe_parameters().max_results(50).send().await.unwrap();
    assert_eq!((fifty.parameters().len(), fifty.next_token()), (12, None));
    server.stop().await;
}

#[tokio::test]
async fn describe_with_a_tag_key_filter_without_values_matches_any_value_of_that_tag() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    for (name, key, value) in [("/t/prod", "env", "prod"), ("/t/dev", "env", "dev"), ("/t/team", "team", "env")] {
        ssm.put_parameter()
            .name(name)
            .value("v")
            .r#type(ParameterType::String)
            .tags(aws_sdk_ssm::types::Tag::builder().key(key).value(value).build().unwrap())
            .send()
            .await
            .unwrap();
    }
    put(&ssm, "/t/untagged", "v").await;
    let tag_key = ParameterStringFilter::builder().key("tag:env").build().unwrap();
    assert_eq!(describe_names(&ssm, vec![tag_key]).await, ["/t/dev", "/t/prod"]);
    // Other keys still need values.
    let name_only = ParameterStringFilter::builder().key("Name").build().unwrap();
    let err = ssm.describe_parameters().parameter_filters(name_only).send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidFilterValue"));
    server.stop().await;
}

#[tokio::test]
async fn describe_returns_nothing_shared_yet() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/mine", "v").await;
    let out = ssm.describe_parameters().shared(true).send().await.unwrap();
    assert!(out.parameters().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn listings_are_per_account_region() {
    let server = TestServer::start().await;
    put(&server.ssm("us-east-1"), "/regional/x", "v").await;
    let west = server.ssm("us-west-2");
    assert!(by_path_names(&west, "/regional", true).await.is_empty());
    assert!(west.describe_parameters().send().await.unwrap().parameters().is_empty());
    server.stop().await;
}
