//! Access keys: CreateAccessKey, DeleteAccessKey, UpdateAccessKey, ListAccessKeys and
//! GetAccessKeyLastUsed. A key's record is installation-wide (`global/iam/access-keys/ID`, what
//! the gateway authenticates with) and holds the principal the key speaks for; the holder keeps
//! the ids of its keys (`UserRecord::access_keys`, or the account's `RootAccessKeysRecord`), at
//! most two, active and inactive together. Without `UserName` a call acts on the caller: root on
//! its own keys, an IAM user on its own.

use crate::access;
use crate::errors::IamError;
use crate::operations::{CreateAccessKey, DeleteAccessKey, GetAccessKeyLastUsed, ListAccessKeys, UpdateAccessKey};
use crate::pages::{max_items, page_of};
use crate::store::{self, RootAccessKeysRecord};
use crate::types::{
    AccessKey, AccessKeyLastUsed, AccessKeyMetadata, CreateAccessKeyRequest, CreateAccessKeyResponse,
    DeleteAccessKeyRequest, GetAccessKeyLastUsedRequest, GetAccessKeyLastUsedResponse, ListAccessKeysRequest,
    ListAccessKeysResponse, StatusType, UpdateAccessKeyRequest,
};
use crate::users::{caller, must_name_user, user_for, Caller};
use crate::Iam;
use ingot_core::credentials::{access_key_storage_key, new_access_key_id, AccessKeyRecord};
use ingot_core::{Empty, Handler, Operation, Principal, PrincipalKind, RequestContext};
use ingot_identity::iam::{parse_entity_arn, EntityKind};
use ingot_identity::UserRecord;

/// Access keys a user (or root) may hold, active and inactive together.
pub const MAX_KEYS: usize = 2;

/// What AWS reports as the name of the root user's keys' owner.
const ROOT_NAME: &str = "root";

/// Whose keys a call is about.
enum Holder {
    Root,
    User(Box<UserRecord>),
}

impl Holder {
    fn name(&self) -> &str {
        match self {
            Holder::Root => ROOT_NAME,
            Holder::User(user) => &user.name,
        }
    }
}

/// The holder `user_name` names, or the caller; authorized for `Op` on its ARN.
async fn holder_for<Op: Operation>(ctx: &RequestContext<'_>, user_name: Option<&str>) -> Result<Holder, IamError> {
    let name = match (user_name, caller(ctx)) {
        (Some(name), _) => name.to_string(),
        (None, Caller::User(name)) => name,
        (None, Caller::Root) => {
            access::authorize::<Op>(ctx, &store::root_arn(ctx), &[]).await?;
            return Ok(Holder::Root);
        }
        (None, Caller::Other) => {
            access::authorize_any::<Op>(ctx).await?;
            return Err(must_name_user());
        }
    };
    Ok(Holder::User(Box::new(user_for::<Op>(ctx, &name, |a| a).await?)))
}

/// Whether `record` is a long-term key of the root user of the caller's account.
fn is_root_key(ctx: &RequestContext<'_>, record: &AccessKeyRecord) -> bool {
    record.principal.kind == PrincipalKind::Root
        && record.principal.account == ctx.scope.account
        && record.principal.session.is_none()
        && record.session_token_sha256.is_none()
}

async fn load_key(ctx: &RequestContext<'_>, id: &str) -> Result<Option<AccessKeyRecord>, IamError> {
    Ok(ctx.tx.get_record(&access_key_storage_key(id)).await?)
}

/// The root user's key ids: those IAM made, and the key of the calling root itself when it was
/// made outside IAM (the key that bootstrapped the management account).
async fn root_key_ids(ctx: &RequestContext<'_>) -> Result<Vec<String>, IamError> {
    let key = store::root_access_keys_key(&ctx.scope.account);
    let mut ids = ctx.tx.get_record::<RootAccessKeysRecord>(&key).await?.unwrap_or_default().ids;
    if ctx.principal.kind == PrincipalKind::Root {
        if let Some(own) = ctx.origin.access_key_id.filter(|id| !ids.iter().any(|i| i == id)) {
            if load_key(ctx, own).await?.is_some_and(|r| is_root_key(ctx, &r)) {
                ids.insert(0, own.to_string());
            }
        }
    }
    Ok(ids)
}

/// The holder's key ids, oldest first.
async fn key_ids(ctx: &RequestContext<'_>, holder: &Holder) -> Result<Vec<String>, IamError> {
    match holder {
        Holder::Root => root_key_ids(ctx).await,
        Holder::User(user) => Ok(user.access_keys.clone()),
    }
}

/// Writes the holder's key ids.
fn save_key_ids(ctx: &RequestContext<'_>, holder: &mut Holder, ids: Vec<String>) {
    match holder {
        Holder::Root => {
            ctx.tx.put_record(&store::root_access_keys_key(&ctx.scope.account), &RootAccessKeysRecord { ids });
        }
        Holder::User(user) => {
            user.access_keys = ids;
            store::save_user(ctx, user);
        }
    }
}

/// The holder's key `id`, or `NoSuchEntity`.
async fn holders_key(
    ctx: &RequestContext<'_>,
    holder: &Holder,
    id: &str,
) -> Result<(Vec<String>, AccessKeyRecord), IamError> {
    let ids = key_ids(ctx, holder).await?;
    if !ids.iter().any(|i| i == id) {
        return Err(store::no_such_access_key(id));
    }
    let record = load_key(ctx, id).await?.ok_or_else(|| store::no_such_access_key(id))?;
    Ok((ids, record))
}

