//! `ingot-bench`: Ingot and moto side by side on one machine, driven by the same load generator.
//! Run it through `scripts/bench`; docs/benchmarks.md explains the columns and the targets.
//!
//! Progress goes to stderr; the report (machine, setup, one markdown table, notes) to stdout.

mod args;
mod client;
mod ec2;
mod hist;
mod identity;
mod kms;
mod procfs;
mod report;
mod server;
mod sharing;
mod workload;

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;

use args::{Backend, Options, USAGE};
use client::Template;
use procfs::MachineInfo;
use report::{fmt_count, fmt_rate, Entry, Measurement, Outcome, Results};
use server::{IngotSpec, Kind, Server};
use workload::{LoadConfig, Op, Plan, Workload};

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let opts = match Options::parse(&argv) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("ingot-bench: {e:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ingot-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The servers are owned by `run`'s future: when a signal wins the select, that future is
    // dropped, and dropping a `Server` kills it.
    let code = runtime.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).ok();
        let mut hangup = signal(SignalKind::hangup()).ok();
        let term = async {
            match term.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        let hangup = async {
            match hangup.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = run(opts) => match r {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("ingot-bench: {e:#}");
                    1
                }
            },
            _ = tokio::signal::ctrl_c() => {
                eprintln!("ingot-bench: interrupted; servers stopped");
                130
            }
            _ = term => {
                eprintln!("ingot-bench: terminated; servers stopped");
                143
            }
            _ = hangup => 129,
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
    ExitCode::from(code)
}

/// A server under test and what has been set up on it.
struct Target {
    server: Server,
    /// Per operation: served (and its data seeded), or why not.
    avail: HashMap<Op, Avail>,
    /// Parameters in its DescribeParameters set.
    describe_count: usize,
    noop: Option<Result<Template, String>>,
    /// The organization, role and users of the IAM workloads, once set up (or why not).
    identity: Option<Result<identity::Setup, String>>,
    /// The key and ciphertext of the KMS workloads, once made (or why not).
    kms: Option<Result<kms::Setup, String>>,
    /// The image of the EC2 workloads (on Ingot, its parameter), once found (or why not).
    ec2: Option<Result<ec2::Setup, String>>,
    /// The parameter shared through RAM and the roles reading it, once set up (or why not).
    sharing: Option<Result<sharing::Setup, String>>,
}

#[derive(Debug, Clone)]
enum Avail {
    Served,
    NotServed(String),
    Failed(String),
}

struct Bench {
    opts: Options,
    notes: Vec<String>,
    results: Results,
    /// New connections the load generator had to open, per server, over all workloads.
    reconnects: HashMap<Kind, u64>,
    /// Servers that closed the connection after (nearly) every response.
    closes_every_time: HashMap<Kind, bool>,
}

