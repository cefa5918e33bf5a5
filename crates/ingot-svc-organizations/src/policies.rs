//! Policies: EnablePolicyType, CreatePolicy, UpdatePolicy, DescribePolicy, DeletePolicy,
//! AttachPolicy, DetachPolicy, ListPolicies, ListPoliciesForTarget, ListTargetsForPolicy.
//!
//! Ingot serves service control policies, the one type its authorizer enforces. Other policy
//! types (tag, backup, resource control, …) are refused with
//! `PolicyTypeNotAvailableForOrganizationException`, and listings filtered by them are empty.
//!
//! AWS's `FullAWSAccess` (`p-FullAWSAccess`) is data, not a record: it is attached to the root,
//! every OU and every account while SCPs are enabled, can be detached and attached again, and
//! cannot be changed or deleted (`IMMUTABLE_POLICY`). Attachments live on their target (the
//! organization record for the root, the OU, the account), where the authorizer reads them.
//! Limits: content at most 5,120 characters; at most five SCPs attached directly to one target,
//! and at least one (`MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED`); 10,000 policies per type.

use crate::access;
use crate::errors::OrganizationsError;
use crate::fail;
use crate::ids::{self, kind_of, IdKind, OrgArns};
use crate::listing;
use crate::operations::{
    AttachPolicy, CreatePolicy, DeletePolicy, DescribePolicy, DetachPolicy, EnablePolicyType, ListPolicies,
    ListPoliciesForTarget, ListTargetsForPolicy, UpdatePolicy,
};
use crate::shapes;
use crate::store;
use crate::tags;
use crate::types::{
    AttachPolicyRequest, ConstraintViolationExceptionReason, CreatePolicyRequest, CreatePolicyResponse,
    DeletePolicyRequest, DescribePolicyRequest, DescribePolicyResponse, DetachPolicyRequest, EnablePolicyTypeRequest,
    EnablePolicyTypeResponse, ListPoliciesForTargetRequest, ListPoliciesForTargetResponse, ListPoliciesRequest,
    ListPoliciesResponse, ListTargetsForPolicyRequest, ListTargetsForPolicyResponse, Policy, PolicySummary,
    PolicyTargetSummary, PolicyType, TargetType, UpdatePolicyRequest, UpdatePolicyResponse,
};
use crate::Organizations;
use ingot_core::{Empty, Handler, Operation, RequestContext};
use ingot_identity::organization::{
    policy_key, policy_name_key, NameIndexRecord, PolicyTypeStatus, FULL_AWS_ACCESS_ID, SERVICE_CONTROL_POLICY,
};
use ingot_identity::{AccountRecord, OrgPolicyRecord, OrganizationRecord, OuRecord};
use ingot_policy::engine::{Policy as PolicyDocument, PolicyKind};

/// Characters an SCP may hold.
pub const MAX_CONTENT_CHARS: usize = 5_120;
/// SCPs attached directly to one root, OU or account.
pub const MAX_ATTACHMENTS: usize = 5;
/// Policies of one type in an organization.
pub const MAX_POLICIES: usize = 10_000;

/// Whether Ingot serves policies of `policy_type`.
fn supported(policy_type: PolicyType) -> bool {
    policy_type == PolicyType::ServiceControlPolicy
}

fn not_available() -> OrganizationsError {
    OrganizationsError::policy_type_not_available_for_organization_exception(fail::POLICY_TYPE_NOT_AVAILABLE)
}

/// The ARNs `Op` is authorized on for policy `id`: none (so `*`) for AWS's `FullAWSAccess`, whose
/// ARN names the account `aws` (see `access.rs`).
fn policy_arns(org: &OrganizationRecord, id: &str) -> Vec<String> {
    if id == FULL_AWS_ACCESS_ID {
        Vec::new()
    } else {
        vec![OrgArns::of(org).policy(SERVICE_CONTROL_POLICY, id)]
    }
}

/// `organizations:PolicyType`, for the authorizer.
fn type_condition() -> Vec<(String, Vec<String>)> {
    vec![("organizations:PolicyType".to_string(), vec![SERVICE_CONTROL_POLICY.to_string()])]
}

/// A policy of the organization, or AWS's `FullAWSAccess`.
enum Found {
    FullAwsAccess,
    Customer(OrgPolicyRecord),
}

impl Found {
    fn summary(&self, org: &OrganizationRecord) -> PolicySummary {
        match self {
            Found::FullAwsAccess => shapes::full_aws_access_summary(OrgArns::of(org).partition),
            Found::Customer(record) => shapes::policy_summary(record),
        }
    }

