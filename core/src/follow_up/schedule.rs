//! The follow-up schedule and its visits.

use super::*;

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
