//! Follow-up after return: the case's follow-up page (visits, the assessments' scores
//! drawn as an SVG chart, the reintegration plan, alerts), and the same in `/api/v1`,
//! with what the destination side sees of the alerts.
//!
//! `api` holds the endpoints under `/api/v1` and their OpenAPI document; `pages` the
//! HTML pages and the chart. Both call the same use cases.

mod api;
mod pages;

pub use api::{Doc, configure_api};
pub(crate) use pages::automatic_alert_text;
pub use pages::configure;
