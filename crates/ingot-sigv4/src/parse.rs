//! Reading the signature out of the `Authorization` header or a presigned query string.

use std::borrow::Cow;

use http::header::{HeaderName, AUTHORIZATION, DATE};

use crate::canonical::{decode_component, raw_query_pairs, text};
use crate::time::{amz_date, parse_amz_date, parse_http_date};
use crate::{AuthError, ParsedSignature, RequestParts, ALGORITHM, MAX_EXPIRES_SECONDS};

// Header names as `HeaderName`s: looking up by `&str` parses and lower-cases the name each time.
const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");

const Q_ALGORITHM: &str = "X-Amz-Algorithm";
const Q_CREDENTIAL: &str = "X-Amz-Credential";
const Q_SIGNATURE: &str = "X-Amz-Signature";
const Q_SIGNED_HEADERS: &str = "X-Amz-SignedHeaders";
const Q_DATE: &str = "X-Amz-Date";
const Q_EXPIRES: &str = "X-Amz-Expires";
const Q_SECURITY_TOKEN: &str = "X-Amz-Security-Token";

const ONLY_ONE_MECHANISM: &str = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified";

/// Reads what the request claims: the `Authorization` header, or else a presigned query string
/// (recognised by any of `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Signature`). Checks the
/// form only; [`crate::verify`] checks times and the signature.
pub fn parse<'a>(req: &RequestParts<'a>) -> Result<ParsedSignature<'a>, AuthError> {
    let header = req.headers.get(AUTHORIZATION);
    let query_signed = raw_query_pairs(req.query).any(|(key, _)| {
        let key = decode_component(key);
        key == Q_ALGORITHM.as_bytes() || key == Q_CREDENTIAL.as_bytes() || key == Q_SIGNATURE.as_bytes()
    });
    match (header, query_signed) {
        (Some(_), true) => Err(AuthError::Incomplete(ONLY_ONE_MECHANISM.to_owned())),
        // A header that is not UTF-8 (it cannot verify, but its errors quote it) is parsed from
        // its lossy text, and the result made to own its text.
        (Some(value), false) => match text(value.as_bytes()) {
            Cow::Borrowed(value) => parse_header(value, req),
            Cow::Owned(value) => parse_header(&value, req).map(ParsedSignature::into_owned),
        },
        (None, true) => parse_query(req),
        (None, false) => Err(AuthError::Missing),
    }
}

/// The request time from `X-Amz-Date`, else from `Date`.
enum HeaderDate<'a> {
    Found(Cow<'a, str>),
    Absent,
    Malformed(String),
}

fn header_date<'a>(req: &RequestParts<'a>) -> HeaderDate<'a> {
    if let Some(value) = req.headers.get(X_AMZ_DATE) {
        let value = trimmed(text(value.as_bytes()));
        return match parse_amz_date(&value) {
            Some(_) => HeaderDate::Found(value),
            None => HeaderDate::Malformed(iso_date_message(&value)),
        };
    }
    if let Some(value) = req.headers.get(DATE) {
        let value = text(value.as_bytes());
        return match parse_http_date(value.trim()) {
            Some(t) => HeaderDate::Found(Cow::Owned(amz_date(t))),
            None => HeaderDate::Malformed(format!(
                "Date must be in RFC 1123 format or X-Amz-Date must be in ISO-8601 'basic format'. Got '{}'.",
                value.trim()
            )),
        };
    }
    HeaderDate::Absent
}

fn iso_date_message(got: &str) -> String {
    format!("Date must be in ISO-8601 'basic format'. Got '{got}'. See http://en.wikipedia.org/wiki/ISO_8601")
}

/// `text` without surrounding whitespace, still borrowed when it was.
fn trimmed(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(t) => Cow::Borrowed(t.trim()),
        Cow::Owned(t) => Cow::Owned(t.trim().to_owned()),
    }
}

/// `text` lower-cased, still borrowed when it already was.
fn lowercase<'a>(text: Cow<'a, str>) -> Cow<'a, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        text
    }
}

