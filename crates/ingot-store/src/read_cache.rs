//! A bounded in-memory copy of recently read keys, for a backend whose process sees every write:
//! SQLite always, PostgreSQL while this replica holds the cache lease (`ingot-store-postgres`,
//! `lease.rs`).
//!
//! A point read through SQLite costs a pooled connection, a read transaction (file locks on the
//! WAL index) and a B-tree walk: most of a cheap API call's work. The process that owns the
//! database (see the data-directory lock in `ingot-store-sqlite`) is the only writer, and every
//! commit passes through its writer thread, so a cache kept in that process can stay exact:
//!
//! - a commit marks its keys with [`ReadCache::begin_write`] before it is sent and
//!   [`ReadCache::end_write`] after it is durable and before any requester is told of it, so a
//!   caller never reads an older value than one it wrote;
//! - a reader that missed notes the [`ReadCache::generation`] before reading the database and
//!   offers what it read with [`ReadCache::fill`]; the value is kept only if no commit ended
//!   since and no commit of that key is in flight. Without the second condition a value read
//!   just before a commit could be cached between the commit and its `end_write`, after another
//!   reader had already seen the new value: reads would go back in time;
//! - a commit that succeeded may instead end with [`ReadCache::end_write_keeping`] and leave what
//!   it wrote in the cache (PostgreSQL does, for the keys a commit read before writing: there a
//!   miss is a round trip and a transaction, and a read-modify-write such as PutParameter misses
//!   on every write otherwise). It keeps a key only if no other commit of that key overlapped it,
//!   because overlapping commits may end here in another order than the one they committed in.
//!
//! A key found missing is cached as missing too: authorization looks up records that mostly do
//! not exist (an account's organization membership, a parameter's tags before it has any) on
//! every decision, and without this each of those would be a round trip to PostgreSQL. The same
//! rules keep a missing entry exact: a commit that creates the key forgets it first. Memory is
//! bounded by the bytes of keys and values held; when full, about half the entries (in hash
//! order, which is arbitrary) are dropped at once.

use crate::Item;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Bytes of keys and values the cache may hold.
pub const DEFAULT_CAPACITY_BYTES: usize = 16 * 1024 * 1024;

/// Values larger than this are not cached (rare, and they would crowd out many small ones).
const LARGEST_CACHED_VALUE: usize = 64 * 1024;

/// Per-entry bookkeeping counted against the capacity besides key and value bytes.
const ENTRY_OVERHEAD: usize = 64;

pub struct ReadCache {
    state: Mutex<State>,
    capacity_bytes: usize,
    /// Counts, under the lock, every event that can change the version a key has: the begin
    /// and end of a commit with keys, and [`ReadCache::clear`]. A version read at one count is
    /// still current while the count stays; reading the count writes nothing the cores share.
    changes: AtomicU64,
}

#[derive(Default)]
struct State {
    /// `None`: the key is known to be missing.
    entries: HashMap<String, Option<Item>>,
    bytes: usize,
    /// Counts commits that wrote keys; a fill read before the latest one is refused.
    generation: u64,
    /// Keys of commits in flight; they are not cached until those end.
    writing: HashMap<String, Writing>,
}

/// The commits of one key in flight.
struct Writing {
    count: u32,
    /// Whether two commits of the key were in flight at once since the first of them began:
    /// then neither may keep its value, as they may end in another order than they committed.
    overlapped: bool,
}

fn entry_size(key: &str, item: &Option<Item>) -> usize {
    key.len() + item.as_ref().map_or(0, |i| i.value.len()) + ENTRY_OVERHEAD
}

impl ReadCache {
    pub fn new(capacity_bytes: usize) -> Self {
        ReadCache { state: Mutex::new(State::default()), capacity_bytes, changes: AtomicU64::new(0) }
    }

