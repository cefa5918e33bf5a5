//! Machine images: the public images every region has (`ingot_core::public_images`, owned by
//! Amazon and launchable by everyone) and the accounts' own: CreateImage (from an instance, a
//! snapshot per volume), RegisterImage (from snapshots), CopyImage (within or across regions,
//! re-encrypting), DescribeImages, Describe/Modify/ResetImageAttribute (description, launch
//! permissions for accounts, everyone, an organization or an OU), DeregisterImage and
//! Enable/DisableImageDeprecation. New images are `pending` and become `available` (or `failed`
//! when their snapshots' keys cannot be used) by a durable timer on Ingot's clock, with
//! `EC2 AMI State Change` events.
//!
//! An image id does not name its owner: `global/ec2/owners/REGION/AMI` does, so an image shared
//! with another account is found by id, and a region's shared images by one scan.

use crate::access::authorize;
use crate::ebs::{self, may_use_key, DEFAULT_EBS_KEY};
use crate::errors::Ec2Error;
use crate::filters::check_filter_names;
use crate::network::{page, passes};
use crate::operations::{
    CopyImage, CreateImage, DeregisterImage, DescribeImageAttribute, DescribeImages, DisableImageDeprecation,
    EnableImageDeprecation, ModifyImageAttribute, RegisterImage, ResetImageAttribute,
};
use crate::store::{
    self, ImageDevice, ImageRecord, InstanceRecord, LaunchPermission, OwnerIndexRecord, SnapshotRecord, Tags,
    VolumeRecord,
};
use crate::tags::{checked, merge, to_wire as tags_to_wire};
use crate::types::{self, BlockDeviceMapping, EbsBlockDevice, Image, ResourceType};
use crate::Ec2;
use async_trait::async_trait;
use ingot_core::public_images::{self, PublicImage};
use ingot_core::{Access, AccountId, CommonError, Handler, Region, RequestContext, Scope, Timestamp};
use ingot_jobs::{JobContext, JobError, JobHandler, JobOutcome, JobRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

const IMAGE_FILTERS: &[&str] = &[
    "architecture",
    "block-device-mapping.delete-on-termination",
    "block-device-mapping.device-name",
    "block-device-mapping.snapshot-id",
    "block-device-mapping.volume-size",
    "block-device-mapping.volume-type",
    "block-device-mapping.encrypted",
    "creation-date",
    "description",
    "ena-support",
    "hypervisor",
    "image-id",
    "image-type",
    "is-public",
    "manifest-location",
    "name",
    "owner-alias",
    "owner-id",
    "platform",
    "platform-details",
    "root-device-name",
    "root-device-type",
    "state",
    "source-instance-id",
    "tag-key",
    "usage-operation",
    "virtualization-type",
];

/// AWS deprecates its public images two years after publishing them.
const DEPRECATION_AFTER_MS: i64 = 2 * 365 * 24 * 60 * 60 * 1000;

fn malformed(id: &str) -> Ec2Error {
    Ec2Error::unmodeled("InvalidAMIID.Malformed", 400, format!("Invalid id: \"{id}\" (expecting \"ami-...\")"))
}

/// Whether `id` has the shape of an image id (`ami-` and 8 or 17 hex digits).
pub fn is_image_id(id: &str) -> bool {
    id.strip_prefix("ami-")
        .is_some_and(|hex| (hex.len() == 8 || hex.len() == 17) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// AWS's answer for image ids that do not exist (one, or several).
pub fn not_found(missing: &[&String]) -> Ec2Error {
    let list = missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    if missing.len() == 1 {
        Ec2Error::unmodeled("InvalidAMIID.NotFound", 400, format!("The image id '[{list}]' does not exist"))
    } else {
        Ec2Error::unmodeled("InvalidAMIID.NotFound", 400, format!("The image ids '[{list}]' do not exist"))
    }
}

/// How long an image or snapshot takes to complete on Ingot's clock.
pub const COMPLETION_MS: i64 = 1000;
pub const JOB_KIND: &str = "ec2.image-state";

fn invalid(message: impl Into<String>) -> Ec2Error {
    Ec2Error::unmodeled("InvalidParameterValue", 400, message)
}

/// `arn:PARTITION:ec2:REGION::image/AMI`: image ARNs name no account.
pub fn image_arn(ctx: &RequestContext<'_>, region: &str, id: &str) -> String {
    format!("arn:{}:ec2:{region}::image/{id}", ctx.scope.partition())
}

/// `arn:PARTITION:ec2:REGION::snapshot/SNAP`: snapshot ARNs name no account.
pub fn snapshot_arn(ctx: &RequestContext<'_>, region: &str, id: &str) -> String {
    format!("arn:{}:ec2:{region}::snapshot/{id}", ctx.scope.partition())
}

fn device_name(windows: bool) -> &'static str {
    if windows {
        "/dev/sda1"
    } else {
        "/dev/xvda"
    }
}

/// A public image as the record of an account's image would hold it.
fn catalog_record(region: &str, image: &PublicImage) -> ImageRecord {
    let published = public_images::published();
    ImageRecord {
        id: public_images::image_id(region, image.parameter),
        owner: image.owner().to_string(),
        name: image.name.to_string(),
        description: Some(image.description.to_string()),
        state: "available".to_string(),
        state_reason: None,
        created: published,
        architecture: image.architecture.to_string(),
        windows: image.windows,
        root_device_name: device_name(image.windows).to_string(),
        virtualization_type: "hvm".to_string(),
        ena_support: true,
        boot_mode: Some(if image.windows { "uefi" } else { "uefi-preferred" }.to_string()),
        imds_support: (!image.windows).then(|| "v2.0".to_string()),
        devices: vec![ImageDevice {
            device: device_name(image.windows).to_string(),
            snapshot_id: public_images::snapshot_id(region, image.parameter),
            size: image.root_size,
            volume_type: "gp3".to_string(),
            delete_on_termination: true,
            encrypted: false,
            kms_key_id: None,
        }],
        source_instance_id: None,
        copied_from: None,
        launch_permissions: vec![LaunchPermission::Everyone],
        deprecation_time: Some(Timestamp(published.0 + DEPRECATION_AFTER_MS)),
        tags: Vec::new(),
    }
}

/// An image as DescribeImages answers it; `viewer_owns` shows the tags.
fn to_wire(image: &ImageRecord, catalog: bool, viewer_owns: bool) -> Image {
    let public = image.launch_permissions.contains(&LaunchPermission::Everyone);
    let state = ingot_core::model::wire_enum(&image.state);
    Image {
        image_id: Some(image.id.clone()),
        image_location: Some(if catalog {
            format!("amazon/{}", image.name)
        } else {
            format!("{}/{}", image.owner, image.name)
        }),
        state: Some(state),
        state_reason: image
            .state_reason
            .as_ref()
            .map(|(code, message)| types::StateReason { code: Some(code.clone()), message: Some(message.clone()) }),
        owner_id: Some(image.owner.clone()),
        creation_date: Some(image.created.to_iso8601()),
        public: Some(public),
        architecture: Some(ingot_core::model::wire_enum(&image.architecture)),
        image_type: Some(types::ImageTypeValues::Machine),
        platform: image.windows.then_some(types::PlatformValues::Windows),
        platform_details: Some(if image.windows { "Windows" } else { "Linux/UNIX" }.to_string()),
        usage_operation: Some(if image.windows { "RunInstances:0002" } else { "RunInstances" }.to_string()),
        block_device_mappings: Some(
            image
                .devices
                .iter()
                .map(|d| BlockDeviceMapping {
                    device_name: Some(d.device.clone()),
                    ebs: Some(EbsBlockDevice {
                        delete_on_termination: Some(d.delete_on_termination),
                        snapshot_id: Some(d.snapshot_id.clone()),
                        volume_size: Some(d.size),
                        volume_type: Some(ingot_core::model::wire_enum(&d.volume_type)),
                        encrypted: Some(d.encrypted),
                        kms_key_id: if viewer_owns { d.kms_key_id.clone() } else { None },
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .collect(),
        ),
        description: image.description.clone(),
        ena_support: Some(image.ena_support),
        hypervisor: Some(types::HypervisorType::Xen),
        image_owner_alias: catalog.then(|| "amazon".to_string()),
        name: Some(image.name.clone()),
        root_device_name: Some(image.root_device_name.clone()),
        root_device_type: Some(types::DeviceType::Ebs),
        sriov_net_support: Some("simple".to_string()),
        virtualization_type: Some(ingot_core::model::wire_enum(&image.virtualization_type)),
        boot_mode: image.boot_mode.as_deref().map(ingot_core::model::wire_enum),
        deprecation_time: image.deprecation_time.map(|t| t.to_iso8601()),
        imds_support: image.imds_support.as_deref().map(ingot_core::model::wire_enum),
        source_instance_id: if viewer_owns { image.source_instance_id.clone() } else { None },
        source_image_id: image.copied_from.as_ref().map(|(id, _)| id.clone()),
        source_image_region: image.copied_from.as_ref().map(|(_, region)| region.clone()),
        tags: if viewer_owns { tags_to_wire(&image.tags) } else { None },
        ..Default::default()
    }
}

/// The scope of `owner` in `region`.
fn owner_scope(owner: &str, region: &str) -> Result<Scope, Ec2Error> {
    match (AccountId::parse(owner), Region::parse(region)) {
        (Some(account), Some(region)) => Ok(Scope::new(account, region)),
        _ => Err(CommonError::internal(format!("bad owner index entry {owner} in {region}")).into()),
    }
}

/// An image of `region` as stored, whoever owns it (the catalog's included); `None` when no
/// such image exists. Visibility is the caller's to check ([`Viewer::sees`]).
pub async fn load_image(
    ctx: &RequestContext<'_>,
    region: &str,
    id: &str,
) -> Result<Option<(ImageRecord, bool)>, Ec2Error> {
    if let Some(image) = public_images::find(region, id) {
        return Ok(Some((catalog_record(region, image), true)));
    }
    let Some(index) = ctx.tx.get_record::<OwnerIndexRecord>(&store::owner_index_key(region, id)).await? else {
        return Ok(None);
    };
    let scope = owner_scope(&index.owner, region)?;
    Ok(ctx.tx.get_record::<ImageRecord>(&store::image_key(&scope, id)).await?.map(|image| (image, false)))
}

/// Writes an account image and its index entry.
fn save_image(ctx: &RequestContext<'_>, scope: &Scope, image: &ImageRecord) {
    ctx.tx.put_record(&store::image_key(scope, &image.id), image);
    let index = OwnerIndexRecord { owner: image.owner.clone(), shared: !image.launch_permissions.is_empty() };
    ctx.tx.put_record(&store::owner_index_key(scope.region.as_str(), &image.id), &index);
}

/// Who is asking, as launch permissions see it: the account and its place in an organization.
pub struct Viewer {
    pub account: String,
    organization: Option<String>,
    ous: Vec<String>,
}

impl Viewer {
    pub async fn of(ctx: &RequestContext<'_>) -> Result<Viewer, Ec2Error> {
        let path = ingot_identity::organization::account_path(&ctx.tx, ctx.account()).await?;
        Ok(Viewer {
            account: ctx.account().to_string(),
            organization: path.as_ref().map(|p| p.organization_id.clone()),
            ous: path.map(|p| p.ous).unwrap_or_default(),
        })
    }

    /// Whether a launch permission lets this account launch the image.
    fn granted(&self, permission: &LaunchPermission) -> bool {
        match permission {
            LaunchPermission::Everyone => true,
            LaunchPermission::Account(account) => *account == self.account,
            LaunchPermission::Organization(arn) => {
                self.organization.as_deref().is_some_and(|id| arn.rsplit('/').next() == Some(id))
            }
            LaunchPermission::OrganizationalUnit(arn) => {
                arn.rsplit('/').next().is_some_and(|ou| self.ous.iter().any(|o| o == ou))
            }
        }
    }

    /// Whether this account may see (and launch) the image.
    pub fn sees(&self, image: &ImageRecord) -> bool {
        image.owner == self.account || image.launch_permissions.iter().any(|p| self.granted(p))
    }
}

/// The image RunInstances launches: one the caller may see, and available.
pub async fn launchable(ctx: &RequestContext<'_>, id: &str) -> Result<ImageRecord, Ec2Error> {
    let viewer = Viewer::of(ctx).await?;
    let found = load_image(ctx, ctx.region().as_str(), id).await?.filter(|(image, _)| viewer.sees(image));
    let Some((image, _)) = found else {
        return Err(not_found(&[&id.to_string()]));
    };
    if image.state != "available" {
        return Err(Ec2Error::unmodeled(
            "InvalidAMIID.Unavailable",
            400,
            format!("AMI '{id}' is {}, and cannot be run", image.state),
        ));
    }
    Ok(image)
}

/// The caller's own image `id`, for the calls only its owner may make.
async fn own_image(ctx: &RequestContext<'_>, id: &str) -> Result<ImageRecord, Ec2Error> {
    if !is_image_id(id) {
        return Err(malformed(id));
    }
    match load_image(ctx, ctx.region().as_str(), id).await? {
        Some((image, false)) if image.owner == ctx.account().as_str() => Ok(image),
        Some((image, _)) if Viewer::of(ctx).await?.sees(&image) => {
            Err(Ec2Error::unmodeled("AuthFailure", 400, format!("Not authorized for image:{id}")))
        }
        _ => Err(not_found(&[&id.to_string()])),
    }
}

/// AWS's rules for image names: 3 to 128 letters, digits and `()[] ./-'@_`.
fn check_name(name: &str) -> Result<(), Ec2Error> {
    let ok = (3..=128).contains(&name.chars().count())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "()[] ./-'@_".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Ec2Error::unmodeled(
            "InvalidAMIName.Malformed",
            400,
            "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'",
        ))
    }
}

/// Refuses a name another image of the account in this region has.
async fn check_unique_name(ctx: &RequestContext<'_>, scope: &Scope, name: &str) -> Result<(), Ec2Error> {
    let images = store::all::<ImageRecord>(&ctx.tx, &store::images_prefix(scope)).await?;
    match images.iter().find(|i| i.name == name) {
        Some(other) => Err(Ec2Error::unmodeled(
            "InvalidAMIName.Duplicate",
            400,
            format!("AMI name {name} is already in use by AMI {}", other.id),
        )),
        None => Ok(()),
    }
}

/// The tags a call's TagSpecifications give an image and its snapshots.
fn image_tags(specifications: Option<&[types::TagSpecification]>) -> Result<(Tags, Tags), Ec2Error> {
    let (mut image, mut snapshot) = (Vec::new(), Vec::new());
    for spec in specifications.unwrap_or_default() {
        let tags = checked(spec.tags.as_deref().unwrap_or_default())?;
        match spec.resource_type {
            Some(ResourceType::Image) => merge(&mut image, tags)?,
            Some(ResourceType::Snapshot) => merge(&mut snapshot, tags)?,
            other => {
                return Err(invalid(format!(
                    "'{}' is not a valid taggable resource type for this operation.",
                    other.map_or("", |t| t.as_str())
                )))
            }
        }
    }
    Ok((image, snapshot))
}

/// Emits `EC2 AMI State Change`.
fn state_event(ctx: &RequestContext<'_>, region: &str, image: &ImageRecord, state: &str) {
    let arn = image_arn(ctx, region, &image.id);
    let mut detail = json!({ "ImageId": image.id, "State": state });
    if let Some((code, message)) = &image.state_reason {
        detail["ErrorMessage"] = json!(format!("{code}: {message}"));
    }
    ingot_core::event::emit(ctx, "aws.ec2", "EC2 AMI State Change", &[&arn], detail);
}

/// A state an image or snapshot reaches later.
#[derive(Debug, Serialize, Deserialize)]
struct Completion {
    /// An image (`ami-…`) or a snapshot (`snap-…`).
    id: String,
    /// `available`/`completed`, or `failed`/`error` with the reason.
    to: String,
    #[serde(default)]
    reason: Option<(String, String)>,
}

fn schedule(ctx: &RequestContext<'_>, id: &str, to: &str, reason: Option<(String, String)>) -> Result<(), Ec2Error> {
    let payload = serde_json::to_value(Completion { id: id.to_string(), to: to.to_string(), reason })
        .map_err(CommonError::internal)?;
    ingot_jobs::schedule(&ctx.tx, ctx.ids(), ctx.scope, JOB_KIND, Timestamp(ctx.now.0 + COMPLETION_MS), payload);
    Ok(())
}

/// Saves a new image of the caller's, `pending`, announces it, and schedules the state it
/// reaches: `available`, or `failed` with `failure`'s code and message.
fn save_pending(
    ctx: &RequestContext<'_>,
    image: &ImageRecord,
    failure: Option<(String, String)>,
) -> Result<(), Ec2Error> {
    save_image(ctx, ctx.scope, image);
    match failure {
        None => schedule(ctx, &image.id, "available", None)?,
        Some(reason) => schedule(ctx, &image.id, "failed", Some(reason))?,
    }
    state_event(ctx, ctx.region().as_str(), image, "pending");
    Ok(())
}

/// Completes a copied snapshot later (`completed`, or `error` when its keys cannot be used).
pub fn schedule_snapshot(ctx: &RequestContext<'_>, id: &str, to: &str) -> Result<(), Ec2Error> {
    schedule(ctx, id, to, None)
}

/// A new snapshot of the caller's, `pending` until the image or copy it belongs to completes.
pub fn new_snapshot(
    ctx: &RequestContext<'_>,
    volume_id: &str,
    size: i32,
    description: String,
    encryption: Option<String>,
    tags: Tags,
) -> SnapshotRecord {
    let snapshot = SnapshotRecord {
        id: ctx.ids().resource_id("snap"),
        owner: ctx.account().to_string(),
        volume_id: volume_id.to_string(),
        size,
        description,
        state: "pending".to_string(),
        started: ctx.now,
        encrypted: encryption.is_some(),
        kms_key_id: encryption,
        volume_permissions: Vec::new(),
        tags,
    };
    save_snapshot(ctx, ctx.scope, &snapshot);
    snapshot
}

/// Writes a snapshot and its index entry.
pub fn save_snapshot(ctx: &RequestContext<'_>, scope: &Scope, snapshot: &SnapshotRecord) {
    ctx.tx.put_record(&store::snapshot_key(scope, &snapshot.id), snapshot);
    let index = OwnerIndexRecord { owner: snapshot.owner.clone(), shared: !snapshot.volume_permissions.is_empty() };
    ctx.tx.put_record(&store::owner_index_key(scope.region.as_str(), &snapshot.id), &index);
}

/// The key a copy is encrypted with: the one asked for, else the account's default when it
/// encrypts by default or when asked to encrypt, else the source's own key; `None` unencrypted.
pub async fn copy_encryption(
    ctx: &RequestContext<'_>,
    encrypted: Option<bool>,
    kms_key_id: Option<&str>,
    source_key: Option<&str>,
) -> Result<Option<String>, Ec2Error> {
    if kms_key_id.is_some() && encrypted != Some(true) {
        return Err(Ec2Error::unmodeled(
            "InvalidParameterDependency",
            400,
            "The parameter KmsKeyId requires the parameter Encrypted to be set.",
        ));
    }
    let defaults = ebs::defaults(ctx).await?;
    let default_key = || defaults.kms_key_id.clone().unwrap_or_else(|| DEFAULT_EBS_KEY.to_string());
    Ok(match (kms_key_id, encrypted == Some(true) || defaults.encryption_by_default, source_key) {
        (Some(key), _, _) => Some(key.to_string()),
        (None, true, Some(source)) if encrypted != Some(true) => Some(source.to_string()),
        (None, true, _) => Some(default_key()),
        (None, false, source) => source.map(str::to_string),
    })
}

/// Whether the caller may use every key a copy reads and writes; the keys' ARNs as KMS names
/// them replace the references given.
pub async fn keys_usable(ctx: &RequestContext<'_>, keys: &mut [&mut Option<String>]) -> Result<bool, Ec2Error> {
    let mut usable = true;
    for key in keys.iter_mut() {
        if let Some(reference) = key.clone() {
            let used = may_use_key(ctx, &reference).await?;
            usable &= used.usable;
            **key = Some(used.arn.unwrap_or(reference));
        }
    }
    Ok(usable)
}

const KMS_FAILED: (&str, &str) = ("Client.InvalidKMSKey.InvalidState", "The KMS key provided is in an incorrect state");

impl Handler<CreateImage> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::CreateImageRequest,
    ) -> Result<types::CreateImageResult, Ec2Error> {
        let (image_tags, snapshot_tags) = image_tags(input.tag_specifications.as_deref())?;
        let arns = vec![
            image_arn(ctx, ctx.region().as_str(), "*"),
            crate::access::resource_arn(ctx, "instance", &input.instance_id),
        ];
        let access = crate::tags::with_request_tags(Access::resources(&arns), &image_tags);
        authorize::<CreateImage>(ctx, access).await?;
        crate::dry_run(input.dry_run)?;
        check_name(&input.name)?;
        let instance_key = store::instance_key(ctx.scope, &input.instance_id);
        let Some(instance) = ctx.tx.get_record::<InstanceRecord>(&instance_key).await? else {
            return Err(Ec2Error::unmodeled(
                "InvalidInstanceID.NotFound",
                400,
                format!("The instance ID '{}' does not exist", input.instance_id),
            ));
        };
        if !matches!(instance.state.as_str(), "running" | "stopped" | "stopping") {
            return Err(Ec2Error::unmodeled(
                "IncorrectInstanceState",
                400,
                format!(
                    "The instance '{}' is not in a state from which it can be imaged: {}",
                    instance.id, instance.state
                ),
            ));
        }
        check_unique_name(ctx, ctx.scope, &input.name).await?;
        let source = load_image(ctx, ctx.region().as_str(), &instance.image_id).await?.map(|(image, _)| image);
        let id = ctx.ids().resource_id("ami");
        let mut devices = Vec::new();
        for attached in &instance.volumes {
            let volume_key = store::volume_key(ctx.scope, &attached.volume_id);
            let Some(volume) = ctx.tx.get_record::<VolumeRecord>(&volume_key).await? else { continue };
            let description = format!("Created by CreateImage({}) for {id}", instance.id);
            let encryption = volume.encrypted.then(|| volume.kms_key_id.clone()).flatten();
            let snapshot = new_snapshot(ctx, &volume.id, volume.size, description, encryption, snapshot_tags.clone());
            devices.push(ImageDevice {
                device: attached.device.clone(),
                snapshot_id: snapshot.id,
                size: volume.size,
                volume_type: volume.volume_type.clone(),
                delete_on_termination: attached.delete_on_termination,
                encrypted: snapshot.encrypted,
                kms_key_id: snapshot.kms_key_id,
            });
        }
        let image = ImageRecord {
            id: id.clone(),
            owner: ctx.account().to_string(),
            name: input.name.clone(),
            description: input.description.clone(),
            state: "pending".to_string(),
            state_reason: None,
            created: ctx.now,
            architecture: instance.architecture.clone(),
            windows: source.as_ref().is_some_and(|s| s.windows),
            root_device_name: instance.root_device_name.clone(),
            virtualization_type: "hvm".to_string(),
            ena_support: true,
            boot_mode: source.as_ref().and_then(|s| s.boot_mode.clone()),
            imds_support: source.as_ref().and_then(|s| s.imds_support.clone()),
            devices,
            source_instance_id: Some(instance.id.clone()),
            copied_from: None,
            launch_permissions: Vec::new(),
            deprecation_time: None,
            tags: image_tags,
        };
        save_pending(ctx, &image, None)?;
        Ok(types::CreateImageResult { image_id: Some(id) })
    }
}

impl Handler<RegisterImage> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::RegisterImageRequest,
    ) -> Result<types::RegisterImageResult, Ec2Error> {
        let (image_tags, _) = image_tags(input.tag_specifications.as_deref())?;
        let arns = vec![image_arn(ctx, ctx.region().as_str(), "*")];
        let access = crate::tags::with_request_tags(Access::resources(&arns), &image_tags);
        authorize::<RegisterImage>(ctx, access).await?;
        crate::dry_run(input.dry_run)?;
        check_name(&input.name)?;
        if input.image_location.is_some() {
            return Err(invalid("Instance store-backed images are not supported: register from EBS snapshots."));
        }
        let mappings = input.block_device_mappings.clone().unwrap_or_default();
        let root_device_name = input
            .root_device_name
            .clone()
            .or_else(|| mappings.first().and_then(|m| m.device_name.clone()))
            .ok_or_else(|| {
                Ec2Error::unmodeled("MissingParameter", 400, "The request must contain the parameter rootDeviceName")
            })?;
        let mut devices = Vec::new();
        for mapping in &mappings {
            let Some(ebs) = &mapping.ebs else { continue };
            let device = mapping.device_name.clone().unwrap_or_default();
            let snapshot_id = ebs.snapshot_id.clone().ok_or_else(|| {
                Ec2Error::unmodeled("MissingParameter", 400, "The request must contain the parameter snapshotId")
            })?;
            let snapshot = crate::snapshots::visible_snapshot(ctx, &snapshot_id).await?;
            if snapshot.state != "completed" {
                return Err(Ec2Error::unmodeled(
                    "IncorrectState",
                    400,
                    format!("Snapshot '{snapshot_id}' is not 'completed'; it is '{}'.", snapshot.state),
                ));
            }
            devices.push(ImageDevice {
                device,
                size: ebs.volume_size.unwrap_or(snapshot.size),
                volume_type: ebs.volume_type.as_ref().map_or("gp3", |t| t.as_str()).to_string(),
                delete_on_termination: ebs.delete_on_termination.unwrap_or(true),
                encrypted: snapshot.encrypted,
                kms_key_id: snapshot.kms_key_id.clone(),
                snapshot_id,
            });
        }
        if !devices.iter().any(|d| d.device == root_device_name) {
            return Err(invalid(format!(
                "Value ({root_device_name}) for parameter rootDeviceName is invalid. The root device name must be one of the block device mappings."
            )));
        }
        check_unique_name(ctx, ctx.scope, &input.name).await?;
        let id = ctx.ids().resource_id("ami");
        let image = ImageRecord {
            id: id.clone(),
            owner: ctx.account().to_string(),
            name: input.name.clone(),
            description: input.description.clone(),
            state: "pending".to_string(),
            state_reason: None,
            created: ctx.now,
            architecture: input.architecture.as_ref().map_or("x86_64", |a| a.as_str()).to_string(),
            windows: false,
            root_device_name,
            virtualization_type: input.virtualization_type.clone().unwrap_or_else(|| "hvm".to_string()),
            ena_support: input.ena_support.unwrap_or(false),
            boot_mode: input.boot_mode.as_ref().map(|b| b.as_str().to_string()),
            imds_support: input.imds_support.as_ref().map(|b| b.as_str().to_string()),
            devices,
            source_instance_id: None,
            copied_from: None,
            launch_permissions: Vec::new(),
            deprecation_time: None,
            tags: image_tags,
        };
        save_pending(ctx, &image, None)?;
        Ok(types::RegisterImageResult { image_id: Some(id) })
    }
}

