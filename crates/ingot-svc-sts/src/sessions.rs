//! Temporary credentials: AssumeRole (a role session) and GetSessionToken (the caller's own
//! permissions for a while). A session is an access key record like any other
//! (`global/iam/access-keys/ASIA…`) whose principal carries the session's facts and whose session
//! token is kept only as its SHA-256; the gateway checks the token and the expiry on every call.

use crate::errors::StsError;
use crate::operations::{AssumeRole, GetSessionToken};
use crate::types::{
    AssumeRoleRequest, AssumeRoleResponse, AssumedRoleUser, Credentials, GetSessionTokenRequest,
    GetSessionTokenResponse,
};
use crate::Sts;
use base64::Engine;
use ingot_core::credentials::{access_key_storage_key, new_access_key_id, AccessKeyRecord};
use ingot_core::{
    Access, AccountId, CommonError, Handler, Principal, PrincipalKind, RequestContext, Session, Timestamp,
};
use ingot_identity::iam::{entity_name_key, parse_entity_arn, EntityKind};
use ingot_identity::RoleRecord;
use ingot_policy::engine::{Policy, PolicyKind};

/// Role chaining (a role session assuming a role) is capped at one hour.
const CHAINED_MAX_SECONDS: i64 = 3600;
/// Inline and managed session policies and session tags share this much packed space.
const PACKED_LIMIT: usize = 2048;
/// GetSessionToken's bounds, and the root user's cap.
const SESSION_TOKEN_DEFAULT_SECONDS: i64 = 43_200;
const ROOT_SESSION_MAX_SECONDS: i64 = 3600;

impl Handler<AssumeRole> for Sts {
    async fn handle(&self, ctx: &RequestContext<'_>, input: AssumeRoleRequest) -> Result<AssumeRoleResponse, StsError> {
        let caller = ctx.principal;
        if caller.kind == PrincipalKind::Root {
            return Err(CommonError::access_denied("Roles may not be assumed by root accounts.").into());
        }
        let role_arn = input.role_arn.as_str();
        let parsed = parse_entity_arn(role_arn)
            .filter(|p| p.kind == EntityKind::Role)
            .ok_or_else(|| CommonError::validation(format!("{role_arn} is invalid")))?;
        let not_authorized = || denied_action(caller, "sts:AssumeRole", role_arn);
        let role_account = AccountId::parse(parsed.account).ok_or_else(not_authorized)?;
        let key = entity_name_key(&role_account, EntityKind::Role, parsed.name);
        // A role that does not exist (or not at this path) is refused like one that does not
        // trust the caller: AWS does not tell the two apart.
        let role =
            ctx.tx.get_record::<RoleRecord>(&key).await?.filter(|r| r.arn == role_arn).ok_or_else(not_authorized)?;

        let request_tags: Vec<(String, String)> =
            input.tags.iter().flatten().map(|t| (t.key.clone(), t.value.clone())).collect();
        // A source identity set earlier in a chain of sessions stays, and cannot change.
        let inherited = caller.session.as_deref().and_then(|s| s.source_identity.clone());
        let source_identity = match (inherited, &input.source_identity) {
            (Some(inherited), Some(asked)) if &inherited != asked => {
                return Err(denied_action(caller, "sts:SetSourceIdentity", role_arn).into());
            }
            (Some(inherited), _) => Some(inherited),
            (None, asked) => asked.clone(),
        };
        // The request's tags, the role's own tags and the STS keys are in the context of every
        // action the trust policy is asked about.
        let mut access = Access::resource(role_arn)
            .with_required_resource_policy(&role.assume_role_policy)
            .with_resource_tags(role.tags.iter().map(|t| (t.key.as_str(), t.value.as_str())))
            .with_request_tags(request_tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .condition("sts:RoleSessionName", [input.role_session_name.as_str()]);
        if let Some(keys) = &input.transitive_tag_keys {
            access = access.condition("sts:TransitiveTagKeys", keys.iter().map(String::as_str));
        }
        if let Some(external_id) = &input.external_id {
            access = access.condition("sts:ExternalId", [external_id.as_str()]);
        }
        if let Some(source_identity) = &source_identity {
            access = access.condition("sts:SourceIdentity", [source_identity.as_str()]);
        }
        only_denials(ctx.authorize::<AssumeRole>(access.clone()).await, not_authorized)?;
        if !request_tags.is_empty() {
            let tagging = ctx.authorize_dependent("sts:TagSession", access.clone()).await;
            only_denials(tagging, || denied_action(caller, "sts:TagSession", role_arn))?;
        }
        if source_identity.is_some() {
            let setting = ctx.authorize_dependent("sts:SetSourceIdentity", access).await;
            only_denials(setting, || denied_action(caller, "sts:SetSourceIdentity", role_arn))?;
        }

        let chained = caller.kind == PrincipalKind::AssumedRole;
        let duration = i64::from(input.duration_seconds.unwrap_or(3600));
        if chained && duration > CHAINED_MAX_SECONDS {
            return Err(CommonError::validation(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            )
            .into());
        }
        if duration > role.max_session_duration {
            return Err(CommonError::validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            )
            .into());
        }
        if let Some(policy) = &input.policy {
            Policy::parse(policy, PolicyKind::Session)
                .map_err(|e| StsError::malformed_policy_document_exception(e.message))?;
        }
        let policy_arns: Vec<String> = input.policy_arns.iter().flatten().filter_map(|p| p.arn.clone()).collect();
        for arn in &policy_arns {
            if parse_entity_arn(arn).filter(|p| p.kind == EntityKind::Policy).is_none() {
                return Err(CommonError::validation(format!("{arn} is invalid")).into());
            }
        }

        let session = session_tags(caller, &request_tags, input.transitive_tag_keys.as_deref())?;
        let packed = packed_percent(input.policy.as_deref(), &policy_arns, &session.0);
        if packed > 100 {
            return Err(StsError::packed_policy_too_large_exception(format!(
                "Packed policy consumes {packed}% of allotted space, please use smaller policy."
            )));
        }
        let session_name = input.role_session_name.clone();
        let principal = Principal {
            account: role_account.clone(),
            arn: format!(
                "arn:{}:sts::{}:assumed-role/{}/{}",
                ctx.scope.partition(),
                role_account,
                role.name,
                session_name
            ),
            user_id: format!("{}:{}", role.id, session_name),
            kind: PrincipalKind::AssumedRole,
            session: Some(Box::new(Session {
                identity_arn: role.arn.clone(),
                role_id: Some(role.id.clone()),
                issued: ctx.now,
                expires: Timestamp(ctx.now.millis() + duration * 1000),
                policies: input.policy.clone().into_iter().collect(),
                policy_arns,
                tags: session.0,
                transitive_tag_keys: session.1,
                source_identity: source_identity.clone(),
                chained,
            })),
        };
        let credentials = issue(ctx, principal.clone());
        let has_packed = input.policy.is_some() || input.policy_arns.is_some() || input.tags.is_some();
        Ok(AssumeRoleResponse {
            credentials: Some(credentials),
            assumed_role_user: Some(AssumedRoleUser { assumed_role_id: principal.user_id, arn: principal.arn }),
            packed_policy_size: has_packed.then_some(packed as i32),
            source_identity,
            session_token_utilization: None,
            session_token_size: None,
        })
    }
}

