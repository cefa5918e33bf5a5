//! Parameter Store's access decisions, in one place: the reserved `aws` prefix, which no
//! principal may write whatever its policies say, and then the authorizer, asked with the
//! operation's action and the parameter's ARN.

use crate::errors::SsmError;
use crate::names::ParameterName;
use ingot_core::{Access, CommonError, Operation, RequestContext};

/// Authorizes `Op`, which writes parameter `name` (at `arn`).
pub async fn authorize_write<Op: Operation>(
    ctx: &RequestContext<'_>,
    name: &ParameterName,
    arn: &str,
) -> Result<(), SsmError> {
    if name.reserved {
        let canonical = &name.canonical;
        return Err(CommonError::access_denied(format!("No access to reserved parameter name: {canonical}.")).into());
    }
    Ok(ctx.authorize::<Op>(Access::resource(arn)).await?)
}

/// Authorizes `Op` on one resource (a parameter it reads or tags).
pub async fn authorize<Op: Operation>(ctx: &RequestContext<'_>, arn: &str) -> Result<(), SsmError> {
    Ok(ctx.authorize::<Op>(Access::resource(arn)).await?)
}

/// Authorizes `Op`, which is not about one parameter (DescribeParameters).
pub async fn authorize_any<Op: Operation>(ctx: &RequestContext<'_>) -> Result<(), SsmError> {
    Ok(ctx.authorize::<Op>(Access::any_resource()).await?)
}
