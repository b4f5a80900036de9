//! Browser test (headless Chromium), acceptance item "A browser test records a hearing,
//! requests and grants a measure, and sees the conflict appear and clear": an advocate
//! signs in, opens the proceedings page of a case with one open proceeding, records a
//! trial session in 60 days that needs the person's testimony (no conflict yet), records a
//! planned departure in 30 days (the trial session is now in conflict, on the proceedings
//! page and on the case page), requests the live video link from the conflict (the conflict
//! stays, the request is pending), grants it (the conflict clears: the trial session is by
//! live video link, and the case page no longer warns).
//!
//! The case and its proceeding are set up through the JSON API; the hearing, the departure,
//! the request and the grant go through the page's forms.
//!
//! Environment: as `browser.rs` (`PASSERELLE_CHROMEDRIVER`, `PASSERELLE_CHROMIUM`,
//! `PASSERELLE_REQUIRE_EXTERNAL`), plus `PASSERELLE_SCREENSHOT_DIR`: when set, PNG
//! screenshots of the proceedings page with the conflict (`proceedings-conflict.png`) and
//! after the grant (`proceedings-cleared.png`) are written there, for a manual look.
//!
//! Run: `cargo test -p passerelle-tests --test browser_trial -- --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context, Result, bail};
use chrono::{Days, NaiveDate, Utc};
use passerelle_tests::webdriver::{ChromeDriver, Programs, WebDriver, expect_contains, expect_eq};
use passerelle_tests::{PASSWORD, TestApp, spawn_app};
use serde_json::{Value, json};
use std::time::Duration;

/// The whole browser scenario must finish within this time.
const SCENARIO_LIMIT: Duration = Duration::from_secs(60);
/// Where screenshots go when wanted.
const SCREENSHOT_DIR: &str = "PASSERELLE_SCREENSHOT_DIR";
const EMAIL: &str = "advocate@ngo.test";
/// The live video link's label in the default (seed) catalogue.
const LIVE_LINK: &str = "Live video link from the country of origin";

