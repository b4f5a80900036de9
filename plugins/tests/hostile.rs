//! Hostile plugins: each misbehaviour gives the right error within the configured
//! bounds, and the same host then still serves a good plugin.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use passerelle_plugins::{Hook, Limits, LoadedPlugin, PluginError, PluginHost};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A host with `limits`, the hostile plugin and the good French plugin loaded on it.
fn setup(
    limits: Limits,
) -> (
    Arc<PluginHost>,
    Arc<LoadedPlugin>,
    Arc<LoadedPlugin>,
    tempfile::TempDir,
) {
    let host = host(limits);
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_plugin(
        tmp.path(),
        "hostile",
        "6.6.6",
        "0.2.0",
        &hostile_wasm(),
        "ZZ",
        None,
    );
    let hostile = LoadedPlugin::load(&host, &dir).unwrap();
    let good = LoadedPlugin::load(&host, &fr_dir()).unwrap();
    (host, hostile, good, tmp)
}

/// After a failure, the same host serves the good plugin, and the hostile one's next
/// well-behaved call too (a fresh store per call).
fn still_healthy(hostile: &LoadedPlugin, good: &LoadedPlugin) {
    let qs = good.questions().0.unwrap();
    assert!(qs.iter().any(|q| q.id == "t-debt-organiser"));
    assert_eq!(hostile.recovery_period_days(&person("FR")).0.unwrap(), 7);
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let limits = Limits::default();
    let (_h, hostile, good, _t) = setup(limits);
    let started = Instant::now();
    let (r, stats) = hostile.recovery_period_days(&person("loop"));
    let e = r.unwrap_err();
    assert!(
        matches!(e, PluginError::OutOfFuel { fuel, .. } if fuel == limits.fuel),
        "{e:?}"
    );
    assert!(e.to_string().contains("plugin hostile 6.6.6"), "{e}");
    assert_eq!(stats.fuel_used, limits.fuel);
    assert!(
        started.elapsed() < Duration::from_millis(limits.timeout_ms),
        "{:?}",
        started.elapsed()
    );
    still_healthy(&hostile, &good);
}

