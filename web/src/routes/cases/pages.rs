//! Case pages: caseload, new case, case file, edit, consents, shares, audit trail, search.

use crate::http::{
    Confirm, HasCsrf, PageError, Reason, Refill, Signed, SignedForm, route, see_other,
};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::domain::{ConsentGiver, Purpose, Stage};
use passerelle_core::service::cases::{ConsentInput, PersonInput, Scope, WithdrawalInput};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/cases", web::get().to(caseload))
        .route("/cases", web::post().to(create))
        .route("/cases/new", web::get().to(new_form))
        .route("/search", web::post().to(search))
        .route("/cases/{reference}", web::get().to(show))
        .route("/cases/{reference}/edit", web::get().to(edit_form))
        .route("/cases/{reference}/person", web::post().to(update_person))
        .route("/cases/{reference}/advocate", web::post().to(assign))
        .route("/cases/{reference}/consents", web::post().to(add_consent))
        .route(
            "/cases/{reference}/consents/{id}/withdraw",
            web::get().to(withdraw_confirm),
        )
        .route(
            "/cases/{reference}/consents/{id}/withdraw",
            web::post().to(withdraw_consent),
        )
        .route("/cases/{reference}/shares", web::post().to(add_share))
        .route(
            "/cases/{reference}/shares/{id}/end",
            web::get().to(end_share_confirm),
        )
        .route(
            "/cases/{reference}/shares/{id}/end",
            web::post().to(end_share),
        )
        .route("/cases/{reference}/audit", web::get().to(audit_trail));
}

fn stages(s: &Signed, selected: Option<Stage>) -> Vec<Value> {
    Stage::ALL
        .iter()
        .map(|st| {
            json!({"value": st.as_str(), "label": s.page.t(&format!("stage-{}", st.as_str())), "selected": Some(*st) == selected})
        })
        .collect()
}

#[derive(Deserialize)]
struct CaseloadQuery {
    scope: Option<String>,
    stage: Option<String>,
    page: Option<String>,
}

async fn caseload(
    s: Signed,
    req: HttpRequest,
    q: web::Query<CaseloadQuery>,
) -> Result<HttpResponse, PageError> {
    // Advocates land on their own cases; everyone else on their organisation's.
    let scope = match q.scope.as_deref() {
        Some("org") => Scope::Organisation,
        Some("mine") => Scope::Mine,
        None | Some("") if s.actor().role == passerelle_core::domain::Role::Advocate => Scope::Mine,
        None | Some("") => Scope::Organisation,
        Some(_) => {
            return Err(s.page.fail(
                StatusCode::BAD_REQUEST,
                "error-invalid",
                s.page.t("error-bad-scope"),
            ));
        }
    };
    let stage = match q.stage.as_deref() {
        None | Some("") => None,
        Some(v) => Some(Stage::parse(v).map_err(|e| {
            s.page.fail(
                StatusCode::BAD_REQUEST,
                "error-invalid",
                s.page.invalid_detail(&e),
            )
        })?),
    };
    let page_no = match q.page.as_deref() {
        None | Some("") => 1,
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1 && *n < 1_000_000)
            .ok_or_else(|| {
                s.page.fail(
                    StatusCode::BAD_REQUEST,
                    "error-invalid",
                    s.page.t("error-bad-page"),
                )
            })?,
    };
    let result = s
        .services()
        .caseload(s.actor(), scope, stage, page_no, 50, &route(&req))
        .await
        .map_err(|e| s.page.service_error(e))?;
    let scope_str = if scope == Scope::Mine { "mine" } else { "org" };
    let stage_str = stage.map(|x| x.as_str()).unwrap_or("");
    // Each stage's name is looked up once, for the filter and for the rows alike.
    let stage_options = stages(&s, stage);
    let stage_label = |st: Stage| -> Value {
        Stage::ALL
            .iter()
            .position(|x| *x == st)
            .and_then(|i| stage_options.get(i))
            .map(|o| o["label"].clone())
            .unwrap_or_else(|| Value::String(st.as_str().to_owned()))
    };
    let items: Vec<Value> = result
        .items
        .into_iter()
        .map(|c| {
            json!({
                "stage": stage_label(c.stage),
                "shared": c.access == "shared",
                "updated": c.updated_at.date_naive().to_string(),
                "reference": c.reference,
                "org": c.owner_org,
                "advocate": c.advocate.unwrap_or_default(),
            })
        })
        .collect();
    let link = |p: u64| format!("/cases?scope={scope_str}&stage={stage_str}&page={p}");
    let mut data = s.page.base("caseload-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("items".into(), Value::Array(items));
        o.insert("total".into(), json!(result.total));
        o.insert("page".into(), json!(result.page));
        o.insert("pages".into(), json!(result.pages.max(1)));
        o.insert(
            "prev".into(),
            if result.page > 1 {
                json!(link(result.page - 1))
            } else {
                Value::Null
            },
        );
        o.insert(
            "next".into(),
            if result.page < result.pages {
                json!(link(result.page + 1))
            } else {
                Value::Null
            },
        );
        o.insert("mine".into(), json!(scope == Scope::Mine));
        o.insert("scope".into(), json!(scope_str));
        o.insert("stages".into(), Value::Array(stage_options));
    }
    Ok(s.page.ok("caseload", data))
}

