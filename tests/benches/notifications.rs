//! Notifications benchmark (issue 13; a bench target, not a timed test).
//!
//! Two questions, on SQLite and, when a server is reachable, on PostgreSQL
//! (`PASSERELLE_TEST_DATABASE_URL`, else the machine's `postgres://postgres@127.0.0.1:5432/test`):
//!
//! 1. **Delivery rate.** `PASSERELLE_BENCH_MESSAGES` (2 000) due notifications are
//!    inserted as rows (as `notify_in` writes them), then one node (on PostgreSQL also two
//!    nodes, `TestApp::another_node`) with its mail pointed at a real SMTP server on this
//!    machine (`tests/smtp/server.py`, Python aiosmtpd: it shares the cores) delivers them:
//!    claim a batch of 50, render, send with lettre, mark sent. Timed until every row is
//!    `sent` (the table polled every 25 ms) and until the server has written every message;
//!    then each `Message-ID` is checked to have arrived once.
//! 2. **The scheduler over 100 000 cases** (`PASSERELLE_BENCH_CASES`): cases (about a
//!    quarter closed) of 200 advocates in 10 organisations, inserted directly; 3 000 of them with a
//!    stored recovery-period deadline due within 3 days (or overdue), 20 000 with one due
//!    later. `Services::schedule_reminders(now)` is timed on its first run (it creates the
//!    3 000 reminders) and on `PASSERELLE_BENCH_RUNS` (9) later runs (which create none);
//!    target **under 1 s a run**. Then the queries a run makes are timed alone.
//!
//! Run: `cargo bench -p passerelle-tests --bench notifications`. Results: docs/benchmarks.md.

use anyhow::{Context, bail};
use chrono::{Duration as ChronoDuration, Utc};
use passerelle_core::crypto::FieldLocation;
use passerelle_core::domain::{CaseRef, Stage};
use passerelle_core::store::entity::{case, deadline, follow_up_visit, notification, person, user};
use passerelle_core::store::{First, begin_write};
use passerelle_tests::bench::{drop_postgres, loadavg, reachable_postgres};
use passerelle_tests::smtp::SmtpServer;
use passerelle_tests::{TestApp, spawn_app_on};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const BATCH: u32 = 50;
const POLL_MS: u64 = 20;
const CHUNK: usize = 500;
const CHUNKS_PER_TXN: usize = 20;
const ORGS: usize = 10;
const ADVOCATES_PER_ORG: usize = 20;
const DUE_DEADLINES: usize = 3_000;
const LATER_DEADLINES: usize = 20_000;
const TARGET_MS: f64 = 1_000.0;

/// Stages before the return, where a recovery-period deadline applies.
const BEFORE_RETURN: [Stage; 5] = [
    Stage::Referred,
    Stage::Screening,
    Stage::Protection,
    Stage::SolutionPlanning,
    Stage::ReturnInProgress,
];

fn env_usize(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .with_context(|| format!("{name} must be a whole number, not {v:?}")),
        Err(_) => Ok(default),
    }
}

struct Config {
    messages: usize,
    cases: usize,
    runs: usize,
}

fn main() -> anyhow::Result<()> {
    let config = Config {
        messages: env_usize("PASSERELLE_BENCH_MESSAGES", 2_000)?,
        cases: env_usize("PASSERELLE_BENCH_CASES", 100_000)?,
        runs: env_usize("PASSERELLE_BENCH_RUNS", 9)?,
    };
    if !(10..=100_000).contains(&config.messages)
        || !(DUE_DEADLINES * 10..=2_000_000).contains(&config.cases)
        || !(1..=100).contains(&config.runs)
    {
        bail!(
            "PASSERELLE_BENCH_MESSAGES 10..=100000, PASSERELLE_BENCH_CASES 30000..=2000000, \
             PASSERELLE_BENCH_RUNS 1..=100"
        );
    }
    // Two worker threads: the nodes' mail workers, the pools and the polling share the
    // two cores (with the Python SMTP server), as two small processes would.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run(config))
}

