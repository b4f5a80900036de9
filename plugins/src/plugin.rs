//! A loaded plugin: its manifest, its pre-instantiated component, its counters, and the
//! [`Jurisdiction`] / [`Partner`] ports implemented over it.
//!
//! # Two API versions
//! The manifest's `api_version` picks the bindings ([`Api`]): 0.1.x components are
//! checked against the frozen 0.1 worlds, 0.2.x components against the 0.2 worlds
//! `jurisdiction-required` / `partner-required`. The required hooks of both versions
//! have the same records, so one set of conversions serves both (`RequiredJurisdiction`,
//! `RequiredPartner`).
//!
//! A 0.2 component may also export optional hooks, each an interface of its own. At load
//! the host looks each one up in the compiled component, before instantiating anything
//! (`Component::get_export_index`, which matches 0.2.x to 0.2.0), and for each one found
//! builds its `GuestIndices` (wasmtime `bindgen!`, from the `InstancePre`) and
//! type-checks it on the load-time instance (`GuestIndices::load`, i.e.
//! `Instance::get_typed_func`). A hook that is exported but malformed refuses the whole
//! plugin. A hook that is not exported answers the core's default without a call; a hook
//! that is exported runs under the same bounds as the others, and its failure is an error.

use crate::bindings::types as w;
use crate::bindings::v0_2::{fund_rules, measure_deciders, reintegration_indicators};
use crate::bindings::{v0_1, v0_2};
use crate::convert::{self, OutputSize};
use crate::error::{PluginError, PluginName};
use crate::host::{CallState, CallStats, PluginHost};
use crate::limits::Limits;
use crate::manifest::{self, Api, Manifest, World};
use passerelle_core::identification::DecidingBody;
use passerelle_core::ports::{
    DecisionRules, FundingAsk, Jurisdiction, Measure, Partner, PartnerOutcome, PartnerRequest,
    PartnerStatus, PersonFacts, PortError, Question, ReturnRequirement, Transition, Verdict,
};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use wasmtime::Store;
use wasmtime::component::{Component, Instance, InstancePre};

/// The export names of the optional hooks of API 0.2 (looked up semver-compatibly: a
/// 0.2.x component's `@0.2.x` export matches).
pub const FUND_RULES_EXPORT: &str = "passerelle:plugin/fund-rules@0.2.0";
pub const REINTEGRATION_INDICATORS_EXPORT: &str =
    "passerelle:plugin/reintegration-indicators@0.2.0";
pub const MEASURE_DECIDERS_EXPORT: &str = "passerelle:plugin/measure-deciders@0.2.0";

/// An optional hook of API 0.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hook {
    FundRules,
    ReintegrationIndicators,
    MeasureDeciders,
}

impl Hook {
    pub const ALL: &'static [Hook] = &[
        Hook::FundRules,
        Hook::ReintegrationIndicators,
        Hook::MeasureDeciders,
    ];

    /// Its name in the WIT and on the command line, e.g. "fund-rules".
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::FundRules => "fund-rules",
            Hook::ReintegrationIndicators => "reintegration-indicators",
            Hook::MeasureDeciders => "measure-deciders",
        }
    }

    /// The worlds it belongs to.
    pub fn serves(self, world: World) -> bool {
        match self {
            Hook::ReintegrationIndicators => true,
            Hook::FundRules | Hook::MeasureDeciders => world == World::Jurisdiction,
        }
    }

    fn export(self) -> &'static str {
        match self {
            Hook::FundRules => FUND_RULES_EXPORT,
            Hook::ReintegrationIndicators => REINTEGRATION_INDICATORS_EXPORT,
            Hook::MeasureDeciders => MEASURE_DECIDERS_EXPORT,
        }
    }
}

