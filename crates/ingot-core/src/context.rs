//! The per-request context every handler receives.

use crate::crypto::SecretBox;
use crate::error::CommonError;
use crate::identity::{AccountId, Principal, Region};
use crate::ids::IdGen;
use crate::time::{Clock, Timestamp};
use ingot_store::Tx;

/// Decides whether a principal may perform an action on a resource. The gateway supplies the
/// implementation (the policy engine); handlers only ask.
pub trait Authorizer: Send + Sync + 'static {
    fn authorize(&self, principal: &Principal, action: &str, resource: &str) -> Result<(), CommonError>;
}

/// Everything a handler may know about the request, and its unit of work. It borrows what the
/// gateway and the request already hold: cloning the gateway's shared parts for every request
/// made both cores write the same reference counts, which cost more than the clones themselves.
pub struct RequestContext<'a> {
    pub request_id: &'a str,
    pub account: &'a AccountId,
    pub region: &'a Region,
    pub principal: &'a Principal,
    /// The clock reading when the request arrived.
    pub now: Timestamp,
    pub clock: &'a dyn Clock,
    pub ids: &'a IdGen,
    /// Seals secrets at rest (key material, SecureString values) under the master key.
    pub secrets: &'a SecretBox,
    /// The request's unit of work: writes are buffered and committed by the gateway together
    /// with the request's audit record, or discarded when the handler fails.
    pub tx: Tx,
    pub source_ip: &'a str,
    pub user_agent: &'a str,
    pub authorizer: &'a dyn Authorizer,
}

impl RequestContext<'_> {
    /// Every handler calls this with its operation's IAM action and the resource's ARN before it
    /// touches state.
    pub fn authorize(&self, action: &str, resource: &str) -> Result<(), CommonError> {
        self.authorizer.authorize(self.principal, action, resource)
    }
}
