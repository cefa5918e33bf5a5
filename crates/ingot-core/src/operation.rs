//! The contract between generated code, handlers and the invoker.
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
        ctx: &RequestContext<'_>,
        input: Op::Input,
    ) -> impl Future<Output = Result<Op::Output, Op::Error>> + Send;
}

/// A served service as the invoker sees it (implemented by generated code).
pub trait Service: Send + Sync + 'static {
    fn model(&self) -> &'static ServiceModel;

    /// Runs `operation` with its canonical input value and returns its output.
    fn call<'a>(
        &'a self,
        ctx: &'a RequestContext<'_>,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<Output, ServiceFailure>>;
}

/// A handler's output, still typed: the protocol codec asks for the canonical value, or, where
/// the canonical JSON is already the wire form (most awsJson outputs), for that JSON directly,
/// which spares building and walking a `Value` on every response.
pub type Output = Box<dyn OperationOutput>;

/// What the codec and the audit trail need of an output (implemented for every output type).
pub trait OperationOutput: Send {
    /// The canonical value: members under their model names, timestamps as epoch seconds.
    fn to_value(&self) -> Result<Value, CommonError>;
    /// The canonical value written as JSON, exactly as `to_value` then `serde_json` would.
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), CommonError>;
}

impl<T: Serialize + Send> OperationOutput for T {
    fn to_value(&self) -> Result<Value, CommonError> {
        serde_json::to_value(self).map_err(CommonError::internal)
    }

    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), CommonError> {
        serde_json::to_writer(out, self).map_err(CommonError::internal)
    }
}

/// Decodes the canonical input and runs the handler.
pub async fn invoke<Op, H>(handler: &H, ctx: &RequestContext<'_>, input: Value) -> Result<Output, ServiceFailure>
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
        Ok(output) => Ok(Box::new(output)),
        Err(error) => Err(error.into_failure()),
    }
}
