//! Browser tests (headless Chromium): where people land after signing in.
//!
//! - The system administrator signs in to their own start page (200), not a 403, and an
//!   error page's "back to the start page" leads back to it instead of looping.
//! - An advocate with an overdue citizenship confirmation and a hearing conflict signs in
//!   to a home whose first part lists both, before the cases; the rows lead to the return
//!   and the proceedings pages.
//!
//! The cases, the return and the proceedings are set up through the JSON API.
//!
//! Environment: as `browser.rs` (`PASSERELLE_CHROMEDRIVER`, `PASSERELLE_CHROMIUM`,
//! `PASSERELLE_REQUIRE_EXTERNAL`).
//!
//! Run: `cargo test -p passerelle-tests --test browser_home -- --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context, Result, bail};
use passerelle_tests::webdriver::{ChromeDriver, Programs, WebDriver, expect_contains, expect_eq};
use passerelle_tests::{PASSWORD, TestApp, in_days, send_json as send, spawn_app};
use reqwest::Client;
use serde_json::{Value, json};
use std::time::Duration;

const SCENARIO_LIMIT: Duration = Duration::from_secs(60);
const ADVOCATE: &str = "advocate@ngo.test";
const SYSADMIN: &str = "sysadmin@ngo.test";

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_the_system_administrator_lands_on_their_start_page() {
    let Some(programs) = Programs::find_or_skip() else {
        return;
    };
    let driver = ChromeDriver::start(&programs.chromedriver)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.authority, SYSADMIN, "system_admin").await;
    let wd = WebDriver::new_session(&driver, &programs.chromium)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e:#}\n{}", driver.log()));
    wd.run(SCENARIO_LIMIT, async {
        sign_in(&wd, &app, SYSADMIN).await?;
        wd.wait_for("#admin-start")
            .await
            .context("the administrator's start page after signing in")?;
        expect_eq("path after signing in", &wd.path().await?, "/")?;
        expect_eq(
            "heading",
            wd.text(&wd.wait_for("main h1").await?).await?.trim(),
            "Administration",
        )?;
        // The page is a 200, not an error page (an error page has #error-detail).
        if wd.find("#error-detail").await?.is_some() {
            bail!("the start page is an error page");
        }
        // From it, the organisations; from a page they may not open, back to the start.
        wd.click(&wd.wait_for("#start-organisations").await?)
            .await?;
        expect_eq("organisations", &wd.path().await?, "/admin/organisations")?;
        wd.goto(&app.url("/cases")).await?;
        wd.wait_for("#error-detail")
            .await
            .context("the caseload is not the administrator's")?;
        wd.click(&wd.wait_for_link("Back to the start page").await?)
            .await?;
        wd.wait_for("#admin-start")
            .await
            .context("back to the start page from an error")?;
        expect_eq("path after going back", &wd.path().await?, "/")?;
        Ok(())
    })
    .await;
}

async fn post(c: &Client, app: &TestApp, path: &str, body: Value) -> Value {
    let (st, v) = send(c, "POST", app.url(path), body).await;
    assert!(st == 200 || st == 201, "POST {path}: {st} {v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_the_advocates_home_opens_on_an_overdue_confirmation_and_a_hearing_conflict() {
    let Some(programs) = Programs::find_or_skip() else {
        return;
    };
    let driver = ChromeDriver::start(&programs.chromedriver)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let app = spawn_app().await;
    app.world().await;
    let api = app.api_login(ADVOCATE).await;
    // A return with a citizenship confirmation 8 days overdue.
    let returning = app.create_case(&api, "Blessing Browserhome").await;
    let k = post(
        &api,
        &app,
        &format!("/api/v1/cases/{returning}/consents"),
        json!({"purpose": "return_assistance", "given_by": "person", "language": "Edo", "form_version": "v1"}),
    )
    .await;
    let r = format!("/api/v1/cases/{returning}/return");
    post(
        &api,
        &app,
        &r,
        json!({"requested_by": "person", "consent_id": k["id"], "explained_by": "Ms Obi, in Edo",
               "destination_country": "NG", "requested_on": in_days(-20).to_string()}),
    )
    .await;
    post(
        &api,
        &app,
        &format!("{r}/citizenship"),
        json!({"authority": "Embassy of Nigeria, Paris", "sent_on": in_days(-18).to_string(),
               "due_on": in_days(-8).to_string()}),
    )
    .await;
    // A trial session after the planned departure: a hearing conflict.
    let witness = app.create_case(&api, "Joy Browserhome").await;
    let p = post(
        &api,
        &app,
        &format!("/api/v1/cases/{witness}/proceedings"),
        json!({"court": "Tribunal judiciaire de Lyon", "jurisdiction": "Lyon", "case_number": "TJ-26/0001",
               "charges": ["trafficking"], "person_role": "victim_witness"}),
    )
    .await;
    post(
        &api,
        &app,
        &format!(
            "/api/v1/cases/{witness}/proceedings/{}/hearings",
            p["id"].as_str().unwrap()
        ),
        json!({"kind": "trial_session", "held_on": in_days(60).to_string(), "testimony_required": true}),
    )
    .await;
    let put = api
        .put(app.url(&format!("/api/v1/cases/{witness}/departure")))
        .json(&json!({"departure_on": in_days(30).to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    // A case with nothing due, created last (the most recent activity).
    let quiet = app.create_case(&api, "Quiet Browserhome").await;

    let wd = WebDriver::new_session(&driver, &programs.chromium)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e:#}\n{}", driver.log()));
    wd.run(SCENARIO_LIMIT, async {
        sign_in(&wd, &app, ADVOCATE).await?;
        expect_eq("path after signing in", &wd.path().await?, "/")?;
        // The first part of the page is the urgent work, before the cases.
        let first = wd
            .execute(
                "return document.querySelector('main section').id;",
                vec![],
            )
            .await?;
        expect_eq("first part of the home", first.as_str().unwrap_or(""), "home-deadlines")?;
        let citizenship = wd
            .wait_for(&format!(
                "#urgent tr.overdue[data-kind=\"citizenship_confirmation_due\"][data-reference=\"{returning}\"]"
            ))
            .await
            .context("the overdue citizenship confirmation")?;
        expect_contains("its status", &wd.text(&citizenship).await?, "overdue by 8 days")?;
        wd.wait_for(&format!(
            "#urgent tr[data-kind=\"hearing_conflict\"][data-reference=\"{witness}\"]"
        ))
        .await
        .context("the hearing conflict")?;
        if wd
            .find(&format!("#urgent tr[data-reference=\"{quiet}\"]"))
            .await?
            .is_some()
        {
            bail!("a case with nothing due is in the urgent list");
        }
        // The cases are below, with the names, the overdue one first.
        let rows = wd.find_all("#caseload tbody tr").await?;
        let first_row = wd.text(rows.first().context("no case row")?).await?;
        expect_contains("first case row", &first_row, &returning)?;
        expect_contains("first case row", &first_row, "Blessing Browserhome")?;
        // A row leads to where the work is done.
        wd.click(
            &wd.wait_for(&format!(
                "#urgent tr[data-kind=\"hearing_conflict\"] a[href=\"/cases/{witness}/proceedings\"]"
            ))
            .await?,
        )
        .await?;
        expect_eq(
            "after the conflict's link",
            &wd.path().await?,
            &format!("/cases/{witness}/proceedings"),
        )?;
        Ok(())
    })
    .await;
}
