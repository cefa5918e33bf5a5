//! Settings of `ingot serve`, from flags first and `INGOT_*` environment variables second.

use anyhow::{bail, Context, Result};
use ingot_core::AccountId;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `postgres://…`: use PostgreSQL instead of SQLite in the data dir.
    pub database_url: Option<String>,
    /// PostgreSQL schema to keep Ingot's tables in (created when missing).
    pub database_schema: Option<String>,
    pub auth: AuthSetting,
    pub default_account: AccountId,
    pub enable_reset: bool,
    pub enable_clock_control: bool,
    /// Where the master key that seals secrets at rest lives (default `DATA_DIR/master.key`).
    pub master_key_file: Option<PathBuf>,
    pub body_limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthSetting {
    Strict,
    Open,
}

pub const USAGE: &str = "\
usage: ingot serve [options]

options (each also read from the environment variable named after it):
  --listen ADDR             INGOT_LISTEN             address to listen on (default 127.0.0.1:4566; port 0 picks one)
  --data-dir DIR            INGOT_DATA_DIR           data directory (default ./ingot-data)
  --database-url URL        INGOT_DATABASE_URL       postgres://… to keep state in PostgreSQL instead of SQLite
  --database-schema NAME    INGOT_DATABASE_SCHEMA    PostgreSQL schema for Ingot's tables (default: the search path)
  --auth strict|open        INGOT_AUTH               strict verifies SigV4 against stored keys (default strict)
  --default-account ID      INGOT_DEFAULT_ACCOUNT    open mode: account of keys that are not 12-digit ids (default 000000000000)
  --enable-reset            INGOT_ENABLE_RESET       allow POST /_ingot/reset to wipe state
  --enable-clock-control    INGOT_ENABLE_CLOCK_CONTROL  allow POST /_ingot/clock?advance=SECONDS
  --master-key-file PATH    INGOT_MASTER_KEY_FILE    key that seals secrets at rest (default DATA_DIR/master.key)
  --body-limit BYTES        INGOT_BODY_LIMIT         largest request body (default 10485760)
";

impl Config {
    /// Reads settings from `args` (after `serve`) and the environment lookup `env`.
    pub fn from_args(args: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let mut flags = std::collections::HashMap::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (arg.as_str(), None),
            };
            let key = match name {
                "--listen" | "--data-dir" | "--database-url" | "--database-schema" | "--auth" | "--default-account"
                | "--master-key-file" | "--body-limit" => name,
                "--enable-reset" | "--enable-clock-control" => {
                    flags.insert(name.to_string(), inline.unwrap_or_else(|| "true".into()));
                    continue;
                }
                _ => bail!("unknown option {arg}\n\n{USAGE}"),
            };
            let value = match inline {
                Some(v) => v,
                None => it.next().cloned().with_context(|| format!("{key} needs a value"))?,
            };
            flags.insert(key.to_string(), value);
        }
        let get = |flag: &str, var: &str| flags.get(flag).cloned().or_else(|| env(var)).filter(|v| !v.is_empty());
        let truthy = |v: Option<String>| v.is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes" | "on"));

        let listen = get("--listen", "INGOT_LISTEN").unwrap_or_else(|| "127.0.0.1:4566".into());
        let listen: SocketAddr = listen.parse().with_context(|| format!("--listen {listen} is not HOST:PORT"))?;
        let auth = match get("--auth", "INGOT_AUTH").as_deref() {
            None | Some("strict") => AuthSetting::Strict,
            Some("open") => AuthSetting::Open,
            Some(other) => bail!("--auth must be strict or open, not {other}"),
        };
        let default_account =
            get("--default-account", "INGOT_DEFAULT_ACCOUNT").unwrap_or_else(|| "000000000000".into());
        let default_account = AccountId::parse(&default_account)
            .with_context(|| format!("--default-account {default_account} is not a 12-digit account id"))?;
        let database_url = get("--database-url", "INGOT_DATABASE_URL");
        if let Some(url) = &database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                bail!("--database-url must start with postgres:// or postgresql://");
            }
        }
        let body_limit = match get("--body-limit", "INGOT_BODY_LIMIT") {
            Some(v) => v.parse().with_context(|| format!("--body-limit {v} is not a number of bytes"))?,
            None => 10 * 1024 * 1024,
        };
        Ok(Config {
            listen,
            data_dir: PathBuf::from(get("--data-dir", "INGOT_DATA_DIR").unwrap_or_else(|| "ingot-data".into())),
            database_url,
            database_schema: get("--database-schema", "INGOT_DATABASE_SCHEMA"),
            auth,
            default_account,
            enable_reset: truthy(get("--enable-reset", "INGOT_ENABLE_RESET")),
            enable_clock_control: truthy(get("--enable-clock-control", "INGOT_ENABLE_CLOCK_CONTROL")),
            master_key_file: get("--master-key-file", "INGOT_MASTER_KEY_FILE").map(PathBuf::from),
            body_limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_listen_on_the_aws_local_port_with_strict_auth() {
        let c = Config::from_args(&[], |_| None).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:4566");
        assert_eq!(c.auth, AuthSetting::Strict);
        assert!(!c.enable_reset);
    }

    #[test]
    fn flags_win_over_environment_variables() {
        let env = |k: &str| (k == "INGOT_LISTEN").then(|| "127.0.0.1:9999".to_string());
        let c = Config::from_args(&args(&["--listen", "127.0.0.1:0"]), env).unwrap();
        assert_eq!(c.listen.port(), 0);
        let c = Config::from_args(&[], env).unwrap();
        assert_eq!(c.listen.port(), 9999);
    }

    #[test]
    fn environment_switches_are_read() {
        let env = |k: &str| match k {
            "INGOT_ENABLE_RESET" => Some("1".to_string()),
            "INGOT_AUTH" => Some("open".to_string()),
            "INGOT_DEFAULT_ACCOUNT" => Some("123456789012".to_string()),
            _ => None,
        };
        let c = Config::from_args(&[], env).unwrap();
        assert!(c.enable_reset);
        assert_eq!(c.auth, AuthSetting::Open);
        assert_eq!(c.default_account.as_str(), "123456789012");
    }

    #[test]
    fn bad_settings_are_reported() {
        assert!(Config::from_args(&args(&["--auth", "lax"]), |_| None).is_err());
        assert!(Config::from_args(&args(&["--listen", "nowhere"]), |_| None).is_err());
        assert!(Config::from_args(&args(&["--default-account", "12"]), |_| None).is_err());
        assert!(Config::from_args(&args(&["--database-url", "mysql://x"]), |_| None).is_err());
        assert!(Config::from_args(&args(&["--bogus"]), |_| None).is_err());
        assert!(Config::from_args(&args(&["--listen"]), |_| None).is_err());
    }

    #[test]
    fn inline_values_are_accepted() {
        let c = Config::from_args(&args(&["--listen=127.0.0.1:0", "--enable-reset"]), |_| None).unwrap();
        assert_eq!(c.listen.port(), 0);
        assert!(c.enable_reset);
    }
}