    fn policy(&self, org: &OrganizationRecord) -> Policy {
        match self {
            Found::FullAwsAccess => shapes::full_aws_access(OrgArns::of(org).partition),
            Found::Customer(record) => shapes::policy(record),
        }
    }
}

async fn find_policy(
    ctx: &RequestContext<'_>,
    org: &OrganizationRecord,
    id: &str,
) -> Result<Found, OrganizationsError> {
    if id == FULL_AWS_ACCESS_ID {
        return Ok(Found::FullAwsAccess);
    }
    match store::policy(&ctx.tx, org, id).await? {
        Some(record) => Ok(Found::Customer(record)),
        None => Err(OrganizationsError::policy_not_found_exception(fail::POLICY_NOT_FOUND)),
    }
}

/// Checks an SCP's size and grammar.
pub fn validate_content(content: &str) -> Result<(), OrganizationsError> {
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(fail::constraint(
            ConstraintViolationExceptionReason::PolicyContentLimitExceeded,
            "You attempted to create a policy that is larger than the maximum size.",
        ));
    }
    match PolicyDocument::parse(content, PolicyKind::ServiceControl) {
        Ok(_) => Ok(()),
        Err(e) => Err(OrganizationsError::malformed_policy_document_exception(e.message)),
    }
}

/// A root, OU or account a policy is attached to.
enum Target {
    Root,
    Ou(OuRecord),
    Account(AccountRecord),
}

impl Target {
    fn policies<'a>(&'a self, org: &'a OrganizationRecord) -> &'a [String] {
        match self {
            Target::Root => &org.root_policies,
            Target::Ou(ou) => &ou.policies,
            Target::Account(account) => &account.policies,
        }
    }

    fn policies_mut<'a>(&'a mut self, org: &'a mut OrganizationRecord) -> &'a mut Vec<String> {
        match self {
            Target::Root => &mut org.root_policies,
            Target::Ou(ou) => &mut ou.policies,
            Target::Account(account) => &mut account.policies,
        }
    }

    fn save(&self, ctx: &RequestContext<'_>, org: &OrganizationRecord) {
        match self {
            Target::Root => store::save_organization(&ctx.tx, org),
            Target::Ou(ou) => store::save_ou(&ctx.tx, org, ou),
            Target::Account(account) => store::save_account(&ctx.tx, org, account),
        }
    }
}

async fn find_target(
    ctx: &RequestContext<'_>,
    org: &OrganizationRecord,
    id: &str,
) -> Result<Target, OrganizationsError> {
    let found = match kind_of(id) {
        IdKind::Root => (id == org.root_id).then_some(Target::Root),
        IdKind::OrganizationalUnit => store::ou(&ctx.tx, org, id).await?.map(Target::Ou),
        IdKind::Account => store::account(&ctx.tx, org, id).await?.map(Target::Account),
        IdKind::Other => None,
    };
    found.ok_or_else(|| OrganizationsError::target_not_found_exception(fail::TARGET_NOT_FOUND))
}

/// The organization, after authorizing `Op` on policy `policy_id` and target `target_id`.
async fn for_attachment<Op: Operation>(
    ctx: &RequestContext<'_>,
    policy_id: &str,
    target_id: &str,
) -> Result<OrganizationRecord, OrganizationsError> {
    let org = access::management::<Op>(ctx).await?;
    let mut arns = policy_arns(&org, policy_id);
    arns.extend(OrgArns::of(&org).target(target_id));
    access::resources::<Op>(ctx, &arns, type_condition()).await?;
    Ok(org)
}

/// The organization, after authorizing `Op` on policy `policy_id`.
async fn for_policy<Op: Operation>(
    ctx: &RequestContext<'_>,
    policy_id: &str,
) -> Result<OrganizationRecord, OrganizationsError> {
    let org = access::management::<Op>(ctx).await?;
    access::resources::<Op>(ctx, &policy_arns(&org, policy_id), Vec::new()).await?;
    Ok(org)
}

