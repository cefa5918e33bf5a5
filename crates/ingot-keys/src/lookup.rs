//! Where keys and aliases live in the store, and how a key reference finds its key.

use crate::key::{aws_managed_key_description, aws_managed_key_policy, AliasRecord, KeyManager, KeyRecord};
use ingot_core::crypto::SecretBox;
use ingot_core::{AccountId, Arn, IdGen, Scope, Timestamp};
use ingot_store::{encode_record, StoreError, Tx};

/// `ACCOUNT/REGION/kms/keys/`: every key of an account in a region.
pub fn keys_prefix(scope: &Scope) -> String {
    scope.key("kms", "keys/")
}

/// `ACCOUNT/REGION/kms/keys/KEY_ID`.
pub fn key_storage_key(scope: &Scope, key_id: &str) -> String {
    scope.key("kms", &["keys/", key_id].concat())
}

/// `ACCOUNT/REGION/kms/aliases/`: every alias of an account in a region.
pub fn aliases_prefix(scope: &Scope) -> String {
    scope.key("kms", "aliases/")
}

/// `ACCOUNT/REGION/kms/aliases/ALIAS_NAME`; the name includes `alias/`.
pub fn alias_storage_key(scope: &Scope, alias_name: &str) -> String {
    scope.key("kms", &["aliases/", alias_name].concat())
}

/// `arn:PARTITION:kms:REGION:ACCOUNT:key/KEY_ID`.
pub fn key_arn(scope: &Scope, key_id: &str) -> String {
    scope.arn("kms", &["key/", key_id].concat())
}

/// `arn:PARTITION:kms:REGION:ACCOUNT:alias/NAME` for the alias name `alias/NAME`.
pub fn alias_arn(scope: &Scope, alias_name: &str) -> String {
    scope.arn("kms", alias_name)
}

/// `alias/aws/<service>`, the alias of a service's AWS-managed key.
pub fn aws_managed_alias_name(service: &str) -> String {
    format!("alias/aws/{service}")
}

