//! The KMS key core: the stored model of KMS keys (symmetric, RSA, elliptic-curve and HMAC; their
//! material versions, grants, tags and aliases), their lookup by every form of key reference AWS
//! accepts, the AWS-managed key of a service (`alias/aws/<service>`, created on first use), and the
//! cryptography keys do: authenticated symmetric encryption (`envelope`), signatures and RSA
//! encryption (`asymmetric`), MACs (`mac`), applied to key records by `operations`. Key material
//! exists in plain text only in memory: on disk it is sealed under the master key, bound to the
//! key's ARN.
//!
//! It is a library, not a service: it must not depend on HTTP, the gateway, the protocol codecs or
//! any service crate (services depend on it). Authorization is the KMS service's, with the policy
//! engine; this crate stores the policy and grants and enforces only the key's state and type.

mod asymmetric;
mod envelope;
mod key;
mod lookup;
mod mac;

pub mod operations;

pub use asymmetric::{
    generate_key_pair, max_rsa_plaintext, AsymmetricSpec, CryptoError, KeyPair, MessageType, RsaEncryptionAlgorithm,
    SigningAlgorithm,
};
pub use envelope::{
    decrypt, encrypt, key_reference_of, open_with_data_key, seal_with_data_key, KeyError, CIPHERTEXT_VERSION,
};
pub use key::{
    aws_managed_key_description, aws_managed_key_policy, AliasRecord, KeyDraft, KeyFamily, KeyGrant, KeyManager,
    KeyOrigin, KeyRecord, KeySpec, KeyState, KeyTag, KeyUsage, Rotation, RotationSchedule, RotationType,
    KEY_MATERIAL_LEN,
};
pub use lookup::{
    alias_arn, alias_storage_key, aliases_prefix, aws_managed_alias_name, aws_managed_key, key_arn, key_storage_key,
    keys_prefix, resolve_key,
};
pub use mac::{HmacSpec, MacAlgorithm};
