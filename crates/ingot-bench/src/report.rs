//! Turning measurements into the markdown table, with the targets beside them.

use std::fmt::Write as _;

use crate::server::Kind;
use crate::workload::{Sample, Workload};

/// What one workload on one server came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    Measured(Measurement),
    /// The server answered the operation with a 4xx/5xx before the run (why).
    NotServed(String),
    /// The workload could not be run (why), e.g. seeding failed.
    Failed(String),
}

#[derive(Debug, Clone, Default)]
pub struct Measurement {
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub cpu_per_1k_ms: Option<f64>,
    pub client_cpu_per_1k_ms: Option<f64>,
    pub rss_after_mb: Option<f64>,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Req/s of each round, in the order they ran.
    pub round_rates: Vec<f64>,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub workload: Workload,
    pub server: Kind,
    /// What the workload ran over, e.g. `100,000 params`.
    pub data: String,
    /// How many parameters the filtered/listed set had (for targets that name a size).
    pub data_size: Option<usize>,
    pub outcome: Outcome,
}

/// Everything the table is made of.
#[derive(Debug, Clone, Default)]
pub struct Results {
    pub entries: Vec<Entry>,
    pub idle_rss_mb: Vec<(Kind, f64)>,
    pub end_rss_mb: Vec<(Kind, f64)>,
}

pub const TARGET_GET_VS_MOTO: f64 = 50.0;
pub const TARGET_GET_VS_NOOP: f64 = 0.60;
pub const TARGET_PUT_VS_MOTO: f64 = 20.0;
pub const TARGET_BY_PATH_P99_MS: f64 = 5.0;
pub const TARGET_DESCRIBE_P99_MS: f64 = 20.0;
pub const TARGET_DESCRIBE_SIZE: usize = 100_000;
pub const TARGET_IDLE_RSS_MB: f64 = 50.0;
/// GetParameter as a role session (ten managed policies, an SCP) against GetParameter as the
/// account root.
pub const TARGET_AS_ROLE_VS_GET: f64 = 0.80;
pub const TARGET_ASSUME_ROLE_RATE: f64 = 2_000.0;
pub const TARGET_DECRYPT_VS_MOTO: f64 = 20.0;
pub const TARGET_RUN_INSTANCES_VS_MOTO: f64 = 20.0;
pub const TARGET_DESCRIBE_IMAGES_VS_MOTO: f64 = 20.0;
/// GetParameter by ARN of a parameter shared through RAM, from another member account's role
/// session, against the owner's own GetParameter of it with a role session of its account.
pub const TARGET_SHARED_VS_OWNER: f64 = 0.70;

impl Results {
    fn measured(&self, workload: Workload, server: Kind) -> Option<&Measurement> {
        self.entries.iter().find_map(|e| match &e.outcome {
            Outcome::Measured(m) if e.workload == workload && e.server == server => Some(m),
            _ => None,
        })
    }

    fn valid(&self, workload: Workload, server: Kind) -> Option<&Measurement> {
        self.measured(workload, server).filter(|m| m.errors == 0)
    }

    /// Ingot's req/s over moto's, when both ran cleanly.
    pub fn ratio(&self, workload: Workload) -> Option<f64> {
        let i = self.valid(workload, Kind::Ingot)?;
        let m = self.valid(workload, Kind::Moto)?;
        (m.rate > 0.0).then(|| i.rate / m.rate)
    }

    /// Ingot's `a` over its `b`, round by round (rounds take turns, so each pair ran close
    /// together), as a note; `None` unless both ran cleanly in the same number of rounds, at
    /// least two.
    pub fn round_ratio_note(&self, a: Workload, b: Workload) -> Option<String> {
        let (x, y) = (self.valid(a, Kind::Ingot)?, self.valid(b, Kind::Ingot)?);
        if x.round_rates.len() != y.round_rates.len() || x.round_rates.len() < 2 {
            return None;
        }
        let shares: Vec<String> = x
            .round_rates
            .iter()
            .zip(&y.round_rates)
            .map(|(x, y)| if *y > 0.0 { format!("{:.0}%", x / y * 100.0) } else { "n/a".into() })
            .collect();
        Some(format!(
            "ingot {} as a share of {}, round by round: {} (the rates of a round: {} and {} req/s)",
            a.name(),
            b.name(),
            shares.join(", "),
            x.round_rates.iter().map(|r| fmt_rate(*r)).collect::<Vec<_>>().join("/"),
            y.round_rates.iter().map(|r| fmt_rate(*r)).collect::<Vec<_>>().join("/"),
        ))
    }

