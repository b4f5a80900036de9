//! Erasing a person's data, and the cases past their retention period (issue 15, point 3).
//! The rules, and the list of what is destroyed and kept, are in [`crate::erasure`].
//!
//! One transaction: the case is loaded through the one door (`load_for`: a case the caller
//! may not see is "not found", audited), the caller must be an administrator of the owning
//! organisation, the reason must hold ([`erasure::check_erasure`]); then, if the
//! organisation keeps the case for statistics, its generalised record is derived from the
//! fields and stored; every encrypted column of [`erasure::TARGETS`] is overwritten; the
//! blind index is emptied; the case is marked erased (and closed if it was open, with its
//! deadlines); and the audit entry is appended. After the commit the old bytes are
//! scrubbed from the files ([`Services::scrub_after_erasure`]).

use super::audit::{NewEntry, commit_audited};
use super::{Actor, Result, Route, ServiceError, Services, at};
use crate::domain::{AuditAction, CaseAction, CaseEvent, Paging, Section};
use crate::erasure::{self, ErasureReason, Fill, Key, Scope, StatisticalRecord};
use crate::store::entity::{case, case_elements, deadline, erased_statistics, person, user};
use crate::store::{First, begin_write};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Statement, Value,
};

/// What the administrator decides: why, and whether the case stays in the statistics.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ErasureInput {
    /// person_request (GDPR art. 17) or retention_expired (the case was closed longer ago
    /// than the retention period). Required.
    #[serde(default)]
    pub reason: Option<String>,
    /// Keep the case as an anonymous record in the statistics export (its generalised
    /// values, no personal data). Default: no.
    #[serde(default)]
    pub keep_statistics: bool,
}

/// An erased case, as everyone who may see the case sees it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ErasureView {
    pub reference: String,
    pub erased_at: DateTime<Utc>,
    pub erased_by_user_id: Option<i64>,
    /// The administrator's display name.
    pub erased_by: Option<String>,
    pub reason: ErasureReason,
    /// Whether the case still counts (anonymously) in the statistics export.
    pub keep_statistics: bool,
}

/// A closed case past its retention period, for its organisation's administrator.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RetentionItem {
    pub reference: String,
    pub closed_at: DateTime<Utc>,
    /// When its retention period ended (`[retention] erase_after_days` after closing).
    pub retention_ended: DateTime<Utc>,
    pub close_reason: Option<String>,
}

super::page_of!(
    /// Closed cases past their retention period, longest past first.
    RetentionPage,
    RetentionItem
);

/// How the erasure's statements address a table and its columns.
fn col(name: &str) -> Alias {
    Alias::new(name)
}

fn scope_condition(scope: Scope, c: &case::Model) -> SimpleExpr {
    match scope {
        Scope::Person => Expr::col(col("id")).eq(c.person_id.clone()),
        Scope::Case => Expr::col(col("id")).eq(c.id),
        Scope::CaseId => Expr::col(col("case_id")).eq(c.id),
        Scope::Return => Expr::col(col("return_id")).in_subquery(
            Query::select()
                .column(col("id"))
                .from(col("returns"))
                .and_where(Expr::col(col("case_id")).eq(c.id))
                .to_owned(),
        ),
    }
}

