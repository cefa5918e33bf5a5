//! Records as the API reports them.

use crate::ids::{aws_managed_policy_arn, OrgArns};
use crate::store::{self, OuTree};
use crate::types::{
    Account, AccountJoinedMethod, AccountState, AccountStatus, CreateAccountFailureReason, CreateAccountState,
    CreateAccountStatus, Organization, OrganizationFeatureSet, OrganizationalUnit, Policy, PolicySummary, PolicyType,
    PolicyTypeStatus, PolicyTypeSummary, Root,
};
use ingot_identity::organization::{
    CreateAccountStatusRecord, FULL_AWS_ACCESS_CONTENT, FULL_AWS_ACCESS_ID, SERVICE_CONTROL_POLICY,
};
use ingot_identity::{AccountRecord, OrgPolicyRecord, OrganizationRecord, OuRecord};

/// `FullAWSAccess`'s name and description.
pub const FULL_AWS_ACCESS_NAME: &str = "FullAWSAccess";
pub const FULL_AWS_ACCESS_DESCRIPTION: &str = "Allows access to every operation";

/// A wire enum from its stored string (serde names are the wire values).
pub fn wire_enum<T: serde::de::DeserializeOwned>(value: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(value.to_string())).ok()
}

/// The wire name of a wire enum value.
pub fn wire_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

pub fn feature_set(org: &OrganizationRecord) -> Option<OrganizationFeatureSet> {
    wire_enum(&org.feature_set)
}

fn policy_type_summaries(org: &OrganizationRecord) -> Vec<PolicyTypeSummary> {
    org.policy_types
        .iter()
        .filter_map(|t| {
            Some(PolicyTypeSummary {
                r#type: Some(wire_enum::<PolicyType>(&t.policy_type)?),
                status: Some(wire_enum::<PolicyTypeStatus>(&t.status)?),
            })
        })
        .collect()
}

