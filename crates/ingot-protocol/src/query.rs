//! awsQuery and ec2Query: form-encoded (or query-string) requests, XML responses.
//!
//! Keys are decoded by walking the input shape, not by parsing keys: every structure member
//! looks up its own key (`Prefix.Name`), lists collect the indexes present under their prefix,
//! maps collect their entries. List indexes are decimal numbers from 1; they are used in
//! ascending order and gaps are compacted (`Foo.member.1`, `Foo.member.5` is a two-element list),
//! so a huge index costs nothing. Duplicate keys keep the first value. `Version` is not checked.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use ingot_core::model::{Member, OperationModel, ServiceModel, ShapeId, ShapeKind, TimestampFormat};
use ingot_core::{CommonError, CommonKind};
use serde_json::{Map, Value};

use crate::shapes::{self, serialization, too_deep, upper_first, MAX_DEPTH};
use crate::xml::{Style, XmlOut};
use crate::{validate, HttpRequest, HttpResponse};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Query,
    Ec2,
}

/// Request keys that carry authentication rather than input.
fn is_auth_key(k: &str) -> bool {
    k.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("x-amz-"))
        || matches!(
            k,
            "AWSAccessKeyId"
                | "Signature"
                | "SignatureMethod"
                | "SignatureVersion"
                | "Timestamp"
                | "Expires"
                | "SecurityToken"
        )
}

pub fn decode(
    model: &'static ServiceModel,
    req: &HttpRequest,
    dialect: Dialect,
) -> Result<(&'static OperationModel, Value), CommonError> {
    let mut pairs = shapes::parse_pairs(req.query.as_bytes())?;
    if !req.body.is_empty() && !req.method.eq_ignore_ascii_case("GET") {
        pairs.extend(shapes::parse_pairs(req.body)?);
    }
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in pairs {
        params.entry(k).or_insert(v);
    }
    let action = params.remove("Action").unwrap_or_default();
    params.remove("Version");
    if action.is_empty() {
        return Err(CommonError::new(CommonKind::UnknownOperation, "The request must contain the parameter Action."));
    }
    let op = model.operation(&action).ok_or_else(|| CommonError::unknown_operation(&action))?;
    let Some(input) = op.input else {
        if dialect == Dialect::Ec2 {
            if let Some(k) = params.keys().find(|k| !is_auth_key(k)) {
                return Err(unknown_parameter(k.split('.').next().unwrap_or(k)));
            }
        }
        return Ok((op, Value::Object(Map::new())));
    };
    let mut dec = Decoder { model, params: &params, dialect, consumed: HashSet::new() };
    let obj = dec.structure(input, "", 0)?.unwrap_or_default();
    if dialect == Dialect::Ec2 {
        if let Some(k) = params.keys().find(|k| !dec.consumed.contains(k.as_str()) && !is_auth_key(k)) {
            return Err(unknown_parameter(&unknown_segment(model, input, k)));
        }
    }
    if let Some(key) = first_missing(model, input, &obj, "", dialect, 0) {
        let message = match dialect {
            Dialect::Ec2 => format!("The request must contain the parameter {key}"),
            Dialect::Query => format!("The parameter {key} is required."),
        };
        return Err(CommonError::new(CommonKind::MissingParameter, message));
    }
    let value = Value::Object(obj);
    let found = validate::violations(model, input, &value, false);
    if !found.is_empty() {
        return Err(CommonError::validation(validate::message(&found)));
    }
    Ok((op, value))
}

fn unknown_parameter(name: &str) -> CommonError {
    CommonError::new(CommonKind::UnknownParameter, format!("The parameter {name} is not recognized"))
}

