//! Protection at trial (seed §29–30, §36): criminal proceedings, their hearings, the
//! protective measures requested and decided for them, the testimony mode each hearing
//! ends up with, and the conflict between a planned departure and a hearing that still
//! needs the person. Pure: no I/O; the catalogue of measures comes from the
//! jurisdiction port and is passed in.

use crate::domain::{Invalid, str_enum};
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

str_enum!(
    /// The person's role in the proceedings.
    PersonRole, "person_role" {
        VictimWitness => "victim_witness",
        Witness => "witness",
        CivilParty => "civil_party",
    }
);

str_enum!(
    /// What the accused are charged with.
    Charge, "charges" {
        Trafficking => "trafficking",
        Smuggling => "smuggling",
        RelatedOffence => "related_offence",
    }
);

str_enum!(
    /// The kinds of hearing.
    HearingKind, "kind" {
        PreTrialInterview => "pre_trial_interview",
        Deposition => "deposition",
        TrialSession => "trial_session",
        Judgment => "judgment",
    }
);

str_enum!(
    /// Where a measure request stands.
    MeasureStatus, "status" {
        Requested => "requested",
        Granted => "granted",
        Refused => "refused",
        Withdrawn => "withdrawn",
    }
);

str_enum!(
    /// A decision on a measure request.
    MeasureDecision, "decision" {
        Grant => "grant",
        Refuse => "refuse",
        Withdraw => "withdraw",
    }
);

str_enum!(
    /// How the person gives evidence at a hearing, given what was granted.
    TestimonyMode, "testimony_mode" {
        NotRequired => "not_required",
        InPerson => "in_person",
        InPersonProtected => "in_person_protected",
        PreRecorded => "pre_recorded",
        LiveVideoLink => "live_video_link",
        Remote => "remote",
    }
);

/// The measure of the default catalogue that takes evidence from the origin country.
pub const LIVE_VIDEO_LINK: &str = "live_video_link";
/// The measure of the default catalogue that records evidence before the trial.
pub const PRE_RECORDED: &str = "video_recorded_testimony";
/// How long before its deadline a measure should be requested: courts need time to
/// decide and to organise a recording or a link.
pub const REQUEST_LEAD_DAYS: u64 = 14;

/// Parse a comma list of charges ("trafficking,smuggling"); at least one.
pub fn parse_charges(items: &[String]) -> Result<Vec<Charge>, Invalid> {
    let mut out = Vec::new();
    for part in items
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let c = Charge::parse(part)?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    if out.is_empty() {
        return Err(Invalid::new(
            "charges",
            "name at least one charge: trafficking, smuggling or related_offence",
        ));
    }
    Ok(out)
}

/// The next status of a measure request, or why the decision cannot be taken.
///
/// - Only a pending request can be granted or refused.
/// - A pending or granted measure can be withdrawn; nothing else can.
/// - A decision cannot be dated before its request.
pub fn decide(
    current: MeasureStatus,
    decision: MeasureDecision,
    requested_on: NaiveDate,
    decided_on: NaiveDate,
) -> Result<MeasureStatus, DecisionRefused> {
    if decided_on < requested_on {
        return Err(DecisionRefused::BeforeRequest { requested_on });
    }
    match (current, decision) {
        (MeasureStatus::Requested, MeasureDecision::Grant) => Ok(MeasureStatus::Granted),
        (MeasureStatus::Requested, MeasureDecision::Refuse) => Ok(MeasureStatus::Refused),
        (MeasureStatus::Requested | MeasureStatus::Granted, MeasureDecision::Withdraw) => {
            Ok(MeasureStatus::Withdrawn)
        }
        (current, decision) => Err(DecisionRefused::NotPending { current, decision }),
    }
}

/// Why a decision on a measure was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionRefused {
    BeforeRequest {
        requested_on: NaiveDate,
    },
    NotPending {
        current: MeasureStatus,
        decision: MeasureDecision,
    },
}