    /// The count of changes so far (see the field).
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }

    /// Counts a change; called with the state locked.
    fn changed(&self) {
        self.changes.fetch_add(1, Ordering::SeqCst);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What the cache holds for `key`: `Some(Some(item))`, `Some(None)` when the key is known to
    /// be missing, `None` when the cache says nothing about it.
    pub fn get(&self, key: &str) -> Option<Option<Item>> {
        self.state().entries.get(key).cloned()
    }

    /// The version of the cached item of `key`, without copying its value, and the count of
    /// changes it was read at.
    pub fn version(&self, key: &str) -> Option<(u64, u64)> {
        let state = self.state();
        let version = state.entries.get(key)?.as_ref()?.version;
        Some((version, self.changes()))
    }

    /// The count of changes at which every key of `reads` was found cached at the version
    /// given (`None`: known to be missing); `None` as soon as one is not. One lock for all.
    pub fn reads_current(&self, reads: &[(String, Option<u64>)]) -> Option<u64> {
        let state = self.state();
        let current = reads.iter().all(|(key, seen)| match state.entries.get(key) {
            Some(item) => item.as_ref().map(|i| i.version) == *seen,
            None => false,
        });
        // Changes are counted under the lock: the count read here is the one checked at.
        current.then(|| self.changes())
    }

    /// To be taken before a read whose result will be offered to [`ReadCache::fill`].
    pub fn generation(&self) -> u64 {
        self.state().generation
    }

    /// Keeps what a read that started at `generation` returned, unless a commit has written
    /// since (it may have changed the key after the read saw it).
    pub fn fill(&self, generation: u64, key: &str, item: &Option<Item>) {
        let mut state = self.state();
        if state.generation != generation || state.entries.contains_key(key) || state.writing.contains_key(key) {
            return;
        }
        state.keep(key.to_string(), item.clone(), self.capacity_bytes);
    }

    /// Marks `keys` as written by a commit about to be sent: they are forgotten and not cached
    /// again until the matching [`ReadCache::end_write`].
    pub fn begin_write<'a>(&self, keys: impl Iterator<Item = &'a str>) {
        let keys = distinct(keys);
        let mut state = self.state();
        if !keys.is_empty() {
            self.changed();
        }
        for key in keys {
            state.forget(key);
            match state.writing.get_mut(key) {
                Some(writing) => {
                    writing.count += 1;
                    writing.overlapped = true;
                }
                None => {
                    state.writing.insert(key.to_string(), Writing { count: 1, overlapped: false });
                }
            }
        }
    }

    /// Ends what [`ReadCache::begin_write`] began for the same keys, once the commit is durable
    /// (or failed) and before anyone hears of it: forgets them again and refuses every fill
    /// read before now. A commit without keys (outbox rows only) changes nothing here.
    pub fn end_write<'a>(&self, keys: impl Iterator<Item = &'a str>) {
        self.end_write_keeping(keys, Vec::new());
    }

    /// [`ReadCache::end_write`] for a commit that succeeded, keeping the items it wrote
    /// (`written`, a subset of `keys`, with the versions the store gave them): the next read of
    /// a key just written is served from memory. An item is kept only when no other commit of
    /// its key was in flight at any time during this one: with two, the one that ends last
    /// here need not be the one that committed last.
    pub fn end_write_keeping<'a>(&self, keys: impl Iterator<Item = &'a str>, mut written: Vec<(String, Item)>) {
        let keys = distinct(keys);
        if keys.is_empty() {
            return;
        }
        let mut state = self.state();
        state.generation += 1;
        self.changed();
        for key in keys {
            state.forget(key);
            let alone = match state.writing.get_mut(key) {
                Some(writing) if writing.count > 1 => {
                    writing.count -= 1;
                    false
                }
                Some(writing) => {
                    let alone = !writing.overlapped;
                    state.writing.remove(key);
                    alone
                }
                None => false,
            };
            if alone {
                if let Some(index) = written.iter().position(|(k, _)| k == key) {
                    let (key, item) = written.swap_remove(index);
                    state.keep(key, Some(item), self.capacity_bytes);
                }
            }
        }
    }

    /// Forgets `key` after a commit found its expectation on it violated. A commit that only
    /// checks a key leaves it cached, and the cache is exact while every writer goes through it;
    /// should anything ever leave a stale copy (a write from outside the store), this keeps the
    /// retries of every call that checks the key from conflicting on it forever.
    pub fn forget_stale(&self, key: &str) {
        let mut state = self.state();
        state.generation += 1;
        self.changed();
        state.forget(key);
    }

    /// Forgets everything (a reset deletes key ranges the cache cannot enumerate cheaply).
    pub fn clear(&self) {
        let mut state = self.state();
        state.generation += 1;
        self.changed();
        state.entries.clear();
        state.bytes = 0;
        // A commit in flight may have written before what made the cache stale (a reset that
        // deleted its key afterwards, writes of another replica before this one took the lease
        // back): it must not keep its value.
        for writing in state.writing.values_mut() {
            writing.overlapped = true;
        }
    }
}

/// A commit's keys once each (a key it both checks and writes is listed twice): counted twice,
/// a commit would overlap itself.
fn distinct<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut keys: Vec<&str> = keys.collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

