//! Managed policies: the account's own (customer managed, records with up to five versions) and
//! AWS's (data from `ingot_identity::managed`, read-only, attachable by ARN in every account).
//! CreatePolicy … SetDefaultPolicyVersion, policy tags, and the usage counts that say how often
//! a policy is attached (`AttachmentCount`) or bounds an entity (`PermissionsBoundaryUsageCount`).

use crate::access;
use crate::documents::{check_managed, url_encode};
use crate::errors::IamError;
use crate::names::{path_matches, path_or_default};
use crate::operations::{
    CreatePolicy, CreatePolicyVersion, DeletePolicy, DeletePolicyVersion, GetPolicy, GetPolicyVersion, ListPolicies,
    ListPolicyTags, ListPolicyVersions, SetDefaultPolicyVersion, TagPolicy, UntagPolicy,
};
use crate::pages::{max_items, page_of};
use crate::store::{self, AwsPolicyUsageRecord};
use crate::tags;
use crate::types::{
    CreatePolicyRequest, CreatePolicyResponse, CreatePolicyVersionRequest, CreatePolicyVersionResponse,
    DeletePolicyRequest, DeletePolicyVersionRequest, GetPolicyRequest, GetPolicyResponse, GetPolicyVersionRequest,
    GetPolicyVersionResponse, ListPoliciesRequest, ListPoliciesResponse, ListPolicyTagsRequest, ListPolicyTagsResponse,
    ListPolicyVersionsRequest, ListPolicyVersionsResponse, Policy, PolicyScopeType, PolicyUsageType,
    SetDefaultPolicyVersionRequest, TagPolicyRequest, UntagPolicyRequest,
};
use crate::{types, Iam};
use ingot_core::{Access, Empty, Handler, Operation, RequestContext, Timestamp};
use ingot_identity::iam::EntityKind;
use ingot_identity::managed::{aws_managed_policies, aws_managed_policy, AwsManagedPolicy};
use ingot_identity::{ManagedPolicyRecord, PolicyVersion};
use std::collections::HashMap;

/// Versions a managed policy keeps at most.
pub const MAX_VERSIONS: usize = 5;

/// A managed policy an entity can use.
#[derive(Debug, Clone)]
pub enum ManagedPolicy {
    Aws(&'static AwsManagedPolicy),
    Local(Box<ManagedPolicyRecord>),
}

impl ManagedPolicy {
    pub fn arn(&self) -> &str {
        match self {
            ManagedPolicy::Aws(p) => &p.arn,
            ManagedPolicy::Local(p) => &p.arn,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            ManagedPolicy::Aws(p) => &p.name,
            ManagedPolicy::Local(p) => &p.name,
        }
    }

    pub fn path(&self) -> &str {
        match self {
            ManagedPolicy::Aws(p) => &p.path,
            ManagedPolicy::Local(p) => &p.path,
        }
    }

