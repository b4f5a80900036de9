//! Start-up: open (and migrate) the store, load the key, build the services, bind the server.

use crate::config::Settings;
use crate::http::{AppState, error_json};
use crate::i18n::I18n;
use crate::render::Renderer;
use actix_web::dev::{Server, Service};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{Compress, DefaultHeaders};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, error, web};
use passerelle_core::Services;
use passerelle_core::crypto::KeyRing;
use passerelle_core::service::AuthPolicy;
use passerelle_migrations::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use std::net::TcpListener;
use std::sync::Arc;

/// Open the database named by the settings and bring its schema up to date.
pub async fn open_store(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let url = settings.database_url()?;
    let db = passerelle_core::store::connect(&url, settings.database.max_connections)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
    Migrator::up(&db, None)
        .await
        .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
    Ok(db)
}

pub fn load_keys(settings: &Settings) -> anyhow::Result<KeyRing> {
    if settings.security.key.expose_secret().trim().is_empty() {
        Ok(KeyRing::load_or_create(&settings.key_path())?)
    } else {
        Ok(KeyRing::from_hex(&settings.security.key)?)
    }
}

pub fn auth_policy(settings: &Settings) -> anyhow::Result<AuthPolicy> {
    let s = &settings.security;
    let mut two_factor_roles = Vec::new();
    for r in s
        .two_factor_roles
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        two_factor_roles.push(passerelle_core::domain::Role::parse(r).map_err(|_| {
            anyhow::anyhow!("configuration: security.two_factor_roles: {r:?} is not a role")
        })?);
    }
    Ok(AuthPolicy {
        two_factor_roles,
        idle_timeout: chrono::Duration::minutes(s.idle_timeout_minutes),
        absolute_timeout: chrono::Duration::hours(s.absolute_timeout_hours),
        max_failures: s.max_login_failures,
        failure_window: chrono::Duration::minutes(s.failure_window_minutes),
        lockout: chrono::Duration::minutes(s.lockout_minutes),
    })
}

/// The services with the plugin registry as adapters, when plugins are configured.
pub async fn build_services_with_plugins(
    settings: &Settings,
    demo: bool,
) -> anyhow::Result<(Services, Option<Arc<crate::plugins::PluginAdapters>>)> {
    let mut services = build_services(settings).await?;
    if demo {
        // The demo's accounts share a published password and a newcomer tries them in
        // turn: no role is made to enrol a second factor there (any account may).
        services.auth_policy.two_factor_roles.clear();
    }
    let plugins = crate::plugins::load(settings, demo)?;
    Ok(match plugins {
        Some(p) => (services.with_adapters(p.clone()), Some(p)),
        None => (services, None),
    })
}

pub async fn build_services(settings: &Settings) -> anyhow::Result<Services> {
    let db = open_store(settings).await?;
    let keys = Arc::new(load_keys(settings)?);
    if settings.workflow.referral_answer_days < 1 {
        anyhow::bail!("configuration: workflow.referral_answer_days must be at least 1");
    }
    // The embedded reintegration set must parse (a build defect otherwise): say so now.
    passerelle_core::follow_up::default_config().map_err(|e| {
        anyhow::anyhow!("config/reintegration/rss.toml: {}: {}", e.field, e.message)
    })?;
    let mut services = Services::new(db, keys, auth_policy(settings)?);
    services
        .load_data_keys()
        .await
        .map_err(|e| anyhow::anyhow!("the data keys: {e}"))?;
    services.referral_answer_days = settings.workflow.referral_answer_days;
    services.retention_days =
        passerelle_core::erasure::check_retention_days(settings.retention.erase_after_days)
            .map_err(|e| anyhow::anyhow!("[retention] {}: {}", e.field, e.message))?;
    Ok(services)
}

pub struct Application {
    pub port: u16,
    pub server: Server,
    /// This node's mail worker, when mail is on.
    pub mail_worker: Option<tokio::task::JoinHandle<()>>,
    /// This node's key worker (reloads the data keys, runs the re-encryption job).
    pub key_worker: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Bind and build the server (not yet running: await `server`).
    pub fn build(settings: &Settings, services: Services, demo: bool) -> anyhow::Result<Self> {
        Self::build_with_plugins(settings, services, demo, None)
    }

