//! Test support: `spawn_app()` starts the real server on port 0 with a fresh database
//! (a SQLite file in a temporary directory, or a fresh PostgreSQL database when
//! `PASSERELLE_TEST_DATABASE_URL` names a server), and an HTTP client with a cookie jar.

use passerelle::config::Settings;
use passerelle::startup::Application;
use passerelle_core::Services;
use passerelle_core::service::admin::{NewOrg, NewUser};
use reqwest::Client;
use serde_json::{Value, json};
use std::path::PathBuf;

pub mod bench;
pub mod journey;
pub mod process;
pub mod smtp;
pub mod soak;
pub mod webdriver;
pub mod words;

pub const PASSWORD: &str = "correct horse battery";

/// Is an outside program required (CI), so that its absence fails instead of skipping?
pub fn external_required() -> bool {
    std::env::var("PASSERELLE_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1")
}

/// Report a skipped test loudly, or fail when CI requires the outside program.
pub fn skip_or_fail(what: &str) {
    if external_required() {
        panic!("{what} is required (PASSERELLE_REQUIRE_EXTERNAL=1) but not available");
    }
    eprintln!(
        "\n!!! SKIPPED: {what} is not available on this machine; this test did not run !!!\n"
    );
}

pub enum Backend {
    Sqlite,
    Postgres { admin_url: String, db_name: String },
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub services: Services,
    pub settings: Settings,
    pub backend: Backend,
    pub data_dir: PathBuf,
    /// The plugin registry, when the test configured a plugin directory.
    pub plugins: Option<std::sync::Arc<passerelle::plugins::PluginAdapters>>,
    /// This node's mail worker, when the test turned mail on.
    pub mail_worker: Option<tokio::task::JoinHandle<()>>,
    _dir: tempdir::Dir,
}

