//! Funding benchmark (issue 11, acceptance 6; a bench target, not a timed test).
//!
//! Two questions, through the real server (`spawn_app()`: session, use case, audit, the
//! fund's lock):
//!
//! 1. **Commitments per second through the API.** An advocate asks money for 32 cases
//!    from one fund (`POST /api/v1/funds/{id}/commitments`), at 1, 8 and 32 concurrent
//!    connections, `PASSERELLE_BENCH_SECS` (5) seconds each after a warm-up. One fund is
//!    the worst case: every commitment on it takes the fund's lock (`IMMEDIATE` on SQLite,
//!    a row lock on PostgreSQL), so they are serialised by design. The fund's balance is
//!    checked against the successes at the end.
//! 2. **The fund report for a fund with 100 000 entries** (`PASSERELLE_BENCH_ENTRIES`):
//!    the fund is created and allocated through the API, then 99 999 entries are
//!    inserted directly, as the service writes them (the movement encrypted with the
//!    app's key, the report columns beside it): commitments on 32 cases over two years,
//!    each spent in part and its rest released. Then `GET /api/v1/funds/{id}/report`
//!    (30 times), its CSV and its HTML page are timed; target **under 200 ms**. Last, the
//!    first commitment on that fund after the insert (the server folds and checks the
//!    whole history once: a cold ledger) and the next ones (warm).
//!
//! SQLite unless `PASSERELLE_TEST_DATABASE_URL` names a PostgreSQL server.
//! Run: `cargo bench -p passerelle-tests --bench funding`. Results: docs/benchmarks.md.

use anyhow::{Context, bail};
use chrono::{Duration as ChronoDuration, Utc};
use passerelle_core::crypto::{FieldLocation, KeyRing, random_token};
use passerelle_core::funding::{
    CommitmentPurpose, CommitmentStatus, CostCategory, Movement, PurposeKind,
};
use passerelle_core::store::entity::{case, fund, fund_entry, user};
use passerelle_core::store::{First, begin_write};
use passerelle_tests::bench::{drop_postgres, loadavg};
use passerelle_tests::{TestApp, in_days, spawn_app};
use reqwest::Client;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CASES: usize = 32;
const CONCURRENCY: &[usize] = &[1, 8, 32];
const COMMIT_AMOUNT: i64 = 1_000;
const SPEND: i64 = 600;
const REPORT_RUNS: usize = 30;
const CHUNK: usize = 500;

fn env_usize(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .with_context(|| format!("{name} must be a whole number, not {v:?}")),
        Err(_) => Ok(default),
    }
}

fn main() -> anyhow::Result<()> {
    let secs = env_usize("PASSERELLE_BENCH_SECS", 5)?;
    let entries = env_usize("PASSERELLE_BENCH_ENTRIES", 100_000)?;
    if !(1..=120).contains(&secs) || !(1_000..=2_000_000).contains(&entries) {
        bail!("PASSERELLE_BENCH_SECS 1..=120, PASSERELLE_BENCH_ENTRIES 1000..=2000000");
    }
    // The server as in production (a current-thread runtime with actix's workers); the
    // load generator on its own runtime.
    let server_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let load_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let out = server_rt.block_on(run(secs, entries, load_rt.handle().clone()));
    load_rt.shutdown_background();
    out
}

struct Lat(Vec<Duration>);

impl Lat {
    fn ms(&mut self, p: f64) -> f64 {
        self.0.sort();
        if self.0.is_empty() {
            return 0.0;
        }
        let i = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0[i.min(self.0.len() - 1)].as_secs_f64() * 1000.0
    }
}

async fn run(secs: usize, entries: usize, load: tokio::runtime::Handle) -> anyhow::Result<()> {
    let app = spawn_app().await;
    let backend = app.services.db.get_database_backend();
    println!("== Passerelle funding benchmark ==");
    println!(
        "backend: {}; cores: {}; load average before: {}",
        match backend {
            DbBackend::Postgres => "PostgreSQL",
            _ => "SQLite",
        },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );
    let out = measure(&app, secs, entries, load).await;
    drop_postgres(&app).await;
    out
}

