//! After return (issue #12; seed §31, §37, §40): the follow-up schedule and its visits,
//! repeated reintegration assessments scored on IOM's three dimensions, the alerts they
//! raise, and how a case is closed. Pure: no I/O, no clock; the service passes `today`.
//!
//! # Sources
//! The assessments follow the structure of IOM's **Reintegration Sustainability Survey**
//! (RSS): 15 indicators over three dimensions, economic, social and psychosocial, with a
//! scoring system giving scores per dimension; issue #12 adds a composite on 0–1 (Samuel
//! Hall / IOM, *Setting Standards for an Integrated Approach to Reintegration*, MEASURE
//! project, 2017,
//! <https://www.iom.int/news/new-iom-report-recommends-steps-strengthen-reintegration-programmes-returnees>;
//! IOM, *Reintegration Handbook*, 2019, section 2.2.5,
//! <https://reintegrationhb.iom.int/module/assessing-returnees-needs-and-skills>).
//! The sources that could be consulted do **not** give the question wording, the answer
//! scores, the weights or any threshold: those are data in `config/reintegration/rss.toml`
//! (Passerelle defaults, labelled as such, replaceable by a plugin), never constants here.
//! See `docs/reintegration-scoring.md`.
//!
//! # Scoring
//! Each answered indicator gives a value on 0–1 (the option's score, or a number mapped
//! linearly from its scale). A dimension score is the weighted mean of its answered
//! indicators (weights re-normalised over the answered ones); the composite is the
//! weighted mean of the dimensions that have a score (dimension weights re-normalised the
//! same way). Unanswered indicators ("don't know", "not applicable", or no answer) are
//! left out, and the coverage says how much of the set was answered.

use crate::domain::{Invalid, Stage, str_enum};
use crate::returns::Refusal;
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

fn refusal(rule: &str, message: impl Into<String>) -> Refusal {
    Refusal {
        rule: rule.into(),
        message: message.into(),
    }
}

/// Floating-point slack for threshold comparisons, so that 0.6 → 0.4 counts as a fall of
/// 0.2 although `0.6 - 0.4` is 0.19999999999999996 in binary.
const SLACK: f64 = 1e-9;

/// The most text a reason, note or action may hold (characters).
pub const MAX_TEXT: usize = 2000;

// ---------------------------------------------------------------------------------------
// 1. The schedule
// ---------------------------------------------------------------------------------------

/// The most visits one follow-up may plan (a bound on input, not a domain rule: monthly
/// visits for three years).
pub const MAX_VISITS: usize = 36;
/// The latest a visit may be planned, in days after arrival (about five years).
pub const MAX_OFFSET_DAYS: u32 = 1830;

/// The due dates of the follow-up visits: `arrival` plus each offset (the jurisdiction's
/// `follow_up_schedule_days`, by default 30, 90, 180 and 365). Ascending, without
/// duplicates; at least one visit, at most [`MAX_VISITS`], none later than
/// [`MAX_OFFSET_DAYS`] after arrival. Day 0 (a visit on the day of arrival) is allowed.
pub fn schedule(arrival: NaiveDate, offsets_days: &[u32]) -> Result<Vec<NaiveDate>, Invalid> {
    if offsets_days.is_empty() {
        return Err(Invalid::new(
            "offsets_days",
            "a follow-up needs at least one visit",
        ));
    }
    let mut days = offsets_days.to_vec();
    days.sort_unstable();
    days.dedup();
    if days.len() > MAX_VISITS {
        return Err(Invalid::new(
            "offsets_days",
            format!("at most {MAX_VISITS} visits may be planned"),
        ));
    }
    if let Some(&last) = days.last()
        && last > MAX_OFFSET_DAYS
    {
        return Err(Invalid::new(
            "offsets_days",
            format!(
                "a visit {last} days after arrival is too far ahead (at most {MAX_OFFSET_DAYS})"
            ),
        ));
    }
    days.iter()
        .map(|d| {
            arrival
                .checked_add_days(Days::new(u64::from(*d)))
                .ok_or_else(|| Invalid::new("offsets_days", "the date is out of range"))
        })
        .collect()
}

/// Plan more visits: the new due dates (ascending) for `more_offsets_days`, leaving out
/// those already in `existing` (the due dates of every visit of the follow-up, whatever
/// their status). Refused when a new date is before `today` (a visit planned in the past
/// would be overdue at once), when nothing new is asked, or when the follow-up would have
/// more than [`MAX_VISITS`] visits.
pub fn extend_schedule(
    arrival: NaiveDate,
    existing: &[NaiveDate],
    more_offsets_days: &[u32],
    today: NaiveDate,
) -> Result<Vec<NaiveDate>, Invalid> {
    let planned: BTreeSet<NaiveDate> = existing.iter().copied().collect();
    let new: Vec<NaiveDate> = schedule(arrival, more_offsets_days)?
        .into_iter()
        .filter(|d| !planned.contains(d))
        .collect();
    if let Some(past) = new.iter().find(|d| **d < today) {
        return Err(Invalid::new(
            "offsets_days",
            format!("{past} is already past: a new visit is due today or later"),
        ));
    }
    if new.is_empty() {
        return Err(Invalid::new(
            "offsets_days",
            "every requested visit is already planned",
        ));
    }
    if planned.len() + new.len() > MAX_VISITS {
        return Err(Invalid::new(
            "offsets_days",
            format!("at most {MAX_VISITS} visits may be planned"),
        ));
    }
    Ok(new)
}

// ---------------------------------------------------------------------------------------
// 2. Visits
// ---------------------------------------------------------------------------------------

str_enum!(
    /// How a visit took place.
    VisitMode, "mode" {
        InPerson => "in_person",
        Phone => "phone",
        Video => "video",
    }
);

/// Where a follow-up visit stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum VisitStatus {
    Planned,
    /// The visit took place: when, how and by whom (a user reference or the name of the
    /// origin-service worker).
    Done {
        on: NaiveDate,
        mode: VisitMode,
        by: String,
    },
    /// The person could not be met: when it was tried, and why.
    Missed {
        on: NaiveDate,
        reason: String,
    },
    /// The visit will not take place (e.g. replaced by another): why.
    Cancelled {
        reason: String,
    },
}

impl VisitStatus {
    pub fn name(&self) -> &'static str {
        match self {
            VisitStatus::Planned => "planned",
            VisitStatus::Done { .. } => "done",
            VisitStatus::Missed { .. } => "missed",
            VisitStatus::Cancelled { .. } => "cancelled",
        }
    }
    fn is_final(&self) -> bool {
        !matches!(self, VisitStatus::Planned)
    }
}

impl fmt::Display for VisitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A follow-up visit: its due date and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Visit {
    pub due_on: NaiveDate,
    pub status: VisitStatus,
}

/// A change asked for a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum VisitChange {
    /// Record what happened to a planned visit: done, missed or cancelled.
    Record { to: VisitStatus },
    /// Move a planned visit to another due date.
    Reschedule { due_on: NaiveDate },
    /// Fix a recorded outcome that was wrong (done ↔ missed, or its date, mode, visitor or
    /// reason). Needs a note saying what was wrong; the service keeps the old state in the
    /// audit trail.
    Correct { to: VisitStatus, note: String },
}

/// A required text: `rule` names the refusal when it is empty.
fn check_text(rule: &str, field: &str, text: &str) -> Result<(), Refusal> {
    if text.trim().is_empty() {
        return Err(refusal(rule, format!("the {field} is required")));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(refusal(
            "text_too_long",
            format!("the {field} may have at most {MAX_TEXT} characters"),
        ));
    }
    Ok(())
}

/// Check an outcome (done, missed, cancelled) against the arrival date and today.
fn check_outcome(to: &VisitStatus, arrival: NaiveDate, today: NaiveDate) -> Result<(), Refusal> {
    let dated = |on: NaiveDate| -> Result<(), Refusal> {
        if on < arrival {
            Err(refusal(
                "date_before_arrival",
                format!("{on} is before the person's arrival on {arrival}"),
            ))
        } else if on > today {
            Err(refusal(
                "date_in_future",
                format!(
                    "{on} is in the future: record a visit once it has happened or been missed"
                ),
            ))
        } else {
            Ok(())
        }
    };
    match to {
        VisitStatus::Planned => Err(refusal(
            "no_change",
            "the visit is already planned: record it as done, missed or cancelled",
        )),
        VisitStatus::Done { on, by, .. } => {
            dated(*on)?;
            check_text("visitor_required", "visitor", by)
        }
        VisitStatus::Missed { on, reason } => {
            dated(*on)?;
            check_text("reason_required", "reason", reason)
        }
        VisitStatus::Cancelled { reason } => check_text("reason_required", "reason", reason),
    }
}

/// May this change be made to this visit? `arrival` is the person's arrival in the
/// country of origin; `today` the current date.
///
/// - A planned visit is recorded as done (dated, not before arrival, not in the future,
///   with who made it), missed (dated the same way, with a reason) or cancelled (with a
///   reason), or rescheduled to a date not before arrival nor today.
/// - A recorded visit is final: it is never recorded again nor rescheduled. A mistake in a
///   done or missed visit is fixed by a **correction** (to done or missed only, with a
///   note), so that the record stays truthful and the change visible. A cancelled visit is
///   not corrected: plan a new visit instead (it would otherwise reopen a closed question
///   in silence). A correction to planned or cancelled is refused.
pub fn check_visit_change(
    current: &Visit,
    change: &VisitChange,
    arrival: NaiveDate,
    today: NaiveDate,
) -> Result<(), Refusal> {
    match change {
        VisitChange::Record { to } => {
            if current.status.is_final() {
                return Err(refusal(
                    "visit_final",
                    format!(
                        "this visit is already {}: to fix a mistake, record a correction with a note",
                        current.status.name()
                    ),
                ));
            }
            check_outcome(to, arrival, today)
        }
        VisitChange::Reschedule { due_on } => {
            if current.status.is_final() {
                return Err(refusal(
                    "visit_final",
                    format!(
                        "this visit is already {}: plan a new visit instead",
                        current.status.name()
                    ),
                ));
            }
            if *due_on == current.due_on {
                return Err(refusal(
                    "no_change",
                    "the visit is already due on that date",
                ));
            }
            if *due_on < arrival || *due_on < today {
                return Err(refusal(
                    "reschedule_date",
                    format!(
                        "a visit is moved to today or later, and not before the arrival on {arrival}"
                    ),
                ));
            }
            Ok(())
        }
        VisitChange::Correct { to, note } => {
            match current.status {
                VisitStatus::Planned => {
                    return Err(refusal(
                        "nothing_to_correct",
                        "this visit has not been recorded yet: record it instead",
                    ));
                }
                VisitStatus::Cancelled { .. } => {
                    return Err(refusal(
                        "correction_not_allowed",
                        "a cancelled visit stays cancelled: plan a new visit instead",
                    ));
                }
                VisitStatus::Done { .. } | VisitStatus::Missed { .. } => {}
            }
            if !matches!(to, VisitStatus::Done { .. } | VisitStatus::Missed { .. }) {
                return Err(refusal(
                    "correction_target",
                    "a correction records the visit as done or missed",
                ));
            }
            if *to == current.status {
                return Err(refusal("no_change", "the correction changes nothing"));
            }
            check_text("correction_note", "correction note", note)?;
            check_outcome(to, arrival, today)
        }
    }
}

