//! Voluntary return in `/api/v1`: the return of a case, its steps and moves, and the
//! service-level list of an organisation's returns. The pages are in `return_pages`.

use crate::http::{ApiAuth, ApiError, ok, route};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::returns::{Refusal, RequestClock, ReturnClock, ReturnStage};
use passerelle_core::service::returns::{
    CheckInput, ChecklistItem, ChildSafeguardsInput, CitizenshipAnswerInput, CitizenshipInput,
    CitizenshipView, CounsellingInput, DocumentInput, DocumentView, LegInput, LegView, MoveInput,
    ReceptionInput, ReturnListItem, ReturnRequestInput, ReturnView, RiskInput, RiskView,
    StageEntry,
};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        api_list,
        api_view,
        api_request,
        api_move,
        api_withdraw,
        api_assess,
        api_safeguards,
        api_citizenship,
        api_remind,
        api_answer,
        api_document,
        api_leg,
        api_counselling,
        api_reception,
        api_check
    ),
    components(schemas(
        ReturnView,
        ReturnListItem,
        ReturnRequestInput,
        MoveInput,
        RiskInput,
        ChildSafeguardsInput,
        CitizenshipInput,
        CitizenshipAnswerInput,
        DocumentInput,
        LegInput,
        CounsellingInput,
        ReceptionInput,
        CheckInput,
        RiskView,
        CitizenshipView,
        DocumentView,
        LegView,
        ChecklistItem,
        StageEntry,
        Refusal,
        RequestClock,
        ReturnClock,
        ReturnStage,
        CreatedId,
        StageBody
    ))
)]
pub struct Doc;

/// A created record's id.
#[derive(Serialize, ToSchema)]
pub struct CreatedId {
    id: String,
}

/// The stage a return moved to.
#[derive(Serialize, ToSchema)]
pub struct StageBody {
    stage: ReturnStage,
}

const R: &str = "/cases/{reference}/return";

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/returns", web::get().to(api_list))
        .route(R, web::get().to(api_view))
        .route(R, web::post().to(api_request))
        .route("/cases/{reference}/return/move", web::post().to(api_move))
        .route(
            "/cases/{reference}/return/withdraw-consent",
            web::post().to(api_withdraw),
        )
        .route(
            "/cases/{reference}/return/assessment",
            web::post().to(api_assess),
        )
        .route(
            "/cases/{reference}/return/child-safeguards",
            web::put().to(api_safeguards),
        )
        .route(
            "/cases/{reference}/return/citizenship",
            web::post().to(api_citizenship),
        )
        .route(
            "/cases/{reference}/return/citizenship/{id}/reminder",
            web::post().to(api_remind),
        )
        .route(
            "/cases/{reference}/return/citizenship/{id}/answer",
            web::post().to(api_answer),
        )
        .route(
            "/cases/{reference}/return/documents",
            web::post().to(api_document),
        )
        .route("/cases/{reference}/return/legs", web::post().to(api_leg))
        .route(
            "/cases/{reference}/return/counselling",
            web::put().to(api_counselling),
        )
        .route(
            "/cases/{reference}/return/reception",
            web::put().to(api_reception),
        )
        .route(
            "/cases/{reference}/return/checks",
            web::post().to(api_check),
        );
}

fn lang_of(q: &HashMap<String, String>) -> &'static str {
    match q.get("lang").map(String::as_str) {
        Some("fr") => "fr",
        _ => "en",
    }
}

/// My organisation's returns (as owner or as return agency), with their clocks.
#[utoipa::path(get, path = "/api/v1/returns", responses((status = 200, body = [ReturnListItem]), (status = 403)))]
pub async fn api_list(a: ApiAuth, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .returns_of_my_org(a.actor(), &route(&req))
            .await?,
    ))
}

/// The return of a case: checklist, blockers of the next stage, timeline, clocks.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/return", params(("reference" = String, Path), ("lang" = Option<String>, Query)),
    responses((status = 200, body = ReturnView), (status = 403), (status = 404)))]
pub async fn api_view(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .return_view(a.actor(), &reference, lang_of(&q), &route(&req))
            .await?,
    ))
}