async fn measure(
    app: &TestApp,
    secs: usize,
    entries: usize,
    load: tokio::runtime::Handle,
) -> anyhow::Result<()> {
    let w = app.world().await;
    app.user(w.ngo, "money@ngo.test", "fund_manager").await;
    let manager = app.api_login("money@ngo.test").await;
    let adv = app.api_login("advocate@ngo.test").await;
    let mut references = Vec::new();
    for n in 0..CASES {
        references.push(app.create_case(&adv, &format!("Bench Person {n}")).await);
    }

    // 1. Commitments per second.
    let fund = new_fund(app, &manager, "Bench fund (commitments)", 1_000_000_000_000).await?;
    println!();
    println!("-- commitments through the API, one fund --");
    println!("| connections | commitments/s | median ms | p99 ms | refused |");
    println!("| --- | --- | --- | --- | --- |");
    let mut total_ok = 0u64;
    for &c in CONCURRENCY {
        // Warm-up, then the measured run.
        let (warm, ..) = commit_for(
            &load,
            app,
            &adv,
            &fund,
            &references,
            c,
            Duration::from_secs(1),
        )
        .await?;
        total_ok += warm;
        let (ok, bad, mut lat, took) = commit_for(
            &load,
            app,
            &adv,
            &fund,
            &references,
            c,
            Duration::from_secs(secs as u64),
        )
        .await?;
        total_ok += ok;
        println!(
            "| {c} | {:.0} | {:.1} | {:.1} | {bad} |",
            ok as f64 / took.as_secs_f64(),
            lat.ms(0.5),
            lat.ms(0.99),
        );
    }
    let (_, v) =
        passerelle_tests::get_json(&manager, app.url(&format!("/api/v1/funds/{fund}"))).await;
    let committed = v["balances"]["committed_unspent"].as_i64().unwrap_or(-1);
    println!("fund balances at the end: {}", v["balances"]);
    if committed != total_ok as i64 * COMMIT_AMOUNT {
        bail!(
            "the fund's committed balance {committed} is not {total_ok} successes × {COMMIT_AMOUNT}"
        );
    }

    // 2. The report of a fund with `entries` entries.
    let big = new_fund(
        app,
        &manager,
        "Bench fund (100 000 entries)",
        1_000_000_000_000,
    )
    .await?;
    let t = Instant::now();
    let case_ids = case_ids(app, &references).await?;
    insert_history(app, &big, &case_ids, entries - 1).await?;
    println!();
    println!(
        "-- fund report, {entries} entries (inserted in {:.1} s) --",
        t.elapsed().as_secs_f64()
    );
    if backend_is_sqlite(app) {
        app.services
            .db
            .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await?;
    } else {
        // What autovacuum does after a bulk load: statistics and the visibility map (so
        // the report's index-only scan need not visit the table).
        app.services
            .db
            .execute_unprepared("VACUUM ANALYZE fund_entries")
            .await?;
    }
    let html = app.html_login("money@ngo.test").await;
    println!("| request | median ms | p99 ms | max ms |");
    println!("| --- | --- | --- | --- |");
    for (what, client, path, marker) in [
        (
            "GET /api/v1/funds/{id}/report",
            &manager,
            format!("/api/v1/funds/{big}/report"),
            "months",
        ),
        (
            "GET /api/v1/funds/{id}/report.csv",
            &manager,
            format!("/api/v1/funds/{big}/report.csv"),
            ",",
        ),
        (
            "GET /funds/{id}/report (page)",
            &html,
            format!("/funds/{big}/report"),
            "<table",
        ),
    ] {
        let url = app.url(&path);
        let mut lat = Lat(Vec::new());
        for i in 0..=REPORT_RUNS {
            let t = Instant::now();
            let r = client.get(&url).send().await?;
            let st = r.status();
            let body = r.text().await?;
            if !st.is_success() || !body.contains(marker) {
                bail!("{what}: {st} {}", &body[..body.len().min(300)]);
            }
            if i > 0 {
                lat.0.push(t.elapsed());
            }
        }
        let max = lat.ms(1.0);
        println!(
            "| {what} | {:.1} | {:.1} | {:.1} |",
            lat.ms(0.5),
            lat.ms(0.99),
            max
        );
    }
    let (_, report) =
        passerelle_tests::get_json(&manager, app.url(&format!("/api/v1/funds/{big}/report"))).await;
    println!(
        "report: {} months, cases served {}, spent {}",
        report["months"].as_array().map_or(0, Vec::len),
        report["cases_served"],
        report["total_spent_minor"]
    );
    // The first write after the insert folds the whole history (a cold ledger).
    let body = json!({"reference": references[0], "category": "legal", "purpose": "other",
        "description": "bench", "amount_minor": COMMIT_AMOUNT, "currency": "EUR"});
    let url = app.url(&format!("/api/v1/funds/{big}/commitments"));
    let mut warm = Lat(Vec::new());
    for i in 0..21 {
        let t = Instant::now();
        let r = adv.post(&url).json(&body).send().await?;
        let st = r.status();
        if st != 201 {
            bail!("commitment on the big fund: {st} {}", r.text().await?);
        }
        if i == 0 {
            println!(
                "first commitment on it (cold ledger: {entries} entries folded and checked): {:.1} ms",
                t.elapsed().as_secs_f64() * 1000.0
            );
        } else {
            warm.0.push(t.elapsed());
        }
    }
    println!(
        "next 20 commitments on it (warm): median {:.1} ms, max {:.1} ms",
        warm.ms(0.5),
        warm.ms(1.0)
    );
    println!("load average after: {}", loadavg());
    Ok(())
}

