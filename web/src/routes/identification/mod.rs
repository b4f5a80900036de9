//! Identification pages and API: screening interviews, elements and the suggested
//! assessment, trafficking and smuggling determinations, deadlines.
//!
//! `api` holds the endpoints under `/api/v1` and their OpenAPI document; `pages` the
//! HTML pages. Both call the same use cases.

mod api;
mod pages;

pub use api::{Doc, configure_api};
pub use pages::configure;
pub(crate) use pages::deadline_json;
