//! What every service shares: the audit trail, durability across restarts, metrics, the
//! deny-all authorization sweep, and wire-level behaviour of the protocols.

mod audit;
mod durability;
mod harness;
mod metrics;
mod sweep;
mod wire;
