//! Access decisions: the authorizers the binary can wire into the environment. Today that is
//! [`OwnAccountAuthorizer`] (account roots only); the IAM policy engine (identity policies,
//! resource policies, SCPs, permissions boundaries, session policies) grows here behind the same
//! `ingot_core::Authorizer` trait.
//! [`engine`] is that policy language and its evaluation: parse, validate, compile, evaluate.
//!
//! It must not depend on HTTP, the gateway, the invoker or any service crate: what a decision
//! needs arrives in the request context and the authorization request.

pub mod engine;
pub mod gather;
mod iam_authorizer;
mod own_account;

pub use engine::{
    evaluate, ContextKeys, Denial, Evaluation, MatchedStatement, Policy, PolicyError, PolicyKind, PolicySet,
    PolicySource, PrincipalFacts, Request,
};
pub use iam_authorizer::{principal_facts, IamAuthorizer, PolicyCache};
pub use own_account::OwnAccountAuthorizer;
