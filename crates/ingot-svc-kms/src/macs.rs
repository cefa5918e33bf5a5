//! MACs: GenerateMac, VerifyMac, with HMAC keys (`GENERATE_VERIFY_MAC`). Each HMAC key has one
//! algorithm, that of its spec (`HMAC_256` → `HMAC_SHA_256`).

use crate::access::{authorize_key, KeyConditions};
use crate::encryption::{dry_run, incompatible_algorithm, key_error, wrong_usage};
use crate::errors::KmsError;
use crate::grants::check_tokens;
use crate::keys::{check_usable, find_key, Forms};
use crate::operations::{GenerateMac, VerifyMac};
use crate::types;
use crate::Kms;
use ingot_core::{Blob, Handler, RequestContext};
use ingot_keys::{operations as key_ops, KeyFamily, KeyRecord, MacAlgorithm};

fn mac_algorithm(
    key: &KeyRecord,
    operation: &str,
    requested: &types::MacAlgorithmSpec,
) -> Result<MacAlgorithm, KmsError> {
    let KeyFamily::Hmac(spec) = key.key_spec.family() else { return Err(wrong_usage(key, operation)) };
    match MacAlgorithm::parse(requested.as_str()) {
        Some(algorithm) if algorithm == spec.algorithm() => Ok(algorithm),
        _ => Err(incompatible_algorithm(key, requested.as_str())),
    }
}

impl Handler<GenerateMac> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::GenerateMacRequest,
    ) -> Result<types::GenerateMacResponse, KmsError> {
        let found = find_key(ctx, "kms:GenerateMac", &input.key_id, Forms::KeyOrAlias, false).await?;
        check_tokens(ctx, input.grant_tokens.as_deref())?;
        let conditions = KeyConditions::default().condition("kms:MacAlgorithm", [input.mac_algorithm.as_str()]);
        authorize_key::<GenerateMac>(ctx, &found, conditions).await?;
        check_usable(&found.key)?;
        let algorithm = mac_algorithm(&found.key, "GenerateMac", &input.mac_algorithm)?;
        dry_run(input.dry_run)?;
        let mac = key_ops::generate_mac(ctx.secrets(), &found.key, algorithm, &input.message.0)
            .map_err(|e| key_error(&found.key, "GenerateMac", e))?;
        Ok(types::GenerateMacResponse {
            mac: Some(Blob(mac)),
            mac_algorithm: Some(input.mac_algorithm),
            key_id: Some(found.key.arn),
        })
    }
}

impl Handler<VerifyMac> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::VerifyMacRequest,
    ) -> Result<types::VerifyMacResponse, KmsError> {
        let found = find_key(ctx, "kms:VerifyMac", &input.key_id, Forms::KeyOrAlias, false).await?;
        check_tokens(ctx, input.grant_tokens.as_deref())?;
        let conditions = KeyConditions::default().condition("kms:MacAlgorithm", [input.mac_algorithm.as_str()]);
        authorize_key::<VerifyMac>(ctx, &found, conditions).await?;
        check_usable(&found.key)?;
        let algorithm = mac_algorithm(&found.key, "VerifyMac", &input.mac_algorithm)?;
        dry_run(input.dry_run)?;
        let valid = key_ops::verify_mac(ctx.secrets(), &found.key, algorithm, &input.message.0, &input.mac.0)
            .map_err(|e| key_error(&found.key, "VerifyMac", e))?;
        if !valid {
            // As with signatures, a MAC that does not verify is an error.
            return Err(KmsError::kms_invalid_mac_exception(""));
        }
        Ok(types::VerifyMacResponse {
            key_id: Some(found.key.arn),
            mac_valid: Some(true),
            mac_algorithm: Some(input.mac_algorithm),
        })
    }
}
