//! A botocore service model, cut down to the allowlisted operations and the shapes they reach,
//! with every trait the generated metadata carries resolved.

use crate::json::Json;
use anyhow::{bail, ensure, Context, Result};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug)]
pub struct Service {
    /// aws-sdk id (`ssm`).
    pub id: String,
    /// The model's `serviceId` (`SSM`, `EC2`), else the id: how README names the service.
    pub display_name: String,
    /// Botocore directory (`ssm`) and api-version directory (`2014-11-06`).
    pub model_dir: String,
    pub version_dir: String,
    pub signing_name: String,
    pub endpoint_prefix: String,
    /// Variant of `ingot_core::model::Protocol`.
    pub protocol: &'static str,
    pub api_version: String,
    pub target_prefix: Option<String>,
    pub xml_namespace: Option<String>,
    pub iam_prefix: String,
    /// Sorted by name.
    pub operations: Vec<Operation>,
    /// Sorted by name; the index is the `ShapeId`.
    pub shapes: Vec<Shape>,
}

#[derive(Debug)]
pub struct Operation {
    pub name: String,
    pub http_method: String,
    pub request_uri: String,
    pub success_code: u16,
    pub input: Option<usize>,
    pub output: Option<usize>,
    pub result_wrapper: Option<String>,
    pub errors: Vec<usize>,
}

#[derive(Debug)]
pub struct Shape {
    pub name: String,
    pub sensitive: bool,
    pub kind: Kind,
}

#[derive(Debug)]
pub enum Kind {
    Structure {
        members: Vec<Member>,
        payload: Option<String>,
        error: Option<ErrorTrait>,
        document: bool,
        xml_name: Option<String>,
    },
    List {
        member: usize,
        member_name: Option<String>,
        flattened: bool,
        min: Option<i64>,
        max: Option<i64>,
    },
    Map {
        key: usize,
        value: usize,
        key_name: Option<String>,
        value_name: Option<String>,
        flattened: bool,
        min: Option<i64>,
        max: Option<i64>,
    },
    String {
        enum_values: Vec<String>,
        min: Option<i64>,
        max: Option<i64>,
        pattern: Option<String>,
    },
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Long {
        min: Option<i64>,
        max: Option<i64>,
    },
    Float {
        min: Option<f64>,
        max: Option<f64>,
    },
    Double {
        min: Option<f64>,
        max: Option<f64>,
    },
    Boolean,
    Timestamp {
        format: Option<&'static str>,
    },
    Blob {
        min: Option<i64>,
        max: Option<i64>,
    },
}

#[derive(Debug, Clone)]
pub struct ErrorTrait {
    /// `error.code` when it differs from the shape name.
    pub code: Option<String>,
    pub status: u16,
    pub sender_fault: bool,
}

#[derive(Debug)]
pub struct Member {
    pub name: String,
    pub target: usize,
    pub required: bool,
    /// Variant of `ingot_core::model::Location`.
    pub location: &'static str,
    pub location_name: Option<String>,
    pub query_name: Option<String>,
    pub flattened: bool,
    pub xml_attribute: bool,
    pub xml_namespace: Option<String>,
    /// Variant of `ingot_core::model::TimestampFormat`.
    pub timestamp_format: Option<&'static str>,
    pub idempotency_token: bool,
    pub json_value: bool,
    pub host_label: bool,
}

impl Shape {
    pub fn is_enum(&self) -> bool {
        matches!(&self.kind, Kind::String { enum_values, .. } if !enum_values.is_empty())
    }

    /// A structure that becomes a Rust struct (document structures are `serde_json::Value`).
    pub fn is_struct(&self) -> bool {
        matches!(self.kind, Kind::Structure { document: false, .. })
    }

    pub fn error(&self) -> Option<&ErrorTrait> {
        match &self.kind {
            Kind::Structure { error, .. } => error.as_ref(),
            _ => None,
        }
    }

    pub fn members(&self) -> &[Member] {
        match &self.kind {
            Kind::Structure { members, .. } => members,
            _ => &[],
        }
    }
}

