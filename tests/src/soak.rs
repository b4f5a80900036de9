//! The soak driver (issue 15): a realistic world, then `connections` signed-in clients
//! in a closed loop (each sends its next request as soon as the last one is answered) for
//! a given time over a mix of caseload lists, case pages and writes. Every answer that is
//! not 2xx or 3xx, every transport error and every 2xx whose body is not what was asked
//! for counts as an error; at the end every acknowledged write must be in the database.
//! Latency is measured per kind of request (the whole answer read, from the client), and
//! memory is sampled from `/proc/self/status`: the server runs in this process
//! (`spawn_app`), so the figures are the server's and the clients' together.
//!
//! Used by `tests/tests/soak.rs` (60 s in CI, fails on any error or lost write) and
//! `benches/soak.rs` (5 minutes, both backends, figures in docs/benchmarks.md).

use crate::{PASSWORD, TestApp};
use anyhow::{Context, bail};
use chrono::{Datelike, Duration as ChronoDuration, NaiveDate, Utc};
use passerelle::config::Settings;
use passerelle_core::crypto::{FieldLocation, random_token};
use passerelle_core::domain::{CaseRef, Stage};
use passerelle_core::service::audit::{Verified, verify_chain};
use passerelle_core::store::entity::{case, person, ref_counter, user};
use passerelle_core::store::{First, begin_write};
use reqwest::{Client, RequestBuilder};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Connections of the soak (issue 15).
pub const CONNECTIONS: usize = 64;
/// Cases seeded before the load (besides those the clients open).
pub const CASES: usize = 3_000;
/// The organisations whose advocates carry the caseload.
const NGOS: [&str; 3] = ["Passage", "Amicale du Nid", "Lumière"];
/// Every `SHARED_EVERY`-th open case is shared with the shelter on a consent; every
/// `CONSENT_EVERY`-th has a second consent (medical), so that case pages have content.
const SHARED_EVERY: usize = 10;
const CONSENT_EVERY: usize = 7;
/// Memory is sampled this often during the load.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// A request that takes longer than this counts as a transport error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Examples of errors kept for the report.
const EXAMPLES: usize = 8;
/// Acknowledged writes read back through the API at the end, per connection: the
/// persons last renamed, and a case it opened.
const READ_BACK: usize = 5;

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
const OPEN_STAGES: [Stage; 3] = [Stage::Referred, Stage::Screening, Stage::Protection];
const CONSENT_PURPOSES: [&str; 5] = [
    "medical",
    "legal_aid",
    "psychological",
    "counselling",
    "interpretation",
];

/// The settings of a soak: search is limited per account (120 a minute) and per address
/// (600 a minute), and every client here comes from 127.0.0.1, so both limits are raised
/// far above what the run sends. Nothing else changes.
pub fn settings(s: &mut Settings) {
    s.limits.search_per_account = 100_000;
    s.limits.search_per_address = 100_000;
}

/// How long the soak runs: `PASSERELLE_SOAK_SECONDS`, else `default`.
pub fn seconds_from_env(default: u64) -> u64 {
    match std::env::var("PASSERELLE_SOAK_SECONDS") {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            panic!("PASSERELLE_SOAK_SECONDS must be a whole number of seconds, not {v:?}")
        }),
        Err(_) => default,
    }
}

/// A kind of request of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    ApiCaseload,
    PageCaseload,
    ApiCase,
    PageCase,
    Search,
    CreateCase,
    UpdatePerson,
    AddConsent,
    AddInterview,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::ApiCaseload,
        Kind::PageCaseload,
        Kind::ApiCase,
        Kind::PageCase,
        Kind::Search,
        Kind::CreateCase,
        Kind::UpdatePerson,
        Kind::AddConsent,
        Kind::AddInterview,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::ApiCaseload => "GET /api/v1/cases (caseload, mine or org)",
            Kind::PageCaseload => "GET /cases (caseload page)",
            Kind::ApiCase => "GET /api/v1/cases/{ref}",
            Kind::PageCase => "GET /cases/{ref} (case page)",
            Kind::Search => "POST /api/v1/search (name or reference)",
            Kind::CreateCase => "POST /api/v1/cases (write)",
            Kind::UpdatePerson => "PUT /api/v1/cases/{ref}/person (write)",
            Kind::AddConsent => "POST /api/v1/cases/{ref}/consents (write)",
            Kind::AddInterview => "POST /api/v1/cases/{ref}/interviews (write)",
        }
    }

    pub fn is_write(self) -> bool {
        matches!(
            self,
            Kind::CreateCase | Kind::UpdatePerson | Kind::AddConsent | Kind::AddInterview
        )
    }
}

/// An advocate's mix, in parts of 100: reads 80, writes 20. The update reads the case
/// first (its version), which counts as a `GET /api/v1/cases/{ref}`.
const ADVOCATE_MIX: [(Kind, u32); 9] = [
    (Kind::ApiCaseload, 22),
    (Kind::PageCaseload, 18),
    (Kind::ApiCase, 16),
    (Kind::PageCase, 18),
    (Kind::Search, 6),
    (Kind::CreateCase, 5),
    (Kind::UpdatePerson, 6),
    (Kind::AddConsent, 5),
    (Kind::AddInterview, 4),
];
/// A shelter coordinator reads the cases shared with the shelter.
const COORDINATOR_MIX: [(Kind, u32); 4] = [
    (Kind::ApiCaseload, 35),
    (Kind::PageCaseload, 25),
    (Kind::ApiCase, 20),
    (Kind::PageCase, 20),
];

