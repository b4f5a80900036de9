//! The caseload import in `/api/v1`: the file is the request body (`text/csv`, UTF-8, a
//! header row; the columns are in docs/import.md).

use crate::http::{ApiAuth, ApiError, ok, route};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::service::data::import::{ImportOutcome, ImportProblem, ImportedCase};
use utoipa::OpenApi;

/// The largest caseload file accepted (100 000 rows of a few hundred bytes).
pub const IMPORT_MAX_BYTES: usize = 64 * 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    paths(api_check, api_import),
    components(schemas(ImportOutcome, ImportProblem, ImportedCase))
)]
pub struct Doc;

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    let limit = || web::PayloadConfig::default().limit(IMPORT_MAX_BYTES);
    cfg.service(
        web::resource("/imports/cases/check")
            .app_data(limit())
            .route(web::post().to(api_check)),
    )
    .service(
        web::resource("/imports/cases")
            .app_data(limit())
            .route(web::post().to(api_import)),
    );
}

/// Check a caseload file (a dry run): every problem, by row and column; nothing is written.
#[utoipa::path(post, path = "/api/v1/imports/cases/check",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportOutcome)))]
async fn api_check(
    a: ApiAuth,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .import_cases(a.actor(), &body, true, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &v))
}

/// Import a caseload file: every row becomes a case of the caller's organisation, or, if
/// the file has one problem, none does (422, and the check gives the whole report).
#[utoipa::path(post, path = "/api/v1/imports/cases",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportOutcome)))]
async fn api_import(
    a: ApiAuth,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .import_cases(a.actor(), &body, false, &route(&req))
        .await?;
    // An action over many cases, not one new resource: 200 with what it did.
    Ok(ok(StatusCode::OK, &v))
}
