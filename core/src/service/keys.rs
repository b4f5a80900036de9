//! The data keys and their rotation (issue 15, point 4); the rules are in [`crate::keys`],
//! the envelope in [`crate::crypto`].
//!
//! - [`Services::load_data_keys`] (start-up): on the first start, makes the legacy key
//!   (what sealed format 1), the deployment's key and one key per organisation; every start
//!   makes a key for an organisation that has none; then unwraps every key this master
//!   key wraps. A master key that unwraps none of them is refused (wrong key file).
//! - [`Services::reload_data_keys`] (every [`crate::keys::RELOAD_EVERY`]): the keys other
//!   nodes made, retired or destroyed.
//! - [`Services::rotate_master_key`], [`Services::retire_master_key`]: re-wrapping.
//! - [`Services::start_reencryption`], [`Services::reencrypt_step`]: the job.
//! - [`Services::verify_sealed_fields`]: opens every sealed field (`key verify`).

use super::audit::{NewEntry, append_in};
use super::{Result, ServiceError, Services};
use crate::crypto::{DataKeyInfo, KeyId, KeyRing, LEGACY_KEY, random_token, sealed_by};
use crate::domain::{AuditAction, Section};
use crate::erasure::{Key, Scope};
use crate::keys::{JobProgress, Owner, SealedTable, activation_delay, advance, sealed_tables};
use crate::store::begin_write;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, TransactionTrait, Value};
use std::collections::BTreeMap;

/// How long a worker's hold on the job lasts after its last batch (another worker takes
/// the job over after that: a worker that died leaves it for this long).
fn lease() -> chrono::Duration {
    chrono::Duration::seconds(30)
}

/// The audit entry of a key operation: no user (the command line or the job), no case.
fn key_entry(action: AuditAction, route: &str) -> NewEntry {
    NewEntry {
        user_id: None,
        org_id: None,
        case_ref: None,
        section: Section::Audit,
        action,
        route: route.to_owned(),
    }
}

/// What [`Services::load_data_keys`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyReport {
    pub master_id: String,
    /// Keys this master key unwrapped.
    pub loaded: usize,
    /// Keys in the database it does not unwrap (wrapped only under another master key).
    pub not_unwrapped: Vec<KeyId>,
    /// Keys made by this call.
    pub created: usize,
}

/// What [`Services::verify_sealed_fields`] opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Sealed fields opened, by the data key that sealed them.
    pub by_key: BTreeMap<KeyId, u64>,
    /// Fields that did not open: (table, column, how many).
    pub failures: Vec<(String, String, u64)>,
}

impl VerifyReport {
    pub fn fields(&self) -> u64 {
        self.by_key.values().sum()
    }
}

/// What one call of [`Services::reencrypt_step`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// No job is running.
    Idle,
    /// Another process holds the job's lease until then.
    Busy(DateTime<Utc>),
    /// The new keys start sealing at that time; the job starts then.
    Waiting(DateTime<Utc>),
    /// A batch was committed (or the job ended with it).
    Progress(JobProgress),
}

fn bad(msg: impl Into<String>) -> ServiceError {
    ServiceError::Unexpected(anyhow::anyhow!(msg.into()))
}

/// A placeholder for the n-th (1-based) parameter.
fn ph(b: DbBackend, n: usize) -> String {
    match b {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

fn stmt(b: DbBackend, sql: String, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(b, sql, values)
}

/// A data key's row: id, organisation, active from, retired.
fn key_info(r: &QueryResult) -> Result<DataKeyInfo> {
    let id: i64 = r.try_get("", "id")?;
    Ok(DataKeyInfo {
        id: KeyId::try_from(id).map_err(|_| bad(format!("data key id {id} out of range")))?,
        org: r.try_get("", "organisation_id")?,
        active_from: r.try_get("", "active_from")?,
        retired: r
            .try_get::<Option<DateTime<Utc>>>("", "retired_at")?
            .is_some(),
    })
}

/// The organisation of a sealed row, as SQL over the row `t`.
fn owner_sql(o: Owner) -> &'static str {
    match o {
        Owner::Case(Scope::Person) => {
            "(SELECT MIN(c.owner_org_id) FROM cases c WHERE c.person_id = t.id)"
        }
        Owner::Case(Scope::Case) => "t.owner_org_id",
        Owner::Case(Scope::CaseId) => "(SELECT c.owner_org_id FROM cases c WHERE c.id = t.case_id)",
        Owner::Case(Scope::Return) => {
            "(SELECT c.owner_org_id FROM cases c JOIN returns r ON r.case_id = c.id WHERE r.id = t.return_id)"
        }
        Owner::Column("org_id") => "t.org_id",
        Owner::Column(_) => "NULL",
        Owner::Fund => "(SELECT f.holder_org_id FROM funds f WHERE f.id = t.fund_id)",
    }
}

fn key_column(k: Key) -> &'static str {
    match k {
        Key::Text(c) | Key::Int(c) => c,
    }
}

