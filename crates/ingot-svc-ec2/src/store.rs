//! How EC2 lays out its state, and the records it keeps.
//!
//! Under `ACCOUNT/REGION/ec2/`:
//!
//! | key | record | why |
//! |---|---|---|
//! | `network` | [`NetworkRecord`]: that the default VPC, its subnets and group exist | made once, on the first call that needs them |
//! | `vpcs/VPC_ID` | [`VpcRecord`] | |
//! | `subnets/SUBNET_ID` | [`SubnetRecord`] | |
//! | `security-groups/GROUP_ID` | [`SecurityGroupRecord`]: the group and its rules | one read authorizes and changes a group |
//! | `ebs-defaults` | [`EbsDefaultsRecord`]: encryption by default and its key |
//! | `instances/INSTANCE_ID` | [`InstanceRecord`]: an instance, its state and its volumes' ids |
//! | `volumes/VOLUME_ID` | [`VolumeRecord`] | |
//! | `images/AMI_ID` | [`ImageRecord`]: an image of the account's, its devices and launch permissions | |
//! | `snapshots/SNAPSHOT_ID` | [`SnapshotRecord`] | |
//!
//! Installation-wide, `global/ec2/owners/REGION/ID` ([`OwnerIndexRecord`]) names the owner of each
//! image and snapshot: their ids do not name it, and other accounts may see them by id or
//! through launch and volume permissions.
//!
//! Every account and region has a default VPC (172.31.0.0/16) with a default subnet per
//! Availability Zone and a default security group, as AWS gives every account. Their ids are
//! derived from the account and region, so two first calls at once make identical records and the
//! loser's retry finds the winner's.

use crate::errors::Ec2Error;
use ingot_core::identity::{region_info, region_short_name};
use ingot_core::{RequestContext, Scope, Timestamp};
use ingot_store::{encode_record, Record, Tx};
use serde::{Deserialize, Serialize};

/// The default VPC's CIDR block, as AWS makes it.
pub const DEFAULT_VPC_CIDR: &str = "172.31.0.0/16";

/// A tag of an EC2 resource.
pub type Tags = Vec<(String, String)>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRecord {
    pub default_vpc: String,
    pub created: Timestamp,
}

