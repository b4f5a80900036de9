//! A fund's report for a period (the fund's own page, its CSV, and the donor report):
//! the balance at the end of each month, what was allocated, committed, spent and
//! released each month, spending by category, and how many cases it served. Counts and
//! sums only, never a case or a person: computed in SQL over the entries' report
//! columns, so that a fund with 100 000 entries answers at once.

use super::*;
use sea_orm::{FromQueryResult, Statement};

/// One month of a fund's movements.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema, PartialEq, Eq)]
pub struct MonthRow {
    /// YYYY-MM.
    pub month: String,
    pub allocated_minor: i64,
    pub committed_minor: i64,
    pub spent_minor: i64,
    /// Given back: releases and refused commitments.
    pub released_minor: i64,
    /// What the fund had available at the end of the month.
    pub available_end_minor: i64,
}

/// What a fund spent (and still has committed) in one cost category over the period.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema, PartialEq, Eq)]
pub struct CategoryRow {
    pub category: String,
    pub committed_minor: i64,
    pub spent_minor: i64,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FundReport {
    pub fund_id: String,
    pub fund: String,
    pub source: SourceKind,
    pub holder_org: String,
    pub currency: Currency,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Available at the start of the period.
    pub opening_available_minor: i64,
    pub months: Vec<MonthRow>,
    pub by_category: Vec<CategoryRow>,
    /// Distinct cases with a commitment in the period (a count, never who).
    pub cases_served: u64,
    pub commitments: u64,
    pub total_allocated_minor: i64,
    pub total_spent_minor: i64,
}

#[derive(Debug, FromQueryResult)]
struct Sum {
    kind: String,
    status: Option<String>,
    category: Option<String>,
    month: String,
    total: i64,
    n: i64,
}

#[derive(Debug, FromQueryResult)]
struct Count {
    n: i64,
}

/// How each kind of entry moves the balances: (allocated, committed, spent, released).
fn effect(kind: &str, status: Option<&str>, amount: i64) -> (i64, i64, i64, i64) {
    match (kind, status) {
        ("allocation", _) | ("correction", Some("corrects_allocation")) => (amount, 0, 0, 0),
        ("commitment", _) | ("correction", Some("corrects_commitment")) => (0, amount, 0, 0),
        ("spending", _) | ("correction", Some("corrects_spending")) => (0, 0, amount, 0),
        ("release", _) | ("refusal", _) => (0, 0, 0, amount),
        _ => (0, 0, 0, 0),
    }
}

impl Services {
    async fn sums(
        &self,
        fund_id: &str,
        before: Option<NaiveDate>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Sum>> {
        let backend = self.db.get_database_backend();
        // Grouped by the month itself, written as text once per group (PostgreSQL's
        // `to_char` on every row cost a third of the report).
        let (month, group) = match backend {
            DbBackend::Postgres => (
                "to_char(date_trunc('month', entry_on), 'YYYY-MM')",
                "date_trunc('month', entry_on)",
            ),
            _ => ("substr(entry_on, 1, 7)", "substr(entry_on, 1, 7)"),
        };
        let (p1, p2, p3) = match backend {
            DbBackend::Postgres => ("$1", "$2", "$3"),
            _ => ("?", "?", "?"),
        };
        let (range, values): (String, Vec<sea_orm::Value>) = match before {
            Some(b) => (format!("entry_on < {p2}"), vec![fund_id.into(), b.into()]),
            None => (
                format!("entry_on >= {p2} AND entry_on <= {p3}"),
                vec![fund_id.into(), from.into(), to.into()],
            ),
        };
        let sql = format!(
            "SELECT kind, status, category, {month} AS month, CAST(SUM(amount) AS BIGINT) AS total, CAST(COUNT(*) AS BIGINT) AS n \
             FROM fund_entries WHERE fund_id = {p1} AND {range} \
             GROUP BY kind, status, category, {group} ORDER BY month"
        );
        Ok(
            Sum::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
                .all(&self.db)
                .await?,
        )
    }

    /// A fund's report over `[from, to]` (both inclusive; default: the fund's life so
    /// far), for those who see all of the fund.
    pub async fn fund_report(
        &self,
        actor: &Actor,
        fund_id: &str,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        route: Route<'_>,
    ) -> Result<FundReport> {
        let (f, _) = self
            .fund_for(&self.db, actor, fund_id, FundAction::ViewAll, false)
            .await?;
        let to = to.unwrap_or_else(|| Utc::now().date_naive());
        let from = from.unwrap_or(f.valid_from.min(to));
        if from > to {
            return Err(Invalid::new("from", "must not be after `to`").into());
        }
        // Before the period: what was available when it began.
        let mut available = 0i64;
        for s in self.sums(&f.id, Some(from), from, to).await? {
            let (a, c, _, r) = effect(&s.kind, s.status.as_deref(), s.total);
            available += a - c + r;
        }
        let opening = available;
        let mut months: Vec<MonthRow> = Vec::new();
        let mut cats: HashMap<String, CategoryRow> = HashMap::new();
        let mut commitments = 0u64;
        let (mut total_allocated, mut total_spent) = (0i64, 0i64);
        for s in self.sums(&f.id, None, from, to).await? {
            let (a, c, sp, r) = effect(&s.kind, s.status.as_deref(), s.total);
            if months.last().is_none_or(|m| m.month != s.month) {
                months.push(MonthRow {
                    month: s.month.clone(),
                    available_end_minor: available,
                    ..Default::default()
                });
            }
            if let Some(m) = months.last_mut() {
                m.allocated_minor += a;
                m.committed_minor += c;
                m.spent_minor += sp;
                m.released_minor += r;
                // Committing sets money aside, spending draws on what was set aside,
                // releasing gives it back: available = allocated − committed + released.
                available += a - c + r;
                m.available_end_minor = available;
            }
            if s.kind == "commitment" {
                commitments += u64::try_from(s.n).unwrap_or(0);
            }
            total_allocated += a;
            total_spent += sp;
            if let Some(cat) = &s.category {
                let row = cats.entry(cat.clone()).or_insert_with(|| CategoryRow {
                    category: cat.clone(),
                    ..Default::default()
                });
                row.committed_minor += c - r;
                row.spent_minor += sp;
            }
        }
        let backend = self.db.get_database_backend();
        let (p1, p2, p3) = match backend {
            DbBackend::Postgres => ("$1", "$2", "$3"),
            _ => ("?", "?", "?"),
        };
        let served = Count::find_by_statement(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT CAST(COUNT(DISTINCT case_id) AS BIGINT) AS n FROM fund_entries \
                 WHERE fund_id = {p1} AND kind = 'commitment' AND entry_on >= {p2} AND entry_on <= {p3}"
            ),
            vec![f.id.clone().into(), from.into(), to.into()],
        ))
        .all(&self.db)
        .await?
        .first()
        .map_or(0, |c| u64::try_from(c.n).unwrap_or(0));
        let mut by_category: Vec<CategoryRow> = cats.into_values().collect();
        by_category.sort_by(|a, b| a.category.cmp(&b.category));
        let holder_org = crate::store::entity::organisation::Entity::find_by_id(f.holder_org_id)
            .first(&self.db)
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        self.audit
            .record(vec![Self::funding_entry(
                actor,
                None,
                AuditAction::Read,
                route,
            )])
            .await?;
        Ok(FundReport {
            fund_id: f.id.clone(),
            fund: f.name.clone(),
            source: SourceKind::parse(&f.source)?,
            holder_org,
            currency: Currency::parse(&f.currency)?,
            from,
            to,
            opening_available_minor: opening,
            months,
            by_category,
            cases_served: served,
            commitments,
            total_allocated_minor: total_allocated,
            total_spent_minor: total_spent,
        })
    }
}
