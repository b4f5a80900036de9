//! Sign-in, sign-out and the language switch (HTML).

use crate::http::{
    HasCsrf, LANG_COOKIE, LOGIN_CSRF_COOKIE, Page, SignedForm, constant_eq, local_path, see_other,
};
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::crypto::random_token;
use passerelle_core::service::auth::LoginError;
use secrecy::SecretString;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout))
        .route("/lang/{code}", web::get().to(switch_language));
}

/// Where the sign-in page was asked to come back to, and why the user is there.
#[derive(Deserialize, Default)]
struct Return {
    next: Option<String>,
    expired: Option<String>,
}

impl Return {
    /// A local page to go back to after signing in (never another site).
    fn next(&self) -> Option<String> {
        self.next
            .as_deref()
            .filter(|n| !n.is_empty())
            .map(|n| local_path(Some(n)))
            .filter(|n| n != "/" && !n.starts_with("/login"))
    }
    /// The notice of an expired session: after a form, say that what was typed is lost.
    fn notice(&self, page: &Page) -> Option<String> {
        match self.expired.as_deref() {
            Some("form") => Some(page.t("login-expired-form")),
            Some(_) => Some(page.t("login-expired")),
            None => None,
        }
    }
}

fn login_form(
    page: &Page,
    status: StatusCode,
    error: Option<String>,
    email: &str,
    back: &Return,
) -> HttpResponse {
    let token = random_token(32).unwrap_or_default();
    let mut data = page.base("login-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("login_csrf".into(), token.clone().into());
        o.insert(
            "error".into(),
            error.map(Into::into).unwrap_or(serde_json::Value::Null),
        );
        o.insert("email".into(), email.into());
        o.insert("next".into(), back.next().unwrap_or_default().into());
        o.insert(
            "expired".into(),
            back.expired.clone().unwrap_or_default().into(),
        );
        o.insert(
            "notice".into(),
            back.notice(page)
                .map(Into::into)
                .unwrap_or(serde_json::Value::Null),
        );
    }
    let mut resp = page.render(status, "login", data);
    let _ = resp.add_cookie(&page.state.cookie(LOGIN_CSRF_COOKIE, token));
    resp
}

async fn login_page(page: Page, q: web::Query<Return>) -> HttpResponse {
    if page.session.is_some() {
        return see_other(&q.next().unwrap_or_else(|| "/".into()));
    }
    login_form(&page, StatusCode::OK, None, "", &q)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    expired: Option<String>,
}

async fn login(page: Page, req: HttpRequest, form: web::Form<LoginForm>) -> HttpResponse {
    let form = form.into_inner();
    let back = Return {
        next: form.next.clone(),
        expired: form.expired.clone().filter(|e| !e.is_empty()),
    };
    let cookie = req
        .cookie(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if cookie.is_empty() || !constant_eq(&cookie, &form.csrf) {
        return login_form(
            &page,
            StatusCode::FORBIDDEN,
            Some(page.t("error-csrf-detail")),
            &form.email,
            &back,
        );
    }
    if form.email.trim().is_empty() || form.password.is_empty() {
        return login_form(
            &page,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(page.t("login-missing")),
            &form.email,
            &back,
        );
    }
    match page
        .state
        .services
        .login(&form.email, SecretString::from(form.password))
        .await
    {
        Ok(s) => {
            // Every role lands on its home (which opens on what needs them), or back
            // on the page the expired session interrupted.
            let mut resp = see_other(&back.next().unwrap_or_else(|| "/".into()));
            let name = page.state.session_cookie_name();
            let secret = secrecy::ExposeSecret::expose_secret(&s.token).to_owned();
            let _ = resp.add_cookie(&page.state.cookie(name, secret));
            let _ = resp.add_cookie(&page.state.removal(LOGIN_CSRF_COOKIE));
            resp
        }
        Err(LoginError::Rejected) => login_form(
            &page,
            StatusCode::UNAUTHORIZED,
            Some(page.t("login-rejected")),
            &form.email,
            &back,
        ),
        Err(LoginError::Unexpected(e)) => {
            tracing::error!(error = %e, "sign-in failed");
            login_form(
                &page,
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(page.t("error-internal-detail")),
                &form.email,
                &back,
            )
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

impl HasCsrf for CsrfOnly {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn logout(f: SignedForm<CsrfOnly>) -> HttpResponse {
    let st = &f.signed.page.state;
    if let Err(e) = st.services.logout(f.signed.session.session_id).await {
        return actix_web::ResponseError::error_response(&f.signed.page.service_error(e));
    }
    let mut resp = f.signed.page.done("/login", "flash-signed-out");
    let _ = resp.add_cookie(&st.removal(st.session_cookie_name()));
    resp
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

async fn switch_language(page: Page, code: web::Path<String>, q: web::Query<Next>) -> HttpResponse {
    let code = code.into_inner();
    if !page.state.i18n.supports(&code) {
        return actix_web::ResponseError::error_response(&page.fail(
            StatusCode::NOT_FOUND,
            "error-not-found",
            page.t("error-unknown-language"),
        ));
    }
    // A signed-in user's mail follows the language they chose.
    if let Some(session) = &page.session {
        let _ = page
            .state
            .services
            .set_mail_language(session.actor.user_id, &code)
            .await;
    }
    let mut resp = see_other(&local_path(q.next.as_deref()));
    let c = Cookie::build(LANG_COOKIE, code)
        .path("/")
        .same_site(actix_web::cookie::SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish();
    let _ = resp.add_cookie(&c);
    resp
}