impl Service {
    #[cfg(test)]
    pub fn shape_id(&self, name: &str) -> Option<usize> {
        self.shapes.binary_search_by(|s| s.name.as_str().cmp(name)).ok()
    }

    /// Whether serde's JSON of `op`'s output type is exactly its awsJson wire body (see
    /// `ingot_core::model::OperationModel::canonical_json_is_wire`): no member of the output or
    /// of any shape under it is renamed, every timestamp is in epoch seconds, and none of those
    /// shapes is a `float` or a document. `false` without an output.
    pub fn canonical_json_is_wire(&self, op: &Operation) -> bool {
        op.output.is_some_and(|output| self.written_as_canonical(output, None, &mut Vec::new()))
    }

    /// Whether the values of `shape` (reached through `member`, when through one) are written on
    /// the awsJson wire as their canonical JSON. The walk follows structure members, list members
    /// and map values (keys are strings); map keys and list members have no member traits.
    fn written_as_canonical(&self, shape: usize, member: Option<&Member>, seen: &mut Vec<usize>) -> bool {
        match &self.shapes[shape].kind {
            Kind::Structure { document: true, .. } | Kind::Float { .. } => false,
            // The member's format wins over the shape's (the member's already includes the
            // target's, as botocore merges them); awsJson defaults to epoch seconds.
            Kind::Timestamp { format } => {
                member.and_then(|m| m.timestamp_format).or(*format).unwrap_or("EpochSeconds") == "EpochSeconds"
            }
            // A shape met again on the way down is being decided further up (or was decided
            // `true`: a `false` ends the walk).
            _ if seen.contains(&shape) => true,
            Kind::Structure { members, .. } => {
                seen.push(shape);
                members.iter().all(|m| {
                    m.location_name.as_deref().is_none_or(|name| name == m.name)
                        && self.written_as_canonical(m.target, Some(m), seen)
                })
            }
            Kind::List { member: item, .. } => {
                seen.push(shape);
                self.written_as_canonical(*item, None, seen)
            }
            Kind::Map { value, .. } => {
                seen.push(shape);
                self.written_as_canonical(*value, None, seen)
            }
            _ => true,
        }
    }

    /// Error shapes of all operations, by shape id.
    pub fn error_shapes(&self) -> Vec<usize> {
        let set: BTreeSet<usize> = self.operations.iter().flat_map(|op| op.errors.iter().copied()).collect();
        set.into_iter().collect()
    }
}

fn shape_refs(shape: &Json) -> Vec<&str> {
    let mut refs = Vec::new();
    if let Some(members) = shape.get("members").and_then(Json::as_object) {
        refs.extend(members.iter().filter_map(|(_, m)| m.str_of("shape")));
    }
    for key in ["member", "key", "value"] {
        if let Some(target) = shape.get(key).and_then(|r| r.str_of("shape")) {
            refs.push(target);
        }
    }
    refs
}

/// The shapes of an operation: input, output and errors.
fn operation_roots(op: &Json) -> Vec<&str> {
    let mut roots: Vec<&str> = ["input", "output"].iter().filter_map(|k| op.get(k)?.str_of("shape")).collect();
    if let Some(errors) = op.get("errors").and_then(Json::as_array) {
        roots.extend(errors.iter().filter_map(|e| e.str_of("shape")));
    }
    roots
}

/// Names of the shapes reachable from `operations` of `model` (inputs, outputs, errors and
/// everything their members, list members and map keys and values refer to).
pub fn reachable(model: &Json, operations: &[String]) -> Result<BTreeSet<String>> {
    let shapes = model.get("shapes").context("model has no `shapes`")?;
    let ops = model.get("operations").context("model has no `operations`")?;
    let mut pending: Vec<String> = Vec::new();
    for name in operations {
        let op = ops.get(name).with_context(|| format!("the model has no operation `{name}`"))?;
        pending.extend(operation_roots(op).into_iter().map(str::to_string));
    }
    let mut seen = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if seen.contains(&name) {
            continue;
        }
        let shape = shapes.get(&name).with_context(|| format!("shape `{name}` is referenced but not defined"))?;
        pending.extend(shape_refs(shape).into_iter().filter(|r| !seen.contains(*r)).map(str::to_string));
        seen.insert(name);
    }
    Ok(seen)
}

