//! The resource-based policies attached to one resource by something other than the service that
//! owns the resource: RAM's shares (each compiled into statements) and the policies callers attach
//! with the owning service's own PutResourcePolicy (SSM parameters). The owning service's access
//! check reads this one record for a caller of another account and hands the combined document to
//! the policy engine as the resource's policy, so RAM's sharing and a policy put by hand decide
//! the same way, and an account moving in or out of an organization or OU gains or loses access
//! at once (RAM's statements name organizations and OUs by condition, not by listing accounts).
//!
//! Kept at `ACCOUNT/REGION/ram/resource-policies/RESOURCE_ARN`, in the resource owner's account
//! and region. RAM writes the entries of its shares; the owning service writes its own.

use ingot_core::Scope;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who attached a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PolicyOrigin {
    /// Compiled from a RAM resource share (its ARN).
    ResourceShare { share_arn: String },
    /// Put with the resource's service's PutResourcePolicy. RAM shows it as a share created from
    /// a policy (at `share_arn`) until the share is promoted.
    ServicePolicy { share_arn: String },
}

/// One attached policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedPolicy {
    /// The id the owning service reports (SSM's `PolicyId`).
    pub policy_id: String,
    /// Changes with every new text (SSM's `PolicyHash`), for optimistic updates.
    pub policy_hash: String,
    pub origin: PolicyOrigin,
    /// The policy document (JSON).
    pub document: String,
}

/// Every policy attached to one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourcePoliciesRecord {
    pub resource_arn: String,
    pub policies: Vec<AttachedPolicy>,
}

impl ingot_store::Record for ResourcePoliciesRecord {
    const KIND: &'static str = "ram.resource-policies";
    const SCHEMA_VERSION: u32 = 1;
}

/// `ACCOUNT/REGION/ram/resource-policies/` of the owner's scope.
pub fn resource_policies_prefix(owner: &Scope) -> String {
    owner.key("ram", "resource-policies/")
}

/// Where the policies of `resource_arn` (owned in `owner`) are kept.
pub fn resource_policies_key(owner: &Scope, resource_arn: &str) -> String {
    [resource_policies_prefix(owner), resource_arn.to_string()].concat()
}

impl ResourcePoliciesRecord {
    /// All attached policies as one document for the policy engine: every statement of every
    /// policy, in order. `None` when nothing is attached (or nothing parses as a policy).
    pub fn combined_document(&self) -> Option<String> {
        let mut statements = Vec::new();
        for policy in &self.policies {
            let Ok(document) = serde_json::from_str::<Value>(&policy.document) else { continue };
            match document.get("Statement") {
                Some(Value::Array(list)) => statements.extend(list.iter().cloned()),
                Some(one @ Value::Object(_)) => statements.push(one.clone()),
                _ => {}
            }
        }
        if statements.is_empty() {
            return None;
        }
        let combined = serde_json::json!({ "Version": "2012-10-17", "Statement": statements });
        Some(combined.to_string())
    }

    /// Replaces (or, with `None`, removes) the policy that `origin` attached.
    pub fn set(&mut self, origin: &PolicyOrigin, policy: Option<AttachedPolicy>) {
        self.policies.retain(|p| p.origin != *origin);
        self.policies.extend(policy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attached(origin: PolicyOrigin, document: &str) -> AttachedPolicy {
        AttachedPolicy { policy_id: "p".into(), policy_hash: "h".into(), origin, document: document.into() }
    }

    #[test]
    fn the_combined_document_holds_every_statement_of_every_policy() {
        let mut record = ResourcePoliciesRecord { resource_arn: "arn:x".into(), policies: vec![] };
        assert_eq!(record.combined_document(), None);
        let share = PolicyOrigin::ResourceShare { share_arn: "arn:share".into() };
        record.set(&share, Some(attached(share.clone(), r#"{"Statement":[{"Sid":"a"},{"Sid":"b"}]}"#)));
        let own = PolicyOrigin::ServicePolicy { share_arn: "arn:policy".into() };
        record.set(&own, Some(attached(own.clone(), r#"{"Version":"2012-10-17","Statement":{"Sid":"c"}}"#)));
        let combined: Value = serde_json::from_str(&record.combined_document().unwrap()).unwrap();
        let sids: Vec<_> = combined["Statement"].as_array().unwrap().iter().map(|s| s["Sid"].clone()).collect();
        assert_eq!(sids, ["a", "b", "c"]);
        record.set(&share, None);
        assert_eq!(record.policies.len(), 1);
    }
}
