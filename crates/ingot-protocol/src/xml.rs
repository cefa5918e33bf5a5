//! A small XML writer and the shape-driven encoder of canonical values for the query protocols.

use std::fmt::Write as _;

use ingot_core::model::{Member, ServiceModel, ShapeId, ShapeKind, TimestampFormat};
use serde_json::{Map, Value};

use crate::shapes::{self, wire_name, MAX_DEPTH};
use crate::timefmt;

/// Appends `s` escaped for element text.
pub fn escape_text(s: &str, out: &mut String) {
    escape(s, out, false);
}

/// Appends `s` escaped for a double-quoted attribute value.
pub fn escape_attr(s: &str, out: &mut String) {
    escape(s, out, true);
}

fn escape(s: &str, out: &mut String, attr: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\'' if attr => out.push_str("&apos;"),
            // Keep carriage returns (and, in attributes, all whitespace) from being normalised
            // away by the reader.
            '\r' => out.push_str("&#xD;"),
            '\n' | '\t' if attr => {
                let _ = write!(out, "&#x{:X};", c as u32);
            }
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "&#x{:X};", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// Builds an XML document into a string.
#[derive(Debug, Default)]
pub struct XmlOut {
    pub buf: String,
}

impl XmlOut {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn declaration(&mut self) {
        self.buf.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    }

    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.buf.push('<');
        self.buf.push_str(name);
        for (k, v) in attrs {
            self.buf.push(' ');
            self.buf.push_str(k);
            self.buf.push_str("=\"");
            escape_attr(v, &mut self.buf);
            self.buf.push('"');
        }
        self.buf.push('>');
    }

    pub fn close(&mut self, name: &str) {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
    }

    pub fn text(&mut self, text: &str) {
        escape_text(text, &mut self.buf);
    }

    /// `<name>text</name>`.
    pub fn leaf(&mut self, name: &str, text: &str) {
        self.open(name, &[]);
        self.text(text);
        self.close(name);
    }

    /// Writes the members of structure `shape` present in canonical `obj` as child elements
    /// (attributes are the caller's: see [`Self::attributes`]).
    pub fn struct_children(
        &mut self,
        model: &ServiceModel,
        shape: ShapeId,
        obj: &Map<String, Value>,
        style: Style,
        skip: Option<&str>,
        depth: usize,
    ) {
        for m in shapes::members(model, shape) {
            if m.xml_attribute || skip == Some(m.name) {
                continue;
            }
            let Some(v) = obj.get(m.name) else { continue };
            if v.is_null() {
                continue;
            }
            self.member(model, m, v, style, depth + 1);
        }
    }

    /// Attribute-bound members of `shape` as (name, text) pairs.
    pub fn attributes(model: &ServiceModel, shape: ShapeId, obj: &Map<String, Value>) -> Vec<(&'static str, String)> {
        shapes::members(model, shape)
            .iter()
            .filter(|m| m.xml_attribute)
            .filter_map(|m| {
                obj.get(m.name)
                    .filter(|v| !v.is_null())
                    .map(|v| (wire_name(m), scalar_text(model, m.target, Some(m), v)))
            })
            .collect()
    }

    fn member(&mut self, model: &ServiceModel, m: &Member, v: &Value, style: Style, depth: usize) {
        let name = wire_name(m);
        match (&model.shape(m.target).kind, v) {
            (ShapeKind::List { member: item, member_name, flattened, .. }, Value::Array(items))
                if *flattened || m.flattened =>
            {
                let item_name = member_name.unwrap_or(name);
                for it in items {
                    self.element(model, item_name, *item, None, it, style, depth + 1);
                }
                let _ = item;
            }
            (ShapeKind::Map { flattened, .. }, Value::Object(entries)) if *flattened || m.flattened => {
                for (k, it) in entries {
                    self.open(name, &[]);
                    self.map_entry(model, m.target, k, it, style, depth + 1);
                    self.close(name);
                }
            }
            _ => self.element(model, name, m.target, Some(m), v, style, depth),
        }
    }

    fn map_entry(&mut self, model: &ServiceModel, map: ShapeId, k: &str, v: &Value, style: Style, depth: usize) {
        if let ShapeKind::Map { value, key_name, value_name, .. } = model.shape(map).kind {
            self.leaf(key_name.unwrap_or("key"), k);
            if !v.is_null() {
                self.element(model, value_name.unwrap_or("value"), value, None, v, style, depth);
            }
        }
    }

    /// Writes `<name>…</name>` for canonical `v` of `shape`.
    #[allow(clippy::too_many_arguments)]
    pub fn element(
        &mut self,
        model: &ServiceModel,
        name: &str,
        shape: ShapeId,
        member: Option<&Member>,
        v: &Value,
        style: Style,
        depth: usize,
    ) {
        let ns = member.and_then(|m| m.xml_namespace);
        let mut attrs: Vec<(&str, String)> = Vec::new();
        if let Some(ns) = ns {
            attrs.push(("xmlns", ns.to_string()));
        }
        if depth > MAX_DEPTH * 2 {
            self.leaf(name, &v.to_string());
            return;
        }
        match (&model.shape(shape).kind, v) {
            (ShapeKind::Structure { document: false, .. }, Value::Object(obj)) => {
                attrs.extend(Self::attributes(model, shape, obj));
                let borrowed: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                self.open(name, &borrowed);
                self.struct_children(model, shape, obj, style, None, depth);
                self.close(name);
            }
            (ShapeKind::List { member: item, member_name, .. }, Value::Array(items)) => {
                let borrowed: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                self.open(name, &borrowed);
                let item_name = member_name.unwrap_or(style.default_list_member());
                for it in items {
                    self.element(model, item_name, *item, None, it, style, depth + 1);
                }
                self.close(name);
            }
            (ShapeKind::Map { .. }, Value::Object(entries)) => {
                let borrowed: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                self.open(name, &borrowed);
                for (k, it) in entries {
                    self.open("entry", &[]);
                    self.map_entry(model, shape, k, it, style, depth + 1);
                    self.close("entry");
                }
                self.close(name);
            }
            _ => {
                let borrowed: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                self.open(name, &borrowed);
                self.text(&scalar_text(model, shape, member, v));
                self.close(name);
            }
        }
    }

    /// Writes a canonical value without a model (error fields of unknown shape).
    pub fn generic(&mut self, name: &str, v: &Value, depth: usize) {
        match v {
            Value::Null => {}
            Value::Object(obj) if depth < MAX_DEPTH => {
                self.open(name, &[]);
                for (k, it) in obj {
                    self.generic(k, it, depth + 1);
                }
                self.close(name);
            }
            Value::Array(items) if depth < MAX_DEPTH => {
                self.open(name, &[]);
                for it in items {
                    self.generic("member", it, depth + 1);
                }
                self.close(name);
            }
            Value::String(s) => self.leaf(name, s),
            other => self.leaf(name, &other.to_string()),
        }
    }
}

