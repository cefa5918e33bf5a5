//! Who a share is for: account ids, the owner's organization, its OUs (with every account below
//! them, nested OUs included) and IAM roles and users. How each is checked when it is added, how
//! it becomes a statement of the resource's policy, and whether it covers a given account.

use crate::errors::RamError;
use ingot_core::{AccountId, Arn};
use ingot_identity::organization::{account_path, organization_key, ou_key, AccountPath, OrganizationRecord, OuRecord};
use ingot_store::Tx;
use serde_json::{json, Value};

/// A principal as a share names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharePrincipal {
    Account(AccountId),
    Organization {
        organization_id: String,
    },
    Ou {
        organization_id: String,
        ou_id: String,
    },
    /// An IAM role or user ARN.
    Iam {
        arn: String,
        account: AccountId,
    },
}

fn malformed(principal: &str) -> RamError {
    RamError::invalid_parameter_exception(format!(
        "Principal ID {principal} is malformed. Verify the ID and try again."
    ))
}

/// Parses a principal as CreateResourceShare and AssociateResourceShare accept it.
pub fn parse_principal(text: &str) -> Result<SharePrincipal, RamError> {
    if let Some(account) = AccountId::parse(text) {
        return Ok(SharePrincipal::Account(account));
    }
    if !text.starts_with("arn:") {
        return Err(malformed(text));
    }
    let arn = Arn::parse(text).map_err(|_| malformed(text))?;
    match (arn.service.as_str(), arn.resource.split('/').collect::<Vec<_>>().as_slice()) {
        ("organizations", ["organization", org]) if org.starts_with("o-") => {
            Ok(SharePrincipal::Organization { organization_id: org.to_string() })
        }
        ("organizations", ["ou", org, ou]) if org.starts_with("o-") && ou.starts_with("ou-") => {
            Ok(SharePrincipal::Ou { organization_id: org.to_string(), ou_id: ou.to_string() })
        }
        ("iam", [kind, ..]) if (*kind == "role" || *kind == "user") && arn.region.is_empty() => {
            let account = AccountId::parse(&arn.account).ok_or_else(|| malformed(text))?;
            Ok(SharePrincipal::Iam { arn: text.to_string(), account })
        }
        _ => Err(malformed(text)),
    }
}

/// The owner's organization, when it belongs to one.
pub async fn owner_organization(tx: &Tx, owner: &AccountId) -> Result<Option<AccountPath>, RamError> {
    Ok(account_path(tx, owner).await?)
}

/// Whether sharing with the organization is on: the organization's trusted access lists RAM.
pub async fn sharing_enabled(tx: &Tx, organization_id: &str) -> Result<bool, RamError> {
    let organization = tx.get_record::<OrganizationRecord>(&organization_key(organization_id)).await?;
    Ok(organization.is_some_and(|o| o.service_access.iter().any(|s| s.service_principal == crate::store::RAM_SERVICE)))
}

/// Checks that an organization or OU principal is the owner's and exists.
pub async fn check_exists(
    tx: &Tx,
    principal: &SharePrincipal,
    owner_org: Option<&AccountPath>,
) -> Result<(), RamError> {
    match principal {
        SharePrincipal::Organization { organization_id } => {
            if owner_org.is_none_or(|o| o.organization_id != *organization_id) {
                return Err(RamError::unknown_resource_exception(format!(
                    "Organization {organization_id} could not be found."
                )));
            }
            Ok(())
        }
        SharePrincipal::Ou { organization_id, ou_id } => {
            let found = match owner_org {
                Some(o) if o.organization_id == *organization_id => {
                    tx.get_record::<OuRecord>(&ou_key(organization_id, ou_id)).await?.is_some()
                }
                _ => false,
            };
            if !found {
                return Err(RamError::unknown_resource_exception(format!(
                    "OrganizationalUnit {ou_id} in unknown organization could not be found."
                )));
            }
            Ok(())
        }
        SharePrincipal::Account(_) | SharePrincipal::Iam { .. } => Ok(()),
    }
}

/// The account a principal belongs to, for accounts and IAM principals.
pub fn account_of(principal: &SharePrincipal) -> Option<&AccountId> {
    match principal {
        SharePrincipal::Account(account) | SharePrincipal::Iam { account, .. } => Some(account),
        _ => None,
    }
}

