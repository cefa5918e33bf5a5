//! CreateAccount, DescribeCreateAccountStatus, ListCreateAccountStatus, and the durable job that
//! makes the account (`organizations.create-account`).
//!
//! CreateAccount answers at once with an `IN_PROGRESS` status and schedules a job due at once on
//! Ingot's clock; the runner picks it up within about a second. The job runs in two steps, each
//! committed on its own:
//!
//! 1. it checks the email (unique across accounts: `EMAIL_ALREADY_EXISTS`) and the account quota
//!    (`ACCOUNT_LIMIT_EXCEEDED`), chooses the new account's id, reserves the email and keeps the
//!    id on the status, then runs again;
//! 2. in the new account, as Ingot's internal principal for Organizations, it calls IAM through
//!    the invoker: CreateRole (`RoleName`, default `OrganizationAccountAccessRole`, trusting the
//!    management account's root for `sts:AssumeRole`), AttachRolePolicy (AWS's
//!    `AdministratorAccess`) and, with all features, CreateServiceLinkedRole for
//!    `organizations.amazonaws.com`. A role that already exists (a repeated run) is success. Then
//!    the account joins the organization under the root (with `FullAWSAccess` while SCPs are
//!    enabled) and the status turns `SUCCEEDED`.
//!
//! Step 2's IAM calls commit on their own, so the id chosen in step 1 keeps a repeated step 2 in
//! the same account. IAM answering any other error fails the request with `INTERNAL_FAILURE`; a
//! build that does not serve IAM at all skips the roles (with a warning) and still makes the
//! account.
//!
//! Quotas: at most [`MAX_IN_PROGRESS`] requests in progress (`ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED`),
//! and [`MAX_ACCOUNTS`] accounts per organization, the management account included. AWS's default
//! account quota is 10 and can be raised on request; Ingot allows 100.

