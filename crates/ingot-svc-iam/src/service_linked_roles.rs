//! Service-linked roles: CreateServiceLinkedRole, DeleteServiceLinkedRole and
//! GetServiceLinkedRoleDeletionStatus. A service-linked role is named by its service
//! (`AWSServiceRoleFor<Name>[_<suffix>]`), lives at `/aws-service-role/<service principal>/`,
//! trusts only that service, and only the service changes it. Ingot deletes one at once, so every
//! deletion task has succeeded; the task is kept for GetServiceLinkedRoleDeletionStatus.

use crate::access;
use crate::errors::IamError;
use crate::instance_profiles::profiles_of_role;
use crate::managed_policies::adjust_usage;
use crate::operations::{CreateServiceLinkedRole, DeleteServiceLinkedRole, GetServiceLinkedRoleDeletionStatus};
use crate::roles::{role_for, role_shape, RoleView, DEFAULT_MAX_SESSION_DURATION};
use crate::store::{self, DeletionTaskRecord};
use crate::types::{
    CreateServiceLinkedRoleRequest, CreateServiceLinkedRoleResponse, DeleteServiceLinkedRoleRequest,
    DeleteServiceLinkedRoleResponse, DeletionTaskStatusType, GetServiceLinkedRoleDeletionStatusRequest,
    GetServiceLinkedRoleDeletionStatusResponse,
};
use crate::Iam;
use ingot_core::{Access, Handler, RequestContext};
use ingot_identity::iam::EntityKind;
use ingot_identity::RoleRecord;

/// A service that can have a service-linked role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkedService {
    /// `organizations.amazonaws.com`.
    pub principal: &'static str,
    /// What follows `AWSServiceRoleFor` in the role's name.
    pub role_suffix: &'static str,
    /// Whether the service accepts a `CustomSuffix` (several roles of one service).
    pub custom_suffix: bool,
}

const fn service(principal: &'static str, role_suffix: &'static str, custom_suffix: bool) -> LinkedService {
    LinkedService { principal, role_suffix, custom_suffix }
}

/// The services Ingot knows service-linked roles of, with AWS's role names.
pub const SERVICES: &[LinkedService] = &[
    service("organizations.amazonaws.com", "Organizations", false),
    service("autoscaling.amazonaws.com", "AutoScaling", true),
    service("imagebuilder.amazonaws.com", "ImageBuilder", false),
    service("ssm.amazonaws.com", "AmazonSSM", false),
    service("ram.amazonaws.com", "ResourceAccessManager", false),
    service("spot.amazonaws.com", "EC2Spot", false),
    service("spotfleet.amazonaws.com", "EC2SpotFleet", false),
    service("ecs.amazonaws.com", "ECS", false),
    service("elasticloadbalancing.amazonaws.com", "ElasticLoadBalancing", false),
    service("eks.amazonaws.com", "AmazonEKS", false),
    service("rds.amazonaws.com", "RDS", false),
    service("es.amazonaws.com", "AmazonElasticsearchService", false),
    service("sso.amazonaws.com", "SSO", false),
    service("cloudtrail.amazonaws.com", "CloudTrail", false),
    service("config.amazonaws.com", "Config", false),
];

pub fn linked_service(principal: &str) -> Option<&'static LinkedService> {
    SERVICES.iter().find(|s| s.principal == principal)
}

/// `AWSServiceRoleFor<Name>` or `AWSServiceRoleFor<Name>_<suffix>`.
pub fn role_name(service: &LinkedService, suffix: Option<&str>) -> String {
    match suffix {
        Some(suffix) => format!("AWSServiceRoleFor{}_{suffix}", service.role_suffix),
        None => format!("AWSServiceRoleFor{}", service.role_suffix),
    }
}

/// `/aws-service-role/<service principal>/`.
pub fn role_path(principal: &str) -> String {
    format!("/aws-service-role/{principal}/")
}

/// The trust policy of a service's linked role.
pub fn trust_policy(principal: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

/// Splits `task/aws-service-role/<service principal>/<role name>/<uuid>`.
pub fn parse_task_id(task_id: &str) -> Option<(&str, &str, &str)> {
    let rest = task_id.strip_prefix("task/aws-service-role/")?;
    let mut parts = rest.split('/');
    let (principal, role, uuid) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || principal.is_empty() || role.is_empty() || uuid.is_empty() {
        return None;
    }
    Some((principal, role, uuid))
}

impl Handler<CreateServiceLinkedRole> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: CreateServiceLinkedRoleRequest,
    ) -> Result<CreateServiceLinkedRoleResponse, IamError> {
        let principal = input.aws_service_name.as_str();
        let Some(service) = linked_service(principal) else {
            let access = Access::any_resource().condition("iam:AWSServiceName", [principal]);
            access::authorize_with::<CreateServiceLinkedRole>(ctx, access).await?;
            return Err(IamError::invalid_input_exception(format!(
                "Service name {principal} is not a service that supports service-linked roles."
            )));
        };
        let name = role_name(service, input.custom_suffix.as_deref());
        let path = role_path(principal);
        let arn = store::arn(ctx, EntityKind::Role, &path, &name);
        let access = Access::resource(&arn).condition("iam:AWSServiceName", [principal]);
        access::authorize_with::<CreateServiceLinkedRole>(ctx, access).await?;
        if input.custom_suffix.is_some() && !service.custom_suffix {
            return Err(IamError::invalid_input_exception(format!("Custom suffix is not allowed for {principal}")));
        }
        if store::find_role(ctx, &name).await?.is_some() {
            return Err(IamError::invalid_input_exception(format!(
                "Service role name {name} has been taken in this account, please try a different suffix."
            )));
        }
        let record = RoleRecord {
            id: ctx.ids().unique_id("AROA"),
            name,
            path,
            arn,
            created: ctx.now,
            assume_role_policy: trust_policy(principal),
            description: input.description,
            max_session_duration: DEFAULT_MAX_SESSION_DURATION,
            permissions_boundary: None,
            tags: Vec::new(),
            inline_policies: Default::default(),
            attached_policies: Vec::new(),
            service_linked: Some(principal.to_string()),
            last_used: None,
        };
        store::save_role(ctx, &record);
        Ok(CreateServiceLinkedRoleResponse { role: Some(role_shape(&record, RoleView::Created)) })
    }
}

