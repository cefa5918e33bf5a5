//! The HTTP side of the load generator: request templates, SigV4 signing with
//! `ingot_sigv4::sign_headers`, and keep-alive HTTP/1.1 connections (hyper's connection-level
//! client, one connection per task).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// The session token of temporary credentials (sent as `x-amz-security-token`).
    pub session_token: Option<String>,
}

impl Credentials {
    /// Long-term credentials: an access key without a session token.
    pub fn key(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self { access_key_id: access_key_id.into(), secret_access_key: secret_access_key.into(), session_token: None }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// One request, before signing.
#[derive(Debug, Clone)]
pub struct Template {
    /// What it is, for error reports: the operation name or `GET path`.
    pub label: String,
    /// The region of the credential scope, which picks the region the call acts in.
    region: &'static str,
    /// The signing name of the credential scope: `ssm`, `sts`, `iam`, `organizations`, `kms`.
    service: &'static str,
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Template {
    /// An awsJson 1.1 SSM call in `region`: `POST /` with `X-Amz-Target: AmazonSSM.<operation>`.
    pub fn ssm(addr: SocketAddr, region: &'static str, operation: &str, input: &serde_json::Value) -> Self {
        Self::aws_json(addr, region, "ssm", &format!("AmazonSSM.{operation}"), input)
    }

    /// An awsJson 1.1 call signed for `service` in `region`: `POST /` with `X-Amz-Target:
    /// <target>` (e.g. `AWSOrganizationsV20161128.CreateAccount`); labelled by the operation, the
    /// part of the target after its last `.`.
    pub fn aws_json(
        addr: SocketAddr,
        region: &'static str,
        service: &'static str,
        target: &str,
        input: &serde_json::Value,
    ) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, host_value(addr));
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.1"));
        headers
            .insert(HeaderName::from_static("x-amz-target"), HeaderValue::from_str(target).expect("targets are ASCII"));
        Self {
            label: target.rsplit('.').next().unwrap_or(target).to_owned(),
            region,
            service,
            method: Method::POST,
            path: "/".to_owned(),
            headers,
            body: Bytes::from(input.to_string()),
        }
    }

    /// An awsQuery call signed for `service` in `region`: `POST /` with the form body
    /// `Action=<action>&Version=<version>&<params…>`, every name and value percent-encoded.
    pub fn query(
        addr: SocketAddr,
        region: &'static str,
        service: &'static str,
        action: &str,
        version: &str,
        params: &[(&str, &str)],
    ) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, host_value(addr));
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        let mut fields = vec![("Action", action), ("Version", version)];
        fields.extend_from_slice(params);
        Self {
            label: action.to_owned(),
            region,
            service,
            method: Method::POST,
            path: "/".to_owned(),
            headers,
            body: Bytes::from(form_encode(&fields)),
        }
    }

    /// A restJson1 call signed for `service` in `region`: `POST <path>` with a JSON body and
    /// `Content-Type: application/json` (e.g. RAM's `POST /createresourceshare`); labelled
    /// `operation`.
    pub fn rest_json(
        addr: SocketAddr,
        region: &'static str,
        service: &'static str,
        operation: &str,
        path: &str,
        input: &serde_json::Value,
    ) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, host_value(addr));
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Self {
            label: operation.to_owned(),
            region,
            service,
            method: Method::POST,
            path: path.to_owned(),
            headers,
            body: Bytes::from(input.to_string()),
        }
    }

    /// A `GET` of `path` with an empty body (signed for us-east-1).
    pub fn get(addr: SocketAddr, path: &str) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, host_value(addr));
        Self {
            label: format!("GET {path}"),
            region: "us-east-1",
            service: "ssm",
            method: Method::GET,
            path: path.to_owned(),
            headers,
            body: Bytes::new(),
        }
    }

    /// The headers to send: the template's plus `x-amz-date` and `authorization`, signed at
    /// `epoch_seconds` for the template's service and region (and `x-amz-security-token` with
    /// temporary credentials).
    pub fn signed_headers(&self, creds: &Credentials, epoch_seconds: i64) -> HeaderMap {
        let amz_date = ingot_sigv4::amz_date(epoch_seconds);
        let (path, query) = self.path.split_once('?').unwrap_or((&self.path, ""));
        let parts = ingot_sigv4::RequestParts {
            method: self.method.as_str(),
            path,
            query,
            headers: &self.headers,
            body: &self.body,
        };
        let params = ingot_sigv4::SigningParams {
            access_key_id: &creds.access_key_id,
            secret_access_key: &creds.secret_access_key,
            session_token: creds.session_token.as_deref(),
            region: self.region,
            service: self.service,
            amz_date: &amz_date,
        };
        let mut headers = self.headers.clone();
        for (name, value) in ingot_sigv4::sign_headers(&parts, &params) {
            if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
                headers.insert(name, value);
            }
        }
        headers
    }

    /// The body as text, for tests to read what a template sends.
    #[cfg(test)]
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn request(&self, headers: HeaderMap) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.path.parse().expect("template paths are valid URIs");
        *req.headers_mut() = headers;
        req
    }
}

