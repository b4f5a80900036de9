//! Voluntary return in `/api/v1`: the return of a case, its steps and moves, and the
//! service-level list of an organisation's returns.

use crate::http::{ApiAuth, ApiError, OptionalJson, PageParams, created, no_content, ok, route};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::ServiceError;
use passerelle_core::returns::{Refusal, RequestClock, ReturnClock, ReturnStage};
use passerelle_core::service::cases::WithdrawalInput;
use passerelle_core::service::returns::{
    CheckInput, ChecklistItem, ChildSafeguardsInput, CitizenshipAnswerInput, CitizenshipInput,
    CitizenshipView, CounsellingInput, DocumentChangeInput, DocumentInput, DocumentView, EndInput,
    LegChangeInput, LegInput, LegView, MoveInput, ReceptionInput, ReturnFilter, ReturnListItem,
    ReturnPage, ReturnRequestInput, ReturnView, RiskInput, RiskView, StageEntry,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        api_list,
        api_view,
        api_request,
        api_move,
        api_withdraw,
        api_assess,
        api_assessment,
        api_safeguards,
        api_citizenship,
        api_remind,
        api_answer,
        api_document,
        api_leg,
        api_counselling,
        api_reception,
        api_check,
        api_citizenship_one,
        api_document_one,
        api_change_document,
        api_cancel_document,
        api_leg_one,
        api_change_leg,
        api_cancel_leg
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
        StageBody,
        ReturnPage,
        DocumentChangeInput,
        LegChangeInput,
        EndInput
    ))
)]
pub struct Doc;

/// The stage a return moved to, and its new version.
#[derive(Serialize, ToSchema)]
pub struct StageBody {
    stage: ReturnStage,
    version: i64,
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
            "/cases/{reference}/return/assessment",
            web::get().to(api_assessment),
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
            "/cases/{reference}/return/citizenship/{id}",
            web::get().to(api_citizenship_one),
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
        .route(
            "/cases/{reference}/return/documents/{id}",
            web::get().to(api_document_one),
        )
        .route(
            "/cases/{reference}/return/documents/{id}/change",
            web::post().to(api_change_document),
        )
        .route(
            "/cases/{reference}/return/documents/{id}/cancel",
            web::post().to(api_cancel_document),
        )
        .route("/cases/{reference}/return/legs", web::post().to(api_leg))
        .route(
            "/cases/{reference}/return/legs/{id}",
            web::get().to(api_leg_one),
        )
        .route(
            "/cases/{reference}/return/legs/{id}/change",
            web::post().to(api_change_leg),
        )
        .route(
            "/cases/{reference}/return/legs/{id}/cancel",
            web::post().to(api_cancel_leg),
        )
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

async fn view(a: &ApiAuth, req: &HttpRequest, reference: &str) -> Result<ReturnView, ApiError> {
    Ok(a.services()
        .return_view(a.actor(), reference, a.lang, &route(req))
        .await?)
}

fn url(reference: &str, rest: &str) -> String {
    format!("/api/v1/cases/{reference}/return{rest}")
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReturnParams {
    /// Only returns at this stage.
    stage: Option<String>,
    /// Only those stuck past their stage's target.
    stuck: Option<bool>,
    /// From 1; default 1.
    page: Option<u64>,
    /// From 1 to 200; default 50.
    per_page: Option<u64>,
}

/// My organisation's returns (as owner or as return agency), with their clocks.
#[utoipa::path(get, path = "/api/v1/returns", params(ReturnParams), responses((status = 200, body = ReturnPage)))]
pub async fn api_list(
    a: ApiAuth,
    req: HttpRequest,
    q: web::Query<ReturnParams>,
) -> Result<HttpResponse, ApiError> {
    let paging = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .paging()?;
    let filter = ReturnFilter {
        stage: q
            .stage
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(ReturnStage::parse)
            .transpose()
            .map_err(|e| ApiError(e.into()))?,
        stuck: q.stuck.unwrap_or(false),
    };
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .return_page(a.actor(), &filter, paging, &route(&req))
            .await?,
    ))
}

/// The return of a case: checklist (labels in the `Accept-Language`), blockers of the
/// next stage, timeline, clocks.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/return", params(("reference" = String, Path)),
    responses((status = 200, body = ReturnView)))]
