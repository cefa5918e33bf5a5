//! Identity across services: IAM entities made over the wire (awsQuery, raw signed requests),
//! their sessions through `aws-sdk-sts`, and what the rest of Ingot sees of them: decisions and
//! audit records.

mod decisions;

use crate::support::TestServer;

/// An IAM call as the management account's root (awsQuery form, signed for `iam`); the answer's
/// XML.
pub async fn iam(server: &TestServer, form: &[(&str, &str)]) -> String {
    let mut body = String::from("Version=2010-05-08");
    for (name, value) in form {
        body.push('&');
        body.push_str(name);
        body.push('=');
        body.push_str(&percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string());
    }
    let headers = [("content-type", "application/x-www-form-urlencoded; charset=utf-8")];
    let r = server.raw("POST", "/", &headers, body.as_bytes(), Some("iam")).await;
    assert_eq!(r.status, 200, "IAM {form:?}: {}", r.body);
    r.body
}

/// The text of the first `<tag>` in `xml`.
pub fn xml_text<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = xml.find(&open).map(|i| i + open.len()).unwrap_or_else(|| panic!("no <{tag}> in {xml}"));
    let end = xml[start..].find('<').map(|i| start + i).unwrap_or(xml.len());
    &xml[start..end]
}

/// A user with `policy` inline and an access key: (key id, secret).
pub async fn user_with_key(server: &TestServer, name: &str, policy: &str) -> (String, String) {
    iam(server, &[("Action", "CreateUser"), ("UserName", name)]).await;
    iam(server, &[("Action", "PutUserPolicy"), ("UserName", name), ("PolicyName", "p"), ("PolicyDocument", policy)])
        .await;
    let key = iam(server, &[("Action", "CreateAccessKey"), ("UserName", name)]).await;
    (xml_text(&key, "AccessKeyId").to_string(), xml_text(&key, "SecretAccessKey").to_string())
}
