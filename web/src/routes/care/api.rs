//! Referrals between organisations (inbox and outbox), services and shelter placements.

use crate::http::{ApiAuth, ApiError, PageError, Pairs, Signed, SignedForm, ok, route, see_other};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::domain::{Invalid, Section};
use passerelle_core::service::referrals::{
    CareView, DeliveryInput, PlacementInput, ReferralInput, ReferralView, SERVICES, ServiceInput,
};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        api_referrals,
        api_accept,
        api_decline,
        api_care,
        api_refer,
        api_service,
        api_deliver,
        api_placement
    ),
    components(schemas(
        ReferralLists,
        CreatedRef,
        DeclineBody,
        ReferralView,
        ReferralInput,
        CareView,
        ServiceInput,
        DeliveryInput,
        PlacementInput,
        CreatedNumber
    ))
)]
pub struct Doc;

/// A created record's numeric id.
#[derive(Serialize, ToSchema)]
pub struct CreatedNumber {
    id: i64,
}


pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/referrals", web::get().to(api_referrals))
        .route("/referrals/{id}/accept", web::post().to(api_accept))
        .route("/referrals/{id}/decline", web::post().to(api_decline))
        .route("/cases/{reference}/care", web::get().to(api_care))
        .route("/cases/{reference}/referrals", web::post().to(api_refer))
        .route("/cases/{reference}/services", web::post().to(api_service))
        .route(
            "/cases/{reference}/services/{id}/delivered",
            web::post().to(api_deliver),
        )
        .route(
            "/cases/{reference}/placements",
            web::post().to(api_placement),
        );
}

#[derive(Serialize, ToSchema)]
pub struct ReferralLists {
    inbox: Vec<ReferralView>,
    outbox: Vec<ReferralView>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedRef {
    id: String,
}

#[derive(serde::Deserialize, ToSchema)]
pub struct DeclineBody {
    reason: String,
}

/// Referrals to and from my organisation.
#[utoipa::path(get, path = "/api/v1/referrals", responses((status = 200, body = ReferralLists)))]
pub async fn api_referrals(a: ApiAuth, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (inbox, outbox) = a.services().referral_lists(a.actor(), &route(&req)).await?;
    Ok(ok(StatusCode::OK, &ReferralLists { inbox, outbox }))
}

/// Accept a referral: the sections it names open to my organisation.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/accept", params(("id" = i64, Path)), responses((status = 204), (status = 404), (status = 409)))]
pub async fn api_accept(
    a: ApiAuth,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .answer_referral(a.actor(), *id, true, None, &route(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Decline a referral, with a reason.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/decline", params(("id" = i64, Path)), request_body = DeclineBody,
    responses((status = 204), (status = 404), (status = 409), (status = 422)))]
pub async fn api_decline(
    a: ApiAuth,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<DeclineBody>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .answer_referral(a.actor(), *id, false, Some(&body.reason), &route(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Services, placements and referrals of a case.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/care", params(("reference" = String, Path)), responses((status = 200, body = CareView), (status = 403), (status = 404)))]
pub async fn api_care(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        &a.services()
            .care(a.actor(), &reference, &route(&req))
            .await?,
    ))
}

/// Refer the case to another organisation, on consent.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/referrals", params(("reference" = String, Path)), request_body = ReferralInput,
    responses((status = 201, body = CreatedNumber), (status = 422), (status = 503)))]
pub async fn api_refer(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ReferralInput>,
) -> Result<HttpResponse, ApiError> {
    let id = a
        .services()
        .refer(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::CREATED, &CreatedNumber { id }))
}

/// Plan a service.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/services", params(("reference" = String, Path)), request_body = ServiceInput,
    responses((status = 201, body = CreatedRef), (status = 403), (status = 422)))]
pub async fn api_service(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ServiceInput>,
) -> Result<HttpResponse, ApiError> {
    let id = a
        .services()
        .add_service(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::CREATED, &CreatedRef { id }))
}

/// Record a service as delivered.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/services/{id}/delivered", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = DeliveryInput, responses((status = 204), (status = 403), (status = 404), (status = 422)))]
pub async fn api_deliver(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<DeliveryInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    a.services()
        .deliver_service(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Record a shelter placement (location encrypted).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/placements", params(("reference" = String, Path)), request_body = PlacementInput,
    responses((status = 201, body = CreatedRef), (status = 403), (status = 422)))]
pub async fn api_placement(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<PlacementInput>,
) -> Result<HttpResponse, ApiError> {
    let id = a
        .services()
        .add_placement(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::CREATED, &CreatedRef { id }))
}

