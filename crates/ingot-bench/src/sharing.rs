//! The RAM workloads (Ingot only: moto does not share parameters): GetParameter of a parameter
//! another account of the organization shares with it through RAM, by its full ARN, beside the
//! owner's own GetParameter of it by name. Both are signed with role sessions whose roles carry
//! the same one-statement policy, and both accounts are members in the same OU under the same
//! SCP, so the two differ only by the share.
//!
//! Set up through the API before the measurement (not measured), on top of
//! [`crate::identity::setup`]'s organization, as the management account's root and
//! `bench-admin`:
//!
//! 1. Organizations: a second member account, `bench-consumer` (CreateAccount, polled until it
//!    succeeds), moved into the OU `bench` beside the first one.
//! 2. RAM (restJson1, signed for `ram`): EnableSharingWithAwsOrganization, as the management
//!    account's root.
//! 3. In the first member account (the owner), as `OrganizationAccountAccessRole`: the Advanced
//!    tier String parameter [`PARAMETER`], and the role [`OWNER_ROLE`].
//! 4. In `bench-consumer` (the reader), as its `OrganizationAccountAccessRole`: the role
//!    [`READER_ROLE`]. Each role trusts the management account and has the inline policy
//!    [`read_policy`] (the same document on both: ssm:GetParameter on the parameter's ARN).
//! 5. `bench-admin` assumes both roles: the sessions that sign the two workloads. The reader's
//!    GetParameter by ARN must be refused at this point (no share yet).
//! 6. The owner, as `OrganizationAccountAccessRole`, shares the parameter with the organization:
//!    CreateResourceShare with the parameter's ARN, the organization's ARN as principal and
//!    `allowExternalPrincipals=false`.
//!
//! Before a workload runs, its request is sent once and its answer checked (200, the value
//! written, the parameter's ARN), so that a broken server cannot look fast.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

use crate::client::{error_code, xml_text, Credentials, Template};
use crate::identity::{self, assume, field, Api};
use crate::server::Server;
use crate::workload;

/// Where the parameter lives and every SSM and RAM call is signed for.
pub const REGION: &str = "us-east-1";
/// The shared parameter, in the owner account: Advanced tier (RAM shares no other), String,
/// [`workload::VALUE`].
pub const PARAMETER: &str = "/bench/shared/param";
pub const TIER: &str = "Advanced";
/// The role of the owner account whose session signs `get-parameter-as-owner`.
pub const OWNER_ROLE: &str = "bench-shared-owner";
/// The role of the reader account whose session signs `get-shared-parameter`.
pub const READER_ROLE: &str = "bench-shared-reader";
/// The inline policy of both roles.
const POLICY_NAME: &str = "read-shared-parameter";
const SHARE_NAME: &str = "bench-shared-parameter";
const READER_ACCOUNT_NAME: &str = "bench-consumer";
/// How long the sessions live (assumed by a user, not chained: the roles' default maximum).
pub const SESSION: Duration = Duration::from_secs(3600);

/// Which side of the share a workload reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The owner account, by name.
    Owner,
    /// Another member account, by ARN.
    Reader,
}

impl Side {
    pub fn role(self) -> &'static str {
        match self {
            Side::Owner => OWNER_ROLE,
            Side::Reader => READER_ROLE,
        }
    }
}

/// What [`setup`] made.
#[derive(Debug, Clone)]
pub struct Setup {
    pub owner_account: String,
    pub reader_account: String,
    pub parameter_arn: String,
    pub share_arn: String,
    owner_role_arn: String,
    reader_role_arn: String,
    /// `bench-admin`'s key, to renew the sessions.
    admin: Credentials,
    pub owner: Credentials,
    pub owner_issued: Instant,
    pub reader: Credentials,
    pub reader_issued: Instant,
    /// What the reader's GetParameter by ARN answered before the share existed, and whether that
    /// was the refusal it must be.
    pub before_share: String,
    pub before_share_denied: bool,
    pub took: Duration,
    /// Calls the setup made (on top of the identity setup's).
    pub calls: usize,
}

impl Setup {
    /// The session that signs `side`'s workload, and when it was issued.
    pub fn session(&self, side: Side) -> (&Credentials, Instant) {
        match side {
            Side::Owner => (&self.owner, self.owner_issued),
            Side::Reader => (&self.reader, self.reader_issued),
        }
    }

    /// The request `side`'s workload sends.
    pub fn template(&self, addr: SocketAddr, side: Side) -> Template {
        match side {
            Side::Owner => get_owned_template(addr),
            Side::Reader => get_shared_template(addr, &self.parameter_arn),
        }
    }
}

/// The ARN of [`PARAMETER`] in `account`.
pub fn parameter_arn(account: &str) -> String {
    format!("arn:aws:ssm:{REGION}:{account}:parameter{PARAMETER}")
}

