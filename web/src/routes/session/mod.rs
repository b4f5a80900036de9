//! Sign-in, sign-out and the language switch (HTML).
//!
//! `api` holds the endpoints under `/api/v1` and their OpenAPI document; `pages` the
//! HTML pages. Both call the same use cases.

mod api;
pub(crate) mod pages;

pub use api::{Doc, configure_api};
pub use pages::configure;