/// One batch of a sealed table's rows after `cursor`, in key order.
fn batch_sql(
    b: DbBackend,
    t: &SealedTable,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Statement> {
    let key = key_column(t.key);
    let cols: Vec<String> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("t.\"{c}_enc\" AS c{i}"))
        .collect();
    let mut sql = format!(
        "SELECT t.\"{key}\" AS k, {} AS o, {} FROM \"{}\" t",
        owner_sql(t.owner),
        cols.join(", "),
        t.table
    );
    let mut values = Vec::new();
    if let Some(c) = cursor {
        sql.push_str(&format!(" WHERE t.\"{key}\" > {}", ph(b, 1)));
        values.push(key_value(t.key, c)?);
    }
    sql.push_str(&format!(" ORDER BY t.\"{key}\" LIMIT {limit}"));
    Ok(stmt(b, sql, values))
}

fn key_value(k: Key, v: &str) -> Result<Value> {
    Ok(match k {
        Key::Text(_) => Value::from(v.to_owned()),
        Key::Int(_) => Value::from(
            v.parse::<i64>()
                .map_err(|_| bad(format!("the job's cursor {v:?} is not a number")))?,
        ),
    })
}

fn row_key(k: Key, r: &QueryResult) -> Result<String> {
    Ok(match k {
        Key::Text(_) => r.try_get::<String>("", "k")?,
        Key::Int(_) => r.try_get::<i64>("", "k")?.to_string(),
    })
}

fn job_of(r: &QueryResult) -> Result<JobProgress> {
    Ok(JobProgress {
        id: r.try_get("", "id")?,
        state: r.try_get("", "state")?,
        pass: r.try_get("", "pass")?,
        table_index: r.try_get("", "table_index")?,
        cursor: r.try_get("", "cursor")?,
        done: r.try_get("", "done")?,
        total: r.try_get("", "total")?,
        resealed: r.try_get("", "resealed")?,
        created_at: r.try_get("", "created_at")?,
        finished_at: r.try_get("", "finished_at")?,
    })
}

const JOB_COLUMNS: &str = "id, state, pass, table_index, cursor, done, total, resealed, created_at, finished_at, lease_owner, lease_until";

async fn count_rows<C: ConnectionTrait>(c: &C) -> Result<i64> {
    let b = c.get_database_backend();
    let mut n = 0i64;
    for t in sealed_tables() {
        let r = c
            .query_one_raw(stmt(
                b,
                format!("SELECT COUNT(*) AS n FROM \"{}\"", t.table),
                vec![],
            ))
            .await?;
        n += r
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
    }
    Ok(n)
}

async fn next_key_id<C: ConnectionTrait>(c: &C) -> Result<i64> {
    let b = c.get_database_backend();
    let r = c
        .query_one_raw(stmt(b, "SELECT MAX(id) AS m FROM data_keys".into(), vec![]))
        .await?;
    let m: Option<i64> = r.map(|r| r.try_get("", "m")).transpose()?.flatten();
    Ok(m.map_or(1, |m| m + 1).max(1))
}