use crate::access;
use crate::errors::OrganizationsError;
use crate::fail;
use crate::ids;
use crate::listing;
use crate::operations::{CreateAccount, DescribeCreateAccountStatus, ListCreateAccountStatus};
use crate::organization::remember_profile;
use crate::shapes;
use crate::store;
use crate::tags;
use crate::types::{
    ConstraintViolationExceptionReason, CreateAccountRequest, CreateAccountResponse,
    DescribeCreateAccountStatusRequest, DescribeCreateAccountStatusResponse, IAMUserAccessToBilling,
    InvalidInputExceptionReason, ListCreateAccountStatusRequest, ListCreateAccountStatusResponse,
};
use crate::Organizations;
use async_trait::async_trait;
use ingot_core::{AccountId, Call, CommonKind, Handler, Principal, RequestContext, Scope, ServiceFailure, Timestamp};
use ingot_identity::organization::{
    create_account_status_key, email_key, membership_key, profile_key, AccountProfileRecord, CreateAccountStatusRecord,
    EmailRecord,
};
use ingot_identity::{AccountRecord, MembershipRecord, OrganizationRecord};
use ingot_jobs::{JobContext, JobError, JobHandler, JobOutcome, JobRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The job kind that finishes a CreateAccount request.
pub const JOB_KIND: &str = "organizations.create-account";
/// Accounts per organization, the management account included (AWS's default is 10).
pub const MAX_ACCOUNTS: usize = 100;
/// CreateAccount requests in progress at a time.
pub const MAX_IN_PROGRESS: usize = 5;
/// The role CreateAccount makes in the new account unless told otherwise.
pub const DEFAULT_ROLE_NAME: &str = "OrganizationAccountAccessRole";
/// The policy attached to that role.
const ADMINISTRATOR_ACCESS: &str = "iam::aws:policy/AdministratorAccess";
/// Role names with this prefix are reserved for service-linked roles.
const RESERVED_ROLE_PREFIX: &str = "AWSServiceRoleFor";

const IN_PROGRESS: &str = "IN_PROGRESS";
const SUCCEEDED: &str = "SUCCEEDED";
const FAILED: &str = "FAILED";

impl Handler<CreateAccount> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: CreateAccountRequest,
    ) -> Result<CreateAccountResponse, OrganizationsError> {
        let request_tags = input.tags.unwrap_or_default();
        let org = access::management::<CreateAccount>(ctx).await?;
        access::resources::<CreateAccount>(ctx, &[], tags::request_conditions(&request_tags)).await?;
        let role_name = input.role_name.unwrap_or_else(|| DEFAULT_ROLE_NAME.to_string());
        if role_name.starts_with(RESERVED_ROLE_PREFIX) {
            return Err(fail::invalid_input(
                InvalidInputExceptionReason::InvalidRoleName,
                "You provided a role name that isn't valid. A role name can't begin with the reserved prefix \
                 'AWSServiceRoleFor'.",
            ));
        }
        tags::validate(&request_tags)?;
        let statuses = store::all_statuses(&ctx.tx, &org).await?;
        if statuses.iter().filter(|s| s.state == IN_PROGRESS).count() >= MAX_IN_PROGRESS {
            return Err(fail::constraint(
                ConstraintViolationExceptionReason::AccountCreationRateLimitExceeded,
                "You attempted to exceed the number of accounts that can be in progress at a time.",
            ));
        }
        let billing = input.iam_user_access_to_billing.unwrap_or(IAMUserAccessToBilling::Allow);
        let status = CreateAccountStatusRecord {
            id: ids::create_account_request_id(ctx.ids()),
            organization_id: org.id.clone(),
            account_name: input.account_name,
            email: input.email,
            role_name,
            iam_user_access_to_billing: shapes::wire_name(&billing),
            tags: tags::stored(request_tags),
            state: IN_PROGRESS.to_string(),
            requested: ctx.now,
            completed: None,
            account_id: None,
            failure_reason: None,
        };
        ctx.tx.insert_new(&create_account_status_key(&org.id, &status.id), ingot_store::encode_record(&status));
        let payload = serde_json::to_value(Payload { organization_id: org.id.clone(), request_id: status.id.clone() })
            .map_err(ingot_core::CommonError::internal)?;
        ingot_jobs::schedule(&ctx.tx, ctx.ids(), ctx.scope, JOB_KIND, ctx.now, payload);
        Ok(CreateAccountResponse { create_account_status: Some(shapes::create_account_status(&status)) })
    }
}

impl Handler<DescribeCreateAccountStatus> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: DescribeCreateAccountStatusRequest,
    ) -> Result<DescribeCreateAccountStatusResponse, OrganizationsError> {
        let org =
            access::management_any::<DescribeCreateAccountStatus>(ctx, ingot_core::Access::any_resource()).await?;
        let key = create_account_status_key(&org.id, &input.create_account_request_id);
        let Some(status) = ctx.tx.get_record::<CreateAccountStatusRecord>(&key).await? else {
            return Err(OrganizationsError::create_account_status_not_found_exception(fail::STATUS_NOT_FOUND));
        };
        Ok(DescribeCreateAccountStatusResponse { create_account_status: Some(shapes::create_account_status(&status)) })
    }
}

impl Handler<ListCreateAccountStatus> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListCreateAccountStatusRequest,
    ) -> Result<ListCreateAccountStatusResponse, OrganizationsError> {
        let org = access::management_any::<ListCreateAccountStatus>(ctx, ingot_core::Access::any_resource()).await?;
        let states: Vec<String> = input.states.unwrap_or_default().iter().map(shapes::wire_name).collect();
        let mut query = "ListCreateAccountStatus".to_string();
        for state in &states {
            query.push(';');
            query.push_str(state);
        }
        let items = store::all_statuses(&ctx.tx, &org)
            .await?
            .into_iter()
            .filter(|s| states.is_empty() || states.contains(&s.state))
            // Oldest request first.
            .map(|s| (format!("{:015}/{}", s.requested.millis().max(0), s.id), shapes::create_account_status(&s)))
            .collect();
        let (statuses, next_token) = listing::page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(ListCreateAccountStatusResponse { create_account_statuses: Some(statuses), next_token })
    }
}

