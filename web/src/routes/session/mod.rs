//! Sign-in, sign-out and the language switch (HTML).
//!
//! `api` holds the endpoints under `/api/v1` and their OpenAPI document; `pages` the
//! HTML pages. Both call the same use cases.

mod api;
pub(crate) mod pages;
mod two_factor;

pub use api::{Doc, configure_api};
pub use pages::configure;
pub use two_factor::configure as configure_two_factor;
