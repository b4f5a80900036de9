//! The dashboard's panels, each counted by a few `GROUP BY` statements.

use super::sql::*;
use super::*;

impl Services {
    /// How many cases the organisations own at each stage (`idx_cases_owner_stage`).
    pub(super) async fn stage_counts(&self, ctx: &Ctx) -> Result<Vec<(Stage, u64)>> {
        let mut q = ctx.sql();
        let scope = q.orgs("owner_org_id", &ctx.orgs);
        let sql = format!(
            "SELECT stage AS key, CAST(COUNT(*) AS BIGINT) AS n FROM cases WHERE {scope} GROUP BY stage"
        );
        let rows: Vec<KeyCount> = self.rows(q.statement(sql)).await?;
        Ok(Stage::ALL
            .iter()
            .map(|s| {
                let n = rows
                    .iter()
                    .filter(|r| r.key == s.as_str())
                    .map(|r| count(r.n))
                    .sum();
                (*s, n)
            })
            .collect())
    }

    pub(super) async fn cases_panel(
        &self,
        ctx: &Ctx,
        stages: &[(Stage, u64)],
    ) -> Result<CasesPanel> {
        let counts: Vec<u64> = stages.iter().map(|(_, n)| *n).collect();
        let by_stage = stages
            .iter()
            .zip(protect(&counts, ctx.threshold))
            .map(|((s, _), value)| Bucket {
                key: s.as_str().to_owned(),
                value,
            })
            .collect();
        // No index holds the referral time: reading the table straight through (`+`: not
        // through the organisation's index, then each row) is the cheaper way on SQLite.
        let mut q = ctx.sql();
        let month = q.month_of_time("created_at");
        let scope = q.orgs("+owner_org_id", &ctx.orgs);
        let since = q.time_from("created_at", ctx.first);
        let sql = format!(
            "SELECT {month} AS key, CAST(COUNT(*) AS BIGINT) AS n FROM cases \
             WHERE {scope} AND {since} GROUP BY {month}"
        );
        let rows: Vec<KeyCount> = self.rows(q.statement(sql)).await?;
        let pairs: Vec<(String, u64)> = rows.into_iter().map(|r| (r.key, count(r.n))).collect();
        let by_month = ctx
            .months
            .iter()
            .zip(rules::by_month(&ctx.months, &pairs))
            .map(|(m, n)| Bucket {
                key: m.clone(),
                value: cell(n, ctx.threshold),
            })
            .collect();
        Ok(CasesPanel { by_stage, by_month })
    }

