//! Service events in EventBridge's envelope (`Parameter Store Change`, `EC2 AMI State Change`,
//! …), written to the outbox in the unit of work of the change they describe: an event exists if
//! and only if its change committed.

use crate::context::RequestContext;
use crate::time::Timestamp;
use serde::Serialize;

/// An EventBridge event as AWS delivers it.
#[derive(Serialize)]
struct Envelope<'a, D> {
    version: &'static str,
    id: String,
    #[serde(rename = "detail-type")]
    detail_type: &'a str,
    source: &'a str,
    account: &'a str,
    time: String,
    region: &'a str,
    resources: &'a [&'a str],
    detail: D,
}

/// Writes an event of `source` (`aws.ssm`) about `resources` into the call's unit of work, in
/// the call's account and region, stamped with the call's time (whole seconds, as AWS does).
pub fn emit(ctx: &RequestContext<'_>, source: &str, detail_type: &str, resources: &[&str], detail: impl Serialize) {
    let now = ctx.now;
    let event = Envelope {
        version: "0",
        id: ctx.ids().uuid(),
        detail_type,
        source,
        account: ctx.account().as_str(),
        time: Timestamp(now.0 - now.0.rem_euclid(1000)).to_iso8601(),
        region: ctx.region().as_str(),
        resources,
        detail,
    };
    match serde_json::to_vec(&event) {
        Ok(payload) => ctx.tx.emit(crate::EVENTS_TOPIC, payload),
        // Only a detail type with a failing `Serialize` can get here: a bug, logged.
        Err(e) => tracing::error!(error = %e, detail_type, "an event could not be written"),
    }
}
