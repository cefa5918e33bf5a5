//! KMS asymmetric keys: RSA and elliptic-curve key pairs, signing and verification, and RSA OAEP
//! encryption, with AWS's names and rules.
//!
//! These are pure functions over plain key material: a private key is PKCS#8 DER (what KMS keeps
//! and what `GenerateDataKeyPair` returns), a public key is the DER X.509 SubjectPublicKeyInfo
//! (what `GetPublicKey` returns). Storing and sealing the material, key usage (`SIGN_VERIFY` or
//! `ENCRYPT_DECRYPT`) and key state are the caller's; here only the spec decides which algorithms
//! apply.
//!
//! AWS rules followed:
//! - `MessageType` `RAW`: the message is hashed with the algorithm's hash. `DIGEST`: the message
//!   is that hash already and must have exactly its length.
//! - RSASSA-PSS: MGF1 with the signature's hash, salt as long as the hash.
//! - ECDSA: the signature is the DER `SEQUENCE { r INTEGER, s INTEGER }`; each curve has one
//!   algorithm (P-256 and secp256k1: SHA-256, P-384: SHA-384, P-521: SHA-512).
//! - RSAES-OAEP: MGF1 with the same hash as OAEP's, empty label.
//!
//! Randomness (key generation, PSS salts, ECDSA nonces, RSA blinding) comes from the operating
//! system ([`OsRng`]).

use rand::rngs::OsRng;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};
use rsa::traits::{PublicKeyParts, SignatureScheme};
use rsa::{Oaep, Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::fmt;

/// Declares a fieldless enum whose variants have AWS wire names, with `as_str`, `parse`, `ALL`,
/// `Display` and serde (as the AWS name), so the names are written once.
macro_rules! aws_names {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $aws:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(into = "&'static str", try_from = "String")]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in AWS's documentation order.
            pub const ALL: &'static [$name] = &[$( $name::$variant, )+];

            /// The AWS name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $aws, )+
                }
            }

            /// The value AWS names `text` (exact, case-sensitive, as AWS matches it).
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $( $aws => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<$name> for &'static str {
            fn from(value: $name) -> &'static str {
                value.as_str()
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;

            fn try_from(text: String) -> Result<Self, String> {
                $name::parse(&text).ok_or_else(|| format!("unknown {} {text:?}", stringify!($name)))
            }
        }
    };
}
pub(crate) use aws_names;

aws_names! {
    /// The asymmetric key specs (AWS `KeySpec` / `KeyPairSpec`) Ingot serves.
    pub enum AsymmetricSpec {
        /// RSA with a 2048-bit modulus.
        Rsa2048 => "RSA_2048",
        /// RSA with a 3072-bit modulus.
        Rsa3072 => "RSA_3072",
        /// RSA with a 4096-bit modulus.
        Rsa4096 => "RSA_4096",
        /// NIST P-256 (secp256r1).
        EccNistP256 => "ECC_NIST_P256",
        /// NIST P-384 (secp384r1).
        EccNistP384 => "ECC_NIST_P384",
        /// NIST P-521 (secp521r1).
        EccNistP521 => "ECC_NIST_P521",
        /// SECG secp256k1 (the curve of Bitcoin and Ethereum).
        EccSecgP256k1 => "ECC_SECG_P256K1",
    }
}

aws_names! {
    /// AWS `SigningAlgorithmSpec`, less SM2DSA (China Regions only) and ML-DSA.
    pub enum SigningAlgorithm {
        /// RSASSA-PSS with SHA-256 (MGF1 SHA-256, 32-byte salt).
        RsassaPssSha256 => "RSASSA_PSS_SHA_256",
        /// RSASSA-PSS with SHA-384 (MGF1 SHA-384, 48-byte salt).
        RsassaPssSha384 => "RSASSA_PSS_SHA_384",
        /// RSASSA-PSS with SHA-512 (MGF1 SHA-512, 64-byte salt).
        RsassaPssSha512 => "RSASSA_PSS_SHA_512",
        /// RSASSA-PKCS1-v1_5 with SHA-256.
        RsassaPkcs1V15Sha256 => "RSASSA_PKCS1_V1_5_SHA_256",
        /// RSASSA-PKCS1-v1_5 with SHA-384.
        RsassaPkcs1V15Sha384 => "RSASSA_PKCS1_V1_5_SHA_384",
        /// RSASSA-PKCS1-v1_5 with SHA-512.
        RsassaPkcs1V15Sha512 => "RSASSA_PKCS1_V1_5_SHA_512",
        /// ECDSA with SHA-256 (P-256, secp256k1).
        EcdsaSha256 => "ECDSA_SHA_256",
        /// ECDSA with SHA-384 (P-384).
        EcdsaSha384 => "ECDSA_SHA_384",
        /// ECDSA with SHA-512 (P-521).
        EcdsaSha512 => "ECDSA_SHA_512",
    }
}

aws_names! {
    /// The asymmetric members of AWS `EncryptionAlgorithmSpec` (RSA keys only; SM2PKE is China
    /// Regions only, `SYMMETRIC_DEFAULT` is the symmetric path's).
    pub enum RsaEncryptionAlgorithm {
        /// RSAES-OAEP with SHA-1 and MGF1 SHA-1.
        OaepSha1 => "RSAES_OAEP_SHA_1",
        /// RSAES-OAEP with SHA-256 and MGF1 SHA-256.
        OaepSha256 => "RSAES_OAEP_SHA_256",
    }
}

aws_names! {
    /// AWS `MessageType` of Sign and Verify.
    pub enum MessageType {
        /// The message itself; KMS hashes it with the algorithm's hash.
        Raw => "RAW",
        /// The message's hash, computed by the caller with the algorithm's hash.
        Digest => "DIGEST",
    }
}

/// Why an asymmetric operation failed. The variant tells the caller which AWS error to return.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// A `DIGEST` message whose length is not the algorithm's hash length (AWS:
    /// `ValidationException`).
    #[error("digest length {actual} is not valid for {algorithm}, which requires {expected} bytes")]
    InvalidDigestLength {
        /// The signing algorithm the digest was given for.
        algorithm: SigningAlgorithm,
        /// The hash length of `algorithm`.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// The algorithm does not apply to the key spec, e.g. `ECDSA_SHA_384` with an
    /// `ECC_NIST_P256` key, or RSA encryption with an ECC key (AWS: `InvalidKeyUsageException`).
    #[error("{algorithm} is not valid for a key of spec {spec}")]
    AlgorithmNotValidForSpec {
        /// The key's spec.
        spec: AsymmetricSpec,
        /// The AWS name of the algorithm asked for.
        algorithm: &'static str,
    },
    /// The plaintext exceeds what OAEP can encrypt under the key (AWS: `ValidationException`).
    #[error("plaintext of {actual} bytes exceeds the {max}-byte limit of this key and algorithm")]
    PlaintextTooLarge {
        /// The largest plaintext the spec and algorithm take ([`max_rsa_plaintext`]).
        max: usize,
        /// The plaintext's length.
        actual: usize,
    },
    /// The ciphertext does not decrypt under the key with the algorithm: altered, of the wrong
    /// length, made under another key or with the other algorithm (AWS:
    /// `InvalidCiphertextException`).
    #[error("the ciphertext cannot be decrypted")]
    InvalidCiphertext,
    /// The stored key material does not parse as a key of the spec: damaged or mixed-up storage,
    /// never the API caller's fault (AWS: `KMSInternalException`).
    #[error("malformed key material: {0}")]
    MalformedKeyMaterial(&'static str),
    /// The cryptographic library failed where it should not (key generation, signing or
    /// encryption with valid inputs) (AWS: `KMSInternalException`).
    #[error("cryptographic operation failed: {0}")]
    Internal(&'static str),
}

/// A freshly generated key pair, both halves DER-encoded.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyPair {
    /// The private key as PKCS#8 `PrivateKeyInfo` DER (v1, unencrypted).
    pub private_pkcs8_der: Vec<u8>,
    /// The public key as X.509 `SubjectPublicKeyInfo` DER.
    pub public_spki_der: Vec<u8>,
}

// Hand-written so that logging a key pair never prints the private key.
impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("private_pkcs8_der", &"<redacted>")
            .field("public_spki_der", &self.public_spki_der)
            .finish()
    }
}

