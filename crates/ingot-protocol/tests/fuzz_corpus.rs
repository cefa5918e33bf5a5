//! Runs every fuzz corpus file (`fuzz/corpus/<target>/`) and every saved crash
//! (`fuzz/artifacts/<target>/`, if present) through the fuzz entry points, then a few thousand
//! deterministic mutations of them, and asserts that nothing panics.

use std::fs;
use std::path::{Path, PathBuf};

use ingot_protocol::fuzzing;

type Entry = fn(&[u8]);

const TARGETS: [(&str, Entry); 4] = [
    ("aws_json", fuzzing::aws_json),
    ("rest_json", fuzzing::rest_json),
    ("aws_query", fuzzing::aws_query),
    ("ec2_query", fuzzing::ec2_query),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn files(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect();
    paths.sort();
    paths.iter().map(|p| fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).collect()
}

fn run_all(name: &str, entry: Entry, inputs: &[Vec<u8>]) {
    for (i, input) in inputs.iter().enumerate() {
        let outcome = std::panic::catch_unwind(|| entry(input));
        assert!(outcome.is_ok(), "{name}: input #{i} panicked: {:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn every_corpus_file_runs_without_panicking() {
    let mut total = 0;
    for (name, entry) in TARGETS {
        let corpus = files(&fuzz_dir().join("corpus").join(name));
        assert!(corpus.len() >= 10, "{name}: expected a seed corpus, found {} files", corpus.len());
        total += corpus.len();
        run_all(name, entry, &corpus);
    }
    assert!(total >= 40);
}

#[test]
fn every_saved_crash_runs_without_panicking() {
    for (name, entry) in TARGETS {
        run_all(name, entry, &files(&fuzz_dir().join("artifacts").join(name)));
    }
}

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const TOKENS: [&[u8]; 16] = [
    b".",
    b"&",
    b"=",
    b"%",
    b"%2",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"\n",
    b",",
    b".member.",
    b".1",
    b"99999999999999999999",
    b"null",
];

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, t.iter().copied());
            }
            2 if !out.is_empty() => {
                let end = (at + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + rng.below(64)).min(other.len());
                out.splice(at..at, other[from..end].iter().copied());
            }
            4 if !out.is_empty() => {
                let from = rng.below(out.len());
                let end = (from + rng.below(32)).min(out.len());
                let chunk = out[from..end].to_vec();
                out.splice(at..at, chunk);
            }
            _ => out.insert(at, rng.next() as u8),
        }
    }
    out
}

#[test]
fn mutated_corpus_inputs_run_without_panicking() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for (name, entry) in TARGETS {
        let corpus = files(&fuzz_dir().join("corpus").join(name));
        let mut inputs = Vec::new();
        for _ in 0..1500 {
            let seed = &corpus[rng.below(corpus.len())];
            let other = &corpus[rng.below(corpus.len())];
            inputs.push(mutate(&mut rng, seed, other));
        }
        run_all(name, entry, &inputs);
    }
}
