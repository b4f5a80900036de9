//! Administration pages: organisations (system administrator), users (organisation and
//! system administrators), and one's own account.

use crate::http::{Confirm, HasCsrf, PageError, Reason, Refill, Signed, SignedForm, see_other};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use passerelle_core::ServiceError;
use passerelle_core::domain::{OrgKind, Role};
use passerelle_core::service::admin::{NewOrg, NewUser};
use serde::Deserialize;
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/organisations", web::get().to(orgs))
        .route("/admin/organisations", web::post().to(create_org))
        .route("/admin/organisations/{id}", web::post().to(update_org))
        .route(
            "/admin/organisations/{id}/two-factor",
            web::post().to(update_org_two_factor),
        )
        .route("/admin/users", web::get().to(users))
        .route("/admin/users", web::post().to(create_user))
        .route("/admin/users/reauth", web::post().to(reauth))
        .route("/admin/users/{id}", web::post().to(update_user))
        .route("/admin/users/{id}/disable", web::get().to(disable_confirm))
        .route("/admin/plugins", web::get().to(plugins_page))
        .route("/admin/plugins/reload", web::post().to(reload_plugins))
        .route("/account", web::get().to(account))
        .route("/account", web::post().to(update_account));
}

fn forbid(s: &Signed) -> PageError {
    s.page.fail(
        StatusCode::FORBIDDEN,
        "error-forbidden",
        s.page.t("error-admin-only"),
    )
}

async fn orgs(s: Signed) -> Result<HttpResponse, PageError> {
    orgs_page(&s, None).await
}

async fn orgs_page(s: &Signed, refill: Option<Refill>) -> Result<HttpResponse, PageError> {
    if s.actor().role != Role::SystemAdmin {
        return Err(forbid(s));
    }
    let list = s
        .services()
        .list_orgs()
        .await
        .map_err(|e| s.page.service_error(e))?;
    let mut data = s.page.base("orgs-title");
    if let Some(o) = data.as_object_mut() {
        o.insert(
            "orgs".into(),
            json!(list
                .iter()
                .map(|x| json!({"id": x.id, "name": x.name, "kind": s.page.t(&format!("kind-{}", x.kind.as_str())), "country": x.country, "active": x.active}))
                .collect::<Vec<_>>()),
        );
        o.insert(
            "kinds".into(),
            json!(OrgKind::ALL
                .iter()
                .map(|k| json!({"value": k.as_str(), "label": s.page.t(&format!("kind-{}", k.as_str()))}))
                .collect::<Vec<_>>()),
        );
    }
    Ok(s.page.show("admin_orgs", data, refill))
}

#[derive(Deserialize)]
struct OrgForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    country: String,
}

impl HasCsrf for OrgForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn create_org(f: SignedForm<OrgForm>) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    match s
        .services()
        .create_org(
            Some(s.actor()),
            NewOrg {
                name: &f.form.name,
                kind: &f.form.kind,
                country: &f.form.country,
            },
        )
        .await
    {
        Ok(_) => Ok(s.page.done("/admin/organisations", "flash-org-created")),
        Err(e) => orgs_page(s, Some(f.refill("org", e)?)).await,
    }
}

async fn users(s: Signed) -> Result<HttpResponse, PageError> {
    users_page(&s, None).await
}

/// The users an administrator manages, and the form to add one; after a failed POST,
/// with what was typed (never the password) and what is wrong.
async fn users_page(s: &Signed, refill: Option<Refill>) -> Result<HttpResponse, PageError> {
    let list = s
        .services()
        .list_users(s.actor())
        .await
        .map_err(|e| s.page.service_error(e))?;
    let orgs = if s.actor().role == Role::SystemAdmin {
        s.services()
            .list_orgs()
            .await
            .map_err(|e| s.page.service_error(e))?
    } else {
        vec![
            s.services()
                .org(s.actor().org_id)
                .await
                .map_err(|e| s.page.service_error(e))?,
        ]
    };
    let roles: Vec<_> = Role::ALL
        .iter()
        .filter(|r| s.actor().role == Role::SystemAdmin || !r.is_system_wide())
        .map(|r| json!({"value": r.as_str(), "label": s.page.t(&format!("role-{}", r.as_str()))}))
        .collect();
    let me = s.actor().user_id;
    let mut data = s.page.base("users-title");
    if let Some(o) = data.as_object_mut() {
        o.insert(
            "users".into(),
            json!(list
                .iter()
                .map(|u| json!({
                    "id": u.id, "email": u.email, "name": u.display_name, "org": u.org_name,
                    "role": s.page.t(&format!("role-{}", u.role.as_str())), "role_value": u.role.as_str(),
                    "active": u.active, "is_me": u.id == me,
                }))
                .collect::<Vec<_>>()),
        );
        o.insert("roles".into(), json!(roles));
        // With a second factor, roles change only after the password and a code again.
        let two_factor = s
            .services()
            .two_factor_status(s.actor())
            .await
            .map_err(|e| s.page.service_error(e))?;
        if two_factor.enabled {
            let until = s
                .services()
                .reauthenticated_until(s.session.session_id)
                .await
                .map_err(|e| s.page.service_error(e))?;
            o.insert(
                "reauth".into(),
                json!({"until": until.map(|u| crate::words::time(&u.to_rfc3339()))}),
            );
        }
        // An organisation's administrator decides whether its cases are counted in the
        // k-anonymised statistics export.
        let own = orgs
            .iter()
            .find(|x| x.id == s.actor().org_id)
            .filter(|_| s.actor().role == Role::OrgAdmin)
            .map(|x| {
                json!({"id": x.id, "name": x.name, "statistics_opt_in": x.statistics_opt_in,
                "require_two_factor": x.require_two_factor,
                "state_authority": x.kind == OrgKind::StateAuthority})
            });
        o.insert("own_org".into(), json!(own));
        o.insert(
            "orgs".into(),
            json!(
                orgs.iter()
                    .map(|x| json!({"id": x.id, "name": x.name}))
                    .collect::<Vec<_>>()
            ),
        );
    }
    Ok(s.page.show("admin_users", data, refill))
}

