//! Alerts after return: raised by a follow-up officer, or by the scores and missed visits.

use super::*;

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
