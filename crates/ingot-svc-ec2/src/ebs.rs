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
use ingot_core::{Access, Call, CommonError, Handler, Origin, RequestContext, ServiceFailure};
use serde_json::json;

/// The key new volumes are encrypted with when the account names none.
pub const DEFAULT_EBS_KEY: &str = "alias/aws/ebs";

/// The account's EBS defaults in this region.
pub async fn defaults(ctx: &RequestContext<'_>) -> Result<EbsDefaultsRecord, Ec2Error> {
    Ok(ctx.tx.get_record(&ebs_defaults_key(ctx.scope)).await?.unwrap_or_default())
}

fn save(ctx: &RequestContext<'_>, record: &EbsDefaultsRecord) {
    ctx.tx.put_record(&ebs_defaults_key(ctx.scope), record);
}

/// The default key as GetEbsDefaultKmsKeyId reports it: the key's ARN once the account chose
/// one, else the AWS managed alias.
fn reported_key(record: &EbsDefaultsRecord) -> String {
    record.kms_key_id.clone().unwrap_or_else(|| DEFAULT_EBS_KEY.to_string())
}

/// What EBS learns of a volume's key at attach time.
pub struct KeyUse {
    /// The key's ARN, when the caller may describe it.
    pub arn: Option<String>,
    /// Whether the caller may use it (DescribeKey, CreateGrant, and decrypting a data key).
    pub usable: bool,
}

/// Whether the caller may use `key` for a volume, asked of KMS as the caller through EC2.
pub async fn may_use_key(ctx: &RequestContext<'_>, key: &str) -> Result<KeyUse, Ec2Error> {
    let call = |operation: &'static str, input: serde_json::Value| async move {
        let origin = Origin { via_service: Some("ec2.amazonaws.com"), ..ctx.origin };
        let call = Call { service: "kms", operation, scope: ctx.scope, principal: ctx.principal, origin };
        ctx.env.invoker.invoke(ctx.env, call, input).await
    };
    let internal = |f: &ServiceFailure| matches!(f, ServiceFailure::Common(e) if e.kind == ingot_core::CommonKind::InternalFailure);
    let described = match call("DescribeKey", json!({ "KeyId": key })).await {
        Ok(output) => output,
        Err(f) if internal(&f) => return Err(CommonError::internal(format!("{f:?}")).into()),
        Err(_) => return Ok(KeyUse { arn: None, usable: false }),
    };
    let arn = described["KeyMetadata"]["Arn"].as_str().unwrap_or(key).to_string();
    let refused = KeyUse { arn: Some(arn.clone()), usable: false };
    if described["KeyMetadata"]["KeyState"] != "Enabled" {
        return Ok(refused);
    }
    let grant = json!({
        "KeyId": arn,
        "GranteePrincipal": ctx.principal.identity_arn(),
        "Operations": ["Decrypt", "Encrypt", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo", "DescribeKey", "CreateGrant"],
    });
    match call("CreateGrant", grant).await {
        Ok(_) => {}
        Err(f) if internal(&f) => return Err(CommonError::internal(format!("{f:?}")).into()),
        Err(_) => return Ok(refused),
    }
    let data_key = match call("GenerateDataKeyWithoutPlaintext", json!({ "KeyId": arn, "KeySpec": "AES_256" })).await {
        Ok(output) => output,
        Err(f) if internal(&f) => return Err(CommonError::internal(format!("{f:?}")).into()),
        Err(_) => return Ok(refused),
    };
    let blob = data_key["CiphertextBlob"].clone();
    let usable = call("Decrypt", json!({ "CiphertextBlob": blob, "KeyId": arn })).await.is_ok();
    Ok(KeyUse { arn: Some(arn), usable })
}

/// The ARN of the key `reference` names, as KMS answers the caller (EC2 asking for it, as AWS
/// does); `None` when KMS does not answer with one.
async fn key_arn(ctx: &RequestContext<'_>, reference: &str) -> Result<Option<String>, Ec2Error> {
    let origin = ingot_core::Origin { via_service: Some("ec2.amazonaws.com"), ..ctx.origin };
    let call = ingot_core::Call {
        service: "kms",
        operation: "DescribeKey",
        scope: ctx.scope,
        principal: ctx.principal,
        origin,
    };
    let input = serde_json::json!({ "KeyId": reference });
    match ctx.env.invoker.invoke(ctx.env, call, input).await {
        Ok(output) => Ok(output["KeyMetadata"]["Arn"].as_str().map(str::to_string)),
        Err(ingot_core::ServiceFailure::Common(e)) if e.kind == ingot_core::CommonKind::InternalFailure => {
            Err(e.into())
        }
        Err(_) => Ok(None),
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
        let mut record = defaults(ctx).await?;
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
        let mut record = defaults(ctx).await?;
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
        let record = defaults(ctx).await?;
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
        let record = defaults(ctx).await?;
        Ok(types::GetEbsDefaultKmsKeyIdResult { kms_key_id: Some(reported_key(&record)) })
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
        // AWS checks the key later, when volumes use it: a key KMS does not show the caller is
        // recorded as given, and fails those volumes then.
        if !well_formed_key(&input.kms_key_id) {
            return Err(Ec2Error::unmodeled(
                "InvalidParameterValue",
                400,
                format!("Value ({}) for parameter kmsKeyId is invalid.", input.kms_key_id),
            ));
        }
        let arn = key_arn(ctx, &input.kms_key_id).await?.unwrap_or(input.kms_key_id);
        let mut record = defaults(ctx).await?;
        record.kms_key_id = Some(arn);
        save(ctx, &record);
        Ok(types::ModifyEbsDefaultKmsKeyIdResult { kms_key_id: Some(reported_key(&record)) })
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
        let mut record = defaults(ctx).await?;
        if record.kms_key_id.take().is_some() {
            save(ctx, &record);
        }
        // AWS answers with the ARN of the AWS managed key, which exists from then on.
        let managed = key_arn(ctx, DEFAULT_EBS_KEY).await?.unwrap_or_else(|| DEFAULT_EBS_KEY.to_string());
        Ok(types::ResetEbsDefaultKmsKeyIdResult { kms_key_id: Some(managed) })
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
