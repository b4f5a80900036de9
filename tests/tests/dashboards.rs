//! Dashboards over HTTP (issue 14, point 1). A population is seeded directly in the
//! database (cases of two organisations at every stage and over fourteen months,
//! determinations, deadlines, returns, citizenship requests, follow-up visits and
//! assessments), a few cases and a fund's money go through the API, and the test computes
//! every figure itself from what it seeded, then compares with `GET /api/v1/dashboard`:
//!
//! - an advocate sees its organisation's cases, identification outcomes and time to
//!   decision, overdue deadlines and returns; another organisation's advocate sees only
//!   its own; a fund manager its funds; a follow-up officer its visits and scores, and one
//!   of another organisation none of them; roles without a dashboard get 403, and a
//!   signed-out caller 401;
//! - a state authority's auditor sees the country's figures with every count under 11 as
//!   `below 11` (and one more withheld where a lone hidden count could be worked out),
//!   and the large ones as numbers;
//! - the French page draws the charts (SVG with a title) and the same numbers in tables;
//! - each read leaves one audit entry naming no case.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Datelike, Duration, NaiveDate, Utc};
use passerelle_core::crypto::FieldLocation;
use passerelle_core::domain::{CaseRef, Stage};
use passerelle_core::returns::ReturnStage;
use passerelle_core::store::entity::{
    audit_log, case, citizenship_request, consent, deadline, follow_up_visit, person,
    reintegration_assessment, return_case, smuggling_decision, trafficking_decision, user,
};
use passerelle_core::store::{First, begin_write};
use passerelle_tests::{TestApp, get_json as get, send_json as send, spawn_app};
use reqwest::Client;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const K: u64 = 11;

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn hex_id(n: u64, tag: u8) -> String {
    format!("{tag:02x}{n:030x}")
}

