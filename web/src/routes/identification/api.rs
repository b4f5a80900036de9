//! Identification pages and API: screening interviews, elements and the suggested
//! assessment, trafficking and smuggling determinations, deadlines.

use crate::http::{ApiAuth, ApiError, PageError, Pairs, Signed, SignedForm, ok, route, see_other};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::domain::Invalid;
use passerelle_core::identification::{
    Act, Control, DecidingBody, Elements, Exploitation, InterviewerKind, Means, SmugglingElement,
    SmugglingStatus, TraffickingStatus,
};
use passerelle_core::service::identification::{
    DeadlineView, HEARING_CONFLICT, IdentificationView, InterviewInput, SmugglingDecisionInput,
    TraffickingDecisionInput,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        api_view,
        api_start,
        api_answers,
        api_elements,
        api_trafficking,
        api_smuggling,
        api_deadlines
    ),
    components(schemas(
        IdentificationView,
        InterviewInput,
        TraffickingDecisionInput,
        SmugglingDecisionInput,
        DeadlineView,
        IdBody,
        NextBody,
        AnswersBody,
        ElementsBody,
        VersionOnly
    ))
)]
pub struct Doc;


pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/deadlines", web::get().to(api_deadlines))
        .route("/cases/{reference}/identification", web::get().to(api_view))
        .route("/cases/{reference}/interviews", web::post().to(api_start))
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
            "/cases/{reference}/determinations/smuggling",
            web::post().to(api_smuggling),
        );
}

fn api_lang(req: &HttpRequest) -> &'static str {
    match req
        .headers()
        .get("accept-language")
        .and_then(|v| v.to_str().ok())
    {
        Some(v) if v.trim_start().starts_with("fr") => "fr",
        _ => "en",
    }
}

// ---------- API ----------

#[derive(Serialize, ToSchema)]
pub struct IdBody {
    id: String,
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

#[derive(Serialize, ToSchema)]
pub struct VersionOnly {
    version: i64,
}

/// The identification stage of a case.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/identification", params(("reference" = String, Path)),
    responses((status = 200, body = IdentificationView), (status = 403), (status = 404), (status = 503)))]
pub async fn api_view(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .identification(a.actor(), &reference, api_lang(&req), &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &v))
}

/// Start a screening interview.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/interviews", params(("reference" = String, Path)), request_body = InterviewInput,
    responses((status = 201, body = IdBody), (status = 422)))]
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
    Ok(ok(StatusCode::CREATED, &IdBody { id }))
}

/// Record answers to an interview's questions.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/interviews/{id}/answers", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = AnswersBody, responses((status = 200, body = NextBody), (status = 422), (status = 404)))]
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

/// Record the Protocol elements found.
#[utoipa::path(put, path = "/api/v1/cases/{reference}/elements", params(("reference" = String, Path)), request_body = ElementsBody,
    responses((status = 200, body = VersionOnly), (status = 409), (status = 422)))]
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
    Ok(ok(StatusCode::OK, &VersionOnly { version }))
}

/// Record a trafficking determination.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/determinations/trafficking", params(("reference" = String, Path)),
    request_body = TraffickingDecisionInput, responses((status = 201, body = IdBody), (status = 422), (status = 503)))]
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
    Ok(ok(StatusCode::CREATED, &IdBody { id }))
}

/// Record a smuggling determination.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/determinations/smuggling", params(("reference" = String, Path)),
    request_body = SmugglingDecisionInput, responses((status = 201, body = IdBody), (status = 422)))]
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
    Ok(ok(StatusCode::CREATED, &IdBody { id }))
}

/// My open deadlines, most urgent first.
#[utoipa::path(get, path = "/api/v1/deadlines", responses((status = 200, body = [DeadlineView]), (status = 403)))]
pub async fn api_deadlines(a: ApiAuth, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let v = a.services().my_deadlines(a.actor(), &route(&req)).await?;
    Ok(ok(StatusCode::OK, &v))
}

