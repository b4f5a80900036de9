//! Referrals between organisations (inbox and outbox), services and shelter placements.

use crate::http::{PageError, Pairs, Refill, Signed, SignedForm, route};
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::ServiceError;
use passerelle_core::domain::{Invalid, Section};
use passerelle_core::service::referrals::{
    DeliveryInput, PlacementInput, ReferralInput, ReferralView, SERVICES, ServiceInput,
};
use serde_json::{Value, json};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/referrals", web::get().to(referrals_page))
        .route("/referrals/{id}/answer", web::post().to(answer_page))
        .route("/cases/{reference}/care", web::get().to(care_page))
        .route("/cases/{reference}/referrals", web::post().to(refer_page))
        .route("/cases/{reference}/services", web::post().to(service_page))
        .route(
            "/cases/{reference}/services/{id}/delivered",
            web::post().to(deliver_page),
        )
        .route(
            "/cases/{reference}/placements",
            web::post().to(placement_page),
        );
}

fn referral_json(s: &Signed, r: &ReferralView) -> Value {
    json!({
        "id": r.id, "reference": r.reference, "from": r.from_org, "to": r.to_org,
        "service": s.page.t(&format!("purpose-{}", r.service)),
        "sections": r.sections.iter().map(|x| s.page.t(&format!("section-{x}"))).collect::<Vec<_>>().join(", "),
        "status": s.page.t(&format!("referral-{}", r.status)), "pending": r.status == "pending",
        "overdue": r.overdue, "reason": r.reason, "created": r.created_at.format("%Y-%m-%d").to_string(),
        "due": r.due_at.format("%Y-%m-%d").to_string(),
    })
}

/// A referral in the receiver's inbox, with what the receiver needs to decide before it
/// accepts: whether the person is a child or an adult, the language they were informed
/// in, and how soon an answer is due. Nothing that names or locates the person: the
/// receiver has not accepted, so it has no right to the person section yet (the core
/// gives these two facts only for pending incoming referrals, and records the read).
pub(crate) fn inbox_facts(s: &Signed, r: &ReferralView) -> Value {
    let mut v = referral_json(s, r);
    let days = (r.due_at.date_naive() - chrono::Utc::now().date_naive()).num_days();
    let answer = if r.status != "pending" {
        String::new()
    } else if r.overdue || days < 0 {
        s.page
            .state
            .i18n
            .t1(s.page.lang, "referral-answer-overdue", "n", (-days).max(0))
    } else if days == 0 {
        s.page.t("referral-answer-today")
    } else {
        s.page
            .state
            .i18n
            .t1(s.page.lang, "referral-answer-in", "n", days)
    };
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "age_group".into(),
            json!(r.child.map(|c| s.page.t(if c {
                "referral-child"
            } else {
                "referral-adult"
            }))),
        );
        o.insert("child".into(), json!(r.child == Some(true)));
        o.insert("language".into(), json!(r.language));
        o.insert("answer".into(), json!(answer));
        o.insert("person".into(), Value::Null);
    }
    v
}

async fn referrals_page(s: Signed, req: HttpRequest) -> Result<HttpResponse, PageError> {
    referrals_list(&s, &req, None).await
}

/// The inbox and outbox; after a failed answer, with what was typed and what is wrong.
async fn referrals_list(
    s: &Signed,
    req: &HttpRequest,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let route = route(req);
    let (inbox, outbox) = s
        .services()
        .referral_lists(s.actor(), &route)
        .await
        .map_err(|e| s.page.service_error(e))?;
    // Once a referral is accepted, the receiver sees what it opened: the name too when
    // that includes the person section (each read audited). A pending one names no one.
    let answered: Vec<String> = inbox
        .iter()
        .filter(|r| r.status != "pending")
        .map(|r| r.reference.clone())
        .collect();
    let names = s
        .services()
        .person_labels(s.actor(), &answered, &route)
        .await
        .map_err(|e| s.page.service_error(e))?;
    let mut data = s.page.base("referrals-title");
    if let Some(o) = data.as_object_mut() {
        o.insert(
            "inbox".into(),
            json!(
                inbox
                    .iter()
                    .map(|r| {
                        let mut v = inbox_facts(s, r);
                        if r.status != "pending"
                            && let Some(o) = v.as_object_mut()
                        {
                            o.insert(
                                "person".into(),
                                crate::routes::home::label_json(names.get(&r.reference)),
                            );
                        }
                        v
                    })
                    .collect::<Vec<_>>()
            ),
        );
        o.insert(
            "outbox".into(),
            json!(
                outbox
                    .iter()
                    .map(|r| referral_json(s, r))
                    .collect::<Vec<_>>()
            ),
        );
    }
    Ok(s.page.show("referrals", data, refill))
}