    /// The target of a workload's Ingot row, and how the run compares.
    pub fn target(&self, entry: &Entry) -> (String, String) {
        if entry.server != Kind::Ingot {
            return (String::new(), String::new());
        }
        let m = match &entry.outcome {
            Outcome::Measured(m) => m,
            _ => return (target_text(entry.workload), "n/a".into()),
        };
        if m.errors > 0 {
            return (target_text(entry.workload), format!("INVALID: {} errors", m.errors));
        }
        let verdict = match entry.workload {
            Workload::Noop | Workload::Mixed | Workload::KmsGenerateDataKey | Workload::GetParameterAsOwner => {
                String::new()
            }
            Workload::GetParameter => {
                let vs_moto = self
                    .ratio(Workload::GetParameter)
                    .map(|r| (r >= TARGET_GET_VS_MOTO, format!("{} moto", fmt_ratio(r))))
                    .ok_or("moto: no clean run");
                let vs_noop = self
                    .valid(Workload::Noop, Kind::Ingot)
                    .filter(|n| n.rate > 0.0)
                    .map(|n| {
                        let share = m.rate / n.rate;
                        (share >= TARGET_GET_VS_NOOP, format!("{:.0}% of no-op", share * 100.0))
                    })
                    .ok_or("no-op: no clean run");
                combine(&[vs_moto, vs_noop])
            }
            Workload::PutParameter => {
                let vs_moto = self
                    .ratio(Workload::PutParameter)
                    .map(|r| (r >= TARGET_PUT_VS_MOTO, format!("{} moto", fmt_ratio(r))))
                    .ok_or("moto: no clean run");
                combine(&[vs_moto])
            }
            Workload::KmsDecrypt => {
                let vs_moto = self
                    .ratio(Workload::KmsDecrypt)
                    .map(|r| (r >= TARGET_DECRYPT_VS_MOTO, format!("{} moto", fmt_ratio(r))))
                    .ok_or("moto: no clean run");
                combine(&[vs_moto])
            }
            Workload::RunInstances | Workload::DescribeImages => {
                let target = match entry.workload {
                    Workload::RunInstances => TARGET_RUN_INSTANCES_VS_MOTO,
                    _ => TARGET_DESCRIBE_IMAGES_VS_MOTO,
                };
                let vs_moto = self
                    .ratio(entry.workload)
                    .map(|r| (r >= target, format!("{} moto", fmt_ratio(r))))
                    .ok_or("moto: no clean run");
                combine(&[vs_moto])
            }
            Workload::GetParametersByPath => {
                combine(&[Ok((m.p99_ms <= TARGET_BY_PATH_P99_MS, format!("p99 {} ms", fmt_ms(m.p99_ms))))])
            }
            Workload::GetParameterAsRole => {
                let vs_get = self
                    .valid(Workload::GetParameter, Kind::Ingot)
                    .filter(|g| g.rate > 0.0)
                    .map(|g| {
                        let share = m.rate / g.rate;
                        (share >= TARGET_AS_ROLE_VS_GET, format!("{:.0}% of get-parameter", share * 100.0))
                    })
                    .ok_or("get-parameter: no clean run");
                combine(&[vs_get])
            }
            Workload::AssumeRole => {
                combine(&[Ok((m.rate >= TARGET_ASSUME_ROLE_RATE, format!("{}/s", fmt_rate(m.rate))))])
            }
            Workload::GetSharedParameter => {
                let owner = Workload::GetParameterAsOwner;
                let vs_owner = self
                    .valid(owner, Kind::Ingot)
                    .filter(|o| o.rate > 0.0)
                    .map(|o| {
                        let share = m.rate / o.rate;
                        (share >= TARGET_SHARED_VS_OWNER, format!("{:.0}% of {}", share * 100.0, owner.name()))
                    })
                    .ok_or("get-parameter-as-owner: no clean run");
                combine(&[vs_owner])
            }
            Workload::DescribeParameters => match entry.data_size {
                Some(n) if n < TARGET_DESCRIBE_SIZE => {
                    format!("n/a: over {} params, not {}", fmt_count(n as u64), fmt_count(TARGET_DESCRIBE_SIZE as u64))
                }
                _ => combine(&[Ok((m.p99_ms <= TARGET_DESCRIBE_P99_MS, format!("p99 {} ms", fmt_ms(m.p99_ms))))]),
            },
        };
        (target_text(entry.workload), verdict)
    }

