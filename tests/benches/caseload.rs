//! Caseload benchmark (a bench target, not a timed test).
//!
//! Generates a deployment of 100,000 cases across 20 organisations, then measures, side by
//! side in the same run and against the same database:
//!
//! - `GET /cases`: the HTML caseload page of an advocate with 200 active cases (scope
//!   "mine", 50 per page), through the real server: session, caseload use case, audit
//!   entry, template;
//! - `GET /api/v1/cases?scope=mine&per_page=50`: its JSON twin;
//! - `GET /raw/caseload`: a minimal actix-web handler on the same database pool that runs
//!   the equivalent raw SQL (a count and one joined page query, both of the open cases
//!   only, as the caseload since issue 16) and returns JSON. No session, no audit: the
//!   floor the two others are compared against.
//!
//! Each target gets `PASSERELLE_BENCH_CONCURRENCY` (32) concurrent keep-alive connections for
//! `PASSERELLE_BENCH_SECS` (5) seconds per round, after a warm-up, in
//! `PASSERELLE_BENCH_ROUNDS` (2) interleaved rounds. The server runs as in production (the
//! services and the audit writer on a current-thread runtime, two actix workers); the load
//! generator runs on its own runtime. SQLite unless `PASSERELLE_TEST_DATABASE_URL` names a
//! PostgreSQL server.
//!
//! Run: `cargo bench -p passerelle-tests --bench caseload`. Results: docs/benchmarks.md.

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, Duration as ChronoDuration, NaiveDate, Utc};
use passerelle_core::crypto::{FieldLocation, KeyRing, random_token};
use passerelle_core::domain::{AuditAction, CaseRef, Section, Stage};
use passerelle_core::service::admin::NewOrg;
use passerelle_core::service::audit::NewEntry;
use passerelle_core::service::cases::{Scope, caseload_page_statement};
use passerelle_core::store::entity::{case, person, ref_counter, user};
use passerelle_core::store::{First, begin_write};
use passerelle_core::{Actor, Services};
use passerelle_tests::bench::{drop_postgres, loadavg};
use passerelle_tests::{PASSWORD, TestApp, spawn_app};
use reqwest::Client;
use sea_orm::ActiveValue::Set;
use sea_orm::sqlx::{self, Row};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, TransactionTrait,
};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const ORGS: usize = 20;
/// Per organisation: advocates, shelter coordinators, one organisation administrator.
const ADVOCATES_PER_ORG: usize = 12;
const COORDINATORS_PER_ORG: usize = 2;
/// Cases assigned to the measured advocate, all in active stages.
const MEASURED_CASES: usize = 200;
const CHUNK: usize = 500;
const CHUNKS_PER_TXN: usize = 20;
const PER_PAGE: u64 = 50;
const WARMUP: Duration = Duration::from_secs(2);
/// Upper bound of requests per connection per run: the loops are bounded by time and count.
const MAX_REQUESTS_PER_CONN: usize = 1_000_000;
/// The targets of the issue.
const P99_TARGET_MS: f64 = 20.0;
const RAW_SHARE_TARGET: f64 = 0.5;

const ACTIVE: [Stage; 6] = [
    Stage::Referred,
    Stage::Screening,
    Stage::Protection,
    Stage::SolutionPlanning,
    Stage::ReturnInProgress,
    Stage::FollowUp,
];
const FIRST: [&str; 12] = [
    "Blessing", "Joy", "Precious", "Favour", "Mercy", "Gift", "Amina", "Esther", "Grace", "Faith",
    "Osas", "Ivie",
];
const LAST: [&str; 12] = [
    "Okoro",
    "Eze",
    "Osagie",
    "Igbinedion",
    "Adeyemi",
    "Obi",
    "Nwosu",
    "Ehigiator",
    "Uwaifo",
    "Bello",
    "Musa",
    "Edo",
];
const NATIONALITIES: [&str; 6] = ["NG", "GH", "CM", "CI", "AL", "VN"];

struct Config {
    cases: usize,
    concurrency: usize,
    secs: u64,
    rounds: usize,
    /// Also time the parts of a request in process (no HTTP).
    breakdown: bool,
    /// Only these targets (`raw`, `api`, `page`), e.g. to profile one of them.
    only: Option<Vec<String>>,
}

fn env_num(name: &str, default: u64) -> anyhow::Result<u64> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .with_context(|| format!("{name} must be a whole number, not '{v}'")),
        Err(_) => Ok(default),
    }
}

