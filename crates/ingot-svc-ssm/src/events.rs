//! EventBridge events of Parameter Store (`source: aws.ssm`), written to the outbox in the same
//! unit of work as the change they describe.

use crate::datatypes::TEXT;
use crate::store::ParameterRecord;
use ingot_core::{IdGen, RequestContext, Timestamp};
use ingot_store::Tx;
use serde_json::{json, Value};

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
        Events::new(&ctx.tx, &ctx.ids, ctx.account.as_str(), ctx.region.as_str(), ctx.now)
    }

    fn emit(&self, detail_type: &str, arn: &str, detail: Value) {
        let event = json!({
            "version": "0",
            "id": self.ids.uuid(),
            "detail-type": detail_type,
            "source": "aws.ssm",
            "account": self.account,
            "time": Timestamp(self.now.0 - self.now.0.rem_euclid(1000)).to_iso8601(),
            "region": self.region,
            "resources": [arn],
            "detail": detail,
        });
        self.tx.emit(ingot_core::EVENTS_TOPIC, event.to_string().into_bytes());
    }

    /// `Parameter Store Change`: `operation` is `Create`, `Update`, `Delete`,
    /// `LabelParameterVersion` or `UnlabelParameterVersion`.
    pub fn change(&self, record: &ParameterRecord, arn: &str, operation: &str) {
        let mut detail = json!({
            "operation": operation,
            "name": record.name,
            "type": record.parameter_type.as_str(),
        });
        if let Some(d) = &record.description {
            detail["description"] = Value::from(d.as_str());
        }
        if record.data_type != TEXT {
            detail["dataType"] = Value::from(record.data_type.as_str());
        }
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
