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
pub fn parse(req: &RequestParts<'_>) -> Result<ParsedSignature, AuthError> {
    let header = req.headers.get(AUTHORIZATION);
    let query_signed = raw_query_pairs(req.query).any(|(key, _)| {
        let key = decode_component(key);
        key == Q_ALGORITHM.as_bytes() || key == Q_CREDENTIAL.as_bytes() || key == Q_SIGNATURE.as_bytes()
    });
    match (header, query_signed) {
        (Some(_), true) => Err(AuthError::Incomplete(ONLY_ONE_MECHANISM.to_owned())),
        (Some(value), false) => parse_header(&text(value.as_bytes()), req),
        (None, true) => parse_query(req),
        (None, false) => Err(AuthError::Missing),
    }
}

/// The request time from `X-Amz-Date`, else from `Date`.
enum HeaderDate {
    Found(String),
    Absent,
    Malformed(String),
}

fn header_date(req: &RequestParts<'_>) -> HeaderDate {
    if let Some(value) = req.headers.get(X_AMZ_DATE) {
        let value = text(value.as_bytes());
        let value = value.trim();
        return match parse_amz_date(value) {
            Some(_) => HeaderDate::Found(value.to_owned()),
            None => HeaderDate::Malformed(iso_date_message(value)),
        };
    }
    if let Some(value) = req.headers.get(DATE) {
        let value = text(value.as_bytes());
        return match parse_http_date(value.trim()) {
            Some(t) => HeaderDate::Found(amz_date(t)),
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

fn parse_header(value: &str, req: &RequestParts<'_>) -> Result<ParsedSignature, AuthError> {
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
    for component in rest.split(',') {
        let component = component.trim_matches([' ', '\t']);
        if component.is_empty() {
            continue;
        }
        let Some((key, val)) = component.split_once('=') else {
            return Err(AuthError::Incomplete(format!(
                "'{component}' not a valid key=value pair (missing equal-sign) in Authorization header: '{value}'."
            )));
        };
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(val.trim());
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
    let security_token = req.headers.get(X_AMZ_SECURITY_TOKEN).map(|v| text(v.as_bytes()).into_owned());
    Ok(ParsedSignature {
        access_key_id: scope.access_key_id,
        date: scope.date,
        region: scope.region,
        service: scope.service,
        signed_headers: split_signed_headers(signed_headers),
        signature: signature.to_ascii_lowercase(),
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

fn parse_query(req: &RequestParts<'_>) -> Result<ParsedSignature, AuthError> {
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
        .map(Cow::into_owned)
        .or_else(|| req.headers.get(X_AMZ_SECURITY_TOKEN).map(|v| text(v.as_bytes()).into_owned()));
    Ok(ParsedSignature {
        access_key_id: scope.access_key_id,
        date: scope.date,
        region: scope.region,
        service: scope.service,
        signed_headers: split_signed_headers(&signed_headers),
        signature: signature.trim().to_ascii_lowercase(),
        amz_date: date.into_owned(),
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

struct Scope {
    access_key_id: String,
    date: String,
    region: String,
    service: String,
}

fn parse_credential(credential: &str) -> Result<Scope, AuthError> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts.as_slice() else {
        return Err(AuthError::Incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        )));
    };
    if *terminator != "aws4_request" {
        return Err(AuthError::mismatch(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }
    Ok(Scope {
        access_key_id: (*access_key_id).to_owned(),
        date: (*date).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
    })
}

fn split_signed_headers(list: &str) -> Vec<String> {
    list.split(';').map(|name| name.trim().to_ascii_lowercase()).filter(|name| !name.is_empty()).collect()
}
