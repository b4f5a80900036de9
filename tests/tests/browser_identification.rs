//! Browser test (headless Chromium), acceptance item "A browser test runs a screening
//! interview in French and records a determination": an advocate signs in, switches to
//! French, opens a case's identification stage, starts a screening interview one question
//! at a time with an interpreter, answers two questions, stops, finds both answers on the
//! stage page, records "presumed victim" and sees the recovery and reflection period's end
//! among the case's deadlines, 30 days later.
//!
//! Environment: as `browser.rs` (`PASSERELLE_CHROMEDRIVER`, `PASSERELLE_CHROMIUM`,
//! `PASSERELLE_REQUIRE_EXTERNAL`), plus `PASSERELLE_SCREENSHOT_DIR`: when set, PNG
//! screenshots of the French interview page (`identification-interview-fr.png`) and of the
//! identification page (`identification-fr.png`) are written there, for a manual look.
//!
//! Run: `cargo test -p passerelle-tests --test browser_identification -- --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context, Result, bail};
use passerelle_tests::webdriver::{ChromeDriver, Programs, WebDriver, expect_contains, expect_eq};
use passerelle_tests::{PASSWORD, TestApp, spawn_app};
use std::time::Duration;

/// The whole browser scenario must finish within this time.
const SCENARIO_LIMIT: Duration = Duration::from_secs(60);
/// Where screenshots go when wanted.
const SCREENSHOT_DIR: &str = "PASSERELLE_SCREENSHOT_DIR";
const EMAIL: &str = "advocate@ngo.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_screening_interview_in_french_and_determination() {
    let Some(programs) = Programs::find_or_skip() else {
        return;
    };
    let driver = ChromeDriver::start(&programs.chromedriver)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let app = spawn_app().await;
    app.world().await;
    let api = app.api_login(EMAIL).await;
    let reference = app
        .create_case(&api, "Blessing Interviewfield-Okafor")
        .await;
    assert!(!reference.is_empty(), "the API gave no case reference");

    let wd = WebDriver::new_session(&driver, &programs.chromium)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e:#}\n{}", driver.log()));
    // Closes the browser whatever happened; chromedriver itself is killed by its guard.
    wd.run(SCENARIO_LIMIT, scenario(&wd, &app, &reference))
        .await;
}

