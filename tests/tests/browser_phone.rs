//! Browser test (headless Chromium): phones and slow links (issue 17, point 9). Each role's
//! home page of the demo, and the case, proceedings and return pages, at 1280 and 390 CSS
//! pixels wide: at 390 nothing scrolls sideways (`document.documentElement.scrollWidth` ≤
//! `window.innerWidth`, and no element reaches past the right edge), tables are shown as
//! one card per row with each cell named by its column, and a case reference stays on one
//! line. In English and, for the case pages, French too.
//!
//! Environment: as `browser.rs` (`PASSERELLE_CHROMEDRIVER`, `PASSERELLE_CHROMIUM`,
//! `PASSERELLE_REQUIRE_EXTERNAL`), plus `PASSERELLE_SCREENSHOT_DIR`: when set, PNG
//! screenshots of the first screen (`<page>-<width>.png`, 900 px high) and of the whole
//! page (`<page>-<width>-full.png`) are written there, for a look.
//!
//! Run: `cargo test -p passerelle-tests --test browser_phone -- --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context, Result, bail};
use passerelle::demo::DEMO_PASSWORD;
use passerelle_tests::webdriver::{ChromeDriver, Programs, WebDriver};
use passerelle_tests::words::links;
use passerelle_tests::{TestApp, html_login_with, spawn_demo_app};
use std::time::Duration;

const SCENARIO_LIMIT: Duration = Duration::from_secs(240);
const SCREENSHOT_DIR: &str = "PASSERELLE_SCREENSHOT_DIR";
const PHONE: u64 = 390;
const DESKTOP: u64 = 1280;

/// The elements that reach past the right edge of the viewport (tag#id.class and width),
/// as a script result: empty when the page fits.
const OVERFLOW: &str = r#"
const w = window.innerWidth;
const out = [];
if (document.documentElement.scrollWidth > w) {
  out.push('document ' + document.documentElement.scrollWidth + ' > ' + w);
}
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width > 0 && r.right > w + 0.5 && getComputedStyle(el).position !== 'absolute') {
    out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
      ' right=' + Math.round(r.right));
  }
}
return out.slice(0, 12);
"#;

/// References shown on more than one line (their box is taller than one line of text).
const WRAPPED_REFERENCES: &str = r#"
const out = [];
for (const el of document.querySelectorAll('.ref')) {
  const lh = parseFloat(getComputedStyle(el).lineHeight) || 24;
  if (el.getClientRects().length > 1 || el.getBoundingClientRect().height > lh * 1.5) {
    out.push(el.textContent);
  }
}
return out;
"#;

async fn sign_in(wd: &WebDriver, app: &TestApp, email: &str) -> Result<()> {
    wd.goto(&app.url("/login")).await?;
    wd.fill("#email", email).await?;
    wd.fill("#password", DEMO_PASSWORD).await?;
    let b = wd.wait_for("#login-submit").await?;
    wd.click(&b).await?;
    wd.wait_for("#logout")
        .await
        .with_context(|| format!("signing in as {email}"))?;
    Ok(())
}

async fn sign_out(wd: &WebDriver) -> Result<()> {
    let b = wd.wait_for("#logout").await?;
    wd.click(&b).await?;
    wd.wait_for("#login-submit").await.context("signing out")?;
    Ok(())
}

