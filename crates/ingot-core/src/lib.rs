//! The shared vocabulary of Ingot: request context, principals, accounts and regions, ARNs,
//! time and identifiers, scopes from which keys and ARNs are built, the shape metadata that
//! generated code fills in, the [`Operation`]/[`Handler`]/[`Service`] contract, the errors
//! handlers return, the environment every call and job shares ([`Env`]), authorization requests
//! and the [`Authorizer`] trait, the [`Invoke`] trait for calls made as a principal, the commit
//! retry policy, page tokens and the EventBridge event envelope.
//!
//! It must not depend on HTTP, on the gateway, on the protocol codecs, on a store backend or on
//! any service crate; of Ingot's crates it uses only `ingot-store`'s API (the unit of work).

pub mod arn;
pub mod authz;
pub mod blob;
pub mod commit;
pub mod context;
pub mod credentials;
pub mod crypto;
pub mod env;
pub mod error;
pub mod event;
pub mod identity;
pub mod ids;
pub mod invoke;
pub mod model;
pub mod operation;
pub mod page;
pub mod public_images;
pub mod scope;
pub mod time;

pub use arn::Arn;
pub use authz::{Access, Authorizer, Decision};
pub use blob::Blob;
pub use commit::{Committed, ConflictRetry};
pub use context::RequestContext;
pub use env::Env;
pub use error::{CommonError, CommonKind, ModeledError, ServiceError, ServiceFailure};
pub use identity::{AccountId, Principal, PrincipalKind, Region, Session};
pub use ids::IdGen;
pub use invoke::{Call, Invoke, Origin, ServiceAction};
pub use operation::{invoke, BoxFuture, Empty, Handler, Operation, OperationOutput, Output, Service};
pub use scope::Scope;
pub use time::{Clock, Timestamp};

/// Outbox topic of service events (`Parameter Store Change`, …) awaiting the event bus.
pub const EVENTS_TOPIC: &str = "events";
/// Outbox topic of CloudTrail-style audit records.
pub const AUDIT_TOPIC: &str = "audit";
