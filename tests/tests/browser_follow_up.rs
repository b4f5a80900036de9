//! Browser test (headless Chromium): the follow-up after return, as the origin country's
//! follow-up officer. A case is walked through the API to the person's arrival today, handed
//! over to the origin service (which plans four visits: 30, 90, 180 and 365 days after the
//! arrival). Then, in the browser, the follow-up officer signs in through the login page,
//! opens the case's follow-up page and:
//!
//! - sees the four planned visits, each with its form, the date defaulting to today;
//! - records the first one as done, in person, by Ms Okoro: "Visit recorded.", the row says
//!   done with the date, the mode and the visitor, and offers no form any more;
//! - tries to record the second one as done on 2020-01-01, before the arrival: the page
//!   comes back with the refusal beside that visit's form, what was typed kept, and nothing
//!   changed (the visit is still planned, the first one still done);
//! - records an assessment answering every question with low-scoring options (scores
//!   0.14 / 0.15 / 0.15, composite 0.15; automatic "low score" alerts), then a second one
//!   with higher-scoring options (0.76 / 0.80 / 0.75, composite 0.77): the chart is an
//!   inline `svg.chart` with one visible polyline per dimension and the composite, the
//!   table has two rows, newest first, and the newest shows upward trends ("↑ +0.62 (up)");
//! - switches to French: the same page reads "Suivi après le retour", "Visites", "faite",
//!   "en hausse".
//!
//! Environment: as `browser.rs` (`PASSERELLE_CHROMEDRIVER`, `PASSERELLE_CHROMIUM`,
//! `PASSERELLE_REQUIRE_EXTERNAL`), plus `PASSERELLE_SCREENSHOT_DIR`: when set, PNG
//! screenshots of the chart (`follow-up-chart.png`, the viewport scrolled to the
//! assessments) and of the whole page in French (`follow-up-fr.png`) are written there.
//!
//! Run: `cargo test -p passerelle-tests --test browser_follow_up -- --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context, Result, bail};
use chrono::{Days, NaiveDate, Utc};
use passerelle_tests::webdriver::{ChromeDriver, Programs, WebDriver, expect_contains, expect_eq};
use passerelle_tests::{PASSWORD, TestApp, World, journey, spawn_app};
use serde_json::json;
use std::time::Duration;

/// The whole browser scenario must finish within this time.
const SCENARIO_LIMIT: Duration = Duration::from_secs(120);
/// Where screenshots go when wanted.
const SCREENSHOT_DIR: &str = "PASSERELLE_SCREENSHOT_DIR";
const ADVOCATE: &str = "advocate@ngo.test";
const OFFICER: &str = "officer@ngo.test";
const FOLLOW_UP: &str = "followup@edo.test";

/// The default schedule of visits, in days after the arrival.
const SCHEDULE: [u64; 4] = [30, 90, 180, 365];

/// Answers of config/reintegration/rss.toml that score low: economic (0.2 + 0 + 0.25 + 0 +
/// 0.25) / 5 = 0.14, social (0.25 + 0 + 0.25 + 0.25 + 0) / 5 = 0.15, psychosocial (0 + 0.5 +
/// 0.25 + 0 + 0) / 5 = 0.15; composite 0.1467.
const LOW: &[(&str, &str)] = &[
    ("economic_satisfaction", "2"),
    ("economic_income", "no"),
    ("economic_food", "often"),
    ("economic_debt", "hard_to_repay"),
    ("economic_opportunities", "poor"),
    ("social_housing", "poor"),
    ("social_documents", "no"),
    ("social_health", "poor"),
    ("social_education", "poor"),
    ("social_justice", "very_poor"),
    ("psychosocial_support", "no"),
    ("psychosocial_belonging", "partly"),
    ("psychosocial_safety", "often"),
    ("psychosocial_distress", "very_often"),
    ("psychosocial_staying", "no"),
];

