//! The HTTP front of Ingot: a thin adapter from HTTP to the invoker.
//!
//! For every request, once: a request id, the body limit, service detection (SigV4 signing name,
//! then `X-Amz-Target`, then `Action`, then the REST route), SigV4 authentication to a principal,
//! decoding through the service's protocol codec; then the invoker runs the call (handler, commit
//! with retry, audit record), and the codec encodes the output or the error. It also serves the
//! `/_ingot/` admin endpoints and `GET /metrics`.
//!
//! It must not depend on any service crate or on a store backend: services arrive through the
//! invoker, the store through the environment, both from the binary that wires them.

mod admin;
mod auth;
mod detect;
mod server;

pub use auth::AuthMode;
pub use server::serve;

use ingot_core::Env;
use ingot_invoker::Invoker;
use std::sync::Arc;

/// How the gateway behaves; the binary fills it from flags and environment.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub auth_mode: AuthMode,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// `POST /_ingot/reset` wipes state (for test suites).
    pub enable_reset: bool,
    /// `POST /_ingot/clock` advances the clock (for schedules and timeouts in tests).
    pub enable_clock_control: bool,
    /// Store key prefixes a reset keeps (the bootstrap account and its keys).
    pub reset_keep_prefixes: Vec<String>,
    /// The installation's management (bootstrap) account: only its principals may call the
    /// admin endpoints.
    pub admin_account: ingot_core::AccountId,
    /// Serves `GET /metrics` when given.
    pub metrics: Option<MetricsEndpoint>,
}

/// Renders the Prometheus text exposition `GET /metrics` answers with, for the server's
/// environment. The binary supplies it: the gateway knows no metrics exporter.
#[derive(Clone)]
pub struct MetricsEndpoint(pub Arc<dyn Fn(Arc<Env>) -> ingot_core::BoxFuture<'static, String> + Send + Sync>);

impl std::fmt::Debug for MetricsEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsEndpoint")
    }
}

/// Everything a request needs, shared by all connections.
pub struct Gateway {
    env: Arc<Env>,
    invoker: Arc<Invoker>,
    config: GatewayConfig,
    credentials: auth::CredentialCache,
}

impl Gateway {
    pub fn new(env: Arc<Env>, invoker: Arc<Invoker>, config: GatewayConfig) -> Arc<Self> {
        Arc::new(Gateway { env, invoker, config, credentials: auth::CredentialCache::default() })
    }
}
