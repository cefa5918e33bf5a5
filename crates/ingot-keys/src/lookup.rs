//! Where keys and aliases live in the store, and how a key reference finds its key.

use crate::key::{aws_managed_key_description, aws_managed_key_policy, AliasRecord, KeyManager, KeyRecord};
use ingot_core::crypto::SecretBox;
use ingot_core::{Arn, IdGen, Timestamp};
use ingot_store::{encode_record, StoreError, Tx};

/// `{account}/{region}/kms/keys/`: every key of an account in a region.
pub fn keys_prefix(account: &str, region: &str) -> String {
    format!("{account}/{region}/kms/keys/")
}

/// `{account}/{region}/kms/keys/{key_id}`.
pub fn key_storage_key(account: &str, region: &str, key_id: &str) -> String {
    format!("{account}/{region}/kms/keys/{key_id}")
}

/// `{account}/{region}/kms/aliases/`: every alias of an account in a region.
pub fn aliases_prefix(account: &str, region: &str) -> String {
    format!("{account}/{region}/kms/aliases/")
}

/// `{account}/{region}/kms/aliases/{alias_name}`; the name includes `alias/`.
pub fn alias_storage_key(account: &str, region: &str, alias_name: &str) -> String {
    format!("{account}/{region}/kms/aliases/{alias_name}")
}

/// `arn:PARTITION:kms:REGION:ACCOUNT:key/KEY_ID`.
pub fn key_arn(account: &str, region: &str, key_id: &str) -> String {
    Arn::new("kms", region, account, format!("key/{key_id}")).to_string()
}

/// `arn:PARTITION:kms:REGION:ACCOUNT:alias/NAME` for the alias name `alias/NAME`.
pub fn alias_arn(account: &str, region: &str, alias_name: &str) -> String {
    Arn::new("kms", region, account, alias_name).to_string()
}

/// `alias/aws/<service>`, the alias of a service's AWS-managed key.
pub fn aws_managed_alias_name(service: &str) -> String {
    format!("alias/aws/{service}")
}

/// Finds the key a reference names, in the caller's unit of work (the records read become
/// expectations of its commit). Accepted forms, as in AWS:
///
/// - a key id (`1234abcd-…`), looked up in `account` and `region`;
/// - a key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`);
/// - an alias name (`alias/NAME`), looked up in `account` and `region`;
/// - an alias ARN (`arn:aws:kms:REGION:ACCOUNT:alias/NAME`).
///
/// ARNs resolve in the account they name, also another account (whether the caller may use that
/// key is a key policy question, not this function's). KMS is regional: an ARN of another region
/// than `region`, or of another service, resolves to nothing. So does an alias whose target key
/// is gone, and anything malformed.
pub async fn resolve_key(tx: &Tx, account: &str, region: &str, key_ref: &str) -> Result<Option<KeyRecord>, StoreError> {
    if key_ref.is_empty() {
        return Ok(None);
    }
    let (owner, name) = if key_ref.starts_with("arn:") {
        let Ok(arn) = Arn::parse(key_ref) else { return Ok(None) };
        if arn.service != "kms" || arn.region != region || arn.account.is_empty() {
            return Ok(None);
        }
        (arn.account, arn.resource)
    } else {
        (account.to_string(), key_ref.to_string())
    };
    if name.starts_with("alias/") {
        let Some(alias) = tx.get_record::<AliasRecord>(&alias_storage_key(&owner, region, &name)).await? else {
            return Ok(None);
        };
        return tx.get_record::<KeyRecord>(&key_storage_key(&owner, region, &alias.target_key_id)).await;
    }
    let key_id = match name.strip_prefix("key/") {
        Some(id) if key_ref.starts_with("arn:") => id,
        // A bare `key/ID` is not a form AWS accepts; neither is a plain id inside an ARN.
        Some(_) => return Ok(None),
        None if key_ref.starts_with("arn:") => return Ok(None),
        None => name.as_str(),
    };
    if key_id.is_empty() || key_id.contains('/') {
        return Ok(None);
    }
    tx.get_record::<KeyRecord>(&key_storage_key(&owner, region, key_id)).await
}

