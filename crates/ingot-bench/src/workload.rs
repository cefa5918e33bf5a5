//! The workloads, the data they need, seeding it through the API, and the load loop.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use serde_json::json;
use tokio::task::JoinSet;

use crate::client::{error_code, now_epoch, Conn, Credentials, SignCache, Template};
use crate::hist::Histogram;
use crate::server::Server;

/// What a benchmark run can measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Workload {
    Noop,
    GetParameter,
    PutParameter,
    GetParametersByPath,
    DescribeParameters,
    Mixed,
    /// KMS Decrypt of one ciphertext (32 bytes, with an encryption context), the key named by the
    /// blob alone.
    KmsDecrypt,
    /// KMS GenerateDataKey (AES_256) under one symmetric key, with an encryption context.
    KmsGenerateDataKey,
    /// EC2 RunInstances of one t3.micro, its image a `resolve:ssm:` reference to a parameter's ARN
    /// on Ingot (an AMI id on moto, which does not resolve them).
    RunInstances,
    /// EC2 DescribeImages of one image by id.
    DescribeImages,
    /// GetParameter with the temporary credentials of a role session whose role has ten managed
    /// policies, in a member account under an SCP (Ingot only: moto does not enforce IAM).
    GetParameterAsRole,
    /// STS AssumeRole by an IAM user (Ingot only).
    AssumeRole,
    /// GetParameter by name of an Advanced parameter, with a role session of the account that
    /// owns it (Ingot only): what `GetSharedParameter` is compared with.
    GetParameterAsOwner,
    /// GetParameter by full ARN of that parameter, shared with the organization through RAM, with
    /// a role session of another member account (Ingot only: moto does not share parameters).
    GetSharedParameter,
}

impl Workload {
    pub const ALL: [Workload; 14] = [
        Workload::Noop,
        Workload::GetParameter,
        Workload::PutParameter,
        Workload::GetParametersByPath,
        Workload::DescribeParameters,
        Workload::Mixed,
        Workload::KmsDecrypt,
        Workload::KmsGenerateDataKey,
        Workload::RunInstances,
        Workload::DescribeImages,
        Workload::GetParameterAsRole,
        Workload::AssumeRole,
        Workload::GetParameterAsOwner,
        Workload::GetSharedParameter,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Workload::Noop => "noop",
            Workload::GetParameter => "get-parameter",
            Workload::PutParameter => "put-parameter",
            Workload::GetParametersByPath => "get-parameters-by-path",
            Workload::DescribeParameters => "describe-parameters",
            Workload::Mixed => "mixed",
            Workload::KmsDecrypt => "kms-decrypt",
            Workload::KmsGenerateDataKey => "kms-generate-data-key",
            Workload::RunInstances => "run-instances",
            Workload::DescribeImages => "describe-images",
            Workload::GetParameterAsRole => "get-parameter-as-role",
            Workload::AssumeRole => "assume-role",
            Workload::GetParameterAsOwner => "get-parameter-as-owner",
            Workload::GetSharedParameter => "get-shared-parameter",
        }
    }

    /// Whether it measures IAM's authorization, which only Ingot enforces (moto accepts any
    /// signature and decides nothing), or RAM's sharing, which moto does not do: these run on
    /// Ingot only.
    pub fn ingot_only(self) -> bool {
        matches!(
            self,
            Workload::GetParameterAsRole
                | Workload::AssumeRole
                | Workload::GetParameterAsOwner
                | Workload::GetSharedParameter
        )
    }

    /// Whether it reads the parameter shared through RAM (set up by [`crate::sharing::setup`]),
    /// and from which side.
    pub fn sharing(self) -> Option<crate::sharing::Side> {
        match self {
            Workload::GetParameterAsOwner => Some(crate::sharing::Side::Owner),
            Workload::GetSharedParameter => Some(crate::sharing::Side::Reader),
            _ => None,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.name() == s)
    }

    /// The SSM operation it measures, for those that measure one.
    pub fn op(self) -> Option<Op> {
        match self {
            Workload::GetParameter => Some(Op::Get),
            Workload::PutParameter => Some(Op::Put),
            Workload::GetParametersByPath => Some(Op::ByPath),
            Workload::DescribeParameters => Some(Op::Describe),
            Workload::Noop
            | Workload::Mixed
            | Workload::KmsDecrypt
            | Workload::KmsGenerateDataKey
            | Workload::RunInstances
            | Workload::DescribeImages
            | Workload::GetParameterAsRole
            | Workload::AssumeRole
            | Workload::GetParameterAsOwner
            | Workload::GetSharedParameter => None,
        }
    }

    /// Whether it measures KMS (its key and ciphertext made by [`crate::kms::setup`]).
    pub fn kms(self) -> bool {
        matches!(self, Workload::KmsDecrypt | Workload::KmsGenerateDataKey)
    }

    /// Whether it measures EC2 (its image found, and on Ingot its parameter written, by
    /// [`crate::ec2::setup`]).
    pub fn ec2(self) -> bool {
        matches!(self, Workload::RunInstances | Workload::DescribeImages)
    }
}

