//! Tags of EC2 resources: CreateTags, DeleteTags, DescribeTags, and the `TagSpecifications` of
//! every create. At most 50 per resource; keys of 1 to 128 characters that do not start with
//! `aws:`, values of at most 256. A resource is found by its id's prefix.

use crate::access::{authorize, resource_arn};
use crate::errors::Ec2Error;
use crate::filters::{check_filter_names, matches_filters};
use crate::launch_templates::{template_key, templates_prefix, LaunchTemplateRecord};
use crate::operations::{CreateTags, DeleteTags, DescribeTags};
use crate::store::{
    self, ImageRecord, InstanceRecord, SecurityGroupRecord, SnapshotRecord, SubnetRecord, Tags, VolumeRecord, VpcRecord,
};
use crate::types::{self, ResourceType, TagDescription};
use crate::Ec2;
use ingot_core::page::{page_of, PageError};
use ingot_core::{Access, Handler, RequestContext};
use ingot_store::Record;

const MAX_TAGS: usize = 50;
const TAG_FILTERS: &[&str] = &["key", "resource-id", "resource-type", "tag-key", "tag-value", "value"];

/// A kind of taggable resource Ingot keeps: its id prefix, ARN resource type and record key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taggable {
    Vpc,
    Subnet,
    SecurityGroup,
    Image,
    Snapshot,
    Instance,
    Volume,
    LaunchTemplate,
}

impl Taggable {
    pub fn of_id(id: &str) -> Option<Self> {
        let prefix = id.split_once('-').map(|(p, _)| p)?;
        match prefix {
            "vpc" => Some(Taggable::Vpc),
            "subnet" => Some(Taggable::Subnet),
            "sg" => Some(Taggable::SecurityGroup),
            "ami" => Some(Taggable::Image),
            "snap" => Some(Taggable::Snapshot),
            "i" => Some(Taggable::Instance),
            "vol" => Some(Taggable::Volume),
            "lt" => Some(Taggable::LaunchTemplate),
            _ => None,
        }
    }

    /// The resource type in ARNs and in DescribeTags (`security-group`).
    pub fn name(self) -> &'static str {
        match self {
            Taggable::Vpc => "vpc",
            Taggable::Subnet => "subnet",
            Taggable::SecurityGroup => "security-group",
            Taggable::Image => "image",
            Taggable::Snapshot => "snapshot",
            Taggable::Instance => "instance",
            Taggable::Volume => "volume",
            Taggable::LaunchTemplate => "launch-template",
        }
    }

    fn wire(self) -> ResourceType {
        match self {
            Taggable::Vpc => ResourceType::Vpc,
            Taggable::Subnet => ResourceType::Subnet,
            Taggable::SecurityGroup => ResourceType::SecurityGroup,
            Taggable::Image => ResourceType::Image,
            Taggable::Snapshot => ResourceType::Snapshot,
            Taggable::Instance => ResourceType::Instance,
            Taggable::Volume => ResourceType::Volume,
            Taggable::LaunchTemplate => ResourceType::LaunchTemplate,
        }
    }
}

fn invalid(message: impl Into<String>) -> Ec2Error {
    Ec2Error::unmodeled("InvalidParameterValue", 400, message)
}

/// Tags as stored, checked.
pub fn checked(tags: &[types::Tag]) -> Result<Tags, Ec2Error> {
    let mut out: Tags = Vec::new();
    for tag in tags {
        let key = tag.key.clone().unwrap_or_default();
        let value = tag.value.clone().unwrap_or_default();
        if key.is_empty() || key.chars().count() > 128 {
            return Err(invalid(format!("Tag key exceeds the maximum length of 128 characters or is empty: '{key}'")));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(invalid("Tag keys starting with 'aws:' are reserved for internal use"));
        }
        if value.chars().count() > 256 {
            return Err(invalid(format!("Tag value exceeds the maximum length of 256 characters: '{value}'")));
        }
        out.retain(|(k, _)| *k != key);
        out.push((key, value));
    }
    Ok(out)
}

/// Adds `new` to `tags`, replacing same keys; refuses more than 50 in all.
pub fn merge(tags: &mut Tags, new: Tags) -> Result<(), Ec2Error> {
    for (key, value) in new {
        tags.retain(|(k, _)| *k != key);
        tags.push((key, value));
    }
    if tags.len() > MAX_TAGS {
        return Err(Ec2Error::unmodeled(
            "TagLimitExceeded",
            400,
            format!("The maximum number of tags ({MAX_TAGS}) has been exceeded"),
        ));
    }
    Ok(())
}

