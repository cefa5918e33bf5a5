//! AWS managed policies (`arn:aws:iam::aws:policy/…`): the same in every account, read-only, kept
//! as data under `data/aws-managed-policies/` (one JSON file per policy; see its README). A policy
//! is added by dropping its file there and naming it in [`FILES`].

use serde::Deserialize;
use std::sync::OnceLock;

/// One AWS managed policy with its default version's document.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsManagedPolicy {
    pub name: String,
    pub path: String,
    /// `ANPA…`.
    pub id: String,
    pub arn: String,
    pub description: String,
    pub default_version: String,
    /// ISO 8601.
    pub created: String,
    pub updated: String,
    /// The default version's document, as compact JSON.
    pub document: String,
}

macro_rules! policy_files {
    ($($name:literal),* $(,)?) => {
        /// Every file under `data/aws-managed-policies/`, by policy name.
        pub const FILES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../data/aws-managed-policies/", $name, ".json")))),*
        ];
    };
}

policy_files!(
    "AdministratorAccess",
    "PowerUserAccess",
    "ReadOnlyAccess",
    "IAMFullAccess",
    "AmazonSSMFullAccess",
    "AmazonSSMReadOnlyAccess",
    "AmazonSSMManagedInstanceCore",
    "AmazonSSMAutomationRole",
    "AmazonEC2FullAccess",
    "AmazonEC2ReadOnlyAccess",
    "AWSKeyManagementServicePowerUser",
    "AWSOrganizationsFullAccess",
    "AWSOrganizationsReadOnlyAccess",
    "AmazonEC2ContainerRegistryReadOnly",
    "AWSResourceAccessManagerFullAccess",
    "EC2InstanceProfileForImageBuilder",
    "AWSImageBuilderFullAccess",
);

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyFile {
    policy_name: String,
    path: String,
    policy_id: Option<String>,
    arn: String,
    #[serde(default)]
    description: String,
    #[serde(default = "first_version")]
    default_version_id: String,
    #[serde(default)]
    create_date: String,
    #[serde(default)]
    update_date: String,
    document: serde_json::Value,
}

fn first_version() -> String {
    "v1".to_string()
}

/// Every AWS managed policy Ingot knows, in name order.
pub fn aws_managed_policies() -> &'static [AwsManagedPolicy] {
    static POLICIES: OnceLock<Vec<AwsManagedPolicy>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let mut policies: Vec<AwsManagedPolicy> = FILES.iter().filter_map(|(name, text)| parse(name, text)).collect();
        policies.sort_by(|a, b| a.name.cmp(&b.name));
        policies
    })
}

/// The AWS managed policy with this ARN.
pub fn aws_managed_policy(arn: &str) -> Option<&'static AwsManagedPolicy> {
    aws_managed_policies().iter().find(|p| p.arn == arn)
}

fn parse(name: &str, text: &str) -> Option<AwsManagedPolicy> {
    // The files are checked by this crate's tests; a broken one is left out rather than taking
    // the server down.
    let file: PolicyFile = serde_json::from_str(text).ok()?;
    debug_assert_eq!(file.policy_name, name);
    Some(AwsManagedPolicy {
        id: file.policy_id.unwrap_or_else(|| synthetic_id(&file.policy_name)),
        name: file.policy_name,
        path: file.path,
        arn: file.arn,
        description: file.description,
        default_version: file.default_version_id,
        created: file.create_date,
        updated: file.update_date,
        document: file.document.to_string(),
    })
}

/// A stable `ANPA…` id for a policy whose data file lacks AWS's.
fn synthetic_id(name: &str) -> String {
    let hash = ingot_store::hash::fnv1a(name.as_bytes());
    let mut id = String::from("ANPA");
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = hash;
    for _ in 0..17 {
        id.push(alphabet[(bits % 32) as usize] as char);
        bits = bits.rotate_right(5) ^ 0x9e37_79b9_7f4a_7c15;
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_data_file_is_listed_and_parses() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/aws-managed-policies");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok()?.strip_suffix(".json").map(str::to_string))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = FILES.iter().map(|(name, _)| name.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "data/aws-managed-policies and FILES must name the same policies");
        for (name, text) in FILES {
            let policy = parse(name, text).unwrap_or_else(|| panic!("{name}.json does not parse"));
            assert_eq!(policy.name, *name);
            assert_eq!(policy.arn, format!("arn:aws:iam::aws:policy{}{}", policy.path, name));
            assert!(policy.id.starts_with("ANPA"), "{name}");
        }
    }

    #[test]
    fn administrator_access_allows_everything() {
        let admin = aws_managed_policy("arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
        let doc: serde_json::Value = serde_json::from_str(&admin.document).unwrap();
        assert_eq!(doc["Statement"][0]["Action"], "*");
    }
}
