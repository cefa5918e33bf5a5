//! The canonical request and the string to sign.

use std::borrow::Cow;

use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

use crate::ALGORITHM;

/// Everything but RFC 3986's unreserved characters `A-Z a-z 0-9 - _ . ~` is encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
/// The same, keeping `/` (for paths).
const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

pub(crate) fn hex_sha256(data: &[u8]) -> String {
    hex_string(&Sha256::digest(data))
}

/// Lower-case hex of 32 bytes, on the stack. (`hex::encode` collects the digits one `char` at a
/// time.)
fn hex32(bytes: &[u8]) -> [u8; 64] {
    let mut digits = [0u8; 64];
    hex::encode_to_slice(bytes, &mut digits).expect("64 hex digits for 32 bytes");
    digits
}

fn hex_string(bytes: &[u8]) -> String {
    String::from_utf8(hex32(bytes).to_vec()).expect("hex digits are ASCII")
}

/// A header value or query component as text: borrowed when it is UTF-8 (checking that is much
/// cheaper than `String::from_utf8_lossy`'s scan), else with invalid bytes replaced.
pub(crate) fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Whether the signing name is S3's, whose paths are signed exactly as sent.
pub(crate) fn is_s3(service: &str) -> bool {
    service == "s3"
}

/// The canonical URIs a correct client may have signed, the one botocore produces first.
///
/// Non-S3 clients sign the path they send encoded once more (botocore `quote(path, safe='/~')`
/// over the already-encoded URL path, aws-sdk-rust "double encoding"), so a received `%2F` is
/// `%252F` here. botocore first removes empty and `.`/`..` segments (its `remove_dot_segments`,
/// which matches the suite's normalize-path vectors); aws-sdk-rust does not touch `//` and others
/// may not normalise at all, so the un-normalised form is the second candidate. For S3 the path is
/// signed as sent.
pub(crate) fn canonical_uri_candidates<'p>(path: &'p str, service: &str) -> Candidates<Cow<'p, str>> {
    if path.is_empty() {
        return Candidates(Cow::Borrowed("/"), None);
    }
    if is_s3(service) || is_plain_path(path) {
        return Candidates(Cow::Borrowed(path), None);
    }
    let normalised = encode_path(&normalize_path(path));
    let mut raw = encode_path(path);
    if !raw.starts_with('/') {
        raw.insert(0, '/');
    }
    if raw == normalised {
        Candidates(Cow::Owned(normalised), None)
    } else {
        Candidates(Cow::Owned(normalised), Some(Cow::Owned(raw)))
    }
}

/// One or two candidates, the likelier first (without a `Vec` for the usual single one).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Candidates<T>(pub T, pub Option<T>);

impl<T: std::ops::Deref<Target = str>> Candidates<T> {
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&*self.0).chain(self.1.as_deref())
    }
}

/// Whether normalising and encoding leave `path` as it is: it starts with `/`, has only
/// unreserved characters and slashes, no `//` and no `.` or `..` segment (the common case, `/`
/// above all, without building both candidates).
fn is_plain_path(path: &str) -> bool {
    path.starts_with('/')
        && path.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/'))
        && !path.contains("//")
        && path.split('/').all(|segment| segment != "." && segment != "..")
}

/// The canonical URI a signer uses: the first candidate.
pub(crate) fn canonical_uri(path: &str, service: &str) -> String {
    canonical_uri_candidates(path, service).0.into_owned()
}

fn encode_path(path: &str) -> String {
    percent_encode(path.as_bytes(), UNRESERVED_AND_SLASH).to_string()
}

/// Removes empty, `.` and `..` segments of a `/`-separated path, keeping a leading and (when
/// anything is left) a trailing slash; segments are compared as sent, so `%2E` is not a dot.
pub(crate) fn normalize_path(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            s => kept.push(s),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    out.push_str(&kept.join("/"));
    if path.ends_with('/') && !kept.is_empty() {
        out.push('/');
    }
    out
}

/// Splits a raw query string into raw `(key, value)` pairs; empty segments are skipped and a
/// segment without `=` has an empty value.
pub(crate) fn raw_query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| segment.split_once('=').unwrap_or((segment, "")))
}

/// Percent-decodes one query component. `+` stays a `+`: SigV4 clients encode a plus as `%2B`
/// and a space as `%20`, and both botocore (which signs its URL query as sent) and the AWS
/// signing test suite's `get-query-plus` case (`/?c+d` signs as `c%2Bd=`) treat a raw `+` as a
/// literal plus, not as form-encoding's space. Malformed escapes are kept literally.
pub(crate) fn decode_component(raw: &str) -> Vec<u8> {
    percent_decode(raw.as_bytes()).collect()
}

