//! Erasure and retention (issue 15, point 3): an organisation's administrator erases a
//! person's data on their request or once the case's retention period after closing is
//! over, and sees the cases past it. The rules are in `passerelle_core::erasure`.
//!
//! `api` holds the endpoints under `/api/v1` and their OpenAPI document; `pages` the
//! confirmation page of an erasure and the list of cases past their retention.

mod api;
mod pages;

pub use api::{Doc, configure_api};
pub use pages::configure;

use crate::http::Page;
use passerelle_core::service::erasure::ErasureView;
use serde_json::{Value, json};

/// How an erased case is shown: "Erased on DATE by NAME: REASON", and whether it still
/// counts in the statistics.
pub fn erasure_words(page: &Page, e: &ErasureView) -> Value {
    let reason = page.t(&format!("erasure-reason-{}", e.reason.as_str()));
    let on = e.erased_at.format("%Y-%m-%d").to_string();
    let line = page.t_args(
        "erased-line",
        &[
            ("date", json!(on)),
            (
                "name",
                json!(e.erased_by.clone().unwrap_or_else(|| "—".into())),
            ),
            ("reason", json!(reason)),
        ],
    );
    json!({
        "on": on,
        "by": e.erased_by,
        "reason": reason,
        "reason_value": e.reason.as_str(),
        "line": line,
        "statistics": page.t(if e.keep_statistics { "erased-statistics-kept" } else { "erased-statistics-removed" }),
    })
}
