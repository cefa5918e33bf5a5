//! How Parameter Store lays out its state, and the records it keeps.
//!
//! Under `ACCOUNT/REGION/ssm/` (keys are ordered bytewise; `#` cannot occur in a name):
//!
//! | key | record | why |
//! |---|---|---|
//! | `parameters/NAME` | [`ParameterRecord`]: the latest version, labels, tags, policies | one read per GetParameter; name-prefix queries are prefix scans |
//! | `parameter-versions/NAME#VERSION` | [`VersionRecord`]: one version (at most 100 kept) | history and `name:N` |
//! | `parameter-children/PARENT#LEAF` | empty: the child exists (see [`index_child`]) | the direct children of a path are one prefix scan; listings read each child's record |
//! | `parameter-counts/SHARD` | [`CountsRecord`] | the per-account/region tier limits without counting |
//!
//! `NAME` is the canonical name (no leading slash). All of a parameter's keys are written in the
//! same unit of work as the change that needs them: the index entry when the parameter is
//! created, a version with every write, all of them removed together by [`remove`].

use crate::errors::SsmError;
use crate::names::split_parent;
use crate::policies::StoredPolicy;
use crate::types::{ParameterTier, ParameterType};
use ingot_core::{RequestContext, Scope, Timestamp};
use ingot_store::{Record, Tx};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;

/// A parameter: its latest version, and what belongs to the parameter rather than a version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParameterRecord {
    /// The name exactly as created (with or without a leading slash for single-level names).
    pub name: String,
    pub parameter_type: ParameterType,
    /// Plain text for String and StringList; for SecureString the base64 ciphertext.
    pub value: String,
    pub version: i64,
    pub last_modified: Timestamp,
    pub last_modified_user: String,
    pub data_type: String,
    pub tier: ParameterTier,
    pub description: Option<String>,
    pub allowed_pattern: Option<String>,
    /// The KMS key of a SecureString as the caller named it (`alias/aws/ssm` by default).
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub policies: Vec<StoredPolicy>,
    pub tags: Vec<(String, String)>,
    /// Each label and the version it is attached to (a label is on one version at a time).
    #[serde(default)]
    pub labels: BTreeMap<String, i64>,
    /// The oldest version still kept; versions `oldest_version..=version` exist.
    #[serde(default = "first_version")]
    pub oldest_version: i64,
}

fn first_version() -> i64 {
    1
}

impl Record for ParameterRecord {
    const KIND: &'static str = "ssm.parameter";
    const SCHEMA_VERSION: u32 = 2;

    /// Version 1 had no key, policies, labels or retention window: their defaults are right.
    fn upgrade(version: u32, data: serde_json::Value) -> Result<serde_json::Value, String> {
        match version {
            1 => Ok(data),
            other => Err(format!("ssm.parameter has no upgrade from schema version {other}")),
        }
    }
}

impl ParameterRecord {
    /// Labels attached to `version`, in name order.
    pub fn labels_of(&self, version: i64) -> Vec<String> {
        self.labels.iter().filter(|(_, v)| **v == version).map(|(l, _)| l.clone()).collect()
    }

    /// What a response shows of the latest version, borrowed.
    pub fn shown(&self) -> Shown<'_> {
        Shown::new(&self.name, self.parameter_type, &self.value, self.version, self.last_modified, &self.data_type)
    }

    pub fn as_version(&self) -> VersionRecord {
        VersionRecord {
            name: self.name.clone(),
            parameter_type: self.parameter_type,
            value: self.value.clone(),
            version: self.version,
            last_modified: self.last_modified,
            last_modified_user: self.last_modified_user.clone(),
            data_type: self.data_type.clone(),
            tier: self.tier,
            description: self.description.clone(),
            allowed_pattern: self.allowed_pattern.clone(),
            key_id: self.key_id.clone(),
            policies: self.policies.clone(),
        }
    }
}

/// One version of a parameter as it was written.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionRecord {
    pub name: String,
    pub parameter_type: ParameterType,
    pub value: String,
    pub version: i64,
    pub last_modified: Timestamp,
    pub last_modified_user: String,
    pub data_type: String,
    pub tier: ParameterTier,
    pub description: Option<String>,
    pub allowed_pattern: Option<String>,
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub policies: Vec<StoredPolicy>,
}

