//! The reintegration plan (seed §40): items of training, education, work, housing,
//! medical and psychosocial support, each with its provider, status and, when a fund pays
//! for it, the funding commitment (a commitment of the case's ledger).

use super::*;
use crate::crypto::random_token;
use crate::domain::{self, Invalid};
use crate::follow_up::{PlanKind, PlanStatus};
use crate::service::audit::commit_audited;
use crate::store::begin_write;
use crate::store::entity::fund_entry;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseTransaction};

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct PlanItemInput {
    /// training, education, work, housing, medical or psychosocial.
    pub kind: String,
    /// Who provides it (encrypted).
    pub provider: String,
    /// What it is (encrypted).
    #[serde(default)]
    pub description: Option<String>,
    /// planned (default), in_progress, done or cancelled.
    #[serde(default)]
    pub status: Option<String>,
    /// The id of a funding commitment of this case that pays for it.
    #[serde(default)]
    pub commitment_id: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct PlanItemUpdate {
    /// The item's version the change is based on; a stale one gets 409.
    pub version: i64,
    /// planned, in_progress, done or cancelled.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// A funding commitment of this case; an empty string removes the link.
    #[serde(default)]
    pub commitment_id: Option<String>,
}

impl Services {
    pub(crate) async fn plan_views<C: ConnectionTrait>(
        &self,
        db: &C,
        case_id: i64,
    ) -> Result<Vec<PlanItemView>> {
        let rows = reintegration_plan_item::Entity::find()
            .filter(reintegration_plan_item::Column::CaseId.eq(case_id))
            .order_by_asc(reintegration_plan_item::Column::CreatedAt)
            .all(db)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(PlanItemView {
                    provider: self
                        .open_opt(
                            "reintegration_plan_items",
                            "provider",
                            &r.id,
                            Some(&r.provider_enc),
                        )?
                        .unwrap_or_default(),
                    description: self.open_opt(
                        "reintegration_plan_items",
                        "description",
                        &r.id,
                        r.description_enc.as_ref(),
                    )?,
                    id: r.id,
                    kind: r.kind,
                    status: r.status,
                    commitment_id: r.commitment_id,
                    version: r.version,
                })
            })
            .collect()
    }

    /// A commitment of this case's ledger, by its id; a clear error otherwise.
    async fn commitment_of_case(
        &self,
        txn: &DatabaseTransaction,
        case_id: i64,
        uid: &str,
    ) -> Result<String> {
        let uid = uid.trim();
        fund_entry::Entity::find()
            .filter(fund_entry::Column::Uid.eq(uid))
            .filter(fund_entry::Column::Kind.eq("commitment"))
            .filter(fund_entry::Column::CaseId.eq(case_id))
            .first(txn)
            .await?
            .map(|e| e.uid)
            .ok_or_else(|| {
                Invalid::new(
                    "commitment_id",
                    "no funding commitment of this case has this id",
                )
                .into()
            })
    }

    /// Add an item to the reintegration plan. Answers its id.
    pub async fn add_plan_item(
        &self,
        actor: &Actor,
        reference: &str,
        input: &PlanItemInput,
        route: Route<'_>,
    ) -> Result<String> {
        let kind = PlanKind::parse(input.kind.trim())?;
        let provider = domain::parse_line("provider", &input.provider, 200)?;
        let description = domain::parse_optional_text(
            "description",
            input.description.as_deref(),
            rules::MAX_TEXT,
        )?;
        let status = match input.status.as_deref().map(str::trim) {
            None | Some("") => PlanStatus::Planned,
            Some(s) => PlanStatus::parse(s)?,
        };
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::EditFollowUp, route)
            .await?;
        let h = self.handover_required(&txn, c.id).await?;
        let commitment = match input.commitment_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(u) => Some(self.commitment_of_case(&txn, c.id, u).await?),
        };
        let id = random_token(16)?;
        reintegration_plan_item::ActiveModel {
            id: Set(id.clone()),
            case_id: Set(c.id),
            org_id: Set(h.org_id),
            kind: Set(kind.as_str().into()),
            provider_enc: Set(self.seal_field(
                c.owner_org_id,
                "reintegration_plan_items",
                "provider",
                &id,
                &provider,
            )?),
            description_enc: Set(self.seal_opt(
                c.owner_org_id,
                "reintegration_plan_items",
                "description",
                &id,
                description.as_deref(),
            )?),
            status: Set(status.as_str().into()),
            commitment_id: Set(commitment),
            version: Set(1),
            created_by: Set(actor.user_id),
            created_at: Set(Utc::now()),
            updated_by: Set(None),
            updated_at: Set(None),
        }
        .insert(&txn)
        .await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::FollowUp,
                AuditAction::Create,
                route,
            ),
        )
        .await?;
        Ok(id)
    }

    /// Change an item of the plan: its status, provider, description or commitment.
    pub async fn update_plan_item(
        &self,
        actor: &Actor,
        reference: &str,
        item_id: &str,
        input: &PlanItemUpdate,
        route: Route<'_>,
    ) -> Result<()> {
        let status = match input.status.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(PlanStatus::parse(s)?),
        };
        let provider = match input.provider.as_deref() {
            None => None,
            Some(p) => Some(domain::parse_line("provider", p, 200)?),
        };
        let description = domain::parse_optional_text(
            "description",
            input.description.as_deref(),
            rules::MAX_TEXT,
        )?;
        let txn = begin_write(&self.db).await?;
        let (c, _) = self
            .load_for(&txn, actor, reference, CaseAction::EditFollowUp, route)
            .await?;
        let m = reintegration_plan_item::Entity::find_by_id(item_id.to_owned())
            .first(&txn)
            .await?
            .filter(|m| m.case_id == c.id)
            .ok_or(ServiceError::NotFound("plan_item"))?;
        if m.version != input.version {
            return Err(ServiceError::Conflict(
                "this item was changed by someone else meanwhile; reload it and try again".into(),
            ));
        }
        let mut am: reintegration_plan_item::ActiveModel = m.clone().into();
        let mut changed = false;
        if let Some(s) = status
            && s.as_str() != m.status
        {
            am.status = Set(s.as_str().into());
            changed = true;
        }
        if let Some(p) = provider {
            am.provider_enc = Set(self.seal_field(
                c.owner_org_id,
                "reintegration_plan_items",
                "provider",
                &m.id,
                &p,
            )?);
            changed = true;
        }
        if let Some(d) = description {
            am.description_enc = Set(Some(self.seal_field(
                c.owner_org_id,
                "reintegration_plan_items",
                "description",
                &m.id,
                &d,
            )?));
            changed = true;
        }
        match input.commitment_id.as_deref().map(str::trim) {
            None => {}
            Some("") => {
                am.commitment_id = Set(None);
                changed = true;
            }
            Some(u) => {
                am.commitment_id = Set(Some(self.commitment_of_case(&txn, c.id, u).await?));
                changed = true;
            }
        }
        if !changed {
            return Err(Invalid::new("status", "nothing to change").into());
        }
        am.version = Set(m.version + 1);
        am.updated_by = Set(Some(actor.user_id));
        am.updated_at = Set(Some(Utc::now()));
        let done = reintegration_plan_item::Entity::update_many()
            .set(am)
            .filter(reintegration_plan_item::Column::Id.eq(m.id.clone()))
            .filter(reintegration_plan_item::Column::Version.eq(m.version))
            .exec(&txn)
            .await?;
        if done.rows_affected != 1 {
            return Err(ServiceError::Conflict(
                "this item was changed by someone else meanwhile; reload it and try again".into(),
            ));
        }
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::FollowUp,
                AuditAction::Update,
                route,
            ),
        )
        .await
    }
}