/// Check a change and give the visit as it becomes.
pub fn apply_visit_change(
    current: &Visit,
    change: &VisitChange,
    arrival: NaiveDate,
    today: NaiveDate,
) -> Result<Visit, Refusal> {
    check_visit_change(current, change, arrival, today)?;
    Ok(match change {
        VisitChange::Record { to } | VisitChange::Correct { to, .. } => Visit {
            due_on: current.due_on,
            status: to.clone(),
        },
        VisitChange::Reschedule { due_on } => Visit {
            due_on: *due_on,
            status: current.status.clone(),
        },
    })
}

/// Days a planned visit is late (counted from its due date), once its due date plus
/// `grace_days` is before `today`; `None` when it is not overdue. Only planned visits are
/// ever overdue.
pub fn overdue_days(visit: &Visit, grace_days: u32, today: NaiveDate) -> Option<i64> {
    if visit.status.is_final() {
        return None;
    }
    let limit = visit
        .due_on
        .checked_add_days(Days::new(u64::from(grace_days)))?;
    (limit < today).then(|| (today - visit.due_on).num_days())
}

pub fn is_overdue(visit: &Visit, grace_days: u32, today: NaiveDate) -> bool {
    overdue_days(visit, grace_days, today).is_some()
}

/// How many visits were missed in all.
pub fn missed_count(visits: &[Visit]) -> usize {
    visits
        .iter()
        .filter(|v| matches!(v.status, VisitStatus::Missed { .. }))
        .count()
}

/// The visits in schedule order (due date, then the date of the outcome).
fn in_order(visits: &[Visit]) -> Vec<&Visit> {
    let event = |v: &Visit| match &v.status {
        VisitStatus::Done { on, .. } | VisitStatus::Missed { on, .. } => Some(*on),
        VisitStatus::Planned | VisitStatus::Cancelled { .. } => None,
    };
    let mut out: Vec<&Visit> = visits.iter().collect();
    out.sort_by_key(|v| (v.due_on, event(v)));
    out
}

/// Missed visits since the last visit that took place (all of them if none did), in
/// schedule order. Cancelled and still planned visits neither break nor add to the run:
/// a cancellation is not contact, and a planned visit has not been missed yet (it is
/// flagged as overdue instead). This is the "no contact" measure behind the missed-visits
/// alert: two misses separated by a cancellation are still two visits without contact.
pub fn missed_since_last_done(visits: &[Visit]) -> usize {
    in_order(visits)
        .into_iter()
        .rev()
        .take_while(|v| !matches!(v.status, VisitStatus::Done { .. }))
        .filter(|v| matches!(v.status, VisitStatus::Missed { .. }))
        .count()
}

// ---------------------------------------------------------------------------------------
// 3. Assessments: the indicator set and its scoring
// ---------------------------------------------------------------------------------------

str_enum!(
    /// The three dimensions of reintegration the RSS measures.
    Dimension, "dimension" {
        Economic => "economic",
        Social => "social",
        Psychosocial => "psychosocial",
    }
);

/// One answer option of an indicator. `score` is on 0–1; an option without a score
/// ("don't know", "prefer not to answer", "not applicable") leaves the indicator
/// unanswered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerOption {
    pub id: String,
    #[serde(default)]
    pub score: Option<f64>,
    /// Language code → label.
    pub label: BTreeMap<String, String>,
}

fn default_true() -> bool {
    true
}

/// How an indicator is answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scale {
    /// A choice among options, each with its own score.
    Options { options: Vec<AnswerOption> },
    /// A number from `min` to `max`, mapped linearly onto 0–1 (1 at `max`, or at `min`
    /// when `higher_is_better` is false).
    Numeric {
        min: f64,
        max: f64,
        #[serde(default = "default_true")]
        higher_is_better: bool,
    },
}

/// One indicator of the set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Indicator {
    /// Stable id; answers are keyed by it.
    pub id: String,
    pub dimension: Dimension,
    /// Weight within its dimension (relative; re-normalised over the answered ones).
    pub weight: f64,
    /// Language code → question.
    pub question: BTreeMap<String, String>,
    /// The name of the scale in the configuration.
    pub scale_id: String,
    pub scale: Scale,
}

impl Indicator {
    /// The question in `lang`, else English, else any.
    pub fn question_in(&self, lang: &str) -> &str {
        self.question
            .get(lang)
            .or_else(|| self.question.get("en"))
            .or_else(|| self.question.values().next())
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// The weight of each dimension in the composite (relative).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DimensionWeights {
    pub economic: f64,
    pub social: f64,
    pub psychosocial: f64,
}

impl DimensionWeights {
    pub fn get(&self, d: Dimension) -> f64 {
        match d {
            Dimension::Economic => self.economic,
            Dimension::Social => self.social,
            Dimension::Psychosocial => self.psychosocial,
        }
    }
}

/// A validated indicator set: what an assessment asks and how it is scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IndicatorSet {
    pub id: String,
    pub version: String,
    /// Where the set comes from, in words (shown with the scores).
    pub source: String,
    pub dimension_weights: DimensionWeights,
    pub indicators: Vec<Indicator>,
}

impl IndicatorSet {
    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }
}

/// The thresholds of the automatic alerts (configuration).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertThresholds {
    /// A dimension score strictly below this raises a `low_score` alert.
    pub low_score: f64,
    pub low_score_severity: Severity,
    /// A fall of at least this since the previous assessment raises a `sharp_drop` alert.
    pub sharp_drop: f64,
    pub sharp_drop_severity: Severity,
    /// This many missed visits since the last visit that took place raise a
    /// `missed_visits_no_contact` alert.
    pub missed_visits: u32,
    pub missed_visits_severity: Severity,
}

/// Rules for visits (configuration).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitRules {
    /// Days after its due date before a planned visit counts as overdue.
    pub grace_days: u32,
}

/// Everything `config/reintegration/rss.toml` holds, validated.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReintegrationConfig {
    pub indicators: IndicatorSet,
    pub alerts: AlertThresholds,
    pub visits: VisitRules,
    /// A change within ± this is "stable".
    pub trend_epsilon: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSet {
    id: String,
    version: String,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScoring {
    trend_epsilon: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    id: String,
    dimension: Dimension,
    weight: f64,
    scale: String,
    question: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    set: RawSet,
    dimension_weights: DimensionWeights,
    scoring: RawScoring,
    alerts: AlertThresholds,
    visits: VisitRules,
    scales: BTreeMap<String, Scale>,
    indicators: Vec<RawIndicator>,
}

/// The largest configuration accepted (a plugin may send one).
pub const MAX_CONFIG_BYTES: usize = 256 * 1024;
const MAX_INDICATORS: usize = 200;

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn unit(x: f64) -> bool {
    x.is_finite() && (0.0..=1.0).contains(&x)
}

fn check_scale(name: &str, scale: &Scale) -> Result<(), Invalid> {
    match scale {
        Scale::Options { options } => {
            if options.len() < 2 {
                return Err(Invalid::new(
                    "scales",
                    format!("scale '{name}' needs at least two options"),
                ));
            }
            let mut ids = BTreeSet::new();
            for o in options {
                if !valid_id(&o.id) || !ids.insert(o.id.as_str()) {
                    return Err(Invalid::new(
                        "scales",
                        format!(
                            "scale '{name}': option id '{}' is invalid or repeated",
                            o.id
                        ),
                    ));
                }
                if let Some(s) = o.score
                    && !unit(s)
                {
                    return Err(Invalid::new(
                        "scales",
                        format!("scale '{name}': option '{}' has a score outside 0–1", o.id),
                    ));
                }
                if !o.label.contains_key("en") {
                    return Err(Invalid::new(
                        "scales",
                        format!("scale '{name}': option '{}' has no English label", o.id),
                    ));
                }
            }
            if options.iter().all(|o| o.score.is_none()) {
                return Err(Invalid::new(
                    "scales",
                    format!("scale '{name}' has no scored option"),
                ));
            }
        }
        Scale::Numeric { min, max, .. } => {
            if !(min.is_finite() && max.is_finite() && min < max) {
                return Err(Invalid::new(
                    "scales",
                    format!("scale '{name}': min must be below max"),
                ));
            }
        }
    }
    Ok(())
}

fn check_weight(field: &'static str, what: &str, w: f64, allow_zero: bool) -> Result<(), Invalid> {
    let ok = w.is_finite() && w <= 1000.0 && (w > 0.0 || (allow_zero && w == 0.0));
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(
            field,
            format!("{what}: the weight must be a number above 0 and at most 1000"),
        ))
    }
}

