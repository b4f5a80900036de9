//! Voluntary return, as HTML pages: the return page of a case (its checklist, what holds
//! the next stage back, and a form for each step) and an organisation's returns by stage.
//! The same use cases are in `/api/v1` (`returns`).

use crate::http::{
    Confirm, PageError, Pairs, Reason, Refill, Signed, SignedForm, route, see_other,
};
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::ServiceError;
use passerelle_core::domain::{ConsentGiver, OrgKind, Purpose, Section};
use passerelle_core::returns::{CitizenshipAnswer, DocumentKind, ReturnStage, RiskLevel};
use passerelle_core::service::returns::{
    CheckInput, ChildSafeguardsInput, CitizenshipAnswerInput, CitizenshipInput, CounsellingInput,
    DocumentInput, LegInput, MoveInput, ReceptionInput, ReturnListItem, ReturnRequestInput,
    ReturnView, RiskInput,
};
use serde_json::{Value, json};

/// Checklist items that are met by recording them in their own section, not by a tick.
const OWN_SECTION: &[&str] = &[
    "informed_consent",
    "risk_assessment",
    "citizenship_confirmed",
    "travel_document",
    "reception_arranged",
    "guardian_appointed",
    "best_interests_determination",
];

/// The sections an origin-country organisation may receive on arrival.
const HANDOVER_SECTIONS: &[Section] = &[
    Section::Person,
    Section::Identification,
    Section::Services,
    Section::Placement,
    Section::Return,
];

const R: &str = "/cases/{reference}/return";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/returns", web::get().to(list_page))
        .route(R, web::get().to(page))
        .route(R, web::post().to(request_page))
        .route("/cases/{reference}/return/move", web::post().to(move_page))
        .route(
            "/cases/{reference}/return/withdraw-consent",
            web::get().to(withdraw_confirm),
        )
        .route(
            "/cases/{reference}/return/withdraw-consent",
            web::post().to(withdraw_page),
        )
        .route(
            "/cases/{reference}/return/cancel",
            web::get().to(cancel_confirm),
        )
        .route(
            "/cases/{reference}/return/assessment",
            web::post().to(assess_page),
        )
        .route(
            "/cases/{reference}/return/child-safeguards",
            web::post().to(safeguards_page),
        )
        .route(
            "/cases/{reference}/return/citizenship",
            web::post().to(citizenship_page),
        )
        .route(
            "/cases/{reference}/return/citizenship/{id}/reminder",
            web::post().to(remind_page),
        )
        .route(
            "/cases/{reference}/return/citizenship/{id}/answer",
            web::post().to(answer_page),
        )
        .route(
            "/cases/{reference}/return/documents",
            web::post().to(document_page),
        )
        .route("/cases/{reference}/return/legs", web::post().to(leg_page))
        .route(
            "/cases/{reference}/return/estimates",
            web::post().to(estimate_page),
        )
        .route(
            "/cases/{reference}/return/counselling",
            web::post().to(counselling_page),
        )
        .route(
            "/cases/{reference}/return/reception",
            web::post().to(reception_page),
        )
        .route(
            "/cases/{reference}/return/checks",
            web::post().to(check_page),
        );
}

// ---------- helpers ----------

fn stage_label(s: &Signed, stage: ReturnStage) -> String {
    s.page.t(&format!("return-stage-{}", stage.as_str()))
}

fn options<T: Copy>(s: &Signed, all: &[T], key: impl Fn(T) -> (String, String)) -> Value {
    json!(
        all.iter()
            .map(|x| {
                let (value, label_key) = key(*x);
                json!({"value": value, "label": s.page.t(&label_key)})
            })
            .collect::<Vec<_>>()
    )
}

fn clock_json(c: &passerelle_core::returns::ReturnClock) -> Value {
    json!({
        "days_since_request": c.days_since_request,
        "days_in_stage": c.days_in_stage,
        "stuck": c.stuck,
    })
}

/// The active consents of the case for `purpose`, as select options. The list is a help
/// for the form: when the case cannot be read here, the list is empty and the hint says
/// where consents are recorded.
async fn consents_for(s: &Signed, reference: &str, purpose: Purpose, route: &str) -> Vec<Value> {
    let Ok(case) = s.services().get_case(s.actor(), reference, route).await else {
        return vec![];
    };
    case.consents
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.active && c.purpose == purpose)
        .map(|c| json!({"id": c.id, "label": crate::words::consent_label(&s.page, &c)}))
        .collect()
}

