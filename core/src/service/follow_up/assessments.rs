//! Reintegration assessments: scored on the three dimensions and a composite with the
//! indicator set in force for the case (`crate::follow_up::score`), stored with their
//! scores (answers and note encrypted, like testimony), compared with the previous one,
//! and raising the automatic alerts (a low score, a sharp drop).

use super::*;
use crate::crypto::random_token;
use crate::domain::{self, CaseEvent, Invalid};
use crate::service::audit::append_in;
use crate::store::begin_write;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct AssessmentInput {
    /// YYYY-MM-DD; today when empty. Not before the arrival, not in the future.
    #[serde(default)]
    pub assessed_on: Option<String>,
    /// Indicator id → answer: `{"kind": "choice", "option": "..."}`,
    /// `{"kind": "number", "value": 3}` or `{"kind": "no_answer"}`. Indicators left out
    /// are unanswered (a partial assessment is scored over what was answered).
    #[schema(value_type = Object)]
    #[serde(default)]
    pub answers: Answers,
    /// A note (encrypted).
    #[serde(default)]
    pub note: Option<String>,
}

impl Services {
    pub(crate) async fn assessment_views<C: ConnectionTrait>(
        &self,
        db: &C,
        case_id: i64,
        config: &ReintegrationConfig,
    ) -> Result<Vec<AssessmentView>> {
        let rows = reintegration_assessment::Entity::find()
            .filter(reintegration_assessment::Column::CaseId.eq(case_id))
            .order_by_asc(reintegration_assessment::Column::AssessedOn)
            .order_by_asc(reintegration_assessment::Column::CreatedAt)
            .all(db)
            .await?;
        let names = self
            .display_names(db, rows.iter().map(|r| r.assessed_by))
            .await?;
        let mut out: Vec<AssessmentView> = Vec::new();
        for r in rows {
            let scores: Scores = serde_json::from_str(&r.scores_json)
                .map_err(|e| anyhow::anyhow!("stored scores: {e}"))?;
            let answers_json = self
                .open_opt(
                    "reintegration_assessments",
                    "answers",
                    &r.id,
                    Some(&r.answers_enc),
                )?
                .unwrap_or_default();
            let answers: Answers = serde_json::from_str(&answers_json)
                .map_err(|e| anyhow::anyhow!("stored answers: {e}"))?;
            let trend = out
                .last()
                .map(|p| rules::trend(&p.scores, &scores, config.trend_epsilon));
            out.push(AssessmentView {
                id: r.id.clone(),
                assessed_on: r.assessed_on,
                assessed_by: names.get(&r.assessed_by).cloned().unwrap_or_default(),
                scores,
                trend,
                answers,
                note: self.open_opt(
                    "reintegration_assessments",
                    "note",
                    &r.id,
                    r.note_enc.as_ref(),
                )?,
            });
        }
        Ok(out)
    }

    /// Record an assessment: scored, stored with its scores, compared with the previous
    /// one; the automatic alerts it raises are raised in the same transaction. Answers the
    /// assessment with its trend.
    pub async fn add_assessment(
        &self,
        actor: &Actor,
        reference: &str,
        input: &AssessmentInput,
        route: Route<'_>,
    ) -> Result<AssessmentView> {
        let note = domain::parse_optional_text("note", input.note.as_deref(), rules::MAX_TEXT)?;
        let today = Utc::now().date_naive();
        let on = match input.assessed_on.as_deref().map(str::trim) {
            None | Some("") => today,
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| Invalid::new("assessed_on", "must be a date written YYYY-MM-DD"))?,
        };
        let (c, _) = self
            .load_for(&self.db, actor, reference, CaseAction::EditFollowUp, route)
            .await?;
        let h = self.handover_required(&self.db, c.id).await?;
        if on < h.arrived_on {
            return Err(Invalid::new(
                "assessed_on",
                format!("{on} is before the person's arrival on {}", h.arrived_on),
            )
            .into());
        }
        if on > today {
            return Err(Invalid::new("assessed_on", "cannot be in the future").into());
        }
        let config = self.reintegration_config(&self.db, &c, h.org_id).await?;
        let scores = rules::score(&config.indicators, &input.answers)?;
        if scores.answered == 0 {
            return Err(Invalid::new(
                "answers",
                "answer at least one question: an assessment without answers has no score",
            )
            .into());
        }
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::EditFollowUp, route)
            .await?;
        let previous: Option<Scores> = reintegration_assessment::Entity::find()
            .filter(reintegration_assessment::Column::CaseId.eq(c.id))
            .filter(reintegration_assessment::Column::AssessedOn.lte(on))
            .order_by_desc(reintegration_assessment::Column::AssessedOn)
            .order_by_desc(reintegration_assessment::Column::CreatedAt)
            .first(&txn)
            .await?
            .map(|p| serde_json::from_str(&p.scores_json))
            .transpose()
            .map_err(|e| anyhow::anyhow!("stored scores: {e}"))?;
        let id = random_token(16)?;
        let answers_json =
            serde_json::to_string(&input.answers).map_err(|e| anyhow::anyhow!("answers: {e}"))?;
        let scores_json =
            serde_json::to_string(&scores).map_err(|e| anyhow::anyhow!("scores: {e}"))?;
        reintegration_assessment::ActiveModel {
            id: Set(id.clone()),
            case_id: Set(c.id),
            org_id: Set(h.org_id),
            assessed_on: Set(on),
            assessed_by: Set(actor.user_id),
            set_id: Set(scores.set_id.clone()),
            set_version: Set(scores.set_version.clone()),
            answers_enc: Set(self.seal_field(
                c.owner_org_id,
                "reintegration_assessments",
                "answers",
                &id,
                &answers_json,
            )?),
            note_enc: Set(self.seal_opt(
                c.owner_org_id,
                "reintegration_assessments",
                "note",
                &id,
                note.as_deref(),
            )?),
            economic: Set(scores.economic.score),
            social: Set(scores.social.score),
            psychosocial: Set(scores.psychosocial.score),
            composite: Set(scores.composite),
            scores_json: Set(scores_json),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        self.advance_stage(&txn, c.id, CaseEvent::FollowUpStarted)
            .await?;
        let mut entries = vec![NewEntry::by(
            actor,
            Some(&c.reference),
            Section::FollowUp,
            AuditAction::Create,
            route,
        )];
        for a in rules::automatic_alerts(previous.as_ref(), &scores, &config.alerts) {
            let rule = format!(
                "{}:{}",
                a.category,
                a.dimension
                    .map_or("composite".to_owned(), |d| d.to_string())
            );
            if self
                .raise_automatic(&txn, &c, h.org_id, actor, &a, &rule)
                .await?
            {
                entries.push(NewEntry::by(
                    actor,
                    Some(&c.reference),
                    Section::FollowUp,
                    AuditAction::Create,
                    route,
                ));
            }
        }
        append_in(&txn, &entries).await?;
        txn.commit().await?;
        let views = self.assessment_views(&self.db, c.id, &config).await?;
        views
            .into_iter()
            .find(|v| v.id == id)
            .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("assessment vanished")))
    }
}
