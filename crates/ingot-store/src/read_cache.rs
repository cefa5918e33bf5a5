//! A bounded in-memory copy of recently read keys, for a backend whose process sees every write:
//! SQLite always, PostgreSQL while this replica holds the cache lease (`postgres/lease.rs`).
//!
//! A point read through SQLite costs a pooled connection, a read transaction (file locks on the
//! WAL index) and a B-tree walk: most of a cheap API call's work. The process that owns the
//! database (see the data-directory lock in `sqlite.rs`) is the only writer, and every commit
//! passes through its writer thread, so a cache kept in that process can stay exact:
//!
//! - a commit marks its keys with [`ReadCache::begin_write`] before it is sent and
//!   [`ReadCache::end_write`] after it is durable and before any requester is told of it, so a
//!   caller never reads an older value than one it wrote;
//! - a reader that missed notes the [`ReadCache::generation`] before reading the database and
//!   offers what it read with [`ReadCache::fill`]; the value is kept only if no commit ended
//!   since and no commit of that key is in flight. Without the second condition a value read
//!   just before a commit could be cached between the commit and its `end_write`, after another
//!   reader had already seen the new value: reads would go back in time.
//!
//! Only keys that exist are cached: most lookups of a missing key happen once, just before the
//! key is created, and would only take room. Memory is bounded by the bytes of keys and values
//! held; when full, about half the entries (in hash order, which is arbitrary) are dropped at
//! once.

use crate::Item;
use std::collections::HashMap;
use std::sync::Mutex;

/// Bytes of keys and values the cache may hold.
pub(crate) const DEFAULT_CAPACITY_BYTES: usize = 16 * 1024 * 1024;

/// Values larger than this are not cached (rare, and they would crowd out many small ones).
const LARGEST_CACHED_VALUE: usize = 64 * 1024;

/// Per-entry bookkeeping counted against the capacity besides key and value bytes.
const ENTRY_OVERHEAD: usize = 64;

pub(crate) struct ReadCache {
    state: Mutex<State>,
    capacity_bytes: usize,
}

#[derive(Default)]
struct State {
    entries: HashMap<String, Item>,
    bytes: usize,
    /// Counts commits that wrote keys; a fill read before the latest one is refused.
    generation: u64,
    /// Keys of commits in flight, with how many; they are not cached until those end.
    writing: HashMap<String, u32>,
}

fn entry_size(key: &str, item: &Item) -> usize {
    key.len() + item.value.len() + ENTRY_OVERHEAD
}

impl ReadCache {
    pub(crate) fn new(capacity_bytes: usize) -> Self {
        ReadCache { state: Mutex::new(State::default()), capacity_bytes }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached item of `key`, if the cache holds it (`None` says nothing about the store).
    pub(crate) fn get(&self, key: &str) -> Option<Item> {
        self.state().entries.get(key).cloned()
    }

    /// To be taken before a read whose result will be offered to [`ReadCache::fill`].
    pub(crate) fn generation(&self) -> u64 {
        self.state().generation
    }

    /// Keeps what a read that started at `generation` returned, unless a commit has written
    /// since (it may have changed the key after the read saw it).
    pub(crate) fn fill(&self, generation: u64, key: &str, item: &Option<Item>) {
        let Some(item) = item else {
            return;
        };
        if item.value.len() > LARGEST_CACHED_VALUE {
            return;
        }
        let mut state = self.state();
        if state.generation != generation || state.entries.contains_key(key) || state.writing.contains_key(key) {
            return;
        }
        let size = entry_size(key, item);
        if size > self.capacity_bytes {
            return;
        }
        if state.bytes + size > self.capacity_bytes {
            state.evict_half();
        }
        state.bytes += size;
        state.entries.insert(key.to_string(), item.clone());
    }

    /// Marks `keys` as written by a commit about to be sent: they are forgotten and not cached
    /// again until the matching [`ReadCache::end_write`].
    pub(crate) fn begin_write<'a>(&self, keys: impl Iterator<Item = &'a str>) {
        let mut state = self.state();
        for key in keys {
            state.forget(key);
            *state.writing.entry(key.to_string()).or_insert(0) += 1;
        }
    }

    /// Ends what [`ReadCache::begin_write`] began for the same keys, once the commit is durable
    /// (or failed) and before anyone hears of it: forgets them again and refuses every fill
    /// read before now. A commit without keys (outbox rows only) changes nothing here.
    pub(crate) fn end_write<'a>(&self, keys: impl Iterator<Item = &'a str>) {
        let mut keys = keys.peekable();
        if keys.peek().is_none() {
            return;
        }
        let mut state = self.state();
        state.generation += 1;
        for key in keys {
            state.forget(key);
            if let Some(count) = state.writing.get_mut(key) {
                *count -= 1;
                if *count == 0 {
                    state.writing.remove(key);
                }
            }
        }
    }

    /// Forgets everything (a reset deletes key ranges the cache cannot enumerate cheaply).
    pub(crate) fn clear(&self) {
        let mut state = self.state();
        state.generation += 1;
        state.entries.clear();
        state.bytes = 0;
    }
}

