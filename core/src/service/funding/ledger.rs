//! The movements of a fund's money: allocations, commitments (checked by the
//! eligibility rule, pending above the approval threshold), approvals and refusals,
//! spending against a commitment, releases of the unspent part, corrections. Each is one
//! entry appended by [`Services::append`] under the fund's lock.

use super::*;
use crate::domain::{CaseAction, Paging, Stage, may};
use crate::funding::{
    Ask, CaseFacts, CommitmentPurpose, CommitmentState, CommitmentStatus, CostCategory, PurposeKind,
};
use crate::identification::TraffickingStatus;
use crate::returns::ReturnStage;
use crate::store::entity::{
    case, case_service, placement, return_case, smuggling_decision, trafficking_decision, user,
};

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct AllocationInput {
    /// Integer minor units of the fund's currency (cents for EUR).
    pub amount_minor: i64,
    /// Must be the fund's currency.
    pub currency: String,
    /// Where the money comes from: the court order number (confiscated assets), the
    /// company (a business contribution), the programme agreement (intergovernmental), the
    /// budget line or decision (state budget, permit fees).
    pub origin: String,
    /// YYYY-MM-DD; today when empty.
    #[serde(default)]
    pub on: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct CommitmentInput {
    /// The case it is for.
    pub reference: String,
    /// The cost category (shelter, medical, ..., travel, escort, documents, ...).
    pub category: String,
    /// What it pays: service, placement, return, reintegration_item or other.
    pub purpose: String,
    /// The id of the service, placement or return it pays (not for `other`).
    #[serde(default)]
    pub record_id: Option<String>,
    /// A description (required for `other`).
    #[serde(default)]
    pub description: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    #[serde(default)]
    pub on: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct SpendingInput {
    pub amount_minor: i64,
    pub currency: String,
    /// The invoice (its number, the supplier).
    pub invoice: String,
    #[serde(default)]
    pub on: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ReleaseInput {
    /// What to give back; everything unspent when empty.
    #[serde(default)]
    pub amount_minor: Option<i64>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct RefusalInput {
    pub reason: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct CorrectionInput {
    /// Signed, in minor units: what to add to (or take from) the entry's amount.
    pub delta_minor: i64,
    pub reason: String,
}

/// A commitment, as its entries leave it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CommitmentView {
    /// The commitment's entry id (32 hex).
    pub id: String,
    pub fund_id: String,
    pub fund: String,
    pub reference: String,
    pub category: CostCategory,
    pub purpose: PurposeKind,
    pub record_id: Option<String>,
    pub description: String,
    pub currency: Currency,
    pub amount_minor: i64,
    pub spent_minor: i64,
    pub released_minor: i64,
    pub unspent_minor: i64,
    pub status: CommitmentStatus,
    pub on: NaiveDate,
    pub requested_by: String,
}

/// One ledger entry.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct EntryView {
    pub id: String,
    pub kind: String,
    /// The amount it moves (a correction: its signed delta).
    pub amount_minor: i64,
    pub category: Option<String>,
    /// The case, for a commitment and what acts on it.
    pub reference: Option<String>,
    /// The commitment it acts on (its entry id).
    pub commitment_id: Option<String>,
    /// The entry it corrects.
    pub corrects: Option<String>,
    /// The origin, invoice or reason it states.
    pub detail: Option<String>,
    pub on: NaiveDate,
    pub by: String,
    pub at: chrono::DateTime<Utc>,
}

crate::service::page_of!(
    /// A page of a fund's entries, newest first.
    EntryPage,
    EntryView
);

crate::service::page_of!(
    /// A page of a fund's commitments, newest first.
    CommitmentPage,
    CommitmentView
);

fn parse_purpose(input: &CommitmentInput) -> Result<(CostCategory, CommitmentPurpose), Invalid> {
    let category =
        CostCategory::parse(&input.category).map_err(|e| Invalid::new("category", e.message))?;
    let kind =
        PurposeKind::parse(&input.purpose).map_err(|e| Invalid::new("purpose", e.message))?;
    let description =
        crate::domain::parse_optional_text("description", input.description.as_deref(), 500)?
            .unwrap_or_default();
    let record_id = input
        .record_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    Ok((
        category,
        CommitmentPurpose {
            kind,
            record_id,
            description,
        },
    ))
}

/// The case action a commitment for this purpose needs of the requester.
fn action_for(kind: PurposeKind) -> CaseAction {
    match kind {
        PurposeKind::Placement => CaseAction::EditPlacement,
        PurposeKind::Return => CaseAction::EditReturn,
        PurposeKind::Service | PurposeKind::ReintegrationItem | PurposeKind::Other => {
            CaseAction::EditServices
        }
    }
}

impl Services {
    /// What the eligibility rules need to know of a case (no names: statuses, the child
    /// rule, nationality, the country of return, the stage).
    pub(crate) async fn case_facts<C: ConnectionTrait>(
        &self,
        db: &C,
        c: &case::Model,
    ) -> Result<CaseFacts> {
        let person = self.person_facts(db, c).await?;
        let trafficking = trafficking_decision::Entity::find()
            .filter(trafficking_decision::Column::CaseId.eq(c.id))
            .order_by_desc(trafficking_decision::Column::RecordedAt)
            .first(db)
            .await?
            .and_then(|d| TraffickingStatus::parse(&d.status).ok());
        let protected_witness = smuggling_decision::Entity::find()
            .filter(smuggling_decision::Column::CaseId.eq(c.id))
            .order_by_desc(smuggling_decision::Column::RecordedAt)
            .first(db)
            .await?
            .is_some_and(|d| {
                crate::identification::SmugglingStatus::parse(&d.status).is_ok_and(|s| {
                    crate::identification::protected_witness(s, d.victim_of_other_crimes, d.witness)
                })
            });
        let destination = return_case::Entity::find()
            .filter(return_case::Column::CaseId.eq(c.id))
            .order_by_desc(return_case::Column::CreatedAt)
            .first(db)
            .await?
            .filter(|r| r.stage != ReturnStage::Cancelled.as_str())
            .and_then(|r| crate::domain::CountryCode::parse(&r.destination_country).ok());
        Ok(CaseFacts {
            trafficking,
            protected_witness,
            child: person.child,
            nationality: person
                .nationality
                .as_deref()
                .and_then(|n| crate::domain::CountryCode::parse(n).ok()),
            destination,
            stage: Stage::parse(&c.stage)?,
        })
    }

    /// Does the record a commitment pays belong to the case?
    async fn check_record<C: ConnectionTrait>(
        &self,
        db: &C,
        c: &case::Model,
        purpose: &CommitmentPurpose,
    ) -> Result<()> {
        let Some(id) = purpose.record_id.as_deref() else {
            return Ok(());
        };
        let found = match purpose.kind {
            PurposeKind::Service | PurposeKind::ReintegrationItem => {
                case_service::Entity::find_by_id(id.to_owned())
                    .first(db)
                    .await?
                    .is_some_and(|s| s.case_id == c.id)
            }
            PurposeKind::Placement => placement::Entity::find_by_id(id.to_owned())
                .first(db)
                .await?
                .is_some_and(|p| p.case_id == c.id),
            PurposeKind::Return => return_case::Entity::find_by_id(id.to_owned())
                .first(db)
                .await?
                .is_some_and(|r| r.case_id == c.id && r.stage != ReturnStage::Cancelled.as_str()),
            PurposeKind::Other => true,
        };
        if found {
            Ok(())
        } else {
            Err(Invalid::new(
                "record_id",
                format!("no such {} on this case", purpose.kind),
            )
            .into())
        }
    }

    pub(crate) async fn commitment_view<C: ConnectionTrait>(
        &self,
        db: &C,
        f: &fund::Model,
        entry: &fund_entry::Model,
        state: &CommitmentState,
    ) -> Result<CommitmentView> {
        let reference = case::Entity::find_by_id(state.case_id)
            .first(db)
            .await?
            .map(|c| c.reference)
            .unwrap_or_default();
        let by = user::Entity::find_by_id(entry.created_by)
            .first(db)
            .await?
            .map(|u| u.display_name)
            .unwrap_or_default();
        Ok(CommitmentView {
            id: entry.uid.clone(),
            fund_id: f.id.clone(),
            fund: f.name.clone(),
            reference,
            category: state.category,
            purpose: state.purpose.kind,
            record_id: state.purpose.record_id.clone(),
            description: state.purpose.description.clone(),
            currency: Currency::parse(&f.currency)?,
            amount_minor: state.amount,
            spent_minor: state.spent,
            released_minor: state.released,
            unspent_minor: state.unspent(),
            status: state.status,
            on: entry.entry_on,
            requested_by: by,
        })
    }

    /// Put money into a fund (its fund managers), with where it comes from.
    pub async fn allocate(
        &self,
        actor: &Actor,
        fund_id: &str,
        input: &AllocationInput,
        route: Route<'_>,
    ) -> Result<EntryView> {
        let on = day_or_today("on", input.on.as_deref())?;
        let currency = Currency::parse(&input.currency)?;
        let _queued = self.ledgers.queue(fund_id).await;
        let txn = crate::store::begin_write(&self.db).await?;
        let (f, _) = self
            .fund_for(&txn, actor, fund_id, FundAction::Manage, true)
            .await?;
        let fund = fund_of(&f)?;
        rules::check_currency(&fund, currency)
            .map_err(|r| refused("the allocation is refused", &[r]))?;
        let origin = rules::parse_origin(fund.source, &input.origin)?;
        let m = Movement::Allocation {
            amount: input.amount_minor,
            origin,
        };
        let (entry, ledger) = self.append(&txn, actor.user_id, &f, &m, on).await?;
        super::super::audit::append_in(
            &txn,
            &[Self::funding_entry(actor, None, AuditAction::Create, route)],
        )
        .await?;
        txn.commit().await?;
        self.cache_ledger(&f.id, entry.id, ledger);
        self.entry_view(&self.db, &entry).await
    }

    /// Ask for money for a case, a category and a purpose. Every eligibility rule that
    /// refuses is named; above the fund's threshold the commitment waits for a fund
    /// manager's approval (its money already reserved).
    pub async fn commit(
        &self,
        actor: &Actor,
        fund_id: &str,
        input: &CommitmentInput,
        route: Route<'_>,
    ) -> Result<CommitmentView> {
        let on = day_or_today("on", input.on.as_deref())?;
        let currency = Currency::parse(&input.currency)?;
        let (category, purpose) = parse_purpose(input)?;
        rules::check_purpose(category, &purpose)
            .map_err(|r| refused("the commitment is refused", &[r]))?;
        // The case, as the requester may work on it (audited like every access).
        let (c, _) = self
            .load_for(
                &self.db,
                actor,
                &input.reference,
                action_for(purpose.kind),
                route,
            )
            .await?;
        self.check_record(&self.db, &c, &purpose).await?;
        let facts = self.case_facts(&self.db, &c).await?;
        let ask = Ask {
            category,
            amount: input.amount_minor,
            currency,
            on,
        };
        // The jurisdiction's own rules first, outside the fund's lock (a plugin call).
        let (pre, _) = self
            .fund_for(&self.db, actor, fund_id, FundAction::Request, false)
            .await?;
        if let Some(r) = self
            .jurisdiction_refuses(&pre, &fund_of(&pre)?, &facts, &ask)
            .await?
        {
            return Err(refused(&format!("fund {} cannot pay this", pre.name), &[r]));
        }
        let _queued = self.ledgers.queue(fund_id).await;
        let txn = crate::store::begin_write(&self.db).await?;
        let (f, _) = self
            .fund_for(&txn, actor, fund_id, FundAction::Request, true)
            .await?;
        let fund = fund_of(&f)?;
        let ledger = self.ledger_of(&txn, &f).await?;
        rules::eligibility(&fund, &ledger.standing(c.id), &facts, &ask)
            .map_err(|r| refused(&format!("fund {} cannot pay this", fund.name), &r))?;
        // The cached ledger went back: append brings it up to date again under the lock.
        self.ledgers.put(&f.id, f.last_entry, ledger);
        let status = if rules::needs_approval(input.amount_minor, fund.approval_threshold) {
            CommitmentStatus::PendingApproval
        } else {
            CommitmentStatus::Approved
        };
        let m = Movement::Commitment {
            case_id: c.id,
            category,
            purpose,
            amount: input.amount_minor,
            status,
        };
        let (entry, ledger) = self.append(&txn, actor.user_id, &f, &m, on).await?;
        super::super::audit::append_in(
            &txn,
            &[Self::funding_entry(
                actor,
                Some(&c.reference),
                AuditAction::Create,
                route,
            )],
        )
        .await?;
        txn.commit().await?;
        let state = ledger
            .commitment(entry.id)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("commitment lost"))?;
        self.cache_ledger(&f.id, entry.id, ledger);
        self.commitment_view(&self.db, &f, &entry, &state).await
    }

    /// The commitment entry of a fund by its id, and the case it is for.
    async fn commitment_entry<C: ConnectionTrait>(
        &self,
        db: &C,
        f: &fund::Model,
        uid: &str,
    ) -> Result<fund_entry::Model> {
        fund_entry::Entity::find()
            .filter(fund_entry::Column::Uid.eq(uid.trim()))
            .filter(fund_entry::Column::FundId.eq(f.id.clone()))
            .filter(fund_entry::Column::Kind.eq("commitment"))
            .first(db)
            .await?
            .ok_or(ServiceError::NotFound("commitment"))
    }

    /// Append a movement that acts on a commitment, as `action` allows; answers the
    /// commitment as it now is.
    async fn act_on_commitment(
        &self,
        actor: &Actor,
        (fund_id, commitment_uid): (&str, &str),
        action: FundAction,
        make: impl FnOnce(EntryId, &Ledger, &Fund) -> Result<Movement>,
        on: NaiveDate,
        route: Route<'_>,
    ) -> Result<CommitmentView> {
        let _queued = self.ledgers.queue(fund_id).await;
        let txn = crate::store::begin_write(&self.db).await?;
        let (f, _) = self.fund_for(&txn, actor, fund_id, action, true).await?;
        let target = self.commitment_entry(&txn, &f, commitment_uid).await?;
        let c = case::Entity::find_by_id(target.case_id.unwrap_or_default())
            .first(&txn)
            .await?
            .ok_or(ServiceError::NotFound("case"))?;
        if action != FundAction::Manage {
            // A caseworker acts only on a commitment of a case it may work on.
            let rel = self.relation(&txn, actor, &c).await?;
            if !may(actor.role, rel, CaseAction::EditServices)
                && !may(actor.role, rel, CaseAction::EditReturn)
                && !may(actor.role, rel, CaseAction::EditPlacement)
            {
                return Err(ServiceError::NotFound("commitment"));
            }
        }
        let ledger = self.ledger_of(&txn, &f).await?;
        let m = make(target.id, &ledger, &fund_of(&f)?)?;
        self.ledgers.put(&f.id, f.last_entry, ledger);
        let (entry, ledger) = self.append(&txn, actor.user_id, &f, &m, on).await?;
        super::super::audit::append_in(
            &txn,
            &[Self::funding_entry(
                actor,
                Some(&c.reference),
                AuditAction::Update,
                route,
            )],
        )
        .await?;
        txn.commit().await?;
        let state = ledger
            .commitment(target.id)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("commitment lost"))?;
        self.cache_ledger(&f.id, entry.id, ledger);
        self.commitment_view(&self.db, &f, &target, &state).await
    }

    /// A fund manager approves a commitment waiting for approval.
    pub async fn approve_commitment(
        &self,
        actor: &Actor,
        fund_id: &str,
        commitment: &str,
        route: Route<'_>,
    ) -> Result<CommitmentView> {
        self.act_on_commitment(
            actor,
            (fund_id, commitment),
            FundAction::Manage,
            |id, _, _| Ok(Movement::Approval { commitment: id }),
            Utc::now().date_naive(),
            route,
        )
        .await
    }

    /// A fund manager refuses a commitment waiting for approval: its money goes back.
    pub async fn refuse_commitment(
        &self,
        actor: &Actor,
        fund_id: &str,
        commitment: &str,
        input: &RefusalInput,
        route: Route<'_>,
    ) -> Result<CommitmentView> {
        let reason = crate::domain::parse_optional_text("reason", Some(&input.reason), 2_000)?
            .ok_or_else(|| Invalid::new("reason", "is required: say why it is refused"))?;
        self.act_on_commitment(
            actor,
            (fund_id, commitment),
            FundAction::Manage,
            |id, _, _| {
                Ok(Movement::Refusal {
                    commitment: id,
                    reason,
                })
            },
            Utc::now().date_naive(),
            route,
        )
        .await
    }

    /// Record an invoice paid from an approved commitment (partial spending allowed,
    /// never more than it has unspent).
    pub async fn spend(
        &self,
        actor: &Actor,
        fund_id: &str,
        commitment: &str,
        input: &SpendingInput,
        route: Route<'_>,
    ) -> Result<CommitmentView> {
        let on = day_or_today("on", input.on.as_deref())?;
        let currency = Currency::parse(&input.currency)?;
        let invoice = crate::domain::parse_line("invoice", &input.invoice, 200)?;
        let amount = input.amount_minor;
        self.act_on_commitment(
            actor,
            (fund_id, commitment),
            FundAction::Manage,
            |id, _, fund| {
                rules::check_currency(fund, currency)
                    .map_err(|r| refused("the spending is refused", &[r]))?;
                Ok(Movement::Spending {
                    commitment: id,
                    amount,
                    invoice,
                })
            },
            on,
            route,
        )
        .await
    }

    /// Give back what a commitment has unspent (all of it when no amount is given): its
    /// fund managers, or a caseworker of the case when it is no longer needed.
    pub async fn release(
        &self,
        actor: &Actor,
        fund_id: &str,
        commitment: &str,
        input: &ReleaseInput,
        route: Route<'_>,
    ) -> Result<CommitmentView> {
        let action = self.manage_or_request(actor, fund_id).await?;
        let amount = input.amount_minor;
        self.act_on_commitment(
            actor,
            (fund_id, commitment),
            action,
            |id, ledger, _| match amount {
                Some(a) => Ok(Movement::Release {
                    commitment: id,
                    amount: a,
                }),
                None => ledger
                    .release_rest(id)
                    .map_err(|r| refused("nothing to release", &[r])),
            },
            Utc::now().date_naive(),
            route,
        )
        .await
    }

    async fn manage_or_request(&self, actor: &Actor, fund_id: &str) -> Result<FundAction> {
        let (_, rel) = self
            .fund_for(&self.db, actor, fund_id, FundAction::View, false)
            .await?;
        Ok(if rules::may_fund(actor.role, rel, FundAction::Manage) {
            FundAction::Manage
        } else {
            FundAction::Request
        })
    }

    /// Correct an allocation, a commitment or a spending by a signed amount, with a
    /// reason (entries are never edited).
    pub async fn correct(
        &self,
        actor: &Actor,
        fund_id: &str,
        entry_uid: &str,
        input: &CorrectionInput,
        route: Route<'_>,
    ) -> Result<EntryView> {
        let reason = crate::domain::parse_optional_text("reason", Some(&input.reason), 2_000)?
            .ok_or_else(|| Invalid::new("reason", "is required: say what was wrong"))?;
        let _queued = self.ledgers.queue(fund_id).await;
        let txn = crate::store::begin_write(&self.db).await?;
        let (f, _) = self
            .fund_for(&txn, actor, fund_id, FundAction::Manage, true)
            .await?;
        let target = fund_entry::Entity::find()
            .filter(fund_entry::Column::Uid.eq(entry_uid.trim()))
            .filter(fund_entry::Column::FundId.eq(f.id.clone()))
            .first(&txn)
            .await?
            .ok_or(ServiceError::NotFound("entry"))?;
        let m = Movement::Correction {
            of: target.id,
            delta: input.delta_minor,
            reason,
        };
        let (entry, ledger) = self
            .append(&txn, actor.user_id, &f, &m, Utc::now().date_naive())
            .await?;
        let case_ref = match target.case_id {
            Some(id) => case::Entity::find_by_id(id)
                .first(&txn)
                .await?
                .map(|c| c.reference),
            None => None,
        };
        super::super::audit::append_in(
            &txn,
            &[Self::funding_entry(
                actor,
                case_ref.as_deref(),
                AuditAction::Update,
                route,
            )],
        )
        .await?;
        txn.commit().await?;
        self.cache_ledger(&f.id, entry.id, ledger);
        self.entry_view(&self.db, &entry).await
    }

    pub(crate) async fn entry_view<C: ConnectionTrait>(
        &self,
        db: &C,
        e: &fund_entry::Model,
    ) -> Result<EntryView> {
        let m = self.open_movement(e)?;
        let uid_of = |id: EntryId| async move {
            Ok::<_, ServiceError>(
                fund_entry::Entity::find_by_id(id)
                    .first(db)
                    .await?
                    .map(|x| x.uid),
            )
        };
        let (detail, corrects) = match &m {
            Movement::Allocation { origin, .. } => (Some(origin.reference.clone()), None),
            Movement::Commitment { purpose, .. } => (
                Some(purpose.description.clone()).filter(|d| !d.is_empty()),
                None,
            ),
            Movement::Refusal { reason, .. } => (Some(reason.clone()), None),
            Movement::Spending { invoice, .. } => (Some(invoice.clone()), None),
            Movement::Correction { of, reason, .. } => (Some(reason.clone()), uid_of(*of).await?),
            Movement::Approval { .. } | Movement::Release { .. } => (None, None),
        };
        let reference = match e.case_id {
            Some(id) => case::Entity::find_by_id(id)
                .first(db)
                .await?
                .map(|c| c.reference),
            None => None,
        };
        let commitment_id = match e.commitment_id {
            Some(id) => uid_of(id).await?,
            None => None,
        };
        let by = user::Entity::find_by_id(e.created_by)
            .first(db)
            .await?
            .map(|u| u.display_name)
            .unwrap_or_default();
        Ok(EntryView {
            id: e.uid.clone(),
            kind: e.kind.clone(),
            amount_minor: e.amount,
            category: e.category.clone(),
            reference,
            commitment_id,
            corrects,
            detail,
            on: e.entry_on,
            by,
            at: e.created_at,
        })
    }

    /// One entry of a fund (those who see all of the fund).
    pub async fn fund_entry(
        &self,
        actor: &Actor,
        fund_id: &str,
        entry_uid: &str,
        route: Route<'_>,
    ) -> Result<EntryView> {
        let (f, _) = self
            .fund_for(&self.db, actor, fund_id, FundAction::ViewAll, false)
            .await?;
        let e = fund_entry::Entity::find()
            .filter(fund_entry::Column::Uid.eq(entry_uid.trim()))
            .filter(fund_entry::Column::FundId.eq(f.id.clone()))
            .first(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("entry"))?;
        let v = self.entry_view(&self.db, &e).await?;
        self.audit
            .record(vec![Self::funding_entry(
                actor,
                v.reference.as_deref(),
                AuditAction::Read,
                route,
            )])
            .await?;
        Ok(v)
    }

    /// A fund's entries, newest first (those who see all of the fund).
    pub async fn fund_entries(
        &self,
        actor: &Actor,
        fund_id: &str,
        paging: Paging,
        route: Route<'_>,
    ) -> Result<EntryPage> {
        let (f, _) = self
            .fund_for(&self.db, actor, fund_id, FundAction::ViewAll, false)
            .await?;
        let q = fund_entry::Entity::find().filter(fund_entry::Column::FundId.eq(f.id.clone()));
        let total = sea_orm::PaginatorTrait::count(q.clone(), &self.db).await?;
        let st = crate::store::with_limit(
            sea_orm::QueryTrait::build(
                &q.order_by_desc(fund_entry::Column::Id),
                self.db.get_database_backend(),
            ),
            paging.per_page,
            paging.offset(),
        );
        let rows = <fund_entry::Model as sea_orm::FromQueryResult>::find_by_statement(st)
            .all(&self.db)
            .await?;
        let mut items = Vec::new();
        for e in &rows {
            items.push(self.entry_view(&self.db, e).await?);
        }
        self.audit
            .record(vec![Self::funding_entry(
                actor,
                None,
                AuditAction::Read,
                route,
            )])
            .await?;
        Ok(EntryPage {
            items,
            total,
            page: paging.page,
            per_page: paging.per_page,
            pages: paging.pages(total),
        })
    }

    /// The commitments of a fund the caller may see: all of them for those who see all
    /// of the fund, else only those of the caller's organisation's own cases.
    pub async fn fund_commitments(
        &self,
        actor: &Actor,
        fund_id: &str,
        route: Route<'_>,
    ) -> Result<Vec<CommitmentView>> {
        let (f, rel) = self
            .fund_for(&self.db, actor, fund_id, FundAction::View, false)
            .await?;
        let all = rules::may_fund(actor.role, rel, FundAction::ViewAll);
        let ledger = self.ledger_of(&self.db, &f).await?;
        let entries: HashMap<i64, fund_entry::Model> = fund_entry::Entity::find()
            .filter(fund_entry::Column::FundId.eq(f.id.clone()))
            .filter(fund_entry::Column::Kind.eq("commitment"))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
        let own: std::collections::HashSet<i64> = if all {
            Default::default()
        } else {
            case::Entity::find()
                .filter(case::Column::OwnerOrgId.eq(actor.org_id))
                .filter(
                    case::Column::Id.is_in(
                        ledger
                            .commitments()
                            .map(|(_, c)| c.case_id)
                            .collect::<Vec<_>>(),
                    ),
                )
                .all(&self.db)
                .await?
                .into_iter()
                .map(|c| c.id)
                .collect()
        };
        let mut out = Vec::new();
        let mut refs = Vec::new();
        for (id, state) in ledger.commitments() {
            if !all && !own.contains(&state.case_id) {
                continue;
            }
            if let Some(e) = entries.get(&id) {
                let v = self.commitment_view(&self.db, &f, e, state).await?;
                refs.push(v.reference.clone());
                out.push(v);
            }
        }
        self.ledgers.put(&f.id, f.last_entry, ledger);
        refs.sort();
        refs.dedup();
        let mut audit = vec![Self::funding_entry(actor, None, AuditAction::Read, route)];
        audit.extend(
            refs.iter()
                .map(|r| Self::funding_entry(actor, Some(r), AuditAction::Read, route)),
        );
        self.audit.record(audit).await?;
        out.reverse();
        Ok(out)
    }
}
