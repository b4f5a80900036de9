//! Funding: funds, their ledger, a case's money, the reports.
//!
//! `api` holds the endpoints under `/api/v1` and their OpenAPI document; `pages` the
//! HTML pages. Both call the same use cases.

mod api;
pub(crate) mod pages;

pub use api::{Doc, configure_api, report_to_csv};
pub use pages::{configure, money, refusal_text};