impl Handler<CopyImage> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::CopyImageRequest,
    ) -> Result<types::CopyImageResult, Ec2Error> {
        let (mut image_tags, _) = image_tags(input.tag_specifications.as_deref())?;
        let arns = vec![
            image_arn(ctx, ctx.region().as_str(), "*"),
            image_arn(ctx, &input.source_region, &input.source_image_id),
        ];
        let access = crate::tags::with_request_tags(Access::resources(&arns), &image_tags);
        authorize::<CopyImage>(ctx, access).await?;
        crate::dry_run(input.dry_run)?;
        check_name(&input.name)?;
        if Region::parse(&input.source_region).is_none() {
            return Err(invalid(format!("Invalid region: {}", input.source_region)));
        }
        if !is_image_id(&input.source_image_id) {
            return Err(malformed(&input.source_image_id));
        }
        let viewer = Viewer::of(ctx).await?;
        let source = load_image(ctx, &input.source_region, &input.source_image_id)
            .await?
            .filter(|(image, _)| viewer.sees(image) && image.state == "available");
        let Some((source, _)) = source else {
            return Err(not_found(&[&input.source_image_id]));
        };
        let id = ctx.ids().resource_id("ami");
        let mut devices = Vec::new();
        let mut usable = true;
        for device in &source.devices {
            let mut read_key = device.kms_key_id.clone();
            let mut write_key =
                copy_encryption(ctx, input.encrypted, input.kms_key_id.as_deref(), device.kms_key_id.as_deref())
                    .await?;
            usable &= keys_usable(ctx, &mut [&mut read_key, &mut write_key]).await?;
            let description = format!(
                "Copied for DestinationAmi {id} from SourceAmi {} for SourceSnapshot {}.",
                source.id, device.snapshot_id
            );
            let snapshot = new_snapshot(ctx, "vol-ffffffff", device.size, description, write_key, Vec::new());
            devices.push(ImageDevice {
                snapshot_id: snapshot.id,
                encrypted: snapshot.encrypted,
                kms_key_id: snapshot.kms_key_id,
                ..device.clone()
            });
        }
        if input.copy_image_tags == Some(true) && source.owner == ctx.account().as_str() {
            merge(&mut image_tags, source.tags.clone())?;
        }
        check_unique_name(ctx, ctx.scope, &input.name).await?;
        let image = ImageRecord {
            id: id.clone(),
            owner: ctx.account().to_string(),
            name: input.name.clone(),
            description: input.description.clone().or(source.description.clone()),
            state: "pending".to_string(),
            state_reason: None,
            created: ctx.now,
            devices,
            source_instance_id: None,
            copied_from: Some((source.id.clone(), input.source_region.clone())),
            launch_permissions: Vec::new(),
            deprecation_time: None,
            tags: image_tags,
            ..source
        };
        let failure = (!usable).then(|| (KMS_FAILED.0.to_string(), KMS_FAILED.1.to_string()));
        save_pending(ctx, &image, failure)?;
        Ok(types::CopyImageResult { image_id: Some(id) })
    }
}

