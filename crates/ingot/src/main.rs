//! The `ingot` command: see `ingot --help`.

use ingot::config::{Command, Config, LogFormat};
use std::io::Write as _;

// Requests allocate many small, short-lived buffers; mimalloc handles that pattern with less
// contention and overhead than the system allocator. Its `override` feature makes it the
// process's `malloc`, so SQLite (C) allocates from it too: SQLite's readers free and refill their
// page caches after every commit, from many threads, and under glibc's malloc that churn
// fragmented the arenas until memory grew without bound under load. The `v2` feature selects
// mimalloc 2, whose memory stays within a band under the mixed load where mimalloc 3's kept
// creeping up (docs/design/storage.md, "Memory allocator"; numbers in docs/benchmarks.md).
//
// Rust's allocator is therefore `System`, which is `malloc` (and, above 16-byte alignment,
// `posix_memalign`), which is mimalloc. The `mimalloc` crate's allocator would enter through
// mimalloc's aligned entry point for every allocation: a slower path that checks each free
// block's alignment and sends blocks over 1 KiB to a general routine.
use libmimalloc_sys as _;
#[global_allocator]
static ALLOCATOR: std::alloc::System = std::alloc::System;

fn main() -> std::process::ExitCode {
    let cli = match ingot::config::parse(std::env::args_os(), |name| std::env::var(name).ok()) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0, mistakes to stderr with status 2.
            let _ = e.print();
            return std::process::ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    match cli.command {
        Command::Serve(config) => serve(config),
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("INGOT_LOG").unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
}

/// `ingot serve`: starts, prints `READY http://HOST:PORT`, serves until SIGTERM or SIGINT.
fn serve(config: Config) -> std::process::ExitCode {
    init_logging(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let server = match ingot::start(config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("ingot: {e:#}");
                return std::process::ExitCode::FAILURE;
            }
        };
        println!("READY {}", server.endpoint());
        let _ = std::io::stdout().flush();
        wait_for_signal().await;
        tracing::info!("shutting down");
        server.shutdown().await;
        std::process::ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
