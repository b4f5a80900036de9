//! Shared HTTP plumbing: application state, the signed-in user extractors (HTML and
//! JSON), CSRF-checked forms, and the mapping of use-case errors to responses.

use crate::i18n::I18n;
use crate::render::Renderer;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};

use passerelle_core::service::auth::CurrentSession;
use passerelle_core::{Actor, ServiceError, Services};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub struct AppState {
    pub services: Services,
    pub render: Renderer,
    pub i18n: Arc<I18n>,
    pub secure_cookies: bool,
    pub demo: bool,
    /// The plugin registry, when plugins are configured (administration page).
    pub plugins: Option<Arc<crate::plugins::PluginAdapters>>,
    /// This node's rate limits (`crate::limits`).
    pub limits: crate::limits::RateLimits,
}

pub type State = web::Data<AppState>;

pub const LANG_COOKIE: &str = "lang";
pub const LOGIN_CSRF_COOKIE: &str = "passerelle_login_csrf";

impl AppState {
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-passerelle"
        } else {
            "passerelle"
        }
    }

    pub fn cookie<'c>(&self, name: &'c str, value: String) -> Cookie<'c> {
        Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .secure(self.secure_cookies)
            .same_site(SameSite::Strict)
            .finish()
    }

    pub fn removal<'c>(&self, name: &'c str) -> Cookie<'c> {
        let mut c = self.cookie(name, String::new());
        c.make_removal();
        c
    }

    pub fn lang(&self, req: &HttpRequest) -> &'static str {
        let chosen = req.cookie(LANG_COOKIE).map(|c| c.value().to_owned());
        let accept = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        self.i18n.negotiate(chosen.as_deref(), accept)
    }
}

fn state_of(req: &HttpRequest) -> Result<State, ApiError> {
    req.app_data::<State>().cloned().ok_or_else(|| {
        ApiError(ServiceError::Unexpected(anyhow::anyhow!(
            "application state missing"
        )))
    })
}

pub(crate) async fn session_of(req: &HttpRequest) -> Result<Option<CurrentSession>, ApiError> {
    let st = state_of(req)?;
    let Some(c) = req.cookie(st.session_cookie_name()) else {
        return Ok(None);
    };
    st.services.session(c.value()).await.map_err(ApiError)
}

// ---------- JSON API ----------

/// A use-case error on the JSON API.
#[derive(Debug)]
pub struct ApiError(pub ServiceError);

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self(e)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

pub fn status_of(e: &ServiceError) -> StatusCode {
    match e {
        ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::BadRequest(_) => StatusCode::BAD_REQUEST,
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
        ServiceError::Conflict(_) => StatusCode::CONFLICT,
        ServiceError::Refused(_) | ServiceError::RulesRefused(_) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ServiceError::Port(_) => StatusCode::SERVICE_UNAVAILABLE,
        ServiceError::Integrity(_) | ServiceError::Unexpected(_) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

fn kind_of(e: &ServiceError) -> &'static str {
    match e {
        ServiceError::Invalid(_) => "invalid",
        ServiceError::BadRequest(_) => "bad_request",
        ServiceError::NotFound(_) => "not_found",
        ServiceError::Forbidden(_) => "forbidden",
        ServiceError::Conflict(_) => "conflict",
        ServiceError::Refused(_) | ServiceError::RulesRefused(_) => "refused",
        ServiceError::Port(_) => "adapter_failed",
        ServiceError::Integrity(_) => "integrity",
        ServiceError::Unexpected(_) => "internal",
    }
}

/// Log the cause of a server-side failure. Messages here never carry personal data:
/// core errors name tables, columns and rules, not values.
fn log_failure(e: &ServiceError) {
    match e {
        ServiceError::Unexpected(err) => {
            tracing::error!(error = %format!("{err:#}"), "request failed")
        }
        ServiceError::Integrity(err) => tracing::error!(error = %err, "integrity check failed"),
        _ => {}
    }
}

pub fn error_json(
    status: StatusCode,
    kind: &str,
    message: &str,
    field: Option<&str>,
) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "error": kind, "message": message, "field": field }))
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(&self.0)
    }
    fn error_response(&self) -> HttpResponse {
        log_failure(&self.0);
        let message = match &self.0 {
            ServiceError::Unexpected(_) => "an internal error occurred; it was logged".to_owned(),
            ServiceError::Integrity(e) => format!("{e}; the read was refused and logged"),
            other => other.to_string(),
        };
        let field = match &self.0 {
            ServiceError::Invalid(i) | ServiceError::BadRequest(i) => Some(i.field),
            _ => None,
        };
        error_json(self.status_code(), kind_of(&self.0), &message, field)
    }
}

