//! For plugin authors and the CLI: run one hook of a plugin directory on a JSON input
//! (`passerelle plugin run <dir> <hook> <input.json>`), or check a plugin directory
//! (`passerelle plugin check <dir>`), without a server.
//!
//! Inputs and outputs are the JSON forms of the core's port types
//! (`passerelle_core::ports`): e.g. `recovery-period` takes a `PersonFacts`
//! (`{"child": true, "stateless": false, "nationality": "NG"}`), `guard-transition` a
//! `Transition`, `format-request` a `PartnerRequest`, `read-status` the partner's own JSON
//! (passed through as a string), `fund-rules` a `FundingAsk`, `reintegration-indicators`
//! a `PersonFacts`. Hooks without input ignore it.
//!
//! The optional hooks of API 0.2 (`fund-rules`, `reintegration-indicators`,
//! `measure-deciders`) run like the others; on a plugin that does not export one (every
//! 0.1 plugin), the report gives the core's default and says so in `note`.

use crate::error::PluginError;
use crate::host::{CallStats, PluginHost};
use crate::limits::{EngineSettings, Limits};
use crate::manifest::{self, Manifest, SUPPORTED_API};
use crate::plugin::{Hook, LoadedPlugin};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The hooks, by the names the CLI takes.
pub const HOOKS: &[&str] = &[
    "questions",
    "recovery-period",
    "decision-rules",
    "protective-measures",
    "return-requirements",
    "follow-up-schedule",
    "guard-transition",
    "format-request",
    "read-status",
    "fund-rules",
    "reintegration-indicators",
    "measure-deciders",
];

/// What a run printed: the output as JSON, the fuel used, the time and the plugin's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub output_json: String,
    pub fuel_used: u64,
    /// Instantiation and call, on a fresh store (not the compilation).
    pub elapsed: Duration,
    pub log: String,
    /// Said when the answer is not the plugin's own: an optional hook it does not export.
    pub note: Option<String>,
}

/// Run `hook` of the plugin in `dir` on `input_json`, with the default limits (and the
/// plugin's own, capped by them).
pub fn run(dir: &Path, hook: &str, input_json: &str) -> Result<RunReport, PluginError> {
    let host = PluginHost::new(Limits::default(), EngineSettings::default())?;
    run_on(&host, dir, hook, input_json)
}

/// [`run`] on a given host (its limits and compilation cache).
pub fn run_on(
    host: &Arc<PluginHost>,
    dir: &Path,
    hook: &str,
    input_json: &str,
) -> Result<RunReport, PluginError> {
    if !HOOKS.contains(&hook) {
        return Err(PluginError::Input {
            hook: hook.to_owned(),
            detail: format!("unknown hook; the hooks are: {}", HOOKS.join(", ")),
        });
    }
    let plugin = LoadedPlugin::load(host, dir)?;
    call_hook(&plugin, hook, input_json)
}

fn input<T: DeserializeOwned>(hook: &str, json: &str) -> Result<T, PluginError> {
    serde_json::from_str(json).map_err(|e| PluginError::Input {
        hook: hook.to_owned(),
        detail: e.to_string(),
    })
}

fn report<T: Serialize>(
    hook: &str,
    (r, stats): (Result<T, PluginError>, CallStats),
) -> Result<RunReport, PluginError> {
    let out = r?;
    let output_json = serde_json::to_string_pretty(&out).map_err(|e| PluginError::Input {
        hook: hook.to_owned(),
        detail: format!("output cannot be shown as JSON: {e}"),
    })?;
    Ok(RunReport {
        output_json,
        fuel_used: stats.fuel_used,
        elapsed: stats.elapsed,
        log: stats.log,
        note: None,
    })
}

/// [`report`] for an optional hook: says when the plugin does not export it.
fn optional<T: Serialize>(
    plugin: &LoadedPlugin,
    hook: Hook,
    out: (Result<T, PluginError>, CallStats),
) -> Result<RunReport, PluginError> {
    let mut r = report(hook.as_str(), out)?;
    if !plugin.hooks().contains(&hook) {
        r.note = Some(format!(
            "{} (API {}) does not export the optional hook {}: this is the core's default",
            plugin.describe(),
            plugin.manifest().api_version,
            hook.as_str()
        ));
    }
    Ok(r)
}