impl Handler<EnablePolicyType> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: EnablePolicyTypeRequest,
    ) -> Result<EnablePolicyTypeResponse, OrganizationsError> {
        let mut org = access::management::<EnablePolicyType>(ctx).await?;
        let arns: Vec<String> = match kind_of(&input.root_id) {
            IdKind::Root => vec![OrgArns::of(&org).root(&input.root_id)],
            _ => Vec::new(),
        };
        let policy_type = shapes::wire_name(&input.policy_type);
        let condition = vec![("organizations:PolicyType".to_string(), vec![policy_type.clone()])];
        access::resources::<EnablePolicyType>(ctx, &arns, condition).await?;
        if input.root_id != org.root_id {
            return Err(OrganizationsError::root_not_found_exception(fail::ROOT_NOT_FOUND));
        }
        if !supported(input.policy_type) || org.feature_set != "ALL" {
            return Err(not_available());
        }
        if org.policy_type_enabled(&policy_type) {
            return Err(OrganizationsError::policy_type_already_enabled_exception(fail::POLICY_TYPE_ALREADY_ENABLED));
        }
        org.policy_types.retain(|t| t.policy_type != policy_type);
        org.policy_types.push(PolicyTypeStatus { policy_type, status: "ENABLED".to_string() });
        // Enabling SCPs starts every root, OU and account from FullAWSAccess.
        let full = FULL_AWS_ACCESS_ID.to_string();
        if !org.root_policies.contains(&full) {
            org.root_policies.push(full.clone());
        }
        for mut ou in store::all_ous(&ctx.tx, &org).await? {
            if !ou.policies.contains(&full) {
                ou.policies.push(full.clone());
                store::save_ou(&ctx.tx, &org, &ou);
            }
        }
        for mut account in store::all_accounts(&ctx.tx, &org).await? {
            if !account.policies.contains(&full) {
                account.policies.push(full.clone());
                store::save_account(&ctx.tx, &org, &account);
            }
        }
        store::save_organization(&ctx.tx, &org);
        Ok(EnablePolicyTypeResponse { root: Some(shapes::root(&org)) })
    }
}

impl Handler<CreatePolicy> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: CreatePolicyRequest,
    ) -> Result<CreatePolicyResponse, OrganizationsError> {
        let request_tags = input.tags.unwrap_or_default();
        let org = access::management::<CreatePolicy>(ctx).await?;
        let mut conditions = tags::request_conditions(&request_tags);
        conditions.push(("organizations:PolicyType".to_string(), vec![shapes::wire_name(&input.r#type)]));
        access::resources::<CreatePolicy>(ctx, &[], conditions).await?;
        if !supported(input.r#type) || org.feature_set != "ALL" {
            return Err(not_available());
        }
        tags::validate(&request_tags)?;
        validate_content(&input.content)?;
        let name_key = policy_name_key(&org.id, SERVICE_CONTROL_POLICY, &input.name);
        if ctx.tx.get_record::<NameIndexRecord>(&name_key).await?.is_some() {
            return Err(OrganizationsError::duplicate_policy_exception(fail::DUPLICATE_POLICY));
        }
        if store::all_policies(&ctx.tx, &org).await?.len() >= MAX_POLICIES {
            return Err(fail::constraint(
                ConstraintViolationExceptionReason::PolicyNumberLimitExceeded,
                "You have exceeded the number of policies of this type allowed in an organization.",
            ));
        }
        let id = ids::policy_id(ctx.ids());
        let record = OrgPolicyRecord {
            arn: OrgArns::of(&org).policy(SERVICE_CONTROL_POLICY, &id),
            id: id.clone(),
            name: input.name,
            description: input.description,
            policy_type: SERVICE_CONTROL_POLICY.to_string(),
            content: input.content,
            tags: tags::stored(request_tags),
        };
        ctx.tx.insert_new(&policy_key(&org.id, &id), ingot_store::encode_record(&record));
        ctx.tx.put_record(&name_key, &NameIndexRecord { id });
        Ok(CreatePolicyResponse { policy: Some(shapes::policy(&record)) })
    }
}

impl Handler<UpdatePolicy> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: UpdatePolicyRequest,
    ) -> Result<UpdatePolicyResponse, OrganizationsError> {
        let org = for_policy::<UpdatePolicy>(ctx, &input.policy_id).await?;
        let Found::Customer(mut record) = find_policy(ctx, &org, &input.policy_id).await? else {
            return Err(fail::immutable_policy());
        };
        if let Some(content) = input.content {
            validate_content(&content)?;
            record.content = content;
        }
        if let Some(description) = input.description {
            record.description = description;
        }
        if let Some(name) = input.name.filter(|n| *n != record.name) {
            let new_key = policy_name_key(&org.id, &record.policy_type, &name);
            if ctx.tx.get_record::<NameIndexRecord>(&new_key).await?.is_some() {
                return Err(OrganizationsError::duplicate_policy_exception(fail::DUPLICATE_POLICY));
            }
            ctx.tx.delete(&policy_name_key(&org.id, &record.policy_type, &record.name));
            ctx.tx.put_record(&new_key, &NameIndexRecord { id: record.id.clone() });
            record.name = name;
        }
        store::save_policy(&ctx.tx, &org, &record);
        Ok(UpdatePolicyResponse { policy: Some(shapes::policy(&record)) })
    }
}

impl Handler<DescribePolicy> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: DescribePolicyRequest,
    ) -> Result<DescribePolicyResponse, OrganizationsError> {
        let org = for_policy::<DescribePolicy>(ctx, &input.policy_id).await?;
        let found = find_policy(ctx, &org, &input.policy_id).await?;
        Ok(DescribePolicyResponse { policy: Some(found.policy(&org)) })
    }
}