/// The signed-in user on the JSON API: 401 when signed out. `lang` is the language of
/// the text in answers (labels, reasons), from `Accept-Language` (or the language cookie).
pub struct ApiAuth {
    pub session: CurrentSession,
    pub state: State,
    pub lang: &'static str,
}

impl ApiAuth {
    pub fn actor(&self) -> &Actor {
        &self.session.actor
    }
    pub fn services(&self) -> &Services {
        &self.state.services
    }
}

pub struct Unauthorized;

impl std::fmt::Debug for Unauthorized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Unauthorized")
    }
}
impl std::fmt::Display for Unauthorized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sign in first")
    }
}

pub enum ApiAuthError {
    Unauthorized,
    Failed(ApiError),
}

impl std::fmt::Debug for ApiAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiAuthError")
    }
}
impl std::fmt::Display for ApiAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("authentication failed")
    }
}

impl ResponseError for ApiAuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiAuthError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiAuthError::Failed(e) => e.status_code(),
        }
    }
    fn error_response(&self) -> HttpResponse {
        match self {
            ApiAuthError::Unauthorized => error_json(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "sign in first: POST /api/v1/auth/login with {\"email\", \"password\"}",
                None,
            ),
            ApiAuthError::Failed(e) => e.error_response(),
        }
    }
}

type BoxFut<T> = Pin<Box<dyn Future<Output = T>>>;

/// What a session that must enrol a second factor, and has none, may still open.
fn enrolment_path(path: &str) -> bool {
    matches!(
        path,
        "/api/v1/me"
            | "/api/v1/me/two-factor"
            | "/api/v1/me/two-factor/confirm"
            | "/api/v1/auth/logout"
            | "/account/two-factor"
            | "/account/two-factor/start"
            | "/account/two-factor/confirm"
            | "/logout"
    ) || path.starts_with("/lang/")
}

impl FromRequest for ApiAuth {
    type Error = ApiAuthError;
    type Future = BoxFut<Result<Self, Self::Error>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state_of(&req).map_err(ApiAuthError::Failed)?;
            let lang = state.lang(&req);
            match session_of(&req).await.map_err(ApiAuthError::Failed)? {
                Some(session) if session.two_factor_missing && !enrolment_path(req.path()) => {
                    Err(ApiAuthError::Failed(ApiError(ServiceError::Forbidden(
                        "your role requires two-factor sign-in: enrol first (POST /api/v1/me/two-factor, then POST /api/v1/me/two-factor/confirm with a code)".into(),
                    ))))
                }
                Some(session) => Ok(ApiAuth {
                    session,
                    state,
                    lang,
                }),
                None => Err(ApiAuthError::Unauthorized),
            }
        })
    }
}

/// A JSON body that may be left out: an empty body is `T::default()`; a body that is
/// sent must be JSON (415 otherwise) and what the endpoint takes (400), like `web::Json`.
/// For actions whose only input is optional (a consent's withdrawal and its reason).
pub struct OptionalJson<T>(pub T);

impl<T> std::ops::Deref for OptionalJson<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

pub struct BodyError(StatusCode, String);

impl std::fmt::Debug for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BodyError({})", self.0)
    }
}
impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}
impl ResponseError for BodyError {
    fn status_code(&self) -> StatusCode {
        self.0
    }
    fn error_response(&self) -> HttpResponse {
        error_json(self.0, "bad_request", &self.1, None)
    }
}

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = BodyError;
    type Future = BoxFut<Result<Self, Self::Error>>;
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| {
                BodyError(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the body could not be read: {e}"),
                )
            })?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(T::default()));
            }
            if !json {
                return Err(BodyError(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "send the body as JSON with Content-Type: application/json".into(),
                ));
            }
            serde_json::from_slice(&bytes)
                .map(OptionalJson)
                .map_err(|e| {
                    BodyError(
                        StatusCode::BAD_REQUEST,
                        format!("the JSON body is not what this endpoint takes: {e}"),
                    )
                })
        })
    }
}

// ---------- HTML pages ----------