impl fmt::Display for DecisionRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecisionRefused::BeforeRequest { requested_on } => {
                write!(f, "cannot be dated before its request: {requested_on}")
            }
            DecisionRefused::NotPending { current, decision } => match decision {
                MeasureDecision::Withdraw => write!(
                    f,
                    "only a requested or granted measure can be withdrawn; this one is {current}"
                ),
                _ => write!(
                    f,
                    "only a pending request can be granted or refused; this measure is {current}: request it first"
                ),
            },
        }
    }
}

/// A proceeding, as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProceedingFacts {
    pub id: String,
    pub open: bool,
}

/// A hearing, as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HearingFacts {
    pub id: String,
    pub proceeding_id: String,
    pub on: NaiveDate,
    pub kind: HearingKind,
    pub testimony_required: bool,
    pub presence_required: bool,
    pub cancelled: bool,
}

impl HearingFacts {
    /// Does this hearing need the person (to testify or to be there)?
    pub fn needs_person(&self) -> bool {
        self.testimony_required || self.presence_required
    }
}

/// A measure request, as the rules see it. `replaces_presence` is the catalogue's word
/// on the measure when it was requested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureFacts {
    pub id: String,
    pub measure_id: String,
    pub proceeding_id: String,
    /// None: the request covers every hearing of the proceeding.
    pub hearing_id: Option<String>,
    pub status: MeasureStatus,
    pub replaces_presence: bool,
}

impl MeasureFacts {
    pub fn covers(&self, h: &HearingFacts) -> bool {
        self.proceeding_id == h.proceeding_id
            && self.hearing_id.as_deref().is_none_or(|id| id == h.id)
    }
}

/// A measure of the catalogue that would remove the need for the person's presence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueEntry {
    pub id: String,
    pub replaces_presence: bool,
}

/// What the person's advocate can do about a conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alternative {
    /// A measure id of the jurisdiction's catalogue.
    pub measure: String,
    /// Request it by this date: before the departure for a recording, before the
    /// hearing for a live link, with `REQUEST_LEAD_DAYS` for the court to decide.
    pub request_by: NaiveDate,
    /// The date above has passed.
    pub late: bool,
    /// Id of a pending request for it, if one was made.
    pub pending_request: Option<String>,
    /// It was requested for this hearing and refused.
    pub refused: bool,
}

/// A future hearing that needs the person, after (or on the day of) their departure,
/// with no granted measure that replaces their presence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Conflict {
    pub proceeding_id: String,
    pub hearing_id: String,
    pub hearing_on: NaiveDate,
    pub hearing_kind: HearingKind,
    pub departure_on: NaiveDate,
    /// What the jurisdiction allows instead; empty when it allows nothing (then the
    /// departure itself must move, or the court be asked).
    pub alternatives: Vec<Alternative>,
    /// The earliest `request_by` among the alternatives (the departure date when there
    /// are none): what goes into the advocate's deadlines.
    pub act_by: NaiveDate,
}

fn minus_lead(d: NaiveDate) -> NaiveDate {
    d.checked_sub_days(Days::new(REQUEST_LEAD_DAYS))
        .unwrap_or(d)
}