/// The request key of a structure member.
fn member_key(m: &Member, dialect: Dialect) -> String {
    match dialect {
        Dialect::Ec2 => m
            .query_name
            .map(str::to_string)
            .or_else(|| m.location_name.map(upper_first))
            .unwrap_or_else(|| upper_first(m.name)),
        Dialect::Query => m.location_name.unwrap_or(m.name).to_string(),
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Where the elements of a list member live: the primary prefix and, for flattened awsQuery
/// lists whose member has a name, the prefix botocore uses (the last segment replaced).
fn list_prefixes(
    model: &ServiceModel,
    list: ShapeId,
    member: Option<&Member>,
    key: &str,
    dialect: Dialect,
) -> Vec<String> {
    let ShapeKind::List { member_name, flattened, .. } = model.shape(list).kind else {
        return vec![key.to_string()];
    };
    if dialect == Dialect::Ec2 {
        return vec![key.to_string()];
    }
    if flattened || member.is_some_and(|m| m.flattened) {
        let mut out = vec![key.to_string()];
        if let Some(name) = member_name {
            let alt = match key.rsplit_once('.') {
                Some((head, _)) => format!("{head}.{name}"),
                None => name.to_string(),
            };
            if alt != key {
                out.push(alt);
            }
        }
        out
    } else {
        vec![format!("{key}.{}", member_name.unwrap_or("member"))]
    }
}

fn map_names(
    model: &ServiceModel,
    map: ShapeId,
    member: Option<&Member>,
    key: &str,
    dialect: Dialect,
) -> (String, String, String) {
    let ShapeKind::Map { key_name, value_name, flattened, .. } = model.shape(map).kind else {
        return (key.to_string(), "key".into(), "value".into());
    };
    let entry = if flattened || member.is_some_and(|m| m.flattened) { key.to_string() } else { format!("{key}.entry") };
    let name = |n: Option<&str>, default: &str| match (n, dialect) {
        (Some(n), Dialect::Ec2) => upper_first(n),
        (Some(n), Dialect::Query) => n.to_string(),
        (None, _) => default.to_string(),
    };
    (entry, name(key_name, "key"), name(value_name, "value"))
}

struct Decoder<'p> {
    model: &'static ServiceModel,
    params: &'p BTreeMap<String, String>,
    dialect: Dialect,
    consumed: HashSet<&'p str>,
}

impl<'p> Decoder<'p> {
    fn take(&mut self, key: &str) -> Option<&'p str> {
        let (k, v) = self.params.get_key_value(key)?;
        self.consumed.insert(k.as_str());
        Some(v.as_str())
    }

    /// The list indexes present under `prefix.` (positive decimal numbers, ascending).
    fn indexes(&self, prefix: &str) -> Vec<u64> {
        let start = format!("{prefix}.");
        let mut found = BTreeSet::new();
        for (k, _) in self.params.range(start.clone()..) {
            let Some(rest) = k.strip_prefix(start.as_str()) else {
                break;
            };
            let seg = rest.split('.').next().unwrap_or_default();
            if seg.is_empty() || seg.len() > 19 || !seg.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            if let Ok(n) = seg.parse::<u64>() {
                if n > 0 {
                    found.insert(n);
                }
            }
        }
        found.into_iter().collect()
    }

    /// Whether any key lies under `prefix.`.
    fn has_children(&self, prefix: &str) -> bool {
        let start = format!("{prefix}.");
        self.params.range(start.clone()..).next().is_some_and(|(k, _)| k.starts_with(&start))
    }

    fn structure(
        &mut self,
        shape: ShapeId,
        prefix: &str,
        depth: usize,
    ) -> Result<Option<Map<String, Value>>, CommonError> {
        // Recursive shapes are only followed as far as the request has keys.
        if !prefix.is_empty() && !self.has_children(prefix) {
            return Ok(None);
        }
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let mut out = Map::new();
        for m in shapes::members(self.model, shape) {
            let key = join(prefix, &member_key(m, self.dialect));
            if let Some(v) = self.value(m.target, Some(m), &key, depth + 1)? {
                out.insert(m.name.to_string(), v);
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }

    fn value(
        &mut self,
        shape: ShapeId,
        member: Option<&Member>,
        key: &str,
        depth: usize,
    ) -> Result<Option<Value>, CommonError> {
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let model = self.model;
        match model.shape(shape).kind {
            ShapeKind::Structure { document: true, .. } => match self.take(key) {
                Some(text) => serde_json::from_str(text).map(Some).map_err(|_| self.invalid(key, text)),
                None => Ok(None),
            },
            ShapeKind::Structure { .. } => Ok(self.structure(shape, key, depth)?.map(Value::Object)),
            ShapeKind::List { member: item, .. } => {
                for prefix in list_prefixes(model, shape, member, key, self.dialect) {
                    let idx = self.indexes(&prefix);
                    if idx.is_empty() {
                        continue;
                    }
                    let mut items = Vec::with_capacity(idx.len());
                    for i in idx {
                        if let Some(v) = self.value(item, None, &format!("{prefix}.{i}"), depth + 1)? {
                            items.push(v);
                        }
                    }
                    return Ok(Some(Value::Array(items)));
                }
                // awsQuery sends an empty list as `Key=`.
                match self.take(key) {
                    Some("") => Ok(Some(Value::Array(Vec::new()))),
                    Some(text) => Err(self.invalid(key, text)),
                    None => Ok(None),
                }
            }
            ShapeKind::Map { key: key_shape, value: value_shape, .. } => {
                let (entry, kname, vname) = map_names(model, shape, member, key, self.dialect);
                let idx = self.indexes(&entry);
                if idx.is_empty() {
                    return Ok(None);
                }
                let mut out = Map::new();
                for i in idx {
                    let kk = format!("{entry}.{i}.{kname}");
                    let Some(k) = self.value(key_shape, None, &kk, depth + 1)? else {
                        return Err(serialization(format!("The parameter {kk} is required.")));
                    };
                    let k = match k {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    if let Some(v) = self.value(value_shape, None, &format!("{entry}.{i}.{vname}"), depth + 1)? {
                        out.entry(k).or_insert(v);
                    }
                }
                Ok(Some(Value::Object(out)))
            }
            _ => match self.take(key) {
                Some(text) => shapes::parse_scalar_text(model, shape, member, text, TimestampFormat::Iso8601)
                    .map(Some)
                    .ok_or_else(|| self.invalid(key, text)),
                None => Ok(None),
            },
        }
    }

    fn invalid(&self, key: &str, text: &str) -> CommonError {
        let mut shown: String = text.chars().take(64).collect();
        if shown.len() < text.len() {
            shown.push_str("...");
        }
        serialization(format!("Value ({shown}) for parameter {key} is invalid."))
    }
}

/// The first segment of an unconsumed ec2 key that the model does not know.
fn unknown_segment(model: &ServiceModel, input: ShapeId, key: &str) -> String {
    let mut shape = input;
    for seg in key.split('.') {
        match model.shape(shape).kind {
            ShapeKind::Structure { members, .. } => match members.iter().find(|m| member_key(m, Dialect::Ec2) == seg) {
                Some(m) => shape = m.target,
                None => return seg.to_string(),
            },
            ShapeKind::List { member, .. } if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) => {
                shape = member
            }
            _ => return seg.to_string(),
        }
    }
    key.to_string()
}

/// The wire key of the first required member that is absent or empty.
fn first_missing(
    model: &ServiceModel,
    shape: ShapeId,
    obj: &Map<String, Value>,
    prefix: &str,
    dialect: Dialect,
    depth: usize,
) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    for m in shapes::members(model, shape) {
        let key = join(prefix, &member_key(m, dialect));
        let v = obj.get(m.name);
        let empty = matches!(v, None | Some(Value::Null)) || v.is_some_and(|v| v.as_str() == Some(""));
        if m.required && empty {
            return Some(key);
        }
        match (v, &model.shape(m.target).kind) {
            (Some(Value::Object(inner)), ShapeKind::Structure { document: false, .. }) => {
                if let Some(k) = first_missing(model, m.target, inner, &key, dialect, depth + 1) {
                    return Some(k);
                }
            }
            (Some(Value::Array(items)), ShapeKind::List { member: item, .. }) => {
                if !matches!(model.shape(*item).kind, ShapeKind::Structure { document: false, .. }) {
                    continue;
                }
                let prefix = list_prefixes(model, m.target, Some(m), &key, dialect).remove(0);
                for (i, it) in items.iter().enumerate() {
                    if let Value::Object(inner) = it {
                        if let Some(k) =
                            first_missing(model, *item, inner, &format!("{prefix}.{}", i + 1), dialect, depth + 1)
                        {
                            return Some(k);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Responses

pub const CONTENT_TYPE: &str = "text/xml";

fn xml_response(status: u16, body: String, request_id: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![
            ("Content-Type".into(), CONTENT_TYPE.into()),
            ("x-amzn-RequestId".into(), request_id.to_string().into()),
        ],
        body: body.into_bytes(),
    }
}

/// `<OpResponse xmlns=…><OpResult>…</OpResult><ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></OpResponse>`.
pub fn encode_query_response(
    model: &'static ServiceModel,
    op: &'static OperationModel,
    output: &Value,
    request_id: &str,
) -> HttpResponse {
    let mut x = XmlOut::new();
    let root = format!("{}Response", op.name);
    let ns: Vec<(&str, &str)> = model.xml_namespace.map(|n| ("xmlns", n)).into_iter().collect();
    x.open(&root, &ns);
    if let Some(shape) = op.output {
        let wrapper = op.result_wrapper.map_or_else(|| format!("{}Result", op.name), str::to_string);
        let empty = Map::new();
        let obj = output.as_object().unwrap_or(&empty);
        let attrs = XmlOut::attributes(model, shape, obj);
        let borrowed: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        x.open(&wrapper, &borrowed);
        x.struct_children(model, shape, obj, Style::Query, None, 0);
        x.close(&wrapper);
    }
    x.open("ResponseMetadata", &[]);
    x.leaf("RequestId", request_id);
    x.close("ResponseMetadata");
    x.close(&root);
    xml_response(200, x.buf, request_id)
}

/// The ec2Query namespace, `http://ec2.amazonaws.com/doc/<version>/` as EC2 sends it (botocore's
/// metadata spells it without the trailing slash, so the model's value is not used).
pub fn ec2_namespace(model: &ServiceModel) -> String {
    format!("http://ec2.amazonaws.com/doc/{}/", model.api_version)
}

/// `<OpResponse xmlns="http://ec2.amazonaws.com/doc/<v>/"><requestId>…</requestId>…</OpResponse>`.
pub fn encode_ec2_response(
    model: &'static ServiceModel,
    op: &'static OperationModel,
    output: &Value,
    request_id: &str,
) -> HttpResponse {
    let mut x = XmlOut::new();
    x.declaration();
    let root = format!("{}Response", op.name);
    let ns = ec2_namespace(model);
    x.open(&root, &[("xmlns", &ns)]);
    x.leaf("requestId", request_id);
    match op.output {
        Some(shape) => {
            let empty = Map::new();
            let obj = output.as_object().unwrap_or(&empty);
            x.struct_children(model, shape, obj, Style::Ec2, None, 0);
        }
        None => x.leaf("return", "true"),
    }
    x.close(&root);
    xml_response(200, x.buf, request_id)
}

#[cfg(test)]
mod tests {
    use ingot_core::model::{Location, Protocol, Shape};
    use ingot_core::{ModeledError, ServiceFailure};
    use serde_json::json;

    use super::*;
    use crate::test_support::{body_text, form, Req};
    use crate::testmodels::{self as tm, EC2_MODEL, QUERY_MODEL};
    use crate::{encode_error, encode_response, encode_service_error};

    const NS: &str = "https://test.amazonaws.com/doc/2020-01-08/";

    fn echo(params: &str) -> Result<Value, CommonError> {
        form(&format!("Action=Echo&Version=2020-01-08&{params}")).decode(&QUERY_MODEL).map(|(_, v)| v)
    }

    fn ec2(params: &str) -> Result<Value, CommonError> {
        form(&format!("Action=DescribeThings&Version=2016-11-15&{params}")).decode(&EC2_MODEL).map(|(_, v)| v)
    }

    #[test]
    fn query_decodes_every_shape_kind() {
        let v = echo(
            "Name=abc&Count=3&Enabled=true&When=2019-12-16T23%3A48%3A18Z&Data=aGk%3D&Ratio=2.5\
             &Names.member.1=a&Names.member.2=b&Items.item.1=x&Flat.1=f1&Flat.2=f2&Entry.1=e1\
             &Tags.member.1.Key=k&Tags.member.1.Value=v&Attrs.entry.1.key=ak&Attrs.entry.1.value=av\
             &KV.1.Name=n1&KV.1.Value=v1&KV.2.Name=n2&KV.2.Value=v2&Tree.Child.Label=leaf&Tree.Label=root\
             &Other=o+p&Color=RED&Unknown=ignored",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"Name":"abc","Count":3,"Enabled":true,"When":1_576_540_098,"Data":"aGk=","Ratio":2.5,
                   "Names":["a","b"],"Items":["x"],"Flat":["f1","f2"],"FlatNamed":["e1"],
                   "Tags":[{"Key":"k","Value":"v"}],"Attrs":{"ak":"av"},"KV":{"n1":"v1","n2":"v2"},
                   "Tree":{"Child":{"Label":"leaf"},"Label":"root"},"Renamed":"o p","Color":"RED"})
        );
    }

    #[test]
    fn flattened_lists_accept_the_member_name_and_the_list_name() {
        assert_eq!(echo("Name=a&FlatNamed.1=x&FlatNamed.2=y").unwrap()["FlatNamed"], json!(["x", "y"]));
        assert_eq!(echo("Name=a&Entry.1=x").unwrap()["FlatNamed"], json!(["x"]));
    }

    #[test]
    fn empty_lists_travel_as_an_empty_value() {
        assert_eq!(echo("Name=a&Names=").unwrap(), json!({"Name":"a","Names":[]}));
    }

    #[test]
    fn list_indexes_are_sorted_and_gaps_compacted_without_allocating_for_huge_indexes() {
        let v = echo("Name=a&Names.member.5=b&Names.member.1=a&Names.member.99999999999=c&Names.member.0=z&Names.member.x=q&Names.member.123456789012345678901234567890=w").unwrap();
        assert_eq!(v["Names"], json!(["a", "b", "c"]));
    }

    #[test]
    fn get_requests_read_the_query_string() {
        let (op, v) = Req::new("GET", "/?Action=Echo&Name=abc").decode(&QUERY_MODEL).unwrap();
        assert_eq!((op.name, v), ("Echo", json!({"Name":"abc"})));
    }

    #[test]
    fn missing_or_unknown_actions_are_invalid_actions() {
        let e = form("Version=1&Name=a").decode(&QUERY_MODEL).unwrap_err();
        assert_eq!(e.kind, CommonKind::UnknownOperation);
        let e = form("Action=Nope").decode(&QUERY_MODEL).unwrap_err();
        let resp = encode_error(Protocol::AwsQuery, Some(NS), &e.into(), "rid");
        assert_eq!(resp.status, 400);
        assert_eq!(
            body_text(&resp),
            format!(
                "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>InvalidAction</Code>\
                 <Message>The action Nope is not valid for this endpoint.</Message></Error><RequestId>rid</RequestId></ErrorResponse>"
            )
        );
    }

    #[test]
    fn missing_required_members_are_missing_parameters_named_by_wire_key() {
        for (params, key) in
            [("Count=1", "Name"), ("Name=", "Name"), ("Name=a&Tags.member.1.Value=v", "Tags.member.1.Key")]
        {
            let e = echo(params).unwrap_err();
            assert_eq!(e.kind, CommonKind::MissingParameter);
            assert_eq!(e.message, format!("The parameter {key} is required."));
        }
    }

    #[test]
    fn constraint_violations_are_validation_errors() {
        let e = echo("Name=toolongname&Count=0&Secret=").unwrap_err();
        assert_eq!(e.kind, CommonKind::Validation);
        assert_eq!(
            e.message,
            "3 validation errors detected: Value 'toolongname' at 'name' failed to satisfy constraint: Member must have length less than or equal to 8; \
             Value '0' at 'count' failed to satisfy constraint: Member must have value greater than or equal to 1; \
             Value at 'secret' failed to satisfy constraint: Member must have length greater than or equal to 1"
        );
        let resp = encode_error(Protocol::AwsQuery, Some(NS), &e.into(), "rid");
        assert!(body_text(&resp).contains("<Code>ValidationError</Code>"));
    }

    #[test]
    fn malformed_values_are_serialization_errors() {
        for params in [
            "Name=a&Count=abc",
            "Name=a&Enabled=yes",
            "Name=a&When=yesterday",
            "Name=a&Data=***",
            "Name=%zz",
            "Name=%C3%28",
            "Name=a&Names=x",
        ] {
            let e = echo(params).unwrap_err();
            assert_eq!(e.kind, CommonKind::Serialization, "{params}");
        }
        assert_eq!(echo("Name=a&Count=abc").unwrap_err().message, "Value (abc) for parameter Count is invalid.");
        let deep = format!("Name=a&Tree.{}Label=x", "Child.".repeat(100));
        assert_eq!(echo(&deep).unwrap_err().message, "The input is nested too deeply.");
    }

    #[test]
    fn query_responses_wrap_members_in_the_result_element() {
        let op = QUERY_MODEL.operation("DoThing").unwrap();
        let out = json!({"Id":"i-1","Name":"a&b","Count":3,"Enabled":false,"When":1_576_540_098,"WhenEpoch":1_576_540_098.5,
                         "Data":"aGk=","Ratio":1.5,"Names":["x","y"],"Items":["i1"],"Flat":["f1","f2"],"FlatNamed":["e1"],
                         "Tags":[{"Key":"k","Value":"v"}],"Attrs":{"a":"1"},"KV":{"n":"v"},"Tree":{"Child":{"Label":"leaf"}},
                         "Renamed":"o"});
        let resp = encode_response(&QUERY_MODEL, op, &out, "rid");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("Content-Type"), Some("text/xml"));
        assert_eq!(resp.header("x-amzn-RequestId"), Some("rid"));
        assert_eq!(
            body_text(&resp),
            format!(
                "<DoThingResponse xmlns=\"{NS}\"><DoThingResult id=\"i-1\"><Name>a&amp;b</Name><Count>3</Count>\
                 <Enabled>false</Enabled><When>2019-12-16T23:48:18Z</When><WhenEpoch>1576540098.5</WhenEpoch>\
                 <Data>aGk=</Data><Ratio>1.5</Ratio><Names><member>x</member><member>y</member></Names>\
                 <Items><item>i1</item></Items><Flat>f1</Flat><Flat>f2</Flat><Entry>e1</Entry>\
                 <Tags><member><Key>k</Key><Value>v</Value></member></Tags>\
                 <Attrs><entry><key>a</key><value>1</value></entry></Attrs><KV><Name>n</Name><Value>v</Value></KV>\
                 <Tree><Child><Label>leaf</Label></Child></Tree><Other>o</Other></DoThingResult>\
                 <ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DoThingResponse>"
            )
        );
    }

    #[test]
    fn query_operations_without_output_have_no_result_element() {
        let op = QUERY_MODEL.operation("NoOutput").unwrap();
        let resp = encode_response(&QUERY_MODEL, op, &json!({}), "rid");
        assert_eq!(
            body_text(&resp),
            format!("<NoOutputResponse xmlns=\"{NS}\"><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></NoOutputResponse>")
        );
    }

    #[test]
    fn query_errors_carry_type_code_message_and_modeled_fields() {
        let mut fields = Map::new();
        fields.insert("Resource".into(), json!("r"));
        fields.insert("At".into(), json!(1_576_540_098));
        let f = ServiceFailure::Modeled(ModeledError {
            code: "ResourceNotFound",
            status: 404,
            sender_fault: true,
            message: Some("gone".into()),
            fields,
        });
        let resp = encode_service_error(&QUERY_MODEL, &f, "rid");
        assert_eq!(resp.status, 404);
        assert_eq!(resp.header("x-amzn-RequestId"), Some("rid"));
        assert_eq!(
            body_text(&resp),
            format!(
                "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>ResourceNotFound</Code><Message>gone</Message>\
                 <Resource>r</Resource><At>2019-12-16T23:48:18Z</At></Error><RequestId>rid</RequestId></ErrorResponse>"
            )
        );
        let resp = encode_error(Protocol::AwsQuery, None, &CommonError::internal("x").into(), "rid");
        assert_eq!(resp.status, 500);
        assert_eq!(
            body_text(&resp),
            "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>An internal error occurred.</Message>\
             </Error><RequestId>rid</RequestId></ErrorResponse>"
        );
    }

    #[test]
    fn ec2_decodes_flattened_lists_query_names_and_capitalised_location_names() {
        let v = ec2(
            "DryRun=true&ImageId.1=ami-1&ImageId.2=ami-2&Filter.1.Name=state&Filter.1.Value.1=available\
             &Filter.1.Value.2=pending&OwnerAlias=self&MaxResults=5&InstanceId=i-1&X-Amz-Signature=abc&AWSAccessKeyId=AK",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"DryRun":true,"ImageIds":["ami-1","ami-2"],"Filters":[{"Name":"state","Values":["available","pending"]}],
                   "Owner":"self","MaxResults":5,"InstanceId":"i-1"})
        );
    }

    #[test]
    fn ec2_rejects_unknown_parameters_naming_the_unknown_segment() {
        for (params, name) in [
            ("InstanceId=i&Bogus=1", "Bogus"),
            ("InstanceId=i&Filter.1.Bogus=1", "Bogus"),
            ("InstanceId=i&ImageId.member.1=x", "member"),
            ("InstanceId=i&Owner=self", "Owner"),
        ] {
            let e = ec2(params).unwrap_err();
            assert_eq!(
                (e.kind, e.message),
                (CommonKind::UnknownParameter, format!("The parameter {name} is not recognized"))
            );
        }
        let e = form("Action=RebootThing&InstanceId=i&Extra=1").decode(&EC2_MODEL).unwrap_err();
        assert_eq!(e.message, "The parameter Extra is not recognized");
    }

    #[test]
    fn ec2_missing_and_invalid_parameters_use_ec2_codes() {
        let e = ec2("DryRun=false").unwrap_err();
        assert_eq!(
            (e.kind, e.message.as_str()),
            (CommonKind::MissingParameter, "The request must contain the parameter InstanceId")
        );
        let e = ec2("InstanceId=i&MaxResults=abc").unwrap_err();
        assert_eq!(e.message, "Value (abc) for parameter MaxResults is invalid.");
        let resp = encode_error(Protocol::Ec2Query, None, &e.into(), "rid");
        assert_eq!(resp.status, 400);
        assert!(body_text(&resp).contains("<Code>InvalidParameterValue</Code>"));
        let e = ec2("InstanceId=i&MaxResults=50").unwrap_err();
        assert_eq!(e.kind, CommonKind::Validation);
    }

    #[test]
    fn ec2_responses_have_request_id_first_and_item_wrapped_lists() {
        let op = EC2_MODEL.operation("DescribeThings").unwrap();
        let out = json!({"Images":[{"ImageId":"ami-1","Public":true,"CreationDate":1_576_540_098,"Tags":[{"Key":"k","Value":"v"}]}],"NextToken":"t"});
        let resp = encode_response(&EC2_MODEL, op, &out, "rid");
        assert_eq!(
            body_text(&resp),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeThingsResponse xmlns=\"http://ec2.amazonaws.com/doc/2020-01-08/\">\
             <requestId>rid</requestId><imagesSet><item><imageId>ami-1</imageId><isPublic>true</isPublic>\
             <creationDate>2019-12-16T23:48:18Z</creationDate><tagSet><item><key>k</key><value>v</value></item></tagSet></item>\
             </imagesSet><nextToken>t</nextToken></DescribeThingsResponse>"
        );
        let op = EC2_MODEL.operation("RebootThing").unwrap();
        let resp = encode_response(&EC2_MODEL, op, &json!({}), "rid");
        assert_eq!(
            body_text(&resp),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<RebootThingResponse xmlns=\"http://ec2.amazonaws.com/doc/2020-01-08/\">\
             <requestId>rid</requestId><return>true</return></RebootThingResponse>"
        );
    }

    #[test]
    fn ec2_errors_use_the_response_errors_envelope() {
        let e = ec2("InstanceId=i&Bogus=1").unwrap_err();
        let resp = encode_error(Protocol::Ec2Query, None, &e.into(), "rid");
        assert_eq!(resp.status, 400);
        assert_eq!(
            body_text(&resp),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>UnknownParameter</Code>\
             <Message>The parameter Bogus is not recognized</Message></Error></Errors><RequestID>rid</RequestID></Response>"
        );
        let resp = encode_error(
            Protocol::Ec2Query,
            None,
            &CommonError::new(CommonKind::SignatureDoesNotMatch, "x").into(),
            "rid",
        );
        assert_eq!(resp.status, 401);
        assert!(body_text(&resp).contains("<Code>AuthFailure</Code>"));
    }

    // Ported from smithy-aws-protocol-tests awsQuery/input-lists.smithy, input-maps.smithy and
    // ec2Query/input-lists.smithy (request bodies and expected parameters).
    const GREETING: [Member; 1] = [tm::m("hi", 0)];
    const LISTS: [Member; 5] = [
        tm::m("ListArg", 1),
        tm::m("ComplexListArg", 3),
        Member { flattened: true, ..tm::m("FlattenedListArg", 1) },
        tm::m("ListArgWithXmlNameMember", 4),
        Member { flattened: true, ..tm::named("FlattenedListArgWithXmlName", 4, "Hi") },
    ];
    const MAPS: [Member; 5] = [
        tm::m("MapArg", 5),
        tm::named("RenamedMapArg", 5, "Foo"),
        tm::m("ComplexMapArg", 6),
        Member { flattened: true, ..tm::m("FlattenedMap", 5) },
        Member { flattened: true, ..tm::named("FlattenedMapWithXmlName", 7, "Hi") },
    ];
    const EC2_LISTS: [Member; 3] =
        [tm::m("ListArg", 1), tm::m("ComplexListArg", 3), tm::named("ListArgWithXmlName", 4, "Hi")];
    static SMITHY_SHAPES: [Shape; 11] = [
        tm::sh("String", tm::string()),
        tm::sh("StringList", tm::list(0)),
        tm::sh("GreetingStruct", tm::st(&GREETING)),
        tm::sh("GreetingList", tm::list(2)),
        tm::sh("ListWithXmlName", tm::list_named(0, "item")),
        tm::sh("StringMap", tm::map(0, 0)),
        tm::sh("ComplexMap", tm::map(0, 2)),
        tm::sh(
            "MapWithXmlName",
            ShapeKind::Map {
                key: 0,
                value: 0,
                key_name: Some("K"),
                value_name: Some("V"),
                flattened: false,
                min: None,
                max: None,
            },
        ),
        tm::sh("QueryListsInput", tm::st(&LISTS)),
        tm::sh("QueryMapsInput", tm::st(&MAPS)),
        tm::sh("Ec2QueryListsInput", tm::st(&EC2_LISTS)),
    ];
    static SMITHY_QUERY_OPS: [OperationModel; 2] =
        [tm::op("QueryLists", Some(8), None), tm::op("QueryMaps", Some(9), None)];
    static SMITHY_EC2_OPS: [OperationModel; 1] = [tm::op("QueryLists", Some(10), None)];
    static SMITHY_QUERY: ServiceModel =
        ServiceModel { shapes: &SMITHY_SHAPES, ..tm::model("query", Protocol::AwsQuery, &SMITHY_QUERY_OPS) };
    static SMITHY_EC2: ServiceModel =
        ServiceModel { shapes: &SMITHY_SHAPES, ..tm::model("ec2", Protocol::Ec2Query, &SMITHY_EC2_OPS) };

    fn smithy(model: &'static ServiceModel, body: &str) -> Value {
        form(body).decode(model).unwrap().1
    }

    #[test]
    fn smithy_query_lists() {
        let v = smithy(
            &SMITHY_QUERY,
            "Action=QueryLists&Version=2020-01-08&ListArg.member.1=foo&ListArg.member.2=bar&ListArg.member.3=baz\
             &ComplexListArg.member.1.hi=hello&ComplexListArg.member.2.hi=hola",
        );
        assert_eq!(v, json!({"ListArg":["foo","bar","baz"],"ComplexListArg":[{"hi":"hello"},{"hi":"hola"}]}));
        let v = smithy(&SMITHY_QUERY, "Action=QueryLists&Version=2020-01-08&FlattenedListArg.1=A&FlattenedListArg.2=B");
        assert_eq!(v, json!({"FlattenedListArg":["A","B"]}));
        let v = smithy(
            &SMITHY_QUERY,
            "Action=QueryLists&Version=2020-01-08&ListArgWithXmlNameMember.item.1=A&ListArgWithXmlNameMember.item.2=B",
        );
        assert_eq!(v, json!({"ListArgWithXmlNameMember":["A","B"]}));
        let v = smithy(&SMITHY_QUERY, "Action=QueryLists&Version=2020-01-08&Hi.1=A&Hi.2=B");
        assert_eq!(v, json!({"FlattenedListArgWithXmlName":["A","B"]}));
    }

    #[test]
    fn smithy_query_maps() {
        let v = smithy(
            &SMITHY_QUERY,
            "Action=QueryMaps&Version=2020-01-08&MapArg.entry.1.key=foo&MapArg.entry.1.value=Foo&MapArg.entry.2.key=bar&MapArg.entry.2.value=Bar",
        );
        assert_eq!(v, json!({"MapArg":{"foo":"Foo","bar":"Bar"}}));
        let v = smithy(&SMITHY_QUERY, "Action=QueryMaps&Version=2020-01-08&Foo.entry.1.key=foo&Foo.entry.1.value=Foo");
        assert_eq!(v, json!({"RenamedMapArg":{"foo":"Foo"}}));
        let v = smithy(
            &SMITHY_QUERY,
            "Action=QueryMaps&Version=2020-01-08&ComplexMapArg.entry.1.key=foo&ComplexMapArg.entry.1.value.hi=Foo\
             &ComplexMapArg.entry.2.key=bar&ComplexMapArg.entry.2.value.hi=Bar",
        );
        assert_eq!(v, json!({"ComplexMapArg":{"foo":{"hi":"Foo"},"bar":{"hi":"Bar"}}}));
        let v = smithy(&SMITHY_QUERY, "Action=QueryMaps&Version=2020-01-08&FlattenedMap.1.key=foo&FlattenedMap.1.value=Foo&FlattenedMap.2.key=bar&FlattenedMap.2.value=Bar");
        assert_eq!(v, json!({"FlattenedMap":{"foo":"Foo","bar":"Bar"}}));
        let v =
            smithy(&SMITHY_QUERY, "Action=QueryMaps&Version=2020-01-08&Hi.1.K=foo&Hi.1.V=Foo&Hi.2.K=bar&Hi.2.V=Bar");
        assert_eq!(v, json!({"FlattenedMapWithXmlName":{"foo":"Foo","bar":"Bar"}}));
        let v = smithy(&SMITHY_QUERY, "Action=QueryMaps&Version=2020-01-08");
        assert_eq!(v, json!({}));
    }

    #[test]
    fn smithy_ec2_lists() {
        let v = smithy(
            &SMITHY_EC2,
            "Action=QueryLists&Version=2020-01-08&ListArg.1=foo&ListArg.2=bar&ListArg.3=baz&ComplexListArg.1.Hi=hello&ComplexListArg.2.Hi=hola",
        );
        assert_eq!(v, json!({"ListArg":["foo","bar","baz"],"ComplexListArg":[{"hi":"hello"},{"hi":"hola"}]}));
        let v = smithy(&SMITHY_EC2, "Action=QueryLists&Version=2020-01-08&Hi.1=A&Hi.2=B");
        assert_eq!(v, json!({"ListArgWithXmlName":["A","B"]}));
        assert_eq!(smithy(&SMITHY_EC2, "Action=QueryLists&Version=2020-01-08"), json!({}));
    }

    #[test]
    fn location_annotations_do_not_matter_to_query_protocols() {
        // Query members never carry HTTP locations; a stray one is treated as a body member.
        assert_eq!(tm::m("x", 0).location, Location::Body);
    }
}