    /// AWS's policies for service-linked roles (`/aws-service-role/`): only those roles take them.
    pub fn is_service_role_policy(&self) -> bool {
        matches!(self, ManagedPolicy::Aws(p) if p.path.starts_with("/aws-service-role/"))
    }
}

/// The managed policy with this ARN, AWS's or the caller account's; `None` when there is none.
pub async fn find(ctx: &RequestContext<'_>, arn: &str) -> Result<Option<ManagedPolicy>, IamError> {
    if let Some(aws) = aws_managed_policy(arn) {
        return Ok(Some(ManagedPolicy::Aws(aws)));
    }
    Ok(store::find_policy(ctx, arn).await?.map(|p| ManagedPolicy::Local(Box::new(p))))
}

/// The policy an attachment names, or `NoSuchEntity` (`… does not exist or is not attachable.`).
pub async fn attachable(ctx: &RequestContext<'_>, arn: &str) -> Result<ManagedPolicy, IamError> {
    find(ctx, arn).await?.ok_or_else(|| store::not_attachable(arn))
}

/// The policy a permissions boundary names, or `NoSuchEntity`.
pub async fn boundary_policy(ctx: &RequestContext<'_>, arn: &str) -> Result<ManagedPolicy, IamError> {
    find(ctx, arn).await?.ok_or_else(|| {
        IamError::no_such_entity_exception(format!("Scope ARN: {arn} does not exist or is not attachable."))
    })
}

/// Changes how often the policy at `arn` is attached (`attachments`) and used as a permissions
/// boundary (`boundaries`) in the caller's account. A policy that is gone is left alone.
pub async fn adjust_usage(
    ctx: &RequestContext<'_>,
    arn: &str,
    attachments: i32,
    boundaries: i32,
) -> Result<(), IamError> {
    if aws_managed_policy(arn).is_some() {
        let key = store::aws_policy_usage_key(&ctx.scope.account, arn);
        let mut usage = ctx.tx.get_record::<AwsPolicyUsageRecord>(&key).await?.unwrap_or_default();
        usage.arn = arn.to_string();
        usage.attachment_count = usage.attachment_count.saturating_add_signed(attachments);
        usage.boundary_usage_count = usage.boundary_usage_count.saturating_add_signed(boundaries);
        if usage.attachment_count == 0 && usage.boundary_usage_count == 0 {
            ctx.tx.delete(&key);
        } else {
            ctx.tx.put_record(&key, &usage);
        }
        return Ok(());
    }
    if let Some(mut policy) = store::find_policy(ctx, arn).await? {
        policy.attachment_count = policy.attachment_count.saturating_add_signed(attachments);
        policy.boundary_usage_count = policy.boundary_usage_count.saturating_add_signed(boundaries);
        store::save_policy(ctx, &policy);
    }
    Ok(())
}

/// How often an AWS managed policy is used in the caller's account.
pub async fn aws_usage(ctx: &RequestContext<'_>, arn: &str) -> Result<AwsPolicyUsageRecord, IamError> {
    let key = store::aws_policy_usage_key(&ctx.scope.account, arn);
    Ok(ctx
        .tx
        .get_record(&key)
        .await?
        .unwrap_or_else(|| AwsPolicyUsageRecord { arn: arn.to_string(), ..Default::default() }))
}

/// Every AWS managed policy in use in the caller's account, by ARN.
pub async fn aws_usages(ctx: &RequestContext<'_>) -> Result<HashMap<String, AwsPolicyUsageRecord>, IamError> {
    let prefix = store::aws_policy_usage_prefix(&ctx.scope.account);
    let records = ctx.tx.scan_records::<AwsPolicyUsageRecord>(&prefix, None, usize::MAX).await?;
    Ok(records.into_iter().map(|(_, r)| (r.arn.clone(), r)).collect())
}

/// When an AWS managed policy was created or updated, from its data.
pub fn aws_time(text: &str) -> Timestamp {
    Timestamp::parse_iso8601(text).unwrap_or_default()
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A customer managed policy as responses show it; `detail` adds what only GetPolicy and
/// CreatePolicy show (description, tags).
pub fn local_shape(p: &ManagedPolicyRecord, detail: bool) -> Policy {
    Policy {
        policy_name: Some(p.name.clone()),
        policy_id: Some(p.id.clone()),
        arn: Some(p.arn.clone()),
        path: Some(p.path.clone()),
        default_version_id: Some(p.default_version.clone()),
        attachment_count: Some(to_i32(p.attachment_count)),
        permissions_boundary_usage_count: Some(to_i32(p.boundary_usage_count)),
        is_attachable: Some(true),
        description: if detail { p.description.clone() } else { None },
        create_date: Some(p.created),
        update_date: Some(p.updated),
        tags: if detail { tags::to_wire(&p.tags) } else { None },
    }
}

/// An AWS managed policy as responses show it, with its usage in the caller's account.
pub fn aws_shape(p: &AwsManagedPolicy, usage: &AwsPolicyUsageRecord, detail: bool) -> Policy {
    Policy {
        policy_name: Some(p.name.clone()),
        policy_id: Some(p.id.clone()),
        arn: Some(p.arn.clone()),
        path: Some(p.path.clone()),
        default_version_id: Some(p.default_version.clone()),
        attachment_count: Some(to_i32(usage.attachment_count)),
        permissions_boundary_usage_count: Some(to_i32(usage.boundary_usage_count)),
        is_attachable: Some(true),
        description: (detail && !p.description.is_empty()).then(|| p.description.clone()),
        create_date: Some(aws_time(&p.created)),
        update_date: Some(aws_time(&p.updated)),
        tags: None,
    }
}

/// A version as responses show it; the document only where asked (URL-encoded).
pub fn version_shape(v: &PolicyVersion, default_version: &str, with_document: bool) -> types::PolicyVersion {
    types::PolicyVersion {
        document: with_document.then(|| url_encode(&v.document)),
        version_id: Some(v.version_id.clone()),
        is_default_version: Some(v.version_id == default_version),
        create_date: Some(v.created),
    }
}

/// The one version Ingot knows of an AWS managed policy: its default.
pub fn aws_version(p: &AwsManagedPolicy) -> PolicyVersion {
    PolicyVersion { version_id: p.default_version.clone(), document: p.document.clone(), created: aws_time(&p.updated) }
}

/// A user's or role's permissions boundary as responses show it.
pub fn boundary_shape(arn: &Option<String>) -> Option<types::AttachedPermissionsBoundary> {
    arn.as_ref().map(|arn| types::AttachedPermissionsBoundary {
        permissions_boundary_type: Some(types::PermissionsBoundaryAttachmentType::PermissionsBoundaryPolicy),
        permissions_boundary_arn: Some(arn.clone()),
    })
}

fn no_such_version(arn: &str, version: &str) -> IamError {
    IamError::no_such_entity_exception(format!("Policy {arn} version {version} does not exist or is not attachable."))
}

/// Finds the customer managed policy at `arn` after authorizing `Op` on it (with its tags and
/// whatever `extend` adds).
async fn local_for<Op: Operation>(
    ctx: &RequestContext<'_>,
    arn: &str,
    extend: impl FnOnce(Access<'_>) -> Access<'_>,
) -> Result<ManagedPolicyRecord, IamError> {
    let found = store::find_policy(ctx, arn).await?;
    let entity_tags = found.as_ref().map_or(&[][..], |p| p.tags.as_slice());
    let access = extend(tags::with_resource_tags(Access::resource(arn), entity_tags));
    access::authorize_with::<Op>(ctx, access).await?;
    found.ok_or_else(|| store::no_such_policy(arn))
}

/// `UpdateDate`: when the policy was created while it has one version, else when its newest
/// version was created.
fn last_updated(record: &ManagedPolicyRecord) -> Timestamp {
    match record.versions.as_slice() {
        [_] | [] => record.created,
        versions => versions.iter().map(|v| v.created).max().unwrap_or(record.created),
    }
}

/// The sort key of a version in listings: newest first.
fn newest_first(version_id: &str) -> String {
    let number: u64 = version_id.trim_start_matches('v').split('.').next().and_then(|n| n.parse().ok()).unwrap_or(0);
    format!("{:020}", u64::MAX - number)
}

impl Handler<CreatePolicy> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: CreatePolicyRequest,
    ) -> Result<CreatePolicyResponse, IamError> {
        let path = path_or_default(input.path);
        let arn = store::arn(ctx, EntityKind::Policy, &path, &input.policy_name);
        let new_tags = tags::requested(input.tags);
        let access = tags::with_request_tags(Access::resource(&arn), &new_tags);
        access::authorize_with::<CreatePolicy>(ctx, access).await?;
        tags::check_unique(&new_tags)?;
        check_managed(&input.policy_document)?;
        if store::find::<ManagedPolicyRecord>(ctx, EntityKind::Policy, &input.policy_name).await?.is_some() {
            return Err(IamError::entity_already_exists_exception(format!(
                "A policy called {} already exists. Duplicate names are not allowed.",
                input.policy_name
            )));
        }
        let record = ManagedPolicyRecord {
            id: ctx.ids().unique_id("ANPA"),
            name: input.policy_name,
            path,
            arn,
            created: ctx.now,
            updated: ctx.now,
            description: input.description,
            default_version: "v1".to_string(),
            versions: vec![PolicyVersion {
                version_id: "v1".to_string(),
                document: input.policy_document,
                created: ctx.now,
            }],
            next_version: 2,
            attachment_count: 0,
            boundary_usage_count: 0,
            tags: new_tags,
        };
        store::save_policy(ctx, &record);
        Ok(CreatePolicyResponse { policy: Some(local_shape(&record, true)) })
    }
}

impl Handler<GetPolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: GetPolicyRequest) -> Result<GetPolicyResponse, IamError> {
        let arn = input.policy_arn;
        if let Some(aws) = aws_managed_policy(&arn) {
            access::authorize::<GetPolicy>(ctx, &arn, &[]).await?;
            let usage = aws_usage(ctx, &arn).await?;
            return Ok(GetPolicyResponse { policy: Some(aws_shape(aws, &usage, true)) });
        }
        let record = local_for::<GetPolicy>(ctx, &arn, |a| a).await?;
        Ok(GetPolicyResponse { policy: Some(local_shape(&record, true)) })
    }
}

