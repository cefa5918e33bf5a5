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

/// One page of a listing: its items, and the token of the next page when there is more.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub marker: Option<String>,
}

impl<T> Page<T> {
    pub fn is_truncated(&self) -> bool {
        self.marker.is_some()
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), marker: self.marker }
    }
}

/// Why a page could not be made: the caller's token is not one of this query (each service
/// answers with its own error), or the store failed.
#[derive(Debug)]
pub enum PageError {
    InvalidToken,
    Store(ingot_store::StoreError),
}

impl From<ingot_store::StoreError> for PageError {
    fn from(e: ingot_store::StoreError) -> Self {
        PageError::Store(e)
    }
}

/// Records read per store scan while a filtered listing fills its page.
const SCAN_BATCH: usize = 200;

/// The sort key after which a page starts; `None` for the first page.
pub fn start_after(query: &str, token: Option<&str>) -> Result<Option<String>, PageError> {
    match token {
        None => Ok(None),
        Some(token) => decode_page_token(query, token).map(Some).ok_or(PageError::InvalidToken),
    }
}

/// A page of `items`, each with its sort key (unique): sorted here, then cut after the token's
/// key and at `max_items`.
pub fn page_of<T>(
    mut items: Vec<(String, T)>,
    query: &str,
    token: Option<&str>,
    max_items: usize,
) -> Result<Page<T>, PageError> {
    let after = start_after(query, token)?;
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rest = items.into_iter().filter(|(k, _)| after.as_ref().is_none_or(|a| k > a)).peekable();
    let mut page = Vec::new();
    let mut last = None;
    while page.len() < max_items {
        match rest.next() {
            Some((k, item)) => {
                last = Some(k);
                page.push(item);
            }
            None => break,
        }
    }
    let marker = match (rest.peek(), last) {
        (Some(_), Some(last)) => Some(encode_page_token(query, &last)),
        _ => None,
    };
    Ok(Page { items: page, marker })
}

/// A page of the records under `prefix` (in key order) that `keep` accepts.
pub async fn scan_page<R: ingot_store::Record>(
    tx: &ingot_store::Tx,
    prefix: &str,
    query: &str,
    token: Option<&str>,
    max_items: usize,
    mut keep: impl FnMut(&R) -> bool,
) -> Result<Page<R>, PageError> {
    let mut after = start_after(query, token)?;
    let mut page = Vec::new();
    let mut last_kept: Option<String> = None;
    loop {
        let batch = tx.scan_records::<R>(prefix, after.as_deref(), SCAN_BATCH).await?;
        let full = batch.len() == SCAN_BATCH;
        for (key, record) in batch {
            after = Some(key.clone());
            if !keep(&record) {
                continue;
            }
            if page.len() == max_items {
                let marker = last_kept.map(|k| encode_page_token(query, &k));
                return Ok(Page { items: page, marker });
            }
            last_kept = Some(key);
            page.push(record);
        }
        if !full {
            return Ok(Page { items: page, marker: None });
        }
    }
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