const RSA_SIGNING: &[SigningAlgorithm] = &[
    SigningAlgorithm::RsassaPssSha256,
    SigningAlgorithm::RsassaPssSha384,
    SigningAlgorithm::RsassaPssSha512,
    SigningAlgorithm::RsassaPkcs1V15Sha256,
    SigningAlgorithm::RsassaPkcs1V15Sha384,
    SigningAlgorithm::RsassaPkcs1V15Sha512,
];
const RSA_ENCRYPTION: &[RsaEncryptionAlgorithm] =
    &[RsaEncryptionAlgorithm::OaepSha1, RsaEncryptionAlgorithm::OaepSha256];

impl AsymmetricSpec {
    /// The signing algorithms a `SIGN_VERIFY` key of this spec accepts (DescribeKey's
    /// `SigningAlgorithms`).
    pub fn signing_algorithms(self) -> &'static [SigningAlgorithm] {
        match self {
            AsymmetricSpec::Rsa2048 | AsymmetricSpec::Rsa3072 | AsymmetricSpec::Rsa4096 => RSA_SIGNING,
            AsymmetricSpec::EccNistP256 | AsymmetricSpec::EccSecgP256k1 => &[SigningAlgorithm::EcdsaSha256],
            AsymmetricSpec::EccNistP384 => &[SigningAlgorithm::EcdsaSha384],
            AsymmetricSpec::EccNistP521 => &[SigningAlgorithm::EcdsaSha512],
        }
    }

    /// The encryption algorithms an `ENCRYPT_DECRYPT` key of this spec accepts (DescribeKey's
    /// `EncryptionAlgorithms`); empty for ECC specs, which cannot encrypt.
    pub fn encryption_algorithms(self) -> &'static [RsaEncryptionAlgorithm] {
        match self.kind() {
            Kind::Rsa(_) => RSA_ENCRYPTION,
            _ => &[],
        }
    }

    /// Whether the spec is an RSA one.
    pub fn is_rsa(self) -> bool {
        self.rsa_bits().is_some()
    }

    /// The modulus size in bits of an RSA spec, `None` for ECC.
    pub fn rsa_bits(self) -> Option<usize> {
        match self.kind() {
            Kind::Rsa(bits) => Some(bits),
            _ => None,
        }
    }

    fn kind(self) -> Kind {
        match self {
            AsymmetricSpec::Rsa2048 => Kind::Rsa(2048),
            AsymmetricSpec::Rsa3072 => Kind::Rsa(3072),
            AsymmetricSpec::Rsa4096 => Kind::Rsa(4096),
            AsymmetricSpec::EccNistP256 => Kind::P256,
            AsymmetricSpec::EccNistP384 => Kind::P384,
            AsymmetricSpec::EccNistP521 => Kind::P521,
            AsymmetricSpec::EccSecgP256k1 => Kind::K256,
        }
    }
}

/// The implementation a spec maps to: RSA of a modulus size, or one of the curves.
#[derive(Clone, Copy)]
enum Kind {
    Rsa(usize),
    P256,
    P384,
    P521,
    K256,
}

/// The hash a signing or encryption algorithm uses.
#[derive(Clone, Copy)]
enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn len(self) -> usize {
        match self {
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => sha1::Sha1::digest(message).to_vec(),
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
            Hash::Sha512 => Sha512::digest(message).to_vec(),
        }
    }
}

impl SigningAlgorithm {
    fn hash(self) -> Hash {
        match self {
            SigningAlgorithm::RsassaPssSha256
            | SigningAlgorithm::RsassaPkcs1V15Sha256
            | SigningAlgorithm::EcdsaSha256 => Hash::Sha256,
            SigningAlgorithm::RsassaPssSha384
            | SigningAlgorithm::RsassaPkcs1V15Sha384
            | SigningAlgorithm::EcdsaSha384 => Hash::Sha384,
            SigningAlgorithm::RsassaPssSha512
            | SigningAlgorithm::RsassaPkcs1V15Sha512
            | SigningAlgorithm::EcdsaSha512 => Hash::Sha512,
        }
    }

    /// The length in bytes of the algorithm's hash: what a `DIGEST` message must be.
    pub fn digest_len(self) -> usize {
        self.hash().len()
    }
}

impl RsaEncryptionAlgorithm {
    fn hash(self) -> Hash {
        match self {
            RsaEncryptionAlgorithm::OaepSha1 => Hash::Sha1,
            RsaEncryptionAlgorithm::OaepSha256 => Hash::Sha256,
        }
    }

    fn padding(self) -> Oaep {
        // Oaep::new uses MGF1 with the same hash and no label, as KMS does.
        match self {
            RsaEncryptionAlgorithm::OaepSha1 => Oaep::new::<sha1::Sha1>(),
            RsaEncryptionAlgorithm::OaepSha256 => Oaep::new::<Sha256>(),
        }
    }
}

