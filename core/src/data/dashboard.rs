//! Dashboards (issue #14, point 1): what each role's dashboard shows, how far it reaches,
//! and the rules its figures follow. Pure: the use case
//! (`crate::service::data::dashboard`) counts in SQL and hands the counts to these
//! functions.
//!
//! - **Who sees what.** A dashboard shows what the role's work needs ([`view_for`]): an
//!   advocate the cases, identification, deadlines and returns of its organisation; a fund
//!   manager its organisation's funds; a follow-up officer its organisation's follow-up
//!   visits and reintegration scores; an organisation's administrator all of these for its
//!   organisation. An auditor, and the administrator of a state authority, see the same
//!   panels **across the organisations of their country**, where counts that could single
//!   a person out are shown as "< 11". Other roles (shelter coordinators, return officers)
//!   have their lists instead; a system administrator never sees case data, not even
//!   counted, and a statistician reads only the k-anonymised export.
//! - **Small cells** ([`protect`]): on a cross-organisation dashboard every count below
//!   [`SMALL_CELL`] is hidden by [`crate::data::kanon::small_cell`] (zero too: "nobody
//!   from X" is also a disclosure). A breakdown whose parts add up to something shown
//!   elsewhere (cases by stage and by identification outcome both add up to the cases)
//!   could give a lone hidden cell away by subtraction, so when exactly one cell of a
//!   breakdown is hidden, the smallest shown one is withheld too ([`Cell::Withheld`]), as
//!   statistical offices do ("secondary suppression"). No total is shown beside hidden
//!   cells. A median or a mean over fewer than 11 is not shown either.
//! - **Medians** ([`median`]) come from a histogram (value → how many), which SQL
//!   returns by `GROUP BY` without sending one row per case.
//! - **Months** ([`months_back`]) are the last twelve calendar months, the current one
//!   included, oldest first, each written `YYYY-MM`; months without anything count 0.

use crate::data::kanon::{CellValue, DEFAULT_K, small_cell};
use crate::domain::{Invalid, OrgKind, Role, str_enum};
use crate::identification::{SmugglingStatus, TraffickingStatus};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The threshold of a cross-organisation dashboard: CTDC's k (domain.md, "Data").
pub const SMALL_CELL: u64 = DEFAULT_K as u64;

/// How many months the monthly series cover.
pub const MONTHS: usize = 12;

str_enum!(
    /// A part of a dashboard.
    Panel, "panel" {
        Cases => "cases",
        Identification => "identification",
        Deadlines => "deadlines",
        Returns => "returns",
        Funds => "funds",
        FollowUp => "follow_up",
    }
);

str_enum!(
    /// Whose figures a dashboard counts: the actor's organisation, or every organisation
    /// of its country (small cells hidden).
    Reach, "reach" {
        Organisation => "organisation",
        Country => "country",
    }
);

/// What one actor's dashboard shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    pub reach: Reach,
    pub panels: &'static [Panel],
}

impl View {
    pub fn has(self, p: Panel) -> bool {
        self.panels.contains(&p)
    }
    /// The threshold below which counts are hidden (cross-organisation dashboards only).
    pub fn threshold(self) -> Option<u64> {
        (self.reach == Reach::Country).then_some(SMALL_CELL)
    }
}

const CASEWORK: &[Panel] = &[
    Panel::Cases,
    Panel::Identification,
    Panel::Deadlines,
    Panel::Returns,
];
const EVERYTHING: &[Panel] = Panel::ALL;

/// The dashboard of a role in an organisation of this kind; `None`: the role has none.
pub fn view_for(role: Role, org_kind: OrgKind) -> Option<View> {
    let own = |panels| {
        Some(View {
            reach: Reach::Organisation,
            panels,
        })
    };
    let country = Some(View {
        reach: Reach::Country,
        panels: EVERYTHING,
    });
    match role {
        Role::Advocate => own(CASEWORK),
        Role::FundManager => own(&[Panel::Funds]),
        Role::FollowUpOfficer => own(&[Panel::FollowUp]),
        Role::OrgAdmin if org_kind == OrgKind::StateAuthority => country,
        Role::OrgAdmin => own(EVERYTHING),
        Role::Auditor => country,
        // A statistician sees only the k-anonymised statistics export (issue 14, point 2);
        // a system administrator runs the deployment.
        Role::ShelterCoordinator | Role::ReturnOfficer | Role::SystemAdmin | Role::Statistician => {
            None
        }
    }
}

/// Does this role have a dashboard in some organisation (the link in the page header)?
pub fn has_dashboard(role: Role) -> bool {
    OrgKind::ALL.iter().any(|k| view_for(role, *k).is_some())
}

