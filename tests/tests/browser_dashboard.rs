//! Browser test (headless Chromium): the advocate's dashboard in French. Forty cases of
//! the advocate's organisation are seeded in the database (every stage, referred over
//! the last eight months, determinations of both kinds, overdue deadlines, returns at
//! several stages), and four more of another organisation, which must not show. In the
//! browser the advocate signs in, switches to French, follows the header's
//! "Tableau de bord" link and finds:
//!
//! - each chart drawn as an inline `svg.chart` with `role="img"`, its French title as
//!   `<title>` and `aria-label`, and bars for the counts that are not zero;
//! - beside each chart a table with the same numbers: the stage table has the eight
//!   stages in French with the counts the test seeded (its own organisation's only);
//! - the median time to decision said in French ("jours").
//!
//! Environment: as `browser.rs` (`PASSERELLE_CHROMEDRIVER`, `PASSERELLE_CHROMIUM`,
//! `PASSERELLE_REQUIRE_EXTERNAL`), plus `PASSERELLE_SCREENSHOT_DIR`: when set, PNG
//! screenshots of the whole page (`dashboard-fr.png`, 1280 px wide) and of a phone's
//! width (`dashboard-fr-phone.png`, 390 px) are written there.
//!
//! Run: `cargo test -p passerelle-tests --test browser_dashboard -- --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context, Result, bail};
use chrono::{Duration as Days, NaiveDate, Utc};
use passerelle_core::crypto::FieldLocation;
use passerelle_core::domain::{CaseRef, Stage};
use passerelle_core::store::entity::{
    case, consent, deadline, person, return_case, smuggling_decision, trafficking_decision, user,
};
use passerelle_core::store::{First, begin_write};
use passerelle_tests::webdriver::{ChromeDriver, Programs, WebDriver, expect_contains, expect_eq};
use passerelle_tests::{PASSWORD, TestApp, spawn_app};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::time::Duration;

const SCENARIO_LIMIT: Duration = Duration::from_secs(120);
const SCREENSHOT_DIR: &str = "PASSERELLE_SCREENSHOT_DIR";
const ADVOCATE: &str = "advocate@ngo.test";

