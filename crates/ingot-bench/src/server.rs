//! Starting the servers under test, and making sure they stop: every server is owned by a
//! [`Server`] whose `Drop` kills it (and removes its data directory and PostgreSQL schema), so an
//! error, a panic or Ctrl-C (which drops the run) never leaves one running. Where util-linux's
//! `setpriv` exists the servers are also started with a parent-death signal, which covers this
//! process being killed outright.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

use crate::client::Credentials;
use crate::procfs::Proc;

/// Which kind of server a [`Server`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Ingot,
    Moto,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ingot => "ingot",
            Kind::Moto => "moto",
        }
    }
}

/// How to start Ingot.
#[derive(Debug, Clone)]
pub struct IngotSpec {
    pub bin: PathBuf,
    /// `Some(url)`: PostgreSQL at that URL, in a fresh schema dropped afterwards.
    pub database_url: Option<String>,
}

/// A running server, killed when dropped.
pub struct Server {
    pub kind: Kind,
    pub addr: SocketAddr,
    pub proc: Proc,
    pub creds: Credentials,
    /// Where its output goes (inside its scratch directory, removed on drop).
    pub log: PathBuf,
    /// Kills the process when the server is dropped.
    _guard: Guard,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("kind", &self.kind)
            .field("addr", &self.addr)
            .field("pid", &self.proc.pid)
            .finish()
    }
}

impl Server {
    /// The last lines of the server's output, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, lines)
    }
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Owns the child process and what must be cleaned up after it.
struct Guard {
    child: Child,
    scratch: PathBuf,
    pg_schema: Option<(String, String)>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some((url, schema)) = &self.pg_schema {
            let status = Command::new("psql")
                .env("PGOPTIONS", "-c client_min_messages=warning")
                .arg(url)
                .args(["-q", "-v", "ON_ERROR_STOP=1", "-c"])
                .arg(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .status();
            if !matches!(status, Ok(s) if s.success()) {
                eprintln!("warning: could not drop PostgreSQL schema {schema}; drop it by hand");
            }
        }
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// A fresh scratch directory under the system temp dir.
fn scratch_dir(label: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("ingot-bench-{label}-{}", random_suffix()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Eight hex digits that differ between runs.
pub fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    format!("{:08x}", h.finish() as u32)
}

/// `program args…`, under `setpriv --pdeathsig KILL` when available, in its own process group
/// (so a Ctrl-C in the terminal reaches only this tool, which then stops the server itself).
fn command(program: &Path) -> Command {
    use std::os::unix::process::CommandExt;
    let setpriv = Path::new("/usr/bin/setpriv");
    let mut cmd = if setpriv.exists() {
        let mut c = Command::new(setpriv);
        c.args(["--pdeathsig", "KILL", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.process_group(0).stdin(Stdio::null());
    cmd
}

/// Starts `ingot serve` on a free port with a fresh data directory, strict authentication, and
/// waits for its `READY` line.
pub async fn start_ingot(spec: &IngotSpec, ticks_per_second: u64) -> Result<Server> {
    if !spec.bin.exists() {
        bail!("{} not found: build it with `cargo build --release --bin ingot`", spec.bin.display());
    }
    let scratch = scratch_dir("ingot")?;
    let data_dir = scratch.join("data");
    let log = scratch.join("ingot.log");
    let log_file = std::fs::File::create(&log)?;
    let mut cmd = command(&spec.bin);
    cmd.arg("serve").args(["--listen", "127.0.0.1:0", "--data-dir"]).arg(&data_dir);
    let mut pg_schema = None;
    if let Some(url) = &spec.database_url {
        let schema = format!("ingot_bench_{}", random_suffix());
        cmd.args(["--database-url", url, "--database-schema", &schema]);
        pg_schema = Some((url.clone(), schema));
    }
    // Only the flags above decide how it runs.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("INGOT_") {
            cmd.env_remove(key);
        }
    }
    cmd.stdout(Stdio::piped()).stderr(log_file);
    let mut child = cmd.spawn().with_context(|| format!("starting {}", spec.bin.display()))?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let pid = child.id();
    let guard = Guard { child, scratch, pg_schema };

    // Read stdout on a thread until READY, then keep draining it so the pipe never fills.
    let (tx, rx) = tokio::sync::oneshot::channel::<String>();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(url) = line.strip_prefix("READY ") {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        }
    });
    let url = match tokio::time::timeout(Duration::from_secs(120), rx).await {
        Ok(Ok(url)) => url,
        Ok(Err(_)) => bail!("ingot exited before READY:\n{}", log_tail(&log, 20)),
        Err(_) => bail!("ingot printed no READY line within 120 s:\n{}", log_tail(&log, 20)),
    };
    let addr: SocketAddr = url
        .strip_prefix("http://")
        .unwrap_or(&url)
        .trim_end_matches('/')
        .parse()
        .with_context(|| format!("READY address {url:?}"))?;
    let creds_text =
        std::fs::read_to_string(data_dir.join("credentials")).context("reading the credentials file Ingot wrote")?;
    let creds = parse_credentials(&creds_text)?;
    Ok(Server { kind: Kind::Ingot, addr, proc: Proc { pid, ticks_per_second }, creds, log, _guard: guard })
}

/// The `[default]` profile's key of an AWS shared-credentials file.
pub fn parse_credentials(text: &str) -> Result<Credentials> {
    let mut in_default = false;
    let (mut id, mut secret) = (None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            in_default = line == "[default]";
            continue;
        }
        if !in_default {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            match k.trim() {
                "aws_access_key_id" => id = Some(v.trim().to_owned()),
                "aws_secret_access_key" => secret = Some(v.trim().to_owned()),
                _ => {}
            }
        }
    }
    match (id, secret) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials::key(access_key_id, secret_access_key)),
        _ => bail!("no [default] access key in the credentials file"),
    }
}