/// Look at the current page at both widths: screenshots, and at phone width no sideways
/// scroll, tables as cards, references on one line. `name` names the screenshots.
async fn look(wd: &WebDriver, name: &str) -> Result<()> {
    let url = wd.url().await?;
    for width in [DESKTOP, PHONE] {
        wd.set_window_size(width, 900).await?;
        wd.goto(&url).await?;
        if width == PHONE {
            let over = wd.execute(OVERFLOW, vec![]).await?;
            if over.as_array().is_some_and(|a| !a.is_empty()) {
                bail!("{name} at {width} px scrolls sideways: {over}");
            }
            let wrapped = wd.execute(WRAPPED_REFERENCES, vec![]).await?;
            if wrapped.as_array().is_some_and(|a| !a.is_empty()) {
                bail!("{name} at {width} px wraps references: {wrapped}");
            }
            // A table, if any, is a stack of cards: its header row is hidden and its cells
            // say their column.
            let cards = wd
                .execute(
                    "const t = document.querySelector('main table'); if (!t) return 'none'; \
                     const th = t.querySelector('thead'); const td = t.querySelector('td[data-label]'); \
                     if (!td) return 'no labelled cell'; \
                     return [th ? th.getBoundingClientRect().height <= 1 : true, \
                             getComputedStyle(td, '::before').content];",
                    vec![],
                )
                .await?;
            if cards != "none" {
                let hidden = cards[0].as_bool().unwrap_or(false);
                let label = cards[1].as_str().unwrap_or("");
                if !hidden || label.len() < 3 {
                    bail!("{name} at {width} px: the table is not shown as cards: {cards}");
                }
            }
        }
        // The first screen, then the whole page.
        wd.screenshot_to_dir_from_env(SCREENSHOT_DIR, &format!("{name}-{width}.png"))
            .await?;
        if std::env::var_os(SCREENSHOT_DIR).is_some() {
            wd.fit_window_to_page().await?;
            wd.screenshot_to_dir_from_env(SCREENSHOT_DIR, &format!("{name}-{width}-full.png"))
                .await?;
        }
    }
    Ok(())
}

/// One demo page of each kind the issue names: a case with a return (its case, return and
/// proceedings pages when it has proceedings), and a case with hearings.
async fn case_pages(app: &TestApp) -> (String, String) {
    let c = html_login_with(&app.address, "karim@passage.example", DEMO_PASSWORD).await;
    let returns = c
        .get(app.url("/returns"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ret = links(&returns)
        .into_iter()
        .find(|l| l.ends_with("/return"))
        .expect("the demo has a return");
    let caseload = c
        .get(app.url("/cases?scope=org"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for case in links(&caseload)
        .into_iter()
        .filter(|l| l.starts_with("/cases/PSG-"))
    {
        let p = c
            .get(app.url(&format!("{case}/proceedings")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if p.contains("id=\"hearings\"") {
            return (ret, format!("{case}/proceedings"));
        }
    }
    panic!("no demo case with hearings");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_home_page_and_the_case_pages_fit_a_phone() {
    let Some(programs) = Programs::find_or_skip() else {
        return;
    };
    let driver = ChromeDriver::start(&programs.chromedriver)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let (app, accounts) = spawn_demo_app().await;
    let (ret, proceedings) = case_pages(&app).await;
    let wd = WebDriver::new_session(&driver, &programs.chromium)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e:#}\n{}", driver.log()));
    wd.run(SCENARIO_LIMIT, async {
        // The home page of each role (its first demo account).
        let mut roles = Vec::new();
        for a in &accounts {
            if roles.contains(&a.role) {
                continue;
            }
            roles.push(a.role);
            sign_in(&wd, &app, a.email).await?;
            wd.goto(&app.url("/")).await?;
            look(&wd, &format!("home-{}", a.role)).await?;
            sign_out(&wd).await?;
        }
        // The case, its return and proceedings pages, as the advocate, in en then fr.
        sign_in(&wd, &app, "karim@passage.example").await?;
        let case = ret.trim_end_matches("/return").to_owned();
        for lang in ["en", "fr"] {
            wd.goto(&app.url(&format!("/lang/{lang}?next=/"))).await?;
            for (kind, page) in [
                ("case", &case),
                ("return", &ret),
                ("proceedings", &proceedings),
            ] {
                wd.goto(&app.url(page)).await?;
                look(&wd, &format!("{kind}-{lang}")).await?;
            }
        }
        Ok(())
    })
    .await;
}
