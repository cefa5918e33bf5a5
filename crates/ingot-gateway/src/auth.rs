//! Authentication: from a SigV4-signed request to the principal it speaks for.

use crate::Gateway;
use ingot_core::credentials::{access_key_storage_key, AccessKeyRecord};
use ingot_core::{AccountId, CommonError, CommonKind, Principal, Region, Timestamp};
use ingot_sigv4::{AuthError, ParsedSignature, RequestParts, SigningKey};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
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
///
/// Each thread also keeps its own copy of the keys it used ([`LocalKey`], with the signing keys
/// derived there): with one shared map every request locked it and wrote the shared key's
/// reference count, and the two cores took turns at both. A copy is good while the shared
/// entry it came from would be (the same expiry) and until [`CredentialCache::clear`].
pub(crate) struct CredentialCache {
    /// Tells this cache's thread-local copies from another gateway's in the same process.
    id: u64,
    /// Moved by every `clear`; a thread-local copy taken before it is not used.
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Arc<OpenKey>>>,
}

impl Default for CredentialCache {
    fn default() -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        CredentialCache {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        }
    }
}

/// An access key whose record was read and whose secret was opened.
pub(crate) struct OpenKey {
    pub principal: Principal,
    secret: String,
    opened_at: Timestamp,
    /// Temporary credentials: the record, kept to check the session token and expiry.
    session: Option<AccessKeyRecord>,
}

impl OpenKey {
    /// Temporary credentials need their session token and expire on Ingot's clock; long-term
    /// keys must not come with a token.
    /// `verified` is the token this thread last found to match (hashing a token costs more than
    /// comparing it again). Called after the signature is verified.
    fn check_session(
        &self,
        token: Option<&str>,
        now: Timestamp,
        verified: &mut Option<Box<str>>,
    ) -> Result<(), CommonError> {
        match (&self.session, token) {
            (None, None) => Ok(()),
            (None, Some(_)) | (Some(_), None) => Err(invalid_token()),
            (Some(record), Some(token)) => {
                // The signature was verified before this, so the caller holds the secret: the
                // comparison with the token it sent last need not be constant-time.
                let known = verified.as_deref() == Some(token);
                if !known {
                    if !record.session_token_matches(token) {
                        return Err(invalid_token());
                    }
                    *verified = Some(token.into());
                }
                if record.expires().is_some_and(|expires| now >= expires) {
                    return Err(CommonError::new(
                        CommonKind::ExpiredToken,
                        "The security token included in the request is expired",
                    ));
                }
                Ok(())
            }
        }
    }
}

/// A thread's copy of an [`OpenKey`], with the signing keys derived from it by credential scope
/// (date, region, service); a client signs for a handful of scopes at a time, so a short list,
/// oldest dropped first.
struct LocalKey {
    cache_id: u64,
    generation: u64,
    /// This thread's own reference count: requests served here clone it.
    principal: Arc<Principal>,
    key: Arc<OpenKey>,
    signing_keys: Vec<ScopedSigningKey>,
    /// The session token last found to match the key's (temporary credentials only).
    verified_token: Option<Box<str>>,
}

/// A signing key with the credential scope it was derived for.
struct ScopedSigningKey {
    date: String,
    region: String,
    service: String,
    key: SigningKey,
}

thread_local! {
    static LOCAL_KEYS: RefCell<HashMap<String, LocalKey>> = RefCell::new(HashMap::new());
}

const CACHE_TTL_MS: i64 = 5_000;
const CACHE_MAX: usize = 10_000;
const SIGNING_KEYS_PER_ACCESS_KEY: usize = 8;

impl LocalKey {
    /// The signing key for a credential scope, derived on first use.
    fn signing_key(&mut self, date: &str, region: &str, service: &str) -> &SigningKey {
        let keys = &mut self.signing_keys;
        if let Some(i) = keys.iter().position(|k| k.date == date && k.region == region && k.service == service) {
            return &keys[i].key;
        }
        let key = SigningKey::new(&ingot_sigv4::signing_key(&self.key.secret, date, region, service));
        if keys.len() >= SIGNING_KEYS_PER_ACCESS_KEY {
            keys.remove(0);
        }
        keys.push(ScopedSigningKey {
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
            key,
        });
        &keys[keys.len() - 1].key
    }
}

fn fresh(key: &OpenKey, now: Timestamp) -> bool {
    now.millis() - key.opened_at.millis() < CACHE_TTL_MS
}

