//! Voluntary return (seed §31, §36–37): the stages of a return, the rule that checks
//! each move, the checklist the jurisdiction asks for, the citizenship-confirmation
//! clock and the service-level clock. Pure: no I/O; what the rules need is gathered by
//! the service into `ReturnFacts`.

use crate::domain::{Invalid, str_enum};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

str_enum!(
    /// The stages of a return. `Cancelled` can be reached from any stage before departure.
    ReturnStage, "stage" {
        Requested => "requested",
        Assessed => "assessed",
        Approved => "approved",
        DocumentsReady => "documents_ready",
        TravelBooked => "travel_booked",
        Departed => "departed",
        Received => "received",
        Cancelled => "cancelled",
    }
);

str_enum!(
    /// A level of risk found by the assessment.
    RiskLevel, "risk" {
        Low => "low",
        Medium => "medium",
        High => "high",
    }
);

str_enum!(
    /// The answer of an origin state to a citizenship-confirmation request.
    CitizenshipAnswer, "answer" {
        Pending => "pending",
        Confirmed => "confirmed",
        Refused => "refused",
        NoAnswer => "no_answer",
    }
);

str_enum!(
    /// A travel document.
    DocumentKind, "kind" {
        Passport => "passport",
        LaissezPasser => "laissez_passer",
        StatelessTravelDocument => "stateless_travel_document",
    }
);

impl ReturnStage {
    /// The stage after this one on the way home (None at the end, or when cancelled).
    pub fn next(self) -> Option<ReturnStage> {
        use ReturnStage::*;
        match self {
            Requested => Some(Assessed),
            Assessed => Some(Approved),
            Approved => Some(DocumentsReady),
            DocumentsReady => Some(TravelBooked),
            TravelBooked => Some(Departed),
            Departed => Some(Received),
            Received | Cancelled => None,
        }
    }
    /// Still moving (not received, not cancelled).
    pub fn is_open(self) -> bool {
        !matches!(self, ReturnStage::Received | ReturnStage::Cancelled)
    }
    /// How many days a return may stay at this stage before it is flagged as stuck
    /// (a service-level target: states should act quickly on a request, §37).
    pub fn target_days(self) -> Option<i64> {
        use ReturnStage::*;
        match self {
            Requested => Some(7),
            Assessed => Some(7),
            Approved => Some(21),
            DocumentsReady => Some(14),
            TravelBooked => Some(21),
            Departed => Some(3),
            Received | Cancelled => None,
        }
    }
}

/// The person's consent to return, as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentState {
    Missing,
    Withdrawn,
    Present,
}

/// The latest risk assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskFacts {
    pub persecution: RiskLevel,
    pub re_trafficking: RiskLevel,
    /// A safety plan answers a high risk of re-trafficking.
    pub safety_plan: bool,
}

/// One item of the jurisdiction's checklist and whether it is met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub id: String,
    /// The jurisdiction's name for it, in the language of the request.
    pub label: String,
    pub met: bool,
}

/// The stage by which a requirement must be met. The jurisdiction lists what a return
/// needs; what only exists after approval (the travel document, which the agency
/// obtains; the reception, which it arranges) gates the later stage it belongs to.
/// Anything else — including a plugin's own checks — must be met before approval.
pub fn requirement_stage(id: &str) -> ReturnStage {
    match id {
        "travel_document" => ReturnStage::DocumentsReady,
        "reception_arranged" => ReturnStage::TravelBooked,
        _ => ReturnStage::Approved,
    }
}

/// Everything the transition rule looks at, gathered by the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnFacts {
    pub stage: ReturnStage,
    pub consent: ConsentState,
    pub child: bool,
    /// Someone other than the person asked (a guardian, a representative).
    pub requested_by_person: bool,
    /// The recovery and reflection period is running.
    pub in_recovery_period: bool,
    pub risk: Option<RiskFacts>,
    pub guardian_appointed: bool,
    pub best_interests_determined: bool,
    /// Hearings that need the person after the planned departure, not yet cleared.
    pub trial_conflicts: usize,
    /// The jurisdiction's checklist.
    pub requirements: Vec<Requirement>,
    pub itinerary_legs: usize,
    pub legs_without_escort: usize,
    pub counselled: bool,
}