    /// Each case with a determination by its latest trafficking and smuggling status and
    /// the days from its referral to its first decision, grouped: one pass over the
    /// determinations, each case then looked up by its key for its organisation and
    /// referral day.
    pub(super) async fn identification_panel(
        &self,
        ctx: &Ctx,
        stages: &[(Stage, u64)],
    ) -> Result<IdentificationPanel> {
        let decisive = literals(
            TraffickingStatus::ALL
                .iter()
                .filter(|s| Outcome::decides(Some(**s)))
                .map(|s| s.as_str()),
        );
        let mut q = ctx.sql();
        let days = q.days_since_time("x.first_on", "c.created_at");
        let scope = q.orgs("c.owner_org_id", &ctx.orgs);
        // The latest determination of a kind is the greatest "decided_on, recorded_at |
        // status" (both dates are written so that their text sorts as they do): one
        // grouping of the determinations by case, no window and no sort per case.
        let (stamp, status_t, status_s) = if q.pg() {
            (
                "CAST(decided_on AS TEXT) || CAST(recorded_at AS TEXT) || '|' || status",
                "split_part(x.t, '|', 2)",
                "split_part(x.s, '|', 2)",
            )
        } else {
            (
                "decided_on || recorded_at || '|' || status",
                "substr(x.t, instr(x.t, '|') + 1)",
                "substr(x.s, instr(x.s, '|') + 1)",
            )
        };
        let sql = format!(
            "SELECT {status_t} AS t_status, {status_s} AS s_status, {days} AS days, CAST(COUNT(*) AS BIGINT) AS n \
             FROM (SELECT d.case_id AS case_id, MAX(d.t) AS t, MAX(d.s) AS s, MIN(d.first_on) AS first_on \
                   FROM (SELECT case_id, {stamp} AS t, NULL AS s, \
                           CASE WHEN status IN ({decisive}) THEN decided_on END AS first_on \
                         FROM trafficking_decisions \
                         UNION ALL \
                         SELECT case_id, NULL AS t, {stamp} AS s, decided_on AS first_on \
                         FROM smuggling_decisions) d \
                   GROUP BY d.case_id) x \
             JOIN cases c ON c.id = x.case_id \
             WHERE {scope} \
             GROUP BY {status_t}, {status_s}, {days}"
        );
        let rows: Vec<OutcomeRow> = self.rows(q.statement(sql)).await?;
        let mut by_outcome: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut hist: Vec<(i64, u64)> = Vec::new();
        let mut with_decisions = 0u64;
        for r in &rows {
            let t = r
                .t_status
                .as_deref()
                .map(TraffickingStatus::parse)
                .transpose()?;
            let s = r
                .s_status
                .as_deref()
                .map(SmugglingStatus::parse)
                .transpose()?;
            let n = count(r.n);
            with_decisions += n;
            *by_outcome.entry(Outcome::of(t, s).as_str()).or_default() += n;
            if let Some(d) = r.days {
                hist.push((d, n));
            }
        }
        let total: u64 = stages.iter().map(|(_, n)| *n).sum();
        *by_outcome.entry(Outcome::Awaiting.as_str()).or_default() +=
            total.saturating_sub(with_decisions);
        let counts: Vec<u64> = Outcome::ALL
            .iter()
            .map(|o| by_outcome.get(o.as_str()).copied().unwrap_or(0))
            .collect();
        let outcomes = Outcome::ALL
            .iter()
            .zip(protect(&counts, ctx.threshold))
            .map(|(o, value)| Bucket {
                key: o.as_str().to_owned(),
                value,
            })
            .collect();
        Ok(IdentificationPanel {
            outcomes,
            referral_to_decision: median_days(&hist, ctx.threshold),
        })
    }

    /// The returns of the organisations' cases and those they are the agency of, by
    /// stage and day the stage began, and whether the case is one of theirs and open.
    pub(super) async fn return_rows(&self, ctx: &Ctx) -> Result<Vec<ReturnRow>> {
        let mut q = ctx.sql();
        let since = q.day_of_time("r.stage_since");
        let own = q.orgs("c.owner_org_id", &ctx.orgs);
        let owner = q.orgs("c.owner_org_id", &ctx.orgs);
        let agency = q.orgs("r.agency_org_id", &ctx.orgs);
        let own_open =
            format!("CAST(CASE WHEN {own} AND c.closed_at IS NULL THEN 1 ELSE 0 END AS BIGINT)");
        let sql = format!(
            "SELECT r.stage AS stage, {since} AS since, {own_open} AS own_open, CAST(COUNT(*) AS BIGINT) AS n \
             FROM returns r JOIN cases c ON c.id = r.case_id \
             WHERE ({owner} OR {agency}) \
             GROUP BY r.stage, {since}, {own_open}"
        );
        self.rows(q.statement(sql)).await
    }

