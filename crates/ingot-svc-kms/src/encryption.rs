//! Encryption: Encrypt, Decrypt, ReEncrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext,
//! GenerateDataKeyPair, GenerateDataKeyPairWithoutPlaintext, GenerateRandom.
//!
//! Symmetric keys make self-describing blobs (`ingot_keys::encrypt`: the key ARN, the material
//! version, AES-256-GCM bound to the encryption context), so Decrypt finds the key itself; RSA
//! keys make raw OAEP ciphertexts, which Decrypt opens only when told the key.

use crate::access::{authorize_key, authorize_key_action, KeyConditions};
use crate::errors::KmsError;
use crate::grants::check_tokens;
use crate::keys::{check_usable, find_key, wire, Forms, Found};
use crate::operations::{
    Decrypt, Encrypt, GenerateDataKey, GenerateDataKeyPair, GenerateDataKeyPairWithoutPlaintext,
    GenerateDataKeyWithoutPlaintext, GenerateRandom, ReEncrypt,
};
use crate::types;
use crate::Kms;
use ingot_core::{Access, Blob, CommonError, Handler, RequestContext};
use ingot_keys::{
    generate_key_pair, max_rsa_plaintext, operations as key_ops, AsymmetricSpec, KeyError, KeyFamily, KeyRecord,
    KeyUsage, RsaEncryptionAlgorithm,
};
use std::collections::BTreeMap;

const SYMMETRIC_DEFAULT: &str = "SYMMETRIC_DEFAULT";

/// AWS's error for a key error of `key`.
pub(crate) fn key_error(key: &KeyRecord, operation: &str, error: KeyError) -> KmsError {
    match error {
        KeyError::KeyDisabled | KeyError::KeyPendingDeletion | KeyError::KeyUnavailable(_) => {
            crate::keys::state_error(key)
        }
        KeyError::InvalidCiphertext | KeyError::ContextMismatch => invalid_ciphertext(),
        KeyError::IncorrectKey => KmsError::incorrect_key_exception(
            "The key ID in the request does not identify a CMK that can perform this operation.",
        ),
        KeyError::PlaintextTooLarge => CommonError::validation("Plaintext is too large for the key.").into(),
        KeyError::WrongKeyUsage => wrong_usage(key, operation),
        KeyError::Unsupported(message) => CommonError::validation(message).into(),
        KeyError::Sealed => CommonError::internal(format!("the material of {} cannot be opened", key.arn)).into(),
    }
}

pub(crate) fn invalid_ciphertext() -> KmsError {
    KmsError::invalid_ciphertext_exception("")
}

/// `InvalidKeyUsageException` for a key asked to do what its usage does not.
pub(crate) fn wrong_usage(key: &KeyRecord, operation: &str) -> KmsError {
    KmsError::invalid_key_usage_exception(format!(
        "{} key usage is {} which is not valid for {operation}.",
        key.arn,
        key.key_usage.as_str()
    ))
}

/// `InvalidKeyUsageException` for an algorithm the key's spec does not have.
pub(crate) fn incompatible_algorithm(key: &KeyRecord, algorithm: &str) -> KmsError {
    KmsError::invalid_key_usage_exception(format!(
        "Algorithm {algorithm} is incompatible with key spec {}.",
        key.key_spec.as_str()
    ))
}

/// AWS's answer to `DryRun` once every check passed.
pub(crate) fn dry_run(requested: Option<bool>) -> Result<(), KmsError> {
    if requested == Some(true) {
        return Err(KmsError::dry_run_operation_exception(
            "The request would have succeeded, but the DryRun option is set.",
        ));
    }
    Ok(())
}

fn no_recipient<T>(recipient: &Option<T>) -> Result<(), KmsError> {
    if recipient.is_some() {
        return Err(KmsError::unsupported_operation_exception(
            "Recipient (Nitro Enclaves attestation) is not supported by Ingot.",
        ));
    }
    Ok(())
}

/// How a key encrypts: its own symmetric blobs or RSA OAEP.
#[derive(Debug, Clone, Copy)]
enum Algorithm {
    Symmetric,
    Rsa(RsaEncryptionAlgorithm),
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Symmetric => SYMMETRIC_DEFAULT,
            Algorithm::Rsa(a) => a.as_str(),
        }
    }
}

