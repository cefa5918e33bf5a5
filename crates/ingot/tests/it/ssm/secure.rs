//! SecureString parameters: encrypted under KMS keys, plain text only on request.

use crate::support::TestServer;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use aws_sdk_ssm::types::{ParameterStringFilter, ParameterType};

const SECRET: &str = "correct-horse-battery-staple";

async fn put_secret(server: &TestServer, name: &str) {
    server
        .ssm("us-east-1")
        .put_parameter()
        .name(name)
        .value(SECRET)
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_secure_string_reads_back_as_ciphertext_without_decryption() {
    let server = TestServer::start().await;
    put_secret(&server, "/db/password").await;
    let p = server.ssm("us-east-1").get_parameter().name("/db/password").send().await.unwrap().parameter.unwrap();
    assert_eq!(p.r#type(), Some(&ParameterType::SecureString));
    let value = p.value().unwrap();
    assert_ne!(value, SECRET);
    let base64_alphabet = |c: char| c.is_ascii_alphanumeric() || "+/=".contains(c);
    assert!(value.len() > SECRET.len() && value.chars().all(base64_alphabet), "base64 ciphertext: {value}");
    server.stop().await;
}

#[tokio::test]
async fn with_decryption_returns_the_plain_text() {
    let server = TestServer::start().await;
    put_secret(&server, "/db/password").await;
    let ssm = server.ssm("us-east-1");
    let p = ssm.get_parameter().name("/db/password").with_decryption(true).send().await.unwrap().parameter.unwrap();
    assert_eq!(p.value(), Some(SECRET));
    let many = ssm.get_parameters().names("/db/password").with_decryption(true).send().await.unwrap();
    assert_eq!(many.parameters()[0].value(), Some(SECRET));
    let by_path = ssm.get_parameters_by_path().path("/db").with_decryption(true).send().await.unwrap();
    assert_eq!(by_path.parameters()[0].value(), Some(SECRET));
    let history = ssm.get_parameter_history().name("/db/password").with_decryption(true).send().await.unwrap();
    assert_eq!(history.parameters()[0].value(), Some(SECRET));
    server.stop().await;
}

#[tokio::test]
async fn the_default_key_is_the_aws_managed_ssm_alias() {
    let server = TestServer::start().await;
    put_secret(&server, "/keyed").await;
    let ssm = server.ssm("us-east-1");
    let described = ssm
        .describe_parameters()
        .parameter_filters(ParameterStringFilter::builder().key("Name").values("/keyed").build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(described.parameters()[0].key_id(), Some("alias/aws/ssm"));
    let by_key = ssm
        .describe_parameters()
        .parameter_filters(ParameterStringFilter::builder().key("KeyId").values("alias/aws/ssm").build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(by_key.parameters().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_key_is_an_invalid_key_id() {
    let server = TestServer::start().await;
    let err = server
        .ssm("us-east-1")
        .put_parameter()
        .name("/nokey")
        .value(SECRET)
        .r#type(ParameterType::SecureString)
        .key_id("alias/does-not-exist")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidKeyId"));
    assert!(err.message().unwrap().contains("alias/does-not-exist is not found."), "{:?}", err.message());
    let err = server
        .ssm("us-east-1")
        .put_parameter()
        .name("/nokey")
        .value(SECRET)
        .r#type(ParameterType::SecureString)
        .key_id("1234abcd-12ab-34cd-56ef-1234567890ab")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidKeyId"));
    server.stop().await;
}

#[tokio::test]
async fn the_plain_text_never_reaches_the_store_or_the_audit_trail() {
    let server = TestServer::start().await;
    put_secret(&server, "/hidden").await;
    let ssm = server.ssm("us-east-1");
    ssm.get_parameter().name("/hidden").with_decryption(true).send().await.unwrap();
    ssm.put_parameter().name("/hidden").value(SECRET).overwrite(true).send().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let rows = server.store().scan("", None, 100_000).await.unwrap();
    for (key, item) in &rows {
        assert!(!String::from_utf8_lossy(&item.value).contains(SECRET), "plain text stored under {key}");
    }
    for topic in ["audit", "events"] {
        for r in server.store().outbox_after(topic, ingot_store::OutboxPosition::START, 100_000).await.unwrap() {
            assert!(!String::from_utf8_lossy(&r.payload).contains(SECRET), "plain text in {topic}");
        }
    }
    if server.config.database_url.is_none() {
        for entry in std::fs::read_dir(&server.config.data_dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                    "plain text in {}",
                    path.display()
                );
            }
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_string_parameter_ignores_with_decryption() {
    let server = TestServer::start().await;
    let ssm = server.ssm("us-east-1");
    ssm.put_parameter().name("/plain").value("visible").r#type(ParameterType::String).send().await.unwrap();
    let p = ssm.get_parameter().name("/plain").with_decryption(true).send().await.unwrap().parameter.unwrap();
    assert_eq!(p.value(), Some("visible"));
    server.stop().await;
}

#[tokio::test]
async fn the_ciphertext_is_bound_to_the_parameter() {
    let server = TestServer::start().await;
    put_secret(&server, "/one").await;
    put_secret(&server, "/two").await;
    let ssm = server.ssm("us-east-1");
    let one = ssm.get_parameter().name("/one").send().await.unwrap().parameter.unwrap();
    let two = ssm.get_parameter().name("/two").send().await.unwrap().parameter.unwrap();
    assert_ne!(one.value(), two.value(), "each value is encrypted on its own");
    server.stop().await;
}