/// SplitMix64: a small deterministic generator, so every run builds the same world.
#[derive(Clone)]
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
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn kind(&mut self, mix: &[(Kind, u32)]) -> Kind {
        let total: u32 = mix.iter().map(|(_, w)| w).sum();
        let mut k = (self.next() % u64::from(total)) as u32;
        for (kind, w) in mix {
            if k < *w {
                return *kind;
            }
            k -= w;
        }
        mix[0].0
    }
}

/// The process's resident memory and its high-water mark, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

impl Memory {
    pub fn now() -> Self {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        Self {
            rss_kib: field("VmRSS:"),
            hwm_kib: field("VmHWM:"),
        }
    }
    pub fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }
    pub fn hwm_mib(&self) -> f64 {
        self.hwm_kib as f64 / 1024.0
    }
}

/// The latency figures of one kind of request (or of all).
#[derive(Debug, Clone)]
pub struct KindStats {
    pub label: &'static str,
    pub requests: usize,
    pub errors: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

fn stats(label: &'static str, lat: &mut [u32], errors: usize) -> KindStats {
    lat.sort_unstable();
    let at = |p: f64| {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
        f64::from(lat[i.min(lat.len() - 1)]) / 1000.0
    };
    KindStats {
        label,
        requests: lat.len() + errors,
        errors,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        max_ms: at(1.0),
    }
}

/// What the world holds before the load.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    pub organisations: usize,
    pub users: usize,
    pub cases: usize,
    pub consents: usize,
    pub shares: usize,
    pub seconds: f64,
}

/// The writes the server acknowledged during the load.
#[derive(Debug, Clone, Default)]
pub struct Acknowledged {
    pub cases: usize,
    pub person_updates: usize,
    pub consents: usize,
    pub interviews: usize,
}

/// Everything a soak measured.
#[derive(Debug, Clone)]
pub struct SoakReport {
    pub backend: &'static str,
    pub connections: usize,
    /// How long the load ran.
    pub seconds: f64,
    pub seeded: Seeded,
    pub kinds: Vec<KindStats>,
    pub overall: KindStats,
    pub reads: KindStats,
    pub writes: KindStats,
    /// Errors by kind and status ("GET /cases 500", "... transport", "... unexpected body").
    pub errors: BTreeMap<String, usize>,
    pub error_examples: Vec<String>,
    pub acknowledged: Acknowledged,
    /// Acknowledged writes that are not there (or not as acknowledged) at the end.
    pub lost: Vec<String>,
    pub audit_entries: u64,
    /// Before seeding, after seeding (before the load), the highest sample during the
    /// load, and after it.
    pub memory_start: Memory,
    pub memory_loaded: Memory,
    pub memory_peak_rss: Memory,
    pub memory_end: Memory,
    /// (seconds into the load, RSS MiB) every `SAMPLE_EVERY`.
    pub memory_samples: Vec<(f64, f64)>,
    pub load_before: String,
    pub load_after: String,
}

impl SoakReport {
    pub fn error_count(&self) -> usize {
        self.errors.values().sum()
    }

    pub fn throughput(&self) -> f64 {
        self.overall.requests as f64 / self.seconds.max(0.001)
    }

    /// Fail (panic) on any error or lost write, with what went wrong.
    pub fn assert_clean(&self) {
        let mut msg = String::new();
        if self.error_count() > 0 {
            let _ = writeln!(
                msg,
                "{} errors in {} requests on {}:",
                self.error_count(),
                self.overall.requests,
                self.backend
            );
            for (k, n) in &self.errors {
                let _ = writeln!(msg, "  {n:>6} × {k}");
            }
            let _ = writeln!(msg, "examples:");
            for e in &self.error_examples {
                let _ = writeln!(msg, "  {e}");
            }
        }
        if !self.lost.is_empty() {
            let _ = writeln!(msg, "{} acknowledged writes lost:", self.lost.len());
            for l in self.lost.iter().take(20) {
                let _ = writeln!(msg, "  {l}");
            }
        }
        assert!(msg.is_empty(), "the soak found problems:\n{msg}");
    }

