//! Timestamps between their wire forms (epoch seconds, ISO 8601, RFC 822 / HTTP-date) and the
//! canonical value (a JSON number of seconds since the epoch).

use ingot_core::model::TimestampFormat;
use ingot_core::Timestamp;
use serde_json::Value;

/// The canonical JSON value of an instant: an integer when it falls on a whole second.
pub fn to_canonical(ts: Timestamp) -> Value {
    if ts.millis() % 1000 == 0 {
        Value::from(ts.seconds())
    } else {
        Value::from(ts.as_epoch_seconds_f64())
    }
}

/// Reads a canonical timestamp (a number of seconds).
pub fn from_canonical(v: &Value) -> Option<Timestamp> {
    match v {
        Value::Number(n) => n.as_f64().and_then(Timestamp::from_epoch_seconds_f64),
        // Tolerate handlers that put an ISO string in the canonical value.
        Value::String(s) => Timestamp::parse_iso8601(s),
        _ => None,
    }
}

/// Parses a textual timestamp in `format`. Epoch seconds may carry a fraction.
pub fn parse_text(text: &str, format: TimestampFormat) -> Option<Timestamp> {
    let text = text.trim();
    match format {
        TimestampFormat::EpochSeconds => parse_epoch(text),
        TimestampFormat::Iso8601 => Timestamp::parse_iso8601(text),
        TimestampFormat::Rfc822 => parse_http_date(text),
    }
}

fn parse_epoch(text: &str) -> Option<Timestamp> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') {
        return None;
    }
    text.parse::<f64>().ok().and_then(Timestamp::from_epoch_seconds_f64)
}

/// Formats `ts` for a text context (XML element, header, query value, JSON string).
pub fn format_text(ts: Timestamp, format: TimestampFormat) -> String {
    match format {
        TimestampFormat::EpochSeconds => {
            if ts.millis() % 1000 == 0 {
                ts.seconds().to_string()
            } else {
                ts.as_epoch_seconds_f64().to_string()
            }
        }
        TimestampFormat::Iso8601 => ts.to_iso8601(),
        TimestampFormat::Rfc822 => ts.to_rfc822(),
    }
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// Parses an RFC 822 / RFC 7231 IMF-fixdate (`Mon, 16 Dec 2019 23:48:18 GMT`); the weekday is
/// optional and fractional seconds (`18.123`) are accepted as some SDKs send them.
pub fn parse_http_date(text: &str) -> Option<Timestamp> {
    let rest = match text.split_once(',') {
        Some((weekday, rest)) if weekday.len() <= 9 && weekday.bytes().all(|b| b.is_ascii_alphabetic()) => rest,
        Some(_) => return None,
        None => text,
    };
    let mut parts = rest.split_ascii_whitespace();
    let day: i64 = small_number(parts.next()?, 1, 2)?;
    let month_text = parts.next()?.to_ascii_lowercase();
    let month = MONTHS.iter().position(|m| *m == month_text)? as i64 + 1;
    let year: i64 = small_number(parts.next()?, 4, 4)?;
    let time = parts.next()?;
    let zone = parts.next()?;
    if parts.next().is_some() || !(zone.eq_ignore_ascii_case("GMT") || zone.eq_ignore_ascii_case("UTC") || zone == "Z")
    {
        return None;
    }
    let mut hms = time.splitn(3, ':');
    let h: i64 = small_number(hms.next()?, 2, 2)?;
    let mi: i64 = small_number(hms.next()?, 2, 2)?;
    let sec_text = hms.next()?;
    let (s_text, frac) = match sec_text.split_once('.') {
        Some((s, f)) => (s, Some(f)),
        None => (sec_text, None),
    };
    let s: i64 = small_number(s_text, 2, 2)?;
    let ms = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let digits = &f[..f.len().min(3)];
            digits.parse::<i64>().ok()? * 10_i64.pow(3 - digits.len() as u32)
        }
        Some(_) => return None,
    };
    // Reuse the ISO parser for calendar validation and arithmetic.
    let iso = format!("{year:04}-{month:02}-{day:02}T{h:02}:{mi:02}:{s:02}Z");
    let base = Timestamp::parse_iso8601(&iso)?;
    Some(Timestamp::from_millis(base.millis() + ms))
}

fn small_number(text: &str, min_len: usize, max_len: usize) -> Option<i64> {
    if text.len() < min_len || text.len() > max_len || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse_with_and_without_weekday() {
        let t = parse_http_date("Mon, 16 Dec 2019 23:48:18 GMT").unwrap();
        assert_eq!(t.seconds(), 1_576_540_098);
        assert_eq!(parse_http_date("16 Dec 2019 23:48:18 GMT").unwrap(), t);
        assert_eq!(parse_http_date("Mon, 16 Dec 2019 23:48:18.5 GMT").unwrap().millis(), 1_576_540_098_500);
    }

    #[test]
    fn malformed_http_dates_are_rejected() {
        for bad in [
            "",
            "Mon,",
            "Mon, 16 Foo 2019 23:48:18 GMT",
            "Mon, 16 Dec 2019 23:48 GMT",
            "Mon, 99 Dec 2019 23:48:18 GMT",
            "x, 1 Jan 2019 00:00:00 PST",
        ] {
            assert!(parse_http_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn canonical_timestamps_are_integers_on_whole_seconds() {
        assert_eq!(to_canonical(Timestamp::from_millis(5000)), Value::from(5));
        assert_eq!(to_canonical(Timestamp::from_millis(5500)), Value::from(5.5));
        assert_eq!(from_canonical(&Value::from(5.5)).unwrap().millis(), 5500);
    }

    #[test]
    fn epoch_text_round_trips() {
        let t = parse_text("1576540098.25", TimestampFormat::EpochSeconds).unwrap();
        assert_eq!(format_text(t, TimestampFormat::EpochSeconds), "1576540098.25");
        assert!(parse_text("1e400", TimestampFormat::EpochSeconds).is_none());
        assert!(parse_text("NaN", TimestampFormat::EpochSeconds).is_none());
    }
}
