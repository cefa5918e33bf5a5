//! Validation of a canonical value against the model's constraints, reported in AWS's words.
//!
//! Every violation is listed, joined with `; `, behind `N validation error(s) detected: `.
//! Paths use the lower-camel member names: `name`, `tags.1.member.key` for a structure inside a
//! list (1-based), `attributes.<key>.value` for a structure inside a map. A list or map whose
//! scalar elements break their constraints is reported once, at the list, with every
//! constraint of the element shape in brackets
//! (`Member must satisfy constraint: [Member must have length less than or equal to 253, …]`),
//! as AWS does. Values of `sensitive` shapes are never echoed (`Value at 'password' …`).
//! Patterns are Java regular expressions matched against the whole value; a pattern the
//! `regex` crate cannot compile is skipped.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use ingot_core::model::{ServiceModel, ShapeId, ShapeKind};
use ingot_core::CommonError;
use regex::Regex;
use serde_json::{Map, Value};

use crate::shapes::{self, lower_first, MAX_DEPTH};

/// Checks `value` (canonical) against every constraint of `shape`: required members, enums,
/// lengths, ranges and patterns. The error is `CommonKind::Validation` with AWS's message.
pub fn validate(model: &ServiceModel, shape: ShapeId, value: &Value) -> Result<(), CommonError> {
    let found = violations(model, shape, value, true);
    if found.is_empty() {
        Ok(())
    } else {
        Err(CommonError::validation(message(&found)))
    }
}

/// The violations of `value`; `check_required` off skips the "must not be null" checks (the
/// query protocols report missing members separately).
pub(crate) fn violations(model: &ServiceModel, shape: ShapeId, value: &Value, check_required: bool) -> Vec<String> {
    let mut w = Walker { model, check_required, out: Vec::new() };
    w.value(shape, value, &Path::Root, 0);
    w.out
}

pub(crate) fn message(found: &[String]) -> String {
    let n = found.len();
    let noun = if n == 1 { "error" } else { "errors" };
    format!("{n} validation {noun} detected: {}", found.join("; "))
}

struct Walker<'m> {
    model: &'m ServiceModel,
    check_required: bool,
    out: Vec<String>,
}

/// Where a value sits in the input: written out only for a violation, so that a valid input
/// costs no text.
enum Path<'a> {
    Root,
    /// A structure member, by its model name (shown lower-camel).
    Member(&'a Path<'a>, &'static str),
    /// A structure in a list, 1-based: `.N.member`.
    Item(&'a Path<'a>, usize),
    /// A structure in a map: `.key.value`.
    Entry(&'a Path<'a>, &'a str),
}

impl Path<'_> {
    fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Path::Root => {}
            Path::Member(parent, name) => {
                parent.write(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&lower_first(name));
            }
            Path::Item(parent, i) => {
                parent.write(out);
                out.push_str(&format!(".{i}.member"));
            }
            Path::Entry(parent, key) => {
                parent.write(out);
                out.push('.');
                out.push_str(key);
                out.push_str(".value");
            }
        }
    }
}

