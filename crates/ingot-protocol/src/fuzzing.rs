//! Entry points for the fuzz targets (`fuzz/fuzz_targets/*.rs`) and the corpus regression test.
//!
//! Each function splits arbitrary bytes into an HTTP request for the matching test model
//! ([`crate::testmodels`]), runs [`crate::decode_request`], and on success pushes the value
//! through [`crate::write_redacted`], [`crate::validate::validate`] and [`crate::encode_response`]; on
//! failure it renders the error. Nothing here may panic, whatever the bytes.

use http::{HeaderMap, HeaderName, HeaderValue};
use ingot_core::model::ServiceModel;
use ingot_core::ServiceFailure;

use crate::testmodels::{EC2_MODEL, JSON_MODEL, QUERY_MODEL, REST_MODEL};
use crate::{
    decode_request, encode_error, encode_response, encode_service_error, validate, write_redacted, HttpRequest,
};

fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

fn run(model: &'static ServiceModel, req: &HttpRequest) {
    match decode_request(model, req) {
        Ok((op, value)) => {
            if let Some(input) = op.input {
                write_redacted(model, input, &value, &mut Vec::new());
                let _ = validate::validate(model, input, &value);
            }
            let _ = encode_response(model, op, &value, "fuzz-request-id");
        }
        Err(e) => {
            let failure = ServiceFailure::Common(e);
            let _ = encode_error(model.protocol, model.xml_namespace, &failure, "fuzz-request-id");
            let _ = encode_service_error(model, &failure, "fuzz-request-id");
        }
    }
}

/// awsJson: the first line is the `X-Amz-Target` header value, the rest is the body.
pub fn aws_json(data: &[u8]) {
    let (target, body) = split_line(data);
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(target) {
        headers.insert("x-amz-target", v);
    }
    run(&JSON_MODEL, &HttpRequest { method: "POST", path: "/", query: "", headers: &headers, body });
}

/// restJson1: first line `METHOD /path?query`, then `Name: value` header lines up to an empty
/// line, then the body.
pub fn rest_json(data: &[u8]) {
    let (line, mut rest) = split_line(data);
    let line = String::from_utf8_lossy(line);
    let (method, target) = line.split_once(' ').unwrap_or(("GET", &line));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = HeaderMap::new();
    loop {
        let (h, tail) = split_line(rest);
        rest = tail;
        if h.is_empty() {
            break;
        }
        let Some(colon) = h.iter().position(|b| *b == b':') else {
            continue;
        };
        let (name, value) = (&h[..colon], &h[colon + 1..]);
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value.trim_ascii())) {
            headers.append(n, v);
        }
        if rest.is_empty() {
            break;
        }
    }
    run(&REST_MODEL, &HttpRequest { method, path, query, headers: &headers, body: rest });
}

fn query_like(model: &'static ServiceModel, data: &[u8]) {
    let (query, body) = split_line(data);
    let query = String::from_utf8_lossy(query);
    let headers = HeaderMap::new();
    run(model, &HttpRequest { method: "POST", path: "/", query: &query, headers: &headers, body });
}

/// awsQuery: the first line is the URL query string, the rest is the form body.
pub fn aws_query(data: &[u8]) {
    query_like(&QUERY_MODEL, data);
}

/// ec2Query: the first line is the URL query string, the rest is the form body.
pub fn ec2_query(data: &[u8]) {
    query_like(&EC2_MODEL, data);
}
