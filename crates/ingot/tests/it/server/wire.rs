//! Wire-level behaviour that SDKs hide: envelopes, error codes and statuses per protocol.

use crate::support::TestServer;

const JSON11: (&str, &str) = ("content-type", "application/x-amz-json-1.1");
const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded; charset=utf-8");

#[tokio::test]
async fn json_errors_carry_type_header_and_request_id() {
    let server = TestServer::start().await;
    let r = server
        .raw("POST", "/", &[JSON11, ("x-amz-target", "AmazonSSM.GetParameter")], br#"{"Name":"/absent"}"#, Some("ssm"))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.headers.get("x-amzn-errortype").map(String::as_str), Some("ParameterNotFound"));
    assert!(r.headers.contains_key("x-amzn-requestid"));
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["__type"], "ParameterNotFound");
    server.stop().await;
}

#[tokio::test]
async fn malformed_json_is_a_serialization_exception_and_changes_nothing() {
    let server = TestServer::start().await;
    let r = server
        .raw("POST", "/", &[JSON11, ("x-amz-target", "AmazonSSM.PutParameter")], b"{\"Name\": ", Some("ssm"))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("SerializationException"), "{}", r.body);
    server.stop().await;
}

#[tokio::test]
async fn query_errors_use_the_error_response_envelope() {
    let server = TestServer::start().await;
    let r = server.raw("POST", "/", &[FORM], b"Action=NoSuchThing&Version=2011-06-15", Some("sts")).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("<ErrorResponse"), "{}", r.body);
    assert!(r.body.contains("<Code>InvalidAction</Code>"), "{}", r.body);
    assert!(r.body.contains("<RequestId>"), "{}", r.body);
    server.stop().await;
}

#[tokio::test]
async fn ec2_errors_use_the_response_errors_envelope() {
    let server = TestServer::start().await;
    let r = server.raw("POST", "/", &[FORM], b"Action=DescribeRegions&Version=2016-11-15&Nope=1", Some("ec2")).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("<Response><Errors><Error><Code>UnknownParameter</Code>"), "{}", r.body);
    assert!(r.body.contains("<RequestID>"), "{}", r.body);
    server.stop().await;
}

#[tokio::test]
async fn ec2_describe_regions_answers_in_the_ec2_envelope() {
    let server = TestServer::start().await;
    let r = server
        .raw("POST", "/", &[FORM], b"Action=DescribeRegions&Version=2016-11-15&RegionName.1=us-east-1", Some("ec2"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<DescribeRegionsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"));
    assert!(r.body.contains("<regionInfo><item>"), "{}", r.body);
    assert!(r.body.contains("<regionName>us-east-1</regionName>"), "{}", r.body);
    assert!(!r.body.contains("<regionName>us-west-2</regionName>"), "{}", r.body);
    server.stop().await;
}

#[tokio::test]
async fn restjson_list_resource_types_answers_json() {
    let server = TestServer::start().await;
    let r = server.raw("POST", "/listresourcetypes", &[("content-type", "application/json")], b"{}", Some("ram")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert!(body["resourceTypes"].as_array().unwrap().iter().any(|t| t["resourceType"] == "ssm:Parameter"));
    server.stop().await;
}

#[tokio::test]
async fn unsigned_requests_are_refused_in_each_family() {
    let server = TestServer::start().await;
    let r = server.raw("POST", "/", &[FORM], b"Action=GetCallerIdentity&Version=2011-06-15", None).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("<Code>MissingAuthenticationToken</Code>"), "{}", r.body);
    let r = server.raw("POST", "/", &[FORM], b"Action=DescribeRegions&Version=2016-11-15", None).await;
    assert!(r.body.contains("<Code>AuthFailure</Code>"), "{}", r.body);
    let r = server.raw("POST", "/", &[JSON11, ("x-amz-target", "AmazonSSM.GetParameter")], b"{}", None).await;
    assert!(r.body.contains("MissingAuthenticationTokenException"), "{}", r.body);
    server.stop().await;
}

#[tokio::test]
async fn a_request_signed_more_than_fifteen_minutes_ago_is_expired() {
    let server = TestServer::start().await;
    let body = b"Action=GetCallerIdentity&Version=2011-06-15";
    let host = server.running().addr().to_string();
    let mut headers = http::HeaderMap::new();
    headers.insert("host", host.parse().unwrap());
    headers.insert("content-type", FORM.1.parse().unwrap());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let signed = crate::support::sign(
        &headers,
        "POST",
        "/",
        "",
        body,
        "sts",
        &server.access_key_id(),
        &server.secret(),
        now - 16 * 60,
    );
    let extra: Vec<(String, String)> = signed;
    let pairs: Vec<(&str, &str)> =
        std::iter::once(FORM).chain(extra.iter().map(|(k, v)| (k.as_str(), v.as_str()))).collect();
    let r = server.raw("POST", "/", &pairs, body, None).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("Signature expired"), "{}", r.body);
    server.stop().await;
}

#[tokio::test]
async fn the_health_endpoint_reports_the_backend() {
    let server = TestServer::start().await;
    let r = server.raw("GET", "/_ingot/health", &[], b"", None).await;
    assert_eq!(r.status, 200);
    let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["status"], "ready");
    assert!(body["backend"] == "sqlite" || body["backend"] == "postgres");
    server.stop().await;
}

#[tokio::test]
async fn reset_is_refused_unless_enabled() {
    let server = TestServer::start_with(|c| c.enable_reset = false).await;
    let r = server.raw("POST", "/_ingot/reset", &[], b"", None).await;
    assert_eq!(r.status, 404);
    server.stop().await;
}

#[tokio::test]
async fn advancing_the_clock_does_not_expire_freshly_signed_requests() {
    let server = TestServer::start_with(|c| c.enable_clock_control = true).await;
    let r = server.raw("POST", "/_ingot/clock?advance=86400", &[], b"", Some("ingot")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = server.sts().get_caller_identity().send().await.expect("signature checked against real time");
    assert_eq!(id.account(), Some(server.account().as_str()));
    server.stop().await;
}

#[tokio::test]
async fn clock_control_is_refused_unless_enabled() {
    let server = TestServer::start().await;
    let r = server.raw("POST", "/_ingot/clock?advance=60", &[], b"", None).await;
    assert_eq!(r.status, 404);
    server.stop().await;
}

#[tokio::test]
async fn admin_endpoints_refuse_unsigned_calls_and_signatures_for_other_services() {
    let server = TestServer::start_with(|c| c.enable_clock_control = true).await;
    let unsigned = server.raw("POST", "/_ingot/clock?advance=60", &[], b"", None).await;
    assert_eq!(unsigned.status, 403, "{}", unsigned.body);
    let code = unsigned.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("x-amzn-errortype")).map(|(_, v)| v);
    assert!(code.is_some_and(|c| c.starts_with("MissingAuthenticationTokenException")), "{:?}", unsigned.headers);
    let wrong_service = server.raw("POST", "/_ingot/clock?advance=60", &[], b"", Some("sts")).await;
    assert_eq!(wrong_service.status, 400, "{}", wrong_service.body);
    let health = server.raw("GET", "/_ingot/health", &[], b"", None).await;
    assert_eq!(health.status, 200);
    server.stop().await;
}
