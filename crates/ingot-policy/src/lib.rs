//! Access decisions: the authorizers the binary can wire into the environment. Today that is
//! [`OwnAccountAuthorizer`] (account roots only); the IAM policy engine (identity policies,
//! resource policies, SCPs, permissions boundaries, session policies) grows here behind the same
//! `ingot_core::Authorizer` trait.
//!
//! It must not depend on HTTP, the gateway, the invoker or any service crate: what a decision
//! needs arrives in the request context and the authorization request.

mod own_account;

pub use own_account::OwnAccountAuthorizer;
