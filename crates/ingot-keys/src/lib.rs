//! The KMS key core: the stored model of KMS keys and aliases, their lookup by every form of key
//! reference AWS accepts, the AWS-managed key of a service (`alias/aws/<service>`, created on first
//! use), and the symmetric encryption and decryption that SecureString parameters use now and the
//! KMS service's `Encrypt`/`Decrypt` will use. Key material exists in plain text only in memory:
//! on disk it is sealed under the master key, bound to the key's ARN.
//!
//! It is a library, not a service: it must not depend on HTTP, the gateway, the protocol codecs or
//! any service crate (services depend on it). Authorization and key policy evaluation are the
//! caller's (later the policy engine's); this crate stores the policy and enforces only the key
//! state.

mod envelope;
mod key;
mod lookup;

pub use envelope::{decrypt, encrypt, key_id_of, KeyError, CIPHERTEXT_VERSION};
pub use key::{
    aws_managed_key_description, aws_managed_key_policy, AliasRecord, KeyManager, KeyOrigin, KeyRecord, KeySpec,
    KeyState, KeyUsage, KEY_MATERIAL_LEN,
};
pub use lookup::{
    alias_arn, alias_storage_key, aliases_prefix, aws_managed_alias_name, aws_managed_key, key_arn, key_storage_key,
    keys_prefix, resolve_key,
};
