//! Browser test (headless Chromium): the sign-in links sent by mail, end to end, against a
//! real SMTP server (`tests/smtp/server.py`, aiosmtpd). In the browser:
//!
//! - the organisation's administrator signs in through the login page and, on
//!   /admin/users, adds "new@ngo.test" as an advocate leaving the password empty: an
//!   invitation. One mail reaches new@ngo.test with a link `/signin/<64 hex>`;
//! - the administrator signs out; the new colleague opens the link: the page names the
//!   account and asks for a password. Two different passwords are refused beside the form
//!   (and do not use the link up); the same one twice is saved: the login page says so,
//!   and signing in with it reaches the home page as "new", an advocate;
//! - the same link opened again is refused: HTTP 410 (read from the page's navigation
//!   entry), "This link was already used, or does not exist", and no password form;
//! - from the login page, "Forgot your password?" asked for new@ngo.test says a link was
//!   sent; asked for an address without an account, the same page, word for word; only
//!   new@ngo.test gets a mail (the invitation and one reset, no other);
//! - the reset link, expired in the database, is refused: 410, "This link has expired";
//! - in French (the language switch on the refused page): "Ce lien a expiré", and the used
//!   invitation link "Ce lien a déjà servi".
//!
//! Environment: as `browser.rs` (`PASSERELLE_CHROMEDRIVER`, `PASSERELLE_CHROMIUM`,
//! `PASSERELLE_REQUIRE_EXTERNAL`, which also makes a missing aiosmtpd fail), plus
//! `PASSERELLE_SCREENSHOT_DIR`: when set, PNG screenshots of the password form
//! (`signin-link-form.png`), the used link (`signin-link-used.png`), the forgotten password
//! answer (`forgot-sent.png`) and the expired link in French (`signin-link-expired-fr.png`)
//! are written there.
//!
//! Run: `cargo test -p passerelle-tests --test browser_signin_links -- --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context, Result, bail};
use passerelle_core::store::entity::signin_token;
use passerelle_tests::smtp::{Mail, SmtpServer};
use passerelle_tests::webdriver::{ChromeDriver, Programs, WebDriver, expect_contains, expect_eq};
use passerelle_tests::{PASSWORD, TestApp, World, postgres_admin_url, spawn_app_with};
use sea_orm::EntityTrait;
use std::time::Duration;

/// The whole browser scenario must finish within this time.
const SCENARIO_LIMIT: Duration = Duration::from_secs(120);
/// Where screenshots go when wanted.
const SCREENSHOT_DIR: &str = "PASSERELLE_SCREENSHOT_DIR";
/// How long a mail may take to arrive (the mail worker polls every 100 ms in the tests).
const MAIL_WAIT_SECS: u64 = 20;
const ADMIN: &str = "admin@ngo.test";
const NEW: &str = "new@ngo.test";
const NEW_NAME: &str = "new";
const NOBODY: &str = "nobody@ngo.test";
const NEW_PASSWORD: &str = "a fine new password";

const USED_EN: &str = "This link was already used, or does not exist.";
const EXPIRED_EN: &str = "This link has expired";
const USED_FR: &str = "Ce lien a déjà servi";
const EXPIRED_FR: &str = "Ce lien a expiré";
const SENT_EN: &str =
    "If an account has this address, a link to choose a new password was sent to it.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_invitation_and_reset_links_work_once_and_refuse_used_or_expired_ones() {
    let Some(programs) = Programs::find_or_skip() else {
        return;
    };
    let Some(smtp) = SmtpServer::start(&[]) else {
        return;
    };
    let driver = ChromeDriver::start(&programs.chromedriver)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let app = spawn_app_with(postgres_admin_url(), |s| smtp.configure(s)).await;
    let w: World = app.world().await;
    app.user(w.ngo, ADMIN, "org_admin").await;

    let wd = WebDriver::new_session(&driver, &programs.chromium)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e:#}\n{}", driver.log()));
    // Closes the browser whatever happened; chromedriver itself is killed by its guard.
    wd.run(SCENARIO_LIMIT, scenario(&wd, &app, &smtp)).await;
}

async fn sign_in(wd: &WebDriver, app: &TestApp, email: &str, password: &str) -> Result<()> {
    wd.goto(&app.url("/login")).await?;
    wd.fill("#email", email).await?;
    wd.fill("#password", password).await?;
    wd.click(&wd.wait_for("#login-submit").await?).await?;
    wd.wait_for("#logout")
        .await
        .with_context(|| format!("after signing in as {email}"))?;
    Ok(())
}

