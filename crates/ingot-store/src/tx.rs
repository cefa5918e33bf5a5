//! The unit of work of one request: reads see committed state plus the request's own writes;
//! writes and outbox entries are buffered until the invoker (or the job runner) commits them in one
//! [`Batch`].
//!
//! Concurrency is optimistic: the version of every key read is remembered and becomes an
//! expectation of the commit, so a concurrent change to anything the request read makes the
//! commit fail with [`StoreError::Conflict`] and the request is run again.

use crate::record::{decode_record, encode_record, Record};
use crate::{Batch, Expect, OutboxEntry, Store, StoreError, Write};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Keys read and the version each was seen at (`None`: absent), shared whole between units of
/// work ([`Tx::remember_reads`]).
pub type SharedReads = Arc<[(String, Option<u64>)]>;

pub struct Tx {
    store: Arc<dyn Store>,
    state: Mutex<TxState>,
}

#[derive(Default)]
struct TxState {
    /// Version seen for each key read from the store (`None`: absent).
    reads: BTreeMap<String, Option<u64>>,
    /// Reads made elsewhere on this request's behalf and shared whole ([`Tx::remember_reads`]).
    shared_reads: Vec<SharedReads>,
    /// Buffered writes (`None`: delete) and explicit expectations.
    writes: BTreeMap<String, (Option<Vec<u8>>, Option<Expect>)>,
    outbox: Vec<OutboxEntry>,
}

/// Where a read found its key.
enum Lookup {
    /// Written (`Some`) or deleted (`None`) earlier in this request.
    Own(Option<Vec<u8>>),
    /// Committed state.
    Stored(Option<crate::Item>),
}