async fn scenario(wd: &WebDriver, app: &TestApp, reference: &str) -> Result<()> {
    // 1. Sign in through the HTML form, then switch to French.
    wd.goto(&app.url("/login")).await?;
    wd.fill("#email", EMAIL).await?;
    wd.fill("#password", PASSWORD).await?;
    wd.click(&wd.wait_for("#login-submit").await?).await?;
    wd.wait_for("#nav-new-case")
        .await
        .context("after signing in")?;
    wd.click(&wd.wait_for("#lang-fr").await?).await?;
    wd.wait_for("html[lang=\"fr\"]")
        .await
        .context("after clicking #lang-fr")?;

    // 2. The case page leads to the identification stage.
    let case_path = format!("/cases/{reference}");
    wd.goto(&app.url(&case_path)).await?;
    let link = wd
        .wait_for("#identification-link")
        .await
        .with_context(|| format!("on {case_path}"))?;
    wd.click(&link).await?;
    let form = "#start-interview";
    wd.wait_for(form)
        .await
        .context("after following #identification-link")?;
    let stage_path = format!("/cases/{reference}/identification");
    expect_eq("identification path", &wd.path().await?, &stage_path)?;
    expect_eq("lang", &wd.attribute_of("html", "lang").await?, "fr")?;

    // 3. Start an interview: in Edo, with an interpreter, one question at a time.
    wd.fill(&format!("{form} input[name=\"language\"]"), "Edo")
        .await?;
    let interpreter = wd
        .wait_for(&format!("{form} input[name=\"interpreter\"]"))
        .await?;
    wd.click(&interpreter).await?;
    if !wd.is_selected(&interpreter).await? {
        bail!("the interpreter checkbox is not ticked after clicking it");
    }
    wd.select(&format!("{form} select[name=\"mode\"]"), "one")
        .await?;
    wd.click(&wd.wait_for("#start-interview-submit").await?)
        .await?;

    // 4. Question 1 of 19 (11 trafficking and 8 smuggling questions), in French.
    let (_, position) = wd
        .wait_for_text("#answers-form .position", "Question 1 sur 19")
        .await
        .context("after starting the interview")?;
    expect_eq("position", position.trim(), "Question 1 sur 19")?;
    let interview_path = wd.path().await?;
    if !interview_path.starts_with(&format!("/cases/{reference}/interviews/")) {
        bail!("after starting the interview the browser is on {interview_path}");
    }
    let (_, question) = wd
        .wait_for_text("#answers-form .question-text", "Quel travail faites-vous ?")
        .await?;
    expect_eq(
        "first question",
        question.trim(),
        "1. Quel travail faites-vous ?",
    )?;
    let hint = wd.text(&wd.wait_for("main p.hint").await?).await?;
    expect_contains("the interview's hint line", &hint, "Edo")?;
    // French counts 0 in the singular.
    expect_contains(
        "the interview's hint line",
        &hint,
        "0 question renseignée sur 19",
    )?;
    wd.screenshot_to_dir_from_env(SCREENSHOT_DIR, "identification-interview-fr.png")
        .await?;
    let first_answer = "Je fais le ménage dans des maisons, sept jours sur sept.";
    wd.fill("#a_t-work", first_answer).await?;
    wd.click(&wd.wait_for("#answer-submit").await?).await?;

    // 5. Question 2, answered too.
    wd.wait_for_text("#answers-form .position", "Question 2 sur 19")
        .await
        .context("after answering question 1")?;
    let (_, question) = wd
        .wait_for_text("#answers-form .question-text", "Êtes-vous payé·e ?")
        .await?;
    expect_eq("second question", question.trim(), "2. Êtes-vous payé·e ?")?;
    let second_answer = "Non, la patronne garde l'argent.";
    wd.fill("#a_t-paid", second_answer).await?;
    wd.click(&wd.wait_for("#answer-submit").await?).await?;
    wd.wait_for_text("#answers-form .position", "Question 3 sur 19")
        .await
        .context("after answering question 2")?;

    // 6. Stop for now: back on the stage, which lists the interview with both answers.
    wd.click(&wd.wait_for_link("Terminer pour l'instant").await?)
        .await?;
    let summary = wd
        .wait_for("#interviews details summary")
        .await
        .context("after clicking \"Terminer pour l'instant\"")?;
    expect_eq("path after stopping", &wd.path().await?, &stage_path)?;
    let summary_text = wd.text(&summary).await?;
    for expected in ["Edo", "Interprète", "2 questions renseignées sur 19"] {
        expect_contains("the interview's summary", &summary_text, expected)?;
    }
    // The questions and answers are inside the closed <details>: open it.
    wd.click(&summary).await?;
    let (_, details) = wd
        .wait_for_text("#interviews details", first_answer)
        .await?;
    for expected in [
        "Quel travail faites-vous ?",
        first_answer,
        "Êtes-vous payé·e ?",
        second_answer,
    ] {
        expect_contains(
            "the interview on the identification page",
            &details,
            expected,
        )?;
    }

    // 7. Record a trafficking determination: presumed victim (reasonable grounds).
    let decided = "#trafficking-form";
    let today = chrono::Utc::now().date_naive();
    let decided_on = wd
        .wait_for(&format!("{decided} input[name=\"decided_on\"]"))
        .await?;
    expect_eq(
        "default decision date",
        &wd.property(&decided_on, "value").await?,
        &today.to_string(),
    )?;
    wd.select("#tstatus", "presumed").await?;
    wd.select("#trafficking-form select[name=\"deciding_body\"]", "police")
        .await?;
    let basis = "Travail domestique sans salaire, salaire confisqué : motifs raisonnables.";
    wd.fill("#tbasis", basis).await?;
    wd.click(&wd.wait_for("#trafficking-submit").await?).await?;
    let (_, history) = wd
        .wait_for_text(
            "#trafficking-history",
            "victime présumée (motifs raisonnables)",
        )
        .await
        .context("after recording the determination")?;
    expect_contains("#trafficking-history", &history, basis)?;
    expect_contains("#trafficking-history", &history, &today.to_string())?;

    // 8. The recovery and reflection period ends 30 days after the decision.
    let due = today + chrono::Days::new(30);
    let (_, deadlines) = wd
        .wait_for_text(
            "#case-deadlines",
            "Fin du délai de rétablissement et de réflexion",
        )
        .await?;
    let row = wd
        .wait_for_text(
            "#case-deadlines tbody tr",
            "Fin du délai de rétablissement et de réflexion",
        )
        .await?
        .0;
    let due_cell = wd
        .execute(
            "return arguments[0].querySelector('td.due').textContent;",
            vec![row.to_json()],
        )
        .await?;
    expect_eq(
        "due date of the recovery and reflection period",
        due_cell.as_str().unwrap_or_default().trim(),
        &due.to_string(),
    )
    .with_context(|| format!("#case-deadlines reads: {deadlines:?}"))?;
    expect_contains("#case-deadlines", &deadlines, "encore 30 jours")?;
    if std::env::var_os(SCREENSHOT_DIR).is_some() {
        wd.fit_window_to_page().await?;
    }
    wd.screenshot_to_dir_from_env(SCREENSHOT_DIR, "identification-fr.png")
        .await?;
    Ok(())
}
