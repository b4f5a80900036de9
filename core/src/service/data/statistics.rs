//! The k-anonymised statistics export (issue #14, point 2), CTDC-style: one row per case
//! of the organisations that opted in, holding only generalised quasi-identifiers (age
//! band at registration, year of registration, citizenship, country of exploitation,
//! exploitation types, means of control, gender), generalised and suppressed by
//! [`crate::data::anonymise`] until every combination occurs at least `k` times, with the
//! report of what was suppressed. No free text, no date finer than a year, no reference.
//!
//! Who: a statistician (every organisation that opted in), or the administrator or auditor
//! of a state authority (the organisations of its own country that opted in). Nobody else,
//! and neither of them ever sees a case or a person: the birth date, nationality, gender
//! and elements are decrypted here, in memory, reduced to a [`Record`] and dropped.
//!
//! The cases are read in batches of [`BATCH`] by id (one query a batch, the persons and
//! elements joined in), decrypted off the async executor, and anonymised once. Each export
//! is audited (an `export` of the caseload, no case named): k-anonymity protects one
//! export, and two exports a few cases apart can be subtracted (see `crate::data::kanon`).

use crate::data::{
    self, Age, Country, Export, Gender, Levels, MIN_K, Record, Row, SuppressionReport,
};
use crate::domain::{self, AuditAction, Invalid, OrgKind, Role, Section};
use crate::identification::Elements;
use crate::service::audit::NewEntry;
use crate::service::{Actor, Result, Route, ServiceError, Services, at};
use crate::store::First;
use crate::store::entity::{case, case_elements, erased_statistics, organisation, person};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QuerySelect, QueryTrait,
};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Cases read per query (about: a window of ids).
pub const BATCH: u64 = 5_000;
/// The largest `k` asked for (a larger one would suppress everything a deployment holds).
pub const MAX_K: usize = 100_000;

/// Whose cases an export counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatisticsScope {
    /// Every organisation that opted in (a statistician).
    All,
    /// The organisations of this country that opted in (a state authority).
    Country(String),
}

/// Who may export statistics, and over which organisations: a statistician over all that
/// opted in; a state authority's administrator or auditor over those of its country.
/// Caseworkers and everyone else: none.
pub fn statistics_scope(
    role: Role,
    org_kind: OrgKind,
    org_country: &str,
) -> Option<StatisticsScope> {
    match role {
        Role::Statistician => Some(StatisticsScope::All),
        Role::OrgAdmin | Role::Auditor if org_kind == OrgKind::StateAuthority => {
            Some(StatisticsScope::Country(org_country.to_owned()))
        }
        _ => None,
    }
}

/// The export: the rows (sorted by value, one per case that survived), the levels chosen
/// and the report of what was suppressed.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StatisticsExport {
    pub k: usize,
    /// How many organisations' cases were counted (those that opted in, in scope).
    pub organisations: usize,
    /// The generalisation level of each attribute (0 finest; the last is `suppressed`).
    pub levels: Levels,
    /// One row per case kept; every combination of values occurs at least `k` times.
    pub rows: Vec<Row>,
    pub report: SuppressionReport,
}

/// One combination of the export and how many rows have it (a page shows these).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Group {
    pub row: Row,
    pub rows: usize,
}

impl StatisticsExport {
    /// The distinct combinations with their counts (each at least `k`), in the rows' order.
    pub fn groups(&self) -> Vec<Group> {
        let mut out: Vec<Group> = Vec::new();
        for r in &self.rows {
            match out.last_mut() {
                Some(g) if g.row == *r => g.rows += 1,
                _ => out.push(Group {
                    row: r.clone(),
                    rows: 1,
                }),
            }
        }
        out
    }
}

/// Parse the `k` asked for: [`data::DEFAULT_K`] when absent, never below [`MIN_K`].
pub fn parse_k(k: Option<u64>) -> Result<usize, Invalid> {
    let k = match k {
        None => return Ok(data::DEFAULT_K),
        Some(k) => usize::try_from(k).unwrap_or(usize::MAX),
    };
    if k < MIN_K {
        return Err(Invalid::new(
            "k",
            format!("must be at least {MIN_K} (got {k})"),
        ));
    }
    if k > MAX_K {
        return Err(Invalid::new("k", format!("must be at most {MAX_K}")));
    }
    Ok(k)
}

