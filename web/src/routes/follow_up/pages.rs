//! The follow-up page of a case after return: alerts first, then the visits, the
//! assessments' scores (an SVG chart and the same numbers in a table), the reintegration
//! plan, and closing the case; each form posts to its own address and comes back beside
//! its fields when something is wrong.

use crate::chart::{Series, scores_svg};
use crate::http::{PageError, Pairs, Refill, Signed, SignedForm, route};
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::ServiceError;
use passerelle_core::domain::Invalid;
use passerelle_core::follow_up::{
    AlertCategory, Answer, Answers, Delta, Dimension, Direction, PlanKind, PlanStatus, Scale,
    Severity, VisitMode,
};
use passerelle_core::service::cases::CloseInput;
use passerelle_core::service::follow_up::{
    AlertChangeInput, AlertInput, AssessmentInput, ExtendInput, FollowUpView, PlanItemInput,
    PlanItemUpdate, VisitInput,
};
use serde_json::{Value, json};

pub fn configure(cfg: &mut web::ServiceConfig) {
    const P: &str = "/cases/{reference}/follow-up";
    cfg.route(P, web::get().to(page))
        .route(
            "/cases/{reference}/follow-up/visits",
            web::post().to(extend_page),
        )
        .route(
            "/cases/{reference}/follow-up/visits/{id}",
            web::post().to(visit_page),
        )
        .route(
            "/cases/{reference}/follow-up/assessments",
            web::post().to(assessment_page),
        )
        .route(
            "/cases/{reference}/follow-up/plan",
            web::post().to(add_plan_page),
        )
        .route(
            "/cases/{reference}/follow-up/plan/{id}",
            web::post().to(plan_item_page),
        )
        .route(
            "/cases/{reference}/follow-up/alerts",
            web::post().to(raise_alert_page),
        )
        .route(
            "/cases/{reference}/follow-up/alerts/{id}",
            web::post().to(alert_page),
        )
        .route(
            "/cases/{reference}/follow-up/close",
            web::post().to(close_page),
        );
}

fn at(reference: &str, anchor: &str) -> String {
    format!("/cases/{reference}/follow-up#{anchor}")
}

async fn page(
    s: Signed,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    follow_up_page(&s, &req, &reference, None).await
}

/// What an automatic alert says, in the reader's language, from the rule that raised it
/// (`low_score:economic`, `sharp_drop:composite`, `missed_visits`): the stored details are
/// the core's English sentence, with the scores that are also in the table.
pub(crate) fn automatic_alert_text(s: &Signed, rule: Option<&str>) -> Option<String> {
    let (what, dimension) = rule?.split_once(':').unwrap_or((rule?, ""));
    let dimension = match dimension {
        "" => String::new(),
        "composite" => s.page.t("score-composite").to_lowercase(),
        d => s.page.t(&format!("dimension-{d}")).to_lowercase(),
    };
    let key = format!("alert-auto-{what}");
    let text = s.page.t_args(&key, &[("dimension", json!(dimension))]);
    (text != key).then_some(text)
}

fn score_text(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"))
}

fn options<T: Copy>(
    s: &Signed,
    all: &[T],
    name: impl Fn(T) -> &'static str,
    prefix: &str,
) -> Value {
    json!(
        all.iter()
            .map(
                |k| json!({"value": name(*k), "label": s.page.t(&format!("{prefix}-{}", name(*k)))})
            )
            .collect::<Vec<_>>()
    )
}

fn trend_text(s: &Signed, d: &Delta) -> String {
    match (d.delta, d.direction) {
        (Some(x), Some(dir)) => {
            let arrow = match dir {
                Direction::Up => "↑",
                Direction::Down => "↓",
                Direction::Stable => "→",
            };
            format!(
                "{arrow} {x:+.2} ({})",
                s.page.t(&format!("trend-{}", dir.as_str()))
            )
        }
        _ => "–".to_owned(),
    }
}

