//! DescribeVolumes: the EBS volumes that launches made for their instances.

use crate::access::authorize;
use crate::errors::Ec2Error;
use crate::filters::check_filter_names;
use crate::network::{check_ids, page, passes};
use crate::operations::DescribeVolumes;
use crate::store::{self, VolumeRecord};
use crate::tags::to_wire as tags_to_wire;
use crate::types;
use crate::Ec2;
use ingot_core::{Access, Handler, RequestContext};

const VOLUME_FILTERS: &[&str] = &[
    "attachment.device",
    "attachment.instance-id",
    "attachment.status",
    "availability-zone",
    "encrypted",
    "size",
    "snapshot-id",
    "status",
    "tag-key",
    "volume-id",
    "volume-type",
];

impl Handler<DescribeVolumes> for Ec2 {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DescribeVolumesRequest,
    ) -> Result<types::DescribeVolumesResult, Ec2Error> {
        authorize::<DescribeVolumes>(ctx, Access::any_resource()).await?;
        crate::dry_run(input.dry_run)?;
        let filters = input.filters.unwrap_or_default();
        check_filter_names(&filters, VOLUME_FILTERS)?;
        let ids = input.volume_ids.unwrap_or_default();
        check_ids(&ids, "vol", "InvalidVolumeID.Malformed", "expecting \"vol-...\"")?;
        let volumes = store::all::<VolumeRecord>(&ctx.tx, &store::volumes_prefix(ctx.scope)).await?;
        if let Some(missing) = ids.iter().find(|id| !volumes.iter().any(|v| v.id == **id)) {
            return Err(Ec2Error::unmodeled(
                "InvalidVolume.NotFound",
                400,
                format!("The volume '{missing}' does not exist."),
            ));
        }
        let items = volumes
            .iter()
            .filter(|v| ids.is_empty() || ids.contains(&v.id))
            .filter(|v| {
                passes(&filters, &v.tags, |name| match name {
                    "attachment.device" => v.attachment.as_ref().map(|a| a.1.clone()),
                    "attachment.instance-id" => v.attachment.as_ref().map(|a| a.0.clone()),
                    "attachment.status" => v.attachment.as_ref().map(|_| "attached".to_string()),
                    "availability-zone" => Some(v.availability_zone.clone()),
                    "encrypted" => Some(v.encrypted.to_string()),
                    "size" => Some(v.size.to_string()),
                    "snapshot-id" => v.snapshot_id.clone(),
                    "status" => Some(v.state.clone()),
                    "volume-id" => Some(v.id.clone()),
                    "volume-type" => Some(v.volume_type.clone()),
                    _ => None,
                })
            })
            .map(|v| {
                (
                    v.id.clone(),
                    types::Volume {
                        volume_id: Some(v.id.clone()),
                        size: Some(v.size),
                        snapshot_id: Some(v.snapshot_id.clone().unwrap_or_default()),
                        availability_zone: Some(v.availability_zone.clone()),
                        state: Some(ingot_core::model::wire_enum(&v.state)),
                        create_time: Some(v.created),
                        attachments: Some(
                            v.attachment
                                .iter()
                                .map(|(instance, device, delete)| types::VolumeAttachment {
                                    delete_on_termination: Some(*delete),
                                    volume_id: Some(v.id.clone()),
                                    instance_id: Some(instance.clone()),
                                    device: Some(device.clone()),
                                    state: Some(types::VolumeAttachmentState::Attached),
                                    attach_time: Some(v.created),
                                    ..Default::default()
                                })
                                .collect(),
                        ),
                        encrypted: Some(v.encrypted),
                        kms_key_id: v.kms_key_id.clone(),
                        volume_type: Some(ingot_core::model::wire_enum(&v.volume_type)),
                        iops: Some(3000),
                        throughput: Some(125),
                        multi_attach_enabled: Some(false),
                        tags: tags_to_wire(&v.tags),
                        ..Default::default()
                    },
                )
            })
            .collect();
        let query = format!("DescribeVolumes;{ids:?};{filters:?}");
        let page = page(items, &query, input.next_token.as_deref(), input.max_results)?;
        Ok(types::DescribeVolumesResult { next_token: page.marker, volumes: Some(page.items) })
    }
}
