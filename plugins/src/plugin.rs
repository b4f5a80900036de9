//! A loaded plugin: its manifest, its pre-instantiated component, its counters, and the
//! [`Jurisdiction`] / [`Partner`] ports implemented over it.

use crate::bindings::jurisdiction::{Jurisdiction as JurBindings, JurisdictionPre};
use crate::bindings::partner::{Partner as PartnerBindings, PartnerPre};
use crate::convert::{self, OutputSize};
use crate::error::{PluginError, PluginName};
use crate::host::{CallState, CallStats, PluginHost};
use crate::limits::Limits;
use crate::manifest::{self, Manifest, World};
use passerelle_core::ports::{
    DecisionRules, Jurisdiction, Measure, Partner, PartnerOutcome, PartnerRequest, PartnerStatus,
    PersonFacts, PortError, Question, ReturnRequirement, Transition, Verdict,
};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use wasmtime::Store;
use wasmtime::component::Component;

enum Pre {
    Jurisdiction(JurisdictionPre<CallState>),
    Partner(PartnerPre<CallState>),
}

/// Counters of a loaded plugin, for the administration page.
#[derive(Debug, Default)]
pub struct PluginStats {
    pub calls: AtomicU64,
    pub failures: AtomicU64,
    /// The last failure's message and when (UTC, RFC 3339).
    pub last_error: Mutex<Option<(String, String)>>,
}

/// A plugin whose manifest, digest, API version and exports were checked.
pub struct LoadedPlugin {
    manifest: Manifest,
    dir: PathBuf,
    limits: Limits,
    pre: Pre,
    host: Arc<PluginHost>,
    pub(crate) stats: PluginStats,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("manifest", &self.manifest)
            .field("dir", &self.dir)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

fn contract(plugin: &PluginName, detail: impl Into<String>) -> PluginError {
    PluginError::Contract {
        plugin: plugin.clone(),
        detail: detail.into(),
    }
}

impl LoadedPlugin {
    /// Load the plugin in `dir`: manifest, API range, digest, compile (through the
    /// compilation cache if configured), link, type-check the world, and ask the
    /// component its API version.
    pub fn load(host: &Arc<PluginHost>, dir: &Path) -> Result<Arc<LoadedPlugin>, PluginError> {
        let m = Manifest::load(dir)?;
        m.check_api()?;
        let bytes = manifest::read_component(dir, &m)?;
        let name = m.name();
        let component = Component::new(&host.engine, &bytes)
            .map_err(|e| contract(&name, format!("not a valid component: {e}")))?;
        let pre = host.linker.instantiate_pre(&component).map_err(|e| {
            contract(
                &name,
                format!("it needs something the host does not provide: {e}"),
            )
        })?;
        let not_world = |e: wasmtime::Error| {
            contract(
                &name,
                format!("it does not implement the {} world: {e}", m.world.as_str()),
            )
        };
        let pre = match m.world {
            World::Jurisdiction => Pre::Jurisdiction(JurisdictionPre::new(pre).map_err(not_world)?),
            World::Partner => Pre::Partner(PartnerPre::new(pre).map_err(not_world)?),
        };
        let plugin = LoadedPlugin {
            limits: host.limits().capped_by(&m.limits),
            manifest: m,
            dir: dir.to_owned(),
            pre,
            host: host.clone(),
            stats: PluginStats::default(),
        };
        let (found, _) = plugin.api_version();
        let found = found?;
        manifest::check_api_version(&name, &found)?;
        if found != plugin.manifest.api_version {
            return Err(contract(
                &name,
                format!(
                    "the component says API {}, but plugin.toml says {}",
                    crate::host::cut(&found, 40),
                    plugin.manifest.api_version
                ),
            ));
        }
        // The load-time call is not one of the plugin's calls.
        plugin.stats.calls.store(0, Ordering::Relaxed);
        Ok(Arc::new(plugin))
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// The limits this plugin runs under (its own, capped by the server's).
    pub fn limits(&self) -> Limits {
        self.limits
    }
    pub fn name(&self) -> PluginName {
        self.manifest.name()
    }
    pub fn describe(&self) -> String {
        format!("plugin {} {}", self.manifest.id, self.manifest.version)
    }

    fn check_input<T: Serialize>(&self, input: &T) -> Result<(), PluginError> {
        let size = serde_json::to_vec(input)
            .map_err(|e| contract(&self.name(), format!("input cannot be serialized: {e}")))?
            .len();
        if size > self.limits.input_bytes {
            return Err(contract(
                &self.name(),
                format!(
                    "the input is {size} bytes, over the limit of {} bytes",
                    self.limits.input_bytes
                ),
            ));
        }
        Ok(())
    }

    /// Call a jurisdiction hook on a fresh instance; check the output's size and
    /// contract with `check`.
    fn jur<W: OutputSize, R>(
        &self,
        call: impl FnOnce(&JurBindings, &mut Store<CallState>) -> wasmtime::Result<Result<W, String>>,
        check: impl FnOnce(W) -> Result<R, String>,
    ) -> (Result<R, PluginError>, CallStats) {
        let Pre::Jurisdiction(pre) = &self.pre else {
            return self.wrong_world(World::Jurisdiction);
        };
        let (r, stats) = self.host.run(&self.name(), &self.limits, |store| {
            let inst = pre.instantiate(&mut *store)?;
            call(&inst, store)
        });
        self.finish(r.and_then(|w| self.checked(w, check)), stats)
    }

    fn partner<W: OutputSize, R>(
        &self,
        call: impl FnOnce(
            &PartnerBindings,
            &mut Store<CallState>,
        ) -> wasmtime::Result<Result<W, String>>,
        check: impl FnOnce(W) -> Result<R, String>,
    ) -> (Result<R, PluginError>, CallStats) {
        let Pre::Partner(pre) = &self.pre else {
            return self.wrong_world(World::Partner);
        };
        let (r, stats) = self.host.run(&self.name(), &self.limits, |store| {
            let inst = pre.instantiate(&mut *store)?;
            call(&inst, store)
        });
        self.finish(r.and_then(|w| self.checked(w, check)), stats)
    }

    fn wrong_world<R>(&self, wanted: World) -> (Result<R, PluginError>, CallStats) {
        let e = contract(
            &self.name(),
            format!(
                "it is a {} plugin, not a {} plugin",
                self.manifest.world.as_str(),
                wanted.as_str()
            ),
        );
        self.finish(
            Err(e),
            CallStats {
                fuel_used: 0,
                elapsed: std::time::Duration::ZERO,
                log: String::new(),
            },
        )
    }

    fn checked<W: OutputSize, R>(
        &self,
        w: W,
        check: impl FnOnce(W) -> Result<R, String>,
    ) -> Result<R, PluginError> {
        let size = w.output_size();
        if size > self.limits.output_bytes {
            return Err(contract(
                &self.name(),
                format!(
                    "its output (about {size} bytes) is over the limit of {} bytes",
                    self.limits.output_bytes
                ),
            ));
        }
        check(w).map_err(|d| contract(&self.name(), d))
    }

    fn finish<R>(
        &self,
        r: Result<R, PluginError>,
        stats: CallStats,
    ) -> (Result<R, PluginError>, CallStats) {
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = &r {
            self.stats.failures.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut last) = self.stats.last_error.lock() {
                *last = Some((e.to_string(), chrono::Utc::now().to_rfc3339()));
            }
            tracing::warn!(plugin = %self.manifest.id, version = %self.manifest.version,
                kind = e.kind(), error = %e, "plugin call failed");
        }
        if !stats.log.is_empty() {
            tracing::debug!(plugin = %self.manifest.id, log = %stats.log, "plugin log");
        }
        (r, stats)
    }