impl Handler<DeregisterImage> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DeregisterImageRequest,
    ) -> Result<types::DeregisterImageResult, Ec2Error> {
        let arns = vec![image_arn(ctx, ctx.region().as_str(), &input.image_id)];
        authorize::<DeregisterImage>(ctx, Access::resources(&arns)).await?;
        crate::dry_run(input.dry_run)?;
        let image = own_image(ctx, &input.image_id).await?;
        ctx.tx.delete(&store::image_key(ctx.scope, &image.id));
        ctx.tx.delete(&store::owner_index_key(ctx.region().as_str(), &image.id));
        // The image's snapshots complete whether or not it is still there when its timer runs.
        if image.state == "pending" {
            for device in &image.devices {
                crate::snapshots::complete(ctx, ctx.scope, &device.snapshot_id, "completed").await?;
            }
        }
        let mut results = None;
        if input.delete_associated_snapshots == Some(true) {
            let others = store::all::<ImageRecord>(&ctx.tx, &store::images_prefix(ctx.scope)).await?;
            let mut deleted = Vec::new();
            for device in &image.devices {
                let key = store::snapshot_key(ctx.scope, &device.snapshot_id);
                if ctx.tx.get_record::<SnapshotRecord>(&key).await?.is_none() {
                    continue;
                }
                // A snapshot another image uses stays.
                let in_use = others
                    .iter()
                    .any(|i| i.id != image.id && i.devices.iter().any(|d| d.snapshot_id == device.snapshot_id));
                let code = if in_use {
                    types::SnapshotReturnCodes::Skipped
                } else {
                    ctx.tx.delete(&key);
                    ctx.tx.delete(&store::owner_index_key(ctx.region().as_str(), &device.snapshot_id));
                    types::SnapshotReturnCodes::Success
                };
                deleted.push(types::DeleteSnapshotReturnCode {
                    snapshot_id: Some(device.snapshot_id.clone()),
                    return_code: Some(code),
                });
            }
            results = Some(deleted);
        }
        state_event(ctx, ctx.region().as_str(), &image, "deregistered");
        Ok(types::DeregisterImageResult { r#return: Some(true), delete_snapshot_results: results })
    }
}

fn permission_to_wire(permission: &LaunchPermission) -> types::LaunchPermission {
    let mut wire = types::LaunchPermission::default();
    match permission {
        LaunchPermission::Account(account) => wire.user_id = Some(account.clone()),
        LaunchPermission::Everyone => wire.group = Some(types::PermissionGroup::All),
        LaunchPermission::Organization(arn) => wire.organization_arn = Some(arn.clone()),
        LaunchPermission::OrganizationalUnit(arn) => wire.organizational_unit_arn = Some(arn.clone()),
    }
    wire
}

fn permission_of(wire: &types::LaunchPermission) -> Result<Vec<LaunchPermission>, Ec2Error> {
    let mut found = Vec::new();
    if let Some(user) = &wire.user_id {
        if user.len() != 12 || !user.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Ec2Error::unmodeled(
                "InvalidAMIAttributeItemValue",
                400,
                format!("Invalid attribute item value \"{user}\" for userId item type."),
            ));
        }
        found.push(LaunchPermission::Account(user.clone()));
    }
    if wire.group.is_some() {
        found.push(LaunchPermission::Everyone);
    }
    if let Some(arn) = &wire.organization_arn {
        if !arn.starts_with("arn:aws") || !arn.contains(":organization/o-") {
            return Err(invalid(format!("Invalid organization ARN: {arn}")));
        }
        found.push(LaunchPermission::Organization(arn.clone()));
    }
    if let Some(arn) = &wire.organizational_unit_arn {
        if !arn.starts_with("arn:aws") || !arn.contains(":ou/o-") {
            return Err(invalid(format!("Invalid organizational unit ARN: {arn}")));
        }
        found.push(LaunchPermission::OrganizationalUnit(arn.clone()));
    }
    Ok(found)
}

