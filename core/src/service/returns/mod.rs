//! Voluntary return: started on the person's request and consent, assessed, approved by
//! a return officer, documented, booked, departed, received and handed over to an
//! origin-country organisation; cancellable at any point. Every move is checked by
//! `crate::returns::check_move` and, for approval and arrival, by the jurisdiction's
//! guard. A case has at most one live return; "the return" of a case is its latest.
//!
//! The use cases are split by what they work on: `stages` (request, moves, hand-over,
//! withdrawal), `assessment` (risk, a child's safeguards, the jurisdiction's checks),
//! `citizenship`, `travel` (documents, legs, counselling, reception) and `view`.

mod assessment;
mod citizenship;
mod stages;
mod travel;
mod view;

pub use assessment::{CheckInput, ChildSafeguardsInput, RiskInput, RiskView};
pub use citizenship::{CitizenshipAnswerInput, CitizenshipInput, CitizenshipView};
pub use stages::{MoveInput, ReturnRequestInput};
pub use travel::{
    CounsellingInput, DocumentChangeInput, DocumentInput, DocumentView, EndInput, LegChangeInput,
    LegInput, LegView, ReceptionInput,
};
pub use view::{ChecklistItem, ReturnFilter, ReturnListItem, ReturnPage, ReturnView, StageEntry};

