//! The dashboard (issue 14, point 1): `GET /dashboard`, the page of the signed-in user's
//! role (charts drawn on the server as SVG, each with the same numbers in a table), and
//! `GET /api/v1/dashboard`, the same figures as JSON. Both call
//! `Services::dashboard`; what each role sees is `passerelle_core::data::dashboard`.

use crate::chart::{Bar, Columns, Series, bars_svg, columns_svg, scores_svg};
use crate::http::{ApiAuth, ApiError, PageError, Signed, ok, route};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use passerelle_core::data::dashboard::{Cell, Reach};
use passerelle_core::funding::{Currency, format_decimal};
use passerelle_core::service::data::dashboard::{
    Bucket, CasesPanel, CurrencyFunds, Dashboard, DeadlinesPanel, FollowUpPanel, FundsPanel,
    IdentificationPanel, MedianDays, ReturnStageRow, ReturnsPanel, ScoreMonth, SpendingRow,
    VisitMonth,
};
use serde_json::{Value, json};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    paths(dashboard_api),
    components(schemas(
        Dashboard,
        Reach,
        Cell,
        Bucket,
        MedianDays,
        CasesPanel,
        IdentificationPanel,
        DeadlinesPanel,
        ReturnStageRow,
        ReturnsPanel,
        SpendingRow,
        CurrencyFunds,
        FundsPanel,
        VisitMonth,
        ScoreMonth,
        FollowUpPanel
    ))
)]
pub struct Doc;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/dashboard", web::get().to(dashboard_page));
}

pub fn configure_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/dashboard", web::get().to(dashboard_api));
}

/// The signed-in user's dashboard: the figures its role's work needs, for its
/// organisation (an advocate: cases, identification, overdue deadlines, returns; a fund
/// manager: funds; a follow-up officer: visits and reintegration scores; an
/// administrator: all of these) or, for an auditor and a state authority's
/// administrator, across the organisations of its country, where every count below 11
/// is `{"kind": "below", "value": 11}` (and one more is `withheld` where a lone hidden
/// count could be worked out from a total). Counts only: no case and no person is named.
/// 403 for a role without a dashboard.
#[utoipa::path(get, path = "/api/v1/dashboard", responses((status = 200, body = Dashboard)))]
async fn dashboard_api(a: ApiAuth, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Ok(ok(
        StatusCode::OK,
        &a.services().dashboard(a.actor(), &route(&req)).await?,
    ))
}

async fn dashboard_page(s: Signed, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let d = s
        .services()
        .dashboard(s.actor(), &route(&req))
        .await
        .map_err(|e| s.page.service_error(e))?;
    let mut data = s.page.base("dashboard-title");
    if let Some(o) = data.as_object_mut() {
        o.insert("dashboard".into(), Words { s: &s, d: &d }.page());
    }
    Ok(s.page.ok("dashboard", data))
}

/// The dashboard in the reader's words: text, tables and charts.
struct Words<'a> {
    s: &'a Signed,
    d: &'a Dashboard,
}