impl Record for NetworkRecord {
    const KIND: &'static str = "ec2.network";
    const SCHEMA_VERSION: u32 = 1;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcRecord {
    pub id: String,
    pub cidr_block: String,
    pub cidr_association_id: String,
    pub is_default: bool,
    pub dhcp_options_id: String,
    #[serde(default)]
    pub tags: Tags,
}

impl Record for VpcRecord {
    const KIND: &'static str = "ec2.vpc";
    const SCHEMA_VERSION: u32 = 1;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetRecord {
    pub id: String,
    pub vpc_id: String,
    pub cidr_block: String,
    pub availability_zone: String,
    pub availability_zone_id: String,
    pub default_for_az: bool,
    pub map_public_ip_on_launch: bool,
    #[serde(default)]
    pub tags: Tags,
}

impl Record for SubnetRecord {
    const KIND: &'static str = "ec2.subnet";
    const SCHEMA_VERSION: u32 = 1;
}

/// One rule of a security group: a protocol and port range, and one peer (a CIDR range, or
/// another group with its owner). AWS lists rules grouped by protocol and ports; Ingot keeps
/// them one peer each, as AWS's security group rules are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// `sgr-…`.
    #[serde(default)]
    pub id: String,
    /// `tcp`, `udp`, `icmp`, `-1` (all), or a protocol number.
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub peer: Peer,
    #[serde(default)]
    pub description: Option<String>,
}

/// Where a rule's traffic comes from (ingress) or goes to (egress).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Peer {
    Cidr(String),
    Group { id: String, owner: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroupRecord {
    pub id: String,
    pub name: String,
    pub description: String,
    pub vpc_id: String,
    pub owner: String,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
    #[serde(default)]
    pub tags: Tags,
}

impl Record for SecurityGroupRecord {
    const KIND: &'static str = "ec2.security-group";
    const SCHEMA_VERSION: u32 = 1;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EbsDefaultsRecord {
    pub encryption_by_default: bool,
    /// The key new volumes use; `None`: the AWS managed `alias/aws/ebs`.
    pub kms_key_id: Option<String>,
}

impl Record for EbsDefaultsRecord {
    const KIND: &'static str = "ec2.ebs-defaults";
    const SCHEMA_VERSION: u32 = 1;
}

pub fn network_key(scope: &Scope) -> String {
    scope.key("ec2", "network")
}

pub fn vpc_key(scope: &Scope, id: &str) -> String {
    scope.key("ec2", &["vpcs/", id].concat())
}

pub fn vpcs_prefix(scope: &Scope) -> String {
    scope.key("ec2", "vpcs/")
}

pub fn subnet_key(scope: &Scope, id: &str) -> String {
    scope.key("ec2", &["subnets/", id].concat())
}

pub fn subnets_prefix(scope: &Scope) -> String {
    scope.key("ec2", "subnets/")
}

pub fn security_group_key(scope: &Scope, id: &str) -> String {
    scope.key("ec2", &["security-groups/", id].concat())
}

pub fn security_groups_prefix(scope: &Scope) -> String {
    scope.key("ec2", "security-groups/")
}

pub fn ebs_defaults_key(scope: &Scope) -> String {
    scope.key("ec2", "ebs-defaults")
}

/// An id of the default network, the same for every call in this account and region:
/// `PREFIX-` and 17 hex digits of a hash of the account, region and `what`.
fn derived_id(prefix: &str, scope: &Scope, what: &str) -> String {
    let digest = ingot_core::crypto::sha256_hex(format!("{}/{}/{what}", scope.account, scope.region).as_bytes());
    [prefix, "-", &digest[..17]].concat()
}

/// The default network's VPC id, made with its subnets and group on the first call that needs
/// them (inside that call's unit of work).
pub async fn ensure_default_network(ctx: &RequestContext<'_>) -> Result<String, Ec2Error> {
    let key = network_key(ctx.scope);
    if let Some(network) = ctx.tx.get_record::<NetworkRecord>(&key).await? {
        return Ok(network.default_vpc);
    }
    let scope = ctx.scope;
    let vpc_id = derived_id("vpc", scope, "default-vpc");
    let vpc = VpcRecord {
        id: vpc_id.clone(),
        cidr_block: DEFAULT_VPC_CIDR.to_string(),
        cidr_association_id: derived_id("vpc-cidr-assoc", scope, "default-vpc-cidr"),
        is_default: true,
        dhcp_options_id: derived_id("dopt", scope, "default-dhcp"),
        tags: Vec::new(),
    };
    let tx: &Tx = &ctx.tx;
    tx.insert_new(&key, encode_record(&NetworkRecord { default_vpc: vpc_id.clone(), created: ctx.now }));
    tx.insert_new(&vpc_key(scope, &vpc_id), encode_record(&vpc));
    let zones = region_info(scope.region.as_str()).map_or(3, |r| r.zones);
    let short = region_short_name(scope.region.as_str());
    for i in 0..zones {
        let zone = format!("{}{}", scope.region, (b'a' + i) as char);
        let subnet = SubnetRecord {
            id: derived_id("subnet", scope, &zone),
            vpc_id: vpc_id.clone(),
            // 172.31.0.0/20, 172.31.16.0/20, …: AWS's default subnets.
            cidr_block: format!("172.31.{}.0/20", u32::from(i) * 16),
            availability_zone: zone,
            availability_zone_id: format!("{short}-az{}", i + 1),
            default_for_az: true,
            map_public_ip_on_launch: true,
            tags: Vec::new(),
        };
        tx.insert_new(&subnet_key(scope, &subnet.id), encode_record(&subnet));
    }
    let group = default_security_group(scope, &vpc_id);
    tx.insert_new(&security_group_key(scope, &group.id), encode_record(&group));
    Ok(vpc_id)
}

/// A VPC's default security group: traffic from its own members in, everything out.
pub fn default_security_group(scope: &Scope, vpc_id: &str) -> SecurityGroupRecord {
    let id = derived_id("sg", scope, &["default-group/", vpc_id].concat());
    SecurityGroupRecord {
        id: id.clone(),
        name: "default".to_string(),
        description: "default VPC security group".to_string(),
        vpc_id: vpc_id.to_string(),
        owner: scope.account.to_string(),
        ingress: vec![Rule {
            id: derived_id("sgr", scope, &["default-ingress/", vpc_id].concat()),
            protocol: "-1".to_string(),
            from_port: None,
            to_port: None,
            peer: Peer::Group { id, owner: scope.account.to_string() },
            description: None,
        }],
        egress: vec![Rule { id: derived_id("sgr", scope, &["default-egress/", vpc_id].concat()), ..all_traffic_out() }],
        tags: Vec::new(),
    }
}

/// The egress rule every new group starts with.
pub fn all_traffic_out() -> Rule {
    Rule {
        id: String::new(),
        protocol: "-1".to_string(),
        from_port: None,
        to_port: None,
        peer: Peer::Cidr("0.0.0.0/0".into()),
        description: None,
    }
}

/// Every record under `prefix`.
pub async fn all<R: Record>(tx: &Tx, prefix: &str) -> Result<Vec<R>, Ec2Error> {
    Ok(tx.scan_records::<R>(prefix, None, usize::MAX).await?.into_iter().map(|(_, r)| r).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_network_ids_are_stable_per_account_and_region_and_look_like_aws_ids() {
        let scope = |a: &str, r: &str| {
            Scope::new(ingot_core::AccountId::parse(a).unwrap(), ingot_core::Region::parse(r).unwrap())
        };
        let a = derived_id("vpc", &scope("111122223333", "us-east-1"), "default-vpc");
        assert_eq!(a, derived_id("vpc", &scope("111122223333", "us-east-1"), "default-vpc"));
        assert_ne!(a, derived_id("vpc", &scope("111122223333", "eu-west-1"), "default-vpc"));
        assert_ne!(a, derived_id("vpc", &scope("444455556666", "us-east-1"), "default-vpc"));
        assert!(a.starts_with("vpc-") && a.len() == 21 && a[4..].bytes().all(|b| b.is_ascii_hexdigit()));
    }
}

/// An instance's metadata service options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataOptions {
    /// `optional` or `required`.
    pub http_tokens: String,
    pub hop_limit: i32,
    /// `enabled` or `disabled`.
    pub http_endpoint: String,
    /// `enabled` or `disabled`.
    pub instance_metadata_tags: String,
}

/// A volume attached to an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceVolume {
    pub device: String,
    pub volume_id: String,
    pub delete_on_termination: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceRecord {
    pub id: String,
    pub reservation_id: String,
    pub owner: String,
    pub image_id: String,
    pub instance_type: String,
    pub architecture: String,
    pub key_name: Option<String>,
    pub subnet_id: String,
    pub vpc_id: String,
    pub availability_zone: String,
    pub private_ip: String,
    /// (group id, group name)
    pub security_groups: Vec<(String, String)>,
    /// The instance profile attached: its ARN and id.
    pub iam_instance_profile: Option<InstanceProfile>,
    #[serde(default)]
    pub tags: Tags,
    pub user_data: Option<String>,
    /// `pending`, `running`, `stopping`, `stopped`, `shutting-down`, `terminated`.
    pub state: String,
    pub state_reason: Option<(String, String)>,
    pub transition_reason: String,
    pub launch_time: Timestamp,
    pub launch_index: i32,
    pub root_device_name: String,
    pub volumes: Vec<InstanceVolume>,
    pub metadata: MetadataOptions,
    pub disable_api_termination: bool,
    pub disable_api_stop: bool,
    /// `stop` or `terminate`.
    pub shutdown_behavior: String,
    pub client_token: Option<String>,
}

impl Record for InstanceRecord {
    const KIND: &'static str = "ec2.instance";
    const SCHEMA_VERSION: u32 = 1;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeRecord {
    pub id: String,
    pub size: i32,
    pub snapshot_id: Option<String>,
    pub availability_zone: String,
    /// `creating`, `available`, `in-use`, `deleting`, `deleted`.
    pub state: String,
    pub volume_type: String,
    pub encrypted: bool,
    /// The key's ARN (or reference) when encrypted.
    pub kms_key_id: Option<String>,
    pub created: Timestamp,
    /// (instance, device, delete on termination)
    pub attachment: Option<(String, String, bool)>,
    #[serde(default)]
    pub tags: Tags,
}

impl Record for VolumeRecord {
    const KIND: &'static str = "ec2.volume";
    const SCHEMA_VERSION: u32 = 1;
}

pub fn instance_key(scope: &Scope, id: &str) -> String {
    scope.key("ec2", &["instances/", id].concat())
}

pub fn instances_prefix(scope: &Scope) -> String {
    scope.key("ec2", "instances/")
}

pub fn volume_key(scope: &Scope, id: &str) -> String {
    scope.key("ec2", &["volumes/", id].concat())
}

pub fn volumes_prefix(scope: &Scope) -> String {
    scope.key("ec2", "volumes/")
}

/// An IAM instance profile as an instance reports it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct InstanceProfile {
    pub arn: String,
    pub id: String,
}

/// A block device of an account's image: an EBS snapshot at a device name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageDevice {
    pub device: String,
    pub snapshot_id: String,
    pub size: i32,
    pub volume_type: String,
    pub delete_on_termination: bool,
    pub encrypted: bool,
    /// The key's ARN when encrypted.
    pub kms_key_id: Option<String>,
}

/// Who may launch an image besides its owner (`launchPermission`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LaunchPermission {
    Account(String),
    /// `Group=all`: the image is public.
    Everyone,
    Organization(String),
    OrganizationalUnit(String),
}

/// An image an account made (CreateImage, RegisterImage, CopyImage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    pub id: String,
    pub owner: String,
    pub name: String,
    pub description: Option<String>,
    /// `pending`, `available`, `failed`.
    pub state: String,
    /// (code, message) of a failed image.
    #[serde(default)]
    pub state_reason: Option<(String, String)>,
    pub created: Timestamp,
    pub architecture: String,
    pub windows: bool,
    pub root_device_name: String,
    pub virtualization_type: String,
    pub ena_support: bool,
    pub boot_mode: Option<String>,
    pub imds_support: Option<String>,
    pub devices: Vec<ImageDevice>,
    pub source_instance_id: Option<String>,
    /// (image id, region) of the image CopyImage copied.
    pub copied_from: Option<(String, String)>,
    pub launch_permissions: Vec<LaunchPermission>,
    pub deprecation_time: Option<Timestamp>,
    #[serde(default)]
    pub tags: Tags,
}

