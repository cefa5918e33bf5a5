//! What a request brings to the engine: the action and resource, who asks, and the context keys.

use std::collections::HashMap;
use std::sync::Arc;

/// The request as the engine sees it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `service:Action`, for example `ssm:GetParameter`; matched case-insensitively.
    pub action: &'a str,
    /// An ARN, or `*` for actions that are not about one resource.
    pub resource: &'a str,
    pub principal: &'a PrincipalFacts,
    pub context: &'a ContextKeys,
}

/// Who asks, for matching `Principal` / `NotPrincipal` in resource and trust policies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrincipalFacts {
    /// The caller's account id, `111122223333`.
    pub account: String,
    /// The caller ARN: root ARN, user ARN, session ARN `arn:aws:sts::A:assumed-role/R/S`, or
    /// federated-user ARN.
    pub arn: String,
    /// The identity behind the caller: user ARN, role ARN (with path) for role sessions, the IAM
    /// user for a federated session, root ARN for root. Equal to `arn` for users and root.
    pub identity_arn: String,
    /// `AIDA…` / `AROA…`: trust policies may name principals by unique id.
    pub unique_id: Option<String>,
    /// `ec2.amazonaws.com` when a service principal asks (then `AWS` principals never match).
    pub service: Option<String>,
    /// The identity provider of a web-identity or SAML session (matched by `Federated`).
    pub federated: Option<String>,
}

impl PrincipalFacts {
    /// An account's root user.
    pub fn root(account: &str) -> Self {
        let arn = format!("arn:aws:iam::{account}:root");
        PrincipalFacts { account: account.to_string(), identity_arn: arn.clone(), arn, ..Default::default() }
    }

    /// An IAM user: caller and identity are the same ARN.
    pub fn user(account: &str, user_arn: &str, unique_id: Option<&str>) -> Self {
        PrincipalFacts {
            account: account.to_string(),
            arn: user_arn.to_string(),
            identity_arn: user_arn.to_string(),
            unique_id: unique_id.map(str::to_string),
            ..Default::default()
        }
    }

    /// A role session: `session_arn` is `arn:aws:sts::A:assumed-role/R/S`, `role_arn` the role's
    /// IAM ARN with its path, `role_id` the role's `AROA…` id.
    pub fn role_session(account: &str, session_arn: &str, role_arn: &str, role_id: Option<&str>) -> Self {
        PrincipalFacts {
            account: account.to_string(),
            arn: session_arn.to_string(),
            identity_arn: role_arn.to_string(),
            unique_id: role_id.map(str::to_string),
            ..Default::default()
        }
    }

    /// A service principal such as `ec2.amazonaws.com` acting on its own behalf.
    pub fn service(service: &str) -> Self {
        PrincipalFacts { service: Some(service.to_string()), ..Default::default() }
    }

    /// True when the caller is the account's root user.
    pub fn is_root(&self) -> bool {
        self.service.is_none() && root_account_of(&self.identity_arn) == Some(self.account.as_str())
    }
}

/// `arn:<partition>:iam::<account>:root` → the account.
pub(crate) fn root_account_of(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (prefix, _partition, service, region, account, resource) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (prefix == "arn" && service == "iam" && region.is_empty() && resource == "root").then_some(account)
}

/// Context keys and their values. Key names are case-insensitive (stored lowercased, tag keys in
/// `aws:ResourceTag/x` included); values are strings (`"true"`, `"1700000000"`,
/// `"2026-01-01T00:00:00Z"`, `"10.0.0.1"`, base64 for binary keys). A key may be multivalued.
///
/// A context may sit over a shared base ([`ContextKeys::over`]): the keys that are the same for
/// every request of one principal are built once, and each request adds its own on top.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextKeys {
    values: HashMap<String, Vec<String>>,
    base: Option<Arc<ContextKeys>>,
}

impl ContextKeys {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty context whose lookups fall back to `base`; keys set here hide the base's.
    pub fn over(base: Arc<ContextKeys>) -> Self {
        ContextKeys { values: HashMap::new(), base: Some(base) }
    }

