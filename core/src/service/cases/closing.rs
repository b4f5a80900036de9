//! Closing a case with an outcome (HTCDS case status and a reason), after follow-up or
//! earlier ("not identified"). A closed case is read-only and leaves the caseloads; it
//! stays readable by its reference for those who may see it.

use super::*;
use crate::closing::{self as rules, ClosingReason, ClosingStatus};
use crate::returns::ReturnStage;

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct CloseInput {
    /// The case version the decision is based on; a stale one gets 409.
    pub version: i64,
    /// reintegrated, lost_contact, referred_elsewhere, persons_wish, death or not_identified.
    pub reason: String,
    /// closed or closed_referred (HTCDS); the reason's usual status when empty.
    #[serde(default)]
    pub status: Option<String>,
    /// A note (encrypted): where the person was referred, what was agreed.
    #[serde(default)]
    pub note: Option<String>,
}

impl Services {
    /// Close the case. Refused while a return is under way (cancel it, or record the
    /// arrival), and when the reason does not fit the stage (`crate::closing`).
    pub async fn close_case(
        &self,
        actor: &Actor,
        reference: &str,
        input: &CloseInput,
        route: Route<'_>,
    ) -> Result<CaseSummary> {
        let reason = ClosingReason::parse(&input.reason)?;
        let status = match input.status.as_deref().map(str::trim) {
            None | Some("") => reason.default_status(),
            Some(s) => ClosingStatus::parse(s)?,
        };
        let note = domain::parse_optional_text("note", input.note.as_deref(), 5_000)?;
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::Close, route)
            .await?;
        let stage = stored_stage(&c.stage)?;
        rules::check_closing(stage, reason, status).map_err(|r| {
            ServiceError::RulesRefused(crate::service::RulesRefused::new(
                "close_case",
                "the case cannot be closed",
                vec![r],
            ))
        })?;
        if let Some(r) = return_case::Entity::find()
            .filter(return_case::Column::CaseId.eq(c.id))
            .order_by_desc(return_case::Column::CreatedAt)
            .first(&txn)
            .await?
        {
            let rs = ReturnStage::parse(&r.stage)?;
            if rs.is_open() {
                return Err(ServiceError::Conflict(format!(
                    "this case has a return under way ({rs}): cancel it, or record the arrival, before closing the case"
                )));
            }
        }
        self.bump_version(&txn, &c, input.version).await?;
        let now = Utc::now();
        case::Entity::update_many()
            .col_expr(case::Column::ClosedAt, Expr::value(Some(now)))
            .col_expr(case::Column::ClosedBy, Expr::value(Some(actor.user_id)))
            .col_expr(
                case::Column::CloseStatus,
                Expr::value(Some(status.as_str())),
            )
            .col_expr(
                case::Column::CloseReason,
                Expr::value(Some(reason.as_str())),
            )
            .col_expr(
                case::Column::CloseNoteEnc,
                Expr::value(self.seal_opt(
                    c.owner_org_id,
                    "cases",
                    "close_note",
                    &c.reference,
                    note.as_deref(),
                )?),
            )
            .filter(case::Column::Id.eq(c.id))
            .exec(&txn)
            .await?;
        self.advance_stage(&txn, c.id, CaseEvent::Closed).await?;
        let closed = case::Entity::find_by_id(c.id)
            .first(&txn)
            .await?
            .ok_or(ServiceError::NotFound("case"))?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Summary,
                AuditAction::Update,
                route,
            ),
        )
        .await?;
        self.summaries(&self.db, actor, vec![closed])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("closed case vanished")))
    }
}