    /// The component's own API version (asked at load).
    pub fn api_version(&self) -> (Result<String, PluginError>, CallStats) {
        let ok = |s: String| -> wasmtime::Result<Result<String, String>> { Ok(Ok(s)) };
        match &self.pre {
            Pre::Jurisdiction(_) => self.jur(|i, s| ok(i.call_api_version(s)?), Ok),
            Pre::Partner(_) => self.partner(|i, s| ok(i.call_api_version(s)?), Ok),
        }
    }

    pub fn questions(&self) -> (Result<Vec<Question>, PluginError>, CallStats) {
        self.jur(|i, s| i.call_questions(s), convert::questions_out)
    }

    pub fn recovery_period_days(&self, p: &PersonFacts) -> (Result<u32, PluginError>, CallStats) {
        if let Err(e) = self.check_input(p) {
            return self.finish(Err(e), zero());
        }
        let wp = convert::person_in(p);
        self.jur(
            |i, s| i.call_recovery_period_days(s, &wp),
            convert::days_out,
        )
    }

    pub fn decision_rules(&self) -> (Result<DecisionRules, PluginError>, CallStats) {
        self.jur(|i, s| i.call_decision_rules(s), convert::rules_out)
    }

    pub fn protective_measures(&self) -> (Result<Vec<Measure>, PluginError>, CallStats) {
        self.jur(|i, s| i.call_protective_measures(s), convert::measures_out)
    }