/// Generates a new key pair of `spec` (CreateKey, GenerateDataKeyPair).
///
/// RSA keys have public exponent 65537. RSA generation is a random prime search: RSA_4096 takes
/// from under a second to several (0.8 to 3.7 s seen in the test profile), so callers on an async
/// runtime should run it off the reactor threads (`spawn_blocking`).
pub fn generate_key_pair(spec: AsymmetricSpec) -> Result<KeyPair, CryptoError> {
    const ENCODE: CryptoError = CryptoError::Internal("encoding the new key failed");
    let (private, public) = match spec.kind() {
        Kind::Rsa(bits) => {
            let key =
                RsaPrivateKey::new(&mut OsRng, bits).map_err(|_| CryptoError::Internal("RSA key generation failed"))?;
            let public = key.to_public_key().to_public_key_der().map_err(|_| ENCODE)?;
            (key.to_pkcs8_der().map_err(|_| ENCODE)?, public)
        }
        Kind::P256 => {
            let key = p256::SecretKey::random(&mut OsRng);
            (key.to_pkcs8_der().map_err(|_| ENCODE)?, key.public_key().to_public_key_der().map_err(|_| ENCODE)?)
        }
        Kind::P384 => {
            let key = p384::SecretKey::random(&mut OsRng);
            (key.to_pkcs8_der().map_err(|_| ENCODE)?, key.public_key().to_public_key_der().map_err(|_| ENCODE)?)
        }
        Kind::P521 => {
            let key = p521::SecretKey::random(&mut OsRng);
            (key.to_pkcs8_der().map_err(|_| ENCODE)?, key.public_key().to_public_key_der().map_err(|_| ENCODE)?)
        }
        Kind::K256 => {
            let key = k256::SecretKey::random(&mut OsRng);
            (key.to_pkcs8_der().map_err(|_| ENCODE)?, key.public_key().to_public_key_der().map_err(|_| ENCODE)?)
        }
    };
    Ok(KeyPair { private_pkcs8_der: private.as_bytes().to_vec(), public_spki_der: public.into_vec() })
}

/// The DER SubjectPublicKeyInfo of the PKCS#8 private key `private_pkcs8_der` of `spec`: the
/// tests check generated pairs with it (imported key material, when it comes, will too).
#[cfg(test)]
pub fn public_key_of(spec: AsymmetricSpec, private_pkcs8_der: &[u8]) -> Result<Vec<u8>, CryptoError> {
    const ENCODE: CryptoError = CryptoError::Internal("encoding the public key failed");
    let public = match spec.kind() {
        Kind::Rsa(_) => rsa_private_key(spec, private_pkcs8_der)?.to_public_key().to_public_key_der(),
        Kind::P256 => p256::SecretKey::from_pkcs8_der(private_pkcs8_der)
            .map_err(|_| MALFORMED_PRIVATE)?
            .public_key()
            .to_public_key_der(),
        Kind::P384 => p384::SecretKey::from_pkcs8_der(private_pkcs8_der)
            .map_err(|_| MALFORMED_PRIVATE)?
            .public_key()
            .to_public_key_der(),
        Kind::P521 => p521::SecretKey::from_pkcs8_der(private_pkcs8_der)
            .map_err(|_| MALFORMED_PRIVATE)?
            .public_key()
            .to_public_key_der(),
        Kind::K256 => k256::SecretKey::from_pkcs8_der(private_pkcs8_der)
            .map_err(|_| MALFORMED_PRIVATE)?
            .public_key()
            .to_public_key_der(),
    };
    Ok(public.map_err(|_| ENCODE)?.into_vec())
}

const MALFORMED_PRIVATE: CryptoError = CryptoError::MalformedKeyMaterial("not a PKCS#8 private key of the key's spec");
const MALFORMED_PUBLIC: CryptoError =
    CryptoError::MalformedKeyMaterial("not a SubjectPublicKeyInfo public key of the key's spec");

fn check_signing_algorithm(spec: AsymmetricSpec, algorithm: SigningAlgorithm) -> Result<(), CryptoError> {
    if spec.signing_algorithms().contains(&algorithm) {
        Ok(())
    } else {
        Err(CryptoError::AlgorithmNotValidForSpec { spec, algorithm: algorithm.as_str() })
    }
}

/// The hash to sign or verify: the message's for `RAW`, the message itself for `DIGEST`.
fn message_digest(
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    match message_type {
        MessageType::Raw => Ok(algorithm.hash().digest(message)),
        MessageType::Digest if message.len() == algorithm.digest_len() => Ok(message.to_vec()),
        MessageType::Digest => {
            Err(CryptoError::InvalidDigestLength { algorithm, expected: algorithm.digest_len(), actual: message.len() })
        }
    }
}

// A key whose modulus is not the spec's size is refused: it would sign with another strength
// than DescribeKey reports, and OAEP limits would not match `max_rsa_plaintext`.
fn rsa_private_key(spec: AsymmetricSpec, der: &[u8]) -> Result<RsaPrivateKey, CryptoError> {
    let key = RsaPrivateKey::from_pkcs8_der(der).map_err(|_| MALFORMED_PRIVATE)?;
    match spec.rsa_bits() {
        Some(bits) if key.size() * 8 == bits => Ok(key),
        _ => Err(MALFORMED_PRIVATE),
    }
}

fn rsa_public_key(spec: AsymmetricSpec, der: &[u8]) -> Result<RsaPublicKey, CryptoError> {
    let key = RsaPublicKey::from_public_key_der(der).map_err(|_| MALFORMED_PUBLIC)?;
    match spec.rsa_bits() {
        Some(bits) if key.size() * 8 == bits => Ok(key),
        _ => Err(MALFORMED_PUBLIC),
    }
}

/// Runs `f` with the RSA signature scheme of `algorithm` (the schemes are distinct types);
/// refuses the ECDSA algorithms.
fn with_rsa_scheme<T>(
    spec: AsymmetricSpec,
    algorithm: SigningAlgorithm,
    f: impl RsaSchemeFn<T>,
) -> Result<T, CryptoError> {
    // Pss::new: MGF1 with the same hash, salt as long as the hash (AWS's parameters).
    Ok(match algorithm {
        SigningAlgorithm::RsassaPssSha256 => f.call(Pss::new::<Sha256>()),
        SigningAlgorithm::RsassaPssSha384 => f.call(Pss::new::<Sha384>()),
        SigningAlgorithm::RsassaPssSha512 => f.call(Pss::new::<Sha512>()),
        SigningAlgorithm::RsassaPkcs1V15Sha256 => f.call(Pkcs1v15Sign::new::<Sha256>()),
        SigningAlgorithm::RsassaPkcs1V15Sha384 => f.call(Pkcs1v15Sign::new::<Sha384>()),
        SigningAlgorithm::RsassaPkcs1V15Sha512 => f.call(Pkcs1v15Sign::new::<Sha512>()),
        SigningAlgorithm::EcdsaSha256 | SigningAlgorithm::EcdsaSha384 | SigningAlgorithm::EcdsaSha512 => {
            return Err(CryptoError::AlgorithmNotValidForSpec { spec, algorithm: algorithm.as_str() })
        }
    })
}

/// A function generic over the RSA signature scheme (closures cannot be generic).
trait RsaSchemeFn<T> {
    fn call<S: SignatureScheme>(self, scheme: S) -> T;
}

struct RsaSign<'a> {
    key: &'a RsaPrivateKey,
    digest: &'a [u8],
}

impl RsaSchemeFn<Result<Vec<u8>, CryptoError>> for RsaSign<'_> {
    fn call<S: SignatureScheme>(self, scheme: S) -> Result<Vec<u8>, CryptoError> {
        // With an RNG, rsa blinds the private-key operation (and draws the PSS salt from it).
        self.key.sign_with_rng(&mut OsRng, scheme, self.digest).map_err(|_| CryptoError::Internal("RSA signing failed"))
    }
}

