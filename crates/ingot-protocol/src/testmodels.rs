//! Hand-written service models for tests and fuzzing: one per protocol, over one shared shape
//! table that covers every shape kind and every member location.
//!
//! Not part of the public API (hidden from docs); the fuzz targets and the corpus regression
//! test use them through [`crate::fuzzing`].

#![allow(missing_docs)]

use ingot_core::model::{
    ErrorTrait, Location, Member, OperationModel, Protocol, ServiceModel, Shape, ShapeId, ShapeKind, TimestampFormat,
};

pub(crate) const fn m(name: &'static str, target: ShapeId) -> Member {
    Member {
        name,
        target,
        required: false,
        location: Location::Body,
        location_name: None,
        query_name: None,
        flattened: false,
        xml_attribute: false,
        xml_namespace: None,
        timestamp_format: None,
        idempotency_token: false,
        json_value: false,
        host_label: false,
    }
}

pub(crate) const fn req(name: &'static str, target: ShapeId) -> Member {
    Member { required: true, ..m(name, target) }
}

pub(crate) const fn named(name: &'static str, target: ShapeId, wire: &'static str) -> Member {
    Member { location_name: Some(wire), ..m(name, target) }
}

pub(crate) const fn at(name: &'static str, target: ShapeId, location: Location, wire: &'static str) -> Member {
    Member { location, location_name: Some(wire), ..m(name, target) }
}

pub(crate) const fn sh(name: &'static str, kind: ShapeKind) -> Shape {
    Shape { name, kind, sensitive: false }
}

pub(crate) const fn st(members: &'static [Member]) -> ShapeKind {
    ShapeKind::Structure { members, payload: None, error: None, document: false, xml_name: None }
}

pub(crate) const fn with_payload(members: &'static [Member], payload: &'static str) -> ShapeKind {
    ShapeKind::Structure { members, payload: Some(payload), error: None, document: false, xml_name: None }
}

pub(crate) const fn error(members: &'static [Member], code: Option<&'static str>, status: u16) -> ShapeKind {
    ShapeKind::Structure {
        members,
        payload: None,
        error: Some(ErrorTrait { code, status, sender_fault: status < 500 }),
        document: false,
        xml_name: None,
    }
}

pub(crate) const fn string() -> ShapeKind {
    ShapeKind::String { enum_values: &[], min: None, max: None, pattern: None }
}

pub(crate) const fn list(member: ShapeId) -> ShapeKind {
    ShapeKind::List { member, member_name: None, flattened: false, min: None, max: None }
}

pub(crate) const fn list_named(member: ShapeId, name: &'static str) -> ShapeKind {
    ShapeKind::List { member, member_name: Some(name), flattened: false, min: None, max: None }
}

pub(crate) const fn map(key: ShapeId, value: ShapeId) -> ShapeKind {
    ShapeKind::Map { key, value, key_name: None, value_name: None, flattened: false, min: None, max: None }
}

