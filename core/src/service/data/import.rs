//! The CSV import of an existing caseload, for the organisation's administrator: a dry run
//! that reports every problem (the file's own, from `crate::data::import`, then those only
//! the database shows: a person who already has a case of this organisation, an advocate
//! who is not one of its active advocates), then the import, all or nothing, in one
//! transaction: each row encrypted and blind-indexed as `create_case` does, given the next
//! reference, and audited. The report holds the file's values: it is returned to the
//! uploader and never logged or stored.

use crate::data::import::{self as file, ImportRow, Problem};
use crate::domain::{AuditAction, Role, Section};
use crate::service::audit::{NewEntry, append_in};
use crate::service::{Actor, Result, Route, ServiceError, Services};
use crate::store::begin_write;
use crate::store::entity::{case, person, user};
use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::{BTreeMap, HashMap};

/// One problem of the report, as the API and the page show it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ImportProblem {
    /// The row in the file (the header is row 1).
    pub row: usize,
    pub column: Option<String>,
    /// The cell, shortened (shown to the uploader only).
    pub value: Option<String>,
    /// The rule's id, e.g. `import-bad-date` (docs/import.md).
    pub rule: String,
    /// The rule's arguments (e.g. the maximum length).
    pub args: BTreeMap<String, String>,
    /// What is wrong, in English (the pages translate `rule`).
    pub message: String,
}

/// A case the import created.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ImportedCase {
    pub row: usize,
    pub reference: String,
}

/// What a dry run or an import found and did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ImportOutcome {
    pub dry_run: bool,
    /// The data rows read.
    pub rows: usize,
    /// The rows that would be (or were) imported: all of them when there is no problem.
    pub valid_rows: usize,
    /// Every problem, by row (at most 1 000 listed).
    pub problems: Vec<ImportProblem>,
    /// Problems found beyond those listed.
    pub omitted: usize,
    /// The cases created (none on a dry run, none when there is a problem).
    pub imported: Vec<ImportedCase>,
}

/// Only the organisation's administrator imports a caseload.
pub fn may_import_cases(role: Role) -> bool {
    role == Role::OrgAdmin
}

impl Services {
    /// Check a caseload file (`dry_run`), or import it: nothing at all is written when
    /// the report names one problem.
    pub async fn import_cases(
        &self,
        actor: &Actor,
        bytes: &[u8],
        dry_run: bool,
        route: Route<'_>,
    ) -> Result<ImportOutcome> {
        self.import_cases_showing(actor, bytes, dry_run, route, &|_, _| {})
            .await
    }

    /// [`Self::import_cases`], telling `progress(done, total)` as the rows are written (the
    /// command line's progress bar); nothing is visible to others until the last one.
    pub async fn import_cases_showing(
        &self,
        actor: &Actor,
        bytes: &[u8],
        dry_run: bool,
        route: Route<'_>,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<ImportOutcome> {
        if !may_import_cases(actor.role) {
            return Err(ServiceError::Forbidden(
                "only the organisation's administrator imports a caseload".into(),
            ));
        }
        let now = Utc::now();
        let mut parsed = file::parse(bytes, now.date_naive(), &file::Options::default());
        let (existing, advocates) = self.database_problems(actor, parsed.rows()).await?;
        for p in existing {
            parsed.add_problem(p);
        }
        let mut assigned: Vec<Option<i64>> = Vec::with_capacity(parsed.rows().len());
        let mut unknown = Vec::new();
        for r in parsed.rows() {
            match &r.advocate_email {
                None => assigned.push(None),
                Some(e) => match advocates.get(&e.as_str().to_lowercase()) {
                    Some(id) => assigned.push(Some(*id)),
                    None => {
                        unknown.push(Problem::unknown_advocate(r.row, e));
                        assigned.push(None);
                    }
                },
            }
        }
        for p in unknown {
            parsed.add_problem(p);
        }
        let valid_rows = parsed.valid_rows();
        let rows = parsed.report().data_rows();
        let outcome = |report: &file::Report, imported: Vec<ImportedCase>| ImportOutcome {
            dry_run,
            rows,
            valid_rows: if report.is_clean() { valid_rows } else { 0 },
            problems: report.problems().iter().map(view).collect(),
            omitted: report.omitted(),
            imported,
        };
        if dry_run {
            let report = parsed.into_report();
            tracing::info!(rows, problems = report.total(), "caseload file checked");
            return Ok(outcome(&report, vec![]));
        }
        if let Some(first) = parsed.report().problems().first() {
            let n = parsed.report().total();
            return Err(crate::domain::Invalid::new(
                "file",
                format!(
                    "the file has {n} problem{} (the first: row {}, {}): nothing was imported; check the file for the whole report",
                    if n == 1 { "" } else { "s" },
                    first.row,
                    first.english()
                ),
            )
            .into());
        }
        let report = parsed.report().clone();
        let rows_in = match parsed.into_rows() {
            Ok(r) => r,
            Err(report) => return Ok(outcome(&report, vec![])),
        };
        let txn = begin_write(&self.db).await?;
        let mut imported = Vec::with_capacity(rows_in.len());
        let mut entries = Vec::with_capacity(rows_in.len() + 1);
        entries.push(NewEntry::by(
            actor,
            None,
            Section::Person,
            AuditAction::Create,
            route,
        ));
        let total = rows_in.len();
        // In slices of a thousand rows, so that the progress moves; one transaction.
        let people: Vec<(&crate::service::cases::Person, Option<i64>)> = rows_in
            .iter()
            .zip(assigned)
            .map(|(r, a)| (&r.person, a))
            .collect();
        for (k, slice) in people.chunks(1000).enumerate() {
            progress(k * 1000, total);
            let refs = self.insert_cases_in(&txn, actor, slice, now).await?;
            for (j, reference) in refs.into_iter().enumerate() {
                entries.push(NewEntry::by(
                    actor,
                    Some(&reference),
                    Section::Person,
                    AuditAction::Create,
                    route,
                ));
                imported.push(ImportedCase {
                    row: rows_in[k * 1000 + j].row,
                    reference,
                });
            }
        }
        append_in(&txn, &entries).await?;
        txn.commit().await?;
        progress(total, total);
        // PostgreSQL plans by its statistics, which a bulk import leaves stale until
        // autovacuum comes by: the next look-up by blind index would scan every person.
        if total >= 1000
            && self.db.get_database_backend() == sea_orm::DbBackend::Postgres
            && let Err(e) = self.db.execute_unprepared("ANALYZE persons, cases").await
        {
            tracing::warn!(error = %e, "statistics not refreshed after the import");
        }
        // The dashboards of this node count the new cases at once, not a minute later.
        self.dashboards.forget();
        tracing::info!(cases = imported.len(), "caseload imported");
        Ok(outcome(&report, imported))
    }

