//! SecureString values: encrypted under a KMS key of the account (the AWS-managed
//! `alias/aws/ssm` unless the caller names one) with the encryption context
//! `{"PARAMETER_ARN": <parameter ARN>}`. The store keeps only the base64 ciphertext, which is also
//! what reads without decryption return.

use crate::errors::SsmError;
use base64::Engine;
use ingot_core::crypto::SecretBox;
use ingot_core::{CommonError, IdGen, RequestContext, Scope};
use ingot_keys::{KeyError, KeyRecord, KeyState};
use ingot_store::Tx;
use std::collections::BTreeMap;

/// The key SecureStrings use when the caller names none.
pub const DEFAULT_KEY_ID: &str = "alias/aws/ssm";

fn context(arn: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("PARAMETER_ARN".to_string(), arn.to_string())])
}

/// How AWS reports a KMS failure through SSM.
fn kms_failure(ids: &IdGen, what: String, kms_code: &str) -> SsmError {
    SsmError::invalid_key_id(format!(
        "{what} (Service: AWSKMS; Status Code: 400; Error Code: {kms_code}; Request ID: {}; Proxy: null)",
        ids.uuid()
    ))
}

fn unusable(ids: &IdGen, key: &KeyRecord, error: &KeyError) -> SsmError {
    match error {
        KeyError::KeyDisabled => kms_failure(ids, format!("{} is disabled.", key.arn), "DisabledException"),
        KeyError::KeyPendingDeletion => {
            kms_failure(ids, format!("{} is pending deletion.", key.arn), "KMSInvalidStateException")
        }
        KeyError::KeyUnavailable(state) => {
            kms_failure(ids, format!("{} is {}.", key.arn, state_words(*state)), "KMSInvalidStateException")
        }
        other => CommonError::internal(format!("SecureString key {}: {other}", key.arn)).into(),
    }
}

fn state_words(state: KeyState) -> String {
    format!("{state:?}").to_ascii_lowercase()
}

/// The key a SecureString write uses. The AWS-managed key is created on first use.
pub async fn key_for_write(ctx: &RequestContext<'_>, key_id: &str) -> Result<KeyRecord, SsmError> {
    if key_id == DEFAULT_KEY_ID {
        return Ok(ingot_keys::aws_managed_key(&ctx.tx, ctx.secrets(), ctx.ids(), ctx.now, ctx.scope, "ssm").await?);
    }
    match ingot_keys::resolve_key(&ctx.tx, ctx.scope, key_id).await? {
        Some(key) => Ok(key),
        None => Err(not_found(ctx.ids(), ctx.scope, key_id)),
    }
}

fn not_found(ids: &IdGen, scope: &Scope, key_id: &str) -> SsmError {
    let alias_arn = |name: &str| ingot_keys::alias_arn(scope, name);
    let what = if key_id.starts_with("alias/") {
        format!("Alias {} is not found.", alias_arn(key_id))
    } else if key_id.starts_with("arn:") && key_id.contains(":alias/") {
        format!("Alias {key_id} is not found.")
    } else if key_id.starts_with("arn:") {
        format!("Key '{key_id}' does not exist")
    } else {
        format!("Key '{}' does not exist", ingot_keys::key_arn(scope, key_id))
    };
    kms_failure(ids, what, "NotFoundException")
}

/// Encrypts `plaintext` for the parameter `arn`; returns the base64 ciphertext to store.
pub fn encrypt(ctx: &RequestContext<'_>, key: &KeyRecord, arn: &str, plaintext: &str) -> Result<String, SsmError> {
    let blob = ingot_keys::encrypt(ctx.secrets(), ctx.ids(), key, plaintext.as_bytes(), &context(arn))
        .map_err(|e| unusable(ctx.ids(), key, &e))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(blob))
}

/// Decrypts a stored SecureString value of the parameter `arn` of the `owner` scope.
pub async fn decrypt(
    tx: &Tx,
    secrets: &SecretBox,
    ids: &IdGen,
    owner: &Scope,
    arn: &str,
    stored: &str,
) -> Result<String, SsmError> {
    let blob = base64::engine::general_purpose::STANDARD
        .decode(stored)
        .map_err(|_| CommonError::internal(format!("SecureString {arn} holds no ciphertext")))?;
    let key_id = ingot_keys::key_id_of(&blob)
        .ok_or_else(|| CommonError::internal(format!("SecureString {arn} holds an unreadable ciphertext")))?;
    let Some(key) = ingot_keys::resolve_key(tx, owner, &key_id).await? else {
        return Err(not_found(ids, owner, &key_id));
    };
    let plain = ingot_keys::decrypt(secrets, &key, &blob, &context(arn)).map_err(|e| unusable(ids, &key, &e))?;
    String::from_utf8(plain).map_err(|_| CommonError::internal(format!("SecureString {arn} is not UTF-8")).into())
}

/// The value a read returns: the plain text when decryption is asked for and the parameter is a
/// SecureString, the stored value otherwise.
pub async fn readable_value(
    ctx: &RequestContext<'_>,
    owner: &Scope,
    arn: &str,
    parameter_type: crate::types::ParameterType,
    stored: &str,
    with_decryption: bool,
) -> Result<String, SsmError> {
    if parameter_type == crate::types::ParameterType::SecureString && with_decryption {
        decrypt(&ctx.tx, ctx.secrets(), ctx.ids(), owner, arn, stored).await
    } else {
        Ok(stored.to_string())
    }
}