/// The columns of one case the export reads: nothing else of the case leaves the database.
#[derive(Debug, FromQueryResult)]
struct CaseRow {
    id: i64,
    created_at: DateTime<Utc>,
    person_id: String,
    birth_date_enc: Option<Vec<u8>>,
    nationality_enc: Option<Vec<u8>>,
    gender_enc: Option<Vec<u8>>,
    is_minor: bool,
    elements_enc: Option<Vec<u8>>,
    /// An erased case (`crate::erasure`): counted from its kept record, if kept.
    erased_at: Option<DateTime<Utc>>,
    erased_keep_statistics: bool,
    kept_case_id: Option<i64>,
    age_from: Option<i16>,
    age_to: Option<i16>,
    citizenship: Option<String>,
    country_of_exploitation: Option<String>,
    exploitation: Option<String>,
    means_of_control: Option<String>,
    gender: Option<String>,
}

impl Services {
    /// The k-anonymised statistics export over the organisations that opted in, for a
    /// statistician or a state authority (see [`statistics_scope`]); `k` from the request
    /// ([`parse_k`]).
    pub async fn statistics_export(
        &self,
        actor: &Actor,
        k: Option<u64>,
        route: Route<'_>,
    ) -> Result<StatisticsExport> {
        let own = organisation::Entity::find_by_id(actor.org_id)
            .first(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("organisation"))?;
        let kind = OrgKind::parse(&own.kind)
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("stored kind: {e}")))?;
        let Some(scope) = statistics_scope(actor.role, kind, &own.country) else {
            return Err(ServiceError::Forbidden(
                "only a statistician, or the administrator or auditor of a state authority, exports statistics".into(),
            ));
        };
        let k = parse_k(k)?;
        // The role decides alone: the entry goes to the writer first and becomes durable
        // while the export is computed; the answer waits for it.
        let audited = self
            .audit
            .submit(vec![NewEntry::by(
                actor,
                None,
                Section::Caseload,
                AuditAction::Export,
                route,
            )])
            .await?;
        let mut orgs = organisation::Entity::find()
            .filter(organisation::Column::StatisticsOptIn.eq(true))
            .select_only()
            .column(organisation::Column::Id);
        if let StatisticsScope::Country(c) = &scope {
            orgs = orgs.filter(organisation::Column::Country.eq(c.as_str()));
        }
        let org_ids: Vec<i64> = orgs.into_tuple().all(&self.db).await?;
        let records = self.statistics_records(&org_ids).await?;
        let n = records.len();
        let export: Export = tokio::task::spawn_blocking(move || {
            data::anonymise(&records, k, &data::Config::default())
        })
        .await
        .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("anonymisation failed: {e}")))??;
        audited.durable().await?;
        // Counts only: nothing here says anything of a case.
        tracing::info!(
            organisations = org_ids.len(),
            cases = n,
            kept = export.report.output_rows,
            k,
            "statistics exported"
        );
        Ok(StatisticsExport {
            k,
            organisations: org_ids.len(),
            levels: export.levels,
            rows: export.rows,
            report: export.report,
        })
    }

    /// One [`Record`] per case of these organisations, read in windows of ids of about
    /// [`BATCH`] cases each ([`statistics_window_statement`]) and decrypted off the async
    /// executor, on every core; the next window is read while the last one is decrypted.
    async fn statistics_records(&self, org_ids: &[i64]) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        let Some((first, last, count)) = self.statistics_span(org_ids).await? else {
            return Ok(out);
        };
        out.reserve(usize::try_from(count).unwrap_or(0));
        let backend = self.db.get_database_backend();
        // Windows of ids, not `ORDER BY id LIMIT n` pages: a page past the first makes
        // SQLite join and sort every remaining case of the organisations again (about
        // 11 s over 100 000 cases instead of 2 s, docs/benchmarks.md "Exports").
        let windows = count.unsigned_abs().div_ceil(BATCH).max(1);
        let span = (last - first).unsigned_abs() + 1;
        let width = i64::try_from(span.div_ceil(windows).max(1)).unwrap_or(i64::MAX);
        let mut pending: Option<tokio::task::JoinHandle<Result<Vec<Record>>>> = None;
        let mut lo = first - 1;
        while lo < last {
            let hi = lo.saturating_add(width).min(last);
            let st = statistics_window_statement(org_ids, lo, hi, backend);
            let rows = CaseRow::find_by_statement(st).all(&self.db).await?;
            lo = hi;
            if let Some(p) = pending.take() {
                out.extend(join_decryption(p).await?);
            }
            let keys = Arc::clone(&self.keys);
            pending = Some(tokio::task::spawn_blocking(move || {
                records_on_every_core(&keys, rows)
            }));
        }
        if let Some(p) = pending {
            out.extend(join_decryption(p).await?);
        }
        Ok(out)
    }

    /// The first and last case id of these organisations and how many cases they have.
    async fn statistics_span(&self, org_ids: &[i64]) -> Result<Option<(i64, i64, i64)>> {
        if org_ids.is_empty() {
            return Ok(None);
        }
        use sea_orm::sea_query::ExprTrait;
        let span: Option<(Option<i64>, Option<i64>, i64)> = case::Entity::find()
            .select_only()
            .expr(Expr::col(case::Column::Id).min())
            .expr(Expr::col(case::Column::Id).max())
            .expr(Expr::col(case::Column::Id).count())
            .filter(case::Column::OwnerOrgId.is_in(org_ids.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await?
            .into_iter()
            .next();
        Ok(match span {
            Some((Some(first), Some(last), count)) if count > 0 => Some((first, last, count)),
            _ => None,
        })
    }
}

/// The statement that reads the cases of these organisations with ids in `(after, up_to]`
/// and what the export needs of them (the person's encrypted birth date, nationality and
/// gender, the minor flag, the encrypted elements): public, for looking at its plan in the
/// benchmark.
pub fn statistics_window_statement(
    org_ids: &[i64],
    after: i64,
    up_to: i64,
    backend: sea_orm::DbBackend,
) -> sea_orm::Statement {
    case::Entity::find()
        .select_only()
        .column(case::Column::Id)
        .column(case::Column::CreatedAt)
        .column(case::Column::PersonId)
        .column(person::Column::BirthDateEnc)
        .column(person::Column::NationalityEnc)
        .column(person::Column::GenderEnc)
        .column(person::Column::IsMinor)
        .column(case_elements::Column::ElementsEnc)
        .column(case::Column::ErasedAt)
        .column(case::Column::ErasedKeepStatistics)
        .column_as(erased_statistics::Column::CaseId, "kept_case_id")
        .column(erased_statistics::Column::AgeFrom)
        .column(erased_statistics::Column::AgeTo)
        .column(erased_statistics::Column::Citizenship)
        .column(erased_statistics::Column::CountryOfExploitation)
        .column(erased_statistics::Column::Exploitation)
        .column(erased_statistics::Column::MeansOfControl)
        .column(erased_statistics::Column::Gender)
        .join(
            JoinType::InnerJoin,
            case::Entity::belongs_to(person::Entity)
                .from(case::Column::PersonId)
                .to(person::Column::Id)
                .into(),
        )
        .join(
            JoinType::LeftJoin,
            case::Entity::belongs_to(case_elements::Entity)
                .from(case::Column::Id)
                .to(case_elements::Column::CaseId)
                .into(),
        )
        .join(
            JoinType::LeftJoin,
            case::Entity::belongs_to(erased_statistics::Entity)
                .from(case::Column::Id)
                .to(erased_statistics::Column::CaseId)
                .into(),
        )
        .filter(case::Column::OwnerOrgId.is_in(org_ids.iter().copied()))
        .filter(case::Column::Id.gt(after))
        .filter(case::Column::Id.lte(up_to))
        .build(backend)
}

async fn join_decryption(p: tokio::task::JoinHandle<Result<Vec<Record>>>) -> Result<Vec<Record>> {
    p.await
        .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("decryption failed: {e}")))?
}