/// Read and check an indicator set with its thresholds from TOML (the shape of
/// `config/reintegration/rss.toml`). Every value is checked: unknown keys, repeated ids,
/// a scale that does not exist, a score outside 0–1, a weight not above 0, a dimension
/// without indicators, a threshold outside 0–1 are all refused, naming what is wrong.
pub fn parse_config(text: &str) -> Result<ReintegrationConfig, Invalid> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(Invalid::new(
            "config",
            format!("at most {MAX_CONFIG_BYTES} bytes"),
        ));
    }
    let raw: RawConfig = toml::from_str(text).map_err(|e| Invalid::new("config", e.to_string()))?;
    for (field, v) in [("set.id", &raw.set.id), ("set.version", &raw.set.version)] {
        if v.trim().is_empty() {
            return Err(Invalid::new("set", format!("{field} is required")));
        }
    }
    for (name, scale) in &raw.scales {
        check_scale(name, scale)?;
    }
    for d in Dimension::ALL {
        check_weight(
            "dimension_weights",
            d.as_str(),
            raw.dimension_weights.get(*d),
            true,
        )?;
    }
    if Dimension::ALL
        .iter()
        .all(|d| raw.dimension_weights.get(*d) == 0.0)
    {
        return Err(Invalid::new(
            "dimension_weights",
            "at least one dimension must count in the composite",
        ));
    }
    if raw.indicators.is_empty() || raw.indicators.len() > MAX_INDICATORS {
        return Err(Invalid::new(
            "indicators",
            format!("between 1 and {MAX_INDICATORS} indicators are needed"),
        ));
    }
    let mut ids = BTreeSet::new();
    let mut indicators = Vec::with_capacity(raw.indicators.len());
    for r in raw.indicators {
        if !valid_id(&r.id) || !ids.insert(r.id.clone()) {
            return Err(Invalid::new(
                "indicators",
                format!("indicator id '{}' is invalid or repeated", r.id),
            ));
        }
        check_weight("indicators", &r.id, r.weight, false)?;
        if r.question.get("en").is_none_or(|q| q.trim().is_empty()) {
            return Err(Invalid::new(
                "indicators",
                format!("indicator '{}' has no English question", r.id),
            ));
        }
        let scale = raw.scales.get(&r.scale).cloned().ok_or_else(|| {
            Invalid::new(
                "indicators",
                format!("indicator '{}' uses the unknown scale '{}'", r.id, r.scale),
            )
        })?;
        indicators.push(Indicator {
            id: r.id,
            dimension: r.dimension,
            weight: r.weight,
            question: r.question,
            scale_id: r.scale,
            scale,
        });
    }
    for d in Dimension::ALL {
        if !indicators.iter().any(|i| i.dimension == *d) {
            return Err(Invalid::new(
                "indicators",
                format!("the {d} dimension has no indicator"),
            ));
        }
    }
    let a = raw.alerts;
    if !unit(a.low_score) {
        return Err(Invalid::new("alerts", "low_score must be within 0–1"));
    }
    if !(unit(a.sharp_drop) && a.sharp_drop > 0.0) {
        return Err(Invalid::new(
            "alerts",
            "sharp_drop must be above 0, at most 1",
        ));
    }
    if !(1..=12).contains(&a.missed_visits) {
        return Err(Invalid::new("alerts", "missed_visits must be from 1 to 12"));
    }
    if raw.visits.grace_days > 90 {
        return Err(Invalid::new("visits", "grace_days must be at most 90"));
    }
    let eps = raw.scoring.trend_epsilon;
    if !(eps.is_finite() && (0.0..0.5).contains(&eps)) {
        return Err(Invalid::new(
            "scoring",
            "trend_epsilon must be at least 0 and below 0.5",
        ));
    }
    Ok(ReintegrationConfig {
        indicators: IndicatorSet {
            id: raw.set.id,
            version: raw.set.version,
            source: raw.set.source,
            dimension_weights: raw.dimension_weights,
            indicators,
        },
        alerts: a,
        visits: raw.visits,
        trend_epsilon: eps,
    })
}

/// The text of the default configuration shipped with Passerelle.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../../config/reintegration/rss.toml");

/// The default configuration (`config/reintegration/rss.toml`), checked.
pub fn default_config() -> Result<ReintegrationConfig, Invalid> {
    parse_config(DEFAULT_CONFIG_TOML)
}

/// An answer to one indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    /// The id of one of the indicator's options.
    Choice { option: String },
    /// A number on the indicator's numeric scale.
    Number { value: f64 },
    /// Asked, but no answer (don't know, refused): scored as unanswered.
    NoAnswer,
}

/// Indicator id → answer. Indicators left out are unanswered.
pub type Answers = BTreeMap<String, Answer>;

/// The score of one dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DimensionScore {
    pub dimension: Dimension,
    /// On 0–1; `None` when none of its indicators was answered.
    pub score: Option<f64>,
    pub answered: u32,
    pub total: u32,
    /// The share of the dimension's weight that was answered (0–1).
    pub weight_coverage: f64,
}

/// The scores of one assessment. Stored with the assessment (so that a later change of
/// the indicator set does not rewrite history) and compared with the next one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Scores {
    pub set_id: String,
    pub set_version: String,
    pub economic: DimensionScore,
    pub social: DimensionScore,
    pub psychosocial: DimensionScore,
    /// On 0–1, over the dimensions that have a score; `None` when none has.
    pub composite: Option<f64>,
    /// The share of the dimension weights behind the composite (0–1).
    pub composite_coverage: f64,
    pub answered: u32,
    pub total: u32,
}

impl Scores {
    pub fn get(&self, d: Dimension) -> &DimensionScore {
        match d {
            Dimension::Economic => &self.economic,
            Dimension::Social => &self.social,
            Dimension::Psychosocial => &self.psychosocial,
        }
    }
    /// Every indicator was answered.
    pub fn complete(&self) -> bool {
        self.answered == self.total
    }
}

