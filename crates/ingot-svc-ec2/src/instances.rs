//! Instances, simulated: RunInstances, DescribeInstances, DescribeInstanceStatus,
//! Start/Stop/Reboot/TerminateInstances, Describe/ModifyInstanceAttribute; a launch makes the
//! instances' volumes (`volumes.rs` describes them). Nothing boots: each instance moves through AWS's states on Ingot's clock
//! (pending → running, stopping → stopped, shutting-down → terminated) by durable timers, with
//! AWS's state reasons and an `EC2 Instance State-change Notification` event at every change.
//!
//! `ImageId` may be a `resolve:ssm:` reference (a name, `name:version`, `name:label`, or a shared
//! parameter's ARN with either), resolved at launch through SSM as the caller. A root volume that
//! is encrypted (EBS encryption by default) needs the caller's use of its key, asked of KMS as the
//! caller through EC2 (`kms:ViaService`): without it the launch succeeds and the instance then
//! terminates with `Client.InvalidKMSKey.InvalidState`, as in AWS.

use crate::access::{authorize, resource_arn};
use crate::ebs::{self, may_use_key, DEFAULT_EBS_KEY};
use crate::errors::Ec2Error;
use crate::filters::check_filter_names;
use crate::images::is_image_id;
use crate::network::{check_ids, page, passes};
use crate::operations::{
    DescribeInstanceAttribute, DescribeInstanceStatus, DescribeInstances, ModifyInstanceAttribute, RebootInstances,
    RunInstances, StartInstances, StopInstances, TerminateInstances,
};
use crate::store::{self, InstanceProfile, InstanceRecord, SecurityGroupRecord, SubnetRecord, VolumeRecord};
use crate::tags::{checked, merge, to_wire as tags_to_wire};
use crate::types::{self, InstanceState, InstanceStateChange, InstanceStateName, Reservation, ResourceType};
use crate::Ec2;
use async_trait::async_trait;
use ingot_core::public_images;
use ingot_core::{Access, Call, CommonError, Handler, Origin, RequestContext, ServiceFailure, Timestamp};
use ingot_jobs::{JobContext, JobError, JobHandler, JobOutcome, JobRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// How long a state change takes on Ingot's clock.
pub const TRANSITION_MS: i64 = 1000;
pub const JOB_KIND: &str = "ec2.instance-state";
/// AWS's default quota of running On-Demand instances is large; one call launches at most this.
const MAX_PER_CALL: i32 = 100;

const INSTANCE_FILTERS: &[&str] = &[
    "availability-zone",
    "image-id",
    "instance-id",
    "instance-state-code",
    "instance-state-name",
    "instance-type",
    "key-name",
    "launch-index",
    "owner-id",
    "private-ip-address",
    "reservation-id",
    "subnet-id",
    "tag-key",
    "vpc-id",
    "instance.group-id",
    "instance.group-name",
    "iam-instance-profile.arn",
    "architecture",
    "root-device-name",
    "root-device-type",
];

fn state_code(state: &str) -> i32 {
    match state {
        "pending" => 0,
        "running" => 16,
        "shutting-down" => 32,
        "terminated" => 48,
        "stopping" => 64,
        "stopped" => 80,
        _ => 0,
    }
}

fn wire_state(state: &str) -> InstanceState {
    InstanceState {
        code: Some(state_code(state)),
        name: Some(ingot_core::model::wire_enum::<InstanceStateName>(state)),
    }
}

fn invalid(message: impl Into<String>) -> Ec2Error {
    Ec2Error::unmodeled("InvalidParameterValue", 400, message)
}

/// AWS's text for a user-initiated stop or termination.
fn user_initiated(now: Timestamp) -> String {
    let text = now.to_iso8601();
    // `YYYY-MM-DD HH:MM:SS GMT`
    format!("User initiated ({} {} GMT)", &text[..10], &text[11..19])
}

const USER_SHUTDOWN: (&str, &str) =
    ("Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown");
const KMS_INVALID: (&str, &str) = (
    "Client.InvalidKMSKey.InvalidState",
    "Client.InvalidKMSKey.InvalidState: The KMS key provided is in an incorrect state",
);

/// A state change to carry out later.
#[derive(Debug, Serialize, Deserialize)]
struct Transition {
    instance_id: String,
    /// The state the instance must still be in.
    from: String,
    to: String,
    #[serde(default)]
    reason: Option<(String, String)>,
}

fn schedule(
    ctx: &RequestContext<'_>,
    instance: &InstanceRecord,
    to: &str,
    reason: Option<(&str, &str)>,
) -> Result<(), Ec2Error> {
    let transition = Transition {
        instance_id: instance.id.clone(),
        from: instance.state.clone(),
        to: to.to_string(),
        reason: reason.map(|(c, m)| (c.to_string(), m.to_string())),
    };
    let payload = serde_json::to_value(transition).map_err(CommonError::internal)?;
    ingot_jobs::schedule(&ctx.tx, ctx.ids(), ctx.scope, JOB_KIND, Timestamp(ctx.now.0 + TRANSITION_MS), payload);
    Ok(())
}

/// Emits `EC2 Instance State-change Notification`.
fn state_event(ctx: &RequestContext<'_>, instance: &InstanceRecord) {
    let arn = resource_arn(ctx, "instance", &instance.id);
    ingot_core::event::emit(
        ctx,
        "aws.ec2",
        "EC2 Instance State-change Notification",
        &[&arn],
        json!({ "instance-id": instance.id, "state": instance.state }),
    );
}

/// The image id `reference` names: an AMI id as given, or a `resolve:ssm:` reference resolved
/// through SSM as the caller (EC2 asking for it).
pub async fn resolve_image(ctx: &RequestContext<'_>, reference: &str) -> Result<String, Ec2Error> {
    let Some(parameter) = reference.strip_prefix("resolve:ssm:") else {
        return Ok(reference.to_string());
    };
    let origin = Origin { via_service: Some("ec2.amazonaws.com"), ..ctx.origin };
    let call = Call { service: "ssm", operation: "GetParameter", scope: ctx.scope, principal: ctx.principal, origin };
    let answer = ctx.env.invoker.invoke(ctx.env, call, json!({ "Name": parameter })).await;
    match answer {
        Ok(output) => output["Parameter"]["Value"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| invalid(format!("The parameter {parameter} has no value."))),
        Err(ServiceFailure::Common(e)) if e.kind == ingot_core::CommonKind::AccessDenied => Err(e.into()),
        Err(ServiceFailure::Common(e)) if e.kind == ingot_core::CommonKind::InternalFailure => Err(e.into()),
        Err(_) => Err(invalid(format!("Invalid value for parameter ImageId: could not resolve {reference}. The parameter does not exist or cannot be read."))),
    }
}

fn not_found(missing: &[&String]) -> Ec2Error {
    let list = missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    if missing.len() == 1 {
        Ec2Error::unmodeled("InvalidInstanceID.NotFound", 400, format!("The instance ID '{list}' does not exist"))
    } else {
        Ec2Error::unmodeled("InvalidInstanceID.NotFound", 400, format!("The instance IDs '{list}' do not exist"))
    }
}

/// The caller's instances that `ids` name, in order; AWS's errors for malformed and unknown ids.
async fn find_instances(ctx: &RequestContext<'_>, ids: &[String]) -> Result<Vec<InstanceRecord>, Ec2Error> {
    check_ids(ids, "i", "InvalidInstanceID.Malformed", "expecting \"i-...\"")?;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for id in ids {
        match ctx.tx.get_record::<InstanceRecord>(&store::instance_key(ctx.scope, id)).await? {
            Some(instance) => found.push(instance),
            None => missing.push(id),
        }
    }
    if !missing.is_empty() {
        return Err(not_found(&missing));
    }
    Ok(found)
}

fn to_wire(ctx: &RequestContext<'_>, instance: &InstanceRecord) -> types::Instance {
    let public = public_images::find(ctx.region().as_str(), &instance.image_id);
    types::Instance {
        instance_id: Some(instance.id.clone()),
        image_id: Some(instance.image_id.clone()),
        state: Some(wire_state(&instance.state)),
        private_dns_name: Some(format!("ip-{}.ec2.internal", instance.private_ip.replace('.', "-"))),
        public_dns_name: Some(String::new()),
        state_transition_reason: Some(instance.transition_reason.clone()),
        key_name: instance.key_name.clone(),
        ami_launch_index: Some(instance.launch_index),
        instance_type: Some(ingot_core::model::wire_enum(&instance.instance_type)),
        launch_time: Some(instance.launch_time),
        placement: Some(types::Placement {
            availability_zone: Some(instance.availability_zone.clone()),
            tenancy: Some(types::Tenancy::Default),
            group_name: Some(String::new()),
            ..Default::default()
        }),
        platform: public.filter(|p| p.windows).map(|_| types::PlatformValues::Windows),
        monitoring: Some(types::Monitoring {
            state: Some(types::MonitoringState::Disabled),
            metric_category_ids: None,
        }),
        subnet_id: Some(instance.subnet_id.clone()),
        vpc_id: Some(instance.vpc_id.clone()),
        private_ip_address: Some(instance.private_ip.clone()),
        architecture: Some(ingot_core::model::wire_enum(&instance.architecture)),
        block_device_mappings: Some(
            instance
                .volumes
                .iter()
                .map(|v| types::InstanceBlockDeviceMapping {
                    device_name: Some(v.device.clone()),
                    ebs: Some(types::EbsInstanceBlockDevice {
                        attach_time: Some(instance.launch_time),
                        delete_on_termination: Some(v.delete_on_termination),
                        status: Some(types::AttachmentStatus::Attached),
                        volume_id: Some(v.volume_id.clone()),
                        ..Default::default()
                    }),
                })
                .collect(),
        ),
        iam_instance_profile: instance
            .iam_instance_profile
            .as_ref()
            .map(|p| types::IamInstanceProfile { arn: Some(p.arn.clone()), id: Some(p.id.clone()) }),
        root_device_name: Some(instance.root_device_name.clone()),
        root_device_type: Some(types::DeviceType::Ebs),
        security_groups: Some(
            instance
                .security_groups
                .iter()
                .map(|(id, name)| types::GroupIdentifier { group_id: Some(id.clone()), group_name: Some(name.clone()) })
                .collect(),
        ),
        source_dest_check: Some(true),
        state_reason: instance
            .state_reason
            .as_ref()
            .map(|(code, message)| types::StateReason { code: Some(code.clone()), message: Some(message.clone()) }),
        tags: tags_to_wire(&instance.tags),
        virtualization_type: Some(types::VirtualizationType::Hvm),
        hypervisor: Some(types::HypervisorType::Xen),
        ena_support: Some(true),
        ebs_optimized: Some(false),
        client_token: Some(instance.client_token.clone().unwrap_or_default()),
        metadata_options: Some(types::InstanceMetadataOptionsResponse {
            state: Some(types::InstanceMetadataOptionsState::Applied),
            http_tokens: Some(ingot_core::model::wire_enum(&instance.metadata.http_tokens)),
            http_put_response_hop_limit: Some(instance.metadata.hop_limit),
            http_endpoint: Some(ingot_core::model::wire_enum(&instance.metadata.http_endpoint)),
            http_protocol_ipv6: Some(types::InstanceMetadataProtocolState::Disabled),
            instance_metadata_tags: Some(ingot_core::model::wire_enum(&instance.metadata.instance_metadata_tags)),
        }),
        platform_details: Some(if public.is_some_and(|p| p.windows) { "Windows" } else { "Linux/UNIX" }.to_string()),
        ..Default::default()
    }
}

/// What a launch asks for, from RunInstances and its launch template (RunInstances wins).
struct Launch {
    /// Missing when neither the request nor its template names one: refused after authorization.
    image: Option<String>,
    instance_type: String,
    key_name: Option<String>,
    subnet_id: Option<String>,
    availability_zone: Option<String>,
    group_ids: Vec<String>,
    group_names: Vec<String>,
    user_data: Option<String>,
    tag_specifications: Vec<types::TagSpecification>,
    block_devices: Vec<types::BlockDeviceMapping>,
    iam_instance_profile: Option<types::IamInstanceProfileSpecification>,
    metadata: Option<types::InstanceMetadataOptionsRequest>,
    disable_api_termination: bool,
    disable_api_stop: bool,
    shutdown_behavior: String,
}

fn launch_of(input: &types::RunInstancesRequest, template: Option<types::RequestLaunchTemplateData>) -> Launch {
    let t = template.unwrap_or_default();
    let lt_interface = t.network_interfaces.as_ref().and_then(|n| n.first());
    let image = input.image_id.clone().or(t.image_id.clone());
    let mut tag_specifications: Vec<types::TagSpecification> = t
        .tag_specifications
        .iter()
        .flatten()
        .map(|s| types::TagSpecification { resource_type: s.resource_type, tags: s.tags.clone() })
        .collect();
    tag_specifications.extend(input.tag_specifications.iter().flatten().cloned());
    let template_devices: Vec<types::BlockDeviceMapping> = t
        .block_device_mappings
        .iter()
        .flatten()
        .map(|m| types::BlockDeviceMapping {
            device_name: m.device_name.clone(),
            ebs: m.ebs.as_ref().map(|e| types::EbsBlockDevice {
                delete_on_termination: e.delete_on_termination,
                volume_size: e.volume_size,
                encrypted: e.encrypted,
                kms_key_id: e.kms_key_id.clone(),
                snapshot_id: e.snapshot_id.clone(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    Launch {
        image,
        instance_type: input
            .instance_type
            .as_ref()
            .or(t.instance_type.as_ref())
            .map_or("m1.small".to_string(), |i| i.as_str().to_string()),
        key_name: input.key_name.clone().or(t.key_name.clone()),
        subnet_id: input.subnet_id.clone().or(lt_interface.and_then(|i| i.subnet_id.clone())),
        availability_zone: input
            .placement
            .as_ref()
            .and_then(|p| p.availability_zone.clone())
            .or(t.placement.as_ref().and_then(|p| p.availability_zone.clone())),
        group_ids: input
            .security_group_ids
            .clone()
            .or(t.security_group_ids.clone())
            .or(lt_interface.and_then(|i| i.groups.clone()))
            .unwrap_or_default(),
        group_names: input.security_groups.clone().or(t.security_groups.clone()).unwrap_or_default(),
        user_data: input.user_data.clone().or(t.user_data.clone()),
        tag_specifications,
        block_devices: input.block_device_mappings.clone().unwrap_or(template_devices),
        iam_instance_profile: input.iam_instance_profile.clone().or(t
            .iam_instance_profile
            .as_ref()
            .map(|p| types::IamInstanceProfileSpecification { arn: p.arn.clone(), name: p.name.clone() })),
        metadata: input.metadata_options.clone().or(t.metadata_options.as_ref().map(|m| {
            types::InstanceMetadataOptionsRequest {
                http_tokens: m.http_tokens.as_ref().map(|v| ingot_core::model::wire_enum(v.as_str())),
                http_put_response_hop_limit: m.http_put_response_hop_limit,
                http_endpoint: m.http_endpoint.as_ref().map(|v| ingot_core::model::wire_enum(v.as_str())),
                http_protocol_ipv6: None,
                instance_metadata_tags: m
                    .instance_metadata_tags
                    .as_ref()
                    .map(|v| ingot_core::model::wire_enum(v.as_str())),
            }
        })),
        disable_api_termination: input.disable_api_termination.or(t.disable_api_termination).unwrap_or(false),
        disable_api_stop: input.disable_api_stop.or(t.disable_api_stop).unwrap_or(false),
        shutdown_behavior: input
            .instance_initiated_shutdown_behavior
            .as_ref()
            .or(t.instance_initiated_shutdown_behavior.as_ref())
            .map_or("stop".to_string(), |b| b.as_str().to_string()),
    }
}

/// A volume a launch makes for each instance.
struct VolumeSpec {
    device: String,
    /// The key of the encrypted snapshot the volume is made from, when the volume is encrypted
    /// under another: reading the snapshot needs it too.
    source_key: Option<String>,
    size: i32,
    encrypted: bool,
    key: Option<String>,
    delete_on_termination: bool,
    snapshot: Option<String>,
}

/// A state change a call makes: the state now, the state the timer ends in, and the reason.
type Step = Option<(&'static str, &'static str, Option<(&'static str, &'static str)>)>;

/// The instance profile, checked with IAM (as EC2 in the caller's account).
async fn instance_profile(
    ctx: &RequestContext<'_>,
    spec: &types::IamInstanceProfileSpecification,
) -> Result<InstanceProfile, Ec2Error> {
    let name = match (&spec.arn, &spec.name) {
        (Some(arn), _) => arn.rsplit('/').next().unwrap_or_default().to_string(),
        (None, Some(name)) => name.clone(),
        (None, None) => return Err(invalid("Value () for parameter iamInstanceProfile is invalid.")),
    };
    let ec2 = ingot_core::Principal::service("ec2", ctx.account().clone());
    let origin =
        Origin { source_ip: "ec2.amazonaws.com", user_agent: "ec2.amazonaws.com", via_service: None, ..ctx.origin };
    let call = Call { service: "iam", operation: "GetInstanceProfile", scope: ctx.scope, principal: &ec2, origin };
    match ctx.env.invoker.invoke(ctx.env, call, json!({ "InstanceProfileName": name })).await {
        Ok(output) => Ok(InstanceProfile {
            arn: output["InstanceProfile"]["Arn"].as_str().unwrap_or_default().to_string(),
            id: output["InstanceProfile"]["InstanceProfileId"].as_str().unwrap_or_default().to_string(),
        }),
        Err(_) => Err(invalid(format!(
            "Value ({name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
        ))),
    }
}

/// An address of `cidr`'s first /24 for the `n`-th instance of the subnet.
fn private_ip(cidr: &str, seed: &str) -> String {
    let base: Vec<u8> =
        cidr.split('/').next().unwrap_or("172.31.0.0").split('.').filter_map(|o| o.parse().ok()).collect();
    let h = ingot_store::hash::fnv1a(seed.as_bytes());
    let third = base.get(2).copied().unwrap_or(0).saturating_add((h % 16) as u8);
    format!("{}.{}.{}.{}", base.first().unwrap_or(&172), base.get(1).unwrap_or(&31), third, 4 + (h >> 8) % 250)
}

/// The tags `specifications` set, merged and checked as a request's tags.
fn request_tags<'a>(
    specifications: impl Iterator<Item = &'a types::TagSpecification>,
) -> Result<store::Tags, Ec2Error> {
    let mut tags = Vec::new();
    for spec in specifications {
        merge(&mut tags, checked(spec.tags.as_deref().unwrap_or_default())?)?;
    }
    Ok(tags)
}

impl Handler<RunInstances> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::RunInstancesRequest,
    ) -> Result<Reservation, Ec2Error> {
        // Authorized before anything is read, with the tags the request itself sets and the
        // launch template when the request gives its id. A template named by its name is read
        // only then; the launch is asked for again with its ARN and the tags it adds.
        let launch_arns = |template_id: Option<&str>| {
            let mut arns = vec![resource_arn(ctx, "instance", "*"), resource_arn(ctx, "volume", "*")];
            arns.extend(template_id.map(|id| crate::launch_templates::template_arn(ctx, id)));
            arns
        };
        let given_id = input.launch_template.as_ref().and_then(|spec| spec.launch_template_id.as_deref());
        let arns = launch_arns(given_id);
        let own_tags = request_tags(input.tag_specifications.iter().flatten())?;
        authorize::<RunInstances>(ctx, crate::tags::with_request_tags(Access::resources(&arns), &own_tags)).await?;
        let template = match &input.launch_template {
            Some(spec) => Some(crate::launch_templates::data_for_launch(ctx, spec).await?),
            None => None,
        };
        let launched_from = template.as_ref().map(|t| (t.template_id.clone(), t.version));
        let launch = launch_of(&input, template.map(|t| t.data));
        if let Some((id, _)) = &launched_from {
            let arns = launch_arns(Some(id));
            let all_tags = request_tags(launch.tag_specifications.iter())?;
            authorize::<RunInstances>(ctx, crate::tags::with_request_tags(Access::resources(&arns), &all_tags)).await?;
        }
        crate::dry_run(input.dry_run)?;
        if input.min_count < 1 || input.max_count < input.min_count {
            return Err(invalid(format!(
                "Value ({}) for parameter minCount is invalid. Expected a value between 1 and maxCount ({}).",
                input.min_count, input.max_count
            )));
        }
        if input.max_count > MAX_PER_CALL {
            return Err(Ec2Error::unmodeled(
                "InstanceLimitExceeded",
                400,
                format!("You have requested more instances ({}) than your current instance limit of {MAX_PER_CALL} allows for the specified instance type.", input.max_count),
            ));
        }
        // The image, resolved at launch with the caller's permissions.
        let reference = launch.image.as_deref().ok_or_else(|| {
            Ec2Error::unmodeled("MissingParameter", 400, "The request must contain the parameter ImageId")
        })?;
        let image_id = resolve_image(ctx, reference).await?;
        if !is_image_id(&image_id) {
            return Err(Ec2Error::unmodeled(
                "InvalidAMIID.Malformed",
                400,
                format!("Invalid id: \"{image_id}\" (expecting \"ami-...\")"),
            ));
        }
        // The image is a resource of the launch too: a policy may allow or deny it by its ARN.
        let image_arns = vec![crate::images::image_arn(ctx, ctx.region().as_str(), &image_id)];
        authorize::<RunInstances>(ctx, Access::resources(&image_arns)).await?;
        let image = crate::images::launchable(ctx, &image_id).await?;
        if let Some(key) = &launch.key_name {
            return Err(Ec2Error::unmodeled(
                "InvalidKeyPair.NotFound",
                400,
                format!("The key pair '{key}' does not exist"),
            ));
        }
        // Where: the subnet named, else the default subnet of the zone named, else the first.
        let default_vpc = store::ensure_default_network(ctx).await?;
        let subnets = store::all::<SubnetRecord>(&ctx.tx, &store::subnets_prefix(ctx.scope)).await?;
        let subnet = match (&launch.subnet_id, &launch.availability_zone) {
            (Some(id), _) => {
                check_ids(std::slice::from_ref(id), "subnet", "InvalidSubnetID.Malformed", "expecting \"subnet-...\"")?;
                subnets.iter().find(|s| s.id == *id).cloned().ok_or_else(|| {
                    Ec2Error::unmodeled("InvalidSubnetID.NotFound", 400, format!("The subnet ID '{id}' does not exist"))
                })?
            }
            (None, Some(zone)) => subnets
                .iter()
                .find(|s| s.availability_zone == *zone && s.default_for_az)
                .cloned()
                .ok_or_else(|| invalid(format!("Invalid availability zone: [{zone}]")))?,
            (None, None) => {
                let mut defaults: Vec<&SubnetRecord> =
                    subnets.iter().filter(|s| s.vpc_id == default_vpc && s.default_for_az).collect();
                defaults.sort_by(|a, b| a.availability_zone.cmp(&b.availability_zone));
                (*defaults.first().ok_or_else(|| CommonError::internal("no default subnet"))?).clone()
            }
        };
        let groups = store::all::<SecurityGroupRecord>(&ctx.tx, &store::security_groups_prefix(ctx.scope)).await?;
        let mut chosen: Vec<(String, String)> = Vec::new();
        for id in &launch.group_ids {
            let group = groups.iter().find(|g| g.id == *id).ok_or_else(|| {
                Ec2Error::unmodeled("InvalidGroup.NotFound", 400, format!("The security group '{id}' does not exist"))
            })?;
            if group.vpc_id != subnet.vpc_id {
                return Err(invalid(format!(
                    "Security group {id} and subnet {} belong to different networks.",
                    subnet.id
                )));
            }
            chosen.push((group.id.clone(), group.name.clone()));
        }
        for name in &launch.group_names {
            let group = groups.iter().find(|g| g.name == *name && g.vpc_id == subnet.vpc_id).ok_or_else(|| {
                Ec2Error::unmodeled(
                    "InvalidGroup.NotFound",
                    400,
                    format!("The security group '{name}' does not exist in VPC '{}'", subnet.vpc_id),
                )
            })?;
            chosen.push((group.id.clone(), group.name.clone()));
        }
        if chosen.is_empty() {
            let default = groups.iter().find(|g| g.name == "default" && g.vpc_id == subnet.vpc_id);
            chosen.extend(default.map(|g| (g.id.clone(), g.name.clone())));
        }
        let profile = match &launch.iam_instance_profile {
            Some(spec) => Some(instance_profile(ctx, spec).await?),
            None => None,
        };
        let mut instance_tags: store::Tags = Vec::new();
        let mut volume_tags: store::Tags = Vec::new();
        for spec in &launch.tag_specifications {
            let tags = checked(spec.tags.as_deref().unwrap_or_default())?;
            match spec.resource_type.as_ref() {
                Some(ResourceType::Instance) => merge(&mut instance_tags, tags)?,
                Some(ResourceType::Volume) => merge(&mut volume_tags, tags)?,
                other => {
                    return Err(invalid(format!(
                        "'{}' is not a valid taggable resource type for this operation.",
                        other.map_or("", |t| t.as_str())
                    )))
                }
            }
        }
        // AWS's own tags name the template and version an instance was launched from.
        if let Some((template_id, version)) = &launched_from {
            instance_tags.push(("aws:ec2launchtemplate:id".to_string(), template_id.clone()));
            instance_tags.push(("aws:ec2launchtemplate:version".to_string(), version.to_string()));
        }
        // The root volume: the image's, encrypted when the request or the account's default says so.
        let ebs_defaults = ebs::defaults(ctx).await?;
        let root_device = image.root_device_name.clone();
        let mut volume_specs: Vec<VolumeSpec> = Vec::new();
        // The image's volumes, as the request's mappings of the same devices adjust them; a
        // snapshot encrypted under a key gives its volume that key unless the request names one.
        for device in &image.devices {
            let adjusted =
                launch.block_devices.iter().find(|m| m.device_name.as_deref() == Some(device.device.as_str()));
            let ebs = adjusted.and_then(|m| m.ebs.as_ref());
            let size = ebs.and_then(|e| e.volume_size).unwrap_or(device.size);
            if size < device.size {
                return Err(invalid(format!(
                    "Volume of size {size}GB is smaller than snapshot '{}', expect size >= {}GB",
                    device.snapshot_id, device.size
                )));
            }
            let key = ebs.and_then(|e| e.kms_key_id.clone()).or(device.kms_key_id.clone());
            volume_specs.push(VolumeSpec {
                device: device.device.clone(),
                source_key: device.kms_key_id.clone().filter(|source| device.encrypted && key.as_ref() != Some(source)),
                size,
                encrypted: device.encrypted || ebs.and_then(|e| e.encrypted).unwrap_or(false),
                key,
                delete_on_termination: ebs
                    .and_then(|e| e.delete_on_termination)
                    .unwrap_or(device.delete_on_termination),
                snapshot: Some(device.snapshot_id.clone()),
            });
        }
        let image_devices: Vec<&str> = image.devices.iter().map(|d| d.device.as_str()).collect();
        for mapping in launch
            .block_devices
            .iter()
            .filter(|m| !image_devices.contains(&m.device_name.as_deref().unwrap_or_default()))
        {
            let Some(ebs) = &mapping.ebs else { continue };
            let device = mapping.device_name.clone().ok_or_else(|| {
                Ec2Error::unmodeled(
                    "MissingParameter",
                    400,
                    "The request must contain the parameter blockDeviceMapping.deviceName",
                )
            })?;
            if ebs.snapshot_id.is_some() {
                let id = ebs.snapshot_id.clone().unwrap_or_default();
                return Err(Ec2Error::unmodeled(
                    "InvalidSnapshot.NotFound",
                    400,
                    format!("The snapshot '{id}' does not exist."),
                ));
            }
            let size = ebs.volume_size.ok_or_else(|| {
                Ec2Error::unmodeled(
                    "MissingParameter",
                    400,
                    "The request must contain the parameter size or snapshotId",
                )
            })?;
            volume_specs.push(VolumeSpec {
                device,
                source_key: None,
                size,
                encrypted: ebs.encrypted.unwrap_or(false),
                key: ebs.kms_key_id.clone(),
                delete_on_termination: ebs.delete_on_termination.unwrap_or(true),
                snapshot: None,
            });
        }
        // Encrypted volumes need the caller's use of their key; without it the instances terminate.
        let mut keys_usable = true;
        for spec in volume_specs.iter_mut() {
            if spec.encrypted || ebs_defaults.encryption_by_default {
                spec.encrypted = true;
                let key =
                    spec.key.clone().or(ebs_defaults.kms_key_id.clone()).unwrap_or_else(|| DEFAULT_EBS_KEY.to_string());
                let used = may_use_key(ctx, &key).await?;
                keys_usable &= used.usable;
                spec.key = Some(used.arn.unwrap_or(key));
                if let Some(source) = &spec.source_key {
                    keys_usable &= may_use_key(ctx, source).await?.usable;
                }
            }
        }
        let reservation_id = ctx.ids().resource_id("r");
        let mut instances = Vec::new();
        for index in 0..input.max_count {
            let id = ctx.ids().resource_id("i");
            let mut volumes = Vec::new();
            for spec in &volume_specs {
                let VolumeSpec { device, size, encrypted, key, delete_on_termination, snapshot, .. } = spec;
                let volume = VolumeRecord {
                    id: ctx.ids().resource_id("vol"),
                    size: *size,
                    snapshot_id: snapshot.clone(),
                    availability_zone: subnet.availability_zone.clone(),
                    state: "in-use".to_string(),
                    volume_type: "gp3".to_string(),
                    encrypted: *encrypted,
                    kms_key_id: key.clone(),
                    created: ctx.now,
                    attachment: Some((id.clone(), device.clone(), *delete_on_termination)),
                    tags: volume_tags.clone(),
                };
                ctx.tx.insert_new(&store::volume_key(ctx.scope, &volume.id), ingot_store::encode_record(&volume));
                volumes.push(store::InstanceVolume {
                    device: device.clone(),
                    volume_id: volume.id,
                    delete_on_termination: *delete_on_termination,
                });
            }
            let metadata = launch.metadata.as_ref();
            let instance = InstanceRecord {
                private_ip: private_ip(&subnet.cidr_block, &id),
                id,
                reservation_id: reservation_id.clone(),
                owner: ctx.account().to_string(),
                image_id: image_id.clone(),
                instance_type: launch.instance_type.clone(),
                architecture: image.architecture.clone(),
                key_name: None,
                subnet_id: subnet.id.clone(),
                vpc_id: subnet.vpc_id.clone(),
                availability_zone: subnet.availability_zone.clone(),
                security_groups: chosen.clone(),
                iam_instance_profile: profile.clone(),
                tags: instance_tags.clone(),
                user_data: launch.user_data.clone(),
                state: "pending".to_string(),
                state_reason: Some(("pending".to_string(), "pending".to_string())),
                transition_reason: String::new(),
                launch_time: ctx.now,
                launch_index: index,
                root_device_name: root_device.clone(),
                volumes,
                metadata: store::MetadataOptions {
                    http_tokens: metadata
                        .and_then(|m| m.http_tokens.as_ref())
                        .map_or("required", |v| v.as_str())
                        .to_string(),
                    hop_limit: metadata.and_then(|m| m.http_put_response_hop_limit).unwrap_or(2),
                    http_endpoint: metadata
                        .and_then(|m| m.http_endpoint.as_ref())
                        .map_or("enabled", |v| v.as_str())
                        .to_string(),
                    instance_metadata_tags: metadata
                        .and_then(|m| m.instance_metadata_tags.as_ref())
                        .map_or("disabled", |v| v.as_str())
                        .to_string(),
                },
                disable_api_termination: launch.disable_api_termination,
                disable_api_stop: launch.disable_api_stop,
                shutdown_behavior: launch.shutdown_behavior.clone(),
                client_token: input.client_token.clone(),
            };
            if keys_usable {
                schedule(ctx, &instance, "running", None)?;
            } else {
                schedule(ctx, &instance, "terminated", Some(KMS_INVALID))?;
            }
            ctx.tx.insert_new(&store::instance_key(ctx.scope, &instance.id), ingot_store::encode_record(&instance));
            state_event(ctx, &instance);
            instances.push(to_wire(ctx, &instance));
        }
        Ok(Reservation {
            reservation_id: Some(reservation_id),
            owner_id: Some(ctx.account().to_string()),
            requester_id: None,
            groups: Some(Vec::new()),
            instances: Some(instances),
        })
    }
}

fn field(instance: &InstanceRecord, name: &str) -> Option<String> {
    match name {
        "availability-zone" => Some(instance.availability_zone.clone()),
        "image-id" => Some(instance.image_id.clone()),
        "instance-id" => Some(instance.id.clone()),
        "instance-state-code" => Some(state_code(&instance.state).to_string()),
        "instance-state-name" => Some(instance.state.clone()),
        "instance-type" => Some(instance.instance_type.clone()),
        "key-name" => instance.key_name.clone(),
        "launch-index" => Some(instance.launch_index.to_string()),
        "owner-id" => Some(instance.owner.clone()),
        "private-ip-address" => Some(instance.private_ip.clone()),
        "reservation-id" => Some(instance.reservation_id.clone()),
        "subnet-id" => Some(instance.subnet_id.clone()),
        "vpc-id" => Some(instance.vpc_id.clone()),
        "instance.group-id" => instance.security_groups.first().map(|(id, _)| id.clone()),
        "instance.group-name" => instance.security_groups.first().map(|(_, name)| name.clone()),
        "iam-instance-profile.arn" => instance.iam_instance_profile.as_ref().map(|p| p.arn.clone()),
        "architecture" => Some(instance.architecture.clone()),
        "root-device-name" => Some(instance.root_device_name.clone()),
        "root-device-type" => Some("ebs".to_string()),
        _ => None,
    }
}

impl Handler<DescribeInstances> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DescribeInstancesRequest,
    ) -> Result<types::DescribeInstancesResult, Ec2Error> {
        authorize::<DescribeInstances>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let filters = input.filters.unwrap_or_default();
        check_filter_names(&filters, INSTANCE_FILTERS)?;
        let ids = input.instance_ids.unwrap_or_default();
        let named = if ids.is_empty() { Vec::new() } else { find_instances(ctx, &ids).await? };
        let all = if ids.is_empty() {
            store::all::<InstanceRecord>(&ctx.tx, &store::instances_prefix(ctx.scope)).await?
        } else {
            named
        };
        let items: Vec<(String, InstanceRecord)> = all
            .into_iter()
            .filter(|i| passes(&filters, &i.tags, |name| field(i, name)))
            .map(|i| (format!("{}#{}#{:05}", i.launch_time.millis(), i.reservation_id, i.launch_index), i))
            .collect();
        let query = format!("DescribeInstances;{ids:?};{filters:?}");
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        let mut reservations: Vec<Reservation> = Vec::new();
        for instance in page.items {
            let wire = to_wire(ctx, &instance);
            match reservations
                .iter_mut()
                .find(|r| r.reservation_id.as_deref() == Some(instance.reservation_id.as_str()))
            {
                Some(r) => r.instances.get_or_insert_with(Vec::new).push(wire),
                None => reservations.push(Reservation {
                    reservation_id: Some(instance.reservation_id.clone()),
                    owner_id: Some(instance.owner.clone()),
                    requester_id: None,
                    groups: Some(Vec::new()),
                    instances: Some(vec![wire]),
                }),
            }
        }
        Ok(types::DescribeInstancesResult { next_token: page.marker, reservations: Some(reservations) })
    }
}

fn summary(ok: bool) -> types::InstanceStatusSummary {
    let status = if ok { types::SummaryStatus::Ok } else { types::SummaryStatus::NotApplicable };
    types::InstanceStatusSummary {
        details: ok.then(|| {
            vec![types::InstanceStatusDetails {
                impaired_since: None,
                name: Some(types::StatusName::Reachability),
                status: Some(types::StatusType::Passed),
            }]
        }),
        status: Some(status),
    }
}

impl Handler<DescribeInstanceStatus> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DescribeInstanceStatusRequest,
    ) -> Result<types::DescribeInstanceStatusResult, Ec2Error> {
        authorize::<DescribeInstanceStatus>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let filters = input.filters.unwrap_or_default();
        check_filter_names(
            &filters,
            &[
                "availability-zone",
                "instance-state-name",
                "instance-state-code",
                "instance-status.status",
                "system-status.status",
            ],
        )?;
        let ids = input.instance_ids.unwrap_or_default();
        let all = if ids.is_empty() {
            store::all::<InstanceRecord>(&ctx.tx, &store::instances_prefix(ctx.scope)).await?
        } else {
            find_instances(ctx, &ids).await?
        };
        let include_all = input.include_all_instances.unwrap_or(false);
        let items = all
            .into_iter()
            .filter(|i| include_all || i.state == "running")
            .filter(|i| {
                let ok = i.state == "running";
                passes(&filters, &i.tags, |name| match name {
                    "availability-zone" => Some(i.availability_zone.clone()),
                    "instance-state-name" => Some(i.state.clone()),
                    "instance-state-code" => Some(state_code(&i.state).to_string()),
                    "instance-status.status" | "system-status.status" => {
                        Some(if ok { "ok" } else { "not-applicable" }.to_string())
                    }
                    _ => None,
                })
            })
            .map(|i| {
                let ok = i.state == "running";
                (
                    i.id.clone(),
                    types::InstanceStatus {
                        availability_zone: Some(i.availability_zone.clone()),
                        instance_id: Some(i.id.clone()),
                        instance_state: Some(wire_state(&i.state)),
                        instance_status: Some(summary(ok)),
                        system_status: Some(summary(ok)),
                        ..Default::default()
                    },
                )
            })
            .collect();
        let query = format!("DescribeInstanceStatus;{ids:?};{filters:?};{include_all}");
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::DescribeInstanceStatusResult { instance_statuses: Some(page.items), next_token: page.marker })
    }
}