async fn new_form(s: Signed) -> Result<HttpResponse, PageError> {
    new_page(&s, None, Vec::new()).await
}

/// The new-case form; after a failed create, with what was typed and what is wrong, and
/// the likely duplicates it may be.
async fn new_page(
    s: &Signed,
    refill: Option<Refill>,
    duplicates: Vec<Value>,
) -> Result<HttpResponse, PageError> {
    if !passerelle_core::domain::may_create_case(s.actor().role) {
        return Err(s.page.fail(
            StatusCode::FORBIDDEN,
            "error-forbidden",
            s.page.t("error-cannot-create"),
        ));
    }
    let advocates = s
        .services()
        .advocates_of(s.actor().org_id)
        .await
        .map_err(|e| s.page.service_error(e))?;
    let chosen = s.actor().user_id;
    let mut data = s.page.base("case-new-title");
    if let Some(o) = data.as_object_mut() {
        o.insert(
            "advocates".into(),
            json!(
                advocates
                    .iter()
                    .map(|(id, n)| json!({"id": id, "name": n, "selected": *id == chosen}))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert("person".into(), empty_person());
        o.insert("duplicate_count".into(), json!(duplicates.len()));
        o.insert("duplicates".into(), json!(duplicates));
    }
    Ok(s.page.show("case_new", data, refill))
}

/// The person form as posted (checkboxes arrive as "on" or not at all).
#[derive(Deserialize, Default)]
pub struct PersonForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    name: String,
    aliases: Option<String>,
    birth_date: Option<String>,
    nationality: Option<String>,
    stateless: Option<String>,
    languages: Option<String>,
    contact: Option<String>,
    location: Option<String>,
    notes: Option<String>,
    is_minor: Option<String>,
    gender: Option<String>,
    /// Ticked on the new-case form after a likely duplicate was shown: "this is another
    /// person, create the case".
    confirm_duplicate: Option<String>,
}

impl HasCsrf for PersonForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl PersonForm {
    fn input(&self) -> PersonInput {
        PersonInput {
            name: self.name.clone(),
            aliases: self.aliases.clone(),
            birth_date: self.birth_date.clone(),
            nationality: self.nationality.clone(),
            stateless: self.stateless.is_some(),
            languages: self.languages.clone(),
            contact: self.contact.clone(),
            location: self.location.clone(),
            notes: self.notes.clone(),
            is_minor: self.is_minor.is_some(),
            gender: self.gender.clone(),
        }
    }
}

async fn create(f: SignedForm<PersonForm>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let outcome = async {
        let advocate = f.sent.number("advocate_user_id")?;
        // A likely duplicate (same name by the blind index, same birth date, among the
        // cases the caller may see) is shown before a second case is opened for the same
        // person; the user goes to the existing case, or confirms that this is someone
        // else.
        if f.form.confirm_duplicate.is_none() {
            let same = s
                .services()
                .likely_duplicates(s.actor(), &f.form.input(), &route(&req))
                .await?;
            if !same.is_empty() {
                return Ok(Err(same));
            }
        }
        s.services()
            .create_case(s.actor(), &f.form.input(), advocate, &route(&req))
            .await
            .map(Ok)
    }
    .await;
    match outcome {
        Ok(Ok(r)) => Ok(s
            .page
            .done(&format!("/cases/{}", r.reference), "flash-case-created")),
        Ok(Err(same)) => {
            let duplicates = same
                .iter()
                .map(|c| {
                    json!({
                        "reference": c.reference,
                        "stage": s.page.t(&format!("stage-{}", c.stage.as_str())),
                        "org": c.owner_org,
                    })
                })
                .collect();
            // The form comes back as typed (409), the duplicates above it say why.
            let mut refill = f.refill(
                "person",
                passerelle_core::ServiceError::Conflict(String::new()),
            )?;
            if let Some(o) = refill.form.as_object_mut() {
                o.insert("message".into(), json!(""));
            }
            new_page(s, Some(refill), duplicates).await
        }
        Err(e) => new_page(s, Some(f.refill("person", e)?), Vec::new()).await,
    }
}

async fn show(
    s: Signed,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    case_page(&s, &req, &reference, None).await
}

/// The case file, with its forms (advocate, consents, shares); after a failed POST of
/// one of them, with what was typed and what is wrong.
async fn case_page(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let v = s
        .services()
        .get_case(s.actor(), reference, &route(req))
        .await
        .map_err(|e| s.page.service_error(e))?;
    let t = |k: &str| s.page.t(k);
    // After the return: the follow-up service links to its page; the destination side
    // sees what the alerts say (category and severity, while the consent holds).
    let after_return = v.summary.stage.rank() >= passerelle_core::domain::Stage::Returned.rank();
    let alerts: Option<Vec<Value>> = if after_return
        && v.permissions.view_alerts
        && !v.permissions.view_follow_up
    {
        let list = s
            .services()
            .case_alerts(s.actor(), reference, &route(req))
            .await
            .map_err(|e| s.page.service_error(e))?;
        Some(
                list.iter()
                    .map(|a| {
                        json!({
                            "category": t(&format!("alert-category-{}", a.category.as_str())),
                            "severity": t(&format!("severity-{}", a.severity.as_str())),
                            "severity_value": a.severity.as_str(),
                            "status": t(&format!("alert-status-{}", a.status.as_str())),
                            "raised_on": a.raised_at.date_naive().to_string(),
                            "details": if a.automatic && a.details.is_some() {
                            crate::routes::follow_up::automatic_alert_text(s, a.rule.as_deref()).or_else(|| a.details.clone())
                        } else {
                            a.details.clone()
                        },
                        })
                    })
                    .collect(),
            )
    } else {
        None
    };
    let consents: Option<Vec<Value>> = v.consents.as_ref().map(|cs| {
        cs.iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "purpose": t(&format!("purpose-{}", c.purpose.as_str())),
                    "purpose_value": c.purpose.as_str(),
                    "given_by": t(&format!("giver-{}", c.given_by.as_str())),
                    "language": c.language,
                    "form_version": c.form_version,
                    "consented_at": c.consented_at.format("%Y-%m-%d").to_string(),
                    "recorded_by": c.recorded_by,
                    "withdrawn_at": c.withdrawn_at.map(|d| d.format("%Y-%m-%d %H:%M").to_string()),
                    "withdrawn_reason": c.withdrawn_reason,
                    "active": c.active,
                    "label": crate::words::consent_label(&s.page, c),
                })
            })
            .collect()
    });
    let shares: Option<Vec<Value>> = v.shares.as_ref().map(|ss| {
        ss.iter()
            .map(|x| {
                json!({
                    "id": x.id,
                    "org": x.org,
                    "purpose": t(&format!("purpose-{}", x.purpose.as_str())),
                    "consent_id": x.consent_id,
                    // The consent it rests on, in words (its id means nothing to people).
                    "consent": v
                        .consents
                        .iter()
                        .flatten()
                        .find(|c| c.id == x.consent_id)
                        .map_or_else(|| "—".to_owned(), |c| crate::words::consent_label(&s.page, c)),
                    "created_at": x.created_at.format("%Y-%m-%d").to_string(),
                    "ended_at": x.ended_at.map(|d| d.format("%Y-%m-%d %H:%M").to_string()),
                    "active": x.active,
                })
            })
            .collect()
    });
    // Conflicts between the planned departure and a hearing, for those who may see
    // the proceedings (read and audited only when the case has proceedings).
    let conflicts = if v.permissions.view_proceedings {
        s.services()
            .case_conflicts(s.actor(), &v.summary.reference, &route(req))
            .await
            .map_err(|e| s.page.service_error(e))?
            .unwrap_or_default()
    } else {
        vec![]
    };
    let targets = if v.permissions.share {
        s.services()
            .share_targets(v.summary.owner_org_id)
            .await
            .map_err(|e| s.page.service_error(e))?
    } else {
        vec![]
    };
    let advocates = if v.permissions.assign {
        s.services()
            .advocates_of(v.summary.owner_org_id)
            .await
            .map_err(|e| s.page.service_error(e))?
    } else {
        vec![]
    };
    let purposes: Vec<Value> = Purpose::ALL
        .iter()
        .map(|p| json!({"value": p.as_str(), "label": t(&format!("purpose-{}", p.as_str()))}))
        .collect();
    let givers: Vec<Value> = ConsentGiver::ALL
        .iter()
        .map(|g| json!({"value": g.as_str(), "label": t(&format!("giver-{}", g.as_str()))}))
        .collect();
    let person = v.person.as_ref().map(|p| {
        json!({
            "name": p.person.name,
            "aliases": p.person.aliases,
            "birth_date": p.person.birth_date.map(|d| d.format("%Y-%m-%d").to_string()),
            "nationality": p.person.nationality,
            "stateless": p.person.stateless,
            "languages": p.person.languages,
            "contact": p.person.contact,
            "location": p.person.location,
            "notes": p.person.notes,
            "is_minor": p.person.is_minor,
            "gender": p.person.gender.map(|g| t(&format!("gender-{}", g.as_str()))),
            "is_child": p.is_child,
        })
    });
    let mut data = s.page.base("case-title");
    if let Some(o) = data.as_object_mut() {
        o.insert(
            "case".into(),
            json!({
                "reference": v.summary.reference,
                "stage": t(&format!("stage-{}", v.summary.stage.as_str())),
                "org": v.summary.owner_org,
                "advocate": v.summary.advocate,
                "advocate_user_id": v.summary.advocate_user_id,
                "version": v.summary.version,
                "shared": v.summary.access == "shared",
                "created": v.summary.created_at.format("%Y-%m-%d").to_string(),
            }),
        );
        o.insert("person".into(), person.unwrap_or(Value::Null));
        o.insert("show_consents".into(), json!(consents.is_some()));
        o.insert("show_shares".into(), json!(shares.is_some()));
        o.insert(
            "consents".into(),
            consents.map(Value::from).unwrap_or(Value::Null),
        );
        o.insert(
            "shares".into(),
            shares.map(Value::from).unwrap_or(Value::Null),
        );
        o.insert("can".into(), json!(v.permissions));
        o.insert(
            "follow_up_link".into(),
            json!(after_return && v.permissions.view_follow_up),
        );
        o.insert("alerts".into(), json!(alerts));
        o.insert(
            "conflicts".into(),
            json!(
                conflicts
                    .iter()
                    .map(|c| json!({
                        "hearing_on": c.hearing_on.to_string(),
                        "departure_on": c.departure_on.to_string(),
                        "act_by": c.act_by.to_string(),
                    }))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert(
            "targets".into(),
            json!(
                targets
                    .iter()
                    .map(|(id, n)| json!({"id": id, "name": n}))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert(
            "advocates".into(),
            json!(advocates
                .iter()
                .map(|(id, n)| json!({"id": id, "name": n, "selected": Some(*id) == v.summary.advocate_user_id}))
                .collect::<Vec<_>>()),
        );
        o.insert("purposes".into(), json!(purposes));
        o.insert("givers".into(), json!(givers));
        o.insert("title".into(), json!(v.summary.reference));
        o.insert(
            "erasure".into(),
            v.erasure.as_ref().map_or(Value::Null, |e| {
                crate::routes::erasure::erasure_words(&s.page, e)
            }),
        );
        o.insert(
            "can_erase".into(),
            json!(
                v.erasure.is_none()
                    && v.summary.access == "owner"
                    && s.actor().role == passerelle_core::domain::Role::OrgAdmin
            ),
        );
    }
    Ok(s.page.show("case", data, refill))
}

async fn edit_form(
    s: Signed,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    edit_page(&s, &req, &reference, None).await
}

/// The person's form, filled from what is saved. After a failed save it holds what was
/// typed; after a conflict (someone else saved first) what is saved now is shown beside
/// each field that differs, and the form carries the new version to save again.
async fn edit_page(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let v = s
        .services()
        .get_case(s.actor(), reference, &route(req))
        .await
        .map_err(|e| s.page.service_error(e))?;
    if !v.permissions.edit_person {
        return Err(s.page.fail(
            StatusCode::FORBIDDEN,
            "error-forbidden",
            s.page.t("error-cannot-edit"),
        ));
    }
    let p = v.person.as_ref().map(|p| &p.person);
    let mut data = s.page.base("case-edit-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("reference".into(), json!(v.summary.reference));
        o.insert("version".into(), json!(v.summary.version));
        o.insert(
            "person".into(),
            json!({
                "name": p.map(|p| p.name.clone()),
                "aliases": p.and_then(|p| p.aliases.clone()),
                "birth_date": p.and_then(|p| p.birth_date).map(|d| d.format("%Y-%m-%d").to_string()),
                "nationality": p.and_then(|p| p.nationality.clone()),
                "stateless": p.is_some_and(|p| p.stateless),
                "languages": p.and_then(|p| p.languages.clone()),
                "contact": p.and_then(|p| p.contact.clone()),
                "location": p.and_then(|p| p.location.clone()),
                "notes": p.and_then(|p| p.notes.clone()),
                "is_minor": p.is_some_and(|p| p.is_minor),
                "gender": p.and_then(|p| p.gender).map(|g| g.as_str()),
            }),
        );
    }
    Ok(s.page.show("case_edit", data, refill))
}

async fn update_person(
    f: SignedForm<PersonForm>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let outcome = async {
        let version = f.sent.required_number("version")?;
        s.services()
            .update_person(
                s.actor(),
                &reference,
                version,
                &f.form.input(),
                &route(&req),
            )
            .await
    }
    .await;
    match outcome {
        Ok(_) => Ok(s
            .page
            .done(&format!("/cases/{reference}"), "flash-person-saved")),
        Err(e) => edit_page(s, &req, &reference, Some(f.refill("person", e)?)).await,
    }
}

async fn assign(
    f: SignedForm<crate::http::Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let outcome = async {
        let version = f.sent.required_number("version")?;
        let advocate = f.sent.number("advocate_user_id")?;
        s.services()
            .assign_advocate(s.actor(), &reference, version, advocate, &route(&req))
            .await
    }
    .await;
    match outcome {
        Ok(_) => Ok(s
            .page
            .done(&format!("/cases/{reference}"), "flash-advocate-saved")),
        Err(e) => case_page(s, &req, &reference, Some(f.refill("assign", e)?)).await,
    }
}

#[derive(Deserialize)]
struct ConsentForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    given_by: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    form_version: String,
    /// The checkbox "the destination side may read alert details" (reintegration).
    #[serde(default)]
    share_alert_details: Option<String>,
    consented_on: Option<String>,
}

impl HasCsrf for ConsentForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn add_consent(
    f: SignedForm<ConsentForm>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = ConsentInput {
        purpose: f.form.purpose.clone(),
        given_by: f.form.given_by.clone(),
        language: f.form.language.clone(),
        form_version: f.form.form_version.clone(),
        consented_on: f.form.consented_on.clone(),
        share_alert_details: f.form.share_alert_details.is_some(),
    };
    match s
        .services()
        .record_consent(s.actor(), &reference, &input, &route(&req))
        .await
    {
        Ok(_) => Ok(s.page.done(
            &format!("/cases/{reference}#consents"),
            "flash-consent-recorded",
        )),
        Err(e) => case_page(s, &req, &reference, Some(f.refill("consent", e)?)).await,
    }
}

/// Ask before withdrawing a consent: name what ends with it (shares, referrals, a
/// return), and offer to note the person's reason.
async fn withdraw_confirm(
    s: Signed,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (reference, id) = path.into_inner();
    withdraw_page(&s, &req, &reference, &id, None).await
}

async fn withdraw_page(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
    id: &str,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let fx = s
        .services()
        .consent_withdrawal_effects(s.actor(), reference, id, &route(req))
        .await
        .map_err(|e| s.page.service_error(e))?;
    let p = &s.page;
    let purpose = |x: Purpose| p.t(&format!("purpose-{}", x.as_str()));
    let mut consequences: Vec<String> = fx
        .shares
        .iter()
        .map(|(org, x)| {
            p.t_args(
                "confirm-withdraw-share",
                &[("org", json!(org)), ("purpose", json!(purpose(*x)))],
            )
        })
        .collect();
    consequences.extend(fx.referrals.iter().map(|(org, service)| {
        p.t_args(
            "confirm-withdraw-referral",
            &[
                ("org", json!(org)),
                ("service", json!(p.t(&format!("purpose-{service}")))),
            ],
        )
    }));
    if let Some(country) = &fx.return_to {
        consequences.push(p.t_args("confirm-withdraw-return", &[("country", json!(country))]));
    }
    if consequences.is_empty() {
        consequences.push(p.t("confirm-withdraw-nothing"));
    }
    let c = Confirm {
        heading_key: "confirm-withdraw-title",
        intro: p.t_args(
            "confirm-withdraw-intro",
            &[
                ("purpose", json!(purpose(fx.consent.purpose))),
                (
                    "giver",
                    json!(p.t(&format!("giver-{}", fx.consent.given_by.as_str()))),
                ),
                (
                    "date",
                    json!(fx.consent.consented_at.format("%Y-%m-%d").to_string()),
                ),
                ("shares", json!(fx.shares.len())),
            ],
        ),
        consequences,
        action: format!("/cases/{reference}/consents/{id}/withdraw"),
        back: format!("/cases/{reference}#consents"),
        button_key: "confirm-withdraw-button",
        reason: Reason::Optional("confirm-withdraw-reason-hint"),
        hidden: vec![],
    };
    Ok(p.confirm(&c, refill))
}

async fn withdraw_consent(
    f: SignedForm<crate::http::Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (reference, id) = path.into_inner();
    if !f.sent.confirmed() {
        return Ok(see_other(&format!(
            "/cases/{reference}/consents/{id}/withdraw"
        )));
    }
    let input = WithdrawalInput {
        reason: f.sent.opt("reason"),
    };
    match s
        .services()
        .withdraw_consent(s.actor(), &reference, &id, &input, &route(&req))
        .await
    {
        Ok(_) => Ok(s.page.done(
            &format!("/cases/{reference}#consents"),
            "flash-consent-withdrawn",
        )),
        Err(e) => withdraw_page(s, &req, &reference, &id, Some(f.refill("confirm", e)?)).await,
    }
}

#[derive(Deserialize)]
struct ShareForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    purpose: String,
    consent_id: Option<String>,
}

impl HasCsrf for ShareForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn add_share(
    f: SignedForm<ShareForm>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let outcome = async {
        let org = f.sent.required_number("org_id")?;
        let consent = f
            .form
            .consent_id
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        s.services()
            .share_case(
                s.actor(),
                &reference,
                org,
                &f.form.purpose,
                consent,
                &route(&req),
            )
            .await
    }
    .await;
    match outcome {
        Ok(_) => Ok(s
            .page
            .done(&format!("/cases/{reference}#shares"), "flash-share-created")),
        Err(e) => case_page(s, &req, &reference, Some(f.refill("share", e)?)).await,
    }
}

/// Ask before ending a share: the organisation loses access to the case at once.
async fn end_share_confirm(
    s: Signed,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (reference, id) = path.into_inner();
    end_share_page(&s, &req, &reference, &id, None).await
}

async fn end_share_page(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
    id: &str,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let share = s
        .services()
        .share(s.actor(), reference, id, &route(req))
        .await
        .map_err(|e| s.page.service_error(e))?;
    let p = &s.page;
    let c = Confirm {
        heading_key: "confirm-end-share-title",
        intro: p.t_args(
            "confirm-end-share-intro",
            &[
                ("org", json!(share.org)),
                (
                    "purpose",
                    json!(p.t(&format!("purpose-{}", share.purpose.as_str()))),
                ),
            ],
        ),
        consequences: vec![p.t("confirm-end-share-consent")],
        action: format!("/cases/{reference}/shares/{id}/end"),
        back: format!("/cases/{reference}#shares"),
        button_key: "share-end",
        reason: Reason::None,
        hidden: vec![],
    };
    Ok(p.confirm(&c, refill))
}

async fn end_share(
    f: SignedForm<crate::http::Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (reference, id) = path.into_inner();
    if !f.sent.confirmed() {
        return Ok(see_other(&format!("/cases/{reference}/shares/{id}/end")));
    }
    match s
        .services()
        .end_share(s.actor(), &reference, &id, &route(&req))
        .await
    {
        Ok(()) => Ok(s
            .page
            .done(&format!("/cases/{reference}#shares"), "flash-share-ended")),
        Err(e) => end_share_page(s, &req, &reference, &id, Some(f.refill("confirm", e)?)).await,
    }
}

async fn audit_trail(
    s: Signed,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let rows = s
        .services()
        .case_audit_trail(
            s.actor(),
            &reference,
            passerelle_core::domain::Paging {
                page: 1,
                per_page: passerelle_core::domain::Paging::MAX_PER_PAGE,
            },
            &route(&req),
        )
        .await
        .map_err(|e| s.page.service_error(e))?;
    let mut data = s.page.base("audit-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("reference".into(), json!(reference.as_str()));
        o.insert(
            "rows".into(),
            json!(
                rows.items
                    .iter()
                    .map(|r| json!({
                        "seq": r.seq,
                        "at": r.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                        "user": r.user.clone().unwrap_or_default(),
                        "section": s.page.t(&format!("audit-section-{}", r.section.as_str())),
                        "action": s.page.t(&format!("audit-action-{}", r.action.as_str())),
                        "route": crate::words::route(&s.page, &r.route),
                    }))
                    .collect::<Vec<_>>()
            ),
        );
    }
    Ok(s.page.ok("case_audit", data))
}

#[derive(Deserialize)]
struct SearchForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    name: String,
}

