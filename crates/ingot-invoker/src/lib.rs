//! The invoker: how any operation runs, whoever asks. It owns the served services, finds the one
//! a call names, runs the handler with a fresh unit of work as the calling principal, commits the
//! call's writes together with its audit record (running the call again when the commit
//! conflicts, by the one policy of `ingot_core::commit`), and queues the audit record of a call
//! that changed nothing. HTTP requests reach it through the gateway's thin adapter; jobs,
//! workflow steps and stack operations call it through [`ingot_core::Invoke`], as a role session
//! or as a service's internal principal, so authorization and the audit trail apply to them
//! exactly as to a client's call.
//!
//! It must not depend on HTTP, on the gateway or on any service crate: services arrive as
//! `Arc<dyn Service>` from the binary.

pub mod audit;

use audit::{AuditBuffer, AuditCall};
use ingot_core::model::OperationModel;
use ingot_core::{
    Call, Committed, CommonError, CommonKind, ConflictRetry, Env, Invoke, Origin, Output, Principal, RequestContext,
    Scope, Service, ServiceAction, ServiceFailure, Timestamp,
};
use ingot_store::Tx;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

pub use audit::{expand_audit_entry, AUDIT_TOPIC};

/// One operation call, as the invoker runs it.
pub struct Invocation<'a> {
    pub service: &'a dyn Service,
    pub operation: &'static OperationModel,
    pub scope: &'a Scope,
    pub principal: &'a Principal,
    pub origin: Origin<'a>,
}

/// What a call answered: its output, still typed, and, for a call that changed state, the
/// output's canonical value (its audit record carries it).
pub struct Answer {
    pub output: Output,
    pub value: Option<Value>,
}

/// Gives a call its canonical input for each run: a call runs again when its commit conflicts,
/// and a run consumes its input.
pub trait InputSource: Send {
    fn input(&mut self) -> Result<Value, CommonError>;
}

/// An input already at hand, copied for each run.
pub struct Given(pub Value);

impl InputSource for Given {
    fn input(&mut self) -> Result<Value, CommonError> {
        Ok(self.0.clone())
    }
}

/// A call refused before it reached its service (authentication or decoding failed), for its
/// audit record.
pub struct Refused<'a> {
    pub service: &'a dyn Service,
    pub principal: Option<&'a Principal>,
    pub region: &'a str,
    pub origin: Origin<'a>,
    pub time: Timestamp,
    pub error: &'a CommonError,
}

pub struct Invoker {
    services: Vec<Arc<dyn Service>>,
    audit: AuditBuffer,
    /// Registered on the first call, once the binary has installed its metrics recorder.
    metrics: OnceLock<HashMap<(&'static str, &'static str), OperationMetrics>>,
}

/// The metric handles of one served operation: its duration, and its count of successful
/// calls (failures are counted by their error code, registered as they occur). Registering a
/// labelled metric looks it up in the recorder's registry; a handle records directly.
struct OperationMetrics {
    ok: metrics::Counter,
    duration: metrics::Histogram,
}

impl Invoker {
    pub fn new(services: Vec<Arc<dyn Service>>) -> Self {
        Invoker { services, audit: AuditBuffer::default(), metrics: OnceLock::new() }
    }

    fn operation_metrics(&self) -> &HashMap<(&'static str, &'static str), OperationMetrics> {
        self.metrics.get_or_init(|| {
            let mut handles = HashMap::new();
            for model in self.services.iter().map(|s| s.model()) {
                for op in model.operations {
                    let (service, operation) = (model.id, op.name);
                    let ok = metrics::counter!("ingot_calls_total", "service" => service, "operation" => operation, "outcome" => "ok");
                    let duration = metrics::histogram!("ingot_call_duration_seconds", "service" => service, "operation" => operation);
                    handles.insert((service, operation), OperationMetrics { ok, duration });
                }
            }
            handles
        })
    }

    /// Every served service.
    pub fn services(&self) -> &[Arc<dyn Service>] {
        &self.services
    }

    /// The served service with this id (`ssm`).
    pub fn service(&self, id: &str) -> Option<&dyn Service> {
        self.services.iter().find(|s| s.model().id == id).map(|s| &**s)
    }

    /// Runs one call: the handler with a fresh unit of work, then the commit of its writes with
    /// its audit record, again from the start when the commit conflicts. A failed call commits
    /// nothing but its audit record.
    ///
    /// Counts it in `ingot_calls_total{service,operation,outcome}` (outcome `ok` or the error
    /// code) and times it in `ingot_call_duration_seconds{service,operation}`.
    pub async fn call(
        &self,
        env: &Env,
        invocation: Invocation<'_>,
        input: &mut dyn InputSource,
    ) -> Result<Answer, ServiceFailure> {
        let (service, operation) = (invocation.service.model().id, invocation.operation.name);
        let started = std::time::Instant::now();
        let result = self.run_call(env, invocation, input).await;
        let handles = self.operation_metrics().get(&(service, operation));
        match handles {
            Some(handles) => handles.duration.record(started.elapsed()),
            None => metrics::histogram!("ingot_call_duration_seconds", "service" => service, "operation" => operation)
                .record(started.elapsed()),
        }
        let outcome: metrics::SharedString = match (&result, handles) {
            (Ok(_), Some(handles)) => {
                handles.ok.increment(1);
                return result;
            }
            (Ok(_), None) => "ok".into(),
            (Err(ServiceFailure::Modeled(e)), _) => e.code.into(),
            (Err(failure), _) => failure.code_for_audit().into(),
        };
        metrics::counter!("ingot_calls_total", "service" => service, "operation" => operation, "outcome" => outcome)
            .increment(1);
        result
    }