/// Why a move was refused: the rule and, in plain words, what is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Refusal {
    pub rule: String,
    /// In English, for people reading the API; pages say it in the reader's language from
    /// the rule and its `args`.
    pub message: String,
    /// The values the message names, by name (a stage, a count, a checklist item), so that
    /// a page can say it in another language without parsing the English text; `variant`
    /// tells apart the messages of one rule (`cancel`, `withdrawn`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
}

impl Refusal {
    pub fn new(rule: &str, message: impl Into<String>) -> Self {
        Self {
            rule: rule.into(),
            message: message.into(),
            args: BTreeMap::new(),
        }
    }

    /// The same refusal naming `value` as `name`.
    pub fn with(mut self, name: &str, value: impl fmt::Display) -> Self {
        self.args.insert(name.to_owned(), value.to_string());
        self
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.rule, self.message)
    }
}

/// May the return move to `to`? Every rule that refuses says so; an empty list allows.
///
/// Stages are taken in order, one at a time; cancelling is possible until
/// departure. Each step forward needs the person's consent in force. Approval needs a
/// risk assessment without a high risk of persecution (non-refoulement) and, for a
/// high risk of re-trafficking, a safety plan; for a child, a guardian and a
/// best-interests determination; no hearing that still needs the person; and every
/// pre-approval item of the jurisdiction's checklist. During the recovery and
/// reflection period only the person's own request can go forward. The documents stage
/// needs the travel document; booking needs an itinerary, the reception and, for a
/// child, an escort on every leg; departure needs pre-departure counselling and again
/// no hearing conflict.
pub fn check_move(to: ReturnStage, f: &ReturnFacts) -> Vec<Refusal> {
    use ReturnStage::*;
    let mut out = Vec::new();
    if to == Cancelled {
        if !f.stage.is_open() || f.stage == Departed {
            out.push(
                Refusal::new(
                    "stage_order",
                    format!("a return that is {} cannot be cancelled", f.stage),
                )
                .with("variant", "cancel")
                .with("stage", f.stage),
            );
        }
        return out;
    }
    if f.stage.next() != Some(to) {
        let next = f.stage.next();
        let mut r = Refusal::new(
            "stage_order",
            format!(
                "a return moves one stage at a time: from {} it can only go to {}",
                f.stage,
                next.map_or("nothing".to_owned(), |s| s.to_string())
            ),
        )
        .with("from", f.stage);
        r = match next {
            Some(n) => r.with("next", n),
            None => r.with("variant", "end"),
        };
        out.push(r);
        return out;
    }
    match f.consent {
        ConsentState::Present => {}
        ConsentState::Missing => out.push(
            Refusal::new(
                "consent",
                "the person's informed consent to return is not recorded (§37: return must be voluntary)",
            )
        ),
        ConsentState::Withdrawn => out.push(
            Refusal::new(
                "consent",
                "the person withdrew their consent to return: the return stops",
            )
            .with("variant", "withdrawn"),
        ),
    }
    if f.in_recovery_period && !f.requested_by_person && to != Received {
        out.push(Refusal::new(
            "recovery_period",
            "during the recovery and reflection period a return goes ahead only at the person's own request",
        ));
    }
    let conflicts = |out: &mut Vec<Refusal>| {
        if f.trial_conflicts > 0 {
            out.push(
                Refusal::new(
                    "trial_conflict",
                    format!(
                        "{} hearing(s) still need the person after the planned departure: obtain a recorded testimony or a live link, or move the departure",
                        f.trial_conflicts
                    ),
                )
                .with("n", f.trial_conflicts),
            );
        }
    };
    let unmet = |stage: ReturnStage, out: &mut Vec<Refusal>| {
        for r in f
            .requirements
            .iter()
            .filter(|r| !r.met && requirement_stage(&r.id) == stage)
        {
            out.push(
                Refusal::new(
                    &format!("requirement:{}", r.id),
                    format!("missing from the checklist: {}", r.id),
                )
                .with("item", &r.id)
                .with("label", &r.label),
            );
        }
    };
    let travel = |out: &mut Vec<Refusal>| {
        if f.itinerary_legs == 0 {
            out.push(Refusal::new("itinerary", "record the itinerary first"));
        }
        if f.child && f.legs_without_escort > 0 {
            out.push(Refusal::new(
                "child_escort",
                "a child travels with an escort on every leg",
            ));
        }
    };
    match to {
        Assessed => {
            if f.risk.is_none() {
                out.push(Refusal::new(
                    "risk_assessment",
                    "record the risk assessment first",
                ));
            }
        }
        Approved => {
            match f.risk {
                None => out.push(
                    Refusal::new(
                        "risk_assessment",
                        "a return cannot be approved without a risk assessment",
                    )
                    .with("variant", "approve"),
                ),
                Some(r) => {
                    if r.persecution == RiskLevel::High {
                        out.push(Refusal::new(
                            "non_refoulement",
                            "high risk of persecution or serious harm in the country of origin: no return; refer the person for asylum or another legal stay",
                        ));
                    }
                    if r.re_trafficking == RiskLevel::High && !r.safety_plan {
                        out.push(Refusal::new(
                            "re_trafficking",
                            "high risk of re-trafficking: record a safety plan with the origin-country service before approval",
                        ));
                    }
                }
            }
            if f.child {
                if !f.guardian_appointed {
                    out.push(Refusal::new(
                        "child_guardian",
                        "a child's return needs a guardian",
                    ));
                }
                if !f.best_interests_determined {
                    out.push(Refusal::new(
                        "best_interests",
                        "a child's return needs a best-interests determination",
                    ));
                }
            }
            conflicts(&mut out);
            unmet(Approved, &mut out);
        }
        DocumentsReady => unmet(DocumentsReady, &mut out),
        TravelBooked => {
            travel(&mut out);
            unmet(TravelBooked, &mut out);
        }
        Departed => {
            // Legs change until departure: what held at booking is checked again.
            travel(&mut out);
            if !f.counselled {
                out.push(Refusal::new(
                    "counselling",
                    "record the pre-departure counselling first",
                ));
            }
            conflicts(&mut out);
        }
        Received | Requested | Cancelled => {}
    }
    // Consent and recovery rules do not hold back the record of an arrival that
    // happened: once departed, the person's arrival is a fact to record.
    if to == Received {
        out.retain(|r| r.rule != "consent");
    }
    out
}

