//! The EC2 workloads (ec2Query: `POST /` with the form body `Action=…&Version=2016-11-15&…`,
//! signed for `ec2`), which both servers serve. Their image is found through the API before the
//! measurement (not measured), with the server's root credentials:
//!
//! - Ingot: SSM GetParameter of AWS's public parameter [`PUBLIC_PARAMETER`] (the AL2023 AMI id),
//!   then PutParameter of [`IMAGE_PARAMETER`] (`DataType=aws:ec2:image`) with that id, polled with
//!   GetParameter until it is readable (an image parameter may be validated asynchronously).
//!   RunInstances names the image as `resolve:ssm:` and that parameter's full ARN, so every launch
//!   resolves it through SSM; DescribeImages asks for the public AMI id.
//! - moto, which does not resolve `resolve:ssm:`: DescribeImages of Amazon's images (or of all, if
//!   it lists none as Amazon's); both workloads use the first AMI id it answers.
//!
//! Before a workload runs, its request is sent once and its answer checked: RunInstances must
//! answer 200 with an `<instanceId>`, DescribeImages 200 with the image asked for, so that a
//! server answering 200 with the wrong thing cannot look fast.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

use crate::client::{xml_text, Template};
use crate::identity::excerpt;
use crate::server::{Kind, Server};
use crate::workload::{self, Workload};

/// Where the instances are launched and every EC2 and SSM call of the setup is signed for.
pub const REGION: &str = "us-east-1";
/// The API version of EC2's query protocol.
pub const VERSION: &str = "2016-11-15";
pub const INSTANCE_TYPE: &str = "t3.micro";
/// AWS's public parameter holding the latest Amazon Linux 2023 AMI id.
pub const PUBLIC_PARAMETER: &str = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";
/// The parameter `run-instances` resolves on Ingot.
pub const IMAGE_PARAMETER: &str = "/bench/ec2/image";
pub const IMAGE_DATA_TYPE: &str = "aws:ec2:image";
/// How long the image parameter may take to become readable after PutParameter.
const READABLE_WITHIN: Duration = Duration::from_secs(5);
const POLL_EVERY: Duration = Duration::from_millis(100);

/// What [`setup`] found or made.
#[derive(Debug, Clone)]
pub struct Setup {
    /// RunInstances' `ImageId`: `resolve:ssm:<parameter ARN>` on Ingot, the AMI id on moto.
    pub image_reference: String,
    /// DescribeImages' `ImageId.1`, and what the reference resolves to.
    pub image_id: String,
    pub calls: usize,
    pub took: Duration,
}

/// An EC2 call: `POST /` with the form `Action=<action>&Version=2016-11-15&<params…>`.
pub fn template(addr: SocketAddr, action: &str, params: &[(&str, &str)]) -> Template {
    Template::query(addr, REGION, "ec2", action, VERSION, params)
}

/// The request of `run-instances`: one instance of `image`.
pub fn run_instances_template(addr: SocketAddr, image: &str) -> Template {
    template(
        addr,
        "RunInstances",
        &[("ImageId", image), ("InstanceType", INSTANCE_TYPE), ("MinCount", "1"), ("MaxCount", "1")],
    )
}

/// The request of `describe-images`: one image by id.
pub fn describe_images_template(addr: SocketAddr, image_id: &str) -> Template {
    template(addr, "DescribeImages", &[("ImageId.1", image_id)])
}

/// The ARN of [`IMAGE_PARAMETER`] in `account`.
pub fn parameter_arn(account: &str) -> String {
    format!("arn:aws:ssm:{REGION}:{account}:parameter{IMAGE_PARAMETER}")
}

/// How RunInstances names the image on Ingot: the parameter by full ARN.
pub fn resolve_reference(account: &str) -> String {
    format!("resolve:ssm:{}", parameter_arn(account))
}

/// The account of an ARN (`arn:partition:service:region:account:…`).
pub fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
}

/// The setup's calls, counted.
struct Api<'a> {
    server: &'a Server,
    calls: usize,
}

impl Api<'_> {
    /// One call that must answer 2xx; its status and body otherwise go into the error.
    async fn call(&mut self, template: &Template) -> Result<bytes::Bytes> {
        self.calls += 1;
        let (status, body) = workload::call(self.server, template).await?;
        if !(200..300).contains(&status) {
            bail!("HTTP {status}: {}", excerpt(&body));
        }
        Ok(body)
    }

    async fn ssm(&mut self, operation: &str, input: &Value) -> Result<Value> {
        let body = self.call(&Template::ssm(self.server.addr, REGION, operation, input)).await?;
        serde_json::from_slice(&body).map_err(|e| anyhow!("not JSON ({e}): {}", excerpt(&body)))
    }
}

/// Finds (and on Ingot writes) the image; see the module documentation.
pub async fn setup(server: &Server) -> Result<Setup> {
    let started = Instant::now();
    let mut api = Api { server, calls: 0 };
    let (image_reference, image_id) = match server.kind {
        Kind::Ingot => ingot_image(&mut api).await?,
        Kind::Moto => {
            let id = moto_image(&mut api).await?;
            (id.clone(), id)
        }
    };
    Ok(Setup { image_reference, image_id, calls: api.calls, took: started.elapsed() })
}

