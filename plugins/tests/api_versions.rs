//! Plugin API 0.1 and 0.2 side by side: a component built for 0.1 (the committed example
//! components from before 0.2, kept as fixtures) still loads and works, and its new hooks
//! answer the defaults; a 0.2 component without an optional hook answers the default; the
//! French example's optional hooks answer what they should; a manifest and a component
//! that disagree on the version are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use passerelle_core::follow_up::parse_config;
use passerelle_core::identification::DecidingBody;
use passerelle_core::ports::{
    Jurisdiction, Measure, Partner, PartnerOutcome, PartnerRequest, PersonFacts, Verdict,
};
use passerelle_plugins::registry::{Registry, RegistryConfig};
use passerelle_plugins::{
    Api, Hook, JurisdictionPlugin, Limits, LoadedPlugin, PartnerPlugin, PluginError, runner,
};
use std::sync::atomic::Ordering;

fn load(dir: &std::path::Path) -> std::sync::Arc<LoadedPlugin> {
    LoadedPlugin::load(&host(Limits::default()), dir).unwrap()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(plugins_dir().join("tests/fixtures").join(name)).unwrap()
}

fn adult() -> PersonFacts {
    PersonFacts {
        child: false,
        stateless: false,
        nationality: Some("NG".into()),
    }
}

fn child() -> PersonFacts {
    PersonFacts {
        child: true,
        ..adult()
    }
}

fn ids_and_deciders(ms: &[Measure]) -> Vec<(&str, &[DecidingBody])> {
    ms.iter().map(|m| (m.id.as_str(), m.deciders())).collect()
}

#[test]
fn a_0_1_jurisdiction_still_loads_works_and_answers_the_defaults_for_the_new_hooks() {
    let p = load(&fr01_dir());
    assert_eq!(p.api(), Api::V0_1);
    assert_eq!(p.manifest().api_version, "0.1.0");
    assert!(p.hooks().is_empty());
    let fr = JurisdictionPlugin(p.clone());
    assert_eq!(fr.describe(), "plugin fr-jurisdiction 1.0.0");

    // The required hooks work as before.
    assert!(
        fr.questions()
            .unwrap()
            .iter()
            .any(|q| q.id == "t-debt-organiser")
    );
    assert_eq!(fr.recovery_period_days(&child()).unwrap(), 45);
    let calls = p.stats().calls.load(Ordering::Relaxed);

    // The new hooks: the defaults, without calling the plugin.
    let travel = funding_ask("state_budget", "travel", "solution_planning");
    assert_eq!(fr.fund_rules(&travel).unwrap(), Verdict::Allow);
    assert_eq!(fr.reintegration_indicators(&child()).unwrap(), None);
    assert!(fr.measure_deciders().unwrap().is_empty());
    let (r, stats) = p.fund_rules(&travel);
    assert_eq!(r.unwrap(), Verdict::Allow);
    assert_eq!(stats.fuel_used, 0);
    assert_eq!(
        p.stats().calls.load(Ordering::Relaxed),
        calls,
        "no call was made"
    );

    // Its catalogue cannot say who decides: every measure has the default deciders.
    let measures = fr.protective_measures().unwrap();
    assert!(measures.iter().any(|m| m.id == "anonymous_testimony"));
    assert!(
        measures
            .iter()
            .all(|m| m.decided_by.is_empty() && m.deciders() == Measure::DEFAULT_DECIDERS)
    );
}

#[test]
fn a_0_1_partner_still_loads_and_formats_as_before() {
    let p = load(&iom01_dir());
    assert_eq!(p.api(), Api::V0_1);
    let iom = PartnerPlugin(p);
    let req: PartnerRequest = serde_json::from_str(&fixture("iom-return-request.json")).unwrap();
    let PartnerOutcome::Formatted(json) = iom.format_request(&req).unwrap() else {
        panic!("the complete request must be formatted");
    };
    let got: serde_json::Value = serde_json::from_str(&json).unwrap();
    let want: serde_json::Value =
        serde_json::from_str(&fixture("iom-return-request.expected.json")).unwrap();
    assert_eq!(got, want);
    assert_eq!(iom.reintegration_indicators(&adult()).unwrap(), None);
}

