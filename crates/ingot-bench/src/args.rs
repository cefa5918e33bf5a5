//! Command-line options.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use crate::server::Kind;
use crate::workload::Workload;

pub const USAGE: &str = "\
ingot-bench: Ingot and moto side by side, same load generator, same machine.
Run it through scripts/bench (which sets up moto and builds Ingot); see docs/benchmarks.md.

usage: ingot-bench [options]

  --servers LIST            ingot,moto (default), ingot or moto
  --workloads LIST          comma-separated, default all: noop, get-parameter, put-parameter,
                            get-parameters-by-path, describe-parameters, mixed, kms-decrypt,
                            kms-generate-data-key, run-instances, describe-images,
                            get-parameter-as-role, assume-role, get-parameter-as-owner,
                            get-shared-parameter (the last four: Ingot only)
  --backend sqlite|postgres Ingot's store (default sqlite, in a temporary data directory)
  --database-url URL        PostgreSQL for --backend postgres
                            (default postgres://postgres@127.0.0.1:5432/test; a fresh schema
                            ingot_bench_<random> is used and dropped afterwards)
  --connections N           concurrent keep-alive connections (default 16)
  --duration SECONDS        measured time per workload and server (default 10)
  --warmup SECONDS          unmeasured load before each measurement (default 2; before later
                            rounds at most 0.5)
  --rounds N                rounds the measured time is split into; each round runs every
                            workload once, in turn (default 5)
  --path-params N           parameters in the GetParametersByPath hierarchy (default 10000;
                            each set lives in one region: at most 110000)
  --describe-params N       parameters DescribeParameters filters over, on Ingot (default 100000)
  --moto-describe-params N  the same on moto, where seeding is slow (default 10000)
  --put-names N             names PutParameter overwrites, split over the connections
                            (default 1024)
  --seed-connections N      connections used to seed data (default 16)
  --memory-minutes N        instead of the table: the mixed load for N minutes, sampling the
                            server's RSS (default servers: ingot only)
  --memory-interval SECONDS RSS sampling period of --memory-minutes (default 10)
  --ingot-bin PATH          default target/release/ingot
  --moto-server PATH        default .venv-bench/bin/moto_server
  --moto-noop-path PATH     moto's no-op request (default: /moto-api/config, unless another
                            of a few /moto-api/ endpoints, timed at start, is >10 % faster)
  -h, --help                this text
";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub servers: Option<Vec<Kind>>,
    pub workloads: Vec<Workload>,
    pub backend: Backend,
    pub database_url: String,
    pub connections: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub rounds: usize,
    pub path_params: usize,
    pub describe_params: usize,
    pub moto_describe_params: usize,
    pub put_names: usize,
    pub seed_connections: usize,
    pub memory_minutes: Option<f64>,
    pub memory_interval: Duration,
    pub ingot_bin: PathBuf,
    pub moto_server: PathBuf,
    pub moto_noop_path: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            servers: None,
            workloads: Workload::ALL.to_vec(),
            backend: Backend::Sqlite,
            database_url: "postgres://postgres@127.0.0.1:5432/test".into(),
            connections: 16,
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(2),
            rounds: 5,
            path_params: 10_000,
            describe_params: 100_000,
            moto_describe_params: 10_000,
            put_names: 1024,
            seed_connections: 16,
            memory_minutes: None,
            memory_interval: Duration::from_secs(10),
            ingot_bin: PathBuf::from("target/release/ingot"),
            moto_server: PathBuf::from(".venv-bench/bin/moto_server"),
            moto_noop_path: None,
        }
    }
}

impl Options {
    /// The servers to run: as given, else both (only Ingot in memory mode).
    pub fn servers(&self) -> Vec<Kind> {
        match (&self.servers, self.memory_minutes) {
            (Some(s), _) => s.clone(),
            (None, Some(_)) => vec![Kind::Ingot],
            (None, None) => vec![Kind::Ingot, Kind::Moto],
        }
    }

