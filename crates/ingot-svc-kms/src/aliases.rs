//! Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases. An alias is its own record and
//! is also listed on its key (`KeyRecord::aliases`), so `kms:ResourceAliases` and key deletion
//! need no listing.
//!
//! Changing an alias needs `kms:<Action>` on the alias (IAM policies) and on each key it points
//! at before and after (key policies), as in AWS.

use crate::access::{authorize_key, KeyConditions};
use crate::errors::KmsError;
use crate::keys::{check_customer_managed, check_not_pending_deletion, find_key, save, Forms, Found};
use crate::operations::{CreateAlias, DeleteAlias, ListAliases, UpdateAlias};
use crate::pages::{limit, page_error};
use crate::types;
use crate::Kms;
use ingot_core::{Access, Handler, RequestContext};
use ingot_keys::{alias_arn, alias_storage_key, aliases_prefix, key_storage_key, AliasRecord, KeyRecord};

/// Checks an alias name that a caller wants to create or change.
fn check_alias_name(name: &str) -> Result<(), KmsError> {
    if !name.starts_with("alias/") {
        return Err(ingot_core::CommonError::validation(
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
        )
        .into());
    }
    if name.starts_with("alias/aws/") {
        return Err(KmsError::invalid_alias_name_exception(
            "Alias must not begin with 'alias/aws/'. Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
        ));
    }
    if name == "alias/" {
        return Err(KmsError::invalid_alias_name_exception(
            "Alias must contain at least one character after the prefix \"alias/\".",
        ));
    }
    Ok(())
}

/// The alias record of `name` in the caller's account, or AWS's "not found".
async fn existing_alias(ctx: &RequestContext<'_>, name: &str) -> Result<AliasRecord, KmsError> {
    ctx.tx
        .get_record::<AliasRecord>(&alias_storage_key(ctx.scope, name))
        .await?
        .ok_or_else(|| crate::keys::alias_not_found(&alias_arn(ctx.scope, name)))
}

/// The key an existing alias points at.
async fn target_of(ctx: &RequestContext<'_>, alias: &AliasRecord) -> Result<Found, KmsError> {
    let key = ctx.tx.get_record::<KeyRecord>(&key_storage_key(ctx.scope, &alias.target_key_id)).await?;
    key.map(|key| Found { key, alias: None })
        .ok_or_else(|| crate::keys::key_does_not_exist(&ingot_keys::key_arn(ctx.scope, &alias.target_key_id)))
}

/// The target key of CreateAlias/UpdateAlias: a key id or key ARN of the caller's own account,
/// customer managed, not pending deletion.
async fn target_key(ctx: &RequestContext<'_>, action: &'static str, target: &str) -> Result<Found, KmsError> {
    if target.starts_with("alias/") || target.contains(":alias/") {
        return Err(ingot_core::CommonError::validation("Aliases must refer to keys. Not aliases").into());
    }
    let found = find_key(ctx, action, target, Forms::KeyOnly, false).await?;
    Ok(found)
}

impl Handler<CreateAlias> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::CreateAliasRequest,
    ) -> Result<ingot_core::Empty, KmsError> {
        let arn = alias_arn(ctx.scope, &input.alias_name);
        ctx.authorize::<CreateAlias>(Access::resource(&arn)).await?;
        let target = target_key(ctx, "kms:CreateAlias", &input.target_key_id).await?;
        authorize_key::<CreateAlias>(ctx, &target, KeyConditions::own_account()).await?;
        check_alias_name(&input.alias_name)?;
        check_customer_managed(ctx, &target.key, "kms:CreateAlias")?;
        check_not_pending_deletion(&target.key)?;
        let key_path = alias_storage_key(ctx.scope, &input.alias_name);
        if ctx.tx.get(&key_path).await?.is_some() {
            return Err(KmsError::already_exists_exception(format!("An alias with the name {arn} already exists")));
        }
        let alias = AliasRecord::new(ctx.scope, &input.alias_name, &target.key.key_id, ctx.now);
        ctx.tx.insert_new(&key_path, ingot_store::encode_record(&alias));
        let mut key = target.key;
        key.aliases.push(input.alias_name);
        save(ctx, &key)?;
        Ok(ingot_core::Empty {})
    }
}

