//! The accept loop and the per-request pipeline.

use crate::detect::{detect, Detected};
use crate::Gateway;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use ingot_core::model::ServiceModel;
use ingot_core::{CommonError, CommonKind, Origin, Scope, ServiceFailure};
use ingot_invoker::{InputSource, Invocation, Refused};
use ingot_protocol::{HttpRequest, HttpResponse};
use serde_json::Value;
use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Serves HTTP/1.1 on `listener` until `shutdown` completes, then lets in-flight requests finish
/// (for up to ten seconds).
pub async fn serve(listener: tokio::net::TcpListener, gateway: Arc<Gateway>, shutdown: impl Future<Output = ()>) {
    let (stop_audit, audit_stopped) = tokio::sync::watch::channel(false);
    let audit_flusher = {
        let gateway = gateway.clone();
        tokio::spawn(async move { gateway.invoker.write_audit_records(&*gateway.env.store, audit_stopped).await })
    };
    // Each connection holds a clone of `alive` until it ends; `stops` asks each to close. A
    // connection's own one-shot costs it nothing per request, where a shared shutdown signal
    // (a `watch`) locked one mutex from every connection on every poll.
    let (alive, mut all_closed) = tokio::sync::mpsc::channel::<()>(1);
    let mut stops = ConnectionStops::default();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                // The requests of one connection share one reference count, which no other
                // connection writes; the source IP is formatted once: every audit record names it.
                let connection = Arc::new(Connection { gateway: gateway.clone(), source_ip: remote.ip().to_string() });
                let service = service_fn(move |req| {
                    let connection = connection.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(connection.gateway.handle(req, &connection.source_ip).await)
                    }
                });
                let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                let mut stop = stops.add();
                let alive = alive.clone();
                tokio::spawn(async move {
                    let _alive = alive;
                    tokio::pin!(conn);
                    let ended = tokio::select! {
                        biased;
                        ended = conn.as_mut() => ended,
                        _ = &mut stop => {
                            conn.as_mut().graceful_shutdown();
                            conn.await
                        }
                    };
                    if let Err(e) = ended {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    stops.stop_all();
    drop(alive);
    if tokio::time::timeout(Duration::from_secs(10), all_closed.recv()).await.is_err() {
        tracing::warn!("connections still open after ten seconds; closing");
    }
    // The last read audit records are written before the server reports it has stopped.
    let _ = stop_audit.send(true);
    let _ = audit_flusher.await;
}

/// What the requests of one connection share.
struct Connection {
    gateway: Arc<Gateway>,
    source_ip: String,
}

/// One sender per open connection, to ask it to finish its request in flight and close. Senders
/// of connections that have ended are dropped whenever the list has doubled since the last look.
struct ConnectionStops {
    senders: Vec<tokio::sync::oneshot::Sender<()>>,
    prune_at: usize,
}

impl Default for ConnectionStops {
    fn default() -> Self {
        ConnectionStops { senders: Vec::new(), prune_at: 64 }
    }
}

impl ConnectionStops {
    fn add(&mut self) -> tokio::sync::oneshot::Receiver<()> {
        if self.senders.len() >= self.prune_at {
            self.senders.retain(|s| !s.is_closed());
            self.prune_at = (self.senders.len() * 2).max(64);
        }
        let (sender, receiver) = tokio::sync::oneshot::channel();
        self.senders.push(sender);
        receiver
    }

    fn stop_all(&mut self) {
        for sender in self.senders.drain(..) {
            let _ = sender.send(());
        }
    }
}

type Response = hyper::Response<Full<Bytes>>;

/// The whole body, or `Err(true)` when it is over `limit` bytes, `Err(false)` when it could not
/// be read. A body in one frame (the usual case) is taken as it is, without copying it.
async fn read_body(mut body: Incoming, limit: usize) -> Result<Bytes, bool> {
    let mut first: Option<Bytes> = None;
    let mut joined = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|_| false)?.into_data() else {
            continue; // trailers
        };
        match first.take() {
            None if joined.is_empty() => first = Some(data),
            earlier => {
                joined.extend_from_slice(&earlier.unwrap_or_default());
                joined.extend_from_slice(&data);
            }
        }
        if first.as_ref().map_or(joined.len(), Bytes::len) > limit {
            return Err(true);
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(joined)))
}