/// The value of one answer on 0–1, `None` when it counts as unanswered; an answer outside
/// the indicator's scale is an error naming the indicator.
fn answer_value(ind: &Indicator, answer: &Answer) -> Result<Option<f64>, Invalid> {
    match (&ind.scale, answer) {
        (_, Answer::NoAnswer) => Ok(None),
        (Scale::Options { options }, Answer::Choice { option }) => options
            .iter()
            .find(|o| o.id == *option)
            .map(|o| o.score)
            .ok_or_else(|| {
                Invalid::new(
                    "answers",
                    format!(
                        "'{}' is not an answer to '{}'; expected one of: {}",
                        option.chars().take(40).collect::<String>(),
                        ind.id,
                        options
                            .iter()
                            .map(|o| o.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            }),
        (
            Scale::Numeric {
                min,
                max,
                higher_is_better,
            },
            Answer::Number { value },
        ) => {
            if !(value.is_finite() && (*min..=*max).contains(value)) {
                return Err(Invalid::new(
                    "answers",
                    format!("the answer to '{}' must be from {min} to {max}", ind.id),
                ));
            }
            let up = (value - min) / (max - min);
            Ok(Some(if *higher_is_better { up } else { 1.0 - up }))
        }
        (Scale::Options { .. }, Answer::Number { .. }) => Err(Invalid::new(
            "answers",
            format!(
                "'{}' is answered by choosing an option, not a number",
                ind.id
            ),
        )),
        (Scale::Numeric { .. }, Answer::Choice { .. }) => Err(Invalid::new(
            "answers",
            format!("'{}' is answered with a number, not an option", ind.id),
        )),
    }
}

/// Score an assessment: one score per dimension and a composite, all on 0–1, over the
/// answered indicators (see the module documentation). An answer to an unknown indicator,
/// or outside its indicator's scale, is an error naming the indicator.
pub fn score(set: &IndicatorSet, answers: &Answers) -> Result<Scores, Invalid> {
    if let Some(unknown) = answers.keys().find(|k| set.indicator(k.as_str()).is_none()) {
        return Err(Invalid::new(
            "answers",
            format!(
                "'{}' is not an indicator of the set '{}'",
                unknown.chars().take(64).collect::<String>(),
                set.id
            ),
        ));
    }
    // Per dimension: Σ weight·value, Σ answered weight, Σ weight, answered, total.
    let mut acc: BTreeMap<&'static str, (f64, f64, f64, u32, u32)> = BTreeMap::new();
    for ind in &set.indicators {
        let e = acc.entry(ind.dimension.as_str()).or_default();
        e.2 += ind.weight;
        e.4 += 1;
        if let Some(a) = answers.get(&ind.id)
            && let Some(v) = answer_value(ind, a)?
        {
            e.0 += ind.weight * v;
            e.1 += ind.weight;
            e.3 += 1;
        }
    }
    let dim = |d: Dimension| {
        let (sum, answered_w, total_w, answered, total) =
            acc.get(d.as_str()).copied().unwrap_or_default();
        DimensionScore {
            dimension: d,
            score: (answered_w > 0.0).then(|| (sum / answered_w).clamp(0.0, 1.0)),
            answered,
            total,
            weight_coverage: if total_w > 0.0 {
                answered_w / total_w
            } else {
                0.0
            },
        }
    };
    let (economic, social, psychosocial) = (
        dim(Dimension::Economic),
        dim(Dimension::Social),
        dim(Dimension::Psychosocial),
    );
    let w = &set.dimension_weights;
    let (mut sum, mut used, mut all) = (0.0, 0.0, 0.0);
    for ds in [&economic, &social, &psychosocial] {
        let dw = w.get(ds.dimension);
        all += dw;
        if let Some(s) = ds.score {
            sum += dw * s;
            used += dw;
        }
    }
    let answered = economic.answered + social.answered + psychosocial.answered;
    let total = economic.total + social.total + psychosocial.total;
    Ok(Scores {
        set_id: set.id.clone(),
        set_version: set.version.clone(),
        composite: (used > 0.0).then(|| (sum / used).clamp(0.0, 1.0)),
        composite_coverage: if all > 0.0 { used / all } else { 0.0 },
        economic,
        social,
        psychosocial,
        answered,
        total,
    })
}

str_enum!(
    /// Which way a score moved between two assessments.
    Direction, "direction" {
        Up => "up",
        Down => "down",
        Stable => "stable",
    }
);

/// The change of one score between two assessments.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delta {
    pub previous: Option<f64>,
    pub current: Option<f64>,
    /// `current - previous`; `None` when either is missing.
    pub delta: Option<f64>,
    pub direction: Option<Direction>,
}

fn delta(previous: Option<f64>, current: Option<f64>, epsilon: f64) -> Delta {
    let d = previous.zip(current).map(|(p, c)| c - p);
    Delta {
        previous,
        current,
        delta: d,
        direction: d.map(|d| {
            if d.abs() <= epsilon + SLACK {
                Direction::Stable
            } else if d > 0.0 {
                Direction::Up
            } else {
                Direction::Down
            }
        }),
    }
}

/// The trend between the previous assessment and this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Trend {
    pub economic: Delta,
    pub social: Delta,
    pub psychosocial: Delta,
    pub composite: Delta,
    /// Both were scored with the same indicator set and version; when not, the deltas are
    /// still given but compare different questionnaires.
    pub same_indicator_set: bool,
}

/// Per dimension and composite: the change, and whether it is up, down or stable (a change
/// within ± `epsilon`, inclusive, is stable).
pub fn trend(previous: &Scores, current: &Scores, epsilon: f64) -> Trend {
    let d = |dim: Dimension| delta(previous.get(dim).score, current.get(dim).score, epsilon);
    Trend {
        economic: d(Dimension::Economic),
        social: d(Dimension::Social),
        psychosocial: d(Dimension::Psychosocial),
        composite: delta(previous.composite, current.composite, epsilon),
        same_indicator_set: previous.set_id == current.set_id
            && previous.set_version == current.set_version,
    }
}

// ---------------------------------------------------------------------------------------
// 4–5. Alerts
// ---------------------------------------------------------------------------------------

str_enum!(
    /// What an alert is about. The first five are raised by people (the follow-up officer,
    /// the person, the advocate); the last three also automatically. `sanctions_on_return`
    /// is a legal or financial sanction against the person after return: it must not
    /// happen (non-punishment, seed §37) and is monitored.
    AlertCategory, "category" {
        TraffickerOrRecruiterContact => "trafficker_or_recruiter_contact",
        Debt => "debt",
        ThreatsToPersonOrFamily => "threats_to_person_or_family",
        SanctionsOnReturn => "sanctions_on_return",
        WishToRemigrateIrregularly => "wish_to_remigrate_irregularly",
        MissedVisitsNoContact => "missed_visits_no_contact",
        LowScore => "low_score",
        SharpDrop => "sharp_drop",
    }
);

str_enum!(
    /// How serious an alert is.
    Severity, "severity" {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

impl Severity {
    /// Low 0 … critical 3, for ordering.
    pub fn rank(self) -> u8 {
        match self {
            Severity::Low => 0,
            Severity::Medium => 1,
            Severity::High => 2,
            Severity::Critical => 3,
        }
    }
}

impl AlertCategory {
    /// The lowest severity an alert of this category may have. Contact from traffickers or
    /// recruiters and threats to the person or their family are never "low" or "medium":
    /// they are the re-trafficking risk that follow-up exists to catch (seed §37).
    pub fn minimum_severity(self) -> Severity {
        match self {
            AlertCategory::TraffickerOrRecruiterContact
            | AlertCategory::ThreatsToPersonOrFamily => Severity::High,
            _ => Severity::Low,
        }
    }
}

str_enum!(
    /// Where an alert stands: open → acknowledged → closed.
    AlertStatus, "status" {
        Open => "open",
        Acknowledged => "acknowledged",
        Closed => "closed",
    }
);

/// May an alert be raised with this category and severity?
pub fn check_new_alert(category: AlertCategory, severity: Severity) -> Result<(), Refusal> {
    let min = category.minimum_severity();
    if severity.rank() < min.rank() {
        return Err(refusal(
            "severity_floor",
            format!("an alert about {category} is at least {min}"),
        ));
    }
    Ok(())
}

/// A change asked for an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum AlertChange {
    /// Someone has seen it and is acting on it.
    Acknowledge,
    /// It is dealt with: what was done.
    Close { action: String },
}

/// May the alert change so, and to what status? Open → acknowledged → closed, one step at a
/// time: an alert is acknowledged before it is closed, so that both the origin-country
/// service and the advocate can see that someone took it up; closing says what was done.
/// A closed alert stays closed (a new situation is a new alert).
pub fn check_alert_change(
    current: AlertStatus,
    change: &AlertChange,
) -> Result<AlertStatus, Refusal> {
    match (current, change) {
        (AlertStatus::Closed, _) => Err(refusal(
            "alert_closed",
            "this alert is closed: raise a new alert if the situation comes back",
        )),
        (AlertStatus::Open, AlertChange::Acknowledge) => Ok(AlertStatus::Acknowledged),
        (AlertStatus::Acknowledged, AlertChange::Acknowledge) => {
            Err(refusal("alert_order", "this alert is already acknowledged"))
        }
        (AlertStatus::Open, AlertChange::Close { .. }) => Err(refusal(
            "alert_order",
            "acknowledge the alert before closing it",
        )),
        (AlertStatus::Acknowledged, AlertChange::Close { action }) => {
            if action.trim().is_empty() {
                Err(refusal(
                    "action_required",
                    "say what was done before closing the alert",
                ))
            } else if action.chars().count() > MAX_TEXT {
                Err(refusal(
                    "text_too_long",
                    format!("the action may have at most {MAX_TEXT} characters"),
                ))
            } else {
                Ok(AlertStatus::Closed)
            }
        }
    }
}

/// An alert the rules raise on their own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AutoAlert {
    pub category: AlertCategory,
    pub severity: Severity,
    /// The dimension concerned; `None` for the composite or for visits.
    pub dimension: Option<Dimension>,
    /// The value that crossed the threshold (a score, a fall, a count of visits).
    pub value: f64,
    pub threshold: f64,
    pub message: String,
}

/// The alerts an assessment raises: a dimension scored below `low_score`, and, against
/// the previous assessment, a fall of at least `sharp_drop` in a dimension or in the
/// composite. A dimension without a score raises nothing (there is nothing to judge).
pub fn automatic_alerts(
    previous: Option<&Scores>,
    current: &Scores,
    t: &AlertThresholds,
) -> Vec<AutoAlert> {
    let mut out = Vec::new();
    for d in Dimension::ALL {
        if let Some(s) = current.get(*d).score
            && s < t.low_score
        {
            out.push(AutoAlert {
                category: AlertCategory::LowScore,
                severity: t.low_score_severity,
                dimension: Some(*d),
                value: s,
                threshold: t.low_score,
                message: format!("the {d} score is {s:.2}, below {:.2}", t.low_score),
            });
        }
    }
    let Some(p) = previous else { return out };
    let mut drop = |dimension: Option<Dimension>, before: Option<f64>, now: Option<f64>| {
        if let (Some(b), Some(n)) = (before, now)
            && b - n + SLACK >= t.sharp_drop
        {
            let what = dimension.map_or("composite".to_owned(), |d| d.to_string());
            out.push(AutoAlert {
                category: AlertCategory::SharpDrop,
                severity: t.sharp_drop_severity,
                dimension,
                value: b - n,
                threshold: t.sharp_drop,
                message: format!(
                    "the {what} score fell from {b:.2} to {n:.2} since the previous assessment"
                ),
            });
        }
    };
    for d in Dimension::ALL {
        drop(Some(*d), p.get(*d).score, current.get(*d).score);
    }
    drop(None, p.composite, current.composite);
    out
}

/// The missed-visits alert: [`missed_since_last_done`] has reached the threshold.
pub fn missed_visit_alert(visits: &[Visit], t: &AlertThresholds) -> Option<AutoAlert> {
    let n = missed_since_last_done(visits);
    (n >= t.missed_visits as usize).then(|| AutoAlert {
        category: AlertCategory::MissedVisitsNoContact,
        severity: t.missed_visits_severity,
        dimension: None,
        value: n as f64,
        threshold: f64::from(t.missed_visits),
        message: format!("{n} visits missed since the last contact"),
    })
}

// ---------------------------------------------------------------------------------------
// 6. Closing a case
// ---------------------------------------------------------------------------------------

str_enum!(
    /// The status of a closed case, after HTCDS case status (Closed / ClosedReferred).
    ClosingStatus, "status" {
        Closed => "closed",
        ClosedReferred => "closed_referred",
    }
);

str_enum!(
    /// Why a case is closed.
    ClosingReason, "reason" {
        Reintegrated => "reintegrated",
        LostContact => "lost_contact",
        ReferredElsewhere => "referred_elsewhere",
        PersonsWish => "persons_wish",
        Death => "death",
        NotIdentified => "not_identified",
    }
);

impl ClosingReason {
    /// The statuses that go with this reason: referred elsewhere is always
    /// `closed_referred`; not identified may be either (the person is referred to another
    /// service if needed, domain notes "The path of a case"); every other reason `closed`.
    pub fn statuses(self) -> &'static [ClosingStatus] {
        match self {
            ClosingReason::ReferredElsewhere => &[ClosingStatus::ClosedReferred],
            ClosingReason::NotIdentified => &[ClosingStatus::Closed, ClosingStatus::ClosedReferred],
            _ => &[ClosingStatus::Closed],
        }
    }
    /// The usual status for this reason (the first of [`ClosingReason::statuses`]).
    pub fn default_status(self) -> ClosingStatus {
        match self {
            ClosingReason::ReferredElsewhere => ClosingStatus::ClosedReferred,
            _ => ClosingStatus::Closed,
        }
    }
}

/// May a case at this stage be closed for this reason?
///
/// - Nothing closes a closed case again.
/// - "Not identified" closes early only: while the person is referred or being screened,
///   before any protection started (once protected, a case ends for another reason).
/// - "Reintegrated" only from follow-up: it is what follow-up establishes.
/// - The person's wish, death, lost contact and a referral elsewhere may close at any
///   open stage.
pub fn may_close(stage: Stage, reason: ClosingReason) -> Result<(), Refusal> {
    if stage == Stage::Closed {
        return Err(refusal("already_closed", "the case is already closed"));
    }
    match reason {
        ClosingReason::NotIdentified if !matches!(stage, Stage::Referred | Stage::Screening) => {
            Err(refusal(
                "not_identified_stage",
                format!(
                    "\"not identified\" closes a case before protection starts; this case is at {stage}"
                ),
            ))
        }
        ClosingReason::Reintegrated if stage != Stage::FollowUp => Err(refusal(
            "reintegrated_stage",
            format!("\"reintegrated\" closes a case in follow-up; this case is at {stage}"),
        )),
        _ => Ok(()),
    }
}

