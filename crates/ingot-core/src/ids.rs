//! Identifier generation: every id Ingot hands out comes from one [`IdGen`].

use rand::{Rng, RngCore};
use std::sync::Mutex;

/// Produces AWS-shaped identifiers. Seeded generators make tests deterministic.
pub struct IdGen {
    source: Source,
}

enum Source {
    /// Each thread's own generator (`rand::thread_rng`, seeded from the OS): one generator
    /// behind a mutex made the cores take turns, and every request draws its request id here.
    Entropy,
    /// One generator, in call order.
    Seeded(Box<Mutex<rand::rngs::StdRng>>),
}

impl std::fmt::Debug for IdGen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdGen")
    }
}

impl Default for IdGen {
    fn default() -> Self {
        Self::new()
    }
}

/// `bytes` as a version 4 UUID, lower-case hyphenated (the version and variant bits are set).
pub fn uuid_v4_string(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    // Written digit by digit: this runs for every request.
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    out
}

impl IdGen {
    pub fn new() -> Self {
        IdGen { source: Source::Entropy }
    }

    pub fn seeded(seed: u64) -> Self {
        use rand::SeedableRng;
        IdGen { source: Source::Seeded(Box::new(Mutex::new(rand::rngs::StdRng::seed_from_u64(seed)))) }
    }

    fn with<T>(&self, f: impl FnOnce(&mut dyn RngCore) -> T) -> T {
        match &self.source {
            Source::Entropy => f(&mut rand::thread_rng()),
            Source::Seeded(rng) => f(&mut *rng.lock().unwrap_or_else(|p| p.into_inner())),
        }
    }

    pub fn bytes(&self, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        self.with(|r| r.fill_bytes(&mut v));
        v
    }

    /// Random UUID (version 4), lower-case hyphenated.
    pub fn uuid(&self) -> String {
        let mut b = [0u8; 16];
        self.with(|r| r.fill_bytes(&mut b));
        uuid_v4_string(b)
    }

    /// `prefix-` followed by 17 lower-case hex digits (`ami-`, `i-`, `snap-`, `vol-`, `lt-`).
    pub fn resource_id(&self, prefix: &str) -> String {
        let digits: String = self.with(|r| (0..17).map(|_| HEX[r.gen_range(0..16)] as char).collect());
        format!("{prefix}-{digits}")
    }

    /// A 12-digit account id that does not start with 0.
    pub fn account_id(&self) -> String {
        self.with(|r| format!("{}{:011}", r.gen_range(1..10), r.gen_range(0..100_000_000_000u64)))
    }

    /// A 40-character secret access key.
    pub fn secret_access_key(&self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        self.with(|r| (0..40).map(|_| ALPHABET[r.gen_range(0..ALPHABET.len())] as char).collect())
    }

    /// A unique id in the style of IAM (`AIDA…`, `AROA…`): prefix plus 17 upper-case characters.
    pub fn unique_id(&self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let tail: String = self.with(|r| (0..17).map(|_| ALPHABET[r.gen_range(0..ALPHABET.len())] as char).collect());
        format!("{prefix}{tail}")
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_have_seventeen_hex_digits() {
        let ids = IdGen::seeded(7);
        let id = ids.resource_id("ami");
        assert_eq!(id.len(), 4 + 17);
        assert!(id[4..].bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }

    #[test]
    fn uuids_are_version_four() {
        let u = IdGen::seeded(1).uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        let groups: Vec<usize> = u.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert!(u.chars().all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "variant bits in {u}");
    }

    #[test]
    fn account_ids_are_twelve_digits() {
        let ids = IdGen::seeded(3);
        for _ in 0..100 {
            let a = ids.account_id();
            assert_eq!(a.len(), 12);
            assert!(a.bytes().all(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn seeded_generators_repeat() {}
}