/// The short-lived cookie that carries the message shown after an action ("Case created")
/// to the page the browser is sent to next. It holds a message **key** (`flash-…`), never
/// data, and the next page that renders clears it.
pub const FLASH_COOKIE: &str = "passerelle_flash";

/// A failure on an HTML page: a rendered page in the user's language, or a redirect.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    body: String,
    location: Option<String>,
    /// Cookies the answer sets (the flash message's removal once it was shown).
    cookies: Vec<Cookie<'static>>,
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "page error {}", self.status)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        r.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(l) = &self.location {
            r.insert_header((header::LOCATION, l.clone()));
        }
        for c in &self.cookies {
            r.cookie(c.clone());
        }
        r.content_type("text/html; charset=utf-8")
            .body(self.body.clone())
    }
}

impl PageError {
    pub fn redirect(to: &str) -> Self {
        Self {
            status: StatusCode::SEE_OTHER,
            body: String::new(),
            location: Some(to.to_owned()),
            cookies: vec![],
        }
    }
}

/// A form sent back to its own page after a failed POST: what was typed, an error beside
/// each field that is wrong, and a message above the form (a conflict, a refusal). Made by
/// [`SignedForm::refill`]; the page handler renders its page again with it
/// ([`Page::show`]), and the templates' form helpers (`val`, `checked`, `selected`,
/// `invalid`, `field_error`, `form_alert`, `saved`; see `render.rs`) read it.
#[derive(Debug, Clone)]
pub struct Refill {
    pub status: StatusCode,
    /// The page the form was on (its `_back` field): the re-rendered page's own address.
    pub at: String,
    /// `{"name", "key", "values": {field: [values]}, "errors": {field: message},
    /// "message", "stale"}` (`stale`: someone else saved first).
    pub form: Value,
}

impl Refill {
    /// Add an error beside a field (a check the page makes itself).
    pub fn with_error(mut self, field: &str, message: String) -> Self {
        if let Some(e) = self.form.get_mut("errors").and_then(Value::as_object_mut) {
            e.insert(field.to_owned(), Value::String(message));
        }
        self
    }
}

/// Per-request page context: state, language, the session if any.
pub struct Page {
    pub state: State,
    pub lang: &'static str,
    pub session: Option<CurrentSession>,
    pub path: String,
    /// The message key carried by the flash cookie, if any (shown once, then cleared).
    pub flash: Option<String>,
    /// A session cookie came with the request but opens no session any more (it expired,
    /// or the user signed out elsewhere).
    pub stale_session: bool,
    /// The signed-in user's unread notifications (pages read by GET; 0 otherwise).
    pub unread: u64,
}

impl Page {
    pub fn t(&self, key: &str) -> String {
        self.state.i18n.t(self.lang, key, None)
    }