impl VersionRecord {
    /// What a response shows of this version, borrowed.
    pub fn shown(&self) -> Shown<'_> {
        Shown::new(&self.name, self.parameter_type, &self.value, self.version, self.last_modified, &self.data_type)
    }
}

/// The fields of one version that a `Parameter` in a response shows, borrowed from the record
/// that holds them (the latest version lives in the parameter's record: copying it into a
/// `VersionRecord` first cost a GetParameter a dozen allocations).
pub struct Shown<'a> {
    pub name: &'a str,
    pub parameter_type: ParameterType,
    pub value: &'a str,
    pub version: i64,
    pub last_modified: Timestamp,
    pub data_type: &'a str,
}

impl<'a> Shown<'a> {
    fn new(
        name: &'a str,
        parameter_type: ParameterType,
        value: &'a str,
        version: i64,
        last_modified: Timestamp,
        data_type: &'a str,
    ) -> Self {
        Shown { name, parameter_type, value, version, last_modified, data_type }
    }
}

impl Record for VersionRecord {
    const KIND: &'static str = "ssm.parameter-version";
    const SCHEMA_VERSION: u32 = 1;
}

/// Decodes a version key's value: a [`VersionRecord`], or the full parameter record that the
/// first schema kept under version keys.
pub fn decode_version(bytes: &[u8]) -> Result<VersionRecord, ingot_store::StoreError> {
    match ingot_store::decode_record::<VersionRecord>(bytes) {
        Ok(v) => Ok(v),
        Err(first) => ingot_store::decode_record::<ParameterRecord>(bytes).map(|p| p.as_version()).map_err(|_| first),
    }
}

/// How many parameters of each tier one shard of an account/region holds. Creates and deletes
/// update the shard of the parameter's name, so concurrent writes of different names rarely
/// touch the same record; the limits add all shards up.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CountsRecord {
    pub standard: u64,
    pub advanced: u64,
}

impl Record for CountsRecord {
    const KIND: &'static str = "ssm.parameter-counts";
    const SCHEMA_VERSION: u32 = 1;
}

pub const COUNT_SHARDS: u64 = 16;

/// `ACCOUNT/REGION/ssm/` and `rest`; `extra` reserves room for a number the caller appends.
fn ssm_key(scope: &Scope, rest: &[&str], extra: usize) -> String {
    scope.key_parts("ssm", rest, extra)
}

/// `ACCOUNT/REGION/ssm/`: everything Parameter Store keeps for one scope.
pub fn region_prefix(scope: &Scope) -> String {
    scope.key("ssm", "")
}

/// `ACCOUNT/REGION/ssm/parameters/`.
pub fn parameters_prefix(scope: &Scope) -> String {
    scope.key("ssm", "parameters/")
}

/// `ACCOUNT/REGION/ssm/parameters/NAME`.
pub fn current_key(scope: &Scope, canonical: &str) -> String {
    ssm_key(scope, &["parameters/", canonical], 0)
}

/// `ACCOUNT/REGION/ssm/parameter-versions/NAME#`.
pub fn versions_prefix(scope: &Scope, canonical: &str) -> String {
    ssm_key(scope, &["parameter-versions/", canonical, "#"], 0)
}

/// `ACCOUNT/REGION/ssm/parameter-versions/NAME#VERSION`, the version zero-padded to ten digits
/// so that versions sort by number within a parameter.
pub fn version_key(scope: &Scope, canonical: &str, version: i64) -> String {
    let mut key = ssm_key(scope, &["parameter-versions/", canonical, "#"], 20);
    // Writing into a String cannot fail; the room for any i64 is reserved.
    let _ = write!(key, "{version:010}");
    key
}

/// The prefix of the index entries of the direct children of `parent` (canonical, no slashes
/// around it; empty for the root): `ACCOUNT/REGION/ssm/parameter-children/PARENT#`.
pub fn children_prefix(scope: &Scope, parent: &str) -> String {
    ssm_key(scope, &["parameter-children/", parent, "#"], 0)
}

/// `ACCOUNT/REGION/ssm/parameter-children/PARENT#LEAF`.
pub fn child_key(scope: &Scope, canonical: &str) -> String {
    let (parent, leaf) = split_parent(canonical);
    ssm_key(scope, &["parameter-children/", parent, "#", leaf], 0)
}

