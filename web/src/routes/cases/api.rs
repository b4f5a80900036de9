//! Cases in `/api/v1`: the caseload, search, the case file, the person, the advocate,
//! closing, consents, shares and the audit trail. The conventions (ids, creates, versions,
//! paging, errors) are in docs/api.md.

use crate::http::{ApiAuth, ApiError, OptionalJson, PageParams, created, no_content, ok, route};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::domain::{Invalid, Stage};
use passerelle_core::service::audit::{TrailPage, TrailRow};
use passerelle_core::service::cases::{
    CasePage, CaseSummary, CaseView, CloseInput, ConsentInput, ConsentView, Permissions,
    PersonInput, PersonView, Scope, ShareView, WithdrawalInput,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        list_cases,
        create_case,
        search,
        get_case,
        update_person,
        assign,
        close_case,
        get_consent,
        add_consent,
        withdraw_consent,
        get_share,
        add_share,
        end_share,
        audit_trail
    ),
    components(schemas(
        CasePage,
        CaseSummary,
        CaseView,
        PersonView,
        Permissions,
        ConsentView,
        ShareView,
        PersonInput,
        NewCaseBody,
        UpdatePersonBody,
        AssignBody,
        CloseInput,
        ConsentInput,
        ShareBody,
        WithdrawnBody,
        WithdrawalInput,
        SearchBody,
        TrailPage,
        TrailRow,
        Stage
    ))
)]
pub struct Doc;

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/cases", web::get().to(list_cases))
        .route("/cases", web::post().to(create_case))
        .route("/search", web::post().to(search))
        .route("/cases/{reference}", web::get().to(get_case))
        .route("/cases/{reference}/person", web::put().to(update_person))
        .route("/cases/{reference}/advocate", web::put().to(assign))
        .route("/cases/{reference}/close", web::post().to(close_case))
        .route("/cases/{reference}/consents", web::post().to(add_consent))
        .route(
            "/cases/{reference}/consents/{id}",
            web::get().to(get_consent),
        )
        .route(
            "/cases/{reference}/consents/{id}/withdraw",
            web::post().to(withdraw_consent),
        )
        .route("/cases/{reference}/shares", web::post().to(add_share))
        .route("/cases/{reference}/shares/{id}", web::get().to(get_share))
        .route(
            "/cases/{reference}/shares/{id}/end",
            web::post().to(end_share),
        )
        .route("/cases/{reference}/audit", web::get().to(audit_trail));
}

/// Where a case lives in the API.
pub fn case_url(reference: &str) -> String {
    format!("/api/v1/cases/{reference}")
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseloadParams {
    /// "mine" (assigned to me) or "org" (my organisation's and shared with it). Default: org.
    scope: Option<String>,
    /// Only cases at this stage (closed cases are listed only with `stage=closed`).
    stage: Option<String>,
    /// From 1; default 1.
    page: Option<u64>,
    /// From 1 to 200; default 50.
    per_page: Option<u64>,
}

/// The caller's caseload, newest activity first. Closed cases leave it (ask for them with
/// `stage=closed`).
#[utoipa::path(get, path = "/api/v1/cases", params(CaseloadParams),
    responses((status = 200, body = CasePage)))]
async fn list_cases(
    a: ApiAuth,
    req: HttpRequest,
    q: web::Query<CaseloadParams>,
) -> Result<HttpResponse, ApiError> {
    let paging = PageParams {
        page: q.page,
        per_page: q.per_page,
    }
    .paging()?;
    let scope = match q.scope.as_deref() {
        None | Some("") | Some("org") => Scope::Organisation,
        Some("mine") => Scope::Mine,
        Some(_) => {
            return Err(ApiError(
                Invalid::new("scope", "must be 'mine' or 'org'").into(),
            ));
        }
    };
    let stage = q
        .stage
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(Stage::parse)
        .transpose()
        .map_err(|e| ApiError(e.into()))?;
    let page = a
        .services()
        .caseload(
            a.actor(),
            scope,
            stage,
            paging.page,
            paging.per_page,
            &route(&req),
        )
        .await?;
    Ok(ok(StatusCode::OK, &page))
}

#[derive(Deserialize, ToSchema)]
pub struct NewCaseBody {
    person: PersonInput,
    advocate_user_id: Option<i64>,
}

/// Open a case for a person: 201 with the case file (as its GET answers) and its
/// `Location`.
#[utoipa::path(post, path = "/api/v1/cases", request_body = NewCaseBody,
    responses((status = 201, body = CaseView)))]
async fn create_case(
    a: ApiAuth,
    req: HttpRequest,
    body: web::Json<NewCaseBody>,
) -> Result<HttpResponse, ApiError> {
    let c = a
        .services()
        .create_case(a.actor(), &body.person, body.advocate_user_id, &route(&req))
        .await?;
    let v = a
        .services()
        .get_case(a.actor(), &c.reference, &route(&req))
        .await?;
    Ok(created(&case_url(&c.reference), &v))
}

#[derive(Deserialize, ToSchema)]
pub struct SearchBody {
    /// The person's exact name (case and spacing ignored). Give the name or the reference.
    #[serde(default)]
    name: Option<String>,
    /// A case reference, e.g. PSG-2026-0042.
    #[serde(default)]
    reference: Option<String>,
}

/// Find cases by the person's exact name, or a case by its reference. The matches fit on
/// one page.
#[utoipa::path(post, path = "/api/v1/search", request_body = SearchBody,
    responses((status = 200, body = CasePage)))]