/// A citizenship-confirmation request as the clock sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RequestClock {
    /// Days since it was sent.
    pub age_days: i64,
    /// Days past its due date (0 when not overdue).
    pub overdue_days: i64,
    pub overdue: bool,
}

/// The clock of a citizenship request: an unanswered one past its due date is overdue.
pub fn citizenship_clock(
    sent_on: NaiveDate,
    due_on: NaiveDate,
    answer: CitizenshipAnswer,
    today: NaiveDate,
) -> RequestClock {
    let overdue = answer == CitizenshipAnswer::Pending && today > due_on;
    RequestClock {
        age_days: (today - sent_on).num_days().max(0),
        overdue_days: if overdue {
            (today - due_on).num_days()
        } else {
            0
        },
        overdue,
    }
}

/// Check a citizenship request before it is sent.
pub fn check_citizenship_request(
    stateless: bool,
    sent_on: NaiveDate,
    due_on: NaiveDate,
) -> Result<(), Invalid> {
    if stateless {
        return Err(Invalid::new(
            "authority",
            "the person is stateless: there is no origin state to confirm citizenship; follow the statelessness path instead",
        ));
    }
    if due_on < sent_on {
        return Err(Invalid::new(
            "due_on",
            "cannot be before the request is sent",
        ));
    }
    Ok(())
}

/// The service-level clock of a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReturnClock {
    /// Days from the request to departure (so far, when not departed yet).
    pub days_since_request: i64,
    /// Days at the current stage.
    pub days_in_stage: i64,
    /// Over the stage's target.
    pub stuck: bool,
}

