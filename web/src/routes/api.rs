//! The JSON API under `/api/v1`: the same use cases and access rules as the pages.
//!
//! CSRF: every state-changing call takes a JSON body, which a browser cannot send
//! cross-site without a CORS preflight that this server never grants; the session
//! cookie is also `SameSite=Strict`.

use crate::http::{ApiAuth, ApiError, State, error_json, ok, route};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::domain::Stage;
use passerelle_core::service::admin::{NewOrg, NewUser, OrgView, UserView};
use passerelle_core::service::audit::TrailRow;
use passerelle_core::service::auth::LoginError;
use passerelle_core::service::cases::{
    CasePage, CaseSummary, CaseView, ConsentInput, ConsentView, Permissions, PersonInput,
    PersonView, Scope, ShareView,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use utoipa::{IntoParams, OpenApi, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .route("/openapi.json", web::get().to(openapi))
            .route("/auth/login", web::post().to(login))
            .route("/auth/logout", web::post().to(logout))
            .route("/me", web::get().to(me))
            .route("/cases", web::get().to(list_cases))
            .route("/cases", web::post().to(create_case))
            .route("/search", web::post().to(search))
            .route("/cases/{reference}", web::get().to(get_case))
            .route("/cases/{reference}/person", web::put().to(update_person))
            .route("/cases/{reference}/advocate", web::put().to(assign))
            .route("/cases/{reference}/consents", web::post().to(add_consent))
            .route(
                "/cases/{reference}/consents/{id}/withdraw",
                web::post().to(withdraw_consent),
            )
            .route("/cases/{reference}/shares", web::post().to(add_share))
            .route(
                "/cases/{reference}/shares/{id}/end",
                web::post().to(end_share),
            )
            .route("/cases/{reference}/audit", web::get().to(audit_trail))
            .route("/organisations", web::get().to(list_orgs))
            .route("/organisations", web::post().to(create_org))
            .route("/users", web::get().to(list_users))
            .route("/users", web::post().to(create_user))
            .route("/users/{id}", web::patch().to(update_user))
            .configure(crate::routes::identification::configure_api)
            .configure(crate::routes::care::configure_api)
            .configure(crate::routes::trial::configure_api)
            .configure(crate::routes::returns::configure_api)
            .default_service(web::to(|| async {
                error_json(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "no such API endpoint; see /api/v1/openapi.json",
                    None,
                )
            })),
    );
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Passerelle API",
        version = "1",
        description = "Case management for the protection of victims of trafficking and smuggled migrants. Sign in with POST /auth/login; the session cookie authenticates every other call. Errors are {error, message, field}."
    ),
    paths(
        login,
        logout,
        me,
        list_cases,
        create_case,
        search,
        get_case,
        update_person,
        assign,
        add_consent,
        withdraw_consent,
        add_share,
        end_share,
        audit_trail,
        list_orgs,
        create_org,
        list_users,
        create_user,
        update_user
    ),
    components(schemas(
        LoginBody,
        MeBody,
        CasePage,
        CaseSummary,
        CaseView,
        PersonView,
        Permissions,
        ConsentView,
        ShareView,
        PersonInput,
        NewCaseBody,
        CreatedCase,
        UpdatePersonBody,
        AssignBody,
        VersionBody,
        ConsentInput,
        CreatedId,
        ShareBody,
        WithdrawnBody,
        SearchBody,
        TrailRow,
        OrgView,
        UserView,
        NewOrgBody,
        NewUserBody,
        UpdateUserBody,
        ErrorBody,
        Stage
    ))
)]
pub struct ApiDoc;

/// The whole document: this module's paths and each area's.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::routes::identification::Doc::openapi());
    doc.merge(crate::routes::care::Doc::openapi());
    doc.merge(crate::routes::trial::Doc::openapi());
    doc.merge(crate::routes::returns::Doc::openapi());
    doc
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// invalid, not_found, forbidden, conflict, refused, unauthorized, ...
    error: String,
    message: String,
    field: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct MeBody {
    user_id: i64,
    org_id: i64,
    role: String,
    display_name: String,
    email: String,
}

fn me_body(a: &passerelle_core::Actor) -> MeBody {
    MeBody {
        user_id: a.user_id,
        org_id: a.org_id,
        role: a.role.as_str().into(),
        display_name: a.display_name.clone(),
        email: a.email.clone(),
    }
}

/// Sign in; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginBody,
    responses((status = 200, body = MeBody), (status = 401, body = ErrorBody)))]