    async fn run_call(
        &self,
        env: &Env,
        invocation: Invocation<'_>,
        input: &mut dyn InputSource,
    ) -> Result<Answer, ServiceFailure> {
        let Invocation { service, operation, scope, principal, origin } = invocation;
        let model = service.model();
        let now = env.clock.now();
        let mut request_parameters: Option<Vec<u8>> = None;
        let mut retry = ConflictRetry::new();
        loop {
            let input = input.input()?;
            let request_parameters =
                request_parameters.get_or_insert_with(|| audit::request_parameters(model, operation, &input));
            let ctx = RequestContext { env, scope, principal, origin, now, tx: Tx::new(env.store.clone()) };
            let result = service.call(&ctx, operation.name, input).await;
            // A write's audit record carries the output's canonical value; a read's leaves it out,
            // so a read's output goes to the codec still typed.
            let result = match result {
                Ok(output) if ctx.tx.has_writes() => {
                    output.to_value().map(|value| (output, Some(value))).map_err(ServiceFailure::from)
                }
                Ok(output) => Ok((output, None)),
                Err(failure) => Err(failure),
            };
            if result.is_err() {
                // A failed call changes nothing.
                ctx.tx.discard();
            }
            let read_only = !ctx.tx.has_writes();
            let audit = AuditCall {
                model,
                event_name: operation.name,
                operation: Some(operation),
                principal: Some(principal),
                access_key_id: origin.access_key_id,
                invoked_by: origin.via_service,
                region: scope.region.as_str(),
                time: now,
                source_ip: origin.source_ip,
                user_agent: origin.user_agent,
                request_id: origin.request_id,
                request_parameters,
                output: result.as_ref().ok().and_then(|(_, value)| value.as_ref()),
                error: result.as_ref().err().map(|f| (f.code_for_audit(), f.message().map(str::to_string))),
                read_only,
            };
            if read_only {
                // Nothing to make durable but the audit record: the caller need not wait for it.
                self.audit.push(&audit);
            } else {
                ctx.tx.emit(AUDIT_TOPIC, audit.to_entry());
                if retry.commit(&*env.store, &env.ids, ctx.tx.take_batch()).await? == Committed::RunAgain {
                    continue;
                }
            }
            return result.map(|(output, value)| Answer { output, value });
        }
    }

    /// Queues the audit record of a call refused before it reached its service.
    pub fn record_refused(&self, refused: &Refused<'_>) {
        self.audit.push(&AuditCall {
            model: refused.service.model(),
            event_name: "Unknown",
            operation: None,
            principal: refused.principal,
            access_key_id: refused.origin.access_key_id,
            invoked_by: refused.origin.via_service,
            region: refused.region,
            time: refused.time,
            source_ip: refused.origin.source_ip,
            user_agent: refused.origin.user_agent,
            request_id: refused.origin.request_id,
            request_parameters: b"null",
            output: None,
            error: Some((format!("{:?}", refused.error.kind), Some(refused.error.message.clone()))),
            read_only: true,
        });
    }

    /// Writes queued audit records every interval (and sooner when many wait) until `stop`
    /// turns true, then the last ones.
    pub async fn write_audit_records(&self, store: &dyn ingot_store::Store, stop: tokio::sync::watch::Receiver<bool>) {
        self.audit.run(store, stop).await
    }
}