/// The canonical query string: every parameter decoded, re-encoded with the unreserved set,
/// sorted by encoded name and then encoded value, joined with `&`. A presigned request leaves
/// out its `X-Amz-Signature`.
pub(crate) fn canonical_query(query: &str, presigned: bool) -> String {
    if query.is_empty() {
        return String::new();
    }
    let mut pairs: Vec<(String, String)> = raw_query_pairs(query)
        .filter(|(key, _)| !(presigned && decode_component(key) == b"X-Amz-Signature"))
        .map(|(key, value)| {
            (
                percent_encode(&decode_component(key), UNRESERVED).to_string(),
                percent_encode(&decode_component(value), UNRESERVED).to_string(),
            )
        })
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(query.len() + 16);
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Appends `name:value\n` for one signed header: every value trimmed, runs of spaces and tabs
/// inside collapsed to one space, several values joined with `,`. Returns whether any value was
/// present.
pub(crate) fn write_canonical_header<'v>(
    out: &mut Vec<u8>,
    name: &str,
    values: impl Iterator<Item = &'v [u8]>,
) -> bool {
    out.extend_from_slice(name.as_bytes());
    out.push(b':');
    let mut any = false;
    for value in values {
        if any {
            out.push(b',');
        }
        any = true;
        trim_all(value, out);
    }
    out.push(b'\n');
    any
}

fn trim_all(value: &[u8], out: &mut Vec<u8>) {
    // Most values have nothing to trim or collapse: no tab, no space first, last or doubled.
    let mut after_space = true;
    let clean = value.iter().all(|&b| {
        let ok = b != b'\t' && !(b == b' ' && after_space);
        after_space = b == b' ';
        ok
    });
    if clean && !after_space {
        out.extend_from_slice(value);
        return;
    }
    let mut pending_space = false;
    let mut started = false;
    for &b in value {
        if b == b' ' || b == b'\t' {
            pending_space = started;
        } else {
            if pending_space {
                out.push(b' ');
                pending_space = false;
            }
            out.push(b);
            started = true;
        }
    }
}

/// Ends the canonical header lines: the empty line, then the signed header names joined with `;`
/// and a newline (the part of the canonical request that [`canonical_request`] takes whole).
pub(crate) fn end_canonical_headers<'n>(out: &mut Vec<u8>, names: impl Iterator<Item = &'n str>) {
    out.push(b'\n');
    for (i, name) in names.enumerate() {
        if i > 0 {
            out.push(b';');
        }
        out.extend_from_slice(name.as_bytes());
    }
    out.push(b'\n');
}

/// Appends the canonical request to `out`. `headers_and_list` is the `name:value\n` lines, an
/// empty line, and the signed header list with its newline, already written.
pub(crate) fn canonical_request(
    out: &mut Vec<u8>,
    method: &str,
    uri: &str,
    query: &str,
    headers_and_list: &[u8],
    payload_hash: &str,
) {
    for part in [method.as_bytes(), b"\n", uri.as_bytes(), b"\n", query.as_bytes(), b"\n"] {
        out.extend_from_slice(part);
    }
    out.extend_from_slice(headers_and_list);
    out.extend_from_slice(payload_hash.as_bytes());
}

/// The string to sign; `scope` is the date, region and service of the credential scope.
pub(crate) fn string_to_sign(amz_date: &str, scope: [&str; 3], canonical_request: &[u8]) -> String {
    let mut out = String::new();
    write_string_to_sign(&mut out, amz_date, scope, canonical_request);
    out
}

/// [`string_to_sign`] written into `out` (emptied first), for a caller that reuses a buffer.
pub(crate) fn write_string_to_sign(out: &mut String, amz_date: &str, scope: [&str; 3], canonical_request: &[u8]) {
    let hash = hex32(&Sha256::digest(canonical_request));
    let [date, region, service] = scope;
    out.clear();
    out.reserve(ALGORITHM.len() + amz_date.len() + 40 + region.len() + hash.len() + 3);
    for part in [ALGORITHM, "\n", amz_date, "\n", date, "/", region, "/", service, "/aws4_request\n"] {
        out.push_str(part);
    }
    out.push_str(std::str::from_utf8(&hash).expect("hex digits are ASCII"));
}

/// The lower-case hex signature of a string to sign.
pub(crate) fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    String::from_utf8(SigningKey::new(signing_key).signature_hex(string_to_sign).to_vec())
        .expect("hex digits are ASCII")
}

/// A signing key ready to sign: the HMAC state with the key already absorbed, so each
/// signature costs the hash of the string to sign alone (the key's two blocks are done once).
#[derive(Clone)]
pub struct SigningKey {
    mac: Hmac<Sha256>,
}

