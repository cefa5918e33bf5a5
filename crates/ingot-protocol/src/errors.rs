//! The one error encoder per protocol.
//!
//! - awsJson: status, `X-Amzn-Errortype: <code>`, body `{"__type":"<code>","message":"…",…fields}`.
//! - restJson1: status, `X-Amzn-Errortype: <code>`, body `{"message":"…",…fields}`.
//! - awsQuery: `<ErrorResponse xmlns=…><Error><Type>Sender|Receiver</Type><Code/><Message/>…fields</Error><RequestId/></ErrorResponse>`.
//! - ec2Query: `<Response><Errors><Error><Code/><Message/>…fields</Error></Errors><RequestID/></Response>`.
//!
//! Every response carries `x-amzn-RequestId`.

use ingot_core::model::{Protocol, ServiceModel, ShapeId};
use ingot_core::{CommonKind, ServiceFailure};
use serde_json::{Map, Value};

use crate::aws_json;
use crate::json::{JsonOut, Members};
use crate::query;
use crate::rest_json;
use crate::shapes::{self, wire_name};
use crate::wire::{common_wire, is_sender};
use crate::xml::{Style, XmlOut};
use crate::HttpResponse;

/// [`crate::encode_error`] with the service model at hand: modeled error fields use their wire
/// names and formats, header-bound members become headers (restJson1), and the message key takes
/// the casing of the error shape's message member (`Message` or `message`).
pub fn encode_service_error(model: &ServiceModel, failure: &ServiceFailure, request_id: &str) -> HttpResponse {
    encode(model.protocol, model.xml_namespace, failure, request_id, Some(model))
}

/// The validation error of services that model their own (RAM).
const INVALID_PARAMETER: &str = "InvalidParameterException";

struct Resolved<'f> {
    code: &'f str,
    status: u16,
    sender: bool,
    message: Option<&'f str>,
    fields: Option<&'f Map<String, Value>>,
    /// The error shape, when the model is known and has it.
    shape: Option<ShapeId>,
}

fn resolve<'f>(protocol: Protocol, failure: &'f ServiceFailure, model: Option<&ServiceModel>) -> Resolved<'f> {
    match failure {
        ServiceFailure::Modeled(m) => Resolved {
            code: m.code,
            status: m.status,
            sender: m.sender_fault,
            message: m.message.as_deref(),
            fields: Some(&m.fields),
            shape: model.and_then(|md| shapes::find_error_shape(md, m.code)),
        },
        ServiceFailure::Common(c) => {
            // A service whose model knows no ValidationException but has its own
            // InvalidParameterException (RAM) answers input that breaks the model with that.
            let own_validation = match (c.kind, model) {
                (CommonKind::Validation, Some(md)) if shapes::find_error_shape(md, "ValidationException").is_none() => {
                    shapes::find_error_shape(md, INVALID_PARAMETER).map(|shape| (md, shape))
                }
                _ => None,
            };
            if let Some((_, shape)) = own_validation {
                return Resolved {
                    code: INVALID_PARAMETER,
                    status: 400,
                    sender: true,
                    message: Some(&c.message),
                    fields: None,
                    shape: Some(shape),
                };
            }
            let w = common_wire(c.kind, protocol);
            Resolved {
                code: w.code,
                status: w.status,
                sender: is_sender(w.status),
                message: Some(&c.message),
                fields: None,
                shape: None,
            }
        }
    }
}

pub fn encode(
    protocol: Protocol,
    xml_namespace: Option<&str>,
    failure: &ServiceFailure,
    request_id: &str,
    model: Option<&ServiceModel>,
) -> HttpResponse {
    let r = resolve(protocol, failure, model);
    let sm = model.zip(r.shape);
    match protocol {
        Protocol::AwsJson1_0 | Protocol::AwsJson1_1 | Protocol::RestJson1 => json_error(protocol, &r, sm, request_id),
        Protocol::AwsQuery => query_error(xml_namespace, &r, sm, request_id),
        Protocol::Ec2Query => ec2_error(&r, sm, request_id),
    }
}

