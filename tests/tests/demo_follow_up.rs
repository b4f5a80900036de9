//! The demo world shows the follow-up after return (`passerelle::demo::seed`): returned
//! persons in Nigeria and in Romania, followed up by the origin services' officers, read
//! over HTTP as they and the destination advocate read them: the visits done and missed,
//! two assessments with the trend on the second, the reintegration plan, and an open
//! re-trafficking alert that reaches the person's advocate in France as its category and
//! severity only.
//!
//! Run: `cargo test -p passerelle-tests --test demo_follow_up -- --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle::demo::{DEMO_PASSWORD, DemoAccount};
use passerelle_tests::{TestApp, client, get_json as get, in_days, spawn_demo_app};
use reqwest::Client;
use serde_json::{Value, json};

/// Sign in through the JSON API with the demo password: the client and who signed in.
async fn sign_in(app: &TestApp, email: &str) -> (Client, Value) {
    let c = client();
    let r = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "sign-in of {email}");
    let me: Value = r.json().await.unwrap();
    (c, me)
}

fn items(v: &Value) -> &Vec<Value> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {v}"))
}

/// An assessment's scores, as read: "(economic, social, psychosocial, composite) on date".
fn scores(a: &Value) -> String {
    let s = &a["scores"];
    let f = |v: &Value| v.as_f64().map_or("-".to_owned(), |x| format!("{x:.2}"));
    format!(
        "({}, {}, {}, {}) on {}",
        f(&s["economic"]["score"]),
        f(&s["social"]["score"]),
        f(&s["psychosocial"]["score"]),
        f(&s["composite"]),
        a["assessed_on"].as_str().unwrap_or("?")
    )
}