async fn run(config: Config) -> anyhow::Result<()> {
    println!("== Passerelle notifications benchmark ==");
    println!(
        "cores: {}; load average before: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );
    let mut backends: Vec<Option<String>> = vec![None];
    match reachable_postgres().await {
        Some(url) => backends.push(Some(url)),
        None => println!("PostgreSQL not reachable: SQLite only"),
    }
    for pg in backends {
        let name = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
        println!();
        println!("==== {name} ====");
        {
            let app = spawn_app_on(pg.clone()).await;
            let out = delivery(&app, config.messages).await;
            drop_postgres(&app).await;
            out?;
        }
        {
            let app = spawn_app_on(pg.clone()).await;
            let out = scheduler(&app, config.cases, config.runs).await;
            drop_postgres(&app).await;
            out?;
        }
    }
    println!();
    println!("load average after: {}", loadavg());
    Ok(())
}

// ---------- 1. delivery ----------

async fn delivery(app: &TestApp, n: usize) -> anyhow::Result<()> {
    let db = &app.services.db;
    let pg = db.get_database_backend() == DbBackend::Postgres;
    let w = app.world().await;
    let advocate = user::Entity::find()
        .filter(user::Column::Email.eq("advocate@ngo.test"))
        .first(db)
        .await?
        .context("the advocate")?;
    let scenarios: &[usize] = if pg { &[1, 2] } else { &[1] };
    println!();
    println!("-- delivery: {n} due messages, batch {BATCH}, poll {POLL_MS} ms --");
    println!("| nodes | all received s | all marked sent s | messages/s | sent twice |");
    println!("| --- | --- | --- | --- | --- |");
    for (k, &nodes) in scenarios.iter().enumerate() {
        let Some(smtp) = SmtpServer::start(&[]) else {
            bail!("the SMTP server (python3 -m pip install aiosmtpd) is needed");
        };
        insert_due(app, advocate.id, w.ngo, k, n).await?;
        let tweak = |s: &mut passerelle::config::Settings| {
            smtp.configure(s);
            s.mail.batch = BATCH;
            s.mail.poll_ms = POLL_MS;
            // Long enough that no batch outlives its lease on a busy machine.
            s.mail.lease_secs = 60;
            s.mail.schedule_secs = 3_600;
        };
        let start = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..nodes {
            let (_, worker, _) = app.another_node(tweak).await;
            workers.push(worker.context("the node's mail worker")?);
        }
        let started = start.elapsed();
        let (mut received_at, mut sent_at) = (None, None);
        let deadline = Instant::now() + Duration::from_secs(600);
        while received_at.is_none() || sent_at.is_none() {
            if Instant::now() > deadline {
                bail!("{nodes} node(s): not delivered in 10 minutes");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
            if received_at.is_none() && eml_count(&smtp) >= n {
                received_at = Some(start.elapsed());
            }
            if sent_at.is_none() {
                let pending = notification::Entity::find()
                    .filter(notification::Column::MailStatus.eq("pending"))
                    .count(db)
                    .await?;
                if pending == 0 {
                    sent_at = Some(start.elapsed());
                }
            }
        }
        for wk in &workers {
            wk.abort();
        }
        let (received, sent) = (received_at.unwrap_or_default(), sent_at.unwrap_or_default());
        let mails = smtp.mails();
        let ids: HashSet<String> = mails
            .iter()
            .filter_map(|m| m.header("Message-ID"))
            .collect();
        if ids.len() != n {
            bail!("{} distinct messages arrived, not {n}", ids.len());
        }
        println!(
            "| {nodes} | {:.2} | {:.2} | {:.0} | {} |",
            received.as_secs_f64(),
            sent.as_secs_f64(),
            n as f64 / sent.max(received).as_secs_f64(),
            mails.len() - n
        );
        println!(
            "   (node start-up {:.0} ms included; first-to-last from the start of the first node)",
            started.as_secs_f64() * 1000.0
        );
    }
    Ok(())
}

/// `n` due notifications for the advocate, as `notify_in` writes them; the ids of scenario
/// `k` are their own (each id is a `Message-ID`).
async fn insert_due(
    app: &TestApp,
    user_id: i64,
    org_id: i64,
    k: usize,
    n: usize,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let rows: Vec<notification::ActiveModel> = (0..n)
        .map(|i| notification::ActiveModel {
            id: Set(format!("{k:08x}{i:024x}")),
            user_id: Set(user_id),
            org_id: Set(org_id),
            kind: Set("deadline_due".into()),
            case_ref: Set(Some(CaseRef::new(2026, i as i64 + 1).as_str().to_owned())),
            from_org: Set("Passage".into()),
            link: Set("/deadlines".into()),
            lang: Set("en".into()),
            email: Set("advocate@ngo.test".into()),
            delivery: Set("immediately".into()),
            mail_status: Set("pending".into()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            lease_owner: Set(None),
            lease_until: Set(None),
            sent_at: Set(None),
            last_error: Set(None),
            read_at: Set(None),
            dedup_key: Set(None),
            created_at: Set(now),
            digest_id: Set(None),
            secret_enc: Set(None),
        })
        .collect();
    let txn = begin_write(&app.services.db).await?;
    for chunk in rows.chunks(CHUNK) {
        notification::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// How many messages the server has written (file names only: reading 2 000 files every
/// 25 ms would load the machine).
fn eml_count(smtp: &SmtpServer) -> usize {
    std::fs::read_dir(&smtp.dir).map_or(0, |rd| {
        rd.filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .count()
    })
}

// ---------- 2. the scheduler ----------

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

async fn scheduler(app: &TestApp, cases: usize, runs: usize) -> anyhow::Result<()> {
    let db = &app.services.db;
    let pg = db.get_database_backend() == DbBackend::Postgres;
    let w = app.world().await;
    let t = Instant::now();
    let advocates = advocates(app, w.ngo).await?;
    let expected = seed_cases(app, &advocates, cases).await?;
    if pg {
        for table in ["cases", "persons", "deadlines", "users", "notifications"] {
            db.execute_unprepared(&format!("VACUUM ANALYZE {table}"))
                .await?;
        }
    } else {
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await?;
    }
    let open = case::Entity::find()
        .filter(case::Column::ClosedAt.is_null())
        .count(db)
        .await?;
    println!();
    println!(
        "-- scheduler: {cases} cases ({open} open), {} advocates, {} deadlines ({} due within 3 days), seeded in {:.1} s --",
        advocates.len(),
        DUE_DEADLINES + LATER_DEADLINES,
        DUE_DEADLINES,
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let made = app
        .services
        .schedule_reminders(Utc::now(), Default::default())
        .await?;
    let first = t.elapsed();
    if made != expected {
        bail!("the first run made {made} reminders, expected {expected}");
    }
    let mut later = Lat(Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let made = app
            .services
            .schedule_reminders(Utc::now(), Default::default())
            .await?;
        later.0.push(t.elapsed());
        if made != 0 {
            bail!("a later run made {made} reminders, expected none");
        }
    }
    let first_ms = first.as_secs_f64() * 1000.0;
    let (median, max) = (later.ms(0.5), later.ms(1.0));
    println!("| run | reminders made | median ms | max ms |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| first | {made} | {first_ms:.0} | {first_ms:.0} |",
        made = expected
    );
    println!("| later ({runs} runs) | 0 | {median:.0} | {max:.0} |");
    println!(
        "target (under {TARGET_MS:.0} ms a run): first {}, later {}",
        if first_ms < TARGET_MS {
            "met"
        } else {
            "MISSED"
        },
        if max < TARGET_MS { "met" } else { "MISSED" }
    );

    // Where a run's time goes: its reads, each alone (median of 5).
    let now = Utc::now();
    let soon = now.date_naive()
        + ChronoDuration::days(passerelle_core::notify::ReminderWindows::default().deadline_days);
    println!("| a later run's reads, alone | rows | median ms |");
    println!("| --- | --- | --- |");
    let part = |name: &'static str, rows: usize, mut l: Lat| {
        println!("| {name} | {rows} | {:.1} |", l.ms(0.5));
    };
    let (rows, l) = time5(|| async move {
        Ok(notification::Entity::find()
            .filter(notification::Column::DedupKey.is_not_null())
            .filter(notification::Column::Kind.eq("deadline_due"))
            .all(db)
            .await?
            .len())
    })
    .await?;
    part("known reminders (notifications, whole rows)", rows, l);
    let (rows, l) = time5(|| async move {
        Ok(case::Entity::find()
            .filter(case::Column::ClosedAt.is_null())
            .all(db)
            .await?
            .len())
    })
    .await?;
    part("open cases (whole rows, into a map)", rows, l);
    let (rows, l) = time5(|| async move {
        Ok(deadline::Entity::find()
            .filter(deadline::Column::ClosedAt.is_null())
            .filter(deadline::Column::DueOn.lte(soon))
            .all(db)
            .await?
            .len())
    })
    .await?;
    part("deadlines due within 3 days", rows, l);
    let (rows, l) = time5(|| async move {
        Ok(follow_up_visit::Entity::find()
            .filter(follow_up_visit::Column::Status.eq("planned"))
            .filter(follow_up_visit::Column::DueOn.lte(soon))
            .all(db)
            .await?
            .len())
    })
    .await?;
    part("planned visits due within 3 days", rows, l);
    Ok(())
}

async fn time5<F, Fut>(f: F) -> anyhow::Result<(usize, Lat)>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    let mut l = Lat(Vec::new());
    let mut rows = 0;
    for _ in 0..5 {
        let t = Instant::now();
        rows = f().await?;
        l.0.push(t.elapsed());
    }
    Ok((rows, l))
}

/// (user id, org id) of the advocates: `ORGS` organisations, `ADVOCATES_PER_ORG` each,
/// inserted directly with the world's advocate's password hash.
async fn advocates(app: &TestApp, ngo: i64) -> anyhow::Result<Vec<(i64, i64)>> {
    let db = &app.services.db;
    let mut orgs = vec![ngo];
    for i in 1..ORGS {
        orgs.push(
            app.org(
                &format!("Bench organisation {i:02}"),
                "victim_advocacy",
                "FR",
            )
            .await,
        );
    }
    let hash = user::Entity::find()
        .filter(user::Column::Email.eq("advocate@ngo.test"))
        .first(db)
        .await?
        .context("the advocate")?
        .password_hash;
    let now = Utc::now();
    let mut rows = Vec::new();
    for (i, &org) in orgs.iter().enumerate() {
        for k in 0..ADVOCATES_PER_ORG {
            rows.push(user::ActiveModel {
                org_id: Set(org),
                email: Set(format!("advocate{k}.org{i}@bench.test")),
                display_name: Set(format!("Advocate {}-{}", i + 1, k + 1)),
                role: Set("advocate".into()),
                password_hash: Set(hash.clone()),
                active: Set(true),
                created_at: Set(now),
                ..Default::default()
            });
        }
    }
    let txn = begin_write(db).await?;
    for chunk in rows.chunks(100) {
        user::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(user::Entity::find()
        .filter(user::Column::Email.like("%@bench.test"))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.org_id))
        .collect())
}

/// `total` persons and cases (ids 1..=total), then the deadlines. About a quarter of the
/// cases are closed and a quarter past the return; one in twenty is unassigned. The due
/// deadlines go to open, assigned cases before the return: the number of reminders the
/// first run must make.
async fn seed_cases(
    app: &TestApp,
    advocates: &[(i64, i64)],
    total: usize,
) -> anyhow::Result<usize> {
    let db = &app.services.db;
    let keys = &app.services.keys;
    let now = Utc::now();
    let today = now.date_naive();
    let creator = advocates[0].0;
    // (case id, due) of the deadlines to write.
    let mut due_on_cases: Vec<i64> = Vec::new();
    let mut later_on_cases: Vec<i64> = Vec::new();
    let due_every = total / DUE_DEADLINES;
    let mut n = 0usize;
    while n < total {
        let txn = begin_write(db).await?;
        for _ in 0..CHUNKS_PER_TXN {
            if n >= total {
                break;
            }
            let end = (n + CHUNK).min(total);
            let mut persons = Vec::with_capacity(end - n);
            let mut cases = Vec::with_capacity(end - n);
            for i in n..end {
                let id = i as i64 + 1;
                let pid = format!("{i:032x}");
                let name = format!("Bench Person {id}");
                persons.push(person::ActiveModel {
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
                    aliases_enc: Set(None),
                    birth_date_enc: Set(None),
                    nationality_enc: Set(None),
                    stateless: Set(false),
                    languages_enc: Set(None),
                    contact_enc: Set(None),
                    location_enc: Set(None),
                    notes_enc: Set(None),
                    is_minor: Set(false),
                    gender_enc: Set(None),
                    created_at: Set(now),
                });
                let (adv, org) = advocates[i % advocates.len()];
                let wants_due = i % due_every == 0 && due_on_cases.len() < DUE_DEADLINES;
                let (stage, closed, advocate) = if wants_due {
                    (
                        BEFORE_RETURN[(i / due_every) % BEFORE_RETURN.len()],
                        false,
                        Some(adv),
                    )
                } else {
                    match i % 20 {
                        0 | 10 => (Stage::Closed, true, Some(adv)),
                        1 => (Stage::Referred, false, None),
                        2..=5 => (Stage::Returned, false, Some(adv)),
                        6..=7 => (Stage::FollowUp, false, Some(adv)),
                        _ => (BEFORE_RETURN[i % BEFORE_RETURN.len()], false, Some(adv)),
                    }
                };
                let (stage, closed) = if !wants_due && i % 7 == 3 {
                    (Stage::Closed, true)
                } else {
                    (stage, closed)
                };
                if wants_due {
                    due_on_cases.push(id);
                } else if !closed && later_on_cases.len() < LATER_DEADLINES && i % 3 == 0 {
                    later_on_cases.push(id);
                }
                cases.push(case::ActiveModel {
                    id: Set(id),
                    reference: Set(CaseRef::new(2026, id).as_str().to_owned()),
                    person_id: Set(pid),
                    owner_org_id: Set(org),
                    advocate_user_id: Set(advocate),
                    stage: Set(stage.as_str().to_owned()),
                    version: Set(1),
                    created_by: Set(creator),
                    created_at: Set(now),
                    updated_at: Set(now),
                    closed_at: Set(closed.then_some(now)),
                    closed_by: Set(closed.then_some(creator)),
                    close_status: Set(closed.then(|| "closed".to_owned())),
                    close_reason: Set(None),
                    close_note_enc: Set(None),
                    erased_at: Set(None),
                    erased_by: Set(None),
                    erasure_reason: Set(None),
                    erased_keep_statistics: Set(false),
                });
            }
            person::Entity::insert_many(persons)
                .exec_without_returning(&txn)
                .await?;
            case::Entity::insert_many(cases)
                .exec_without_returning(&txn)
                .await?;
            n = end;
        }
        txn.commit().await?;
    }
    let mut deadlines = Vec::new();
    for (j, &case_id) in due_on_cases.iter().enumerate() {
        // From 3 days overdue to due in 3 days.
        let due = today + ChronoDuration::days(j as i64 % 7 - 3);
        deadlines.push((case_id, due));
    }
    for (j, &case_id) in later_on_cases.iter().enumerate() {
        deadlines.push((case_id, today + ChronoDuration::days(10 + j as i64 % 110)));
    }
    let txn = begin_write(db).await?;
    for chunk in deadlines.chunks(CHUNK) {
        let rows: Vec<deadline::ActiveModel> = chunk
            .iter()
            .map(|&(case_id, due)| deadline::ActiveModel {
                case_id: Set(case_id),
                kind: Set(passerelle_core::deadlines::RECOVERY_PERIOD_END.into()),
                starts_on: Set(due - ChronoDuration::days(30)),
                due_on: Set(due),
                source: Set("bench".into()),
                closed_at: Set(None),
                created_at: Set(now),
                ..Default::default()
            })
            .collect();
        deadline::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(
            "SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT MAX(id) FROM cases))",
        )
        .await?;
    }
    txn.commit().await?;
    if due_on_cases.len() != DUE_DEADLINES {
        bail!("{} due deadlines, not {DUE_DEADLINES}", due_on_cases.len());
    }
    Ok(due_on_cases.len())
}
