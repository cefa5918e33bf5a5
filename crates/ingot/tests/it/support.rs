//! A real Ingot server per test, in-process on 127.0.0.1:0, with real clients.
//!
//! The backend follows `INGOT_TEST_BACKEND`: `sqlite` (default; a temporary data dir) or
//! `postgres` (a fresh schema in `INGOT_TEST_DATABASE_URL`, dropped by `stop`). With
//! `INGOT_TEST_BINARY=1` the server is the real `ingot` binary in a child process instead.

use ingot::bootstrap::RootCredentials;
use ingot::config::Config;
use ingot::RunningServer;
use ingot_store::Store;
use std::collections::HashMap;
use std::sync::Arc;

/// The server under test: in this process, or the real binary.
pub enum Running {
    InProcess(RunningServer),
    Binary(BinaryServer),
}

pub struct BinaryServer {
    child: tokio::process::Child,
    pub addr: std::net::SocketAddr,
    pub root: RootCredentials,
    /// A second handle on the server's store, for assertions on what it wrote.
    pub store: Arc<dyn Store>,
}

impl Running {
    pub fn addr(&self) -> std::net::SocketAddr {
        match self {
            Running::InProcess(s) => s.addr,
            Running::Binary(b) => b.addr,
        }
    }
    pub fn root(&self) -> &RootCredentials {
        match self {
            Running::InProcess(s) => &s.root,
            Running::Binary(b) => &b.root,
        }
    }
    pub fn store(&self) -> &Arc<dyn Store> {
        match self {
            Running::InProcess(s) => &s.store,
            Running::Binary(b) => &b.store,
        }
    }
    async fn shutdown(self) {
        match self {
            Running::InProcess(s) => s.shutdown().await,
            Running::Binary(mut b) => {
                if let Some(pid) = b.child.id() {
                    // SIGTERM: the binary's clean shutdown path.
                    let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
                }
                let _ = b.child.wait().await;
            }
        }
    }
}

async fn start_server(config: &Config, in_process: bool) -> Running {
    if in_process || std::env::var("INGOT_TEST_BINARY").as_deref() != Ok("1") {
        return Running::InProcess(ingot::start(config.clone()).await.expect("server starts"));
    }
    use tokio::io::AsyncBufReadExt;
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ingot"));
    cmd.arg("serve").arg("--listen").arg(config.listen.to_string()).arg("--data-dir").arg(&config.data_dir);
    if let (Some(url), Some(schema)) = (&config.database_url, &config.database_schema) {
        cmd.arg("--database-url").arg(url).arg("--database-schema").arg(schema);
    }
    if config.enable_reset {
        cmd.arg("--enable-reset");
    }
    if config.enable_clock_control {
        cmd.arg("--enable-clock-control");
    }
    if config.auth == ingot::config::AuthSetting::Open {
        cmd.arg("--auth").arg("open").arg("--default-account").arg(config.default_account.as_str());
    }
    cmd.stdout(std::process::Stdio::piped()).kill_on_drop(true).env("INGOT_LOG", "warn");
    let mut child = cmd.spawn().expect("ingot binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    tokio::io::BufReader::new(stdout).read_line(&mut line).await.expect("READY line");
    let endpoint = line.trim().strip_prefix("READY http://").expect("READY http://HOST:PORT").to_string();
    let text = std::fs::read_to_string(config.data_dir.join("credentials")).expect("credentials file");
    let field = |name: &str| {
        text.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim_start_matches([' ', '=']).to_string())).unwrap()
    };
    let account = text.split("account ").nth(1).and_then(|t| t.split(':').next()).unwrap();
    let root = RootCredentials {
        account: ingot_core::AccountId::parse(account).unwrap(),
        access_key_id: field("aws_access_key_id"),
        secret_access_key: field("aws_secret_access_key"),
    };
    let store: Arc<dyn Store> = match (&config.database_url, &config.database_schema) {
        (Some(url), schema) => ingot_store_postgres::PostgresStore::connect(url, schema.as_deref()).await.unwrap(),
        // The binary owns the directory; the test only looks at it (and plants unread keys).
        (None, _) => ingot_store_sqlite::SqliteStore::open_without_lock(&config.data_dir).unwrap(),
    };
    Running::Binary(BinaryServer { child, addr: endpoint.parse().unwrap(), root, store })
}

pub struct TestServer {
    server: Option<Running>,
    pub config: Config,
    schema: Option<String>,
    in_process: bool,
    _data_dir: tempfile::TempDir,
}

