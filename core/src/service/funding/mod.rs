//! Funding use cases (issue 11): funds and who may see them, the ledger's movements
//! (allocations, commitments, approvals, spending, releases, corrections), what a case
//! may be funded from, and the reports.
//!
//! Every movement is appended by [`Services::append`], in the caller's write transaction
//! and under the fund's lock (the row is locked `FOR UPDATE` on PostgreSQL; SQLite's
//! write transactions are `IMMEDIATE`, one at a time): the ledger is brought up to date
//! from the stored entries, checked against the balances kept on the fund row, asked
//! whether the movement may be appended (`funding::Ledger::check_append`), and the entry
//! and the new balances are written together. So a fund never goes below zero and a
//! commitment is never overspent, whatever arrives concurrently on however many nodes.
//!
//! Parts: `funds` (create, edit, open to others, read, list), `ledger` (the movements),
//! `cases` (what a case may be funded from, its commitments, the return's costs), and
//! `reports`.

mod cases;
mod estimates;
mod funds;
mod ledger;
mod reports;

pub use cases::{CaseFunding, CaseTotal, OfferPage, OfferView};
pub use estimates::{EstimateInput, EstimateView, RETURN_CATEGORIES, ReturnCostLine, ReturnCosts};
pub use funds::{FundInput, FundPage, FundView, Opening, OpeningInput};
pub use ledger::{
    AllocationInput, CommitmentInput, CommitmentPage, CommitmentView, CorrectionInput, EntryPage,
    EntryView, RefusalInput, ReleaseInput, SpendingInput,
};
pub use reports::{CategoryRow, FundReport, MonthRow};

use super::audit::NewEntry;
use super::{Actor, Result, Route, ServiceError, Services};
use crate::crypto::random_token;
use crate::domain::{AuditAction, Invalid, Section};
use crate::funding::{
    self as rules, Balances, Currency, EntryId, Fund, FundAction, FundRefusal, FundRelation,
    FundRules, Ledger, Movement, SourceKind,
};
use crate::store::First;
use crate::store::entity::{fund, fund_entry, fund_opening};
use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Ledgers already folded, by fund id: a write brings its fund's ledger up to date from
/// the entries after the cached one (read under the fund's lock), instead of folding the
/// whole history again. Only committed entries are ever cached.
///
/// It also queues this node's writers of a fund ([`LedgerCache::queue`]): they take the
/// database's lock one after the other, in the order they came, instead of all asking the
/// database at once (on SQLite, waiters poll with growing sleeps, which made the slowest
/// commitment wait ten times the median). The database lock stays the one that holds
/// across nodes.
#[derive(Clone, Default)]
pub struct LedgerCache(Arc<Mutex<HashMap<String, Cached>>>, FundQueues);

type FundQueues = Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>;

/// A folded ledger and the last entry folded into it.
type Cached = (Option<EntryId>, Ledger);

impl LedgerCache {
    /// Wait for this node's earlier writers of the fund (first come, first served).
    pub(crate) async fn queue(&self, fund_id: &str) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        let q = {
            let mut queues = self.1.lock().ok()?;
            // Ids nobody waits on are dropped now and then (any id can be asked for).
            if queues.len() > 1_000 {
                queues.retain(|_, q| Arc::strong_count(q) > 1);
            }
            queues.entry(fund_id.trim().to_owned()).or_default().clone()
        };
        Some(q.lock_owned().await)
    }
    fn take(&self, fund_id: &str) -> Option<Cached> {
        self.0.lock().ok().and_then(|mut m| m.remove(fund_id))
    }
    fn put(&self, fund_id: &str, last: Option<EntryId>, ledger: Ledger) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(fund_id.to_owned(), (last, ledger));
        }
    }
    fn forget(&self, fund_id: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(fund_id);
        }
    }
}

/// A fund row as the rules see it.
pub(crate) fn fund_of(m: &fund::Model) -> Result<Fund> {
    let rules: FundRules = serde_json::from_str(&m.rules_json)
        .map_err(|e| anyhow::anyhow!("stored fund rules: {e}"))?;
    Ok(Fund {
        name: m.name.clone(),
        source: SourceKind::parse(&m.source)?,
        holder_org: m.holder_org_id,
        currency: Currency::parse(&m.currency)?,
        valid_from: m.valid_from,
        valid_until: m.valid_until,
        approval_threshold: m.approval_threshold,
        rules,
    })
}

