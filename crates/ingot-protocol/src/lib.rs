//! Ingot's wire codecs for awsJson 1.0/1.1, restJson1, awsQuery and ec2Query, driven entirely by
//! the generated shape metadata ([`ingot_core::model`]).
//!
//! This crate owns the protocol boundary: it turns an HTTP request into the operation and the
//! canonical input value ([`decode_request`]), validates that value against the model's
//! constraints with AWS's wording ([`validate::validate`]), renders canonical outputs as HTTP
//! responses ([`encode_response`]), renders every failure through the one error encoder per
//! protocol ([`encode_error`]), and keeps the single table that maps a
//! [`CommonKind`](ingot_core::CommonKind) to each protocol family's wire code and status
//! ([`wire::common_wire`]). It also strips `sensitive` values for the audit trail ([`write_redacted`]).
//! Apart from generated code, only this crate contains wire names.
//!
//! It depends on `ingot-core` and small encoding crates only. It must not depend on the gateway,
//! the store, SigV4 or any service crate, and it performs no I/O: bytes in, bytes out.
//!
//! Layout: `aws_json`, `rest_json` and `query` (awsQuery and ec2Query) decode requests and encode
//! successes; `errors` is the error encoder; `json` and `xml` are the body formats; `validate`,
//! `redact`, `timefmt` and `shapes` are shared helpers; `fuzzing` exposes the fuzz entry points
//! over the hand-written test models in `testmodels`.

mod aws_json;
mod errors;
pub mod fuzzing;
mod json;
mod query;
mod redact;
mod rest_json;
mod shapes;
#[cfg(test)]
mod test_support;
#[doc(hidden)]
pub mod testmodels;
mod timefmt;
pub mod validate;
pub mod wire;
mod xml;

use ingot_core::model::{OperationModel, Protocol, ServiceModel, ShapeId};
use ingot_core::{CommonError, OperationOutput, ServiceFailure};
use serde_json::Value;
use std::borrow::Cow;

pub use errors::encode_service_error;
pub use redact::HIDDEN;

/// The awsJson operation header, as a `HeaderName` (a lookup by `&str` parses the name each time).
pub const X_AMZ_TARGET: http::HeaderName = http::HeaderName::from_static("x-amz-target");

/// An HTTP request as the gateway received it.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    pub method: &'a str,
    /// Raw, percent-encoded path without the query.
    pub path: &'a str,
    /// Raw query string without `?`.
    pub query: &'a str,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
}

/// An HTTP response ready to be written by the gateway (which adds `Content-Length`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Names and values; the fixed ones (`Content-Type` and its value, say) borrowed, so that a
    /// response does not allocate them.
    pub headers: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| &**v)
    }
}

/// Finds the operation (X-Amz-Target for JSON; Action form/query parameter for query protocols;
/// method + URI template for restJson1), decodes the input into the canonical value, and
/// validates it against the model's constraints.
///
/// Failures are [`CommonError`]s the caller renders with [`encode_error`]: `UnknownOperation`,
/// `Serialization` (malformed input), `UnknownParameter` (ec2Query), `MissingParameter` (query
/// protocols) and `Validation`. An operation without an input shape decodes to `{}`.
pub fn decode_request(
    model: &'static ServiceModel,
    req: &HttpRequest,
) -> Result<(&'static OperationModel, Value), CommonError> {
    match model.protocol {
        Protocol::AwsJson1_0 | Protocol::AwsJson1_1 => aws_json::decode(model, req),
        Protocol::RestJson1 => rest_json::decode(model, req),
        Protocol::AwsQuery => query::decode(model, req, query::Dialect::Query),
        Protocol::Ec2Query => query::decode(model, req, query::Dialect::Ec2),
    }
}

/// Renders a handler's `output` of `op` as the protocol's success response. `value` is its
/// canonical value when the caller already built it (for the audit trail); without it an awsJson
/// output whose canonical JSON is its wire form ([`aws_json::canonical_json_is_wire`]) is
/// written straight from the typed output.
pub fn encode_output(
    model: &'static ServiceModel,
    op: &'static OperationModel,
    output: &dyn OperationOutput,
    value: Option<&Value>,
    request_id: &str,
) -> Result<HttpResponse, CommonError> {
    if let Some(value) = value {
        return Ok(encode_response(model, op, value, request_id));
    }
    if matches!(model.protocol, Protocol::AwsJson1_0 | Protocol::AwsJson1_1) {
        if let Some(response) = aws_json::encode_typed_response(model, op, output, request_id)? {
            return Ok(response);
        }
    }
    Ok(encode_response(model, op, &output.to_value()?, request_id))
}

/// Renders the canonical `output` of `op` as the protocol's success response.
pub fn encode_response(
    model: &'static ServiceModel,
    op: &'static OperationModel,
    output: &Value,
    request_id: &str,
) -> HttpResponse {
    match model.protocol {
        Protocol::AwsJson1_0 | Protocol::AwsJson1_1 => aws_json::encode_response(model, op, output, request_id),
        Protocol::RestJson1 => rest_json::encode_response(model, op, output, request_id),
        Protocol::AwsQuery => query::encode_query_response(model, op, output, request_id),
        Protocol::Ec2Query => query::encode_ec2_response(model, op, output, request_id),
    }
}

/// The one error encoder per protocol. `xml_namespace` is the service's (query protocols).
///
/// Modeled error fields are written from their canonical keys; [`encode_service_error`] does the
/// same with the service model at hand, which also applies wire names, timestamp formats, header
/// bindings and the casing of the message member (`Message` vs `message`).
pub fn encode_error(
    protocol: Protocol,
    xml_namespace: Option<&str>,
    failure: &ServiceFailure,
    request_id: &str,
) -> HttpResponse {
    errors::encode(protocol, xml_namespace, failure, request_id, None)
}

/// Appends a canonical value to `out` as JSON with `sensitive` values replaced by
/// "HIDDEN_DUE_TO_SECURITY_REASONS" and member names in lower camel case: the audit trail's
/// `requestParameters` and `responseElements`.
pub fn write_redacted(model: &ServiceModel, shape: ShapeId, value: &Value, out: &mut Vec<u8>) {
    redact::write_redacted(model, shape, value, out)
}
