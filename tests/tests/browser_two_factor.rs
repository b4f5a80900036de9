//! Browser test (headless Chromium): two-factor sign-in (issue 15, acceptance 2). The codes
//! are computed from the secret the page shows, as an authenticator application would.
//!
//! - an organisation's administrator (a role that must have a second factor) signs in and
//!   is taken to the enrolment; "Set up" draws the QR code (inline SVG) and shows the
//!   secret; the first code turns it on and shows ten recovery codes;
//! - signed out and in again: the password leads to the code's page; the code already
//!   used is refused beside the form; a recovery code signs in;
//! - the HTCDS export page asks for the password and a code; with both, the export form
//!   says the session is re-authenticated;
//! - signed out again, a fresh code (the next time step, as a phone shows it) signs in.
//!
//! Environment: as `browser.rs` (`PASSERELLE_CHROMEDRIVER`, `PASSERELLE_CHROMIUM`,
//! `PASSERELLE_REQUIRE_EXTERNAL`), plus `PASSERELLE_SCREENSHOT_DIR`: when set, PNG
//! screenshots of the enrolment (`two-factor-enrol.png`), the recovery codes
//! (`two-factor-codes.png`) and the refused code (`two-factor-refused.png`).
//!
//! Run: `cargo test -p passerelle-tests --test browser_two_factor -- --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context, Result, bail};
use chrono::Utc;
use passerelle_core::two_factor::{STEP_SECONDS, code_for_base32};
use passerelle_tests::webdriver::{ChromeDriver, Programs, WebDriver, expect_contains};
use passerelle_tests::{PASSWORD, TestApp, postgres_admin_url, spawn_app_with};
use std::time::Duration;

const SCENARIO_LIMIT: Duration = Duration::from_secs(150);
const SCREENSHOT_DIR: &str = "PASSERELLE_SCREENSHOT_DIR";
const ADMIN: &str = "admin@ngo.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_enrolment_codes_used_once_recovery_codes_and_re_authentication() {
    let Some(programs) = Programs::find_or_skip() else {
        return;
    };
    let driver = ChromeDriver::start(&programs.chromedriver)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let app = spawn_app_with(postgres_admin_url(), |s| {
        s.security.two_factor_roles = "org_admin".into();
    })
    .await;
    let w = app.world().await;
    app.user(w.ngo, ADMIN, "org_admin").await;
    let wd = WebDriver::new_session(&driver, &programs.chromium)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e:#}\n{}", driver.log()));
    wd.run(SCENARIO_LIMIT, scenario(&wd, &app)).await;
}

fn now() -> u64 {
    u64::try_from(Utc::now().timestamp()).unwrap()
}

async fn password_step(wd: &WebDriver, app: &TestApp) -> Result<()> {
    wd.goto(&app.url("/login")).await?;
    wd.fill("#email", ADMIN).await?;
    wd.fill("#password", PASSWORD).await?;
    wd.click(&wd.wait_for("#login-submit").await?).await?;
    Ok(())
}

async fn sign_out(wd: &WebDriver) -> Result<()> {
    wd.click(&wd.wait_for("#logout").await?).await?;
    wd.wait_for("#login-submit").await.context("signed out")?;
    Ok(())
}

async fn scenario(wd: &WebDriver, app: &TestApp) -> Result<()> {
    // Held at the enrolment.
    password_step(wd, app).await?;
    wd.wait_for("#two-factor-missing")
        .await
        .context("an administrator without a second factor lands on the enrolment")?;
    expect_contains("the path", &wd.path().await?, "/account/two-factor")?;
    wd.click(&wd.wait_for("#start-submit").await?).await?;
    wd.wait_for("#two-factor-qr svg")
        .await
        .context("the QR code, drawn inline")?;
    let secret = wd.text(&wd.wait_for("#two-factor-secret").await?).await?;
    if secret.len() < 26 {
        bail!("the secret shown is {secret:?}");
    }
    wd.screenshot_to_dir_from_env(SCREENSHOT_DIR, "two-factor-enrol.png")
        .await?;
    let t0 = now();
    let first = code_for_base32(&secret, t0).unwrap();
    wd.fill("#code", &first).await?;
    wd.click(&wd.wait_for("#confirm-submit").await?).await?;
    wd.wait_for("#recovery-codes")
        .await
        .context("the recovery codes")?;
    let codes = wd.find_all("#recovery-codes li code").await?;
    if codes.len() != 10 {
        bail!("{} recovery codes shown, 10 expected", codes.len());
    }
    let recovery = wd.text(&codes[0]).await?;
    wd.screenshot_to_dir_from_env(SCREENSHOT_DIR, "two-factor-codes.png")
        .await?;
    wd.click(&wd.wait_for("#two-factor-continue").await?)
        .await?;
    sign_out(wd).await?;

    // The password, then the code's page: the code already used is refused.
    password_step(wd, app).await?;
    wd.wait_for("#code-form").await.context("the code's page")?;
    wd.fill("#code", &first).await?;
    wd.click(&wd.wait_for("#code-submit").await?).await?;
    let (_, refused) = wd
        .wait_for_text("#error-detail", "already used")
        .await
        .context("a used code is refused")?;
    expect_contains("the refusal", &refused, "not the current one")?;
    wd.screenshot_to_dir_from_env(SCREENSHOT_DIR, "two-factor-refused.png")
        .await?;
    // A recovery code signs in.
    wd.fill("#code", &recovery).await?;
    wd.click(&wd.wait_for("#code-submit").await?).await?;
    wd.wait_for("#logout")
        .await
        .context("signed in with a recovery code")?;

    // Re-authentication before the export: the password and a code.
    wd.goto(&app.url("/exports/htcds")).await?;
    wd.fill("#password", PASSWORD).await?;
    let next = code_for_base32(&secret, t0 + STEP_SECONDS).unwrap();
    wd.fill("#code", &next).await?;
    wd.click(&wd.wait_for("#reauth-form button").await?).await?;
    wd.wait_for_text("#reauth-status", "until")
        .await
        .context("re-authenticated with the password and a code")?;
    sign_out(wd).await?;

    // A fresh code, as the phone shows it a step later, signs in.
    let next_step = (t0 / STEP_SECONDS + 1) * STEP_SECONDS;
    while now() < next_step {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    password_step(wd, app).await?;
    wd.wait_for("#code-form").await?;
    let fresh = code_for_base32(&secret, now() + STEP_SECONDS).unwrap();
    wd.fill("#code", &fresh).await?;
    wd.click(&wd.wait_for("#code-submit").await?).await?;
    wd.wait_for("#logout")
        .await
        .context("signed in with a fresh code")?;
    Ok(())
}
