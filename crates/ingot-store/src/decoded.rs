//! Records already decoded, by key and version, so that a hot read (GetParameter's parameter
//! record) does not decode the same JSON on every request.
//!
//! A version names one value of a key for good — the store never gives a version twice — so an
//! entry cannot go stale: a read that finds a newer version simply misses and decodes. Each store
//! owns its cache (versions of two stores say nothing about each other).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Entries kept at most; when full, the cache starts over (a hot record is back on its next read).
const MAX_ENTRIES: usize = 2048;

type Entry = (u64, Arc<dyn Any + Send + Sync>);

#[derive(Default)]
pub struct DecodedCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl DecodedCache {
    /// A copy of the record decoded from `key` at `version`, when it is here and of type `R`.
    pub fn get<R: Clone + 'static>(&self, key: &str, version: u64) -> Option<R> {
        let record = {
            let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            let (at, record) = entries.get(key)?;
            (*at == version).then(|| record.clone())?
        };
        // Copied outside the lock.
        record.downcast_ref::<R>().cloned()
    }

    pub fn put<R: Send + Sync + 'static>(&self, key: &str, version: u64, record: R) {
        let record: Arc<dyn Any + Send + Sync> = Arc::new(record);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(key) {
            entries.clear();
        }
        entries.insert(key.to_string(), (version, record));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_found_only_at_its_version_and_as_its_type() {
        let cache = DecodedCache::default();
        cache.put("k", 7, String::from("seven"));
        assert_eq!(cache.get::<String>("k", 7).as_deref(), Some("seven"));
        assert_eq!(cache.get::<String>("k", 8), None);
        assert_eq!(cache.get::<u32>("k", 7), None);
        assert_eq!(cache.get::<String>("other", 7), None);
        cache.put("k", 8, String::from("eight"));
        assert_eq!(cache.get::<String>("k", 7), None);
        assert_eq!(cache.get::<String>("k", 8).as_deref(), Some("eight"));
    }

    #[test]
    fn a_full_cache_starts_over_instead_of_growing() {
        let cache = DecodedCache::default();
        for i in 0..MAX_ENTRIES as u64 {
            cache.put(&format!("k{i}"), i + 1, i);
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
        cache.put("k0", 99, 0u64);
        assert_eq!(cache.len(), MAX_ENTRIES, "replacing a key does not evict");
        cache.put("new", 1, 0u64);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get::<u64>("new", 1), Some(0));
    }
}