mod tempdir {
    use std::path::PathBuf;
    /// A temporary directory removed on drop.
    pub struct Dir(pub PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    pub fn new() -> Dir {
        let mut b = [0u8; 8];
        let _ = getrandom::fill(&mut b);
        let p = std::env::temp_dir().join(format!("passerelle-test-{}", hex::encode(b)));
        let _ = std::fs::create_dir_all(&p);
        Dir(p)
    }
}

/// The PostgreSQL server to test against, if any (`PASSERELLE_TEST_DATABASE_URL`).
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("PASSERELLE_TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

/// A PostgreSQL server for tests that always need one (the byte search), whether or not
/// the suite runs on PostgreSQL: the env variable, or the machine's default.
pub fn postgres_for_pg_only_tests() -> String {
    postgres_admin_url().unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

pub async fn create_pg_database(admin_url: &str) -> anyhow::Result<(String, String)> {
    use sea_orm::ConnectionTrait;
    let admin = sea_orm::Database::connect(admin_url).await?;
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("random: {e}"))?;
    let name = format!("pt_{}", hex::encode(b));
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    admin.close().await?;
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(admin_url);
    Ok((format!("{base}/{name}"), name))
}

pub async fn spawn_app() -> TestApp {
    match postgres_admin_url() {
        Some(url) => spawn_app_on(Some(url)).await,
        None => spawn_app_on(None).await,
    }
}

/// Start the app on SQLite (None) or a fresh database on the given PostgreSQL server.
pub async fn spawn_app_on(pg_admin_url: Option<String>) -> TestApp {
    spawn_app_with(pg_admin_url, |_| {}).await
}

/// Start the app with settings adjusted by `tweak` (e.g. short session timeouts).
pub async fn spawn_app_with(
    pg_admin_url: Option<String>,
    tweak: impl FnOnce(&mut Settings),
) -> TestApp {
    spawn_app_as(pg_admin_url, tweak, false).await
}

/// The demo as `serve --demo` runs it: the demo world seeded (`passerelle::demo::seed`),
/// the demo banner on, and the demo plugins (the French jurisdiction, the IOM-style
/// partner for "Retour & Dignité") from `config/demo-plugins`. Returns the app and the
/// demo accounts (every password is `passerelle::demo::DEMO_PASSWORD`).
pub async fn spawn_demo_app() -> (TestApp, Vec<passerelle::demo::DemoAccount>) {
    let app = spawn_app_as(
        postgres_admin_url(),
        |s| {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(passerelle::plugins::DEMO_PLUGIN_DIR);
            s.plugins.dir = dir.display().to_string();
            s.plugins.organisations.insert(
                passerelle::plugins::DEMO_PARTNER_ORG.0.into(),
                passerelle::plugins::DEMO_PARTNER_ORG.1.into(),
            );
            // Cranelift takes seconds per component in a debug build: share its cache.
            s.plugins.engine.cache_dir = std::env::temp_dir()
                .join("passerelle-test-plugin-cache")
                .display()
                .to_string();
        },
        true,
    )
    .await;
    let accounts = passerelle::demo::seed(&app.services)
        .await
        .unwrap_or_else(|e| panic!("demo seed: {e:#}"));
    (app, accounts)
}

async fn spawn_app_as(
    pg_admin_url: Option<String>,
    tweak: impl FnOnce(&mut Settings),
    demo: bool,
) -> TestApp {
    let dir = tempdir::new();
    let mut settings = Settings::load(None).unwrap_or_else(|e| panic!("settings: {e}"));
    settings.server.bind = "127.0.0.1:0".into();
    settings.server.data_dir = dir.0.clone();
    settings.server.secure_cookies = "off".into();
    settings.server.workers = 2;
    // The second factor is tested in tests/tests/two_factor.rs (which asks for the
    // configured roles again); the other tests sign administrators in with a password.
    settings.security.two_factor_roles = String::new();
    tweak(&mut settings);
    let backend = match pg_admin_url {
        Some(admin_url) => {
            let (url, db_name) = create_pg_database(&admin_url).await.unwrap_or_else(|e| {
                panic!("cannot create a PostgreSQL test database on {admin_url}: {e}")
            });
            settings.database.url = url;
            Backend::Postgres { admin_url, db_name }
        }
        None => Backend::Sqlite,
    };
    let (services, plugins) = passerelle::startup::build_services_with_plugins(&settings, demo)
        .await
        .unwrap_or_else(|e| panic!("start-up: {e:#}"));
    let app = Application::build_with_plugins(&settings, services.clone(), demo, plugins.clone())
        .unwrap_or_else(|e| panic!("build: {e:#}"));
    let port = app.port;
    tokio::spawn(app.server);
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        services,
        data_dir: dir.0.clone(),
        settings,
        backend,
        plugins,
        mail_worker: app.mail_worker,
        _dir: dir,
    }
}

impl TestApp {
    /// Another server node on the same database (and key), with its own mail worker: as a
    /// deployment runs several stateless nodes on one PostgreSQL.
    pub async fn another_node(
        &self,
        tweak: impl FnOnce(&mut Settings),
    ) -> (Services, Option<tokio::task::JoinHandle<()>>, u16) {
        let mut settings = self.settings.clone();
        tweak(&mut settings);
        let services = passerelle::startup::build_services(&settings)
            .await
            .unwrap_or_else(|e| panic!("start-up: {e:#}"));
        let app = Application::build(&settings, services.clone(), false)
            .unwrap_or_else(|e| panic!("build: {e:#}"));
        let port = app.port;
        tokio::spawn(app.server);
        (services, app.mail_worker, port)
    }
}

/// Start the app with both example plugins (copied into its data directory): the French
/// jurisdiction for FR organisations, and the IOM-style partner for the organisation
/// named "Retour".
pub async fn spawn_app_with_example_plugins() -> TestApp {
    spawn_app_with(postgres_admin_url(), |s| {
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/examples");
        let dir = s.server.data_dir.join("plugins");
        for (name, src) in [("fr", "fr-jurisdiction"), ("iom", "iom-partner")] {
            let src = examples.join(src).join("plugin");
            let dst = dir.join(name);
            std::fs::create_dir_all(&dst).unwrap_or_else(|e| panic!("{e}"));
            for f in std::fs::read_dir(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display())) {
                let f = f.unwrap_or_else(|e| panic!("{e}"));
                std::fs::copy(f.path(), dst.join(f.file_name())).unwrap_or_else(|e| panic!("{e}"));
            }
        }
        s.plugins.dir = dir.display().to_string();
        // Cranelift takes seconds per component in a debug build: share its cache.
        s.plugins.engine.cache_dir = std::env::temp_dir()
            .join("passerelle-test-plugin-cache")
            .display()
            .to_string();
        s.plugins
            .organisations
            .insert("Retour".into(), "iom-style-return".into());
    })
    .await
}

/// Today plus `n` days (negative: in the past).
pub fn in_days(n: i64) -> chrono::NaiveDate {
    chrono::Utc::now().date_naive() + chrono::Duration::days(n)
}

/// Send a JSON body with `method`; the status and the JSON answer (Null if none).
pub async fn send_json(c: &Client, method: &str, url: String, body: Value) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .unwrap_or_else(|e| panic!("method {method}: {e}"));
    let r = c
        .request(method, url)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// GET a JSON answer: the status and the body (Null if none).