/// The SSM operations the workloads use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Get,
    Put,
    ByPath,
    Describe,
}

impl Op {
    pub const ALL: [Op; 4] = [Op::Get, Op::Put, Op::ByPath, Op::Describe];

    /// As the mixed load's description names it.
    pub fn short(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Put => "put",
            Op::ByPath => "by-path",
            Op::Describe => "describe",
        }
    }

    /// The region whose data it works on. Each data set has its own region, because AWS limits
    /// parameters per account and region (10,000 Standard, 100,000 Advanced): the 100,000 of
    /// the describe set and the 10,000 of the hierarchy do not fit in one region beside the rest.
    pub fn region(self) -> &'static str {
        match self {
            Op::Get | Op::Put => "us-east-1",
            Op::ByPath => "us-east-2",
            Op::Describe => "us-west-2",
        }
    }

    pub fn operation(self) -> &'static str {
        match self {
            Op::Get => "GetParameter",
            Op::Put => "PutParameter",
            Op::ByPath => "GetParametersByPath",
            Op::Describe => "DescribeParameters",
        }
    }
}

// ---- the data -------------------------------------------------------------------------------

pub const VALUE: &str = "ami-0123456789abcdef0";
pub const GET_NAME: &str = "/bench/get/param";
pub const TREE_PATH: &str = "/bench/tree";
/// What a by-path page and a describe answer should hold.
pub const PAGE: usize = 10;

/// The names PutParameter overwrites: each connection its own, so that writers do not contend
/// for one key.
pub fn put_name(connection: usize, j: usize) -> String {
    format!("/bench/put/c{connection:03}/n{j:04}")
}

/// The `i`th parameter of the GetParametersByPath hierarchy: 100 per folder.
pub fn tree_name(i: usize) -> String {
    format!("{TREE_PATH}/d{:04}/p{:02}", i / 100, i % 100)
}

/// The `i`th parameter of the DescribeParameters set.
pub fn describe_name(i: usize) -> String {
    format!("/bench/describe/n{i:07}")
}

/// A `BeginsWith` prefix matching [`PAGE`] names of a describe set of `count` (fewer only when
/// `count` < 10): the names `n…0` to `n…9` around the middle of the set.
pub fn describe_prefix(count: usize) -> String {
    let first = count / 2 / 10 * 10;
    let mut name = describe_name(first);
    name.pop();
    name
}

/// How many names of a set of `count` [`describe_prefix`] matches.
pub fn describe_matches(count: usize) -> usize {
    let first = count / 2 / 10 * 10;
    count.saturating_sub(first).min(10)
}

/// The tier of the seeded data sets: Standard up to the region's 10,000, then Advanced (AWS's
/// limits; Ingot enforces them), so a set can hold up to 110,000 parameters.
pub const SEED_TIER: &str = "Intelligent-Tiering";

/// The most parameters a seeded set (one region) can hold.
pub const MAX_SET: usize = 110_000;

