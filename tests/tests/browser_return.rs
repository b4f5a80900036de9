//! Browser test (headless Chromium), in French: a voluntary return walked through its
//! checklist on the return page. An advocate signs in, switches to French, requests the
//! return on the person's recorded consent, records the risk assessment (the checklist item
//! turns met and the only blocker goes), moves it to "Évalué", sends a citizenship request,
//! records a reminder and the answer "confirmée" (the last pre-approval item turns met and
//! the blockers list empties), and sees that only a return officer approves. The return
//! officer of the same organisation signs in, approves, records the travel document, an
//! itinerary leg and the reception by the origin-country service, the pre-departure
//! counselling, and moves the return through "Documents prêts", "Voyage réservé" and
//! "Parti" to "Accueilli", handing the case over on the person's reintegration consent.
//! Each step checks the French labels, the checklist and the blockers; the organisation's
//! returns page lists the case under "Accueilli".
//!
//! The case and the person's consents are set up through the JSON API; everything else
//! goes through the page's forms.
//!
//! Environment: as `browser.rs` (`PASSERELLE_CHROMEDRIVER`, `PASSERELLE_CHROMIUM`,
//! `PASSERELLE_REQUIRE_EXTERNAL`), plus `PASSERELLE_SCREENSHOT_DIR`: when set, PNG
//! screenshots of the return page before approval (`return-assessed-fr.png`) and at the
//! end (`return-received-fr.png`) are written there, for a manual look.
//!
//! Run: `cargo test -p passerelle-tests --test browser_return -- --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context, Result, bail};
use chrono::{Days, NaiveDate, Utc};
use passerelle_tests::webdriver::{ChromeDriver, Programs, WebDriver, expect_contains, expect_eq};
use passerelle_tests::{PASSWORD, TestApp, World, spawn_app};
use serde_json::{Value, json};
use std::time::Duration;

/// The whole browser scenario must finish within this time.
const SCENARIO_LIMIT: Duration = Duration::from_secs(120);
/// Where screenshots go when wanted.
const SCREENSHOT_DIR: &str = "PASSERELLE_SCREENSHOT_DIR";
const ADVOCATE: &str = "advocate@ngo.test";
const OFFICER: &str = "officer@ngo.test";

fn in_days(n: u64) -> NaiveDate {
    Utc::now()
        .date_naive()
        .checked_add_days(Days::new(n))
        .unwrap()
}