    /// A message with arguments (names, dates, counts: Fluent picks the plural form).
    pub fn t_args(&self, key: &str, args: &[(&'static str, Value)]) -> String {
        let mut a = fluent_bundle::FluentArgs::new();
        for (k, v) in args {
            match v {
                Value::Number(n) => a.set(*k, n.as_f64().unwrap_or_default()),
                Value::String(s) => a.set(*k, s.clone()),
                other => a.set(*k, other.to_string()),
            }
        }
        self.state.i18n.t(self.lang, key, Some(&a))
    }

    /// The flash message in the user's language: only known `flash-…` keys are shown
    /// (the cookie comes back from the browser, so anything else is ignored).
    fn flash_text(&self) -> Value {
        match self.flash.as_deref() {
            Some(k) if k.starts_with("flash-") && k.len() < 80 => {
                let text = self.t(k);
                if text == k {
                    Value::Null
                } else {
                    Value::String(text)
                }
            }
            _ => Value::Null,
        }
    }

    /// The data every page gets: language, switcher, user, CSRF token, the flash message.
    pub fn base(&self, title_key: &str) -> Value {
        let langs: Vec<Value> = self
            .state
            .i18n
            .languages()
            .map(|(c, n)| json!({"code": c, "name": n, "current": c == self.lang}))
            .collect();
        let user = self.session.as_ref().map(|s| {
            let r = s.actor.role;
            json!({
                "name": s.actor.display_name,
                "role": r.as_str(),
                "caseworker": r.is_caseworker() || matches!(r, passerelle_core::domain::Role::OrgAdmin | passerelle_core::domain::Role::Auditor),
                "can_create": passerelle_core::domain::may_create_case(r),
                // An administrator oversees the organisation's deadlines.
                "deadlines": r.is_caseworker() || r == passerelle_core::domain::Role::OrgAdmin,
                "referrals": r.is_caseworker() || r == passerelle_core::domain::Role::OrgAdmin,
                "admin": matches!(r, passerelle_core::domain::Role::OrgAdmin | passerelle_core::domain::Role::SystemAdmin),
                "sysadmin": r == passerelle_core::domain::Role::SystemAdmin,
                "dashboard": passerelle_core::data::dashboard::has_dashboard(r),
                "funds": r.is_caseworker() || matches!(r, passerelle_core::domain::Role::FundManager | passerelle_core::domain::Role::Auditor | passerelle_core::domain::Role::OrgAdmin),
            })
        });
        json!({
            "lang": self.lang,
            "languages": langs,
            "title": self.t(title_key),
            "user": user,
            "csrf": self.session.as_ref().map(|s| s.csrf_token.clone()).unwrap_or_default(),
            "path": self.path,
            "here": percent_encode(&self.path),
            "demo": self.state.demo,
            "flash": self.flash_text(),
            "unread": self.unread,
            "error": Value::Null,
            "form": Value::Null,
        })
    }

    /// The removal of the flash cookie, when this request brought one: the page that
    /// shows the message clears it.
    fn flash_removal(&self) -> Option<Cookie<'static>> {
        self.flash
            .as_ref()
            .map(|_| self.state.removal(FLASH_COOKIE).into_owned())
    }

    pub fn render(&self, status: StatusCode, template: &str, data: Value) -> HttpResponse {
        let mut resp = match self.state.render.page(template, data) {
            Ok(html) => HttpResponse::build(status)
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .content_type("text/html; charset=utf-8")
                .body(html),
            Err(e) => {
                tracing::error!(template, error = %e, "template failed");
                HttpResponse::InternalServerError()
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .content_type("text/plain; charset=utf-8")
                    .body("internal error while rendering the page; it was logged")
            }
        };
        if let Some(c) = self.flash_removal() {
            let _ = resp.add_cookie(&c);
        }
        resp
    }

    pub fn ok(&self, template: &str, data: Value) -> HttpResponse {
        self.render(StatusCode::OK, template, data)
    }

    /// Render a page that holds forms: with 200, or, after a failed POST, with the
    /// refill's status, the form's values and errors, and the page's own address (not the
    /// POST's) for the language switch and the forms' `_back`.
    pub fn show(&self, template: &str, mut data: Value, refill: Option<Refill>) -> HttpResponse {
        let Some(r) = refill else {
            return self.ok(template, data);
        };
        if let Some(o) = data.as_object_mut() {
            o.insert("path".into(), json!(r.at));
            o.insert("here".into(), json!(percent_encode(&r.at)));
            o.insert("form".into(), r.form);
        }
        self.render(r.status, template, data)
    }

    /// After a successful POST: back to `to`, with a message for the next page ("Case
    /// created"). `key` is a message key of the `flash-` family.
    pub fn done(&self, to: &str, key: &'static str) -> HttpResponse {
        let mut resp = see_other(to);
        let c = Cookie::build(FLASH_COOKIE, key)
            .path("/")
            .http_only(true)
            .secure(self.state.secure_cookies)
            .same_site(SameSite::Strict)
            .max_age(actix_web::cookie::time::Duration::seconds(120))
            .finish();
        let _ = resp.add_cookie(&c);
        resp
    }

    /// An error page in the user's language, with the detail of what is wrong.
    pub fn fail(&self, status: StatusCode, heading_key: &str, detail: String) -> PageError {
        let mut data = self.base(heading_key);
        if let Some(o) = data.as_object_mut() {
            o.insert("heading".into(), Value::String(self.t(heading_key)));
            o.insert("detail".into(), Value::String(detail));
            o.insert("status".into(), json!(status.as_u16()));
        }
        let body = self.state.render.page("error", data).unwrap_or_else(|e| {
            tracing::error!(error = %e, "error template failed");
            format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )
        });
        PageError {
            status,
            body,
            location: None,
            cookies: self.flash_removal().into_iter().collect(),
        }
    }

