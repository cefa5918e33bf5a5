//! What `/proc` says about a server process and about the machine.

use anyhow::{anyhow, Context, Result};

/// CPU time a process has used (all its threads), in clock ticks.
pub fn parse_stat_cpu_ticks(stat: &str) -> Result<u64> {
    // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so split after the last
    // `)`. Field 3 (state) is then the first token; utime and stime are fields 14 and 15.
    let rest = stat.rfind(')').map(|i| &stat[i + 1..]).ok_or_else(|| anyhow!("no `)` in /proc/PID/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> Result<u64> {
        fields
            .get(n - 3)
            .ok_or_else(|| anyhow!("/proc/PID/stat has no field {n}"))?
            .parse::<u64>()
            .with_context(|| format!("field {n} of /proc/PID/stat"))
    };
    Ok(field(14)? + field(15)?)
}

/// `VmRSS` of `/proc/PID/status`, in KiB.
pub fn parse_status_rss_kib(status: &str) -> Result<u64> {
    let line =
        status.lines().find(|l| l.starts_with("VmRSS:")).ok_or_else(|| anyhow!("no VmRSS in /proc/PID/status"))?;
    let value = line["VmRSS:".len()..].trim();
    let number = value.strip_suffix("kB").unwrap_or(value).trim();
    number.parse::<u64>().with_context(|| format!("VmRSS value {value:?}"))
}

/// Clock ticks per second for `/proc/PID/stat` times (`getconf CLK_TCK`; 100 on Linux in practice).
pub fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// A process whose CPU time and memory can be read.
#[derive(Debug, Clone, Copy)]
pub struct Proc {
    pub pid: u32,
    pub ticks_per_second: u64,
}

impl Proc {
    /// CPU time used so far (user + system, all threads), in milliseconds.
    pub fn cpu_ms(&self) -> Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
            .with_context(|| format!("reading /proc/{}/stat", self.pid))?;
        Ok(parse_stat_cpu_ticks(&stat)? as f64 * 1000.0 / self.ticks_per_second as f64)
    }

    /// Resident set size, in MB (10^6 bytes; `VmRSS` counts KiB).
    pub fn rss_mb(&self) -> Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .with_context(|| format!("reading /proc/{}/status", self.pid))?;
        Ok(parse_status_rss_kib(&status)? as f64 * 1024.0 / 1e6)
    }
}

/// The first `model name` of `/proc/cpuinfo`.
pub fn parse_cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|l| {
        let (key, value) = l.split_once(':')?;
        (key.trim() == "model name").then(|| value.trim().to_owned())
    })
}

/// Facts about the machine a run happened on.
#[derive(Debug, Clone)]
pub struct MachineInfo {
    pub nproc: usize,
    pub cpu_model: String,
    pub kernel: String,
    pub date: String,
    pub load_average: String,
    pub memory: String,
}

impl MachineInfo {
    pub fn collect() -> Self {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let nproc = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
        let cpu_model = parse_cpu_model(&read("/proc/cpuinfo")).unwrap_or_else(|| "unknown".into());
        let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
        let load_average = Self::load_now();
        let memory = read("/proc/meminfo")
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map(|kib| format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0))
            .unwrap_or_else(|| "unknown".into());
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        Self { nproc, cpu_model, kernel, date: utc_datetime(now), load_average, memory }
    }

    /// The 1, 5 and 15-minute load averages now.
    pub fn load_now() -> String {
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC` for seconds since the epoch.
pub fn utc_datetime(epoch_seconds: i64) -> String {
    let days = epoch_seconds.div_euclid(86_400);
    let secs = epoch_seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_a_plain_name() {
        let stat = "4242 (ingot) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 3 0 \
                    98765 123456789 4321 18446744073709551615 1 1 0 0 0 0 0 4096 17663 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(parse_stat_cpu_ticks(stat).unwrap(), 325);
    }

    #[test]
    fn stat_with_spaces_and_parentheses_in_the_name() {
        let stat = "77 (moto (server) x) R 1 77 77 0 -1 0 0 0 0 0 1000 1 5 6 20 0 1 0 1 2 3";
        assert_eq!(parse_stat_cpu_ticks(stat).unwrap(), 1001);
    }

    #[test]
    fn stat_that_is_cut_short_is_an_error() {
        assert!(parse_stat_cpu_ticks("1 (x) S 1 2 3").is_err());
        assert!(parse_stat_cpu_ticks("garbage").is_err());
    }

    #[test]
    fn status_rss() {
        let status = "Name:\tingot\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t  100000 kB\n\
                      VmRSS:\t   12345 kB\nRssAnon:\t    8000 kB\nThreads:\t3\n";
        assert_eq!(parse_status_rss_kib(status).unwrap(), 12345);
        assert!(parse_status_rss_kib("Name:\tzombie\nState:\tZ\n").is_err());
    }

    #[test]
    fn cpu_model() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n\n\
                       processor\t: 1\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(parse_cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(parse_cpu_model("processor : 0\n"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(utc_datetime(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_datetime(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_datetime(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc_datetime(4_107_542_399), "2100-02-28 23:59:59 UTC");
    }

    #[test]
    fn reads_its_own_process() {
        let me = Proc { pid: std::process::id(), ticks_per_second: clock_ticks_per_second() };
        assert!(me.rss_mb().unwrap() > 0.0);
        assert!(me.cpu_ms().unwrap() >= 0.0);
    }
}
