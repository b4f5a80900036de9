//! Guest SDK for Passerelle plugins, plugin API 0.2.0.
//!
//! A plugin is a WebAssembly component built from a `cdylib` crate for the
//! `wasm32-wasip2` target:
//!
//! ```sh
//! rustup target add wasm32-wasip2
//! cargo build --release --target wasm32-wasip2
//! ```
//!
//! The crate implements the `Guest` trait of one world and exports it:
//!
//! ```ignore
//! use passerelle_plugin_sdk::jurisdiction::{Guest, Question, PersonFacts /* … */};
//! struct MyRules;
//! impl Guest for MyRules { /* one function per required hook */ }
//! passerelle_plugin_sdk::export_jurisdiction!(MyRules);
//! ```
//!
//! (or `partner::Guest` and `export_partner!`). Then write `plugin.toml` next to the
//! `.wasm` file, with `api_version = "0.2.0"` and its sha256 (see `plugins/README.md`),
//! and try it with `passerelle plugin check <dir>` and
//! `passerelle plugin run <dir> <hook> <input.json>`.
//!
//! # Optional hooks
//! API 0.2 adds hooks a plugin may implement or leave out. Each has a module here with
//! its own `Guest` trait and export macro; export only those you implement (a hook left
//! out answers the core's default):
//!
//! | hook | module | export macro | worlds |
//! | --- | --- | --- | --- |
//! | `fund-rules` | [`fund_rules`] | `export_fund_rules!` | jurisdiction |
//! | `reintegration-indicators` | [`reintegration_indicators`] | `export_reintegration_indicators!` | jurisdiction, partner |
//! | `measure-deciders` | [`measure_deciders`] | `export_measure_deciders!` | jurisdiction |
//!
//! ```ignore
//! impl passerelle_plugin_sdk::fund_rules::Guest for MyRules {
//!     fn fund_rules(ask: FundingAsk) -> Result<Verdict, String> { Ok(Verdict::Allow) }
//! }
//! passerelle_plugin_sdk::export_fund_rules!(MyRules);
//! ```
//!
//! # API 0.1
//! This SDK builds 0.2 plugins only. A plugin built with the 0.1 SDK keeps loading on this
//! host (supported range `>=0.1.0, <0.3.0`); moving it to 0.2 needs no code change beyond
//! rebuilding and `api_version = "0.2.0"` in `plugin.toml` (the required hooks are the
//! same). To build for a server that only supports 0.1, use the SDK of that release.
//!
//! What a plugin may do: compute on its arguments and call [`log`]. It has no files, no
//! network, no environment; waiting or sleeping traps. Every call runs on a fresh
//! instance, so no state survives between calls, and it is bounded (fuel, memory,
//! time): keep hooks small.

/// The API version of the WIT package this SDK was built from: what `api-version`
/// returns and what `plugin.toml`'s `api_version` must say.
pub const API_VERSION: &str = "0.2.0";

/// Bindings of the required hooks of the `jurisdiction` world (`jurisdiction-required`),
/// and the records shared by every world.
pub mod jurisdiction {
    wit_bindgen::generate!({
        path: "../wit",
        world: "jurisdiction-required",
        pub_export_macro: true,
        export_macro_name: "export_jurisdiction",
        default_bindings_module: "passerelle_plugin_sdk::jurisdiction",
        generate_all,
    });
    pub use self::passerelle::plugin::host::{Level, log};
    pub use self::passerelle::plugin::types::*;
}

/// Bindings of the required hooks of the `partner` world (`partner-required`).
pub mod partner {
    wit_bindgen::generate!({
        path: "../wit",
        world: "partner-required",
        pub_export_macro: true,
        export_macro_name: "export_partner",
        default_bindings_module: "passerelle_plugin_sdk::partner",
        with: {
            "passerelle:plugin/types@0.2.0": crate::jurisdiction::passerelle::plugin::types,
            "passerelle:plugin/host@0.2.0": crate::jurisdiction::passerelle::plugin::host,
        },
        generate_all,
    });
    pub use crate::jurisdiction::passerelle::plugin::host::{Level, log};
    pub use crate::jurisdiction::passerelle::plugin::types::*;
}

/// Optional hook `fund-rules` (jurisdiction plugins): rules the jurisdiction adds to the
/// core's fund eligibility. Implement [`fund_rules::Guest`] and call
/// `passerelle_plugin_sdk::export_fund_rules!(MyType)`.
pub mod fund_rules {
    wit_bindgen::generate!({
        path: "../wit",
        world: "fund-rules-hook",
        pub_export_macro: true,
        export_macro_name: "export_fund_rules",
        default_bindings_module: "passerelle_plugin_sdk::fund_rules",
        with: {
            "passerelle:plugin/types@0.2.0": crate::jurisdiction::passerelle::plugin::types,
        },
        generate_all,
    });
    pub use self::exports::passerelle::plugin::fund_rules::{FundingAsk, Guest};
    pub use crate::jurisdiction::passerelle::plugin::types::{TraffickingStatus, Verdict};
}

/// Optional hook `reintegration-indicators` (jurisdiction or partner plugins): a
/// replacement for the reintegration indicator set, as TOML text in the shape of
/// `config/reintegration/rss.toml`. Implement [`reintegration_indicators::Guest`] and
/// call `passerelle_plugin_sdk::export_reintegration_indicators!(MyType)`.
pub mod reintegration_indicators {
    wit_bindgen::generate!({
        path: "../wit",
        world: "reintegration-indicators-hook",
        pub_export_macro: true,
        export_macro_name: "export_reintegration_indicators",
        default_bindings_module: "passerelle_plugin_sdk::reintegration_indicators",
        with: {
            "passerelle:plugin/types@0.2.0": crate::jurisdiction::passerelle::plugin::types,
        },
        generate_all,
    });
    pub use self::exports::passerelle::plugin::reintegration_indicators::Guest;
    pub use crate::jurisdiction::passerelle::plugin::types::PersonFacts;
}

/// Optional hook `measure-deciders` (jurisdiction plugins): who decides on the measures
/// of the catalogue. Implement [`measure_deciders::Guest`] and call
/// `passerelle_plugin_sdk::export_measure_deciders!(MyType)`.
pub mod measure_deciders {
    wit_bindgen::generate!({
        path: "../wit",
        world: "measure-deciders-hook",
        pub_export_macro: true,
        export_macro_name: "export_measure_deciders",
        default_bindings_module: "passerelle_plugin_sdk::measure_deciders",
        with: {
            "passerelle:plugin/types@0.2.0": crate::jurisdiction::passerelle::plugin::types,
        },
        generate_all,
    });
    pub use self::exports::passerelle::plugin::measure_deciders::{Guest, MeasureBodies};
    pub use crate::jurisdiction::passerelle::plugin::types::DecidingBody;
}

/// Log a line through the host (kept up to about 1 KiB a call, for the plugin's author;
/// never shown to users). Do not log personal data.
pub fn log(level: jurisdiction::Level, message: &str) {
    jurisdiction::log(level, message);
}

/// A localized text list (`list<tuple<string, string>>`) from `(language, text)` pairs.
pub fn text(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(l, t)| ((*l).to_owned(), (*t).to_owned()))
        .collect()
}

/// A text in English and French, the two languages of Passerelle's defaults.
pub fn en_fr(en: &str, fr: &str) -> Vec<(String, String)> {
    text(&[("en", en), ("fr", fr)])
}

/// Shorthand for `Err(message.to_string())`: a domain error, shown to the user as the
/// plugin's own words.
pub fn refuse<T>(message: impl std::fmt::Display) -> Result<T, String> {
    Err(message.to_string())
}
