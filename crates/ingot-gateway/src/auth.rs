//! Authentication: from a SigV4-signed request to the principal it speaks for.

use crate::Gateway;
use ingot_core::credentials::{access_key_storage_key, AccessKeyRecord};
use ingot_core::{AccountId, CommonError, CommonKind, Principal, Region, Timestamp};
use ingot_sigv4::{AuthError, ParsedSignature, RequestParts};
use std::collections::HashMap;
use std::sync::Mutex;

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
    entries: Mutex<HashMap<String, (Principal, String, Timestamp)>>,
}

const CACHE_TTL_MS: i64 = 5_000;
const CACHE_MAX: usize = 10_000;

impl CredentialCache {
    fn get(&self, access_key_id: &str, now: Timestamp) -> Option<(Principal, String)> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (principal, secret, at) = entries.get(access_key_id)?;
        (now.millis() - at.millis() < CACHE_TTL_MS).then(|| (principal.clone(), secret.clone()))
    }

    fn put(&self, access_key_id: &str, principal: Principal, secret: String, now: Timestamp) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CACHE_MAX {
            entries.clear();
        }
        entries.insert(access_key_id.to_string(), (principal, secret, now));
    }

    pub(crate) fn clear(&self) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// The outcome of authentication: who, and in which region.
pub(crate) struct Authenticated {
    pub principal: Principal,
    pub region: Region,
    pub access_key_id: String,
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
    pub(crate) async fn authenticate(
        &self,
        parts: &RequestParts<'_>,
        signature: Result<ParsedSignature, AuthError>,
    ) -> Result<Authenticated, CommonError> {
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
                let (principal, secret) = self.credentials_for(&sig.access_key_id, wall_now).await?;
                ingot_sigv4::verify(parts, &sig, &secret, wall_now.seconds(), &self.signing_keys)
                    .map_err(auth_error)?;
                principal
            }
        };
        Ok(Authenticated { principal, region, access_key_id: sig.access_key_id })
    }

    async fn credentials_for(&self, access_key_id: &str, now: Timestamp) -> Result<(Principal, String), CommonError> {
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
        self.credentials.put(access_key_id, record.principal.clone(), secret.clone(), now);
        Ok((record.principal, secret))
    }
}