#[test]
fn infinite_loop_with_ample_fuel_times_out() {
    let limits = Limits {
        fuel: u64::MAX / 2,
        timeout_ms: 100,
        ..Limits::default()
    };
    let (_h, hostile, good, _t) = setup(limits);
    let started = Instant::now();
    let e = hostile.recovery_period_days(&person("loop")).0.unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            e,
            PluginError::Timeout {
                timeout_ms: 100,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(took >= Duration::from_millis(80), "{took:?}");
    assert!(took < Duration::from_millis(400), "bounded: {took:?}");
    still_healthy(&hostile, &good);
}

#[test]
fn memory_bomb_hits_the_memory_limit() {
    let limits = Limits {
        memory_bytes: 16 << 20,
        ..Limits::default()
    };
    let (_h, hostile, good, _t) = setup(limits);
    let e = hostile.recovery_period_days(&person("oom")).0.unwrap_err();
    assert!(
        matches!(e, PluginError::Memory { limit_bytes, .. } if limit_bytes == 16 << 20),
        "{e:?}"
    );
    assert!(e.to_string().contains("memory"), "{e}");
    still_healthy(&hostile, &good);
}

#[test]
fn deep_recursion_exhausts_the_stack() {
    let (_h, hostile, good, _t) = setup(Limits::default());
    let e = hostile
        .recovery_period_days(&person("recurse"))
        .0
        .unwrap_err();
    // Either the wasm stack bound (512 KiB) or the guest's own shadow stack (1 MiB in
    // linear memory) stops it first; both are traps naming the plugin.
    assert!(matches!(e, PluginError::Trap { .. }), "{e:?}");
    assert!(
        e.to_string().contains("plugin hostile 6.6.6 crashed"),
        "{e}"
    );
    still_healthy(&hostile, &good);
}

#[test]
fn panic_is_a_trap_naming_the_plugin_and_version() {
    let (_h, hostile, good, _t) = setup(Limits::default());
    let (r, stats) = hostile.recovery_period_days(&person("panic"));
    let e = r.unwrap_err();
    assert!(
        matches!(&e, PluginError::Trap { plugin, .. } if plugin.id == "hostile" && plugin.version == "6.6.6"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "plugin hostile 6.6.6 crashed: it panicked or reached unreachable code"
    );
    assert!(
        stats.log.contains("panics on purpose"),
        "the panic message is in the log: {}",
        stats.log
    );
    let port_err: passerelle_core::ports::PortError = e.into();
    assert_eq!(port_err.kind, "trap");
    still_healthy(&hostile, &good);
}

#[test]
fn sleeping_is_refused_without_blocking() {
    let (_h, hostile, good, _t) = setup(Limits::default());
    let started = Instant::now();
    let e = hostile
        .recovery_period_days(&person("sleep"))
        .0
        .unwrap_err();
    assert!(matches!(e, PluginError::Trap { .. }), "{e:?}");
    assert!(e.to_string().contains("may not wait"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(1));
    still_healthy(&hostile, &good);
}

#[test]
fn output_that_breaks_the_contract_is_a_contract_error() {
    let (_h, hostile, good, _t) = setup(Limits::default());
    let e = hostile.questions().0.unwrap_err();
    assert!(matches!(e, PluginError::Contract { .. }), "{e:?}");
    assert!(e.to_string().contains("empty id"), "{e}");
    let e = hostile
        .follow_up_schedule_days(&person("FR"))
        .0
        .unwrap_err();
    assert!(e.to_string().contains("ascending"), "{e}");
    still_healthy(&hostile, &good);
}

#[test]
fn huge_output_is_bounded_and_a_contract_error() {
    let (_h, hostile, good, _t) = setup(Limits::default());
    let started = Instant::now();
    let e = hostile.protective_measures().0.unwrap_err();
    assert!(matches!(e, PluginError::Contract { .. }), "{e:?}");
    assert!(
        e.to_string().contains("over the limit of 1048576 bytes"),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    still_healthy(&hostile, &good);
}

#[test]
fn domain_error_is_the_plugins_own_words() {
    let (_h, hostile, good, _t) = setup(Limits::default());
    let e = hostile.return_requirements(&person("FR")).0.unwrap_err();
    assert_eq!(
        e.to_string(),
        "plugin hostile 6.6.6 refused: this jurisdiction cannot say yet"
    );
    assert_eq!(e.kind(), "domain");
    still_healthy(&hostile, &good);
}

#[test]
fn logs_and_stdout_are_bounded() {
    let (_h, hostile, good, _t) = setup(Limits::default());
    let (r, stats) = hostile.recovery_period_days(&person("log"));
    assert_eq!(r.unwrap(), 7);
    assert!(stats.log.len() <= 1024 + 20, "{}", stats.log.len());
    assert!(stats.log.ends_with("…[truncated]"));
    // Writing beyond the captured stdout capacity traps instead of growing the host.
    let e = hostile
        .recovery_period_days(&person("print"))
        .0
        .unwrap_err();
    assert!(matches!(e, PluginError::Trap { .. }), "{e:?}");
    still_healthy(&hostile, &good);
}

#[test]
fn oversized_input_is_refused_before_the_call() {
    let limits = Limits {
        input_bytes: 64,
        ..Limits::default()
    };
    let (_h, hostile, good, _t) = setup(limits);
    let e = hostile
        .recovery_period_days(&person(&"x".repeat(100)))
        .0
        .unwrap_err();
    assert!(e.to_string().contains("over the limit of 64 bytes"), "{e}");
    still_healthy(&hostile, &good);
}

#[test]
fn wrong_api_version_is_refused_at_load_naming_both_versions() {
    let host = host(Limits::default());
    let tmp = tempfile::tempdir().unwrap();
    for (id, api) in [
        ("future", "0.3.0"),
        ("ancient", "0.0.9"),
        ("major", "1.0.0"),
    ] {
        let dir = write_plugin(tmp.path(), id, "1.0.0", api, &fr_wasm(), "FR", None);
        let e = LoadedPlugin::load(&host, &dir).unwrap_err();
        assert!(matches!(e, PluginError::IncompatibleApi { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("plugin API {api},")) && msg.contains(">=0.1.0, <0.3.0"),
            "{msg}"
        );
    }
    let good = LoadedPlugin::load(&host, &fr_dir()).unwrap();
    assert_eq!(good.recovery_period_days(&person("NG")).0.unwrap(), 30);
}

#[test]
fn wrong_digest_is_refused_at_load() {
    let host = host(Limits::default());
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_plugin(
        tmp.path(),
        "tampered",
        "1.0.0",
        "0.2.0",
        &fr_wasm(),
        "FR",
        Some(&"ab".repeat(32)),
    );
    let e = LoadedPlugin::load(&host, &dir).unwrap_err();
    assert!(matches!(e, PluginError::DigestMismatch { .. }), "{e:?}");
    assert!(e.to_string().contains(&"ab".repeat(32)), "{e}");
    let good = LoadedPlugin::load(&host, &fr_dir()).unwrap();
    assert_eq!(good.recovery_period_days(&person("NG")).0.unwrap(), 30);
}

#[test]
fn a_guard_that_panics_fails_closed() {
    use passerelle_core::ports::{Jurisdiction, Transition};
    let (_h, hostile, good, _t) = setup(Limits::default());
    let port = passerelle_plugins::JurisdictionPlugin(hostile.clone());
    let t = Transition {
        from: "solution_planning".into(),
        to: "panic".into(),
        facts: person("FR"),
        flags: vec![],
    };
    let e = port.guard_transition(&t).unwrap_err();
    assert_eq!(e.kind, "trap");
    still_healthy(&hostile, &good);
}

// The optional hooks of API 0.2 are bounded and checked like the required ones.

#[test]
fn the_hostile_plugin_exports_every_optional_hook() {
    let (_h, hostile, _good, _t) = setup(Limits::default());
    assert_eq!(hostile.hooks(), Hook::ALL.to_vec());
}

#[test]
fn a_looping_optional_hook_runs_out_of_fuel() {
    let limits = Limits::default();
    let (_h, hostile, good, _t) = setup(limits);
    let started = Instant::now();
    let (r, stats) = hostile.fund_rules(&funding_ask("state_budget", "other", "protection"));
    let e = r.unwrap_err();
    assert!(
        matches!(e, PluginError::OutOfFuel { fuel, .. } if fuel == limits.fuel),
        "{e:?}"
    );
    assert_eq!(stats.fuel_used, limits.fuel);
    assert!(started.elapsed() < Duration::from_millis(limits.timeout_ms));
    still_healthy(&hostile, &good);
}

#[test]
fn a_looping_optional_hook_with_ample_fuel_times_out() {
    let limits = Limits {
        fuel: u64::MAX / 2,
        timeout_ms: 100,
        ..Limits::default()
    };
    let (_h, hostile, good, _t) = setup(limits);
    let started = Instant::now();
    let e = hostile
        .reintegration_indicators(&person("loop"))
        .0
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            e,
            PluginError::Timeout {
                timeout_ms: 100,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(took < Duration::from_millis(400), "bounded: {took:?}");
    still_healthy(&hostile, &good);
}

#[test]
fn a_huge_indicator_set_is_bounded_and_a_contract_error() {
    // Over the output limit of the call (1 MiB by default)…
    let (_h, hostile, good, _t) = setup(Limits::default());
    let e = hostile
        .reintegration_indicators(&person("huge"))
        .0
        .unwrap_err();
    assert!(matches!(e, PluginError::Contract { .. }), "{e:?}");
    assert!(
        e.to_string().contains("over the limit of 1048576 bytes"),
        "{e}"
    );
    still_healthy(&hostile, &good);
    // …and, where the server allows more output, over the core's bound on an indicator
    // set (256 KiB).
    let (_h, hostile, good, _t) = setup(Limits {
        output_bytes: 8 << 20,
        ..Limits::default()
    });
    let e = hostile
        .reintegration_indicators(&person("huge"))
        .0
        .unwrap_err();
    assert!(matches!(e, PluginError::Contract { .. }), "{e:?}");
    assert!(
        e.to_string().contains("over the limit of 262144 bytes"),
        "{e}"
    );
    still_healthy(&hostile, &good);
}

#[test]
fn an_indicator_set_the_core_cannot_read_is_refused_naming_the_plugin() {
    let (_h, hostile, good, _t) = setup(Limits::default());
    let e = hostile
        .reintegration_indicators(&person("garbage"))
        .0
        .unwrap_err();
    assert!(matches!(e, PluginError::Contract { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with("plugin hostile 6.6.6 broke the plugin contract")
            && msg.contains("config/reintegration/rss.toml"),
        "{msg}"
    );
    // Any other person: the hook answers none, and that is passed on.
    assert_eq!(
        hostile.reintegration_indicators(&person("FR")).0.unwrap(),
        None
    );
    still_healthy(&hostile, &good);
}

#[test]
fn a_fund_rule_that_panics_or_refuses_without_reasons_fails_closed() {
    use passerelle_core::ports::Jurisdiction;
    let (_h, hostile, good, _t) = setup(Limits::default());
    let port = passerelle_plugins::JurisdictionPlugin(hostile.clone());
    let e = port
        .fund_rules(&funding_ask("state_budget", "legal", "protection"))
        .unwrap_err();
    assert_eq!(e.kind, "trap");
    assert!(e.message.contains("plugin hostile 6.6.6 crashed"), "{e}");
    let e = port
        .fund_rules(&funding_ask("state_budget", "medical", "protection"))
        .unwrap_err();
    assert_eq!(e.kind, "contract");
    assert!(e.message.contains("non-empty reasons"), "{e}");
    assert_eq!(
        port.fund_rules(&funding_ask("state_budget", "shelter", "protection"))
            .unwrap(),
        passerelle_core::ports::Verdict::Allow
    );
    still_healthy(&hostile, &good);
}

#[test]
fn measure_deciders_that_name_a_measure_twice_are_a_contract_error() {
    let (_h, hostile, good, _t) = setup(Limits::default());
    let e = hostile.measure_deciders().0.unwrap_err();
    assert!(matches!(e, PluginError::Contract { .. }), "{e:?}");
    assert!(e.to_string().contains("the same measure twice"), "{e}");
    still_healthy(&hostile, &good);
}

#[test]
fn an_optional_hook_gets_the_same_input_bound() {
    let (_h, hostile, good, _t) = setup(Limits {
        input_bytes: 64,
        ..Limits::default()
    });
    let (r, stats) = hostile.reintegration_indicators(&person(&"x".repeat(100)));
    let e = r.unwrap_err();
    assert!(e.to_string().contains("over the limit of 64 bytes"), "{e}");
    assert_eq!(stats.fuel_used, 0, "refused before the call");
    still_healthy(&hostile, &good);
}