impl Record for ImageRecord {
    const KIND: &'static str = "ec2.image";
    const SCHEMA_VERSION: u32 = 1;
}

/// An EBS snapshot an account owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRecord {
    pub id: String,
    pub owner: String,
    pub volume_id: String,
    pub size: i32,
    pub description: String,
    /// `pending`, `completed`.
    pub state: String,
    pub started: Timestamp,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    /// Accounts that may create volumes from it (`createVolumePermission`); `all` for everyone.
    pub volume_permissions: Vec<String>,
    #[serde(default)]
    pub tags: Tags,
}

impl Record for SnapshotRecord {
    const KIND: &'static str = "ec2.snapshot";
    const SCHEMA_VERSION: u32 = 1;
}

/// Where an image or snapshot of a region lives, found by its id alone: the id does not name its
/// owner, and other accounts may be allowed to see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerIndexRecord {
    pub owner: String,
    /// Whether anyone besides the owner may see it (launch or volume permissions).
    pub shared: bool,
}

impl Record for OwnerIndexRecord {
    const KIND: &'static str = "ec2.owner-index";
    const SCHEMA_VERSION: u32 = 1;
}

pub fn image_key(scope: &Scope, id: &str) -> String {
    scope.key("ec2", &["images/", id].concat())
}

pub fn images_prefix(scope: &Scope) -> String {
    scope.key("ec2", "images/")
}

pub fn snapshot_key(scope: &Scope, id: &str) -> String {
    scope.key("ec2", &["snapshots/", id].concat())
}

pub fn snapshots_prefix(scope: &Scope) -> String {
    scope.key("ec2", "snapshots/")
}

/// `global/ec2/owners/REGION/ID`: the owner of an image or snapshot of the region.
pub fn owner_index_key(region: &str, id: &str) -> String {
    ingot_core::scope::global_key("ec2", &["owners/", region, "/", id].concat())
}

/// Every indexed image or snapshot of a region (of one kind: `ami-` or `snap-`).
pub fn owner_index_prefix(region: &str, id_prefix: &str) -> String {
    ingot_core::scope::global_key("ec2", &["owners/", region, "/", id_prefix].concat())
}
