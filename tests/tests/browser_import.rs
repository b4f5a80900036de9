//! Browser test (headless Chromium): the caseload import page, in French, as the
//! organisation's administrator. A file with problems is chosen and checked: the report
//! lists each one by row and column, in French (a bad date, an unknown country, a formula),
//! and nothing is created; "Importer" on the same file is refused with the same report;
//! a clean file is checked ("prêt à être importé"), then imported: the page names the
//! references created, and the caseload holds the cases.
//!
//! Environment: as `browser.rs`, plus `PASSERELLE_SCREENSHOT_DIR`: when set, PNG
//! screenshots of the report (`import-report-fr.png`) and of the import done
//! (`import-done-fr.png`) are written there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context, Result};
use passerelle_tests::webdriver::{ChromeDriver, Programs, WebDriver, expect_contains};
use passerelle_tests::{PASSWORD, TestApp, get_json, spawn_app};
use std::path::Path;
use std::time::Duration;

const SCENARIO_LIMIT: Duration = Duration::from_secs(120);
const SCREENSHOT_DIR: &str = "PASSERELLE_SCREENSHOT_DIR";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_the_import_page_reports_problems_in_french_then_imports_a_clean_file() {
    let Some(programs) = Programs::find_or_skip() else {
        return;
    };
    let driver = ChromeDriver::start(&programs.chromedriver)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "admin@ngo.test", "org_admin").await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("file-active.csv");
    std::fs::write(
        &bad,
        "name,birthdate,is_minor,nationality,stateless,notes\n\
         Amina Diallo,1990-02-30,no,NG,no,\n\
         Joy Okafor,1992-01-01,no,Nigeria,no,\n\
         Ade Bello,1990-01-01,no,NG,no,=cmd|' /C calc'!A0\n",
    )
    .unwrap();
    let good = dir.path().join("file-propre.csv");
    std::fs::write(
        &good,
        "name,birthdate,is_minor,nationality,stateless\n\
         Amina Diallo,1990-02-28,no,NG,no\n\
         Joy Okafor,1992-01-01,no,GH,no\n",
    )
    .unwrap();
    let wd = WebDriver::new_session(&driver, &programs.chromium)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e:#}\n{}", driver.log()));
    wd.run(SCENARIO_LIMIT, scenario(&wd, &app, &bad, &good))
        .await;
}

async fn choose(wd: &WebDriver, file: &Path) -> Result<()> {
    let input = wd.wait_for("input[type=file]").await?;
    wd.send_keys(&input, file.to_str().context("path")?).await
}

async fn report(wd: &WebDriver) -> Result<String> {
    let (_, text) = wd.wait_for_text("#import-result", "").await?;
    Ok(text)
}

async fn scenario(wd: &WebDriver, app: &TestApp, bad: &Path, good: &Path) -> Result<()> {
    wd.goto(&app.url("/login")).await?;
    wd.fill("#email", "admin@ngo.test").await?;
    wd.fill("#password", PASSWORD).await?;
    wd.click(&wd.wait_for("#login-submit").await?).await?;
    wd.wait_for("#logout").await.context("signed in")?;
    wd.goto(&app.url("/lang/fr?next=/imports/cases")).await?;
    wd.wait_for_text("h1", "Importer une file active").await?;

    // The file with problems, checked: each one in French, by row and column.
    choose(wd, bad).await?;
    wd.click(&wd.wait_for("#import-check").await?).await?;
    wd.wait_for("#import-problems").await?;
    let text = report(wd).await?;
    expect_contains("the report", &text, "3 lignes lues, 3 problèmes.")?;
    expect_contains(
        "a bad date",
        &text,
        "doit être une date réelle écrite AAAA-MM-JJ",
    )?;
    expect_contains(
        "an unknown country",
        &text,
        "code ISO 3166-1 à deux lettres",
    )?;
    expect_contains("a formula", &text, "comme une formule de tableur")?;
    let rows = wd.find_all("#import-problems tbody tr").await?;
    anyhow::ensure!(rows.len() == 3, "{} rows in the report: {text}", rows.len());
    let mut first = Vec::new();
    for td in wd
        .find_all("#import-problems tbody tr:first-child td")
        .await?
    {
        first.push(wd.text(&td).await?.trim().to_owned());
    }
    anyhow::ensure!(
        first[..3] == ["2", "birthdate", "1990-02-30"],
        "the first problem: {first:?}"
    );
    wd.fit_window_to_page().await?;
    wd.screenshot_to_dir_from_env(SCREENSHOT_DIR, "import-report-fr.png")
        .await?;

    // Importing it anyway: refused whole, the same report.
    choose(wd, bad).await?;
    wd.click(&wd.wait_for("#import-go").await?).await?;
    wd.wait_for_text("#import-refused", "Rien n’a été importé")
        .await?;

    // The clean file: ready, then imported.
    choose(wd, good).await?;
    wd.click(&wd.wait_for("#import-check").await?).await?;
    wd.wait_for_text("#import-ready", "prêt à être importé")
        .await?;
    choose(wd, good).await?;
    wd.click(&wd.wait_for("#import-go").await?).await?;
    let (_, done) = wd.wait_for_text("#import-done", "Dossiers créés").await?;
    expect_contains("the references", &done, "PSG-")?;
    expect_contains("how many", &done, "(2)")?;
    wd.screenshot_to_dir_from_env(SCREENSHOT_DIR, "import-done-fr.png")
        .await?;
    // The cases exist (read over the API as the organisation's advocate).
    let adv = app.api_login("advocate@ngo.test").await;
    let (st, v) = get_json(&adv, app.url("/api/v1/cases")).await;
    anyhow::ensure!(st == 200 && v["total"] == 2, "{st} {v}");
    Ok(())
}
