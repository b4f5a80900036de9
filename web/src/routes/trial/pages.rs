//! Protection at trial: the proceedings page with its hearing calendar, measure
//! requests and decisions, the planned departure and the conflicts; and the same in
//! `/api/v1`.

use crate::http::{
    Confirm, PageError, Pairs, Reason, Refill, Signed, SignedForm, route, see_other,
};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::service::trial::{
    CooperationInput, DepartureInput, HearingInput, HearingView, MeasureDecisionInput,
    MeasureRequestInput, ProceedingInput, ProceedingsView, ReasonInput,
};
use passerelle_core::trial::{
    Alternative, Charge, Conflict, HearingKind, MeasureStatus, PersonRole,
};
use serde_json::{Value, json};
use std::collections::HashMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    const P: &str = "/cases/{reference}/proceedings";
    cfg.route(P, web::get().to(page))
        .route(P, web::post().to(add_proceeding_page))
        .route(
            "/cases/{reference}/proceedings/{id}/cooperation",
            web::post().to(cooperation_page),
        )
        .route(
            "/cases/{reference}/proceedings/{id}/close",
            web::get().to(close_confirm),
        )
        .route(
            "/cases/{reference}/proceedings/{id}/close",
            web::post().to(close_page),
        )
        .route(
            "/cases/{reference}/proceedings/{id}/hearings",
            web::post().to(add_hearing_page),
        )
        .route(
            "/cases/{reference}/hearings/{id}/cancel",
            web::get().to(cancel_hearing_confirm),
        )
        .route(
            "/cases/{reference}/hearings/{id}/cancel",
            web::post().to(cancel_hearing_page),
        )
        .route(
            "/cases/{reference}/proceedings/{id}/measures",
            web::post().to(request_measure_page),
        )
        .route(
            "/cases/{reference}/measures/{id}/decision",
            web::post().to(decide_measure_page),
        )
        .route(
            "/cases/{reference}/departure",
            web::post().to(departure_page),
        )
        .route(
            "/cases/{reference}/departure/clear",
            web::get().to(clear_departure_confirm),
        )
        .route(
            "/cases/{reference}/departure/clear",
            web::post().to(clear_departure_page),
        );
}

fn alternative_json(s: &Signed, labels: &HashMap<String, String>, a: &Alternative) -> Value {
    json!({
        "measure": a.measure,
        "label": labels.get(&a.measure).cloned().unwrap_or_else(|| a.measure.clone()),
        "request_by": a.request_by.to_string(),
        "late": a.late,
        "pending": a.pending_request.is_some(),
        "refused": a.refused,
        "state": if a.pending_request.is_some() { s.page.t("conflict-pending") }
            else if a.refused { s.page.t("conflict-refused") } else { String::new() },
    })
}

/// Conflicts as the case and proceedings pages show them.
pub fn conflicts_json(s: &Signed, labels: &HashMap<String, String>, list: &[Conflict]) -> Value {
    json!(
        list.iter()
            .map(|c| json!({
                "hearing_id": c.hearing_id,
                "proceeding_id": c.proceeding_id,
                "hearing_on": c.hearing_on.to_string(),
                "kind": s.page.t(&format!("hearing-kind-{}", c.hearing_kind.as_str())),
                "departure_on": c.departure_on.to_string(),
                "act_by": c.act_by.to_string(),
                "alternatives": c.alternatives.iter().map(|a| alternative_json(s, labels, a)).collect::<Vec<_>>(),
                "no_alternative": c.alternatives.is_empty(),
            }))
            .collect::<Vec<_>>()
    )
}

async fn page(
    s: Signed,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    proceedings_page(&s, &req, &reference, None).await
}

async fn view(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
) -> Result<ProceedingsView, PageError> {
    s.services()
        .proceedings(s.actor(), reference, s.page.lang, &route(req))
        .await
        .map_err(|e| s.page.service_error(e))
}

