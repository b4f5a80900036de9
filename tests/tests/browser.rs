//! Browser test (headless Chromium): sign in, create a case, find it in the caseload,
//! switch the page to French, sign out.
//!
//! The test starts its own `chromedriver` on a free local port and drives Chromium through
//! the W3C WebDriver protocol. It speaks that protocol with `reqwest` (a small client at the
//! bottom of this file) rather than with `fantoccini`: fantoccini 0.22 built without its TLS
//! features can only be given a connector of a `hyper-util` type, and `hyper-util` is not a
//! dependency of this package.
//!
//! Environment:
//! - `PASSERELLE_CHROMEDRIVER`: path of the chromedriver program (default: `/usr/bin/chromedriver`,
//!   then `chromedriver` on `PATH`). When it is missing the test is skipped loudly, or fails
//!   when `PASSERELLE_REQUIRE_EXTERNAL=1` (CI).
//! - `PASSERELLE_CHROMIUM`: path of the browser (default: `/usr/bin/chromium`); same rule.
//! - `PASSERELLE_SCREENSHOT`: when set, a PNG screenshot of the French caseload is written to
//!   that path (for a manual look; CI does not set it).
//!
//! Run: `cargo test -p passerelle-tests --test browser -- --nocapture`
//! (Debian: `apt-get install chromium chromium-driver`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context, Result, anyhow, bail};
use passerelle_tests::{PASSWORD, TestApp, skip_or_fail, spawn_app};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long an explicit wait may take before the test fails.
const WAIT: Duration = Duration::from_secs(15);
/// The whole browser scenario must finish within this time.
const SCENARIO_LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_sign_in_create_case_caseload_french_sign_out() {
    let Some(chromedriver) = find_chromedriver() else {
        skip_or_fail("chromium/chromedriver");
        return;
    };
    let chromium = std::env::var_os("PASSERELLE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.is_file() {
        skip_or_fail("chromium/chromedriver");
        return;
    }

    let started = Instant::now();
    let driver = ChromeDriver::start(&chromedriver)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let app = spawn_app().await;
    let org = app.org("Passage", "victim_advocacy", "FR").await;
    let email = "advocate@browser.test";
    app.user(org, email, "advocate").await;

    let wd = WebDriver::new_session(&driver, &chromium)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e:#}\n{}", driver.log()));
    let outcome = tokio::time::timeout(SCENARIO_LIMIT, scenario(&wd, &app, email)).await;
    // Close the browser whatever happened; chromedriver itself is killed by its guard.
    let _ = wd.quit().await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("browser scenario failed: {e:#}"),
        Err(_) => panic!("browser scenario took longer than {SCENARIO_LIMIT:?}"),
    }
    eprintln!(
        "browser scenario passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

async fn scenario(wd: &WebDriver, app: &TestApp, email: &str) -> Result<()> {
    // 1. Sign in through the HTML form.
    wd.goto(&app.url("/login")).await?;
    let field = wd.wait_for("#email").await?;
    wd.send_keys(&field, email).await?;
    let field = wd.wait_for("#password").await?;
    wd.send_keys(&field, PASSWORD).await?;
    let button = wd.wait_for("#login-submit").await?;
    wd.click(&button).await?;

    // 2. Landed on the caseload, which offers "New case".
    let new_case = wd
        .wait_for("#nav-new-case")
        .await
        .context("after signing in")?;
    let path = wd.path().await?;
    if path != "/cases" {
        bail!("after signing in the browser is on {path}, expected /cases");
    }
    expect_eq(
        "lang after sign-in",
        &wd.attribute_of("html", "lang").await?,
        "en",
    )?;

    // 3. Create a case through the form.
    wd.click(&new_case).await?;
    let name_field = wd.wait_for("#name").await.context("on the new-case form")?;
    let person = "Oghenekaro Browserfield-Tiwari";
    wd.send_keys(&name_field, person).await?;
    let birth = wd.wait_for("#birth_date").await?;
    // Typing into <input type=date> depends on the browser's locale; set the value instead.
    wd.execute(
        "arguments[0].value = arguments[1];",
        vec![birth.clone(), json!("1994-03-02")],
    )
    .await?;
    expect_eq(
        "#birth_date value",
        &wd.property(&birth, "value").await?,
        "1994-03-02",
    )?;
    let nationality = wd.wait_for("#nationality").await?;
    wd.send_keys(&nationality, "NG").await?;
    let create = wd.wait_for("#create-case").await?;
    wd.click(&create).await?;

    // 4. The case page shows the person and the new reference.
    let shown = wd
        .wait_for("#person-name")
        .await
        .context("after creating the case")?;
    expect_eq("#person-name", wd.text(&shown).await?.trim(), person)?;
    let reference_el = wd.wait_for("#case-reference").await?;
    let reference = wd.text(&reference_el).await?.trim().to_owned();
    if reference.is_empty() {
        bail!("#case-reference is empty on {}", wd.path().await?);
    }
    let path = wd.path().await?;
    expect_eq("case page path", &path, &format!("/cases/{reference}"))?;
    let body = wd.text(&wd.wait_for("#person").await?).await?;
    for expected in ["1994-03-02", "NG"] {
        if !body.contains(expected) {
            bail!("the case page does not show {expected:?}; person section reads: {body}");
        }
    }

    // 5. The caseload ("My cases", the default for an advocate) lists it.
    wd.goto(&app.url("/cases")).await?;
    let link_css = format!("#caseload a[href=\"/cases/{reference}\"]");
    let link = wd
        .wait_for(&link_css)
        .await
        .context("the new case in the English caseload")?;
    expect_eq(
        "caseload link text",
        wd.text(&link).await?.trim(),
        &reference,
    )?;
    let current_tab = wd.wait_for(".tabs a[aria-current=\"page\"]").await?;
    expect_eq(
        "current caseload tab",
        wd.text(&current_tab).await?.trim(),
        "My cases",
    )?;
    expect_eq(
        "English heading",
        wd.text(&wd.wait_for("main h1").await?).await?.trim(),
        "Cases",
    )?;

    // 6. Switch to French.
    let fr = wd.wait_for("#lang-fr").await?;
    wd.click(&fr).await?;
    wd.wait_for("html[lang=\"fr\"]")
        .await
        .context("after clicking #lang-fr")?;
    expect_eq("path after switching language", &wd.path().await?, "/cases")?;
    expect_eq(
        "French heading",
        wd.text(&wd.wait_for("main h1").await?).await?.trim(),
        "Dossiers",
    )?;
    let link = wd
        .wait_for(&link_css)
        .await
        .context("the new case in the French caseload")?;
    expect_eq(
        "French caseload link text",
        wd.text(&link).await?.trim(),
        &reference,
    )?;
    let current_tab = wd.wait_for(".tabs a[aria-current=\"page\"]").await?;
    expect_eq(
        "current French caseload tab",
        wd.text(&current_tab).await?.trim(),
        "Mes dossiers",
    )?;
    // The switch now offers English back, and French is the current (unlinked) one.
    wd.wait_for("#lang-en").await?;
    if wd.find("#lang-fr").await?.is_some() {
        bail!("#lang-fr is still a link although French is the current language");
    }
    if let Some(path) = std::env::var_os("PASSERELLE_SCREENSHOT") {
        let png = wd.screenshot().await?;
        std::fs::write(&path, png)
            .with_context(|| format!("writing {}", Path::new(&path).display()))?;
        eprintln!(
            "screenshot of the French caseload written to {}",
            Path::new(&path).display()
        );
    }

    // 7. Sign out: back on the login page, still in French.
    let logout = wd.wait_for("#logout").await?;
    expect_eq(
        "French sign-out button",
        wd.text(&logout).await?.trim(),
        "Se déconnecter",
    )?;
    wd.click(&logout).await?;
    wd.wait_for("#login-submit")
        .await
        .context("after signing out")?;
    expect_eq("path after signing out", &wd.path().await?, "/login")?;
    expect_eq(
        "login heading",
        wd.text(&wd.wait_for("main h1").await?).await?.trim(),
        "Connexion",
    )?;
    expect_eq(
        "lang after signing out",
        &wd.attribute_of("html", "lang").await?,
        "fr",
    )?;

    // 8. Signed out for real: the caseload sends the browser back to the login page.
    wd.goto(&app.url("/cases")).await?;
    wd.wait_for("#login-submit")
        .await
        .context("opening /cases after signing out")?;
    if wd.find("#caseload").await?.is_some() || wd.find("#logout").await?.is_some() {
        bail!("after signing out, /cases still shows a signed-in page");
    }
    Ok(())
}

fn expect_eq(what: &str, got: &str, want: &str) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(anyhow!("{what}: got {got:?}, expected {want:?}"))
    }
}

