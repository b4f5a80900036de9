//! The start page ("/"): each role's home, opening on what needs them, with their cases
//! below.
//!
//! What a home shows, and in which order, follows the role (see [`blocks_for`]):
//! deadlines that are overdue or near (hearing conflicts, citizenship confirmations,
//! return clocks and the stored ones), returns that are stuck or have an overdue
//! citizenship request, referrals waiting for the organisation's answer, and the cases.
//! The system administrator, who never sees case data, gets the administration's start.
//!
//! Names: a row shows the person's name (and aliases) only where the caller may see the
//! person section (`Services::person_labels`, each read audited). Sorting is by a word in
//! the query string (`?sort=deadline`), never by anything personal.

use crate::http::{Page, PageError, Signed, route, see_other};
use crate::routes::identification::deadline_json;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::deadlines::{CITIZENSHIP_CONFIRMATION, HEARING_CONFLICT, RETURN_STAGE_TARGET};
use passerelle_core::domain::{Paging, Role, Stage};
use passerelle_core::returns::ReturnStage;
use passerelle_core::service::cases::{CaseSummary, PersonLabel, Scope};
use passerelle_core::service::deadlines::{DeadlineFilter, DeadlineView};
use passerelle_core::service::referrals::ReferralView;
use passerelle_core::service::returns::ReturnListItem;
use serde::Deserialize;
use serde_json::{Value, json};

/// A deadline due within this many days is "near" and shows on the home.
pub const NEAR_DAYS: i64 = 14;
/// How many of the caller's cases the home lists (the caseload page has them all).
const HOME_CASES: u64 = 100;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home));
}

/// The parts of a home, in the order a role sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    Deadlines,
    Returns,
    Referrals,
    Cases,
    /// Follow-up visits due, overdue or missed (the follow-up officer's).
    Visits,
    /// Open alerts after return: in full for the follow-up officer, as category and
    /// severity for the destination advocate.
    Alerts,
}

impl Block {
    fn as_str(self) -> &'static str {
        match self {
            Block::Deadlines => "deadlines",
            Block::Returns => "returns",
            Block::Referrals => "referrals",
            Block::Cases => "cases",
            Block::Visits => "visits",
            Block::Alerts => "alerts",
        }
    }
}

/// What each role's home opens on. The work that waits on this role comes first: a
/// shelter answers referrals, a return officer moves returns, an advocate and a
/// follow-up officer meet deadlines, an administrator oversees what is overdue in the
/// whole organisation. The cases are always last.
pub fn blocks_for(role: Role) -> &'static [Block] {
    use Block::*;
    match role {
        Role::Advocate => &[Deadlines, Alerts, Referrals, Cases],
        Role::ShelterCoordinator => &[Referrals, Deadlines, Cases],
        Role::ReturnOfficer => &[Returns, Deadlines, Referrals, Cases],
        Role::FollowUpOfficer => &[Visits, Alerts, Deadlines, Referrals, Cases],
        Role::OrgAdmin => &[Deadlines, Returns, Referrals, Cases],
        Role::Auditor => &[Cases],
        Role::SystemAdmin | Role::FundManager | Role::Statistician => &[],
    }
}

#[derive(Deserialize)]
pub struct HomeQuery {
    sort: Option<String>,
}

/// How the cases are sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    Deadline,
    Reference,
    Name,
    Stage,
    Updated,
}

impl Sort {
    const ALL: &'static [Sort] = &[
        Sort::Deadline,
        Sort::Reference,
        Sort::Name,
        Sort::Stage,
        Sort::Updated,
    ];
    fn as_str(self) -> &'static str {
        match self {
            Sort::Deadline => "deadline",
            Sort::Reference => "reference",
            Sort::Name => "name",
            Sort::Stage => "stage",
            Sort::Updated => "updated",
        }
    }
    fn parse(s: Option<&str>) -> Option<Sort> {
        match s.map(str::trim) {
            None | Some("") => Some(Sort::Deadline),
            Some(v) => Sort::ALL.iter().copied().find(|x| x.as_str() == v),
        }
    }
}

