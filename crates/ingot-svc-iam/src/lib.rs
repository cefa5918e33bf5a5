//! AWS Identity and Access Management (`iam`): users, groups, roles (service-linked ones among
//! them), access keys, the account alias, customer managed policies and their versions,
//! attachments, inline policies, permissions boundaries, instance profiles, tags, the account's
//! authorization details and policy simulation.
//!
//! IAM is global: every record is kept per account under `ACCOUNT/global/iam/…` and the region of
//! the request only chooses the partition of the ARNs. The records themselves are those of
//! `ingot-identity`, because the policy authorizer reads them to decide every call; this crate
//! writes them and keeps their meaning (inline policies inside the entity, attachments as ARNs on
//! the entity, group membership as group names on the user). Access keys are the installation-wide
//! records of `ingot_core::credentials` that the gateway authenticates with.
//!
//! It must not depend on HTTP, the gateway, the protocol codecs or other service crates; it
//! reaches storage only through the request's unit of work, and policy documents only through
//! `ingot-policy`'s engine (validation, simulation) and `gather` (an entity's policies).
//!
//! | file | owns |
//! |---|---|
//! | `access.rs` | access decisions: the authorizer with resource and request tags, `iam:PassRole`, protected service-linked roles |
//! | `store.rs` | key layout, records of this crate, loading and saving entities, "cannot be found" errors |
//! | `names.rs` | paths, path prefixes, names taken from ARNs |
//! | `pages.rs` | `Marker` / `MaxItems` pagination of listings |
//! | `documents.rs` | policy documents: validation, URL-encoding, size quotas |
//! | `tags.rs` | tag validation, merging, removal, listing, tag condition keys |
//! | `users.rs` | CreateUser … DeleteUser, user tags, user permissions boundaries |
//! | `groups.rs` | CreateGroup … DeleteGroup, membership |
//! | `roles.rs` | CreateRole … DeleteRole, role tags, role permissions boundaries, trust policies |
//! | `service_linked_roles.rs` | Create/DeleteServiceLinkedRole, deletion status |
//! | `access_keys.rs` | Create/Delete/Update/ListAccessKeys, GetAccessKeyLastUsed |
//! | `account_aliases.rs` | Create/Delete/ListAccountAliases |
//! | `managed_policies.rs` | CreatePolicy … SetDefaultPolicyVersion, policy tags, usage counts |
//! | `attachments.rs` | Attach/Detach*Policy, ListAttached*Policies, ListEntitiesForPolicy |
//! | `inline_policies.rs` | Put/Get/Delete/List{User,Group,Role}Policy |
//! | `instance_profiles.rs` | instance profiles, their role and tags |
//! | `authorization_details.rs` | GetAccountAuthorizationDetails |
//! | `simulation.rs` | SimulatePrincipalPolicy, SimulateCustomPolicy |

mod generated;

pub mod access;
pub mod access_keys;
pub mod account_aliases;
pub mod attachments;
pub mod authorization_details;
pub mod documents;
pub mod groups;
pub mod inline_policies;
pub mod instance_profiles;
pub mod managed_policies;
pub mod names;
pub mod pages;
pub mod roles;
pub mod service_linked_roles;
pub mod simulation;
pub mod store;
pub mod tags;
pub mod users;

pub use generated::{errors, model::MODEL, operations, types};

/// The `iam` service as the invoker serves it.
pub struct Iam;