/// Moves each instance to `to` (now), and schedules where it ends; answers the state changes.
fn change_states(
    ctx: &RequestContext<'_>,
    instances: Vec<InstanceRecord>,
    step: &dyn Fn(&InstanceRecord) -> Result<Step, Ec2Error>,
) -> Result<Vec<InstanceStateChange>, Ec2Error> {
    let mut changes = Vec::new();
    for mut instance in instances {
        let previous = instance.state.clone();
        if let Some((now_state, end_state, reason)) = step(&instance)? {
            instance.state = now_state.to_string();
            if let Some((code, message)) = reason {
                instance.state_reason = Some((code.to_string(), message.to_string()));
                instance.transition_reason = user_initiated(ctx.now);
            } else {
                instance.state_reason = Some(("pending".to_string(), "pending".to_string()));
            }
            schedule(ctx, &instance, end_state, reason)?;
            ctx.tx.put_record(&store::instance_key(ctx.scope, &instance.id), &instance);
            state_event(ctx, &instance);
        }
        changes.push(InstanceStateChange {
            instance_id: Some(instance.id.clone()),
            current_state: Some(wire_state(&instance.state)),
            previous_state: Some(wire_state(&previous)),
        });
    }
    Ok(changes)
}

fn instance_arns(ctx: &RequestContext<'_>, ids: &[String]) -> Vec<String> {
    ids.iter().map(|id| resource_arn(ctx, "instance", id)).collect()
}