/// Whether an account principal is outside the owner's organization.
pub async fn is_external(
    tx: &Tx,
    principal: &SharePrincipal,
    owner_org: Option<&AccountPath>,
) -> Result<bool, RamError> {
    let Some(account) = account_of(principal) else { return Ok(false) };
    let Some(owner_org) = owner_org else { return Ok(true) };
    let theirs = account_path(tx, account).await?;
    Ok(theirs.is_none_or(|p| p.organization_id != owner_org.organization_id))
}

/// Whether `principal` covers `account`, whose organization path is `path`.
pub fn covers(principal: &SharePrincipal, account: &AccountId, path: Option<&AccountPath>) -> bool {
    match principal {
        SharePrincipal::Account(a) | SharePrincipal::Iam { account: a, .. } => a == account,
        SharePrincipal::Organization { organization_id } => path.is_some_and(|p| p.organization_id == *organization_id),
        SharePrincipal::Ou { organization_id, ou_id } => {
            path.is_some_and(|p| p.organization_id == *organization_id && p.ous.iter().any(|o| o == ou_id))
        }
    }
}

/// The `Principal` element and the `Condition` (if any) of the statement that lets `principal`
/// use a shared resource. Organizations and OUs are named by condition on the caller's
/// organization path, so accounts that join or leave them gain or lose access at once.
pub fn statement_principal(principal: &SharePrincipal, partition: &str) -> (Value, Option<Value>) {
    match principal {
        SharePrincipal::Account(account) => (json!({ "AWS": format!("arn:{partition}:iam::{account}:root") }), None),
        SharePrincipal::Iam { arn, .. } => (json!({ "AWS": arn }), None),
        SharePrincipal::Organization { organization_id } => {
            ("*".into(), Some(json!({ "StringEquals": { "aws:PrincipalOrgID": organization_id } })))
        }
        SharePrincipal::Ou { organization_id, ou_id } => (
            "*".into(),
            Some(
                json!({ "ForAnyValue:StringLike": { "aws:PrincipalOrgPaths": format!("{organization_id}/*/{ou_id}/*") } }),
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_are_accounts_organizations_ous_and_iam_arns() {
        assert_eq!(
            parse_principal("111122223333").unwrap(),
            SharePrincipal::Account(AccountId::parse("111122223333").unwrap())
        );
        assert_eq!(
            parse_principal("arn:aws:organizations::111122223333:organization/o-abc123").unwrap(),
            SharePrincipal::Organization { organization_id: "o-abc123".into() }
        );
        assert_eq!(
            parse_principal("arn:aws:organizations::111122223333:ou/o-abc123/ou-ab12-cdef3456").unwrap(),
            SharePrincipal::Ou { organization_id: "o-abc123".into(), ou_id: "ou-ab12-cdef3456".into() }
        );
        assert!(matches!(
            parse_principal("arn:aws:iam::111122223333:role/reader").unwrap(),
            SharePrincipal::Iam { .. }
        ));
        for bad in ["o-abc123", "12345", "ou-x-y", "arn:aws:s3:::bucket", "arn:aws:iam::111122223333:group/g"] {
            assert!(matches!(parse_principal(bad), Err(RamError::InvalidParameterException(_))), "{bad}");
        }
    }

    #[test]
    fn an_ou_principal_covers_accounts_anywhere_below_it() {
        let path = AccountPath {
            organization_id: "o-abc123".into(),
            management_account: AccountId::parse("111122223333").unwrap(),
            root_id: "r-ab12".into(),
            ous: vec!["ou-ab12-parent01".into(), "ou-ab12-child001".into()],
            scps_enabled: false,
            policies_by_level: vec![],
        };
        let member = AccountId::parse("444455556666").unwrap();
        let parent = SharePrincipal::Ou { organization_id: "o-abc123".into(), ou_id: "ou-ab12-parent01".into() };
        assert!(covers(&parent, &member, Some(&path)));
        let other = SharePrincipal::Ou { organization_id: "o-abc123".into(), ou_id: "ou-ab12-other001".into() };
        assert!(!covers(&other, &member, Some(&path)));
        assert!(!covers(&parent, &member, None));
        let (_, condition) = statement_principal(&parent, "aws");
        assert_eq!(
            condition.unwrap()["ForAnyValue:StringLike"]["aws:PrincipalOrgPaths"],
            "o-abc123/*/ou-ab12-parent01/*"
        );
    }
}
