//! KMS HMAC keys: `GenerateMac` and `VerifyMac` (RFC 2104 HMAC over SHA-2).
//!
//! Pure functions over the raw key bytes; storing and sealing the key, its usage
//! (`GENERATE_VERIFY_MAC`) and state are the caller's. Each HMAC key spec has exactly one MAC
//! algorithm ([`HmacSpec::algorithm`]); checking that a request's algorithm is the key's is the
//! caller's too (AWS answers `InvalidKeyUsageException`).

use crate::asymmetric::aws_names;
use hmac::{Hmac, Mac};
use sha2::{Sha224, Sha256, Sha384, Sha512};

aws_names! {
    /// The HMAC key specs (AWS `KeySpec` `HMAC_*`).
    pub enum HmacSpec {
        /// A 224-bit key for HMAC-SHA-224.
        Hmac224 => "HMAC_224",
        /// A 256-bit key for HMAC-SHA-256.
        Hmac256 => "HMAC_256",
        /// A 384-bit key for HMAC-SHA-384.
        Hmac384 => "HMAC_384",
        /// A 512-bit key for HMAC-SHA-512.
        Hmac512 => "HMAC_512",
    }
}

aws_names! {
    /// AWS `MacAlgorithmSpec`.
    pub enum MacAlgorithm {
        /// HMAC with SHA-224: 28-byte MACs.
        HmacSha224 => "HMAC_SHA_224",
        /// HMAC with SHA-256: 32-byte MACs.
        HmacSha256 => "HMAC_SHA_256",
        /// HMAC with SHA-384: 48-byte MACs.
        HmacSha384 => "HMAC_SHA_384",
        /// HMAC with SHA-512: 64-byte MACs.
        HmacSha512 => "HMAC_SHA_512",
    }
}

impl HmacSpec {
    /// The length in bytes of the key material KMS generates for the spec (the spec's bits / 8).
    pub fn key_len(self) -> usize {
        match self {
            HmacSpec::Hmac224 => 28,
            HmacSpec::Hmac256 => 32,
            HmacSpec::Hmac384 => 48,
            HmacSpec::Hmac512 => 64,
        }
    }

    /// The one MAC algorithm a key of the spec supports (DescribeKey's `MacAlgorithms`).
    pub fn algorithm(self) -> MacAlgorithm {
        match self {
            HmacSpec::Hmac224 => MacAlgorithm::HmacSha224,
            HmacSpec::Hmac256 => MacAlgorithm::HmacSha256,
            HmacSpec::Hmac384 => MacAlgorithm::HmacSha384,
            HmacSpec::Hmac512 => MacAlgorithm::HmacSha512,
        }
    }
}

impl MacAlgorithm {
    /// The length in bytes of the MACs the algorithm produces (its hash's output).
    pub fn mac_len(self) -> usize {
        match self {
            MacAlgorithm::HmacSha224 => 28,
            MacAlgorithm::HmacSha256 => 32,
            MacAlgorithm::HmacSha384 => 48,
            MacAlgorithm::HmacSha512 => 64,
        }
    }
}

/// An HMAC instance keyed with `key`. HMAC takes keys of any length (longer than a block are
/// hashed, shorter are padded), so keying cannot fail whatever the bytes.
fn keyed<M: Mac + hmac::digest::KeyInit>(key: &[u8]) -> M {
    <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// The MAC of `message` under `key` with `algorithm` (KMS `GenerateMac`).
pub fn generate_mac(algorithm: MacAlgorithm, key: &[u8], message: &[u8]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
        let mut mac = keyed::<M>(key);
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }
    match algorithm {
        MacAlgorithm::HmacSha224 => run::<Hmac<Sha224>>(key, message),
        MacAlgorithm::HmacSha256 => run::<Hmac<Sha256>>(key, message),
        MacAlgorithm::HmacSha384 => run::<Hmac<Sha384>>(key, message),
        MacAlgorithm::HmacSha512 => run::<Hmac<Sha512>>(key, message),
    }
}