/// `application/x-www-form-urlencoded` as AWS's query protocols read it: `name=value` pairs
/// joined by `&`, every byte but the unreserved ones (`A–Z a–z 0–9 - _ . ~`) as `%XX` (so a
/// space is `%20`, which every form decoder reads, rather than `+`).
pub fn form_encode(fields: &[(&str, &str)]) -> String {
    fn push(out: &mut String, s: &str) {
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                out.push(b as char);
            } else {
                out.push('%');
                out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
                out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
            }
        }
    }
    let mut out = String::new();
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        push(&mut out, name);
        out.push('=');
        push(&mut out, value);
    }
    out
}

fn host_value(addr: SocketAddr) -> HeaderValue {
    HeaderValue::from_str(&addr.to_string()).expect("socket addresses are valid header values")
}

/// Seconds since the epoch.
pub fn now_epoch() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Signed headers per template, kept for the second they were signed in: a connection that sends
/// the same request back to back signs it once a second (every request still carries a valid
/// signature, which the server verifies each time), so the load generator spends its share of
/// the CPU on sending requests rather than on HMACs.
#[derive(Debug, Default)]
pub struct SignCache {
    entries: Vec<Option<(i64, HeaderMap)>>,
}

impl SignCache {
    pub fn headers(&mut self, index: usize, template: &Template, creds: &Credentials) -> HeaderMap {
        if self.entries.len() <= index {
            self.entries.resize(index + 1, None);
        }
        let now = now_epoch();
        match &self.entries[index] {
            Some((at, headers)) if *at == now => headers.clone(),
            _ => {
                let headers = template.signed_headers(creds, now);
                self.entries[index] = Some((now, headers.clone()));
                headers
            }
        }
    }
}

/// A keep-alive HTTP/1.1 connection that reconnects after a failure.
pub struct Conn {
    addr: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// Connections opened after the first one (the server closed one, or it failed).
    pub reconnects: u64,
    opened: bool,
}

impl Conn {
    pub fn new(addr: SocketAddr) -> Self {
        Self { addr, sender: None, reconnects: 0, opened: false }
    }

