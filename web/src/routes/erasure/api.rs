//! Erasure and retention in `/api/v1`.

use crate::http::{ApiAuth, ApiError, PageParams, created, ok, route};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::ServiceError;
use passerelle_core::service::erasure::{ErasureInput, ErasureView, RetentionItem, RetentionPage};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    paths(api_erase, api_erasure, api_past_retention),
    components(schemas(ErasureInput, ErasureView, RetentionItem, RetentionPage))
)]
pub struct Doc;

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/cases/{reference}/erasure", web::post().to(api_erase))
        .route("/cases/{reference}/erasure", web::get().to(api_erasure))
        .route("/retention/cases", web::get().to(api_past_retention));
}

/// Erase the person's data of a case (its organisation's administrator only): every
/// encrypted field destroyed, the blind index removed, the case kept as an anonymous
/// record (in the statistics if `keep_statistics`). `reason` is required:
/// `person_request` at any time, `retention_expired` once the case has been closed for
/// the retention period. Answers the erasure.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/erasure", params(("reference" = String, Path)),
    request_body = ErasureInput,
    responses((status = 201, body = ErasureView)))]
async fn api_erase(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ErasureInput>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .erase_case(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(created(
        &format!("/api/v1/cases/{}/erasure", v.reference),
        &v,
    ))
}

/// How the case was erased (when, by whom, why), for everyone who may see the case; 404
/// when it was not erased.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/erasure", params(("reference" = String, Path)),
    responses((status = 200, body = ErasureView)))]
async fn api_erasure(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .erasure_of(a.actor(), &reference, &route(&req))
        .await?
        .ok_or(ServiceError::NotFound("erasure"))?;
    Ok(ok(StatusCode::OK, &v))
}

/// The caller's organisation's closed cases past their retention period
/// (`[retention] erase_after_days` after closing), not erased yet, longest past first:
/// for its administrator to decide on. Nothing is erased by this list.
#[utoipa::path(get, path = "/api/v1/retention/cases", params(PageParams),
    responses((status = 200, body = RetentionPage)))]
async fn api_past_retention(
    a: ApiAuth,
    req: HttpRequest,
    q: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let paging = q.paging()?;
    let v = a
        .services()
        .past_retention(a.actor(), paging, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &v))
}
