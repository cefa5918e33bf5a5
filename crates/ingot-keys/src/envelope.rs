//! Symmetric encryption under a KMS key, and the ciphertext blob it produces.
//!
//! Blob layout, format 2 (all integers big-endian):
//!
//! ```text
//! offset  size  field
//! 0       1     format version, CIPHERTEXT_VERSION (2)
//! 1       1     n: length of the key ARN in bytes (1..=255)
//! 2       n     key ARN (UTF-8)
//! 2+n     4     index of the key material (0: the original, k: after the k-th rotation)
//! 6+n     12    AES-GCM nonce (random)
//! 18+n    ..    AES-256-GCM ciphertext followed by its 16-byte tag
//! ```
//!
//! Format 1, written before keys could rotate or be used from another account, had the key id
//! instead of the ARN and no material index; such blobs still decrypt (material 0, the key
//! looked up in the caller's account).
//!
//! The associated data of the AES-GCM operation is the header (everything before the nonce)
//! followed by the canonical encryption context: its pairs in ascending key order (byte order of
//! the UTF-8 keys), each written as `len(key) key len(value) value` with 4-byte lengths. Length
//! prefixes make the encoding unambiguous (no separator inside a key or value can make two
//! contexts look alike). So the blob opens only under the key and material it names and with
//! exactly the context it was made with.

use crate::key::KeyRecord;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use ingot_core::crypto::SecretBox;
use ingot_core::IdGen;
use std::collections::BTreeMap;

/// The version byte of blobs this build writes.
pub const CIPHERTEXT_VERSION: u8 = 2;
const FIRST_VERSION: u8 = 1;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const INDEX_LEN: usize = 4;
/// Largest plaintext accepted: far above KMS's 4 KiB and SSM's 8 KiB, far below AES-GCM's limit.
const MAX_PLAINTEXT: usize = 64 * 1024;

/// Why a key could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key is disabled (KMS: `DisabledException`).
    #[error("the key is disabled")]
    KeyDisabled,
    /// The key is scheduled for deletion (KMS: `KMSInvalidStateException`).
    #[error("the key is pending deletion")]
    KeyPendingDeletion,
    /// The key is in another state that forbids use (KMS: `KMSInvalidStateException`).
    #[error("the key is in state {0:?}, which forbids its use")]
    KeyUnavailable(crate::KeyState),
    /// Not a ciphertext blob of this format: truncated, unknown version or malformed header
    /// (KMS: `InvalidCiphertextException`).
    #[error("the ciphertext is invalid")]
    InvalidCiphertext,
    /// The blob names another key than the one given (KMS: `IncorrectKeyException`). Callers
    /// that let the blob choose its key use [`key_reference_of`] and [`crate::resolve_key`] first.
    #[error("the ciphertext was made under another key")]
    IncorrectKey,
    /// The blob does not authenticate under its key with the given encryption context: the
    /// context differs from the one it was made with, or the ciphertext was altered (AES-GCM cannot
    /// tell the two apart). Report it as `InvalidCiphertextException`, as AWS does.
    #[error("the ciphertext does not match the encryption context")]
    ContextMismatch,
    /// The plaintext is larger than the key can encrypt.
    #[error("the plaintext is too large")]
    PlaintextTooLarge,
    /// The key's spec or usage does not do this (KMS: `InvalidKeyUsageException`).
    #[error("the key cannot be used for this")]
    WrongKeyUsage,
    /// The algorithm is not one the key supports, or a digest has the wrong length
    /// (KMS: `ValidationException` / `InvalidKeyUsageException`, the caller words it).
    #[error("{0}")]
    Unsupported(String),
    /// The key's sealed material does not open under the master key (a wrong master key or a
    /// damaged record): an internal error, never the caller's fault.
    #[error("the key material cannot be opened")]
    Sealed,
}

impl KeyError {
    /// Whether the error is the caller's ciphertext being unusable (`InvalidCiphertextException`).
    pub fn is_invalid_ciphertext(&self) -> bool {
        matches!(self, KeyError::InvalidCiphertext | KeyError::ContextMismatch)
    }
}

