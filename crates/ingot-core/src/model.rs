//! Static shape metadata for one AWS service, as written by `cargo xtask codegen`.
//!
//! The protocol codecs walk these tables to turn wire requests into the canonical JSON value of an
//! operation's input and outputs back into wire responses. The canonical value is the same for all
//! protocols:
//! - structure: JSON object keyed by the *member name* of the model (never the wire name); absent
//!   members are omitted;
//! - list: array; map: object;
//! - string and enum: string; integer/long: integer; float/double: number; boolean: bool;
//! - timestamp: number of seconds since the epoch (fraction allowed);
//! - blob: standard base64 string;
//! - document: any JSON value.

/// Index of a shape in [`ServiceModel::shapes`].
pub type ShapeId = u16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    AwsJson1_0,
    AwsJson1_1,
    RestJson1,
    AwsQuery,
    Ec2Query,
}

#[derive(Debug)]
pub struct ServiceModel {
    /// The aws-sdk id, lower case (`ssm`, `sts`, `ec2`, `ram`).
    pub id: &'static str,
    /// SigV4 signing name (the credential scope's service).
    pub signing_name: &'static str,
    pub endpoint_prefix: &'static str,
    pub protocol: Protocol,
    pub api_version: &'static str,
    /// `X-Amz-Target` prefix for the JSON protocols (`AmazonSSM`).
    pub target_prefix: Option<&'static str>,
    /// XML namespace of query responses (`https://sts.amazonaws.com/doc/2011-06-15/`).
    pub xml_namespace: Option<&'static str>,
    /// Prefix of IAM action names (`ssm` in `ssm:PutParameter`).
    pub iam_prefix: &'static str,
    pub operations: &'static [OperationModel],
    pub shapes: &'static [Shape],
}

#[derive(Debug)]
pub struct OperationModel {
    pub name: &'static str,
    pub http_method: &'static str,
    /// Request URI template (`/createresourceshare`, `/x/{Label}?literal`).
    pub request_uri: &'static str,
    /// HTTP status of a successful response (`http.responseCode`, default 200).
    pub success_code: u16,
    pub input: Option<ShapeId>,
    pub output: Option<ShapeId>,
    /// awsQuery result element name (`GetCallerIdentityResult`).
    pub result_wrapper: Option<&'static str>,
    pub errors: &'static [ShapeId],
    /// Whether serde's JSON of the output's generated type (its canonical value, written as it
    /// is) is exactly the awsJson response body the model-driven writer produces, so that the
    /// awsJson codec may write the typed output straight away: in the output shape and every
    /// shape under it, every member goes under its own name (no `locationName` that differs),
    /// every timestamp is written in epoch seconds, there is no `float` (an `f32` widened to a
    /// canonical `f64` prints other digits) and no document (whose nulls the model-driven writer
    /// leaves out). Member order and the omission of absent members already agree. `false` for an
    /// operation without an output shape (answered `{}` by the model-driven writer). Decided by
    /// `cargo xtask codegen` from the model, whatever the protocol; only awsJson reads it.
    pub canonical_json_is_wire: bool,
}

#[derive(Debug)]
pub struct Shape {
    pub name: &'static str,
    pub kind: ShapeKind,
    /// `sensitive` in the model: never logged or written to the audit trail.
    pub sensitive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampFormat {
    EpochSeconds,
    Iso8601,
    Rfc822,
}

#[derive(Debug)]
pub enum ShapeKind {
    Structure {
        members: &'static [Member],
        /// Member name bound to the HTTP payload (REST protocols).
        payload: Option<&'static str>,
        /// Present on error shapes.
        error: Option<ErrorTrait>,
        /// `document: true` shapes carry arbitrary JSON.
        document: bool,
        /// XML element name override of the structure (`locationName` on the shape).
        xml_name: Option<&'static str>,
    },
    List {
        member: ShapeId,
        /// `locationName` of the list member (`member`, `item`, or a custom name).
        member_name: Option<&'static str>,
        flattened: bool,
        min: Option<i64>,
        max: Option<i64>,
    },
    Map {
        key: ShapeId,
        value: ShapeId,
        key_name: Option<&'static str>,
        value_name: Option<&'static str>,
        flattened: bool,
        min: Option<i64>,
        max: Option<i64>,
    },
    String {
        enum_values: &'static [&'static str],
        min: Option<i64>,
        max: Option<i64>,
        pattern: Option<&'static str>,
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
        format: Option<TimestampFormat>,
    },
    Blob {
        min: Option<i64>,
        max: Option<i64>,
    },
}

/// The `error` trait of an error shape.
#[derive(Debug, Clone, Copy)]
pub struct ErrorTrait {
    /// Wire code when it differs from the shape name (awsQuery `error.code`).
    pub code: Option<&'static str>,
    pub status: u16,
    pub sender_fault: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Body,
    Header,
    /// A map of headers sharing the prefix in `location_name`.
    Headers,
    Uri,
    QueryString,
    StatusCode,
}

#[derive(Debug)]
pub struct Member {
    pub name: &'static str,
    pub target: ShapeId,
    pub required: bool,
    pub location: Location,
    /// `locationName`: header name, URI label, query key, JSON/XML wire name.
    pub location_name: Option<&'static str>,
    /// ec2Query request key override (`queryName`).
    pub query_name: Option<&'static str>,
    pub flattened: bool,
    pub xml_attribute: bool,
    pub xml_namespace: Option<&'static str>,
    pub timestamp_format: Option<TimestampFormat>,
    pub idempotency_token: bool,
    /// Header members carrying base64-encoded JSON (`jsonvalue`).
    pub json_value: bool,
    pub host_label: bool,
}

impl ServiceModel {
    pub fn shape(&self, id: ShapeId) -> &'static Shape {
        &self.shapes[id as usize]
    }

    pub fn operation(&self, name: &str) -> Option<&'static OperationModel> {
        self.operations.iter().find(|op| op.name == name)
    }
}

/// A generated wire enum from its AWS name, for values a service keeps as AWS spells them
/// (`"PendingDeletion"`, `"ASSOCIATED"`). Only for names the service itself chose: a name that is
/// not a value of the enum is a bug of the caller.
pub fn wire_enum<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .unwrap_or_else(|_| panic!("`{name}` is not a value of the wire enum"))
}