fn to_hyper(resp: HttpResponse) -> Response {
    let internal_error = || {
        let mut r = hyper::Response::new(Full::new(Bytes::new()));
        *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        r
    };
    let Ok(status) = http::StatusCode::from_u16(resp.status) else { return internal_error() };
    let mut r = hyper::Response::new(Full::new(Bytes::from(resp.body)));
    *r.status_mut() = status;
    let headers = r.headers_mut();
    headers.reserve(resp.headers.len());
    for (name, value) in resp.headers {
        // The value's bytes move (or, for fixed text, are borrowed) into the header without a
        // copy.
        let name = header_name(&name);
        let value = http::HeaderValue::from_maybe_shared(match value {
            Cow::Borrowed(fixed) => Bytes::from_static(fixed.as_bytes()),
            Cow::Owned(text) => Bytes::from(text),
        });
        let (Ok(name), Ok(value)) = (name, value) else { return internal_error() };
        headers.append(name, value);
    }
    r
}

/// The header names every response carries, as constants: parsing a name lower-cases it into a
/// new allocation.
fn header_name(name: &str) -> Result<http::HeaderName, http::header::InvalidHeaderName> {
    const X_AMZN_REQUESTID: http::HeaderName = http::HeaderName::from_static("x-amzn-requestid");
    match name {
        "x-amzn-RequestId" => Ok(X_AMZN_REQUESTID),
        "Content-Type" | "content-type" => Ok(http::header::CONTENT_TYPE),
        _ => http::HeaderName::from_bytes(name.as_bytes()),
    }
}

fn json_response(status: u16, body: &serde_json::Value) -> Response {
    to_hyper(HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    })
}

impl Gateway {
    async fn handle(&self, req: hyper::Request<Incoming>, source_ip: &str) -> Response {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path();
        let query = parts.uri.query().unwrap_or("");
        if path.starts_with("/_ingot/") && self.admin_is_open(parts.method.as_str(), path) {
            let r = self.admin(parts.method.as_str(), path, query).await;
            return json_response(r.status, &r.body);
        }
        if path == "/metrics" && parts.method == http::Method::GET {
            if let Some(text) = self.metrics().await {
                return to_hyper(HttpResponse {
                    status: 200,
                    headers: vec![("content-type".into(), crate::admin::METRICS_CONTENT_TYPE.into())],
                    body: text.into_bytes(),
                });
            }
        }
        let request_id = self.env.ids.uuid();
        // A body whose declared length is over the limit is refused before any of it is read.
        let limit = self.config.body_limit;
        let declared_too_large = hyper::body::Body::size_hint(&body).lower() > limit as u64;
        let read = if declared_too_large { Err(true) } else { read_body(body, limit).await };
        let body = match read {
            Ok(body) => body,
            Err(too_large) => {
                let error = if too_large {
                    CommonError::new(
                        CommonKind::RequestTooLarge,
                        format!("Request body is larger than {} bytes.", self.config.body_limit),
                    )
                } else {
                    CommonError::new(CommonKind::Serialization, "The request body could not be read.")
                };
                // The body, and with it a form's Action, is unknown: guess from the headers alone.
                let protocol = crate::detect::guess_protocol(&parts.headers, false);
                return to_hyper(ingot_protocol::encode_error(protocol, None, &error.into(), &request_id));
            }
        };
        let user_agent = parts.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
        let http_req = HttpRequest { method: parts.method.as_str(), path, query, headers: &parts.headers, body: &body };
        let call = CallInfo { request_id: &request_id, source_ip, user_agent };
        if path.starts_with("/_ingot/") {
            return match self.authorize_admin(&http_req, &call).await {
                Ok(()) => {
                    let r = self.admin(parts.method.as_str(), path, query).await;
                    json_response(r.status, &r.body)
                }
                Err(error) => to_hyper(ingot_protocol::encode_error(
                    ingot_core::model::Protocol::RestJson1,
                    None,
                    &error.into(),
                    &request_id,
                )),
            };
        }
        to_hyper(self.handle_api(&http_req, &call).await)
    }

