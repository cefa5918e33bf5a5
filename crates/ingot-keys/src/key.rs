//! Keys and aliases as stored.

use crate::asymmetric::AsymmetricSpec;
use crate::envelope::KeyError;
use crate::lookup::{alias_arn, key_arn};
use crate::mac::HmacSpec;
use base64::Engine;
use ingot_core::crypto::SecretBox;
use ingot_core::{IdGen, Scope, Timestamp};
use serde::{Deserialize, Serialize};

/// Length of a symmetric key's material: AES-256.
pub const KEY_MATERIAL_LEN: usize = 32;

/// Who manages the key: AWS (`alias/aws/<service>` keys, created by services on first use) or the
/// customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyManager {
    #[serde(rename = "AWS")]
    Aws,
    #[serde(rename = "CUSTOMER")]
    Customer,
}

/// The key's lifecycle state; only [`KeyState::Enabled`] keys encrypt and decrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyState {
    Creating,
    Enabled,
    Disabled,
    PendingDeletion,
    PendingImport,
    PendingReplicaDeletion,
    Unavailable,
    Updating,
}

/// What the key is for (`KeyUsage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyUsage {
    #[serde(rename = "ENCRYPT_DECRYPT")]
    EncryptDecrypt,
    #[serde(rename = "SIGN_VERIFY")]
    SignVerify,
    #[serde(rename = "GENERATE_VERIFY_MAC")]
    GenerateVerifyMac,
}

impl KeyUsage {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUsage::EncryptDecrypt => "ENCRYPT_DECRYPT",
            KeyUsage::SignVerify => "SIGN_VERIFY",
            KeyUsage::GenerateVerifyMac => "GENERATE_VERIFY_MAC",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [KeyUsage::EncryptDecrypt, KeyUsage::SignVerify, KeyUsage::GenerateVerifyMac]
            .into_iter()
            .find(|u| u.as_str() == text)
    }
}

/// The key's type (`KeySpec`): the symmetric default (AES-256-GCM), RSA and elliptic-curve key
/// pairs, and HMAC keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeySpec {
    #[serde(rename = "SYMMETRIC_DEFAULT")]
    SymmetricDefault,
    #[serde(rename = "RSA_2048")]
    Rsa2048,
    #[serde(rename = "RSA_3072")]
    Rsa3072,
    #[serde(rename = "RSA_4096")]
    Rsa4096,
    #[serde(rename = "ECC_NIST_P256")]
    EccNistP256,
    #[serde(rename = "ECC_NIST_P384")]
    EccNistP384,
    #[serde(rename = "ECC_NIST_P521")]
    EccNistP521,
    #[serde(rename = "ECC_SECG_P256K1")]
    EccSecgP256k1,
    #[serde(rename = "HMAC_224")]
    Hmac224,
    #[serde(rename = "HMAC_256")]
    Hmac256,
    #[serde(rename = "HMAC_384")]
    Hmac384,
    #[serde(rename = "HMAC_512")]
    Hmac512,
}

/// What kind of cryptography a [`KeySpec`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    Symmetric,
    Asymmetric(AsymmetricSpec),
    Hmac(HmacSpec),
}

impl KeySpec {
    pub const ALL: [KeySpec; 12] = [
        KeySpec::SymmetricDefault,
        KeySpec::Rsa2048,
        KeySpec::Rsa3072,
        KeySpec::Rsa4096,
        KeySpec::EccNistP256,
        KeySpec::EccNistP384,
        KeySpec::EccNistP521,
        KeySpec::EccSecgP256k1,
        KeySpec::Hmac224,
        KeySpec::Hmac256,
        KeySpec::Hmac384,
        KeySpec::Hmac512,
    ];