impl State {
    /// Holds `item` under `key` instead of what it held, unless it is too large; makes room first.
    fn keep(&mut self, key: String, item: Option<Item>, capacity_bytes: usize) {
        self.forget(&key);
        let size = entry_size(&key, &item);
        let too_large = item.as_ref().is_some_and(|i| i.value.len() > LARGEST_CACHED_VALUE);
        if too_large || size > capacity_bytes {
            return;
        }
        if self.bytes + size > capacity_bytes {
            self.evict_half();
        }
        self.bytes += size;
        self.entries.insert(key, item);
    }

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
        assert_eq!(cache.get("a"), Some(item(1, "x")));
        cache.begin_write(["a"].into_iter());
        assert_eq!(cache.get("a"), None);
        cache.end_write(["a"].into_iter());
        assert_eq!(cache.get("a"), None);
        cache.fill(cache.generation(), "a", &item(2, "y"));
        assert_eq!(cache.get("a"), Some(item(2, "y")));
    }

    #[test]
    fn reads_stay_current_across_commits_of_other_keys_until_one_of_them_changes() {
        let cache = ReadCache::new(DEFAULT_CAPACITY_BYTES);
        cache.fill(cache.generation(), "policy", &item(3, "allow"));
        cache.fill(cache.generation(), "boundary", &None);
        let reads = vec![("policy".to_string(), Some(3)), ("boundary".to_string(), None)];
        assert_eq!(cache.reads_current(&reads), Some(cache.changes()));
        cache.begin_write(["other"].into_iter());
        cache.end_write(["other"].into_iter());
        assert_eq!(cache.reads_current(&reads), Some(cache.changes()), "another key's commit");
        assert_eq!(cache.reads_current(&[("policy".to_string(), Some(2))]), None, "an older version");
        assert_eq!(cache.reads_current(&[("boundary".to_string(), Some(1))]), None, "now missing");
        assert_eq!(cache.reads_current(&[("unknown".to_string(), None)]), None, "not cached");
        cache.begin_write(["policy"].into_iter());
        assert_eq!(cache.reads_current(&reads), None, "a commit of it in flight");
        cache.end_write(["policy"].into_iter());
        cache.fill(cache.generation(), "policy", &item(4, "deny"));
        assert_eq!(cache.reads_current(&reads), None, "changed");
    }

    #[test]
    fn a_key_found_stale_is_forgotten_and_a_read_begun_before_cannot_put_it_back() {
        let cache = ReadCache::new(DEFAULT_CAPACITY_BYTES);
        cache.fill(cache.generation(), "checked", &item(1, "old"));
        let before = cache.generation();
        cache.forget_stale("checked");
        assert_eq!(cache.get("checked"), None);
        cache.fill(before, "checked", &item(1, "old"));
        assert_eq!(cache.get("checked"), None);
        cache.fill(cache.generation(), "checked", &item(2, "new"));
        assert_eq!(cache.get("checked"), Some(item(2, "new")));
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
        assert_eq!(cache.get("a"), Some(item(2, "new")));
        assert!(cache.state().writing.is_empty());
    }

    #[test]
    fn a_commit_alone_keeps_what_it_wrote_and_forgets_the_rest() {
        let cache = ReadCache::new(DEFAULT_CAPACITY_BYTES);
        cache.fill(cache.generation(), "checked", &item(1, "x"));
        cache.begin_write(["checked", "written"].into_iter());
        let written = vec![("written".to_string(), item(7, "new").unwrap())];
        cache.end_write_keeping(["checked", "written"].into_iter(), written);
        assert_eq!(cache.get("written"), Some(item(7, "new")));
        assert_eq!(cache.get("checked"), None);
        assert!(cache.state().writing.is_empty());
    }

    #[test]
    fn a_commit_that_checks_and_writes_a_key_does_not_overlap_itself() {
        let cache = ReadCache::new(DEFAULT_CAPACITY_BYTES);
        cache.begin_write(["a", "a"].into_iter());
        cache.end_write_keeping(["a", "a"].into_iter(), vec![("a".to_string(), item(3, "v").unwrap())]);
        assert_eq!(cache.get("a"), Some(item(3, "v")));
        assert!(cache.state().writing.is_empty());
    }

    #[test]
    fn a_commit_in_flight_when_the_cache_is_cleared_keeps_nothing() {
        let cache = ReadCache::new(DEFAULT_CAPACITY_BYTES);
        cache.begin_write(["a"].into_iter());
        cache.clear();
        cache.end_write_keeping(["a"].into_iter(), vec![("a".to_string(), item(4, "maybe deleted").unwrap())]);
        assert_eq!(cache.get("a"), None);
        assert!(cache.state().writing.is_empty());
    }

    #[test]
    fn overlapping_commits_of_a_key_keep_nothing_whatever_order_they_end_in() {
        let cache = ReadCache::new(DEFAULT_CAPACITY_BYTES);
        // The second commit began while the first was in flight; the first ends last here
        // although the database applied it first.
        cache.begin_write(["a"].into_iter());
        cache.begin_write(["a"].into_iter());
        cache.end_write_keeping(["a"].into_iter(), vec![("a".to_string(), item(9, "second").unwrap())]);
        assert_eq!(cache.get("a"), None);
        cache.end_write_keeping(["a"].into_iter(), vec![("a".to_string(), item(8, "first").unwrap())]);
        assert_eq!(cache.get("a"), None);
        // Once no commit of it is in flight, the next one alone keeps its value again.
        cache.begin_write(["a"].into_iter());
        cache.end_write_keeping(["a"].into_iter(), vec![("a".to_string(), item(10, "third").unwrap())]);
        assert_eq!(cache.get("a"), Some(item(10, "third")));
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
    fn absence_is_cached_until_a_commit_of_the_key() {
        let cache = ReadCache::new(DEFAULT_CAPACITY_BYTES);
        cache.fill(cache.generation(), "missing", &None);
        assert_eq!(cache.get("missing"), Some(None));
        assert_eq!(cache.version("missing"), None);
        cache.begin_write(["missing"].into_iter());
        assert_eq!(cache.get("missing"), None);
        cache.end_write(["missing"].into_iter());
        assert_eq!(cache.get("missing"), None);
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
