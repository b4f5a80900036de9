//! Which plugin serves which country and which partner; statuses; hot reload.
//!
//! The registry loads every sub-directory of its plugin directory. A jurisdiction
//! plugin serves the countries its manifest lists (`jurisdictions = ["FR"]`), a partner
//! plugin the partner ids it lists; [`RegistryConfig`] may pin a country or partner to a
//! plugin id when several claim it. [`Registry::reload`] loads the directory again and
//! swaps the whole table at once: callers that already hold a port keep the plugin they
//! got (calls in flight finish on the old version), later look-ups get the new one.
//!
//! Fail closed: a country served by a plugin that failed to load (bad digest, API
//! version, …), or claimed by two plugins, gets a port whose every call fails with a
//! clear message, never the defaults. Only a country no plugin claims gets
//! [`DefaultJurisdiction`].

use crate::error::{PluginError, PluginName};
use crate::host::PluginHost;
use crate::manifest::{MANIFEST_FILE, Manifest, World};
use crate::plugin::{JurisdictionPlugin, LoadedPlugin, PartnerPlugin};
use passerelle_core::identification::DecidingBody;
use passerelle_core::ports::{
    DecisionRules, DefaultJurisdiction, FundingAsk, Jurisdiction, Measure, Partner, PartnerOutcome,
    PartnerRequest, PartnerStatus, PersonFacts, PortError, Question, ReturnRequirement, Transition,
    Verdict,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

/// The `[plugins]` section of the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    /// A directory whose sub-directories are plugins (empty: no plugins, defaults
    /// everywhere).
    pub dir: PathBuf,
    /// Country (ISO alpha-2) → plugin id, when a country must be pinned to one plugin.
    pub jurisdictions: BTreeMap<String, String>,
    /// Partner id → plugin id, likewise.
    pub partners: BTreeMap<String, String>,
}

/// What serves one country or partner.
#[derive(Clone)]
enum Slot {
    Loaded(Arc<LoadedPlugin>),
    Failed { plugin: PluginName, error: String },
}

/// One plugin directory's state, for the administration page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginStatus {
    pub dir: String,
    /// Empty when the manifest could not be read.
    pub id: String,
    pub version: String,
    pub world: String,
    /// The plugin API version its manifest names, e.g. "0.2.0".
    pub api_version: String,
    /// The optional hooks (API 0.2) it exports, e.g. ["fund-rules"] (loaded plugins).
    pub hooks: Vec<String>,
    /// The countries or partner ids it serves (or would serve).
    pub serves: Vec<String>,
    /// "loaded" or "failed".
    pub state: String,
    /// Why it failed to load.
    pub error: Option<String>,
    /// When it was loaded or failed (UTC, RFC 3339).
    pub since: String,
    pub calls: u64,
    pub failures: u64,
    /// The last failed call: message and time.
    pub last_error: Option<(String, String)>,
}

struct Entry {
    dir: PathBuf,
    manifest: Option<Manifest>,
    outcome: Result<Arc<LoadedPlugin>, String>,
    since: String,
}

#[derive(Default)]
struct Table {
    jurisdictions: BTreeMap<String, Slot>,
    partners: BTreeMap<String, Slot>,
    entries: Vec<Entry>,
}

/// The plugins of a server. Cheap to share (`Arc<Registry>`).
pub struct Registry {
    host: Arc<PluginHost>,
    config: RwLock<RegistryConfig>,
    table: RwLock<Arc<Table>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// Load the plugins of `config.dir`. A plugin that fails to load is recorded (see
    /// [`Registry::statuses`]), not an error: the server starts, and the countries it
    /// claims fail closed. Only an unreadable plugin directory is an error.
    pub fn load(host: Arc<PluginHost>, config: RegistryConfig) -> Result<Registry, PluginError> {
        let table = build(&host, &config)?;
        Ok(Registry {
            host,
            config: RwLock::new(config),
            table: RwLock::new(Arc::new(table)),
        })
    }

    /// Load the directory again and swap the table. Calls in flight keep the plugins
    /// they hold.
    pub fn reload(&self) -> Result<(), PluginError> {
        let config = self.config.read().map(|c| c.clone()).unwrap_or_default();
        self.swap(build(&self.host, &config)?);
        Ok(())
    }

    /// Change the configuration (directory, pinned ids) and reload.
    pub fn reconfigure(&self, config: RegistryConfig) -> Result<(), PluginError> {
        let table = build(&self.host, &config)?;
        if let Ok(mut c) = self.config.write() {
            *c = config;
        }
        self.swap(table);
        Ok(())
    }

