//! Identification in `/api/v1`: screening interviews, the Protocol elements and the
//! suggested assessment, the trafficking and smuggling determinations, and deadlines.

use crate::http::{ApiAuth, ApiError, PageParams, created, ok, route};
use crate::routes::api::VersionBody;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::ServiceError;
use passerelle_core::identification::Elements;
use passerelle_core::service::deadlines::{DeadlineFilter, DeadlinePage, DeadlineView};
use passerelle_core::service::identification::{
    IdentificationView, InterviewInput, InterviewView, SmugglingDecisionInput,
    SmugglingDecisionView, StatusBodies, TraffickingDecisionInput, TraffickingDecisionView,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        api_view,
        api_start,
        api_interview,
        api_answers,
        api_elements,
        api_trafficking,
        api_trafficking_one,
        api_smuggling,
        api_smuggling_one,
        api_deadlines,
        api_case_deadlines
    ),
    components(schemas(
        IdentificationView,
        InterviewView,
        InterviewInput,
        TraffickingDecisionInput,
        TraffickingDecisionView,
        SmugglingDecisionInput,
        SmugglingDecisionView,
        StatusBodies,
        DeadlineView,
        DeadlinePage,
        NextBody,
        AnswersBody,
        ElementsBody
    ))
)]
pub struct Doc;

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/deadlines", web::get().to(api_deadlines))
        .route(
            "/cases/{reference}/deadlines",
            web::get().to(api_case_deadlines),
        )
        .route("/cases/{reference}/identification", web::get().to(api_view))
        .route("/cases/{reference}/interviews", web::post().to(api_start))
        .route(
            "/cases/{reference}/interviews/{id}",
            web::get().to(api_interview),
        )
        .route(
            "/cases/{reference}/interviews/{id}/answers",
            web::post().to(api_answers),
        )
        .route("/cases/{reference}/elements", web::put().to(api_elements))
        .route(
            "/cases/{reference}/determinations/trafficking",
            web::post().to(api_trafficking),
        )
        .route(
            "/cases/{reference}/determinations/trafficking/{id}",
            web::get().to(api_trafficking_one),
        )
        .route(
            "/cases/{reference}/determinations/smuggling",
            web::post().to(api_smuggling),
        )
        .route(
            "/cases/{reference}/determinations/smuggling/{id}",
            web::get().to(api_smuggling_one),
        );
}

#[derive(Serialize, ToSchema)]
pub struct NextBody {
    /// Index of the next unanswered question, or null when all are answered.
    next: Option<usize>,
}

#[derive(Deserialize, ToSchema)]
pub struct AnswersBody {
    /// Question id → answer.
    answers: BTreeMap<String, String>,
}

#[derive(Deserialize, ToSchema)]
pub struct ElementsBody {
    version: i64,
    elements: Elements,
    findings: Option<String>,
}

/// The identification stage, with the assessment's reasons in the caller's language.
async fn view(
    a: &ApiAuth,
    req: &HttpRequest,
    reference: &str,
) -> Result<IdentificationView, ApiError> {
    let mut v = a
        .services()
        .identification(a.actor(), reference, a.lang, &route(req))
        .await?;
    let i18n = &a.state.i18n;
    for r in v
        .assessment
        .trafficking_reasons
        .iter_mut()
        .chain(v.assessment.smuggling_reasons.iter_mut())
    {
        r.text = i18n.reason(a.lang, r.key, &r.values);
    }
    Ok(v)
}

fn url(reference: &str, rest: &str) -> String {
    format!("/api/v1/cases/{reference}/{rest}")
}

/// The identification stage of a case: interviews, elements, the suggested assessment
/// (its reasons in the `Accept-Language`), determinations, who may decide, deadlines.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/identification", params(("reference" = String, Path)),
    responses((status = 200, body = IdentificationView)))]
pub async fn api_view(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(StatusCode::OK, &view(&a, &req, &reference).await?))
}

/// Start a screening interview (the case moves to screening).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/interviews", params(("reference" = String, Path)), request_body = InterviewInput,
    responses((status = 201, body = InterviewView)))]
pub async fn api_start(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<InterviewInput>,
) -> Result<HttpResponse, ApiError> {
    let id = a
        .services()
        .start_interview(a.actor(), &reference, &body, &route(&req))
        .await?;
    let v = interview(&a, &req, &reference, &id).await?;
    Ok(created(&url(&reference, &format!("interviews/{id}")), &v))
}

async fn interview(
    a: &ApiAuth,
    req: &HttpRequest,
    reference: &str,
    id: &str,
) -> Result<InterviewView, ApiError> {
    view(a, req, reference)
        .await?
        .interviews
        .into_iter()
        .find(|i| i.id == id)
        .ok_or(ApiError(ServiceError::NotFound("interview")))
}

/// One interview with its questions (in the interview's language) and answers.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/interviews/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = InterviewView)))]
pub async fn api_interview(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    Ok(ok(
        StatusCode::OK,
        &interview(&a, &req, &reference, &id).await?,
    ))
}