/// The conflicts between a planned departure and the hearings that need the person.
///
/// A hearing conflicts when all hold: a departure is planned; its proceeding is open;
/// it is not cancelled; it is today or later; it needs the person's testimony or
/// presence; the departure is on or before its date; and no *granted* measure that
/// replaces presence covers it (one requested for that hearing, or for the whole
/// proceeding). A measure of another proceeding never clears it. Hearings come out in
/// date order.
pub fn conflicts(
    departure: Option<NaiveDate>,
    today: NaiveDate,
    proceedings: &[ProceedingFacts],
    hearings: &[HearingFacts],
    measures: &[MeasureFacts],
    catalogue: &[CatalogueEntry],
) -> Vec<Conflict> {
    let Some(departure_on) = departure else {
        return vec![];
    };
    let open = |pid: &str| proceedings.iter().any(|p| p.id == pid && p.open);
    let mut out: Vec<Conflict> = hearings
        .iter()
        .filter(|h| {
            !h.cancelled
                && h.on >= today
                && h.needs_person()
                && departure_on <= h.on
                && open(&h.proceeding_id)
        })
        .filter(|h| {
            !measures
                .iter()
                .any(|m| m.status == MeasureStatus::Granted && m.replaces_presence && m.covers(h))
        })
        .map(|h| {
            let alternatives: Vec<Alternative> = catalogue
                .iter()
                .filter(|e| e.replaces_presence)
                .map(|e| {
                    let request_by = if e.id == LIVE_VIDEO_LINK {
                        minus_lead(h.on)
                    } else {
                        minus_lead(departure_on)
                    };
                    let mine = || {
                        measures
                            .iter()
                            .filter(|m| m.measure_id == e.id && m.covers(h))
                    };
                    Alternative {
                        measure: e.id.clone(),
                        request_by,
                        late: request_by < today,
                        pending_request: mine()
                            .find(|m| m.status == MeasureStatus::Requested)
                            .map(|m| m.id.clone()),
                        refused: mine().any(|m| m.status == MeasureStatus::Refused),
                    }
                })
                .collect();
            let act_by = alternatives
                .iter()
                .map(|a| a.request_by)
                .min()
                .unwrap_or(departure_on);
            Conflict {
                proceeding_id: h.proceeding_id.clone(),
                hearing_id: h.id.clone(),
                hearing_on: h.on,
                hearing_kind: h.kind,
                departure_on,
                alternatives,
                act_by,
            }
        })
        .collect();
    out.sort_by(|a, b| (a.hearing_on, &a.hearing_id).cmp(&(b.hearing_on, &b.hearing_id)));
    out
}

