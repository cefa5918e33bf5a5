//! Records already decoded, by key and version, so that a hot read (GetParameter's parameter
//! record) does not decode the same JSON on every request.
//!
//! A version names one value of a key for good — the store never gives a version twice — so an
//! entry cannot go stale: a read that finds a newer version simply misses and decodes. Each store
//! owns its cache (versions of two stores say nothing about each other).
//!
//! The entries live with each thread: one map behind a lock, and a shared reference count per
//! record, had the cores take turns on every read; a thread decodes a record once per version
//! instead, which is cheap next to that.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Entries one thread keeps per cache at most; when full, they start over (a hot record is back
/// on its next read).
const MAX_ENTRIES: usize = 2048;

/// Per key: the version decoded, the store's change count at which that version was last known
/// to be the key's current one, and the record (an `Arc<R>`).
type Entries = HashMap<String, Entry>;

struct Entry {
    version: u64,
    current_at: u64,
    record: Box<dyn Any>,
}

thread_local! {
    /// Each thread's entries, by the id of the cache they belong to.
    static ENTRIES: RefCell<HashMap<u64, Entries>> = RefCell::new(HashMap::new());
}

pub struct DecodedCache {
    id: u64,
}

impl Default for DecodedCache {
    fn default() -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        DecodedCache { id: NEXT_ID.fetch_add(1, Ordering::Relaxed) }
    }
}

impl Drop for DecodedCache {
    fn drop(&mut self) {
        // Other threads' entries of this cache go when those threads end (or fill up).
        let _ = ENTRIES.try_with(|entries| entries.borrow_mut().remove(&self.id));
    }
}

impl DecodedCache {
    /// The record decoded from `key` at `version`, when this thread has it as an `R` (shared,
    /// not copied: only this thread's reads touch its count). `changes` is the store's change
    /// count at which `version` was read as the key's current one: it is remembered for
    /// [`DecodedCache::current`].
    pub fn get<R: Send + Sync + 'static>(&self, key: &str, version: u64, changes: Option<u64>) -> Option<Arc<R>> {
        ENTRIES.with_borrow_mut(|caches| {
            let entry = caches.get_mut(&self.id)?.get_mut(key)?;
            if entry.version != version {
                return None;
            }
            let record = entry.record.downcast_ref::<Arc<R>>()?.clone();
            if let Some(changes) = changes {
                entry.current_at = changes;
            }
            Some(record)
        })
    }

    /// The record of `key` and its version, when this thread decoded the version that was
    /// current at change count `changes` (the store's count now: no version has changed since).
    pub fn current<R: Send + Sync + 'static>(&self, key: &str, changes: u64) -> Option<(u64, Arc<R>)> {
        ENTRIES.with_borrow(|caches| {
            let entry = caches.get(&self.id)?.get(key)?;
            (entry.current_at == changes)
                .then(|| Some((entry.version, entry.record.downcast_ref::<Arc<R>>()?.clone())))?
        })
    }

    /// Keeps `record`, decoded from `key` at `version`; `changes` as in [`DecodedCache::get`].
    pub fn put<R: Send + Sync + 'static>(&self, key: &str, version: u64, changes: Option<u64>, record: Arc<R>) {
        ENTRIES.with_borrow_mut(|caches| {
            let entries = caches.entry(self.id).or_default();
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(key) {
                entries.clear();
            }
            // `u64::MAX` is a count the store never reaches: not known current at any.
            let current_at = changes.unwrap_or(u64::MAX);
            entries.insert(key.to_string(), Entry { version, current_at, record: Box::new(record) });
        })
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        ENTRIES.with_borrow(|caches| caches.get(&self.id).map_or(0, HashMap::len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_found_only_at_its_version_and_as_its_type() {
        let cache = DecodedCache::default();
        cache.put("k", 7, None, Arc::new(String::from("seven")));
        assert_eq!(cache.get::<String>("k", 7, None).as_deref().map(String::as_str), Some("seven"));
        assert_eq!(cache.get::<String>("k", 8, None), None);
        assert_eq!(cache.get::<u32>("k", 7, None), None);
        assert_eq!(cache.get::<String>("other", 7, None), None);
        cache.put("k", 8, None, Arc::new(String::from("eight")));
        assert_eq!(cache.get::<String>("k", 7, None), None);
        assert_eq!(cache.get::<String>("k", 8, None).as_deref().map(String::as_str), Some("eight"));
    }

    #[test]
    fn a_record_is_current_only_at_the_change_count_it_was_confirmed_at() {
        let cache = DecodedCache::default();
        cache.put("k", 7, None, Arc::new(7u32));
        assert_eq!(cache.current::<u32>("k", 0), None, "never confirmed");
        cache.put("k", 7, Some(3), Arc::new(7u32));
        assert_eq!(cache.current::<u32>("k", 3).map(|(v, r)| (v, *r)), Some((7, 7)));
        assert_eq!(cache.current::<u32>("k", 4), None, "something changed since");
        assert!(cache.get::<u32>("k", 7, Some(4)).is_some());
        assert_eq!(cache.current::<u32>("k", 4).map(|(v, _)| v), Some(7), "confirmed again at 4");
        assert_eq!(cache.current::<u64>("k", 4), None, "not as another type");
    }

    #[test]
    fn a_full_cache_starts_over_instead_of_growing() {
        let cache = DecodedCache::default();
        for i in 0..MAX_ENTRIES as u64 {
            cache.put(&format!("k{i}"), i + 1, None, Arc::new(i));
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
        cache.put("k0", 99, None, Arc::new(0u64));
        assert_eq!(cache.len(), MAX_ENTRIES, "replacing a key does not evict");
        cache.put("new", 1, None, Arc::new(0u64));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get::<u64>("new", 1, None).as_deref(), Some(&0));
    }
}
