//! Checking a parsed signature against the request and the secret.

use std::borrow::Cow;

use subtle::ConstantTimeEq;

use crate::canonical::{
    canonical_query, canonical_request, canonical_uri_candidates, decode_component, end_canonical_headers, hex_sha256,
    raw_query_pairs, text, write_canonical_header, write_string_to_sign, Candidates, SigningKey,
};
use crate::parse::check_expires;
use crate::time::{amz_date, parse_amz_date};
use crate::{
    AuthError, ParsedSignature, RequestParts, SigningKeyCache, MAX_SKEW_SECONDS, SIGNATURE_MISMATCH_MESSAGE,
    UNSIGNED_PAYLOAD,
};

const X_AMZ_CONTENT_SHA256: http::HeaderName = http::HeaderName::from_static("x-amz-content-sha256");

/// Verifies a parsed signature against the secret. `now_epoch_seconds` comes from the server's
/// clock.
///
/// Checks, in order: the credential scope date equals the date of `amz_date`; the request time
/// is within 15 minutes of now (for a presigned request with `X-Amz-Expires`: not more than 15
/// minutes ahead and `now <= amz_date + expires`); `host` is signed; every signed header is
/// present; an `x-amz-content-sha256` hash matches the body; the signature, compared in constant
/// time.
pub fn verify(
    req: &RequestParts<'_>,
    sig: &ParsedSignature<'_>,
    secret_access_key: &str,
    now_epoch_seconds: i64,
    cache: &SigningKeyCache,
) -> Result<(), AuthError> {
    verify_with(req, sig, now_epoch_seconds, || {
        Cow::Owned(SigningKey::new(&cache.signing_key(secret_access_key, &sig.date, &sig.region, &sig.service)))
    })
}

/// [`verify`] with the signing key for `sig`'s credential scope already derived and made ready
/// ([`crate::signing_key`], [`SigningKey::new`]), for a caller that keeps them with its
/// credentials.
pub fn verify_with_key(
    req: &RequestParts<'_>,
    sig: &ParsedSignature<'_>,
    signing_key: &SigningKey,
    now_epoch_seconds: i64,
) -> Result<(), AuthError> {
    verify_with(req, sig, now_epoch_seconds, || Cow::Borrowed(signing_key))
}

fn verify_with<'k>(
    req: &RequestParts<'_>,
    sig: &ParsedSignature<'_>,
    now_epoch_seconds: i64,
    signing_key: impl FnOnce() -> Cow<'k, SigningKey>,
) -> Result<(), AuthError> {
    let day = sig.amz_date.get(..8).unwrap_or(&sig.amz_date);
    if sig.date != day {
        return Err(AuthError::mismatch(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'.",
            sig.date, day, sig.amz_date
        )));
    }
    check_time(sig, now_epoch_seconds)?;
    if !sig.signed_headers.iter().any(|name| name == "host") {
        return Err(AuthError::Incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".to_owned(),
        ));
    }

    SCRATCH.with_borrow_mut(|scratch| verify_canonical(req, sig, signing_key, scratch))
}

