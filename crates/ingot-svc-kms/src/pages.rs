//! `Limit` / `Marker` pagination: `Limit` is 1..=1000 (the codec checks the model's range) and 100
//! by default; a marker is a page token bound to the listing's query (`ingot_core::page`).

use crate::errors::KmsError;
use ingot_core::page::PageError;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// The page size a request asks for.
pub fn limit(requested: Option<i32>) -> usize {
    match requested {
        Some(n) if n > 0 => usize::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
        _ => DEFAULT_LIMIT,
    }
}

/// KMS's answer to a marker that no listing of this query made.
pub fn page_error(error: PageError) -> KmsError {
    match error {
        PageError::InvalidToken => KmsError::invalid_marker_exception("Invalid marker"),
        PageError::Store(e) => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_to_one_hundred_and_stop_at_a_thousand() {
        assert_eq!(limit(None), 100);
        assert_eq!(limit(Some(7)), 7);
        assert_eq!(limit(Some(5000)), 1000);
    }
}
