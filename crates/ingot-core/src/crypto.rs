//! Encryption of secrets at rest (secret access keys, and later key material and SecureString
//! values): AES-256-GCM under the server's master key.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

/// Seals and opens secrets with the master key. The associated data binds a sealed value to the
/// record it belongs to, so a ciphertext copied to another record does not open.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("sealed secret cannot be opened")]
pub struct OpenError;

impl SecretBox {
    pub fn new(master_key: &[u8; 32]) -> Self {
        SecretBox { cipher: Aes256Gcm::new(master_key.into()) }
    }

    /// Returns `nonce || ciphertext`.
    pub fn seal(&self, ids: &crate::IdGen, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let nonce_bytes = ids.bytes(12);
        let nonce = Nonce::from_slice(&nonce_bytes);
        let sealed = self
            .cipher
            .encrypt(nonce, Payload { msg: plaintext, aad })
            .expect("AES-GCM encryption cannot fail for in-memory buffers");
        let mut out = nonce_bytes;
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < 12 + 16 {
            return Err(OpenError);
        }
        let (nonce, body) = sealed.split_at(12);
        self.cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad }).map_err(|_| OpenError)
    }
}

/// The SHA-256 digest of `bytes` in lower-case hex (session tokens are kept only as this).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_the_same_associated_data() {
        let b = SecretBox::new(&[7u8; 32]);
        let ids = crate::IdGen::seeded(1);
        let sealed = b.seal(&ids, b"secret", b"key-1");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(b.open(&sealed, b"key-1").unwrap(), b"secret");
        assert_eq!(b.open(&sealed, b"key-2"), Err(OpenError));
        assert_eq!(b.open(&sealed[..10], b"key-1"), Err(OpenError));
    }
}