impl Handler<StartInstances> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::StartInstancesRequest,
    ) -> Result<types::StartInstancesResult, Ec2Error> {
        authorize::<StartInstances>(ctx, Access::resources(&instance_arns(ctx, &input.instance_ids))).await?;
        crate::dry_run(input.dry_run)?;
        let instances = find_instances(ctx, &input.instance_ids).await?;
        let changes = change_states(ctx, instances, &|i| match i.state.as_str() {
            "stopped" => Ok(Some(("pending", "running", None))),
            "pending" | "running" => Ok(None),
            _ => Err(Ec2Error::unmodeled(
                "IncorrectInstanceState",
                400,
                format!("The instance '{}' is not in a state from which it can be started.", i.id),
            )),
        })?;
        Ok(types::StartInstancesResult { starting_instances: Some(changes) })
    }
}

impl Handler<StopInstances> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::StopInstancesRequest,
    ) -> Result<types::StopInstancesResult, Ec2Error> {
        authorize::<StopInstances>(ctx, Access::resources(&instance_arns(ctx, &input.instance_ids))).await?;
        crate::dry_run(input.dry_run)?;
        let instances = find_instances(ctx, &input.instance_ids).await?;
        let changes = change_states(ctx, instances, &|i| {
            if i.disable_api_stop && matches!(i.state.as_str(), "pending" | "running") {
                return Err(Ec2Error::unmodeled(
                    "OperationNotPermitted",
                    400,
                    format!("The instance '{}' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.", i.id),
                ));
            }
            match i.state.as_str() {
                "pending" | "running" => Ok(Some(("stopping", "stopped", Some(USER_SHUTDOWN)))),
                "stopping" | "stopped" => Ok(None),
                _ => Err(Ec2Error::unmodeled(
                    "IncorrectInstanceState",
                    400,
                    format!("This instance '{}' is not in a state from which it can be stopped.", i.id),
                )),
            }
        })?;
        Ok(types::StopInstancesResult { stopping_instances: Some(changes) })
    }
}

