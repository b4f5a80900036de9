//! The example plugins: the French jurisdiction differs visibly from the defaults; the
//! IOM-style partner formats a request exactly as the committed fixture and refuses an
//! incomplete one with its reasons.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use passerelle_core::identification::{DecidingBody, TraffickingStatus};
use passerelle_core::ports::{
    DefaultJurisdiction, Jurisdiction, Partner, PartnerOutcome, PartnerRequest, PersonFacts,
    Transition, Verdict,
};
use passerelle_plugins::{JurisdictionPlugin, Limits, LoadedPlugin, PartnerPlugin, runner};

fn fr() -> JurisdictionPlugin {
    JurisdictionPlugin(LoadedPlugin::load(&host(Limits::default()), &fr_dir()).unwrap())
}

fn iom() -> PartnerPlugin {
    PartnerPlugin(LoadedPlugin::load(&host(Limits::default()), &iom_dir()).unwrap())
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(plugins_dir().join("tests/fixtures").join(name)).unwrap()
}

#[test]
fn french_jurisdiction_adds_a_question_and_differs_from_the_defaults() {
    let fr = fr();
    assert_eq!(fr.describe(), "plugin fr-jurisdiction 1.1.0");
    let q = fr.questions().unwrap();
    let defaults = DefaultJurisdiction.questions().unwrap();
    assert_eq!(q.len(), defaults.len() + 1);
    let extra = q.iter().find(|q| q.id == "t-debt-organiser").unwrap();
    assert!(
        extra
            .text_in("fr")
            .starts_with("Devez-vous encore de l'argent")
    );
    assert!(!defaults.iter().any(|d| d.id == "t-debt-organiser"));

    let child = PersonFacts {
        child: true,
        stateless: false,
        nationality: Some("NG".into()),
    };
    let adult = PersonFacts {
        child: false,
        ..child.clone()
    };
    assert_eq!(fr.recovery_period_days(&child).unwrap(), 45);
    assert_eq!(fr.recovery_period_days(&adult).unwrap(), 30);
    assert_eq!(
        DefaultJurisdiction.recovery_period_days(&child).unwrap(),
        30
    );

    let rules = fr.decision_rules().unwrap();
    assert!(rules.two_steps);
    assert_eq!(
        rules.bodies_for(TraffickingStatus::Presumed),
        vec![DecidingBody::Police]
    );
    assert!(
        rules
            .bodies_for(TraffickingStatus::Confirmed)
            .contains(&DecidingBody::NationalReferralMechanism)
    );
    assert_eq!(rules.reasonable_grounds_due_days, Some(5));

    let ids: Vec<String> = fr
        .protective_measures()
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert!(ids.contains(&"anonymous_testimony".to_owned()));
    assert!(!ids.contains(&"live_video_link".to_owned()));
    let default_ids: Vec<String> = DefaultJurisdiction
        .protective_measures()
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert!(default_ids.contains(&"live_video_link".to_owned()));

    let reqs: Vec<String> = fr
        .return_requirements(&child)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert!(
        reqs.contains(&"ad_hoc_administrator".to_owned())
            && reqs.contains(&"ofii_return_assistance".to_owned())
    );
    assert_eq!(
        fr.follow_up_schedule_days(&adult).unwrap(),
        vec![14, 30, 90, 180, 365, 730]
    );

    let mut t = Transition {
        from: "solution_planning".into(),
        to: "return_in_progress".into(),
        facts: adult.clone(),
        flags: vec![],
    };
    match fr.guard_transition(&t).unwrap() {
        Verdict::Refuse(r) => assert!(r[0].contains("consent"), "{r:?}"),
        Verdict::Allow => panic!("a return without consent must be refused"),
    }
    t.flags.push("consent_present".into());
    assert_eq!(fr.guard_transition(&t).unwrap(), Verdict::Allow);
}

#[test]
fn partner_formats_a_request_exactly_as_the_fixture() {
    let req: PartnerRequest = serde_json::from_str(&fixture("iom-return-request.json")).unwrap();
    let PartnerOutcome::Formatted(json) = iom().format_request(&req).unwrap() else {
        panic!("the complete request must be formatted");
    };
    let got: serde_json::Value = serde_json::from_str(&json).unwrap();
    let want: serde_json::Value =
        serde_json::from_str(&fixture("iom-return-request.expected.json")).unwrap();
    assert_eq!(got, want);
}

#[test]
fn partner_refuses_an_incomplete_request_with_its_reasons() {
    let req: PartnerRequest =
        serde_json::from_str(&fixture("iom-incomplete-referral.json")).unwrap();
    let PartnerOutcome::Refused(reasons) = iom().format_request(&req).unwrap() else {
        panic!("an incomplete request must be refused");
    };
    assert_eq!(
        reasons,
        vec![
            "The language in which consent was given is missing.",
            "The nationality is missing (and the person is not recorded as stateless).",
            "The languages the person speaks are missing: counselling needs an interpreter.",
            "A child's request needs the \"person\" section, so that the guardian can be identified.",
        ]
    );
}

#[test]
fn partner_reads_a_status_update_back() {
    let iom = iom();
    let s = iom
        .read_status(r#"{"schema":"iom-avrr-status/1","case_ref":"PAS-2025-0042","status":"ACCEPTED","remarks":"Flight booked"}"#)
        .unwrap();
    assert_eq!(
        (s.reference.as_str(), s.status.as_str(), s.note.as_deref()),
        ("PAS-2025-0042", "accepted", Some("Flight booked"))
    );
    let e = iom.read_status(r#"{"schema":"other"}"#).unwrap_err();
    assert_eq!(e.kind, "domain");
    assert!(e.message.contains("iom-avrr-status/1"), "{}", e.message);
}

#[test]
fn runner_runs_a_hook_and_checks_a_directory() {
    let h = host(Limits::default());
    let r = runner::run_on(
        &h,
        &fr_dir(),
        "recovery-period",
        r#"{"child":true,"stateless":false,"nationality":null}"#,
    )
    .unwrap();
    assert_eq!(r.output_json, "45");
    assert!(r.fuel_used > 0);
    let r = runner::run_on(
        &h,
        &iom_dir(),
        "format-request",
        &fixture("iom-return-request.json"),
    )
    .unwrap();
    assert!(r.output_json.contains("iom-avrr-referral/1"));
    let e = runner::run_on(&h, &fr_dir(), "no-such-hook", "{}").unwrap_err();
    assert!(e.to_string().contains("guard-transition"), "{e}");
    let e = runner::run_on(&h, &fr_dir(), "guard-transition", "{}").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("invalid input for hook guard-transition"),
        "{e}"
    );

    let c = runner::check_on(&h, &fr_dir());
    assert!(c.ok, "{:?}", c.problems);
    assert_eq!(
        c.sha256.as_deref(),
        Some(c.manifest.as_ref().unwrap().sha256.as_str())
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_plugin(
        tmp.path(),
        "bad",
        "1.0.0",
        "0.2.0",
        &fr_wasm(),
        "FR",
        Some(&"0".repeat(64)),
    );
    let c = runner::check_on(&h, &dir);
    assert!(!c.ok);
    assert!(c.problems[0].contains("sha256"), "{:?}", c.problems);
}
