//! EventBridge events of Parameter Store (`source: aws.ssm`), written to the outbox in the same
//! unit of work as the change they describe.

use crate::datatypes::TEXT;
use crate::store::ParameterRecord;
use ingot_core::{IdGen, RequestContext, Timestamp};
use ingot_store::Tx;
use serde::Serialize;
use serde_json::json;

/// An EventBridge event as AWS delivers it.
#[derive(Serialize)]
struct Envelope<'a, D> {
    version: &'static str,
    id: String,
    #[serde(rename = "detail-type")]
    detail_type: &'a str,
    source: &'static str,
    account: &'a str,
    time: String,
    region: &'a str,
    resources: [&'a str; 1],
    detail: D,
}

/// The detail of `Parameter Store Change`.
#[derive(Serialize)]
struct ChangeDetail<'a> {
    operation: &'a str,
    name: &'a str,
    #[serde(rename = "type")]
    parameter_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(rename = "dataType", skip_serializing_if = "Option::is_none")]
    data_type: Option<&'a str>,
}

/// Where and when events are written.
pub struct Events<'a> {
    tx: &'a Tx,
    ids: &'a IdGen,
    account: &'a str,
    region: &'a str,
    now: Timestamp,
}

impl<'a> Events<'a> {
    pub fn new(tx: &'a Tx, ids: &'a IdGen, account: &'a str, region: &'a str, now: Timestamp) -> Self {
        Events { tx, ids, account, region, now }
    }

    pub fn of(ctx: &'a RequestContext<'_>) -> Self {
        Events::new(&ctx.tx, ctx.ids, ctx.account.as_str(), ctx.region.as_str(), ctx.now)
    }

    /// Writes the event envelope around `detail`, typed: a `json!` map cost a PutParameter more
    /// than its store writes.
    fn emit(&self, detail_type: &str, arn: &str, detail: impl Serialize) {
        let event = Envelope {
            version: "0",
            id: self.ids.uuid(),
            detail_type,
            source: "aws.ssm",
            account: self.account,
            time: Timestamp(self.now.0 - self.now.0.rem_euclid(1000)).to_iso8601(),
            region: self.region,
            resources: [arn],
            detail,
        };
        // Strings and plain structures only: serializing cannot fail.
        let payload = serde_json::to_vec(&event).unwrap_or_default();
        self.tx.emit(ingot_core::EVENTS_TOPIC, payload);
    }

    /// `Parameter Store Change`: `operation` is `Create`, `Update`, `Delete`,
    /// `LabelParameterVersion` or `UnlabelParameterVersion`.
    pub fn change(&self, record: &ParameterRecord, arn: &str, operation: &str) {
        let detail = ChangeDetail {
            operation,
            name: &record.name,
            parameter_type: record.parameter_type.as_str(),
            description: record.description.as_deref(),
            data_type: (record.data_type != TEXT).then_some(record.data_type.as_str()),
        };
        self.emit("Parameter Store Change", arn, detail);
    }

    /// `Parameter Store Policy Action`: a policy was applied.
    pub fn policy_action(&self, record: &ParameterRecord, arn: &str, policy_type: &str, reason: &str) {
        let detail = json!({
            "parameter-name": record.name,
            "name": record.name,
            "parameter-type": record.parameter_type.as_str(),
            "policy-type": policy_type,
            "action-status": "Finished",
            "action-reason": reason,
        });
        self.emit("Parameter Store Policy Action", arn, detail);
    }
}
