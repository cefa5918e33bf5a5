//! CloudTrail-style audit records: one per API call, successful or not, written to the outbox in
//! the same commit as the call's changes. Sensitive values are redacted using the model.
//!
//! An entry of the outbox topic `audit` holds one or more records, one JSON object per line.

use ingot_core::model::{OperationModel, ServiceModel};
use ingot_core::{Principal, PrincipalKind, Timestamp};
use serde_json::{Map, Value};

pub use ingot_core::AUDIT_TOPIC;

/// How long an audit record of a call that changed nothing may wait before it is written.
const FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);
/// Pending records that trigger a write before the interval ends.
const FLUSH_AT: usize = 1024;

/// Records one outbox entry of the flusher carries at most (one JSON record per line).
const RECORDS_PER_ENTRY: usize = 256;

/// Audit records of calls that changed nothing. Writing each one in a commit of its own made
/// every read a disk write; collected, they cost one commit per interval, and are written as
/// outbox entries of up to [`RECORDS_PER_ENTRY`] records, one JSON record per line, so the
/// commit appends a few rows instead of one per call. A crash loses at most the last interval
/// of read audit records; records of calls that changed state are never buffered (they commit
/// with the change, one record per entry).
#[derive(Default)]
pub(crate) struct AuditBuffer {
    pending: std::sync::Mutex<Vec<Vec<u8>>>,
    full: tokio::sync::Notify,
}

impl AuditBuffer {
    pub fn push(&self, record: Vec<u8>) {
        let len = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.push(record);
            pending.len()
        };
        if len >= FLUSH_AT {
            self.full.notify_one();
        }
    }

    /// Writes what is pending in one commit.
    pub async fn flush(&self, store: &dyn ingot_store::Store) {
        let records = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        if records.is_empty() {
            return;
        }
        let count = records.len();
        let outbox = records
            .chunks(RECORDS_PER_ENTRY)
            .map(|chunk| ingot_store::OutboxEntry { topic: AUDIT_TOPIC.to_string(), payload: chunk.join(&b'\n') })
            .collect();
        if let Err(e) = store.commit(ingot_store::Batch { outbox, ..Default::default() }).await {
            tracing::warn!(error = %e, count, "audit records were not written");
        }
    }

    /// Flushes every interval, or sooner when many records wait, until `stop` turns true.
    pub async fn run(&self, store: &dyn ingot_store::Store, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(FLUSH_INTERVAL) => {}
                () = self.full.notified() => {}
                _ = stop.changed() => {
                    self.flush(store).await;
                    return;
                }
            }
            self.flush(store).await;
        }
    }
}

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
    /// The call's input, already redacted ([`request_parameters`]); `Null` when unknown.
    pub request_parameters: &'a Value,
    pub output: Option<&'a Value>,
    pub error: Option<(String, Option<String>)>,
    pub read_only: bool,
}

/// The input of `operation` as an audit record shows it: sensitive values hidden, keys in
/// lower camel case.
pub(crate) fn request_parameters(model: &ServiceModel, operation: &OperationModel, input: &Value) -> Value {
    as_recorded(model, operation.input, Some(input))
}

/// A value of `shape` as the record shows it (redacted, lower-camel keys); `Null` without both.
fn as_recorded(model: &ServiceModel, shape: Option<u16>, value: Option<&Value>) -> Value {
    match (shape, value) {
        (Some(shape), Some(value)) => camel_keys(ingot_protocol::redact(model, shape, value)),
        _ => Value::Null,
    }
}

/// The record as written: field order and names follow CloudTrail's event records.
#[derive(serde::Serialize)]
struct RecordJson<'a> {
    #[serde(rename = "eventVersion")]
    event_version: &'static str,
    #[serde(rename = "userIdentity")]
    user_identity: UserIdentity<'a>,
    #[serde(rename = "eventTime")]
    event_time: String,
    #[serde(rename = "eventSource")]
    event_source: String,
    #[serde(rename = "eventName")]
    event_name: &'a str,
    #[serde(rename = "awsRegion")]
    aws_region: &'a str,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: &'a str,
    #[serde(rename = "userAgent")]
    user_agent: &'a str,
    #[serde(rename = "requestParameters")]
    request_parameters: &'a Value,
    #[serde(rename = "responseElements")]
    response_elements: Value,
    #[serde(rename = "requestID")]
    request_id: &'a str,
    #[serde(rename = "eventID")]
    event_id: &'a str,
    #[serde(rename = "readOnly")]
    read_only: bool,
    #[serde(rename = "eventType")]
    event_type: &'static str,
    #[serde(rename = "managementEvent")]
    management_event: bool,
    #[serde(rename = "recipientAccountId")]
    recipient_account_id: Option<&'a str>,
    #[serde(rename = "errorCode", skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(rename = "errorMessage", skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct UserIdentity<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "principalId", skip_serializing_if = "Option::is_none")]
    principal_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<&'a str>,
    #[serde(rename = "accountId", skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
    #[serde(rename = "accessKeyId")]
    access_key_id: Option<&'a str>,
}

impl AuditCall<'_> {
    /// The record as JSON bytes, ready for the outbox.
    pub fn to_bytes(&self) -> Vec<u8> {
        let record = RecordJson {
            event_version: "1.08",
            user_identity: self.user_identity(),
            event_time: self.time.to_iso8601(),
            event_source: [self.model.endpoint_prefix, ".amazonaws.com"].concat(),
            event_name: self.operation.map_or("Unknown", |op| op.name),
            aws_region: self.region,
            source_ip_address: self.source_ip,
            user_agent: self.user_agent,
            request_parameters: self.request_parameters,
            // CloudTrail leaves the response out of read-only events.
            response_elements: if self.read_only {
                Value::Null
            } else {
                as_recorded(self.model, self.operation.and_then(|op| op.output), self.output)
            },
            request_id: self.request_id,
            event_id: &self.event_id,
            read_only: self.read_only,
            event_type: "AwsApiCall",
            management_event: true,
            recipient_account_id: self.principal.map(|p| p.account.as_str()),
            error_code: self.error.as_ref().map(|(code, _)| code.as_str()),
            error_message: self.error.as_ref().and_then(|(_, message)| message.as_deref()),
        };
        // Every field is a string, number, bool or JSON value: serializing cannot fail.
        serde_json::to_vec(&record).unwrap_or_default()
    }

    fn user_identity(&self) -> UserIdentity<'_> {
        let Some(p) = self.principal else {
            return UserIdentity {
                kind: "Unknown",
                principal_id: None,
                arn: None,
                account_id: None,
                access_key_id: self.access_key_id,
            };
        };
        let kind = match p.kind {
            PrincipalKind::Root => "Root",
            PrincipalKind::User => "IAMUser",
            PrincipalKind::AssumedRole => "AssumedRole",
            PrincipalKind::Internal => "AWSService",
        };
        UserIdentity {
            kind,
            principal_id: Some(&p.user_id),
            arn: Some(&p.arn),
            account_id: Some(p.account.as_str()),
            access_key_id: self.access_key_id,
        }
    }
}

/// CloudTrail writes parameters with lower-camel keys (`name`, `overwrite`).
fn camel_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (mut key, v) in map {
                // Model member names start with an ASCII letter: lower it in place.
                if let Some(first) = key.get_mut(..1) {
                    first.make_ascii_lowercase();
                }
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
    use serde_json::json;

    #[test]
    fn keys_become_lower_camel_at_every_depth() {
        let v = camel_keys(json!({"Name": "x", "Tags": [{"Key": "k"}]}));
        assert_eq!(v, json!({"name": "x", "tags": [{"key": "k"}]}));
    }
}
