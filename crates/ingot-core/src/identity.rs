//! Who and where: accounts, regions and partitions, principals.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 12 && text.bytes().all(|c| c.is_ascii_digit())).then(|| AccountId(text.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A region name such as `us-east-1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Region(String);

impl Region {
    /// Accepts any well-formed region name (`xx-word-N`), known or not: clients pick regions
    /// freely and AWS answers per endpoint.
    pub fn parse(text: &str) -> Option<Self> {
        // Every request's credential scope names one: the parts are checked as they come, not
        // collected.
        let (mut parts, mut last) = (0, "");
        for part in text.split('-') {
            if part.is_empty() || !part.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
                return None;
            }
            (parts, last) = (parts + 1, part);
        }
        let well_formed = parts >= 3 && last.bytes().all(|c| c.is_ascii_digit());
        well_formed.then(|| Region(text.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn partition(&self) -> &'static str {
        partition_of(&self.0)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The partition a region belongs to (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrincipalKind {
    /// The account's root user.
    Root,
    /// An IAM user.
    User,
    /// A role session.
    AssumedRole,
    /// Ingot itself acting for a workflow or a schedule; still evaluated by the policy engine.
    Internal,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub account: AccountId,
    /// The caller's ARN as AWS reports it: the root, user or session ARN
    /// (`arn:aws:sts::A:assumed-role/ROLE/SESSION`).
    pub arn: String,
    /// `UserId` as GetCallerIdentity reports it (the account id for root; `AROA…:SESSION` for a
    /// role session).
    pub user_id: String,
    pub kind: PrincipalKind,
    /// What temporary credentials carry: set for role sessions and for GetSessionToken's
    /// credentials, absent for long-term keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<Box<Session>>,
}

/// The facts temporary credentials were issued with. They never change for the life of the
/// credentials, so they travel with the principal instead of being read on every call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// For a role session, the role's ARN with its path (`aws:PrincipalArn`); for
    /// GetSessionToken's credentials, the ARN of the user or root that asked.
    pub identity_arn: String,
    /// The role's unique id (`AROA…`) for a role session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
    /// `aws:TokenIssueTime`.
    pub issued: crate::time::Timestamp,
    pub expires: crate::time::Timestamp,
    /// Inline session policy documents and managed session policy ARNs (AssumeRole's `Policy`
    /// and `PolicyArns`): a session with either is capped by them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_arns: Vec<String>,
    /// Session tags (`aws:PrincipalTag/*`, overriding the role's), and which of them pass on
    /// to sessions this one assumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitive_tag_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// Assumed with another role session's credentials (role chaining: at most one hour).
    #[serde(default)]
    pub chained: bool,
}

impl Principal {
    /// `aws:PrincipalArn`: the role ARN (with its path) for a role session, else the caller's ARN.
    pub fn identity_arn(&self) -> &str {
        match (&self.session, self.kind) {
            (Some(session), PrincipalKind::AssumedRole) => &session.identity_arn,
            _ => &self.arn,
        }
    }

    /// Whether the principal speaks through temporary credentials.
    pub fn is_session(&self) -> bool {
        self.session.is_some()
    }
}

impl Principal {
    pub fn root(account: AccountId) -> Self {
        Principal {
            arn: format!("arn:aws:iam::{account}:root"),
            user_id: account.to_string(),
            account,
            kind: PrincipalKind::Root,
            session: None,
        }
    }

    /// Ingot acting as the AWS service `service` (`ssm`) in `account`: the principal of a
    /// service's own timers and actions (CloudTrail's `AWSService` identity, invoked by
    /// `ssm.amazonaws.com`).
    pub fn service(service: &str, account: AccountId) -> Self {
        let name = service_principal_name(service);
        Principal { arn: name.clone(), user_id: name, account, kind: PrincipalKind::Internal, session: None }
    }
}

/// `ssm.amazonaws.com`: how AWS names a service acting by itself (its principal, and the source
/// of its calls in CloudTrail).
pub fn service_principal_name(service: &str) -> String {
    [service, ".amazonaws.com"].concat()
}

/// A commercial region as EC2 describes it.
#[derive(Debug, Clone, Copy)]
pub struct RegionInfo {
    pub name: &'static str,
    /// Opt-in regions are disabled for new accounts.
    pub opt_in: bool,
    pub zones: u8,
}

/// The commercial (`aws` partition) regions.
pub const COMMERCIAL_REGIONS: &[RegionInfo] = &[
    RegionInfo { name: "af-south-1", opt_in: true, zones: 3 },
    RegionInfo { name: "ap-east-1", opt_in: true, zones: 3 },
    RegionInfo { name: "ap-east-2", opt_in: true, zones: 3 },
    RegionInfo { name: "ap-northeast-1", opt_in: false, zones: 3 },
    RegionInfo { name: "ap-northeast-2", opt_in: false, zones: 4 },
    RegionInfo { name: "ap-northeast-3", opt_in: false, zones: 3 },
    RegionInfo { name: "ap-south-1", opt_in: false, zones: 3 },
    RegionInfo { name: "ap-south-2", opt_in: true, zones: 3 },
    RegionInfo { name: "ap-southeast-1", opt_in: false, zones: 3 },
    RegionInfo { name: "ap-southeast-2", opt_in: false, zones: 3 },
    RegionInfo { name: "ap-southeast-3", opt_in: true, zones: 3 },
    RegionInfo { name: "ap-southeast-4", opt_in: true, zones: 3 },
    RegionInfo { name: "ap-southeast-5", opt_in: true, zones: 3 },
    RegionInfo { name: "ap-southeast-7", opt_in: true, zones: 3 },
    RegionInfo { name: "ca-central-1", opt_in: false, zones: 3 },
    RegionInfo { name: "ca-west-1", opt_in: true, zones: 3 },
    RegionInfo { name: "eu-central-1", opt_in: false, zones: 3 },
    RegionInfo { name: "eu-central-2", opt_in: true, zones: 3 },
    RegionInfo { name: "eu-north-1", opt_in: false, zones: 3 },
    RegionInfo { name: "eu-south-1", opt_in: true, zones: 3 },
    RegionInfo { name: "eu-south-2", opt_in: true, zones: 3 },
    RegionInfo { name: "eu-west-1", opt_in: false, zones: 3 },
    RegionInfo { name: "eu-west-2", opt_in: false, zones: 3 },
    RegionInfo { name: "eu-west-3", opt_in: false, zones: 3 },
    RegionInfo { name: "il-central-1", opt_in: true, zones: 3 },
    RegionInfo { name: "me-central-1", opt_in: true, zones: 3 },
    RegionInfo { name: "me-south-1", opt_in: true, zones: 3 },
    RegionInfo { name: "mx-central-1", opt_in: true, zones: 3 },
    RegionInfo { name: "sa-east-1", opt_in: false, zones: 3 },
    RegionInfo { name: "us-east-1", opt_in: false, zones: 6 },
    RegionInfo { name: "us-east-2", opt_in: false, zones: 3 },
    RegionInfo { name: "us-west-1", opt_in: false, zones: 2 },
    RegionInfo { name: "us-west-2", opt_in: false, zones: 4 },
];

pub fn region_info(name: &str) -> Option<&'static RegionInfo> {
    COMMERCIAL_REGIONS.iter().find(|r| r.name == name)
}

/// The short form used in zone ids: `us-east-1` → `use1`, `ap-southeast-2` → `apse2`.
pub fn region_short_name(region: &str) -> String {
    let parts: Vec<&str> = region.split('-').collect();
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 || i == parts.len() - 1 {
            out.push_str(part);
        } else {
            // Compass words keep their initial, in this order: north|south before east|west.
            for (word, initial) in [("north", 'n'), ("south", 's'), ("east", 'e'), ("west", 'w'), ("central", 'c')] {
                if part.contains(word) {
                    out.push(initial);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_region_names_follow_zone_id_style() {
        assert_eq!(region_short_name("us-east-1"), "use1");
        assert_eq!(region_short_name("ap-southeast-2"), "apse2");
        assert_eq!(region_short_name("eu-central-1"), "euc1");
        assert_eq!(region_short_name("ap-northeast-3"), "apne3");
    }

    #[test]
    fn account_ids_must_be_twelve_digits() {
        assert!(AccountId::parse("123456789012").is_some());
        assert!(AccountId::parse("12345678901").is_none());
        assert!(AccountId::parse("12345678901a").is_none());
    }

    #[test]
    fn region_names_must_be_well_formed() {
        assert!(Region::parse("us-east-1").is_some());
        assert!(Region::parse("us-gov-west-1").is_some());
        assert!(Region::parse("us-east").is_none());
        assert!(Region::parse("US-EAST-1").is_none());
        for malformed in ["-us-east-1", "us--east-1", "us-east-", "us-east-1a", "us-east_1", "", "--1"] {
            assert!(Region::parse(malformed).is_none(), "{malformed:?}");
        }
    }
}