/// PutParameter of [`PARAMETER`], Advanced tier.
pub fn put_parameter_template(addr: SocketAddr) -> Template {
    Template::ssm(addr, REGION, "PutParameter", &workload::put_input(PARAMETER, Some(TIER)))
}

/// The request of `get-parameter-as-owner`: GetParameter by name, in the owner's account.
pub fn get_owned_template(addr: SocketAddr) -> Template {
    Template::ssm(addr, REGION, "GetParameter", &json!({ "Name": PARAMETER }))
}

/// The request of `get-shared-parameter`: GetParameter by the parameter's full ARN.
pub fn get_shared_template(addr: SocketAddr, arn: &str) -> Template {
    Template::ssm(addr, REGION, "GetParameter", &json!({ "Name": arn }))
}

/// RAM EnableSharingWithAwsOrganization (`POST /enablesharingwithawsorganization`, no input).
pub fn enable_sharing_template(addr: SocketAddr) -> Template {
    Template::rest_json(
        addr,
        REGION,
        "ram",
        "EnableSharingWithAwsOrganization",
        "/enablesharingwithawsorganization",
        &json!({}),
    )
}

/// RAM CreateResourceShare of the parameter `arn` with the organization `organization_arn`.
pub fn create_share_template(addr: SocketAddr, arn: &str, organization_arn: &str) -> Template {
    Template::rest_json(
        addr,
        REGION,
        "ram",
        "CreateResourceShare",
        "/createresourceshare",
        &json!({
            "name": SHARE_NAME,
            "resourceArns": [arn],
            "principals": [organization_arn],
            "allowExternalPrincipals": false,
        }),
    )
}

/// The inline policy of both roles: ssm:GetParameter on the parameter, nothing else.
pub fn read_policy(arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{ "Sid": "ReadSharedParameter", "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": arn }]
    })
}

/// Both roles' trust policy: the management account, whose `bench-admin` assumes them.
pub fn trust_document(management_account: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ManagementAccount",
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{management_account}:root") },
            "Action": "sts:AssumeRole"
        }]
    })
}

fn access_role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/{}", identity::ACCESS_ROLE)
}

/// Sets up the share, the second member account and the two roles; see the module
/// documentation. Prints progress to stderr.
pub async fn setup(server: &Server, org: &identity::Setup) -> Result<Setup> {
    let started = Instant::now();
    let root = &server.creds;
    let addr = server.addr;
    let mut api = Api::new(server);

    eprintln!("  sharing: member account {READER_ACCOUNT_NAME}, RAM sharing with the organization");
    let created = api
        .organizations(
            root,
            "CreateAccount",
            json!({ "Email": "bench-consumer@example.com", "AccountName": READER_ACCOUNT_NAME }),
        )
        .await
        .with_context(|| format!("Organizations CreateAccount {READER_ACCOUNT_NAME}"))?;
    let request_id = field(&created, &["CreateAccountStatus", "Id"], "of CreateAccount")?.to_owned();
    let reader_account = identity::wait_for_account(&mut api, root, &request_id, &created).await?;
    api.organizations(
        root,
        "MoveAccount",
        json!({ "AccountId": reader_account, "SourceParentId": org.root_id, "DestinationParentId": org.ou_id }),
    )
    .await
    .with_context(|| format!("Organizations MoveAccount {reader_account} from {} to {}", org.root_id, org.ou_id))?;
    let enabled = api
        .json(root, &enable_sharing_template(addr))
        .await
        .context("RAM EnableSharingWithAwsOrganization as the management account's root")?;
    if enabled["returnValue"] != true {
        bail!("RAM EnableSharingWithAwsOrganization answered without returnValue true: {enabled}");
    }

    let owner_account = org.member_account.clone();
    let arn = parameter_arn(&owner_account);
    eprintln!("  sharing: {PARAMETER} ({TIER}) and {OWNER_ROLE} in {owner_account}, {READER_ROLE} in {reader_account}");
    let owner_admin = assume(&mut api, &org.admin, &access_role(&owner_account), "bench-setup", None)
        .await
        .with_context(|| format!("STS AssumeRole {} as {}", access_role(&owner_account), identity::ADMIN_USER))?;
    api.send(&owner_admin, &put_parameter_template(addr)).await.with_context(|| {
        format!("SSM PutParameter {PARAMETER} ({TIER}) in {owner_account} ({REGION}) as {}", identity::ACCESS_ROLE)
    })?;
    let owner_role_arn =
        create_role(&mut api, &owner_admin, OWNER_ROLE, &owner_account, &org.management_account, &arn).await?;
    let reader_admin = assume(&mut api, &org.admin, &access_role(&reader_account), "bench-setup", None)
        .await
        .with_context(|| format!("STS AssumeRole {} as {}", access_role(&reader_account), identity::ADMIN_USER))?;
    let reader_role_arn =
        create_role(&mut api, &reader_admin, READER_ROLE, &reader_account, &org.management_account, &arn).await?;

    let owner_issued = Instant::now();
    let owner = assume(&mut api, &org.admin, &owner_role_arn, identity::SESSION_NAME, Some(SESSION))
        .await
        .with_context(|| format!("STS AssumeRole {owner_role_arn} as {}", identity::ADMIN_USER))?;
    let reader_issued = Instant::now();
    let reader = assume(&mut api, &org.admin, &reader_role_arn, identity::SESSION_NAME, Some(SESSION))
        .await
        .with_context(|| format!("STS AssumeRole {reader_role_arn} as {}", identity::ADMIN_USER))?;

    // Without the share, the reader's policy alone must not open another account's parameter.
    let (status, body) = workload::call_as(server, &reader, &get_shared_template(addr, &arn)).await?;
    api.calls += 1;
    let before_share = if (200..300).contains(&status) {
        format!("HTTP {status}: {}", identity::excerpt(&body))
    } else {
        workload::describe_failure(status, &body)
    };
    let before_share_denied = error_code(&body).as_deref() == Some("AccessDeniedException");

    eprintln!("  sharing: CreateResourceShare of {arn} with {}", org.organization_arn);
    let share =
        api.json(&owner_admin, &create_share_template(addr, &arn, &org.organization_arn)).await.with_context(|| {
            format!(
                "RAM CreateResourceShare {SHARE_NAME} ({arn} with {}) in {owner_account} as {}",
                org.organization_arn,
                identity::ACCESS_ROLE
            )
        })?;
    let share_arn = field(&share, &["resourceShare", "resourceShareArn"], "of CreateResourceShare")?.to_owned();

    Ok(Setup {
        owner_account,
        reader_account,
        parameter_arn: arn,
        share_arn,
        owner_role_arn,
        reader_role_arn,
        admin: org.admin.clone(),
        owner,
        owner_issued,
        reader,
        reader_issued,
        before_share,
        before_share_denied,
        took: started.elapsed(),
        calls: api.calls,
    })
}