    pub fn build_with_plugins(
        settings: &Settings,
        services: Services,
        demo: bool,
        plugins: Option<Arc<crate::plugins::PluginAdapters>>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.server.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.server.bind))?;
        let port = listener.local_addr()?.port();
        let i18n = Arc::new(I18n::load(&settings.ui.default_language)?);
        let render = Renderer::new(i18n.clone(), &settings.ui.templates_dir)?;
        let state = web::Data::new(AppState {
            services,
            render,
            i18n,
            secure_cookies: settings.secure_cookies(),
            demo,
            plugins,
            limits: crate::limits::RateLimits::new(&settings.limits)?,
        });
        let mut mail = settings.mail.clone();
        if demo && mail.transport == "off" {
            // The demo's mail goes to files a newcomer can open.
            mail.transport = "file".into();
        }
        let mail_worker =
            crate::mail::spawn_worker(state.clone(), mail, &settings.server.data_dir)?;
        let key_worker = spawn_key_worker(state.clone());
        let limit = settings.server.max_body_bytes;
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::JsonConfig::default().limit(limit).error_handler(json_error))
                .app_data(web::FormConfig::default().limit(limit).error_handler(form_error))
                .app_data(web::PathConfig::default().error_handler(path_error))
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .app_data(web::PayloadConfig::default().limit(limit))
                // Inside the headers below, so that its refusals carry them too.
                .wrap(actix_web::middleware::from_fn(crate::limits::middleware))
                .wrap(
                    DefaultHeaders::new()
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                        .add((header::X_FRAME_OPTIONS, "DENY"))
                        .add((header::REFERRER_POLICY, "no-referrer"))
                        .add((
                            header::CONTENT_SECURITY_POLICY,
                            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                        )),
                )
                .wrap_fn(|req, srv| {
                    // Log the route pattern, never the concrete URL or its query string.
                    let method = req.method().clone();
                    let pattern = req.match_pattern().unwrap_or_else(|| "(unmatched)".into());
                    let started = std::time::Instant::now();
                    let fut = srv.call(req);
                    async move {
                        let res = fut.await;
                        if let Ok(r) = &res {
                            tracing::info!(
                                %method,
                                route = %pattern,
                                status = r.status().as_u16(),
                                ms = started.elapsed().as_secs_f64() * 1000.0,
                                "request"
                            );
                        }
                        res
                    }
                })
                // Outermost: pages and API answers are sent gzip-compressed to clients that
                // accept it (3 to 13 times smaller on a slow link).
                .wrap(Compress::default())
                .configure(crate::routes::configure)
                .default_service(web::to(not_found))
        })
        .listen(listener)?;
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        Ok(Self {
            port,
            server: server.run(),
            mail_worker,
            key_worker,
        })
    }
}

/// This process's name in the leases it takes (the mail outbox, the re-encryption job).
pub(crate) fn node_id() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        passerelle_core::crypto::random_token(6).unwrap_or_default()
    )
}

/// Every [`passerelle_core::keys::RELOAD_EVERY`]: load the data keys other nodes made,
/// retired or destroyed, then take a share of a running re-encryption job (batches until
/// it is done, waiting, or held by another node).
fn spawn_key_worker(state: web::Data<AppState>) -> tokio::task::JoinHandle<()> {
    use passerelle_core::service::keys::Step;
    let node = format!("node-{}", node_id());
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(passerelle_core::keys::RELOAD_EVERY).await;
            let s = &state.services;
            if let Err(e) = s.reload_data_keys().await {
                tracing::warn!(error = %e, "data keys not reloaded");
                continue;
            }
            loop {
                let t = std::time::Instant::now();
                match s.reencrypt_step(&node, 200).await {
                    // As long again without the write lock: the users' writes (and on
                    // SQLite, every other writer) get their turn between batches.
                    Ok(Step::Progress(j)) if j.state != "done" => {
                        tokio::time::sleep(t.elapsed().max(std::time::Duration::from_millis(20)))
                            .await
                    }
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "re-encryption step");
                        break;
                    }
                }
            }
        }
    })
}

async fn not_found(req: HttpRequest, page: crate::http::Page) -> HttpResponse {
    if req.path().starts_with("/api/") {
        return error_json(StatusCode::NOT_FOUND, "not_found", "no such endpoint", None);
    }
    let e = page.fail(
        StatusCode::NOT_FOUND,
        "error-not-found",
        page.t("error-no-such-page"),
    );
    actix_web::ResponseError::error_response(&e)
}

fn wants_json(req: &HttpRequest) -> bool {
    req.path().starts_with("/api/")
}

fn client_error(
    req: &HttpRequest,
    status: StatusCode,
    kind: &str,
    message: String,
) -> error::Error {
    let resp = if wants_json(req) {
        error_json(status, kind, &message, None)
    } else {
        HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(message.clone())
    };
    error::InternalError::from_response(message, resp).into()
}

fn json_error(err: error::JsonPayloadError, req: &HttpRequest) -> error::Error {
    use error::JsonPayloadError as J;
    let (status, msg) = match &err {
        J::OverflowKnownLength { length, limit } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is {length} bytes; the limit is {limit}"),
        ),
        J::Overflow { limit } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than the limit of {limit} bytes"),
        ),
        J::ContentType => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as JSON with Content-Type: application/json".to_owned(),
        ),
        J::Deserialize(e) => (
            StatusCode::BAD_REQUEST,
            format!("the JSON body is not what this endpoint takes: {e}"),
        ),
        other => (
            StatusCode::BAD_REQUEST,
            format!("the JSON body could not be read: {other}"),
        ),
    };
    client_error(req, status, "bad_request", msg)
}

fn form_error(err: error::UrlencodedError, req: &HttpRequest) -> error::Error {
    use error::UrlencodedError as U;
    let (status, msg) = match &err {
        U::Overflow { size, limit } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the form is {size} bytes; the limit is {limit}"),
        ),
        U::ContentType => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the form as application/x-www-form-urlencoded".to_owned(),
        ),
        other => (
            StatusCode::BAD_REQUEST,
            format!("the form could not be read: {other}"),
        ),
    };
    client_error(req, status, "bad_request", msg)
}

fn path_error(err: error::PathError, req: &HttpRequest) -> error::Error {
    client_error(
        req,
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no such resource: {err}"),
    )
}

fn query_error(err: error::QueryPayloadError, req: &HttpRequest) -> error::Error {
    client_error(
        req,
        StatusCode::BAD_REQUEST,
        "bad_request",
        format!("the query string is not valid: {err}"),
    )
}
