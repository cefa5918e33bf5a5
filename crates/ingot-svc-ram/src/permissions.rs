//! Permissions: the AWS managed permissions of the resource types Ingot shares, and what a share
//! is allowed with them: ListPermissions, GetPermission, ListPermissionVersions,
//! ListResourceSharePermissions, AssociateResourceSharePermission,
//! DisassociateResourceSharePermission, ReplacePermissionAssociations.
//!
//! A share has one permission per resource type; without one named, RAM attaches the type's
//! default. The permission's actions become the statements RAM compiles into each shared
//! resource's policy (`policies.rs`), which the resource's service hands to the policy engine.

use crate::client_token;
use crate::errors::RamError;
use crate::operations::{
    AssociateResourceSharePermission, DisassociateResourceSharePermission, GetPermission, ListPermissionVersions,
    ListPermissions, ListResourceSharePermissions, ReplacePermissionAssociations,
};
use crate::pages::page;
use crate::shares::{authorize_share, find_own_share, save_and_compile};
use crate::store::PermissionAssociation;
use crate::types::{self, PermissionFeatureSet, PermissionType, ResourceOwner, ResourceSharePermissionSummary};
use crate::Ram;
use ingot_core::{Access, Handler, RequestContext, Timestamp};

/// An AWS managed permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManagedPermission {
    pub name: &'static str,
    pub resource_type: &'static str,
    pub actions: &'static [&'static str],
    /// The permission RAM attaches when a share names none for the type.
    pub is_default: bool,
}

/// The managed permissions of the types Ingot shares.
pub const MANAGED_PERMISSIONS: &[ManagedPermission] = &[
    ManagedPermission {
        name: "AWSRAMDefaultPermissionSSMParameterReadOnly",
        resource_type: "ssm:Parameter",
        actions: &["ssm:DescribeParameters", "ssm:GetParameter", "ssm:GetParameters"],
        is_default: true,
    },
    ManagedPermission {
        name: "AWSRAMPermissionSSMParameterReadOnlyWithHistory",
        resource_type: "ssm:Parameter",
        actions: &["ssm:DescribeParameters", "ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters"],
        is_default: false,
    },
];

/// Managed permissions have one version.
pub const VERSION: i32 = 1;
/// When the managed permissions were published (2021-06-01T00:00:00Z).
const PUBLISHED: Timestamp = Timestamp(1_622_505_600_000);

impl ManagedPermission {
    pub fn arn(&self, partition: &str) -> String {
        format!("arn:{partition}:ram::aws:permission/{}", self.name)
    }

    /// The permission document GetPermission shows: the statement a consumer is given.
    pub fn template(&self) -> String {
        serde_json::json!({ "Effect": "Allow", "Action": self.actions }).to_string()
    }

    fn summary(&self, partition: &str) -> ResourceSharePermissionSummary {
        ResourceSharePermissionSummary {
            arn: Some(self.arn(partition)),
            version: Some(VERSION.to_string()),
            default_version: Some(true),
            name: Some(self.name.to_string()),
            resource_type: Some(self.resource_type.to_string()),
            status: Some("ATTACHABLE".to_string()),
            creation_time: Some(PUBLISHED),
            last_updated_time: Some(PUBLISHED),
            is_resource_type_default: Some(self.is_default),
            permission_type: Some(PermissionType::AwsManaged),
            feature_set: Some(PermissionFeatureSet::Standard),
            permission_template_parameters: None,
            tags: None,
            resource_owner: None,
        }
    }
}

fn malformed_permission_arn() -> RamError {
    RamError::malformed_arn_exception("The specified permission ARN is not valid. Verify the ARN and try again.")
}

/// The managed permission an ARN names.
pub fn find_permission(arn: &str) -> Result<&'static ManagedPermission, RamError> {
    let Some(name) = arn.strip_prefix("arn:").and_then(|rest| rest.split_once(":ram::aws:permission/")).map(|(_, n)| n)
    else {
        return Err(malformed_permission_arn());
    };
    MANAGED_PERMISSIONS
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| RamError::unknown_resource_exception(format!("Permission {arn} could not be found.")))
}

/// The default permission of a resource type.
pub fn default_permission(resource_type: &str) -> Option<&'static ManagedPermission> {
    MANAGED_PERMISSIONS.iter().find(|p| p.resource_type == resource_type && p.is_default)
}

/// The permission a share uses for `resource_type`: the one attached, else the type's default.
pub fn permission_for(attached: &[PermissionAssociation], resource_type: &str) -> Option<&'static ManagedPermission> {
    attached
        .iter()
        .filter_map(|a| find_permission(&a.arn).ok())
        .find(|p| p.resource_type == resource_type)
        .or_else(|| default_permission(resource_type))
}