impl Handler<DescribeImageAttribute> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DescribeImageAttributeRequest,
    ) -> Result<types::ImageAttribute, Ec2Error> {
        let arns = vec![image_arn(ctx, ctx.region().as_str(), &input.image_id)];
        authorize::<DescribeImageAttribute>(ctx, Access::resources(&arns)).await?;
        crate::dry_run(input.dry_run)?;
        if !is_image_id(&input.image_id) {
            return Err(malformed(&input.image_id));
        }
        let viewer = Viewer::of(ctx).await?;
        let Some((image, catalog)) =
            load_image(ctx, ctx.region().as_str(), &input.image_id).await?.filter(|(i, _)| viewer.sees(i))
        else {
            return Err(not_found(&[&input.image_id]));
        };
        let owns = image.owner == viewer.account;
        let value = |v: Option<String>| Some(types::AttributeValue { value: v });
        let mut answer = types::ImageAttribute { image_id: Some(image.id.clone()), ..Default::default() };
        match input.attribute {
            types::ImageAttributeName::Description => answer.description = value(image.description.clone()),
            types::ImageAttributeName::LaunchPermission => {
                if !owns {
                    return Err(Ec2Error::unmodeled(
                        "AuthFailure",
                        400,
                        format!("Not authorized for image:{}", image.id),
                    ));
                }
                answer.launch_permissions = Some(image.launch_permissions.iter().map(permission_to_wire).collect());
            }
            types::ImageAttributeName::BlockDeviceMapping => {
                answer.block_device_mappings = to_wire(&image, catalog, owns).block_device_mappings;
            }
            types::ImageAttributeName::BootMode => answer.boot_mode = value(image.boot_mode.clone()),
            types::ImageAttributeName::ImdsSupport => answer.imds_support = value(image.imds_support.clone()),
            types::ImageAttributeName::SriovNetSupport => answer.sriov_net_support = value(Some("simple".to_string())),
            types::ImageAttributeName::ProductCodes => answer.product_codes = Some(Vec::new()),
            _ => {}
        }
        Ok(answer)
    }
}

