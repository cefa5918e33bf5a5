//! Why a request is not authenticated, with the message text AWS sends for it.

use std::fmt;

/// Message of [`AuthError::Missing`] (AWS's `MissingAuthenticationToken`).
pub const MISSING_MESSAGE: &str = "Request is missing Authentication Token";

/// AWS's `SignatureDoesNotMatch` message.
pub const SIGNATURE_MISMATCH_MESSAGE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// Each variant carries the AWS-style message to send to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization` header and no presigned query: the request is unsigned.
    Missing,
    /// The header or presigned query is malformed (AWS's `IncompleteSignature`).
    Incomplete(String),
    /// An algorithm other than `AWS4-HMAC-SHA256`.
    UnsupportedAlgorithm(String),
    /// The signature does not match (AWS's `SignatureDoesNotMatch`). `canonical_request` and
    /// `string_to_sign` are what the server computed (empty when the failure came before that),
    /// for debugging output only.
    SignatureMismatch { message: String, canonical_request: String, string_to_sign: String },
    /// Too old: the header date is outside the skew, or a presigned request is past its expiry.
    Expired(String),
    /// The request date is more than 15 minutes ahead of the server clock.
    NotYetValid(String),
}

impl AuthError {
    /// The text to send to the client.
    pub fn message(&self) -> &str {
        match self {
            AuthError::Missing => MISSING_MESSAGE,
            AuthError::Incomplete(m)
            | AuthError::UnsupportedAlgorithm(m)
            | AuthError::Expired(m)
            | AuthError::NotYetValid(m) => m,
            AuthError::SignatureMismatch { message, .. } => message,
        }
    }

    pub(crate) fn mismatch(message: impl Into<String>) -> Self {
        AuthError::SignatureMismatch {
            message: message.into(),
            canonical_request: String::new(),
            string_to_sign: String::new(),
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for AuthError {}
