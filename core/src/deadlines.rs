//! Deadlines: the clocks that need someone to act on a case, stored (a recovery period,
//! an expected decision) or computed from the case (a hearing that conflicts with a
//! departure, a citizenship confirmation that is due, a return stuck past its stage's
//! target). Pure: which kinds exist, when a stored one still matters, and the stable id
//! of each row.

use crate::domain::Stage;
use sha2::{Digest, Sha256};

/// The end of the recovery and reflection period (stored, from a reasonable-grounds
/// decision).
pub const RECOVERY_PERIOD_END: &str = "recovery_reflection_period_end";
/// The reasonable-grounds decision the jurisdiction expects within some days of referral
/// (stored).
pub const REASONABLE_GROUNDS_DUE: &str = "reasonable_grounds_decision_due";
/// A hearing that needs the person after their planned departure (computed, see
/// `crate::trial::conflicts`): due when the first alternative must be requested.
pub const HEARING_CONFLICT: &str = "hearing_conflict";
/// A citizenship-confirmation request not yet answered (computed): due on its due date.
pub const CITIZENSHIP_CONFIRMATION: &str = "citizenship_confirmation_due";
/// A return at one stage longer than its service-level target (computed).
pub const RETURN_STAGE_TARGET: &str = "return_stage_target";

/// A follow-up visit after return that is due within a week or overdue (computed): due
/// on its due date; overdue once past it by the configured grace days.
pub const FOLLOW_UP_VISIT: &str = "follow_up_visit";
/// A follow-up visit that was missed with no visit since (computed): the person must be
/// reached; due on the day it was missed.
pub const FOLLOW_UP_VISIT_MISSED: &str = "follow_up_visit_missed";

/// Every kind, for filters and their error messages.
pub const KINDS: &[&str] = &[
    RECOVERY_PERIOD_END,
    REASONABLE_GROUNDS_DUE,
    HEARING_CONFLICT,
    CITIZENSHIP_CONFIRMATION,
    RETURN_STAGE_TARGET,
    FOLLOW_UP_VISIT,
    FOLLOW_UP_VISIT_MISSED,
];

/// Does a stored deadline of this kind still matter at this stage of the case? The
/// recovery period and the expected decision protect a person in the destination
/// country: once they have returned, or the case is closed, they are history, not work.
pub fn applies(kind: &str, stage: Stage) -> bool {
    match kind {
        RECOVERY_PERIOD_END | REASONABLE_GROUNDS_DUE => stage.rank() < Stage::Returned.rank(),
        _ => stage != Stage::Closed,
    }
}

/// The page of a case where a deadline of this kind is acted on.
pub fn page_of(kind: &str) -> &'static str {
    match kind {
        HEARING_CONFLICT => "proceedings",
        CITIZENSHIP_CONFIRMATION | RETURN_STAGE_TARGET => "return",
        FOLLOW_UP_VISIT | FOLLOW_UP_VISIT_MISSED => "follow-up",
        _ => "identification",
    }
}

/// The stable id of a deadline row: 32 hex characters derived from its kind and what it
/// comes from (a stored row's id, a hearing, a request, a return and its stage), so that
/// a computed row keeps its id from one call to the next, like a stored one.
pub fn stable_id(kind: &str, source: &str) -> String {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    h.update(b"|");
    h.update(source.as_bytes());
    hex::encode(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_deadlines_of_the_destination_country_end_with_the_return() {
        for s in [
            Stage::Referred,
            Stage::Screening,
            Stage::Protection,
            Stage::SolutionPlanning,
            Stage::ReturnInProgress,
        ] {
            assert!(applies(RECOVERY_PERIOD_END, s), "{s}");
            assert!(applies(REASONABLE_GROUNDS_DUE, s), "{s}");
        }
        for s in [Stage::Returned, Stage::FollowUp, Stage::Closed] {
            assert!(!applies(RECOVERY_PERIOD_END, s), "{s}");
            assert!(!applies(REASONABLE_GROUNDS_DUE, s), "{s}");
        }
        assert!(applies(HEARING_CONFLICT, Stage::Returned));
        assert!(!applies(HEARING_CONFLICT, Stage::Closed));
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = stable_id(HEARING_CONFLICT, "h1");
        assert_eq!(a, stable_id(HEARING_CONFLICT, "h1"));
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, stable_id(HEARING_CONFLICT, "h2"));
        assert_ne!(a, stable_id(CITIZENSHIP_CONFIRMATION, "h1"));
        assert_eq!(page_of(CITIZENSHIP_CONFIRMATION), "return");
        assert_eq!(page_of(RECOVERY_PERIOD_END), "identification");
    }
}
