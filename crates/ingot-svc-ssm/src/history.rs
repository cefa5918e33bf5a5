//! GetParameterHistory: the kept versions of a parameter, oldest first, with the labels each
//! carries now.

use crate::access;
use crate::errors::SsmError;
use crate::listing::{decode_token, encode_token};
use crate::names::{parameter_arn, Owner, ParameterReference};
use crate::operations::GetParameterHistory;
use crate::parameters::not_found;
use crate::policies::inline_policies;
use crate::public::{self, PublicParameter};
use crate::secure;
use crate::store::{self, ParameterRecord, VersionRecord};
use crate::types::{GetParameterHistoryRequest, GetParameterHistoryResult, ParameterHistory};
use crate::Ssm;
use ingot_core::{AccountId, Handler, RequestContext};

const DEFAULT_PAGE: usize = 50;

async fn history_entry(
    ctx: &RequestContext<'_>,
    current: &ParameterRecord,
    version: &VersionRecord,
    arn: &str,
    with_decryption: bool,
) -> Result<ParameterHistory, SsmError> {
    let value = secure::readable_value(ctx, arn, version.parameter_type, &version.value, with_decryption).await?;
    Ok(ParameterHistory {
        name: Some(version.name.clone()),
        r#type: Some(version.parameter_type),
        key_id: version.key_id.clone(),
        last_modified_date: Some(version.last_modified),
        last_modified_user: Some(version.last_modified_user.clone()),
        description: version.description.clone(),
        value: Some(value),
        allowed_pattern: version.allowed_pattern.clone(),
        version: Some(version.version),
        labels: Some(current.labels_of(version.version)),
        tier: Some(version.tier),
        policies: Some(inline_policies(&version.policies)),
        data_type: Some(version.data_type.clone()),
    })
}

fn public_entry(p: &PublicParameter) -> ParameterHistory {
    ParameterHistory {
        name: Some(p.name()),
        r#type: Some(PublicParameter::TYPE),
        key_id: None,
        last_modified_date: Some(p.last_modified),
        last_modified_user: Some("arn:aws:iam::aws:root".to_string()),
        description: None,
        value: Some(p.value.clone()),
        allowed_pattern: None,
        version: Some(p.version),
        labels: Some(Vec::new()),
        tier: Some(PublicParameter::TIER),
        policies: Some(Vec::new()),
        data_type: Some(p.data_type.to_string()),
    }
}

impl Handler<GetParameterHistory> for Ssm {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: GetParameterHistoryRequest,
    ) -> Result<GetParameterHistoryResult, SsmError> {
        let reference = ParameterReference::parse(&input.name, ctx.scope, false)?;
        access::authorize_read::<GetParameterHistory>(ctx, &reference, &reference.arn()).await?;
        let requested = reference.name.given.clone();
        let max = input.max_results.and_then(|n| usize::try_from(n).ok()).filter(|n| *n > 0).unwrap_or(DEFAULT_PAGE);
        // Empty for a public parameter.
        let owner = reference.owner.account().map_or("", AccountId::as_str);
        let query = format!("history\0{owner}\0{}", reference.name.canonical);
        let after: Option<i64> = match input.next_token.as_deref() {
            Some(t) => Some(
                decode_token(&query, t)?
                    .parse()
                    .map_err(|_| SsmError::invalid_next_token("The specified token isn't valid."))?,
            ),
            None => None,
        };

        if let Owner::Public(region) = &reference.owner {
            let found = public::find(region.as_str(), &reference.name.canonical).filter(|_| **region == *ctx.region());
            let Some(p) = found else { return Err(not_found(&requested)) };
            let parameters = if after.is_some_and(|a| a >= p.version) { Vec::new() } else { vec![public_entry(&p)] };
            return Ok(GetParameterHistoryResult { parameters: Some(parameters), next_token: None });
        }
        let Owner::Account(owner) = &reference.owner else { return Err(not_found(&requested)) };
        let canonical = &reference.name.canonical;
        let Some(current) = store::load_in(&ctx.tx, owner, canonical).await? else {
            return Err(not_found(&requested));
        };
        let arn = parameter_arn(owner, canonical);
        let prefix = store::versions_prefix(owner, canonical);
        let start = after.map(|v| store::version_key(owner, canonical, v));
        let rows = ctx.tx.scan(&prefix, start.as_deref(), max + 1).await?;
        let more = rows.len() > max;
        let mut parameters = Vec::with_capacity(rows.len().min(max));
        let mut last = None;
        for (_, bytes) in rows.into_iter().take(max) {
            let version = store::decode_version(&bytes)?;
            last = Some(version.version);
            parameters
                .push(history_entry(ctx, &current, &version, &arn, input.with_decryption.unwrap_or(false)).await?);
        }
        let next_token = match (more, last) {
            (true, Some(v)) => Some(encode_token(&query, &v.to_string())),
            _ => None,
        };
        Ok(GetParameterHistoryResult { parameters: Some(parameters), next_token })
    }
}