/// Finds the key a reference names, in the caller's unit of work (the records read become
/// expectations of its commit). Accepted forms, as in AWS:
///
/// - a key id (`1234abcd-…`), looked up in the caller's `scope`;
/// - a key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`);
/// - an alias name (`alias/NAME`), looked up in the caller's `scope`;
/// - an alias ARN (`arn:aws:kms:REGION:ACCOUNT:alias/NAME`).
///
/// ARNs resolve in the account they name, also another account (whether the caller may use that
/// key is a key policy question, not this function's). KMS is regional: an ARN of another region
/// than the scope's, or of another service, resolves to nothing. So does an alias whose target key
/// is gone, and anything malformed.
pub async fn resolve_key(tx: &Tx, scope: &Scope, key_ref: &str) -> Result<Option<KeyRecord>, StoreError> {
    if key_ref.is_empty() {
        return Ok(None);
    }
    let (owner, name) = if key_ref.starts_with("arn:") {
        let Ok(arn) = Arn::parse(key_ref) else { return Ok(None) };
        let Some(account) = AccountId::parse(&arn.account) else { return Ok(None) };
        if arn.service != "kms" || arn.region != scope.region.as_str() {
            return Ok(None);
        }
        (Scope::new(account, scope.region.clone()), arn.resource)
    } else {
        (scope.clone(), key_ref.to_string())
    };
    if name.starts_with("alias/") {
        let Some(alias) = tx.get_record::<AliasRecord>(&alias_storage_key(&owner, &name)).await? else {
            return Ok(None);
        };
        return tx.get_record::<KeyRecord>(&key_storage_key(&owner, &alias.target_key_id)).await;
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
    tx.get_record::<KeyRecord>(&key_storage_key(&owner, key_id)).await
}

/// The account's AWS-managed key of `service` (`alias/aws/<service>`), created with its alias on
/// first use inside the caller's unit of work.
///
/// Both records are written with [`Tx::insert_new`]: when two requests create the key at the same
/// time, one commit fails with a conflict, and the invoker's retry of that request finds the key
/// the other one created. The key exists only if the caller's unit of work commits.
pub async fn aws_managed_key(
    tx: &Tx,
    secrets: &SecretBox,
    ids: &IdGen,
    now: Timestamp,
    scope: &Scope,
    service: &str,
) -> Result<KeyRecord, StoreError> {
    let alias_name = aws_managed_alias_name(service);
    let alias_key = alias_storage_key(scope, &alias_name);
    let existing_alias = tx.get_record::<AliasRecord>(&alias_key).await?;
    if let Some(alias) = &existing_alias {
        if let Some(key) = tx.get_record::<KeyRecord>(&key_storage_key(scope, &alias.target_key_id)).await? {
            return Ok(key);
        }
    }
    let key = KeyRecord::new(
        secrets,
        ids,
        now,
        scope,
        KeyManager::Aws,
        &aws_managed_key_description(service),
        aws_managed_key_policy(scope, service),
    );
    tx.insert_new(&key_storage_key(scope, &key.key_id), encode_record(&key));
    match existing_alias {
        // The alias names a key that is gone (AWS-managed keys cannot be deleted, so only a damaged
        // store gets here): point it at the new key, expecting the alias as read.
        Some(mut alias) => {
            alias.target_key_id = key.key_id.clone();
            alias.last_updated_date = now;
            tx.put_record(&alias_key, &alias);
        }
        None => {
            let alias = AliasRecord::new(scope, &alias_name, &key.key_id, now);
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

    fn scope_of(account: &str) -> Scope {
        Scope::new(AccountId::parse(account).unwrap(), ingot_core::Region::parse(REGION).unwrap())
    }

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
        let first = aws_managed_key(&tx, &secrets, &ids, Timestamp(1000), &scope_of(ACCOUNT), "ssm").await.unwrap();
        // Within the same unit of work, the pending key is found.
        let again = aws_managed_key(&tx, &secrets, &ids, Timestamp(1000), &scope_of(ACCOUNT), "ssm").await.unwrap();
        assert_eq!(again, first);
        commit(&tx).await.unwrap();

        let tx = Tx::new(store.clone());
        let second = aws_managed_key(&tx, &secrets, &ids, Timestamp(2000), &scope_of(ACCOUNT), "ssm").await.unwrap();
        assert_eq!(second, first);
        assert!(!tx.has_writes());
        assert_eq!(first.key_manager, KeyManager::Aws);
        assert_eq!(first.description, "Default key that protects my SSM parameters when no other key is defined");
        assert!(first.policy.contains("ssm.us-east-1.amazonaws.com"));
        let keys = store.scan(&keys_prefix(&scope_of(ACCOUNT)), None, 10).await.unwrap();
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
        let ka = aws_managed_key(&a, &secrets, &ids, Timestamp(0), &scope_of(ACCOUNT), "ssm").await.unwrap();
        let kb = aws_managed_key(&b, &secrets, &ids, Timestamp(0), &scope_of(ACCOUNT), "ssm").await.unwrap();
        assert_ne!(ka.key_id, kb.key_id);
        commit(&a).await.unwrap();
        assert!(matches!(commit(&b).await, Err(StoreError::Conflict(_))));
        // The retry finds the winner.
        let retry = Tx::new(store.clone());
        let k = aws_managed_key(&retry, &secrets, &ids, Timestamp(0), &scope_of(ACCOUNT), "ssm").await.unwrap();
        assert_eq!(k.key_id, ka.key_id);
    }

    #[tokio::test]
    async fn a_key_resolves_by_id_arn_alias_name_and_alias_arn() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let secrets = SecretBox::new(&[3u8; 32]);
        let ids = IdGen::seeded(7);
        let tx = Tx::new(store.clone());
        let key = aws_managed_key(&tx, &secrets, &ids, Timestamp(0), &scope_of(ACCOUNT), "ssm").await.unwrap();
        commit(&tx).await.unwrap();

        let tx = Tx::new(store.clone());
        let alias_arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/ssm");
        for r in [key.key_id.as_str(), key.arn.as_str(), "alias/aws/ssm", alias_arn.as_str()] {
            let found = resolve_key(&tx, &scope_of(ACCOUNT), r).await.unwrap();
            assert_eq!(found.as_ref().map(|k| k.key_id.as_str()), Some(key.key_id.as_str()), "{r}");
        }
        // Another account's ARN resolves in that account; its bare id does not.
        for r in [key.arn.as_str(), alias_arn.as_str()] {
            assert!(resolve_key(&tx, &scope_of("210987654321"), r).await.unwrap().is_some(), "{r}");
        }
        assert!(resolve_key(&tx, &scope_of("210987654321"), &key.key_id).await.unwrap().is_none());
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
            assert!(resolve_key(&tx, &scope_of(ACCOUNT), r).await.unwrap().is_none(), "{r}");
        }
        let bare = format!("key/{}", key.key_id);
        assert!(resolve_key(&tx, &scope_of(ACCOUNT), &bare).await.unwrap().is_none());
    }
}
