//! The principals the IAM workloads run as, set up through the API before the measurement (not
//! measured), starting from the server's root credentials (the management account's root):
//!
//! 1. Organizations (awsJson 1.1, `organizations`): an organization with all features, SCPs
//!    enabled on its root, an OU `bench`, a member account created with CreateAccount (polled
//!    with DescribeCreateAccountStatus until it succeeds; it comes with the role
//!    `OrganizationAccountAccessRole`, trusting the management account, with
//!    AdministratorAccess) and moved into the OU, and an SCP denying `ec2:TerminateInstances`
//!    attached to the OU (beside FullAWSAccess, attached by default).
//! 2. IAM (awsQuery, `iam`) in the management account: a user `bench-admin` with
//!    AdministratorAccess and an access key (root may not assume roles).
//! 3. STS: `bench-admin` assumes `OrganizationAccountAccessRole` in the member account; with that
//!    session, in the member account: ten customer managed policies ([`reader_policies`]), the
//!    role `bench-reader` with all ten attached, the user `bench-assumer` allowed to assume it,
//!    with an access key, and the GetParameter workload's parameter.
//! 4. The session of `bench-reader`, assumed from the `OrganizationAccountAccessRole` session
//!    (role chaining: one hour at most), signs `get-parameter-as-role`; `bench-assumer`'s key
//!    signs `assume-role`.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

use crate::client::{parse_xml_credentials, xml_text, Credentials, Template};
use crate::server::Server;
use crate::workload::{self, Op};

/// Where IAM, STS and Organizations are called (IAM and Organizations are global and answer in
/// us-east-1).
pub const REGION: &str = "us-east-1";
const IAM_VERSION: &str = "2010-05-08";
const STS_VERSION: &str = "2011-06-15";
const ORGANIZATIONS_TARGET: &str = "AWSOrganizationsV20161128";

pub const READER_ROLE: &str = "bench-reader";
pub const ACCESS_ROLE: &str = "OrganizationAccountAccessRole";
pub const ADMIN_USER: &str = "bench-admin";
const ASSUMER_USER: &str = "bench-assumer";
/// The session name of every AssumeRole the `assume-role` workload sends.
pub const SESSION_NAME: &str = "bench";
/// The role's managed policies: ten, AWS's default quota of policies attached to a role.
pub const POLICIES: usize = 10;
/// Statements per managed policy.
pub const STATEMENTS: usize = 10;
/// How long the `bench-reader` session lives: role chaining allows at most an hour.
pub const READER_SESSION: Duration = Duration::from_secs(3600);

/// What [`setup`] made.
#[derive(Debug, Clone)]
pub struct Setup {
    pub management_account: String,
    pub organization_arn: String,
    /// The organization's root and the OU `bench` under it, which holds the member account.
    pub root_id: String,
    pub ou_id: String,
    pub member_account: String,
    pub reader_role_arn: String,
    /// `bench-admin`'s key in the management account, to renew the reader's session.
    pub admin: Credentials,
    /// `bench-reader`'s session, and when it was issued.
    pub reader: Credentials,
    pub reader_issued: Instant,
    /// `bench-assumer`'s access key.
    pub assumer: Credentials,
    /// Statements over the role's policies, and how many of them carry conditions.
    pub statements: usize,
    pub conditional: usize,
    pub took: Duration,
    /// Calls the setup made.
    pub calls: usize,
}

/// The request of `get-parameter-as-role`: the `get-parameter` workload's.
pub fn get_parameter_template(addr: std::net::SocketAddr) -> Template {
    workload::template(addr, Op::Get, 0)
}

/// A parameter name `bench-reader`'s policies do not allow reading.
pub const DENIED_NAME: &str = "/bench/get/denied";

/// GetParameter of [`DENIED_NAME`]: the role must be refused.
pub fn denied_parameter_template(addr: std::net::SocketAddr) -> Template {
    Template::ssm(addr, Op::Get.region(), "GetParameter", &json!({ "Name": DENIED_NAME }))
}