fn stored_balances(m: &fund::Model) -> Balances {
    Balances {
        allocated: m.allocated,
        committed_unspent: m.committed_unspent,
        pending: m.pending,
        spent: m.spent,
        available: m.allocated - m.committed_unspent - m.spent,
    }
}

/// A refused movement: 422, every reason with its rule id.
pub(crate) fn refused(what: &str, reasons: &[FundRefusal]) -> ServiceError {
    ServiceError::Refused(format!(
        "{what}: {}",
        reasons
            .iter()
            .map(|r| format!("[{}] {}", r.rule, r.message))
            .collect::<Vec<_>>()
            .join("; ")
    ))
}

/// What a movement is, for the report columns of its entry: the amount it moves (a
/// refusal: what it gave back), its category and case, the commitment it acts on, and
/// `status` (a commitment's; a correction's is `corrects_<kind>` of the entry it
/// corrects).
struct Columns {
    amount: i64,
    category: Option<String>,
    case_id: Option<i64>,
    commitment_id: Option<i64>,
    status: Option<String>,
}

fn columns(m: &Movement, ledger: &Ledger, corrected: Option<&fund_entry::Model>) -> Columns {
    let of = |c: EntryId, amount: i64| {
        let state = ledger.commitment(c);
        Columns {
            amount,
            category: state.map(|s| s.category.as_str().to_owned()),
            case_id: state.map(|s| s.case_id),
            commitment_id: Some(c),
            status: None,
        }
    };
    match m {
        Movement::Allocation { amount, .. } => Columns {
            amount: *amount,
            category: None,
            case_id: None,
            commitment_id: None,
            status: None,
        },
        Movement::Commitment {
            case_id,
            category,
            amount,
            status,
            ..
        } => Columns {
            amount: *amount,
            category: Some(category.as_str().to_owned()),
            case_id: Some(*case_id),
            commitment_id: None,
            status: Some(status.as_str().to_owned()),
        },
        Movement::Approval { commitment } => of(*commitment, 0),
        Movement::Refusal { commitment, .. } => of(
            *commitment,
            ledger.commitment(*commitment).map_or(0, |c| c.unspent()),
        ),
        Movement::Spending {
            commitment, amount, ..
        }
        | Movement::Release { commitment, amount } => of(*commitment, *amount),
        Movement::Correction { delta, .. } => Columns {
            amount: *delta,
            category: corrected.and_then(|e| e.category.clone()),
            case_id: corrected.and_then(|e| e.case_id),
            commitment_id: corrected.and_then(|e| {
                if e.kind == "commitment" {
                    Some(e.id)
                } else {
                    e.commitment_id
                }
            }),
            status: corrected.map(|e| format!("corrects_{}", e.kind)),
        },
    }
}

impl Services {
    /// The fund, if the caller's organisation may know of it, and how it relates to it.
    pub(crate) async fn fund_for<C: ConnectionTrait>(
        &self,
        db: &C,
        actor: &Actor,
        fund_id: &str,
        action: FundAction,
        lock: bool,
    ) -> Result<(fund::Model, FundRelation)> {
        let mut q = fund::Entity::find_by_id(fund_id.trim().to_owned());
        if lock && db.get_database_backend() == DbBackend::Postgres {
            // The fund's lock, for the whole write transaction (SQLite's writes are
            // already one at a time).
            q = q.lock_exclusive();
        }
        let Some(f) = q.first(db).await? else {
            return Err(ServiceError::NotFound("fund"));
        };
        let opened = f.holder_org_id != actor.org_id
            && fund_opening::Entity::find()
                .filter(fund_opening::Column::FundId.eq(f.id.clone()))
                .filter(fund_opening::Column::OrgId.eq(actor.org_id))
                .first(db)
                .await?
                .is_some();
        let rel = FundRelation::of(actor.org_id, f.holder_org_id, opened);
        if rel == FundRelation::None || !rules::may_fund(actor.role, rel, FundAction::View) {
            return Err(ServiceError::NotFound("fund"));
        }
        if !rules::may_fund(actor.role, rel, action) {
            return Err(ServiceError::Forbidden(
                match action {
                    FundAction::Manage => "only the holder's fund managers manage this fund",
                    FundAction::ViewAll => {
                        "only the holder's fund managers, auditors and administrators see all of this fund"
                    }
                    FundAction::Request => "only caseworkers ask for money from a fund",
                    FundAction::View => "your role cannot see this fund",
                }
                .into(),
            ));
        }
        Ok((f, rel))
    }