fn protocol_of(metadata: &Json) -> Result<&'static str> {
    let declared = metadata.str_of("protocol").context("metadata has no `protocol`")?;
    let json_version = metadata.str_of("jsonVersion");
    let map = |p: &str| -> Option<&'static str> {
        match (p, json_version) {
            ("json", Some("1.0")) => Some("AwsJson1_0"),
            ("json", Some("1.1")) => Some("AwsJson1_1"),
            ("rest-json", _) => Some("RestJson1"),
            ("query", _) => Some("AwsQuery"),
            ("ec2", _) => Some("Ec2Query"),
            _ => None,
        }
    };
    let listed: Vec<&str> =
        metadata.get("protocols").and_then(Json::as_array).unwrap_or(&[]).iter().filter_map(Json::as_str).collect();
    if listed.is_empty() || listed.contains(&declared) {
        if let Some(p) = map(declared) {
            return Ok(p);
        }
    }
    // `protocols` lists what the service speaks in order of preference: take the first served.
    listed.iter().find_map(|p| map(p)).with_context(|| {
        format!("unsupported protocol `{declared}` (protocols {listed:?}, jsonVersion {json_version:?})")
    })
}

fn timestamp_format(value: Option<&str>) -> Result<Option<&'static str>> {
    Ok(match value {
        None => None,
        Some("iso8601") => Some("Iso8601"),
        Some("rfc822") => Some("Rfc822"),
        Some("unixTimestamp") => Some("EpochSeconds"),
        Some(other) => bail!("unknown timestampFormat `{other}`"),
    })
}

fn location(value: Option<&str>) -> Result<&'static str> {
    Ok(match value {
        None => "Body",
        Some("header") => "Header",
        Some("headers") => "Headers",
        Some("uri") => "Uri",
        Some("querystring") => "QueryString",
        Some("statusCode") => "StatusCode",
        Some(other) => bail!("unknown member location `{other}`"),
    })
}

fn bound_i64(shape: &Json, key: &str) -> Result<Option<i64>> {
    match shape.get(key) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).with_context(|| format!("`{key}` is not an integer: {v:?}")),
    }
}

fn bound_f64(shape: &Json, key: &str) -> Result<Option<f64>> {
    match shape.get(key) {
        None => Ok(None),
        Some(v) => v.as_f64().map(Some).with_context(|| format!("`{key}` is not a number: {v:?}")),
    }
}

fn xml_namespace_uri(value: Option<&Json>) -> Option<String> {
    match value? {
        Json::String(uri) => Some(uri.clone()),
        other => other.str_of("uri").map(str::to_string),
    }
}