/// The algorithm a request asks of a key: the key's usage must be encryption, the algorithm one
/// the key supports (`SYMMETRIC_DEFAULT` by default, which only symmetric keys have), and
/// asymmetric keys take no encryption context.
fn algorithm_for(
    key: &KeyRecord,
    operation: &str,
    requested: Option<&types::EncryptionAlgorithmSpec>,
    context: &BTreeMap<String, String>,
) -> Result<Algorithm, KmsError> {
    if key.key_usage != KeyUsage::EncryptDecrypt {
        return Err(wrong_usage(key, operation));
    }
    let name = requested.map_or(SYMMETRIC_DEFAULT, |a| a.as_str());
    match key.key_spec.family() {
        KeyFamily::Symmetric if name == SYMMETRIC_DEFAULT => Ok(Algorithm::Symmetric),
        KeyFamily::Asymmetric(spec) => {
            let algorithm = RsaEncryptionAlgorithm::parse(name)
                .filter(|a| spec.encryption_algorithms().contains(a))
                .ok_or_else(|| incompatible_algorithm(key, name))?;
            if !context.is_empty() {
                return Err(
                    CommonError::validation("EncryptionContext is not supported for asymmetric KMS keys.").into()
                );
            }
            Ok(Algorithm::Rsa(algorithm))
        }
        _ => Err(incompatible_algorithm(key, name)),
    }
}

fn encrypt_with(
    ctx: &RequestContext<'_>,
    operation: &str,
    key: &KeyRecord,
    algorithm: Algorithm,
    plaintext: &[u8],
    context: &BTreeMap<String, String>,
) -> Result<Vec<u8>, KmsError> {
    let result = match algorithm {
        Algorithm::Symmetric => ingot_keys::encrypt(ctx.secrets(), ctx.ids(), key, plaintext, context),
        Algorithm::Rsa(a) => {
            if let KeyFamily::Asymmetric(spec) = key.key_spec.family() {
                let max = max_rsa_plaintext(spec, a);
                if plaintext.len() > max {
                    return Err(CommonError::validation(format!(
                        "Algorithm {} and key spec {} cannot encrypt data larger than {max} bytes.",
                        a.as_str(),
                        spec.as_str()
                    ))
                    .into());
                }
            }
            key_ops::rsa_encrypt(key, a, plaintext)
        }
    };
    result.map_err(|e| key_error(key, operation, e))
}

fn decrypt_with(
    ctx: &RequestContext<'_>,
    operation: &str,
    key: &KeyRecord,
    algorithm: Algorithm,
    ciphertext: &[u8],
    context: &BTreeMap<String, String>,
) -> Result<Vec<u8>, KmsError> {
    let result = match algorithm {
        Algorithm::Symmetric => ingot_keys::decrypt(ctx.secrets(), key, ciphertext, context),
        Algorithm::Rsa(a) => key_ops::rsa_decrypt(ctx.secrets(), key, a, ciphertext),
    };
    result.map_err(|e| key_error(key, operation, e))
}

/// The key a ciphertext is to be decrypted with: the one the request names (which must be the
/// one a symmetric blob names), or the one the blob names.
async fn decrypting_key(
    ctx: &RequestContext<'_>,
    action: &'static str,
    key_ref: Option<&str>,
    ciphertext: &[u8],
) -> Result<Found, KmsError> {
    let embedded = ingot_keys::key_reference_of(ciphertext);
    match key_ref {
        Some(key_ref) => {
            let found = find_key(ctx, action, key_ref, Forms::KeyOrAlias, false).await?;
            if found.key.key_spec.family() == KeyFamily::Symmetric {
                let names_key = embedded.is_some_and(|r| r == found.key.arn || r == found.key.key_id);
                if embedded.is_some() && !names_key {
                    return Err(key_error(&found.key, "Decrypt", KeyError::IncorrectKey));
                }
            }
            Ok(found)
        }
        None => {
            let found = match embedded {
                Some(reference) => ingot_keys::resolve_key(&ctx.tx, ctx.scope, reference).await?,
                None => None,
            };
            match (found, embedded) {
                (Some(key), _) => Ok(Found { key, alias: None }),
                // A key that is gone, or of another region: AWS cannot tell which from denial.
                (None, Some(_)) => Err(CommonError::access_denied(
                    "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
                )
                .into()),
                (None, None) => {
                    // Nothing names a key: only a caller who may decrypt at all learns that.
                    ctx.authorize_dependent(action, Access::any_resource()).await?;
                    Err(invalid_ciphertext())
                }
            }
        }
    }
}

fn context_of(context: Option<BTreeMap<String, String>>) -> BTreeMap<String, String> {
    context.unwrap_or_default()
}

