//! CloudTrail-style audit records: one per API call, successful or not, written to the outbox in
//! the same commit as the call's changes. Sensitive values are redacted using the model.

use ingot_core::model::{OperationModel, ServiceModel};
use ingot_core::{Principal, PrincipalKind, Timestamp};
use serde_json::{json, Map, Value};

pub use ingot_core::AUDIT_TOPIC;

/// How long an audit record of a call that changed nothing may wait before it is written.
const FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);
/// Pending records that trigger a write before the interval ends.
const FLUSH_AT: usize = 1024;

/// Audit records of calls that changed nothing. Writing each one in a commit of its own made
/// every read a disk write; collected, they cost one commit per interval. A crash loses at most
/// the last interval of read audit records; records of calls that changed state are never
/// buffered (they commit with the change).
#[derive(Default)]
pub(crate) struct AuditBuffer {
    pending: std::sync::Mutex<Vec<ingot_store::OutboxEntry>>,
    full: tokio::sync::Notify,
}

impl AuditBuffer {
    pub fn push(&self, record: &serde_json::Value) {
        let entry =
            ingot_store::OutboxEntry { topic: AUDIT_TOPIC.to_string(), payload: record.to_string().into_bytes() };
        let len = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.push(entry);
            pending.len()
        };
        if len >= FLUSH_AT {
            self.full.notify_one();
        }
    }

    /// Writes what is pending in one commit.
    pub async fn flush(&self, store: &dyn ingot_store::Store) {
        let outbox = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        if outbox.is_empty() {
            return;
        }
        let count = outbox.len();
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
            // CloudTrail leaves the response out of read-only events.
            "responseElements": if self.read_only {
                Value::Null
            } else {
                redacted(self.operation.and_then(|op| op.output), self.output)
            },
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
