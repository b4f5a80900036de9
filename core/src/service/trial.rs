//! Protection at trial: proceedings, hearings, protective measures, the planned
//! departure, and the conflicts between them (the rule is `crate::trial::conflicts`).
//! The catalogue of measures comes from the jurisdiction of the owning organisation.
//! Court, case number, contacts, notes and reasons are encrypted; dates and
//! vocabulary values are not (they carry no name and the calendar needs them).

use super::audit::{NewEntry, commit_audited};
use super::{Actor, Result, Route, ServiceError, Services, at};
use crate::crypto::random_token;
use crate::domain::{self, AuditAction, CaseAction, Invalid, Section, may};
use crate::identification::DecidingBody;
use crate::ports::Measure;
use crate::store::First;
use crate::store::begin_write;
use crate::store::entity::{case, hearing, measure_request, planned_departure, proceeding, user};
use crate::trial::{
    self as rules, CatalogueEntry, Charge, Conflict, HearingFacts, HearingKind, MeasureDecision,
    MeasureFacts, MeasureStatus, PersonRole, ProceedingFacts, TestimonyMode,
};
use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};
use std::collections::{BTreeMap, HashMap};

/// A date of the legal track: YYYY-MM-DD, between 1990 and ten years ahead.
fn parse_day(field: &'static str, s: &str) -> Result<NaiveDate, Invalid> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Invalid::new(field, "must be a date written YYYY-MM-DD"))?;
    let today = Utc::now().date_naive();
    if d.year() < 1990 || d.year() > today.year() + 10 {
        return Err(Invalid::new(
            field,
            "must be between 1990 and ten years from now",
        ));
    }
    Ok(d)
}