/// [`records_of`] over the machine's cores (a window split in as many parts).
fn records_on_every_core(keys: &crate::crypto::KeyRing, rows: Vec<CaseRow>) -> Result<Vec<Record>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads < 2 || rows.len() < 1_000 {
        return records_of(keys, rows);
    }
    let per = rows.len().div_ceil(threads);
    let mut parts: Vec<Vec<CaseRow>> = Vec::with_capacity(threads);
    let mut rest = rows;
    while rest.len() > per {
        let tail = rest.split_off(per);
        parts.push(rest);
        rest = tail;
    }
    parts.push(rest);
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| s.spawn(move || records_of(keys, part)))
            .collect();
        let mut out = Vec::new();
        for h in handles {
            let part = h.join().map_err(|_| {
                ServiceError::Unexpected(anyhow::anyhow!("a decryption thread failed"))
            })??;
            out.extend(part);
        }
        Ok(out)
    })
}

/// Decrypt what the export needs of each case and reduce it to a [`Record`]; the clear
/// values are dropped at the end of each row.
fn records_of(keys: &crate::crypto::KeyRing, rows: Vec<CaseRow>) -> Result<Vec<Record>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if r.erased_at.is_some() {
            // Erased: its kept record, or nothing (the organisation did not keep it).
            if r.erased_keep_statistics && r.kept_case_id.is_some() {
                out.push(kept_record(&r)?);
            }
            continue;
        }
        out.push(live_record(keys, &r)?);
    }
    Ok(out)
}