impl Handler<ModifyImageAttribute> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ModifyImageAttributeRequest,
    ) -> Result<ingot_core::Empty, Ec2Error> {
        let arns = vec![image_arn(ctx, ctx.region().as_str(), &input.image_id)];
        authorize::<ModifyImageAttribute>(ctx, Access::resources(&arns)).await?;
        crate::dry_run(input.dry_run)?;
        let mut image = own_image(ctx, &input.image_id).await?;
        // The structure form, or the flat form the CLI's --attribute/--operation-type builds.
        let mut add = Vec::new();
        let mut remove = Vec::new();
        if let Some(changes) = &input.launch_permission {
            for wire in changes.add.iter().flatten() {
                add.extend(permission_of(wire)?);
            }
            for wire in changes.remove.iter().flatten() {
                remove.extend(permission_of(wire)?);
            }
        }
        let flat: Vec<types::LaunchPermission> =
            input
                .user_ids
                .iter()
                .flatten()
                .map(|u| types::LaunchPermission { user_id: Some(u.clone()), ..Default::default() })
                .chain(input.user_groups.iter().flatten().map(|_| types::LaunchPermission {
                    group: Some(types::PermissionGroup::All),
                    ..Default::default()
                }))
                .chain(
                    input
                        .organization_arns
                        .iter()
                        .flatten()
                        .map(|a| types::LaunchPermission { organization_arn: Some(a.clone()), ..Default::default() }),
                )
                .chain(input.organizational_unit_arns.iter().flatten().map(|a| types::LaunchPermission {
                    organizational_unit_arn: Some(a.clone()),
                    ..Default::default()
                }))
                .collect();
        for wire in &flat {
            match input.operation_type {
                Some(types::OperationType::Remove) => remove.extend(permission_of(wire)?),
                _ => add.extend(permission_of(wire)?),
            }
        }
        let description = input
            .description
            .as_ref()
            .map(|d| d.value.clone())
            .or_else(|| (input.attribute.as_deref() == Some("description")).then(|| input.value.clone()));
        if add.is_empty() && remove.is_empty() && description.is_none() {
            return Err(Ec2Error::unmodeled(
                "MissingParameter",
                400,
                "The request must contain the parameter launchPermission or description",
            ));
        }
        for permission in add {
            if !image.launch_permissions.contains(&permission) {
                image.launch_permissions.push(permission);
            }
        }
        image.launch_permissions.retain(|p| !remove.contains(p));
        if let Some(description) = description {
            image.description = description;
        }
        save_image(ctx, ctx.scope, &image);
        Ok(ingot_core::Empty {})
    }
}