/// One count as a dashboard shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Cell {
    /// The count.
    Count(u64),
    /// Fewer than this many (a small cell across organisations, shown "< 11").
    Below(u64),
    /// Not small, but withheld so that a hidden cell beside it cannot be worked out from
    /// a total.
    Withheld,
}

impl Cell {
    /// The count when it is shown.
    pub fn count(self) -> Option<u64> {
        match self {
            Cell::Count(n) => Some(n),
            _ => None,
        }
    }
    pub fn is_shown(self) -> bool {
        matches!(self, Cell::Count(_))
    }
}

impl From<CellValue> for Cell {
    fn from(v: CellValue) -> Self {
        match v {
            CellValue::Count(n) => Cell::Count(n),
            CellValue::Below(t) => Cell::Below(t),
        }
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Count(n) => write!(f, "{n}"),
            Cell::Below(t) => write!(f, "< {t}"),
            Cell::Withheld => f.write_str("×"),
        }
    }
}

/// One count, shown whole (`threshold` None: the organisation's own dashboard) or, across
/// organisations, through the small-cell rule.
pub fn cell(count: u64, threshold: Option<u64>) -> Cell {
    match threshold {
        None => Cell::Count(count),
        Some(t) => small_cell(count, t).into(),
    }
}

/// The cells of one breakdown (counts whose sum may be known): each through the
/// small-cell rule, and, when exactly one of them is hidden, the smallest shown one
/// withheld as well (ties: the first), so that no hidden count can be found by
/// subtraction. Without a threshold every count is shown.
pub fn protect(counts: &[u64], threshold: Option<u64>) -> Vec<Cell> {
    let mut cells: Vec<Cell> = counts.iter().map(|n| cell(*n, threshold)).collect();
    let hidden = cells.iter().filter(|c| !c.is_shown()).count();
    if hidden == 1 {
        let smallest = cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.count().map(|n| (n, i)))
            .min();
        if let Some((_, i)) = smallest {
            cells[i] = Cell::Withheld;
        }
    }
    cells
}

/// The median of a histogram of `(value, how many)` rows (any order; rows with 0 are
/// ignored): the middle value, or the mean of the two middle ones. `None` when empty.
pub fn median(histogram: &[(i64, u64)]) -> Option<f64> {
    let mut rows: Vec<(i64, u64)> = histogram.iter().copied().filter(|r| r.1 > 0).collect();
    rows.sort_unstable();
    let n: u64 = rows.iter().map(|r| r.1).sum();
    if n == 0 {
        return None;
    }
    // The values at positions (n-1)/2 and n/2, counting from 0.
    let at = |k: u64| {
        let mut seen = 0u64;
        for (v, c) in &rows {
            seen += c;
            if k < seen {
                return *v;
            }
        }
        rows.last().map_or(0, |r| r.0)
    };
    let (lo, hi) = (at((n - 1) / 2), at(n / 2));
    Some((lo as f64 + hi as f64) / 2.0)
}

/// How many values a histogram holds.
pub fn histogram_len(histogram: &[(i64, u64)]) -> u64 {
    histogram.iter().map(|r| r.1).sum()
}