/// The account's AWS-managed key of `service` (`alias/aws/<service>`), created with its alias on
/// first use inside the caller's unit of work.
///
/// Both records are written with [`Tx::insert_new`]: when two requests create the key at the same
/// time, one commit fails with a conflict, and the gateway's retry of that request finds the key
/// the other one created. The key exists only if the caller's unit of work commits.
pub async fn aws_managed_key(
    tx: &Tx,
    secrets: &SecretBox,
    ids: &IdGen,
    now: Timestamp,
    account: &str,
    region: &str,
    service: &str,
) -> Result<KeyRecord, StoreError> {
    let alias_name = aws_managed_alias_name(service);
    let alias_key = alias_storage_key(account, region, &alias_name);
    let existing_alias = tx.get_record::<AliasRecord>(&alias_key).await?;
    if let Some(alias) = &existing_alias {
        if let Some(key) = tx.get_record::<KeyRecord>(&key_storage_key(account, region, &alias.target_key_id)).await? {
            return Ok(key);
        }
    }
    let key = KeyRecord::new(
        secrets,
        ids,
        now,
        account,
        region,
        KeyManager::Aws,
        &aws_managed_key_description(service),
        aws_managed_key_policy(account, region, service),
    );
    tx.insert_new(&key_storage_key(account, region, &key.key_id), encode_record(&key));
    match existing_alias {
        // The alias names a key that is gone (AWS-managed keys cannot be deleted, so only a damaged
        // store gets here): point it at the new key, expecting the alias as read.
        Some(mut alias) => {
            alias.target_key_id = key.key_id.clone();
            alias.last_updated_date = now;
            tx.put_record(&alias_key, &alias);
        }
        None => {
            let alias = AliasRecord::new(account, region, &alias_name, &key.key_id, now);
            tx.insert_new(&alias_key, encode_record(&alias));
        }
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingot_store::Store;
    use ingot_store_sqlite::SqliteStore;
    use std::sync::Arc;

    const ACCOUNT: &str = "123456789012";
    const REGION: &str = "us-east-1";

    fn store(dir: &tempfile::TempDir) -> Arc<dyn Store> {
        SqliteStore::open(dir.path()).unwrap()
    }

    async fn commit(tx: &Tx) -> Result<(), StoreError> {
        tx.store().commit(tx.take_batch()).await
    }

    #[tokio::test]
    async fn the_managed_key_is_created_once_and_then_returned() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let secrets = SecretBox::new(&[3u8; 32]);
        let ids = IdGen::seeded(5);
        let tx = Tx::new(store.clone());
        let first = aws_managed_key(&tx, &secrets, &ids, Timestamp(1000), ACCOUNT, REGION, "ssm").await.unwrap();
        // Within the same unit of work, the pending key is found.
        let again = aws_managed_key(&tx, &secrets, &ids, Timestamp(1000), ACCOUNT, REGION, "ssm").await.unwrap();
        assert_eq!(again, first);
        commit(&tx).await.unwrap();

        let tx = Tx::new(store.clone());
        let second = aws_managed_key(&tx, &secrets, &ids, Timestamp(2000), ACCOUNT, REGION, "ssm").await.unwrap();
        assert_eq!(second, first);
        assert!(!tx.has_writes());
        assert_eq!(first.key_manager, KeyManager::Aws);
        assert_eq!(first.description, "Default key that protects my SSM parameters when no other key is defined");
        assert!(first.policy.contains("ssm.us-east-1.amazonaws.com"));
        let keys = store.scan(&keys_prefix(ACCOUNT, REGION), None, 10).await.unwrap();
        assert_eq!(keys.len(), 1);
    }

    #[tokio::test]
    async fn two_concurrent_first_uses_of_the_managed_key_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let secrets = SecretBox::new(&[3u8; 32]);
        let ids = IdGen::seeded(6);
        let a = Tx::new(store.clone());
        let b = Tx::new(store.clone());
        let ka = aws_managed_key(&a, &secrets, &ids, Timestamp(0), ACCOUNT, REGION, "ssm").await.unwrap();
        let kb = aws_managed_key(&b, &secrets, &ids, Timestamp(0), ACCOUNT, REGION, "ssm").await.unwrap();
        assert_ne!(ka.key_id, kb.key_id);
        commit(&a).await.unwrap();
        assert!(matches!(commit(&b).await, Err(StoreError::Conflict(_))));
        // The retry finds the winner.
        let retry = Tx::new(store.clone());
        let k = aws_managed_key(&retry, &secrets, &ids, Timestamp(0), ACCOUNT, REGION, "ssm").await.unwrap();
        assert_eq!(k.key_id, ka.key_id);
    }

    #[tokio::test]
    async fn a_key_resolves_by_id_arn_alias_name_and_alias_arn() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let secrets = SecretBox::new(&[3u8; 32]);
        let ids = IdGen::seeded(7);
        let tx = Tx::new(store.clone());
        let key = aws_managed_key(&tx, &secrets, &ids, Timestamp(0), ACCOUNT, REGION, "ssm").await.unwrap();
        commit(&tx).await.unwrap();

        let tx = Tx::new(store.clone());
        let alias_arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/ssm");
        for r in [key.key_id.as_str(), key.arn.as_str(), "alias/aws/ssm", alias_arn.as_str()] {
            let found = resolve_key(&tx, ACCOUNT, REGION, r).await.unwrap();
            assert_eq!(found.as_ref().map(|k| k.key_id.as_str()), Some(key.key_id.as_str()), "{r}");
        }
        // Another account's ARN resolves in that account; its bare id does not.
        for r in [key.arn.as_str(), alias_arn.as_str()] {
            assert!(resolve_key(&tx, "210987654321", REGION, r).await.unwrap().is_some(), "{r}");
        }
        assert!(resolve_key(&tx, "210987654321", REGION, &key.key_id).await.unwrap().is_none());
        let other_region = key.arn.replace(REGION, "eu-west-1");
        for r in [
            "",
            "alias/missing",
            "alias/",
            "not-a-key",
            other_region.as_str(),
            "arn:aws:ssm:us-east-1:123456789012:parameter/x",
            "arn:aws:kms:us-east-1:123456789012:something/x",
            "arn:garbage",
        ] {
            assert!(resolve_key(&tx, ACCOUNT, REGION, r).await.unwrap().is_none(), "{r}");
        }
        let bare = format!("key/{}", key.key_id);
        assert!(resolve_key(&tx, ACCOUNT, REGION, &bare).await.unwrap().is_none());
    }
}
