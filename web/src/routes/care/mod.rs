//! Referrals between organisations (inbox and outbox), services and shelter placements.
//!
//! `api` holds the endpoints under `/api/v1` and their OpenAPI document; `pages` the
//! HTML pages. Both call the same use cases.

mod api;
mod pages;

pub use api::{Doc, configure_api};
pub use pages::configure;
pub(crate) use pages::inbox_facts;