/// The follow-up page; after a failed POST of one of its forms, with what was typed and
/// what is wrong beside that form.
async fn follow_up_page(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let svc = s.services();
    let (v, set): (FollowUpView, _) = svc
        .follow_up_with_set(s.actor(), reference, &route(req))
        .await
        .map_err(|e| s.page.service_error(e))?;
    let config = v.can_edit.then_some(set);
    let t = |k: &str| s.page.t(k);
    let lang = s.page.lang;
    let visits: Vec<Value> = v
        .visits
        .iter()
        .map(|x| {
            json!({
                "id": x.id, "due_on": x.due_on.to_string(),
                "status": t(&format!("visit-status-{}", x.status)),
                "planned": x.status == "planned",
                "recorded": x.status == "done" || x.status == "missed",
                "happened_on": x.happened_on.map(|d| d.to_string()),
                "mode": x.mode.as_ref().map(|m| t(&format!("visit-mode-{m}"))),
                "visitor": x.visitor, "reason": x.reason,
                "correction_note": x.correction_note,
                "overdue": x.overdue, "added": x.added,
            })
        })
        .collect();
    let dims = [
        (Dimension::Economic, "economic"),
        (Dimension::Social, "social"),
        (Dimension::Psychosocial, "psychosocial"),
    ];
    let assessments: Vec<Value> = v
        .assessments
        .iter()
        .rev()
        .map(|a| {
            let trend = a.trend.as_ref();
            json!({
                "id": a.id, "on": a.assessed_on.to_string(), "by": a.assessed_by,
                "economic": score_text(a.scores.economic.score),
                "social": score_text(a.scores.social.score),
                "psychosocial": score_text(a.scores.psychosocial.score),
                "composite": score_text(a.scores.composite),
                "answered": a.scores.answered, "total": a.scores.total,
                "partial": !a.scores.complete(),
                "trend_economic": trend.map(|t| trend_text(s, &t.economic)),
                "trend_social": trend.map(|t| trend_text(s, &t.social)),
                "trend_psychosocial": trend.map(|t| trend_text(s, &t.psychosocial)),
                "trend_composite": trend.map(|t| trend_text(s, &t.composite)),
                "other_set": trend.is_some_and(|t| !t.same_indicator_set),
                "note": a.note,
            })
        })
        .collect();
    let chart = if v.assessments.is_empty() {
        None
    } else {
        let dates: Vec<String> = v
            .assessments
            .iter()
            .map(|a| a.assessed_on.to_string())
            .collect();
        let mut series: Vec<Series<'_>> = dims
            .iter()
            .map(|(d, class)| Series {
                class,
                label: t(&format!("dimension-{}", d.as_str())),
                points: v
                    .assessments
                    .iter()
                    .map(|a| a.scores.get(*d).score)
                    .collect(),
            })
            .collect();
        series.push(Series {
            class: "composite",
            label: t("score-composite"),
            points: v.assessments.iter().map(|a| a.scores.composite).collect(),
        });
        Some(scores_svg(&t("followup-chart-title"), &dates, &series))
    };
    let plan: Vec<Value> = v
        .plan
        .iter()
        .map(|p| {
            json!({
                "id": p.id, "kind": t(&format!("plan-kind-{}", p.kind)),
                "provider": p.provider, "description": p.description,
                "status_value": p.status,
                "status": t(&format!("plan-status-{}", p.status)),
                "commitment_id": p.commitment_id, "version": p.version,
            })
        })
        .collect();
    let alerts: Vec<Value> = v
        .alerts
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "category": t(&format!("alert-category-{}", a.category.as_str())),
                "severity": t(&format!("severity-{}", a.severity.as_str())),
                "severity_value": a.severity.as_str(),
                "status": t(&format!("alert-status-{}", a.status.as_str())),
                "open": a.status.as_str() == "open",
                "acknowledged": a.status.as_str() == "acknowledged",
                "closed": a.status.as_str() == "closed",
                "automatic": a.automatic,
                "details": if a.automatic {
                    automatic_alert_text(s, a.rule.as_deref()).or_else(|| a.details.clone())
                } else {
                    a.details.clone()
                },
                "action": a.action,
                "owner": a.owner, "raised_by": a.raised_by,
                "raised_at": a.raised_at.date_naive().to_string(),
            })
        })
        .collect();
    let questions: Vec<Value> = config
        .as_ref()
        .map(|c| {
            c.indicators
                .indicators
                .iter()
                .map(|i| {
                    let (choices, numeric) = match &i.scale {
                        Scale::Options { options } => (
                            options
                                .iter()
                                .map(|o| {
                                    json!({
                                        "value": o.id,
                                        "label": o.label.get(lang).or_else(|| o.label.get("en")).cloned().unwrap_or_else(|| o.id.clone()),
                                    })
                                })
                                .collect::<Vec<_>>(),
                            Value::Null,
                        ),
                        Scale::Numeric { min, max, .. } => (vec![], json!({"min": min, "max": max})),
                    };
                    json!({
                        "field": format!("a-{}", i.id),
                        "question": i.question_in(lang),
                        "dimension": t(&format!("dimension-{}", i.dimension.as_str())),
                        "choices": choices, "numeric": numeric,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut data = s.page.base("followup-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("reference".into(), json!(v.reference));
        o.insert("version".into(), json!(v.version));
        o.insert(
            "stage".into(),
            json!(t(&format!("stage-{}", v.stage.as_str()))),
        );
        o.insert("arrived_on".into(), json!(v.arrived_on.to_string()));
        o.insert("org".into(), json!(v.org));
        o.insert(
            "indicator_set".into(),
            json!(format!("{} {}", v.indicator_set, v.indicator_set_version)),
        );
        o.insert("visits".into(), json!(visits));
        o.insert("overdue_visits".into(), json!(v.overdue_visits));
        o.insert("missed_since_contact".into(), json!(v.missed_since_contact));
        o.insert("assessments".into(), json!(assessments));
        o.insert("chart".into(), json!(chart));
        o.insert("plan".into(), json!(plan));
        o.insert("alerts".into(), json!(alerts));
        o.insert("questions".into(), json!(questions));
        o.insert("closed".into(), json!(v.closed));
        o.insert("can_edit".into(), json!(v.can_edit));
        o.insert("can_close".into(), json!(v.can_close));
        o.insert(
            "modes".into(),
            options(s, VisitMode::ALL, VisitMode::as_str, "visit-mode"),
        );
        o.insert(
            "plan_kinds".into(),
            options(s, PlanKind::ALL, PlanKind::as_str, "plan-kind"),
        );
        o.insert(
            "plan_statuses".into(),
            options(s, PlanStatus::ALL, PlanStatus::as_str, "plan-status"),
        );
        let raisable: Vec<AlertCategory> = AlertCategory::ALL
            .iter()
            .copied()
            .filter(|c| !matches!(c, AlertCategory::LowScore | AlertCategory::SharpDrop))
            .collect();
        o.insert(
            "categories".into(),
            options(s, &raisable, AlertCategory::as_str, "alert-category"),
        );
        o.insert(
            "severities".into(),
            options(s, Severity::ALL, Severity::as_str, "severity"),
        );
        o.insert(
            "reasons".into(),
            options(
                s,
                passerelle_core::closing::ClosingReason::ALL,
                passerelle_core::closing::ClosingReason::as_str,
                "closing-reason",
            ),
        );
        o.insert(
            "today".into(),
            json!(chrono::Utc::now().date_naive().to_string()),
        );
    }
    Ok(s.page.show("follow_up", data, refill))
}

async fn again(
    f: &SignedForm<Pairs>,
    req: &HttpRequest,
    reference: &str,
    name: &str,
    key: Option<&str>,
    e: ServiceError,
) -> Result<HttpResponse, PageError> {
    let r = match key {
        Some(k) => f.refill_for(name, k, e)?,
        None => f.refill(name, e)?,
    };
    follow_up_page(&f.signed, req, reference, Some(r)).await
}

async fn visit_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (reference, id) = path.into_inner();
    let input = VisitInput {
        change: f.form.text("change"),
        to: f.form.opt("to"),
        on: f.form.opt("on"),
        mode: f.form.opt("mode"),
        visitor: f.form.opt("visitor"),
        reason: f.form.opt("reason"),
        due_on: f.form.opt("due_on"),
        note: f.form.opt("note"),
    };
    match s
        .services()
        .change_visit(s.actor(), &reference, &id, &input, &route(&req))
        .await
    {
        Ok(_) => Ok(s
            .page
            .done(&at(&reference, &format!("v-{id}")), "flash-visit-recorded")),
        Err(e) => again(&f, &req, &reference, "visit", Some(&id), e).await,
    }
}

async fn extend_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = ExtendInput {
        offsets_days: vec![],
        due_on: vec![f.form.text("due_on")],
    };
    match s
        .services()
        .extend_visits(s.actor(), &reference, &input, &route(&req))
        .await
    {
        Ok(_) => Ok(s.page.done(&at(&reference, "visits"), "flash-visit-added")),
        Err(e) => again(&f, &req, &reference, "extend", None, e).await,
    }
}

/// The answers of the assessment form: `a-<indicator>` fields, an option id or a number;
/// empty ones are left out (unanswered).
fn answers_of(
    form: &Pairs,
    config: &passerelle_core::follow_up::IndicatorSet,
) -> Result<Answers, ServiceError> {
    let mut out = Answers::new();
    for i in &config.indicators {
        let Some(v) = form.opt(&format!("a-{}", i.id)) else {
            continue;
        };
        // The form offers only the scale's answers; anything else was not typed on it,
        // and is said in the reader's language rather than with the core's ids.
        let outside = || Invalid::new("answers", "the answers must be within their scales");
        let a = match &i.scale {
            Scale::Options { options } => {
                if !options.iter().any(|o| o.id == v) {
                    return Err(outside().into());
                }
                Answer::Choice { option: v }
            }
            Scale::Numeric { min, max, .. } => {
                let value = v.replace(',', ".").parse::<f64>().map_err(|_| outside())?;
                if !(value.is_finite() && (*min..=*max).contains(&value)) {
                    return Err(outside().into());
                }
                Answer::Number { value }
            }
        };
        out.insert(i.id.clone(), a);
    }
    Ok(out)
}

async fn assessment_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let svc = s.services();
    let result = async {
        let config = svc
            .indicator_set_for(s.actor(), &reference, &route(&req))
            .await?;
        let input = AssessmentInput {
            assessed_on: f.form.opt("assessed_on"),
            answers: answers_of(&f.form, &config.indicators)?,
            note: f.form.opt("note"),
        };
        svc.add_assessment(s.actor(), &reference, &input, &route(&req))
            .await
    }
    .await;
    match result {
        Ok(a) => Ok(s.page.done(
            &at(&reference, &format!("a-{}", a.id)),
            "flash-assessment-recorded",
        )),
        Err(e) => again(&f, &req, &reference, "assessment", None, e).await,
    }
}

async fn add_plan_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = PlanItemInput {
        kind: f.form.text("kind"),
        provider: f.form.text("provider"),
        description: f.form.opt("description"),
        status: f.form.opt("status"),
        commitment_id: f.form.opt("commitment_id"),
    };
    match s
        .services()
        .add_plan_item(s.actor(), &reference, &input, &route(&req))
        .await
    {
        Ok(id) => Ok(s
            .page
            .done(&at(&reference, &format!("p-{id}")), "flash-plan-item-added")),
        Err(e) => again(&f, &req, &reference, "plan", None, e).await,
    }
}

async fn plan_item_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (reference, id) = path.into_inner();
    let result = async {
        let input = PlanItemUpdate {
            version: f.form.required_number("version")?,
            status: f.form.opt("status"),
            provider: None,
            description: None,
            commitment_id: f.form.get("commitment_id").map(|c| c.trim().to_owned()),
        };
        s.services()
            .update_plan_item(s.actor(), &reference, &id, &input, &route(&req))
            .await
    }
    .await;
    match result {
        Ok(()) => Ok(s
            .page
            .done(&at(&reference, &format!("p-{id}")), "flash-plan-item-saved")),
        Err(e) => again(&f, &req, &reference, "plan_item", Some(&id), e).await,
    }
}

