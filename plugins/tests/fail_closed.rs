//! Fail closed: a configured plugin that fails to load makes every call fail (the guard
//! never allows); a country without a plugin gets the defaults.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use passerelle_core::ports::{Transition, Verdict};
use passerelle_plugins::Limits;
use passerelle_plugins::registry::{Registry, RegistryConfig};
use std::collections::BTreeMap;

fn transition() -> Transition {
    Transition {
        from: "solution_planning".into(),
        to: "return_in_progress".into(),
        facts: person("NG"),
        flags: vec!["consent_present".into()],
    }
}

#[test]
fn a_configured_but_broken_jurisdiction_fails_closed() {
    let tmp = tempfile::tempdir().unwrap();
    write_plugin(
        tmp.path(),
        "fr-broken",
        "1.0.0",
        "0.2.0",
        &fr_wasm(),
        "FR",
        Some(&"1".repeat(64)),
    );
    let registry = Registry::load(
        host(Limits::default()),
        RegistryConfig {
            dir: tmp.path().to_owned(),
            ..RegistryConfig::default()
        },
    )
    .unwrap();
    let fr = registry.jurisdiction_for("FR");
    let e = fr.guard_transition(&transition()).unwrap_err();
    assert_eq!(e.kind, "unavailable");
    assert!(
        e.message
            .contains("plugin fr-broken 1.0.0 is configured but not available"),
        "{}",
        e.message
    );
    assert!(e.message.contains("sha256"), "{}", e.message);
    assert!(fr.questions().is_err() && fr.recovery_period_days(&person("NG")).is_err());
    // The optional hooks fail too: their defaults would be answers nobody gave.
    let e = fr
        .fund_rules(&funding_ask("state_budget", "travel", "return_in_progress"))
        .unwrap_err();
    assert_eq!(e.kind, "unavailable");
    assert_eq!(fr.measure_deciders().unwrap_err().kind, "unavailable");
    assert_eq!(
        fr.reintegration_indicators(&person("NG")).unwrap_err().kind,
        "unavailable"
    );

    let s = registry.statuses();
    assert_eq!(s[0].state, "failed");
    assert!(s[0].error.as_deref().unwrap().contains("sha256"));
}

#[test]
fn without_a_plugin_a_country_gets_the_defaults() {
    let registry = Registry::load(
        host(Limits::default()),
        RegistryConfig {
            dir: fr_dir().parent().unwrap().parent().unwrap().to_owned(),
            ..RegistryConfig::default()
        },
    )
    .unwrap();
    // examples/ holds no plugin.toml at its first level: nothing loaded.
    let de = registry.jurisdiction_for("DE");
    assert_eq!(de.describe(), "built-in defaults");
    assert_eq!(de.guard_transition(&transition()).unwrap(), Verdict::Allow);
    assert!(registry.partner_for("iom-style-return").is_none());

    let empty = Registry::load(host(Limits::default()), RegistryConfig::default()).unwrap();
    assert_eq!(empty.jurisdiction_for("FR").describe(), "built-in defaults");
}

#[test]
fn the_examples_directory_serves_france_and_the_partner() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, src) in [("fr", fr_dir()), ("iom", iom_dir())] {
        let dst = tmp.path().join(name);
        std::fs::create_dir_all(&dst).unwrap();
        for f in std::fs::read_dir(&src).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), dst.join(f.file_name())).unwrap();
        }
    }
    let registry = Registry::load(
        host(Limits::default()),
        RegistryConfig {
            dir: tmp.path().to_owned(),
            ..RegistryConfig::default()
        },
    )
    .unwrap();
    assert_eq!(
        registry.jurisdiction_for("fr").describe(),
        "plugin fr-jurisdiction 1.1.0"
    );
    assert_eq!(
        registry.partner_for("iom-style-return").unwrap().describe(),
        "plugin iom-partner 1.1.0"
    );
    assert_eq!(
        registry.jurisdiction_for("DE").describe(),
        "built-in defaults"
    );
    assert!(registry.statuses().iter().all(|s| s.state == "loaded"));
}

#[test]
fn a_pinned_plugin_that_is_missing_fails_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let registry = Registry::load(
        host(Limits::default()),
        RegistryConfig {
            dir: tmp.path().to_owned(),
            jurisdictions: BTreeMap::from([("FR".to_owned(), "fr-jurisdiction".to_owned())]),
            ..RegistryConfig::default()
        },
    )
    .unwrap();
    let e = registry
        .jurisdiction_for("FR")
        .guard_transition(&transition())
        .unwrap_err();
    assert_eq!(e.kind, "unavailable");
}

#[test]
fn two_plugins_claiming_a_country_fail_closed_until_one_is_pinned() {
    let tmp = tempfile::tempdir().unwrap();
    write_plugin(tmp.path(), "fr-a", "1.0.0", "0.2.0", &fr_wasm(), "FR", None);
    write_plugin(tmp.path(), "fr-b", "1.0.0", "0.2.0", &fr_wasm(), "FR", None);
    let registry = Registry::load(
        host(Limits::default()),
        RegistryConfig {
            dir: tmp.path().to_owned(),
            ..RegistryConfig::default()
        },
    )
    .unwrap();
    let e = registry.jurisdiction_for("FR").questions().unwrap_err();
    assert!(
        e.message.contains("2 plugins claim FR (fr-a, fr-b)"),
        "{}",
        e.message
    );
    registry
        .reconfigure(RegistryConfig {
            dir: tmp.path().to_owned(),
            jurisdictions: BTreeMap::from([("FR".to_owned(), "fr-b".to_owned())]),
            ..RegistryConfig::default()
        })
        .unwrap();
    assert_eq!(
        registry.jurisdiction_for("FR").describe(),
        "plugin fr-b 1.0.0"
    );
}