/// Creates role `name` in `account` (as `creds`, that account's administrator) trusting the
/// management account, with [`read_policy`] inline; its ARN.
async fn create_role(
    api: &mut Api<'_>,
    creds: &Credentials,
    name: &str,
    account: &str,
    management_account: &str,
    parameter_arn: &str,
) -> Result<String> {
    let trust = trust_document(management_account).to_string();
    let role = api
        .iam(creds, "CreateRole", &[("RoleName", name), ("AssumeRolePolicyDocument", &trust)])
        .await
        .with_context(|| format!("IAM CreateRole {name} in {account} as {}", identity::ACCESS_ROLE))?;
    let role_arn = xml_text(&role, "Arn").ok_or_else(|| anyhow!("no Arn in IAM CreateRole's answer: {role}"))?;
    let policy = read_policy(parameter_arn).to_string();
    api.iam(creds, "PutRolePolicy", &[("RoleName", name), ("PolicyName", POLICY_NAME), ("PolicyDocument", &policy)])
        .await
        .with_context(|| format!("IAM PutRolePolicy {POLICY_NAME} on {name} in {account}"))?;
    Ok(role_arn)
}

/// A fresh session of `side`'s role, for runs longer than a session lives.
pub async fn renew(server: &Server, setup: &Setup, side: Side) -> Result<(Credentials, Instant)> {
    let mut api = Api::new(server);
    let role_arn = match side {
        Side::Owner => &setup.owner_role_arn,
        Side::Reader => &setup.reader_role_arn,
    };
    let issued = Instant::now();
    let creds = assume(&mut api, &setup.admin, role_arn, identity::SESSION_NAME, Some(SESSION))
        .await
        .with_context(|| format!("STS AssumeRole {role_arn} as {}", identity::ADMIN_USER))?;
    Ok((creds, issued))
}

/// Whether an answer to a workload's GetParameter is the parameter: HTTP 2xx, the value written
/// and the parameter's ARN; `Err` says what was wrong.
pub fn check_answer(status: u16, body: &[u8], parameter_arn: &str) -> Result<(), String> {
    if !(200..300).contains(&status) {
        return Err(format!("HTTP {status}: {}", identity::excerpt(body)));
    }
    let answer: Value = serde_json::from_slice(body).unwrap_or_default();
    let parameter = &answer["Parameter"];
    if parameter["Value"] != workload::VALUE || parameter["ARN"] != parameter_arn {
        return Err(format!(
            "GetParameter answered {answer} (expected Value {} and ARN {parameter_arn})",
            workload::VALUE
        ));
    }
    Ok(())
}

