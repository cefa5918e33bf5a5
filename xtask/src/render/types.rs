//! `types.rs`: a struct per structure shape and an enum per enum string shape.

use super::Idents;
use crate::botocore::{closes_cycle, direct_struct_edges, Kind, Service};
use crate::names::{dedupe, field_ident, str_lit, variant_ident};
use std::fmt::Write;

pub fn render(service: &Service, idents: &Idents) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "//! Inputs, outputs, errors and the structures and enums they contain.");
    let _ = writeln!(
        out,
        "// Names come from the model: acronyms and shared affixes are AWS's.\n#![allow(clippy::upper_case_acronyms, clippy::enum_variant_names)]"
    );
    let edges = direct_struct_edges(service);
    for (id, shape) in service.shapes.iter().enumerate() {
        if shape.is_struct() {
            render_struct(&mut out, service, idents, &edges, id);
        } else if shape.is_enum() {
            render_enum(&mut out, idents, id, &shape.kind);
        }
    }
    out
}

fn render_struct(
    out: &mut String,
    service: &Service,
    idents: &Idents,
    edges: &std::collections::BTreeMap<usize, std::collections::BTreeSet<usize>>,
    id: usize,
) {
    let shape = &service.shapes[id];
    let members = shape.members();
    let derive_default = if members.iter().any(|m| m.required) { "" } else { "Default, " };
    let fields = dedupe(members.iter().map(|m| field_ident(&m.name)).collect(), "_");
    let _ = writeln!(out);
    let _ = writeln!(out, "/// The `{}` structure.", shape.name);
    let _ = writeln!(out, "#[derive(Debug, Clone, {derive_default}PartialEq, serde::Serialize, serde::Deserialize)]");
    let _ = writeln!(out, "pub struct {} {{", idents.ty(id));
    for (member, field) in members.iter().zip(fields) {
        let mut ty = idents.value_type(service, member.target);
        if service.shapes[member.target].is_struct() && closes_cycle(edges, id, member.target) {
            ty = format!("Box<{ty}>");
        }
        let rename = str_lit(&member.name);
        if member.required {
            let _ = writeln!(out, "#[serde(rename = {rename})]");
            let _ = writeln!(out, "pub {field}: {ty},");
        } else {
            let _ = writeln!(out, "#[serde(rename = {rename}, default, skip_serializing_if = \"Option::is_none\")]");
            let _ = writeln!(out, "pub {field}: Option<{ty}>,");
        }
    }
    let _ = writeln!(out, "}}");
}

fn render_enum(out: &mut String, idents: &Idents, id: usize, kind: &Kind) {
    let Kind::String { enum_values, .. } = kind else {
        return;
    };
    let name = idents.ty(id);
    let variants = dedupe(enum_values.iter().map(|v| variant_ident(v)).collect(), "");
    let _ = writeln!(out);
    let _ = writeln!(out, "/// The `{name}` enum.");
    let _ = writeln!(out, "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]");
    let _ = writeln!(out, "pub enum {name} {{");
    for (value, variant) in enum_values.iter().zip(&variants) {
        let _ = writeln!(out, "#[serde(rename = {})]", str_lit(value));
        let _ = writeln!(out, "{variant},");
    }
    let _ = writeln!(out, "}}");
    let _ = writeln!(out);
    let _ = writeln!(out, "impl {name} {{");
    let _ = writeln!(out, "/// The value on the wire.");
    let _ = writeln!(out, "pub fn as_str(&self) -> &'static str {{");
    let _ = writeln!(out, "match self {{");
    for (value, variant) in enum_values.iter().zip(&variants) {
        let _ = writeln!(out, "Self::{variant} => {},", str_lit(value));
    }
    let _ = writeln!(out, "}}");
    let _ = writeln!(out, "}}");
    let _ = writeln!(out, "}}");
    let _ = writeln!(out);
    let _ = writeln!(out, "impl std::fmt::Display for {name} {{");
    let _ = writeln!(out, "fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{");
    let _ = writeln!(out, "f.write_str(self.as_str())");
    let _ = writeln!(out, "}}");
    let _ = writeln!(out, "}}");
}
