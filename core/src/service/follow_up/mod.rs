//! Follow-up after return (issue 12; seed §31, §37, §40): the visits the jurisdiction's
//! schedule plans on arrival, the reintegration assessments and their scores, the
//! reintegration plan, and the alerts, for the organisation the case was handed over to
//! (the follow-up service); and what the alerts say to the destination side (category and
//! severity, while the reintegration consent is in force; details only if that consent
//! says so). The rules are `crate::follow_up`; this module checks access, stores,
//! encrypts and audits.
//!
//! Split by what it works on: `visits` (the schedule, recording and correcting visits),
//! `assessments` (scoring, trend, automatic alerts), `plan` (the reintegration plan),
//! `alerts` (raising, acknowledging and closing; what reaches the destination side; the
//! follow-up officer's home).

mod alerts;
mod assessments;
mod plan;
mod visits;

pub use alerts::{AlertChangeInput, AlertInput, AlertSummary};
pub use assessments::AssessmentInput;
pub use plan::{PlanItemInput, PlanItemUpdate};
pub use visits::{DueVisit, ExtendInput, VisitInput};

use super::audit::NewEntry;
use super::{Actor, Result, Route, ServiceError, Services, page_of};
use crate::domain::{AuditAction, CaseAction, Relation, Section, Stage, may};
use crate::follow_up::{
    self as rules, AlertCategory, AlertStatus, Answers, ReintegrationConfig, Scores, Severity,
    Trend, Visit, VisitMode, VisitStatus,
};
use crate::returns::ReturnStage;
use crate::store::First;
use crate::store::entity::{
    case, consent, follow_up_alert, follow_up_visit, organisation, referral,
    reintegration_assessment, reintegration_plan_item, return_case, user,
};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use std::sync::Arc;

/// One visit of the follow-up.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct VisitView {
    /// 32-character hex id.
    pub id: String,
    pub due_on: NaiveDate,
    /// planned, done, missed or cancelled.
    pub status: String,
    /// When it took place or was missed.
    pub happened_on: Option<NaiveDate>,
    /// in_person, phone or video (done visits).
    pub mode: Option<String>,
    pub visitor: Option<String>,
    /// Why it was missed or cancelled.
    pub reason: Option<String>,
    /// The note of the last correction, if it was corrected.
    pub correction_note: Option<String>,
    /// Planned and past its due date plus the grace days.
    pub overdue: bool,
    /// Added after arrival, not from the jurisdiction's schedule.
    pub added: bool,
}

/// One reintegration assessment, with its scores and the trend against the one before.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AssessmentView {
    pub id: String,
    pub assessed_on: NaiveDate,
    pub assessed_by: String,
    pub scores: Scores,
    /// Against the previous assessment; none for the first.
    pub trend: Option<Trend>,
    /// The answers, by indicator id.
    #[schema(value_type = Object)]
    pub answers: Answers,
    pub note: Option<String>,
}

/// One item of the reintegration plan.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PlanItemView {
    pub id: String,
    /// training, education, work, housing, medical or psychosocial.
    pub kind: String,
    pub provider: String,
    pub description: Option<String>,
    /// planned, in_progress, done or cancelled.
    pub status: String,
    /// The funding commitment that pays for it (a ledger entry id).
    pub commitment_id: Option<String>,
    pub version: i64,
}

/// One alert, in full (the follow-up service's view).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AlertView {
    pub id: String,
    pub category: AlertCategory,
    pub severity: Severity,
    pub status: AlertStatus,
    /// Raised by the system (scores or missed visits).
    pub automatic: bool,
    /// What raised an automatic alert (e.g. `low_score:economic`).
    pub rule: Option<String>,
    pub details: Option<String>,
    /// Who owns it (display name).
    pub owner: Option<String>,
    pub raised_by: Option<String>,
    pub raised_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// What was done, once closed.
    pub action: Option<String>,
}