    /// `Ok(None)` for `--help`.
    pub fn parse(args: &[String]) -> Result<Option<Self>> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            if arg == "-h" || arg == "--help" {
                return Ok(None);
            }
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
                _ => (arg.as_str(), None),
            };
            if !flag.starts_with("--") {
                bail!("unexpected argument {arg:?}\n\n{USAGE}");
            }
            let mut value = || -> Result<String> {
                match &inline {
                    Some(v) => Ok(v.clone()),
                    None => it.next().cloned().ok_or_else(|| anyhow!("{flag} needs a value")),
                }
            };
            match flag {
                "--servers" => {
                    let v = value()?;
                    let mut kinds = Vec::new();
                    for s in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        kinds.push(match s {
                            "ingot" => Kind::Ingot,
                            "moto" => Kind::Moto,
                            other => bail!("--servers: unknown server {other:?} (ingot, moto)"),
                        });
                    }
                    kinds.dedup();
                    if kinds.is_empty() {
                        bail!("--servers needs ingot, moto or both");
                    }
                    o.servers = Some(kinds);
                }
                "--workloads" => {
                    let v = value()?;
                    let mut list = Vec::new();
                    for s in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        let w = Workload::parse(s)
                            .ok_or_else(|| anyhow!("--workloads: unknown workload {s:?}\n\n{USAGE}"))?;
                        if !list.contains(&w) {
                            list.push(w);
                        }
                    }
                    if list.is_empty() {
                        bail!("--workloads needs at least one workload");
                    }
                    o.workloads = list;
                }
                "--backend" => {
                    o.backend = match value()?.as_str() {
                        "sqlite" => Backend::Sqlite,
                        "postgres" | "postgresql" => Backend::Postgres,
                        other => bail!("--backend: {other:?} is neither sqlite nor postgres"),
                    }
                }
                "--database-url" => o.database_url = value()?,
                "--connections" => o.connections = positive(flag, &value()?)?,
                "--duration" => o.duration = seconds(flag, &value()?)?,
                "--warmup" => {
                    let v = value()?;
                    let s: f64 = v.parse().with_context(|| format!("{flag} {v:?}"))?;
                    if !(0.0..=3600.0).contains(&s) {
                        bail!("{flag} must be between 0 and 3600 seconds");
                    }
                    o.warmup = Duration::from_secs_f64(s);
                }
                "--rounds" => o.rounds = positive(flag, &value()?)?,
                "--path-params" => o.path_params = positive(flag, &value()?)?,
                "--describe-params" => o.describe_params = positive(flag, &value()?)?,
                "--moto-describe-params" => o.moto_describe_params = positive(flag, &value()?)?,
                "--put-names" => o.put_names = positive(flag, &value()?)?,
                "--seed-connections" => o.seed_connections = positive(flag, &value()?)?,
                "--memory-minutes" => {
                    let v = value()?;
                    let m: f64 = v.parse().with_context(|| format!("{flag} {v:?}"))?;
                    if !(m > 0.0 && m <= 24.0 * 60.0) {
                        bail!("{flag} must be more than 0 and at most a day");
                    }
                    o.memory_minutes = Some(m);
                }
                "--memory-interval" => o.memory_interval = seconds(flag, &value()?)?,
                "--ingot-bin" => o.ingot_bin = PathBuf::from(value()?),
                "--moto-server" => o.moto_server = PathBuf::from(value()?),
                "--moto-noop-path" => {
                    let v = value()?;
                    if !v.starts_with('/') {
                        bail!("--moto-noop-path must start with /");
                    }
                    o.moto_noop_path = Some(v);
                }
                other => bail!("unknown option {other}\n\n{USAGE}"),
            }
        }
        for (flag, n) in [
            ("--path-params", o.path_params),
            ("--describe-params", o.describe_params),
            ("--moto-describe-params", o.moto_describe_params),
        ] {
            if n > crate::workload::MAX_SET {
                bail!(
                    "{flag}: at most {} (a set lives in one region, and AWS allows 10,000 Standard plus 100,000 Advanced parameters per account and region)",
                    crate::workload::MAX_SET
                );
            }
        }
        Ok(Some(o))
    }
}

fn positive(flag: &str, v: &str) -> Result<usize> {
    let n: usize = v.parse().with_context(|| format!("{flag} {v:?} is not a whole number"))?;
    if n == 0 {
        bail!("{flag} must be at least 1");
    }
    Ok(n)
}

