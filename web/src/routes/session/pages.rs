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
        .route("/lang/{code}", web::get().to(switch_language))
        .route("/forgot", web::get().to(forgot_page))
        .route("/forgot", web::post().to(forgot))
        .route("/signin/{token}", web::get().to(link_page))
        .route("/signin/{token}", web::post().to(use_link));
}

/// A signed-out form's page, with the double-submit token of the sign-in form.
fn signed_out_form(
    page: &Page,
    status: StatusCode,
    template: &str,
    title: &str,
    extra: serde_json::Value,
) -> HttpResponse {
    let token = random_token(32).unwrap_or_default();
    let mut data = page.base(title);
    if let (Some(o), Some(e)) = (data.as_object_mut(), extra.as_object()) {
        o.insert("login_csrf".into(), token.clone().into());
        o.extend(e.clone());
    }
    let mut resp = page.render(status, template, data);
    let _ = resp.add_cookie(&page.state.cookie(LOGIN_CSRF_COOKIE, token));
    resp
}

pub(super) fn csrf_ok(req: &HttpRequest, sent: &str) -> bool {
    let cookie = req
        .cookie(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    !cookie.is_empty() && constant_eq(&cookie, sent)
}

#[derive(Deserialize)]
struct ForgotForm {
    #[serde(default)]
    email: String,
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

async fn forgot_page(page: Page) -> HttpResponse {
    signed_out_form(
        &page,
        StatusCode::OK,
        "forgot",
        "forgot-title",
        serde_json::json!({"sent": false, "error": null}),
    )
}

/// The same answer whether the address exists or not; the link, if any, is in the mail.
async fn forgot(page: Page, req: HttpRequest, form: web::Form<ForgotForm>) -> HttpResponse {
    if !csrf_ok(&req, &form.csrf) {
        return signed_out_form(
            &page,
            StatusCode::FORBIDDEN,
            "forgot",
            "forgot-title",
            serde_json::json!({"sent": false, "error": page.t("error-csrf-detail")}),
        );
    }
    if let Err(e) = page
        .state
        .services
        .request_password_reset(&form.email)
        .await
    {
        return actix_web::ResponseError::error_response(&page.service_error(e));
    }
    signed_out_form(
        &page,
        StatusCode::OK,
        "forgot",
        "forgot-title",
        serde_json::json!({"sent": true, "error": null}),
    )
}

fn link_problem(page: &Page, p: passerelle_core::service::signin::LinkProblem) -> HttpResponse {
    use passerelle_core::service::signin::LinkProblem;
    let key = match p {
        LinkProblem::Used => "signin-link-used",
        LinkProblem::Expired => "signin-link-expired",
    };
    // No dead end: the refusal comes with the form that asks for a new link.
    signed_out_form(
        page,
        StatusCode::GONE,
        "forgot",
        "signin-link-refused-title",
        serde_json::json!({"sent": false, "error": page.t(key)}),
    )
}

async fn link_page(page: Page, token: web::Path<String>) -> HttpResponse {
    match page.state.services.check_signin_link(&token).await {
        Ok(Ok(email)) => signed_out_form(
            &page,
            StatusCode::OK,
            "signin_link",
            "signin-link-title",
            serde_json::json!({"email": email, "token": token.as_str(), "error": null}),
        ),
        Ok(Err(p)) => link_problem(&page, p),
        Err(e) => actix_web::ResponseError::error_response(&page.service_error(e)),
    }
}

#[derive(Deserialize)]
struct NewPasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

async fn use_link(
    page: Page,
    req: HttpRequest,
    token: web::Path<String>,
    form: web::Form<NewPasswordForm>,
) -> HttpResponse {
    let again = |status: StatusCode, error: String| {
        signed_out_form(
            &page,
            status,
            "signin_link",
            "signin-link-title",
            serde_json::json!({"email": "", "token": token.as_str(), "error": error}),
        )
    };
    if !csrf_ok(&req, &form.csrf) {
        return again(StatusCode::FORBIDDEN, page.t("error-csrf-detail"));
    }
    if form.password != form.confirm {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            page.t("signin-link-mismatch"),
        );
    }
    match page
        .state
        .services
        .use_signin_link(&token, &form.password)
        .await
    {
        Ok(Ok(())) => page.done("/login", "flash-password-set"),
        Ok(Err(p)) => link_problem(&page, p),
        Err(passerelle_core::ServiceError::Invalid(i)) => {
            again(StatusCode::UNPROCESSABLE_ENTITY, page.translate(&i.message))
        }
        Err(e) => actix_web::ResponseError::error_response(&page.service_error(e)),
    }
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
        Ok(s) if s.second_factor_pending => {
            // The password was right; the session opens with the code.
            let to = match back.next() {
                Some(n) => format!("/login/code?next={}", crate::http::percent_encode(&n)),
                None => "/login/code".to_owned(),
            };
            let mut resp = see_other(&to);
            let name = page.state.session_cookie_name();
            let secret = secrecy::ExposeSecret::expose_secret(&s.token).to_owned();
            let _ = resp.add_cookie(&page.state.cookie(name, secret));
            resp
        }
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