/// The follow-up of a case after return.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FollowUpView {
    pub reference: String,
    /// The case's version (closing the case needs it).
    pub version: i64,
    pub stage: Stage,
    /// The day the person arrived (the return's reception).
    pub arrived_on: NaiveDate,
    /// The follow-up organisation.
    pub org: String,
    /// The indicator set the next assessment uses: its id and version.
    pub indicator_set: String,
    pub indicator_set_version: String,
    /// Visits in due-date order.
    pub visits: Vec<VisitView>,
    pub overdue_visits: u32,
    /// Missed visits since the last one that took place.
    pub missed_since_contact: u32,
    /// Oldest first.
    pub assessments: Vec<AssessmentView>,
    pub plan: Vec<PlanItemView>,
    /// Open first, most severe first.
    pub alerts: Vec<AlertView>,
    pub closed: bool,
    pub can_edit: bool,
    pub can_close: bool,
}

page_of!(
    /// A page of alerts, most severe first.
    AlertPage,
    AlertSummary
);

page_of!(
    /// A page of visits that need the follow-up officer, soonest first.
    DueVisitPage,
    DueVisit
);

/// The hand-over a follow-up rests on: the return received, its referral to the
/// follow-up organisation, and the consent.
#[derive(Debug, Clone)]
pub(crate) struct Handover {
    pub arrived_on: NaiveDate,
    pub org_id: i64,
    pub consent: consent::Model,
}

impl Services {
    /// The hand-over of a case on arrival (the last return received, with its referral
    /// for reintegration); `None` before arrival.
    pub(crate) async fn handover_of<C: ConnectionTrait>(
        &self,
        db: &C,
        case_id: i64,
    ) -> Result<Option<Handover>> {
        let Some(r) = return_case::Entity::find()
            .filter(return_case::Column::CaseId.eq(case_id))
            .filter(return_case::Column::Stage.eq(ReturnStage::Received.as_str()))
            .order_by_desc(return_case::Column::CreatedAt)
            .first(db)
            .await?
        else {
            return Ok(None);
        };
        let (Some(arrived_on), Some(ref_id)) = (r.received_on, r.handover_referral_id) else {
            return Ok(None);
        };
        let Some(h) = referral::Entity::find_by_id(ref_id).first(db).await? else {
            return Ok(None);
        };
        let consent = consent::Entity::find_by_id(h.consent_id)
            .first(db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("hand-over without consent"))?;
        Ok(Some(Handover {
            arrived_on,
            org_id: h.to_org_id,
            consent,
        }))
    }

    /// The hand-over, or a clear refusal when the person has not arrived yet.
    pub(crate) async fn handover_required<C: ConnectionTrait>(
        &self,
        db: &C,
        case_id: i64,
    ) -> Result<Handover> {
        self.handover_of(db, case_id).await?.ok_or_else(|| {
            ServiceError::Conflict(
                "this case has no follow-up yet: it starts when the return's arrival is recorded with the hand-over".into(),
            )
        })
    }

    /// The reintegration configuration for this case: the jurisdiction's set, else the
    /// follow-up organisation's partner's, else the configured default. A plugin's set
    /// that does not parse fails closed (503), never falls back in silence.
    pub(crate) async fn reintegration_config<C: ConnectionTrait>(
        &self,
        db: &C,
        c: &case::Model,
        follow_up_org: i64,
    ) -> Result<Arc<ReintegrationConfig>> {
        let facts = self.person_facts(db, c).await?;
        let j = self.jurisdiction_of(db, c).await?;
        let f2 = facts.clone();
        let mut text = self
            .call_port(move || j.reintegration_indicators(&f2))
            .await?;
        if text.is_none()
            && let Some(org) = organisation::Entity::find_by_id(follow_up_org)
                .first(db)
                .await?
            && let Some(p) = self.adapters.partner(&org.name)
        {
            text = self
                .call_port(move || p.reintegration_indicators(&facts))
                .await?;
        }
        match text {
            None => self.default_reintegration(),
            Some(t) => rules::parse_config(&t).map(Arc::new).map_err(|e| {
                ServiceError::Port(crate::ports::PortError::new(
                    "contract",
                    format!(
                        "the plugin's reintegration indicator set is not valid ({}: {})",
                        e.field, e.message
                    ),
                ))
            }),
        }
    }