impl Handler<DeletePolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: DeletePolicyRequest) -> Result<Empty, IamError> {
        let record = local_for::<DeletePolicy>(ctx, &input.policy_arn, |a| a).await?;
        if record.attachment_count > 0 || record.boundary_usage_count > 0 {
            return Err(IamError::delete_conflict_exception("Cannot delete a policy attached to entities."));
        }
        if record.versions.len() > 1 {
            return Err(IamError::delete_conflict_exception(
                "This policy has more than one version. Before you delete a policy, you must delete the policy's \
                 versions. The default version is deleted with the policy.",
            ));
        }
        store::remove(ctx, EntityKind::Policy, &record.name);
        Ok(Empty {})
    }
}

impl Handler<ListPolicies> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListPoliciesRequest,
    ) -> Result<ListPoliciesResponse, IamError> {
        access::authorize_any::<ListPolicies>(ctx).await?;
        let scope = input.scope.unwrap_or(PolicyScopeType::All);
        let only_attached = input.only_attached.unwrap_or(false);
        let prefix = input.path_prefix.as_deref();
        let usage_filter = input.policy_usage_filter;
        let keep = |attachments: u32, boundaries: u32| {
            let attached_ok = !only_attached || attachments > 0 || boundaries > 0;
            let usage_ok = match usage_filter {
                None => true,
                Some(PolicyUsageType::PermissionsPolicy) => attachments > 0,
                Some(PolicyUsageType::PermissionsBoundary) => boundaries > 0,
            };
            attached_ok && usage_ok
        };
        let mut items: Vec<(String, Policy)> = Vec::new();
        if scope != PolicyScopeType::Local {
            let usages = aws_usages(ctx).await?;
            for p in aws_managed_policies() {
                let usage = usages.get(&p.arn).cloned().unwrap_or_default();
                if path_matches(&p.path, prefix) && keep(usage.attachment_count, usage.boundary_usage_count) {
                    items.push((["0", &p.name].concat(), aws_shape(p, &usage, false)));
                }
            }
        }
        if scope != PolicyScopeType::Aws {
            for p in store::all::<ManagedPolicyRecord>(ctx, EntityKind::Policy).await? {
                if path_matches(&p.path, prefix) && keep(p.attachment_count, p.boundary_usage_count) {
                    items.push((["1", &p.name.to_ascii_lowercase()].concat(), local_shape(&p, false)));
                }
            }
        }
        let query = format!(
            "ListPolicies\n{scope}\n{only_attached}\n{}\n{}",
            prefix.unwrap_or(""),
            usage_filter.map_or("", |u| u.as_str())
        );
        let page = page_of(items, &query, input.marker.as_deref(), max_items(input.max_items))?;
        Ok(ListPoliciesResponse {
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
            policies: Some(page.items),
        })
    }
}