impl Handler<ResetImageAttribute> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ResetImageAttributeRequest,
    ) -> Result<ingot_core::Empty, Ec2Error> {
        let arns = vec![image_arn(ctx, ctx.region().as_str(), &input.image_id)];
        authorize::<ResetImageAttribute>(ctx, Access::resources(&arns)).await?;
        crate::dry_run(input.dry_run)?;
        let mut image = own_image(ctx, &input.image_id).await?;
        image.launch_permissions.clear();
        save_image(ctx, ctx.scope, &image);
        Ok(ingot_core::Empty {})
    }
}

impl Handler<EnableImageDeprecation> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::EnableImageDeprecationRequest,
    ) -> Result<types::EnableImageDeprecationResult, Ec2Error> {
        let arns = vec![image_arn(ctx, ctx.region().as_str(), &input.image_id)];
        authorize::<EnableImageDeprecation>(ctx, Access::resources(&arns)).await?;
        crate::dry_run(input.dry_run)?;
        let mut image = own_image(ctx, &input.image_id).await?;
        // AWS keeps the minute, rounding the seconds.
        const MINUTE: i64 = 60_000;
        let at = Timestamp((input.deprecate_at.0 + MINUTE / 2).div_euclid(MINUTE) * MINUTE);
        if at.0 <= ctx.now.0 {
            return Err(invalid(format!(
                "The deprecation time {} must be in the future.",
                input.deprecate_at.to_iso8601()
            )));
        }
        image.deprecation_time = Some(at);
        save_image(ctx, ctx.scope, &image);
        Ok(types::EnableImageDeprecationResult { r#return: Some(true) })
    }
}

impl Handler<DisableImageDeprecation> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DisableImageDeprecationRequest,
    ) -> Result<types::DisableImageDeprecationResult, Ec2Error> {
        let arns = vec![image_arn(ctx, ctx.region().as_str(), &input.image_id)];
        authorize::<DisableImageDeprecation>(ctx, Access::resources(&arns)).await?;
        crate::dry_run(input.dry_run)?;
        let mut image = own_image(ctx, &input.image_id).await?;
        image.deprecation_time = None;
        save_image(ctx, ctx.scope, &image);
        Ok(types::DisableImageDeprecationResult { r#return: Some(true) })
    }
}

/// Whether an image passes `Owners` (`amazon`, `self`, account ids).
fn owned_as_asked(image: &ImageRecord, catalog: bool, viewer: &Viewer, owners: &[String]) -> bool {
    owners.is_empty()
        || owners
            .iter()
            .any(|o| (o == "amazon" && catalog) || (o == "self" && image.owner == viewer.account) || *o == image.owner)
}

/// Whether the image is given to the viewer by a launch permission other than `Group=all`.
fn given_to(image: &ImageRecord, viewer: &Viewer) -> bool {
    image.launch_permissions.iter().any(|p| *p != LaunchPermission::Everyone && viewer.granted(p))
}

/// Whether an image passes `ExecutableUsers`: `all` for public images; `self` (or the caller's
/// own account id) for images given to the caller by name, organization or OU; another account's
/// id for images given to that account by name.
fn executable_as_asked(image: &ImageRecord, viewer: &Viewer, executable_users: &[String]) -> bool {
    let public = image.launch_permissions.contains(&LaunchPermission::Everyone);
    executable_users.is_empty()
        || executable_users.iter().any(|user| match user.as_str() {
            "all" => public,
            // Given by name, organization or OU; being public is not being given.
            "self" => given_to(image, viewer),
            account if account == viewer.account => given_to(image, viewer),
            account => image.launch_permissions.contains(&LaunchPermission::Account(account.to_string())),
        })
}

impl Handler<DescribeImages> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DescribeImagesRequest,
    ) -> Result<types::DescribeImagesResult, Ec2Error> {
        authorize::<DescribeImages>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let filters = input.filters.unwrap_or_default();
        check_filter_names(&filters, IMAGE_FILTERS)?;
        let ids = input.image_ids.unwrap_or_default();
        if let Some(bad) = ids.iter().find(|id| !is_image_id(id)) {
            return Err(malformed(bad));
        }
        let owners = input.owners.unwrap_or_default();
        let executable_users = input.executable_users.unwrap_or_default();
        let include_deprecated = input.include_deprecated.unwrap_or(false);
        let region = ctx.region().as_str();
        let viewer = Viewer::of(ctx).await?;
        // Candidates: the catalog, the caller's images, and the region's shared images.
        let mut candidates: Vec<(ImageRecord, bool)> =
            public_images::PUBLIC_IMAGES.iter().map(|image| (catalog_record(region, image), true)).collect();
        if ids.is_empty() {
            candidates.extend(
                store::all::<ImageRecord>(&ctx.tx, &store::images_prefix(ctx.scope))
                    .await?
                    .into_iter()
                    .map(|i| (i, false)),
            );
            let index_prefix = store::owner_index_prefix(region, "ami-");
            for (key, item) in ctx.tx.scan(&index_prefix, None, usize::MAX).await? {
                let entry: OwnerIndexRecord = ingot_store::decode_record(&item)?;
                if entry.shared && entry.owner != viewer.account {
                    let id = &key[index_prefix.len() - "ami-".len()..];
                    if let Some((image, _)) = load_image(ctx, region, id).await? {
                        candidates.push((image, false));
                    }
                }
            }
        } else {
            for id in &ids {
                if public_images::find(region, id).is_none() {
                    if let Some(found) = load_image(ctx, region, id).await? {
                        candidates.push(found);
                    }
                }
            }
        }
        candidates.retain(|(image, _)| viewer.sees(image) && (ids.is_empty() || ids.contains(&image.id)));
        let missing: Vec<&String> = ids.iter().filter(|id| !candidates.iter().any(|(c, _)| c.id == **id)).collect();
        if !missing.is_empty() {
            return Err(not_found(&missing));
        }
        let items = candidates
            .into_iter()
            .filter(|(image, catalog)| {
                owned_as_asked(image, *catalog, &viewer, &owners)
                    && executable_as_asked(image, &viewer, &executable_users)
            })
            // Deprecated images are listed to others only when asked for, or named by id.
            .filter(|(image, _)| {
                let deprecated = image.deprecation_time.is_some_and(|t| t.0 <= ctx.now.0);
                !deprecated || include_deprecated || !ids.is_empty() || image.owner == viewer.account
            })
            .map(|(image, catalog)| {
                let owns = image.owner == viewer.account;
                let tags = if owns { image.tags.clone() } else { Vec::new() };
                (image.id.clone(), to_wire(&image, catalog, owns), tags)
            })
            .filter(|(_, image, tags)| {
                passes(&filters, tags, |name| {
                    let ebs = image.block_device_mappings.as_ref().and_then(|m| m.first()).and_then(|m| m.ebs.as_ref());
                    match name {
                        "architecture" => image.architecture.as_ref().map(|a| a.as_str().to_string()),
                        "block-device-mapping.delete-on-termination" => {
                            ebs.and_then(|e| e.delete_on_termination).map(|b| b.to_string())
                        }
                        "block-device-mapping.device-name" | "root-device-name" => image.root_device_name.clone(),
                        "block-device-mapping.snapshot-id" => ebs.and_then(|e| e.snapshot_id.clone()),
                        "block-device-mapping.volume-size" => ebs.and_then(|e| e.volume_size).map(|s| s.to_string()),
                        "block-device-mapping.volume-type" => {
                            ebs.and_then(|e| e.volume_type.as_ref()).map(|t| t.as_str().to_string())
                        }
                        "block-device-mapping.encrypted" => ebs.and_then(|e| e.encrypted).map(|b| b.to_string()),
                        "creation-date" => image.creation_date.clone(),
                        "description" => image.description.clone(),
                        "ena-support" => image.ena_support.map(|b| b.to_string()),
                        "hypervisor" => Some("xen".to_string()),
                        "image-id" => image.image_id.clone(),
                        "image-type" => Some("machine".to_string()),
                        "is-public" => image.public.map(|b| b.to_string()),
                        "manifest-location" => image.image_location.clone(),
                        "name" => image.name.clone(),
                        "owner-alias" => image.image_owner_alias.clone(),
                        "owner-id" => image.owner_id.clone(),
                        "platform" => image.platform.as_ref().map(|_| "windows".to_string()),
                        "platform-details" => image.platform_details.clone(),
                        "root-device-type" => Some("ebs".to_string()),
                        "source-instance-id" => image.source_instance_id.clone(),
                        "state" => image.state.as_ref().map(|s| s.as_str().to_string()),
                        "usage-operation" => image.usage_operation.clone(),
                        "virtualization-type" => image.virtualization_type.as_ref().map(|v| v.as_str().to_string()),
                        _ => None,
                    }
                })
            })
            .map(|(id, image, _)| (id, image))
            .collect();
        let query = format!("DescribeImages;{ids:?};{owners:?};{executable_users:?};{filters:?};{include_deprecated}");
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::DescribeImagesResult { next_token: page.marker, images: Some(page.items) })
    }
}

