//! Passerelle's WASM plugin host. Plugins are WebAssembly components (the WIT package
//! `passerelle:plugin` in `plugins/wit/`) that implement the core's
//! [`Jurisdiction`](passerelle_core::ports::Jurisdiction) and
//! [`Partner`](passerelle_core::ports::Partner) ports, sandboxed and bounded: see
//! `shared/design/plugins.md` and `plugins/README.md`.
//!
//! - [`host::PluginHost`]: the engine, linker, epoch ticker and bounded calls;
//! - [`plugin::LoadedPlugin`]: one verified plugin, and the port adapters
//!   [`plugin::JurisdictionPlugin`], [`plugin::PartnerPlugin`];
//! - [`registry::Registry`]: a directory of plugins, which serves which country or
//!   partner, statuses, hot reload;
//! - [`runner`]: `run` one hook or `check` a plugin directory, for the CLI.

pub mod convert;
pub mod error;
pub mod host;
pub mod limits;
pub mod manifest;
pub mod plugin;
pub mod registry;
pub mod runner;

pub use error::{PluginError, PluginName};
pub use host::{CallStats, PluginHost};
pub use limits::{EngineSettings, Limits, PluginLimits};
pub use manifest::{Api, Manifest, SUPPORTED_API, World};
pub use plugin::{Hook, JurisdictionPlugin, LoadedPlugin, PartnerPlugin};
pub use registry::{PluginStatus, Registry};

/// Host bindings generated from `plugins/wit/` by wasmtime's `bindgen!`, one module per
/// API version: [`bindings::v0_1`] from the frozen `wit/0.1.0/plugin.wit`,
/// [`bindings::v0_2`] from the current `wit/plugin.wit`.
///
/// 0.2's `types` interface is 0.1's, unchanged (a test compares the two texts), so both
/// versions share one set of Rust records ([`bindings::types`]) and one set of
/// conversions (`convert`). Each version has its own `host` interface (the linker
/// provides `passerelle:plugin/host@0.1.0` and `@0.2.0`).
pub mod bindings {
    /// API 0.1.x.
    pub mod v0_1 {
        pub mod jurisdiction {
            wasmtime::component::bindgen!({
                path: "wit/0.1.0",
                world: "jurisdiction",
            });
        }
        pub mod partner {
            wasmtime::component::bindgen!({
                path: "wit/0.1.0",
                world: "partner",
                with: {
                    "passerelle:plugin/types": super::jurisdiction::passerelle::plugin::types,
                    "passerelle:plugin/host": super::jurisdiction::passerelle::plugin::host,
                },
            });
        }
    }

    /// API 0.2.x: the required hooks (worlds `jurisdiction-required`, `partner-required`)
    /// and the optional ones (the interfaces exported by the world `jurisdiction`, whose
    /// indices are looked up one by one: a component may lack any of them).
    pub mod v0_2 {
        pub mod jurisdiction {
            wasmtime::component::bindgen!({
                path: "wit",
                world: "jurisdiction-required",
                with: {
                    "passerelle:plugin/types": crate::bindings::types,
                },
            });
        }
        pub mod partner {
            wasmtime::component::bindgen!({
                path: "wit",
                world: "partner-required",
                with: {
                    "passerelle:plugin/types": crate::bindings::types,
                    "passerelle:plugin/host": super::jurisdiction::passerelle::plugin::host,
                },
            });
        }
        /// Only the optional interfaces of this module are used
        /// (`exports::passerelle::plugin::{fund_rules, reintegration_indicators,
        /// measure_deciders}`); the world-level struct would require all of them.
        pub mod hooks {
            wasmtime::component::bindgen!({
                path: "wit",
                world: "jurisdiction",
                with: {
                    "passerelle:plugin/types": crate::bindings::types,
                    "passerelle:plugin/host": super::jurisdiction::passerelle::plugin::host,
                },
            });
        }
        pub use hooks::exports::passerelle::plugin::{
            fund_rules, measure_deciders, reintegration_indicators,
        };
    }

    /// The records of the `types` interface, the same in every supported version.
    pub use v0_1::jurisdiction::passerelle::plugin::types;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    fn interface<'a>(wit: &'a str, name: &str) -> &'a str {
        let start = wit.find(&format!("interface {name} {{")).unwrap();
        let len = wit[start..].find("\n}\n").unwrap();
        &wit[start..start + len]
    }

    /// The bindings of 0.2 reuse 0.1's records: that is only sound while the `types`
    /// interface (and the `host` interface's shape) are the same text in both files.
    #[test]
    fn api_0_2_keeps_the_types_and_host_interfaces_of_0_1() {
        let v01 = include_str!("../wit/0.1.0/plugin.wit");
        let v02 = include_str!("../wit/plugin.wit");
        for name in ["types", "host"] {
            assert_eq!(
                interface(v01, name),
                interface(v02, name),
                "interface {name}"
            );
        }
        assert!(v01.contains("package passerelle:plugin@0.1.0;"));
        assert!(v02.contains("package passerelle:plugin@0.2.0;"));
    }
}
