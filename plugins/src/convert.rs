//! Between the WIT records and the core's port types, with the contract checks on what
//! a plugin returns.

use crate::bindings::jurisdiction::passerelle::plugin::types as w;
use passerelle_core::identification::{DecidingBody, TraffickingStatus};
use passerelle_core::ports::{
    DecisionRules, Measure, PartnerOutcome, PartnerRequest, PartnerStatus, PersonFacts, Question,
    QuestionSetKind, ReturnRequirement, Transition, Verdict,
};
use std::collections::{BTreeMap, BTreeSet};

/// A contract violation, described for the user (no values from the case).
pub type Violation = String;

const MAX_ID: usize = 64;
const MAX_DAYS: u32 = 36_500;

pub fn person_in(p: &PersonFacts) -> w::PersonFacts {
    w::PersonFacts {
        child: p.child,
        stateless: p.stateless,
        nationality: p.nationality.clone(),
    }
}

pub fn transition_in(t: &Transition) -> w::Transition {
    w::Transition {
        from: t.from.clone(),
        to: t.to.clone(),
        facts: person_in(&t.facts),
        flags: t.flags.clone(),
    }
}

pub fn request_in(r: &PartnerRequest) -> w::PartnerRequest {
    w::PartnerRequest {
        kind: r.kind.clone(),
        reference: r.reference.clone(),
        service: r.service.clone(),
        sections: r.sections.clone(),
        consent_language: r.consent_language.clone(),
        consent_form_version: r.consent_form_version.clone(),
        consented_on: r.consented_on.clone(),
        child: r.child,
        name: r.name.clone(),
        birth_date: r.birth_date.clone(),
        nationality: r.nationality.clone(),
        stateless: r.stateless,
        languages: r.languages.clone(),
        destination_country: r.destination_country.clone(),
        notes: r.notes.clone(),
    }
}

/// Rough size in bytes of what a plugin returned: its text plus 8 bytes per item.
pub trait OutputSize {
    fn output_size(&self) -> usize;
}

impl OutputSize for String {
    fn output_size(&self) -> usize {
        self.len() + 8
    }
}
impl OutputSize for u32 {
    fn output_size(&self) -> usize {
        8
    }
}
impl<T: OutputSize> OutputSize for Vec<T> {
    fn output_size(&self) -> usize {
        self.iter().map(OutputSize::output_size).sum::<usize>() + 8
    }
}
impl<A: OutputSize, B: OutputSize> OutputSize for (A, B) {
    fn output_size(&self) -> usize {
        self.0.output_size() + self.1.output_size()
    }
}
impl<T: OutputSize> OutputSize for Option<T> {
    fn output_size(&self) -> usize {
        self.as_ref().map_or(8, OutputSize::output_size)
    }
}
impl OutputSize for w::Question {
    fn output_size(&self) -> usize {
        self.id.output_size() + self.text.output_size() + self.indicator.output_size() + 8
    }
}
impl OutputSize for w::Measure {
    fn output_size(&self) -> usize {
        self.id.output_size() + self.label.output_size() + 8
    }
}
impl OutputSize for w::ReturnRequirement {
    fn output_size(&self) -> usize {
        self.id.output_size() + self.label.output_size()
    }
}
impl OutputSize for w::DecisionRules {
    fn output_size(&self) -> usize {
        self.bodies
            .iter()
            .map(|b| 8 + 8 * b.bodies.len())
            .sum::<usize>()
            + 16
    }
}
impl OutputSize for w::Verdict {
    fn output_size(&self) -> usize {
        match self {
            w::Verdict::Allow => 8,
            w::Verdict::Refuse(r) => r.output_size(),
        }
    }
}
impl OutputSize for w::PartnerOutcome {
    fn output_size(&self) -> usize {
        match self {
            w::PartnerOutcome::Formatted(s) => s.output_size(),
            w::PartnerOutcome::Refused(r) => r.output_size(),
        }
    }
}
impl OutputSize for w::PartnerStatus {
    fn output_size(&self) -> usize {
        self.reference.output_size() + self.status.output_size() + self.note.output_size()
    }
}

fn check_id(what: &str, id: &str) -> Result<(), Violation> {
    if id.trim().is_empty() {
        return Err(format!("a {what} has an empty id"));
    }
    if id.len() > MAX_ID {
        return Err(format!("a {what} id is longer than {MAX_ID} bytes"));
    }
    Ok(())
}

fn localized(what: &str, l: Vec<(String, String)>) -> Result<BTreeMap<String, String>, Violation> {
    if l.is_empty() {
        return Err(format!("a {what} has no text in any language"));
    }
    let mut m = BTreeMap::new();
    for (lang, text) in l {
        if lang.is_empty() || lang.len() > 16 {
            return Err(format!("a {what} has an invalid language code"));
        }
        if text.trim().is_empty() {
            return Err(format!("a {what} has an empty text"));
        }
        if m.insert(lang, text).is_some() {
            return Err(format!("a {what} has the same language twice"));
        }
    }
    Ok(m)
}

fn unique<'a>(what: &str, ids: impl Iterator<Item = &'a str>) -> Result<(), Violation> {
    let mut seen = BTreeSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(format!("two {what}s have the same id"));
        }
    }
    Ok(())
}

