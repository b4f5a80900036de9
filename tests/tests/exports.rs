//! Exports (issue 14, points 2 and 3), over HTTP, on SQLite and (with
//! `PASSERELLE_TEST_DATABASE_URL`) PostgreSQL:
//!
//! - the k-anonymised statistics export of a seeded population over organisations that
//!   opted in and one that did not: every combination occurs at least k times, the one
//!   that did not opt in (and, for a state authority, another country's) is not counted,
//!   nothing names a case, a person or a day; k below 5 is refused; a caseworker and an
//!   ordinary administrator are refused; a statistician sees no case;
//! - the HTCDS export of the demo's cases: HTCDS names and values in JSON and CSV,
//!   refused without re-authentication, given after it, in each case's audit trail; a
//!   wrong password refused and counted as a failed sign-in; the pages;
//! - gender and the country of exploitation: recorded, validated, encrypted at rest
//!   (gender absent from the database's bytes), imported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle::demo::DEMO_PASSWORD;
use passerelle_core::identification::{Control, Elements, Exploitation};
use passerelle_core::service::cases::PersonInput;
use passerelle_core::store::entity::audit_log;
use passerelle_tests::{
    PASSWORD, TestApp, client, contains, get_json, hidden_csrf, html_login_with, send_json,
    spawn_app, spawn_demo_app,
};
use reqwest::Client;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The seven quasi-identifiers of a row, and nothing else.
const ROW_KEYS: [&str; 7] = [
    "age",
    "citizenship",
    "country_of_exploitation",
    "exploitation",
    "gender",
    "means_of_control",
    "registration_year",
];

struct Population {
    /// Opted in (FR), opted in (FR), not opted in (FR), opted in (NG).
    a: i64,
    b: i64,
    d: i64,
    statistician: i64,
    references: Vec<String>,
}

/// Cases of one organisation, created as its advocate creates them (encrypted, audited),
/// with their elements. `nationality` of every person; the rest varies by `i`.
async fn seed_org(
    app: &TestApp,
    advocate: &str,
    n: usize,
    nationalities: &[&str],
    label: &str,
) -> Vec<String> {
    let actor = app.services.user_by_email(advocate).await.unwrap().unwrap();
    let genders = [
        "female", "female", "female", "male", "male", "other", "unknown",
    ];
    let purposes = [
        Exploitation::Servitude,
        Exploitation::SexualExploitation,
        Exploitation::ForcedLabour,
    ];
    let mut refs = Vec::new();
    for i in 0..n {
        // Mostly adults of 20 to 45; one in eight a child of 15 or 16.
        let born = if i % 8 == 0 {
            passerelle_tests::in_days(-(15 * 365 + (i % 300) as i64))
        } else {
            passerelle_tests::in_days(-((20 + (i % 25)) as i64 * 365 + 40))
        };
        let input = PersonInput {
            name: format!("{label} Person {i}"),
            birth_date: Some(born.to_string()),
            nationality: Some(nationalities[i % nationalities.len()].into()),
            gender: Some(genders[i % genders.len()].into()),
            notes: Some(format!("{label} secret note {i}")),
            ..Default::default()
        };
        let c = app
            .services
            .create_case(&actor, &input, None, "test")
            .await
            .unwrap();
        let elements = Elements {
            purposes: [purposes[i % purposes.len()]].into(),
            controls: if i % 3 == 0 {
                [Control::DebtBondage, Control::WithholdsDocuments].into()
            } else {
                [Control::ThreatsToFamily].into()
            },
            country_of_exploitation: Some(if i % 5 == 0 { "IT" } else { "FR" }.into()),
            ..Default::default()
        };
        app.services
            .set_elements(&actor, &c.reference, 1, &elements, None, "test")
            .await
            .unwrap();
        refs.push(c.reference);
    }
    refs
}