/// Encrypts `plaintext` under `key`'s current material, bound to the encryption `context`. Fails
/// if the key's state forbids use.
pub fn encrypt(
    secrets: &SecretBox,
    ids: &IdGen,
    key: &KeyRecord,
    plaintext: &[u8],
    context: &BTreeMap<String, String>,
) -> Result<Vec<u8>, KeyError> {
    key.check_usable()?;
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(KeyError::PlaintextTooLarge);
    }
    let arn_len = u8::try_from(key.arn.len()).map_err(|_| KeyError::Sealed)?;
    let index = key.current_material();
    let mut blob = Vec::with_capacity(6 + key.arn.len() + NONCE_LEN + plaintext.len() + TAG_LEN);
    blob.push(CIPHERTEXT_VERSION);
    blob.push(arn_len);
    blob.extend_from_slice(key.arn.as_bytes());
    blob.extend_from_slice(&index.to_be_bytes());
    let aad = associated_data(&blob, context);
    let nonce = ids.bytes(NONCE_LEN);
    let cipher = cipher_for(secrets, key, index)?;
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
        .map_err(|_| KeyError::PlaintextTooLarge)?;
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&sealed);
    Ok(blob)
}

/// Decrypts a blob made by [`encrypt`] under `key` (with any of its materials) with the same
/// encryption `context`.
pub fn decrypt(
    secrets: &SecretBox,
    key: &KeyRecord,
    ciphertext: &[u8],
    context: &BTreeMap<String, String>,
) -> Result<Vec<u8>, KeyError> {
    let parsed = parse(ciphertext).ok_or(KeyError::InvalidCiphertext)?;
    let names_key = match parsed.version {
        FIRST_VERSION => parsed.key_ref == key.key_id,
        _ => parsed.key_ref == key.arn,
    };
    if !names_key {
        return Err(KeyError::IncorrectKey);
    }
    key.check_usable()?;
    let aad = associated_data(parsed.header, context);
    let cipher = cipher_for(secrets, key, parsed.material)?;
    cipher
        .decrypt(Nonce::from_slice(parsed.nonce), Payload { msg: parsed.body, aad: &aad })
        .map_err(|_| KeyError::ContextMismatch)
}

/// The key a blob was made under, as [`crate::resolve_key`] accepts it: the key ARN (format 2)
/// or the key id (format 1, in the caller's account); `None` if it is not a blob of this format.
pub fn key_reference_of(ciphertext: &[u8]) -> Option<&str> {
    parse(ciphertext).map(|p| p.key_ref)
}

struct Parsed<'a> {
    version: u8,
    header: &'a [u8],
    key_ref: &'a str,
    material: u32,
    nonce: &'a [u8],
    body: &'a [u8],
}

fn parse(blob: &[u8]) -> Option<Parsed<'_>> {
    let (&version, rest) = blob.split_first()?;
    let index_len = match version {
        FIRST_VERSION => 0,
        CIPHERTEXT_VERSION => INDEX_LEN,
        _ => return None,
    };
    let (&ref_len, rest) = rest.split_first()?;
    let ref_len = usize::from(ref_len);
    if ref_len == 0 || rest.len() < ref_len + index_len + NONCE_LEN + TAG_LEN {
        return None;
    }
    let (reference, rest) = rest.split_at(ref_len);
    let key_ref = std::str::from_utf8(reference).ok()?;
    let (index, rest) = rest.split_at(index_len);
    let material = match index_len {
        0 => 0,
        _ => u32::from_be_bytes(index.try_into().ok()?),
    };
    let (nonce, body) = rest.split_at(NONCE_LEN);
    Some(Parsed { version, header: &blob[..2 + ref_len + index_len], key_ref, material, nonce, body })
}

fn associated_data(header: &[u8], context: &BTreeMap<String, String>) -> Vec<u8> {
    let mut aad = header.to_vec();
    // BTreeMap iterates in ascending byte order of its String keys.
    for (k, v) in context {
        for part in [k, v] {
            aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
    }
    aad
}

fn cipher_for(secrets: &SecretBox, key: &KeyRecord, index: u32) -> Result<Aes256Gcm, KeyError> {
    if key.key_spec != crate::KeySpec::SymmetricDefault {
        return Err(KeyError::WrongKeyUsage);
    }
    let material = key.open_material_at(secrets, index)?;
    let material: [u8; crate::KEY_MATERIAL_LEN] = material.as_slice().try_into().map_err(|_| KeyError::Sealed)?;
    Ok(Aes256Gcm::new(&material.into()))
}

/// Envelope encryption's local half, for services that encrypt values larger than KMS takes
/// (SSM's Advanced-tier SecureStrings): seals `plaintext` under a 32-byte data key from
/// GenerateDataKey, bound to `aad`. Output: `nonce || ciphertext || tag`.
pub fn seal_with_data_key(ids: &IdGen, data_key: &[u8], plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, KeyError> {
    let key: [u8; crate::KEY_MATERIAL_LEN] = data_key.try_into().map_err(|_| KeyError::Sealed)?;
    let nonce = ids.bytes(NONCE_LEN);
    let sealed = Aes256Gcm::new(&key.into())
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })
        .map_err(|_| KeyError::PlaintextTooLarge)?;
    Ok([nonce, sealed].concat())
}