impl CredentialCache {
    fn get(&self, access_key_id: &str, now: Timestamp) -> Option<Arc<OpenKey>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let key = entries.get(access_key_id)?;
        fresh(key, now).then(|| key.clone())
    }

    fn put(&self, access_key_id: &str, key: Arc<OpenKey>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CACHE_MAX {
            entries.clear();
        }
        entries.insert(access_key_id.to_string(), key);
    }

    pub(crate) fn clear(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::Relaxed);
        entries.clear();
    }

    /// With this thread's fresh copy of `access_key_id`, if it has one.
    fn with_local<T>(&self, access_key_id: &str, now: Timestamp, f: impl FnOnce(&mut LocalKey) -> T) -> Option<T> {
        LOCAL_KEYS.with_borrow_mut(|keys| {
            let local = keys.get_mut(access_key_id)?;
            let current = local.cache_id == self.id
                && local.generation == self.generation.load(Ordering::Relaxed)
                && fresh(&local.key, now);
            current.then(|| f(local))
        })
    }

    /// Makes `key` this thread's copy of `access_key_id`, and runs `f` with it. The generation is
    /// read before the shared entry was: a `clear` in between leaves the copy unused afterwards.
    fn keep_local<T>(
        &self,
        access_key_id: &str,
        key: Arc<OpenKey>,
        generation: u64,
        f: impl FnOnce(&mut LocalKey) -> T,
    ) -> T {
        LOCAL_KEYS.with_borrow_mut(|keys| {
            if keys.len() >= CACHE_MAX {
                keys.clear();
            }
            let principal = Arc::new(key.principal.clone());
            let local = LocalKey {
                cache_id: self.id,
                generation,
                principal,
                key,
                signing_keys: Vec::new(),
                verified_token: None,
            };
            f(keys.entry(access_key_id.to_string()).insert_entry(local).into_mut())
        })
    }
}

/// The outcome of authentication: who, and in which region.
pub(crate) struct Authenticated<'a> {
    pub principal: Arc<Principal>,
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
        let wall_now = self.env.clock.wall_now();
        let sig = signature.map_err(auth_error)?;
        let region = Region::parse(&sig.region).ok_or_else(|| {
            CommonError::new(
                CommonKind::IncompleteSignature,
                format!("Credential should be scoped to a valid region, not '{}'. ", sig.region),
            )
        })?;
        let verify = |key: &SigningKey| ingot_sigv4::verify_with_key(parts, &sig, key, wall_now.seconds());
        let token = sig.security_token.as_deref();
        let ingot_now = self.env.clock.now();
        let local = |local: &mut LocalKey| {
            let verified = verify(local.signing_key(&sig.date, &sig.region, &sig.service)).map_err(auth_error);
            let checked = verified.and_then(|()| local.key.check_session(token, ingot_now, &mut local.verified_token));
            (local.principal.clone(), checked)
        };
        let (principal, checked) = match self.credentials.with_local(&sig.access_key_id, wall_now, local) {
            Some(found) => found,
            None => {
                let generation = self.credentials.generation.load(Ordering::Relaxed);
                match self.credentials_for(&sig.access_key_id, wall_now).await? {
                    Some(key) => self.credentials.keep_local(&sig.access_key_id, key, generation, local),
                    None => match &self.config.auth_mode {
                        crate::AuthMode::Strict => return Err(invalid_token()),
                        // Open mode: a key Ingot did not issue speaks for the root of the account
                        // its id names (twelve digits), else of the default account.
                        crate::AuthMode::Open { default_account } => {
                            let account =
                                AccountId::parse(&sig.access_key_id).unwrap_or_else(|| default_account.clone());
                            (Arc::new(Principal::root(account)), Ok(()))
                        }
                    },
                }
            }
        };
        checked?;
        Ok(Authenticated { principal, region, access_key_id: sig.access_key_id })
    }

    /// The opened key of `access_key_id`, `None` when Ingot never issued it.
    async fn credentials_for(&self, access_key_id: &str, now: Timestamp) -> Result<Option<Arc<OpenKey>>, CommonError> {
        if let Some(hit) = self.credentials.get(access_key_id, now) {
            return Ok(Some(hit));
        }
        let item = self.env.store.get(&access_key_storage_key(access_key_id)).await.map_err(CommonError::internal)?;
        let Some(item) = item else {
            return Ok(None);
        };
        let record: AccessKeyRecord = ingot_store::decode_record(&item.value).map_err(CommonError::internal)?;
        if !record.active {
            return Err(invalid_token());
        }
        let secret = record.open_secret(&self.env.secrets).map_err(|_| {
            CommonError::internal(format!("access key {access_key_id} does not open under the master key"))
        })?;
        let session = record.session_token_sha256.is_some().then(|| record.clone());
        let key = Arc::new(OpenKey { principal: record.principal, secret, opened_at: now, session });
        self.credentials.put(access_key_id, key.clone());
        Ok(Some(key))
    }
}
