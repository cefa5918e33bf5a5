use crate::support::TestServer;
use aws_sdk_ssm::types::ParameterType;

#[tokio::test]
async fn a_restart_keeps_the_account_its_keys_and_parameters() {
    let mut server = TestServer::start().await;
    let (account, key) = (server.account(), server.access_key_id());
    server
        .ssm("us-east-1")
        .put_parameter()
        .name("/kept")
        .value("v")
        .r#type(ParameterType::String)
        .send()
        .await
        .unwrap();
    server.restart().await;
    assert_eq!((server.account(), server.access_key_id()), (account, key));
    let got = server.ssm("us-east-1").get_parameter().name("/kept").send().await.expect("survives restart");
    assert_eq!(got.parameter().unwrap().value(), Some("v"));
    server.stop().await;
}

#[tokio::test]
async fn the_credentials_file_holds_the_root_key_in_shared_credentials_format() {
    let server = TestServer::start().await;
    let text = std::fs::read_to_string(server.config.data_dir.join("credentials")).unwrap();
    assert!(text.contains("[default]"));
    assert!(text.contains(&format!("aws_access_key_id = {}", server.access_key_id())));
    assert!(text.contains(&format!("aws_secret_access_key = {}", server.secret())));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(server.config.data_dir.join("credentials")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    server.stop().await;
}

#[tokio::test]
async fn the_secret_key_is_not_stored_in_plain_text() {
    let server = TestServer::start().await;
    let secret = server.secret();
    let key = ingot_core::credentials::access_key_storage_key(&server.access_key_id());
    let item = server.store().get(&key).await.unwrap().expect("key record");
    assert!(!String::from_utf8_lossy(&item.value).contains(&secret));
    server.stop().await;
}