/// The proceedings page; after a failed POST of one of its forms, with what was typed and
/// what is wrong beside that form.
async fn proceedings_page(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let v = view(s, req, reference).await?;
    let t = |k: &str| s.page.t(k);
    let labels: HashMap<String, String> = v
        .catalogue
        .iter()
        .map(|m| {
            (
                m.id.clone(),
                m.label
                    .get(s.page.lang)
                    .or_else(|| m.label.get("en"))
                    .cloned()
                    .unwrap_or_else(|| m.id.clone()),
            )
        })
        .collect();
    let label = |id: &str| labels.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let hearing_json = |h: &HearingView, court: &str| {
        json!({
            "id": h.id, "proceeding_id": h.proceeding_id, "court": court,
            "held_on": h.held_on.to_string(),
            "kind": t(&format!("hearing-kind-{}", h.kind.as_str())),
            "needs": match (h.testimony_required, h.presence_required) {
                (true, true) => t("hearing-needs-both"),
                (true, false) => t("hearing-needs-testimony"),
                (false, true) => t("hearing-needs-presence"),
                (false, false) => t("hearing-needs-none"),
            },
            "mode": t(&format!("testimony-mode-{}", h.testimony_mode.as_str())),
            "measures": h.measures.iter().map(|m| label(m)).collect::<Vec<_>>().join(", "),
            "notes": h.notes, "cancelled": h.cancelled, "cancel_reason": h.cancel_reason,
            "past": h.past, "conflict": h.conflict,
        })
    };
    let mut calendar: Vec<(chrono::NaiveDate, Value)> = Vec::new();
    let proceedings: Vec<Value> = v
        .proceedings
        .iter()
        .map(|p| {
            for h in &p.hearings {
                calendar.push((h.held_on, hearing_json(h, &p.court)));
            }
            json!({
                "id": p.id, "open": p.open, "court": p.court, "jurisdiction": p.jurisdiction,
                "case_number": p.case_number,
                "charges": p.charges.iter().map(|c| t(&format!("charge-{}", c.as_str()))).collect::<Vec<_>>().join(", "),
                "person_role": t(&format!("person-role-{}", p.person_role.as_str())),
                "prosecutor": p.prosecutor, "investigator": p.investigator,
                "cooperation": match p.cooperation_required {
                    None => t("cooperation-unknown"),
                    Some(true) => t("cooperation-required"),
                    Some(false) => t("cooperation-not-required"),
                },
                "cooperation_decided_by": p.cooperation_decided_by,
                "cooperation_decided_on": p.cooperation_decided_on.map(|d| d.to_string()),
                "advocate_at_first_interview": p.advocate_at_first_interview,
                "close_reason": p.close_reason,
                "hearings": p.hearings.iter().map(|h| hearing_json(h, &p.court)).collect::<Vec<_>>(),
                "open_hearings": p.hearings.iter().filter(|h| !h.cancelled).map(|h| json!({
                    "id": h.id,
                    "label": format!("{} — {}", h.held_on, t(&format!("hearing-kind-{}", h.kind.as_str()))),
                })).collect::<Vec<_>>(),
                "measures": p.measures.iter().map(|m| {
                    let hearing = m.hearing_id.as_ref().and_then(|hid| p.hearings.iter().find(|h| &h.id == hid));
                    json!({
                        "id": m.id, "label": m.label,
                        "scope": match hearing {
                            Some(h) => format!("{} — {}", h.held_on, t(&format!("hearing-kind-{}", h.kind.as_str()))),
                            None => t("measure-whole-proceeding"),
                        },
                        "status": t(&format!("measure-status-{}", m.status.as_str())),
                        "pending": m.status == MeasureStatus::Requested,
                        "granted": m.status == MeasureStatus::Granted,
                        "requested_on": m.requested_on.to_string(),
                        "requested_by": m.requested_by,
                        "decided_on": m.decided_on.map(|d| d.to_string()),
                        "reason": m.reason,
                        "authority": m.authority.map(|a| t(&format!("body-{}", a.as_str()))),
                        "decision_reference": m.decision_reference,
                        "deciders": m.decided_by.iter().map(|b| json!({"value": b.as_str(), "label": t(&format!("body-{}", b.as_str()))})).collect::<Vec<_>>(),
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    calendar.sort_by_key(|(d, _)| *d);
    let mut data = s.page.base("proceedings-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("reference".into(), json!(v.reference));
        o.insert(
            "jurisdiction".into(),
            json!(crate::words::jurisdiction(&s.page, &v.jurisdiction)),
        );
        o.insert("can_edit".into(), json!(v.can_edit));
        o.insert(
            "departure".into(),
            match &v.departure {
                Some(d) => json!({"on": d.departure_on.to_string(), "note": d.note}),
                None => Value::Null,
            },
        );
        o.insert("conflicts".into(), conflicts_json(s, &labels, &v.conflicts));
        o.insert(
            "calendar".into(),
            json!(calendar.into_iter().map(|(_, h)| h).collect::<Vec<_>>()),
        );
        o.insert("proceedings".into(), json!(proceedings));
        o.insert(
            "catalogue".into(),
            json!(
                v.catalogue
                    .iter()
                    .map(|m| json!({"id": m.id, "label": label(&m.id), "replaces_presence": m.replaces_presence}))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert(
            "kinds".into(),
            json!(
                HearingKind::ALL
                    .iter()
                    .map(|k| json!({"value": k.as_str(), "label": t(&format!("hearing-kind-{}", k.as_str()))}))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert(
            "roles".into(),
            json!(
                PersonRole::ALL
                    .iter()
                    .map(|k| json!({"value": k.as_str(), "label": t(&format!("person-role-{}", k.as_str()))}))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert(
            "charges".into(),
            json!(
                Charge::ALL
                    .iter()
                    .map(|k| json!({"value": k.as_str(), "label": t(&format!("charge-{}", k.as_str()))}))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert(
            "today".into(),
            json!(chrono::Utc::now().date_naive().to_string()),
        );
    }
    Ok(s.page.show("proceedings", data, refill))
}

fn at(reference: &str, anchor: &str) -> String {
    format!("/cases/{reference}/proceedings#{anchor}")
}

async fn add_proceeding_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = ProceedingInput {
        court: f.form.text("court"),
        jurisdiction: f.form.text("jurisdiction"),
        case_number: f.form.text("case_number"),
        charges: f.form.all("charges"),
        person_role: f.form.text("person_role"),
        prosecutor: f.form.opt("prosecutor"),
        investigator: f.form.opt("investigator"),
    };
    match s
        .services()
        .add_proceeding(s.actor(), &reference, &input, &route(&req))
        .await
    {
        Ok(id) => Ok(s.page.done(
            &at(&reference, &format!("p-{id}")),
            "flash-proceeding-recorded",
        )),
        Err(e) => proceedings_page(s, &req, &reference, Some(f.refill("proceeding", e)?)).await,
    }
}

async fn cooperation_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (reference, id) = path.into_inner();
    let input = CooperationInput {
        required: f.form.get("required") == Some("yes"),
        decided_by: f.form.text("decided_by"),
        decided_on: f.form.opt("decided_on"),
        advocate_at_first_interview: f.form.checked("advocate_at_first_interview"),
    };
    match s
        .services()
        .record_cooperation(s.actor(), &reference, &id, &input, &route(&req))
        .await
    {
        Ok(()) => Ok(s.page.done(
            &at(&reference, &format!("p-{id}")),
            "flash-cooperation-saved",
        )),
        Err(e) => {
            let r = f.refill_for("cooperation", &id, e)?;
            proceedings_page(s, &req, &reference, Some(r)).await
        }
    }
}

/// Ask before closing a proceeding, and why: nothing can be recorded in it afterwards,
/// and its hearings no longer raise conflicts.
async fn close_confirm(
    s: Signed,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (reference, id) = path.into_inner();
    close_confirm_page(&s, &req, &reference, &id, None).await
}

async fn close_confirm_page(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
    id: &str,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let v = view(s, req, reference).await?;
    let p = v
        .proceedings
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| not_found(s, "what-proceeding"))?;
    let upcoming = p
        .hearings
        .iter()
        .filter(|h| !h.cancelled && !h.past)
        .count();
    let conflicts = v.conflicts.iter().filter(|c| c.proceeding_id == id).count();
    let pg = &s.page;
    let mut consequences = vec![pg.t("confirm-close-nothing-more")];
    if upcoming > 0 {
        consequences.push(pg.t_args("confirm-close-hearings", &[("n", json!(upcoming))]));
    }
    if conflicts > 0 {
        consequences.push(pg.t_args("confirm-conflicts-vanish", &[("n", json!(conflicts))]));
    }
    let c = Confirm {
        heading_key: "confirm-close-title",
        intro: pg.t_args(
            "confirm-close-intro",
            &[("court", json!(p.court)), ("number", json!(p.case_number))],
        ),
        consequences,
        action: format!("/cases/{reference}/proceedings/{id}/close"),
        back: at(reference, &format!("p-{id}")),
        button_key: "proceeding-close",
        reason: Reason::Required("confirm-close-reason-hint"),
        hidden: vec![],
    };
    Ok(pg.confirm(&c, refill))
}

fn not_found(s: &Signed, what: &str) -> PageError {
    s.page
        .fail(StatusCode::NOT_FOUND, "error-not-found", s.page.t(what))
}

async fn close_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (reference, id) = path.into_inner();
    if !f.sent.confirmed() {
        return Ok(see_other(&format!(
            "/cases/{reference}/proceedings/{id}/close"
        )));
    }
    let input = ReasonInput {
        reason: f.sent.text("reason"),
    };
    match s
        .services()
        .close_proceeding(s.actor(), &reference, &id, &input, &route(&req))
        .await
    {
        Ok(()) => Ok(s.page.done(
            &at(&reference, &format!("p-{id}")),
            "flash-proceeding-closed",
        )),
        Err(e) => close_confirm_page(s, &req, &reference, &id, Some(f.refill("confirm", e)?)).await,
    }
}

async fn add_hearing_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (reference, id) = path.into_inner();
    let input = HearingInput {
        kind: f.form.text("kind"),
        held_on: f.form.text("held_on"),
        testimony_required: f.form.checked("testimony_required"),
        presence_required: f.form.checked("presence_required"),
        notes: f.form.opt("notes"),
    };
    match s
        .services()
        .add_hearing(s.actor(), &reference, &id, &input, &route(&req))
        .await
    {
        Ok(_) => Ok(s
            .page
            .done(&at(&reference, "calendar"), "flash-hearing-recorded")),
        Err(e) => {
            let r = f.refill_for("hearing", &id, e)?;
            proceedings_page(s, &req, &reference, Some(r)).await
        }
    }
}

/// Ask before cancelling a hearing, and why: a cancelled hearing no longer raises a
/// conflict with the planned departure, on this page, the case page, the deadlines and
/// the return.
async fn cancel_hearing_confirm(
    s: Signed,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (reference, id) = path.into_inner();
    cancel_confirm_page(&s, &req, &reference, &id, None).await
}

async fn cancel_confirm_page(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
    id: &str,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let v = view(s, req, reference).await?;
    let (p, h) = v
        .proceedings
        .iter()
        .find_map(|p| p.hearings.iter().find(|h| h.id == id).map(|h| (p, h)))
        .ok_or_else(|| not_found(s, "what-hearing"))?;
    let pg = &s.page;
    let mut consequences = vec![pg.t("confirm-cancel-kept")];
    if h.conflict
        && let Some(d) = &v.departure
    {
        consequences.push(pg.t_args(
            "confirm-cancel-conflict",
            &[("departure", json!(d.departure_on.to_string()))],
        ));
    }
    if !h.measures.is_empty() {
        consequences.push(pg.t("confirm-cancel-measures"));
    }
    let c = Confirm {
        heading_key: "confirm-cancel-title",
        intro: pg.t_args(
            "confirm-cancel-intro",
            &[
                (
                    "kind",
                    json!(pg.t(&format!("hearing-kind-{}", h.kind.as_str()))),
                ),
                ("date", json!(h.held_on.to_string())),
                ("court", json!(p.court)),
            ],
        ),
        consequences,
        action: format!("/cases/{reference}/hearings/{id}/cancel"),
        back: at(reference, "calendar"),
        button_key: "confirm-cancel-button",
        reason: Reason::Required("confirm-cancel-reason-hint"),
        hidden: vec![],
    };
    Ok(pg.confirm(&c, refill))
}

async fn cancel_hearing_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (reference, id) = path.into_inner();
    if !f.sent.confirmed() {
        return Ok(see_other(&format!(
            "/cases/{reference}/hearings/{id}/cancel"
        )));
    }
    let input = ReasonInput {
        reason: f.sent.text("reason"),
    };
    match s
        .services()
        .cancel_hearing(s.actor(), &reference, &id, &input, &route(&req))
        .await
    {
        Ok(()) => Ok(s
            .page
            .done(&at(&reference, "calendar"), "flash-hearing-cancelled")),
        Err(e) => {
            cancel_confirm_page(s, &req, &reference, &id, Some(f.refill("confirm", e)?)).await
        }
    }
}

async fn request_measure_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (reference, id) = path.into_inner();
    let input = MeasureRequestInput {
        measure: f.form.text("measure"),
        hearing_id: f.form.opt("hearing_id"),
        requested_on: f.form.opt("requested_on"),
    };
    // From a conflict's quick request, back to the conflict; else to the proceeding.
    let from_conflict = f.form.get("from") == Some("conflict");
    match s
        .services()
        .request_measure(s.actor(), &reference, &id, &input, &route(&req))
        .await
    {
        Ok(_) => {
            let anchor = if from_conflict {
                "conflicts".to_owned()
            } else {
                format!("p-{id}")
            };
            Ok(s.page
                .done(&at(&reference, &anchor), "flash-measure-requested"))
        }
        Err(e) => {
            let r = if from_conflict {
                f.refill_for("alternative", &f.form.text("hearing_id"), e)?
            } else {
                f.refill_for("measure", &id, e)?
            };
            proceedings_page(s, &req, &reference, Some(r)).await
        }
    }
}

async fn decide_measure_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (reference, id) = path.into_inner();
    let input = MeasureDecisionInput {
        decision: f.form.text("decision"),
        decided_on: f.form.opt("decided_on"),
        reason: f.form.opt("reason"),
        authority: f.form.opt("authority"),
        decision_reference: f.form.opt("decision_reference"),
    };
    match s
        .services()
        .decide_measure(s.actor(), &reference, &id, &input, &route(&req))
        .await
    {
        Ok(_) => {
            let key = match input.decision.as_str() {
                "grant" => "flash-measure-granted",
                "refuse" => "flash-measure-refused",
                _ => "flash-measure-withdrawn",
            };
            Ok(s.page.done(&at(&reference, "conflicts"), key))
        }
        Err(e) => {
            let r = f.refill_for("decide", &id, e)?;
            proceedings_page(s, &req, &reference, Some(r)).await
        }
    }
}

async fn departure_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    // Clearing the departure is asked for on its own page first.
    if f.form.get("clear").is_some() {
        return Ok(see_other(&format!("/cases/{reference}/departure/clear")));
    }
    let input = DepartureInput {
        departure_on: f.form.opt("departure_on"),
        note: f.form.opt("note"),
    };
    match s
        .services()
        .set_planned_departure(s.actor(), &reference, &input, &route(&req))
        .await
    {
        Ok(()) => Ok(s
            .page
            .done(&at(&reference, "conflicts"), "flash-departure-saved")),
        Err(e) => proceedings_page(s, &req, &reference, Some(f.refill("departure", e)?)).await,
    }
}

/// Ask before clearing the planned departure: the conflicts it raises disappear.
async fn clear_departure_confirm(
    s: Signed,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    clear_confirm_page(&s, &req, &reference, None).await
}

async fn clear_confirm_page(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let v = view(s, req, reference).await?;
    let d = v
        .departure
        .as_ref()
        .ok_or_else(|| not_found(s, "what-departure"))?;
    let pg = &s.page;
    let mut consequences = vec![];
    if !v.conflicts.is_empty() {
        consequences.push(pg.t_args(
            "confirm-conflicts-vanish",
            &[("n", json!(v.conflicts.len()))],
        ));
    }
    consequences.push(pg.t("confirm-clear-return"));
    let c = Confirm {
        heading_key: "confirm-clear-title",
        intro: pg.t_args(
            "confirm-clear-intro",
            &[("date", json!(d.departure_on.to_string()))],
        ),
        consequences,
        action: format!("/cases/{reference}/departure/clear"),
        back: at(reference, "departure"),
        button_key: "departure-clear",
        reason: Reason::None,
        hidden: vec![],
    };
    Ok(pg.confirm(&c, refill))
}

async fn clear_departure_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    if !f.sent.confirmed() {
        return Ok(see_other(&format!("/cases/{reference}/departure/clear")));
    }
    let input = DepartureInput {
        departure_on: None,
        note: None,
    };
    match s
        .services()
        .set_planned_departure(s.actor(), &reference, &input, &route(&req))
        .await
    {
        Ok(()) => Ok(s
            .page
            .done(&at(&reference, "departure"), "flash-departure-cleared")),
        Err(e) => clear_confirm_page(s, &req, &reference, Some(f.refill("confirm", e)?)).await,
    }
}