impl Config {
    fn from_env() -> anyhow::Result<Self> {
        let c = Self {
            cases: usize::try_from(env_num("PASSERELLE_BENCH_CASES", 100_000)?)?,
            concurrency: usize::try_from(env_num("PASSERELLE_BENCH_CONCURRENCY", 32)?)?,
            secs: env_num("PASSERELLE_BENCH_SECS", 5)?,
            rounds: usize::try_from(env_num("PASSERELLE_BENCH_ROUNDS", 2)?)?,
            breakdown: env_num("PASSERELLE_BENCH_BREAKDOWN", 1)? != 0,
            only: match std::env::var("PASSERELLE_BENCH_TARGETS") {
                Ok(v) if !v.trim().is_empty() => {
                    let picked: Vec<String> = v.split(',').map(|t| t.trim().to_owned()).collect();
                    if let Some(bad) = picked
                        .iter()
                        .find(|t| !["raw", "api", "page"].contains(&t.as_str()))
                    {
                        bail!("PASSERELLE_BENCH_TARGETS: unknown target '{bad}' (raw, api, page)");
                    }
                    Some(picked)
                }
                _ => None,
            },
        };
        if c.cases < MEASURED_CASES * 2 {
            bail!(
                "PASSERELLE_BENCH_CASES must be at least {}",
                MEASURED_CASES * 2
            );
        }
        if !(1..=512).contains(&c.concurrency)
            || !(1..=120).contains(&c.secs)
            || !(1..=10).contains(&c.rounds)
        {
            bail!("concurrency 1..=512, secs 1..=120, rounds 1..=10");
        }
        Ok(c)
    }
}

/// SplitMix64: a small deterministic generator, so every run builds the same world.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

fn main() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    // The server side as in production (`#[actix_web::main]` is a current-thread runtime;
    // actix starts its own worker threads). The load generator gets its own runtime so
    // that it does not delay the audit writer's task.
    let server_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let load_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-load")
        .enable_all()
        .build()?;
    let outcome = server_rt.block_on(run(config, load_rt.handle().clone()));
    load_rt.shutdown_background();
    outcome
}

struct Ids {
    orgs: Vec<i64>,
    /// (user id, org id) of every advocate but the measured one.
    advocates: Vec<(i64, i64)>,
    /// One non-advocate user per organisation, as the creator of unassigned cases.
    creators: Vec<i64>,
    measured: i64,
    measured_org: i64,
    measured_email: String,
}

async fn run(config: Config, load: tokio::runtime::Handle) -> anyhow::Result<()> {
    let app = spawn_app().await;
    let backend = app.services.db.get_database_backend();
    println!("== Passerelle caseload benchmark ==");
    println!(
        "backend: {}; cores: {}; load average before: {}",
        backend_name(backend),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        loadavg()
    );

    let t = Instant::now();
    let ids = people(&app).await?;
    println!(
        "people: {} organisations, {} users in {:.1} s",
        ids.orgs.len(),
        ORGS * (ADVOCATES_PER_ORG + COORDINATORS_PER_ORG + 1) + 1,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    generate_cases(&app.services.db, &app.services.keys, &ids, config.cases).await?;
    println!(
        "cases: {} persons and cases inserted in {:.1} s",
        config.cases,
        t.elapsed().as_secs_f64()
    );
    if backend == DbBackend::Sqlite {
        app.services
            .db
            .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await?;
        let actor = app
            .services
            .user_by_email(&ids.measured_email)
            .await?
            .context("measured advocate")?;
        let product =
            caseload_page_statement(&actor, Scope::Mine, None, 1, PER_PAGE, DbBackend::Sqlite);
        let raw = sea_orm::Statement::from_sql_and_values(
            DbBackend::Sqlite,
            SQLITE_SQL.page,
            [ids.measured.into()],
        );
        for (name, st) in [("product", product), ("raw floor", raw)] {
            println!(
                "page query plan ({name}): {}",
                query_plan(&app.services.db, st).await?
            );
        }
    }

    let raw = start_raw_server(&app, ids.measured, ids.measured_org)?;
    let targets = vec![
        Target {
            name: "raw SQL handler (floor)",
            url: format!("http://127.0.0.1:{}/raw/caseload", raw.port),
            marker: "\"total\":200",
        },
        Target {
            name: "GET /api/v1/cases?scope=mine",
            url: app.url(&format!("/api/v1/cases?scope=mine&per_page={PER_PAGE}")),
            marker: "\"total\":200",
        },
        Target {
            name: "GET /cases (HTML page)",
            url: app.url("/cases"),
            marker: "PSG-",
        },
    ];
    let targets: Vec<Target> = targets
        .into_iter()
        .zip(["raw", "api", "page"])
        .filter(|(_, key)| {
            config
                .only
                .as_ref()
                .is_none_or(|o| o.iter().any(|k| k == key))
        })
        .map(|(t, _)| t)
        .collect();
    let login_url = app.url("/api/v1/auth/login");
    let email = ids.measured_email.clone();
    let secs = config.secs;
    let rounds = config.rounds;
    let concurrency = config.concurrency;
    let (results, token) =
        load.spawn(async move {
            client_side(&login_url, &email, targets, concurrency, secs, rounds).await
        })
        .await
        .context("load generator task")??;

    let (parts, notes) = if config.breakdown {
        let actor = app
            .services
            .user_by_email(&ids.measured_email)
            .await?
            .context("measured advocate")?;
        let services = app.services.clone();
        let state = raw.state.clone();
        load.spawn(async move { breakdown(services, actor, token, state, concurrency, secs).await })
            .await
            .context("breakdown task")??
    } else {
        (Vec::new(), Vec::new())
    };

    let audit_rows: i64 = count(&app.services.db, "SELECT count(*) AS n FROM audit_log").await?;
    raw.handle.stop(true).await;
    report(&config, backend, &results, &parts, &notes, audit_rows);
    drop_postgres(&app).await;
    Ok(())
}

fn backend_name(b: DbBackend) -> &'static str {
    match b {
        DbBackend::Sqlite => "SQLite",
        DbBackend::Postgres => "PostgreSQL",
        _ => "other",
    }
}