    /// Map a use-case error to a page.
    pub fn service_error(&self, e: ServiceError) -> PageError {
        log_failure(&e);
        let status = status_of(&e);
        let (key, detail) = match &e {
            ServiceError::Invalid(i) | ServiceError::BadRequest(i) => {
                ("error-invalid", self.invalid_detail(i))
            }
            ServiceError::NotFound(what) => ("error-not-found", self.t(&format!("what-{what}"))),
            ServiceError::Forbidden(m) => ("error-forbidden", self.translate(m)),
            ServiceError::Conflict(m) => ("error-conflict", self.translate(m)),
            ServiceError::Refused(m) => ("error-refused", self.translate(m)),
            ServiceError::RulesRefused(r) => {
                ("error-refused", crate::words::rules_refused(self, r))
            }
            ServiceError::Port(p) => ("error-adapter", p.message.clone()),
            ServiceError::Integrity(_) => ("error-integrity", self.t("error-integrity-detail")),
            ServiceError::Unexpected(_) => ("error-internal", self.t("error-internal-detail")),
        };
        self.fail(status, key, detail)
    }

    /// A failed form as a [`Refill`] of its page, for the errors a person can act on in
    /// the form: a value that is wrong (422/400, beside its field), a conflict (409: a
    /// stale version, a duplicate, a state that changed; the version typed is dropped so
    /// that the page offers the current one), a refusal by a rule (422) or a failed
    /// jurisdiction adapter (503). Anything else (not found, forbidden, internal) is an
    /// error page. Passwords are never sent back into a page.
    pub fn refill(
        &self,
        name: &str,
        key: Option<&str>,
        at: &str,
        sent: &Pairs,
        e: ServiceError,
    ) -> Result<Refill, PageError> {
        let status = status_of(&e);
        let mut errors = serde_json::Map::new();
        let mut stale = false;
        let message = match &e {
            ServiceError::Invalid(i) | ServiceError::BadRequest(i) => {
                errors.insert(i.field.to_owned(), json!(self.translate(&i.message)));
                self.invalid_detail(i)
            }
            // A stale version: say what happens next on this page (the text is kept,
            // what is saved now is shown beside it), then the core's own words.
            ServiceError::Conflict(m) if is_stale(m) => {
                stale = true;
                format!("{} {}", self.t("form-stale"), self.translate(m))
            }
            ServiceError::Conflict(m) | ServiceError::Refused(m) => self.translate(m),
            ServiceError::RulesRefused(r) => crate::words::rules_refused(self, r),
            ServiceError::Port(p) => format!(
                "{}{}{}",
                self.t("error-adapter"),
                self.t("colon"),
                p.message
            ),
            _ => return Err(self.service_error(e)),
        };
        let mut values = serde_json::Map::new();
        for (k, v) in &sent.0 {
            if k.starts_with('_') || k.contains("password") || (stale && k == "version") {
                continue;
            }
            match values
                .entry(k.clone())
                .or_insert_with(|| Value::Array(vec![]))
            {
                Value::Array(a) => a.push(Value::String(v.clone())),
                other => *other = json!([v]),
            }
        }
        Ok(Refill {
            status,
            at: at.to_owned(),
            form: json!({
                "name": name,
                "key": key,
                "values": values,
                "errors": errors,
                "message": message,
                "stale": stale,
            }),
        })
    }

    /// A confirmation page (no JavaScript): what will happen, an optional or required
    /// reason, a way back, and the destructive button standing apart.
    pub fn confirm(&self, c: &Confirm, refill: Option<Refill>) -> HttpResponse {
        let mut data = self.base(c.heading_key);
        if let Some(o) = data.as_object_mut() {
            o.insert(
                "confirm".into(),
                json!({
                    "heading": self.t(c.heading_key),
                    "intro": c.intro,
                    "consequences": c.consequences,
                    "action": c.action,
                    "back": c.back,
                    "button": self.t(c.button_key),
                    "reason": match c.reason {
                        Reason::None => Value::Null,
                        Reason::Optional(hint) => json!({"required": false, "hint": self.t(hint)}),
                        Reason::Required(hint) => json!({"required": true, "hint": self.t(hint)}),
                    },
                    "hidden": c.hidden.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
                }),
            );
        }
        self.show("confirm", data, refill)
    }
}

