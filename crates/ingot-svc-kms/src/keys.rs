//! Keys: CreateKey, DescribeKey, ListKeys, UpdateKeyDescription, EnableKey, DisableKey; how every
//! operation finds the key its `KeyId` names, and the key's metadata as AWS reports it.

use crate::access::{authorize_key, KeyConditions};
use crate::errors::KmsError;
use crate::key_policies::{check_lockout, default_key_policy, validate_key_policy};
use crate::operations::{CreateKey, DescribeKey, DisableKey, EnableKey, ListKeys, UpdateKeyDescription};
use crate::pages::{limit, page_error};
use crate::tags::{check_new_tags, tags_from_wire};
use crate::types::{self, KeyMetadata};
use crate::Kms;
use ingot_core::{Access, AccountId, Arn, CommonError, Handler, RequestContext, Scope};
use ingot_keys::{
    alias_storage_key, aws_managed_key, key_storage_key, keys_prefix, AliasRecord, KeyDraft, KeyFamily, KeyManager,
    KeyRecord, KeySpec, KeyState, KeyUsage,
};
use serde::de::DeserializeOwned;

/// AWS services whose managed key (`alias/aws/<service>`) appears on first use.
const MANAGED_KEY_SERVICES: &[&str] = &[
    "acm",
    "dynamodb",
    "ebs",
    "elasticfilesystem",
    "es",
    "glue",
    "kinesis",
    "kinesisvideo",
    "lambda",
    "rds",
    "redshift",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "xray",
];

pub(crate) use ingot_core::model::wire_enum as wire;

/// A list of wire enum values, or `None` when empty (responses then omit it).
pub(crate) fn wire_list<T: DeserializeOwned>(names: Vec<&'static str>) -> Option<Vec<T>> {
    (!names.is_empty()).then(|| names.into_iter().map(wire).collect())
}

/// Which forms of key reference an operation accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Forms {
    /// Key id or key ARN (EnableKey, PutKeyPolicy, CreateGrant, …).
    KeyOnly,
    /// Key id, key ARN, alias name or alias ARN (DescribeKey, the cryptographic operations).
    KeyOrAlias,
}

/// The key a request named, and the alias it was named by (`kms:RequestAlias`).
#[derive(Debug, Clone)]
pub struct Found {
    pub key: KeyRecord,
    pub alias: Option<String>,
}

/// A key reference, parsed.
enum Reference {
    Key { owner: Scope, key_id: String },
    Alias { owner: Scope, name: String },
}

fn invalid_key_id(key_ref: &str) -> KmsError {
    KmsError::not_found_exception(format!("Invalid keyId '{key_ref}'"))
}

/// `Key 'ARN' does not exist`.
pub(crate) fn key_does_not_exist(arn: &str) -> KmsError {
    KmsError::not_found_exception(format!("Key '{arn}' does not exist"))
}

/// `Alias ARN is not found.`
pub(crate) fn alias_not_found(alias_arn: &str) -> KmsError {
    KmsError::not_found_exception(format!("Alias {alias_arn} is not found."))
}