/// AssumeRole's denials name the action and the role, and no reason.
fn denied_action(caller: &Principal, action: &str, role_arn: &str) -> CommonError {
    CommonError::access_denied(format!(
        "User: {} is not authorized to perform: {action} on resource: {role_arn}",
        caller.arn
    ))
}

/// A denial becomes AssumeRole's own wording; any other failure passes unchanged.
fn only_denials(result: Result<(), CommonError>, denial: impl FnOnce() -> CommonError) -> Result<(), CommonError> {
    match result {
        Err(e) if e.kind == ingot_core::CommonKind::AccessDenied => Err(denial()),
        other => other,
    }
}

/// A session's tags and which of their keys are transitive.
type SessionTags = (Vec<(String, String)>, Vec<String>);

/// The new session's tags and transitive keys: the caller's transitive tags pass on, and the
/// request's tags join them; a request may not set a key it inherited transitively.
fn session_tags(
    caller: &Principal,
    request: &[(String, String)],
    transitive: Option<&[String]>,
) -> Result<SessionTags, StsError> {
    let mut tags = Vec::new();
    let mut keys = Vec::new();
    if let Some(session) = caller.session.as_deref() {
        for key in &session.transitive_tag_keys {
            if let Some(tag) = session.tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                tags.push(tag.clone());
                keys.push(key.clone());
            }
        }
    }
    for (key, value) in request {
        if tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            return Err(CommonError::validation(format!(
                "One or more transitive tag keys in the session are also in the request's tags: {key}"
            ))
            .into());
        }
        if request.iter().filter(|(k, _)| k.eq_ignore_ascii_case(key)).count() > 1 {
            return Err(CommonError::validation(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            )
            .into());
        }
        tags.push((key.clone(), value.clone()));
    }
    for key in transitive.unwrap_or_default() {
        if !request.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            return Err(CommonError::validation(format!(
                "The transitive tag key {key} is not one of the session tags of this request."
            ))
            .into());
        }
        if !keys.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            keys.push(key.clone());
        }
    }
    Ok((tags, keys))
}

