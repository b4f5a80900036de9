//! The dashboard's SQL: statements written for either backend ([`Sql`]), what every
//! query of one dashboard shares ([`Ctx`]), and the rows the queries answer.

use super::*;

/// A statement's text and its values, with placeholders in the backend's syntax.
pub(super) struct Sql {
    pub(super) backend: DbBackend,
    pub(super) values: Vec<sea_orm::Value>,
}

impl Sql {
    pub(super) fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            values: Vec::new(),
        }
    }
    pub(super) fn pg(&self) -> bool {
        self.backend == DbBackend::Postgres
    }
    /// A placeholder bound to `v`, numbered (`$3`, `?3`), so that an expression holding
    /// one can be written twice (in `SELECT` and `GROUP BY`).
    pub(super) fn p(&mut self, v: impl Into<sea_orm::Value>) -> String {
        self.values.push(v.into());
        let n = self.values.len();
        if self.pg() {
            format!("${n}")
        } else {
            format!("?{n}")
        }
    }
    /// `col` (a timestamp) falls on `day` or later (UTC).
    pub(super) fn time_from(&mut self, col: &str, day: NaiveDate) -> String {
        if self.pg() {
            let p = self.p(day.and_time(NaiveTime::MIN).and_utc());
            format!("{col} >= {p}")
        } else {
            // Compared as text on the day: stored times are RFC 3339 text.
            let p = self.p(day);
            format!("substr({col}, 1, 10) >= {p}")
        }
    }
    /// `col IN (…)` over the organisations.
    pub(super) fn orgs(&mut self, col: &str, ids: &[i64]) -> String {
        let list: Vec<String> = ids.iter().map(|id| self.p(*id)).collect();
        if list.is_empty() {
            "1 = 0".to_owned()
        } else {
            format!("{col} IN ({})", list.join(", "))
        }
    }
    /// `YYYY-MM` of a date column.
    pub(super) fn month_of_date(&self, col: &str) -> String {
        if self.pg() {
            format!("to_char({col}, 'YYYY-MM')")
        } else {
            format!("substr({col}, 1, 7)")
        }
    }
    /// `YYYY-MM` of a timestamp column (UTC).
    pub(super) fn month_of_time(&self, col: &str) -> String {
        if self.pg() {
            format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM')")
        } else {
            format!("substr({col}, 1, 7)")
        }
    }
    /// `YYYY-MM-DD` of a timestamp column (UTC).
    pub(super) fn day_of_time(&self, col: &str) -> String {
        if self.pg() {
            format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD')")
        } else {
            format!("substr({col}, 1, 10)")
        }
    }
    /// Whole days from the date `from` to the date `to`.
    pub(super) fn days_between_dates(&self, to: &str, from: &str) -> String {
        if self.pg() {
            format!("CAST({to} - {from} AS BIGINT)")
        } else {
            format!("CAST(julianday({to}) - julianday({from}) AS BIGINT)")
        }
    }
    /// Whole days from the UTC day of the timestamp `from` to the date `to`.
    pub(super) fn days_since_time(&self, to: &str, from: &str) -> String {
        if self.pg() {
            format!("CAST({to} - CAST({from} AT TIME ZONE 'UTC' AS DATE) AS BIGINT)")
        } else {
            format!("CAST(julianday({to}) - julianday(substr({from}, 1, 10)) AS BIGINT)")
        }
    }
    pub(super) fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}

/// What every query of one dashboard shares.
pub(super) struct Ctx {
    pub(super) backend: DbBackend,
    pub(super) orgs: Vec<i64>,
    pub(super) threshold: Option<u64>,
    pub(super) today: NaiveDate,
    pub(super) months: Vec<String>,
    /// The first day of the oldest month.
    pub(super) first: NaiveDate,
}

impl Ctx {
    pub(super) fn sql(&self) -> Sql {
        Sql::new(self.backend)
    }
}

#[derive(Debug, FromQueryResult)]
pub(super) struct KeyCount {
    pub(super) key: String,
    pub(super) n: i64,
}

#[derive(Debug, FromQueryResult)]
pub(super) struct OutcomeRow {
    pub(super) t_status: Option<String>,
    pub(super) s_status: Option<String>,
    pub(super) days: Option<i64>,
    pub(super) n: i64,
}

#[derive(Debug, FromQueryResult)]
pub(super) struct DeadlineRow {
    pub(super) kind: String,
    pub(super) stage: String,
    pub(super) n: i64,
}

#[derive(Debug, FromQueryResult)]
pub(super) struct ReturnRow {
    pub(super) stage: String,
    pub(super) since: String,
    pub(super) own_open: i64,
    pub(super) n: i64,
}

#[derive(Debug, FromQueryResult)]
pub(super) struct DaysRow {
    pub(super) days: Option<i64>,
    pub(super) n: i64,
}

#[derive(Debug, FromQueryResult)]
pub(super) struct FundRow {
    pub(super) currency: String,
    pub(super) funds: i64,
    pub(super) allocated: i64,
    pub(super) committed: i64,
    pub(super) pending: i64,
    pub(super) spent: i64,
}

#[derive(Debug, FromQueryResult)]
pub(super) struct SpendRow {
    pub(super) currency: String,
    pub(super) key: Option<String>,
    pub(super) cases: i64,
    pub(super) total: i64,
}

#[derive(Debug, FromQueryResult)]
pub(super) struct VisitRow {
    pub(super) status: String,
    pub(super) month: String,
    pub(super) n: i64,
}

#[derive(Debug, FromQueryResult)]
pub(super) struct ScoreRow {
    pub(super) month: String,
    pub(super) n: i64,
    pub(super) economic: Option<f64>,
    pub(super) social: Option<f64>,
    pub(super) psychosocial: Option<f64>,
    pub(super) composite: Option<f64>,
}

pub(super) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A string of literals for `IN (…)`, from vocabulary values (never user input).
pub(super) fn literals<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    values
        .into_iter()
        .map(|v| format!("'{}'", v.replace('\'', "")))
        .collect::<Vec<_>>()
        .join(", ")
}
