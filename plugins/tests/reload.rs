//! Hot reload: a new version in the plugin directory takes effect after `reload()`, and
//! a call in flight finishes on the old version.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use passerelle_plugins::Limits;
use passerelle_plugins::registry::{Registry, RegistryConfig};
use std::time::{Duration, Instant};

#[test]
fn new_version_takes_effect_on_reload_and_calls_in_flight_finish_on_the_old_one() {
    let limits = Limits {
        fuel: 100_000_000_000,
        timeout_ms: 20_000,
        ..Limits::default()
    };
    let host = host(limits);
    let tmp = tempfile::tempdir().unwrap();
    // Version 1: the test guest, which answers 7 after a slow (bounded) computation.
    write_plugin(
        tmp.path(),
        "zz-rules",
        "1.0.0",
        "0.2.0",
        &hostile_wasm(),
        "ZZ",
        None,
    );
    let registry = Registry::load(
        host,
        RegistryConfig {
            dir: tmp.path().to_owned(),
            ..RegistryConfig::default()
        },
    )
    .unwrap();
    let v1 = registry.jurisdiction_for("ZZ");
    assert_eq!(v1.describe(), "plugin zz-rules 1.0.0");

    let in_flight = std::thread::spawn(move || {
        let started = Instant::now();
        let r = v1.recovery_period_days(&person("spin:200000000"));
        (r, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        !in_flight.is_finished(),
        "the slow call must still be running"
    );

    // Version 2 replaces it in the directory (the French rules under the same id).
    write_plugin(
        tmp.path(),
        "zz-rules",
        "2.0.0",
        "0.2.0",
        &fr_wasm(),
        "ZZ",
        None,
    );
    registry.reload().unwrap();
    let v2 = registry.jurisdiction_for("ZZ");
    assert_eq!(v2.describe(), "plugin zz-rules 2.0.0");
    assert_eq!(v2.recovery_period_days(&person("NG")).unwrap(), 30);
    assert!(
        !in_flight.is_finished(),
        "reloaded while the old call was in flight"
    );

    let (old, took) = in_flight.join().unwrap();
    assert_eq!(old.unwrap(), 7, "the call in flight finished on version 1");
    assert!(took > Duration::from_millis(100), "{took:?}");

    let statuses = registry.statuses();
    assert_eq!(statuses.len(), 1);
    assert_eq!(
        (statuses[0].version.as_str(), statuses[0].state.as_str()),
        ("2.0.0", "loaded")
    );
    assert_eq!(statuses[0].calls, 1);
}
