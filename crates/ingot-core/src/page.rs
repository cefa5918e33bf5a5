//! Page tokens: opaque to clients, bound to the query that made them, so a token given with
//! another query (another path, other filters) is refused instead of silently skipping items.
//!
//! A token is base64 of `{"q": fingerprint of the query, "k": where the next page starts}`. The
//! query text is whatever the operation considers its query (its filters, written out); the
//! position is the last key examined, or an offset, as the operation chooses.

use base64::Engine;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Token {
    /// Fingerprint of the query the token continues.
    q: String,
    /// Where the next page starts.
    k: String,
}

/// The token that continues `query` after `position`.
pub fn encode_page_token(query: &str, position: &str) -> String {
    let token = Token { q: fingerprint(query), k: position.to_string() };
    // Two strings: serializing cannot fail.
    base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

/// The position a token made for `query` holds; `None` for garbage or a token of another query
/// (the operation answers with its own invalid-token error).
pub fn decode_page_token(query: &str, token: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(token).ok()?;
    let token: Token = serde_json::from_slice(&bytes).ok()?;
    (token.q == fingerprint(query)).then_some(token.k)
}

/// FNV-1a, 64 bits, in hex: stable across builds and platforms (std's hasher is not).
fn fingerprint(query: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in query.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_continues_only_the_query_that_made_it() {
        let token = encode_page_token("path=/a;recursive", "a/b");
        assert_eq!(decode_page_token("path=/a;recursive", &token).as_deref(), Some("a/b"));
        assert_eq!(decode_page_token("path=/b;recursive", &token), None);
    }

    #[test]
    fn garbage_is_not_a_token() {
        assert_eq!(decode_page_token("q", "!!"), None);
        let not_json = base64::engine::general_purpose::STANDARD.encode("rt:5");
        assert_eq!(decode_page_token("q", &not_json), None);
    }
}
