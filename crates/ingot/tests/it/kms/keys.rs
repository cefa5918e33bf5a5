//! Keys, aliases and key policies through aws-sdk-kms.

use crate::support::TestServer;
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::types::{KeyManagerType, KeyState, KeyUsageType};

#[tokio::test]
async fn a_key_is_found_by_id_arn_alias_name_and_alias_arn() {
    let server = TestServer::start().await;
    let kms = server.kms("us-east-1");
    let key = kms.create_key().description("app").send().await.unwrap().key_metadata.unwrap();
    assert_eq!(key.key_state(), Some(&KeyState::Enabled));
    assert_eq!(key.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
    assert_eq!(key.key_manager(), Some(&KeyManagerType::Customer));
    kms.create_alias().alias_name("alias/app").target_key_id(key.key_id()).send().await.unwrap();
    let arn = key.arn().unwrap().to_string();
    let alias_arn = format!("arn:aws:kms:us-east-1:{}:alias/app", server.account());
    for reference in [key.key_id(), arn.as_str(), "alias/app", alias_arn.as_str()] {
        let found = kms.describe_key().key_id(reference).send().await.unwrap().key_metadata.unwrap();
        assert_eq!(found.key_id(), key.key_id(), "{reference}");
        assert_eq!(found.description(), Some("app"));
    }
    server.stop().await;
}

#[tokio::test]
async fn unknown_and_malformed_key_ids_are_not_found_with_aws_words() {
    let server = TestServer::start().await;
    let kms = server.kms("eu-west-1");
    let err = kms.describe_key().key_id("not-a-key").send().await.unwrap_err();
    assert_eq!(err.code(), Some("NotFoundException"));
    assert_eq!(err.message(), Some("Invalid keyId 'not-a-key'"));
    let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
    let err = kms.describe_key().key_id(id).send().await.unwrap_err();
    let expected = format!("Key 'arn:aws:kms:eu-west-1:{}:key/{id}' does not exist", server.account());
    assert_eq!(err.message(), Some(expected.as_str()));
    let err = kms.describe_key().key_id("alias/missing").send().await.unwrap_err();
    let expected = format!("Alias arn:aws:kms:eu-west-1:{}:alias/missing is not found.", server.account());
    assert_eq!(err.message(), Some(expected.as_str()));
    server.stop().await;
}

#[tokio::test]
async fn the_aws_managed_ssm_key_appears_on_first_use() {
    let server = TestServer::start().await;
    let kms = server.kms("us-east-1");
    assert!(kms.list_aliases().send().await.unwrap().aliases().is_empty());
    let key = kms.describe_key().key_id("alias/aws/ssm").send().await.unwrap().key_metadata.unwrap();
    assert_eq!(key.key_manager(), Some(&KeyManagerType::Aws));
    let aliases = kms.list_aliases().send().await.unwrap();
    assert_eq!(aliases.aliases()[0].alias_name(), Some("alias/aws/ssm"));
    assert_eq!(aliases.aliases()[0].target_key_id(), Some(key.key_id()));
    // Nobody administers an AWS managed key.
    let err = kms.disable_key().key_id(key.key_id()).send().await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    server.stop().await;
}

#[tokio::test]
async fn a_key_policy_that_locks_the_caller_out_is_refused_unless_bypassed() {
    let server = TestServer::start().await;
    let kms = server.kms("us-east-1");
    let key = kms.create_key().send().await.unwrap().key_metadata.unwrap();
    let lockout = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
    let err = kms.put_key_policy().key_id(key.key_id()).policy(lockout).send().await.unwrap_err();
    assert_eq!(err.code(), Some("MalformedPolicyDocumentException"));
    assert_eq!(err.message(), Some("The new key policy will not allow you to update the key policy in the future."));
    let policy = kms.get_key_policy().key_id(key.key_id()).send().await.unwrap().policy.unwrap();
    assert!(policy.contains("Enable IAM User Permissions"), "unchanged: {policy}");
    kms.put_key_policy()
        .key_id(key.key_id())
        .policy(lockout)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .unwrap();
    // Now even the account's root cannot use the key: the key policy no longer names its account.
    let err = kms.describe_key().key_id(key.key_id()).send().await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert!(err.message().unwrap().ends_with("because no resource-based policy allows the kms:DescribeKey action"));
    server.stop().await;
}

#[tokio::test]
async fn scheduled_deletion_refuses_use_until_cancelled_and_then_the_key_is_disabled() {
    let server = TestServer::start().await;
    let kms = server.kms("us-east-1");
    let key = kms.create_key().send().await.unwrap().key_metadata.unwrap();
    let scheduled = kms.schedule_key_deletion().key_id(key.key_id()).pending_window_in_days(7).send().await.unwrap();
    assert_eq!(scheduled.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(scheduled.pending_window_in_days(), Some(7));
    let err = kms.encrypt().key_id(key.key_id()).plaintext(b"x".to_vec().into()).send().await.unwrap_err();
    assert_eq!(err.code(), Some("KMSInvalidStateException"));
    assert_eq!(err.message(), Some(format!("{} is pending deletion.", key.arn().unwrap()).as_str()));
    kms.cancel_key_deletion().key_id(key.key_id()).send().await.unwrap();
    let after = kms.describe_key().key_id(key.key_id()).send().await.unwrap().key_metadata.unwrap();
    assert_eq!(after.key_state(), Some(&KeyState::Disabled));
    assert_eq!(after.deletion_date(), None);
    server.stop().await;
}

#[tokio::test]
async fn a_secure_string_write_is_audited_as_kms_encrypt_invoked_by_ssm_for_the_caller() {
    let server = TestServer::start().await;
    server
        .ssm("us-east-1")
        .put_parameter()
        .name("/audited")
        .value("v")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let records = server.audit_records(2).await;
    let encrypt = records.iter().find(|r| r["eventName"] == "Encrypt").expect("a KMS Encrypt record");
    assert_eq!(encrypt["eventSource"], "kms.amazonaws.com");
    assert_eq!(encrypt["sourceIPAddress"], "ssm.amazonaws.com");
    assert_eq!(encrypt["userIdentity"]["invokedBy"], "ssm.amazonaws.com");
    assert_eq!(encrypt["userIdentity"]["arn"], format!("arn:aws:iam::{}:root", server.account()));
    assert!(records.iter().any(|r| r["eventName"] == "PutParameter"));
    server.stop().await;
}