impl Walker<'_> {
    fn push(&mut self, shape: ShapeId, v: &Value, path: &Path<'_>, constraint: &str) {
        let shown = match render(self.model, shape, v) {
            Some(text) => format!("Value '{text}' at"),
            None => "Value at".to_string(),
        };
        self.out.push(format!("{shown} '{}' failed to satisfy constraint: {constraint}", path.render()));
    }

    fn structure(&mut self, shape: ShapeId, obj: &Map<String, Value>, path: &Path<'_>, depth: usize) {
        for m in shapes::members(self.model, shape) {
            let p = Path::Member(path, m.name);
            match obj.get(m.name) {
                None | Some(Value::Null) => {
                    if m.required && self.check_required {
                        self.out.push(format!(
                            "Value null at '{}' failed to satisfy constraint: Member must not be null",
                            p.render()
                        ));
                    }
                }
                Some(v) => self.value(m.target, v, &p, depth + 1),
            }
        }
    }

    fn value(&mut self, shape: ShapeId, v: &Value, path: &Path<'_>, depth: usize) {
        if depth > MAX_DEPTH * 2 {
            return;
        }
        let model = self.model;
        match (&model.shape(shape).kind, v) {
            (ShapeKind::Structure { document: false, .. }, Value::Object(obj)) => {
                self.structure(shape, obj, path, depth)
            }
            (ShapeKind::List { member, min, max, .. }, Value::Array(items)) => {
                if let Some(c) = length_failure(items.len() as i64, *min, *max) {
                    self.push(shape, v, path, &c);
                }
                if is_scalar(model, *member) {
                    if items.iter().any(|it| !scalar_constraints(model, *member, it, false).is_empty()) {
                        let all = scalar_constraints(model, *member, &items[0], true).join(", ");
                        self.push(shape, v, path, &format!("Member must satisfy constraint: [{all}]"));
                    }
                } else {
                    for (i, it) in items.iter().enumerate() {
                        self.value(*member, it, &Path::Item(path, i + 1), depth + 1);
                    }
                }
            }
            (ShapeKind::Map { key, value, min, max, .. }, Value::Object(entries)) => {
                if let Some(c) = length_failure(entries.len() as i64, *min, *max) {
                    self.push(shape, v, path, &c);
                }
                let key_fails = entries
                    .keys()
                    .any(|k| !scalar_constraints(model, *key, &Value::String(k.clone()), false).is_empty());
                if key_fails {
                    let all = scalar_constraints(model, *key, &Value::String(String::new()), true).join(", ");
                    self.push(shape, v, path, &format!("Map keys must satisfy constraint: [{all}]"));
                }
                if is_scalar(model, *value) {
                    if let Some(first) =
                        entries.values().find(|it| !scalar_constraints(model, *value, it, false).is_empty())
                    {
                        let all = scalar_constraints(model, *value, first, true).join(", ");
                        self.push(shape, v, path, &format!("Map value must satisfy constraint: [{all}]"));
                    }
                } else {
                    for (k, it) in entries {
                        self.value(*value, it, &Path::Entry(path, k), depth + 1);
                    }
                }
            }
            _ => {
                for c in scalar_constraints(model, shape, v, false) {
                    self.push(shape, v, path, &c);
                }
            }
        }
    }
}

/// Enums whose allowed values AWS lists in an order of its own rather than the model's:
/// `(service id, shape name, values in AWS's order)`. Only the message reads this; which values
/// are valid is still the model's.
const ENUM_LISTINGS: &[(&str, &str, &[&str])] = &[("ssm", "ParameterType", &["SecureString", "StringList", "String"])];

/// AWS's listing of `shape`'s enum values, when it differs from the model's order.
fn enum_listing(model: &ServiceModel, shape: ShapeId) -> Option<&'static [&'static str]> {
    let name = model.shape(shape).name;
    ENUM_LISTINGS.iter().find(|(id, n, _)| *id == model.id && *n == name).map(|(_, _, values)| *values)
}

fn is_scalar(model: &ServiceModel, shape: ShapeId) -> bool {
    !matches!(model.shape(shape).kind, ShapeKind::Structure { .. } | ShapeKind::List { .. } | ShapeKind::Map { .. })
}

fn length_failure(len: i64, min: Option<i64>, max: Option<i64>) -> Option<String> {
    if let Some(max) = max.filter(|max| len > *max) {
        return Some(format!("Member must have length less than or equal to {max}"));
    }
    if let Some(min) = min.filter(|min| len < *min) {
        return Some(format!("Member must have length greater than or equal to {min}"));
    }
    None
}