/// What a creation job is given.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Payload {
    organization_id: String,
    request_id: String,
}

/// Runs `organizations.create-account` jobs.
pub struct CreateAccountJob;

#[async_trait]
impl JobHandler for CreateAccountJob {
    fn kind(&self) -> &'static str {
        JOB_KIND
    }

    fn service(&self) -> &'static str {
        "organizations"
    }

    async fn run(&self, job: &JobRecord, ctx: &JobContext<'_>) -> Result<JobOutcome, JobError> {
        let payload: Payload =
            serde_json::from_value(job.payload.clone()).map_err(|e| JobError::new(format!("bad payload: {e}")))?;
        let key = create_account_status_key(&payload.organization_id, &payload.request_id);
        let Some(mut status) = ctx.tx.get_record::<CreateAccountStatusRecord>(&key).await? else {
            // The organization was deleted meanwhile, and its requests with it.
            return Ok(JobOutcome::Done);
        };
        if status.state != IN_PROGRESS {
            return Ok(JobOutcome::Done);
        }
        let Some(org) = store::organization(&ctx.tx, &payload.organization_id).await.map_err(job_error)? else {
            return Ok(JobOutcome::Done);
        };
        let outcome = match status.account_id.clone() {
            None => reserve(ctx, &org, &mut status).await?,
            Some(account) => finish(ctx, &org, &mut status, account).await?,
        };
        ctx.tx.put_record(&key, &status);
        Ok(outcome)
    }
}

fn job_error(e: OrganizationsError) -> JobError {
    JobError::new(e.to_string())
}

/// Marks the request failed with `reason`.
fn failed(status: &mut CreateAccountStatusRecord, now: Timestamp, reason: &str) {
    status.state = FAILED.to_string();
    status.failure_reason = Some(reason.to_string());
    status.completed = Some(now);
}

/// Step 1: check the email and the quota, choose the account id and reserve the email.
async fn reserve(
    ctx: &JobContext<'_>,
    org: &OrganizationRecord,
    status: &mut CreateAccountStatusRecord,
) -> Result<JobOutcome, JobError> {
    let email = email_key(&status.email);
    if ctx.tx.get_record::<EmailRecord>(&email).await?.is_some() {
        failed(status, ctx.now, "EMAIL_ALREADY_EXISTS");
        ctx.record("CreateAccountResult", result_event(status));
        return Ok(JobOutcome::Done);
    }
    if store::all_accounts(&ctx.tx, org).await.map_err(job_error)?.len() >= MAX_ACCOUNTS {
        failed(status, ctx.now, "ACCOUNT_LIMIT_EXCEEDED");
        ctx.record("CreateAccountResult", result_event(status));
        return Ok(JobOutcome::Done);
    }
    let account = new_account_id(ctx).await?;
    ctx.tx.put_record(&email, &EmailRecord { account: account.clone() });
    ctx.tx.put_record(
        &profile_key(&account),
        &AccountProfileRecord { email: status.email.clone(), name: status.account_name.clone() },
    );
    status.account_id = Some(account);
    Ok(JobOutcome::RunAgainAt(ctx.now))
}

/// A 12-digit id no account Organizations knows has.
async fn new_account_id(ctx: &JobContext<'_>) -> Result<AccountId, JobError> {
    for _ in 0..16 {
        let Some(candidate) = AccountId::parse(&ctx.ids().account_id()) else { continue };
        let taken = ctx.tx.get(&profile_key(&candidate)).await?.is_some()
            || ctx.tx.get(&membership_key(&candidate)).await?.is_some();
        if !taken {
            return Ok(candidate);
        }
    }
    Err(JobError::new("no free account id found"))
}

