//! What asymmetric and HMAC keys do, on a key record: each operation checks the key's state and
//! type, opens the material only for itself, and reports failures as [`KeyError`]s that the KMS
//! service turns into AWS's errors.

use crate::asymmetric::{self, AsymmetricSpec, CryptoError, MessageType, RsaEncryptionAlgorithm, SigningAlgorithm};
use crate::envelope::KeyError;
use crate::key::{KeyFamily, KeyRecord, KeyUsage};
use crate::mac::{self, MacAlgorithm};
use ingot_core::crypto::SecretBox;

fn crypto_error(error: CryptoError) -> KeyError {
    match error {
        CryptoError::InvalidDigestLength { algorithm, .. } => {
            KeyError::Unsupported(format!("Digest is invalid length for algorithm {}.", algorithm.as_str()))
        }
        CryptoError::AlgorithmNotValidForSpec { .. } => KeyError::WrongKeyUsage,
        CryptoError::PlaintextTooLarge { .. } => KeyError::PlaintextTooLarge,
        CryptoError::InvalidCiphertext => KeyError::InvalidCiphertext,
        _ => KeyError::Sealed,
    }
}

/// The key's asymmetric spec, if it is an asymmetric key of `usage`.
fn asymmetric_spec(key: &KeyRecord, usage: KeyUsage) -> Result<AsymmetricSpec, KeyError> {
    match key.key_spec.family() {
        KeyFamily::Asymmetric(spec) if key.key_usage == usage => Ok(spec),
        _ => Err(KeyError::WrongKeyUsage),
    }
}

fn public_key(key: &KeyRecord) -> Result<Vec<u8>, KeyError> {
    key.public_key_der().ok_or(KeyError::Sealed)
}

/// Signs with an asymmetric `SIGN_VERIFY` key.
pub fn sign(
    secrets: &SecretBox,
    key: &KeyRecord,
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let spec = asymmetric_spec(key, KeyUsage::SignVerify)?;
    key.check_usable()?;
    let private = key.open_material(secrets)?;
    asymmetric::sign(spec, &private, algorithm, message_type, message).map_err(crypto_error)
}

