//! The HTTP front of Ingot: it owns the request lifecycle up to the handler and back.
//!
//! For every request, once: a request id, the body limit, service detection (SigV4 signing name,
//! then `X-Amz-Target`, then `Action`, then the REST route), SigV4 authentication to a principal,
//! decoding through the service's protocol codec, the handler call with a fresh unit of work,
//! the commit of its writes together with the request's audit record (retried on conflict), and
//! encoding of the output or the error. It also serves the `/_ingot/` admin endpoints.
//!
//! It must not depend on any service crate: services arrive as `Arc<dyn Service>` from the
//! binary that wires them.

mod admin;
mod audit;
mod auth;
mod authz;
mod detect;
mod server;

pub use audit::expand_audit_entry;
pub use auth::AuthMode;
pub use authz::OwnAccountAuthorizer;
pub use server::serve;

use ingot_core::crypto::SecretBox;
use ingot_core::time::SystemClock;
use ingot_core::{Authorizer, IdGen, Service};
use ingot_store::Store;
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
}

/// Everything a request needs, shared by all connections.
pub struct Gateway {
    services: Vec<Arc<dyn Service>>,
    store: Arc<dyn Store>,
    clock: Arc<SystemClock>,
    ids: Arc<IdGen>,
    secrets: Arc<SecretBox>,
    /// Woken whenever clock control moves the clock, so timers due now run at once.
    clock_moved: Arc<tokio::sync::Notify>,
    authorizer: Arc<dyn Authorizer>,
    config: GatewayConfig,
    credentials: auth::CredentialCache,
    audit_buffer: audit::AuditBuffer,
}

impl Gateway {
    pub fn new(
        services: Vec<Arc<dyn Service>>,
        store: Arc<dyn Store>,
        clock: Arc<SystemClock>,
        ids: Arc<IdGen>,
        secrets: Arc<SecretBox>,
        clock_moved: Arc<tokio::sync::Notify>,
        config: GatewayConfig,
    ) -> Arc<Self> {
        Arc::new(Gateway {
            services,
            store,
            clock,
            ids,
            secrets,
            clock_moved,
            authorizer: Arc::new(OwnAccountAuthorizer),
            config,
            credentials: auth::CredentialCache::default(),
            audit_buffer: audit::AuditBuffer::default(),
        })
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}
