//! Encryption, data keys, signatures, MACs, rotation and grants through aws-sdk-kms.

use crate::support::TestServer;
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, GrantOperation, KeySpec, KeyUsageType, MacAlgorithmSpec, SigningAlgorithmSpec};

#[tokio::test]
async fn ciphertexts_decrypt_only_with_their_encryption_context() {
    let server = TestServer::start().await;
    let kms = server.kms("us-east-1");
    let key = kms.create_key().send().await.unwrap().key_metadata.unwrap();
    let sealed = kms
        .encrypt()
        .key_id(key.key_id())
        .plaintext(Blob::new("secret"))
        .encryption_context("app", "web")
        .send()
        .await
        .unwrap();
    assert_eq!(sealed.key_id(), key.arn());
    let blob = sealed.ciphertext_blob().unwrap().clone();
    let opened = kms.decrypt().ciphertext_blob(blob.clone()).encryption_context("app", "web").send().await.unwrap();
    assert_eq!(opened.plaintext().unwrap().as_ref(), b"secret");
    assert_eq!(opened.key_id(), key.arn());
    let err = kms.decrypt().ciphertext_blob(blob.clone()).encryption_context("app", "db").send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidCiphertextException"));
    let other = kms.create_key().send().await.unwrap().key_metadata.unwrap();
    let err = kms.decrypt().ciphertext_blob(blob).key_id(other.key_id()).encryption_context("app", "web").send().await;
    assert_eq!(err.unwrap_err().code(), Some("IncorrectKeyException"));
    server.stop().await;
}

#[tokio::test]
async fn a_data_key_without_plaintext_decrypts_to_the_same_key_material_length() {
    let server = TestServer::start().await;
    let kms = server.kms("us-east-1");
    let key = kms.create_key().send().await.unwrap().key_metadata.unwrap();
    let with = kms.generate_data_key().key_id(key.key_id()).key_spec(DataKeySpec::Aes256).send().await.unwrap();
    let opened = kms.decrypt().ciphertext_blob(with.ciphertext_blob().unwrap().clone()).send().await.unwrap();
    assert_eq!(opened.plaintext(), with.plaintext());
    assert_eq!(with.plaintext().unwrap().as_ref().len(), 32);
    let without =
        kms.generate_data_key_without_plaintext().key_id(key.key_id()).number_of_bytes(16).send().await.unwrap();
    let opened = kms.decrypt().ciphertext_blob(without.ciphertext_blob().unwrap().clone()).send().await.unwrap();
    assert_eq!(opened.plaintext().unwrap().as_ref().len(), 16);
    server.stop().await;
}

#[tokio::test]
async fn rotation_keeps_old_ciphertexts_readable() {
    let server = TestServer::start().await;
    let kms = server.kms("us-east-1");
    let key = kms.create_key().send().await.unwrap().key_metadata.unwrap();
    let before = kms.encrypt().key_id(key.key_id()).plaintext(Blob::new("v1")).send().await.unwrap();
    kms.rotate_key_on_demand().key_id(key.key_id()).send().await.unwrap();
    let rotations = kms.list_key_rotations().key_id(key.key_id()).send().await.unwrap();
    assert_eq!(rotations.rotations().len(), 1);
    let after = kms.describe_key().key_id(key.key_id()).send().await.unwrap().key_metadata.unwrap();
    assert_ne!(after.current_key_material_id(), key.current_key_material_id());
    let opened = kms.decrypt().ciphertext_blob(before.ciphertext_blob().unwrap().clone()).send().await.unwrap();
    assert_eq!(opened.plaintext().unwrap().as_ref(), b"v1");
    server.stop().await;
}

#[tokio::test]
async fn an_elliptic_curve_key_signs_and_refuses_a_bad_signature() {
    let server = TestServer::start().await;
    let kms = server.kms("us-east-1");
    let key = kms
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let algorithm = SigningAlgorithmSpec::EcdsaSha256;
    let signed = kms
        .sign()
        .key_id(key.key_id())
        .message(Blob::new("m"))
        .signing_algorithm(algorithm.clone())
        .send()
        .await
        .unwrap();
    let signature = signed.signature().unwrap().clone();
    let verified = kms
        .verify()
        .key_id(key.key_id())
        .message(Blob::new("m"))
        .signature(signature.clone())
        .signing_algorithm(algorithm.clone())
        .send()
        .await
        .unwrap();
    assert!(verified.signature_valid());
    let err = kms
        .verify()
        .key_id(key.key_id())
        .message(Blob::new("n"))
        .signature(signature)
        .signing_algorithm(algorithm)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("KMSInvalidSignatureException"));
    let public = kms.get_public_key().key_id(key.key_id()).send().await.unwrap();
    // DER SubjectPublicKeyInfo: a SEQUENCE.
    assert_eq!(public.public_key().unwrap().as_ref()[0], 0x30);
    server.stop().await;
}

#[tokio::test]
async fn an_hmac_key_verifies_its_own_macs() {
    let server = TestServer::start().await;
    let kms = server.kms("us-east-1");
    let key = kms
        .create_key()
        .key_spec(KeySpec::Hmac256)
        .key_usage(KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let mac = kms
        .generate_mac()
        .key_id(key.key_id())
        .message(Blob::new("m"))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap()
        .mac
        .unwrap();
    assert_eq!(mac.as_ref().len(), 32);
    let ok = kms
        .verify_mac()
        .key_id(key.key_id())
        .message(Blob::new("m"))
        .mac(mac.clone())
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap();
    assert!(ok.mac_valid());
    let err = kms
        .verify_mac()
        .key_id(key.key_id())
        .message(Blob::new("other"))
        .mac(mac)
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("KMSInvalidMacException"));
    server.stop().await;
}

#[tokio::test]
async fn a_named_grant_asked_for_twice_is_one_grant_and_retiring_it_removes_it() {
    let server = TestServer::start().await;
    let kms = server.kms("us-east-1");
    let key = kms.create_key().send().await.unwrap().key_metadata.unwrap();
    let grantee = format!("arn:aws:iam::{}:role/reader", server.account());
    let create = || {
        kms.create_grant()
            .key_id(key.key_id())
            .grantee_principal(&grantee)
            .retiring_principal(&grantee)
            .operations(GrantOperation::Decrypt)
            .name("reader")
            .send()
    };
    let first = create().await.unwrap();
    let second = create().await.unwrap();
    assert_eq!(first.grant_id(), second.grant_id());
    let listed = kms.list_grants().key_id(key.key_id()).send().await.unwrap();
    assert_eq!(listed.grants().len(), 1);
    assert_eq!(listed.grants()[0].grantee_principal(), Some(grantee.as_str()));
    let retirable = kms.list_retirable_grants().retiring_principal(&grantee).send().await.unwrap();
    assert_eq!(retirable.grants().len(), 1);
    kms.retire_grant().grant_token(first.grant_token().unwrap()).send().await.unwrap();
    assert!(kms.list_grants().key_id(key.key_id()).send().await.unwrap().grants().is_empty());
    let err = kms.retire_grant().grant_token("garbage").send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidGrantTokenException"));
    server.stop().await;
}
