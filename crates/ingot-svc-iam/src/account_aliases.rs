//! CreateAccountAlias, DeleteAccountAlias, ListAccountAliases: the one alias an account may have
//! (a new one replaces the old), unique across the accounts of a partition.

use crate::access;
use crate::errors::IamError;
use crate::operations::{CreateAccountAlias, DeleteAccountAlias, ListAccountAliases};
use crate::pages::{max_items, page_of};
use crate::store::{account_alias_key, alias_owner_key, AccountAliasRecord, AliasOwnerRecord};
use crate::types::{
    CreateAccountAliasRequest, DeleteAccountAliasRequest, ListAccountAliasesRequest, ListAccountAliasesResponse,
};
use crate::Iam;
use ingot_core::{CommonError, Empty, Handler, RequestContext};

/// The model's pattern for an alias. The codec cannot check it (Java's look-ahead), so
/// [`check_alias`] does, and quotes it in the error as AWS does.
const ALIAS_PATTERN: &str = "^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$";

/// Lower-case letters, digits and single dashes, neither first nor last (the codec has checked
/// the length, 3 to 63).
fn check_alias(alias: &str) -> Result<(), IamError> {
    let bytes = alias.as_bytes();
    let allowed = bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    let well_placed = !alias.starts_with('-') && !alias.ends_with('-') && !alias.contains("--");
    if allowed && well_placed {
        return Ok(());
    }
    Err(CommonError::validation(format!(
        "1 validation error detected: Value '{alias}' at 'accountAlias' failed to satisfy constraint: \
         Member must satisfy regular expression pattern: {ALIAS_PATTERN}"
    ))
    .into())
}

async fn current_alias(ctx: &RequestContext<'_>) -> Result<Option<AccountAliasRecord>, IamError> {
    Ok(ctx.tx.get_record(&account_alias_key(&ctx.scope.account)).await?)
}

impl Handler<CreateAccountAlias> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: CreateAccountAliasRequest) -> Result<Empty, IamError> {
        access::authorize_any::<CreateAccountAlias>(ctx).await?;
        let alias = input.account_alias;
        check_alias(&alias)?;
        let owner_key = alias_owner_key(ctx.scope.partition(), &alias);
        match ctx.tx.get_record::<AliasOwnerRecord>(&owner_key).await? {
            Some(owner) if owner.account == ctx.scope.account => return Ok(Empty {}),
            Some(_) => {
                return Err(IamError::entity_already_exists_exception(format!(
                    "The account alias {alias} already exists."
                )))
            }
            None => {}
        }
        if let Some(previous) = current_alias(ctx).await? {
            ctx.tx.delete(&alias_owner_key(ctx.scope.partition(), &previous.alias));
        }
        ctx.tx.put_record(&owner_key, &AliasOwnerRecord { account: ctx.scope.account.clone() });
        ctx.tx.put_record(&account_alias_key(&ctx.scope.account), &AccountAliasRecord { alias });
        Ok(Empty {})
    }
}

impl Handler<DeleteAccountAlias> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: DeleteAccountAliasRequest) -> Result<Empty, IamError> {
        access::authorize_any::<DeleteAccountAlias>(ctx).await?;
        let alias = input.account_alias;
        check_alias(&alias)?;
        match current_alias(ctx).await? {
            Some(current) if current.alias == alias => {
                ctx.tx.delete(&alias_owner_key(ctx.scope.partition(), &alias));
                ctx.tx.delete(&account_alias_key(&ctx.scope.account));
                Ok(Empty {})
            }
            _ => Err(IamError::no_such_entity_exception(format!("The account alias {alias} cannot be found."))),
        }
    }
}

impl Handler<ListAccountAliases> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListAccountAliasesRequest,
    ) -> Result<ListAccountAliasesResponse, IamError> {
        access::authorize_any::<ListAccountAliases>(ctx).await?;
        let aliases = current_alias(ctx).await?.map(|r| (r.alias.clone(), r.alias)).into_iter().collect();
        let page = page_of(aliases, "ListAccountAliases", input.marker.as_deref(), max_items(input.max_items))?;
        Ok(ListAccountAliasesResponse {
            is_truncated: Some(page.is_truncated()),
            account_aliases: page.items,
            marker: page.marker,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alias_of_lower_case_letters_digits_and_single_inner_dashes_is_accepted() {
        for alias in ["abc", "my-corp-2", "0a0"] {
            assert!(check_alias(alias).is_ok(), "{alias}");
        }
    }

    #[test]
    fn an_alias_with_capitals_double_dashes_or_a_dash_at_either_end_is_refused_with_the_models_pattern() {
        for alias in ["Abc", "a--b", "-ab", "ab-", "a_b"] {
            let message = check_alias(alias).unwrap_err().message().unwrap_or_default().to_string();
            assert!(message.contains(&format!("Value '{alias}' at 'accountAlias'")), "{message}");
            assert!(message.ends_with(ALIAS_PATTERN), "{message}");
        }
    }
}