impl State {
    fn forget(&mut self, key: &str) {
        if let Some(item) = self.entries.remove(key) {
            self.bytes -= entry_size(key, &item);
        }
    }

    fn evict_half(&mut self) {
        let mut keep = false;
        let mut freed = 0;
        self.entries.retain(|key, item| {
            keep = !keep;
            if !keep {
                freed += entry_size(key, item);
            }
            keep
        });
        self.bytes -= freed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(version: u64, value: &str) -> Option<Item> {
        Some(Item { version, value: value.as_bytes().to_vec() })
    }

    #[test]
    fn a_filled_key_is_served_until_a_commit_invalidates_it() {
        let cache = ReadCache::new(DEFAULT_CAPACITY_BYTES);
        let g = cache.generation();
        cache.fill(g, "a", &item(1, "x"));
        assert_eq!(cache.get("a"), item(1, "x"));
        cache.begin_write(["a"].into_iter());
        assert_eq!(cache.get("a"), None);
        cache.end_write(["a"].into_iter());
        assert_eq!(cache.get("a"), None);
        cache.fill(cache.generation(), "a", &item(2, "y"));
        assert_eq!(cache.get("a"), item(2, "y"));
    }

    #[test]
    fn a_key_is_not_cached_while_a_commit_of_it_is_in_flight() {
        let cache = ReadCache::new(DEFAULT_CAPACITY_BYTES);
        // Two commits of "a" overlap; a read that starts after both began still must not fill.
        cache.begin_write(["a"].into_iter());
        cache.begin_write(["a"].into_iter());
        cache.fill(cache.generation(), "a", &item(1, "maybe stale"));
        assert_eq!(cache.get("a"), None);
        cache.end_write(["a"].into_iter());
        cache.fill(cache.generation(), "a", &item(1, "maybe stale"));
        assert_eq!(cache.get("a"), None);
        cache.end_write(["a"].into_iter());
        cache.fill(cache.generation(), "a", &item(2, "new"));
        assert_eq!(cache.get("a"), item(2, "new"));
        assert!(cache.state().writing.is_empty());
    }

    #[test]
    fn a_read_that_overlapped_a_commit_is_not_cached() {
        let cache = ReadCache::new(DEFAULT_CAPACITY_BYTES);
        let before = cache.generation();
        // A commit of any key lands while the read of "a" is in flight.
        cache.begin_write(["b"].into_iter());
        cache.end_write(["b"].into_iter());
        cache.fill(before, "a", &item(1, "stale"));
        assert_eq!(cache.get("a"), None);
    }

    #[test]
    fn absence_is_not_cached() {
        let cache = ReadCache::new(DEFAULT_CAPACITY_BYTES);
        cache.fill(cache.generation(), "missing", &None);
        assert_eq!(cache.get("missing"), None);
        assert_eq!(cache.state().bytes, 0);
    }

    #[test]
    fn the_cache_stays_within_its_byte_budget() {
        let cache = ReadCache::new(10_000);
        for i in 0..1_000 {
            cache.fill(cache.generation(), &format!("key-{i}"), &item(1, "0123456789"));
            assert!(cache.state().bytes <= 10_000);
        }
        let held = cache.state().entries.len();
        assert!(held > 10 && held < 1_000, "held {held}");
        let counted: usize = cache.state().entries.iter().map(|(k, v)| entry_size(k, v)).sum();
        assert_eq!(counted, cache.state().bytes);
    }

    #[test]
    fn large_values_are_not_cached() {
        let cache = ReadCache::new(DEFAULT_CAPACITY_BYTES);
        let big = Some(Item { version: 1, value: vec![0; LARGEST_CACHED_VALUE + 1] });
        cache.fill(cache.generation(), "big", &big);
        assert_eq!(cache.get("big"), None);
    }

    #[test]
    fn clear_forgets_everything_and_refuses_older_fills() {
        let cache = ReadCache::new(DEFAULT_CAPACITY_BYTES);
        let g = cache.generation();
        cache.fill(g, "a", &item(1, "x"));
        cache.clear();
        assert_eq!(cache.get("a"), None);
        cache.fill(g, "b", &item(1, "y"));
        assert_eq!(cache.get("b"), None);
    }
}