impl Handler<CreatePolicyVersion> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: CreatePolicyVersionRequest,
    ) -> Result<CreatePolicyVersionResponse, IamError> {
        let mut record = local_for::<CreatePolicyVersion>(ctx, &input.policy_arn, |a| a).await?;
        check_managed(&input.policy_document)?;
        if record.versions.len() >= MAX_VERSIONS {
            return Err(IamError::limit_exceeded_exception(
                "A managed policy can have up to 5 versions. Before you create a new version, you must delete an \
                 existing version.",
            ));
        }
        let version_id = format!("v{}", record.next_version);
        record.next_version = record.next_version.saturating_add(1);
        let version =
            PolicyVersion { version_id: version_id.clone(), document: input.policy_document, created: ctx.now };
        if input.set_as_default.unwrap_or(false) {
            record.default_version = version_id;
        }
        let shown = version_shape(&version, &record.default_version, false);
        record.versions.push(version);
        record.updated = last_updated(&record);
        store::save_policy(ctx, &record);
        Ok(CreatePolicyVersionResponse { policy_version: Some(shown) })
    }
}

impl Handler<GetPolicyVersion> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: GetPolicyVersionRequest,
    ) -> Result<GetPolicyVersionResponse, IamError> {
        let arn = &input.policy_arn;
        if let Some(aws) = aws_managed_policy(arn) {
            access::authorize::<GetPolicyVersion>(ctx, arn, &[]).await?;
            if input.version_id != aws.default_version {
                return Err(no_such_version(arn, &input.version_id));
            }
            let shown = version_shape(&aws_version(aws), &aws.default_version, true);
            return Ok(GetPolicyVersionResponse { policy_version: Some(shown) });
        }
        let record = local_for::<GetPolicyVersion>(ctx, arn, |a| a).await?;
        let version = record
            .versions
            .iter()
            .find(|v| v.version_id == input.version_id)
            .ok_or_else(|| no_such_version(arn, &input.version_id))?;
        Ok(GetPolicyVersionResponse { policy_version: Some(version_shape(version, &record.default_version, true)) })
    }
}