/// Verifies a signature with an asymmetric `SIGN_VERIFY` key; `Ok(false)` for a wrong one.
pub fn verify(
    key: &KeyRecord,
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, KeyError> {
    let spec = asymmetric_spec(key, KeyUsage::SignVerify)?;
    key.check_usable()?;
    asymmetric::verify(spec, &public_key(key)?, algorithm, message_type, message, signature).map_err(crypto_error)
}

/// Encrypts with an RSA `ENCRYPT_DECRYPT` key (the public key: no material is opened).
pub fn rsa_encrypt(key: &KeyRecord, algorithm: RsaEncryptionAlgorithm, plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
    let spec = asymmetric_spec(key, KeyUsage::EncryptDecrypt)?;
    key.check_usable()?;
    asymmetric::rsa_encrypt(spec, &public_key(key)?, algorithm, plaintext).map_err(crypto_error)
}

/// Decrypts with an RSA `ENCRYPT_DECRYPT` key.
pub fn rsa_decrypt(
    secrets: &SecretBox,
    key: &KeyRecord,
    algorithm: RsaEncryptionAlgorithm,
    ciphertext: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let spec = asymmetric_spec(key, KeyUsage::EncryptDecrypt)?;
    key.check_usable()?;
    let private = key.open_material(secrets)?;
    asymmetric::rsa_decrypt(spec, &private, algorithm, ciphertext).map_err(crypto_error)
}

/// The MAC of `message` under an HMAC key, with the key's own algorithm.
pub fn generate_mac(
    secrets: &SecretBox,
    key: &KeyRecord,
    algorithm: MacAlgorithm,
    message: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let material = hmac_material(secrets, key, algorithm)?;
    Ok(mac::generate_mac(algorithm, &material, message))
}

/// Whether `tag` is the MAC of `message` under an HMAC key.
pub fn verify_mac(
    secrets: &SecretBox,
    key: &KeyRecord,
    algorithm: MacAlgorithm,
    message: &[u8],
    tag: &[u8],
) -> Result<bool, KeyError> {
    let material = hmac_material(secrets, key, algorithm)?;
    Ok(mac::verify_mac(algorithm, &material, message, tag))
}

fn hmac_material(secrets: &SecretBox, key: &KeyRecord, algorithm: MacAlgorithm) -> Result<Vec<u8>, KeyError> {
    let KeyFamily::Hmac(spec) = key.key_spec.family() else { return Err(KeyError::WrongKeyUsage) };
    if spec.algorithm() != algorithm {
        return Err(KeyError::WrongKeyUsage);
    }
    key.check_usable()?;
    key.open_material(secrets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{KeyDraft, KeyManager, KeySpec};
    use ingot_core::{IdGen, Timestamp};

    fn key(spec: KeySpec, usage: KeyUsage) -> (SecretBox, KeyRecord) {
        let secrets = SecretBox::new(&[4u8; 32]);
        let ids = IdGen::seeded(31);
        let draft =
            KeyDraft { key_spec: spec, key_usage: usage, ..KeyDraft::symmetric(KeyManager::Customer, "", "{}".into()) };
        let key = KeyRecord::create(&secrets, &ids, Timestamp(0), &crate::key::test_scope("us-east-1"), draft).unwrap();
        (secrets, key)
    }

    #[test]
    fn a_signing_key_signs_and_verifies_and_refuses_to_encrypt() {
        let (secrets, key) = key(KeySpec::EccNistP256, KeyUsage::SignVerify);
        let sig = sign(&secrets, &key, SigningAlgorithm::EcdsaSha256, MessageType::Raw, b"m").unwrap();
        assert!(verify(&key, SigningAlgorithm::EcdsaSha256, MessageType::Raw, b"m", &sig).unwrap());
        assert!(!verify(&key, SigningAlgorithm::EcdsaSha256, MessageType::Raw, b"n", &sig).unwrap());
        assert_eq!(rsa_encrypt(&key, RsaEncryptionAlgorithm::OaepSha256, b"x"), Err(KeyError::WrongKeyUsage));
        // The stored record holds only the sealed private key and the public key.
        let text = String::from_utf8(ingot_store::encode_record(&key)).unwrap();
        assert!(text.contains(&key.public_key.clone().unwrap()));
    }

    #[test]
    fn an_rsa_encryption_key_round_trips_and_refuses_to_sign() {
        let (secrets, key) = key(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
        let blob = rsa_encrypt(&key, RsaEncryptionAlgorithm::OaepSha1, b"secret").unwrap();
        assert_eq!(rsa_decrypt(&secrets, &key, RsaEncryptionAlgorithm::OaepSha1, &blob).unwrap(), b"secret");
        let err = sign(&secrets, &key, SigningAlgorithm::RsassaPssSha256, MessageType::Raw, b"m").unwrap_err();
        assert_eq!(err, KeyError::WrongKeyUsage);
    }

    #[test]
    fn an_hmac_key_uses_only_its_own_algorithm() {
        let (secrets, key) = key(KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
        let tag = generate_mac(&secrets, &key, MacAlgorithm::HmacSha256, b"m").unwrap();
        assert!(verify_mac(&secrets, &key, MacAlgorithm::HmacSha256, b"m", &tag).unwrap());
        assert!(!verify_mac(&secrets, &key, MacAlgorithm::HmacSha256, b"n", &tag).unwrap());
        assert_eq!(generate_mac(&secrets, &key, MacAlgorithm::HmacSha512, b"m"), Err(KeyError::WrongKeyUsage));
    }

    #[test]
    fn a_disabled_key_refuses_every_operation() {
        let (secrets, mut key) = key(KeySpec::Hmac224, KeyUsage::GenerateVerifyMac);
        key.key_state = crate::KeyState::Disabled;
        assert_eq!(generate_mac(&secrets, &key, MacAlgorithm::HmacSha224, b"m"), Err(KeyError::KeyDisabled));
    }
}
