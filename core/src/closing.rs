//! Closing a case (issue 12, point 5): with an outcome in the HTCDS case-status vocabulary
//! (Closed / ClosedReferred) and a reason. "Not identified" closes early; "reintegrated"
//! only after follow-up; the others at any open stage. Pure.

use crate::domain::{Invalid, Stage, str_enum};
use crate::returns::Refusal;
use serde::{Deserialize, Serialize};
use std::fmt;

fn refusal(rule: &str, message: impl Into<String>) -> Refusal {
    Refusal::new(rule, message)
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
            )
            .with("case_stage", stage))
        }
        ClosingReason::Reintegrated if stage != Stage::FollowUp => Err(refusal(
            "reintegrated_stage",
            format!("\"reintegrated\" closes a case in follow-up; this case is at {stage}"),
        )
        .with("case_stage", stage)),
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
        let statuses: Vec<&str> = reason.statuses().iter().map(|s| s.as_str()).collect();
        return Err(refusal(
            "closing_status",
            format!("a case closed as {reason} is {}", statuses.join(" or ")),
        )
        .with("reason", reason)
        .with("statuses", statuses.join(",")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule<T: std::fmt::Debug>(r: Result<T, Refusal>) -> String {
        r.err().map(|r| r.rule).unwrap_or_default()
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
}