    /// The fund's ledger, up to date with its stored entries and checked against the
    /// balances kept on the fund row (call with the fund locked, in the transaction).
    pub(crate) async fn ledger_of<C: ConnectionTrait>(
        &self,
        db: &C,
        f: &fund::Model,
    ) -> Result<Ledger> {
        let fund = fund_of(f)?;
        let (mut last, mut ledger) = match self.ledgers.take(&f.id) {
            Some((last, l)) => (last, l),
            None => (None, Ledger::new(&fund)),
        };
        let mut q = fund_entry::Entity::find()
            .filter(fund_entry::Column::FundId.eq(f.id.clone()))
            .order_by_asc(fund_entry::Column::Id);
        if let Some(l) = last {
            q = q.filter(fund_entry::Column::Id.gt(l));
        }
        for e in q.all(db).await? {
            let m = self.open_movement(&e)?;
            ledger
                .apply(e.id, &m)
                .map_err(|r| anyhow::anyhow!("fund {} entry {}: {}", f.id, e.id, r.message))?;
            last = Some(e.id);
        }
        if last != f.last_entry {
            // The fund row says otherwise: fold the whole history again.
            self.ledgers.forget(&f.id);
            return Box::pin(self.ledger_from_scratch(db, f, &fund)).await;
        }
        ledger
            .check_balances(&stored_balances(f))
            .map_err(|r| anyhow::anyhow!("{}", r.message))?;
        Ok(ledger)
    }

    async fn ledger_from_scratch<C: ConnectionTrait>(
        &self,
        db: &C,
        f: &fund::Model,
        fund: &Fund,
    ) -> Result<Ledger> {
        let mut entries = Vec::new();
        for e in fund_entry::Entity::find()
            .filter(fund_entry::Column::FundId.eq(f.id.clone()))
            .order_by_asc(fund_entry::Column::Id)
            .all(db)
            .await?
        {
            entries.push((e.id, self.open_movement(&e)?));
        }
        let ledger = Ledger::replay(fund, entries)
            .map_err(|r| anyhow::anyhow!("fund {}: {}", f.id, r.message))?;
        ledger
            .check_balances(&stored_balances(f))
            .map_err(|r| anyhow::anyhow!("{}", r.message))?;
        Ok(ledger)
    }

    pub(crate) fn open_movement(&self, e: &fund_entry::Model) -> Result<Movement> {
        let text = self.keys.decrypt_string(
            super::at("fund_entries", "movement", &e.uid),
            &e.movement_enc,
        )?;
        Ok(serde_json::from_str(&text).map_err(|x| anyhow::anyhow!("stored movement: {x}"))?)
    }

