//! Voluntary return, as HTML pages: the return page of a case (its checklist, what holds
//! the next stage back, and a form for each step) and an organisation's returns by stage.
//!
//! `api` holds the endpoints under `/api/v1` and their OpenAPI document; `pages` the
//! HTML pages. Both call the same use cases.

mod api;
mod pages;

pub use api::{Doc, configure_api};
pub use pages::configure;