/// What the scenario needs from the set-up.
struct Setup {
    reference: String,
    return_consent: String,
    reintegration_consent: String,
    agency: i64,
    origin: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_return_through_its_checklist_in_french() {
    let Some(programs) = Programs::find_or_skip() else {
        return;
    };
    let driver = ChromeDriver::start(&programs.chromedriver)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let app = spawn_app().await;
    let w: World = app.world().await;
    app.user(w.ngo, OFFICER, "return_officer").await;
    let api = app.api_login(ADVOCATE).await;
    let reference = app.create_case(&api, "Joy Returnfield-Osagie").await;
    assert!(!reference.is_empty(), "the API gave no case reference");
    let mut consents = Vec::new();
    for purpose in ["return_assistance", "reintegration"] {
        let r = api
            .post(app.url(&format!("/api/v1/cases/{reference}/consents")))
            .json(&json!({"purpose": purpose, "given_by": "person", "language": "fr", "form_version": "v1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "consent {purpose}");
        let v: Value = r.json().await.unwrap();
        consents.push(v["id"].as_str().unwrap().to_owned());
    }
    let setup = Setup {
        reference,
        return_consent: consents[0].clone(),
        reintegration_consent: consents[1].clone(),
        agency: w.returns,
        origin: w.origin,
    };

    let wd = WebDriver::new_session(&driver, &programs.chromium)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e:#}\n{}", driver.log()));
    // Closes the browser whatever happened; chromedriver itself is killed by its guard.
    wd.run(SCENARIO_LIMIT, scenario(&wd, &app, &setup)).await;
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

async fn submit(wd: &WebDriver, form: &str) -> Result<()> {
    wd.click(
        &wd.wait_for(&format!("{form} button[type=\"submit\"]"))
            .await?,
    )
    .await
}

/// Wait until the page shows the return at `stage` (its French label).
async fn expect_stage(wd: &WebDriver, stage: &str) -> Result<()> {
    let (_, text) = wd
        .wait_for_text("#return-stage", stage)
        .await
        .with_context(|| format!("the return at stage {stage:?}"))?;
    expect_eq("the stage", text.trim(), stage)
}

/// The checklist item `id` reads met (✓) or missing (✗).
async fn expect_item(wd: &WebDriver, id: &str, met: bool) -> Result<()> {
    let row = format!("#checklist-items tr[data-item=\"{id}\"]");
    let want = if met { "✓ rempli" } else { "✗ manquant" };
    wd.wait_for_text(&format!("{row} td.state"), want)
        .await
        .with_context(|| format!("checklist item {id}"))?;
    expect_eq(
        &format!("class of {row}"),
        &wd.attribute_of(&row, "class").await?,
        if met { "met" } else { "missing" },
    )
}

/// The rules of the blockers now shown for the next stage.
async fn blockers(wd: &WebDriver) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for el in wd.find_all("#blockers li").await? {
        let v = wd
            .execute(
                "return arguments[0].getAttribute('data-rule');",
                vec![el.to_json()],
            )
            .await?;
        out.push(v.as_str().unwrap_or_default().to_owned());
    }
    Ok(out)
}

async fn expect_blockers(wd: &WebDriver, want: &[&str]) -> Result<()> {
    if want.is_empty() {
        wd.wait_for("#no-blocker").await.context("no blocker")?;
    } else {
        wd.wait_for("#blockers li").await.context("blockers")?;
    }
    // Poll: right after a form is sent, the page may still be the previous one.
    let want = want.join(", ");
    let last = std::cell::RefCell::new(String::new());
    wd.wait_until(&format!("the blockers {want:?}"), || async {
        let got = blockers(wd).await?.join(", ");
        let same = got == want;
        *last.borrow_mut() = got;
        Ok(same.then_some(()))
    })
    .await
    .with_context(|| format!("blockers: got {:?}, want {want:?}", last.borrow()))
}

/// The next stage's French label, and the move button that goes there.
async fn move_to(wd: &WebDriver, next: &str) -> Result<()> {
    let (_, text) = wd.wait_for_text("#next-stage", next).await?;
    expect_eq("the next stage", text.trim(), next)?;
    let (button, label) = wd.wait_for_text("#move-button", next).await?;
    expect_contains("the move button", &label, "Passer à")?;
    wd.click(&button).await?;
    expect_stage(wd, next).await
}

async fn screenshot(wd: &WebDriver, name: &str) -> Result<()> {
    if std::env::var_os(SCREENSHOT_DIR).is_some() {
        wd.fit_window_to_page().await?;
    }
    wd.screenshot_to_dir_from_env(SCREENSHOT_DIR, name).await
}

async fn scenario(wd: &WebDriver, app: &TestApp, s: &Setup) -> Result<()> {
    let reference = s.reference.as_str();
    let return_path = format!("/cases/{reference}/return");

    // 1. The advocate signs in and switches to French.
    sign_in(wd, app, ADVOCATE).await?;
    wd.click(&wd.wait_for("#lang-fr").await?).await?;
    wd.wait_for("html[lang=\"fr\"]")
        .await
        .context("after clicking #lang-fr")?;

    // 2. A case that does not exist is the usual "not found" page, not a request form.
    wd.goto(&app.url("/cases/PSG-1999-0042/return")).await?;
    wd.wait_for_text(
        "#error-detail",
        "Ce dossier n'existe pas, ou vous n'y avez pas accès.",
    )
    .await?;
    if wd.find("#request-form").await?.is_some() {
        bail!("a case that does not exist is offered a return request");
    }

    // No return yet: from the case page, the return page offers the request, on the
    // person's consent.
    wd.goto(&app.url(&format!("/cases/{reference}"))).await?;
    wd.click(&wd.wait_for("#return-link").await?).await?;
    wd.wait_for("#request-form")
        .await
        .with_context(|| format!("the request form on {return_path}"))?;
    let (_, h1) = wd.wait_for_text("h1", "Retour volontaire").await?;
    expect_contains("the title", &h1, reference)?;
    wd.wait_for_text("#no-return", "Ce dossier n'a pas de retour.")
        .await?;
    wd.wait_for_text("#request .hint", "à la demande de la personne elle-même")
        .await?;
    if wd.find("#no-return-consent").await?.is_some() {
        bail!("the page says no return consent is in force, but one is");
    }
    let form = "#request-form";
    wd.select(&format!("{form} select[name=\"requested_by\"]"), "person")
        .await?;
    wd.select(
        &format!("{form} select[name=\"consent_id\"]"),
        &s.return_consent.to_string(),
    )
    .await?;
    // The reintegration consent is not offered for a return request.
    if wd
        .find(&format!(
            "{form} select[name=\"consent_id\"] option[value=\"{}\"]",
            s.reintegration_consent
        ))
        .await?
        .is_some()
    {
        bail!("the request form offers the reintegration consent");
    }
    wd.fill(
        &format!("{form} input[name=\"explained_by\"]"),
        "Mme Adaeze, interprète edo",
    )
    .await?;
    wd.fill(&format!("{form} input[name=\"destination_country\"]"), "NG")
        .await?;
    wd.select(
        &format!("{form} select[name=\"agency_org_id\"]"),
        &s.agency.to_string(),
    )
    .await?;
    wd.click(&wd.wait_for("#request-button").await?).await?;

    // 3. Requested: consent met, the rest missing; only the risk assessment holds it back.
    expect_stage(wd, "Demandé").await?;
    expect_eq("path after the request", &wd.path().await?, &return_path)?;
    wd.wait_for_text("#return-destination", "NG").await?;
    wd.wait_for_text("#return-clock", "depuis la demande")
        .await?;
    expect_item(wd, "informed_consent", true).await?;
    expect_item(wd, "risk_assessment", false).await?;
    expect_item(wd, "citizenship_confirmed", false).await?;
    expect_item(wd, "travel_document", false).await?;
    expect_item(wd, "reception_arranged", false).await?;
    // Labels and stages in French.
    wd.wait_for_text(
        "#checklist-items tr[data-item=\"citizenship_confirmed\"]",
        "Nationalité confirmée par l'État d'origine",
    )
    .await?;
    wd.wait_for_text(
        "#checklist-items tr[data-item=\"travel_document\"]",
        "Documents prêts",
    )
    .await?;
    expect_blockers(wd, &["risk_assessment"]).await?;
    wd.wait_for_text("#blockers", "enregistrez d'abord l'évaluation des risques")
        .await?;

    // 4. The risk assessment: the item turns met, the blocker goes.
    let form = "#risk-form";
    wd.select(&format!("{form} select[name=\"persecution\"]"), "low")
        .await?;
    wd.select(&format!("{form} select[name=\"re_trafficking\"]"), "medium")
        .await?;
    wd.fill(
        &format!("{form} textarea[name=\"findings\"]"),
        "Famille à Benin City prête à l'accueillir ; suivi médical à prévoir.",
    )
    .await?;
    submit(wd, form).await?;
    let (_, risk) = wd
        .wait_for_text("#risk-assessment", "moyen")
        .await
        .context("the recorded assessment")?;
    expect_contains("the assessment", &risk, "faible")?;
    expect_contains("the assessment", &risk, "advocate")?;
    expect_item(wd, "risk_assessment", true).await?;
    expect_blockers(wd, &[]).await?;

    // 5. Move to "Évalué": approval now waits for the citizenship confirmation.
    move_to(wd, "Évalué").await?;
    wd.wait_for_text("#next-stage", "Approuvé").await?;
    expect_blockers(wd, &["requirement:citizenship_confirmed"]).await?;
    wd.wait_for_text("#blockers", "manquant : Nationalité confirmée")
        .await?;
    // Only a return officer approves: the advocate has no move button.
    wd.wait_for_text("#approval-hint", "agent·e de retour")
        .await?;
    if wd.find("#move-form").await?.is_some() {
        bail!("the advocate is offered the approval");
    }
    screenshot(wd, "return-assessed-fr.png").await?;

    // 6. A citizenship request, a reminder, then the answer "confirmed".
    wd.wait_for("#no-citizenship").await?;
    let form = "#citizenship-form";
    wd.fill(
        &format!("{form} input[name=\"authority\"]"),
        "Ambassade du Nigeria à Paris",
    )
    .await?;
    submit(wd, form).await?;
    let row = "#citizenship-requests tbody tr";
    let (_, text) = wd
        .wait_for_text(row, "Ambassade du Nigeria à Paris")
        .await
        .context("the citizenship request")?;
    expect_contains("the request", &text, "en attente de réponse")?;
    expect_contains("the request", &text, &in_days(30).to_string())?;
    submit(wd, &format!("{row} form.remind")).await?;
    wd.wait_for_text(&format!("{row} td.reminders"), "1")
        .await
        .context("after the reminder")?;
    expect_item(wd, "citizenship_confirmed", false).await?;
    wd.select(
        &format!("{row} form.answer-form select[name=\"answer\"]"),
        "confirmed",
    )
    .await?;
    submit(wd, &format!("{row} form.answer-form")).await?;
    wd.wait_for_text(&format!("{row} td.answer"), "confirmée")
        .await
        .context("after the answer")?;
    expect_item(wd, "citizenship_confirmed", true).await?;
    expect_blockers(wd, &[]).await?;
    if wd.find(&format!("{row} form.answer-form")).await?.is_some() {
        bail!("an answered request still offers the answer form");
    }

    // 7. The return officer signs in (still in French) and approves.
    wd.click(&wd.wait_for("#logout").await?).await?;
    wd.wait_for("#login-submit").await.context("signed out")?;
    sign_in(wd, app, OFFICER).await?;
    wd.wait_for("html[lang=\"fr\"]")
        .await
        .context("the officer's pages in French")?;
    wd.wait_for_text("#nav-returns", "Retours").await?;
    wd.goto(&app.url(&return_path)).await?;
    expect_stage(wd, "Évalué").await?;
    move_to(wd, "Approuvé").await?;
    expect_blockers(wd, &["requirement:travel_document"]).await?;

    // 8. The travel document: "Documents prêts".
    let form = "#document-form";
    wd.select(&format!("{form} select[name=\"kind\"]"), "laissez_passer")
        .await?;
    wd.fill(
        &format!("{form} input[name=\"issued_by\"]"),
        "Consulat du Nigeria",
    )
    .await?;
    set_date(
        wd,
        &format!("{form} input[name=\"valid_until\"]"),
        in_days(180),
    )
    .await?;
    submit(wd, form).await?;
    wd.wait_for_text("#travel-documents", "Laissez-passer")
        .await?;
    expect_item(wd, "travel_document", true).await?;
    expect_blockers(wd, &[]).await?;
    move_to(wd, "Documents prêts").await?;
    expect_blockers(wd, &["itinerary", "requirement:reception_arranged"]).await?;
    wd.wait_for_text("#blockers", "enregistrez d'abord l'itinéraire")
        .await?;

    // 9. A leg of the itinerary, then the reception: "Voyage réservé".
    let departure = in_days(20);
    let form = "#leg-form";
    set_date(wd, &format!("{form} input[name=\"travel_on\"]"), departure).await?;
    wd.fill(&format!("{form} input[name=\"from\"]"), "Paris CDG")
        .await?;
    wd.fill(&format!("{form} input[name=\"to\"]"), "Lagos")
        .await?;
    submit(wd, form).await?;
    let (_, leg) = wd
        .wait_for_text("#legs tbody tr", &departure.to_string())
        .await?;
    expect_contains("the leg", &leg, "réservé")?;
    expect_blockers(wd, &["requirement:reception_arranged"]).await?;
    let form = "#reception-form";
    wd.select(
        &format!("{form} select[name=\"receiving_org_id\"]"),
        &s.origin.to_string(),
    )
    .await?;
    set_date(
        wd,
        &format!("{form} input[name=\"reception_on\"]"),
        in_days(21),
    )
    .await?;
    submit(wd, form).await?;
    wd.wait_for_text("#reception-arranged", "Edo Service")
        .await?;
    expect_item(wd, "reception_arranged", true).await?;
    expect_blockers(wd, &[]).await?;
    for id in [
        "informed_consent",
        "risk_assessment",
        "citizenship_confirmed",
        "travel_document",
        "reception_arranged",
    ] {
        expect_item(wd, id, true).await?;
    }
    move_to(wd, "Voyage réservé").await?;
    expect_blockers(wd, &["counselling"]).await?;
    wd.wait_for_text(
        "#blockers",
        "enregistrez d'abord l'entretien préalable au départ",
    )
    .await?;

    // 10. The pre-departure counselling: "Parti".
    let form = "#counselling-form";
    wd.fill(
        &format!("{form} input[name=\"counselled_by\"]"),
        "M. Okon, conseiller retour",
    )
    .await?;
    submit(wd, form).await?;
    wd.wait_for_text("#counselled", "M. Okon").await?;
    expect_blockers(wd, &[]).await?;
    // The flight is in 20 days; she leaves today on an earlier one: the departure is
    // dated today and says why (without a reason it would be refused).
    wd.fill(
        "#move-form input[name=\"early_reason\"]",
        "place libérée sur un vol plus tôt",
    )
    .await?;
    move_to(wd, "Parti").await?;
    if wd.find("#withdraw-form").await?.is_some() {
        bail!("a departed return still offers the consent withdrawal");
    }

    // 11. The arrival, with the hand-over on the reintegration consent: "Accueilli".
    wd.wait_for_text("#next-stage", "Accueilli").await?;
    let form = "#move-form";
    if wd
        .find(&format!(
            "{form} select[name=\"handover_consent_id\"] option[value=\"{}\"]",
            s.return_consent
        ))
        .await?
        .is_some()
    {
        bail!("the hand-over offers the return consent instead of a reintegration one");
    }
    wd.select(
        &format!("{form} select[name=\"handover_consent_id\"]"),
        &s.reintegration_consent.to_string(),
    )
    .await?;
    for section in ["person", "return"] {
        let b = wd
            .wait_for(&format!(
                "{form} input[name=\"handover_sections\"][value=\"{section}\"]"
            ))
            .await?;
        wd.click(&b).await?;
        if !wd.is_selected(&b).await? {
            bail!("the {section} section is not ticked after clicking it");
        }
    }
    move_to(wd, "Accueilli").await?;
    wd.wait_for_text("#received-banner", "La personne est arrivée le")
        .await?;
    wd.wait_for("#no-next").await?;
    for gone in ["#move-form", "#cancel-form", "#risk-form", "#leg-form"] {
        if wd.find(gone).await?.is_some() {
            bail!("{gone} is still offered on a received return");
        }
    }
    let timeline = wd.text(&wd.wait_for("#timeline").await?).await?;
    for stage in [
        "Demandé",
        "Évalué",
        "Approuvé",
        "Documents prêts",
        "Voyage réservé",
        "Parti",
        "Accueilli",
    ] {
        expect_contains("the timeline", &timeline, stage)?;
    }
    expect_contains("the timeline", &timeline, "officer")?;
    screenshot(wd, "return-received-fr.png").await?;

    // 12. The organisation's returns, by stage.
    wd.click(&wd.wait_for("#nav-returns").await?).await?;
    let (_, group) = wd
        .wait_for_text("#stage-received", reference)
        .await
        .context("the returns page")?;
    expect_contains("the received group", &group, "Accueilli")?;
    expect_contains("the received group", &group, "Retour")?;
    let (_, h1) = wd.wait_for_text("h1", "Retours").await?;
    expect_eq("the returns title", h1.trim(), "Retours")?;
    wd.click(&wd.wait_for_link(reference).await?).await?;
    expect_stage(wd, "Accueilli").await?;
    Ok(())
}
