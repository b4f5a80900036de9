//! Protection at trial in `/api/v1`: proceedings, hearings, protective measures, the
//! planned departure and the conflicts between them.

use crate::http::{ApiAuth, ApiError, created, ok, route};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::ServiceError;
use passerelle_core::identification::DecidingBody;
use passerelle_core::ports::Measure;
use passerelle_core::service::trial::{
    CooperationInput, DepartureInput, DepartureView, HearingInput, HearingView,
    MeasureDecisionInput, MeasureRequestInput, MeasureView, ProceedingInput, ProceedingView,
    ProceedingsView, ReasonInput,
};
use passerelle_core::trial::{Alternative, Conflict};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    paths(
        api_view,
        api_add_proceeding,
        api_proceeding,
        api_cooperation,
        api_close,
        api_add_hearing,
        api_hearing,
        api_cancel_hearing,
        api_request_measure,
        api_measure,
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
        DecidingBody,
        ProceedingInput,
        CooperationInput,
        HearingInput,
        MeasureRequestInput,
        MeasureDecisionInput,
        DepartureInput,
        ReasonInput
    ))
)]
pub struct Doc;

const P: &str = "/cases/{reference}/proceedings";

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route(P, web::get().to(api_view))
        .route(P, web::post().to(api_add_proceeding))
        .route(
            "/cases/{reference}/proceedings/{id}",
            web::get().to(api_proceeding),
        )
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
            "/cases/{reference}/hearings/{id}",
            web::get().to(api_hearing),
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
            "/cases/{reference}/measures/{id}",
            web::get().to(api_measure),
        )
        .route(
            "/cases/{reference}/measures/{id}/decision",
            web::post().to(api_decide_measure),
        )
        .route("/cases/{reference}/departure", web::put().to(api_departure));
}

async fn view(
    a: &ApiAuth,
    req: &HttpRequest,
    reference: &str,
) -> Result<ProceedingsView, ApiError> {
    Ok(a.services()
        .proceedings(a.actor(), reference, a.lang, &route(req))
        .await?)
}

async fn proceeding(
    a: &ApiAuth,
    req: &HttpRequest,
    reference: &str,
    id: &str,
) -> Result<ProceedingView, ApiError> {
    view(a, req, reference)
        .await?
        .proceedings
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(ApiError(ServiceError::NotFound("proceeding")))
}

async fn hearing(
    a: &ApiAuth,
    req: &HttpRequest,
    reference: &str,
    id: &str,
) -> Result<HearingView, ApiError> {
    view(a, req, reference)
        .await?
        .proceedings
        .into_iter()
        .flat_map(|p| p.hearings)
        .find(|h| h.id == id)
        .ok_or(ApiError(ServiceError::NotFound("hearing")))
}

async fn measure(
    a: &ApiAuth,
    req: &HttpRequest,
    reference: &str,
    id: &str,
) -> Result<MeasureView, ApiError> {
    view(a, req, reference)
        .await?
        .proceedings
        .into_iter()
        .flat_map(|p| p.measures)
        .find(|m| m.id == id)
        .ok_or(ApiError(ServiceError::NotFound("measure_request")))
}

fn url(reference: &str, rest: &str) -> String {
    format!("/api/v1/cases/{reference}/{rest}")
}

/// The legal track of a case: proceedings, hearings, measures, the planned departure
/// and the conflicts between them; measure labels in the `Accept-Language`.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/proceedings", params(("reference" = String, Path)),
    responses((status = 200, body = ProceedingsView)))]
pub async fn api_view(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(StatusCode::OK, &view(&a, &req, &reference).await?))
}

/// Link the case to criminal proceedings.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/proceedings", params(("reference" = String, Path)), request_body = ProceedingInput,
    responses((status = 201, body = ProceedingView)))]
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
    let v = proceeding(&a, &req, &reference, &id).await?;
    Ok(created(&url(&reference, &format!("proceedings/{id}")), &v))
}

/// One proceeding, with its hearings and measures.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/proceedings/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ProceedingView)))]
pub async fn api_proceeding(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    Ok(ok(
        StatusCode::OK,
        &proceeding(&a, &req, &reference, &id).await?,
    ))
}

/// Record whether the person's cooperation is required, and who decided (§36); answers
/// the proceeding.
#[utoipa::path(put, path = "/api/v1/cases/{reference}/proceedings/{id}/cooperation", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = CooperationInput, responses((status = 200, body = ProceedingView)))]
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
    Ok(ok(
        StatusCode::OK,
        &proceeding(&a, &req, &reference, &id).await?,
    ))
}

/// Close a proceeding, saying why (the reason is kept with it); answers it.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/proceedings/{id}/close", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = ReasonInput, responses((status = 200, body = ProceedingView)))]
pub async fn api_close(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<ReasonInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    a.services()
        .close_proceeding(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    Ok(ok(
        StatusCode::OK,
        &proceeding(&a, &req, &reference, &id).await?,
    ))
}

/// Add a hearing to an open proceeding.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/proceedings/{id}/hearings", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = HearingInput, responses((status = 201, body = HearingView)))]
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
    let v = hearing(&a, &req, &reference, &id).await?;
    Ok(created(&url(&reference, &format!("hearings/{id}")), &v))
}

/// One hearing.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/hearings/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = HearingView)))]
pub async fn api_hearing(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    Ok(ok(
        StatusCode::OK,
        &hearing(&a, &req, &reference, &id).await?,
    ))
}

/// Cancel a hearing, saying why (the reason is kept with it); answers it.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/hearings/{id}/cancel", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = ReasonInput, responses((status = 200, body = HearingView)))]
pub async fn api_cancel_hearing(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<ReasonInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    a.services()
        .cancel_hearing(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    Ok(ok(
        StatusCode::OK,
        &hearing(&a, &req, &reference, &id).await?,
    ))
}

/// Request a protective measure from the jurisdiction's catalogue.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/proceedings/{id}/measures", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = MeasureRequestInput, responses((status = 201, body = MeasureView)))]
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
    let v = measure(&a, &req, &reference, &id).await?;
    Ok(created(&url(&reference, &format!("measures/{id}")), &v))
}

/// One measure request, with its decision.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/measures/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = MeasureView)))]
pub async fn api_measure(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    Ok(ok(
        StatusCode::OK,
        &measure(&a, &req, &reference, &id).await?,
    ))
}

/// Record the deciding authority's grant or refusal of a requested measure (with who
/// decided and the decision's reference), or its withdrawal; answers the measure.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/measures/{id}/decision", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = MeasureDecisionInput, responses((status = 200, body = MeasureView)))]
pub async fn api_decide_measure(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<MeasureDecisionInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    a.services()
        .decide_measure(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    Ok(ok(
        StatusCode::OK,
        &measure(&a, &req, &reference, &id).await?,
    ))
}

/// Set (or clear, with an empty date) the person's planned departure; answers the
/// legal track with its conflicts.
#[utoipa::path(put, path = "/api/v1/cases/{reference}/departure", params(("reference" = String, Path)),
    request_body = DepartureInput, responses((status = 200, body = ProceedingsView)))]
pub async fn api_departure(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<DepartureInput>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .set_planned_departure(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &view(&a, &req, &reference).await?))
}