    /// The figures, for a person to read.
    pub fn print(&self) {
        println!(
            "== soak on {}: {} connections for {:.0} s ==",
            self.backend, self.connections, self.seconds
        );
        println!(
            "world: {} organisations, {} users, {} cases seeded with {} consents and {} shares, in {:.1} s",
            self.seeded.organisations,
            self.seeded.users,
            self.seeded.cases,
            self.seeded.consents,
            self.seeded.shares,
            self.seeded.seconds
        );
        println!("{}", self.kinds_table());
        println!(
            "throughput {:.0} req/s; errors {}; acknowledged writes: {} cases, {} person updates, {} consents, {} interviews; lost {}; audit chain intact ({} entries)",
            self.throughput(),
            self.error_count(),
            self.acknowledged.cases,
            self.acknowledged.person_updates,
            self.acknowledged.consents,
            self.acknowledged.interviews,
            self.lost.len(),
            self.audit_entries
        );
        println!(
            "memory (server and clients, one process): RSS {:.0} MiB before seeding, {:.0} MiB before the load, {:.0} MiB at most during it, {:.0} MiB after; high-water mark {:.0} MiB",
            self.memory_start.rss_mib(),
            self.memory_loaded.rss_mib(),
            self.memory_peak_rss.rss_mib(),
            self.memory_end.rss_mib(),
            self.memory_end.hwm_mib()
        );
        let samples: Vec<String> = self
            .memory_samples
            .iter()
            .map(|(t, m)| format!("{t:.0}s {m:.0}"))
            .collect();
        println!("RSS samples (MiB): {}", samples.join(", "));
        println!(
            "load average before {}, after {}",
            self.load_before, self.load_after
        );
        for (k, n) in &self.errors {
            println!("error: {n} × {k}");
        }
        for e in &self.error_examples {
            println!("example: {e}");
        }
        for l in self.lost.iter().take(20) {
            println!("lost: {l}");
        }
    }

    /// The per-kind table, in markdown.
    pub fn kinds_table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "| request ({}) | requests | share | errors | p50 ms | p99 ms | max ms |",
            self.backend
        );
        let _ = writeln!(t, "| --- | --- | --- | --- | --- | --- | --- |");
        let total = self.overall.requests.max(1) as f64;
        for k in self
            .kinds
            .iter()
            .chain([&self.reads, &self.writes, &self.overall])
        {
            let _ = writeln!(
                t,
                "| {} | {} | {:.1} % | {} | {:.1} | {:.1} | {:.0} |",
                k.label,
                k.requests,
                100.0 * k.requests as f64 / total,
                k.errors,
                k.p50_ms,
                k.p99_ms,
                k.max_ms
            );
        }
        t
    }
}

/// One user of the world, and the cases its connection works on.
struct Person {
    email: String,
    advocate: bool,
    /// The open cases assigned to this user: only its own connection writes to them, so
    /// that no two clients edit one case at once (a stale version is a 409, not an error
    /// of the server).
    own: Vec<String>,
}

struct World {
    people: Vec<Person>,
    /// Per organisation index (NGOS, then the shelter), the references its users may read.
    visible: Vec<Arc<Vec<String>>>,
    /// Per NGO, the names of the seeded persons (for the search).
    names: Vec<Arc<Vec<String>>>,
    org_of_person: Vec<usize>,
    shelter_id: i64,
    /// (reference, owner person index, consent only or consent and share)
    to_consent: Vec<(String, usize, bool)>,
    seeded: Seeded,
}