fn is_key_id(text: &str) -> bool {
    // AWS key ids are UUIDs; multi-Region keys start with `mrk-`.
    let uuid = text.strip_prefix("mrk-").unwrap_or(text);
    uuid.len() == 36
        && uuid.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fn parse_reference(scope: &Scope, key_ref: &str) -> Result<Reference, KmsError> {
    if key_ref.starts_with("arn:") {
        let arn = Arn::parse(key_ref).map_err(|_| KmsError::Common(invalid_arn(key_ref)))?;
        let account = AccountId::parse(&arn.account).ok_or_else(|| KmsError::Common(invalid_arn(key_ref)))?;
        if arn.service != "kms" || arn.partition != scope.partition() {
            return Err(KmsError::Common(invalid_arn(key_ref)));
        }
        if arn.region != scope.region.as_str() {
            // KMS is regional: another region's key is not found here.
            return Err(KmsError::not_found_exception(format!("Invalid arn {}", arn.region)));
        }
        let owner = Scope::new(account, scope.region.clone());
        if let Some(key_id) = arn.resource.strip_prefix("key/") {
            if !is_key_id(key_id) {
                return Err(invalid_key_id(key_ref));
            }
            return Ok(Reference::Key { owner, key_id: key_id.to_string() });
        }
        if arn.resource.starts_with("alias/") && arn.resource.len() > "alias/".len() {
            return Ok(Reference::Alias { owner, name: arn.resource });
        }
        return Err(KmsError::Common(invalid_arn(key_ref)));
    }
    if key_ref.starts_with("alias/") {
        if key_ref.len() == "alias/".len() {
            return Err(invalid_key_id(key_ref));
        }
        return Ok(Reference::Alias { owner: scope.clone(), name: key_ref.to_string() });
    }
    if !is_key_id(key_ref) {
        return Err(invalid_key_id(key_ref));
    }
    Ok(Reference::Key { owner: scope.clone(), key_id: key_ref.to_string() })
}

fn invalid_arn(key_ref: &str) -> CommonError {
    CommonError::validation(format!("Invalid arn {key_ref}"))
}

/// The ARN a reference names when its key cannot be found: what access to a missing key is
/// asked for (so a caller without permission learns nothing about what exists).
fn arn_of_reference(reference: &Reference) -> String {
    match reference {
        Reference::Key { owner, key_id } => ingot_keys::key_arn(owner, key_id),
        Reference::Alias { owner, name } => ingot_keys::alias_arn(owner, name),
    }
}

/// Finds the key `key_ref` names, in the forms the operation accepts. A predefined AWS alias
/// (`alias/aws/ssm`) of the caller's account that does not exist yet is created with its AWS
/// managed key, as AWS does on first use, when `create_managed` (DescribeKey and the
/// operations that encrypt).
///
/// A key that does not exist is reported only to a caller whose policies would allow the
/// operation on it (asked with `action` on the ARN the reference names); others are denied.
pub(crate) async fn find_key(
    ctx: &RequestContext<'_>,
    action: &'static str,
    key_ref: &str,
    forms: Forms,
    create_managed: bool,
) -> Result<Found, KmsError> {
    let reference = parse_reference(ctx.scope, key_ref)?;
    if forms == Forms::KeyOnly {
        if let Reference::Alias { .. } = reference {
            return Err(invalid_key_id(key_ref));
        }
    }
    let found = match &reference {
        Reference::Key { owner, key_id } => {
            ctx.tx.get_record::<KeyRecord>(&key_storage_key(owner, key_id)).await?.map(|key| Found { key, alias: None })
        }
        Reference::Alias { owner, name } => {
            let alias = ctx.tx.get_record::<AliasRecord>(&alias_storage_key(owner, name)).await?;
            match alias {
                Some(alias) => ctx
                    .tx
                    .get_record::<KeyRecord>(&key_storage_key(owner, &alias.target_key_id))
                    .await?
                    .map(|key| Found { key, alias: Some(name.clone()) }),
                None => match managed_service(name) {
                    Some(service) if create_managed && owner == ctx.scope => {
                        let key =
                            aws_managed_key(&ctx.tx, ctx.secrets(), ctx.ids(), ctx.now, ctx.scope, service).await?;
                        Some(Found { key, alias: Some(name.clone()) })
                    }
                    _ => None,
                },
            }
        }
    };
    match found {
        Some(found) => Ok(found),
        None => {
            let arn = arn_of_reference(&reference);
            ctx.authorize_dependent(action, Access::resource(&arn)).await?;
            Err(match reference {
                Reference::Key { .. } => key_does_not_exist(&arn),
                Reference::Alias { .. } => alias_not_found(&arn),
            })
        }
    }
}

/// The service of a predefined AWS alias name (`alias/aws/ssm` → `ssm`).
fn managed_service(alias_name: &str) -> Option<&'static str> {
    let service = alias_name.strip_prefix("alias/aws/")?;
    MANAGED_KEY_SERVICES.iter().find(|s| **s == service).copied()
}

/// The errors of a key whose state forbids the operation.
pub(crate) fn state_error(key: &KeyRecord) -> KmsError {
    match key.key_state {
        KeyState::Disabled => KmsError::disabled_exception(format!("{} is disabled.", key.arn)),
        KeyState::PendingDeletion => KmsError::kms_invalid_state_exception(format!("{} is pending deletion.", key.arn)),
        other => {
            KmsError::kms_invalid_state_exception(format!("{} is {}.", key.arn, format!("{other:?}").to_lowercase()))
        }
    }
}

/// Refuses a key that cannot be used for cryptography now.
pub(crate) fn check_usable(key: &KeyRecord) -> Result<(), KmsError> {
    if key.is_enabled() {
        Ok(())
    } else {
        Err(state_error(key))
    }
}

/// Refuses changes to a key pending deletion (only CancelKeyDeletion and reads work on it).
pub(crate) fn check_not_pending_deletion(key: &KeyRecord) -> Result<(), KmsError> {
    if key.key_state == KeyState::PendingDeletion {
        return Err(state_error(key));
    }
    Ok(())
}