    /// The results table.
    pub fn table(&self) -> String {
        let headers = [
            "workload",
            "server",
            "data",
            "req/s",
            "p50 ms",
            "p99 ms",
            "server CPU ms / 1k req",
            "server RSS MB",
            "client CPU ms / 1k req",
            "errors",
            "ingot / moto",
            "target",
            "vs target",
        ];
        let mut rows: Vec<Vec<String>> = Vec::new();
        let rss_ratio = |list: &[(Kind, f64)]| {
            let get = |k| list.iter().find(|(kind, _)| *kind == k).map(|(_, v)| *v);
            get(Kind::Ingot).zip(get(Kind::Moto)).filter(|(_, m)| *m > 0.0).map(|(i, m)| i / m)
        };
        let rss_rows = |rows: &mut Vec<Vec<String>>, label: &str, list: &[(Kind, f64)], idle: bool| {
            for (kind, mb) in list {
                let (target, verdict) = match (idle, kind) {
                    (true, Kind::Ingot) => (
                        format!("≤ {TARGET_IDLE_RSS_MB:.0} MB"),
                        verdict(*mb <= TARGET_IDLE_RSS_MB, &format!("{mb:.1} MB")),
                    ),
                    _ => (String::new(), String::new()),
                };
                let ratio = match kind {
                    Kind::Ingot => rss_ratio(list).map(fmt_ratio).unwrap_or_default(),
                    Kind::Moto => String::new(),
                };
                rows.push(vec![
                    label.into(),
                    kind.name().into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    format!("{mb:.1}"),
                    String::new(),
                    String::new(),
                    ratio,
                    target,
                    verdict,
                ]);
            }
        };
        rss_rows(&mut rows, "idle after start", &self.idle_rss_mb, true);
        for entry in &self.entries {
            let (target, verdict) = self.target(entry);
            let ratio = match (entry.server, self.ratio(entry.workload)) {
                (Kind::Ingot, Some(r)) => fmt_ratio(r),
                _ => String::new(),
            };
            let mut row = vec![entry.workload.name().into(), entry.server.name().into(), entry.data.clone()];
            // Why a workload did not run goes to the last column, the one allowed to be wide.
            let verdict = match &entry.outcome {
                Outcome::Measured(m) => {
                    row.extend([
                        fmt_rate(m.rate),
                        fmt_ms(m.p50_ms),
                        fmt_ms(m.p99_ms),
                        m.cpu_per_1k_ms.map(|c| format!("{c:.1}")).unwrap_or_else(|| "?".into()),
                        m.rss_after_mb.map(|r| format!("{r:.1}")).unwrap_or_else(|| "?".into()),
                        m.client_cpu_per_1k_ms.map(|c| format!("{c:.1}")).unwrap_or_else(|| "?".into()),
                        m.errors.to_string(),
                    ]);
                    verdict
                }
                Outcome::NotServed(why) => {
                    row.push("not served".into());
                    row.extend(std::iter::repeat_n(String::new(), 6));
                    format!("n/a: not served ({why})")
                }
                Outcome::Failed(why) => {
                    row.push("failed".into());
                    row.extend(std::iter::repeat_n(String::new(), 6));
                    format!("n/a: failed ({why})")
                }
            };
            row.extend([ratio, target, verdict]);
            rows.push(row);
        }
        rss_rows(&mut rows, "after the run", &self.end_rss_mb, false);
        markdown_table(&headers, &rows)
    }

    /// First error of each row that had errors.
    pub fn error_notes(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|e| match &e.outcome {
                Outcome::Measured(m) if m.errors > 0 => Some(format!(
                    "{} on {}: {} errors, the run is invalid; first: {}",
                    e.workload.name(),
                    e.server.name(),
                    m.errors,
                    m.first_error.as_deref().unwrap_or("?")
                )),
                _ => None,
            })
            .collect()
    }
}