/// Answers that score higher: economic (0.8 + 1 + 0.75 + 0.5 + 0.75) / 5 = 0.76, social
/// (0.75 + 1 + 1 + 0.75 + 0.5) / 5 = 0.80, psychosocial (1 + 1 + 0.75 + 0.5 + 0.5) / 5 =
/// 0.75; composite 0.77. Up from LOW by 0.62, 0.65, 0.60 and 0.62.
const HIGH: &[(&str, &str)] = &[
    ("economic_satisfaction", "8"),
    ("economic_income", "yes"),
    ("economic_food", "rarely"),
    ("economic_debt", "manageable"),
    ("economic_opportunities", "good"),
    ("social_housing", "good"),
    ("social_documents", "yes"),
    ("social_health", "very_good"),
    ("social_education", "good"),
    ("social_justice", "fair"),
    ("psychosocial_support", "yes"),
    ("psychosocial_belonging", "yes"),
    ("psychosocial_safety", "rarely"),
    ("psychosocial_distress", "sometimes"),
    ("psychosocial_staying", "partly"),
];

/// The indicator answered with a number (0–10) rather than an option.
const NUMERIC: &str = "economic_satisfaction";

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_follow_up_officer_records_a_visit_and_assessments_and_sees_the_chart() {
    let Some(programs) = Programs::find_or_skip() else {
        return;
    };
    let driver = ChromeDriver::start(&programs.chromedriver)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let app = spawn_app().await;
    let w: World = app.world().await;
    app.user(w.ngo, OFFICER, "return_officer").await;
    app.user(w.origin, FOLLOW_UP, "follow_up_officer").await;
    let adv = app.api_login(ADVOCATE).await;
    let officer = app.api_login(OFFICER).await;
    let (reference, _consent) = journey::arrived(
        &app,
        &adv,
        &officer,
        w.origin,
        "Osas Followfield-Igbinedion",
        &["person"],
        json!({}),
    )
    .await;
    assert!(!reference.is_empty(), "the API gave no case reference");

    let wd = WebDriver::new_session(&driver, &programs.chromium)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e:#}\n{}", driver.log()));
    // Closes the browser whatever happened; chromedriver itself is killed by its guard.
    wd.run(SCENARIO_LIMIT, scenario(&wd, &app, &reference))
        .await;
}

async fn sign_in(wd: &WebDriver, app: &TestApp, email: &str) -> Result<()> {
    wd.goto(&app.url("/login")).await?;
    wd.fill("#email", email).await?;
    wd.fill("#password", PASSWORD).await?;
    wd.click(&wd.wait_for("#login-submit").await?).await?;
    wd.wait_for("#logout")
        .await
        .with_context(|| format!("after signing in as {email}"))?;
    Ok(())
}

/// Set a field's value (typing into an `<input type="date">` depends on the browser's
/// locale; and this replaces what the field held).
async fn set_value(wd: &WebDriver, css: &str, value: &str) -> Result<()> {
    let el = wd.wait_for(css).await?;
    wd.execute(
        "arguments[0].value = arguments[1];",
        vec![el.to_json(), json!(value)],
    )
    .await?;
    expect_eq(
        &format!("value of {css}"),
        &wd.property(&el, "value").await?,
        value,
    )
}

