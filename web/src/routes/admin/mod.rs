//! Administration pages: organisations (system administrator), users (organisation and
//! system administrators), and one's own account.
//!
//! `api` holds the endpoints under `/api/v1` and their OpenAPI document; `pages` the
//! HTML pages. Both call the same use cases.

mod api;
mod pages;

pub use api::{Doc, configure_api};
pub use pages::configure;