/// A permission as a share keeps it, attached now.
pub fn attachment(ctx: &RequestContext<'_>, permission: &ManagedPermission) -> PermissionAssociation {
    PermissionAssociation {
        arn: permission.arn(ctx.scope.partition()),
        version: VERSION,
        created: ctx.now,
        updated: ctx.now,
    }
}

fn check_version(version: Option<i32>) -> Result<(), RamError> {
    match version {
        None | Some(VERSION) => Ok(()),
        Some(v) => Err(RamError::invalid_parameter_exception(format!(
            "The permission version {v} does not exist. Specify a valid version and try again."
        ))),
    }
}

impl Handler<ListPermissions> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ListPermissionsRequest,
    ) -> Result<types::ListPermissionsResponse, RamError> {
        ctx.authorize::<ListPermissions>(Access::any_resource()).await?;
        if let Some(resource_type) = &input.resource_type {
            if !crate::resource_types::is_shareable_type(resource_type) {
                return Err(RamError::invalid_parameter_exception(format!("Invalid resource type: {resource_type}")));
            }
        }
        let customer_only = matches!(input.permission_type, Some(types::PermissionTypeFilter::CustomerManaged));
        let partition = ctx.scope.partition();
        let items = MANAGED_PERMISSIONS
            .iter()
            .filter(|_| !customer_only)
            .filter(|p| input.resource_type.as_deref().is_none_or(|t| t.eq_ignore_ascii_case(p.resource_type)))
            .filter(|_| input.resource_owner.as_ref().is_none_or(|o| *o != ResourceOwner::OtherAccounts))
            .map(|p| (p.name.to_string(), p.summary(partition)))
            .collect();
        let query = format!("ListPermissions;{:?};{:?}", input.resource_type, input.permission_type);
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::ListPermissionsResponse { permissions: Some(page.items), next_token: page.marker })
    }
}

impl Handler<GetPermission> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GetPermissionRequest,
    ) -> Result<types::GetPermissionResponse, RamError> {
        ctx.authorize::<GetPermission>(Access::resource(&input.permission_arn)).await?;
        let permission = find_permission(&input.permission_arn)?;
        check_version(input.permission_version)?;
        let summary = permission.summary(ctx.scope.partition());
        Ok(types::GetPermissionResponse {
            permission: Some(types::ResourceSharePermissionDetail {
                arn: summary.arn,
                version: summary.version,
                default_version: summary.default_version,
                name: summary.name,
                resource_type: summary.resource_type,
                permission: Some(permission.template()),
                permission_template_parameters: None,
                creation_time: summary.creation_time,
                last_updated_time: summary.last_updated_time,
                is_resource_type_default: summary.is_resource_type_default,
                permission_type: summary.permission_type,
                feature_set: summary.feature_set,
                status: Some(types::PermissionStatus::Attachable),
                tags: None,
                resource_owner: None,
            }),
        })
    }
}

impl Handler<ListPermissionVersions> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ListPermissionVersionsRequest,
    ) -> Result<types::ListPermissionVersionsResponse, RamError> {
        ctx.authorize::<ListPermissionVersions>(Access::resource(&input.permission_arn)).await?;
        let permission = find_permission(&input.permission_arn)?;
        let items = vec![(VERSION.to_string(), permission.summary(ctx.scope.partition()))];
        let query = format!("ListPermissionVersions;{}", input.permission_arn);
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::ListPermissionVersionsResponse { permissions: Some(page.items), next_token: page.marker })
    }
}

impl Handler<ListResourceSharePermissions> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ListResourceSharePermissionsRequest,
    ) -> Result<types::ListResourceSharePermissionsResponse, RamError> {
        let share = find_own_share(ctx, "ram:ListResourceSharePermissions", &input.resource_share_arn).await?;
        authorize_share::<ListResourceSharePermissions>(ctx, &share).await?;
        let partition = ctx.scope.partition();
        let items =
            effective_permissions(&share).into_iter().map(|p| (p.name.to_string(), p.summary(partition))).collect();
        let query = format!("ListResourceSharePermissions;{}", share.arn);
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::ListResourceSharePermissionsResponse { permissions: Some(page.items), next_token: page.marker })
    }
}

/// The permissions a share uses: those attached, and the default of each shared resource type
/// that has none attached.
pub fn effective_permissions(share: &crate::store::ShareRecord) -> Vec<&'static ManagedPermission> {
    let mut found: Vec<&'static ManagedPermission> =
        share.permissions.iter().filter_map(|a| find_permission(&a.arn).ok()).collect();
    for resource in &share.resources {
        let Some(resource_type) = resource.resource_type.as_deref() else { continue };
        if !found.iter().any(|p| p.resource_type == resource_type) {
            found.extend(default_permission(resource_type));
        }
    }
    found
}

