//! Identification pages and API: screening interviews, elements and the suggested
//! assessment, trafficking and smuggling determinations, deadlines.

use crate::http::{PageError, Pairs, Refill, Signed, SignedForm, route};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::ServiceError;
use passerelle_core::domain::Invalid;
use passerelle_core::identification::{
    Act, Control, DecidingBody, Elements, Exploitation, InterviewerKind, Means, SmugglingElement,
    SmugglingStatus, TraffickingStatus,
};
use passerelle_core::service::identification::{
    DeadlineView, IdentificationView, InterviewInput, SmugglingDecisionInput,
    TraffickingDecisionInput,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/deadlines", web::get().to(deadlines_page))
        .route("/cases/{reference}/identification", web::get().to(page))
        .route("/cases/{reference}/interviews", web::post().to(start_page))
        .route(
            "/cases/{reference}/interviews/{id}",
            web::get().to(interview_page),
        )
        .route(
            "/cases/{reference}/interviews/{id}/answers",
            web::post().to(answers_page),
        )
        .route("/cases/{reference}/elements", web::post().to(elements_page))
        .route(
            "/cases/{reference}/determinations/trafficking",
            web::post().to(trafficking_page),
        )
        .route(
            "/cases/{reference}/determinations/smuggling",
            web::post().to(smuggling_page),
        );
}

fn options<T: Copy>(
    s: &Signed,
    prefix: &str,
    all: &[T],
    as_str: impl Fn(T) -> &'static str,
    selected: &[&str],
) -> Vec<Value> {
    all.iter()
        .map(|v| {
            let value = as_str(*v);
            json!({"value": value, "label": s.page.t(&format!("{prefix}-{value}")), "checked": selected.contains(&value)})
        })
        .collect()
}

/// A deadline as a page shows it: the case page where it is acted on (its `page`: the
/// identification, the proceedings or the return), its kind and its status in words.
pub(crate) fn deadline_json(s: &Signed, d: &DeadlineView) -> Value {
    let i18n = &s.page.state.i18n;
    let lang = s.page.lang;
    // An administrator oversees the deadlines but works on none of the pages they are
    // acted on (identification, proceedings, return are caseworkers'): their rows link
    // to nothing rather than to a page that would answer 403.
    let href = (s.actor().role != passerelle_core::domain::Role::OrgAdmin)
        .then(|| format!("/cases/{}/{}", d.reference, d.page));
    json!({
        "reference": d.reference,
        "href": href,
        "link": d.page,
        "kind_value": d.kind,
        "kind": s.page.t(&format!("deadline-{}", d.kind)),
        "due_on": d.due_on.to_string(),
        "days_left": d.days_left,
        "overdue": d.overdue,
        "open": d.open,
        "status": if !d.open { s.page.t("deadline-closed") } else if d.overdue {
            i18n.t1(lang, "deadline-overdue-by", "n", -d.days_left)
        } else if d.days_left == 0 {
            s.page.t("deadline-due-today")
        } else {
            i18n.t1(lang, "deadline-due-in", "n", d.days_left)
        },
    })
}

fn reasons(s: &Signed, list: &[passerelle_core::identification::Reason]) -> Vec<String> {
    list.iter()
        .map(|r| s.page.state.i18n.reason(s.page.lang, r.key, &r.values))
        .collect()
}