    pub fn as_str(self) -> &'static str {
        match self.family() {
            KeyFamily::Symmetric => "SYMMETRIC_DEFAULT",
            KeyFamily::Asymmetric(spec) => spec.as_str(),
            KeyFamily::Hmac(spec) => spec.as_str(),
        }
    }

    /// The spec AWS names `text`, among those Ingot serves.
    pub fn parse(text: &str) -> Option<Self> {
        KeySpec::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn family(self) -> KeyFamily {
        match self {
            KeySpec::SymmetricDefault => KeyFamily::Symmetric,
            KeySpec::Rsa2048 => KeyFamily::Asymmetric(AsymmetricSpec::Rsa2048),
            KeySpec::Rsa3072 => KeyFamily::Asymmetric(AsymmetricSpec::Rsa3072),
            KeySpec::Rsa4096 => KeyFamily::Asymmetric(AsymmetricSpec::Rsa4096),
            KeySpec::EccNistP256 => KeyFamily::Asymmetric(AsymmetricSpec::EccNistP256),
            KeySpec::EccNistP384 => KeyFamily::Asymmetric(AsymmetricSpec::EccNistP384),
            KeySpec::EccNistP521 => KeyFamily::Asymmetric(AsymmetricSpec::EccNistP521),
            KeySpec::EccSecgP256k1 => KeyFamily::Asymmetric(AsymmetricSpec::EccSecgP256k1),
            KeySpec::Hmac224 => KeyFamily::Hmac(HmacSpec::Hmac224),
            KeySpec::Hmac256 => KeyFamily::Hmac(HmacSpec::Hmac256),
            KeySpec::Hmac384 => KeyFamily::Hmac(HmacSpec::Hmac384),
            KeySpec::Hmac512 => KeyFamily::Hmac(HmacSpec::Hmac512),
        }
    }

    /// Whether a key of this spec may have `usage` (RSA: encryption or signing; elliptic curves:
    /// signing; HMAC: MACs; the symmetric default: encryption).
    pub fn allows_usage(self, usage: KeyUsage) -> bool {
        match self.family() {
            KeyFamily::Symmetric => usage == KeyUsage::EncryptDecrypt,
            KeyFamily::Hmac(_) => usage == KeyUsage::GenerateVerifyMac,
            KeyFamily::Asymmetric(spec) if spec.is_rsa() => {
                matches!(usage, KeyUsage::EncryptDecrypt | KeyUsage::SignVerify)
            }
            KeyFamily::Asymmetric(_) => usage == KeyUsage::SignVerify,
        }
    }
}

/// Where the key material came from. Only material generated by KMS is modelled so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyOrigin {
    #[serde(rename = "AWS_KMS")]
    AwsKms,
}

/// How a key's material was replaced (`RotationType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RotationType {
    #[serde(rename = "AUTOMATIC")]
    Automatic,
    #[serde(rename = "ON_DEMAND")]
    OnDemand,
}

impl RotationType {
    pub fn as_str(self) -> &'static str {
        match self {
            RotationType::Automatic => "AUTOMATIC",
            RotationType::OnDemand => "ON_DEMAND",
        }
    }
}

/// One rotation of a symmetric key: new material, which encrypts from then on. Older material
/// stays to decrypt what it encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    /// `KeyMaterialId`: 64 hex digits.
    pub material_id: String,
    pub rotation_date: Timestamp,
    pub rotation_type: RotationType,
    /// Base64 of the sealed material (associated data: `ARN#MATERIAL_ID`).
    sealed_material: String,
}

/// Automatic rotation, when enabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationSchedule {
    pub period_days: u32,
    pub next_rotation: Timestamp,
}

/// A tag of a key (`TagKey`, `TagValue`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyTag {
    pub key: String,
    pub value: String,
}

/// A grant on a key: it allows its grantee the listed operations (KMS operation names such as
/// `Decrypt`, `ReEncryptFrom`), within its encryption-context constraints. Grants live inside
/// their key's record, so deciding a cryptographic call reads one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyGrant {
    /// 64 hex digits.
    pub grant_id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub creation_date: Timestamp,
    pub grantee_principal: String,
    #[serde(default)]
    pub retiring_principal: Option<String>,
    /// `arn:PARTITION:iam::ACCOUNT:root` of the account that created the grant.
    pub issuing_account: String,
    pub operations: Vec<String>,
    #[serde(default)]
    pub encryption_context_subset: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    pub encryption_context_equals: Option<std::collections::BTreeMap<String, String>>,
}

