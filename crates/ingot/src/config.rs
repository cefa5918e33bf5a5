//! The command line of `ingot` (clap): its subcommands, and the settings of `ingot serve`, from
//! flags first and `INGOT_*` environment variables second.

use anyhow::Result;
use clap::builder::BoolishValueParser;
use clap::error::ErrorKind;
use clap::{Arg, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use ingot_core::AccountId;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "ingot",
    version,
    about = "AWS control-plane APIs for golden-image pipelines, in one binary",
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the APIs over HTTP until SIGTERM or SIGINT
    #[command(
        after_help = "Each option can also be set through the environment variable named next to it; flags win."
    )]
    Serve(Config),
}

/// Settings of `ingot serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port)
    #[arg(long, env = "INGOT_LISTEN", value_name = "ADDR", default_value = "127.0.0.1:4566")]
    pub listen: SocketAddr,
    /// Data directory: SQLite database, master key, credentials file
    #[arg(long, env = "INGOT_DATA_DIR", value_name = "DIR", default_value = "ingot-data")]
    pub data_dir: PathBuf,
    /// postgres://…: keep state in PostgreSQL instead of SQLite in the data directory
    #[arg(long, env = "INGOT_DATABASE_URL", value_name = "URL", value_parser = postgres_url, hide_env_values = true)]
    pub database_url: Option<String>,
    /// PostgreSQL schema to keep Ingot's tables in, created when missing (default: the search path)
    #[arg(long, env = "INGOT_DATABASE_SCHEMA", value_name = "NAME")]
    pub database_schema: Option<String>,
    /// strict: SigV4 verified against stored keys; open: any well-formed signed request is an account root
    #[arg(long, env = "INGOT_AUTH", value_enum, default_value_t = AuthSetting::Strict)]
    pub auth: AuthSetting,
    /// Open mode: the account of access keys that are not 12-digit account ids
    #[arg(long, env = "INGOT_DEFAULT_ACCOUNT", value_name = "ID", default_value = "000000000000", value_parser = account_id)]
    pub default_account: AccountId,
    /// Allow POST /_ingot/reset to wipe state
    #[arg(long, env = "INGOT_ENABLE_RESET", value_parser = BoolishValueParser::new())]
    pub enable_reset: bool,
    /// Allow POST /_ingot/clock?advance=SECONDS
    #[arg(long, env = "INGOT_ENABLE_CLOCK_CONTROL", value_parser = BoolishValueParser::new())]
    pub enable_clock_control: bool,
    /// Key that seals secrets at rest (default: DATA_DIR/master.key)
    #[arg(long, env = "INGOT_MASTER_KEY_FILE", value_name = "PATH")]
    pub master_key_file: Option<PathBuf>,
    /// The master key itself, base64 of 32 bytes, for replicas that share one database without a
    /// shared file (read from the environment only, so that it never shows in a process list)
    #[arg(skip)]
    pub master_key: Option<String>,
    /// Largest request body, in bytes
    #[arg(long, env = "INGOT_BODY_LIMIT", value_name = "BYTES", default_value_t = 10 * 1024 * 1024)]
    pub body_limit: usize,
    /// Log lines on stderr as text or as JSON objects, one a line (level filter: INGOT_LOG, default info)
    #[arg(long, env = "INGOT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthSetting {
    Strict,
    Open,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

fn account_id(text: &str) -> Result<AccountId, String> {
    AccountId::parse(text).ok_or_else(|| "not a 12-digit account id".to_string())
}

fn postgres_url(text: &str) -> Result<String, String> {
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        Ok(text.to_string())
    } else {
        Err("must start with postgres:// or postgresql://".to_string())
    }
}

/// Parses a command line (`args` starts with the program name), with `env` as the environment.
///
/// clap would read the `INGOT_*` variables from the process environment itself; here `env`
/// provides them (tests pass their own): a variable that is set and not empty becomes its flag's
/// default, so a flag on the command line still wins. Help and version come back as the error
/// clap gives for them (its `exit_code` is 0).
pub fn parse<I, T>(args: I, env: impl Fn(&str) -> Option<String>) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let command = Cli::command().mut_subcommands(|sub| sub.mut_args(|arg| from_env(arg, &env)));
    let mut matches = match command.try_get_matches_from(&args) {
        Ok(matches) => matches,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand) => {
            // Help names each flag's environment variable: render it from the command as declared.
            return Err(Cli::command().try_get_matches_from(&args).err().unwrap_or(e));
        }
        Err(e) => return Err(e),
    };
    let mut cli = Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut Cli::command()))?;
    let Command::Serve(config) = &mut cli.command;
    config.master_key = env("INGOT_MASTER_KEY").filter(|value| !value.is_empty());
    Ok(cli)
}

