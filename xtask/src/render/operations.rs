//! `operations.rs`: operation markers and the `Service` implementation that dispatches to them.

use super::{service_struct, Idents};
use crate::botocore::Service;
use crate::names::str_lit;
use std::fmt::Write;

pub fn render(service: &Service, idents: &Idents) -> String {
    let svc = service_struct(service);
    let error = format!("super::errors::{svc}Error");
    let mut out = String::new();
    let _ = writeln!(out, "//! One marker type per served operation, and the dispatch of `crate::{svc}`.");
    let _ = writeln!(out, "//!");
    let _ = writeln!(out, "//! `crate::{svc}` must implement `ingot_core::Handler<Op>` for every marker below.");
    for op in &service.operations {
        let io = |shape: Option<usize>| match shape {
            Some(id) => format!("super::types::{}", idents.ty(id)),
            None => "ingot_core::Empty".to_string(),
        };
        let _ = writeln!(out);
        let _ = writeln!(out, "/// The `{}` operation.", op.name);
        let _ = writeln!(out, "#[derive(Debug, Clone, Copy)]");
        let _ = writeln!(out, "pub struct {};", op.name);
        let _ = writeln!(out);
        let _ = writeln!(out, "impl ingot_core::Operation for {} {{", op.name);
        let _ = writeln!(out, "const NAME: &'static str = {};", str_lit(&op.name));
        let _ = writeln!(
            out,
            "const IAM_ACTION: &'static str = {};",
            str_lit(&format!("{}:{}", service.iam_prefix, op.name))
        );
        let _ = writeln!(out, "type Input = {};", io(op.input));
        let _ = writeln!(out, "type Output = {};", io(op.output));
        let _ = writeln!(out, "type Error = {error};");
        let _ = writeln!(out, "}}");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "impl ingot_core::Service for crate::{svc} {{");
    let _ = writeln!(out, "fn model(&self) -> &'static ingot_core::model::ServiceModel {{");
    let _ = writeln!(out, "&super::model::MODEL");
    let _ = writeln!(out, "}}");
    let _ = writeln!(out);
    let _ = writeln!(out, "fn call<'a>(");
    let _ = writeln!(out, "&'a self,");
    let _ = writeln!(out, "ctx: &'a ingot_core::RequestContext<'_>,");
    let _ = writeln!(out, "operation: &'a str,");
    let _ = writeln!(out, "input: serde_json::Value,");
    let _ = writeln!(out, ") -> ingot_core::BoxFuture<'a, Result<ingot_core::Output, ingot_core::ServiceFailure>> {{");
    let _ = writeln!(
        out,
        "// Each operation's future is boxed on its own: one box for all would be as large as the largest"
    );
    let _ = writeln!(out, "// operation's, and every call would allocate and copy all of it.");
    let _ = writeln!(out, "match operation {{");
    for op in &service.operations {
        let _ = writeln!(
            out,
            "{} => std::boxed::Box::pin(ingot_core::invoke::<{}, Self>(self, ctx, input)),",
            str_lit(&op.name),
            op.name
        );
    }
    let _ = writeln!(
        out,
        "_ => std::boxed::Box::pin(std::future::ready(Err(ingot_core::CommonError::unknown_operation(operation).into()))),"
    );
    let _ = writeln!(out, "}}");
    let _ = writeln!(out, "}}");
    let _ = writeln!(out, "}}");
    out
}
