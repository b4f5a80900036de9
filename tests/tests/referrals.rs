//! Referrals between organisations: consent, exactly the sections named, withdrawal,
//! audit; services and shelter placements.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use passerelle_tests::contains;
use serde_json::{Value, json};

struct Setup {
    app: passerelle_tests::TestApp,
    adv: reqwest::Client,
    reference: String,
    shelter: i64,
    legal: i64,
}

async fn setup() -> Setup {
    // The answer time comes from configuration.
    let app = passerelle_tests::spawn_app_with(passerelle_tests::postgres_admin_url(), |s| {
        s.workflow.referral_answer_days = 3
    })
    .await;
    let w = app.world().await;
    let legal = app.org("Legal Aid Clinic", "victim_advocacy", "FR").await;
    app.user(w.shelter, "coord@shelter.test", "shelter_coordinator")
        .await;
    app.user(w.shelter, "admin@shelter.test", "org_admin").await;
    app.user(legal, "lawyer@legal.test", "advocate").await;
    let adv = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&adv, "Referred Person").await;
    Setup {
        shelter: w.shelter,
        legal,
        app,
        adv,
        reference,
    }
}

impl Setup {
    fn url(&self, p: &str) -> String {
        self.app
            .url(&format!("/api/v1/cases/{}{p}", self.reference))
    }
    async fn consent(&self, purpose: &str) -> String {
        let r = self
            .adv
            .post(self.url("/consents"))
            .json(&json!({"purpose": purpose, "given_by": "person", "language": "en", "form_version": "v1"}))
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_needs_consent_and_opens_exactly_the_named_sections() {
    let s = setup().await;
    // No consent: refused with a clear message.
    let r = s
        .adv
        .post(s.url("/referrals"))
        .json(&json!({"to_org_id": s.shelter, "service": "shelter", "sections": ["person", "placement"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("consent")
    );
    // Consent for another service: refused too.
    let medical = s.consent("medical").await;
    let r = s
        .adv
        .post(s.url("/referrals"))
        .json(&json!({"to_org_id": s.shelter, "service": "shelter", "sections": ["person"], "consent_id": medical}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("another purpose"));
    // To one's own organisation: refused.
    let orgs: Value = s
        .adv
        .get(s.app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let own = orgs["org_id"].as_i64().unwrap();
    let shelter_consent = s.consent("shelter").await;
    let r = s
        .adv
        .post(s.url("/referrals"))
        .json(&json!({"to_org_id": own, "service": "shelter", "sections": ["person"], "consent_id": shelter_consent}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "to_org_id");
    // Unknown section.
    let r = s
        .adv
        .post(s.url("/referrals"))
        .json(&json!({"to_org_id": s.shelter, "service": "shelter", "sections": ["audit"], "consent_id": shelter_consent}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    // A proper referral: the shelter sees nothing until it accepts.
    let r = s
        .adv
        .post(s.url("/referrals"))
        .json(&json!({"to_org_id": s.shelter, "service": "shelter", "sections": ["placement", "services"], "consent_id": shelter_consent}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let referral = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let coord = s.app.api_login("coord@shelter.test").await;
    assert_eq!(coord.get(s.url("")).send().await.unwrap().status(), 404);
    let lists: Value = coord
        .get(s.app.url("/api/v1/referrals?direction=incoming"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(lists["items"][0]["id"], referral.as_str());
    assert_eq!(lists["items"][0]["status"], "pending");
    assert!(
        !lists.to_string().contains("Referred Person"),
        "the inbox carries no personal data"
    );
    let out: Value = s
        .adv
        .get(s.app.url("/api/v1/referrals?direction=outgoing"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(out["items"][0]["status"], "pending");
    let created =
        chrono::DateTime::parse_from_rfc3339(out["items"][0]["created_at"].as_str().unwrap())
            .unwrap();
    let due =
        chrono::DateTime::parse_from_rfc3339(out["items"][0]["due_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        (due - created).num_days(),
        3,
        "answer time from configuration"
    );

    // Accept: the named sections open, and only them (JSON and HTML).
    assert_eq!(
        coord
            .post(s.app.url(&format!("/api/v1/referrals/{referral}/accept")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        coord
            .post(s.app.url(&format!("/api/v1/referrals/{referral}/accept")))
            .send()
            .await
            .unwrap()
            .status(),
        409
    );
    let v: Value = coord
        .get(s.url(""))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["summary"]["reference"].is_string());
    assert!(v["person"].is_null(), "the person section was not named");
    assert_eq!(
        coord
            .get(s.url("/identification"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        coord.get(s.url("/audit")).send().await.unwrap().status(),
        403
    );
    let care = coord.get(s.url("/care")).send().await.unwrap();
    assert_eq!(care.status(), 200);
    let html = s.app.html_login("coord@shelter.test").await;
    let page = html
        .get(s.app.url(&format!("/cases/{}", s.reference)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(!page.text().await.unwrap().contains("Referred Person"));
    assert_eq!(
        html.get(s.app.url(&format!("/cases/{}/identification", s.reference)))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        html.get(s.app.url(&format!("/cases/{}/care", s.reference)))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // The referring side sees the answer.
    let out: Value = s
        .adv
        .get(s.app.url("/api/v1/referrals?direction=outgoing"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(out["items"][0]["status"], "accepted");

    // The shelter records the placement at its address and a service it provides.
    let secret_place = "Rue-des-Glycines-Hidden-17";
    let r = coord
        .post(s.url("/placements"))
        .json(&json!({"shelter_org_id": s.shelter, "location": secret_place, "from_on": Utc::now().date_naive().to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = coord
        .post(s.url("/services"))
        .json(&json!({"provider_org_id": s.shelter, "kind": "shelter", "planned_on": Utc::now().date_naive().to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = coord
        .post(s.url("/services"))
        .json(&json!({"provider_org_id": s.legal, "kind": "legal_aid", "planned_on": Utc::now().date_naive().to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a provider records only its own services");
    let care: Value = s
        .adv
        .get(s.url("/care"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        care["placements"][0]["location"], secret_place,
        "the owner sees the placement"
    );
    assert_eq!(care["services"].as_array().unwrap().len(), 1);

    // Withdrawing the consent closes the shelter's access at once.
    let r = s
        .adv
        .post(s.url(&format!("/consents/{shelter_consent}/withdraw")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(coord.get(s.url("")).send().await.unwrap().status(), 404);
    assert_eq!(
        coord.get(s.url("/care")).send().await.unwrap().status(),
        404
    );
    assert_eq!(
        html.get(s.app.url(&format!("/cases/{}/care", s.reference)))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let lists: Value = coord
        .get(s.app.url("/api/v1/referrals?direction=incoming"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(lists["items"][0]["status"], "consent_withdrawn");

    // Every access was audited, by organisation.
    let trail: Value = s
        .adv
        .get(s.url("/audit"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = trail.to_string();
    assert!(
        text.contains("referrals") && text.contains("placement") && text.contains("services"),
        "{text}"
    );
    let coord_reads = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["user"] == "coord" && e["action"] == "read")
        .count();
    assert!(coord_reads >= 4, "{coord_reads}: {text}");

    // The placement's location is not in the database in clear.
    use sea_orm::ConnectionTrait;
    if s.app.services.db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        s.app
            .services
            .db
            .execute_unprepared("PRAGMA wal_checkpoint(FULL)")
            .await
            .unwrap();
    }
    let bytes = s.app.raw_database_bytes().await;
    assert!(!contains(&bytes, secret_place));
    let hex: String = secret_place.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(!contains(&bytes, &hex));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_referral_needs_a_reason_and_a_late_one_is_flagged() {
    let s = setup().await;
    let c = s.consent("legal_aid").await;
    let r = s
        .adv
        .post(s.url("/referrals"))
        .json(&json!({"to_org_id": s.legal, "service": "legal_aid", "sections": ["person", "identification"], "consent_id": c}))
        .send()
        .await
        .unwrap();
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let lawyer = s.app.api_login("lawyer@legal.test").await;
    let r = lawyer
        .post(s.app.url(&format!("/api/v1/referrals/{id}/decline")))
        .json(&json!({"reason": " "}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // Another organisation cannot answer it.
    let coord = s.app.api_login("coord@shelter.test").await;
    assert_eq!(
        coord
            .post(s.app.url(&format!("/api/v1/referrals/{id}/accept")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Not answered in time: flagged on both sides (the answer time is in the past here).
    use sea_orm::{ConnectionTrait, Statement};
    let backend = s.app.services.db.get_database_backend();
    let past = (Utc::now() - chrono::Duration::days(10)).to_rfc3339();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => "UPDATE referrals SET due_at = $1::timestamptz",
        _ => "UPDATE referrals SET due_at = ?",
    };
    s.app
        .services
        .db
        .execute_raw(Statement::from_sql_and_values(backend, sql, [past.into()]))
        .await
        .unwrap();
    let out: Value = s
        .adv
        .get(s.app.url("/api/v1/referrals?direction=outgoing"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(out["items"][0]["overdue"], true);
    let page = s
        .app
        .html_login("advocate@ngo.test")
        .await
        .get(s.app.url("/referrals"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("not answered in time"));
    let r = lawyer
        .post(s.app.url(&format!("/api/v1/referrals/{id}/decline")))
        .json(&json!({"reason": "no capacity this month"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let out: Value = s
        .adv
        .get(s.app.url("/api/v1/referrals?direction=outgoing"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(out["items"][0]["status"], "declined");
    assert_eq!(out["items"][0]["reason"], "no capacity this month");
    assert_eq!(out["items"][0]["overdue"], false);
    assert_eq!(
        lawyer.get(s.url("")).send().await.unwrap().status(),
        404,
        "a declined referral opens nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_advocate_from_another_organisation_works_on_a_shared_case() {
    let s = setup().await;
    let c = s.consent("legal_aid").await;
    let r = s
        .adv
        .post(s.url("/referrals"))
        .json(&json!({"to_org_id": s.legal, "service": "legal_aid", "sections": ["person"], "consent_id": c}))
        .send()
        .await
        .unwrap();
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let lawyer = s.app.api_login("lawyer@legal.test").await;
    let me: Value = lawyer
        .get(s.app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lawyer_id = me["user_id"].as_i64().unwrap();
    // Before the referral is accepted, the lawyer cannot be assigned.
    let r = s
        .adv
        .put(s.url("/advocate"))
        .json(&json!({"version": 1, "advocate_user_id": lawyer_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(
        lawyer
            .post(s.app.url(&format!("/api/v1/referrals/{id}/accept")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = s
        .adv
        .put(s.url("/advocate"))
        .json(&json!({"version": 1, "advocate_user_id": lawyer_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // The assigned advocate from the other organisation is shown and works on identification.
    let v: Value = lawyer
        .get(s.url(""))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["summary"]["advocate"], "lawyer");
    assert_eq!(v["person"]["name"], "Referred Person");
    let r = lawyer
        .post(s.url("/interviews"))
        .json(&json!({"interviewer_kind": "ngo", "language": "fr"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(
        lawyer
            .get(s.url("/identification"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // But not the owner's consents or audit trail.
    assert_eq!(
        lawyer.get(s.url("/audit")).send().await.unwrap().status(),
        403
    );
}