/// Make a data key for `org` (None: the deployment's), wrapped under `ring`.
async fn create_key<C: ConnectionTrait>(
    c: &C,
    ring: &KeyRing,
    id: i64,
    org: Option<i64>,
    active_from: DateTime<Utc>,
    retired: bool,
    key: &secrecy::SecretBox<[u8; 32]>,
) -> Result<()> {
    let b = c.get_database_backend();
    let kid = KeyId::try_from(id).map_err(|_| bad(format!("data key id {id} out of range")))?;
    let wrapped = ring.wrap(kid, org, key)?;
    let now = Utc::now();
    c.execute_raw(stmt(
        b,
        format!(
            "INSERT INTO data_keys (id, organisation_id, created_at, active_from, retired_at) VALUES ({}, {}, {}, {}, {})",
            ph(b, 1),
            ph(b, 2),
            ph(b, 3),
            ph(b, 4),
            ph(b, 5)
        ),
        vec![
            id.into(),
            org.into(),
            now.into(),
            active_from.into(),
            (if retired { Some(now) } else { None }).into(),
        ],
    ))
    .await?;
    insert_wrap(c, id, ring.master_id(), wrapped).await
}

async fn insert_wrap<C: ConnectionTrait>(
    c: &C,
    id: i64,
    master: &str,
    wrapped: Vec<u8>,
) -> Result<()> {
    let b = c.get_database_backend();
    c.execute_raw(stmt(
        b,
        format!(
            "INSERT INTO data_key_wraps (key_id, master_id, wrapped, created_at) VALUES ({}, {}, {}, {})",
            ph(b, 1),
            ph(b, 2),
            ph(b, 3),
            ph(b, 4)
        ),
        vec![id.into(), master.to_owned().into(), wrapped.into(), Utc::now().into()],
    ))
    .await?;
    Ok(())
}

/// Every data key, with its wrapping under `master` when there is one.
async fn keys_with_wraps<C: ConnectionTrait>(
    c: &C,
    master: &str,
) -> Result<Vec<(DataKeyInfo, Option<Vec<u8>>)>> {
    let b = c.get_database_backend();
    let rows = c
        .query_all_raw(stmt(
            b,
            format!(
                "SELECT k.id, k.organisation_id, k.active_from, k.retired_at, w.wrapped FROM data_keys k LEFT JOIN data_key_wraps w ON w.key_id = k.id AND w.master_id = {} ORDER BY k.id",
                ph(b, 1)
            ),
            vec![master.to_owned().into()],
        ))
        .await?;
    rows.iter()
        .map(|r| Ok((key_info(r)?, r.try_get::<Option<Vec<u8>>>("", "wrapped")?)))
        .collect()
}

async fn organisations<C: ConnectionTrait>(c: &C) -> Result<Vec<i64>> {
    let b = c.get_database_backend();
    let rows = c
        .query_all_raw(stmt(
            b,
            "SELECT id FROM organisations ORDER BY id".into(),
            vec![],
        ))
        .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<i64>("", "id")?))
        .collect()
}

/// A new organisation's data key, in the transaction that creates the organisation. It
/// seals once every node has loaded it; until then the deployment's key seals for it.
/// Nothing to do before the first start has made the keys (start-up makes them all).
pub(crate) async fn create_org_key_in<C: ConnectionTrait>(
    c: &C,
    ring: &KeyRing,
    org: i64,
) -> Result<()> {
    let existing = keys_with_wraps(c, ring.master_id()).await?;
    if !existing.is_empty() && !existing.iter().any(|(k, _)| k.org == Some(org)) {
        let id = next_key_id(c).await?;
        let at = Utc::now() + activation_delay();
        create_key(c, ring, id, Some(org), at, false, &KeyRing::new_data_key()?).await?;
    }
    Ok(())
}