/// Step 2: make the account's roles through IAM, then let the account join.
async fn finish(
    ctx: &JobContext<'_>,
    org: &OrganizationRecord,
    status: &mut CreateAccountStatusRecord,
    account: AccountId,
) -> Result<JobOutcome, JobError> {
    match make_roles(ctx, org, status, &account).await? {
        Roles::Made => {}
        Roles::IamNotServed => {
            tracing::warn!(account = %account, "IAM is not served: the new account's roles were not made");
        }
        Roles::Failed(detail) => {
            tracing::warn!(account = %account, detail, "IAM refused the new account's roles");
            failed(status, ctx.now, "INTERNAL_FAILURE");
            // The email is free again; the id was never an account.
            ctx.tx.delete(&email_key(&status.email));
            ctx.tx.delete(&profile_key(&account));
            ctx.record("CreateAccountResult", result_event(status));
            return Ok(JobOutcome::Done);
        }
    }
    let arns = crate::ids::OrgArns::of(org);
    let record = AccountRecord {
        id: account.clone(),
        arn: arns.account(account.as_str()),
        email: status.email.clone(),
        name: status.account_name.clone(),
        status: "ACTIVE".to_string(),
        joined_method: "CREATED".to_string(),
        joined: ctx.now,
        parent_id: org.root_id.clone(),
        policies: store::initial_policies(org),
        tags: status.tags.clone(),
    };
    ctx.tx.put_record(
        &membership_key(&account),
        &MembershipRecord { organization_id: org.id.clone(), management_account: org.management_account.clone() },
    );
    store::save_account(&ctx.tx, org, &record);
    remember_profile(
        &ctx.tx,
        &account,
        &AccountProfileRecord { email: status.email.clone(), name: status.account_name.clone() },
    )
    .await
    .map_err(job_error)?;
    status.state = SUCCEEDED.to_string();
    status.completed = Some(ctx.now);
    ctx.record("CreateAccountResult", result_event(status));
    Ok(JobOutcome::Done)
}

/// How the roles of a new account came out.
enum Roles {
    Made,
    IamNotServed,
    Failed(String),
}

/// How one IAM call came out.
enum Answer {
    Done,
    NotServed,
    Failed(String),
}

fn classify(result: Result<serde_json::Value, ServiceFailure>) -> Result<Answer, JobError> {
    match result {
        Ok(_) => Ok(Answer::Done),
        Err(ServiceFailure::Modeled(m)) if m.code == "EntityAlreadyExists" => Ok(Answer::Done),
        // A service-linked role that exists is "taken".
        Err(ServiceFailure::Modeled(m))
            if m.code == "InvalidInput" && m.message.as_deref().is_some_and(|t| t.contains("has been taken")) =>
        {
            Ok(Answer::Done)
        }
        Err(ServiceFailure::Common(c))
            if matches!(c.kind, CommonKind::NotImplemented | CommonKind::UnknownOperation) =>
        {
            Ok(Answer::NotServed)
        }
        // Contention: try the job again later.
        Err(ServiceFailure::Common(c)) if c.kind == CommonKind::ServiceUnavailable => Err(JobError::new(c.message)),
        Err(other) => Ok(Answer::Failed(format!("{}: {}", other.code_for_audit(), other.message().unwrap_or("")))),
    }
}

/// The trust policy of the role the management account assumes into the new account.
pub fn access_role_trust_policy(partition: &str, management: &AccountId) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:{partition}:iam::{management}:root")},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

async fn make_roles(
    ctx: &JobContext<'_>,
    org: &OrganizationRecord,
    status: &CreateAccountStatusRecord,
    account: &AccountId,
) -> Result<Roles, JobError> {
    let scope = Scope::new(account.clone(), ctx.scope.region.clone());
    let principal = Principal::service("organizations", account.clone());
    let partition = scope.partition();
    let administrator_access = ["arn:", partition, ":", ADMINISTRATOR_ACCESS].concat();
    let mut calls = vec![
        (
            "CreateRole",
            json!({
                "RoleName": status.role_name,
                "AssumeRolePolicyDocument": access_role_trust_policy(partition, &org.management_account),
            }),
        ),
        ("AttachRolePolicy", json!({"RoleName": status.role_name, "PolicyArn": administrator_access})),
    ];
    if org.feature_set == "ALL" {
        calls.push(("CreateServiceLinkedRole", json!({"AWSServiceName": "organizations.amazonaws.com"})));
    }
    for (operation, input) in calls {
        let call = Call { service: "iam", operation, scope: &scope, principal: &principal, origin: ctx.origin };
        match classify(ctx.env.invoker.invoke(ctx.env, call, input).await)? {
            Answer::Done => {}
            Answer::NotServed => return Ok(Roles::IamNotServed),
            Answer::Failed(detail) => return Ok(Roles::Failed(format!("{operation}: {detail}"))),
        }
    }
    Ok(Roles::Made)
}

