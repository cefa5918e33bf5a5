//! Time: one [`Clock`] for the whole server, and [`Timestamp`], the canonical instant.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// An instant with millisecond precision, counted from the Unix epoch.
///
/// In the canonical value of an operation it is a number of seconds (with a fraction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }
    pub fn millis(self) -> i64 {
        self.0
    }
    pub fn seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }
    pub fn from_epoch_seconds_f64(secs: f64) -> Option<Self> {
        if !secs.is_finite() || secs.abs() > 1e14 {
            return None;
        }
        Some(Timestamp((secs * 1000.0).round() as i64))
    }
    pub fn as_epoch_seconds_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// `2024-01-31T13:45:00.123Z` (fraction only when non-zero).
    pub fn to_iso8601(self) -> String {
        let (y, mo, d, h, mi, s) = self.civil();
        let ms = self.0.rem_euclid(1000);
        if !(0..=9999).contains(&y) {
            return if ms == 0 {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
            } else {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
            };
        }
        // Written digit by digit: every audit record and many responses carry one.
        let mut out = String::with_capacity(24);
        let fields = [(y, 4), (mo, 2), (d, 2), (h, 2), (mi, 2), (s, 2)];
        for ((value, width), separator) in fields.into_iter().zip(["-", "-", "T", ":", ":", ""]) {
            push_padded(&mut out, value, width);
            out.push_str(separator);
        }
        if ms != 0 {
            out.push('.');
            push_padded(&mut out, ms, 3);
        }
        out.push('Z');
        out
    }

    /// `Wed, 31 Jan 2024 13:45:00 GMT`.
    pub fn to_rfc822(self) -> String {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let (y, mo, d, h, mi, s) = self.civil();
        let weekday = DAYS[self.seconds().div_euclid(86_400).rem_euclid(7) as usize];
        format!("{weekday}, {d:02} {} {y:04} {h:02}:{mi:02}:{s:02} GMT", MONTHS[(mo - 1) as usize])
    }

    /// SigV4's basic form `20240131T134500Z`.
    pub fn to_amz_date(self) -> String {
        let (y, mo, d, h, mi, s) = self.civil();
        format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
    }

    /// Parses ISO 8601 in the extended (`2024-01-31T13:45:00.123Z`, offsets allowed) or basic
    /// (`20240131T134500Z`) form.
    pub fn parse_iso8601(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        let num = |s: &[u8]| -> Option<i64> {
            if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(s).ok()?.parse().ok()
        };
        let (date, rest) = if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
            ((num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?), &b[10..])
        } else if b.len() >= 8 {
            ((num(&b[0..4])?, num(&b[4..6])?, num(&b[6..8])?), &b[8..])
        } else {
            return None;
        };
        let mut rest = rest;
        let (mut h, mut mi, mut s, mut ms) = (0, 0, 0, 0);
        if let Some((&sep, tail)) = rest.split_first() {
            if sep != b'T' && sep != b't' && sep != b' ' {
                return None;
            }
            rest = tail;
            if rest.len() >= 8 && rest[2] == b':' && rest[5] == b':' {
                h = num(&rest[0..2])?;
                mi = num(&rest[3..5])?;
                s = num(&rest[6..8])?;
                rest = &rest[8..];
            } else if rest.len() >= 6 {
                h = num(&rest[0..2])?;
                mi = num(&rest[2..4])?;
                s = num(&rest[4..6])?;
                rest = &rest[6..];
            } else {
                return None;
            }
            if let Some(tail) = rest.strip_prefix(b".") {
                let digits = tail.iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 {
                    return None;
                }
                let frac = &tail[..digits.min(3)];
                ms = num(frac)? * 10_i64.pow(3 - frac.len() as u32);
                rest = &tail[digits..];
            }
        }
        let offset_minutes = match rest {
            b"" | b"Z" | b"z" => 0,
            [sign @ (b'+' | b'-'), hh1, hh2, b':', mm1, mm2] | [sign @ (b'+' | b'-'), hh1, hh2, mm1, mm2] => {
                let m = num(&[*hh1, *hh2])? * 60 + num(&[*mm1, *mm2])?;
                if *sign == b'+' {
                    m
                } else {
                    -m
                }
            }
            _ => return None,
        };
        let (y, mo, d) = date;
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset_minutes * 60;
        Some(Timestamp(secs * 1000 + ms))
    }

    fn civil(self) -> (i64, i64, i64, i64, i64, i64) {
        let secs = self.seconds();
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
    }
}

// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Appends `value` (0 ≤ value < 10^width) in exactly `width` decimal digits.
fn push_padded(out: &mut String, value: i64, width: u32) {
    let mut divisor = 10_i64.pow(width - 1);
    while divisor > 0 {
        out.push(char::from(b'0' + ((value / divisor) % 10) as u8));
        divisor /= 10;
    }
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % 1000 == 0 {
            s.serialize_i64(self.seconds())
        } else {
            s.serialize_f64(self.as_epoch_seconds_f64())
        }
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let secs = f64::deserialize(d)?;
        Timestamp::from_epoch_seconds_f64(secs).ok_or_else(|| serde::de::Error::custom("timestamp out of range"))
    }
}

/// The server's one source of time. Tests and clock control advance it; production reads the
/// system clock plus an offset that only an enabled admin endpoint can change.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
    /// Moves the clock forward (clock control; schedules and timeouts come due sooner).
    fn advance(&self, millis: i64);
    /// Real time, without what clock control added: what clients sign requests with.
    fn wall_now(&self) -> Timestamp {
        self.now()
    }
}

/// System time plus an adjustable offset (zero unless clock control is enabled and used).
#[derive(Debug, Default)]
pub struct SystemClock {
    offset_ms: AtomicI64,
}

impl SystemClock {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn advance(&self, millis: i64) {
        self.offset_ms.fetch_add(millis, Ordering::SeqCst);
    }

    /// Real time, without the offset clock control added: what clients sign requests with.
    pub fn wall_now(&self) -> Timestamp {
        let ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        Timestamp(ms)
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.wall_now().0 + self.offset_ms.load(Ordering::SeqCst))
    }
    fn advance(&self, millis: i64) {
        SystemClock::advance(self, millis)
    }
    fn wall_now(&self) -> Timestamp {
        SystemClock::wall_now(self)
    }
}

/// A clock that only moves when told to: deterministic unit tests.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn at(t: Timestamp) -> Self {
        ManualClock(AtomicI64::new(t.0))
    }
    pub fn advance(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
    fn advance(&self, millis: i64) {
        ManualClock::advance(self, millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_round_trips_with_and_without_fraction() {
        let t = Timestamp::parse_iso8601("2015-08-30T12:36:00Z").unwrap();
        assert_eq!(t.seconds(), 1_440_938_160);
        assert_eq!(t.to_iso8601(), "2015-08-30T12:36:00Z");
        let t = Timestamp::parse_iso8601("2015-08-30T12:36:00.5+01:00").unwrap();
        assert_eq!(t.to_iso8601(), "2015-08-30T11:36:00.500Z");
    }

    #[test]
    fn basic_form_is_what_sigv4_uses() {
        let t = Timestamp::parse_iso8601("20150830T123600Z").unwrap();
        assert_eq!(t.to_amz_date(), "20150830T123600Z");
    }

    #[test]
    fn rfc822_names_the_weekday() {
        let t = Timestamp::parse_iso8601("2024-01-31T13:45:00Z").unwrap();
        assert_eq!(t.to_rfc822(), "Wed, 31 Jan 2024 13:45:00 GMT");
    }

    #[test]
    fn malformed_dates_are_rejected() {
        for bad in ["", "2024", "2024-13-01T00:00:00Z", "2024-01-01X00:00:00Z", "2024-01-01T00:00:00+5"] {
            assert!(Timestamp::parse_iso8601(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let c = ManualClock::at(Timestamp(1000));
        assert_eq!(c.now(), Timestamp(1000));
        c.advance(500);
        assert_eq!(c.now(), Timestamp(1500));
    }
}
