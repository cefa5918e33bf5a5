//! The resources a share holds: which ARNs name a shareable resource type, and whether the owner
//! may share a given resource. Ingot holds resources of one shareable type, SSM parameters; RAM
//! learns what it needs about one from SSM itself, through the invoker, acting as RAM in the
//! owner's account (DescribeParameters), as AWS's RAM asks the resource's service.

use crate::errors::RamError;
use crate::store::RAM_SERVICE;
use ingot_core::{AccountId, Arn, Call, Origin, Principal, RequestContext, Scope};
use serde_json::json;

/// ARN shapes of the types RAM shares: (service, resource prefix, type).
const ARN_TYPES: &[(&str, &str, &str)] = &[
    ("ssm", "parameter/", "ssm:Parameter"),
    ("imagebuilder", "image/", "imagebuilder:Image"),
    ("imagebuilder", "component/", "imagebuilder:Component"),
    ("imagebuilder", "image-recipe/", "imagebuilder:ImageRecipe"),
    ("imagebuilder", "container-recipe/", "imagebuilder:ContainerRecipe"),
    ("ec2", "subnet/", "ec2:Subnet"),
    ("ec2", "transit-gateway/", "ec2:TransitGateway"),
    ("ec2", "prefix-list/", "ec2:PrefixList"),
    ("ec2", "capacity-reservation/", "ec2:CapacityReservation"),
    ("ec2", "dedicated-host/", "ec2:DedicatedHost"),
    ("ec2", "placement-group/", "ec2:PlacementGroup"),
    ("license-manager", "license-configuration:", "license-manager:LicenseConfiguration"),
    ("route53resolver", "resolver-rule/", "route53resolver:ResolverRule"),
    ("codebuild", "project/", "codebuild:Project"),
    ("glue", "database/", "glue:Database"),
    ("glue", "table/", "glue:Table"),
];

/// The failure of a resource association whose resource the owner does not have.
pub const NOT_FOUND_MESSAGE: &str = "The specified resource could not be found in your AWS account";

/// A resource ARN, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedResource {
    pub arn: String,
    pub resource_type: &'static str,
    pub owner: Option<AccountId>,
    /// The resource part after its prefix (a parameter's name without the leading slash).
    pub path: String,
}

fn malformed(arn: &str) -> RamError {
    RamError::malformed_arn_exception(format!(
        "The specified resource ARN {arn} is not valid. Verify the ARN and try again."
    ))
}

/// Parses a resource ARN of a type RAM shares, in the caller's region and partition.
pub fn parse_resource(ctx: &RequestContext<'_>, arn: &str) -> Result<SharedResource, RamError> {
    let parsed = Arn::parse(arn).map_err(|_| malformed(arn))?;
    if parsed.partition != ctx.scope.partition() {
        return Err(malformed(arn));
    }
    let Some((_, prefix, resource_type)) =
        ARN_TYPES.iter().find(|(service, prefix, _)| parsed.service == *service && parsed.resource.starts_with(prefix))
    else {
        return Err(RamError::malformed_arn_exception("You cannot share the selected resource type."));
    };
    if parsed.region != ctx.region().as_str() {
        return Err(RamError::invalid_parameter_exception(format!(
            "The resource {arn} is not in the Region of the request ({}).",
            ctx.region()
        )));
    }
    let path = parsed.resource[prefix.len()..].to_string();
    if path.is_empty() {
        return Err(malformed(arn));
    }
    Ok(SharedResource { arn: arn.to_string(), resource_type, owner: AccountId::parse(&parsed.account), path })
}

/// Whether the caller may share `resource`: `Ok(None)` if so, `Ok(Some(message))` when the
/// association fails (AWS creates it in the `FAILED` state: a resource the caller does not own or
/// that does not exist), an error when the resource cannot be shared at all (a Standard-tier
/// parameter, a SecureString under the AWS managed key).
pub async fn check_resource(ctx: &RequestContext<'_>, resource: &SharedResource) -> Result<Option<String>, RamError> {
    if resource.owner.as_ref() != Some(ctx.account()) || resource.resource_type != "ssm:Parameter" {
        return Ok(Some(NOT_FOUND_MESSAGE.to_string()));
    }
    let name = if resource.path.contains('/') { format!("/{}", resource.path) } else { resource.path.clone() };
    let input = json!({ "ParameterFilters": [{ "Key": "Name", "Option": "Equals", "Values": [name] }] });
    let ram = Principal::service("ram", ctx.account().clone());
    let origin = Origin { source_ip: RAM_SERVICE, user_agent: RAM_SERVICE, via_service: None, ..ctx.origin };
    let scope: &Scope = ctx.scope;
    let call = Call { service: "ssm", operation: "DescribeParameters", scope, principal: &ram, origin };
    let output = ctx.env.invoker.invoke(ctx.env, call, input).await.map_err(|f| match f {
        ingot_core::ServiceFailure::Common(e) => RamError::Common(e),
        other => RamError::Common(ingot_core::CommonError::internal(format!("SSM answered RAM with {other:?}"))),
    })?;
    let Some(parameter) = output["Parameters"].as_array().and_then(|list| list.first()) else {
        return Ok(Some(NOT_FOUND_MESSAGE.to_string()));
    };
    if parameter["Tier"] != "Advanced" {
        return Err(RamError::invalid_parameter_exception(format!(
            "The parameter {} cannot be shared: only parameters in the Advanced tier can be shared.",
            resource.arn
        )));
    }
    if parameter["Type"] == "SecureString" && parameter["KeyId"].as_str().is_none_or(|k| k == "alias/aws/ssm") {
        return Err(RamError::invalid_parameter_exception(format!(
            "The parameter {} cannot be shared: a SecureString parameter must be encrypted with a customer managed key to be shared.",
            resource.arn
        )));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_arn_type_is_a_type_ram_lists() {
        for (_, _, resource_type) in ARN_TYPES {
            assert!(crate::resource_types::is_shareable_type(resource_type), "{resource_type}");
        }
    }
}
