//! What a handler asks before it touches state, and the trait of whoever decides.
//!
//! A handler asks with its operation's marker type, so the IAM action is the generated one
//! (`ctx.authorize::<LabelParameterVersion>(Access::resource(&arn)).await?`), and with an
//! [`Access`]: the resource ARN(s), the condition values only the service knows (resource and
//! request tags, `aws:TagKeys`, `kms:EncryptionContext:*`, `ec2:ResourceTag/*`, …) and the
//! resource's own policy where it has one. The [`Authorizer`] the binary wires in decides; it sees
//! the whole request context, including the unit of work, so the policies it reads join the
//! call's read set and a concurrent policy change conflicts with the decision like any write.

use crate::context::RequestContext;
use crate::error::CommonError;
use crate::operation::BoxFuture;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The resources an action is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resources<'a> {
    /// Actions that are not about one resource (IAM's `*`: DescribeRegions, DescribeParameters).
    All,
    One(&'a str),
    Many(&'a [String]),
}

impl<'a> Resources<'a> {
    /// Each resource ARN, `*` for [`Resources::All`].
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        let (one, many): (Option<&'a str>, &'a [String]) = match *self {
            Resources::All => (Some("*"), &[]),
            Resources::One(arn) => (Some(arn), &[]),
            Resources::Many(arns) => (None, arns),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
    }
}

/// One condition key and its values, as the service supplies it (`aws:ResourceTag/env` →
/// `["prod"]`; `aws:TagKeys` → every key of the request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionValue {
    pub key: String,
    pub values: Vec<String>,
}

/// An authorization request: what, on which resources, under which service-supplied conditions,
/// and the resource's own policy (a key policy, a topic policy) when it has one. The action comes
/// from the operation ([`RequestContext::authorize`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access<'a> {
    pub resources: Resources<'a>,
    pub conditions: Vec<ConditionValue>,
    /// The resource-based policy document (JSON), when the resource has one.
    pub resource_policy: Option<&'a str>,
    /// Whether the resource policy must itself allow (role trust policies, KMS key policies): an
    /// identity policy alone is never enough, and a statement naming the account delegates to
    /// the identity policies.
    pub resource_policy_required: bool,
    /// Whether something besides policies already allows the call (a KMS grant for this
    /// principal and operation): then only explicit denies and SCPs can refuse it.
    pub granted: bool,
}

impl<'a> Access<'a> {
    /// The action on one resource.
    pub fn resource(arn: &'a str) -> Self {
        Access { resources: Resources::One(arn), ..Access::any_resource() }
    }

    /// The action on several resources (each must be allowed).
    pub fn resources(arns: &'a [String]) -> Self {
        Access { resources: Resources::Many(arns), ..Access::any_resource() }
    }

    /// An action that is not about one resource (`*`).
    pub fn any_resource() -> Self {
        Access {
            resources: Resources::All,
            conditions: Vec::new(),
            resource_policy: None,
            resource_policy_required: false,
            granted: false,
        }
    }

    /// Adds a condition value the service knows (`aws:RequestTag/env`, `kms:EncryptionContext:app`).
    pub fn condition(mut self, key: impl Into<String>, values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.conditions.push(ConditionValue { key: key.into(), values: values.into_iter().map(Into::into).collect() });
        self
    }

    /// The resource's own tags, as `aws:ResourceTag/KEY` condition keys.
    pub fn with_resource_tags<'t>(mut self, tags: impl IntoIterator<Item = (&'t str, &'t str)>) -> Self {
        for (key, value) in tags {
            self = self.condition(["aws:ResourceTag/", key].concat(), [value]);
        }
        self
    }

    /// Tags the request sets: `aws:RequestTag/KEY` for each and `aws:TagKeys` for all (when any).
    pub fn with_request_tags<'t>(mut self, tags: impl IntoIterator<Item = (&'t str, &'t str)>) -> Self {
        let mut keys = Vec::new();
        for (key, value) in tags {
            keys.push(key.to_string());
            self = self.condition(["aws:RequestTag/", key].concat(), [value]);
        }
        if !keys.is_empty() {
            self = self.condition("aws:TagKeys", keys);
        }
        self
    }

    /// The resource's own policy, evaluated together with the caller's.
    pub fn with_resource_policy(mut self, policy: &'a str) -> Self {
        self.resource_policy = Some(policy);
        self
    }

    /// The resource's own policy when it alone can grant access (a role's trust policy, a KMS
    /// key policy).
    pub fn with_required_resource_policy(mut self, policy: &'a str) -> Self {
        self.resource_policy = Some(policy);
        self.resource_policy_required = true;
        self
    }

    /// A grant allows the call (KMS): policies can still deny it explicitly, SCPs still cap it.
    pub fn with_grant(mut self) -> Self {
        self.granted = true;
        self
    }

    /// The values of one condition key, if the service supplied it.
    pub fn condition_values(&self, key: &str) -> Option<&[String]> {
        self.conditions.iter().find(|c| c.key.eq_ignore_ascii_case(key)).map(|c| c.values.as_slice())
    }
}