fn backend_is_sqlite(app: &TestApp) -> bool {
    app.services.db.get_database_backend() == DbBackend::Sqlite
}

async fn new_fund(
    app: &TestApp,
    manager: &Client,
    name: &str,
    allocate: i64,
) -> anyhow::Result<String> {
    let (st, v) = passerelle_tests::send_json(
        manager,
        "POST",
        app.url("/api/v1/funds"),
        json!({"name": name, "source": "state_budget", "currency": "EUR",
            "valid_from": in_days(-800).to_string(), "valid_until": in_days(365).to_string(),
            "categories": ["legal", "shelter", "interpretation"]}),
    )
    .await;
    if st != 201 {
        bail!("create fund: {st} {v}");
    }
    let id = v["id"].as_str().context("fund id")?.to_owned();
    let (st, v) = passerelle_tests::send_json(
        manager,
        "POST",
        app.url(&format!("/api/v1/funds/{id}/allocations")),
        json!({"amount_minor": allocate, "currency": "EUR", "origin": "Programme 137 (bench)",
            "on": in_days(-790).to_string()}),
    )
    .await;
    if st != 201 {
        bail!("allocate: {st} {v}");
    }
    Ok(id)
}

/// `conns` connections posting commitments for `d`; (successes, refusals, latencies, time).
async fn commit_for(
    load: &tokio::runtime::Handle,
    app: &TestApp,
    adv: &Client,
    fund: &str,
    references: &[String],
    conns: usize,
    d: Duration,
) -> anyhow::Result<(u64, u64, Lat, Duration)> {
    let url = app.url(&format!("/api/v1/funds/{fund}/commitments"));
    let refs = Arc::new(references.to_vec());
    let start = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..conns {
        let (c, url, refs) = (adv.clone(), url.clone(), refs.clone());
        tasks.push(load.spawn(async move {
            let (mut ok, mut bad, mut lat) = (0u64, 0u64, Vec::new());
            let mut n = k;
            while start.elapsed() < d {
                let body = json!({"reference": refs[n % refs.len()], "category": "legal",
                    "purpose": "other", "description": "bench", "amount_minor": COMMIT_AMOUNT,
                    "currency": "EUR"});
                n += conns;
                let t = Instant::now();
                match c.post(&url).json(&body).send().await {
                    Ok(r) if r.status() == 201 => {
                        let _ = r.bytes().await;
                        ok += 1;
                        lat.push(t.elapsed());
                    }
                    Ok(r) => {
                        bad += 1;
                        if bad == 1 {
                            eprintln!(
                                "refused: {} {}",
                                r.status(),
                                r.text().await.unwrap_or_default()
                            );
                        }
                    }
                    Err(e) => {
                        bad += 1;
                        eprintln!("request failed: {e}");
                    }
                }
            }
            (ok, bad, lat)
        }));
    }
    let (mut ok, mut bad, mut lat) = (0, 0, Vec::new());
    for t in tasks {
        let (o, b, l) = t.await?;
        ok += o;
        bad += b;
        lat.extend(l);
    }
    Ok((ok, bad, Lat(lat), start.elapsed()))
}

async fn case_ids(app: &TestApp, references: &[String]) -> anyhow::Result<Vec<i64>> {
    let rows = case::Entity::find()
        .filter(case::Column::Reference.is_in(references.iter().cloned()))
        .all(&app.services.db)
        .await?;
    if rows.len() != references.len() {
        bail!("found {} of {} bench cases", rows.len(), references.len());
    }
    Ok(rows.into_iter().map(|c| c.id).collect())
}

fn seal(keys: &KeyRing, row: &str, m: &Movement) -> anyhow::Result<Vec<u8>> {
    let json = serde_json::to_string(m)?;
    Ok(keys.encrypt_str(
        FieldLocation {
            table: "fund_entries",
            column: "movement",
            row,
        },
        &json,
    )?)
}

