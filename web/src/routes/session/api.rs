//! Signing in and out through `/api/v1`, and who am I.

use crate::http::{ApiAuth, ApiError, State, error_json, no_content, ok};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use passerelle_core::service::auth::LoginError;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(login, logout, me, forgot),
    components(schemas(LoginBody, MeBody, ForgotBody, ForgotAnswer))
)]
pub struct Doc;

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/login", web::post().to(login))
        .route("/auth/logout", web::post().to(logout))
        .route("/me", web::get().to(me))
        .route("/auth/forgot", web::post().to(forgot));
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

/// Sign in; sets the session cookie. The answer is the same whether the address exists
/// or not.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginBody,
    responses((status = 200, body = MeBody)))]
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
#[utoipa::path(post, path = "/api/v1/auth/logout", responses((status = 204)))]
async fn logout(a: ApiAuth) -> Result<HttpResponse, ApiError> {
    a.services().logout(a.session.session_id).await?;
    let mut resp = no_content();
    let _ = resp.add_cookie(&a.state.removal(a.state.session_cookie_name()));
    Ok(resp)
}

/// Who am I?
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = MeBody)))]
async fn me(a: ApiAuth) -> HttpResponse {
    ok(StatusCode::OK, &me_body(a.actor()))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct ForgotBody {
    pub email: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ForgotAnswer {
    pub message: String,
}

/// Ask for a link to choose a new password. The answer is the same whether the address
/// has an account or not; the link (valid 30 minutes, single use) is sent by e-mail.
#[utoipa::path(post, path = "/api/v1/auth/forgot", request_body = ForgotBody,
    responses((status = 202, body = ForgotAnswer)))]
pub async fn forgot(
    state: web::Data<crate::http::AppState>,
    body: web::Json<ForgotBody>,
) -> Result<HttpResponse, crate::http::ApiError> {
    state.services.request_password_reset(&body.email).await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Cache-Control", "no-store"))
        .json(ForgotAnswer {
            message:
                "if an account has this address, a link to choose a new password was sent to it"
                    .into(),
        }))
}