/// Opens what [`seal_with_data_key`] sealed; `None` if the key, the data or `aad` differ.
pub fn open_with_data_key(data_key: &[u8], sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    let key: [u8; crate::KEY_MATERIAL_LEN] = data_key.try_into().ok()?;
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    Aes256Gcm::new(&key.into()).decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyManager, KeyState};
    use ingot_core::Timestamp;

    fn setup() -> (SecretBox, IdGen, KeyRecord) {
        let secrets = SecretBox::new(&[5u8; 32]);
        let ids = IdGen::seeded(21);
        let key = KeyRecord::new(
            &secrets,
            &ids,
            Timestamp(0),
            &crate::key::test_scope("us-east-1"),
            KeyManager::Customer,
            "test",
            "{}".into(),
        );
        (secrets, ids, key)
    }

    fn context(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_value_round_trips_with_its_context() {
        let (secrets, ids, key) = setup();
        let ctx = context(&[("PARAMETER_ARN", "arn:aws:ssm:us-east-1:123456789012:parameter/db/password")]);
        let blob = encrypt(&secrets, &ids, &key, b"hunter2", &ctx).unwrap();
        assert_eq!(blob[0], CIPHERTEXT_VERSION);
        assert!(!blob.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(key_reference_of(&blob), Some(key.arn.as_str()));
        assert_eq!(decrypt(&secrets, &key, &blob, &ctx).unwrap(), b"hunter2");
        let empty = encrypt(&secrets, &ids, &key, b"", &BTreeMap::new()).unwrap();
        assert_eq!(decrypt(&secrets, &key, &empty, &BTreeMap::new()).unwrap(), b"");
    }

    #[test]
    fn the_same_value_encrypts_differently_each_time() {
        let (secrets, ids, key) = setup();
        let a = encrypt(&secrets, &ids, &key, b"v", &BTreeMap::new()).unwrap();
        let b = encrypt(&secrets, &ids, &key, b"v", &BTreeMap::new()).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn a_wrong_context_fails_as_invalid_ciphertext() {
        let (secrets, ids, key) = setup();
        let ctx = context(&[("PARAMETER_ARN", "arn:a")]);
        let blob = encrypt(&secrets, &ids, &key, b"secret", &ctx).unwrap();
        for wrong in [
            context(&[("PARAMETER_ARN", "arn:b")]),
            context(&[]),
            context(&[("PARAMETER_ARN", "arn:a"), ("extra", "x")]),
            context(&[("PARAMETER_AR", "Narn:a")]),
        ] {
            let err = decrypt(&secrets, &key, &blob, &wrong).unwrap_err();
            assert_eq!(err, KeyError::ContextMismatch);
            assert!(err.is_invalid_ciphertext());
        }
    }

    #[test]
    fn a_tampered_ciphertext_fails() {
        let (secrets, ids, key) = setup();
        let blob = encrypt(&secrets, &ids, &key, b"secret", &BTreeMap::new()).unwrap();
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            let err = decrypt(&secrets, &key, &bad, &BTreeMap::new()).unwrap_err();
            assert!(err.is_invalid_ciphertext() || err == KeyError::IncorrectKey, "byte {i}: {err:?}");
        }
        for len in 0..blob.len() {
            let err = decrypt(&secrets, &key, &blob[..len], &BTreeMap::new()).unwrap_err();
            assert!(err.is_invalid_ciphertext(), "length {len}: {err:?}");
        }
        assert_eq!(key_reference_of(b""), None);
        assert_eq!(key_reference_of(&[9, 1, b'x']), None);
    }

    #[test]
    fn a_blob_does_not_decrypt_under_another_key() {
        let (secrets, ids, key) = setup();
        let other = KeyRecord::new(
            &secrets,
            &ids,
            Timestamp(0),
            &crate::key::test_scope("us-east-1"),
            KeyManager::Customer,
            "",
            "{}".into(),
        );
        let blob = encrypt(&secrets, &ids, &key, b"secret", &BTreeMap::new()).unwrap();
        assert_eq!(decrypt(&secrets, &other, &blob, &BTreeMap::new()), Err(KeyError::IncorrectKey));
    }

    #[test]
    fn a_disabled_key_refuses_to_encrypt_and_decrypt() {
        let (secrets, ids, mut key) = setup();
        let blob = encrypt(&secrets, &ids, &key, b"secret", &BTreeMap::new()).unwrap();
        key.key_state = KeyState::Disabled;
        assert_eq!(encrypt(&secrets, &ids, &key, b"x", &BTreeMap::new()), Err(KeyError::KeyDisabled));
        assert_eq!(decrypt(&secrets, &key, &blob, &BTreeMap::new()), Err(KeyError::KeyDisabled));
        key.key_state = KeyState::PendingDeletion;
        assert_eq!(decrypt(&secrets, &key, &blob, &BTreeMap::new()), Err(KeyError::KeyPendingDeletion));
        key.key_state = KeyState::Enabled;
        assert_eq!(decrypt(&secrets, &key, &blob, &BTreeMap::new()).unwrap(), b"secret");
    }

    #[test]
    fn a_wrong_master_key_is_an_internal_error() {
        let (secrets, ids, key) = setup();
        let blob = encrypt(&secrets, &ids, &key, b"secret", &BTreeMap::new()).unwrap();
        let other = SecretBox::new(&[6u8; 32]);
        assert_eq!(decrypt(&other, &key, &blob, &BTreeMap::new()), Err(KeyError::Sealed));
    }

    #[test]
    fn oversized_plaintexts_are_refused() {
        let (secrets, ids, key) = setup();
        let big = vec![0u8; MAX_PLAINTEXT + 1];
        assert_eq!(encrypt(&secrets, &ids, &key, &big, &BTreeMap::new()), Err(KeyError::PlaintextTooLarge));
    }

    #[test]
    fn blobs_of_the_first_format_still_decrypt() {
        let (secrets, ids, key) = setup();
        let ctx = context(&[("PARAMETER_ARN", "arn:a")]);
        let mut blob = vec![FIRST_VERSION, key.key_id.len() as u8];
        blob.extend_from_slice(key.key_id.as_bytes());
        let aad = associated_data(&blob, &ctx);
        let nonce = ids.bytes(NONCE_LEN);
        let sealed = cipher_for(&secrets, &key, 0)
            .unwrap()
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: b"old", aad: &aad })
            .unwrap();
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        assert_eq!(key_reference_of(&blob), Some(key.key_id.as_str()));
        assert_eq!(decrypt(&secrets, &key, &blob, &ctx).unwrap(), b"old");
    }

    #[test]
    fn rotation_encrypts_with_new_material_and_old_blobs_still_decrypt() {
        let (secrets, ids, mut key) = setup();
        let before = encrypt(&secrets, &ids, &key, b"before", &BTreeMap::new()).unwrap();
        let original = key.current_material_id();
        key.rotate(&secrets, &ids, Timestamp(5), crate::RotationType::OnDemand);
        assert_ne!(key.current_material_id(), original);
        let after = encrypt(&secrets, &ids, &key, b"after", &BTreeMap::new()).unwrap();
        let index_at = 2 + key.arn.len();
        assert_eq!(&before[index_at..index_at + 4], &0u32.to_be_bytes());
        assert_eq!(&after[index_at..index_at + 4], &1u32.to_be_bytes());
        assert_eq!(decrypt(&secrets, &key, &before, &BTreeMap::new()).unwrap(), b"before");
        assert_eq!(decrypt(&secrets, &key, &after, &BTreeMap::new()).unwrap(), b"after");
        let mut unknown = after.clone();
        unknown[index_at + 3] = 7;
        assert!(decrypt(&secrets, &key, &unknown, &BTreeMap::new()).unwrap_err().is_invalid_ciphertext());
    }

    #[test]
    fn data_key_sealing_round_trips_and_binds_its_associated_data() {
        let ids = IdGen::seeded(41);
        let data_key = ids.bytes(32);
        let sealed = seal_with_data_key(&ids, &data_key, b"large value", b"arn:a").unwrap();
        assert_eq!(open_with_data_key(&data_key, &sealed, b"arn:a").unwrap(), b"large value");
        assert_eq!(open_with_data_key(&data_key, &sealed, b"arn:b"), None);
        assert_eq!(open_with_data_key(&ids.bytes(32), &sealed, b"arn:a"), None);
        assert_eq!(open_with_data_key(&data_key, &sealed[..10], b"arn:a"), None);
    }
}