impl Services {
    /// Start-up: make the keys that are missing, then unwrap every key this master key
    /// wraps. Refuses a master key that unwraps none of the keys there are.
    pub async fn load_data_keys(&self) -> Result<KeyReport> {
        // Most starts have nothing to make: find out without taking the write lock (the
        // commands that only read, such as `key status`, then never wait for it).
        let known = keys_with_wraps(&self.db, self.keys.master_id()).await?;
        let orgs = organisations(&self.db).await?;
        if !known.is_empty()
            && orgs
                .iter()
                .all(|o| known.iter().any(|(k, _)| k.org == Some(*o)))
        {
            return self.reload_data_keys().await;
        }
        let mut created = 0;
        let txn = begin_write(&self.db).await?;
        let existing = keys_with_wraps(&txn, self.keys.master_id()).await?;
        let now = Utc::now();
        if existing.is_empty() {
            // First start with data keys: what format 1 sealed opens through key 0; every
            // organisation and the deployment get a key that seals at once (no other node
            // has keys to be behind on).
            create_key(
                &txn,
                &self.keys,
                0,
                None,
                now,
                true,
                &self.keys.legacy_data_key(),
            )
            .await?;
            create_key(
                &txn,
                &self.keys,
                1,
                None,
                now,
                false,
                &KeyRing::new_data_key()?,
            )
            .await?;
            created += 2;
            for org in organisations(&txn).await? {
                let id = next_key_id(&txn).await?;
                create_key(
                    &txn,
                    &self.keys,
                    id,
                    Some(org),
                    now,
                    false,
                    &KeyRing::new_data_key()?,
                )
                .await?;
                created += 1;
            }
        } else {
            created += self.create_missing_org_keys(&txn, &existing).await?;
        }
        txn.commit().await?;
        let report = self.reload_data_keys().await?;
        Ok(KeyReport { created, ..report })
    }

    async fn create_missing_org_keys<C: ConnectionTrait>(
        &self,
        c: &C,
        existing: &[(DataKeyInfo, Option<Vec<u8>>)],
    ) -> Result<usize> {
        let mut created = 0;
        let at = Utc::now() + activation_delay();
        for org in organisations(c).await? {
            if !existing.iter().any(|(k, _)| k.org == Some(org)) {
                let id = next_key_id(c).await?;
                create_key(
                    c,
                    &self.keys,
                    id,
                    Some(org),
                    at,
                    false,
                    &KeyRing::new_data_key()?,
                )
                .await?;
                created += 1;
            }
        }
        Ok(created)
    }

    /// Load what the database holds now: new keys, retirements, destroyed keys.
    pub async fn reload_data_keys(&self) -> Result<KeyReport> {
        let all = keys_with_wraps(&self.db, self.keys.master_id()).await?;
        let mut loaded = 0;
        let mut not_unwrapped = Vec::new();
        for (info, wrapped) in &all {
            match wrapped {
                Some(w) => {
                    let key = self.keys.unwrap_key(info.id, info.org, w)?;
                    self.keys.install(info.clone(), key);
                    loaded += 1;
                }
                None => not_unwrapped.push(info.id),
            }
        }
        let ids: Vec<KeyId> = all.iter().map(|(k, _)| k.id).collect();
        self.keys.retain_keys(&ids);
        if !all.is_empty() && loaded == 0 {
            return Err(bad(format!(
                "the master key {} unwraps none of the {} data keys in this database: it is not this database's key, or it was retired (`passerelle key retire`)",
                self.keys.master_id(),
                all.len()
            )));
        }
        Ok(KeyReport {
            master_id: self.keys.master_id().to_owned(),
            loaded,
            not_unwrapped,
            created: 0,
        })
    }

    /// Wrap every data key under `new` too (this node's master key stays valid until
    /// retired). Returns how many wrappings were added; running it again adds the ones
    /// still missing (a key made meanwhile), and nothing else.
    pub async fn rotate_master_key(&self, new: &KeyRing) -> Result<usize> {
        if !self.keys.same_index_key(new) {
            return Err(bad(
                "the new master key must keep the blind index half of the current one (let `passerelle key rotate` write it)",
            ));
        }
        if new.master_id() == self.keys.master_id() {
            return Err(bad("the new master key is the current one"));
        }
        let txn = begin_write(&self.db).await?;
        let mine = keys_with_wraps(&txn, self.keys.master_id()).await?;
        let theirs = keys_with_wraps(&txn, new.master_id()).await?;
        let mut added = 0;
        for ((info, wrapped), (_, already)) in mine.iter().zip(theirs.iter()) {
            if already.is_some() {
                continue;
            }
            let Some(w) = wrapped else {
                return Err(bad(format!(
                    "the data key {} is not wrapped under this node's master key {}: run the rotation where it is",
                    info.id,
                    self.keys.master_id()
                )));
            };
            let key = self.keys.unwrap_key(info.id, info.org, w)?;
            insert_wrap(
                &txn,
                i64::from(info.id),
                new.master_id(),
                new.wrap(info.id, info.org, &key)?,
            )
            .await?;
            added += 1;
        }
        append_in(&txn, &[key_entry(AuditAction::KeyRotate, "cli:key rotate")]).await?;
        txn.commit().await?;
        Ok(added)
    }

