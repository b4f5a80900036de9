//! Exports benchmark (issue 14, point 2; a bench target, not a timed test): the
//! k-anonymised statistics export over `PASSERELLE_BENCH_CASES` (100 000) cases, on SQLite
//! and, when a server answers, on PostgreSQL (`PASSERELLE_TEST_DATABASE_URL`, else the
//! machine's `postgres://postgres@127.0.0.1:5432/test`).
//!
//! The cases (10 organisations that opted in, registered over 2019–2026) are inserted
//! directly, their fields encrypted with the server's own `KeyRing` exactly as the service
//! stores them: the person's birth date, nationality and gender (`persons|column|id`), the
//! elements as encrypted JSON (`case_elements|elements|case id`) with the types of
//! exploitation, the means of control and the country of exploitation. Then
//! `Services::statistics_export` (a statistician, k = 11) is timed
//! `PASSERELLE_BENCH_RUNS` (5) times: the batched read (5 000 cases a query, persons and
//! elements joined), the decryption off the executor, `kanon::anonymise`, the audit entry.
//! Target: **at most 5 s** a run. Then its parts alone: the reads (every window of ids,
//! rows fetched and dropped) with the plan of one, and `kanon::anonymise` over the same
//! population built in memory.
//!
//! Run: `CARGO_TARGET_DIR=/var/cache/passerelle/target-bench cargo bench -p passerelle-tests --bench exports`.
//! Results: docs/benchmarks.md, "Exports".

use anyhow::{Context, bail};
use chrono::{TimeZone, Utc};
use passerelle_core::crypto::{FieldLocation, KeyRing};
use passerelle_core::data::{Age, Country, Gender, Record};
use passerelle_core::domain::{CaseRef, Stage, age_on};
use passerelle_core::identification::{Control, Elements, Exploitation};
use passerelle_core::service::data::statistics::statistics_window_statement;
use passerelle_core::store::begin_write;
use passerelle_core::store::entity::{case, case_elements, organisation, person};
use passerelle_tests::bench::{drop_postgres, loadavg, reachable_postgres};
use passerelle_tests::{TestApp, spawn_app_on};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter};
use std::time::Instant;

const ORGS: usize = 10;
const CHUNK: usize = 500;
const CHUNKS_PER_TXN: usize = 20;
const TARGET_S: f64 = 5.0;

/// Nationalities, weighted as a caseload in Western Europe might be (repeats weigh more).
const NATIONALITIES: [&str; 20] = [
    "NG", "NG", "NG", "NG", "RO", "RO", "RO", "AL", "AL", "VN", "VN", "CN", "MA", "ER", "BG", "UA",
    "BR", "PH", "GN", "FR",
];
const EXPLOITED_IN: [&str; 10] = ["FR", "FR", "FR", "FR", "IT", "ES", "DE", "BE", "GB", "NL"];
const GENDERS: [&str; 10] = [
    "female", "female", "female", "female", "female", "female", "male", "male", "other", "unknown",
];

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
    let cases = env_usize("PASSERELLE_BENCH_CASES", 100_000)?;
    let runs = env_usize("PASSERELLE_BENCH_RUNS", 5)?;
    if !(1_000..=2_000_000).contains(&cases) || !(1..=100).contains(&runs) {
        bail!("PASSERELLE_BENCH_CASES 1000..=2000000, PASSERELLE_BENCH_RUNS 1..=100");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run(cases, runs))
}

async fn run(cases: usize, runs: usize) -> anyhow::Result<()> {
    println!("== Passerelle exports benchmark ==");
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
    println!();
    println!(
        "| backend | cases | seeding s | run | export s | kept | withheld | groups | levels (age, year, citizenship, exploitation country, types, control, gender) |"
    );
    println!("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |");
    for pg in backends {
        let name = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
        let app = spawn_app_on(pg).await;
        let out = bench(&app, name, cases, runs).await;
        drop_postgres(&app).await;
        out?;
    }
    println!();
    println!("load average after: {}", loadavg());
    Ok(())
}

