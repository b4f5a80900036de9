//! What a return is expected to cost, beside what is committed for it and spent (issue
//! 11, point 3). An estimate is a row that is never edited: a new estimate of the same
//! category replaces the old one on the page and keeps it in the history.

use super::*;
use crate::domain::{CaseAction, may};
use crate::funding::{CommitmentStatus, CostCategory, PurposeKind, parse_amount};
use crate::store::entity::{return_case, return_estimate, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, QueryOrder};

/// The categories a return is paid under (seed §31: travel, accompaniment, documents).
pub const RETURN_CATEGORIES: [CostCategory; 3] = [
    CostCategory::Travel,
    CostCategory::Escort,
    CostCategory::Documents,
];

const NOTE_MAX: usize = 500;

/// A new estimate for one category of a return's costs.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct EstimateInput {
    /// `travel`, `escort` or `documents`.
    pub category: String,
    /// In minor units of `currency` (cents for EUR); or give `amount` as typed.
    #[serde(default)]
    pub amount_minor: Option<i64>,
    /// The amount as a person types it (`450`, `450,50`), read in `currency`.
    #[serde(default)]
    pub amount: Option<String>,
    /// ISO 4217.
    pub currency: String,
    /// Who quoted it, what it covers (encrypted).
    #[serde(default)]
    pub note: Option<String>,
}

/// One estimate, current or replaced.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct EstimateView {
    pub id: String,
    pub category: CostCategory,
    pub amount_minor: i64,
    pub currency: Currency,
    pub note: Option<String>,
    pub by: String,
    pub at: chrono::DateTime<Utc>,
    /// The newest estimate of its category (the others are its history).
    pub current: bool,
}

/// One category of a return's costs in one currency: estimated, committed (approved and
/// pending, not released), of which pending approval, and spent.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReturnCostLine {
    pub category: CostCategory,
    pub currency: Currency,
    pub estimated_minor: Option<i64>,
    pub committed_minor: i64,
    pub pending_minor: i64,
    pub spent_minor: i64,
}

/// A return's costs.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReturnCosts {
    pub reference: String,
    pub return_id: String,
    pub lines: Vec<ReturnCostLine>,
    /// Every estimate, newest first.
    pub estimates: Vec<EstimateView>,
    /// False when the caller may see the return but not the case's money: the committed
    /// and spent columns are then zero and say nothing.
    pub commitments_shown: bool,
    pub can_estimate: bool,
}

impl Services {
    async fn current_return<C: ConnectionTrait>(
        &self,
        db: &C,
        case_id: i64,
    ) -> Result<return_case::Model> {
        return_case::Entity::find()
            .filter(return_case::Column::CaseId.eq(case_id))
            .order_by_desc(return_case::Column::CreatedAt)
            .first(db)
            .await?
            .ok_or(ServiceError::NotFound("return"))
    }