pub async fn api_view(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(StatusCode::OK, &view(&a, &req, &reference).await?))
}

/// Request a return, on the person's request and recorded consent.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return", params(("reference" = String, Path)), request_body = ReturnRequestInput,
    responses((status = 201, body = ReturnView)))]
pub async fn api_request(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ReturnRequestInput>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .request_return(a.actor(), &reference, &body, &route(&req))
        .await?;
    let v = view(&a, &req, &reference).await?;
    Ok(created(&url(&reference, ""), &v))
}

/// Move the return to its next stage, or cancel it (every refusal names its rule). A
/// departure and an arrival take the day they happened (`on`). Answers the stage and
/// the return's new version.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/move", params(("reference" = String, Path)), request_body = MoveInput,
    responses((status = 200, body = StageBody)))]
pub async fn api_move(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<MoveInput>,
) -> Result<HttpResponse, ApiError> {
    let stage = a
        .services()
        .move_return(a.actor(), &reference, &body, a.lang, &route(&req))
        .await?;
    Ok(ok(
        StatusCode::OK,
        &StageBody {
            stage,
            version: body.version + 1,
        },
    ))
}

/// The person withdraws their consent: the return stops and bookings are released. The
/// body is optional: a reason, when the person gave one, is kept with the consent.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/withdraw-consent", params(("reference" = String, Path)),
    request_body = Option<WithdrawalInput>, responses((status = 204)))]
pub async fn api_withdraw(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: OptionalJson<WithdrawalInput>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .withdraw_return_consent(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(no_content())
}

/// Record the risk assessment (the latest one counts).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/assessment", params(("reference" = String, Path)), request_body = RiskInput,
    responses((status = 201, body = RiskView)))]
pub async fn api_assess(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<RiskInput>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .assess_return(a.actor(), &reference, &body, &route(&req))
        .await?;
    let v = assessment(&a, &req, &reference).await?;
    Ok(created(&url(&reference, "/assessment"), &v))
}

async fn assessment(a: &ApiAuth, req: &HttpRequest, reference: &str) -> Result<RiskView, ApiError> {
    view(a, req, reference)
        .await?
        .risk
        .ok_or(ApiError(ServiceError::NotFound("risk_assessment")))
}

/// The latest risk assessment of the return.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/return/assessment", params(("reference" = String, Path)),
    responses((status = 200, body = RiskView)))]
pub async fn api_assessment(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(StatusCode::OK, &assessment(&a, &req, &reference).await?))
}

/// A child's safeguards: guardian, best-interests determination; answers the return.
#[utoipa::path(put, path = "/api/v1/cases/{reference}/return/child-safeguards", params(("reference" = String, Path)), request_body = ChildSafeguardsInput,
    responses((status = 200, body = ReturnView)))]
pub async fn api_safeguards(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ChildSafeguardsInput>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .child_safeguards(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &view(&a, &req, &reference).await?))
}

async fn citizenship(
    a: &ApiAuth,
    req: &HttpRequest,
    reference: &str,
    id: &str,
) -> Result<CitizenshipView, ApiError> {
    view(a, req, reference)
        .await?
        .citizenship
        .into_iter()
        .find(|q| q.id == id)
        .ok_or(ApiError(ServiceError::NotFound("citizenship_request")))
}

/// Send a citizenship-confirmation request to an origin-country authority.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/citizenship", params(("reference" = String, Path)), request_body = CitizenshipInput,
    responses((status = 201, body = CitizenshipView)))]
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
    let v = citizenship(&a, &req, &reference, &id).await?;
    Ok(created(&url(&reference, &format!("/citizenship/{id}")), &v))
}

/// One citizenship-confirmation request, with its clock.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/return/citizenship/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = CitizenshipView)))]
pub async fn api_citizenship_one(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    Ok(ok(
        StatusCode::OK,
        &citizenship(&a, &req, &reference, &id).await?,
    ))
}

/// Record a reminder sent for a pending request; answers the request.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/citizenship/{id}/reminder", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = CitizenshipView)))]
pub async fn api_remind(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    a.services()
        .remind_citizenship(a.actor(), &reference, &id, &route(&req))
        .await?;
    Ok(ok(
        StatusCode::OK,
        &citizenship(&a, &req, &reference, &id).await?,
    ))
}

