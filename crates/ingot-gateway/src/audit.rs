//! CloudTrail-style audit records: one per API call, successful or not, written to the outbox in
//! the same commit as the call's changes. Sensitive values are redacted using the model.

use ingot_core::model::{OperationModel, ServiceModel};
use ingot_core::{Principal, PrincipalKind, Timestamp};
use serde_json::{json, Map, Value};

/// Outbox topic of audit records.
pub const AUDIT_TOPIC: &str = "audit";

pub(crate) struct AuditCall<'a> {
    pub model: &'static ServiceModel,
    pub operation: Option<&'static OperationModel>,
    /// `None` when authentication failed.
    pub principal: Option<&'a Principal>,
    pub access_key_id: Option<&'a str>,
    pub region: &'a str,
    pub time: Timestamp,
    pub source_ip: &'a str,
    pub user_agent: &'a str,
    pub request_id: &'a str,
    pub event_id: String,
    pub input: Option<&'a Value>,
    pub output: Option<&'a Value>,
    pub error: Option<(String, Option<String>)>,
    pub read_only: bool,
}

impl AuditCall<'_> {
    pub fn to_json(&self) -> Value {
        let redacted = |shape: Option<u16>, value: Option<&Value>| match (shape, value) {
            (Some(shape), Some(value)) => camel_keys(ingot_protocol::redact(self.model, shape, value)),
            _ => Value::Null,
        };
        let op_name = self.operation.map_or("Unknown", |op| op.name);
        let mut record = json!({
            "eventVersion": "1.08",
            "userIdentity": self.user_identity(),
            "eventTime": self.time.to_iso8601(),
            "eventSource": format!("{}.amazonaws.com", self.model.endpoint_prefix),
            "eventName": op_name,
            "awsRegion": self.region,
            "sourceIPAddress": self.source_ip,
            "userAgent": self.user_agent,
            "requestParameters": redacted(self.operation.and_then(|op| op.input), self.input),
            "responseElements": redacted(self.operation.and_then(|op| op.output), self.output),
            "requestID": self.request_id,
            "eventID": self.event_id,
            "readOnly": self.read_only,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": self.principal.map(|p| p.account.to_string()),
        });
        if let Some((code, message)) = &self.error {
            record["errorCode"] = Value::from(code.as_str());
            if let Some(m) = message {
                record["errorMessage"] = Value::from(m.as_str());
            }
        }
        record
    }

    fn user_identity(&self) -> Value {
        let Some(p) = self.principal else {
            return json!({ "type": "Unknown", "accessKeyId": self.access_key_id });
        };
        let kind = match p.kind {
            PrincipalKind::Root => "Root",
            PrincipalKind::User => "IAMUser",
            PrincipalKind::AssumedRole => "AssumedRole",
            PrincipalKind::Internal => "AWSService",
        };
        json!({
            "type": kind,
            "principalId": p.user_id,
            "arn": p.arn,
            "accountId": p.account.as_str(),
            "accessKeyId": self.access_key_id,
        })
    }
}

/// CloudTrail writes parameters with lower-camel keys (`name`, `overwrite`).
fn camel_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let mut chars = k.chars();
                let key = match chars.next() {
                    Some(first) => first.to_lowercase().chain(chars).collect(),
                    None => String::new(),
                };
                out.insert(key, camel_keys(v));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(camel_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_lower_camel_at_every_depth() {
        let v = camel_keys(json!({"Name": "x", "Tags": [{"Key": "k"}]}));
        assert_eq!(v, json!({"name": "x", "tags": [{"key": "k"}]}));
    }
}
