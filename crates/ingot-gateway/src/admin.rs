//! `/_ingot/` endpoints: health (and the no-op ping) for anyone; reset and clock control only
//! when enabled, and only for a principal of the management account allowed `ingot:ResetState`
//! or `ingot:AdvanceClock` (see `Gateway::authorize_admin`). And `GET /metrics` when the binary
//! supplies metrics.

use crate::Gateway;
use serde_json::json;

pub(crate) struct AdminResponse {
    pub status: u16,
    pub body: serde_json::Value,
}

/// The Prometheus text format's content type.
pub(crate) const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// The IAM action that authorizes an admin endpoint.
pub(crate) fn action_of(path: &str) -> &'static str {
    match path {
        "/_ingot/reset" => "ingot:ResetState",
        "/_ingot/clock" => "ingot:AdvanceClock",
        _ => "ingot:Admin",
    }
}

impl Gateway {
    /// Whether an admin request is answered without authentication: health and the no-op ping
    /// always, and whatever is not enabled (it answers 404 to anyone).
    pub(crate) fn admin_is_open(&self, method: &str, path: &str) -> bool {
        !matches!(
            (method, path),
            ("POST", "/_ingot/reset") if self.config.enable_reset
        ) && !matches!((method, path), ("POST", "/_ingot/clock") if self.config.enable_clock_control)
    }

    /// The text of `GET /metrics`; `None` when this server keeps no metrics. Unauthenticated, like
    /// the health endpoint.
    pub(crate) async fn metrics(&self) -> Option<String> {
        let render = &self.config.metrics.as_ref()?.0;
        Some(render(self.env.clone()).await)
    }

    pub(crate) async fn admin(&self, method: &str, path: &str, query: &str) -> AdminResponse {
        match (method, path) {
            // Does nothing: the ceiling of the HTTP stack, for benchmarks.
            ("GET", "/_ingot/ping") => AdminResponse { status: 200, body: json!("pong") },
            ("GET", "/_ingot/health") => AdminResponse {
                status: 200,
                body: json!({
                    "status": "ready",
                    "backend": self.env.store.backend(),
                    "version": env!("CARGO_PKG_VERSION"),
                    "services": self.invoker.services().iter().map(|s| s.model().id).collect::<Vec<_>>(),
                }),
            },
            ("POST", "/_ingot/reset") if self.config.enable_reset => {
                match self.env.store.reset(&self.config.reset_keep_prefixes).await {
                    Ok(()) => {
                        self.credentials.clear();
                        AdminResponse { status: 200, body: json!({ "reset": true }) }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "reset failed");
                        AdminResponse { status: 500, body: json!({ "error": "reset failed" }) }
                    }
                }
            }
            ("POST", "/_ingot/clock") if self.config.enable_clock_control => {
                let seconds = query
                    .split('&')
                    .find_map(|p| p.strip_prefix("advance="))
                    .and_then(|v| v.parse::<i64>().ok())
                    .filter(|s| (0..=10 * 366 * 86_400).contains(s));
                match seconds {
                    Some(s) => {
                        self.env.clock.advance(s * 1000);
                        self.env.clock_moved.notify_waiters();
                        let now = self.env.clock.now();
                        AdminResponse { status: 200, body: json!({ "now": now.to_iso8601() }) }
                    }
                    None => AdminResponse {
                        status: 400,
                        body: json!({ "error": "advance=SECONDS is required (0 to ten years)" }),
                    },
                }
            }
            (_, "/_ingot/reset" | "/_ingot/clock") => {
                AdminResponse { status: 404, body: json!({ "error": format!("{path} is not enabled on this server") }) }
            }
            _ => AdminResponse { status: 404, body: json!({ "error": format!("no admin endpoint {method} {path}") }) },
        }
    }
}