impl SigningKey {
    pub fn new(key: &[u8; 32]) -> Self {
        SigningKey { mac: <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length") }
    }

    /// The signature of a string to sign, as lower-case hex digits on the stack.
    pub(crate) fn signature_hex(&self, string_to_sign: &str) -> [u8; 64] {
        hex32(&self.signature_bytes(string_to_sign))
    }

    /// The signature of a string to sign, as the HMAC's 32 bytes.
    pub(crate) fn signature_bytes(&self, string_to_sign: &str) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(string_to_sign.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encoded_slash_in_a_path_is_encoded_again_for_non_s3_services() {
        assert_eq!(canonical_uri("/a%2Fb", "iam"), "/a%252Fb");
        assert_eq!(canonical_uri("/100%25", "iam"), "/100%2525");
        assert_eq!(canonical_uri("/example%20space/", "iam"), "/example%2520space/");
        assert_eq!(canonical_uri("/arn%3Aaws%3Aram", "ram"), "/arn%253Aaws%253Aram");
    }

    #[test]
    fn an_s3_path_is_signed_as_sent() {
        assert_eq!(canonical_uri_candidates("/a//./b/%2F", "s3").iter().collect::<Vec<_>>(), vec!["/a//./b/%2F"]);
    }

    #[test]
    fn empty_and_dot_segments_are_removed_like_botocore_does() {
        for (path, want) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("//example//", "/example/"),
            ("/./", "/"),
            ("/./example", "/example"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/a/b/c/./../../g", "/a/g"),
            ("/..", "/"),
            ("/a/..b/.c", "/a/..b/.c"),
            ("/a/%2E%2E/b", "/a/%2E%2E/b"),
        ] {
            assert_eq!(normalize_path(path), want, "{path}");
        }
    }

    #[test]
    fn the_unnormalised_path_is_a_second_candidate_only_when_it_differs() {
        assert_eq!(canonical_uri_candidates("/a/b", "ec2").iter().collect::<Vec<_>>(), vec!["/a/b"]);
        assert_eq!(canonical_uri_candidates("//a//", "ec2").iter().collect::<Vec<_>>(), vec!["/a/", "//a//"]);
        assert_eq!(canonical_uri_candidates("/a/b/", "ec2").iter().collect::<Vec<_>>(), vec!["/a/b/"]);
        assert_eq!(canonical_uri_candidates("/a/./b", "ec2").iter().collect::<Vec<_>>(), vec!["/a/b", "/a/./b"]);
        assert_eq!(canonical_uri_candidates("/a/b/..", "ec2").iter().collect::<Vec<_>>(), vec!["/a", "/a/b/.."]);
        assert_eq!(canonical_uri_candidates("/a%20b", "ec2").iter().collect::<Vec<_>>(), vec!["/a%2520b"]);
    }

    #[test]
    fn plain_paths_are_exactly_those_that_normalising_and_encoding_leave_alone() {
        for path in
            ["/", "/a", "/a/", "/a/b.c/~d-e_f", "//", "/a//b", "/.", "/..", "/a/.", "/a/../b", "/a%2F", "a/b", "/a b"]
        {
            let full = encode_path(&normalize_path(path));
            let mut raw = encode_path(path);
            if !raw.starts_with('/') {
                raw.insert(0, '/');
            }
            assert_eq!(is_plain_path(path), full == path && raw == path, "{path}");
        }
    }

    #[test]
    fn a_plus_in_a_query_is_a_literal_plus_and_a_space_is_percent_20() {
        assert_eq!(canonical_query("c+d", false), "c%2Bd=");
        assert_eq!(canonical_query("q=a+b&r=a%20b&s=a%2Bb", false), "q=a%2Bb&r=a%20b&s=a%2Bb");
    }

    #[test]
    fn query_parameters_sort_by_encoded_name_then_value() {
        assert_eq!(
            canonical_query("Param-3=Value3&Param=Value2&%E1%88%B4=Value1", false),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"
        );
        assert_eq!(canonical_query("x=a.b&x=a%2Fb", false), "x=a%2Fb&x=a.b");
        assert_eq!(canonical_query("b&a=1&&a=1=2", false), "a=1&a=1%3D2&b=");
        assert_eq!(canonical_query("%7e=%41", false), "~=A");
        assert_eq!(canonical_query("a=%zz%4", false), "a=%25zz%254");
    }

    #[test]
    fn a_presigned_query_leaves_out_only_its_signature() {
        assert_eq!(canonical_query("X-Amz-Signature=abc&b=2&X-Amz-Date=1", true), "X-Amz-Date=1&b=2");
        assert_eq!(canonical_query("X-Amz-Signature=abc&b=2", false), "X-Amz-Signature=abc&b=2");
    }

    #[test]
    fn values_with_nothing_to_trim_are_copied_and_the_rest_trimmed() {
        for (value, want) in [
            ("abc", "abc"),
            ("a b c", "a b c"),
            ("a  b", "a b"),
            (" a", "a"),
            ("a ", "a"),
            ("a\tb", "a b"),
            ("\ta", "a"),
            ("", ""),
            (" ", ""),
        ] {
            let mut out = Vec::new();
            trim_all(value.as_bytes(), &mut out);
            assert_eq!(out, want.as_bytes(), "{value:?}");
        }
    }

    #[test]
    fn header_values_are_trimmed_collapsed_and_joined() {
        let mut out = Vec::new();
        let values: [&[u8]; 3] = [b"  a   b \t c  ", b"", b"d"];
        assert!(write_canonical_header(&mut out, "x", values.into_iter()));
        assert_eq!(out, b"x:a b c,,d\n");
        let mut out = Vec::new();
        assert!(!write_canonical_header(&mut out, "y", std::iter::empty()));
        assert_eq!(out, b"y:\n");
    }
}
