//! `Marker` / `MaxItems` pagination. `MaxItems` is 1..=1000 (the codec checks the model's range)
//! and 100 by default; a marker is a page token bound to the listing's query (`ingot_core::page`),
//! holding the sort key of the last item returned, so a page never repeats or skips an item that
//! stays put while the caller pages.

use crate::errors::IamError;
use ingot_core::page::{self, PageError};
use ingot_core::CommonError;
use ingot_store::{Record, Tx};

pub const DEFAULT_MAX_ITEMS: usize = 100;
const MAX_MAX_ITEMS: usize = 1000;

/// The page size a request asks for.
pub fn max_items(requested: Option<i32>) -> usize {
    match requested {
        Some(n) if n > 0 => usize::try_from(n).unwrap_or(MAX_MAX_ITEMS).min(MAX_MAX_ITEMS),
        _ => DEFAULT_MAX_ITEMS,
    }
}

pub use ingot_core::page::Page;

fn iam_error(e: PageError) -> IamError {
    match e {
        PageError::InvalidToken => CommonError::validation("Invalid Marker.").into(),
        PageError::Store(e) => e.into(),
    }
}

/// The sort key after which a page starts; `None` for the first page.
pub fn start_after(query: &str, marker: Option<&str>) -> Result<Option<String>, IamError> {
    page::start_after(query, marker).map_err(iam_error)
}

/// A page of `items`, each with its sort key (unique): sorted here, then cut after the marker's
/// key and at `max_items`.
pub fn page_of<T>(
    items: Vec<(String, T)>,
    query: &str,
    marker: Option<&str>,
    max_items: usize,
) -> Result<Page<T>, IamError> {
    page::page_of(items, query, marker, max_items).map_err(iam_error)
}

/// A page of the records under `prefix` (in key order) that `keep` accepts.
pub async fn scan_page<R: Record>(
    tx: &Tx,
    prefix: &str,
    query: &str,
    marker: Option<&str>,
    max_items: usize,
    keep: impl FnMut(&R) -> bool,
) -> Result<Page<R>, IamError> {
    page::scan_page(tx, prefix, query, marker, max_items, keep).await.map_err(iam_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<(String, usize)> {
        (0..n).map(|i| (format!("k{i:03}"), i)).collect()
    }

    #[test]
    fn max_items_defaults_to_one_hundred_and_stops_at_a_thousand() {
        assert_eq!(max_items(None), 100);
        assert_eq!(max_items(Some(5)), 5);
        assert_eq!(max_items(Some(5000)), 1000);
        assert_eq!(max_items(Some(0)), 100);
    }

    #[test]
    fn pages_follow_each_other_without_gaps_or_repeats() {
        let first = page_of(items(5), "q", None, 2).unwrap();
        assert_eq!(first.items, [0, 1]);
        let second = page_of(items(5), "q", first.marker.as_deref(), 2).unwrap();
        assert_eq!(second.items, [2, 3]);
        let third = page_of(items(5), "q", second.marker.as_deref(), 2).unwrap();
        assert_eq!(third.items, [4]);
        assert!(!third.is_truncated());
    }

    #[test]
    fn an_exactly_full_last_page_is_not_truncated() {
        let page = page_of(items(4), "q", None, 4).unwrap();
        assert_eq!(page.items.len(), 4);
        assert!(page.marker.is_none());
    }

    #[test]
    fn a_marker_of_another_query_or_garbage_is_refused() {
        let first = page_of(items(5), "q", None, 2).unwrap();
        assert!(page_of(items(5), "other", first.marker.as_deref(), 2).is_err());
        assert!(page_of(items(5), "q", Some("garbage"), 2).is_err());
    }
}
