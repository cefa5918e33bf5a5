//! `nextToken` / `maxResults` pagination: a token is a page token bound to the listing's query
//! (`ingot_core::page`); `maxResults` is 1..=500, and without it a listing returns everything.

use crate::errors::RamError;
use ingot_core::page::{page_of, Page, PageError};

const MAX_RESULTS: usize = 500;

fn page_error(error: PageError) -> RamError {
    match error {
        PageError::InvalidToken => {
            RamError::invalid_next_token_exception("The specified value for NextToken is not valid.")
        }
        PageError::Store(e) => e.into(),
    }
}

/// A page of `items` (each with a unique sort key) for `query`.
pub fn page<T>(
    items: Vec<(String, T)>,
    query: &str,
    next_token: Option<&str>,
    max_results: Option<i32>,
) -> Result<Page<T>, RamError> {
    let size = match max_results {
        Some(n) if !(1..=MAX_RESULTS as i32).contains(&n) => {
            return Err(RamError::invalid_max_results_exception(format!(
                "The specified value for MaxResults is not valid. Specify a value between 1 and {MAX_RESULTS}."
            )))
        }
        Some(n) => n as usize,
        None => usize::MAX,
    };
    page_of(items, query, next_token, size).map_err(page_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_results_outside_one_to_five_hundred_is_refused() {
        let items = || vec![("a".to_string(), 1), ("b".to_string(), 2)];
        assert!(matches!(page(items(), "q", None, Some(0)), Err(RamError::InvalidMaxResultsException(_))));
        assert!(matches!(page(items(), "q", None, Some(501)), Err(RamError::InvalidMaxResultsException(_))));
        let first = page(items(), "q", None, Some(1)).unwrap();
        assert_eq!(first.items, [1]);
        let second = page(items(), "q", first.marker.as_deref(), Some(1)).unwrap();
        assert_eq!(second.items, [2]);
        assert!(matches!(
            page(items(), "other", first.marker.as_deref(), None),
            Err(RamError::InvalidNextTokenException(_))
        ));
    }
}
