//! Small helpers over the shape metadata shared by every codec.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use ingot_core::model::{Member, ServiceModel, ShapeId, ShapeKind, TimestampFormat};
use ingot_core::{CommonError, CommonKind};

/// Deepest nesting of structures/lists/maps a codec walks before rejecting the input.
pub const MAX_DEPTH: usize = 64;

pub fn serialization(message: impl Into<String>) -> CommonError {
    CommonError::new(CommonKind::Serialization, message)
}

pub fn too_deep() -> CommonError {
    serialization("The input is nested too deeply.")
}

/// The timestamp format that applies: the member's, else the shape's, else the context default.
pub fn timestamp_format(
    model: &ServiceModel,
    member: Option<&Member>,
    shape: ShapeId,
    default: TimestampFormat,
) -> TimestampFormat {
    if let Some(f) = member.and_then(|m| m.timestamp_format) {
        return f;
    }
    match model.shape(shape).kind {
        ShapeKind::Timestamp { format: Some(f) } => f,
        _ => default,
    }
}

/// Decodes standard base64 (padding optional).
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    STANDARD.decode(t).ok().or_else(|| STANDARD_NO_PAD.decode(t).ok())
}

pub fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Normalises a wire base64 blob to the canonical (padded standard) form.
pub fn canonical_blob(text: &str) -> Option<String> {
    decode_base64(text).map(|b| encode_base64(&b))
}

/// `Name` → `name` (AWS's validation paths).
pub fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `name` → `Name` (ec2Query request keys).
pub fn upper_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The JSON/XML wire name of a body member.
pub fn wire_name(member: &Member) -> &'static str {
    member.location_name.unwrap_or(member.name)
}

/// Members of a structure shape (empty for other kinds).
pub fn members(model: &ServiceModel, shape: ShapeId) -> &'static [Member] {
    match model.shape(shape).kind {
        ShapeKind::Structure { members, .. } => members,
        _ => &[],
    }
}

/// Finds the error shape whose wire code is `code`.
pub fn find_error_shape(model: &ServiceModel, code: &str) -> Option<ShapeId> {
    model
        .shapes
        .iter()
        .position(|s| match s.kind {
            ShapeKind::Structure { error: Some(e), .. } => e.code.unwrap_or(s.name) == code || s.name == code,
            _ => false,
        })
        .and_then(|i| ShapeId::try_from(i).ok())
}

/// The member of an error shape that carries the message (`message`, `Message`, `errorMessage`).
pub fn message_member(model: &ServiceModel, shape: ShapeId) -> Option<&'static Member> {
    members(model, shape)
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case("message") || m.name.eq_ignore_ascii_case("errorMessage"))
}

/// Parses the text form of a scalar (URI label, query value, header, form value) into its
/// canonical value. `None` when the text does not fit the shape.
pub fn parse_scalar_text(
    model: &ServiceModel,
    shape: ShapeId,
    member: Option<&Member>,
    text: &str,
    ts_default: TimestampFormat,
) -> Option<serde_json::Value> {
    use serde_json::Value;
    match model.shape(shape).kind {
        ShapeKind::String { .. } => Some(Value::String(text.to_string())),
        ShapeKind::Integer { .. } => parse_int(text).filter(|n| i32::try_from(*n).is_ok()).map(Value::from),
        ShapeKind::Long { .. } => parse_int(text).map(Value::from),
        ShapeKind::Float { .. } | ShapeKind::Double { .. } => match text.trim() {
            t @ ("NaN" | "Infinity" | "-Infinity") => Some(Value::String(t.to_string())),
            t if !t.is_empty()
                && t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E')) =>
            {
                t.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number)
            }
            _ => None,
        },
        ShapeKind::Boolean => match text.trim() {
            t if t.eq_ignore_ascii_case("true") => Some(Value::Bool(true)),
            t if t.eq_ignore_ascii_case("false") => Some(Value::Bool(false)),
            _ => None,
        },
        ShapeKind::Timestamp { .. } => {
            let f = timestamp_format(model, member, shape, ts_default);
            crate::timefmt::parse_text(text, f).map(crate::timefmt::to_canonical)
        }
        ShapeKind::Blob { .. } => canonical_blob(text).map(Value::String),
        ShapeKind::Structure { .. } | ShapeKind::List { .. } | ShapeKind::Map { .. } => None,
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let digits = t.strip_prefix('-').or_else(|| t.strip_prefix('+')).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// Strict percent-decoding: every `%` must start a two-digit hex escape and the result must be
/// UTF-8. `plus_as_space` applies form encoding (`+` is a space).
pub fn percent_decode(raw: &str, plus_as_space: bool) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let ok = bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return None;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    let decoded: Vec<u8> = if plus_as_space && raw.contains('+') {
        percent_encoding::percent_decode(raw.replace('+', " ").as_bytes()).collect()
    } else {
        percent_encoding::percent_decode(bytes).collect()
    };
    String::from_utf8(decoded).ok()
}

/// Splits `a=1&b=2` (form or query string) into decoded pairs, in order.
pub fn parse_pairs(raw: &[u8]) -> Result<Vec<(String, String)>, CommonError> {
    let text =
        std::str::from_utf8(raw).map_err(|_| serialization("The request contains bytes that are not valid UTF-8."))?;
    let mut out = Vec::new();
    for pair in text.split('&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let bad = || serialization("The request contains a malformed percent-encoded value.");
        let k = percent_decode(k, true).ok_or_else(bad)?;
        let v = percent_decode(v, true).ok_or_else(bad)?;
        out.push((k, v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_accepts_missing_padding_and_rejects_garbage() {
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("aGk").unwrap(), b"hi");
        assert!(decode_base64("***").is_none());
        assert_eq!(canonical_blob("aGk").unwrap(), "aGk=");
    }

    #[test]
    fn percent_decoding_is_strict_about_escapes_and_utf8() {
        assert_eq!(percent_decode("a%20b+c", true).unwrap(), "a b c");
        assert_eq!(percent_decode("a%20b+c", false).unwrap(), "a b+c");
        assert!(percent_decode("%zz", false).is_none());
        assert!(percent_decode("%4", false).is_none());
        assert!(percent_decode("%ff", false).is_none());
    }

    #[test]
    fn pairs_keep_order_and_empty_values() {
        let p = parse_pairs(b"A=1&&B&C=x%3Dy").unwrap();
        assert_eq!(p, vec![("A".into(), "1".into()), ("B".into(), "".into()), ("C".into(), "x=y".into())]);
    }

    #[test]
    fn first_letter_case_changes_only_the_first_letter() {
        assert_eq!(lower_first("SAMLOptions"), "sAMLOptions");
        assert_eq!(upper_first("imageId"), "ImageId");
        assert_eq!(lower_first(""), "");
    }
}