// Scalars and shared shapes.
pub const STRING: ShapeId = 0;
pub const NAME: ShapeId = 1;
pub const COLOR: ShapeId = 2;
pub const SMALL_INT: ShapeId = 3;
pub const LONG: ShapeId = 4;
pub const FLOAT: ShapeId = 5;
pub const DOUBLE: ShapeId = 6;
pub const BOOL: ShapeId = 7;
pub const TS: ShapeId = 8;
pub const TS_ISO: ShapeId = 9;
pub const TS_HTTP: ShapeId = 10;
pub const TS_EPOCH: ShapeId = 11;
pub const BLOB: ShapeId = 12;
pub const DOC: ShapeId = 13;
pub const STR_LIST: ShapeId = 14;
pub const TAG: ShapeId = 15;
pub const TAG_LIST: ShapeId = 16;
pub const STR_MAP: ShapeId = 17;
pub const SECRET: ShapeId = 18;
pub const NODE: ShapeId = 19;
pub const COLOR_LIST: ShapeId = 20;
pub const INT: ShapeId = 21;
pub const TS_LIST: ShapeId = 22;
pub const ANY_MAP: ShapeId = 23;
pub const EMPTY: ShapeId = 24;
// awsJson.
pub const KITCHEN: ShapeId = 25;
pub const INVALID_THING: ShapeId = 26;
pub const THING_IN_USE: ShapeId = 27;
// restJson1.
pub const PUT_THING_INPUT: ShapeId = 28;
pub const PUT_THING_OUTPUT: ShapeId = 29;
pub const GET_FILE_INPUT: ShapeId = 30;
pub const FILE_OUTPUT: ShapeId = 31;
pub const LIST_INPUT: ShapeId = 32;
pub const LIST_OUTPUT: ShapeId = 33;
pub const LABEL_INPUT: ShapeId = 34;
pub const PUT_DOC_INPUT: ShapeId = 35;
pub const UPLOAD_INPUT: ShapeId = 36;
pub const NOT_FOUND: ShapeId = 37;
// awsQuery.
pub const ITEM_LIST: ShapeId = 38;
pub const FLAT_NAMED_LIST: ShapeId = 39;
pub const KV_MAP: ShapeId = 40;
pub const QUERY_INPUT: ShapeId = 41;
pub const QUERY_OUTPUT: ShapeId = 42;
pub const QUERY_ERROR: ShapeId = 43;
// ec2Query.
pub const FILTER: ShapeId = 44;
pub const VALUE_LIST: ShapeId = 45;
pub const FILTER_LIST: ShapeId = 46;
pub const EC2_INPUT: ShapeId = 47;
pub const EC2_TAG: ShapeId = 48;
pub const EC2_TAG_LIST: ShapeId = 49;
pub const IMAGE: ShapeId = 50;
pub const IMAGE_LIST: ShapeId = 51;
pub const EC2_OUTPUT: ShapeId = 52;
pub const REBOOT_INPUT: ShapeId = 53;
pub const ID_LIST: ShapeId = 54;
/// An unconstrained blob for payloads (the `Blob` shape caps at 4 bytes).
pub const RAW_BLOB: ShapeId = 55;

