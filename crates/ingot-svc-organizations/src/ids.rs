//! Identifiers and ARNs, in the shapes of the model's patterns (aws-identity.md §5.1):
//! `o-` + 10, `r-` + 4, `ou-<root suffix>-` + 8, `p-` + 8, `h-` + 10 and `car-` + 10 lower-case
//! letters and digits, drawn from Ingot's one id generator.

use ingot_core::IdGen;
use ingot_identity::organization::FULL_AWS_ACCESS_ID;
use ingot_identity::OrganizationRecord;

const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// `n` lower-case letters and digits.
fn random_tail(ids: &IdGen, n: usize) -> String {
    ids.bytes(n).into_iter().map(|b| ALPHABET[usize::from(b) % ALPHABET.len()] as char).collect()
}

pub fn organization_id(ids: &IdGen) -> String {
    ["o-", &random_tail(ids, 10)].concat()
}

pub fn root_id(ids: &IdGen) -> String {
    ["r-", &random_tail(ids, 4)].concat()
}

/// `ou-<root suffix>-` + 8: an OU's id names its root.
pub fn ou_id(ids: &IdGen, root_id: &str) -> String {
    let root_suffix = root_id.strip_prefix("r-").unwrap_or(root_id);
    ["ou-", root_suffix, "-", &random_tail(ids, 8)].concat()
}

pub fn policy_id(ids: &IdGen) -> String {
    ["p-", &random_tail(ids, 8)].concat()
}

pub fn handshake_id(ids: &IdGen) -> String {
    ["h-", &random_tail(ids, 10)].concat()
}

pub fn create_account_request_id(ids: &IdGen) -> String {
    ["car-", &random_tail(ids, 10)].concat()
}

/// What an id given as a parent, child or policy target names, by its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Root,
    OrganizationalUnit,
    Account,
    Other,
}

pub fn kind_of(id: &str) -> IdKind {
    if id.starts_with("r-") {
        IdKind::Root
    } else if id.starts_with("ou-") {
        IdKind::OrganizationalUnit
    } else if id.len() == 12 && id.bytes().all(|c| c.is_ascii_digit()) {
        IdKind::Account
    } else {
        IdKind::Other
    }
}

/// Builds the ARNs of one organization: `arn:PARTITION:organizations::MANAGEMENT:KIND/o-…/…`.
#[derive(Debug, Clone, Copy)]
pub struct OrgArns<'a> {
    pub partition: &'a str,
    pub management: &'a str,
    pub organization_id: &'a str,
}

impl<'a> OrgArns<'a> {
    /// The ARNs of `org`, in the partition its own ARN names.
    pub fn of(org: &'a OrganizationRecord) -> Self {
        let partition = org.arn.split(':').nth(1).filter(|p| !p.is_empty()).unwrap_or("aws");
        OrgArns { partition, management: org.management_account.as_str(), organization_id: &org.id }
    }

    fn arn(&self, kind: &str, rest: &[&str]) -> String {
        let mut arn =
            ["arn:", self.partition, ":organizations::", self.management, ":", kind, "/", self.organization_id]
                .concat();
        for part in rest {
            arn.push('/');
            arn.push_str(part);
        }
        arn
    }

    pub fn organization(&self) -> String {
        self.arn("organization", &[])
    }

    pub fn root(&self, root_id: &str) -> String {
        self.arn("root", &[root_id])
    }

    pub fn ou(&self, ou_id: &str) -> String {
        self.arn("ou", &[ou_id])
    }

    pub fn account(&self, account_id: &str) -> String {
        self.arn("account", &[account_id])
    }

    /// A customer policy: `…:policy/o-…/service_control_policy/p-…`; AWS's own policies have an
    /// ARN in account `aws` ([`aws_managed_policy_arn`]).
    pub fn policy(&self, policy_type: &str, policy_id: &str) -> String {
        if policy_id == FULL_AWS_ACCESS_ID {
            return aws_managed_policy_arn(self.partition, policy_type, policy_id);
        }
        self.arn("policy", &[&policy_type.to_ascii_lowercase(), policy_id])
    }

    pub fn handshake(&self, action: &str, handshake_id: &str) -> String {
        self.arn("handshake", &[&action.to_ascii_lowercase(), handshake_id])
    }

