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

fn login_form(page: &Page, status: StatusCode, error: Option<String>, email: &str) -> HttpResponse {
    let token = random_token(32).unwrap_or_default();
    let mut data = page.base("login-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("login_csrf".into(), token.clone().into());
        o.insert(
            "error".into(),
            error.map(Into::into).unwrap_or(serde_json::Value::Null),
        );
        o.insert("email".into(), email.into());
    }
    let mut resp = page.render(status, "login", data);
    let _ = resp.add_cookie(&page.state.cookie(LOGIN_CSRF_COOKIE, token));
    resp
}

async fn login_page(page: Page) -> HttpResponse {
    if page.session.is_some() {
        return see_other("/");
    }
    login_form(&page, StatusCode::OK, None, "")
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

async fn login(page: Page, req: HttpRequest, form: web::Form<LoginForm>) -> HttpResponse {
    let form = form.into_inner();
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
        );
    }
    if form.email.trim().is_empty() || form.password.is_empty() {
        return login_form(
            &page,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(page.t("login-missing")),
            &form.email,
        );
    }
    match page
        .state
        .services
        .login(&form.email, SecretString::from(form.password))
        .await
    {
        Ok(s) => {
            // Every role lands on its home, which opens on what needs them.
            let mut resp = see_other("/");
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
        ),
        Err(LoginError::Unexpected(e)) => {
            tracing::error!(error = %e, "sign-in failed");
            login_form(
                &page,
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(page.t("error-internal-detail")),
                &form.email,
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
    let mut resp = see_other("/login");
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
    let mut resp = see_other(&local_path(q.next.as_deref()));
    let c = Cookie::build(LANG_COOKIE, code)
        .path("/")
        .same_site(actix_web::cookie::SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish();
    let _ = resp.add_cookie(&c);
    resp
}