/// Active organisations of one kind (in one country when given), as select options.
async fn orgs_of_kind(
    s: &Signed,
    kind: OrgKind,
    country: Option<&str>,
) -> Result<Vec<Value>, PageError> {
    Ok(s.services()
        .list_orgs()
        .await
        .map_err(|e| s.page.service_error(e))?
        .into_iter()
        .filter(|o| o.active && o.kind == kind && country.is_none_or(|c| o.country == c))
        .map(|o| json!({"id": o.id, "name": o.name}))
        .collect())
}

// ---------- the return page ----------

async fn page(
    s: Signed,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    return_or_request(&s, &req, &reference, None).await
}

/// The return page, or the request form when the case has no return; after a failed
/// POST of one of its forms, with what was typed and what is wrong.
async fn return_or_request(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let route = route(req);
    match s
        .services()
        .return_view(s.actor(), reference, s.page.lang, &route)
        .await
    {
        Ok(v) => return_page(s, reference, &route, v, refill).await,
        // No return yet: the form to request one. The case itself not being found (or
        // not visible) is another error, and gets the usual page.
        Err(ServiceError::NotFound("return")) => {
            request_form_page(s, reference, &route, refill).await
        }
        Err(e) => Err(s.page.service_error(e)),
    }
}

/// May this user request a return on this case? (The service's rule, asked before
/// offering a form it would refuse.)
async fn may_request(s: &Signed, reference: &str) -> Result<bool, PageError> {
    s.services()
        .may_request_return(s.actor(), reference, "GET /cases/{reference}/return")
        .await
        .map_err(|e| s.page.service_error(e))
}

/// The data of the request form (for a case without a return, or after a cancelled one).
async fn request_form(s: &Signed, reference: &str, route: &str) -> Result<Value, PageError> {
    Ok(json!({
        "consents": consents_for(s, reference, Purpose::ReturnAssistance, route).await,
        "agencies": orgs_of_kind(s, OrgKind::ReturnAgency, None).await?,
        "givers": options(s, ConsentGiver::ALL, |g| (g.as_str().to_owned(), format!("giver-{}", g.as_str()))),
    }))
}

async fn request_form_page(
    s: &Signed,
    reference: &str,
    route: &str,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let can_request = may_request(s, reference).await?;
    let mut data = s.page.base("return-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("reference".into(), json!(reference));
        o.insert("has_return".into(), json!(false));
        o.insert("can_request".into(), json!(can_request));
        o.insert(
            "request".into(),
            if can_request {
                request_form(s, reference, route).await?
            } else {
                Value::Null
            },
        );
        o.insert(
            "today".into(),
            json!(chrono::Utc::now().date_naive().to_string()),
        );
    }
    Ok(s.page.show("return", data, refill))
}

