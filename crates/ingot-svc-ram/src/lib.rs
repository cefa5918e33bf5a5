//! AWS Resource Access Manager (`ram`): resource shares, their resources and principals
//! (accounts, the organization, OUs), AWS managed permissions, invitations, and the resource
//! policies shares compile into.
//!
//! A share gives access by becoming a resource policy: for each resource it holds, RAM keeps the
//! statements that allow its principals its permission's actions
//! (`ingot_identity::resource_policies`), and the resource's own service hands them to the policy
//! engine when another account calls, together with the caller's own policies and SCPs.
//! Organizations and OUs are named by condition on the caller's organization path, so accounts
//! that move gain or lose access at once. RAM learns about resources from their service through
//! the invoker (SSM's DescribeParameters) and turns on organization sharing through
//! Organizations and IAM, as the caller.
//!
//! It must not depend on HTTP, the gateway, or other service crates.
//!
//! | file | owns |
//! |---|---|
//! | `store.rs` | key layout, share, index and invitation records |
//! | `shares.rs` | Create/Update/Delete/GetResourceShares, Associate/DisassociateResourceShare, EnableSharingWithAwsOrganization, tags |
//! | `principals.rs` | principal forms, organization checks, statements, coverage |
//! | `resources.rs` | resource ARNs and types, whether the owner may share a resource |
//! | `permissions.rs` | AWS managed permissions and the permission operations |
//! | `associations.rs` | GetResourceShareAssociations, ListResources, ListPrincipals |
//! | `invitations.rs` | invitations, their expiry, accepting and rejecting |
//! | `policies.rs` | compiling shares into resource policies, GetResourcePolicies, shares created from policies |
//! | `resource_types.rs` | ListResourceTypes |
//! | `pages.rs` | `nextToken` / `maxResults` |

mod generated;

pub mod associations;
pub mod invitations;
pub mod pages;
pub mod permissions;
pub mod policies;
pub mod principals;
pub mod resource_types;
pub mod resources;
pub mod shares;
pub mod store;

pub use generated::{errors, model::MODEL, operations, types};

/// The `ram` service as the invoker serves it.
pub struct Ram;

pub(crate) use ingot_core::model::wire_enum as wire;

/// The client token a response carries: the caller's, or a new one (AWS answers with one either
/// way, for the caller's retries).
pub(crate) fn client_token(ctx: &ingot_core::RequestContext<'_>, given: Option<String>) -> String {
    given.unwrap_or_else(|| ctx.ids().uuid())
}