pub static SHAPES: [Shape; 56] = [
    sh("String", string()),
    sh("Name", ShapeKind::String { enum_values: &[], min: Some(1), max: Some(8), pattern: Some("[a-z0-9/]+") }),
    sh("Color", ShapeKind::String { enum_values: &["RED", "GREEN", "BLUE"], min: None, max: None, pattern: None }),
    sh("SmallInt", ShapeKind::Integer { min: Some(1), max: Some(10) }),
    sh("Long", ShapeKind::Long { min: Some(-5), max: Some(5_000_000_000) }),
    sh("Float", ShapeKind::Float { min: None, max: None }),
    sh("Double", ShapeKind::Double { min: Some(0.5), max: Some(100.0) }),
    sh("Boolean", ShapeKind::Boolean),
    sh("Timestamp", ShapeKind::Timestamp { format: None }),
    sh("IsoTimestamp", ShapeKind::Timestamp { format: Some(TimestampFormat::Iso8601) }),
    sh("HttpDate", ShapeKind::Timestamp { format: Some(TimestampFormat::Rfc822) }),
    sh("EpochSeconds", ShapeKind::Timestamp { format: Some(TimestampFormat::EpochSeconds) }),
    sh("Blob", ShapeKind::Blob { min: None, max: Some(4) }),
    sh("Document", ShapeKind::Structure { members: &[], payload: None, error: None, document: true, xml_name: None }),
    sh("StringList", ShapeKind::List { member: STRING, member_name: None, flattened: false, min: None, max: Some(3) }),
    sh("Tag", st(&[req("Key", NAME), m("Value", STRING)])),
    sh("TagList", list(TAG)),
    sh(
        "StringMap",
        ShapeKind::Map {
            key: STRING,
            value: STRING,
            key_name: None,
            value_name: None,
            flattened: false,
            min: None,
            max: Some(2),
        },
    ),
    Shape {
        name: "Secret",
        kind: ShapeKind::String { enum_values: &[], min: Some(1), max: None, pattern: None },
        sensitive: true,
    },
    sh("Node", st(&[m("Child", NODE), m("Label", NAME)])),
    sh("ColorList", list(COLOR)),
    sh("Integer", ShapeKind::Integer { min: None, max: None }),
    sh("TimestampList", list(TS)),
    sh("AnyMap", map(STRING, STRING)),
    sh("Empty", st(&[])),
    // awsJson.
    sh(
        "Kitchen",
        st(&[
            req("Name", NAME),
            m("Color", COLOR),
            m("Count", SMALL_INT),
            m("Big", LONG),
            m("Ratio", FLOAT),
            m("Weight", DOUBLE),
            m("Enabled", BOOL),
            m("When", TS),
            m("WhenIso", TS_ISO),
            m("WhenHttp", TS_HTTP),
            m("Data", BLOB),
            m("Doc", DOC),
            m("Names", STR_LIST),
            m("Tags", TAG_LIST),
            m("Attrs", STR_MAP),
            m("Secret", SECRET),
            m("Tree", NODE),
            named("Renamed", STRING, "renamed_wire"),
            m("Colors", COLOR_LIST),
            m("Stamps", TS_LIST),
        ]),
    ),
    sh("InvalidThing", error(&[m("Message", STRING), m("Reason", STRING), m("At", TS)], None, 400)),
    sh("ThingInUse", error(&[m("message", STRING)], None, 409)),
    // restJson1.
    sh(
        "PutThingInput",
        st(&[
            Member { required: true, ..at("Label", STRING, Location::Uri, "Label") },
            at("Q", STRING, Location::QueryString, "q"),
            at("QList", STR_LIST, Location::QueryString, "ql"),
            at("QInt", SMALL_INT, Location::QueryString, "n"),
            at("QTime", TS, Location::QueryString, "t"),
            at("QBool", BOOL, Location::QueryString, "b"),
            Member { location: Location::QueryString, ..m("QMap", ANY_MAP) },
            at("HStr", STRING, Location::Header, "X-Str"),
            at("HList", STR_LIST, Location::Header, "X-List"),
            at("HTime", TS, Location::Header, "X-Time"),
            at("HTimes", TS_LIST, Location::Header, "X-Times"),
            at("HInt", SMALL_INT, Location::Header, "X-Int"),
            at("HBool", BOOL, Location::Header, "X-Bool"),
            Member { json_value: true, ..at("HJson", STRING, Location::Header, "X-Json") },
            at("Meta", ANY_MAP, Location::Headers, "X-Meta-"),
            req("Name", NAME),
            m("Tags", TAG_LIST),
            m("When", TS),
            m("Doc", DOC),
            m("Data", BLOB),
            named("Renamed", STRING, "renamedField"),
        ]),
    ),
    sh(
        "PutThingOutput",
        st(&[
            Member { location: Location::StatusCode, ..m("Status", INT) },
            at("HOut", STRING, Location::Header, "X-Out"),
            at("HTime", TS, Location::Header, "X-Time"),
            at("HList", STR_LIST, Location::Header, "X-List"),
            at("Meta", ANY_MAP, Location::Headers, "X-Meta-"),
            m("Name", STRING),
            m("When", TS),
            m("Tags", TAG_LIST),
        ]),
    ),
    sh(
        "GetFileInput",
        st(&[
            Member { required: true, ..at("Path", STRING, Location::Uri, "Path") },
            at("Version", STRING, Location::QueryString, "version"),
        ]),
    ),
    sh(
        "FileOutput",
        with_payload(&[m("Body", RAW_BLOB), at("ContentType", STRING, Location::Header, "Content-Type")], "Body"),
    ),
    sh(
        "ListInput",
        st(&[
            at("MaxResults", SMALL_INT, Location::QueryString, "maxResults"),
            at("NextToken", STRING, Location::QueryString, "nextToken"),
        ]),
    ),
    sh("ListOutput", st(&[m("Items", STR_LIST), m("NextToken", STRING)])),
    sh("LabelInput", st(&[Member { required: true, ..at("Label", STRING, Location::Uri, "Label") }])),
    sh(
        "PutDocInput",
        with_payload(
            &[Member { required: true, ..at("Label", STRING, Location::Uri, "Label") }, m("Body", TAG)],
            "Body",
        ),
    ),
    sh(
        "UploadInput",
        with_payload(
            &[
                Member { required: true, ..at("Label", STRING, Location::Uri, "Label") },
                m("Data", RAW_BLOB),
                at("ContentType", STRING, Location::Header, "Content-Type"),
            ],
            "Data",
        ),
    ),
    sh(
        "NotFoundException",
        error(
            &[m("message", STRING), m("ResourceId", STRING), at("RetryAfter", INT, Location::Header, "Retry-After")],
            None,
            404,
        ),
    ),
    // awsQuery.
    sh("ItemList", list_named(STRING, "item")),
    sh(
        "FlatNamedList",
        ShapeKind::List { member: STRING, member_name: Some("Entry"), flattened: true, min: None, max: None },
    ),
    sh(
        "KeyValueMap",
        ShapeKind::Map {
            key: STRING,
            value: STRING,
            key_name: Some("Name"),
            value_name: Some("Value"),
            flattened: true,
            min: None,
            max: None,
        },
    ),
    sh(
        "QueryInput",
        st(&[
            req("Name", NAME),
            m("Count", SMALL_INT),
            m("Enabled", BOOL),
            m("When", TS),
            m("Data", BLOB),
            m("Ratio", DOUBLE),
            m("Names", STR_LIST),
            m("Items", ITEM_LIST),
            Member { flattened: true, ..m("Flat", STR_LIST) },
            m("FlatNamed", FLAT_NAMED_LIST),
            m("Tags", TAG_LIST),
            m("Attrs", STR_MAP),
            m("KV", KV_MAP),
            m("Tree", NODE),
            named("Renamed", STRING, "Other"),
            m("Color", COLOR),
            m("Secret", SECRET),
        ]),
    ),
    sh(
        "QueryOutput",
        st(&[
            Member { xml_attribute: true, ..named("Id", STRING, "id") },
            m("Name", STRING),
            m("Count", INT),
            m("Enabled", BOOL),
            m("When", TS),
            m("WhenEpoch", TS_EPOCH),
            m("Data", BLOB),
            m("Ratio", FLOAT),
            m("Names", STR_LIST),
            m("Items", ITEM_LIST),
            Member { flattened: true, ..m("Flat", STR_LIST) },
            m("FlatNamed", FLAT_NAMED_LIST),
            m("Tags", TAG_LIST),
            m("Attrs", STR_MAP),
            m("KV", KV_MAP),
            m("Tree", NODE),
            named("Renamed", STRING, "Other"),
        ]),
    ),
    sh("NotFound", error(&[m("message", STRING), m("Resource", STRING), m("At", TS)], Some("ResourceNotFound"), 404)),
    // ec2Query.
    sh("Filter", st(&[m("Name", STRING), named("Values", VALUE_LIST, "Value")])),
    sh("ValueStringList", list_named(STRING, "item")),
    sh("FilterList", list_named(FILTER, "Filter")),
    sh(
        "DescribeThingsRequest",
        st(&[
            named("DryRun", BOOL, "dryRun"),
            named("ImageIds", ID_LIST, "ImageId"),
            named("Filters", FILTER_LIST, "Filter"),
            Member { query_name: Some("OwnerAlias"), ..named("Owner", STRING, "owner") },
            m("MaxResults", SMALL_INT),
            Member { required: true, ..named("InstanceId", STRING, "instanceId") },
        ]),
    ),
    sh("Ec2Tag", st(&[named("Key", STRING, "key"), named("Value", STRING, "value")])),
    sh("TagList", list_named(EC2_TAG, "item")),
    sh(
        "Image",
        st(&[
            named("ImageId", STRING, "imageId"),
            named("Public", BOOL, "isPublic"),
            named("CreationDate", TS, "creationDate"),
            named("Tags", EC2_TAG_LIST, "tagSet"),
        ]),
    ),
    sh("ImageList", list_named(IMAGE, "item")),
    sh(
        "DescribeThingsResult",
        st(&[named("Images", IMAGE_LIST, "imagesSet"), named("NextToken", STRING, "nextToken")]),
    ),
    sh("RebootThingRequest", st(&[Member { required: true, ..named("InstanceId", STRING, "instanceId") }])),
    sh("IdList", list_named(STRING, "ImageId")),
    sh("RawBlob", ShapeKind::Blob { min: None, max: None }),
];