impl Handler<TerminateInstances> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::TerminateInstancesRequest,
    ) -> Result<types::TerminateInstancesResult, Ec2Error> {
        authorize::<TerminateInstances>(ctx, Access::resources(&instance_arns(ctx, &input.instance_ids))).await?;
        crate::dry_run(input.dry_run)?;
        let instances = find_instances(ctx, &input.instance_ids).await?;
        if let Some(protected) = instances.iter().find(|i| i.disable_api_termination && i.state != "terminated") {
            return Err(Ec2Error::unmodeled(
                "OperationNotPermitted",
                400,
                format!(
                    "The instance '{}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.",
                    protected.id
                ),
            ));
        }
        let changes = change_states(ctx, instances, &|i| match i.state.as_str() {
            "terminated" | "shutting-down" => Ok(None),
            _ => Ok(Some(("shutting-down", "terminated", Some(USER_SHUTDOWN)))),
        })?;
        Ok(types::TerminateInstancesResult { terminating_instances: Some(changes) })
    }
}

impl Handler<RebootInstances> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::RebootInstancesRequest,
    ) -> Result<ingot_core::Empty, Ec2Error> {
        authorize::<RebootInstances>(ctx, Access::resources(&instance_arns(ctx, &input.instance_ids))).await?;
        crate::dry_run(input.dry_run)?;
        for instance in find_instances(ctx, &input.instance_ids).await? {
            if instance.state != "running" {
                return Err(Ec2Error::unmodeled(
                    "IncorrectInstanceState",
                    400,
                    format!("The instance '{}' is not in a state from which it can be rebooted.", instance.id),
                ));
            }
        }
        // A reboot keeps the instance running: nothing changes state.
        Ok(ingot_core::Empty {})
    }
}