/// The public AL2023 AMI id, written to [`IMAGE_PARAMETER`]; the `resolve:ssm:` reference to it
/// and the id.
async fn ingot_image(api: &mut Api<'_>) -> Result<(String, String)> {
    let public = api
        .ssm("GetParameter", &json!({ "Name": PUBLIC_PARAMETER }))
        .await
        .with_context(|| format!("SSM GetParameter {PUBLIC_PARAMETER}"))?;
    let image_id = public["Parameter"]["Value"]
        .as_str()
        .filter(|v| v.starts_with("ami-"))
        .ok_or_else(|| anyhow!("no AMI id in the answer of GetParameter {PUBLIC_PARAMETER}: {public}"))?
        .to_owned();
    api.ssm(
        "PutParameter",
        &json!({
            "Name": IMAGE_PARAMETER,
            "Type": "String",
            "DataType": IMAGE_DATA_TYPE,
            "Value": image_id,
            "Overwrite": true,
        }),
    )
    .await
    .with_context(|| format!("SSM PutParameter {IMAGE_PARAMETER} ({IMAGE_DATA_TYPE}, {image_id})"))?;
    // Until the image is validated the parameter may not be found, or not with this value.
    let deadline = Instant::now() + READABLE_WITHIN;
    let answer = loop {
        let last = api.ssm("GetParameter", &json!({ "Name": IMAGE_PARAMETER })).await;
        match last {
            Ok(answer) if answer["Parameter"]["Value"] == image_id.as_str() => break answer,
            _ if Instant::now() < deadline => tokio::time::sleep(POLL_EVERY).await,
            Ok(answer) => bail!(
                "SSM GetParameter {IMAGE_PARAMETER}: still {answer} {} s after PutParameter (expected Value {image_id})",
                READABLE_WITHIN.as_secs()
            ),
            Err(e) => {
                return Err(e.context(format!(
                    "SSM GetParameter {IMAGE_PARAMETER}: not readable {} s after PutParameter",
                    READABLE_WITHIN.as_secs()
                )))
            }
        }
    };
    let arn = answer["Parameter"]["ARN"].as_str().unwrap_or_default();
    let account =
        arn_account(arn).ok_or_else(|| anyhow!("no account in the ARN of GetParameter {IMAGE_PARAMETER}: {answer}"))?;
    Ok((resolve_reference(account), image_id))
}

/// The first AMI id moto's DescribeImages lists: Amazon's, else any.
async fn moto_image(api: &mut Api<'_>) -> Result<String> {
    let addr = api.server.addr;
    for params in [&[("Owner.1", "amazon")][..], &[]] {
        let body = api
            .call(&template(addr, "DescribeImages", params))
            .await
            .with_context(|| format!("EC2 DescribeImages {}", crate::client::form_encode(params)))?;
        if let Some(id) = xml_text(&String::from_utf8_lossy(&body), "imageId").filter(|id| !id.is_empty()) {
            return Ok(id);
        }
    }
    bail!("EC2 DescribeImages listed no image, with Owner.1=amazon or without")
}

/// Whether an answer to `workload`'s request is what it asked for: HTTP 200 and, for
/// RunInstances, an instance; for DescribeImages, `image_id`. `Err` says what was wrong.
pub fn check_answer(workload: Workload, status: u16, body: &[u8], image_id: &str) -> Result<(), String> {
    if status != 200 {
        return Err(format!("HTTP {status}: {}", excerpt(body)));
    }
    let text = String::from_utf8_lossy(body);
    match workload {
        Workload::RunInstances if text.contains("<instanceId>") => Ok(()),
        Workload::RunInstances => Err(format!("RunInstances answered without an <instanceId>: {}", excerpt(body))),
        _ if text.contains(&format!("<imageId>{image_id}</imageId>")) => Ok(()),
        _ => Err(format!("DescribeImages answered without the image {image_id}: {}", excerpt(body))),
    }
}

/// Sends `template`, the request `workload` is about to measure, once and checks its answer
/// ([`check_answer`]).
pub async fn probe(
    server: &Server,
    workload: Workload,
    template: &Template,
    image_id: &str,
) -> Result<Result<(), String>> {
    let (status, body) = workload::call(server, template).await?;
    Ok(check_answer(workload, status, &body, image_id).map_err(|why| format!("{}: {why}", template.label)))
}

/// How long after launch Ingot moves an instance to `running` (`TRANSITION_MS` of its EC2).
const INSTANCE_TRANSITION: Duration = Duration::from_millis(1000);
/// How long [`settle`] waits for the instances of a round at most.
const SETTLE_LIMIT: Duration = Duration::from_secs(300);

