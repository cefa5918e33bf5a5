//! The context every handler receives: the environment, who calls where, and the call's unit of
//! work.

use crate::authz::Access;
use crate::crypto::SecretBox;
use crate::env::Env;
use crate::error::CommonError;
use crate::identity::{AccountId, Principal, Region};
use crate::ids::IdGen;
use crate::invoke::Origin;
use crate::operation::Operation;
use crate::scope::Scope;
use crate::time::Timestamp;
use ingot_store::Tx;

pub struct RequestContext<'a> {
    pub env: &'a Env,
    /// The account and region the call acts in.
    pub scope: &'a Scope,
    pub principal: &'a Principal,
    pub origin: Origin<'a>,
    /// The clock reading when the call started.
    pub now: Timestamp,
    /// The call's unit of work: writes and events are buffered and committed together with the
    /// call's audit record, or discarded when the handler fails.
    pub tx: Tx,
}

impl<'a> RequestContext<'a> {
    /// Asks the authorizer whether the principal may perform `Op` on `access`. Every handler
    /// calls this before it touches state.
    pub async fn authorize<Op: Operation>(&self, access: Access<'_>) -> Result<(), CommonError> {
        self.env.authorizer.authorize(self, Op::IAM_ACTION, &access).await
    }

    /// Asks for an action AWS checks beside the operation's own, named by AWS's documentation
    /// for that operation (`sts:TagSession` with AssumeRole's tags, `iam:PassRole`).
    pub async fn authorize_dependent(&self, action: &'static str, access: Access<'_>) -> Result<(), CommonError> {
        self.env.authorizer.authorize(self, action, &access).await
    }

    pub fn account(&self) -> &'a AccountId {
        &self.scope.account
    }

    pub fn region(&self) -> &'a Region {
        &self.scope.region
    }

    pub fn ids(&self) -> &'a IdGen {
        &self.env.ids
    }

    pub fn secrets(&self) -> &'a SecretBox {
        &self.env.secrets
    }
}
