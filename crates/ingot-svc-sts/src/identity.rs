//! Who is calling: GetCallerIdentity.

use crate::errors::StsError;
use crate::operations::GetCallerIdentity;
use crate::types::{GetCallerIdentityRequest, GetCallerIdentityResponse};
use crate::Sts;
use ingot_core::{Handler, RequestContext};

impl Handler<GetCallerIdentity> for Sts {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        _input: GetCallerIdentityRequest,
    ) -> Result<GetCallerIdentityResponse, StsError> {
        // AWS requires no permission for this call (even an explicit deny does not block it),
        // because it returns nothing an access-denied message would not reveal.
        Ok(GetCallerIdentityResponse {
            user_id: Some(ctx.principal.user_id.clone()),
            account: Some(ctx.principal.account.to_string()),
            arn: Some(ctx.principal.arn.clone()),
        })
    }
}