impl Handler<Encrypt> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::EncryptRequest,
    ) -> Result<types::EncryptResponse, KmsError> {
        let context = context_of(input.encryption_context);
        let found = find_key(ctx, "kms:Encrypt", &input.key_id, Forms::KeyOrAlias, true).await?;
        check_tokens(ctx, input.grant_tokens.as_deref())?;
        let algorithm_name = input.encryption_algorithm.as_ref().map_or(SYMMETRIC_DEFAULT, |a| a.as_str());
        let conditions = KeyConditions::with_context(&context).condition("kms:EncryptionAlgorithm", [algorithm_name]);
        authorize_key::<Encrypt>(ctx, &found, conditions).await?;
        check_usable(&found.key)?;
        let algorithm = algorithm_for(&found.key, "Encrypt", input.encryption_algorithm.as_ref(), &context)?;
        dry_run(input.dry_run)?;
        let blob = encrypt_with(ctx, "Encrypt", &found.key, algorithm, &input.plaintext.0, &context)?;
        Ok(types::EncryptResponse {
            ciphertext_blob: Some(Blob(blob)),
            key_id: Some(found.key.arn),
            encryption_algorithm: Some(wire(algorithm.name())),
        })
    }
}

impl Handler<Decrypt> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DecryptRequest,
    ) -> Result<types::DecryptResponse, KmsError> {
        no_recipient(&input.recipient)?;
        let context = context_of(input.encryption_context);
        let ciphertext = input.ciphertext_blob.map(|b| b.0).unwrap_or_default();
        let found = decrypting_key(ctx, "kms:Decrypt", input.key_id.as_deref(), &ciphertext).await?;
        check_tokens(ctx, input.grant_tokens.as_deref())?;
        let algorithm_name = input.encryption_algorithm.as_ref().map_or(SYMMETRIC_DEFAULT, |a| a.as_str());
        let conditions = KeyConditions::with_context(&context).condition("kms:EncryptionAlgorithm", [algorithm_name]);
        authorize_key::<Decrypt>(ctx, &found, conditions).await?;
        check_usable(&found.key)?;
        let algorithm = algorithm_for(&found.key, "Decrypt", input.encryption_algorithm.as_ref(), &context)?;
        dry_run(input.dry_run)?;
        let plaintext = decrypt_with(ctx, "Decrypt", &found.key, algorithm, &ciphertext, &context)?;
        let material = matches!(algorithm, Algorithm::Symmetric).then(|| found.key.current_material_id());
        Ok(types::DecryptResponse {
            key_id: Some(found.key.arn),
            plaintext: Some(Blob(plaintext)),
            encryption_algorithm: Some(wire(algorithm.name())),
            ciphertext_for_recipient: None,
            key_material_id: material,
        })
    }
}

impl Handler<ReEncrypt> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ReEncryptRequest,
    ) -> Result<types::ReEncryptResponse, KmsError> {
        let source_context = context_of(input.source_encryption_context);
        let destination_context = context_of(input.destination_encryption_context);
        let ciphertext = input.ciphertext_blob.map(|b| b.0).unwrap_or_default();
        let source = decrypting_key(ctx, "kms:ReEncryptFrom", input.source_key_id.as_deref(), &ciphertext).await?;
        let destination = find_key(ctx, "kms:ReEncryptTo", &input.destination_key_id, Forms::KeyOrAlias, true).await?;
        check_tokens(ctx, input.grant_tokens.as_deref())?;
        let same_key = source.key.arn == destination.key.arn;
        let source_name = input.source_encryption_algorithm.as_ref().map_or(SYMMETRIC_DEFAULT, |a| a.as_str());
        let destination_name =
            input.destination_encryption_algorithm.as_ref().map_or(SYMMETRIC_DEFAULT, |a| a.as_str());
        let from = KeyConditions::with_context(&source_context)
            .condition("kms:EncryptionAlgorithm", [source_name])
            .condition("kms:ReEncryptOnSameKey", [same_key.to_string()]);
        authorize_key_action(ctx, &source, "kms:ReEncryptFrom", from).await?;
        let to = KeyConditions::with_context(&destination_context)
            .condition("kms:EncryptionAlgorithm", [destination_name])
            .condition("kms:ReEncryptOnSameKey", [same_key.to_string()]);
        authorize_key_action(ctx, &destination, "kms:ReEncryptTo", to).await?;
        check_usable(&source.key)?;
        check_usable(&destination.key)?;
        let from_algorithm =
            algorithm_for(&source.key, "ReEncrypt", input.source_encryption_algorithm.as_ref(), &source_context)?;
        let to_algorithm = algorithm_for(
            &destination.key,
            "ReEncrypt",
            input.destination_encryption_algorithm.as_ref(),
            &destination_context,
        )?;
        dry_run(input.dry_run)?;
        let plaintext = decrypt_with(ctx, "ReEncrypt", &source.key, from_algorithm, &ciphertext, &source_context)?;
        let blob = encrypt_with(ctx, "ReEncrypt", &destination.key, to_algorithm, &plaintext, &destination_context)?;
        let material_id =
            |key: &KeyRecord, a: Algorithm| matches!(a, Algorithm::Symmetric).then(|| key.current_material_id());
        Ok(types::ReEncryptResponse {
            ciphertext_blob: Some(Blob(blob)),
            source_key_material_id: material_id(&source.key, from_algorithm),
            destination_key_material_id: material_id(&destination.key, to_algorithm),
            source_key_id: Some(source.key.arn),
            key_id: Some(destination.key.arn),
            source_encryption_algorithm: Some(wire(from_algorithm.name())),
            destination_encryption_algorithm: Some(wire(to_algorithm.name())),
        })
    }
}