/// Call one hook of a loaded plugin by name, on JSON input.
pub fn call_hook(
    plugin: &LoadedPlugin,
    hook: &str,
    input_json: &str,
) -> Result<RunReport, PluginError> {
    match hook {
        "questions" => report(hook, plugin.questions()),
        "recovery-period" => report(hook, plugin.recovery_period_days(&input(hook, input_json)?)),
        "decision-rules" => report(hook, plugin.decision_rules()),
        "protective-measures" => report(hook, plugin.protective_measures()),
        "return-requirements" => {
            report(hook, plugin.return_requirements(&input(hook, input_json)?))
        }
        "follow-up-schedule" => report(
            hook,
            plugin.follow_up_schedule_days(&input(hook, input_json)?),
        ),
        "guard-transition" => report(hook, plugin.guard_transition(&input(hook, input_json)?)),
        "format-request" => report(hook, plugin.format_request(&input(hook, input_json)?)),
        "read-status" => report(hook, plugin.read_status(input_json)),
        "fund-rules" => optional(
            plugin,
            Hook::FundRules,
            plugin.fund_rules(&input(hook, input_json)?),
        ),
        "reintegration-indicators" => optional(
            plugin,
            Hook::ReintegrationIndicators,
            plugin.reintegration_indicators(&input(hook, input_json)?),
        ),
        "measure-deciders" => optional(plugin, Hook::MeasureDeciders, plugin.measure_deciders()),
        other => Err(PluginError::Input {
            hook: other.to_owned(),
            detail: format!("unknown hook; the hooks are: {}", HOOKS.join(", ")),
        }),
    }
}

/// What `check` found about a plugin directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Everything passed: manifest, digest, API version, compilation, world, exports.
    pub ok: bool,
    pub manifest: Option<Manifest>,
    /// The component's actual sha256 (when it could be read).
    pub sha256: Option<String>,
    pub supported_api: String,
    /// The optional hooks (API 0.2) the component exports, e.g. ["fund-rules"].
    pub hooks: Vec<String>,
    /// Compile (or compilation-cache look-up) and link time, in milliseconds.
    pub load_ms: u128,
    /// One line per problem found.
    pub problems: Vec<String>,
}

/// Check a plugin directory: manifest, digest, API version, and that it compiles, links,
/// exports its world's hooks (and well-typed optional ones) and answers `api-version` like
/// its manifest.
pub fn check(dir: &Path) -> CheckReport {
    match PluginHost::new(Limits::default(), EngineSettings::default()) {
        Ok(host) => check_on(&host, dir),
        Err(e) => CheckReport {
            ok: false,
            manifest: None,
            sha256: None,
            supported_api: SUPPORTED_API.to_owned(),
            hooks: Vec::new(),
            load_ms: 0,
            problems: vec![e.to_string()],
        },
    }
}

/// [`check`] on a given host (its limits and compilation cache).
pub fn check_on(host: &Arc<PluginHost>, dir: &Path) -> CheckReport {
    let mut r = CheckReport {
        ok: false,
        manifest: None,
        sha256: None,
        supported_api: SUPPORTED_API.to_owned(),
        hooks: Vec::new(),
        load_ms: 0,
        problems: Vec::new(),
    };
    let m = match Manifest::load(dir) {
        Ok(m) => m,
        Err(e) => {
            r.problems.push(e.to_string());
            return r;
        }
    };
    if let Ok(bytes) = std::fs::read(m.component_path(dir)) {
        r.sha256 = Some(manifest::sha256_hex(&bytes));
    }
    r.manifest = Some(m);
    let started = Instant::now();
    let loaded = LoadedPlugin::load(host, dir);
    r.load_ms = started.elapsed().as_millis();
    match loaded {
        Ok(p) => {
            r.ok = true;
            r.hooks = p.hooks().iter().map(|h| h.as_str().to_owned()).collect();
        }
        Err(e) => r.problems.push(e.to_string()),
    }
    r
}
