//! Where a resource lives: partition, account and region, as one value from which store keys and
//! ARNs are built, so that no caller passes an account where a region belongs.
//!
//! Key layout (see ARCHITECTURE.md, "Key layout"):
//! - regional resources: `ACCOUNT/REGION/SERVICE/…` ([`Scope::key`]);
//! - global services kept per account (IAM, an account's Organizations membership):
//!   `ACCOUNT/global/SERVICE/…` ([`Scope::account_key`]; `global` is never a region name);
//! - organization-wide records: `org/ORG_ID/SERVICE/…` ([`org_key`]);
//! - installation-wide lookups (access keys by id): `global/SERVICE/…` ([`global_key`]).

use crate::identity::{partition_of, AccountId, Region};
use serde::{Deserialize, Serialize};

/// The account and region a request or a job acts in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scope {
    pub account: AccountId,
    pub region: Region,
}

impl Scope {
    pub fn new(account: AccountId, region: Region) -> Self {
        Scope { account, region }
    }

    /// `aws`, `aws-cn` or `aws-us-gov`, from the region.
    pub fn partition(&self) -> &'static str {
        partition_of(self.region.as_str())
    }

    /// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` of a regional resource of this scope.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        ["arn:", self.partition(), ":", service, ":", self.region.as_str(), ":", self.account.as_str(), ":", resource]
            .concat()
    }

    /// `arn:PARTITION:SERVICE::ACCOUNT:RESOURCE` of a global resource of this scope's account
    /// (IAM roles, users, policies).
    pub fn global_arn(&self, service: &str, resource: &str) -> String {
        ["arn:", self.partition(), ":", service, "::", self.account.as_str(), ":", resource].concat()
    }

    /// `ACCOUNT/REGION/SERVICE/` followed by `rest`: the key of a regional record.
    pub fn key(&self, service: &str, rest: &str) -> String {
        self.key_parts(service, &[rest], 0)
    }

    /// [`Scope::key`] with the rest given in parts, built in one allocation with room for
    /// `reserve` more bytes (a number the caller appends).
    pub fn key_parts(&self, service: &str, rest: &[&str], reserve: usize) -> String {
        let head = [self.account.as_str(), "/", self.region.as_str(), "/", service, "/"];
        join(&head, rest, reserve)
    }

    /// The length of [`Scope::arn`]`(service, resource)` for a resource `resource_len` bytes long,
    /// without building it.
    pub fn arn_len(&self, service: &str, resource_len: usize) -> usize {
        "arn:::::".len()
            + self.partition().len()
            + service.len()
            + self.region.as_str().len()
            + self.account.as_str().len()
            + resource_len
    }

    /// [`Scope::arn`] with the resource given in parts, built in one allocation.
    pub fn arn_parts(&self, service: &str, resource: &[&str]) -> String {
        let head = ["arn:", self.partition(), ":", service, ":", self.region.as_str(), ":", self.account.as_str(), ":"];
        join(&head, resource, 0)
    }

    /// `ACCOUNT/global/SERVICE/` followed by `rest`: the key of a record of a global service kept
    /// per account.
    pub fn account_key(&self, service: &str, rest: &str) -> String {
        account_key(&self.account, service, rest)
    }
}

fn join(head: &[&str], rest: &[&str], reserve: usize) -> String {
    let len = head.iter().chain(rest).map(|part| part.len()).sum::<usize>() + reserve;
    let mut out = String::with_capacity(len);
    for part in head.iter().chain(rest) {
        out.push_str(part);
    }
    out
}

/// `ACCOUNT/global/SERVICE/REST`.
pub fn account_key(account: &AccountId, service: &str, rest: &str) -> String {
    [account.as_str(), "/global/", service, "/", rest].concat()
}

/// `org/ORG_ID/SERVICE/REST`: a record of an organization as a whole.
pub fn org_key(organization_id: &str, service: &str, rest: &str) -> String {
    ["org/", organization_id, "/", service, "/", rest].concat()
}

/// `global/SERVICE/REST`: a record looked up across accounts (an access key by its id).
pub fn global_key(service: &str, rest: &str) -> String {
    ["global/", service, "/", rest].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(region: &str) -> Scope {
        Scope::new(AccountId::parse("111122223333").unwrap(), Region::parse(region).unwrap())
    }

    #[test]
    fn arns_name_partition_service_region_and_account_in_that_order() {
        assert_eq!(scope("us-east-1").arn("ssm", "parameter/a"), "arn:aws:ssm:us-east-1:111122223333:parameter/a");
        assert_eq!(scope("cn-north-1").arn("kms", "key/k"), "arn:aws-cn:kms:cn-north-1:111122223333:key/k");
        assert_eq!(scope("us-east-1").global_arn("iam", "role/r"), "arn:aws:iam::111122223333:role/r");
    }

    #[test]
    fn keys_follow_the_documented_layout() {
        let s = scope("eu-west-1");
        assert_eq!(s.key("ssm", "p/a"), "111122223333/eu-west-1/ssm/p/a");
        assert_eq!(s.key_parts("ssm", &["p/", "a"], 0), s.key("ssm", "p/a"));
        assert_eq!(s.arn_parts("ssm", &["parameter/", "a"]), s.arn("ssm", "parameter/a"));
        assert_eq!(s.arn_len("ssm", "parameter/a".len()), s.arn("ssm", "parameter/a").len());
        assert_eq!(s.account_key("iam", "roles/r"), "111122223333/global/iam/roles/r");
        assert_eq!(org_key("o-abc", "organizations", "accounts/1"), "org/o-abc/organizations/accounts/1");
        assert_eq!(global_key("iam", "access-keys/AKIA"), "global/iam/access-keys/AKIA");
    }

    #[test]
    fn no_region_is_named_global() {
        assert!(Region::parse("global").is_none());
    }
}