fn account<'a>(accounts: &'a [DemoAccount], role: &str, org: &str) -> &'a DemoAccount {
    accounts
        .iter()
        .find(|a| a.role == role && a.org == org)
        .unwrap_or_else(|| panic!("no demo {role} at {org}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_shows_the_follow_up_after_return_in_nigeria_and_romania() {
    let (app, accounts) = spawn_demo_app().await;
    let today = in_days(0).to_string();
    let mut trends = Vec::new();
    let mut alert = None;
    for org in ["Edo Reintegration Service", "Centrul Speranța"] {
        let officer = account(&accounts, "follow_up_officer", org);
        let (c, _) = sign_in(&app, officer.email).await;

        // The visits that need the officer: the case handed over to the service, with a
        // visit missed since the last contact or one overdue.
        let (st, due) = get(&c, app.url("/api/v1/follow-up/visits")).await;
        assert_eq!(st, 200, "{due}");
        let due = items(&due);
        assert!(!due.is_empty(), "{org}: no visit needs the officer");
        let reference = due[0]["reference"].as_str().unwrap().to_owned();
        assert!(
            due.iter().all(|v| v["reference"] == reference.as_str()),
            "{org} follows up one demo case: {due:?}"
        );
        assert!(
            due.iter()
                .any(|v| v["status"] == "missed" || v["overdue"] == true),
            "{org}: {due:?}"
        );

        // The follow-up itself: the arrival months ago, visits done and missed, two
        // assessments with the trend on the second, a plan.
        let (st, f) = get(&c, app.url(&format!("/api/v1/cases/{reference}/follow-up"))).await;
        assert_eq!(st, 200, "{f}");
        assert_eq!(f["org"], org, "{f}");
        assert_eq!(f["stage"], "follow_up", "{f}");
        let arrived = f["arrived_on"].as_str().unwrap();
        assert!(arrived < in_days(-60).to_string().as_str(), "{arrived}");
        let visits = f["visits"].as_array().unwrap();
        let with = |status: &str| visits.iter().filter(|v| v["status"] == status).count();
        assert!(
            with("done") >= 1 && with("missed") >= 1,
            "{org}: {visits:?}"
        );
        assert!(with("planned") >= 1, "visits still to come: {visits:?}");
        for v in visits.iter().filter(|v| v["status"] != "planned") {
            let on = v["happened_on"].as_str().unwrap();
            assert!(arrived <= on && on <= today.as_str(), "{v}");
        }
        let assessments = f["assessments"].as_array().unwrap();
        assert_eq!(assessments.len(), 2, "{org}: {assessments:?}");
        assert!(assessments[0]["trend"].is_null(), "{}", assessments[0]);
        let trend = &assessments[1]["trend"];
        assert!(
            trend.is_object(),
            "no trend on the second: {}",
            assessments[1]
        );
        let delta = trend["composite"]["delta"].as_f64().unwrap();
        assert_ne!(trend["composite"]["direction"], "stable", "{trend}");
        trends.push(delta);
        assert!(
            assessments
                .iter()
                .all(|a| a["note"].as_str().unwrap().contains("Fictional")),
            "{assessments:?}"
        );
        let raised: Vec<&Value> = f["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["category"] == "trafficker_or_recruiter_contact")
            .collect();
        eprintln!(
            "{org}: {reference}, arrived {arrived}; visits {}; scores (economic, social, psychosocial, composite) {} then {}; plan {}; alerts {}",
            visits
                .iter()
                .map(|v| format!(
                    "{} {}{}",
                    v["due_on"].as_str().unwrap(),
                    v["status"].as_str().unwrap(),
                    if v["overdue"] == true {
                        " (overdue)"
                    } else {
                        ""
                    }
                ))
                .collect::<Vec<_>>()
                .join(", "),
            scores(&assessments[0]),
            scores(&assessments[1]),
            f["plan"].as_array().unwrap().len(),
            f["alerts"].as_array().unwrap().len(),
        );
        if let Some(a) = raised.first() {
            // The follow-up service reads the alert in full.
            assert_eq!(
                (a["severity"].as_str(), a["status"].as_str()),
                (Some("high"), Some("open")),
                "{a}"
            );
            assert!(a["details"].as_str().unwrap().contains("Fictional"), "{a}");
            let (st, case) = get(&c, app.url(&format!("/api/v1/cases/{reference}"))).await;
            assert_eq!(st, 200, "{case}");
            alert = Some((
                reference.clone(),
                case["summary"]["advocate_user_id"].clone(),
            ));
        }
    }
    // One case better, the other worse.
    assert!(
        trends.iter().any(|d| *d > 0.0) && trends.iter().any(|d| *d < 0.0),
        "{trends:?}"
    );
    let (reference, advocate) = alert.expect("an open re-trafficking alert in the demo");

    // The destination advocate (the case's advocate at the French NGO) sees the alert:
    // its category and severity, not its details.
    let mut seen = false;
    for a in accounts.iter().filter(|a| a.role == "advocate") {
        let (c, me) = sign_in(&app, a.email).await;
        if me["user_id"] != advocate {
            continue;
        }
        seen = true;
        let (st, v) = get(&c, app.url("/api/v1/follow-up/alerts")).await;
        assert_eq!(st, 200, "{v}");
        let mine: Vec<&Value> = items(&v)
            .iter()
            .filter(|x| x["reference"] == reference.as_str())
            .collect();
        assert_eq!(mine.len(), 1, "{v}");
        let x = mine[0];
        assert_eq!(
            (
                x["category"].as_str(),
                x["severity"].as_str(),
                x["status"].as_str()
            ),
            (
                Some("trafficker_or_recruiter_contact"),
                Some("high"),
                Some("open")
            ),
            "{x}"
        );
        assert!(x["details"].is_null(), "the details reached France: {x}");
        // Nor does the advocate read the follow-up itself.
        let (st, _) = get(&c, app.url(&format!("/api/v1/cases/{reference}/follow-up"))).await;
        assert_eq!(st, 403);
    }
    assert!(seen, "the case's advocate {advocate} is not a demo account");
}