/// How much of the packed space the session policies and tags take, in percent (rounded up).
fn packed_percent(policy: Option<&str>, policy_arns: &[String], tags: &[(String, String)]) -> usize {
    let policy_len = policy.map_or(0, |p| p.chars().filter(|c| !c.is_whitespace()).count());
    let arns_len: usize = policy_arns.iter().map(String::len).sum();
    let tags_len: usize = tags.iter().map(|(k, v)| k.len() + v.len()).sum();
    (policy_len + arns_len + tags_len).saturating_mul(100).div_ceil(PACKED_LIMIT)
}

impl Handler<GetSessionToken> for Sts {
    async fn handle(
        &self,
        ctx: &RequestContext<'_>,
        input: GetSessionTokenRequest,
    ) -> Result<GetSessionTokenResponse, StsError> {
        // AWS requires no permission for this call ("no permissions are required for users to
        // perform this operation"): the credentials it returns carry the caller's own
        // permissions, no more.
        let caller = ctx.principal;
        if caller.is_session() || caller.kind == PrincipalKind::AssumedRole {
            return Err(CommonError::access_denied("Cannot call GetSessionToken with session credentials").into());
        }
        let mut duration = i64::from(input.duration_seconds.unwrap_or(SESSION_TOKEN_DEFAULT_SECONDS as i32));
        if caller.kind == PrincipalKind::Root {
            // The root user's sessions last at most an hour; longer requests are clamped quietly.
            duration = duration.min(ROOT_SESSION_MAX_SECONDS);
        }
        let principal = Principal {
            session: Some(Box::new(Session {
                identity_arn: caller.arn.clone(),
                role_id: None,
                issued: ctx.now,
                expires: Timestamp(ctx.now.millis() + duration * 1000),
                policies: Vec::new(),
                policy_arns: Vec::new(),
                tags: Vec::new(),
                transitive_tag_keys: Vec::new(),
                source_identity: None,
                chained: false,
            })),
            ..caller.clone()
        };
        Ok(GetSessionTokenResponse {
            credentials: Some(issue(ctx, principal)),
            session_token_utilization: None,
            session_token_size: None,
        })
    }
}

/// Writes the session's access key record and returns its credentials.
fn issue(ctx: &RequestContext<'_>, principal: Principal) -> Credentials {
    let access_key_id = new_access_key_id(ctx.ids(), "ASIA", &principal.account);
    let secret = ctx.ids().secret_access_key();
    // The token is opaque to clients; AWS's are a few hundred base64 characters.
    let token = base64::engine::general_purpose::STANDARD.encode(ctx.ids().bytes(240));
    let expires = principal.session.as_ref().map_or(ctx.now, |s| s.expires);
    let mut record = AccessKeyRecord::new(access_key_id.clone(), &secret, principal, ctx.secrets(), ctx.ids(), ctx.now);
    record.session_token_sha256 = Some(ingot_core::crypto::sha256_hex(token.as_bytes()));
    ctx.tx.put_record(&access_key_storage_key(&access_key_id), &record);
    Credentials { access_key_id, secret_access_key: secret, session_token: token, expiration: expires }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_size_counts_policy_without_whitespace_arns_and_tags() {
        assert_eq!(packed_percent(None, &[], &[]), 0);
        assert_eq!(packed_percent(Some("{ \"a\" }"), &[], &[]), 1);
        let big = "x".repeat(2049);
        assert_eq!(packed_percent(Some(&big), &[], &[]), 101);
    }

    #[test]
    fn transitive_tags_pass_on_and_cannot_be_set_again() {
        let mut caller = Principal::root(AccountId::parse("111122223333").unwrap());
        caller.kind = PrincipalKind::AssumedRole;
        caller.session = Some(Box::new(Session {
            identity_arn: "arn:aws:iam::111122223333:role/r".into(),
            role_id: None,
            issued: Timestamp(0),
            expires: Timestamp(1),
            policies: vec![],
            policy_arns: vec![],
            tags: vec![("team".into(), "a".into()), ("temp".into(), "x".into())],
            transitive_tag_keys: vec!["team".into()],
            source_identity: None,
            chained: false,
        }));
        let (tags, keys) = session_tags(&caller, &[("env".into(), "prod".into())], None).unwrap();
        assert_eq!(tags, vec![("team".to_string(), "a".to_string()), ("env".to_string(), "prod".to_string())]);
        assert_eq!(keys, vec!["team".to_string()]);
        assert!(session_tags(&caller, &[("TEAM".into(), "b".into())], None).is_err());
    }
}
