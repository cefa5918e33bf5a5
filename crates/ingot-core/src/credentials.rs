//! Access keys as stored: the record the gateway looks up to authenticate a request, and the
//! sealing of its secret (secrets are never stored in plain text).

use crate::crypto::{OpenError, SecretBox};
use crate::identity::{AccountId, Principal};
use crate::time::Timestamp;
use crate::IdGen;
use base64::Engine;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessKeyRecord {
    pub access_key_id: String,
    pub principal: Principal,
    /// The secret access key sealed under the master key, bound to the access key id.
    pub sealed_secret: String,
    pub active: bool,
    pub created: Timestamp,
    /// Temporary credentials only: the SHA-256 (hex) of the session token a request must carry
    /// with this key id. The token itself is the caller's to keep, like the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token_sha256: Option<String>,
}

impl ingot_store::Record for AccessKeyRecord {
    const KIND: &'static str = "iam.access-key";
    const SCHEMA_VERSION: u32 = 1;
}

/// Store key of an access key: access keys are global, looked up by id from any account.
pub fn access_key_storage_key(access_key_id: &str) -> String {
    crate::scope::global_key("iam", &["access-keys/", access_key_id].concat())
}

/// A new access key id of `account`: `prefix` (`AKIA` long-term, `ASIA` temporary) and 16
/// base32 characters of ten bytes whose first six carry the account id in bits 7–46, as AWS lays
/// out its key ids, so that [`account_of_access_key_id`] (STS GetAccessKeyInfo) finds it in the id
/// alone; the other bits are random.
pub fn new_access_key_id(ids: &IdGen, prefix: &str, account: &AccountId) -> String {
    let mut bytes = ids.bytes(10);
    let number: u64 = account.as_str().parse().unwrap_or(0);
    let random = u64::from_be_bytes([0, 0, bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5]]);
    let packed = (random & !ACCOUNT_BITS) | ((number << 7) & ACCOUNT_BITS);
    bytes[..6].copy_from_slice(&packed.to_be_bytes()[2..]);
    [prefix, &data_encoding::BASE32_NOPAD.encode(&bytes)].concat()
}

/// Bits 7–46 of the first six bytes of an access key id's tail.
const ACCOUNT_BITS: u64 = 0x7fff_ffff_ff80;

/// The account an access key id names in its own bits (see [`new_access_key_id`]); `None` for an
/// id that is not four letters and 16 base32 characters.
pub fn account_of_access_key_id(access_key_id: &str) -> Option<AccountId> {
    let tail = access_key_id.get(4..).filter(|t| t.len() == 16)?;
    let bytes = data_encoding::BASE32_NOPAD.decode(tail.as_bytes()).ok()?;
    let first = u64::from_be_bytes([0, 0, bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5]]);
    AccountId::parse(&format!("{:012}", (first & ACCOUNT_BITS) >> 7))
}

impl AccessKeyRecord {
    pub fn new(
        access_key_id: String,
        secret: &str,
        principal: Principal,
        secrets: &SecretBox,
        ids: &IdGen,
        now: Timestamp,
    ) -> Self {
        let sealed = secrets.seal(ids, secret.as_bytes(), access_key_id.as_bytes());
        AccessKeyRecord {
            sealed_secret: base64::engine::general_purpose::STANDARD.encode(sealed),
            access_key_id,
            principal,
            active: true,
            created: now,
            session_token_sha256: None,
        }
    }

    /// The expiry of temporary credentials; `None` for long-term keys.
    pub fn expires(&self) -> Option<Timestamp> {
        self.principal.session.as_ref().map(|s| s.expires)
    }

    /// Whether `token` is this key's session token (compared in constant time).
    pub fn session_token_matches(&self, token: &str) -> bool {
        match &self.session_token_sha256 {
            Some(expected) => {
                let actual = crate::crypto::sha256_hex(token.as_bytes());
                subtle::ConstantTimeEq::ct_eq(actual.as_bytes(), expected.as_bytes()).into()
            }
            None => false,
        }
    }

    pub fn open_secret(&self, secrets: &SecretBox) -> Result<String, OpenError> {
        let sealed =
            base64::engine::general_purpose::STANDARD.decode(self.sealed_secret.as_bytes()).map_err(|_| OpenError)?;
        let plain = secrets.open(&sealed, self.access_key_id.as_bytes())?;
        String::from_utf8(plain).map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_key_id_carries_its_account_in_its_own_bits() {
        let ids = IdGen::seeded(4);
        for account in ["000000000000", "123456789012", "999999999999"] {
            let account = AccountId::parse(account).unwrap();
            let id = new_access_key_id(&ids, "AKIA", &account);
            assert_eq!(id.len(), 20);
            assert!(
                id.starts_with("AKIA") && id[4..].bytes().all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c))
            );
            assert_eq!(account_of_access_key_id(&id), Some(account));
        }
    }

    #[test]
    fn an_aws_access_key_id_names_the_account_aws_reports() {
        // A key id AWS issued, in the account 609629065308.
        assert_eq!(account_of_access_key_id("ASIAY34FZKBOKMUTVV7A").unwrap().as_str(), "609629065308");
        assert_eq!(account_of_access_key_id("AKIA1"), None);
        assert_eq!(account_of_access_key_id("AKIA0000000000000000"), None);
    }
    use crate::identity::AccountId;

    #[test]
    fn the_stored_record_does_not_contain_the_secret() {
        let ids = IdGen::seeded(4);
        let secrets = SecretBox::new(&[1u8; 32]);
        let principal = Principal::root(AccountId::parse("123456789012").unwrap());
        let rec = AccessKeyRecord::new("AKIAEXAMPLE".into(), "s3cr3t-value", principal, &secrets, &ids, Timestamp(0));
        let stored = String::from_utf8(ingot_store::encode_record(&rec)).unwrap();
        assert!(!stored.contains("s3cr3t-value"));
        assert_eq!(rec.open_secret(&secrets).unwrap(), "s3cr3t-value");
    }
}
