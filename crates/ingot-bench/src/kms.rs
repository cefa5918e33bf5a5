//! The KMS workloads (awsJson 1.1, `X-Amz-Target: TrentService.<Operation>`, signed for `kms`),
//! which both servers serve. Their key and ciphertext are made through the API before the
//! measurement (not measured), with the server's root credentials:
//!
//! 1. CreateKey: a symmetric encryption key (`SYMMETRIC_DEFAULT`, `ENCRYPT_DECRYPT`).
//! 2. Encrypt of [`PLAINTEXT`] (32 bytes) under it with the encryption context [`context`]: the
//!    ciphertext `kms-decrypt` sends.
//!
//! Before a workload runs, its request is sent once and its answer checked: Decrypt must give
//! back [`PLAINTEXT`], GenerateDataKey a 32-byte plaintext and a ciphertext, so that a server
//! answering 200 with the wrong thing cannot look fast.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

use crate::client::Template;
use crate::server::Server;
use crate::workload::{self, Workload};

/// Where the key lives and every KMS call is signed for.
pub const REGION: &str = "us-east-1";
const TARGET_PREFIX: &str = "TrentService";

/// What the ciphertext of `kms-decrypt` holds: 32 bytes, the size of a data key.
pub const PLAINTEXT: &[u8; 32] = b"ingot-bench: a 32-byte plaintext";

/// The data key GenerateDataKey is asked for, and its length in bytes.
pub const DATA_KEY_SPEC: &str = "AES_256";
pub const DATA_KEY_BYTES: usize = 32;

/// The encryption context of the Encrypt, the Decrypt and the GenerateDataKey: a ciphertext only
/// decrypts with the context it was made with, so the server checks it on every call.
pub fn context() -> Value {
    json!({ "purpose": "bench" })
}

/// What [`setup`] made.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The key's id, as CreateKey answered it.
    pub key_id: String,
    /// [`PLAINTEXT`] encrypted under the key with [`context`], base64 as on the wire.
    pub ciphertext_blob: String,
    pub took: Duration,
}

/// A KMS call: `POST /` with `X-Amz-Target: TrentService.<operation>`, signed for `kms`.
pub fn template(addr: SocketAddr, operation: &str, input: &Value) -> Template {
    Template::aws_json(addr, REGION, "kms", &format!("{TARGET_PREFIX}.{operation}"), input)
}

/// The request of `kms-decrypt`: the blob names its key, so the request does not (as clients
/// decrypting envelope-encrypted data usually send it).
pub fn decrypt_template(addr: SocketAddr, ciphertext_blob: &str) -> Template {
    template(addr, "Decrypt", &json!({ "CiphertextBlob": ciphertext_blob, "EncryptionContext": context() }))
}

/// The request of `kms-generate-data-key`.
pub fn generate_data_key_template(addr: SocketAddr, key_id: &str) -> Template {
    template(
        addr,
        "GenerateDataKey",
        &json!({ "KeyId": key_id, "KeySpec": DATA_KEY_SPEC, "EncryptionContext": context() }),
    )
}

/// One KMS call with the server's root credentials that must answer 2xx with a JSON object.
async fn call(server: &Server, operation: &str, input: &Value) -> Result<Value> {
    let (status, body) = workload::call(server, &template(server.addr, operation, input)).await?;
    if !(200..300).contains(&status) {
        bail!("HTTP {status}: {}", crate::identity::excerpt(&body));
    }
    serde_json::from_slice(&body).map_err(|e| anyhow!("not JSON ({e}): {}", crate::identity::excerpt(&body)))
}

fn text<'a>(answer: &'a Value, field: &str, operation: &str) -> Result<&'a str> {
    answer[field]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| anyhow!("no {field} in the answer of {operation}: {answer}"))
}

/// Creates the key and the ciphertext; see the module documentation.
pub async fn setup(server: &Server) -> Result<Setup> {
    let started = Instant::now();
    let created = call(
        server,
        "CreateKey",
        &json!({
            "Description": "ingot-bench: the key of the KMS workloads",
            "KeySpec": "SYMMETRIC_DEFAULT",
            "KeyUsage": "ENCRYPT_DECRYPT",
        }),
    )
    .await
    .context("KMS CreateKey (SYMMETRIC_DEFAULT) as the account's root")?;
    let key_id = created["KeyMetadata"]["KeyId"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| anyhow!("no KeyMetadata.KeyId in the answer of CreateKey: {created}"))?
        .to_owned();
    let encrypted = call(
        server,
        "Encrypt",
        &json!({ "KeyId": key_id, "Plaintext": base64_encode(PLAINTEXT), "EncryptionContext": context() }),
    )
    .await
    .with_context(|| format!("KMS Encrypt of {} bytes under {key_id}", PLAINTEXT.len()))?;
    let ciphertext_blob = text(&encrypted, "CiphertextBlob", "Encrypt")?.to_owned();
    Ok(Setup { key_id, ciphertext_blob, took: started.elapsed() })
}