fn fmt_f64(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// The constraint texts of a scalar shape: the failing ones for `v`, or all when `all`.
/// Order: maximum, minimum, pattern, enum (AWS's order inside brackets).
fn scalar_constraints(model: &ServiceModel, shape: ShapeId, v: &Value, all: bool) -> Vec<String> {
    let mut out = Vec::new();
    match &model.shape(shape).kind {
        ShapeKind::String { enum_values, min, max, pattern } => {
            let s = v.as_str().unwrap_or_default();
            let len = s.chars().count() as i64;
            if let Some(max) = max {
                if all || len > *max {
                    out.push(format!("Member must have length less than or equal to {max}"));
                }
            }
            if let Some(min) = min {
                if all || len < *min {
                    out.push(format!("Member must have length greater than or equal to {min}"));
                }
            }
            if let Some(p) = pattern {
                if all || !pattern_matches(p, s) {
                    out.push(format!("Member must satisfy regular expression pattern: {p}"));
                }
            }
            if !enum_values.is_empty() && (all || !enum_values.contains(&s)) {
                let listed = enum_listing(model, shape).unwrap_or(*enum_values);
                out.push(format!("Member must satisfy enum value set: [{}]", listed.join(", ")));
            }
        }
        ShapeKind::Integer { min, max } | ShapeKind::Long { min, max } | ShapeKind::Blob { min, max } => {
            let blob = matches!(model.shape(shape).kind, ShapeKind::Blob { .. });
            let n = if blob {
                let text = v.as_str().unwrap_or_default();
                shapes::decode_base64(text).map_or(text.len(), |b| b.len()) as i64
            } else {
                v.as_i64().unwrap_or_else(|| v.as_f64().unwrap_or(0.0) as i64)
            };
            let what = if blob { "length" } else { "value" };
            if let Some(max) = max {
                if all || n > *max {
                    out.push(format!("Member must have {what} less than or equal to {max}"));
                }
            }
            if let Some(min) = min {
                if all || n < *min {
                    out.push(format!("Member must have {what} greater than or equal to {min}"));
                }
            }
        }
        ShapeKind::Float { min, max } | ShapeKind::Double { min, max } => {
            // NaN and the infinities travel as strings; they satisfy no range.
            let x = v.as_f64();
            if let Some(max) = max {
                if all || x.is_some_and(|x| x > *max) {
                    out.push(format!("Member must have value less than or equal to {}", fmt_f64(*max)));
                }
            }
            if let Some(min) = min {
                if all || x.is_some_and(|x| x < *min) {
                    out.push(format!("Member must have value greater than or equal to {}", fmt_f64(*min)));
                }
            }
        }
        _ => {}
    }
    out
}

/// Whether `text` fully matches the Java pattern `p` (true when the pattern cannot be
/// compiled by the `regex` crate).
pub(crate) fn pattern_matches(p: &'static str, text: &str) -> bool {
    compiled(p).is_none_or(|re| re.is_match(text))
}

/// The compiled form of a model pattern, compiled once per process and kept for good: the
/// models hold a fixed set of patterns. Each thread keeps its own map of them, so a lookup
/// writes no memory another core reads (a shared lock's count would).
fn compiled(p: &'static str) -> Option<&'static Regex> {
    thread_local! {
        static LOCAL: std::cell::RefCell<HashMap<&'static str, Option<&'static Regex>>> =
            std::cell::RefCell::new(HashMap::new());
    }
    static SHARED: OnceLock<Mutex<HashMap<&'static str, Option<&'static Regex>>>> = OnceLock::new();
    if let Some(found) = LOCAL.with_borrow(|local| local.get(p).copied()) {
        return found;
    }
    let found = {
        let mut shared = match SHARED.get_or_init(|| Mutex::new(HashMap::new())).lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *shared.entry(p).or_insert_with(|| {
            regex::RegexBuilder::new(&format!("^(?:{p})$"))
                .size_limit(1 << 22)
                .dfa_size_limit(1 << 22)
                .build()
                .ok()
                .map(|re| &*Box::leak(Box::new(re)))
        })
    };
    LOCAL.with_borrow_mut(|local| local.insert(p, found));
    found
}

/// Java-`toString`-like rendering of a value for a message; `None` when it holds sensitive data.
fn render(model: &ServiceModel, shape: ShapeId, v: &Value) -> Option<String> {
    if contains_sensitive(model, shape, 0) {
        return None;
    }
    let mut out = String::new();
    render_into(v, &mut out, 0);
    Some(out)
}

fn render_into(v: &Value, out: &mut String, depth: usize) {
    if depth > MAX_DEPTH {
        out.push_str("...");
        return;
    }
    match v {
        Value::String(s) => out.push_str(s),
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::Array(items) => {
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render_into(it, out, depth + 1);
            }
            out.push(']');
        }
        Value::Object(obj) => {
            out.push('{');
            for (i, (k, it)) in obj.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                render_into(it, out, depth + 1);
            }
            out.push('}');
        }
    }
}

