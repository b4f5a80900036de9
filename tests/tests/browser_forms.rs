//! Browser tests (headless Chromium) of the pages as people use them (issue 17): no
//! one-click harm, errors that keep what was typed, and a message after every action.
//!
//! - Cancelling a hearing asks for a confirmation and a reason (the calendar's control only
//!   leads to the confirmation page; a reason of blanks is refused beside the field; the
//!   conflict it raised disappears once it is cancelled, and the reason is shown).
//! - A new case with a bad nationality comes back as the same form, the error beside the
//!   field, every other value kept.
//! - An edit that lost the race (409) keeps the user's text, shows what the other person
//!   saved beside it, and saves on the second try.
//! - Creating a case shows "Case created." on the case page, once.
//!
//! Set-up goes through the JSON API; what is tested goes through the pages. The tests take
//! turns (one browser at a time on a small machine).
//!
//! Environment: as `browser.rs` (`PASSERELLE_CHROMEDRIVER`, `PASSERELLE_CHROMIUM`,
//! `PASSERELLE_REQUIRE_EXTERNAL`).
//!
//! Run: `cargo test -p passerelle-tests --test browser_forms -- --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context, Result, bail};
use chrono::{Days, NaiveDate, Utc};
use passerelle_tests::webdriver::{ChromeDriver, Programs, WebDriver, expect_contains, expect_eq};
use passerelle_tests::{PASSWORD, TestApp, spawn_app};
use serde_json::{Value, json};
use std::time::Duration;

const SCENARIO_LIMIT: Duration = Duration::from_secs(90);
const EMAIL: &str = "advocate@ngo.test";

/// One browser at a time: the tests of this file run in parallel threads otherwise.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn in_days(n: u64) -> NaiveDate {
    Utc::now()
        .date_naive()
        .checked_add_days(Days::new(n))
        .unwrap()
}

/// A browser for one test, when the machine has one: chromedriver (killed on drop), its
/// session, and this test's turn.
struct Browser {
    wd: WebDriver,
    _driver: ChromeDriver,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

async fn browser() -> Option<Browser> {
    let programs = Programs::find_or_skip()?;
    let turn = ONE_BROWSER.lock().await;
    let driver = ChromeDriver::start(&programs.chromedriver)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let wd = WebDriver::new_session(&driver, &programs.chromium)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e:#}\n{}", driver.log()));
    Some(Browser {
        wd,
        _driver: driver,
        _turn: turn,
    })
}

async fn sign_in(wd: &WebDriver, app: &TestApp) -> Result<()> {
    wd.goto(&app.url("/login")).await?;
    wd.fill("#email", EMAIL).await?;
    wd.fill("#password", PASSWORD).await?;
    wd.click(&wd.wait_for("#login-submit").await?).await?;
    wd.wait_for("#logout").await.context("after signing in")?;
    Ok(())
}

/// Set a field's value (dates depend on the browser's locale when typed; and this replaces
/// what the field held).
async fn set_value(wd: &WebDriver, css: &str, value: &str) -> Result<()> {
    let el = wd.wait_for(css).await?;
    wd.execute(
        "arguments[0].value = arguments[1];",
        vec![el.to_json(), json!(value)],
    )
    .await?;
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

async fn value_of(wd: &WebDriver, css: &str) -> Result<String> {
    let el = wd.wait_for(css).await?;
    wd.property(&el, "value").await
}

async fn api_json(c: &reqwest::Client, method: &str, url: String, body: Value) -> (u16, Value) {
    if method == "GET" {
        passerelle_tests::get_json(c, url).await
    } else {
        passerelle_tests::send_json(c, method, url, body).await
    }
}

// ---------- 1. cancelling a hearing ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_cancelling_a_hearing_asks_for_confirmation_and_a_reason() {
    let app = spawn_app().await;
    app.world().await;
    let api = app.api_login(EMAIL).await;
    let reference = app.create_case(&api, "Blessing Hearingfield-Okafor").await;
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}{p}"));
    let (st, p) = api_json(
        &api,
        "POST",
        url("/proceedings"),
        json!({"court": "Tribunal judiciaire de Lyon", "jurisdiction": "Lyon",
            "case_number": "TJ-26/0042", "charges": ["trafficking"], "person_role": "victim_witness"}),
    )
    .await;
    assert_eq!(st, 201, "{p}");
    let pid = p["id"].as_str().unwrap().to_owned();
    let hearing_on = in_days(60);
    let (st, h) = api_json(
        &api,
        "POST",
        url(&format!("/proceedings/{pid}/hearings")),
        json!({"kind": "trial_session", "held_on": hearing_on.to_string(),
            "testimony_required": true, "presence_required": true}),
    )
    .await;
    assert_eq!(st, 201, "{h}");
    let hearing = h["id"].as_str().unwrap().to_owned();
    let (st, d) = api_json(
        &api,
        "PUT",
        url("/departure"),
        json!({"departure_on": in_days(30).to_string()}),
    )
    .await;
    assert_eq!(st, 200, "{d}");
    let reason = "Adjourned by the court: the defence asked for more time";

