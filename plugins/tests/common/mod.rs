//! Shared helpers of the plugin host's tests. They load the committed components, so
//! they need no wasm target.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use passerelle_core::ports::{FundingAsk, PersonFacts};
use passerelle_plugins::{EngineSettings, Limits, PluginHost, manifest::sha256_hex};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub fn plugins_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fr_dir() -> PathBuf {
    plugins_dir().join("examples/fr-jurisdiction/plugin")
}

pub fn iom_dir() -> PathBuf {
    plugins_dir().join("examples/iom-partner/plugin")
}

/// The French example as built for API 0.1 (a frozen fixture: the component committed
/// before API 0.2).
pub fn fr01_dir() -> PathBuf {
    plugins_dir().join("tests/fixtures/api-0.1/fr-jurisdiction")
}

/// The IOM-style partner example as built for API 0.1 (a frozen fixture).
pub fn iom01_dir() -> PathBuf {
    plugins_dir().join("tests/fixtures/api-0.1/iom-partner")
}

pub fn fr01_wasm() -> Vec<u8> {
    std::fs::read(fr01_dir().join("fr_jurisdiction.wasm")).unwrap()
}

pub fn hostile_wasm() -> Vec<u8> {
    std::fs::read(plugins_dir().join("tests/hostile/hostile.wasm")).unwrap()
}

pub fn fr_wasm() -> Vec<u8> {
    std::fs::read(fr_dir().join("fr_jurisdiction.wasm")).unwrap()
}

/// A host with `limits` and wasmtime's compilation cache in the test build's scratch
/// directory (compiling under an unoptimised test build is slow).
pub fn host(limits: Limits) -> Arc<PluginHost> {
    let settings = EngineSettings {
        cache_dir: Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("wasmtime-cache")
            .display()
            .to_string(),
        ..EngineSettings::default()
    };
    PluginHost::new(limits, settings).unwrap()
}

pub fn person(cue: &str) -> PersonFacts {
    PersonFacts {
        child: false,
        stateless: false,
        nationality: Some(cue.to_owned()),
    }
}

/// A request to pay `category` from a fund of `source` for an adult presumed victim at
/// `stage`.
pub fn funding_ask(source: &str, category: &str, stage: &str) -> FundingAsk {
    FundingAsk {
        source_kind: source.to_owned(),
        category: category.to_owned(),
        amount_minor: 45_000,
        currency: "EUR".to_owned(),
        stage: stage.to_owned(),
        child: false,
        nationality: Some("NG".to_owned()),
        destination_country: Some("NG".to_owned()),
        trafficking_status: Some("presumed".to_owned()),
        protected_witness: false,
    }
}

/// Write a jurisdiction plugin directory `<parent>/<id>` serving `country`.
pub fn write_plugin(
    parent: &Path,
    id: &str,
    version: &str,
    api: &str,
    wasm: &[u8],
    country: &str,
    sha256: Option<&str>,
) -> PathBuf {
    let dir = parent.join(id);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("plugin.wasm"), wasm).unwrap();
    let sha = sha256.map_or_else(|| sha256_hex(wasm), str::to_owned);
    std::fs::write(
        dir.join("plugin.toml"),
        format!(
            "id = \"{id}\"\nversion = \"{version}\"\napi_version = \"{api}\"\n\
             world = \"jurisdiction\"\njurisdictions = [\"{country}\"]\n\
             component = \"plugin.wasm\"\nsha256 = \"{sha}\"\n"
        ),
    )
    .unwrap();
    dir
}