async fn home(
    page: Page,
    req: HttpRequest,
    q: web::Query<HomeQuery>,
) -> Result<HttpResponse, PageError> {
    let Some(session) = page.session.clone() else {
        return Ok(see_other("/login"));
    };
    let s = Signed { page, session };
    if s.actor().role == Role::SystemAdmin {
        return system_admin_home(&s).await;
    }
    // Fund managers have no caseload: their work (approvals, balances) is on the funds.
    if s.actor().role == Role::FundManager {
        return Ok(see_other("/funds"));
    }
    // A statistician's only work is the statistics export.
    if s.actor().role == Role::Statistician {
        return Ok(see_other("/statistics"));
    }
    let Some(sort) = Sort::parse(q.sort.as_deref()) else {
        return Err(s.page.fail(
            StatusCode::BAD_REQUEST,
            "error-invalid",
            s.page.t("home-bad-sort"),
        ));
    };
    let route = route(&req);
    let role = s.actor().role;
    let blocks = blocks_for(role);
    let svc = s.services();
    let fail = |e| s.page.service_error(e);

    // What needs the caller: every open deadline of their cases (the near and overdue
    // ones are the urgent list; the earliest of each case is its "next deadline").
    let deadlines: Vec<DeadlineView> = if blocks.contains(&Block::Deadlines) {
        svc.my_deadlines(
            s.actor(),
            &DeadlineFilter::default(),
            Paging {
                page: 1,
                per_page: Paging::MAX_PER_PAGE,
            },
            &route,
        )
        .await
        .map_err(fail)?
        .items
    } else {
        vec![]
    };
    let returns: Vec<ReturnListItem> = if blocks.contains(&Block::Returns) {
        svc.returns_of_my_org(s.actor(), &route)
            .await
            .map_err(fail)?
            .into_iter()
            .filter(|r| {
                r.stage.is_open()
                    && r.stage != ReturnStage::Received
                    && (r.clock.stuck || r.overdue_citizenship > 0)
            })
            .collect()
    } else {
        vec![]
    };
    let pending: Vec<ReferralView> = if blocks.contains(&Block::Referrals) {
        svc.referral_lists(s.actor(), &route)
            .await
            .map_err(fail)?
            .0
            .into_iter()
            .filter(|r| r.status == "pending")
            .collect()
    } else {
        vec![]
    };
    let visits = if blocks.contains(&Block::Visits) {
        svc.due_visits(s.actor(), &route).await.map_err(fail)?
    } else {
        vec![]
    };
    let alerts = if blocks.contains(&Block::Alerts) {
        svc.my_alerts(s.actor(), &route).await.map_err(fail)?
    } else {
        vec![]
    };
    let (cases, total): (Vec<CaseSummary>, u64) = if blocks.contains(&Block::Cases) {
        let scope = if role == Role::Advocate {
            Scope::Mine
        } else {
            Scope::Organisation
        };
        let p = svc
            .caseload(s.actor(), scope, None, 1, HOME_CASES, &route)
            .await
            .map_err(fail)?;
        (p.items, p.total)
    } else {
        (vec![], 0)
    };

    // Names, where the caller may see them (each read audited by the core).
    let mut refs: Vec<String> = cases
        .iter()
        .map(|c| c.reference.clone())
        .chain(deadlines.iter().map(|d| d.reference.clone()))
        .chain(returns.iter().map(|r| r.reference.clone()))
        .chain(visits.iter().map(|v| v.reference.clone()))
        .chain(alerts.iter().map(|a| a.reference.clone()))
        .collect();
    refs.sort();
    refs.dedup();
    let names = svc
        .person_labels(s.actor(), &refs, &route)
        .await
        .map_err(fail)?;
    let name_of = |r: &str| -> Value { label_json(names.get(r)) };

    let urgent: Vec<Value> = deadlines
        .iter()
        // A hearing conflict is urgent however far its date: the measure that replaces
        // the person's presence takes time to obtain.
        .filter(|d| d.overdue || d.days_left <= NEAR_DAYS || d.kind == HEARING_CONFLICT)
        .map(|d| {
            let mut v = deadline_json(&s, d);
            if let Some(o) = v.as_object_mut() {
                o.insert("person".into(), name_of(&d.reference));
            }
            v
        })
        .collect();
    let overdue_count = deadlines.iter().filter(|d| d.overdue).count();

    let returns_json: Vec<Value> = returns
        .iter()
        .map(|r| {
            json!({
                "reference": r.reference,
                "person": name_of(&r.reference),
                "stage": s.page.t(&format!("return-stage-{}", r.stage.as_str())),
                "days_in_stage": r.clock.days_in_stage,
                "stuck": r.clock.stuck,
                "overdue_citizenship": r.overdue_citizenship,
                "can_open": r.can_open,
            })
        })
        .collect();

    let i18n = &s.page.state.i18n;
    let visits_json: Vec<Value> = visits
        .iter()
        .map(|v| {
            json!({
                "reference": v.reference,
                "person": name_of(&v.reference),
                "visit_id": v.visit_id,
                "due_on": v.due_on.to_string(),
                "status": s.page.t(&format!("visit-status-{}", v.status)),
                "missed": v.status == "missed",
                "overdue": v.overdue || v.status == "missed",
                "when": if v.status == "missed" {
                    s.page.t("deadline-follow_up_visit_missed")
                } else if v.days_left < 0 {
                    i18n.t1(s.page.lang, "deadline-overdue-by", "n", -v.days_left)
                } else if v.days_left == 0 {
                    s.page.t("deadline-due-today")
                } else {
                    i18n.t1(s.page.lang, "deadline-due-in", "n", v.days_left)
                },
            })
        })
        .collect();
    let follows = role == Role::FollowUpOfficer;
    let alerts_json: Vec<Value> = alerts
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "reference": a.reference,
                "person": name_of(&a.reference),
                "href": if follows { format!("/cases/{}/follow-up#al-{}", a.reference, a.id) } else { format!("/cases/{}#alerts", a.reference) },
                "category": s.page.t(&format!("alert-category-{}", a.category.as_str())),
                "severity": s.page.t(&format!("severity-{}", a.severity.as_str())),
                "severity_value": a.severity.as_str(),
                "status": s.page.t(&format!("alert-status-{}", a.status.as_str())),
                "raised_on": a.raised_at.date_naive().to_string(),
                "details": if a.automatic && a.details.is_some() {
                    crate::routes::follow_up::automatic_alert_text(&s, a.rule.as_deref()).or_else(|| a.details.clone())
                } else {
                    a.details.clone()
                },
            })
        })
        .collect();

    let referrals_json: Vec<Value> = pending
        .iter()
        .map(|r| crate::routes::care::inbox_facts(&s, r))
        .collect();

    let mut rows: Vec<(CaseSummary, Option<&DeadlineView>, Value)> = cases
        .into_iter()
        .map(|c| {
            let next = deadlines.iter().find(|d| d.reference == c.reference);
            let person = name_of(&c.reference);
            (c, next, person)
        })
        .collect();
    let shows_names = rows.iter().any(|(_, _, p)| !p.is_null());
    sort_rows(&mut rows, sort);
    let case_rows: Vec<Value> = rows
        .iter()
        .map(|(c, next, person)| {
            let mine: Vec<&DeadlineView> = deadlines
                .iter()
                .filter(|d| d.reference == c.reference)
                .collect();
            json!({
                "reference": c.reference,
                "person": person,
                "stage": s.page.t(&format!("stage-{}", c.stage.as_str())),
                "shared": c.access == "shared",
                "updated": c.updated_at.date_naive().to_string(),
                "next": next.map(|d| deadline_json(&s, d)),
                "overdue": mine.iter().any(|d| d.overdue),
                "conflict": mine.iter().any(|d| d.kind == HEARING_CONFLICT),
                "citizenship": mine.iter().any(|d| d.kind == CITIZENSHIP_CONFIRMATION && d.overdue),
                "stuck": mine.iter().any(|d| d.kind == RETURN_STAGE_TARGET && d.overdue),
            })
        })
        .collect();
    let sorts: Vec<Value> = Sort::ALL
        .iter()
        .filter(|x| **x != Sort::Name || shows_names)
        .map(|x| {
            json!({
                "value": x.as_str(),
                "label": s.page.t(&format!("home-sort-{}", x.as_str())),
                "current": *x == sort,
            })
        })
        .collect();

    let mut data = s.page.base("home-title");
    if let Some(o) = data.as_object_mut() {
        o.insert(
            "blocks".into(),
            json!(blocks.iter().map(|b| b.as_str()).collect::<Vec<_>>()),
        );
        o.insert(
            "role_label".into(),
            json!(s.page.t(&format!("role-{}", role.as_str()))),
        );
        o.insert("admin".into(), json!(role == Role::OrgAdmin));
        o.insert("urgent".into(), json!(urgent));
        o.insert("overdue_count".into(), json!(overdue_count));
        o.insert("near_days".into(), json!(NEAR_DAYS));
        o.insert("returns".into(), json!(returns_json));
        o.insert("referrals".into(), json!(referrals_json));
        o.insert("visits".into(), json!(visits_json));
        o.insert("alerts".into(), json!(alerts_json));
        o.insert("follows".into(), json!(follows));
        o.insert("cases".into(), json!(case_rows));
        o.insert("cases_total".into(), json!(total));
        o.insert("cases_more".into(), json!(total > case_rows.len() as u64));
        o.insert("mine".into(), json!(role == Role::Advocate));
        o.insert("shows_names".into(), json!(shows_names));
        o.insert("sorts".into(), json!(sorts));
    }
    Ok(s.page.ok("home", data))
}