impl Handler<AssociateResourceSharePermission> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::AssociateResourceSharePermissionRequest,
    ) -> Result<types::AssociateResourceSharePermissionResponse, RamError> {
        let mut share = find_own_share(ctx, "ram:AssociateResourceSharePermission", &input.resource_share_arn).await?;
        authorize_share::<AssociateResourceSharePermission>(ctx, &share).await?;
        let permission = find_permission(&input.permission_arn)?;
        check_version(input.permission_version)?;
        let same_type = share
            .permissions
            .iter()
            .position(|a| find_permission(&a.arn).is_ok_and(|p| p.resource_type == permission.resource_type));
        match same_type {
            Some(i) if share.permissions[i].arn == permission.arn(ctx.scope.partition()) => {}
            Some(i) if input.replace == Some(true) => {
                share.permissions[i] = PermissionAssociation {
                    arn: permission.arn(ctx.scope.partition()),
                    version: VERSION,
                    created: ctx.now,
                    updated: ctx.now,
                };
            }
            Some(_) => {
                return Err(RamError::invalid_parameter_exception(format!(
                    "A permission for resource type {} is already associated with the resource share. Set replace to true to replace it.",
                    permission.resource_type
                )))
            }
            None => share.permissions.push(PermissionAssociation {
                arn: permission.arn(ctx.scope.partition()),
                version: VERSION,
                created: ctx.now,
                updated: ctx.now,
            }),
        }
        share.updated = ctx.now;
        save_and_compile(ctx, &share).await?;
        Ok(types::AssociateResourceSharePermissionResponse {
            return_value: Some(true),
            client_token: Some(client_token(ctx, input.client_token)),
        })
    }
}

impl Handler<DisassociateResourceSharePermission> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DisassociateResourceSharePermissionRequest,
    ) -> Result<types::DisassociateResourceSharePermissionResponse, RamError> {
        let mut share =
            find_own_share(ctx, "ram:DisassociateResourceSharePermission", &input.resource_share_arn).await?;
        authorize_share::<DisassociateResourceSharePermission>(ctx, &share).await?;
        let permission = find_permission(&input.permission_arn)?;
        let arn = permission.arn(ctx.scope.partition());
        if !share.permissions.iter().any(|a| a.arn == arn) {
            return Err(RamError::invalid_parameter_exception(format!(
                "The permission {arn} is not associated with the resource share."
            )));
        }
        // The type's resources fall back to its default permission.
        share.permissions.retain(|a| a.arn != arn);
        share.updated = ctx.now;
        save_and_compile(ctx, &share).await?;
        Ok(types::DisassociateResourceSharePermissionResponse {
            return_value: Some(true),
            client_token: Some(client_token(ctx, input.client_token)),
        })
    }
}

impl Handler<ReplacePermissionAssociations> for Ram {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ReplacePermissionAssociationsRequest,
    ) -> Result<types::ReplacePermissionAssociationsResponse, RamError> {
        ctx.authorize::<ReplacePermissionAssociations>(Access::resource(&input.from_permission_arn)).await?;
        let from = find_permission(&input.from_permission_arn)?;
        let to = find_permission(&input.to_permission_arn)?;
        check_version(input.from_permission_version)?;
        if from.resource_type != to.resource_type {
            return Err(RamError::invalid_parameter_exception("The permissions must be for the same resource type."));
        }
        let partition = ctx.scope.partition();
        let (from_arn, to_arn) = (from.arn(partition), to.arn(partition));
        for mut share in crate::shares::own_shares(ctx).await? {
            let Some(slot) = share.permissions.iter_mut().find(|a| a.arn == from_arn) else { continue };
            *slot = PermissionAssociation { arn: to_arn.clone(), version: VERSION, created: ctx.now, updated: ctx.now };
            share.updated = ctx.now;
            save_and_compile(ctx, &share).await?;
        }
        Ok(types::ReplacePermissionAssociationsResponse {
            replace_permission_associations_work: Some(types::ReplacePermissionAssociationsWork {
                id: Some(ctx.ids().uuid()),
                from_permission_arn: Some(from_arn),
                from_permission_version: Some(VERSION.to_string()),
                to_permission_arn: Some(to_arn),
                to_permission_version: Some(VERSION.to_string()),
                permission_template_parameters: None,
                // The shares change within the call.
                status: Some(types::ReplacePermissionAssociationsWorkStatus::Completed),
                status_message: None,
                creation_time: Some(ctx.now),
                last_updated_time: Some(ctx.now),
            }),
            client_token: Some(client_token(ctx, input.client_token)),
        })
    }
}