/// The key a data key is made under: a symmetric encryption key.
fn check_symmetric(key: &KeyRecord, operation: &str) -> Result<(), KmsError> {
    if key.key_usage != KeyUsage::EncryptDecrypt {
        return Err(wrong_usage(key, operation));
    }
    if key.key_spec.family() != KeyFamily::Symmetric {
        return Err(incompatible_algorithm(key, SYMMETRIC_DEFAULT));
    }
    Ok(())
}

/// The length of a data key: `KeySpec` (AES_256, AES_128) or `NumberOfBytes`, exactly one.
fn data_key_length(spec: Option<&types::DataKeySpec>, bytes: Option<i32>) -> Result<usize, KmsError> {
    match (spec, bytes) {
        (Some(_), Some(_)) | (None, None) => {
            Err(CommonError::validation("Please specify either number of bytes or key spec.").into())
        }
        (Some(spec), None) => Ok(if spec.as_str() == "AES_128" { 16 } else { 32 }),
        (None, Some(n)) => Ok(usize::try_from(n).unwrap_or(0)),
    }
}

/// A new data key: its plaintext and its ciphertext under the key.
async fn data_key(
    ctx: &RequestContext<'_>,
    operation: &str,
    found: &Found,
    length: usize,
    context: &BTreeMap<String, String>,
) -> Result<(Vec<u8>, Vec<u8>), KmsError> {
    check_usable(&found.key)?;
    check_symmetric(&found.key, operation)?;
    let plaintext = ctx.ids().bytes(length);
    let blob = encrypt_with(ctx, operation, &found.key, Algorithm::Symmetric, &plaintext, context)?;
    Ok((plaintext, blob))
}

impl Handler<GenerateDataKey> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GenerateDataKeyRequest,
    ) -> Result<types::GenerateDataKeyResponse, KmsError> {
        no_recipient(&input.recipient)?;
        let context = context_of(input.encryption_context);
        let found = find_key(ctx, "kms:GenerateDataKey", &input.key_id, Forms::KeyOrAlias, true).await?;
        check_tokens(ctx, input.grant_tokens.as_deref())?;
        authorize_key::<GenerateDataKey>(ctx, &found, KeyConditions::with_context(&context)).await?;
        let length = data_key_length(input.key_spec.as_ref(), input.number_of_bytes)?;
        let (plaintext, blob) = data_key(ctx, "GenerateDataKey", &found, length, &context).await?;
        dry_run(input.dry_run)?;
        Ok(types::GenerateDataKeyResponse {
            ciphertext_blob: Some(Blob(blob)),
            plaintext: Some(Blob(plaintext)),
            key_material_id: Some(found.key.current_material_id()),
            key_id: Some(found.key.arn),
            ciphertext_for_recipient: None,
        })
    }
}

impl Handler<GenerateDataKeyWithoutPlaintext> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GenerateDataKeyWithoutPlaintextRequest,
    ) -> Result<types::GenerateDataKeyWithoutPlaintextResponse, KmsError> {
        let context = context_of(input.encryption_context);
        let found =
            find_key(ctx, "kms:GenerateDataKeyWithoutPlaintext", &input.key_id, Forms::KeyOrAlias, true).await?;
        check_tokens(ctx, input.grant_tokens.as_deref())?;
        authorize_key::<GenerateDataKeyWithoutPlaintext>(ctx, &found, KeyConditions::with_context(&context)).await?;
        let length = data_key_length(input.key_spec.as_ref(), input.number_of_bytes)?;
        let (_, blob) = data_key(ctx, "GenerateDataKeyWithoutPlaintext", &found, length, &context).await?;
        dry_run(input.dry_run)?;
        Ok(types::GenerateDataKeyWithoutPlaintextResponse {
            ciphertext_blob: Some(Blob(blob)),
            key_material_id: Some(found.key.current_material_id()),
            key_id: Some(found.key.arn),
        })
    }
}

