//! Between the WIT records and the core's port types, with the contract checks on what
//! a plugin returns. The records of `types` are the same in API 0.1 and 0.2 (`w`); the
//! optional hooks of 0.2 have records of their own (`fund_rules::FundingAsk`,
//! `measure_deciders::MeasureBodies`).

use crate::bindings::types as w;
use crate::bindings::v0_2::{fund_rules, measure_deciders};
use passerelle_core::domain::Stage;
use passerelle_core::follow_up::{MAX_CONFIG_BYTES, parse_config};
use passerelle_core::funding::{CostCategory, SourceKind};
use passerelle_core::identification::{DecidingBody, TraffickingStatus};
use passerelle_core::ports::{
    DecisionRules, FundingAsk, Measure, PartnerOutcome, PartnerRequest, PartnerStatus, PersonFacts,
    Question, QuestionSetKind, ReturnRequirement, Transition, Verdict,
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

/// The request the `fund-rules` hook sees. Its words must be the core's vocabularies, so
/// that a plugin can rely on them: anything else is refused before the call (an input
/// error naming the field, not its value).
pub fn funding_ask_in(a: &FundingAsk) -> Result<fund_rules::FundingAsk, Violation> {
    let word = |field: &str, ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(format!("{field} is not one of the core's values"))
        }
    };
    word("source_kind", SourceKind::parse(&a.source_kind).is_ok())?;
    word("category", CostCategory::parse(&a.category).is_ok())?;
    word("stage", Stage::parse(&a.stage).is_ok())?;
    let code = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_uppercase());
    if !code(&a.currency, 3) {
        return Err("currency is not an ISO 4217 code such as EUR".into());
    }
    for (field, c) in [
        ("nationality", &a.nationality),
        ("destination_country", &a.destination_country),
    ] {
        if c.as_deref().is_some_and(|c| !code(c, 2)) {
            return Err(format!(
                "{field} is not an ISO 3166-1 alpha-2 code such as FR"
            ));
        }
    }
    let status = match &a.trafficking_status {
        None => None,
        Some(s) => Some(status_in(TraffickingStatus::parse(s).map_err(|_| {
            "trafficking_status is not one of the core's values".to_owned()
        })?)),
    };
    Ok(fund_rules::FundingAsk {
        source_kind: a.source_kind.clone(),
        category: a.category.clone(),
        amount_minor: a.amount_minor,
        currency: a.currency.clone(),
        stage: a.stage.clone(),
        child: a.child,
        nationality: a.nationality.clone(),
        destination_country: a.destination_country.clone(),
        trafficking_status: status,
        protected_witness: a.protected_witness,
    })
}

fn status_in(s: TraffickingStatus) -> w::TraffickingStatus {
    match s {
        TraffickingStatus::Possible => w::TraffickingStatus::Possible,
        TraffickingStatus::Presumed => w::TraffickingStatus::Presumed,
        TraffickingStatus::Confirmed => w::TraffickingStatus::Confirmed,
        TraffickingStatus::NotAVictim => w::TraffickingStatus::NotAVictim,
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
impl OutputSize for measure_deciders::MeasureBodies {
    fn output_size(&self) -> usize {
        self.measure_id.output_size() + 8 * self.bodies.len() + 8
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
                // The record has no field for it: the optional `measure-deciders` hook
                // (API 0.2) fills it (`with_deciders`); else Measure::deciders() gives the
                // default.
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

/// The `reintegration-indicators` hook's answer: none, or an indicator set the core can
/// read (`follow_up::parse_config`: at most [`MAX_CONFIG_BYTES`], every value checked).
/// Garbage is refused here, naming the plugin, rather than later and far from it.
pub fn indicators_out(text: Option<String>) -> Result<Option<String>, Violation> {
    let Some(text) = text else {
        return Ok(None);
    };
    if text.len() > MAX_CONFIG_BYTES {
        return Err(format!(
            "its indicator set is {} bytes, over the limit of {MAX_CONFIG_BYTES} bytes",
            text.len()
        ));
    }
    if let Err(e) = parse_config(&text) {
        return Err(format!(
            "its indicator set is not a valid set in the shape of config/reintegration/rss.toml: {}",
            crate::host::cut(&e.to_string(), 200)
        ));
    }
    Ok(Some(text))
}

/// The `measure-deciders` hook's answer: each measure once, a valid id, at least one
/// body, each body once.
pub fn deciders_out(
    ds: Vec<measure_deciders::MeasureBodies>,
) -> Result<Vec<(String, Vec<DecidingBody>)>, Violation> {
    for d in &ds {
        check_id("measure in the deciders", &d.measure_id)?;
    }
    let mut seen = BTreeSet::new();
    if !ds.iter().all(|d| seen.insert(d.measure_id.as_str())) {
        return Err("its measure deciders list the same measure twice".into());
    }
    ds.into_iter()
        .map(|d| {
            if d.bodies.is_empty() {
                return Err("a measure's deciders list no deciding body".to_owned());
            }
            let bodies: Vec<DecidingBody> = d.bodies.into_iter().map(body_out).collect();
            let distinct: BTreeSet<&DecidingBody> = bodies.iter().collect();
            if distinct.len() != bodies.len() {
                return Err("a measure's deciders list the same body twice".to_owned());
            }
            Ok((d.measure_id, bodies))
        })
        .collect()
}

/// Put the deciders into the catalogue: a measure listed gets its bodies, the others
/// keep theirs (none from a plugin: the defaults). Deciders of a measure that is not in
/// the catalogue break the contract (a typo would otherwise be silent).
pub fn with_deciders(
    mut measures: Vec<Measure>,
    deciders: Vec<(String, Vec<DecidingBody>)>,
) -> Result<Vec<Measure>, Violation> {
    for (id, bodies) in deciders {
        let Some(m) = measures.iter_mut().find(|m| m.id == id) else {
            return Err(format!(
                "its measure deciders name '{}', which is not in its catalogue of protective measures",
                crate::host::cut(&id, 64)
            ));
        };
        m.decided_by = bodies;
    }
    Ok(measures)
}