/// [`may_close`], and the status must go with the reason.
pub fn check_closing(
    stage: Stage,
    reason: ClosingReason,
    status: ClosingStatus,
) -> Result<(), Refusal> {
    may_close(stage, reason)?;
    if !reason.statuses().contains(&status) {
        return Err(refusal(
            "closing_status",
            format!(
                "a case closed as {reason} is {}",
                reason
                    .statuses()
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{DefaultJurisdiction, Jurisdiction, PersonFacts};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn approx(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn rule<T: fmt::Debug>(r: Result<T, Refusal>) -> String {
        r.err().map(|r| r.rule).unwrap_or_default()
    }

    // ---------------------------------------------------------------- schedule

    #[test]
    fn the_default_schedule_gives_four_dates_after_arrival() {
        let offsets = DefaultJurisdiction
            .follow_up_schedule_days(&PersonFacts {
                child: false,
                stateless: false,
                nationality: None,
            })
            .unwrap();
        // Dates counted by hand from 15 January 2026: +30, +90, +180, +365 days.
        assert_eq!(
            schedule(d("2026-01-15"), &offsets).unwrap(),
            [
                d("2026-02-14"),
                d("2026-04-15"),
                d("2026-07-14"),
                d("2027-01-15")
            ]
        );
        // Any order, repeats removed.
        assert_eq!(
            schedule(d("2026-01-15"), &[365, 30, 180, 90, 30]).unwrap(),
            schedule(d("2026-01-15"), &offsets).unwrap()
        );
        assert_eq!(schedule(d("2026-01-15"), &[0]).unwrap(), [d("2026-01-15")]);
    }

    #[test]
    fn a_schedule_is_bounded() {
        let arrival = d("2026-01-15");
        assert_eq!(schedule(arrival, &[]).unwrap_err().field, "offsets_days");
        let many: Vec<u32> = (1..=MAX_VISITS as u32 + 1).collect();
        assert!(schedule(arrival, &many).is_err());
        assert_eq!(
            schedule(arrival, &many[..MAX_VISITS]).unwrap().len(),
            MAX_VISITS
        );
        // Repeats do not count against the bound.
        let mut repeated = many[..MAX_VISITS].to_vec();
        repeated.extend_from_slice(&many[..5]);
        assert!(schedule(arrival, &repeated).is_ok());
        assert!(schedule(arrival, &[MAX_OFFSET_DAYS]).is_ok());
        let e = schedule(arrival, &[30, MAX_OFFSET_DAYS + 1]).unwrap_err();
        assert!(e.message.contains("too far"), "{e}");
        assert!(schedule(NaiveDate::MAX, &[1]).is_err(), "date overflow");
    }

    #[test]
    fn extending_adds_only_new_visits_due_today_or_later() {
        let arrival = d("2026-01-15");
        let existing = schedule(arrival, &[30, 90, 180, 365]).unwrap();
        let today = d("2026-05-01");
        // Day 180 is already planned; day 270 is 12 October 2026.
        assert_eq!(
            extend_schedule(arrival, &existing, &[270, 180], today).unwrap(),
            [d("2026-10-12")]
        );
        // Day 60 (16 March) is past.
        let e = extend_schedule(arrival, &existing, &[60, 270], today).unwrap_err();
        assert!(e.message.contains("2026-03-16"), "{e}");
        // Nothing new.
        assert!(extend_schedule(arrival, &existing, &[30, 365], today).is_err());
        // A visit due today is fine.
        assert_eq!(
            extend_schedule(arrival, &existing, &[106], today).unwrap(),
            [today]
        );
        // Too many in all.
        let full = schedule(arrival, &(1..=MAX_VISITS as u32).collect::<Vec<_>>()).unwrap();
        assert!(extend_schedule(arrival, &full, &[400], arrival).is_err());
    }

    // ---------------------------------------------------------------- visits

    const ARRIVAL: &str = "2026-01-15";
    const TODAY: &str = "2026-03-01";

    fn planned() -> Visit {
        Visit {
            due_on: d("2026-02-14"),
            status: VisitStatus::Planned,
        }
    }

    fn done(on: &str, by: &str) -> VisitStatus {
        VisitStatus::Done {
            on: d(on),
            mode: VisitMode::Phone,
            by: by.into(),
        }
    }

    fn missed(on: &str, reason: &str) -> VisitStatus {
        VisitStatus::Missed {
            on: d(on),
            reason: reason.into(),
        }
    }

    fn record(v: &Visit, to: VisitStatus) -> Result<(), Refusal> {
        check_visit_change(v, &VisitChange::Record { to }, d(ARRIVAL), d(TODAY))
    }

    #[test]
    fn a_done_visit_is_dated_between_arrival_and_today_and_says_who() {
        let v = planned();
        assert!(record(&v, done("2026-02-16", "origin service: A. Diallo")).is_ok());
        assert!(
            record(&v, done(TODAY, "A. Diallo")).is_ok(),
            "today is fine"
        );
        assert!(
            record(&v, done(ARRIVAL, "A. Diallo")).is_ok(),
            "arrival day is fine"
        );
        assert_eq!(
            rule(record(&v, done("2026-01-14", "x"))),
            "date_before_arrival"
        );
        assert_eq!(rule(record(&v, done("2026-03-02", "x"))), "date_in_future");
        assert_eq!(
            rule(record(&v, done("2026-02-16", "  "))),
            "visitor_required"
        );
        let after = apply_visit_change(
            &v,
            &VisitChange::Record {
                to: done("2026-02-16", "x"),
            },
            d(ARRIVAL),
            d(TODAY),
        )
        .unwrap();
        assert_eq!(after.due_on, v.due_on);
        assert_eq!(after.status, done("2026-02-16", "x"));
    }

    #[test]
    fn missed_and_cancelled_visits_need_a_reason() {
        let v = planned();
        assert!(record(&v, missed("2026-02-14", "not at home, phone off")).is_ok());
        assert_eq!(
            rule(record(&v, missed("2026-02-14", ""))),
            "reason_required"
        );
        assert_eq!(
            rule(record(&v, missed("2026-03-05", "x"))),
            "date_in_future"
        );
        assert_eq!(
            rule(record(&v, missed("2026-01-01", "x"))),
            "date_before_arrival"
        );
        let cancel = |r: &str| VisitStatus::Cancelled { reason: r.into() };
        assert!(record(&v, cancel("replaced by the 90-day visit")).is_ok());
        assert_eq!(rule(record(&v, cancel(" \n "))), "reason_required");
        assert!(record(&v, cancel(&"x".repeat(MAX_TEXT))).is_ok());
        assert_eq!(
            rule(record(&v, cancel(&"x".repeat(MAX_TEXT + 1)))),
            "text_too_long"
        );
        assert_eq!(rule(record(&v, VisitStatus::Planned)), "no_change");
    }

    #[test]
    fn a_recorded_visit_is_final_except_for_a_noted_correction() {
        let (arrival, today) = (d(ARRIVAL), d(TODAY));
        let was_missed = Visit {
            due_on: d("2026-02-14"),
            status: missed("2026-02-14", "no answer"),
        };
        assert_eq!(
            rule(record(&was_missed, done("2026-02-14", "x"))),
            "visit_final"
        );
        let move_to = VisitChange::Reschedule {
            due_on: d("2026-03-10"),
        };
        assert_eq!(
            rule(check_visit_change(&was_missed, &move_to, arrival, today)),
            "visit_final"
        );
        let correct = |to: VisitStatus, note: &str| VisitChange::Correct {
            to,
            note: note.into(),
        };
        // It turned out the visit took place by phone.
        let fix = correct(
            done("2026-02-14", "A. Diallo"),
            "the call was logged on the wrong case",
        );
        let fixed = apply_visit_change(&was_missed, &fix, arrival, today).unwrap();
        assert!(matches!(fixed.status, VisitStatus::Done { .. }));
        assert_eq!(
            rule(check_visit_change(
                &was_missed,
                &correct(done("2026-02-14", "x"), " "),
                arrival,
                today
            )),
            "correction_note"
        );
        assert_eq!(
            rule(check_visit_change(
                &was_missed,
                &correct(VisitStatus::Planned, "n"),
                arrival,
                today
            )),
            "correction_target"
        );
        assert_eq!(
            rule(check_visit_change(
                &was_missed,
                &correct(VisitStatus::Cancelled { reason: "r".into() }, "n"),
                arrival,
                today
            )),
            "correction_target"
        );
        assert_eq!(
            rule(check_visit_change(
                &was_missed,
                &correct(was_missed.status.clone(), "n"),
                arrival,
                today
            )),
            "no_change"
        );
        // A correction obeys the same date rules.
        assert_eq!(
            rule(check_visit_change(
                &was_missed,
                &correct(done("2026-04-01", "x"), "n"),
                arrival,
                today
            )),
            "date_in_future"
        );
        assert_eq!(
            rule(check_visit_change(
                &planned(),
                &correct(done("2026-02-14", "x"), "n"),
                arrival,
                today
            )),
            "nothing_to_correct"
        );
        let cancelled = Visit {
            due_on: d("2026-02-14"),
            status: VisitStatus::Cancelled { reason: "r".into() },
        };
        assert_eq!(
            rule(check_visit_change(
                &cancelled,
                &correct(done("2026-02-14", "x"), "n"),
                arrival,
                today
            )),
            "correction_not_allowed"
        );
    }

    #[test]
    fn a_planned_visit_moves_to_today_or_later() {
        let (arrival, today) = (d(ARRIVAL), d(TODAY));
        let to = |s: &str| VisitChange::Reschedule { due_on: d(s) };
        let moved = apply_visit_change(&planned(), &to("2026-03-05"), arrival, today).unwrap();
        assert_eq!(moved.due_on, d("2026-03-05"));
        assert_eq!(moved.status, VisitStatus::Planned);
        assert!(check_visit_change(&planned(), &to(TODAY), arrival, today).is_ok());
        assert_eq!(
            rule(check_visit_change(
                &planned(),
                &to("2026-02-20"),
                arrival,
                today
            )),
            "reschedule_date"
        );
        assert_eq!(
            rule(check_visit_change(
                &planned(),
                &to("2026-02-14"),
                arrival,
                today
            )),
            "no_change"
        );
        // Before arrival (checked on a day when "today" does not already forbid it).
        assert_eq!(
            rule(check_visit_change(
                &planned(),
                &to("2026-01-10"),
                arrival,
                d("2026-01-01")
            )),
            "reschedule_date"
        );
    }

    #[test]
    fn a_planned_visit_is_overdue_after_its_grace_days() {
        let v = Visit {
            due_on: d("2026-03-01"),
            status: VisitStatus::Planned,
        };
        assert!(
            !is_overdue(&v, 7, d("2026-03-08")),
            "due + 7 = today: not yet"
        );
        assert_eq!(overdue_days(&v, 7, d("2026-03-09")), Some(8));
        assert!(!is_overdue(&v, 0, d("2026-03-01")));
        assert_eq!(overdue_days(&v, 0, d("2026-03-02")), Some(1));
        let grace = default_config().unwrap().visits.grace_days;
        assert!(is_overdue(&v, grace, d("2026-04-30")));
        for status in [
            done("2026-03-01", "x"),
            missed("2026-03-01", "x"),
            VisitStatus::Cancelled { reason: "r".into() },
        ] {
            let v = Visit {
                due_on: d("2026-03-01"),
                status,
            };
            assert_eq!(overdue_days(&v, 0, d("2027-01-01")), None, "{}", v.status);
        }
    }

    fn visit(due: &str, status: VisitStatus) -> Visit {
        Visit {
            due_on: d(due),
            status,
        }
    }

    #[test]
    fn missed_visits_are_counted_since_the_last_contact() {
        let cancelled = || VisitStatus::Cancelled { reason: "r".into() };
        let mut visits = vec![
            visit("2026-04-15", missed("2026-04-15", "no answer")),
            visit("2026-02-14", done("2026-02-14", "x")),
            visit("2026-07-14", missed("2026-07-15", "moved away")),
            visit("2026-05-15", cancelled()),
            visit("2027-01-15", VisitStatus::Planned),
        ];
        // In schedule order: done, missed, cancelled, missed, planned.
        assert_eq!(missed_count(&visits), 2);
        assert_eq!(
            missed_since_last_done(&visits),
            2,
            "a cancellation is not contact"
        );
        let t = default_config().unwrap().alerts;
        let a = missed_visit_alert(&visits, &t).unwrap();
        assert_eq!(a.category, AlertCategory::MissedVisitsNoContact);
        assert_eq!(a.severity, t.missed_visits_severity);
        assert!(approx(a.value, 2.0));
        // Contact again: the run starts over, the total stays.
        visits.push(visit("2026-10-12", done("2026-10-12", "x")));
        assert_eq!(missed_count(&visits), 2);
        assert_eq!(missed_since_last_done(&visits), 0);
        assert!(missed_visit_alert(&visits, &t).is_none());
        // No contact ever: every miss counts.
        let never = [
            visit("2026-02-14", missed("2026-02-14", "x")),
            visit("2026-04-15", missed("2026-04-15", "x")),
            visit("2026-07-14", missed("2026-07-14", "x")),
        ];
        assert_eq!(missed_since_last_done(&never), 3);
        // One miss is below the default threshold of two; a threshold of one fires.
        let one = &never[..1];
        assert!(missed_visit_alert(one, &t).is_none());
        let strict = AlertThresholds {
            missed_visits: 1,
            ..t
        };
        assert!(missed_visit_alert(one, &strict).is_some());
    }

    // ---------------------------------------------------------------- config

    #[test]
    fn the_default_set_has_fifteen_indicators_over_three_dimensions() {
        let c = default_config().unwrap();
        let set = &c.indicators;
        assert_eq!(set.indicators.len(), 15);
        for dim in Dimension::ALL {
            assert_eq!(
                set.indicators
                    .iter()
                    .filter(|i| i.dimension == *dim)
                    .count(),
                5,
                "{dim}"
            );
        }
        // Equal weights: the sources give none (see the file's comments).
        let w = set.indicators[0].weight;
        assert!(set.indicators.iter().all(|i| i.weight == w));
        let dw = set.dimension_weights;
        assert!(dw.economic == dw.social && dw.social == dw.psychosocial);
        for i in &set.indicators {
            assert!(!i.question_in("en").is_empty() && !i.question_in("fr").is_empty());
            assert_ne!(i.question_in("en"), i.question_in("fr"), "{}", i.id);
            assert_eq!(
                i.question_in("de"),
                i.question_in("en"),
                "falls back to English"
            );
            if let Scale::Options { options } = &i.scale {
                assert!(
                    options.iter().any(|o| o.score.is_none()),
                    "{}: a way to not answer",
                    i.id
                );
                assert!(
                    options.iter().all(|o| o.label.contains_key("fr")),
                    "{}",
                    i.id
                );
            }
        }
        assert!(
            set.source.contains("not IOM"),
            "the file says what is not IOM's"
        );
        assert!(c.alerts.low_score > 0.0 && c.alerts.sharp_drop > c.trend_epsilon);
    }

    /// A small set with unequal weights and a reversed numeric scale, for worked examples.
    const SMALL: &str = r#"
        [set]
        id = "small"
        version = "2"
        source = "test"
        [dimension_weights]
        economic = 2.0
        social = 1.0
        psychosocial = 1.0
        [scoring]
        trend_epsilon = 0.05
        [alerts]
        low_score = 0.4
        low_score_severity = "medium"
        sharp_drop = 0.2
        sharp_drop_severity = "high"
        missed_visits = 2
        missed_visits_severity = "high"
        [visits]
        grace_days = 7
        [scales.yn]
        kind = "options"
        options = [
          { id = "yes", score = 1.0, label = { en = "Yes" } },
          { id = "no", score = 0.0, label = { en = "No" } },
          { id = "dk", label = { en = "Don't know" } },
        ]
        [scales.abc]
        kind = "options"
        options = [
          { id = "a", score = 1.0, label = { en = "A" } },
          { id = "b", score = 0.4, label = { en = "B" } },
          { id = "c", score = 0.0, label = { en = "C" } },
        ]
        [scales.hungry_days]
        kind = "numeric"
        min = 0.0
        max = 30.0
        higher_is_better = false
        [[indicators]]
        id = "e1"
        dimension = "economic"
        weight = 3.0
        scale = "yn"
        question = { en = "E1?" }
        [[indicators]]
        id = "e2"
        dimension = "economic"
        weight = 1.0
        scale = "hungry_days"
        question = { en = "E2?" }
        [[indicators]]
        id = "s1"
        dimension = "social"
        weight = 1.0
        scale = "yn"
        question = { en = "S1?" }
        [[indicators]]
        id = "s2"
        dimension = "social"
        weight = 1.0
        scale = "abc"
        question = { en = "S2?" }
        [[indicators]]
        id = "p1"
        dimension = "psychosocial"
        weight = 2.0
        scale = "yn"
        question = { en = "P1?" }
        [[indicators]]
        id = "p2"
        dimension = "psychosocial"
        weight = 1.0
        scale = "yn"
        question = { en = "P2?" }
    "#;

    fn bad(from: &str, to: &str) -> Invalid {
        assert!(
            SMALL.contains(from),
            "the test edits something that exists: {from}"
        );
        parse_config(&SMALL.replacen(from, to, 1)).unwrap_err()
    }

    #[test]
    fn a_configuration_is_checked_value_by_value() {
        assert!(parse_config(SMALL).is_ok());
        let cases: &[(&str, &str, &str, &str)] = &[
            ("id = \"e2\"", "id = \"e1\"", "indicators", "repeated"),
            (
                "scale = \"abc\"",
                "scale = \"xyz\"",
                "indicators",
                "unknown scale",
            ),
            ("weight = 3.0", "weight = 0.0", "indicators", "weight"),
            ("weight = 3.0", "weight = -1.0", "indicators", "weight"),
            (
                "score = 0.4, label",
                "score = 1.5, label",
                "scales",
                "outside 0–1",
            ),
            ("min = 0.0", "min = 30.0", "scales", "min must be below max"),
            (
                "{ id = \"c\", score = 0.0",
                "{ id = \"b\", score = 0.0",
                "scales",
                "repeated",
            ),
            (
                "question = { en = \"S1?\" }",
                "question = { fr = \"S1 ?\" }",
                "indicators",
                "English",
            ),
            ("low_score = 0.4", "low_score = 1.2", "alerts", "low_score"),
            (
                "sharp_drop = 0.2",
                "sharp_drop = 0.0",
                "alerts",
                "sharp_drop",
            ),
            (
                "missed_visits = 2",
                "missed_visits = 0",
                "alerts",
                "missed_visits",
            ),
            ("grace_days = 7", "grace_days = 91", "visits", "grace_days"),
            (
                "trend_epsilon = 0.05",
                "trend_epsilon = 0.5",
                "scoring",
                "trend_epsilon",
            ),
            (
                "economic = 2.0",
                "economic = 2.0\ncolour = 1.0",
                "config",
                "colour",
            ),
            (
                "low_score_severity = \"medium\"",
                "low_score_severity = \"mild\"",
                "config",
                "mild",
            ),
            (
                "dimension = \"social\"",
                "dimension = \"cultural\"",
                "config",
                "cultural",
            ),
        ];
        for (from, to, field, word) in cases {
            let e = bad(from, to);
            assert_eq!(e.field, *field, "{from} → {to}: {e}");
            assert!(e.message.contains(word), "{from} → {to}: {e}");
        }
        // A dimension without indicators: psychosocial's two become social.
        let no_psy = SMALL.replace("dimension = \"psychosocial\"", "dimension = \"social\"");
        let e = parse_config(&no_psy).unwrap_err();
        assert!(e.message.contains("psychosocial"), "{e}");
        // A scale where nothing scores (the yes/no scale loses both scores).
        let unscored = SMALL
            .replace("{ id = \"no\", score = 0.0,", "{ id = \"no\",")
            .replace("{ id = \"yes\", score = 1.0,", "{ id = \"yes\",");
        let e = parse_config(&unscored).unwrap_err();
        assert!(e.message.contains("no scored option"), "{e}");
        // No dimension counts.
        let zero = SMALL
            .replace("economic = 2.0", "economic = 0.0")
            .replace("social = 1.0\n", "social = 0.0\n")
            .replace("psychosocial = 1.0\n", "psychosocial = 0.0\n");
        assert_eq!(parse_config(&zero).unwrap_err().field, "dimension_weights");
        let huge = format!("{SMALL}\n#{}", "x".repeat(MAX_CONFIG_BYTES));
        assert_eq!(parse_config(&huge).unwrap_err().field, "config");
    }

    // ---------------------------------------------------------------- scoring

    fn choice(o: &str) -> Answer {
        Answer::Choice { option: o.into() }
    }

    fn number(v: f64) -> Answer {
        Answer::Number { value: v }
    }

    fn answers(list: &[(&str, Answer)]) -> Answers {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    /// Worked example A on the default set. The sources consulted give no example
    /// respondent, so this one is computed by hand from the configuration's weights
    /// (all equal) and answer scores:
    ///
    /// economic     = (6/10 + 1 + 0.5 + 0 + 0.5) / 5 = 2.6 / 5 = 0.52
    /// social       = (0.75 + 1 + 0.25 + 0.5 + 0) / 5 = 2.5 / 5 = 0.50
    /// psychosocial = (0.5 + 1 + 0.75 + 0.25 + 0.5) / 5 = 3.0 / 5 = 0.60
    /// composite    = (0.52 + 0.50 + 0.60) / 3 = 1.62 / 3 = 0.54
    fn example_a() -> Answers {
        answers(&[
            ("economic_satisfaction", number(6.0)),
            ("economic_income", choice("yes")),
            ("economic_food", choice("sometimes")),
            ("economic_debt", choice("hard_to_repay")),
            ("economic_opportunities", choice("fair")),
            ("social_housing", choice("good")),
            ("social_documents", choice("yes")),
            ("social_health", choice("poor")),
            ("social_education", choice("fair")),
            ("social_justice", choice("very_poor")),
            ("psychosocial_support", choice("partly")),
            ("psychosocial_belonging", choice("yes")),
            ("psychosocial_safety", choice("rarely")),
            ("psychosocial_distress", choice("often")),
            ("psychosocial_staying", choice("partly")),
        ])
    }

    #[test]
    fn worked_example_a_a_complete_assessment_on_the_default_set() {
        let set = default_config().unwrap().indicators;
        let s = score(&set, &example_a()).unwrap();
        assert!(approx(s.economic.score.unwrap(), 0.52), "{s:?}");
        assert!(approx(s.social.score.unwrap(), 0.50));
        assert!(approx(s.psychosocial.score.unwrap(), 0.60));
        assert!(approx(s.composite.unwrap(), 0.54));
        assert!(s.complete());
        assert_eq!((s.answered, s.total), (15, 15));
        assert!(approx(s.composite_coverage, 1.0));
        for dim in Dimension::ALL {
            assert_eq!((s.get(*dim).answered, s.get(*dim).total), (5, 5));
            assert!(approx(s.get(*dim).weight_coverage, 1.0));
        }
        assert_eq!(s.set_id, set.id);
    }

    /// Worked example B: example A with some indicators unanswered, by hand:
    ///
    /// economic: satisfaction not asked, debt "don't know" → (1 + 0.5 + 0.5) / 3 = 0.6667,
    ///           3 of 5 answered, weight coverage 3/5
    /// social: education "not applicable" → (0.75 + 1 + 0.25 + 0) / 4 = 0.5, 4 of 5
    /// psychosocial: all "no answer" → no score, 0 of 5
    /// composite over the two scored dimensions: (0.6667 + 0.5) / 2 = 0.5833, coverage 2/3
    #[test]
    fn worked_example_b_a_partial_assessment_is_scored_over_what_was_answered() {
        let set = default_config().unwrap().indicators;
        let mut a = example_a();
        a.remove("economic_satisfaction");
        a.insert("economic_debt".into(), choice("dont_know"));
        a.insert("social_education".into(), choice("not_applicable"));
        for i in set
            .indicators
            .iter()
            .filter(|i| i.dimension == Dimension::Psychosocial)
        {
            a.insert(i.id.clone(), Answer::NoAnswer);
        }
        let s = score(&set, &a).unwrap();
        assert!(approx(s.economic.score.unwrap(), 2.0 / 3.0), "{s:?}");
        assert_eq!((s.economic.answered, s.economic.total), (3, 5));
        assert!(approx(s.economic.weight_coverage, 0.6));
        assert!(approx(s.social.score.unwrap(), 0.5));
        assert_eq!(s.social.answered, 4);
        assert_eq!(s.psychosocial.score, None);
        assert_eq!(s.psychosocial.answered, 0);
        assert!(approx(s.psychosocial.weight_coverage, 0.0));
        assert!(approx(s.composite.unwrap(), (2.0 / 3.0 + 0.5) / 2.0));
        assert!(approx(s.composite_coverage, 2.0 / 3.0));
        assert!(!s.complete());
        assert_eq!((s.answered, s.total), (7, 15));
        // Nothing answered at all: no score anywhere, no error.
        let none = score(&set, &Answers::new()).unwrap();
        assert_eq!(none.composite, None);
        assert!(Dimension::ALL.iter().all(|d| none.get(*d).score.is_none()));
    }

    /// Worked example C on the small set (unequal weights, reversed numeric scale), by hand:
    ///
    /// economic     = (3·1 + 1·(1 − 6/30)) / (3 + 1) = 3.8 / 4 = 0.95
    /// social       = (1·0 + 1·0.4) / 2 = 0.2
    /// psychosocial = p1 only: 2·1 / 2 = 1.0, weight coverage 2/3
    /// composite    = (2·0.95 + 1·0.2 + 1·1.0) / 4 = 3.1 / 4 = 0.775
    /// without e1   : economic = 0.8, composite = (1.6 + 0.2 + 1.0) / 4 = 0.7
    #[test]
    fn worked_example_c_weights_count_and_are_renormalised() {
        let set = parse_config(SMALL).unwrap().indicators;
        let mut a = answers(&[
            ("e1", choice("yes")),
            ("e2", number(6.0)),
            ("s1", choice("no")),
            ("s2", choice("b")),
            ("p1", choice("yes")),
            ("p2", choice("dk")),
        ]);
        let s = score(&set, &a).unwrap();
        assert!(approx(s.economic.score.unwrap(), 0.95), "{s:?}");
        assert!(approx(s.social.score.unwrap(), 0.2));
        assert!(approx(s.psychosocial.score.unwrap(), 1.0));
        assert!(approx(s.psychosocial.weight_coverage, 2.0 / 3.0));
        assert!(approx(s.composite.unwrap(), 0.775));
        a.remove("e1");
        let s = score(&set, &a).unwrap();
        assert!(approx(s.economic.score.unwrap(), 0.8));
        assert!(approx(s.economic.weight_coverage, 0.25));
        assert!(approx(s.composite.unwrap(), 0.7));
        // The ends of a numeric scale.
        for (days, expected) in [(0.0, 1.0), (30.0, 0.0), (15.0, 0.5)] {
            let s = score(&set, &answers(&[("e2", number(days))])).unwrap();
            assert!(approx(s.economic.score.unwrap(), expected), "{days}");
        }
    }

    #[test]
    fn an_answer_outside_its_scale_is_refused_naming_the_indicator() {
        let set = default_config().unwrap().indicators;
        let cases = [
            ("economic_income", choice("maybe"), "economic_income"),
            ("economic_satisfaction", number(11.0), "0 to 10"),
            (
                "economic_satisfaction",
                number(-0.5),
                "economic_satisfaction",
            ),
            (
                "economic_satisfaction",
                number(f64::NAN),
                "economic_satisfaction",
            ),
            ("economic_satisfaction", choice("yes"), "with a number"),
            ("social_health", number(3.0), "choosing an option"),
            ("no_such_indicator", choice("yes"), "no_such_indicator"),
        ];
        for (id, answer, word) in cases {
            let mut a = example_a();
            a.insert(id.into(), answer.clone());
            let e = score(&set, &a).unwrap_err();
            assert_eq!(e.field, "answers");
            assert!(e.message.contains(word), "{id} {answer:?}: {e}");
        }
        let mut a = example_a();
        a.insert("economic_satisfaction".into(), number(10.0));
        assert!(score(&set, &a).is_ok(), "the top of the scale is inside it");
    }

    fn scores(e: Option<f64>, s: Option<f64>, p: Option<f64>, c: Option<f64>) -> Scores {
        let ds = |dimension, score| DimensionScore {
            dimension,
            score,
            answered: 5,
            total: 5,
            weight_coverage: 1.0,
        };
        Scores {
            set_id: "passerelle-default".into(),
            set_version: "1".into(),
            economic: ds(Dimension::Economic, e),
            social: ds(Dimension::Social, s),
            psychosocial: ds(Dimension::Psychosocial, p),
            composite: c,
            composite_coverage: 1.0,
            answered: 15,
            total: 15,
        }
    }

    #[test]
    fn the_trend_says_up_down_or_stable_within_epsilon() {
        let eps = 0.05;
        let before = scores(Some(0.5), Some(0.5), Some(0.5), Some(0.5));
        let after = scores(Some(0.55), Some(0.56), Some(0.44), None);
        let t = trend(&before, &after, eps);
        assert_eq!(
            t.economic.direction,
            Some(Direction::Stable),
            "exactly epsilon"
        );
        assert_eq!(t.social.direction, Some(Direction::Up));
        assert!(approx(t.social.delta.unwrap(), 0.06));
        assert_eq!(t.psychosocial.direction, Some(Direction::Down));
        assert_eq!(t.composite.delta, None, "no current composite");
        assert_eq!(t.composite.direction, None);
        assert_eq!(t.composite.previous, Some(0.5));
        assert!(t.same_indicator_set);
        let mut other = after.clone();
        other.set_version = "2".into();
        assert!(!trend(&before, &other, eps).same_indicator_set);
        // Between two real assessments: example B (partial) → example A (complete).
        let set = default_config().unwrap().indicators;
        let a = score(&set, &example_a()).unwrap();
        let mut partial = example_a();
        partial.insert("economic_income".into(), choice("no"));
        let b = score(&set, &partial).unwrap();
        let t = trend(&b, &a, eps);
        // economic went from (0.6+0+0.5+0+0.5)/5 = 0.32 to 0.52.
        assert!(approx(t.economic.delta.unwrap(), 0.2));
        assert_eq!(t.economic.direction, Some(Direction::Up));
        assert_eq!(t.social.direction, Some(Direction::Stable));
    }

    // ---------------------------------------------------------------- alerts

    #[test]
    fn a_low_dimension_or_a_sharp_drop_raises_an_alert() {
        let t = default_config().unwrap().alerts;
        assert!(
            approx(t.low_score, 0.4) && approx(t.sharp_drop, 0.2),
            "the values used below"
        );
        let before = scores(Some(0.6), Some(0.5), Some(0.7), Some(0.6));
        let now = scores(Some(0.39), Some(0.4), Some(0.5), Some(0.43));
        let alerts = automatic_alerts(Some(&before), &now, &t);
        let got: Vec<(AlertCategory, Option<Dimension>)> =
            alerts.iter().map(|a| (a.category, a.dimension)).collect();
        assert_eq!(
            got,
            [
                // 0.39 < 0.4; social at exactly 0.4 is not below.
                (AlertCategory::LowScore, Some(Dimension::Economic)),
                // 0.6 → 0.39 falls 0.21; 0.7 → 0.5 falls exactly 0.2; social falls 0.1 and
                // the composite 0.17: no alert.
                (AlertCategory::SharpDrop, Some(Dimension::Economic)),
                (AlertCategory::SharpDrop, Some(Dimension::Psychosocial)),
            ]
        );
        assert_eq!(alerts[0].severity, t.low_score_severity);
        assert_eq!(alerts[1].severity, t.sharp_drop_severity);
        assert!(approx(alerts[1].value, 0.21));
        assert!(
            alerts[1].message.contains("0.60 to 0.39"),
            "{}",
            alerts[1].message
        );
        // The composite falls too.
        let crash = scores(Some(0.3), Some(0.3), Some(0.3), Some(0.3));
        let alerts = automatic_alerts(Some(&before), &crash, &t);
        assert!(
            alerts
                .iter()
                .any(|a| a.category == AlertCategory::SharpDrop && a.dimension.is_none())
        );
        assert_eq!(
            alerts
                .iter()
                .filter(|a| a.category == AlertCategory::LowScore)
                .count(),
            3
        );
        // A first assessment: only the low scores. A rise: nothing.
        assert_eq!(automatic_alerts(None, &now, &t).len(), 1);
        assert!(automatic_alerts(Some(&now), &before, &t).is_empty());
        // A dimension without a score raises nothing.
        let unknown = scores(None, Some(0.9), None, Some(0.9));
        assert!(automatic_alerts(Some(&before), &unknown, &t).is_empty());
        // The thresholds are the configuration's, not the code's.
        let lenient = AlertThresholds {
            low_score: 0.3,
            sharp_drop: 0.5,
            ..t
        };
        assert!(automatic_alerts(Some(&before), &now, &lenient).is_empty());
    }

    #[test]
    fn alerts_go_open_acknowledged_closed_with_an_action() {
        use AlertStatus::*;
        let close = |a: &str| AlertChange::Close { action: a.into() };
        assert_eq!(
            check_alert_change(Open, &AlertChange::Acknowledge),
            Ok(Acknowledged)
        );
        assert_eq!(
            check_alert_change(Acknowledged, &close("called the person; family safe")),
            Ok(Closed)
        );
        assert_eq!(
            rule(check_alert_change(Open, &close("done"))),
            "alert_order"
        );
        assert_eq!(
            rule(check_alert_change(Acknowledged, &AlertChange::Acknowledge)),
            "alert_order"
        );
        assert_eq!(
            rule(check_alert_change(Acknowledged, &close("  "))),
            "action_required"
        );
        assert_eq!(
            rule(check_alert_change(
                Acknowledged,
                &close(&"x".repeat(MAX_TEXT + 1))
            )),
            "text_too_long"
        );
        for change in [AlertChange::Acknowledge, close("again")] {
            assert_eq!(rule(check_alert_change(Closed, &change)), "alert_closed");
        }
    }

    #[test]
    fn threats_and_trafficker_contact_are_never_low() {
        for c in [
            AlertCategory::ThreatsToPersonOrFamily,
            AlertCategory::TraffickerOrRecruiterContact,
        ] {
            assert_eq!(rule(check_new_alert(c, Severity::Medium)), "severity_floor");
            assert!(check_new_alert(c, Severity::High).is_ok());
            assert!(check_new_alert(c, Severity::Critical).is_ok());
        }
        for c in [
            AlertCategory::Debt,
            AlertCategory::SanctionsOnReturn,
            AlertCategory::WishToRemigrateIrregularly,
        ] {
            assert!(check_new_alert(c, Severity::Low).is_ok(), "{c}");
        }
        assert_eq!(
            AlertCategory::parse("sanctions_on_return"),
            Ok(AlertCategory::SanctionsOnReturn)
        );
        assert_eq!(AlertCategory::ALL.len(), 8);
    }

    // ---------------------------------------------------------------- closing

    #[test]
    fn each_reason_closes_from_its_stages() {
        let early = [Stage::Referred, Stage::Screening];
        for stage in Stage::ALL.iter().copied() {
            for reason in ClosingReason::ALL.iter().copied() {
                let expected: Result<(), &str> = match (stage, reason) {
                    (Stage::Closed, _) => Err("already_closed"),
                    (s, ClosingReason::NotIdentified) if !early.contains(&s) => {
                        Err("not_identified_stage")
                    }
                    (s, ClosingReason::Reintegrated) if s != Stage::FollowUp => {
                        Err("reintegrated_stage")
                    }
                    _ => Ok(()),
                };
                assert_eq!(
                    may_close(stage, reason).map_err(|r| r.rule),
                    expected.map_err(str::to_owned),
                    "{stage} / {reason}"
                );
            }
        }
        // Spelled out, the cases that matter most.
        assert!(may_close(Stage::Screening, ClosingReason::NotIdentified).is_ok());
        assert!(may_close(Stage::Protection, ClosingReason::NotIdentified).is_err());
        assert!(may_close(Stage::FollowUp, ClosingReason::Reintegrated).is_ok());
        assert!(may_close(Stage::Returned, ClosingReason::Reintegrated).is_err());
        assert!(may_close(Stage::ReturnInProgress, ClosingReason::PersonsWish).is_ok());
    }

    #[test]
    fn the_closing_status_goes_with_the_reason() {
        use ClosingStatus::*;
        assert_eq!(
            ClosingReason::ReferredElsewhere.default_status(),
            ClosedReferred
        );
        assert_eq!(ClosingReason::Death.default_status(), Closed);
        assert!(
            check_closing(
                Stage::Protection,
                ClosingReason::ReferredElsewhere,
                ClosedReferred
            )
            .is_ok()
        );
        assert_eq!(
            rule(check_closing(
                Stage::Protection,
                ClosingReason::ReferredElsewhere,
                Closed
            )),
            "closing_status"
        );
        assert_eq!(
            rule(check_closing(
                Stage::FollowUp,
                ClosingReason::Death,
                ClosedReferred
            )),
            "closing_status"
        );
        for status in [Closed, ClosedReferred] {
            assert!(check_closing(Stage::Screening, ClosingReason::NotIdentified, status).is_ok());
        }
        assert_eq!(
            rule(check_closing(
                Stage::Closed,
                ClosingReason::ReferredElsewhere,
                ClosedReferred
            )),
            "already_closed"
        );
        for r in ClosingReason::ALL {
            assert!(r.statuses().contains(&r.default_status()), "{r}");
        }
    }

    // ---------------------------------------------------------------- shapes

    #[test]
    fn the_json_shapes_are_stable() {
        let v = Visit {
            due_on: d("2026-02-14"),
            status: done("2026-02-16", "A. Diallo"),
        };
        let j = serde_json::to_value(&v).unwrap();
        assert_eq!(
            j,
            serde_json::json!({"due_on": "2026-02-14", "status": {"status": "done", "on": "2026-02-16", "mode": "phone", "by": "A. Diallo"}})
        );
        assert_eq!(serde_json::from_value::<Visit>(j).unwrap(), v);
        let a: Answers = serde_json::from_value(serde_json::json!({
            "economic_income": {"kind": "choice", "option": "yes"},
            "economic_satisfaction": {"kind": "number", "value": 7},
            "economic_debt": {"kind": "no_answer"}
        }))
        .unwrap();
        assert_eq!(a["economic_satisfaction"], number(7.0));
        let s = score(&default_config().unwrap().indicators, &example_a()).unwrap();
        let back: Scores = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(
            back, s,
            "scores are stored with the assessment and read back"
        );
    }

    proptest::proptest! {
        #[test]
        fn every_score_stays_within_zero_and_one(picks in proptest::collection::vec(0usize..8, 15)) {
            let set = default_config().unwrap().indicators;
            let mut a = Answers::new();
            for (ind, pick) in set.indicators.iter().zip(&picks) {
                let answer = match &ind.scale {
                    Scale::Options { options } if *pick < options.len() => choice(&options[*pick].id),
                    Scale::Numeric { min, max, .. } if *pick < 7 => number(min + (max - min) * (*pick as f64) / 6.0),
                    _ => continue,
                };
                a.insert(ind.id.clone(), answer);
            }
            let s = score(&set, &a).unwrap();
            let dims: Vec<f64> = Dimension::ALL.iter().filter_map(|d| s.get(*d).score).collect();
            for x in &dims {
                proptest::prop_assert!((0.0..=1.0).contains(x));
            }
            match s.composite {
                None => proptest::prop_assert!(dims.is_empty()),
                Some(c) => {
                    // A weighted mean lies between its smallest and largest part.
                    let lo = dims.iter().copied().fold(1.0, f64::min);
                    let hi = dims.iter().copied().fold(0.0, f64::max);
                    proptest::prop_assert!(c >= lo - 1e-9 && c <= hi + 1e-9);
                }
            }
            proptest::prop_assert!((0.0..=1.0).contains(&s.composite_coverage));
        }

        #[test]
        fn a_schedule_is_strictly_ascending_and_keeps_every_offset(
            offsets in proptest::collection::vec(0u32..=MAX_OFFSET_DAYS, 1..30)
        ) {
            let arrival = d("2026-01-15");
            let dates = schedule(arrival, &offsets).unwrap();
            proptest::prop_assert!(dates.windows(2).all(|w| w[0] < w[1]));
            for o in &offsets {
                let date = arrival + Days::new(u64::from(*o));
                proptest::prop_assert!(dates.contains(&date));
            }
            proptest::prop_assert!(dates.len() <= offsets.len());
        }
    }
}