    pub(super) async fn deadlines_panel(
        &self,
        ctx: &Ctx,
        returns: &[ReturnRow],
    ) -> Result<DeadlinesPanel> {
        // `+c.owner_org_id`: SQLite then reads the deadlines and looks their cases up,
        // rather than every case of the organisation and their deadlines (an old trick;
        // on PostgreSQL a unary plus changes nothing).
        let mut q = ctx.sql();
        let scope = q.orgs("+c.owner_org_id", &ctx.orgs);
        let today = q.p(ctx.today);
        let sql = format!(
            "SELECT d.kind AS kind, c.stage AS stage, CAST(COUNT(*) AS BIGINT) AS n \
             FROM deadlines d JOIN cases c ON c.id = d.case_id \
             WHERE {scope} AND d.closed_at IS NULL AND d.due_on < {today} \
             GROUP BY d.kind, c.stage"
        );
        let stored: Vec<DeadlineRow> = self.rows(q.statement(sql)).await?;
        let stored_of = |kind: &str| -> Result<u64> {
            let mut n = 0;
            for r in stored.iter().filter(|r| r.kind == kind) {
                if crate::deadlines::applies(kind, Stage::parse(&r.stage)?) {
                    n += count(r.n);
                }
            }
            Ok(n)
        };
        // Unanswered citizenship confirmations past their date, on a live return (not
        // departed) of an open case of the organisations.
        let mut q = ctx.sql();
        let scope = q.orgs("+c.owner_org_id", &ctx.orgs);
        let pending = q.p(CitizenshipAnswer::Pending.as_str());
        let today = q.p(ctx.today);
        let sql = format!(
            "SELECT r.stage AS key, CAST(COUNT(*) AS BIGINT) AS n \
             FROM citizenship_requests q JOIN returns r ON r.id = q.return_id JOIN cases c ON c.id = r.case_id \
             WHERE {scope} AND c.closed_at IS NULL AND q.answer = {pending} AND q.due_on < {today} \
             GROUP BY r.stage"
        );
        let mut citizenship = 0u64;
        for r in self.rows::<KeyCount>(q.statement(sql)).await? {
            let stage = ReturnStage::parse(&r.key)?;
            if stage.is_open() && stage != ReturnStage::Departed {
                citizenship += count(r.n);
            }
        }
        // A return past its stage's target (as the deadlines list it: not once departed).
        let mut targets = 0u64;
        for r in returns.iter().filter(|r| r.own_open == 1) {
            let stage = ReturnStage::parse(&r.stage)?;
            if stage.is_open() && stage != ReturnStage::Departed && stuck(stage, &r.since, ctx)? {
                targets += count(r.n);
            }
        }
        let kinds = [
            (RECOVERY_PERIOD_END, stored_of(RECOVERY_PERIOD_END)?),
            (REASONABLE_GROUNDS_DUE, stored_of(REASONABLE_GROUNDS_DUE)?),
            (CITIZENSHIP_CONFIRMATION, citizenship),
            (RETURN_STAGE_TARGET, targets),
        ];
        let counts: Vec<u64> = kinds.iter().map(|(_, n)| *n).collect();
        Ok(DeadlinesPanel {
            overdue: kinds
                .iter()
                .zip(protect(&counts, ctx.threshold))
                .map(|((k, _), value)| Bucket {
                    key: (*k).to_owned(),
                    value,
                })
                .collect(),
        })
    }

    pub(super) async fn returns_panel(
        &self,
        ctx: &Ctx,
        returns: &[ReturnRow],
    ) -> Result<ReturnsPanel> {
        let mut all: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for r in returns {
            let stage = ReturnStage::parse(&r.stage)?;
            let e = all.entry(stage.as_str()).or_default();
            e.0 += count(r.n);
            if stuck(stage, &r.since, ctx)? {
                e.1 += count(r.n);
            }
        }
        let of = |s: ReturnStage| all.get(s.as_str()).copied().unwrap_or((0, 0));
        let totals: Vec<u64> = ReturnStage::ALL.iter().map(|s| of(*s).0).collect();
        let stuck_counts: Vec<u64> = ReturnStage::ALL.iter().map(|s| of(*s).1).collect();
        let stuck_total: u64 = stuck_counts.iter().sum();
        let by_stage = ReturnStage::ALL
            .iter()
            .zip(protect(&totals, ctx.threshold))
            .zip(protect(&stuck_counts, ctx.threshold))
            .map(|((s, returns), stuck)| ReturnStageRow {
                stage: *s,
                returns,
                stuck,
            })
            .collect();
        let mut q = ctx.sql();
        let days = q.days_between_dates("r.departed_on", "r.requested_on");
        let owner = q.orgs("c.owner_org_id", &ctx.orgs);
        let agency = q.orgs("r.agency_org_id", &ctx.orgs);
        let sql = format!(
            "SELECT {days} AS days, CAST(COUNT(*) AS BIGINT) AS n \
             FROM returns r JOIN cases c ON c.id = r.case_id \
             WHERE ({owner} OR {agency}) AND r.departed_on IS NOT NULL \
             GROUP BY {days}"
        );
        let hist: Vec<(i64, u64)> = self
            .rows::<DaysRow>(q.statement(sql))
            .await?
            .into_iter()
            .filter_map(|r| r.days.map(|d| (d, count(r.n))))
            .collect();
        Ok(ReturnsPanel {
            by_stage,
            stuck: cell(stuck_total, ctx.threshold),
            request_to_departure: median_days(&hist, ctx.threshold),
        })
    }