    let Some(b) = browser().await else {
        return;
    };
    let wd = &b.wd;
    wd.run(SCENARIO_LIMIT, async {
        sign_in(wd, &app).await?;
        let page = format!("/cases/{reference}/proceedings");
        wd.goto(&app.url(&page)).await?;
        let conflict = format!("#conflicts li.conflict[data-hearing=\"{hearing}\"]");
        wd.wait_for(&conflict)
            .await
            .context("the conflict before the cancellation")?;
        // The calendar's control is a link to a confirmation, styled as destructive, not
        // a button that cancels at once.
        let row = format!("#hearings tr[data-hearing=\"{hearing}\"]");
        if wd
            .find(&format!("{row} button[type=\"submit\"]"))
            .await?
            .is_some()
        {
            bail!("the calendar still has a button that cancels the hearing in one click");
        }
        let control = format!("{row} a.cancel-hearing");
        expect_contains(
            "the cancel control's class",
            &wd.attribute_of(&control, "class").await?,
            "danger",
        )?;
        wd.click(&wd.wait_for(&control).await?).await?;
        let (_, heading) = wd
            .wait_for_text("#confirm-heading", "Cancel this hearing?")
            .await
            .context("the confirmation page")?;
        expect_eq(
            "confirmation heading",
            heading.trim(),
            "Cancel this hearing?",
        )?;
        expect_eq(
            "confirmation path",
            &wd.path().await?,
            &format!("/cases/{reference}/hearings/{hearing}/cancel"),
        )?;
        let intro = wd.text(&wd.wait_for("#confirm-intro").await?).await?;
        expect_contains("the confirmation", &intro, &hearing_on.to_string())?;
        expect_contains("the confirmation", &intro, "Tribunal judiciaire de Lyon")?;
        let what = wd.text(&wd.wait_for("#consequences").await?).await?;
        expect_contains("what will happen", &what, "conflict disappears")?;
        // The way back stands apart from the destructive button.
        expect_contains(
            "the submit button's class",
            &wd.attribute_of("#confirm-submit", "class").await?,
            "danger",
        )?;
        wd.wait_for("#confirm-back").await?;
        // Nothing is cancelled yet: the API still shows the hearing.
        let (_, v) = api_json(
            &api,
            "GET",
            url(&format!("/hearings/{hearing}")),
            json!(null),
        )
        .await;
        if v["cancelled"] != json!(false) {
            bail!("the hearing was cancelled before the confirmation: {v}");
        }
        // A reason of blanks passes the browser's `required` but not the server: the
        // same page again, the error beside the field.
        wd.fill("#reason", "   ").await?;
        wd.click(&wd.wait_for("#confirm-submit").await?).await?;
        let (_, err) = wd
            .wait_for_text("#err-confirm-reason", "required")
            .await
            .context("the error beside the reason")?;
        expect_contains("the reason's error", &err, "say why")?;
        expect_eq(
            "aria-describedby of the reason",
            &wd.attribute_of("#reason", "aria-describedby").await?,
            "err-confirm-reason",
        )?;
        let (_, v) = api_json(
            &api,
            "GET",
            url(&format!("/hearings/{hearing}")),
            json!(null),
        )
        .await;
        if v["cancelled"] != json!(false) {
            bail!("the hearing was cancelled without a reason: {v}");
        }
        // With a reason: back to the calendar, cancelled, the reason shown, the conflict gone.
        set_value(wd, "#reason", reason).await?;
        wd.click(&wd.wait_for("#confirm-submit").await?).await?;
        let shown = flash(wd, "Hearing cancelled.")
            .await
            .context("the message after cancelling")?;
        expect_eq("flash", &shown, "Hearing cancelled.")?;
        expect_eq("path after cancelling", &wd.path().await?, &page)?;
        let (_, row_text) = wd
            .wait_for_text(&row, "cancelled")
            .await
            .context("the cancelled hearing in the calendar")?;
        expect_contains("the cancelled row", &row_text, reason)?;
        wd.wait_for("#no-conflict")
            .await
            .context("the conflict is gone")?;
        let (_, v) = api_json(
            &api,
            "GET",
            url(&format!("/hearings/{hearing}")),
            json!(null),
        )
        .await;
        expect_eq(
            "cancel_reason",
            v["cancel_reason"].as_str().unwrap_or(""),
            reason,
        )?;
        Ok(())
    })
    .await;
    // The reason is encrypted like the hearing's notes.
    let raw = app.raw_database_bytes().await;
    assert!(
        !passerelle_tests::contains(&raw, reason),
        "the cancellation reason is stored in clear"
    );
}