/// What a new key is made of, besides its fresh material.
#[derive(Debug, Clone)]
pub struct KeyDraft {
    pub key_manager: KeyManager,
    pub description: String,
    pub policy: String,
    pub key_usage: KeyUsage,
    pub key_spec: KeySpec,
    pub tags: Vec<KeyTag>,
}

impl KeyDraft {
    /// A symmetric encryption key with no tags.
    pub fn symmetric(key_manager: KeyManager, description: &str, policy: String) -> Self {
        KeyDraft {
            key_manager,
            description: description.to_string(),
            policy,
            key_usage: KeyUsage::EncryptDecrypt,
            key_spec: KeySpec::SymmetricDefault,
            tags: Vec::new(),
        }
    }
}

/// A KMS key, stored at [`crate::key_storage_key`].
///
/// The material is sealed with the server's [`SecretBox`] with the key ARN as associated data, so
/// the stored record never holds it in plain text and sealed material copied into another key's
/// record does not open. There is deliberately no public accessor for the plain material: the
/// operations of `crate::cryptography` open it for one operation at a time.
///
/// Material by kind: AES-256 key (symmetric), PKCS#8 DER private key (asymmetric; the public key
/// is kept beside it in the clear), HMAC key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// A UUID.
    pub key_id: String,
    /// `arn:PARTITION:kms:REGION:ACCOUNT:key/KEY_ID`.
    pub arn: String,
    pub account: String,
    pub region: String,
    pub description: String,
    pub key_manager: KeyManager,
    pub key_state: KeyState,
    pub key_usage: KeyUsage,
    pub key_spec: KeySpec,
    pub origin: KeyOrigin,
    pub creation_date: Timestamp,
    /// When a key in [`KeyState::PendingDeletion`] is deleted.
    #[serde(default)]
    pub deletion_date: Option<Timestamp>,
    /// The waiting period ScheduleKeyDeletion was given, while pending deletion.
    #[serde(default)]
    pub pending_window_days: Option<u32>,
    /// The key policy document, kept as the JSON text it was given in (GetKeyPolicy returns it).
    pub policy: String,
    #[serde(default)]
    pub tags: Vec<KeyTag>,
    /// The names (`alias/…`) of the aliases that point at the key, kept with the key so that
    /// `kms:ResourceAliases` costs no listing and deleting the key finds them.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Base64 of the DER SubjectPublicKeyInfo of an asymmetric key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// `KeyMaterialId` of the original material; records written before rotation existed have
    /// none and derive it from the ARN ([`KeyRecord::original_material_id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    material_id: Option<String>,
    /// Base64 of the sealed original material (`nonce || ciphertext`, associated data: `arn`).
    sealed_material: String,
    /// Later material, oldest first; the last one encrypts.
    #[serde(default)]
    pub rotations: Vec<Rotation>,
    #[serde(default)]
    pub rotation_schedule: Option<RotationSchedule>,
    #[serde(default)]
    pub grants: Vec<KeyGrant>,
}

impl ingot_store::Record for KeyRecord {
    const KIND: &'static str = "kms.key";
    const SCHEMA_VERSION: u32 = 1;
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn material_id(ids: &IdGen) -> String {
    hex::encode(ids.bytes(32))
}

impl KeyRecord {
    /// A new enabled symmetric key with fresh material, sealed under the master key.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        secrets: &SecretBox,
        ids: &IdGen,
        now: Timestamp,
        scope: &Scope,
        key_manager: KeyManager,
        description: &str,
        policy: String,
    ) -> Self {
        let draft = KeyDraft::symmetric(key_manager, description, policy);
        let material = ids.bytes(KEY_MATERIAL_LEN);
        Self::with_material(secrets, ids, now, scope, draft, &material, None)
    }