impl Words<'_> {
    fn t(&self, key: &str) -> String {
        self.s.page.t(key)
    }

    /// A count as the page writes it: the number, "< 11", or "withheld".
    fn cell(&self, c: Cell) -> String {
        match c {
            Cell::Withheld => self.t("dashboard-withheld"),
            other => other.to_string(),
        }
    }

    /// A number in the reader's language (a decimal comma in French).
    fn number(&self, v: f64) -> String {
        let text = if (v - v.round()).abs() < 1e-9 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        };
        if self.s.page.lang == "fr" {
            text.replace('.', ",")
        } else {
            text
        }
    }

    fn money(&self, minor: i64, currency: &str) -> String {
        match Currency::parse(currency) {
            Ok(c) => crate::routes::funding::money(self.s.page.lang, minor, c),
            Err(_) => format!("{minor} {currency}"),
        }
    }

    /// "March 2026" (tables) from `YYYY-MM`.
    fn month_long(&self, key: &str) -> String {
        match key.split_once('-') {
            Some((y, m)) => format!("{} {y}", self.t(&format!("dashboard-month-{m}"))),
            None => key.to_owned(),
        }
    }

    /// The month's short name, with the year under the first month and under January
    /// (chart axes).
    fn month_axis(&self, i: usize, key: &str) -> String {
        match key.split_once('-') {
            Some((y, m)) => {
                let name = self.t(&format!("dashboard-month-short-{m}"));
                if i == 0 || m == "01" {
                    format!("{name}\n{y}")
                } else {
                    name
                }
            }
            None => key.to_owned(),
        }
    }

    fn median(&self, m: &MedianDays, key: &str) -> Value {
        let text = match m.median_days {
            Some(days) => self.s.page.t_args(
                key,
                &[
                    ("n", json!(days)),
                    ("days", json!(self.number(days))),
                    ("count", json!(self.cell(m.n))),
                ],
            ),
            None => self
                .s
                .page
                .t_args(&format!("{key}-none"), &[("count", json!(self.cell(m.n)))]),
        };
        json!({"text": text, "shown": m.median_days.is_some()})
    }

    /// Rows of a breakdown with its bar chart.
    fn breakdown(&self, title_key: &str, rows: &[(String, Cell)]) -> Value {
        let bars: Vec<Bar> = rows
            .iter()
            .map(|(label, c)| Bar {
                label: label.clone(),
                value: c.count().map(|n| n as f64),
                text: self.cell(*c),
            })
            .collect();
        json!({
            "chart": bars_svg(&self.t(title_key), &bars),
            "rows": rows.iter().map(|(label, c)| json!({"label": label, "value": self.cell(*c)})).collect::<Vec<_>>(),
        })
    }

    fn months_chart(&self, title_key: &str, series: Vec<(String, Vec<Cell>)>) -> String {
        let labels: Vec<String> = self
            .d
            .months
            .iter()
            .enumerate()
            .map(|(i, m)| self.month_axis(i, m))
            .collect();
        let cols: Vec<Columns> = series
            .into_iter()
            .map(|(label, cells)| Columns {
                label,
                values: cells.iter().map(|c| c.count().map(|n| n as f64)).collect(),
            })
            .collect();
        columns_svg(
            &self.t(title_key),
            &labels,
            &cols,
            &format!("< {}", self.threshold()),
        )
    }

    fn threshold(&self) -> u64 {
        self.d
            .small_cell_threshold
            .unwrap_or(passerelle_core::data::dashboard::SMALL_CELL)
    }

    fn page(&self) -> Value {
        let d = self.d;
        let scope = match (d.reach, &d.organisation) {
            (Reach::Organisation, Some(name)) => self
                .s
                .page
                .t_args("dashboard-scope-organisation", &[("org", json!(name))]),
            _ => self.s.page.t_args(
                "dashboard-scope-country",
                &[("country", json!(d.country)), ("n", json!(d.organisations))],
            ),
        };
        json!({
            "scope": scope,
            "as_of": d.computed_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            "across": d.reach == Reach::Country,
            "small_cells": self.s.page.t_args("dashboard-small-cells", &[("k", json!(self.threshold()))]),
            "cases": d.cases.as_ref().map(|c| self.cases(c)),
            "identification": d.identification.as_ref().map(|i| self.identification(i)),
            "deadlines": d.deadlines.as_ref().map(|x| self.deadlines(x)),
            "returns": d.returns.as_ref().map(|r| self.returns(r)),
            "funds": d.funds.as_ref().map(|f| self.funds(f)),
            "follow_up": d.follow_up.as_ref().map(|f| self.follow_up(f)),
        })
    }

    fn cases(&self, c: &CasesPanel) -> Value {
        let stages: Vec<(String, Cell)> = c
            .by_stage
            .iter()
            .map(|b| (self.t(&format!("stage-{}", b.key)), b.value))
            .collect();
        json!({
            "by_stage": self.breakdown("dashboard-cases-by-stage", &stages),
            "by_month": {
                "chart": self.months_chart(
                    "dashboard-cases-by-month",
                    vec![(self.t("dashboard-cases"), c.by_month.iter().map(|b| b.value).collect())],
                ),
                "rows": c.by_month.iter().map(|b| json!({"label": self.month_long(&b.key), "value": self.cell(b.value)})).collect::<Vec<_>>(),
            },
        })
    }

    fn identification(&self, i: &IdentificationPanel) -> Value {
        let rows: Vec<(String, Cell)> = i
            .outcomes
            .iter()
            .map(|b| (self.t(&format!("dashboard-outcome-{}", b.key)), b.value))
            .collect();
        json!({
            "outcomes": self.breakdown("dashboard-outcomes", &rows),
            "median": self.median(&i.referral_to_decision, "dashboard-median-decision"),
        })
    }

    fn deadlines(&self, x: &DeadlinesPanel) -> Value {
        let rows: Vec<(String, Cell)> = x
            .overdue
            .iter()
            .map(|b| (self.t(&format!("deadline-{}", b.key)), b.value))
            .collect();
        json!({"overdue": self.breakdown("dashboard-overdue", &rows)})
    }

    fn returns(&self, r: &ReturnsPanel) -> Value {
        let label = |s: &ReturnStageRow| self.t(&format!("return-stage-{}", s.stage.as_str()));
        let bars: Vec<Bar> = r
            .by_stage
            .iter()
            .map(|s| Bar {
                label: label(s),
                value: s.returns.count().map(|n| n as f64),
                text: self.cell(s.returns),
            })
            .collect();
        json!({
            "chart": bars_svg(&self.t("dashboard-returns-by-stage"), &bars),
            "rows": r.by_stage.iter().map(|s| json!({
                "label": label(s), "returns": self.cell(s.returns), "stuck": self.cell(s.stuck),
            })).collect::<Vec<_>>(),
            "stuck": self.cell(r.stuck),
            "median": self.median(&r.request_to_departure, "dashboard-median-departure"),
        })
    }

    fn funds(&self, f: &FundsPanel) -> Value {
        let currencies: Vec<Value> = f
            .currencies
            .iter()
            .map(|c| {
                let cur = c.currency.as_str();
                let major = |minor: i64| {
                    Currency::parse(cur).map_or(minor as f64, |k| {
                        format_decimal(minor, k).parse::<f64>().unwrap_or(minor as f64)
                    })
                };
                let spent_text = |r: &SpendingRow| match r.spent_minor {
                    Some(m) => self.money(m, cur),
                    None => self.t("dashboard-withheld"),
                };
                let bars: Vec<Bar> = c
                    .by_category
                    .iter()
                    .map(|r| Bar {
                        label: self.t(&format!("cost-{}", r.key)),
                        value: r.spent_minor.map(major),
                        text: spent_text(r),
                    })
                    .collect();
                let labels: Vec<String> = c
                    .by_month
                    .iter()
                    .enumerate()
                    .map(|(i, r)| self.month_axis(i, &r.key))
                    .collect();
                let month_chart = columns_svg(
                    &self
                        .s
                        .page
                        .t_args("dashboard-spending-by-month", &[("currency", json!(cur))]),
                    &labels,
                    &[Columns {
                        label: self.t("fund-spent"),
                        values: c.by_month.iter().map(|r| r.spent_minor.map(major)).collect(),
                    }],
                    &self.t("dashboard-withheld"),
                );
                json!({
                    "currency": cur,
                    "funds": c.funds,
                    "allocated": self.money(c.allocated_minor, cur),
                    "committed": self.money(c.committed_minor, cur),
                    "pending": self.money(c.pending_minor, cur),
                    "spent": self.money(c.spent_minor, cur),
                    "available": self.money(c.available_minor, cur),
                    "category_chart": bars_svg(
                        &self.s.page.t_args("dashboard-spending-by-category", &[("currency", json!(cur))]),
                        &bars,
                    ),
                    "categories": c.by_category.iter().map(|r| json!({
                        "label": self.t(&format!("cost-{}", r.key)), "spent": spent_text(r), "cases": self.cell(r.cases),
                    })).collect::<Vec<_>>(),
                    "month_chart": month_chart,
                    "months": c.by_month.iter().map(|r| json!({
                        "label": self.month_long(&r.key), "spent": spent_text(r), "cases": self.cell(r.cases),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({"currencies": currencies, "none": currencies.is_empty()})
    }

    fn follow_up(&self, f: &FollowUpPanel) -> Value {
        let visits_chart = self.months_chart(
            "dashboard-visits-by-month",
            vec![
                (
                    self.t("visit-status-done"),
                    f.visits_by_month.iter().map(|v| v.done).collect(),
                ),
                (
                    self.t("visit-status-missed"),
                    f.visits_by_month.iter().map(|v| v.missed).collect(),
                ),
            ],
        );
        let score = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |x| format!("{x:.2}"));
        let labels: Vec<String> = f
            .scores_by_month
            .iter()
            .enumerate()
            .map(|(i, m)| self.month_axis(i, &m.month))
            .collect();
        let pick = |get: fn(&ScoreMonth) -> Option<f64>| -> Vec<Option<f64>> {
            f.scores_by_month.iter().map(get).collect()
        };
        let series = vec![
            Series {
                class: "economic",
                label: self.t("dimension-economic"),
                points: pick(|m| m.economic),
            },
            Series {
                class: "social",
                label: self.t("dimension-social"),
                points: pick(|m| m.social),
            },
            Series {
                class: "psychosocial",
                label: self.t("dimension-psychosocial"),
                points: pick(|m| m.psychosocial),
            },
            Series {
                class: "composite",
                label: self.t("score-composite"),
                points: pick(|m| m.composite),
            },
        ];
        let any_score = f.scores_by_month.iter().any(|m| m.composite.is_some());
        json!({
            "done": self.cell(f.done),
            "missed": self.cell(f.missed),
            "overdue": self.cell(f.overdue),
            "visits_chart": visits_chart,
            "visits": f.visits_by_month.iter().map(|v| json!({
                "label": self.month_long(&v.month), "done": self.cell(v.done), "missed": self.cell(v.missed),
            })).collect::<Vec<_>>(),
            "scores_chart": any_score.then(|| scores_svg(&self.t("dashboard-scores-by-month"), &labels, &series)),
            "scores": f.scores_by_month.iter().map(|m| json!({
                "label": self.month_long(&m.month), "assessments": self.cell(m.assessments),
                "economic": score(m.economic), "social": score(m.social),
                "psychosocial": score(m.psychosocial), "composite": score(m.composite),
            })).collect::<Vec<_>>(),
        })
    }
}