pub fn database_url() -> String {
    std::env::var("INGOT_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A test that failed before [`TestServer::stop`] still removes its PostgreSQL schema. The drop
/// runs on a thread of its own: the test's runtime cannot run tasks while it is being dropped.
impl Drop for TestServer {
    fn drop(&mut self) {
        let Some(schema) = self.schema.take() else { return };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                let url = database_url();
                let drop = ingot_store_postgres::PostgresStore::drop_schema(&url, &schema);
                match tokio::time::timeout(std::time::Duration::from_secs(30), drop).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => eprintln!("schema {schema} was not dropped: {e}"),
                    Err(_) => eprintln!("schema {schema} was not dropped within 30 s"),
                }
            })
        });
        let _ = dropped.join();
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server in this process whatever `INGOT_TEST_BINARY` says, for tests that reach into it
    /// ([`TestServer::env`]).
    pub async fn start_in_process() -> Self {
        Self::start_inner(|_| {}, true).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_inner(adjust, false).await
    }

    async fn start_inner(adjust: impl FnOnce(&mut Config), in_process: bool) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::from_args(&[], |_| None).expect("default config");
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.data_dir = data_dir.path().to_path_buf();
        config.enable_reset = true;
        let mut schema = None;
        if std::env::var("INGOT_TEST_BACKEND").as_deref() == Ok("postgres") {
            let name = format!("ingot_it_{:016x}", rand::random::<u64>());
            config.database_url = Some(database_url());
            config.database_schema = Some(name.clone());
            schema = Some(name);
        }
        adjust(&mut config);
        let server = start_server(&config, in_process).await;
        TestServer { server: Some(server), config, schema, in_process, _data_dir: data_dir }
    }

    /// The PostgreSQL schema of this server, when the backend is PostgreSQL.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    pub fn running(&self) -> &Running {
        self.server.as_ref().expect("server is running")
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        self.running().store()
    }

    /// The environment of a server started with [`TestServer::start_in_process`].
    pub fn env(&self) -> Arc<ingot_core::Env> {
        match self.running() {
            Running::InProcess(s) => s.env.clone(),
            Running::Binary(_) => panic!("the server runs in another process"),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.running().addr())
    }

    pub fn account(&self) -> String {
        self.running().root().account.to_string()
    }

    pub fn access_key_id(&self) -> String {
        self.running().root().access_key_id.clone()
    }

    pub fn secret(&self) -> String {
        self.running().root().secret_access_key.clone()
    }

    /// Stops the server and starts it again on the same data (a clean restart).
    pub async fn restart(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
        self.config.listen = "127.0.0.1:0".parse().unwrap();
        self.server = Some(start_server(&self.config, self.in_process).await);
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
        if let Some(schema) = self.schema.take() {
            let _ = ingot_store_postgres::PostgresStore::drop_schema(&database_url(), &schema).await;
        }
    }

    /// The audit records written so far, once there are at least `at_least` (calls that change
    /// nothing are written by a background flush shortly after they answer).
    pub async fn audit_records(&self, at_least: usize) -> Vec<serde_json::Value> {
        let mut records = Vec::new();
        for _ in 0..100 {
            let entries =
                self.store().outbox_after("audit", ingot_store::OutboxPosition::START, 10_000).await.expect("outbox");
            records = entries
                .iter()
                .flat_map(|e| ingot_invoker::expand_audit_entry(&e.payload).expect("audit entry"))
                .collect();
            if records.len() >= at_least {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        records
    }

    /// What every SDK client of this server shares: the endpoint, `region`, the credentials
    /// `key`/`secret` and a plain-HTTP client. Each `aws-sdk-<id>` client is made from it with
    /// `Client::new`, so a new service's client needs one line.
    pub fn sdk_config(&self, region: &str, key: &str, secret: &str) -> aws_types::SdkConfig {
        self.session_config(region, key, secret, None)
    }

    /// [`Self::sdk_config`] with temporary credentials' session token.
    pub fn session_config(&self, region: &str, key: &str, secret: &str, token: Option<&str>) -> aws_types::SdkConfig {
        let token = token.map(str::to_string);
        let credentials = aws_credential_types::Credentials::new(key, secret, token, None, "ingot-test");
        aws_types::SdkConfig::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_types::region::Region::new(region.to_string()))
            .endpoint_url(self.endpoint())
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build()
    }

    /// The SDK configuration of the root of the management account in `region`.
    pub fn root_config(&self, region: &str) -> aws_types::SdkConfig {
        self.sdk_config(region, &self.access_key_id(), &self.secret())
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.root_config("us-east-1"))
    }

    pub fn sts_with(&self, key: &str, secret: &str) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.sdk_config("us-east-1", key, secret))
    }

    pub fn ssm(&self, region: &str) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.root_config(region))
    }

    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.root_config(region))
    }

    /// Sends a raw request, SigV4-signed for `service` when given, and returns status, headers
    /// (lower-case names) and body.
    pub async fn raw(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        sign_for: Option<&str>,
    ) -> RawResponse {
        let host = self.running().addr().to_string();
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        let mut map = http::HeaderMap::new();
        map.insert("host", host.parse().unwrap());
        for (k, v) in headers {
            map.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        if let Some(service) = sign_for {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
            for (k, v) in sign(&map, method, path, query, body, service, &self.access_key_id(), &self.secret(), now) {
                map.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
            }
        }
        send_raw(&host, method, path_and_query, map, body.to_vec()).await
    }
}

/// SigV4 headers for a request signed at `epoch_seconds` in us-east-1.
#[allow(clippy::too_many_arguments)]
pub fn sign(
    headers: &http::HeaderMap,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
    service: &str,
    access_key_id: &str,
    secret: &str,
    epoch_seconds: i64,
) -> Vec<(String, String)> {
    let amz_date = ingot_sigv4::amz_date(epoch_seconds);
    let req = ingot_sigv4::RequestParts { method, path, query, headers, body };
    let params = ingot_sigv4::SigningParams {
        access_key_id,
        secret_access_key: secret,
        session_token: None,
        region: "us-east-1",
        service,
        amz_date: &amz_date,
    };
    ingot_sigv4::sign_headers(&req, &params)
}

pub struct RawResponse {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

async fn send_raw(
    host: &str,
    method: &str,
    path_and_query: &str,
    headers: http::HeaderMap,
    body: Vec<u8>,
) -> RawResponse {
    use http_body_util::{BodyExt, Full};
    let stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(conn);
    let mut req = hyper::Request::builder().method(method).uri(path_and_query);
    for (k, v) in headers.iter() {
        req = req.header(k, v);
    }
    let resp = sender.send_request(req.body(Full::new(bytes::Bytes::from(body))).unwrap()).await.expect("send");
    let status = resp.status().as_u16();
    let headers =
        resp.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    RawResponse { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}