async fn bench(app: &TestApp, name: &str, cases: usize, runs: usize) -> anyhow::Result<()> {
    let w = app.world().await;
    let office = app.org("Statistics Office", "state_authority", "FR").await;
    app.user(office, "stats@office.test", "statistician").await;
    let mut orgs = vec![w.ngo];
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
    organisation::Entity::update_many()
        .col_expr(
            organisation::Column::StatisticsOptIn,
            sea_orm::sea_query::Expr::value(true),
        )
        .filter(organisation::Column::Id.is_in(orgs.clone()))
        .exec(&app.services.db)
        .await?;
    let creator = app
        .services
        .user_by_email("advocate@ngo.test")
        .await?
        .context("the advocate")?
        .user_id;
    let t = Instant::now();
    let records = seed_cases(app, &orgs, creator, cases).await?;
    let seeding = t.elapsed().as_secs_f64();
    let stats = app
        .services
        .user_by_email("stats@office.test")
        .await?
        .context("the statistician")?;
    let mut times = Vec::new();
    let mut exported = Vec::new();
    for run in 1..=runs {
        let t = Instant::now();
        let e = app
            .services
            .statistics_export(&stats, Some(11), "bench")
            .await?;
        let s = t.elapsed().as_secs_f64();
        times.push(s);
        if e.report.input_rows != cases {
            bail!("{} cases read, not {cases}", e.report.input_rows);
        }
        let l = e.levels;
        exported = e.rows;
        println!(
            "| {name} | {cases} | {seeding:.1} | {run} | {s:.2} | {} | {} | {} | {}, {}, {}, {}, {}, {}, {} |",
            e.report.output_rows,
            e.report.suppressed_rows,
            e.report.groups,
            l.age,
            l.registration_year,
            l.citizenship,
            l.country_of_exploitation,
            l.exploitation,
            l.means_of_control,
            l.gender
        );
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let max = times[times.len() - 1];
    println!(
        "| {name} | {cases} | | median / max | {median:.2} / {max:.2} | | | | target ≤ {TARGET_S} s: {} |",
        if max <= TARGET_S { "met" } else { "MISSED" }
    );
    parts(app, name, &orgs, &records, &exported).await
}

/// The parts of a run alone: every window read (rows fetched, not decrypted), with the
/// plan of one; the anonymisation of the same population, in memory.
async fn parts(
    app: &TestApp,
    name: &str,
    orgs: &[i64],
    records: &[Record],
    exported: &[passerelle_core::data::Row],
) -> anyhow::Result<()> {
    let db = &app.services.db;
    let backend = db.get_database_backend();
    let n = records.len() as i64;
    let windows = (n + 4_999) / 5_000;
    let width = (n + windows - 1) / windows;
    let explain = match backend {
        DbBackend::Sqlite => "EXPLAIN QUERY PLAN ",
        _ => "EXPLAIN ",
    };
    let st = statistics_window_statement(orgs, 0, width, backend);
    let plan = db
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            format!("{explain}{}", st.sql),
            st.values.map(|v| v.0).unwrap_or_default(),
        ))
        .await?;
    println!();
    println!("{name}: the plan of one window:");
    for row in plan {
        let line: String = match backend {
            DbBackend::Sqlite => row.try_get("", "detail").unwrap_or_default(),
            _ => row.try_get("", "QUERY PLAN").unwrap_or_default(),
        };
        println!("    {line}");
    }
    let t = Instant::now();
    let mut rows = 0usize;
    let mut lo = 0i64;
    while lo < n {
        let hi = (lo + width).min(n);
        rows += db
            .query_all_raw(statistics_window_statement(orgs, lo, hi, backend))
            .await?
            .len();
        lo = hi;
    }
    let read = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let e =
        passerelle_core::data::anonymise(records, 11, &passerelle_core::data::Config::default())?;
    let anonymise = t.elapsed().as_secs_f64();
    // The service made of the stored, encrypted cases what was made of them in memory.
    if e.rows != exported {
        bail!("the export differs from the anonymisation of the seeded population");
    }
    println!(
        "{name}: the reads alone ({windows} windows, {rows} rows): {read:.2} s; anonymise alone ({} of {n} rows kept): {anonymise:.2} s",
        e.report.output_rows
    );
    println!();
    Ok(())
}

fn seal(
    keys: &KeyRing,
    table: &'static str,
    column: &'static str,
    row: &str,
    v: &[u8],
) -> anyhow::Result<Vec<u8>> {
    Ok(keys.encrypt(FieldLocation { table, column, row }, v)?)
}

