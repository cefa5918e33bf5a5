//! Pages of `List*` results: `MaxResults` (1..20, 20 when absent) and `NextToken`, a token bound
//! to the query that made it (`ingot_core::page`), holding the sort key of the last item given.

use crate::errors::OrganizationsError;
use crate::fail;
use ingot_core::page::{decode_page_token, encode_page_token};

/// The most results a page holds (and the default).
pub const MAX_RESULTS: usize = 20;

/// One page of `items` (each with its sort key) for `query`, after `next_token`; and the token of
/// the next page when more remain.
pub fn page<T>(
    mut items: Vec<(String, T)>,
    query: &str,
    next_token: Option<&str>,
    max_results: Option<i32>,
) -> Result<(Vec<T>, Option<String>), OrganizationsError> {
    let limit = match max_results {
        None => MAX_RESULTS,
        Some(n) => usize::try_from(n).unwrap_or(1).clamp(1, MAX_RESULTS),
    };
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let start = match next_token.filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => {
            let after = decode_page_token(query, token).ok_or_else(fail::invalid_next_token)?;
            items.partition_point(|(key, _)| key.as_str() <= after.as_str())
        }
    };
    let mut rest = items.into_iter().skip(start);
    let taken: Vec<(String, T)> = rest.by_ref().take(limit).collect();
    let more = rest.next().is_some();
    let token = match (more, taken.last()) {
        (true, Some((key, _))) => Some(encode_page_token(query, key)),
        _ => None,
    };
    Ok((taken.into_iter().map(|(_, item)| item).collect(), token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<(String, usize)> {
        (0..n).map(|i| (format!("k{i:03}"), i)).collect()
    }

    #[test]
    fn pages_follow_each_other_until_the_last() {
        let (first, token) = page(items(5), "q", None, Some(2)).unwrap();
        assert_eq!(first, vec![0, 1]);
        let (second, token) = page(items(5), "q", token.as_deref(), Some(2)).unwrap();
        assert_eq!(second, vec![2, 3]);
        let (third, token) = page(items(5), "q", token.as_deref(), Some(2)).unwrap();
        assert_eq!(third, vec![4]);
        assert!(token.is_none());
    }

    #[test]
    fn a_full_last_page_has_no_token() {
        let (all, token) = page(items(20), "q", None, None).unwrap();
        assert_eq!(all.len(), 20);
        assert!(token.is_none());
        let (some, token) = page(items(21), "q", None, None).unwrap();
        assert_eq!(some.len(), 20);
        assert!(token.is_some());
    }

    #[test]
    fn a_token_of_another_query_is_invalid_input() {
        let (_, token) = page(items(5), "q1", None, Some(1)).unwrap();
        assert!(matches!(
            page(items(5), "q2", token.as_deref(), Some(1)),
            Err(OrganizationsError::InvalidInputException(_))
        ));
        assert!(page(items(5), "q1", Some("garbage"), Some(1)).is_err());
    }
}