    /// Drop every wrapping under the master key `master_id` (no longer needed once every
    /// node runs on its successor). Refuses while a key would be left with no wrapping, and
    /// refuses this node's own master key.
    pub async fn retire_master_key(&self, master_id: &str) -> Result<u64> {
        if master_id == self.keys.master_id() {
            return Err(bad(
                "this is the master key this command runs with: run it with the new key file",
            ));
        }
        let txn = begin_write(&self.db).await?;
        let b = txn.get_database_backend();
        let orphans = txn
            .query_all_raw(stmt(
                b,
                format!(
                    "SELECT k.id FROM data_keys k WHERE NOT EXISTS (SELECT 1 FROM data_key_wraps w WHERE w.key_id = k.id AND w.master_id <> {})",
                    ph(b, 1)
                ),
                vec![master_id.to_owned().into()],
            ))
            .await?;
        if !orphans.is_empty() {
            let ids: Vec<String> = orphans
                .iter()
                .map(|r| r.try_get::<i64>("", "id").map(|i| i.to_string()))
                .collect::<std::result::Result<_, _>>()?;
            return Err(bad(format!(
                "the data keys {} are wrapped only under {master_id}: run `passerelle key rotate` with the new key first",
                ids.join(", ")
            )));
        }
        let r = txn
            .execute_raw(stmt(
                b,
                format!("DELETE FROM data_key_wraps WHERE master_id = {}", ph(b, 1)),
                vec![master_id.to_owned().into()],
            ))
            .await?;
        append_in(&txn, &[key_entry(AuditAction::KeyRetire, "cli:key retire")]).await?;
        txn.commit().await?;
        Ok(r.rows_affected())
    }

    /// The latest re-encryption job, if there was one.
    pub async fn key_job(&self) -> Result<Option<JobProgress>> {
        let b = self.db.get_database_backend();
        let r = self
            .db
            .query_one_raw(stmt(
                b,
                format!("SELECT {JOB_COLUMNS} FROM key_jobs ORDER BY created_at DESC LIMIT 1"),
                vec![],
            ))
            .await?;
        r.as_ref().map(job_of).transpose()
    }

    /// After a master key was compromised (and replaced): a new data key for every
    /// organisation and the deployment, wrapped under this master key only; every other
    /// key retired; and the job that re-seals every field. A job already running is
    /// returned as it is (the command resumes it).
    ///
    /// `worker` (the command that runs the job in the foreground) holds the job's lease
    /// from the start, so that no server takes it over while it waits for the keys.
    /// Refused while a master key other than this node's still wraps keys: every node must
    /// run on the new master key (and the old one be retired) before, or the nodes left on
    /// the old one could not open what the new data keys seal.
    pub async fn start_reencryption(&self, worker: Option<&str>) -> Result<JobProgress> {
        if let Some(j) = self.key_job().await?
            && j.state == "running"
        {
            return Ok(j);
        }
        let txn = begin_write(&self.db).await?;
        let b = txn.get_database_backend();
        let others = txn
            .query_all_raw(stmt(
                b,
                format!(
                    "SELECT DISTINCT master_id FROM data_key_wraps WHERE master_id <> {}",
                    ph(b, 1)
                ),
                vec![self.keys.master_id().to_owned().into()],
            ))
            .await?;
        if !others.is_empty() {
            let ids: Vec<String> = others
                .iter()
                .map(|r| r.try_get::<String>("", "master_id"))
                .collect::<std::result::Result<_, _>>()?;
            return Err(ServiceError::Conflict(format!(
                "the master key {} still wraps data keys: once every node runs on this one ({}), retire it with `passerelle key retire {}`, then re-encrypt",
                ids.join(", "),
                self.keys.master_id(),
                ids.join(" ")
            )));
        }
        let now = Utc::now();
        let at = now + activation_delay();
        txn.execute_raw(stmt(
            b,
            format!(
                "UPDATE data_keys SET retired_at = {} WHERE retired_at IS NULL",
                ph(b, 1)
            ),
            vec![now.into()],
        ))
        .await?;
        let mut owners: Vec<Option<i64>> = vec![None];
        owners.extend(organisations(&txn).await?.into_iter().map(Some));
        for org in owners {
            let id = next_key_id(&txn).await?;
            create_key(
                &txn,
                &self.keys,
                id,
                org,
                at,
                false,
                &KeyRing::new_data_key()?,
            )
            .await?;
        }
        let total = count_rows(&txn).await?;
        let id = random_token(16)?;
        txn.execute_raw(stmt(
            b,
            format!(
                "INSERT INTO key_jobs (id, state, pass, table_index, cursor, done, total, resealed, created_at, lease_owner, lease_until) VALUES ({}, 'running', 1, 0, NULL, 0, {}, 0, {}, {}, {})",
                ph(b, 1),
                ph(b, 2),
                ph(b, 3),
                ph(b, 4),
                ph(b, 5)
            ),
            vec![
                id.into(),
                total.into(),
                now.into(),
                worker.map(str::to_owned).into(),
                worker.map(|_| at + lease()).into(),
            ],
        ))
        .await?;
        append_in(
            &txn,
            &[key_entry(
                AuditAction::KeyReencryptStart,
                "cli:key reencrypt",
            )],
        )
        .await?;
        txn.commit().await?;
        self.reload_data_keys().await?;
        self.key_job()
            .await?
            .ok_or_else(|| bad("the re-encryption job was not recorded"))
    }