/// `total` persons, cases (ids 1..=total) and their elements, every personal field sealed
/// as the service seals it; and the records the export should make of them.
async fn seed_cases(
    app: &TestApp,
    orgs: &[i64],
    creator: i64,
    total: usize,
) -> anyhow::Result<Vec<Record>> {
    let db = &app.services.db;
    let keys = &app.services.keys;
    let mut rng = Rng(14);
    let purposes = Exploitation::ALL;
    let controls = Control::ALL;
    let mut records = Vec::with_capacity(total);
    let mut n = 0usize;
    while n < total {
        let txn = begin_write(db).await?;
        for _ in 0..CHUNKS_PER_TXN {
            if n >= total {
                break;
            }
            let end = (n + CHUNK).min(total);
            let mut persons = Vec::with_capacity(end - n);
            let mut rows = Vec::with_capacity(end - n);
            let mut elements = Vec::with_capacity(end - n);
            for i in n..end {
                let id = i as i64 + 1;
                let pid = format!("{i:032x}");
                let year = 2019 + rng.below(8) as i32;
                let registered = Utc
                    .with_ymd_and_hms(
                        year,
                        1 + rng.below(12) as u32,
                        1 + rng.below(28) as u32,
                        10,
                        0,
                        0,
                    )
                    .single()
                    .context("a registration date")?;
                // Ages 12 to 64 at registration, most between 18 and 35.
                let age = if rng.below(6) == 0 {
                    12 + rng.below(6)
                } else if rng.below(4) == 0 {
                    36 + rng.below(29)
                } else {
                    18 + rng.below(18)
                };
                let birth = registered.date_naive()
                    - chrono::Duration::days(age as i64 * 365 + rng.below(300) as i64);
                let minor = age < 18 && rng.below(4) == 0;
                // One in ten without a birth date, one in twenty without a nationality.
                let birth = (rng.below(10) != 0).then_some(birth);
                let nationality = (rng.below(20) != 0).then(|| rng.pick(&NATIONALITIES));
                let gender = rng.pick(&GENDERS);
                let name = format!("Bench Person {id}");
                let sealed =
                    |column: &'static str, v: Option<String>| -> anyhow::Result<Option<Vec<u8>>> {
                        v.map(|v| seal(keys, "persons", column, &pid, v.as_bytes()))
                            .transpose()
                    };
                persons.push(person::ActiveModel {
                    id: Set(pid.clone()),
                    name_enc: Set(seal(keys, "persons", "name", &pid, name.as_bytes())?),
                    name_idx: Set(keys.blind_index("person-name", &name)),
                    aliases_enc: Set(None),
                    birth_date_enc: Set(sealed(
                        "birth_date",
                        birth.map(|b| b.format("%Y-%m-%d").to_string()),
                    )?),
                    nationality_enc: Set(sealed("nationality", nationality.map(str::to_owned))?),
                    stateless: Set(false),
                    languages_enc: Set(None),
                    contact_enc: Set(None),
                    location_enc: Set(None),
                    notes_enc: Set(None),
                    is_minor: Set(minor),
                    gender_enc: Set(sealed("gender", Some(gender.to_owned()))?),
                    created_at: Set(registered),
                });
                rows.push(case::ActiveModel {
                    id: Set(id),
                    reference: Set(CaseRef::new(year, id).as_str().to_owned()),
                    person_id: Set(pid.clone()),
                    owner_org_id: Set(orgs[i % orgs.len()]),
                    advocate_user_id: Set(None),
                    stage: Set(Stage::Protection.as_str().to_owned()),
                    version: Set(1),
                    created_by: Set(creator),
                    created_at: Set(registered),
                    updated_at: Set(registered),
                    closed_at: Set(None),
                    closed_by: Set(None),
                    close_status: Set(None),
                    close_reason: Set(None),
                    close_note_enc: Set(None),
                    erased_at: Set(None),
                    erased_by: Set(None),
                    erasure_reason: Set(None),
                    erased_keep_statistics: Set(false),
                });
                // Nine in ten identified: one or two types (mostly the first four), one to
                // three means of control, the country of exploitation.
                let mut e = Elements::default();
                if rng.below(10) != 0 {
                    for _ in 0..1 + rng.below(2) {
                        e.purposes.insert(if rng.below(4) == 0 {
                            rng.pick(purposes)
                        } else {
                            purposes[rng.below(4)]
                        });
                    }
                    for _ in 0..1 + rng.below(3) {
                        e.controls.insert(if rng.below(3) == 0 {
                            rng.pick(controls)
                        } else {
                            controls[rng.below(3)]
                        });
                    }
                    e.country_of_exploitation = Some(rng.pick(&EXPLOITED_IN).to_owned());
                    let json = serde_json::to_vec(&e)?;
                    elements.push(case_elements::ActiveModel {
                        case_id: Set(id),
                        elements_enc: Set(seal(
                            keys,
                            "case_elements",
                            "elements",
                            &id.to_string(),
                            &json,
                        )?),
                        findings_enc: Set(None),
                        updated_by: Set(creator),
                        updated_at: Set(registered),
                    });
                }
                records.push(Record {
                    age: match (birth, minor) {
                        (Some(b), _) => Age::Years(
                            u8::try_from(age_on(b, registered.date_naive()).max(0))
                                .unwrap_or(u8::MAX),
                        ),
                        (None, true) => Age::Range { from: 0, to: 17 },
                        (None, false) => Age::Unknown,
                    },
                    registration_year: year,
                    citizenship: nationality.and_then(|c| Country::parse(c).ok()),
                    country_of_exploitation: e
                        .country_of_exploitation
                        .as_deref()
                        .and_then(|c| Country::parse(c).ok()),
                    exploitation: e.purposes.clone(),
                    means_of_control: e.controls.clone(),
                    gender: Gender::parse(gender)?,
                });
            }
            person::Entity::insert_many(persons)
                .exec_without_returning(&txn)
                .await?;
            case::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await?;
            if !elements.is_empty() {
                case_elements::Entity::insert_many(elements)
                    .exec_without_returning(&txn)
                    .await?;
            }
            n = end;
        }
        txn.commit().await?;
    }
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(
            "SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT MAX(id) FROM cases))",
        )
        .await?;
    }
    Ok(records)
}