/// Builds the cut-down service: `version` is the api-version directory the model came from.
pub fn load(id: &str, model_dir: &str, version_dir: &str, model: &Json, operations: &[String]) -> Result<Service> {
    let metadata = model.get("metadata").context("model has no `metadata`")?;
    let shapes_json = model.get("shapes").context("model has no `shapes`")?;
    let ops_json = model.get("operations").context("model has no `operations`")?;

    let names: Vec<String> = reachable(model, operations)?.into_iter().collect();
    ensure!(names.len() <= usize::from(u16::MAX), "{} shapes do not fit a u16 ShapeId", names.len());
    let id_of = |name: &str| -> Result<usize> {
        names.binary_search_by(|n| n.as_str().cmp(name)).map_err(|_| anyhow::anyhow!("shape `{name}` not reached"))
    };

    let mut shapes = Vec::with_capacity(names.len());
    for name in &names {
        let json = shapes_json.get(name).with_context(|| format!("no shape `{name}`"))?;
        let kind = shape_kind(name, json, shapes_json, &id_of).with_context(|| format!("shape `{name}`"))?;
        shapes.push(Shape { name: name.clone(), sensitive: json.flag("sensitive"), kind });
    }

    let mut sorted_ops: Vec<&String> = operations.iter().collect();
    sorted_ops.sort();
    let mut ops = Vec::new();
    for name in sorted_ops {
        let op = ops_json.get(name).with_context(|| format!("the model has no operation `{name}`"))?;
        let http = op.get("http").with_context(|| format!("operation `{name}` has no `http`"))?;
        let success_code = match http.get("responseCode") {
            None => 200,
            Some(code) => code.as_i64().and_then(|c| u16::try_from(c).ok()).context("bad responseCode")?,
        };
        let shape_of =
            |key: &str| -> Result<Option<usize>> { op.get(key).and_then(|r| r.str_of("shape")).map(id_of).transpose() };
        let mut errors = Vec::new();
        for error in op.get("errors").and_then(Json::as_array).unwrap_or(&[]) {
            let error_id = id_of(error.str_of("shape").context("error without shape")?)?;
            ensure!(
                shapes[error_id].error().is_some(),
                "`{name}` lists `{}` as an error, but it is not one",
                shapes[error_id].name
            );
            if !errors.contains(&error_id) {
                errors.push(error_id);
            }
        }
        let input = shape_of("input")?;
        let output = shape_of("output")?;
        for (role, shape) in [("input", input), ("output", output)] {
            if let Some(shape) = shape {
                ensure!(shapes[shape].is_struct(), "{role} `{}` of `{name}` is not a structure", shapes[shape].name);
            }
        }
        ops.push(Operation {
            name: name.clone(),
            http_method: http.str_of("method").context("http.method")?.to_string(),
            request_uri: http.str_of("requestUri").context("http.requestUri")?.to_string(),
            success_code,
            input,
            output,
            result_wrapper: op.get("output").and_then(|o| o.str_of("resultWrapper")).map(str::to_string),
            errors,
        });
    }

    let endpoint_prefix = metadata.str_of("endpointPrefix").context("metadata.endpointPrefix")?.to_string();
    let signing_name = metadata.str_of("signingName").map(str::to_string).unwrap_or_else(|| endpoint_prefix.clone());
    let api_version = metadata.str_of("apiVersion").context("metadata.apiVersion")?.to_string();
    let protocol = protocol_of(metadata)?;
    let xml_namespace = match protocol {
        "AwsQuery" | "Ec2Query" => {
            let default = match protocol {
                "Ec2Query" => format!("http://ec2.amazonaws.com/doc/{api_version}/"),
                _ => format!("https://{endpoint_prefix}.amazonaws.com/doc/{api_version}/"),
            };
            let mut ns = xml_namespace_uri(metadata.get("xmlNamespace")).unwrap_or(default);
            // The ec2 model writes `http://ec2.amazonaws.com/doc/2016-11-15`; EC2 answers with a
            // trailing slash, as every query service does.
            if !ns.ends_with('/') {
                ns.push('/');
            }
            Some(ns)
        }
        _ => None,
    };
    Ok(Service {
        id: id.to_string(),
        display_name: metadata.str_of("serviceId").unwrap_or(id).to_string(),
        model_dir: model_dir.to_string(),
        version_dir: version_dir.to_string(),
        iam_prefix: signing_name.clone(),
        signing_name,
        endpoint_prefix,
        protocol,
        api_version,
        target_prefix: metadata.str_of("targetPrefix").map(str::to_string),
        xml_namespace,
        operations: ops,
        shapes,
    })
}