thread_local! {
    /// The buffers a verification writes the canonical request and the string to sign into,
    /// kept by each thread: otherwise they are allocated, and grown, on every request.
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

#[derive(Default)]
struct Scratch {
    headers: Vec<u8>,
    creq: Vec<u8>,
    sts: String,
}

fn verify_canonical<'k>(
    req: &RequestParts<'_>,
    sig: &ParsedSignature<'_>,
    signing_key: impl FnOnce() -> Cow<'k, SigningKey>,
    scratch: &mut Scratch,
) -> Result<(), AuthError> {
    // The canonical headers, then the signed header list: the part of the canonical request
    // after the query, up to the payload hash.
    let Scratch { headers, creq, sts } = scratch;
    headers.clear();
    let mut all_present = true;
    for name in &sig.signed_headers {
        let values = req.headers.get_all(&**name).iter().map(|v| v.as_bytes());
        all_present &= write_canonical_header(headers, name, values);
    }
    end_canonical_headers(headers, sig.signed_headers.iter().map(|name| &**name));
    let query = canonical_query(req.query, sig.presigned);
    let payloads = payload_candidates(req, sig)?;
    let uris = canonical_uri_candidates(req.path, &sig.service);
    let key = signing_key();
    // Compared as bytes: the computed signature is not turned into hex digits for each candidate.
    // The parser lowercases the signature; one that is not 64 hex digits matches nothing.
    let given = signature_bytes(&sig.signature);

    let mut first = None;
    for uri in uris.iter() {
        for payload in payloads.iter() {
            creq.clear();
            canonical_request(creq, req.method, uri, &query, headers, payload);
            write_string_to_sign(sts, &sig.amz_date, [&*sig.date, &*sig.region, &*sig.service], creq);
            let computed = key.signature_bytes(sts);
            if all_present && given.is_some_and(|given| bool::from(computed.ct_eq(&given))) {
                return Ok(());
            }
            if first.is_none() {
                first = Some((creq.clone(), sts.clone()));
            }
        }
    }
    let (creq, sts) = first.unwrap_or_default();
    Err(AuthError::SignatureMismatch {
        message: SIGNATURE_MISMATCH_MESSAGE.to_owned(),
        canonical_request: String::from_utf8_lossy(&creq).into_owned(),
        string_to_sign: sts,
    })
}

/// The 32 bytes a signature of 64 hex digits spells; `None` for anything else.
fn signature_bytes(signature: &str) -> Option<[u8; 32]> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(signature, &mut bytes).ok().map(|()| bytes)
}

fn check_time(sig: &ParsedSignature<'_>, now: i64) -> Result<(), AuthError> {
    let Some(t) = parse_amz_date(&sig.amz_date) else {
        return Err(AuthError::Incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            sig.amz_date
        )));
    };
    let latest = now.saturating_add(MAX_SKEW_SECONDS);
    if t > latest {
        return Err(AuthError::NotYetValid(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            sig.amz_date,
            amz_date(latest),
            amz_date(now)
        )));
    }
    match (sig.presigned, sig.expires_seconds) {
        (true, Some(expires)) => {
            // Re-checked here for a hand-built ParsedSignature.
            let expires = check_expires(expires)?;
            let expires = i64::try_from(expires).unwrap_or(i64::MAX);
            if now > t.saturating_add(expires) {
                return Err(AuthError::Expired("Request has expired".to_owned()));
            }
        }
        _ => {
            let earliest = now.saturating_sub(MAX_SKEW_SECONDS);
            if t < earliest {
                return Err(AuthError::Expired(format!(
                    "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                    sig.amz_date,
                    amz_date(earliest),
                    amz_date(now)
                )));
            }
        }
    }
    Ok(())
}

/// The payload hashes the client may have signed.
///
/// An `x-amz-content-sha256` header is what the client signed, whether or not the header is in
/// SignedHeaders; when it claims a hash, that hash must be the body's, or an unsigned header
/// could vouch for a different body. A presigned request may carry the value as a query
/// parameter instead (S3 presigners); without either, it was signed over the body's hash
/// (botocore for non-S3 services) or over `UNSIGNED-PAYLOAD` (S3 presigners).
fn payload_candidates(req: &RequestParts<'_>, sig: &ParsedSignature<'_>) -> Result<Candidates<String>, AuthError> {
    let claimed = req.headers.get(X_AMZ_CONTENT_SHA256).map(|v| text(v.as_bytes()).trim().to_owned()).or_else(|| {
        if !sig.presigned {
            return None;
        }
        raw_query_pairs(req.query)
            .find(|(key, _)| decode_component(key) == b"X-Amz-Content-Sha256")
            .map(|(_, value)| String::from_utf8_lossy(&decode_component(value)).into_owned())
    });
    let body_hash = || hex_sha256(req.body);
    match claimed {
        Some(claimed) => {
            let is_hash = claimed.len() == 64 && claimed.bytes().all(|b| b.is_ascii_hexdigit());
            if is_hash && !claimed.eq_ignore_ascii_case(&body_hash()) {
                return Err(AuthError::mismatch(
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ));
            }
            Ok(Candidates(claimed, None))
        }
        None if sig.presigned => Ok(Candidates(body_hash(), Some(UNSIGNED_PAYLOAD.to_owned()))),
        None => Ok(Candidates(body_hash(), None)),
    }
}