/// The generalised record an erased case kept (`erased_statistics`).
fn kept_record(r: &CaseRow) -> Result<Record> {
    let bad = || {
        ServiceError::Integrity(crate::crypto::CryptoError::Integrity {
            table: "erased_statistics",
            column: "record",
        })
    };
    let country = |c: &Option<String>| c.as_deref().and_then(|c| Country::parse(c).ok());
    let age = match (r.age_from, r.age_to) {
        (Some(a), Some(b)) => Some((
            u8::try_from(a).map_err(|_| bad())?,
            u8::try_from(b).map_err(|_| bad())?,
        )),
        _ => None,
    };
    let kept = crate::erasure::StatisticalRecord {
        age,
        citizenship: country(&r.citizenship),
        country_of_exploitation: country(&r.country_of_exploitation),
        exploitation: crate::erasure::split_codes(
            r.exploitation.as_deref().unwrap_or(""),
            crate::identification::Exploitation::parse,
        )
        .map_err(|_| bad())?,
        means_of_control: crate::erasure::split_codes(
            r.means_of_control.as_deref().unwrap_or(""),
            crate::identification::Control::parse,
        )
        .map_err(|_| bad())?,
        gender: Gender::parse(r.gender.as_deref().unwrap_or("unknown")).map_err(|_| bad())?,
    };
    Ok(kept.record(r.created_at.date_naive().year()))
}

/// The record of one case from its encrypted fields (decrypted here and dropped). The
/// erasure derives the record it keeps with it, before the fields are destroyed.
pub(crate) fn live_record_of_case(
    keys: &crate::crypto::KeyRing,
    c: &case::Model,
    p: &person::Model,
    elements_enc: Option<Vec<u8>>,
) -> Result<Record> {
    live_record(
        keys,
        &CaseRow {
            id: c.id,
            created_at: c.created_at,
            person_id: p.id.clone(),
            birth_date_enc: p.birth_date_enc.clone(),
            nationality_enc: p.nationality_enc.clone(),
            gender_enc: p.gender_enc.clone(),
            is_minor: p.is_minor,
            elements_enc,
            erased_at: None,
            erased_keep_statistics: false,
            kept_case_id: None,
            age_from: None,
            age_to: None,
            citizenship: None,
            country_of_exploitation: None,
            exploitation: None,
            means_of_control: None,
            gender: None,
        },
    )
}