pub fn put_input(name: &str, tier: Option<&str>) -> serde_json::Value {
    let mut input = json!({ "Name": name, "Value": VALUE, "Type": "String", "Overwrite": true });
    if let Some(tier) = tier {
        input["Tier"] = json!(tier);
    }
    input
}

/// The request of `op` as the workloads send it, in the op's region.
pub fn template(addr: std::net::SocketAddr, op: Op, describe_count: usize) -> Template {
    Template::ssm(addr, op.region(), op.operation(), &input(op, describe_count))
}

/// A PutParameter overwriting `name` (Standard tier) in the region of GetParameter/PutParameter.
pub fn put_template(addr: std::net::SocketAddr, name: &str) -> Template {
    Template::ssm(addr, Op::Put.region(), "PutParameter", &put_input(name, None))
}

pub fn input(op: Op, describe_count: usize) -> serde_json::Value {
    match op {
        Op::Get => json!({ "Name": GET_NAME }),
        Op::Put => put_input(&put_name(0, 0), None),
        Op::ByPath => json!({ "Path": TREE_PATH, "Recursive": true, "MaxResults": PAGE }),
        Op::Describe => json!({
            "ParameterFilters": [
                { "Key": "Name", "Option": "BeginsWith", "Values": [describe_prefix(describe_count)] }
            ]
        }),
    }
}

// ---- what each connection sends -------------------------------------------------------------

/// The requests of a workload and, per connection, the cycle of template indexes it sends.
#[derive(Debug)]
pub struct Plan {
    pub templates: Vec<Template>,
    pub schedules: Vec<Vec<usize>>,
    /// Who signs them: `None` for the server's root credentials.
    pub creds: Option<Credentials>,
}

impl Plan {
    /// Every connection sends the one request.
    pub fn single(template: Template, connections: usize) -> Self {
        Self { templates: vec![template], schedules: vec![vec![0]; connections], creds: None }
    }

    /// The same requests, signed with `creds` instead of the server's root credentials.
    pub fn signed_by(self, creds: Credentials) -> Self {
        Self { creds: Some(creds), ..self }
    }

    /// Every connection overwrites its own `per_connection` names in turn.
    pub fn puts(server: &Server, connections: usize, per_connection: usize) -> Self {
        let mut templates = Vec::new();
        let mut schedules = Vec::new();
        for c in 0..connections {
            let mut schedule = Vec::new();
            for j in 0..per_connection {
                schedule.push(templates.len());
                templates.push(put_template(server.addr, &put_name(c, j)));
            }
            schedules.push(schedule);
        }
        Self { templates, schedules, creds: None }
    }

    /// The mixed load over `ops`: per ten requests six GetParameter, two PutParameter, one
    /// GetParametersByPath and one DescribeParameters, interleaved; operations not in `ops` are
    /// left out (their slots dropped).
    pub fn mixed(
        server: &Server,
        connections: usize,
        per_connection: usize,
        ops: &[Op],
        describe_count: usize,
    ) -> Self {
        use Op::*;
        let pattern = mixed_pattern(ops);
        let mut templates = Vec::new();
        let mut fixed = std::collections::HashMap::new();
        for op in [Get, ByPath, Describe] {
            if ops.contains(&op) {
                fixed.insert(op, templates.len());
                templates.push(template(server.addr, op, describe_count));
            }
        }
        let mut schedules = Vec::new();
        for c in 0..connections {
            let puts: Vec<usize> = (0..per_connection)
                .map(|j| {
                    templates.push(put_template(server.addr, &put_name(c, j)));
                    templates.len() - 1
                })
                .collect();
            let mut schedule = Vec::new();
            let mut next_put = 0;
            let rounds = if pattern.contains(&Put) { per_connection.max(1) } else { 1 };
            for _ in 0..rounds {
                for op in &pattern {
                    if *op == Put {
                        schedule.push(puts[next_put % puts.len()]);
                        next_put += 1;
                    } else {
                        schedule.push(fixed[op]);
                    }
                }
            }
            schedules.push(schedule);
        }
        Self { templates, schedules, creds: None }
    }
}