fn shape_kind(name: &str, json: &Json, all: &Json, id_of: &dyn Fn(&str) -> Result<usize>) -> Result<Kind> {
    let ty = json.str_of("type").context("no `type`")?;
    let target_of = |key: &str| -> Result<(usize, &Json)> {
        let reference = json.get(key).with_context(|| format!("no `{key}`"))?;
        Ok((id_of(reference.str_of("shape").with_context(|| format!("`{key}` has no shape"))?)?, reference))
    };
    Ok(match ty {
        "structure" => {
            let required: Vec<&str> =
                json.get("required").and_then(Json::as_array).unwrap_or(&[]).iter().filter_map(Json::as_str).collect();
            let mut members = Vec::new();
            for (member_name, member) in json.get("members").and_then(Json::as_object).unwrap_or(&[]) {
                let member = resolve_member(member_name, member, all, id_of, required.contains(&member_name.as_str()))
                    .with_context(|| format!("member `{member_name}`"))?;
                members.push(member);
            }
            for r in &required {
                ensure!(members.iter().any(|m| m.name == *r), "required member `{r}` does not exist");
            }
            let exception = json.flag("exception") || json.get("error").is_some();
            let error = exception.then(|| error_trait(name, json)).transpose()?;
            Kind::Structure {
                members,
                payload: json.str_of("payload").map(str::to_string),
                error,
                document: json.flag("document"),
                xml_name: json.str_of("locationName").map(str::to_string),
            }
        }
        "list" => {
            let (member, reference) = target_of("member")?;
            Kind::List {
                member,
                member_name: reference.str_of("locationName").map(str::to_string),
                flattened: json.flag("flattened"),
                min: bound_i64(json, "min")?,
                max: bound_i64(json, "max")?,
            }
        }
        "map" => {
            let (key, key_ref) = target_of("key")?;
            let (value, value_ref) = target_of("value")?;
            Kind::Map {
                key,
                value,
                key_name: key_ref.str_of("locationName").map(str::to_string),
                value_name: value_ref.str_of("locationName").map(str::to_string),
                flattened: json.flag("flattened"),
                min: bound_i64(json, "min")?,
                max: bound_i64(json, "max")?,
            }
        }
        "string" => Kind::String {
            enum_values: json
                .get("enum")
                .and_then(Json::as_array)
                .unwrap_or(&[])
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect(),
            min: bound_i64(json, "min")?,
            max: bound_i64(json, "max")?,
            pattern: json.str_of("pattern").map(str::to_string),
        },
        "integer" => Kind::Integer { min: bound_i64(json, "min")?, max: bound_i64(json, "max")? },
        "long" => Kind::Long { min: bound_i64(json, "min")?, max: bound_i64(json, "max")? },
        "float" => Kind::Float { min: bound_f64(json, "min")?, max: bound_f64(json, "max")? },
        "double" => Kind::Double { min: bound_f64(json, "min")?, max: bound_f64(json, "max")? },
        "boolean" => Kind::Boolean,
        "timestamp" => Kind::Timestamp { format: timestamp_format(json.str_of("timestampFormat"))? },
        "blob" => {
            ensure!(!json.flag("eventstream"), "event streams are not supported");
            Kind::Blob { min: bound_i64(json, "min")?, max: bound_i64(json, "max")? }
        }
        other => bail!("unsupported shape type `{other}`"),
    })
}

fn error_trait(name: &str, json: &Json) -> Result<ErrorTrait> {
    let fault = json.flag("fault");
    let error = json.get("error");
    let status = match error.and_then(|e| e.get("httpStatusCode")) {
        Some(code) => code.as_i64().and_then(|c| u16::try_from(c).ok()).context("bad error.httpStatusCode")?,
        None if fault => 500,
        None => 400,
    };
    let sender_fault = match error.and_then(|e| e.get("senderFault")) {
        Some(flag) => flag.as_bool().context("bad error.senderFault")?,
        None => !fault && status < 500,
    };
    let code = error.and_then(|e| e.str_of("code")).filter(|c| *c != name).map(str::to_string);
    Ok(ErrorTrait { code, status, sender_fault })
}

/// A member's traits, merged as botocore merges them: those written on the member win over
/// those written on the target shape (`locationName`, `flattened`, `timestampFormat`, ...).
fn resolve_member(
    name: &str,
    member: &Json,
    all: &Json,
    id_of: &dyn Fn(&str) -> Result<usize>,
    required: bool,
) -> Result<Member> {
    let target_name = member.str_of("shape").context("no `shape`")?;
    let target = all.get(target_name).with_context(|| format!("no shape `{target_name}`"))?;
    let trait_str = |key: &str| member.str_of(key).or_else(|| target.str_of(key)).map(str::to_string);
    let trait_flag = |key: &str| member.flag(key) || target.flag(key);
    ensure!(!trait_flag("eventstream") && !member.flag("eventpayload"), "event streams are not supported");
    Ok(Member {
        name: name.to_string(),
        target: id_of(target_name)?,
        required,
        location: location(member.str_of("location"))?,
        location_name: trait_str("locationName"),
        query_name: trait_str("queryName"),
        flattened: trait_flag("flattened"),
        xml_attribute: trait_flag("xmlAttribute"),
        xml_namespace: xml_namespace_uri(member.get("xmlNamespace"))
            .or_else(|| xml_namespace_uri(target.get("xmlNamespace"))),
        timestamp_format: timestamp_format(
            member.str_of("timestampFormat").or_else(|| target.str_of("timestampFormat")),
        )?,
        idempotency_token: member.flag("idempotencyToken"),
        json_value: trait_flag("jsonvalue"),
        host_label: member.flag("hostLabel"),
    })
}

