//! Helpers for the unit tests: owned requests and response inspection.

use http::{HeaderMap, HeaderName, HeaderValue};
use ingot_core::model::{OperationModel, ServiceModel};
use ingot_core::CommonError;
use serde_json::Value;

use crate::{decode_request, HttpRequest, HttpResponse};

pub struct Req {
    pub method: &'static str,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Req {
    pub fn new(method: &'static str, target: &str) -> Self {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Req { method, path: path.to_string(), query: query.to_string(), headers: HeaderMap::new(), body: Vec::new() }
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
        self
    }
    pub fn body(mut self, body: impl AsRef<[u8]>) -> Self {
        self.body = body.as_ref().to_vec();
        self
    }
    pub fn decode(&self, model: &'static ServiceModel) -> Result<(&'static OperationModel, Value), CommonError> {
        decode_request(
            model,
            &HttpRequest {
                method: self.method,
                path: &self.path,
                query: &self.query,
                headers: &self.headers,
                body: &self.body,
            },
        )
    }
}

/// A JSON request for the awsJson test service.
pub fn json_req(op: &str, body: &str) -> Req {
    Req::new("POST", "/").header("X-Amz-Target", &format!("TestService.{op}")).body(body)
}

/// A form request for the query test services.
pub fn form(body: &str) -> Req {
    Req::new("POST", "/").header("Content-Type", "application/x-www-form-urlencoded").body(body)
}

pub fn body_text(resp: &HttpResponse) -> &str {
    std::str::from_utf8(&resp.body).unwrap()
}