async fn return_page(
    s: &Signed,
    reference: &str,
    route: &str,
    v: ReturnView,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let t = |k: &str| s.page.t(k);
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string());
    let cancelled = v.stage == ReturnStage::Cancelled;
    let receiving = v.next == Some(ReturnStage::Received);
    let can_move = v.can_edit
        && v.next
            .is_some_and(|n| n != ReturnStage::Approved || v.can_approve);
    let reintegration = if v.can_edit && receiving {
        consents_for(s, reference, Purpose::Reintegration, route).await
    } else {
        vec![]
    };
    let origin_services = if v.can_edit {
        orgs_of_kind(s, OrgKind::OriginService, Some(&v.destination_country)).await?
    } else {
        vec![]
    };
    let request = if cancelled && may_request(s, reference).await? {
        request_form(s, reference, route).await?
    } else {
        Value::Null
    };
    let costs = crate::routes::funding::pages::return_costs_json(s, reference, route).await;
    let blockers: Vec<Value> = v
        .blockers
        .iter()
        .map(|b| json!({"rule": b.rule, "message": crate::words::refusal(&s.page, b)}))
        .collect();
    let checklist: Vec<Value> = v
        .checklist
        .iter()
        .map(|i| {
            json!({
                "id": i.id, "label": i.label, "met": i.met,
                "needed_for": stage_label(s, i.needed_for),
                "own_section": OWN_SECTION.contains(&i.id.as_str()),
            })
        })
        .collect();
    let own_checks: Vec<Value> = v
        .checklist
        .iter()
        .filter(|i| !OWN_SECTION.contains(&i.id.as_str()))
        .map(|i| json!({"id": i.id, "label": i.label, "met": i.met}))
        .collect();
    let risk = v.risk.as_ref().map(|a| {
        json!({
            "persecution": t(&format!("risk-{}", a.persecution.as_str())),
            "persecution_high": a.persecution == RiskLevel::High,
            "re_trafficking": t(&format!("risk-{}", a.re_trafficking.as_str())),
            "re_trafficking_high": a.re_trafficking == RiskLevel::High,
            "findings": a.findings,
            "safety_plan": a.safety_plan,
            "assessed_on": a.assessed_on.to_string(),
            "author": a.author,
        })
    });
    let citizenship = v
        .citizenship
        .iter()
        .map(|q| {
            json!({
                "id": q.id, "authority": q.authority,
                "sent_on": q.sent_on.to_string(), "due_on": q.due_on.to_string(),
                "reminders": q.reminders, "last_reminder_on": date(q.last_reminder_on),
                "answer": t(&format!("citizenship-answer-{}", q.answer.as_str())),
                "answer_value": q.answer.as_str(),
                "pending": q.answer == CitizenshipAnswer::Pending,
                "answered_on": date(q.answered_on),
                "age_days": q.clock.age_days, "overdue_days": q.clock.overdue_days,
                "overdue": q.clock.overdue,
            })
        })
        .collect::<Vec<_>>();
    let documents = v
        .documents
        .iter()
        .map(|d| {
            json!({
                "kind": t(&format!("document-kind-{}", d.kind.as_str())),
                "issued_by": d.issued_by, "number": d.number,
                "valid_until": d.valid_until.to_string(),
            })
        })
        .collect::<Vec<_>>();
    let legs = v
        .legs
        .iter()
        .map(|g| {
            json!({
                "travel_on": g.travel_on.to_string(), "from": g.from, "to": g.to,
                "escort": g.escort,
                "status": t(&format!("leg-status-{}", g.status)),
                "released": g.status != "booked",
            })
        })
        .collect::<Vec<_>>();
    let timeline = v
        .timeline
        .iter()
        .map(|e| {
            json!({
                "stage": stage_label(s, e.stage),
                "at": e.at.format("%Y-%m-%d %H:%M").to_string(),
                "by": e.by,
            })
        })
        .collect::<Vec<_>>();
    let conflicts = v
        .conflicts
        .iter()
        .map(|c| {
            json!({
                "hearing_on": c.hearing_on.to_string(),
                "kind": t(&format!("hearing-kind-{}", c.hearing_kind.as_str())),
                "departure_on": c.departure_on.to_string(),
                "act_by": c.act_by.to_string(),
            })
        })
        .collect::<Vec<_>>();
    let mut data = s.page.base("return-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("reference".into(), json!(v.reference));
        o.insert("has_return".into(), json!(true));
        o.insert("can_request".into(), json!(!request.is_null()));
        o.insert("request".into(), request);
        o.insert(
            "r".into(),
            json!({
                "stage": stage_label(s, v.stage),
                "stage_value": v.stage.as_str(),
                "version": v.version,
                "jurisdiction": crate::words::jurisdiction(&s.page, &v.jurisdiction),
                "requested_by": t(&format!("giver-{}", v.requested_by.as_str())),
                "requested_on": v.requested_on.to_string(),
                "during_recovery_period": v.during_recovery_period,
                "destination_country": v.destination_country,
                "child": v.child,
                "stateless": v.stateless,
                "consent_id": v.consent_id,
                "consent_language": v.consent_language,
                "consent_form_version": v.consent_form_version,
                "consent_active": v.consent_active,
                "consent_withdrawn": !v.consent_active,
                "explained_by": v.explained_by,
                "agency": v.agency,
                "partner_request": v.partner_request,
                "guardian": v.guardian,
                "best_interests_on": date(v.best_interests_on),
                "best_interests_by": v.best_interests_by,
                "risk": risk,
                "citizenship": citizenship,
                "documents": documents,
                "legs": legs,
                "counselled_on": date(v.counselled_on),
                "counselled_by": v.counselled_by,
                "receiving_org": v.receiving_org,
                "reception_on": date(v.reception_on),
                "departed_on": date(v.departed_on),
                "received_on": date(v.received_on),
                "cancelled": cancelled,
                "cancelled_reason": v.cancelled_reason,
                "received": v.stage == ReturnStage::Received,
                "handed_over": v.handed_over.iter().map(|x| t(&format!("section-{}", x.as_str()))).collect::<Vec<_>>().join(", "),
                "clock": clock_json(&v.clock),
                "next": v.next.map(|n| json!({"value": n.as_str(), "label": stage_label(s, n)})),
                "next_needs_approval": v.next == Some(ReturnStage::Approved),
                // A departure or an arrival is dated the day it happened.
                "next_dated": matches!(v.next, Some(ReturnStage::Departed | ReturnStage::Received)),
                "departing": v.next == Some(ReturnStage::Departed),
                "first_leg": v.legs.iter().filter(|l| l.status == "booked").map(|l| l.travel_on).min().map(|d| d.to_string()),
                "today": chrono::Utc::now().date_naive().to_string(),
                "receiving": receiving,
                "timeline": timeline,
                "conflicts": conflicts,
            }),
        );
        o.insert("checklist".into(), json!(checklist));
        o.insert("own_checks".into(), json!(own_checks));
        o.insert("blockers".into(), json!(blockers));
        o.insert("can_edit".into(), json!(v.can_edit));
        o.insert("can_approve".into(), json!(v.can_approve));
        o.insert("can_move".into(), json!(can_move));
        o.insert(
            "can_cancel".into(),
            json!(v.can_edit && v.stage != ReturnStage::Departed),
        );
        o.insert(
            "can_withdraw".into(),
            json!(v.can_edit && v.consent_active && v.stage != ReturnStage::Departed),
        );
        o.insert("can_cite".into(), json!(v.can_edit && !v.stateless));
        o.insert("reintegration_consents".into(), json!(reintegration));
        o.insert(
            "handover_sections".into(),
            options(s, HANDOVER_SECTIONS, |x| {
                (x.as_str().to_owned(), format!("section-{}", x.as_str()))
            }),
        );
        o.insert("origin_services".into(), json!(origin_services));
        o.insert("costs".into(), costs);
        o.insert(
            "risk_levels".into(),
            options(s, RiskLevel::ALL, |x| {
                (x.as_str().to_owned(), format!("risk-{}", x.as_str()))
            }),
        );
        o.insert(
            "answers".into(),
            options(
                s,
                &[
                    CitizenshipAnswer::Confirmed,
                    CitizenshipAnswer::Refused,
                    CitizenshipAnswer::NoAnswer,
                ],
                |x| {
                    (
                        x.as_str().to_owned(),
                        format!("citizenship-answer-{}", x.as_str()),
                    )
                },
            ),
        );
        o.insert(
            "document_kinds".into(),
            options(s, DocumentKind::ALL, |x| {
                (
                    x.as_str().to_owned(),
                    format!("document-kind-{}", x.as_str()),
                )
            }),
        );
        o.insert(
            "today".into(),
            json!(chrono::Utc::now().date_naive().to_string()),
        );
    }
    Ok(s.page.show("return", data, refill))
}

