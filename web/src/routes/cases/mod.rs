//! Case pages: caseload, new case, case file, edit, consents, shares, audit trail, search.
//!
//! `api` holds the endpoints under `/api/v1` and their OpenAPI document; `pages` the
//! HTML pages. Both call the same use cases.

mod api;
mod pages;

pub use api::{Doc, configure_api};
pub use pages::configure;
