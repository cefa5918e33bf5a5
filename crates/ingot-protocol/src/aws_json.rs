//! awsJson 1.0 / 1.1: `POST /` with `X-Amz-Target: <prefix>.<Operation>` and a JSON body.

use ingot_core::model::{OperationModel, Protocol, ServiceModel};
use ingot_core::{CommonError, OperationOutput};
use serde_json::{Map, Value};

use crate::json::{self, Members};
use crate::{validate, HttpRequest, HttpResponse, X_AMZ_TARGET};

pub fn content_type(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::AwsJson1_0 => "application/x-amz-json-1.0",
        _ => "application/x-amz-json-1.1",
    }
}

pub fn decode(
    model: &'static ServiceModel,
    req: &HttpRequest,
) -> Result<(&'static OperationModel, Value), CommonError> {
    let target = req.headers.get(X_AMZ_TARGET).and_then(|v| v.to_str().ok()).unwrap_or_default().trim();
    let (prefix, name) = target.rsplit_once('.').unwrap_or(("", target));
    if name.is_empty() {
        return Err(CommonError::new(
            ingot_core::CommonKind::UnknownOperation,
            "Missing or malformed X-Amz-Target header.",
        ));
    }
    if model.target_prefix.is_some_and(|p| p != prefix) {
        return Err(CommonError::unknown_operation(name));
    }
    let op = model.operation(name).ok_or_else(|| CommonError::unknown_operation(name))?;
    if !req.method.eq_ignore_ascii_case("POST") {
        return Err(CommonError::unknown_operation(name));
    }
    // An operation without input ignores whatever body it is sent.
    let Some(input) = op.input else {
        return Ok((op, Value::Object(Map::new())));
    };
    let body = json::parse_body(req.body)?;
    let value = Value::Object(json::decode_struct(model, input, body, Members::All, 0)?);
    validate::validate(model, input, &value)?;
    Ok((op, value))
}

pub fn encode_response(
    model: &'static ServiceModel,
    op: &'static OperationModel,
    output: &Value,
    request_id: &str,
) -> HttpResponse {
    let body = match (op.output, output) {
        (Some(shape), Value::Object(_)) => json::encode(model, shape, output),
        _ => "{}".to_string(),
    };
    success(model, body.into_bytes(), request_id)
}

fn success(model: &ServiceModel, body: Vec<u8>, request_id: &str) -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![
            ("Content-Type".into(), content_type(model.protocol).into()),
            ("x-amzn-RequestId".into(), request_id.to_string().into()),
        ],
        body,
    }
}

/// The success response written straight from the typed output, or `None` when `op`'s output is
/// not one whose canonical JSON is its wire form.
pub fn encode_typed_response(
    model: &'static ServiceModel,
    op: &'static OperationModel,
    output: &dyn OperationOutput,
    request_id: &str,
) -> Result<Option<HttpResponse>, CommonError> {
    if !canonical_json_is_wire(op) {
        return Ok(None);
    }
    // Most responses fit: no regrowth while writing.
    let mut body = Vec::with_capacity(1024);
    output.write_json(&mut body)?;
    Ok(Some(success(model, body, request_id)))
}

/// Whether serde's JSON of `op`'s output (the canonical value, written as it is) is exactly what
/// [`encode_response`] writes for it: the generated [`OperationModel::canonical_json_is_wire`],
/// decided by `cargo xtask codegen` from the model.
pub fn canonical_json_is_wire(op: &OperationModel) -> bool {
    op.canonical_json_is_wire
}

#[cfg(test)]
mod tests {
    use ingot_core::{CommonError, CommonKind, ModeledError, ServiceFailure};
    use serde_json::json;

    use crate::test_support::{body_text, json_req, Req};
    use crate::testmodels::{JSON10_MODEL, JSON_MODEL};
    use crate::{encode_error, encode_response, encode_service_error};
    use ingot_core::model::Protocol;

    fn decode_ok(body: &str) -> serde_json::Value {
        json_req("KitchenSink", body).decode(&JSON_MODEL).unwrap().1
    }

    fn decode_err(body: &str) -> CommonError {
        json_req("KitchenSink", body).decode(&JSON_MODEL).unwrap_err()
    }