async fn login(state: State, body: web::Json<LoginBody>) -> HttpResponse {
    let body = body.into_inner();
    match state
        .services
        .login(&body.email, SecretString::from(body.password))
        .await
    {
        Ok(s) => {
            let mut resp = ok(StatusCode::OK, &me_body(&s.actor));
            let c = state.cookie(
                state.session_cookie_name(),
                s.token.expose_secret().to_owned(),
            );
            let _ = resp.add_cookie(&c);
            resp
        }
        Err(LoginError::Rejected) => error_json(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "e-mail or password is incorrect, or the account is locked or disabled",
            None,
        ),
        Err(LoginError::Unexpected(e)) => {
            tracing::error!(error = %e, "sign-in failed");
            error_json(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "an internal error occurred; it was logged",
                None,
            )
        }
    }
}

/// End the session now.
#[utoipa::path(post, path = "/api/v1/auth/logout", responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(a: ApiAuth) -> Result<HttpResponse, ApiError> {
    a.services().logout(a.session.session_id).await?;
    let mut resp = HttpResponse::NoContent().finish();
    let _ = resp.add_cookie(&a.state.removal(a.state.session_cookie_name()));
    Ok(resp)
}

/// Who am I?
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = MeBody), (status = 401, body = ErrorBody)))]
async fn me(a: ApiAuth) -> HttpResponse {
    ok(StatusCode::OK, &me_body(a.actor()))
}