fn parse_header<'a>(value: &'a str, req: &RequestParts<'a>) -> Result<ParsedSignature<'a>, AuthError> {
    let trimmed = value.trim_start();
    let (algorithm, rest) = trimmed.split_once([' ', '\t']).unwrap_or((trimmed, ""));
    let date = header_date(req);

    if algorithm != ALGORITHM {
        if algorithm.starts_with("AWS4-") {
            return Err(AuthError::UnsupportedAlgorithm(
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
                    .to_owned(),
            ));
        }
        // Not SigV4 at all (SigV2, Bearer, ...): AWS lists everything SigV4 needs.
        return Err(incomplete_header(value, true, true, true, matches!(date, HeaderDate::Absent)));
    }

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for component in split_byte(rest, b',') {
        let component = trim_blank(component);
        if component.is_empty() {
            continue;
        }
        let Some((key, val)) = split_once_byte(component, b'=') else {
            return Err(AuthError::Incomplete(format!(
                "'{component}' not a valid key=value pair (missing equal-sign) in Authorization header: '{value}'."
            )));
        };
        let slot = match trim_blank(key) {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(trim_blank(val));
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature), HeaderDate::Found(amz_date)) =
        (credential, signed_headers, signature, &date)
    else {
        if let (Some(_), Some(_), Some(_), HeaderDate::Malformed(message)) =
            (credential, signed_headers, signature, &date)
        {
            return Err(AuthError::Incomplete(message.clone()));
        }
        return Err(incomplete_header(
            value,
            credential.is_none(),
            signature.is_none(),
            signed_headers.is_none(),
            !matches!(date, HeaderDate::Found(_)),
        ));
    };

    let scope = parse_credential(credential)?;
    let security_token = req.headers.get(X_AMZ_SECURITY_TOKEN).map(|v| text(v.as_bytes()));
    Ok(ParsedSignature {
        access_key_id: Cow::Borrowed(scope.access_key_id),
        date: Cow::Borrowed(scope.date),
        region: Cow::Borrowed(scope.region),
        service: Cow::Borrowed(scope.service),
        signed_headers: split_signed_headers(signed_headers).map(|name| lowercase(Cow::Borrowed(name))).collect(),
        signature: lowercase(Cow::Borrowed(signature)),
        amz_date: amz_date.clone(),
        security_token,
        presigned: false,
        expires_seconds: None,
    })
}

fn incomplete_header(
    value: &str,
    no_credential: bool,
    no_signature: bool,
    no_signed_headers: bool,
    no_date: bool,
) -> AuthError {
    let mut message = String::new();
    for (missing, name) in
        [(no_credential, "Credential"), (no_signature, "Signature"), (no_signed_headers, "SignedHeaders")]
    {
        if missing {
            message.push_str(&format!("Authorization header requires '{name}' parameter. "));
        }
    }
    if no_date {
        message.push_str("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ");
    }
    message.push_str("Authorization=");
    message.push_str(value);
    AuthError::Incomplete(message)
}

fn parse_query<'a>(req: &RequestParts<'a>) -> Result<ParsedSignature<'a>, AuthError> {
    let params: Vec<(Vec<u8>, Vec<u8>)> =
        raw_query_pairs(req.query).map(|(key, value)| (decode_component(key), decode_component(value))).collect();
    // The first occurrence of a parameter counts.
    let get = |name: &str| -> Option<Cow<'_, str>> {
        params
            .iter()
            .find(|(key, _)| key.as_slice() == name.as_bytes())
            .map(|(_, value)| String::from_utf8_lossy(value))
    };

    let algorithm = get(Q_ALGORITHM);
    let credential = get(Q_CREDENTIAL);
    let signature = get(Q_SIGNATURE);
    let signed_headers = get(Q_SIGNED_HEADERS);
    let date = get(Q_DATE);
    let mut message = String::new();
    for (value, name) in [
        (&algorithm, Q_ALGORITHM),
        (&credential, Q_CREDENTIAL),
        (&signature, Q_SIGNATURE),
        (&signed_headers, Q_SIGNED_HEADERS),
        (&date, Q_DATE),
    ] {
        if value.is_none() {
            message.push_str(&format!("AWS query-string parameters must include '{name}'. "));
        }
    }
    let (Some(algorithm), Some(credential), Some(signature), Some(signed_headers), Some(date)) =
        (algorithm, credential, signature, signed_headers, date)
    else {
        message.push_str("Re-examine the query-string parameters.");
        return Err(AuthError::Incomplete(message));
    };

    if algorithm != ALGORITHM {
        return Err(AuthError::UnsupportedAlgorithm(format!("X-Amz-Algorithm only supports \"{ALGORITHM}\"")));
    }
    let scope = parse_credential(&credential)?;
    if parse_amz_date(&date).is_none() {
        return Err(AuthError::Incomplete(iso_date_message(&date)));
    }
    let expires_seconds = match get(Q_EXPIRES) {
        None => None,
        Some(raw) => Some(parse_expires(&raw)?),
    };
    let security_token = get(Q_SECURITY_TOKEN)
        .map(|token| Cow::Owned(token.into_owned()))
        .or_else(|| req.headers.get(X_AMZ_SECURITY_TOKEN).map(|v| text(v.as_bytes())));
    let owned = |part: &str| Cow::Owned(part.to_owned());
    Ok(ParsedSignature {
        access_key_id: owned(scope.access_key_id),
        date: owned(scope.date),
        region: owned(scope.region),
        service: owned(scope.service),
        signed_headers: split_signed_headers(&signed_headers)
            .map(|name| Cow::Owned(name.to_ascii_lowercase()))
            .collect(),
        signature: Cow::Owned(signature.trim().to_ascii_lowercase()),
        amz_date: Cow::Owned(date.into_owned()),
        security_token,
        presigned: true,
        expires_seconds,
    })
}

