//! The WASM plugins end to end: the example French jurisdiction changes what a user sees,
//! the defaults come back without it, a broken configuration fails closed, the French
//! catalogue says who decides a measure (an optional hook of plugin API 0.2), and the
//! IOM-style partner plugin formats or refuses referrals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Days, Utc};
use passerelle_tests::{TestApp, in_days, postgres_admin_url, send_json, spawn_app_with};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/examples")
        .join(name)
        .join("plugin")
}

/// A plugin directory holding copies of both example plugins.
fn plugin_dir() -> tempfile_dir::Dir {
    let d = tempfile_dir::new();
    for (name, src) in [
        ("fr", example("fr-jurisdiction")),
        ("iom", example("iom-partner")),
    ] {
        let dst = d.0.join(name);
        std::fs::create_dir_all(&dst).unwrap();
        for f in std::fs::read_dir(&src).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), dst.join(f.file_name())).unwrap();
        }
    }
    d
}

mod tempfile_dir {
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    pub fn new() -> Dir {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).unwrap();
        let p = std::env::temp_dir().join(format!("passerelle-plugins-{}", hex::encode(b)));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
}

fn recovery_due(v: &Value) -> Value {
    v["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "recovery_reflection_period_end")
        .map(|d| d["due_on"].clone())
        .unwrap_or(Value::Null)
}

async fn app_with_plugins(dir: &Path) -> TestApp {
    let dir = dir.display().to_string();
    spawn_app_with(postgres_admin_url(), move |s| {
        s.plugins.dir = dir;
        s.plugins
            .organisations
            .insert("Retour".into(), "iom-style-return".into());
    })
    .await
}

async fn child_case(app: &TestApp, c: &reqwest::Client, name: &str) -> String {
    let r = c
        .post(app.url("/api/v1/cases"))
        .json(&json!({"person": {"name": name, "birth_date": "2012-04-01", "nationality": "NG", "languages": "English"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["summary"]["reference"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn presume(
    app: &TestApp,
    c: &reqwest::Client,
    reference: &str,
    decided: chrono::NaiveDate,
) -> reqwest::Response {
    c.post(app.url(&format!("/api/v1/cases/{reference}/determinations/trafficking")))
        .json(&json!({"status": "presumed", "deciding_body": "police", "decided_on": decided.to_string(), "basis": "interview"}))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_french_jurisdiction_changes_what_users_see_and_the_defaults_come_back_without_it() {
    let dir = plugin_dir();
    let app = app_with_plugins(&dir.0).await;
    let w = app.world().await;
    app.user(w.authority, "root@state.test", "system_admin")
        .await;
    let api = app.api_login("advocate@ngo.test").await;
    let reference = child_case(&app, &api, "Plugin Child").await;
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}{p}"));

    // A different question set: the French plugin adds a question.
    let r = api
        .post(url("/interviews"))
        .json(&json!({"interviewer_kind": "ngo", "language": "fr"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v: Value = api
        .get(url("/identification"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["jurisdiction"], "plugin fr-jurisdiction 1.1.0");
    let ids: Vec<&str> = v["interviews"][0]["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"t-debt-organiser"), "{ids:?}");
    assert_eq!(v["two_steps"], true);
    // Two steps: no conclusive decision before reasonable grounds.
    let r = api
        .post(url("/determinations/trafficking"))
        .json(&json!({"status": "confirmed", "deciding_body": "national_referral_mechanism", "decided_on": Utc::now().date_naive().to_string(), "basis": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("reasonable-grounds decision first")
    );
    // A different recovery period for a child: 45 days instead of 30.
    let decided = Utc::now()
        .date_naive()
        .checked_sub_days(Days::new(1))
        .unwrap();
    let r = presume(&app, &api, &reference, decided).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v: Value = api
        .get(url("/identification"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        recovery_due(&v),
        decided.checked_add_days(Days::new(45)).unwrap().to_string()
    );
    // The page shows it too.
    let html = app.html_login("advocate@ngo.test").await;
    let page = html
        .get(app.url(&format!("/cases/{reference}/identification")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // In words: the plugin by its name and version.
    assert!(page.contains("the plugin “fr-jurisdiction” (version 1.1.0)") && page.contains("45"));

    // The administrator sees the plugins and reloads without them: the defaults come back.
    let root = app.html_login("root@state.test").await;
    let page = root
        .get(app.url("/admin/plugins"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("fr-jurisdiction") && page.contains("iom-partner") && page.contains("loaded"),
        "{page}"
    );
    std::fs::remove_dir_all(dir.0.join("fr")).unwrap();
    let csrf = app.csrf(&root).await;
    let r = root
        .post(app.url("/admin/plugins/reload"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let other = child_case(&app, &api, "Default Child").await;
    let v: Value = api
        .get(app.url(&format!("/api/v1/cases/{other}/identification")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["jurisdiction"], "built-in defaults");
    assert_eq!(v["two_steps"], false);
    let r = presume(&app, &api, &other, decided).await;
    assert_eq!(r.status(), 201);
    let v: Value = api
        .get(app.url(&format!("/api/v1/cases/{other}/identification")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        recovery_due(&v),
        decided.checked_add_days(Days::new(30)).unwrap().to_string()
    );
    let r = api
        .post(app.url(&format!("/api/v1/cases/{other}/interviews")))
        .json(&json!({"interviewer_kind": "ngo", "language": "fr"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = api
        .get(app.url(&format!("/api/v1/cases/{other}/identification")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["interviews"][0]["questions"].as_array().unwrap().len(),
        19
    );
    // Only a system administrator reaches the plugin page.
    assert_eq!(
        html.get(app.url("/admin/plugins"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_plugin_that_is_missing_fails_closed_with_a_clear_message() {
    let dir = plugin_dir();
    let d = dir.0.display().to_string();
    let app = spawn_app_with(postgres_admin_url(), move |s| {
        s.plugins.dir = d;
        s.plugins
            .jurisdictions
            .insert("FR".into(), "no-such-plugin".into());
    })
    .await;
    app.world().await;
    let api = app.api_login("advocate@ngo.test").await;
    let reference = child_case(&app, &api, "Closed Child").await;
    let r = presume(&app, &api, &reference, Utc::now().date_naive()).await;
    assert_eq!(r.status(), 503);
    let msg = r.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(msg.contains("no-such-plugin"), "{msg}");
    // Nothing was recorded: no silent fallback to the defaults.
    let v = app
        .services
        .get_case(
            &app.services
                .user_by_email("advocate@ngo.test")
                .await
                .unwrap()
                .unwrap(),
            &reference,
            "t",
        )
        .await
        .unwrap();
    assert_eq!(v.summary.version, 1);
    assert_eq!(
        api.get(app.url("/api/v1/deadlines"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // The server stays healthy.
    assert_eq!(
        api.get(app.url("/health")).send().await.unwrap().status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partner_plugin_formats_referrals_and_refuses_incomplete_ones() {
    let dir = plugin_dir();
    let app = app_with_plugins(&dir.0).await;
    let w = app.world().await;
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Partner Person").await;
    let consent = |r: String| {
        let api = api.clone();
        let url = app.url(&format!("/api/v1/cases/{r}/consents"));
        async move {
            api.post(url)
                .json(&json!({"purpose": "return_assistance", "given_by": "person", "language": "Edo", "form_version": "v2"}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let c = consent(reference.clone()).await;
    let r = api
        .post(app.url(&format!("/api/v1/cases/{reference}/referrals")))
        .json(&json!({"to_org_id": w.returns, "service": "return_assistance", "sections": ["person"], "consent_id": c}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let out: Value = api
        .get(app.url("/api/v1/referrals?direction=outgoing"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let payload: Value =
        serde_json::from_str(out["items"][0]["partner_payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["schema"], "iom-avrr-referral/1");
    assert_eq!(payload["case_ref"], reference.as_str());
    assert_eq!(payload["service"], "return_assistance");
    assert_eq!(payload["beneficiary"]["name"], "Partner Person");
    assert_eq!(payload["consent"]["language"], "Edo");

    // Without nationality and languages, the partner refuses, in its own words.
    let r = api
        .post(app.url("/api/v1/cases"))
        .json(&json!({"person": {"name": "Incomplete Person"}}))
        .send()
        .await
        .unwrap();
    let incomplete = r.json::<Value>().await.unwrap()["summary"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = consent(incomplete.clone()).await;
    let r = api
        .post(app.url(&format!("/api/v1/cases/{incomplete}/referrals")))
        .json(&json!({"to_org_id": w.returns, "service": "return_assistance", "sections": ["person"], "consent_id": c}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let msg = r.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        msg.contains("The nationality is missing") && msg.contains("languages"),
        "{msg}"
    );
    // The page shows the plugin's reasons to the user.
    let html = app.html_login("advocate@ngo.test").await;
    let csrf = app.csrf(&html).await;
    let to = w.returns.to_string();
    let cs = c.to_string();
    let r = html
        .post(app.url(&format!("/cases/{incomplete}/referrals")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("to_org_id", to.as_str()),
            ("service", "return_assistance"),
            ("sections", "person"),
            ("consent_id", cs.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("The nationality is missing")
    );
    // Nothing half-written: no referral was recorded for the refused case.
    let out: Value = api
        .get(app.url("/api/v1/referrals?direction=outgoing"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(out["items"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_french_catalogue_says_who_decides_a_measure() {
    let dir = plugin_dir();
    let app = app_with_plugins(&dir.0).await;
    app.world().await;
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Temoin Anonyme").await;
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}{p}"));
    let (st, v) = send_json(
        &api,
        "POST",
        url("/proceedings"),
        json!({"court": "Tribunal judiciaire de Lyon", "jurisdiction": "Lyon", "case_number": "TJ-24/0917",
               "charges": ["trafficking"], "person_role": "victim_witness"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let pid = v["id"].as_str().unwrap().to_owned();
    let (st, v) = send_json(
        &api,
        "POST",
        url(&format!("/proceedings/{pid}/hearings")),
        json!({"kind": "trial_session", "held_on": in_days(60).to_string(), "testimony_required": true}),
    )
    .await;
    assert_eq!(st, 201, "{v}");

    // The plugin's `measure-deciders` hook is in the catalogue: anonymous testimony is
    // decided by a court (CPP art. 706-58); a measure it does not list keeps the default.
    let v: Value = api
        .get(url("/proceedings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let decided_by = |id: &str| {
        v["catalogue"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .map(|m| m["decided_by"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(decided_by("anonymous_testimony"), json!(["court"]), "{v}");
    assert_eq!(decided_by("identity_protection"), json!([]), "{v}");

    let (st, v) = send_json(
        &api,
        "POST",
        url(&format!("/proceedings/{pid}/measures")),
        json!({"measure": "anonymous_testimony"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let mid = v["id"].as_str().unwrap().to_owned();
    let decision = |authority: &str| json!({"decision": "grant", "authority": authority, "decision_reference": "TJ Lyon, ordonnance JLD 26/3"});
    let (st, v) = send_json(
        &api,
        "POST",
        url(&format!("/measures/{mid}/decision")),
        decision("prosecution"),
    )
    .await;
    assert_eq!(st, 422, "{v}");
    let msg = v["message"].as_str().unwrap_or_default();
    assert!(msg.contains("decided by: court"), "{msg}");
    let (st, v) = send_json(
        &api,
        "POST",
        url(&format!("/measures/{mid}/decision")),
        decision("court"),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], "granted", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_french_funding_rule_refuses_travel_before_the_return_is_under_way() {
    let dir = plugin_dir();
    let app = app_with_plugins(&dir.0).await;
    let w = app.world().await;
    app.user(w.ngo, "money@ngo.test", "fund_manager").await;
    let manager = app.api_login("money@ngo.test").await;
    let (st, v) = send_json(
        &manager,
        "POST",
        app.url("/api/v1/funds"),
        json!({"name": "Fonds État (test)", "source": "state_budget", "currency": "EUR",
            "valid_from": in_days(0).to_string(), "valid_until": in_days(300).to_string(),
            "categories": ["travel", "legal"]}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let fund = v["id"].as_str().unwrap().to_owned();
    let (st, v) = send_json(
        &manager,
        "POST",
        app.url(&format!("/api/v1/funds/{fund}/allocations")),
        json!({"amount_minor": 100_000, "currency": "EUR", "origin": "Programme 137"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Voyage Trop Tot").await;
    // The core's rules would pay travel from this fund; the French plugin's `fund-rules`
    // hook refuses it while the return is not under way, and says why.
    let (st, offers) = passerelle_tests::get_json(
        &api,
        app.url(&format!(
            "/api/v1/cases/{reference}/funding/offers?category=travel"
        )),
    )
    .await;
    assert_eq!(st, 200, "{offers}");
    assert_eq!(offers["items"][0]["eligible"], false, "{offers}");
    assert_eq!(offers["items"][0]["refusals"][0]["rule"], "jurisdiction");
    let (st, v) = send_json(&api, "POST", app.url(&format!("/api/v1/funds/{fund}/commitments")),
        json!({"reference": reference, "category": "travel", "purpose": "other", "description": "ticket",
            "amount_minor": 30_000, "currency": "EUR"})).await;
    assert_eq!(st, 422, "{v}");
    let message = v["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("[jurisdiction]") && message.contains("return is under way"),
        "{v}"
    );
    // Another category from the same fund: the hook allows it.
    let (st, v) = send_json(&api, "POST", app.url(&format!("/api/v1/funds/{fund}/commitments")),
        json!({"reference": reference, "category": "legal", "purpose": "other", "description": "lawyer",
            "amount_minor": 30_000, "currency": "EUR"})).await;
    assert_eq!(st, 201, "{v}");
    let (_, f) =
        passerelle_tests::get_json(&manager, app.url(&format!("/api/v1/funds/{fund}"))).await;
    assert_eq!(
        f["balances"]["available"], 70_000,
        "only the allowed commitment: {f}"
    );
}
