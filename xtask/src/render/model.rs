//! `model.rs`: the static `ServiceModel`.

use super::{opt_f64, opt_i64};
use crate::botocore::{Kind, Member, Service};
use crate::names::str_lit;
use std::fmt::Write;

/// String literals of the model; long ones become named constants, because rustfmt leaves a
/// whole item unformatted when one literal in it cannot fit the line width.
#[derive(Default)]
struct Literals {
    consts: Vec<(String, String)>,
}

/// Literals longer than this (as written) are hoisted into constants: members sit deep enough
/// in `SHAPES` that longer ones may not fit 100 columns.
const MAX_INLINE: usize = 56;

impl Literals {
    fn lit(&mut self, text: &str, max: usize, name: impl FnOnce(usize) -> String) -> String {
        let literal = str_lit(text);
        if literal.len() <= max {
            return literal;
        }
        if let Some((name, _)) = self.consts.iter().find(|(_, l)| *l == literal) {
            return name.clone();
        }
        let name = name(self.consts.iter().filter(|(n, _)| n.starts_with("TEXT_")).count());
        self.consts.push((name.clone(), literal));
        name
    }

    fn text(&mut self, text: &str) -> String {
        self.lit(text, MAX_INLINE, |n| format!("TEXT_{n}"))
    }

    /// A literal of an operation, at shallow indentation.
    fn op_text(&mut self, text: &str) -> String {
        self.lit(text, 76, |n| format!("TEXT_{n}"))
    }

    fn opt(&mut self, value: &Option<String>) -> String {
        match value {
            Some(v) => format!("Some({})", self.text(v)),
            None => "None".to_string(),
        }
    }
}

pub fn render(service: &Service) -> String {
    let lits = &mut Literals::default();
    let mut out = String::new();
    let w = &mut out;
    wl(w, "//! Shape metadata of the served operations, for the protocol codecs.");
    wl(w, "");
    wl(w, "use ingot_core::model::*;");
    wl(w, "");
    wl(w, "pub static MODEL: ServiceModel = ServiceModel {");
    wl(w, &format!("id: {},", str_lit(&service.id)));
    wl(w, &format!("signing_name: {},", str_lit(&service.signing_name)));
    wl(w, &format!("endpoint_prefix: {},", str_lit(&service.endpoint_prefix)));
    wl(w, &format!("protocol: Protocol::{},", service.protocol));
    wl(w, &format!("api_version: {},", str_lit(&service.api_version)));
    wl(w, &format!("target_prefix: {},", super::opt_str(&service.target_prefix)));
    wl(w, &format!("xml_namespace: {},", super::opt_str(&service.xml_namespace)));
    wl(w, &format!("iam_prefix: {},", str_lit(&service.iam_prefix)));
    wl(w, "operations: &OPERATIONS,");
    wl(w, "shapes: &SHAPES,");
    wl(w, "};");
    wl(w, "");

    wl(w, &format!("static OPERATIONS: [OperationModel; {}] = [", service.operations.len()));
    for op in &service.operations {
        let ids = |id: Option<usize>| id.map_or("None".to_string(), |i| format!("Some({i})"));
        let errors: Vec<String> = op.errors.iter().map(|e| e.to_string()).collect();
        wl(w, "OperationModel {");
        wl(w, &format!("name: {},", lits.op_text(&op.name)));
        wl(w, &format!("http_method: {},", lits.op_text(&op.http_method)));
        wl(w, &format!("request_uri: {},", lits.op_text(&op.request_uri)));
        wl(w, &format!("success_code: {},", op.success_code));
        wl(w, &format!("input: {},", ids(op.input)));
        wl(w, &format!("output: {},", ids(op.output)));
        wl(w, &format!("result_wrapper: {},", lits.opt(&op.result_wrapper)));
        wl(w, &format!("errors: &[{}],", errors.join(", ")));
        wl(w, &format!("canonical_json_is_wire: {},", service.canonical_json_is_wire(op)));
        wl(w, "},");
    }
    wl(w, "];");
    wl(w, "");

    wl(w, &format!("static SHAPES: [Shape; {}] = [", service.shapes.len()));
    for (id, shape) in service.shapes.iter().enumerate() {
        wl(w, &format!("// {id}"));
        wl(w, "Shape {");
        wl(w, &format!("name: {},", lits.text(&shape.name)));
        wl(w, &format!("kind: {},", kind(lits, id, &shape.kind)));
        wl(w, &format!("sensitive: {},", shape.sensitive));
        wl(w, "},");
    }
    wl(w, "];");
    for (name, literal) in &lits.consts {
        wl(w, "");
        wl(w, &format!("const {name}: &str = {literal};"));
    }
    if service.shapes.iter().all(|s| s.members().is_empty()) {
        return out;
    }
    wl(w, "");
    wl(w, "/// A body member with no traits but its name and target.");
    wl(w, "const fn member(name: &'static str, target: ShapeId) -> Member {");
    wl(w, "Member {");
    wl(w, "name, target, required: false, location: Location::Body, location_name: None, query_name: None,");
    wl(w, "flattened: false, xml_attribute: false, xml_namespace: None, timestamp_format: None,");
    wl(w, "idempotency_token: false, json_value: false, host_label: false,");
    wl(w, "}");
    wl(w, "}");
    out
}