    /// The actor the command line imports as: the active user with this address.
    pub async fn import_actor(&self, email: &str) -> Result<Actor> {
        let u = user::Entity::find()
            .filter(user::Column::Email.eq(email.trim().to_lowercase()))
            .filter(user::Column::Active.eq(true))
            .all(&self.db)
            .await?
            .into_iter()
            .next()
            .ok_or(ServiceError::NotFound("user"))?;
        crate::service::auth::actor_of(&u)
    }

    /// The problems only the database shows: a row whose person already has a case of the
    /// actor's organisation (same name by the blind index, same birth date; only this
    /// organisation's cases are looked at, so nothing is said of anyone else's), and the
    /// organisation's active advocates by address.
    async fn database_problems(
        &self,
        actor: &Actor,
        rows: &[ImportRow],
    ) -> Result<(Vec<Problem>, HashMap<String, i64>)> {
        let advocates: HashMap<String, i64> = user::Entity::find()
            .filter(user::Column::OrgId.eq(actor.org_id))
            .filter(user::Column::Active.eq(true))
            .filter(user::Column::Role.eq(Role::Advocate.as_str()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|u| (u.email.to_lowercase(), u.id))
            .collect();
        let mut by_idx: HashMap<String, Vec<&ImportRow>> = HashMap::new();
        for r in rows.iter().filter(|r| r.person.birth_date.is_some()) {
            by_idx
                .entry(self.keys.blind_index("person-name", &r.person.name))
                .or_default()
                .push(r);
        }
        let mut problems = Vec::new();
        if by_idx.is_empty() {
            return Ok((problems, advocates));
        }
        // The organisation's cases, person → reference (three columns, one read: cheaper
        // than looking cases up by person, which has no index, chunk after chunk).
        let own: HashMap<String, String> = case::Entity::find()
            .select_only()
            .column(case::Column::PersonId)
            .column(case::Column::Reference)
            .filter(case::Column::OwnerOrgId.eq(actor.org_id))
            .into_tuple::<(String, String)>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let idx: Vec<String> = by_idx.keys().cloned().collect();
        for chunk in idx.chunks(500) {
            for p in person::Entity::find()
                .filter(person::Column::NameIdx.is_in(chunk.to_vec()))
                .all(&self.db)
                .await?
            {
                let Some(reference) = own.get(&p.id) else {
                    continue;
                };
                let born = self.open("birth_date", &p.id, p.birth_date_enc.as_ref())?;
                for r in by_idx.get(&p.name_idx).into_iter().flatten() {
                    let same = r.person.birth_date.is_some_and(|d| {
                        born.as_deref() == Some(d.format("%Y-%m-%d").to_string().as_str())
                    });
                    if same {
                        problems.push(Problem::existing_case(r.row, Some(reference)));
                    }
                }
            }
        }
        // By row, so that the report's first thousand are the file's first rows.
        problems.sort_by_key(|p| p.row);
        Ok((problems, advocates))
    }
}

fn view(p: &Problem) -> ImportProblem {
    ImportProblem {
        row: p.row,
        column: p.column.clone(),
        value: p.value.clone(),
        rule: p.rule.as_str().to_owned(),
        args: p
            .args
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        message: p.english(),
    }
}
