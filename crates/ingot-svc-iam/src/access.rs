//! IAM's access decisions, in one place: the authorizer, asked with the operation's action, the
//! entity's ARN and the tag condition keys IAM supplies (`aws:ResourceTag/*` of the entity,
//! `aws:RequestTag/*` and `aws:TagKeys` of a request that tags), `iam:PassRole` where IAM hands a
//! role to a service (an instance profile), and IAM's own rule that service-linked roles (and
//! IAM Identity Center's reserved roles) are changed only by their service.

use crate::errors::IamError;
use ingot_core::{Access, Empty, Operation, RequestContext};
use ingot_identity::{RoleRecord, Tag};

/// Authorizes `Op` on the entity at `arn`, which carries `tags` (none for an entity that does not
/// exist yet or has no tags).
pub async fn authorize<Op: Operation>(ctx: &RequestContext<'_>, arn: &str, tags: &[Tag]) -> Result<(), IamError> {
    let access = crate::tags::with_resource_tags(Access::resource(arn), tags);
    Ok(ctx.authorize::<Op>(access).await?)
}

/// Authorizes `Op` with an access request the handler built (request tags, `iam:PolicyARN`, …).
pub async fn authorize_with<Op: Operation>(ctx: &RequestContext<'_>, access: Access<'_>) -> Result<(), IamError> {
    Ok(ctx.authorize::<Op>(access).await?)
}

/// Authorizes `Op`, which is not about one entity (listings, simulation of custom policies).
pub async fn authorize_any<Op: Operation>(ctx: &RequestContext<'_>) -> Result<(), IamError> {
    Ok(ctx.authorize::<Op>(Access::any_resource()).await?)
}

/// `iam:PassRole`: handing a role to a service (adding it to an instance profile). It is an
/// action without an API operation of its own, asked for besides the operation's.
#[derive(Debug, Clone, Copy)]
pub struct PassRole;

impl Operation for PassRole {
    const NAME: &'static str = "PassRole";
    const IAM_ACTION: &'static str = "iam:PassRole";
    type Input = Empty;
    type Output = Empty;
    type Error = IamError;
}

/// Authorizes passing the role at `role_arn` to a service.
pub async fn authorize_pass_role(ctx: &RequestContext<'_>, role_arn: &str, tags: &[Tag]) -> Result<(), IamError> {
    authorize::<PassRole>(ctx, role_arn, tags).await
}

/// Whether only AWS may change the role: a service-linked role, or a role IAM Identity Center
/// reserves (`AWSReservedSSO_…`).
pub fn is_protected(role: &RoleRecord) -> bool {
    role.service_linked.is_some() || role.name.starts_with("AWSReservedSSO_")
}

/// Refuses a change to a protected role.
pub fn refuse_protected(role: &RoleRecord) -> Result<(), IamError> {
    if is_protected(role) {
        return Err(IamError::unmodifiable_entity_exception(format!(
            "Cannot perform the operation on the protected role '{}' - this role is only modifiable by AWS",
            role.name
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingot_core::Timestamp;

    fn role(name: &str, service_linked: Option<&str>) -> RoleRecord {
        RoleRecord {
            name: name.into(),
            path: "/".into(),
            id: "AROAEXAMPLEEXAMPLE01".into(),
            arn: format!("arn:aws:iam::111122223333:role/{name}"),
            created: Timestamp(0),
            assume_role_policy: "{}".into(),
            description: None,
            max_session_duration: 3600,
            permissions_boundary: None,
            tags: Vec::new(),
            inline_policies: Default::default(),
            attached_policies: Vec::new(),
            service_linked: service_linked.map(str::to_string),
            last_used: None,
        }
    }

    #[test]
    fn service_linked_and_identity_center_roles_are_protected() {
        assert!(refuse_protected(&role("app", None)).is_ok());
        let err =
            refuse_protected(&role("AWSServiceRoleForOrganizations", Some("organizations.amazonaws.com"))).unwrap_err();
        assert_eq!(err.code(), Some("UnmodifiableEntity"));
        assert_eq!(
            err.message(),
            Some(
                "Cannot perform the operation on the protected role 'AWSServiceRoleForOrganizations' - this role is only modifiable by AWS"
            )
        );
        assert!(refuse_protected(&role("AWSReservedSSO_Admin_0123", None)).is_err());
    }
}
