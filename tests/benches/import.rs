//! Benchmark: the caseload import (issue 14) of 100 000 cases through the API, on SQLite
//! and, when one answers, PostgreSQL (target: **≤ 60 s with encryption**).
//!
//! A CSV file of `PASSERELLE_BENCH_ROWS` rows (100 000) with every column of the template
//! filled (so that every personal field is encrypted: name, aliases, birth date,
//! nationality, languages, contact, location, notes) is sent by the organisation's
//! administrator to `POST /api/v1/imports/cases/check`, then to `POST
//! /api/v1/imports/cases`, timed from the request to the answer; then the same file is
//! checked again (every row now a person who already has a case: the blind-index lookup
//! over the whole caseload). Release build, the server in process (as `spawn_app` runs
//! it), the client on the same two cores.
//!
//! Run: `cargo bench -p passerelle-tests --bench import`. Results: docs/benchmarks.md.

use anyhow::{Context, bail};
use passerelle_tests::bench::{drop_postgres, loadavg};
use passerelle_tests::{TestApp, postgres_for_pg_only_tests, spawn_app_on};
use std::time::{Duration, Instant};

const TARGET_S: f64 = 60.0;

fn main() -> anyhow::Result<()> {
    let rows = match std::env::var("PASSERELLE_BENCH_ROWS") {
        Ok(v) => v
            .trim()
            .parse::<usize>()
            .with_context(|| format!("PASSERELLE_BENCH_ROWS must be a whole number, not {v:?}"))?,
        Err(_) => 100_000,
    };
    if !(100..=100_000).contains(&rows) {
        bail!("PASSERELLE_BENCH_ROWS 100..=100000 (the import's own limit)");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run(rows))
}

fn file(rows: usize) -> Vec<u8> {
    let mut csv = String::from(
        "name,aliases,birthdate,is_minor,nationality,stateless,languages,contact,location,notes\n",
    );
    const COUNTRIES: [&str; 6] = ["NG", "GH", "AL", "VN", "RO", "ER"];
    for i in 0..rows {
        csv.push_str(&format!(
            "Bench Person-{i:06},B. P. {i},19{:02}-{:02}-{:02},no,{},no,\"Edo, English\",+234 803 555 {:04},\"Foyer {}, Lyon\",\"Arrived via Libya; referred by the police on day {}.\"\n",
            50 + i % 50,
            1 + i % 12,
            1 + i % 28,
            COUNTRIES[i % COUNTRIES.len()],
            i % 10_000,
            i % 40,
            i % 365
        ));
    }
    csv.into_bytes()
}

async fn run(rows: usize) -> anyhow::Result<()> {
    println!("== Passerelle caseload import benchmark ==");
    println!(
        "cores: {}; load average before: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );
    let body = file(rows);
    println!("file: {rows} rows, {:.1} MB", body.len() as f64 / 1e6);
    let mut backends: Vec<Option<String>> = vec![None];
    let pg = postgres_for_pg_only_tests();
    match tokio::time::timeout(Duration::from_secs(5), sea_orm::Database::connect(&pg)).await {
        Ok(Ok(db)) => {
            db.close().await.ok();
            backends.push(Some(pg));
        }
        _ => println!("PostgreSQL not reachable at {pg}: SQLite only"),
    }
    println!();
    println!("| backend | check s | import s | rows/s | check again (all existing) s | target |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for pg in backends {
        let name = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
        let app = spawn_app_on(pg).await;
        let out = one(&app, &body, rows).await;
        drop_postgres(&app).await;
        let (check, import, again) = out?;
        println!(
            "| {name} | {check:.1} | {import:.1} | {:.0} | {again:.1} | {} |",
            rows as f64 / import,
            if import <= TARGET_S { "met" } else { "missed" }
        );
    }
    println!();
    println!("load average after: {}", loadavg());
    Ok(())
}

async fn one(app: &TestApp, body: &[u8], rows: usize) -> anyhow::Result<(f64, f64, f64)> {
    let w = app.world().await;
    app.user(w.ngo, "admin@ngo.test", "org_admin").await;
    let admin = app.api_login("admin@ngo.test").await;
    let post = |path: &str| {
        admin
            .post(app.url(path))
            .header("Content-Type", "text/csv")
            .timeout(Duration::from_secs(600))
            .body(body.to_vec())
            .send()
    };
    let t = Instant::now();
    let r = post("/api/v1/imports/cases/check").await?;
    let check = t.elapsed().as_secs_f64();
    let v: serde_json::Value = r.json().await?;
    if v["valid_rows"].as_u64() != Some(rows as u64) {
        bail!("the check found problems: {}", v["problems"][0]);
    }
    let t = Instant::now();
    let r = post("/api/v1/imports/cases").await?;
    let import = t.elapsed().as_secs_f64();
    let status = r.status();
    let v: serde_json::Value = r.json().await?;
    if !status.is_success() || v["imported"].as_array().map(Vec::len) != Some(rows) {
        bail!("the import failed: {status} {}", v["message"]);
    }
    let t = Instant::now();
    let r = post("/api/v1/imports/cases/check").await?;
    let again = t.elapsed().as_secs_f64();
    let v: serde_json::Value = r.json().await?;
    if v["problems"][0]["rule"] != "import-existing-case" {
        bail!(
            "the second check did not find the existing cases: {}",
            v["problems"][0]
        );
    }
    Ok((check, import, again))
}
