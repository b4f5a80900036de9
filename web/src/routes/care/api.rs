//! Care in `/api/v1`: referrals between organisations, services and shelter placements.

use crate::http::{ApiAuth, ApiError, PageParams, created, ok, route};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::ServiceError;
use passerelle_core::service::referrals::{
    CareView, DeliveryInput, PlacementInput, PlacementView, ReferralFilter, ReferralInput,
    ReferralPage, ReferralView, ServiceInput, ServiceView,
};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        api_referrals,
        api_referral,
        api_accept,
        api_decline,
        api_care,
        api_refer,
        api_service,
        api_service_one,
        api_deliver,
        api_placement,
        api_placement_one
    ),
    components(schemas(
        ReferralPage,
        DeclineBody,
        ReferralView,
        ReferralInput,
        CareView,
        ServiceInput,
        ServiceView,
        DeliveryInput,
        PlacementInput,
        PlacementView
    ))
)]
pub struct Doc;

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/referrals", web::get().to(api_referrals))
        .route("/referrals/{id}", web::get().to(api_referral))
        .route("/referrals/{id}/accept", web::post().to(api_accept))
        .route("/referrals/{id}/decline", web::post().to(api_decline))
        .route("/cases/{reference}/care", web::get().to(api_care))
        .route("/cases/{reference}/referrals", web::post().to(api_refer))
        .route("/cases/{reference}/services", web::post().to(api_service))
        .route(
            "/cases/{reference}/services/{id}",
            web::get().to(api_service_one),
        )
        .route(
            "/cases/{reference}/services/{id}/delivered",
            web::post().to(api_deliver),
        )
        .route(
            "/cases/{reference}/placements",
            web::post().to(api_placement),
        )
        .route(
            "/cases/{reference}/placements/{id}",
            web::get().to(api_placement_one),
        );
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReferralParams {
    /// incoming (to my organisation), outgoing (from it) or all (the default).
    direction: Option<String>,
    /// pending, accepted, declined or consent_withdrawn.
    status: Option<String>,
    /// From 1; default 1.
    page: Option<u64>,
    /// From 1 to 200; default 50.
    per_page: Option<u64>,
}

#[derive(Deserialize, ToSchema)]
pub struct DeclineBody {
    reason: String,
}

/// Referrals to and from my organisation, newest first.
#[utoipa::path(get, path = "/api/v1/referrals", params(ReferralParams), responses((status = 200, body = ReferralPage)))]
pub async fn api_referrals(
    a: ApiAuth,
    req: HttpRequest,
    q: web::Query<ReferralParams>,
) -> Result<HttpResponse, ApiError> {
    let paging = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .paging()?;
    let filter = ReferralFilter::parse(q.direction.as_deref(), q.status.as_deref())
        .map_err(|e| ApiError(e.into()))?;
    let v = a
        .services()
        .referral_page(a.actor(), &filter, paging, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &v))
}

/// One referral to or from my organisation.
#[utoipa::path(get, path = "/api/v1/referrals/{id}", params(("id" = String, Path)), responses((status = 200, body = ReferralView)))]
pub async fn api_referral(
    a: ApiAuth,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (inbox, outbox) = a.services().referral_lists(a.actor(), &route(&req)).await?;
    let r = inbox
        .into_iter()
        .chain(outbox)
        .find(|r| r.id == *id)
        .ok_or(ApiError(ServiceError::NotFound("referral")))?;
    Ok(ok(StatusCode::OK, &r))
}

/// Accept a referral: the sections it names open to my organisation. Answers the
/// referral as it now is.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/accept", params(("id" = String, Path)), responses((status = 200, body = ReferralView)))]
pub async fn api_accept(
    a: ApiAuth,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .answer_referral(a.actor(), &id, true, None, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &v))
}

/// Decline a referral, with a reason.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/decline", params(("id" = String, Path)), request_body = DeclineBody,
    responses((status = 200, body = ReferralView)))]
pub async fn api_decline(
    a: ApiAuth,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<DeclineBody>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .answer_referral(a.actor(), &id, false, Some(&body.reason), &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &v))
}

/// Services, placements and referrals of a case.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/care", params(("reference" = String, Path)), responses((status = 200, body = CareView)))]
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
    responses((status = 201, body = ReferralView)))]
pub async fn api_refer(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ReferralInput>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .refer(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(created(&format!("/api/v1/referrals/{}", v.id), &v))
}

fn case_url(reference: &str, rest: &str) -> String {
    format!("/api/v1/cases/{reference}/{rest}")
}

/// Plan a service (a reintegration service after the return starts the follow-up).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/services", params(("reference" = String, Path)), request_body = ServiceInput,
    responses((status = 201, body = ServiceView)))]
pub async fn api_service(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ServiceInput>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .add_service(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(created(
        &case_url(&reference, &format!("services/{}", v.id)),
        &v,
    ))
}

/// One service of the case.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/services/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ServiceView)))]
pub async fn api_service_one(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let v = a
        .services()
        .care(a.actor(), &reference, &route(&req))
        .await?
        .services
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(ApiError(ServiceError::NotFound("service")))?;
    Ok(ok(StatusCode::OK, &v))
}

/// Record a service as delivered; answers the service as it now is.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/services/{id}/delivered", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = DeliveryInput, responses((status = 200, body = ServiceView)))]
pub async fn api_deliver(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<DeliveryInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let v = a
        .services()
        .deliver_service(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &v))
}

/// Record a shelter placement (location encrypted).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/placements", params(("reference" = String, Path)), request_body = PlacementInput,
    responses((status = 201, body = PlacementView)))]
pub async fn api_placement(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<PlacementInput>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .add_placement(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(created(
        &case_url(&reference, &format!("placements/{}", v.id)),
        &v,
    ))
}

/// One placement of the case (seen by the owner, the advocate and that shelter).
#[utoipa::path(get, path = "/api/v1/cases/{reference}/placements/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = PlacementView)))]
pub async fn api_placement_one(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let v = a
        .services()
        .care(a.actor(), &reference, &route(&req))
        .await?
        .placements
        .into_iter()
        .find(|p| p.id == id)
        .ok_or(ApiError(ServiceError::NotFound("placement")))?;
    Ok(ok(StatusCode::OK, &v))
}