// ---------- an organisation's returns ----------

fn item_json(i: &ReturnListItem) -> Value {
    json!({
        "reference": i.reference,
        "destination_country": i.destination_country,
        "agency": i.agency,
        "requested_on": i.requested_on.to_string(),
        "clock": clock_json(&i.clock),
        "overdue_citizenship": i.overdue_citizenship,
        "oldest_overdue_days": i.oldest_overdue_days,
        // Flagged while anything on it is late: its stage past the target, or a
        // citizenship request past its due date, whatever stage the return has reached.
        "flagged": needs_attention(i),
        "can_open": i.can_open,
    })
}

/// A return that needs someone: stuck at its stage, or waiting on an overdue
/// citizenship confirmation (which a change of stage does not answer).
fn needs_attention(i: &ReturnListItem) -> bool {
    i.stage.is_open() && (i.clock.stuck || i.overdue_citizenship > 0)
}

async fn list_page(s: Signed, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let items = s
        .services()
        .returns_of_my_org(s.actor(), &route(&req))
        .await
        .map_err(|e| s.page.service_error(e))?;
    let groups: Vec<Value> = ReturnStage::ALL
        .iter()
        .filter_map(|stage| {
            let here: Vec<Value> = items
                .iter()
                .filter(|i| i.stage == *stage)
                .map(item_json)
                .collect();
            (!here.is_empty()).then(|| {
                json!({
                    "stage": stage_label(&s, *stage),
                    "stage_value": stage.as_str(),
                    "count": here.len(),
                    "items": here,
                })
            })
        })
        .collect();
    let mut data = s.page.base("returns-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("groups".into(), json!(groups));
        o.insert(
            "stuck".into(),
            json!(items.iter().filter(|i| needs_attention(i)).count()),
        );
    }
    Ok(s.page.ok("returns", data))
}

