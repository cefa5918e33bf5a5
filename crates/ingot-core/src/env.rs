//! The environment: what every call and every job shares, built once at start-up and handed to
//! the gateway and the job runner alike.

use crate::authz::Authorizer;
use crate::crypto::SecretBox;
use crate::ids::IdGen;
use crate::invoke::Invoke;
use crate::time::Clock;
use ingot_store::Store;
use std::sync::Arc;

pub struct Env {
    pub store: Arc<dyn Store>,
    /// Ingot's one clock (clock control moves it).
    pub clock: Arc<dyn Clock>,
    pub ids: IdGen,
    /// Seals secrets at rest (key material, SecureString values) under the master key.
    pub secrets: SecretBox,
    /// Decides every authorization request.
    pub authorizer: Arc<dyn Authorizer>,
    /// Runs operations as a principal: workflow steps, stack operations and jobs call other
    /// services through it, so authorization and the audit trail apply to them.
    pub invoker: Arc<dyn Invoke>,
    /// Notified whenever clock control moves the clock, so timers due now run at once.
    pub clock_moved: tokio::sync::Notify,
}
