//! Voluntary return through HTTP: a full return from the person's request to the
//! reception and hand-over; consent withdrawal; citizenship clocks and the stateless
//! path; the return agency's partner format; bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_tests::{
    TestApp, contains, get_json as get, in_days, send_json as send, spawn_app,
    spawn_app_with_example_plugins,
};
use reqwest::Client;
use serde_json::{Value, json};

async fn consent(app: &TestApp, c: &Client, reference: &str, purpose: &str) -> String {
    let (st, v) = send(
        c,
        "POST",
        app.url(&format!("/api/v1/cases/{reference}/consents")),
        json!({"purpose": purpose, "given_by": "person", "language": "Edo", "form_version": "return-v2"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

struct Ret<'a> {
    app: &'a TestApp,
    reference: String,
}

impl Ret<'_> {
    fn url(&self, p: &str) -> String {
        self.app
            .url(&format!("/api/v1/cases/{}/return{p}", self.reference))
    }
    async fn view(&self, c: &Client) -> Value {
        let (st, v) = get(c, self.url("")).await;
        assert_eq!(st, 200, "{v}");
        v
    }
    /// Move to `to` with the current version; returns the status and body.
    async fn go(&self, c: &Client, to: &str, extra: Value) -> (u16, Value) {
        let v = self.view(c).await;
        let mut body = json!({"to": to, "version": v["version"]});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        send(c, "POST", self.url("/move"), body).await
    }
}

fn rules_of(v: &Value) -> Vec<String> {
    // "the return cannot move to X: [rule] message; [rule] message"
    let m = v["message"].as_str().unwrap_or_default();
    m.split('[')
        .skip(1)
        .filter_map(|p| p.split_once(']').map(|(r, _)| r.to_owned()))
        .collect()
}

fn checklist(v: &Value) -> Vec<(String, bool)> {
    v["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_owned(),
                i["met"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_return_from_request_to_reception_and_hand_over() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "officer@ngo.test", "return_officer").await;
    app.user(w.origin, "followup@edo.test", "follow_up_officer")
        .await;
    let adv = app.api_login("advocate@ngo.test").await;
    let officer = app.api_login("officer@ngo.test").await;
    let reference = app.create_case(&adv, "Going Home").await;
    let ret = Ret {
        app: &app,
        reference: reference.clone(),
    };
    let k_return = consent(&app, &adv, &reference, "return_assistance").await;
    let k_follow = consent(&app, &adv, &reference, "reintegration").await;

    // The person's request, on their consent.
    let (st, v) = send(
        &adv,
        "POST",
        ret.url(""),
        json!({"requested_by": "person", "consent_id": k_return,
        "explained_by": "Ms Obi, counsellor, in Edo", "destination_country": "NG"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let v = ret.view(&adv).await;
    assert_eq!(v["stage"], "requested");
    assert_eq!(v["during_recovery_period"], false);
    assert_eq!(v["explained_by"], "Ms Obi, counsellor, in Edo");
    assert_eq!(
        checklist(&v),
        vec![
            ("informed_consent".to_owned(), true),
            ("risk_assessment".to_owned(), false),
            ("travel_document".to_owned(), false),
            ("reception_arranged".to_owned(), false),
            ("citizenship_confirmed".to_owned(), false),
        ]
    );
    assert_eq!(v["next"], "assessed");
    assert_eq!(v["blockers"][0]["rule"], "risk_assessment");

    // Each step refuses until its rule is met, and says which rule refused.
    let (st, e) = ret.go(&adv, "assessed", json!({})).await;
    assert_eq!(
        (st, rules_of(&e)),
        (422, vec!["risk_assessment".to_owned()]),
        "{e}"
    );
    let (st, e) = send(
        &adv,
        "POST",
        ret.url("/assessment"),
        json!({"persecution": "low", "re_trafficking": "medium",
        "findings": "mother in Benin City, no contact with the recruiters; treated for malaria"}),
    )
    .await;
    assert_eq!(st, 201, "{e}");
    assert_eq!(ret.go(&adv, "assessed", json!({})).await.0, 200);
    // Approval is a return officer's.
    let (st, e) = ret.go(&adv, "approved", json!({})).await;
    assert_eq!(st, 403, "{e}");
    let (st, e) = ret.go(&officer, "approved", json!({})).await;
    assert_eq!(
        (st, rules_of(&e)),
        (422, vec!["requirement:citizenship_confirmed".to_owned()]),
        "{e}"
    );
    let (st, q) = send(
        &adv,
        "POST",
        ret.url("/citizenship"),
        json!({"authority": "Embassy of Nigeria, Paris"}),
    )
    .await;
    assert_eq!(st, 201, "{q}");
    let qid = q["id"].as_str().unwrap();
    let (st, _) = send(
        &adv,
        "POST",
        ret.url(&format!("/citizenship/{qid}/answer")),
        json!({"answer": "confirmed"}),
    )
    .await;
    assert_eq!(st, 200);
    let (st, e) = ret.go(&officer, "approved", json!({})).await;
    assert_eq!(st, 200, "{e}");
    let (_, case) = get(&adv, app.url(&format!("/api/v1/cases/{reference}"))).await;
    assert_eq!(case["summary"]["stage"], "return_in_progress");

    let (st, e) = ret.go(&adv, "documents_ready", json!({})).await;
    assert_eq!(
        (st, rules_of(&e)),
        (422, vec!["requirement:travel_document".to_owned()]),
        "{e}"
    );
    let (st, _) = send(&adv, "POST", ret.url("/documents"), json!({"kind": "laissez_passer",
        "issued_by": "Embassy of Nigeria, Paris", "number": "LP-0042", "valid_until": in_days(120).to_string()})).await;
    assert_eq!(st, 201);
    assert_eq!(ret.go(&adv, "documents_ready", json!({})).await.0, 200);

    let (st, e) = ret.go(&adv, "travel_booked", json!({})).await;
    assert_eq!(
        (st, rules_of(&e)),
        (
            422,
            vec![
                "itinerary".to_owned(),
                "requirement:reception_arranged".to_owned()
            ]
        ),
        "{e}"
    );
    let (st, _) = send(
        &adv,
        "POST",
        ret.url("/legs"),
        json!({"travel_on": in_days(20).to_string(), "from": "Paris CDG", "to": "Lagos"}),
    )
    .await;
    assert_eq!(st, 201);
    let (st, e) = send(
        &adv,
        "PUT",
        ret.url("/reception"),
        json!({"receiving_org_id": w.origin, "reception_on": in_days(20).to_string()}),
    )
    .await;
    assert_eq!(st, 200, "{e}");
    assert_eq!(ret.go(&adv, "travel_booked", json!({})).await.0, 200);
    // The first leg is now the planned departure the hearings are checked against.
    let (_, p) = get(
        &adv,
        app.url(&format!("/api/v1/cases/{reference}/proceedings")),
    )
    .await;
    assert_eq!(p["departure"]["departure_on"], in_days(20).to_string());

    let (st, e) = ret.go(&adv, "departed", json!({})).await;
    assert_eq!(
        (st, rules_of(&e)),
        (422, vec!["counselling".to_owned()]),
        "{e}"
    );
    let (st, _) = send(
        &adv,
        "PUT",
        ret.url("/counselling"),
        json!({"counselled_by": "Ms Obi"}),
    )
    .await;
    assert_eq!(st, 200);
    // She left earlier than the booked flight: the departure says why.
    let (st, e) = ret
        .go(
            &adv,
            "departed",
            json!({"early_reason": "a seat became free on an earlier flight"}),
        )
        .await;
    assert_eq!(st, 200, "{e}");
    // Once departed, the return can no longer be stopped.
    let (st, e) = send(&adv, "POST", ret.url("/withdraw-consent"), json!({})).await;
    assert_eq!(st, 409, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("already departed"),
        "{e}"
    );
    assert_eq!(
        ret.view(&adv).await["consent_active"],
        true,
        "nothing written"
    );
    let (st, e) = ret
        .go(&adv, "cancelled", json!({"reason": "changed her mind"}))
        .await;
    assert_eq!(
        (st, rules_of(&e)),
        (422, vec!["stage_order".to_owned()]),
        "{e}"
    );

    // Arrival needs the hand-over consent.
    let (st, e) = ret.go(&adv, "received", json!({})).await;
    assert_eq!(
        (st, e["field"].as_str()),
        (422, Some("handover_consent_id")),
        "{e}"
    );
    let (st, e) = ret
        .go(
            &adv,
            "received",
            json!({"handover_consent_id": k_return, "handover_sections": ["person"]}),
        )
        .await;
    assert_eq!(
        st, 422,
        "a return-assistance consent does not cover reintegration: {e}"
    );
    let (st, e) = ret
        .go(
            &adv,
            "received",
            json!({"handover_consent_id": k_follow, "handover_sections": ["person", "return"]}),
        )
        .await;
    assert_eq!(st, 200, "{e}");
    let v = ret.view(&adv).await;
    assert_eq!(v["stage"], "received");
    assert_eq!(v["next"], Value::Null);
    assert_eq!(v["handed_over"], json!(["person", "return"]));
    let stages: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        vec![
            "requested",
            "assessed",
            "approved",
            "documents_ready",
            "travel_booked",
            "departed",
            "received"
        ]
    );
    assert_eq!(v["clock"]["days_since_request"], 0);
    let (_, case) = get(&adv, app.url(&format!("/api/v1/cases/{reference}"))).await;
    assert_eq!(case["summary"]["stage"], "returned");

    // The origin-country service sees exactly what was handed over.
    let follow = app.api_login("followup@edo.test").await;
    let (st, c) = get(&follow, app.url(&format!("/api/v1/cases/{reference}"))).await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["person"]["name"], "Going Home", "{c}");
    assert!(c["consents"].is_null() && c["shares"].is_null(), "{c}");
    assert_eq!(ret.view(&follow).await["stage"], "received");
    for (p, expected) in [
        ("/identification", 403),
        ("/proceedings", 403),
        ("/care", 403),
        ("/audit", 403),
    ] {
        let (st, _) = get(&follow, app.url(&format!("/api/v1/cases/{reference}{p}"))).await;
        assert_eq!(st, expected, "{p}");
    }
    let (st, _) = send(&follow, "POST", ret.url("/counselling"), json!({})).await;
    assert_eq!(st, 404, "no such route for POST");
    let (st, _) = send(
        &follow,
        "PUT",
        ret.url("/counselling"),
        json!({"counselled_by": "x"}),
    )
    .await;
    assert_eq!(
        st, 403,
        "the follow-up service reads, it does not edit the return"
    );

    // The organisation's service-level view lists it, without personal data.
    let (st, list) = get(&officer, app.url("/api/v1/returns")).await;
    assert_eq!(st, 200);
    let mine: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["reference"] == reference)
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["stage"], "received");
    assert!(!list.to_string().contains("Going Home"));

    // Every write and read is in the trail.
    let (_, trail) = get(&adv, app.url(&format!("/api/v1/cases/{reference}/audit"))).await;
    let writes = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["section"] == "return" && e["action"] != "read")
        .count();
    assert!(writes >= 14, "{writes}");
    // Names, places and numbers are not stored in clear.
    let raw = app.raw_database_bytes().await;
    for secret in ["Ms Obi", "LP-0042", "Paris CDG", "Benin City"] {
        assert!(!contains(&raw, secret), "{secret} stored in clear");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawing_consent_stops_the_return_and_releases_the_bookings() {
    let app = spawn_app().await;
    app.world().await;
    let adv = app.api_login("advocate@ngo.test").await;
    for via_case_page in [false, true] {
        let reference = app.create_case(&adv, "Changed Mind").await;
        let ret = Ret {
            app: &app,
            reference: reference.clone(),
        };
        let k = consent(&app, &adv, &reference, "return_assistance").await;
        let (st, _) = send(
            &adv,
            "POST",
            ret.url(""),
            json!({"requested_by": "person", "consent_id": k,
            "explained_by": "counsellor", "destination_country": "NG"}),
        )
        .await;
        assert_eq!(st, 201);
        let (st, _) = send(&adv, "POST", ret.url("/legs"), json!({"travel_on": in_days(9).to_string(), "from": "Lyon", "to": "Abuja", "escort": "IOM escort"})).await;
        assert_eq!(st, 201);
        let v = ret.view(&adv).await;
        assert_eq!(v["legs"][0]["status"], "booked");
        if via_case_page {
            let (st, e) = send(
                &adv,
                "POST",
                app.url(&format!("/api/v1/cases/{reference}/consents/{k}/withdraw")),
                json!({}),
            )
            .await;
            assert_eq!(st, 200, "{e}");
        } else {
            let (st, e) = send(&adv, "POST", ret.url("/withdraw-consent"), json!({})).await;
            assert_eq!(st, 204, "{e}");
        }
        let v = ret.view(&adv).await;
        assert_eq!(v["stage"], "cancelled", "via case page: {via_case_page}");
        assert_eq!(v["consent_active"], false);
        assert_eq!(v["legs"][0]["status"], "released");
        assert!(v["cancelled_reason"].as_str().unwrap().contains("withdrew"));
        let (_, p) = get(
            &adv,
            app.url(&format!("/api/v1/cases/{reference}/proceedings")),
        )
        .await;
        assert_eq!(
            p["departure"],
            Value::Null,
            "the planned departure is released"
        );
        // Nothing more moves; a new request needs a new consent.
        let (st, _) = ret.go(&adv, "assessed", json!({})).await;
        assert_eq!(st, 422);
        let (st, e) = send(
            &adv,
            "POST",
            ret.url(""),
            json!({"requested_by": "person", "consent_id": k,
            "explained_by": "counsellor", "destination_country": "NG"}),
        )
        .await;
        assert_eq!(st, 422, "{e}");
        assert!(e["message"].as_str().unwrap().contains("withdrawn"), "{e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdue_citizenship_requests_are_flagged_and_a_stateless_person_is_not_asked() {
    let app = spawn_app().await;
    app.world().await;
    let adv = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&adv, "Waiting Answer").await;
    let ret = Ret {
        app: &app,
        reference: reference.clone(),
    };
    let k = consent(&app, &adv, &reference, "return_assistance").await;
    let (st, _) = send(&adv, "POST", ret.url(""), json!({"requested_by": "person", "consent_id": k,
        "explained_by": "counsellor", "destination_country": "NG", "requested_on": in_days(-45).to_string()})).await;
    assert_eq!(st, 201);
    let (st, _) = send(
        &adv,
        "POST",
        ret.url("/citizenship"),
        json!({"authority": "Consulate of Nigeria, Lyon",
        "sent_on": in_days(-40).to_string(), "due_on": in_days(-10).to_string()}),
    )
    .await;
    assert_eq!(st, 201);
    let (st, _) = send(
        &adv,
        "POST",
        ret.url("/citizenship"),
        json!({"authority": "Nigeria Immigration Service",
        "sent_on": in_days(-5).to_string()}),
    )
    .await;
    assert_eq!(st, 201);
    let v = ret.view(&adv).await;
    let qs = v["citizenship"].as_array().unwrap();
    assert_eq!(
        qs[0]["clock"],
        json!({"age_days": 40, "overdue_days": 10, "overdue": true})
    );
    assert_eq!(
        qs[1]["due_on"],
        in_days(25).to_string(),
        "30 days by default"
    );
    assert_eq!(qs[1]["clock"]["overdue"], false);
    // A reminder is counted.
    let qid = qs[0]["id"].as_str().unwrap();
    assert_eq!(
        send(
            &adv,
            "POST",
            ret.url(&format!("/citizenship/{qid}/reminder")),
            json!({})
        )
        .await
        .0,
        200
    );
    assert_eq!(ret.view(&adv).await["citizenship"][0]["reminders"], 1);
    // The organisation's view flags it with its age, and the return as stuck.
    let (_, list) = get(&adv, app.url("/api/v1/returns")).await;
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reference"] == reference)
        .unwrap()
        .clone();
    assert_eq!(item["overdue_citizenship"], 1);
    assert_eq!(item["oldest_overdue_days"], 40);
    assert_eq!(item["clock"]["days_since_request"], 45);
    assert_eq!(
        item["clock"]["days_in_stage"], 45,
        "requested when the person asked"
    );
    assert_eq!(
        item["clock"]["stuck"], true,
        "over the 7 days a request may wait"
    );

    // A stateless person: no citizenship item on the checklist, and no request possible.
    let r = adv
        .post(app.url("/api/v1/cases"))
        .json(&json!({"person": {"name": "Without Nation", "stateless": true, "languages": "Arabic"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let stateless = r.json::<Value>().await.unwrap()["summary"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let ret2 = Ret {
        app: &app,
        reference: stateless.clone(),
    };
    let k2 = consent(&app, &adv, &stateless, "return_assistance").await;
    let (st, e) = send(
        &adv,
        "POST",
        ret2.url(""),
        json!({"requested_by": "person", "consent_id": k2,
        "explained_by": "counsellor", "destination_country": "LB"}),
    )
    .await;
    assert_eq!(st, 201, "{e}");
    let v = ret2.view(&adv).await;
    assert_eq!(v["stateless"], true);
    assert!(
        !checklist(&v)
            .iter()
            .any(|(id, _)| id == "citizenship_confirmed"),
        "{v}"
    );
    let (st, e) = send(
        &adv,
        "POST",
        ret2.url("/citizenship"),
        json!({"authority": "Embassy"}),
    )
    .await;
    assert_eq!((st, e["field"].as_str()), (422, Some("authority")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("stateless"), "{e}");
    // The page shows the statelessness path instead of the citizenship form.
    let html = app.html_login("advocate@ngo.test").await;
    let page = html
        .get(app.url(&format!("/cases/{stateless}/return")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("id=\"stateless-path\"") && !page.contains("id=\"citizenship-form\""),
        "{page}"
    );
    // And the overdue request of the first case is on its page, with the form.
    let page = html
        .get(app.url(&format!("/cases/{reference}/return")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"citizenship-form\""), "{page}");
    assert!(page.contains("Consulate of Nigeria, Lyon"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_return_agency_receives_the_request_in_its_own_format_or_a_refusal() {
    let app = spawn_app_with_example_plugins().await;
    let w = app.world().await;
    app.user(w.returns, "agent@retour.test", "return_officer")
        .await;
    let adv = app.api_login("advocate@ngo.test").await;
    let agent = app.api_login("agent@retour.test").await;

    // Incomplete: the person's languages are missing; the agency's plugin refuses and
    // nothing is written.
    let r = adv
        .post(app.url("/api/v1/cases"))
        .json(&json!({"person": {"name": "No Languages", "birth_date": "1990-01-01", "nationality": "NG"}}))
        .send()
        .await
        .unwrap();
    let bare = r.json::<Value>().await.unwrap()["summary"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let k = consent(&app, &adv, &bare, "return_assistance").await;
    let bare_ret = Ret {
        app: &app,
        reference: bare.clone(),
    };
    let (st, e) = send(
        &adv,
        "POST",
        bare_ret.url(""),
        json!({"requested_by": "person", "consent_id": k,
        "explained_by": "counsellor", "destination_country": "NG", "agency_org_id": w.returns}),
    )
    .await;
    assert_eq!((st, e["error"].as_str()), (422, Some("refused")), "{e}");
    let m = e["message"].as_str().unwrap();
    assert!(
        m.contains("Retour cannot take this return request") && m.contains("languages"),
        "{m}"
    );
    assert_eq!(
        get(&adv, bare_ret.url("")).await.0,
        404,
        "no half-written return"
    );

    // Complete: the agency receives it in the iom-avrr format and sees it in its list.
    let reference = app.create_case(&adv, "Partner Format").await;
    let ret = Ret {
        app: &app,
        reference: reference.clone(),
    };
    let k = consent(&app, &adv, &reference, "return_assistance").await;
    let (st, e) = send(
        &adv,
        "POST",
        ret.url(""),
        json!({"requested_by": "person", "consent_id": k,
        "explained_by": "counsellor", "destination_country": "NG", "agency_org_id": w.returns}),
    )
    .await;
    assert_eq!(st, 201, "{e}");
    let v = ret.view(&agent).await;
    assert_eq!(v["agency"], "Retour");
    let payload: Value = serde_json::from_str(v["partner_request"].as_str().unwrap()).unwrap();
    assert_eq!(payload["schema"], "iom-avrr-referral/1");
    assert_eq!(payload["request_type"], "return_request");
    assert_eq!(payload["service"], "avrr");
    assert_eq!(payload["destination_country"], "NG");
    assert_eq!(payload["beneficiary"]["name"], "Partner Format");
    assert_eq!(payload["consent"]["form_version"], "return-v2");
    let (_, list) = get(&agent, app.url("/api/v1/returns")).await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["reference"] == reference && r["agency"] == "Retour")
    );
    // The agency's officer works on it (a travel document) and may approve; it sees
    // nothing else of the case.
    let (st, _) = send(&agent, "POST", ret.url("/documents"), json!({"kind": "passport", "issued_by": "Nigeria", "valid_until": in_days(400).to_string()})).await;
    assert_eq!(st, 201);
    for p in ["/identification", "/proceedings", "/audit"] {
        assert_eq!(
            get(&agent, app.url(&format!("/api/v1/cases/{reference}{p}")))
                .await
                .0,
            403,
            "{p}"
        );
    }
    // The French jurisdiction adds its own check: approval waits for it.
    assert!(
        checklist(&v)
            .iter()
            .any(|(id, met)| id == "ofii_return_assistance" && !met),
        "{v}"
    );
    let (st, _) = send(
        &adv,
        "POST",
        ret.url("/assessment"),
        json!({"persecution": "low", "re_trafficking": "low", "findings": "f"}),
    )
    .await;
    assert_eq!(st, 201);
    assert_eq!(ret.go(&adv, "assessed", json!({})).await.0, 200);
    let (st, q) = send(
        &agent,
        "POST",
        ret.url("/citizenship"),
        json!({"authority": "Embassy of Nigeria"}),
    )
    .await;
    assert_eq!(st, 201);
    let qid = q["id"].as_str().unwrap();
    assert_eq!(
        send(
            &agent,
            "POST",
            ret.url(&format!("/citizenship/{qid}/answer")),
            json!({"answer": "confirmed"})
        )
        .await
        .0,
        200
    );
    let (st, e) = ret.go(&agent, "approved", json!({})).await;
    assert_eq!(
        (st, rules_of(&e)),
        (422, vec!["requirement:ofii_return_assistance".to_owned()]),
        "{e}"
    );
    let (st, e) = send(
        &agent,
        "POST",
        ret.url("/checks"),
        json!({"requirement": "ofii_return_assistance", "note": "file 2026-118"}),
    )
    .await;
    assert_eq!(st, 200, "{e}");
    let (st, e) = ret.go(&agent, "approved", json!({})).await;
    assert_eq!(st, 200, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_4xx_and_never_a_half_approved_return() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "officer@ngo.test", "return_officer").await;
    let adv = app.api_login("advocate@ngo.test").await;
    let officer = app.api_login("officer@ngo.test").await;
    let reference = app.create_case(&adv, "Not Safe").await;
    let ret = Ret {
        app: &app,
        reference: reference.clone(),
    };
    let k = consent(&app, &adv, &reference, "return_assistance").await;
    let other = consent(&app, &adv, &reference, "shelter").await;
    let base = json!({"requested_by": "person", "consent_id": k, "explained_by": "counsellor", "destination_country": "NG"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    // Missing field, wrong type, bad values, wrong consent, someone else's request.
    let (st, e) = send(
        &adv,
        "POST",
        ret.url(""),
        json!({"requested_by": "person", "consent_id": k}),
    )
    .await;
    assert_eq!(st, 400, "{e}");
    assert_eq!(
        send(&adv, "POST", ret.url(""), with("consent_id", json!(1)))
            .await
            .0,
        400
    );
    let (st, e) = send(
        &adv,
        "POST",
        ret.url(""),
        with("destination_country", json!("Nigeria")),
    )
    .await;
    assert_eq!(
        (st, e["field"].as_str()),
        (422, Some("destination_country")),
        "{e}"
    );
    let (st, e) = send(
        &adv,
        "POST",
        ret.url(""),
        with("requested_by", json!("uncle")),
    )
    .await;
    assert_eq!(
        (st, e["field"].as_str()),
        (422, Some("requested_by")),
        "{e}"
    );
    let (st, e) = send(&adv, "POST", ret.url(""), with("consent_id", json!(other))).await;
    assert_eq!(st, 422, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("another purpose"),
        "{e}"
    );
    let (st, e) = send(
        &adv,
        "POST",
        ret.url(""),
        with("requested_by", json!("guardian")),
    )
    .await;
    assert_eq!(
        st, 422,
        "an adult's return is the person's own request: {e}"
    );
    let (st, e) = send(
        &adv,
        "POST",
        ret.url(""),
        with("requested_on", json!(in_days(3).to_string())),
    )
    .await;
    assert_eq!(
        (st, e["field"].as_str()),
        (422, Some("requested_on")),
        "{e}"
    );
    assert_eq!(
        get(&adv, ret.url("")).await.0,
        404,
        "nothing written so far"
    );
    assert_eq!(send(&adv, "POST", ret.url(""), base.clone()).await.0, 201);
    assert_eq!(
        send(&adv, "POST", ret.url(""), base.clone()).await.0,
        409,
        "one live return per case"
    );

    // A high risk of persecution: approval refused (non-refoulement), nothing changes.
    let (st, e) = send(
        &adv,
        "POST",
        ret.url("/assessment"),
        json!({"persecution": "extreme", "re_trafficking": "low", "findings": "f"}),
    )
    .await;
    assert_eq!((st, e["field"].as_str()), (422, Some("persecution")), "{e}");
    let (st, e) = send(&adv, "POST", ret.url("/assessment"), json!({"persecution": "high", "re_trafficking": "low", "findings": "threats from the network against the family"})).await;
    assert_eq!(st, 201, "{e}");
    assert_eq!(ret.go(&adv, "assessed", json!({})).await.0, 200);
    let before = ret.view(&officer).await;
    assert_eq!(before["blockers"][0]["rule"], "non_refoulement");
    let (st, e) = ret.go(&officer, "approved", json!({})).await;
    assert_eq!(st, 422);
    assert!(rules_of(&e).contains(&"non_refoulement".to_owned()), "{e}");
    assert!(e["message"].as_str().unwrap().contains("asylum"), "{e}");
    let after = ret.view(&officer).await;
    assert_eq!(
        (after["stage"].clone(), after["version"].clone()),
        (json!("assessed"), before["version"].clone())
    );
    let (_, case) = get(&adv, app.url(&format!("/api/v1/cases/{reference}"))).await;
    assert_eq!(case["summary"]["stage"], "solution_planning");

    // Stale version, skipped stage, unknown stage, cancel without a reason.
    let (st, e) = send(
        &officer,
        "POST",
        ret.url("/move"),
        json!({"to": "approved", "version": 1}),
    )
    .await;
    assert_eq!(st, 409, "{e}");
    let (st, e) = ret.go(&adv, "departed", json!({})).await;
    assert_eq!(
        (st, rules_of(&e)),
        (422, vec!["stage_order".to_owned()]),
        "{e}"
    );
    let (st, e) = ret.go(&adv, "home", json!({})).await;
    assert_eq!((st, e["field"].as_str()), (422, Some("stage")), "{e}");
    let (st, e) = ret.go(&adv, "cancelled", json!({})).await;
    assert_eq!((st, e["field"].as_str()), (422, Some("reason")), "{e}");
    // Documents: expired, unknown kind; legs in the past; an answer to no request.
    let (st, e) = send(
        &adv,
        "POST",
        ret.url("/documents"),
        json!({"kind": "passport", "issued_by": "NG", "valid_until": in_days(-1).to_string()}),
    )
    .await;
    assert_eq!((st, e["field"].as_str()), (422, Some("valid_until")), "{e}");
    let (st, e) = send(
        &adv,
        "POST",
        ret.url("/documents"),
        json!({"kind": "visa", "issued_by": "NG", "valid_until": in_days(10).to_string()}),
    )
    .await;
    assert_eq!((st, e["field"].as_str()), (422, Some("kind")), "{e}");
    let (st, e) = send(
        &adv,
        "POST",
        ret.url("/legs"),
        json!({"travel_on": in_days(-2).to_string(), "from": "a", "to": "b"}),
    )
    .await;
    assert_eq!((st, e["field"].as_str()), (422, Some("travel_on")), "{e}");
    assert_eq!(
        send(
            &adv,
            "POST",
            ret.url("/citizenship/nosuch/answer"),
            json!({"answer": "confirmed"})
        )
        .await
        .0,
        404
    );
    let (st, e) = send(
        &adv,
        "PUT",
        ret.url("/reception"),
        json!({"receiving_org_id": w.shelter, "reception_on": in_days(5).to_string()}),
    )
    .await;
    assert_eq!(
        (st, e["field"].as_str()),
        (422, Some("receiving_org_id")),
        "{e}"
    );
    // The cancellation with its reason, then nothing more is recorded on it.
    let (st, _) = ret
        .go(
            &adv,
            "cancelled",
            json!({"reason": "the person will apply for asylum"}),
        )
        .await;
    assert_eq!(st, 200);
    let (st, e) = send(
        &adv,
        "PUT",
        ret.url("/counselling"),
        json!({"counselled_by": "x"}),
    )
    .await;
    assert_eq!(st, 409, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hearing_that_still_needs_the_person_holds_the_approval_until_a_live_link_is_granted() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "officer@ngo.test", "return_officer").await;
    let adv = app.api_login("advocate@ngo.test").await;
    let officer = app.api_login("officer@ngo.test").await;
    let reference = app.create_case(&adv, "Needed Witness").await;
    let ret = Ret {
        app: &app,
        reference: reference.clone(),
    };
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}{p}"));
    // A trial session in 60 days needs the person's testimony; departure planned in 30.
    let (st, p) = send(
        &adv,
        "POST",
        url("/proceedings"),
        json!({"court": "TJ Lyon", "jurisdiction": "Lyon",
        "case_number": "24/1", "charges": ["trafficking"], "person_role": "victim_witness"}),
    )
    .await;
    assert_eq!(st, 201, "{p}");
    let pid = p["id"].as_str().unwrap().to_owned();
    let (st, h) = send(&adv, "POST", url(&format!("/proceedings/{pid}/hearings")),
        json!({"kind": "trial_session", "held_on": in_days(60).to_string(), "testimony_required": true})).await;
    assert_eq!(st, 201);
    let hid = h["id"].as_str().unwrap().to_owned();
    assert_eq!(
        send(
            &adv,
            "PUT",
            url("/departure"),
            json!({"departure_on": in_days(30).to_string()})
        )
        .await
        .0,
        200
    );
    // A return ready for approval in every other respect.
    let k = consent(&app, &adv, &reference, "return_assistance").await;
    assert_eq!(
        send(
            &adv,
            "POST",
            ret.url(""),
            json!({"requested_by": "person", "consent_id": k,
        "explained_by": "counsellor", "destination_country": "NG"})
        )
        .await
        .0,
        201
    );
    assert_eq!(
        send(
            &adv,
            "POST",
            ret.url("/assessment"),
            json!({"persecution": "low", "re_trafficking": "low", "findings": "f"})
        )
        .await
        .0,
        201
    );
    assert_eq!(ret.go(&adv, "assessed", json!({})).await.0, 200);
    let (_, q) = send(
        &adv,
        "POST",
        ret.url("/citizenship"),
        json!({"authority": "Embassy"}),
    )
    .await;
    let qid = q["id"].as_str().unwrap();
    assert_eq!(
        send(
            &adv,
            "POST",
            ret.url(&format!("/citizenship/{qid}/answer")),
            json!({"answer": "confirmed"})
        )
        .await
        .0,
        200
    );
    // The return plan shows the conflict, and the approval is refused by its rule.
    let v = ret.view(&officer).await;
    assert_eq!(v["conflicts"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["conflicts"][0]["hearing_id"], hid.as_str());
    let (st, e) = ret.go(&officer, "approved", json!({})).await;
    assert_eq!(
        (st, rules_of(&e)),
        (422, vec!["trial_conflict".to_owned()]),
        "{e}"
    );
    // A live link from the country of origin, requested and granted, clears it.
    let (st, m) = send(
        &adv,
        "POST",
        url(&format!("/proceedings/{pid}/measures")),
        json!({"measure": "live_video_link", "hearing_id": hid}),
    )
    .await;
    assert_eq!(st, 201);
    let mid = m["id"].as_str().unwrap();
    assert_eq!(
        send(
            &adv,
            "POST",
            url(&format!("/measures/{mid}/decision")),
            json!({"decision": "grant", "authority": "court", "decision_reference": "TJ Lyon, ordonnance 26/14"})
        )
        .await
        .0,
        200
    );
    assert_eq!(ret.view(&officer).await["conflicts"], json!([]));
    let (st, e) = ret.go(&officer, "approved", json!({})).await;
    assert_eq!(st, 200, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_childs_return_needs_a_guardian_and_a_best_interests_determination() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "officer@ngo.test", "return_officer").await;
    let adv = app.api_login("advocate@ngo.test").await;
    let officer = app.api_login("officer@ngo.test").await;
    let r = adv
        .post(app.url("/api/v1/cases"))
        .json(&json!({"person": {"name": "Young Traveller", "birth_date": "2013-05-01", "nationality": "NG", "languages": "Edo"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let reference = r.json::<Value>().await.unwrap()["summary"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let ret = Ret {
        app: &app,
        reference: reference.clone(),
    };
    let k = consent(&app, &adv, &reference, "return_assistance").await;
    // A child's return may be asked by the guardian.
    let (st, e) = send(
        &adv,
        "POST",
        ret.url(""),
        json!({"requested_by": "guardian", "consent_id": k,
        "explained_by": "counsellor, with the guardian", "destination_country": "NG"}),
    )
    .await;
    assert_eq!(st, 201, "{e}");
    let v = ret.view(&adv).await;
    assert_eq!(v["child"], true);
    let ids: Vec<String> = checklist(&v).into_iter().map(|(id, _)| id).collect();
    assert!(
        ids.contains(&"guardian_appointed".to_owned())
            && ids.contains(&"best_interests_determination".to_owned()),
        "{ids:?}"
    );
    assert_eq!(
        send(
            &adv,
            "POST",
            ret.url("/assessment"),
            json!({"persecution": "low", "re_trafficking": "low", "findings": "aunt in Benin City"})
        )
        .await
        .0,
        201
    );
    assert_eq!(ret.go(&adv, "assessed", json!({})).await.0, 200);
    let (_, q) = send(
        &adv,
        "POST",
        ret.url("/citizenship"),
        json!({"authority": "Embassy"}),
    )
    .await;
    let qid = q["id"].as_str().unwrap();
    assert_eq!(
        send(
            &adv,
            "POST",
            ret.url(&format!("/citizenship/{qid}/answer")),
            json!({"answer": "confirmed"})
        )
        .await
        .0,
        200
    );
    let (st, e) = ret.go(&officer, "approved", json!({})).await;
    let rules = rules_of(&e);
    assert_eq!(st, 422);
    for r in ["child_guardian", "best_interests"] {
        assert!(rules.contains(&r.to_owned()), "{r}: {e}");
    }
    // Half an answer is refused; the whole one is recorded.
    let (st, e) = send(
        &adv,
        "PUT",
        ret.url("/child-safeguards"),
        json!({"best_interests_on": in_days(-1).to_string()}),
    )
    .await;
    assert_eq!(
        (st, e["field"].as_str()),
        (422, Some("best_interests_by")),
        "{e}"
    );
    let (st, _) = send(&adv, "PUT", ret.url("/child-safeguards"), json!({"guardian": "Ms Eze, ad hoc administrator",
        "best_interests_on": in_days(-1).to_string(), "best_interests_by": "Juge des enfants, Lyon"})).await;
    assert_eq!(st, 200);
    // The page renders the child's section.
    let html = app.html_login("advocate@ngo.test").await;
    let page = html
        .get(app.url(&format!("/cases/{reference}/return")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("id=\"child-guardian\"") && page.contains("Ms Eze, ad hoc administrator"),
        "{page}"
    );
    let (st, e) = ret.go(&officer, "approved", json!({})).await;
    assert_eq!(st, 200, "{e}");
    // An escort on every leg before booking.
    assert_eq!(
        send(
            &adv,
            "POST",
            ret.url("/documents"),
            json!({"kind": "passport", "issued_by": "NG", "valid_until": in_days(300).to_string()})
        )
        .await
        .0,
        201
    );
    assert_eq!(ret.go(&adv, "documents_ready", json!({})).await.0, 200);
    assert_eq!(
        send(
            &adv,
            "POST",
            ret.url("/legs"),
            json!({"travel_on": in_days(15).to_string(), "from": "Lyon", "to": "Lagos"})
        )
        .await
        .0,
        201
    );
    assert_eq!(
        send(
            &adv,
            "PUT",
            ret.url("/reception"),
            json!({"receiving_org_id": w.origin, "reception_on": in_days(15).to_string()})
        )
        .await
        .0,
        200
    );
    let (st, e) = ret.go(&adv, "travel_booked", json!({})).await;
    assert_eq!(
        (st, rules_of(&e)),
        (422, vec!["child_escort".to_owned()]),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_during_the_recovery_period_says_so_and_goes_ahead_only_at_the_persons_request() {
    let app = spawn_app().await;
    app.world().await;
    let adv = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&adv, "Still Recovering").await;
    // Reasonable grounds two days ago: the recovery and reflection period runs.
    let (st, e) = send(&adv, "POST", app.url(&format!("/api/v1/cases/{reference}/determinations/trafficking")),
        json!({"status": "presumed", "deciding_body": "police", "decided_on": in_days(-2).to_string(), "basis": "interview"})).await;
    assert_eq!(st, 201, "{e}");
    let ret = Ret {
        app: &app,
        reference: reference.clone(),
    };
    let k = consent(&app, &adv, &reference, "return_assistance").await;
    assert_eq!(
        send(
            &adv,
            "POST",
            ret.url(""),
            json!({"requested_by": "person", "consent_id": k,
        "explained_by": "counsellor", "destination_country": "NG"})
        )
        .await
        .0,
        201
    );
    let v = ret.view(&adv).await;
    assert_eq!(v["during_recovery_period"], true, "the case says so");
    assert_eq!(
        send(
            &adv,
            "POST",
            ret.url("/assessment"),
            json!({"persecution": "low", "re_trafficking": "low", "findings": "f"})
        )
        .await
        .0,
        201
    );
    assert_eq!(
        ret.go(&adv, "assessed", json!({})).await.0,
        200,
        "the person's own request goes ahead"
    );
    // The page says it too.
    let html = app.html_login("advocate@ngo.test").await;
    let page = html
        .get(app.url(&format!("/cases/{reference}/return")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"recovery-banner\""), "{page}");
}