// ---------- forms ----------

fn at(reference: &str, anchor: &str) -> String {
    format!("/cases/{reference}/return#{anchor}")
}

/// One form of the return page: its name (for the template's form helpers), the record
/// it is about when there is one per record, the section to go back to, and the message
/// shown after it.
struct Form<'a> {
    name: &'a str,
    key: Option<&'a str>,
    anchor: &'a str,
    flash: &'static str,
}

impl<'a> Form<'a> {
    fn new(name: &'a str, anchor: &'a str, flash: &'static str) -> Self {
        Self {
            name,
            key: None,
            anchor,
            flash,
        }
    }
    fn of(mut self, key: &'a str) -> Self {
        self.key = Some(key);
        self
    }
}

/// The end of every form of the return page: back to its section with the flash message,
/// or the page again with what was typed and what is wrong beside the form.
async fn answer<T>(
    f: &SignedForm<Pairs>,
    req: &HttpRequest,
    reference: &str,
    outcome: Result<T, ServiceError>,
    form: Form<'_>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    match outcome {
        Ok(_) => Ok(s.page.done(&at(reference, form.anchor), form.flash)),
        Err(e) => {
            let r = match form.key {
                Some(k) => f.refill_for(form.name, k, e)?,
                None => f.refill(form.name, e)?,
            };
            return_or_request(s, req, reference, Some(r)).await
        }
    }
}

async fn request_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let outcome = async {
        let input = ReturnRequestInput {
            requested_by: f.form.text("requested_by"),
            consent_id: f.form.text("consent_id"),
            explained_by: f.form.text("explained_by"),
            destination_country: f.form.text("destination_country"),
            agency_org_id: f.sent.number("agency_org_id")?,
            requested_on: f.form.opt("requested_on"),
        };
        s.services()
            .request_return(s.actor(), &reference, &input, &route(&req))
            .await
    }
    .await;
    answer(
        &f,
        &req,
        &reference,
        outcome,
        Form::new("request", "checklist", "flash-return-requested"),
    )
    .await
}

async fn move_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let cancel = f.form.get("to") == Some("cancelled");
    // Cancelling a return is asked for on its own page first.
    if cancel && !f.sent.confirmed() {
        return Ok(see_other(&format!("/cases/{reference}/return/cancel")));
    }
    let outcome = async {
        let input = MoveInput {
            to: f.form.text("to"),
            version: f.sent.required_number("version")?,
            reason: f.form.opt("reason"),
            handover_consent_id: f
                .form
                .opt("handover_consent_id")
                .filter(|c| !c.trim().is_empty()),
            handover_sections: f.form.all("handover_sections"),
            on: f.form.opt("on"),
            early_reason: f.form.opt("early_reason"),
        };
        s.services()
            .move_return(s.actor(), &reference, &input, s.page.lang, &route(&req))
            .await
    }
    .await;
    if cancel {
        return match outcome {
            Ok(_) => Ok(s
                .page
                .done(&at(&reference, "stage"), "flash-return-cancelled")),
            Err(e) => cancel_page(s, &req, &reference, Some(f.refill("confirm", e)?)).await,
        };
    }
    answer(
        &f,
        &req,
        &reference,
        outcome,
        Form::new("move", "stage", "flash-return-moved"),
    )
    .await
}

/// Ask before cancelling a return, and why: the bookings are released, and the case goes
/// back to planning a solution.
async fn cancel_confirm(
    s: Signed,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    cancel_page(&s, &req, &reference, None).await
}

