//! Ingot's build tasks.
//!
//! `cargo xtask codegen [--check]` generates, for the operations listed in
//! `codegen/operations.txt`, the wire types and shape metadata of each service crate
//! (`crates/ingot-svc-<id>/src/generated/`) from the botocore models pinned in
//! `codegen/botocore.version`, and README.md's compatibility table (service, protocol, operations
//! served) between its marker comments. With `--check` nothing is written: the command fails
//! listing the files that are out of date.

mod allowlist;
mod botocore;
mod json;
mod names;
mod readme;
mod render;
mod wheel;

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const USAGE: &str = "usage: cargo xtask codegen [--check]";

fn main() {
    if let Err(error) = run() {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["codegen"] => codegen(false),
        ["codegen", "--check"] => codegen(true),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => bail!("{USAGE}"),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn codegen(check: bool) -> Result<()> {
    let root = workspace_root();
    let version_file = root.join("codegen/botocore.version");
    let version = std::fs::read_to_string(&version_file)
        .with_context(|| format!("reading {}", version_file.display()))?
        .trim()
        .to_string();
    if version.is_empty() || !version.chars().all(|c| c.is_ascii_digit() || c == '.') {
        bail!("{}: `{version}` is not a botocore version", version_file.display());
    }
    let allowlist_file = root.join("codegen/operations.txt");
    let allowlist = allowlist::parse(
        &std::fs::read_to_string(&allowlist_file).with_context(|| format!("reading {}", allowlist_file.display()))?,
    )
    .with_context(|| format!("in {}", allowlist_file.display()))?;

    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let target = if target.is_absolute() { target } else { root.join(target) };
    let wheel = wheel::obtain(&target.join("botocore"), &version)?;
    let zip = wheel::Zip::open(&wheel)?;

    let mut stale = Vec::new();
    let mut written = 0;
    let mut rows = Vec::new();
    for entry in &allowlist {
        let (version_dir, bytes) = wheel::service_model(&zip, &entry.model)?;
        let model = json::Json::parse(&bytes).with_context(|| format!("parsing the {} model", entry.model))?;
        let service = botocore::load(&entry.id, &entry.model, &version_dir, &model, &entry.operations)
            .with_context(|| format!("service `{}` ({}/{version_dir})", entry.id, entry.model))?;
        rows.push(readme::Row {
            service: service.display_name.clone(),
            protocol: service.protocol,
            operations: entry.operations.clone(),
        });
        let dir = root.join(format!("crates/ingot-svc-{}/src/generated", entry.id));
        if !dir.parent().is_some_and(Path::is_dir) {
            bail!(
                "{} does not exist: create the crate `ingot-svc-{}` first",
                dir.parent().unwrap_or(&dir).display(),
                entry.id
            );
        }
        let mut expected = Vec::new();
        for (name, source) in render::service_files(&service, &version) {
            let path = dir.join(name);
            let formatted = rustfmt(&root, &source).with_context(|| format!("formatting {}", path.display()))?;
            expected.push(path.clone());
            let current = std::fs::read_to_string(&path).ok();
            if current.as_deref() == Some(formatted.as_str()) {
                continue;
            }
            if check {
                stale.push(format!(
                    "{} ({})",
                    rel(&root, &path),
                    if current.is_some() { "differs" } else { "missing" }
                ));
            } else {
                std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
                std::fs::write(&path, formatted).with_context(|| format!("writing {}", path.display()))?;
                written += 1;
            }
        }
        // Files the generator no longer writes.
        for file in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = file.path();
            if path.extension().is_some_and(|e| e == "rs") && !expected.contains(&path) {
                if check {
                    stale.push(format!("{} (not generated)", rel(&root, &path)));
                } else {
                    std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
                    written += 1;
                }
            }
        }
    }
    let readme_file = root.join("README.md");
    let current =
        std::fs::read_to_string(&readme_file).with_context(|| format!("reading {}", readme_file.display()))?;
    let expected = readme::splice(&current, &readme::table(&rows))?;
    if expected != current {
        if check {
            stale.push(format!(
                "{} (compatibility table differs from codegen/operations.txt)",
                rel(&root, &readme_file)
            ));
        } else {
            std::fs::write(&readme_file, expected).with_context(|| format!("writing {}", readme_file.display()))?;
            written += 1;
        }
    }
    if check {
        if !stale.is_empty() {
            let list: Vec<String> = stale.iter().map(|s| format!("  {s}")).collect();
            bail!("generated files are out of date; run `cargo xtask codegen`:\n{}", list.join("\n"));
        }
        eprintln!("generated code and README table are up to date (botocore {version}, {} services)", allowlist.len());
    } else {
        eprintln!("codegen: botocore {version}, {} services, {written} files changed", allowlist.len());
    }
    Ok(())
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// Formats `source` with `rustfmt --edition 2021`, run from the workspace root so that a
/// `rustfmt.toml` there applies exactly as it does for `cargo fmt`.
fn rustfmt(root: &Path, source: &str) -> Result<String> {
    let rustfmt = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".to_string());
    let mut child = Command::new(&rustfmt)
        .args(["--edition", "2021", "--emit", "stdout"])
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {rustfmt}"))?;
    let mut stdin = child.stdin.take().context("rustfmt stdin")?;
    let input = source.to_string();
    // Write from another thread: rustfmt may fill its stdout before it has read all its input.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().context("waiting for rustfmt")?;
    writer.join().map_err(|_| anyhow::anyhow!("rustfmt writer panicked"))?.context("writing to rustfmt")?;
    if !output.status.success() {
        bail!("rustfmt failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    String::from_utf8(output.stdout).context("rustfmt output is not UTF-8")
}