/// Refuses changes to AWS managed keys, which nobody administers.
pub(crate) fn check_customer_managed(ctx: &RequestContext<'_>, key: &KeyRecord, action: &str) -> Result<(), KmsError> {
    if key.key_manager == KeyManager::Aws {
        return Err(KmsError::Common(ingot_core::authz::denied(
            &ctx.principal.arn,
            action,
            &key.arn,
            &format!("because no resource-based policy allows the {action} action"),
        )));
    }
    Ok(())
}

/// Saves a changed key.
pub(crate) fn save(ctx: &RequestContext<'_>, key: &KeyRecord) -> Result<(), KmsError> {
    ctx.tx.put_record(&key_storage_key(&owner_scope(key)?, &key.key_id), key);
    Ok(())
}

/// The scope of the key's own account and region.
pub(crate) fn owner_scope(key: &KeyRecord) -> Result<Scope, KmsError> {
    match (AccountId::parse(&key.account), ingot_core::Region::parse(&key.region)) {
        (Some(account), Some(region)) => Ok(Scope::new(account, region)),
        _ => Err(CommonError::internal(format!("key {} names no valid account and region", key.arn)).into()),
    }
}

/// The encryption algorithms of a key, as AWS lists them.
pub(crate) fn encryption_algorithms(key: &KeyRecord) -> Vec<&'static str> {
    match (key.key_spec.family(), key.key_usage) {
        (KeyFamily::Symmetric, _) => vec!["SYMMETRIC_DEFAULT"],
        (KeyFamily::Asymmetric(spec), KeyUsage::EncryptDecrypt) => {
            spec.encryption_algorithms().iter().map(|a| a.as_str()).collect()
        }
        _ => Vec::new(),
    }
}

pub(crate) fn signing_algorithms(key: &KeyRecord) -> Vec<&'static str> {
    match (key.key_spec.family(), key.key_usage) {
        (KeyFamily::Asymmetric(spec), KeyUsage::SignVerify) => {
            spec.signing_algorithms().iter().map(|a| a.as_str()).collect()
        }
        _ => Vec::new(),
    }
}

pub(crate) fn mac_algorithms(key: &KeyRecord) -> Vec<&'static str> {
    match key.key_spec.family() {
        KeyFamily::Hmac(spec) => vec![spec.algorithm().as_str()],
        _ => Vec::new(),
    }
}

/// `KeyMetadata` as DescribeKey, CreateKey and ListKeys' neighbours report it.
pub(crate) fn metadata(key: &KeyRecord) -> KeyMetadata {
    let spec: types::KeySpec = wire(key.key_spec.as_str());
    let pending = key.key_state == KeyState::PendingDeletion;
    KeyMetadata {
        aws_account_id: Some(key.account.clone()),
        key_id: key.key_id.clone(),
        arn: Some(key.arn.clone()),
        creation_date: Some(key.creation_date),
        enabled: Some(key.is_enabled()),
        description: Some(key.description.clone()),
        key_usage: Some(wire(key.key_usage.as_str())),
        key_state: Some(wire(&format!("{:?}", key.key_state))),
        deletion_date: if pending { key.deletion_date } else { None },
        origin: Some(wire("AWS_KMS")),
        key_manager: Some(wire(match key.key_manager {
            KeyManager::Aws => "AWS",
            KeyManager::Customer => "CUSTOMER",
        })),
        customer_master_key_spec: Some(wire(spec.as_str())),
        key_spec: Some(spec),
        encryption_algorithms: wire_list(encryption_algorithms(key)),
        signing_algorithms: wire_list(signing_algorithms(key)),
        mac_algorithms: wire_list(mac_algorithms(key)),
        multi_region: Some(false),
        pending_deletion_window_in_days: if pending { key.pending_window_days.map(|d| d as i32) } else { None },
        current_key_material_id: (key.key_spec == KeySpec::SymmetricDefault).then(|| key.current_material_id()),
        valid_to: None,
        custom_key_store_id: None,
        cloud_hsm_cluster_id: None,
        expiration_model: None,
        key_agreement_algorithms: None,
        encapsulation_algorithms: None,
        multi_region_configuration: None,
        xks_key_configuration: None,
    }
}