async fn population(app: &TestApp) -> Population {
    let a = app.org("Alpha NGO", "victim_advocacy", "FR").await;
    let b = app.org("Beta Shelter", "shelter", "FR").await;
    let c = app.org("Gamma NGO", "victim_advocacy", "FR").await;
    let d = app.org("Delta Service", "origin_service", "NG").await;
    let authority = app.org("Mission", "state_authority", "FR").await;
    let office = app.org("Statistics Office", "state_authority", "NG").await;
    for (org, name) in [(a, "a"), (b, "b"), (c, "c"), (d, "d")] {
        app.user(org, &format!("worker@{name}.test"), "advocate")
            .await;
        app.user(org, &format!("admin@{name}.test"), "org_admin")
            .await;
    }
    app.user(authority, "admin@authority.test", "org_admin")
        .await;
    app.user(authority, "auditor@authority.test", "auditor")
        .await;
    let statistician = app.user(office, "stats@office.test", "statistician").await;
    // Gamma's persons are the only Vietnamese ones (and the only ones from Asia).
    let mut references = seed_org(app, "worker@a.test", 200, &["NG", "RO", "AL"], "Alpha").await;
    references.extend(seed_org(app, "worker@b.test", 150, &["NG", "RO"], "Beta").await);
    references.extend(seed_org(app, "worker@c.test", 60, &["VN"], "Gamma").await);
    references.extend(seed_org(app, "worker@d.test", 40, &["NG"], "Delta").await);
    // Alpha, Beta and Delta opt in, each by its own administrator; Gamma does not.
    for (org, name) in [(a, "a"), (b, "b"), (d, "d")] {
        let admin = app.api_login(&format!("admin@{name}.test")).await;
        let (st, v) = send_json(
            &admin,
            "PATCH",
            app.url(&format!("/api/v1/organisations/{org}")),
            json!({"statistics_opt_in": true}),
        )
        .await;
        assert_eq!(
            (st, v["statistics_opt_in"].as_bool()),
            (200, Some(true)),
            "{v}"
        );
    }
    Population {
        a,
        b,
        d,
        statistician,
        references,
    }
}

/// Every combination of the rows occurs at least k times; the rows hold the seven
/// attributes only, and the report adds up.
fn assert_k_anonymous(v: &Value, k: usize) {
    let rows = v["rows"].as_array().unwrap();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for r in rows {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ROW_KEYS, "{r}");
        *counts.entry(r.to_string()).or_default() += 1;
    }
    for (combination, n) in &counts {
        assert!(*n >= k, "{combination} occurs {n} times, fewer than {k}");
    }
    let report = &v["report"];
    assert_eq!(report["k"], json!(k));
    assert_eq!(report["output_rows"], json!(rows.len()));
    assert_eq!(report["groups"], json!(counts.len()));
    let input = report["input_rows"].as_u64().unwrap();
    let suppressed = report["suppressed_rows"].as_u64().unwrap();
    assert_eq!(input, rows.len() as u64 + suppressed, "{report}");
    assert_eq!(
        suppressed,
        report["suppressed_by"]["small_group"].as_u64().unwrap()
            + report["suppressed_by"]["population_below_k"]
                .as_u64()
                .unwrap()
    );
    if !rows.is_empty() {
        assert!(report["smallest_group"].as_u64().unwrap() >= k as u64);
    }
}