async fn count(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await?
        .context("count returned no row")?;
    Ok(row.try_get::<i64>("", "n")?)
}

/// SQLite's plan of a statement, its steps joined with " / ". In a transaction (one
/// connection) after a real read, so that the plan is made with the current schema
/// (EXPLAIN alone does not notice a schema change).
async fn query_plan(db: &DatabaseConnection, st: sea_orm::Statement) -> anyhow::Result<String> {
    let txn = db.begin().await?;
    txn.execute_unprepared("SELECT count(*) FROM cases").await?;
    let plan = txn
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!("EXPLAIN QUERY PLAN {}", st.sql),
            st.values.map(|v| v.0).unwrap_or_default(),
        ))
        .await?;
    txn.commit().await?;
    let steps: Vec<String> = plan
        .iter()
        .filter_map(|r| r.try_get::<String>("", "detail").ok())
        .collect();
    Ok(steps.join(" / "))
}

/// Organisations through the service; the measured advocate through the service (a real
/// password hash); the other users inserted directly with a copy of that hash.
async fn people(app: &TestApp) -> anyhow::Result<Ids> {
    let mut orgs = Vec::with_capacity(ORGS);
    for i in 0..ORGS {
        let kind = if i % 4 == 3 {
            "shelter"
        } else {
            "victim_advocacy"
        };
        let country = if i % 5 == 4 { "BE" } else { "FR" };
        let name = format!("Bench organisation {:02}", i + 1);
        let o = app
            .services
            .create_org(
                None,
                NewOrg {
                    name: &name,
                    kind,
                    country,
                },
            )
            .await?;
        orgs.push(o.id);
    }
    let measured_org = orgs[0];
    let measured_email = "measured.advocate@bench.test".to_owned();
    let measured = app.user(measured_org, &measured_email, "advocate").await;
    let hash = user::Entity::find_by_id(measured)
        .first(&app.services.db)
        .await?
        .context("measured advocate vanished")?
        .password_hash;

    let now = Utc::now();
    let mut rows = Vec::new();
    for (i, &org) in orgs.iter().enumerate() {
        let mut add = |email: String, name: String, role: &str| {
            rows.push(user::ActiveModel {
                org_id: Set(org),
                email: Set(email),
                display_name: Set(name),
                role: Set(role.to_owned()),
                password_hash: Set(hash.clone()),
                active: Set(true),
                created_at: Set(now),
                ..Default::default()
            });
        };
        for k in 0..ADVOCATES_PER_ORG {
            add(
                format!("advocate{k}.org{i}@bench.test"),
                format!("Advocate {}-{}", i + 1, k + 1),
                "advocate",
            );
        }
        for k in 0..COORDINATORS_PER_ORG {
            add(
                format!("coordinator{k}.org{i}@bench.test"),
                format!("Coordinator {}-{}", i + 1, k + 1),
                "shelter_coordinator",
            );
        }
        add(
            format!("admin.org{i}@bench.test"),
            format!("Administrator {}", i + 1),
            "org_admin",
        );
    }
    let txn = begin_write(&app.services.db).await?;
    for chunk in rows.chunks(100) {
        user::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;

    let all = user::Entity::find()
        .filter(user::Column::Id.ne(measured))
        .all(&app.services.db)
        .await?;
    let advocates: Vec<(i64, i64)> = all
        .iter()
        .filter(|u| u.role == "advocate" && orgs.contains(&u.org_id))
        .map(|u| (u.id, u.org_id))
        .collect();
    let creators: Vec<i64> = orgs
        .iter()
        .filter_map(|o| {
            all.iter()
                .find(|u| u.org_id == *o && u.role == "org_admin")
                .map(|u| u.id)
        })
        .collect();
    if advocates.len() != ORGS * ADVOCATES_PER_ORG || creators.len() != ORGS {
        bail!(
            "unexpected users: {} advocates, {} creators",
            advocates.len(),
            creators.len()
        );
    }
    Ok(Ids {
        orgs,
        advocates,
        creators,
        measured,
        measured_org,
        measured_email,
    })
}

fn seal(keys: &KeyRing, column: &'static str, row: &str, v: &str) -> anyhow::Result<Vec<u8>> {
    Ok(keys.encrypt_str(
        FieldLocation {
            table: "persons",
            column,
            row,
        },
        v,
    )?)
}

/// Persons and cases in multi-row inserts, `CHUNK` rows a statement, `CHUNKS_PER_TXN`
/// statements a transaction. Personal fields are encrypted and indexed as the service does.
async fn generate_cases(
    db: &DatabaseConnection,
    keys: &Arc<KeyRing>,
    ids: &Ids,
    total: usize,
) -> anyhow::Result<()> {
    let mut rng = Rng(0x5EED_CA5E_10AD);
    let now = Utc::now();
    let year = now.year();
    let step = total / MEASURED_CASES;
    let two_years = 730 * 24 * 3600;
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
                let number = i as i64 + 1;
                let id = random_token(16)?;
                let name = format!("{} {} {}", rng.pick(&FIRST), rng.pick(&LAST), number);
                let birth = NaiveDate::from_ymd_opt(
                    1960 + rng.below(48) as i32,
                    1 + rng.below(12) as u32,
                    1 + rng.below(28) as u32,
                )
                .context("birth date")?;
                let created_at = now - ChronoDuration::seconds(rng.below(two_years) as i64);
                let since = (now - created_at).num_seconds().max(1) as usize;
                let updated_at = created_at + ChronoDuration::seconds(rng.below(since) as i64);
                persons.push(person::ActiveModel {
                    id: Set(id.clone()),
                    name_enc: Set(seal(keys, "name", &id, &name)?),
                    name_idx: Set(keys.blind_index("person-name", &name)),
                    aliases_enc: Set(None),
                    birth_date_enc: Set(Some(seal(
                        keys,
                        "birth_date",
                        &id,
                        &birth.format("%Y-%m-%d").to_string(),
                    )?)),
                    nationality_enc: Set(Some(seal(
                        keys,
                        "nationality",
                        &id,
                        rng.pick(&NATIONALITIES),
                    )?)),
                    stateless: Set(false),
                    languages_enc: Set(Some(seal(keys, "languages", &id, "English, Edo")?)),
                    contact_enc: Set(None),
                    location_enc: Set(None),
                    notes_enc: Set(None),
                    is_minor: Set(false),
                    gender_enc: Set(None),
                    created_at: Set(created_at),
                });
                // Every `step`-th case (interleaved, not a block) goes to the measured
                // advocate, in an active stage; the rest are spread over the others.
                let (owner, advocate, creator, stage) =
                    if i % step == step / 2 && i / step < MEASURED_CASES {
                        (
                            ids.measured_org,
                            Some(ids.measured),
                            ids.measured,
                            rng.pick(&ACTIVE),
                        )
                    } else if rng.below(20) == 0 {
                        let o = rng.below(ids.orgs.len());
                        (ids.orgs[o], None, ids.creators[o], Stage::Referred)
                    } else {
                        let (a, o) = rng.pick(&ids.advocates);
                        let stage = if rng.below(10) < 3 {
                            Stage::Closed
                        } else {
                            rng.pick(Stage::ALL)
                        };
                        (o, Some(a), a, stage)
                    };
                cases.push(case::ActiveModel {
                    reference: Set(CaseRef::new(year, number).as_str().to_owned()),
                    person_id: Set(id),
                    owner_org_id: Set(owner),
                    advocate_user_id: Set(advocate),
                    stage: Set(stage.as_str().to_owned()),
                    version: Set(1 + rng.below(5) as i64),
                    created_by: Set(creator),
                    created_at: Set(created_at),
                    updated_at: Set(updated_at),
                    ..Default::default()
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
    // Keep the reference counter consistent: the next case opened is number total + 1.
    let txn = begin_write(db).await?;
    ref_counter::Entity::delete_many()
        .filter(ref_counter::Column::Year.eq(year))
        .exec(&txn)
        .await?;
    ref_counter::Entity::insert(ref_counter::ActiveModel {
        year: Set(year),
        last: Set(total as i64),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    let measured = case::Entity::find()
        .filter(case::Column::AdvocateUserId.eq(ids.measured))
        .filter(case::Column::Stage.ne(Stage::Closed.as_str()))
        .all(db)
        .await?
        .len();
    if measured != MEASURED_CASES {
        bail!("the measured advocate has {measured} active cases, expected {MEASURED_CASES}");
    }
    Ok(())
}

// ---------- the raw SQL floor ----------

#[derive(Clone)]
enum RawPool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

struct RawState {
    pool: RawPool,
    sql: &'static RawSql,
    advocate: i64,
    org: i64,
}

#[derive(Serialize)]
struct RawSummary {
    reference: String,
    stage: String,
    owner_org_id: i64,
    owner_org: Option<String>,
    advocate_user_id: Option<i64>,
    advocate: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    access: &'static str,
}

#[derive(Serialize)]
struct RawPage {
    items: Vec<RawSummary>,
    total: i64,
    page: u64,
    per_page: u64,
    pages: u64,
}

macro_rules! raw_count {
    ($p:literal) => {
        concat!(
            "SELECT count(*) FROM cases WHERE advocate_user_id = ",
            $p,
            " AND closed_at IS NULL"
        )
    };
}
macro_rules! raw_page {
    ($p:literal) => {
        concat!(
            "SELECT c.reference, c.stage, c.owner_org_id, o.name AS owner_org, ",
            "c.advocate_user_id, u.display_name AS advocate, c.version, c.created_at, ",
            "c.updated_at FROM cases c ",
            "LEFT JOIN organisations o ON o.id = c.owner_org_id ",
            "LEFT JOIN users u ON u.id = c.advocate_user_id ",
            "WHERE c.advocate_user_id = ",
            $p,
            " AND c.closed_at IS NULL ORDER BY c.updated_at DESC, c.id DESC LIMIT 50"
        )
    };
}

/// The two statements, in the backend's placeholder syntax.
struct RawSql {
    count: &'static str,
    page: &'static str,
}

static SQLITE_SQL: RawSql = RawSql {
    count: raw_count!("?"),
    page: raw_page!("?"),
};
static POSTGRES_SQL: RawSql = RawSql {
    count: raw_count!("$1"),
    page: raw_page!("$1"),
};

macro_rules! summaries {
    ($rows:expr, $org:expr) => {
        $rows
            .iter()
            .map(|r| {
                let owner_org_id: i64 = r.try_get("owner_org_id")?;
                Ok(RawSummary {
                    reference: r.try_get("reference")?,
                    stage: r.try_get("stage")?,
                    owner_org_id,
                    owner_org: r.try_get("owner_org")?,
                    advocate_user_id: r.try_get("advocate_user_id")?,
                    advocate: r.try_get("advocate")?,
                    version: r.try_get("version")?,
                    created_at: r.try_get("created_at")?,
                    updated_at: r.try_get("updated_at")?,
                    access: if owner_org_id == $org {
                        "owner"
                    } else {
                        "shared"
                    },
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?
    };
}

async fn raw_page(st: &RawState, sql: &RawSql) -> Result<RawPage, sqlx::Error> {
    let (total, items) = match &st.pool {
        RawPool::Sqlite(pool) => {
            let total: i64 = sqlx::query_scalar(sql.count)
                .bind(st.advocate)
                .fetch_one(pool)
                .await?;
            let rows = sqlx::query(sql.page)
                .bind(st.advocate)
                .fetch_all(pool)
                .await?;
            (total, summaries!(rows, st.org))
        }
        RawPool::Postgres(pool) => {
            let total: i64 = sqlx::query_scalar(sql.count)
                .bind(st.advocate)
                .fetch_one(pool)
                .await?;
            let rows = sqlx::query(sql.page)
                .bind(st.advocate)
                .fetch_all(pool)
                .await?;
            (total, summaries!(rows, st.org))
        }
    };
    Ok(RawPage {
        items,
        total,
        page: 1,
        per_page: PER_PAGE,
        pages: (total.max(0) as u64).div_ceil(PER_PAGE),
    })
}

async fn raw_caseload(st: web::Data<RawState>) -> HttpResponse {
    match raw_page(&st, st.sql).await {
        Ok(p) => HttpResponse::Ok().json(p),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

struct RawServer {
    port: u16,
    handle: actix_web::dev::ServerHandle,
    state: web::Data<RawState>,
}

/// The floor: same database pool, same number of workers, no session, no audit.
fn start_raw_server(app: &TestApp, advocate: i64, org: i64) -> anyhow::Result<RawServer> {
    let db = &app.services.db;
    let (pool, sql) = match db.get_database_backend() {
        DbBackend::Sqlite => (
            RawPool::Sqlite(db.get_sqlite_connection_pool().clone()),
            &SQLITE_SQL,
        ),
        DbBackend::Postgres => (
            RawPool::Postgres(db.get_postgres_connection_pool().clone()),
            &POSTGRES_SQL,
        ),
        _ => bail!("unsupported backend"),
    };
    let state = web::Data::new(RawState {
        pool,
        sql,
        advocate,
        org,
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let shared = state.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(shared.clone())
            .route("/raw/caseload", web::get().to(raw_caseload))
    })
    .listen(listener)?;
    if app.settings.server.workers > 0 {
        server = server.workers(app.settings.server.workers);
    }
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok(RawServer {
        port,
        handle,
        state,
    })
}

// ---------- the load generator ----------

struct Target {
    name: &'static str,
    url: String,
    /// Something the body must contain (checked on the first response of each target).
    marker: &'static str,
}

struct Stats {
    name: &'static str,
    requests: usize,
    seconds: f64,
    per_round_rps: Vec<f64>,
    /// Microseconds, sorted.
    latencies: Vec<u64>,
}

impl Stats {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        let i = rank.clamp(1, self.latencies.len()) - 1;
        self.latencies[i] as f64 / 1000.0
    }
    fn mean_ms(&self) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        self.latencies.iter().sum::<u64>() as f64 / self.latencies.len() as f64 / 1000.0
    }
    fn max_ms(&self) -> f64 {
        self.latencies
            .last()
            .map_or(f64::NAN, |&m| m as f64 / 1000.0)
    }
}

/// Sign in once through the JSON API: the session cookie also works for the HTML page.
/// One client (one pool of keep-alive connections, at most `concurrency` in use) for all
/// targets, so the client-side cost is the same for each.
async fn client_side(
    login_url: &str,
    email: &str,
    targets: Vec<Target>,
    concurrency: usize,
    secs: u64,
    rounds: usize,
) -> anyhow::Result<(Vec<Stats>, String)> {
    let client = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let r = client
        .post(login_url)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await?;
    if r.status() != 200 {
        bail!(
            "login failed: {} {}",
            r.status(),
            r.text().await.unwrap_or_default()
        );
    }
    let token = r
        .cookies()
        .find(|c| c.name() == "passerelle")
        .map(|c| c.value().to_owned())
        .context("no session cookie")?;
    for t in &targets {
        let r = client.get(&t.url).send().await?;
        let status = r.status();
        let body = r.text().await?;
        if status != 200 || !body.contains(t.marker) {
            bail!(
                "{}: status {status}, body does not look right: {:.300}",
                t.name,
                body
            );
        }
    }
    same_page(&client, &targets).await?;

    let mut stats: Vec<Stats> = targets
        .iter()
        .map(|t| Stats {
            name: t.name,
            requests: 0,
            seconds: 0.0,
            per_round_rps: Vec::new(),
            latencies: Vec::new(),
        })
        .collect();
    let duration = Duration::from_secs(secs);
    for round in 1..=rounds {
        for (t, s) in targets.iter().zip(stats.iter_mut()) {
            let _ = blast(&client, &t.url, concurrency, WARMUP).await?;
            let (lat, elapsed) = blast(&client, &t.url, concurrency, duration).await?;
            let rps = lat.len() as f64 / elapsed;
            println!(
                "round {round}: {:<32} {:>8.0} req/s ({} requests)",
                t.name,
                rps,
                lat.len()
            );
            s.requests += lat.len();
            s.seconds += elapsed;
            s.per_round_rps.push(rps);
            s.latencies.extend(lat);
        }
    }
    for s in &mut stats {
        s.latencies.sort_unstable();
    }
    Ok((stats, token))
}

/// The API and the raw handler must return the same page (same references, same total).
async fn same_page(client: &Client, targets: &[Target]) -> anyhow::Result<()> {
    let mut pages = Vec::new();
    for t in targets.iter().filter(|t| t.marker.starts_with("\"total\"")) {
        let v: Value = client.get(&t.url).send().await?.json().await?;
        let refs: Vec<String> = v["items"]
            .as_array()
            .context("items")?
            .iter()
            .filter_map(|i| i["reference"].as_str().map(str::to_owned))
            .collect();
        pages.push((t.name, v["total"].as_i64(), refs));
    }
    if let [(_, t0, r0), rest @ ..] = pages.as_slice() {
        for (name, t, r) in rest {
            if t != t0 || r != r0 {
                bail!("{name} does not return the same page as the raw handler");
            }
        }
        if *t0 != Some(MEASURED_CASES as i64) || r0.len() != PER_PAGE as usize {
            bail!("unexpected page: total {t0:?}, {} items", r0.len());
        }
    }
    Ok(())
}

/// `concurrency` tasks, each starting its next operation as soon as the previous one is
/// done, until `duration` has passed. Returns every latency (µs) and the elapsed time.
async fn hammer<F, Fut>(
    op: F,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<(Vec<u64>, f64)>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(4096);
            for _ in 0..MAX_REQUESTS_PER_CONN {
                let t = Instant::now();
                if t >= deadline {
                    break;
                }
                op().await?;
                lat.push(t.elapsed().as_micros() as u64);
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((all, start.elapsed().as_secs_f64()))
}

/// GET `url` on `concurrency` keep-alive connections, reading each answer in full.
async fn blast(
    client: &Client,
    url: &str,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<(Vec<u64>, f64)> {
    let client = client.clone();
    let url: Arc<str> = url.into();
    let op = move || {
        let client = client.clone();
        let url = url.clone();
        async move {
            let r = client.get(&*url).send().await?;
            let status = r.status();
            let body = r.bytes().await?;
            if status != 200 {
                bail!(
                    "{url}: status {status}: {:.200}",
                    String::from_utf8_lossy(&body)
                );
            }
            Ok(())
        }
    };
    hammer(op, concurrency, duration).await
}

// ---------- in-process breakdown ----------

const ROUTE: &str = "GET /api/v1/cases";

async fn part<F, Fut>(
    name: &'static str,
    op: F,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<Stats>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let _ = hammer(op.clone(), concurrency, Duration::from_secs(1)).await?;
    let (mut lat, seconds) = hammer(op, concurrency, duration).await?;
    lat.sort_unstable();
    let s = Stats {
        name,
        requests: lat.len(),
        seconds,
        per_round_rps: vec![lat.len() as f64 / seconds],
        latencies: lat,
    };
    println!("in process: {:<44} {:>8.0} ops/s", name, s.rps());
    Ok(s)
}

/// The parts of a caseload request, called directly (no HTTP), `concurrency` at a time:
/// where the time goes between the raw floor and the endpoint.
async fn breakdown(
    services: Services,
    actor: Actor,
    token: String,
    raw: web::Data<RawState>,
    concurrency: usize,
    secs: u64,
) -> anyhow::Result<(Vec<Stats>, Vec<String>)> {
    let d = Duration::from_secs(secs);
    let ctx = Arc::new((services, actor, token));
    let mut out = Vec::new();
    let mut notes = Vec::new();

    let st = raw.clone();
    let op = move || {
        let st = st.clone();
        async move {
            raw_page(&st, st.sql).await?;
            Ok(())
        }
    };
    out.push(
        part(
            "raw SQL: count + joined page (2 queries)",
            op,
            concurrency,
            d,
        )
        .await?,
    );

    // The same raw reads while one writer appends audit entries, one durable commit after
    // another, as the audit writer does under load: what those commits cost the readers.
    let c = ctx.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let writer = tokio::spawn(async move {
        let (services, actor, _) = &*c;
        let start = Instant::now();
        let mut commits = 0u64;
        for _ in 0..MAX_REQUESTS_PER_CONN {
            if flag.load(Ordering::Relaxed) {
                break;
            }
            services
                .audit
                .record(vec![NewEntry::by(
                    actor,
                    None,
                    Section::Caseload,
                    AuditAction::Read,
                    ROUTE,
                )])
                .await?;
            commits += 1;
        }
        Ok::<_, anyhow::Error>(commits as f64 / start.elapsed().as_secs_f64())
    });
    let st = raw.clone();
    let op = move || {
        let st = st.clone();
        async move {
            raw_page(&st, st.sql).await?;
            Ok(())
        }
    };
    let alongside = part(
        "raw SQL, audit commits alongside (see note)",
        op,
        concurrency,
        d,
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let commits = writer.await??;
    out.push(alongside?);
    notes.push(format!(
        "\"raw SQL, audit commits alongside\": one task appended single audit entries \
         meanwhile, {commits:.0} durable commits/s."
    ));

    let c = ctx.clone();
    let op = move || {
        let c = c.clone();
        async move {
            let (services, actor, _) = &*c;
            let db = &services.db;
            let total = case::Entity::find()
                .filter(case::Column::AdvocateUserId.eq(actor.user_id))
                .count(db)
                .await?;
            let page = caseload_page_statement(
                actor,
                Scope::Mine,
                None,
                1,
                PER_PAGE,
                db.get_database_backend(),
            );
            let rows = db.query_all_raw(page).await?;
            if total != MEASURED_CASES as u64 || rows.len() != PER_PAGE as usize {
                bail!("unexpected caseload reads");
            }
            Ok(())
        }
    };
    out.push(
        part(
            "sea-orm reads of the use case, no audit (2 q.)",
            op,
            concurrency,
            d,
        )
        .await?,
    );

    let c = ctx.clone();
    let op = move || {
        let c = c.clone();
        async move {
            let (services, _, token) = &*c;
            services.session(token).await?.context("session ended")?;
            Ok(())
        }
    };
    out.push(part("session lookup (1 query)", op, concurrency, d).await?);

    let c = ctx.clone();
    let op = move || {
        let c = c.clone();
        async move {
            let (services, actor, _) = &*c;
            services
                .audit
                .record(vec![NewEntry::by(
                    actor,
                    None,
                    Section::Caseload,
                    AuditAction::Read,
                    ROUTE,
                )])
                .await?;
            Ok(())
        }
    };
    out.push(
        part(
            "audit entry alone (group commit, durable)",
            op,
            concurrency,
            d,
        )
        .await?,
    );

    let c = ctx.clone();
    let op = move || {
        let c = c.clone();
        async move {
            let (services, actor, _) = &*c;
            services
                .caseload(actor, Scope::Mine, None, 1, PER_PAGE, ROUTE)
                .await?;
            Ok(())
        }
    };
    out.push(part("Services::caseload (reads + audit)", op, concurrency, d).await?);

    let c = ctx.clone();
    let op = move || {
        let c = c.clone();
        async move {
            let (services, _, token) = &*c;
            let s = services.session(token).await?.context("session ended")?;
            services
                .caseload(&s.actor, Scope::Mine, None, 1, PER_PAGE, ROUTE)
                .await?;
            Ok(())
        }
    };
    out.push(
        part(
            "session + Services::caseload (API minus HTTP)",
            op,
            concurrency,
            d,
        )
        .await?,
    );
    Ok((out, notes))
}

// ---------- report ----------

fn table(stats: &[Stats], unit: &str, base: f64) {
    println!("| {unit} | count | {unit}/s | mean ms | p50 ms | p99 ms | max ms | vs raw |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for s in stats {
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} | {:.1} % |",
            s.name,
            s.requests,
            s.rps(),
            s.mean_ms(),
            s.percentile_ms(50.0),
            s.percentile_ms(99.0),
            s.max_ms(),
            100.0 * s.rps() / base
        );
    }
}

fn report(
    config: &Config,
    backend: DbBackend,
    stats: &[Stats],
    parts: &[Stats],
    notes: &[String],
    audit_rows: i64,
) {
    // NaN (no share printed as met) when the floor was left out with PASSERELLE_BENCH_TARGETS.
    let raw_rps = stats
        .iter()
        .find(|s| s.name.starts_with("raw"))
        .map_or(f64::NAN, Stats::rps);
    println!();
    println!(
        "{} cases, {} concurrent connections, {} round(s) of {} s per target (after {} s warm-up each), {}",
        config.cases,
        config.concurrency,
        config.rounds,
        config.secs,
        WARMUP.as_secs(),
        backend_name(backend)
    );
    println!();
    table(stats, "request", raw_rps);
    println!();
    for s in stats {
        let rounds: Vec<String> = s.per_round_rps.iter().map(|r| format!("{r:.0}")).collect();
        println!("{}: req/s per round {}", s.name, rounds.join(", "));
    }
    println!();
    for s in stats.iter().filter(|s| !s.name.starts_with("raw")) {
        let p99 = s.percentile_ms(99.0);
        let share = s.rps() / raw_rps;
        println!(
            "{}: p99 {:.2} ms <= {P99_TARGET_MS} ms: {}; throughput {:.1} % of raw >= {:.0} %: {}",
            s.name,
            p99,
            if p99 <= P99_TARGET_MS {
                "MET"
            } else {
                "MISSED"
            },
            100.0 * share,
            100.0 * RAW_SHARE_TARGET,
            if share >= RAW_SHARE_TARGET {
                "MET"
            } else {
                "MISSED"
            }
        );
    }
    if !parts.is_empty() {
        println!();
        println!(
            "In process (no HTTP, no template), {} concurrent callers, {} s each:",
            config.concurrency, config.secs
        );
        println!();
        table(parts, "op", parts.first().map_or(f64::NAN, Stats::rps));
        println!();
        for n in notes {
            println!("{n}");
        }
    }
    println!("audit log entries at the end: {audit_rows}");
    println!("load average after: {}", loadavg());
}
