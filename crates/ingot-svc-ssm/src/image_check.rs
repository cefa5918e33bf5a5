//! `aws:ec2:image` parameters: after PutParameter has answered, AWS checks that the value names
//! an image that exists and that the caller may use, and only then is the write kept. Ingot does
//! the same with a job that acts as the caller: it asks EC2 (DescribeImages, as the caller through
//! SSM) and then announces the change (`Parameter Store Change`), or takes the write back (a new
//! parameter disappears, an update leaves the previous version current) and announces the failure
//! with `exception`, as AWS does.

use crate::errors::SsmError;
use crate::events::Events;
use crate::names::parameter_arn;
use crate::store::{self, ParameterRecord};
use async_trait::async_trait;
use ingot_core::{Call, CommonKind, Origin, RequestContext, ServiceFailure, Timestamp};
use ingot_jobs::{JobContext, JobError, JobHandler, JobOutcome, JobRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const JOB_KIND: &str = "ssm.image-check";

/// What AWS names a failed check in the event.
const FAILURE: &str = "Unable to Describe Resource";

/// A write of an `aws:ec2:image` parameter waiting for its check.
#[derive(Debug, Serialize, Deserialize)]
struct Check {
    /// The parameter's canonical name.
    name: String,
    version: i64,
    /// When the write was made: with the version, it tells this write from a later one that
    /// reached the same version number (the parameter deleted and created again).
    written: Timestamp,
    image_id: String,
    /// `Create` or `Update`.
    operation: String,
}

/// Schedules the check of the version a PutParameter just wrote, as the caller, due at once.
pub fn schedule(ctx: &RequestContext<'_>, canonical: &str, version: i64, image_id: &str, operation: &str) {
    let check = Check {
        name: canonical.to_string(),
        version,
        written: ctx.now,
        image_id: image_id.to_string(),
        operation: operation.to_string(),
    };
    let payload = serde_json::to_value(check).unwrap_or_default();
    let principal = Some(ctx.principal.clone());
    ingot_jobs::schedule_as(&ctx.tx, ctx.ids(), ctx.scope, JOB_KIND, ctx.now, payload, principal);
}

/// Whether the caller may see the image, asked of EC2 as the caller through SSM.
async fn image_usable(ctx: &RequestContext<'_>, image_id: &str) -> Result<bool, JobError> {
    let origin = Origin { via_service: Some("ssm.amazonaws.com"), ..ctx.origin };
    let call = Call { service: "ec2", operation: "DescribeImages", scope: ctx.scope, principal: ctx.principal, origin };
    match ctx.env.invoker.invoke(ctx.env, call, json!({ "ImageIds": [image_id] })).await {
        Ok(output) => Ok(output["Images"]
            .as_array()
            .is_some_and(|images| images.iter().any(|i| i["ImageId"] == image_id && i["State"] == "available"))),
        Err(ServiceFailure::Common(e)) if e.kind == CommonKind::InternalFailure => Err(JobError::new(e.message)),
        Err(_) => Ok(false),
    }
}

/// Takes back the write of `check`: a parameter created by it is removed; an update leaves the
/// version before it current. A later write of the parameter has already replaced it: then only
/// the failure is announced.
async fn take_back(ctx: &RequestContext<'_>, check: &Check, record: &ParameterRecord) -> Result<(), SsmError> {
    if record.version != check.version || record.last_modified != check.written {
        return Ok(());
    }
    if record.oldest_version >= check.version {
        return store::remove(&ctx.tx, ctx.scope, &check.name, record).await;
    }
    let Some(previous) = store::load_version(&ctx.tx, ctx.scope, &check.name, check.version - 1).await? else {
        return Ok(());
    };
    let mut restored = record.clone();
    restored.parameter_type = previous.parameter_type;
    restored.value = previous.value;
    restored.version = previous.version;
    restored.last_modified = previous.last_modified;
    restored.last_modified_user = previous.last_modified_user;
    restored.data_type = previous.data_type;
    restored.description = previous.description;
    restored.allowed_pattern = previous.allowed_pattern;
    restored.key_id = previous.key_id;
    restored.labels.retain(|_, version| *version != check.version);
    ctx.tx.delete(&store::version_key(ctx.scope, &check.name, check.version));
    store::save(&ctx.tx, ctx.scope, &check.name, &restored);
    Ok(())
}

/// Runs `ssm.image-check` jobs.
pub struct ImageCheckJob;

#[async_trait]
impl JobHandler for ImageCheckJob {
    fn kind(&self) -> &'static str {
        JOB_KIND
    }

    fn service(&self) -> &'static str {
        "ssm"
    }

    async fn run(&self, job: &JobRecord, ctx: &JobContext<'_>) -> Result<JobOutcome, JobError> {
        let failed = |e: SsmError| JobError::new(format!("{e:?}"));
        let check: Check =
            serde_json::from_value(job.payload.clone()).map_err(|e| JobError::new(format!("bad payload: {e}")))?;
        let Some(record) = store::load(ctx, &check.name).await.map_err(failed)? else {
            return Ok(JobOutcome::Done);
        };
        let arn = parameter_arn(ctx.scope, &check.name);
        if image_usable(ctx, &check.image_id).await? {
            Events::of(ctx).change(&record, &arn, &check.operation);
        } else {
            take_back(ctx, &check, &record).await.map_err(failed)?;
            Events::of(ctx).change_failed(&record, &arn, &check.operation, FAILURE);
            ctx.record("PutParameter", json!({ "name": record.name, "version": check.version, "exception": FAILURE }));
        }
        Ok(JobOutcome::Done)
    }
}
