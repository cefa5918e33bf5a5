//! The one integration test binary: every test starts a real Ingot server on port 0 and talks to
//! it with real clients (aws-sdk-rust, or raw signed HTTP for wire-level checks). Tests are laid
//! out by service (`kms/`, `ssm/`, `sts/`); `identity/` holds what IAM principals look like to the rest
//! of Ingot, and `server/` what all services share.

mod support;

mod identity;
mod kms;
mod server;
mod ssm;
mod sts;