    /// A new enabled key of any spec, with fresh material (a new key pair for asymmetric specs).
    pub fn create(
        secrets: &SecretBox,
        ids: &IdGen,
        now: Timestamp,
        scope: &Scope,
        draft: KeyDraft,
    ) -> Result<Self, KeyError> {
        let (material, public_key) = match draft.key_spec.family() {
            KeyFamily::Symmetric => (ids.bytes(KEY_MATERIAL_LEN), None),
            KeyFamily::Hmac(spec) => (ids.bytes(spec.key_len()), None),
            KeyFamily::Asymmetric(spec) => {
                let pair = crate::asymmetric::generate_key_pair(spec).map_err(|_| KeyError::Sealed)?;
                (pair.private_pkcs8_der, Some(pair.public_spki_der))
            }
        };
        Ok(Self::with_material(secrets, ids, now, scope, draft, &material, public_key.as_deref()))
    }

    fn with_material(
        secrets: &SecretBox,
        ids: &IdGen,
        now: Timestamp,
        scope: &Scope,
        draft: KeyDraft,
        material: &[u8],
        public_key: Option<&[u8]>,
    ) -> Self {
        let key_id = ids.uuid();
        let arn = key_arn(scope, &key_id);
        let sealed = secrets.seal(ids, material, arn.as_bytes());
        KeyRecord {
            key_id,
            arn,
            account: scope.account.to_string(),
            region: scope.region.to_string(),
            description: draft.description,
            key_manager: draft.key_manager,
            key_state: KeyState::Enabled,
            key_usage: draft.key_usage,
            key_spec: draft.key_spec,
            origin: KeyOrigin::AwsKms,
            creation_date: now,
            deletion_date: None,
            pending_window_days: None,
            policy: draft.policy,
            tags: draft.tags,
            aliases: Vec::new(),
            public_key: public_key.map(b64),
            material_id: Some(material_id(ids)),
            sealed_material: b64(&sealed),
            rotations: Vec::new(),
            rotation_schedule: None,
            grants: Vec::new(),
        }
    }

    /// Whether the key is enabled (the `Enabled` flag of DescribeKey).
    pub fn is_enabled(&self) -> bool {
        self.key_state == KeyState::Enabled
    }

    /// Refuses use of a key whose state forbids cryptographic operations.
    pub fn check_usable(&self) -> Result<(), KeyError> {
        match self.key_state {
            KeyState::Enabled => Ok(()),
            KeyState::Disabled => Err(KeyError::KeyDisabled),
            KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => Err(KeyError::KeyPendingDeletion),
            other => Err(KeyError::KeyUnavailable(other)),
        }
    }

    /// `KeyMaterialId` of the original material.
    pub fn original_material_id(&self) -> String {
        self.material_id.clone().unwrap_or_else(|| ingot_core::crypto::sha256_hex(self.arn.as_bytes()))
    }

    /// `CurrentKeyMaterialId`: the material that encrypts now.
    pub fn current_material_id(&self) -> String {
        match self.rotations.last() {
            Some(rotation) => rotation.material_id.clone(),
            None => self.original_material_id(),
        }
    }

    /// The index of the material that encrypts now: 0 for the original, `n` after `n` rotations.
    pub fn current_material(&self) -> u32 {
        u32::try_from(self.rotations.len()).unwrap_or(u32::MAX)
    }

    /// Replaces the key's encrypting material with fresh material (symmetric keys only; the
    /// caller checks). Older material stays for decryption.
    pub fn rotate(&mut self, secrets: &SecretBox, ids: &IdGen, now: Timestamp, rotation_type: RotationType) {
        let material_id = material_id(ids);
        let material = ids.bytes(KEY_MATERIAL_LEN);
        let sealed = secrets.seal(ids, &material, rotation_aad(&self.arn, &material_id).as_bytes());
        self.rotations.push(Rotation { material_id, rotation_date: now, rotation_type, sealed_material: b64(&sealed) });
    }

    /// The DER SubjectPublicKeyInfo of an asymmetric key.
    pub fn public_key_der(&self) -> Option<Vec<u8>> {
        let text = self.public_key.as_deref()?;
        base64::engine::general_purpose::STANDARD.decode(text.as_bytes()).ok()
    }