/// The request of `assume-role`: AssumeRole of `role_arn`, session [`SESSION_NAME`].
pub fn assume_role_template(addr: std::net::SocketAddr, role_arn: &str) -> Template {
    Template::query(
        addr,
        REGION,
        "sts",
        "AssumeRole",
        STS_VERSION,
        &[("RoleArn", role_arn), ("RoleSessionName", SESSION_NAME)],
    )
}

/// The ARN of the GetParameter workload's parameter in `account`.
pub fn parameter_arn(account: &str) -> String {
    format!("arn:aws:ssm:{}:{account}:parameter{}", Op::Get.region(), workload::GET_NAME)
}

/// Calls made during the setup: each must answer 2xx; transient answers (5xx, throttling) are
/// retried a few times, anything else fails the setup with the call, the caller and the answer.
pub(crate) struct Api<'a> {
    server: &'a Server,
    pub calls: usize,
}

impl<'a> Api<'a> {
    pub fn new(server: &'a Server) -> Self {
        Self { server, calls: 0 }
    }

    pub async fn send(&mut self, creds: &Credentials, template: &Template) -> Result<String> {
        const ATTEMPTS: u32 = 5;
        for attempt in 1..=ATTEMPTS {
            let (status, body) = workload::call_as(self.server, creds, template).await?;
            self.calls += 1;
            if (200..300).contains(&status) {
                return Ok(String::from_utf8_lossy(&body).into_owned());
            }
            if attempt < ATTEMPTS && workload::is_transient(status, &body) {
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                continue;
            }
            bail!("HTTP {status}: {}", excerpt(&body));
        }
        unreachable!("the last attempt returns")
    }

    pub async fn iam(&mut self, creds: &Credentials, action: &str, params: &[(&str, &str)]) -> Result<String> {
        let template = Template::query(self.server.addr, REGION, "iam", action, IAM_VERSION, params);
        self.send(creds, &template).await
    }

    async fn sts(&mut self, creds: &Credentials, action: &str, params: &[(&str, &str)]) -> Result<String> {
        let template = Template::query(self.server.addr, REGION, "sts", action, STS_VERSION, params);
        self.send(creds, &template).await
    }

    pub async fn organizations(&mut self, creds: &Credentials, operation: &str, input: Value) -> Result<Value> {
        let target = format!("{ORGANIZATIONS_TARGET}.{operation}");
        let template = Template::aws_json(self.server.addr, REGION, "organizations", &target, &input);
        let body = self.send(creds, &template).await?;
        serde_json::from_str(&body).map_err(|e| anyhow!("not JSON ({e}): {}", excerpt(body.as_bytes())))
    }

    /// A call answered with a JSON object (awsJson, restJson).
    pub async fn json(&mut self, creds: &Credentials, template: &Template) -> Result<Value> {
        let body = self.send(creds, template).await?;
        serde_json::from_str(&body).map_err(|e| anyhow!("not JSON ({e}): {}", excerpt(body.as_bytes())))
    }
}

/// An answer, whitespace squeezed, cut at 600 characters.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return "(empty body)".into();
    }
    let mut cut: String = text.chars().take(600).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

pub(crate) fn field<'a>(value: &'a Value, path: &[&str], what: &str) -> Result<&'a str> {
    let mut v = value;
    for p in path {
        v = &v[*p];
    }
    v.as_str().ok_or_else(|| anyhow!("no {} in the answer {what}: {value}", path.join(".")))
}