pub fn organization(org: &OrganizationRecord) -> Organization {
    let arns = OrgArns::of(org);
    // Deprecated: only SCPs are ever listed here; ListRoots is authoritative.
    let available =
        policy_type_summaries(org).into_iter().filter(|t| t.r#type == Some(PolicyType::ServiceControlPolicy)).collect();
    Organization {
        id: Some(org.id.clone()),
        arn: Some(org.arn.clone()),
        feature_set: feature_set(org),
        master_account_arn: Some(arns.account(org.management_account.as_str())),
        master_account_id: Some(org.management_account.to_string()),
        master_account_email: Some(org.management_email.clone()),
        available_policy_types: Some(available),
    }
}

pub fn root(org: &OrganizationRecord) -> Root {
    Root {
        id: Some(org.root_id.clone()),
        arn: Some(org.root_arn.clone()),
        name: Some(org.root_name.clone()),
        policy_types: Some(policy_type_summaries(org)),
    }
}

/// An account, with its path (`o-…/r-…/ou-…/ACCOUNT/`).
pub fn account(record: &AccountRecord, parent_path: &str) -> Account {
    Account {
        id: Some(record.id.to_string()),
        arn: Some(record.arn.clone()),
        email: Some(record.email.clone()),
        name: Some(record.name.clone()),
        status: wire_enum::<AccountStatus>(&record.status).or(Some(AccountStatus::Active)),
        state: wire_enum::<AccountState>(&record.status).or(Some(AccountState::Active)),
        paths: Some(vec![[parent_path, record.id.as_str(), "/"].concat()]),
        joined_method: wire_enum::<AccountJoinedMethod>(&record.joined_method),
        joined_timestamp: Some(record.joined),
    }
}

/// An account, its path computed from the OU tree.
pub fn account_in_tree(org: &OrganizationRecord, tree: &OuTree, record: &AccountRecord) -> Account {
    account(record, &tree.path(org, &record.parent_id))
}

/// An OU with its path (`o-…/r-…/…/ou-…/`).
pub fn ou(record: &OuRecord, parent_path: &str) -> OrganizationalUnit {
    OrganizationalUnit {
        id: Some(record.id.clone()),
        arn: Some(record.arn.clone()),
        name: Some(record.name.clone()),
        path: Some([parent_path, record.id.as_str(), "/"].concat()),
    }
}

pub fn ou_in_tree(org: &OrganizationRecord, tree: &OuTree, record: &OuRecord) -> OrganizationalUnit {
    ou(record, &tree.path(org, &record.parent_id))
}

/// An OU with its path, read OU by OU up to the root.
pub async fn ou_with_path(
    tx: &ingot_store::Tx,
    org: &OrganizationRecord,
    record: &OuRecord,
) -> Result<OrganizationalUnit, crate::errors::OrganizationsError> {
    let chain = store::ou_chain(tx, org, &record.parent_id).await?;
    Ok(ou(record, &store::path_of(org, &chain)))
}

pub fn policy_summary(record: &OrgPolicyRecord) -> PolicySummary {
    PolicySummary {
        id: Some(record.id.clone()),
        arn: Some(record.arn.clone()),
        name: Some(record.name.clone()),
        description: Some(record.description.clone()),
        r#type: wire_enum::<PolicyType>(&record.policy_type),
        aws_managed: Some(false),
    }
}

pub fn policy(record: &OrgPolicyRecord) -> Policy {
    Policy { policy_summary: Some(policy_summary(record)), content: Some(record.content.clone()) }
}

pub fn full_aws_access_summary(partition: &str) -> PolicySummary {
    PolicySummary {
        id: Some(FULL_AWS_ACCESS_ID.to_string()),
        arn: Some(aws_managed_policy_arn(partition, SERVICE_CONTROL_POLICY, FULL_AWS_ACCESS_ID)),
        name: Some(FULL_AWS_ACCESS_NAME.to_string()),
        description: Some(FULL_AWS_ACCESS_DESCRIPTION.to_string()),
        r#type: Some(PolicyType::ServiceControlPolicy),
        aws_managed: Some(true),
    }
}

pub fn full_aws_access(partition: &str) -> Policy {
    Policy {
        policy_summary: Some(full_aws_access_summary(partition)),
        content: Some(FULL_AWS_ACCESS_CONTENT.to_string()),
    }
}

pub fn create_account_status(record: &CreateAccountStatusRecord) -> CreateAccountStatus {
    let succeeded = record.state == "SUCCEEDED";
    CreateAccountStatus {
        id: Some(record.id.clone()),
        account_name: Some(record.account_name.clone()),
        state: wire_enum::<CreateAccountState>(&record.state),
        requested_timestamp: Some(record.requested),
        completed_timestamp: record.completed,
        // The id is chosen before the account exists; it is reported once it does.
        account_id: if succeeded { record.account_id.as_ref().map(|a| a.to_string()) } else { None },
        gov_cloud_account_id: None,
        failure_reason: record.failure_reason.as_deref().and_then(wire_enum::<CreateAccountFailureReason>),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingot_core::{AccountId, Timestamp};

    #[test]
    fn stored_strings_map_to_wire_enums_and_back() {
        assert_eq!(wire_enum::<PolicyType>("SERVICE_CONTROL_POLICY"), Some(PolicyType::ServiceControlPolicy));
        assert_eq!(wire_enum::<PolicyType>("nonsense"), None);
        assert_eq!(wire_name(&CreateAccountState::InProgress), "IN_PROGRESS");
    }

    #[test]
    fn an_accounts_path_ends_with_the_account() {
        let record = AccountRecord {
            id: AccountId::parse("222222222222").unwrap(),
            arn: "arn".into(),
            email: "e@example.com".into(),
            name: "n".into(),
            status: "ACTIVE".into(),
            joined_method: "CREATED".into(),
            joined: Timestamp(0),
            parent_id: "r-ab12".into(),
            policies: vec![],
            tags: vec![],
        };
        let shown = account(&record, "o-abcdefghij/r-ab12/");
        assert_eq!(shown.paths, Some(vec!["o-abcdefghij/r-ab12/222222222222/".to_string()]));
        assert_eq!(shown.joined_method, Some(AccountJoinedMethod::Created));
        assert_eq!(shown.state, Some(AccountState::Active));
    }

    #[test]
    fn full_aws_access_is_aws_managed() {
        let p = full_aws_access("aws");
        let summary = p.policy_summary.unwrap();
        assert_eq!(summary.aws_managed, Some(true));
        assert_eq!(
            summary.arn.as_deref(),
            Some("arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess")
        );
    }
}
