//! First start and every restart: the master key, the organization's management account and its
//! root access key, and the credentials file that hands that key to the user.

use anyhow::{bail, Context, Result};
use ingot_core::credentials::{access_key_storage_key, AccessKeyRecord};
use ingot_core::crypto::SecretBox;
use ingot_core::{AccountId, Clock, IdGen, Principal};
use ingot_store::{decode_record, Record, Store, Tx};
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::Path;

/// What the first start created; kept in the store so restarts and replicas reuse it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BootstrapRecord {
    pub management_account: AccountId,
    pub root_access_key_id: String,
}

impl Record for BootstrapRecord {
    const KIND: &'static str = "ingot.bootstrap";
    const SCHEMA_VERSION: u32 = 1;
}

pub const BOOTSTRAP_KEY: &str = "global/ingot/bootstrap";
/// A value sealed under the master key: proves at start-up that the key matches the database.
const KEY_CHECK_KEY: &str = "global/ingot/master-key-check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"ingot master key check";

/// The bootstrap account's credentials, as written to the credentials file.
#[derive(Debug, Clone)]
pub struct RootCredentials {
    pub account: AccountId,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// The master key given in the environment (`INGOT_MASTER_KEY`): base64 of exactly 32 bytes.
pub fn master_key_from_base64(encoded: &str) -> Result<[u8; 32]> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| anyhow::anyhow!("INGOT_MASTER_KEY must be base64"))?;
    bytes.as_slice().try_into().map_err(|_| anyhow::anyhow!("INGOT_MASTER_KEY must hold exactly 32 bytes"))
}

/// Reads the master key, creating it (mode 0600) on first start.
pub fn load_or_create_master_key(path: &Path, ids: &IdGen) -> Result<[u8; 32]> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let key: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| anyhow::anyhow!("{} must hold exactly 32 bytes", path.display()))?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; 32] = ids.bytes(32).try_into().expect("32 bytes");
            write_private_file(path, &key)?;
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Ensures the management account and its root key exist, and returns them.
pub async fn ensure_bootstrap(
    store: &std::sync::Arc<dyn Store>,
    secrets: &SecretBox,
    ids: &IdGen,
    clock: &dyn Clock,
) -> Result<RootCredentials> {
    check_master_key(store, secrets, ids).await?;
    for _ in 0..5 {
        if let Some(item) = store.get(BOOTSTRAP_KEY).await? {
            let boot: BootstrapRecord = decode_record(&item.value)?;
            let key_item = store
                .get(&access_key_storage_key(&boot.root_access_key_id))
                .await?
                .context("the bootstrap root access key is missing from the store")?;
            let key: AccessKeyRecord = decode_record(&key_item.value)?;
            let secret = key.open_secret(secrets).map_err(|_| anyhow::anyhow!("the root key does not open"))?;
            return Ok(RootCredentials {
                account: boot.management_account,
                access_key_id: boot.root_access_key_id,
                secret_access_key: secret,
            });
        }
        let account = AccountId::parse(&ids.account_id()).expect("generated account ids have 12 digits");
        let access_key_id = ingot_core::credentials::new_access_key_id(ids, "AKIA", &account);
        let secret = ids.secret_access_key();
        let record = AccessKeyRecord::new(
            access_key_id.clone(),
            &secret,
            Principal::root(account.clone()),
            secrets,
            ids,
            clock.now(),
        );
        let tx = Tx::new(store.clone());
        tx.insert_new(
            BOOTSTRAP_KEY,
            ingot_store::encode_record(&BootstrapRecord {
                management_account: account,
                root_access_key_id: access_key_id.clone(),
            }),
        );
        tx.insert_new(&access_key_storage_key(&access_key_id), ingot_store::encode_record(&record));
        match store.commit(tx.take_batch()).await {
            // Another replica bootstrapped first: read what it wrote.
            Ok(()) | Err(ingot_store::StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    bail!("could not bootstrap the management account")
}

async fn check_master_key(store: &std::sync::Arc<dyn Store>, secrets: &SecretBox, ids: &IdGen) -> Result<()> {
    match store.get(KEY_CHECK_KEY).await? {
        Some(item) => {
            secrets.open(&item.value, KEY_CHECK_KEY.as_bytes()).map_err(|_| {
                anyhow::anyhow!("the master key does not match this database (use the key file it was created with)")
            })?;
            Ok(())
        }
        None => {
            let tx = Tx::new(store.clone());
            tx.insert_new(KEY_CHECK_KEY, secrets.seal(ids, KEY_CHECK_PLAINTEXT, KEY_CHECK_KEY.as_bytes()));
            match store.commit(tx.take_batch()).await {
                Ok(()) => Ok(()),
                Err(ingot_store::StoreError::Conflict(_)) => Box::pin(check_master_key(store, secrets, ids)).await,
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// Writes `DIR/credentials` in the AWS shared-credentials format, readable by the owner only.
pub fn write_credentials_file(path: &Path, creds: &RootCredentials) -> Result<()> {
    let text = format!(
        "# Ingot management account {}: root access key\n[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        creds.account, creds.access_key_id, creds.secret_access_key
    );
    write_private_file(path, text.as_bytes())
}

fn write_private_file(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_master_key_from_the_environment_is_base64_of_exactly_32_bytes() {
        use base64::Engine;
        let key = [7u8; 32];
        let encoded = base64::engine::general_purpose::STANDARD.encode(key);
        assert_eq!(master_key_from_base64(&encoded).unwrap(), key);
        assert!(master_key_from_base64("not base64!").is_err());
        assert!(master_key_from_base64(&base64::engine::general_purpose::STANDARD.encode([1u8; 16])).is_err());
    }
}