/// The tags a create's `TagSpecifications` give a resource of `kind`.
pub fn from_specifications(
    specifications: Option<&[types::TagSpecification]>,
    kind: ResourceType,
) -> Result<Tags, Ec2Error> {
    let mut tags = Vec::new();
    for spec in specifications.unwrap_or_default() {
        if spec.resource_type.as_ref() != Some(&kind) {
            return Err(invalid(format!(
                "'{}' is not a valid taggable resource type for this operation.",
                spec.resource_type.as_ref().map_or("", |t| t.as_str())
            )));
        }
        merge(&mut tags, checked(spec.tags.as_deref().unwrap_or_default())?)?;
    }
    Ok(tags)
}

/// The wire form of stored tags; `None` when there are none.
pub fn to_wire(tags: &Tags) -> Option<Vec<types::Tag>> {
    (!tags.is_empty())
        .then(|| tags.iter().map(|(k, v)| types::Tag { key: Some(k.clone()), value: Some(v.clone()) }).collect())
}

/// `aws:RequestTag/*` and `aws:TagKeys` of tags a call sets.
pub fn with_request_tags<'a>(access: Access<'a>, tags: &'a Tags) -> Access<'a> {
    access.with_request_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

fn not_found(kind: Taggable, id: &str) -> Ec2Error {
    match kind {
        Taggable::Vpc => Ec2Error::unmodeled("InvalidVpcID.NotFound", 400, format!("The vpc ID '{id}' does not exist")),
        Taggable::Subnet => {
            Ec2Error::unmodeled("InvalidSubnetID.NotFound", 400, format!("The subnet ID '{id}' does not exist"))
        }
        Taggable::SecurityGroup => {
            Ec2Error::unmodeled("InvalidGroup.NotFound", 400, format!("The security group '{id}' does not exist"))
        }
        Taggable::Image | Taggable::Snapshot | Taggable::Instance | Taggable::Volume | Taggable::LaunchTemplate => {
            unknown_id(id)
        }
    }
}

/// The tags of the resource `id` of `kind`; AWS's "does not exist" when it does not.
async fn load_tags(ctx: &RequestContext<'_>, kind: Taggable, id: &str) -> Result<Tags, Ec2Error> {
    let tags = match kind {
        Taggable::Vpc => ctx.tx.get_record::<VpcRecord>(&store::vpc_key(ctx.scope, id)).await?.map(|r| r.tags),
        Taggable::Subnet => ctx.tx.get_record::<SubnetRecord>(&store::subnet_key(ctx.scope, id)).await?.map(|r| r.tags),
        Taggable::SecurityGroup => {
            ctx.tx.get_record::<SecurityGroupRecord>(&store::security_group_key(ctx.scope, id)).await?.map(|r| r.tags)
        }
        Taggable::Image => ctx.tx.get_record::<ImageRecord>(&store::image_key(ctx.scope, id)).await?.map(|r| r.tags),
        Taggable::Snapshot => {
            ctx.tx.get_record::<SnapshotRecord>(&store::snapshot_key(ctx.scope, id)).await?.map(|r| r.tags)
        }
        Taggable::Instance => {
            ctx.tx.get_record::<InstanceRecord>(&store::instance_key(ctx.scope, id)).await?.map(|r| r.tags)
        }
        Taggable::Volume => ctx.tx.get_record::<VolumeRecord>(&store::volume_key(ctx.scope, id)).await?.map(|r| r.tags),
        Taggable::LaunchTemplate => {
            ctx.tx.get_record::<LaunchTemplateRecord>(&template_key(ctx.scope, id)).await?.map(|r| r.tags)
        }
    };
    tags.ok_or_else(|| not_found(kind, id))
}

/// Replaces the tags of the resource `id` of `kind` (which exists).
async fn save_tags(ctx: &RequestContext<'_>, kind: Taggable, id: &str, tags: Tags) -> Result<(), Ec2Error> {
    async fn update<R: Record>(
        ctx: &RequestContext<'_>,
        key: String,
        tags: Tags,
        slot: fn(&mut R) -> &mut Tags,
    ) -> Result<(), Ec2Error> {
        if let Some(mut record) = ctx.tx.get_record::<R>(&key).await? {
            *slot(&mut record) = tags;
            ctx.tx.put_record(&key, &record);
        }
        Ok(())
    }
    match kind {
        Taggable::Vpc => update::<VpcRecord>(ctx, store::vpc_key(ctx.scope, id), tags, |r| &mut r.tags).await,
        Taggable::Subnet => update::<SubnetRecord>(ctx, store::subnet_key(ctx.scope, id), tags, |r| &mut r.tags).await,
        Taggable::SecurityGroup => {
            update::<SecurityGroupRecord>(ctx, store::security_group_key(ctx.scope, id), tags, |r| &mut r.tags).await
        }
        Taggable::Image => update::<ImageRecord>(ctx, store::image_key(ctx.scope, id), tags, |r| &mut r.tags).await,
        Taggable::Snapshot => {
            update::<SnapshotRecord>(ctx, store::snapshot_key(ctx.scope, id), tags, |r| &mut r.tags).await
        }
        Taggable::Instance => {
            update::<InstanceRecord>(ctx, store::instance_key(ctx.scope, id), tags, |r| &mut r.tags).await
        }
        Taggable::Volume => update::<VolumeRecord>(ctx, store::volume_key(ctx.scope, id), tags, |r| &mut r.tags).await,
        Taggable::LaunchTemplate => {
            update::<LaunchTemplateRecord>(ctx, template_key(ctx.scope, id), tags, |r| &mut r.tags).await
        }
    }
}

/// The ARNs a tagging call is about; an id of no known kind is refused as AWS does.
fn tagged_arns(ctx: &RequestContext<'_>, resources: &[String]) -> Vec<String> {
    resources
        .iter()
        .map(|id| match Taggable::of_id(id) {
            // Image and snapshot ARNs name no account.
            Some(Taggable::Image) => crate::images::image_arn(ctx, ctx.region().as_str(), id),
            Some(Taggable::Snapshot) => crate::images::snapshot_arn(ctx, ctx.region().as_str(), id),
            Some(kind) => resource_arn(ctx, kind.name(), id),
            None => resource_arn(ctx, "*", id),
        })
        .collect()
}

fn kinds(resources: &[String]) -> Result<Vec<(Taggable, &str)>, Ec2Error> {
    resources
        .iter()
        .map(|id| match Taggable::of_id(id) {
            Some(kind) => Ok((kind, id.as_str())),
            None => Err(unknown_id(id)),
        })
        .collect()
}

/// AWS's answer to tagging an id Ingot keeps nothing of: "does not exist" for kinds EC2 knows,
/// "not valid" for the rest.
fn unknown_id(id: &str) -> Ec2Error {
    let prefix = id.split_once('-').map_or("", |(p, _)| p);
    match prefix {
        "i" => Ec2Error::unmodeled("InvalidInstanceID.NotFound", 400, format!("The instance ID '{id}' does not exist")),
        "ami" => Ec2Error::unmodeled("InvalidAMIID.NotFound", 400, format!("The image id '[{id}]' does not exist")),
        "snap" => Ec2Error::unmodeled("InvalidSnapshot.NotFound", 400, format!("The snapshot '{id}' does not exist.")),
        "vol" => Ec2Error::unmodeled("InvalidVolume.NotFound", 400, format!("The volume '{id}' does not exist.")),
        "lt" => Ec2Error::unmodeled(
            "InvalidLaunchTemplateId.NotFound",
            400,
            format!("The specified launch template, with template ID {id}, does not exist."),
        ),
        _ => Ec2Error::unmodeled("InvalidID", 400, format!("The ID '{id}' is not valid")),
    }
}

impl Handler<CreateTags> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::CreateTagsRequest,
    ) -> Result<ingot_core::Empty, Ec2Error> {
        let arns = tagged_arns(ctx, &input.resources);
        let requested: Tags = input
            .tags
            .iter()
            .map(|t| (t.key.clone().unwrap_or_default(), t.value.clone().unwrap_or_default()))
            .collect();
        authorize::<CreateTags>(ctx, with_request_tags(Access::resources(&arns), &requested)).await?;
        crate::dry_run(input.dry_run)?;
        let tags = checked(&input.tags)?;
        store::ensure_default_network(ctx).await?;
        for (kind, id) in kinds(&input.resources)? {
            let mut existing = load_tags(ctx, kind, id).await?;
            merge(&mut existing, tags.clone())?;
            save_tags(ctx, kind, id, existing).await?;
        }
        Ok(ingot_core::Empty {})
    }
}