/// Every root, OU and account `policy_id` is attached to.
async fn targets_of(
    ctx: &RequestContext<'_>,
    org: &OrganizationRecord,
    policy_id: &str,
) -> Result<Vec<PolicyTargetSummary>, OrganizationsError> {
    let arns = OrgArns::of(org);
    let attached = |policies: &[String]| policies.iter().any(|p| p == policy_id);
    let mut targets = Vec::new();
    if attached(&org.root_policies) {
        targets.push(PolicyTargetSummary {
            target_id: Some(org.root_id.clone()),
            arn: Some(org.root_arn.clone()),
            name: Some(org.root_name.clone()),
            r#type: Some(TargetType::Root),
        });
    }
    for ou in store::all_ous(&ctx.tx, org).await?.into_iter().filter(|ou| attached(&ou.policies)) {
        targets.push(PolicyTargetSummary {
            target_id: Some(ou.id.clone()),
            arn: Some(arns.ou(&ou.id)),
            name: Some(ou.name),
            r#type: Some(TargetType::OrganizationalUnit),
        });
    }
    for account in store::all_accounts(&ctx.tx, org).await?.into_iter().filter(|a| attached(&a.policies)) {
        targets.push(PolicyTargetSummary {
            target_id: Some(account.id.to_string()),
            arn: Some(account.arn),
            name: Some(account.name),
            r#type: Some(TargetType::Account),
        });
    }
    Ok(targets)
}

impl Handler<DeletePolicy> for Organizations {
    async fn handle(&self, ctx: &RequestContext<'_>, input: DeletePolicyRequest) -> Result<Empty, OrganizationsError> {
        let org = for_policy::<DeletePolicy>(ctx, &input.policy_id).await?;
        let Found::Customer(record) = find_policy(ctx, &org, &input.policy_id).await? else {
            return Err(fail::immutable_policy());
        };
        if !targets_of(ctx, &org, &record.id).await?.is_empty() {
            return Err(OrganizationsError::policy_in_use_exception(fail::POLICY_IN_USE));
        }
        ctx.tx.delete(&policy_key(&org.id, &record.id));
        ctx.tx.delete(&policy_name_key(&org.id, &record.policy_type, &record.name));
        Ok(Empty {})
    }
}

impl Handler<AttachPolicy> for Organizations {
    async fn handle(&self, ctx: &RequestContext<'_>, input: AttachPolicyRequest) -> Result<Empty, OrganizationsError> {
        let mut org = for_attachment::<AttachPolicy>(ctx, &input.policy_id, &input.target_id).await?;
        find_policy(ctx, &org, &input.policy_id).await?;
        let mut target = find_target(ctx, &org, &input.target_id).await?;
        if !store::scps_enabled(&org) {
            return Err(OrganizationsError::policy_type_not_enabled_exception(fail::POLICY_TYPE_NOT_ENABLED));
        }
        let policies = target.policies(&org);
        if policies.contains(&input.policy_id) {
            return Err(OrganizationsError::duplicate_policy_attachment_exception(fail::DUPLICATE_ATTACHMENT));
        }
        if policies.len() >= MAX_ATTACHMENTS {
            return Err(fail::too_many_attachments());
        }
        target.policies_mut(&mut org).push(input.policy_id);
        target.save(ctx, &org);
        Ok(Empty {})
    }
}

impl Handler<DetachPolicy> for Organizations {
    async fn handle(&self, ctx: &RequestContext<'_>, input: DetachPolicyRequest) -> Result<Empty, OrganizationsError> {
        let mut org = for_attachment::<DetachPolicy>(ctx, &input.policy_id, &input.target_id).await?;
        find_policy(ctx, &org, &input.policy_id).await?;
        let mut target = find_target(ctx, &org, &input.target_id).await?;
        let policies = target.policies(&org);
        if !policies.contains(&input.policy_id) {
            return Err(OrganizationsError::policy_not_attached_exception(fail::POLICY_NOT_ATTACHED));
        }
        if store::scps_enabled(&org) && policies.len() <= 1 {
            return Err(fail::last_attachment());
        }
        target.policies_mut(&mut org).retain(|p| *p != input.policy_id);
        target.save(ctx, &org);
        Ok(Empty {})
    }
}