impl Handler<DeleteServiceLinkedRole> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: DeleteServiceLinkedRoleRequest,
    ) -> Result<DeleteServiceLinkedRoleResponse, IamError> {
        let role = role_for::<DeleteServiceLinkedRole>(ctx, &input.role_name, |a| a).await?;
        let Some(principal) = role.service_linked.clone() else {
            return Err(IamError::invalid_input_exception(format!("Role {} is not a service-linked role.", role.name)));
        };
        for arn in &role.attached_policies {
            adjust_usage(ctx, arn, -1, 0).await?;
        }
        if let Some(boundary) = &role.permissions_boundary {
            adjust_usage(ctx, boundary, 0, -1).await?;
        }
        for mut profile in profiles_of_role(ctx, &role.name).await? {
            profile.roles.retain(|r| !r.eq_ignore_ascii_case(&role.name));
            store::save_instance_profile(ctx, &profile);
        }
        store::remove(ctx, EntityKind::Role, &role.name);
        let uuid = ctx.ids().uuid();
        let task_id = format!("task/aws-service-role/{principal}/{}/{uuid}", role.name);
        let task = DeletionTaskRecord { task_id: task_id.clone(), role_arn: role.arn.clone(), created: ctx.now };
        ctx.tx.put_record(&store::deletion_task_key(&ctx.scope.account, &uuid), &task);
        Ok(DeleteServiceLinkedRoleResponse { deletion_task_id: task_id })
    }
}

impl Handler<GetServiceLinkedRoleDeletionStatus> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: GetServiceLinkedRoleDeletionStatusRequest,
    ) -> Result<GetServiceLinkedRoleDeletionStatusResponse, IamError> {
        let task_id = input.deletion_task_id.as_str();
        let Some((principal, role, uuid)) = parse_task_id(task_id) else {
            access::authorize_any::<GetServiceLinkedRoleDeletionStatus>(ctx).await?;
            return Err(IamError::invalid_input_exception(format!("Invalid deletion task id: {task_id}")));
        };
        let arn = store::arn(ctx, EntityKind::Role, &role_path(principal), role);
        access::authorize::<GetServiceLinkedRoleDeletionStatus>(ctx, &arn, &[]).await?;
        let task = ctx.tx.get_record::<DeletionTaskRecord>(&store::deletion_task_key(&ctx.scope.account, uuid)).await?;
        match task {
            Some(task) if task.task_id == task_id => Ok(GetServiceLinkedRoleDeletionStatusResponse {
                status: DeletionTaskStatusType::Succeeded,
                reason: None,
            }),
            _ => Err(IamError::no_such_entity_exception(format!("Deletion task {task_id} cannot be found."))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_linked_roles_are_named_by_their_service() {
        let orgs = linked_service("organizations.amazonaws.com").unwrap();
        assert_eq!(role_name(orgs, None), "AWSServiceRoleForOrganizations");
        let asg = linked_service("autoscaling.amazonaws.com").unwrap();
        assert_eq!(role_name(asg, Some("web")), "AWSServiceRoleForAutoScaling_web");
        assert_eq!(role_name(linked_service("ssm.amazonaws.com").unwrap(), None), "AWSServiceRoleForAmazonSSM");
        assert_eq!(
            role_name(linked_service("imagebuilder.amazonaws.com").unwrap(), None),
            "AWSServiceRoleForImageBuilder"
        );
        assert!(linked_service("nope.amazonaws.com").is_none());
        assert_eq!(role_path("organizations.amazonaws.com"), "/aws-service-role/organizations.amazonaws.com/");
    }

    #[test]
    fn the_trust_policy_names_the_service_and_parses_as_one() {
        let trust = trust_policy("ssm.amazonaws.com");
        let policy = ingot_policy::engine::Policy::parse(&trust, ingot_policy::engine::PolicyKind::Trust).unwrap();
        assert!(policy.named_aws_principals().is_empty());
        assert!(trust.contains(r#""Service":"ssm.amazonaws.com""#));
    }

    #[test]
    fn deletion_task_ids_name_service_role_and_task() {
        assert_eq!(
            parse_task_id("task/aws-service-role/ssm.amazonaws.com/AWSServiceRoleForAmazonSSM/1234-ab"),
            Some(("ssm.amazonaws.com", "AWSServiceRoleForAmazonSSM", "1234-ab"))
        );
        assert_eq!(parse_task_id("task/aws-service-role/ssm.amazonaws.com/R"), None);
        assert_eq!(parse_task_id("sweep"), None);
        assert_eq!(parse_task_id("task/aws-service-role/a/b/c/d"), None);
    }
}