/// A `POST /` operation; `canonical_json_is_wire` is `false` (set it where the rule decides `true`:
/// `aws_json`'s tests check every hand-written operation against the rule).
pub(crate) const fn op(name: &'static str, input: Option<ShapeId>, output: Option<ShapeId>) -> OperationModel {
    OperationModel {
        name,
        http_method: "POST",
        request_uri: "/",
        success_code: 200,
        input,
        output,
        result_wrapper: None,
        errors: &[],
        canonical_json_is_wire: false,
    }
}

pub(crate) const fn rest(
    name: &'static str,
    method: &'static str,
    uri: &'static str,
    input: Option<ShapeId>,
    output: Option<ShapeId>,
) -> OperationModel {
    OperationModel { http_method: method, request_uri: uri, ..op(name, input, output) }
}

static JSON_OPS: [OperationModel; 3] = [
    OperationModel { errors: &[INVALID_THING, THING_IN_USE], ..op("KitchenSink", Some(KITCHEN), Some(KITCHEN)) },
    op("NoInputOutput", None, None),
    OperationModel { canonical_json_is_wire: true, ..op("Empty", Some(EMPTY), Some(EMPTY)) },
];

static REST_OPS: [OperationModel; 8] = [
    rest("PutThing", "POST", "/things/{Label}", Some(PUT_THING_INPUT), Some(PUT_THING_OUTPUT)),
    rest("GetFile", "GET", "/files/{Path+}", Some(GET_FILE_INPUT), Some(FILE_OUTPUT)),
    OperationModel {
        canonical_json_is_wire: true,
        ..rest("ListThings", "GET", "/things?list", Some(LIST_INPUT), Some(LIST_OUTPUT))
    },
    OperationModel {
        canonical_json_is_wire: true,
        ..rest("GetThing", "GET", "/things/{Label}", Some(LABEL_INPUT), Some(LIST_OUTPUT))
    },
    rest("PutDoc", "PUT", "/docs/{Label}", Some(PUT_DOC_INPUT), None),
    rest("UploadBlob", "PUT", "/blobs/{Label}", Some(UPLOAD_INPUT), None),
    OperationModel { success_code: 204, ..rest("DeleteThing", "DELETE", "/things/{Label}", Some(LABEL_INPUT), None) },
    rest("NoInput", "POST", "/noinput", None, None),
];