/// The first day of the month of `day`.
pub fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// `YYYY-MM` of a day.
pub fn month_key(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

/// The last `n` months up to `today`'s, oldest first, as `YYYY-MM`, and the first day of
/// the oldest (where the monthly counts start).
pub fn months_back(today: NaiveDate, n: usize) -> (Vec<String>, NaiveDate) {
    let mut first = month_start(today);
    let mut out = vec![month_key(first)];
    for _ in 1..n.max(1) {
        first = month_start(first.pred_opt().unwrap_or(first));
        out.push(month_key(first));
    }
    out.reverse();
    (out, first)
}

/// Counts per month laid on `months` (zero where a month has none; months outside are
/// dropped).
pub fn by_month(months: &[String], rows: &[(String, u64)]) -> Vec<u64> {
    months
        .iter()
        .map(|m| rows.iter().filter(|(k, _)| k == m).map(|(_, n)| n).sum())
        .collect()
}

str_enum!(
    /// Where identification stands for a case: the two determinations are separate
    /// (domain.md), so a person may be a victim of trafficking, a smuggled migrant, both
    /// or neither; `awaiting` has no decision yet (or only "possible": indicators, not a
    /// determination).
    Outcome, "outcome" {
        Trafficking => "trafficking",
        Smuggling => "smuggling",
        Both => "both",
        Neither => "neither",
        Awaiting => "awaiting",
    }
);

impl Outcome {
    /// The outcome from the latest trafficking and smuggling determinations of a case. A
    /// victim of trafficking is presumed (reasonable grounds) or confirmed (conclusive
    /// grounds).
    pub fn of(trafficking: Option<TraffickingStatus>, smuggling: Option<SmugglingStatus>) -> Self {
        use TraffickingStatus as T;
        let victim = matches!(trafficking, Some(T::Presumed | T::Confirmed));
        let smuggled = smuggling == Some(SmugglingStatus::SmuggledMigrant);
        let decided = matches!(
            trafficking,
            Some(T::Presumed | T::Confirmed | T::NotAVictim)
        ) || smuggling.is_some();
        match (victim, smuggled) {
            (true, true) => Outcome::Both,
            (true, false) => Outcome::Trafficking,
            (false, true) => Outcome::Smuggling,
            (false, false) if decided => Outcome::Neither,
            (false, false) => Outcome::Awaiting,
        }
    }

    /// Is this determination a decision (the start of the "referral to decision" time)?
    /// "Possible" records indicators, not a determination.
    pub fn decides(trafficking: Option<TraffickingStatus>) -> bool {
        trafficking.is_some_and(|t| t != TraffickingStatus::Possible)
    }
}

/// A mean over `n` values, shown only when `n` is at least the threshold.
pub fn mean_if_enough(mean: Option<f64>, n: u64, threshold: Option<u64>) -> Option<f64> {
    match threshold {
        Some(t) if n < t.max(crate::data::kanon::MIN_K as u64) => None,
        _ => mean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn each_role_sees_what_its_work_needs() {
        let v = |r, k| view_for(r, k);
        let ngo = OrgKind::VictimAdvocacy;
        assert_eq!(
            v(Role::Advocate, ngo),
            Some(View {
                reach: Reach::Organisation,
                panels: CASEWORK
            })
        );
        assert!(!v(Role::Advocate, ngo).is_some_and(|x| x.has(Panel::Funds)));
        assert_eq!(
            v(Role::FundManager, ngo).map(|x| x.panels),
            Some(&[Panel::Funds][..])
        );
        assert_eq!(
            v(Role::FollowUpOfficer, OrgKind::OriginService).map(|x| x.panels),
            Some(&[Panel::FollowUp][..])
        );
        let admin = v(Role::OrgAdmin, ngo);
        assert_eq!(admin.map(|x| x.reach), Some(Reach::Organisation));
        assert_eq!(admin.map(|x| x.panels.len()), Some(Panel::ALL.len()));
        assert_eq!(admin.and_then(|x| x.threshold()), None);
        // Across organisations: the state authority's administrator and every auditor.
        for (r, k) in [
            (Role::OrgAdmin, OrgKind::StateAuthority),
            (Role::Auditor, OrgKind::StateAuthority),
            (Role::Auditor, ngo),
        ] {
            let x = v(r, k);
            assert_eq!(x.map(|x| x.reach), Some(Reach::Country), "{r} {k}");
            assert_eq!(x.and_then(|x| x.threshold()), Some(11));
        }
        for r in [
            Role::SystemAdmin,
            Role::Statistician,
            Role::ShelterCoordinator,
            Role::ReturnOfficer,
        ] {
            for k in OrgKind::ALL {
                assert_eq!(v(r, *k), None, "{r} {k}");
            }
            assert!(!has_dashboard(r));
        }
        assert!(has_dashboard(Role::Advocate) && has_dashboard(Role::Auditor));
    }

    #[test]
    fn small_cells_are_hidden_only_across_organisations() {
        assert_eq!(cell(3, None), Cell::Count(3));
        assert_eq!(cell(0, None), Cell::Count(0));
        assert_eq!(cell(10, Some(11)), Cell::Below(11));
        assert_eq!(cell(0, Some(11)), Cell::Below(11));
        assert_eq!(cell(11, Some(11)), Cell::Count(11));
        assert_eq!(
            cell(4, Some(2)),
            Cell::Below(5),
            "never below kanon's MIN_K"
        );
        assert_eq!(Cell::Below(11).to_string(), "< 11");
        assert_eq!(Cell::Count(42).to_string(), "42");
    }

    #[test]
    fn a_lone_hidden_cell_takes_the_smallest_shown_one_with_it() {
        let t = Some(11);
        assert_eq!(
            protect(&[40, 3, 25, 12], t),
            vec![
                Cell::Count(40),
                Cell::Below(11),
                Cell::Count(25),
                Cell::Withheld
            ]
        );
        // Two hidden already: nothing more to withhold.
        assert_eq!(
            protect(&[40, 3, 0, 12], t),
            vec![
                Cell::Count(40),
                Cell::Below(11),
                Cell::Below(11),
                Cell::Count(12)
            ]
        );
        // Nothing hidden, or nothing else to withhold.
        assert_eq!(
            protect(&[20, 30], t),
            vec![Cell::Count(20), Cell::Count(30)]
        );
        assert_eq!(protect(&[2], t), vec![Cell::Below(11)]);
        // On an organisation's own dashboard everything is shown.
        assert_eq!(protect(&[3, 0], None), vec![Cell::Count(3), Cell::Count(0)]);
    }

    #[test]
    fn no_hidden_cell_can_be_worked_out_from_the_total() {
        // Whatever the counts, a protected breakdown never has exactly one cell that is
        // not shown: with the total known, one unknown would be found by subtraction.
        for a in [0u64, 4, 11, 30] {
            for b in [0u64, 7, 11, 50] {
                for c in [1u64, 10, 12, 90] {
                    let cells = protect(&[a, b, c], Some(11));
                    let unknown = cells.iter().filter(|x| !x.is_shown()).count();
                    assert_ne!(unknown, 1, "{a} {b} {c}: {cells:?}");
                    for (n, x) in [a, b, c].iter().zip(&cells) {
                        if let Cell::Count(shown) = x {
                            assert_eq!(shown, n);
                            assert!(*n >= 11);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_median_of_a_histogram() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[(5, 0)]), None);
        assert_eq!(median(&[(7, 1)]), Some(7.0));
        // 1, 2, 2, 9: between 2 and 2.
        assert_eq!(median(&[(9, 1), (2, 2), (1, 1)]), Some(2.0));
        // 1, 3: 2.
        assert_eq!(median(&[(3, 1), (1, 1)]), Some(2.0));
        // 10 × 4 and 11 × 6: the 5th and 6th of 10 are 11 and 11.
        assert_eq!(median(&[(4, 10), (6, 11)].map(|(n, v)| (v, n))), Some(11.0));
        assert_eq!(histogram_len(&[(1, 3), (2, 4)]), 7);
    }

    proptest::proptest! {
        #[test]
        fn the_histogram_median_is_the_median_of_the_values(values in proptest::collection::vec(-50i64..400, 1..60)) {
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let n = sorted.len();
            let want = (sorted[(n - 1) / 2] as f64 + sorted[n / 2] as f64) / 2.0;
            let mut hist: Vec<(i64, u64)> = Vec::new();
            for v in &values {
                match hist.iter_mut().find(|r| r.0 == *v) {
                    Some(r) => r.1 += 1,
                    None => hist.push((*v, 1)),
                }
            }
            proptest::prop_assert_eq!(median(&hist), Some(want));
        }
    }

    #[test]
    fn twelve_months_back_oldest_first() {
        let (months, first) = months_back(d(2026, 3, 15), 12);
        assert_eq!(months.len(), 12);
        assert_eq!(months.first().map(String::as_str), Some("2025-04"));
        assert_eq!(months.last().map(String::as_str), Some("2026-03"));
        assert_eq!(first, d(2025, 4, 1));
        let (one, first) = months_back(d(2026, 1, 1), 1);
        assert_eq!((one, first), (vec!["2026-01".to_owned()], d(2026, 1, 1)));
        let counts = by_month(
            &months,
            &[
                ("2026-03".into(), 4),
                ("2025-04".into(), 1),
                ("2024-12".into(), 9),
            ],
        );
        assert_eq!(counts.len(), 12);
        assert_eq!(
            (counts[0], counts[11], counts.iter().sum::<u64>()),
            (1, 4, 5)
        );
    }

    #[test]
    fn the_two_determinations_make_the_outcome() {
        use SmugglingStatus as S;
        use TraffickingStatus as T;
        assert_eq!(Outcome::of(None, None), Outcome::Awaiting);
        assert_eq!(Outcome::of(Some(T::Possible), None), Outcome::Awaiting);
        assert_eq!(Outcome::of(Some(T::Presumed), None), Outcome::Trafficking);
        assert_eq!(
            Outcome::of(Some(T::Confirmed), Some(S::NotSmuggled)),
            Outcome::Trafficking
        );
        assert_eq!(
            Outcome::of(Some(T::Confirmed), Some(S::SmuggledMigrant)),
            Outcome::Both
        );
        assert_eq!(
            Outcome::of(None, Some(S::SmuggledMigrant)),
            Outcome::Smuggling
        );
        assert_eq!(
            Outcome::of(Some(T::NotAVictim), Some(S::SmuggledMigrant)),
            Outcome::Smuggling
        );
        assert_eq!(Outcome::of(Some(T::NotAVictim), None), Outcome::Neither);
        assert_eq!(
            Outcome::of(Some(T::Possible), Some(S::NotSmuggled)),
            Outcome::Neither
        );
        assert!(!Outcome::decides(Some(T::Possible)) && Outcome::decides(Some(T::NotAVictim)));
    }

    #[test]
    fn means_over_few_are_not_shown_across_organisations() {
        assert_eq!(mean_if_enough(Some(0.5), 3, None), Some(0.5));
        assert_eq!(mean_if_enough(Some(0.5), 10, Some(11)), None);
        assert_eq!(mean_if_enough(Some(0.5), 11, Some(11)), Some(0.5));
        assert_eq!(mean_if_enough(None, 40, Some(11)), None);
    }
}
