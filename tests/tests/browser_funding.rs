//! Browser test (headless Chromium), funding acceptance item 5: "A browser test, in
//! French, funds a service from the care page and shows the fund's new balance". An
//! advocate signs in, switches to French, opens the care page of a case with a planned
//! interpretation service, follows "Financer" on that service, sees the fund that may pay
//! interpretation offered (and the one that may not, with its reason), asks for 120,50 EUR,
//! and sees the commitment, what the fund has left for the case, and on the fund's page its
//! new available balance.
//!
//! The fund, its allocation and the service are set up through the JSON API; the
//! commitment goes through the page's form.
//!
//! Environment: as `browser.rs` (`PASSERELLE_CHROMEDRIVER`, `PASSERELLE_CHROMIUM`,
//! `PASSERELLE_REQUIRE_EXTERNAL`).
//!
//! Run: `cargo test -p passerelle-tests --test browser_funding -- --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context, Result, bail};
use passerelle_tests::webdriver::{ChromeDriver, Programs, WebDriver, expect_contains, expect_eq};
use passerelle_tests::{PASSWORD, TestApp, in_days, send_json as send, spawn_app};
use serde_json::{Value, json};
use std::time::Duration;

const SCENARIO_LIMIT: Duration = Duration::from_secs(60);
const EMAIL: &str = "advocate@ngo.test";
const FUND: &str = "Fonds d'aide aux victimes (test)";
const OTHER_FUND: &str = "Programme de retour (test)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_funds_a_service_from_the_care_page_in_french() {
    let Some(programs) = Programs::find_or_skip() else {
        return;
    };
    let driver = ChromeDriver::start(&programs.chromedriver)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "money@ngo.test", "fund_manager").await;
    let manager = app.api_login("money@ngo.test").await;
    let mut funds = Vec::new();
    for (name, categories) in [
        (FUND, json!(["interpretation", "legal"])),
        (OTHER_FUND, json!(["travel"])),
    ] {
        let (st, v) = send(
            &manager,
            "POST",
            app.url("/api/v1/funds"),
            json!({"name": name, "source": "state_budget", "currency": "EUR",
                "valid_from": in_days(-10).to_string(), "valid_until": in_days(300).to_string(),
                "categories": categories}),
        )
        .await;
        assert_eq!(st, 201, "{v}");
        let id = v["id"].as_str().unwrap().to_owned();
        let (st, v) = send(
            &manager,
            "POST",
            app.url(&format!("/api/v1/funds/{id}/allocations")),
            json!({"amount_minor": 500_000, "currency": "EUR", "origin": "Programme 137"}),
        )
        .await;
        assert_eq!(st, 201, "{v}");
        funds.push(id);
    }
    let api = app.api_login(EMAIL).await;
    let reference = app.create_case(&api, "Esther Fundfield-Omo").await;
    let (st, v): (u16, Value) = send(
        &api,
        "POST",
        app.url(&format!("/api/v1/cases/{reference}/services")),
        json!({"provider_org_id": w.ngo, "kind": "interpretation", "planned_on": in_days(3).to_string()}),
    )
    .await;
    assert_eq!(st, 201, "{v}");

    let wd = WebDriver::new_session(&driver, &programs.chromium)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e:#}\n{}", driver.log()));
    wd.run(SCENARIO_LIMIT, scenario(&wd, &app, &reference, &funds[0]))
        .await;
}

async fn scenario(wd: &WebDriver, app: &TestApp, reference: &str, fund: &str) -> Result<()> {
    // 1. Sign in, switch to French.
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

    // 2. The care page: the planned interpretation service has a "Financer" link.
    let care = format!("/cases/{reference}/care");
    wd.goto(&app.url(&care)).await?;
    let link = wd
        .wait_for("#services a.fund-link")
        .await
        .with_context(|| format!("the fund link on {care}"))?;
    expect_eq("the link's words", wd.text(&link).await?.trim(), "Financer")?;
    wd.click(&link).await?;

    // 3. The funding page offers the fund that pays interpretation, says why the other
    //    is not offered, in French.
    wd.wait_for("#commit-form")
        .await
        .context("the commitment form after following Financer")?;
    expect_eq(
        "path",
        &wd.path().await?,
        &format!("/cases/{reference}/funding"),
    )?;
    expect_eq("lang", &wd.attribute_of("html", "lang").await?, "fr")?;
    let form_text = wd.text(&wd.wait_for("#commit-form").await?).await?;
    expect_contains("the offered funds", &form_text, FUND)?;
    expect_contains("what the fund has left", &form_text, "5000,00 EUR")?;
    if form_text.contains(OTHER_FUND) {
        bail!("the travel-only fund is offered for interpretation: {form_text}");
    }
    let (_, why) = wd
        .wait_for_text("#not-offered", OTHER_FUND)
        .await
        .context("the fund not offered, with its reason")?;
    expect_contains("the reason, in French", &why, "Interprétariat")?;

    // 4. Ask for 120,50 EUR (a French decimal comma).
    wd.fill("#commit-form input[name=\"amount\"]", "120,50")
        .await?;
    wd.fill(
        "#commit-form input[name=\"description\"]",
        "interprète edo, trois séances",
    )
    .await?;
    wd.click(&wd.wait_for("#commit-form button[type=\"submit\"]").await?)
        .await?;
    let (row, row_text) = wd
        .wait_for_text("#commitments tbody tr", "120,50 EUR")
        .await
        .context("the new commitment on the case's money")?;
    expect_contains("the commitment", &row_text, FUND)?;
    expect_contains("the commitment", &row_text, "interprète edo")?;
    // The same category is still chosen: the fund now has 4879,50 EUR left for the case.
    let (_, left) = wd
        .wait_for_text("#commit-form", "4879,50 EUR")
        .await
        .context("what the fund has left after the commitment")?;
    expect_contains("the form", &left, FUND)?;

    // 5. The fund's page, from the commitment's link: its new available balance.
    let fund_link = wd
        .execute(
            "return arguments[0].querySelector('a').getAttribute('href');",
            vec![row.to_json()],
        )
        .await?;
    expect_eq(
        "the commitment's fund link",
        fund_link.as_str().unwrap_or_default(),
        &format!("/funds/{fund}"),
    )?;
    wd.goto(&app.url(&format!("/funds/{fund}"))).await?;
    let (_, available) = wd
        .wait_for_text("#available", "4879,50 EUR")
        .await
        .context("the fund's available balance")?;
    expect_contains("available", &available, "4879,50")?;
    let committed = wd.text(&wd.wait_for("#committed").await?).await?;
    expect_contains("committed", &committed, "120,50 EUR")?;
    let heading = wd.text(&wd.wait_for("#balances h2").await?).await?;
    if heading.contains("Balances") {
        bail!("the fund page is not in French: {heading}");
    }
    Ok(())
}
