//! Appending to the hash-chained audit log, and verifying it.
//!
//! Writes append their entries inside their own transaction (`append_in`), so data and
//! audit commit together. Reads go through the [`AuditSink`], which groups the entries of
//! concurrent requests into one transaction (one fsync for many reads) and acknowledges
//! each request only once its entry is durable: a read is never answered unaudited.

use super::{Actor, Result, ServiceError};
use crate::audit::{Broken, Entry, Stored, Verifier, chain_hash};
use crate::domain::{AuditAction, Section};
use crate::store::First;
use crate::store::begin_write;
use crate::store::entity::{audit_head, audit_log};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use tokio::sync::{mpsc, oneshot};

/// An entry before it is chained.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub user_id: Option<i64>,
    pub org_id: Option<i64>,
    pub case_ref: Option<String>,
    pub section: Section,
    pub action: AuditAction,
    pub route: String,
}

impl NewEntry {
    pub fn by(
        actor: &Actor,
        case_ref: Option<&str>,
        section: Section,
        action: AuditAction,
        route: &str,
    ) -> Self {
        Self {
            user_id: Some(actor.user_id),
            org_id: Some(actor.org_id),
            case_ref: case_ref.map(str::to_owned),
            section,
            action,
            route: route.chars().take(200).collect(),
        }
    }
}

/// Append entries inside the caller's write transaction. Locks the head row first, so
/// appenders are serialised on PostgreSQL as on SQLite.
pub async fn append_in<C: ConnectionTrait>(txn: &C, entries: &[NewEntry]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    // Take the row lock before reading the head.
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Seq, Expr::col(audit_head::Column::Seq))
        .filter(audit_head::Column::Id.eq(1))
        .exec(txn)
        .await?;
    let head = audit_head::Entity::find_by_id(1)
        .first(txn)
        .await?
        .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("audit head row missing")))?;
    let mut seq = head.seq;
    let mut prev = head.hash;
    let now = Utc::now();
    // Microsecond precision, so the stored time hashes the same after a round trip.
    let now = chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        seq += 1;
        let entry = Entry {
            seq,
            at: now,
            user_id: e.user_id,
            org_id: e.org_id,
            case_ref: e.case_ref.clone(),
            section: e.section.as_str().to_owned(),
            action: e.action.as_str().to_owned(),
            route: e.route.clone(),
        };
        let hash = chain_hash(&prev, &entry);
        rows.push(audit_log::ActiveModel {
            seq: Set(seq),
            at: Set(entry.at),
            user_id: Set(entry.user_id),
            org_id: Set(entry.org_id),
            case_ref: Set(entry.case_ref),
            section: Set(entry.section),
            action: Set(entry.action),
            route: Set(entry.route),
            prev_hash: Set(prev.clone()),
            hash: Set(hash.clone()),
        });
        prev = hash;
    }
    for chunk in rows.chunks(100) {
        audit_log::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    audit_head::Entity::update(audit_head::ActiveModel {
        id: Set(1),
        seq: Set(seq),
        hash: Set(prev),
    })
    .exec(txn)
    .await?;
    Ok(())
}

/// Append one entry inside a write transaction and commit both together.
pub async fn commit_audited(txn: sea_orm::DatabaseTransaction, entry: NewEntry) -> Result<()> {
    append_in(&txn, &[entry]).await?;
    txn.commit().await?;
    Ok(())
}

type Job = (Vec<NewEntry>, oneshot::Sender<Result<(), String>>);

/// How long the group-commit writer waits for more entries before committing a batch, when
/// reads arrive concurrently. The caseload's reads run meanwhile (see [`AuditSink::submit`]),
/// so under load the wait costs them little, while every commit saved spares each other
/// SQLite connection a reset of its page cache. Caseload bench, 32 connections: 1 ms →
/// 4 ms took the API from 49 to 53–55 % of the raw floor; 8 ms was no better. The wait
/// ends early once as many requests wait as the last commit served (see the writer).
const AUDIT_LINGER: std::time::Duration = std::time::Duration::from_millis(4);
/// At most this many requests' entries in one commit.
const AUDIT_BATCH: usize = 512;

/// Group-commit writer for the audit entries of reads.
#[derive(Clone)]
pub struct AuditSink {
    tx: mpsc::Sender<Job>,
}

