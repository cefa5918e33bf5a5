//! The authorization decision every handler asks for.
//!
//! Until the IAM policy engine arrives, the only principals are account roots, and a root may do
//! anything to its own account's resources and to public ones (an ARN with an empty account),
//! and nothing to another account's (cross-account access needs resource policies and RAM).

use ingot_core::{Arn, Authorizer, CommonError, Principal, PrincipalKind};

pub struct OwnAccountAuthorizer;

impl Authorizer for OwnAccountAuthorizer {
    fn authorize(&self, principal: &Principal, action: &str, resource: &str) -> Result<(), CommonError> {
        let owner_ok = match Arn::account_of(resource) {
            Ok(account) => account.is_empty() || account == principal.account.as_str(),
            // `*`: actions that are not about one resource.
            Err(_) => resource == "*",
        };
        let kind_ok = matches!(principal.kind, PrincipalKind::Root | PrincipalKind::Internal);
        if owner_ok && kind_ok {
            return Ok(());
        }
        let because = if kind_ok {
            "because no resource-based policy allows the action"
        } else {
            "because no identity-based policy allows the action"
        };
        Err(CommonError::access_denied(format!(
            "User: {} is not authorized to perform: {action} on resource: {resource} {because}",
            principal.arn
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingot_core::AccountId;

    fn root(id: &str) -> Principal {
        Principal::root(AccountId::parse(id).unwrap())
    }

    #[test]
    fn a_root_may_act_on_its_own_resources() {
        let arn = "arn:aws:ssm:us-east-1:111111111111:parameter/a";
        assert!(OwnAccountAuthorizer.authorize(&root("111111111111"), "ssm:GetParameter", arn).is_ok());
    }

    #[test]
    fn a_root_may_not_act_on_another_accounts_resources() {
        let arn = "arn:aws:ssm:us-east-1:222222222222:parameter/a";
        let err = OwnAccountAuthorizer.authorize(&root("111111111111"), "ssm:GetParameter", arn).unwrap_err();
        assert!(err.message.contains("is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm"));
    }

    #[test]
    fn public_resources_and_star_are_allowed() {
        let p = root("111111111111");
        assert!(OwnAccountAuthorizer
            .authorize(&p, "ssm:GetParameter", "arn:aws:ssm:us-east-1::parameter/aws/x")
            .is_ok());
        assert!(OwnAccountAuthorizer.authorize(&p, "ec2:DescribeRegions", "*").is_ok());
        assert!(OwnAccountAuthorizer.authorize(&p, "ec2:DescribeRegions", "nonsense").is_err());
    }

    #[test]
    fn principals_other_than_root_are_denied_without_policies() {
        let mut p = root("111111111111");
        p.kind = PrincipalKind::User;
        let arn = "arn:aws:ssm:us-east-1:111111111111:parameter/a";
        assert!(OwnAccountAuthorizer.authorize(&p, "ssm:GetParameter", arn).is_err());
    }
}
