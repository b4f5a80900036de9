//! A person's return walked through the API up to the arrival and the hand-over, for the
//! tests of what comes after (follow-up, alerts, closing). Each step asserts its answer,
//! so a test that uses it fails at the step that broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::{TestApp, get_json as get, in_days, send_json as send};
use reqwest::Client;
use serde_json::{Value, json};

/// Record a consent of this purpose; its id.
pub async fn consent(app: &TestApp, c: &Client, reference: &str, purpose: &str) -> String {
    consent_with(app, c, reference, json!({"purpose": purpose})).await
}

/// Record a consent with these fields (`purpose` and any others); its id.
pub async fn consent_with(app: &TestApp, c: &Client, reference: &str, fields: Value) -> String {
    let mut body = json!({"given_by": "person", "language": "Edo", "form_version": "v3"});
    if let (Some(b), Some(f)) = (body.as_object_mut(), fields.as_object()) {
        b.extend(f.clone());
    }
    let (st, v) = send(
        c,
        "POST",
        app.url(&format!("/api/v1/cases/{reference}/consents")),
        body,
    )
    .await;
    assert_eq!(st, 201, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

/// The return of one case, through `/api/v1/cases/{reference}/return`.
pub struct Ret<'a> {
    pub app: &'a TestApp,
    pub reference: String,
}

impl Ret<'_> {
    pub fn url(&self, p: &str) -> String {
        self.app
            .url(&format!("/api/v1/cases/{}/return{p}", self.reference))
    }
    pub async fn view(&self, c: &Client) -> Value {
        let (st, v) = get(c, self.url("")).await;
        assert_eq!(st, 200, "{v}");
        v
    }
    /// Move the return to `to` at its current version, with `extra` fields.
    pub async fn go(&self, c: &Client, to: &str, extra: Value) -> (u16, Value) {
        let v = self.view(c).await;
        let mut body = json!({"to": to, "version": v["version"]});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        send(c, "POST", self.url("/move"), body).await
    }
}

/// Requirements the return's own sections meet (not recorded as checks).
const OWN_SECTION: &[&str] = &[
    "informed_consent",
    "risk_assessment",
    "citizenship_confirmed",
    "travel_document",
    "reception_arranged",
    "guardian_appointed",
    "best_interests_determination",
];

