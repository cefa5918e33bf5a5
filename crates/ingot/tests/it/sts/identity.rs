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

#[tokio::test]
async fn get_access_key_info_names_the_account_of_a_key_on_record_and_of_any_well_formed_key_id() {
    let server = TestServer::start().await;
    let sts = server.sts();
    let own = sts.get_access_key_info().access_key_id(server.access_key_id()).send().await.expect("own key");
    assert_eq!(own.account(), Some(server.account().as_str()));
    // A key id issued elsewhere names its account in its own bits; the key need not exist here.
    let ids = ingot_core::IdGen::seeded(11);
    let other = ingot_core::AccountId::parse("210987654321").unwrap();
    let foreign = ingot_core::credentials::new_access_key_id(&ids, "ASIA", &other);
    let info = sts.get_access_key_info().access_key_id(foreign).send().await.expect("foreign key");
    assert_eq!(info.account(), Some("210987654321"));
    server.stop().await;
}

#[tokio::test]
async fn get_access_key_info_refuses_a_key_id_that_names_no_account() {
    let server = TestServer::start().await;
    let err = server.sts().get_access_key_info().access_key_id("AKIA0123456789ABCDEF01").send().await.unwrap_err();
    let service_err = err.into_service_error();
    assert_eq!(aws_sdk_sts::error::ProvideErrorMetadata::code(&service_err), Some("ValidationError"));
    server.stop().await;
}