impl Handler<DeleteTags> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DeleteTagsRequest,
    ) -> Result<ingot_core::Empty, Ec2Error> {
        let arns = tagged_arns(ctx, &input.resources);
        let removing: Vec<types::Tag> = input.tags.clone().unwrap_or_default();
        let keys: Vec<String> = removing.iter().filter_map(|t| t.key.clone()).collect();
        let mut access = Access::resources(&arns);
        if !keys.is_empty() {
            access = access.condition("aws:TagKeys", keys.iter().cloned());
        }
        authorize::<DeleteTags>(ctx, access).await?;
        crate::dry_run(input.dry_run)?;
        store::ensure_default_network(ctx).await?;
        for (kind, id) in kinds(&input.resources)? {
            let mut existing = load_tags(ctx, kind, id).await?;
            if removing.is_empty() {
                existing.clear();
            }
            for tag in &removing {
                let key = tag.key.as_deref().unwrap_or_default();
                // A tag named with a value goes only if the value matches.
                existing.retain(|(k, v)| !(k == key && tag.value.as_ref().is_none_or(|want| want == v)));
            }
            save_tags(ctx, kind, id, existing).await?;
        }
        Ok(ingot_core::Empty {})
    }
}

impl Handler<DescribeTags> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DescribeTagsRequest,
    ) -> Result<types::DescribeTagsResult, Ec2Error> {
        authorize::<DescribeTags>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let filters = input.filters.unwrap_or_default();
        check_filter_names(&filters, TAG_FILTERS)?;
        store::ensure_default_network(ctx).await?;
        let mut all: Vec<(Taggable, String, Tags)> = Vec::new();
        for vpc in store::all::<VpcRecord>(&ctx.tx, &store::vpcs_prefix(ctx.scope)).await? {
            all.push((Taggable::Vpc, vpc.id, vpc.tags));
        }
        for subnet in store::all::<SubnetRecord>(&ctx.tx, &store::subnets_prefix(ctx.scope)).await? {
            all.push((Taggable::Subnet, subnet.id, subnet.tags));
        }
        for group in store::all::<SecurityGroupRecord>(&ctx.tx, &store::security_groups_prefix(ctx.scope)).await? {
            all.push((Taggable::SecurityGroup, group.id, group.tags));
        }
        for image in store::all::<ImageRecord>(&ctx.tx, &store::images_prefix(ctx.scope)).await? {
            all.push((Taggable::Image, image.id, image.tags));
        }
        for snapshot in store::all::<SnapshotRecord>(&ctx.tx, &store::snapshots_prefix(ctx.scope)).await? {
            all.push((Taggable::Snapshot, snapshot.id, snapshot.tags));
        }
        for instance in store::all::<InstanceRecord>(&ctx.tx, &store::instances_prefix(ctx.scope)).await? {
            all.push((Taggable::Instance, instance.id, instance.tags));
        }
        for volume in store::all::<VolumeRecord>(&ctx.tx, &store::volumes_prefix(ctx.scope)).await? {
            all.push((Taggable::Volume, volume.id, volume.tags));
        }
        for template in store::all::<LaunchTemplateRecord>(&ctx.tx, &templates_prefix(ctx.scope)).await? {
            all.push((Taggable::LaunchTemplate, template.id, template.tags));
        }
        let mut items = Vec::new();
        for (kind, id, tags) in all {
            for (key, value) in tags {
                let field = |name: &str| match name {
                    _ if name.starts_with("tag:") => (name["tag:".len()..] == *key).then(|| value.clone()),
                    "key" | "tag-key" => Some(key.clone()),
                    "value" | "tag-value" => Some(value.clone()),
                    "resource-id" => Some(id.clone()),
                    "resource-type" => Some(kind.name().to_string()),
                    _ => None,
                };
                if matches_filters(&filters, field) {
                    items.push((
                        format!("{}\u{0}{id}\u{0}{key}", kind.name()),
                        TagDescription {
                            key: Some(key.clone()),
                            resource_id: Some(id.clone()),
                            resource_type: Some(kind.wire()),
                            value: Some(value.clone()),
                        },
                    ));
                }
            }
        }
        let max = input.max_results.map_or(usize::MAX, |n| usize::try_from(n.max(5)).unwrap_or(usize::MAX));
        let page = page_of(items, "DescribeTags", input.next_token.as_deref(), max).map_err(|e| match e {
            PageError::InvalidToken => Ec2Error::unmodeled("InvalidParameterValue", 400, "Invalid value for NextToken"),
            PageError::Store(e) => e.into(),
        })?;
        Ok(types::DescribeTagsResult { next_token: page.marker, tags: Some(page.items) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> types::Tag {
        types::Tag { key: Some(k.into()), value: Some(v.into()) }
    }

    #[test]
    fn reserved_empty_and_overlong_tag_keys_are_refused() {
        assert!(checked(&[tag("env", "prod")]).is_ok());
        assert!(checked(&[tag("aws:x", "v")]).is_err());
        assert!(checked(&[tag("", "v")]).is_err());
        assert!(checked(&[tag(&"k".repeat(129), "v")]).is_err());
        assert!(checked(&[tag("k", &"v".repeat(257))]).is_err());
    }

    #[test]
    fn resources_are_known_by_their_id_prefix() {
        assert_eq!(Taggable::of_id("vpc-0123"), Some(Taggable::Vpc));
        assert_eq!(Taggable::of_id("sg-0123"), Some(Taggable::SecurityGroup));
        assert_eq!(Taggable::of_id("subnet-0123"), Some(Taggable::Subnet));
        assert_eq!(Taggable::of_id("nothing"), None);
    }
}
