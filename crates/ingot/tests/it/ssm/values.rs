//! Values, types, data types, tiers and limits of PutParameter.

use crate::ssm::support::{overwrite, put};
use crate::support::TestServer;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{ParameterTier, ParameterType, Tag};

#[tokio::test]
async fn a_string_list_reads_back_comma_separated() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter().name("/list").value("a,b,c").r#type(ParameterType::StringList).send().await.unwrap();
    let p = ssm.get_parameter().name("/list").send().await.unwrap().parameter.unwrap();
    assert_eq!((p.r#type(), p.value()), (Some(&ParameterType::StringList), Some("a,b,c")));
    server.stop().await;
}

#[tokio::test]
async fn creating_without_a_type_is_rejected() {
    let server = TestServer::start().await;
    let err = server.ssm("us-east-1").put_parameter().name("/untyped").value("x").send().await.unwrap_err();
    assert_eq!(err.message(), Some("A parameter type is required when you create a parameter."));
    server.stop().await;
}

#[tokio::test]
async fn the_type_of_an_existing_parameter_cannot_change() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/typed", "x").await;
    let err = ssm
        .put_parameter()
        .name("/typed")
        .value("a,b")
        .r#type(ParameterType::StringList)
        .overwrite(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("HierarchyTypeMismatchException"));
    server.stop().await;
}

#[tokio::test]
async fn tags_together_with_overwrite_are_rejected() {
    let server = TestServer::start().await;
    let err = server
        .ssm("us-east-1")
        .put_parameter()
        .name("/tagged")
        .value("x")
        .r#type(ParameterType::String)
        .overwrite(true)
        .tags(Tag::builder().key("k").value("v").build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert!(err.message().unwrap().starts_with("Invalid request: tags and overwrite can't be used together."));
    server.stop().await;
}

#[tokio::test]
async fn an_allowed_pattern_is_checked_now_and_on_later_writes() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    let err = ssm
        .put_parameter()
        .name("/port")
        .value("http")
        .r#type(ParameterType::String)
        .allowed_pattern(r"^\d+$")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ParameterPatternMismatchException"));
    assert_eq!(err.message(), Some(r"Parameter value, cannot be validated against allowedPattern: ^\d+$"));
    ssm.put_parameter()
        .name("/port")
        .value("443")
        .r#type(ParameterType::String)
        .allowed_pattern(r"^\d+$")
        .send()
        .await
        .unwrap();
    let err = ssm.put_parameter().name("/port").value("https").overwrite(true).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterPatternMismatchException"));
    assert_eq!(overwrite(&ssm, "/port", "8443").await, 2);
    server.stop().await;
}

#[tokio::test]
async fn an_invalid_allowed_pattern_is_its_own_error() {
    let server = TestServer::start().await;
    let err = server
        .ssm("us-east-1")
        .put_parameter()
        .name("/bad-pattern")
        .value("x")
        .r#type(ParameterType::String)
        .allowed_pattern("([")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidAllowedPatternException"));
    server.stop().await;
}

#[tokio::test]
async fn a_value_that_nests_another_parameter_is_rejected() {
    let server = TestServer::start().await;
    let err = server
        .ssm("us-east-1")
        .put_parameter()
        .name("/nested")
        .value("{{ssm:/other}}")
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    server.stop().await;
}

#[tokio::test]
async fn the_description_is_kept_across_versions_until_replaced() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter()
        .name("/described")
        .value("1")
        .r#type(ParameterType::String)
        .description("first")
        .send()
        .await
        .unwrap();
    overwrite(&ssm, "/described", "2").await;
    let described = ssm
        .describe_parameters()
        .parameter_filters(
            aws_sdk_ssm::types::ParameterStringFilter::builder().key("Name").values("/described").build().unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(described.parameters()[0].description(), Some("first"));
    server.stop().await;
}

#[tokio::test]
async fn an_image_data_type_needs_an_ami_id() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    let put = ssm
        .put_parameter()
        .name("/golden/ami")
        .value(crate::ssm::support::public_image("us-east-1"))
        .r#type(ParameterType::String)
        .data_type("aws:ec2:image")
        .send()
        .await
        .unwrap();
    assert_eq!(put.version(), 1);
    let p = ssm.get_parameter().name("/golden/ami").send().await.unwrap().parameter.unwrap();
    assert_eq!(p.data_type(), Some("aws:ec2:image"));
    let err = ssm
        .put_parameter()
        .name("/golden/not-ami")
        .value("ubuntu")
        .r#type(ParameterType::String)
        .data_type("aws:ec2:image")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_data_type_is_named_in_the_error() {
    let server = TestServer::start().await;
    let err = server
        .ssm("us-east-1")
        .put_parameter()
        .name("/dt")
        .value("x")
        .r#type(ParameterType::String)
        .data_type("Text")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        Some("The following data type is not supported: Text (Data type names are all lowercase.)")
    );
    server.stop().await;
}

