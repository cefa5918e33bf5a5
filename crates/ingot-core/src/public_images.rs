//! AWS's public machine images as every region has them: Amazon Linux 2023 and Amazon Linux 2
//! (x86_64 and arm64) and Windows Server, each pointed at by one of the public
//! `/aws/service/ami-…-latest/…` parameters. SSM serves the parameters, EC2 the images; both take
//! the images from this table so that a parameter's value is always an image EC2 knows. Ids are
//! derived from the region and the parameter, so they differ between regions and never change.

use crate::time::Timestamp;

/// Amazon's account for Amazon Linux images, and for Windows images.
pub const AMAZON_LINUX_OWNER: &str = "137112412989";
pub const WINDOWS_OWNER: &str = "801119661308";

/// One public image, by the public parameter (under `aws/service/`) that points at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicImage {
    pub parameter: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// `x86_64` or `arm64`.
    pub architecture: &'static str,
    pub windows: bool,
    /// Root volume size in GiB.
    pub root_size: i32,
}

const fn linux(
    parameter: &'static str,
    name: &'static str,
    description: &'static str,
    architecture: &'static str,
) -> PublicImage {
    PublicImage { parameter, name, description, architecture, windows: false, root_size: 8 }
}

const fn windows(parameter: &'static str, name: &'static str, description: &'static str) -> PublicImage {
    PublicImage { parameter, name, description, architecture: "x86_64", windows: true, root_size: 30 }
}

const AL2023: &str = "Amazon Linux 2023 AMI 2023.7.20250527.1";
const AL2: &str = "Amazon Linux 2 AMI 2.0.20250527.1";

/// Every public image, by parameter.
pub const PUBLIC_IMAGES: &[PublicImage] = &[
    linux(
        "ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
        "al2023-ami-2023.7.20250527.1-kernel-6.1-x86_64",
        AL2023,
        "x86_64",
    ),
    linux(
        "ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
        "al2023-ami-2023.7.20250527.1-kernel-6.1-arm64",
        AL2023,
        "arm64",
    ),
    linux(
        "ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64",
        "al2023-ami-2023.7.20250527.1-kernel-6.1-x86_64-v2",
        AL2023,
        "x86_64",
    ),
    linux(
        "ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64",
        "al2023-ami-2023.7.20250527.1-kernel-6.1-arm64-v2",
        AL2023,
        "arm64",
    ),
    linux(
        "ami-amazon-linux-latest/al2023-ami-minimal-kernel-default-x86_64",
        "al2023-ami-minimal-2023.7.20250527.1-kernel-6.1-x86_64",
        AL2023,
        "x86_64",
    ),
    linux(
        "ami-amazon-linux-latest/al2023-ami-minimal-kernel-default-arm64",
        "al2023-ami-minimal-2023.7.20250527.1-kernel-6.1-arm64",
        AL2023,
        "arm64",
    ),
    linux("ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2", "amzn2-ami-hvm-2.0.20250527.1-x86_64-gp2", AL2, "x86_64"),
    linux("ami-amazon-linux-latest/amzn2-ami-hvm-arm64-gp2", "amzn2-ami-hvm-2.0.20250527.1-arm64-gp2", AL2, "arm64"),
    linux(
        "ami-amazon-linux-latest/amzn2-ami-kernel-5.10-hvm-x86_64-gp2",
        "amzn2-ami-kernel-5.10-hvm-2.0.20250527.1-x86_64-gp2",
        AL2,
        "x86_64",
    ),
    linux(
        "ami-amazon-linux-latest/amzn2-ami-kernel-5.10-hvm-arm64-gp2",
        "amzn2-ami-kernel-5.10-hvm-2.0.20250527.1-arm64-gp2",
        AL2,
        "arm64",
    ),
    windows(
        "ami-windows-latest/Windows_Server-2022-English-Full-Base",
        "Windows_Server-2022-English-Full-Base-2025.05.15",
        "Microsoft Windows Server 2022 Full Locale English AMI provided by Amazon",
    ),
    windows(
        "ami-windows-latest/Windows_Server-2022-English-Core-Base",
        "Windows_Server-2022-English-Core-Base-2025.05.15",
        "Microsoft Windows Server 2022 Core Locale English AMI provided by Amazon",
    ),
    windows(
        "ami-windows-latest/Windows_Server-2019-English-Full-Base",
        "Windows_Server-2019-English-Full-Base-2025.05.15",
        "Microsoft Windows Server 2019 with Desktop Experience Locale English AMI provided by Amazon",
    ),
    windows(
        "ami-windows-latest/Windows_Server-2025-English-Full-Base",
        "Windows_Server-2025-English-Full-Base-2025.05.15",
        "Microsoft Windows Server 2025 Full Locale English AMI provided by Amazon",
    ),
];

/// When the images were published (and the parameters last changed).
pub fn published() -> Timestamp {
    Timestamp::parse_iso8601("2025-06-02T18:04:41.123Z").unwrap_or_default()
}

fn hash(text: &str) -> u64 {
    ingot_store::hash::fnv1a(text.as_bytes())
}

/// The image id the public parameter `aws/service/PARAMETER` has in `region`: `ami-0` and 16 hex
/// digits.
pub fn image_id(region: &str, parameter: &str) -> String {
    let canonical = ["aws/service/", parameter].concat();
    format!("ami-0{:016x}", hash(&format!("{region}\0{canonical}")))
}

/// The root snapshot of a public image (owned by Amazon, not visible to accounts).
pub fn snapshot_id(region: &str, parameter: &str) -> String {
    format!("snap-0{:016x}", hash(&format!("{region}\0snapshot\0{parameter}")))
}

impl PublicImage {
    pub fn owner(&self) -> &'static str {
        if self.windows {
            WINDOWS_OWNER
        } else {
            AMAZON_LINUX_OWNER
        }
    }
}

/// The public image with id `id` in `region`.
pub fn find(region: &str, id: &str) -> Option<&'static PublicImage> {
    PUBLIC_IMAGES.iter().find(|image| image_id(region, image.parameter) == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_image_ids_differ_between_regions_and_are_found_again() {
        let image = &PUBLIC_IMAGES[0];
        let east = image_id("us-east-1", image.parameter);
        assert_ne!(east, image_id("eu-west-1", image.parameter));
        assert!(east.starts_with("ami-0") && east.len() == 21);
        assert_eq!(find("us-east-1", &east), Some(image));
        assert_eq!(find("eu-west-1", &east), None);
    }
}
