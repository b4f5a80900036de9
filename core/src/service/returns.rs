//! Voluntary return: started on the person's request and consent, assessed, approved by
//! a return officer, documented, booked, departed, received and handed over to an
//! origin-country organisation; cancellable at any point. Every move is checked by
//! `crate::returns::check_move` and, for approval and arrival, by the jurisdiction's
//! guard. A case has at most one live return; "the return" of a case is its latest.

use super::audit::{NewEntry, append_in, commit_audited};
use super::{Actor, Result, Route, ServiceError, Services, at};
use crate::crypto::random_token;
use crate::domain::{
    self, AuditAction, CaseAction, ConsentGiver, CountryCode, Invalid, OrgKind, Purpose, Section,
    Sections, Stage, may,
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

// ---------- inputs ----------

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ReturnRequestInput {
    /// Who asked: person, guardian or legal_representative.
    pub requested_by: String,
    /// The person's recorded consent for return assistance (purpose return_assistance).
    pub consent_id: i64,
    /// Who explained the return and the consent to the person, in their language.
    pub explained_by: String,
    /// ISO 3166-1 alpha-2 code of the country of return.
    pub destination_country: String,
    /// A return agency organisation; it receives the request in its own format.
    #[serde(default)]
    pub agency_org_id: Option<i64>,
    /// YYYY-MM-DD; today when empty.
    #[serde(default)]
    pub requested_on: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct RiskInput {
    /// Risk of persecution or serious harm in the country of origin: low, medium, high.
    pub persecution: String,
    /// Risk of re-trafficking: low, medium, high.
    pub re_trafficking: String,
    /// Findings, including the family situation and health.
    pub findings: String,
    /// Required for a high risk of re-trafficking.
    #[serde(default)]
    pub safety_plan: Option<String>,
    #[serde(default)]
    pub assessed_on: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ChildSafeguardsInput {
    #[serde(default)]
    pub guardian: Option<String>,
    #[serde(default)]
    pub best_interests_on: Option<String>,
    #[serde(default)]
    pub best_interests_by: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct CitizenshipInput {
    /// The origin-country authority asked (e.g. an embassy or consulate).
    pub authority: String,
    #[serde(default)]
    pub sent_on: Option<String>,
    /// When an answer is due; 30 days after sending when empty.
    #[serde(default)]
    pub due_on: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct CitizenshipAnswerInput {
    /// confirmed, refused or no_answer.
    pub answer: String,
    #[serde(default)]
    pub answered_on: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct DocumentInput {
    /// passport, laissez_passer or stateless_travel_document.
    pub kind: String,
    pub issued_by: String,
    #[serde(default)]
    pub number: Option<String>,
    pub valid_until: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct LegInput {
    pub travel_on: String,
    pub from: String,
    pub to: String,
    /// Who escorts the person on this leg.
    #[serde(default)]
    pub escort: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct CounsellingInput {
    #[serde(default)]
    pub counselled_on: Option<String>,
    pub counselled_by: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ReceptionInput {
    /// The origin-country organisation that receives the person.
    pub receiving_org_id: i64,
    pub reception_on: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct CheckInput {
    /// A requirement id of the jurisdiction's checklist.
    pub requirement: String,
    #[serde(default)]
    pub done_on: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct MoveInput {
    /// The next stage, or "cancelled".
    pub to: String,
    /// The return's version as last read (a stale move is refused).
    pub version: i64,
    /// Required when cancelling.
    #[serde(default)]
    pub reason: Option<String>,
    /// On arrival: the person's consent (purpose reintegration) for the hand-over.
    #[serde(default)]
    pub handover_consent_id: Option<i64>,
    /// On arrival: the sections the origin-country organisation receives.
    #[serde(default)]
    pub handover_sections: Vec<String>,
}

// ---------- views ----------

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RiskView {
    pub persecution: RiskLevel,
    pub re_trafficking: RiskLevel,
    pub findings: String,
    pub safety_plan: Option<String>,
    pub assessed_on: NaiveDate,
    pub author: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CitizenshipView {
    pub id: String,
    pub authority: String,
    pub sent_on: NaiveDate,
    pub due_on: NaiveDate,
    pub reminders: i32,
    pub last_reminder_on: Option<NaiveDate>,
    pub answer: CitizenshipAnswer,
    pub answered_on: Option<NaiveDate>,
    pub clock: RequestClock,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub id: String,
    pub kind: DocumentKind,
    pub issued_by: String,
    pub number: Option<String>,
    pub valid_until: NaiveDate,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct LegView {
    pub id: String,
    pub travel_on: NaiveDate,
    pub from: String,
    pub to: String,
    pub escort: Option<String>,
    /// booked or released.
    pub status: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ChecklistItem {
    pub id: String,
    pub label: String,
    pub met: bool,
    /// The stage that needs it.
    pub needed_for: ReturnStage,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StageEntry {
    pub stage: ReturnStage,
    pub at: chrono::DateTime<Utc>,
    pub by: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReturnView {
    pub id: String,
    pub reference: String,
    pub stage: ReturnStage,
    pub version: i64,
    pub jurisdiction: String,
    pub requested_by: ConsentGiver,
    pub requested_on: NaiveDate,
    /// Requested while the recovery and reflection period ran (at the person's request).
    pub during_recovery_period: bool,
    pub destination_country: String,
    pub child: bool,
    pub stateless: bool,
    pub consent_id: i64,
    pub consent_language: String,
    pub consent_form_version: String,
    pub consent_active: bool,
    pub explained_by: String,
    pub agency: Option<String>,
    /// The request in the agency's own format, when it has a partner adapter.
    pub partner_request: Option<String>,
    pub guardian: Option<String>,
    pub best_interests_on: Option<NaiveDate>,
    pub best_interests_by: Option<String>,
    pub risk: Option<RiskView>,
    pub citizenship: Vec<CitizenshipView>,
    pub documents: Vec<DocumentView>,
    pub legs: Vec<LegView>,
    pub counselled_on: Option<NaiveDate>,
    pub counselled_by: Option<String>,
    pub receiving_org: Option<String>,
    pub reception_on: Option<NaiveDate>,
    pub departed_on: Option<NaiveDate>,
    pub received_on: Option<NaiveDate>,
    pub cancelled_reason: Option<String>,
    /// On arrival, the sections handed over to the receiving organisation.
    pub handed_over: Vec<Section>,
    pub checklist: Vec<ChecklistItem>,
    /// The next stage and what holds it back (empty: it may go ahead).
    pub next: Option<ReturnStage>,
    pub blockers: Vec<Refusal>,
    pub conflicts: Vec<Conflict>,
    pub timeline: Vec<StageEntry>,
    pub clock: ReturnClock,
    pub can_edit: bool,
    pub can_approve: bool,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReturnListItem {
    pub reference: String,
    pub stage: ReturnStage,
    pub destination_country: String,
    pub agency: Option<String>,
    pub requested_on: NaiveDate,
    pub clock: ReturnClock,
    pub overdue_citizenship: usize,
    /// Age in days of the oldest overdue citizenship request.
    pub oldest_overdue_days: i64,
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
                self.documents.iter().any(|d| d.valid_until >= need)
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
            .filter(deadline::Column::Kind.eq(super::identification::RECOVERY_PERIOD_END))
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
                    .map(|m| Refusal {
                        rule: "jurisdiction".into(),
                        message: m,
                    })
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
    ) -> Result<Loaded> {
        let (c, _) = self.load_for(db, actor, reference, action).await?;
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

    /// Start a return: only on the request of the person (or, for a child, their
    /// guardian or representative) and with their recorded consent for return.
    pub async fn request_return(
        &self,
        actor: &Actor,
        reference: &str,
        input: &ReturnRequestInput,
        route: Route<'_>,
    ) -> Result<String> {
        let requested_by = ConsentGiver::parse(&input.requested_by).map_err(|_| {
            Invalid::new(
                "requested_by",
                "must be person, guardian or legal_representative",
            )
        })?;
        let explained_by = domain::parse_line("explained_by", &input.explained_by, 300)?;
        let destination = CountryCode::parse(&input.destination_country)
            .map_err(|e| Invalid::new("destination_country", e.message))?;
        let requested_on = not_future(
            "requested_on",
            day_or_today("requested_on", input.requested_on.as_deref())?,
        )?;
        let (c, _) = self
            .load_for(&self.db, actor, reference, CaseAction::EditReturn)
            .await?;
        let k = consent::Entity::find_by_id(input.consent_id)
            .first(&self.db)
            .await?
            .filter(|k| k.case_id == c.id)
            .ok_or_else(|| {
                ServiceError::Refused(
                    "no such consent on this case: a return needs the person's recorded, informed consent to return".into(),
                )
            })?;
        domain::consent_covers(
            Purpose::parse(&k.purpose).map_err(|e| anyhow::anyhow!("stored purpose: {e}"))?,
            k.withdrawn_at.is_some(),
            Purpose::ReturnAssistance,
        )
        .map_err(|m| ServiceError::Refused(m.into()))?;
        let facts = self.person_facts(&self.db, &c).await?;
        if requested_by != ConsentGiver::Person && !facts.child {
            return Err(ServiceError::Refused(
                "an adult's return starts only at the person's own request".into(),
            ));
        }
        let agency = match input.agency_org_id {
            None => None,
            Some(id) => {
                let o = organisation::Entity::find_by_id(id)
                    .first(&self.db)
                    .await?
                    .ok_or_else(|| Invalid::new("agency_org_id", "no such organisation"))?;
                if o.kind != OrgKind::ReturnAgency.as_str() {
                    return Err(Invalid::new("agency_org_id", "must be a return agency").into());
                }
                Some(o)
            }
        };
        let payload = match &agency {
            Some(a) => {
                self.format_for_agency(&c, &k, a, destination.as_str())
                    .await?
            }
            None => None,
        };
        let today = Utc::now().date_naive();
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::EditReturn)
            .await?;
        if let Some(r) = self.latest_return(&txn, c.id).await? {
            let stage = ReturnStage::parse(&r.stage)?;
            if stage == ReturnStage::Received {
                return Err(ServiceError::Conflict(
                    "the person has already returned: a new return cannot be requested on this case".into(),
                ));
            }
            if stage.is_open() {
                return Err(ServiceError::Conflict(format!(
                    "this case already has a return ({stage}); cancel it before requesting another"
                )));
            }
        }
        let in_recovery = deadline::Entity::find()
            .filter(deadline::Column::CaseId.eq(c.id))
            .filter(deadline::Column::Kind.eq(super::identification::RECOVERY_PERIOD_END))
            .filter(deadline::Column::ClosedAt.is_null())
            .filter(deadline::Column::DueOn.gte(today))
            .first(&txn)
            .await?
            .is_some();
        let id = random_token(16)?;
        let now = Utc::now();
        return_case::ActiveModel {
            id: Set(id.clone()),
            case_id: Set(c.id),
            stage: Set(ReturnStage::Requested.as_str().into()),
            // The request stage began when the person asked (it may be recorded later).
            stage_since: Set(if requested_on < today {
                requested_on.and_time(chrono::NaiveTime::MIN).and_utc()
            } else {
                now
            }),
            consent_id: Set(k.id),
            explained_by_enc: Set(self.seal_field(
                "returns",
                "explained_by",
                &id,
                &explained_by,
            )?),
            requested_by: Set(requested_by.as_str().into()),
            requested_on: Set(requested_on),
            during_recovery_period: Set(in_recovery),
            destination_country: Set(destination.as_str().into()),
            agency_org_id: Set(agency.as_ref().map(|a| a.id)),
            partner_payload_enc: Set(self.seal_opt(
                "returns",
                "partner_payload",
                &id,
                payload.as_deref(),
            )?),
            guardian_enc: Set(None),
            best_interests_on: Set(None),
            best_interests_by_enc: Set(None),
            counselled_on: Set(None),
            counselled_by_enc: Set(None),
            receiving_org_id: Set(None),
            reception_on: Set(None),
            departed_on: Set(None),
            received_on: Set(None),
            handover_referral_id: Set(None),
            cancelled_reason_enc: Set(None),
            version: Set(1),
            created_by: Set(actor.user_id),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        return_stage::ActiveModel {
            return_id: Set(id.clone()),
            stage: Set(ReturnStage::Requested.as_str().into()),
            at: Set(now),
            by_user: Set(actor.user_id),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut cm = c.clone().into_active_model();
        if Stage::parse(&c.stage)? != Stage::SolutionPlanning {
            cm.stage = Set(Stage::SolutionPlanning.as_str().into());
            cm.version = Set(c.version + 1);
            cm.updated_at = Set(now);
            cm.update(&txn).await?;
        }
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Return,
                AuditAction::Create,
                route,
            ),
        )
        .await?;
        Ok(id)
    }

    /// May the caller request a return on this case (when it has none, or only a
    /// cancelled one)? Reads nothing of the case beyond its access.
    pub async fn may_request_return(&self, actor: &Actor, reference: &str) -> Result<bool> {
        let (_, rel) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Return),
            )
            .await?;
        Ok(may(actor.role, rel, CaseAction::EditReturn))
    }

    /// The return of a case, with its checklist, what holds the next stage back, the
    /// timeline and the clocks.
    pub async fn return_view(
        &self,
        actor: &Actor,
        reference: &str,
        lang: &str,
        route: Route<'_>,
    ) -> Result<ReturnView> {
        let (c, rel) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Return),
            )
            .await?;
        let l = self.load_return(&self.db, c).await?;
        let (facts, checklist, conflicts, jurisdiction) =
            self.return_facts(&self.db, &l, lang).await?;
        let stage = facts.stage;
        let next = stage.next();
        let mut blockers = match next {
            Some(n) => rules::check_move(n, &facts),
            None => vec![],
        };
        if let Some(n) = next
            && blockers.is_empty()
        {
            blockers = self.guard(&self.db, &l, n, &facts).await?;
        }
        let today = Utc::now().date_naive();
        let user_ids: Vec<i64> = l
            .risk
            .iter()
            .map(|a| a.author_user_id)
            .chain(std::iter::once(l.r.created_by))
            .collect();
        let stages = return_stage::Entity::find()
            .filter(return_stage::Column::ReturnId.eq(l.r.id.clone()))
            .order_by_asc(return_stage::Column::Id)
            .all(&self.db)
            .await?;
        let mut ids = user_ids;
        ids.extend(stages.iter().map(|s| s.by_user));
        let names: HashMap<i64, String> = user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
        let name = |id: i64| names.get(&id).cloned().unwrap_or_default();
        let org_ids: Vec<i64> = [l.r.agency_org_id, l.r.receiving_org_id]
            .into_iter()
            .flatten()
            .collect();
        let orgs: HashMap<i64, String> = organisation::Entity::find()
            .filter(organisation::Column::Id.is_in(org_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let rid = l.r.id.clone();
        let risk = match &l.risk {
            Some(a) => Some(RiskView {
                persecution: RiskLevel::parse(&a.persecution)?,
                re_trafficking: RiskLevel::parse(&a.re_trafficking)?,
                findings: self
                    .keys
                    .decrypt_string(at("risk_assessments", "findings", &a.id), &a.findings_enc)?,
                safety_plan: self.open_opt(
                    "risk_assessments",
                    "safety_plan",
                    &a.id,
                    a.safety_plan_enc.as_ref(),
                )?,
                assessed_on: a.assessed_on,
                author: name(a.author_user_id),
            }),
            None => None,
        };
        let mut documents = Vec::new();
        for d in &l.documents {
            documents.push(DocumentView {
                id: d.id.clone(),
                kind: DocumentKind::parse(&d.kind)?,
                issued_by: d.issued_by.clone(),
                number: self.open_opt(
                    "travel_documents",
                    "number",
                    &d.id,
                    d.number_enc.as_ref(),
                )?,
                valid_until: d.valid_until,
            });
        }
        let mut legs = Vec::new();
        for g in &l.legs {
            legs.push(LegView {
                id: g.id.clone(),
                travel_on: g.travel_on,
                from: self
                    .keys
                    .decrypt_string(at("itinerary_legs", "from", &g.id), &g.from_enc)?,
                to: self
                    .keys
                    .decrypt_string(at("itinerary_legs", "to", &g.id), &g.to_enc)?,
                escort: self.open_opt("itinerary_legs", "escort", &g.id, g.escort_enc.as_ref())?,
                status: g.status.clone(),
            });
        }
        let mut citizenship = Vec::new();
        for q in &l.citizenship {
            let answer = CitizenshipAnswer::parse(&q.answer)?;
            citizenship.push(CitizenshipView {
                id: q.id.clone(),
                authority: q.authority.clone(),
                sent_on: q.sent_on,
                due_on: q.due_on,
                reminders: q.reminders,
                last_reminder_on: q.last_reminder_on,
                answer,
                answered_on: q.answered_on,
                clock: rules::citizenship_clock(q.sent_on, q.due_on, answer, today),
            });
        }
        let person = self.person_facts(&self.db, &l.c).await?;
        let handed_over = match l.r.handover_referral_id {
            Some(id) => referral::Entity::find_by_id(id)
                .first(&self.db)
                .await?
                .map(|r| Sections::parse(&r.sections).unwrap_or_default().list())
                .unwrap_or_default(),
            None => vec![],
        };
        let view = ReturnView {
            id: rid.clone(),
            reference: l.c.reference.clone(),
            stage,
            version: l.r.version,
            jurisdiction,
            requested_by: ConsentGiver::parse(&l.r.requested_by)?,
            requested_on: l.r.requested_on,
            during_recovery_period: l.r.during_recovery_period,
            destination_country: l.r.destination_country.clone(),
            child: person.child,
            stateless: person.stateless,
            consent_id: l.consent.id,
            consent_language: l.consent.language.clone(),
            consent_form_version: l.consent.form_version.clone(),
            consent_active: l.consent.withdrawn_at.is_none(),
            explained_by: self
                .keys
                .decrypt_string(at("returns", "explained_by", &rid), &l.r.explained_by_enc)?,
            agency: l.r.agency_org_id.and_then(|id| orgs.get(&id).cloned()),
            partner_request: self.open_opt(
                "returns",
                "partner_payload",
                &rid,
                l.r.partner_payload_enc.as_ref(),
            )?,
            guardian: self.open_opt("returns", "guardian", &rid, l.r.guardian_enc.as_ref())?,
            best_interests_on: l.r.best_interests_on,
            best_interests_by: self.open_opt(
                "returns",
                "best_interests_by",
                &rid,
                l.r.best_interests_by_enc.as_ref(),
            )?,
            risk,
            citizenship,
            documents,
            legs,
            counselled_on: l.r.counselled_on,
            counselled_by: self.open_opt(
                "returns",
                "counselled_by",
                &rid,
                l.r.counselled_by_enc.as_ref(),
            )?,
            receiving_org: l.r.receiving_org_id.and_then(|id| orgs.get(&id).cloned()),
            reception_on: l.r.reception_on,
            departed_on: l.r.departed_on,
            received_on: l.r.received_on,
            cancelled_reason: self.open_opt(
                "returns",
                "cancelled_reason",
                &rid,
                l.r.cancelled_reason_enc.as_ref(),
            )?,
            handed_over,
            checklist,
            next,
            blockers,
            conflicts,
            timeline: stages
                .iter()
                .map(|s| {
                    Ok(StageEntry {
                        stage: ReturnStage::parse(&s.stage)?,
                        at: s.at,
                        by: name(s.by_user),
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            clock: rules::return_clock(
                stage,
                l.r.requested_on,
                l.r.stage_since.date_naive(),
                l.r.departed_on,
                today,
            ),
            can_edit: may(actor.role, rel, CaseAction::EditReturn) && stage.is_open(),
            can_approve: may(actor.role, rel, CaseAction::ApproveReturn) && stage.is_open(),
        };
        self.audit
            .read(actor, Some(&view.reference), Section::Return, route)
            .await?;
        Ok(view)
    }

    /// Move a return to its next stage, or cancel it. The core rule and, for approval
    /// and arrival, the jurisdiction decide; every refusal names its rule. Approval is a
    /// return officer's; the move and its effects are one transaction.
    pub async fn move_return(
        &self,
        actor: &Actor,
        reference: &str,
        input: &MoveInput,
        route: Route<'_>,
    ) -> Result<ReturnStage> {
        let to = ReturnStage::parse(&input.to)?;
        let reason = domain::parse_optional_text("reason", input.reason.as_deref(), 2_000)?;
        if to == ReturnStage::Cancelled && reason.is_none() {
            return Err(
                Invalid::new("reason", "is required: say why the return is cancelled").into(),
            );
        }
        let action = if to == ReturnStage::Approved {
            CaseAction::ApproveReturn
        } else {
            CaseAction::EditReturn
        };
        // Facts and the jurisdiction's guard are read first (plugin calls), then the
        // move is written in one transaction that re-checks the version.
        let l = self
            .return_case_for(&self.db, actor, reference, action)
            .await?;
        if l.r.version != input.version {
            return Err(ServiceError::Conflict(format!(
                "this return was changed by someone else since you opened it (it is now at version {}); reload it and try again",
                l.r.version
            )));
        }
        let (facts, _, _, _) = self.return_facts(&self.db, &l, "en").await?;
        let mut refusals = rules::check_move(to, &facts);
        if refusals.is_empty() {
            refusals = self.guard(&self.db, &l, to, &facts).await?;
        }
        if !refusals.is_empty() {
            return Err(ServiceError::Refused(format!(
                "the return cannot move to {to}: {}",
                refusals
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
        let handover = if to == ReturnStage::Received {
            Some(self.check_handover(&l, input).await?)
        } else {
            None
        };
        let now = Utc::now();
        let today = now.date_naive();
        let txn = begin_write(&self.db).await?;
        let fresh = return_case::Entity::find_by_id(l.r.id.clone())
            .first(&txn)
            .await?
            .ok_or(ServiceError::NotFound("return"))?;
        if fresh.version != input.version {
            return Err(ServiceError::Conflict(
                "this return was changed by someone else meanwhile; reload it and try again".into(),
            ));
        }
        let mut am = fresh.clone().into_active_model();
        am.stage = Set(to.as_str().into());
        am.stage_since = Set(now);
        am.version = Set(fresh.version + 1);
        let mut case_stage = None;
        match to {
            ReturnStage::Approved => case_stage = Some(Stage::ReturnInProgress),
            ReturnStage::Departed => am.departed_on = Set(Some(today)),
            ReturnStage::Received => {
                am.received_on = Set(Some(today));
                case_stage = Some(Stage::Returned);
                if let Some((org_id, consent_id, sections)) = handover {
                    let m = referral::ActiveModel {
                        case_id: Set(l.c.id),
                        from_org_id: Set(l.c.owner_org_id),
                        to_org_id: Set(org_id),
                        service: Set(Purpose::Reintegration.as_str().into()),
                        sections: Set(sections.to_csv()),
                        consent_id: Set(consent_id),
                        status: Set("accepted".into()),
                        reason_enc: Set(None),
                        partner_payload: Set(None),
                        created_by: Set(actor.user_id),
                        created_at: Set(now),
                        due_at: Set(now),
                        answered_by: Set(Some(actor.user_id)),
                        answered_at: Set(Some(now)),
                        ..Default::default()
                    }
                    .insert(&txn)
                    .await?;
                    am.handover_referral_id = Set(Some(m.id));
                }
            }
            ReturnStage::Cancelled => {
                am.cancelled_reason_enc = Set(Some(self.seal_field(
                    "returns",
                    "cancelled_reason",
                    &fresh.id,
                    reason.as_deref().unwrap_or(""),
                )?));
                release_bookings(&txn, &fresh.id, l.c.id).await?;
                if Stage::parse(&l.c.stage)? == Stage::ReturnInProgress {
                    case_stage = Some(Stage::SolutionPlanning);
                }
            }
            _ => {}
        }
        am.update(&txn).await?;
        return_stage::ActiveModel {
            return_id: Set(fresh.id.clone()),
            stage: Set(to.as_str().into()),
            at: Set(now),
            by_user: Set(actor.user_id),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if let Some(s) = case_stage {
            let c = case::Entity::find_by_id(l.c.id)
                .first(&txn)
                .await?
                .ok_or(ServiceError::NotFound("case"))?;
            let version = c.version;
            let mut cm = c.into_active_model();
            cm.stage = Set(s.as_str().into());
            cm.version = Set(version + 1);
            cm.updated_at = Set(now);
            cm.update(&txn).await?;
        }
        let mut entries = vec![NewEntry::by(
            actor,
            Some(&l.c.reference),
            Section::Return,
            if to == ReturnStage::Cancelled {
                AuditAction::End
            } else {
                AuditAction::Update
            },
            route,
        )];
        if to == ReturnStage::Received {
            entries.push(NewEntry::by(
                actor,
                Some(&l.c.reference),
                Section::Referrals,
                AuditAction::Create,
                route,
            ));
        }
        append_in(&txn, &entries).await?;
        txn.commit().await?;
        Ok(to)
    }

    /// The hand-over on arrival: the receiving origin-country organisation, a consent
    /// for reintegration in force, and the sections it will see.
    async fn check_handover(&self, l: &Loaded, input: &MoveInput) -> Result<(i64, i64, Sections)> {
        let org_id = l.r.receiving_org_id.ok_or_else(|| {
            ServiceError::Refused("record the receiving organisation before the arrival".into())
        })?;
        let consent_id = input.handover_consent_id.ok_or_else(|| {
            Invalid::new(
                "handover_consent_id",
                "is required: the hand-over needs the person's consent for reintegration follow-up",
            )
        })?;
        let k = consent::Entity::find_by_id(consent_id)
            .first(&self.db)
            .await?
            .filter(|k| k.case_id == l.c.id)
            .ok_or_else(|| Invalid::new("handover_consent_id", "no such consent on this case"))?;
        domain::consent_covers(
            Purpose::parse(&k.purpose).map_err(|e| anyhow::anyhow!("stored purpose: {e}"))?,
            k.withdrawn_at.is_some(),
            Purpose::Reintegration,
        )
        .map_err(|m| ServiceError::Refused(m.into()))?;
        let sections = Sections::parse(&input.handover_sections.join(","))?;
        if sections.list().is_empty() {
            return Err(Invalid::new(
                "handover_sections",
                "name the sections the follow-up service receives",
            )
            .into());
        }
        Ok((org_id, consent_id, sections))
    }

    /// The person withdraws their consent to return: the consent record is withdrawn,
    /// the return stops and what was booked is released, in one transaction.
    pub async fn withdraw_return_consent(
        &self,
        actor: &Actor,
        reference: &str,
        route: Route<'_>,
    ) -> Result<()> {
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn)
            .await?;
        Self::require_open(&l)?;
        if l.r.stage == ReturnStage::Departed.as_str() {
            return Err(ServiceError::Conflict(
                "the person has already departed: the return can no longer be stopped; record the arrival, and the follow-up service takes over".into(),
            ));
        }
        if l.consent.withdrawn_at.is_some() {
            return Err(ServiceError::Conflict(
                "this consent was already withdrawn".into(),
            ));
        }
        let now = Utc::now();
        let mut k = l.consent.clone().into_active_model();
        k.withdrawn_at = Set(Some(now));
        k.withdrawn_by = Set(Some(actor.user_id));
        k.update(&txn).await?;
        let stopped = self
            .stop_returns_on_consent(&txn, l.consent.id, actor.user_id, now)
            .await?;
        let mut entries = vec![NewEntry::by(
            actor,
            Some(&l.c.reference),
            Section::Consents,
            AuditAction::Withdraw,
            route,
        )];
        if stopped {
            entries.push(NewEntry::by(
                actor,
                Some(&l.c.reference),
                Section::Return,
                AuditAction::End,
                route,
            ));
        }
        append_in(&txn, &entries).await?;
        txn.commit().await?;
        Ok(())
    }

    /// When a consent is withdrawn (from the return page or the case page), every live
    /// return resting on it is cancelled and its bookings released. True if one was.
    pub(crate) async fn stop_returns_on_consent(
        &self,
        txn: &DatabaseTransaction,
        consent_id: i64,
        by_user: i64,
        now: chrono::DateTime<Utc>,
    ) -> Result<bool> {
        let live: Vec<return_case::Model> = return_case::Entity::find()
            .filter(return_case::Column::ConsentId.eq(consent_id))
            .all(txn)
            .await?
            .into_iter()
            .filter(|r| {
                ReturnStage::parse(&r.stage)
                    .is_ok_and(|s| s.is_open() && s != ReturnStage::Departed)
            })
            .collect();
        for r in &live {
            let mut am = r.clone().into_active_model();
            am.stage = Set(ReturnStage::Cancelled.as_str().into());
            am.stage_since = Set(now);
            am.version = Set(r.version + 1);
            am.cancelled_reason_enc = Set(Some(self.seal_field(
                "returns",
                "cancelled_reason",
                &r.id,
                "the person withdrew their consent to return",
            )?));
            am.update(txn).await?;
            return_stage::ActiveModel {
                return_id: Set(r.id.clone()),
                stage: Set(ReturnStage::Cancelled.as_str().into()),
                at: Set(now),
                by_user: Set(by_user),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            release_bookings(txn, &r.id, r.case_id).await?;
            if let Some(c) = case::Entity::find_by_id(r.case_id).first(txn).await?
                && c.stage == Stage::ReturnInProgress.as_str()
            {
                let version = c.version;
                let mut cm = c.into_active_model();
                cm.stage = Set(Stage::SolutionPlanning.as_str().into());
                cm.version = Set(version + 1);
                cm.updated_at = Set(now);
                cm.update(txn).await?;
            }
        }
        Ok(!live.is_empty())
    }

    /// Record the risk assessment, dated and signed by its author.
    pub async fn assess_return(
        &self,
        actor: &Actor,
        reference: &str,
        input: &RiskInput,
        route: Route<'_>,
    ) -> Result<String> {
        let persecution = RiskLevel::parse(&input.persecution)
            .map_err(|e| Invalid::new("persecution", e.message))?;
        let re_trafficking = RiskLevel::parse(&input.re_trafficking)
            .map_err(|e| Invalid::new("re_trafficking", e.message))?;
        let findings = domain::parse_optional_text("findings", Some(&input.findings), 10_000)?
            .ok_or_else(|| {
                Invalid::new(
                    "findings",
                    "is required: family situation, health, what was found",
                )
            })?;
        let plan =
            domain::parse_optional_text("safety_plan", input.safety_plan.as_deref(), 10_000)?;
        let assessed_on = not_future(
            "assessed_on",
            day_or_today("assessed_on", input.assessed_on.as_deref())?,
        )?;
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn)
            .await?;
        Self::require_open(&l)?;
        if assessed_on < l.r.requested_on {
            return Err(
                Invalid::new("assessed_on", "cannot be before the return was requested").into(),
            );
        }
        let id = random_token(16)?;
        risk_assessment::ActiveModel {
            id: Set(id.clone()),
            return_id: Set(l.r.id.clone()),
            persecution: Set(persecution.as_str().into()),
            re_trafficking: Set(re_trafficking.as_str().into()),
            findings_enc: Set(self.seal_field("risk_assessments", "findings", &id, &findings)?),
            safety_plan_enc: Set(self.seal_opt(
                "risk_assessments",
                "safety_plan",
                &id,
                plan.as_deref(),
            )?),
            assessed_on: Set(assessed_on),
            author_user_id: Set(actor.user_id),
            recorded_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        Self::commit_return(txn, actor, &l, AuditAction::Create, route).await?;
        Ok(id)
    }

    /// A child's safeguards: the guardian and the best-interests determination.
    pub async fn child_safeguards(
        &self,
        actor: &Actor,
        reference: &str,
        input: &ChildSafeguardsInput,
        route: Route<'_>,
    ) -> Result<()> {
        let guardian = domain::parse_optional_text("guardian", input.guardian.as_deref(), 300)?;
        let bid_on = match input.best_interests_on.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(not_future(
                "best_interests_on",
                day("best_interests_on", s)?,
            )?),
        };
        let bid_by = domain::parse_optional_text(
            "best_interests_by",
            input.best_interests_by.as_deref(),
            300,
        )?;
        if bid_on.is_some() != bid_by.is_some() {
            return Err(Invalid::new(
                "best_interests_by",
                "a best-interests determination needs both its date and who made it",
            )
            .into());
        }
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn)
            .await?;
        Self::require_open(&l)?;
        let rid = l.r.id.clone();
        let mut am = l.r.clone().into_active_model();
        if let Some(g) = &guardian {
            am.guardian_enc = Set(Some(self.seal_field("returns", "guardian", &rid, g)?));
        }
        if let (Some(on), Some(by)) = (bid_on, &bid_by) {
            am.best_interests_on = Set(Some(on));
            am.best_interests_by_enc = Set(Some(self.seal_field(
                "returns",
                "best_interests_by",
                &rid,
                by,
            )?));
        }
        am.update(&txn).await?;
        Self::commit_return(txn, actor, &l, AuditAction::Update, route).await
    }

    /// Ask an origin-country authority to confirm citizenship (not for a stateless person).
    pub async fn request_citizenship(
        &self,
        actor: &Actor,
        reference: &str,
        input: &CitizenshipInput,
        route: Route<'_>,
    ) -> Result<String> {
        let authority = domain::parse_line("authority", &input.authority, 300)?;
        let sent_on = not_future(
            "sent_on",
            day_or_today("sent_on", input.sent_on.as_deref())?,
        )?;
        let due_on = match input.due_on.as_deref().map(str::trim) {
            None | Some("") => sent_on.checked_add_days(Days::new(30)).unwrap_or(sent_on),
            Some(s) => day("due_on", s)?,
        };
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn)
            .await?;
        Self::require_open(&l)?;
        let person = self.person_facts(&txn, &l.c).await?;
        rules::check_citizenship_request(person.stateless, sent_on, due_on)?;
        let id = random_token(16)?;
        citizenship_request::ActiveModel {
            id: Set(id.clone()),
            return_id: Set(l.r.id.clone()),
            authority: Set(authority),
            sent_on: Set(sent_on),
            due_on: Set(due_on),
            reminders: Set(0),
            last_reminder_on: Set(None),
            answer: Set(CitizenshipAnswer::Pending.as_str().into()),
            answered_on: Set(None),
            created_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        Self::commit_return(txn, actor, &l, AuditAction::Create, route).await?;
        Ok(id)
    }

    async fn citizenship_for_edit(
        &self,
        txn: &DatabaseTransaction,
        actor: &Actor,
        reference: &str,
        id: &str,
    ) -> Result<(Loaded, citizenship_request::Model)> {
        let l = self
            .return_case_for(txn, actor, reference, CaseAction::EditReturn)
            .await?;
        Self::require_open(&l)?;
        let q = l
            .citizenship
            .iter()
            .find(|q| q.id == id)
            .cloned()
            .ok_or(ServiceError::NotFound("citizenship_request"))?;
        if q.answer != CitizenshipAnswer::Pending.as_str() {
            return Err(ServiceError::Conflict(
                "this citizenship request was already answered".into(),
            ));
        }
        Ok((l, q))
    }

    /// Record that a reminder was sent for a pending citizenship request.
    pub async fn remind_citizenship(
        &self,
        actor: &Actor,
        reference: &str,
        id: &str,
        route: Route<'_>,
    ) -> Result<()> {
        let txn = begin_write(&self.db).await?;
        let (l, q) = self
            .citizenship_for_edit(&txn, actor, reference, id)
            .await?;
        let n = q.reminders;
        let mut am = q.into_active_model();
        am.reminders = Set(n + 1);
        am.last_reminder_on = Set(Some(Utc::now().date_naive()));
        am.update(&txn).await?;
        Self::commit_return(txn, actor, &l, AuditAction::Update, route).await
    }

    /// Record the origin state's answer.
    pub async fn answer_citizenship(
        &self,
        actor: &Actor,
        reference: &str,
        id: &str,
        input: &CitizenshipAnswerInput,
        route: Route<'_>,
    ) -> Result<()> {
        let answer = CitizenshipAnswer::parse(&input.answer)?;
        if answer == CitizenshipAnswer::Pending {
            return Err(Invalid::new("answer", "must be confirmed, refused or no_answer").into());
        }
        let on = not_future(
            "answered_on",
            day_or_today("answered_on", input.answered_on.as_deref())?,
        )?;
        let txn = begin_write(&self.db).await?;
        let (l, q) = self
            .citizenship_for_edit(&txn, actor, reference, id)
            .await?;
        if on < q.sent_on {
            return Err(
                Invalid::new("answered_on", "cannot be before the request was sent").into(),
            );
        }
        let mut am = q.into_active_model();
        am.answer = Set(answer.as_str().into());
        am.answered_on = Set(Some(on));
        am.update(&txn).await?;
        Self::commit_return(txn, actor, &l, AuditAction::Update, route).await
    }

    /// Record a travel document.
    pub async fn add_travel_document(
        &self,
        actor: &Actor,
        reference: &str,
        input: &DocumentInput,
        route: Route<'_>,
    ) -> Result<String> {
        let kind = DocumentKind::parse(&input.kind)?;
        let issued_by = domain::parse_line("issued_by", &input.issued_by, 300)?;
        let number = domain::parse_optional_text("number", input.number.as_deref(), 100)?;
        let valid_until = day("valid_until", &input.valid_until)?;
        if valid_until < Utc::now().date_naive() {
            return Err(Invalid::new("valid_until", "the document has expired").into());
        }
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn)
            .await?;
        Self::require_open(&l)?;
        let id = random_token(16)?;
        travel_document::ActiveModel {
            id: Set(id.clone()),
            return_id: Set(l.r.id.clone()),
            kind: Set(kind.as_str().into()),
            issued_by: Set(issued_by),
            number_enc: Set(self.seal_opt("travel_documents", "number", &id, number.as_deref())?),
            valid_until: Set(valid_until),
            created_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        Self::commit_return(txn, actor, &l, AuditAction::Create, route).await?;
        Ok(id)
    }

    /// Record a leg of the itinerary. The first booked leg is the planned departure
    /// that hearings are checked against.
    pub async fn add_leg(
        &self,
        actor: &Actor,
        reference: &str,
        input: &LegInput,
        route: Route<'_>,
    ) -> Result<String> {
        let travel_on = day("travel_on", &input.travel_on)?;
        if travel_on < Utc::now().date_naive() {
            return Err(Invalid::new("travel_on", "cannot be in the past").into());
        }
        let from = domain::parse_line("from", &input.from, 200)?;
        let to = domain::parse_line("to", &input.to, 200)?;
        let escort = domain::parse_optional_text("escort", input.escort.as_deref(), 300)?;
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn)
            .await?;
        Self::require_open(&l)?;
        let id = random_token(16)?;
        let now = Utc::now();
        itinerary_leg::ActiveModel {
            id: Set(id.clone()),
            return_id: Set(l.r.id.clone()),
            travel_on: Set(travel_on),
            from_enc: Set(self.seal_field("itinerary_legs", "from", &id, &from)?),
            to_enc: Set(self.seal_field("itinerary_legs", "to", &id, &to)?),
            escort_enc: Set(self.seal_opt("itinerary_legs", "escort", &id, escort.as_deref())?),
            status: Set("booked".into()),
            created_by: Set(actor.user_id),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let first = l.first_departure().map_or(travel_on, |d| d.min(travel_on));
        let existing = planned_departure::Entity::find_by_id(l.c.id)
            .first(&txn)
            .await?;
        let am = planned_departure::ActiveModel {
            case_id: Set(l.c.id),
            departure_on: Set(first),
            note_enc: Set(None),
            recorded_by: Set(actor.user_id),
            recorded_at: Set(now),
        };
        if existing.is_some() {
            am.update(&txn).await?;
        } else {
            am.insert(&txn).await?;
        }
        Self::commit_return(txn, actor, &l, AuditAction::Create, route).await?;
        Ok(id)
    }

    /// Record the pre-departure counselling.
    pub async fn record_counselling(
        &self,
        actor: &Actor,
        reference: &str,
        input: &CounsellingInput,
        route: Route<'_>,
    ) -> Result<()> {
        let on = not_future(
            "counselled_on",
            day_or_today("counselled_on", input.counselled_on.as_deref())?,
        )?;
        let by = domain::parse_line("counselled_by", &input.counselled_by, 300)?;
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn)
            .await?;
        Self::require_open(&l)?;
        let rid = l.r.id.clone();
        let mut am = l.r.clone().into_active_model();
        am.counselled_on = Set(Some(on));
        am.counselled_by_enc = Set(Some(self.seal_field(
            "returns",
            "counselled_by",
            &rid,
            &by,
        )?));
        am.update(&txn).await?;
        Self::commit_return(txn, actor, &l, AuditAction::Update, route).await
    }

    /// Arrange the reception on arrival by an origin-country organisation.
    pub async fn arrange_reception(
        &self,
        actor: &Actor,
        reference: &str,
        input: &ReceptionInput,
        route: Route<'_>,
    ) -> Result<()> {
        let on = day("reception_on", &input.reception_on)?;
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn)
            .await?;
        Self::require_open(&l)?;
        let org = organisation::Entity::find_by_id(input.receiving_org_id)
            .first(&txn)
            .await?
            .ok_or_else(|| Invalid::new("receiving_org_id", "no such organisation"))?;
        if org.kind != OrgKind::OriginService.as_str() {
            return Err(
                Invalid::new("receiving_org_id", "must be an origin-country service").into(),
            );
        }
        if org.country != l.r.destination_country {
            return Err(
                Invalid::new("receiving_org_id", "must be in the country of return").into(),
            );
        }
        let mut am = l.r.clone().into_active_model();
        am.receiving_org_id = Set(Some(org.id));
        am.reception_on = Set(Some(on));
        am.update(&txn).await?;
        Self::commit_return(txn, actor, &l, AuditAction::Update, route).await
    }

    /// Tick one of the jurisdiction's own checks (e.g. a national programme's file).
    pub async fn record_check(
        &self,
        actor: &Actor,
        reference: &str,
        input: &CheckInput,
        route: Route<'_>,
    ) -> Result<()> {
        let requirement = domain::parse_line("requirement", &input.requirement, 64)?;
        let on = not_future(
            "done_on",
            day_or_today("done_on", input.done_on.as_deref())?,
        )?;
        let note = domain::parse_optional_text("note", input.note.as_deref(), 2_000)?;
        let l = self
            .return_case_for(&self.db, actor, reference, CaseAction::EditReturn)
            .await?;
        let (_, checklist, _, _) = self.return_facts(&self.db, &l, "en").await?;
        if !checklist.iter().any(|i| i.id == requirement) {
            return Err(
                Invalid::new("requirement", "is not on this jurisdiction's checklist").into(),
            );
        }
        if matches!(
            requirement.as_str(),
            "informed_consent"
                | "risk_assessment"
                | "citizenship_confirmed"
                | "travel_document"
                | "reception_arranged"
                | "guardian_appointed"
                | "best_interests_determination"
        ) {
            return Err(Invalid::new(
                "requirement",
                "is met by recording it in its own section, not by a tick",
            )
            .into());
        }
        let txn = begin_write(&self.db).await?;
        let l = self
            .return_case_for(&txn, actor, reference, CaseAction::EditReturn)
            .await?;
        Self::require_open(&l)?;
        let id = random_token(16)?;
        return_check::ActiveModel {
            id: Set(id.clone()),
            return_id: Set(l.r.id.clone()),
            requirement: Set(requirement),
            done_on: Set(on),
            note_enc: Set(self.seal_opt("return_checks", "note", &id, note.as_deref())?),
            by_user: Set(actor.user_id),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        Self::commit_return(txn, actor, &l, AuditAction::Create, route).await
    }

    /// The returns of my organisation (as owner or as return agency), for the
    /// service-level view: no personal data, only references, stages and clocks.
    pub async fn returns_of_my_org(
        &self,
        actor: &Actor,
        route: Route<'_>,
    ) -> Result<Vec<ReturnListItem>> {
        if !actor.role.is_caseworker() && actor.role != domain::Role::OrgAdmin {
            return Err(ServiceError::Forbidden(
                "your role has no view of returns".into(),
            ));
        }
        let own_cases: Vec<case::Model> = case::Entity::find()
            .filter(case::Column::OwnerOrgId.eq(actor.org_id))
            .all(&self.db)
            .await?;
        let own_ids: Vec<i64> = own_cases.iter().map(|c| c.id).collect();
        let mut rows = return_case::Entity::find()
            .filter(return_case::Column::AgencyOrgId.eq(actor.org_id))
            .all(&self.db)
            .await?;
        if !own_ids.is_empty() {
            rows.extend(
                return_case::Entity::find()
                    .filter(return_case::Column::CaseId.is_in(own_ids))
                    .all(&self.db)
                    .await?,
            );
        }
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        rows.dedup_by(|a, b| a.id == b.id);
        let case_ids: Vec<i64> = rows.iter().map(|r| r.case_id).collect();
        let refs: HashMap<i64, String> = if case_ids.is_empty() {
            HashMap::new()
        } else {
            case::Entity::find()
                .filter(case::Column::Id.is_in(case_ids))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|c| (c.id, c.reference))
                .collect()
        };
        let orgs: HashMap<i64, String> = organisation::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let return_ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let requests = if return_ids.is_empty() {
            vec![]
        } else {
            citizenship_request::Entity::find()
                .filter(citizenship_request::Column::ReturnId.is_in(return_ids))
                .all(&self.db)
                .await?
        };
        let today = Utc::now().date_naive();
        let mut out = Vec::new();
        for r in rows {
            let stage = ReturnStage::parse(&r.stage)?;
            let clocks: Vec<RequestClock> = requests
                .iter()
                .filter(|q| q.return_id == r.id)
                .filter_map(|q| {
                    CitizenshipAnswer::parse(&q.answer)
                        .ok()
                        .map(|a| rules::citizenship_clock(q.sent_on, q.due_on, a, today))
                })
                .filter(|c| c.overdue)
                .collect();
            out.push(ReturnListItem {
                reference: refs.get(&r.case_id).cloned().unwrap_or_default(),
                stage,
                destination_country: r.destination_country.clone(),
                agency: r.agency_org_id.and_then(|id| orgs.get(&id).cloned()),
                requested_on: r.requested_on,
                clock: rules::return_clock(
                    stage,
                    r.requested_on,
                    r.stage_since.date_naive(),
                    r.departed_on,
                    today,
                ),
                overdue_citizenship: clocks.len(),
                oldest_overdue_days: clocks.iter().map(|c| c.age_days).max().unwrap_or(0),
            });
        }
        out.sort_by(|a, b| {
            b.clock
                .days_in_stage
                .cmp(&a.clock.days_in_stage)
                .then(a.reference.cmp(&b.reference))
        });
        self.audit.read(actor, None, Section::Return, route).await?;
        Ok(out)
    }
}

/// Release what was booked for a return: its legs, and the planned departure.
async fn release_bookings(txn: &DatabaseTransaction, return_id: &str, case_id: i64) -> Result<()> {
    itinerary_leg::Entity::update_many()
        .col_expr(itinerary_leg::Column::Status, Expr::value("released"))
        .filter(itinerary_leg::Column::ReturnId.eq(return_id))
        .filter(itinerary_leg::Column::Status.eq("booked"))
        .exec(txn)
        .await?;
    planned_departure::Entity::delete_by_id(case_id)
        .exec(txn)
        .await?;
    Ok(())
}
