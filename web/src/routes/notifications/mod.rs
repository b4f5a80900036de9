//! Notifications in the app: the caller's list (newest first, unread marked, the count in
//! the page header), opening one (marks it read and goes to its page), and for an
//! organisation administrator the addresses whose mail keeps failing; the same in
//! `/api/v1`.
//!
//! `api` holds the endpoints under `/api/v1` and their OpenAPI document; `pages` the
//! HTML pages. Both call the same use cases.

mod api;
mod pages;

pub use api::{Doc, configure_api};
pub use pages::configure;