    async fn open(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>> {
        let stream = tokio::net::TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// Sends one request and reads the whole response.
    pub async fn send(&mut self, template: &Template, headers: HeaderMap) -> Result<(StatusCode, Bytes)> {
        let result = self.try_send(template, headers).await;
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    async fn try_send(&mut self, template: &Template, headers: HeaderMap) -> Result<(StatusCode, Bytes)> {
        let mut req = template.request(headers);
        // At most one retry, and only of a request the connection never sent (it was closing).
        for attempt in 0..2 {
            if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
                if self.opened {
                    self.reconnects += 1;
                }
                self.sender = Some(Self::open(self.addr).await?);
                self.opened = true;
            }
            let sender = self.sender.as_mut().ok_or_else(|| anyhow!("no connection"))?;
            let sent = match sender.ready().await {
                Ok(()) => sender.try_send_request(req).await,
                Err(_) if attempt == 0 => {
                    self.sender = None;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            match sent {
                Ok(resp) => {
                    // moto's server answers every request with `Connection: close`: open the
                    // next connection up front instead of racing the close.
                    let closing = resp
                        .headers()
                        .get(http::header::CONNECTION)
                        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
                    let status = resp.status();
                    let body = resp.into_body().collect().await?.to_bytes();
                    if closing {
                        self.sender = None;
                    }
                    return Ok((status, body));
                }
                Err(mut e) => match e.take_message() {
                    Some(unsent) if attempt == 0 => {
                        self.sender = None;
                        req = unsent;
                    }
                    _ => return Err(e.into_error().into()),
                },
            }
        }
        Err(anyhow!("the connection closed twice before the request was sent"))
    }
}

/// One unsigned `GET` on a fresh connection, with a short timeout: is anyone answering?
pub async fn probe_get(addr: SocketAddr, path: &str) -> Result<StatusCode> {
    let attempt = async {
        let mut conn = Conn::new(addr);
        let template = Template::get(addr, path);
        let headers = template.headers.clone();
        conn.send(&template, headers).await.map(|(status, _)| status)
    };
    tokio::time::timeout(Duration::from_secs(2), attempt).await.map_err(|_| anyhow!("no answer within 2 s"))?
}

/// The error code of an AWS error body, if any: a JSON body's `__type` (namespace stripped) or
/// an XML body's `<Code>`.
pub fn error_code(body: &[u8]) -> Option<String> {
    if body.first() == Some(&b'<') {
        return xml_text(std::str::from_utf8(body).ok()?, "Code");
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let t = value.get("__type")?.as_str()?;
    Some(t.rsplit('#').next().unwrap_or(t).to_owned())
}

/// The text of the first `<tag>…</tag>` element of `xml` (an element without attributes),
/// entities decoded. Enough for the few answers the benchmark reads (STS and IAM results, error
/// codes); not a general XML parser.
pub fn xml_text(xml: &str, tag: &str) -> Option<String> {
    xml_inner(xml, tag).map(xml_unescape)
}

/// What lies between the first `<tag>` and the following `</tag>` of `xml`, as written.
pub fn xml_inner<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&close)?;
    Some(&xml[start..start + len])
}

/// `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;` and numeric character references decoded.
fn xml_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').and_then(|end| {
            let entity = &rest[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let code = match entity.strip_prefix("#x").or_else(|| entity.strip_prefix("#X")) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => entity.strip_prefix('#').and_then(|d| d.parse().ok()),
                    };
                    code.and_then(char::from_u32)
                }
            };
            c.map(|c| (c, end + 1))
        });
        match decoded {
            Some((c, used)) => {
                out.push(c);
                rest = &rest[used..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The credentials in an STS answer (`<Credentials>` of AssumeRole, GetSessionToken, …: key,
/// secret and session token) or an IAM CreateAccessKey answer (`<AccessKey>`: key and secret).
pub fn parse_xml_credentials(xml: &str) -> Result<Credentials> {
    let block = xml_inner(xml, "Credentials")
        .or_else(|| xml_inner(xml, "AccessKey"))
        .ok_or_else(|| anyhow!("no <Credentials> or <AccessKey> in the answer"))?;
    let field = |tag: &str| xml_text(block, tag).filter(|v| !v.is_empty());
    Ok(Credentials {
        access_key_id: field("AccessKeyId").ok_or_else(|| anyhow!("no AccessKeyId in the answer"))?,
        secret_access_key: field("SecretAccessKey").ok_or_else(|| anyhow!("no SecretAccessKey in the answer"))?,
        session_token: field("SessionToken"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials::key("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    }

    #[test]
    fn ssm_templates_are_signed_for_ssm() {
        let addr: SocketAddr = "127.0.0.1:4566".parse().unwrap();
        let t = Template::ssm(addr, "us-east-1", "GetParameter", &serde_json::json!({"Name": "/a"}));
        let h = t.signed_headers(&creds(), 1_700_000_000);
        assert_eq!(h["x-amz-target"], "AmazonSSM.GetParameter");
        assert_eq!(h["host"], "127.0.0.1:4566");
        assert_eq!(h["x-amz-date"], "20231114T221320Z");
        let auth = h["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/ssm/aws4_request"),
            "{auth}"
        );
        assert!(auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target"), "{auth}");
        // Deterministic: same input, same signature.
        assert_eq!(t.signed_headers(&creds(), 1_700_000_000)["authorization"], h["authorization"]);
    }

    #[test]
    fn sign_cache_reuses_within_a_second() {
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let a = Template::get(addr, "/_ingot/ping");
        let b = Template::ssm(addr, "eu-west-1", "GetParameter", &serde_json::json!({}));
        let mut cache = SignCache::default();
        let ha = cache.headers(3, &a, &creds());
        let hb = cache.headers(0, &b, &creds());
        assert_ne!(ha["authorization"], hb["authorization"]);
        assert!(hb["authorization"].to_str().unwrap().contains("/eu-west-1/ssm/aws4_request"));
        let again = cache.headers(3, &a, &creds());
        // Equal unless the second turned over in between, in which case the date moved too.
        assert_eq!(again["authorization"] == ha["authorization"], again["x-amz-date"] == ha["x-amz-date"]);
    }

    #[test]
    fn form_encoding_escapes_everything_but_unreserved_bytes() {
        assert_eq!(form_encode(&[]), "");
        assert_eq!(
            form_encode(&[("Action", "AssumeRole"), ("Version", "2011-06-15")]),
            "Action=AssumeRole&Version=2011-06-15"
        );
        assert_eq!(
            form_encode(&[
                ("RoleArn", "arn:aws:iam::123456789012:role/bench-reader"),
                ("RoleSessionName", "a b~c_d.e")
            ]),
            "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fbench-reader&RoleSessionName=a%20b~c_d.e"
        );
        assert_eq!(
            form_encode(&[("PolicyDocument", r#"{"Action":"s3:*","Resource":"*"}"#)]),
            "PolicyDocument=%7B%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D"
        );
        // Names too, and bytes beyond ASCII one by one; `+`, `&` and `=` never pass through.
        assert_eq!(form_encode(&[("Tags.member.1.Key", "é+&=")]), "Tags.member.1.Key=%C3%A9%2B%26%3D");
    }

    #[test]
    fn query_templates_carry_the_form_and_sign_for_their_service() {
        let addr: SocketAddr = "127.0.0.1:4566".parse().unwrap();
        let t = Template::query(
            addr,
            "us-east-1",
            "sts",
            "AssumeRole",
            "2011-06-15",
            &[("RoleArn", "arn:aws:iam::123456789012:role/r"), ("RoleSessionName", "bench")],
        );
        assert_eq!(t.label, "AssumeRole");
        assert_eq!(
            &t.body[..],
            b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=bench"
        );
        let h = t.signed_headers(&creds(), 1_700_000_000);
        assert_eq!(h["content-type"], "application/x-www-form-urlencoded; charset=utf-8");
        assert!(h.get("x-amz-target").is_none());
        assert!(h.get("x-amz-security-token").is_none());
        let auth = h["authorization"].to_str().unwrap();
        assert!(auth.contains("/20231114/us-east-1/sts/aws4_request"), "{auth}");
        assert!(auth.contains("SignedHeaders=content-type;host;x-amz-date,"), "{auth}");
    }

    #[test]
    fn rest_json_templates_post_to_their_path_and_sign_for_their_service() {
        let addr: SocketAddr = "127.0.0.1:4566".parse().unwrap();
        let input = serde_json::json!({ "name": "share", "allowExternalPrincipals": false });
        let t = Template::rest_json(addr, "us-east-1", "ram", "CreateResourceShare", "/createresourceshare", &input);
        assert_eq!(t.label, "CreateResourceShare");
        assert_eq!((t.method.as_str(), t.path.as_str()), ("POST", "/createresourceshare"));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&t.body_text()).unwrap(), input);
        let h = t.signed_headers(&creds(), 1_700_000_000);
        assert_eq!(h["content-type"], "application/json");
        assert!(h.get("x-amz-target").is_none());
        let auth = h["authorization"].to_str().unwrap();
        assert!(auth.contains("/20231114/us-east-1/ram/aws4_request"), "{auth}");
        assert!(auth.contains("SignedHeaders=content-type;host;x-amz-date,"), "{auth}");
    }

    #[test]
    fn session_credentials_add_the_security_token() {
        let addr: SocketAddr = "127.0.0.1:4566".parse().unwrap();
        let t = Template::aws_json(
            addr,
            "us-east-1",
            "organizations",
            "AWSOrganizationsV20161128.ListRoots",
            &serde_json::json!({}),
        );
        assert_eq!(t.label, "ListRoots");
        let mut session = creds();
        session.session_token = Some("FwoGZXIvYXdzEBYaDH7+token/==".into());
        let h = t.signed_headers(&session, 1_700_000_000);
        assert_eq!(h["x-amz-target"], "AWSOrganizationsV20161128.ListRoots");
        assert_eq!(h["x-amz-security-token"], "FwoGZXIvYXdzEBYaDH7+token/==");
        let auth = h["authorization"].to_str().unwrap();
        assert!(auth.contains("/us-east-1/organizations/aws4_request"), "{auth}");
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target"),
            "{auth}"
        );
        // The token is part of the signature.
        assert_ne!(t.signed_headers(&creds(), 1_700_000_000)["authorization"], h["authorization"]);
    }

    #[test]
    fn credentials_from_an_assume_role_answer() {
        let xml = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:bench</AssumedRoleId>
      <Arn>arn:aws:sts::123456789012:assumed-role/bench-reader/bench</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <SessionToken>AQoDYXdzEPT//////////wEXAMPLEtc764+bNrDaEqRbV/4a==</SessionToken>
      <Expiration>2026-12-07T00:00:00Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>"#;
        let c = parse_xml_credentials(xml).unwrap();
        assert_eq!(c.access_key_id, "ASIAIOSFODNN7EXAMPLE");
        assert_eq!(c.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
        assert_eq!(c.session_token.as_deref(), Some("AQoDYXdzEPT//////////wEXAMPLEtc764+bNrDaEqRbV/4a=="));
        assert_eq!(xml_text(xml, "Arn").as_deref(), Some("arn:aws:sts::123456789012:assumed-role/bench-reader/bench"));
    }

    #[test]
    fn credentials_from_a_create_access_key_answer() {
        let xml =
            "<CreateAccessKeyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><CreateAccessKeyResult>\
                   <AccessKey><UserName>bench-admin</UserName><AccessKeyId>AKIAIOSFODNN7EXAMPLE</AccessKeyId>\
                   <Status>Active</Status><SecretAccessKey>a&amp;b/c+d</SecretAccessKey>\
                   <CreateDate>2026-12-06T00:00:00Z</CreateDate></AccessKey></CreateAccessKeyResult>\
                   <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></CreateAccessKeyResponse>";
        let c = parse_xml_credentials(xml).unwrap();
        assert_eq!(c.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(c.secret_access_key, "a&b/c+d");
        assert_eq!(c.session_token, None);
        assert!(parse_xml_credentials("<CreateUserResponse><User/></CreateUserResponse>").is_err());
        assert!(parse_xml_credentials("<Credentials><AccessKeyId>A</AccessKeyId></Credentials>").is_err());
    }

    #[test]
    fn xml_entities() {
        assert_eq!(
            xml_unescape("a &lt;b&gt; &quot;c&quot; &apos;d&apos; &#65;&#x42; &amp;amp; & ;"),
            "a <b> \"c\" 'd' AB &amp; & ;"
        );
        assert_eq!(xml_text("<a><b>1</b><b>2</b></a>", "b").as_deref(), Some("1"));
        assert_eq!(xml_text("<a><b>1</a>", "b"), None);
    }

    #[test]
    fn error_codes() {
        assert_eq!(
            error_code(br#"{"__type":"com.amazonaws.ssm#ParameterNotFound","message":"x"}"#).as_deref(),
            Some("ParameterNotFound")
        );
        assert_eq!(
            error_code(br#"{"__type":"UnknownOperationException"}"#).as_deref(),
            Some("UnknownOperationException")
        );
        assert_eq!(error_code(b"<html>"), None);
        assert_eq!(
            error_code(
                b"<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>\
                  <Code>EntityAlreadyExists</Code><Message>User with name bench-admin already exists.</Message></Error>\
                  <RequestId>r</RequestId></ErrorResponse>"
            )
            .as_deref(),
            Some("EntityAlreadyExists")
        );
    }
}
