//! The decision while the only principals are account roots: a root may do anything to its own
//! account's resources and to public ones (an ARN with an empty account, such as AWS's public
//! parameters), and nothing to another account's (that needs resource policies and RAM). Every
//! other principal holds no permission. Ingot's internal principal acts like its account's root.

use ingot_core::authz::{denied, Resources};
use ingot_core::{Access, Arn, Authorizer, CommonError, Decision, Principal, PrincipalKind, RequestContext};

pub struct OwnAccountAuthorizer;

impl Authorizer for OwnAccountAuthorizer {
    fn authorize<'a>(
        &'a self,
        ctx: &'a RequestContext<'a>,
        action: &'static str,
        access: &'a Access<'a>,
    ) -> Decision<'a> {
        Decision::ready(decide(ctx.principal, action, access.resources))
    }
}

/// Allows `action` on every resource, or denies it naming the first resource refused.
pub fn decide(principal: &Principal, action: &str, resources: Resources<'_>) -> Result<(), CommonError> {
    let may_act = matches!(principal.kind, PrincipalKind::Root | PrincipalKind::Internal);
    for resource in resources.iter() {
        let owner_ok = match Arn::account_of(resource) {
            Ok(account) => account.is_empty() || account == principal.account.as_str(),
            // `*`: actions that are not about one resource.
            Err(_) => resource == "*",
        };
        if !(may_act && owner_ok) {
            let because = if may_act {
                format!("because no resource-based policy allows the {action} action")
            } else {
                format!("because no identity-based policy allows the {action} action")
            };
            return Err(denied(&principal.arn, action, resource, &because));
        }
    }
    Ok(())
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
        assert!(decide(&root("111111111111"), "ssm:GetParameter", Resources::One(arn)).is_ok());
    }

    #[test]
    fn a_root_may_not_act_on_another_accounts_resources() {
        let arn = "arn:aws:ssm:us-east-1:222222222222:parameter/a";
        let err = decide(&root("111111111111"), "ssm:GetParameter", Resources::One(arn)).unwrap_err();
        assert_eq!(
            err.message,
            "User: arn:aws:iam::111111111111:root is not authorized to perform: ssm:GetParameter on resource: \
             arn:aws:ssm:us-east-1:222222222222:parameter/a because no resource-based policy allows the ssm:GetParameter \
             action"
        );
    }

    #[test]
    fn public_resources_and_star_are_allowed_and_anything_else_is_not() {
        let p = root("111111111111");
        assert!(decide(&p, "ssm:GetParameter", Resources::One("arn:aws:ssm:us-east-1::parameter/aws/x")).is_ok());
        assert!(decide(&p, "ec2:DescribeRegions", Resources::All).is_ok());
        assert!(decide(&p, "ec2:DescribeRegions", Resources::One("nonsense")).is_err());
    }

    #[test]
    fn every_resource_of_a_request_must_be_allowed_and_the_first_refused_is_named() {
        let p = root("111111111111");
        let arns = vec![
            "arn:aws:ssm:us-east-1:111111111111:parameter/a".to_string(),
            "arn:aws:ssm:us-east-1:333333333333:parameter/b".to_string(),
        ];
        let err = decide(&p, "ssm:GetParameters", Resources::Many(&arns)).unwrap_err();
        assert!(err.message.contains("on resource: arn:aws:ssm:us-east-1:333333333333:parameter/b"));
    }

    #[test]
    fn principals_other_than_roots_hold_no_permission() {
        let mut p = root("111111111111");
        p.kind = PrincipalKind::User;
        p.arn = "arn:aws:iam::111111111111:user/nobody".to_string();
        let arn = "arn:aws:ssm:us-east-1:111111111111:parameter/a";
        let err = decide(&p, "ssm:GetParameter", Resources::One(arn)).unwrap_err();
        assert!(err.message.ends_with("because no identity-based policy allows the ssm:GetParameter action"));
        assert!(decide(&p, "ec2:DescribeRegions", Resources::All).is_err());
    }

    #[test]
    fn the_internal_principal_acts_like_its_accounts_root() {
        let p = Principal::service("ssm", AccountId::parse("111111111111").unwrap());
        assert!(
            decide(&p, "ssm:DeleteParameter", Resources::One("arn:aws:ssm:us-east-1:111111111111:parameter/a")).is_ok()
        );
        assert!(decide(&p, "ssm:DeleteParameter", Resources::One("arn:aws:ssm:us-east-1:2:parameter/a")).is_err());
    }
}