    fn swap(&self, table: Table) {
        match self.table.write() {
            Ok(mut t) => *t = Arc::new(table),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(table),
        }
    }

    fn current(&self) -> Arc<Table> {
        match self.table.read() {
            Ok(t) => t.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn host(&self) -> &Arc<PluginHost> {
        &self.host
    }

    /// The jurisdiction of `country` (ISO alpha-2): its plugin; a failing port if its
    /// plugin is configured but unavailable; the built-in defaults if no plugin claims it.
    pub fn jurisdiction_for(&self, country: &str) -> Arc<dyn Jurisdiction> {
        match self
            .current()
            .jurisdictions
            .get(&country.to_ascii_uppercase())
        {
            None => Arc::new(DefaultJurisdiction),
            Some(Slot::Loaded(p)) => Arc::new(JurisdictionPlugin(p.clone())),
            Some(Slot::Failed { plugin, error }) => Arc::new(Unavailable {
                plugin: plugin.clone(),
                error: error.clone(),
            }),
        }
    }

    /// The partner plugin for `partner_id`, if one is configured (a failing port if it
    /// failed to load).
    pub fn partner_for(&self, partner_id: &str) -> Option<Arc<dyn Partner>> {
        match self.current().partners.get(partner_id)? {
            Slot::Loaded(p) => Some(Arc::new(PartnerPlugin(p.clone()))),
            Slot::Failed { plugin, error } => Some(Arc::new(Unavailable {
                plugin: plugin.clone(),
                error: error.clone(),
            })),
        }
    }

    /// Every plugin directory with its state, version, counters and last error.
    pub fn statuses(&self) -> Vec<PluginStatus> {
        self.current()
            .entries
            .iter()
            .map(|e| {
                let (id, version, world, api_version, serves) = match &e.manifest {
                    Some(m) => (
                        m.id.clone(),
                        m.version.clone(),
                        m.world.as_str().to_owned(),
                        m.api_version.clone(),
                        match m.world {
                            World::Jurisdiction => m.jurisdictions.clone(),
                            World::Partner => m.partners.clone(),
                        },
                    ),
                    None => Default::default(),
                };
                let hooks = match &e.outcome {
                    Ok(p) => p.hooks().iter().map(|h| h.as_str().to_owned()).collect(),
                    Err(_) => Vec::new(),
                };
                let (state, error, calls, failures, last_error) = match &e.outcome {
                    Ok(p) => (
                        "loaded",
                        None,
                        p.stats.calls.load(Ordering::Relaxed),
                        p.stats.failures.load(Ordering::Relaxed),
                        p.stats.last_error.lock().ok().and_then(|l| l.clone()),
                    ),
                    Err(err) => ("failed", Some(err.clone()), 0, 0, None),
                };
                PluginStatus {
                    dir: e.dir.display().to_string(),
                    id,
                    version,
                    world,
                    api_version,
                    hooks,
                    serves,
                    state: state.into(),
                    error,
                    since: e.since.clone(),
                    calls,
                    failures,
                    last_error,
                }
            })
            .collect()
    }
}

fn build(host: &Arc<PluginHost>, config: &RegistryConfig) -> Result<Table, PluginError> {
    let mut table = Table::default();
    if config.dir.as_os_str().is_empty() {
        return Ok(table);
    }
    let read = std::fs::read_dir(&config.dir).map_err(|e| PluginError::Manifest {
        path: config.dir.display().to_string(),
        detail: format!("cannot read the plugin directory: {e}"),
    })?;
    let mut dirs: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .map(|d| d.path())
        .filter(|p| p.join(MANIFEST_FILE).is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        table.entries.push(load_entry(host, &dir));
    }

    // Who claims what.
    let mut claims: BTreeMap<(World, String), Vec<usize>> = BTreeMap::new();
    for (i, e) in table.entries.iter().enumerate() {
        if let Some(m) = &e.manifest {
            let keys = match m.world {
                World::Jurisdiction => &m.jurisdictions,
                World::Partner => &m.partners,
            };
            for k in keys {
                claims.entry((m.world, k.clone())).or_default().push(i);
            }
        }
    }
    // Pinned ids that no plugin directory provides fail closed too.
    for (world, pins) in [
        (World::Jurisdiction, &config.jurisdictions),
        (World::Partner, &config.partners),
    ] {
        for key in pins.keys() {
            claims.entry((world, key.clone())).or_default();
        }
    }
    for ((world, key), claimants) in claims {
        let pinned = match world {
            World::Jurisdiction => config.jurisdictions.get(&key),
            World::Partner => config.partners.get(&key),
        };
        let chosen: Vec<usize> = match pinned {
            Some(id) => claimants
                .iter()
                .copied()
                .filter(|i| table.entries[*i].manifest.as_ref().map(|m| &m.id) == Some(id))
                .collect(),
            None => claimants.clone(),
        };
        let slot = match chosen.as_slice() {
            [i] => {
                let e = &table.entries[*i];
                match (&e.outcome, &e.manifest) {
                    (Ok(p), _) => Slot::Loaded(p.clone()),
                    (Err(err), Some(m)) => Slot::Failed {
                        plugin: m.name(),
                        error: err.clone(),
                    },
                    (Err(err), None) => Slot::Failed {
                        plugin: unknown(&key),
                        error: err.clone(),
                    },
                }
            }
            [] => Slot::Failed {
                plugin: PluginName {
                    id: pinned.cloned().unwrap_or_default(),
                    version: "?".into(),
                },
                error: format!("no plugin with this id serves {key} in the plugin directory"),
            },
            many => Slot::Failed {
                plugin: unknown(&key),
                error: format!(
                    "{} plugins claim {key} ({}); pin one in the configuration",
                    many.len(),
                    many.iter()
                        .filter_map(|i| table.entries[*i].manifest.as_ref().map(|m| m.id.clone()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        };
        match world {
            World::Jurisdiction => table.jurisdictions.insert(key, slot),
            World::Partner => table.partners.insert(key, slot),
        };
    }
    Ok(table)
}

fn unknown(key: &str) -> PluginName {
    PluginName {
        id: format!("for {key}"),
        version: "?".into(),
    }
}

fn load_entry(host: &Arc<PluginHost>, dir: &Path) -> Entry {
    let manifest = Manifest::load(dir).ok();
    let outcome = LoadedPlugin::load(host, dir).map_err(|e| {
        tracing::warn!(dir = %dir.display(), error = %e, "plugin not loaded");
        e.to_string()
    });
    if let Ok(p) = &outcome {
        tracing::info!(plugin = %p.manifest().id, version = %p.manifest().version, "plugin loaded");
    }
    Entry {
        dir: dir.to_owned(),
        manifest,
        outcome,
        since: chrono::Utc::now().to_rfc3339(),
    }
}

/// The port of a plugin that is configured but failed to load: every call fails, the
/// optional hooks too (their defaults would be answers from a plugin that is not there).
struct Unavailable {
    plugin: PluginName,
    error: String,
}

impl Unavailable {
    fn err(&self) -> PortError {
        PluginError::Unavailable {
            plugin: self.plugin.clone(),
            detail: self.error.clone(),
        }
        .into()
    }
}

impl Jurisdiction for Unavailable {
    fn describe(&self) -> String {
        format!("{} (not available)", self.plugin)
    }
    fn questions(&self) -> Result<Vec<Question>, PortError> {
        Err(self.err())
    }
    fn recovery_period_days(&self, _: &PersonFacts) -> Result<u32, PortError> {
        Err(self.err())
    }
    fn decision_rules(&self) -> Result<DecisionRules, PortError> {
        Err(self.err())
    }
    fn protective_measures(&self) -> Result<Vec<Measure>, PortError> {
        Err(self.err())
    }
    fn return_requirements(&self, _: &PersonFacts) -> Result<Vec<ReturnRequirement>, PortError> {
        Err(self.err())
    }
    fn follow_up_schedule_days(&self, _: &PersonFacts) -> Result<Vec<u32>, PortError> {
        Err(self.err())
    }
    fn guard_transition(&self, _: &Transition) -> Result<Verdict, PortError> {
        Err(self.err())
    }
    fn fund_rules(&self, _: &FundingAsk) -> Result<Verdict, PortError> {
        Err(self.err())
    }
    fn reintegration_indicators(&self, _: &PersonFacts) -> Result<Option<String>, PortError> {
        Err(self.err())
    }
    fn measure_deciders(&self) -> Result<Vec<(String, Vec<DecidingBody>)>, PortError> {
        Err(self.err())
    }
}

impl Partner for Unavailable {
    fn describe(&self) -> String {
        format!("{} (not available)", self.plugin)
    }
    fn format_request(&self, _: &PartnerRequest) -> Result<PartnerOutcome, PortError> {
        Err(self.err())
    }
    fn read_status(&self, _: &str) -> Result<PartnerStatus, PortError> {
        Err(self.err())
    }
    fn reintegration_indicators(&self, _: &PersonFacts) -> Result<Option<String>, PortError> {
        Err(self.err())
    }
}
