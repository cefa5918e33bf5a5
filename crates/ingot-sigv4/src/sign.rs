//! A signer producing what real clients send, for tests and the benchmark's load generator.

use std::collections::BTreeSet;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::canonical::{
    canonical_query, canonical_request, canonical_uri, end_canonical_headers, hex_sha256, is_s3, signature,
    string_to_sign, write_canonical_header,
};
use crate::key::signing_key;
use crate::{RequestParts, ALGORITHM, UNSIGNED_PAYLOAD};

const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Who signs, for what scope, at what time.
#[derive(Clone, Copy)]
pub struct SigningParams<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
    pub region: &'a str,
    /// The signing name, e.g. `sts`, `ssm`, `ec2`.
    pub service: &'a str,
    /// `yyyymmddThhmmssZ`; see [`crate::amz_date`].
    pub amz_date: &'a str,
}

impl std::fmt::Debug for SigningParams<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningParams")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.map(|_| "<redacted>"))
            .field("region", &self.region)
            .field("service", &self.service)
            .field("amz_date", &self.amz_date)
            .finish()
    }
}

impl SigningParams<'_> {
    fn scope(&self) -> String {
        let [day, region, service] = self.scope_parts();
        format!("{day}/{region}/{service}/aws4_request")
    }

    /// Date, region and service of the credential scope.
    fn scope_parts(&self) -> [&str; 3] {
        [self.amz_date.get(..8).unwrap_or(self.amz_date), self.region, self.service]
    }

    fn key(&self) -> [u8; 32] {
        let day = self.amz_date.get(..8).unwrap_or(self.amz_date);
        signing_key(self.secret_access_key, day, self.region, self.service)
    }
}

/// Signs a request in the `Authorization` header form, as botocore does: every header of
/// `req.headers` is signed (except `authorization`, `user-agent`, `expect` and
/// `x-amzn-trace-id`), plus `x-amz-date` and, with a session token, `x-amz-security-token`.
/// `req.headers` must include `host`; `req.path` and `req.query` are what will be sent. The payload
/// hash is an `x-amz-content-sha256` header's value if there is one, else the body's SHA-256.
///
/// Returns the headers to set, replacing any of the same name: `x-amz-date`,
/// `x-amz-security-token` (with a session token) and `authorization`.
pub fn sign_headers(req: &RequestParts<'_>, params: &SigningParams<'_>) -> Vec<(String, String)> {
    let mut names: BTreeSet<&str> = req
        .headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| !matches!(*name, "authorization" | "user-agent" | "expect" | "x-amzn-trace-id"))
        .collect();
    names.insert("x-amz-date");
    if params.session_token.is_some() {
        names.insert("x-amz-security-token");
    }

    let mut headers = Vec::with_capacity(256);
    for name in &names {
        match (*name, params.session_token) {
            ("x-amz-date", _) => {
                write_canonical_header(&mut headers, name, [params.amz_date.as_bytes()].into_iter());
            }
            ("x-amz-security-token", Some(token)) => {
                write_canonical_header(&mut headers, name, [token.as_bytes()].into_iter());
            }
            _ => {
                let values = req.headers.get_all(*name).iter().map(|v| v.as_bytes());
                write_canonical_header(&mut headers, name, values);
            }
        }
    }
    let signed_headers = names.iter().copied().collect::<Vec<_>>().join(";");
    let payload = match req.headers.get("x-amz-content-sha256") {
        Some(value) => String::from_utf8_lossy(value.as_bytes()).trim().to_owned(),
        None => hex_sha256(req.body),
    };
    end_canonical_headers(&mut headers, names.iter().copied());
    let mut creq = Vec::new();
    canonical_request(
        &mut creq,
        req.method,
        &canonical_uri(req.path, params.service),
        &canonical_query(req.query, false),
        &headers,
        &payload,
    );
    let scope = params.scope();
    let sts = string_to_sign(params.amz_date, params.scope_parts(), &creq);
    let signature = signature(&params.key(), &sts);

    let mut out = vec![("x-amz-date".to_owned(), params.amz_date.to_owned())];
    if let Some(token) = params.session_token {
        out.push(("x-amz-security-token".to_owned(), token.to_owned()));
    }
    out.push((
        "authorization".to_owned(),
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            params.access_key_id
        ),
    ));
    out
}

/// Presigns a request in the query form, as botocore's presigner does: `host` is the only signed
/// header, a session token travels (signed) as `X-Amz-Security-Token`, and the payload is the
/// hash of an empty body, or `UNSIGNED-PAYLOAD` for S3.
///
/// `query` is the request's own raw query (may be empty). Returns the full query string to send:
/// the request's parameters, then the `X-Amz-*` ones, `X-Amz-Signature` last.
pub fn presign_query(
    method: &str,
    path: &str,
    query: &str,
    host: &str,
    params: &SigningParams<'_>,
    expires_seconds: u64,
) -> String {
    let encode = |value: &str| utf8_percent_encode(value, QUERY_VALUE).to_string();
    let mut full = String::with_capacity(query.len() + 256);
    if !query.is_empty() {
        full.push_str(query);
        full.push('&');
    }
    full.push_str(&format!(
        "X-Amz-Algorithm={ALGORITHM}&X-Amz-Credential={}&X-Amz-Date={}&X-Amz-Expires={expires_seconds}&X-Amz-SignedHeaders=host",
        encode(&format!("{}/{}", params.access_key_id, params.scope())),
        encode(params.amz_date),
    ));
    if let Some(token) = params.session_token {
        full.push_str("&X-Amz-Security-Token=");
        full.push_str(&encode(token));
    }

    let mut headers = Vec::with_capacity(64);
    write_canonical_header(&mut headers, "host", [host.as_bytes()].into_iter());
    let payload = if is_s3(params.service) { UNSIGNED_PAYLOAD.to_owned() } else { hex_sha256(b"") };
    end_canonical_headers(&mut headers, ["host"].into_iter());
    let mut creq = Vec::new();
    canonical_request(
        &mut creq,
        method,
        &canonical_uri(path, params.service),
        &canonical_query(&full, true),
        &headers,
        &payload,
    );
    let sts = string_to_sign(params.amz_date, params.scope_parts(), &creq);
    full.push_str("&X-Amz-Signature=");
    full.push_str(&signature(&params.key(), &sts));
    full
}
