//! The dashboard of the signed-in user (issue 14, point 1): counts, sums, medians and
//! means computed in SQL over the organisation's (or, across organisations, the
//! country's) rows, with `COUNT` / `SUM` / `GROUP BY` on the columns the indexes hold;
//! never a row per case sent back, never a personal field read. What each role sees, the
//! small-cell rule and the medians are in [`crate::data::dashboard`].
//!
//! What the figures count:
//!
//! - **Cases**: the cases the organisations own, by stage (closed ones too) and by month
//!   of referral (a case is created at `referred`) over the last twelve months.
//! - **Identification**: each case by the outcome of its latest trafficking and
//!   smuggling determinations ([`Outcome::of`]); the days from referral to the first
//!   determination (not "possible"), as a median.
//! - **Overdue deadlines**: as the deadlines pages count them (open, due before today, at
//!   a stage where they still matter, on an open case): recovery periods, expected
//!   decisions, unanswered citizenship confirmations, returns past their stage's target.
//!   Hearing conflicts are not counted here: finding them needs each case's proceedings
//!   and its jurisdiction's catalogue, case by case (they are on the deadlines page).
//! - **Returns**: those of the organisations' cases and those they are the agency of, by
//!   stage; the stuck ones (longer at their stage than its target,
//!   [`crate::returns::return_clock`], as `/returns?stuck=true` lists them); the median
//!   days from the request to the departure.
//! - **Funds**: the funds the organisations hold, per currency: balances (from the fund
//!   rows, which the ledger keeps), spending by cost category and by month, with the
//!   number of cases served (across organisations a category or month that served
//!   fewer than 11 cases shows no amount).
//! - **Follow-up**: the visits the organisations make, done and missed by month, those
//!   overdue now (planned, past their date by the grace days, on an open case); the mean
//!   reintegration scores of the assessments they recorded, by month.

