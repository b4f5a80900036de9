//! Guest SDK for Passerelle plugins.
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
//! impl Guest for MyRules { /* one function per hook */ }
//! passerelle_plugin_sdk::export_jurisdiction!(MyRules);
//! ```
//!
//! (or `partner::Guest` and `export_partner!`). Then write `plugin.toml` next to the
//! `.wasm` file, with its sha256 (see `plugins/README.md`), and try it with
//! `passerelle plugin check <dir>` and `passerelle plugin run <dir> <hook> <input.json>`.
//!
//! What a plugin may do: compute on its arguments and call [`log`]. It has no files, no
//! network, no environment; waiting or sleeping traps. Every call runs on a fresh
//! instance, so no state survives between calls, and it is bounded (fuel, memory,
//! time): keep hooks small.

/// The API version of the WIT package this SDK was built from: what `api-version`
/// returns and what `plugin.toml`'s `api_version` must say.
pub const API_VERSION: &str = "0.1.0";

/// Bindings of the `jurisdiction` world.
pub mod jurisdiction {
    wit_bindgen::generate!({
        path: "../wit",
        world: "jurisdiction",
        pub_export_macro: true,
        export_macro_name: "export_jurisdiction",
        default_bindings_module: "passerelle_plugin_sdk::jurisdiction",
        generate_all,
    });
    pub use self::passerelle::plugin::host::{Level, log};
    pub use self::passerelle::plugin::types::*;
}

/// Bindings of the `partner` world.
pub mod partner {
    wit_bindgen::generate!({
        path: "../wit",
        world: "partner",
        pub_export_macro: true,
        export_macro_name: "export_partner",
        default_bindings_module: "passerelle_plugin_sdk::partner",
        generate_all,
    });
    pub use self::passerelle::plugin::host::{Level, log};
    pub use self::passerelle::plugin::types::*;
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