    pub fn return_requirements(
        &self,
        p: &PersonFacts,
    ) -> (Result<Vec<ReturnRequirement>, PluginError>, CallStats) {
        if let Err(e) = self.check_input(p) {
            return self.finish(Err(e), zero());
        }
        let wp = convert::person_in(p);
        self.jur(
            |i, s| i.call_return_requirements(s, &wp),
            convert::requirements_out,
        )
    }

    pub fn follow_up_schedule_days(
        &self,
        p: &PersonFacts,
    ) -> (Result<Vec<u32>, PluginError>, CallStats) {
        if let Err(e) = self.check_input(p) {
            return self.finish(Err(e), zero());
        }
        let wp = convert::person_in(p);
        self.jur(
            |i, s| i.call_follow_up_schedule_days(s, &wp),
            convert::schedule_out,
        )
    }

    pub fn guard_transition(&self, t: &Transition) -> (Result<Verdict, PluginError>, CallStats) {
        if let Err(e) = self.check_input(t) {
            return self.finish(Err(e), zero());
        }
        let wt = convert::transition_in(t);
        self.jur(|i, s| i.call_guard_transition(s, &wt), convert::verdict_out)
    }

    pub fn format_request(
        &self,
        r: &PartnerRequest,
    ) -> (Result<PartnerOutcome, PluginError>, CallStats) {
        if let Err(e) = self.check_input(r) {
            return self.finish(Err(e), zero());
        }
        let wr = convert::request_in(r);
        self.partner(|i, s| i.call_format_request(s, &wr), convert::outcome_out)
    }

    pub fn read_status(&self, update: &str) -> (Result<PartnerStatus, PluginError>, CallStats) {
        if update.len() > self.limits.input_bytes {
            let e = contract(
                &self.name(),
                format!(
                    "the status update is {} bytes, over the limit of {} bytes",
                    update.len(),
                    self.limits.input_bytes
                ),
            );
            return self.finish(Err(e), zero());
        }
        self.partner(
            |i, s| i.call_read_status(s, update),
            convert::status_update_out,
        )
    }
}

fn zero() -> CallStats {
    CallStats {
        fuel_used: 0,
        elapsed: std::time::Duration::ZERO,
        log: String::new(),
    }
}

/// A jurisdiction plugin as the core's [`Jurisdiction`] port.
///
/// Each method instantiates the component on a fresh store and runs the hook **on the
/// calling thread**, bounded by fuel, memory and a wall-clock timeout (epochs): it may
/// block for up to the plugin's `timeout_ms`. Call it from a blocking pool
/// (`actix_web::web::block`, `tokio::task::spawn_blocking`), never on an async executor
/// thread. Errors become [`PortError`]s; `guard_transition` fails closed (an error, never
/// `Allow`, when the plugin fails).
#[derive(Debug, Clone)]
pub struct JurisdictionPlugin(pub Arc<LoadedPlugin>);

impl Jurisdiction for JurisdictionPlugin {
    fn describe(&self) -> String {
        self.0.describe()
    }
    fn questions(&self) -> Result<Vec<Question>, PortError> {
        Ok(self.0.questions().0?)
    }
    fn recovery_period_days(&self, person: &PersonFacts) -> Result<u32, PortError> {
        Ok(self.0.recovery_period_days(person).0?)
    }
    fn decision_rules(&self) -> Result<DecisionRules, PortError> {
        Ok(self.0.decision_rules().0?)
    }
    fn protective_measures(&self) -> Result<Vec<Measure>, PortError> {
        Ok(self.0.protective_measures().0?)
    }
    fn return_requirements(
        &self,
        person: &PersonFacts,
    ) -> Result<Vec<ReturnRequirement>, PortError> {
        Ok(self.0.return_requirements(person).0?)
    }
    fn follow_up_schedule_days(&self, person: &PersonFacts) -> Result<Vec<u32>, PortError> {
        Ok(self.0.follow_up_schedule_days(person).0?)
    }
    fn guard_transition(&self, t: &Transition) -> Result<Verdict, PortError> {
        Ok(self.0.guard_transition(t).0?)
    }
}

/// A partner plugin as the core's [`Partner`] port. Same threading rule as
/// [`JurisdictionPlugin`]: call it from a blocking pool.
#[derive(Debug, Clone)]
pub struct PartnerPlugin(pub Arc<LoadedPlugin>);

impl Partner for PartnerPlugin {
    fn describe(&self) -> String {
        self.0.describe()
    }
    fn format_request(&self, request: &PartnerRequest) -> Result<PartnerOutcome, PortError> {
        Ok(self.0.format_request(request).0?)
    }
    fn read_status(&self, update_json: &str) -> Result<PartnerStatus, PortError> {
        Ok(self.0.read_status(update_json).0?)
    }
}
