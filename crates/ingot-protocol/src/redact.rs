//! Removal of `sensitive` values from canonical values before they reach logs or the audit trail.

use ingot_core::model::{ServiceModel, ShapeId, ShapeKind};
use serde_json::{Map, Value};

use crate::shapes::MAX_DEPTH;

/// What replaces a sensitive value.
pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// A copy of canonical `value` of `shape` with every value of a `sensitive` shape replaced by
/// [`HIDDEN`]. Map keys of a sensitive key shape are replaced too (numbered to stay distinct).
/// Keys a structure does not model are dropped, since nothing says they are safe.
pub fn redact(model: &ServiceModel, shape: ShapeId, value: &Value) -> Value {
    walk(model, shape, value, 0)
}

fn walk(model: &ServiceModel, shape: ShapeId, v: &Value, depth: usize) -> Value {
    let s = model.shape(shape);
    if s.sensitive {
        return Value::String(HIDDEN.to_string());
    }
    if depth > MAX_DEPTH * 2 {
        return Value::String(HIDDEN.to_string());
    }
    match (&s.kind, v) {
        (ShapeKind::Structure { document: false, members, .. }, Value::Object(obj)) => {
            let mut out = Map::new();
            for m in *members {
                if let Some(it) = obj.get(m.name) {
                    out.insert(m.name.to_string(), walk(model, m.target, it, depth + 1));
                }
            }
            Value::Object(out)
        }
        (ShapeKind::List { member, .. }, Value::Array(items)) => {
            Value::Array(items.iter().map(|it| walk(model, *member, it, depth + 1)).collect())
        }
        (ShapeKind::Map { key, value, .. }, Value::Object(obj)) => {
            let hide_keys = model.shape(*key).sensitive;
            let mut out = Map::new();
            for (i, (k, it)) in obj.iter().enumerate() {
                let k = if hide_keys { format!("{HIDDEN}_{}", i + 1) } else { k.clone() };
                out.insert(k, walk(model, *value, it, depth + 1));
            }
            Value::Object(out)
        }
        _ => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testmodels::{JSON_MODEL, KITCHEN, QUERY_INPUT, QUERY_MODEL};

    #[test]
    fn sensitive_members_are_hidden_and_the_rest_kept() {
        let v = json!({"Name":"abc","Secret":"hunter2","Tags":[{"Key":"k"}],"Doc":{"Secret":"kept"}});
        assert_eq!(
            redact(&JSON_MODEL, KITCHEN, &v),
            json!({"Name":"abc","Secret":HIDDEN,"Tags":[{"Key":"k"}],"Doc":{"Secret":"kept"}})
        );
    }

    #[test]
    fn unmodeled_keys_are_dropped() {
        let v = json!({"Name":"abc","Secret":"x","Sneaky":"value"});
        assert_eq!(redact(&QUERY_MODEL, QUERY_INPUT, &v), json!({"Name":"abc","Secret":HIDDEN}));
    }
}