/// Whether a confirmation asks why.
#[derive(Debug, Clone, Copy)]
pub enum Reason {
    None,
    /// Asked, not required; the message key of the hint under the field.
    Optional(&'static str),
    /// Required (the record keeps it); the message key of the hint.
    Required(&'static str),
}

/// What a confirmation page says and where its form goes. The form posts `confirmed=yes`
/// (and `reason`) to `action`; handlers of destructive actions send a POST without it to
/// their confirmation page instead of acting.
pub struct Confirm {
    pub heading_key: &'static str,
    /// One sentence naming what will happen, in the user's language.
    pub intro: String,
    /// What follows from it (shares that end, a return that stops), each in the user's
    /// language; may be empty.
    pub consequences: Vec<String>,
    pub action: String,
    /// The page to go back to without doing anything.
    pub back: String,
    pub button_key: &'static str,
    pub reason: Reason,
    /// Other fields the action needs (e.g. `active=false`).
    pub hidden: Vec<(&'static str, String)>,
}

impl Page {
    /// "Field — what is wrong", both in the user's language where a translation exists.
    /// A message from the core, in the user's language where a translation exists.
    pub fn translate(&self, english: &str) -> String {
        // A date in the message is an argument (`$date`), not part of its key.
        let (shape, date) = crate::words::date_out(english);
        let key = message_key(&shape);
        let mut args = fluent_bundle::FluentArgs::new();
        if let Some(d) = date {
            args.set("date", d);
        }
        let msg = self.state.i18n.t(self.lang, &key, Some(&args));
        if msg != key {
            return msg;
        }
        // "unknown value 'x'; expected one of: a, b": the choices are ids, not words; the
        // value sent is said back.
        if let Some((value, _)) = english
            .strip_prefix("unknown value '")
            .and_then(|r| r.split_once("';"))
        {
            return self
                .state
                .i18n
                .t1(self.lang, "msg-unknown-value", "value", value.to_owned());
        }
        if english.starts_with("unknown service;") || english.starts_with("must be one of: ") {
            return self.t("msg-unknown-choice");
        }
        // "fixed words: values" — translate the words, keep the values (ids, dates).
        if let Some((head, tail)) = english.split_once(": ") {
            let hkey = message_key(head);
            let h = self.state.i18n.t(self.lang, &hkey, None);
            if h != hkey {
                return format!("{h}{}{tail}", self.t("colon"));
            }
        }
        english.to_owned()
    }

    pub fn invalid_detail(&self, i: &passerelle_core::domain::Invalid) -> String {
        let msg = self.translate(&i.message);
        let fkey = format!("field-{}", i.field);
        let field = self.t(&fkey);
        // Every field the code names has a label (a test checks it); an unknown one is
        // at least not shown as an identifier.
        let field = if field == fkey {
            i.field.replace('_', " ")
        } else {
            field
        };
        format!("{field} — {msg}")
    }
}

/// A conflict that is a stale version (someone else saved first), as the core's use cases
/// word it ("this case was changed by someone else since you opened it ...").
fn is_stale(message: &str) -> bool {
    message.contains("changed by someone else")
}

/// Core messages are translated by a key derived from the English text
/// (`msg-` and the words joined by dashes); a message without a translation is shown as is.
pub fn message_key(message: &str) -> String {
    let words: String = message
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-");
    format!("msg-{words}")
}

impl FromRequest for Page {
    type Error = PageError;
    type Future = BoxFut<Result<Self, Self::Error>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state_of(&req).map_err(|_| PageError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                body: "application state missing".into(),
                location: None,
                cookies: vec![],
            })?;
            let lang = state.lang(&req);
            let flash = req
                .cookie(FLASH_COOKIE)
                .map(|c| c.value().to_owned())
                .filter(|v| !v.is_empty());
            let had_cookie = req.cookie(state.session_cookie_name()).is_some();
            let session = match session_of(&req).await {
                Ok(s) => s,
                Err(e) => {
                    let p = Page {
                        state,
                        lang,
                        session: None,
                        path: path_and_query(&req),
                        flash,
                        stale_session: had_cookie,
                        unread: 0,
                    };
                    return Err(p.service_error(e.0));
                }
            };
            // A session that must enrol a second factor opens only the enrolment.
            if session.as_ref().is_some_and(|s| s.two_factor_missing) && !enrolment_path(req.path())
            {
                return Err(PageError::redirect("/account/two-factor"));
            }
            // The header's count of unread notifications, on pages (not on form posts,
            // which answer with a redirect or the page again).
            let unread = match &session {
                Some(s) if req.method() == actix_web::http::Method::GET => {
                    state.services.unread_count(&s.actor).await.unwrap_or(0)
                }
                _ => 0,
            };
            Ok(Page {
                state,
                lang,
                stale_session: had_cookie && session.is_none(),
                session,
                path: path_and_query(&req),
                flash,
                unread,
            })
        })
    }
}