static QUERY_OPS: [OperationModel; 3] = [
    OperationModel {
        result_wrapper: Some("DoThingResult"),
        errors: &[QUERY_ERROR],
        ..op("DoThing", Some(QUERY_INPUT), Some(QUERY_OUTPUT))
    },
    OperationModel { result_wrapper: Some("EchoResult"), ..op("Echo", Some(QUERY_INPUT), Some(QUERY_INPUT)) },
    op("NoOutput", Some(EMPTY), None),
];

static EC2_OPS: [OperationModel; 2] =
    [op("DescribeThings", Some(EC2_INPUT), Some(EC2_OUTPUT)), op("RebootThing", Some(REBOOT_INPUT), None)];

pub(crate) const fn model(id: &'static str, protocol: Protocol, operations: &'static [OperationModel]) -> ServiceModel {
    ServiceModel {
        id,
        signing_name: id,
        endpoint_prefix: id,
        protocol,
        api_version: "2020-01-08",
        target_prefix: None,
        xml_namespace: None,
        iam_prefix: id,
        operations,
        shapes: &SHAPES,
    }
}

/// awsJson 1.1, `X-Amz-Target: TestService.<Op>`.
pub static JSON_MODEL: ServiceModel =
    ServiceModel { target_prefix: Some("TestService"), ..model("testjson", Protocol::AwsJson1_1, &JSON_OPS) };
/// The same service over awsJson 1.0.
pub static JSON10_MODEL: ServiceModel =
    ServiceModel { target_prefix: Some("TestService"), ..model("testjson", Protocol::AwsJson1_0, &JSON_OPS) };
/// restJson1.
pub static REST_MODEL: ServiceModel = model("testrest", Protocol::RestJson1, &REST_OPS);
/// awsQuery with namespace `https://test.amazonaws.com/doc/2020-01-08/`.
pub static QUERY_MODEL: ServiceModel = ServiceModel {
    xml_namespace: Some("https://test.amazonaws.com/doc/2020-01-08/"),
    ..model("testquery", Protocol::AwsQuery, &QUERY_OPS)
};
/// ec2Query.
pub static EC2_MODEL: ServiceModel = model("testec2", Protocol::Ec2Query, &EC2_OPS);