// ---------- 2. a new case with a bad nationality ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_new_case_with_a_bad_nationality_keeps_what_was_typed() {
    let app = spawn_app().await;
    app.world().await;
    let name = "Grace Nationalfield-Adeyemi";
    let notes = "Met at the bus station.\nSpeaks some French.";
    let Some(b) = browser().await else {
        return;
    };
    let wd = &b.wd;
    wd.run(SCENARIO_LIMIT, async {
        sign_in(wd, &app).await?;
        wd.click(&wd.wait_for("#nav-new-case").await?).await?;
        wd.fill("#name", name).await?;
        wd.fill("#aliases", "Gigi").await?;
        wd.fill("#languages", "English, Yoruba").await?;
        wd.fill("#location", "Lyon").await?;
        set_value(wd, "#notes", notes).await?;
        set_value(wd, "#birth_date", "2009-04-12").await?;
        wd.click(&wd.wait_for("input[name=\"is_minor\"]").await?)
            .await?;
        wd.fill("#nationality", "N1").await?;
        wd.click(&wd.wait_for("#create-case").await?).await?;

        let (_, err) = wd
            .wait_for_text("#err-person-nationality", "two-letter")
            .await
            .context("the error beside the nationality")?;
        expect_contains("the nationality's error", &err, "ISO 3166-1")?;
        // The same form, not an error page.
        wd.wait_for("#new-case").await.context("the form again")?;
        if wd.find("#error-detail").await?.is_some() {
            bail!("an error page replaced the form");
        }
        expect_eq(
            "aria-invalid of the nationality",
            &wd.attribute_of("#nationality", "aria-invalid").await?,
            "true",
        )?;
        expect_eq(
            "aria-describedby of the nationality",
            &wd.attribute_of("#nationality", "aria-describedby").await?,
            "err-person-nationality",
        )?;
        // Only the wrong field is marked.
        if wd.find("#name[aria-invalid]").await?.is_some() {
            bail!("the name is marked wrong too");
        }
        // Everything typed is still there.
        expect_eq("name", &value_of(wd, "#name").await?, name)?;
        expect_eq("aliases", &value_of(wd, "#aliases").await?, "Gigi")?;
        expect_eq(
            "languages",
            &value_of(wd, "#languages").await?,
            "English, Yoruba",
        )?;
        expect_eq("location", &value_of(wd, "#location").await?, "Lyon")?;
        expect_eq(
            "birth date",
            &value_of(wd, "#birth_date").await?,
            "2009-04-12",
        )?;
        expect_eq("notes", &value_of(wd, "#notes").await?, notes)?;
        expect_eq("nationality", &value_of(wd, "#nationality").await?, "N1")?;
        let minor = wd.wait_for("input[name=\"is_minor\"]").await?;
        if !wd.is_selected(&minor).await? {
            bail!("the \"minor\" box is no longer ticked");
        }
        // Corrected, the case is created with what was typed first.
        set_value(wd, "#nationality", "NG").await?;
        wd.click(&wd.wait_for("#create-case").await?).await?;
        let shown = wd
            .wait_for("#person-name")
            .await
            .context("the case page after correcting")?;
        expect_eq("the person's name", wd.text(&shown).await?.trim(), name)?;
        let person = wd.text(&wd.wait_for("#person").await?).await?;
        for expected in ["Gigi", "English, Yoruba", "NG", "2009-04-12"] {
            expect_contains("the person section", &person, expected)?;
        }
        Ok(())
    })
    .await;
}