impl Handler<UpdateAlias> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::UpdateAliasRequest,
    ) -> Result<ingot_core::Empty, KmsError> {
        let arn = alias_arn(ctx.scope, &input.alias_name);
        ctx.authorize::<UpdateAlias>(Access::resource(&arn)).await?;
        let target = target_key(ctx, "kms:UpdateAlias", &input.target_key_id).await?;
        authorize_key::<UpdateAlias>(ctx, &target, KeyConditions::own_account()).await?;
        check_alias_name(&input.alias_name)?;
        let mut alias = existing_alias(ctx, &input.alias_name).await?;
        let current = target_of(ctx, &alias).await?;
        authorize_key::<UpdateAlias>(ctx, &current, KeyConditions::own_account()).await?;
        check_customer_managed(ctx, &target.key, "kms:UpdateAlias")?;
        check_not_pending_deletion(&target.key)?;
        if current.key.key_spec.family() != target.key.key_spec.family()
            || current.key.key_usage != target.key.key_usage
        {
            return Err(ingot_core::CommonError::validation(format!(
                "{} key usage {} and key spec {} do not match the alias's current key's usage {} and key spec {}.",
                target.key.arn,
                target.key.key_usage.as_str(),
                target.key.key_spec.as_str(),
                current.key.key_usage.as_str(),
                current.key.key_spec.as_str(),
            ))
            .into());
        }
        if current.key.key_id == target.key.key_id {
            return Ok(ingot_core::Empty {});
        }
        let mut old = current.key;
        old.aliases.retain(|a| *a != input.alias_name);
        save(ctx, &old)?;
        let mut new = target.key;
        new.aliases.push(input.alias_name.clone());
        save(ctx, &new)?;
        alias.target_key_id = new.key_id.clone();
        alias.last_updated_date = ctx.now;
        ctx.tx.put_record(&alias_storage_key(ctx.scope, &input.alias_name), &alias);
        Ok(ingot_core::Empty {})
    }
}

impl Handler<DeleteAlias> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::DeleteAliasRequest,
    ) -> Result<ingot_core::Empty, KmsError> {
        let arn = alias_arn(ctx.scope, &input.alias_name);
        ctx.authorize::<DeleteAlias>(Access::resource(&arn)).await?;
        check_alias_name(&input.alias_name)?;
        let alias = existing_alias(ctx, &input.alias_name).await?;
        if let Ok(current) = target_of(ctx, &alias).await {
            authorize_key::<DeleteAlias>(ctx, &current, KeyConditions::own_account()).await?;
            let mut key = current.key;
            key.aliases.retain(|a| *a != input.alias_name);
            save(ctx, &key)?;
        }
        ctx.tx.delete(&alias_storage_key(ctx.scope, &input.alias_name));
        Ok(ingot_core::Empty {})
    }
}

impl Handler<ListAliases> for Kms {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: types::ListAliasesRequest,
    ) -> Result<types::ListAliasesResponse, KmsError> {
        ctx.authorize::<ListAliases>(Access::any_resource()).await?;
        let key_id = match input.key_id.as_deref() {
            Some(reference) => {
                let found = find_key(ctx, "kms:ListAliases", reference, Forms::KeyOnly, false).await?;
                if found.key.account != ctx.account().as_str() {
                    return Err(KmsError::Common(ingot_core::authz::denied(
                        &ctx.principal.arn,
                        "kms:ListAliases",
                        &found.key.arn,
                        "because no resource-based policy allows the kms:ListAliases action",
                    )));
                }
                Some(found.key.key_id)
            }
            None => None,
        };
        let query = format!("ListAliases;{}", key_id.as_deref().unwrap_or(""));
        let page = ingot_core::page::scan_page::<AliasRecord>(
            &ctx.tx,
            &aliases_prefix(ctx.scope),
            &query,
            input.marker.as_deref(),
            limit(input.limit),
            |alias| key_id.as_ref().is_none_or(|id| *id == alias.target_key_id),
        )
        .await
        .map_err(page_error)?;
        let truncated = page.is_truncated();
        Ok(types::ListAliasesResponse {
            aliases: Some(
                page.items
                    .into_iter()
                    .map(|a| types::AliasListEntry {
                        alias_name: Some(a.alias_name),
                        alias_arn: Some(a.alias_arn),
                        target_key_id: Some(a.target_key_id),
                        creation_date: Some(a.creation_date),
                        last_updated_date: Some(a.last_updated_date),
                    })
                    .collect(),
            ),
            next_marker: page.marker,
            truncated: Some(truncated),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_names_start_with_alias_and_not_with_aws() {
        assert!(check_alias_name("alias/app").is_ok());
        assert!(matches!(check_alias_name("app"), Err(KmsError::Common(_))));
        assert!(matches!(check_alias_name("alias/aws/app"), Err(KmsError::InvalidAliasNameException(_))));
        assert!(matches!(check_alias_name("alias/"), Err(KmsError::InvalidAliasNameException(_))));
    }
}
