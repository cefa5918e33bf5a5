//! The contract between generated code, handlers and the gateway.
//!
//! For every served operation the generator writes a marker type implementing [`Operation`], and
//! an `impl Service` for the service struct whose dispatch calls [`invoke`] with each marker. A
//! service struct that lacks `impl Handler<Op>` for one of them does not compile.

use crate::context::RequestContext;
use crate::error::{CommonError, ServiceError, ServiceFailure};
use crate::model::ServiceModel;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Input or output of an operation whose model has no shape for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Empty {}

/// One operation of one service (generated marker type).
pub trait Operation: 'static {
    const NAME: &'static str;
    /// The IAM action name (`ssm:PutParameter`).
    const IAM_ACTION: &'static str;
    type Input: DeserializeOwned + Send + 'static;
    type Output: Serialize + Send + 'static;
    type Error: ServiceError;
}

/// Implemented by a service struct once per operation it serves. No HTTP, no wire names.
pub trait Handler<Op: Operation>: Send + Sync {
    fn handle(
        &self,
        ctx: &RequestContext,
        input: Op::Input,
    ) -> impl Future<Output = Result<Op::Output, Op::Error>> + Send;
}

/// A served service as the gateway sees it (implemented by generated code).
pub trait Service: Send + Sync + 'static {
    fn model(&self) -> &'static ServiceModel;

    /// Runs `operation` with its canonical input value and returns its canonical output value.
    fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, ServiceFailure>>;
}

/// Decodes the canonical input, runs the handler and encodes its output.
pub async fn invoke<Op, H>(handler: &H, ctx: &RequestContext, input: Value) -> Result<Value, ServiceFailure>
where
    Op: Operation,
    H: Handler<Op>,
{
    let input: Op::Input = serde_json::from_value(input).map_err(|e| {
        // The codec validated the value against the model, so this is a mismatch between the
        // model metadata and the generated types: report it as the client's malformed input.
        CommonError::new(crate::error::CommonKind::Serialization, format!("Failed to read {}: {e}", Op::NAME))
    })?;
    match handler.handle(ctx, input).await {
        Ok(output) => serde_json::to_value(output).map_err(|e| CommonError::internal(e).into()),
        Err(error) => Err(error.into_failure()),
    }
}
