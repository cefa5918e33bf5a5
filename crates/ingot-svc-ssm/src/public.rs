//! AWS's public parameters (`/aws/service/...`): in every region, readable by every account,
//! writable by none. Served from a static table, never from the store; the AMI ids are derived
//! from the region and the name, so they differ per region and never change.

use crate::names::{public_parameter_arn, ParameterPath};
use crate::store::fnv1a;
use crate::types::{ParameterTier, ParameterType};
use ingot_core::{public_images, Region, Timestamp};

/// A public parameter in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicParameter {
    /// Canonical (`aws/service/...`); the name shown has a leading slash.
    pub canonical: String,
    pub value: String,
    pub version: i64,
    pub last_modified: Timestamp,
    pub data_type: &'static str,
}

impl PublicParameter {
    pub fn name(&self) -> String {
        format!("/{}", self.canonical)
    }

    pub fn arn(&self, region: &Region) -> String {
        public_parameter_arn(region, &self.canonical)
    }

    pub const TYPE: ParameterType = ParameterType::String;
    pub const TIER: ParameterTier = ParameterTier::Standard;
}

/// Long names of the regions (`/aws/service/global-infrastructure/regions/<r>/longName`).
const REGION_LONG_NAMES: &[(&str, &str)] = &[
    ("af-south-1", "Africa (Cape Town)"),
    ("ap-east-1", "Asia Pacific (Hong Kong)"),
    ("ap-east-2", "Asia Pacific (Taipei)"),
    ("ap-northeast-1", "Asia Pacific (Tokyo)"),
    ("ap-northeast-2", "Asia Pacific (Seoul)"),
    ("ap-northeast-3", "Asia Pacific (Osaka)"),
    ("ap-south-1", "Asia Pacific (Mumbai)"),
    ("ap-south-2", "Asia Pacific (Hyderabad)"),
    ("ap-southeast-1", "Asia Pacific (Singapore)"),
    ("ap-southeast-2", "Asia Pacific (Sydney)"),
    ("ap-southeast-3", "Asia Pacific (Jakarta)"),
    ("ap-southeast-4", "Asia Pacific (Melbourne)"),
    ("ap-southeast-5", "Asia Pacific (Malaysia)"),
    ("ap-southeast-7", "Asia Pacific (Thailand)"),
    ("ca-central-1", "Canada (Central)"),
    ("ca-west-1", "Canada West (Calgary)"),
    ("eu-central-1", "Europe (Frankfurt)"),
    ("eu-central-2", "Europe (Zurich)"),
    ("eu-north-1", "Europe (Stockholm)"),
    ("eu-south-1", "Europe (Milan)"),
    ("eu-south-2", "Europe (Spain)"),
    ("eu-west-1", "Europe (Ireland)"),
    ("eu-west-2", "Europe (London)"),
    ("eu-west-3", "Europe (Paris)"),
    ("il-central-1", "Israel (Tel Aviv)"),
    ("me-central-1", "Middle East (UAE)"),
    ("me-south-1", "Middle East (Bahrain)"),
    ("mx-central-1", "Mexico (Central)"),
    ("sa-east-1", "South America (Sao Paulo)"),
    ("us-east-1", "US East (N. Virginia)"),
    ("us-east-2", "US East (Ohio)"),
    ("us-west-1", "US West (N. California)"),
    ("us-west-2", "US West (Oregon)"),
];

/// When the table's values were "published".
fn published() -> Timestamp {
    public_images::published()
}

/// The parameter pointing at a public image (`rest` is its name under `aws/service/`).
fn ami_parameter(region: &str, rest: &str) -> PublicParameter {
    let canonical = format!("aws/service/{rest}");
    let h = fnv1a(canonical.as_bytes());
    PublicParameter {
        value: public_images::image_id(region, rest),
        version: 40 + (h % 60) as i64,
        last_modified: published(),
        data_type: "text",
        canonical,
    }
}

fn plain(canonical: String, value: &str) -> PublicParameter {
    PublicParameter { canonical, value: value.to_string(), version: 1, last_modified: published(), data_type: "text" }
}

