//! AWS Signature Version 4 for Ingot: parsing the `Authorization` header and presigned query
//! strings, building the canonical request and the string to sign, deriving signing keys (with a
//! bounded cache keyed by a hash of the secret), verifying a received request against a secret in
//! constant time, and a signer that tests and the benchmark's load generator use to produce the
//! requests real clients (botocore, aws-sdk-rust, the AWS CLI) would send.
//!
//! It is pure computation: it must not depend on I/O, async runtimes, HTTP servers or any other
//! Ingot crate. It knows nothing about accounts or access keys: the gateway looks up the secret
//! for [`ParsedSignature::access_key_id`], checks region and service against the endpoint, and
//! maps [`AuthError`] to the protocol's error codes.
//!
//! Canonicalisation follows what AWS and its SDKs do; the choices that are not obvious:
//! - the canonical URI of non-S3 services is the received (still percent-encoded) path with its
//!   empty and dot segments removed as botocore does, percent-encoded once more, so `%2F` signs
//!   as `%252F`; the un-normalised path is tried as well, because aws-sdk-rust leaves `//` alone;
//!   for the `s3` signing name the path is used exactly as received;
//! - in a query string `+` is a literal plus (it signs as `%2B`), never a space;
//! - a presigned request without an `x-amz-content-sha256` header is checked against the hash
//!   of its body (botocore's non-S3 presigner) and against `UNSIGNED-PAYLOAD` (S3 presigners).

use std::borrow::Cow;

mod canonical;
mod error;
mod key;
mod parse;
mod sign;
mod time;
mod verify;

#[cfg(test)]
mod tests;

pub use canonical::SigningKey;
pub use error::{AuthError, MISSING_MESSAGE, SIGNATURE_MISMATCH_MESSAGE};
pub use key::{signing_key, SigningKeyCache};
pub use parse::parse;
pub use sign::{presign_query, sign_headers, SigningParams};
pub use time::amz_date;
pub use verify::{verify, verify_with_key};

/// The only algorithm this crate accepts and produces.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The payload hash that stands for "the body is not signed".
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Allowed distance between the request time and the server clock, in seconds.
pub const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// Longest `X-Amz-Expires` a presigned request may carry (seven days), in seconds.
pub const MAX_EXPIRES_SECONDS: u64 = 604_800;

/// The parts of a received request that SigV4 covers, exactly as received.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// The method as received, e.g. `GET`.
    pub method: &'a str,
    /// The raw path as received, still percent-encoded, without the query.
    pub path: &'a str,
    /// The raw query string without `?`; may be empty.
    pub query: &'a str,
    /// All received headers; `host` must be among them (the gateway copies `:authority` there).
    pub headers: &'a http::HeaderMap,
    /// The whole body.
    pub body: &'a [u8],
}

/// What the `Authorization` header or the presigned query says. Parsed from a header it borrows
/// the header's text (no copies on the hot path); from a presigned query the decoded values are
/// owned.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedSignature<'a> {
    pub access_key_id: Cow<'a, str>,
    /// `yyyymmdd` from the credential scope.
    pub date: Cow<'a, str>,
    pub region: Cow<'a, str>,
    /// The signing name from the credential scope.
    pub service: Cow<'a, str>,
    /// Lower-cased names, in the order the client listed them.
    pub signed_headers: Vec<Cow<'a, str>>,
    /// Lower-case hex.
    pub signature: Cow<'a, str>,
    /// `yyyymmddThhmmssZ`: `X-Amz-Date` (header or query), or the `Date` header converted.
    pub amz_date: Cow<'a, str>,
    /// `X-Amz-Security-Token` (query for presigned requests, else header).
    pub security_token: Option<Cow<'a, str>>,
    pub presigned: bool,
    /// `X-Amz-Expires` of a presigned request, already checked to be in `1..=604800`.
    pub expires_seconds: Option<u64>,
}

impl ParsedSignature<'_> {
    /// `yyyymmdd/region/service/aws4_request`.
    pub fn credential_scope(&self) -> String {
        let mut scope = String::with_capacity(self.date.len() + self.region.len() + self.service.len() + 15);
        for part in [&*self.date, "/", &*self.region, "/", &*self.service, "/aws4_request"] {
            scope.push_str(part);
        }
        scope
    }

    /// The same, owning its text (to keep it past the request it was parsed from).
    pub fn into_owned(self) -> ParsedSignature<'static> {
        let owned = |text: Cow<'_, str>| Cow::Owned(text.into_owned());
        ParsedSignature {
            access_key_id: owned(self.access_key_id),
            date: owned(self.date),
            region: owned(self.region),
            service: owned(self.service),
            signed_headers: self.signed_headers.into_iter().map(owned).collect(),
            signature: owned(self.signature),
            amz_date: owned(self.amz_date),
            security_token: self.security_token.map(owned),
            presigned: self.presigned,
            expires_seconds: self.expires_seconds,
        }
    }
}

impl std::fmt::Debug for ParsedSignature<'_> {
    // The session token is a credential: keep it out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedSignature")
            .field("access_key_id", &self.access_key_id)
            .field("date", &self.date)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &self.signature)
            .field("amz_date", &self.amz_date)
            .field("security_token", &self.security_token.as_ref().map(|_| "<redacted>"))
            .field("presigned", &self.presigned)
            .field("expires_seconds", &self.expires_seconds)
            .finish()
    }
}