/// Request a return, on the person's request and recorded consent.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return", params(("reference" = String, Path)), request_body = ReturnRequestInput,
    responses((status = 201, body = CreatedId), (status = 409), (status = 422), (status = 503)))]
pub async fn api_request(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ReturnRequestInput>,
) -> Result<HttpResponse, ApiError> {
    let id = a
        .services()
        .request_return(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::CREATED, &CreatedId { id }))
}

/// Move the return to its next stage, or cancel it (every refusal names its rule).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/move", params(("reference" = String, Path)), request_body = MoveInput,
    responses((status = 200, body = StageBody), (status = 403), (status = 409), (status = 422)))]
pub async fn api_move(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<MoveInput>,
) -> Result<HttpResponse, ApiError> {
    let stage = a
        .services()
        .move_return(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &StageBody { stage }))
}

/// The person withdraws their consent: the return stops and bookings are released.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/withdraw-consent", params(("reference" = String, Path)),
    responses((status = 204), (status = 409)))]
pub async fn api_withdraw(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .withdraw_return_consent(a.actor(), &reference, &route(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Record the risk assessment (signed by the caller).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/assessment", params(("reference" = String, Path)), request_body = RiskInput,
    responses((status = 201, body = CreatedId), (status = 422)))]
pub async fn api_assess(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<RiskInput>,
) -> Result<HttpResponse, ApiError> {
    let id = a
        .services()
        .assess_return(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::CREATED, &CreatedId { id }))
}

/// A child's guardian and best-interests determination.
#[utoipa::path(put, path = "/api/v1/cases/{reference}/return/child-safeguards", params(("reference" = String, Path)), request_body = ChildSafeguardsInput,
    responses((status = 204), (status = 422)))]
pub async fn api_safeguards(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ChildSafeguardsInput>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .child_safeguards(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ask an origin-country authority to confirm citizenship.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/citizenship", params(("reference" = String, Path)), request_body = CitizenshipInput,
    responses((status = 201, body = CreatedId), (status = 422)))]
pub async fn api_citizenship(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<CitizenshipInput>,
) -> Result<HttpResponse, ApiError> {
    let id = a
        .services()
        .request_citizenship(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::CREATED, &CreatedId { id }))
}

/// Record a reminder sent for a pending citizenship request.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/citizenship/{id}/reminder", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 404), (status = 409)))]
pub async fn api_remind(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    a.services()
        .remind_citizenship(a.actor(), &reference, &id, &route(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Record the origin state's answer to a citizenship request.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/citizenship/{id}/answer", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = CitizenshipAnswerInput, responses((status = 204), (status = 404), (status = 409), (status = 422)))]
pub async fn api_answer(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<CitizenshipAnswerInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    a.services()
        .answer_citizenship(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Record a travel document.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/documents", params(("reference" = String, Path)), request_body = DocumentInput,
    responses((status = 201, body = CreatedId), (status = 422)))]
pub async fn api_document(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<DocumentInput>,
) -> Result<HttpResponse, ApiError> {
    let id = a
        .services()
        .add_travel_document(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::CREATED, &CreatedId { id }))
}

/// Record an itinerary leg (the first sets the planned departure).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/legs", params(("reference" = String, Path)), request_body = LegInput,
    responses((status = 201, body = CreatedId), (status = 422)))]
pub async fn api_leg(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<LegInput>,
) -> Result<HttpResponse, ApiError> {
    let id = a
        .services()
        .add_leg(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::CREATED, &CreatedId { id }))
}

/// Record the pre-departure counselling.
#[utoipa::path(put, path = "/api/v1/cases/{reference}/return/counselling", params(("reference" = String, Path)), request_body = CounsellingInput,
    responses((status = 204), (status = 422)))]
pub async fn api_counselling(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<CounsellingInput>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .record_counselling(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Arrange the reception by an origin-country organisation.
#[utoipa::path(put, path = "/api/v1/cases/{reference}/return/reception", params(("reference" = String, Path)), request_body = ReceptionInput,
    responses((status = 204), (status = 422)))]
pub async fn api_reception(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ReceptionInput>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .arrange_reception(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Tick one of the jurisdiction's own checks.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/checks", params(("reference" = String, Path)), request_body = CheckInput,
    responses((status = 204), (status = 422)))]
pub async fn api_check(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<CheckInput>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .record_check(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