#[derive(Deserialize)]
struct UserForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

impl HasCsrf for UserForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn create_user(f: SignedForm<UserForm>) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let outcome = async {
        let org_id = f.sent.number("org_id")?.unwrap_or(s.actor().org_id);
        s.services()
            .create_user(
                Some(s.actor()),
                NewUser {
                    org_id,
                    email: &f.form.email,
                    display_name: &f.form.display_name,
                    role: &f.form.role,
                    password: &f.form.password,
                },
            )
            .await
    }
    .await;
    match outcome {
        Ok(_) => Ok(s.page.done("/admin/users", "flash-user-created")),
        Err(e) => users_page(s, Some(f.refill("user", e)?)).await,
    }
}

/// The organisation's choices its administrator makes: whether its cases are counted in the
/// k-anonymised statistics export.
async fn update_org(
    f: SignedForm<crate::http::Pairs>,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    match s
        .services()
        .set_statistics_opt_in(s.actor(), *id, f.sent.checked("statistics_opt_in"))
        .await
    {
        Ok(_) => Ok(s
            .page
            .done("/admin/users#statistics-form", "flash-org-statistics-saved")),
        Err(e) => users_page(s, Some(f.refill("statistics", e)?)).await,
    }
}

/// Require a second factor of every user of the organisation (its administrator).
async fn update_org_two_factor(
    f: SignedForm<crate::http::Pairs>,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    match s
        .services()
        .set_require_two_factor(s.actor(), *id, f.sent.checked("require_two_factor"))
        .await
    {
        Ok(_) => Ok(s
            .page
            .done("/admin/users#two-factor-form", "flash-org-two-factor-saved")),
        Err(e) => users_page(s, Some(f.refill("two_factor", e)?)).await,
    }
}

#[derive(Deserialize)]
struct UserUpdateForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    role: Option<String>,
    active: Option<String>,
}

impl HasCsrf for UserUpdateForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Ask before disabling a user: they can no longer sign in, and their sessions end.
async fn disable_confirm(s: Signed, id: web::Path<i64>) -> Result<HttpResponse, PageError> {
    disable_page(&s, *id, None).await
}

async fn disable_page(
    s: &Signed,
    id: i64,
    refill: Option<Refill>,
) -> Result<HttpResponse, PageError> {
    let u = s
        .services()
        .list_users(s.actor())
        .await
        .map_err(|e| s.page.service_error(e))?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or_else(|| s.page.service_error(ServiceError::NotFound("user")))?;
    let p = &s.page;
    let c = Confirm {
        heading_key: "confirm-disable-title",
        intro: p.t_args(
            "confirm-disable-intro",
            &[
                ("name", json!(u.display_name)),
                ("email", json!(u.email)),
                ("org", json!(u.org_name)),
            ],
        ),
        consequences: vec![p.t("confirm-disable-sessions"), p.t("confirm-disable-kept")],
        action: format!("/admin/users/{id}"),
        back: "/admin/users".into(),
        button_key: "confirm-disable-button",
        reason: Reason::None,
        hidden: vec![("active", "false".into())],
    };
    Ok(p.confirm(&c, refill))
}