/// The cycle the mixed load sends, restricted to `ops`.
pub fn mixed_pattern(ops: &[Op]) -> Vec<Op> {
    use Op::*;
    [Get, Put, Get, ByPath, Get, Put, Get, Describe, Get, Get].into_iter().filter(|op| ops.contains(op)).collect()
}

/// `60% get, 20% put, …` for the mixed load over `ops`.
pub fn mixed_description(ops: &[Op]) -> String {
    let pattern = mixed_pattern(ops);
    Op::ALL
        .iter()
        .filter_map(|op| {
            let n = pattern.iter().filter(|p| *p == op).count();
            (n > 0).then(|| format!("{:.0}% {}", n as f64 * 100.0 / pattern.len() as f64, op.short()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- probing and seeding --------------------------------------------------------------------

/// One request signed with the server's root credentials, on a fresh connection.
pub async fn call(server: &Server, template: &Template) -> Result<(u16, bytes::Bytes)> {
    call_as(server, &server.creds, template).await
}

/// One request signed with `creds`, on a fresh connection.
pub async fn call_as(server: &Server, creds: &Credentials, template: &Template) -> Result<(u16, bytes::Bytes)> {
    let mut conn = Conn::new(server.addr);
    let headers = template.signed_headers(creds, now_epoch());
    let (status, body) = tokio::time::timeout(Duration::from_secs(60), conn.send(template, headers))
        .await
        .map_err(|_| anyhow::anyhow!("{}: no answer within 60 s", template.label))??;
    Ok((status.as_u16(), body))
}

/// `HTTP 400 UnknownOperationException` and the like.
pub fn describe_failure(status: u16, body: &[u8]) -> String {
    match error_code(body) {
        Some(code) => format!("HTTP {status} {code}"),
        None => {
            let text = String::from_utf8_lossy(body);
            let text: String = text.chars().take(80).collect();
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if text.is_empty() {
                format!("HTTP {status}")
            } else {
                format!("HTTP {status}: {text}")
            }
        }
    }
}

/// What seeding a data set came to.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub took: Duration,
    /// Answers that were retried (5xx, throttling), and the first one's description.
    pub retried: u64,
    pub first_retried: Option<String>,
}

/// Whether a client SDK would retry this answer (botocore's standard mode retries 5xx and
/// throttling errors).
pub fn is_transient(status: u16, body: &[u8]) -> bool {
    status >= 500
        || error_code(body).is_some_and(|c| {
            matches!(c.as_str(), "ThrottlingException" | "Throttling" | "TooManyUpdates" | "RequestLimitExceeded")
        })
}

/// Writes `count` String parameters named by `name` in `region` ([`SEED_TIER`]) through
/// PutParameter over `connections` connections. Transient answers (5xx, throttling) are
/// retried up to 8 times with backoff, as SDKs do, and counted; any other non-2xx answer fails
/// the seeding. Prints progress to stderr.
pub async fn seed(
    server: &Server,
    what: &str,
    region: &'static str,
    count: usize,
    connections: usize,
    name: fn(usize) -> String,
) -> Result<Seeded> {
    const ATTEMPTS: u32 = 9;
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let retried = Arc::new(AtomicU64::new(0));
    let first_retried = Arc::new(std::sync::Mutex::new(None::<String>));
    let mut tasks = JoinSet::new();
    for _ in 0..connections.max(1) {
        let next = next.clone();
        let done = done.clone();
        let retried = retried.clone();
        let first_retried = first_retried.clone();
        let addr = server.addr;
        let creds = server.creds.clone();
        tasks.spawn(async move {
            let mut conn = Conn::new(addr);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<(), anyhow::Error>(());
                }
                let template = Template::ssm(addr, region, "PutParameter", &put_input(&name(i), Some(SEED_TIER)));
                for attempt in 1..=ATTEMPTS {
                    let headers = template.signed_headers(&creds, now_epoch());
                    let (status, body) = tokio::time::timeout(Duration::from_secs(60), conn.send(&template, headers))
                        .await
                        .map_err(|_| anyhow::anyhow!("PutParameter {}: no answer within 60 s", name(i)))??;
                    if status.is_success() {
                        break;
                    }
                    let failure = format!("PutParameter {}: {}", name(i), describe_failure(status.as_u16(), &body));
                    if attempt == ATTEMPTS || !is_transient(status.as_u16(), &body) {
                        bail!("{failure}");
                    }
                    retried.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut first) = first_retried.lock() {
                        first.get_or_insert(failure);
                    }
                    tokio::time::sleep(Duration::from_millis(5 << attempt.min(7))).await;
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    let server_name = server.kind.name();
    let progress = {
        let done = done.clone();
        let what = what.to_owned();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                let n = done.load(Ordering::Relaxed);
                let rate = n as f64 / started.elapsed().as_secs_f64();
                eprintln!("  seeding {what} into {server_name}: {n}/{count} ({rate:.0}/s)");
            }
        })
    };
    let mut result = Ok(());
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                result = Err(e);
                break;
            }
            Err(e) => {
                result = Err(e.into());
                break;
            }
        }
    }
    progress.abort();
    tasks.abort_all();
    let first_retried = first_retried.lock().ok().and_then(|f| f.clone());
    result.map(|()| Seeded { took: started.elapsed(), retried: retried.load(Ordering::Relaxed), first_retried })
}

