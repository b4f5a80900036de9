//! Notifications in `/api/v1`: the caller's list with the unread count, and marking one
//! read.

use crate::http::{ApiAuth, ApiError, PageParams, no_content, ok};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use passerelle_core::notify::NotificationKind;
use passerelle_core::service::notify::{NotificationPage, NotificationView};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    paths(api_list, api_read),
    components(schemas(NotificationPage, NotificationView, NotificationKind, NotificationList))
)]
pub struct Doc;

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/notifications", web::get().to(api_list))
        .route("/notifications/{id}/read", web::post().to(api_read));
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
