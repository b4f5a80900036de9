//! Follow-up after return over HTTP (issue 12): the visits planned on arrival, recorded
//! and missed; two assessments and their trend; the alerts, automatic and raised, as the
//! origin-country service and the destination advocate see them, and what withdrawing
//! the reintegration consent ends; the French jurisdiction's own schedule; closing after
//! follow-up; the texts absent from the database bytes; bad input refused with nothing
//! written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_core::follow_up::{Scale, default_config};
use passerelle_tests::journey::{arrive, arrived};
use passerelle_tests::{
    TestApp, World, contains, get_json as get, in_days, send_json as send, spawn_app,
    spawn_app_with_example_plugins,
};
use reqwest::Client;
use serde_json::{Map, Value, json};

struct Team {
    w: World,
    adv: Client,
    officer: Client,
    follow: Client,
}

async fn team(app: &TestApp) -> Team {
    let w = app.world().await;
    app.user(w.ngo, "officer@ngo.test", "return_officer").await;
    app.user(w.origin, "followup@edo.test", "follow_up_officer")
        .await;
    Team {
        adv: app.api_login("advocate@ngo.test").await,
        officer: app.api_login("officer@ngo.test").await,
        follow: app.api_login("followup@edo.test").await,
        w,
    }
}

fn fu(app: &TestApp, reference: &str, rest: &str) -> String {
    app.url(&format!("/api/v1/cases/{reference}/follow-up{rest}"))
}

/// Answers to every indicator of the default set: each one's lowest-scored answer
/// (`high` false: every score 0) or its highest (every score 1).
fn answers(high: bool) -> Value {
    let config = default_config().unwrap();
    let mut out = Map::new();
    for i in &config.indicators.indicators {
        let a = match &i.scale {
            Scale::Options { options } => {
                let mut scored: Vec<_> = options
                    .iter()
                    .filter_map(|o| o.score.map(|s| (s, &o.id)))
                    .collect();
                scored.sort_by(|a, b| a.0.total_cmp(&b.0));
                let (_, id) = if high { scored.last() } else { scored.first() }.unwrap();
                json!({"kind": "choice", "option": id})
            }
            Scale::Numeric {
                min,
                max,
                higher_is_better,
            } => {
                let top = if *higher_is_better { max } else { min };
                let bottom = if *higher_is_better { min } else { max };
                json!({"kind": "number", "value": if high { top } else { bottom }})
            }
        };
        out.insert(i.id.clone(), a);
    }
    Value::Object(out)
}

/// The first indicator of the default set answered by an option, and the first answered
/// by a number (with its maximum).
fn an_option_and_a_number() -> (String, String, f64) {
    let config = default_config().unwrap();
    let opt = config
        .indicators
        .indicators
        .iter()
        .find(|i| matches!(i.scale, Scale::Options { .. }))
        .unwrap();
    let (num, max) = config
        .indicators
        .indicators
        .iter()
        .find_map(|i| match i.scale {
            Scale::Numeric { max, .. } => Some((i.id.clone(), max)),
            _ => None,
        })
        .unwrap();
    (opt.id.clone(), num, max)
}

fn categories(v: &Value) -> Vec<String> {
    let list = v.get("items").unwrap_or(v);
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["category"].as_str().unwrap().to_owned())
        .collect()
}