// ---------- 3. a stale edit (409) ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_a_conflicting_edit_keeps_the_users_text() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "colleague@ngo.test", "advocate").await;
    let api = app.api_login(EMAIL).await;
    let reference = app.create_case(&api, "Esther Racefield-Mensah").await;
    let colleague = app.api_login("colleague@ngo.test").await;
    let mine = "She wants to talk to a lawyer before any interview with the police.";
    let Some(b) = browser().await else {
        return;
    };
    let wd = &b.wd;
    wd.run(SCENARIO_LIMIT, async {
        sign_in(wd, &app).await?;
        wd.goto(&app.url(&format!("/cases/{reference}/edit")))
            .await?;
        wd.wait_for("#person-form").await?;
        set_value(wd, "#notes", mine).await?;
        // Meanwhile a colleague saves another change (from the version the page read).
        let (st, v) = api_json(
            &colleague,
            "GET",
            app.url(&format!("/api/v1/cases/{reference}")),
            json!(null),
        )
        .await;
        assert_eq!(st, 200, "{v}");
        let version = v["summary"]["version"].as_i64().unwrap();
        let (st, v) = api_json(
            &colleague,
            "PUT",
            app.url(&format!("/api/v1/cases/{reference}/person")),
            json!({"version": version, "person": {"name": "Esther Racefield-Mensah",
                    "location": "Marseille", "notes": "moved to a shelter in Marseille"}}),
        )
        .await;
        assert_eq!(st, 200, "{v}");
        let new_version = v["version"].as_i64().unwrap();
        wd.click(&wd.wait_for("#save-person").await?).await?;
        // The same form: my text kept, theirs shown beside it, the new version to save on.
        let (_, alert) = wd
            .wait_for_text("#err-person-alert", "Someone else saved")
            .await
            .context("the conflict's message")?;
        expect_contains("the conflict's message", &alert, "What you typed is kept")?;
        expect_eq("my notes", &value_of(wd, "#notes").await?, mine)?;
        let (_, theirs) = wd
            .wait_for_text("#err-person-saved-notes", "moved to a shelter in Marseille")
            .await
            .context("the saved notes beside mine")?;
        expect_contains("their notes", &theirs, "Saved meanwhile")?;
        wd.wait_for_text("#err-person-saved-location", "Marseille")
            .await
            .context("the saved location beside mine")?;
        expect_eq(
            "the version to save on",
            &value_of(wd, "input[name=\"version\"]").await?,
            &new_version.to_string(),
        )?;
        // Keep their location, and save mine.
        set_value(wd, "#location", "Marseille").await?;
        wd.click(&wd.wait_for("#save-person").await?).await?;
        flash(wd, "The person's details are saved.")
            .await
            .context("after saving again")?;
        let person = wd.text(&wd.wait_for("#person").await?).await?;
        expect_contains("the person section", &person, mine)?;
        expect_contains("the person section", &person, "Marseille")?;
        Ok(())
    })
    .await;
}

// ---------- 4. feedback after an action ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_creating_a_case_says_so_once() {
    let app = spawn_app().await;
    app.world().await;
    let Some(b) = browser().await else {
        return;
    };
    let wd = &b.wd;
    wd.run(SCENARIO_LIMIT, async {
        sign_in(wd, &app).await?;
        wd.click(&wd.wait_for("#nav-new-case").await?).await?;
        wd.fill("#name", "Joy Flashfield-Eze").await?;
        wd.click(&wd.wait_for("#create-case").await?).await?;
        let shown = flash(wd, "Case created.")
            .await
            .context("the message on the case page")?;
        expect_eq("flash", &shown, "Case created.")?;
        expect_eq(
            "flash role",
            &wd.attribute_of("#flash", "role").await?,
            "status",
        )?;
        wd.wait_for("#person-name").await?;
        // Shown once: the next page has no message.
        let here = wd.url().await?;
        wd.goto(&here).await?;
        wd.wait_for("#person-name").await?;
        if let Some(el) = wd.find("#flash").await? {
            bail!(
                "the message is shown again after a reload: {:?}",
                wd.text(&el).await?
            );
        }
        Ok(())
    })
    .await;
}