async fn value_of(wd: &WebDriver, css: &str) -> Result<String> {
    let el = wd.wait_for(css).await?;
    wd.property(&el, "value").await
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

/// The ids (`v-…`) of the visit rows, in the order shown.
async fn visit_rows(wd: &WebDriver) -> Result<Vec<String>> {
    let v = wd
        .execute(
            "return Array.from(document.querySelectorAll('#visits tr.visit')).map(r => r.id);",
            vec![],
        )
        .await?;
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// The text of one cell (`n`, from 1) of a row.
async fn cell(wd: &WebDriver, row: &str, n: usize) -> Result<String> {
    let el = wd.wait_for(&format!("{row} > td:nth-child({n})")).await?;
    Ok(wd.text(&el).await?.trim().to_owned())
}

/// Wait until the page shows `n` rows matching `css`.
async fn expect_count(wd: &WebDriver, css: &str, n: usize) -> Result<()> {
    let last = std::cell::Cell::new(0);
    wd.wait_until(&format!("{n} elements matching {css:?}"), || async {
        let got = wd.find_all(css).await?.len();
        last.set(got);
        Ok((got == n).then_some(()))
    })
    .await
    .with_context(|| format!("{css:?}: {} found, {n} expected", last.get()))
}

/// Fill the assessment form with these answers and send it.
async fn assess(wd: &WebDriver, answers: &[(&str, &str)], note: &str) -> Result<()> {
    let form = "#assessment-form";
    expect_eq(
        "the assessment's date by default",
        &value_of(wd, &format!("{form} input[name=\"assessed_on\"]")).await?,
        &today().to_string(),
    )?;
    for (indicator, answer) in answers {
        let field = format!("{form} [name=\"a-{indicator}\"]");
        if *indicator == NUMERIC {
            let input = format!("{form} input[type=\"number\"][name=\"a-{indicator}\"]");
            set_value(wd, &input, answer)
                .await
                .with_context(|| format!("the number field {field}"))?;
        } else {
            wd.select(&format!("{form} select[name=\"a-{indicator}\"]"), answer)
                .await
                .with_context(|| format!("the question {indicator}"))?;
        }
    }
    // Every question of the set has its field, and no other one.
    expect_count(wd, &format!("{form} ol.questions li"), answers.len()).await?;
    wd.fill(&format!("{form} textarea[name=\"note\"]"), note)
        .await?;
    wd.click(
        &wd.wait_for(&format!("{form} button[type=\"submit\"]"))
            .await?,
    )
    .await
}

/// The assessment id of the fragment the page was sent back to (`…#a-<id>`).
async fn assessment_anchor(wd: &WebDriver) -> Result<String> {
    let url = wd.url().await?;
    match url.split_once("#a-") {
        Some((_, id)) if !id.is_empty() => Ok(id.to_owned()),
        _ => bail!("after recording an assessment the page is {url}, not at its row"),
    }
}

/// Wait for the message beside the form of `row` after a refused POST; fail with what the
/// page says when the answer is an error page instead of the form sent back.
async fn refusal_beside(wd: &WebDriver, row: &str) -> Result<String> {
    let alert = format!("{row} .form-alert");
    let shown = wd
        .wait_until(&format!("the message {alert:?}"), || async {
            if let Some(el) = wd.find(&alert).await? {
                return Ok(Some(Ok(wd.text(&el).await?)));
            }
            if let Some(el) = wd.find("#error-detail").await? {
                return Ok(Some(Err(wd.text(&el).await?)));
            }
            Ok(None)
        })
        .await?;
    match shown {
        Ok(text) => Ok(text),
        Err(detail) => bail!(
            "the refused form came back as an error page ({:?} at {}), not as the follow-up \
             page with the message beside the form of {row}; the page says: {detail:?}",
            wd.title().await?,
            wd.path().await?
        ),
    }
}

async fn screenshot(wd: &WebDriver, name: &str) -> Result<()> {
    wd.screenshot_to_dir_from_env(SCREENSHOT_DIR, name).await
}

async fn scenario(wd: &WebDriver, app: &TestApp, reference: &str) -> Result<()> {
    let page = format!("/cases/{reference}/follow-up");

    // 1. The follow-up officer signs in and opens the follow-up page: four planned visits.
    sign_in(wd, app, FOLLOW_UP).await?;
    wd.goto(&app.url(&page)).await?;
    let (_, h1) = wd
        .wait_for_text("h1", "Follow-up after return")
        .await
        .context("the follow-up page")?;
    expect_contains("the title", &h1, reference)?;
    for section in ["#alerts", "#visits", "#assessments", "#plan"] {
        wd.wait_for(section).await?;
    }
    let (_, summary) = wd
        .wait_for_text("#follow-up-summary", "Edo Service")
        .await?;
    let arrived = today();
    expect_contains("the summary", &summary, &arrived.to_string())?;
    wd.wait_for("#no-assessments").await?;
    wd.wait_for("#no-alerts").await?;
    let rows = visit_rows(wd).await?;
    if rows.len() != 4 {
        bail!(
            "{} visit rows, expected the 4 planned ones: {rows:?}",
            rows.len()
        );
    }
    for (id, days) in rows.iter().zip(SCHEDULE) {
        let row = format!("#{id}");
        let due = arrived.checked_add_days(Days::new(days)).unwrap();
        expect_eq(
            &format!("due date of {row}"),
            &cell(wd, &row, 1).await?,
            &due.to_string(),
        )?;
        expect_eq(
            &format!("status of {row}"),
            &cell(wd, &row, 2).await?,
            "planned",
        )?;
        wd.wait_for(&format!("{row} form.visit-form button.record-visit"))
            .await?;
        expect_eq(
            &format!("the date of {row}'s form by default"),
            &value_of(wd, &format!("{row} form.visit-form input[name=\"on\"]")).await?,
            &today().to_string(),
        )?;
    }
    let (_, counts) = wd.wait_for_text("#visit-counts", "Overdue").await?;
    expect_contains("the visit counts", &counts, "0")?;
    let first = format!("#{}", rows[0]);
    let second = format!("#{}", rows[1]);

    // 2. The first visit took place today, in person, with Ms Okoro.
    let form = format!("{first} form.visit-form");
    wd.select(&format!("{form} select[name=\"change\"]"), "done")
        .await?;
    wd.select(&format!("{form} select[name=\"mode\"]"), "in_person")
        .await?;
    wd.fill(&format!("{form} input[name=\"visitor\"]"), "Ms Okoro")
        .await?;
    wd.click(&wd.wait_for(&format!("{form} button.record-visit")).await?)
        .await?;
    flash(wd, "Visit recorded.").await?;
    expect_eq("path after recording", &wd.path().await?, &page)?;
    let (_, status) = wd
        .wait_for_text(&format!("{first} > td:nth-child(2)"), "done")
        .await
        .context("the first visit after recording it")?;
    expect_eq("status of the first visit", status.trim(), "done")?;
    let what = cell(wd, &first, 3).await?;
    expect_contains("the first visit", &what, &today().to_string())?;
    expect_contains("the first visit", &what, "in person")?;
    expect_contains("the first visit", &what, "Ms Okoro")?;
    if wd
        .find(&format!("{first} form.visit-form"))
        .await?
        .is_some()
    {
        bail!("a visit recorded as done still offers the form to record it");
    }
    expect_eq(
        "status of the second visit",
        &cell(wd, &second, 2).await?,
        "planned",
    )?;

    // 3. The second visit "done" on a date before the arrival: refused beside its form,
    //    what was typed kept, nothing changed.
    let form = format!("{second} form.visit-form");
    wd.select(&format!("{form} select[name=\"change\"]"), "done")
        .await?;
    set_value(wd, &format!("{form} input[name=\"on\"]"), "2020-01-01").await?;
    wd.select(&format!("{form} select[name=\"mode\"]"), "phone")
        .await?;
    wd.fill(&format!("{form} input[name=\"visitor\"]"), "Mr Eghosa")
        .await?;
    wd.click(&wd.wait_for(&format!("{form} button.record-visit")).await?)
        .await?;
    let refusal = refusal_beside(wd, &second).await?;
    expect_contains("the refusal", &refusal, "before the person's arrival")?;
    expect_contains("the refusal", &refusal, "cannot be changed")?;
    if wd.find("#form-alert").await?.is_some() {
        bail!("the refusal is shown at the top of the page, not beside the visit's form");
    }
    // Only that visit's form says so.
    expect_count(wd, "#visits .form-alert", 1).await?;
    // What was typed is kept.
    let form = format!("{second} form.visit-form");
    expect_eq(
        "the date typed",
        &value_of(wd, &format!("{form} input[name=\"on\"]")).await?,
        "2020-01-01",
    )?;
    expect_eq(
        "the visitor typed",
        &value_of(wd, &format!("{form} input[name=\"visitor\"]")).await?,
        "Mr Eghosa",
    )?;
    expect_eq(
        "the mode chosen",
        &value_of(wd, &format!("{form} select[name=\"mode\"]")).await?,
        "phone",
    )?;
    // Nothing changed: still four visits, the second still planned, the first still done.
    expect_eq(
        "visit rows after the refusal",
        &visit_rows(wd).await?.join(" "),
        &rows.join(" "),
    )?;
    expect_eq(
        "status of the second visit",
        &cell(wd, &second, 2).await?,
        "planned",
    )?;
    expect_eq(
        "what the second visit says",
        &cell(wd, &second, 3).await?,
        "",
    )?;
    expect_eq(
        "status of the first visit",
        &cell(wd, &first, 2).await?,
        "done",
    )?;
    // A fresh look at the page says the same (nothing was written).
    wd.goto(&app.url(&page)).await?;
    wd.wait_for(&format!("{second} form.visit-form")).await?;
    expect_eq(
        "status of the second visit, reloaded",
        &cell(wd, &second, 2).await?,
        "planned",
    )?;
    if wd.find("#visits .form-alert").await?.is_some() {
        bail!("the refusal is still shown on a fresh page");
    }

    // 4. Two assessments: low, then higher.
    assess(wd, LOW, "First assessment: no income, debts.").await?;
    flash(wd, "Assessment recorded.").await?;
    let first_assessment = assessment_anchor(wd).await?;
    expect_count(wd, "#scores-table tbody tr.assessment", 1).await?;
    let row = format!("#a-{first_assessment}");
    expect_eq("economic score", &cell(wd, &row, 2).await?, "0.14")?;
    expect_eq("social score", &cell(wd, &row, 3).await?, "0.15")?;
    expect_eq("psychosocial score", &cell(wd, &row, 4).await?, "0.15")?;
    expect_eq("composite score", &cell(wd, &row, 5).await?, "0.15")?;
    expect_eq("answered", &cell(wd, &row, 6).await?, "15 / 15")?;
    if wd.find(&format!("{row} .trend")).await?.is_some() {
        bail!("the first assessment shows a trend, with nothing to compare it to");
    }
    // One point per series: dots, no line yet.
    wd.wait_for("#scores-chart svg.chart circle.dot").await?;
    if wd.find("#scores-chart svg.chart polyline").await?.is_some() {
        bail!("a chart of one assessment draws a line");
    }
    // Every dimension under 0.4 raised an automatic "low score" alert.
    let (_, alert) = wd
        .wait_for_text("#alerts tr.alert", "low reintegration score")
        .await
        .context("the automatic alerts of a low assessment")?;
    expect_contains("the alert", &alert, "automatic")?;

    assess(wd, HIGH, "Second assessment: working at the market.").await?;
    expect_count(wd, "#scores-table tbody tr.assessment", 2).await?;
    flash(wd, "Assessment recorded.").await?;
    let newest = assessment_anchor(wd).await?;
    if newest == first_assessment {
        bail!("the second assessment went back to the first one's row");
    }
    // Newest first.
    let order = wd
        .execute(
            "return Array.from(document.querySelectorAll('#scores-table tbody tr.assessment')).map(r => r.id);",
            vec![],
        )
        .await?;
    expect_eq(
        "the assessment rows",
        &order.to_string(),
        &json!([format!("a-{newest}"), format!("a-{first_assessment}")]).to_string(),
    )?;
    let row = format!("#a-{newest}");
    let scores = [
        (2, "economic", "0.76", "↑ +0.62 (up)"),
        (3, "social", "0.80", "↑ +0.65 (up)"),
        (4, "psychosocial", "0.75", "↑ +0.60 (up)"),
        (5, "composite", "0.77", "↑ +0.62 (up)"),
    ];
    for (n, what, score, trend) in scores {
        let text = cell(wd, &row, n).await?;
        expect_contains(&format!("the newest {what} score"), &text, score)?;
        expect_contains(&format!("the newest {what} trend"), &text, trend)?;
    }
    let (_, note) = wd
        .wait_for_text(&format!("{row} > td:nth-child(1)"), "market")
        .await?;
    expect_contains("the newest assessment", &note, "followup")?;
    // The chart: a line per dimension and the composite, drawn with a visible stroke.
    wd.wait_for("#scores-chart svg.chart").await?;
    for class in ["economic", "social", "psychosocial", "composite"] {
        let line = format!("#scores-chart svg.chart polyline.line.{class}");
        let el = wd
            .wait_for(&line)
            .await
            .with_context(|| format!("the {class} line"))?;
        let points = wd.attribute_of(&line, "points").await?;
        if points.split_whitespace().count() != 2 {
            bail!("the {class} line has points {points:?}, expected two");
        }
        let stroke = wd
            .execute(
                "const s = getComputedStyle(arguments[0]); return s.stroke + ' ' + s.strokeWidth;",
                vec![el.to_json()],
            )
            .await?;
        let stroke = stroke.as_str().unwrap_or_default().to_owned();
        if stroke.starts_with("none") || stroke.contains(" 0px") {
            bail!(
                "the {class} line is drawn without a visible stroke ({stroke:?}): style.css has no rule for it"
            );
        }
    }
    expect_count(wd, "#scores-chart svg.chart polyline", 4).await?;
    let label = wd
        .attribute_of("#scores-chart svg.chart", "aria-label")
        .await?;
    expect_eq(
        "the chart's name",
        &label,
        "Reintegration scores over time (0 to 1)",
    )?;
    wd.execute(
        "document.getElementById('assessments').scrollIntoView();",
        vec![],
    )
    .await?;
    screenshot(wd, "follow-up-chart.png").await?;

    // 5. In French.
    wd.click(&wd.wait_for("#lang-fr").await?).await?;
    wd.wait_for("html[lang=\"fr\"]")
        .await
        .context("after clicking #lang-fr")?;
    expect_eq("path in French", &wd.path().await?, &page)?;
    let (_, h1) = wd.wait_for_text("h1", "Suivi après le retour").await?;
    expect_contains("the French title", &h1, reference)?;
    let (_, h2) = wd.wait_for_text("#visits h2", "Visites").await?;
    expect_eq("the French visits heading", h2.trim(), "Visites")?;
    wd.wait_for_text("#assessments h2", "Évaluations de la réintégration")
        .await?;
    expect_eq(
        "status of the first visit",
        &cell(wd, &first, 2).await?,
        "faite",
    )?;
    expect_contains(
        "the first visit",
        &cell(wd, &first, 3).await?,
        "en personne",
    )?;
    expect_eq(
        "status of the second visit",
        &cell(wd, &second, 2).await?,
        "prévue",
    )?;
    expect_contains(
        "the newest composite",
        &cell(wd, &row, 5).await?,
        "↑ +0.62 (en hausse)",
    )?;
    expect_eq(
        "the chart's name in French",
        &wd.attribute_of("#scores-chart svg.chart", "aria-label")
            .await?,
        "Scores de réintégration dans le temps (de 0 à 1)",
    )?;
    if std::env::var_os(SCREENSHOT_DIR).is_some() {
        wd.fit_window_to_page().await?;
    }
    screenshot(wd, "follow-up-fr.png").await?;
    Ok(())
}