pub async fn get_json(c: &Client, url: String) -> (u16, Value) {
    let r = c.get(url).send().await.unwrap_or_else(|e| panic!("{e}"));
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Sign in through the HTML form with `password`; a client holding the session cookie.
pub async fn html_login_with(address: &str, email: &str, password: &str) -> Client {
    let c = client();
    let html = c
        .get(format!("{address}/login"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_default();
    let token = hidden_csrf(&html);
    let r = c
        .post(format!("{address}/login"))
        .form(&[("email", email), ("password", password), ("_csrf", &token)])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 303, "html login of {email}");
    c
}

/// A browser-like client: keeps cookies, does not follow redirects (tests look at them).
pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"))
}

/// A small world: organisations of each kind in two countries and one user per role.
pub struct World {
    pub ngo: i64,
    pub shelter: i64,
    pub returns: i64,
    pub origin: i64,
    pub authority: i64,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn org(&self, name: &str, kind: &str, country: &str) -> i64 {
        self.services
            .create_org(
                None,
                NewOrg {
                    name,
                    kind,
                    country,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("org: {e}"))
            .id
    }

    pub async fn user(&self, org_id: i64, email: &str, role: &str) -> i64 {
        self.services
            .create_user(
                None,
                NewUser {
                    org_id,
                    email,
                    display_name: email.split('@').next().unwrap_or(email),
                    role,
                    password: PASSWORD,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("user {email}: {e}"))
            .id
    }

    pub async fn world(&self) -> World {
        let w = World {
            ngo: self.org("Passage", "victim_advocacy", "FR").await,
            shelter: self.org("Les Tilleuls", "shelter", "FR").await,
            returns: self.org("Retour", "return_agency", "FR").await,
            origin: self.org("Edo Service", "origin_service", "NG").await,
            authority: self.org("Mission", "state_authority", "FR").await,
        };
        self.user(w.ngo, "advocate@ngo.test", "advocate").await;
        w
    }

    /// Sign in through the JSON API; returns a client holding the session cookie.
    pub async fn api_login(&self, email: &str) -> Client {
        let c = client();
        let r = c
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("login: {e}"));
        assert_eq!(
            r.status(),
            200,
            "login of {email} failed: {}",
            r.text().await.unwrap_or_default()
        );
        c
    }

    /// Sign in through the HTML form (fetching the login CSRF token first).
    pub async fn html_login(&self, email: &str) -> Client {
        let c = client();
        let page = c
            .get(self.url("/login"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let html = page.text().await.unwrap_or_default();
        let token = hidden_csrf(&html);
        let r = c
            .post(self.url("/login"))
            .form(&[("email", email), ("password", PASSWORD), ("_csrf", &token)])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status(), 303, "html login of {email}");
        c
    }

    /// Create a case through the API as `client`; returns its reference.
    pub async fn create_case(&self, c: &Client, name: &str) -> String {
        let r = c
            .post(self.url("/api/v1/cases"))
            .json(
                &json!({"person": {"name": name, "birth_date": "1994-03-02", "nationality": "NG",
                "languages": "English, Edo", "contact": "+33 6 00 00 00 00", "location": "Lyon",
                "notes": "met at the station"}}),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            r.status(),
            201,
            "create case: {}",
            r.text().await.unwrap_or_default()
        );
        let v: Value = r.json().await.unwrap_or_default();
        v["summary"]["reference"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Get a page and its CSRF token (as a signed-in HTML client).
    pub async fn csrf(&self, c: &Client) -> String {
        let html = c
            .get(self.url("/account"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .text()
            .await
            .unwrap_or_default();
        hidden_csrf(&html)
    }

    /// Raw bytes of everything in the database (the SQLite files, or a dump of every
    /// PostgreSQL table as text), for the "not in clear" checks.
    pub async fn raw_database_bytes(&self) -> Vec<u8> {
        match &self.backend {
            Backend::Sqlite => {
                let mut all = Vec::new();
                for f in ["passerelle.db", "passerelle.db-wal", "passerelle.db-shm"] {
                    if let Ok(b) = std::fs::read(self.data_dir.join(f)) {
                        all.extend(b);
                    }
                }
                all
            }
            Backend::Postgres { .. } => {
                use sea_orm::{ConnectionTrait, Statement};
                let db = &self.services.db;
                let tables = db
                    .query_all_raw(Statement::from_string(
                        sea_orm::DbBackend::Postgres,
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
                    ))
                    .await
                    .unwrap_or_default();
                let mut all = Vec::new();
                for t in tables {
                    let name: String = t.try_get("", "tablename").unwrap_or_default();
                    let rows = db
                        .query_all_raw(Statement::from_string(
                            sea_orm::DbBackend::Postgres,
                            format!("SELECT t::text AS row FROM \"{name}\" t"),
                        ))
                        .await
                        .unwrap_or_default();
                    for r in rows {
                        let s: String = r.try_get("", "row").unwrap_or_default();
                        all.extend(s.into_bytes());
                    }
                }
                all
            }
        }
    }
}

pub fn hidden_csrf(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    html.find(marker)
        .map(|i| {
            let rest = &html[i + marker.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_owned()
        })
        .unwrap_or_default()
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    haystack.windows(n.len()).any(|w| w == n)
}