/// Sets up the organization, the member account, its role, policies and users; see the module
/// documentation. Prints progress to stderr.
pub async fn setup(server: &Server) -> Result<Setup> {
    let started = Instant::now();
    let root = &server.creds;
    let mut api = Api::new(server);

    // Organizations, as the management account's root.
    eprintln!("  organization: CreateOrganization, an OU, a member account, an SCP");
    let organization = api
        .organizations(root, "CreateOrganization", json!({ "FeatureSet": "ALL" }))
        .await
        .context("Organizations CreateOrganization (FeatureSet ALL) as the management account's root")?;
    let organization_arn = field(&organization, &["Organization", "Arn"], "of CreateOrganization")?.to_owned();
    let management_account =
        field(&organization, &["Organization", "MasterAccountId"], "of CreateOrganization")?.to_owned();
    let roots = api.organizations(root, "ListRoots", json!({})).await.context("Organizations ListRoots")?;
    let root_id = roots["Roots"][0]["Id"]
        .as_str()
        .ok_or_else(|| anyhow!("no Roots[0].Id in the answer of Organizations ListRoots: {roots}"))?
        .to_owned();
    let scp_enabled = roots["Roots"][0]["PolicyTypes"]
        .as_array()
        .is_some_and(|types| types.iter().any(|t| t["Type"] == "SERVICE_CONTROL_POLICY" && t["Status"] == "ENABLED"));
    if !scp_enabled {
        api.organizations(
            root,
            "EnablePolicyType",
            json!({ "RootId": root_id, "PolicyType": "SERVICE_CONTROL_POLICY" }),
        )
        .await
        .with_context(|| format!("Organizations EnablePolicyType SERVICE_CONTROL_POLICY on {root_id}"))?;
    }
    let ou = api
        .organizations(root, "CreateOrganizationalUnit", json!({ "ParentId": root_id, "Name": "bench" }))
        .await
        .with_context(|| format!("Organizations CreateOrganizationalUnit bench under {root_id}"))?;
    let ou_id = field(&ou, &["OrganizationalUnit", "Id"], "of CreateOrganizationalUnit")?.to_owned();
    let created = api
        .organizations(
            root,
            "CreateAccount",
            json!({ "Email": "bench-member@example.com", "AccountName": "bench-member" }),
        )
        .await
        .context("Organizations CreateAccount bench-member")?;
    let request_id = field(&created, &["CreateAccountStatus", "Id"], "of CreateAccount")?.to_owned();
    let member = wait_for_account(&mut api, root, &request_id, &created).await?;
    api.organizations(
        root,
        "MoveAccount",
        json!({ "AccountId": member, "SourceParentId": root_id, "DestinationParentId": ou_id }),
    )
    .await
    .with_context(|| format!("Organizations MoveAccount {member} from {root_id} to {ou_id}"))?;
    let scp = api
        .organizations(
            root,
            "CreatePolicy",
            json!({
                "Name": "bench-deny-terminate",
                "Description": "ingot-bench: an SCP that denies something the workloads never do",
                "Type": "SERVICE_CONTROL_POLICY",
                "Content": scp_document().to_string(),
            }),
        )
        .await
        .context("Organizations CreatePolicy (SERVICE_CONTROL_POLICY bench-deny-terminate)")?;
    let scp_id = field(&scp, &["Policy", "PolicySummary", "Id"], "of CreatePolicy")?.to_owned();
    api.organizations(root, "AttachPolicy", json!({ "PolicyId": scp_id, "TargetId": ou_id }))
        .await
        .with_context(|| format!("Organizations AttachPolicy {scp_id} to {ou_id}"))?;

    // A user of the management account that may assume roles (its root may not).
    eprintln!("  IAM: {ADMIN_USER} in the management account, {ACCESS_ROLE} in {member}");
    api.iam(root, "CreateUser", &[("UserName", ADMIN_USER)])
        .await
        .with_context(|| format!("IAM CreateUser {ADMIN_USER} as the management account's root"))?;
    api.iam(
        root,
        "AttachUserPolicy",
        &[("UserName", ADMIN_USER), ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess")],
    )
    .await
    .with_context(|| format!("IAM AttachUserPolicy AdministratorAccess to {ADMIN_USER}"))?;
    let key = api
        .iam(root, "CreateAccessKey", &[("UserName", ADMIN_USER)])
        .await
        .with_context(|| format!("IAM CreateAccessKey for {ADMIN_USER}"))?;
    let admin = parse_xml_credentials(&key).with_context(|| format!("IAM CreateAccessKey's answer: {key}"))?;

    let access_role = format!("arn:aws:iam::{member}:role/{ACCESS_ROLE}");
    let org = assume(&mut api, &admin, &access_role, "bench-setup", None)
        .await
        .with_context(|| format!("STS AssumeRole {access_role} as {ADMIN_USER}"))?;

    // The member account's policies, role and user, as OrganizationAccountAccessRole.
    eprintln!("  IAM in {member}: {POLICIES} managed policies, role {READER_ROLE}, user {ASSUMER_USER}");
    let documents = reader_policies(&member);
    let mut policy_arns = Vec::new();
    for (i, document) in documents.iter().enumerate() {
        let name = format!("bench-reader-{i:02}");
        let answer = api
            .iam(
                &org,
                "CreatePolicy",
                &[
                    ("PolicyName", &name),
                    ("PolicyDocument", &document.to_string()),
                    ("Description", "ingot-bench: one of bench-reader's ten policies"),
                ],
            )
            .await
            .with_context(|| format!("IAM CreatePolicy {name} in {member} as {ACCESS_ROLE}"))?;
        let arn = xml_text(&answer, "Arn").ok_or_else(|| anyhow!("no Arn in IAM CreatePolicy's answer: {answer}"))?;
        policy_arns.push(arn);
    }
    let trust = trust_document(&member).to_string();
    let role = api
        .iam(&org, "CreateRole", &[("RoleName", READER_ROLE), ("AssumeRolePolicyDocument", &trust)])
        .await
        .with_context(|| format!("IAM CreateRole {READER_ROLE} in {member} as {ACCESS_ROLE}"))?;
    let reader_role_arn = xml_text(&role, "Arn").ok_or_else(|| anyhow!("no Arn in IAM CreateRole's answer: {role}"))?;
    for arn in &policy_arns {
        api.iam(&org, "AttachRolePolicy", &[("RoleName", READER_ROLE), ("PolicyArn", arn)])
            .await
            .with_context(|| format!("IAM AttachRolePolicy {arn} to {READER_ROLE}"))?;
    }
    api.iam(&org, "CreateUser", &[("UserName", ASSUMER_USER)])
        .await
        .with_context(|| format!("IAM CreateUser {ASSUMER_USER} in {member} as {ACCESS_ROLE}"))?;
    let assumer_policy = json!({
        "Version": "2012-10-17",
        "Statement": [{ "Sid": "AssumeBenchReader", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": reader_role_arn }]
    })
    .to_string();
    api.iam(
        &org,
        "PutUserPolicy",
        &[("UserName", ASSUMER_USER), ("PolicyName", "assume-bench-reader"), ("PolicyDocument", &assumer_policy)],
    )
    .await
    .with_context(|| format!("IAM PutUserPolicy assume-bench-reader on {ASSUMER_USER}"))?;
    let key = api
        .iam(&org, "CreateAccessKey", &[("UserName", ASSUMER_USER)])
        .await
        .with_context(|| format!("IAM CreateAccessKey for {ASSUMER_USER}"))?;
    let assumer = parse_xml_credentials(&key).with_context(|| format!("IAM CreateAccessKey's answer: {key}"))?;

    // The parameter, in the member account (same name and region as the get-parameter workload).
    let put = workload::put_template(server.addr, workload::GET_NAME);
    api.send(&org, &put).await.with_context(|| {
        format!("SSM PutParameter {} in {member} ({}) as {ACCESS_ROLE}", workload::GET_NAME, Op::Put.region())
    })?;

    let reader_issued = Instant::now();
    let reader = assume(&mut api, &org, &reader_role_arn, SESSION_NAME, Some(READER_SESSION))
        .await
        .with_context(|| format!("STS AssumeRole {reader_role_arn} as {ACCESS_ROLE} (role chaining)"))?;

    let statements = documents.iter().map(|d| d["Statement"].as_array().map_or(0, Vec::len)).sum();
    let conditional = documents
        .iter()
        .flat_map(|d| d["Statement"].as_array().cloned().unwrap_or_default())
        .filter(|s| s.get("Condition").is_some())
        .count();
    Ok(Setup {
        management_account,
        organization_arn,
        root_id,
        ou_id,
        member_account: member,
        reader_role_arn,
        admin,
        reader,
        reader_issued,
        assumer,
        statements,
        conditional,
        took: started.elapsed(),
        calls: api.calls,
    })
}

/// A fresh `bench-reader` session (the two AssumeRoles of the setup again: `bench-admin` into
/// `OrganizationAccountAccessRole`, that session into `bench-reader`), for runs longer than a
/// session lives.
pub async fn renew_reader(server: &Server, setup: &Setup) -> Result<(Credentials, Instant)> {
    let mut api = Api::new(server);
    let access_role = format!("arn:aws:iam::{}:role/{ACCESS_ROLE}", setup.member_account);
    let org = assume(&mut api, &setup.admin, &access_role, "bench-setup", None)
        .await
        .with_context(|| format!("STS AssumeRole {access_role} as {ADMIN_USER}"))?;
    let issued = Instant::now();
    let reader = assume(&mut api, &org, &setup.reader_role_arn, SESSION_NAME, Some(READER_SESSION))
        .await
        .with_context(|| format!("STS AssumeRole {} as {ACCESS_ROLE} (role chaining)", setup.reader_role_arn))?;
    Ok((reader, issued))
}

pub(crate) async fn assume(
    api: &mut Api<'_>,
    creds: &Credentials,
    role_arn: &str,
    session: &str,
    duration: Option<Duration>,
) -> Result<Credentials> {
    let seconds = duration.map(|d| d.as_secs().to_string());
    let mut params = vec![("RoleArn", role_arn), ("RoleSessionName", session)];
    if let Some(s) = &seconds {
        params.push(("DurationSeconds", s));
    }
    let answer = api.sts(creds, "AssumeRole", &params).await?;
    let creds = parse_xml_credentials(&answer).with_context(|| format!("AssumeRole's answer: {answer}"))?;
    if creds.session_token.is_none() {
        bail!("AssumeRole's answer has no SessionToken: {answer}");
    }
    Ok(creds)
}

/// Polls DescribeCreateAccountStatus until the account is made; its id.
pub(crate) async fn wait_for_account(
    api: &mut Api<'_>,
    root: &Credentials,
    request_id: &str,
    first: &Value,
) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut status = first["CreateAccountStatus"].clone();
    loop {
        match status["State"].as_str() {
            Some("SUCCEEDED") => {
                return status["AccountId"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| anyhow!("a SUCCEEDED CreateAccountStatus without AccountId: {status}"))
            }
            Some("FAILED") => bail!("Organizations CreateAccount failed: {status}"),
            _ => {}
        }
        if Instant::now() > deadline {
            bail!("Organizations CreateAccount {request_id} not SUCCEEDED after 120 s: {status}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let answer = api
            .organizations(root, "DescribeCreateAccountStatus", json!({ "CreateAccountRequestId": request_id }))
            .await
            .with_context(|| format!("Organizations DescribeCreateAccountStatus {request_id}"))?;
        status = answer["CreateAccountStatus"].clone();
    }
}

/// The SCP on the member account's OU: denies what the workloads never do.
pub fn scp_document() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{ "Sid": "NoTermination", "Effect": "Deny", "Action": "ec2:TerminateInstances", "Resource": "*" }]
    })
}