fn json_error(
    protocol: Protocol,
    r: &Resolved<'_>,
    sm: Option<(&ServiceModel, ShapeId)>,
    request_id: &str,
) -> HttpResponse {
    let rest = protocol == Protocol::RestJson1;
    let content_type = if rest { "application/json" } else { aws_json::content_type(protocol) };
    let mut headers = vec![
        ("Content-Type".into(), content_type.into()),
        ("X-Amzn-Errortype".into(), r.code.to_string().into()),
        ("x-amzn-RequestId".into(), request_id.to_string().into()),
    ];
    let message_member = sm.and_then(|(model, shape)| shapes::message_member(model, shape));
    // Without the model, a `Message` key left among the fields (a shape whose message member is
    // `Message`) decides the casing and supplies the text when the message itself is absent.
    let generic_key = match r.fields {
        Some(f) if sm.is_none() && f.contains_key("Message") => "Message",
        _ => "message",
    };
    let message = r.message.or_else(|| {
        r.fields.and_then(|f| f.get(message_member.map_or(generic_key, |m| m.name))).and_then(Value::as_str)
    });
    let mut out = JsonOut::new();
    out.buf.push('{');
    let mut first = true;
    if !rest {
        out.key("__type", &mut first);
        out.raw(&Value::String(r.code.to_string()));
    }
    if let Some(msg) = message {
        out.key(message_member.map_or(generic_key, wire_name), &mut first);
        out.raw(&Value::String(msg.to_string()));
    }
    if let Some(fields) = r.fields {
        match sm {
            Some((model, shape)) => {
                let which = if rest { Members::BodyOnly } else { Members::All };
                out.struct_members(model, shape, fields, which, message_member.map(|m| m.name), &mut first, 0);
                if rest {
                    headers.extend(rest_json::response_headers(model, shape, fields));
                }
            }
            None => {
                for (k, v) in fields {
                    if v.is_null() || k == "__type" || (message.is_some() && k.eq_ignore_ascii_case("message")) {
                        continue;
                    }
                    out.key(k, &mut first);
                    out.raw(v);
                }
            }
        }
    }
    out.buf.push('}');
    HttpResponse { status: r.status, headers, body: out.buf.into_bytes() }
}

/// The message, or the message member left among the fields (`Message`/`message` without the model).
fn xml_message<'r>(r: &Resolved<'r>, sm: Option<(&ServiceModel, ShapeId)>) -> Option<&'r str> {
    r.message.or_else(|| {
        let f = r.fields?;
        let named = sm.and_then(|(model, shape)| shapes::message_member(model, shape)).map(|m| m.name);
        match named {
            Some(name) => f.get(name),
            None => f.get("Message").or_else(|| f.get("message")),
        }
        .and_then(Value::as_str)
    })
}

fn error_fields(x: &mut XmlOut, r: &Resolved<'_>, sm: Option<(&ServiceModel, ShapeId)>, style: Style) {
    let Some(fields) = r.fields else { return };
    match sm {
        Some((model, shape)) => {
            let skip = shapes::message_member(model, shape).map(|m| m.name);
            x.struct_children(model, shape, fields, style, skip, 0);
        }
        None => {
            for (k, v) in fields {
                if matches!(k.as_str(), "Type" | "Code" | "Message" | "message") {
                    continue;
                }
                x.generic(k, v, 0);
            }
        }
    }
}

fn query_error(
    ns: Option<&str>,
    r: &Resolved<'_>,
    sm: Option<(&ServiceModel, ShapeId)>,
    request_id: &str,
) -> HttpResponse {
    let mut x = XmlOut::new();
    let attrs: Vec<(&str, &str)> = ns.map(|n| ("xmlns", n)).into_iter().collect();
    x.open("ErrorResponse", &attrs);
    x.open("Error", &[]);
    x.leaf("Type", if r.sender { "Sender" } else { "Receiver" });
    x.leaf("Code", r.code);
    if let Some(msg) = xml_message(r, sm) {
        x.leaf("Message", msg);
    }
    error_fields(&mut x, r, sm, Style::Query);
    x.close("Error");
    x.leaf("RequestId", request_id);
    x.close("ErrorResponse");
    xml_error(r.status, x.buf, request_id)
}

fn ec2_error(r: &Resolved<'_>, sm: Option<(&ServiceModel, ShapeId)>, request_id: &str) -> HttpResponse {
    let mut x = XmlOut::new();
    x.declaration();
    x.open("Response", &[]);
    x.open("Errors", &[]);
    x.open("Error", &[]);
    x.leaf("Code", r.code);
    if let Some(msg) = xml_message(r, sm) {
        x.leaf("Message", msg);
    }
    error_fields(&mut x, r, sm, Style::Ec2);
    x.close("Error");
    x.close("Errors");
    x.leaf("RequestID", request_id);
    x.close("Response");
    xml_error(r.status, x.buf, request_id)
}

fn xml_error(status: u16, body: String, request_id: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![
            ("Content-Type".into(), query::CONTENT_TYPE.into()),
            ("x-amzn-RequestId".into(), request_id.to_string().into()),
        ],
        body: body.into_bytes(),
    }
}