/// The required hooks of a jurisdiction, whichever API version's bindings carry them
/// (their records are the same).
trait RequiredJurisdiction {
    fn api_version(&self, s: &mut Store<CallState>) -> wasmtime::Result<String>;
    fn questions(&self, s: &mut Store<CallState>) -> Out<Vec<w::Question>>;
    fn recovery_period_days(&self, s: &mut Store<CallState>, p: &w::PersonFacts) -> Out<u32>;
    fn decision_rules(&self, s: &mut Store<CallState>) -> Out<w::DecisionRules>;
    fn protective_measures(&self, s: &mut Store<CallState>) -> Out<Vec<w::Measure>>;
    fn return_requirements(
        &self,
        s: &mut Store<CallState>,
        p: &w::PersonFacts,
    ) -> Out<Vec<w::ReturnRequirement>>;
    fn follow_up_schedule_days(
        &self,
        s: &mut Store<CallState>,
        p: &w::PersonFacts,
    ) -> Out<Vec<u32>>;
    fn guard_transition(&self, s: &mut Store<CallState>, t: &w::Transition) -> Out<w::Verdict>;
}

/// The required hooks of a partner, whichever API version's bindings carry them.
trait RequiredPartner {
    fn api_version(&self, s: &mut Store<CallState>) -> wasmtime::Result<String>;
    fn format_request(
        &self,
        s: &mut Store<CallState>,
        r: &w::PartnerRequest,
    ) -> Out<w::PartnerOutcome>;
    fn read_status(&self, s: &mut Store<CallState>, update: &str) -> Out<w::PartnerStatus>;
}

/// Measure id → the bodies that decide it (the `measure-deciders` hook, checked).
pub type Deciders = Vec<(String, Vec<DecidingBody>)>;

/// What a hook call gives: a trap or host error, or the guest's own result.
type Out<T> = wasmtime::Result<Result<T, String>>;

macro_rules! required_jurisdiction {
    ($($t:ty),+) => {$(
        impl RequiredJurisdiction for $t {
            fn api_version(&self, s: &mut Store<CallState>) -> wasmtime::Result<String> {
                self.call_api_version(s)
            }
            fn questions(&self, s: &mut Store<CallState>) -> Out<Vec<w::Question>> {
                self.call_questions(s)
            }
            fn recovery_period_days(&self, s: &mut Store<CallState>, p: &w::PersonFacts) -> Out<u32> {
                self.call_recovery_period_days(s, p)
            }
            fn decision_rules(&self, s: &mut Store<CallState>) -> Out<w::DecisionRules> {
                self.call_decision_rules(s)
            }
            fn protective_measures(&self, s: &mut Store<CallState>) -> Out<Vec<w::Measure>> {
                self.call_protective_measures(s)
            }
            fn return_requirements(
                &self,
                s: &mut Store<CallState>,
                p: &w::PersonFacts,
            ) -> Out<Vec<w::ReturnRequirement>> {
                self.call_return_requirements(s, p)
            }
            fn follow_up_schedule_days(
                &self,
                s: &mut Store<CallState>,
                p: &w::PersonFacts,
            ) -> Out<Vec<u32>> {
                self.call_follow_up_schedule_days(s, p)
            }
            fn guard_transition(&self, s: &mut Store<CallState>, t: &w::Transition) -> Out<w::Verdict> {
                self.call_guard_transition(s, t)
            }
        }
    )+};
}

macro_rules! required_partner {
    ($($t:ty),+) => {$(
        impl RequiredPartner for $t {
            fn api_version(&self, s: &mut Store<CallState>) -> wasmtime::Result<String> {
                self.call_api_version(s)
            }
            fn format_request(
                &self,
                s: &mut Store<CallState>,
                r: &w::PartnerRequest,
            ) -> Out<w::PartnerOutcome> {
                self.call_format_request(s, r)
            }
            fn read_status(&self, s: &mut Store<CallState>, update: &str) -> Out<w::PartnerStatus> {
                self.call_read_status(s, update)
            }
        }
    )+};
}

required_jurisdiction!(
    v0_1::jurisdiction::Jurisdiction,
    v0_2::jurisdiction::JurisdictionRequired
);
required_partner!(v0_1::partner::Partner, v0_2::partner::PartnerRequired);

/// The indices of the required hooks (type-checked against the component at load).
enum Required {
    Jurisdiction01(v0_1::jurisdiction::JurisdictionIndices),
    Jurisdiction02(v0_2::jurisdiction::JurisdictionRequiredIndices),
    Partner01(v0_1::partner::PartnerIndices),
    Partner02(v0_2::partner::PartnerRequiredIndices),
}

