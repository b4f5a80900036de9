//! Browser tests support: a small W3C WebDriver client over `reqwest`, a `chromedriver`
//! started on a free local port (and killed on drop), and the skip rule for machines
//! without a browser.
//!
//! The protocol is spoken with `reqwest` rather than with `fantoccini`: fantoccini 0.22
//! built without its TLS features can only be given a connector of a `hyper-util` type, and
//! `hyper-util` is not a dependency of this package.
//!
//! Environment:
//! - `PASSERELLE_CHROMEDRIVER`: path of the chromedriver program (default:
//!   `/usr/bin/chromedriver`, then `chromedriver` on `PATH`).
//! - `PASSERELLE_CHROMIUM`: path of the browser (default: `/usr/bin/chromium`).
//!
//! When either is missing, [`Programs::find_or_skip`] reports the test as skipped loudly,
//! or fails it when `PASSERELLE_REQUIRE_EXTERNAL=1` (CI); see [`crate::skip_or_fail`].
//!
//! A typical test:
//!
//! ```no_run
//! # async fn example() {
//! use passerelle_tests::webdriver::{ChromeDriver, Programs, WebDriver};
//! let Some(programs) = Programs::find_or_skip() else { return };
//! let driver = ChromeDriver::start(&programs.chromedriver).await.unwrap();
//! let wd = WebDriver::new_session(&driver, &programs.chromium).await.unwrap();
//! wd.run(std::time::Duration::from_secs(60), async {
//!     wd.goto("http://127.0.0.1:8080/login").await?;
//!     wd.wait_for("#login-submit").await?;
//!     Ok(())
//! })
//! .await;
//! # }
//! ```
//! (Debian: `apt-get install chromium chromium-driver`.)

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long an explicit wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(15);

/// How often explicit waits look again.
const POLL: Duration = Duration::from_millis(100);

/// The programs a browser test needs.
#[derive(Debug, Clone)]
pub struct Programs {
    /// The chromedriver program.
    pub chromedriver: PathBuf,
    /// The Chromium browser.
    pub chromium: PathBuf,
}

impl Programs {
    /// Both programs, if they exist on this machine.
    pub fn find() -> Option<Self> {
        Some(Programs {
            chromedriver: find_chromedriver()?,
            chromium: find_chromium()?,
        })
    }

    /// Both programs; when one is missing, report the test as skipped (loudly) and return
    /// `None`, or panic when `PASSERELLE_REQUIRE_EXTERNAL=1`.
    pub fn find_or_skip() -> Option<Self> {
        let found = Self::find();
        if found.is_none() {
            crate::skip_or_fail("chromium/chromedriver");
        }
        found
    }
}

/// The chromedriver to use, if it exists: `PASSERELLE_CHROMEDRIVER`, else
/// `/usr/bin/chromedriver`, else `chromedriver` on `PATH`.
pub fn find_chromedriver() -> Option<PathBuf> {
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

/// The Chromium to use, if it exists: `PASSERELLE_CHROMIUM`, else `/usr/bin/chromium`.
pub fn find_chromium() -> Option<PathBuf> {
    let p = std::env::var_os("PASSERELLE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    p.is_file().then_some(p)
}

/// Fail with both values when `got` is not `want`; `what` names the checked thing.
pub fn expect_eq(what: &str, got: &str, want: &str) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(anyhow!("{what}: got {got:?}, expected {want:?}"))
    }
}