impl Handler<CreateKey> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::CreateKeyRequest,
    ) -> Result<types::CreateKeyResponse, KmsError> {
        let tags = tags_from_wire(input.tags.unwrap_or_default());
        let spec_name = match (&input.key_spec, &input.customer_master_key_spec) {
            (Some(_), Some(_)) => {
                return Err(CommonError::validation(
                    "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.",
                )
                .into())
            }
            (Some(spec), None) => spec.as_str(),
            (None, Some(spec)) => spec.as_str(),
            (None, None) => "SYMMETRIC_DEFAULT",
        };
        if input.key_usage.is_none() && spec_name != "SYMMETRIC_DEFAULT" {
            return Err(CommonError::validation(
                "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.",
            )
            .into());
        }
        let usage_name = input.key_usage.as_ref().map_or("ENCRYPT_DECRYPT", |u| u.as_str());
        let origin = input.origin.as_ref().map_or("AWS_KMS", |o| o.as_str());
        let bypass = input.bypass_policy_lockout_safety_check.unwrap_or(false);
        let multi_region = input.multi_region.unwrap_or(false);
        let mut access = Access::any_resource()
            .condition("kms:KeySpec", [spec_name])
            .condition("kms:KeyUsage", [usage_name])
            .condition("kms:KeyOrigin", [origin])
            .condition("kms:MultiRegion", [multi_region.to_string()])
            .condition("kms:BypassPolicyLockoutSafetyCheck", [bypass.to_string()])
            .condition("kms:CallerAccount", [ctx.account().as_str()])
            .with_request_tags(tags.iter().map(|t| (t.key.as_str(), t.value.as_str())));
        if let Some(via) = ctx.origin.via_service {
            access = access.condition("kms:ViaService", [crate::access::via_service_endpoint(ctx, via)]);
        }
        ctx.authorize::<CreateKey>(access).await?;

        if origin != "AWS_KMS" {
            return Err(KmsError::unsupported_operation_exception(format!(
                "Origin {origin} is not supported by Ingot: key material is always generated by KMS."
            )));
        }
        if input.custom_key_store_id.is_some() || input.xks_key_id.is_some() {
            return Err(KmsError::unsupported_operation_exception("Custom key stores are not supported by Ingot."));
        }
        if multi_region {
            return Err(KmsError::unsupported_operation_exception("Multi-Region keys are not supported by Ingot."));
        }
        let Some(key_spec) = KeySpec::parse(spec_name) else {
            return Err(KmsError::unsupported_operation_exception(format!(
                "KeySpec {spec_name} is not supported in this region."
            )));
        };
        let key_usage = KeyUsage::parse(usage_name).filter(|u| key_spec.allows_usage(*u)).ok_or_else(|| {
            KmsError::Common(CommonError::validation(format!(
                "KeyUsage {usage_name} is not compatible with KeySpec {spec_name}"
            )))
        })?;
        check_new_tags(&tags)?;
        let policy = match input.policy {
            Some(policy) => {
                validate_key_policy(ctx, &policy).await?;
                if !bypass {
                    check_lockout(ctx, &policy)?;
                }
                policy
            }
            None => default_key_policy(ctx.scope),
        };
        let draft = KeyDraft {
            key_manager: KeyManager::Customer,
            description: input.description.unwrap_or_default(),
            policy,
            key_usage,
            key_spec,
            tags,
        };
        let key = KeyRecord::create(ctx.secrets(), ctx.ids(), ctx.now, ctx.scope, draft)
            .map_err(|e| KmsError::Common(CommonError::internal(format!("key generation failed: {e}"))))?;
        ctx.tx.insert_new(&key_storage_key(ctx.scope, &key.key_id), ingot_store::encode_record(&key));
        Ok(types::CreateKeyResponse { key_metadata: Some(metadata(&key)) })
    }
}

impl Handler<DescribeKey> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DescribeKeyRequest,
    ) -> Result<types::DescribeKeyResponse, KmsError> {
        let found = find_key(ctx, "kms:DescribeKey", &input.key_id, Forms::KeyOrAlias, true).await?;
        crate::grants::check_tokens(ctx, input.grant_tokens.as_deref())?;
        authorize_key::<DescribeKey>(ctx, &found, KeyConditions::default()).await?;
        Ok(types::DescribeKeyResponse { key_metadata: Some(metadata(&found.key)) })
    }
}