/// Whether `mac` is the MAC of `message` under `key` with `algorithm` (KMS `VerifyMac`). The
/// comparison takes the same time wherever the bytes differ, so a caller probing MACs learns
/// nothing from timing; a MAC of the wrong length is simply false.
pub fn verify_mac(algorithm: MacAlgorithm, key: &[u8], message: &[u8], mac: &[u8]) -> bool {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8], tag: &[u8]) -> bool {
        let mut mac = keyed::<M>(key);
        mac.update(message);
        // verify_slice compares in constant time (subtle) and refuses other lengths.
        mac.verify_slice(tag).is_ok()
    }
    match algorithm {
        MacAlgorithm::HmacSha224 => run::<Hmac<Sha224>>(key, message, mac),
        MacAlgorithm::HmacSha256 => run::<Hmac<Sha256>>(key, message, mac),
        MacAlgorithm::HmacSha384 => run::<Hmac<Sha384>>(key, message, mac),
        MacAlgorithm::HmacSha512 => run::<Hmac<Sha512>>(key, message, mac),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
    }

    /// RFC 4231 test cases 1, 2 and 6 (case 6: a 131-byte key, longer than the hash's block, so
    /// HMAC hashes it first): (key, data, [SHA-224, SHA-256, SHA-384, SHA-512]).
    fn rfc_4231_cases() -> Vec<(Vec<u8>, Vec<u8>, [&'static str; 4])> {
        vec![
            (
                vec![0x0b; 20],
                b"Hi There".to_vec(),
                [
                    "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22",
                    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                    "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c\
                     faea9ea9076ede7f4af152e8b2fa9cb6",
                    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde\
                     daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
                ],
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?".to_vec(),
                [
                    "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e\
                     8e2240ca5e69e2c78b3239ecfab21649",
                    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                     9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
                ],
            ),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                [
                    "95e9a0db962095adaebe9b2d6f0dbce2d499f112f2d2b7273fa6870e",
                    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
                    "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6\
                     0c2ef6ab4030fe8296248df163f44952",
                    "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352\
                     6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
                ],
            ),
        ]
    }

    #[test]
    fn generate_mac_matches_rfc_4231_vectors_for_every_algorithm() {
        for (key, data, expected) in rfc_4231_cases() {
            for (algorithm, mac) in MacAlgorithm::ALL.iter().zip(expected) {
                assert_eq!(generate_mac(*algorithm, &key, &data), hex(mac), "{algorithm} over {data:?}");
                assert!(verify_mac(*algorithm, &key, &data, &hex(mac)));
            }
        }
    }

    #[test]
    fn verify_mac_rejects_altered_truncated_or_foreign_macs() {
        let key = [7u8; 32];
        for algorithm in MacAlgorithm::ALL.iter().copied() {
            let mac = generate_mac(algorithm, &key, b"message");
            assert_eq!(mac.len(), algorithm.mac_len());
            assert!(verify_mac(algorithm, &key, b"message", &mac));
            let mut altered = mac.clone();
            altered[0] ^= 0x80;
            assert!(!verify_mac(algorithm, &key, b"message", &altered));
            assert!(!verify_mac(algorithm, &key, b"message", &mac[..mac.len() - 1]));
            assert!(!verify_mac(algorithm, &key, b"message", &[mac.as_slice(), &[0]].concat()));
            assert!(!verify_mac(algorithm, &key, b"message", &[]));
            assert!(!verify_mac(algorithm, &key, b"other message", &mac));
            assert!(!verify_mac(algorithm, &[8u8; 32], b"message", &mac));
        }
        // A MAC made with another algorithm does not verify, even cut to length.
        let sha512 = generate_mac(MacAlgorithm::HmacSha512, &key, b"message");
        assert!(!verify_mac(MacAlgorithm::HmacSha256, &key, b"message", &sha512[..32]));
    }

    #[test]
    fn any_key_length_is_accepted_including_empty() {
        for len in [0, 1, 28, 64, 65, 200] {
            let key = vec![0x5a; len];
            let mac = generate_mac(MacAlgorithm::HmacSha384, &key, b"");
            assert!(verify_mac(MacAlgorithm::HmacSha384, &key, b"", &mac));
        }
    }

    #[test]
    fn each_spec_has_its_key_length_and_one_algorithm() {
        let expected = [
            (HmacSpec::Hmac224, 28, MacAlgorithm::HmacSha224),
            (HmacSpec::Hmac256, 32, MacAlgorithm::HmacSha256),
            (HmacSpec::Hmac384, 48, MacAlgorithm::HmacSha384),
            (HmacSpec::Hmac512, 64, MacAlgorithm::HmacSha512),
        ];
        for (spec, key_len, algorithm) in expected {
            assert_eq!(spec.key_len(), key_len);
            assert_eq!(spec.algorithm(), algorithm);
            // Key and MAC are as long as the hash output.
            assert_eq!(algorithm.mac_len(), key_len);
        }
    }

    #[test]
    fn names_are_the_aws_ones() {
        assert_eq!(HmacSpec::Hmac224.as_str(), "HMAC_224");
        assert_eq!(HmacSpec::parse("HMAC_512"), Some(HmacSpec::Hmac512));
        assert_eq!(MacAlgorithm::HmacSha384.to_string(), "HMAC_SHA_384");
        assert_eq!(MacAlgorithm::parse("HMAC_SHA_256"), Some(MacAlgorithm::HmacSha256));
        assert_eq!(MacAlgorithm::parse("HMAC_SHA_1"), None);
        assert_eq!(serde_json::to_string(&HmacSpec::Hmac384).unwrap(), "\"HMAC_384\"");
        assert_eq!(serde_json::from_str::<MacAlgorithm>("\"HMAC_SHA_512\"").unwrap(), MacAlgorithm::HmacSha512);
        for spec in HmacSpec::ALL {
            assert_eq!(HmacSpec::parse(spec.as_str()), Some(*spec));
        }
    }
}