/// The optional hooks a 0.2 component exports (all None for 0.1).
#[derive(Default)]
struct Optional {
    fund_rules: Option<fund_rules::GuestIndices>,
    reintegration_indicators: Option<reintegration_indicators::GuestIndices>,
    measure_deciders: Option<measure_deciders::GuestIndices>,
}

impl Optional {
    fn hooks(&self) -> Vec<Hook> {
        let mut h = Vec::new();
        if self.fund_rules.is_some() {
            h.push(Hook::FundRules);
        }
        if self.reintegration_indicators.is_some() {
            h.push(Hook::ReintegrationIndicators);
        }
        if self.measure_deciders.is_some() {
            h.push(Hook::MeasureDeciders);
        }
        h
    }

    /// Type-check each hook on an instance (what a call will do too).
    fn typecheck(&self, store: &mut Store<CallState>, instance: &Instance) -> Result<(), String> {
        let bad = |hook: Hook, e: wasmtime::Error| {
            format!(
                "its {} export does not have the type of API 0.2: {}",
                hook.as_str(),
                crate::host::cut(&e.to_string(), 200)
            )
        };
        if let Some(i) = &self.fund_rules {
            i.load(&mut *store, instance)
                .map_err(|e| bad(Hook::FundRules, e))?;
        }
        if let Some(i) = &self.reintegration_indicators {
            i.load(&mut *store, instance)
                .map_err(|e| bad(Hook::ReintegrationIndicators, e))?;
        }
        if let Some(i) = &self.measure_deciders {
            i.load(&mut *store, instance)
                .map_err(|e| bad(Hook::MeasureDeciders, e))?;
        }
        Ok(())
    }
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
    api: Api,
    dir: PathBuf,
    limits: Limits,
    instance_pre: InstancePre<CallState>,
    required: Required,
    optional: Optional,
    host: Arc<PluginHost>,
    pub(crate) stats: PluginStats,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("manifest", &self.manifest)
            .field("api", &self.api)
            .field("hooks", &self.optional.hooks())
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

/// Look up the optional hooks of `world` in a 0.2 component.
fn optional_hooks(
    name: &PluginName,
    world: World,
    component: &Component,
    pre: &InstancePre<CallState>,
) -> Result<Optional, PluginError> {
    let mut o = Optional::default();
    for hook in Hook::ALL {
        if !hook.serves(world) || component.get_export_index(None, hook.export()).is_none() {
            continue;
        }
        let malformed = |e: wasmtime::Error| {
            contract(
                name,
                format!(
                    "it exports {} but not as API 0.2 defines it: {}",
                    hook.as_str(),
                    crate::host::cut(&e.to_string(), 200)
                ),
            )
        };
        match hook {
            Hook::FundRules => {
                o.fund_rules = Some(fund_rules::GuestIndices::new(pre).map_err(malformed)?);
            }
            Hook::ReintegrationIndicators => {
                o.reintegration_indicators =
                    Some(reintegration_indicators::GuestIndices::new(pre).map_err(malformed)?);
            }
            Hook::MeasureDeciders => {
                o.measure_deciders =
                    Some(measure_deciders::GuestIndices::new(pre).map_err(malformed)?);
            }
        }
    }
    Ok(o)
}

impl LoadedPlugin {
    /// Load the plugin in `dir`: manifest, API range, digest, compile (through the
    /// compilation cache if configured), link, type-check the world of its API version
    /// and the optional hooks it exports, and ask the component its API version.
    pub fn load(host: &Arc<PluginHost>, dir: &Path) -> Result<Arc<LoadedPlugin>, PluginError> {
        let m = Manifest::load(dir)?;
        let api = m.check_api()?;
        let bytes = manifest::read_component(dir, &m)?;
        let name = m.name();
        let component = Component::new(&host.engine, &bytes)
            .map_err(|e| contract(&name, format!("not a valid component: {e}")))?;
        let instance_pre = host.linker.instantiate_pre(&component).map_err(|e| {
            contract(
                &name,
                format!("it needs something the host does not provide: {e}"),
            )
        })?;
        let not_world = |e: wasmtime::Error| {
            contract(
                &name,
                format!(
                    "it does not implement the {} world of API {}: {e}",
                    m.world.as_str(),
                    api.as_str()
                ),
            )
        };
        let pre = &instance_pre;
        let required = match (m.world, api) {
            (World::Jurisdiction, Api::V0_1) => Required::Jurisdiction01(
                v0_1::jurisdiction::JurisdictionIndices::new(pre).map_err(not_world)?,
            ),
            (World::Jurisdiction, Api::V0_2) => Required::Jurisdiction02(
                v0_2::jurisdiction::JurisdictionRequiredIndices::new(pre).map_err(not_world)?,
            ),
            (World::Partner, Api::V0_1) => {
                Required::Partner01(v0_1::partner::PartnerIndices::new(pre).map_err(not_world)?)
            }
            (World::Partner, Api::V0_2) => Required::Partner02(
                v0_2::partner::PartnerRequiredIndices::new(pre).map_err(not_world)?,
            ),
        };
        let optional = match api {
            // API 0.1 has no optional hooks: whatever else it exports is not looked at.
            Api::V0_1 => Optional::default(),
            Api::V0_2 => optional_hooks(&name, m.world, &component, pre)?,
        };
        let plugin = LoadedPlugin {
            limits: host.limits().capped_by(&m.limits),
            manifest: m,
            api,
            dir: dir.to_owned(),
            instance_pre,
            required,
            optional,
            host: host.clone(),
            stats: PluginStats::default(),
        };
        let found = plugin.probe()?;
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
        Ok(Arc::new(plugin))
    }