impl Invoke for Invoker {
    fn invoke<'a>(
        &'a self,
        env: &'a Env,
        call: Call<'a>,
        input: Value,
    ) -> ingot_core::BoxFuture<'a, Result<Value, ServiceFailure>> {
        Box::pin(async move {
            let Some(service) = self.service(call.service) else {
                return Err(CommonError::new(
                    CommonKind::NotImplemented,
                    format!("The service {} is not served by Ingot.", call.service),
                )
                .into());
            };
            let model = service.model();
            let operation =
                model.operation(call.operation).ok_or_else(|| CommonError::unknown_operation(call.operation))?;
            // A client's input is checked by its codec; an internal caller's here, by the same
            // model constraints and with the same wording.
            if let Some(shape) = operation.input {
                ingot_protocol::validate::validate(model, shape, &input)?;
            }
            let invocation =
                Invocation { service, operation, scope: call.scope, principal: call.principal, origin: call.origin };
            let answer = self.call(env, invocation, &mut Given(input)).await?;
            match answer.value {
                Some(value) => Ok(value),
                None => Ok(answer.output.to_value()?),
            }
        })
    }

    fn record_action(&self, tx: &Tx, action: &ServiceAction<'_>) {
        let Some(service) = self.service(action.service) else {
            tracing::warn!(service = action.service, "an audit record names a service this build does not serve");
            return;
        };
        let model = service.model();
        let operation = model.operation(action.event_name);
        let mut request_parameters = Vec::new();
        match operation.and_then(|op| op.input) {
            Some(shape) => ingot_protocol::write_redacted(model, shape, action.parameters, &mut request_parameters),
            None => request_parameters = serde_json::to_vec(action.parameters).unwrap_or_else(|_| b"null".to_vec()),
        }
        let audit = AuditCall {
            model,
            event_name: action.event_name,
            operation,
            principal: Some(action.principal),
            access_key_id: action.origin.access_key_id,
            invoked_by: action.origin.via_service,
            region: action.scope.region.as_str(),
            time: action.time,
            source_ip: action.origin.source_ip,
            user_agent: action.origin.user_agent,
            request_id: action.origin.request_id,
            request_parameters: &request_parameters,
            output: None,
            error: None,
            read_only: false,
        };
        tx.emit(AUDIT_TOPIC, audit.to_entry());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingot_core::{Access, AccountId, Authorizer, Decision, IdGen, Region};
    use ingot_protocol::testmodels::JSON_MODEL;
    use ingot_store::{Batch, Store, Write};
    use std::sync::atomic::{AtomicBool, Ordering};

    const POLICY: &str = "test/policy";
    const TOUCHED: &str = "test/touched";

    /// Allows while the stored policy says `allow`, reading it through the call's unit of work.
    /// The first time it decides, it changes the policy behind the call's back, as a concurrent
    /// PutRolePolicy would.
    struct PolicyReader {
        store: Arc<dyn Store>,
        changed: AtomicBool,
    }

    impl Authorizer for PolicyReader {
        fn authorize<'a>(&'a self, ctx: &'a RequestContext<'a>, _: &'static str, _: &'a Access<'a>) -> Decision<'a> {
            Decision::pending(async move {
                let policy = ctx.tx.get(POLICY).await?;
                if !self.changed.swap(true, Ordering::SeqCst) {
                    let write =
                        Write { key: POLICY.into(), value: Some(b"deny".to_vec()), expect: ingot_store::Expect::Any };
                    self.store.commit(Batch { writes: vec![write], ..Default::default() }).await?;
                }
                match policy.as_deref() {
                    Some(b"allow") => Ok(()),
                    _ => Err(CommonError::access_denied("denied by the stored policy")),
                }
            })
        }
    }

    /// A service whose one operation authorizes, then writes a key.
    struct Toucher;

    impl Service for Toucher {
        fn model(&self) -> &'static ingot_core::model::ServiceModel {
            &JSON_MODEL
        }

        fn call<'a>(
            &'a self,
            ctx: &'a RequestContext<'_>,
            _operation: &'a str,
            _input: Value,
        ) -> ingot_core::BoxFuture<'a, Result<Output, ServiceFailure>> {
            Box::pin(async move {
                ctx.env.authorizer.authorize(ctx, "test:Touch", &Access::any_resource()).await?;
                ctx.tx.put(TOUCHED, b"yes".to_vec());
                Ok(Box::new(serde_json::json!({})) as Output)
            })
        }
    }

    #[tokio::test]
    async fn a_policy_changed_while_a_call_is_decided_makes_the_call_run_again_on_the_new_policy() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = ingot_store_sqlite::SqliteStore::open(dir.path()).unwrap();
        let allow = Write { key: POLICY.into(), value: Some(b"allow".to_vec()), expect: ingot_store::Expect::Any };
        store.commit(Batch { writes: vec![allow], ..Default::default() }).await.unwrap();
        let invoker = Arc::new(Invoker::new(vec![Arc::new(Toucher)]));
        let env = Env {
            store: store.clone(),
            clock: Arc::new(ingot_core::time::SystemClock::new()),
            ids: IdGen::seeded(1),
            secrets: ingot_core::crypto::SecretBox::new(&[1; 32]),
            authorizer: Arc::new(PolicyReader { store: store.clone(), changed: AtomicBool::new(false) }),
            invoker: invoker.clone(),
            clock_moved: tokio::sync::Notify::new(),
        };
        let account = AccountId::parse("111122223333").unwrap();
        let scope = Scope::new(account.clone(), Region::parse("us-east-1").unwrap());
        let principal = Principal::root(account);
        let origin =
            Origin { request_id: "r", source_ip: "127.0.0.1", user_agent: "t", access_key_id: None, via_service: None };
        let invocation = Invocation {
            service: &Toucher,
            operation: &JSON_MODEL.operations[0],
            scope: &scope,
            principal: &principal,
            origin,
        };
        let failure = invoker.call(&env, invocation, &mut Given(serde_json::json!({}))).await.err().expect("denied");
        assert_eq!(failure.message(), Some("denied by the stored policy"));
        assert!(store.get(TOUCHED).await.unwrap().is_none(), "the write allowed by the old policy did not commit");
    }
}