    /// Append a movement to a fund's ledger, in `txn`, with the fund locked (see the
    /// module doc). Returns the stored entry and the ledger after it; the caller commits
    /// and then calls [`Services::cache_ledger`].
    pub(crate) async fn append(
        &self,
        txn: &DatabaseTransaction,
        user_id: i64,
        f: &fund::Model,
        m: &Movement,
        on: NaiveDate,
    ) -> Result<(fund_entry::Model, Ledger)> {
        let mut ledger = self.ledger_of(txn, f).await?;
        ledger
            .check_append(m)
            .map_err(|r| refused("the ledger refuses this entry", &[r]))?;
        let corrected = match m {
            Movement::Correction { of, .. } => {
                fund_entry::Entity::find_by_id(*of).first(txn).await?
            }
            _ => None,
        };
        let cols = columns(m, &ledger, corrected.as_ref());
        let uid = random_token(16)?;
        let json = serde_json::to_string(m).map_err(|e| anyhow::anyhow!("movement: {e}"))?;
        let entry = fund_entry::ActiveModel {
            uid: Set(uid.clone()),
            fund_id: Set(f.id.clone()),
            kind: Set(m.kind().as_str().into()),
            amount: Set(cols.amount),
            category: Set(cols.category),
            case_id: Set(cols.case_id),
            commitment_id: Set(cols.commitment_id),
            status: Set(cols.status),
            movement_enc: Set(self.seal_field(
                f.holder_org_id,
                "fund_entries",
                "movement",
                &uid,
                &json,
            )?),
            entry_on: Set(on),
            created_by: Set(user_id),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let before = ledger.balances().available;
        ledger
            .apply(entry.id, m)
            .map_err(|r| refused("the ledger refuses this entry", &[r]))?;
        let b = ledger.balances();
        let res = fund::Entity::update_many()
            .col_expr(fund::Column::Allocated, Expr::value(b.allocated))
            .col_expr(
                fund::Column::CommittedUnspent,
                Expr::value(b.committed_unspent),
            )
            .col_expr(fund::Column::Pending, Expr::value(b.pending))
            .col_expr(fund::Column::Spent, Expr::value(b.spent))
            .col_expr(fund::Column::LastEntry, Expr::value(Some(entry.id)))
            .filter(fund::Column::Id.eq(f.id.clone()))
            .filter(match f.last_entry {
                Some(l) => fund::Column::LastEntry.eq(l),
                None => fund::Column::LastEntry.is_null(),
            })
            .exec(txn)
            .await?;
        if res.rows_affected != 1 {
            // Another writer appended meanwhile: only possible without the lock.
            self.ledgers.forget(&f.id);
            return Err(ServiceError::Conflict(
                "this fund changed meanwhile; try again".into(),
            ));
        }
        if crate::funding::fell_below_low_balance(before, b.available, f.low_balance) {
            // The holder's fund managers (but the one who did it) learn it in this
            // transaction.
            let managers: Vec<_> = self
                .users_with_roles(txn, f.holder_org_id, &[crate::domain::Role::FundManager])
                .await?
                .into_iter()
                .filter(|u| u.id != user_id)
                .collect();
            self.notify_in(
                txn,
                &managers,
                &crate::service::notify::Event {
                    kind: crate::notify::NotificationKind::FundLow,
                    reference: None,
                    from_org_id: f.holder_org_id,
                    link: format!("/funds/{}", f.id),
                },
                None,
            )
            .await?;
        }
        Ok((entry, ledger))
    }

    /// After the transaction that appended committed: keep the ledger for the next write.
    pub(crate) fn cache_ledger(&self, fund_id: &str, last: EntryId, ledger: Ledger) {
        self.ledgers.put(fund_id, Some(last), ledger);
    }

    /// The audit entry of a funding read or write (a case's when it concerns one).
    /// The jurisdiction of the fund's holder may add its own funding rules (the optional
    /// plugin hook `fund-rules`): its refusal, if any. A plugin error fails closed.
    pub(crate) async fn jurisdiction_refuses(
        &self,
        f: &fund::Model,
        fund: &crate::funding::Fund,
        facts: &crate::funding::CaseFacts,
        ask: &crate::funding::Ask,
    ) -> Result<Option<crate::funding::FundRefusal>> {
        let j = self.jurisdiction_for_org(f.holder_org_id).await?;
        let request = crate::ports::FundingAsk::new(fund.source, facts, ask);
        Ok(
            match self.call_port(move || j.fund_rules(&request)).await? {
                crate::ports::Verdict::Allow => None,
                crate::ports::Verdict::Refuse(reasons) => {
                    Some(crate::funding::jurisdiction_refusal(&fund.name, &reasons))
                }
            },
        )
    }

    pub(crate) fn funding_entry(
        actor: &Actor,
        case_ref: Option<&str>,
        action: AuditAction,
        route: Route<'_>,
    ) -> NewEntry {
        NewEntry::by(actor, case_ref, Section::Funding, action, route)
    }
}

/// Parse an optional day; today when empty.
pub(crate) fn day_or_today(field: &'static str, s: Option<&str>) -> Result<NaiveDate, Invalid> {
    match s.map(str::trim) {
        None | Some("") => Ok(Utc::now().date_naive()),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map_err(|_| Invalid::new(field, "must be a date written YYYY-MM-DD")),
    }
}