/// The chromedriver to use, if it exists.
fn find_chromedriver() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PASSERELLE_CHROMEDRIVER") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let default = PathBuf::from("/usr/bin/chromedriver");
    if default.is_file() {
        return Some(default);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("chromedriver"))
            .find(|p| p.is_file())
    })
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn temp_dir(prefix: &str) -> Result<PathBuf> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(|e| anyhow!("random: {e}"))?;
    let p = std::env::temp_dir().join(format!("{prefix}-{}", hex::encode(b)));
    std::fs::create_dir_all(&p)?;
    Ok(p)
}

/// A running chromedriver; killed (and its temporary directory removed) on drop, so also
/// when the test panics.
struct ChromeDriver {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl ChromeDriver {
    async fn start(program: &Path) -> Result<Self> {
        let port = free_port()?;
        let dir = temp_dir("passerelle-chromedriver")?;
        let log = std::fs::File::create(dir.join("chromedriver.log"))?;
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", program.display()))?;
        let mut driver = ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(r) = http.get(format!("{}/status", driver.url)).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"].as_bool() == Some(true)
            {
                return Ok(driver);
            }
            if let Some(status) = driver.child.try_wait()? {
                bail!(
                    "chromedriver exited at start-up ({status}):\n{}",
                    driver.log()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "chromedriver did not become ready on {}:\n{}",
                    driver.url,
                    driver.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("chromedriver.log")).unwrap_or_default()
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The W3C identifier of element references in WebDriver JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A minimal W3C WebDriver client over one session.
struct WebDriver {
    http: reqwest::Client,
    session: String,
    _profile: ProfileDir,
}

/// The browser's fresh profile directory, removed on drop.
struct ProfileDir(PathBuf);

impl Drop for ProfileDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl WebDriver {
    async fn new_session(driver: &ChromeDriver, chromium: &Path) -> Result<Self> {
        let profile = ProfileDir(temp_dir("passerelle-chromium")?);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-extensions",
                    "--disable-default-apps", "--no-default-browser-check", "--lang=en-US",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.0.display()),
                ],
                "prefs": {"intl.accept_languages": "en-US,en"},
            },
        }}});
        let r = http
            .post(format!("{}/session", driver.url))
            .json(&caps)
            .send()
            .await?;
        let v: Value = r.json().await?;
        let id = v["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("no session in the answer: {v}"))?;
        Ok(WebDriver {
            http,
            session: format!("{}/session/{id}", driver.url),
            _profile: profile,
        })
    }

    /// Send one command; returns its `value`, or the WebDriver error as an `Err`.
    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.session));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req
            .send()
            .await
            .with_context(|| format!("WebDriver {method} {path}"))?;
        let status = r.status();
        let v: Value = r
            .json()
            .await
            .with_context(|| format!("WebDriver {method} {path}: answer"))?;
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        if status.is_success() {
            Ok(value)
        } else {
            Err(WdError {
                code: value["error"].as_str().unwrap_or("unknown").to_owned(),
                message: value["message"].to_string(),
            })
            .with_context(|| format!("WebDriver {method} {path}"))
        }
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.cmd(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Result<Value> {
        self.cmd(reqwest::Method::GET, path, None).await
    }

    async fn goto(&self, url: &str) -> Result<()> {
        self.post("/url", json!({"url": url})).await.map(drop)
    }

    async fn path(&self) -> Result<String> {
        let url = self.get("/url").await?;
        let url = url.as_str().unwrap_or_default();
        let after_scheme = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
        let path = after_scheme
            .find('/')
            .map(|i| &after_scheme[i..])
            .unwrap_or("/");
        Ok(path.split(['?', '#']).next().unwrap_or("/").to_owned())
    }

    /// The element matching `css` now, if any.
    async fn find(&self, css: &str) -> Result<Option<Value>> {
        match self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await
        {
            Ok(v) => Ok(Some(v)),
            Err(e)
                if e.downcast_ref::<WdError>()
                    .is_some_and(|w| w.code == "no such element") =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Explicit wait: poll until an element matches `css`.
    async fn wait_for(&self, css: &str) -> Result<Value> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(el) = self.find(css).await? {
                return Ok(el);
            }
            if Instant::now() > deadline {
                let path = self.path().await.unwrap_or_default();
                let title = self.get("/title").await.unwrap_or_default();
                let source = self.get("/source").await.unwrap_or_default();
                let source: String = source
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(2000)
                    .collect();
                bail!(
                    "no element matches {css:?} after {WAIT:?} (page {path}, title {title}); page source:\n{source}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn id(el: &Value) -> Result<&str> {
        el[ELEMENT_KEY]
            .as_str()
            .ok_or_else(|| anyhow!("not an element: {el}"))
    }

    async fn click(&self, el: &Value) -> Result<()> {
        self.post(&format!("/element/{}/click", Self::id(el)?), json!({}))
            .await
            .map(drop)
    }

    async fn send_keys(&self, el: &Value, text: &str) -> Result<()> {
        self.post(
            &format!("/element/{}/value", Self::id(el)?),
            json!({"text": text}),
        )
        .await
        .map(drop)
    }

    async fn text(&self, el: &Value) -> Result<String> {
        let v = self
            .get(&format!("/element/{}/text", Self::id(el)?))
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    async fn property(&self, el: &Value, name: &str) -> Result<String> {
        let v = self
            .get(&format!("/element/{}/property/{name}", Self::id(el)?))
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    async fn attribute_of(&self, css: &str, name: &str) -> Result<String> {
        let el = self.wait_for(css).await?;
        let v = self
            .get(&format!("/element/{}/attribute/{name}", Self::id(&el)?))
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    async fn screenshot(&self) -> Result<Vec<u8>> {
        let v = self.get("/screenshot").await?;
        base64_decode(v.as_str().unwrap_or_default())
    }

    async fn quit(&self) -> Result<()> {
        self.cmd(reqwest::Method::DELETE, "", None).await.map(drop)
    }
}

/// A WebDriver error answer (`no such element`, ...).
#[derive(Debug)]
struct WdError {
    code: String,
    message: String,
}

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for WdError {}

/// Standard base64 (screenshots arrive base64-encoded; the package has no base64 crate).
fn base64_decode(s: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => bail!("invalid base64 byte {c}"),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}
