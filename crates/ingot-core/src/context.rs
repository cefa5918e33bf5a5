//! The per-request context every handler receives.

use crate::crypto::SecretBox;
use crate::error::CommonError;
use crate::identity::{AccountId, Principal, Region};
use crate::ids::IdGen;
use crate::time::{Clock, Timestamp};
use ingot_store::Tx;
use std::sync::Arc;

/// Decides whether a principal may perform an action on a resource. The gateway supplies the
/// implementation (the policy engine); handlers only ask.
pub trait Authorizer: Send + Sync + 'static {
    fn authorize(&self, principal: &Principal, action: &str, resource: &str) -> Result<(), CommonError>;
}

/// Everything a handler may know about the request, and its unit of work.
pub struct RequestContext {
    pub request_id: String,
    pub account: AccountId,
    pub region: Region,
    pub principal: Principal,
    /// The clock reading when the request arrived.
    pub now: Timestamp,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<IdGen>,
    /// Seals secrets at rest (key material, SecureString values) under the master key.
    pub secrets: Arc<SecretBox>,
    /// The request's unit of work: writes are buffered and committed by the gateway together
    /// with the request's audit record, or discarded when the handler fails.
    pub tx: Tx,
    pub source_ip: String,
    pub user_agent: String,
    pub authorizer: Arc<dyn Authorizer>,
}

impl RequestContext {
    /// Every handler calls this with its operation's IAM action and the resource's ARN before it
    /// touches state.
    pub fn authorize(&self, action: &str, resource: &str) -> Result<(), CommonError> {
        self.authorizer.authorize(&self.principal, action, resource)
    }
}