fn today_or(field: &'static str, s: Option<&str>) -> Result<NaiveDate, Invalid> {
    match s.map(str::trim) {
        None | Some("") => Ok(Utc::now().date_naive()),
        Some(s) => parse_day(field, s),
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ProceedingInput {
    pub court: String,
    /// The judicial district or state, e.g. "Paris" or "FR".
    pub jurisdiction: String,
    pub case_number: String,
    /// trafficking, smuggling, related_offence (a list, or one comma-separated string).
    #[serde(default)]
    pub charges: Vec<String>,
    /// victim_witness, witness or civil_party.
    pub person_role: String,
    #[serde(default)]
    pub prosecutor: Option<String>,
    #[serde(default)]
    pub investigator: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct CooperationInput {
    /// Whether the prosecution needs the person's cooperation (§36).
    pub required: bool,
    /// Who decided (e.g. "Public prosecutor, Paris").
    pub decided_by: String,
    /// YYYY-MM-DD; today when empty.
    #[serde(default)]
    pub decided_on: Option<String>,
    /// The person's advocate attended (or will attend) the first interview with investigators.
    #[serde(default)]
    pub advocate_at_first_interview: bool,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct HearingInput {
    /// pre_trial_interview, deposition, trial_session or judgment.
    pub kind: String,
    /// YYYY-MM-DD.
    pub held_on: String,
    #[serde(default)]
    pub testimony_required: bool,
    #[serde(default)]
    pub presence_required: bool,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct MeasureRequestInput {
    /// A measure id of the jurisdiction's catalogue.
    pub measure: String,
    /// A hearing of the proceeding; the whole proceeding when absent.
    #[serde(default)]
    pub hearing_id: Option<String>,
    /// YYYY-MM-DD; today when empty.
    #[serde(default)]
    pub requested_on: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct MeasureDecisionInput {
    /// grant, refuse or withdraw.
    pub decision: String,
    /// YYYY-MM-DD; today when empty. Not before the request.
    #[serde(default)]
    pub decided_on: Option<String>,
    /// Required when refusing.
    #[serde(default)]
    pub reason: Option<String>,
    /// Who decided, for a grant or a refusal: a deciding body the jurisdiction's
    /// catalogue names for this measure (court, prosecution, ...). The one who requested
    /// the measure records the authority's decision; they cannot grant it themselves.
    #[serde(default)]
    pub authority: Option<String>,
    /// The decision's reference (an order or decision number), for a grant or a refusal.
    #[serde(default)]
    pub decision_reference: Option<String>,
}

/// Why a hearing is cancelled or a proceeding closed: kept with the record (encrypted).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ReasonInput {
    /// Required; at most 2,000 characters. (A missing one is a 422 naming `reason`.)
    #[serde(default)]
    #[schema(required = true)]
    pub reason: String,
}

/// A required reason: the record keeps why it ended.
fn reason(s: &str) -> Result<String, Invalid> {
    domain::parse_optional_text("reason", Some(s), 2_000)?
        .ok_or_else(|| Invalid::new("reason", "is required: say why"))
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct DepartureInput {
    /// YYYY-MM-DD; empty to clear the planned departure.
    #[serde(default)]
    pub departure_on: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MeasureView {
    pub id: String,
    pub measure: String,
    pub label: String,
    pub proceeding_id: String,
    /// None: every hearing of the proceeding.
    pub hearing_id: Option<String>,
    pub status: MeasureStatus,
    pub replaces_presence: bool,
    pub requested_on: NaiveDate,
    pub requested_by: String,
    pub decided_on: Option<NaiveDate>,
    /// The deciding body (court, prosecution, ...).
    pub authority: Option<DecidingBody>,
    /// The decision's reference, e.g. an order number.
    pub decision_reference: Option<String>,
    /// Who recorded the decision.
    pub recorded_by: Option<String>,
    /// Who may decide on this measure, from the jurisdiction's catalogue.
    pub decided_by: Vec<DecidingBody>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct HearingView {
    pub id: String,
    pub proceeding_id: String,
    pub kind: HearingKind,
    pub held_on: NaiveDate,
    pub testimony_required: bool,
    pub presence_required: bool,
    pub notes: Option<String>,
    pub cancelled: bool,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    pub past: bool,
    pub testimony_mode: TestimonyMode,
    /// Measures granted for this hearing (or its whole proceeding).
    pub measures: Vec<String>,
    /// A conflict with the planned departure.
    pub conflict: bool,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ProceedingView {
    pub id: String,
    pub open: bool,
    pub court: String,
    pub jurisdiction: String,
    pub case_number: String,
    pub charges: Vec<Charge>,
    pub person_role: PersonRole,
    pub prosecutor: Option<String>,
    pub investigator: Option<String>,
    pub cooperation_required: Option<bool>,
    pub cooperation_decided_by: Option<String>,
    pub cooperation_decided_on: Option<NaiveDate>,
    pub advocate_at_first_interview: bool,
    /// Why it was closed.
    pub close_reason: Option<String>,
    /// In date order.
    pub hearings: Vec<HearingView>,
    pub measures: Vec<MeasureView>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DepartureView {
    pub departure_on: NaiveDate,
    pub note: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ProceedingsView {
    pub reference: String,
    pub jurisdiction: String,
    /// The measures this jurisdiction allows.
    pub catalogue: Vec<Measure>,
    pub departure: Option<DepartureView>,
    pub proceedings: Vec<ProceedingView>,
    pub conflicts: Vec<Conflict>,
    pub can_edit: bool,
}

/// What the rules need of one case's legal track.
struct Track {
    proceedings: Vec<proceeding::Model>,
    hearings: Vec<hearing::Model>,
    measures: Vec<measure_request::Model>,
    departure: Option<planned_departure::Model>,
}

impl Track {
    fn proceeding_facts(&self) -> Vec<ProceedingFacts> {
        self.proceedings
            .iter()
            .map(|p| ProceedingFacts {
                id: p.id.clone(),
                open: p.status == "open",
            })
            .collect()
    }
    fn hearing_facts(&self) -> Vec<HearingFacts> {
        self.hearings.iter().map(hearing_facts).collect()
    }
    fn measure_facts(&self) -> Vec<MeasureFacts> {
        self.measures.iter().map(measure_facts).collect()
    }
    fn conflicts(&self, catalogue: &[Measure], today: NaiveDate) -> Vec<Conflict> {
        let catalogue: Vec<CatalogueEntry> = catalogue
            .iter()
            .map(|m| CatalogueEntry {
                id: m.id.clone(),
                replaces_presence: m.replaces_presence,
            })
            .collect();
        rules::conflicts(
            self.departure.as_ref().map(|d| d.departure_on),
            today,
            &self.proceeding_facts(),
            &self.hearing_facts(),
            &self.measure_facts(),
            &catalogue,
        )
    }
}

fn hearing_facts(h: &hearing::Model) -> HearingFacts {
    HearingFacts {
        id: h.id.clone(),
        proceeding_id: h.proceeding_id.clone(),
        on: h.held_on,
        kind: HearingKind::parse(&h.kind).unwrap_or(HearingKind::TrialSession),
        testimony_required: h.testimony_required,
        presence_required: h.presence_required,
        cancelled: h.cancelled_at.is_some(),
    }
}

fn measure_facts(m: &measure_request::Model) -> MeasureFacts {
    MeasureFacts {
        id: m.id.clone(),
        measure_id: m.measure_id.clone(),
        proceeding_id: m.proceeding_id.clone(),
        hearing_id: m.hearing_id.clone(),
        status: MeasureStatus::parse(&m.status).unwrap_or(MeasureStatus::Requested),
        replaces_presence: m.replaces_presence,
    }
}

fn label_in(m: &Measure, lang: &str) -> String {
    m.label
        .get(lang)
        .or_else(|| m.label.get("en"))
        .cloned()
        .unwrap_or_else(|| m.id.clone())
}

impl Services {
    async fn track<C: ConnectionTrait>(&self, db: &C, case_id: i64) -> Result<Track> {
        Ok(Track {
            proceedings: proceeding::Entity::find()
                .filter(proceeding::Column::CaseId.eq(case_id))
                .order_by_asc(proceeding::Column::CreatedAt)
                .all(db)
                .await?,
            hearings: hearing::Entity::find()
                .filter(hearing::Column::CaseId.eq(case_id))
                .order_by_asc(hearing::Column::HeldOn)
                .order_by_asc(hearing::Column::CreatedAt)
                .all(db)
                .await?,
            measures: measure_request::Entity::find()
                .filter(measure_request::Column::CaseId.eq(case_id))
                .order_by_asc(measure_request::Column::CreatedAt)
                .all(db)
                .await?,
            departure: planned_departure::Entity::find_by_id(case_id)
                .first(db)
                .await?,
        })
    }

    async fn catalogue_of<C: ConnectionTrait>(
        &self,
        db: &C,
        c: &case::Model,
    ) -> Result<(String, Vec<Measure>)> {
        let j = self.jurisdiction_of(db, c).await?;
        let describe = j.describe();
        let measures = self.call_port(move || j.protective_measures()).await?;
        Ok((describe, measures))
    }

    /// The legal track of a case, with the conflicts against the planned departure.
    pub async fn proceedings(
        &self,
        actor: &Actor,
        reference: &str,
        lang: &str,
        route: Route<'_>,
    ) -> Result<ProceedingsView> {
        let (c, rel) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Proceedings),
                route,
            )
            .await?;
        let (jurisdiction, catalogue) = self.catalogue_of(&self.db, &c).await?;
        let track = self.track(&self.db, c.id).await?;
        let today = Utc::now().date_naive();
        let conflicts = track.conflicts(&catalogue, today);
        let user_ids: Vec<i64> = track.measures.iter().map(|m| m.requested_by).collect();
        let names: HashMap<i64, String> = if user_ids.is_empty() {
            HashMap::new()
        } else {
            user::Entity::find()
                .filter(user::Column::Id.is_in(user_ids))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|u| (u.id, u.display_name))
                .collect()
        };
        let labels: BTreeMap<&str, String> = catalogue
            .iter()
            .map(|m| (m.id.as_str(), label_in(m, lang)))
            .collect();
        let measure_facts = track.measure_facts();
        let mut proceedings = Vec::new();
        for p in &track.proceedings {
            let mut hearings = Vec::new();
            for h in track.hearings.iter().filter(|h| h.proceeding_id == p.id) {
                let facts = hearing_facts(h);
                let (testimony_mode, measures) = rules::testimony_mode(&facts, &measure_facts);
                hearings.push(HearingView {
                    id: h.id.clone(),
                    proceeding_id: p.id.clone(),
                    kind: facts.kind,
                    held_on: h.held_on,
                    testimony_required: h.testimony_required,
                    presence_required: h.presence_required,
                    notes: self.open_opt("hearings", "notes", &h.id, h.notes_enc.as_ref())?,
                    cancelled: facts.cancelled,
                    cancel_reason: self.open_opt(
                        "hearings",
                        "cancel_reason",
                        &h.id,
                        h.cancel_reason_enc.as_ref(),
                    )?,
                    past: h.held_on < today,
                    testimony_mode,
                    measures,
                    conflict: conflicts.iter().any(|c| c.hearing_id == h.id),
                });
            }
            let mut measures = Vec::new();
            for m in track.measures.iter().filter(|m| m.proceeding_id == p.id) {
                measures.push(MeasureView {
                    id: m.id.clone(),
                    label: labels
                        .get(m.measure_id.as_str())
                        .cloned()
                        .unwrap_or_else(|| m.measure_id.clone()),
                    measure: m.measure_id.clone(),
                    proceeding_id: p.id.clone(),
                    hearing_id: m.hearing_id.clone(),
                    status: MeasureStatus::parse(&m.status)?,
                    replaces_presence: m.replaces_presence,
                    requested_on: m.requested_on,
                    requested_by: names.get(&m.requested_by).cloned().unwrap_or_default(),
                    decided_on: m.decided_on,
                    authority: m
                        .authority
                        .as_deref()
                        .map(DecidingBody::parse)
                        .transpose()?,
                    decision_reference: self.open_opt(
                        "measure_requests",
                        "decision_ref",
                        &m.id,
                        m.decision_ref_enc.as_ref(),
                    )?,
                    recorded_by: m.decided_by.and_then(|u| names.get(&u).cloned()),
                    decided_by: catalogue
                        .iter()
                        .find(|x| x.id == m.measure_id)
                        .map(|x| x.deciders().to_vec())
                        .unwrap_or_else(|| Measure::DEFAULT_DECIDERS.to_vec()),
                    reason: self.open_opt(
                        "measure_requests",
                        "reason",
                        &m.id,
                        m.reason_enc.as_ref(),
                    )?,
                });
            }
            proceedings.push(ProceedingView {
                id: p.id.clone(),
                open: p.status == "open",
                court: self
                    .keys
                    .decrypt_string(at("proceedings", "court", &p.id), &p.court_enc)?,
                jurisdiction: self.keys.decrypt_string(
                    at("proceedings", "jurisdiction", &p.id),
                    &p.jurisdiction_enc,
                )?,
                case_number: self
                    .keys
                    .decrypt_string(at("proceedings", "case_number", &p.id), &p.case_number_enc)?,
                charges: rules::parse_charges(std::slice::from_ref(&p.charges))?,
                person_role: PersonRole::parse(&p.person_role)?,
                prosecutor: self.open_opt(
                    "proceedings",
                    "prosecutor",
                    &p.id,
                    p.prosecutor_enc.as_ref(),
                )?,
                investigator: self.open_opt(
                    "proceedings",
                    "investigator",
                    &p.id,
                    p.investigator_enc.as_ref(),
                )?,
                cooperation_required: p.cooperation_required,
                cooperation_decided_by: self.open_opt(
                    "proceedings",
                    "cooperation_decided_by",
                    &p.id,
                    p.cooperation_decided_by_enc.as_ref(),
                )?,
                cooperation_decided_on: p.cooperation_decided_on,
                advocate_at_first_interview: p.advocate_at_first_interview,
                close_reason: self.open_opt(
                    "proceedings",
                    "close_reason",
                    &p.id,
                    p.close_reason_enc.as_ref(),
                )?,
                hearings,
                measures,
            });
        }
        let departure = match &track.departure {
            Some(d) => Some(DepartureView {
                departure_on: d.departure_on,
                note: self.open_opt(
                    "planned_departures",
                    "note",
                    &d.case_id.to_string(),
                    d.note_enc.as_ref(),
                )?,
            }),
            None => None,
        };
        self.audit
            .read(actor, Some(&c.reference), Section::Proceedings, route)
            .await?;
        Ok(ProceedingsView {
            reference: c.reference.clone(),
            jurisdiction,
            catalogue,
            departure,
            proceedings,
            conflicts,
            can_edit: may(actor.role, rel, CaseAction::EditProceedings),
        })
    }

    /// The conflicts of one case, for its case page: None when the caller may not see
    /// the proceedings or the case has none (then nothing is read and nothing audited).
    pub async fn case_conflicts(
        &self,
        actor: &Actor,
        reference: &str,
        route: Route<'_>,
    ) -> Result<Option<Vec<Conflict>>> {
        let (c, rel) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Summary),
                route,
            )
            .await?;
        if !may(
            actor.role,
            rel,
            CaseAction::ViewSection(Section::Proceedings),
        ) {
            return Ok(None);
        }
        let track = self.track(&self.db, c.id).await?;
        if track.proceedings.is_empty() {
            return Ok(None);
        }
        let (_, catalogue) = self.catalogue_of(&self.db, &c).await?;
        let conflicts = track.conflicts(&catalogue, Utc::now().date_naive());
        self.audit
            .read(actor, Some(&c.reference), Section::Proceedings, route)
            .await?;
        Ok(Some(conflicts))
    }

    /// The conflicts of several cases (the caller's deadlines), by case id. The caller
    /// has already checked that these cases' deadlines are visible.
    pub(crate) async fn conflicts_of_cases(
        &self,
        cases: &[&case::Model],
    ) -> Result<Vec<(i64, Conflict)>> {
        let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let with_departure: Vec<i64> = planned_departure::Entity::find()
            .filter(planned_departure::Column::CaseId.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|d| d.case_id)
            .collect();
        let today = Utc::now().date_naive();
        let mut out = Vec::new();
        for c in cases.iter().filter(|c| with_departure.contains(&c.id)) {
            let track = self.track(&self.db, c.id).await?;
            if track.hearings.is_empty() {
                continue;
            }
            let (_, catalogue) = self.catalogue_of(&self.db, c).await?;
            out.extend(
                track
                    .conflicts(&catalogue, today)
                    .into_iter()
                    .map(|x| (c.id, x)),
            );
        }
        Ok(out)
    }

    /// Link the case to criminal proceedings.
    pub async fn add_proceeding(
        &self,
        actor: &Actor,
        reference: &str,
        input: &ProceedingInput,
        route: Route<'_>,
    ) -> Result<String> {
        let court = domain::parse_line("court", &input.court, 300)?;
        let jurisdiction = domain::parse_line("jurisdiction", &input.jurisdiction, 200)?;
        let case_number = domain::parse_line("case_number", &input.case_number, 100)?;
        let charges = rules::parse_charges(&input.charges)?;
        let role = PersonRole::parse(&input.person_role)?;
        let prosecutor =
            domain::parse_optional_text("prosecutor", input.prosecutor.as_deref(), 500)?;
        let investigator =
            domain::parse_optional_text("investigator", input.investigator.as_deref(), 500)?;
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::EditProceedings, route)
            .await?;
        let id = random_token(16)?;
        let now = Utc::now();
        proceeding::ActiveModel {
            id: Set(id.clone()),
            case_id: Set(c.id),
            status: Set("open".into()),
            court_enc: Set(self.keys.encrypt_str_for(
                Some(c.owner_org_id),
                at("proceedings", "court", &id),
                &court,
            )?),
            jurisdiction_enc: Set(self.keys.encrypt_str_for(
                Some(c.owner_org_id),
                at("proceedings", "jurisdiction", &id),
                &jurisdiction,
            )?),
            case_number_enc: Set(self.keys.encrypt_str_for(
                Some(c.owner_org_id),
                at("proceedings", "case_number", &id),
                &case_number,
            )?),
            charges: Set(charges
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(",")),
            person_role: Set(role.as_str().into()),
            prosecutor_enc: Set(self.seal_opt(
                c.owner_org_id,
                "proceedings",
                "prosecutor",
                &id,
                prosecutor.as_deref(),
            )?),
            investigator_enc: Set(self.seal_opt(
                c.owner_org_id,
                "proceedings",
                "investigator",
                &id,
                investigator.as_deref(),
            )?),
            cooperation_required: Set(None),
            cooperation_decided_by_enc: Set(None),
            cooperation_decided_on: Set(None),
            advocate_at_first_interview: Set(false),
            created_by: Set(actor.user_id),
            created_at: Set(now),
            closed_at: Set(None),
            closed_by: Set(None),
            close_reason_enc: Set(None),
        }
        .insert(&txn)
        .await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Proceedings,
                AuditAction::Create,
                route,
            ),
        )
        .await?;
        Ok(id)
    }

    /// Load a proceeding of this case for an edit; a closed one refuses new entries.
    async fn proceeding_for_edit<C: ConnectionTrait>(
        &self,
        db: &C,
        actor: &Actor,
        reference: &str,
        proceeding_id: &str,
        route: Route<'_>,
    ) -> Result<(case::Model, proceeding::Model)> {
        let (c, _) = self
            .load_for(db, actor, reference, CaseAction::EditProceedings, route)
            .await?;
        let p = proceeding::Entity::find_by_id(proceeding_id.to_owned())
            .first(db)
            .await?
            .filter(|p| p.case_id == c.id)
            .ok_or(ServiceError::NotFound("proceeding"))?;
        if p.status != "open" {
            return Err(ServiceError::Conflict(
                "this proceeding is closed: nothing can be added to it or changed".into(),
            ));
        }
        Ok((c, p))
    }

    /// Record whether the prosecution needs the person's cooperation, and who decided.
    pub async fn record_cooperation(
        &self,
        actor: &Actor,
        reference: &str,
        proceeding_id: &str,
        input: &CooperationInput,
        route: Route<'_>,
    ) -> Result<()> {
        let decided_by = domain::parse_line("decided_by", &input.decided_by, 300)?;
        let decided_on = today_or("decided_on", input.decided_on.as_deref())?;
        if decided_on > Utc::now().date_naive() {
            return Err(Invalid::new("decided_on", "cannot be in the future").into());
        }
        let txn = begin_write(&self.db).await?;
        let (c, p) = self
            .proceeding_for_edit(&txn, actor, reference, proceeding_id, route)
            .await?;
        let id = p.id.clone();
        let mut am = p.into_active_model();
        am.cooperation_required = Set(Some(input.required));
        am.cooperation_decided_by_enc = Set(Some(self.keys.encrypt_str_for(
            Some(c.owner_org_id),
            at("proceedings", "cooperation_decided_by", &id),
            &decided_by,
        )?));
        am.cooperation_decided_on = Set(Some(decided_on));
        am.advocate_at_first_interview = Set(input.advocate_at_first_interview);
        am.update(&txn).await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Proceedings,
                AuditAction::Update,
                route,
            ),
        )
        .await
    }

    /// Close a proceeding (judgment final, or discontinued), saying why: its hearings no
    /// longer raise conflicts, and nothing more can be recorded in it.
    pub async fn close_proceeding(
        &self,
        actor: &Actor,
        reference: &str,
        proceeding_id: &str,
        input: &ReasonInput,
        route: Route<'_>,
    ) -> Result<()> {
        let why = reason(&input.reason)?;
        let txn = begin_write(&self.db).await?;
        let (c, p) = self
            .proceeding_for_edit(&txn, actor, reference, proceeding_id, route)
            .await?;
        let id = p.id.clone();
        let mut am = p.into_active_model();
        am.status = Set("closed".into());
        am.closed_at = Set(Some(Utc::now()));
        am.closed_by = Set(Some(actor.user_id));
        am.close_reason_enc = Set(Some(self.seal_field(
            c.owner_org_id,
            "proceedings",
            "close_reason",
            &id,
            &why,
        )?));
        am.update(&txn).await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Proceedings,
                AuditAction::End,
                route,
            ),
        )
        .await
    }

    /// Add a hearing to an open proceeding.
    pub async fn add_hearing(
        &self,
        actor: &Actor,
        reference: &str,
        proceeding_id: &str,
        input: &HearingInput,
        route: Route<'_>,
    ) -> Result<String> {
        let kind = HearingKind::parse(&input.kind)?;
        let held_on = parse_day("held_on", &input.held_on)?;
        let notes = domain::parse_optional_text("notes", input.notes.as_deref(), 5_000)?;
        let txn = begin_write(&self.db).await?;
        let (c, p) = self
            .proceeding_for_edit(&txn, actor, reference, proceeding_id, route)
            .await?;
        let id = random_token(16)?;
        hearing::ActiveModel {
            id: Set(id.clone()),
            proceeding_id: Set(p.id),
            case_id: Set(c.id),
            kind: Set(kind.as_str().into()),
            held_on: Set(held_on),
            testimony_required: Set(input.testimony_required),
            presence_required: Set(input.presence_required),
            notes_enc: Set(self.seal_opt(
                c.owner_org_id,
                "hearings",
                "notes",
                &id,
                notes.as_deref(),
            )?),
            cancelled_at: Set(None),
            cancel_reason_enc: Set(None),
            cancelled_by: Set(None),
            created_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Proceedings,
                AuditAction::Create,
                route,
            ),
        )
        .await?;
        Ok(id)
    }

    /// Cancel a hearing (adjourned or called off), saying why: it no longer raises a
    /// conflict.
    pub async fn cancel_hearing(
        &self,
        actor: &Actor,
        reference: &str,
        hearing_id: &str,
        input: &ReasonInput,
        route: Route<'_>,
    ) -> Result<()> {
        let why = reason(&input.reason)?;
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::EditProceedings, route)
            .await?;
        let h = hearing::Entity::find_by_id(hearing_id.to_owned())
            .first(&txn)
            .await?
            .filter(|h| h.case_id == c.id)
            .ok_or(ServiceError::NotFound("hearing"))?;
        self.proceeding_for_edit(&txn, actor, reference, &h.proceeding_id, route)
            .await?;
        if h.cancelled_at.is_some() {
            return Err(ServiceError::Conflict(
                "this hearing is already cancelled".into(),
            ));
        }
        let id = h.id.clone();
        let mut am = h.into_active_model();
        am.cancelled_at = Set(Some(Utc::now()));
        am.cancelled_by = Set(Some(actor.user_id));
        am.cancel_reason_enc = Set(Some(self.seal_field(
            c.owner_org_id,
            "hearings",
            "cancel_reason",
            &id,
            &why,
        )?));
        am.update(&txn).await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Proceedings,
                AuditAction::Update,
                route,
            ),
        )
        .await
    }

    /// Request a protective measure for a proceeding or one of its hearings. The
    /// measure must be in the jurisdiction's catalogue.
    pub async fn request_measure(
        &self,
        actor: &Actor,
        reference: &str,
        proceeding_id: &str,
        input: &MeasureRequestInput,
        route: Route<'_>,
    ) -> Result<String> {
        let measure_id = domain::parse_line("measure", &input.measure, 64)?;
        let requested_on = today_or("requested_on", input.requested_on.as_deref())?;
        if requested_on > Utc::now().date_naive() {
            return Err(Invalid::new("requested_on", "cannot be in the future").into());
        }
        let hearing_id = input
            .hearing_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        // The catalogue first (a plugin call), outside the write transaction.
        let (c0, _) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::EditProceedings,
                route,
            )
            .await?;
        let (_, catalogue) = self.catalogue_of(&self.db, &c0).await?;
        let Some(entry) = catalogue.iter().find(|m| m.id == measure_id) else {
            return Err(ServiceError::Refused(format!(
                "this measure is not available in this jurisdiction; it allows: {}",
                catalogue
                    .iter()
                    .map(|m| m.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let txn = begin_write(&self.db).await?;
        let (c, p) = self
            .proceeding_for_edit(&txn, actor, reference, proceeding_id, route)
            .await?;
        if let Some(hid) = &hearing_id {
            let h = hearing::Entity::find_by_id(hid.clone())
                .first(&txn)
                .await?
                .filter(|h| h.proceeding_id == p.id)
                .ok_or_else(|| Invalid::new("hearing_id", "no such hearing in this proceeding"))?;
            if h.cancelled_at.is_some() {
                return Err(Invalid::new("hearing_id", "this hearing was cancelled").into());
            }
        }
        let live = measure_request::Entity::find()
            .filter(measure_request::Column::ProceedingId.eq(p.id.clone()))
            .filter(measure_request::Column::MeasureId.eq(measure_id.clone()))
            .filter(measure_request::Column::Status.is_in(["requested", "granted"]))
            .all(&txn)
            .await?;
        if live.iter().any(|m| m.hearing_id == hearing_id) {
            return Err(ServiceError::Conflict(
                "this measure is already requested or granted for this hearing".into(),
            ));
        }
        let id = random_token(16)?;
        let now = Utc::now();
        measure_request::ActiveModel {
            id: Set(id.clone()),
            case_id: Set(c.id),
            proceeding_id: Set(p.id),
            hearing_id: Set(hearing_id),
            measure_id: Set(measure_id),
            replaces_presence: Set(entry.replaces_presence),
            status: Set(MeasureStatus::Requested.as_str().into()),
            requested_on: Set(requested_on),
            requested_by: Set(actor.user_id),
            decided_on: Set(None),
            decided_by: Set(None),
            reason_enc: Set(None),
            authority: Set(None),
            decision_ref_enc: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Proceedings,
                AuditAction::Create,
                route,
            ),
        )
        .await?;
        Ok(id)
    }

    /// Record the court's decision on a measure request (grant or refuse), or its
    /// withdrawal. Only a pending request can be decided; a decision is never dated
    /// before its request; a refusal says why.
    pub async fn decide_measure(
        &self,
        actor: &Actor,
        reference: &str,
        request_id: &str,
        input: &MeasureDecisionInput,
        route: Route<'_>,
    ) -> Result<MeasureStatus> {
        let decision = MeasureDecision::parse(&input.decision)?;
        let decided_on = today_or("decided_on", input.decided_on.as_deref())?;
        if decided_on > Utc::now().date_naive() {
            return Err(Invalid::new("decided_on", "cannot be in the future").into());
        }
        let reason = domain::parse_optional_text("reason", input.reason.as_deref(), 5_000)?;
        if decision == MeasureDecision::Refuse && reason.is_none() {
            return Err(
                Invalid::new("reason", "is required: say why the measure was refused").into(),
            );
        }
        let decided = decision != MeasureDecision::Withdraw;
        let authority = match input.authority.as_deref().map(str::trim) {
            None | Some("") if decided => {
                return Err(Invalid::new(
                    "authority",
                    "is required: name the body that decided (court, prosecution, ...)",
                )
                .into());
            }
            None | Some("") => None,
            Some(a) => {
                Some(DecidingBody::parse(a).map_err(|e| Invalid::new("authority", e.message))?)
            }
        };
        let decision_ref = domain::parse_optional_text(
            "decision_reference",
            input.decision_reference.as_deref(),
            200,
        )?;
        if decided && decision_ref.is_none() {
            return Err(Invalid::new(
                "decision_reference",
                "is required: give the reference of the decision (an order or decision number)",
            )
            .into());
        }
        // Who may decide comes from the catalogue (a plugin call), outside the transaction.
        let (c0, _) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::EditProceedings,
                route,
            )
            .await?;
        let (_, catalogue) = self.catalogue_of(&self.db, &c0).await?;
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::EditProceedings, route)
            .await?;
        let m = measure_request::Entity::find_by_id(request_id.to_owned())
            .first(&txn)
            .await?
            .filter(|m| m.case_id == c.id)
            .ok_or(ServiceError::NotFound("measure_request"))?;
        self.proceeding_for_edit(&txn, actor, reference, &m.proceeding_id, route)
            .await?;
        if let Some(a) = authority {
            let deciders = catalogue
                .iter()
                .find(|x| x.id == m.measure_id)
                .map(|x| x.deciders().to_vec())
                .unwrap_or_else(|| Measure::DEFAULT_DECIDERS.to_vec());
            if !deciders.contains(&a) {
                return Err(ServiceError::Refused(format!(
                    "in this jurisdiction this measure is decided by: {}",
                    deciders
                        .iter()
                        .map(|b| b.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let current = MeasureStatus::parse(&m.status)?;
        let next = match rules::decide(current, decision, m.requested_on, decided_on) {
            Ok(s) => s,
            Err(e @ rules::DecisionRefused::BeforeRequest { .. }) => {
                return Err(Invalid::new("decided_on", e.to_string()).into());
            }
            Err(e) => return Err(ServiceError::Conflict(e.to_string())),
        };
        let id = m.id.clone();
        let mut am = m.into_active_model();
        am.status = Set(next.as_str().into());
        am.decided_on = Set(Some(decided_on));
        am.decided_by = Set(Some(actor.user_id));
        am.reason_enc = Set(self.seal_opt(
            c.owner_org_id,
            "measure_requests",
            "reason",
            &id,
            reason.as_deref(),
        )?);
        if decided {
            am.authority = Set(authority.map(|a| a.as_str().to_owned()));
            am.decision_ref_enc = Set(self.seal_opt(
                c.owner_org_id,
                "measure_requests",
                "decision_ref",
                &id,
                decision_ref.as_deref(),
            )?);
        }
        am.updated_at = Set(Utc::now());
        am.update(&txn).await?;
        if decided {
            self.tell_case_advocate(
                &txn,
                &c,
                actor,
                crate::notify::NotificationKind::MeasureDecided,
                "proceedings",
            )
            .await?;
        }
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Proceedings,
                AuditAction::Update,
                route,
            ),
        )
        .await?;
        Ok(next)
    }

    /// Set or clear the person's planned departure (until the return stage plans it).
    pub async fn set_planned_departure(
        &self,
        actor: &Actor,
        reference: &str,
        input: &DepartureInput,
        route: Route<'_>,
    ) -> Result<()> {
        let departure = match input.departure_on.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(parse_day("departure_on", s)?),
        };
        let note = domain::parse_optional_text("note", input.note.as_deref(), 2_000)?;
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::EditProceedings, route)
            .await?;
        let row = c.id.to_string();
        let existing = planned_departure::Entity::find_by_id(c.id)
            .first(&txn)
            .await?;
        let action = match (departure, existing) {
            (None, None) => {
                return Err(
                    Invalid::new("departure_on", "no departure is planned; give a date").into(),
                );
            }
            (None, Some(_)) => {
                planned_departure::Entity::delete_by_id(c.id)
                    .exec(&txn)
                    .await?;
                AuditAction::End
            }
            (Some(d), existing) => {
                let am = planned_departure::ActiveModel {
                    case_id: Set(c.id),
                    departure_on: Set(d),
                    note_enc: Set(self.seal_opt(
                        c.owner_org_id,
                        "planned_departures",
                        "note",
                        &row,
                        note.as_deref(),
                    )?),
                    recorded_by: Set(actor.user_id),
                    recorded_at: Set(Utc::now()),
                };
                if existing.is_some() {
                    am.update(&txn).await?;
                    AuditAction::Update
                } else {
                    am.insert(&txn).await?;
                    AuditAction::Create
                }
            }
        };
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Proceedings,
                action,
                route,
            ),
        )
        .await
    }
}
