//! The Passerelle server: HTTP routes and pages, configuration, start-up, CLI, demo data.

pub mod cli;
pub mod config;
pub mod demo;
pub mod http;
pub mod i18n;
pub mod plugins;
pub mod render;
pub mod routes;
pub mod startup;
