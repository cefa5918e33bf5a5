//! The two date forms SigV4 meets: `yyyymmddThhmmssZ` and the HTTP `Date` header.

const SECONDS_PER_DAY: i64 = 86_400;

/// Formats seconds since the Unix epoch as `yyyymmddThhmmssZ` (UTC), the form of `X-Amz-Date`.
pub fn amz_date(epoch_seconds: i64) -> String {
    let days = epoch_seconds.div_euclid(SECONDS_PER_DAY);
    let secs = epoch_seconds.rem_euclid(SECONDS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", secs / 3600, (secs / 60) % 60, secs % 60)
}

/// Parses exactly `yyyymmddThhmmssZ` into seconds since the epoch.
pub(crate) fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let y = digits(&b[0..4])?;
    let m = digits(&b[4..6])?;
    let d = digits(&b[6..8])?;
    let hh = digits(&b[9..11])?;
    let mm = digits(&b[11..13])?;
    let ss = digits(&b[13..15])?;
    to_epoch(y, m, d, hh, mm, ss)
}

/// Parses an HTTP date as clients send it in `Date`: `Sun, 06 Nov 1994 08:49:37 GMT`, also with
/// a numeric zone (`-0000` is what Python's `email.utils.formatdate` writes) and without the
/// weekday. The obsolete RFC 850 and asctime forms are not accepted.
pub(crate) fn parse_http_date(s: &str) -> Option<i64> {
    let rest = match s.split_once(',') {
        Some((_weekday, rest)) => rest,
        None => s,
    };
    let mut parts = rest.split_ascii_whitespace();
    let day = parts.next()?;
    let month = parts.next()?;
    let year = parts.next()?;
    let clock = parts.next()?;
    let zone = parts.next()?;
    if parts.next().is_some() || day.is_empty() || day.len() > 2 || year.len() != 4 {
        return None;
    }
    let d = digits(day.as_bytes())?;
    let y = digits(year.as_bytes())?;
    let m = month_number(month)?;
    let cb = clock.as_bytes();
    if cb.len() != 8 || cb[2] != b':' || cb[5] != b':' {
        return None;
    }
    let hh = digits(&cb[0..2])?;
    let mm = digits(&cb[3..5])?;
    let ss = digits(&cb[6..8])?;
    let offset = zone_offset_seconds(zone)?;
    Some(to_epoch(y, m, d, hh, mm, ss)? - offset)
}

fn zone_offset_seconds(zone: &str) -> Option<i64> {
    match zone {
        "GMT" | "UTC" | "UT" | "Z" => return Some(0),
        _ => {}
    }
    let b = zone.as_bytes();
    if b.len() != 5 {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h = digits(&b[1..3])?;
    let m = digits(&b[3..5])?;
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

fn month_number(name: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    MONTHS.iter().position(|m| m.eq_ignore_ascii_case(name)).map(|i| i as i64 + 1)
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
}

fn to_epoch(y: i64, m: i64, d: i64, hh: i64, mm: i64, ss: i64) -> Option<i64> {
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    Some(days_from_civil(y, m, d) * SECONDS_PER_DAY + hh * 3600 + mm * 60 + ss)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Days since 1970-01-01 in the proleptic Gregorian calendar, counting in 400-year eras that
// start on March 1st so that the leap day falls at the end of each year.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (m + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let d = day_of_year - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = year_of_era + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suite_timestamp_round_trips_through_epoch_seconds() {
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
    }

    #[test]
    fn every_day_of_four_centuries_formats_and_parses_back() {
        let start = parse_amz_date("19000101T000000Z").unwrap();
        for day in 0..(400 * 366) {
            let t = start + day * SECONDS_PER_DAY + 3723;
            assert_eq!(parse_amz_date(&amz_date(t)), Some(t));
        }
    }

    #[test]
    fn malformed_amz_dates_are_refused() {
        for s in [
            "",
            "20150830",
            "20150830T123600",
            "20150830t123600Z",
            "2015-08-30T12:36:00Z",
            "20150230T123600Z",
            "20151301T000000Z",
            "20150830T246000Z",
            "2015083aT123600Z",
            "+0150830T123600Z",
            "20150830T12360ÿZ",
        ] {
            assert_eq!(parse_amz_date(s), None, "{s}");
        }
    }

    #[test]
    fn http_dates_convert_in_the_forms_clients_send() {
        let want = parse_amz_date("20110909T233600Z");
        assert_eq!(parse_http_date("Fri, 09 Sep 2011 23:36:00 GMT"), want);
        assert_eq!(parse_http_date("Fri, 09 Sep 2011 23:36:00 -0000"), want);
        assert_eq!(parse_http_date("9 Sep 2011 23:36:00 GMT"), want);
        assert_eq!(parse_http_date("Sat, 10 Sep 2011 01:36:00 +0200"), want);
        assert_eq!(parse_http_date("Fri, 09 Sep 2011 23:36:00"), None);
        assert_eq!(parse_http_date("Friday, 09-Sep-11 23:36:00 GMT"), None);
        assert_eq!(parse_http_date("Fri, 31 Sep 2011 23:36:00 GMT"), None);
    }
}
