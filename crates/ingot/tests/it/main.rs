//! The one integration test binary: every test starts a real Ingot server on port 0 and talks to
//! it with real clients (aws-sdk-rust, or raw signed HTTP for wire-level checks).

mod support;

mod audit;
mod durability;
mod metrics;
mod ssm;
mod ssm_events;
mod ssm_listing;
mod ssm_names;
mod ssm_policies;
mod ssm_public;
mod ssm_secure;
mod ssm_support;
mod ssm_tags;
mod ssm_values;
mod ssm_versions;
mod sts;
mod sweep;
mod wire;