async fn cancel_page(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let v = s
        .services()
        .return_view(s.actor(), reference, s.page.lang, &route(req))
        .await
        .map_err(|e| s.page.service_error(e))?;
    let p = &s.page;
    let booked = v.legs.iter().filter(|l| l.status == "booked").count();
    let mut consequences = vec![p.t("confirm-return-cancel-stage")];
    if booked > 0 {
        consequences.push(p.t_args("confirm-return-legs", &[("n", json!(booked))]));
    }
    consequences.push(p.t("confirm-return-cancel-again"));
    let c = Confirm {
        heading_key: "confirm-return-cancel-title",
        intro: p.t_args(
            "confirm-return-cancel-intro",
            &[("country", json!(v.destination_country))],
        ),
        consequences,
        action: format!("/cases/{reference}/return/move"),
        back: at(reference, "next"),
        button_key: "return-cancel",
        reason: Reason::Required("confirm-return-cancel-reason-hint"),
        hidden: vec![
            ("to", "cancelled".into()),
            ("version", v.version.to_string()),
        ],
    };
    Ok(p.confirm(&c, refill))
}

/// Ask before recording that the person withdrew their consent to return.
async fn withdraw_confirm(
    s: Signed,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    withdraw_confirm_page(&s, &req, &reference, None).await
}

async fn withdraw_confirm_page(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let v = s
        .services()
        .return_view(s.actor(), reference, s.page.lang, &route(req))
        .await
        .map_err(|e| s.page.service_error(e))?;
    let p = &s.page;
    let booked = v.legs.iter().filter(|l| l.status == "booked").count();
    let mut consequences = vec![p.t_args(
        "confirm-withdraw-return",
        &[("country", json!(v.destination_country))],
    )];
    if booked > 0 {
        consequences.push(p.t_args("confirm-return-legs", &[("n", json!(booked))]));
    }
    consequences.push(p.t("confirm-return-withdraw-new-consent"));
    let c = Confirm {
        heading_key: "confirm-return-withdraw-title",
        intro: p.t_args(
            "confirm-return-withdraw-intro",
            &[
                ("language", json!(v.consent_language)),
                ("form", json!(v.consent_form_version)),
            ],
        ),
        consequences,
        action: format!("/cases/{reference}/return/withdraw-consent"),
        back: at(reference, "next"),
        button_key: "confirm-return-withdraw-button",
        reason: Reason::Optional("confirm-withdraw-reason-hint"),
        hidden: vec![],
    };
    Ok(p.confirm(&c, refill))
}

async fn withdraw_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    if !f.sent.confirmed() {
        return Ok(see_other(&format!(
            "/cases/{reference}/return/withdraw-consent"
        )));
    }
    let input = passerelle_core::service::cases::WithdrawalInput {
        reason: f.sent.opt("reason"),
    };
    match s
        .services()
        .withdraw_return_consent(s.actor(), &reference, &input, &route(&req))
        .await
    {
        Ok(()) => Ok(s
            .page
            .done(&at(&reference, "stage"), "flash-return-consent-withdrawn")),
        Err(e) => withdraw_confirm_page(s, &req, &reference, Some(f.refill("confirm", e)?)).await,
    }
}

async fn assess_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = RiskInput {
        persecution: f.form.text("persecution"),
        re_trafficking: f.form.text("re_trafficking"),
        findings: f.form.text("findings"),
        safety_plan: f.form.opt("safety_plan"),
        assessed_on: f.form.opt("assessed_on"),
    };
    let outcome = s
        .services()
        .assess_return(s.actor(), &reference, &input, &route(&req))
        .await;
    answer(
        &f,
        &req,
        &reference,
        outcome,
        Form::new("risk", "risk", "flash-risk-recorded"),
    )
    .await
}

async fn safeguards_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = ChildSafeguardsInput {
        guardian: f.form.opt("guardian"),
        best_interests_on: f.form.opt("best_interests_on"),
        best_interests_by: f.form.opt("best_interests_by"),
    };
    // Two forms post here: the guardian's, and the best-interests determination's.
    let name = if input.guardian.is_some() {
        "guardian"
    } else {
        "best_interests"
    };
    let outcome = s
        .services()
        .child_safeguards(s.actor(), &reference, &input, &route(&req))
        .await;
    answer(
        &f,
        &req,
        &reference,
        outcome,
        Form::new(name, "child", "flash-safeguards-saved"),
    )
    .await
}