fn bool_value(value: bool) -> Option<types::AttributeBooleanValue> {
    Some(types::AttributeBooleanValue { value: Some(value) })
}

fn text_value(value: Option<String>) -> Option<types::AttributeValue> {
    Some(types::AttributeValue { value })
}

impl Handler<DescribeInstanceAttribute> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DescribeInstanceAttributeRequest,
    ) -> Result<types::InstanceAttribute, Ec2Error> {
        let arns = instance_arns(ctx, std::slice::from_ref(&input.instance_id));
        authorize::<DescribeInstanceAttribute>(ctx, Access::resources(&arns)).await?;
        crate::dry_run(input.dry_run)?;
        let instance = find_instances(ctx, std::slice::from_ref(&input.instance_id)).await?.remove(0);
        let mut out = types::InstanceAttribute { instance_id: Some(instance.id.clone()), ..Default::default() };
        match input.attribute.as_str() {
            "instanceType" => out.instance_type = text_value(Some(instance.instance_type.clone())),
            "userData" => out.user_data = text_value(instance.user_data.clone()),
            "disableApiTermination" => out.disable_api_termination = bool_value(instance.disable_api_termination),
            "disableApiStop" => out.disable_api_stop = bool_value(instance.disable_api_stop),
            "instanceInitiatedShutdownBehavior" => {
                out.instance_initiated_shutdown_behavior = text_value(Some(instance.shutdown_behavior.clone()))
            }
            "rootDeviceName" => out.root_device_name = text_value(Some(instance.root_device_name.clone())),
            "blockDeviceMapping" => out.block_device_mappings = to_wire(ctx, &instance).block_device_mappings,
            "groupSet" => out.groups = to_wire(ctx, &instance).security_groups,
            "sourceDestCheck" => out.source_dest_check = bool_value(true),
            "ebsOptimized" => out.ebs_optimized = bool_value(false),
            "enaSupport" => out.ena_support = bool_value(true),
            "sriovNetSupport" => out.sriov_net_support = text_value(Some("simple".to_string())),
            "kernel" => out.kernel_id = text_value(None),
            "ramdisk" => out.ramdisk_id = text_value(None),
            "productCodes" => out.product_codes = Some(Vec::new()),
            other => {
                return Err(invalid(format!("Value ({other}) for parameter attribute is invalid. Unknown attribute.")));
            }
        }
        Ok(out)
    }
}

