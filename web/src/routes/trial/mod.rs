//! Protection at trial: the proceedings page with its hearing calendar, measure
//! requests and decisions, the planned departure and the conflicts; and the same in
//!
//! `api` holds the endpoints under `/api/v1` and their OpenAPI document; `pages` the
//! HTML pages. Both call the same use cases.

mod api;
mod pages;

pub use api::{Doc, configure_api};
pub use pages::configure;