    pub(super) async fn funds_panel(&self, ctx: &Ctx) -> Result<FundsPanel> {
        let mut q = ctx.sql();
        let scope = q.orgs("holder_org_id", &ctx.orgs);
        let sql = format!(
            "SELECT currency, CAST(COUNT(*) AS BIGINT) AS funds, CAST(SUM(allocated) AS BIGINT) AS allocated, \
             CAST(SUM(committed_unspent) AS BIGINT) AS committed, CAST(SUM(pending) AS BIGINT) AS pending, \
             CAST(SUM(spent) AS BIGINT) AS spent \
             FROM funds WHERE {scope} GROUP BY currency ORDER BY currency"
        );
        let funds: Vec<FundRow> = self.rows(q.statement(sql)).await?;
        // Spending: the entries that move `spent` (spendings and their corrections), over
        // `idx_fund_entries_report`.
        let spending =
            "(e.kind = 'spending' OR (e.kind = 'correction' AND e.status = 'corrects_spending'))";
        let mut q = ctx.sql();
        let scope = q.orgs("f.holder_org_id", &ctx.orgs);
        let sql = format!(
            "SELECT f.currency AS currency, e.category AS key, CAST(COUNT(DISTINCT e.case_id) AS BIGINT) AS cases, \
             CAST(SUM(e.amount) AS BIGINT) AS total \
             FROM fund_entries e JOIN funds f ON f.id = e.fund_id \
             WHERE {scope} AND {spending} GROUP BY f.currency, e.category"
        );
        let by_category: Vec<SpendRow> = self.rows(q.statement(sql)).await?;
        let mut q = ctx.sql();
        let month = q.month_of_date("e.entry_on");
        let scope = q.orgs("f.holder_org_id", &ctx.orgs);
        let since = q.p(ctx.first);
        let sql = format!(
            "SELECT f.currency AS currency, {month} AS key, CAST(COUNT(DISTINCT e.case_id) AS BIGINT) AS cases, \
             CAST(SUM(e.amount) AS BIGINT) AS total \
             FROM fund_entries e JOIN funds f ON f.id = e.fund_id \
             WHERE {scope} AND {spending} AND e.entry_on >= {since} GROUP BY f.currency, {month}"
        );
        let by_month: Vec<SpendRow> = self.rows(q.statement(sql)).await?;
        let currencies = funds
            .into_iter()
            .map(|f| {
                let mut cats: Vec<(String, u64, i64)> = by_category
                    .iter()
                    .filter(|r| r.currency == f.currency)
                    .map(|r| (r.key.clone().unwrap_or_default(), count(r.cases), r.total))
                    .collect();
                cats.sort();
                let months: Vec<(String, u64, i64)> = ctx
                    .months
                    .iter()
                    .map(|m| {
                        by_month
                            .iter()
                            .find(|r| r.currency == f.currency && r.key.as_deref() == Some(m))
                            .map_or((m.clone(), 0, 0), |r| (m.clone(), count(r.cases), r.total))
                    })
                    .collect();
                CurrencyFunds {
                    currency: f.currency.clone(),
                    funds: count(f.funds),
                    allocated_minor: f.allocated,
                    committed_minor: f.committed,
                    pending_minor: f.pending,
                    spent_minor: f.spent,
                    available_minor: f.allocated - f.committed - f.spent,
                    by_category: spending_rows(&cats, ctx.threshold, true),
                    by_month: spending_rows(&months, ctx.threshold, false),
                }
            })
            .collect();
        Ok(FundsPanel { currencies })
    }