#[test]
fn a_0_2_plugin_without_an_optional_hook_answers_the_default_without_a_call() {
    let p = load(&iom_dir());
    assert_eq!(
        (p.api(), p.manifest().api_version.as_str()),
        (Api::V0_2, "0.2.0")
    );
    assert!(p.hooks().is_empty(), "{:?}", p.hooks());
    let (r, stats) = p.reintegration_indicators(&adult());
    assert_eq!(r.unwrap(), None);
    assert_eq!(
        (stats.fuel_used, p.stats().calls.load(Ordering::Relaxed)),
        (0, 0)
    );
    // Its required hooks work, as in 0.1.
    let req: PartnerRequest = serde_json::from_str(&fixture("iom-return-request.json")).unwrap();
    let iom = PartnerPlugin(p.clone());
    assert!(matches!(
        iom.format_request(&req).unwrap(),
        PartnerOutcome::Formatted(_)
    ));
    assert_eq!(iom.reintegration_indicators(&child()).unwrap(), None);
    // A jurisdiction hook on a partner plugin is a contract error, not a default.
    let e = p
        .fund_rules(&funding_ask("state_budget", "travel", "protection"))
        .0
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("it is a partner plugin, not a jurisdiction plugin"),
        "{e}"
    );
}

#[test]
fn the_french_example_exports_the_three_hooks_and_its_fund_rule_refuses_early_travel() {
    let p = load(&fr_dir());
    assert_eq!(p.api(), Api::V0_2);
    assert_eq!(p.hooks(), Hook::ALL.to_vec());
    let fr = JurisdictionPlugin(p);
    assert_eq!(fr.describe(), "plugin fr-jurisdiction 1.1.0");

    let Verdict::Refuse(reasons) = fr
        .fund_rules(&funding_ask("state_budget", "travel", "solution_planning"))
        .unwrap()
    else {
        panic!("travel before the return is under way is refused");
    };
    assert_eq!(reasons.len(), 1);
    assert!(
        reasons[0].contains("only once the return is under way")
            && reasons[0].contains("demonstration"),
        "{reasons:?}"
    );
    for (source, category, stage) in [
        ("state_budget", "travel", "return_in_progress"),
        ("state_budget", "shelter", "protection"),
        ("confiscated_assets", "travel", "solution_planning"),
    ] {
        assert_eq!(
            fr.fund_rules(&funding_ask(source, category, stage))
                .unwrap(),
            Verdict::Allow,
            "{source} {category} {stage}"
        );
    }
}

#[test]
fn the_french_example_says_who_decides_and_the_catalogue_carries_it() {
    let fr = JurisdictionPlugin(load(&fr_dir()));
    assert_eq!(
        fr.measure_deciders().unwrap(),
        vec![
            ("anonymous_testimony".to_owned(), vec![DecidingBody::Court]),
            ("in_camera".to_owned(), vec![DecidingBody::Court]),
        ]
    );
    let measures = fr.protective_measures().unwrap();
    let got = ids_and_deciders(&measures);
    assert!(
        got.contains(&("anonymous_testimony", &[DecidingBody::Court][..])),
        "{got:?}"
    );
    assert!(got.contains(&("in_camera", &[DecidingBody::Court][..])));
    // A measure it does not list keeps the defaults.
    assert!(
        got.contains(&("identity_protection", Measure::DEFAULT_DECIDERS)),
        "{got:?}"
    );
}

#[test]
fn the_french_example_gives_a_child_a_demonstration_indicator_set_the_core_reads() {
    let fr = JurisdictionPlugin(load(&fr_dir()));
    assert_eq!(fr.reintegration_indicators(&adult()).unwrap(), None);
    let text = fr.reintegration_indicators(&child()).unwrap().unwrap();
    let config = parse_config(&text).unwrap();
    assert_eq!(config.indicators.id, "fr-demo-child");
    assert!(config.indicators.source.contains("DEMONSTRATION"));
    let ids: Vec<&str> = config
        .indicators
        .indicators
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "child_household_needs",
            "child_school",
            "child_safe_at_home"
        ]
    );
}