fn status(active: bool) -> StatusType {
    if active {
        StatusType::Active
    } else {
        StatusType::Inactive
    }
}

impl Handler<CreateAccessKey> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: CreateAccessKeyRequest,
    ) -> Result<CreateAccessKeyResponse, IamError> {
        let mut holder = holder_for::<CreateAccessKey>(ctx, input.user_name.as_deref()).await?;
        let mut ids = key_ids(ctx, &holder).await?;
        if ids.len() >= MAX_KEYS {
            return Err(IamError::limit_exceeded_exception(format!(
                "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS}"
            )));
        }
        let account = &ctx.scope.account;
        let principal = match &holder {
            Holder::Root => Principal::root(account.clone()),
            Holder::User(user) => Principal {
                account: account.clone(),
                arn: user.arn.clone(),
                user_id: user.id.clone(),
                kind: PrincipalKind::User,
                session: None,
            },
        };
        let id = new_access_key_id(ctx.ids(), "AKIA", account);
        let secret = ctx.ids().secret_access_key();
        let record = AccessKeyRecord::new(id.clone(), &secret, principal, ctx.secrets(), ctx.ids(), ctx.now);
        ctx.tx.insert_new(&access_key_storage_key(&id), ingot_store::encode_record(&record));
        ids.push(id.clone());
        let user_name = holder.name().to_string();
        save_key_ids(ctx, &mut holder, ids);
        Ok(CreateAccessKeyResponse {
            access_key: AccessKey {
                user_name,
                access_key_id: id,
                status: StatusType::Active,
                secret_access_key: secret,
                create_date: Some(ctx.now),
            },
        })
    }
}

impl Handler<DeleteAccessKey> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: DeleteAccessKeyRequest) -> Result<Empty, IamError> {
        let mut holder = holder_for::<DeleteAccessKey>(ctx, input.user_name.as_deref()).await?;
        let (mut ids, _) = holders_key(ctx, &holder, &input.access_key_id).await?;
        ctx.tx.delete(&access_key_storage_key(&input.access_key_id));
        ids.retain(|i| *i != input.access_key_id);
        save_key_ids(ctx, &mut holder, ids);
        Ok(Empty {})
    }
}

impl Handler<UpdateAccessKey> for Iam {
    async fn handle(&self, ctx: &RequestContext<'_>, input: UpdateAccessKeyRequest) -> Result<Empty, IamError> {
        let holder = holder_for::<UpdateAccessKey>(ctx, input.user_name.as_deref()).await?;
        let (_, mut record) = holders_key(ctx, &holder, &input.access_key_id).await?;
        let active = match input.status {
            StatusType::Active => true,
            StatusType::Inactive => false,
            StatusType::Expired => {
                return Err(IamError::invalid_input_exception("The status of an access key can be Active or Inactive."))
            }
        };
        if record.active != active {
            record.active = active;
            ctx.tx.put_record(&access_key_storage_key(&input.access_key_id), &record);
        }
        Ok(Empty {})
    }
}

impl Handler<ListAccessKeys> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: ListAccessKeysRequest,
    ) -> Result<ListAccessKeysResponse, IamError> {
        let holder = holder_for::<ListAccessKeys>(ctx, input.user_name.as_deref()).await?;
        let user_name = match &holder {
            Holder::Root => None,
            Holder::User(user) => Some(user.name.clone()),
        };
        let mut items = Vec::new();
        for (index, id) in key_ids(ctx, &holder).await?.into_iter().enumerate() {
            if let Some(record) = load_key(ctx, &id).await? {
                let metadata = AccessKeyMetadata {
                    user_name: user_name.clone(),
                    access_key_id: Some(id),
                    status: Some(status(record.active)),
                    create_date: Some(record.created),
                };
                items.push((format!("{index:04}"), metadata));
            }
        }
        let query = format!("ListAccessKeys\n{}", holder.name().to_ascii_lowercase());
        let page = page_of(items, &query, input.marker.as_deref(), max_items(input.max_items))?;
        Ok(ListAccessKeysResponse {
            is_truncated: Some(page.is_truncated()),
            marker: page.marker,
            access_key_metadata: page.items,
        })
    }
}

impl Handler<GetAccessKeyLastUsed> for Iam {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: GetAccessKeyLastUsedRequest,
    ) -> Result<GetAccessKeyLastUsedResponse, IamError> {
        let id = &input.access_key_id;
        let record = load_key(ctx, id).await?.filter(|r| {
            r.principal.account == ctx.scope.account
                && r.session_token_sha256.is_none()
                && matches!(r.principal.kind, PrincipalKind::Root | PrincipalKind::User)
        });
        let Some(record) = record else {
            access::authorize_any::<GetAccessKeyLastUsed>(ctx).await?;
            return Err(store::no_such_access_key(id));
        };
        access::authorize::<GetAccessKeyLastUsed>(ctx, &record.principal.arn, &[]).await?;
        let user_name = match record.principal.kind {
            PrincipalKind::User => parse_entity_arn(&record.principal.arn)
                .filter(|p| p.kind == EntityKind::User)
                .map_or_else(|| record.principal.arn.clone(), |p| p.name.to_string()),
            _ => ROOT_NAME.to_string(),
        };
        Ok(GetAccessKeyLastUsedResponse {
            user_name: Some(user_name),
            access_key_last_used: Some(AccessKeyLastUsed {
                last_used_date: None,
                service_name: "N/A".to_string(),
                region: "N/A".to_string(),
            }),
        })
    }
}
