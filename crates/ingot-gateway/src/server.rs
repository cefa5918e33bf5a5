//! The accept loop and the per-request pipeline.

use crate::audit::{AuditCall, AUDIT_TOPIC};
use crate::detect::{detect, Detected};
use crate::Gateway;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use ingot_core::model::ServiceModel;
use ingot_core::{Clock, CommonError, CommonKind, RequestContext, ServiceFailure};
use ingot_protocol::{HttpRequest, HttpResponse};
use ingot_store::{StoreError, Tx};
use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How often a request whose commit conflicted with a concurrent one is run again. Sixteen
/// clients creating parameters at once collide on the region's count shards; with 10 attempts
/// a create lost every round a few times per 100,000 creates (a 503 that AWS would not give).
const MAX_ATTEMPTS: u32 = 20;

/// A random pause before attempt `attempt + 1`, growing with each conflict (up to ~51 ms), so
/// requests that keep colliding on one key spread out instead of colliding again.
fn conflict_backoff(ids: &ingot_core::IdGen, attempt: u32) -> Duration {
    let bytes = ids.bytes(2);
    let jitter = u64::from(u16::from_le_bytes([bytes[0], bytes[1]]));
    let ceiling_us = 100u64 << attempt.min(9);
    Duration::from_micros(jitter % ceiling_us)
}

