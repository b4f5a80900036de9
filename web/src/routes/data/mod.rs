//! Data in and out (issue 14): the CSV import of an existing caseload, for the
//! organisation's administrator (a check that reports every problem, then the import, all
//! or nothing).
//!
//! `api` holds the endpoints under `/api/v1` and their OpenAPI document; `pages` the import
//! page.

mod api;
mod dashboard;
pub mod exports;
mod pages;

pub use api::{Doc, configure_api};
pub use dashboard::configure_api as configure_dashboard_api;
pub use dashboard::{Doc as DashboardDoc, configure as configure_dashboard};
pub use pages::configure;
