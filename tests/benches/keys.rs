//! Benchmark: key rotation (issue 15, point 4) on a caseload of `PASSERELLE_BENCH_ROWS`
//! imported cases (10 000), on SQLite and, when one answers, PostgreSQL. Times, in a
//! release build with the server in process (as `spawn_app` runs it):
//! - `key rotate`'s work: wrapping every data key under a new master key;
//! - the re-encryption job: every sealed field re-sealed under new data keys, in batches
//!   of 500 rows, from its first batch to its end (the 30 s before the new keys seal are
//!   not counted), and the fields per second;
//! - `key verify`'s work: opening every sealed field.
//!
//! Run: `cargo bench -p passerelle-tests --bench keys`. Results: docs/benchmarks.md.

use anyhow::{Context, bail};
use passerelle_core::crypto::KeyRing;
use passerelle_core::service::keys::Step;
use passerelle_tests::bench::{drop_postgres, loadavg, reachable_postgres};
use passerelle_tests::{TestApp, spawn_app_on};
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let rows = match std::env::var("PASSERELLE_BENCH_ROWS") {
        Ok(v) => v
            .trim()
            .parse::<usize>()
            .with_context(|| format!("PASSERELLE_BENCH_ROWS must be a whole number, not {v:?}"))?,
        Err(_) => 10_000,
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
    for i in 0..rows {
        csv.push_str(&format!(
            "Key Person-{i:06},K. P. {i},19{:02}-{:02}-{:02},no,NG,no,\"Edo, English\",+234 803 555 {:04},\"Foyer {}, Lyon\",note {i}\n",
            50 + i % 50,
            1 + i % 12,
            1 + i % 28,
            i % 10_000,
            i % 40,
        ));
    }
    csv.into_bytes()
}

async fn run(rows: usize) -> anyhow::Result<()> {
    println!("== Passerelle key rotation benchmark ==");
    println!(
        "{rows} imported cases; cores: {}; load average before: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );
    let mut backends: Vec<Option<String>> = vec![None];
    match reachable_postgres().await {
        Some(url) => backends.push(Some(url)),
        None => println!("PostgreSQL not reachable: SQLite only"),
    }
    println!();
    println!(
        "| backend | sealed fields | rotate (re-wrap) ms | re-encryption s | fields/s | passes | verify s |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for pg in backends {
        let name = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
        let app = spawn_app_on(pg).await;
        let out = one(&app, rows).await;
        drop_postgres(&app).await;
        let (fields, rotate, job, passes, verify) = out?;
        println!(
            "| {name} | {fields} | {:.1} | {job:.1} | {:.0} | {passes} | {verify:.1} |",
            rotate * 1000.0,
            fields as f64 / job
        );
    }
    println!();
    println!("load average after: {}", loadavg());
    Ok(())
}

async fn one(app: &TestApp, rows: usize) -> anyhow::Result<(u64, f64, f64, i32, f64)> {
    let w = app.world().await;
    app.user(w.ngo, "admin@ngo.test", "org_admin").await;
    let admin = app.api_login("admin@ngo.test").await;
    let r = admin
        .post(app.url("/api/v1/imports/cases"))
        .header("Content-Type", "text/csv")
        .timeout(Duration::from_secs(600))
        .body(file(rows))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("the import failed: {}", r.text().await?);
    }
    let s = &app.services;
    let new = KeyRing::from_hex(&s.keys.successor_hex()?)?;
    let t = Instant::now();
    s.rotate_master_key(&new).await?;
    let rotate = t.elapsed().as_secs_f64();
    // The job seals with this node's master key: no other one may wrap keys then.
    s.retire_master_key(new.master_id()).await?;
    // Held by this loop from the start: the server's own key worker stays out of it.
    s.start_reencryption(Some("bench")).await?;
    let mut started: Option<Instant> = None;
    let passes = loop {
        let before = Instant::now();
        match s.reencrypt_step("bench", 500).await? {
            Step::Waiting(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            Step::Progress(j) => {
                started.get_or_insert(before);
                if j.state == "done" {
                    break j.pass;
                }
            }
            other => bail!("the job stopped: {other:?}"),
        }
    };
    let job = started.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let t = Instant::now();
    let report = s.verify_sealed_fields().await?;
    let verify = t.elapsed().as_secs_f64();
    if !report.failures.is_empty() {
        bail!("fields do not open: {:?}", report.failures);
    }
    Ok((report.fields(), rotate, job, passes, verify))
}
