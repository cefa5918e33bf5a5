//! The one integration test binary: every test starts a real Ingot server on port 0 and talks to
//! it with real clients (aws-sdk-rust, or raw signed HTTP for wire-level checks).

mod support;

mod audit;
mod durability;
mod ssm;
mod sts;
mod wire;