/// Differences between awsQuery and ec2Query output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Query,
    Ec2,
}

impl Style {
    fn default_list_member(self) -> &'static str {
        match self {
            Style::Query => "member",
            Style::Ec2 => "item",
        }
    }
}

/// The text of a scalar canonical value in XML (timestamps ISO 8601 unless the model says
/// otherwise).
pub fn scalar_text(model: &ServiceModel, shape: ShapeId, member: Option<&Member>, v: &Value) -> String {
    match (&model.shape(shape).kind, v) {
        (ShapeKind::Timestamp { .. }, _) => match timefmt::from_canonical(v) {
            Some(ts) => {
                timefmt::format_text(ts, shapes::timestamp_format(model, member, shape, TimestampFormat::Iso8601))
            }
            None => plain(v),
        },
        _ => plain(v),
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escaping_covers_markup_and_control_characters() {
        let mut s = String::new();
        escape_text("a<b>&\"c'\r\n\u{1}", &mut s);
        assert_eq!(s, "a&lt;b&gt;&amp;\"c'&#xD;\n&#x1;");
    }

    #[test]
    fn attribute_escaping_covers_quotes_and_whitespace() {
        let mut s = String::new();
        escape_attr("\"x'\n", &mut s);
        assert_eq!(s, "&quot;x&apos;&#xA;");
    }

    #[test]
    fn generic_values_nest_objects_and_lists() {
        let mut x = XmlOut::new();
        x.generic("Detail", &serde_json::json!({"A": "1", "B": [true, 2]}), 0);
        assert_eq!(x.buf, "<Detail><A>1</A><B><member>true</member><member>2</member></B></Detail>");
    }
}