pub fn questions_out(qs: Vec<w::Question>) -> Result<Vec<Question>, Violation> {
    if qs.is_empty() {
        return Err("the question list is empty".into());
    }
    for q in &qs {
        check_id("question", &q.id)?;
    }
    unique("question", qs.iter().map(|q| q.id.as_str()))?;
    qs.into_iter()
        .map(|q| {
            Ok(Question {
                set: match q.set {
                    w::QuestionSet::Trafficking => QuestionSetKind::Trafficking,
                    w::QuestionSet::Smuggling => QuestionSetKind::Smuggling,
                },
                text: localized("question", q.text)?,
                indicator: if q.indicator.is_empty() {
                    BTreeMap::new()
                } else {
                    localized("question indicator", q.indicator)?
                },
                id: q.id,
            })
        })
        .collect()
}

pub fn days_out(d: u32) -> Result<u32, Violation> {
    if d == 0 || d > MAX_DAYS {
        return Err(format!("a period of {d} days is outside 1..={MAX_DAYS}"));
    }
    Ok(d)
}

pub fn schedule_out(days: Vec<u32>) -> Result<Vec<u32>, Violation> {
    if days.iter().any(|d| *d > MAX_DAYS) {
        return Err(format!("a follow-up day is beyond {MAX_DAYS}"));
    }
    if days.windows(2).any(|w| w[0] >= w[1]) {
        return Err("the follow-up days are not in ascending order".into());
    }
    Ok(days)
}

fn status_out(s: w::TraffickingStatus) -> TraffickingStatus {
    match s {
        w::TraffickingStatus::Possible => TraffickingStatus::Possible,
        w::TraffickingStatus::Presumed => TraffickingStatus::Presumed,
        w::TraffickingStatus::Confirmed => TraffickingStatus::Confirmed,
        w::TraffickingStatus::NotAVictim => TraffickingStatus::NotAVictim,
    }
}

fn body_out(b: w::DecidingBody) -> DecidingBody {
    match b {
        w::DecidingBody::Police => DecidingBody::Police,
        w::DecidingBody::Prosecution => DecidingBody::Prosecution,
        w::DecidingBody::Court => DecidingBody::Court,
        w::DecidingBody::ImmigrationAuthority => DecidingBody::ImmigrationAuthority,
        w::DecidingBody::LabourInspectorate => DecidingBody::LabourInspectorate,
        w::DecidingBody::NationalReferralMechanism => DecidingBody::NationalReferralMechanism,
        w::DecidingBody::Ngo => DecidingBody::Ngo,
        w::DecidingBody::Other => DecidingBody::Other,
    }
}

pub fn rules_out(r: w::DecisionRules) -> Result<DecisionRules, Violation> {
    let mut bodies = BTreeMap::new();
    for sb in r.bodies {
        let key = status_out(sb.status).as_str().to_owned();
        let list: Vec<DecidingBody> = sb.bodies.into_iter().map(body_out).collect();
        if bodies.insert(key, list).is_some() {
            return Err("a trafficking status is listed twice in the decision rules".into());
        }
    }
    if let Some(d) = r.reasonable_grounds_due_days {
        days_out(d)?;
    }
    Ok(DecisionRules {
        two_steps: r.two_steps,
        bodies,
        reasonable_grounds_due_days: r.reasonable_grounds_due_days,
    })
}

pub fn measures_out(ms: Vec<w::Measure>) -> Result<Vec<Measure>, Violation> {
    for m in &ms {
        check_id("protective measure", &m.id)?;
    }
    unique("protective measure", ms.iter().map(|m| m.id.as_str()))?;
    ms.into_iter()
        .map(|m| {
            Ok(Measure {
                label: localized("protective measure", m.label)?,
                id: m.id,
                replaces_presence: m.replaces_presence,
                // API 0.1 has no field for it: Measure::deciders() gives the default.
                decided_by: vec![],
            })
        })
        .collect()
}

pub fn requirements_out(
    rs: Vec<w::ReturnRequirement>,
) -> Result<Vec<ReturnRequirement>, Violation> {
    for r in &rs {
        check_id("return requirement", &r.id)?;
    }
    unique("return requirement", rs.iter().map(|r| r.id.as_str()))?;
    rs.into_iter()
        .map(|r| {
            Ok(ReturnRequirement {
                label: localized("return requirement", r.label)?,
                id: r.id,
            })
        })
        .collect()
}

fn reasons(what: &str, rs: Vec<String>) -> Result<Vec<String>, Violation> {
    if rs.is_empty() || rs.iter().any(|r| r.trim().is_empty()) {
        return Err(format!("a {what} must give non-empty reasons"));
    }
    Ok(rs)
}

pub fn verdict_out(v: w::Verdict) -> Result<Verdict, Violation> {
    Ok(match v {
        w::Verdict::Allow => Verdict::Allow,
        w::Verdict::Refuse(r) => Verdict::Refuse(reasons("refusal", r)?),
    })
}

pub fn outcome_out(o: w::PartnerOutcome) -> Result<PartnerOutcome, Violation> {
    Ok(match o {
        w::PartnerOutcome::Formatted(json) => {
            if serde_json::from_str::<serde::de::IgnoredAny>(&json).is_err() {
                return Err("the formatted request is not valid JSON".into());
            }
            PartnerOutcome::Formatted(json)
        }
        w::PartnerOutcome::Refused(r) => PartnerOutcome::Refused(reasons("refusal", r)?),
    })
}

pub fn status_update_out(s: w::PartnerStatus) -> Result<PartnerStatus, Violation> {
    if s.reference.trim().is_empty() || s.status.trim().is_empty() {
        return Err("a status update needs a reference and a status".into());
    }
    Ok(PartnerStatus {
        reference: s.reference,
        status: s.status,
        note: s.note,
    })
}
