//! Decisions follow policy changes at once, and audit records name who really called.

use super::{iam, user_with_key};
use crate::support::TestServer;

const ALLOW_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

#[tokio::test]
async fn removing_a_users_policy_denies_its_next_call_at_once() {
    let server = TestServer::start().await;
    let (key, secret) = user_with_key(&server, "reader", ALLOW_ALL).await;
    let sts = server.sts_with(&key, &secret);
    sts.get_access_key_info().access_key_id(&key).send().await.expect("allowed by the inline policy");
    sts.get_access_key_info().access_key_id(&key).send().await.expect("allowed again, from the kept decision inputs");
    iam(&server, &[("Action", "DeleteUserPolicy"), ("UserName", "reader"), ("PolicyName", "p")]).await;
    let err = sts.get_access_key_info().access_key_id(&key).send().await.unwrap_err().into_service_error();
    assert_eq!(aws_sdk_sts::error::ProvideErrorMetadata::code(&err), Some("AccessDenied"));
    let message = aws_sdk_sts::error::ProvideErrorMetadata::message(&err).unwrap_or_default();
    assert!(message.ends_with("because no identity-based policy allows the sts:GetAccessKeyInfo action"), "{message}");
    server.stop().await;
}

#[tokio::test]
async fn a_users_kept_decision_inputs_outlive_writes_of_other_keys_but_not_a_change_to_its_policies() {
    let server = TestServer::start().await;
    let (key, secret) = user_with_key(&server, "reader", ALLOW_ALL).await;
    let sts = server.sts_with(&key, &secret);
    let ssm = server.ssm("us-east-1");
    sts.get_access_key_info().access_key_id(&key).send().await.expect("allowed by the inline policy");
    for value in ["one", "two"] {
        // Writes of keys the decision did not read: its inputs are kept and still allow.
        ssm.put_parameter()
            .name("/unrelated")
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .value(value)
            .overwrite(true)
            .send()
            .await
            .expect("root writes");
        sts.get_access_key_info().access_key_id(&key).send().await.expect("allowed after another key changed");
    }
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sts:*","Resource":"*"}]}"#;
    let form = [("Action", "PutUserPolicy"), ("UserName", "reader"), ("PolicyName", "deny"), ("PolicyDocument", deny)];
    iam(&server, &form).await;
    ssm.put_parameter()
        .name("/unrelated")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .value("three")
        .overwrite(true)
        .send()
        .await
        .expect("root writes");
    let err = sts.get_access_key_info().access_key_id(&key).send().await.unwrap_err().into_service_error();
    assert_eq!(aws_sdk_sts::error::ProvideErrorMetadata::code(&err), Some("AccessDenied"));
    let message = aws_sdk_sts::error::ProvideErrorMetadata::message(&err).unwrap_or_default();
    assert!(message.ends_with("with an explicit deny in an identity-based policy"), "{message}");
    server.stop().await;
}

#[tokio::test]
async fn a_role_sessions_calls_are_audited_as_the_assumed_role_with_its_issuer() {
    let server = TestServer::start().await;
    let account = server.account();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let role =
        iam(&server, &[("Action", "CreateRole"), ("RoleName", "auditor"), ("AssumeRolePolicyDocument", &trust)]).await;
    let role_arn = super::xml_text(&role, "Arn").to_string();
    let role_id = super::xml_text(&role, "RoleId").to_string();
    let (key, secret) = user_with_key(&server, "caller", ALLOW_ALL).await;
    let assumed = server.sts_with(&key, &secret).assume_role().role_arn(&role_arn).role_session_name("audit-me").send();
    let credentials = assumed.await.expect("assume role").credentials.expect("credentials");

    let config = server.session_config(
        "us-east-1",
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token()),
    );
    let me = aws_sdk_sts::Client::new(&config).get_caller_identity().send().await.expect("caller identity");
    assert_eq!(me.arn(), Some(format!("arn:aws:sts::{account}:assumed-role/auditor/audit-me").as_str()));

    // Six calls: CreateRole, CreateUser, PutUserPolicy, CreateAccessKey, AssumeRole,
    // GetCallerIdentity.
    let records = server.audit_records(6).await;
    let call = records
        .iter()
        .find(|r| r["eventName"] == "GetCallerIdentity" && r["userIdentity"]["type"] == "AssumedRole")
        .expect("the session's call is audited");
    let identity = &call["userIdentity"];
    assert_eq!(identity["arn"], format!("arn:aws:sts::{account}:assumed-role/auditor/audit-me"));
    assert_eq!(identity["principalId"], format!("{role_id}:audit-me"));
    assert_eq!(identity["accessKeyId"], credentials.access_key_id());
    let issuer = &identity["sessionContext"]["sessionIssuer"];
    assert_eq!(issuer["type"], "Role");
    assert_eq!(issuer["arn"], role_arn);
    assert_eq!(issuer["principalId"], role_id);
    assert_eq!(issuer["userName"], "auditor");
    let user_call = records.iter().find(|r| r["eventName"] == "AssumeRole").expect("AssumeRole is audited");
    assert_eq!(user_call["userIdentity"]["type"], "IAMUser");
    assert_eq!(user_call["userIdentity"]["arn"], format!("arn:aws:iam::{account}:user/caller"));
    server.stop().await;
}