/// Record every check of the jurisdiction's checklist that is not met yet (a plugin may
/// add its own, such as an ad hoc administrator for a child).
async fn record_checks(adv: &Client, ret: &Ret<'_>) {
    let v = ret.view(adv).await;
    let open: Vec<String> = v["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["met"] == false && !OWN_SECTION.contains(&i["id"].as_str().unwrap()))
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    for id in open {
        let (st, v) = send(
            adv,
            "POST",
            ret.url("/checks"),
            json!({"requirement": id, "note": "done with the person"}),
        )
        .await;
        assert!(st == 200 || st == 201, "check {id}: {st} {v}");
    }
}

/// Take a case's return to `travel_booked` (its leg `days` from now, the reception by
/// `origin`), with a counselling session: ready to depart. The advocate `adv` works on it
/// and the return officer `officer` approves; a child's return is asked by the guardian,
/// with the child's safeguards, and the jurisdiction's own checks are recorded. Returns
/// the leg's id.
pub async fn booked(
    app: &TestApp,
    adv: &Client,
    officer: &Client,
    ret: &Ret<'_>,
    origin: i64,
    days: i64,
) -> String {
    let k = consent(app, adv, &ret.reference, "return_assistance").await;
    let (st, case) = get(adv, app.url(&format!("/api/v1/cases/{}", ret.reference))).await;
    assert_eq!(st, 200, "{case}");
    let child = case["person"]["is_child"] == true;
    let (st, v) = send(
        adv,
        "POST",
        ret.url(""),
        json!({"requested_by": if child { "guardian" } else { "person" }, "consent_id": k,
            "explained_by": "Ms Obi", "destination_country": "NG",
            "requested_on": in_days(-10).to_string()}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    if child {
        let (st, v) = send(adv, "PUT", ret.url("/child-safeguards"), json!({"guardian": "Ms Eze, ad hoc administrator",
            "best_interests_on": in_days(-1).to_string(), "best_interests_by": "Juge des enfants, Lyon"})).await;
        assert_eq!(st, 200, "{v}");
    }
    let (st, v) = send(
        adv,
        "POST",
        ret.url("/assessment"),
        json!({"persecution": "low", "re_trafficking": "low", "findings": "family in Benin City"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(ret.go(adv, "assessed", json!({})).await.0, 200);
    let (st, q) = send(
        adv,
        "POST",
        ret.url("/citizenship"),
        json!({"authority": "Embassy of Nigeria"}),
    )
    .await;
    assert_eq!(st, 201, "{q}");
    let qid = q["id"].as_str().unwrap();
    let (st, v) = send(
        adv,
        "POST",
        ret.url(&format!("/citizenship/{qid}/answer")),
        json!({"answer": "confirmed"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    record_checks(adv, ret).await;
    let (st, v) = ret.go(officer, "approved", json!({})).await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = send(adv, "POST", ret.url("/documents"), json!({"kind": "laissez_passer",
        "issued_by": "Embassy of Nigeria", "number": "LP-1", "valid_until": in_days(200).to_string()})).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(ret.go(adv, "documents_ready", json!({})).await.0, 200);
    let (st, leg) = send(
        adv,
        "POST",
        ret.url("/legs"),
        json!({"travel_on": in_days(days).to_string(), "from": "Paris CDG", "to": "Lagos", "escort": "Mr Adeyemi"}),
    )
    .await;
    assert_eq!(st, 201, "{leg}");
    let (st, v) = send(
        adv,
        "PUT",
        ret.url("/reception"),
        json!({"receiving_org_id": origin, "reception_on": in_days(days).to_string()}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    record_checks(adv, ret).await;
    let (st, v) = ret.go(adv, "travel_booked", json!({})).await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = send(
        adv,
        "PUT",
        ret.url("/counselling"),
        json!({"counselled_by": "Ms Obi"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    leg["id"].as_str().unwrap().to_owned()
}

/// A new case of `name` taken through its return to the arrival today, handed over to
/// `origin` with these sections on a reintegration consent recorded with
/// `consent_fields` (e.g. `{"share_alert_details": true}`). Returns the reference and the
/// reintegration consent's id.
pub async fn arrived(
    app: &TestApp,
    adv: &Client,
    officer: &Client,
    origin: i64,
    name: &str,
    sections: &[&str],
    consent_fields: Value,
) -> (String, String) {
    let reference = app.create_case(adv, name).await;
    arrive(
        app,
        adv,
        officer,
        origin,
        reference,
        sections,
        consent_fields,
    )
    .await
}

/// The same for a case already created (e.g. a child's).
pub async fn arrive(
    app: &TestApp,
    adv: &Client,
    officer: &Client,
    origin: i64,
    reference: String,
    sections: &[&str],
    consent_fields: Value,
) -> (String, String) {
    let ret = Ret {
        app,
        reference: reference.clone(),
    };
    booked(app, adv, officer, &ret, origin, 0).await;
    record_checks(adv, &ret).await;
    let (st, v) = ret.go(adv, "departed", json!({})).await;
    assert_eq!(st, 200, "{v}");
    let mut fields = json!({"purpose": "reintegration"});
    if let (Some(b), Some(e)) = (fields.as_object_mut(), consent_fields.as_object()) {
        b.extend(e.clone());
    }
    let k = consent_with(app, adv, &reference, fields).await;
    let (st, v) = ret
        .go(
            adv,
            "received",
            json!({"handover_consent_id": k, "handover_sections": sections}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    (reference, k)
}
