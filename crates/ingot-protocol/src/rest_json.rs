//! restJson1: routing by method and URI template, then URI labels, query string, headers and a
//! JSON body (or a `payload` member).

use http::HeaderMap;
use ingot_core::model::{Location, Member, OperationModel, ServiceModel, ShapeId, ShapeKind, TimestampFormat};
use ingot_core::{CommonError, CommonKind};
use serde_json::{Map, Value};
use std::borrow::Cow;

use crate::json::{self, JsonOut, Members};
use crate::shapes::{self, serialization};
use crate::timefmt;
use crate::{validate, HttpRequest, HttpResponse};

// ---------------------------------------------------------------------------------------------
// Routing

#[derive(Debug, PartialEq, Eq)]
enum Seg<'t> {
    Literal(&'t str),
    Label(&'t str),
    Greedy(&'t str),
}

#[derive(Debug)]
struct Template<'t> {
    segments: Vec<Seg<'t>>,
    /// Literal query requirements: `?key` (present) or `?key=value`.
    query: Vec<(&'t str, Option<&'t str>)>,
}

fn parse_template(uri: &str) -> Template<'_> {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let segments = path
        .trim_start_matches('/')
        .split('/')
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(label) => match label.strip_suffix('+') {
                Some(greedy) => Seg::Greedy(greedy),
                None => Seg::Label(label),
            },
            None => Seg::Literal(s),
        })
        .collect();
    let query = query
        .split('&')
        .filter(|q| !q.is_empty())
        .map(|q| match q.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (q, None),
        })
        .collect();
    Template { segments, query }
}

/// Matches the raw path segments; returns the decoded labels.
fn match_path(t: &Template<'_>, segs: &[&str]) -> Option<Vec<(String, String)>> {
    let mut labels = Vec::new();
    let mut i = 0;
    for (ti, seg) in t.segments.iter().enumerate() {
        match seg {
            Seg::Literal(lit) => {
                let raw = segs.get(i)?;
                if shapes::percent_decode(raw, false)? != *lit {
                    return None;
                }
                i += 1;
            }
            Seg::Label(name) => {
                let raw = segs.get(i)?;
                if raw.is_empty() {
                    return None;
                }
                labels.push((name.to_string(), shapes::percent_decode(raw, false)?));
                i += 1;
            }
            Seg::Greedy(name) => {
                let after = t.segments.len() - ti - 1;
                let end = segs.len().checked_sub(after)?;
                if end <= i {
                    return None;
                }
                let joined = segs[i..end].join("/");
                if joined.is_empty() {
                    return None;
                }
                labels.push((name.to_string(), shapes::percent_decode(&joined, false)?));
                i = end;
            }
        }
    }
    (i == segs.len()).then_some(labels)
}

struct Route {
    op: &'static OperationModel,
    labels: Vec<(String, String)>,
    score: (usize, usize, bool),
}

fn route(model: &'static ServiceModel, req: &HttpRequest, query: &[(String, String)]) -> Option<Route> {
    let path = if req.path.is_empty() { "/" } else { req.path };
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut best: Option<Route> = None;
    for op in model.operations {
        if !op.http_method.eq_ignore_ascii_case(req.method) {
            continue;
        }
        let t = parse_template(op.request_uri);
        let query_ok =
            t.query.iter().all(|(k, want)| query.iter().any(|(qk, qv)| qk == k && want.is_none_or(|w| w == qv)));
        if !query_ok {
            continue;
        }
        let Some(labels) = match_path(&t, &segs) else {
            continue;
        };
        let literals = t.segments.iter().filter(|s| matches!(s, Seg::Literal(_))).count();
        let greedy = t.segments.iter().any(|s| matches!(s, Seg::Greedy(_)));
        let score = (literals, t.query.len(), !greedy);
        if best.as_ref().is_none_or(|b| score > b.score) {
            best = Some(Route { op, labels, score });
        }
    }
    best
}

// ---------------------------------------------------------------------------------------------
// Request decoding