/// One seeded case and everything hung on it, as the test knows it.
#[derive(Debug, Clone)]
struct Spec {
    stage: Stage,
    created: NaiveDate,
    /// (status, days after the referral), in the order decided.
    trafficking: Vec<(&'static str, i64)>,
    smuggling: Vec<(&'static str, i64)>,
    /// (kind, due, closed).
    deadlines: Vec<(&'static str, NaiveDate, bool)>,
    ret: Option<Ret>,
    /// (due, status, happened) of visits made by the follow-up organisation.
    visits: Vec<(NaiveDate, &'static str, Option<NaiveDate>)>,
    /// (on, economic, social, psychosocial, composite).
    assessments: Vec<(NaiveDate, f64, f64, f64, f64)>,
}

#[derive(Debug, Clone)]
struct Ret {
    stage: ReturnStage,
    since: NaiveDate,
    requested: NaiveDate,
    departed: Option<NaiveDate>,
    /// Due date of a pending citizenship request.
    citizenship_due: Option<NaiveDate>,
}

const STAGES: [(Stage, usize); 8] = [
    (Stage::Referred, 14),
    (Stage::Screening, 10),
    (Stage::Protection, 12),
    (Stage::SolutionPlanning, 8),
    (Stage::ReturnInProgress, 6),
    (Stage::Returned, 6),
    (Stage::FollowUp, 4),
    (Stage::Closed, 4),
];

/// The first organisation's population: 64 cases.
fn population() -> Vec<Spec> {
    let t = today();
    let mut out = Vec::new();
    let mut i = 0i64;
    for (stage, n) in STAGES {
        for _ in 0..n {
            let created = t - Duration::days((i * 7) % 420);
            let mut s = Spec {
                stage,
                created,
                trafficking: vec![],
                smuggling: vec![],
                deadlines: vec![],
                ret: None,
                visits: vec![],
                assessments: vec![],
            };
            match i % 5 {
                1 => s.trafficking = vec![("presumed", 10 + i % 9)],
                2 => {
                    s.trafficking = vec![("presumed", 8), ("confirmed", 40)];
                    s.smuggling = vec![("smuggled_migrant", 20)];
                }
                3 => s.smuggling = vec![("smuggled_migrant", 5 + i % 4)],
                4 => {
                    s.trafficking = vec![("possible", 3)];
                    if i % 2 == 0 {
                        s.trafficking.push(("not_a_victim", 30));
                    }
                }
                _ => {}
            }
            match i % 8 {
                0 | 4 => s.deadlines.push((
                    "recovery_reflection_period_end",
                    t - Duration::days(1 + i % 5),
                    false,
                )),
                1 => s.deadlines.push((
                    "reasonable_grounds_decision_due",
                    t + Duration::days(5),
                    false,
                )),
                2 => s.deadlines.push((
                    "recovery_reflection_period_end",
                    t - Duration::days(3),
                    true,
                )),
                3 => s.deadlines.push((
                    "reasonable_grounds_decision_due",
                    t - Duration::days(2),
                    false,
                )),
                _ => {}
            }
            let since = t - Duration::days(i % 30);
            let requested = t - Duration::days(100 + i % 10);
            s.ret = match stage {
                Stage::SolutionPlanning => Some(Ret {
                    stage: if i % 2 == 0 {
                        ReturnStage::Requested
                    } else {
                        ReturnStage::Assessed
                    },
                    since,
                    requested,
                    departed: None,
                    citizenship_due: None,
                }),
                Stage::ReturnInProgress => Some(Ret {
                    stage: [
                        ReturnStage::Approved,
                        ReturnStage::DocumentsReady,
                        ReturnStage::TravelBooked,
                    ][(i % 3) as usize],
                    since,
                    requested,
                    departed: None,
                    citizenship_due: (i % 2 == 0).then(|| t - Duration::days(3)),
                }),
                Stage::Returned | Stage::FollowUp => Some(Ret {
                    stage: ReturnStage::Received,
                    since,
                    requested,
                    departed: Some(requested + Duration::days(10 + i % 20)),
                    citizenship_due: None,
                }),
                Stage::Closed if i % 2 == 0 => Some(Ret {
                    stage: ReturnStage::Cancelled,
                    since,
                    requested,
                    departed: None,
                    citizenship_due: None,
                }),
                _ => None,
            };
            if matches!(stage, Stage::Returned | Stage::FollowUp) {
                s.visits = vec![
                    (t - Duration::days(60), "done", Some(t - Duration::days(58))),
                    (t - Duration::days(35 + i % 3), "missed", None),
                    (t - Duration::days(20), "planned", None),
                    (t + Duration::days(30), "planned", None),
                ];
                let x = (i % 4) as f64 / 10.0;
                s.assessments = vec![
                    (t - Duration::days(70), 0.2 + x, 0.3, 0.25, 0.25 + x / 3.0),
                    (t - Duration::days(5), 0.6, 0.5 + x, 0.55, 0.55 + x / 3.0),
                ];
            }
            out.push(s);
            i += 1;
        }
    }
    out
}

/// The second organisation's: 12 cases, mostly referred.
fn other_population() -> Vec<Spec> {
    let t = today();
    (0..12)
        .map(|i| Spec {
            stage: if i < 9 {
                Stage::Referred
            } else {
                Stage::Screening
            },
            created: t - Duration::days(i * 3),
            trafficking: if i % 3 == 0 {
                vec![("presumed", 4)]
            } else {
                vec![]
            },
            smuggling: vec![],
            deadlines: vec![(
                "recovery_reflection_period_end",
                t - Duration::days(1),
                false,
            )],
            ret: None,
            visits: vec![],
            assessments: vec![],
        })
        .collect()
}

struct World {
    app: TestApp,
    ngo: i64,
    other: i64,
    origin: i64,
    returns: i64,
    creator: i64,
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .first(&app.services.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// Write the specs' rows for organisation `org`; visits and assessments are the
/// follow-up organisation's (`origin`).
async fn seed(w: &World, org: i64, tag: u8, specs: &[Spec]) {
    let db = &w.app.services.db;
    let keys = &w.app.services.keys;
    let now = Utc::now();
    let at = |d: NaiveDate| d.and_hms_opt(10, 0, 0).unwrap().and_utc();
    let txn = begin_write(db).await.unwrap();
    for (n, s) in specs.iter().enumerate() {
        let n = n as u64 + 1;
        let pid = hex_id(n, tag);
        person::Entity::insert(person::ActiveModel {
            id: Set(pid.clone()),
            name_enc: Set(keys
                .encrypt_str(
                    FieldLocation {
                        table: "persons",
                        column: "name",
                        row: &pid,
                    },
                    &format!("Seeded Person {tag}-{n}"),
                )
                .unwrap()),
            name_idx: Set(keys.blind_index("person-name", &format!("Seeded Person {tag}-{n}"))),
            stateless: Set(false),
            is_minor: Set(false),
            created_at: Set(at(s.created)),
            ..Default::default()
        })
        .exec_without_returning(&txn)
        .await
        .unwrap();
        let closed = s.stage == Stage::Closed;
        let case_id = case::Entity::insert(case::ActiveModel {
            reference: Set(CaseRef::new(2000 + i32::from(tag), n as i64)
                .as_str()
                .to_owned()),
            person_id: Set(pid),
            owner_org_id: Set(org),
            advocate_user_id: Set(None),
            stage: Set(s.stage.as_str().to_owned()),
            version: Set(1),
            created_by: Set(w.creator),
            created_at: Set(at(s.created)),
            updated_at: Set(now),
            closed_at: Set(closed.then_some(now)),
            closed_by: Set(closed.then_some(w.creator)),
            close_status: Set(closed.then(|| "closed".to_owned())),
            ..Default::default()
        })
        .exec(&txn)
        .await
        .unwrap()
        .last_insert_id;
        for (k, (status, days)) in s.trafficking.iter().enumerate() {
            trafficking_decision::Entity::insert(trafficking_decision::ActiveModel {
                id: Set(hex_id(n * 10 + k as u64, tag + 1)),
                case_id: Set(case_id),
                status: Set((*status).into()),
                deciding_body: Set("police".into()),
                decided_on: Set(s.created + Duration::days(*days)),
                basis_enc: Set(vec![0]),
                author_user_id: Set(w.creator),
                recorded_at: Set(now + Duration::seconds(k as i64)),
            })
            .exec_without_returning(&txn)
            .await
            .unwrap();
        }
        for (k, (status, days)) in s.smuggling.iter().enumerate() {
            smuggling_decision::Entity::insert(smuggling_decision::ActiveModel {
                id: Set(hex_id(n * 10 + k as u64, tag + 2)),
                case_id: Set(case_id),
                status: Set((*status).into()),
                victim_of_other_crimes: Set(false),
                witness: Set(false),
                deciding_body: Set("police".into()),
                decided_on: Set(s.created + Duration::days(*days)),
                basis_enc: Set(vec![0]),
                author_user_id: Set(w.creator),
                recorded_at: Set(now),
            })
            .exec_without_returning(&txn)
            .await
            .unwrap();
        }
        for (kind, due, closed) in &s.deadlines {
            deadline::Entity::insert(deadline::ActiveModel {
                case_id: Set(case_id),
                kind: Set((*kind).into()),
                starts_on: Set(*due - Duration::days(30)),
                due_on: Set(*due),
                source: Set("seed".into()),
                closed_at: Set(closed.then_some(now)),
                created_at: Set(now),
                ..Default::default()
            })
            .exec_without_returning(&txn)
            .await
            .unwrap();
        }
        if let Some(r) = &s.ret {
            let consent_id = consent::Entity::insert(consent::ActiveModel {
                case_id: Set(case_id),
                purpose: Set("return_assistance".into()),
                given_by: Set("person".into()),
                language: Set("en".into()),
                form_version: Set("v1".into()),
                consented_at: Set(now),
                recorded_by: Set(w.creator),
                recorded_at: Set(now),
                uid: Set(Some(hex_id(n, tag + 3))),
                alert_details: Set(false),
                ..Default::default()
            })
            .exec(&txn)
            .await
            .unwrap()
            .last_insert_id;
            let rid = hex_id(n, tag + 4);
            return_case::Entity::insert(return_case::ActiveModel {
                id: Set(rid.clone()),
                case_id: Set(case_id),
                stage: Set(r.stage.as_str().into()),
                stage_since: Set(at(r.since)),
                consent_id: Set(consent_id),
                explained_by_enc: Set(vec![0]),
                requested_by: Set("person".into()),
                requested_on: Set(r.requested),
                during_recovery_period: Set(false),
                destination_country: Set("NG".into()),
                agency_org_id: Set(Some(w.returns)),
                departed_on: Set(r.departed),
                version: Set(1),
                created_by: Set(w.creator),
                created_at: Set(now),
                ..Default::default()
            })
            .exec_without_returning(&txn)
            .await
            .unwrap();
            if let Some(due) = r.citizenship_due {
                citizenship_request::Entity::insert(citizenship_request::ActiveModel {
                    id: Set(hex_id(n, tag + 5)),
                    return_id: Set(rid.clone()),
                    authority: Set("Embassy".into()),
                    sent_on: Set(due - Duration::days(20)),
                    due_on: Set(due),
                    reminders: Set(0),
                    answer: Set("pending".into()),
                    created_by: Set(w.creator),
                    created_at: Set(now),
                    ..Default::default()
                })
                .exec_without_returning(&txn)
                .await
                .unwrap();
            }
        }
        for (k, (due, status, happened)) in s.visits.iter().enumerate() {
            follow_up_visit::Entity::insert(follow_up_visit::ActiveModel {
                id: Set(hex_id(n * 10 + k as u64, tag + 6)),
                case_id: Set(case_id),
                org_id: Set(w.origin),
                due_on: Set(*due),
                status: Set((*status).into()),
                happened_on: Set(*happened),
                mode: Set((*status == "done").then(|| "phone".to_owned())),
                added: Set(false),
                created_by: Set(w.creator),
                created_at: Set(now),
                ..Default::default()
            })
            .exec_without_returning(&txn)
            .await
            .unwrap();
        }
        for (k, (on, e, so, p, c)) in s.assessments.iter().enumerate() {
            reintegration_assessment::Entity::insert(reintegration_assessment::ActiveModel {
                id: Set(hex_id(n * 10 + k as u64, tag + 7)),
                case_id: Set(case_id),
                org_id: Set(w.origin),
                assessed_on: Set(*on),
                assessed_by: Set(w.creator),
                set_id: Set("rss".into()),
                set_version: Set("1".into()),
                answers_enc: Set(vec![0]),
                note_enc: Set(None),
                economic: Set(Some(*e)),
                social: Set(Some(*so)),
                psychosocial: Set(Some(*p)),
                composite: Set(Some(*c)),
                scores_json: Set("{}".into()),
                created_at: Set(now),
            })
            .exec_without_returning(&txn)
            .await
            .unwrap();
        }
    }
    txn.commit().await.unwrap();
}

// ---- What the test expects, computed from the specs ---------------------------------

fn month_of(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// The twelve months up to this one, oldest first (by year and month arithmetic).
fn window() -> Vec<String> {
    let t = today();
    let (mut y, mut m) = (t.year(), t.month() as i32);
    let mut out = Vec::new();
    for _ in 0..12 {
        out.push(format!("{y:04}-{m:02}"));
        m -= 1;
        if m == 0 {
            m = 12;
            y -= 1;
        }
    }
    out.reverse();
    out
}

fn median(mut v: Vec<i64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some((v[(n - 1) / 2] + v[n / 2]) as f64 / 2.0)
}

fn positive_trafficking(s: &str) -> bool {
    s == "presumed" || s == "confirmed"
}

fn outcome(s: &Spec) -> &'static str {
    let t = s.trafficking.last().map(|x| x.0);
    let sm = s.smuggling.last().map(|x| x.0);
    let victim = t.is_some_and(positive_trafficking);
    let smuggled = sm == Some("smuggled_migrant");
    let decided = t.is_some_and(|t| t != "possible") || sm.is_some();
    match (victim, smuggled) {
        (true, true) => "both",
        (true, false) => "trafficking",
        (false, true) => "smuggling",
        _ if decided => "neither",
        _ => "awaiting",
    }
}

fn first_decision(s: &Spec) -> Option<i64> {
    s.trafficking
        .iter()
        .filter(|(st, _)| *st != "possible")
        .chain(s.smuggling.iter())
        .map(|(_, d)| *d)
        .min()
}

fn target(stage: ReturnStage) -> Option<i64> {
    stage.target_days()
}

fn is_stuck(r: &Ret) -> bool {
    target(r.stage).is_some_and(|t| (today() - r.since).num_days() > t)
}

#[derive(Debug, Default)]
struct Expected {
    by_stage: BTreeMap<&'static str, u64>,
    by_month: BTreeMap<String, u64>,
    outcomes: BTreeMap<&'static str, u64>,
    decision_days: Vec<i64>,
    overdue: BTreeMap<&'static str, u64>,
    returns: BTreeMap<&'static str, (u64, u64)>,
    departure_days: Vec<i64>,
}

fn expected(specs: &[Spec]) -> Expected {
    let t = today();
    let win = window();
    let mut e = Expected::default();
    for s in specs {
        *e.by_stage.entry(s.stage.as_str()).or_default() += 1;
        let m = month_of(s.created);
        if win.contains(&m) {
            *e.by_month.entry(m).or_default() += 1;
        }
        *e.outcomes.entry(outcome(s)).or_default() += 1;
        if let Some(d) = first_decision(s) {
            e.decision_days.push(d);
        }
        let before_return = !matches!(s.stage, Stage::Returned | Stage::FollowUp | Stage::Closed);
        for (kind, due, closed) in &s.deadlines {
            if !closed && *due < t && before_return {
                *e.overdue.entry(kind).or_default() += 1;
            }
        }
        if let Some(r) = &s.ret {
            let row = e.returns.entry(r.stage.as_str()).or_default();
            row.0 += 1;
            if is_stuck(r) {
                row.1 += 1;
            }
            let live = !matches!(
                r.stage,
                ReturnStage::Received | ReturnStage::Cancelled | ReturnStage::Departed
            );
            if live && s.stage != Stage::Closed {
                if r.citizenship_due.is_some_and(|d| d < t) {
                    *e.overdue.entry("citizenship_confirmation_due").or_default() += 1;
                }
                if is_stuck(r) {
                    *e.overdue.entry("return_stage_target").or_default() += 1;
                }
            }
            if let Some(d) = r.departed {
                e.departure_days.push((d - r.requested).num_days());
            }
        }
    }
    e
}

// ---- Reading the answer --------------------------------------------------------------

/// A cell as the test writes it: "42", "<11" or "withheld".
fn cell(v: &Value) -> String {
    match v["kind"].as_str() {
        Some("count") => v["value"]
            .as_u64()
            .map(|n| n.to_string())
            .unwrap_or_default(),
        Some("below") => format!("<{}", v["value"]),
        Some("withheld") => "withheld".into(),
        _ => panic!("not a cell: {v}"),
    }
}

fn buckets(v: &Value) -> BTreeMap<String, String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|b| (b["key"].as_str().unwrap().to_owned(), cell(&b["value"])))
        .collect()
}

/// Counts as an organisation's own dashboard shows them.
fn shown(keys: &[&str], counts: &BTreeMap<&str, u64>) -> BTreeMap<String, String> {
    keys.iter()
        .map(|k| {
            (
                (*k).to_owned(),
                counts.get(k).copied().unwrap_or(0).to_string(),
            )
        })
        .collect()
}

/// Counts as a cross-organisation dashboard shows them: under 11 hidden, and when only
/// one is hidden, the smallest shown one withheld too.
fn protected(keys: &[&str], counts: &BTreeMap<&str, u64>) -> BTreeMap<String, String> {
    let n: Vec<u64> = keys
        .iter()
        .map(|k| counts.get(k).copied().unwrap_or(0))
        .collect();
    let mut out: Vec<String> = n
        .iter()
        .map(|c| {
            if *c < K {
                format!("<{K}")
            } else {
                c.to_string()
            }
        })
        .collect();
    if n.iter().filter(|c| **c < K).count() == 1 {
        let smallest = (0..n.len())
            .filter(|i| n[*i] >= K)
            .min_by_key(|i| (n[*i], *i));
        if let Some(i) = smallest {
            out[i] = "withheld".into();
        }
    }
    keys.iter().map(|k| (*k).to_owned()).zip(out).collect()
}

const STAGE_KEYS: [&str; 8] = [
    "referred",
    "screening",
    "protection",
    "solution_planning",
    "return_in_progress",
    "returned",
    "follow_up",
    "closed",
];
const OUTCOME_KEYS: [&str; 5] = ["trafficking", "smuggling", "both", "neither", "awaiting"];
const DEADLINE_KEYS: [&str; 4] = [
    "recovery_reflection_period_end",
    "reasonable_grounds_decision_due",
    "citizenship_confirmation_due",
    "return_stage_target",
];
const RETURN_KEYS: [&str; 8] = [
    "requested",
    "assessed",
    "approved",
    "documents_ready",
    "travel_booked",
    "departed",
    "received",
    "cancelled",
];

async fn dashboard(app: &TestApp, c: &Client) -> Value {
    let (st, v) = get(c, app.url("/api/v1/dashboard")).await;
    assert_eq!(st, 200, "{v}");
    v
}

fn check_casework(v: &Value, e: &Expected) {
    assert_eq!(
        buckets(&v["cases"]["by_stage"]),
        shown(&STAGE_KEYS, &e.by_stage),
        "cases by stage"
    );
    let win = window();
    let months: Vec<&str> = win.iter().map(String::as_str).collect();
    let by_month: BTreeMap<&str, u64> = e.by_month.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    assert_eq!(
        buckets(&v["cases"]["by_month"]),
        shown(&months, &by_month),
        "cases by month"
    );
    assert_eq!(
        v["months"].as_array().map(Vec::len),
        Some(12),
        "{}",
        v["months"]
    );
    assert_eq!(
        buckets(&v["identification"]["outcomes"]),
        shown(&OUTCOME_KEYS, &e.outcomes),
        "outcomes"
    );
    let m = &v["identification"]["referral_to_decision"];
    assert_eq!(cell(&m["n"]), e.decision_days.len().to_string());
    assert_eq!(m["median_days"].as_f64(), median(e.decision_days.clone()));
    assert_eq!(
        buckets(&v["deadlines"]["overdue"]),
        shown(&DEADLINE_KEYS, &e.overdue),
        "overdue deadlines"
    );
    let rows: BTreeMap<String, (String, String)> = v["returns"]["by_stage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["stage"].as_str().unwrap().to_owned(),
                (cell(&r["returns"]), cell(&r["stuck"])),
            )
        })
        .collect();
    let want: BTreeMap<String, (String, String)> = RETURN_KEYS
        .iter()
        .map(|k| {
            let (n, s) = e.returns.get(k).copied().unwrap_or((0, 0));
            ((*k).to_owned(), (n.to_string(), s.to_string()))
        })
        .collect();
    assert_eq!(rows, want, "returns by stage");
    let stuck: u64 = e.returns.values().map(|r| r.1).sum();
    assert_eq!(cell(&v["returns"]["stuck"]), stuck.to_string());
    let d = &v["returns"]["request_to_departure"];
    assert_eq!(cell(&d["n"]), e.departure_days.len().to_string());
    assert_eq!(d["median_days"].as_f64(), median(e.departure_days.clone()));
}

async fn setup() -> (World, Vec<Spec>, Vec<Spec>) {
    let app = spawn_app().await;
    let w = app.world().await;
    let other = app.org("Elsewhere", "victim_advocacy", "FR").await;
    let other_origin = app.org("Second Origin", "origin_service", "NG").await;
    for (org, email, role) in [
        (w.ngo, "admin@ngo.test", "org_admin"),
        (w.ngo, "money@ngo.test", "fund_manager"),
        (w.ngo, "shelter@ngo.test", "shelter_coordinator"),
        (w.ngo, "officer@ngo.test", "return_officer"),
        (other, "adv@elsewhere.test", "advocate"),
        (other, "money@elsewhere.test", "fund_manager"),
        (w.origin, "followup@edo.test", "follow_up_officer"),
        (other_origin, "followup@second.test", "follow_up_officer"),
        (w.authority, "auditor@mission.test", "auditor"),
        (w.authority, "admin@mission.test", "org_admin"),
    ] {
        app.user(org, email, role).await;
    }
    let creator = user_id(&app, "advocate@ngo.test").await;
    let world = World {
        ngo: w.ngo,
        other,
        origin: w.origin,
        returns: w.returns,
        creator,
        app,
    };
    let (mine, theirs) = (population(), other_population());
    seed(&world, world.ngo, 0x10, &mine).await;
    seed(&world, world.other, 0x40, &theirs).await;
    (world, mine, theirs)
}

/// Two cases created through the API (today, referred, no decision), one of them paid
/// for from a fund the fund manager created and allocated: spending in two categories.
async fn through_the_api(w: &World) -> (Vec<Spec>, Client) {
    let app = &w.app;
    let adv = app.api_login("advocate@ngo.test").await;
    let manager = app.api_login("money@ngo.test").await;
    let a = app.create_case(&adv, "Dashboard Person One").await;
    let b = app.create_case(&adv, "Dashboard Person Two").await;
    let url = |p: &str| app.url(&format!("/api/v1{p}"));
    let (st, f) = send(
        &manager,
        "POST",
        url("/funds"),
        json!({"name": "Fonds 2026", "source": "state_budget", "currency": "EUR",
            "categories": ["legal", "shelter"]}),
    )
    .await;
    assert_eq!(st, 201, "{f}");
    let fund = f["id"].as_str().unwrap().to_owned();
    let (st, v) = send(
        &manager,
        "POST",
        url(&format!("/funds/{fund}/allocations")),
        json!({"amount_minor": 1_000_000, "currency": "EUR", "origin": "Budget line 17"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    for (reference, category, amount, spent) in [
        (&a, "legal", 80_000, 30_000),
        (&b, "shelter", 50_000, 20_000),
    ] {
        let (st, c) = send(
            &adv,
            "POST",
            url(&format!("/funds/{fund}/commitments")),
            json!({"reference": reference, "category": category, "purpose": "other", "description": "Lawyer and room",
                "amount_minor": amount, "currency": "EUR"}),
        )
        .await;
        assert_eq!(st, 201, "{c}");
        let id = c["id"].as_str().unwrap();
        let (st, c) = send(
            &manager,
            "POST",
            url(&format!("/funds/{fund}/commitments/{id}/spendings")),
            json!({"amount_minor": spent, "currency": "EUR", "invoice": "Invoice 1"}),
        )
        .await;
        assert_eq!(st, 200, "{c}");
    }
    let spec = Spec {
        stage: Stage::Referred,
        created: today(),
        trafficking: vec![],
        smuggling: vec![],
        deadlines: vec![],
        ret: None,
        visits: vec![],
        assessments: vec![],
    };
    (vec![spec.clone(), spec], manager)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_sees_its_organisations_figures_as_the_test_counts_them() {
    let (w, mut mine, theirs) = setup().await;
    let (api_cases, manager) = through_the_api(&w).await;
    mine.extend(api_cases);
    let app = &w.app;

    // The advocate: cases, identification, deadlines, returns; no funds, no follow-up.
    let adv = app.api_login("advocate@ngo.test").await;
    let v = dashboard(app, &adv).await;
    assert_eq!(v["reach"], "organisation");
    assert_eq!(v["organisation"], "Passage");
    assert_eq!(v["small_cell_threshold"], Value::Null);
    let e = expected(&mine);
    check_casework(&v, &e);
    assert_eq!(
        e.by_stage.values().sum::<u64>(),
        66,
        "the population is all there"
    );
    assert!(
        e.outcomes.len() == 5 && e.overdue.len() == 4,
        "the population covers every outcome and kind: {e:?}"
    );
    assert_eq!(v["funds"], Value::Null);
    assert_eq!(v["follow_up"], Value::Null);
    // Read again within the minute: the same figures, counted once.
    let again = dashboard(app, &adv).await;
    assert_eq!(again["computed_at"], v["computed_at"]);
    assert_eq!(again["cases"], v["cases"]);

    // Another organisation's advocate: its own twelve cases only.
    let theirs_client = app.api_login("adv@elsewhere.test").await;
    let v = dashboard(app, &theirs_client).await;
    assert_eq!(v["organisation"], "Elsewhere");
    check_casework(&v, &expected(&theirs));

    // The administrator: everything of its organisation, the same figures.
    let admin = app.api_login("admin@ngo.test").await;
    let v = dashboard(app, &admin).await;
    check_casework(&v, &e);
    assert!(v["funds"].is_object() && v["follow_up"].is_object(), "{v}");
    // Its follow-up: the visits its organisation makes (none: they are the origin's).
    assert_eq!(cell(&v["follow_up"]["done"]), "0");

    // The fund manager: the fund, its balances and the spending by category.
    let v = dashboard(app, &manager).await;
    assert_eq!(v["cases"], Value::Null);
    let eur = &v["funds"]["currencies"][0];
    assert_eq!(eur["currency"], "EUR", "{v}");
    assert_eq!(eur["funds"], 1);
    assert_eq!(eur["allocated_minor"], 1_000_000);
    assert_eq!(eur["spent_minor"], 50_000);
    assert_eq!(eur["committed_minor"], 130_000 - 50_000);
    assert_eq!(eur["available_minor"], 1_000_000 - 130_000);
    let cats: Vec<(String, i64, String)> = eur["by_category"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_owned(),
                r["spent_minor"].as_i64().unwrap(),
                cell(&r["cases"]),
            )
        })
        .collect();
    assert_eq!(
        cats,
        vec![
            ("legal".to_owned(), 30_000, "1".to_owned()),
            ("shelter".to_owned(), 20_000, "1".to_owned())
        ]
    );
    let this_month = month_of(today());
    let month = eur["by_month"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == this_month.as_str())
        .unwrap();
    assert_eq!(
        (month["spent_minor"].as_i64(), cell(&month["cases"])),
        (Some(50_000), "2".to_owned())
    );
    let theirs_money = app.api_login("money@elsewhere.test").await;
    let v = dashboard(app, &theirs_money).await;
    assert_eq!(
        v["funds"]["currencies"],
        json!([]),
        "another organisation's funds"
    );

    // The follow-up officer of the origin service: the visits it makes and the scores.
    let officer = app.api_login("followup@edo.test").await;
    let v = dashboard(app, &officer).await;
    assert_eq!(v["cases"], Value::Null);
    let fu = &v["follow_up"];
    let count = |status: &str| -> u64 {
        mine.iter()
            .flat_map(|s| s.visits.iter())
            .filter(|v| v.1 == status)
            .count() as u64
    };
    assert_eq!(cell(&fu["done"]), count("done").to_string());
    assert_eq!(cell(&fu["missed"]), count("missed").to_string());
    let overdue = mine
        .iter()
        .filter(|s| s.stage != Stage::Closed)
        .flat_map(|s| s.visits.iter())
        .filter(|v| v.1 == "planned" && (today() - v.0).num_days() > 7)
        .count();
    assert_eq!(cell(&fu["overdue"]), overdue.to_string());
    assert!(count("done") > 0 && overdue > 0);
    let win = window();
    for (k, m) in fu["visits_by_month"].as_array().unwrap().iter().enumerate() {
        assert_eq!(m["month"], win[k].as_str());
        let n = |status: &str| {
            mine.iter()
                .flat_map(|s| s.visits.iter())
                .filter(|v| v.1 == status && month_of(v.2.unwrap_or(v.0)) == win[k])
                .count()
                .to_string()
        };
        assert_eq!(
            (cell(&m["done"]), cell(&m["missed"])),
            (n("done"), n("missed")),
            "{}",
            win[k]
        );
    }
    let mut scored = 0;
    for m in fu["scores_by_month"].as_array().unwrap() {
        let month = m["month"].as_str().unwrap();
        let here: Vec<&(NaiveDate, f64, f64, f64, f64)> = mine
            .iter()
            .flat_map(|s| s.assessments.iter())
            .filter(|a| month_of(a.0) == month)
            .collect();
        assert_eq!(cell(&m["assessments"]), here.len().to_string(), "{month}");
        if here.is_empty() {
            assert_eq!(m["composite"], Value::Null);
            continue;
        }
        scored += 1;
        let mean = |f: fn(&(NaiveDate, f64, f64, f64, f64)) -> f64| {
            here.iter().map(|a| f(a)).sum::<f64>() / here.len() as f64
        };
        for (key, want) in [
            ("economic", mean(|a| a.1)),
            ("social", mean(|a| a.2)),
            ("psychosocial", mean(|a| a.3)),
            ("composite", mean(|a| a.4)),
        ] {
            let got = m[key].as_f64().unwrap();
            assert!((got - want).abs() < 1e-9, "{month} {key}: {got} != {want}");
        }
    }
    assert!(scored >= 1, "some month has scores");
    // Another origin service's officer: none of them.
    let second = app.api_login("followup@second.test").await;
    let v = dashboard(app, &second).await;
    assert_eq!(cell(&v["follow_up"]["done"]), "0");
    assert_eq!(cell(&v["follow_up"]["overdue"]), "0");
    assert!(
        v["follow_up"]["scores_by_month"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["composite"].is_null())
    );

    // Roles without a dashboard, and no session.
    for email in ["shelter@ngo.test", "officer@ngo.test"] {
        let c = app.api_login(email).await;
        let (st, v) = get(&c, app.url("/api/v1/dashboard")).await;
        assert_eq!(
            (st, v["error"].as_str()),
            (403, Some("forbidden")),
            "{email}"
        );
    }
    let (st, v) = get(&passerelle_tests::client(), app.url("/api/v1/dashboard")).await;
    assert_eq!(st, 401, "{v}");

    // Every read was audited once, naming no case.
    let entries = audit_log::Entity::find()
        .filter(audit_log::Column::Route.eq("GET /api/v1/dashboard"))
        .filter(audit_log::Column::Action.eq("read"))
        .all(&app.services.db)
        .await
        .unwrap();
    assert_eq!(entries.len(), 8, "one entry per dashboard read");
    assert!(entries.iter().all(|e| e.case_ref.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn across_organisations_small_cells_show_as_under_eleven() {
    let (w, mut mine, theirs) = setup().await;
    let (api_cases, _) = through_the_api(&w).await;
    mine.extend(api_cases);
    let app = &w.app;
    let mut country = mine.clone();
    country.extend(theirs);
    let e = expected(&country);
    for email in ["auditor@mission.test", "admin@mission.test"] {
        let c = app.api_login(email).await;
        let v = dashboard(app, &c).await;
        assert_eq!(v["reach"], "country", "{email}");
        assert_eq!(v["country"], "FR");
        assert_eq!(v["small_cell_threshold"], 11);
        assert_eq!(v["organisation"], Value::Null);
        assert_eq!(
            v["organisations"], 5,
            "the five organisations of FR in the test world"
        );
        let stages = buckets(&v["cases"]["by_stage"]);
        assert_eq!(stages, protected(&STAGE_KEYS, &e.by_stage), "{email}");
        // 14 + 2 + 9 referred (a large cell shown), 4 closed (a small one hidden).
        assert_eq!(stages["referred"], "25");
        assert_eq!(stages["closed"], "<11");
        assert_eq!(
            buckets(&v["identification"]["outcomes"]),
            protected(&OUTCOME_KEYS, &e.outcomes)
        );
        assert_eq!(
            buckets(&v["deadlines"]["overdue"]),
            protected(&DEADLINE_KEYS, &e.overdue)
        );
        // Months: each under 11 hidden, no secondary suppression (no total beside them).
        let win = window();
        for b in v["cases"]["by_month"].as_array().unwrap() {
            let m = b["key"].as_str().unwrap();
            let n = e.by_month.get(m).copied().unwrap_or(0);
            let want = if n < K {
                "<11".to_owned()
            } else {
                n.to_string()
            };
            assert_eq!(cell(&b["value"]), want, "{m}");
            assert!(win.iter().any(|x| x == m));
        }
        // A median over at least 11 is shown; the median of the departures (10) is not.
        let m = &v["identification"]["referral_to_decision"];
        assert!(e.decision_days.len() as u64 >= K);
        assert_eq!(m["median_days"].as_f64(), median(e.decision_days.clone()));
        let d = &v["returns"]["request_to_departure"];
        assert_eq!(e.departure_days.len(), 10);
        assert_eq!(
            (cell(&d["n"]), &d["median_days"]),
            ("<11".into(), &Value::Null)
        );
        // Follow-up across: ten visits done and ten missed (each hidden); scores of months
        // with fewer than 11 assessments not shown, and of the month with 20 shown.
        let fu = &v["follow_up"];
        let visits = |status: &str| {
            country
                .iter()
                .flat_map(|s| s.visits.iter())
                .filter(|v| v.1 == status)
                .count() as u64
        };
        assert_eq!((visits("done"), visits("missed")), (10, 10));
        assert_eq!(
            (cell(&fu["done"]), cell(&fu["missed"])),
            ("<11".into(), "<11".into())
        );
        for m in fu["scores_by_month"].as_array().unwrap() {
            let n = country
                .iter()
                .flat_map(|s| s.assessments.iter())
                .filter(|a| month_of(a.0) == m["month"].as_str().unwrap())
                .count() as u64;
            if n < K {
                assert_eq!(m["composite"], Value::Null, "{m}");
                assert_eq!(cell(&m["assessments"]), "<11");
            } else {
                assert!(m["composite"].is_f64(), "{m}");
                assert_eq!(cell(&m["assessments"]), n.to_string());
            }
        }
        // Money: the two categories served one case each: amounts withheld.
        let eur = &v["funds"]["currencies"][0];
        assert_eq!(
            eur["allocated_minor"], 1_000_000,
            "{email}: balances are shown"
        );
        for r in eur["by_category"].as_array().unwrap() {
            assert_eq!(cell(&r["cases"]), "<11");
            assert_eq!(r["spent_minor"], Value::Null);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_french_page_draws_the_charts_with_their_numbers_in_tables() {
    let (w, mine, _) = setup().await;
    let app = &w.app;
    let e = expected(&mine);
    let c = app.html_login("advocate@ngo.test").await;
    let r = c
        .get(app.url("/lang/fr?next=/dashboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = c
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<h1>Tableau de bord</h1>"), "{html}");
    assert!(html.contains(r#"id="nav-dashboard""#));
    for (chart, title) in [
        ("chart-cases-stage", "Dossiers par étape"),
        ("chart-cases-month", "Dossiers par mois de signalement"),
        ("chart-outcomes", "Résultats de l&#39;identification"),
        ("chart-overdue", "Échéances dépassées"),
        ("chart-returns", "Retours par étape"),
    ] {
        let at = html
            .find(&format!(r#"id="{chart}"><svg class="chart""#))
            .unwrap_or_else(|| panic!("{chart} not drawn"));
        let svg = &html[at..];
        let svg = &svg[..svg.find("</svg>").unwrap()];
        assert!(svg.contains(r#"role="img""#), "{chart}");
        assert!(
            svg.contains(&format!("<title>{title}</title>")),
            "{chart}: {svg}"
        );
    }
    // The table beside the stages' chart holds the same numbers, in French words.
    let table = &html[html.find(r#"id="table-cases-stage""#).unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    for (key, label) in [("referred", "Signalé"), ("screening", "Repérage")] {
        let n = e.by_stage[key];
        assert!(
            table.contains(&format!(
                r#"<th scope="row" data-label="Étape">{label}</th><td data-label="Dossiers">{n}</td>"#
            )),
            "{key}: {table}"
        );
    }
    let median = median(e.decision_days.clone()).unwrap();
    let days = format!("{median:.1}").replace(".0", "").replace('.', ",");
    assert!(
        html.contains(&format!(
            "Délai médian entre le signalement et la première décision : {days} jours"
        )),
        "{html}"
    );
    // The auditor's page: the small cells as "< 11".
    let c = app.html_login("auditor@mission.test").await;
    c.get(app.url("/lang/fr?next=/dashboard"))
        .send()
        .await
        .unwrap();
    let r = c.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"id="small-cells""#));
    assert!(
        html.contains("<td data-label=\"Dossiers\">&lt; 11</td>"),
        "{html}"
    );
    // A role without a dashboard gets a page that says so, not a 500; no link to it.
    let c = app.html_login("shelter@ngo.test").await;
    let r = c.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let home = c
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!home.contains(r#"id="nav-dashboard""#));
    assert_eq!(
        audit_log::Entity::find()
            .filter(audit_log::Column::Route.eq("GET /dashboard"))
            .count(&app.services.db)
            .await
            .unwrap(),
        2,
        "the two pages read (the refused one is not a read)"
    );
}
