//! The `ingot` binary's library half: configuration, start-up and shutdown, and the wiring of
//! store, gateway and services. Tests start servers in-process through [`start`].
//!
//! This is the only crate that knows every service crate; nothing depends on it.

pub mod bootstrap;
pub mod config;
pub mod metrics;

use anyhow::{Context, Result};
use bootstrap::RootCredentials;
use config::{AuthSetting, Config};
use ingot_core::credentials::access_key_storage_key;
use ingot_core::crypto::SecretBox;
use ingot_core::time::SystemClock;
use ingot_core::{Authorizer, Clock, Env, IdGen, Service};
use ingot_gateway::{AuthMode, Gateway, GatewayConfig};
use ingot_invoker::Invoker;
use ingot_jobs::{JobHandler, JobRunner};
use ingot_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// How often the job runner looks for due jobs (it also runs at once when clock control moves
/// the clock).
const JOB_POLL: Duration = Duration::from_secs(1);

/// Every service this build serves.
pub fn services() -> Vec<Arc<dyn Service>> {
    vec![
        Arc::new(ingot_svc_sts::Sts),
        Arc::new(ingot_svc_ec2::Ec2),
        Arc::new(ingot_svc_ram::Ram),
        Arc::new(ingot_svc_ssm::Ssm),
        Arc::new(ingot_svc_organizations::Organizations),
        Arc::new(ingot_svc_iam::Iam),
        Arc::new(ingot_svc_kms::Kms),
    ]
}

/// The authorizer that decides every call: IAM's policy language and evaluation logic
/// (identity policies, boundaries, session policies, SCPs, resource policies).
pub fn authorizer() -> Arc<dyn Authorizer> {
    Arc::new(ingot_policy::IamAuthorizer::new())
}

/// The handler of every kind of job the services schedule (see `ingot_jobs`).
pub fn job_handlers() -> Vec<Arc<dyn JobHandler>> {
    [
        ingot_svc_ssm::job_handlers(),
        ingot_svc_organizations::job_handlers(),
        ingot_svc_kms::job_handlers(),
        ingot_svc_ec2::job_handlers(),
    ]
    .concat()
}

/// A started server: where it listens, what it created, and how to stop it.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub root: RootCredentials,
    pub store: Arc<dyn Store>,
    /// What every call and job of this server shares (tests call the invoker through it).
    pub env: Arc<Env>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    /// Stops the job runner (dropping it does too).
    jobs_shutdown: watch::Sender<bool>,
    jobs_task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server to end; then
    /// stops the job runner (the job in progress finishes) and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
        let _ = self.jobs_shutdown.send(true);
        let _ = (&mut self.jobs_task).await;
    }
}

async fn open_store(config: &Config) -> Result<Arc<dyn Store>> {
    Ok(match &config.database_url {
        Some(url) => ingot_store_postgres::PostgresStore::connect(url, config.database_schema.as_deref())
            .await
            .context("connecting to PostgreSQL")?,
        None => {
            std::fs::create_dir_all(&config.data_dir)
                .with_context(|| format!("creating {}", config.data_dir.display()))?;
            ingot_store_sqlite::SqliteStore::open(&config.data_dir).context("opening the SQLite store")?
        }
    })
}

/// Opens the store, bootstraps, binds the listener and serves in a background task.
pub async fn start(config: Config) -> Result<RunningServer> {
    let ids = IdGen::new();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    std::fs::create_dir_all(&config.data_dir).with_context(|| format!("creating {}", config.data_dir.display()))?;
    let master_key = match &config.master_key {
        Some(encoded) => bootstrap::master_key_from_base64(encoded)?,
        None => {
            let key_path = config.master_key_file.clone().unwrap_or_else(|| config.data_dir.join("master.key"));
            bootstrap::load_or_create_master_key(&key_path, &ids)?
        }
    };
    let secrets = SecretBox::new(&master_key);
    let store = open_store(&config).await?;
    let root = bootstrap::ensure_bootstrap(&store, &secrets, &ids, &*clock).await?;
    bootstrap::write_credentials_file(&config.data_dir.join("credentials"), &root)?;

    let gateway_config = GatewayConfig {
        auth_mode: match config.auth {
            AuthSetting::Strict => AuthMode::Strict,
            AuthSetting::Open => AuthMode::Open { default_account: config.default_account.clone() },
        },
        body_limit: config.body_limit,
        enable_reset: config.enable_reset,
        enable_clock_control: config.enable_clock_control,
        reset_keep_prefixes: vec!["global/ingot/".to_string(), access_key_storage_key(&root.access_key_id)],
        admin_account: root.account.clone(),
        metrics: metrics::endpoint(),
    };
    let invoker = Arc::new(Invoker::new(services()));
    let env = Arc::new(Env {
        store: store.clone(),
        clock,
        ids,
        secrets,
        authorizer: authorizer(),
        invoker: invoker.clone(),
        clock_moved: tokio::sync::Notify::new(),
    });
    let runner = Arc::new(JobRunner::new(env.clone(), job_handlers()));
    let gateway = Gateway::new(env.clone(), invoker, gateway_config);
    let listener =
        tokio::net::TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(ingot_gateway::serve(listener, gateway, async move {
        let _ = rx.await;
    }));
    let (jobs_shutdown, jobs_stop) = watch::channel(false);
    let jobs_task = runner.spawn(JOB_POLL, jobs_stop);
    Ok(RunningServer { addr, root, store, env, shutdown: Some(tx), task, jobs_shutdown, jobs_task })
}
