//! Pieces every backend shares, so that key ordering, prefix ranges, expectation checks and the
//! read cache cannot drift apart between SQLite and PostgreSQL. For backend crates only: a
//! service reads and writes through [`crate::Tx`] and never needs these.

use crate::{Expect, StoreError};

pub use crate::read_cache::{ReadCache, DEFAULT_CAPACITY_BYTES};

/// The smallest byte string greater than every string starting with `prefix`, or `None` when no
/// such bound exists (empty prefix, or only `0xFF` bytes). Prefix scans become the index range
/// `key >= prefix AND key < successor`, which both databases answer from the primary key.
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut bound = prefix.to_vec();
    while let Some(last) = bound.pop() {
        if last < 0xFF {
            bound.push(last + 1);
            return Some(bound);
        }
    }
    None
}

/// The lower bound of a scan: `(bytes, exclusive)`. `start_after` only matters when it sorts at or
/// after `prefix`; before it, every key with the prefix is already after it.
pub fn scan_lower_bound<'a>(prefix: &'a str, start_after: Option<&'a str>) -> (&'a [u8], bool) {
    match start_after {
        Some(after) if after.as_bytes() >= prefix.as_bytes() => (after.as_bytes(), true),
        _ => (prefix.as_bytes(), false),
    }
}

/// The key ranges `[from, to)` (`to = None`: unbounded) that [`crate::Store::reset`] deletes:
/// the complement of the ranges covered by `keep_prefixes`. Deleting by range keeps reset on the
/// primary key index whatever the number of prefixes.
pub fn reset_gaps(keep_prefixes: &[String]) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let mut kept: Vec<(Vec<u8>, Option<Vec<u8>>)> =
        keep_prefixes.iter().map(|p| (p.as_bytes().to_vec(), prefix_successor(p.as_bytes()))).collect();
    kept.sort();
    let mut gaps = Vec::new();
    // Start of the range not yet known to be kept or deleted; `None`: nothing is left.
    let mut cursor: Option<Vec<u8>> = Some(Vec::new());
    for (from, to) in kept {
        let Some(start) = cursor.take() else { break };
        if from > start {
            gaps.push((start.clone(), Some(from)));
        }
        // Ranges may overlap (`a/` and `a/b/`): the kept region extends to the larger end.
        cursor = to.map(|to| to.max(start));
    }
    if let Some(start) = cursor {
        gaps.push((start, None));
    }
    gaps
}

/// Whether a key whose current version is `current` (`None`: absent) satisfies `expect`. Both
/// backends check with this one function so that they agree on every case.
pub fn expectation_holds(expect: Expect, current: Option<u64>) -> bool {
    match expect {
        Expect::Any => true,
        Expect::Absent => current.is_none(),
        Expect::Version(v) => current == Some(v),
    }
}

/// Versions are `u64` in the API and signed 64-bit integers in both databases; a negative stored
/// version can only mean corruption, so it is a backend failure rather than a panic.
pub fn version_from_db(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Backend(format!("corrupt version {v} in kv table")))
}

/// Keys are stored as their UTF-8 bytes; anything else in the key column is corruption.
pub fn key_from_db(bytes: Vec<u8>) -> Result<String, StoreError> {
    String::from_utf8(bytes).map_err(|e| StoreError::Backend(format!("non-UTF-8 key in kv table: {e}")))
}

/// Row limits arrive as `usize` and databases take signed 64-bit limits; saturate instead of
/// wrapping so `usize::MAX` means "no limit".
pub fn limit_to_db(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Checks a backend's frozen migrations (for its tests): the files under `dir` are exactly the
/// embedded `migrations`, numbered 1, 2, … in order as `NNNN_name.sql`, and each text still has
/// the FNV-1a 64 fingerprint recorded in `frozen` when it was applied first. A database records
/// only the numbers it applied, so a changed text would go unnoticed there; it fails here.
pub fn assert_migrations_frozen(dir: &std::path::Path, migrations: &[(i64, &str)], frozen: &[(i64, u64)]) {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("migrations directory")
        .map(|entry| entry.expect("directory entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), migrations.len(), "every file under migrations/ is in the list: {files:?}");
    for (index, (file, (version, sql))) in files.iter().zip(migrations).enumerate() {
        assert_eq!(*version, index as i64 + 1, "migrations are numbered 1, 2, … in order");
        assert!(file.starts_with(&format!("{version:04}_")) && file.ends_with(".sql"), "{file}");
        let on_disk = std::fs::read_to_string(dir.join(file)).expect("migration file");
        assert_eq!(on_disk, *sql, "{file} is the embedded text");
    }
    let fingerprints: Vec<(i64, u64)> =
        migrations.iter().map(|(v, sql)| (*v, crate::hash::fnv1a(sql.as_bytes()))).collect();
    assert_eq!(fingerprints, frozen, "an applied migration changed (append a new one instead)");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_successor_increments_the_last_byte_that_can_grow() {
        assert_eq!(prefix_successor(b"a/b"), Some(b"a/c".to_vec()));
        assert_eq!(prefix_successor(b"a\xff\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_successor(b""), None);
        assert_eq!(prefix_successor(b"\xff"), None);
        // A multi-byte UTF-8 prefix: "é" is C3 A9, the bound C3 AA is "ê".
        assert_eq!(prefix_successor("é".as_bytes()), Some("ê".as_bytes().to_vec()));
    }

    #[test]
    fn scan_lower_bound_uses_start_after_only_when_it_is_inside_or_past_the_prefix() {
        assert_eq!(scan_lower_bound("a/", None), (&b"a/"[..], false));
        assert_eq!(scan_lower_bound("a/", Some("a/x")), (&b"a/x"[..], true));
        assert_eq!(scan_lower_bound("a/", Some("a")), (&b"a/"[..], false));
        assert_eq!(scan_lower_bound("a/", Some("a/")), (&b"a/"[..], true));
    }

    #[test]
    fn reset_gaps_are_the_complement_of_the_kept_prefixes() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let b = |s: &str| s.as_bytes().to_vec();
        assert_eq!(reset_gaps(&[]), vec![(vec![], None)]);
        assert_eq!(reset_gaps(&s(&[""])), vec![]);
        assert_eq!(reset_gaps(&s(&["b/"])), vec![(vec![], Some(b("b/"))), (b("b0"), None)]);
        assert_eq!(
            reset_gaps(&s(&["c", "a/", "a/b/"])),
            vec![(vec![], Some(b("a/"))), (b("a0"), Some(b("c"))), (b("d"), None)]
        );
        // Adjacent ranges leave no empty gap between them.
        assert_eq!(reset_gaps(&s(&["a", "b"])), vec![(vec![], Some(b("a"))), (b("c"), None)]);
    }

    #[test]
    fn expectations_compare_with_the_current_version() {
        assert!(expectation_holds(Expect::Any, None));
        assert!(expectation_holds(Expect::Any, Some(3)));
        assert!(expectation_holds(Expect::Absent, None));
        assert!(!expectation_holds(Expect::Absent, Some(1)));
        assert!(expectation_holds(Expect::Version(2), Some(2)));
        assert!(!expectation_holds(Expect::Version(2), Some(3)));
        assert!(!expectation_holds(Expect::Version(2), None));
    }
}