async fn search(
    a: ApiAuth,
    req: HttpRequest,
    body: web::Json<SearchBody>,
) -> Result<HttpResponse, ApiError> {
    let name = body
        .name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let reference = body
        .reference
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let found = match (name, reference) {
        (Some(n), None) => {
            a.services()
                .search_by_name(a.actor(), n, &route(&req))
                .await?
        }
        (None, Some(r)) => {
            a.services()
                .search_by_reference(a.actor(), r, &route(&req))
                .await?
        }
        _ => {
            return Err(ApiError(
                Invalid::new("name", "give either the name or the reference").into(),
            ));
        }
    };
    let n = found.len() as u64;
    Ok(ok(
        StatusCode::OK,
        &CasePage {
            items: found,
            total: n,
            page: 1,
            per_page: n.max(1),
            pages: u64::from(n > 0),
        },
    ))
}

/// A case file: the sections the caller may see, and what it may do.
#[utoipa::path(get, path = "/api/v1/cases/{reference}", params(("reference" = String, Path)),
    responses((status = 200, body = CaseView)))]
async fn get_case(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .get_case(a.actor(), &reference, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &v))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdatePersonBody {
    /// The case version the edit is based on; a stale one gets 409.
    version: i64,
    person: PersonInput,
}

/// Replace the person's details; answers the case's new version.
#[utoipa::path(put, path = "/api/v1/cases/{reference}/person", params(("reference" = String, Path)), request_body = UpdatePersonBody,
    responses((status = 200, body = crate::routes::api::VersionBody)))]
async fn update_person(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<UpdatePersonBody>,
) -> Result<HttpResponse, ApiError> {
    let version = a
        .services()
        .update_person(
            a.actor(),
            &reference,
            body.version,
            &body.person,
            &route(&req),
        )
        .await?;
    Ok(ok(
        StatusCode::OK,
        &crate::routes::api::VersionBody { version },
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct AssignBody {
    version: i64,
    advocate_user_id: Option<i64>,
}

/// Assign the advocate; answers the case's new version.
#[utoipa::path(put, path = "/api/v1/cases/{reference}/advocate", params(("reference" = String, Path)), request_body = AssignBody,
    responses((status = 200, body = crate::routes::api::VersionBody)))]
async fn assign(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<AssignBody>,
) -> Result<HttpResponse, ApiError> {
    let version = a
        .services()
        .assign_advocate(
            a.actor(),
            &reference,
            body.version,
            body.advocate_user_id,
            &route(&req),
        )
        .await?;
    Ok(ok(
        StatusCode::OK,
        &crate::routes::api::VersionBody { version },
    ))
}

/// Close the case with an outcome; it becomes read-only. Answers its summary (new
/// version).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/close", params(("reference" = String, Path)), request_body = CloseInput,
    responses((status = 200, body = CaseSummary)))]
async fn close_case(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<CloseInput>,
) -> Result<HttpResponse, ApiError> {
    let c = a
        .services()
        .close_case(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &c))
}

/// One consent of the case.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/consents/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ConsentView)))]
async fn get_consent(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let v = a
        .services()
        .consent(a.actor(), &reference, &id, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &v))
}

/// Record the person's consent.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/consents", params(("reference" = String, Path)), request_body = ConsentInput,
    responses((status = 201, body = ConsentView)))]
async fn add_consent(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ConsentInput>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .record_consent(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(created(
        &format!("{}/consents/{}", case_url(&reference), v.id),
        &v,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct WithdrawnBody {
    /// How many shares ended with this consent.
    shares_ended: u64,
}

/// Withdraw a consent: the shares, referrals and return resting on it end at once. The
/// body is optional: a reason, when the person gave one, is kept with the consent.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/consents/{id}/withdraw", params(("reference" = String, Path), ("id" = String, Path)),
    request_body = Option<WithdrawalInput>, responses((status = 200, body = WithdrawnBody)))]
async fn withdraw_consent(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: OptionalJson<WithdrawalInput>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let n = a
        .services()
        .withdraw_consent(a.actor(), &reference, &id, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &WithdrawnBody { shares_ended: n }))
}

#[derive(Deserialize, ToSchema)]
pub struct ShareBody {
    org_id: i64,
    purpose: String,
    /// The consent this share rests on (its id); required.
    consent_id: Option<String>,
}

/// One share of the case.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/shares/{id}", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ShareView)))]
async fn get_share(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let v = a
        .services()
        .share(a.actor(), &reference, &id, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &v))
}

/// Share the case with another organisation, on consent.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/shares", params(("reference" = String, Path)), request_body = ShareBody,
    responses((status = 201, body = ShareView)))]
async fn add_share(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ShareBody>,
) -> Result<HttpResponse, ApiError> {
    let v = a
        .services()
        .share_case(
            a.actor(),
            &reference,
            body.org_id,
            &body.purpose,
            body.consent_id.as_deref(),
            &route(&req),
        )
        .await?;
    Ok(created(
        &format!("{}/shares/{}", case_url(&reference), v.id),
        &v,
    ))
}

/// End a share.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/shares/{id}/end", params(("reference" = String, Path), ("id" = String, Path)),
    responses((status = 204)))]
async fn end_share(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    a.services()
        .end_share(a.actor(), &reference, &id, &route(&req))
        .await?;
    Ok(no_content())
}

/// The audit trail of a case, newest first, refused attempts included.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/audit", params(("reference" = String, Path), PageParams),
    responses((status = 200, body = TrailPage)))]
async fn audit_trail(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    q: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let paging = q.paging()?;
    let rows = a
        .services()
        .case_audit_trail(a.actor(), &reference, paging, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &rows))
}