fn seconds(flag: &str, v: &str) -> Result<Duration> {
    let s: f64 = v.parse().with_context(|| format!("{flag} {v:?} is not a number of seconds"))?;
    if !(s > 0.0 && s <= 86_400.0) {
        bail!("{flag} must be more than 0 and at most a day");
    }
    Ok(Duration::from_secs_f64(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Options>> {
        Options::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn defaults() {
        let o = parse(&[]).unwrap().unwrap();
        assert_eq!(o.connections, 16);
        assert_eq!(o.duration, Duration::from_secs(10));
        assert_eq!(o.warmup, Duration::from_secs(2));
        assert_eq!(o.describe_params, 100_000);
        assert_eq!(o.moto_describe_params, 10_000);
        assert_eq!(o.workloads, Workload::ALL.to_vec());
        assert_eq!(o.servers(), vec![Kind::Ingot, Kind::Moto]);
        assert_eq!(o.backend, Backend::Sqlite);
    }

    #[test]
    fn flags_with_and_without_equals() {
        let o = parse(&[
            "--connections=4",
            "--duration",
            "2.5",
            "--warmup=0",
            "--workloads",
            "noop,get-parameter,noop",
            "--servers=ingot",
            "--backend",
            "postgres",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(o.connections, 4);
        assert_eq!(o.duration, Duration::from_millis(2500));
        assert_eq!(o.warmup, Duration::ZERO);
        assert_eq!(o.workloads, vec![Workload::Noop, Workload::GetParameter]);
        assert_eq!(o.servers(), vec![Kind::Ingot]);
        assert_eq!(o.backend, Backend::Postgres);
        let o = parse(&["--workloads", "get-parameter,get-parameter-as-role,assume-role"]).unwrap().unwrap();
        assert_eq!(o.workloads, vec![Workload::GetParameter, Workload::GetParameterAsRole, Workload::AssumeRole]);
    }

    #[test]
    fn the_kms_workloads_are_chosen_by_name_and_run_by_default() {
        let o = parse(&["--workloads", "kms-decrypt,kms-generate-data-key"]).unwrap().unwrap();
        assert_eq!(o.workloads, vec![Workload::KmsDecrypt, Workload::KmsGenerateDataKey]);
        assert!(o.workloads.iter().all(|w| w.kms() && !w.ingot_only()));
        let defaults = parse(&[]).unwrap().unwrap().workloads;
        assert!(defaults.contains(&Workload::KmsDecrypt) && defaults.contains(&Workload::KmsGenerateDataKey));
        assert!(USAGE.contains("kms-decrypt") && USAGE.contains("kms-generate-data-key"));
    }

    #[test]
    fn the_ec2_workloads_are_chosen_by_name_and_run_by_default() {
        let o = parse(&["--workloads", "run-instances,describe-images"]).unwrap().unwrap();
        assert_eq!(o.workloads, vec![Workload::RunInstances, Workload::DescribeImages]);
        assert!(o.workloads.iter().all(|w| w.ec2() && !w.ingot_only()));
        let defaults = parse(&[]).unwrap().unwrap().workloads;
        assert!(defaults.contains(&Workload::RunInstances) && defaults.contains(&Workload::DescribeImages));
        assert!(USAGE.contains("run-instances") && USAGE.contains("describe-images"));
    }

    #[test]
    fn the_sharing_workloads_are_chosen_by_name() {
        let o = parse(&["--servers", "ingot", "--workloads", "get-parameter-as-owner,get-shared-parameter"])
            .unwrap()
            .unwrap();
        assert_eq!(o.workloads, vec![Workload::GetParameterAsOwner, Workload::GetSharedParameter]);
        assert!(USAGE.contains("get-parameter-as-owner") && USAGE.contains("get-shared-parameter"));
    }

    #[test]
    fn memory_mode_defaults_to_ingot_only() {
        let o = parse(&["--memory-minutes", "10"]).unwrap().unwrap();
        assert_eq!(o.memory_minutes, Some(10.0));
        assert_eq!(o.servers(), vec![Kind::Ingot]);
        let o = parse(&["--memory-minutes", "1", "--servers", "ingot,moto"]).unwrap().unwrap();
        assert_eq!(o.servers(), vec![Kind::Ingot, Kind::Moto]);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(parse(&["--connections", "0"]).is_err());
        assert!(parse(&["--connections"]).is_err());
        assert!(parse(&["--workloads", "nope"]).is_err());
        assert!(parse(&["--servers", "localstack"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
        assert!(parse(&["stray"]).is_err());
        assert!(parse(&["--duration", "-1"]).is_err());
        assert!(parse(&["--moto-noop-path", "moto-api"]).is_err());
        assert!(parse(&["--describe-params", "110001"]).is_err());
        assert!(parse(&["--describe-params", "110000"]).is_ok());
        assert!(parse(&["--help"]).unwrap().is_none());
    }
}