    /// Opens the material of index `index` (0: the original): only in memory, only for one
    /// operation. `None` for an index the key does not have.
    pub(crate) fn open_material_at(&self, secrets: &SecretBox, index: u32) -> Result<Vec<u8>, KeyError> {
        let (sealed, aad) = match index {
            0 => (&self.sealed_material, self.arn.clone()),
            n => {
                let rotation = usize::try_from(n - 1)
                    .ok()
                    .and_then(|i| self.rotations.get(i))
                    .ok_or(KeyError::InvalidCiphertext)?;
                (&rotation.sealed_material, rotation_aad(&self.arn, &rotation.material_id))
            }
        };
        let sealed =
            base64::engine::general_purpose::STANDARD.decode(sealed.as_bytes()).map_err(|_| KeyError::Sealed)?;
        secrets.open(&sealed, aad.as_bytes()).map_err(|_| KeyError::Sealed)
    }

    /// Opens the original material (the only material of asymmetric and HMAC keys).
    pub(crate) fn open_material(&self, secrets: &SecretBox) -> Result<Vec<u8>, KeyError> {
        self.open_material_at(secrets, 0)
    }
}

fn rotation_aad(arn: &str, material_id: &str) -> String {
    [arn, "#", material_id].concat()
}

/// An alias, stored at [`crate::alias_storage_key`]. Alias names include the `alias/` prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasRecord {
    /// `alias/NAME`.
    pub alias_name: String,
    /// `arn:PARTITION:kms:REGION:ACCOUNT:alias/NAME`.
    pub alias_arn: String,
    pub target_key_id: String,
    pub creation_date: Timestamp,
    pub last_updated_date: Timestamp,
}

impl ingot_store::Record for AliasRecord {
    const KIND: &'static str = "kms.alias";
    const SCHEMA_VERSION: u32 = 1;
}

impl AliasRecord {
    /// `alias_name` must include the `alias/` prefix.
    pub fn new(scope: &Scope, alias_name: &str, target_key_id: &str, now: Timestamp) -> Self {
        AliasRecord {
            alias_name: alias_name.to_string(),
            alias_arn: alias_arn(scope, alias_name),
            target_key_id: target_key_id.to_string(),
            creation_date: now,
            last_updated_date: now,
        }
    }
}

/// The description AWS gives the AWS-managed key of `service`.
pub fn aws_managed_key_description(service: &str) -> String {
    let what = match service {
        "ssm" => "SSM parameters",
        "ebs" => "EBS volumes",
        "secretsmanager" => "Secrets Manager secrets",
        "s3" => "S3 objects",
        "lambda" => "Lambda functions",
        _ => return format!("Default key that protects my {service} resources when no other key is defined"),
    };
    format!("Default key that protects my {what} when no other key is defined")
}

/// The key policy of the AWS-managed key of `service` (`alias/aws/<service>`) in `scope`: every principal of the account may use the key through the service (conditions
/// `kms:ViaService` = the service's regional endpoint and `kms:CallerAccount` = the account), and
/// the account may read the key's metadata directly. Nobody may administer it.
pub fn aws_managed_key_policy(scope: &Scope, service: &str) -> String {
    let (partition, account, region) = (scope.partition(), scope.account.as_str(), scope.region.as_str());
    let dns_suffix = if partition == "aws-cn" { "amazonaws.com.cn" } else { "amazonaws.com" };
    let label = service.to_ascii_uppercase();
    // EBS keys are used by EC2 on the caller's behalf: AWS's aws/ebs policy names EC2, and lets
    // the account's principals create the grants that attach volumes (its second revision).
    let (via, revision) = if service == "ebs" { ("ec2", 2) } else { (service, 1) };
    let mut actions = vec!["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"];
    if service == "ebs" {
        actions.push("kms:CreateGrant");
    }
    actions.push("kms:DescribeKey");
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Id": format!("auto-{service}-{revision}"),
        "Statement": [
            {
                "Sid": format!("Allow access through {label} for all principals in the account that are authorized to use {label}"),
                "Effect": "Allow",
                "Principal": { "AWS": "*" },
                "Action": actions,
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": format!("{via}.{region}.{dns_suffix}"),
                        "kms:CallerAccount": account,
                    }
                }
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": { "AWS": format!("arn:{partition}:iam::{account}:root") },
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
                "Resource": "*"
            }
        ]
    });
    serde_json::to_string_pretty(&policy).unwrap_or_else(|_| policy.to_string())
}