impl Tx {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Tx { store, state: Mutex::new(TxState::default()) }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    fn state(&self) -> std::sync::MutexGuard<'_, TxState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(match self.lookup(key).await? {
            Lookup::Own(value) => value,
            Lookup::Stored(item) => item.map(|i| i.value),
        })
    }

    /// Reads and decodes a record.
    pub async fn get_record<R: Record>(&self, key: &str) -> Result<Option<R>, StoreError> {
        self.get(key).await?.map(|bytes| decode_record(&bytes)).transpose()
    }

    /// Like [`Self::get_record`], for a record read again and again (GetParameter's parameter):
    /// a record read from the store at a version decoded before is shared from the store's
    /// [`crate::DecodedCache`] instead of decoded again. Reads that walk many records (listings)
    /// use [`Self::get_record`]: through the bounded cache they would only churn it. The key is
    /// taken owned because the read set keeps it.
    pub async fn get_record_cached<R: Record + Send + Sync + 'static>(
        &self,
        key: String,
    ) -> Result<Option<Arc<R>>, StoreError> {
        let cache = self.store.decoded_records();
        if let Some(cache) = cache {
            if !self.state().writes.contains_key(&key) {
                // Nothing has changed since this thread last learnt the key's current version
                // and decoded it: not even the store's cache is asked (it is shared by the
                // cores, and asking it takes its lock).
                let now = self.store.cache_changes();
                let mut found = now.and_then(|now| cache.current::<R>(&key, now));
                // The store knows the current version without a read, and that version was
                // decoded here before: no copy of the value at all.
                if found.is_none() {
                    found = self
                        .store
                        .cached_version(&key)
                        .and_then(|(version, changes)| Some((version, cache.get::<R>(&key, version, Some(changes))?)));
                }
                if let Some((version, record)) = found {
                    // The read is remembered as `lookup` would.
                    self.state().reads.entry(key).or_insert(Some(version));
                    return Ok(Some(record));
                }
            }
        }
        let item = match self.lookup(&key).await? {
            Lookup::Own(value) => return value.map(|bytes| decode_record(&bytes).map(Arc::new)).transpose(),
            Lookup::Stored(None) => return Ok(None),
            Lookup::Stored(Some(item)) => item,
        };
        if let Some(record) = cache.and_then(|c| c.get::<R>(&key, item.version, None)) {
            return Ok(Some(record));
        }
        let record: Arc<R> = Arc::new(decode_record(&item.value)?);
        if let Some(cache) = cache {
            cache.put(&key, item.version, None, record.clone());
        }
        Ok(Some(record))
    }

    /// The request's own write of `key`, else the committed item (remembering its version).
    async fn lookup(&self, key: &str) -> Result<Lookup, StoreError> {
        if let Some((value, _)) = self.state().writes.get(key) {
            return Ok(Lookup::Own(value.clone()));
        }
        let item = self.store.get(key).await?;
        self.state().reads.entry(key.to_string()).or_insert(item.as_ref().map(|i| i.version));
        Ok(Lookup::Stored(item))
    }

    /// Like [`Store::scan`], with this request's own writes applied. Scans are not part of the
    /// read set: only point reads are checked at commit.
    pub async fn scan(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let pending: Vec<(String, Option<Vec<u8>>)> = self
            .state()
            .writes
            .iter()
            .filter(|(k, _)| k.starts_with(prefix) && start_after.is_none_or(|s| k.as_str() > s))
            .map(|(k, (v, _))| (k.clone(), v.clone()))
            .collect();
        let deletes = pending.iter().filter(|(_, v)| v.is_none()).count();
        let mut merged: BTreeMap<String, Vec<u8>> = self
            .store
            .scan(prefix, start_after, limit.saturating_add(deletes))
            .await?
            .into_iter()
            .map(|(k, item)| (k, item.value))
            .collect();
        let horizon =
            if merged.len() >= limit.saturating_add(deletes) { merged.keys().next_back().cloned() } else { None };
        for (key, value) in pending {
            // A pending insert past the last key the store returned may belong after keys the
            // store did not return yet; leave it for the next page.
            if horizon.as_ref().is_some_and(|h| &key > h) {
                continue;
            }
            match value {
                Some(v) => {
                    merged.insert(key, v);
                }
                None => {
                    merged.remove(&key);
                }
            }
        }
        Ok(merged.into_iter().take(limit).collect())
    }

    pub async fn scan_records<R: Record>(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, R)>, StoreError> {
        self.scan(prefix, start_after, limit)
            .await?
            .into_iter()
            .map(|(k, v)| decode_record(&v).map(|r| (k, r)))
            .collect()
    }

    pub fn put(&self, key: &str, value: Vec<u8>) {
        let mut st = self.state();
        let expect = st.writes.get(key).and_then(|(_, e)| *e);
        st.writes.insert(key.to_string(), (Some(value), expect));
    }

    pub fn put_record<R: Record>(&self, key: &str, record: &R) {
        self.put(key, encode_record(record));
    }

    /// Writes a key that must not exist when the batch commits.
    pub fn insert_new(&self, key: &str, value: Vec<u8>) {
        self.state().writes.insert(key.to_string(), (Some(value), Some(Expect::Absent)));
    }

    pub fn delete(&self, key: &str) {
        let mut st = self.state();
        let expect = st.writes.get(key).and_then(|(_, e)| *e);
        st.writes.insert(key.to_string(), (None, expect));
    }

    /// Appends an outbox entry (an event or an audit record) to the same commit.
    pub fn emit(&self, topic: &str, payload: Vec<u8>) {
        self.state().outbox.push(OutboxEntry { topic: topic.to_string(), payload });
    }

    pub fn has_writes(&self) -> bool {
        let st = self.state();
        !st.writes.is_empty() || !st.outbox.is_empty()
    }

    /// Buffered writes and deletes (distinct keys) plus outbox entries.
    pub fn write_count(&self) -> usize {
        let st = self.state();
        st.writes.len() + st.outbox.len()
    }

    /// Forgets everything buffered and read (a failed request, or a retry after a conflict).
    pub fn discard(&self) {
        *self.state() = TxState::default();
    }

    /// Every key this unit of work read from the store, with the version it saw (`None`: absent).
    pub fn read_set(&self) -> Vec<(String, Option<u64>)> {
        let st = self.state();
        let mut reads: Vec<(String, Option<u64>)> = st.reads.iter().map(|(k, v)| (k.clone(), *v)).collect();
        for shared in &st.shared_reads {
            reads.extend(shared.iter().cloned());
        }
        reads
    }

    /// Makes reads made on this request's behalf (the policies an authorization decision read,
    /// kept with the decision's inputs) part of its read set, without copying them: a change to
    /// any of them before the commit is a conflict, as if this unit of work had read them.
    pub fn remember_reads(&self, reads: SharedReads) {
        if !reads.is_empty() {
            self.state().shared_reads.push(reads);
        }
    }

    /// The batch that commits this unit of work; the unit of work is empty afterwards.
    pub fn take_batch(&self) -> Batch {
        let mut st = std::mem::take(&mut *self.state());
        for shared in std::mem::take(&mut st.shared_reads) {
            for (key, seen) in shared.iter() {
                st.reads.entry(key.clone()).or_insert(*seen);
            }
        }
        let mut batch = Batch::default();
        for (key, seen) in &st.reads {
            if !st.writes.contains_key(key) {
                batch.checks.push((key.clone(), seen.map_or(Expect::Absent, Expect::Version)));
            }
        }
        for (key, (value, explicit)) in st.writes {
            let expect = explicit
                .or_else(|| st.reads.get(&key).map(|seen| seen.map_or(Expect::Absent, Expect::Version)))
                .unwrap_or(Expect::Any);
            batch.writes.push(Write { key, value, expect });
        }
        batch.outbox = st.outbox;
        batch
    }
}