use crate::data::dashboard::{
    self as rules, Cell, MONTHS, Outcome, Panel, Reach, View, cell, median, months_back, protect,
};
use crate::deadlines::{
    CITIZENSHIP_CONFIRMATION, REASONABLE_GROUNDS_DUE, RECOVERY_PERIOD_END, RETURN_STAGE_TARGET,
};
use crate::domain::{AuditAction, OrgKind, Section, Stage};
use crate::identification::{SmugglingStatus, TraffickingStatus};
use crate::returns::{CitizenshipAnswer, ReturnStage, return_clock};
use crate::service::audit::NewEntry;
use crate::service::{Actor, Result, Route, ServiceError, Services};
use crate::store::First;
use crate::store::entity::organisation;
use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, Statement};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A count with what it counts (a stage, an outcome, a deadline kind, a month `YYYY-MM`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Bucket {
    pub key: String,
    pub value: Cell,
}

/// A median number of days over `n` values (`median_days` null when there are none, or,
/// across organisations, fewer than 11).
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct MedianDays {
    pub n: Cell,
    pub median_days: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct CasesPanel {
    /// Every stage of the care track, in its order.
    pub by_stage: Vec<Bucket>,
    /// The cases referred in each of the dashboard's months.
    pub by_month: Vec<Bucket>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct IdentificationPanel {
    /// trafficking, smuggling, both, neither, awaiting.
    pub outcomes: Vec<Bucket>,
    /// From the referral to the first determination.
    pub referral_to_decision: MedianDays,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct DeadlinesPanel {
    /// By kind of deadline (the kinds of `/deadlines?kind=`).
    pub overdue: Vec<Bucket>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ReturnStageRow {
    pub stage: ReturnStage,
    pub returns: Cell,
    /// Longer at this stage than its target.
    pub stuck: Cell,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ReturnsPanel {
    pub by_stage: Vec<ReturnStageRow>,
    /// Stuck returns, all stages together.
    pub stuck: Cell,
    pub request_to_departure: MedianDays,
}

/// Money spent in one cost category or month, and how many cases it served.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SpendingRow {
    pub key: String,
    /// Null when withheld (a small number of cases, across organisations).
    pub spent_minor: Option<i64>,
    pub cases: Cell,
}

/// The funds of one currency.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CurrencyFunds {
    pub currency: String,
    pub funds: u64,
    pub allocated_minor: i64,
    /// Committed and not spent yet (pending approval included).
    pub committed_minor: i64,
    pub pending_minor: i64,
    pub spent_minor: i64,
    /// allocated − committed − spent.
    pub available_minor: i64,
    /// Cost categories with spending, by name.
    pub by_category: Vec<SpendingRow>,
    /// The dashboard's months.
    pub by_month: Vec<SpendingRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FundsPanel {
    pub currencies: Vec<CurrencyFunds>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct VisitMonth {
    pub month: String,
    pub done: Cell,
    pub missed: Cell,
}

/// The mean scores (0–1) of the assessments of one month; null where no assessment had
/// that score, or, across organisations, for fewer than 11 assessments.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ScoreMonth {
    pub month: String,
    pub assessments: Cell,
    pub economic: Option<f64>,
    pub social: Option<f64>,
    pub psychosocial: Option<f64>,
    pub composite: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct FollowUpPanel {
    /// Visits done and missed, all time.
    pub done: Cell,
    pub missed: Cell,
    /// Planned visits overdue now.
    pub overdue: Cell,
    pub visits_by_month: Vec<VisitMonth>,
    pub scores_by_month: Vec<ScoreMonth>,
}

/// A dashboard: the panels the role's work needs (absent ones are null).
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    /// organisation, or country (every organisation of the country, small cells hidden).
    pub reach: Reach,
    /// The organisation's name (reach organisation).
    pub organisation: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// How many organisations the figures cover.
    pub organisations: u64,
    /// Counts below this are shown as "< 11" (cross-organisation dashboards only).
    pub small_cell_threshold: Option<u64>,
    pub as_of: NaiveDate,
    /// When these figures were counted: they are kept for [`FRESH_FOR`] (per node), so a
    /// change shows within a minute.
    pub computed_at: DateTime<Utc>,
    /// The months of the monthly series, oldest first (YYYY-MM).
    pub months: Vec<String>,
    pub cases: Option<CasesPanel>,
    pub identification: Option<IdentificationPanel>,
    pub deadlines: Option<DeadlinesPanel>,
    pub returns: Option<ReturnsPanel>,
    pub funds: Option<FundsPanel>,
    pub follow_up: Option<FollowUpPanel>,
}

mod panels;
mod sql;

use sql::Ctx;

/// How long a node reuses the figures it counted for the same organisations and panels.
/// A dashboard over 100 000 cases takes a few hundred milliseconds to count (the
/// identification outcomes need each case's latest determinations); counted at most once
/// a minute per organisation, the page answers in milliseconds the rest of the time. Each
/// read is audited all the same.
pub const FRESH_FOR: Duration = Duration::from_secs(60);

/// The figures of one set of panels for one set of organisations.
#[derive(Debug, Clone)]
struct Figures {
    computed_at: DateTime<Utc>,
    today: NaiveDate,
    months: Vec<String>,
    cases: Option<CasesPanel>,
    identification: Option<IdentificationPanel>,
    deadlines: Option<DeadlinesPanel>,
    returns: Option<ReturnsPanel>,
    funds: Option<FundsPanel>,
    follow_up: Option<FollowUpPanel>,
}

/// The figures this node counted, for a minute ([`FRESH_FOR`]): one per set of
/// organisations, threshold and panels. It belongs to one [`Services`] (one server, or one
/// test application), so the figures of one database are never served for another; each
/// node keeps its own, and a change shows on every node within the minute.
#[derive(Clone, Default)]
pub struct FigureCache(Arc<Mutex<Vec<Kept>>>);

struct Kept {
    orgs: Vec<i64>,
    threshold: Option<u64>,
    panels: &'static [Panel],
    at: Instant,
    figures: Figures,
}

/// At most this many sets of figures are kept; the oldest goes first.
const KEPT_AT_MOST: usize = 512;

impl FigureCache {
    fn kept(&self) -> std::sync::MutexGuard<'_, Vec<Kept>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Drop every kept figure, so that the next dashboards are counted afresh (after a
    /// bulk change such as an import; the benchmark times the counting with it).
    pub fn forget(&self) {
        self.kept().clear();
    }

    fn get(
        &self,
        orgs: &[i64],
        threshold: Option<u64>,
        panels: &'static [Panel],
    ) -> Option<Figures> {
        let mut all = self.kept();
        all.retain(|k| k.at.elapsed() < FRESH_FOR);
        all.iter()
            .find(|k| k.orgs == orgs && k.threshold == threshold && k.panels == panels)
            .map(|k| k.figures.clone())
    }

    fn put(
        &self,
        orgs: &[i64],
        threshold: Option<u64>,
        panels: &'static [Panel],
        figures: &Figures,
    ) {
        let mut all = self.kept();
        if all.len() >= KEPT_AT_MOST {
            all.remove(0);
        }
        all.push(Kept {
            orgs: orgs.to_vec(),
            threshold,
            panels,
            at: Instant::now(),
            figures: figures.clone(),
        });
    }
}

impl Services {
    async fn rows<T: FromQueryResult>(&self, st: Statement) -> Result<Vec<T>> {
        Ok(T::find_by_statement(st).all(&self.db).await?)
    }

    /// The signed-in user's dashboard (see the module's documentation). One audit entry
    /// for the read, naming no case; 403 for a role that has no dashboard.
    pub async fn dashboard(&self, actor: &Actor, route: Route<'_>) -> Result<Dashboard> {
        let org = organisation::Entity::find_by_id(actor.org_id)
            .first(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("organisation"))?;
        let kind = OrgKind::parse(&org.kind)?;
        let view: View = rules::view_for(actor.role, kind)
            .ok_or_else(|| ServiceError::Forbidden("your role has no dashboard".into()))?;
        // The role decides alone whether the dashboard may be read: the entry goes to the
        // writer first, and the answer waits for it below.
        let audited = self
            .audit
            .submit(vec![NewEntry::by(
                actor,
                None,
                Section::Caseload,
                AuditAction::Read,
                route,
            )])
            .await?;
        let orgs: Vec<i64> = match view.reach {
            Reach::Organisation => vec![org.id],
            Reach::Country => organisation::Entity::find()
                .filter(organisation::Column::Country.eq(org.country.as_str()))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|o| o.id)
                .collect(),
        };
        let threshold = view.threshold();
        let figures = match self.dashboards.get(&orgs, threshold, view.panels) {
            Some(f) => f,
            None => {
                let f = self.figures(&orgs, threshold, view).await?;
                self.dashboards.put(&orgs, threshold, view.panels, &f);
                f
            }
        };
        audited.durable().await?;
        Ok(Dashboard {
            reach: view.reach,
            organisation: (view.reach == Reach::Organisation).then(|| org.name.clone()),
            country: org.country.clone(),
            organisations: orgs.len() as u64,
            small_cell_threshold: threshold,
            as_of: figures.today,
            computed_at: figures.computed_at,
            months: figures.months,
            cases: figures.cases,
            identification: figures.identification,
            deadlines: figures.deadlines,
            returns: figures.returns,
            funds: figures.funds,
            follow_up: figures.follow_up,
        })
    }

    /// Every panel of `view` for these organisations, computed now.
    async fn figures(&self, orgs: &[i64], threshold: Option<u64>, view: View) -> Result<Figures> {
        let computed_at = Utc::now();
        let today = computed_at.date_naive();
        let (months, first) = months_back(today, MONTHS);
        let ctx = Ctx {
            backend: self.db.get_database_backend(),
            orgs: orgs.to_vec(),
            threshold,
            today,
            months,
            first,
        };
        let stages = if view.has(Panel::Cases) || view.has(Panel::Identification) {
            Some(self.stage_counts(&ctx).await?)
        } else {
            None
        };
        let cases = match (&stages, view.has(Panel::Cases)) {
            (Some(s), true) => Some(self.cases_panel(&ctx, s).await?),
            _ => None,
        };
        let identification = match (&stages, view.has(Panel::Identification)) {
            (Some(s), true) => Some(self.identification_panel(&ctx, s).await?),
            _ => None,
        };
        let returns_rows = if view.has(Panel::Returns) || view.has(Panel::Deadlines) {
            self.return_rows(&ctx).await?
        } else {
            Vec::new()
        };
        let deadlines = if view.has(Panel::Deadlines) {
            Some(self.deadlines_panel(&ctx, &returns_rows).await?)
        } else {
            None
        };
        let returns = if view.has(Panel::Returns) {
            Some(self.returns_panel(&ctx, &returns_rows).await?)
        } else {
            None
        };
        let funds = if view.has(Panel::Funds) {
            Some(self.funds_panel(&ctx).await?)
        } else {
            None
        };
        let follow_up = if view.has(Panel::FollowUp) {
            Some(self.follow_up_panel(&ctx).await?)
        } else {
            None
        };
        Ok(Figures {
            computed_at,
            today,
            months: ctx.months,
            cases,
            identification,
            deadlines,
            returns,
            funds,
            follow_up,
        })
    }
}

/// Is a return at `stage` since the day `since` (YYYY-MM-DD) past its stage's target?
fn stuck(stage: ReturnStage, since: &str, ctx: &Ctx) -> Result<bool> {
    let since = NaiveDate::parse_from_str(since.get(..10).unwrap_or(since), "%Y-%m-%d")
        .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("returns.stage_since: {e}")))?;
    Ok(return_clock(stage, since, since, None, ctx.today).stuck)
}

/// A median of days, hidden across organisations when it rests on fewer than 11.
fn median_days(hist: &[(i64, u64)], threshold: Option<u64>) -> MedianDays {
    let n = rules::histogram_len(hist);
    let value = cell(n, threshold);
    MedianDays {
        n: value,
        median_days: if value.is_shown() { median(hist) } else { None },
    }
}

/// Spending rows: the number of cases through the small-cell rule (a breakdown, whose
/// parts add up, when `breakdown`), and the amount only where that number is shown.
fn spending_rows(
    rows: &[(String, u64, i64)],
    threshold: Option<u64>,
    breakdown: bool,
) -> Vec<SpendingRow> {
    let counts: Vec<u64> = rows.iter().map(|r| r.1).collect();
    let cells = if breakdown {
        protect(&counts, threshold)
    } else {
        counts.iter().map(|n| cell(*n, threshold)).collect()
    };
    rows.iter()
        .zip(cells)
        .map(|((key, _, total), cases)| SpendingRow {
            key: key.clone(),
            spent_minor: cases.is_shown().then_some(*total),
            cases,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spending_is_withheld_with_its_small_number_of_cases() {
        let rows = vec![
            ("medical".to_owned(), 3u64, 50_000i64),
            ("shelter".to_owned(), 40, 900_000),
            ("travel".to_owned(), 12, 120_000),
        ];
        let own = spending_rows(&rows, None, true);
        assert!(own.iter().all(|r| r.spent_minor.is_some()));
        let across = spending_rows(&rows, Some(11), true);
        assert_eq!(across[0].cases, Cell::Below(11));
        assert_eq!(across[0].spent_minor, None);
        // The lone hidden category takes the smallest shown one with it.
        assert_eq!(across[2].cases, Cell::Withheld);
        assert_eq!(across[2].spent_minor, None);
        assert_eq!(across[1].spent_minor, Some(900_000));
    }

    #[test]
    fn a_median_over_few_is_hidden_across_organisations() {
        let hist = [(3, 4), (9, 5)];
        assert_eq!(median_days(&hist, None).median_days, Some(9.0));
        let across = median_days(&hist, Some(11));
        assert_eq!((across.n, across.median_days), (Cell::Below(11), None));
    }
}
