//! EC2's access decisions: the authorizer's answer, in EC2's words. A refusal is
//! `UnauthorizedOperation` with AWS's sentence and an encoded authorization failure message that
//! STS DecodeAuthorizationMessage turns back into the decision's details.

use crate::errors::Ec2Error;
use ingot_core::authz::encode_authorization_message;
use ingot_core::{Access, CommonError, CommonKind, Operation, RequestContext};
use serde_json::json;

/// `arn:PARTITION:ec2:REGION:ACCOUNT:TYPE/ID` in the caller's scope.
pub fn resource_arn(ctx: &RequestContext<'_>, resource_type: &str, id: &str) -> String {
    ctx.scope.arn("ec2", &[resource_type, "/", id].concat())
}

/// Authorizes `Op` on `access`; a refusal comes back as EC2's `UnauthorizedOperation`.
pub async fn authorize<Op: Operation>(ctx: &RequestContext<'_>, access: Access<'_>) -> Result<(), Ec2Error> {
    let resource = access.resources.iter().next().unwrap_or("*").to_string();
    match ctx.authorize::<Op>(access).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind == CommonKind::AccessDenied => Err(unauthorized(ctx, Op::IAM_ACTION, &resource, &e.message)),
        Err(e) => Err(e.into()),
    }
}

fn unauthorized(ctx: &RequestContext<'_>, action: &str, resource: &str, reason: &str) -> Ec2Error {
    let details = json!({
        "allowed": false,
        "explicitDeny": reason.contains("explicit deny"),
        "matchedStatements": { "items": [] },
        "failures": { "items": [] },
        "context": {
            "principal": { "id": ctx.principal.user_id, "arn": ctx.principal.arn },
            "action": action,
            "resource": resource,
            "conditions": { "items": [] },
        },
    });
    let encoded = encode_authorization_message(ctx.secrets(), ctx.ids(), &details.to_string());
    CommonError::access_denied(format!(
        "You are not authorized to perform this operation. {reason}. Encoded authorization failure message: {encoded}"
    ))
    .into()
}