    /// One batch of the running job, under a lease held by `worker` (another worker's live
    /// lease: [`Step::Busy`]). The batch's re-sealed fields and the job's new cursor are
    /// committed together, so a job killed at any point resumes after its last batch.
    pub async fn reencrypt_step(&self, worker: &str, batch: usize) -> Result<Step> {
        let tables = sealed_tables();
        // This node must know the keys the job seals with.
        self.reload_data_keys().await?;
        let txn = begin_write(&self.db).await?;
        let b = txn.get_database_backend();
        let Some(row) = txn
            .query_one_raw(stmt(
                b,
                format!(
                    "SELECT {JOB_COLUMNS} FROM key_jobs WHERE state = 'running' ORDER BY created_at LIMIT 1"
                ),
                vec![],
            ))
            .await?
        else {
            return Ok(Step::Idle);
        };
        let mut job = job_of(&row)?;
        let now = Utc::now();
        let lease_owner: Option<String> = row.try_get("", "lease_owner")?;
        let lease_until: Option<DateTime<Utc>> = row.try_get("", "lease_until")?;
        if let (Some(o), Some(u)) = (&lease_owner, lease_until)
            && o != worker
            && u > now
        {
            return Ok(Step::Busy(u));
        }
        // Until the new keys seal on every node, a node may still seal with a retired key.
        let pending = txn
            .query_one_raw(stmt(
                b,
                "SELECT MAX(active_from) AS a FROM data_keys WHERE retired_at IS NULL".into(),
                vec![],
            ))
            .await?;
        if let Some(a) = pending
            .map(|r| r.try_get::<Option<DateTime<Utc>>>("", "a"))
            .transpose()?
            .flatten()
            && a > now
        {
            return Ok(Step::Waiting(a));
        }
        let index = usize::try_from(job.table_index)
            .unwrap_or(0)
            .min(tables.len() - 1);
        let t = &tables[index];
        let rows = txn
            .query_all_raw(batch_sql(b, t, job.cursor.as_deref(), batch)?)
            .await?;
        let mut last = None;
        for r in &rows {
            let k = row_key(t.key, r)?;
            let owner: Option<i64> = r.try_get("", "o")?;
            for (i, c) in t.columns.iter().enumerate() {
                let Some(blob) = r.try_get::<Option<Vec<u8>>>("", &format!("c{i}"))? else {
                    continue;
                };
                if !self.keys.needs_reseal(&blob) {
                    continue;
                }
                let at = super::at(t.table, c, &k);
                let plain = self.keys.decrypt(at, &blob)?;
                let org = self.keys.org_of(&blob).or(owner);
                let sealed = self.keys.encrypt_for(org, at, &plain)?;
                // Compare-and-set: a field written meanwhile was sealed with a current key.
                txn.execute_raw(stmt(
                    b,
                    format!(
                        "UPDATE \"{}\" SET \"{c}_enc\" = {} WHERE \"{}\" = {} AND \"{c}_enc\" = {}",
                        t.table,
                        ph(b, 1),
                        key_column(t.key),
                        ph(b, 2),
                        ph(b, 3)
                    ),
                    vec![sealed.into(), key_value(t.key, &k)?, blob.into()],
                ))
                .await?;
                job.resealed += 1;
            }
            last = Some(k);
        }
        job.done += rows.len() as i64;
        match advance(tables.len(), index, last, rows.len() == batch) {
            Some((i, cursor)) => {
                job.table_index = i as i32;
                job.cursor = cursor;
            }
            None if job.resealed == 0 => {
                // A whole pass found nothing to re-seal: the retired keys seal nothing
                // any more. Destroy them.
                txn.execute_raw(stmt(
                    b,
                    "DELETE FROM data_key_wraps WHERE key_id IN (SELECT id FROM data_keys WHERE retired_at IS NOT NULL)".into(),
                    vec![],
                ))
                .await?;
                txn.execute_raw(stmt(
                    b,
                    "DELETE FROM data_keys WHERE retired_at IS NOT NULL".into(),
                    vec![],
                ))
                .await?;
                job.state = "done".into();
                job.finished_at = Some(now);
                append_in(
                    &txn,
                    &[key_entry(
                        AuditAction::KeyReencryptDone,
                        "job:key reencrypt",
                    )],
                )
                .await?;
            }
            None => {
                // Check again from the start: a field sealed with a retired key while
                // this pass ran (before every node had the new keys) is caught there.
                job.pass += 1;
                job.table_index = 0;
                job.cursor = None;
                job.done = 0;
                job.total = count_rows(&txn).await?;
                job.resealed = 0;
            }
        }
        txn.execute_raw(stmt(
            b,
            format!(
                "UPDATE key_jobs SET state = {}, pass = {}, table_index = {}, cursor = {}, done = {}, total = {}, resealed = {}, finished_at = {}, lease_owner = {}, lease_until = {} WHERE id = {}",
                ph(b, 1),
                ph(b, 2),
                ph(b, 3),
                ph(b, 4),
                ph(b, 5),
                ph(b, 6),
                ph(b, 7),
                ph(b, 8),
                ph(b, 9),
                ph(b, 10),
                ph(b, 11)
            ),
            vec![
                job.state.clone().into(),
                job.pass.into(),
                job.table_index.into(),
                job.cursor.clone().into(),
                job.done.into(),
                job.total.into(),
                job.resealed.into(),
                job.finished_at.into(),
                worker.to_owned().into(),
                (now + lease()).into(),
                job.id.clone().into(),
            ],
        ))
        .await?;
        txn.commit().await?;
        if job.state == "done" {
            self.reload_data_keys().await?;
        }
        Ok(Step::Progress(job))
    }