    /// The ARN of a root, OU or account by the shape of its id; `None` for anything else.
    pub fn target(&self, id: &str) -> Option<String> {
        match kind_of(id) {
            IdKind::Root => Some(self.root(id)),
            IdKind::OrganizationalUnit => Some(self.ou(id)),
            IdKind::Account => Some(self.account(id)),
            IdKind::Other => None,
        }
    }
}

/// `arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess`.
pub fn aws_managed_policy_arn(partition: &str, policy_type: &str, policy_id: &str) -> String {
    ["arn:", partition, ":organizations::aws:policy/", &policy_type.to_ascii_lowercase(), "/", policy_id].concat()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ingot_core::{AccountId, Timestamp};

    fn all_lower_alnum(s: &str) -> bool {
        s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    }

    #[test]
    fn identifiers_have_the_shapes_of_the_model_patterns() {
        let ids = IdGen::seeded(11);
        for _ in 0..50 {
            let o = organization_id(&ids);
            assert!(o.starts_with("o-") && o.len() == 12 && all_lower_alnum(&o[2..]), "{o}");
            let r = root_id(&ids);
            assert!(r.starts_with("r-") && r.len() == 6 && all_lower_alnum(&r[2..]), "{r}");
            let ou = ou_id(&ids, &r);
            let parts: Vec<&str> = ou.split('-').collect();
            assert_eq!(parts.len(), 3, "{ou}");
            assert_eq!(parts[0], "ou");
            assert_eq!(parts[1], &r[2..]);
            assert!(parts[2].len() == 8 && all_lower_alnum(parts[2]), "{ou}");
            let p = policy_id(&ids);
            assert!(p.starts_with("p-") && p.len() == 10 && all_lower_alnum(&p[2..]), "{p}");
            let h = handshake_id(&ids);
            assert!(h.starts_with("h-") && h.len() == 12 && all_lower_alnum(&h[2..]), "{h}");
            let car = create_account_request_id(&ids);
            assert!(car.starts_with("car-") && car.len() == 14 && all_lower_alnum(&car[4..]), "{car}");
        }
    }

    #[test]
    fn ids_are_recognised_by_their_shape() {
        assert_eq!(kind_of("r-ab12"), IdKind::Root);
        assert_eq!(kind_of("ou-ab12-abcdefgh"), IdKind::OrganizationalUnit);
        assert_eq!(kind_of("123456789012"), IdKind::Account);
        assert_eq!(kind_of("12345678901"), IdKind::Other);
        assert_eq!(kind_of("p-12345678"), IdKind::Other);
    }

    /// An organization to test with, shared by this crate's tests.
    pub(crate) fn org() -> OrganizationRecord {
        OrganizationRecord {
            id: "o-abcdefghij".into(),
            arn: "arn:aws:organizations::111111111111:organization/o-abcdefghij".into(),
            feature_set: "ALL".into(),
            management_account: AccountId::parse("111111111111").unwrap(),
            management_email: "m@example.com".into(),
            created: Timestamp(0),
            root_id: "r-ab12".into(),
            root_arn: String::new(),
            root_name: "Root".into(),
            policy_types: vec![],
            root_policies: vec![],
            root_tags: vec![],
            service_access: vec![],
        }
    }

    #[test]
    fn arns_name_the_management_account_and_the_organization() {
        let org = org();
        let arns = OrgArns::of(&org);
        assert_eq!(arns.organization(), "arn:aws:organizations::111111111111:organization/o-abcdefghij");
        assert_eq!(arns.root("r-ab12"), "arn:aws:organizations::111111111111:root/o-abcdefghij/r-ab12");
        assert_eq!(arns.ou("ou-ab12-11111111"), "arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-11111111");
        assert_eq!(
            arns.account("222222222222"),
            "arn:aws:organizations::111111111111:account/o-abcdefghij/222222222222"
        );
        assert_eq!(
            arns.policy("SERVICE_CONTROL_POLICY", "p-12345678"),
            "arn:aws:organizations::111111111111:policy/o-abcdefghij/service_control_policy/p-12345678"
        );
        assert_eq!(
            arns.policy("SERVICE_CONTROL_POLICY", "p-FullAWSAccess"),
            "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"
        );
        assert_eq!(
            arns.handshake("INVITE", "h-1234567890"),
            "arn:aws:organizations::111111111111:handshake/o-abcdefghij/invite/h-1234567890"
        );
        assert_eq!(arns.target("ou-ab12-11111111"), Some(arns.ou("ou-ab12-11111111")));
        assert_eq!(arns.target("p-1"), None);
    }
}