/// A new data key pair: the private key's ciphertext under the key, and the pair.
async fn data_key_pair(
    ctx: &RequestContext<'_>,
    operation: &str,
    found: &Found,
    spec: &types::DataKeyPairSpec,
    context: &BTreeMap<String, String>,
) -> Result<(Vec<u8>, ingot_keys::KeyPair), KmsError> {
    check_usable(&found.key)?;
    check_symmetric(&found.key, operation)?;
    let Some(pair_spec) = AsymmetricSpec::parse(spec.as_str()) else {
        return Err(KmsError::unsupported_operation_exception(format!(
            "KeyPairSpec {} is not supported in this region.",
            spec.as_str()
        )));
    };
    let pair = generate_key_pair(pair_spec)
        .map_err(|e| KmsError::from(CommonError::internal(format!("key pair generation failed: {e}"))))?;
    let blob = encrypt_with(ctx, operation, &found.key, Algorithm::Symmetric, &pair.private_pkcs8_der, context)?;
    Ok((blob, pair))
}

impl Handler<GenerateDataKeyPair> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GenerateDataKeyPairRequest,
    ) -> Result<types::GenerateDataKeyPairResponse, KmsError> {
        no_recipient(&input.recipient)?;
        let context = context_of(input.encryption_context);
        let found = find_key(ctx, "kms:GenerateDataKeyPair", &input.key_id, Forms::KeyOrAlias, true).await?;
        check_tokens(ctx, input.grant_tokens.as_deref())?;
        let conditions =
            KeyConditions::with_context(&context).condition("kms:DataKeyPairSpec", [input.key_pair_spec.as_str()]);
        authorize_key::<GenerateDataKeyPair>(ctx, &found, conditions).await?;
        dry_run(input.dry_run)?;
        let (blob, pair) = data_key_pair(ctx, "GenerateDataKeyPair", &found, &input.key_pair_spec, &context).await?;
        Ok(types::GenerateDataKeyPairResponse {
            private_key_ciphertext_blob: Some(Blob(blob)),
            private_key_plaintext: Some(Blob(pair.private_pkcs8_der.clone())),
            public_key: Some(Blob(pair.public_spki_der.clone())),
            key_material_id: Some(found.key.current_material_id()),
            key_id: Some(found.key.arn),
            key_pair_spec: Some(input.key_pair_spec),
            ciphertext_for_recipient: None,
        })
    }
}

impl Handler<GenerateDataKeyPairWithoutPlaintext> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GenerateDataKeyPairWithoutPlaintextRequest,
    ) -> Result<types::GenerateDataKeyPairWithoutPlaintextResponse, KmsError> {
        let context = context_of(input.encryption_context);
        let found =
            find_key(ctx, "kms:GenerateDataKeyPairWithoutPlaintext", &input.key_id, Forms::KeyOrAlias, true).await?;
        check_tokens(ctx, input.grant_tokens.as_deref())?;
        let conditions =
            KeyConditions::with_context(&context).condition("kms:DataKeyPairSpec", [input.key_pair_spec.as_str()]);
        authorize_key::<GenerateDataKeyPairWithoutPlaintext>(ctx, &found, conditions).await?;
        dry_run(input.dry_run)?;
        let (blob, pair) =
            data_key_pair(ctx, "GenerateDataKeyPairWithoutPlaintext", &found, &input.key_pair_spec, &context).await?;
        Ok(types::GenerateDataKeyPairWithoutPlaintextResponse {
            private_key_ciphertext_blob: Some(Blob(blob)),
            public_key: Some(Blob(pair.public_spki_der.clone())),
            key_material_id: Some(found.key.current_material_id()),
            key_id: Some(found.key.arn),
            key_pair_spec: Some(input.key_pair_spec),
        })
    }
}

impl Handler<GenerateRandom> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GenerateRandomRequest,
    ) -> Result<types::GenerateRandomResponse, KmsError> {
        ctx.authorize::<GenerateRandom>(Access::any_resource()).await?;
        no_recipient(&input.recipient)?;
        if input.custom_key_store_id.is_some() {
            return Err(KmsError::custom_key_store_not_found_exception(
                "Custom key stores are not supported by Ingot.",
            ));
        }
        let Some(n) = input.number_of_bytes else {
            return Err(CommonError::validation("NumberOfBytes is required.").into());
        };
        let length = usize::try_from(n).unwrap_or(0);
        Ok(types::GenerateRandomResponse {
            plaintext: Some(Blob(ctx.ids().bytes(length))),
            ciphertext_for_recipient: None,
        })
    }
}
