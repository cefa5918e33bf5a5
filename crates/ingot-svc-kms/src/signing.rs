//! Signatures: Sign, Verify, GetPublicKey, with asymmetric `SIGN_VERIFY` keys (RSA and elliptic
//! curves). Signatures are standard (PKCS#1 v1.5, PSS, DER-encoded ECDSA), so anyone can check
//! them with the public key.

use crate::access::{authorize_key, KeyConditions};
use crate::encryption::{dry_run, incompatible_algorithm, key_error, wrong_usage};
use crate::errors::KmsError;
use crate::grants::check_tokens;
use crate::keys::{check_usable, encryption_algorithms, find_key, signing_algorithms, wire, wire_list, Forms};
use crate::operations::{GetPublicKey, Sign, Verify};
use crate::types;
use crate::Kms;
use ingot_core::{Blob, Handler, RequestContext};
use ingot_keys::{operations as key_ops, KeyFamily, KeyRecord, KeyUsage, MessageType, SigningAlgorithm};

/// The signing algorithm asked of a key: the key must sign, and support the algorithm.
fn signing_algorithm(
    key: &KeyRecord,
    operation: &str,
    requested: &types::SigningAlgorithmSpec,
) -> Result<SigningAlgorithm, KmsError> {
    if key.key_usage != KeyUsage::SignVerify {
        return Err(wrong_usage(key, operation));
    }
    SigningAlgorithm::parse(requested.as_str())
        .filter(|a| signing_algorithms(key).contains(&a.as_str()))
        .ok_or_else(|| incompatible_algorithm(key, requested.as_str()))
}

fn message_type(requested: Option<&types::MessageType>) -> MessageType {
    match requested.map(|m| m.as_str()) {
        Some("DIGEST") => MessageType::Digest,
        _ => MessageType::Raw,
    }
}

impl Handler<Sign> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::SignRequest,
    ) -> Result<types::SignResponse, KmsError> {
        let found = find_key(ctx, "kms:Sign", &input.key_id, Forms::KeyOrAlias, false).await?;
        check_tokens(ctx, input.grant_tokens.as_deref())?;
        let kind = message_type(input.message_type.as_ref());
        let conditions = KeyConditions::default()
            .condition("kms:SigningAlgorithm", [input.signing_algorithm.as_str()])
            .condition("kms:MessageType", [kind.as_str()]);
        authorize_key::<Sign>(ctx, &found, conditions).await?;
        check_usable(&found.key)?;
        let algorithm = signing_algorithm(&found.key, "Sign", &input.signing_algorithm)?;
        dry_run(input.dry_run)?;
        let signature = key_ops::sign(ctx.secrets(), &found.key, algorithm, kind, &input.message.0)
            .map_err(|e| key_error(&found.key, "Sign", e))?;
        Ok(types::SignResponse {
            key_id: Some(found.key.arn),
            signature: Some(Blob(signature)),
            signing_algorithm: Some(input.signing_algorithm),
        })
    }
}

impl Handler<Verify> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::VerifyRequest,
    ) -> Result<types::VerifyResponse, KmsError> {
        let found = find_key(ctx, "kms:Verify", &input.key_id, Forms::KeyOrAlias, false).await?;
        check_tokens(ctx, input.grant_tokens.as_deref())?;
        let kind = message_type(input.message_type.as_ref());
        let conditions = KeyConditions::default()
            .condition("kms:SigningAlgorithm", [input.signing_algorithm.as_str()])
            .condition("kms:MessageType", [kind.as_str()]);
        authorize_key::<Verify>(ctx, &found, conditions).await?;
        check_usable(&found.key)?;
        let algorithm = signing_algorithm(&found.key, "Verify", &input.signing_algorithm)?;
        dry_run(input.dry_run)?;
        let valid = key_ops::verify(&found.key, algorithm, kind, &input.message.0, &input.signature.0)
            .map_err(|e| key_error(&found.key, "Verify", e))?;
        if !valid {
            // AWS answers a signature that does not verify with an error, not `false`.
            return Err(KmsError::kms_invalid_signature_exception(""));
        }
        Ok(types::VerifyResponse {
            key_id: Some(found.key.arn),
            signature_valid: Some(true),
            signing_algorithm: Some(input.signing_algorithm),
        })
    }
}

impl Handler<GetPublicKey> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GetPublicKeyRequest,
    ) -> Result<types::GetPublicKeyResponse, KmsError> {
        let found = find_key(ctx, "kms:GetPublicKey", &input.key_id, Forms::KeyOrAlias, false).await?;
        check_tokens(ctx, input.grant_tokens.as_deref())?;
        authorize_key::<GetPublicKey>(ctx, &found, KeyConditions::default()).await?;
        check_usable(&found.key)?;
        let key = &found.key;
        let public_key = match key.key_spec.family() {
            KeyFamily::Asymmetric(_) => key.public_key_der(),
            _ => None,
        };
        let Some(public_key) = public_key else {
            return Err(KmsError::unsupported_operation_exception(format!(
                "{} key spec {} is not supported for this operation.",
                key.arn,
                key.key_spec.as_str()
            )));
        };
        let spec: types::KeySpec = wire(key.key_spec.as_str());
        Ok(types::GetPublicKeyResponse {
            key_id: Some(key.arn.clone()),
            public_key: Some(Blob(public_key)),
            customer_master_key_spec: Some(wire(spec.as_str())),
            key_spec: Some(spec),
            key_usage: Some(wire(key.key_usage.as_str())),
            encryption_algorithms: wire_list(encryption_algorithms(key)),
            signing_algorithms: wire_list(signing_algorithms(key)),
            key_agreement_algorithms: None,
            encapsulation_algorithms: None,
        })
    }
}
