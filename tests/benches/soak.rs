//! Soak benchmark (issue 15; a bench target, not a timed test).
//!
//! The soak of `passerelle_tests::soak` in a release build: 64 signed-in connections in
//! a closed loop for `PASSERELLE_SOAK_SECONDS` (300) over the realistic mix (caseload
//! lists and pages, case pages, search, opening cases, editing persons, adding consents
//! and interviews) on a world of four organisations, 65 users and 3 000 cases, on SQLite
//! and then on PostgreSQL when one answers (`PASSERELLE_TEST_DATABASE_URL`, else the
//! machine's `postgres://postgres@127.0.0.1:5432/test`). Prints each run's figures (per
//! kind of request: count, errors, p50, p99, max; throughput; memory of the process, which
//! holds the server and the clients) and a summary table; exits non-zero on any error or
//! lost write.
//!
//! Run: `cargo bench -p passerelle-tests --bench soak` (`PASSERELLE_BENCH_BACKEND=sqlite` or
//! `postgres` for one backend alone). Results: docs/benchmarks.md.

use anyhow::bail;
use passerelle_tests::bench::reachable_postgres;
use passerelle_tests::soak::{self, CONNECTIONS, SoakReport};
use passerelle_tests::{bench, spawn_app_with};
use std::time::Duration;

fn main() -> anyhow::Result<()> {
    let secs = soak::seconds_from_env(300);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run(secs))
}

async fn run(secs: u64) -> anyhow::Result<()> {
    println!("== Passerelle soak benchmark ==");
    println!(
        "{CONNECTIONS} connections for {secs} s per backend; cores: {}; load average before: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        bench::loadavg()
    );
    // PASSERELLE_BENCH_BACKEND=sqlite or postgres runs that one alone.
    let only = std::env::var("PASSERELLE_BENCH_BACKEND").unwrap_or_default();
    let mut backends: Vec<Option<String>> = Vec::new();
    if only != "postgres" {
        backends.push(None);
    }
    if only != "sqlite" {
        match reachable_postgres().await {
            Some(url) => backends.push(Some(url)),
            None => println!("PostgreSQL not reachable: SQLite only"),
        }
    }
    let mut reports: Vec<SoakReport> = Vec::new();
    for pg in backends {
        println!();
        let app = spawn_app_with(pg, soak::settings).await;
        let out = soak::run(&app, CONNECTIONS, Duration::from_secs(secs)).await;
        bench::drop_postgres(&app).await;
        let report = out?;
        report.print();
        reports.push(report);
    }
    println!();
    println!(
        "| backend | seconds | requests | req/s | errors | lost writes | p50 ms | p99 ms | max ms | reads p99 ms | writes p99 ms | RSS before / peak / after MiB | VmHWM MiB |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in &reports {
        println!(
            "| {} | {:.0} | {} | {:.0} | {} | {} | {:.1} | {:.1} | {:.0} | {:.1} | {:.1} | {:.0} / {:.0} / {:.0} | {:.0} |",
            r.backend,
            r.seconds,
            r.overall.requests,
            r.throughput(),
            r.error_count(),
            r.lost.len(),
            r.overall.p50_ms,
            r.overall.p99_ms,
            r.overall.max_ms,
            r.reads.p99_ms,
            r.writes.p99_ms,
            r.memory_loaded.rss_mib(),
            r.memory_peak_rss.rss_mib(),
            r.memory_end.rss_mib(),
            r.memory_end.hwm_mib()
        );
    }
    println!();
    println!("load average after: {}", bench::loadavg());
    let bad: Vec<&str> = reports
        .iter()
        .filter(|r| r.error_count() > 0 || !r.lost.is_empty())
        .map(|r| r.backend)
        .collect();
    if !bad.is_empty() {
        bail!("errors or lost writes on {}", bad.join(", "));
    }
    Ok(())
}
