//! EBS snapshots: DescribeSnapshots (owners and who may restore them), DeleteSnapshot (refused
//! while an image uses the snapshot), CopySnapshot (re-encrypting), and
//! Describe/Modify/ResetSnapshotAttribute (`createVolumePermission`). Snapshots come from
//! CreateImage and copies; they are `pending` until their image or copy completes.

use crate::access::authorize;
use crate::errors::Ec2Error;
use crate::filters::check_filter_names;
use crate::images::{copy_encryption, keys_usable, new_snapshot, save_snapshot, snapshot_arn};
use crate::network::{check_ids, page, passes};
use crate::operations::{
    CopySnapshot, DeleteSnapshot, DescribeSnapshotAttribute, DescribeSnapshots, ModifySnapshotAttribute,
    ResetSnapshotAttribute,
};
use crate::store::{self, ImageRecord, OwnerIndexRecord, SnapshotRecord};
use crate::tags::{checked, merge, to_wire as tags_to_wire};
use crate::types::{self, ResourceType};
use crate::Ec2;
use ingot_core::{Access, AccountId, CommonError, Handler, Region, RequestContext, Scope};

const SNAPSHOT_FILTERS: &[&str] = &[
    "description",
    "encrypted",
    "owner-alias",
    "owner-id",
    "progress",
    "snapshot-id",
    "start-time",
    "status",
    "tag-key",
    "volume-id",
    "volume-size",
];

fn not_found(id: &str) -> Ec2Error {
    Ec2Error::unmodeled("InvalidSnapshot.NotFound", 400, format!("The snapshot '{id}' does not exist."))
}

fn check_snapshot_id(id: &str) -> Result<(), Ec2Error> {
    check_ids(std::slice::from_ref(&id.to_string()), "snap", "InvalidSnapshotID.Malformed", "expecting \"snap-...\"")
}

/// Whether `account` may create volumes from the snapshot (and so see it).
fn restorable_by(snapshot: &SnapshotRecord, account: &str) -> bool {
    snapshot.owner == account || snapshot.volume_permissions.iter().any(|p| p == "all" || p == account)
}

/// A snapshot of `region` as stored, whoever owns it.
async fn load(ctx: &RequestContext<'_>, region: &str, id: &str) -> Result<Option<SnapshotRecord>, Ec2Error> {
    let Some(index) = ctx.tx.get_record::<OwnerIndexRecord>(&store::owner_index_key(region, id)).await? else {
        return Ok(None);
    };
    let scope = match (AccountId::parse(&index.owner), Region::parse(region)) {
        (Some(account), Some(region)) => Scope::new(account, region),
        _ => return Err(CommonError::internal(format!("bad owner index entry for {id}")).into()),
    };
    Ok(ctx.tx.get_record::<SnapshotRecord>(&store::snapshot_key(&scope, id)).await?)
}

/// A snapshot of this region the caller may use (its own, or one it may restore).
pub async fn visible_snapshot(ctx: &RequestContext<'_>, id: &str) -> Result<SnapshotRecord, Ec2Error> {
    check_snapshot_id(id)?;
    load(ctx, ctx.region().as_str(), id)
        .await?
        .filter(|s| restorable_by(s, ctx.account().as_str()))
        .ok_or_else(|| not_found(id))
}

/// The caller's own snapshot `id`.
async fn own_snapshot(ctx: &RequestContext<'_>, id: &str) -> Result<SnapshotRecord, Ec2Error> {
    check_snapshot_id(id)?;
    ctx.tx.get_record::<SnapshotRecord>(&store::snapshot_key(ctx.scope, id)).await?.ok_or_else(|| not_found(id))
}

/// Moves a pending snapshot of `scope` to `state` (`completed` or `error`).
pub async fn complete(ctx: &RequestContext<'_>, scope: &Scope, id: &str, state: &str) -> Result<(), Ec2Error> {
    let key = store::snapshot_key(scope, id);
    if let Some(mut snapshot) = ctx.tx.get_record::<SnapshotRecord>(&key).await? {
        if snapshot.state == "pending" {
            snapshot.state = state.to_string();
            ctx.tx.put_record(&key, &snapshot);
        }
    }
    Ok(())
}