/// Organisations and users through the services (one real password hash, copied), then
/// persons and cases in multi-row inserts, fields encrypted and indexed as the service does.
async fn seed_world(app: &TestApp, connections: usize, cases: usize) -> anyhow::Result<World> {
    let t = Instant::now();
    let db = &app.services.db;
    let mut ngo_ids = Vec::new();
    for name in NGOS {
        ngo_ids.push(app.org(name, "victim_advocacy", "FR").await);
    }
    let shelter_id = app.org("Les Tilleuls", "shelter", "FR").await;
    // One user per connection: every eighth a shelter coordinator, the others advocates of
    // the three NGOs in turn.
    let first = app
        .user(ngo_ids[0], "soak.seed@ngo.test", "org_admin")
        .await;
    let hash = user::Entity::find_by_id(first)
        .first(db)
        .await?
        .context("the first user")?
        .password_hash;
    let now = Utc::now();
    let mut people = Vec::with_capacity(connections);
    let mut org_of_person = Vec::with_capacity(connections);
    let mut rows = Vec::with_capacity(connections);
    let mut advocates_of: Vec<Vec<usize>> = vec![Vec::new(); NGOS.len()];
    for i in 0..connections {
        let (org, org_index, role, email) = if i % 8 == 7 {
            (
                shelter_id,
                NGOS.len(),
                "shelter_coordinator",
                format!("coordinator{i}@shelter.test"),
            )
        } else {
            let k = i % NGOS.len();
            advocates_of[k].push(i);
            (
                ngo_ids[k],
                k,
                "advocate",
                format!("advocate{i}@ngo{k}.test"),
            )
        };
        rows.push(user::ActiveModel {
            org_id: Set(org),
            email: Set(email.clone()),
            display_name: Set(format!("Soak user {i}")),
            role: Set(role.to_owned()),
            password_hash: Set(hash.clone()),
            active: Set(true),
            created_at: Set(now),
            ..Default::default()
        });
        people.push(Person {
            email,
            advocate: role == "advocate",
            own: Vec::new(),
        });
        org_of_person.push(org_index);
    }
    if advocates_of.iter().any(Vec::is_empty) {
        bail!("a soak needs at least one advocate per organisation ({connections} connections)");
    }
    let txn = begin_write(db).await?;
    for chunk in rows.chunks(100) {
        user::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    let ids: HashMap<String, i64> = user::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.email, u.id))
        .collect();
    let user_id = |p: usize| -> anyhow::Result<i64> {
        ids.get(&people[p].email)
            .copied()
            .with_context(|| format!("user {}", people[p].email))
    };

    let keys = &app.services.keys;
    let seal = |column: &'static str, row: &str, v: &str| {
        keys.encrypt_str(
            FieldLocation {
                table: "persons",
                column,
                row,
            },
            v,
        )
    };
    let mut rng = Rng(0x50A4_5EED);
    let year = now.year();
    let mut visible: Vec<Vec<String>> = vec![Vec::new(); NGOS.len() + 1];
    let mut names: Vec<Vec<String>> = vec![Vec::new(); NGOS.len()];
    let mut to_consent = Vec::new();
    let mut owned: Vec<Vec<String>> = vec![Vec::new(); connections];
    let (mut consents, mut shares) = (0usize, 0usize);
    let mut n = 0usize;
    while n < cases {
        let end = (n + 500).min(cases);
        let mut persons = Vec::with_capacity(end - n);
        let mut rows = Vec::with_capacity(end - n);
        for i in n..end {
            let number = i as i64 + 1;
            let reference = CaseRef::new(year, number).as_str().to_owned();
            let pid = random_token(16)?;
            let name = format!("{} {} {number}", rng.pick(&FIRST), rng.pick(&LAST));
            let birth = NaiveDate::from_ymd_opt(
                1970 + rng.below(38) as i32,
                1 + rng.below(12) as u32,
                1 + rng.below(28) as u32,
            )
            .context("birth date")?;
            let nationality = NATIONALITIES[rng.below(NATIONALITIES.len())];
            persons.push(person::ActiveModel {
                id: Set(pid.clone()),
                name_enc: Set(seal("name", &pid, &name)?),
                name_idx: Set(keys.blind_index("person-name", &name)),
                aliases_enc: Set(None),
                birth_date_enc: Set(Some(seal(
                    "birth_date",
                    &pid,
                    &birth.format("%Y-%m-%d").to_string(),
                )?)),
                nationality_enc: Set(Some(seal("nationality", &pid, nationality)?)),
                stateless: Set(false),
                languages_enc: Set(Some(seal("languages", &pid, "English, Edo")?)),
                contact_enc: Set(Some(seal("contact", &pid, "+33 6 00 00 00 00")?)),
                location_enc: Set(Some(seal("location", &pid, "Lyon")?)),
                notes_enc: Set(Some(seal("notes", &pid, "met at the station")?)),
                is_minor: Set(false),
                gender_enc: Set(None),
                created_at: Set(now),
            });
            let k = i % NGOS.len();
            let owner = *rng.pick(&advocates_of[k]);
            let closed = rng.below(10) == 0;
            let stage = if closed {
                Stage::Closed
            } else {
                *rng.pick(&OPEN_STAGES)
            };
            let created_at = now - ChronoDuration::minutes(rng.below(500_000) as i64);
            let uid = user_id(owner)?;
            rows.push(case::ActiveModel {
                reference: Set(reference.clone()),
                person_id: Set(pid),
                owner_org_id: Set(ngo_ids[k]),
                advocate_user_id: Set(Some(uid)),
                stage: Set(stage.as_str().to_owned()),
                version: Set(1),
                created_by: Set(uid),
                created_at: Set(created_at),
                updated_at: Set(created_at),
                closed_at: Set(closed.then_some(now)),
                closed_by: Set(closed.then_some(uid)),
                close_status: Set(closed.then(|| "closed".to_owned())),
                close_reason: Set(None),
                close_note_enc: Set(None),
                erased_at: Set(None),
                erased_by: Set(None),
                erasure_reason: Set(None),
                erased_keep_statistics: Set(false),
                ..Default::default()
            });
            visible[k].push(reference.clone());
            names[k].push(name);
            if !closed {
                if i % SHARED_EVERY == 0 {
                    to_consent.push((reference.clone(), owner, true));
                    visible[NGOS.len()].push(reference.clone());
                    consents += 1;
                    shares += 1;
                } else if i % CONSENT_EVERY == 0 {
                    to_consent.push((reference.clone(), owner, false));
                    consents += 1;
                }
                owned[owner].push(reference);
            }
        }
        let txn = begin_write(db).await?;
        person::Entity::insert_many(persons)
            .exec_without_returning(&txn)
            .await?;
        case::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
        txn.commit().await?;
        n = end;
    }
    // The next case opened is number `cases + 1`.
    let txn = begin_write(db).await?;
    ref_counter::Entity::delete_many()
        .filter(ref_counter::Column::Year.eq(year))
        .exec(&txn)
        .await?;
    ref_counter::Entity::insert(ref_counter::ActiveModel {
        year: Set(year),
        last: Set(cases as i64),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    for (p, own) in people.iter_mut().zip(owned) {
        p.own = own;
    }
    Ok(World {
        people,
        visible: visible.into_iter().map(Arc::new).collect(),
        names: names.into_iter().map(Arc::new).collect(),
        org_of_person,
        shelter_id,
        to_consent,
        seeded: Seeded {
            organisations: NGOS.len() + 1,
            users: connections + 1,
            cases,
            consents,
            shares,
            seconds: t.elapsed().as_secs_f64(),
        },
    })
}

/// What one connection saw.
#[derive(Default)]
struct Outcome {
    latencies: HashMap<Kind, Vec<u32>>,
    errors: BTreeMap<(Kind, String), usize>,
    examples: Vec<String>,
    /// (reference, name) of the cases it opened (answered 201).
    created: Vec<(String, String)>,
    /// The last name acknowledged per updated case.
    updated: HashMap<String, String>,
    person_updates: usize,
    consents: usize,
    interviews: usize,
}

impl Outcome {
    fn error(&mut self, kind: Kind, what: String, detail: String) {
        *self.errors.entry((kind, what)).or_default() += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(detail);
        }
    }
}