    /// The load-time call: on one instance, type-check the optional hooks and ask the
    /// component its API version. Not counted as one of the plugin's calls.
    fn probe(&self) -> Result<String, PluginError> {
        let (r, _) = self.host.run(&self.name(), &self.limits, |store| {
            let instance = self.instance_pre.instantiate(&mut *store)?;
            if let Err(detail) = self.optional.typecheck(store, &instance) {
                return Ok(Err(detail));
            }
            let version = match &self.required {
                Required::Jurisdiction01(i) => i.load(&mut *store, &instance)?.api_version(store),
                Required::Jurisdiction02(i) => i.load(&mut *store, &instance)?.api_version(store),
                Required::Partner01(i) => {
                    RequiredPartner::api_version(&i.load(&mut *store, &instance)?, store)
                }
                Required::Partner02(i) => {
                    RequiredPartner::api_version(&i.load(&mut *store, &instance)?, store)
                }
            }?;
            Ok(Ok(version))
        });
        // The only "domain" answer of the probe is a malformed optional hook.
        r.map_err(|e| match e {
            PluginError::Domain { plugin, message } => PluginError::Contract {
                plugin,
                detail: message,
            },
            other => other,
        })
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

    /// Its counters (calls, failures, last error).
    pub fn stats(&self) -> &PluginStats {
        &self.stats
    }

    /// Which API version's bindings it was loaded with.
    pub fn api(&self) -> Api {
        self.api
    }

    /// The optional hooks it exports (API 0.2; none for 0.1).
    pub fn hooks(&self) -> Vec<Hook> {
        self.optional.hooks()
    }

    /// Call a jurisdiction hook on a fresh instance; check the output's size and
    /// contract with `check`.
    fn jur<W: OutputSize, R>(
        &self,
        call: impl FnOnce(&dyn RequiredJurisdiction, &mut Store<CallState>) -> Out<W>,
        check: impl FnOnce(W) -> Result<R, String>,
    ) -> (Result<R, PluginError>, CallStats) {
        if self.manifest.world != World::Jurisdiction {
            return self.wrong_world(World::Jurisdiction);
        }
        let (r, stats) = self.host.run(&self.name(), &self.limits, |store| {
            let instance = self.instance_pre.instantiate(&mut *store)?;
            match &self.required {
                Required::Jurisdiction01(i) => call(&i.load(&mut *store, &instance)?, store),
                Required::Jurisdiction02(i) => call(&i.load(&mut *store, &instance)?, store),
                Required::Partner01(_) | Required::Partner02(_) => {
                    Err(wasmtime::format_err!("not a jurisdiction plugin"))
                }
            }
        });
        self.finish(r.and_then(|w| self.checked(w, check)), stats)
    }

    fn partner<W: OutputSize, R>(
        &self,
        call: impl FnOnce(&dyn RequiredPartner, &mut Store<CallState>) -> Out<W>,
        check: impl FnOnce(W) -> Result<R, String>,
    ) -> (Result<R, PluginError>, CallStats) {
        if self.manifest.world != World::Partner {
            return self.wrong_world(World::Partner);
        }
        let (r, stats) = self.host.run(&self.name(), &self.limits, |store| {
            let instance = self.instance_pre.instantiate(&mut *store)?;
            match &self.required {
                Required::Partner01(i) => call(&i.load(&mut *store, &instance)?, store),
                Required::Partner02(i) => call(&i.load(&mut *store, &instance)?, store),
                Required::Jurisdiction01(_) | Required::Jurisdiction02(_) => {
                    Err(wasmtime::format_err!("not a partner plugin"))
                }
            }
        });
        self.finish(r.and_then(|w| self.checked(w, check)), stats)
    }

    /// Call an optional hook on a fresh instance, with the same bounds and checks as the
    /// required ones. `call` loads the hook's interface from the instance.
    fn optional_call<W: OutputSize, R>(
        &self,
        call: impl FnOnce(&Instance, &mut Store<CallState>) -> Out<W>,
        check: impl FnOnce(W) -> Result<R, String>,
    ) -> (Result<R, PluginError>, CallStats) {
        let (r, stats) = self.host.run(&self.name(), &self.limits, |store| {
            let instance = self.instance_pre.instantiate(&mut *store)?;
            call(&instance, store)
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
        self.finish(Err(e), zero())
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

    /// Count a call, and record its failure.
    fn finish<R>(
        &self,
        r: Result<R, PluginError>,
        stats: CallStats,
    ) -> (Result<R, PluginError>, CallStats) {
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = &r {
            self.failed(e);
        }
        if !stats.log.is_empty() {
            tracing::debug!(plugin = %self.manifest.id, log = %stats.log, "plugin log");
        }
        (r, stats)
    }

    fn failed(&self, e: &PluginError) {
        self.stats.failures.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut last) = self.stats.last_error.lock() {
            *last = Some((e.to_string(), chrono::Utc::now().to_rfc3339()));
        }
        tracing::warn!(plugin = %self.manifest.id, version = %self.manifest.version,
            kind = e.kind(), error = %e, "plugin call failed");
    }

    /// The component's own API version (asked at load).
    pub fn api_version(&self) -> (Result<String, PluginError>, CallStats) {
        let ok = |s: String| -> Out<String> { Ok(Ok(s)) };
        match self.manifest.world {
            World::Jurisdiction => self.jur(|i, s| ok(i.api_version(s)?), Ok),
            World::Partner => self.partner(|i, s| ok(i.api_version(s)?), Ok),
        }
    }

    pub fn questions(&self) -> (Result<Vec<Question>, PluginError>, CallStats) {
        self.jur(|i, s| i.questions(s), convert::questions_out)
    }

    pub fn recovery_period_days(&self, p: &PersonFacts) -> (Result<u32, PluginError>, CallStats) {
        if let Err(e) = self.check_input(p) {
            return self.finish(Err(e), zero());
        }
        let wp = convert::person_in(p);
        self.jur(|i, s| i.recovery_period_days(s, &wp), convert::days_out)
    }

    pub fn decision_rules(&self) -> (Result<DecisionRules, PluginError>, CallStats) {
        self.jur(|i, s| i.decision_rules(s), convert::rules_out)
    }

    /// The catalogue of protective measures, with who decides on each: when the plugin
    /// exports `measure-deciders`, its answer is put into the catalogue (a second call;
    /// the stats add both), and either call failing fails the catalogue.
    pub fn protective_measures(&self) -> (Result<Vec<Measure>, PluginError>, CallStats) {
        let (r, stats) = self.jur(|i, s| i.protective_measures(s), convert::measures_out);
        let measures = match r {
            Ok(m) if self.optional.measure_deciders.is_some() => m,
            other => return (other, stats),
        };
        let (d, more) = self.measure_deciders();
        let stats = CallStats {
            fuel_used: stats.fuel_used.saturating_add(more.fuel_used),
            elapsed: stats.elapsed + more.elapsed,
            log: stats.log + &more.log,
        };
        let merged = d.and_then(|d| {
            convert::with_deciders(measures, d).map_err(|v| {
                let e = contract(&self.name(), v);
                self.failed(&e);
                e
            })
        });
        (merged, stats)
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
            |i, s| i.return_requirements(s, &wp),
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
            |i, s| i.follow_up_schedule_days(s, &wp),
            convert::schedule_out,
        )
    }

    pub fn guard_transition(&self, t: &Transition) -> (Result<Verdict, PluginError>, CallStats) {
        if let Err(e) = self.check_input(t) {
            return self.finish(Err(e), zero());
        }
        let wt = convert::transition_in(t);
        self.jur(|i, s| i.guard_transition(s, &wt), convert::verdict_out)
    }

    /// Optional hook (0.2, jurisdiction): the jurisdiction's own funding rules. Without
    /// the hook: [`Verdict::Allow`], and no call.
    pub fn fund_rules(&self, ask: &FundingAsk) -> (Result<Verdict, PluginError>, CallStats) {
        if self.manifest.world != World::Jurisdiction {
            return self.wrong_world(World::Jurisdiction);
        }
        let Some(hook) = &self.optional.fund_rules else {
            return (Ok(Verdict::Allow), zero());
        };
        if let Err(e) = self.check_input(ask) {
            return self.finish(Err(e), zero());
        }
        let wa = match convert::funding_ask_in(ask) {
            Ok(a) => a,
            Err(detail) => {
                let e = PluginError::Input {
                    hook: Hook::FundRules.as_str().into(),
                    detail,
                };
                return self.finish(Err(e), zero());
            }
        };
        self.optional_call(
            |instance, s| hook.load(&mut *s, instance)?.call_fund_rules(s, &wa),
            convert::verdict_out,
        )
    }

    /// Optional hook (0.2, jurisdiction or partner): a replacement indicator set for
    /// this person, checked as the core will read it. Without the hook: None, no call.
    pub fn reintegration_indicators(
        &self,
        p: &PersonFacts,
    ) -> (Result<Option<String>, PluginError>, CallStats) {
        let Some(hook) = &self.optional.reintegration_indicators else {
            return (Ok(None), zero());
        };
        if let Err(e) = self.check_input(p) {
            return self.finish(Err(e), zero());
        }
        let wp = convert::person_in(p);
        self.optional_call(
            |instance, s| {
                hook.load(&mut *s, instance)?
                    .call_reintegration_indicators(s, &wp)
            },
            convert::indicators_out,
        )
    }

    /// Optional hook (0.2, jurisdiction): who decides on which measure. Without the
    /// hook: empty, no call.
    pub fn measure_deciders(&self) -> (Result<Deciders, PluginError>, CallStats) {
        if self.manifest.world != World::Jurisdiction {
            return self.wrong_world(World::Jurisdiction);
        }
        let Some(hook) = &self.optional.measure_deciders else {
            return (Ok(Vec::new()), zero());
        };
        self.optional_call(
            |instance, s| hook.load(&mut *s, instance)?.call_measure_deciders(s),
            convert::deciders_out,
        )
    }

    pub fn format_request(
        &self,
        r: &PartnerRequest,
    ) -> (Result<PartnerOutcome, PluginError>, CallStats) {
        if let Err(e) = self.check_input(r) {
            return self.finish(Err(e), zero());
        }
        let wr = convert::request_in(r);
        self.partner(|i, s| i.format_request(s, &wr), convert::outcome_out)
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
        self.partner(|i, s| i.read_status(s, update), convert::status_update_out)
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
/// thread. Errors become [`PortError`]s; `guard_transition` and `fund_rules` fail closed
/// (an error, never `Allow`, when the plugin fails). The optional hooks of API 0.2 answer
/// the trait's defaults, without a call, when the plugin does not export them.
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
    fn fund_rules(&self, ask: &FundingAsk) -> Result<Verdict, PortError> {
        Ok(self.0.fund_rules(ask).0?)
    }
    fn reintegration_indicators(&self, person: &PersonFacts) -> Result<Option<String>, PortError> {
        Ok(self.0.reintegration_indicators(person).0?)
    }
    fn measure_deciders(&self) -> Result<Vec<(String, Vec<DecidingBody>)>, PortError> {
        Ok(self.0.measure_deciders().0?)
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
    fn reintegration_indicators(&self, person: &PersonFacts) -> Result<Option<String>, PortError> {
        Ok(self.0.reintegration_indicators(person).0?)
    }
}