#[tokio::test]
async fn scalar_data_types_validate_the_value() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    for (data_type, good, bad) in
        [("integer", "443", "4.5"), ("boolean", "true", "yes"), ("ipv4-address", "10.0.0.1", "10.0.0")]
    {
        let name = format!("/dt/{data_type}");
        ssm.put_parameter()
            .name(&name)
            .value(good)
            .r#type(ParameterType::String)
            .data_type(data_type)
            .send()
            .await
            .unwrap();
        let err = ssm.put_parameter().name(&name).value(bad).overwrite(true).send().await.unwrap_err();
        assert_eq!(err.code(), Some("ValidationException"), "{data_type} {bad}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_json_data_type_lands_in_the_advanced_tier_with_intelligent_tiering() {
    let server = TestServer::start().await;
    let put = server
        .ssm("us-east-1")
        .put_parameter()
        .name("/config/json")
        .value(r#"{"a": 1}"#)
        .r#type(ParameterType::String)
        .data_type("json")
        .tier(ParameterTier::IntelligentTiering)
        .send()
        .await
        .unwrap();
    assert_eq!(put.tier(), Some(&ParameterTier::Advanced));
    server.stop().await;
}

#[tokio::test]
async fn intelligent_tiering_keeps_small_values_standard_and_moves_large_ones_to_advanced() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    let small = ssm
        .put_parameter()
        .name("/it/small")
        .value("x")
        .r#type(ParameterType::String)
        .tier(ParameterTier::IntelligentTiering)
        .send()
        .await
        .unwrap();
    assert_eq!(small.tier(), Some(&ParameterTier::Standard));
    let large = ssm
        .put_parameter()
        .name("/it/small")
        .value("x".repeat(5000))
        .overwrite(true)
        .tier(ParameterTier::IntelligentTiering)
        .send()
        .await
        .unwrap();
    assert_eq!(large.tier(), Some(&ParameterTier::Advanced));
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_type_lists_the_allowed_values_in_aws_order() {
    let server = TestServer::start().await;
    let err = server
        .ssm("us-east-1")
        .put_parameter()
        .name("/typed")
        .value("x")
        .r#type(ParameterType::from("Nope"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some(
            "1 validation error detected: Value 'Nope' at 'type' failed to satisfy constraint: Member must satisfy \
             enum value set: [SecureString, StringList, String]"
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn an_empty_value_fails_the_length_constraint_without_a_final_period() {
    let server = TestServer::start().await;
    let err = server
        .ssm("us-east-1")
        .put_parameter()
        .name("/empty")
        .value("")
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert_eq!(
        err.message(),
        Some(
            "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length \
             greater than or equal to 1"
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn a_value_over_32768_characters_fails_the_length_constraint_before_any_tier_rule() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    let expected = "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have \
                    length less than or equal to 32768";
    for tier in
        [None, Some(ParameterTier::Standard), Some(ParameterTier::Advanced), Some(ParameterTier::IntelligentTiering)]
    {
        let err = ssm
            .put_parameter()
            .name("/huge")
            .value("x".repeat(32_769))
            .r#type(ParameterType::String)
            .set_tier(tier.clone())
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("ValidationException"), "{tier:?}");
        assert_eq!(err.message(), Some(expected), "{tier:?}");
    }
    // At exactly 32768 characters the tier rules decide.
    let err = ssm
        .put_parameter()
        .name("/huge")
        .value("x".repeat(32_768))
        .r#type(ParameterType::String)
        .tier(ParameterTier::Advanced)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.message(), Some("Advanced tier parameters support a maximum parameter value of 8192 characters."));
    server.stop().await;
}

#[tokio::test]
async fn a_standard_value_over_four_kilobytes_is_rejected() {
    let server = TestServer::start().await;
    let err = server
        .ssm("us-east-1")
        .put_parameter()
        .name("/big")
        .value("x".repeat(4097))
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap_err();
    assert!(err
        .message()
        .unwrap()
        .starts_with("Standard tier parameters support a maximum parameter value of 4096 characters."));
    server.stop().await;
}

#[tokio::test]
async fn an_advanced_value_may_hold_eight_kilobytes_but_no_more() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter()
        .name("/big/advanced")
        .value("x".repeat(8192))
        .r#type(ParameterType::String)
        .tier(ParameterTier::Advanced)
        .send()
        .await
        .unwrap();
    let err = ssm
        .put_parameter()
        .name("/big/too")
        .value("x".repeat(8193))
        .r#type(ParameterType::String)
        .tier(ParameterTier::Advanced)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    server.stop().await;
}

#[tokio::test]
async fn an_advanced_parameter_cannot_go_back_to_standard() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter()
        .name("/adv")
        .value("x")
        .r#type(ParameterType::String)
        .tier(ParameterTier::Advanced)
        .send()
        .await
        .unwrap();
    let err = ssm
        .put_parameter()
        .name("/adv")
        .value("y")
        .overwrite(true)
        .tier(ParameterTier::Standard)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert!(err.message().unwrap().contains("You can't downgrade a parameter from the advanced-parameter tier"));
    let kept = ssm.put_parameter().name("/adv").value("z").overwrite(true).send().await.unwrap();
    assert_eq!(kept.tier(), Some(&ParameterTier::Advanced));
    server.stop().await;
}

/// Fills the standard-tier count of the account in us-east-1 to the limit, as if 10,000
/// parameters existed.
async fn fill_standard_tier(server: &TestServer) {
    let key = format!("{}/us-east-1/ssm/parameter-counts/00", server.account());
    let record = ingot_svc_ssm::store::CountsRecord { standard: 10_000, advanced: 0 };
    let batch = ingot_store::Batch {
        writes: vec![ingot_store::Write {
            key,
            value: Some(ingot_store::encode_record(&record)),
            expect: ingot_store::Expect::Any,
        }],
        ..Default::default()
    };
    server.store().commit(batch).await.unwrap();
}

#[tokio::test]
async fn the_ten_thousand_and_first_standard_parameter_exceeds_the_limit() {
    let server = TestServer::start().await;
    fill_standard_tier(&server).await;
    let ssm = server.ssm("us-east-1");
    let err =
        ssm.put_parameter().name("/one-too-many").value("x").r#type(ParameterType::String).send().await.unwrap_err();
    assert_eq!(err.code(), Some("ParameterLimitExceeded"));
    let advanced = ssm
        .put_parameter()
        .name("/one-too-many")
        .value("x")
        .r#type(ParameterType::String)
        .tier(ParameterTier::Advanced)
        .send()
        .await
        .unwrap();
    assert_eq!(advanced.tier(), Some(&ParameterTier::Advanced));
    server.stop().await;
}

#[tokio::test]
async fn intelligent_tiering_chooses_advanced_once_ten_thousand_parameters_exist() {
    let server = TestServer::start().await;
    fill_standard_tier(&server).await;
    let put = server
        .ssm("us-east-1")
        .put_parameter()
        .name("/crowded")
        .value("x")
        .r#type(ParameterType::String)
        .tier(ParameterTier::IntelligentTiering)
        .send()
        .await
        .unwrap();
    assert_eq!(put.tier(), Some(&ParameterTier::Advanced));
    server.stop().await;
}

#[tokio::test]
async fn deleting_a_parameter_frees_its_place_in_the_tier() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/counted", "x").await;
    let counts = || async {
        let rows = server
            .store()
            .scan(&format!("{}/us-east-1/ssm/parameter-counts/", server.account()), None, 100)
            .await
            .unwrap();
        rows.iter()
            .map(|(_, item)| {
                ingot_store::decode_record::<ingot_svc_ssm::store::CountsRecord>(&item.value).unwrap().standard
            })
            .sum::<u64>()
    };
    assert_eq!(counts().await, 1);
    ssm.delete_parameter().name("/counted").send().await.unwrap();
    assert_eq!(counts().await, 0);
    server.stop().await;
}