/// Fail when `haystack` does not contain `needle`; `what` names the checked thing.
pub fn expect_contains(what: &str, haystack: &str, needle: &str) -> Result<()> {
    if haystack.contains(needle) {
        Ok(())
    } else {
        Err(anyhow!(
            "{what} does not contain {needle:?}; it reads: {haystack:?}"
        ))
    }
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
pub struct ChromeDriver {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl ChromeDriver {
    /// Start `program` on a free local port and wait until it reports itself ready.
    pub async fn start(program: &Path) -> Result<Self> {
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
            tokio::time::sleep(POLL).await;
        }
    }

    /// The base URL of the WebDriver endpoint (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What chromedriver wrote so far (for error messages).
    pub fn log(&self) -> String {
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

/// A reference to an element of the current page (valid until the page changes).
#[derive(Debug, Clone)]
pub struct Element(Value);

impl Element {
    fn id(&self) -> Result<&str> {
        self.0[ELEMENT_KEY]
            .as_str()
            .ok_or_else(|| anyhow!("not an element: {}", self.0))
    }

    /// The element as a script argument for [`WebDriver::execute`].
    pub fn to_json(&self) -> Value {
        self.0.clone()
    }
}

/// A WebDriver error answer (`no such element`, `stale element reference`, ...).
#[derive(Debug)]
pub struct WdError {
    /// The W3C error code, e.g. `no such element`.
    pub code: String,
    /// The driver's message.
    pub message: String,
}

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for WdError {}

/// Is `e` a WebDriver error with one of these codes?
fn is_wd_error(e: &anyhow::Error, codes: &[&str]) -> bool {
    e.downcast_ref::<WdError>()
        .is_some_and(|w| codes.contains(&w.code.as_str()))
}

/// Errors that mean "the page is changing under us: look again" in explicit waits.
const TRANSIENT: &[&str] = &["no such element", "stale element reference"];

/// A transient error, including Chromium's "unknown error" for an element of a page
/// that was just replaced ("Node with given id does not belong to the document").
fn is_transient(e: &anyhow::Error) -> bool {
    is_wd_error(e, TRANSIENT)
        || e.downcast_ref::<WdError>().is_some_and(|w| {
            w.code == "unknown error" && w.message.contains("does not belong to the document")
        })
}

/// The browser's fresh profile directory, removed on drop.
struct ProfileDir(PathBuf);

impl Drop for ProfileDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A minimal W3C WebDriver client over one headless Chromium session.
pub struct WebDriver {
    http: reqwest::Client,
    session: String,
    _profile: ProfileDir,
}

impl WebDriver {
    /// Open a headless Chromium session (fresh profile, English UI, 1280×900 window).
    pub async fn new_session(driver: &ChromeDriver, chromium: &Path) -> Result<Self> {
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

    /// Run `scenario` within `limit`, then close the browser whatever happened; panic with
    /// the scenario's error (or the time-out) so that the test fails with a clear message.
    pub async fn run<F>(&self, limit: Duration, scenario: F)
    where
        F: Future<Output = Result<()>>,
    {
        let started = Instant::now();
        let outcome = tokio::time::timeout(limit, scenario).await;
        let _ = self.quit().await;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("browser scenario failed: {e:#}"),
            Err(_) => panic!("browser scenario took longer than {limit:?}"),
        }
        eprintln!(
            "browser scenario passed in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    /// Send one command; returns its `value`, or the WebDriver error as an `Err` whose
    /// source is a [`WdError`].
    pub async fn cmd(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
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

    /// Navigate to `url` (waits for the page load).
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.post("/url", json!({"url": url})).await.map(drop)
    }

    /// The current URL.
    pub async fn url(&self) -> Result<String> {
        Ok(self
            .get("/url")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// The path of the current URL, without query or fragment.
    pub async fn path(&self) -> Result<String> {
        let url = self.url().await?;
        let after_scheme = url.split_once("://").map(|(_, r)| r).unwrap_or(&url);
        let path = after_scheme
            .find('/')
            .map(|i| &after_scheme[i..])
            .unwrap_or("/");
        Ok(path.split(['?', '#']).next().unwrap_or("/").to_owned())
    }

    /// The page title.
    pub async fn title(&self) -> Result<String> {
        Ok(self
            .get("/title")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    async fn find_by(&self, using: &str, value: &str) -> Result<Option<Element>> {
        match self
            .post("/element", json!({"using": using, "value": value}))
            .await
        {
            Ok(v) => Ok(Some(Element(v))),
            Err(e) if is_wd_error(&e, &["no such element"]) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The element matching `css` now, if any.
    pub async fn find(&self, css: &str) -> Result<Option<Element>> {
        self.find_by("css selector", css).await
    }

    /// All elements matching `css` now.
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        let v = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await?;
        Ok(v.as_array()
            .map(|a| a.iter().cloned().map(Element).collect())
            .unwrap_or_default())
    }

    /// Explicit wait: poll until `probe` gives `Some`; WebDriver errors meaning the page is
    /// changing (no such element, stale element) count as "not yet". On time-out the error
    /// names `what` and shows where the browser is.
    pub async fn wait_until<T, F, Fut>(&self, what: &str, mut probe: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        let deadline = Instant::now() + WAIT;
        let mut last_error = None;
        loop {
            match probe().await {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => {}
                Err(e) if is_transient(&e) => last_error = Some(e),
                Err(e) => return Err(e),
            }
            if Instant::now() > deadline {
                let last = last_error
                    .map(|e| format!(" (last error: {e:#})"))
                    .unwrap_or_default();
                bail!(
                    "waited {WAIT:?} for {what}{last}; {}",
                    self.where_am_i().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The current path, title and the beginning of the page source, for error messages.
    pub async fn where_am_i(&self) -> String {
        let path = self.path().await.unwrap_or_default();
        let title = self.title().await.unwrap_or_default();
        let source = self.get("/source").await.unwrap_or_default();
        let source: String = source
            .as_str()
            .unwrap_or_default()
            .chars()
            .take(2000)
            .collect();
        format!("page {path}, title {title:?}; page source:\n{source}")
    }

    /// Explicit wait: poll until an element matches `css`.
    pub async fn wait_for(&self, css: &str) -> Result<Element> {
        self.wait_until(&format!("an element matching {css:?}"), || self.find(css))
            .await
    }

    /// Explicit wait: poll until a link whose whole visible text is `text` exists.
    pub async fn wait_for_link(&self, text: &str) -> Result<Element> {
        self.wait_until(&format!("a link reading {text:?}"), || {
            self.find_by("link text", text)
        })
        .await
    }

    /// Explicit wait: poll until an element matching `css` has a visible text containing
    /// `needle`; returns that element and its whole text.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> Result<(Element, String)> {
        let last_text = std::cell::RefCell::new(String::new());
        let waited = self
            .wait_until(
                &format!("an element matching {css:?} that contains {needle:?}"),
                || {
                    let last_text = &last_text;
                    async move {
                        for el in self.find_all(css).await? {
                            // The page may be replaced between finding the element
                            // and reading it (after a form submits): a stale element
                            // is "not yet", not a failure.
                            let text = match self.text(&el).await {
                                Ok(t) => t,
                                Err(e) => {
                                    *last_text.borrow_mut() = format!("(unreadable: {e})");
                                    return Ok(None);
                                }
                            };
                            if text.contains(needle) {
                                return Ok(Some((el, text)));
                            }
                            *last_text.borrow_mut() = text;
                        }
                        Ok(None)
                    }
                },
            )
            .await;
        waited.with_context(|| format!("last text seen in {css:?}: {:?}", last_text.borrow()))
    }

    /// Click an element (links, buttons, checkboxes, options of a select).
    pub async fn click(&self, el: &Element) -> Result<()> {
        self.post(&format!("/element/{}/click", el.id()?), json!({}))
            .await
            .map(drop)
    }

    /// Type `text` into an element.
    pub async fn send_keys(&self, el: &Element, text: &str) -> Result<()> {
        self.post(
            &format!("/element/{}/value", el.id()?),
            json!({"text": text}),
        )
        .await
        .map(drop)
    }

    /// Wait for the field matching `css` and type `text` into it.
    pub async fn fill(&self, css: &str, text: &str) -> Result<Element> {
        let el = self.wait_for(css).await?;
        self.send_keys(&el, text).await?;
        Ok(el)
    }

    /// Choose the option with this `value` in the `<select>` matching `select_css`, by
    /// clicking it as a user would, and check that the select now has that value.
    pub async fn select(&self, select_css: &str, value: &str) -> Result<()> {
        let select = self.wait_for(select_css).await?;
        let option = self
            .wait_for(&format!("{select_css} option[value=\"{value}\"]"))
            .await?;
        self.click(&option).await?;
        expect_eq(
            &format!("value of {select_css}"),
            &self.property(&select, "value").await?,
            value,
        )
    }

    /// Is this checkbox, radio button or option selected?
    pub async fn is_selected(&self, el: &Element) -> Result<bool> {
        let v = self.get(&format!("/element/{}/selected", el.id()?)).await?;
        Ok(v.as_bool().unwrap_or(false))
    }

    /// The visible (rendered) text of an element.
    pub async fn text(&self, el: &Element) -> Result<String> {
        let v = self.get(&format!("/element/{}/text", el.id()?)).await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// A DOM property of an element (e.g. `value`), as a string.
    pub async fn property(&self, el: &Element, name: &str) -> Result<String> {
        let v = self
            .get(&format!("/element/{}/property/{name}", el.id()?))
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// An HTML attribute of the element matching `css` (waited for).
    pub async fn attribute_of(&self, css: &str, name: &str) -> Result<String> {
        let el = self.wait_for(css).await?;
        let v = self
            .get(&format!("/element/{}/attribute/{name}", el.id()?))
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// Run a synchronous script; elements are passed with [`Element::to_json`].
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// A PNG screenshot of the viewport.
    pub async fn screenshot(&self) -> Result<Vec<u8>> {
        let v = self.get("/screenshot").await?;
        base64_decode(v.as_str().unwrap_or_default())
    }

    /// Write a PNG screenshot of the viewport to `path`.
    pub async fn save_screenshot(&self, path: &Path) -> Result<()> {
        let png = self.screenshot().await?;
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
    }

    /// Set the window's size in CSS pixels, and check that the page's viewport followed
    /// (`window.innerWidth`): Chromium may refuse very small windows. Returns the width of
    /// the viewport.
    pub async fn set_window_size(&self, width: u64, height: u64) -> Result<u64> {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await?;
        // The viewport follows the window a moment later.
        let started = Instant::now();
        loop {
            let inner = self
                .execute("return window.innerWidth;", vec![])
                .await?
                .as_u64()
                .unwrap_or(0);
            if inner == width {
                return Ok(inner);
            }
            if started.elapsed() > WAIT {
                bail!("asked for a {width} px wide window, the viewport is {inner} px wide");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Make the window as tall as the page (at most 6000 px) and scroll to the top, so that
    /// the next screenshot shows the whole page.
    pub async fn fit_window_to_page(&self) -> Result<()> {
        // The window's frame (none when headless, some when headed) adds to the page height.
        let height = self
            .execute(
                "window.scrollTo(0, 0); return document.documentElement.scrollHeight \
                 + Math.max(0, window.outerHeight - window.innerHeight);",
                vec![],
            )
            .await?
            .as_u64()
            .unwrap_or(900);
        let rect = self.get("/window/rect").await?;
        let width = rect["width"].as_u64().unwrap_or(1280);
        self.post(
            "/window/rect",
            json!({"width": width, "height": height.clamp(300, 6000)}),
        )
        .await
        .map(drop)
    }

    /// When the environment variable `var` names a directory, write a PNG screenshot of the
    /// viewport there as `name` (and say so on stderr); otherwise do nothing.
    pub async fn screenshot_to_dir_from_env(&self, var: &str, name: &str) -> Result<()> {
        let Some(dir) = std::env::var_os(var) else {
            return Ok(());
        };
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(name);
        self.save_screenshot(&path).await?;
        eprintln!("screenshot written to {}", path.display());
        Ok(())
    }

    /// Close the browser (end the session).
    pub async fn quit(&self) -> Result<()> {
        self.cmd(reqwest::Method::DELETE, "", None).await.map(drop)
    }
}

/// Standard base64 (screenshots arrive base64-encoded; the package has no base64 crate).
pub fn base64_decode(s: &str) -> Result<Vec<u8>> {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn base64_decodes_padding_and_line_breaks() {
        assert_eq!(base64_decode("TWFu").unwrap(), b"Man");
        assert_eq!(base64_decode("TWE=").unwrap(), b"Ma");
        assert_eq!(base64_decode("TQ==\n").unwrap(), b"M");
        assert!(base64_decode("T!").is_err());
    }
}