fn to_wire(snapshot: &SnapshotRecord, viewer_owns: bool) -> types::Snapshot {
    types::Snapshot {
        snapshot_id: Some(snapshot.id.clone()),
        volume_id: Some(snapshot.volume_id.clone()),
        state: Some(ingot_core::model::wire_enum(&snapshot.state)),
        start_time: Some(snapshot.started),
        progress: Some(if snapshot.state == "completed" { "100%" } else { "0%" }.to_string()),
        owner_id: Some(snapshot.owner.clone()),
        description: Some(snapshot.description.clone()),
        volume_size: Some(snapshot.size),
        encrypted: Some(snapshot.encrypted),
        kms_key_id: snapshot.kms_key_id.clone(),
        storage_tier: Some(types::StorageTier::Standard),
        tags: if viewer_owns { tags_to_wire(&snapshot.tags) } else { None },
        ..Default::default()
    }
}

impl Handler<DescribeSnapshots> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DescribeSnapshotsRequest,
    ) -> Result<types::DescribeSnapshotsResult, Ec2Error> {
        authorize::<DescribeSnapshots>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let filters = input.filters.unwrap_or_default();
        check_filter_names(&filters, SNAPSHOT_FILTERS)?;
        let ids = input.snapshot_ids.unwrap_or_default();
        check_ids(&ids, "snap", "InvalidSnapshotID.Malformed", "expecting \"snap-...\"")?;
        let me = ctx.account().to_string();
        let mut candidates = store::all::<SnapshotRecord>(&ctx.tx, &store::snapshots_prefix(ctx.scope)).await?;
        let region = ctx.region().as_str();
        let index_prefix = store::owner_index_prefix(region, "snap-");
        for (key, item) in ctx.tx.scan(&index_prefix, None, usize::MAX).await? {
            let entry: OwnerIndexRecord = ingot_store::decode_record(&item)?;
            if entry.shared && entry.owner != me {
                let id = &key[index_prefix.len() - "snap-".len()..];
                candidates.extend(load(ctx, region, id).await?.filter(|s| restorable_by(s, &me)));
            }
        }
        if let Some(missing) = ids.iter().find(|id| !candidates.iter().any(|s| s.id == **id)) {
            return Err(not_found(missing));
        }
        let owners = input.owner_ids.unwrap_or_default();
        let restorable = input.restorable_by_user_ids.unwrap_or_default();
        let items = candidates
            .iter()
            .filter(|s| ids.is_empty() || ids.contains(&s.id))
            .filter(|s| owners.is_empty() || owners.iter().any(|o| *o == s.owner || (o == "self" && s.owner == me)))
            .filter(|s| {
                restorable.is_empty()
                    || restorable.iter().any(|user| {
                        let user = if user == "self" { me.as_str() } else { user.as_str() };
                        s.owner != user && restorable_by(s, user)
                    })
            })
            .filter(|s| {
                let tags = if s.owner == me { s.tags.clone() } else { Vec::new() };
                passes(&filters, &tags, |name| match name {
                    "description" => Some(s.description.clone()),
                    "encrypted" => Some(s.encrypted.to_string()),
                    "owner-id" => Some(s.owner.clone()),
                    "progress" => Some(if s.state == "completed" { "100%" } else { "0%" }.to_string()),
                    "snapshot-id" => Some(s.id.clone()),
                    "start-time" => Some(s.started.to_iso8601()),
                    "status" => Some(s.state.clone()),
                    "volume-id" => Some(s.volume_id.clone()),
                    "volume-size" => Some(s.size.to_string()),
                    _ => None,
                })
            })
            .map(|s| (s.id.clone(), to_wire(s, s.owner == me)))
            .collect();
        let query = format!("DescribeSnapshots;{ids:?};{owners:?};{restorable:?};{filters:?}");
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::DescribeSnapshotsResult { next_token: page.marker, snapshots: Some(page.items) })
    }
}