fn in_days(n: u64) -> NaiveDate {
    Utc::now()
        .date_naive()
        .checked_add_days(Days::new(n))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_hearing_departure_conflict_request_and_grant() {
    let Some(programs) = Programs::find_or_skip() else {
        return;
    };
    let driver = ChromeDriver::start(&programs.chromedriver)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let app = spawn_app().await;
    app.world().await;
    let api = app.api_login(EMAIL).await;
    let reference = app.create_case(&api, "Precious Witnessfield-Eze").await;
    assert!(!reference.is_empty(), "the API gave no case reference");
    // One open proceeding, without hearings: those are recorded in the browser.
    let r = api
        .post(app.url(&format!("/api/v1/cases/{reference}/proceedings")))
        .json(
            &json!({"court": "Tribunal judiciaire de Lyon", "jurisdiction": "Lyon",
            "case_number": "TJ-24/0917", "charges": ["trafficking"],
            "person_role": "victim_witness"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "add proceeding");
    let v: Value = r.json().await.unwrap();
    let proceeding = v["id"].as_str().unwrap().to_owned();

    let wd = WebDriver::new_session(&driver, &programs.chromium)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e:#}\n{}", driver.log()));
    // Closes the browser whatever happened; chromedriver itself is killed by its guard.
    wd.run(SCENARIO_LIMIT, scenario(&wd, &app, &reference, &proceeding))
        .await;
}

/// Set an `<input type="date">` (typing into one depends on the browser's locale).
async fn set_date(wd: &WebDriver, css: &str, date: NaiveDate) -> Result<()> {
    let input = wd.wait_for(css).await?;
    wd.execute(
        "arguments[0].value = arguments[1];",
        vec![input.to_json(), json!(date.to_string())],
    )
    .await?;
    expect_eq(
        &format!("value of {css}"),
        &wd.property(&input, "value").await?,
        &date.to_string(),
    )
}

/// The class attribute of the element matching `css`.
async fn class_of(wd: &WebDriver, css: &str) -> Result<String> {
    wd.attribute_of(css, "class").await
}

async fn scenario(wd: &WebDriver, app: &TestApp, reference: &str, proceeding: &str) -> Result<()> {
    let hearing_on = in_days(60);
    let departure_on = in_days(30);
    let proceedings_path = format!("/cases/{reference}/proceedings");
    let section = format!("#p-{proceeding}");

    // 1. Sign in through the HTML form and open the proceedings page.
    wd.goto(&app.url("/login")).await?;
    wd.fill("#email", EMAIL).await?;
    wd.fill("#password", PASSWORD).await?;
    wd.click(&wd.wait_for("#login-submit").await?).await?;
    wd.wait_for("#nav-new-case")
        .await
        .context("after signing in")?;
    wd.goto(&app.url(&proceedings_path)).await?;
    let form = format!("{section} form.add-hearing");
    wd.wait_for(&form)
        .await
        .with_context(|| format!("the add-hearing form on {proceedings_path}"))?;
    wd.wait_for("#no-conflict")
        .await
        .context("before any hearing")?;

    // 2. Record a trial session in 60 days that needs the person's testimony.
    wd.select(&format!("{form} select[name=\"kind\"]"), "trial_session")
        .await?;
    set_date(wd, &format!("{form} input[name=\"held_on\"]"), hearing_on).await?;
    let testimony = wd
        .wait_for(&format!("{form} input[name=\"testimony_required\"]"))
        .await?;
    wd.click(&testimony).await?;
    if !wd.is_selected(&testimony).await? {
        bail!("the \"testimony required\" checkbox is not ticked after clicking it");
    }
    wd.click(
        &wd.wait_for(&format!("{form} button[type=\"submit\"]"))
            .await?,
    )
    .await?;
    let (row, row_text) = wd
        .wait_for_text("#hearings tbody tr", &hearing_on.to_string())
        .await
        .context("the new hearing in the calendar")?;
    expect_eq(
        "path after recording the hearing",
        &wd.path().await?,
        &proceedings_path,
    )?;
    for expected in ["Trial session", "Tribunal judiciaire de Lyon", "testimony"] {
        expect_contains("the hearing's calendar row", &row_text, expected)?;
    }
    let hearing = wd
        .execute(
            "return arguments[0].getAttribute('data-hearing');",
            vec![row.to_json()],
        )
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if hearing.is_empty() {
        bail!("the calendar row has no data-hearing: {row_text:?}");
    }
    let hearing_row = format!("#hearings tr[data-hearing=\"{hearing}\"]");
    let mode = wd
        .text(&wd.wait_for(&format!("{hearing_row} td.mode")).await?)
        .await?;
    expect_eq(
        "testimony mode before any measure",
        mode.trim(),
        "in person",
    )?;
    if class_of(wd, &hearing_row).await?.contains("overdue") {
        bail!("the hearing is marked in conflict while no departure is planned");
    }
    wd.wait_for("#no-conflict")
        .await
        .context("after recording the hearing, with no departure planned")?;

    // 3. Record a planned departure in 30 days: the trial session is now in conflict.
    set_date(
        wd,
        "#departure-form input[name=\"departure_on\"]",
        departure_on,
    )
    .await?;
    wd.click(
        &wd.wait_for("#departure-form button[type=\"submit\"]")
            .await?,
    )
    .await?;
    wd.wait_for_text("#departure-date", &departure_on.to_string())
        .await
        .context("after recording the departure")?;
    let conflict = format!("#conflicts li.conflict[data-hearing=\"{hearing}\"]");
    let (_, conflict_text) = wd
        .wait_for_text(&conflict, &departure_on.to_string())
        .await
        .context("the conflict after recording the departure")?;
    expect_contains("the conflict", &conflict_text, &hearing_on.to_string())?;
    expect_contains("the conflict", &conflict_text, "Trial session")?;
    expect_contains("the conflict", &conflict_text, LIVE_LINK)?;
    let conflicts = wd.find_all("#conflicts li.conflict").await?;
    expect_eq("number of conflicts", &conflicts.len().to_string(), "1")?;
    if wd.find("#no-conflict").await?.is_some() {
        bail!("#no-conflict is still shown beside the conflict");
    }
    expect_contains(
        "the hearing row's class",
        &class_of(wd, &hearing_row).await?,
        "overdue",
    )?;
    let mode = wd
        .text(&wd.wait_for(&format!("{hearing_row} td.mode")).await?)
        .await?;
    expect_contains("the hearing's testimony mode", &mode, "conflict")?;
    if std::env::var_os(SCREENSHOT_DIR).is_some() {
        wd.fit_window_to_page().await?;
    }
    wd.screenshot_to_dir_from_env(SCREENSHOT_DIR, "proceedings-conflict.png")
        .await?;

    // 4. Request the live video link from the conflict: it is pending, the conflict stays.
    let alternative = format!("{conflict} li.alternative[data-measure=\"live_video_link\"]");
    wd.click(
        &wd.wait_for(&format!("{alternative} button.request-alternative"))
            .await?,
    )
    .await?;
    let measure_rows = format!("{section} tr[data-measure-request]");
    let (measure_row, measure_text) = wd
        .wait_for_text(&measure_rows, LIVE_LINK)
        .await
        .context("the requested measure")?;
    let status = wd
        .execute(
            "return arguments[0].querySelector('td.status').textContent;",
            vec![measure_row.to_json()],
        )
        .await?;
    expect_eq(
        "status of the requested measure",
        status.as_str().unwrap_or_default().trim(),
        "requested",
    )
    .with_context(|| format!("the measure row reads: {measure_text:?}"))?;
    // Requested for the trial session, not for the whole proceeding.
    expect_contains(
        "the measure row",
        &measure_text,
        &format!("{hearing_on} — Trial session"),
    )?;
    let measure = wd
        .execute(
            "return arguments[0].getAttribute('data-measure-request');",
            vec![measure_row.to_json()],
        )
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (_, alternative_text) = wd
        .wait_for_text(&alternative, "requested, awaiting the decision")
        .await
        .context("the conflict after the request")?;
    if wd
        .find(&format!("{alternative} button.request-alternative"))
        .await?
        .is_some()
    {
        bail!("the pending alternative still offers a request button: {alternative_text:?}");
    }
    expect_eq(
        "number of conflicts after the request",
        &wd.find_all("#conflicts li.conflict")
            .await?
            .len()
            .to_string(),
        "1",
    )?;
    expect_contains(
        "the hearing row's class",
        &class_of(wd, &hearing_row).await?,
        "overdue",
    )?;

    // The case page warns about the conflict and leads back to it.
    let case_path = format!("/cases/{reference}");
    wd.goto(&app.url(&case_path)).await?;
    let (_, banner) = wd
        .wait_for_text("#case-conflicts", &hearing_on.to_string())
        .await
        .with_context(|| format!("the conflict banner on {case_path}"))?;
    expect_contains("#case-conflicts", &banner, &departure_on.to_string())?;
    // Act by: the video recording's last useful date, 14 days before the departure.
    expect_contains(
        "#case-conflicts",
        &banner,
        &format!("act by {}", in_days(16)),
    )?;
    wd.click(
        &wd.wait_for_link("See the conflicts and what to request")
            .await?,
    )
    .await?;
    let grant =
        format!("{section} tr[data-measure-request=\"{measure}\"] form.decide button.grant");
    wd.wait_for(&grant)
        .await
        .context("back on the proceedings page from the case page")?;
    expect_eq("path from the banner", &wd.path().await?, &proceedings_path)?;

    // 5. Grant it, as the court decided (who and the order's reference are recorded):
    // the conflict clears and the trial session is by live video link.
    wd.select(
        &format!("{section} tr[data-measure-request=\"{measure}\"] form.decide select[name=\"authority\"]"),
        "court",
    )
    .await?;
    wd.fill(
        &format!("{section} tr[data-measure-request=\"{measure}\"] form.decide input[name=\"decision_reference\"]"),
        "Ordonnance 26/117",
    )
    .await?;
    wd.click(&wd.wait_for(&grant).await?).await?;
    wd.wait_for("#no-conflict")
        .await
        .context("after the grant")?;
    if !wd.find_all("#conflicts li.conflict").await?.is_empty() {
        bail!("a conflict is still listed after the grant");
    }
    let (_, measure_text) = wd
        .wait_for_text(
            &format!("{section} tr[data-measure-request=\"{measure}\"] td.status"),
            "granted",
        )
        .await?;
    expect_eq(
        "status of the granted measure",
        measure_text.trim(),
        "granted",
    )?;
    if wd.find(&grant).await?.is_some() {
        bail!("the granted measure still offers a grant button");
    }
    let mode = wd
        .text(&wd.wait_for(&format!("{hearing_row} td.mode")).await?)
        .await?;
    expect_eq(
        "testimony mode after the grant",
        mode.trim(),
        "live video link",
    )?;
    let row_text = wd.text(&wd.wait_for(&hearing_row).await?).await?;
    expect_contains("the hearing's calendar row", &row_text, LIVE_LINK)?;
    if class_of(wd, &hearing_row).await?.contains("overdue") {
        bail!("the hearing is still marked in conflict after the grant");
    }
    if std::env::var_os(SCREENSHOT_DIR).is_some() {
        wd.fit_window_to_page().await?;
    }
    wd.screenshot_to_dir_from_env(SCREENSHOT_DIR, "proceedings-cleared.png")
        .await?;

    // 6. The case page no longer warns.
    wd.goto(&app.url(&case_path)).await?;
    wd.wait_for("#proceedings-link")
        .await
        .with_context(|| format!("on {case_path} after the grant"))?;
    if let Some(banner) = wd.find("#case-conflicts").await? {
        bail!(
            "#case-conflicts is still shown after the grant: {:?}",
            wd.text(&banner).await?
        );
    }
    Ok(())
}
