//! The IAM policy language and its evaluation.
//!
//! [`Policy::parse`] reads a JSON policy document, validates it with AWS's
//! `MalformedPolicyDocument` messages and compiles it once; [`evaluate`] decides one request
//! against the [`PolicySet`] that applies to it, in AWS's order (explicit deny, SCPs, resource
//! policy, identity policies, permissions boundary, session policies), and says why a denial
//! happened ([`Denial::because`]).
//!
//! - `document.rs`: parsing, validation and compilation.
//! - `pattern.rs`: `*`/`?` globs, action and ARN matching.
//! - `condition.rs`: condition operators.
//! - `variables.rs`: `${…}` policy variables.
//! - `context.rs`: the request, its principal and its context keys.
//! - `evaluate.rs`: the evaluation order and the denial reason.

mod condition;
mod context;
mod document;
mod evaluate;
mod pattern;
mod variables;

#[cfg(test)]
mod tests;

pub use context::{ContextKeys, PrincipalFacts, Request};
pub use document::{Policy, MANAGED_POLICY_VERSION_MESSAGE};
pub use evaluate::{evaluate, Denial, Evaluation, MatchedStatement, PolicySet, PolicySource};

/// Which kind of document a policy is; it decides the validation rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Inline and managed policies of users, groups and roles; also permissions boundaries. No
    /// `Principal`; `Resource` required.
    Identity,
    /// Session policies passed to `AssumeRole*` / `GetFederationToken`: as `Identity`.
    Session,
    /// Resource-based policies (KMS key policies, SSM resource policies, …): every statement
    /// names a `Principal` or `NotPrincipal`.
    Resource,
    /// Role trust policies: `Principal` required, `Resource` prohibited, bad JSON is
    /// "This policy contains invalid Json".
    Trust,
    /// Organizations SCPs: `Version` 2012-10-17, no `Principal`. Any fault is Organizations'
    /// single "does not meet the requirements" message.
    ServiceControl,
}

/// A malformed policy: `message` is AWS's text for the `MalformedPolicyDocument` error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub message: String,
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}
