//! Removal of `sensitive` values from canonical values before they reach logs or the audit trail.

use ingot_core::model::{ServiceModel, ShapeId, ShapeKind};
use serde_json::Value;

use crate::shapes::MAX_DEPTH;

/// What replaces a sensitive value.
pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// Appends canonical `value` of `shape` to `out` as JSON the way an audit record shows it:
/// every value of a `sensitive` shape replaced by [`HIDDEN`], map keys of a sensitive key shape
/// too (numbered to stay distinct), keys a structure does not model dropped (nothing says they
/// are safe), and structure member names in lower camel case (`name`, `withDecryption`).
/// Written straight from the value, without building a redacted copy: it runs on every call.
pub fn write_redacted(model: &ServiceModel, shape: ShapeId, value: &Value, out: &mut Vec<u8>) {
    walk(model, shape, value, 0, out);
}

fn walk(model: &ServiceModel, shape: ShapeId, v: &Value, depth: usize, out: &mut Vec<u8>) {
    let s = model.shape(shape);
    if s.sensitive || depth > MAX_DEPTH * 2 {
        write_str(out, HIDDEN);
        return;
    }
    match (&s.kind, v) {
        (ShapeKind::Structure { document: false, members, .. }, Value::Object(obj)) => {
            out.push(b'{');
            let mut first = true;
            for m in *members {
                let Some(it) = obj.get(m.name) else { continue };
                if !first {
                    out.push(b',');
                }
                first = false;
                write_lower_camel_key(out, m.name);
                walk(model, m.target, it, depth + 1, out);
            }
            out.push(b'}');
        }
        (ShapeKind::List { member, .. }, Value::Array(items)) => {
            out.push(b'[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                walk(model, *member, it, depth + 1, out);
            }
            out.push(b']');
        }
        (ShapeKind::Map { key, value, .. }, Value::Object(obj)) => {
            let hide_keys = model.shape(*key).sensitive;
            out.push(b'{');
            for (i, (k, it)) in obj.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if hide_keys {
                    write_str(out, &format!("{HIDDEN}_{}", i + 1));
                } else {
                    write_str(out, k);
                }
                out.push(b':');
                walk(model, *value, it, depth + 1, out);
            }
            out.push(b'}');
        }
        // A value already in canonical form: numbers, booleans, strings, documents.
        _ => {
            let _ = serde_json::to_writer(&mut *out, v);
        }
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    // Serializing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// `"name":` for member `Name`. Model member names are ASCII identifiers: no escaping needed,
/// but a name that is not is escaped rather than trusted.
fn write_lower_camel_key(out: &mut Vec<u8>, name: &str) {
    if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        out.push(b'"');
        let start = out.len();
        out.extend_from_slice(name.as_bytes());
        if let Some(first) = out.get_mut(start) {
            first.make_ascii_lowercase();
        }
        out.extend_from_slice(b"\":");
    } else {
        let mut lowered = name.to_string();
        if let Some(first) = lowered.get_mut(..1) {
            first.make_ascii_lowercase();
        }
        write_str(out, &lowered);
        out.push(b':');
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testmodels::{JSON_MODEL, KITCHEN, QUERY_INPUT, QUERY_MODEL};

    fn redacted(model: &ServiceModel, shape: ShapeId, v: &Value) -> Value {
        let mut out = Vec::new();
        write_redacted(model, shape, v, &mut out);
        serde_json::from_slice(&out).expect("the writer writes JSON")
    }

    #[test]
    fn sensitive_members_are_hidden_and_the_rest_kept_with_lower_camel_member_names() {
        let v = json!({"Name":"abc","Secret":"hunter2","Tags":[{"Key":"k"}],"Doc":{"Secret":"kept"}});
        assert_eq!(
            redacted(&JSON_MODEL, KITCHEN, &v),
            json!({"name":"abc","secret":HIDDEN,"tags":[{"key":"k"}],"doc":{"Secret":"kept"}})
        );
    }

    #[test]
    fn unmodeled_keys_are_dropped() {
        let v = json!({"Name":"abc","Secret":"x","Sneaky":"value"});
        assert_eq!(redacted(&QUERY_MODEL, QUERY_INPUT, &v), json!({"name":"abc","secret":HIDDEN}));
    }

    #[test]
    fn strings_are_escaped() {
        let v = json!({"Name":"a\"b\n\u{1}"});
        assert_eq!(redacted(&QUERY_MODEL, QUERY_INPUT, &v), json!({"name":"a\"b\n\u{1}"}));
    }
}