async fn record(
    c: &Client,
    app: &TestApp,
    reference: &str,
    visit: &str,
    body: Value,
) -> (u16, Value) {
    send(
        c,
        "POST",
        fu(app, reference, &format!("/visits/{visit}")),
        body,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_arrival_the_origin_service_follows_up_and_the_destination_advocate_sees_its_alerts_while_the_consent_holds()
 {
    let app = spawn_app().await;
    let t = team(&app).await;
    let (reference, consent) = arrived(
        &app,
        &t.adv,
        &t.officer,
        t.w.origin,
        "Joy Followed",
        &["services"],
        json!({}),
    )
    .await;

    // The visits of the default schedule exist from the arrival, for the origin service.
    let (st, v) = get(&t.follow, fu(&app, &reference, "")).await;
    assert_eq!(st, 200, "{v}");
    let today = in_days(0);
    assert_eq!(v["arrived_on"], today.to_string());
    let due: Vec<&str> = v["visits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["due_on"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = [30, 90, 180, 365]
        .iter()
        .map(|d| in_days(*d).to_string())
        .collect();
    assert_eq!(due, expected, "{v}");
    assert!(
        v["visits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["status"] == "planned")
    );
    assert_eq!(v["can_edit"], true);
    let first = v["visits"][0]["id"].as_str().unwrap().to_owned();
    let second = v["visits"][1]["id"].as_str().unwrap().to_owned();

    // The origin service sees nothing beyond what was handed over: not the person, nor
    // the identification or the proceedings.
    let (st, case) = get(&t.follow, app.url(&format!("/api/v1/cases/{reference}"))).await;
    assert_eq!(st, 200, "{case}");
    assert!(case["person"].is_null(), "{case}");
    for p in ["identification", "proceedings", "audit"] {
        let (st, e) = get(
            &t.follow,
            app.url(&format!("/api/v1/cases/{reference}/{p}")),
        )
        .await;
        assert_eq!(st, 403, "{p}: {e}");
    }
    // The destination advocate does not read the follow-up itself.
    let (st, e) = get(&t.adv, fu(&app, &reference, "")).await;
    assert_eq!(st, 403, "{e}");

    // A visit done today, by phone.
    let (st, x) = record(
        &t.follow,
        &app,
        &reference,
        &first,
        json!({"change": "done", "on": today.to_string(), "mode": "phone", "visitor": "Ms Okoro"}),
    )
    .await;
    assert_eq!(st, 200, "{x}");
    assert_eq!(
        (x["status"].as_str(), x["visitor"].as_str()),
        (Some("done"), Some("Ms Okoro"))
    );
    // Follow-up has begun.
    assert_eq!(case_stage(&app, &t.adv, &reference).await, "follow_up");

    // Bad input: a visit before the arrival, an unknown outcome; nothing is written.
    let (st, e) = record(&t.follow, &app, &reference, &second,
        json!({"change": "done", "on": in_days(-3).to_string(), "mode": "in_person", "visitor": "Ms Okoro"})).await;
    assert_eq!(st, 422, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("date_before_arrival"),
        "{e}"
    );
    let (st, e) = record(
        &t.follow,
        &app,
        &reference,
        &second,
        json!({"change": "vanished"}),
    )
    .await;
    assert_eq!((st, e["field"].as_str()), (422, Some("change")), "{e}");
    let (_, v) = get(
        &t.follow,
        fu(&app, &reference, &format!("/visits/{second}")),
    )
    .await;
    assert_eq!(v["status"], "planned", "{v}");

    // Two assessments: the first at the bottom of every scale raises a low-score alert on
    // each dimension; the second at the top shows the trend.
    let (st, a1) = send(
        &t.follow,
        "POST",
        fu(&app, &reference, "/assessments"),
        json!({"answers": answers(false), "note": "struggling to find work"}),
    )
    .await;
    assert_eq!(st, 201, "{a1}");
    assert_eq!(a1["scores"]["composite"], 0.0, "{a1}");
    assert!(a1["trend"].is_null());
    let (st, a2) = send(
        &t.follow,
        "POST",
        fu(&app, &reference, "/assessments"),
        json!({"answers": answers(true)}),
    )
    .await;
    assert_eq!(st, 201, "{a2}");
    for d in ["economic", "social", "psychosocial"] {
        assert_eq!(a2["scores"][d]["score"], 1.0, "{d}: {a2}");
        assert_eq!(a2["trend"][d]["direction"], "up", "{d}: {a2}");
        assert_eq!(a2["trend"][d]["delta"], 1.0, "{d}: {a2}");
    }
    assert_eq!(a2["trend"]["composite"]["direction"], "up");
    let (_, v) = get(&t.follow, fu(&app, &reference, "")).await;
    assert_eq!(v["assessments"].as_array().unwrap().len(), 2);
    let auto: Vec<&Value> = v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["automatic"] == true)
        .collect();
    assert_eq!(auto.len(), 3, "{v}");
    assert!(auto.iter().all(|a| a["category"] == "low_score"));

    // A re-trafficking alert, raised by the officer: a contact from the recruiter is at
    // least high.
    let (st, e) = send(
        &t.follow,
        "POST",
        fu(&app, &reference, "/alerts"),
        json!({"category": "trafficker_or_recruiter_contact", "severity": "low"}),
    )
    .await;
    assert_eq!(st, 422, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("severity_floor"),
        "{e}"
    );
    let (st, alert) = send(
        &t.follow,
        "POST",
        fu(&app, &reference, "/alerts"),
        json!({"category": "trafficker_or_recruiter_contact", "severity": "high",
            "details": "The recruiter called her brother in Benin City"}),
    )
    .await;
    assert_eq!(st, 201, "{alert}");
    let alert_id = alert["id"].as_str().unwrap().to_owned();

    // It reaches the destination advocate: category and severity, never the details.
    let (st, mine) = get(&t.adv, app.url("/api/v1/follow-up/alerts")).await;
    assert_eq!(st, 200, "{mine}");
    let seen = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == alert_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        (seen["category"].as_str(), seen["severity"].as_str()),
        (Some("trafficker_or_recruiter_contact"), Some("high"))
    );
    assert!(seen["details"].is_null(), "{seen}");
    assert!(!mine.to_string().contains("recruiter called"), "{mine}");
    let (st, on_case) = get(
        &t.adv,
        app.url(&format!("/api/v1/cases/{reference}/alerts")),
    )
    .await;
    assert_eq!(st, 200, "{on_case}");
    assert!(categories(&on_case).contains(&"trafficker_or_recruiter_contact".to_owned()));
    assert!(
        on_case["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["details"].is_null())
    );
    // The origin service reads it in full.
    let (_, full) = get(
        &t.follow,
        fu(&app, &reference, &format!("/alerts/{alert_id}")),
    )
    .await;
    assert_eq!(
        full["details"],
        "The recruiter called her brother in Benin City"
    );

    // Acknowledged, then closed with an action (not closed before acknowledging).
    let (st, e) = send(
        &t.follow,
        "POST",
        fu(&app, &reference, &format!("/alerts/{alert_id}")),
        json!({"change": "close", "action": "moved"}),
    )
    .await;
    assert_eq!(st, 422, "{e}");
    let (st, a) = send(
        &t.follow,
        "POST",
        fu(&app, &reference, &format!("/alerts/{alert_id}")),
        json!({"change": "acknowledge"}),
    )
    .await;
    assert_eq!(
        (st, a["status"].as_str()),
        (200, Some("acknowledged")),
        "{a}"
    );

    // The person withdraws the reintegration consent: the alerts no longer reach the
    // destination side, and the origin service's access ends.
    let (st, e) = send(
        &t.adv,
        "POST",
        app.url(&format!(
            "/api/v1/cases/{reference}/consents/{consent}/withdraw"
        )),
        json!({"reason": "the person asked"}),
    )
    .await;
    assert!(st == 200 || st == 204, "{st} {e}");
    let (_, mine) = get(&t.adv, app.url("/api/v1/follow-up/alerts")).await;
    assert_eq!(mine["total"], 0, "{mine}");
    let (_, on_case) = get(
        &t.adv,
        app.url(&format!("/api/v1/cases/{reference}/alerts")),
    )
    .await;
    assert_eq!(on_case["total"], 0, "{on_case}");
    let (st, _) = get(&t.follow, fu(&app, &reference, "")).await;
    assert_eq!(st, 404);
}

async fn case_stage(app: &TestApp, c: &Client, reference: &str) -> String {
    let (st, v) = get(c, app.url(&format!("/api/v1/cases/{reference}"))).await;
    assert_eq!(st, 200, "{v}");
    v["summary"]["stage"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consent_that_says_so_lets_the_destination_advocate_read_the_alert_details() {
    let app = spawn_app().await;
    let t = team(&app).await;
    let (reference, _) = arrived(
        &app,
        &t.adv,
        &t.officer,
        t.w.origin,
        "Ada Consenting",
        &["services"],
        json!({"share_alert_details": true}),
    )
    .await;
    let (st, a) = send(&t.follow, "POST", fu(&app, &reference, "/alerts"),
        json!({"category": "debt", "severity": "medium", "details": "Owes the recruiter 900 euros"})).await;
    assert_eq!(st, 201, "{a}");
    let (_, mine) = get(&t.adv, app.url("/api/v1/follow-up/alerts")).await;
    assert_eq!(
        mine["items"][0]["details"], "Owes the recruiter 900 euros",
        "{mine}"
    );
    // A consent of another purpose cannot say so.
    let (st, e) = send(&t.adv, "POST", app.url(&format!("/api/v1/cases/{reference}/consents")),
        json!({"purpose": "shelter", "given_by": "person", "language": "Edo", "form_version": "v3", "share_alert_details": true})).await;
    assert_eq!(
        (st, e["field"].as_str()),
        (422, Some("share_alert_details")),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_missed_visits_raise_an_alert_and_missed_visits_are_the_officers_deadlines() {
    let app = spawn_app().await;
    let t = team(&app).await;
    let (reference, _) = arrived(
        &app,
        &t.adv,
        &t.officer,
        t.w.origin,
        "Grace Unreached",
        &["services"],
        json!({}),
    )
    .await;
    let (_, v) = get(&t.follow, fu(&app, &reference, "")).await;
    let ids: Vec<String> = v["visits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect();
    let missed =
        json!({"change": "missed", "on": in_days(0).to_string(), "reason": "not at the address"});
    let (st, x) = record(&t.follow, &app, &reference, &ids[0], missed.clone()).await;
    assert_eq!(st, 200, "{x}");
    let (_, v) = get(&t.follow, fu(&app, &reference, "")).await;
    assert_eq!(v["missed_since_contact"], 1);
    assert!(
        v["alerts"].as_array().unwrap().is_empty(),
        "one miss is not yet an alert: {v}"
    );
    // A recorded visit is final: recording it again is refused.
    let (st, e) = record(&t.follow, &app, &reference, &ids[0], missed.clone()).await;
    assert_eq!(st, 422, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("visit_final"),
        "{e}"
    );
    let (st, x) = record(&t.follow, &app, &reference, &ids[1], missed).await;
    assert_eq!(st, 200, "{x}");
    let (_, v) = get(&t.follow, fu(&app, &reference, "")).await;
    assert_eq!(
        categories(&v["alerts"]),
        vec!["missed_visits_no_contact".to_owned()],
        "{v}"
    );
    assert_eq!(v["alerts"][0]["automatic"], true);
    assert_eq!(v["alerts"][0]["severity"], "high");

    // The misses are in the officer's deadlines and due visits; the destination advocate
    // sees the alert's category.
    let (st, d) = get(
        &t.follow,
        app.url("/api/v1/deadlines?kind=follow_up_visit_missed"),
    )
    .await;
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["total"], 2, "{d}");
    assert!(
        d["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["reference"] == reference.as_str() && x["page"] == "follow-up")
    );
    let (_, due) = get(&t.follow, app.url("/api/v1/follow-up/visits")).await;
    assert_eq!(
        due["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["status"] == "missed")
            .count(),
        2,
        "{due}"
    );
    let (_, mine) = get(&t.adv, app.url("/api/v1/follow-up/alerts")).await;
    assert_eq!(
        categories(&mine),
        vec!["missed_visits_no_contact".to_owned()]
    );
    // The origin organisation's administrator counts them among the organisation's
    // overdue deadlines, and the home says how many.
    app.user(t.w.origin, "admin@edo.test", "org_admin").await;
    let admin = app.api_login("admin@edo.test").await;
    let (st, d) = get(&admin, app.url("/api/v1/deadlines?overdue=true")).await;
    assert_eq!(st, 200, "{d}");
    assert_eq!(
        d["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["kind"] == "follow_up_visit_missed")
            .count(),
        2,
        "{d}"
    );
    let html = app.html_login("admin@edo.test").await;
    let home = html
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("id=\"home-overdue-count\""), "{home}");

    // The schedule can be extended, from today on only.
    let (st, e) = send(
        &t.follow,
        "POST",
        fu(&app, &reference, "/visits"),
        json!({"due_on": [in_days(-1).to_string()]}),
    )
    .await;
    assert_eq!(st, 422, "{e}");
    let (st, v) = send(
        &t.follow,
        "POST",
        fu(&app, &reference, "/visits"),
        json!({"due_on": [in_days(7).to_string()]}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["visits"].as_array().unwrap().len(), 5);
    assert!(
        v["visits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["added"] == true && x["due_on"] == in_days(7).to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_french_jurisdiction_plans_its_own_schedule_and_closer_visits_for_a_child() {
    let app = spawn_app_with_example_plugins().await;
    let t = team(&app).await;
    let (adult, _) = arrived(
        &app,
        &t.adv,
        &t.officer,
        t.w.origin,
        "Adult Returning",
        &["services"],
        json!({}),
    )
    .await;
    let r = t
        .adv
        .post(app.url("/api/v1/cases"))
        .json(&json!({"person": {"name": "Child Returning", "birth_date": in_days(-12 * 365).to_string(), "nationality": "NG", "languages": "Edo"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let child = r.json::<Value>().await.unwrap()["summary"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let (child, _) = arrive(
        &app,
        &t.adv,
        &t.officer,
        t.w.origin,
        child,
        &["services"],
        json!({}),
    )
    .await;
    let offsets = |v: &Value| -> Vec<i64> {
        v["visits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                let d =
                    chrono::NaiveDate::parse_from_str(x["due_on"].as_str().unwrap(), "%Y-%m-%d")
                        .unwrap();
                (d - in_days(0)).num_days()
            })
            .collect()
    };
    let (st, a) = get(&t.follow, fu(&app, &adult, "")).await;
    assert_eq!(st, 200, "{a}");
    // The example's demonstration schedule instead of the default 30, 90, 180, 365.
    assert_eq!(offsets(&a), vec![14, 30, 90, 180, 365, 730]);
    let (_, c) = get(&t.follow, fu(&app, &child, "")).await;
    assert_eq!(offsets(&c), vec![14, 30, 60, 90, 180, 365, 730]);
    // And the child is assessed with the example's own indicator set.
    assert_eq!(c["indicator_set"], "fr-demo-child");
    assert_eq!(a["indicator_set"], default_config().unwrap().indicators.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_after_follow_up_makes_the_case_read_only_and_bad_input_writes_nothing() {
    let app = spawn_app().await;
    let t = team(&app).await;
    let (reference, _) = arrived(
        &app,
        &t.adv,
        &t.officer,
        t.w.origin,
        "Esther Closing",
        &["services"],
        json!({}),
    )
    .await;
    let (_, v) = get(&t.follow, fu(&app, &reference, "")).await;
    let visit = v["visits"][0]["id"].as_str().unwrap().to_owned();

    // An answer out of its scale, an unknown indicator, a date in the future: 422 naming
    // what is wrong, and no assessment written.
    let (opt, num, max) = an_option_and_a_number();
    for (body, field, says) in [
        (
            json!({"answers": {opt.clone(): {"kind": "choice", "option": "sometimes-maybe"}}}),
            "answers",
            "is not an answer to",
        ),
        (
            json!({"answers": {opt.clone(): {"kind": "number", "value": 3}}}),
            "answers",
            "choosing an option",
        ),
        (
            json!({"answers": {num.clone(): {"kind": "number", "value": max + 1.0}}}),
            "answers",
            "must be from",
        ),
        (
            json!({"answers": {num.clone(): {"kind": "choice", "option": "yes"}}}),
            "answers",
            "with a number",
        ),
        (
            json!({"answers": {"shoe_size": {"kind": "number", "value": 42}}}),
            "answers",
            "is not an indicator",
        ),
        (
            json!({"answers": answers(true), "assessed_on": in_days(2).to_string()}),
            "assessed_on",
            "future",
        ),
        (
            json!({"answers": answers(true), "assessed_on": in_days(-30).to_string()}),
            "assessed_on",
            "before the person's arrival",
        ),
        (json!({"answers": {}}), "answers", "at least one"),
    ] {
        let (st, e) = send(
            &t.follow,
            "POST",
            fu(&app, &reference, "/assessments"),
            body.clone(),
        )
        .await;
        assert_eq!((st, e["field"].as_str()), (422, Some(field)), "{body}: {e}");
        assert!(e["message"].as_str().unwrap().contains(says), "{body}: {e}");
    }
    let (_, v) = get(&t.follow, fu(&app, &reference, "")).await;
    assert!(v["assessments"].as_array().unwrap().is_empty(), "{v}");
    // A plan item of an unknown kind, or on a commitment that is not the case's.
    let (st, e) = send(
        &t.follow,
        "POST",
        fu(&app, &reference, "/plan"),
        json!({"kind": "yachting", "provider": "Lagos Marina"}),
    )
    .await;
    assert_eq!((st, e["field"].as_str()), (422, Some("kind")), "{e}");
    let (st, e) = send(&t.follow, "POST", fu(&app, &reference, "/plan"),
        json!({"kind": "training", "provider": "Benin City Tailoring School", "commitment_id": "no-such-commitment"})).await;
    assert_eq!(
        (st, e["field"].as_str()),
        (422, Some("commitment_id")),
        "{e}"
    );
    let (st, item) = send(&t.follow, "POST", fu(&app, &reference, "/plan"),
        json!({"kind": "training", "provider": "Benin City Tailoring School", "description": "six months, from March"})).await;
    assert_eq!(st, 201, "{item}");
    assert_eq!(item["status"], "planned");
    let item_id = item["id"].as_str().unwrap().to_owned();
    let (st, e) = send(
        &t.follow,
        "PATCH",
        fu(&app, &reference, &format!("/plan/{item_id}")),
        json!({"version": 7, "status": "in_progress"}),
    )
    .await;
    assert_eq!(st, 409, "{e}");
    let (st, p) = send(
        &t.follow,
        "PATCH",
        fu(&app, &reference, &format!("/plan/{item_id}")),
        json!({"version": 1, "status": "in_progress"}),
    )
    .await;
    assert_eq!(
        (st, p["status"].as_str()),
        (200, Some("in_progress")),
        "{p}"
    );

    // Closing: an unknown outcome is refused; "reintegrated" needs the follow-up to have
    // begun; then the follow-up officer closes it.
    let (_, case) = get(&t.follow, app.url(&format!("/api/v1/cases/{reference}"))).await;
    let version = case["summary"]["version"].as_i64().unwrap();
    let close = |reason: &str, version: i64| json!({"version": version, "reason": reason});
    let (st, e) = send(
        &t.follow,
        "POST",
        app.url(&format!("/api/v1/cases/{reference}/close")),
        close("vanished", version),
    )
    .await;
    assert_eq!((st, e["field"].as_str()), (422, Some("reason")), "{e}");
    let (st, e) = send(
        &t.follow,
        "POST",
        app.url(&format!("/api/v1/cases/{reference}/close")),
        close("reintegrated", version),
    )
    .await;
    assert_eq!(st, 422, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("reintegrated_stage"),
        "{e}"
    );
    let (st, x) = record(&t.follow, &app, &reference, &visit,
        json!({"change": "done", "on": in_days(0).to_string(), "mode": "in_person", "visitor": "Mr Idowu"})).await;
    assert_eq!(st, 200, "{x}");
    let (_, case) = get(&t.follow, app.url(&format!("/api/v1/cases/{reference}"))).await;
    let version = case["summary"]["version"].as_i64().unwrap();
    let (st, c) = send(
        &t.follow,
        "POST",
        app.url(&format!("/api/v1/cases/{reference}/close")),
        close("reintegrated", version),
    )
    .await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["close_status"], "closed");

    // Read-only now: the follow-up still reads, every change is a 409.
    let (st, v) = get(&t.follow, fu(&app, &reference, "")).await;
    assert_eq!(
        (st, v["closed"].as_bool(), v["can_edit"].as_bool()),
        (200, Some(true), Some(false)),
        "{v}"
    );
    let other = v["visits"][1]["id"].as_str().unwrap().to_owned();
    for (url, body) in [
        (
            fu(&app, &reference, &format!("/visits/{other}")),
            json!({"change": "cancelled", "reason": "closed"}),
        ),
        (
            fu(&app, &reference, "/assessments"),
            json!({"answers": answers(true)}),
        ),
        (
            fu(&app, &reference, "/alerts"),
            json!({"category": "debt", "severity": "low"}),
        ),
        (
            fu(&app, &reference, "/plan"),
            json!({"kind": "housing", "provider": "Someone"}),
        ),
    ] {
        let (st, e) = send(&t.follow, "POST", url.clone(), body).await;
        assert_eq!(st, 409, "{url}: {e}");
    }
    let (_, after) = get(&t.follow, fu(&app, &reference, "")).await;
    assert_eq!(after["visits"][1]["status"], "planned");
    assert!(
        after["assessments"].as_array().unwrap().is_empty()
            && after["alerts"].as_array().unwrap().is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_notes_and_alert_details_are_not_in_the_database_bytes() {
    let app = spawn_app().await;
    let t = team(&app).await;
    let (reference, _) = arrived(
        &app,
        &t.adv,
        &t.officer,
        t.w.origin,
        "Blessing Sealed",
        &["services"],
        json!({}),
    )
    .await;
    let (_, v) = get(&t.follow, fu(&app, &reference, "")).await;
    let ids: Vec<String> = v["visits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect();
    let secrets = [
        "Visitor Adaeze Nwosu",
        "Gone to her aunt in Warri",
        "Note about the uncle who owes money",
        "Alert detail: a man from Agadez asked for her",
        "Action: moved her to a safe house in Auchi",
        "Provider: Ikpoba Hill Vocational Centre",
    ];
    let (st, x) = record(&t.follow, &app, &reference, &ids[0],
        json!({"change": "done", "on": in_days(0).to_string(), "mode": "video", "visitor": secrets[0]})).await;
    assert_eq!(st, 200, "{x}");
    let (st, x) = record(
        &t.follow,
        &app,
        &reference,
        &ids[1],
        json!({"change": "missed", "on": in_days(0).to_string(), "reason": secrets[1]}),
    )
    .await;
    assert_eq!(st, 200, "{x}");
    let (st, a) = send(
        &t.follow,
        "POST",
        fu(&app, &reference, "/assessments"),
        json!({"answers": answers(true), "note": secrets[2]}),
    )
    .await;
    assert_eq!(st, 201, "{a}");
    let (st, al) = send(&t.follow, "POST", fu(&app, &reference, "/alerts"),
        json!({"category": "threats_to_person_or_family", "severity": "critical", "details": secrets[3]})).await;
    assert_eq!(st, 201, "{al}");
    let id = al["id"].as_str().unwrap();
    for change in [
        json!({"change": "acknowledge"}),
        json!({"change": "close", "action": secrets[4]}),
    ] {
        let (st, e) = send(
            &t.follow,
            "POST",
            fu(&app, &reference, &format!("/alerts/{id}")),
            change,
        )
        .await;
        assert_eq!(st, 200, "{e}");
    }
    let (st, p) = send(
        &t.follow,
        "POST",
        fu(&app, &reference, "/plan"),
        json!({"kind": "work", "provider": secrets[5]}),
    )
    .await;
    assert_eq!(st, 201, "{p}");
    // Everything reads back through the API…
    let (_, v) = get(&t.follow, fu(&app, &reference, "")).await;
    let text = v.to_string();
    for s in secrets {
        assert!(text.contains(s), "{s} not read back: {text}");
    }
    assert!(text.contains(r#""option":"#), "the answers read back");
    // …and none of it, nor the answers, is in the database in clear.
    let bytes = app.raw_database_bytes().await;
    assert!(bytes.len() > 10_000, "the database was read");
    for s in secrets {
        assert!(!contains(&bytes, s), "{s} is in the database in clear");
    }
    assert!(
        !contains(&bytes, r#""option":"#),
        "the answers are in the database in clear"
    );
}

async fn page(c: &Client, url: String, lang: &str) -> (u16, String) {
    let r = c
        .get(url)
        .header("Accept-Language", lang)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_show_each_side_its_part_and_say_what_is_wrong_in_the_readers_language() {
    let app = spawn_app().await;
    let t = team(&app).await;
    let (reference, _) = arrived(
        &app,
        &t.adv,
        &t.officer,
        t.w.origin,
        "Faith Paged",
        &["services"],
        json!({}),
    )
    .await;
    let (st, a) = send(&t.follow, "POST", fu(&app, &reference, "/alerts"),
        json!({"category": "sanctions_on_return", "severity": "high", "details": "Fined by the border police at Seme"})).await;
    assert_eq!(st, 201, "{a}");
    let follow = app.html_login("followup@edo.test").await;
    let adv = app.html_login("advocate@ngo.test").await;

    // The follow-up officer's home opens on the visits due and the open alerts.
    let (st, home) = page(&follow, app.url("/"), "en").await;
    assert_eq!(st, 200);
    let visits = home.find("id=\"home-visits\"").expect("visits block");
    let alerts = home.find("id=\"home-alerts\"").expect("alerts block");
    let deadlines = home.find("id=\"home-deadlines\"").expect("deadlines block");
    assert!(
        visits < alerts && alerts < deadlines,
        "due visits and alerts first"
    );
    assert!(
        home.contains(&format!("/cases/{reference}/follow-up#al-")),
        "{home}"
    );
    assert!(home.contains("legal or financial sanctions on return"));
    // The destination advocate's home and case page: category and severity, no details.
    let (_, home) = page(&adv, app.url("/"), "fr").await;
    assert!(
        home.contains("id=\"home-alerts\"")
            && home.contains("sanctions pénales ou financières au retour"),
        "{home}"
    );
    let (st, case) = page(&adv, app.url(&format!("/cases/{reference}")), "fr").await;
    assert_eq!(st, 200);
    assert!(
        case.contains("Alertes après le retour") && case.contains("élevée"),
        "{case}"
    );
    for html in [&home, &case] {
        assert!(
            !html.contains("Seme"),
            "the details reached the destination side"
        );
    }
    assert!(!case.contains("id=\"follow-up-link\""));
    let (st, _) = page(
        &adv,
        app.url(&format!("/cases/{reference}/follow-up")),
        "fr",
    )
    .await;
    assert_eq!(st, 403);

    // The follow-up page, in French, with its details.
    let (st, fp) = page(
        &follow,
        app.url(&format!("/cases/{reference}/follow-up")),
        "fr",
    )
    .await;
    assert_eq!(st, 200, "{fp}");
    for w in [
        "Suivi après le retour",
        "Visites",
        "Évaluations de la réintégration",
        "Plan de réintégration",
        "Fined by the border police at Seme",
    ] {
        assert!(fp.contains(w), "{w} missing");
    }
    let (_, case) = page(&follow, app.url(&format!("/cases/{reference}")), "fr").await;
    assert!(case.contains("id=\"follow-up-link\""));

    // A visit before the arrival, from the page, in French: 422 beside the form, and the
    // visit is still planned.
    let (_, v) = get(&t.follow, fu(&app, &reference, "")).await;
    let visit = v["visits"][0]["id"].as_str().unwrap().to_owned();
    let csrf = app.csrf(&follow).await;
    let back = format!("/cases/{reference}/follow-up");
    let r = follow
        .post(app.url(&format!("/cases/{reference}/follow-up/visits/{visit}")))
        .header("Accept-Language", "fr")
        .form(&[
            ("_csrf", csrf.as_str()),
            ("_back", back.as_str()),
            ("change", "done"),
            ("on", "2020-01-01"),
            ("mode", "in_person"),
            ("visitor", "Ms Okoro"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let t422 = r.text().await.unwrap();
    assert!(
        t422.contains("antérieure à l’arrivée de la personne"),
        "{t422}"
    );
    assert!(
        t422.contains("value=\"Ms Okoro\""),
        "what was typed comes back: {t422}"
    );
    // An answer that is not on the scale, in French.
    let (opt, _, _) = an_option_and_a_number();
    let field = format!("a-{opt}");
    let r = follow
        .post(app.url(&format!("/cases/{reference}/follow-up/assessments")))
        .header("Accept-Language", "fr")
        .form(&[
            ("_csrf", csrf.as_str()),
            ("_back", back.as_str()),
            (field.as_str(), "not-an-option"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let t422 = r.text().await.unwrap();
    assert!(
        t422.contains("les réponses doivent être choisies dans leurs échelles"),
        "{t422}"
    );
    let (_, v) = get(&t.follow, fu(&app, &reference, "")).await;
    assert_eq!(v["visits"][0]["status"], "planned");
    assert!(v["assessments"].as_array().unwrap().is_empty());

    // A visit recorded from the page.
    let today = in_days(0).to_string();
    let r = follow
        .post(app.url(&format!("/cases/{reference}/follow-up/visits/{visit}")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("_back", back.as_str()),
            ("change", "done"),
            ("on", today.as_str()),
            ("mode", "video"),
            ("visitor", "Mr Idowu"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, v) = get(&t.follow, fu(&app, &reference, "")).await;
    assert_eq!(
        (
            v["visits"][0]["status"].as_str(),
            v["visits"][0]["visitor"].as_str()
        ),
        (Some("done"), Some("Mr Idowu"))
    );
}