/// A port nobody listens on right now.
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Starts `moto_server` on a free port and waits until it answers `GET /moto-api/config`.
pub async fn start_moto(bin: &Path, ticks_per_second: u64) -> Result<(Server, Duration)> {
    if !bin.exists() {
        bail!("{} not found: run scripts/bench, which creates .venv-bench", bin.display());
    }
    let scratch = scratch_dir("moto")?;
    let log = scratch.join("moto.log");
    let log_file = std::fs::File::create(&log)?;
    let port = free_port()?;
    let mut cmd = command(bin);
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]).stdout(log_file.try_clone()?).stderr(log_file);
    let started = Instant::now();
    let child = cmd.spawn().with_context(|| format!("starting {}", bin.display()))?;
    let pid = child.id();
    let mut guard = Guard { child, scratch, pg_schema: None };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = started + Duration::from_secs(120);
    loop {
        if let Some(status) = guard.child.try_wait()? {
            bail!("moto_server exited ({status}) before answering:\n{}", log_tail(&log, 20));
        }
        if crate::client::probe_get(addr, "/moto-api/config").await.is_ok() {
            break;
        }
        if Instant::now() > deadline {
            bail!("moto_server did not answer within 120 s:\n{}", log_tail(&log, 20));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let startup = started.elapsed();
    let server = Server {
        kind: Kind::Moto,
        addr,
        proc: Proc { pid, ticks_per_second },
        // moto accepts any signature; the key only has to look like one.
        creds: Credentials::key("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        log,
        _guard: guard,
    };
    Ok((server, startup))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_file() {
        let text = "# Ingot management account 512038294710: root access key\n[other]\n\
                    aws_access_key_id = NOPE\n[default]\naws_access_key_id = AKIA123\n\
                    aws_secret_access_key = s3cr/et+key\n";
        let c = parse_credentials(text).unwrap();
        assert_eq!(c.access_key_id, "AKIA123");
        assert_eq!(c.secret_access_key, "s3cr/et+key");
        assert!(parse_credentials("[other]\naws_access_key_id = X\n").is_err());
    }

    #[test]
    fn suffixes_differ() {
        assert_ne!(random_suffix(), random_suffix());
        assert_eq!(random_suffix().len(), 8);
    }
}
