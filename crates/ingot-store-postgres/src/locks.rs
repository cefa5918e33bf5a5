//! Advisory lock ids. Replicas, possibly of different Ingot versions, must compute the same id
//! for the same key, so the ids come from a hash that never changes ([`fnv1a`]), and every id is
//! namespaced by the schema so that tests in separate schemas and several deployments in one
//! database do not block each other.

/// Advisory lock ids derived from it must agree between replicas, possibly of different
/// versions: see [`ingot_store::hash`].
pub(crate) use ingot_store::hash::fnv1a_parts as fnv1a;

/// Advisory lock ids of one store: every id is namespaced by the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Locks {
    schema_tag: u64,
}

impl Locks {
    /// Lock ids for the tables in `schema` (`None`: the default search path).
    pub(crate) fn new(schema: Option<&str>) -> Self {
        Locks { schema_tag: fnv1a(&[schema.unwrap_or("").as_bytes()]) }
    }

    /// The `int8` advisory lock guarding the existence of `key`.
    pub(crate) fn key(&self, key: &[u8]) -> i64 {
        // Reinterpreting the bits is intended: any 64-bit value is a valid lock id.
        fnv1a(&[&self.schema_tag.to_be_bytes(), key]) as i64
    }

    /// The second key of the two-`int4` class locks.
    pub(crate) fn class_key(&self) -> i32 {
        // Folding to 32 bits is intended; collisions only make two schemas share a lock.
        (self.schema_tag ^ (self.schema_tag >> 32)) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK_KEY_SSM_PARAM_IN_INGOT: i64 = -4_060_081_699_129_387_501;
    const CLASS_KEY_INGOT: i32 = -265_005_865;

    #[test]
    fn lock_ids_never_change_between_builds() {
        // Replicas of different versions must agree on these; a change here is a breaking change.
        // FNV-1a 64 of "a" is the published test vector.
        assert_eq!(fnv1a(&[b"a"]), 0xaf63_dc4c_8601_ec8c);
        let locks = Locks::new(Some("ingot"));
        assert_eq!(locks.key(b"ssm/param"), LOCK_KEY_SSM_PARAM_IN_INGOT);
        assert_eq!(locks.class_key(), CLASS_KEY_INGOT);
        assert_ne!(Locks::new(None).key(b"k"), Locks::new(Some("other")).key(b"k"));
    }
}