struct RsaVerify<'a> {
    key: &'a RsaPublicKey,
    digest: &'a [u8],
    signature: &'a [u8],
}

impl RsaSchemeFn<bool> for RsaVerify<'_> {
    fn call<S: SignatureScheme>(self, scheme: S) -> bool {
        self.key.verify(scheme, self.digest, self.signature).is_ok()
    }
}

/// Signs `message` with the private key of `spec` (KMS `Sign`). Returns the signature: for RSA
/// the modulus-sized big-endian integer, for ECDSA the DER `SEQUENCE { r, s }`.
pub fn sign(
    spec: AsymmetricSpec,
    private_pkcs8_der: &[u8],
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    check_signing_algorithm(spec, algorithm)?;
    let digest = message_digest(algorithm, message_type, message)?;
    const ECDSA_FAILED: CryptoError = CryptoError::Internal("ECDSA signing failed");
    // ECDSA signs the digest as is (prehash signing); the nonce is drawn from OsRng.
    match spec.kind() {
        Kind::Rsa(_) => {
            let key = rsa_private_key(spec, private_pkcs8_der)?;
            with_rsa_scheme(spec, algorithm, RsaSign { key: &key, digest: &digest })?
        }
        Kind::P256 => {
            let key = p256::SecretKey::from_pkcs8_der(private_pkcs8_der).map_err(|_| MALFORMED_PRIVATE)?;
            let signature: p256::ecdsa::Signature = p256::ecdsa::SigningKey::from(key)
                .sign_prehash_with_rng(&mut OsRng, &digest)
                .map_err(|_| ECDSA_FAILED)?;
            Ok(signature.to_der().as_bytes().to_vec())
        }
        Kind::P384 => {
            let key = p384::SecretKey::from_pkcs8_der(private_pkcs8_der).map_err(|_| MALFORMED_PRIVATE)?;
            let signature: p384::ecdsa::Signature = p384::ecdsa::SigningKey::from(key)
                .sign_prehash_with_rng(&mut OsRng, &digest)
                .map_err(|_| ECDSA_FAILED)?;
            Ok(signature.to_der().as_bytes().to_vec())
        }
        Kind::P521 => {
            // p521's SigningKey is a wrapper without PKCS#8 support: go through the scalar.
            let key = p521::SecretKey::from_pkcs8_der(private_pkcs8_der).map_err(|_| MALFORMED_PRIVATE)?;
            let signing = p521::ecdsa::SigningKey::from_bytes(&key.to_bytes()).map_err(|_| MALFORMED_PRIVATE)?;
            let signature: p521::ecdsa::Signature =
                signing.sign_prehash_with_rng(&mut OsRng, &digest).map_err(|_| ECDSA_FAILED)?;
            Ok(signature.to_der().as_bytes().to_vec())
        }
        Kind::K256 => {
            let key = k256::SecretKey::from_pkcs8_der(private_pkcs8_der).map_err(|_| MALFORMED_PRIVATE)?;
            let signature: k256::ecdsa::Signature = k256::ecdsa::SigningKey::from(key)
                .sign_prehash_with_rng(&mut OsRng, &digest)
                .map_err(|_| ECDSA_FAILED)?;
            Ok(signature.to_der().as_bytes().to_vec())
        }
    }
}

/// Verifies `signature` over `message` with the public key of `spec` (KMS `Verify`).
///
/// `Ok(false)` for any signature that does not verify, including one that is garbled, empty or of
/// the wrong length; `Err` only for a request that is itself invalid (algorithm, digest length) or
/// for damaged key material.
pub fn verify(
    spec: AsymmetricSpec,
    public_spki_der: &[u8],
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    check_signing_algorithm(spec, algorithm)?;
    let digest = message_digest(algorithm, message_type, message)?;
    let valid = match spec.kind() {
        Kind::Rsa(_) => {
            let key = rsa_public_key(spec, public_spki_der)?;
            with_rsa_scheme(spec, algorithm, RsaVerify { key: &key, digest: &digest, signature })?
        }
        Kind::P256 => {
            let key = p256::PublicKey::from_public_key_der(public_spki_der).map_err(|_| MALFORMED_PUBLIC)?;
            p256::ecdsa::Signature::from_der(signature)
                .is_ok_and(|sig| p256::ecdsa::VerifyingKey::from(key).verify_prehash(&digest, &sig).is_ok())
        }
        Kind::P384 => {
            let key = p384::PublicKey::from_public_key_der(public_spki_der).map_err(|_| MALFORMED_PUBLIC)?;
            p384::ecdsa::Signature::from_der(signature)
                .is_ok_and(|sig| p384::ecdsa::VerifyingKey::from(key).verify_prehash(&digest, &sig).is_ok())
        }
        Kind::P521 => {
            let key = p521::PublicKey::from_public_key_der(public_spki_der).map_err(|_| MALFORMED_PUBLIC)?;
            let key = p521::ecdsa::VerifyingKey::from_affine(*key.as_affine()).map_err(|_| MALFORMED_PUBLIC)?;
            p521::ecdsa::Signature::from_der(signature).is_ok_and(|sig| key.verify_prehash(&digest, &sig).is_ok())
        }
        Kind::K256 => {
            let key = k256::PublicKey::from_public_key_der(public_spki_der).map_err(|_| MALFORMED_PUBLIC)?;
            // k256 accepts only low-S signatures (a Bitcoin rule). KMS and OpenSSL produce and
            // accept either form, and (r, s) is valid exactly when (r, n - s) is: normalise first.
            k256::ecdsa::Signature::from_der(signature).is_ok_and(|sig| {
                let sig = sig.normalize_s().unwrap_or(sig);
                k256::ecdsa::VerifyingKey::from(key).verify_prehash(&digest, &sig).is_ok()
            })
        }
    };
    Ok(valid)
}

fn check_encryption_spec(spec: AsymmetricSpec, algorithm: RsaEncryptionAlgorithm) -> Result<(), CryptoError> {
    if spec.is_rsa() {
        Ok(())
    } else {
        Err(CryptoError::AlgorithmNotValidForSpec { spec, algorithm: algorithm.as_str() })
    }
}

/// The largest plaintext in bytes that `algorithm` encrypts under an RSA key of `spec`: the
/// modulus length less twice the hash length less 2 (RFC 8017, 7.1.1). 0 for ECC specs.
///
/// RSA_2048: 214 (OAEP SHA-1), 190 (OAEP SHA-256); RSA_3072: 342, 318; RSA_4096: 470, 446.
pub fn max_rsa_plaintext(spec: AsymmetricSpec, algorithm: RsaEncryptionAlgorithm) -> usize {
    match spec.rsa_bits() {
        Some(bits) => bits / 8 - 2 * algorithm.hash().len() - 2,
        None => 0,
    }
}

