//! Whether an `AWS` principal named in a resource or trust policy exists: accounts (by id or
//! root ARN), sessions, federated users and unique ids are accepted as written; users and roles
//! must exist. IAM checks trust policies with it, KMS key policies.

use crate::iam::{entity_name_key, parse_entity_arn, EntityKind, RoleRecord, UserRecord};
use ingot_core::AccountId;
use ingot_store::{StoreError, Tx};

/// Whether an `AWS` principal of a trust policy names something that exists: an account (by id
/// or root ARN), an existing user or role, a session, a federated user, or a unique id.
pub async fn aws_principal_exists(tx: &Tx, principal: &str) -> Result<bool, StoreError> {
    match classify_principal(principal) {
        PrincipalRef::Accepted => Ok(true),
        PrincipalRef::Invalid => Ok(false),
        PrincipalRef::Entity { account, kind, name } => {
            let key = entity_name_key(&account, kind, &name);
            let arn = match kind {
                EntityKind::User => tx.get_record::<UserRecord>(&key).await?.map(|u| u.arn),
                _ => tx.get_record::<RoleRecord>(&key).await?.map(|r| r.arn),
            };
            Ok(arn.as_deref() == Some(principal))
        }
    }
}

/// What an `AWS` principal is, before looking anything up.
#[derive(Debug, PartialEq, Eq)]
enum PrincipalRef {
    /// Accounts, sessions, federated users, unique ids: nothing to look up.
    Accepted,
    /// Not a principal IAM accepts (a wildcard inside an ARN, an unknown ARN shape).
    Invalid,
    /// A user or a role, which must exist.
    Entity { account: AccountId, kind: EntityKind, name: String },
}

fn classify_principal(principal: &str) -> PrincipalRef {
    if AccountId::parse(principal).is_some() {
        return PrincipalRef::Accepted;
    }
    if !principal.starts_with("arn:") {
        // AIDA…/AROA… unique ids: what IAM keeps once a named entity is gone.
        let unique_id = principal.len() >= 16 && principal.bytes().all(|c| c.is_ascii_alphanumeric());
        return if unique_id { PrincipalRef::Accepted } else { PrincipalRef::Invalid };
    }
    if principal.contains('*') || principal.contains('?') {
        return PrincipalRef::Invalid;
    }
    let parts: Vec<&str> = principal.splitn(6, ':').collect();
    let [_, _, service, region, account, resource] = parts.as_slice() else {
        return PrincipalRef::Invalid;
    };
    if !region.is_empty() || AccountId::parse(account).is_none() {
        return PrincipalRef::Invalid;
    }
    match *service {
        "iam" if *resource == "root" => PrincipalRef::Accepted,
        "iam" => match parse_entity_arn(principal) {
            Some(parsed) if matches!(parsed.kind, EntityKind::User | EntityKind::Role) => {
                match AccountId::parse(parsed.account) {
                    Some(account) => PrincipalRef::Entity { account, kind: parsed.kind, name: parsed.name.to_string() },
                    None => PrincipalRef::Invalid,
                }
            }
            _ => PrincipalRef::Invalid,
        },
        "sts" if resource.starts_with("assumed-role/") || resource.starts_with("federated-user/") => {
            PrincipalRef::Accepted
        }
        _ => PrincipalRef::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_principals_are_classified_before_any_lookup() {
        assert_eq!(classify_principal("123456789012"), PrincipalRef::Accepted);
        assert_eq!(classify_principal("arn:aws:iam::123456789012:root"), PrincipalRef::Accepted);
        assert_eq!(classify_principal("arn:aws:sts::123456789012:assumed-role/R/s"), PrincipalRef::Accepted);
        assert_eq!(classify_principal("AROAEXAMPLEEXAMPLE01"), PrincipalRef::Accepted);
        assert_eq!(classify_principal("arn:aws:iam::123456789012:role/*"), PrincipalRef::Invalid);
        assert_eq!(classify_principal("arn:aws:iam::12:role/x"), PrincipalRef::Invalid);
        assert_eq!(classify_principal("arn:aws:iam::123456789012:policy/x"), PrincipalRef::Invalid);
        assert_eq!(
            classify_principal("arn:aws:iam::123456789012:role/a/Name"),
            PrincipalRef::Entity {
                account: AccountId::parse("123456789012").unwrap(),
                kind: EntityKind::Role,
                name: "Name".into()
            }
        );
    }
}