/// `n` entries after the fund's allocation, as the service writes them: commitments on
/// the cases over two years, each spent in part, its rest released. The fund's stored
/// balances and last entry follow.
async fn insert_history(
    app: &TestApp,
    fund_id: &str,
    cases: &[i64],
    n: usize,
) -> anyhow::Result<()> {
    let db = &app.services.db;
    let keys = &app.services.keys;
    let creator = user::Entity::find()
        .filter(user::Column::Email.eq("money@ngo.test"))
        .first(db)
        .await?
        .context("the fund manager")?
        .id;
    let max: Option<i64> = fund_entry::Entity::find()
        .select_only()
        .column_as(fund_entry::Column::Id.max(), "m")
        .into_tuple::<Option<i64>>()
        .all(db)
        .await?
        .into_iter()
        .next()
        .flatten();
    let mut next = max.unwrap_or(0) + 1;
    let today = Utc::now().date_naive();
    let mut rows = Vec::with_capacity(n);
    let (mut spent, mut commitment) = (0i64, 0i64);
    for i in 0..n {
        let id = next;
        next += 1;
        // Two years of history, oldest first.
        let on = today - ChronoDuration::days(730 - (i as i64 * 730 / n as i64));
        let case_id = cases[(i / 3) % cases.len()];
        let category = [
            CostCategory::Legal,
            CostCategory::Shelter,
            CostCategory::Interpretation,
        ][(i / 3) % 3];
        let (m, kind, amount, cat, case, of, status) = match i % 3 {
            0 => {
                commitment = id;
                (
                    Movement::Commitment {
                        case_id,
                        category,
                        purpose: CommitmentPurpose {
                            kind: PurposeKind::Other,
                            record_id: None,
                            description: format!("bench commitment {i}"),
                        },
                        amount: COMMIT_AMOUNT,
                        status: CommitmentStatus::Approved,
                    },
                    "commitment",
                    COMMIT_AMOUNT,
                    Some(category),
                    Some(case_id),
                    None,
                    Some("approved"),
                )
            }
            1 => {
                spent += SPEND;
                (
                    Movement::Spending {
                        commitment,
                        amount: SPEND,
                        invoice: format!("INV-{i}"),
                    },
                    "spending",
                    SPEND,
                    Some(category),
                    Some(case_id),
                    Some(commitment),
                    None,
                )
            }
            _ => (
                Movement::Release {
                    commitment,
                    amount: COMMIT_AMOUNT - SPEND,
                },
                "release",
                COMMIT_AMOUNT - SPEND,
                Some(category),
                Some(case_id),
                Some(commitment),
                None,
            ),
        };
        let uid = random_token(16)?;
        rows.push(fund_entry::ActiveModel {
            id: Set(id),
            movement_enc: Set(seal(keys, &uid, &m)?),
            uid: Set(uid),
            fund_id: Set(fund_id.to_owned()),
            kind: Set(kind.into()),
            amount: Set(amount),
            category: Set(cat.map(|c| c.as_str().to_owned())),
            case_id: Set(case),
            commitment_id: Set(of),
            status: Set(status.map(str::to_owned)),
            entry_on: Set(on),
            created_by: Set(creator),
            created_at: Set(Utc::now()),
        });
    }
    // A commitment left open (n not a multiple of 3) keeps its unspent part committed.
    let open = match n % 3 {
        1 => COMMIT_AMOUNT,
        2 => COMMIT_AMOUNT - SPEND,
        _ => 0,
    };
    let last = next - 1;
    let txn = begin_write(db).await?;
    let mut it = rows.into_iter().peekable();
    while it.peek().is_some() {
        let chunk: Vec<_> = it.by_ref().take(CHUNK).collect();
        fund_entry::Entity::insert_many(chunk).exec(&txn).await?;
    }
    fund::Entity::update_many()
        .col_expr(
            fund::Column::Spent,
            Expr::col(fund::Column::Spent).add(spent),
        )
        .col_expr(
            fund::Column::CommittedUnspent,
            Expr::col(fund::Column::CommittedUnspent).add(open),
        )
        .col_expr(fund::Column::LastEntry, Expr::value(Some(last)))
        .filter(fund::Column::Id.eq(fund_id))
        .exec(&txn)
        .await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(
            "SELECT setval(pg_get_serial_sequence('fund_entries', 'id'), (SELECT MAX(id) FROM fund_entries))",
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}