/// A person's name and aliases for a row; null when the caller may not see them.
pub fn label_json(l: Option<&PersonLabel>) -> Value {
    match l {
        Some(l) => json!({"name": l.name, "aliases": l.aliases}),
        None => Value::Null,
    }
}

fn stage_rank(st: Stage) -> usize {
    Stage::ALL.iter().position(|x| *x == st).unwrap_or(0)
}

fn sort_rows(rows: &mut [(CaseSummary, Option<&DeadlineView>, Value)], sort: Sort) {
    let name = |v: &Value| -> String {
        v.get("name")
            .and_then(Value::as_str)
            .map(str::to_lowercase)
            .unwrap_or_default()
    };
    match sort {
        // Cases with a deadline first, soonest first; then the most recently active.
        Sort::Deadline => rows.sort_by(|a, b| match (a.1, b.1) {
            (Some(x), Some(y)) => x.due_on.cmp(&y.due_on),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => b.0.updated_at.cmp(&a.0.updated_at),
        }),
        Sort::Reference => rows.sort_by(|a, b| a.0.reference.cmp(&b.0.reference)),
        Sort::Name => rows.sort_by(|a, b| {
            name(&a.2)
                .cmp(&name(&b.2))
                .then(a.0.reference.cmp(&b.0.reference))
        }),
        Sort::Stage => rows.sort_by(|a, b| {
            stage_rank(a.0.stage)
                .cmp(&stage_rank(b.0.stage))
                .then(a.0.reference.cmp(&b.0.reference))
        }),
        Sort::Updated => rows.sort_by_key(|r| std::cmp::Reverse(r.0.updated_at)),
    }
}

/// The system administrator's start: the deployment's organisations, users and plugins
/// (they run the deployment and never see case data).
async fn system_admin_home(s: &Signed) -> Result<HttpResponse, PageError> {
    let orgs = s
        .services()
        .list_orgs()
        .await
        .map_err(|e| s.page.service_error(e))?;
    let users = s
        .services()
        .list_users(s.actor())
        .await
        .map_err(|e| s.page.service_error(e))?;
    let mut data = s.page.base("home-admin-title");
    if let Some(o) = data.as_object_mut() {
        o.insert(
            "orgs".into(),
            json!(orgs.iter().filter(|o| o.active).count()),
        );
        o.insert(
            "users".into(),
            json!(users.iter().filter(|u| u.active).count()),
        );
        o.insert("plugins".into(), json!(s.page.state.plugins.is_some()));
    }
    Ok(s.page.ok("home_admin", data))
}