    pub(super) async fn follow_up_panel(&self, ctx: &Ctx) -> Result<FollowUpPanel> {
        let mut q = ctx.sql();
        let month = q.month_of_date("COALESCE(happened_on, due_on)");
        let scope = q.orgs("org_id", &ctx.orgs);
        let sql = format!(
            "SELECT status, {month} AS month, CAST(COUNT(*) AS BIGINT) AS n FROM follow_up_visits \
             WHERE {scope} AND status IN ('done', 'missed') GROUP BY status, {month}"
        );
        let visits: Vec<VisitRow> = self.rows(q.statement(sql)).await?;
        let of = |status: &str| -> Vec<(String, u64)> {
            visits
                .iter()
                .filter(|v| v.status == status)
                .map(|v| (v.month.clone(), count(v.n)))
                .collect()
        };
        let (done, missed) = (of("done"), of("missed"));
        let total = |rows: &[(String, u64)]| rows.iter().map(|r| r.1).sum::<u64>();
        let visits_by_month = ctx
            .months
            .iter()
            .zip(rules::by_month(&ctx.months, &done))
            .zip(rules::by_month(&ctx.months, &missed))
            .map(|((m, d), x)| VisitMonth {
                month: m.clone(),
                done: cell(d, ctx.threshold),
                missed: cell(x, ctx.threshold),
            })
            .collect();
        // Overdue: planned, past its date by more than the grace days, on an open case
        // (`crate::follow_up::is_overdue`).
        let grace = self.default_reintegration()?.visits.grace_days;
        let limit = ctx
            .today
            .checked_sub_days(Days::new(u64::from(grace)))
            .unwrap_or(ctx.today);
        let mut q = ctx.sql();
        let scope = q.orgs("v.org_id", &ctx.orgs);
        let limit = q.p(limit);
        let sql = format!(
            "SELECT 'overdue' AS key, CAST(COUNT(*) AS BIGINT) AS n FROM follow_up_visits v \
             JOIN cases c ON c.id = v.case_id \
             WHERE {scope} AND v.status = 'planned' AND v.due_on < {limit} AND c.closed_at IS NULL"
        );
        let overdue: u64 = self
            .rows::<KeyCount>(q.statement(sql))
            .await?
            .iter()
            .map(|r| count(r.n))
            .sum();
        let mut q = ctx.sql();
        let month = q.month_of_date("assessed_on");
        let scope = q.orgs("org_id", &ctx.orgs);
        let since = q.p(ctx.first);
        let avg = |c: &str| format!("CAST(AVG({c}) AS DOUBLE PRECISION) AS {c}");
        let sql = format!(
            "SELECT {month} AS month, CAST(COUNT(*) AS BIGINT) AS n, {}, {}, {}, {} \
             FROM reintegration_assessments WHERE {scope} AND assessed_on >= {since} GROUP BY {month}",
            avg("economic"),
            avg("social"),
            avg("psychosocial"),
            avg("composite"),
        );
        let scores: Vec<ScoreRow> = self.rows(q.statement(sql)).await?;
        let scores_by_month = ctx
            .months
            .iter()
            .map(|m| match scores.iter().find(|s| &s.month == m) {
                None => ScoreMonth {
                    month: m.clone(),
                    assessments: cell(0, ctx.threshold),
                    economic: None,
                    social: None,
                    psychosocial: None,
                    composite: None,
                },
                Some(s) => {
                    let n = count(s.n);
                    let keep = |v: Option<f64>| rules::mean_if_enough(v, n, ctx.threshold);
                    ScoreMonth {
                        month: m.clone(),
                        assessments: cell(n, ctx.threshold),
                        economic: keep(s.economic),
                        social: keep(s.social),
                        psychosocial: keep(s.psychosocial),
                        composite: keep(s.composite),
                    }
                }
            })
            .collect();
        Ok(FollowUpPanel {
            done: cell(total(&done), ctx.threshold),
            missed: cell(total(&missed), ctx.threshold),
            overdue: cell(overdue, ctx.threshold),
            visits_by_month,
            scores_by_month,
        })
    }
}
