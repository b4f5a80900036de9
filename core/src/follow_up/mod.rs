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

use crate::domain::{Invalid, str_enum};
use crate::returns::Refusal;
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

fn refusal(rule: &str, message: impl Into<String>) -> Refusal {
    Refusal::new(rule, message)
}

/// Floating-point slack for threshold comparisons, so that 0.6 → 0.4 counts as a fall of
/// 0.2 although `0.6 - 0.4` is 0.19999999999999996 in binary.
const SLACK: f64 = 1e-9;

/// The most text a reason, note or action may hold (characters).
pub const MAX_TEXT: usize = 2000;

mod alerts;
mod plan;
mod schedule;
mod scoring;

pub use alerts::*;
pub use plan::*;
pub use schedule::*;
pub use scoring::*;

#[cfg(test)]
mod tests;