fn must_be_stopped(instance: &InstanceRecord) -> Result<(), Ec2Error> {
    if instance.state != "stopped" {
        return Err(Ec2Error::unmodeled(
            "IncorrectInstanceState",
            400,
            format!("The instance '{}' is not in the 'stopped' state.", instance.id),
        ));
    }
    Ok(())
}

impl Handler<ModifyInstanceAttribute> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ModifyInstanceAttributeRequest,
    ) -> Result<ingot_core::Empty, Ec2Error> {
        let arns = instance_arns(ctx, std::slice::from_ref(&input.instance_id));
        authorize::<ModifyInstanceAttribute>(ctx, Access::resources(&arns)).await?;
        crate::dry_run(input.dry_run)?;
        let mut instance = find_instances(ctx, std::slice::from_ref(&input.instance_id)).await?.remove(0);
        // The `Attribute` + `Value` form, or one typed member.
        let named = input.attribute.as_ref().map(|a| (a.as_str().to_string(), input.value.clone()));
        let boolean = |v: &Option<types::AttributeBooleanValue>| v.as_ref().and_then(|b| b.value);
        if let Some(value) = boolean(&input.disable_api_termination) {
            instance.disable_api_termination = value;
        } else if let Some(value) = boolean(&input.disable_api_stop) {
            instance.disable_api_stop = value;
        } else if let Some(value) = input.instance_type.as_ref().and_then(|v| v.value.clone()) {
            must_be_stopped(&instance)?;
            instance.instance_type = value;
        } else if let Some(value) = input.user_data.as_ref().and_then(|v| v.value.as_ref()) {
            must_be_stopped(&instance)?;
            use base64::Engine;
            instance.user_data = Some(base64::engine::general_purpose::STANDARD.encode(&value.0));
        } else if let Some(value) = input.instance_initiated_shutdown_behavior.as_ref().and_then(|v| v.value.clone()) {
            if value != "stop" && value != "terminate" {
                return Err(invalid(format!(
                    "Value ({value}) for parameter instanceInitiatedShutdownBehavior is invalid."
                )));
            }
            instance.shutdown_behavior = value;
        } else if let Some(groups) = &input.groups {
            let all = store::all::<SecurityGroupRecord>(&ctx.tx, &store::security_groups_prefix(ctx.scope)).await?;
            let mut chosen = Vec::new();
            for id in groups {
                let group = all.iter().find(|g| g.id == *id && g.vpc_id == instance.vpc_id).ok_or_else(|| {
                    Ec2Error::unmodeled(
                        "InvalidGroup.NotFound",
                        400,
                        format!("The security group '{id}' does not exist"),
                    )
                })?;
                chosen.push((group.id.clone(), group.name.clone()));
            }
            instance.security_groups = chosen;
        } else if let Some((attribute, value)) = named {
            let value = value.ok_or_else(|| {
                Ec2Error::unmodeled("MissingParameter", 400, "The request must contain the parameter value")
            })?;
            match attribute.as_str() {
                "instanceType" => {
                    must_be_stopped(&instance)?;
                    instance.instance_type = value;
                }
                "disableApiTermination" => instance.disable_api_termination = value == "true",
                "disableApiStop" => instance.disable_api_stop = value == "true",
                "instanceInitiatedShutdownBehavior" => instance.shutdown_behavior = value,
                other => {
                    return Err(invalid(format!(
                        "Value ({other}) for parameter attribute is invalid. This attribute cannot be modified."
                    )))
                }
            }
        } else if input.source_dest_check.is_none() && input.ebs_optimized.is_none() && input.ena_support.is_none() {
            return Err(Ec2Error::unmodeled(
                "MissingParameter",
                400,
                "The request must contain the parameter attribute",
            ));
        }
        ctx.tx.put_record(&store::instance_key(ctx.scope, &instance.id), &instance);
        Ok(ingot_core::Empty {})
    }
}

