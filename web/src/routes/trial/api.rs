//! Protection at trial: the proceedings page with its hearing calendar, measure
//! requests and decisions, the planned departure and the conflicts; and the same in
//! `/api/v1`.

use crate::http::{ApiAuth, ApiError, PageError, Pairs, Signed, SignedForm, ok, route, see_other};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::ports::Measure;
use passerelle_core::service::trial::{
    CooperationInput, DepartureInput, DepartureView, HearingInput, HearingView,
    MeasureDecisionInput, MeasureRequestInput, MeasureView, ProceedingInput, ProceedingView,
    ProceedingsView,
};
use passerelle_core::trial::{
    Alternative, Charge, Conflict, HearingKind, MeasureStatus, PersonRole,
};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        api_view,
        api_add_proceeding,
        api_cooperation,
        api_close,
        api_add_hearing,
        api_cancel_hearing,
        api_request_measure,
        api_decide_measure,
        api_departure
    ),
    components(schemas(
        ProceedingsView,
        ProceedingView,
        HearingView,
        MeasureView,
        DepartureView,
        Conflict,
        Alternative,
        Measure,
        ProceedingInput,
        CooperationInput,
        HearingInput,
        MeasureRequestInput,
        MeasureDecisionInput,
        DepartureInput,
        Created,
        StatusBody
    ))
)]
pub struct Doc;

/// A created record's id.
#[derive(Serialize, ToSchema)]
pub struct Created {
    id: String,
}

/// A measure request's status after a decision.
#[derive(Serialize, ToSchema)]
pub struct StatusBody {
    status: MeasureStatus,
}

const P: &str = "/cases/{reference}/proceedings";


pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route(P, web::get().to(api_view))
        .route(P, web::post().to(api_add_proceeding))
        .route(
            "/cases/{reference}/proceedings/{id}/cooperation",
            web::put().to(api_cooperation),
        )
        .route(
            "/cases/{reference}/proceedings/{id}/close",
            web::post().to(api_close),
        )
        .route(
            "/cases/{reference}/proceedings/{id}/hearings",
            web::post().to(api_add_hearing),
        )
        .route(
            "/cases/{reference}/hearings/{id}/cancel",
            web::post().to(api_cancel_hearing),
        )
        .route(
            "/cases/{reference}/proceedings/{id}/measures",
            web::post().to(api_request_measure),
        )
        .route(
            "/cases/{reference}/measures/{id}/decision",
            web::post().to(api_decide_measure),
        )
        .route("/cases/{reference}/departure", web::put().to(api_departure));
}

// ---------- API ----------

/// The legal track of a case: proceedings, hearings, measures, the planned departure
/// and the conflicts between them. `lang` picks the measure labels (en, fr).
#[utoipa::path(get, path = "/api/v1/cases/{reference}/proceedings", params(("reference" = String, Path), ("lang" = Option<String>, Query)),
    responses((status = 200, body = ProceedingsView), (status = 403), (status = 404)))]
pub async fn api_view(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let lang = match q.get("lang").map(String::as_str) {
        Some("fr") => "fr",
        _ => "en",
    };
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .proceedings(a.actor(), &reference, lang, &route(&req))
            .await?,
    ))
}

/// Link the case to criminal proceedings.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/proceedings", params(("reference" = String, Path)), request_body = ProceedingInput,
    responses((status = 201, body = Created), (status = 403), (status = 422)))]
pub async fn api_add_proceeding(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ProceedingInput>,
) -> Result<HttpResponse, ApiError> {
    let id = a
        .services()
        .add_proceeding(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::CREATED, &Created { id }))
}

/// Record whether the person's cooperation is required, and who decided (§36).
#[utoipa::path(put, path = "/api/v1/cases/{reference}/proceedings/{id}/cooperation", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = CooperationInput, responses((status = 204), (status = 404), (status = 409), (status = 422)))]
pub async fn api_cooperation(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<CooperationInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    a.services()
        .record_cooperation(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Close a proceeding.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/proceedings/{id}/close", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 404), (status = 409)))]
pub async fn api_close(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    a.services()
        .close_proceeding(a.actor(), &reference, &id, &route(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Add a hearing to an open proceeding.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/proceedings/{id}/hearings", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = HearingInput, responses((status = 201, body = Created), (status = 404), (status = 409), (status = 422)))]
pub async fn api_add_hearing(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<HearingInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let id = a
        .services()
        .add_hearing(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::CREATED, &Created { id }))
}

/// Cancel a hearing.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/hearings/{id}/cancel", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 404), (status = 409)))]
pub async fn api_cancel_hearing(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    a.services()
        .cancel_hearing(a.actor(), &reference, &id, &route(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Request a protective measure from the jurisdiction's catalogue.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/proceedings/{id}/measures", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = MeasureRequestInput, responses((status = 201, body = Created), (status = 404), (status = 409), (status = 422)))]
pub async fn api_request_measure(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<MeasureRequestInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let id = a
        .services()
        .request_measure(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::CREATED, &Created { id }))
}

/// Grant, refuse or withdraw a requested measure.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/measures/{id}/decision", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = MeasureDecisionInput, responses((status = 200, body = StatusBody), (status = 404), (status = 409), (status = 422)))]
pub async fn api_decide_measure(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<MeasureDecisionInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let status = a
        .services()
        .decide_measure(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &StatusBody { status }))
}

/// Set (or clear, with an empty date) the person's planned departure.
#[utoipa::path(put, path = "/api/v1/cases/{reference}/departure", params(("reference" = String, Path)),
    request_body = DepartureInput, responses((status = 204), (status = 403), (status = 422)))]
pub async fn api_departure(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<DepartureInput>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .set_planned_departure(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

