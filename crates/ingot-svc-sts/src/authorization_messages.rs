//! DecodeAuthorizationMessage: the details behind an encoded authorization failure (EC2's
//! `UnauthorizedOperation … Encoded authorization failure message: …`). Messages are sealed
//! under the master key by `ingot_core::authz::encode_authorization_message`, so only this
//! installation can read them and nobody can forge one.

use crate::errors::StsError;
use crate::operations::DecodeAuthorizationMessage;
use crate::types::{DecodeAuthorizationMessageRequest, DecodeAuthorizationMessageResponse};
use crate::Sts;
use ingot_core::authz::decode_authorization_message;
use ingot_core::{Access, Handler, RequestContext};

impl Handler<DecodeAuthorizationMessage> for Sts {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: DecodeAuthorizationMessageRequest,
    ) -> Result<DecodeAuthorizationMessageResponse, StsError> {
        ctx.authorize::<DecodeAuthorizationMessage>(Access::any_resource()).await?;
        match decode_authorization_message(ctx.secrets(), &input.encoded_message) {
            Some(decoded) => Ok(DecodeAuthorizationMessageResponse { decoded_message: Some(decoded) }),
            None => {
                Err(StsError::invalid_authorization_message_exception("The encoded authorization message is invalid."))
            }
        }
    }
}
