//! The Passerelle server: HTTP routes and pages, configuration, start-up, CLI, demo data.

// The return page builds one large `json!` value.
#![recursion_limit = "256"]

pub mod chart;
pub mod cli;
pub mod config;
pub mod demo;
pub mod forms;
pub mod http;
pub mod i18n;
pub mod limits;
pub mod mail;
pub mod plugins;
pub mod render;
pub mod routes;
pub mod startup;
pub mod words;
