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

pub const SERVICE: &str = "ssm";

#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
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
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Template {
    /// An awsJson 1.1 SSM call in `region`: `POST /` with `X-Amz-Target: AmazonSSM.<operation>`.
    pub fn ssm(addr: SocketAddr, region: &'static str, operation: &str, input: &serde_json::Value) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, host_value(addr));
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.1"));
        headers.insert(
            HeaderName::from_static("x-amz-target"),
            HeaderValue::from_str(&format!("AmazonSSM.{operation}")).expect("operation names are ASCII"),
        );
        Self {
            label: operation.to_owned(),
            region,
            method: Method::POST,
            path: "/".to_owned(),
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
            method: Method::GET,
            path: path.to_owned(),
            headers,
            body: Bytes::new(),
        }
    }

    /// The headers to send: the template's plus `x-amz-date` and `authorization`, signed at
    /// `epoch_seconds` for `ssm` in the template's region.
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
            session_token: None,
            region: self.region,
            service: SERVICE,
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

    fn request(&self, headers: HeaderMap) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.path.parse().expect("template paths are valid URIs");
        *req.headers_mut() = headers;
        req
    }
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

/// The error code of an AWS JSON error body (`__type`, namespace stripped), if any.
pub fn error_code(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let t = value.get("__type")?.as_str()?;
    Some(t.rsplit('#').next().unwrap_or(t).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        }
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
    }
}