impl Handler<ListPolicies> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListPoliciesRequest,
    ) -> Result<ListPoliciesResponse, OrganizationsError> {
        let filter = shapes::wire_name(&input.filter);
        let condition = vec![("organizations:PolicyType".to_string(), vec![filter.clone()])];
        let org = access::management::<ListPolicies>(ctx).await?;
        access::resources::<ListPolicies>(ctx, &[], condition).await?;
        let mut items = Vec::new();
        if supported(input.filter) && org.feature_set == "ALL" {
            // AWS's own policies first, then the organization's by id.
            items.push(("0".to_string(), Found::FullAwsAccess.summary(&org)));
            for record in store::all_policies(&ctx.tx, &org).await?.into_iter().filter(|p| p.policy_type == filter) {
                items.push((["1/", record.id.as_str()].concat(), shapes::policy_summary(&record)));
            }
        }
        let query = ["ListPolicies;", filter.as_str()].concat();
        let (policies, next_token) = listing::page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(ListPoliciesResponse { policies: Some(policies), next_token })
    }
}

impl Handler<ListPoliciesForTarget> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListPoliciesForTargetRequest,
    ) -> Result<ListPoliciesForTargetResponse, OrganizationsError> {
        let filter = shapes::wire_name(&input.filter);
        let condition = vec![("organizations:PolicyType".to_string(), vec![filter.clone()])];
        let org = access::management::<ListPoliciesForTarget>(ctx).await?;
        let arns: Vec<String> = OrgArns::of(&org).target(&input.target_id).into_iter().collect();
        access::resources::<ListPoliciesForTarget>(ctx, &arns, condition).await?;
        let target = find_target(ctx, &org, &input.target_id).await?;
        let mut items = Vec::new();
        if supported(input.filter) {
            for id in target.policies(&org) {
                let found = match find_policy(ctx, &org, id).await {
                    Ok(found) => found,
                    // An attachment of a policy deleted under it is not reported.
                    Err(OrganizationsError::PolicyNotFoundException(_)) => continue,
                    Err(other) => return Err(other),
                };
                let key = if id == FULL_AWS_ACCESS_ID { "0".to_string() } else { ["1/", id.as_str()].concat() };
                items.push((key, found.summary(&org)));
            }
        }
        let query = ["ListPoliciesForTarget;", input.target_id.as_str(), ";", filter.as_str()].concat();
        let (policies, next_token) = listing::page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(ListPoliciesForTargetResponse { policies: Some(policies), next_token })
    }
}

impl Handler<ListTargetsForPolicy> for Organizations {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListTargetsForPolicyRequest,
    ) -> Result<ListTargetsForPolicyResponse, OrganizationsError> {
        let org = for_policy::<ListTargetsForPolicy>(ctx, &input.policy_id).await?;
        find_policy(ctx, &org, &input.policy_id).await?;
        let items = targets_of(ctx, &org, &input.policy_id)
            .await?
            .into_iter()
            .map(|t| (t.target_id.clone().unwrap_or_default(), t))
            .collect();
        let query = ["ListTargetsForPolicy;", input.policy_id.as_str()].concat();
        let (targets, next_token) = listing::page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(ListTargetsForPolicyResponse { targets: Some(targets), next_token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scp_content_must_be_a_2012_policy_without_principal() {
        assert!(validate_content(ingot_identity::organization::FULL_AWS_ACCESS_CONTENT).is_ok());
        let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:*","Resource":"*"}]}"#;
        assert!(validate_content(deny).is_ok());
        for bad in [
            "not json",
            r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#,
            r#"{"Version":"2008-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}"#,
        ] {
            assert!(
                matches!(validate_content(bad), Err(OrganizationsError::MalformedPolicyDocumentException(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn scp_content_is_limited_to_5120_characters() {
        let padding = " ".repeat(MAX_CONTENT_CHARS);
        let big = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"*","Resource":"*"}}]}}{padding}"#
        );
        assert!(matches!(validate_content(&big), Err(OrganizationsError::ConstraintViolationException(_))));
    }

    #[test]
    fn only_service_control_policies_are_served() {
        assert!(supported(PolicyType::ServiceControlPolicy));
        assert!(!supported(PolicyType::TagPolicy));
        assert!(!supported(PolicyType::ResourceControlPolicy));
    }
}