/// `ACCOUNT/REGION/ssm/parameter-counts/SHARD`, the shard in two digits.
fn counts_key(scope: &Scope, shard: u64) -> String {
    let mut key = ssm_key(scope, &["parameter-counts/"], 2);
    let _ = write!(key, "{shard:02}");
    key
}

/// The stable hash of shards and derived identifiers.
pub use ingot_store::hash::fnv1a;

fn shard_of(canonical: &str) -> u64 {
    fnv1a(canonical.as_bytes()) % COUNT_SHARDS
}

/// The parameter counts of a scope. The shard of `canonical` is read in the unit
/// of work (it is about to be written); the others are read from committed state, so creates of
/// other names do not conflict with this one.
pub async fn load_counts(tx: &Tx, scope: &Scope, canonical: &str) -> Result<Counts, SsmError> {
    let own = shard_of(canonical);
    let mut total = CountsRecord::default();
    let mut own_record = CountsRecord::default();
    for shard in 0..COUNT_SHARDS {
        let key = counts_key(scope, shard);
        let record = if shard == own {
            let r = tx.get_record::<CountsRecord>(&key).await?.unwrap_or_default();
            own_record = r;
            r
        } else {
            match tx.store().get(&key).await? {
                Some(item) => ingot_store::decode_record::<CountsRecord>(&item.value)?,
                None => CountsRecord::default(),
            }
        };
        total.standard += record.standard;
        total.advanced += record.advanced;
    }
    Ok(Counts { key: counts_key(scope, own), own: own_record, total })
}

/// The counts of all shards, and the shard a change writes.
pub struct Counts {
    key: String,
    own: CountsRecord,
    pub total: CountsRecord,
}

impl Counts {
    pub fn add(&mut self, tier: ParameterTier, delta: i64) {
        let (own, total) = match tier {
            ParameterTier::Advanced => (&mut self.own.advanced, &mut self.total.advanced),
            _ => (&mut self.own.standard, &mut self.total.standard),
        };
        *own = own.saturating_add_signed(delta);
        *total = total.saturating_add_signed(delta);
    }

    pub fn write(&self, tx: &Tx) {
        tx.put_record(&self.key, &self.own);
    }
}

/// Writes a parameter's record, in `tx`.
pub fn save(tx: &Tx, scope: &Scope, canonical: &str, record: &ParameterRecord) {
    tx.put_record(&current_key(scope, canonical), record);
}

/// Adds a new parameter to the index by parent path, in `tx`. The entry only says the child
/// exists (listings read the record itself), so overwrites, labels and tags leave it alone and
/// each write puts one page fewer on disk. Entries written by older builds carry a copy of the
/// record; it is ignored.
pub fn index_child(tx: &Tx, scope: &Scope, canonical: &str) {
    tx.put(&child_key(scope, canonical), Vec::new());
}

/// Reads a parameter of the caller's account and region.
pub async fn load(ctx: &RequestContext<'_>, canonical: &str) -> Result<Option<ParameterRecord>, SsmError> {
    Ok(ctx.tx.get_record(&current_key(ctx.scope, canonical)).await?)
}

/// Reads a parameter of `scope` (another account's, for a parameter shared with the caller).
pub async fn load_in(tx: &Tx, scope: &Scope, canonical: &str) -> Result<Option<ParameterRecord>, SsmError> {
    Ok(tx.get_record(&current_key(scope, canonical)).await?)
}

/// [`load`] for the reads that answer GetParameter and GetParameters, which come back to the
/// same few parameters again and again: through the store's decoded records.
pub async fn load_for_get(
    ctx: &RequestContext<'_>,
    canonical: &str,
) -> Result<Option<std::sync::Arc<ParameterRecord>>, SsmError> {
    load_for_get_in(&ctx.tx, ctx.scope, canonical).await
}

/// [`load_for_get`] of a parameter of `scope`.
pub async fn load_for_get_in(
    tx: &Tx,
    scope: &Scope,
    canonical: &str,
) -> Result<Option<std::sync::Arc<ParameterRecord>>, SsmError> {
    Ok(tx.get_record_cached(current_key(scope, canonical)).await?)
}

/// Reads one version of a parameter of `scope`.
pub async fn load_version(
    tx: &Tx,
    scope: &Scope,
    canonical: &str,
    version: i64,
) -> Result<Option<VersionRecord>, SsmError> {
    match tx.get(&version_key(scope, canonical, version)).await? {
        Some(bytes) => Ok(Some(decode_version(&bytes)?)),
        None => Ok(None),
    }
}