async fn raise_alert_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = AlertInput {
        category: f.form.text("category"),
        severity: f.form.text("severity"),
        details: f.form.opt("details"),
        owner_user_id: None,
    };
    match s
        .services()
        .raise_alert(s.actor(), &reference, &input, &route(&req))
        .await
    {
        Ok(id) => Ok(s
            .page
            .done(&at(&reference, &format!("al-{id}")), "flash-alert-raised")),
        Err(e) => again(&f, &req, &reference, "alert", None, e).await,
    }
}

async fn alert_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (reference, id) = path.into_inner();
    let input = AlertChangeInput {
        change: f.form.text("change"),
        action: f.form.opt("action"),
    };
    match s
        .services()
        .change_alert(s.actor(), &reference, &id, &input, &route(&req))
        .await
    {
        Ok(()) => Ok(s
            .page
            .done(&at(&reference, &format!("al-{id}")), "flash-alert-saved")),
        Err(e) => again(&f, &req, &reference, "alert_change", Some(&id), e).await,
    }
}

async fn close_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let result = async {
        let input = CloseInput {
            version: f.form.required_number("version")?,
            reason: f.form.text("reason"),
            status: f.form.opt("status"),
            note: f.form.opt("note"),
        };
        s.services()
            .close_case(s.actor(), &reference, &input, &route(&req))
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(s
            .page
            .done(&format!("/cases/{reference}"), "flash-case-closed")),
        Err(e) => again(&f, &req, &reference, "close", None, e).await,
    }
}
