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
    paths(
        login,
        logout,
        me,
        forgot,
        second_factor,
        two_factor_status,
        two_factor_start,
        two_factor_confirm
    ),
    components(schemas(
        LoginBody,
        MeBody,
        ForgotBody,
        ForgotAnswer,
        SecondFactorNeeded,
        CodeBody,
        passerelle_core::service::two_factor::TwoFactorStatus,
        passerelle_core::service::two_factor::Enrolment,
        RecoveryCodes
    ))
)]
pub struct Doc;

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/login", web::post().to(login))
        .route("/auth/logout", web::post().to(logout))
        .route("/me", web::get().to(me))
        .route("/auth/forgot", web::post().to(forgot))
        .route("/auth/code", web::post().to(second_factor))
        .route("/me/two-factor", web::get().to(two_factor_status))
        .route("/me/two-factor", web::post().to(two_factor_start))
        .route("/me/two-factor/confirm", web::post().to(two_factor_confirm));
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
/// With a second factor on, the answer is 202: the session opens once
/// `POST /api/v1/auth/code` is given a code.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginBody,
    responses((status = 200, body = MeBody), (status = 202, body = SecondFactorNeeded)))]
async fn login(state: State, body: web::Json<LoginBody>) -> HttpResponse {
    let body = body.into_inner();
    match state
        .services
        .login(&body.email, SecretString::from(body.password))
        .await
    {
        Ok(s) if s.second_factor_pending => {
            let mut resp = ok(
                StatusCode::ACCEPTED,
                &SecondFactorNeeded {
                    second_factor: "required".into(),
                    message: "give the code of your authenticator application (or a recovery code) to POST /api/v1/auth/code".into(),
                },
            );
            let c = state.cookie(
                state.session_cookie_name(),
                s.token.expose_secret().to_owned(),
            );
            let _ = resp.add_cookie(&c);
            resp
        }
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

#[derive(Serialize, ToSchema)]
pub struct SecondFactorNeeded {
    /// Always "required".
    second_factor: String,
    message: String,
}

#[derive(Deserialize, ToSchema)]
pub struct CodeBody {
    /// The six digits of the authenticator application, or a recovery code (XXXXX-XXXXX).
    code: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Shown this once: each replaces a code once, when the authenticator is lost.
    recovery_codes: Vec<String>,
}

/// The second step of a sign-in (after a 202 from `/api/v1/auth/login`): a current code,
/// used once, or an unused recovery code. Wrong codes count as failed sign-ins.
#[utoipa::path(post, path = "/api/v1/auth/code", request_body = CodeBody,
    responses((status = 200, body = MeBody)))]
async fn second_factor(
    state: State,
    req: actix_web::HttpRequest,
    body: web::Json<CodeBody>,
) -> HttpResponse {
    let Some(cookie) = req.cookie(state.session_cookie_name()) else {
        return error_json(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in with the password first: POST /api/v1/auth/login",
            None,
        );
    };
    match state
        .services
        .second_factor(cookie.value(), &body.code)
        .await
    {
        Ok(actor) => ok(StatusCode::OK, &me_body(&actor)),
        Err(LoginError::Rejected) => error_json(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the code is not the current one, was already used, or the sign-in expired",
            Some("code"),
        ),
        Err(LoginError::Unexpected(e)) => {
            tracing::error!(error = %e, "second factor failed");
            error_json(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "an internal error occurred; it was logged",
                None,
            )
        }
    }
}

/// The signed-in user's second factor.
#[utoipa::path(get, path = "/api/v1/me/two-factor",
    responses((status = 200, body = passerelle_core::service::two_factor::TwoFactorStatus)))]
async fn two_factor_status(a: ApiAuth) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        &a.services().two_factor_status(a.actor()).await?,
    ))
}

/// Begin the enrolment: a new secret for the authenticator application (its
/// `otpauth://` address and the secret in base32); 409 when already on.
#[utoipa::path(post, path = "/api/v1/me/two-factor",
    responses((status = 200, body = passerelle_core::service::two_factor::Enrolment)))]
async fn two_factor_start(a: ApiAuth) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        &a.services().start_two_factor(a.actor()).await?,
    ))
}

/// Confirm the enrolment with a first code: the second factor is on; the answer holds
/// the ten recovery codes, shown this once.
#[utoipa::path(post, path = "/api/v1/me/two-factor/confirm", request_body = CodeBody,
    responses((status = 200, body = RecoveryCodes)))]
async fn two_factor_confirm(
    a: ApiAuth,
    body: web::Json<CodeBody>,
) -> Result<HttpResponse, ApiError> {
    let recovery_codes = a
        .services()
        .confirm_two_factor(a.actor(), &body.code)
        .await?;
    Ok(ok(StatusCode::OK, &RecoveryCodes { recovery_codes }))
}
