//! FNV-1a (64 bits): the one stable hash for what must come out the same on every build,
//! platform and Ingot version — count shards and derived ids in stored keys, page-token
//! fingerprints, advisory lock ids shared by replicas of different versions, frozen migration
//! fingerprints. It must never change. (std's hasher is randomized and may change.)

/// FNV-1a of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_parts(&[bytes])
}

/// FNV-1a of the concatenation of `parts`, without building it.
pub fn fnv1a_parts(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in *part {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_gives_the_published_vectors_and_parts_hash_as_their_concatenation() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_parts(&[b"fo", b"", b"obar"]), fnv1a(b"foobar"));
    }
}