/// A form with repeated or dynamic keys (checkbox groups, interview answers).
#[derive(serde::Deserialize, Debug, Clone, Default)]
#[serde(transparent)]
pub struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// A field as text; empty when absent (the use case says it is required).
    pub fn text(&self, key: &str) -> String {
        self.get(key).unwrap_or("").to_owned()
    }
    /// An optional field.
    pub fn opt(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_owned)
    }
    /// A checkbox: ticked when sent as "on" (or true/1/yes).
    pub fn checked(&self, key: &str) -> bool {
        matches!(self.get(key), Some("on" | "true" | "1" | "yes"))
    }
    /// A whole number the page's form sends (an organisation's id, a version): a value
    /// that is not one is an error beside its field. Absent or empty is None.
    pub fn number(&self, field: &'static str) -> Result<Option<i64>, ServiceError> {
        match self.get(field).map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
                ServiceError::Invalid(passerelle_core::domain::Invalid::new(
                    field,
                    "must be a number",
                ))
            }),
        }
    }
    /// A whole number that is required.
    pub fn required_number(&self, field: &'static str) -> Result<i64, ServiceError> {
        self.number(field)?.ok_or_else(|| {
            ServiceError::Invalid(passerelle_core::domain::Invalid::new(field, "is required"))
        })
    }
    /// The action was confirmed on its confirmation page.
    pub fn confirmed(&self) -> bool {
        self.checked("confirmed")
    }
}

impl HasCsrf for Pairs {
    fn csrf(&self) -> &str {
        self.get("_csrf").unwrap_or("")
    }
}

/// A page that needs a signed-in user: redirects to the sign-in page otherwise (with the
/// page to come back to, and a notice, when the session had expired).
pub struct Signed {
    pub page: Page,
    pub session: CurrentSession,
}

impl Signed {
    pub fn actor(&self) -> &Actor {
        &self.session.actor
    }
    pub fn services(&self) -> &Services {
        &self.page.state.services
    }
}

/// The sign-in page, coming back to `next` afterwards; `expired` says why the user is
/// there ("1": the session had expired; "form": it expired before a form was sent).
pub fn login_url(next: Option<&str>, expired: Option<&str>) -> String {
    let mut url = "/login".to_owned();
    let mut sep = '?';
    if let Some(n) = next.map(|n| local_path(Some(n))).filter(|n| n != "/") {
        url.push_str(&format!("{sep}next={}", percent_encode(&n)));
        sep = '&';
    }
    if let Some(e) = expired {
        url.push_str(&format!("{sep}expired={e}"));
    }
    url
}

impl FromRequest for Signed {
    type Error = PageError;
    type Future = BoxFut<Result<Self, Self::Error>>;
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = Page::from_request(req, payload);
        let get = req.method() == actix_web::http::Method::GET;
        Box::pin(async move {
            let page = fut.await?;
            match page.session.clone() {
                Some(session) => Ok(Signed { page, session }),
                // A fresh visit signs in and lands on the caseload; an expired session
                // comes back to the page it was on.
                None if get && page.stale_session => {
                    Err(PageError::redirect(&login_url(Some(&page.path), Some("1"))))
                }
                None if get => Err(PageError::redirect("/login")),
                None => Err(PageError::redirect(&login_url(None, Some("form")))),
            }
        })
    }
}

/// Forms carry the session's CSRF token in a hidden `_csrf` field.
pub trait HasCsrf {
    fn csrf(&self) -> &str;
}

/// A form posted by a signed-in user, with its CSRF token checked. Besides the typed
/// `form`, it keeps what was sent (`sent`, to give it back with the errors: see
/// [`SignedForm::refill`]) and the page the form was on (`back`, from the hidden `_back`
/// field every form carries; see the `csrf` partial).
///
/// When the session has expired, nothing is done: the browser goes to the sign-in page,
/// which says so and comes back to `back` afterwards. What was typed is not kept: it may
/// be personal data, which never goes into a cookie or a URL.
pub struct SignedForm<T> {
    pub signed: Signed,
    pub form: T,
    pub sent: Pairs,
    pub back: String,
}