/// One signed-in client in its closed loop.
struct Conn {
    index: usize,
    base: String,
    client: Client,
    rng: Rng,
    advocate: bool,
    own: Vec<String>,
    visible: Arc<Vec<String>>,
    names: Arc<Vec<String>>,
    opened: usize,
    renamed: usize,
    out: Outcome,
}

impl Conn {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Send, read the whole answer, time it; an error unless 2xx/3xx and `check` agrees.
    /// The body of a good answer.
    async fn send(
        &mut self,
        kind: Kind,
        what: &str,
        rb: RequestBuilder,
        check: impl Fn(u16, &str) -> bool,
    ) -> Option<(u16, String)> {
        let t = Instant::now();
        let answer = match rb.timeout(REQUEST_TIMEOUT).send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                r.text().await.map(|body| (status, body))
            }
            Err(e) => Err(e),
        };
        let took = u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX);
        match answer {
            Err(e) => {
                // reqwest's message names the URL only: the causes say what happened.
                let mut cause = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    let _ = write!(cause, ": {s}");
                    source = s.source();
                }
                self.out.error(
                    kind,
                    "transport error".into(),
                    format!(
                        "{} {what}: transport error after {:.1} s: {cause}",
                        kind.label(),
                        t.elapsed().as_secs_f64()
                    ),
                );
                None
            }
            Ok((status, body)) if !(200..400).contains(&status) => {
                self.out.error(
                    kind,
                    status.to_string(),
                    format!(
                        "{} {what}: {status} {}",
                        kind.label(),
                        body.chars().take(300).collect::<String>()
                    ),
                );
                None
            }
            Ok((status, body)) if !check(status, &body) => {
                self.out.error(
                    kind,
                    format!("{status} with an unexpected body"),
                    format!(
                        "{} {what}: {status} with an unexpected body: {}",
                        kind.label(),
                        body.chars().take(300).collect::<String>()
                    ),
                );
                None
            }
            Ok(ok) => {
                self.out.latencies.entry(kind).or_default().push(took);
                Some(ok)
            }
        }
    }

    fn any_visible(&mut self) -> String {
        if !self.own.is_empty() && self.rng.below(3) == 0 {
            return self.rng.pick(&self.own).clone();
        }
        let v = self.visible.clone();
        v[self.rng.below(v.len())].clone()
    }

    async fn step(&mut self, kind: Kind) {
        // A write to one's own cases, with none yet: open one.
        let kind = match kind {
            Kind::UpdatePerson | Kind::AddConsent | Kind::AddInterview if self.own.is_empty() => {
                Kind::CreateCase
            }
            k => k,
        };
        match kind {
            Kind::ApiCaseload => {
                let path = if self.advocate && self.rng.below(2) == 0 {
                    "/api/v1/cases?scope=mine&per_page=50".to_owned()
                } else {
                    format!(
                        "/api/v1/cases?scope=org&per_page=50&page={}",
                        1 + self.rng.below(5)
                    )
                };
                let rb = self.client.get(self.url(&path));
                self.send(kind, &path, rb, |s, b| s == 200 && b.contains("\"items\""))
                    .await;
            }
            Kind::PageCaseload => {
                let path = match self.rng.below(3) {
                    0 => "/cases".to_owned(),
                    _ => format!("/cases?scope=org&page={}", 1 + self.rng.below(5)),
                };
                let rb = self.client.get(self.url(&path));
                self.send(kind, &path, rb, |s, b| s == 200 && b.contains("PSG-"))
                    .await;
            }
            Kind::ApiCase => {
                let r = self.any_visible();
                self.read_case(&r).await;
            }
            Kind::PageCase => {
                let r = self.any_visible();
                let path = format!("/cases/{r}");
                let rb = self.client.get(self.url(&path));
                self.send(kind, &path, rb, |s, b| s == 200 && b.contains(r.as_str()))
                    .await;
            }
            Kind::Search => {
                let (body, reference) = if self.rng.below(2) == 0 {
                    let names = self.names.clone();
                    (json!({"name": names[self.rng.below(names.len())]}), None)
                } else {
                    let r = self.any_visible();
                    (json!({"reference": r}), Some(r))
                };
                let rb = self.client.post(self.url("/api/v1/search")).json(&body);
                self.send(kind, "POST /api/v1/search", rb, |s, b| {
                    let v: Value = serde_json::from_str(b).unwrap_or_default();
                    s == 200
                        && v["items"].is_array()
                        && reference
                            .as_deref()
                            .is_none_or(|r| v["items"][0]["reference"] == r)
                })
                .await;
            }
            Kind::CreateCase => {
                self.opened += 1;
                let name = format!("Soak Opened {}-{}", self.index, self.opened);
                let body = json!({"person": {"name": name, "birth_date": "1994-03-02",
                    "nationality": "NG", "languages": "English, Edo",
                    "contact": "+33 6 00 00 00 00", "location": "Lyon",
                    "notes": "opened during the soak"}});
                let rb = self.client.post(self.url("/api/v1/cases")).json(&body);
                if let Some((_, b)) = self
                    .send(kind, "POST /api/v1/cases", rb, |s, b| {
                        s == 201 && serde_json::from_str::<Value>(b).unwrap_or_default()["summary"]["reference"].is_string()
                    })
                    .await
                {
                    let v: Value = serde_json::from_str(&b).unwrap_or_default();
                    let reference = v["summary"]["reference"].as_str().unwrap_or_default().to_owned();
                    self.own.push(reference.clone());
                    self.out.created.push((reference, name));
                }
            }
            Kind::UpdatePerson => {
                let r = self.rng.pick(&self.own).clone();
                let Some(version) = self.read_case(&r).await else {
                    return;
                };
                self.renamed += 1;
                let name = format!("Soak Renamed {}-{}", self.index, self.renamed);
                let body = json!({"version": version, "person": {"name": name,
                    "birth_date": "1991-07-14", "nationality": "GH", "languages": "English, Twi",
                    "location": "Marseille", "notes": "moved during the soak"}});
                let path = format!("/api/v1/cases/{r}/person");
                let rb = self.client.put(self.url(&path)).json(&body);
                if self
                    .send(kind, &format!("PUT {path}"), rb, |s, b| {
                        s == 200
                            && serde_json::from_str::<Value>(b).unwrap_or_default()["version"]
                                .as_i64()
                                > Some(version)
                    })
                    .await
                    .is_some()
                {
                    self.out.person_updates += 1;
                    self.out.updated.insert(r, name);
                }
            }
            Kind::AddConsent => {
                let r = self.rng.pick(&self.own).clone();
                let purpose = *self.rng.pick(&CONSENT_PURPOSES);
                let path = format!("/api/v1/cases/{r}/consents");
                let rb = self
                    .client
                    .post(self.url(&path))
                    .json(&json!({"purpose": purpose,
                    "given_by": "person", "language": "en", "form_version": "v1"}));
                if self
                    .send(kind, &format!("POST {path}"), rb, |s, b| {
                        s == 201
                            && !serde_json::from_str::<Value>(b).unwrap_or_default()["id"].is_null()
                    })
                    .await
                    .is_some()
                {
                    self.out.consents += 1;
                }
            }
            Kind::AddInterview => {
                let r = self.rng.pick(&self.own).clone();
                let path = format!("/api/v1/cases/{r}/interviews");
                let rb = self.client.post(self.url(&path)).json(
                    &json!({"interviewer_kind": "ngo", "language": "en", "interpreter": self.rng.below(2) == 0}),
                );
                if self
                    .send(kind, &format!("POST {path}"), rb, |s, b| {
                        s == 201
                            && serde_json::from_str::<Value>(b).unwrap_or_default()["id"]
                                .is_string()
                    })
                    .await
                    .is_some()
                {
                    self.out.interviews += 1;
                }
            }
        }
    }

    /// GET /api/v1/cases/{r}; its version when the answer is right.
    async fn read_case(&mut self, r: &str) -> Option<i64> {
        let path = format!("/api/v1/cases/{r}");
        let rb = self.client.get(self.url(&path));
        let (_, b) = self
            .send(Kind::ApiCase, &path, rb, |s, b| {
                s == 200
                    && serde_json::from_str::<Value>(b).unwrap_or_default()["summary"]["reference"]
                        == r
            })
            .await?;
        serde_json::from_str::<Value>(&b).ok()?["summary"]["version"].as_i64()
    }
}