async fn sign_out(wd: &WebDriver) -> Result<()> {
    wd.click(&wd.wait_for("#logout").await?).await?;
    wd.wait_for("#login-submit").await.context("signed out")?;
    Ok(())
}

/// Wait for the message shown after an action (read from the page, whether or not it has
/// faded out yet).
async fn flash(wd: &WebDriver, want: &str) -> Result<String> {
    wd.wait_until(&format!("the message {want:?}"), || async move {
        let Some(el) = wd.find("#flash").await? else {
            return Ok(None);
        };
        let text = wd
            .execute("return arguments[0].textContent;", vec![el.to_json()])
            .await?;
        Ok(text
            .as_str()
            .filter(|t| t.contains(want))
            .map(|t| t.trim().to_owned()))
    })
    .await
}

/// Mark the page now shown, so that [`new_page`] can tell when the browser left it.
async fn mark_page(wd: &WebDriver) -> Result<()> {
    wd.execute("window.__passerelle_old_page = true;", vec![])
        .await
        .map(drop)
}

/// Wait until the browser shows a page other than the one marked by [`mark_page`] and
/// that page has an element matching `css`; its text, spaces collapsed (`textContent`: the
/// forgotten password answer is a message that fades out after 12 s).
async fn new_page(wd: &WebDriver, css: &str) -> Result<String> {
    wd.wait_until(&format!("a new page with {css:?}"), || async move {
        let v = wd
            .execute(
                "if (window.__passerelle_old_page) return null; \
                 const el = document.querySelector(arguments[0]); \
                 return el ? el.textContent.replace(/\\s+/g, ' ').trim() : null;",
                vec![serde_json::json!(css)],
            )
            .await?;
        Ok(v.as_str().map(str::to_owned))
    })
    .await
}

/// The HTTP status of the page now shown (its navigation entry: Chromium ≥ 109).
async fn http_status(wd: &WebDriver) -> Result<u64> {
    let v = wd
        .execute(
            "const n = performance.getEntriesByType('navigation')[0]; \
             return n ? n.responseStatus : null;",
            vec![],
        )
        .await?;
    v.as_u64()
        .with_context(|| format!("no HTTP status in the navigation entry: {v}"))
}

/// The path (`/signin/<64 hex>`) of the one sign-in link of a mail.
fn signin_path(m: &Mail) -> Result<String> {
    let text = m.decoded();
    let prefix = "https://passerelle.test/signin/";
    let Some(i) = text.find(prefix) else {
        bail!("no sign-in link in the mail:\n{text}");
    };
    let token: String = text[i + prefix.len()..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        bail!("the link's token is {token:?}, not 64 hex digits");
    }
    Ok(format!("/signin/{token}"))
}

/// Every mail received so far, once at least `n` arrived (or the wait ran out).
async fn mails(smtp: &SmtpServer, n: usize) -> Result<Vec<Mail>> {
    let got = smtp.wait_for(n, MAIL_WAIT_SECS).await;
    if got.len() < n {
        bail!(
            "{} mail(s) arrived within {MAIL_WAIT_SECS} s, {n} expected: {:?}",
            got.len(),
            got.iter().map(|m| &m.envelope_to).collect::<Vec<_>>()
        );
    }
    Ok(got)
}

fn recipients(mails: &[Mail]) -> Vec<&str> {
    mails.iter().map(|m| m.envelope_to.as_str()).collect()
}

/// Open a refused link (or be on its page): answered 410 with `words` as the detail and no
/// password form; the detail's text.
async fn expect_refused(wd: &WebDriver, what: &str, words: &str) -> Result<String> {
    let (_, detail) = wd
        .wait_for_text("#error-detail", words)
        .await
        .with_context(|| format!("the page of {what}"))?;
    expect_eq(
        &format!("the HTTP status of {what}"),
        &http_status(wd).await?.to_string(),
        "410",
    )?;
    if wd.find("#signin-link-form").await?.is_some() {
        bail!("{what} still offers the form to choose a password");
    }
    expect_contains(
        &format!("the title of {what}"),
        &wd.title().await?,
        "Passerelle",
    )?;
    Ok(detail)
}