/// Sends `template`, the request `workload` is about to measure, once and checks what it
/// answers: `Err` says why the workload should not run.
pub async fn probe(server: &Server, workload: Workload, template: &Template) -> Result<Result<(), String>> {
    let (status, body) = workload::call(server, template).await?;
    if !(200..300).contains(&status) {
        return Ok(Err(format!("{}: HTTP {status}: {}", template.label, crate::identity::excerpt(&body))));
    }
    let answer: Value = serde_json::from_slice(&body).unwrap_or_default();
    let plaintext = answer["Plaintext"].as_str().and_then(base64_decode);
    let verdict = match workload {
        Workload::KmsDecrypt => match plaintext {
            Some(p) if p == PLAINTEXT => Ok(()),
            _ => Err(format!("Decrypt did not give back the plaintext encrypted in the setup: {answer}")),
        },
        _ => {
            let has_blob = answer["CiphertextBlob"].as_str().is_some_and(|b| !b.is_empty());
            match plaintext {
                Some(p) if p.len() == DATA_KEY_BYTES && has_blob => Ok(()),
                _ => Err(format!(
                    "GenerateDataKey ({DATA_KEY_SPEC}) answered without a {DATA_KEY_BYTES}-byte plaintext and a ciphertext: {answer}"
                )),
            }
        }
    };
    Ok(verdict)
}

// ---- base64, as KMS's blobs travel in awsJson -----------------------------------------------

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64, padded or not; `None` if it is not base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let digits = text.trim_end_matches('=').as_bytes();
    if text.len() - digits.len() > 2 || digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &d in digits {
        let value = ALPHABET.iter().position(|&a| a == d)? as u32;
        acc = acc << 6 | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Credentials;

    fn addr() -> SocketAddr {
        "127.0.0.1:4566".parse().unwrap()
    }

    fn body(template: &Template) -> Value {
        let headers = template.signed_headers(&Credentials::key("AKIDEXAMPLE", "secret"), 1_700_000_000);
        assert_eq!(headers["content-type"], "application/x-amz-json-1.1");
        let auth = headers["authorization"].to_str().unwrap();
        assert!(auth.contains("/20231114/us-east-1/kms/aws4_request"), "{auth}");
        serde_json::from_str(&template.body_text()).unwrap()
    }

    #[test]
    fn decrypt_sends_the_blob_and_the_context_but_names_no_key() {
        let t = decrypt_template(addr(), "AQIDBA==");
        assert_eq!(t.label, "Decrypt");
        let headers = t.signed_headers(&Credentials::key("AKIDEXAMPLE", "secret"), 1_700_000_000);
        assert_eq!(headers["x-amz-target"], "TrentService.Decrypt");
        let input = body(&t);
        assert_eq!(input, json!({ "CiphertextBlob": "AQIDBA==", "EncryptionContext": { "purpose": "bench" } }));
        assert!(input.get("KeyId").is_none());
    }

    #[test]
    fn generate_data_key_asks_for_an_aes_256_key_under_the_same_context() {
        let t = generate_data_key_template(addr(), "1234abcd-12ab-34cd-56ef-1234567890ab");
        assert_eq!(t.label, "GenerateDataKey");
        let headers = t.signed_headers(&Credentials::key("AKIDEXAMPLE", "secret"), 1_700_000_000);
        assert_eq!(headers["x-amz-target"], "TrentService.GenerateDataKey");
        assert_eq!(
            body(&t),
            json!({
                "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
                "KeySpec": "AES_256",
                "EncryptionContext": { "purpose": "bench" },
            })
        );
    }

    #[test]
    fn base64_matches_the_standard_vectors_both_ways() {
        for (plain, encoded) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("foobar", "Zm9vYmFy")]
        {
            assert_eq!(base64_encode(plain.as_bytes()), encoded);
            assert_eq!(base64_decode(encoded).as_deref(), Some(plain.as_bytes()));
        }
        assert_eq!(base64_decode("Zg").as_deref(), Some(&b"f"[..]));
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(base64_decode(&base64_encode(&all)), Some(all));
        assert_eq!(base64_encode(PLAINTEXT).len(), 44);
    }

    #[test]
    fn what_is_not_base64_does_not_decode() {
        assert_eq!(base64_decode("Zm9v!"), None);
        assert_eq!(base64_decode("Z"), None);
        assert_eq!(base64_decode("Zg==="), None);
    }
}