/// Every public parameter of `region`, sorted by name.
pub fn all(region: &str) -> Vec<PublicParameter> {
    let mut out: Vec<PublicParameter> =
        public_images::PUBLIC_IMAGES.iter().map(|image| ami_parameter(region, image.parameter)).collect();
    for (code, long_name) in REGION_LONG_NAMES {
        let base = format!("aws/service/global-infrastructure/regions/{code}");
        out.push(plain(format!("{base}/longName"), long_name));
        out.push(plain(format!("{base}/partition"), "aws"));
        out.push(plain(base, code));
    }
    out.sort_by(|a, b| a.canonical.cmp(&b.canonical));
    out
}

/// The public parameter `canonical` (`aws/service/...`) in `region`.
pub fn find(region: &str, canonical: &str) -> Option<PublicParameter> {
    if let Some(rest) = canonical.strip_prefix("aws/service/") {
        if public_images::PUBLIC_IMAGES.iter().any(|image| image.parameter == rest) {
            return Some(ami_parameter(region, rest));
        }
    }
    let rest = canonical.strip_prefix("aws/service/global-infrastructure/regions/")?;
    let (code, attribute) = rest.split_once('/').map_or((rest, None), |(c, a)| (c, Some(a)));
    let (_, long_name) = REGION_LONG_NAMES.iter().find(|(c, _)| *c == code)?;
    match attribute {
        None => Some(plain(canonical.to_string(), code)),
        Some("longName") => Some(plain(canonical.to_string(), long_name)),
        Some("partition") => Some(plain(canonical.to_string(), "aws")),
        Some(_) => None,
    }
}

/// The public parameters under `path`, after `after` (canonical), in name order.
pub fn under(region: &str, path: &ParameterPath, recursive: bool, after: Option<&str>) -> Vec<PublicParameter> {
    all(region)
        .into_iter()
        .filter(|p| path.contains(&p.canonical, recursive) && after.is_none_or(|a| p.canonical.as_str() > a))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ami_ids_are_stable_per_region_and_differ_between_regions() {
        let name = "aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";
        let east = find("us-east-1", name).unwrap();
        assert_eq!(east, find("us-east-1", name).unwrap());
        assert_ne!(east.value, find("eu-west-1", name).unwrap().value);
        assert!(crate::datatypes::is_ami_id(&east.value), "{}", east.value);
    }

    #[test]
    fn public_arns_have_an_empty_account() {
        let p = find("us-east-2", "aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2").unwrap();
        assert_eq!(
            p.arn(&Region::parse("us-east-2").unwrap()),
            "arn:aws:ssm:us-east-2::parameter/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2"
        );
        assert_eq!(p.name(), "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2");
    }

    #[test]
    fn region_parameters_name_their_region() {
        let base = "aws/service/global-infrastructure/regions/eu-west-1";
        assert_eq!(find("us-east-1", base).unwrap().value, "eu-west-1");
        assert_eq!(find("us-east-1", &format!("{base}/longName")).unwrap().value, "Europe (Ireland)");
        assert!(find("us-east-1", "aws/service/global-infrastructure/regions/xx-nowhere-1").is_none());
        assert!(find("us-east-1", "aws/service/nothing").is_none());
    }

    #[test]
    fn listing_a_path_finds_children_or_the_whole_subtree() {
        let path = ParameterPath::parse("/aws/service/ami-amazon-linux-latest").unwrap();
        let direct = under("us-east-1", &path, false, None);
        assert_eq!(direct.len(), 10);
        assert!(direct.windows(2).all(|w| w[0].canonical < w[1].canonical));
        let regions = ParameterPath::parse("/aws/service/global-infrastructure/regions").unwrap();
        assert_eq!(under("us-east-1", &regions, false, None).len(), REGION_LONG_NAMES.len());
        assert_eq!(under("us-east-1", &regions, true, None).len(), 3 * REGION_LONG_NAMES.len());
        let after = &direct[4].canonical;
        assert_eq!(under("us-east-1", &path, false, Some(after)).len(), 5);
    }
}