fn wl(out: &mut String, line: &str) {
    let _ = writeln!(out, "{line}");
}

fn kind(lits: &mut Literals, id: usize, kind: &Kind) -> String {
    match kind {
        Kind::Structure { members, payload, error, document, xml_name } => {
            let members: Vec<String> = members.iter().map(|m| member(lits, m)).collect();
            let error = match error {
                Some(e) => format!(
                    "Some(ErrorTrait {{ code: {}, status: {}, sender_fault: {} }})",
                    lits.opt(&e.code),
                    e.status,
                    e.sender_fault
                ),
                None => "None".to_string(),
            };
            format!(
                "ShapeKind::Structure {{ members: &[{}], payload: {}, error: {error}, document: {document}, xml_name: {} }}",
                members.join(", "),
                lits.opt(payload),
                lits.opt(xml_name)
            )
        }
        Kind::List { member, member_name, flattened, min, max } => format!(
            "ShapeKind::List {{ member: {member}, member_name: {}, flattened: {flattened}, min: {}, max: {} }}",
            lits.opt(member_name),
            opt_i64(min),
            opt_i64(max)
        ),
        Kind::Map { key, value, key_name, value_name, flattened, min, max } => format!(
            "ShapeKind::Map {{ key: {key}, value: {value}, key_name: {}, value_name: {}, flattened: {flattened}, min: {}, max: {} }}",
            lits.opt(key_name),
            lits.opt(value_name),
            opt_i64(min),
            opt_i64(max)
        ),
        Kind::String { enum_values, min, max, pattern } => {
            let values: Vec<String> = enum_values.iter().map(|v| lits.text(v)).collect();
            format!(
                "ShapeKind::String {{ enum_values: &[{}], min: {}, max: {}, pattern: {} }}",
                values.join(", "),
                opt_i64(min),
                opt_i64(max),
                match pattern {
                    Some(p) => format!("Some({})", lits.lit(p, MAX_INLINE, |_| format!("PATTERN_{id}"))),
                    None => "None".to_string(),
                }
            )
        }
        Kind::Integer { min, max } => format!("ShapeKind::Integer {{ min: {}, max: {} }}", opt_i64(min), opt_i64(max)),
        Kind::Long { min, max } => format!("ShapeKind::Long {{ min: {}, max: {} }}", opt_i64(min), opt_i64(max)),
        Kind::Float { min, max } => format!("ShapeKind::Float {{ min: {}, max: {} }}", opt_f64(min), opt_f64(max)),
        Kind::Double { min, max } => format!("ShapeKind::Double {{ min: {}, max: {} }}", opt_f64(min), opt_f64(max)),
        Kind::Boolean => "ShapeKind::Boolean".to_string(),
        Kind::Timestamp { format } => {
            let format = format.map_or("None".to_string(), |f| format!("Some(TimestampFormat::{f})"));
            format!("ShapeKind::Timestamp {{ format: {format} }}")
        }
        Kind::Blob { min, max } => format!("ShapeKind::Blob {{ min: {}, max: {} }}", opt_i64(min), opt_i64(max)),
    }
}

/// `member("Name", 3)`, or `Member { required: true, ..member("Name", 3) }` when it has traits.
fn member(lits: &mut Literals, m: &Member) -> String {
    let mut traits = Vec::new();
    let mut flag = |name: &str, on: bool| {
        if on {
            traits.push(format!("{name}: true"));
        }
    };
    flag("required", m.required);
    flag("flattened", m.flattened);
    flag("xml_attribute", m.xml_attribute);
    flag("idempotency_token", m.idempotency_token);
    flag("json_value", m.json_value);
    flag("host_label", m.host_label);
    if m.location != "Body" {
        traits.push(format!("location: Location::{}", m.location));
    }
    for (name, value) in
        [("location_name", &m.location_name), ("query_name", &m.query_name), ("xml_namespace", &m.xml_namespace)]
    {
        if value.is_some() {
            traits.push(format!("{name}: {}", lits.opt(value)));
        }
    }
    if let Some(format) = m.timestamp_format {
        traits.push(format!("timestamp_format: Some(TimestampFormat::{format})"));
    }
    let base = format!("member({}, {})", lits.text(&m.name), m.target);
    if traits.is_empty() {
        base
    } else {
        format!("Member {{ {}, ..{base} }}", traits.join(", "))
    }
}
