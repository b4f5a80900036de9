//! Funding seen from a case: which funds may pay for it (and why the others may not),
//! its commitments, and the return's: a cancelled return releases them in the same
//! transaction.

use super::*;
use crate::domain::CaseAction;
use crate::funding::{CommitmentStatus, CostCategory, PurposeKind};

/// A fund a case could be paid from, for a category: what it has left for this case,
/// and why it is not offered (empty: it is).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OfferView {
    pub fund_id: String,
    pub fund: String,
    pub currency: Currency,
    pub left_minor: i64,
    pub eligible: bool,
    pub refusals: Vec<FundRefusal>,
}

crate::service::page_of!(
    /// The funds a case could be paid from, for a category.
    OfferPage,
    OfferView
);

/// A case's money: its commitments the caller may see, and what they add up to.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CaseFunding {
    pub reference: String,
    pub commitments: Vec<CommitmentView>,
    /// Per currency: committed (approved and pending, the estimate) and spent.
    pub totals: Vec<CaseTotal>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CaseTotal {
    pub currency: Currency,
    pub committed_minor: i64,
    pub pending_minor: i64,
    pub spent_minor: i64,
}

impl Services {
    /// The funds the caller's organisation may ask money from (held or opened to it).
    async fn requestable_funds<C: ConnectionTrait>(
        &self,
        db: &C,
        actor: &Actor,
    ) -> Result<Vec<fund::Model>> {
        let opened: Vec<String> = fund_opening::Entity::find()
            .filter(fund_opening::Column::OrgId.eq(actor.org_id))
            .all(db)
            .await?
            .into_iter()
            .map(|o| o.fund_id)
            .collect();
        let mut rows = fund::Entity::find()
            .filter(fund::Column::HolderOrgId.eq(actor.org_id))
            .all(db)
            .await?;
        if !opened.is_empty() {
            rows.extend(
                fund::Entity::find()
                    .filter(fund::Column::Id.is_in(opened))
                    .all(db)
                    .await?,
            );
        }
        rows.retain(|f| {
            let rel = FundRelation::of(actor.org_id, f.holder_org_id, true);
            rules::may_fund(actor.role, rel, FundAction::Request)
        });
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rows)
    }

    /// For a case and a category: every fund the caller could ask, with what it has left
    /// for this case and, when it is not offered, why.
    pub async fn funding_offers(
        &self,
        actor: &Actor,
        reference: &str,
        category: &str,
        route: Route<'_>,
    ) -> Result<Vec<OfferView>> {
        let category =
            CostCategory::parse(category).map_err(|e| Invalid::new("category", e.message))?;
        let (c, _) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Funding),
                route,
            )
            .await?;
        let facts = self.case_facts(&self.db, &c).await?;
        let today = Utc::now().date_naive();
        let mut out = Vec::new();
        for f in self.requestable_funds(&self.db, actor).await? {
            let fund = fund_of(&f)?;
            let ledger = self.ledger_of(&self.db, &f).await?;
            let standing = ledger.standing(c.id);
            self.ledgers.put(&f.id, f.last_entry, ledger);
            let mut offer = rules::offers([(&fund, &standing)], &facts, category, today)
                .into_iter()
                .next()
                .ok_or_else(|| anyhow::anyhow!("no offer"))?;
            // Offered by the core's rules: does the jurisdiction's own rule agree?
            if offer.eligible() {
                let ask = crate::funding::Ask {
                    category,
                    amount: offer.left.max(1),
                    currency: offer.currency,
                    on: today,
                };
                if let Some(r) = self.jurisdiction_refuses(&f, &fund, &facts, &ask).await? {
                    offer.refusals.push(r);
                }
            }
            out.push(OfferView {
                fund_id: f.id.clone(),
                fund: offer.fund.clone(),
                currency: offer.currency,
                left_minor: offer.left,
                eligible: offer.eligible(),
                refusals: offer.refusals,
            });
        }
        self.audit
            .record(vec![Self::funding_entry(
                actor,
                Some(&c.reference),
                AuditAction::Read,
                route,
            )])
            .await?;
        Ok(out)
    }

    /// A case's commitments: all of them for the case's own organisation, else those of
    /// the funds the caller's organisation holds.
    pub async fn case_funding(
        &self,
        actor: &Actor,
        reference: &str,
        route: Route<'_>,
    ) -> Result<CaseFunding> {
        let (c, rel) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Funding),
                route,
            )
            .await?;
        let owner = rel == crate::domain::Relation::Owner;
        let funds: Vec<String> = fund_entry::Entity::find()
            .filter(fund_entry::Column::CaseId.eq(c.id))
            .filter(fund_entry::Column::Kind.eq("commitment"))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| e.fund_id)
            .collect();
        let mut fund_ids = funds;
        fund_ids.sort();
        fund_ids.dedup();
        let mut commitments = Vec::new();
        let mut totals: Vec<CaseTotal> = Vec::new();
        for id in fund_ids {
            let Some(f) = fund::Entity::find_by_id(id).first(&self.db).await? else {
                continue;
            };
            if !owner && f.holder_org_id != actor.org_id {
                continue;
            }
            let ledger = self.ledger_of(&self.db, &f).await?;
            let entries: HashMap<i64, fund_entry::Model> = fund_entry::Entity::find()
                .filter(fund_entry::Column::FundId.eq(f.id.clone()))
                .filter(fund_entry::Column::CaseId.eq(c.id))
                .filter(fund_entry::Column::Kind.eq("commitment"))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|e| (e.id, e))
                .collect();
            let currency = Currency::parse(&f.currency)?;
            for (eid, state) in ledger.commitments().filter(|(_, s)| s.case_id == c.id) {
                let Some(e) = entries.get(&eid) else { continue };
                let v = self.commitment_view(&self.db, &f, e, state).await?;
                let t = match totals.iter_mut().find(|t| t.currency == currency) {
                    Some(t) => t,
                    None => {
                        totals.push(CaseTotal {
                            currency,
                            committed_minor: 0,
                            pending_minor: 0,
                            spent_minor: 0,
                        });
                        totals.last_mut().ok_or_else(|| anyhow::anyhow!("totals"))?
                    }
                };
                if state.status != CommitmentStatus::Refused {
                    t.committed_minor += state.used();
                    t.spent_minor += state.spent;
                }
                if state.status == CommitmentStatus::PendingApproval {
                    t.pending_minor += state.unspent();
                }
                commitments.push(v);
            }
            self.ledgers.put(&f.id, f.last_entry, ledger);
        }
        commitments.sort_by(|a, b| b.on.cmp(&a.on).then(a.id.cmp(&b.id)));
        self.audit
            .record(vec![Self::funding_entry(
                actor,
                Some(&c.reference),
                AuditAction::Read,
                route,
            )])
            .await?;
        Ok(CaseFunding {
            reference: c.reference,
            commitments,
            totals,
        })
    }

    /// A cancelled return releases what its commitments still set aside, in the
    /// cancelling transaction (each fund locked in turn).
    pub(crate) async fn release_return_commitments(
        &self,
        txn: &DatabaseTransaction,
        by_user: i64,
        case_id: i64,
        return_id: &str,
    ) -> Result<()> {
        let mut fund_ids: Vec<String> = fund_entry::Entity::find()
            .filter(fund_entry::Column::CaseId.eq(case_id))
            .filter(fund_entry::Column::Kind.eq("commitment"))
            .all(txn)
            .await?
            .into_iter()
            .map(|e| e.fund_id)
            .collect();
        fund_ids.sort();
        fund_ids.dedup();
        let today = Utc::now().date_naive();
        for id in fund_ids {
            let mut q = fund::Entity::find_by_id(id.clone());
            if txn.get_database_backend() == DbBackend::Postgres {
                q = q.lock_exclusive();
            }
            let Some(mut f) = q.first(txn).await? else {
                continue;
            };
            let ledger = self.ledger_of(txn, &f).await?;
            let open: Vec<EntryId> = ledger
                .commitments()
                .filter(|(_, s)| {
                    s.case_id == case_id
                        && s.purpose.kind == PurposeKind::Return
                        && s.purpose.record_id.as_deref() == Some(return_id)
                        && s.unspent() > 0
                })
                .map(|(id, _)| id)
                .collect();
            self.ledgers.put(&f.id, f.last_entry, ledger);
            for commitment in open {
                let ledger = self.ledger_of(txn, &f).await?;
                let m = match ledger.commitment(commitment).map(|s| s.status) {
                    // Waiting for approval: it is no longer needed.
                    Some(CommitmentStatus::PendingApproval) => Movement::Refusal {
                        commitment,
                        reason: "the return was cancelled".into(),
                    },
                    _ => ledger
                        .release_rest(commitment)
                        .map_err(|r| refused("release", &[r]))?,
                };
                self.ledgers.put(&f.id, f.last_entry, ledger);
                self.append(txn, by_user, &f, &m, today).await?;
                f = fund::Entity::find_by_id(f.id.clone())
                    .first(txn)
                    .await?
                    .ok_or(ServiceError::NotFound("fund"))?;
            }
            // Not cached: this transaction may still roll back.
            self.ledgers.forget(&f.id);
        }
        Ok(())
    }
}
