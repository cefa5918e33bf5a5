//! `codegen/operations.txt`: which operations of which botocore models Ingot serves.
//!
//! ```text
//! # comment
//! service ssm model=ssm
//! PutParameter
//! GetParameter   # trailing comments too
//! ```

use anyhow::{bail, Context, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    /// aws-sdk id and crate suffix (`ssm` → `crates/ingot-svc-ssm`).
    pub id: String,
    /// Directory of the model under `botocore/data/`.
    pub model: String,
    /// Operation names in the order listed.
    pub operations: Vec<String>,
}

pub fn parse(text: &str) -> Result<Vec<ServiceEntry>> {
    let mut services: Vec<ServiceEntry> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut tokens = line.split_whitespace();
        let first = tokens.next().unwrap_or_default();
        if first == "service" {
            let entry = parse_service_line(tokens).with_context(|| format!("line {line_no}: `{line}`"))?;
            if services.iter().any(|s| s.id == entry.id) {
                bail!("line {line_no}: service `{}` is listed twice", entry.id);
            }
            services.push(entry);
            continue;
        }
        if tokens.next().is_some() {
            bail!("line {line_no}: expected one operation name or `service <id> model=<dir>`, found `{line}`");
        }
        if !first.starts_with(|c: char| c.is_ascii_uppercase()) || !first.chars().all(|c| c.is_ascii_alphanumeric()) {
            bail!("line {line_no}: `{first}` is not an operation name");
        }
        let Some(service) = services.last_mut() else {
            bail!("line {line_no}: operation `{first}` comes before any `service` line");
        };
        if service.operations.iter().any(|op| op == first) {
            bail!("line {line_no}: operation `{first}` is listed twice for `{}`", service.id);
        }
        service.operations.push(first.to_string());
    }
    for service in &services {
        if service.operations.is_empty() {
            bail!("service `{}` lists no operations", service.id);
        }
    }
    Ok(services)
}

fn parse_service_line<'a>(mut tokens: impl Iterator<Item = &'a str>) -> Result<ServiceEntry> {
    let id = tokens.next().context("missing service id")?;
    let valid_id = id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !valid_id {
        bail!("service id `{id}` must be lower case letters and digits");
    }
    let mut model = None;
    for token in tokens {
        match token.split_once('=') {
            Some(("model", dir)) if !dir.is_empty() && !dir.contains(['/', '\\', '.']) => model = Some(dir.to_string()),
            _ => bail!("unexpected `{token}` (expected `model=<botocore dir>`)"),
        }
    }
    let model = model.context("missing `model=<botocore dir>`")?;
    Ok(ServiceEntry { id: id.to_string(), model, operations: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_comments_and_blank_lines() {
        let text = "# header\n\nservice sts model=sts\nGetCallerIdentity  # trailing\n\
                    service ec2 model=ec2\n  DescribeRegions\nDescribeAvailabilityZones\n";
        let services = parse(text).unwrap();
        assert_eq!(
            services,
            vec![
                ServiceEntry { id: "sts".into(), model: "sts".into(), operations: vec!["GetCallerIdentity".into()] },
                ServiceEntry {
                    id: "ec2".into(),
                    model: "ec2".into(),
                    operations: vec!["DescribeRegions".into(), "DescribeAvailabilityZones".into()]
                },
            ]
        );
    }

    #[test]
    fn model_dir_may_differ_from_the_id() {
        let services = parse("service logs model=logs\nPutLogEvents\nservice s3api model=s3\nListBuckets\n").unwrap();
        assert_eq!(services[1].id, "s3api");
        assert_eq!(services[1].model, "s3");
    }

    #[test]
    fn rejects_malformed_lists() {
        let cases = [
            ("GetParameter\n", "before any `service`"),
            ("service ssm\nGetParameter\n", "missing `model"),
            ("service ssm model=ssm\n", "lists no operations"),
            ("service ssm model=ssm\nGetParameter\nGetParameter\n", "listed twice"),
            ("service ssm model=ssm\nA\nservice ssm model=ssm\nB\n", "listed twice"),
            ("service SSM model=ssm\nA\n", "lower case"),
            ("service ssm model=ssm extra\nA\n", "unexpected `extra`"),
            ("service ssm model=../x\nA\n", "unexpected"),
            ("service ssm model=ssm\nGet Parameter\n", "expected one operation"),
            ("service ssm model=ssm\nget_parameter\n", "not an operation name"),
        ];
        for (text, expected) in cases {
            let error = format!("{:#}", parse(text).unwrap_err());
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }
}
