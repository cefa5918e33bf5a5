//! Authentication: from a SigV4-signed request to the principal it speaks for.

use crate::Gateway;
use ingot_core::credentials::{access_key_storage_key, AccessKeyRecord};
use ingot_core::{AccountId, CommonError, CommonKind, Principal, Region, Timestamp};
use ingot_sigv4::{AuthError, ParsedSignature, RequestParts};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How requests are authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// Signatures are verified against stored keys.
    Strict,
    /// Any well-formed signed request is the root of the account named by a 12-digit access key
    /// id, else of `default_account`. Authorization still runs.
    Open { default_account: AccountId },
}

/// Opened secrets kept in memory for a short while, so the hot path does not read and decrypt
/// the key record on every request. Entries expire so that a deleted or deactivated key stops
/// working promptly.
#[derive(Default)]
pub(crate) struct CredentialCache {
    entries: Mutex<HashMap<String, Arc<OpenKey>>>,
}

/// An access key whose record was read and whose secret was opened.
pub(crate) struct OpenKey {
    pub principal: Principal,
    secret: String,
    opened_at: Timestamp,
    /// Signing keys derived from the secret, by credential scope (date, region, service); a
    /// client signs for a handful of scopes at a time, so a short list, oldest dropped first.
    signing_keys: Mutex<Vec<ScopedSigningKey>>,
}

/// A signing key with the credential scope it was derived for.
struct ScopedSigningKey {
    date: String,
    region: String,
    service: String,
    key: [u8; 32],
}

const CACHE_TTL_MS: i64 = 5_000;
const CACHE_MAX: usize = 10_000;
const SIGNING_KEYS_PER_ACCESS_KEY: usize = 8;

impl OpenKey {
    /// The signing key for a credential scope, derived on first use.
    fn signing_key(&self, date: &str, region: &str, service: &str) -> [u8; 32] {
        let mut keys = self.signing_keys.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(scoped) = keys.iter().find(|k| k.date == date && k.region == region && k.service == service) {
            return scoped.key;
        }
        let key = ingot_sigv4::signing_key(&self.secret, date, region, service);
        if keys.len() >= SIGNING_KEYS_PER_ACCESS_KEY {
            keys.remove(0);
        }
        keys.push(ScopedSigningKey {
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
            key,
        });
        key
    }
}

impl CredentialCache {
    fn get(&self, access_key_id: &str, now: Timestamp) -> Option<Arc<OpenKey>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let key = entries.get(access_key_id)?;
        (now.millis() - key.opened_at.millis() < CACHE_TTL_MS).then(|| key.clone())
    }

    fn put(&self, access_key_id: &str, key: Arc<OpenKey>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CACHE_MAX {
            entries.clear();
        }
        entries.insert(access_key_id.to_string(), key);
    }

    pub(crate) fn clear(&self) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// The outcome of authentication: who, and in which region.
pub(crate) struct Authenticated<'a> {
    pub principal: Principal,
    pub region: Region,
    pub access_key_id: std::borrow::Cow<'a, str>,
}

pub(crate) fn auth_error(e: AuthError) -> CommonError {
    match e {
        AuthError::Missing => {
            CommonError::new(CommonKind::MissingAuthentication, "Request is missing Authentication Token")
        }
        AuthError::Incomplete(m) | AuthError::UnsupportedAlgorithm(m) => {
            CommonError::new(CommonKind::IncompleteSignature, m)
        }
        AuthError::SignatureMismatch { message, .. } => CommonError::new(CommonKind::SignatureDoesNotMatch, message),
        AuthError::Expired(m) | AuthError::NotYetValid(m) => CommonError::new(CommonKind::RequestExpired, m),
    }
}

fn invalid_token() -> CommonError {
    CommonError::new(CommonKind::InvalidClientTokenId, "The security token included in the request is invalid.")
}

impl Gateway {
    pub(crate) async fn authenticate<'a>(
        &self,
        parts: &RequestParts<'_>,
        signature: Result<ParsedSignature<'a>, AuthError>,
    ) -> Result<Authenticated<'a>, CommonError> {
        // Clients sign with real time; clock control moves only Ingot's own clock.
        let wall_now = self.clock.wall_now();
        let sig = signature.map_err(auth_error)?;
        let region = Region::parse(&sig.region).ok_or_else(|| {
            CommonError::new(
                CommonKind::IncompleteSignature,
                format!("Credential should be scoped to a valid region, not '{}'. ", sig.region),
            )
        })?;
        let principal = match &self.config.auth_mode {
            crate::AuthMode::Open { default_account } => {
                let account = AccountId::parse(&sig.access_key_id).unwrap_or_else(|| default_account.clone());
                Principal::root(account)
            }
            crate::AuthMode::Strict => {
                let key = self.credentials_for(&sig.access_key_id, wall_now).await?;
                let signing_key = key.signing_key(&sig.date, &sig.region, &sig.service);
                ingot_sigv4::verify_with_key(parts, &sig, &signing_key, wall_now.seconds()).map_err(auth_error)?;
                key.principal.clone()
            }
        };
        Ok(Authenticated { principal, region, access_key_id: sig.access_key_id })
    }

    async fn credentials_for(&self, access_key_id: &str, now: Timestamp) -> Result<Arc<OpenKey>, CommonError> {
        if let Some(hit) = self.credentials.get(access_key_id, now) {
            return Ok(hit);
        }
        let item = self.store.get(&access_key_storage_key(access_key_id)).await.map_err(CommonError::internal)?;
        let Some(item) = item else {
            return Err(invalid_token());
        };
        let record: AccessKeyRecord = ingot_store::decode_record(&item.value).map_err(CommonError::internal)?;
        if !record.active {
            return Err(invalid_token());
        }
        let secret = record.open_secret(&self.secrets).map_err(|_| {
            CommonError::internal(format!("access key {access_key_id} does not open under the master key"))
        })?;
        let key = Arc::new(OpenKey {
            principal: record.principal,
            secret,
            opened_at: now,
            signing_keys: Mutex::new(Vec::new()),
        });
        self.credentials.put(access_key_id, key.clone());
        Ok(key)
    }
}