/// `arg` taking its environment variable's value from `env` instead of the process environment.
fn from_env(arg: Arg, env: &impl Fn(&str) -> Option<String>) -> Arg {
    let Some(name) = arg.get_env().and_then(|name| name.to_str()).map(str::to_owned) else {
        return arg;
    };
    match env(&name).filter(|value| !value.is_empty()) {
        Some(value) => arg.env(None).default_value(value),
        None => arg.env(None),
    }
}

impl Config {
    /// Reads the settings of `ingot serve` from `args` (after `serve`) and the environment
    /// lookup `env`.
    pub fn from_args(args: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let argv = ["ingot", "serve"].into_iter().map(String::from).chain(args.iter().cloned());
        match parse(argv, env)?.command {
            Command::Serve(config) => Ok(config),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// What `ingot ARGS` prints for help or version, with exit code 0.
    fn printed(argv: &[&str]) -> String {
        let e = parse(argv.iter().copied(), |_| None).expect_err("help or version");
        assert_eq!(e.exit_code(), 0, "{argv:?}: {e}");
        e.render().to_string()
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_listen_on_the_aws_local_port_with_strict_auth() {
        let c = Config::from_args(&[], |_| None).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:4566");
        assert_eq!(c.data_dir, PathBuf::from("ingot-data"));
        assert_eq!(c.auth, AuthSetting::Strict);
        assert_eq!(c.default_account.as_str(), "000000000000");
        assert!(!c.enable_reset);
        assert!(!c.enable_clock_control);
        assert_eq!(c.body_limit, 10 * 1024 * 1024);
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(c.database_url.is_none() && c.database_schema.is_none() && c.master_key_file.is_none());
    }

    #[test]
    fn flags_win_over_environment_variables() {
        let env = |k: &str| match k {
            "INGOT_LISTEN" => Some("127.0.0.1:9999".to_string()),
            "INGOT_LOG_FORMAT" => Some("json".to_string()),
            "INGOT_BODY_LIMIT" => Some("100".to_string()),
            _ => None,
        };
        let c = Config::from_args(&args(&["--listen", "127.0.0.1:0", "--log-format", "text", "--body-limit=7"]), env)
            .unwrap();
        assert_eq!(c.listen.port(), 0);
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.body_limit, 7);
        let c = Config::from_args(&[], env).unwrap();
        assert_eq!(c.listen.port(), 9999);
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.body_limit, 100);
    }

    #[test]
    fn environment_switches_are_read() {
        let env = |k: &str| match k {
            "INGOT_ENABLE_RESET" => Some("1".to_string()),
            "INGOT_ENABLE_CLOCK_CONTROL" => Some("false".to_string()),
            "INGOT_AUTH" => Some("open".to_string()),
            "INGOT_DEFAULT_ACCOUNT" => Some("123456789012".to_string()),
            "INGOT_DATA_DIR" => Some("/var/lib/ingot".to_string()),
            "INGOT_DATABASE_URL" => Some("postgres://db/ingot".to_string()),
            "INGOT_DATABASE_SCHEMA" => Some("ingot".to_string()),
            "INGOT_MASTER_KEY_FILE" => Some("/run/secrets/master.key".to_string()),
            _ => None,
        };
        let c = Config::from_args(&[], env).unwrap();
        assert!(c.enable_reset);
        assert!(!c.enable_clock_control);
        assert_eq!(c.auth, AuthSetting::Open);
        assert_eq!(c.default_account.as_str(), "123456789012");
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/ingot"));
        assert_eq!(c.database_url.as_deref(), Some("postgres://db/ingot"));
        assert_eq!(c.database_schema.as_deref(), Some("ingot"));
        assert_eq!(c.master_key_file, Some(PathBuf::from("/run/secrets/master.key")));
    }

    #[test]
    fn the_master_key_itself_comes_from_the_environment_only() {
        let env = |k: &str| (k == "INGOT_MASTER_KEY").then(|| "a2V5".to_string());
        assert_eq!(Config::from_args(&[], env).unwrap().master_key.as_deref(), Some("a2V5"));
        assert_eq!(Config::from_args(&[], |_| None).unwrap().master_key, None);
        assert!(Config::from_args(&args(&["--master-key", "a2V5"]), |_| None).is_err());
    }

    #[test]
    fn empty_environment_variables_count_as_unset() {
        let env = |k: &str| k.starts_with("INGOT_").then(String::new);
        let c = Config::from_args(&[], env).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:4566");
        assert!(c.database_url.is_none());
        assert!(!c.enable_reset);
    }

    #[test]
    fn bad_settings_are_reported() {
        assert!(Config::from_args(&args(&["--auth", "lax"]), |_| None).is_err());
        assert!(Config::from_args(&args(&["--listen", "nowhere"]), |_| None).is_err());
        assert!(Config::from_args(&args(&["--default-account", "12"]), |_| None).is_err());
        assert!(Config::from_args(&args(&["--database-url", "mysql://x"]), |_| None).is_err());
        assert!(Config::from_args(&args(&["--bogus"]), |_| None).is_err());
        assert!(Config::from_args(&args(&["--listen"]), |_| None).is_err());
        assert!(Config::from_args(&args(&["--log-format", "xml"]), |_| None).is_err());
        assert!(Config::from_args(&args(&["--body-limit", "lots"]), |_| None).is_err());
        let env = |k: &str| (k == "INGOT_ENABLE_RESET").then(|| "perhaps".to_string());
        assert!(Config::from_args(&[], env).is_err());
        let env = |k: &str| (k == "INGOT_AUTH").then(|| "lax".to_string());
        let e = Config::from_args(&[], env).unwrap_err().to_string();
        assert!(e.contains("--auth") && e.contains("lax"), "{e}");
    }

    #[test]
    fn inline_values_are_accepted() {
        let c = Config::from_args(&args(&["--listen=127.0.0.1:0", "--enable-reset"]), |_| None).unwrap();
        assert_eq!(c.listen.port(), 0);
        assert!(c.enable_reset);
    }

    #[test]
    fn help_lists_the_subcommands_and_every_option_with_its_variable() {
        for argv in [&["ingot", "--help"][..], &["ingot", "-h"], &["ingot", "help"]] {
            let text = printed(argv);
            assert!(text.contains("serve"), "{text}");
            assert!(text.contains("--version"), "{text}");
        }
        for argv in [&["ingot", "serve", "--help"][..], &["ingot", "help", "serve"], &["ingot", "serve", "-h"]] {
            let text = printed(argv);
            for (flag, var) in [
                ("--listen <ADDR>", "INGOT_LISTEN"),
                ("--data-dir <DIR>", "INGOT_DATA_DIR"),
                ("--database-url <URL>", "INGOT_DATABASE_URL"),
                ("--database-schema <NAME>", "INGOT_DATABASE_SCHEMA"),
                ("--auth <AUTH>", "INGOT_AUTH"),
                ("--default-account <ID>", "INGOT_DEFAULT_ACCOUNT"),
                ("--enable-reset", "INGOT_ENABLE_RESET"),
                ("--enable-clock-control", "INGOT_ENABLE_CLOCK_CONTROL"),
                ("--master-key-file <PATH>", "INGOT_MASTER_KEY_FILE"),
                ("--body-limit <BYTES>", "INGOT_BODY_LIMIT"),
                ("--log-format <LOG_FORMAT>", "INGOT_LOG_FORMAT"),
            ] {
                assert!(text.contains(flag), "{flag} missing from {text}");
                assert!(text.contains(&format!("[env: {var}")), "{var} missing from {text}");
            }
            assert!(text.contains("[default: 127.0.0.1:4566]"), "{text}");
            assert!(text.contains("[possible values: text, json]"), "{text}");
        }
    }

    #[test]
    fn version_is_printed() {
        for flag in ["--version", "-V"] {
            assert_eq!(printed(&["ingot", flag]).trim(), format!("ingot {}", env!("CARGO_PKG_VERSION")));
        }
    }

    #[test]
    fn no_subcommand_shows_help_and_fails() {
        let e = parse(["ingot"], |_| None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand);
        assert_ne!(e.exit_code(), 0);
        assert!(e.render().to_string().contains("serve"));
        let e = parse(["ingot", "launch"], |_| None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidSubcommand);
    }
}