    /// The adapter: authenticate and decode, let the invoker run the call, encode its answer.
    async fn handle_api(&self, req: &HttpRequest<'_>, call: &CallInfo<'_>) -> HttpResponse {
        let sig_parts = ingot_sigv4::RequestParts {
            method: req.method,
            path: req.path,
            query: req.query,
            headers: req.headers,
            body: req.body,
        };
        let signature = ingot_sigv4::parse(&sig_parts);
        let signing_name = signature.as_ref().ok().map(|s| s.service.clone());
        let service = match detect(self.invoker.services(), signing_name.as_deref(), req) {
            Detected::Served(s) => s,
            Detected::NotServed { protocol, error } => {
                return ingot_protocol::encode_error(protocol, None, &error.into(), call.request_id);
            }
        };
        let model = service.model();
        let now = self.env.clock.now();
        let access_key_id = signature.as_ref().ok().map(|s| s.access_key_id.clone());
        let region_hint = signature.as_ref().map(|s| s.region.clone()).unwrap_or_default();
        let auth = match self.authenticate(&sig_parts, signature).await {
            Ok(a) => a,
            Err(error) => {
                let origin = call.origin(access_key_id.as_deref());
                return self.refuse(Refused {
                    service,
                    principal: None,
                    region: &region_hint,
                    origin,
                    time: now,
                    error: &error,
                });
            }
        };
        let origin = call.origin(Some(&auth.access_key_id));
        let (operation, input) = match ingot_protocol::decode_request(model, req) {
            Ok(decoded) => decoded,
            Err(error) => {
                let (principal, region) = (Some(&*auth.principal), auth.region.as_str());
                return self.refuse(Refused { service, principal, region, origin, time: now, error: &error });
            }
        };
        let scope = Scope::new(auth.principal.account.clone(), auth.region);
        let invocation = Invocation { service, operation, scope: &scope, principal: &auth.principal, origin };
        let mut input = WireInput { decoded: Some(input), model, req };
        match self.invoker.call(&self.env, invocation, &mut input).await {
            Ok(answer) => {
                let value = answer.value.as_ref();
                match ingot_protocol::encode_output(model, operation, &*answer.output, value, call.request_id) {
                    Ok(response) => response,
                    Err(e) => encode_error(model, &e.into(), call.request_id),
                }
            }
            Err(failure) => encode_error(model, &failure, call.request_id),
        }
    }
}

impl Gateway {
    /// Ingot's own admin endpoints are called like any AWS API: signed with SigV4 for the signing
    /// name `ingot` (header or presigned), by a principal of the installation's management
    /// account whose policies allow the endpoint's `ingot:` action (its root may do anything).
    async fn authorize_admin(&self, req: &HttpRequest<'_>, call: &CallInfo<'_>) -> Result<(), CommonError> {
        let sig_parts = ingot_sigv4::RequestParts {
            method: req.method,
            path: req.path,
            query: req.query,
            headers: req.headers,
            body: req.body,
        };
        let signature = ingot_sigv4::parse(&sig_parts);
        if let Ok(sig) = &signature {
            if sig.service != ADMIN_SIGNING_NAME {
                return Err(CommonError::new(
                    CommonKind::IncompleteSignature,
                    format!("Credential should be scoped to correct service: '{ADMIN_SIGNING_NAME}'. "),
                ));
            }
        }
        let auth = self.authenticate(&sig_parts, signature).await?;
        let action = crate::admin::action_of(req.path);
        let principal = &*auth.principal;
        if principal.account != self.config.admin_account {
            return Err(ingot_core::authz::denied(
                &principal.arn,
                action,
                "*",
                "because the admin endpoints belong to the installation's management account",
            ));
        }
        let scope = Scope::new(principal.account.clone(), auth.region);
        let ctx = ingot_core::RequestContext {
            env: &self.env,
            scope: &scope,
            principal,
            origin: call.origin(Some(&auth.access_key_id)),
            now: self.env.clock.now(),
            tx: ingot_store::Tx::new(self.env.store.clone()),
        };
        let access = ingot_core::Access::any_resource();
        self.env.authorizer.authorize(&ctx, action, &access).await
    }

    /// The answer to a call refused before it reached its service, whose refusal is audited.
    fn refuse(&self, refused: Refused<'_>) -> HttpResponse {
        self.invoker.record_refused(&refused);
        encode_error(refused.service.model(), &refused.error.clone().into(), refused.origin.request_id)
    }
}

/// A request's input for each run of its call: decoded once up front, decoded again for a run
/// after a conflict (a run consumes its input).
struct WireInput<'a> {
    decoded: Option<Value>,
    model: &'static ServiceModel,
    req: &'a HttpRequest<'a>,
}

impl InputSource for WireInput<'_> {
    fn input(&mut self) -> Result<Value, CommonError> {
        match self.decoded.take() {
            Some(input) => Ok(input),
            None => ingot_protocol::decode_request(self.model, self.req).map(|(_, input)| input),
        }
    }
}

/// The service's protocol error encoder, with the model at hand for message casing and fields.
fn encode_error(model: &ServiceModel, failure: &ServiceFailure, request_id: &str) -> HttpResponse {
    ingot_protocol::encode_service_error(model, failure, request_id)
}

/// The SigV4 signing name of Ingot's admin endpoints (`curl --aws-sigv4 "aws:amz:REGION:ingot"`).
const ADMIN_SIGNING_NAME: &str = "ingot";

struct CallInfo<'a> {
    request_id: &'a str,
    source_ip: &'a str,
    user_agent: &'a str,
}

impl<'a> CallInfo<'a> {
    fn origin<'k>(&self, access_key_id: Option<&'k str>) -> Origin<'k>
    where
        'a: 'k,
    {
        Origin {
            request_id: self.request_id,
            source_ip: self.source_ip,
            user_agent: self.user_agent,
            access_key_id,
            via_service: None,
        }
    }
}