/// Encrypts `plaintext` with the RSA public key of `spec` (KMS `Encrypt` with an asymmetric key,
/// and what an AWS client does offline with the key from `GetPublicKey`). The ciphertext is the
/// modulus-sized big-endian integer; OAEP is randomised, so each call gives a different one.
pub fn rsa_encrypt(
    spec: AsymmetricSpec,
    public_spki_der: &[u8],
    algorithm: RsaEncryptionAlgorithm,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    check_encryption_spec(spec, algorithm)?;
    let max = max_rsa_plaintext(spec, algorithm);
    if plaintext.len() > max {
        return Err(CryptoError::PlaintextTooLarge { max, actual: plaintext.len() });
    }
    let key = rsa_public_key(spec, public_spki_der)?;
    key.encrypt(&mut OsRng, algorithm.padding(), plaintext).map_err(|_| CryptoError::Internal("RSA encryption failed"))
}

/// Decrypts an OAEP `ciphertext` with the RSA private key of `spec` (KMS `Decrypt` with an
/// asymmetric key). Any ciphertext that does not decrypt is [`CryptoError::InvalidCiphertext`].
pub fn rsa_decrypt(
    spec: AsymmetricSpec,
    private_pkcs8_der: &[u8],
    algorithm: RsaEncryptionAlgorithm,
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    check_encryption_spec(spec, algorithm)?;
    let key = rsa_private_key(spec, private_pkcs8_der)?;
    // Blinded: the private-key operation's timing does not depend on the ciphertext.
    key.decrypt_blinded(&mut OsRng, algorithm.padding(), ciphertext).map_err(|_| CryptoError::InvalidCiphertext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::signature::Verifier;
    use std::sync::OnceLock;

    // Key generation is the slow part (RSA above all): each spec's pair is made once and shared.
    fn pair(spec: AsymmetricSpec) -> &'static KeyPair {
        static PAIRS: [OnceLock<KeyPair>; 7] = [const { OnceLock::new() }; 7];
        let index = AsymmetricSpec::ALL.iter().position(|s| *s == spec).unwrap_or(0);
        PAIRS[index].get_or_init(|| generate_key_pair(spec).expect("key generation"))
    }

    /// The specs tested with every algorithm; RSA_4096 is slow to generate and has its own test.
    const SPECS: [AsymmetricSpec; 6] = [
        AsymmetricSpec::Rsa2048,
        AsymmetricSpec::Rsa3072,
        AsymmetricSpec::EccNistP256,
        AsymmetricSpec::EccNistP384,
        AsymmetricSpec::EccNistP521,
        AsymmetricSpec::EccSecgP256k1,
    ];

    #[test]
    fn names_round_trip_through_as_str_parse_and_serde() {
        for spec in AsymmetricSpec::ALL {
            assert_eq!(AsymmetricSpec::parse(spec.as_str()), Some(*spec));
            let json = serde_json::to_string(spec).unwrap();
            assert_eq!(json, format!("\"{}\"", spec.as_str()));
            assert_eq!(serde_json::from_str::<AsymmetricSpec>(&json).unwrap(), *spec);
        }
        for algorithm in SigningAlgorithm::ALL {
            assert_eq!(SigningAlgorithm::parse(algorithm.as_str()), Some(*algorithm));
        }
        for algorithm in RsaEncryptionAlgorithm::ALL {
            assert_eq!(RsaEncryptionAlgorithm::parse(algorithm.as_str()), Some(*algorithm));
        }
        assert_eq!(MessageType::parse("DIGEST"), Some(MessageType::Digest));
        assert_eq!(AsymmetricSpec::parse("ECC_SECG_P256K1"), Some(AsymmetricSpec::EccSecgP256k1));
        assert_eq!(SigningAlgorithm::parse("RSASSA_PKCS1_V1_5_SHA_384"), Some(SigningAlgorithm::RsassaPkcs1V15Sha384));
        assert_eq!(RsaEncryptionAlgorithm::OaepSha1.to_string(), "RSAES_OAEP_SHA_1");
        assert_eq!(AsymmetricSpec::parse("rsa_2048"), None);
        assert_eq!(AsymmetricSpec::parse("SYMMETRIC_DEFAULT"), None);
        assert!(serde_json::from_str::<SigningAlgorithm>("\"ECDSA_SHA_1\"").is_err());
    }

    #[test]
    fn each_spec_lists_the_algorithms_aws_allows() {
        for spec in [AsymmetricSpec::Rsa2048, AsymmetricSpec::Rsa3072, AsymmetricSpec::Rsa4096] {
            assert_eq!(spec.signing_algorithms().len(), 6);
            assert_eq!(spec.encryption_algorithms(), RSA_ENCRYPTION);
        }
        assert_eq!(AsymmetricSpec::EccNistP256.signing_algorithms(), [SigningAlgorithm::EcdsaSha256]);
        assert_eq!(AsymmetricSpec::EccNistP384.signing_algorithms(), [SigningAlgorithm::EcdsaSha384]);
        assert_eq!(AsymmetricSpec::EccNistP521.signing_algorithms(), [SigningAlgorithm::EcdsaSha512]);
        assert_eq!(AsymmetricSpec::EccSecgP256k1.signing_algorithms(), [SigningAlgorithm::EcdsaSha256]);
        for spec in &SPECS[2..] {
            assert!(spec.encryption_algorithms().is_empty());
            assert!(!spec.is_rsa());
        }
        assert_eq!(SigningAlgorithm::RsassaPssSha384.digest_len(), 48);
        assert_eq!(SigningAlgorithm::EcdsaSha512.digest_len(), 64);
    }

    #[test]
    fn max_rsa_plaintext_matches_aws_limits() {
        use RsaEncryptionAlgorithm::{OaepSha1, OaepSha256};
        let expected = [
            (AsymmetricSpec::Rsa2048, 214, 190),
            (AsymmetricSpec::Rsa3072, 342, 318),
            (AsymmetricSpec::Rsa4096, 470, 446),
        ];
        for (spec, sha1, sha256) in expected {
            assert_eq!(max_rsa_plaintext(spec, OaepSha1), sha1, "{spec}");
            assert_eq!(max_rsa_plaintext(spec, OaepSha256), sha256, "{spec}");
        }
        assert_eq!(max_rsa_plaintext(AsymmetricSpec::EccNistP256, OaepSha256), 0);
    }

    #[test]
    fn generated_keys_are_pkcs8_and_spki_der_of_the_spec() {
        for spec in SPECS {
            let keys = pair(spec);
            // DER SEQUENCE tags; the public key derived from the private one is the one returned.
            assert_eq!(keys.private_pkcs8_der[0], 0x30);
            assert_eq!(keys.public_spki_der[0], 0x30);
            assert_eq!(public_key_of(spec, &keys.private_pkcs8_der).unwrap(), keys.public_spki_der, "{spec}");
        }
        let rsa = RsaPublicKey::from_public_key_der(&pair(AsymmetricSpec::Rsa3072).public_spki_der).unwrap();
        assert_eq!(rsa.size(), 384);
        assert!(p384::PublicKey::from_public_key_der(&pair(AsymmetricSpec::EccNistP384).public_spki_der).is_ok());
        assert!(k256::SecretKey::from_pkcs8_der(&pair(AsymmetricSpec::EccSecgP256k1).private_pkcs8_der).is_ok());
        // Each call makes a new key.
        let a = generate_key_pair(AsymmetricSpec::EccNistP256).unwrap();
        let b = generate_key_pair(AsymmetricSpec::EccNistP256).unwrap();
        assert_ne!(a.private_pkcs8_der, b.private_pkcs8_der);
    }

    #[test]
    fn key_pair_debug_hides_the_private_key() {
        let keys = pair(AsymmetricSpec::EccNistP256);
        let text = format!("{keys:?}");
        assert!(text.contains("<redacted>"));
        assert!(!text.contains(&format!("{:?}", keys.private_pkcs8_der)));
    }

    #[test]
    fn every_spec_and_algorithm_signs_and_verifies_raw_and_digest_messages() {
        let message = b"the quick brown fox jumps over the lazy dog";
        for spec in SPECS {
            let keys = pair(spec);
            for &algorithm in spec.signing_algorithms() {
                let raw = sign(spec, &keys.private_pkcs8_der, algorithm, MessageType::Raw, message).unwrap();
                let digest = algorithm.hash().digest(message);
                let from_digest = sign(spec, &keys.private_pkcs8_der, algorithm, MessageType::Digest, &digest).unwrap();
                // A RAW signature verifies as DIGEST of the same message and the other way round.
                for signature in [&raw, &from_digest] {
                    let check = |message_type, text: &[u8]| {
                        verify(spec, &keys.public_spki_der, algorithm, message_type, text, signature).unwrap()
                    };
                    assert!(check(MessageType::Raw, message), "{spec} {algorithm} RAW");
                    assert!(check(MessageType::Digest, &digest), "{spec} {algorithm} DIGEST");
                    assert!(!check(MessageType::Raw, b"another message"), "{spec} {algorithm} other message");
                }
            }
        }
    }

    #[test]
    fn rsa_signatures_are_modulus_sized_and_verify_with_rsa_crate_verifiers() {
        let spec = AsymmetricSpec::Rsa2048;
        let keys = pair(spec);
        let public = RsaPublicKey::from_public_key_der(&keys.public_spki_der).unwrap();
        let message = b"interoperable";
        let signed = |algorithm| sign(spec, &keys.private_pkcs8_der, algorithm, MessageType::Raw, message).unwrap();

        // The rsa crate's typed verifiers hash the message themselves, and PSS ones expect a salt
        // as long as the digest: the salt length AWS uses.
        let pss = rsa::pss::Signature::try_from(signed(SigningAlgorithm::RsassaPssSha256).as_slice()).unwrap();
        assert!(rsa::pss::VerifyingKey::<Sha256>::new(public.clone()).verify(message, &pss).is_ok());
        let pss = rsa::pss::Signature::try_from(signed(SigningAlgorithm::RsassaPssSha512).as_slice()).unwrap();
        assert!(rsa::pss::VerifyingKey::<Sha512>::new(public.clone()).verify(message, &pss).is_ok());
        let pkcs1 = signed(SigningAlgorithm::RsassaPkcs1V15Sha384);
        assert_eq!(pkcs1.len(), 256);
        let pkcs1 = rsa::pkcs1v15::Signature::try_from(pkcs1.as_slice()).unwrap();
        assert!(rsa::pkcs1v15::VerifyingKey::<Sha384>::new(public).verify(message, &pkcs1).is_ok());
    }

    #[test]
    fn rsa_pkcs1_v1_5_signatures_are_deterministic_and_pss_ones_are_salted() {
        let spec = AsymmetricSpec::Rsa2048;
        let keys = pair(spec);
        let signed = |algorithm| sign(spec, &keys.private_pkcs8_der, algorithm, MessageType::Raw, b"m").unwrap();
        assert_eq!(signed(SigningAlgorithm::RsassaPkcs1V15Sha256), signed(SigningAlgorithm::RsassaPkcs1V15Sha256));
        assert_ne!(signed(SigningAlgorithm::RsassaPssSha256), signed(SigningAlgorithm::RsassaPssSha256));
    }

    #[test]
    fn ecdsa_p256_signatures_are_der_and_verify_with_the_curve_crate_verifier() {
        let keys = pair(AsymmetricSpec::EccNistP256);
        let message = b"hello ecdsa";
        let der = sign(
            AsymmetricSpec::EccNistP256,
            &keys.private_pkcs8_der,
            SigningAlgorithm::EcdsaSha256,
            MessageType::Raw,
            message,
        )
        .unwrap();
        // SEQUENCE, its length covering the rest, two INTEGERs.
        assert_eq!(der[0], 0x30);
        assert_eq!(usize::from(der[1]), der.len() - 2);
        assert_eq!(der[2], 0x02);
        let signature = p256::ecdsa::Signature::from_der(&der).unwrap();
        let key = p256::ecdsa::VerifyingKey::from_public_key_der(&keys.public_spki_der).unwrap();
        assert!(key.verify(message, &signature).is_ok());
    }

    #[test]
    fn ecdsa_signatures_of_every_curve_verify_with_the_curve_crate_verifier() {
        let message = b"cross-checked";
        let signed =
            |spec, algorithm| sign(spec, &pair(spec).private_pkcs8_der, algorithm, MessageType::Raw, message).unwrap();

        let der = signed(AsymmetricSpec::EccNistP384, SigningAlgorithm::EcdsaSha384);
        let key =
            p384::ecdsa::VerifyingKey::from_public_key_der(&pair(AsymmetricSpec::EccNistP384).public_spki_der).unwrap();
        assert!(key.verify(message, &p384::ecdsa::Signature::from_der(&der).unwrap()).is_ok());

        let der = signed(AsymmetricSpec::EccNistP521, SigningAlgorithm::EcdsaSha512);
        let public = p521::PublicKey::from_public_key_der(&pair(AsymmetricSpec::EccNistP521).public_spki_der).unwrap();
        let key = p521::ecdsa::VerifyingKey::from_affine(*public.as_affine()).unwrap();
        assert!(key.verify(message, &p521::ecdsa::Signature::from_der(&der).unwrap()).is_ok());

        let der = signed(AsymmetricSpec::EccSecgP256k1, SigningAlgorithm::EcdsaSha256);
        let key = k256::ecdsa::VerifyingKey::from_public_key_der(&pair(AsymmetricSpec::EccSecgP256k1).public_spki_der)
            .unwrap();
        assert!(key.verify(message, &k256::ecdsa::Signature::from_der(&der).unwrap()).is_ok());
    }

    #[test]
    fn secp256k1_verify_accepts_high_s_signatures_as_kms_does() {
        let spec = AsymmetricSpec::EccSecgP256k1;
        let keys = pair(spec);
        let der = sign(spec, &keys.private_pkcs8_der, SigningAlgorithm::EcdsaSha256, MessageType::Raw, b"m").unwrap();
        let low = k256::ecdsa::Signature::from_der(&der).unwrap();
        let (r, s) = low.split_scalars();
        let high = k256::ecdsa::Signature::from_scalars(r, -s).unwrap();
        assert_ne!(high, low);
        assert_eq!(high.normalize_s(), Some(low));
        let high_der = high.to_der().as_bytes().to_vec();
        assert!(verify(spec, &keys.public_spki_der, SigningAlgorithm::EcdsaSha256, MessageType::Raw, b"m", &high_der)
            .unwrap());
    }

    #[test]
    fn wrong_or_garbled_signatures_verify_false_and_never_error() {
        let message = b"signed";
        for spec in SPECS {
            let keys = pair(spec);
            let algorithm = spec.signing_algorithms()[0];
            let good = sign(spec, &keys.private_pkcs8_der, algorithm, MessageType::Raw, message).unwrap();
            let mut flipped = good.clone();
            let last = flipped.len() - 1;
            flipped[last] ^= 0x01;
            let mut truncated = good.clone();
            truncated.pop();
            let other_key = generate_key_pair(AsymmetricSpec::EccNistP256).unwrap();
            let foreign = sign(
                AsymmetricSpec::EccNistP256,
                &other_key.private_pkcs8_der,
                SigningAlgorithm::EcdsaSha256,
                MessageType::Raw,
                message,
            )
            .unwrap();
            for bad in [flipped, truncated, foreign, Vec::new(), vec![0x30, 0x00], vec![0xff; 600]] {
                let result = verify(spec, &keys.public_spki_der, algorithm, MessageType::Raw, message, &bad);
                assert_eq!(result, Ok(false), "{spec} {bad:02x?}");
            }
            assert_eq!(verify(spec, &keys.public_spki_der, algorithm, MessageType::Raw, message, &good), Ok(true));
        }
    }

    #[test]
    fn a_signature_under_another_rsa_algorithm_does_not_verify() {
        let spec = AsymmetricSpec::Rsa2048;
        let keys = pair(spec);
        let signature =
            sign(spec, &keys.private_pkcs8_der, SigningAlgorithm::RsassaPssSha256, MessageType::Raw, b"m").unwrap();
        for algorithm in [SigningAlgorithm::RsassaPkcs1V15Sha256, SigningAlgorithm::RsassaPssSha384] {
            assert_eq!(verify(spec, &keys.public_spki_der, algorithm, MessageType::Raw, b"m", &signature), Ok(false));
        }
    }

    #[test]
    fn a_digest_of_the_wrong_length_is_rejected() {
        let spec = AsymmetricSpec::EccNistP384;
        let keys = pair(spec);
        let short = [7u8; 32];
        let expected =
            CryptoError::InvalidDigestLength { algorithm: SigningAlgorithm::EcdsaSha384, expected: 48, actual: 32 };
        let signed = sign(spec, &keys.private_pkcs8_der, SigningAlgorithm::EcdsaSha384, MessageType::Digest, &short);
        assert_eq!(signed, Err(expected.clone()));
        let verified =
            verify(spec, &keys.public_spki_der, SigningAlgorithm::EcdsaSha384, MessageType::Digest, &short, b"sig");
        assert_eq!(verified, Err(expected));

        let rsa = pair(AsymmetricSpec::Rsa2048);
        let result = sign(
            AsymmetricSpec::Rsa2048,
            &rsa.private_pkcs8_der,
            SigningAlgorithm::RsassaPssSha512,
            MessageType::Digest,
            &[0u8; 65],
        );
        assert!(matches!(result, Err(CryptoError::InvalidDigestLength { expected: 64, actual: 65, .. })));
        let result = sign(
            AsymmetricSpec::Rsa2048,
            &rsa.private_pkcs8_der,
            SigningAlgorithm::RsassaPssSha256,
            MessageType::Digest,
            &[],
        );
        assert!(matches!(result, Err(CryptoError::InvalidDigestLength { expected: 32, actual: 0, .. })));
    }

    #[test]
    fn an_algorithm_of_another_spec_is_rejected() {
        let p256 = pair(AsymmetricSpec::EccNistP256);
        let result = sign(
            AsymmetricSpec::EccNistP256,
            &p256.private_pkcs8_der,
            SigningAlgorithm::EcdsaSha384,
            MessageType::Raw,
            b"m",
        );
        assert_eq!(
            result,
            Err(CryptoError::AlgorithmNotValidForSpec {
                spec: AsymmetricSpec::EccNistP256,
                algorithm: "ECDSA_SHA_384"
            })
        );
        let result = verify(
            AsymmetricSpec::EccNistP256,
            &p256.public_spki_der,
            SigningAlgorithm::RsassaPssSha256,
            MessageType::Raw,
            b"m",
            b"",
        );
        assert!(matches!(result, Err(CryptoError::AlgorithmNotValidForSpec { .. })));
        let rsa = pair(AsymmetricSpec::Rsa2048);
        let result = sign(
            AsymmetricSpec::Rsa2048,
            &rsa.private_pkcs8_der,
            SigningAlgorithm::EcdsaSha256,
            MessageType::Raw,
            b"m",
        );
        assert!(matches!(result, Err(CryptoError::AlgorithmNotValidForSpec { .. })));
        // ECC keys do not encrypt.
        let result =
            rsa_encrypt(AsymmetricSpec::EccNistP256, &p256.public_spki_der, RsaEncryptionAlgorithm::OaepSha256, b"x");
        assert_eq!(
            result,
            Err(CryptoError::AlgorithmNotValidForSpec {
                spec: AsymmetricSpec::EccNistP256,
                algorithm: "RSAES_OAEP_SHA_256"
            })
        );
        let result =
            rsa_decrypt(AsymmetricSpec::EccNistP256, &p256.private_pkcs8_der, RsaEncryptionAlgorithm::OaepSha1, b"x");
        assert!(matches!(result, Err(CryptoError::AlgorithmNotValidForSpec { .. })));
    }

    #[test]
    fn key_material_of_another_spec_or_garbage_is_malformed() {
        let p256 = pair(AsymmetricSpec::EccNistP256);
        let rsa2048 = pair(AsymmetricSpec::Rsa2048);
        let malformed =
            |result: Result<Vec<u8>, CryptoError>| matches!(result, Err(CryptoError::MalformedKeyMaterial(_)));
        let sign_with = |spec, der: &[u8], algorithm| sign(spec, der, algorithm, MessageType::Raw, b"m");
        assert!(malformed(sign_with(
            AsymmetricSpec::EccNistP384,
            &p256.private_pkcs8_der,
            SigningAlgorithm::EcdsaSha384
        )));
        assert!(malformed(sign_with(
            AsymmetricSpec::EccSecgP256k1,
            &p256.private_pkcs8_der,
            SigningAlgorithm::EcdsaSha256
        )));
        assert!(malformed(sign_with(
            AsymmetricSpec::Rsa3072,
            &rsa2048.private_pkcs8_der,
            SigningAlgorithm::RsassaPssSha256
        )));
        assert!(malformed(sign_with(
            AsymmetricSpec::Rsa2048,
            &p256.private_pkcs8_der,
            SigningAlgorithm::RsassaPssSha256
        )));
        assert!(malformed(sign_with(
            AsymmetricSpec::EccNistP521,
            b"\x30\x03\x02\x01\x00",
            SigningAlgorithm::EcdsaSha512
        )));
        assert!(malformed(sign_with(AsymmetricSpec::EccNistP256, b"", SigningAlgorithm::EcdsaSha256)));
        let result = verify(
            AsymmetricSpec::EccNistP256,
            &rsa2048.public_spki_der,
            SigningAlgorithm::EcdsaSha256,
            MessageType::Raw,
            b"m",
            b"",
        );
        assert!(matches!(result, Err(CryptoError::MalformedKeyMaterial(_))));
        let result =
            rsa_encrypt(AsymmetricSpec::Rsa4096, &rsa2048.public_spki_der, RsaEncryptionAlgorithm::OaepSha1, b"x");
        assert!(malformed(result));
        assert!(malformed(public_key_of(AsymmetricSpec::EccNistP521, &p256.private_pkcs8_der)));
        // A public key where a private one belongs.
        assert!(malformed(rsa_decrypt(
            AsymmetricSpec::Rsa2048,
            &rsa2048.public_spki_der,
            RsaEncryptionAlgorithm::OaepSha1,
            &[0; 256]
        )));
    }

    #[test]
    fn rsa_oaep_round_trips_up_to_the_aws_limit_with_both_hashes() {
        for spec in [AsymmetricSpec::Rsa2048, AsymmetricSpec::Rsa3072] {
            let keys = pair(spec);
            for &algorithm in spec.encryption_algorithms() {
                let max = max_rsa_plaintext(spec, algorithm);
                for plaintext in [vec![], b"secret".to_vec(), vec![0xa5; max]] {
                    let ciphertext = rsa_encrypt(spec, &keys.public_spki_der, algorithm, &plaintext).unwrap();
                    assert_eq!(ciphertext.len(), spec.rsa_bits().unwrap() / 8);
                    let decrypted = rsa_decrypt(spec, &keys.private_pkcs8_der, algorithm, &ciphertext).unwrap();
                    assert_eq!(decrypted, plaintext, "{spec} {algorithm} {}", plaintext.len());
                }
                let result = rsa_encrypt(spec, &keys.public_spki_der, algorithm, &vec![0; max + 1]);
                assert_eq!(result, Err(CryptoError::PlaintextTooLarge { max, actual: max + 1 }));
            }
        }
    }

    #[test]
    fn rsa_oaep_ciphertexts_are_randomised_and_decrypt_with_the_rsa_crate() {
        let spec = AsymmetricSpec::Rsa2048;
        let keys = pair(spec);
        let a = rsa_encrypt(spec, &keys.public_spki_der, RsaEncryptionAlgorithm::OaepSha256, b"same").unwrap();
        let b = rsa_encrypt(spec, &keys.public_spki_der, RsaEncryptionAlgorithm::OaepSha256, b"same").unwrap();
        assert_ne!(a, b);
        let private = RsaPrivateKey::from_pkcs8_der(&keys.private_pkcs8_der).unwrap();
        assert_eq!(private.decrypt(Oaep::new::<Sha256>(), &a).unwrap(), b"same");
        // And the other way: a ciphertext the rsa crate made with OAEP SHA-1 decrypts here.
        let public = RsaPublicKey::from_public_key_der(&keys.public_spki_der).unwrap();
        let theirs = public.encrypt(&mut OsRng, Oaep::new::<sha1::Sha1>(), b"from outside").unwrap();
        assert_eq!(
            rsa_decrypt(spec, &keys.private_pkcs8_der, RsaEncryptionAlgorithm::OaepSha1, &theirs).unwrap(),
            b"from outside"
        );
    }

    #[test]
    fn tampered_or_mismatched_rsa_ciphertext_is_invalid_ciphertext() {
        let spec = AsymmetricSpec::Rsa2048;
        let keys = pair(spec);
        let algorithm = RsaEncryptionAlgorithm::OaepSha256;
        let ciphertext = rsa_encrypt(spec, &keys.public_spki_der, algorithm, b"secret").unwrap();
        let decrypt = |algorithm, bytes: &[u8]| rsa_decrypt(spec, &keys.private_pkcs8_der, algorithm, bytes);

        let mut tampered = ciphertext.clone();
        tampered[100] ^= 0x04;
        assert_eq!(decrypt(algorithm, &tampered), Err(CryptoError::InvalidCiphertext));
        assert_eq!(decrypt(algorithm, &ciphertext[1..]), Err(CryptoError::InvalidCiphertext));
        assert_eq!(decrypt(algorithm, &[ciphertext.as_slice(), &[0]].concat()), Err(CryptoError::InvalidCiphertext));
        assert_eq!(decrypt(algorithm, &[]), Err(CryptoError::InvalidCiphertext));
        assert_eq!(decrypt(algorithm, &[0xff; 256]), Err(CryptoError::InvalidCiphertext));
        // Made with SHA-256, read with SHA-1.
        assert_eq!(decrypt(RsaEncryptionAlgorithm::OaepSha1, &ciphertext), Err(CryptoError::InvalidCiphertext));
        // Made under another key (of the same size).
        let other = pair(AsymmetricSpec::Rsa3072);
        let foreign = rsa_encrypt(AsymmetricSpec::Rsa3072, &other.public_spki_der, algorithm, b"secret").unwrap();
        assert_eq!(decrypt(algorithm, &foreign[..256]), Err(CryptoError::InvalidCiphertext));
        assert_eq!(decrypt(algorithm, &ciphertext).unwrap(), b"secret");
    }

    // The only RSA_4096 generation of the suite: it is slow in the test profile.
    #[test]
    fn rsa_4096_keys_sign_verify_and_encrypt_up_to_470_bytes() {
        let spec = AsymmetricSpec::Rsa4096;
        let started = std::time::Instant::now();
        let keys = generate_key_pair(spec).unwrap();
        eprintln!("RSA_4096 generation took {:?}", started.elapsed());
        assert_eq!(RsaPublicKey::from_public_key_der(&keys.public_spki_der).unwrap().size(), 512);

        let algorithm = SigningAlgorithm::RsassaPssSha384;
        let signature = sign(spec, &keys.private_pkcs8_der, algorithm, MessageType::Raw, b"big").unwrap();
        assert_eq!(signature.len(), 512);
        assert_eq!(verify(spec, &keys.public_spki_der, algorithm, MessageType::Raw, b"big", &signature), Ok(true));

        let plaintext = vec![1u8; 470];
        let ciphertext =
            rsa_encrypt(spec, &keys.public_spki_der, RsaEncryptionAlgorithm::OaepSha1, &plaintext).unwrap();
        assert_eq!(
            rsa_decrypt(spec, &keys.private_pkcs8_der, RsaEncryptionAlgorithm::OaepSha1, &ciphertext).unwrap(),
            plaintext
        );
        let result = rsa_encrypt(spec, &keys.public_spki_der, RsaEncryptionAlgorithm::OaepSha256, &plaintext);
        assert_eq!(result, Err(CryptoError::PlaintextTooLarge { max: 446, actual: 470 }));
    }
}
