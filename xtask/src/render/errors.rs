//! `errors.rs`: the service's error enum over the modeled errors of the served operations.

use super::{service_struct, Idents};
use crate::botocore::{Kind, Service};
use crate::names::{snake_case, str_lit};
use std::fmt::Write;

/// How an error shape carries its message.
enum MessageField {
    None,
    Required,
    Optional,
}

pub fn render(service: &Service, idents: &Idents) -> String {
    let svc = service_struct(service);
    let name = format!("{svc}Error");
    let errors = service.error_shapes();
    // EC2's model declares no errors; AWS documents its codes (InvalidAMIID.NotFound, ...)
    // separately, so its handlers need a variant for codes that are not shapes.
    let unmodeled = service.protocol == "Ec2Query";
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "//! `{name}`: what the handlers of `crate::{svc}` fail with.");
    let _ = writeln!(w, "#![allow(clippy::large_enum_variant, clippy::upper_case_acronyms)]");
    if errors.iter().any(|&id| idents.ty(id) == "Common") {
        // Not expected in any AWS model; fail loudly rather than generate a clash.
        panic!("service {} has an error shape named `Common`", service.id);
    }
    let message_of = |id: usize| -> MessageField {
        let message = service.shapes[id].members().iter().find(|m| m.name == "message" || m.name == "Message");
        match message {
            Some(m)
                if matches!(service.shapes[m.target].kind, Kind::String { .. })
                    && !service.shapes[m.target].is_enum() =>
            {
                if m.required {
                    MessageField::Required
                } else {
                    MessageField::Optional
                }
            }
            _ => MessageField::None,
        }
    };

    let _ = writeln!(w);
    let _ = writeln!(w, "/// A modeled error of the served `{}` operations, or a common error.", service.id);
    let _ = writeln!(w, "#[derive(Debug, Clone, PartialEq)]");
    let _ = writeln!(w, "pub enum {name} {{");
    for &id in &errors {
        let ty = idents.ty(id);
        let _ = writeln!(w, "{ty}(super::types::{ty}),");
    }
    let _ = writeln!(w, "Common(ingot_core::CommonError),");
    if unmodeled {
        let _ = writeln!(w, "/// An error AWS documents but the model does not declare.");
        let _ = writeln!(w, "Unmodeled(ingot_core::ModeledError),");
    }
    let _ = writeln!(w, "}}");

    // Constructors for errors that carry nothing but a message.
    let simple: Vec<usize> = errors
        .iter()
        .copied()
        .filter(|&id| service.shapes[id].members().len() == 1 && !matches!(message_of(id), MessageField::None))
        .collect();
    let _ = writeln!(w);
    let _ = writeln!(w, "impl {name} {{");
    for &id in &simple {
        let ty = idents.ty(id);
        let value = match message_of(id) {
            MessageField::Required => "message.into()",
            _ => "Some(message.into())",
        };
        let _ = writeln!(w, "/// `{}` with `message`.", service.shapes[id].name);
        let mut constructor = snake_case(ty);
        if matches!(constructor.as_str(), "code" | "message" | "from") {
            constructor.push_str("_error");
        }
        let _ = writeln!(w, "pub fn {constructor}(message: impl Into<String>) -> Self {{");
        let _ = writeln!(w, "Self::{ty}(super::types::{ty} {{ message: {value} }})");
        let _ = writeln!(w, "}}");
        let _ = writeln!(w);
    }
    if unmodeled {
        let _ = writeln!(w, "/// An error the model does not declare: `code` and `status` as AWS documents them.");
        let _ = writeln!(w, "pub fn unmodeled(code: &'static str, status: u16, message: impl Into<String>) -> Self {{");
        let _ = writeln!(w, "Self::Unmodeled(ingot_core::ModeledError {{ code, status, sender_fault: status < 500, message: Some(message.into()), fields: Default::default() }})");
        let _ = writeln!(w, "}}");
        let _ = writeln!(w);
    }
    let _ = writeln!(w, "/// The wire code (`error.code` of the model, or the shape name).");
    let _ = writeln!(w, "pub fn code(&self) -> Option<&'static str> {{");
    let _ = writeln!(w, "match self {{");
    for &id in &errors {
        let _ = writeln!(w, "Self::{}(_) => Some({}),", idents.ty(id), str_lit(code(service, id)));
    }
    let _ = writeln!(w, "Self::Common(_) => None,");
    if unmodeled {
        let _ = writeln!(w, "Self::Unmodeled(e) => Some(e.code),");
    }
    let _ = writeln!(w, "}}");
    let _ = writeln!(w, "}}");
    let _ = writeln!(w);
    let _ = writeln!(w, "/// The message, if the error has one.");
    let _ = writeln!(w, "pub fn message(&self) -> Option<&str> {{");
    let _ = writeln!(w, "match self {{");
    for &id in &errors {
        let ty = idents.ty(id);
        let _ = match message_of(id) {
            MessageField::Required => writeln!(w, "Self::{ty}(e) => Some(&e.message),"),
            MessageField::Optional => writeln!(w, "Self::{ty}(e) => e.message.as_deref(),"),
            MessageField::None => writeln!(w, "Self::{ty}(_) => None,"),
        };
    }
    let _ = writeln!(w, "Self::Common(e) => Some(&e.message),");
    if unmodeled {
        let _ = writeln!(w, "Self::Unmodeled(e) => e.message.as_deref(),");
    }
    let _ = writeln!(w, "}}");
    let _ = writeln!(w, "}}");
    let _ = writeln!(w, "}}");

    let _ = writeln!(w);
    let _ = writeln!(w, "impl From<ingot_core::CommonError> for {name} {{");
    let _ = writeln!(w, "fn from(error: ingot_core::CommonError) -> Self {{");
    let _ = writeln!(w, "Self::Common(error)");
    let _ = writeln!(w, "}}");
    let _ = writeln!(w, "}}");
    let _ = writeln!(w);
    let _ = writeln!(w, "impl From<ingot_store::StoreError> for {name} {{");
    let _ = writeln!(w, "fn from(error: ingot_store::StoreError) -> Self {{");
    let _ = writeln!(w, "Self::Common(error.into())");
    let _ = writeln!(w, "}}");
    let _ = writeln!(w, "}}");
    for &id in &errors {
        let ty = idents.ty(id);
        let _ = writeln!(w);
        let _ = writeln!(w, "impl From<super::types::{ty}> for {name} {{");
        let _ = writeln!(w, "fn from(error: super::types::{ty}) -> Self {{");
        let _ = writeln!(w, "Self::{ty}(error)");
        let _ = writeln!(w, "}}");
        let _ = writeln!(w, "}}");
    }

    let _ = writeln!(w);
    let _ = writeln!(w, "impl std::fmt::Display for {name} {{");
    let _ = writeln!(w, "fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{");
    let _ = writeln!(w, "match self {{");
    let _ = writeln!(w, "Self::Common(e) => std::fmt::Display::fmt(e, f),");
    if unmodeled {
        let _ = writeln!(
            w,
            "Self::Unmodeled(e) => write!(f, \"{{}}: {{}}\", e.code, e.message.as_deref().unwrap_or_default()),"
        );
    }
    if !errors.is_empty() {
        let _ = writeln!(w, "_ => match (self.code().unwrap_or_default(), self.message()) {{");
        let _ = writeln!(w, "(code, Some(message)) => write!(f, \"{{code}}: {{message}}\"),");
        let _ = writeln!(w, "(code, None) => f.write_str(code),");
        let _ = writeln!(w, "}},");
    }
    let _ = writeln!(w, "}}");
    let _ = writeln!(w, "}}");
    let _ = writeln!(w, "}}");
    let _ = writeln!(w);
    let _ = writeln!(w, "impl std::error::Error for {name} {{}}");

    let _ = writeln!(w);
    let _ = writeln!(w, "impl ingot_core::ServiceError for {name} {{");
    let _ = writeln!(w, "fn into_failure(self) -> ingot_core::ServiceFailure {{");
    let _ = writeln!(w, "match self {{");
    for &id in &errors {
        let error = service.shapes[id].error().expect("error shape");
        let _ = writeln!(
            w,
            "Self::{}(e) => modeled(&e, {}, {}, {}),",
            idents.ty(id),
            str_lit(code(service, id)),
            error.status,
            error.sender_fault
        );
    }
    let _ = writeln!(w, "Self::Common(e) => ingot_core::ServiceFailure::Common(e),");
    if unmodeled {
        let _ = writeln!(w, "Self::Unmodeled(e) => ingot_core::ServiceFailure::Modeled(e),");
    }
    let _ = writeln!(w, "}}");
    let _ = writeln!(w, "}}");
    let _ = writeln!(w, "}}");

    if !errors.is_empty() {
        let _ = writeln!(w);
        let _ = writeln!(
            w,
            "/// The canonical value of an error structure, with `message`/`Message` taken out as the message."
        );
        let _ = writeln!(w, "fn modeled<T: serde::Serialize>(");
        let _ = writeln!(w, "error: &T, code: &'static str, status: u16, sender_fault: bool,");
        let _ = writeln!(w, ") -> ingot_core::ServiceFailure {{");
        let _ = writeln!(w, "let mut fields = match serde_json::to_value(error) {{");
        let _ = writeln!(w, "Ok(serde_json::Value::Object(fields)) => fields,");
        let _ = writeln!(w, "Ok(other) => return ingot_core::CommonError::internal(format!(\"{{code}} serialized as {{other}}\")).into(),");
        let _ = writeln!(w, "Err(e) => return ingot_core::CommonError::internal(e).into(),");
        let _ = writeln!(w, "}};");
        let _ = writeln!(w, "let key = [\"message\", \"Message\"].into_iter().find(|k| fields.get(*k).is_some_and(serde_json::Value::is_string));");
        let _ = writeln!(
            w,
            "let message = key.and_then(|k| fields.remove(k)).and_then(|v| v.as_str().map(str::to_string));"
        );
        let _ = writeln!(w, "ingot_core::ServiceFailure::Modeled(ingot_core::ModeledError {{ code, status, sender_fault, message, fields }})");
        let _ = writeln!(w, "}}");
    }
    out
}

/// The wire code of an error shape: `error.code`, or the shape name.
fn code(service: &Service, id: usize) -> &str {
    let shape = &service.shapes[id];
    shape.error().and_then(|e| e.code.as_deref()).unwrap_or(&shape.name)
}
