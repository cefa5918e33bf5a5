//! Machine images: DescribeImages over the public images every region has
//! (`ingot_core::public_images`, owned by Amazon and launchable by everyone). Images the accounts
//! make arrive with instances.

use crate::access::authorize;
use crate::errors::Ec2Error;
use crate::filters::check_filter_names;
use crate::network::{page, passes};
use crate::operations::DescribeImages;
use crate::types::{self, BlockDeviceMapping, EbsBlockDevice, Image};
use crate::Ec2;
use ingot_core::public_images::{self, PublicImage};
use ingot_core::{Access, Handler, RequestContext};

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

fn device_name(image: &PublicImage) -> &'static str {
    if image.windows {
        "/dev/sda1"
    } else {
        "/dev/xvda"
    }
}

fn to_wire(region: &str, image: &PublicImage) -> Image {
    let published = public_images::published();
    let deprecation = ingot_core::Timestamp(published.0 + DEPRECATION_AFTER_MS);
    Image {
        image_id: Some(public_images::image_id(region, image.parameter)),
        image_location: Some(format!("amazon/{}", image.name)),
        state: Some(types::ImageState::Available),
        owner_id: Some(image.owner().to_string()),
        creation_date: Some(published.to_iso8601()),
        public: Some(true),
        architecture: Some(ingot_core::model::wire_enum(image.architecture)),
        image_type: Some(types::ImageTypeValues::Machine),
        platform: image.windows.then_some(types::PlatformValues::Windows),
        platform_details: Some(if image.windows { "Windows" } else { "Linux/UNIX" }.to_string()),
        usage_operation: Some(if image.windows { "RunInstances:0002" } else { "RunInstances" }.to_string()),
        block_device_mappings: Some(vec![BlockDeviceMapping {
            device_name: Some(device_name(image).to_string()),
            ebs: Some(EbsBlockDevice {
                delete_on_termination: Some(true),
                snapshot_id: Some(public_images::snapshot_id(region, image.parameter)),
                volume_size: Some(image.root_size),
                volume_type: Some(types::VolumeType::Gp3),
                encrypted: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        description: Some(image.description.to_string()),
        ena_support: Some(true),
        hypervisor: Some(types::HypervisorType::Xen),
        image_owner_alias: Some("amazon".to_string()),
        name: Some(image.name.to_string()),
        root_device_name: Some(device_name(image).to_string()),
        root_device_type: Some(types::DeviceType::Ebs),
        sriov_net_support: Some("simple".to_string()),
        virtualization_type: Some(types::VirtualizationType::Hvm),
        boot_mode: Some(if image.windows { types::BootModeValues::Uefi } else { types::BootModeValues::UefiPreferred }),
        deprecation_time: Some(deprecation.to_iso8601()),
        imds_support: (!image.windows).then_some(types::ImdsSupportValues::V20),
        public_ssm_parameter_name: None,
        ..Default::default()
    }
}

/// Whether a public image passes the `Owners` list (`amazon`, `self`, account ids).
fn owned_as_asked(image: &PublicImage, owners: &[String]) -> bool {
    owners.is_empty() || owners.iter().any(|o| o == "amazon" || o == image.owner())
}

/// Whether a public image passes `ExecutableUsers` (`self`, `all`, account ids): everyone may
/// launch a public image.
fn executable_as_asked(executable_users: &[String]) -> bool {
    executable_users.is_empty() || executable_users.iter().any(|u| u == "all" || u == "self" || u.len() == 12)
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
        let catalog: Vec<(String, &PublicImage)> = public_images::PUBLIC_IMAGES
            .iter()
            .map(|image| (public_images::image_id(region, image.parameter), image))
            .collect();
        let missing: Vec<&String> = ids.iter().filter(|id| !catalog.iter().any(|(c, _)| c == *id)).collect();
        if !missing.is_empty() {
            return Err(not_found(&missing));
        }
        let deprecated_now = public_images::published().0 + DEPRECATION_AFTER_MS <= ctx.now.0;
        let tags = Vec::new();
        let items = catalog
            .into_iter()
            .filter(|(id, _)| ids.is_empty() || ids.contains(id))
            .filter(|(_, image)| owned_as_asked(image, &owners) && executable_as_asked(&executable_users))
            // Deprecated images are listed only when asked for, or named by id.
            .filter(|_| !deprecated_now || include_deprecated || !ids.is_empty())
            .map(|(id, image)| (id, to_wire(region, image)))
            .filter(|(_, image)| {
                passes(&filters, &tags, |name| {
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
                        "is-public" => Some("true".to_string()),
                        "manifest-location" => image.image_location.clone(),
                        "name" => image.name.clone(),
                        "owner-alias" => image.image_owner_alias.clone(),
                        "owner-id" => image.owner_id.clone(),
                        "platform" => image.platform.as_ref().map(|_| "windows".to_string()),
                        "platform-details" => image.platform_details.clone(),
                        "root-device-type" => Some("ebs".to_string()),
                        "state" => Some("available".to_string()),
                        "usage-operation" => image.usage_operation.clone(),
                        "virtualization-type" => Some("hvm".to_string()),
                        _ => None,
                    }
                })
            })
            .collect();
        let query = format!("DescribeImages;{ids:?};{owners:?};{executable_users:?};{filters:?};{include_deprecated}");
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::DescribeImagesResult { next_token: page.marker, images: Some(page.items) })
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