/// Record the origin state's answer; answers the request.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/citizenship/{id}/answer", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = CitizenshipAnswerInput, responses((status = 200, body = CitizenshipView)))]
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
    Ok(ok(
        StatusCode::OK,
        &citizenship(&a, &req, &reference, &id).await?,
    ))
}

/// Record a travel document.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/documents", params(("reference" = String, Path)), request_body = DocumentInput,
    responses((status = 201, body = DocumentView)))]
pub async fn api_document(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<DocumentInput>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .add_travel_document(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(created(
        &url(&reference, &format!("/documents/{}", v.id)),
        &v,
    ))
}

/// One travel document, with its history (changed or cancelled, why, by which one).
#[utoipa::path(get, path = "/api/v1/cases/{reference}/return/documents/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = DocumentView)))]
pub async fn api_document_one(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let v = view(&a, &req, &reference)
        .await?
        .documents
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(ApiError(ServiceError::NotFound("travel_document")))?;
    Ok(ok(StatusCode::OK, &v))
}

/// Replace a valid travel document, until departure: answers the new document (201);
/// the old one stays in the history, marked changed.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/documents/{id}/change", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = DocumentChangeInput, responses((status = 201, body = DocumentView)))]
pub async fn api_change_document(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<DocumentChangeInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let v = a
        .services()
        .change_travel_document(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    Ok(created(
        &url(&reference, &format!("/documents/{}", v.id)),
        &v,
    ))
}

/// Cancel a valid travel document, until departure, with why; answers it.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/documents/{id}/cancel", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = EndInput, responses((status = 200, body = DocumentView)))]
pub async fn api_cancel_document(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<EndInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let v = a
        .services()
        .cancel_travel_document(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &v))
}

/// Book a leg of the itinerary (the first booked leg is the planned departure).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/legs", params(("reference" = String, Path)), request_body = LegInput,
    responses((status = 201, body = LegView)))]
pub async fn api_leg(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<LegInput>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .add_leg(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(created(&url(&reference, &format!("/legs/{}", v.id)), &v))
}

/// One leg of the itinerary, with its history.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/return/legs/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = LegView)))]
pub async fn api_leg_one(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let v = view(&a, &req, &reference)
        .await?
        .legs
        .into_iter()
        .find(|g| g.id == id)
        .ok_or(ApiError(ServiceError::NotFound("itinerary_leg")))?;
    Ok(ok(StatusCode::OK, &v))
}

/// Change a booked leg, until departure: answers the new leg (201); the old one stays in
/// the history, marked changed.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/legs/{id}/change", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = LegChangeInput, responses((status = 201, body = LegView)))]
pub async fn api_change_leg(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<LegChangeInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let v = a
        .services()
        .change_leg(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    Ok(created(&url(&reference, &format!("/legs/{}", v.id)), &v))
}

/// Cancel a booked leg, until departure, with why; answers it.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/legs/{id}/cancel", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = EndInput, responses((status = 200, body = LegView)))]
pub async fn api_cancel_leg(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<EndInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let v = a
        .services()
        .cancel_leg(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &v))
}

/// Record the pre-departure counselling; answers the return.
#[utoipa::path(put, path = "/api/v1/cases/{reference}/return/counselling", params(("reference" = String, Path)), request_body = CounsellingInput,
    responses((status = 200, body = ReturnView)))]
pub async fn api_counselling(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<CounsellingInput>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .record_counselling(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &view(&a, &req, &reference).await?))
}

/// Arrange the reception by an origin-country service; answers the return.
#[utoipa::path(put, path = "/api/v1/cases/{reference}/return/reception", params(("reference" = String, Path)), request_body = ReceptionInput,
    responses((status = 200, body = ReturnView)))]
pub async fn api_reception(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ReceptionInput>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .arrange_reception(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &view(&a, &req, &reference).await?))
}

/// Tick one of the jurisdiction's own checks; answers the return.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/return/checks", params(("reference" = String, Path)), request_body = CheckInput,
    responses((status = 200, body = ReturnView)))]
pub async fn api_check(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<CheckInput>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .record_check(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &view(&a, &req, &reference).await?))
}
