//! Protection at trial through HTTP: proceedings, hearings, measures, the planned
//! departure and the conflicts between them; the jurisdiction's catalogue; bad input;
//! who may see and record the legal track.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_tests::{
    TestApp, contains, in_days, send_json, spawn_app, spawn_app_with_example_plugins,
};
use reqwest::Client;
use serde_json::{Value, json};

async fn post(c: &Client, url: String, body: Value) -> (u16, Value) {
    send_json(c, "POST", url, body).await
}

async fn put(c: &Client, url: String, body: Value) -> u16 {
    send_json(c, "PUT", url, body).await.0
}

async fn get(c: &Client, url: String) -> Value {
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// A proceeding with one trial session in 60 days that needs the person's testimony.
async fn proceeding_with_trial(app: &TestApp, c: &Client, reference: &str) -> (String, String) {
    let (st, v) = post(
        c,
        app.url(&format!("/api/v1/cases/{reference}/proceedings")),
        json!({"court": "Tribunal judiciaire de Lyon", "jurisdiction": "Lyon", "case_number": "TJ-24/0917",
               "charges": ["trafficking", "related_offence"], "person_role": "victim_witness",
               "prosecutor": "Parquet de Lyon, section JIRS", "investigator": "OCRTEH, Lt. Martin"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let pid = v["id"].as_str().unwrap().to_owned();
    let (st, v) = post(
        c,
        app.url(&format!(
            "/api/v1/cases/{reference}/proceedings/{pid}/hearings"
        )),
        json!({"kind": "trial_session", "held_on": in_days(60).to_string(), "testimony_required": true}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    (pid, v["id"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_departure_before_a_trial_session_conflicts_until_a_live_link_is_granted() {
    let app = spawn_app().await;
    app.world().await;
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Witness Person").await;
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}{p}"));
    let (pid, hid) = proceeding_with_trial(&app, &api, &reference).await;

    // The prosecutor needs the person's cooperation; the advocate attends the first interview.
    let r = api
        .put(url(&format!("/proceedings/{pid}/cooperation")))
        .json(&json!({"required": true, "decided_by": "Public prosecutor, Lyon", "advocate_at_first_interview": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = api
        .put(url(&format!("/proceedings/{pid}/cooperation")))
        .json(&json!({"required": true, "decided_by": " ", "decided_on": in_days(2).to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        422,
        "who decided is required, and not in the future"
    );

    // No departure planned: no conflict.
    let v = get(&api, url("/proceedings")).await;
    assert_eq!(v["proceedings"][0]["cooperation_required"], true);
    assert_eq!(
        v["proceedings"][0]["cooperation_decided_by"],
        "Public prosecutor, Lyon"
    );
    assert_eq!(
        v["proceedings"][0]["cooperation_decided_on"],
        in_days(0).to_string()
    );
    assert_eq!(v["proceedings"][0]["advocate_at_first_interview"], true);
    assert_eq!(v["conflicts"], json!([]));
    assert_eq!(v["proceedings"][0]["court"], "Tribunal judiciaire de Lyon");
    assert_eq!(
        v["proceedings"][0]["charges"],
        json!(["trafficking", "related_offence"])
    );
    assert_eq!(
        v["proceedings"][0]["hearings"][0]["testimony_mode"],
        "in_person"
    );
    let ids: Vec<&str> = v["catalogue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            "video_recorded_testimony",
            "live_video_link",
            "screens",
            "in_camera",
            "identity_protection",
            "non_punishment",
            "physical_protection"
        ],
        "the seed's §30 list"
    );

    // A departure in 30 days, before the trial session: a conflict, with what to request by when.
    assert_eq!(
        put(
            &api,
            url("/departure"),
            json!({"departure_on": in_days(30).to_string()})
        )
        .await,
        200
    );
    let v = get(&api, url("/proceedings")).await;
    let conflicts = v["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{v}");
    let c = &conflicts[0];
    assert_eq!(c["hearing_id"], hid);
    assert_eq!(c["hearing_on"], in_days(60).to_string());
    assert_eq!(c["departure_on"], in_days(30).to_string());
    let alt = |m: &str| {
        c["alternatives"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["measure"] == m)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        alt("live_video_link")["request_by"],
        in_days(46).to_string(),
        "hearing − 14 days"
    );
    assert_eq!(
        alt("video_recorded_testimony")["request_by"],
        in_days(16).to_string(),
        "a recording must be made before the departure"
    );
    assert_eq!(c["act_by"], in_days(16).to_string());
    assert_eq!(v["proceedings"][0]["hearings"][0]["conflict"], true);

    // The advocate's deadlines carry it, pointing at the proceedings.
    let d = get(&api, app.url("/api/v1/deadlines")).await;
    let conflict_deadlines: Vec<&Value> = d["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["kind"] == "hearing_conflict")
        .collect();
    assert_eq!(conflict_deadlines.len(), 1, "{d}");
    assert_eq!(conflict_deadlines[0]["reference"], reference);
    assert_eq!(conflict_deadlines[0]["due_on"], in_days(16).to_string());

    // Requesting the live link leaves the conflict open, showing the pending request.
    let (st, v) = post(
        &api,
        url(&format!("/proceedings/{pid}/measures")),
        json!({"measure": "live_video_link", "hearing_id": hid}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let mid = v["id"].as_str().unwrap().to_owned();
    let v = get(&api, url("/proceedings")).await;
    assert_eq!(v["conflicts"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["conflicts"][0]["alternatives"][1]["pending_request"],
        mid.as_str()
    );

    // Granting it clears the conflict; the hearing is now by live link.
    let (st, v) = post(
        &api,
        url(&format!("/measures/{mid}/decision")),
        json!({"decision": "grant", "authority": "court", "decision_reference": "TJ Lyon, ordonnance 26/14"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], "granted");
    let v = get(&api, url("/proceedings")).await;
    assert_eq!(v["conflicts"], json!([]), "{v}");
    let h = &v["proceedings"][0]["hearings"][0];
    assert_eq!(h["testimony_mode"], "live_video_link");
    assert_eq!(h["measures"], json!(["live_video_link"]));
    assert_eq!(h["conflict"], false);
    let d = get(&api, app.url("/api/v1/deadlines")).await;
    assert!(
        !d["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "hearing_conflict")
    );

    // Withdrawing the granted measure brings the conflict back.
    let (st, _) = post(
        &api,
        url(&format!("/measures/{mid}/decision")),
        json!({"decision": "withdraw"}),
    )
    .await;
    assert_eq!(st, 200);
    let v = get(&api, url("/proceedings")).await;
    assert_eq!(v["conflicts"].as_array().unwrap().len(), 1);

    // The case page shows the conflict too.
    let html = app.html_login("advocate@ngo.test").await;
    let page = html
        .get(app.url(&format!("/cases/{reference}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"case-conflicts\""), "{page}");
    assert!(page.contains(&in_days(60).to_string()));
    // And the proceedings page, in French, with the alternatives to request.
    let r = html
        .get(app.url(&format!("/cases/{reference}/proceedings")))
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("Conflits avec le départ prévu"), "{page}");
    assert!(page.contains("class=\"conflict\""), "{page}");
    assert!(
        page.contains("Liaison vidéo en direct depuis le pays d&#x27;origine")
            || page.contains("Liaison vidéo en direct depuis le pays d'origine"),
        "{page}"
    );
    assert!(
        page.contains(&format!("/cases/{reference}/proceedings/{pid}/measures")),
        "{page}"
    );
    assert!(
        page.contains(&format!("data-measure-request=\"{mid}\"")) && page.contains("retirée"),
        "{page}"
    );

    // The audit trail has each read of the proceedings (five API reads, one from the
    // deadlines while the conflict was open, one from the case page) and each write.
    let trail = get(&api, url("/audit")).await;
    let entries: Vec<&Value> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["section"] == "proceedings")
        .collect();
    let count = |action: &str, route: Option<&str>| {
        entries
            .iter()
            .filter(|e| e["action"] == action && route.is_none_or(|r| e["route"] == r))
            .count()
    };
    let api_reads = count("read", Some("GET /api/v1/cases/{reference}/proceedings"));
    assert_eq!(api_reads, 5, "{entries:?}");
    assert_eq!(
        count("read", Some("GET /api/v1/deadlines")),
        1,
        "{entries:?}"
    );
    assert_eq!(
        count("read", Some("GET /cases/{reference}")),
        1,
        "{entries:?}"
    );
    assert_eq!(
        count("create", None),
        4,
        "proceeding, hearing, departure, measure"
    );
    assert_eq!(count("update", None), 3, "cooperation, grant, withdrawal");
    // Nothing of the court file is stored in clear.
    let raw = app.raw_database_bytes().await;
    for secret in ["Tribunal judiciaire de Lyon", "TJ-24/0917", "OCRTEH"] {
        assert!(!contains(&raw, secret), "{secret} stored in clear");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_french_jurisdiction_has_its_own_catalogue_and_refuses_what_it_does_not_allow() {
    let app = spawn_app_with_example_plugins().await;
    app.world().await;
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Temoin Francais").await;
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}{p}"));
    let (pid, hid) = proceeding_with_trial(&app, &api, &reference).await;
    let v = get(&api, url("/proceedings?lang=fr")).await;
    assert!(
        v["jurisdiction"]
            .as_str()
            .unwrap()
            .contains("fr-jurisdiction"),
        "{}",
        v["jurisdiction"]
    );
    let ids: Vec<&str> = v["catalogue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"anonymous_testimony"), "{ids:?}");
    assert!(!ids.contains(&"live_video_link"), "{ids:?}");
    assert!(!ids.contains(&"screens"), "{ids:?}");

    // A live link is not in this catalogue: refused, saying what is allowed.
    let (st, v) = post(
        &api,
        url(&format!("/proceedings/{pid}/measures")),
        json!({"measure": "live_video_link", "hearing_id": hid}),
    )
    .await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["error"], "refused", "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains("not available in this jurisdiction") && msg.contains("anonymous_testimony"),
        "{msg}"
    );
    let v = get(&api, url("/proceedings")).await;
    assert_eq!(
        v["proceedings"][0]["measures"],
        json!([]),
        "nothing written"
    );

    // With a departure before the trial, the only alternative offered is the recording.
    assert_eq!(
        put(
            &api,
            url("/departure"),
            json!({"departure_on": in_days(40).to_string()})
        )
        .await,
        200
    );
    let v = get(&api, url("/proceedings")).await;
    let alts: Vec<&str> = v["conflicts"][0]["alternatives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["measure"].as_str().unwrap())
        .collect();
    assert_eq!(alts, vec!["video_recorded_testimony"]);
    // Anonymous testimony is allowed here, and does not clear the conflict.
    let (st, v) = post(
        &api,
        url(&format!("/proceedings/{pid}/measures")),
        json!({"measure": "anonymous_testimony"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let mid = v["id"].as_str().unwrap().to_owned();
    let (st, _) = post(
        &api,
        url(&format!("/measures/{mid}/decision")),
        json!({"decision": "grant", "authority": "court", "decision_reference": "TJ Lyon, ordonnance 26/14"}),
    )
    .await;
    assert_eq!(st, 200);
    let v = get(&api, url("/proceedings")).await;
    assert_eq!(v["conflicts"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["proceedings"][0]["hearings"][0]["testimony_mode"],
        "in_person_protected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_4xx_and_writes_nothing() {
    let app = spawn_app().await;
    app.world().await;
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Careful Person").await;
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}{p}"));
    let (pid, hid) = proceeding_with_trial(&app, &api, &reference).await;

    // Missing field, wrong type, unknown vocabulary, no charge.
    let (st, v) = post(
        &api,
        url("/proceedings"),
        json!({"jurisdiction": "x", "case_number": "1", "person_role": "witness"}),
    )
    .await;
    assert_eq!(st, 400, "{v}");
    assert!(v["message"].as_str().unwrap().contains("court"), "{v}");
    let (st, v) = post(
        &api,
        url(&format!("/proceedings/{pid}/hearings")),
        json!({"kind": "trial_session", "held_on": "2027-01-01", "testimony_required": "yes"}),
    )
    .await;
    assert_eq!(st, 400, "{v}");
    let (st, v) = post(
        &api,
        url(&format!("/proceedings/{pid}/hearings")),
        json!({"kind": "picnic", "held_on": "2027-01-01"}),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("kind")), "{v}");
    let (st, v) = post(
        &api,
        url(&format!("/proceedings/{pid}/hearings")),
        json!({"kind": "deposition", "held_on": "01/02/2027"}),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("held_on")), "{v}");
    let (st, v) = post(&api, url("/proceedings"), json!({"court": "C", "jurisdiction": "J", "case_number": "N", "person_role": "witness", "charges": []})).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("charges")), "{v}");

    // A grant without a request: an unknown request is 404, a decided one 409.
    let (st, v) = post(
        &api,
        url("/measures/nosuchrequest/decision"),
        json!({"decision": "grant", "authority": "court", "decision_reference": "TJ Lyon, ordonnance 26/14"}),
    )
    .await;
    assert_eq!(st, 404, "{v}");
    let requested_on = in_days(-3).to_string();
    let (st, v) = post(
        &api,
        url(&format!("/proceedings/{pid}/measures")),
        json!({"measure": "screens", "hearing_id": hid, "requested_on": requested_on}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let mid = v["id"].as_str().unwrap().to_owned();
    // A decision dated before its request.
    let (st, v) = post(
        &api,
        url(&format!("/measures/{mid}/decision")),
        json!({"decision": "grant", "authority": "court", "decision_reference": "TJ Lyon, ordonnance 26/14", "decided_on": in_days(-5).to_string()}),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("decided_on")), "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("before its request"),
        "{v}"
    );
    // A refusal without a reason.
    let (st, v) = post(
        &api,
        url(&format!("/measures/{mid}/decision")),
        json!({"decision": "refuse", "authority": "court", "decision_reference": "TJ Lyon, ordonnance 26/14"}),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("reason")), "{v}");
    // The same measure twice for the same hearing.
    let (st, _) = post(
        &api,
        url(&format!("/proceedings/{pid}/measures")),
        json!({"measure": "screens", "hearing_id": hid}),
    )
    .await;
    assert_eq!(st, 409);
    let (st, v) = post(
        &api,
        url(&format!("/measures/{mid}/decision")),
        json!({"decision": "refuse", "authority": "court", "decision_reference": "TJ Lyon, ordonnance 26/14", "reason": "the accused has no contact with the witness"}),
    )
    .await;
    assert_eq!((st, v["status"].as_str()), (200, Some("refused")), "{v}");
    let (st, v) = post(
        &api,
        url(&format!("/measures/{mid}/decision")),
        json!({"decision": "grant", "authority": "court", "decision_reference": "TJ Lyon, ordonnance 26/14"}),
    )
    .await;
    assert_eq!(st, 409, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("request it first"),
        "{v}"
    );
    // A hearing of another proceeding, or an unknown one, for a request.
    let (st, v) = post(
        &api,
        url(&format!("/proceedings/{pid}/measures")),
        json!({"measure": "in_camera", "hearing_id": "elsewhere"}),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("hearing_id")), "{v}");

    // Closing says why: without a reason nothing is closed.
    let (st, v) = post(&api, url(&format!("/proceedings/{pid}/close")), json!({})).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("reason")), "{v}");
    // A hearing in a closed proceeding.
    let (st, v) = post(
        &api,
        url(&format!("/proceedings/{pid}/close")),
        json!({"reason": "final judgment delivered"}),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(v["close_reason"], "final judgment delivered", "{v}");
    let (st, v) = post(
        &api,
        url(&format!("/proceedings/{pid}/hearings")),
        json!({"kind": "judgment", "held_on": in_days(90).to_string()}),
    )
    .await;
    assert_eq!(st, 409, "{v}");
    assert!(v["message"].as_str().unwrap().contains("closed"), "{v}");
    // The page says it in French.
    let html = app.html_login("advocate@ngo.test").await;
    let token = app.csrf(&html).await;
    let r = html
        .post(app.url(&format!("/cases/{reference}/proceedings/{pid}/hearings")))
        .header("Accept-Language", "fr")
        .form(&[
            ("_csrf", token.as_str()),
            ("kind", "judgment"),
            ("held_on", &in_days(90).to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let body = r.text().await.unwrap();
    assert!(body.contains("cette procédure est close"), "{body}");
    // Unknown proceeding.
    let (st, _) = post(
        &api,
        url("/proceedings/nosuch/hearings"),
        json!({"kind": "judgment", "held_on": in_days(90).to_string()}),
    )
    .await;
    assert_eq!(st, 404);

    // None of the refused writes left anything behind: one hearing, one measure.
    let v = get(&api, url("/proceedings")).await;
    assert_eq!(v["proceedings"].as_array().unwrap().len(), 1);
    assert_eq!(v["proceedings"][0]["open"], false);
    assert_eq!(v["proceedings"][0]["hearings"].as_array().unwrap().len(), 1);
    assert_eq!(v["proceedings"][0]["measures"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["proceedings"][0]["measures"][0]["reason"],
        "the accused has no contact with the witness"
    );
    // A closed proceeding raises no conflict.
    assert_eq!(
        put(
            &api,
            url("/departure"),
            json!({"departure_on": in_days(10).to_string()})
        )
        .await,
        200
    );
    let v = get(&api, url("/proceedings")).await;
    assert_eq!(v["conflicts"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_the_advocate_and_a_criminal_proceedings_share_see_the_legal_track() {
    let app = spawn_app().await;
    let w = app.world().await;
    let police = app.org("Brigade", "law_enforcement", "FR").await;
    app.user(police, "officer@police.test", "advocate").await;
    app.user(w.shelter, "coord@shelter.test", "shelter_coordinator")
        .await;
    app.user(w.ngo, "auditor@ngo.test", "auditor").await;
    app.user(w.ngo, "returns@ngo.test", "return_officer").await;
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Guarded Person").await;
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}{p}"));
    let (pid, _) = proceeding_with_trial(&app, &api, &reference).await;
    // Shared with the police for criminal proceedings, with the shelter for shelter.
    for (org, purpose) in [(police, "criminal_proceedings"), (w.shelter, "shelter")] {
        let (st, consent) = post(&api, url("/consents"), json!({"purpose": purpose, "given_by": "person", "language": "en", "form_version": "v1"})).await;
        assert_eq!(st, 201);
        let (st, v) = post(
            &api,
            url("/shares"),
            json!({"org_id": org, "purpose": purpose, "consent_id": consent["id"]}),
        )
        .await;
        assert_eq!(st, 201, "{v}");
    }
    let hearing = json!({"kind": "deposition", "held_on": in_days(20).to_string(), "presence_required": true});
    for (who, view, edit) in [
        ("returns@ngo.test", 200, 403),    // owner, caseworker
        ("auditor@ngo.test", 403, 403),    // owner, not a caseworker
        ("officer@police.test", 200, 403), // shared for criminal proceedings
        ("coord@shelter.test", 403, 403),  // shared for another purpose
    ] {
        let c = app.api_login(who).await;
        let r = c.get(url("/proceedings")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), view, "{who} view");
        assert_eq!(r.headers()["cache-control"], "no-store", "{who}");
        let (st, _) = post(
            &c,
            url(&format!("/proceedings/{pid}/hearings")),
            hearing.clone(),
        )
        .await;
        assert_eq!(st, edit, "{who} edit");
    }
    // Another organisation: the case does not exist.
    app.user(w.returns, "agent@returns.test", "return_officer")
        .await;
    let c = app.api_login("agent@returns.test").await;
    assert_eq!(
        c.get(url("/proceedings")).send().await.unwrap().status(),
        404
    );
    // Signed out: 401 on the API, the sign-in page on HTML.
    let anon = passerelle_tests::client();
    assert_eq!(
        anon.get(url("/proceedings")).send().await.unwrap().status(),
        401
    );
    let r = anon
        .get(app.url(&format!("/cases/{reference}/proceedings")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // Only the advocate's one hearing exists.
    let v = get(&api, url("/proceedings")).await;
    assert_eq!(v["proceedings"][0]["hearings"].as_array().unwrap().len(), 1);
}