async fn screenshot(wd: &WebDriver, name: &str) -> Result<()> {
    if std::env::var_os(SCREENSHOT_DIR).is_some() {
        wd.fit_window_to_page().await?;
    }
    wd.screenshot_to_dir_from_env(SCREENSHOT_DIR, name).await
}

/// Ask for a reset link on the forgotten password page (already shown) for `email`; the
/// text of the answer's `main`.
async fn ask_reset(wd: &WebDriver, email: &str) -> Result<String> {
    wd.wait_for("#forgot-form").await?;
    wd.fill("#forgot-form input[name=\"email\"]", email).await?;
    mark_page(wd).await?;
    wd.click(&wd.wait_for("#forgot-form button[type=\"submit\"]").await?)
        .await?;
    let sent = new_page(wd, "#forgot-sent")
        .await
        .with_context(|| format!("the answer for {email}"))?;
    expect_contains(&format!("the answer for {email}"), &sent, SENT_EN)?;
    expect_eq("path after asking", &wd.path().await?, "/forgot")?;
    new_page(wd, "main").await
}

async fn scenario(wd: &WebDriver, app: &TestApp, smtp: &SmtpServer) -> Result<()> {
    // 1. The administrator invites a colleague: the user form with an empty password.
    sign_in(wd, app, ADMIN, PASSWORD).await?;
    wd.goto(&app.url("/admin/users")).await?;
    let form = "#user-form";
    wd.wait_for_text(
        &format!("{form} .hint"),
        "Leave it empty to invite the person",
    )
    .await
    .context("the invitation hint of the user form")?;
    wd.fill(&format!("{form} input[name=\"email\"]"), NEW)
        .await?;
    wd.fill(&format!("{form} input[name=\"display_name\"]"), NEW_NAME)
        .await?;
    wd.select(&format!("{form} select[name=\"role\"]"), "advocate")
        .await?;
    expect_eq(
        "the password field",
        &wd.property(
            &wd.wait_for(&format!("{form} input[name=\"password\"]"))
                .await?,
            "value",
        )
        .await?,
        "",
    )?;
    wd.click(
        &wd.wait_for(&format!("{form} button[type=\"submit\"]"))
            .await?,
    )
    .await?;
    flash(wd, "User added.").await?;
    expect_eq("path after adding", &wd.path().await?, "/admin/users")?;
    wd.wait_for_text("table tbody tr", NEW)
        .await
        .context("the new user in the list")?;
    let got = mails(smtp, 1).await?;
    expect_eq("who got mail", &recipients(&got).join(" "), NEW)?;
    let invitation = &got[0];
    expect_eq(
        "the invitation's subject",
        &invitation.header("Subject").unwrap_or_default(),
        "[Passerelle] Your account: choose your password",
    )?;
    let invitation_path = signin_path(invitation)?;
    sign_out(wd).await?;

    // The colleague opens the link: the form names the account.
    wd.goto(&app.url(&invitation_path)).await?;
    wd.wait_for("#signin-link-form").await?;
    expect_eq(
        "the HTTP status of the link's page",
        &http_status(wd).await?.to_string(),
        "200",
    )?;
    let (_, h1) = wd.wait_for_text("h1", "Choose your password").await?;
    expect_eq("the link page's heading", h1.trim(), "Choose your password")?;
    let (_, hint) = wd.wait_for_text("main .hint", NEW).await?;
    expect_contains("the account named", &hint, "For the account")?;
    screenshot(wd, "signin-link-form.png").await?;
    // Two different passwords: refused beside the form, the link still usable.
    wd.fill("#signin-link-form input[name=\"password\"]", NEW_PASSWORD)
        .await?;
    wd.fill(
        "#signin-link-form input[name=\"confirm\"]",
        "another fine password",
    )
    .await?;
    mark_page(wd).await?;
    wd.click(
        &wd.wait_for("#signin-link-form button[type=\"submit\"]")
            .await?,
    )
    .await?;
    let error = new_page(wd, "#signin-link-error")
        .await
        .context("two different passwords")?;
    expect_contains("the refusal", &error, "The two passwords differ.")?;
    expect_eq(
        "path after the refusal",
        &wd.path().await?,
        &invitation_path,
    )?;
    // The same password twice: saved, and the login page says so.
    wd.fill("#signin-link-form input[name=\"password\"]", NEW_PASSWORD)
        .await?;
    wd.fill("#signin-link-form input[name=\"confirm\"]", NEW_PASSWORD)
        .await?;
    wd.click(
        &wd.wait_for("#signin-link-form button[type=\"submit\"]")
            .await?,
    )
    .await?;
    flash(wd, "Your password is saved. Sign in with it.")
        .await
        .context("after saving the password")?;
    expect_eq("path after saving", &wd.path().await?, "/login")?;
    wd.wait_for("#login-submit").await?;
    // Signing in with it reaches the home page as the new colleague.
    sign_in(wd, app, NEW, NEW_PASSWORD).await?;
    expect_eq("path after signing in", &wd.path().await?, "/")?;
    wd.wait_for_text("h1", "Start")
        .await
        .context("the home page")?;
    wd.wait_for_text("#home-role", "Advocate")
        .await
        .context("the role on the home page")?;
    wd.wait_for_text("header .who", NEW_NAME)
        .await
        .context("the name of who is signed in")?;
    sign_out(wd).await?;

    // 2. The same link again: used.
    wd.goto(&app.url(&invitation_path)).await?;
    let detail = expect_refused(wd, "the used invitation link", USED_EN).await?;
    expect_contains("the refusal", &detail, "Forgot your password?")?;
    screenshot(wd, "signin-link-used.png").await?;

    // 3. "Forgot your password?" from the login page: the same answer with an account and
    //    without one; only the account gets a mail.
    wd.goto(&app.url("/login")).await?;
    let (link, text) = wd
        .wait_for_text("#forgot-link", "Forgot your password?")
        .await?;
    expect_eq("the link's words", text.trim(), "Forgot your password?")?;
    wd.click(&link).await?;
    wd.wait_for("#forgot-form")
        .await
        .context("after the link")?;
    expect_eq("path of the form", &wd.path().await?, "/forgot")?;
    if wd.find("#forgot-sent").await?.is_some() {
        bail!("the forgotten password page says a link was sent before anything was asked");
    }
    let known = ask_reset(wd, NEW).await?;
    screenshot(wd, "forgot-sent.png").await?;
    let unknown = ask_reset(wd, NOBODY).await?;
    expect_eq(
        "the answer without an account (the same as with one)",
        &unknown,
        &known,
    )?;
    let got = mails(smtp, 2).await?;
    // Give a mail to the unknown address the time to arrive, if one were sent.
    let got = if got.len() == 2 {
        smtp.wait_for(3, 2).await
    } else {
        got
    };
    expect_eq(
        "who got mail (the invitation and one reset)",
        &recipients(&got).join(" "),
        &format!("{NEW} {NEW}"),
    )?;
    let reset = &got[1];
    expect_eq(
        "the reset's subject",
        &reset.header("Subject").unwrap_or_default(),
        "[Passerelle] Choose a new password",
    )?;
    let reset_path = signin_path(reset)?;
    if reset_path == invitation_path {
        bail!("the reset mail carries the invitation's link");
    }

    // 4. The reset link, expired in the database, is refused.
    let expired = signin_token::Entity::update_many()
        .col_expr(
            signin_token::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.services.db)
        .await
        .context("expiring the links")?;
    if expired.rows_affected < 2 {
        bail!(
            "{} link(s) expired, expected the invitation and the reset",
            expired.rows_affected
        );
    }
    wd.goto(&app.url(&reset_path)).await?;
    let detail = expect_refused(wd, "the expired reset link", EXPIRED_EN).await?;
    expect_contains("the refusal", &detail, "valid 30 minutes")?;

    // 5. In French, through the language switch of the refused page.
    wd.click(&wd.wait_for("#lang-fr").await?).await?;
    wd.wait_for("html[lang=\"fr\"]")
        .await
        .context("after clicking #lang-fr")?;
    expect_eq("path in French", &wd.path().await?, &reset_path)?;
    let detail = expect_refused(wd, "the expired reset link in French", EXPIRED_FR).await?;
    expect_contains("the French refusal", &detail, "Mot de passe oublié ?")?;
    screenshot(wd, "signin-link-expired-fr.png").await?;
    wd.goto(&app.url(&invitation_path)).await?;
    wd.wait_for("html[lang=\"fr\"]").await?;
    expect_refused(wd, "the used invitation link in French", USED_FR).await?;
    Ok(())
}