/// A date finer than a year (YYYY-MM-DD, or a time) anywhere in `s`.
fn has_day(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(10).any(|w| {
        w.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statistics_export_is_k_anonymous_over_the_organisations_that_opted_in() {
    let app = spawn_app().await;
    let p = population(&app).await;

    // A state authority: the organisations of its country that opted in (Alpha, Beta).
    let authority = app.api_login("admin@authority.test").await;
    let (st, v) = get_json(&authority, app.url("/api/v1/statistics")).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["k"], json!(11));
    assert_eq!(v["organisations"], json!(2));
    assert_eq!(v["report"]["input_rows"], json!(350), "{}", v["report"]);
    assert_k_anonymous(&v, 11);
    assert!(
        v["report"]["output_rows"].as_u64().unwrap() >= 300,
        "most cases are published: {}",
        v["report"]
    );
    let text = v.to_string();
    for leak in [
        "PSG-",
        "Person",
        "secret note",
        "VN",
        "South-eastern Asia",
        "Asia",
    ] {
        assert!(!text.contains(leak), "{leak} in the export");
    }
    assert!(!has_day(&text), "a date finer than a year: {text}");
    // Its auditor too, with another k.
    let auditor = app.api_login("auditor@authority.test").await;
    let (st, v) = get_json(&auditor, app.url("/api/v1/statistics?k=20")).await;
    assert_eq!(st, 200, "{v}");
    assert_k_anonymous(&v, 20);

    // A statistician: every organisation that opted in (Delta in Nigeria too), never Gamma.
    let stats = app.api_login("stats@office.test").await;
    let (st, v) = get_json(&stats, app.url("/api/v1/statistics?k=11")).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["organisations"], json!(3));
    assert_eq!(v["report"]["input_rows"], json!(390), "{}", v["report"]);
    assert_k_anonymous(&v, 11);
    let text = v.to_string();
    for leak in ["PSG-", "Person", "secret note", "VN", "Asia"] {
        assert!(!text.contains(leak), "{leak} in the export");
    }
    assert!(!has_day(&text));

    // k below 5 is refused, naming k; a k that is not a number is a bad request.
    let (st, v) = get_json(&stats, app.url("/api/v1/statistics?k=4")).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("k")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("at least 5"), "{v}");
    let (st, _) = get_json(&stats, app.url("/api/v1/statistics?k=eleven")).await;
    assert_eq!(st, 400);

    // A caseworker, and an administrator of an organisation that is no state authority.
    for who in ["worker@a.test", "admin@a.test"] {
        let c = app.api_login(who).await;
        let (st, v) = get_json(&c, app.url("/api/v1/statistics")).await;
        assert_eq!(st, 403, "{who}: {v}");
    }
    // The statistician sees no case: another organisation's is not found, the caseload
    // is refused.
    let (st, _) = get_json(
        &stats,
        app.url(&format!("/api/v1/cases/{}", p.references[0])),
    )
    .await;
    assert_eq!(st, 404);
    let (st, _) = get_json(&stats, app.url("/api/v1/cases")).await;
    assert_eq!(st, 403);

    // Each export is in the audit log: an export, no case named.
    let exports = audit_log::Entity::find()
        .filter(audit_log::Column::UserId.eq(p.statistician))
        .filter(audit_log::Column::Action.eq("export"))
        .all(&app.services.db)
        .await
        .unwrap();
    assert_eq!(exports.len(), 1, "{exports:?}");
    assert!(exports[0].case_ref.is_none());
    assert_eq!(exports[0].route, "GET /api/v1/statistics");

    // The opt-in is each organisation's own: another organisation is not found, a
    // caseworker may not.
    let admin_a = app.api_login("admin@a.test").await;
    let (st, _) = send_json(
        &admin_a,
        "PATCH",
        app.url(&format!("/api/v1/organisations/{}", p.b)),
        json!({"statistics_opt_in": false}),
    )
    .await;
    assert_eq!(st, 404);
    let worker = app.api_login("worker@a.test").await;
    let (st, _) = send_json(
        &worker,
        "PATCH",
        app.url(&format!("/api/v1/organisations/{}", p.a)),
        json!({"statistics_opt_in": false}),
    )
    .await;
    assert_eq!(st, 403);
    // Delta's administrator opts out on the page: the statistician no longer counts it.
    let html = html_login_with(&app.address, "admin@d.test", PASSWORD).await;
    let page = html
        .get(app.url("/admin/users"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("statistics-form"), "{page}");
    let r = html
        .post(app.url(&format!("/admin/organisations/{}", p.d)))
        .form(&[("_csrf", hidden_csrf(&page).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (st, v) = get_json(&stats, app.url("/api/v1/statistics")).await;
    assert_eq!((st, &v["report"]["input_rows"]), (200, &json!(350)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statistics_page_shows_the_combinations_and_what_was_withheld_in_words() {
    let app = spawn_app().await;
    population(&app).await;
    let html = html_login_with(&app.address, "stats@office.test", PASSWORD).await;
    // The statistician's start page is the export.
    let r = html.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/statistics");
    let r = html.get(app.url("/statistics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    // Values in words: a band, a region, a gender, a level, what was withheld.
    let text = passerelle_tests::words::visible_text(&page);
    for part in [
        "groups-table",
        "Age at registration",
        "18-29",
        "Europe",
        "Female",
        "broad bands",
        "withheld",
    ] {
        assert!(page.contains(part), "{part} missing: {text}");
    }
    for leak in ["PSG-", "Person", "secret note"] {
        assert!(!page.contains(leak), "{leak} on the page");
    }
    // A k below 5: the page again, 422, the error beside the field, in French.
    let r = html
        .get(app.url("/statistics?k=4"))
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("err-statistics-k"), "{page}");
    let text = passerelle_tests::words::visible_text(&page);
    assert!(
        text.contains("Taille minimale d'un groupe — Au moins 5"),
        "{text}"
    );
    assert!(
        !text.contains("must be"),
        "English on a French page: {text}"
    );
    assert!(!page.contains("groups-table"));
    // A caseworker may not.
    let worker = html_login_with(&app.address, "worker@a.test", PASSWORD).await;
    let r = worker.get(app.url("/statistics")).send().await.unwrap();
    assert_eq!(r.status(), 403);
}

async fn demo_login(app: &TestApp, email: &str) -> Client {
    let c = client();
    let r = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "login {email}");
    c
}

async fn export(c: &Client, app: &TestApp, body: Value) -> (u16, String, String, String) {
    let r = c
        .post(app.url("/api/v1/exports/htcds"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let st = r.status().as_u16();
    let header = |h: &str| {
        r.headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    (st, ct, cd, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_htcds_export_of_the_demo_cases_holds_htcds_names_and_values() {
    let (app, _) = spawn_demo_app().await;
    let olivia = demo_login(&app, "olivia@passage.example").await;

    // Without re-authentication: refused, saying what to do.
    let (st, _, _, body) = export(&olivia, &app, json!({"format": "json"})).await;
    assert_eq!(st, 403, "{body}");
    assert!(body.contains("re-authenticate"), "{body}");
    // A wrong password is refused.
    let (st, v) = send_json(
        &olivia,
        "POST",
        app.url("/api/v1/session/reauth"),
        json!({"password": "not the password"}),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("password")), "{v}");
    let (st, _, _, _) = export(&olivia, &app, json!({})).await;
    assert_eq!(st, 403);
    // The right one opens five minutes.
    let (st, v) = send_json(
        &olivia,
        "POST",
        app.url("/api/v1/session/reauth"),
        json!({"password": DEMO_PASSWORD}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert!(v["reauthenticated_until"].is_string());

    // JSON, every column.
    let (st, ct, cd, body) = export(&olivia, &app, json!({"format": "json"})).await;
    assert_eq!(st, 200, "{body}");
    assert!(ct.starts_with("application/json"), "{ct}");
    assert!(cd.starts_with("attachment"), "{cd}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["standard"], "HTCDS 2.0");
    let columns: Vec<&str> = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for name in [
        "cas_Status",
        "prs_Birthdate",
        "prs_Gender",
        "prs_Nationality",
        "vic_TraffickingStatus",
        "vic_TypeOfExploitation",
        "vic_MethodsOfControl",
    ] {
        assert!(columns.contains(&name), "{name} not in {columns:?}");
    }
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    // Only the organisation's own cases, each a demo person of Passage.
    let identified: Vec<&Value> = cases
        .iter()
        .filter(|c| c["vic_TraffickingStatus"] == "PossibleVictimOfTrafficking")
        .collect();
    assert!(!identified.is_empty());
    let one = identified
        .iter()
        .find(|c| c["vic_MethodsOfControl"] == json!(["DebtBondage", "WithholdsDocuments"]))
        .expect("a demo case with its methods of control");
    let types = one["vic_TypeOfExploitation"].as_array().unwrap();
    assert!(
        types == &[json!("Servitude")] || types == &[json!("SexualExploitation")],
        "{types:?}"
    );
    assert_eq!(
        one["vic_TraffickingStatusDecisionMakingOrganisation"],
        "Police"
    );
    assert_eq!(one["country_of_exploitation"], "FR");
    assert!(
        ["Feminine", "Masculine", "NonSpecifiedUnknown"]
            .contains(&one["prs_Gender"].as_str().unwrap()),
        "{}",
        one["prs_Gender"]
    );
    let reference = one["reference"].as_str().unwrap().to_owned();
    for c in cases {
        let status = c["cas_Status"].as_str().unwrap();
        assert!(
            ["Active", "FollowUp", "Closed", "ClosedReferred"].contains(&status),
            "{status}"
        );
        // HTCDS values, never our snake_case ones.
        for field in ["vic_TypeOfExploitation", "vic_MethodsOfControl"] {
            for x in c[field].as_array().unwrap() {
                assert!(!x.as_str().unwrap().contains('_'), "{field}: {x}");
            }
        }
        if let Some(b) = c["prs_Birthdate"].as_str() {
            assert_eq!(b.len(), 10, "{b}");
        }
    }

    // CSV, a chosen set of columns, in the export's order.
    let (st, ct, cd, csv) = export(
        &olivia,
        &app,
        json!({"format": "csv", "columns": ["vic_MethodsOfControl", "reference", "vic_TraffickingStatus", "prs_Gender", "vic_TypeOfExploitation"]}),
    )
    .await;
    assert_eq!(st, 200, "{csv}");
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert!(cd.contains("htcds-export.csv"), "{cd}");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "reference,prs_Gender,vic_TraffickingStatus,vic_TypeOfExploitation,vic_MethodsOfControl"
        )
    );
    let row = lines
        .find(|l| l.starts_with(&format!("{reference},")))
        .unwrap_or_else(|| panic!("{reference} not in the CSV"));
    assert!(row.contains(",PossibleVictimOfTrafficking,"), "{row}");
    assert!(row.ends_with(",DebtBondage;WithholdsDocuments"), "{row}");
    assert!(!csv.contains("Invented case"), "a column not chosen");

    // Unknown columns are named.
    let (st, _, _, body) = export(
        &olivia,
        &app,
        json!({"columns": ["prs_Gender", "eye_colour"]}),
    )
    .await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((st, v["field"].as_str()), (422, Some("columns")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("eye_colour"), "{v}");
    let (st, _, _, _) = export(&olivia, &app, json!({"format": "xlsx"})).await;
    assert_eq!(st, 422);

    // The case's audit trail shows each export.
    let (st, trail) = get_json(
        &olivia,
        app.url(&format!("/api/v1/cases/{reference}/audit?per_page=200")),
    )
    .await;
    assert_eq!(st, 200, "{trail}");
    let exports: Vec<&Value> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["action"] == "export")
        .collect();
    assert_eq!(exports.len(), 2, "{trail}");
    assert!(
        exports
            .iter()
            .all(|e| e["route"] == "POST /api/v1/exports/htcds")
    );
    assert_eq!(exports[0]["section"], "person");

    // Another role may not, re-authenticated or not.
    let amelie = demo_login(&app, "amelie@passage.example").await;
    let (st, _) = send_json(
        &amelie,
        "POST",
        app.url("/api/v1/session/reauth"),
        json!({"password": DEMO_PASSWORD}),
    )
    .await;
    assert_eq!(st, 200);
    let (st, _, _, _) = export(&amelie, &app, json!({})).await;
    assert_eq!(st, 403);

    // A wrong password counts as a failed sign-in: six lock the account.
    for _ in 0..6 {
        let (st, _) = send_json(
            &olivia,
            "POST",
            app.url("/api/v1/session/reauth"),
            json!({"password": "guess"}),
        )
        .await;
        assert_eq!(st, 422);
    }
    let r = client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "olivia@passage.example", "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the account is locked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_htcds_export_page_asks_for_the_password_then_downloads() {
    let (app, _) = spawn_demo_app().await;
    let c = html_login_with(&app.address, "olivia@passage.example", DEMO_PASSWORD).await;
    let page = c
        .get(app.url("/exports/htcds"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("reauth-form") && page.contains("export-form"),
        "{page}"
    );
    assert!(page.contains("value=\"vic_MethodsOfControl\""));
    let csrf = hidden_csrf(&page);
    let download = |c: &Client| {
        c.post(app.url("/exports/htcds"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("columns", "reference"),
                ("columns", "vic_TraffickingStatus"),
                ("format", "csv"),
            ])
            .send()
    };
    // Not re-authenticated: the page again, 403, saying to give the password.
    let r = download(&c).await.unwrap();
    assert_eq!(r.status(), 403);
    let text = r.text().await.unwrap();
    assert!(text.contains("Give your password again first"), "{text}");
    // A wrong password: beside the field, never sent back.
    let r = c
        .post(app.url("/exports/htcds/reauth"))
        .form(&[("_csrf", csrf.as_str()), ("password", "wrong-password-x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let text = r.text().await.unwrap();
    assert!(text.contains("err-reauth-password") && !text.contains("wrong-password-x"));
    let r = c
        .post(app.url("/exports/htcds/reauth"))
        .form(&[("_csrf", csrf.as_str()), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = download(&c).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let csv = r.text().await.unwrap();
    assert!(
        csv.starts_with("reference,vic_TraffickingStatus\r\n"),
        "{csv}"
    );
    assert!(csv.contains("PossibleVictimOfTrafficking"));
    // Unknown columns: the page again, naming them.
    let r = c
        .post(app.url("/exports/htcds"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("columns", "eye_colour"),
            ("format", "csv"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("eye_colour"));
    // Another role gets no page.
    let amelie = html_login_with(&app.address, "amelie@passage.example", DEMO_PASSWORD).await;
    let r = amelie.get(app.url("/exports/htcds")).send().await.unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gender_and_the_country_of_exploitation_are_recorded_checked_and_encrypted() {
    let app = spawn_app().await;
    let w = app.world().await;
    let adv = app.api_login("advocate@ngo.test").await;
    let (st, v) = send_json(
        &adv,
        "POST",
        app.url("/api/v1/cases"),
        json!({"person": {"name": "Gender Person", "gender": "female", "nationality": "NG"}}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let reference = v["summary"]["reference"].as_str().unwrap().to_owned();
    let (_, v) = get_json(&adv, app.url(&format!("/api/v1/cases/{reference}"))).await;
    assert_eq!(v["person"]["gender"], "female");
    let version = v["summary"]["version"].as_i64().unwrap();
    let (st, v) = send_json(
        &adv,
        "PUT",
        app.url(&format!("/api/v1/cases/{reference}/person")),
        json!({"version": version, "person": {"name": "Gender Person", "gender": "woman"}}),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("gender")), "{v}");
    // The form has the field; the case page says it in words.
    let html = html_login_with(&app.address, "advocate@ngo.test", PASSWORD).await;
    let form = html
        .get(app.url("/cases/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("name=\"gender\""));
    let page = html
        .get(app.url(&format!("/cases/{reference}")))
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Femme"), "{page}");

    // The country of exploitation, in capitals; a name is refused.
    let (st, v) = send_json(
        &adv,
        "PUT",
        app.url(&format!("/api/v1/cases/{reference}/elements")),
        json!({"version": version, "elements": {"purposes": ["forced_labour"], "country_of_exploitation": "it"}}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let (_, v) = get_json(
        &adv,
        app.url(&format!("/api/v1/cases/{reference}/identification")),
    )
    .await;
    assert_eq!(v["elements"]["country_of_exploitation"], "IT", "{v}");
    let (st, v) = send_json(
        &adv,
        "PUT",
        app.url(&format!("/api/v1/cases/{reference}/elements")),
        json!({"version": version + 1, "elements": {"country_of_exploitation": "Italy"}}),
    )
    .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (422, Some("country_of_exploitation")),
        "{v}"
    );

    // Imported with its HTCDS name and value.
    app.user(w.ngo, "admin@ngo.test", "org_admin").await;
    let admin = app.api_login("admin@ngo.test").await;
    let r = admin
        .post(app.url("/api/v1/imports/cases"))
        .header("Content-Type", "text/csv")
        .body("name,birthdate,nationality,stateless,is_minor,prs_Gender\nImported Person,,RO,,,Masculine\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let imported = v["imported"][0]["reference"].as_str().unwrap().to_owned();
    let (_, v) = get_json(&adv, app.url(&format!("/api/v1/cases/{imported}"))).await;
    assert_eq!(v["person"]["gender"], "male", "{v}");

    // Encrypted at rest: the word is nowhere in the database.
    let raw = app.raw_database_bytes().await;
    assert!(!raw.is_empty());
    assert!(!contains(&raw, "female"), "gender stored in clear");
    assert!(!contains(&raw, "Gender Person"), "name stored in clear");
}
