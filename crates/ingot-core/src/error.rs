//! Errors as handlers and the gateway produce them, before a protocol codec renders them.
//!
//! A service's modeled errors are its generated `<Service>Error` enum; everything every service
//! can answer (access denied, validation, authentication, internal failures) is a [`CommonError`].
//! Neither carries wire names of a protocol: each codec's single error encoder maps a
//! [`CommonKind`] to its own code and status.

use serde_json::{Map, Value};

/// Failures every service shares. The codec decides the wire code for each protocol family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommonKind {
    /// The principal is not allowed to perform the action.
    AccessDenied,
    /// Input breaks a modeled constraint or a documented rule.
    Validation,
    /// A required query/form parameter is absent (query protocols report it separately).
    MissingParameter,
    /// The request body cannot be parsed as the protocol's format.
    Serialization,
    /// The operation is not part of the service's API.
    UnknownOperation,
    /// The service or operation exists in AWS but Ingot does not serve it.
    NotImplemented,
    /// No `Authorization` header or presigned query and no session token.
    MissingAuthentication,
    /// The `Authorization` header or presigned query is malformed.
    IncompleteSignature,
    /// The access key id is not known.
    InvalidClientTokenId,
    /// The signature does not match the request.
    SignatureDoesNotMatch,
    /// The request time is outside the allowed skew.
    RequestExpired,
    /// The temporary credentials the request was signed with have expired.
    ExpiredToken,
    /// A request parameter the operation does not know (ec2Query rejects these).
    UnknownParameter,
    /// The request body exceeds the limit.
    RequestTooLarge,
    /// A bug or backend failure; the detail is logged, never sent.
    InternalFailure,
    /// The backend is overloaded or a commit kept conflicting.
    ServiceUnavailable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommonError {
    pub kind: CommonKind,
    pub message: String,
}

impl CommonError {
    pub fn new(kind: CommonKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(CommonKind::AccessDenied, message)
    }
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(CommonKind::Validation, message)
    }
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        // The detail stays in the log; clients see AWS's generic text.
        tracing::error!(%detail, "internal failure");
        Self::new(CommonKind::InternalFailure, "An internal error occurred.")
    }
    pub fn unknown_operation(name: &str) -> Self {
        Self::new(CommonKind::UnknownOperation, format!("The action {name} is not valid for this endpoint."))
    }
}

impl std::fmt::Display for CommonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for CommonError {}

impl From<ingot_store::StoreError> for CommonError {
    fn from(e: ingot_store::StoreError) -> Self {
        CommonError::internal(e)
    }
}

/// A modeled error of a service, ready for a codec.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeledError {
    /// Wire code (the shape name, or the model's awsQuery code).
    pub code: &'static str,
    pub status: u16,
    pub sender_fault: bool,
    pub message: Option<String>,
    /// Modeled members other than the message, keyed by member name (canonical value).
    pub fields: Map<String, Value>,
}

/// What a service call failed with.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceFailure {
    Modeled(ModeledError),
    Common(CommonError),
}

impl ServiceFailure {
    pub fn code_for_audit(&self) -> String {
        match self {
            ServiceFailure::Modeled(m) => m.code.to_string(),
            ServiceFailure::Common(c) => format!("{:?}", c.kind),
        }
    }
    pub fn message(&self) -> Option<&str> {
        match self {
            ServiceFailure::Modeled(m) => m.message.as_deref(),
            ServiceFailure::Common(c) => Some(&c.message),
        }
    }
}

impl From<CommonError> for ServiceFailure {
    fn from(e: CommonError) -> Self {
        ServiceFailure::Common(e)
    }
}

/// Implemented by each generated `<Service>Error` enum.
pub trait ServiceError: From<CommonError> + Send + 'static {
    fn into_failure(self) -> ServiceFailure;
}
