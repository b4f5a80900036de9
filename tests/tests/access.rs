//! The access matrix: every role × (owning organisation, other organisation, shared with
//! consent, consent withdrawn) × every case endpoint (and the proceedings), on the JSON API and the HTML pages.
//! The expectations are written out here, independently of the core's rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_core::service::cases::ConsentInput;
use passerelle_tests::{TestApp, contains, spawn_app};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const ROLES: &[&str] = &[
    "advocate",
    "shelter_coordinator",
    "return_officer",
    "follow_up_officer",
    "org_admin",
    "system_admin",
    "auditor",
    "fund_manager",
    // System-wide, but a user of an organisation like the others: it sees no case of it.
    "statistician",
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Rel {
    Owner,
    Other,
    Shared,
    Withdrawn,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ep {
    View,
    Edit,
    Assign,
    Consent,
    Withdraw,
    Share,
    EndShare,
    Audit,
    Proceedings,
    Funding,
}

const EPS: &[Ep] = &[
    Ep::View,
    Ep::Edit,
    Ep::Assign,
    Ep::Consent,
    Ep::Withdraw,
    Ep::Share,
    Ep::EndShare,
    Ep::Audit,
    Ep::Proceedings,
    Ep::Funding,
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Allowed,
    Forbidden,
    Hidden,
}

fn caseworker(role: &str) -> bool {
    matches!(
        role,
        "advocate" | "shelter_coordinator" | "return_officer" | "follow_up_officer"
    )
}

/// The rules, restated from the issue and the design notes.
fn expected(role: &str, rel: Rel, ep: Ep) -> Outcome {
    use Outcome::*;
    match rel {
        Rel::Other | Rel::Withdrawn => Hidden,
        // Shared for return assistance: the proceedings stay closed to it.
        Rel::Shared => {
            if ep == Ep::View && caseworker(role) {
                Allowed
            } else {
                Forbidden
            }
        }
        Rel::Owner => {
            let ok = match ep {
                // A fund manager sees the money of a case, not the case; a statistician
                // only the k-anonymised statistics export.
                Ep::View => !matches!(role, "system_admin" | "fund_manager" | "statistician"),
                Ep::Edit => matches!(role, "advocate" | "shelter_coordinator"),
                Ep::Assign => matches!(role, "advocate" | "org_admin"),
                Ep::Consent | Ep::Withdraw | Ep::Share | Ep::EndShare => role == "advocate",
                Ep::Audit => matches!(role, "advocate" | "org_admin" | "auditor"),
                Ep::Proceedings => caseworker(role),
                // What the case costs and who pays: the caseworkers, and the people who
                // read money in the organisation.
                Ep::Funding => {
                    caseworker(role) || matches!(role, "org_admin" | "auditor" | "fund_manager")
                }
            };
            if ok { Allowed } else { Forbidden }
        }
    }
}

struct Fixture {
    app: TestApp,
    /// (relation, org id, case reference, person name)
    orgs: Vec<(Rel, i64)>,
    case_shared: String,
    case_withdrawn: String,
    spare_org: i64,
    owner_advocate_id: i64,
}

const NAME_SHARED: &str = "Zinnia Okonkwo-Matrix";
const NAME_WITHDRAWN: &str = "Yarrow Adebayo-Matrix";

async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let owner = app.org("Owner NGO", "victim_advocacy", "FR").await;
    let other = app.org("Other Shelter", "shelter", "FR").await;
    let shared = app.org("Shared Returns", "return_agency", "FR").await;
    let withdrawn = app.org("Withdrawn Origin", "origin_service", "NG").await;
    let spare = app.org("Spare Partner", "shelter", "FR").await;
    let orgs = vec![
        (Rel::Owner, owner),
        (Rel::Other, other),
        (Rel::Shared, shared),
        (Rel::Withdrawn, withdrawn),
    ];
    let mut owner_advocate_id = 0;
    for (rel, org) in &orgs {
        for role in ROLES {
            let id = app
                .user(*org, &format!("{role}@{}.test", rel_name(*rel)), role)
                .await;
            if *rel == Rel::Owner && *role == "advocate" {
                owner_advocate_id = id;
            }
        }
    }
    let adv = app.api_login("advocate@owner.test").await;
    let case_shared = app.create_case(&adv, NAME_SHARED).await;
    let case_withdrawn = app.create_case(&adv, NAME_WITHDRAWN).await;
    for (case, org, withdraw) in [
        (&case_shared, shared, false),
        (&case_withdrawn, withdrawn, true),
    ] {
        let consent: Value = adv
            .post(app.url(&format!("/api/v1/cases/{case}/consents")))
            .json(&json!({"purpose": "return_assistance", "given_by": "person", "language": "en", "form_version": "v1"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let cid = consent["id"].as_str().unwrap().to_owned();
        let r = adv
            .post(app.url(&format!("/api/v1/cases/{case}/shares")))
            .json(&json!({"org_id": org, "purpose": "return_assistance", "consent_id": cid}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        if withdraw {
            let r = adv
                .post(app.url(&format!("/api/v1/cases/{case}/consents/{cid}/withdraw")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    }
    Fixture {
        app,
        orgs,
        case_shared,
        case_withdrawn,
        spare_org: spare,
        owner_advocate_id,
    }
}

fn rel_name(r: Rel) -> &'static str {
    match r {
        Rel::Owner => "owner",
        Rel::Other => "other",
        Rel::Shared => "shared",
        Rel::Withdrawn => "withdrawn",
    }
}

impl Fixture {
    fn case_for(&self, rel: Rel) -> &str {
        if rel == Rel::Withdrawn {
            &self.case_withdrawn
        } else {
            &self.case_shared
        }
    }

    async fn owner_actor(&self) -> passerelle_core::Actor {
        self.app
            .services
            .user_by_email("advocate@owner.test")
            .await
            .unwrap()
            .unwrap()
    }

    /// A consent (and optionally a share to the spare organisation) that the attempt may
    /// consume without changing who sees what.
    async fn spare_consent(&self, case: &str) -> String {
        let a = self.owner_actor().await;
        self.app
            .services
            .record_consent(
                &a,
                case,
                &ConsentInput {
                    purpose: "other".into(),
                    given_by: "person".into(),
                    language: "en".into(),
                    form_version: "v1".into(),
                    consented_on: None,
                    share_alert_details: false,
                },
                "test",
            )
            .await
            .unwrap()
            .id
    }

    async fn spare_share(&self, case: &str) -> String {
        let a = self.owner_actor().await;
        let c = self.spare_consent(case).await;
        self.app
            .services
            .share_case(&a, case, self.spare_org, "other", Some(&c), "test")
            .await
            .unwrap()
            .id
    }

    async fn version(&self, case: &str) -> i64 {
        let a = self.owner_actor().await;
        self.app
            .services
            .get_case(&a, case, "test")
            .await
            .unwrap()
            .summary
            .version
    }
}

fn classify_json(s: StatusCode) -> Option<Outcome> {
    match s.as_u16() {
        200 | 201 | 204 | 409 => Some(Outcome::Allowed),
        403 => Some(Outcome::Forbidden),
        404 => Some(Outcome::Hidden),
        _ => None,
    }
}

fn classify_html(s: StatusCode) -> Option<Outcome> {
    match s.as_u16() {
        200 | 303 | 409 => Some(Outcome::Allowed),
        403 => Some(Outcome::Forbidden),
        404 => Some(Outcome::Hidden),
        _ => None,
    }
}

async fn json_call(
    f: &Fixture,
    c: &Client,
    ep: Ep,
    case: &str,
) -> (StatusCode, Value, Option<String>) {
    let app = &f.app;
    let rb = match ep {
        Ep::View => c.get(app.url(&format!("/api/v1/cases/{case}"))),
        Ep::Edit => c
            .put(app.url(&format!("/api/v1/cases/{case}/person")))
            .json(&json!({"version": f.version(case).await, "person": {"name": if case == f.case_shared { NAME_SHARED } else { NAME_WITHDRAWN }}})),
        Ep::Assign => c
            .put(app.url(&format!("/api/v1/cases/{case}/advocate")))
            .json(&json!({"version": f.version(case).await, "advocate_user_id": f.owner_advocate_id})),
        Ep::Consent => c
            .post(app.url(&format!("/api/v1/cases/{case}/consents")))
            .json(&json!({"purpose": "medical", "given_by": "person", "language": "en", "form_version": "v1"})),
        Ep::Withdraw => {
            let id = f.spare_consent(case).await;
            c.post(app.url(&format!("/api/v1/cases/{case}/consents/{id}/withdraw")))
        }
        Ep::Share => {
            let id = f.spare_consent(case).await;
            c.post(app.url(&format!("/api/v1/cases/{case}/shares")))
                .json(&json!({"org_id": f.spare_org, "purpose": "other", "consent_id": id}))
        }
        Ep::EndShare => {
            let id = f.spare_share(case).await;
            c.post(app.url(&format!("/api/v1/cases/{case}/shares/{id}/end")))
        }
        Ep::Audit => c.get(app.url(&format!("/api/v1/cases/{case}/audit"))),
        Ep::Proceedings => c.get(app.url(&format!("/api/v1/cases/{case}/proceedings"))),
        Ep::Funding => c.get(app.url(&format!("/api/v1/cases/{case}/funding"))),
    };
    let r = rb.send().await.unwrap();
    let status = r.status();
    let cc = r
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (status, body, cc)
}

async fn html_call(
    f: &Fixture,
    c: &Client,
    csrf: &str,
    ep: Ep,
    case: &str,
) -> (StatusCode, String) {
    let app = &f.app;
    let rb = match ep {
        Ep::View => c.get(app.url(&format!("/cases/{case}"))),
        Ep::Edit => {
            let v = f.version(case).await.to_string();
            let name = if case == f.case_shared {
                NAME_SHARED
            } else {
                NAME_WITHDRAWN
            };
            c.post(app.url(&format!("/cases/{case}/person"))).form(&[
                ("_csrf", csrf),
                ("version", &v),
                ("name", name),
            ])
        }
        Ep::Assign => {
            let v = f.version(case).await.to_string();
            let a = f.owner_advocate_id.to_string();
            c.post(app.url(&format!("/cases/{case}/advocate"))).form(&[
                ("_csrf", csrf),
                ("version", &v),
                ("advocate_user_id", &a),
            ])
        }
        Ep::Consent => c.post(app.url(&format!("/cases/{case}/consents"))).form(&[
            ("_csrf", csrf),
            ("purpose", "medical"),
            ("given_by", "person"),
            ("language", "fr"),
            ("form_version", "v1"),
        ]),
        Ep::Withdraw => {
            let id = f.spare_consent(case).await;
            // Confirmed, as from its confirmation page (unconfirmed, it only asks).
            c.post(app.url(&format!("/cases/{case}/consents/{id}/withdraw")))
                .form(&[("_csrf", csrf), ("confirmed", "yes")])
        }
        Ep::Share => {
            let id = f.spare_consent(case).await.to_string();
            let org = f.spare_org.to_string();
            c.post(app.url(&format!("/cases/{case}/shares"))).form(&[
                ("_csrf", csrf),
                ("org_id", &org),
                ("purpose", "other"),
                ("consent_id", &id),
            ])
        }
        Ep::EndShare => {
            let id = f.spare_share(case).await;
            c.post(app.url(&format!("/cases/{case}/shares/{id}/end")))
                .form(&[("_csrf", csrf), ("confirmed", "yes")])
        }
        Ep::Audit => c.get(app.url(&format!("/cases/{case}/audit"))),
        Ep::Proceedings => c.get(app.url(&format!("/cases/{case}/proceedings"))),
        Ep::Funding => c.get(app.url(&format!("/cases/{case}/funding"))),
    };
    let r = rb.send().await.unwrap();
    (r.status(), r.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_relation_and_endpoint_follows_the_rules() {
    let f = fixture().await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for (rel, _org) in &f.orgs {
        for role in ROLES {
            let email = format!("{role}@{}.test", rel_name(*rel));
            let api = f.app.api_login(&email).await;
            let html = f.app.html_login(&email).await;
            let csrf = f.app.csrf(&html).await;
            assert!(!csrf.is_empty(), "no CSRF token for {email}");
            let case = f.case_for(*rel).to_owned();
            let name = if *rel == Rel::Withdrawn {
                NAME_WITHDRAWN
            } else {
                NAME_SHARED
            };
            for ep in EPS {
                let want = expected(role, *rel, *ep);
                // JSON
                let (status, body, cc) = json_call(&f, &api, *ep, &case).await;
                checked += 1;
                if classify_json(status) != Some(want) {
                    failures.push(format!(
                        "JSON {role}/{rel:?}/{ep:?}: got {status} {body}, want {want:?}"
                    ));
                }
                if *ep == Ep::View && want == Outcome::Allowed {
                    let has_person = !body["person"].is_null();
                    if has_person != caseworker(role) {
                        failures.push(format!(
                            "JSON {role}/{rel:?}: person section shown = {has_person}"
                        ));
                    }
                    if cc.as_deref() != Some("no-store") {
                        failures.push(format!("JSON {role}/{rel:?}: Cache-Control {cc:?}"));
                    }
                }
                if want != Outcome::Allowed && body.to_string().contains(name) {
                    failures.push(format!(
                        "JSON {role}/{rel:?}/{ep:?}: the name leaked in a refusal"
                    ));
                }
                // HTML
                let (status, text) = html_call(&f, &html, &csrf, *ep, &case).await;
                checked += 1;
                if classify_html(status) != Some(want) {
                    failures.push(format!(
                        "HTML {role}/{rel:?}/{ep:?}: got {status}, want {want:?}"
                    ));
                }
                let shows_name = text.contains(name);
                let may_show =
                    want == Outcome::Allowed && matches!(ep, Ep::View) && caseworker(role);
                if shows_name && !may_show {
                    failures.push(format!(
                        "HTML {role}/{rel:?}/{ep:?}: the person's name appears"
                    ));
                }
                if may_show && !shows_name {
                    failures.push(format!(
                        "HTML {role}/{rel:?}/{ep:?}: the person's name is missing"
                    ));
                }
            }
            // Caseload membership (JSON and HTML) and search.
            let list: Value = api
                .get(f.app.url("/api/v1/cases?scope=org"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap_or(Value::Null);
            let listed = list.to_string().contains(&case);
            let should_list = match rel {
                Rel::Owner => !matches!(*role, "system_admin" | "fund_manager" | "statistician"),
                Rel::Shared => caseworker(role),
                _ => false,
            };
            if listed != should_list {
                failures.push(format!(
                    "caseload {role}/{rel:?}: listed = {listed}, want {should_list} ({list})"
                ));
            }
            let page = html
                .get(f.app.url("/cases?scope=org"))
                .send()
                .await
                .unwrap();
            let page_text = page.text().await.unwrap_or_default();
            if page_text.contains(&case) != should_list {
                failures.push(format!(
                    "HTML caseload {role}/{rel:?}: listed = {}",
                    !should_list
                ));
            }
            let found: Value = api
                .post(f.app.url("/api/v1/search"))
                .json(&json!({"name": name}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap_or(Value::Null);
            let found_it = found.to_string().contains(&case);
            let should_find =
                expected(role, *rel, Ep::View) == Outcome::Allowed && caseworker(role);
            if found_it != should_find {
                failures.push(format!(
                    "search {role}/{rel:?}: found = {found_it}, want {should_find}"
                ));
            }
        }
    }
    assert!(checked >= 4 * 8 * 10 * 2, "{checked}");
    assert!(
        failures.is_empty(),
        "{} access failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_gets_401_on_the_api_and_the_sign_in_page_on_html() {
    let app = spawn_app().await;
    app.world().await;
    let adv = app.api_login("advocate@ngo.test").await;
    let case = app.create_case(&adv, "Signed Out Person").await;
    let anon = passerelle_tests::client();
    let api = [
        ("GET", "/api/v1/cases".to_owned()),
        ("GET", format!("/api/v1/cases/{case}")),
        ("PUT", format!("/api/v1/cases/{case}/person")),
        ("PUT", format!("/api/v1/cases/{case}/advocate")),
        ("POST", format!("/api/v1/cases/{case}/consents")),
        ("POST", format!("/api/v1/cases/{case}/consents/1/withdraw")),
        ("POST", format!("/api/v1/cases/{case}/shares")),
        ("POST", format!("/api/v1/cases/{case}/shares/1/end")),
        ("GET", format!("/api/v1/cases/{case}/audit")),
        ("POST", "/api/v1/cases".to_owned()),
        ("POST", "/api/v1/search".to_owned()),
        ("GET", "/api/v1/me".to_owned()),
        ("GET", "/api/v1/users".to_owned()),
        ("GET", "/api/v1/organisations".to_owned()),
    ];
    for (m, p) in api {
        let r = anon
            .request(m.parse().unwrap(), app.url(&p))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{m} {p}");
        let body = r.text().await.unwrap();
        assert!(body.contains("sign in"), "{body}");
    }
    for p in [
        "/cases".to_owned(),
        format!("/cases/{case}"),
        format!("/cases/{case}/edit"),
        format!("/cases/{case}/audit"),
        "/cases/new".to_owned(),
        "/admin/users".to_owned(),
        "/account".to_owned(),
    ] {
        let r = anon.get(app.url(&p)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{p}");
        assert_eq!(r.headers()["location"], "/login", "{p}");
    }
    for p in [
        format!("/cases/{case}/person"),
        format!("/cases/{case}/consents"),
        "/search".to_owned(),
    ] {
        let r = anon
            .post(app.url(&p))
            .form(&[("name", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{p}");
        assert!(!contains(&r.bytes().await.unwrap(), "Signed Out Person"));
    }
}