/// The server closes a keep-alive connection after 5 s without a request (actix-web's
/// default). A client that reuses such a connection at that very moment gets a transport
/// error that is nobody's fault (the race of HTTP/1.1 keep-alive; browsers retry), and a
/// client here can sit idle that long between seeding and the load: it drops idle
/// connections after 2 s itself, as well-behaved clients do.
const CLIENT_IDLE: Duration = Duration::from_secs(2);

/// Sign in through the API as `email`; a client of its own (one keep-alive connection),
/// keeping cookies and not following redirects, as `crate::client()`.
async fn sign_in(base: &str, email: &str) -> anyhow::Result<Client> {
    let c = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(CLIENT_IDLE)
        .build()?;
    let r = c
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await?;
    if r.status() != 200 {
        bail!(
            "sign-in of {email}: {} {}",
            r.status(),
            r.text().await.unwrap_or_default()
        );
    }
    Ok(c)
}

async fn count(app: &TestApp, table: &str) -> anyhow::Result<i64> {
    let db = &app.services.db;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT count(*) AS n FROM {table}"),
        ))
        .await?
        .context("count returned no row")?;
    Ok(row.try_get::<i64>("", "n")?)
}

/// Seed the world on `app`, sign `connections` clients in, run the mix for `duration`,
/// then check that every acknowledged write is there. Errors of the load are in the
/// report (see `SoakReport::assert_clean`); an `Err` is a failure to set up or check.
pub async fn run(
    app: &TestApp,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<SoakReport> {
    let backend = match app.services.db.get_database_backend() {
        DbBackend::Sqlite => "SQLite",
        DbBackend::Postgres => "PostgreSQL",
        _ => "other",
    };
    let load_before = crate::bench::loadavg();
    let memory_start = Memory::now();
    let mut world = seed_world(app, connections, CASES).await?;

    // Sign everyone in, four at a time: each sign-in's Argon2id takes 19 MiB on a blocking
    // thread, and 64 at once lifted the process's resident memory from 50 MiB to 1.3 GiB
    // before the load started (the allocator keeps much of it). Then give the cases their
    // consents and shares over HTTP, each by its advocate, in parallel.
    let t = Instant::now();
    let mut clients = Vec::with_capacity(world.people.len());
    for group in world.people.chunks(4) {
        let mut signing = Vec::new();
        for p in group {
            let (base, email) = (app.address.clone(), p.email.clone());
            signing.push(tokio::spawn(async move { sign_in(&base, &email).await }));
        }
        for s in signing {
            clients.push(s.await.context("a sign-in task")??);
        }
    }
    let mut by_owner: Vec<Vec<(String, bool)>> = vec![Vec::new(); connections];
    for (r, owner, share) in std::mem::take(&mut world.to_consent) {
        by_owner[owner].push((r, share));
    }
    let mut seeding = Vec::new();
    for (c, todo) in clients.iter().zip(by_owner) {
        let (c, base, shelter) = (c.clone(), app.address.clone(), world.shelter_id);
        seeding.push(tokio::spawn(async move {
            for (r, share) in todo {
                let purpose = if share { "shelter" } else { "medical" };
                let resp = c
                    .post(format!("{base}/api/v1/cases/{r}/consents"))
                    .json(&json!({"purpose": purpose, "given_by": "person", "language": "en", "form_version": "v1"}))
                    .send()
                    .await?;
                if resp.status() != 201 {
                    bail!("seeding a consent on {r}: {} {}", resp.status(), resp.text().await?);
                }
                let v: Value = resp.json().await?;
                if share {
                    let resp = c
                        .post(format!("{base}/api/v1/cases/{r}/shares"))
                        .json(&json!({"org_id": shelter, "purpose": "shelter", "consent_id": v["id"]}))
                        .send()
                        .await?;
                    if resp.status() != 201 {
                        bail!("seeding a share of {r}: {} {}", resp.status(), resp.text().await?);
                    }
                }
            }
            anyhow::Ok(())
        }));
    }
    for s in seeding {
        s.await.context("seeding task")??;
    }
    world.seeded.seconds += t.elapsed().as_secs_f64();
    let seeded_consents = count(app, "consents").await?;
    let seeded_cases = count(app, "cases").await?;
    let seeded_interviews = count(app, "interviews").await?;
    if seeded_cases != CASES as i64 || seeded_consents != world.seeded.consents as i64 {
        bail!(
            "seeding: {seeded_cases} cases and {seeded_consents} consents, expected {CASES} and {}",
            world.seeded.consents
        );
    }

    // The load.
    let memory_loaded = Memory::now();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let sampler = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut samples = vec![(0.0, Memory::now())];
            let mut next = started + SAMPLE_EVERY;
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if Instant::now() >= next {
                    samples.push((started.elapsed().as_secs_f64(), Memory::now()));
                    next += SAMPLE_EVERY;
                }
            }
            samples
        })
    };
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(connections);
    for (i, (p, c)) in world.people.iter().zip(&clients).enumerate() {
        let org = world.org_of_person[i];
        let mut conn = Conn {
            index: i,
            base: app.address.clone(),
            client: c.clone(),
            rng: Rng(0xC0DE_0000 + i as u64),
            advocate: p.advocate,
            own: p.own.clone(),
            visible: world.visible[org].clone(),
            names: world
                .names
                .get(org)
                .cloned()
                .unwrap_or_else(|| world.names[0].clone()),
            opened: 0,
            renamed: 0,
            out: Outcome::default(),
        };
        tasks.push(tokio::spawn(async move {
            let mix: &[(Kind, u32)] = if conn.advocate {
                &ADVOCATE_MIX
            } else {
                &COORDINATOR_MIX
            };
            while Instant::now() < deadline {
                let kind = conn.rng.kind(mix);
                conn.step(kind).await;
            }
            conn
        }));
    }
    let mut conns = Vec::with_capacity(connections);
    for t in tasks {
        conns.push(t.await.context("a connection's task")?);
    }
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let samples = sampler.await.context("the memory sampler")?;
    let memory_after_load = Memory::now();

    // Merge.
    let mut latencies: HashMap<Kind, Vec<u32>> = HashMap::new();
    let mut errors_by_kind: HashMap<Kind, usize> = HashMap::new();
    let mut errors = BTreeMap::new();
    let mut examples = Vec::new();
    let mut acknowledged = Acknowledged::default();
    let mut created = Vec::new();
    for c in &mut conns {
        for (k, v) in c.out.latencies.drain() {
            latencies.entry(k).or_default().extend(v);
        }
        for ((k, what), n) in &c.out.errors {
            *errors_by_kind.entry(*k).or_default() += n;
            *errors
                .entry(format!("{} {what}", k.label()))
                .or_insert(0usize) += n;
        }
        for e in c.out.examples.drain(..) {
            if examples.len() < EXAMPLES {
                examples.push(e);
            }
        }
        acknowledged.cases += c.out.created.len();
        acknowledged.person_updates += c.out.person_updates;
        acknowledged.consents += c.out.consents;
        acknowledged.interviews += c.out.interviews;
        created.extend(c.out.created.iter().cloned());
    }
    let mut kinds = Vec::new();
    let (mut all, mut reads, mut writes) = (Vec::new(), Vec::new(), Vec::new());
    let (mut read_errors, mut write_errors) = (0, 0);
    for k in Kind::ALL {
        let mut lat = latencies.remove(&k).unwrap_or_default();
        let e = errors_by_kind.get(&k).copied().unwrap_or(0);
        all.extend_from_slice(&lat);
        if k.is_write() {
            writes.extend_from_slice(&lat);
            write_errors += e;
        } else {
            reads.extend_from_slice(&lat);
            read_errors += e;
        }
        if !lat.is_empty() || e > 0 {
            kinds.push(stats(k.label(), &mut lat, e));
        }
    }
    let overall = stats("all requests", &mut all, read_errors + write_errors);
    let reads = stats("reads", &mut reads, read_errors);
    let writes = stats("writes", &mut writes, write_errors);

    // Every acknowledged write is there.
    let mut lost = Vec::new();
    let cases_now = count(app, "cases").await?;
    let expected = seeded_cases + acknowledged.cases as i64;
    if cases_now != expected {
        lost.push(format!(
            "cases: {cases_now} in the database, {expected} expected ({seeded_cases} seeded + {} answered 201)",
            acknowledged.cases
        ));
    }
    let references: HashSet<String> = case::Entity::find()
        .all(&app.services.db)
        .await?
        .into_iter()
        .map(|c| c.reference)
        .collect();
    for (r, name) in &created {
        if !references.contains(r) {
            lost.push(format!("case {r} ({name}) answered 201 but is not there"));
        }
    }
    let consents_now = count(app, "consents").await?;
    let expected = seeded_consents + acknowledged.consents as i64;
    if consents_now != expected {
        lost.push(format!(
            "consents: {consents_now} in the database, {expected} expected ({seeded_consents} seeded + {} answered 201)",
            acknowledged.consents
        ));
    }
    let interviews_now = count(app, "interviews").await?;
    let expected = seeded_interviews + acknowledged.interviews as i64;
    if interviews_now != expected {
        lost.push(format!(
            "interviews: {interviews_now} in the database, {expected} expected ({} answered 201)",
            acknowledged.interviews
        ));
    }
    // The persons read back as last acknowledged (through the API, by their advocate), and
    // a few of the opened cases with the name they were opened with: `READ_BACK` cases
    // per connection, the connections in parallel.
    let mut reading = Vec::new();
    for c in &conns {
        let renamed = c.out.updated.iter().map(|(r, n)| (r, n, "renamed"));
        let opened = c
            .out
            .created
            .iter()
            .filter(|(r, _)| !c.out.updated.contains_key(r))
            .map(|(r, n)| (r, n, "opened"));
        let todo: Vec<(String, String, &'static str)> = renamed
            .take(READ_BACK - 1)
            .chain(opened)
            .take(READ_BACK)
            .map(|(r, n, how)| (r.clone(), n.clone(), how))
            .collect();
        let (client, base) = (c.client.clone(), c.base.clone());
        reading.push(tokio::spawn(async move {
            let mut wrong = Vec::new();
            for (r, name, how) in todo {
                let resp = client
                    .get(format!("{base}/api/v1/cases/{r}"))
                    .send()
                    .await?;
                let status = resp.status();
                let v: Value = resp.json().await.unwrap_or_default();
                if status != 200 || v["person"]["name"] != name.as_str() {
                    wrong.push(format!(
                        "case {r} was {how} as {name:?} (acknowledged) but reads {status} {:?}",
                        v["person"]["name"]
                    ));
                }
            }
            anyhow::Ok(wrong)
        }));
    }
    for r in reading {
        lost.extend(r.await.context("a read-back task")??);
    }
    let audit_entries = match verify_chain(&app.services.db).await? {
        Verified::Intact { entries } => entries,
        Verified::Broken(b) => {
            lost.push(format!("the audit chain is broken after the soak: {b:?}"));
            0
        }
    };

    // The samples taken during the load (the first is the state before it).
    let peak = samples
        .iter()
        .skip(1)
        .map(|(_, m)| *m)
        .chain([memory_after_load])
        .max_by_key(|m| m.rss_kib)
        .unwrap_or_default();
    Ok(SoakReport {
        backend,
        connections,
        seconds,
        seeded: world.seeded,
        kinds,
        overall,
        reads,
        writes,
        errors,
        error_examples: examples,
        acknowledged,
        lost,
        audit_entries,
        memory_start,
        memory_loaded,
        memory_peak_rss: peak,
        memory_end: Memory::now(),
        memory_samples: samples.iter().map(|(t, m)| (*t, m.rss_mib())).collect(),
        load_before,
        load_after: crate::bench::loadavg(),
    })
}
