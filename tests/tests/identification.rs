//! The identification stage through HTTP: interviews, elements, the suggested assessment,
//! determinations and the legal clocks they start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Days, Utc};
use passerelle_tests::{contains, spawn_app};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_first_interview_to_reasonable_then_conclusive_grounds() {
    let app = spawn_app().await;
    app.world().await;
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Identified Person").await;
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}{p}"));

    // First interview, both question sets, with an interpreter.
    let r = api
        .post(url("/interviews"))
        .json(&json!({"interviewer_kind": "ngo", "language": "Edo", "interpreter": true, "mode": "one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let interview = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let v: Value = api
        .get(url("/identification"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let qs = v["interviews"][0]["questions"].as_array().unwrap();
    assert_eq!(
        qs.len(),
        19,
        "the seed's 11 trafficking and 8 smuggling questions"
    );
    assert_eq!(qs[1]["text"], "Are you paid?");
    assert!(
        qs[1]["indicator"]
            .as_str()
            .unwrap()
            .contains("forced labour")
    );
    // Answers, one at a time: the server says which comes next.
    let r = api
        .post(url(&format!("/interviews/{interview}/answers")))
        .json(&json!({"answers": {"t-work": "I clean houses", "t-paid": "No, the boss keeps the money"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["next"], 2);
    // In French the same interview reads in French.
    let v: Value = api
        .get(url("/identification"))
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["interviews"][0]["questions"][1]["text"],
        "Êtes-vous payé·e ?"
    );
    assert_eq!(
        v["interviews"][0]["questions"][1]["answer"],
        "No, the boss keeps the money"
    );

    // Elements → the suggested assessment with its explanation.
    let r = api
        .put(url("/elements"))
        .json(&json!({"version": v["version"], "elements": {"acts": ["recruitment"], "means": ["deception"],
            "purposes": ["servitude"], "controls": ["takes_earnings", "withholds_documents"]}, "findings": "papers kept by the employer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = api
        .get(url("/identification"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["assessment"]["trafficking"], "elements_present");
    assert_eq!(v["assessment"]["smuggling"], "no_elements");
    let keys: Vec<&str> = v["assessment"]["trafficking_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"id-trafficking-elements") && keys.contains(&"id-consent-irrelevant"),
        "{keys:?}"
    );
    assert_eq!(
        v["trafficking"].as_array().unwrap().len(),
        0,
        "a suggestion is not a decision"
    );

    // Reasonable grounds, decided 3 days ago: the recovery period ends 30 days later.
    let decided = Utc::now()
        .date_naive()
        .checked_sub_days(Days::new(3))
        .unwrap();
    let r = api
        .post(url("/determinations/trafficking"))
        .json(&json!({"status": "presumed", "deciding_body": "police", "decided_on": decided.to_string(), "basis": "interview of 27 Nov and findings"}))
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
    let d = &v["deadlines"][0];
    assert_eq!(d["kind"], "recovery_reflection_period_end");
    assert_eq!(
        d["due_on"],
        decided.checked_add_days(Days::new(30)).unwrap().to_string()
    );
    assert_eq!(d["days_left"], 27);
    assert_eq!(d["overdue"], false);
    // It is in "my deadlines" too.
    let mine: Value = api
        .get(app.url("/api/v1/deadlines"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"][0]["reference"], reference.as_str());
    assert_eq!(mine["items"][0]["days_left"], 27);

    // Then conclusive grounds; the history keeps both, newest first.
    let r = api
        .post(url("/determinations/trafficking"))
        .json(&json!({"status": "confirmed", "deciding_body": "national_referral_mechanism", "decided_on": Utc::now().date_naive().to_string(), "basis": "conclusive review"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = api
        .get(url("/identification"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hist: Vec<&str> = v["trafficking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_str().unwrap())
        .collect();
    assert_eq!(hist, ["confirmed", "presumed"]);
    assert_eq!(
        v["trafficking"][1]["basis"],
        "interview of 27 Nov and findings"
    );

    // The person is also a smuggled migrant, victim of other crimes: protected witness.
    let r = api
        .post(url("/determinations/smuggling"))
        .json(&json!({"status": "smuggled_migrant", "victim_of_other_crimes": true, "deciding_body": "prosecution",
            "decided_on": Utc::now().date_naive().to_string(), "basis": "journey through Libya, violence"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = api
        .get(url("/identification"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["protected_witness"], true);
    assert_eq!(
        v["trafficking"][0]["status"], "confirmed",
        "the two determinations stay separate"
    );

    // Every step is in the audit trail.
    let trail: Value = api
        .get(url("/audit"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ident = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["section"] == "identification")
        .count();
    assert!(ident >= 10, "{ident}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdue_deadlines_are_marked_and_ordered_by_urgency() {
    let app = spawn_app().await;
    app.world().await;
    let api = app.api_login("advocate@ngo.test").await;
    let old = app.create_case(&api, "Old Decision").await;
    let recent = app.create_case(&api, "Recent Decision").await;
    for (r, days_ago) in [(&recent, 1u64), (&old, 40)] {
        let d = Utc::now()
            .date_naive()
            .checked_sub_days(Days::new(days_ago))
            .unwrap();
        let resp = api
            .post(app.url(&format!("/api/v1/cases/{r}/determinations/trafficking")))
            .json(&json!({"status": "presumed", "deciding_body": "police", "decided_on": d.to_string(), "basis": "b"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    }
    let mine: Value = api
        .get(app.url("/api/v1/deadlines"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        mine["items"][0]["reference"],
        old.as_str(),
        "most urgent first"
    );
    assert_eq!(mine["items"][0]["overdue"], true);
    assert_eq!(mine["items"][0]["days_left"], -10);
    assert_eq!(mine["items"][1]["overdue"], false);
    let html = app.html_login("advocate@ngo.test").await;
    let page = html
        .get(app.url("/deadlines"))
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("dépassée de 10 jours") && page.contains("class=\"overdue\""),
        "{page}"
    );
    // A "not a victim" decision closes the clock.
    let resp = api
        .post(app.url(&format!("/api/v1/cases/{old}/determinations/trafficking")))
        .json(&json!({"status": "not_a_victim", "deciding_body": "police", "decided_on": Utc::now().date_naive().to_string(), "basis": "review"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let mine: Value = api
        .get(app.url("/api/v1/deadlines"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_identification_input_gets_a_clear_4xx() {
    let app = spawn_app().await;
    app.world().await;
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Bad Input").await;
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}{p}"));
    let today = Utc::now().date_naive();
    let tomorrow = today.checked_add_days(Days::new(1)).unwrap();
    for (body, field) in [
        (
            json!({"status": "presumed", "deciding_body": "police", "decided_on": today.to_string(), "basis": "  "}),
            "basis",
        ),
        (
            json!({"status": "presumed", "deciding_body": "police", "decided_on": tomorrow.to_string(), "basis": "b"}),
            "decided_on",
        ),
        (
            json!({"status": "victim-ish", "deciding_body": "police", "decided_on": today.to_string(), "basis": "b"}),
            "status",
        ),
        (
            json!({"status": "presumed", "deciding_body": "oracle", "decided_on": today.to_string(), "basis": "b"}),
            "deciding_body",
        ),
    ] {
        let r = api
            .post(url("/determinations/trafficking"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{body}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["field"], field, "{b}");
    }
    let r = api
        .post(url("/determinations/trafficking"))
        .json(&json!({"status": "presumed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "missing fields");
    // An answer to an unknown question.
    let r = api
        .post(url("/interviews"))
        .json(&json!({"interviewer_kind": "police", "language": "fr", "sets": ["smuggling"]}))
        .send()
        .await
        .unwrap();
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = api
        .post(url(&format!("/interviews/{id}/answers")))
        .json(&json!({"answers": {"t-paid": "no"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        422,
        "a trafficking question in a smuggling-only interview"
    );
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("is not a question of this interview")
    );
    let r = api
        .post(url("/interviews/nope/answers"))
        .json(&json!({"answers": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = api
        .post(url("/interviews"))
        .json(&json!({"interviewer_kind": "wizard", "language": "fr"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = api
        .post(url("/interviews"))
        .json(&json!({"interviewer_kind": "police", "language": "fr", "sets": ["astrology"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // Unknown element, stale version.
    let r = api
        .put(url("/elements"))
        .json(&json!({"version": 1, "elements": {"acts": ["teleportation"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = api
        .put(url("/elements"))
        .json(&json!({"version": 1, "elements": {"acts": ["receipt"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = api
        .put(url("/elements"))
        .json(&json!({"version": 1, "elements": {"acts": ["transfer"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    // Nothing half-written: no decision was recorded by the refused calls.
    let v: Value = api
        .get(url("/identification"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["trafficking"].as_array().unwrap().len(), 0);
    assert_eq!(v["deadlines"].as_array().unwrap().len(), 0);
    // Pages explain in French.
    let html = app.html_login("advocate@ngo.test").await;
    let csrf = app.csrf(&html).await;
    let r = html
        .post(app.url(&format!("/cases/{reference}/determinations/trafficking")))
        .header("Accept-Language", "fr")
        .form(&[
            ("_csrf", csrf.as_str()),
            ("status", "presumed"),
            ("deciding_body", "police"),
            ("decided_on", &today.to_string()),
            ("basis", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let t = r.text().await.unwrap();
    assert!(
        t.contains("Fondement de la décision") && t.contains("est obligatoire"),
        "{t}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testimony_is_not_in_the_database_in_clear() {
    let app = spawn_app().await;
    app.world().await;
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Testimony Person").await;
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}{p}"));
    let id = api
        .post(url("/interviews"))
        .json(&json!({"interviewer_kind": "ngo", "language": "en"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = "Zephyrine-Orchard-Farm-Basement";
    let r = api
        .post(url(&format!("/interviews/{id}/answers")))
        .json(&json!({"answers": {"t-sleep": secret}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let basis = "Quillon-Harbour-Statement";
    let r = api
        .post(url("/determinations/trafficking"))
        .json(&json!({"status": "possible", "deciding_body": "ngo", "decided_on": Utc::now().date_naive().to_string(), "basis": basis}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = api.put(url("/elements")).json(&json!({"version": 1, "elements": {"purposes": ["organ_removal"]}, "findings": "Marigold-Clinic"})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = api
        .get(url("/identification"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["interviews"][0]["questions"][6]["answer"], secret);
    use sea_orm::ConnectionTrait;
    if app.services.db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        app.services
            .db
            .execute_unprepared("PRAGMA wal_checkpoint(FULL)")
            .await
            .unwrap();
    }
    let bytes = app.raw_database_bytes().await;
    for needle in [secret, basis, "Marigold-Clinic", "organ_removal"] {
        assert!(!contains(&bytes, needle), "{needle} in clear");
        let hex: String = needle.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(!contains(&bytes, &hex), "{needle} hex-encoded");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screening_pages_work_one_question_at_a_time() {
    let app = spawn_app().await;
    app.world().await;
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Paged Person").await;
    let html = app.html_login("advocate@ngo.test").await;
    let csrf = app.csrf(&html).await;
    let r = html
        .post(app.url(&format!("/cases/{reference}/interviews")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("interviewer_kind", "ngo"),
            ("language", "Igbo"),
            ("interpreter", "on"),
            ("mode", "one"),
            ("sets", "trafficking"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    let page = html
        .get(app.url(&loc))
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Question 1 sur 11") && page.contains("Quel travail faites-vous ?"),
        "{page}"
    );
    assert!(
        !page.contains("Êtes-vous payé·e ?"),
        "one question at a time"
    );
    let r = html
        .post(app.url(&format!("{loc}/answers")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("mode", "one"),
            ("a_t-work", "cleaning"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let next = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(next.ends_with("?q=1"), "{next}");
    let page = html
        .get(app.url(&next))
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Question 2 sur 11") && page.contains("Êtes-vous payé·e ?"));
    // The stage page shows the answer, the assessment and the forms.
    let page = html
        .get(app.url(&format!("/cases/{reference}/identification")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("cleaning")
            && page.contains("Suggested assessment")
            && page.contains("built-in defaults")
    );
    // Elements through the checkbox form.
    let r = html
        .post(app.url(&format!("/cases/{reference}/elements")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("version", "1"),
            ("acts", "harbouring"),
            ("purposes", "forced_begging"),
            ("means", "coercion"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = html
        .get(app.url(&format!("/cases/{reference}/identification")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("All three elements of trafficking are present")
            && page.contains("Act: present (harbouring)"),
        "{page}"
    );
}