/// Waits until the instances a RunInstances round launched on Ingot have all gone `running`.
/// Each does so 1 s after its launch, as a job; a backlog of those jobs left to run would weigh
/// on whatever workload is measured next. Answers how long that took after the round.
pub async fn settle(server: &Server) -> Result<Duration> {
    let start = Instant::now();
    tokio::time::sleep(INSTANCE_TRANSITION).await;
    let metrics = Template::get(server.addr, "/metrics");
    loop {
        let (status, body) = workload::call(server, &metrics).await?;
        if status != 200 {
            bail!("GET /metrics: HTTP {status}: {}", excerpt(&body));
        }
        let due = jobs_due(&String::from_utf8_lossy(&body)).context("GET /metrics has no ingot_jobs_due")?;
        if due == 0.0 {
            return Ok(start.elapsed());
        }
        if start.elapsed() > SETTLE_LIMIT {
            bail!("{due} jobs were still due {} s after the round", SETTLE_LIMIT.as_secs());
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// The `ingot_jobs_due` gauge of a Prometheus text exposition.
fn jobs_due(exposition: &str) -> Option<f64> {
    exposition.lines().find_map(|line| line.strip_prefix("ingot_jobs_due ")?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Credentials;

    fn addr() -> SocketAddr {
        "127.0.0.1:4566".parse().unwrap()
    }

    fn signed_for_ec2(template: &Template) {
        let headers = template.signed_headers(&Credentials::key("AKIDEXAMPLE", "secret"), 1_700_000_000);
        assert_eq!(headers["content-type"], "application/x-www-form-urlencoded; charset=utf-8");
        assert!(headers.get("x-amz-target").is_none());
        let auth = headers["authorization"].to_str().unwrap();
        assert!(auth.contains("/20231114/us-east-1/ec2/aws4_request"), "{auth}");
    }

    #[test]
    fn the_due_jobs_are_read_from_the_metrics_exposition() {
        let text = "# HELP ingot_jobs_due Jobs due now\n# TYPE ingot_jobs_due gauge\ningot_jobs_due 42\ningot_jobs_due_total 7\n";
        assert_eq!(jobs_due(text), Some(42.0));
        assert_eq!(jobs_due("ingot_outbox_backlog{topic=\"audit\"} 3\n"), None);
    }

    #[test]
    fn run_instances_launches_one_t3_micro_of_the_resolved_image() {
        let reference = resolve_reference("123456789012");
        assert_eq!(reference, "resolve:ssm:arn:aws:ssm:us-east-1:123456789012:parameter/bench/ec2/image");
        let t = run_instances_template(addr(), &reference);
        assert_eq!(t.label, "RunInstances");
        signed_for_ec2(&t);
        assert_eq!(
            t.body_text(),
            "Action=RunInstances&Version=2016-11-15\
             &ImageId=resolve%3Assm%3Aarn%3Aaws%3Assm%3Aus-east-1%3A123456789012%3Aparameter%2Fbench%2Fec2%2Fimage\
             &InstanceType=t3.micro&MinCount=1&MaxCount=1"
        );
        // moto gets the AMI id itself.
        assert!(run_instances_template(addr(), "ami-12c6146b").body_text().contains("&ImageId=ami-12c6146b&"));
    }

    #[test]
    fn describe_images_asks_for_one_image_by_id() {
        let t = describe_images_template(addr(), "ami-0abcdef1234567890");
        assert_eq!(t.label, "DescribeImages");
        signed_for_ec2(&t);
        assert_eq!(t.body_text(), "Action=DescribeImages&Version=2016-11-15&ImageId.1=ami-0abcdef1234567890");
    }

    #[test]
    fn the_account_comes_from_the_parameters_arn() {
        assert_eq!(arn_account("arn:aws:ssm:us-east-1:111122223333:parameter/bench/ec2/image"), Some("111122223333"));
        assert_eq!(arn_account("arn:aws:ssm:us-east-1::parameter/x"), None);
        assert_eq!(arn_account("not an arn"), None);
    }

    #[test]
    fn answers_are_checked_for_the_instance_and_the_image() {
        let launched = b"<RunInstancesResponse><reservationId>r-1</reservationId><instancesSet><item>\
                         <instanceId>i-0123456789abcdef0</instanceId></item></instancesSet></RunInstancesResponse>";
        assert_eq!(check_answer(Workload::RunInstances, 200, launched, "ami-1"), Ok(()));
        let empty = b"<RunInstancesResponse><instancesSet/></RunInstancesResponse>";
        assert!(check_answer(Workload::RunInstances, 200, empty, "ami-1").unwrap_err().contains("<instanceId>"));
        let refused = b"<Response><Errors><Error><Code>InvalidAMIID.NotFound</Code></Error></Errors></Response>";
        let why = check_answer(Workload::RunInstances, 400, refused, "ami-1").unwrap_err();
        assert!(why.starts_with("HTTP 400: ") && why.contains("InvalidAMIID.NotFound"), "{why}");
        let images = b"<DescribeImagesResponse><imagesSet><item><imageId>ami-1</imageId></item></imagesSet>\
                       </DescribeImagesResponse>";
        assert_eq!(check_answer(Workload::DescribeImages, 200, images, "ami-1"), Ok(()));
        assert!(check_answer(Workload::DescribeImages, 200, images, "ami-2").is_err());
        assert!(check_answer(Workload::DescribeImages, 201, images, "ami-1").is_err());
    }
}