    /// Sets (replaces) a key's values.
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        self.values.insert(lower_key(key), values);
    }

    /// Sets a single-valued key.
    pub fn set_one(&mut self, key: &str, value: impl Into<String>) {
        self.set(key, vec![value.into()]);
    }

    /// Builder form of [`ContextKeys::set_one`].
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.set_one(key, value);
        self
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        if is_lower(key) {
            self.get_lowered(key)
        } else {
            self.get_lowered(&lower_key(key))
        }
    }

    /// Removes a key set on this context (a base's keys stay).
    pub fn remove(&mut self, key: &str) -> Option<Vec<String>> {
        self.values.remove(&lower_key(key))
    }

    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.base.as_ref().is_none_or(|b| b.is_empty())
    }

    /// The keys present, lowercased, in no particular order (a key set here and in the base
    /// once).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        let own = self.values.keys().map(String::as_str);
        let base = self.base.iter().flat_map(|b| b.keys().filter(|k| !self.values.contains_key(*k)));
        own.chain(base).collect::<Vec<_>>().into_iter()
    }

    /// Lookup with a key already lowercased by [`lower_key`] (the compiled policy's keys are).
    pub(crate) fn get_lowered(&self, lowered: &str) -> Option<&[String]> {
        match self.values.get(lowered) {
            Some(values) => Some(values.as_slice()),
            None => self.base.as_ref()?.get_lowered(lowered),
        }
    }
}

/// The one normalisation of key names, shared by the context and the compiled policies.
pub(crate) fn lower_key(key: &str) -> String {
    if key.is_ascii() {
        key.to_ascii_lowercase()
    } else {
        key.to_lowercase()
    }
}

fn is_lower(key: &str) -> bool {
    if key.is_ascii() {
        !key.bytes().any(|b| b.is_ascii_uppercase())
    } else {
        !key.chars().any(char::is_uppercase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_key_names_are_case_insensitive() {
        let mut ctx = ContextKeys::new();
        ctx.set_one("aws:SourceIp", "10.0.0.1");
        assert_eq!(ctx.get("AWS:sourceip"), Some(&["10.0.0.1".to_string()][..]));
        assert_eq!(ctx.get("aws:sourceip"), Some(&["10.0.0.1".to_string()][..]));
        assert!(ctx.contains("Aws:SourceIP"));
        assert_eq!(ctx.keys().collect::<Vec<_>>(), vec!["aws:sourceip"]);
    }

    #[test]
    fn tag_keys_inside_context_key_names_are_case_insensitive() {
        let ctx = ContextKeys::new().with("aws:ResourceTag/Team", "blue");
        assert!(ctx.get("aws:resourcetag/TEAM").is_some());
    }

    #[test]
    fn a_key_may_hold_several_values_and_be_replaced_or_removed() {
        let mut ctx = ContextKeys::new();
        ctx.set("aws:TagKeys", vec!["a".into(), "b".into()]);
        assert_eq!(ctx.get("aws:tagkeys").map(<[String]>::len), Some(2));
        ctx.set("aws:TagKeys", vec!["c".into()]);
        assert_eq!(ctx.get("aws:tagkeys").map(<[String]>::len), Some(1));
        assert!(ctx.remove("AWS:TAGKEYS").is_some());
        assert!(ctx.is_empty());
    }

    #[test]
    fn a_context_over_a_base_sees_the_bases_keys_and_hides_those_it_sets() {
        let base = Arc::new(ContextKeys::new().with("aws:PrincipalAccount", "1").with("aws:SourceIp", "10.0.0.1"));
        let mut ctx = ContextKeys::over(base);
        ctx.set_one("aws:SourceIp", "10.0.0.2");
        assert_eq!(ctx.get("aws:principalaccount"), Some(&["1".to_string()][..]));
        assert_eq!(ctx.get("aws:sourceip"), Some(&["10.0.0.2".to_string()][..]));
        let mut keys: Vec<&str> = ctx.keys().collect();
        keys.sort();
        assert_eq!(keys, vec!["aws:principalaccount", "aws:sourceip"]);
        assert!(!ctx.is_empty());
    }

    #[test]
    fn a_root_caller_is_recognised_by_its_root_arn() {
        assert!(PrincipalFacts::root("111122223333").is_root());
        let user = PrincipalFacts::user("111122223333", "arn:aws:iam::111122223333:user/u", None);
        assert!(!user.is_root());
        assert_eq!(root_account_of("arn:aws:iam::111122223333:root"), Some("111122223333"));
        assert_eq!(root_account_of("arn:aws:iam::111122223333:user/root"), None);
    }
}