impl AuditSink {
    pub fn start(db: DatabaseConnection) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(4096);
        tokio::spawn(async move {
            // How many requests the last commit served. More than one: reads are arriving
            // concurrently and it pays to wait for more; when they come one at a time,
            // waiting would only add to each read's latency. And once as many wait as
            // were served last time, the readers of the last batch are back (a caseworker
            // waits for one answer before asking the next): waiting longer would hold
            // them all without gaining a reader, so the batch is committed then.
            let mut last = 0usize;
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                while jobs.len() < AUDIT_BATCH
                    && let Ok(j) = rx.try_recv()
                {
                    jobs.push(j);
                }
                // Linger: gather the entries that arrive in the next moments too, so that
                // one commit (one fsync, and on SQLite one reset of every other
                // connection's page cache) serves more reads.
                if last > 1 || jobs.len() > 1 {
                    let linger = tokio::time::Instant::now() + AUDIT_LINGER;
                    // (`last` is at most AUDIT_BATCH: no batch grows past it.)
                    let enough = if last > 1 { last } else { AUDIT_BATCH };
                    while jobs.len() < enough {
                        match rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(_) => match tokio::time::timeout_at(linger, rx.recv()).await {
                                Ok(Some(j)) => jobs.push(j),
                                Ok(None) | Err(_) => break,
                            },
                        }
                    }
                }
                last = jobs.len();
                let entries: Vec<NewEntry> =
                    jobs.iter().flat_map(|(e, _)| e.iter().cloned()).collect();
                let outcome = write_batch(&db, &entries).await.map_err(|e| e.to_string());
                if let Err(e) = &outcome {
                    tracing::error!(error = %e, "audit append failed; the reads waiting on it are refused");
                }
                for (_, ack) in jobs {
                    let _ = ack.send(outcome.clone());
                }
            }
        });
        Self { tx }
    }

    /// Record that `actor` read a section (of a case, or a list when `case_ref` is
    /// None), and wait until it is durable.
    pub async fn read(
        &self,
        actor: &Actor,
        case_ref: Option<&str>,
        section: Section,
        route: &str,
    ) -> Result<()> {
        self.record(vec![NewEntry::by(
            actor,
            case_ref,
            section,
            AuditAction::Read,
            route,
        )])
        .await
    }

    /// Record entries and wait until they are durable.
    pub async fn record(&self, entries: Vec<NewEntry>) -> Result<()> {
        self.submit(entries).await?.durable().await
    }

    /// Hand entries to the writer without waiting for them to be durable, so that the
    /// caller can do its reads meanwhile; it must then wait on [`Pending::durable`] before
    /// it answers. An entry submitted for a read that then fails is still written: the log
    /// may hold an attempt that returned nothing, never a read it does not show.
    pub async fn submit(&self, entries: Vec<NewEntry>) -> Result<Pending> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send((entries, ack))
            .await
            .map_err(|_| ServiceError::Unexpected(anyhow::anyhow!("audit writer stopped")))?;
        Ok(Pending(done))
    }
}

impl AuditSink {
    /// Hand entries to the writer and go on at once, never waiting, even for room in its
    /// queue: for refused attempts, recorded from inside use cases that may hold a write
    /// transaction the writer would wait for. Dropped (and logged) only if the queue is
    /// full.
    pub fn offer(&self, entries: Vec<NewEntry>) {
        let (ack, _) = oneshot::channel();
        if self.tx.try_send((entries, ack)).is_err() {
            tracing::warn!("audit queue full: a refused attempt was not recorded");
        }
    }
}

/// Entries handed to the [`AuditSink`], not yet known to be durable.
#[must_use = "a read may be answered only once its audit entry is durable"]
pub struct Pending(oneshot::Receiver<Result<(), String>>);

impl Pending {
    /// Wait until the entries are durable (or the append failed).
    pub async fn durable(self) -> Result<()> {
        match self.0.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ServiceError::Unexpected(anyhow::anyhow!(
                "audit append failed: {e}"
            ))),
            Err(_) => Err(ServiceError::Unexpected(anyhow::anyhow!(
                "audit writer stopped"
            ))),
        }
    }
}

async fn write_batch(db: &DatabaseConnection, entries: &[NewEntry]) -> Result<()> {
    let txn = begin_write(db).await?;
    append_in(&txn, entries).await?;
    txn.commit().await?;
    Ok(())
}

/// One row of a case's audit trail, as shown to those allowed to see it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TrailRow {
    pub seq: i64,
    pub at: chrono::DateTime<Utc>,
    pub user_id: Option<i64>,
    pub user: Option<String>,
    pub org_id: Option<i64>,
    pub org: Option<String>,
    pub section: Section,
    /// read, create, update, ..., or refused (an attempt the access rule turned down).
    pub action: AuditAction,
    /// The route pattern, e.g. "GET /api/v1/cases/{reference}".
    pub route: String,
}

super::page_of!(
    /// A page of a case's audit trail, newest first.
    TrailPage,
    TrailRow
);

/// The outcome of `passerelle audit verify`.
#[derive(Debug)]
pub enum Verified {
    Intact { entries: u64 },
    Broken(Broken),
}

/// Walk the whole chain in order, in pages, and report the first broken entry.
pub async fn verify_chain(db: &DatabaseConnection) -> Result<Verified> {
    let mut v = Verifier::default();
    let mut pages = audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Seq)
        .paginate(db, 1000);
    while let Some(rows) = pages.fetch_and_next().await? {
        for r in rows {
            let stored = Stored {
                entry: Entry {
                    seq: r.seq,
                    at: r.at,
                    user_id: r.user_id,
                    org_id: r.org_id,
                    case_ref: r.case_ref,
                    section: r.section,
                    action: r.action,
                    route: r.route,
                },
                prev_hash: r.prev_hash,
                hash: r.hash,
            };
            if let Err(b) = v.feed(&stored) {
                return Ok(Verified::Broken(b));
            }
        }
    }
    let head = audit_head::Entity::find_by_id(1)
        .first(db)
        .await?
        .ok_or_else(|| ServiceError::Unexpected(anyhow::anyhow!("audit head row missing")))?;
    match v.finish(head.seq, &head.hash) {
        Ok(()) => Ok(Verified::Intact { entries: v.checked }),
        Err(b) => Ok(Verified::Broken(b)),
    }
}
