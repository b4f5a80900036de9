//! Notifications in `/api/v1`: the caller's list with the unread count, and marking one
//! read.

use crate::http::{ApiAuth, ApiError, PageParams, no_content, ok};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use passerelle_core::notify::Delivery;
use passerelle_core::notify::NotificationKind;
use passerelle_core::service::notify::{
    NotificationPage, NotificationView, Preference, PreferenceInput, PreferencePage,
};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    paths(
        api_list,
        api_read,
        api_prefs,
        api_set_pref,
        api_org_prefs,
        api_set_org_pref
    ),
    components(schemas(
        NotificationPage,
        NotificationView,
        NotificationKind,
        NotificationList,
        Preference,
        PreferencePage,
        PreferenceInput,
        Delivery
    ))
)]
pub struct Doc;

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/notifications", web::get().to(api_list))
        .route("/notifications/{id}/read", web::post().to(api_read))
        .route("/notifications/preferences", web::get().to(api_prefs))
        .route("/notifications/preferences", web::put().to(api_set_pref))
        .route(
            "/notifications/preferences/organisation",
            web::get().to(api_org_prefs),
        )
        .route(
            "/notifications/preferences/organisation",
            web::put().to(api_set_org_pref),
        );
}

/// The caller's notifications and how many are unread.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct NotificationList {
    #[serde(flatten)]
    pub page: NotificationPage,
    pub unread: u64,
}

/// My notifications, newest first, with how many are unread.
#[utoipa::path(get, path = "/api/v1/notifications", params(PageParams),
    responses((status = 200, body = NotificationList)))]
pub async fn api_list(a: ApiAuth, q: web::Query<PageParams>) -> Result<HttpResponse, ApiError> {
    let paging = q.paging()?;
    let (page, unread) = a.services().my_notifications(a.actor(), paging).await?;
    Ok(ok(StatusCode::OK, &NotificationList { page, unread }))
}

/// Mark one of my notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", params(("id" = String, Path)),
    responses((status = 204)))]
pub async fn api_read(a: ApiAuth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    a.services().open_notification(a.actor(), &id).await?;
    Ok(no_content())
}

/// How I am told of each kind by mail (none: the organisation's default, else at once).
#[utoipa::path(get, path = "/api/v1/notifications/preferences",
    responses((status = 200, body = PreferencePage)))]
pub async fn api_prefs(a: ApiAuth) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        &all(a.services().preferences(a.actor(), false).await?),
    ))
}

/// Choose how one kind reaches me: immediately, daily_digest or off (alerts and overdue
/// deadlines cannot be turned off); no delivery: back to the default. Answers them all.
#[utoipa::path(put, path = "/api/v1/notifications/preferences", request_body = PreferenceInput,
    responses((status = 200, body = PreferencePage)))]
pub async fn api_set_pref(
    a: ApiAuth,
    body: web::Json<PreferenceInput>,
) -> Result<HttpResponse, ApiError> {
    a.services().set_preference(a.actor(), false, &body).await?;
    Ok(ok(
        StatusCode::OK,
        &all(a.services().preferences(a.actor(), false).await?),
    ))
}

/// The organisation's defaults (its administrator).
#[utoipa::path(get, path = "/api/v1/notifications/preferences/organisation",
    responses((status = 200, body = PreferencePage)))]
pub async fn api_org_prefs(a: ApiAuth) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        &all(a.services().preferences(a.actor(), true).await?),
    ))
}

/// Set an organisation default (its administrator). Answers them all.
#[utoipa::path(put, path = "/api/v1/notifications/preferences/organisation", request_body = PreferenceInput,
    responses((status = 200, body = PreferencePage)))]
pub async fn api_set_org_pref(
    a: ApiAuth,
    body: web::Json<PreferenceInput>,
) -> Result<HttpResponse, ApiError> {
    a.services().set_preference(a.actor(), true, &body).await?;
    Ok(ok(
        StatusCode::OK,
        &all(a.services().preferences(a.actor(), true).await?),
    ))
}

fn all(list: Vec<Preference>) -> PreferencePage {
    PreferencePage::of(
        list,
        passerelle_core::domain::Paging {
            page: 1,
            per_page: passerelle_core::domain::Paging::MAX_PER_PAGE,
        },
    )
}