impl Services {
    /// Erase the personal data of a case's person (see the module doc).
    pub async fn erase_case(
        &self,
        actor: &Actor,
        reference: &str,
        input: &ErasureInput,
        route: Route<'_>,
    ) -> Result<ErasureView> {
        let reason = erasure::parse_reason(input.reason.as_deref())?;
        let txn = begin_write(&self.db).await?;
        let (c, rel) = self
            .load_for(
                &txn,
                actor,
                reference,
                CaseAction::ViewSection(Section::Summary),
                route,
            )
            .await?;
        if !erasure::may_erase(actor.role, rel) {
            self.audit.offer(vec![NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Person,
                AuditAction::Refused,
                route,
            )]);
            return Err(ServiceError::Forbidden(
                "only an administrator of the organisation that owns the case erases a person's data".into(),
            ));
        }
        if c.erased_at.is_some() {
            return Err(ServiceError::Conflict(
                "this case was already erased".into(),
            ));
        }
        let now = Utc::now();
        erasure::check_erasure(reason, c.closed_at, now, self.retention_days)?;
        let p = person::Entity::find_by_id(c.person_id.clone())
            .first(&txn)
            .await?
            .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("case without person")))?;
        if input.keep_statistics {
            let elements = case_elements::Entity::find()
                .filter(case_elements::Column::CaseId.eq(c.id))
                .first(&txn)
                .await?
                .map(|e| e.elements_enc);
            let record =
                super::data::statistics::live_record_of_case(&self.keys, &c, &p, elements)?;
            let kept = StatisticalRecord::of(&record);
            erased_statistics::ActiveModel {
                case_id: Set(c.id),
                age_from: Set(kept.age.map(|(a, _)| i16::from(a))),
                age_to: Set(kept.age.map(|(_, b)| i16::from(b))),
                citizenship: Set(kept.citizenship.map(|x| x.to_string())),
                country_of_exploitation: Set(kept.country_of_exploitation.map(|x| x.to_string())),
                exploitation: Set(erasure::join_codes(
                    kept.exploitation.iter().map(|e| e.as_str()),
                )),
                means_of_control: Set(erasure::join_codes(
                    kept.means_of_control.iter().map(|e| e.as_str()),
                )),
                gender: Set(kept.gender.as_str().to_owned()),
            }
            .insert(&txn)
            .await?;
        }
        let touched = self.overwrite_fields(&txn, &c).await?;
        person::Entity::update_many()
            .col_expr(person::Column::NameIdx, Expr::value(""))
            .col_expr(person::Column::IsMinor, Expr::value(false))
            .col_expr(person::Column::Stateless, Expr::value(false))
            .filter(person::Column::Id.eq(c.person_id.clone()))
            .exec(&txn)
            .await?;
        let mut update = case::Entity::update_many()
            .col_expr(case::Column::ErasedAt, Expr::value(Some(now)))
            .col_expr(case::Column::ErasedBy, Expr::value(Some(actor.user_id)))
            .col_expr(
                case::Column::ErasureReason,
                Expr::value(Some(reason.as_str())),
            )
            .col_expr(
                case::Column::ErasedKeepStatistics,
                Expr::value(input.keep_statistics),
            )
            // Whoever had the case open now holds a stale version.
            .col_expr(
                case::Column::Version,
                Expr::col(case::Column::Version).add(1),
            )
            .col_expr(case::Column::UpdatedAt, Expr::value(now));
        if c.closed_at.is_none() {
            // Nothing is left to work on: the case leaves every worklist.
            update = update
                .col_expr(case::Column::ClosedAt, Expr::value(Some(now)))
                .col_expr(case::Column::ClosedBy, Expr::value(Some(actor.user_id)))
                .col_expr(case::Column::CloseStatus, Expr::value(Some("closed")))
                .col_expr(case::Column::CloseReason, Expr::value(Some("persons_wish")));
        }
        update.filter(case::Column::Id.eq(c.id)).exec(&txn).await?;
        if c.closed_at.is_none() {
            self.advance_stage(&txn, c.id, CaseEvent::Closed).await?;
        }
        deadline::Entity::update_many()
            .col_expr(deadline::Column::ClosedAt, Expr::value(Some(now)))
            .filter(deadline::Column::CaseId.eq(c.id))
            .filter(deadline::Column::ClosedAt.is_null())
            .exec(&txn)
            .await?;
        commit_audited(
            txn,
            NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Person,
                reason.audit_action(),
                route,
            ),
        )
        .await?;
        self.scrub_after_erasure(&touched).await?;
        // Counts and codes only: nothing here names anyone.
        tracing::info!(
            reason = reason.as_str(),
            keep_statistics = input.keep_statistics,
            tables = touched.len(),
            "case erased"
        );
        // As a GET answers it (the stored time, at the database's precision).
        let erased = case::Entity::find_by_id(c.id)
            .first(&self.db)
            .await?
            .ok_or(ServiceError::NotFound("case"))?;
        self.erasure_view(&erased)
            .await?
            .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("erasure not recorded")))
    }

    /// Overwrite every encrypted column of [`erasure::TARGETS`] for this case, in `txn`.
    /// The tables that had rows of the case.
    async fn overwrite_fields(
        &self,
        txn: &DatabaseTransaction,
        c: &case::Model,
    ) -> Result<Vec<&'static str>> {
        let mut touched = Vec::new();
        for t in erasure::TARGETS {
            let mut changed = false;
            if !t.cleared.is_empty() {
                let mut q = Query::update();
                q.table(col(t.table));
                for c in t.cleared {
                    q.value(col(&format!("{c}_enc")), Expr::value(Value::Bytes(None)));
                }
                q.and_where(scope_condition(t.scope, c));
                changed |= txn.execute(&q).await?.rows_affected() > 0;
            }
            if !t.overwritten.is_empty() {
                let (key, int) = match t.key {
                    Key::Text(k) => (k, false),
                    Key::Int(k) => (k, true),
                };
                let select = Query::select()
                    .column(col(key))
                    .from(col(t.table))
                    .and_where(scope_condition(t.scope, c))
                    .to_owned();
                let rows = txn.query_all(&select).await?;
                for row in rows {
                    let (row_key, value): (String, Value) = if int {
                        let k: i64 = row.try_get_by_index(0)?;
                        (k.to_string(), Value::BigInt(Some(k)))
                    } else {
                        let k: String = row.try_get_by_index(0)?;
                        (k.clone(), Value::String(Some(k)))
                    };
                    let mut q = Query::update();
                    q.table(col(t.table));
                    for (column, fill) in t.overwritten {
                        // The case's owner seals, as for every field of the case.
                        let blob = self.keys.encrypt_for(
                            Some(c.owner_org_id),
                            at(t.table, column, &row_key),
                            &Fill::plaintext(*fill),
                        )?;
                        q.value(col(&format!("{column}_enc")), Expr::value(blob));
                    }
                    q.and_where(Expr::col(col(key)).eq(value));
                    txn.execute(&q).await?;
                    changed = true;
                }
            }
            if changed {
                touched.push(t.table);
            }
        }
        Ok(touched)
    }

    /// After the erasure's commit, make sure the old bytes are gone from the files: on
    /// SQLite (whose connections delete securely) a checkpoint that empties the WAL; on
    /// PostgreSQL a `VACUUM FULL` of the tables changed, which rewrites them without the old
    /// row versions (it cannot run in a transaction).
    pub(crate) async fn scrub_after_erasure(&self, tables: &[&'static str]) -> Result<()> {
        match self.db.get_database_backend() {
            DbBackend::Sqlite => {
                // A reader still on an old snapshot keeps the WAL busy: try again a moment
                // later, then say so.
                for attempt in 0..50 {
                    let row = self
                        .db
                        .query_one_raw(Statement::from_string(
                            DbBackend::Sqlite,
                            "PRAGMA wal_checkpoint(TRUNCATE)",
                        ))
                        .await?;
                    let busy: i64 = match &row {
                        Some(r) => r.try_get_by_index(0)?,
                        None => 0,
                    };
                    if busy == 0 {
                        return Ok(());
                    }
                    tracing::debug!(attempt, "WAL busy after an erasure; trying again");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(ServiceError::Unexpected(anyhow::anyhow!(
                    "the erasure is committed but the WAL could not be emptied (readers kept it busy): run PRAGMA wal_checkpoint(TRUNCATE)"
                )))
            }
            DbBackend::Postgres => {
                let mut list: Vec<&str> = tables.to_vec();
                list.extend(["cases", "persons", "erased_statistics"]);
                list.sort_unstable();
                list.dedup();
                for t in list {
                    // Table names come from the erasure's own list, never from outside.
                    self.db
                        .execute_unprepared(&format!("VACUUM FULL \"{t}\""))
                        .await?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// How a case was erased, for those who may see the case (`None`: not erased).
    pub async fn erasure_of(
        &self,
        actor: &Actor,
        reference: &str,
        route: Route<'_>,
    ) -> Result<Option<ErasureView>> {
        let (c, _) = self
            .load_for(
                &self.db,
                actor,
                reference,
                CaseAction::ViewSection(Section::Summary),
                route,
            )
            .await?;
        let view = self.erasure_view(&c).await?;
        self.audit
            .record(vec![NewEntry::by(
                actor,
                Some(&c.reference),
                Section::Summary,
                AuditAction::Read,
                route,
            )])
            .await?;
        Ok(view)
    }

    /// The erasure of a loaded case, if it was erased.
    pub(crate) async fn erasure_view(&self, c: &case::Model) -> Result<Option<ErasureView>> {
        let (Some(erased_at), Some(reason)) = (c.erased_at, c.erasure_reason.as_deref()) else {
            return Ok(None);
        };
        let by = match c.erased_by {
            Some(u) => user::Entity::find_by_id(u)
                .first(&self.db)
                .await?
                .map(|u| u.display_name),
            None => None,
        };
        Ok(Some(ErasureView {
            reference: c.reference.clone(),
            erased_at,
            erased_by_user_id: c.erased_by,
            erased_by: by,
            reason: ErasureReason::parse(reason)?,
            keep_statistics: c.erased_keep_statistics,
        }))
    }

    /// The caller's organisation's closed cases past their retention period (not erased
    /// yet), for its administrator to decide on. Nothing is erased here.
    pub async fn past_retention(
        &self,
        actor: &Actor,
        paging: Paging,
        route: Route<'_>,
    ) -> Result<RetentionPage> {
        if actor.role != crate::domain::Role::OrgAdmin {
            return Err(ServiceError::Forbidden(
                "only an organisation's administrator sees the cases past their retention period"
                    .into(),
            ));
        }
        let days = self.retention_days;
        let cutoff = Utc::now() - chrono::Duration::days(days);
        let audited = self
            .audit
            .submit(vec![NewEntry::by(
                actor,
                None,
                Section::Caseload,
                AuditAction::Read,
                route,
            )])
            .await?;
        let filter = || {
            case::Entity::find()
                .filter(case::Column::OwnerOrgId.eq(actor.org_id))
                .filter(case::Column::ErasedAt.is_null())
                .filter(case::Column::ClosedAt.lte(cutoff))
        };
        let total = filter().count(&self.db).await?;
        let rows = filter()
            .order_by_asc(case::Column::ClosedAt)
            .order_by_asc(case::Column::Id);
        let st = crate::store::with_limit(
            sea_orm::QueryTrait::build(&rows, self.db.get_database_backend()),
            paging.per_page,
            paging.offset(),
        );
        let items = case::Entity::find()
            .from_raw_sql(st)
            .all(&self.db)
            .await?
            .into_iter()
            .filter_map(|c| {
                let closed = c.closed_at?;
                Some(RetentionItem {
                    reference: c.reference,
                    closed_at: closed,
                    retention_ended: erasure::retention_ends(closed, days),
                    close_reason: c.close_reason,
                })
            })
            .collect();
        audited.durable().await?;
        Ok(RetentionPage {
            items,
            total,
            page: paging.page,
            per_page: paging.per_page,
            pages: paging.pages(total),
        })
    }
}