    pub(crate) async fn display_names<C: ConnectionTrait>(
        &self,
        db: &C,
        ids: impl IntoIterator<Item = i64>,
    ) -> Result<HashMap<i64, String>> {
        let ids: Vec<i64> = ids.into_iter().collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect())
    }

    /// The follow-up of a case: visits, assessments with their trend, the plan, alerts.
    /// For the follow-up service (and an origin-country service that owns the case).
    pub async fn follow_up(
        &self,
        actor: &Actor,
        reference: &str,
        route: Route<'_>,
    ) -> Result<FollowUpView> {
        Ok(self.follow_up_with_set(actor, reference, route).await?.0)
    }

    /// The same, with the indicator set the next assessment uses (the page's form needs
    /// it; asking the plugin once serves both).
    pub async fn follow_up_with_set(
        &self,
        actor: &Actor,
        reference: &str,
        route: Route<'_>,
    ) -> Result<(FollowUpView, Arc<ReintegrationConfig>)> {
        let (c, rel) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::FollowUp),
                route,
            )
            .await?;
        let h = self.handover_required(&self.db, c.id).await?;
        let config = self.reintegration_config(&self.db, &c, h.org_id).await?;
        let today = Utc::now().date_naive();
        let visits = self.visit_rows(&self.db, c.id).await?;
        let plain: Vec<Visit> = visits.iter().map(visit_of).collect::<Result<Vec<_>>>()?;
        let mut visit_views = Vec::new();
        for (m, v) in visits.iter().zip(&plain) {
            visit_views.push(self.visit_view(m, v, config.visits.grace_days, today)?);
        }
        let overdue = visit_views.iter().filter(|v| v.overdue).count() as u32;
        let missed = rules::missed_since_last_done(&plain) as u32;
        let assessments = self.assessment_views(&self.db, c.id, &config).await?;
        let plan = self.plan_views(&self.db, c.id).await?;
        let alerts = self.alert_views(&self.db, c.id).await?;
        let org = organisation::Entity::find_by_id(h.org_id)
            .first(&self.db)
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        self.audit
            .read(actor, Some(&c.reference), Section::FollowUp, route)
            .await?;
        let view = FollowUpView {
            reference: c.reference.clone(),
            version: c.version,
            stage: Stage::parse(&c.stage)?,
            arrived_on: h.arrived_on,
            org,
            indicator_set: config.indicators.id.clone(),
            indicator_set_version: config.indicators.version.clone(),
            visits: visit_views,
            overdue_visits: overdue,
            missed_since_contact: missed,
            assessments,
            plan,
            alerts,
            closed: c.closed_at.is_some(),
            can_edit: c.closed_at.is_none() && may(actor.role, rel, CaseAction::EditFollowUp),
            can_close: c.closed_at.is_none() && may(actor.role, rel, CaseAction::Close),
        };
        Ok((view, config))
    }

    /// The indicator set the next assessment of this case uses (for the assessment form).
    pub async fn indicator_set_for(
        &self,
        actor: &Actor,
        reference: &str,
        route: Route<'_>,
    ) -> Result<Arc<ReintegrationConfig>> {
        let (c, _) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::FollowUp),
                route,
            )
            .await?;
        let h = self.handover_required(&self.db, c.id).await?;
        self.reintegration_config(&self.db, &c, h.org_id).await
    }

    /// Is the actor the follow-up service of this case (for pages: whether to show the
    /// follow-up link)? Nothing is read but the relation.
    pub async fn follows_up(&self, actor: &Actor, c: &case::Model) -> Result<bool> {
        let rel = self.relation(&self.db, actor, c).await?;
        Ok(rel != Relation::None
            && may(actor.role, rel, CaseAction::ViewSection(Section::FollowUp)))
    }
}

/// The plain visit of a stored row (states as the rules know them).
pub(crate) fn visit_of(m: &follow_up_visit::Model) -> Result<Visit> {
    // The texts are not needed by the rules that use this (order, missed counts,
    // overdue); they are left empty here and decrypted only for views.
    let status = match m.status.as_str() {
        "planned" => VisitStatus::Planned,
        "done" => VisitStatus::Done {
            on: m.happened_on.unwrap_or(m.due_on),
            mode: VisitMode::parse(m.mode.as_deref().unwrap_or("in_person"))?,
            by: String::new(),
        },
        "missed" => VisitStatus::Missed {
            on: m.happened_on.unwrap_or(m.due_on),
            reason: String::new(),
        },
        "cancelled" => VisitStatus::Cancelled {
            reason: String::new(),
        },
        other => {
            return Err(ServiceError::Unexpected(anyhow::anyhow!(
                "stored visit status {other}"
            )));
        }
    };
    Ok(Visit {
        due_on: m.due_on,
        status,
    })
}
