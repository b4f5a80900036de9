//! One person's path through the API, as an integrator walks it (issue 16): the case's
//! stage follows what happened, up to follow-up and closing; legs and documents change
//! until departure with their history; departures and arrivals carry their real date;
//! `reintegration` is a service; a measure is granted by the authority that decided;
//! refused attempts are in the audit trail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_tests::journey::{Ret, booked, consent};
use passerelle_tests::{TestApp, get_json as get, in_days, send_json as send, spawn_app};
use reqwest::Client;
use serde_json::{Value, json};

async fn stage(app: &TestApp, c: &Client, reference: &str) -> String {
    let (st, v) = get(c, app.url(&format!("/api/v1/cases/{reference}"))).await;
    assert_eq!(st, 200, "{v}");
    v["summary"]["stage"].as_str().unwrap().to_owned()
}

/// The stage as the caseload lists it.
async fn caseload_stage(app: &TestApp, c: &Client, reference: &str) -> Option<String> {
    let (st, v) = get(c, app.url("/api/v1/cases?per_page=200")).await;
    assert_eq!(st, 200, "{v}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["reference"] == reference)
        .map(|i| i["stage"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_case_stage_follows_what_happened_through_follow_up_to_closing() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "officer@ngo.test", "return_officer").await;
    app.user(w.origin, "followup@edo.test", "follow_up_officer")
        .await;
    let adv = app.api_login("advocate@ngo.test").await;
    let officer = app.api_login("officer@ngo.test").await;
    let reference = app.create_case(&adv, "Walking The Path").await;
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}{p}"));
    assert_eq!(stage(&app, &adv, &reference).await, "referred");

    // Screening when an interview starts; the caseload shows it too.
    let (st, v) = send(
        &adv,
        "POST",
        url("/interviews"),
        json!({"interviewer_kind": "ngo", "language": "Edo", "interpreter": false}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(stage(&app, &adv, &reference).await, "screening");
    assert_eq!(
        caseload_stage(&app, &adv, &reference).await.as_deref(),
        Some("screening")
    );
    // Protection on a reasonable-grounds decision.
    let (st, v) = send(
        &adv,
        "POST",
        url("/determinations/trafficking"),
        json!({"status": "presumed", "deciding_body": "police", "decided_on": in_days(0).to_string(), "basis": "interview"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(stage(&app, &adv, &reference).await, "protection");
    // A second interview does not send the case back.
    let (st, _) = send(
        &adv,
        "POST",
        url("/interviews"),
        json!({"interviewer_kind": "ngo", "language": "Edo"}),
    )
    .await;
    assert_eq!(st, 201);
    assert_eq!(stage(&app, &adv, &reference).await, "protection");

    // The return: solution planning, in progress, returned.
    let ret = Ret {
        app: &app,
        reference: reference.clone(),
    };
    booked(&app, &adv, &officer, &ret, w.origin, 0).await;
    assert_eq!(stage(&app, &adv, &reference).await, "return_in_progress");
    assert_eq!(ret.go(&adv, "departed", json!({})).await.0, 200);
    let k_follow = consent(&app, &adv, &reference, "reintegration").await;
    let (st, v) = ret
        .go(
            &adv,
            "received",
            json!({"handover_consent_id": k_follow, "handover_sections": ["person", "services"]}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(stage(&app, &adv, &reference).await, "returned");

    // Follow-up begins when the origin service plans its reintegration service (the
    // hand-over referral's own service, now an accepted kind).
    let follow = app.api_login("followup@edo.test").await;
    let (st, v) = send(
        &follow,
        "POST",
        url("/services"),
        json!({"provider_org_id": w.origin, "kind": "reintegration", "planned_on": in_days(7).to_string()}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["kind"], "reintegration");
    assert_eq!(stage(&app, &adv, &reference).await, "follow_up");

    // Closing: a reason that does not fit, a stale version, then the real closing.
    let (_, case) = get(&adv, url("")).await;
    let version = case["summary"]["version"].as_i64().unwrap();
    let (st, v) = send(
        &adv,
        "POST",
        url("/close"),
        json!({"version": version, "reason": "not_identified"}),
    )
    .await;
    assert_eq!(st, 422, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("not_identified_stage"),
        "{v}"
    );
    let (st, v) = send(
        &adv,
        "POST",
        url("/close"),
        json!({"version": version, "reason": "walked away"}),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("reason")), "{v}");
    let (st, v) = send(
        &adv,
        "POST",
        url("/close"),
        json!({"version": version - 1, "reason": "reintegrated"}),
    )
    .await;
    assert_eq!(st, 409, "{v}");
    let (st, v) = send(
        &adv,
        "POST",
        url("/close"),
        json!({"version": version, "reason": "reintegrated", "note": "working in Benin City"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["stage"], "closed");
    assert_eq!(v["close_status"], "closed");
    assert_eq!(v["close_reason"], "reintegrated");
    assert!(v["version"].as_i64().unwrap() > version);

    // A closed case leaves the caseload, stays readable and found by its reference, and is
    // read-only.
    assert_eq!(caseload_stage(&app, &adv, &reference).await, None);
    let (st, v) = get(&adv, app.url("/api/v1/cases?stage=closed")).await;
    assert_eq!(st, 200);
    assert_eq!(v["items"][0]["reference"], reference.as_str());
    let (st, v) = send(
        &adv,
        "POST",
        app.url("/api/v1/search"),
        json!({"reference": reference}),
    )
    .await;
    assert_eq!((st, v["total"].as_i64()), (200, Some(1)), "{v}");
    assert_eq!(stage(&app, &adv, &reference).await, "closed");
    let (st, v) = send(
        &adv,
        "PUT",
        url("/person"),
        json!({"version": version + 1, "person": {"name": "Changed"}}),
    )
    .await;
    assert_eq!(st, 409, "{v}");
    assert!(v["message"].as_str().unwrap().contains("closed"), "{v}");
    let (st, _) = send(
        &adv,
        "POST",
        url("/interviews"),
        json!({"interviewer_kind": "ngo", "language": "Edo"}),
    )
    .await;
    assert_eq!(st, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protected_witness_is_in_protection_and_a_not_identified_case_closes_early() {
    let app = spawn_app().await;
    app.world().await;
    let adv = app.api_login("advocate@ngo.test").await;
    let witness = app.create_case(&adv, "Smuggled Witness").await;
    let (st, v) = send(
        &adv,
        "POST",
        app.url(&format!("/api/v1/cases/{witness}/determinations/smuggling")),
        json!({"status": "smuggled_migrant", "witness": true, "deciding_body": "prosecution",
            "decided_on": in_days(0).to_string(), "basis": "statement to the prosecutor"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(stage(&app, &adv, &witness).await, "protection");

    let other = app.create_case(&adv, "Not A Victim").await;
    let (_, case) = get(&adv, app.url(&format!("/api/v1/cases/{other}"))).await;
    let (st, v) = send(
        &adv,
        "POST",
        app.url(&format!("/api/v1/cases/{other}/close")),
        json!({"version": case["summary"]["version"], "reason": "not_identified", "status": "closed_referred",
            "note": "referred to the labour inspectorate"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["stage"].as_str(), v["close_status"].as_str()),
        (Some("closed"), Some("closed_referred"))
    );
    // Reintegrated is not a reason before follow-up.
    let (_, case) = get(&adv, app.url(&format!("/api/v1/cases/{witness}"))).await;
    let (st, v) = send(
        &adv,
        "POST",
        app.url(&format!("/api/v1/cases/{witness}/close")),
        json!({"version": case["summary"]["version"], "reason": "reintegrated"}),
    )
    .await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(
        stage(&app, &adv, &witness).await,
        "protection",
        "nothing written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legs_and_documents_change_until_departure_and_keep_their_history() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "officer@ngo.test", "return_officer").await;
    let adv = app.api_login("advocate@ngo.test").await;
    let officer = app.api_login("officer@ngo.test").await;
    let reference = app.create_case(&adv, "Changing Plans").await;
    let ret = Ret {
        app: &app,
        reference: reference.clone(),
    };
    let leg = booked(&app, &adv, &officer, &ret, w.origin, 30).await;
    let v = ret.view(&adv).await;
    let doc = v["documents"][0]["id"].as_str().unwrap().to_owned();

    // The flight moves: the new leg replaces the old one, which stays in the history.
    let (st, v) = send(
        &adv,
        "POST",
        ret.url(&format!("/legs/{leg}/change")),
        json!({"travel_on": in_days(10).to_string(), "from": "Paris ORY", "to": "Lagos", "escort": "Mr Adeyemi",
            "reason": "the airline moved the flight"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let new_leg = v["id"].as_str().unwrap().to_owned();
    assert_eq!(v["status"], "booked");
    let (st, old) = get(&adv, ret.url(&format!("/legs/{leg}"))).await;
    assert_eq!(st, 200, "{old}");
    assert_eq!(old["status"], "changed");
    assert_eq!(old["replaced_by"], new_leg.as_str());
    assert_eq!(old["end_reason"], "the airline moved the flight");
    assert!(old["ended_at"].is_string());
    // No reason: refused, nothing written.
    let (st, v) = send(
        &adv,
        "POST",
        ret.url(&format!("/legs/{new_leg}/change")),
        json!({"travel_on": in_days(12).to_string(), "from": "Paris", "to": "Lagos", "reason": " "}),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("reason")), "{v}");
    // The old leg is history: it cannot be changed again.
    let (st, v) = send(
        &adv,
        "POST",
        ret.url(&format!("/legs/{leg}/cancel")),
        json!({"reason": "again"}),
    )
    .await;
    assert_eq!(st, 409, "{v}");
    // The planned departure follows the booked leg.
    let (_, p) = get(
        &adv,
        app.url(&format!("/api/v1/cases/{reference}/proceedings")),
    )
    .await;
    assert_eq!(p["departure"]["departure_on"], in_days(10).to_string());

    // A document replaced by a new one, then the new one cancelled.
    let (st, v) = send(
        &adv,
        "POST",
        ret.url(&format!("/documents/{doc}/change")),
        json!({"kind": "passport", "issued_by": "Nigeria Immigration Service", "number": "A0001",
            "valid_until": in_days(900).to_string(), "reason": "a passport was issued"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let passport = v["id"].as_str().unwrap().to_owned();
    let (_, old) = get(&adv, ret.url(&format!("/documents/{doc}"))).await;
    assert_eq!(
        (old["status"].as_str(), old["replaced_by"].as_str()),
        (Some("changed"), Some(passport.as_str()))
    );
    assert_eq!(old["end_reason"], "a passport was issued");

    // The leg is cancelled: travel_booked no longer holds, and the departure is unplanned.
    let (st, v) = send(
        &adv,
        "POST",
        ret.url(&format!("/legs/{new_leg}/cancel")),
        json!({"reason": "flight cancelled by the airline"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], "cancelled");
    let (_, p) = get(
        &adv,
        app.url(&format!("/api/v1/cases/{reference}/proceedings")),
    )
    .await;
    assert_eq!(p["departure"], Value::Null);
    let v = ret.view(&adv).await;
    assert_eq!(v["legs"].as_array().unwrap().len(), 2, "history kept");
    let (st, v) = ret.go(&adv, "departed", json!({})).await;
    assert_eq!(st, 422, "no booked leg: {v}");

    // Booked again for today, departed: from then on nothing changes.
    let (st, v) = send(
        &adv,
        "POST",
        ret.url("/legs"),
        json!({"travel_on": in_days(0).to_string(), "from": "Paris CDG", "to": "Lagos", "escort": "Mr Adeyemi"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let today_leg = v["id"].as_str().unwrap().to_owned();
    let (st, v) = ret.go(&adv, "departed", json!({})).await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = send(
        &adv,
        "POST",
        ret.url(&format!("/legs/{today_leg}/cancel")),
        json!({"reason": "too late"}),
    )
    .await;
    assert_eq!(st, 409, "{v}");
    assert!(v["message"].as_str().unwrap().contains("departed"), "{v}");
    let (st, _) = send(
        &adv,
        "POST",
        ret.url(&format!("/documents/{passport}/cancel")),
        json!({"reason": "too late"}),
    )
    .await;
    assert_eq!(st, 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn departures_and_arrivals_take_their_real_date() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "officer@ngo.test", "return_officer").await;
    let adv = app.api_login("advocate@ngo.test").await;
    let officer = app.api_login("officer@ngo.test").await;
    let reference = app.create_case(&adv, "Dated Travel").await;
    let ret = Ret {
        app: &app,
        reference: reference.clone(),
    };
    booked(&app, &adv, &officer, &ret, w.origin, 40).await;
    // 40 days before the only leg's date: refused, naming the booked date.
    let (st, v) = ret.go(&adv, "departed", json!({})).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("on")), "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains(&in_days(40).to_string()),
        "{v}"
    );
    // In the future: refused.
    let (st, v) = ret
        .go(
            &adv,
            "departed",
            json!({"on": in_days(41).to_string(), "early_reason": "x"}),
        )
        .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("on")), "{v}");
    assert_eq!(
        ret.view(&adv).await["stage"],
        "travel_booked",
        "nothing written"
    );
    // Yesterday, with the reason: accepted, dated yesterday.
    let (st, v) = ret
        .go(
            &adv,
            "departed",
            json!({"on": in_days(-1).to_string(), "early_reason": "left on an earlier flight with her escort"}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(ret.view(&adv).await["departed_on"], in_days(-1).to_string());
    // An arrival before the departure is refused; today is accepted.
    let k = consent(&app, &adv, &reference, "reintegration").await;
    let (st, v) = ret
        .go(
            &adv,
            "received",
            json!({"on": in_days(-2).to_string(), "handover_consent_id": k, "handover_sections": ["person"]}),
        )
        .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("on")), "{v}");
    let (st, v) = ret
        .go(
            &adv,
            "received",
            json!({"on": in_days(0).to_string(), "handover_consent_id": k, "handover_sections": ["person"]}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(ret.view(&adv).await["received_on"], in_days(0).to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_service_kind_names_the_kind_field() {
    let app = spawn_app().await;
    let w = app.world().await;
    let adv = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&adv, "Service Kinds").await;
    let (st, v) = send(
        &adv,
        "POST",
        app.url(&format!("/api/v1/cases/{reference}/services")),
        json!({"provider_org_id": w.ngo, "kind": "astrology", "planned_on": in_days(1).to_string()}),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("kind")), "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("reintegration"),
        "{v}"
    );
    let (st, v) = send(
        &adv,
        "POST",
        app.url(&format!("/api/v1/cases/{reference}/services")),
        json!({"provider_org_id": w.ngo, "kind": "reintegration", "planned_on": in_days(1).to_string()}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    // Before the return it does not start a follow-up.
    assert_eq!(stage(&app, &adv, &reference).await, "referred");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_measure_is_granted_by_the_authority_that_decided_not_by_the_requester() {
    let app = spawn_app().await;
    app.world().await;
    let adv = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&adv, "Protected At Trial").await;
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}{p}"));
    let (st, p) = send(
        &adv,
        "POST",
        url("/proceedings"),
        json!({"court": "TJ Lyon", "jurisdiction": "Lyon", "case_number": "26/1", "charges": ["trafficking"], "person_role": "victim_witness"}),
    )
    .await;
    assert_eq!(st, 201, "{p}");
    let pid = p["id"].as_str().unwrap();
    let (st, m) = send(
        &adv,
        "POST",
        url(&format!("/proceedings/{pid}/measures")),
        json!({"measure": "live_video_link"}),
    )
    .await;
    assert_eq!(st, 201, "{m}");
    assert_eq!(m["decided_by"], json!(["court"]));
    let mid = m["id"].as_str().unwrap();
    let decide = |body: Value| {
        send(
            &adv,
            "POST",
            url(&format!("/measures/{mid}/decision")),
            body,
        )
    };
    // The requester alone: no deciding authority, refused.
    let (st, v) = decide(json!({"decision": "grant"})).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("authority")), "{v}");
    // An authority the catalogue does not name for this measure.
    let (st, v) =
        decide(json!({"decision": "grant", "authority": "police", "decision_reference": "PV 12"}))
            .await;
    assert_eq!(st, 422, "{v}");
    assert!(v["message"].as_str().unwrap().contains("court"), "{v}");
    // No reference of the decision.
    let (st, v) = decide(json!({"decision": "grant", "authority": "court"})).await;
    assert_eq!(
        (st, v["field"].as_str()),
        (422, Some("decision_reference")),
        "{v}"
    );
    let (st, v) = get(&adv, url(&format!("/measures/{mid}"))).await;
    assert_eq!(
        (st, v["status"].as_str()),
        (200, Some("requested")),
        "nothing written"
    );
    // The court's order, recorded by the advocate.
    let (st, v) = decide(json!({"decision": "grant", "authority": "court", "decision_reference": "Ordonnance 26/117"})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], "granted");
    assert_eq!(v["authority"], "court");
    assert_eq!(v["decision_reference"], "Ordonnance 26/117");
    assert_eq!(v["recorded_by"], "advocate");
    // The decision reference is encrypted like the case number.
    let bytes = app.raw_database_bytes().await;
    assert!(!passerelle_tests::contains(&bytes, "Ordonnance 26/117"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_attempts_are_in_the_case_audit_trail() {
    let app = spawn_app().await;
    let w = app.world().await;
    let other = app.org("Elsewhere", "victim_advocacy", "FR").await;
    app.user(other, "prober@elsewhere.test", "advocate").await;
    app.user(w.ngo, "auditor@ngo.test", "auditor").await;
    app.user(w.ngo, "coord@ngo.test", "shelter_coordinator")
        .await;
    let adv = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&adv, "Probed Person").await;
    // Another organisation's advocate: 404, as for a case that does not exist.
    let prober = app.api_login("prober@elsewhere.test").await;
    let (st, v) = get(&prober, app.url(&format!("/api/v1/cases/{reference}"))).await;
    assert_eq!(st, 404, "{v}");
    let (st, _) = get(
        &prober,
        app.url(&format!("/api/v1/cases/{reference}/identification")),
    )
    .await;
    assert_eq!(st, 404);
    // The owner's auditor: 403 on a section, with the words of a section.
    let auditor = app.api_login("auditor@ngo.test").await;
    let (st, v) = get(
        &auditor,
        app.url(&format!("/api/v1/cases/{reference}/identification")),
    )
    .await;
    assert_eq!(st, 403, "{v}");
    assert_eq!(v["message"], "you may not see this section of the case");
    // The trail shows each refusal: who, which organisation, which section.
    let (st, trail) = get(
        &auditor,
        app.url(&format!("/api/v1/cases/{reference}/audit")),
    )
    .await;
    assert_eq!(st, 200, "{trail}");
    let refused: Vec<(Option<i64>, String, String)> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "refused")
        .map(|e| {
            (
                e["org_id"].as_i64(),
                e["section"].as_str().unwrap().to_owned(),
                e["user"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        refused.contains(&(Some(other), "summary".into(), "prober".into())),
        "{trail}"
    );
    assert!(
        refused.contains(&(Some(other), "identification".into(), "prober".into())),
        "{trail}"
    );
    assert!(
        refused.contains(&(Some(w.ngo), "identification".into(), "auditor".into())),
        "{trail}"
    );
    // Paging of the trail: out of range is a 400 naming the parameter.
    let (st, v) = get(
        &auditor,
        app.url(&format!("/api/v1/cases/{reference}/audit?per_page=0")),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (400, Some("per_page")), "{v}");
    let (st, v) = get(
        &auditor,
        app.url(&format!(
            "/api/v1/cases/{reference}/audit?per_page=2&page=2"
        )),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        (v["page"].as_i64(), v["per_page"].as_i64()),
        (Some(2), Some(2))
    );
    assert!(v["total"].as_i64().unwrap() >= 6);
    // The log verifies.
    assert!(matches!(
        passerelle_core::service::audit::verify_chain(&app.services.db)
            .await
            .unwrap(),
        passerelle_core::service::audit::Verified::Intact { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_refuse_out_of_range_pages_instead_of_changing_them() {
    let app = spawn_app().await;
    app.world().await;
    let adv = app.api_login("advocate@ngo.test").await;
    for path in [
        "/api/v1/cases?per_page=500",
        "/api/v1/cases?page=0",
        "/api/v1/deadlines?per_page=201",
        "/api/v1/referrals?page=0",
        "/api/v1/returns?per_page=0",
    ] {
        let (st, v) = get(&adv, app.url(path)).await;
        assert_eq!(st, 400, "{path}: {v}");
        assert!(
            matches!(v["field"].as_str(), Some("page" | "per_page")),
            "{path}: {v}"
        );
    }
    for (path, field) in [
        ("/api/v1/cases?stage=flying", "stage"),
        ("/api/v1/deadlines?kind=soon", "kind"),
        ("/api/v1/referrals?direction=sideways", "direction"),
        ("/api/v1/returns?stage=home", "stage"),
    ] {
        let (st, v) = get(&adv, app.url(path)).await;
        assert_eq!((st, v["field"].as_str()), (422, Some(field)), "{path}: {v}");
    }
    let (st, v) = get(&adv, app.url("/api/v1/deadlines?per_page=10")).await;
    assert_eq!(st, 200);
    assert_eq!(v["per_page"], 10);
    assert!(v["items"].is_array() && v["total"].is_number() && v["pages"].is_number());
}