fn target_text(workload: Workload) -> String {
    match workload {
        Workload::Noop => "(the ceiling)".into(),
        Workload::GetParameter => {
            format!("≥ {TARGET_GET_VS_MOTO:.0}× moto; ≥ {:.0}% of no-op", TARGET_GET_VS_NOOP * 100.0)
        }
        Workload::PutParameter => format!("≥ {TARGET_PUT_VS_MOTO:.0}× moto"),
        Workload::GetParametersByPath => format!("p99 ≤ {TARGET_BY_PATH_P99_MS:.0} ms"),
        Workload::DescribeParameters => {
            format!("p99 ≤ {TARGET_DESCRIBE_P99_MS:.0} ms over {}", fmt_count(TARGET_DESCRIBE_SIZE as u64))
        }
        Workload::Mixed => "RSS flat (--memory-minutes)".into(),
        Workload::KmsDecrypt => format!("≥ {TARGET_DECRYPT_VS_MOTO:.0}× moto"),
        // The issue that brought KMS set none: the row is there to compare with moto.
        Workload::KmsGenerateDataKey => String::new(),
        Workload::RunInstances => format!("≥ {TARGET_RUN_INSTANCES_VS_MOTO:.0}× moto"),
        Workload::DescribeImages => format!("≥ {TARGET_DESCRIBE_IMAGES_VS_MOTO:.0}× moto"),
        Workload::GetParameterAsRole => format!("≥ {:.0}% of get-parameter", TARGET_AS_ROLE_VS_GET * 100.0),
        Workload::AssumeRole => format!("≥ {}/s", fmt_count(TARGET_ASSUME_ROLE_RATE as u64)),
        // What the shared read is held to; the owner's read itself has no target.
        Workload::GetParameterAsOwner => String::new(),
        Workload::GetSharedParameter => format!("≥ {:.0}% of get-parameter-as-owner", TARGET_SHARED_VS_OWNER * 100.0),
    }
}

fn verdict(met: bool, what: &str) -> String {
    format!("{} ({what})", if met { "met" } else { "NOT met" })
}

/// `met (a, b)` when every known part is met, `NOT met (…)` when one is not, `n/a (…)` when
/// none is known; the unknown parts say why.
fn combine(parts: &[Result<(bool, String), &str>]) -> String {
    let what: Vec<String> = parts
        .iter()
        .map(|p| match p {
            Ok((_, s)) => s.clone(),
            Err(why) => (*why).to_owned(),
        })
        .collect();
    if parts.iter().all(Result::is_err) {
        return format!("n/a ({})", what.join(", "));
    }
    let met = parts.iter().flatten().all(|(ok, _)| *ok);
    verdict(met, &what.join(", "))
}

// ---- formatting -----------------------------------------------------------------------------

/// `1,234,567`.
pub fn fmt_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Requests per second: whole numbers with separators, one decimal below 100.
pub fn fmt_rate(r: f64) -> String {
    if r >= 100.0 {
        fmt_count(r.round() as u64)
    } else {
        format!("{r:.1}")
    }
}

/// Milliseconds with about three significant digits.
pub fn fmt_ms(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.3}")
    } else if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// `52×`, `3.4×`, `0.25×`.
pub fn fmt_ratio(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}×")
    } else if r >= 1.0 {
        format!("{r:.1}×")
    } else {
        format!("{r:.2}×")
    }
}

/// A markdown table, columns padded to line up in a terminal; `|` in cells is escaped.
pub fn markdown_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let headers: Vec<String> = headers.iter().map(|h| cell(h)).collect();
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|c| cell(c)).collect()).collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count().max(3)).collect();
    for row in &rows {
        for (i, c) in row.iter().enumerate().take(widths.len()) {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::from("|");
        for (i, w) in widths.iter().enumerate() {
            let c = cells.get(i).map(String::as_str).unwrap_or("");
            let pad = w - c.chars().count().min(*w);
            let _ = write!(s, " {c}{} |", " ".repeat(pad));
        }
        s.push('\n');
        s
    };
    let mut out = line(&headers);
    out.push('|');
    for w in &widths {
        let _ = write!(out, "{}|", "-".repeat(w + 2));
    }
    out.push('\n');
    for row in &rows {
        out.push_str(&line(row));
    }
    out
}

/// The RSS series of a `--memory-minutes` run and what it says about flatness.
pub fn memory_table(kind: Kind, samples: &[Sample]) -> String {
    let rows: Vec<Vec<String>> = samples
        .iter()
        .map(|s| {
            vec![
                format!("{:.0}", s.at.as_secs_f64()),
                format!("{:.1}", s.rss_mb),
                if s.at.is_zero() { String::new() } else { fmt_rate(s.rate) },
            ]
        })
        .collect();
    let title = format!("{} RSS MB", kind.name());
    markdown_table(&["t s", &title, "req/s"], &rows)
}