impl Handler<DeleteSnapshot> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DeleteSnapshotRequest,
    ) -> Result<ingot_core::Empty, Ec2Error> {
        let arns = vec![snapshot_arn(ctx, ctx.region().as_str(), &input.snapshot_id)];
        authorize::<DeleteSnapshot>(ctx, Access::resources(&arns)).await?;
        crate::dry_run(input.dry_run)?;
        let snapshot = own_snapshot(ctx, &input.snapshot_id).await?;
        let images = store::all::<ImageRecord>(&ctx.tx, &store::images_prefix(ctx.scope)).await?;
        if let Some(user) = images.iter().find(|i| i.devices.iter().any(|d| d.snapshot_id == snapshot.id)) {
            return Err(Ec2Error::unmodeled(
                "InvalidSnapshot.InUse",
                400,
                format!("The snapshot {} is currently in use by {}", snapshot.id, user.id),
            ));
        }
        ctx.tx.delete(&store::snapshot_key(ctx.scope, &snapshot.id));
        ctx.tx.delete(&store::owner_index_key(ctx.region().as_str(), &snapshot.id));
        Ok(ingot_core::Empty {})
    }
}

impl Handler<CopySnapshot> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::CopySnapshotRequest,
    ) -> Result<types::CopySnapshotResult, Ec2Error> {
        let mut tags = Vec::new();
        for spec in input.tag_specifications.iter().flatten() {
            if spec.resource_type != Some(ResourceType::Snapshot) {
                return Err(Ec2Error::unmodeled(
                    "InvalidParameterValue",
                    400,
                    "'TagSpecifications' of CopySnapshot may only tag the snapshot.",
                ));
            }
            merge(&mut tags, checked(spec.tags.as_deref().unwrap_or_default())?)?;
        }
        let arns = vec![
            snapshot_arn(ctx, ctx.region().as_str(), "*"),
            snapshot_arn(ctx, &input.source_region, &input.source_snapshot_id),
        ];
        let access = crate::tags::with_request_tags(Access::resources(&arns), &tags);
        authorize::<CopySnapshot>(ctx, access).await?;
        crate::dry_run(input.dry_run)?;
        check_snapshot_id(&input.source_snapshot_id)?;
        if Region::parse(&input.source_region).is_none() {
            return Err(Ec2Error::unmodeled(
                "InvalidParameterValue",
                400,
                format!("Invalid region: {}", input.source_region),
            ));
        }
        let source = load(ctx, &input.source_region, &input.source_snapshot_id)
            .await?
            .filter(|s| restorable_by(s, ctx.account().as_str()) && s.state == "completed")
            .ok_or_else(|| not_found(&input.source_snapshot_id))?;
        let mut read_key = source.kms_key_id.clone();
        let mut write_key =
            copy_encryption(ctx, input.encrypted, input.kms_key_id.as_deref(), source.kms_key_id.as_deref()).await?;
        let usable = keys_usable(ctx, &mut [&mut read_key, &mut write_key]).await?;
        let description =
            input.description.clone().unwrap_or_else(|| format!("[Copied {} from {}]", source.id, input.source_region));
        let snapshot = new_snapshot(ctx, "vol-ffffffff", source.size, description, write_key, tags.clone());
        crate::images::schedule_snapshot(ctx, &snapshot.id, if usable { "completed" } else { "error" })?;
        Ok(types::CopySnapshotResult { snapshot_id: Some(snapshot.id), tags: tags_to_wire(&tags) })
    }
}

fn permissions_to_wire(snapshot: &SnapshotRecord) -> Vec<types::CreateVolumePermission> {
    snapshot
        .volume_permissions
        .iter()
        .map(|p| {
            if p == "all" {
                types::CreateVolumePermission { group: Some(types::PermissionGroup::All), user_id: None }
            } else {
                types::CreateVolumePermission { group: None, user_id: Some(p.clone()) }
            }
        })
        .collect()
}

