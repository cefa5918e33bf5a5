//! SecureString values, encrypted by KMS under a key of the caller's choice (the AWS managed
//! `alias/aws/ssm` unless the caller names one) with the encryption context
//! `{"PARAMETER_ARN": <parameter ARN>}`.
//!
//! SSM calls KMS through the invoker as the caller, marked as SSM acting for them
//! (`Origin::via_service`), so the key policy, the caller's IAM policies and grants decide, with
//! `kms:ViaService` = `ssm.REGION.amazonaws.com` and `kms:CallerAccount`, and KMS's own audit
//! record names the call. Values up to 4 KiB are encrypted by KMS `Encrypt`; larger ones (the
//! Advanced tier takes 8 KiB) are sealed locally under a data key from `GenerateDataKey`, as AWS
//! does with envelope encryption. The store keeps only the base64 ciphertext, which is also what
//! reads without decryption return.

use crate::errors::SsmError;
use base64::Engine;
use ingot_core::{Call, CommonError, CommonKind, Origin, RequestContext, ServiceFailure};
use serde_json::{json, Value};

const SSM_SERVICE: &str = "ssm.amazonaws.com";

/// The key SecureStrings use when the caller names none.
pub const DEFAULT_KEY_ID: &str = "alias/aws/ssm";
/// The most KMS `Encrypt` takes; larger values are envelope-encrypted.
const KMS_PLAINTEXT_MAX: usize = 4096;
/// First byte of an envelope-encrypted value (KMS blobs start with their format version, 1 or 2).
const ENVELOPE_MARKER: u8 = 0xE1;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

fn context(arn: &str) -> Value {
    json!({ "PARAMETER_ARN": arn })
}

/// Calls KMS as the caller, with SSM acting for them.
async fn call_kms(ctx: &RequestContext<'_>, operation: &str, input: Value) -> Result<Value, SsmError> {
    // CloudTrail shows such calls as coming from the service, for the caller.
    let origin =
        Origin { source_ip: SSM_SERVICE, user_agent: SSM_SERVICE, via_service: Some(SSM_SERVICE), ..ctx.origin };
    let call = Call { service: "kms", operation, scope: ctx.scope, principal: ctx.principal, origin };
    ctx.env.invoker.invoke(ctx.env, call, input).await.map_err(|failure| kms_failure(ctx, failure))
}

/// How AWS reports a KMS failure through SSM: an access denial as SSM's, anything about the key
/// as `InvalidKeyId`, each with KMS's own words and code.
fn kms_failure(ctx: &RequestContext<'_>, failure: ServiceFailure) -> SsmError {
    let (code, message) = match &failure {
        ServiceFailure::Modeled(m) => (m.code.to_string(), m.message.clone().unwrap_or_default()),
        ServiceFailure::Common(c) if c.kind == CommonKind::AccessDenied => {
            ("AccessDeniedException".to_string(), c.message.clone())
        }
        ServiceFailure::Common(c) if c.kind == CommonKind::InternalFailure => return SsmError::Common(c.clone()),
        ServiceFailure::Common(c) => (failure.code_for_audit(), c.message.clone()),
    };
    let detail = format!(
        "{message} (Service: AWSKMS; Status Code: 400; Error Code: {code}; Request ID: {}; Proxy: null)",
        ctx.ids().uuid()
    );
    if code == "AccessDeniedException" {
        SsmError::Common(CommonError::access_denied(detail))
    } else {
        SsmError::invalid_key_id(detail)
    }
}

fn blob_of(output: &Value, member: &str) -> Result<Vec<u8>, SsmError> {
    output[member]
        .as_str()
        .and_then(unb64)
        .ok_or_else(|| CommonError::internal(format!("KMS answered without {member}")).into())
}

/// Encrypts `plaintext` for the parameter `arn` under `key_id`; returns the base64 ciphertext
/// to store.
pub async fn encrypt(ctx: &RequestContext<'_>, key_id: &str, arn: &str, plaintext: &str) -> Result<String, SsmError> {
    if plaintext.len() <= KMS_PLAINTEXT_MAX {
        let input =
            json!({ "KeyId": key_id, "Plaintext": b64(plaintext.as_bytes()), "EncryptionContext": context(arn) });
        let output = call_kms(ctx, "Encrypt", input).await?;
        return Ok(b64(&blob_of(&output, "CiphertextBlob")?));
    }
    let input = json!({ "KeyId": key_id, "KeySpec": "AES_256", "EncryptionContext": context(arn) });
    let output = call_kms(ctx, "GenerateDataKey", input).await?;
    let data_key = blob_of(&output, "Plaintext")?;
    let wrapped = blob_of(&output, "CiphertextBlob")?;
    let sealed = ingot_keys::seal_with_data_key(ctx.ids(), &data_key, plaintext.as_bytes(), arn.as_bytes())
        .map_err(|e| CommonError::internal(format!("sealing SecureString {arn}: {e}")))?;
    let wrapped_len = u16::try_from(wrapped.len()).map_err(CommonError::internal)?;
    let mut stored = vec![ENVELOPE_MARKER];
    stored.extend_from_slice(&wrapped_len.to_be_bytes());
    stored.extend_from_slice(&wrapped);
    stored.extend_from_slice(&sealed);
    Ok(b64(&stored))
}

/// Decrypts a stored SecureString value of the parameter `arn`, as the caller.
pub async fn decrypt(ctx: &RequestContext<'_>, arn: &str, stored: &str) -> Result<String, SsmError> {
    let unreadable = || SsmError::from(CommonError::internal(format!("SecureString {arn} holds no ciphertext")));
    let bytes = unb64(stored).ok_or_else(unreadable)?;
    let plain = match bytes.split_first() {
        Some((&ENVELOPE_MARKER, rest)) if rest.len() > 2 => {
            let wrapped_len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
            let rest = &rest[2..];
            if rest.len() < wrapped_len {
                return Err(unreadable());
            }
            let (wrapped, sealed) = rest.split_at(wrapped_len);
            let input = json!({ "CiphertextBlob": b64(wrapped), "EncryptionContext": context(arn) });
            let data_key = blob_of(&call_kms(ctx, "Decrypt", input).await?, "Plaintext")?;
            ingot_keys::open_with_data_key(&data_key, sealed, arn.as_bytes()).ok_or_else(unreadable)?
        }
        _ => {
            let input = json!({ "CiphertextBlob": stored, "EncryptionContext": context(arn) });
            blob_of(&call_kms(ctx, "Decrypt", input).await?, "Plaintext")?
        }
    };
    String::from_utf8(plain).map_err(|_| CommonError::internal(format!("SecureString {arn} is not UTF-8")).into())
}

/// The value a read returns: the plain text when decryption is asked for and the parameter is a
/// SecureString, the stored value otherwise.
pub async fn readable_value(
    ctx: &RequestContext<'_>,
    arn: &str,
    parameter_type: crate::types::ParameterType,
    stored: &str,
    with_decryption: bool,
) -> Result<String, SsmError> {
    if parameter_type == crate::types::ParameterType::SecureString && with_decryption {
        decrypt(ctx, arn, stored).await
    } else {
        Ok(stored.to_string())
    }
}