/// Removes a parameter and everything kept for it (versions, index entry, count), in `tx`.
pub async fn remove(tx: &Tx, scope: &Scope, canonical: &str, record: &ParameterRecord) -> Result<(), SsmError> {
    tx.delete(&current_key(scope, canonical));
    tx.delete(&child_key(scope, canonical));
    for version in record.oldest_version.max(1)..=record.version {
        tx.delete(&version_key(scope, canonical, version));
    }
    let mut counts = load_counts(tx, scope, canonical).await?;
    counts.add(record.tier, -1);
    counts.write(tx);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope::new(
            ingot_core::AccountId::parse("123456789012").unwrap(),
            ingot_core::Region::parse("us-east-1").unwrap(),
        )
    }

    #[test]
    fn keys_keep_the_layout_of_stored_data() {
        let s = scope();
        assert_eq!(region_prefix(&s), "123456789012/us-east-1/ssm/");
        assert_eq!(parameters_prefix(&s), "123456789012/us-east-1/ssm/parameters/");
        assert_eq!(current_key(&s, "a/b"), "123456789012/us-east-1/ssm/parameters/a/b");
        assert_eq!(versions_prefix(&s, "a/b"), "123456789012/us-east-1/ssm/parameter-versions/a/b#");
        assert_eq!(version_key(&s, "a/b", 7), "123456789012/us-east-1/ssm/parameter-versions/a/b#0000000007");
        assert_eq!(counts_key(&s, 3), "123456789012/us-east-1/ssm/parameter-counts/03");
        assert_eq!(current_key(&s, "a/b"), s.key("ssm", "parameters/a/b"));
        assert_eq!(ssm_key(&s, &["x/", "y"], 0), s.key("ssm", "x/y"));
    }

    #[test]
    fn the_longest_version_fits_the_room_reserved_for_it() {
        // Filled exactly, not grown: one allocation.
        let key = version_key(&scope(), "p", i64::MIN);
        assert_eq!(key.len(), key.capacity());
    }

    #[test]
    fn version_keys_sort_numerically() {
        let s = scope();
        let k9 = version_key(&s, "p", 9);
        let k10 = version_key(&s, "p", 10);
        assert!(k9 < k10);
        assert!(k9.starts_with(&versions_prefix(&s, "p")));
    }

    #[test]
    fn a_parameter_and_another_that_extends_its_name_have_separate_version_ranges() {
        // `p#…` versions never fall inside the `p-x#` range and the other way round.
        let s = scope();
        let p = versions_prefix(&s, "p");
        assert!(!version_key(&s, "p-x", 1).starts_with(&p));
    }

    #[test]
    fn children_are_indexed_under_their_parent_path() {
        let s = scope();
        assert_eq!(child_key(&s, "x/y/z"), "123456789012/us-east-1/ssm/parameter-children/x/y#z");
        assert_eq!(child_key(&s, "top"), "123456789012/us-east-1/ssm/parameter-children/#top");
        assert!(child_key(&s, "x/y/z").starts_with(&children_prefix(&s, "x/y")));
        assert!(!child_key(&s, "x/yy/z").starts_with(&children_prefix(&s, "x/y")));
    }

    #[test]
    fn first_schema_records_upgrade_with_defaults() {
        let v1 = br#"{"kind":"ssm.parameter","v":1,"data":{"name":"p","parameter_type":"String","value":"x",
            "version":3,"last_modified":1,"last_modified_user":"u","data_type":"text","tier":"Standard",
            "description":null,"allowed_pattern":null,"tags":[]}}"#;
        let r: ParameterRecord = ingot_store::decode_record(v1).unwrap();
        assert_eq!((r.version, r.oldest_version, r.labels.len(), r.key_id), (3, 1, 0, None));
        assert_eq!(decode_version(v1).unwrap().version, 3);
    }

    #[test]
    fn counts_never_go_below_zero() {
        let mut c = Counts { key: String::new(), own: CountsRecord::default(), total: CountsRecord::default() };
        c.add(ParameterTier::Standard, -1);
        assert_eq!(c.total.standard, 0);
        c.add(ParameterTier::Advanced, 2);
        assert_eq!((c.own.advanced, c.total.advanced), (2, 2));
    }
}
