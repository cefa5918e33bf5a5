//! The shared vocabulary of Ingot: request context, principals, accounts and regions, ARNs,
//! time and identifiers, the shape metadata that generated code fills in, the
//! [`Operation`]/[`Handler`]/[`Service`] contract, and the errors handlers return.
//!
//! It must not depend on HTTP, on the gateway, on the protocol codecs or on any service crate;
//! of Ingot's crates it uses only `ingot-store` (for the request's unit of work).

pub mod arn;
pub mod blob;
pub mod context;
pub mod credentials;
pub mod crypto;
pub mod error;
pub mod identity;
pub mod ids;
pub mod model;
pub mod operation;
pub mod time;

pub use arn::Arn;
pub use blob::Blob;
pub use context::{Authorizer, RequestContext};
pub use error::{CommonError, CommonKind, ModeledError, ServiceError, ServiceFailure};
pub use identity::{AccountId, Principal, PrincipalKind, Region};
pub use ids::IdGen;
pub use operation::{invoke, BoxFuture, Empty, Handler, Operation, OperationOutput, Output, Service};
pub use time::{Clock, Timestamp};

/// Outbox topic of service events (`Parameter Store Change`, …) awaiting the event bus.
pub const EVENTS_TOPIC: &str = "events";
/// Outbox topic of CloudTrail-style audit records.
pub const AUDIT_TOPIC: &str = "audit";