/// Runs `ec2.instance-state` timers: an instance that is still where the change left it moves on.
pub struct InstanceStateJob;

#[async_trait]
impl JobHandler for InstanceStateJob {
    fn kind(&self) -> &'static str {
        JOB_KIND
    }

    fn service(&self) -> &'static str {
        "ec2"
    }

    async fn run(&self, job: &JobRecord, ctx: &JobContext<'_>) -> Result<JobOutcome, JobError> {
        let transition: Transition =
            serde_json::from_value(job.payload.clone()).map_err(|e| JobError::new(format!("bad payload: {e}")))?;
        let key = store::instance_key(&job.scope, &transition.instance_id);
        let Some(mut instance) =
            ctx.tx.get_record::<InstanceRecord>(&key).await.map_err(|e| JobError::new(e.to_string()))?
        else {
            return Ok(JobOutcome::Done);
        };
        let expected = match transition.to.as_str() {
            "running" => ["pending"].as_slice(),
            "stopped" => ["stopping"].as_slice(),
            _ => ["pending", "shutting-down"].as_slice(),
        };
        if !expected.contains(&instance.state.as_str()) {
            return Ok(JobOutcome::Done);
        }
        instance.state = transition.to.clone();
        match &transition.reason {
            Some((code, message)) => {
                instance.state_reason = Some((code.clone(), message.clone()));
                if code.starts_with("Client.InvalidKMSKey") {
                    instance.transition_reason = message.clone();
                }
            }
            None => instance.state_reason = None,
        }
        if instance.state == "terminated" {
            for attached in &instance.volumes {
                let volume_key = store::volume_key(&job.scope, &attached.volume_id);
                if attached.delete_on_termination {
                    ctx.tx.delete(&volume_key);
                } else if let Some(mut volume) =
                    ctx.tx.get_record::<VolumeRecord>(&volume_key).await.map_err(|e| JobError::new(e.to_string()))?
                {
                    volume.state = "available".to_string();
                    volume.attachment = None;
                    ctx.tx.put_record(&volume_key, &volume);
                }
            }
        }
        ctx.tx.put_record(&key, &instance);
        state_event(ctx, &instance);
        ctx.record("InstanceStateChange", json!({ "instanceId": instance.id, "state": instance.state }));
        Ok(JobOutcome::Done)
    }
}