/// `X-Amz-Expires` must be a whole number of seconds in `1..=604800`.
pub(crate) fn parse_expires(raw: &str) -> Result<u64, AuthError> {
    let raw = raw.trim();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if raw.strip_prefix('-').is_some_and(digits) {
        return Err(AuthError::Incomplete("X-Amz-Expires must be non-negative".to_owned()));
    }
    if !digits(raw) {
        return Err(AuthError::Incomplete("X-Amz-Expires should be a number".to_owned()));
    }
    // All digits: the only parse failure left is overflow, which is over a week too.
    check_expires(raw.parse::<u64>().unwrap_or(u64::MAX))
}

/// `X-Amz-Expires` must be in `1..=604800` seconds.
pub(crate) fn check_expires(seconds: u64) -> Result<u64, AuthError> {
    match seconds {
        0 => Err(AuthError::Incomplete("X-Amz-Expires must be at least 1 second".to_owned())),
        n if n <= MAX_EXPIRES_SECONDS => Ok(n),
        _ => Err(AuthError::Incomplete(format!(
            "X-Amz-Expires must be less than a week (in seconds) that is {MAX_EXPIRES_SECONDS}"
        ))),
    }
}

/// The parts of a credential, borrowed from it.
struct Scope<'c> {
    access_key_id: &'c str,
    date: &'c str,
    region: &'c str,
    service: &'c str,
}

fn parse_credential(credential: &str) -> Result<Scope<'_>, AuthError> {
    let mut parts = split_byte(credential, b'/');
    let (Some(access_key_id), Some(date), Some(region), Some(service), Some(terminator), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        )));
    };
    if terminator != "aws4_request" {
        return Err(AuthError::mismatch(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }
    Ok(Scope { access_key_id, date, region, service })
}

/// The names of a `SignedHeaders` list, trimmed, empty ones left out (lower-casing is the
/// caller's).
fn split_signed_headers(list: &str) -> impl Iterator<Item = &str> {
    split_byte(list, b';').map(trim_blank).filter(|name| !name.is_empty())
}

/// Splits `text` at every `separator` (an ASCII byte, so every cut is a character boundary),
/// found with the `memchr` crate's vectorised search (`str::split`'s searcher costs several
/// times as much on the short parts of an `Authorization` header).
fn split_byte(text: &str, separator: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let r = rest?;
        match memchr::memchr(separator, r.as_bytes()) {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// `text` before and after its first `separator` (an ASCII byte), found as in [`split_byte`].
fn split_once_byte(text: &str, separator: u8) -> Option<(&str, &str)> {
    let i = memchr::memchr(separator, text.as_bytes())?;
    Some((&text[..i], &text[i + 1..]))
}

/// `text` without leading and trailing spaces and tabs (the blanks HTTP allows around the
/// parts of a header).
fn trim_blank(text: &str) -> &str {
    let bytes = text.as_bytes();
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !blank(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !blank(b)).map_or(start, |i| i + 1);
    &text[start..end]
}

#[cfg(test)]
mod tests {
    use super::{split_byte, trim_blank};

    #[test]
    fn splitting_on_a_byte_keeps_empty_parts_like_str_split() {
        for text in ["", ",", "a", "a,b", ",a,,b,", "é,ü"] {
            assert_eq!(split_byte(text, b',').collect::<Vec<_>>(), text.split(',').collect::<Vec<_>>(), "{text:?}");
        }
    }

    #[test]
    fn trimming_blanks_removes_spaces_and_tabs_only_at_the_ends() {
        assert_eq!(trim_blank(" \t a b\t "), "a b");
        assert_eq!(trim_blank(" \t "), "");
        assert_eq!(trim_blank(""), "");
        assert_eq!(trim_blank("\u{a0}x"), "\u{a0}x");
    }
}