fn live_record(keys: &crate::crypto::KeyRing, r: &CaseRow) -> Result<Record> {
    let open = |column: &'static str, row: &str, v: Option<&Vec<u8>>| -> Result<Option<String>> {
        Ok(match v {
            Some(b) => Some(keys.decrypt_string(at("persons", column, row), b)?),
            None => None,
        })
    };
    let integrity = |table: &'static str, column: &'static str| {
        ServiceError::Integrity(crate::crypto::CryptoError::Integrity { table, column })
    };
    {
        {
            let pid = r.person_id.as_str();
            let birth = open("birth_date", pid, r.birth_date_enc.as_ref())?
                .map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d"))
                .transpose()
                .map_err(|_| integrity("persons", "birth_date"))?;
            let registered = r.created_at.date_naive();
            let age = match birth {
                Some(b) => Age::Years(
                    u8::try_from(domain::age_on(b, registered).max(0)).unwrap_or(u8::MAX),
                ),
                // The presumption of minority: a flagged minor of unknown age is a child.
                None if r.is_minor => Age::Range { from: 0, to: 17 },
                None => Age::Unknown,
            };
            let citizenship = open("nationality", pid, r.nationality_enc.as_ref())?
                .and_then(|c| Country::parse(&c).ok());
            let gender = match open("gender", pid, r.gender_enc.as_ref())? {
                Some(g) => Gender::parse(&g).map_err(|_| integrity("persons", "gender"))?,
                None => Gender::Unknown,
            };
            let elements: Elements = match &r.elements_enc {
                Some(b) => {
                    let row = r.id.to_string();
                    serde_json::from_slice(&keys.decrypt(at("case_elements", "elements", &row), b)?)
                        .map_err(|_| integrity("case_elements", "elements"))?
                }
                None => Elements::default(),
            };
            Ok(Record {
                age,
                registration_year: registered.year(),
                citizenship,
                country_of_exploitation: elements
                    .country_of_exploitation
                    .as_deref()
                    .and_then(|c| Country::parse(c).ok()),
                exploitation: elements.purposes.iter().copied().collect::<BTreeSet<_>>(),
                means_of_control: elements.controls.iter().copied().collect::<BTreeSet<_>>(),
                gender,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_statisticians_and_state_authorities_export() {
        assert_eq!(
            statistics_scope(Role::Statistician, OrgKind::VictimAdvocacy, "FR"),
            Some(StatisticsScope::All)
        );
        for role in [Role::OrgAdmin, Role::Auditor] {
            assert_eq!(
                statistics_scope(role, OrgKind::StateAuthority, "FR"),
                Some(StatisticsScope::Country("FR".into()))
            );
            assert_eq!(statistics_scope(role, OrgKind::VictimAdvocacy, "FR"), None);
        }
        for role in Role::ALL
            .iter()
            .filter(|r| !matches!(r, Role::Statistician | Role::OrgAdmin | Role::Auditor))
        {
            for kind in OrgKind::ALL {
                assert_eq!(statistics_scope(*role, *kind, "FR"), None, "{role} {kind}");
            }
        }
    }

    #[test]
    fn k_defaults_to_eleven_and_is_never_below_five() {
        assert_eq!(parse_k(None), Ok(11));
        assert_eq!(parse_k(Some(5)), Ok(5));
        assert_eq!(parse_k(Some(20)), Ok(20));
        for bad in [0, 4] {
            let e = parse_k(Some(bad)).err();
            assert_eq!(e.as_ref().map(|e| e.field), Some("k"));
            assert!(e.is_some_and(|e| e.message.contains("at least 5")));
        }
        assert_eq!(parse_k(Some(u64::MAX)).err().map(|e| e.field), Some("k"));
    }

    #[test]
    fn groups_count_equal_rows() {
        let row = |g: &'static str| Row {
            age: "18+",
            registration_year: "2026".into(),
            citizenship: "NG".into(),
            country_of_exploitation: "FR".into(),
            exploitation: vec!["servitude"],
            means_of_control: vec!["debt_bondage"],
            gender: g,
        };
        let e = StatisticsExport {
            k: 5,
            organisations: 1,
            levels: Levels::FINEST,
            rows: vec![row("female"), row("female"), row("male")],
            report: SuppressionReport {
                k: 5,
                input_rows: 3,
                output_rows: 3,
                suppressed_rows: 0,
                suppressed_by: Default::default(),
                max_suppressed_rows: 0,
                groups: 2,
                smallest_group: Some(1),
                attributes: vec![],
            },
        };
        let g = e.groups();
        assert_eq!(g.len(), 2);
        assert_eq!((g[0].rows, g[0].row.gender), (2, "female"));
        assert_eq!((g[1].rows, g[1].row.gender), (1, "male"));
    }
}