fn view_json(s: &Signed, v: &IdentificationView, org_kind: &str) -> Value {
    // Who usually interviews, by the kind of the caller's organisation.
    let default_interviewer = match org_kind {
        "law_enforcement" => "police",
        "state_authority" => "immigration",
        _ => "ngo",
    };
    let t = |k: &str| s.page.t(k);
    let sel = |xs: Vec<&'static str>| xs;
    let acts = sel(v.elements.acts.iter().map(|x| x.as_str()).collect());
    let means = sel(v.elements.means.iter().map(|x| x.as_str()).collect());
    let purposes = sel(v.elements.purposes.iter().map(|x| x.as_str()).collect());
    let controls = sel(v.elements.controls.iter().map(|x| x.as_str()).collect());
    let smug = sel(v.elements.smuggling.iter().map(|x| x.as_str()).collect());
    json!({
        "reference": v.reference,
        "version": v.version,
        "jurisdiction": v.jurisdiction,
        "child": v.child,
        "two_steps": v.two_steps,
        "recovery_days": v.recovery_period_days,
        "can_edit": v.can_edit,
        "protected_witness": v.protected_witness,
        "findings": v.findings,
        "country_of_exploitation": v.elements.country_of_exploitation,
        "interviews": v.interviews.iter().map(|i| json!({
            "id": i.id, "held_on": i.held_on.to_string(), "interviewer": i.interviewer,
            "kind": t(&format!("interviewer-{}", i.interviewer_kind.as_str())), "language": i.language,
            "interpreter": i.interpreter, "answered": i.answered, "count": i.questions.len(),
            "questions": i.questions.iter().map(|q| json!({"id": q.id, "text": q.text, "indicator": q.indicator, "answer": q.answer})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "acts": options(s, "act", Act::ALL, Act::as_str, &acts),
        "means": options(s, "means", Means::ALL, Means::as_str, &means),
        "purposes": options(s, "exploitation", Exploitation::ALL, Exploitation::as_str, &purposes),
        "controls": options(s, "control", Control::ALL, Control::as_str, &controls),
        "smuggling_elements": options(s, "smuggling", SmugglingElement::ALL, SmugglingElement::as_str, &smug),
        "assessment": {
            "trafficking": t(&format!("suggestion-{}", serde_json::to_value(v.assessment.trafficking).ok().and_then(|x| x.as_str().map(str::to_owned)).unwrap_or_default())),
            "trafficking_reasons": reasons(s, &v.assessment.trafficking_reasons),
            "smuggling": t(&format!("suggestion-{}", serde_json::to_value(v.assessment.smuggling).ok().and_then(|x| x.as_str().map(str::to_owned)).unwrap_or_default())),
            "smuggling_reasons": reasons(s, &v.assessment.smuggling_reasons),
        },
        "trafficking": v.trafficking.iter().map(|d| json!({
            "status": t(&format!("tstatus-{}", d.status.as_str())), "body": t(&format!("body-{}", d.deciding_body.as_str())),
            "decided_on": d.decided_on.to_string(), "basis": d.basis, "author": d.author,
        })).collect::<Vec<_>>(),
        "smuggling": v.smuggling.iter().map(|d| json!({
            "status": t(&format!("sstatus-{}", d.status.as_str())), "body": t(&format!("body-{}", d.deciding_body.as_str())),
            "decided_on": d.decided_on.to_string(), "basis": d.basis, "author": d.author,
            "victim_of_other_crimes": d.victim_of_other_crimes, "witness": d.witness, "protected_witness": d.protected_witness,
        })).collect::<Vec<_>>(),
        "deadlines": v.deadlines.iter().map(|d| deadline_json(s, d)).collect::<Vec<_>>(),
        "tstatuses": options(s, "tstatus", TraffickingStatus::ALL, TraffickingStatus::as_str, &[]),
        "sstatuses": options(s, "sstatus", SmugglingStatus::ALL, SmugglingStatus::as_str, &[]),
        "bodies": options(s, "body", DecidingBody::ALL, DecidingBody::as_str, &[]),
        "interviewer_kinds": options(s, "interviewer", InterviewerKind::ALL, InterviewerKind::as_str, &[default_interviewer]),
        "jurisdiction_label": crate::words::jurisdiction(&s.page, &v.jurisdiction),
        "today": chrono::Utc::now().date_naive().to_string(),
    })
}

async fn page(
    s: Signed,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    identification_page(&s, &req, &reference, None).await
}

/// The identification page; after a failed POST of one of its forms, with what was typed
/// and what is wrong. After a conflict on the elements, what is saved now is listed.
async fn identification_page(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let v = s
        .services()
        .identification(s.actor(), reference, s.page.lang, &route(req))
        .await
        .map_err(|e| s.page.service_error(e))?;
    let org = s
        .services()
        .org(s.actor().org_id)
        .await
        .map_err(|e| s.page.service_error(e))?;
    let elements_conflict = refill
        .as_ref()
        .is_some_and(|r| r.form["name"] == "elements" && r.form["stale"] == Value::Bool(true));
    let mut data = s.page.base("identification-title");
    if let Some(o) = data.as_object_mut() {
        let view = view_json(s, &v, org.kind.as_str());
        let saved: Vec<Value> = if elements_conflict {
            [
                "acts",
                "means",
                "purposes",
                "controls",
                "smuggling_elements",
            ]
            .iter()
            .flat_map(|g| view[*g].as_array().cloned().unwrap_or_default())
            .filter(|x| x["checked"] == Value::Bool(true))
            .map(|x| x["label"].clone())
            .collect()
        } else {
            vec![]
        };
        o.insert("elements_conflict".into(), json!(elements_conflict));
        o.insert("elements_saved".into(), json!(saved));
        o.insert("id".into(), view);
    }
    Ok(s.page.show("identification", data, refill))
}

async fn start_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = InterviewInput {
        held_on: f.form.get("held_on").map(str::to_owned),
        interviewer_kind: f.form.get("interviewer_kind").unwrap_or("").to_owned(),
        language: f.form.get("language").unwrap_or("").to_owned(),
        interpreter: f.form.get("interpreter").is_some(),
        mode: f.form.get("mode").map(str::to_owned),
        sets: f.form.all("sets"),
    };
    match s
        .services()
        .start_interview(s.actor(), &reference, &input, &route(&req))
        .await
    {
        Ok(id) => Ok(s.page.done(
            &format!("/cases/{reference}/interviews/{id}"),
            "flash-interview-started",
        )),
        Err(e) => identification_page(s, &req, &reference, Some(f.refill("interview", e)?)).await,
    }
}

#[derive(Deserialize)]
struct QuestionQuery {
    q: Option<String>,
}

async fn interview_page(
    s: Signed,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<QuestionQuery>,
) -> Result<HttpResponse, PageError> {
    let (reference, id) = path.into_inner();
    interview_form(&s, &req, &reference, &id, query.q.as_deref(), None).await
}

/// The questions of an interview (all, or one at a time at `q`). After a failed save,
/// the answers typed are shown in place of the saved ones, with what is wrong.
async fn interview_form(
    s: &Signed,
    req: &HttpRequest,
    reference: &str,
    id: &str,
    q: Option<&str>,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let v = s
        .services()
        .identification(s.actor(), reference, s.page.lang, &route(req))
        .await
        .map_err(|e| s.page.service_error(e))?;
    let iv = v.interviews.iter().find(|i| i.id == id).ok_or_else(|| {
        s.page.fail(
            StatusCode::NOT_FOUND,
            "error-not-found",
            s.page.t("what-interview"),
        )
    })?;
    let n = iv.questions.len();
    let one = iv.mode == "one";
    let current = match q {
        Some(q) => q.parse::<usize>().ok().filter(|i| *i < n).ok_or_else(|| {
            s.page.fail(
                StatusCode::BAD_REQUEST,
                "error-invalid",
                s.page.t("error-bad-question"),
            )
        })?,
        None => iv
            .questions
            .iter()
            .position(|q| q.answer.is_none())
            .unwrap_or(0),
    };
    // The answers as typed, when the form comes back after an error.
    let typed = |qid: &str| -> Option<String> {
        refill
            .as_ref()
            .and_then(|r| r.form["values"][format!("a_{qid}")][0].as_str())
            .map(str::to_owned)
    };
    let questions: Vec<Value> = iv
        .questions
        .iter()
        .enumerate()
        .filter(|(i, _)| !one || *i == current)
        .map(|(i, q)| json!({"index": i, "number": i + 1, "id": q.id, "text": q.text, "indicator": q.indicator,
            "answer": typed(&q.id).or_else(|| q.answer.clone())}))
        .collect();
    let mut data = s.page.base("interview-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("reference".into(), json!(reference));
        o.insert("interview".into(), json!({
            "id": iv.id, "one": one, "language": iv.language, "interpreter": iv.interpreter, "count": n,
            "position": current + 1, "position_index": current, "answered": iv.answered, "can_edit": v.can_edit,
            "prev": if one && current > 0 { json!(current - 1) } else { Value::Null },
            "next": if one && current + 1 < n { json!(current + 1) } else { Value::Null },
        }));
        o.insert("questions".into(), json!(questions));
    }
    Ok(s.page.show("interview", data, refill))
}

async fn answers_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let (reference, id) = path.into_inner();
    let answers: BTreeMap<String, String> = f
        .form
        .0
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("a_").map(|q| (q.to_owned(), v.clone())))
        .collect();
    let outcome = if answers.is_empty() {
        Err(ServiceError::Invalid(Invalid::new(
            "answers",
            "no answer was sent",
        )))
    } else {
        s.services()
            .answer_interview(s.actor(), &reference, &id, &answers, &route(&req))
            .await
    };
    match outcome {
        // One question at a time: go on to the next unanswered one; else back to the stage.
        Ok(next) => Ok(match (f.form.get("mode"), next) {
            (Some("one"), Some(n)) => s.page.done(
                &format!("/cases/{reference}/interviews/{id}?q={n}"),
                "flash-answer-saved",
            ),
            _ => s.page.done(
                &format!("/cases/{reference}/identification#interviews"),
                "flash-answers-saved",
            ),
        }),
        Err(e) => {
            // Back to the question(s) that were on the page.
            let q = f.form.get("q").map(str::to_owned);
            let r = f.refill("answers", e)?;
            interview_form(s, &req, &reference, &id, q.as_deref(), Some(r)).await
        }
    }
}

fn parse_set<T: Ord>(
    values: Vec<String>,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> Result<std::collections::BTreeSet<T>, ServiceError> {
    Ok(values.iter().map(|v| parse(v)).collect::<Result<_, _>>()?)
}

async fn elements_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let outcome = async {
        let elements = Elements {
            acts: parse_set(f.form.all("acts"), Act::parse)?,
            means: parse_set(f.form.all("means"), Means::parse)?,
            purposes: parse_set(f.form.all("purposes"), Exploitation::parse)?,
            controls: parse_set(f.form.all("controls"), Control::parse)?,
            smuggling: parse_set(f.form.all("smuggling"), SmugglingElement::parse)?,
            country_of_exploitation: f.form.opt("country_of_exploitation"),
        };
        let version = f.sent.required_number("version")?;
        s.services()
            .set_elements(
                s.actor(),
                &reference,
                version,
                &elements,
                f.form.get("findings"),
                &route(&req),
            )
            .await
    }
    .await;
    match outcome {
        Ok(_) => Ok(s.page.done(
            &format!("/cases/{reference}/identification#assessment"),
            "flash-elements-saved",
        )),
        Err(e) => identification_page(s, &req, &reference, Some(f.refill("elements", e)?)).await,
    }
}

async fn trafficking_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = TraffickingDecisionInput {
        status: f.form.get("status").unwrap_or("").to_owned(),
        deciding_body: f.form.get("deciding_body").unwrap_or("").to_owned(),
        decided_on: f.form.get("decided_on").unwrap_or("").to_owned(),
        basis: f.form.get("basis").unwrap_or("").to_owned(),
    };
    match s
        .services()
        .decide_trafficking(s.actor(), &reference, &input, &route(&req))
        .await
    {
        Ok(_) => Ok(s.page.done(
            &format!("/cases/{reference}/identification#determinations"),
            "flash-determination-recorded",
        )),
        Err(e) => identification_page(s, &req, &reference, Some(f.refill("trafficking", e)?)).await,
    }
}