/// Record answers to an interview's questions.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/interviews/{id}/answers", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = AnswersBody, responses((status = 200, body = NextBody)))]
pub async fn api_answers(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<AnswersBody>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let next = a
        .services()
        .answer_interview(a.actor(), &reference, &id, &body.answers, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &NextBody { next }))
}

/// Record the Protocol elements found; answers the case's new version.
#[utoipa::path(put, path = "/api/v1/cases/{reference}/elements", params(("reference" = String, Path)), request_body = ElementsBody,
    responses((status = 200, body = VersionBody)))]
pub async fn api_elements(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ElementsBody>,
) -> Result<HttpResponse, ApiError> {
    let version = a
        .services()
        .set_elements(
            a.actor(),
            &reference,
            body.version,
            &body.elements,
            body.findings.as_deref(),
            &route(&req),
        )
        .await?;
    Ok(ok(StatusCode::OK, &VersionBody { version }))
}

/// Record a trafficking determination (a reasonable-grounds or conclusive one moves the
/// case to protection).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/determinations/trafficking", params(("reference" = String, Path)),
    request_body = TraffickingDecisionInput, responses((status = 201, body = TraffickingDecisionView)))]
pub async fn api_trafficking(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<TraffickingDecisionInput>,
) -> Result<HttpResponse, ApiError> {
    let id = a
        .services()
        .decide_trafficking(a.actor(), &reference, &body, &route(&req))
        .await?;
    let v = trafficking(&a, &req, &reference, &id).await?;
    Ok(created(
        &url(&reference, &format!("determinations/trafficking/{id}")),
        &v,
    ))
}

async fn trafficking(
    a: &ApiAuth,
    req: &HttpRequest,
    reference: &str,
    id: &str,
) -> Result<TraffickingDecisionView, ApiError> {
    view(a, req, reference)
        .await?
        .trafficking
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(ApiError(ServiceError::NotFound("trafficking_decision")))
}

/// One trafficking determination.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/determinations/trafficking/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = TraffickingDecisionView)))]
pub async fn api_trafficking_one(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    Ok(ok(
        StatusCode::OK,
        &trafficking(&a, &req, &reference, &id).await?,
    ))
}

/// Record a smuggling determination (protected-witness status moves the case to
/// protection).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/determinations/smuggling", params(("reference" = String, Path)),
    request_body = SmugglingDecisionInput, responses((status = 201, body = SmugglingDecisionView)))]
pub async fn api_smuggling(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<SmugglingDecisionInput>,
) -> Result<HttpResponse, ApiError> {
    let id = a
        .services()
        .decide_smuggling(a.actor(), &reference, &body, &route(&req))
        .await?;
    let v = smuggling(&a, &req, &reference, &id).await?;
    Ok(created(
        &url(&reference, &format!("determinations/smuggling/{id}")),
        &v,
    ))
}

async fn smuggling(
    a: &ApiAuth,
    req: &HttpRequest,
    reference: &str,
    id: &str,
) -> Result<SmugglingDecisionView, ApiError> {
    view(a, req, reference)
        .await?
        .smuggling
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(ApiError(ServiceError::NotFound("smuggling_decision")))
}

/// One smuggling determination.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/determinations/smuggling/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = SmugglingDecisionView)))]
pub async fn api_smuggling_one(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    Ok(ok(
        StatusCode::OK,
        &smuggling(&a, &req, &reference, &id).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadlineParams {
    /// Only this kind: recovery_reflection_period_end, reasonable_grounds_decision_due,
    /// hearing_conflict, citizenship_confirmation_due, return_stage_target.
    kind: Option<String>,
    /// Only overdue ones.
    overdue: Option<bool>,
    /// Only this case.
    reference: Option<String>,
    /// From 1; default 1.
    page: Option<u64>,
    /// From 1 to 200; default 50.
    per_page: Option<u64>,
}

/// My open deadlines, most urgent first (an organisation administrator: the whole
/// organisation's).
#[utoipa::path(get, path = "/api/v1/deadlines", params(DeadlineParams), responses((status = 200, body = DeadlinePage)))]
pub async fn api_deadlines(
    a: ApiAuth,
    req: HttpRequest,
    q: web::Query<DeadlineParams>,
) -> Result<HttpResponse, ApiError> {
    let paging = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .paging()?;
    let filter = DeadlineFilter::parse(
        q.kind.as_deref(),
        q.overdue.unwrap_or(false),
        q.reference.as_deref(),
    )?;
    let v = a
        .services()
        .my_deadlines(a.actor(), &filter, paging, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &v))
}

/// The open deadlines of one case, most urgent first.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/deadlines", params(("reference" = String, Path), PageParams),
    responses((status = 200, body = DeadlinePage)))]
pub async fn api_case_deadlines(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    q: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let paging = q.paging()?;
    let v = a
        .services()
        .case_deadlines(a.actor(), &reference, paging, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &v))
}