/// Whether `shape` or anything it contains is `sensitive`.
pub(crate) fn contains_sensitive(model: &ServiceModel, shape: ShapeId, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    let s = model.shape(shape);
    if s.sensitive {
        return true;
    }
    match s.kind {
        ShapeKind::Structure { members, .. } => members.iter().any(|m| contains_sensitive(model, m.target, depth + 1)),
        ShapeKind::List { member, .. } => contains_sensitive(model, member, depth + 1),
        ShapeKind::Map { key, value, .. } => {
            contains_sensitive(model, key, depth + 1) || contains_sensitive(model, value, depth + 1)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use ingot_core::model::{Protocol, Shape};
    use serde_json::json;

    use super::*;
    use crate::testmodels as tm;

    const ITEM: [ingot_core::model::Member; 1] = [tm::req("Id", 0)];
    const INPUT: [ingot_core::model::Member; 8] = [
        tm::m("Map", 2),
        tm::m("Codes", 3),
        tm::m("Look", 4),
        tm::m("Digits", 5),
        tm::m("Items", 7),
        tm::m("Secrets", 9),
        tm::m("Ratio", 11),
        tm::m("Emoji", 1),
    ];
    static SHAPES: [Shape; 13] = [
        tm::sh("Key", ShapeKind::String { enum_values: &[], min: Some(1), max: Some(3), pattern: Some("[a-z]+") }),
        tm::sh("Val", ShapeKind::String { enum_values: &[], min: None, max: Some(2), pattern: None }),
        tm::sh("KeyMap", tm::map(0, 1)),
        tm::sh("Codes", tm::list(0)),
        tm::sh("Lookahead", ShapeKind::String { enum_values: &[], min: None, max: None, pattern: Some("(?!bad).*") }),
        tm::sh("Anchored", ShapeKind::String { enum_values: &[], min: None, max: None, pattern: Some("^[0-9]+$") }),
        tm::sh("Item", tm::st(&ITEM)),
        tm::sh("ItemMap", tm::map(8, 6)),
        tm::sh("String", tm::string()),
        tm::sh("SecretList", tm::list(10)),
        Shape {
            name: "Secret",
            kind: ShapeKind::String { enum_values: &[], min: None, max: Some(2), pattern: None },
            sensitive: true,
        },
        tm::sh("Ratio", ShapeKind::Double { min: Some(0.0), max: Some(1.5) }),
        tm::sh("Input", tm::st(&INPUT)),
    ];
    static MODEL: ServiceModel = ServiceModel { shapes: &SHAPES, ..tm::model("v", Protocol::AwsJson1_1, &[]) };

    fn check(v: Value) -> Result<(), String> {
        validate(&MODEL, 12, &v).map_err(|e| e.message)
    }

    #[test]
    fn map_keys_are_reported_once_with_every_key_constraint() {
        assert_eq!(
            check(json!({"Map":{"TOOLONG":"x"}})).unwrap_err(),
            "1 validation error detected: Value '{TOOLONG=x}' at 'map' failed to satisfy constraint: Map keys must satisfy constraint: \
             [Member must have length less than or equal to 3, Member must have length greater than or equal to 1, \
             Member must satisfy regular expression pattern: [a-z]+]"
        );
    }

    #[test]
    fn map_values_are_reported_once_with_every_value_constraint() {
        assert_eq!(
            check(json!({"Map":{"ab":"xyz"}})).unwrap_err(),
            "1 validation error detected: Value '{ab=xyz}' at 'map' failed to satisfy constraint: Map value must satisfy constraint: \
             [Member must have length less than or equal to 2]"
        );
    }

    #[test]
    fn scalar_list_elements_are_reported_at_the_list() {
        assert_eq!(
            check(json!({"Codes":["ok","BAD"]})).unwrap_err(),
            "1 validation error detected: Value '[ok, BAD]' at 'codes' failed to satisfy constraint: Member must satisfy constraint: \
             [Member must have length less than or equal to 3, Member must have length greater than or equal to 1, \
             Member must satisfy regular expression pattern: [a-z]+]"
        );
    }

    #[test]
    fn patterns_must_match_the_whole_value_and_unsupported_patterns_are_skipped() {
        assert!(check(json!({"Look":"bad","Digits":"123"})).is_ok());
        assert_eq!(
            check(json!({"Digits":"12a"})).unwrap_err(),
            "1 validation error detected: Value '12a' at 'digits' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9]+$"
        );
        assert!(check(json!({"Codes":["abc1"]})).is_err());
    }

    #[test]
    fn structures_inside_maps_are_reported_under_the_key() {
        assert_eq!(
            check(json!({"Items":{"k1":{}}})).unwrap_err(),
            "1 validation error detected: Value null at 'items.k1.value.id' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn sensitive_values_are_never_echoed() {
        assert_eq!(
            check(json!({"Secrets":["abc"]})).unwrap_err(),
            "1 validation error detected: Value at 'secrets' failed to satisfy constraint: Member must satisfy constraint: \
             [Member must have length less than or equal to 2]"
        );
    }

    #[test]
    fn floating_point_ranges_print_like_the_model() {
        assert_eq!(
            check(json!({"Ratio":2.0})).unwrap_err(),
            "1 validation error detected: Value '2.0' at 'ratio' failed to satisfy constraint: Member must have value less than or equal to 1.5"
        );
        assert!(check(json!({"Ratio":"NaN"})).is_ok());
    }

    #[test]
    fn string_length_counts_characters_not_bytes() {
        assert!(check(json!({"Emoji":"\u{1F600}\u{1F600}"})).is_ok());
        assert!(check(json!({"Emoji":"\u{1F600}\u{1F600}\u{1F600}"})).is_err());
    }

    #[test]
    fn an_enum_with_an_aws_listing_is_listed_in_aws_order_and_others_in_model_order() {
        const PUT: [ingot_core::model::Member; 1] = [tm::m("Type", 0)];
        static ENUM_SHAPES: [Shape; 2] = [
            tm::sh(
                "ParameterType",
                ShapeKind::String {
                    enum_values: &["String", "StringList", "SecureString"],
                    min: None,
                    max: None,
                    pattern: None,
                },
            ),
            tm::sh("PutParameterRequest", tm::st(&PUT)),
        ];
        static SSM: ServiceModel = ServiceModel { shapes: &ENUM_SHAPES, ..tm::model("ssm", Protocol::AwsJson1_1, &[]) };
        static OTHER: ServiceModel =
            ServiceModel { shapes: &ENUM_SHAPES, ..tm::model("other", Protocol::AwsJson1_1, &[]) };
        let message = |model| validate(model, 1, &json!({"Type": "Nope"})).unwrap_err().message;
        assert_eq!(
            message(&SSM),
            "1 validation error detected: Value 'Nope' at 'type' failed to satisfy constraint: \
             Member must satisfy enum value set: [SecureString, StringList, String]"
        );
        assert_eq!(
            message(&OTHER),
            "1 validation error detected: Value 'Nope' at 'type' failed to satisfy constraint: \
             Member must satisfy enum value set: [String, StringList, SecureString]"
        );
        assert!(validate(&SSM, 1, &json!({"Type": "SecureString"})).is_ok());
    }

    #[test]
    fn the_cached_regex_is_reused() {
        assert!(pattern_matches("[a-z]+", "abc"));
        assert!(!pattern_matches("[a-z]+", "ABC"));
        assert!(pattern_matches("(?<=x)y", "anything"));
    }
}