#[tokio::test]
async fn a_failed_put_changes_nothing() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    put(&ssm, "/stable", "one").await;
    let _ = ssm.put_parameter().name("/stable").value("x".repeat(5000)).overwrite(true).send().await.unwrap_err();
    let p = ssm.get_parameter().name("/stable").send().await.unwrap().parameter.unwrap();
    assert_eq!((p.value(), p.version()), (Some("one"), 1));
    server.stop().await;
}

#[tokio::test]
async fn concurrent_creates_of_different_names_all_succeed_and_are_all_counted() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    let creates =
        (0..64).map(|i| {
            let ssm = ssm.clone();
            async move {
                ssm.put_parameter().name(format!("/burst/p{i}")).value("v").r#type(ParameterType::String).send().await
            }
        });
    let results = futures_join_all(creates).await;
    assert!(results.iter().all(Result::is_ok), "{:?}", results.iter().find(|r| r.is_err()));
    let rows =
        server.store().scan(&format!("{}/us-east-1/ssm/parameter-counts/", server.account()), None, 100).await.unwrap();
    let counted: u64 = rows
        .iter()
        .map(|(_, item)| {
            ingot_store::decode_record::<ingot_svc_ssm::store::CountsRecord>(&item.value).unwrap().standard
        })
        .sum();
    assert_eq!(counted, 64);
    server.stop().await;
}

/// Runs futures concurrently on the test's runtime and returns their outputs in order.
async fn futures_join_all<F: std::future::Future + Send + 'static>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}
