//! The deny-all sweep: every served operation of every service, called by a principal that holds
//! no permission, gets its service's access-denied error and changes nothing. The operations
//! come from the services this build serves, so a new operation whose handler does not authorize
//! fails here. GetCallerIdentity and GetSessionToken are AWS's documented exceptions: they need
//! no permission.
//!
//! Calls go through the invoker, the path every caller's operations take once the caller is
//! authenticated (the HTTP adapter, jobs, workflow steps); each answer is then rendered by its
//! protocol's error encoder, as a client would receive it.

use crate::support::TestServer;
use ingot_core::model::{Protocol, ServiceModel, ShapeId, ShapeKind};
use ingot_core::{AccountId, Call, Origin, Principal, PrincipalKind, Region, Scope, ServiceFailure};
use serde_json::{json, Map, Value};

/// Operations AWS serves to any authenticated caller, without a permission.
const NEEDS_NO_PERMISSION: &[(&str, &str)] = &[("sts", "GetCallerIdentity"), ("sts", "GetSessionToken")];

/// A principal of the server's account with no policy at all.
fn nobody(account: &str) -> Principal {
    Principal {
        account: AccountId::parse(account).unwrap(),
        arn: format!("arn:aws:iam::{account}:user/nobody"),
        user_id: "AIDANOBODYNOBODYNOBOD".to_string(),
        kind: PrincipalKind::User,
        session: None,
    }
}

/// Strings tried, in order, for a string shape with a pattern; the first the pattern accepts is
/// used (padded to the minimum length).
const STRING_CANDIDATES: &[&str] = &[
    "/sweep/a",
    "sweep",
    "a",
    "ami-0123456789abcdef0",
    "i-0123456789abcdef0",
    "1",
    // Organizations' ids: root, OU, account, policy, handshake, account creation; an email.
    "r-abcd",
    "ou-abcd-abcdefgh",
    "123456789012",
    "p-abcdefgh",
    "h-abcdefgh",
    "car-abcdefgh",
    "sweep@example.com",
    // IAM policy version ids.
    "v1",
];

/// Members whose model shape accepts any string but whose handler needs a well-formed value
/// before it can name the resource it authorizes (AssumeRole's role).
const MEMBER_SAMPLES: &[(&str, &str)] = &[
    ("RoleArn", "arn:aws:iam::123456789012:role/sweep"),
    // KMS key references: a well-formed key id that names no key.
    ("KeyId", "1234abcd-12ab-34cd-56ef-1234567890ab"),
    ("TargetKeyId", "1234abcd-12ab-34cd-56ef-1234567890ab"),
    ("DestinationKeyId", "1234abcd-12ab-34cd-56ef-1234567890ab"),
    // RAM: a share and an invitation that do not exist.
    ("resourceShareArn", "arn:aws:ram:us-east-1:123456789012:resource-share/sweep"),
    ("resourceShareInvitationArn", "arn:aws:ram:us-east-1:123456789012:resource-share-invitation/sweep"),
];

/// The smallest input the model accepts: required members only, each at its minimum.
fn sample(model: &ServiceModel, shape: ShapeId, depth: usize) -> Value {
    match &model.shape(shape).kind {
        ShapeKind::Structure { members, .. } => {
            let mut object = Map::new();
            for member in members.iter().filter(|m| m.required && depth < 8) {
                let value = match MEMBER_SAMPLES.iter().find(|(name, _)| *name == member.name) {
                    Some((_, value)) => json!(value),
                    None => sample(model, member.target, depth + 1),
                };
                object.insert(member.name.to_string(), value);
            }
            Value::Object(object)
        }
        ShapeKind::List { member, min, .. } => {
            Value::Array((0..min.unwrap_or(1).max(1)).map(|_| sample(model, *member, depth + 1)).collect())
        }
        ShapeKind::Map { key, value, .. } => {
            let key = sample(model, *key, depth + 1).as_str().unwrap_or("k").to_string();
            json!({ key: sample(model, *value, depth + 1) })
        }
        ShapeKind::String { enum_values, min, pattern, .. } => {
            if let Some(first) = enum_values.first() {
                return json!(first);
            }
            let min = usize::try_from(min.unwrap_or(1)).unwrap_or(1).max(1);
            let anchored = |p: &str| regex::Regex::new(&format!("^(?:{p})$"));
            let fits = |text: &str| pattern.is_none_or(|p| anchored(p).is_ok_and(|re| re.is_match(text)));
            let base = STRING_CANDIDATES.iter().find(|c| fits(c)).copied().unwrap_or("a");
            let mut text = base.to_string();
            while text.len() < min {
                text.push('a');
            }
            json!(text)
        }
        ShapeKind::Integer { min, .. } | ShapeKind::Long { min, .. } => json!(min.unwrap_or(1).max(1)),
        ShapeKind::Float { .. } | ShapeKind::Double { .. } => json!(1.0),
        ShapeKind::Boolean => json!(false),
        ShapeKind::Timestamp { .. } => json!(1_700_000_000),
        ShapeKind::Blob { .. } => json!("c3dlZXA="),
    }
}

/// Everything in the store, to compare before and after a call.
async fn snapshot(server: &TestServer) -> Vec<(String, Vec<u8>)> {
    let items = server.store().scan("", None, 1_000_000).await.expect("scan");
    items.into_iter().map(|(key, item)| (key, item.value)).collect()
}

