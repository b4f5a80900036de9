//! Browser test (headless Chromium): sign in (to the home), create a case, find it in the caseload,
//! switch the page to French, sign out.
//!
//! The test starts its own `chromedriver` on a free local port and drives Chromium through
//! the W3C WebDriver protocol with the small client of `passerelle_tests::webdriver`.
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

use anyhow::{Context, Result, bail};
use passerelle_tests::webdriver::{ChromeDriver, Programs, WebDriver, expect_eq};
use passerelle_tests::{PASSWORD, TestApp, spawn_app};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// The whole browser scenario must finish within this time.
const SCENARIO_LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_sign_in_create_case_caseload_french_sign_out() {
    let Some(programs) = Programs::find_or_skip() else {
        return;
    };
    let driver = ChromeDriver::start(&programs.chromedriver)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let app = spawn_app().await;
    let org = app.org("Passage", "victim_advocacy", "FR").await;
    let email = "advocate@browser.test";
    app.user(org, email, "advocate").await;

    let wd = WebDriver::new_session(&driver, &programs.chromium)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e:#}\n{}", driver.log()));
    // Closes the browser whatever happened; chromedriver itself is killed by its guard.
    wd.run(SCENARIO_LIMIT, scenario(&wd, &app, email)).await;
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

    // 2. Landed on the home, with its cases below, which offers "New case".
    let new_case = wd
        .wait_for("#nav-new-case")
        .await
        .context("after signing in")?;
    wd.wait_for("#home-cases")
        .await
        .context("the home's cases")?;
    let path = wd.path().await?;
    if path != "/" {
        bail!("after signing in the browser is on {path}, expected the home, /");
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
        vec![birth.to_json(), json!("1994-03-02")],
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
        wd.save_screenshot(Path::new(&path)).await?;
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