/// Growth of RSS from the load's steady state to the end of the run: the mean of the samples in
/// the second minute (t in [60 s, 120 s)) against the mean of the last minute's samples. Means,
/// because RSS moves by a few MB from one sample to the next as buffers are taken and given back,
/// so comparing two single samples judged that noise. "flat" when the means differ by at most
/// 2 MB or 5 %, whichever is larger.
pub fn flatness(samples: &[Sample]) -> String {
    let Some(last) = samples.last() else {
        return "no samples".into();
    };
    let end = last.at.as_secs_f64();
    let mean = |keep: &dyn Fn(f64) -> bool| -> Option<f64> {
        let values: Vec<f64> = samples.iter().filter(|s| keep(s.at.as_secs_f64())).map(|s| s.rss_mb).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    let base = mean(&|t| (60.0..120.0).contains(&t)).unwrap_or_else(|| samples.get(1).unwrap_or(last).rss_mb);
    let tail = mean(&|t| t > end - 60.0).unwrap_or(last.rss_mb);
    let steady: Vec<f64> = samples.iter().filter(|s| s.at.as_secs_f64() >= 60.0).map(|s| s.rss_mb).collect();
    let low = steady.iter().copied().fold(f64::MAX, f64::min).min(tail);
    let high = steady.iter().copied().fold(f64::MIN, f64::max).max(tail);
    let growth = tail - base;
    let pct = if base > 0.0 { growth / base * 100.0 } else { 0.0 };
    let allowed = (base * 0.05).max(2.0);
    let verdict = if growth.abs() <= allowed {
        "flat"
    } else if growth > 0.0 {
        "GROWING"
    } else {
        "shrinking"
    };
    format!(
        "RSS mean {base:.1} MB over t=60–120 s → {tail:.1} MB over the last minute (to t={end:.0} s) \
         ({growth:+.1} MB, {pct:+.1} %), {low:.1}–{high:.1} MB from t=60 s on: {verdict} \
         (target: flat; flat = within max(2 MB, 5 %))",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn measured(rate: f64, p99: f64) -> Outcome {
        Outcome::Measured(Measurement {
            rate,
            p50_ms: p99 / 2.0,
            p99_ms: p99,
            cpu_per_1k_ms: Some(12.0),
            client_cpu_per_1k_ms: Some(6.0),
            rss_after_mb: Some(20.0),
            errors: 0,
            first_error: None,
            round_rates: vec![rate],
        })
    }

    #[test]
    fn the_round_ratio_note_pairs_rounds_that_ran_together() {
        let mut r = Results::default();
        let rounds = |rates: &[f64]| {
            let Outcome::Measured(mut m) = measured(rates.iter().sum::<f64>() / rates.len() as f64, 1.0) else {
                unreachable!()
            };
            m.round_rates = rates.to_vec();
            Outcome::Measured(m)
        };
        r.entries.push(entry(Workload::Noop, Kind::Ingot, rounds(&[100.0, 50.0])));
        r.entries.push(entry(Workload::GetParameter, Kind::Ingot, rounds(&[60.0, 31.0])));
        let note = r.round_ratio_note(Workload::GetParameter, Workload::Noop).unwrap();
        assert!(note.contains("round by round: 60%, 62%"), "{note}");
        // One round has nothing to pair.
        r.entries[0].outcome = rounds(&[100.0]);
        assert_eq!(r.round_ratio_note(Workload::GetParameter, Workload::Noop), None);
    }

    fn entry(workload: Workload, server: Kind, outcome: Outcome) -> Entry {
        Entry { workload, server, data: String::new(), data_size: None, outcome }
    }

    #[test]
    fn numbers() {
        assert_eq!(fmt_count(0), "0");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(fmt_count(1_000), "1,000");
        assert_eq!(fmt_count(1_234_567), "1,234,567");
        assert_eq!(fmt_rate(12_345.6), "12,346");
        assert_eq!(fmt_rate(42.25), "42.2");
        assert_eq!(fmt_ms(0.41234), "0.412");
        assert_eq!(fmt_ms(4.56789), "4.57");
        assert_eq!(fmt_ms(35.12), "35.1");
        assert_eq!(fmt_ms(1234.5), "1234");
        assert_eq!(fmt_ratio(52.4), "52×");
        assert_eq!(fmt_ratio(3.44), "3.4×");
        assert_eq!(fmt_ratio(0.254), "0.25×");
    }

    #[test]
    fn markdown_tables_line_up_and_escape_pipes() {
        let t = markdown_table(
            &["a", "long header"],
            &[vec!["x|y".into(), "1".into()], vec!["≥ 50×".into(), String::new()]],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "| a     | long header |");
        assert_eq!(lines[1], "|-------|-------------|");
        assert_eq!(lines[2], "| x\\|y  | 1           |");
        assert_eq!(lines[3], "| ≥ 50× |             |");
        let widths: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
        assert!(widths.iter().all(|w| *w == widths[0]), "{t}");
    }

    #[test]
    fn targets_are_judged_against_moto_and_the_ceiling() {
        let mut r = Results::default();
        r.entries.push(entry(Workload::Noop, Kind::Ingot, measured(40_000.0, 1.0)));
        r.entries.push(entry(Workload::GetParameter, Kind::Ingot, measured(30_000.0, 1.0)));
        r.entries.push(entry(Workload::GetParameter, Kind::Moto, measured(500.0, 50.0)));
        r.entries.push(entry(Workload::PutParameter, Kind::Ingot, measured(5_000.0, 4.0)));
        r.entries.push(entry(Workload::PutParameter, Kind::Moto, measured(450.0, 60.0)));
        let get = r.target(&r.entries[1]);
        assert_eq!(get.0, "≥ 50× moto; ≥ 60% of no-op");
        assert_eq!(get.1, "met (60× moto, 75% of no-op)");
        let put = r.target(&r.entries[3]);
        assert_eq!(put.1, "NOT met (11× moto)");
        // moto rows carry no target
        assert_eq!(r.target(&r.entries[2]), (String::new(), String::new()));
        assert!((r.ratio(Workload::GetParameter).unwrap() - 60.0).abs() < 1e-9);
        // Without moto: judged on what is known, the rest named.
        r.entries.retain(|e| e.server == Kind::Ingot);
        assert_eq!(r.target(&r.entries[1]).1, "met (moto: no clean run, 75% of no-op)");
        assert_eq!(r.target(&r.entries[2]).1, "n/a (moto: no clean run)");
    }

    #[test]
    fn the_iam_targets() {
        let mut r = Results::default();
        r.entries.push(entry(Workload::GetParameterAsRole, Kind::Ingot, measured(42_000.0, 1.0)));
        r.entries.push(entry(Workload::AssumeRole, Kind::Ingot, measured(2_500.0, 8.0)));
        let as_role = r.target(&r.entries[0]);
        assert_eq!(as_role, ("≥ 80% of get-parameter".to_owned(), "n/a (get-parameter: no clean run)".to_owned()));
        r.entries.push(entry(Workload::GetParameter, Kind::Ingot, measured(50_000.0, 1.0)));
        assert_eq!(r.target(&r.entries[0]).1, "met (84% of get-parameter)");
        r.entries[2].outcome = measured(60_000.0, 1.0);
        assert_eq!(r.target(&r.entries[0]).1, "NOT met (70% of get-parameter)");
        assert_eq!(r.target(&r.entries[1]), ("≥ 2,000/s".to_owned(), "met (2,500/s)".to_owned()));
        r.entries[1].outcome = measured(1_500.4, 8.0);
        assert_eq!(r.target(&r.entries[1]).1, "NOT met (1,500/s)");
        // No moto rows: no ratio.
        assert_eq!(r.ratio(Workload::AssumeRole), None);
        let t = r.table();
        assert!(t.contains("| get-parameter-as-role |"), "{t}");
    }

    #[test]
    fn the_shared_read_is_held_to_seventy_percent_of_the_owners() {
        let mut r = Results::default();
        r.entries.push(entry(Workload::GetSharedParameter, Kind::Ingot, measured(35_000.0, 1.0)));
        assert_eq!(
            r.target(&r.entries[0]),
            ("≥ 70% of get-parameter-as-owner".to_owned(), "n/a (get-parameter-as-owner: no clean run)".to_owned())
        );
        r.entries.push(entry(Workload::GetParameterAsOwner, Kind::Ingot, measured(50_000.0, 1.0)));
        assert_eq!(r.target(&r.entries[0]).1, "met (70% of get-parameter-as-owner)");
        assert_eq!(r.target(&r.entries[1]), (String::new(), String::new()));
        r.entries[1].outcome = measured(50_100.0, 1.0);
        assert_eq!(r.target(&r.entries[0]).1, "NOT met (70% of get-parameter-as-owner)");
        r.entries[1].outcome = measured(40_000.0, 1.0);
        assert_eq!(r.target(&r.entries[0]).1, "met (88% of get-parameter-as-owner)");
        // An owner's run with errors judges nothing.
        r.entries[1].outcome = Outcome::Measured(Measurement { rate: 40_000.0, errors: 2, ..Default::default() });
        assert_eq!(r.target(&r.entries[0]).1, "n/a (get-parameter-as-owner: no clean run)");
        let t = r.table();
        assert!(t.contains("| get-shared-parameter "), "{t}");
        assert!(t.contains("| get-parameter-as-owner "), "{t}");
    }

    #[test]
    fn decrypt_is_held_to_twenty_times_moto_and_generate_data_key_to_nothing() {
        let mut r = Results::default();
        r.entries.push(entry(Workload::KmsDecrypt, Kind::Ingot, measured(21_000.0, 1.0)));
        r.entries.push(entry(Workload::KmsDecrypt, Kind::Moto, measured(1_000.0, 20.0)));
        r.entries.push(entry(Workload::KmsGenerateDataKey, Kind::Ingot, measured(15_000.0, 1.0)));
        r.entries.push(entry(Workload::KmsGenerateDataKey, Kind::Moto, measured(1_000.0, 20.0)));
        assert_eq!(r.target(&r.entries[0]), ("≥ 20× moto".to_owned(), "met (21× moto)".to_owned()));
        assert_eq!(r.target(&r.entries[2]), (String::new(), String::new()));
        assert_eq!(r.ratio(Workload::KmsGenerateDataKey), Some(15.0));
        r.entries[0].outcome = measured(19_000.0, 1.0);
        assert_eq!(r.target(&r.entries[0]).1, "NOT met (19× moto)");
        // The ratio still shows beside a row without a target.
        let t = r.table();
        let row = t.lines().find(|l| l.starts_with("| kms-generate-data-key ") && l.contains("| ingot ")).unwrap();
        assert!(row.contains("| 15× "), "{t}");
        r.entries.retain(|e| e.server == Kind::Ingot);
        assert_eq!(r.target(&r.entries[0]).1, "n/a (moto: no clean run)");
    }

    #[test]
    fn run_instances_and_describe_images_are_held_to_twenty_times_moto() {
        let mut r = Results::default();
        r.entries.push(entry(Workload::RunInstances, Kind::Ingot, measured(8_000.0, 2.0)));
        r.entries.push(entry(Workload::RunInstances, Kind::Moto, measured(400.0, 40.0)));
        r.entries.push(entry(Workload::DescribeImages, Kind::Ingot, measured(19_000.0, 1.0)));
        r.entries.push(entry(Workload::DescribeImages, Kind::Moto, measured(1_000.0, 20.0)));
        assert_eq!(r.target(&r.entries[0]), ("≥ 20× moto".to_owned(), "met (20× moto)".to_owned()));
        assert_eq!(r.target(&r.entries[2]), ("≥ 20× moto".to_owned(), "NOT met (19× moto)".to_owned()));
        // moto rows carry no target.
        assert_eq!(r.target(&r.entries[1]), (String::new(), String::new()));
        r.entries[2].outcome = measured(45_000.0, 1.0);
        assert_eq!(r.target(&r.entries[2]).1, "met (45× moto)");
        let t = r.table();
        let row = t.lines().find(|l| l.starts_with("| run-instances ") && l.contains("| ingot ")).unwrap();
        assert!(row.contains("| 20× "), "{t}");
        assert!(t.contains("| describe-images "), "{t}");
        r.entries.retain(|e| e.server == Kind::Ingot);
        assert_eq!(r.target(&r.entries[0]).1, "n/a (moto: no clean run)");
        assert_eq!(r.target(&r.entries[1]).1, "n/a (moto: no clean run)");
    }

    #[test]
    fn latency_targets_and_sizes() {
        let mut r = Results::default();
        let mut describe = entry(Workload::DescribeParameters, Kind::Ingot, measured(900.0, 12.0));
        describe.data_size = Some(100_000);
        r.entries.push(describe.clone());
        assert_eq!(r.target(&describe).1, "met (p99 12.0 ms)");
        describe.data_size = Some(10_000);
        assert_eq!(r.target(&describe).1, "n/a: over 10,000 params, not 100,000");
        let by_path = entry(Workload::GetParametersByPath, Kind::Ingot, measured(900.0, 7.5));
        assert_eq!(r.target(&by_path).1, "NOT met (p99 7.50 ms)");
        let not_served = entry(
            Workload::GetParametersByPath,
            Kind::Ingot,
            Outcome::NotServed("HTTP 400 UnknownOperationException".into()),
        );
        assert_eq!(r.target(&not_served).1, "n/a");
    }

    #[test]
    fn errors_invalidate_a_row_and_its_ratio() {
        let mut r = Results::default();
        let mut bad =
            Measurement { rate: 100.0, errors: 3, first_error: Some("HTTP 500".into()), ..Default::default() };
        r.entries.push(entry(Workload::PutParameter, Kind::Ingot, Outcome::Measured(bad.clone())));
        r.entries.push(entry(Workload::PutParameter, Kind::Moto, measured(10.0, 1.0)));
        assert_eq!(r.ratio(Workload::PutParameter), None);
        assert_eq!(r.target(&r.entries[0]).1, "INVALID: 3 errors");
        assert_eq!(r.error_notes().len(), 1);
        assert!(r.error_notes()[0].contains("first: HTTP 500"));
        bad.errors = 0;
        r.entries[0].outcome = Outcome::Measured(bad);
        assert_eq!(r.ratio(Workload::PutParameter), Some(10.0));
    }

    #[test]
    fn the_whole_table() {
        let mut r = Results {
            idle_rss_mb: vec![(Kind::Ingot, 12.5), (Kind::Moto, 50.0)],
            end_rss_mb: vec![(Kind::Ingot, 40.0), (Kind::Moto, 400.0)],
            ..Default::default()
        };
        r.entries.push(entry(Workload::Noop, Kind::Ingot, measured(40_000.0, 1.0)));
        r.entries.push(entry(
            Workload::DescribeParameters,
            Kind::Ingot,
            Outcome::NotServed("HTTP 400 UnknownOperationException".into()),
        ));
        let t = r.table();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2 + 2 + 2 + 2, "{t}");
        assert!(lines[2].starts_with("| idle after start ") && lines[2].contains("| ingot "), "{t}");
        assert!(lines[2].contains("0.25×") && lines[2].contains("met (12.5 MB)"), "{t}");
        assert!(lines[4].contains("| 40,000 "), "{t}");
        assert!(lines[5].contains("| not served |"), "{t}");
        assert!(lines[5].ends_with("| n/a: not served (HTTP 400 UnknownOperationException) |"), "{t}");
        assert!(lines[7].starts_with("| after the run ") && lines[7].contains("| moto "), "{t}");
        let widths: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
        assert!(widths.iter().all(|w| *w == widths[0]), "{t}");
    }

    #[test]
    fn flatness_verdicts() {
        let series = |values: &[f64]| -> Vec<Sample> {
            values
                .iter()
                .enumerate()
                .map(|(i, v)| Sample { at: Duration::from_secs(i as u64 * 30), rss_mb: *v, rate: 1.0 })
                .collect()
        };
        assert!(flatness(&series(&[10.0, 30.0, 31.0, 30.5, 31.5])).contains(": flat"));
        assert!(flatness(&series(&[10.0, 30.0, 40.0, 50.0, 60.0])).contains("GROWING"));
        assert!(flatness(&series(&[10.0, 30.0, 40.0, 50.0, 60.0])).contains("+10.0 MB"));
        assert_eq!(flatness(&[]), "no samples");
    }

    #[test]
    fn a_noisy_series_without_a_trend_is_flat_even_when_its_one_minute_sample_is_a_low_point() {
        let samples: Vec<Sample> = (0..=60)
            .map(|i| {
                let rss_mb = match i {
                    0 => 20.0,
                    6 => 40.0,
                    60 => 44.0,
                    _ => 41.0 + (i % 4) as f64,
                };
                Sample { at: Duration::from_secs(i * 10), rss_mb, rate: 1.0 }
            })
            .collect();
        let verdict = flatness(&samples);
        assert!(verdict.contains(": flat"), "{verdict}");
        assert!(verdict.contains("40.0–44.0 MB"), "{verdict}");
    }
}