impl<T> SignedForm<T> {
    /// This form's failure as a refill of its page (see [`Page::refill`]).
    pub fn refill(&self, name: &str, e: ServiceError) -> Result<Refill, PageError> {
        self.signed
            .page
            .refill(name, None, &self.back, &self.sent, e)
    }

    /// The same, for one of several forms of the same kind on a page (one per record):
    /// `key` is the record's id, given to the template helpers as `key=`.
    pub fn refill_for(&self, name: &str, key: &str, e: ServiceError) -> Result<Refill, PageError> {
        self.signed
            .page
            .refill(name, Some(key), &self.back, &self.sent, e)
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for SignedForm<T> {
    type Error = PageError;
    type Future = BoxFut<Result<Self, Self::Error>>;
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let page = Page::from_request(req, payload);
        let urlencoded = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .starts_with("application/x-www-form-urlencoded")
            });
        let body = web::Bytes::from_request(req, payload);
        let fallback = req.path().to_owned();
        Box::pin(async move {
            let page = page.await?;
            let bytes = match body.await {
                Ok(b) => b,
                Err(e) if page.session.is_some() => {
                    return Err(page.fail(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "error-bad-form",
                        e.to_string(),
                    ));
                }
                Err(_) => web::Bytes::new(),
            };
            let sent: Pairs = if urlencoded {
                serde_urlencoded::from_bytes(&bytes).unwrap_or_default()
            } else {
                Pairs::default()
            };
            let back = sent
                .get("_back")
                .map(|b| local_path(Some(b)))
                .filter(|b| b != "/")
                .unwrap_or(fallback);
            let Some(session) = page.session.clone() else {
                return Err(PageError::redirect(&login_url(Some(&back), Some("form"))));
            };
            let signed = Signed { page, session };
            if !urlencoded {
                return Err(signed.page.fail(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "error-bad-form",
                    signed.page.t("error-bad-form-type"),
                ));
            }
            if !constant_eq(sent.csrf(), &signed.session.csrf_token) {
                return Err(signed.page.fail(
                    StatusCode::FORBIDDEN,
                    "error-csrf",
                    signed.page.t("error-csrf-detail"),
                ));
            }
            let form = match serde_urlencoded::from_bytes::<T>(&bytes) {
                Ok(f) => f,
                Err(e) => {
                    return Err(signed.page.fail(
                        StatusCode::BAD_REQUEST,
                        "error-bad-form",
                        e.to_string(),
                    ));
                }
            };
            Ok(SignedForm {
                signed,
                form,
                sent,
                back,
            })
        })
    }
}

pub fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Accept only local redirect targets ("/..." but not "//...").
pub fn local_path(p: Option<&str>) -> String {
    match p {
        Some(p)
            if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && p.len() < 300 =>
        {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The path and query of a GET page (for the language switch to come back to it);
/// other methods come back to the path alone.
fn path_and_query(req: &HttpRequest) -> String {
    if req.method() == actix_web::http::Method::GET {
        req.uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| req.path().to_owned())
    } else {
        req.path().to_owned()
    }
}

/// Percent-encode everything but unreserved characters and '/'.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The route pattern of a request, for the audit log ("GET /cases/{reference}").
pub fn route(req: &HttpRequest) -> String {
    format!(
        "{} {}",
        req.method(),
        req.match_pattern().unwrap_or_else(|| "?".into())
    )
}

/// 201 Created: the created resource, and where it lives (`Location`).
pub fn created<T: serde::Serialize>(location: &str, v: &T) -> HttpResponse {
    HttpResponse::build(StatusCode::CREATED)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::LOCATION, location.to_owned()))
        .json(v)
}

/// 204 No Content (never cached).
pub fn no_content() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// `?page=&per_page=` of a list. Out of range is a 400 naming the parameter, never a
/// silent change (docs/api.md).
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// From 1; default 1.
    pub page: Option<u64>,
    /// From 1 to 200; default 50.
    pub per_page: Option<u64>,
}

impl PageParams {
    pub fn paging(&self) -> Result<passerelle_core::domain::Paging, ApiError> {
        passerelle_core::domain::Paging::parse(self.page, self.per_page)
            .map_err(|e| ApiError(ServiceError::BadRequest(e)))
    }
}

/// A JSON answer carrying case data: never cached.
pub fn ok<T: serde::Serialize>(status: StatusCode, v: &T) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(v)
}
