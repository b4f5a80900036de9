//! Routes, one module per area (each with its `api` and `pages` parts); each registers
//! itself with `configure` (pages) and `configure_api` (under `/api/v1`).

pub mod admin;
pub mod api;
pub mod care;
pub mod cases;
pub mod data;
pub mod erasure;
pub mod follow_up;
pub mod funding;
pub mod home;
pub mod identification;
pub mod notifications;
pub mod returns;
pub mod session;
pub mod trial;

use actix_web::{HttpResponse, web};

pub async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .content_type("text/css; charset=utf-8")
        .body(include_str!("../../static/style.css"))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/static/style.css", web::get().to(stylesheet));
    api::configure(cfg);
    session::configure(cfg);
    session::configure_two_factor(cfg);
    home::configure(cfg);
    cases::configure(cfg);
    identification::configure(cfg);
    care::configure(cfg);
    trial::configure(cfg);
    returns::configure(cfg);
    follow_up::configure(cfg);
    notifications::configure(cfg);
    funding::configure(cfg);
    data::exports::configure(cfg);
    data::configure_dashboard(cfg);
    data::configure(cfg);
    erasure::configure(cfg);
    admin::configure(cfg);
}