async fn run(opts: Options) -> Result<()> {
    let machine = MachineInfo::collect();
    let ticks = procfs::clock_ticks_per_second();
    let kinds = opts.servers();
    let mut bench = Bench {
        opts,
        notes: Vec::new(),
        results: Results::default(),
        reconnects: HashMap::new(),
        closes_every_time: HashMap::new(),
    };
    let opts = bench.opts.clone();

    let mut setup = Vec::new();
    let mut targets: Vec<Target> = Vec::new();
    for kind in kinds {
        match kind {
            Kind::Ingot => {
                let spec = IngotSpec {
                    bin: opts.ingot_bin.clone(),
                    database_url: (opts.backend == Backend::Postgres).then(|| opts.database_url.clone()),
                };
                eprintln!("starting ingot ({})", spec.bin.display());
                let started = Instant::now();
                let server = server::start_ingot(&spec, ticks).await?;
                let backend = match opts.backend {
                    Backend::Sqlite => "SQLite (synchronous=FULL, temporary data directory)".to_owned(),
                    Backend::Postgres => format!("PostgreSQL ({}, fresh schema)", redact_url(&opts.database_url)),
                };
                setup.push(format!(
                    "{} on {backend}, strict SigV4 auth, ready in {:.2} s",
                    version_of(&opts.ingot_bin, &["--version"]).unwrap_or_else(|| "ingot".into()),
                    started.elapsed().as_secs_f64()
                ));
                targets.push(Target::new(server, opts.describe_params));
            }
            Kind::Moto => {
                eprintln!("starting moto ({})", opts.moto_server.display());
                let (server, startup) = server::start_moto(&opts.moto_server, ticks).await?;
                setup.push(format!(
                    "moto {} (`moto_server`, werkzeug threaded, in-memory), answering after {:.2} s",
                    moto_version(&opts.moto_server).unwrap_or_else(|| "?".into()),
                    startup.as_secs_f64()
                ));
                targets.push(Target::new(server, opts.moto_describe_params));
            }
        }
    }
    // Let start-up work settle before calling them idle.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for t in &targets {
        bench.results.idle_rss_mb.push((t.server.kind, t.server.proc.rss_mb()?));
    }

    if let Some(minutes) = opts.memory_minutes {
        return memory_mode(&mut bench, &mut targets, minutes, &machine, &setup).await;
    }

    // Every workload that can run on a server gets its plan (and its data seeded) first; then the
    // runs are measured in rounds, each round going through all of them once, so that a slow
    // spell of a shared machine weighs on every workload alike instead of on whichever ran then.
    let mut runs: Vec<Run> = Vec::new();
    for &workload in &opts.workloads {
        let mixed_ops = if workload == Workload::Mixed {
            let mut ops = Vec::new();
            for op in Op::ALL {
                let mut everywhere = true;
                for t in targets.iter_mut() {
                    everywhere &= matches!(bench.ensure(t, op).await?, Avail::Served);
                }
                if everywhere {
                    ops.push(op);
                }
            }
            ops
        } else {
            Vec::new()
        };
        for (target, t) in targets.iter_mut().enumerate() {
            if workload.ingot_only() && t.server.kind != Kind::Ingot {
                if !bench.notes.iter().any(|n| n.starts_with(INGOT_ONLY_NOTE)) {
                    bench.note(format!(
                        "{INGOT_ONLY_NOTE} ({}): moto does not enforce IAM nor share parameters through RAM, so it has no rows there",
                        Workload::ALL
                            .iter()
                            .filter(|w| w.ingot_only())
                            .map(|w| w.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                continue;
            }
            match bench.plan(t, workload, &mixed_ops).await? {
                Planned::Run { plan, entry, session } => runs.push(Run {
                    target,
                    plan: Arc::new(plan),
                    entry,
                    total: None,
                    round_rates: Vec::new(),
                    settled: Vec::new(),
                    session,
                }),
                Planned::Skip(entry) => bench.results.entries.push(entry),
            }
        }
    }
    let rounds = opts.rounds.max(1);
    for round in 0..rounds {
        for run in runs.iter_mut() {
            bench.measure_round(&targets[run.target], run, round, rounds).await?;
        }
    }
    for run in runs {
        let entry = bench.finish(&targets[run.target], run);
        bench.results.entries.push(entry);
    }
    bench.results.entries.sort_by_key(|e| (e.workload, e.server));
    if let Some(note) = bench.results.round_ratio_note(Workload::GetParameter, Workload::Noop) {
        bench.note(note);
    }
    if let Some(note) = bench.results.round_ratio_note(Workload::GetParameterAsRole, Workload::GetParameter) {
        bench.note(note);
    }
    if let Some(note) = bench.results.round_ratio_note(Workload::GetSharedParameter, Workload::GetParameterAsOwner) {
        bench.note(note);
    }
    for t in &targets {
        bench.results.end_rss_mb.push((t.server.kind, t.server.proc.rss_mb()?));
    }
    let kinds: Vec<Kind> = targets.iter().map(|t| t.server.kind).collect();
    drop(targets); // stops the servers
    eprintln!("servers stopped");

    print_header(&machine, &setup, &opts, &kinds);
    println!("{}", bench.results.table());
    let mut notes = bench.results.error_notes();
    // Where the parameters live says nothing to a run without parameters.
    if opts.workloads.iter().any(|w| !w.kms() && !w.ec2() && *w != Workload::Noop) {
        notes.push(data_note());
    }
    notes.append(&mut bench.notes);
    for kind in &kinds {
        let n = bench.reconnects.get(kind).copied().unwrap_or(0);
        if bench.closes_every_time.get(kind).copied().unwrap_or(false) {
            notes.push(format!(
                "{}: answers every request with `Connection: close`, so no keep-alive is possible against it: the load generator opened {} new connections over the runs (their cost is in its numbers)",
                kind.name(),
                fmt_count(n)
            ));
        } else if n > 0 {
            notes.push(format!("{}: the load generator had to reconnect {} times", kind.name(), fmt_count(n)));
        }
    }
    notes.push(format!("load average at the end: {}", MachineInfo::load_now()));
    println!("Notes:");
    for n in notes {
        println!("- {n}");
    }
    Ok(())
}

impl Target {
    fn new(server: Server, describe_count: usize) -> Self {
        Self {
            server,
            avail: HashMap::new(),
            describe_count,
            noop: None,
            identity: None,
            kms: None,
            ec2: None,
            sharing: None,
        }
    }
}

impl Bench {
    fn note(&mut self, s: String) {
        eprintln!("  note: {s}");
        self.notes.push(s);
    }

    /// Reports that the setup of a group of workloads failed on server `name` (with the last
    /// lines of its log, where given) and answers the reason their rows carry.
    fn setup_failed(&mut self, name: &str, group: &str, e: &anyhow::Error, log_tail: Option<String>) -> String {
        let why = format!("setup: {e:#}");
        eprintln!("  {name}: {why}");
        if let Some(tail) = log_tail.filter(|tail| !tail.trim().is_empty()) {
            eprintln!("  {name} log after the failed setup:\n{tail}");
        }
        self.note(format!("{name}: the {group} workloads could not run: {why}"));
        why
    }

    /// Makes sure `op` can be measured on `t`: probes it and seeds its data once.
    async fn ensure(&mut self, t: &mut Target, op: Op) -> Result<Avail> {
        if let Some(a) = t.avail.get(&op) {
            return Ok(a.clone());
        }
        let a = self.prepare(t, op).await?;
        if let Avail::NotServed(why) = &a {
            eprintln!("  {} does not serve {}: {why}", t.server.kind.name(), op.operation());
        }
        t.avail.insert(op, a.clone());
        Ok(a)
    }

    async fn prepare(&mut self, t: &mut Target, op: Op) -> Result<Avail> {
        // Everything else needs PutParameter to seed its data.
        if op != Op::Put {
            if let Avail::NotServed(why) | Avail::Failed(why) = Box::pin(self.ensure(t, Op::Put)).await? {
                return Ok(Avail::NotServed(format!("seeding needs PutParameter: {why}")));
            }
        }
        let server = &t.server;
        let name = server.kind.name();
        let opts = self.opts.clone();
        let probe = |op: Op, describe_count: usize| workload::template(server.addr, op, describe_count);
        match op {
            Op::Put => {
                let (status, body) = workload::call(server, &probe(Op::Put, 0)).await?;
                if !(200..300).contains(&status) {
                    return Ok(Avail::NotServed(workload::describe_failure(status, &body)));
                }
            }
            Op::Get => {
                let put = workload::put_template(server.addr, workload::GET_NAME);
                let (status, body) = workload::call(server, &put).await?;
                if !(200..300).contains(&status) {
                    return Ok(Avail::Failed(workload::describe_failure(status, &body)));
                }
                let (status, body) = workload::call(server, &probe(Op::Get, 0)).await?;
                if !(200..300).contains(&status) {
                    return Ok(Avail::NotServed(workload::describe_failure(status, &body)));
                }
                let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                if value["Parameter"]["Value"] != workload::VALUE {
                    self.note(format!("{name}: GetParameter answered {value} (expected Value {})", workload::VALUE));
                }
            }
            Op::ByPath | Op::Describe => {
                let count = if op == Op::ByPath { opts.path_params } else { t.describe_count };
                let (status, body) = workload::call(server, &probe(op, count)).await?;
                if !(200..300).contains(&status) {
                    return Ok(Avail::NotServed(workload::describe_failure(status, &body)));
                }
                let (what, names): (&str, fn(usize) -> String) = if op == Op::ByPath {
                    ("the by-path hierarchy", workload::tree_name)
                } else {
                    ("the describe set", workload::describe_name)
                };
                eprintln!("  seeding {} parameters ({what}) into {name}", fmt_count(count as u64));
                let seeded = match workload::seed(server, what, op.region(), count, opts.seed_connections, names).await
                {
                    Ok(seeded) => seeded,
                    Err(e) => {
                        let tail = server.log_tail(5);
                        if !tail.trim().is_empty() {
                            eprintln!("  {name} log after the failed seeding:\n{tail}");
                        }
                        return Ok(Avail::Failed(format!("seeding: {e:#}")));
                    }
                };
                self.note(format!(
                    "{name}: seeded {} parameters ({what}) through PutParameter over {} connections in {:.1} s ({}/s)",
                    fmt_count(count as u64),
                    opts.seed_connections,
                    seeded.took.as_secs_f64(),
                    fmt_rate(count as f64 / seeded.took.as_secs_f64())
                ));
                if seeded.retried > 0 {
                    self.note(format!(
                        "{name}: seeding {what} met {} transient errors, retried with backoff as SDKs do (not part of any measurement); first: {}",
                        fmt_count(seeded.retried),
                        seeded.first_retried.as_deref().unwrap_or("?")
                    ));
                }
                let (status, body) = workload::call(server, &probe(op, count)).await?;
                if !(200..300).contains(&status) {
                    return Ok(Avail::Failed(workload::describe_failure(status, &body)));
                }
                let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let got = value["Parameters"].as_array().map(Vec::len);
                let expected =
                    if op == Op::ByPath { workload::PAGE.min(count) } else { workload::describe_matches(count) };
                if got != Some(expected) {
                    self.note(format!(
                        "{name}: {} answered {} parameters where {expected} were expected",
                        op.operation(),
                        got.map(|n| n.to_string()).unwrap_or_else(|| "no".into())
                    ));
                }
            }
        }
        Ok(Avail::Served)
    }

    /// The no-op request of a server: Ingot's ping, moto's cheapest 2xx endpoint.
    async fn noop(&mut self, t: &mut Target) -> Result<Result<Template, String>> {
        if let Some(n) = &t.noop {
            return Ok(n.clone());
        }
        let server = &t.server;
        let chosen = match server.kind {
            Kind::Ingot => {
                let template = Template::get(server.addr, "/_ingot/ping");
                let (status, body) = workload::call(server, &template).await?;
                if (200..300).contains(&status) {
                    Ok(template)
                } else {
                    Err(workload::describe_failure(status, &body))
                }
            }
            Kind::Moto => {
                let candidates: Vec<String> = match &self.opts.moto_noop_path {
                    Some(p) => vec![p.clone()],
                    None => ["/moto-api/config", "/moto-api/", "/moto-api/lib.js", "/latest/meta-data/"]
                        .map(String::from)
                        .to_vec(),
                };
                let mut timed = Vec::new();
                for path in &candidates {
                    let template = Template::get(server.addr, path);
                    let mut conn = client::Conn::new(server.addr);
                    let mut status_seen = 0;
                    let started = Instant::now();
                    let n = 100;
                    let mut ok = true;
                    for _ in 0..n {
                        let headers = template.signed_headers(&server.creds, client::now_epoch());
                        match conn.send(&template, headers).await {
                            Ok((s, _)) if s.is_success() => status_seen = s.as_u16(),
                            _ => {
                                ok = false;
                                break;
                            }
                        }
                    }
                    if ok {
                        timed.push((started.elapsed() / n, path.clone(), status_seen));
                    }
                }
                let summary = timed
                    .iter()
                    .map(|(d, p, s)| format!("GET {p} → {s} in {:.2} ms", d.as_secs_f64() * 1000.0))
                    .collect::<Vec<_>>()
                    .join("; ");
                let means: Vec<Duration> = timed.iter().map(|(d, _, _)| *d).collect();
                match pick_noop(&means).map(|i| &timed[i]) {
                    Some((_, path, status)) => {
                        self.note(format!(
                            "moto has no no-op endpoint; its no-op row is `GET {path}` (HTTP {status}), chosen from (sequential mean of 100 each): {summary}"
                        ));
                        Ok(Template::get(server.addr, path))
                    }
                    None => Err(format!("none of {} answered 2xx", candidates.join(", "))),
                }
            }
        };
        t.noop = Some(chosen.clone());
        Ok(chosen)
    }

    /// The organization, role and users of the IAM workloads on `t`, set up once (not measured).
    async fn identity(&mut self, t: &mut Target) -> Result<Result<identity::Setup, String>> {
        if let Some(setup) = &t.identity {
            return Ok(setup.clone());
        }
        let name = t.server.kind.name();
        eprintln!("  setting up an organization, a member account, a role and users in {name}");
        let setup = match identity::setup(&t.server).await {
            Ok(setup) => {
                self.note(format!(
                    "{name}: the IAM workloads' setup (organization, OU with an SCP, member account {}, {} managed policies with {} statements of which {} have conditions, role {}, users) took {:.1} s over {} calls, not measured",
                    setup.member_account,
                    identity::POLICIES,
                    setup.statements,
                    setup.conditional,
                    identity::READER_ROLE,
                    setup.took.as_secs_f64(),
                    setup.calls
                ));
                Ok(setup)
            }
            Err(e) => Err(self.setup_failed(name, "IAM", &e, Some(t.server.log_tail(5)))),
        };
        t.identity = Some(setup.clone());
        Ok(setup)
    }

    /// The key and ciphertext of the KMS workloads on `t`, made once (not measured).
    async fn kms(&mut self, t: &mut Target) -> Result<Result<kms::Setup, String>> {
        if let Some(setup) = &t.kms {
            return Ok(setup.clone());
        }
        let name = t.server.kind.name();
        eprintln!("  creating a KMS key and a ciphertext in {name}");
        let setup = match kms::setup(&t.server).await {
            Ok(setup) => {
                self.note(format!(
                    "{name}: the KMS workloads' setup (CreateKey, one Encrypt of {} bytes) took {:.1} ms, not measured",
                    kms::PLAINTEXT.len(),
                    setup.took.as_secs_f64() * 1000.0
                ));
                Ok(setup)
            }
            Err(e) => Err(self.setup_failed(name, "KMS", &e, None)),
        };
        t.kms = Some(setup.clone());
        Ok(setup)
    }

    /// The image of the EC2 workloads on `t`, found (and on Ingot written to a parameter) once
    /// (not measured).
    async fn ec2(&mut self, t: &mut Target) -> Result<Result<ec2::Setup, String>> {
        if let Some(setup) = &t.ec2 {
            return Ok(setup.clone());
        }
        let name = t.server.kind.name();
        eprintln!("  finding the EC2 workloads' image in {name}");
        let setup = match ec2::setup(&t.server).await {
            Ok(setup) => {
                let how = match t.server.kind {
                    Kind::Ingot => format!(
                        "SSM GetParameter {}, PutParameter {} ({}), GetParameter until readable",
                        ec2::PUBLIC_PARAMETER,
                        ec2::IMAGE_PARAMETER,
                        ec2::IMAGE_DATA_TYPE
                    ),
                    Kind::Moto => "EC2 DescribeImages".to_owned(),
                };
                self.note(format!(
                    "{name}: the EC2 workloads' setup ({how}) took {:.1} ms over {} calls, not measured; image {}, RunInstances ImageId `{}`",
                    setup.took.as_secs_f64() * 1000.0,
                    setup.calls,
                    setup.image_id,
                    setup.image_reference
                ));
                Ok(setup)
            }
            Err(e) => Err(self.setup_failed(name, "EC2", &e, None)),
        };
        t.ec2 = Some(setup.clone());
        Ok(setup)
    }

    /// The shared parameter, the second member account and the roles of the RAM workloads on `t`,
    /// set up once on top of the identity setup (not measured).
    async fn sharing(&mut self, t: &mut Target) -> Result<Result<sharing::Setup, String>> {
        if let Some(setup) = &t.sharing {
            return Ok(setup.clone());
        }
        let name = t.server.kind.name();
        let setup = match self.identity(t).await? {
            Err(why) => Err(format!("the identity setup failed ({why})")),
            Ok(org) => match sharing::setup(&t.server, &org).await {
                Ok(setup) => {
                    self.note(format!(
                        "{name}: the RAM workloads' setup (member account {} beside {}, EnableSharingWithAwsOrganization, the {} parameter {} in {}, roles {} and {} with one inline statement each, CreateResourceShare {} with the organization) took {:.1} s over {} calls, not measured",
                        setup.reader_account,
                        setup.owner_account,
                        sharing::TIER,
                        sharing::PARAMETER,
                        setup.owner_account,
                        sharing::OWNER_ROLE,
                        sharing::READER_ROLE,
                        setup.share_arn,
                        setup.took.as_secs_f64(),
                        setup.calls
                    ));
                    if !setup.before_share_denied {
                        self.note(format!(
                            "{name}: before the share existed, {}'s GetParameter of {} answered {} (expected AccessDeniedException): the read may not be the share's doing",
                            sharing::READER_ROLE,
                            setup.parameter_arn,
                            setup.before_share
                        ));
                    }
                    Ok(setup)
                }
                Err(e) => Err(self.setup_failed(name, "RAM", &e, Some(t.server.log_tail(5)))),
            },
        };
        t.sharing = Some(setup.clone());
        Ok(setup)
    }

    /// One request of an IAM workload before it runs: does it answer as it should?
    async fn probe_as(
        &mut self,
        t: &Target,
        workload: Workload,
        template: &Template,
        creds: &client::Credentials,
    ) -> Result<Result<(), String>> {
        let name = t.server.kind.name();
        let (status, body) = workload::call_as(&t.server, creds, template).await?;
        if !(200..300).contains(&status) {
            let text = String::from_utf8_lossy(&body);
            let why = format!("{} {}: {}", template.label, workload::describe_failure(status, &body), text.trim());
            self.note(format!("{name}: {} answered its first request with {why}", workload.name()));
            return Ok(Err(why.chars().take(300).collect()));
        }
        let text = String::from_utf8_lossy(&body);
        match workload {
            Workload::GetParameterAsRole => {
                let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                if value["Parameter"]["Value"] != workload::VALUE {
                    self.note(format!(
                        "{name}: GetParameter as the role answered {value} (expected Value {})",
                        workload::VALUE
                    ));
                }
                // The role's policies allow that one parameter: another must be refused, or the
                // workload does not measure what it claims to.
                let other = identity::denied_parameter_template(t.server.addr);
                let (status, body) = workload::call_as(&t.server, creds, &other).await?;
                let code = client::error_code(&body);
                if code.as_deref() != Some("AccessDeniedException") {
                    self.note(format!(
                        "{name}: GetParameter of {} as the role, which its policies do not allow, answered {} (expected AccessDeniedException): the role may not be held to its policies",
                        identity::DENIED_NAME,
                        workload::describe_failure(status, &body)
                    ));
                }
            }
            _ => {
                if let Err(e) = client::parse_xml_credentials(&text) {
                    self.note(format!("{name}: AssumeRole answered without credentials ({e}): {text}"));
                }
            }
        }
        Ok(Ok(()))
    }

    /// What a run of `workload` on `t` sends, with its data seeded; or the entry saying why it
    /// cannot run.
    async fn plan(&mut self, t: &mut Target, workload: Workload, mixed_ops: &[Op]) -> Result<Planned> {
        let opts = self.opts.clone();
        let per_conn = (opts.put_names / opts.connections).max(1);
        let mut entry = Entry {
            workload,
            server: t.server.kind,
            data: String::new(),
            data_size: None,
            outcome: Outcome::Failed(String::new()),
        };
        let mut session = None;
        let plan = match workload {
            Workload::Noop => match self.noop(t).await? {
                Ok(template) => {
                    entry.data = template.label.clone();
                    Ok(Plan::single(template, opts.connections))
                }
                Err(why) => Err(Avail::NotServed(why)),
            },
            Workload::GetParameterAsRole | Workload::AssumeRole => {
                entry.data = match workload {
                    Workload::GetParameterAsRole => format!(
                        "1 param; role with {} policies, {} statements; SCP",
                        identity::POLICIES,
                        identity::POLICIES * identity::STATEMENTS
                    ),
                    _ => format!("user → role {}", identity::READER_ROLE),
                };
                match self.identity(t).await? {
                    Err(why) => Err(Avail::Failed(why)),
                    Ok(setup) => {
                        let addr = t.server.addr;
                        let (template, creds) = match workload {
                            Workload::GetParameterAsRole => {
                                (identity::get_parameter_template(addr), setup.reader.clone())
                            }
                            _ => (identity::assume_role_template(addr, &setup.reader_role_arn), setup.assumer.clone()),
                        };
                        if workload == Workload::GetParameterAsRole {
                            session = Some(setup.reader_issued);
                        }
                        match self.probe_as(t, workload, &template, &creds).await? {
                            Ok(()) => Ok(Plan::single(template, opts.connections).signed_by(creds)),
                            Err(why) => Err(Avail::Failed(why)),
                        }
                    }
                }
            }
            Workload::GetParameterAsOwner | Workload::GetSharedParameter => {
                let side = workload.sharing().expect("a sharing workload");
                entry.data = match side {
                    sharing::Side::Owner => "1 Advanced param, by name; owner account's role".to_owned(),
                    sharing::Side::Reader => "the same, by ARN; RAM share, member account's role".to_owned(),
                };
                match self.sharing(t).await? {
                    Err(why) => Err(Avail::Failed(why)),
                    Ok(setup) => match sharing::probe(&t.server, &setup, side).await? {
                        Ok(()) => {
                            let (creds, issued) = setup.session(side);
                            session = Some(issued);
                            let template = setup.template(t.server.addr, side);
                            Ok(Plan::single(template, opts.connections).signed_by(creds.clone()))
                        }
                        Err(why) => {
                            self.note(format!("{}: {} failed its check: {why}", t.server.kind.name(), workload.name()));
                            Err(Avail::Failed(why.chars().take(300).collect()))
                        }
                    },
                }
            }
            Workload::KmsDecrypt | Workload::KmsGenerateDataKey => {
                entry.data = match workload {
                    Workload::KmsDecrypt => format!("1 key; {}-byte ciphertext, context", kms::PLAINTEXT.len()),
                    _ => format!("1 key; {}, context", kms::DATA_KEY_SPEC),
                };
                match self.kms(t).await? {
                    Err(why) => Err(Avail::Failed(why)),
                    Ok(setup) => {
                        let addr = t.server.addr;
                        let template = match workload {
                            Workload::KmsDecrypt => kms::decrypt_template(addr, &setup.ciphertext_blob),
                            _ => kms::generate_data_key_template(addr, &setup.key_id),
                        };
                        match kms::probe(&t.server, workload, &template).await? {
                            Ok(()) => Ok(Plan::single(template, opts.connections)),
                            Err(why) => {
                                self.note(format!(
                                    "{}: {} failed its check: {why}",
                                    t.server.kind.name(),
                                    workload.name()
                                ));
                                Err(Avail::Failed(why.chars().take(300).collect()))
                            }
                        }
                    }
                }
            }
            Workload::RunInstances | Workload::DescribeImages => {
                entry.data = match workload {
                    Workload::RunInstances => "resolve:ssm: parameter ARN → AL2023 (moto: literal AMI id)".to_owned(),
                    _ => "1 image by id: AL2023 (moto: an AMI it lists)".to_owned(),
                };
                match self.ec2(t).await? {
                    Err(why) => Err(Avail::Failed(why)),
                    Ok(setup) => {
                        let addr = t.server.addr;
                        let template = match workload {
                            Workload::RunInstances => ec2::run_instances_template(addr, &setup.image_reference),
                            _ => ec2::describe_images_template(addr, &setup.image_id),
                        };
                        match ec2::probe(&t.server, workload, &template, &setup.image_id).await? {
                            Ok(()) => Ok(Plan::single(template, opts.connections)),
                            Err(why) => {
                                self.note(format!(
                                    "{}: {} failed its check: {why}",
                                    t.server.kind.name(),
                                    workload.name()
                                ));
                                Err(Avail::Failed(why.chars().take(300).collect()))
                            }
                        }
                    }
                }
            }
            Workload::Mixed => {
                entry.data = workload::mixed_description(mixed_ops);
                if mixed_ops.is_empty() {
                    Err(Avail::NotServed("no operation served by every server".into()))
                } else {
                    Ok(Plan::mixed(&t.server, opts.connections, per_conn, mixed_ops, t.describe_count))
                }
            }
            w => {
                let op = w.op().expect("the other workloads are single operations");
                let (data, size) = match op {
                    Op::Get => ("1 param".to_owned(), None),
                    Op::Put => (format!("{} names", fmt_count((per_conn * opts.connections) as u64)), None),
                    Op::ByPath => (format!("{} params", fmt_count(opts.path_params as u64)), Some(opts.path_params)),
                    Op::Describe => (format!("{} params", fmt_count(t.describe_count as u64)), Some(t.describe_count)),
                };
                entry.data = data;
                entry.data_size = size;
                match self.ensure(t, op).await? {
                    Avail::Served => Ok(match op {
                        Op::Put => Plan::puts(&t.server, opts.connections, per_conn),
                        _ => Plan::single(workload::template(t.server.addr, op, t.describe_count), opts.connections),
                    }),
                    other => Err(other),
                }
            }
        };
        Ok(match plan {
            Ok(plan) => Planned::Run { plan, entry, session },
            Err(Avail::NotServed(why)) => {
                entry.outcome = Outcome::NotServed(why);
                Planned::Skip(entry)
            }
            Err(Avail::Failed(why)) => {
                entry.outcome = Outcome::Failed(why);
                Planned::Skip(entry)
            }
            Err(Avail::Served) => unreachable!("a served operation has a plan"),
        })
    }

    /// Round `round` (of `rounds`) of `run`: its share of `--duration`, after the full warm-up
    /// in the first round and a short one later (the connections are open and the server has
    /// seen the workload; the warm-up lets it settle after the previous workload).
    async fn measure_round(&mut self, t: &Target, run: &mut Run, round: usize, rounds: usize) -> Result<()> {
        let opts = &self.opts;
        let kind = t.server.kind;
        let workload = run.entry.workload;
        let warmup = if round == 0 { opts.warmup } else { opts.warmup.min(LATER_ROUND_WARMUP) };
        let duration = opts.duration / rounds as u32;
        eprintln!(
            "{} {} (round {}/{rounds}): {} connections, {:.1} s warm-up + {:.1} s",
            kind.name(),
            workload.name(),
            round + 1,
            opts.connections,
            warmup.as_secs_f64(),
            duration.as_secs_f64()
        );
        let connections = opts.connections;
        if let Some(issued) = run.session {
            // A role session lives an hour: renew it before a round that could outlive it.
            if issued.elapsed() + warmup + duration + Duration::from_secs(60) >= identity::READER_SESSION {
                let role = workload.sharing().map_or(identity::READER_ROLE, sharing::Side::role);
                let renewed = match (workload.sharing(), &t.identity, &t.sharing) {
                    (Some(side), _, Some(Ok(setup))) => sharing::renew(&t.server, setup, side).await,
                    (None, Some(Ok(setup)), _) => identity::renew_reader(&t.server, setup).await,
                    _ => Err(anyhow::anyhow!("no setup to renew it from")),
                };
                match renewed {
                    Ok((creds, issued)) => {
                        let template = run.plan.templates[0].clone();
                        run.plan = Arc::new(Plan::single(template, connections).signed_by(creds));
                        run.session = Some(issued);
                        eprintln!("  renewed the {role} session");
                    }
                    Err(e) => {
                        // The round runs with the old session; its errors invalidate the row.
                        run.session = None;
                        let why = format!("{e:#}");
                        self.note(format!("{}: renewing the {role} session failed: {why}", kind.name()));
                    }
                }
            }
        }
        let cfg = LoadConfig { connections, warmup, duration, sample_every: None };
        let r = workload::run_load(&t.server, run.plan.clone(), cfg).await?;
        eprintln!(
            "  {} req/s, p50 {} ms, p99 {} ms, max {} ms, errors {}",
            fmt_rate(r.rate()),
            report::fmt_ms(r.hist.quantile_ms(0.50).unwrap_or(f64::NAN)),
            report::fmt_ms(r.hist.quantile_ms(0.99).unwrap_or(f64::NAN)),
            report::fmt_ms(r.hist.max_nanos().unwrap_or(0) as f64 / 1e6),
            r.errors
        );
        if r.errors > 0 {
            let tail = t.server.log_tail(5);
            if !tail.trim().is_empty() {
                self.note(format!(
                    "{} log after {} errors in {} (round {}):\n  ```\n{}\n  ```",
                    kind.name(),
                    r.errors,
                    workload.name(),
                    round + 1,
                    tail.lines().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
                ));
            }
        }
        run.round_rates.push(r.rate());
        if kind == Kind::Ingot && workload == Workload::RunInstances {
            match ec2::settle(&t.server).await {
                Ok(took) => run.settled.push(took),
                Err(e) => self.note(format!("ingot: waiting for the launched instances to go running: {e:#}")),
            }
        }
        match &mut run.total {
            Some(total) => total.absorb(r),
            None => run.total = Some(r),
        }
        Ok(())
    }

    /// The entry of a run whose rounds are done.
    fn finish(&mut self, t: &Target, run: Run) -> Entry {
        if !run.settled.is_empty() {
            let secs: Vec<String> = run.settled.iter().map(|d| format!("{:.1}", d.as_secs_f64())).collect();
            self.note(format!(
                "{} {}: the instances of each round went `running` (1 s after launch, as jobs) {} s after the round ended; the next workload started only then",
                t.server.kind.name(),
                run.entry.workload.name(),
                secs.join(" / ")
            ));
        }
        let mut entry = run.entry;
        let Some(r) = run.total else {
            entry.outcome = Outcome::Failed("no round ran".into());
            return entry;
        };
        let m = Measurement {
            rate: r.rate(),
            p50_ms: r.hist.quantile_ms(0.50).unwrap_or(f64::NAN),
            p99_ms: r.hist.quantile_ms(0.99).unwrap_or(f64::NAN),
            cpu_per_1k_ms: r.cpu_per_1k(),
            client_cpu_per_1k_ms: r.client_cpu_per_1k(),
            rss_after_mb: t.server.proc.rss_mb().ok(),
            errors: r.errors,
            first_error: r.first_error.clone(),
            round_rates: run.round_rates,
        };
        let kind = t.server.kind;
        *self.reconnects.entry(kind).or_default() += r.reconnects;
        let sent = r.hist.count().max(1) as f64;
        if r.reconnects as f64 > sent * 0.5 {
            *self.closes_every_time.entry(kind).or_default() = true;
        }
        entry.outcome = Outcome::Measured(m);
        entry
    }
}

/// Warm-up before every round after the first (at most `--warmup`).
const LATER_ROUND_WARMUP: Duration = Duration::from_millis(500);

/// A workload on one server, measured over the rounds.
struct Run {
    /// Index into the targets.
    target: usize,
    plan: Arc<Plan>,
    entry: Entry,
    /// The rounds so far, taken together.
    total: Option<workload::LoadResult>,
    round_rates: Vec<f64>,
    /// When the session the plan signs with was issued, for plans signed with a role session.
    session: Option<Instant>,
    /// After each round of a workload that leaves work behind (RunInstances on Ingot), how long
    /// that work took to finish; the next workload waits for it.
    settled: Vec<Duration>,
}

enum Planned {
    /// `session`: when the temporary credentials the plan signs with were issued.
    Run {
        plan: Plan,
        entry: Entry,
        session: Option<Instant>,
    },
    Skip(Entry),
}

/// How the note on the Ingot-only workloads starts (it is added once).
const INGOT_ONLY_NOTE: &str = "IAM workloads run on Ingot only";

async fn memory_mode(
    bench: &mut Bench,
    targets: &mut [Target],
    minutes: f64,
    machine: &MachineInfo,
    setup: &[String],
) -> Result<()> {
    let opts = bench.opts.clone();
    let per_conn = (opts.put_names / opts.connections).max(1);
    let mut outputs = Vec::new();
    for t in targets.iter_mut() {
        let mut ops = Vec::new();
        for op in Op::ALL {
            if matches!(bench.ensure(t, op).await?, Avail::Served) {
                ops.push(op);
            }
        }
        if ops.is_empty() {
            anyhow::bail!("{} serves none of the mixed load's operations", t.server.kind.name());
        }
        let plan = Plan::mixed(&t.server, opts.connections, per_conn, &ops, t.describe_count);
        eprintln!(
            "{} mixed for {minutes} min ({}), RSS every {:.0} s",
            t.server.kind.name(),
            workload::mixed_description(&ops),
            opts.memory_interval.as_secs_f64()
        );
        let cfg = LoadConfig {
            connections: opts.connections,
            warmup: opts.warmup,
            duration: Duration::from_secs_f64(minutes * 60.0),
            sample_every: Some(opts.memory_interval),
        };
        let r = workload::run_load(&t.server, Arc::new(plan), cfg).await?;
        outputs.push((t.server.kind, ops, r));
    }
    let kinds: Vec<Kind> = targets.iter().map(|t| t.server.kind).collect();
    let idle = bench.results.idle_rss_mb.clone();
    print_header(machine, setup, &opts, &kinds);
    for (kind, ops, r) in &outputs {
        let idle = idle.iter().find(|(k, _)| k == kind).map(|(_, v)| *v).unwrap_or(f64::NAN);
        println!("### {} under the mixed load for {minutes} min ({})\n", kind.name(), workload::mixed_description(ops));
        println!(
            "idle RSS after start {idle:.1} MB; {} req/s overall, p50 {} ms, p99 {} ms, {} errors{}\n",
            fmt_rate(r.rate()),
            report::fmt_ms(r.hist.quantile_ms(0.5).unwrap_or(f64::NAN)),
            report::fmt_ms(r.hist.quantile_ms(0.99).unwrap_or(f64::NAN)),
            r.errors,
            r.first_error.as_deref().map(|e| format!(" (INVALID; first: {e})")).unwrap_or_default()
        );
        println!("{}", report::memory_table(*kind, &r.samples));
        println!("{}\n", report::flatness(&r.samples));
    }
    let mut notes = vec![data_note()];
    notes.append(&mut bench.notes);
    println!("Notes:");
    for n in notes {
        println!("- {n}");
    }
    println!("- load average at the end: {}", MachineInfo::load_now());
    Ok(())
}

/// Which of the timed no-op candidates to use: the first (the preferred one) unless another is
/// more than 10 % faster, so that near-ties do not change the endpoint from run to run.
fn pick_noop(means: &[Duration]) -> Option<usize> {
    let fastest = (0..means.len()).min_by_key(|&i| means[i])?;
    if means[fastest].as_secs_f64() < means[0].as_secs_f64() * 0.9 {
        Some(fastest)
    } else {
        Some(0)
    }
}

/// Where the data sets live, and why.
fn data_note() -> String {
    format!(
        "data: GetParameter/PutParameter in {}, the GetParametersByPath hierarchy in {}, the DescribeParameters set in {} (AWS limits parameters per account and region: 10,000 Standard + 100,000 Advanced; the sets are seeded with Tier={}); all String, value `{}`",
        Op::Get.region(),
        Op::ByPath.region(),
        Op::Describe.region(),
        workload::SEED_TIER,
        workload::VALUE
    )
}

fn print_header(machine: &MachineInfo, setup: &[String], opts: &Options, kinds: &[Kind]) {
    let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
    println!("## {}: {}\n", names.join(" vs "), machine.date);
    println!(
        "- machine: nproc {}, {}, {} RAM, Linux {}; load average at the start {}",
        machine.nproc, machine.cpu_model, machine.memory, machine.kernel, machine.load_average
    );
    for s in setup {
        println!("- {s}");
    }
    println!(
        "- load: {} keep-alive HTTP/1.1 connections, each sending back to back; {:.0} s warm-up, then {} measured per workload and server; SigV4-signed for ssm unless a line below says otherwise (awsJson 1.1; a connection re-signs an identical request once a second)",
        opts.connections,
        opts.warmup.as_secs_f64(),
        match opts.memory_minutes {
            Some(m) => format!("{m} min"),
            None => format!(
                "{:.0} s in {} rounds that take turns (later rounds after at most {:.1} s of warm-up)",
                opts.duration.as_secs_f64(),
                opts.rounds.max(1),
                opts.warmup.min(LATER_ROUND_WARMUP).as_secs_f64()
            ),
        }
    );
    if opts.memory_minutes.is_none() && opts.workloads.iter().any(|w| w.ingot_only() && w.sharing().is_none()) {
        println!(
            "- the IAM workloads (Ingot only): `get-parameter-as-role` is `get-parameter`'s request signed with a session of the role `{}` (assumed by role chaining; {} customer managed policies, {} statements) in a member account under an OU with an SCP; `assume-role` is STS AssumeRole (awsQuery, signed for sts) of that role by an IAM user with an access key",
            identity::READER_ROLE,
            identity::POLICIES,
            identity::POLICIES * identity::STATEMENTS
        );
    }
    if opts.memory_minutes.is_none() && opts.workloads.iter().any(|w| w.sharing().is_some()) {
        println!(
            "- the RAM workloads (Ingot only): an {} String parameter `{}` in a member account, shared with the organization through RAM (CreateResourceShare, the organization's ARN as principal, allowExternalPrincipals false); `get-parameter-as-owner` is GetParameter of it by name with a session of the role `{}` of the owning account, `get-shared-parameter` GetParameter of it by its full ARN with a session of the role `{}` of a second member account in the same OU; both roles have the same inline policy (ssm:GetParameter on the parameter's ARN) and are assumed by a user of the management account",
            sharing::TIER,
            sharing::PARAMETER,
            sharing::OWNER_ROLE,
            sharing::READER_ROLE
        );
    }
    if opts.memory_minutes.is_none() && opts.workloads.iter().any(|w| w.kms()) {
        println!(
            "- the KMS workloads (awsJson 1.1, `TrentService.<Operation>`, signed for kms in {}): `kms-decrypt` is Decrypt of one ciphertext, {} bytes encrypted (Encrypt) under a symmetric key made with CreateKey, with the encryption context {}, the key named by the blob alone (no KeyId); `kms-generate-data-key` is GenerateDataKey of that key, KeySpec {}, the same context",
            kms::REGION,
            kms::PLAINTEXT.len(),
            kms::context(),
            kms::DATA_KEY_SPEC
        );
    }
    if opts.memory_minutes.is_none() && opts.workloads.iter().any(|w| w.ec2()) {
        println!(
            "- the EC2 workloads (ec2Query: `POST /` with a form body, Version {}, signed for ec2 in {}): `run-instances` is RunInstances of one {} (MinCount=MaxCount=1) whose ImageId on Ingot is `resolve:ssm:` and the full ARN of the parameter `{}` ({}, holding the AMI id of the public parameter `{}`), resolved through SSM on every launch, and on moto (which does not resolve such references) an AMI id its DescribeImages lists; `describe-images` is DescribeImages (ImageId.1) of the AMI id itself: the public one on Ingot, the same one on moto",
            ec2::VERSION,
            ec2::REGION,
            ec2::INSTANCE_TYPE,
            ec2::IMAGE_PARAMETER,
            ec2::IMAGE_DATA_TYPE,
            ec2::PUBLIC_PARAMETER
        );
    }
    println!(
        "- the load generator runs on the same {} cores as the servers, nothing pinned: it takes part of the CPU the servers could use\n",
        machine.nproc
    );
}

/// `postgres://user:secret@host/db` without the password.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn version_of(bin: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(bin).args(args).output().ok()?;
    let s = String::from_utf8(out.stdout).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// moto's version, from the Python next to `moto_server`.
fn moto_version(moto_server: &Path) -> Option<String> {
    let python = moto_server.parent()?.join("python");
    version_of(&python, &["-c", "import moto; print(moto.__version__)"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preferred_noop_wins_near_ties() {
        let ms = Duration::from_micros;
        assert_eq!(pick_noop(&[]), None);
        assert_eq!(pick_noop(&[ms(780), ms(770), ms(820)]), Some(0));
        assert_eq!(pick_noop(&[ms(1000), ms(850), ms(950)]), Some(1));
        assert_eq!(pick_noop(&[ms(500), ms(900)]), Some(0));
    }

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(redact_url("postgres://postgres@127.0.0.1:5432/test"), "postgres://postgres@127.0.0.1:5432/test");
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }
}