/// Shapes each struct shape refers to directly (not through a list or map): the edges along
/// which a Rust struct would contain itself.
pub fn direct_struct_edges(service: &Service) -> BTreeMap<usize, BTreeSet<usize>> {
    let mut edges = BTreeMap::new();
    for (id, shape) in service.shapes.iter().enumerate() {
        if !shape.is_struct() {
            continue;
        }
        let targets = shape.members().iter().map(|m| m.target).filter(|t| service.shapes[*t].is_struct()).collect();
        edges.insert(id, targets);
    }
    edges
}

/// Whether `to` can reach `from` along direct struct edges (so `from → to` closes a cycle).
pub fn closes_cycle(edges: &BTreeMap<usize, BTreeSet<usize>>, from: usize, to: usize) -> bool {
    let mut stack = vec![to];
    let mut seen = BTreeSet::new();
    while let Some(node) = stack.pop() {
        if node == from {
            return true;
        }
        if seen.insert(node) {
            stack.extend(edges.get(&node).into_iter().flatten().copied());
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = r#"{
      "metadata": {"apiVersion": "2020-01-01", "endpointPrefix": "demo", "protocol": "json",
                   "jsonVersion": "1.1", "targetPrefix": "Demo", "protocols": ["json"]},
      "operations": {
        "GetThing": {"name": "GetThing", "http": {"method": "POST", "requestUri": "/"},
                     "input": {"shape": "GetThingRequest"}, "output": {"shape": "GetThingResult"},
                     "errors": [{"shape": "ThingNotFound"}]},
        "PutThing": {"name": "PutThing", "http": {"method": "POST", "requestUri": "/"},
                     "input": {"shape": "PutThingRequest"}}
      },
      "shapes": {
        "GetThingRequest": {"type": "structure", "required": ["Name"],
                            "members": {"Name": {"shape": "Name"}}},
        "GetThingResult": {"type": "structure", "members": {"Thing": {"shape": "Thing"}}},
        "Thing": {"type": "structure", "members": {
            "Name": {"shape": "Name"}, "Parts": {"shape": "ThingList"},
            "Tags": {"shape": "TagMap"}, "Kind": {"shape": "Kind"}, "Parent": {"shape": "Thing"}}},
        "ThingList": {"type": "list", "member": {"shape": "Thing", "locationName": "item"}},
        "TagMap": {"type": "map", "key": {"shape": "Name"}, "value": {"shape": "TagValue"}},
        "TagValue": {"type": "string"},
        "Kind": {"type": "string", "enum": ["a", "b"]},
        "Name": {"type": "string", "min": 1, "max": 10},
        "ThingNotFound": {"type": "structure", "members": {"Message": {"shape": "Msg"}},
                          "exception": true},
        "Msg": {"type": "string"},
        "PutThingRequest": {"type": "structure", "members": {"Blob": {"shape": "Bytes"}}},
        "Bytes": {"type": "blob"},
        "Unused": {"type": "structure", "members": {"X": {"shape": "Unrelated"}}},
        "Unrelated": {"type": "string"}
      }
    }"#;

    #[test]
    fn reaches_inputs_outputs_errors_and_everything_under_them() {
        let model = Json::parse(MODEL.as_bytes()).unwrap();
        let got = reachable(&model, &["GetThing".to_string()]).unwrap();
        let expected = [
            "GetThingRequest",
            "GetThingResult",
            "Kind",
            "Msg",
            "Name",
            "TagMap",
            "TagValue",
            "Thing",
            "ThingList",
            "ThingNotFound",
        ];
        assert_eq!(got.iter().map(String::as_str).collect::<Vec<_>>(), expected);
        let both = reachable(&model, &["PutThing".to_string(), "GetThing".to_string()]).unwrap();
        assert!(both.contains("Bytes") && both.contains("PutThingRequest") && !both.contains("Unused"));
        assert!(reachable(&model, &["Nope".to_string()]).is_err());
    }

    #[test]
    fn loads_metadata_members_and_errors() {
        let model = Json::parse(MODEL.as_bytes()).unwrap();
        let ops = ["PutThing".to_string(), "GetThing".to_string()];
        let service = load("demo", "demo", "2020-01-01", &model, &ops).unwrap();
        assert_eq!(service.protocol, "AwsJson1_1");
        assert_eq!(service.signing_name, "demo");
        assert_eq!(service.xml_namespace, None);
        assert_eq!(service.operations.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), ["GetThing", "PutThing"]);
        assert_eq!(service.operations[1].output, None);
        let thing = service.shape_id("Thing").unwrap();
        // Members keep the model's order.
        let members: Vec<&str> = service.shapes[thing].members().iter().map(|m| m.name.as_str()).collect();
        assert_eq!(members, ["Name", "Parts", "Tags", "Kind", "Parent"]);
        let request = &service.shapes[service.shape_id("GetThingRequest").unwrap()];
        assert!(request.members()[0].required);
        let error = service.shapes[service.shape_id("ThingNotFound").unwrap()].error().unwrap();
        assert_eq!((error.code.as_deref(), error.status, error.sender_fault), (None, 400, true));
        let edges = direct_struct_edges(&service);
        assert!(closes_cycle(&edges, thing, thing));
        let result = service.shape_id("GetThingResult").unwrap();
        assert!(!closes_cycle(&edges, result, thing));
    }

    /// One operation per case, named after it; `Out<case>` is its output.
    const WIRE_MODEL: &str = r#"{
      "metadata": {"apiVersion": "2020-01-01", "endpointPrefix": "demo", "protocol": "json",
                   "jsonVersion": "1.1", "targetPrefix": "Demo", "serviceId": "Demo"},
      "operations": {
        "Plain": {"http": {"method": "POST", "requestUri": "/"}, "output": {"shape": "OutPlain"}},
        "SameName": {"http": {"method": "POST", "requestUri": "/"}, "output": {"shape": "OutSameName"}},
        "Renamed": {"http": {"method": "POST", "requestUri": "/"}, "output": {"shape": "OutRenamed"}},
        "RenamedDeep": {"http": {"method": "POST", "requestUri": "/"}, "output": {"shape": "OutRenamedDeep"}},
        "IsoMember": {"http": {"method": "POST", "requestUri": "/"}, "output": {"shape": "OutIsoMember"}},
        "IsoShape": {"http": {"method": "POST", "requestUri": "/"}, "output": {"shape": "OutIsoShape"}},
        "UnixShape": {"http": {"method": "POST", "requestUri": "/"}, "output": {"shape": "OutUnixShape"}},
        "UnixMemberOverIso": {"http": {"method": "POST", "requestUri": "/"},
                              "output": {"shape": "OutUnixMemberOverIso"}},
        "Float": {"http": {"method": "POST", "requestUri": "/"}, "output": {"shape": "OutFloat"}},
        "Document": {"http": {"method": "POST", "requestUri": "/"}, "output": {"shape": "OutDocument"}},
        "AfterRecursion": {"http": {"method": "POST", "requestUri": "/"},
                           "output": {"shape": "OutAfterRecursion"}},
        "NoOutput": {"http": {"method": "POST", "requestUri": "/"}, "input": {"shape": "OutPlain"}}
      },
      "shapes": {
        "OutPlain": {"type": "structure", "members": {
            "Name": {"shape": "Str"}, "Version": {"shape": "Long"}, "When": {"shape": "When"},
            "Items": {"shape": "Items"}, "Attrs": {"shape": "Attrs"}, "Ratio": {"shape": "Double"},
            "Enabled": {"shape": "Bool"}, "Data": {"shape": "Bytes"}, "Tree": {"shape": "Node"}}},
        "OutSameName": {"type": "structure", "members": {"Name": {"shape": "Str", "locationName": "Name"}}},
        "OutRenamed": {"type": "structure", "members": {"Name": {"shape": "Str", "locationName": "name"}}},
        "OutRenamedDeep": {"type": "structure", "members": {"Tags": {"shape": "RenamedMap"}}},
        "RenamedMap": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "RenamedList"}},
        "RenamedList": {"type": "list", "member": {"shape": "Renamed", "locationName": "item"}},
        "Renamed": {"type": "structure", "members": {"Key": {"shape": "Str", "locationName": "key"}}},
        "OutIsoMember": {"type": "structure", "members": {
            "When": {"shape": "When", "timestampFormat": "iso8601"}}},
        "OutIsoShape": {"type": "structure", "members": {"Stamps": {"shape": "IsoList"}}},
        "IsoList": {"type": "list", "member": {"shape": "Iso"}},
        "Iso": {"type": "timestamp", "timestampFormat": "iso8601"},
        "OutUnixShape": {"type": "structure", "members": {"When": {"shape": "Unix"}}},
        "Unix": {"type": "timestamp", "timestampFormat": "unixTimestamp"},
        "OutUnixMemberOverIso": {"type": "structure", "members": {
            "When": {"shape": "Iso", "timestampFormat": "unixTimestamp"}}},
        "OutFloat": {"type": "structure", "members": {"Weights": {"shape": "FloatMap"}}},
        "FloatMap": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Float"}},
        "Float": {"type": "float"},
        "OutDocument": {"type": "structure", "members": {"Items": {"shape": "DocList"}}},
        "DocList": {"type": "list", "member": {"shape": "Doc"}},
        "Doc": {"type": "structure", "members": {}, "document": true},
        "OutAfterRecursion": {"type": "structure", "members": {"Tree": {"shape": "BadNode"}}},
        "BadNode": {"type": "structure", "members": {
            "Children": {"shape": "BadNodes"}, "Again": {"shape": "BadNode"}, "Weight": {"shape": "Float"}}},
        "BadNodes": {"type": "list", "member": {"shape": "BadNode"}},
        "Str": {"type": "string"},
        "Long": {"type": "long"},
        "Double": {"type": "double"},
        "Bool": {"type": "boolean"},
        "Bytes": {"type": "blob"},
        "When": {"type": "timestamp"},
        "Item": {"type": "structure", "members": {"Key": {"shape": "Str"}, "At": {"shape": "When"}}},
        "Items": {"type": "list", "member": {"shape": "Item"}},
        "Attrs": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Str"}},
        "Node": {"type": "structure", "members": {"Label": {"shape": "Str"}, "Children": {"shape": "Nodes"}}},
        "Nodes": {"type": "list", "member": {"shape": "Node"}}
      }
    }"#;

    #[test]
    fn canonical_json_is_wire_unless_something_under_the_output_is_written_otherwise() {
        let model = Json::parse(WIRE_MODEL.as_bytes()).unwrap();
        let names = model.get("operations").and_then(Json::as_object).unwrap();
        let names: Vec<String> = names.iter().map(|(name, _)| name.clone()).collect();
        let service = load("demo", "demo", "2020-01-01", &model, &names).unwrap();
        assert_eq!(service.display_name, "Demo");
        let decided: Vec<(&str, bool)> =
            service.operations.iter().map(|op| (op.name.as_str(), service.canonical_json_is_wire(op))).collect();
        let expected = [
            // A float after a recursive member: the recursion does not end the walk early.
            ("AfterRecursion", false),
            ("Document", false),
            ("Float", false),
            ("IsoMember", false),
            ("IsoShape", false),
            ("NoOutput", false),
            // Strings, numbers, booleans, blobs, default timestamps, lists, maps, recursion.
            ("Plain", true),
            ("Renamed", false),
            ("RenamedDeep", false),
            ("SameName", true),
            ("UnixMemberOverIso", true),
            ("UnixShape", true),
        ];
        assert_eq!(decided, expected);
    }
}
