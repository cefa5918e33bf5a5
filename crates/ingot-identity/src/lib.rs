//! The stored model of who may act: IAM users, groups, roles, managed policies (AWS's own among
//! them, as data), instance profiles; an account's membership of an organization, the
//! organization's roots, OUs, accounts and service control policies. The IAM, STS and
//! Organizations services write these records; the policy authorizer reads them, through the
//! request's unit of work, to gather the policies that decide a call.
//!
//! It is a library, not a service: it must not depend on HTTP, the gateway, the protocol codecs,
//! the policy engine or any service crate. Keys follow ARCHITECTURE.md's layout: IAM entities are
//! `ACCOUNT/global/iam/…`, an account's membership `ACCOUNT/global/organizations/membership`,
//! organization-wide records `org/ORG_ID/organizations/…`.
//!
//! | file | owns |
//! |---|---|
//! | `iam.rs` | user, group, role, managed policy and instance profile records, their keys and ARNs |
//! | `managed.rs` | AWS managed policies (`arn:aws:iam::aws:policy/…`), kept as JSON under `data/` |
//! | `organization.rs` | organization, account, OU, policy and handshake records, membership |
//! | `principals.rs` | whether a principal named in a policy exists |
//! | `resource_policies.rs` | resource policies attached by RAM shares and by services' PutResourcePolicy |

pub mod iam;
pub mod managed;
pub mod organization;
pub mod principals;
pub mod resource_policies;

pub use iam::{
    entity_name_key, GroupRecord, InstanceProfileRecord, ManagedPolicyRecord, PolicyVersion, RoleRecord, Tag,
    UserRecord,
};
pub use organization::{
    AccountRecord, HandshakeRecord, MembershipRecord, OrgPolicyRecord, OrganizationRecord, OuRecord,
};
