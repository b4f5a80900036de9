//! The identification stage: screening interviews (answers encrypted), the Protocol
//! elements, the suggested assessment, the separate determinations with their history,
//! and the legal clocks they start. Question sets, the recovery period and the decision
//! steps come from the jurisdiction of the owning organisation's country.

use super::audit::{NewEntry, commit_audited};
use super::{Actor, Result, Route, ServiceError, Services, at};
use crate::crypto::random_token;
use crate::domain::{self, AuditAction, CaseAction, CaseEvent, Invalid, Section, may};
use crate::identification::{
    self as rules, Assessment, DecidingBody, Elements, InterviewerKind, SmugglingStatus,
    TraffickingStatus,
};
use crate::ports::{Jurisdiction, PersonFacts, Question, QuestionSetKind};
use crate::store::First;
use crate::store::begin_write;
use crate::store::entity::{
    case, case_elements, deadline, interview, organisation, person, smuggling_decision,
    trafficking_decision, user,
};
use chrono::{Days, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub use super::deadlines::{DeadlineView, deadline_view};
pub use crate::deadlines::{HEARING_CONFLICT, REASONABLE_GROUNDS_DUE, RECOVERY_PERIOD_END};

fn parse_date(field: &'static str, s: &str, today: NaiveDate) -> Result<NaiveDate, Invalid> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Invalid::new(field, "must be a date written YYYY-MM-DD"))?;
    if d > today {
        return Err(Invalid::new(field, "cannot be in the future"));
    }
    if d < NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(d) {
        return Err(Invalid::new(field, "must be after 1990"));
    }
    Ok(d)
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct InterviewInput {
    /// YYYY-MM-DD; today when empty.
    #[serde(default)]
    pub held_on: Option<String>,
    pub interviewer_kind: String,
    pub language: String,
    #[serde(default)]
    pub interpreter: bool,
    /// "one" (one question at a time, for interpreters) or "all".
    #[serde(default)]
    pub mode: Option<String>,
    /// Which question sets to ask: "trafficking", "smuggling"; both when empty.
    #[serde(default)]
    pub sets: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AskedQuestion {
    pub id: String,
    pub set: QuestionSetKind,
    pub text: String,
    pub indicator: String,
    pub answer: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct InterviewView {
    pub id: String,
    pub held_on: NaiveDate,
    pub interviewer: String,
    pub interviewer_kind: InterviewerKind,
    pub language: String,
    pub interpreter: bool,
    pub mode: String,
    pub jurisdiction: String,
    pub questions: Vec<AskedQuestion>,
    pub answered: i32,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct TraffickingDecisionInput {
    pub status: String,
    pub deciding_body: String,
    pub decided_on: String,
    pub basis: String,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct SmugglingDecisionInput {
    pub status: String,
    #[serde(default)]
    pub victim_of_other_crimes: bool,
    #[serde(default)]
    pub witness: bool,
    pub deciding_body: String,
    pub decided_on: String,
    pub basis: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TraffickingDecisionView {
    pub id: String,
    pub status: TraffickingStatus,
    pub deciding_body: DecidingBody,
    pub decided_on: NaiveDate,
    pub basis: String,
    pub author: String,
    pub recorded_at: chrono::DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SmugglingDecisionView {
    pub id: String,
    pub status: SmugglingStatus,
    pub victim_of_other_crimes: bool,
    pub witness: bool,
    pub protected_witness: bool,
    pub deciding_body: DecidingBody,
    pub decided_on: NaiveDate,
    pub basis: String,
    pub author: String,
    pub recorded_at: chrono::DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct IdentificationView {
    pub reference: String,
    pub version: i64,
    pub jurisdiction: String,
    pub child: bool,
    pub two_steps: bool,
    pub recovery_period_days: u32,
    pub interviews: Vec<InterviewView>,
    pub elements: Elements,
    pub findings: Option<String>,
    pub assessment: Assessment,
    /// Newest first.
    pub trafficking: Vec<TraffickingDecisionView>,
    pub smuggling: Vec<SmugglingDecisionView>,
    pub protected_witness: bool,
    pub deadlines: Vec<DeadlineView>,
    /// Which bodies may take each trafficking decision in this jurisdiction (an empty
    /// list: any body).
    pub deciding_bodies: Vec<StatusBodies>,
    pub can_edit: bool,
}

/// The bodies that may record one trafficking status.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StatusBodies {
    pub status: TraffickingStatus,
    /// Empty: any body.
    pub bodies: Vec<DecidingBody>,
}

impl Services {
    /// The jurisdiction of the case's owning organisation.
    pub(crate) async fn jurisdiction_of<C: ConnectionTrait>(
        &self,
        db: &C,
        c: &case::Model,
    ) -> Result<Arc<dyn Jurisdiction>> {
        let org = organisation::Entity::find_by_id(c.owner_org_id)
            .first(db)
            .await?
            .ok_or_else(|| {
                ServiceError::Unexpected(anyhow::anyhow!("case without organisation"))
            })?;
        Ok(self.adapters.jurisdiction(&org.country))
    }

    /// The jurisdiction for an organisation's country (for pages that list its rules).
    pub async fn jurisdiction_for_org(&self, org_id: i64) -> Result<Arc<dyn Jurisdiction>> {
        let org = organisation::Entity::find_by_id(org_id)
            .first(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("organisation"))?;
        Ok(self.adapters.jurisdiction(&org.country))
    }

    pub(crate) async fn person_facts<C: ConnectionTrait>(
        &self,
        db: &C,
        c: &case::Model,
    ) -> Result<PersonFacts> {
        let p = person::Entity::find_by_id(c.person_id.clone())
            .first(db)
            .await?
            .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("case without person")))?;
        let birth = match self.open("birth_date", &p.id, p.birth_date_enc.as_ref())? {
            Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok(),
            None => None,
        };
        let nationality = self.open("nationality", &p.id, p.nationality_enc.as_ref())?;
        Ok(PersonFacts {
            child: domain::is_child(birth, p.is_minor, Utc::now().date_naive()),
            stateless: p.stateless,
            nationality,
        })
    }

    async fn questions_of(&self, j: Arc<dyn Jurisdiction>) -> Result<Vec<Question>> {
        let qs = self.call_port(move || j.questions()).await?;
        Ok(qs)
    }

    /// Start a screening interview: which questions, in what language, with an interpreter.
    pub async fn start_interview(
        &self,
        actor: &Actor,
        reference: &str,
        input: &InterviewInput,
        route: Route<'_>,
    ) -> Result<String> {
        let today = Utc::now().date_naive();
        let held_on = match input.held_on.as_deref().map(str::trim) {
            None | Some("") => today,
            Some(s) => parse_date("held_on", s, today)?,
        };
        let kind = InterviewerKind::parse(&input.interviewer_kind)?;
        let language = domain::parse_line("language", &input.language, 35)?;
        let mode = match input.mode.as_deref().map(str::trim) {
            None | Some("") | Some("all") => "all",
            Some("one") => "one",
            Some(_) => return Err(Invalid::new("mode", "must be 'one' or 'all'").into()),
        };
        let mut sets = Vec::new();
        for s in &input.sets {
            sets.push(match s.trim() {
                "trafficking" => QuestionSetKind::Trafficking,
                "smuggling" => QuestionSetKind::Smuggling,
                other => {
                    return Err(Invalid::new(
                        "sets",
                        format!(
                            "unknown question set '{}'; expected trafficking or smuggling",
                            other.chars().take(40).collect::<String>()
                        ),
                    )
                    .into());
                }
            });
        }
        if sets.is_empty() {
            sets = vec![QuestionSetKind::Trafficking, QuestionSetKind::Smuggling];
        }
        let (c, _) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::EditIdentification,
                route,
            )
            .await?;
        let j = self.jurisdiction_of(&self.db, &c).await?;
        let describe = j.describe();
        let rules_j = j.clone();
        let decision_rules = self.call_port(move || rules_j.decision_rules()).await?;
        let questions = self.questions_of(j).await?;
        let ids: Vec<String> = questions
            .iter()
            .filter(|q| sets.contains(&q.set))
            .map(|q| q.id.clone())
            .collect();
        if ids.is_empty() {
            return Err(ServiceError::Refused(format!(
                "the jurisdiction ({describe}) gives no question for these sets"
            )));
        }
        let id = random_token(16)?;
        let txn = begin_write(&self.db).await?;
        interview::ActiveModel {
            id: Set(id.clone()),
            case_id: Set(c.id),
            held_on: Set(held_on),
            interviewer_user_id: Set(actor.user_id),
            interviewer_kind: Set(kind.as_str().into()),
            language: Set(language),
            interpreter: Set(input.interpreter),
            mode: Set(mode.into()),
            question_ids: Set(ids.join(",")),
            answers_enc: Set(None),
            answered: Set(0),
            jurisdiction: Set(describe.chars().take(200).collect()),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        self.advance_stage(&txn, c.id, CaseEvent::InterviewStarted)
            .await?;
        // The jurisdiction may expect a reasonable-grounds decision within some days of referral.
        if let Some(days) = decision_rules.reasonable_grounds_due_days {
            let already = deadline::Entity::find()
                .filter(deadline::Column::CaseId.eq(c.id))
                .filter(deadline::Column::Kind.eq(REASONABLE_GROUNDS_DUE))
                .first(&txn)
                .await?;
            let decided = trafficking_decision::Entity::find()
                .filter(trafficking_decision::Column::CaseId.eq(c.id))
                .filter(trafficking_decision::Column::Status.is_in([
                    "presumed",
                    "confirmed",
                    "not_a_victim",
                ]))
                .first(&txn)
                .await?;
            if already.is_none() && decided.is_none() {
                let start = c.created_at.date_naive();
                deadline::ActiveModel {
                    case_id: Set(c.id),
                    kind: Set(REASONABLE_GROUNDS_DUE.into()),
                    starts_on: Set(start),
                    due_on: Set(start
                        .checked_add_days(Days::new(u64::from(days)))
                        .unwrap_or(start)),
                    source: Set(format!(
                        "jurisdiction:{}",
                        describe.chars().take(60).collect::<String>()
                    )),
                    closed_at: Set(None),
                    created_at: Set(Utc::now()),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
        }
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Identification,
                AuditAction::Create,
                route,
            ),
        )
        .await?;
        Ok(id)
    }

    /// Record answers (one or many). Every key must be a question of this interview.
    pub async fn answer_interview(
        &self,
        actor: &Actor,
        reference: &str,
        interview_id: &str,
        answers: &BTreeMap<String, String>,
        route: Route<'_>,
    ) -> Result<Option<usize>> {
        for (k, v) in answers {
            if v.chars().count() > 5000 {
                return Err(Invalid::new(
                    "answers",
                    format!(
                        "the answer to '{}' must have at most 5000 characters",
                        k.chars().take(40).collect::<String>()
                    ),
                )
                .into());
            }
        }
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(
                &txn,
                actor,
                reference,
                CaseAction::EditIdentification,
                route,
            )
            .await?;
        let iv = interview::Entity::find_by_id(interview_id.to_owned())
            .first(&txn)
            .await?
            .filter(|i| i.case_id == c.id)
            .ok_or(ServiceError::NotFound("interview"))?;
        let asked: Vec<&str> = iv.question_ids.split(',').collect();
        for k in answers.keys() {
            if !asked.contains(&k.as_str()) {
                return Err(Invalid::new(
                    "answers",
                    format!(
                        "'{}' is not a question of this interview",
                        k.chars().take(40).collect::<String>()
                    ),
                )
                .into());
            }
        }
        let mut current: BTreeMap<String, String> = match &iv.answers_enc {
            Some(b) => {
                serde_json::from_slice(&self.keys.decrypt(at("interviews", "answers", &iv.id), b)?)
                    .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("stored answers: {e}")))?
            }
            None => BTreeMap::new(),
        };
        for (k, v) in answers {
            let v = v.trim();
            if v.is_empty() {
                current.remove(k);
            } else {
                current.insert(k.clone(), v.to_owned());
            }
        }
        let blob = serde_json::to_vec(&current)
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("{e}")))?;
        let sealed = self.keys.encrypt_for(
            Some(c.owner_org_id),
            at("interviews", "answers", &iv.id),
            &blob,
        )?;
        let next = asked.iter().position(|q| !current.contains_key(*q));
        let answered = i32::try_from(current.len()).unwrap_or(i32::MAX);
        let mut a = iv.into_active_model();
        a.answers_enc = Set(Some(sealed));
        a.answered = Set(answered);
        a.update(&txn).await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Identification,
                AuditAction::Update,
                route,
            ),
        )
        .await?;
        Ok(next)
    }

    /// Replace the elements found (and the caseworker's findings).
    pub async fn set_elements(
        &self,
        actor: &Actor,
        reference: &str,
        expected_version: i64,
        elements: &Elements,
        findings: Option<&str>,
        route: Route<'_>,
    ) -> Result<i64> {
        let findings = domain::parse_optional_text("findings", findings, 10_000)?;
        let elements = &elements.checked()?;
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(
                &txn,
                actor,
                reference,
                CaseAction::EditIdentification,
                route,
            )
            .await?;
        self.bump_version(&txn, &c, expected_version).await?;
        let row = c.id.to_string();
        let json = serde_json::to_vec(elements)
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("{e}")))?;
        let model = case_elements::ActiveModel {
            case_id: Set(c.id),
            elements_enc: Set(self.keys.encrypt_for(
                Some(c.owner_org_id),
                at("case_elements", "elements", &row),
                &json,
            )?),
            findings_enc: Set(match &findings {
                Some(f) => Some(self.keys.encrypt_str_for(
                    Some(c.owner_org_id),
                    at("case_elements", "findings", &row),
                    f,
                )?),
                None => None,
            }),
            updated_by: Set(actor.user_id),
            updated_at: Set(Utc::now()),
        };
        if case_elements::Entity::find_by_id(c.id)
            .first(&txn)
            .await?
            .is_some()
        {
            model.update(&txn).await?;
        } else {
            model.insert(&txn).await?;
        }
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Identification,
                AuditAction::Update,
                route,
            ),
        )
        .await?;
        Ok(expected_version + 1)
    }

    /// Record a trafficking determination. A presumed victim (reasonable grounds) gets the
    /// recovery and reflection period of the jurisdiction, counted from the decision date.
    pub async fn decide_trafficking(
        &self,
        actor: &Actor,
        reference: &str,
        input: &TraffickingDecisionInput,
        route: Route<'_>,
    ) -> Result<String> {
        let today = Utc::now().date_naive();
        let status = TraffickingStatus::parse(&input.status)?;
        let body = DecidingBody::parse(&input.deciding_body)?;
        let decided_on = parse_date("decided_on", &input.decided_on, today)?;
        let basis = domain::parse_optional_text("basis", Some(&input.basis), 10_000)?
            .ok_or_else(|| Invalid::new("basis", "is required: say on what the decision rests"))?;
        let (c, _) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::EditIdentification,
                route,
            )
            .await?;
        let j = self.jurisdiction_of(&self.db, &c).await?;
        let facts = self.person_facts(&self.db, &c).await?;
        let (j1, j2, f) = (j.clone(), j.clone(), facts.clone());
        let decision_rules = self.call_port(move || j1.decision_rules()).await?;
        let recovery_days = if status == TraffickingStatus::Presumed {
            Some(self.call_port(move || j2.recovery_period_days(&f)).await?)
        } else {
            None
        };
        let allowed = decision_rules.bodies_for(status);
        if !allowed.is_empty() && !allowed.contains(&body) {
            return Err(ServiceError::Refused(format!(
                "in this jurisdiction ({}) a '{}' decision is taken by: {}",
                j.describe(),
                status.as_str(),
                allowed
                    .iter()
                    .map(|b| b.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let txn = begin_write(&self.db).await?;
        let previous = trafficking_decision::Entity::find()
            .filter(trafficking_decision::Column::CaseId.eq(c.id))
            .order_by_desc(trafficking_decision::Column::RecordedAt)
            .first(&txn)
            .await?
            .and_then(|d| TraffickingStatus::parse(&d.status).ok());
        rules::may_decide(previous, status, decision_rules.two_steps)
            .map_err(|m| ServiceError::Refused(m.into()))?;
        let id = random_token(16)?;
        trafficking_decision::ActiveModel {
            id: Set(id.clone()),
            case_id: Set(c.id),
            status: Set(status.as_str().into()),
            deciding_body: Set(body.as_str().into()),
            decided_on: Set(decided_on),
            basis_enc: Set(self.keys.encrypt_str_for(
                Some(c.owner_org_id),
                at("trafficking_decisions", "basis", &id),
                &basis,
            )?),
            author_user_id: Set(actor.user_id),
            recorded_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        let now = Utc::now();
        if matches!(
            status,
            TraffickingStatus::Presumed
                | TraffickingStatus::Confirmed
                | TraffickingStatus::NotAVictim
        ) {
            close_deadlines(&txn, c.id, REASONABLE_GROUNDS_DUE, now).await?;
        }
        if status == TraffickingStatus::NotAVictim {
            close_deadlines(&txn, c.id, RECOVERY_PERIOD_END, now).await?;
        }
        if matches!(
            status,
            TraffickingStatus::Presumed | TraffickingStatus::Confirmed
        ) {
            self.advance_stage(&txn, c.id, CaseEvent::IdentifiedAsVictim)
                .await?;
        }
        if let Some(days) = recovery_days {
            close_deadlines(&txn, c.id, RECOVERY_PERIOD_END, now).await?;
            deadline::ActiveModel {
                case_id: Set(c.id),
                kind: Set(RECOVERY_PERIOD_END.into()),
                starts_on: Set(decided_on),
                due_on: Set(decided_on
                    .checked_add_days(Days::new(u64::from(days)))
                    .unwrap_or(decided_on)),
                source: Set(format!("trafficking_decision:{id}")),
                closed_at: Set(None),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Identification,
                AuditAction::Create,
                route,
            ),
        )
        .await?;
        Ok(id)
    }

    /// Record a smuggling determination, separate from trafficking.
    pub async fn decide_smuggling(
        &self,
        actor: &Actor,
        reference: &str,
        input: &SmugglingDecisionInput,
        route: Route<'_>,
    ) -> Result<String> {
        let today = Utc::now().date_naive();
        let status = SmugglingStatus::parse(&input.status)?;
        let body = DecidingBody::parse(&input.deciding_body)?;
        let decided_on = parse_date("decided_on", &input.decided_on, today)?;
        let basis = domain::parse_optional_text("basis", Some(&input.basis), 10_000)?
            .ok_or_else(|| Invalid::new("basis", "is required: say on what the decision rests"))?;
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(
                &txn,
                actor,
                reference,
                CaseAction::EditIdentification,
                route,
            )
            .await?;
        let id = random_token(16)?;
        smuggling_decision::ActiveModel {
            id: Set(id.clone()),
            case_id: Set(c.id),
            status: Set(status.as_str().into()),
            victim_of_other_crimes: Set(input.victim_of_other_crimes),
            witness: Set(input.witness),
            deciding_body: Set(body.as_str().into()),
            decided_on: Set(decided_on),
            basis_enc: Set(self.keys.encrypt_str_for(
                Some(c.owner_org_id),
                at("smuggling_decisions", "basis", &id),
                &basis,
            )?),
            author_user_id: Set(actor.user_id),
            recorded_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        if rules::protected_witness(status, input.victim_of_other_crimes, input.witness) {
            self.advance_stage(&txn, c.id, CaseEvent::ProtectedWitness)
                .await?;
        }
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Identification,
                AuditAction::Create,
                route,
            ),
        )
        .await?;
        Ok(id)
    }

    /// Everything of the identification stage the caller may see, audited.
    pub async fn identification(
        &self,
        actor: &Actor,
        reference: &str,
        lang: &str,
        route: Route<'_>,
    ) -> Result<IdentificationView> {
        let (c, rel) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Identification),
                route,
            )
            .await?;
        let j = self.jurisdiction_of(&self.db, &c).await?;
        let facts = self.person_facts(&self.db, &c).await?;
        let (j1, j2, f) = (j.clone(), j.clone(), facts.clone());
        let decision_rules = self.call_port(move || j1.decision_rules()).await?;
        let recovery_period_days = self.call_port(move || j2.recovery_period_days(&f)).await?;
        let questions: HashMap<String, Question> = self
            .questions_of(j.clone())
            .await?
            .into_iter()
            .map(|q| (q.id.clone(), q))
            .collect();
        let names: HashMap<i64, String> = user::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
        let name = |id: i64| names.get(&id).cloned().unwrap_or_default();

        let mut interviews = Vec::new();
        for iv in interview::Entity::find()
            .filter(interview::Column::CaseId.eq(c.id))
            .order_by_asc(interview::Column::CreatedAt)
            .all(&self.db)
            .await?
        {
            let answers: BTreeMap<String, String> = match &iv.answers_enc {
                Some(b) => serde_json::from_slice(
                    &self.keys.decrypt(at("interviews", "answers", &iv.id), b)?,
                )
                .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("stored answers: {e}")))?,
                None => BTreeMap::new(),
            };
            let asked = iv
                .question_ids
                .split(',')
                .map(|qid| {
                    let q = questions.get(qid);
                    AskedQuestion {
                        id: qid.to_owned(),
                        set: q.map(|q| q.set).unwrap_or(QuestionSetKind::Trafficking),
                        // A question the jurisdiction no longer lists keeps its id.
                        text: q
                            .map(|q| q.text_in(lang).to_owned())
                            .unwrap_or_else(|| qid.to_owned()),
                        indicator: q
                            .map(|q| q.indicator_in(lang).to_owned())
                            .unwrap_or_default(),
                        answer: answers.get(qid).cloned(),
                    }
                })
                .collect();
            interviews.push(InterviewView {
                interviewer: name(iv.interviewer_user_id),
                interviewer_kind: InterviewerKind::parse(&iv.interviewer_kind)
                    .unwrap_or(InterviewerKind::Other),
                id: iv.id,
                held_on: iv.held_on,
                language: iv.language,
                interpreter: iv.interpreter,
                mode: iv.mode,
                jurisdiction: iv.jurisdiction,
                questions: asked,
                answered: iv.answered,
            });
        }
        let row = c.id.to_string();
        let (elements, findings) = match case_elements::Entity::find_by_id(c.id)
            .first(&self.db)
            .await?
        {
            Some(e) => (
                serde_json::from_slice(
                    &self
                        .keys
                        .decrypt(at("case_elements", "elements", &row), &e.elements_enc)?,
                )
                .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("stored elements: {e}")))?,
                match &e.findings_enc {
                    Some(b) => Some(
                        self.keys
                            .decrypt_string(at("case_elements", "findings", &row), b)?,
                    ),
                    None => None,
                },
            ),
            None => (Elements::default(), None),
        };
        let assessment = rules::assess(&elements, facts.child);
        let mut trafficking = Vec::new();
        for d in trafficking_decision::Entity::find()
            .filter(trafficking_decision::Column::CaseId.eq(c.id))
            .order_by_desc(trafficking_decision::Column::RecordedAt)
            .all(&self.db)
            .await?
        {
            trafficking.push(TraffickingDecisionView {
                basis: self
                    .keys
                    .decrypt_string(at("trafficking_decisions", "basis", &d.id), &d.basis_enc)?,
                status: TraffickingStatus::parse(&d.status)
                    .map_err(|e| anyhow::anyhow!("stored status: {e}"))?,
                deciding_body: DecidingBody::parse(&d.deciding_body).unwrap_or(DecidingBody::Other),
                author: name(d.author_user_id),
                id: d.id,
                decided_on: d.decided_on,
                recorded_at: d.recorded_at,
            });
        }
        let mut smuggling = Vec::new();
        for d in smuggling_decision::Entity::find()
            .filter(smuggling_decision::Column::CaseId.eq(c.id))
            .order_by_desc(smuggling_decision::Column::RecordedAt)
            .all(&self.db)
            .await?
        {
            let status = SmugglingStatus::parse(&d.status)
                .map_err(|e| anyhow::anyhow!("stored status: {e}"))?;
            smuggling.push(SmugglingDecisionView {
                basis: self
                    .keys
                    .decrypt_string(at("smuggling_decisions", "basis", &d.id), &d.basis_enc)?,
                protected_witness: rules::protected_witness(
                    status,
                    d.victim_of_other_crimes,
                    d.witness,
                ),
                status,
                victim_of_other_crimes: d.victim_of_other_crimes,
                witness: d.witness,
                deciding_body: DecidingBody::parse(&d.deciding_body).unwrap_or(DecidingBody::Other),
                author: name(d.author_user_id),
                id: d.id,
                decided_on: d.decided_on,
                recorded_at: d.recorded_at,
            });
        }
        let protected_witness = smuggling.first().is_some_and(|s| s.protected_witness);
        let today = Utc::now().date_naive();
        let deadlines = deadline::Entity::find()
            .filter(deadline::Column::CaseId.eq(c.id))
            .order_by_asc(deadline::Column::DueOn)
            .all(&self.db)
            .await?
            .iter()
            .map(|d| deadline_view(d, &c.reference, today))
            .collect();
        self.audit
            .read(actor, Some(&c.reference), Section::Identification, route)
            .await?;
        Ok(IdentificationView {
            reference: c.reference.clone(),
            version: c.version,
            jurisdiction: j.describe(),
            child: facts.child,
            two_steps: decision_rules.two_steps,
            recovery_period_days,
            interviews,
            elements,
            findings,
            assessment,
            trafficking,
            smuggling,
            protected_witness,
            deadlines,
            deciding_bodies: TraffickingStatus::ALL
                .iter()
                .map(|st| StatusBodies {
                    status: *st,
                    bodies: decision_rules.bodies_for(*st),
                })
                .collect(),
            can_edit: may(actor.role, rel, CaseAction::EditIdentification),
        })
    }
}

async fn close_deadlines<C: ConnectionTrait>(
    txn: &C,
    case_id: i64,
    kind: &str,
    now: chrono::DateTime<Utc>,
) -> Result<()> {
    deadline::Entity::update_many()
        .col_expr(deadline::Column::ClosedAt, Expr::value(Some(now)))
        .filter(deadline::Column::CaseId.eq(case_id))
        .filter(deadline::Column::Kind.eq(kind))
        .filter(deadline::Column::ClosedAt.is_null())
        .exec(txn)
        .await?;
    Ok(())
}
