//! EventBridge events of Parameter Store (`source: aws.ssm`), written to the outbox in the same
//! unit of work as the change they describe.

use crate::datatypes::TEXT;
use crate::store::ParameterRecord;
use ingot_core::RequestContext;
use serde::Serialize;
use serde_json::json;

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

/// The events of one call or job, written into its unit of work.
pub struct Events<'a, 'c> {
    ctx: &'a RequestContext<'c>,
}

impl<'a, 'c> Events<'a, 'c> {
    pub fn of(ctx: &'a RequestContext<'c>) -> Self {
        Events { ctx }
    }

    fn emit(&self, detail_type: &str, arn: &str, detail: impl Serialize) {
        ingot_core::event::emit(self.ctx, "aws.ssm", detail_type, &[arn], detail);
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

    /// `Parameter Store Change` of a write that did not happen: the check of an `aws:ec2:image`
    /// value failed with `exception`.
    pub fn change_failed(&self, record: &ParameterRecord, arn: &str, operation: &str, exception: &str) {
        let detail = json!({
            "exception": exception,
            "dataType": record.data_type,
            "name": record.name,
            "type": record.parameter_type.as_str(),
            "operation": operation,
        });
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
