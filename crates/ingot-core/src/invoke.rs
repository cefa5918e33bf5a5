//! Calling an operation as a principal, from inside Ingot (a job, a workflow step, a stack
//! operation). The implementation (`ingot-invoker`) looks the service up, validates the
//! canonical input against the model, runs the handler (which authorizes as the principal),
//! commits with conflict retry and writes the call's audit record, exactly as for a client's call.

use crate::env::Env;
use crate::error::ServiceFailure;
use crate::identity::Principal;
use crate::operation::BoxFuture;
use crate::scope::Scope;
use serde_json::Value;

/// Where a call came from, for the audit record.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub request_id: &'a str,
    /// The client's address, or the service acting (`ssm.amazonaws.com`).
    pub source_ip: &'a str,
    pub user_agent: &'a str,
    /// The access key that signed the request; `None` for calls made inside Ingot.
    pub access_key_id: Option<&'a str>,
    /// The AWS service that makes this call for the principal (`ssm.amazonaws.com` when SSM
    /// encrypts a SecureString with the caller's permissions): policies see it as
    /// `aws:CalledVia` and KMS as `kms:ViaService`. `None` when the principal calls directly.
    pub via_service: Option<&'a str>,
}

/// One operation call made inside Ingot.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The service id as in `aws-sdk-<id>` (`ssm`, `ec2`).
    pub service: &'a str,
    pub operation: &'a str,
    pub scope: &'a Scope,
    pub principal: &'a Principal,
    pub origin: Origin<'a>,
}

/// An action a service took by itself (a parameter policy deleting an expired parameter), for its
/// audit record.
#[derive(Debug, Clone, Copy)]
pub struct ServiceAction<'a> {
    pub service: &'a str,
    /// The operation the action amounts to (`DeleteParameter`).
    pub event_name: &'a str,
    pub scope: &'a Scope,
    pub principal: &'a Principal,
    pub origin: Origin<'a>,
    pub time: crate::time::Timestamp,
    /// What the action was given, in the operation's canonical input form where it has one.
    pub parameters: &'a Value,
}

pub trait Invoke: Send + Sync + 'static {
    /// Runs `call` with its canonical input (member names as in the model) in a unit of work of
    /// its own, and returns the canonical output.
    fn invoke<'a>(&'a self, env: &'a Env, call: Call<'a>, input: Value)
        -> BoxFuture<'a, Result<Value, ServiceFailure>>;

    /// Writes the audit record of `action` into `tx`, the unit of work that carries its effect.
    fn record_action(&self, tx: &ingot_store::Tx, action: &ServiceAction<'_>);
}