impl Handler<DescribeSnapshotAttribute> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DescribeSnapshotAttributeRequest,
    ) -> Result<types::DescribeSnapshotAttributeResult, Ec2Error> {
        let arns = vec![snapshot_arn(ctx, ctx.region().as_str(), &input.snapshot_id)];
        authorize::<DescribeSnapshotAttribute>(ctx, Access::resources(&arns)).await?;
        crate::dry_run(input.dry_run)?;
        let snapshot = own_snapshot(ctx, &input.snapshot_id).await?;
        let mut answer =
            types::DescribeSnapshotAttributeResult { snapshot_id: Some(snapshot.id.clone()), ..Default::default() };
        match input.attribute {
            types::SnapshotAttributeName::CreateVolumePermission => {
                answer.create_volume_permissions = Some(permissions_to_wire(&snapshot));
            }
            types::SnapshotAttributeName::ProductCodes => answer.product_codes = Some(Vec::new()),
        }
        Ok(answer)
    }
}

/// An account id or `all`, as a volume permission.
fn permission_of(permission: &types::CreateVolumePermission) -> Result<Option<String>, Ec2Error> {
    if permission.group.is_some() {
        return Ok(Some("all".to_string()));
    }
    match &permission.user_id {
        Some(user) if user.len() == 12 && user.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(user.clone())),
        Some(user) => Err(Ec2Error::unmodeled(
            "InvalidParameterValue",
            400,
            format!("Value ({user}) for parameter userId is invalid. Invalid AWS account ID."),
        )),
        None => Ok(None),
    }
}

impl Handler<ModifySnapshotAttribute> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ModifySnapshotAttributeRequest,
    ) -> Result<ingot_core::Empty, Ec2Error> {
        let arns = vec![snapshot_arn(ctx, ctx.region().as_str(), &input.snapshot_id)];
        authorize::<ModifySnapshotAttribute>(ctx, Access::resources(&arns)).await?;
        crate::dry_run(input.dry_run)?;
        let mut snapshot = own_snapshot(ctx, &input.snapshot_id).await?;
        let mut add = Vec::new();
        let mut remove = Vec::new();
        if let Some(changes) = &input.create_volume_permission {
            for p in changes.add.iter().flatten() {
                add.extend(permission_of(p)?);
            }
            for p in changes.remove.iter().flatten() {
                remove.extend(permission_of(p)?);
            }
        }
        let flat: Vec<types::CreateVolumePermission> = input
            .user_ids
            .iter()
            .flatten()
            .map(|u| types::CreateVolumePermission { user_id: Some(u.clone()), group: None })
            .chain(
                input
                    .group_names
                    .iter()
                    .flatten()
                    .map(|_| types::CreateVolumePermission { user_id: None, group: Some(types::PermissionGroup::All) }),
            )
            .collect();
        for p in &flat {
            match input.operation_type {
                Some(types::OperationType::Remove) => remove.extend(permission_of(p)?),
                _ => add.extend(permission_of(p)?),
            }
        }
        if add.is_empty() && remove.is_empty() {
            return Err(Ec2Error::unmodeled(
                "MissingParameter",
                400,
                "The request must contain the parameter createVolumePermission",
            ));
        }
        if snapshot.encrypted && add.iter().any(|p| p == "all") {
            return Err(Ec2Error::unmodeled(
                "InvalidParameterValue",
                400,
                "Encrypted snapshots with EBS default key cannot be shared",
            ));
        }
        for p in add {
            if !snapshot.volume_permissions.contains(&p) {
                snapshot.volume_permissions.push(p);
            }
        }
        snapshot.volume_permissions.retain(|p| !remove.contains(p));
        save_snapshot(ctx, ctx.scope, &snapshot);
        Ok(ingot_core::Empty {})
    }
}

impl Handler<ResetSnapshotAttribute> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ResetSnapshotAttributeRequest,
    ) -> Result<ingot_core::Empty, Ec2Error> {
        let arns = vec![snapshot_arn(ctx, ctx.region().as_str(), &input.snapshot_id)];
        authorize::<ResetSnapshotAttribute>(ctx, Access::resources(&arns)).await?;
        crate::dry_run(input.dry_run)?;
        let mut snapshot = own_snapshot(ctx, &input.snapshot_id).await?;
        snapshot.volume_permissions.clear();
        save_snapshot(ctx, ctx.scope, &snapshot);
        Ok(ingot_core::Empty {})
    }
}