// ---- the load loop --------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
pub struct LoadConfig {
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Sample the server's RSS (and the request rate) this often, from the end of the warm-up.
    pub sample_every: Option<Duration>,
}

/// One RSS sample of a long run.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Duration,
    pub rss_mb: f64,
    /// Requests completed per second since the previous sample.
    pub rate: f64,
}

#[derive(Debug)]
pub struct LoadResult {
    /// Latencies of the responses completed in the measured window.
    pub hist: Histogram,
    pub measured: Duration,
    /// Non-2xx answers and failed requests, warm-up included.
    pub errors: u64,
    pub first_error: Option<String>,
    pub reconnects: u64,
    /// Server CPU (user + system) over the measured window, in ms.
    pub server_cpu_ms: Option<f64>,
    /// This load generator's CPU over the measured window, in ms.
    pub client_cpu_ms: Option<f64>,
    pub samples: Vec<Sample>,
}

impl LoadResult {
    /// Takes in a later run of the same workload: its latencies, time, errors and CPU.
    pub fn absorb(&mut self, later: LoadResult) {
        self.hist.merge(&later.hist);
        self.measured += later.measured;
        self.errors += later.errors;
        if self.first_error.is_none() {
            self.first_error = later.first_error;
        }
        self.reconnects += later.reconnects;
        let sum = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a + b);
        self.server_cpu_ms = sum(self.server_cpu_ms, later.server_cpu_ms);
        self.client_cpu_ms = sum(self.client_cpu_ms, later.client_cpu_ms);
        self.samples.extend(later.samples);
    }

    pub fn rate(&self) -> f64 {
        self.hist.count() as f64 / self.measured.as_secs_f64()
    }

    /// Server CPU milliseconds per 1,000 requests.
    pub fn cpu_per_1k(&self) -> Option<f64> {
        self.per_1k(self.server_cpu_ms)
    }

    /// Load generator CPU milliseconds per 1,000 requests.
    pub fn client_cpu_per_1k(&self) -> Option<f64> {
        self.per_1k(self.client_cpu_ms)
    }

    fn per_1k(&self, ms: Option<f64>) -> Option<f64> {
        let n = self.hist.count();
        ms.filter(|_| n > 0).map(|ms| ms / (n as f64 / 1000.0))
    }
}

struct ConnResult {
    hist: Histogram,
    errors: u64,
    first_error: Option<String>,
    reconnects: u64,
}

