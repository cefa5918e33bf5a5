use crate::support::TestServer;

#[tokio::test]
async fn get_caller_identity_names_the_root_of_the_management_account() {
    let server = TestServer::start().await;
    let id = server.sts().get_caller_identity().send().await.expect("GetCallerIdentity");
    assert_eq!(id.account(), Some(server.account().as_str()));
    assert_eq!(id.user_id(), Some(server.account().as_str()));
    assert_eq!(id.arn(), Some(format!("arn:aws:iam::{}:root", server.account()).as_str()));
    server.stop().await;
}

#[tokio::test]
async fn a_wrong_secret_is_rejected_with_signature_does_not_match() {
    let server = TestServer::start().await;
    let err = server.sts_with(&server.access_key_id(), "wrong-secret").get_caller_identity().send().await.unwrap_err();
    let service_err = err.into_service_error();
    assert_eq!(aws_sdk_sts::error::ProvideErrorMetadata::code(&service_err), Some("SignatureDoesNotMatch"));
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_access_key_is_rejected_with_invalid_client_token_id() {
    let server = TestServer::start().await;
    let err = server.sts_with("AKIAIDONOTEXIST00000", "x").get_caller_identity().send().await.unwrap_err();
    let service_err = err.into_service_error();
    assert_eq!(aws_sdk_sts::error::ProvideErrorMetadata::code(&service_err), Some("InvalidClientTokenId"));
    server.stop().await;
}

#[tokio::test]
async fn open_mode_accepts_any_signature_as_the_account_named_by_the_key() {
    let server = TestServer::start_with(|c| c.auth = ingot::config::AuthSetting::Open).await;
    let id = server.sts_with("123456789012", "anything").get_caller_identity().send().await.expect("open mode");
    assert_eq!(id.account(), Some("123456789012"));
    let id = server.sts_with("AKIASOMETHINGELSE000", "anything").get_caller_identity().send().await.unwrap();
    assert_eq!(id.account(), Some("000000000000"));
    server.stop().await;
}
