//! Signing key derivation and its cache.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use sha2::{Digest, Sha256};

use crate::canonical::hmac_sha256;

/// Derives the SigV4 signing key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region),
/// service), "aws4_request")`.
pub fn signing_key(secret_access_key: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut k_secret = Vec::with_capacity(4 + secret_access_key.len());
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret_access_key.as_bytes());
    let k_date = hmac_sha256(&k_secret, date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// Caches derived signing keys per (secret, date, region, service).
///
/// Entries are keyed by a SHA-256 over the four inputs, so the secret itself is never stored.
/// The cache holds at most `capacity` keys and evicts the least recently used one when full;
/// a capacity of 0 disables caching. Safe to share between threads.
pub struct SigningKeyCache {
    capacity: usize,
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<[u8; 32], Entry>,
    clock: u64,
}

struct Entry {
    key: [u8; 32],
    last_used: u64,
}

impl SigningKeyCache {
    pub fn new(capacity: usize) -> Self {
        SigningKeyCache { capacity, inner: Mutex::new(Entries::default()) }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of keys currently cached.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The signing key for these inputs, derived on a miss.
    pub fn signing_key(&self, secret_access_key: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
        if self.capacity == 0 {
            return signing_key(secret_access_key, date, region, service);
        }
        let id = cache_id(secret_access_key, date, region, service);
        {
            let mut entries = self.lock();
            entries.clock += 1;
            let now = entries.clock;
            if let Some(entry) = entries.map.get_mut(&id) {
                entry.last_used = now;
                return entry.key;
            }
        }
        // Derive outside the lock; two threads missing at once both derive the same key.
        let key = signing_key(secret_access_key, date, region, service);
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        if !entries.map.contains_key(&id) && entries.map.len() >= self.capacity {
            let oldest = entries.map.iter().min_by_key(|(_, e)| e.last_used).map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                entries.map.remove(&oldest);
            }
        }
        entries.map.insert(id, Entry { key, last_used: now });
        key
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // A panic elsewhere while holding the lock leaves the map consistent; keep using it.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyCache").field("capacity", &self.capacity).field("len", &self.len()).finish()
    }
}

fn cache_id(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"ingot-sigv4 signing key cache\0");
    for field in [secret, date, region, service] {
        // Length-prefixed, so no two different tuples hash the same input.
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hasher.finalize().into()
}