    /// Open every sealed field in the database (read only, in batches).
    pub async fn verify_sealed_fields(&self) -> Result<VerifyReport> {
        let mut report = VerifyReport::default();
        let txn = self.db.begin().await?;
        let b = txn.get_database_backend();
        for t in sealed_tables() {
            let mut cursor: Option<String> = None;
            let mut failed: BTreeMap<&str, u64> = BTreeMap::new();
            loop {
                let rows = txn
                    .query_all_raw(batch_sql(b, &t, cursor.as_deref(), 1000)?)
                    .await?;
                for r in &rows {
                    let k = row_key(t.key, r)?;
                    for (i, c) in t.columns.iter().enumerate() {
                        let Some(blob) = r.try_get::<Option<Vec<u8>>>("", &format!("c{i}"))? else {
                            continue;
                        };
                        match self.keys.decrypt(super::at(t.table, c, &k), &blob) {
                            Ok(_) => {
                                *report
                                    .by_key
                                    .entry(sealed_by(&blob).unwrap_or(LEGACY_KEY))
                                    .or_default() += 1
                            }
                            Err(_) => *failed.entry(c).or_default() += 1,
                        }
                    }
                    cursor = Some(k);
                }
                if rows.len() < 1000 {
                    break;
                }
            }
            for (c, n) in failed {
                report.failures.push((t.table.to_owned(), c.to_owned(), n));
            }
        }
        txn.commit().await?;
        Ok(report)
    }
}
