//! AWS Systems Manager (`ssm`): Parameter Store.
//!
//! Owns parameters (names, versions, labels, types, data types, tiers, values, policies, tags),
//! AWS's public parameters, and the `Parameter Store Change` / `Parameter Store Policy Action`
//! events. It must not depend on HTTP, the gateway, or other service crates; it reaches storage
//! only through the request's unit of work (and policy timers through `ingot-jobs`).
//!
//! | file | owns |
//! |---|---|
//! | `access.rs` | access decisions: the reserved prefix, then the authorizer (with a shared parameter's attached policies) |
//! | `names.rs` | names, paths, ARNs, selectors |
//! | `store.rs` | key layout and records |
//! | `parameters.rs` | Put/Get/GetParameters/Delete(s), values, tiers, versions |
//! | `datatypes.rs` | data type validation |
//! | `labels.rs` | LabelParameterVersion, UnlabelParameterVersion |
//! | `listing.rs` | GetParametersByPath, DescribeParameters, filters, page tokens |
//! | `history.rs` | GetParameterHistory |
//! | `tags.rs` | AddTagsToResource, RemoveTagsFromResource, ListTagsForResource |
//! | `policies.rs` | parameter policies and their timers |
//! | `secure.rs` | SecureString encryption, through KMS as the caller |
//! | `resource_policies.rs` | Put/Get/DeleteResourcePolicy: sharing a parameter by policy |
//! | `public.rs` | `/aws/service/...` public parameters |
//! | `events.rs` | EventBridge events |

mod generated;

pub mod access;
pub mod datatypes;
pub mod events;
pub mod history;
pub mod image_check;
pub mod labels;
pub mod listing;
pub mod names;
pub mod parameters;
pub mod policies;
pub mod public;
pub mod resource_policies;
pub mod secure;
pub mod store;
pub mod tags;

pub use generated::{errors, model::MODEL, operations, types};

use std::sync::Arc;

/// The `ssm` service as the invoker serves it.
pub struct Ssm;

/// The durable-job handlers of this service (parameter policy timers, the checks of
/// `aws:ec2:image` values), for the job runner.
pub fn job_handlers() -> Vec<Arc<dyn ingot_jobs::JobHandler>> {
    vec![Arc::new(policies::PolicyJobs), Arc::new(image_check::ImageCheckJob)]
}