async fn update_user(
    f: SignedForm<UserUpdateForm>,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let id = *id;
    let active = match f.form.active.as_deref() {
        None | Some("") => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ServiceError::Invalid(
            passerelle_core::domain::Invalid::new("active", "must be true or false"),
        )),
    };
    // Disabling someone is asked for on its own page first.
    if matches!(active, Ok(Some(false))) && !f.sent.confirmed() {
        return Ok(see_other(&format!("/admin/users/{id}/disable")));
    }
    let role = f.form.role.as_deref().filter(|r| !r.is_empty());
    let outcome = match active {
        Ok(active) => s
            .services()
            .update_user(s.actor(), s.session.session_id, id, role, active)
            .await
            .map(|_| active),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(Some(false)) => Ok(s.page.done("/admin/users", "flash-user-disabled")),
        Ok(Some(true)) => Ok(s.page.done("/admin/users", "flash-user-enabled")),
        Ok(None) => Ok(s.page.done("/admin/users", "flash-user-role-changed")),
        Err(e) if f.sent.confirmed() => disable_page(s, id, Some(f.refill("confirm", e)?)).await,
        Err(e) => users_page(s, Some(f.refill_for("role", &id.to_string(), e)?)).await,
    }
}

async fn account(s: Signed) -> Result<HttpResponse, PageError> {
    account_page(&s, None).await
}

async fn account_page(s: &Signed, refill: Option<Refill>) -> Result<HttpResponse, PageError> {
    let org = s
        .services()
        .org(s.actor().org_id)
        .await
        .map_err(|e| s.page.service_error(e))?;
    let mut data = s.page.base("account-title");
    if let Some(o) = data.as_object_mut() {
        o.insert(
            "me".into(),
            json!({
                "email": s.actor().email, "name": s.actor().display_name,
                "role": s.page.t(&format!("role-{}", s.actor().role.as_str())), "org": org.name,
            }),
        );
    }
    Ok(s.page.show("account", data, refill))
}

#[derive(Deserialize)]
struct AccountForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    display_name: Option<String>,
    password: Option<String>,
}

impl HasCsrf for AccountForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Only the display name and the password are self-editable: any other field posted
/// here (role, organisation) is ignored by construction.
async fn update_account(f: SignedForm<AccountForm>) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let name = f
        .form
        .display_name
        .as_deref()
        .filter(|v| !v.trim().is_empty());
    let pw = f.form.password.as_deref().filter(|v| !v.is_empty());
    match s.services().update_self(s.actor(), name, pw).await {
        Ok(_) => Ok(s.page.done("/account", "flash-account-saved")),
        Err(e) => account_page(s, Some(f.refill("account", e)?)).await,
    }
}

/// Loaded plugins, their versions, status and last errors (system administrator).
async fn plugins_page(s: Signed) -> Result<HttpResponse, PageError> {
    if s.actor().role != Role::SystemAdmin {
        return Err(forbid(&s));
    }
    let statuses = s
        .page
        .state
        .plugins
        .as_ref()
        .map(|p| p.registry.statuses())
        .unwrap_or_default();
    let mut data = s.page.base("plugins-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("configured".into(), json!(s.page.state.plugins.is_some()));
        o.insert(
            "plugins".into(),
            json!(
                statuses
                    .iter()
                    .map(|p| json!({
                        "id": p.id, "version": p.version,
                        "world": s.page.t(&format!("plugin-world-{}", p.world)),
                        "serves": p.serves.join(", "),
                        "loaded": p.state == "loaded", "error": p.error,
                        "since": crate::words::time(&p.since),
                        "calls": p.calls, "failures": p.failures,
                        "last_error": p.last_error.as_ref().map(|(m, t)| {
                            format!("{}{}{m}", crate::words::time(t), s.page.t("colon"))
                        }),
                    }))
                    .collect::<Vec<_>>()
            ),
        );
    }
    Ok(s.page.ok("admin_plugins", data))
}

/// Load the plugin directory again; calls in flight finish on the plugins they hold.
async fn reload_plugins(
    f: SignedForm<crate::routes::session::pages::CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    if s.actor().role != Role::SystemAdmin {
        return Err(forbid(s));
    }
    let Some(p) = s.page.state.plugins.clone() else {
        return Err(s.page.fail(
            StatusCode::CONFLICT,
            "error-conflict",
            s.page.t("plugins-none-configured"),
        ));
    };
    let registry = p.registry.clone();
    let result = actix_web::web::block(move || registry.reload())
        .await
        .map_err(|e| {
            s.page.fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error-internal",
                e.to_string(),
            )
        })?;
    if let Err(e) = result {
        return Err(s.page.fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "error-refused",
            e.to_string(),
        ));
    }
    tracing::info!(by = s.actor().user_id, "plugins reloaded");
    Ok(s.page.done("/admin/plugins", "flash-plugins-reloaded"))
}

/// The password and a code again, before changing roles (with a second factor on).
async fn reauth(f: SignedForm<crate::http::Pairs>) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let password = secrecy::SecretString::from(f.sent.text("password"));
    let code = f.sent.text("code");
    match s
        .services()
        .reauthenticate(s.session.session_id, s.actor(), password, Some(&code))
        .await
    {
        Ok(_) => Ok(s
            .page
            .done("/admin/users#reauth", "flash-reauthenticated-roles")),
        Err(e) => users_page(s, Some(f.refill("reauth", e)?)).await,
    }
}