impl Handler<ListKeys> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ListKeysRequest,
    ) -> Result<types::ListKeysResponse, KmsError> {
        ctx.authorize::<ListKeys>(Access::any_resource()).await?;
        let page = ingot_core::page::scan_page::<KeyRecord>(
            &ctx.tx,
            &keys_prefix(ctx.scope),
            "ListKeys",
            input.marker.as_deref(),
            limit(input.limit),
            |_| true,
        )
        .await
        .map_err(page_error)?;
        let truncated = page.is_truncated();
        Ok(types::ListKeysResponse {
            keys: Some(
                page.items
                    .into_iter()
                    .map(|k| types::KeyListEntry { key_id: Some(k.key_id), key_arn: Some(k.arn) })
                    .collect(),
            ),
            next_marker: page.marker,
            truncated: Some(truncated),
        })
    }
}

impl Handler<UpdateKeyDescription> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::UpdateKeyDescriptionRequest,
    ) -> Result<ingot_core::Empty, KmsError> {
        let Found { mut key, alias } =
            find_key(ctx, "kms:UpdateKeyDescription", &input.key_id, Forms::KeyOnly, false).await?;
        authorize_key::<UpdateKeyDescription>(ctx, &Found { key: key.clone(), alias }, KeyConditions::own_account())
            .await?;
        check_customer_managed(ctx, &key, "kms:UpdateKeyDescription")?;
        check_not_pending_deletion(&key)?;
        key.description = input.description;
        save(ctx, &key)?;
        Ok(ingot_core::Empty {})
    }
}

impl Handler<EnableKey> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::EnableKeyRequest,
    ) -> Result<ingot_core::Empty, KmsError> {
        let found = find_key(ctx, "kms:EnableKey", &input.key_id, Forms::KeyOnly, false).await?;
        authorize_key::<EnableKey>(ctx, &found, KeyConditions::own_account()).await?;
        let mut key = found.key;
        check_customer_managed(ctx, &key, "kms:EnableKey")?;
        match key.key_state {
            KeyState::Enabled => {}
            KeyState::Disabled => {
                key.key_state = KeyState::Enabled;
                save(ctx, &key)?;
            }
            _ => return Err(state_error(&key)),
        }
        Ok(ingot_core::Empty {})
    }
}

impl Handler<DisableKey> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DisableKeyRequest,
    ) -> Result<ingot_core::Empty, KmsError> {
        let found = find_key(ctx, "kms:DisableKey", &input.key_id, Forms::KeyOnly, false).await?;
        authorize_key::<DisableKey>(ctx, &found, KeyConditions::own_account()).await?;
        let mut key = found.key;
        check_customer_managed(ctx, &key, "kms:DisableKey")?;
        match key.key_state {
            KeyState::Disabled => {}
            KeyState::Enabled => {
                key.key_state = KeyState::Disabled;
                save(ctx, &key)?;
            }
            _ => return Err(state_error(&key)),
        }
        Ok(ingot_core::Empty {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope::new(AccountId::parse("111122223333").unwrap(), ingot_core::Region::parse("us-east-1").unwrap())
    }

    #[test]
    fn key_references_parse_in_each_form_aws_accepts() {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        assert!(matches!(parse_reference(&scope(), id), Ok(Reference::Key { .. })));
        let arn = format!("arn:aws:kms:us-east-1:444455556666:key/{id}");
        match parse_reference(&scope(), &arn) {
            Ok(Reference::Key { owner, key_id }) => {
                assert_eq!(owner.account.as_str(), "444455556666");
                assert_eq!(key_id, id);
            }
            _ => panic!("key ARN"),
        }
        assert!(matches!(parse_reference(&scope(), "alias/app"), Ok(Reference::Alias { .. })));
        assert!(matches!(
            parse_reference(&scope(), "arn:aws:kms:us-east-1:444455556666:alias/app"),
            Ok(Reference::Alias { .. })
        ));
    }

    #[test]
    fn malformed_references_and_other_regions_are_refused() {
        for bad in ["nope", "alias/", "1234", "arn:aws:kms:us-east-1:111122223333:key/xyz", "key/1234"] {
            assert!(parse_reference(&scope(), bad).is_err(), "{bad}");
        }
        let other_region = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        assert!(matches!(parse_reference(&scope(), other_region), Err(KmsError::NotFoundException(_))));
        assert!(matches!(
            parse_reference(&scope(), "arn:aws:ssm:us-east-1:111122223333:key/x"),
            Err(KmsError::Common(_))
        ));
    }

    #[test]
    fn only_predefined_aws_aliases_are_created_on_first_use() {
        assert_eq!(managed_service("alias/aws/ssm"), Some("ssm"));
        assert_eq!(managed_service("alias/aws/ebs"), Some("ebs"));
        assert_eq!(managed_service("alias/aws/made-up"), None);
        assert_eq!(managed_service("alias/ssm"), None);
    }
}
