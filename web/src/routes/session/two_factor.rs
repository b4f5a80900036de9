//! Two-factor sign-in, the pages: the code after the password (`/login/code`), and the
//! account's enrolment (`/account/two-factor`: a QR code drawn on the server as SVG, the
//! secret to type instead, the first code, then the recovery codes shown once).

use crate::http::{
    LOGIN_CSRF_COOKIE, Page, PageError, Pairs, Signed, SignedForm, local_path, see_other,
};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::crypto::random_token;
use passerelle_core::service::auth::LoginError;
use passerelle_core::service::two_factor::Enrolment;
use serde::Deserialize;
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/login/code", web::get().to(code_page))
        .route("/login/code", web::post().to(code))
        .route("/account/two-factor", web::get().to(account_page))
        .route("/account/two-factor/start", web::post().to(start))
        .route("/account/two-factor/confirm", web::post().to(confirm));
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

/// The page after a password that needs a code: only for a session waiting for one.
fn code_form(page: &Page, status: StatusCode, error: Option<String>, next: &str) -> HttpResponse {
    let token = random_token(32).unwrap_or_default();
    let mut data = page.base("second-factor-code-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("login_csrf".into(), json!(token));
        o.insert("error".into(), json!(error));
        o.insert("next".into(), json!(next));
    }
    let mut resp = page.render(status, "login_code", data);
    let _ = resp.add_cookie(&page.state.cookie(LOGIN_CSRF_COOKIE, token));
    resp
}

async fn awaits(page: &Page, req: &HttpRequest) -> bool {
    let Some(c) = req.cookie(page.state.session_cookie_name()) else {
        return false;
    };
    page.state
        .services
        .awaits_second_factor(c.value())
        .await
        .unwrap_or(false)
}

async fn code_page(page: Page, req: HttpRequest, q: web::Query<Next>) -> HttpResponse {
    if !awaits(&page, &req).await {
        return see_other("/login");
    }
    code_form(&page, StatusCode::OK, None, q.next.as_deref().unwrap_or(""))
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    next: String,
}

async fn code(page: Page, req: HttpRequest, form: web::Form<CodeForm>) -> HttpResponse {
    let form = form.into_inner();
    if !super::pages::csrf_ok(&req, &form.csrf) {
        return code_form(
            &page,
            StatusCode::FORBIDDEN,
            Some(page.t("error-csrf-detail")),
            &form.next,
        );
    }
    let Some(cookie) = req.cookie(page.state.session_cookie_name()) else {
        return see_other("/login");
    };
    match page
        .state
        .services
        .second_factor(cookie.value(), &form.code)
        .await
    {
        Ok(_) => {
            let next = Some(form.next.as_str())
                .filter(|n| !n.is_empty())
                .map(|n| local_path(Some(n)))
                .filter(|n| !n.starts_with("/login"))
                .unwrap_or_else(|| "/".into());
            let mut resp = see_other(&next);
            let _ = resp.add_cookie(&page.state.removal(LOGIN_CSRF_COOKIE));
            resp
        }
        Err(LoginError::Rejected) => code_form(
            &page,
            StatusCode::UNAUTHORIZED,
            Some(page.t("second-factor-code-rejected")),
            &form.next,
        ),
        Err(LoginError::Unexpected(e)) => {
            tracing::error!(error = %e, "second factor failed");
            code_form(
                &page,
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(page.t("error-internal-detail")),
                &form.next,
            )
        }
    }
}

/// The QR code of an enrolment as inline SVG (no JavaScript, nothing fetched).
fn qr_svg(e: &Enrolment) -> Option<String> {
    let code = qrcode::QrCode::new(e.otpauth_url.as_bytes()).ok()?;
    code.render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build()
        // Inline in the page: without the XML declaration.
        .split_once("<svg")
        .map(|(_, rest)| format!("<svg role=\"img\" aria-label=\"QR\"{rest}"))
}

async fn account_page(s: Signed) -> Result<HttpResponse, PageError> {
    show_account(&s, None, None).await
}

async fn show_account(
    s: &Signed,
    refill: Option<crate::http::Refill>,
    codes: Option<Vec<String>>,
) -> Result<HttpResponse, PageError> {
    let services = s.services();
    let status = services
        .two_factor_status(s.actor())
        .await
        .map_err(|e| s.page.service_error(e))?;
    let enrolment = if status.enabled {
        None
    } else {
        services
            .pending_enrolment(s.actor())
            .await
            .map_err(|e| s.page.service_error(e))?
    };
    let mut data = s.page.base("second-factor-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("enabled".into(), json!(status.enabled));
        o.insert("required".into(), json!(status.required));
        o.insert(
            "missing".into(),
            json!(s.session.two_factor_missing && !status.enabled),
        );
        o.insert("recovery_left".into(), json!(status.recovery_codes_left));
        if let Some(e) = &enrolment {
            o.insert("qr".into(), json!(qr_svg(e)));
            o.insert("secret".into(), json!(e.secret));
        }
        o.insert("codes".into(), json!(codes));
    }
    let mut resp = s.page.show("two_factor", data, refill);
    // Never cached: the secret or the recovery codes may be on it.
    resp.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

async fn start(f: SignedForm<Pairs>) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    match s.services().start_two_factor(s.actor()).await {
        Ok(_) => Ok(see_other("/account/two-factor#enrol")),
        Err(e) => show_account(s, Some(f.refill("enrol", e)?), None).await,
    }
}

async fn confirm(f: SignedForm<Pairs>) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    match s
        .services()
        .confirm_two_factor(s.actor(), &f.sent.text("code"))
        .await
    {
        // The codes are shown on this answer only (never in a URL or a cookie).
        Ok(codes) => show_account(s, None, Some(codes)).await,
        Err(e) => show_account(s, Some(f.refill("confirm", e)?), None).await,
    }
}