#[test]
fn a_funding_ask_outside_the_core_vocabulary_is_refused_before_the_call() {
    let p = load(&fr_dir());
    for (ask, field) in [
        (
            funding_ask("lottery", "travel", "protection"),
            "source_kind",
        ),
        (
            funding_ask("state_budget", "holidays", "protection"),
            "category",
        ),
        (funding_ask("state_budget", "travel", "somewhere"), "stage"),
        (
            passerelle_core::ports::FundingAsk {
                currency: "euro".into(),
                ..funding_ask("state_budget", "travel", "protection")
            },
            "currency",
        ),
        (
            passerelle_core::ports::FundingAsk {
                trafficking_status: Some("victim".into()),
                ..funding_ask("state_budget", "travel", "protection")
            },
            "trafficking_status",
        ),
    ] {
        let (r, stats) = p.fund_rules(&ask);
        let e = r.unwrap_err();
        assert!(matches!(e, PluginError::Input { .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("invalid input for hook fund-rules: ")
                && e.to_string().contains(field),
            "{e}"
        );
        assert_eq!(stats.fuel_used, 0);
    }
}

#[test]
fn a_manifest_and_a_component_that_disagree_on_the_version_are_refused() {
    let host = host(Limits::default());
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        ("new-says-old", "0.1.0", fr_wasm(), "0.2.0"),
        ("old-says-new", "0.2.0", fr01_wasm(), "0.1.0"),
        ("patch", "0.2.1", fr_wasm(), "0.2.0"),
    ];
    for (id, manifest, wasm, component) in cases {
        let dir = write_plugin(tmp.path(), id, "1.0.0", manifest, &wasm, "FR", None);
        let e = LoadedPlugin::load(&host, &dir).unwrap_err();
        assert!(matches!(e, PluginError::Contract { .. }), "{id}: {e:?}");
        assert!(
            e.to_string().contains(&format!(
                "the component says API {component}, but plugin.toml says {manifest}"
            )),
            "{id}: {e}"
        );
    }
}

#[test]
fn the_registry_serves_a_0_1_jurisdiction_beside_a_0_2_partner() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, src) in [("fr", fr01_dir()), ("iom", iom_dir())] {
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
    let fr = registry.jurisdiction_for("FR");
    assert_eq!(fr.recovery_period_days(&child()).unwrap(), 45);
    assert_eq!(
        fr.fund_rules(&funding_ask("state_budget", "travel", "protection"))
            .unwrap(),
        Verdict::Allow
    );
    let iom = registry.partner_for("iom-style-return").unwrap();
    assert_eq!(iom.reintegration_indicators(&adult()).unwrap(), None);
    let s: Vec<(String, String, Vec<String>)> = registry
        .statuses()
        .into_iter()
        .map(|s| (s.id, s.api_version, s.hooks))
        .collect();
    assert_eq!(
        s,
        vec![
            ("fr-jurisdiction".into(), "0.1.0".into(), vec![]),
            ("iom-partner".into(), "0.2.0".into(), vec![]),
        ]
    );
}

#[test]
fn the_runner_runs_the_new_hooks_and_says_when_the_answer_is_the_default() {
    let h = host(Limits::default());
    let ask = serde_json::to_string(&funding_ask("state_budget", "travel", "screening")).unwrap();
    let r = runner::run_on(&h, &fr_dir(), "fund-rules", &ask).unwrap();
    assert!(r.output_json.contains("Refuse"), "{}", r.output_json);
    assert!(r.fuel_used > 0);
    assert_eq!(r.note, None);
    let r = runner::run_on(&h, &fr01_dir(), "fund-rules", &ask).unwrap();
    assert_eq!(r.output_json, "\"Allow\"");
    assert_eq!(r.fuel_used, 0);
    let note = r.note.unwrap();
    assert!(
        note.contains(
            "plugin fr-jurisdiction 1.0.0 (API 0.1.0) does not export the optional hook fund-rules"
        ),
        "{note}"
    );

    let r = runner::run_on(&h, &fr_dir(), "measure-deciders", "").unwrap();
    let v: serde_json::Value = serde_json::from_str(&r.output_json).unwrap();
    assert_eq!(v[0], serde_json::json!(["anonymous_testimony", ["court"]]));
    let r = runner::run_on(
        &h,
        &fr_dir(),
        "reintegration-indicators",
        r#"{"child":true,"stateless":false,"nationality":null}"#,
    )
    .unwrap();
    let text: Option<String> = serde_json::from_str(&r.output_json).unwrap();
    assert!(text.unwrap().contains("fr-demo-child"));
    let r = runner::run_on(&h, &iom_dir(), "reintegration-indicators", "{}");
    assert!(
        r.unwrap_err()
            .to_string()
            .starts_with("invalid input for hook reintegration-indicators")
    );

    let c = runner::check_on(&h, &fr_dir());
    assert!(c.ok, "{:?}", c.problems);
    assert_eq!(
        c.hooks,
        ["fund-rules", "reintegration-indicators", "measure-deciders"]
    );
    assert_eq!(c.supported_api, ">=0.1.0, <0.3.0");
    let c = runner::check_on(&h, &fr01_dir());
    assert!(c.ok && c.hooks.is_empty(), "{c:?}");
}