async fn citizenship_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = CitizenshipInput {
        authority: f.form.text("authority"),
        sent_on: f.form.opt("sent_on"),
        due_on: f.form.opt("due_on"),
    };
    let outcome = s
        .services()
        .request_citizenship(s.actor(), &reference, &input, &route(&req))
        .await;
    answer(
        &f,
        &req,
        &reference,
        outcome,
        Form::new("citizenship", "citizenship", "flash-citizenship-sent"),
    )
    .await
}

async fn remind_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (reference, id) = path.into_inner();
    let outcome = s
        .services()
        .remind_citizenship(s.actor(), &reference, &id, &route(&req))
        .await;
    answer(
        &f,
        &req,
        &reference,
        outcome,
        Form::new("remind", "citizenship", "flash-reminder-recorded").of(&id),
    )
    .await
}

async fn answer_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (reference, id) = path.into_inner();
    let input = CitizenshipAnswerInput {
        answer: f.form.text("answer"),
        answered_on: f.form.opt("answered_on"),
    };
    let outcome = s
        .services()
        .answer_citizenship(s.actor(), &reference, &id, &input, &route(&req))
        .await;
    answer(
        &f,
        &req,
        &reference,
        outcome,
        Form::new(
            "citizenship_answer",
            "citizenship",
            "flash-citizenship-answered",
        )
        .of(&id),
    )
    .await
}

async fn document_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = DocumentInput {
        kind: f.form.text("kind"),
        issued_by: f.form.text("issued_by"),
        number: f.form.opt("number"),
        valid_until: f.form.text("valid_until"),
    };
    let outcome = s
        .services()
        .add_travel_document(s.actor(), &reference, &input, &route(&req))
        .await;
    answer(
        &f,
        &req,
        &reference,
        outcome,
        Form::new("document", "documents", "flash-document-recorded"),
    )
    .await
}

async fn leg_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = LegInput {
        travel_on: f.form.text("travel_on"),
        from: f.form.text("from"),
        to: f.form.text("to"),
        escort: f.form.opt("escort"),
    };
    let outcome = s
        .services()
        .add_leg(s.actor(), &reference, &input, &route(&req))
        .await;
    answer(
        &f,
        &req,
        &reference,
        outcome,
        Form::new("leg", "itinerary", "flash-leg-recorded"),
    )
    .await
}

/// Estimate one category of the return's costs (the amount as typed, in its currency).
async fn estimate_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = passerelle_core::service::funding::EstimateInput {
        category: f.form.text("category"),
        amount_minor: None,
        amount: Some(f.form.text("amount")),
        currency: f.form.text("currency"),
        note: f.form.opt("note"),
    };
    let outcome = s
        .services()
        .estimate_return_cost(s.actor(), &reference, &input, &route(&req))
        .await;
    answer(
        &f,
        &req,
        &reference,
        outcome,
        Form::new("estimate", "costs", "flash-return-estimated"),
    )
    .await
}

async fn counselling_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = CounsellingInput {
        counselled_on: f.form.opt("counselled_on"),
        counselled_by: f.form.text("counselled_by"),
    };
    let outcome = s
        .services()
        .record_counselling(s.actor(), &reference, &input, &route(&req))
        .await;
    answer(
        &f,
        &req,
        &reference,
        outcome,
        Form::new("counselling", "counselling", "flash-counselling-saved"),
    )
    .await
}

async fn reception_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let outcome = async {
        let input = ReceptionInput {
            receiving_org_id: f.sent.required_number("receiving_org_id")?,
            reception_on: f.form.text("reception_on"),
        };
        s.services()
            .arrange_reception(s.actor(), &reference, &input, &route(&req))
            .await
    }
    .await;
    answer(
        &f,
        &req,
        &reference,
        outcome,
        Form::new("reception", "reception", "flash-reception-saved"),
    )
    .await
}

async fn check_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = CheckInput {
        requirement: f.form.text("requirement"),
        done_on: f.form.opt("done_on"),
        note: f.form.opt("note"),
    };
    let outcome = s
        .services()
        .record_check(s.actor(), &reference, &input, &route(&req))
        .await;
    answer(
        &f,
        &req,
        &reference,
        outcome,
        Form::new("check", "checks", "flash-check-recorded"),
    )
    .await
}