/// How many cases of the advocate's organisation at each stage, and their French names.
const STAGES: [(Stage, u64, &str); 8] = [
    (Stage::Referred, 9, "Signalé"),
    (Stage::Screening, 7, "Repérage"),
    (Stage::Protection, 8, "Protection"),
    (Stage::SolutionPlanning, 5, "Recherche de solution"),
    (Stage::ReturnInProgress, 4, "Retour en cours"),
    (Stage::Returned, 3, "Retourné"),
    (Stage::FollowUp, 2, "Suivi"),
    (Stage::Closed, 2, "Clos"),
];

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// `n` cases of `org` (tag: a distinct reference year and ids), spread over the stages
/// (or all referred), over eight months, with determinations, deadlines and returns.
async fn seed(app: &TestApp, org: i64, tag: u8, stages: &[(Stage, u64)]) -> Result<()> {
    let db = &app.services.db;
    let keys = &app.services.keys;
    let creator = user::Entity::find()
        .filter(user::Column::Email.eq(ADVOCATE))
        .first(db)
        .await?
        .context("the advocate")?
        .id;
    let now = Utc::now();
    let at = |d: NaiveDate| d.and_hms_opt(9, 30, 0).unwrap_or_default().and_utc();
    let id = |n: u64, k: u8| format!("{:02x}{k:02x}{n:028x}", tag);
    let txn = begin_write(db).await?;
    let mut n = 0u64;
    for (stage, count) in stages {
        for _ in 0..*count {
            n += 1;
            let pid = id(n, 0);
            let name = format!("Browser Dashboard {tag}-{n}");
            person::Entity::insert(person::ActiveModel {
                id: Set(pid.clone()),
                name_enc: Set(keys.encrypt_str(
                    FieldLocation {
                        table: "persons",
                        column: "name",
                        row: &pid,
                    },
                    &name,
                )?),
                name_idx: Set(keys.blind_index("person-name", &name)),
                stateless: Set(false),
                is_minor: Set(false),
                created_at: Set(now),
                ..Default::default()
            })
            .exec_without_returning(&txn)
            .await?;
            let created = today() - Days::days((n as i64 * 6) % 240);
            let closed = *stage == Stage::Closed;
            let case_id = case::Entity::insert(case::ActiveModel {
                reference: Set(CaseRef::new(2000 + i32::from(tag), n as i64)
                    .as_str()
                    .to_owned()),
                person_id: Set(pid),
                owner_org_id: Set(org),
                stage: Set(stage.as_str().to_owned()),
                version: Set(1),
                created_by: Set(creator),
                created_at: Set(at(created)),
                updated_at: Set(now),
                closed_at: Set(closed.then_some(now)),
                closed_by: Set(closed.then_some(creator)),
                close_status: Set(closed.then(|| "closed".to_owned())),
                ..Default::default()
            })
            .exec(&txn)
            .await?
            .last_insert_id;
            let decided = *stage != Stage::Referred && *stage != Stage::Screening;
            if decided {
                trafficking_decision::Entity::insert(trafficking_decision::ActiveModel {
                    id: Set(id(n, 1)),
                    case_id: Set(case_id),
                    status: Set(if n.is_multiple_of(4) {
                        "not_a_victim"
                    } else {
                        "presumed"
                    }
                    .into()),
                    deciding_body: Set("police".into()),
                    decided_on: Set(created + Days::days(5 + (n as i64 % 7))),
                    basis_enc: Set(vec![0]),
                    author_user_id: Set(creator),
                    recorded_at: Set(now),
                })
                .exec_without_returning(&txn)
                .await?;
            }
            if decided && n.is_multiple_of(3) {
                smuggling_decision::Entity::insert(smuggling_decision::ActiveModel {
                    id: Set(id(n, 2)),
                    case_id: Set(case_id),
                    status: Set("smuggled_migrant".into()),
                    victim_of_other_crimes: Set(false),
                    witness: Set(false),
                    deciding_body: Set("police".into()),
                    decided_on: Set(created + Days::days(9)),
                    basis_enc: Set(vec![0]),
                    author_user_id: Set(creator),
                    recorded_at: Set(now),
                })
                .exec_without_returning(&txn)
                .await?;
            }
            if matches!(stage, Stage::Protection | Stage::Screening) && n.is_multiple_of(2) {
                deadline::Entity::insert(deadline::ActiveModel {
                    case_id: Set(case_id),
                    kind: Set("recovery_reflection_period_end".into()),
                    starts_on: Set(today() - Days::days(40)),
                    due_on: Set(today() - Days::days(2 + n as i64 % 5)),
                    source: Set("seed".into()),
                    closed_at: Set(None),
                    created_at: Set(now),
                    ..Default::default()
                })
                .exec_without_returning(&txn)
                .await?;
            }
            let ret = match stage {
                Stage::SolutionPlanning => Some(("requested", None)),
                Stage::ReturnInProgress => Some(("approved", None)),
                Stage::Returned | Stage::FollowUp => {
                    Some(("received", Some(today() - Days::days(60 - n as i64 % 9))))
                }
                _ => None,
            };
            if let Some((rstage, departed)) = ret {
                let consent_id = consent::Entity::insert(consent::ActiveModel {
                    case_id: Set(case_id),
                    purpose: Set("return_assistance".into()),
                    given_by: Set("person".into()),
                    language: Set("fr".into()),
                    form_version: Set("v1".into()),
                    consented_at: Set(now),
                    recorded_by: Set(creator),
                    recorded_at: Set(now),
                    uid: Set(Some(id(n, 3))),
                    alert_details: Set(false),
                    ..Default::default()
                })
                .exec(&txn)
                .await?
                .last_insert_id;
                return_case::Entity::insert(return_case::ActiveModel {
                    id: Set(id(n, 4)),
                    case_id: Set(case_id),
                    stage: Set(rstage.into()),
                    stage_since: Set(now - Days::days(n as i64 % 40)),
                    consent_id: Set(consent_id),
                    explained_by_enc: Set(vec![0]),
                    requested_by: Set("person".into()),
                    requested_on: Set(today() - Days::days(90)),
                    during_recovery_period: Set(false),
                    destination_country: Set("NG".into()),
                    departed_on: Set(departed),
                    version: Set(1),
                    created_by: Set(creator),
                    created_at: Set(now),
                    ..Default::default()
                })
                .exec_without_returning(&txn)
                .await?;
            }
        }
    }
    txn.commit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_the_advocates_dashboard_in_french() {
    let Some(programs) = Programs::find_or_skip() else {
        return;
    };
    let driver = ChromeDriver::start(&programs.chromedriver)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let app = spawn_app().await;
    let w = app.world().await;
    let other = app.org("Elsewhere", "victim_advocacy", "FR").await;
    let mine: Vec<(Stage, u64)> = STAGES.iter().map(|(s, n, _)| (*s, *n)).collect();
    seed(&app, w.ngo, 0x21, &mine)
        .await
        .unwrap_or_else(|e| panic!("seed: {e:#}"));
    seed(&app, other, 0x51, &[(Stage::Referred, 4)])
        .await
        .unwrap_or_else(|e| panic!("seed: {e:#}"));
    let wd = WebDriver::new_session(&driver, &programs.chromium)
        .await
        .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e:#}\n{}", driver.log()));
    wd.run(SCENARIO_LIMIT, scenario(&wd, &app)).await;
}

/// The `<title>` of the chart in `figure`, and how many bars it draws.
async fn chart(wd: &WebDriver, figure: &str) -> Result<(String, usize)> {
    let svg = format!("#{figure} svg.chart[role=\"img\"]");
    wd.wait_for(&svg)
        .await
        .with_context(|| format!("the chart {figure}"))?;
    let title = wd
        .execute(
            "return document.querySelector(arguments[0] + ' > title').textContent;",
            vec![serde_json::json!(svg)],
        )
        .await?;
    let label = wd.attribute_of(&svg, "aria-label").await?;
    let title = title.as_str().unwrap_or_default().to_owned();
    expect_eq(&format!("{figure}'s aria-label"), &label, &title)?;
    let bars = wd.find_all(&format!("{svg} rect.bar")).await?.len();
    Ok((title, bars))
}

async fn scenario(wd: &WebDriver, app: &TestApp) -> Result<()> {
    wd.set_window_size(1280, 900).await?;
    wd.goto(&app.url("/login")).await?;
    wd.fill("#email", ADVOCATE).await?;
    wd.fill("#password", PASSWORD).await?;
    wd.click(&wd.wait_for("#login-submit").await?).await?;
    wd.wait_for("#logout").await.context("after signing in")?;
    wd.click(&wd.wait_for("#lang-fr").await?).await?;
    wd.wait_for("html[lang=\"fr\"]").await?;
    let link = wd.wait_for("#nav-dashboard").await?;
    expect_eq(
        "the header's link",
        wd.text(&link).await?.trim(),
        "Tableau de bord",
    )?;
    wd.click(&link).await?;
    wd.wait_for_text("h1", "Tableau de bord").await?;
    expect_eq("the path", &wd.path().await?, "/dashboard")?;
    let (_, scope) = wd.wait_for_text("#dashboard-scope", "Passage").await?;
    expect_contains("the scope", &scope, "chiffres du")?;

    // Each chart: an SVG image named by its French title, with bars.
    for (figure, title, min_bars) in [
        ("chart-cases-stage", "Dossiers par étape", 8),
        ("chart-cases-month", "Dossiers par mois de signalement", 6),
        ("chart-outcomes", "Résultats de l'identification", 3),
        ("chart-overdue", "Échéances dépassées", 1),
        ("chart-returns", "Retours par étape", 3),
    ] {
        let (got, bars) = chart(wd, figure).await?;
        expect_eq(&format!("{figure}'s title"), &got, title)?;
        if bars < min_bars {
            bail!("{figure} draws {bars} bars, at least {min_bars} expected");
        }
    }
    // The table beside the stages' chart: the same numbers, the stages in French, only
    // this organisation's cases (the other one's four referred are not counted).
    let rows = wd
        .execute(
            "return Array.from(document.querySelectorAll('#table-cases-stage tbody tr'))\
             .map(r => [r.cells[0].textContent.trim(), r.cells[1].textContent.trim()]);",
            vec![],
        )
        .await?;
    let rows: Vec<(String, String)> = rows
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r[0].as_str().unwrap_or_default().to_owned(),
                        r[1].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let want: Vec<(String, String)> = STAGES
        .iter()
        .map(|(_, n, fr)| ((*fr).to_owned(), n.to_string()))
        .collect();
    if rows != want {
        bail!("the stage table reads {rows:?}, expected {want:?}");
    }
    let table_caption = wd.wait_for("#table-cases-stage caption").await?;
    expect_eq(
        "the table's caption",
        wd.text(&table_caption).await?.trim(),
        "Dossiers par étape",
    )?;
    // Twelve months in the month table, the counts adding up to the cases referred in
    // them (all forty, within eight months).
    let months = wd
        .execute(
            "return Array.from(document.querySelectorAll('#table-cases-month tbody tr'))\
             .map(r => parseInt(r.cells[1].textContent, 10));",
            vec![],
        )
        .await?;
    let months: Vec<u64> = months
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_u64).collect())
        .unwrap_or_default();
    expect_eq("months in the table", &months.len().to_string(), "12")?;
    expect_eq(
        "cases by month, added up",
        &months.iter().sum::<u64>().to_string(),
        "40",
    )?;
    let (_, median) = wd.wait_for_text("#median-decision", "jours").await?;
    expect_contains("the median", &median, "Délai médian")?;
    let (_, stuck) = wd.wait_for_text("#dash-returns", "Bloqués").await?;
    expect_contains("the returns", &stuck, "Accueilli")?;

    if std::env::var_os(SCREENSHOT_DIR).is_some() {
        wd.fit_window_to_page().await?;
        wd.screenshot_to_dir_from_env(SCREENSHOT_DIR, "dashboard-fr.png")
            .await?;
        wd.set_window_size(390, 900).await?;
        wd.fit_window_to_page().await?;
        wd.screenshot_to_dir_from_env(SCREENSHOT_DIR, "dashboard-fr-phone.png")
            .await?;
    }
    Ok(())
}