impl HasCsrf for SearchForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Search by case reference or by exact name: POST, so a name never appears in a URL or
/// an access log. Text that reads as a reference (`PSG-2026-0042`, any case) is looked up
/// as one, among the cases the caller may see, and opens the case when found; anything
/// else is an exact full name through the blind index.
async fn search(f: SignedForm<SearchForm>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let text = f.form.name.trim();
    let as_reference = passerelle_core::domain::CaseRef::parse(&text.to_ascii_uppercase()).is_ok();
    let found = if as_reference {
        s.services()
            .search_by_reference(s.actor(), text, &route(&req))
            .await
    } else {
        s.services()
            .search_by_name(s.actor(), &f.form.name, &route(&req))
            .await
    }
    .map_err(|e| s.page.service_error(e))?;
    if as_reference && let [one] = found.as_slice() {
        return Ok(see_other(&format!("/cases/{}", one.reference)));
    }
    let mut data = s.page.base("search-title");
    if let Some(o) = data.as_object_mut() {
        o.insert(
            "items".into(),
            json!(
                found
                    .iter()
                    .map(|c| json!({
                        "reference": c.reference,
                        "stage": s.page.t(&format!("stage-{}", c.stage.as_str())),
                        "org": c.owner_org,
                    }))
                    .collect::<Vec<_>>()
            ),
        );
        o.insert("count".into(), json!(found.len()));
        o.insert("by_reference".into(), json!(as_reference));
    }
    Ok(s.page.ok("search", data))
}

/// The person fields of an empty form (every key present: templates are strict).
fn empty_person() -> Value {
    json!({
        "name": null, "aliases": null, "birth_date": null, "nationality": null, "stateless": false,
        "languages": null, "contact": null, "location": null, "notes": null, "is_minor": false,
        "gender": null,
    })
}
