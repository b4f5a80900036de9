//! Administration pages: organisations (system administrator), users (organisation and
//! system administrators), and one's own account.

use crate::http::{HasCsrf, PageError, Signed, SignedForm, see_other};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use passerelle_core::domain::{OrgKind, Role};
use passerelle_core::service::admin::{NewOrg, NewUser};
use serde::Deserialize;
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/organisations", web::get().to(orgs))
        .route("/admin/organisations", web::post().to(create_org))
        .route("/admin/users", web::get().to(users))
        .route("/admin/users", web::post().to(create_user))
        .route("/admin/users/{id}", web::post().to(update_user))
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
    if s.actor().role != Role::SystemAdmin {
        return Err(forbid(&s));
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
    Ok(s.page.ok("admin_orgs", data))
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
    s.services()
        .create_org(
            Some(s.actor()),
            NewOrg {
                name: &f.form.name,
                kind: &f.form.kind,
                country: &f.form.country,
            },
        )
        .await
        .map_err(|e| s.page.service_error(e))?;
    Ok(see_other("/admin/organisations"))
}

async fn users(s: Signed) -> Result<HttpResponse, PageError> {
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
        .filter(|r| s.actor().role == Role::SystemAdmin || **r != Role::SystemAdmin)
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
        o.insert(
            "orgs".into(),
            json!(
                orgs.iter()
                    .map(|x| json!({"id": x.id, "name": x.name}))
                    .collect::<Vec<_>>()
            ),
        );
    }
    Ok(s.page.ok("admin_users", data))
}

#[derive(Deserialize)]
struct UserForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    org_id: Option<String>,
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
    let org_id = match f.form.org_id.as_deref().map(str::trim) {
        None | Some("") => s.actor().org_id,
        Some(v) => v.parse::<i64>().map_err(|_| {
            s.page.fail(
                StatusCode::BAD_REQUEST,
                "error-invalid",
                s.page
                    .invalid_detail(&passerelle_core::domain::Invalid::new(
                        "org_id",
                        "must be a number",
                    )),
            )
        })?,
    };
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
        .map_err(|e| s.page.service_error(e))?;
    Ok(see_other("/admin/users"))
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

async fn update_user(
    f: SignedForm<UserUpdateForm>,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let s = &f.signed;
    let active = match f.form.active.as_deref() {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            return Err(s.page.fail(
                StatusCode::BAD_REQUEST,
                "error-invalid",
                s.page
                    .invalid_detail(&passerelle_core::domain::Invalid::new(
                        "active",
                        "must be true or false",
                    )),
            ));
        }
    };
    let role = f.form.role.as_deref().filter(|r| !r.is_empty());
    s.services()
        .update_user(s.actor(), *id, role, active)
        .await
        .map_err(|e| s.page.service_error(e))?;
    Ok(see_other("/admin/users"))
}

async fn account(s: Signed) -> Result<HttpResponse, PageError> {
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
    Ok(s.page.ok("account", data))
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
    s.services()
        .update_self(s.actor(), name, pw)
        .await
        .map_err(|e| s.page.service_error(e))?;
    Ok(see_other("/account"))
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
    Ok(see_other("/admin/plugins"))
}