    #[test]
    fn decodes_every_shape_kind_into_the_canonical_value() {
        let v = decode_ok(
            r#"{"Name":"abc","Color":"RED","Count":3,"Big":5000000000,"Ratio":1.5,"Weight":2.25,"Enabled":true,
               "When":1576540098.5,"WhenIso":"2019-12-16T23:48:18Z","WhenHttp":"Mon, 16 Dec 2019 23:48:18 GMT",
               "Data":"aGk","Doc":{"any":[1,"x",null]},"Names":["a","b"],"Tags":[{"Key":"k","Value":"v"}],
               "Attrs":{"x":"y"},"Secret":"s3cr3t","Tree":{"Child":{"Label":"leaf"},"Label":"root"},
               "renamed_wire":"r","Colors":["GREEN"],"Stamps":[1,2.5],"Unknown":{"ignored":true}}"#,
        );
        assert_eq!(
            v,
            json!({"Name":"abc","Color":"RED","Count":3,"Big":5_000_000_000_i64,"Ratio":1.5,"Weight":2.25,"Enabled":true,
                   "When":1_576_540_098.5,"WhenIso":1_576_540_098,"WhenHttp":1_576_540_098,
                   "Data":"aGk=","Doc":{"any":[1,"x",null]},"Names":["a","b"],"Tags":[{"Key":"k","Value":"v"}],
                   "Attrs":{"x":"y"},"Secret":"s3cr3t","Tree":{"Child":{"Label":"leaf"},"Label":"root"},
                   "Renamed":"r","Colors":["GREEN"],"Stamps":[1,2.5]})
        );
    }

    #[test]
    fn nulls_count_as_absent_members_and_are_dropped_from_lists() {
        let v = decode_ok(r#"{"Name":"abc","Color":null,"Names":["a",null]}"#);
        assert_eq!(v, json!({"Name":"abc","Names":["a"]}));
    }

    #[test]
    fn an_empty_body_is_an_empty_input() {
        let (op, v) = json_req("Empty", "").decode(&JSON_MODEL).unwrap();
        assert_eq!(op.name, "Empty");
        assert_eq!(v, json!({}));
    }

    #[test]
    fn missing_required_members_are_validation_errors() {
        let e = decode_err("{}");
        assert_eq!(e.kind, CommonKind::Validation);
        assert_eq!(
            e.message,
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn every_violation_is_listed_in_model_order() {
        let e = decode_err(
            r#"{"Name":"TOOLONGNAME!","Color":"PINK","Count":11,"Tags":[{"Value":"v"},{"Key":""}],"Secret":"",
               "Names":["a","b","c","d"],"Weight":0.1,"Data":"aGVsbG8="}"#,
        );
        assert_eq!(e.kind, CommonKind::Validation);
        let expected = [
            "Value 'TOOLONGNAME!' at 'name' failed to satisfy constraint: Member must have length less than or equal to 8",
            "Value 'TOOLONGNAME!' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z0-9/]+",
            "Value 'PINK' at 'color' failed to satisfy constraint: Member must satisfy enum value set: [RED, GREEN, BLUE]",
            "Value '11' at 'count' failed to satisfy constraint: Member must have value less than or equal to 10",
            "Value '0.1' at 'weight' failed to satisfy constraint: Member must have value greater than or equal to 0.5",
            "Value 'aGVsbG8=' at 'data' failed to satisfy constraint: Member must have length less than or equal to 4",
            "Value '[a, b, c, d]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 3",
            "Value null at 'tags.1.member.key' failed to satisfy constraint: Member must not be null",
            "Value '' at 'tags.2.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1",
            "Value '' at 'tags.2.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z0-9/]+",
            "Value at 'secret' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ];
        assert_eq!(e.message, format!("11 validation errors detected: {}", expected.join("; ")));
    }

    #[test]
    fn wrong_types_are_serialization_errors() {
        for (body, msg) in [
            (r#"{"Name":5}"#, "NUMBER_VALUE can not be converted to String"),
            (r#"{"Name":{}}"#, "Start of structure or map found where not expected."),
            (r#"{"Names":"a"}"#, "STRING_VALUE can not be converted to a list"),
            (r#"{"Count":"3"}"#, "STRING_VALUE can not be converted to Integer"),
            (r#"{"Count":2147483648}"#, "NUMBER_VALUE can not be converted to Integer"),
            (r#"{"Count":1.5}"#, "NUMBER_VALUE can not be converted to Integer"),
            (r#"{"Enabled":"true"}"#, "STRING_VALUE can not be converted to Boolean"),
            (r#"{"Tree":[]}"#, "Start of list found where not expected"),
            (r#"{"Data":"!!!"}"#, "Base64 encoded binary data is not valid."),
            (r#"{"When":"yesterday"}"#, "\"yesterday\" is not a valid timestamp"),
            (r#"{"When":1e300}"#, "1e+300 is not a valid timestamp"),
        ] {
            let e = decode_err(body);
            assert_eq!((e.kind, e.message.as_str()), (CommonKind::Serialization, msg), "{body}");
        }
    }

    #[test]
    fn malformed_bodies_are_serialization_errors() {
        for body in [&b"{"[..], b"[]", b"\"x\"", b"{\"Name\":\"\xff\"}", b"\xfe\xff"] {
            let e = json_req("KitchenSink", "").body(body).decode(&JSON_MODEL).unwrap_err();
            assert_eq!(e.kind, CommonKind::Serialization);
        }
        let deep = format!("{}{}", "{\"Tree\":".repeat(200), "}".repeat(200));
        assert_eq!(decode_err(&deep).kind, CommonKind::Serialization);
    }

    #[test]
    fn deeply_nested_recursive_structures_decode_until_the_limit() {
        let nested = format!("{{\"Name\":\"a\",\"Tree\":{}{{}}{}}}", "{\"Child\":".repeat(20), "}".repeat(20));
        json_req("KitchenSink", &nested).decode(&JSON_MODEL).unwrap();
    }

    #[test]
    fn unknown_operations_and_targets_are_rejected() {
        let cases = [
            Req::new("POST", "/").body("{}"),
            json_req("Nope", "{}"),
            Req::new("POST", "/").header("X-Amz-Target", "Other.KitchenSink").body("{}"),
            Req::new("GET", "/").header("X-Amz-Target", "TestService.Empty"),
        ];
        for r in cases {
            assert_eq!(r.decode(&JSON_MODEL).unwrap_err().kind, CommonKind::UnknownOperation);
        }
        let e = json_req("Nope", "{}").decode(&JSON_MODEL).unwrap_err();
        assert_eq!(e.message, "The action Nope is not valid for this endpoint.");
    }

    #[test]
    fn operations_without_input_ignore_the_body() {
        let (op, v) = json_req("NoInputOutput", "not json").decode(&JSON_MODEL).unwrap();
        assert_eq!(op.name, "NoInputOutput");
        assert_eq!(v, json!({}));
    }

    #[test]
    fn responses_follow_model_order_and_timestamp_formats() {
        let op = JSON_MODEL.operation("KitchenSink").unwrap();
        let out = json!({"Renamed":"r","Tags":[{"Value":"v","Key":"k"}],"WhenHttp":1_576_540_098,"WhenIso":1_576_540_098,
                         "When":1_576_540_098.5,"Name":"abc","Doc":{"a":[2]},"Stamps":[1],"Extra":"dropped"});
        let resp = encode_response(&JSON_MODEL, op, &out, "rid-1");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("Content-Type"), Some("application/x-amz-json-1.1"));
        assert_eq!(resp.header("x-amzn-RequestId"), Some("rid-1"));
        assert_eq!(
            body_text(&resp),
            r#"{"Name":"abc","When":1576540098.5,"WhenIso":"2019-12-16T23:48:18Z","WhenHttp":"Mon, 16 Dec 2019 23:48:18 GMT","Doc":{"a":[2]},"Tags":[{"Key":"k","Value":"v"}],"renamed_wire":"r","Stamps":[1]}"#
        );
    }

    #[test]
    fn operations_without_output_answer_an_empty_object_in_their_json_version() {
        let op = JSON10_MODEL.operation("NoInputOutput").unwrap();
        let resp = encode_response(&JSON10_MODEL, op, &json!(null), "rid");
        assert_eq!(resp.header("Content-Type"), Some("application/x-amz-json-1.0"));
        assert_eq!(body_text(&resp), "{}");
    }

    #[test]
    fn common_errors_carry_type_header_and_message() {
        let f = ServiceFailure::Common(CommonError::validation("bad \"input\""));
        let resp = encode_error(Protocol::AwsJson1_1, None, &f, "rid");
        assert_eq!(resp.status, 400);
        assert_eq!(resp.header("X-Amzn-Errortype"), Some("ValidationException"));
        assert_eq!(resp.header("x-amzn-RequestId"), Some("rid"));
        assert_eq!(resp.header("Content-Type"), Some("application/x-amz-json-1.1"));
        assert_eq!(body_text(&resp), r#"{"__type":"ValidationException","message":"bad \"input\""}"#);
        let resp = encode_error(Protocol::AwsJson1_0, None, &CommonError::internal("boom").into(), "rid");
        assert_eq!(resp.status, 500);
        assert_eq!(body_text(&resp), r#"{"__type":"InternalFailure","message":"An internal error occurred."}"#);
    }

    fn modeled(code: &'static str, status: u16) -> ModeledError {
        let mut fields = serde_json::Map::new();
        fields.insert("At".into(), json!(1_576_540_098));
        fields.insert("Reason".into(), json!("r"));
        ModeledError { code, status, sender_fault: true, message: Some("nope".into()), fields }
    }

    #[test]
    fn modeled_errors_use_the_message_casing_of_their_shape() {
        let f = ServiceFailure::Modeled(modeled("InvalidThing", 400));
        let resp = encode_service_error(&JSON_MODEL, &f, "rid");
        assert_eq!(resp.header("X-Amzn-Errortype"), Some("InvalidThing"));
        assert_eq!(body_text(&resp), r#"{"__type":"InvalidThing","Message":"nope","Reason":"r","At":1576540098}"#);

        let mut lower = modeled("ThingInUse", 409);
        lower.fields.clear();
        let resp = encode_service_error(&JSON_MODEL, &ServiceFailure::Modeled(lower), "rid");
        assert_eq!(resp.status, 409);
        assert_eq!(body_text(&resp), r#"{"__type":"ThingInUse","message":"nope"}"#);
    }

    #[test]
    fn a_message_key_among_the_fields_sets_the_casing_without_the_model() {
        let mut fields = serde_json::Map::new();
        fields.insert("Message".into(), json!("from field"));
        let f =
            ServiceFailure::Modeled(ModeledError { code: "X", status: 400, sender_fault: true, message: None, fields });
        let resp = encode_error(Protocol::AwsJson1_1, None, &f, "rid");
        assert_eq!(body_text(&resp), r#"{"__type":"X","Message":"from field"}"#);
    }

    #[test]
    fn modeled_errors_without_the_model_write_fields_by_canonical_key() {
        let f = ServiceFailure::Modeled(modeled("InvalidThing", 400));
        let resp = encode_error(Protocol::AwsJson1_1, None, &f, "rid");
        assert_eq!(body_text(&resp), r#"{"__type":"InvalidThing","message":"nope","At":1576540098,"Reason":"r"}"#);
    }
}

#[cfg(test)]
mod typed_output_tests {
    use super::{canonical_json_is_wire, encode_typed_response};
    use crate::shapes;
    use crate::testmodels::{
        list, m, map, model, op, sh, st, string, EC2_MODEL, JSON10_MODEL, JSON_MODEL, QUERY_MODEL, REST_MODEL,
    };
    use crate::{encode_output, encode_response};
    use ingot_core::model::{
        Member, OperationModel, Protocol, ServiceModel, Shape, ShapeId, ShapeKind, TimestampFormat,
    };
    use ingot_core::{OperationOutput, Timestamp};
    use std::collections::BTreeMap;

    const OUT: ShapeId = 0;
    const STR: ShapeId = 1;
    const LONG: ShapeId = 2;
    const WHEN: ShapeId = 3;
    const ITEM: ShapeId = 4;
    const ITEMS: ShapeId = 5;
    const ATTRS: ShapeId = 6;
    const DOUBLE: ShapeId = 7;
    const BOOL: ShapeId = 8;
    const RENAMED: ShapeId = 9;
    const ISO_MEMBER: ShapeId = 10;
    const FLOAT: ShapeId = 11;
    const NODE: ShapeId = 12;
    const NODES: ShapeId = 13;
    const F32: ShapeId = 14;

    static SHAPES: [Shape; 15] = [
        sh(
            "Out",
            st(&[
                m("Name", STR),
                m("Version", LONG),
                m("When", WHEN),
                m("Items", ITEMS),
                m("Attrs", ATTRS),
                m("Ratio", DOUBLE),
                m("Enabled", BOOL),
                m("Tree", NODE),
            ]),
        ),
        sh("Str", string()),
        sh("Long", ShapeKind::Long { min: None, max: None }),
        sh("When", ShapeKind::Timestamp { format: None }),
        sh("Item", st(&[m("Key", STR), m("At", WHEN)])),
        sh("Items", list(ITEM)),
        sh("Attrs", map(STR, STR)),
        sh("Double", ShapeKind::Double { min: None, max: None }),
        sh("Bool", ShapeKind::Boolean),
        sh("Renamed", st(&[Member { location_name: Some("wire"), ..m("Name", STR) }])),
        sh("IsoMember", st(&[Member { timestamp_format: Some(TimestampFormat::Iso8601), ..m("When", WHEN) }])),
        sh("Float", st(&[m("F", F32)])),
        // A recursive shape: a node whose children are nodes.
        sh("Node", st(&[m("Label", STR), m("Children", NODES)])),
        sh("Nodes", list(NODE)),
        sh("F32", ShapeKind::Float { min: None, max: None }),
    ];

    static OPS: [OperationModel; 4] = [
        OperationModel { canonical_json_is_wire: true, ..op("Plain", None, Some(OUT)) },
        op("Renamed", None, Some(RENAMED)),
        op("IsoMember", None, Some(ISO_MEMBER)),
        op("Float", None, Some(FLOAT)),
    ];

    static MODEL: ServiceModel = ServiceModel { shapes: &SHAPES, ..model("typed", Protocol::AwsJson1_1, &OPS) };

    #[derive(serde::Serialize)]
    struct Out {
        #[serde(rename = "Name", skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(rename = "Version", skip_serializing_if = "Option::is_none")]
        version: Option<i64>,
        #[serde(rename = "When", skip_serializing_if = "Option::is_none")]
        when: Option<Timestamp>,
        #[serde(rename = "Items", skip_serializing_if = "Option::is_none")]
        items: Option<Vec<Item>>,
        #[serde(rename = "Attrs", skip_serializing_if = "Option::is_none")]
        attrs: Option<BTreeMap<String, String>>,
        #[serde(rename = "Ratio", skip_serializing_if = "Option::is_none")]
        ratio: Option<f64>,
        #[serde(rename = "Enabled", skip_serializing_if = "Option::is_none")]
        enabled: Option<bool>,
        #[serde(rename = "Tree", skip_serializing_if = "Option::is_none")]
        tree: Option<Node>,
    }

    #[derive(serde::Serialize)]
    struct Item {
        #[serde(rename = "Key")]
        key: String,
        #[serde(rename = "At", skip_serializing_if = "Option::is_none")]
        at: Option<Timestamp>,
    }

    #[derive(serde::Serialize)]
    struct Node {
        #[serde(rename = "Label")]
        label: String,
        #[serde(rename = "Children")]
        children: Vec<Node>,
    }

    /// The rule `canonical_json_is_wire` was decided by at run time before `cargo xtask codegen`
    /// wrote it into the model: the oracle for the hand-written models' constants.
    fn walked_canonical_json_is_wire(model: &ServiceModel, op: &OperationModel) -> bool {
        fn written_as_canonical(
            model: &ServiceModel,
            shape: ShapeId,
            member: Option<&Member>,
            seen: &mut Vec<ShapeId>,
        ) -> bool {
            match &model.shape(shape).kind {
                ShapeKind::Structure { document: true, .. } | ShapeKind::Float { .. } => false,
                ShapeKind::Timestamp { .. } => {
                    shapes::timestamp_format(model, member, shape, TimestampFormat::EpochSeconds)
                        == TimestampFormat::EpochSeconds
                }
                // A shape met again on the way down is being decided further up.
                _ if seen.contains(&shape) => true,
                ShapeKind::Structure { members, .. } => {
                    seen.push(shape);
                    members.iter().all(|m| {
                        m.location_name.is_none_or(|name| name == m.name)
                            && written_as_canonical(model, m.target, Some(m), seen)
                    })
                }
                ShapeKind::List { member: item, .. } => {
                    seen.push(shape);
                    written_as_canonical(model, *item, None, seen)
                }
                ShapeKind::Map { value, .. } => {
                    seen.push(shape);
                    written_as_canonical(model, *value, None, seen)
                }
                _ => true,
            }
        }
        op.output.is_some_and(|shape| written_as_canonical(model, shape, None, &mut Vec::new()))
    }

    #[test]
    fn the_hand_written_models_state_what_the_rule_decides() {
        let mut wrong = Vec::new();
        for model in [&MODEL, &JSON_MODEL, &JSON10_MODEL, &REST_MODEL, &QUERY_MODEL, &EC2_MODEL] {
            for op in model.operations {
                let decided = walked_canonical_json_is_wire(model, op);
                if op.canonical_json_is_wire != decided {
                    wrong.push(format!("{} {}: the rule decides {decided}", model.id, op.name));
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    fn both_ways(output: &dyn OperationOutput) -> (Vec<u8>, Vec<u8>) {
        let op = &OPS[0];
        let typed = encode_output(&MODEL, op, output, None, "rid").unwrap();
        let value = encode_response(&MODEL, op, &output.to_value().unwrap(), "rid");
        assert_eq!(typed.headers, value.headers);
        (typed.body, value.body)
    }

    #[test]
    fn an_output_written_from_its_type_is_byte_for_byte_the_model_driven_response() {
        assert!(canonical_json_is_wire(&OPS[0]));
        let full = Out {
            name: Some("a \"quoted\"\n/ναμε".into()),
            version: Some(-7),
            when: Some(Timestamp::from_millis(1_732_460_000_123)),
            items: Some(vec![
                Item { key: "k1".into(), at: Some(Timestamp::from_millis(1_732_460_000_000)) },
                Item { key: "k2".into(), at: None },
            ]),
            attrs: Some([("b".to_string(), "2".to_string()), ("a".to_string(), "1".to_string())].into()),
            ratio: Some(0.1),
            enabled: Some(false),
            tree: Some(Node { label: "root".into(), children: vec![Node { label: "leaf".into(), children: vec![] }] }),
        };
        let (typed, value) = both_ways(&full);
        assert_eq!(String::from_utf8(typed).unwrap(), String::from_utf8(value).unwrap());
        let empty = Out {
            name: None,
            version: None,
            when: None,
            items: None,
            attrs: None,
            ratio: None,
            enabled: None,
            tree: None,
        };
        let (typed, value) = both_ways(&empty);
        assert_eq!((typed.as_slice(), value.as_slice()), (&b"{}"[..], &b"{}"[..]));
    }

    #[test]
    fn renamed_members_other_timestamp_formats_floats_and_documents_go_through_the_model() {
        assert!(!canonical_json_is_wire(&OPS[1]));
        assert!(!canonical_json_is_wire(&OPS[2]));
        assert!(!canonical_json_is_wire(&OPS[3]));
        // The kitchen-sink output has all of them.
        let sink = JSON_MODEL.operations.iter().find(|o| o.name == "KitchenSink").unwrap();
        assert!(!canonical_json_is_wire(sink));
        // Such outputs are not written from their type.
        let empty = Out {
            name: None,
            version: None,
            when: None,
            items: None,
            attrs: None,
            ratio: None,
            enabled: None,
            tree: None,
        };
        for op in &OPS[1..] {
            assert!(encode_typed_response(&MODEL, op, &empty, "rid").unwrap().is_none(), "{}", op.name);
        }
        assert!(encode_typed_response(&MODEL, &OPS[0], &empty, "rid").unwrap().is_some());
    }
}