fn header_text(headers: &HeaderMap, name: &str) -> Result<Option<String>, CommonError> {
    let mut values = Vec::new();
    for v in headers.get_all(name) {
        let text = std::str::from_utf8(v.as_bytes())
            .map_err(|_| serialization(format!("The value of header {name} is not valid UTF-8.")))?;
        values.push(text.trim().to_string());
    }
    Ok(if values.is_empty() { None } else { Some(values.join(", ")) })
}

/// Splits a header list: commas separate items, double quotes protect commas, `\"` escapes.
fn split_header_list(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted => quoted = false,
            '"' if cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
                was_quoted = true;
            }
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ',' if !quoted => {
                out.push(if was_quoted { std::mem::take(&mut cur) } else { cur.trim().to_string() });
                cur.clear();
                was_quoted = false;
            }
            // Text after a closing quote (spaces before the comma) is dropped.
            _ if was_quoted && !quoted => {}
            c => cur.push(c),
        }
    }
    out.push(if was_quoted { cur } else { cur.trim().to_string() });
    out
}

fn scalar_from_text(
    model: &ServiceModel,
    m: &Member,
    shape: ShapeId,
    text: &str,
    ts_default: TimestampFormat,
    what: &str,
) -> Result<Value, CommonError> {
    if m.json_value && matches!(model.shape(shape).kind, ShapeKind::String { .. }) {
        let bytes = shapes::decode_base64(text).ok_or_else(|| serialization(format!("{what} is not valid base64.")))?;
        let json_text = String::from_utf8(bytes).map_err(|_| serialization(format!("{what} is not valid JSON.")))?;
        serde_json::from_str::<Value>(&json_text).map_err(|_| serialization(format!("{what} is not valid JSON.")))?;
        return Ok(Value::String(json_text));
    }
    shapes::parse_scalar_text(model, shape, Some(m), text, ts_default)
        .ok_or_else(|| serialization(format!("{what} has an invalid value: {}", truncate(text))))
}