/// Serves HTTP/1.1 on `listener` until `shutdown` completes, then lets in-flight requests finish
/// (for up to ten seconds).
pub async fn serve(listener: tokio::net::TcpListener, gateway: Arc<Gateway>, shutdown: impl Future<Output = ()>) {
    let (stop_audit, audit_stopped) = tokio::sync::watch::channel(false);
    let audit_flusher = {
        let gateway = gateway.clone();
        tokio::spawn(async move { gateway.audit_buffer.run(&*gateway.store, audit_stopped).await })
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
        if path.starts_with("/_ingot/") {
            let r = self.admin(parts.method.as_str(), path, query).await;
            return json_response(r.status, &r.body);
        }
        let request_id = self.ids.uuid();
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
        to_hyper(self.handle_api(&http_req, &call).await)
    }

    async fn handle_api(&self, req: &HttpRequest<'_>, call: &CallInfo<'_>) -> HttpResponse {
        let now = self.clock.now();
        let sig_parts = ingot_sigv4::RequestParts {
            method: req.method,
            path: req.path,
            query: req.query,
            headers: req.headers,
            body: req.body,
        };
        let signature = ingot_sigv4::parse(&sig_parts);
        let signing_name = signature.as_ref().ok().map(|s| s.service.clone());
        let service = match detect(&self.services, signing_name.as_deref(), req) {
            Detected::Served(s) => s,
            Detected::NotServed { protocol, error } => {
                return ingot_protocol::encode_error(protocol, None, &error.into(), call.request_id);
            }
        };
        let model = service.model();
        let fail = |error: CommonError, audit: AuditCall<'_>| {
            self.record_background(&audit);
            encode_error(model, &error.into(), call.request_id)
        };
        let access_key_id = signature.as_ref().ok().map(|s| s.access_key_id.clone());
        let region_hint = signature.as_ref().map(|s| s.region.clone()).unwrap_or_default();
        let base_audit = |error: &CommonError| AuditCall {
            model,
            operation: None,
            principal: None,
            access_key_id: access_key_id.as_deref(),
            region: &region_hint,
            time: now,
            source_ip: call.source_ip,
            user_agent: call.user_agent,
            request_id: call.request_id,
            request_parameters: b"null",
            output: None,
            error: Some((format!("{:?}", error.kind), Some(error.message.clone()))),
            read_only: true,
        };
        let auth = match self.authenticate(&sig_parts, signature).await {
            Ok(a) => a,
            Err(e) => {
                let audit = base_audit(&e);
                return fail(e, audit);
            }
        };
        let (operation, mut input) = match ingot_protocol::decode_request(model, req) {
            Ok(decoded) => decoded,
            Err(e) => {
                let mut audit = base_audit(&e);
                audit.principal = Some(&auth.principal);
                audit.region = auth.region.as_str();
                return fail(e, audit);
            }
        };

        let request_parameters = crate::audit::request_parameters(model, operation, &input);
        let mut attempt = 0;
        loop {
            attempt += 1;
            if attempt > 1 {
                // The first attempt consumed the input; a retry decodes the request again.
                match ingot_protocol::decode_request(model, req) {
                    Ok((_, again)) => input = again,
                    Err(e) => return encode_error(model, &e.into(), call.request_id),
                }
            }
            let ctx = RequestContext {
                request_id: call.request_id,
                account: &auth.principal.account,
                region: &auth.region,
                principal: &auth.principal,
                now,
                clock: &*self.clock,
                ids: &self.ids,
                secrets: &self.secrets,
                tx: Tx::new(self.store.clone()),
                source_ip: call.source_ip,
                user_agent: call.user_agent,
                authorizer: &*self.authorizer,
            };
            let result = service.call(&ctx, operation.name, std::mem::take(&mut input)).await;
            // A write's audit record carries the output's canonical value; a read's leaves it out,
            // so a read's output goes to the codec still typed.
            let result = match result {
                Ok(output) if ctx.tx.has_writes() => {
                    output.to_value().map(|value| (output, Some(value))).map_err(ServiceFailure::from)
                }
                Ok(output) => Ok((output, None)),
                Err(failure) => Err(failure),
            };
            let (output, failure) = match result {
                Ok(done) => (Some(done), None),
                Err(failure) => {
                    // A failed call changes nothing.
                    ctx.tx.discard();
                    (None, Some(failure))
                }
            };
            let read_only = !ctx.tx.has_writes();
            let audit = AuditCall {
                model,
                operation: Some(operation),
                principal: Some(ctx.principal),
                access_key_id: Some(&auth.access_key_id),
                region: ctx.region.as_str(),
                time: now,
                source_ip: call.source_ip,
                user_agent: call.user_agent,
                request_id: call.request_id,
                request_parameters: &request_parameters,
                output: output.as_ref().and_then(|(_, value)| value.as_ref()),
                error: failure.as_ref().map(|f| (f.code_for_audit(), f.message().map(str::to_string))),
                read_only,
            };
            if read_only {
                // Nothing to make durable but the audit record: do not make the caller wait.
                self.record_background(&audit);
            } else {
                ctx.tx.emit(AUDIT_TOPIC, audit.to_entry());
                match self.store.commit(ctx.tx.take_batch()).await {
                    Ok(()) => {}
                    Err(StoreError::Conflict(key)) if attempt < MAX_ATTEMPTS => {
                        tracing::debug!(%key, attempt, "commit conflicted; running the request again");
                        tokio::time::sleep(conflict_backoff(&self.ids, attempt)).await;
                        continue;
                    }
                    Err(StoreError::Conflict(key)) => {
                        tracing::warn!(%key, "commit kept conflicting");
                        let e = CommonError::new(
                            CommonKind::ServiceUnavailable,
                            "The request conflicted with concurrent changes; try again.",
                        );
                        return encode_error(model, &e.into(), call.request_id);
                    }
                    Err(e) => return encode_error(model, &CommonError::internal(e).into(), call.request_id),
                }
            }
            return match (output, failure) {
                (Some((output, value)), _) => {
                    match ingot_protocol::encode_output(model, operation, &*output, value.as_ref(), call.request_id) {
                        Ok(response) => response,
                        Err(e) => encode_error(model, &e.into(), call.request_id),
                    }
                }
                (None, Some(failure)) => encode_error(model, &failure, call.request_id),
                (None, None) => encode_error(model, &CommonError::internal("no outcome").into(), call.request_id),
            };
        }
    }

    /// Queues the audit record of a call that changed nothing; the flusher writes it shortly.
    fn record_background(&self, audit: &AuditCall<'_>) {
        self.audit_buffer.push(audit);
    }
}

/// The service's protocol error encoder, with the model at hand for message casing and fields.
fn encode_error(model: &ServiceModel, failure: &ServiceFailure, request_id: &str) -> HttpResponse {
    ingot_protocol::encode_service_error(model, failure, request_id)
}

struct CallInfo<'a> {
    request_id: &'a str,
    source_ip: &'a str,
    user_agent: &'a str,
}