async fn answer_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let accept = match f.form.get("answer") {
        Some("accept") => Ok(true),
        Some("decline") => Ok(false),
        _ => Err(ServiceError::Invalid(Invalid::new(
            "answer",
            "must be accept or decline",
        ))),
    };
    let outcome = match accept {
        Ok(accept) => s
            .services()
            .answer_referral(s.actor(), &id, accept, f.form.get("reason"), &route(&req))
            .await
            .map(|_| accept),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(true) => Ok(s.page.done("/referrals", "flash-referral-accepted")),
        Ok(false) => Ok(s.page.done("/referrals", "flash-referral-declined")),
        Err(e) => referrals_list(s, &req, Some(f.refill_for("answer", &id, e)?)).await,
    }
}

async fn care_page(
    s: Signed,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    care(&s, &req, &reference, None).await
}

/// The care page (services, placements, referrals); after a failed POST of one of its
/// forms, with what was typed and what is wrong.
async fn care(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let v = s
        .services()
        .care(s.actor(), reference, &route(req))
        .await
        .map_err(|e| s.page.service_error(e))?;
    let t = |k: &str| s.page.t(k);
    let targets = if v.can_refer || v.can_edit_services || v.can_edit_placement {
        s.services()
            .referral_targets(-1)
            .await
            .map_err(|e| s.page.service_error(e))?
    } else {
        vec![]
    };
    let consents = if v.can_refer {
        s.services()
            .get_case(s.actor(), reference, &route(req))
            .await
            .map_err(|e| s.page.service_error(e))?
            .consents
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.active)
            .map(|c| json!({"id": c.id, "label": crate::words::consent_label(&s.page, &c)}))
            .collect::<Vec<_>>()
    } else {
        vec![]
    };
    let mut data = s.page.base("care-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("care".into(), json!({
            "reference": v.reference,
            "services": v.services.iter().map(|x| json!({"id": x.id, "provider": x.provider, "kind": t(&format!("purpose-{}", x.kind)),
                "planned_on": x.planned_on.to_string(), "delivered_on": x.delivered_on.map(|d| d.to_string()), "outcome": x.outcome,
                "editable": v.can_edit_services && v.own_provider_only.is_none_or(|o| o == x.provider_org_id),
                "cost": cost_of(&x.kind)})).collect::<Vec<_>>(),
            "placements": v.placements.iter().map(|p| json!({"id": p.id, "shelter": p.shelter, "location": p.location,
                "from_on": p.from_on.to_string(), "until_on": p.until_on.map(|d| d.to_string())})).collect::<Vec<_>>(),
            "referrals": v.referrals.as_ref().map(|rs| rs.iter().map(|r| referral_json(s, r)).collect::<Vec<_>>()),
            "can_refer": v.can_refer, "can_edit_services": v.can_edit_services, "can_edit_placement": v.can_edit_placement,
        }));
        o.insert(
            "targets".into(),
            json!(
                targets
                    .iter()
                    .filter(
                        |(id, _, _)| v.own_provider_only.is_none_or(|own| own == *id)
                            || v.can_refer
                    )
                    .map(|(id, n, k)| json!({"id": id, "name": n, "shelter": k == "shelter"}))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert(
            "providers".into(),
            json!(
                targets
                    .iter()
                    .filter(|(id, _, _)| v.own_provider_only.is_none_or(|own| own == *id))
                    .map(|(id, n, _)| json!({"id": id, "name": n}))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert(
            "services_list".into(),
            json!(
                SERVICES
                    .iter()
                    .map(|x| json!({"value": x, "label": t(&format!("purpose-{x}"))}))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert("sections_list".into(), json!(Section::REFERABLE.iter().map(|x| json!({"value": x.as_str(), "label": t(&format!("section-{}", x.as_str()))})).collect::<Vec<_>>()));
        o.insert("consents".into(), json!(consents));
        o.insert(
            "today".into(),
            json!(chrono::Utc::now().date_naive().to_string()),
        );
    }
    Ok(s.page.show("care", data, refill))
}

/// The cost category a service of this kind is paid under.
fn cost_of(kind: &str) -> &'static str {
    match kind {
        "shelter" => "shelter",
        "medical" => "medical",
        "psychological" => "psychological",
        "legal_aid" => "legal",
        "interpretation" => "interpretation",
        "counselling" => "counselling",
        "return_assistance" => "travel",
        "reintegration" => "reintegration",
        _ => "other",
    }
}

async fn refer_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let outcome = async {
        let input = ReferralInput {
            to_org_id: f.sent.required_number("to_org_id")?,
            service: f.form.get("service").unwrap_or("").to_owned(),
            sections: f.form.all("sections"),
            consent_id: f
                .form
                .get("consent_id")
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
        };
        s.services()
            .refer(s.actor(), &reference, &input, &route(&req))
            .await
    }
    .await;
    match outcome {
        Ok(_) => Ok(s.page.done(
            &format!("/cases/{reference}/care#referrals"),
            "flash-referral-sent",
        )),
        Err(e) => care(s, &req, &reference, Some(f.refill("referral", e)?)).await,
    }
}

async fn service_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let outcome = async {
        let input = ServiceInput {
            provider_org_id: f.sent.required_number("provider_org_id")?,
            kind: f.form.get("kind").unwrap_or("").to_owned(),
            planned_on: f.form.get("planned_on").unwrap_or("").to_owned(),
        };
        s.services()
            .add_service(s.actor(), &reference, &input, &route(&req))
            .await
    }
    .await;
    match outcome {
        Ok(_) => Ok(s.page.done(
            &format!("/cases/{reference}/care#services"),
            "flash-service-planned",
        )),
        Err(e) => care(s, &req, &reference, Some(f.refill("service", e)?)).await,
    }
}

async fn deliver_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (reference, id) = path.into_inner();
    let input = DeliveryInput {
        delivered_on: f.form.get("delivered_on").unwrap_or("").to_owned(),
        outcome: f.form.get("outcome").map(str::to_owned),
    };
    match s
        .services()
        .deliver_service(s.actor(), &reference, &id, &input, &route(&req))
        .await
    {
        Ok(_) => Ok(s.page.done(
            &format!("/cases/{reference}/care#services"),
            "flash-service-delivered",
        )),
        Err(e) => care(s, &req, &reference, Some(f.refill_for("deliver", &id, e)?)).await,
    }
}

async fn placement_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let outcome = async {
        let input = PlacementInput {
            shelter_org_id: f.sent.required_number("shelter_org_id")?,
            location: f.form.get("location").unwrap_or("").to_owned(),
            from_on: f.form.get("from_on").unwrap_or("").to_owned(),
            until_on: f.form.get("until_on").map(str::to_owned),
        };
        s.services()
            .add_placement(s.actor(), &reference, &input, &route(&req))
            .await
    }
    .await;
    match outcome {
        Ok(_) => Ok(s.page.done(
            &format!("/cases/{reference}/care#placements"),
            "flash-placement-recorded",
        )),
        Err(e) => care(s, &req, &reference, Some(f.refill("placement", e)?)).await,
    }
}
