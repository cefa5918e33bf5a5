//! Service detection: which served service a request is for, or which protocol to answer in
//! when Ingot does not serve it.

use ingot_core::model::Protocol;
use ingot_core::{CommonError, CommonKind, Service};
use ingot_protocol::{HttpRequest, X_AMZ_TARGET};
use std::sync::Arc;

pub(crate) enum Detected<'a> {
    /// Borrowed from the gateway: cloning the `Arc` made every request write its shared count.
    Served(&'a dyn Service),
    /// A request for something Ingot does not serve, answered in this protocol.
    NotServed { protocol: Protocol, error: CommonError },
}

/// Finds the service by, in order: the SigV4 signing name, the `X-Amz-Target` prefix, the query
/// `Action`, and the REST route.
pub(crate) fn detect<'a>(
    services: &'a [Arc<dyn Service>],
    signing_name: Option<&str>,
    req: &HttpRequest,
) -> Detected<'a> {
    if let Some(name) = signing_name {
        let mut matching = services.iter().filter(|s| s.model().signing_name == name);
        return match matching.next() {
            Some(s) => Detected::Served(&**s),
            None => Detected::NotServed {
                protocol: guess_protocol(req.headers, query_action(req).is_some()),
                error: CommonError::new(
                    CommonKind::NotImplemented,
                    format!("The service '{name}' is not served by Ingot."),
                ),
            },
        };
    }
    let target = req.headers.get(X_AMZ_TARGET).and_then(|v| v.to_str().ok());
    let action = query_action(req);
    let guessed = guess_protocol(req.headers, action.is_some());
    if let Some(target) = target {
        let prefix = target.split('.').next().unwrap_or_default();
        if let Some(s) = services.iter().find(|s| s.model().target_prefix == Some(prefix)) {
            return Detected::Served(&**s);
        }
    }
    if let Some(action) = action.as_deref() {
        let query_service = services.iter().find(|s| {
            matches!(s.model().protocol, Protocol::AwsQuery | Protocol::Ec2Query)
                && s.model().operation(action).is_some()
        });
        if let Some(s) = query_service {
            return Detected::Served(&**s);
        }
    }
    for s in services.iter().filter(|s| s.model().protocol == Protocol::RestJson1) {
        match ingot_protocol::decode_request(s.model(), req) {
            Err(e) if e.kind == CommonKind::UnknownOperation => continue,
            _ => return Detected::Served(&**s),
        }
    }
    Detected::NotServed {
        protocol: guessed,
        error: CommonError::new(CommonKind::UnknownOperation, "The request does not name a service that Ingot serves."),
    }
}

/// The protocol a request looks like, for answering it before (or without) knowing its service:
/// an `X-Amz-Target` means JSON, an `Action` or a form body means a query protocol, anything else
/// is REST.
pub(crate) fn guess_protocol(headers: &http::HeaderMap, has_action: bool) -> Protocol {
    if headers.contains_key(X_AMZ_TARGET) {
        Protocol::AwsJson1_1
    } else if has_action || is_form(headers) {
        Protocol::AwsQuery
    } else {
        Protocol::RestJson1
    }
}

fn is_form(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

/// The `Action` parameter of a query-protocol request, from the query string or a form body.
fn query_action(req: &HttpRequest) -> Option<String> {
    let form = is_form(req.headers);
    let from = |text: &str| {
        text.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == "Action").then(|| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
        })
    };
    from(req.query).or_else(|| if form { std::str::from_utf8(req.body).ok().and_then(from) } else { None })
}
