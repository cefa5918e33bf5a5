//! Symmetric encryption under a KMS key, and the ciphertext blob it produces.
//!
//! Blob layout (all integers big-endian):
//!
//! ```text
//! offset  size  field
//! 0       1     format version, CIPHERTEXT_VERSION (1)
//! 1       1     n: length of the key id in bytes (1..=255)
//! 2       n     key id (UTF-8; the key's UUID)
//! 2+n     12    AES-GCM nonce (random)
//! 14+n    ..    AES-256-GCM ciphertext followed by its 16-byte tag
//! ```
//!
//! The associated data of the AES-GCM operation is the header (bytes `0..2+n`) followed by the
//! canonical encryption context: its pairs in ascending key order (byte order of the UTF-8 keys),
//! each written as `len(key) key len(value) value` with 4-byte lengths. Length prefixes make the
//! encoding unambiguous (no separator inside a key or value can make two contexts look alike).
//! So the blob opens only under the key it names and with exactly the context it was made with.

use crate::key::{KeyRecord, KEY_MATERIAL_LEN};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use ingot_core::crypto::SecretBox;
use ingot_core::IdGen;
use std::collections::BTreeMap;

/// The version byte of blobs this build writes.
pub const CIPHERTEXT_VERSION: u8 = 1;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Largest plaintext accepted: far above KMS's 4 KiB and SSM's 8 KiB, far below AES-GCM's limit.
const MAX_PLAINTEXT: usize = 64 * 1024;

/// Why a key could not encrypt or decrypt.
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
    /// that let the blob choose its key use [`key_id_of`] and [`crate::resolve_key`] first.
    #[error("the ciphertext was made under another key")]
    IncorrectKey,
    /// The blob does not authenticate under its key with the given encryption context: the
    /// context differs from the one it was made with, or the ciphertext was altered (AES-GCM cannot
    /// tell the two apart). Report it as `InvalidCiphertextException`, as AWS does.
    #[error("the ciphertext does not match the encryption context")]
    ContextMismatch,
    /// The plaintext is larger than this crate encrypts (64 KiB).
    #[error("the plaintext is too large")]
    PlaintextTooLarge,
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

/// Encrypts `plaintext` under `key`, bound to the encryption `context`. Fails if the key's state
/// forbids use.
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
    let id_len = u8::try_from(key.key_id.len()).map_err(|_| KeyError::Sealed)?;
    if id_len == 0 {
        return Err(KeyError::Sealed);
    }
    let mut blob = Vec::with_capacity(2 + key.key_id.len() + NONCE_LEN + plaintext.len() + TAG_LEN);
    blob.push(CIPHERTEXT_VERSION);
    blob.push(id_len);
    blob.extend_from_slice(key.key_id.as_bytes());
    let aad = associated_data(&blob, context);
    let nonce = ids.bytes(NONCE_LEN);
    let cipher = cipher_for(secrets, key)?;
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
        .map_err(|_| KeyError::PlaintextTooLarge)?;
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&sealed);
    Ok(blob)
}

/// Decrypts a blob made by [`encrypt`] under `key` with the same encryption `context`.
pub fn decrypt(
    secrets: &SecretBox,
    key: &KeyRecord,
    ciphertext: &[u8],
    context: &BTreeMap<String, String>,
) -> Result<Vec<u8>, KeyError> {
    let parsed = parse(ciphertext).ok_or(KeyError::InvalidCiphertext)?;
    if parsed.key_id != key.key_id {
        return Err(KeyError::IncorrectKey);
    }
    key.check_usable()?;
    let aad = associated_data(parsed.header, context);
    let cipher = cipher_for(secrets, key)?;
    cipher
        .decrypt(Nonce::from_slice(parsed.nonce), Payload { msg: parsed.body, aad: &aad })
        .map_err(|_| KeyError::ContextMismatch)
}

/// The id of the key a blob was made under, or `None` if it is not a blob of this format.
pub fn key_id_of(ciphertext: &[u8]) -> Option<String> {
    parse(ciphertext).map(|p| p.key_id.to_string())
}

struct Parsed<'a> {
    header: &'a [u8],
    key_id: &'a str,
    nonce: &'a [u8],
    body: &'a [u8],
}

fn parse(blob: &[u8]) -> Option<Parsed<'_>> {
    let (&version, rest) = blob.split_first()?;
    if version != CIPHERTEXT_VERSION {
        return None;
    }
    let (&id_len, rest) = rest.split_first()?;
    let id_len = usize::from(id_len);
    if id_len == 0 || rest.len() < id_len + NONCE_LEN + TAG_LEN {
        return None;
    }
    let (id, rest) = rest.split_at(id_len);
    let key_id = std::str::from_utf8(id).ok()?;
    let (nonce, body) = rest.split_at(NONCE_LEN);
    Some(Parsed { header: &blob[..2 + id_len], key_id, nonce, body })
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

fn cipher_for(secrets: &SecretBox, key: &KeyRecord) -> Result<Aes256Gcm, KeyError> {
    let material: [u8; KEY_MATERIAL_LEN] = key.open_material(secrets)?;
    Ok(Aes256Gcm::new(&material.into()))
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
        assert_eq!(key_id_of(&blob).as_deref(), Some(key.key_id.as_str()));
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
        assert_eq!(key_id_of(b""), None);
        assert_eq!(key_id_of(&[9, 1, b'x']), None);
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
}