    /// Record what one category of the return is expected to cost.
    pub async fn estimate_return_cost(
        &self,
        actor: &Actor,
        reference: &str,
        input: &EstimateInput,
        route: Route<'_>,
    ) -> Result<EstimateView> {
        let category = CostCategory::parse(&input.category)
            .map_err(|e| Invalid::new("category", e.message))?;
        if !RETURN_CATEGORIES.contains(&category) {
            return Err(Invalid::new(
                "category",
                "a return is estimated under travel, escort or documents",
            )
            .into());
        }
        let currency = Currency::parse(&input.currency)?;
        let amount = match (&input.amount, input.amount_minor) {
            (Some(text), _) if !text.trim().is_empty() => parse_amount("amount", text, currency)?,
            (_, Some(n)) if n > 0 => n,
            (_, Some(_)) => {
                return Err(Invalid::new("amount_minor", "must be more than zero").into());
            }
            _ => return Err(Invalid::new("amount", "is required").into()),
        };
        let note = input
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > NOTE_MAX) {
            return Err(Invalid::new("note", "must be at most 500 characters").into());
        }
        let txn = crate::store::begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::EditReturn, route)
            .await?;
        let r = self.current_return(&txn, c.id).await?;
        if r.stage == "cancelled" || r.stage == "received" {
            return Err(ServiceError::Conflict(format!(
                "this return is {}: its costs are no longer estimated",
                r.stage
            )));
        }
        let id = random_token(16)?;
        let row = return_estimate::ActiveModel {
            id: Set(id.clone()),
            return_id: Set(r.id.clone()),
            category: Set(category.as_str().into()),
            amount: Set(amount),
            currency: Set(currency.code().into()),
            note_enc: Set(self.seal_opt(c.owner_org_id, "return_estimates", "note", &id, note)?),
            created_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
        super::super::audit::append_in(
            &txn,
            &[NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Return,
                AuditAction::Create,
                route,
            )],
        )
        .await?;
        txn.commit().await?;
        Ok(EstimateView {
            id: row.id,
            category,
            amount_minor: amount,
            currency,
            note: note.map(str::to_owned),
            by: actor.display_name.clone(),
            at: row.created_at,
            current: true,
        })
    }

    /// A return's costs: the estimates, and what is committed for the return and spent
    /// (when the caller may see the case's money).
    pub async fn return_costs(
        &self,
        actor: &Actor,
        reference: &str,
        route: Route<'_>,
    ) -> Result<ReturnCosts> {
        let (c, rel) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Return),
                route,
            )
            .await?;
        let r = self.current_return(&self.db, c.id).await?;
        let rows = return_estimate::Entity::find()
            .filter(return_estimate::Column::ReturnId.eq(r.id.clone()))
            .order_by_desc(return_estimate::Column::CreatedAt)
            .order_by_desc(return_estimate::Column::Id)
            .all(&self.db)
            .await?;
        let mut estimates = Vec::new();
        let mut lines: Vec<ReturnCostLine> = Vec::new();
        let mut seen = Vec::new();
        for e in rows {
            let category = CostCategory::parse(&e.category)
                .map_err(|_| anyhow::anyhow!("return estimate with an unknown category"))?;
            let currency = Currency::parse(&e.currency)?;
            let current = !seen.contains(&category);
            if current {
                seen.push(category);
                line(&mut lines, category, currency).estimated_minor = Some(e.amount);
            }
            let by = user::Entity::find_by_id(e.created_by)
                .first(&self.db)
                .await?
                .map(|u| u.display_name)
                .unwrap_or_default();
            estimates.push(EstimateView {
                note: self.open_opt("return_estimates", "note", &e.id, e.note_enc.as_ref())?,
                id: e.id,
                category,
                amount_minor: e.amount,
                currency,
                by,
                at: e.created_at,
                current,
            });
        }
        let commitments_shown = may(actor.role, rel, CaseAction::ViewSection(Section::Funding));
        self.audit
            .record(vec![NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Return,
                AuditAction::Read,
                route,
            )])
            .await?;
        if commitments_shown {
            let money = self.case_funding(actor, reference, route).await?;
            for m in money.commitments.iter().filter(|m| {
                m.purpose == PurposeKind::Return && m.record_id.as_deref() == Some(r.id.as_str())
            }) {
                let l = line(&mut lines, m.category, m.currency);
                if m.status != CommitmentStatus::Refused {
                    l.committed_minor += m.amount_minor - m.released_minor;
                    l.spent_minor += m.spent_minor;
                }
                if m.status == CommitmentStatus::PendingApproval {
                    l.pending_minor += m.unspent_minor;
                }
            }
        }
        lines.sort_by_key(|l| {
            (
                RETURN_CATEGORIES
                    .iter()
                    .position(|c| *c == l.category)
                    .unwrap_or(RETURN_CATEGORIES.len()),
                l.currency.code(),
            )
        });
        Ok(ReturnCosts {
            reference: c.reference,
            return_id: r.id,
            lines,
            estimates,
            commitments_shown,
            can_estimate: may(actor.role, rel, CaseAction::EditReturn)
                && c.stage != "closed"
                && r.stage != "cancelled"
                && r.stage != "received",
        })
    }
}

impl Services {
    /// One estimate of the case's current return (current or replaced).
    pub async fn return_estimate(
        &self,
        actor: &Actor,
        reference: &str,
        id: &str,
        route: Route<'_>,
    ) -> Result<EstimateView> {
        self.return_costs(actor, reference, route)
            .await?
            .estimates
            .into_iter()
            .find(|e| e.id == id.trim())
            .ok_or(ServiceError::NotFound("estimate"))
    }
}

fn line(
    lines: &mut Vec<ReturnCostLine>,
    category: CostCategory,
    currency: Currency,
) -> &mut ReturnCostLine {
    let i = match lines
        .iter()
        .position(|l| l.category == category && l.currency == currency)
    {
        Some(i) => i,
        None => {
            lines.push(ReturnCostLine {
                category,
                currency,
                estimated_minor: None,
                committed_minor: 0,
                pending_minor: 0,
                spent_minor: 0,
            });
            lines.len() - 1
        }
    };
    &mut lines[i]
}