async fn smuggling_page(
    f: SignedForm<Pairs>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let input = SmugglingDecisionInput {
        status: f.form.get("status").unwrap_or("").to_owned(),
        victim_of_other_crimes: f.form.get("victim_of_other_crimes").is_some(),
        witness: f.form.get("witness").is_some(),
        deciding_body: f.form.get("deciding_body").unwrap_or("").to_owned(),
        decided_on: f.form.get("decided_on").unwrap_or("").to_owned(),
        basis: f.form.get("basis").unwrap_or("").to_owned(),
    };
    match s
        .services()
        .decide_smuggling(s.actor(), &reference, &input, &route(&req))
        .await
    {
        Ok(_) => Ok(s.page.done(
            &format!("/cases/{reference}/identification#determinations"),
            "flash-determination-recorded",
        )),
        Err(e) => identification_page(s, &req, &reference, Some(f.refill("smuggling", e)?)).await,
    }
}

async fn deadlines_page(s: Signed, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let list = s
        .services()
        .my_deadlines(
            s.actor(),
            &passerelle_core::service::deadlines::DeadlineFilter::default(),
            passerelle_core::domain::Paging {
                page: 1,
                per_page: passerelle_core::domain::Paging::MAX_PER_PAGE,
            },
            &route(&req),
        )
        .await
        .map_err(|e| s.page.service_error(e))?;
    let mut data = s.page.base("deadlines-title");
    if let Some(o) = data.as_object_mut() {
        // The administrator's list is the whole organisation's.
        o.insert(
            "organisation".into(),
            json!(s.actor().role == passerelle_core::domain::Role::OrgAdmin),
        );
        o.insert(
            "overdue_count".into(),
            json!(list.items.iter().filter(|d| d.overdue).count()),
        );
        o.insert(
            "deadlines".into(),
            json!(
                list.items
                    .iter()
                    .map(|d| deadline_json(&s, d))
                    .collect::<Vec<_>>()
            ),
        );
    }
    Ok(s.page.ok("deadlines", data))
}
