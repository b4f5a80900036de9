//! Organisations and users in `/api/v1` (directory resources: integer ids).

use crate::http::{ApiAuth, ApiError, PageParams, created, ok};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use passerelle_core::ServiceError;
use passerelle_core::service::admin::{NewOrg, NewUser, OrgView, UserView};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        list_orgs,
        get_org,
        create_org,
        update_org,
        list_users,
        get_user,
        create_user,
        update_user
    ),
    components(schemas(
        OrgPage,
        UserPage,
        OrgView,
        UserView,
        NewOrgBody,
        UpdateOrgBody,
        NewUserBody,
        UpdateUserBody
    ))
)]
pub struct Doc;

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/organisations", web::get().to(list_orgs))
        .route("/organisations", web::post().to(create_org))
        .route("/organisations/{id}", web::get().to(get_org))
        .route("/organisations/{id}", web::patch().to(update_org))
        .route("/users", web::get().to(list_users))
        .route("/users", web::post().to(create_user))
        .route("/users/{id}", web::get().to(get_user))
        .route("/users/{id}", web::patch().to(update_user));
}

/// A page of organisations.
#[derive(Serialize, ToSchema)]
pub struct OrgPage {
    items: Vec<OrgView>,
    total: u64,
    page: u64,
    per_page: u64,
    pages: u64,
}

/// A page of users.
#[derive(Serialize, ToSchema)]
pub struct UserPage {
    items: Vec<UserView>,
    total: u64,
    page: u64,
    per_page: u64,
    pages: u64,
}

/// All organisations (names, kinds and countries: no case data), by name.
#[utoipa::path(get, path = "/api/v1/organisations", params(PageParams), responses((status = 200, body = OrgPage)))]
async fn list_orgs(a: ApiAuth, q: web::Query<PageParams>) -> Result<HttpResponse, ApiError> {
    let paging = q.paging()?;
    let all = a.services().list_orgs().await?;
    let total = all.len() as u64;
    Ok(ok(
        StatusCode::OK,
        &OrgPage {
            items: paging.slice(all),
            total,
            page: paging.page,
            per_page: paging.per_page,
            pages: paging.pages(total),
        },
    ))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/organisations/{id}", params(("id" = i64, Path)), responses((status = 200, body = OrgView)))]
async fn get_org(a: ApiAuth, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(ok(StatusCode::OK, &a.services().org(*id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewOrgBody {
    name: String,
    kind: String,
    country: String,
}

/// Create an organisation (system administrator).
#[utoipa::path(post, path = "/api/v1/organisations", request_body = NewOrgBody,
    responses((status = 201, body = OrgView)))]
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
    Ok(created(&format!("/api/v1/organisations/{}", o.id), &o))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateOrgBody {
    /// Count the organisation's cases in the k-anonymised statistics export.
    #[serde(default)]
    statistics_opt_in: Option<bool>,
    /// Every user of the organisation signs in with a second factor.
    #[serde(default)]
    require_two_factor: Option<bool>,
}

/// The organisation's own choices (its administrator): whether its cases are counted in
/// the k-anonymised statistics export, whether every user needs a second factor. Answers the organisation as it now is.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}", params(("id" = i64, Path)), request_body = UpdateOrgBody,
    responses((status = 200, body = OrgView)))]
async fn update_org(
    a: ApiAuth,
    id: web::Path<i64>,
    body: web::Json<UpdateOrgBody>,
) -> Result<HttpResponse, ApiError> {
    if body.statistics_opt_in.is_none() && body.require_two_factor.is_none() {
        return Err(ApiError(ServiceError::Invalid(
            passerelle_core::domain::Invalid::new(
                "statistics_opt_in",
                "give statistics_opt_in or require_two_factor",
            ),
        )));
    }
    let mut o = None;
    if let Some(v) = body.statistics_opt_in {
        o = Some(
            a.services()
                .set_statistics_opt_in(a.actor(), *id, v)
                .await?,
        );
    }
    if let Some(v) = body.require_two_factor {
        o = Some(
            a.services()
                .set_require_two_factor(a.actor(), *id, v)
                .await?,
        );
    }
    match o {
        Some(o) => Ok(ok(StatusCode::OK, &o)),
        None => Err(ApiError(ServiceError::NotFound("organisation"))),
    }
}

/// Users the caller administers, by e-mail address.
#[utoipa::path(get, path = "/api/v1/users", params(PageParams), responses((status = 200, body = UserPage)))]
async fn list_users(a: ApiAuth, q: web::Query<PageParams>) -> Result<HttpResponse, ApiError> {
    let paging = q.paging()?;
    let all = a.services().list_users(a.actor()).await?;
    let total = all.len() as u64;
    Ok(ok(
        StatusCode::OK,
        &UserPage {
            items: paging.slice(all),
            total,
            page: paging.page,
            per_page: paging.per_page,
            pages: paging.pages(total),
        },
    ))
}

async fn user_view(a: &ApiAuth, id: i64) -> Result<UserView, ApiError> {
    a.services()
        .list_users(a.actor())
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or(ApiError(ServiceError::NotFound("user")))
}

/// One user the caller administers.
#[utoipa::path(get, path = "/api/v1/users/{id}", params(("id" = i64, Path)), responses((status = 200, body = UserView)))]
async fn get_user(a: ApiAuth, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(ok(StatusCode::OK, &user_view(&a, *id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewUserBody {
    org_id: i64,
    email: String,
    display_name: String,
    role: String,
    /// Empty or absent: an invitation, a link by e-mail to choose the password (valid 30
    /// minutes, single use).
    #[serde(default)]
    password: String,
}

/// Create a user (with a password, or invited by e-mail without one).
#[utoipa::path(post, path = "/api/v1/users", request_body = NewUserBody,
    responses((status = 201, body = UserView)))]
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
    Ok(created(&format!("/api/v1/users/{}", u.id), &u))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateUserBody {
    role: Option<String>,
    active: Option<bool>,
}

/// Change a user's role or disable them (which ends their sessions at once); answers
/// the user as it now is.
#[utoipa::path(patch, path = "/api/v1/users/{id}", params(("id" = i64, Path)), request_body = UpdateUserBody,
    responses((status = 200, body = UserView)))]
async fn update_user(
    a: ApiAuth,
    id: web::Path<i64>,
    body: web::Json<UpdateUserBody>,
) -> Result<HttpResponse, ApiError> {
    a.services()
        .update_user(
            a.actor(),
            a.session.session_id,
            *id,
            body.role.as_deref(),
            body.active,
        )
        .await?;
    Ok(ok(StatusCode::OK, &user_view(&a, *id).await?))
}