pub fn return_clock(
    stage: ReturnStage,
    requested_on: NaiveDate,
    stage_since: NaiveDate,
    departed_on: Option<NaiveDate>,
    today: NaiveDate,
) -> ReturnClock {
    let end = departed_on.unwrap_or(today);
    let days_in_stage = (today - stage_since).num_days().max(0);
    ReturnClock {
        days_since_request: (end - requested_on).num_days().max(0),
        days_in_stage,
        stuck: stage.target_days().is_some_and(|t| days_in_stage > t),
    }
}

/// The date of a departure or an arrival, as recorded on a move: the day it really
/// happened, never in the future.
///
/// - A departure is not dated before the return was requested, nor before the first
///   booked leg's travel date unless `early_reason` says why (the person left earlier
///   than booked: the itinerary is then out of date and the reason keeps the record
///   honest).
/// - An arrival is not dated before the departure.
pub fn check_travel_date(
    to: ReturnStage,
    on: NaiveDate,
    today: NaiveDate,
    requested_on: NaiveDate,
    first_booked_leg: Option<NaiveDate>,
    departed_on: Option<NaiveDate>,
    early_reason: bool,
) -> Result<(), Invalid> {
    if on > today {
        return Err(Invalid::new("on", "cannot be in the future"));
    }
    match to {
        ReturnStage::Departed => {
            if on < requested_on {
                return Err(Invalid::new(
                    "on",
                    format!("is before the return was requested ({requested_on})"),
                ));
            }
            if let Some(leg) = first_booked_leg
                && on < leg
                && !early_reason
            {
                return Err(Invalid::new(
                    "on",
                    format!(
                        "is before the booked travel date ({leg}): correct the itinerary, or say in early_reason why the person left earlier"
                    ),
                ));
            }
            Ok(())
        }
        ReturnStage::Received => match departed_on {
            Some(d) if on < d => Err(Invalid::new("on", format!("is before the departure ({d})"))),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReturnStage::*;

    fn ready(stage: ReturnStage) -> ReturnFacts {
        ReturnFacts {
            stage,
            consent: ConsentState::Present,
            child: false,
            requested_by_person: true,
            in_recovery_period: false,
            risk: Some(RiskFacts {
                persecution: RiskLevel::Low,
                re_trafficking: RiskLevel::Low,
                safety_plan: false,
            }),
            guardian_appointed: false,
            best_interests_determined: false,
            trial_conflicts: 0,
            requirements: vec![
                Requirement {
                    id: "informed_consent".into(),
                    label: "informed_consent".into(),
                    met: true,
                },
                Requirement {
                    id: "travel_document".into(),
                    label: "travel_document".into(),
                    met: true,
                },
                Requirement {
                    id: "reception_arranged".into(),
                    label: "reception_arranged".into(),
                    met: true,
                },
            ],
            itinerary_legs: 2,
            legs_without_escort: 2,
            counselled: true,
        }
    }

    fn rules(r: &[Refusal]) -> Vec<&str> {
        r.iter().map(|r| r.rule.as_str()).collect()
    }

    #[test]
    fn a_complete_return_moves_through_every_stage() {
        let mut stage = Requested;
        while let Some(next) = stage.next() {
            assert_eq!(check_move(next, &ready(stage)), vec![], "{stage} → {next}");
            stage = next;
        }
        assert_eq!(stage, Received);
    }

    #[test]
    fn stages_are_taken_in_order() {
        assert_eq!(
            rules(&check_move(Approved, &ready(Requested))),
            ["stage_order"]
        );
        assert_eq!(
            rules(&check_move(Departed, &ready(Approved))),
            ["stage_order"]
        );
        assert_eq!(
            rules(&check_move(Assessed, &ready(Cancelled))),
            ["stage_order"]
        );
    }

    #[test]
    fn no_consent_or_withdrawn_consent_stops_every_step() {
        for (consent, word) in [
            (ConsentState::Missing, "not recorded"),
            (ConsentState::Withdrawn, "withdrew"),
        ] {
            for from in [Requested, Assessed, Approved, DocumentsReady, TravelBooked] {
                let mut f = ready(from);
                f.consent = consent;
                let r = check_move(from.next().unwrap(), &f);
                assert_eq!(rules(&r), ["consent"], "{from}");
                assert!(r[0].message.contains(word));
            }
            // Cancelling stays possible (it is what a withdrawal does).
            let mut f = ready(TravelBooked);
            f.consent = consent;
            assert!(check_move(Cancelled, &f).is_empty());
        }
    }

    #[test]
    fn a_high_risk_of_persecution_blocks_the_return() {
        let mut f = ready(Assessed);
        f.risk = Some(RiskFacts {
            persecution: RiskLevel::High,
            re_trafficking: RiskLevel::Low,
            safety_plan: true,
        });
        let r = check_move(Approved, &f);
        assert_eq!(rules(&r), ["non_refoulement"]);
        assert!(r[0].message.contains("asylum"));
        // Medium is for the assessor to weigh, not a block.
        f.risk = Some(RiskFacts {
            persecution: RiskLevel::Medium,
            re_trafficking: RiskLevel::Low,
            safety_plan: false,
        });
        assert!(check_move(Approved, &f).is_empty());
    }

    #[test]
    fn a_high_risk_of_re_trafficking_needs_a_safety_plan() {
        let mut f = ready(Assessed);
        f.risk = Some(RiskFacts {
            persecution: RiskLevel::Low,
            re_trafficking: RiskLevel::High,
            safety_plan: false,
        });
        assert_eq!(rules(&check_move(Approved, &f)), ["re_trafficking"]);
        f.risk = Some(RiskFacts {
            persecution: RiskLevel::Low,
            re_trafficking: RiskLevel::High,
            safety_plan: true,
        });
        assert!(check_move(Approved, &f).is_empty());
    }

    #[test]
    fn no_assessment_no_assessed_stage_and_no_approval() {
        let mut f = ready(Requested);
        f.risk = None;
        assert_eq!(rules(&check_move(Assessed, &f)), ["risk_assessment"]);
        f.stage = Assessed;
        assert_eq!(rules(&check_move(Approved, &f)), ["risk_assessment"]);
    }

    #[test]
    fn a_child_needs_a_guardian_a_best_interests_determination_and_an_escort() {
        let mut f = ready(Assessed);
        f.child = true;
        assert_eq!(
            rules(&check_move(Approved, &f)),
            ["child_guardian", "best_interests"]
        );
        f.guardian_appointed = true;
        assert_eq!(rules(&check_move(Approved, &f)), ["best_interests"]);
        f.best_interests_determined = true;
        assert!(check_move(Approved, &f).is_empty());
        let mut f = ready(DocumentsReady);
        f.child = true;
        f.legs_without_escort = 1;
        assert_eq!(rules(&check_move(TravelBooked, &f)), ["child_escort"]);
        f.legs_without_escort = 0;
        assert!(check_move(TravelBooked, &f).is_empty());
        // An adult may travel alone.
        assert!(check_move(TravelBooked, &ready(DocumentsReady)).is_empty());
    }

    #[test]
    fn an_unresolved_trial_conflict_blocks_approval_and_departure() {
        for from in [Assessed, TravelBooked] {
            let mut f = ready(from);
            f.trial_conflicts = 1;
            let r = check_move(from.next().unwrap(), &f);
            assert_eq!(rules(&r), ["trial_conflict"], "{from}");
            assert!(r[0].message.contains("live link"));
        }
        // Documents and booking may go ahead meanwhile.
        let mut f = ready(Approved);
        f.trial_conflicts = 1;
        assert!(check_move(DocumentsReady, &f).is_empty());
    }

    #[test]
    fn a_missing_document_or_check_blocks_its_stage() {
        let mut f = ready(Assessed);
        f.requirements.push(Requirement {
            id: "ofii_return_assistance".into(),
            label: "ofii_return_assistance".into(),
            met: false,
        });
        let r = check_move(Approved, &f);
        assert_eq!(rules(&r), ["requirement:ofii_return_assistance"]);
        let mut f = ready(Approved);
        f.requirements[1].met = false; // travel_document
        assert_eq!(
            rules(&check_move(DocumentsReady, &f)),
            ["requirement:travel_document"]
        );
        let mut f = ready(DocumentsReady);
        f.requirements[2].met = false; // reception_arranged
        f.itinerary_legs = 0;
        assert_eq!(
            rules(&check_move(TravelBooked, &f)),
            ["itinerary", "requirement:reception_arranged"]
        );
        assert_eq!(requirement_stage("citizenship_confirmed"), Approved);
    }

    #[test]
    fn refusals_name_what_their_message_names() {
        let arg = |r: &Refusal, k: &str| r.args.get(k).cloned().unwrap_or_default();
        let mut f = ready(Assessed);
        f.requirements.push(Requirement {
            id: "ofii_return_assistance".into(),
            label: "Dossier OFII ouvert".into(),
            met: false,
        });
        f.trial_conflicts = 2;
        f.consent = ConsentState::Withdrawn;
        let r = check_move(Approved, &f);
        let by = |rule: &str| r.iter().find(|x| x.rule == rule).unwrap();
        assert_eq!(arg(by("trial_conflict"), "n"), "2");
        let req = by("requirement:ofii_return_assistance");
        assert_eq!(arg(req, "item"), "ofii_return_assistance");
        assert_eq!(arg(req, "label"), "Dossier OFII ouvert");
        assert_eq!(arg(by("consent"), "variant"), "withdrawn");
        let skip = &check_move(TravelBooked, &ready(Assessed))[0];
        assert_eq!(
            (arg(skip, "from"), arg(skip, "next"), arg(skip, "variant")),
            ("assessed".into(), "approved".into(), String::new())
        );
        let late = &check_move(Cancelled, &ready(Departed))[0];
        assert_eq!(
            (arg(late, "variant"), arg(late, "stage")),
            ("cancel".into(), "departed".into())
        );
        // The English message stays as the API has always said it.
        assert_eq!(
            req.to_string(),
            "[requirement:ofii_return_assistance] missing from the checklist: ofii_return_assistance"
        );
    }

    #[test]
    fn during_the_recovery_period_only_the_persons_own_request_goes_ahead() {
        let mut f = ready(Requested);
        f.in_recovery_period = true;
        assert!(check_move(Assessed, &f).is_empty(), "the person asked");
        f.requested_by_person = false;
        let r = check_move(Assessed, &f);
        assert_eq!(rules(&r), ["recovery_period"]);
        f.in_recovery_period = false;
        assert!(check_move(Assessed, &f).is_empty());
    }

    #[test]
    fn departure_needs_counselling() {
        let mut f = ready(TravelBooked);
        f.counselled = false;
        assert_eq!(rules(&check_move(Departed, &f)), ["counselling"]);
    }

    #[test]
    fn an_arrival_is_recorded_even_if_consent_changed_and_nothing_is_cancelled_after_it() {
        let mut f = ready(Departed);
        f.consent = ConsentState::Withdrawn;
        assert!(check_move(Received, &f).is_empty());
        assert_eq!(
            rules(&check_move(Cancelled, &ready(Received))),
            ["stage_order"]
        );
        assert_eq!(
            rules(&check_move(Cancelled, &ready(Departed))),
            ["stage_order"],
            "the person has left: record the arrival"
        );
    }

    #[test]
    fn citizenship_requests_are_overdue_after_their_due_date_unless_answered() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let c = citizenship_clock(
            d("2026-10-01"),
            d("2026-10-31"),
            CitizenshipAnswer::Pending,
            d("2026-11-27"),
        );
        assert_eq!(
            c,
            RequestClock {
                age_days: 57,
                overdue_days: 27,
                overdue: true
            }
        );
        let c = citizenship_clock(
            d("2026-10-01"),
            d("2026-10-31"),
            CitizenshipAnswer::Confirmed,
            d("2026-11-27"),
        );
        assert!(!c.overdue);
        let c = citizenship_clock(
            d("2026-11-20"),
            d("2026-11-27"),
            CitizenshipAnswer::Pending,
            d("2026-11-27"),
        );
        assert!(!c.overdue, "due today is not overdue yet");
        assert!(check_citizenship_request(true, d("2026-11-01"), d("2026-11-30")).is_err());
        assert_eq!(
            check_citizenship_request(false, d("2026-11-30"), d("2026-11-01"))
                .unwrap_err()
                .field,
            "due_on"
        );
    }

    #[test]
    fn the_service_clock_flags_a_stuck_stage() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let c = return_clock(
            Approved,
            d("2026-10-01"),
            d("2026-10-20"),
            None,
            d("2026-11-27"),
        );
        assert_eq!(c.days_since_request, 57);
        assert_eq!(c.days_in_stage, 38);
        assert!(c.stuck, "approved 38 days ago, target 21");
        let c = return_clock(
            Departed,
            d("2026-10-01"),
            d("2026-11-26"),
            Some(d("2026-11-26")),
            d("2026-11-27"),
        );
        assert_eq!(c.days_since_request, 56, "request to departure");
        assert!(!c.stuck);
        assert!(
            !return_clock(
                Received,
                d("2026-01-01"),
                d("2026-02-01"),
                None,
                d("2026-11-27")
            )
            .stuck
        );
    }

    #[test]
    fn departures_and_arrivals_carry_their_real_date() {
        let d = |n: i64| {
            NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default() + chrono::Duration::days(n)
        };
        let today = d(0);
        let dep = ReturnStage::Departed;
        let field = |r: Result<(), Invalid>| r.err().map(|e| e.field);
        // Today, after the request, on the booked day: fine.
        assert!(check_travel_date(dep, today, today, d(-30), Some(today), None, false).is_ok());
        // In the future: refused, whatever the reason.
        assert_eq!(
            field(check_travel_date(
                dep,
                d(1),
                today,
                d(-30),
                None,
                None,
                true
            )),
            Some("on")
        );
        // 40 days before the only booked leg: refused without a reason, accepted with one.
        let r = check_travel_date(dep, today, today, d(-30), Some(d(40)), None, false);
        assert!(
            r.as_ref()
                .is_err_and(|e| e.message.contains("booked travel date")),
            "{r:?}"
        );
        assert!(check_travel_date(dep, today, today, d(-30), Some(d(40)), None, true).is_ok());
        // Before the request: refused.
        assert_eq!(
            field(check_travel_date(
                dep,
                d(-31),
                today,
                d(-30),
                None,
                None,
                true
            )),
            Some("on")
        );
        // An arrival: not before the departure, not in the future.
        let arr = ReturnStage::Received;
        assert!(check_travel_date(arr, d(-1), today, d(-30), None, Some(d(-2)), false).is_ok());
        assert_eq!(
            field(check_travel_date(
                arr,
                d(-3),
                today,
                d(-30),
                None,
                Some(d(-2)),
                false
            )),
            Some("on")
        );
        assert_eq!(
            field(check_travel_date(
                arr,
                d(2),
                today,
                d(-30),
                None,
                Some(d(-2)),
                false
            )),
            Some("on")
        );
    }

    #[test]
    fn a_departure_checks_again_the_legs_that_may_have_changed_since_booking() {
        let mut f = ReturnFacts {
            stage: ReturnStage::TravelBooked,
            consent: ConsentState::Present,
            child: true,
            requested_by_person: true,
            in_recovery_period: false,
            risk: None,
            guardian_appointed: true,
            best_interests_determined: true,
            trial_conflicts: 0,
            requirements: vec![],
            itinerary_legs: 0,
            legs_without_escort: 0,
            counselled: true,
        };
        let rules = |f: &ReturnFacts| -> Vec<String> {
            check_move(ReturnStage::Departed, f)
                .into_iter()
                .map(|r| r.rule)
                .collect()
        };
        assert_eq!(rules(&f), vec!["itinerary"], "the only leg was cancelled");
        f.itinerary_legs = 1;
        f.legs_without_escort = 1;
        assert_eq!(rules(&f), vec!["child_escort"], "the new leg has no escort");
        f.legs_without_escort = 0;
        assert!(rules(&f).is_empty());
    }
}
