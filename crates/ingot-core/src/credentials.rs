//! Access keys as stored: the record the gateway looks up to authenticate a request, and the
//! sealing of its secret (secrets are never stored in plain text).

use crate::crypto::{OpenError, SecretBox};
use crate::identity::Principal;
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
}

impl ingot_store::Record for AccessKeyRecord {
    const KIND: &'static str = "iam.access-key";
    const SCHEMA_VERSION: u32 = 1;
}

/// Store key of an access key: access keys are global, looked up by id from any account.
pub fn access_key_storage_key(access_key_id: &str) -> String {
    format!("global/iam/access-keys/{access_key_id}")
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