/// Runs `ec2.image-state` timers: a pending image becomes available (its snapshots completed) or
/// failed; a pending snapshot copy completes.
pub struct ImageStateJob;

#[async_trait]
impl JobHandler for ImageStateJob {
    fn kind(&self) -> &'static str {
        JOB_KIND
    }

    fn service(&self) -> &'static str {
        "ec2"
    }

    async fn run(&self, job: &JobRecord, ctx: &JobContext<'_>) -> Result<JobOutcome, JobError> {
        let failed = |e: Ec2Error| JobError::new(format!("{e:?}"));
        let completion: Completion =
            serde_json::from_value(job.payload.clone()).map_err(|e| JobError::new(format!("bad payload: {e}")))?;
        if completion.id.starts_with("snap-") {
            crate::snapshots::complete(ctx, &job.scope, &completion.id, &completion.to).await.map_err(failed)?;
            return Ok(JobOutcome::Done);
        }
        let key = store::image_key(&job.scope, &completion.id);
        let Some(mut image) = ctx.tx.get_record::<ImageRecord>(&key).await.map_err(|e| JobError::new(e.to_string()))?
        else {
            return Ok(JobOutcome::Done);
        };
        if image.state != "pending" {
            return Ok(JobOutcome::Done);
        }
        image.state = completion.to.clone();
        image.state_reason = completion.reason.clone();
        let snapshot_state = if image.state == "available" { "completed" } else { "error" };
        for device in &image.devices {
            crate::snapshots::complete(ctx, &job.scope, &device.snapshot_id, snapshot_state).await.map_err(failed)?;
        }
        ctx.tx.put_record(&key, &image);
        state_event(ctx, job.scope.region.as_str(), &image, &image.state);
        ctx.record("ImageStateChange", json!({ "imageId": image.id, "state": image.state }));
        Ok(JobOutcome::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_ids_have_eight_or_seventeen_hex_digits() {
        assert!(is_image_id("ami-12345678"));
        assert!(is_image_id("ami-0123456789abcdef0"));
        assert!(!is_image_id("ami-123") && !is_image_id("resolve:ssm:/x") && !is_image_id(""));
    }

    #[test]
    fn missing_images_are_named_as_aws_names_them() {
        let one = "ami-12345678".to_string();
        let two = "ami-87654321".to_string();
        assert_eq!(not_found(&[&one]).message(), Some("The image id '[ami-12345678]' does not exist"));
        assert_eq!(
            not_found(&[&one, &two]).message(),
            Some("The image ids '[ami-12345678, ami-87654321]' do not exist")
        );
    }
}