/// `bench-reader`'s trust policy: principals of the member account (whose identity policies
/// allow `sts:AssumeRole` on it: the `OrganizationAccountAccessRole` session, `bench-assumer`).
pub fn trust_document(account: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "MemberAccount",
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
            "Action": "sts:AssumeRole"
        }]
    })
}

/// `bench-reader`'s ten managed policies in `account`, [`STATEMENTS`] statements each, about half
/// of them with conditions. Only the last statement of the last policy allows GetParameter on
/// the workload's parameter (under conditions the call meets); the others allow unrelated
/// actions, or GetParameter on other parameters, or deny what the call is not, or deny what it
/// is under conditions it does not meet (outside the allowed regions or networks), so the engine
/// has to go through all of them.
pub fn reader_policies(account: &str) -> Vec<Value> {
    let parameter = parameter_arn(account);
    (0..POLICIES)
        .map(|i| {
            let statements: Vec<Value> = (0..STATEMENTS)
                .map(|j| {
                    let sid = format!("P{i:02}S{j:02}");
                    match j {
                        0 => json!({
                            "Sid": sid, "Effect": "Allow",
                            "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
                            "Resource": format!("arn:aws:ssm:us-east-1:{account}:parameter/app{i}/*"),
                            "Condition": { "StringEquals": { "aws:RequestedRegion": "us-east-1" } }
                        }),
                        1 => json!({
                            "Sid": sid, "Effect": "Allow",
                            "Action": ["s3:GetObject", "s3:ListBucket"],
                            "Resource": [format!("arn:aws:s3:::bench-bucket-{i}"), format!("arn:aws:s3:::bench-bucket-{i}/*")]
                        }),
                        2 => json!({
                            "Sid": sid, "Effect": "Allow",
                            "Action": ["dynamodb:GetItem", "dynamodb:Query"],
                            "Resource": format!("arn:aws:dynamodb:us-east-1:{account}:table/bench-{i}"),
                            "Condition": { "StringLike": { "aws:PrincipalArn": format!("arn:aws:iam::{account}:role/bench-*") } }
                        }),
                        3 => json!({
                            "Sid": sid, "Effect": "Allow",
                            "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"],
                            "Resource": format!("arn:aws:sqs:*:{account}:bench-queue-{i}")
                        }),
                        4 => json!({
                            "Sid": sid, "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": format!("arn:aws:logs:us-east-1:{account}:log-group:/bench/{i}:*"),
                            "Condition": { "Bool": { "aws:SecureTransport": "false" } }
                        }),
                        5 => json!({
                            "Sid": sid, "Effect": "Allow",
                            "Action": "kms:Decrypt",
                            "Resource": format!("arn:aws:kms:us-east-1:{account}:key/*"),
                            "Condition": { "IpAddress": { "aws:SourceIp": "127.0.0.0/8" } }
                        }),
                        6 => json!({
                            "Sid": sid, "Effect": "Allow",
                            "Action": "ec2:Describe*",
                            "Resource": "*",
                            "Condition": { "StringEquals": { "aws:RequestedRegion": ["us-east-1", "us-west-2"] } }
                        }),
                        7 => json!({
                            "Sid": sid, "Effect": "Allow",
                            "Action": ["ssm:PutParameter", "ssm:DeleteParameter"],
                            "Resource": format!("arn:aws:ssm:*:{account}:parameter/app{i}/*")
                        }),
                        // Guardrails that match the call but whose conditions it does not meet.
                        8 if i == 3 => json!({
                            "Sid": sid, "Effect": "Deny",
                            "Action": "ssm:*",
                            "Resource": "*",
                            "Condition": { "StringNotEquals": { "aws:RequestedRegion": ["us-east-1", "us-east-2", "us-west-2"] } }
                        }),
                        8 if i == 6 => json!({
                            "Sid": sid, "Effect": "Deny",
                            "Action": "*",
                            "Resource": "*",
                            "Condition": { "NotIpAddress": { "aws:SourceIp": ["127.0.0.0/8", "10.0.0.0/8"] } }
                        }),
                        8 => json!({
                            "Sid": sid, "Effect": "Deny",
                            "Action": ["ssm:DeleteParameter", "ssm:DeleteParameters"],
                            "Resource": format!("arn:aws:ssm:*:{account}:parameter/bench/*")
                        }),
                        _ if i == POLICIES - 1 => json!({
                            "Sid": sid, "Effect": "Allow",
                            "Action": "ssm:GetParameter",
                            "Resource": parameter,
                            "Condition": {
                                "StringEquals": { "aws:RequestedRegion": "us-east-1" },
                                "IpAddress": { "aws:SourceIp": "127.0.0.0/8" }
                            }
                        }),
                        _ => json!({
                            "Sid": sid, "Effect": "Allow",
                            "Action": "ssm:GetParameter",
                            "Resource": format!("arn:aws:ssm:us-east-1:{account}:parameter/bench/other{i}")
                        }),
                    }
                })
                .collect();
            json!({ "Version": "2012-10-17", "Statement": statements })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reader_policies_allow_the_parameter_once_among_a_hundred_statements() {
        let account = "123456789012";
        let policies = reader_policies(account);
        assert_eq!(policies.len(), 10);
        let statements: Vec<&Value> = policies.iter().flat_map(|p| p["Statement"].as_array().unwrap()).collect();
        assert_eq!(statements.len(), 100);
        let conditional = statements.iter().filter(|s| s.get("Condition").is_some()).count();
        assert!((40..=60).contains(&conditional), "{conditional}");
        let parameter = parameter_arn(account);
        assert_eq!(parameter, "arn:aws:ssm:us-east-1:123456789012:parameter/bench/get/param");
        let denied = format!("arn:aws:ssm:us-east-1:{account}:parameter{DENIED_NAME}");
        assert!(!policies.iter().any(|p| p.to_string().contains(&denied)));
        let granting: Vec<&&Value> = statements.iter().filter(|s| s["Resource"] == parameter.as_str()).collect();
        assert_eq!(granting.len(), 1);
        assert_eq!(granting[0]["Effect"], "Allow");
        assert_eq!(granting[0]["Action"], "ssm:GetParameter");
        let sids: std::collections::HashSet<&str> = statements.iter().map(|s| s["Sid"].as_str().unwrap()).collect();
        assert_eq!(sids.len(), 100, "statement ids are unique");
        for p in &policies {
            // AWS's quota for a managed policy: 6,144 characters, whitespace not counted.
            let size = p.to_string().chars().filter(|c| !c.is_whitespace()).count();
            assert!(size < 6144, "{size}");
        }
        let conditions: String = statements.iter().filter_map(|s| s.get("Condition")).map(Value::to_string).collect();
        for key in ["aws:RequestedRegion", "aws:PrincipalArn", "aws:SecureTransport", "aws:SourceIp"] {
            assert!(conditions.contains(key), "{key}");
        }
    }

    #[test]
    fn the_assume_role_request() {
        let addr: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
        let t = assume_role_template(addr, "arn:aws:iam::123456789012:role/bench-reader");
        assert_eq!(t.label, "AssumeRole");
        let h = t.signed_headers(&Credentials::key("AKIA", "secret"), 1_700_000_000);
        assert!(h["authorization"].to_str().unwrap().contains("/us-east-1/sts/aws4_request"));
    }

    #[test]
    fn documents() {
        assert_eq!(
            trust_document("111122223333")["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::111122223333:root"
        );
        assert_eq!(scp_document()["Statement"][0]["Action"], "ec2:TerminateInstances");
        assert_eq!(excerpt(b"  a\n  b "), "a b");
        assert_eq!(excerpt(b""), "(empty body)");
        assert_eq!(excerpt(&[b'x'; 700]).chars().count(), 601);
    }
}