/// How the person gives evidence at a hearing, and the granted measures that apply.
pub fn testimony_mode(h: &HearingFacts, measures: &[MeasureFacts]) -> (TestimonyMode, Vec<String>) {
    let granted: Vec<&MeasureFacts> = measures
        .iter()
        .filter(|m| m.status == MeasureStatus::Granted && m.covers(h))
        .collect();
    let ids: Vec<String> = granted.iter().map(|m| m.measure_id.clone()).collect();
    if !h.needs_person() {
        return (TestimonyMode::NotRequired, ids);
    }
    let has = |id: &str| granted.iter().any(|m| m.measure_id == id);
    let mode = if has(LIVE_VIDEO_LINK) {
        TestimonyMode::LiveVideoLink
    } else if has(PRE_RECORDED) {
        TestimonyMode::PreRecorded
    } else if granted.iter().any(|m| m.replaces_presence) {
        TestimonyMode::Remote
    } else if !granted.is_empty() {
        TestimonyMode::InPersonProtected
    } else {
        TestimonyMode::InPerson
    };
    (mode, ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn proceeding(id: &str) -> ProceedingFacts {
        ProceedingFacts {
            id: id.into(),
            open: true,
        }
    }

    fn hearing(id: &str, pid: &str, on: &str) -> HearingFacts {
        HearingFacts {
            id: id.into(),
            proceeding_id: pid.into(),
            on: d(on),
            kind: HearingKind::TrialSession,
            testimony_required: true,
            presence_required: false,
            cancelled: false,
        }
    }

    fn measure(
        id: &str,
        measure_id: &str,
        pid: &str,
        hid: Option<&str>,
        status: MeasureStatus,
    ) -> MeasureFacts {
        MeasureFacts {
            id: id.into(),
            measure_id: measure_id.into(),
            proceeding_id: pid.into(),
            hearing_id: hid.map(Into::into),
            status,
            replaces_presence: [PRE_RECORDED, LIVE_VIDEO_LINK].contains(&measure_id),
        }
    }

    fn default_catalogue() -> Vec<CatalogueEntry> {
        [
            (PRE_RECORDED, true),
            (LIVE_VIDEO_LINK, true),
            ("screens", false),
            ("in_camera", false),
        ]
        .iter()
        .map(|(id, r)| CatalogueEntry {
            id: (*id).into(),
            replaces_presence: *r,
        })
        .collect()
    }

    const TODAY: &str = "2026-11-27";

    fn run(departure: Option<&str>, hs: &[HearingFacts], ms: &[MeasureFacts]) -> Vec<Conflict> {
        conflicts(
            departure.map(d),
            d(TODAY),
            &[proceeding("p1"), proceeding("p2")],
            hs,
            ms,
            &default_catalogue(),
        )
    }

    #[test]
    fn a_departure_before_a_hearing_that_needs_the_person_conflicts() {
        let c = run(
            Some("2027-01-10"),
            &[hearing("h1", "p1", "2027-02-01")],
            &[],
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].hearing_id, "h1");
        assert_eq!(c[0].departure_on, d("2027-01-10"));
        // Both alternatives of the default catalogue, with their own deadlines.
        let alts: Vec<(&str, NaiveDate)> = c[0]
            .alternatives
            .iter()
            .map(|a| (a.measure.as_str(), a.request_by))
            .collect();
        assert_eq!(
            alts,
            vec![
                (PRE_RECORDED, d("2026-12-27")),    // departure − 14 days
                (LIVE_VIDEO_LINK, d("2027-01-18")), // hearing − 14 days
            ]
        );
        assert_eq!(c[0].act_by, d("2026-12-27"));
        assert!(c[0].alternatives.iter().all(|a| !a.late && !a.refused));
    }

    #[test]
    fn a_departure_on_the_day_of_the_hearing_conflicts() {
        assert_eq!(
            run(
                Some("2027-02-01"),
                &[hearing("h1", "p1", "2027-02-01")],
                &[]
            )
            .len(),
            1
        );
    }

    #[test]
    fn a_hearing_before_the_departure_does_not_conflict() {
        assert!(
            run(
                Some("2027-02-02"),
                &[hearing("h1", "p1", "2027-02-01")],
                &[]
            )
            .is_empty()
        );
    }

    #[test]
    fn no_planned_departure_no_conflict() {
        assert!(run(None, &[hearing("h1", "p1", "2027-02-01")], &[]).is_empty());
    }

    #[test]
    fn past_and_cancelled_hearings_and_closed_proceedings_do_not_conflict() {
        let mut past = hearing("h0", "p1", "2026-11-01");
        past.on = d("2026-11-26");
        let mut cancelled = hearing("h1", "p1", "2027-02-01");
        cancelled.cancelled = true;
        assert!(run(Some("2026-11-20"), &[past], &[]).is_empty());
        assert!(run(Some("2027-01-10"), &[cancelled], &[]).is_empty());
        let closed = conflicts(
            Some(d("2027-01-10")),
            d(TODAY),
            &[ProceedingFacts {
                id: "p1".into(),
                open: false,
            }],
            &[hearing("h1", "p1", "2027-02-01")],
            &[],
            &default_catalogue(),
        );
        assert!(closed.is_empty());
        // A hearing today still counts.
        assert_eq!(
            run(Some(TODAY), &[hearing("h2", "p1", TODAY)], &[]).len(),
            1
        );
    }

    #[test]
    fn only_hearings_that_need_the_person_conflict() {
        let mut judgment = hearing("h1", "p1", "2027-02-01");
        judgment.kind = HearingKind::Judgment;
        judgment.testimony_required = false;
        assert!(run(Some("2027-01-10"), &[judgment.clone()], &[]).is_empty());
        judgment.presence_required = true;
        assert_eq!(run(Some("2027-01-10"), &[judgment], &[]).len(), 1);
    }

    #[test]
    fn each_measure_that_replaces_presence_clears_it_once_granted() {
        let h = hearing("h1", "p1", "2027-02-01");
        for id in [PRE_RECORDED, LIVE_VIDEO_LINK] {
            // Requested only: still a conflict, with the pending request shown.
            let pending = [measure(
                "m1",
                id,
                "p1",
                Some("h1"),
                MeasureStatus::Requested,
            )];
            let c = run(Some("2027-01-10"), std::slice::from_ref(&h), &pending);
            assert_eq!(c.len(), 1, "{id} requested");
            let alt = c[0].alternatives.iter().find(|a| a.measure == id).unwrap();
            assert_eq!(alt.pending_request.as_deref(), Some("m1"));
            // Granted for the hearing, or for the whole proceeding: cleared.
            for hid in [Some("h1"), None] {
                let granted = [measure("m1", id, "p1", hid, MeasureStatus::Granted)];
                assert!(
                    run(Some("2027-01-10"), std::slice::from_ref(&h), &granted).is_empty(),
                    "{id} granted for {hid:?}"
                );
            }
            // Refused or withdrawn: the conflict stays.
            for st in [MeasureStatus::Refused, MeasureStatus::Withdrawn] {
                let m = [measure("m1", id, "p1", Some("h1"), st)];
                let c = run(Some("2027-01-10"), std::slice::from_ref(&h), &m);
                assert_eq!(c.len(), 1, "{id} {st}");
                let alt = c[0].alternatives.iter().find(|a| a.measure == id).unwrap();
                assert_eq!(alt.refused, st == MeasureStatus::Refused);
            }
        }
    }

    #[test]
    fn measures_that_do_not_replace_presence_do_not_clear_it() {
        let h = hearing("h1", "p1", "2027-02-01");
        let mut screens = measure("m1", "screens", "p1", Some("h1"), MeasureStatus::Granted);
        screens.replaces_presence = false;
        assert_eq!(run(Some("2027-01-10"), &[h], &[screens]).len(), 1);
    }

    #[test]
    fn a_measure_granted_for_another_hearing_or_proceeding_does_not_clear_it() {
        let hs = [
            hearing("h1", "p1", "2027-02-01"),
            hearing("h2", "p1", "2027-03-01"),
            hearing("h3", "p2", "2027-01-20"),
        ];
        let ms = [measure(
            "m1",
            LIVE_VIDEO_LINK,
            "p1",
            Some("h1"),
            MeasureStatus::Granted,
        )];
        let c = run(Some("2027-01-10"), &hs, &ms);
        let ids: Vec<&str> = c.iter().map(|c| c.hearing_id.as_str()).collect();
        // h1 cleared; h3 (other proceeding) and h2 (other hearing) remain, in date order.
        assert_eq!(ids, vec!["h3", "h2"]);
        // The same measure for the whole of p1 clears h1 and h2, not p2's h3.
        let ms = [measure(
            "m1",
            LIVE_VIDEO_LINK,
            "p1",
            None,
            MeasureStatus::Granted,
        )];
        let c = run(Some("2027-01-10"), &hs, &ms);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].hearing_id, "h3");
    }

    #[test]
    fn alternatives_follow_the_catalogue_and_say_when_they_are_late() {
        // A catalogue without a live link (like the French example plugin).
        let catalogue = vec![
            CatalogueEntry {
                id: PRE_RECORDED.into(),
                replaces_presence: true,
            },
            CatalogueEntry {
                id: "anonymous_testimony".into(),
                replaces_presence: false,
            },
        ];
        let c = conflicts(
            Some(d("2026-12-01")),
            d(TODAY),
            &[proceeding("p1")],
            &[hearing("h1", "p1", "2027-02-01")],
            &[],
            &catalogue,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].alternatives.len(), 1);
        assert_eq!(c[0].alternatives[0].measure, PRE_RECORDED);
        assert_eq!(c[0].alternatives[0].request_by, d("2026-11-17"));
        assert!(c[0].alternatives[0].late);
        // With no alternative at all, the departure date is what to act by.
        let c = conflicts(
            Some(d("2026-12-01")),
            d(TODAY),
            &[proceeding("p1")],
            &[hearing("h1", "p1", "2027-02-01")],
            &[],
            &[],
        );
        assert!(c[0].alternatives.is_empty());
        assert_eq!(c[0].act_by, d("2026-12-01"));
    }

    #[test]
    fn decisions_follow_the_request() {
        use MeasureDecision::*;
        use MeasureStatus::*;
        let (req, after, before) = (d("2026-11-01"), d("2026-11-10"), d("2026-10-31"));
        assert_eq!(decide(Requested, Grant, req, after), Ok(Granted));
        assert_eq!(decide(Requested, Refuse, req, req), Ok(Refused));
        assert_eq!(decide(Requested, Withdraw, req, after), Ok(Withdrawn));
        assert_eq!(decide(Granted, Withdraw, req, after), Ok(Withdrawn));
        for (from, what) in [
            (Granted, Grant),
            (Granted, Refuse),
            (Refused, Grant),
            (Withdrawn, Grant),
            (Refused, Withdraw),
            (Withdrawn, Withdraw),
        ] {
            let e = decide(from, what, req, after).unwrap_err();
            assert!(
                matches!(e, DecisionRefused::NotPending { .. }),
                "{from} {what}"
            );
        }
        let e = decide(Requested, Grant, req, before).unwrap_err();
        assert_eq!(e, DecisionRefused::BeforeRequest { requested_on: req });
        assert!(e.to_string().contains("before its request"));
    }

    #[test]
    fn the_testimony_mode_follows_what_was_granted() {
        let h = hearing("h1", "p1", "2027-02-01");
        let mut screens = measure("m1", "screens", "p1", None, MeasureStatus::Granted);
        screens.replaces_presence = false;
        let link = measure(
            "m2",
            LIVE_VIDEO_LINK,
            "p1",
            Some("h1"),
            MeasureStatus::Granted,
        );
        let rec = measure("m3", PRE_RECORDED, "p1", Some("h1"), MeasureStatus::Granted);
        let asked = measure(
            "m4",
            LIVE_VIDEO_LINK,
            "p1",
            Some("h1"),
            MeasureStatus::Requested,
        );
        assert_eq!(testimony_mode(&h, &[]).0, TestimonyMode::InPerson);
        assert_eq!(testimony_mode(&h, &[asked]).0, TestimonyMode::InPerson);
        let (mode, ids) = testimony_mode(&h, &[screens.clone()]);
        assert_eq!(
            (mode, ids),
            (TestimonyMode::InPersonProtected, vec!["screens".into()])
        );
        assert_eq!(
            testimony_mode(&h, &[screens.clone(), link]).0,
            TestimonyMode::LiveVideoLink
        );
        assert_eq!(testimony_mode(&h, &[rec]).0, TestimonyMode::PreRecorded);
        let mut other = measure("m5", "remote_hearing", "p1", None, MeasureStatus::Granted);
        other.replaces_presence = true;
        assert_eq!(testimony_mode(&h, &[other]).0, TestimonyMode::Remote);
        let mut not_needed = h.clone();
        not_needed.testimony_required = false;
        assert_eq!(
            testimony_mode(&not_needed, &[screens]).0,
            TestimonyMode::NotRequired
        );
    }

    #[test]
    fn charges_parse_from_lists_and_commas() {
        assert_eq!(
            parse_charges(&["trafficking, smuggling".into(), "trafficking".into()]).unwrap(),
            vec![Charge::Trafficking, Charge::Smuggling]
        );
        assert_eq!(parse_charges(&[]).unwrap_err().field, "charges");
        assert!(parse_charges(&["murder".into()]).is_err());
    }
}