/// Runs `plan` against `server`: `connections` tasks each sending back to back over one
/// keep-alive connection for warm-up + duration, signed with the plan's credentials (the
/// server's root credentials unless it names others); latencies of responses completed after the
/// warm-up are recorded.
pub async fn run_load(server: &Server, plan: Arc<Plan>, cfg: LoadConfig) -> Result<LoadResult> {
    let start = Instant::now();
    let measure_start = start + cfg.warmup;
    let end = measure_start + cfg.duration;
    let completed = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for c in 0..cfg.connections {
        let plan = plan.clone();
        let addr = server.addr;
        let creds = plan.creds.clone().unwrap_or_else(|| server.creds.clone());
        let completed = completed.clone();
        tasks.spawn(async move {
            let schedule = &plan.schedules[c % plan.schedules.len()];
            let mut conn = Conn::new(addr);
            let mut cache = SignCache::default();
            let mut out = ConnResult { hist: Histogram::new(), errors: 0, first_error: None, reconnects: 0 };
            let mut i = 0usize;
            let mut succeeded = 0u64;
            loop {
                if Instant::now() >= end {
                    break;
                }
                let index = schedule[i % schedule.len()];
                i += 1;
                let template = &plan.templates[index];
                let headers = cache.headers(index, template, &creds);
                let sent = Instant::now();
                let result = tokio::time::timeout(Duration::from_secs(30), conn.send(template, headers)).await;
                let done = Instant::now();
                let failure = match result {
                    Ok(Ok((status, _))) if status.is_success() => None,
                    Ok(Ok((status, body))) => Some(describe_failure(status.as_u16(), &body)),
                    Ok(Err(e)) => Some(format!("{e:#}")),
                    Err(_) => Some("no answer within 30 s".to_owned()),
                };
                match failure {
                    None => succeeded += 1,
                    Some(f) => {
                        out.errors += 1;
                        out.first_error.get_or_insert_with(|| format!("{}: {f}", template.label));
                        if out.errors >= 1000 && succeeded == 0 {
                            break; // nothing works: stop hammering
                        }
                    }
                }
                if done >= measure_start && done < end {
                    out.hist.record(done - sent);
                }
                completed.fetch_add(1, Ordering::Relaxed);
            }
            out.reconnects = conn.reconnects;
            out
        });
    }

    let mut samples = Vec::new();
    let proc = server.proc;
    let me = crate::procfs::Proc { pid: std::process::id(), ticks_per_second: proc.ticks_per_second };
    tokio::time::sleep_until(measure_start.into()).await;
    let cpu_start = proc.cpu_ms().ok();
    let client_start = me.cpu_ms().ok();
    if let Some(every) = cfg.sample_every {
        let mut last = (Instant::now(), completed.load(Ordering::Relaxed));
        samples.push(Sample { at: Duration::ZERO, rss_mb: proc.rss_mb()?, rate: 0.0 });
        let mut next = measure_start + every;
        while next <= end {
            tokio::time::sleep_until(next.into()).await;
            let now = Instant::now();
            let n = completed.load(Ordering::Relaxed);
            let rate = (n - last.1) as f64 / (now - last.0).as_secs_f64();
            last = (now, n);
            let sample = Sample { at: now - measure_start, rss_mb: proc.rss_mb()?, rate };
            eprintln!(
                "  t={:>5.0} s  RSS {:>7.1} MB  {:>8.0} req/s",
                sample.at.as_secs_f64(),
                sample.rss_mb,
                sample.rate
            );
            samples.push(sample);
            next += every;
        }
    }
    tokio::time::sleep_until(end.into()).await;
    let cpu_end = proc.cpu_ms().ok();
    let client_end = me.cpu_ms().ok();

    let mut hist = Histogram::new();
    let (mut errors, mut first_error, mut reconnects) = (0, None, 0);
    while let Some(joined) = tasks.join_next().await {
        let r = joined?;
        hist.merge(&r.hist);
        errors += r.errors;
        reconnects += r.reconnects;
        if first_error.is_none() {
            first_error = r.first_error;
        }
    }
    Ok(LoadResult {
        hist,
        measured: cfg.duration,
        errors,
        first_error,
        reconnects,
        server_cpu_ms: cpu_start.zip(cpu_end).map(|(a, b)| b - a),
        client_cpu_ms: client_start.zip(client_end).map(|(a, b)| b - a),
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_answers() {
        assert!(is_transient(503, b"{}"));
        assert!(is_transient(500, b""));
        assert!(is_transient(400, br#"{"__type":"ThrottlingException"}"#));
        assert!(!is_transient(400, br#"{"__type":"ParameterLimitExceeded"}"#));
        assert!(!is_transient(404, b""));
    }

    #[test]
    fn workload_names_round_trip() {
        for w in Workload::ALL {
            assert_eq!(Workload::parse(w.name()), Some(w));
        }
        assert_eq!(Workload::parse("nope"), None);
    }

    #[test]
    fn the_ec2_workloads_run_on_both_servers() {
        assert_eq!(Workload::parse("run-instances"), Some(Workload::RunInstances));
        assert_eq!(Workload::parse("describe-images"), Some(Workload::DescribeImages));
        for w in [Workload::RunInstances, Workload::DescribeImages] {
            assert!(w.ec2() && !w.ingot_only() && !w.kms() && w.op().is_none() && w.sharing().is_none());
        }
        assert_eq!(Workload::ALL.iter().filter(|w| w.ec2()).count(), 2);
    }

    #[test]
    fn the_sharing_workloads_run_on_ingot_only_and_read_from_both_sides() {
        use crate::sharing::Side;
        assert_eq!(Workload::parse("get-shared-parameter"), Some(Workload::GetSharedParameter));
        assert_eq!(Workload::parse("get-parameter-as-owner"), Some(Workload::GetParameterAsOwner));
        assert_eq!(Workload::GetSharedParameter.sharing(), Some(Side::Reader));
        assert_eq!(Workload::GetParameterAsOwner.sharing(), Some(Side::Owner));
        for w in [Workload::GetSharedParameter, Workload::GetParameterAsOwner] {
            assert!(w.ingot_only() && !w.kms() && !w.ec2() && w.op().is_none());
        }
        assert_eq!(Workload::ALL.iter().filter(|w| w.sharing().is_some()).count(), 2);
        // The owner's row comes first in the table, which sorts by workload.
        assert!(Workload::GetParameterAsOwner < Workload::GetSharedParameter);
    }

    #[test]
    fn describe_prefix_matches_ten() {
        for count in [10, 15, 100, 10_000, 12_345, 100_000, 1_000_000] {
            let prefix = describe_prefix(count);
            let matching = (0..count).filter(|&i| describe_name(i).starts_with(&prefix)).count();
            assert_eq!(matching, 10, "count {count}, prefix {prefix}");
            assert_eq!(describe_matches(count), 10);
        }
        assert_eq!(describe_prefix(100_000), "/bench/describe/n005000");
        assert_eq!(describe_matches(3), 3);
    }

    #[test]
    fn mixed_shares() {
        assert_eq!(mixed_description(&Op::ALL), "60% get, 20% put, 10% by-path, 10% describe");
        assert_eq!(mixed_description(&[Op::Get, Op::Put]), "75% get, 25% put");
        assert_eq!(mixed_pattern(&[Op::Get]).len(), 6);
    }

    #[test]
    fn tree_names_are_a_hierarchy() {
        assert_eq!(tree_name(0), "/bench/tree/d0000/p00");
        assert_eq!(tree_name(9_999), "/bench/tree/d0099/p99");
        assert!(tree_name(123).starts_with(&format!("{TREE_PATH}/")));
    }

    #[test]
    fn put_names_are_disjoint_between_connections() {
        let a: std::collections::HashSet<_> = (0..64).map(|j| put_name(0, j)).collect();
        let b: std::collections::HashSet<_> = (0..64).map(|j| put_name(1, j)).collect();
        assert!(a.is_disjoint(&b));
    }
}