#[tokio::test]
async fn every_served_operation_denies_a_principal_without_permissions_and_changes_nothing() {
    let server = TestServer::start_in_process().await;
    let env = server.env();
    let principal = nobody(&server.account());
    let scope = Scope::new(principal.account.clone(), Region::parse("us-east-1").unwrap());
    let origin = Origin {
        request_id: "sweep",
        source_ip: "127.0.0.1",
        user_agent: "sweep",
        access_key_id: None,
        via_service: None,
    };
    let mut swept = 0;
    let mut problems = Vec::new();
    for service in ingot::services() {
        let model = service.model();
        for operation in model.operations {
            let input = operation.input.map_or_else(|| json!({}), |shape| sample(model, shape, 0));
            if let Some(shape) = operation.input {
                if let Err(e) = ingot_protocol::validate::validate(model, shape, &input) {
                    problems.push(format!(
                        "{}.{}: the sweep's sample input {input} is invalid ({}); teach `sample` this shape",
                        model.id, operation.name, e.message
                    ));
                    continue;
                }
            }
            let before = snapshot(&server).await;
            let call =
                Call { service: model.id, operation: operation.name, scope: &scope, principal: &principal, origin };
            let result = env.invoker.invoke(&env, call, input).await;
            let after = snapshot(&server).await;
            swept += 1;
            let exempt = NEEDS_NO_PERMISSION.contains(&(model.id, operation.name));
            // An operation that needs no permission succeeds, and may write what it answers
            // (GetSessionToken's credentials).
            if before != after && !exempt {
                problems.push(format!("{}.{}: changed the store", model.id, operation.name));
            }
            match (exempt, result) {
                (true, Ok(_)) => {}
                (true, Err(e)) => problems.push(format!("{}.{}: failed: {e:?}", model.id, operation.name)),
                (false, Ok(_)) => problems.push(format!("{}.{}: allowed", model.id, operation.name)),
                (false, Err(failure)) => {
                    if let Some(problem) = check_denial(model, operation.name, &failure) {
                        problems.push(problem);
                    }
                }
            }
        }
    }
    assert!(swept >= 17, "only {swept} operations swept");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    server.stop().await;
}

/// `None` when `failure` is an access denial that names the operation's action, rendered with
/// the service protocol's access-denied code.
fn check_denial(model: &'static ServiceModel, operation: &str, failure: &ServiceFailure) -> Option<String> {
    let ServiceFailure::Common(error) = failure else {
        return Some(format!("{}.{operation}: {failure:?} instead of access denied", model.id));
    };
    if error.kind != ingot_core::CommonKind::AccessDenied {
        return Some(format!(
            "{}.{operation}: {:?} ({}) instead of access denied",
            model.id, error.kind, error.message
        ));
    }
    let action = format!("{}:{operation}", model.iam_prefix);
    if !error.message.contains(&action) {
        return Some(format!("{}.{operation}: the denial does not name {action}: {}", model.id, error.message));
    }
    let response = ingot_protocol::encode_service_error(model, failure, "sweep");
    let body = String::from_utf8_lossy(&response.body);
    // Each protocol family's access-denied answer, as AWS gives it.
    let (status, code) = match model.protocol {
        Protocol::AwsJson1_0 | Protocol::AwsJson1_1 => (400, "AccessDeniedException"),
        Protocol::RestJson1 => (403, "AccessDeniedException"),
        Protocol::AwsQuery => (403, "AccessDenied"),
        Protocol::Ec2Query => (403, "UnauthorizedOperation"),
    };
    // restJson1 names the code in a header only.
    let in_header = response.headers.iter().any(|(_, value)| value.contains(code));
    (response.status != status || !(body.contains(code) || in_header))
        .then(|| format!("{}.{operation}: rendered as {} {body} instead of {status} {code}", model.id, response.status))
}

#[tokio::test]
async fn an_authenticated_user_without_permissions_is_denied_over_the_wire_with_each_protocols_error() {
    let server = TestServer::start_in_process().await;
    let env = server.env();
    let principal = nobody(&server.account());
    let key_id = ingot_core::credentials::new_access_key_id(&env.ids, "AKIA", &principal.account);
    let secret = env.ids.secret_access_key();
    let record = ingot_core::credentials::AccessKeyRecord::new(
        key_id.clone(),
        &secret,
        principal.clone(),
        &env.secrets,
        &env.ids,
        ingot_core::Clock::now(&*env.clock),
    );
    let tx = ingot_store::Tx::new(env.store.clone());
    tx.put_record(&ingot_core::credentials::access_key_storage_key(&key_id), &record);
    env.store.commit(tx.take_batch()).await.expect("access key stored");

    // Authenticated: STS answers who it is (no permission needed).
    let sts = aws_sdk_sts::Client::new(&server.sdk_config("us-east-1", &key_id, &secret));
    let me = sts.get_caller_identity().send().await.expect("GetCallerIdentity needs no permission");
    assert_eq!(me.arn(), Some(principal.arn.as_str()));
    // And denied everything else, in its protocol's words.
    let ssm = aws_sdk_ssm::Client::new(&server.sdk_config("us-east-1", &key_id, &secret));
    let err = ssm.get_parameter().name("/anything").send().await.unwrap_err().into_service_error();
    assert_eq!(aws_sdk_ssm::error::ProvideErrorMetadata::code(&err), Some("AccessDeniedException"));
    let message = aws_sdk_ssm::error::ProvideErrorMetadata::message(&err).unwrap_or("");
    assert!(message.contains("is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:"));
    let err = sts.get_access_key_info().access_key_id(&key_id).send().await.unwrap_err().into_service_error();
    assert_eq!(aws_sdk_sts::error::ProvideErrorMetadata::code(&err), Some("AccessDenied"));
    server.stop().await;
}