/// Sends `side`'s request once with its session and checks the answer ([`check_answer`]).
pub async fn probe(server: &Server, setup: &Setup, side: Side) -> Result<Result<(), String>> {
    let template = setup.template(server.addr, side);
    let (creds, _) = setup.session(side);
    let (status, body) = workload::call_as(server, creds, &template).await?;
    Ok(check_answer(status, &body, &setup.parameter_arn))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        "127.0.0.1:4566".parse().unwrap()
    }

    fn input(template: &Template) -> Value {
        serde_json::from_str(&template.body_text()).unwrap()
    }

    #[test]
    fn the_owner_reads_by_name_and_the_reader_by_arn() {
        let arn = parameter_arn("111122223333");
        assert_eq!(arn, "arn:aws:ssm:us-east-1:111122223333:parameter/bench/shared/param");
        let owned = get_owned_template(addr());
        let shared = get_shared_template(addr(), &arn);
        for t in [&owned, &shared] {
            assert_eq!(t.label, "GetParameter");
            let h = t.signed_headers(&Credentials::key("AKIDEXAMPLE", "secret"), 1_700_000_000);
            assert_eq!(h["x-amz-target"], "AmazonSSM.GetParameter");
            assert!(h["authorization"].to_str().unwrap().contains("/us-east-1/ssm/aws4_request"));
        }
        assert_eq!(input(&owned), json!({ "Name": "/bench/shared/param" }));
        assert_eq!(input(&shared), json!({ "Name": arn }));
    }

    #[test]
    fn the_parameter_is_advanced() {
        let t = put_parameter_template(addr());
        assert_eq!(t.label, "PutParameter");
        let put = input(&t);
        assert_eq!(
            (&put["Name"], &put["Tier"], &put["Type"], &put["Value"]),
            (&json!(PARAMETER), &json!("Advanced"), &json!("String"), &json!(workload::VALUE))
        );
    }

    #[test]
    fn the_ram_requests() {
        let arn = parameter_arn("111122223333");
        let org = "arn:aws:organizations::999988887777:organization/o-abcdefghij";
        let share = create_share_template(addr(), &arn, org);
        assert_eq!(share.label, "CreateResourceShare");
        assert_eq!(
            input(&share),
            json!({
                "name": "bench-shared-parameter",
                "resourceArns": [arn],
                "principals": [org],
                "allowExternalPrincipals": false,
            })
        );
        let h = share.signed_headers(&Credentials::key("AKIDEXAMPLE", "secret"), 1_700_000_000);
        assert_eq!(h["content-type"], "application/json");
        assert!(h["authorization"].to_str().unwrap().contains("/us-east-1/ram/aws4_request"));
        let enable = enable_sharing_template(addr());
        assert_eq!(enable.label, "EnableSharingWithAwsOrganization");
        assert_eq!(input(&enable), json!({}));
    }

    #[test]
    fn both_roles_get_the_same_one_statement_policy() {
        let arn = parameter_arn("111122223333");
        let policy = read_policy(&arn);
        let statements = policy["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        assert_eq!(
            (&statements[0]["Effect"], &statements[0]["Action"], &statements[0]["Resource"]),
            (&json!("Allow"), &json!("ssm:GetParameter"), &json!(arn))
        );
        assert_eq!(
            trust_document("999988887777")["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::999988887777:root"
        );
        assert_eq!((Side::Owner.role(), Side::Reader.role()), (OWNER_ROLE, READER_ROLE));
        assert_ne!(OWNER_ROLE, READER_ROLE);
    }

    #[test]
    fn only_the_parameter_passes_the_check() {
        let arn = parameter_arn("111122223333");
        let good = json!({ "Parameter": { "Name": PARAMETER, "Value": workload::VALUE, "ARN": arn, "Version": 1 } });
        assert_eq!(check_answer(200, good.to_string().as_bytes(), &arn), Ok(()));
        let wrong_value = json!({ "Parameter": { "Value": "ami-0bad", "ARN": arn } });
        assert!(check_answer(200, wrong_value.to_string().as_bytes(), &arn).unwrap_err().contains("expected Value"));
        let other = parameter_arn("444455556666");
        let wrong_arn = json!({ "Parameter": { "Value": workload::VALUE, "ARN": other } });
        assert!(check_answer(200, wrong_arn.to_string().as_bytes(), &arn).is_err());
        let denied = br#"{"__type":"AccessDeniedException","message":"no"}"#;
        assert!(check_answer(400, denied, &arn).unwrap_err().starts_with("HTTP 400: "));
        assert!(check_answer(200, b"", &arn).is_err());
    }
}
