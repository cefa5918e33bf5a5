//! EBS encryption by default, per account and region: EnableEbsEncryptionByDefault,
//! DisableEbsEncryptionByDefault, GetEbsEncryptionByDefault, GetEbsDefaultKmsKeyId,
//! ModifyEbsDefaultKmsKeyId, ResetEbsDefaultKmsKeyId. The key is AWS managed `alias/aws/ebs`
//! until the account names its own; volumes made from then on are encrypted with it.

use crate::access::authorize;
use crate::errors::Ec2Error;
use crate::operations::{
    DisableEbsEncryptionByDefault, EnableEbsEncryptionByDefault, GetEbsDefaultKmsKeyId, GetEbsEncryptionByDefault,
    ModifyEbsDefaultKmsKeyId, ResetEbsDefaultKmsKeyId,
};
use crate::store::{ebs_defaults_key, EbsDefaultsRecord};
use crate::types;
use crate::Ec2;
use ingot_core::{Access, Handler, RequestContext};

/// The key new volumes are encrypted with when the account names none.
pub const DEFAULT_EBS_KEY: &str = "alias/aws/ebs";

async fn load(ctx: &RequestContext<'_>) -> Result<EbsDefaultsRecord, Ec2Error> {
    Ok(ctx.tx.get_record(&ebs_defaults_key(ctx.scope)).await?.unwrap_or_default())
}

fn save(ctx: &RequestContext<'_>, record: &EbsDefaultsRecord) {
    ctx.tx.put_record(&ebs_defaults_key(ctx.scope), record);
}

/// The default key as the Get/Modify/Reset calls report it: an ARN.
fn reported_key(ctx: &RequestContext<'_>, record: &EbsDefaultsRecord) -> String {
    match &record.kms_key_id {
        Some(key) if key.starts_with("arn:") => key.clone(),
        Some(key) if key.starts_with("alias/") => ctx.scope.arn("kms", key),
        Some(key) => ctx.scope.arn("kms", &["key/", key].concat()),
        None => ctx.scope.arn("kms", DEFAULT_EBS_KEY),
    }
}

/// Whether `key` has one of the forms a KMS key reference takes (id, ARN, alias, alias ARN).
fn well_formed_key(key: &str) -> bool {
    let uuid = |s: &str| s.len() == 36 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if let Some(rest) = key.strip_prefix("arn:") {
        return rest.contains(":kms:") && (rest.contains(":key/") || rest.contains(":alias/"));
    }
    key.strip_prefix("alias/").is_some_and(|n| !n.is_empty()) || uuid(key) || key.starts_with("mrk-")
}

impl Handler<EnableEbsEncryptionByDefault> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::EnableEbsEncryptionByDefaultRequest,
    ) -> Result<types::EnableEbsEncryptionByDefaultResult, Ec2Error> {
        authorize::<EnableEbsEncryptionByDefault>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let mut record = load(ctx).await?;
        if !record.encryption_by_default {
            record.encryption_by_default = true;
            save(ctx, &record);
        }
        Ok(types::EnableEbsEncryptionByDefaultResult { ebs_encryption_by_default: Some(true) })
    }
}

impl Handler<DisableEbsEncryptionByDefault> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DisableEbsEncryptionByDefaultRequest,
    ) -> Result<types::DisableEbsEncryptionByDefaultResult, Ec2Error> {
        authorize::<DisableEbsEncryptionByDefault>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let mut record = load(ctx).await?;
        if record.encryption_by_default {
            record.encryption_by_default = false;
            save(ctx, &record);
        }
        Ok(types::DisableEbsEncryptionByDefaultResult { ebs_encryption_by_default: Some(false) })
    }
}

impl Handler<GetEbsEncryptionByDefault> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GetEbsEncryptionByDefaultRequest,
    ) -> Result<types::GetEbsEncryptionByDefaultResult, Ec2Error> {
        authorize::<GetEbsEncryptionByDefault>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let record = load(ctx).await?;
        Ok(types::GetEbsEncryptionByDefaultResult {
            ebs_encryption_by_default: Some(record.encryption_by_default),
            sse_type: None,
        })
    }
}

impl Handler<GetEbsDefaultKmsKeyId> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GetEbsDefaultKmsKeyIdRequest,
    ) -> Result<types::GetEbsDefaultKmsKeyIdResult, Ec2Error> {
        authorize::<GetEbsDefaultKmsKeyId>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let record = load(ctx).await?;
        Ok(types::GetEbsDefaultKmsKeyIdResult { kms_key_id: Some(reported_key(ctx, &record)) })
    }
}

impl Handler<ModifyEbsDefaultKmsKeyId> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ModifyEbsDefaultKmsKeyIdRequest,
    ) -> Result<types::ModifyEbsDefaultKmsKeyIdResult, Ec2Error> {
        authorize::<ModifyEbsDefaultKmsKeyId>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        // AWS checks only the key's form here: a key that cannot be used fails the volumes
        // created with it later, as in AWS.
        if !well_formed_key(&input.kms_key_id) {
            return Err(Ec2Error::unmodeled(
                "InvalidParameterValue",
                400,
                format!("Value ({}) for parameter kmsKeyId is invalid.", input.kms_key_id),
            ));
        }
        let mut record = load(ctx).await?;
        record.kms_key_id = Some(input.kms_key_id);
        save(ctx, &record);
        Ok(types::ModifyEbsDefaultKmsKeyIdResult { kms_key_id: Some(reported_key(ctx, &record)) })
    }
}

impl Handler<ResetEbsDefaultKmsKeyId> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ResetEbsDefaultKmsKeyIdRequest,
    ) -> Result<types::ResetEbsDefaultKmsKeyIdResult, Ec2Error> {
        authorize::<ResetEbsDefaultKmsKeyId>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let mut record = load(ctx).await?;
        if record.kms_key_id.take().is_some() {
            save(ctx, &record);
        }
        Ok(types::ResetEbsDefaultKmsKeyIdResult { kms_key_id: Some(reported_key(ctx, &record)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_references_are_checked_for_their_form_only() {
        assert!(well_formed_key("alias/golden"));
        assert!(well_formed_key("1234abcd-12ab-34cd-56ef-1234567890ab"));
        assert!(well_formed_key("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"));
        assert!(!well_formed_key("nope") && !well_formed_key("alias/"));
    }
}
