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
pub use manifest::{Manifest, SUPPORTED_API, World};
pub use plugin::{JurisdictionPlugin, LoadedPlugin, PartnerPlugin};
pub use registry::{PluginStatus, Registry};

/// Host bindings generated from `plugins/wit/` by wasmtime's `bindgen!`.
pub mod bindings {
    pub mod jurisdiction {
        wasmtime::component::bindgen!({
            path: "wit",
            world: "jurisdiction",
        });
    }
    pub mod partner {
        wasmtime::component::bindgen!({
            path: "wit",
            world: "partner",
            with: {
                "passerelle:plugin/types": super::jurisdiction::passerelle::plugin::types,
                "passerelle:plugin/host": super::jurisdiction::passerelle::plugin::host,
            },
        });
    }
}