/// What the audit trail records of a finished request (CloudTrail's `CreateAccountResult`).
fn result_event(status: &CreateAccountStatusRecord) -> serde_json::Value {
    serde_json::to_value(shapes::create_account_status(status)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::CreateAccountState;
    use ingot_core::{CommonError, ModeledError};

    fn modeled(code: &'static str, message: &str) -> ServiceFailure {
        ServiceFailure::Modeled(ModeledError {
            code,
            status: 409,
            sender_fault: true,
            message: Some(message.to_string()),
            fields: Default::default(),
        })
    }

    #[test]
    fn a_role_that_exists_counts_as_made() {
        assert!(matches!(classify(Err(modeled("EntityAlreadyExists", "x"))), Ok(Answer::Done)));
        let taken =
            modeled("InvalidInput", "Service role name AWSServiceRoleForOrganizations has been taken in this account");
        assert!(matches!(classify(Err(taken)), Ok(Answer::Done)));
        assert!(matches!(classify(Ok(json!({}))), Ok(Answer::Done)));
    }

    #[test]
    fn other_iam_errors_fail_the_request_and_contention_retries_the_job() {
        assert!(matches!(classify(Err(modeled("MalformedPolicyDocument", "x"))), Ok(Answer::Failed(_))));
        let missing = ServiceFailure::Common(CommonError::new(CommonKind::NotImplemented, "no iam"));
        assert!(matches!(classify(Err(missing)), Ok(Answer::NotServed)));
        let busy = ServiceFailure::Common(CommonError::new(CommonKind::ServiceUnavailable, "busy"));
        assert!(classify(Err(busy)).is_err());
    }

    #[test]
    fn the_access_role_trusts_the_management_accounts_root() {
        let policy = access_role_trust_policy("aws", &AccountId::parse("111111111111").unwrap());
        let value: serde_json::Value = serde_json::from_str(&policy).unwrap();
        assert_eq!(value["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::111111111111:root");
        assert_eq!(value["Statement"][0]["Action"], "sts:AssumeRole");
        assert_eq!(value["Version"], "2012-10-17");
    }

    #[test]
    fn a_status_reports_the_account_only_once_it_exists() {
        let mut status = CreateAccountStatusRecord {
            id: "car-0123456789".into(),
            organization_id: "o-x".into(),
            account_name: "dev".into(),
            email: "dev@example.com".into(),
            role_name: DEFAULT_ROLE_NAME.into(),
            iam_user_access_to_billing: "ALLOW".into(),
            tags: vec![],
            state: IN_PROGRESS.into(),
            requested: Timestamp(1_000),
            completed: None,
            account_id: AccountId::parse("222222222222"),
            failure_reason: None,
        };
        let shown = shapes::create_account_status(&status);
        assert_eq!(shown.state, Some(CreateAccountState::InProgress));
        assert_eq!(shown.account_id, None);
        status.state = SUCCEEDED.into();
        assert_eq!(shapes::create_account_status(&status).account_id.as_deref(), Some("222222222222"));
        failed(&mut status, Timestamp(2_000), "EMAIL_ALREADY_EXISTS");
        let shown = shapes::create_account_status(&status);
        assert_eq!(shown.state, Some(CreateAccountState::Failed));
        assert!(shown.failure_reason.is_some());
    }
}
