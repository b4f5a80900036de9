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

/// Build the registry from the settings (None when no plugin directory is configured).
pub fn load(settings: &Settings, demo: bool) -> anyhow::Result<Option<Arc<PluginAdapters>>> {
    let p = &settings.plugins;
    let mut dir = p.dir.trim().to_owned();
    let mut organisations = p.organisations.clone();
    if dir.is_empty() && demo {
        if std::path::Path::new(DEMO_PLUGIN_DIR).is_dir() {
            dir = DEMO_PLUGIN_DIR.to_owned();
            organisations
                .entry(DEMO_PARTNER_ORG.0.to_owned())
                .or_insert_with(|| DEMO_PARTNER_ORG.1.to_owned());
        } else {
            tracing::warn!("demo plugins not found in {DEMO_PLUGIN_DIR}; the built-in rules apply");
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