#[derive(Deserialize, IntoParams)]
pub struct CaseloadParams {
    /// "mine" (assigned to me) or "org" (my organisation's and shared with it). Default: org.
    scope: Option<String>,
    stage: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

/// The caller's caseload.
#[utoipa::path(get, path = "/api/v1/cases", params(CaseloadParams),
    responses((status = 200, body = CasePage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_cases(
    a: ApiAuth,
    req: HttpRequest,
    q: web::Query<CaseloadParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = match q.scope.as_deref() {
        None | Some("") | Some("org") => Scope::Organisation,
        Some("mine") => Scope::Mine,
        Some(_) => {
            return Err(ApiError(
                passerelle_core::domain::Invalid::new("scope", "must be 'mine' or 'org'").into(),
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
            q.page.unwrap_or(1),
            q.per_page.unwrap_or(50),
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

#[derive(Serialize, ToSchema)]
pub struct CreatedCase {
    reference: String,
}

/// Open a case for a person.
#[utoipa::path(post, path = "/api/v1/cases", request_body = NewCaseBody,
    responses((status = 201, body = CreatedCase), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_case(
    a: ApiAuth,
    req: HttpRequest,
    body: web::Json<NewCaseBody>,
) -> Result<HttpResponse, ApiError> {
    let r = a
        .services()
        .create_case(a.actor(), &body.person, body.advocate_user_id, &route(&req))
        .await?;
    Ok(ok(
        StatusCode::CREATED,
        &CreatedCase {
            reference: r.as_str().into(),
        },
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct SearchBody {
    /// The person's exact name (case and spacing ignored).
    name: String,
}

/// Find cases by the person's exact name.
#[utoipa::path(post, path = "/api/v1/search", request_body = SearchBody,
    responses((status = 200, body = [CaseSummary]), (status = 422, body = ErrorBody)))]
async fn search(
    a: ApiAuth,
    req: HttpRequest,
    body: web::Json<SearchBody>,
) -> Result<HttpResponse, ApiError> {
    let found = a
        .services()
        .search_by_name(a.actor(), &body.name, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &found))
}

/// A case file: the sections the caller may see.
#[utoipa::path(get, path = "/api/v1/cases/{reference}", params(("reference" = String, Path)),
    responses((status = 200, body = CaseView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
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

#[derive(Serialize, ToSchema)]
pub struct VersionBody {
    version: i64,
}

/// Replace the person's details.
#[utoipa::path(put, path = "/api/v1/cases/{reference}/person", params(("reference" = String, Path)), request_body = UpdatePersonBody,
    responses((status = 200, body = VersionBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
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
    Ok(ok(StatusCode::OK, &VersionBody { version }))
}

#[derive(Deserialize, ToSchema)]
pub struct AssignBody {
    version: i64,
    advocate_user_id: Option<i64>,
}

/// Assign the advocate.
#[utoipa::path(put, path = "/api/v1/cases/{reference}/advocate", params(("reference" = String, Path)), request_body = AssignBody,
    responses((status = 200, body = VersionBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
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
    Ok(ok(StatusCode::OK, &VersionBody { version }))
}

#[derive(Serialize, ToSchema)]
pub struct CreatedId {
    id: i64,
}

/// Record the person's consent.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/consents", params(("reference" = String, Path)), request_body = ConsentInput,
    responses((status = 201, body = CreatedId), (status = 422, body = ErrorBody)))]
async fn add_consent(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ConsentInput>,
) -> Result<HttpResponse, ApiError> {
    let id = a
        .services()
        .record_consent(a.actor(), &reference, &body, &route(&req))
        .await?;
    Ok(ok(StatusCode::CREATED, &CreatedId { id }))
}

#[derive(Serialize, ToSchema)]
pub struct WithdrawnBody {
    /// How many shares ended with this consent.
    shares_ended: u64,
}

/// Withdraw a consent: the shares resting on it end at once.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/consents/{id}/withdraw", params(("reference" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = WithdrawnBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn withdraw_consent(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    let n = a
        .services()
        .withdraw_consent(a.actor(), &reference, id, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &WithdrawnBody { shares_ended: n }))
}

#[derive(Deserialize, ToSchema)]
pub struct ShareBody {
    org_id: i64,
    purpose: String,
    /// The consent this share rests on; required.
    consent_id: Option<i64>,
}

/// Share the case with another organisation, on consent.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/shares", params(("reference" = String, Path)), request_body = ShareBody,
    responses((status = 201, body = CreatedId), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn add_share(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
    body: web::Json<ShareBody>,
) -> Result<HttpResponse, ApiError> {
    let id = a
        .services()
        .share_case(
            a.actor(),
            &reference,
            body.org_id,
            &body.purpose,
            body.consent_id,
            &route(&req),
        )
        .await?;
    Ok(ok(StatusCode::CREATED, &CreatedId { id }))
}

/// End a share.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/shares/{id}/end", params(("reference" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn end_share(
    a: ApiAuth,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (reference, id) = path.into_inner();
    a.services()
        .end_share(a.actor(), &reference, id, &route(&req))
        .await?;
    Ok(HttpResponse::NoContent()
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}

/// The audit trail of a case.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/audit", params(("reference" = String, Path)),
    responses((status = 200, body = [TrailRow]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn audit_trail(
    a: ApiAuth,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let rows = a
        .services()
        .case_audit_trail(a.actor(), &reference, &route(&req))
        .await?;
    Ok(ok(StatusCode::OK, &rows))
}

/// All organisations (names, kinds and countries: no case data).
#[utoipa::path(get, path = "/api/v1/organisations", responses((status = 200, body = [OrgView])))]
async fn list_orgs(a: ApiAuth) -> Result<HttpResponse, ApiError> {
    Ok(ok(StatusCode::OK, &a.services().list_orgs().await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewOrgBody {
    name: String,
    kind: String,
    country: String,
}

/// Create an organisation (system administrator).
#[utoipa::path(post, path = "/api/v1/organisations", request_body = NewOrgBody,
    responses((status = 201, body = OrgView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_org(a: ApiAuth, body: web::Json<NewOrgBody>) -> Result<HttpResponse, ApiError> {
    let o = a
        .services()
        .create_org(
            Some(a.actor()),
            NewOrg {
                name: &body.name,
                kind: &body.kind,
                country: &body.country,
            },
        )
        .await?;
    Ok(ok(StatusCode::CREATED, &o))
}

/// Users the caller administers.
#[utoipa::path(get, path = "/api/v1/users", responses((status = 200, body = [UserView]), (status = 403, body = ErrorBody)))]
async fn list_users(a: ApiAuth) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        &a.services().list_users(a.actor()).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct NewUserBody {
    org_id: i64,
    email: String,
    display_name: String,
    role: String,
    password: String,
}

/// Create a user.
#[utoipa::path(post, path = "/api/v1/users", request_body = NewUserBody,
    responses((status = 201, body = UserView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_user(a: ApiAuth, body: web::Json<NewUserBody>) -> Result<HttpResponse, ApiError> {
    let u = a
        .services()
        .create_user(
            Some(a.actor()),
            NewUser {
                org_id: body.org_id,
                email: &body.email,
                display_name: &body.display_name,
                role: &body.role,
                password: &body.password,
            },
        )
        .await?;
    Ok(ok(StatusCode::CREATED, &u))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateUserBody {
    role: Option<String>,
    active: Option<bool>,
}

/// Change a user's role or disable them (which ends their sessions at once).
#[utoipa::path(patch, path = "/api/v1/users/{id}", params(("id" = i64, Path)), request_body = UpdateUserBody,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn update_user(
    a: ApiAuth,
    id: web::Path<i64>,
    body: web::Json<UpdateUserBody>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .update_user(a.actor(), *id, body.role.as_deref(), body.active)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// For tests and the docs: the paths the OpenAPI document lists.
pub fn documented_paths() -> Vec<String> {
    document().paths.paths.keys().cloned().collect()
}