fn truncate(text: &str) -> String {
    let mut end = text.len().min(64);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

fn decode_header_member(model: &ServiceModel, m: &Member, text: &str) -> Result<Value, CommonError> {
    let name = m.location_name.unwrap_or(m.name);
    let what = format!("Header {name}");
    match model.shape(m.target).kind {
        ShapeKind::List { member: item, .. } => {
            let is_http_date = matches!(model.shape(item).kind, ShapeKind::Timestamp { .. })
                && shapes::timestamp_format(model, None, item, TimestampFormat::Rfc822) == TimestampFormat::Rfc822;
            let mut parts = split_header_list(text);
            if is_http_date {
                // `Mon, 16 Dec 2019 23:48:18 GMT` contains a comma: rejoin pairs.
                parts = parts.chunks(2).map(|c| c.join(", ")).collect();
            }
            let mut items = Vec::with_capacity(parts.len());
            for p in parts {
                if p.is_empty() {
                    continue;
                }
                items.push(scalar_from_text(model, m, item, &p, TimestampFormat::Rfc822, &what)?);
            }
            Ok(Value::Array(items))
        }
        _ => scalar_from_text(model, m, m.target, text, TimestampFormat::Rfc822, &what),
    }
}

pub fn decode(
    model: &'static ServiceModel,
    req: &HttpRequest,
) -> Result<(&'static OperationModel, Value), CommonError> {
    let query = shapes::parse_pairs(req.query.as_bytes())?;
    let route = route(model, req, &query).ok_or_else(|| {
        CommonError::new(
            CommonKind::UnknownOperation,
            format!("No operation matches {} {}.", truncate(req.method), truncate(req.path)),
        )
    })?;
    let op = route.op;
    let Some(input) = op.input else {
        return Ok((op, Value::Object(Map::new())));
    };
    let mut out = Map::new();
    let (payload, members) = match model.shape(input).kind {
        ShapeKind::Structure { payload, members, .. } => (payload, members),
        _ => (None, &[][..]),
    };
    // Query keys bound to a named member; the rest feed a query-params map member.
    let named_keys: Vec<&str> =
        members.iter().filter(|m| m.location == Location::QueryString).filter_map(|m| m.location_name).collect();
    for m in members {
        let wire = m.location_name.unwrap_or(m.name);
        let value = match m.location {
            Location::Uri => match route.labels.iter().find(|(k, _)| k == wire) {
                Some((_, text)) => Some(scalar_from_text(
                    model,
                    m,
                    m.target,
                    text,
                    TimestampFormat::Iso8601,
                    &format!("Label {wire}"),
                )?),
                None => None,
            },
            Location::QueryString => decode_query_member(model, m, &query, &named_keys)?,
            Location::Header => match header_text(req.headers, wire)? {
                Some(text) => Some(decode_header_member(model, m, &text)?),
                None => None,
            },
            Location::Headers => decode_prefix_headers(req.headers, wire)?,
            Location::StatusCode | Location::Body => None,
        };
        if let Some(v) = value {
            out.insert(m.name.to_string(), v);
        }
    }
    match payload.and_then(|p| members.iter().find(|m| m.name == p)) {
        Some(pm) => {
            if let Some(v) = decode_payload(model, pm, req.body)? {
                out.insert(pm.name.to_string(), v);
            }
        }
        None => {
            let body = json::parse_body(req.body)?;
            out.extend(json::decode_struct(model, input, body, Members::BodyOnly, 0)?);
        }
    }
    let value = Value::Object(out);
    validate::validate(model, input, &value)?;
    Ok((op, value))
}

fn decode_query_member(
    model: &ServiceModel,
    m: &Member,
    query: &[(String, String)],
    named_keys: &[&str],
) -> Result<Option<Value>, CommonError> {
    let what = |k: &str| format!("Query parameter {k}");
    match model.shape(m.target).kind {
        ShapeKind::Map { value, .. } if m.location_name.is_none() => {
            let list_values = matches!(model.shape(value).kind, ShapeKind::List { .. });
            let mut map = Map::new();
            for (k, v) in query {
                if named_keys.contains(&k.as_str()) {
                    continue;
                }
                if list_values {
                    let entry = map.entry(k.clone()).or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(items) = entry {
                        items.push(Value::String(v.clone()));
                    }
                } else if !map.contains_key(k) {
                    map.insert(k.clone(), Value::String(v.clone()));
                }
            }
            Ok((!map.is_empty()).then_some(Value::Object(map)))
        }
        ShapeKind::List { member: item, .. } => {
            let key = m.location_name.unwrap_or(m.name);
            let mut items = Vec::new();
            for (k, v) in query.iter().filter(|(k, _)| k == key) {
                items.push(scalar_from_text(model, m, item, v, TimestampFormat::Iso8601, &what(k))?);
            }
            Ok((!items.is_empty()).then_some(Value::Array(items)))
        }
        _ => {
            let key = m.location_name.unwrap_or(m.name);
            match query.iter().find(|(k, _)| k == key) {
                Some((k, v)) => Ok(Some(scalar_from_text(model, m, m.target, v, TimestampFormat::Iso8601, &what(k))?)),
                None => Ok(None),
            }
        }
    }
}

fn decode_prefix_headers(headers: &HeaderMap, prefix: &str) -> Result<Option<Value>, CommonError> {
    let prefix = prefix.to_ascii_lowercase();
    let mut map = Map::new();
    for name in headers.keys() {
        let Some(rest) = name.as_str().strip_prefix(prefix.as_str()) else {
            continue;
        };
        if rest.is_empty() {
            continue;
        }
        if let Some(text) = header_text(headers, name.as_str())? {
            map.insert(rest.to_string(), Value::String(text));
        }
    }
    Ok((!map.is_empty()).then_some(Value::Object(map)))
}

fn decode_payload(model: &ServiceModel, pm: &Member, body: &[u8]) -> Result<Option<Value>, CommonError> {
    match model.shape(pm.target).kind {
        ShapeKind::Blob { .. } => Ok((!body.is_empty()).then(|| Value::String(shapes::encode_base64(body)))),
        ShapeKind::String { .. } => {
            if body.is_empty() {
                return Ok(None);
            }
            let text = std::str::from_utf8(body).map_err(|_| serialization("The request body is not valid UTF-8."))?;
            Ok(Some(Value::String(text.to_string())))
        }
        ShapeKind::Structure { document: false, .. } => {
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(None);
            }
            let obj = json::parse_body(body)?;
            Ok(Some(Value::Object(json::decode_struct(model, pm.target, obj, Members::All, 0)?)))
        }
        _ => {
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(None);
            }
            let v: Value = serde_json::from_slice(body)
                .map_err(|_| serialization("The request body could not be parsed as JSON."))?;
            json::decode(model, pm.target, Some(pm), v, 0)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Response encoding

/// Text of a canonical scalar for a header (timestamps HTTP-date unless the model says otherwise).
fn header_scalar(model: &ServiceModel, m: &Member, shape: ShapeId, v: &Value) -> String {
    let text = match (&model.shape(shape).kind, v) {
        (ShapeKind::Timestamp { .. }, _) => match timefmt::from_canonical(v) {
            Some(ts) => {
                timefmt::format_text(ts, shapes::timestamp_format(model, Some(m), shape, TimestampFormat::Rfc822))
            }
            None => plain(v),
        },
        (ShapeKind::String { .. }, Value::String(s)) if m.json_value => shapes::encode_base64(s.as_bytes()),
        _ => plain(v),
    };
    // A header value cannot carry line breaks.
    text.replace(['\r', '\n'], " ")
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Header (name, value) pairs of the header-bound members present in `obj`.
pub(crate) fn response_headers(
    model: &ServiceModel,
    shape: ShapeId,
    obj: &Map<String, Value>,
) -> Vec<(Cow<'static, str>, Cow<'static, str>)> {
    let mut out = Vec::new();
    for m in shapes::members(model, shape) {
        let Some(v) = obj.get(m.name).filter(|v| !v.is_null()) else {
            continue;
        };
        let name = m.location_name.unwrap_or(m.name);
        match m.location {
            Location::Header => match (&model.shape(m.target).kind, v) {
                (ShapeKind::List { member: item, .. }, Value::Array(items)) => {
                    if items.is_empty() {
                        continue;
                    }
                    let parts: Vec<String> = items
                        .iter()
                        .map(|it| {
                            let t = header_scalar(model, m, *item, it);
                            let is_string = matches!(model.shape(*item).kind, ShapeKind::String { .. });
                            if is_string && (t.contains(',') || t.contains('"')) {
                                format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\""))
                            } else {
                                t
                            }
                        })
                        .collect();
                    out.push((name.into(), parts.join(", ").into()));
                }
                _ => out.push((name.into(), header_scalar(model, m, m.target, v).into())),
            },
            Location::Headers => {
                if let Value::Object(map) = v {
                    for (k, it) in map {
                        if !it.is_null() {
                            out.push((format!("{name}{k}").into(), plain(it).replace(['\r', '\n'], " ").into()));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

pub fn encode_response(
    model: &'static ServiceModel,
    op: &'static OperationModel,
    output: &Value,
    request_id: &str,
) -> HttpResponse {
    let empty = Map::new();
    let obj = output.as_object().unwrap_or(&empty);
    let mut status = op.success_code;
    let mut headers = Vec::new();
    let mut content_type = "application/json";
    let mut body: Vec<u8> = match op.output {
        None => b"{}".to_vec(),
        Some(shape) => {
            let members = shapes::members(model, shape);
            if let Some(code) = members
                .iter()
                .find(|m| m.location == Location::StatusCode)
                .and_then(|m| obj.get(m.name))
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .filter(|c| (100..=999).contains(c))
            {
                status = code;
            }
            headers.extend(response_headers(model, shape, obj));
            let payload = match model.shape(shape).kind {
                ShapeKind::Structure { payload, .. } => payload.and_then(|p| members.iter().find(|m| m.name == p)),
                _ => None,
            };
            match payload {
                Some(pm) => match (obj.get(pm.name), &model.shape(pm.target).kind) {
                    (None | Some(Value::Null), _) => Vec::new(),
                    (Some(Value::String(s)), ShapeKind::Blob { .. }) => {
                        content_type = "application/octet-stream";
                        shapes::decode_base64(s).unwrap_or_default()
                    }
                    (Some(Value::String(s)), ShapeKind::String { .. }) => {
                        content_type = "text/plain";
                        s.clone().into_bytes()
                    }
                    (Some(v), _) => json::encode(model, pm.target, v).into_bytes(),
                },
                None => {
                    let mut out = JsonOut::new();
                    out.buf.push('{');
                    let mut first = true;
                    out.struct_members(model, shape, obj, Members::BodyOnly, None, &mut first, 0);
                    out.buf.push('}');
                    out.buf.into_bytes()
                }
            }
        }
    };
    // 204 and 304 responses have no body.
    if matches!(status, 204 | 304) {
        body.clear();
    }
    let mut all = Vec::with_capacity(headers.len() + 2);
    // A `Content-Type` header member overrides the default.
    if !body.is_empty() && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
        all.push(("Content-Type".into(), content_type.to_string().into()));
    }
    all.push(("x-amzn-RequestId".into(), request_id.to_string().into()));
    all.extend(headers);
    HttpResponse { status, headers: all, body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingot_core::model::{Protocol, Shape};
    use ingot_core::{ModeledError, ServiceFailure};
    use serde_json::json;

    use crate::test_support::{body_text, Req};
    use crate::testmodels::{self as tm, REST_MODEL};
    use crate::{encode_error, encode_response, encode_service_error};

    #[test]
    fn templates_split_labels_greedy_labels_and_query_literals() {
        let t = parse_template("/a/{B}/c/{D+}?x&y=1");
        assert_eq!(t.segments, vec![Seg::Literal("a"), Seg::Label("B"), Seg::Literal("c"), Seg::Greedy("D")]);
        assert_eq!(t.query, vec![("x", None), ("y", Some("1"))]);
    }

    #[test]
    fn greedy_labels_take_every_middle_segment() {
        let t = parse_template("/files/{Path+}/meta");
        let labels = match_path(&t, &["files", "a", "b%2Fc", "meta"]).unwrap();
        assert_eq!(labels, vec![("Path".to_string(), "a/b/c".to_string())]);
        assert!(match_path(&t, &["files", "meta"]).is_none());
    }

    #[test]
    fn header_lists_honour_quotes_and_escapes() {
        assert_eq!(split_header_list("a, \"b,c\" ,\"d\\\"e\""), vec!["a", "b,c", "d\"e"]);
        assert_eq!(split_header_list(""), vec![""]);
    }

    #[test]
    fn decodes_labels_query_headers_prefix_headers_and_body() {
        let r = Req::new(
            "POST",
            "/things/a%20b%2Fc?q=hi&ql=1&ql=2&n=3&t=2019-12-16T23%3A48%3A18Z&b=true&extra=x&other=y+z",
        )
        .header("X-Str", "hello")
        .header("X-List", "a, \"b,c\"")
        .header("X-Time", "Mon, 16 Dec 2019 23:48:18 GMT")
        .header("X-Times", "Mon, 16 Dec 2019 23:48:18 GMT, Tue, 17 Dec 2019 23:48:18 GMT")
        .header("X-Int", "7")
        .header("X-Bool", "false")
        .header("X-Json", "eyJrIjpbMV19")
        .header("X-Meta-Color", "red")
        .header("x-meta-size", "big")
        .body(r#"{"Name":"abc","Tags":[{"Key":"k"}],"When":1576540098,"Doc":{"x":1},"Data":"aGk=","renamedField":"r","HStr":"ignored"}"#);
        let (op, v) = r.decode(&REST_MODEL).unwrap();
        assert_eq!(op.name, "PutThing");
        assert_eq!(
            v,
            json!({"Label":"a b/c","Q":"hi","QList":["1","2"],"QInt":3,"QTime":1_576_540_098,"QBool":true,
                   "QMap":{"extra":"x","other":"y z"},"HStr":"hello","HList":["a","b,c"],"HTime":1_576_540_098,
                   "HTimes":[1_576_540_098,1_576_626_498],"HInt":7,"HBool":false,"HJson":"{\"k\":[1]}",
                   "Meta":{"color":"red","size":"big"},"Name":"abc","Tags":[{"Key":"k"}],"When":1_576_540_098,
                   "Doc":{"x":1},"Data":"aGk=","Renamed":"r"})
        );
    }

    #[test]
    fn greedy_labels_and_query_members_route_to_their_operation() {
        let (op, v) = Req::new("GET", "/files/a/b%2Fc/d.txt?version=2").decode(&REST_MODEL).unwrap();
        assert_eq!((op.name, v), ("GetFile", json!({"Path":"a/b/c/d.txt","Version":"2"})));
    }

    #[test]
    fn literal_query_parts_select_between_operations() {
        let (op, v) = Req::new("GET", "/things?list&maxResults=5").decode(&REST_MODEL).unwrap();
        assert_eq!((op.name, v), ("ListThings", json!({"MaxResults":5})));
        let (op, v) = Req::new("GET", "/things/abc").decode(&REST_MODEL).unwrap();
        assert_eq!((op.name, v), ("GetThing", json!({"Label":"abc"})));
        let e = Req::new("GET", "/things").decode(&REST_MODEL).unwrap_err();
        assert_eq!(e.kind, CommonKind::UnknownOperation);
    }

    #[test]
    fn route_misses_are_unknown_operations_answered_with_404() {
        for r in [
            Req::new("GET", "/nowhere"),
            Req::new("PATCH", "/things/a"),
            Req::new("GET", "/things/%zz"),
            Req::new("GET", ""),
        ] {
            let e = r.decode(&REST_MODEL).unwrap_err();
            assert_eq!(e.kind, CommonKind::UnknownOperation);
            let resp = encode_error(Protocol::RestJson1, None, &e.into(), "rid");
            assert_eq!(resp.status, 404);
            assert_eq!(resp.header("X-Amzn-Errortype"), Some("UnknownOperationException"));
        }
    }

    #[test]
    fn blob_payloads_take_the_raw_body() {
        let (op, v) = Req::new("PUT", "/blobs/x")
            .header("Content-Type", "image/png")
            .body(b"\x00\x01binary")
            .decode(&REST_MODEL)
            .unwrap();
        assert_eq!((op.name, v), ("UploadBlob", json!({"Label":"x","ContentType":"image/png","Data":"AAFiaW5hcnk="})));
    }

    #[test]
    fn structure_payloads_take_the_whole_json_body() {
        let (_, v) = Req::new("PUT", "/docs/x").body(r#"{"Key":"k","Value":"v"}"#).decode(&REST_MODEL).unwrap();
        assert_eq!(v, json!({"Label":"x","Body":{"Key":"k","Value":"v"}}));
        let (_, v) = Req::new("PUT", "/docs/x").decode(&REST_MODEL).unwrap();
        assert_eq!(v, json!({"Label":"x"}));
        let e = Req::new("PUT", "/docs/x").body(r#"{"Value":"v"}"#).decode(&REST_MODEL).unwrap_err();
        assert_eq!(e.message, "1 validation error detected: Value null at 'body.key' failed to satisfy constraint: Member must not be null");
    }

    #[test]
    fn malformed_labels_query_values_and_headers_are_serialization_errors() {
        let base = || Req::new("POST", "/things/x").body(r#"{"Name":"abc"}"#);
        let cases = [
            (
                Req::new("POST", "/things/x?n=abc").body(r#"{"Name":"abc"}"#),
                "Query parameter n has an invalid value: abc",
            ),
            (
                Req::new("POST", "/things/x?n=%zz").body(r#"{"Name":"abc"}"#),
                "The request contains a malformed percent-encoded value.",
            ),
            (base().header("X-Int", "seven"), "Header X-Int has an invalid value: seven"),
            (
                base().header("X-Time", "2019-12-16T23:48:18Z"),
                "Header X-Time has an invalid value: 2019-12-16T23:48:18Z",
            ),
            (base().header("X-Json", "e3g="), "Header X-Json is not valid JSON."),
            (base().header("X-Json", "!!"), "Header X-Json is not valid base64."),
            (Req::new("POST", "/things/x").body("{"), "The request body could not be parsed as JSON."),
        ];
        for (r, msg) in cases {
            let e = r.decode(&REST_MODEL).unwrap_err();
            assert_eq!((e.kind, e.message.as_str()), (CommonKind::Serialization, msg));
        }
        // Unpadded base64 is accepted.
        let (_, v) = base().header("X-Json", "e30=").decode(&REST_MODEL).unwrap();
        assert_eq!(v["HJson"], json!("{}"));
    }

    #[test]
    fn query_and_header_values_are_validated_like_body_members() {
        let e = Req::new("POST", "/things/x?n=11")
            .header("X-Int", "0")
            .body(r#"{"Name":"abc"}"#)
            .decode(&REST_MODEL)
            .unwrap_err();
        assert_eq!(
            e.message,
            "2 validation errors detected: Value '11' at 'qInt' failed to satisfy constraint: Member must have value less than or equal to 10; \
             Value '0' at 'hInt' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
    }

    #[test]
    fn responses_bind_status_headers_prefix_headers_and_body() {
        let op = REST_MODEL.operation("PutThing").unwrap();
        let out = json!({"Status":201,"HOut":"x\ny","HTime":1_576_540_098,"HList":["a","b,c"],"Meta":{"k1":"v1"},
                         "Name":"abc","When":1_576_540_098.5,"Tags":[{"Key":"k"}]});
        let resp = encode_response(&REST_MODEL, op, &out, "rid");
        assert_eq!(resp.status, 201);
        let headers: Vec<(String, String)> = resp.headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(
            headers,
            vec![
                ("Content-Type".to_string(), "application/json".to_string()),
                ("x-amzn-RequestId".to_string(), "rid".to_string()),
                ("X-Out".to_string(), "x y".to_string()),
                ("X-Time".to_string(), "Mon, 16 Dec 2019 23:48:18 GMT".to_string()),
                ("X-List".to_string(), "a, \"b,c\"".to_string()),
                ("X-Meta-k1".to_string(), "v1".to_string()),
            ]
        );
        assert_eq!(body_text(&resp), r#"{"Name":"abc","When":1576540098.5,"Tags":[{"Key":"k"}]}"#);
    }

    #[test]
    fn blob_payload_responses_are_raw_bytes_with_the_modeled_content_type() {
        let op = REST_MODEL.operation("GetFile").unwrap();
        let resp = encode_response(&REST_MODEL, op, &json!({"Body":"aGk=","ContentType":"text/plain"}), "rid");
        assert_eq!(resp.body, b"hi");
        assert_eq!(resp.header("Content-Type"), Some("text/plain"));
        assert_eq!(resp.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("content-type")).count(), 1);
    }

    #[test]
    fn no_content_responses_have_no_body() {
        let op = REST_MODEL.operation("DeleteThing").unwrap();
        let resp = encode_response(&REST_MODEL, op, &json!({}), "rid");
        assert_eq!(resp.status, 204);
        assert!(resp.body.is_empty());
        let op = REST_MODEL.operation("PutDoc").unwrap();
        assert_eq!(body_text(&encode_response(&REST_MODEL, op, &json!({}), "rid")), "{}");
    }

    #[test]
    fn errors_put_the_code_in_a_header_and_header_members_in_headers() {
        let mut fields = serde_json::Map::new();
        fields.insert("ResourceId".into(), json!("r1"));
        fields.insert("RetryAfter".into(), json!(5));
        let f = ServiceFailure::Modeled(ModeledError {
            code: "NotFoundException",
            status: 404,
            sender_fault: true,
            message: Some("gone".into()),
            fields,
        });
        let resp = encode_service_error(&REST_MODEL, &f, "rid");
        assert_eq!(resp.status, 404);
        assert_eq!(resp.header("X-Amzn-Errortype"), Some("NotFoundException"));
        assert_eq!(resp.header("x-amzn-RequestId"), Some("rid"));
        assert_eq!(resp.header("Retry-After"), Some("5"));
        assert_eq!(body_text(&resp), r#"{"message":"gone","ResourceId":"r1"}"#);

        let resp = encode_error(Protocol::RestJson1, None, &CommonError::access_denied("denied").into(), "rid");
        assert_eq!((resp.status, body_text(&resp)), (403, r#"{"message":"denied"}"#));
        assert_eq!(resp.header("Content-Type"), Some("application/json"));
    }

    // Ported from smithy-aws-protocol-tests restJson1/http-labels.smithy.
    const LABELS_MEMBERS: [Member; 8] = [
        Member { required: true, ..tm::at("string", 0, Location::Uri, "string") },
        Member { required: true, ..tm::at("short", 1, Location::Uri, "short") },
        Member { required: true, ..tm::at("integer", 1, Location::Uri, "integer") },
        Member { required: true, ..tm::at("long", 2, Location::Uri, "long") },
        Member { required: true, ..tm::at("float", 3, Location::Uri, "float") },
        Member { required: true, ..tm::at("double", 4, Location::Uri, "double") },
        Member { required: true, ..tm::at("boolean", 5, Location::Uri, "boolean") },
        Member { required: true, ..tm::at("timestamp", 6, Location::Uri, "timestamp") },
    ];
    const GREEDY_MEMBERS: [Member; 2] = [
        Member { required: true, ..tm::at("foo", 0, Location::Uri, "foo") },
        Member { required: true, ..tm::at("baz", 0, Location::Uri, "baz") },
    ];
    static SMITHY_SHAPES: [Shape; 9] = [
        tm::sh("String", tm::string()),
        tm::sh("Integer", ShapeKind::Integer { min: None, max: None }),
        tm::sh("Long", ShapeKind::Long { min: None, max: None }),
        tm::sh("Float", ShapeKind::Float { min: None, max: None }),
        tm::sh("Double", ShapeKind::Double { min: None, max: None }),
        tm::sh("Boolean", ShapeKind::Boolean),
        tm::sh("Timestamp", ShapeKind::Timestamp { format: None }),
        tm::sh("HttpRequestWithLabelsInput", tm::st(&LABELS_MEMBERS)),
        tm::sh("HttpRequestWithGreedyLabelInPathInput", tm::st(&GREEDY_MEMBERS)),
    ];
    static SMITHY_OPS: [OperationModel; 2] = [
        tm::rest(
            "HttpRequestWithLabels",
            "GET",
            "/HttpRequestWithLabels/{string}/{short}/{integer}/{long}/{float}/{double}/{boolean}/{timestamp}",
            Some(7),
            None,
        ),
        tm::rest(
            "HttpRequestWithGreedyLabelInPath",
            "GET",
            "/HttpRequestWithGreedyLabelInPath/foo/{foo}/baz/{baz+}",
            Some(8),
            None,
        ),
    ];
    static SMITHY_MODEL: ServiceModel =
        ServiceModel { shapes: &SMITHY_SHAPES, ..tm::model("restjson", Protocol::RestJson1, &SMITHY_OPS) };

    #[test]
    fn smithy_rest_json_input_with_headers_and_all_params() {
        let (_, v) = Req::new("GET", "/HttpRequestWithLabels/string/1/2/3/4.0/5.0/true/2019-12-16T23%3A48%3A18Z")
            .decode(&SMITHY_MODEL)
            .unwrap();
        assert_eq!(
            v,
            json!({"string":"string","short":1,"integer":2,"long":3,"float":4.0,"double":5.0,"boolean":true,"timestamp":1_576_540_098})
        );
    }

    #[test]
    fn smithy_rest_json_http_request_with_greedy_label_in_path() {
        let (_, v) =
            Req::new("GET", "/HttpRequestWithGreedyLabelInPath/foo/hello/baz/there/guy").decode(&SMITHY_MODEL).unwrap();
        assert_eq!(v, json!({"foo":"hello","baz":"there/guy"}));
    }
}
