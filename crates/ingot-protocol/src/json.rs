//! JSON bodies (awsJson and restJson1): wire JSON ⇄ canonical value, driven by the shapes.
//!
//! Decoding type-checks every value against its shape and renames wire keys (`locationName`)
//! to member names; unknown keys are ignored and `null` counts as absent. Encoding writes
//! members in model order with its own small writer, so output does not depend on how
//! `serde_json` orders maps.

use ingot_core::model::{Member, ServiceModel, ShapeId, ShapeKind, TimestampFormat};
use ingot_core::CommonError;
use serde_json::{Map, Value};
use std::fmt::Write as _;

use crate::shapes::{self, serialization, too_deep, wire_name, MAX_DEPTH};
use crate::timefmt;

/// Which structure members a JSON object carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Members {
    /// Every member (awsJson bodies, nested structures).
    All,
    /// Only `Location::Body` members (the top level of a restJson1 body).
    BodyOnly,
}

impl Members {
    fn includes(self, m: &Member) -> bool {
        self == Members::All || m.location == ingot_core::model::Location::Body
    }
}

fn token(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL_VALUE",
        Value::Bool(_) => "BOOLEAN_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::String(_) => "STRING_VALUE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

fn mismatch(v: &Value, expected: &str) -> CommonError {
    match v {
        Value::Object(_) => serialization("Start of structure or map found where not expected."),
        Value::Array(_) => serialization("Start of list found where not expected"),
        _ => serialization(format!("{} can not be converted to {expected}", token(v))),
    }
}

/// Decodes the members of structure `shape` from a JSON object into a canonical object. The
/// wire object is taken apart: its values move into the canonical one instead of being copied.
pub fn decode_struct(
    model: &ServiceModel,
    shape: ShapeId,
    mut obj: Map<String, Value>,
    which: Members,
    depth: usize,
) -> Result<Map<String, Value>, CommonError> {
    let mut out = Map::new();
    for m in shapes::members(model, shape) {
        if !which.includes(m) {
            continue;
        }
        let Some((mut key, v)) = obj.remove_entry(wire_name(m)) else {
            continue;
        };
        if let Some(decoded) = decode(model, m.target, Some(m), v, depth + 1)? {
            // The wire key is usually the member name already: kept rather than copied.
            if key != m.name {
                key = m.name.to_string();
            }
            out.insert(key, decoded);
        }
    }
    Ok(out)
}

/// Decodes one wire JSON value of `shape`; `Ok(None)` for `null`.
pub fn decode(
    model: &ServiceModel,
    shape: ShapeId,
    member: Option<&Member>,
    v: Value,
    depth: usize,
) -> Result<Option<Value>, CommonError> {
    if depth > MAX_DEPTH * 2 {
        return Err(too_deep());
    }
    if v.is_null() {
        return Ok(None);
    }
    let decoded = match &model.shape(shape).kind {
        ShapeKind::Structure { document: true, .. } => v,
        ShapeKind::Structure { .. } => match v {
            Value::Object(obj) => Value::Object(decode_struct(model, shape, obj, Members::All, depth)?),
            _ => return Err(mismatch(&v, "a structure")),
        },
        ShapeKind::List { member: item, .. } => match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    if let Some(d) = decode(model, *item, None, it, depth + 1)? {
                        out.push(d);
                    }
                }
                Value::Array(out)
            }
            _ => return Err(mismatch(&v, "a list")),
        },
        ShapeKind::Map { key, value, .. } => match v {
            Value::Object(obj) => {
                let mut out = Map::new();
                for (k, it) in obj {
                    // Keys are strings on the wire; an enum key shape is checked by validation.
                    let _ = key;
                    if let Some(d) = decode(model, *value, None, it, depth + 1)? {
                        out.insert(k, d);
                    }
                }
                Value::Object(out)
            }
            _ => return Err(mismatch(&v, "a map")),
        },
        ShapeKind::String { .. } => match v {
            Value::String(_) => v,
            _ => return Err(mismatch(&v, "String")),
        },
        ShapeKind::Integer { .. } => match v.as_i64() {
            Some(n) if i32::try_from(n).is_ok() => Value::from(n),
            _ => return Err(mismatch(&v, "Integer")),
        },
        ShapeKind::Long { .. } => match v.as_i64() {
            Some(n) => Value::from(n),
            _ => return Err(mismatch(&v, "Long")),
        },
        ShapeKind::Float { .. } | ShapeKind::Double { .. } => match &v {
            Value::Number(_) => v,
            Value::String(s) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") => v,
            _ => return Err(mismatch(&v, "Double")),
        },
        ShapeKind::Boolean => match v {
            Value::Bool(_) => v,
            _ => return Err(mismatch(&v, "Boolean")),
        },
        ShapeKind::Timestamp { .. } => {
            let ts = match &v {
                Value::Number(n) => n.as_f64().and_then(ingot_core::Timestamp::from_epoch_seconds_f64),
                Value::String(s) => {
                    let f = shapes::timestamp_format(model, member, shape, TimestampFormat::EpochSeconds);
                    timefmt::parse_text(s, f).or_else(|| timefmt::parse_text(s, TimestampFormat::Iso8601))
                }
                _ => return Err(mismatch(&v, "Timestamp")),
            };
            match ts {
                Some(ts) => timefmt::to_canonical(ts),
                None => return Err(serialization(format!("{} is not a valid timestamp", compact(&v)))),
            }
        }
        ShapeKind::Blob { .. } => match &v {
            Value::String(s) => match shapes::canonical_blob(s) {
                Some(b) => Value::String(b),
                None => return Err(serialization("Base64 encoded binary data is not valid.")),
            },
            _ => return Err(mismatch(&v, "Blob")),
        },
    };
    Ok(Some(decoded))
}

fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 64 {
        let mut cut = 64;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &s[..cut])
    } else {
        s
    }
}

/// An ordered JSON writer for responses.
#[derive(Debug, Default)]
pub struct JsonOut {
    pub buf: String,
}

impl JsonOut {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `,"key":` (or without the comma for the first key).
    pub fn key(&mut self, key: &str, first: &mut bool) {
        if !*first {
            self.buf.push(',');
        }
        *first = false;
        self.string(key);
        self.buf.push(':');
    }

    /// Writes any JSON value as is. Scalars are written in place (this runs for every member of
    /// every response); arrays and objects (documents) go through serde_json.
    pub fn raw(&mut self, v: &Value) {
        match v {
            Value::Null => self.buf.push_str("null"),
            Value::Bool(b) => self.buf.push_str(if *b { "true" } else { "false" }),
            // serde_json writes numbers exactly as their `Display` does.
            Value::Number(n) => {
                let _ = write!(self.buf, "{n}");
            }
            Value::String(s) => self.string(s),
            other => self.buf.push_str(&serde_json::to_string(other).unwrap_or_else(|_| "null".to_string())),
        }
    }

    /// Writes `s` as a JSON string; only strings that need escaping go through serde_json.
    fn string(&mut self, s: &str) {
        if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            self.buf.push('"');
            self.buf.push_str(s);
            self.buf.push('"');
        } else {
            self.buf.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "null".to_string()));
        }
    }

    /// Writes the members of `shape` found in canonical `obj` (model order), skipping
    /// `skip` (a member name) and members `which` excludes.
    #[allow(clippy::too_many_arguments)]
    pub fn struct_members(
        &mut self,
        model: &ServiceModel,
        shape: ShapeId,
        obj: &Map<String, Value>,
        which: Members,
        skip: Option<&str>,
        first: &mut bool,
        depth: usize,
    ) {
        for m in shapes::members(model, shape) {
            if !which.includes(m) || skip == Some(m.name) {
                continue;
            }
            let Some(v) = obj.get(m.name) else { continue };
            if v.is_null() {
                continue;
            }
            self.key(wire_name(m), first);
            self.value(model, m.target, Some(m), v, depth + 1);
        }
    }

    /// Writes canonical value `v` of `shape` as wire JSON.
    pub fn value(&mut self, model: &ServiceModel, shape: ShapeId, member: Option<&Member>, v: &Value, depth: usize) {
        if depth > MAX_DEPTH * 2 {
            self.raw(v);
            return;
        }
        match (&model.shape(shape).kind, v) {
            (ShapeKind::Structure { document: false, .. }, Value::Object(obj)) => {
                self.buf.push('{');
                let mut first = true;
                self.struct_members(model, shape, obj, Members::All, None, &mut first, depth);
                self.buf.push('}');
            }
            (ShapeKind::List { member: item, .. }, Value::Array(items)) => {
                self.buf.push('[');
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(',');
                    }
                    self.value(model, *item, None, it, depth + 1);
                }
                self.buf.push(']');
            }
            (ShapeKind::Map { value, .. }, Value::Object(obj)) => {
                self.buf.push('{');
                let mut first = true;
                for (k, it) in obj {
                    if it.is_null() {
                        continue;
                    }
                    self.key(k, &mut first);
                    self.value(model, *value, None, it, depth + 1);
                }
                self.buf.push('}');
            }
            (ShapeKind::Timestamp { .. }, _) => match timefmt::from_canonical(v) {
                Some(ts) => match shapes::timestamp_format(model, member, shape, TimestampFormat::EpochSeconds) {
                    TimestampFormat::EpochSeconds => self.raw(&timefmt::to_canonical(ts)),
                    f => self.raw(&Value::String(timefmt::format_text(ts, f))),
                },
                None => self.raw(v),
            },
            _ => self.raw(v),
        }
    }
}

/// Serialises canonical `v` of `shape` as a JSON document.
pub fn encode(model: &ServiceModel, shape: ShapeId, v: &Value) -> String {
    // Most responses fit: no regrowth while writing.
    let mut out = JsonOut { buf: String::with_capacity(1024) };
    out.value(model, shape, None, v, 0);
    out.buf
}

/// Parses a request body as a JSON object (`{}` when empty).
pub fn parse_body(body: &[u8]) -> Result<Map<String, Value>, CommonError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err(serialization("Start of structure or map expected.")),
        Err(e) => Err(serialization(body_error_message(&e))),
    }
}

fn body_error_message(e: &serde_json::Error) -> String {
    if e.to_string().contains("recursion limit") {
        "The input is nested too deeply.".to_string()
    } else {
        "The request body could not be parsed as JSON.".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_and_keys_are_written_exactly_as_serde_json_writes_them() {
        let values = [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(-42),
            json!(u64::MAX),
            json!(1_700_000_000.123),
            json!(0.1),
            json!(1e300),
            json!("plain"),
            json!("quote \" backslash \\ newline \n tab \t bell \u{7} delete \u{7f}"),
            json!("unicode é ✓ 𝄞"),
            json!({"Doc": [1, "two", {"three": null}]}),
        ];
        for v in &values {
            let mut out = JsonOut::new();
            out.raw(v);
            assert_eq!(out.buf, serde_json::to_string(v).unwrap(), "value {v:?}");
            if let Value::String(s) = v {
                let mut out = JsonOut::new();
                let mut first = true;
                out.key(s, &mut first);
                assert_eq!(out.buf, format!("{}:", serde_json::to_string(s).unwrap()));
            }
        }
    }
}
