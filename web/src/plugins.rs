//! Start-up of the plugin host and registry, and the adapters the core sees through them.

use crate::config::Settings;
use passerelle_core::ports::{Adapters, Jurisdiction, Partner};
use passerelle_plugins::host::PluginHost;
use passerelle_plugins::registry::{Registry, RegistryConfig};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// The example plugins of the demo (the French jurisdiction and the IOM-style partner).
pub const DEMO_PLUGIN_DIR: &str = "config/demo-plugins";
/// Which demo organisation the IOM-style partner plugin speaks for.
pub const DEMO_PARTNER_ORG: (&str, &str) = ("Retour & Dignité", "iom-style-return");

/// The plugin registry and which organisation each partner id is.
pub struct PluginAdapters {
    pub registry: Arc<Registry>,
    pub organisations: BTreeMap<String, String>,
}

impl Adapters for PluginAdapters {
    fn jurisdiction(&self, country: &str) -> Arc<dyn Jurisdiction> {
        self.registry.jurisdiction_for(country)
    }
    fn partner(&self, org_name: &str) -> Option<Arc<dyn Partner>> {
        let id = self.organisations.get(org_name)?;
        // A configured partner whose plugin is missing fails closed inside the registry.
        self.registry.partner_for(id)
    }
}

/// Where the demo's example plugins are, when `plugins.dir` is not set: `config/demo-plugins`
/// under the working directory (a source checkout), then next to the binary
/// (`demo-plugins/` beside it, or the checkout's `config/demo-plugins` two levels up, for
/// `target/release/passerelle`).
pub fn demo_plugin_dir() -> Option<PathBuf> {
    let mut candidates = vec![PathBuf::from(DEMO_PLUGIN_DIR)];
    if let Some(bin_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(PathBuf::from))
    {
        candidates.push(bin_dir.join("demo-plugins"));
        candidates.push(bin_dir.join("../..").join(DEMO_PLUGIN_DIR));
    }
    candidates.into_iter().find(|d| d.is_dir())
}

/// What the demo's banner says of the plugins: on (from where), or off and how to turn
/// them on.
pub fn demo_plugins_line(settings: &Settings) -> String {
    if !settings.plugins.dir.trim().is_empty() {
        return format!("Plugins: from {}", settings.plugins.dir.trim());
    }
    match demo_plugin_dir() {
        Some(d) => format!(
            "Plugins: the French jurisdiction and the IOM-style partner, from {}",
            d.display()
        ),
        None => format!(
            "!!! The jurisdiction and partner PLUGINS ARE OFF: {DEMO_PLUGIN_DIR} was found neither here nor next to the binary, so the built-in rules apply everywhere.\n!!! To turn them on, run from the source tree, or set PASSERELLE__PLUGINS__DIR=<path to config/demo-plugins>."
        ),
    }
}

/// Build the registry from the settings (None when no plugin directory is configured).
pub fn load(settings: &Settings, demo: bool) -> anyhow::Result<Option<Arc<PluginAdapters>>> {
    let p = &settings.plugins;
    let mut dir = p.dir.trim().to_owned();
    let mut organisations = p.organisations.clone();
    if dir.is_empty() && demo {
        if let Some(found) = demo_plugin_dir() {
            dir = found.display().to_string();
            organisations
                .entry(DEMO_PARTNER_ORG.0.to_owned())
                .or_insert_with(|| DEMO_PARTNER_ORG.1.to_owned());
        } else {
            tracing::warn!("demo plugins not found; the built-in rules apply");
        }
    }
    if dir.is_empty() {
        return Ok(None);
    }
    let mut engine = p.engine.clone();
    if engine.cache_dir.trim().is_empty() {
        engine.cache_dir = settings
            .server
            .data_dir
            .join("plugin-cache")
            .display()
            .to_string();
    }
    // wasmtime wants an absolute cache directory; the data directory is often relative.
    let cache = std::path::absolute(engine.cache_dir.trim())
        .map_err(|e| anyhow::anyhow!("plugin cache directory {}: {e}", engine.cache_dir))?;
    engine.cache_dir = cache.display().to_string();
    let host =
        PluginHost::new(p.limits, engine).map_err(|e| anyhow::anyhow!("plugin host: {e}"))?;
    let registry = Registry::load(
        host,
        RegistryConfig {
            dir: PathBuf::from(&dir),
            jurisdictions: p.jurisdictions.clone(),
            partners: p.partners.clone(),
        },
    )
    .map_err(|e| anyhow::anyhow!("plugins in {dir}: {e}"))?;
    for s in registry.statuses() {
        tracing::info!(plugin = %s.id, version = %s.version, state = %s.state, "plugin");
    }
    Ok(Some(Arc::new(PluginAdapters {
        registry: Arc::new(registry),
        organisations,
    })))
}