/// Decides authorization requests. The binary chooses the implementation when it builds the
/// environment; handlers only ask, through [`RequestContext::authorize`].
pub trait Authorizer: Send + Sync + 'static {
    /// Allows `action` on `access`, or denies it with the service's access-denied error.
    fn authorize<'a>(
        &'a self,
        ctx: &'a RequestContext<'a>,
        action: &'static str,
        access: &'a Access<'a>,
    ) -> Decision<'a>;
}

/// A decision, ready at once (no policy had to be read) or still reading.
pub enum Decision<'a> {
    Ready(Option<Result<(), CommonError>>),
    Pending(BoxFuture<'a, Result<(), CommonError>>),
}

impl<'a> Decision<'a> {
    pub fn ready(result: Result<(), CommonError>) -> Self {
        Decision::Ready(Some(result))
    }

    pub fn pending(future: impl Future<Output = Result<(), CommonError>> + Send + 'a) -> Self {
        Decision::Pending(Box::pin(future))
    }
}

impl Future for Decision<'_> {
    type Output = Result<(), CommonError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            // A decision is polled to completion once; a second poll after `Ready` is a bug of
            // the caller and answers as an internal failure rather than panicking.
            Decision::Ready(result) => {
                Poll::Ready(result.take().unwrap_or_else(|| Err(CommonError::internal("decision polled twice"))))
            }
            Decision::Pending(future) => future.as_mut().poll(cx),
        }
    }
}

/// AWS's access-denied text: `User: ARN is not authorized to perform: ACTION on resource:
/// RESOURCE because …`.
pub fn denied(principal_arn: &str, action: &str, resource: &str, because: &str) -> CommonError {
    CommonError::access_denied(format!(
        "User: {principal_arn} is not authorized to perform: {action} on resource: {resource} {because}"
    ))
}

/// Binds sealed authorization messages to their purpose.
const AUTHORIZATION_MESSAGE_AAD: &[u8] = b"ingot:authorization-message";

/// EC2's encoded authorization failure message: the decision's details (JSON, in the shape STS
/// DecodeAuthorizationMessage returns) sealed under the master key, URL-safe base64.
pub fn encode_authorization_message(secrets: &crate::crypto::SecretBox, ids: &crate::IdGen, details: &str) -> String {
    use base64::Engine;
    let sealed = secrets.seal(ids, details.as_bytes(), AUTHORIZATION_MESSAGE_AAD);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed)
}

/// The details of a message made by [`encode_authorization_message`]; `None` for anything else.
pub fn decode_authorization_message(secrets: &crate::crypto::SecretBox, encoded: &str) -> Option<String> {
    use base64::Engine;
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded.trim().as_bytes()).ok()?;
    String::from_utf8(secrets.open(&sealed, AUTHORIZATION_MESSAGE_AAD).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_list_each_arn_and_star_for_all() {
        let many = vec!["a".to_string(), "b".to_string()];
        assert_eq!(Resources::All.iter().collect::<Vec<_>>(), ["*"]);
        assert_eq!(Resources::One("x").iter().collect::<Vec<_>>(), ["x"]);
        assert_eq!(Resources::Many(&many).iter().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn authorization_messages_decode_only_when_sealed_here() {
        let secrets = crate::crypto::SecretBox::new(&[3u8; 32]);
        let ids = crate::IdGen::seeded(1);
        let encoded = encode_authorization_message(&secrets, &ids, r#"{"allowed":false}"#);
        assert_eq!(decode_authorization_message(&secrets, &encoded).as_deref(), Some(r#"{"allowed":false}"#));
        assert_eq!(decode_authorization_message(&crate::crypto::SecretBox::new(&[4u8; 32]), &encoded), None);
        assert_eq!(decode_authorization_message(&secrets, "not-a-message"), None);
    }

    #[test]
    fn tags_become_the_global_tag_condition_keys() {
        let access = Access::resource("arn")
            .with_resource_tags([("env", "prod")])
            .with_request_tags([("team", "blue"), ("cost", "7")]);
        assert_eq!(access.condition_values("aws:ResourceTag/env"), Some(&["prod".to_string()][..]));
        assert_eq!(access.condition_values("aws:RequestTag/team"), Some(&["blue".to_string()][..]));
        assert_eq!(access.condition_values("aws:TagKeys"), Some(&["team".to_string(), "cost".to_string()][..]));
        assert_eq!(Access::any_resource().with_request_tags([]).condition_values("aws:TagKeys"), None);
    }

    #[test]
    fn condition_keys_are_found_whatever_their_case() {
        let access = Access::resource("arn").condition("aws:ResourceTag/env", ["prod"]);
        assert_eq!(access.condition_values("AWS:resourcetag/env"), Some(&["prod".to_string()][..]));
        assert_eq!(access.condition_values("aws:TagKeys"), None);
    }
}
