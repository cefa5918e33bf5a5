//! AWS Organizations (`organizations`): organizations and their one root, organizational units,
//! member accounts (created, invited, moved, removed), service control policies and their
//! attachments, invitations (handshakes), trusted service access and tags.
//!
//! The records live in `ingot-identity` (`organization.rs`), because the IAM policy authorizer
//! reads the same ones to apply SCPs and `aws:PrincipalOrgID`/`aws:PrincipalOrgPaths`. Account
//! creation finishes in a durable job (`ingot-jobs`) that makes the new account's roles through
//! the invoker, as Ingot's internal principal, never by writing IAM's records.
//!
//! It must not depend on HTTP, the gateway, the protocol codecs or any other service crate.
//!
//! | file | owns |
//! |---|---|
//! | `access.rs` | who may call: the caller's organization, management-account-only operations, authorization requests |
//! | `fail.rs` | AWS's error messages and the errors that carry a `Reason` |
//! | `ids.rs` | identifiers (`o-`, `r-`, `ou-`, `p-`, `h-`, `car-`) and ARNs |
//! | `store.rs` | key layout (with `ingot_identity::organization`), loading and saving, the OU tree |
//! | `listing.rs` | `MaxResults`/`NextToken` pages |
//! | `shapes.rs` | records as the API reports them (Organization, Root, Account, OU, policy summaries) |
//! | `organization.rs` | CreateOrganization, DescribeOrganization, DeleteOrganization |
//! | `accounts.rs` | DescribeAccount, ListAccounts, RemoveAccountFromOrganization |
//! | `account_creation.rs` | CreateAccount, DescribeCreateAccountStatus, ListCreateAccountStatus and the creation job |
//! | `units.rs` | ListRoots, OUs, ListChildren, ListParents, ListAccountsForParent, MoveAccount |
//! | `policies.rs` | EnablePolicyType, policies, attachments |
//! | `handshakes.rs` | InviteAccountToOrganization, ListHandshakesForAccount, AcceptHandshake |
//! | `service_access.rs` | Enable/DisableAWSServiceAccess, ListAWSServiceAccessForOrganization |
//! | `tags.rs` | TagResource, UntagResource, ListTagsForResource, tag validation |

mod generated;

pub mod access;
pub mod account_creation;
pub mod accounts;
pub mod fail;
pub mod handshakes;
pub mod ids;
pub mod listing;
pub mod organization;
pub mod policies;
pub mod service_access;
pub mod shapes;
pub mod store;
pub mod tags;
pub mod units;

pub use generated::{errors, model::MODEL, operations, types};

use std::sync::Arc;

/// The `organizations` service as the invoker serves it.
pub struct Organizations;

/// The durable-job handlers of this service (account creation), for the job runner.
pub fn job_handlers() -> Vec<Arc<dyn ingot_jobs::JobHandler>> {
    vec![Arc::new(account_creation::CreateAccountJob)]
}