use super::audit::{NewEntry, append_in, commit_audited};
use super::cases::consent_of_case;
use super::{Actor, Result, Route, ServiceError, Services, at};
use crate::crypto::random_token;
use crate::domain::{
    self, AuditAction, CaseAction, CaseEvent, ConsentGiver, CountryCode, Invalid, OrgKind, Purpose,
    Section, Sections, Stage, may,
};
use crate::ports::{PartnerOutcome, PartnerRequest, Transition, Verdict};
use crate::returns::{
    self as rules, CitizenshipAnswer, ConsentState, DocumentKind, Refusal, RequestClock,
    Requirement, ReturnClock, ReturnFacts, ReturnStage, RiskFacts, RiskLevel,
};
use crate::store::First;
use crate::store::begin_write;
use crate::store::entity::{
    case, citizenship_request, consent, deadline, itinerary_leg, organisation, person,
    planned_departure, referral, return_case, return_check, return_stage, risk_assessment,
    travel_document, user,
};
use crate::trial::Conflict;
use chrono::{Days, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use std::collections::HashMap;

fn day(field: &'static str, s: &str) -> Result<NaiveDate, Invalid> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Invalid::new(field, "must be a date written YYYY-MM-DD"))
}

fn day_or_today(field: &'static str, s: Option<&str>) -> Result<NaiveDate, Invalid> {
    match s.map(str::trim) {
        None | Some("") => Ok(Utc::now().date_naive()),
        Some(s) => day(field, s),
    }
}

fn not_future(field: &'static str, d: NaiveDate) -> Result<NaiveDate, Invalid> {
    if d > Utc::now().date_naive() {
        Err(Invalid::new(field, "cannot be in the future"))
    } else {
        Ok(d)
    }
}

/// Everything about one return, loaded once.
struct Loaded {
    c: case::Model,
    r: return_case::Model,
    consent: consent::Model,
    risk: Option<risk_assessment::Model>,
    citizenship: Vec<citizenship_request::Model>,
    documents: Vec<travel_document::Model>,
    legs: Vec<itinerary_leg::Model>,
    checks: Vec<return_check::Model>,
}

impl Loaded {
    fn booked_legs(&self) -> impl Iterator<Item = &itinerary_leg::Model> {
        self.legs.iter().filter(|l| l.status == "booked")
    }
    fn first_departure(&self) -> Option<NaiveDate> {
        self.booked_legs().map(|l| l.travel_on).min()
    }
    fn consent_state(&self) -> ConsentState {
        if self.consent.withdrawn_at.is_some() {
            ConsentState::Withdrawn
        } else {
            ConsentState::Present
        }
    }
    fn met(&self, id: &str, today: NaiveDate) -> bool {
        match id {
            "informed_consent" => self.consent_state() == ConsentState::Present,
            "risk_assessment" => self.risk.is_some(),
            "citizenship_confirmed" => self
                .citizenship
                .iter()
                .any(|c| c.answer == CitizenshipAnswer::Confirmed.as_str()),
            "travel_document" => {
                let need = self.first_departure().unwrap_or(today).max(today);
                self.documents
                    .iter()
                    .any(|d| d.status == "valid" && d.valid_until >= need)
            }
            "reception_arranged" => {
                self.r.receiving_org_id.is_some() && self.r.reception_on.is_some()
            }
            "guardian_appointed" => self.r.guardian_enc.is_some(),
            "best_interests_determination" => self.r.best_interests_on.is_some(),
            other => self.checks.iter().any(|k| k.requirement == other),
        }
    }
}

impl Services {
    async fn latest_return<C: ConnectionTrait>(
        &self,
        db: &C,
        case_id: i64,
    ) -> Result<Option<return_case::Model>> {
        Ok(return_case::Entity::find()
            .filter(return_case::Column::CaseId.eq(case_id))
            .order_by_desc(return_case::Column::CreatedAt)
            .first(db)
            .await?)
    }

    async fn load_return<C: ConnectionTrait>(&self, db: &C, c: case::Model) -> Result<Loaded> {
        let r = self
            .latest_return(db, c.id)
            .await?
            .ok_or(ServiceError::NotFound("return"))?;
        let consent = consent::Entity::find_by_id(r.consent_id)
            .first(db)
            .await?
            .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("return without consent")))?;
        let risk = risk_assessment::Entity::find()
            .filter(risk_assessment::Column::ReturnId.eq(r.id.clone()))
            .order_by_desc(risk_assessment::Column::RecordedAt)
            .first(db)
            .await?;
        let citizenship = citizenship_request::Entity::find()
            .filter(citizenship_request::Column::ReturnId.eq(r.id.clone()))
            .order_by_asc(citizenship_request::Column::SentOn)
            .all(db)
            .await?;
        let documents = travel_document::Entity::find()
            .filter(travel_document::Column::ReturnId.eq(r.id.clone()))
            .order_by_asc(travel_document::Column::CreatedAt)
            .all(db)
            .await?;
        let legs = itinerary_leg::Entity::find()
            .filter(itinerary_leg::Column::ReturnId.eq(r.id.clone()))
            .order_by_asc(itinerary_leg::Column::TravelOn)
            .all(db)
            .await?;
        let checks = return_check::Entity::find()
            .filter(return_check::Column::ReturnId.eq(r.id.clone()))
            .all(db)
            .await?;
        Ok(Loaded {
            c,
            r,
            consent,
            risk,
            citizenship,
            documents,
            legs,
            checks,
        })
    }

    /// The trial conflicts against the planned departure of a case (read through the
    /// pool: callers gather facts before their write transaction).
    async fn trial_conflicts_of(&self, c: &case::Model) -> Result<Vec<Conflict>> {
        Ok(self
            .conflicts_of_cases(&[c])
            .await?
            .into_iter()
            .map(|(_, x)| x)
            .collect())
    }

    /// Facts for the rule, the checklist and the jurisdiction's verdict data.
    async fn return_facts<C: ConnectionTrait>(
        &self,
        db: &C,
        l: &Loaded,
        lang: &str,
    ) -> Result<(ReturnFacts, Vec<ChecklistItem>, Vec<Conflict>, String)> {
        let today = Utc::now().date_naive();
        let person = self.person_facts(db, &l.c).await?;
        let j = self.jurisdiction_of(db, &l.c).await?;
        let describe = j.describe();
        let p2 = person.clone();
        let reqs = self.call_port(move || j.return_requirements(&p2)).await?;
        let checklist: Vec<ChecklistItem> = reqs
            .iter()
            .map(|q| ChecklistItem {
                id: q.id.clone(),
                label: q
                    .label
                    .get(lang)
                    .or_else(|| q.label.get("en"))
                    .cloned()
                    .unwrap_or_else(|| q.id.clone()),
                met: l.met(&q.id, today),
                needed_for: rules::requirement_stage(&q.id),
            })
            .collect();
        let in_recovery = deadline::Entity::find()
            .filter(deadline::Column::CaseId.eq(l.c.id))
            .filter(deadline::Column::Kind.eq(crate::service::identification::RECOVERY_PERIOD_END))
            .filter(deadline::Column::ClosedAt.is_null())
            .filter(deadline::Column::DueOn.gte(today))
            .first(db)
            .await?
            .is_some();
        let conflicts = self.trial_conflicts_of(&l.c).await?;
        let risk = match &l.risk {
            Some(a) => Some(RiskFacts {
                persecution: RiskLevel::parse(&a.persecution)?,
                re_trafficking: RiskLevel::parse(&a.re_trafficking)?,
                safety_plan: a.safety_plan_enc.is_some(),
            }),
            None => None,
        };
        let booked: Vec<&itinerary_leg::Model> = l.booked_legs().collect();
        let facts = ReturnFacts {
            stage: ReturnStage::parse(&l.r.stage)?,
            consent: l.consent_state(),
            child: person.child,
            requested_by_person: l.r.requested_by == ConsentGiver::Person.as_str(),
            in_recovery_period: in_recovery,
            risk,
            guardian_appointed: l.r.guardian_enc.is_some(),
            best_interests_determined: l.r.best_interests_on.is_some(),
            trial_conflicts: conflicts.len(),
            requirements: checklist
                .iter()
                .map(|i| Requirement {
                    id: i.id.clone(),
                    label: i.label.clone(),
                    met: i.met,
                })
                .collect(),
            itinerary_legs: booked.len(),
            legs_without_escort: booked.iter().filter(|l| l.escort_enc.is_none()).count(),
            counselled: l.r.counselled_on.is_some(),
        };
        Ok((facts, checklist, conflicts, describe))
    }

    /// The jurisdiction's guard on approval and arrival (fails closed on a plugin error).
    async fn guard<C: ConnectionTrait>(
        &self,
        db: &C,
        l: &Loaded,
        to: ReturnStage,
        facts: &ReturnFacts,
    ) -> Result<Vec<Refusal>> {
        let target = match to {
            ReturnStage::Approved => Stage::ReturnInProgress,
            ReturnStage::Received => Stage::Returned,
            _ => return Ok(vec![]),
        };
        let j = self.jurisdiction_of(db, &l.c).await?;
        let person = self.person_facts(db, &l.c).await?;
        let mut flags = Vec::new();
        if facts.consent == ConsentState::Present {
            flags.push("consent_present".to_owned());
        }
        if facts.risk.is_some_and(|r| {
            r.persecution == RiskLevel::High || r.re_trafficking == RiskLevel::High
        }) {
            flags.push("risk_high".to_owned());
        }
        if facts.guardian_appointed {
            flags.push("guardian_appointed".to_owned());
        }
        if facts.best_interests_determined {
            flags.push("best_interests_determined".to_owned());
        }
        if facts.trial_conflicts > 0 {
            flags.push("trial_conflict".to_owned());
        }
        let t = Transition {
            from: l.c.stage.clone(),
            to: target.as_str().to_owned(),
            facts: person,
            flags,
        };
        Ok(
            match self.call_port(move || j.guard_transition(&t)).await? {
                Verdict::Allow => vec![],
                Verdict::Refuse(reasons) => reasons
                    .into_iter()
                    .map(|m| Refusal::new("jurisdiction", m))
                    .collect(),
            },
        )
    }

    /// Load the case for a return action, in `db` (a write transaction or the pool).
    async fn return_case_for<C: ConnectionTrait>(
        &self,
        db: &C,
        actor: &Actor,
        reference: &str,
        action: CaseAction,
        route: Route<'_>,
    ) -> Result<Loaded> {
        let (c, _) = self.load_for(db, actor, reference, action, route).await?;
        self.load_return(db, c).await
    }

    fn require_open(l: &Loaded) -> Result<()> {
        let stage = ReturnStage::parse(&l.r.stage)?;
        if stage.is_open() {
            Ok(())
        } else {
            Err(ServiceError::Conflict(format!(
                "this return is {stage}: nothing more can be recorded on it"
            )))
        }
    }

    /// Bump the return's version (every change does).
    async fn touch(txn: &DatabaseTransaction, r: &return_case::Model) -> Result<()> {
        return_case::Entity::update_many()
            .col_expr(return_case::Column::Version, Expr::value(r.version + 1))
            .filter(return_case::Column::Id.eq(r.id.clone()))
            .exec(txn)
            .await?;
        Ok(())
    }

    async fn commit_return(
        txn: DatabaseTransaction,
        actor: &Actor,
        l: &Loaded,
        action: AuditAction,
        route: Route<'_>,
    ) -> Result<()> {
        Self::touch(&txn, &l.r).await?;
        commit_audited(
            txn,
            NewEntry::by(actor, Some(&l.c.reference), Section::Return, action, route),
        )
        .await
    }

    /// What a return agency's partner adapter receives, and its answer. None when the
    /// agency has no adapter.
    async fn format_for_agency(
        &self,
        c: &case::Model,
        k: &consent::Model,
        agency: &organisation::Model,
        destination: &str,
    ) -> Result<Option<String>> {
        let Some(partner) = self.adapters.partner(&agency.name) else {
            return Ok(None);
        };
        let p = person::Entity::find_by_id(c.person_id.clone())
            .first(&self.db)
            .await?
            .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("case without person")))?;
        let facts = self.person_facts(&self.db, c).await?;
        let request = PartnerRequest {
            kind: "return_request".into(),
            reference: c.reference.clone(),
            service: Purpose::ReturnAssistance.as_str().into(),
            sections: vec!["person".into(), "return".into()],
            consent_language: k.language.clone(),
            consent_form_version: k.form_version.clone(),
            consented_on: k.consented_at.date_naive().to_string(),
            child: facts.child,
            name: self.open("name", &p.id, Some(&p.name_enc))?,
            birth_date: self.open("birth_date", &p.id, p.birth_date_enc.as_ref())?,
            nationality: self.open("nationality", &p.id, p.nationality_enc.as_ref())?,
            stateless: p.stateless,
            languages: self.open("languages", &p.id, p.languages_enc.as_ref())?,
            destination_country: Some(destination.to_owned()),
            notes: None,
        };
        match self
            .call_port(move || partner.format_request(&request))
            .await?
        {
            PartnerOutcome::Formatted(json) => Ok(Some(json)),
            PartnerOutcome::Refused(reasons) => Err(ServiceError::Refused(format!(
                "{} cannot take this return request: {}",
                agency.name,
                reasons.join("; ")
            ))),
        }
    }
}