/// `123456789012` in `region`, for tests.
#[cfg(test)]
pub(crate) fn test_scope(region: &str) -> Scope {
    Scope::new(ingot_core::AccountId::parse("123456789012").unwrap(), ingot_core::Region::parse(region).unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn the_stored_key_record_does_not_contain_the_material() {
        let secrets = SecretBox::new(&[9u8; 32]);
        let ids = IdGen::seeded(11);
        let key = KeyRecord::new(
            &secrets,
            &ids,
            Timestamp(0),
            &test_scope("us-east-1"),
            KeyManager::Customer,
            "",
            "{}".into(),
        );
        let material = key.open_material(&secrets).unwrap();
        let stored = ingot_store::encode_record(&key);
        assert!(!stored.windows(material.len()).any(|w| w == material));
        let b64 = base64::engine::general_purpose::STANDARD.encode(material);
        let text = String::from_utf8(stored).unwrap();
        assert!(!text.contains(&b64));
        assert!(!text.contains(&b64[..20]));
    }

    #[test]
    fn material_sealed_for_one_key_does_not_open_in_another_keys_record() {
        let secrets = SecretBox::new(&[9u8; 32]);
        let ids = IdGen::seeded(12);
        let new = |ids: &IdGen| {
            KeyRecord::new(&secrets, ids, Timestamp(0), &test_scope("us-east-1"), KeyManager::Customer, "", "{}".into())
        };
        let a = new(&ids);
        let mut b = new(&ids);
        b.sealed_material = a.sealed_material.clone();
        assert_eq!(b.open_material(&secrets), Err(KeyError::Sealed));
        assert_eq!(a.open_material(&SecretBox::new(&[1u8; 32])), Err(KeyError::Sealed));
    }

    #[test]
    fn key_arns_carry_the_partition_of_the_region() {
        let secrets = SecretBox::new(&[9u8; 32]);
        let ids = IdGen::seeded(13);
        let key =
            KeyRecord::new(&secrets, &ids, Timestamp(0), &test_scope("cn-north-1"), KeyManager::Aws, "", "{}".into());
        assert_eq!(key.arn, format!("arn:aws-cn:kms:cn-north-1:123456789012:key/{}", key.key_id));
    }

    #[test]
    fn the_managed_key_policy_allows_use_only_through_the_service_from_the_account() {
        let policy: serde_json::Value =
            serde_json::from_str(&aws_managed_key_policy(&test_scope("eu-west-1"), "ssm")).unwrap();
        let via = &policy["Statement"][0];
        assert_eq!(via["Principal"]["AWS"], "*");
        assert_eq!(via["Condition"]["StringEquals"]["kms:ViaService"], "ssm.eu-west-1.amazonaws.com");
        assert_eq!(via["Condition"]["StringEquals"]["kms:CallerAccount"], "123456789012");
        assert!(via["Action"].as_array().unwrap().iter().any(|a| a == "kms:Decrypt"));
        let meta = &policy["Statement"][1];
        assert_eq!(meta["Principal"]["AWS"], "arn:aws:iam::123456789012:root");
        assert!(!meta["Action"].as_array().unwrap().iter().any(|a| a == "kms:Decrypt"));
        let ebs: serde_json::Value =
            serde_json::from_str(&aws_managed_key_policy(&test_scope("eu-west-1"), "ebs")).unwrap();
        assert_eq!(ebs["Statement"][0]["Condition"]["StringEquals"]["kms:ViaService"], "ec2.eu-west-1.amazonaws.com");
    }
}