impl Handler<DeletePolicyVersion> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: DeletePolicyVersionRequest) -> Result<Empty, IamError> {
        let mut record = local_for::<DeletePolicyVersion>(ctx, &input.policy_arn, |a| a).await?;
        let Some(index) = record.versions.iter().position(|v| v.version_id == input.version_id) else {
            return Err(no_such_version(&input.policy_arn, &input.version_id));
        };
        if record.default_version == input.version_id {
            return Err(IamError::delete_conflict_exception("Cannot delete the default version of a policy."));
        }
        record.versions.remove(index);
        record.updated = last_updated(&record);
        store::save_policy(ctx, &record);
        Ok(Empty {})
    }
}

impl Handler<ListPolicyVersions> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListPolicyVersionsRequest,
    ) -> Result<ListPolicyVersionsResponse, IamError> {
        let arn = &input.policy_arn;
        let (versions, default_version) = match aws_managed_policy(arn) {
            Some(aws) => {
                access::authorize::<ListPolicyVersions>(ctx, arn, &[]).await?;
                (vec![aws_version(aws)], aws.default_version.clone())
            }
            None => {
                let record = local_for::<ListPolicyVersions>(ctx, arn, |a| a).await?;
                (record.versions, record.default_version)
            }
        };
        let items =
            versions.iter().map(|v| (newest_first(&v.version_id), version_shape(v, &default_version, false))).collect();
        let query = format!("ListPolicyVersions\n{arn}");
        let page = page_of(items, &query, input.marker.as_deref(), max_items(input.max_items))?;
        Ok(ListPolicyVersionsResponse {
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
            versions: Some(page.items),
        })
    }
}

impl Handler<SetDefaultPolicyVersion> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: SetDefaultPolicyVersionRequest) -> Result<Empty, IamError> {
        let mut record = local_for::<SetDefaultPolicyVersion>(ctx, &input.policy_arn, |a| a).await?;
        if !record.versions.iter().any(|v| v.version_id == input.version_id) {
            return Err(no_such_version(&input.policy_arn, &input.version_id));
        }
        if record.default_version != input.version_id {
            record.default_version = input.version_id;
            store::save_policy(ctx, &record);
        }
        Ok(Empty {})
    }
}

impl Handler<TagPolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: TagPolicyRequest) -> Result<Empty, IamError> {
        let new_tags = tags::requested(Some(input.tags));
        let mut record =
            local_for::<TagPolicy>(ctx, &input.policy_arn, |a| tags::with_request_tags(a, &new_tags)).await?;
        tags::merge(&mut record.tags, new_tags, "TagsPerPolicy")?;
        store::save_policy(ctx, &record);
        Ok(Empty {})
    }
}

impl Handler<UntagPolicy> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: UntagPolicyRequest) -> Result<Empty, IamError> {
        let keys = input.tag_keys;
        let mut record =
            local_for::<UntagPolicy>(ctx, &input.policy_arn, |a| a.condition("aws:TagKeys", keys.iter().cloned()))
                .await?;
        if tags::remove(&mut record.tags, &keys) {
            store::save_policy(ctx, &record);
        }
        Ok(Empty {})
    }
}

impl Handler<ListPolicyTags> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListPolicyTagsRequest,
    ) -> Result<ListPolicyTagsResponse, IamError> {
        let record = local_for::<ListPolicyTags>(ctx, &input.policy_arn, |a| a).await?;
        let query = format!("ListPolicyTags\n{}", input.policy_arn);
        let page = tags::page(&record.tags, &query, input.marker.as_deref(), max_items(input.max_items))?;
        Ok(ListPolicyTagsResponse { is_truncated: Some(page.is_truncated()), marker: page.marker, tags: page.items })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_list_newest_first() {
        let mut keys = vec![newest_first("v1"), newest_first("v10"), newest_first("v2")];
        keys.sort();
        assert_eq!(keys, vec![newest_first("v10"), newest_first("v2"), newest_first("v1")]);
    }

    #[test]
    fn only_aws_service_role_policies_are_service_role_policies() {
        let admin = aws_managed_policy("arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
        assert!(!ManagedPolicy::Aws(admin).is_service_role_policy());
    }
}
