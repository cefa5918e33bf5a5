//! Whose key is this: GetAccessKeyInfo.

use crate::errors::StsError;
use crate::operations::GetAccessKeyInfo;
use crate::types::{GetAccessKeyInfoRequest, GetAccessKeyInfoResponse};
use crate::Sts;
use ingot_core::credentials::{access_key_storage_key, account_of_access_key_id, AccessKeyRecord};
use ingot_core::{Access, CommonError, Handler, RequestContext};

impl Handler<GetAccessKeyInfo> for Sts {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: GetAccessKeyInfoRequest,
    ) -> Result<GetAccessKeyInfoResponse, StsError> {
        ctx.authorize::<GetAccessKeyInfo>(Access::any_resource()).await?;
        let id = input.access_key_id;
        // A key Ingot issued is on record; any other well-formed key id names its account in its
        // own bits, which AWS reads without looking the key up (it need not exist).
        let account = match ctx.tx.get_record::<AccessKeyRecord>(&access_key_storage_key(&id)).await? {
            Some(record) => Some(record.principal.account),
            None => account_of_access_key_id(&id),
        };
        match account {
            Some(account) => Ok(GetAccessKeyInfoResponse { account: Some(account.to_string()) }),
            None => Err(CommonError::validation(format!("The access key ID {id} is not valid.")).into()),
        }
    }
}
