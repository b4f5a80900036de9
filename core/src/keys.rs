//! Key rotation's rules (issue 15, point 4): which tables hold sealed fields and how each
//! row finds its organisation, when a new data key may start sealing, and the
//! re-encryption job's progress. The envelope itself is in [`crate::crypto`]; the use cases
//! (load, rotate, retire, re-encrypt) in [`crate::service::keys`].
//!
//! A rotation never stops the service:
//! - `key rotate` wraps every data key under a new master key *beside* its wrapping under
//!   the old one: nodes still on the old key file keep working, nodes restarted on the new
//!   one work too; `key retire` then drops the old master key's wrappings.
//! - `key reencrypt` (after a master key was compromised) makes a new data key for every
//!   organisation, active [`ACTIVATION_DELAY`] later (every node has loaded it by then: they
//!   reload every [`RELOAD_EVERY`]), retires the old ones, and starts the job: it walks every
//!   sealed column in batches, re-seals what a retired key sealed under the newest key of
//!   the same organisation, and keeps its cursor in the same transaction as each batch (a
//!   job killed half-way resumes where its last batch ended). A pass that re-sealed nothing
//!   ends the job and destroys the retired keys.

use crate::erasure::{Key, Scope, TARGETS};
use chrono::{DateTime, Duration, Utc};

/// How often a node reloads the data keys from the database.
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// How long after its creation a new data key starts sealing: three reloads, so that every
/// node can open what it seals before any node seals with it.
pub fn activation_delay() -> Duration {
    Duration::seconds(30)
}

/// The same, for the help texts.
pub const ACTIVATION_DELAY: &str = "30 seconds";

/// How a sealed row finds the organisation whose data key should seal it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Through its case, as the erasure finds the row ([`Scope`]).
    Case(Scope),
    /// A column of the row holds the organisation's id.
    Column(&'static str),
    /// A fund entry: its fund's holder.
    Fund,
}

/// A table with sealed columns: the column bound into each ciphertext as its row, the
/// sealed fields (stored as `<name>_enc`), and how a row finds its organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedTable {
    pub table: &'static str,
    pub key: Key,
    pub columns: Vec<&'static str>,
    pub owner: Owner,
}

/// Every table with sealed fields: the case's tables (the erasure's list, so that the two
/// cannot drift apart), the users' second factors, the notifications' one-time secrets
/// and the fund entries' movements.
pub fn sealed_tables() -> Vec<SealedTable> {
    let mut v: Vec<SealedTable> = TARGETS
        .iter()
        .map(|t| SealedTable {
            table: t.table,
            key: t.key,
            columns: t
                .cleared
                .iter()
                .copied()
                .chain(t.overwritten.iter().map(|(c, _)| *c))
                .collect(),
            owner: Owner::Case(t.scope),
        })
        .collect();
    v.push(SealedTable {
        table: "users",
        key: Key::Int("id"),
        columns: vec!["totp_secret", "totp_pending"],
        owner: Owner::Column("org_id"),
    });
    v.push(SealedTable {
        table: "notifications",
        key: Key::Text("id"),
        columns: vec!["secret"],
        owner: Owner::Column("org_id"),
    });
    v.push(SealedTable {
        table: "fund_entries",
        key: Key::Text("uid"),
        columns: vec!["movement"],
        owner: Owner::Fund,
    });
    v
}

/// Where the re-encryption job stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobProgress {
    pub id: String,
    /// running, or done.
    pub state: String,
    /// 1 for the first walk over every table; a later pass checks that nothing was left.
    pub pass: i32,
    /// Which of [`sealed_tables`] the cursor is in.
    pub table_index: i32,
    /// The last row key of the last batch committed, in that table.
    pub cursor: Option<String>,
    /// Rows looked at in this pass, and the rows there were when the pass began.
    pub done: i64,
    pub total: i64,
    /// Fields re-sealed so far (all passes).
    pub resealed: i64,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl JobProgress {
    /// Percent of this pass done (100 when there is nothing to do).
    pub fn percent(&self) -> u8 {
        if self.total <= 0 {
            return 100;
        }
        ((self.done.min(self.total) * 100) / self.total) as u8
    }
}

/// The next cursor after a batch: the same table further on while the batch was full,
/// else the next table from its start. None: the pass is over.
pub fn advance(
    tables: usize,
    table_index: usize,
    last_key: Option<String>,
    batch_full: bool,
) -> Option<(usize, Option<String>)> {
    match (batch_full, last_key) {
        (true, Some(k)) => Some((table_index, Some(k))),
        _ if table_index + 1 < tables => Some((table_index + 1, None)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sealed_table_is_listed_once_with_its_columns() {
        let t = sealed_tables();
        let mut names: Vec<_> = t.iter().map(|s| s.table).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "a table is listed twice");
        let persons = t.iter().find(|s| s.table == "persons").unwrap();
        assert!(persons.columns.contains(&"name"));
        assert!(persons.columns.contains(&"birth_date"));
        let users = t.iter().find(|s| s.table == "users").unwrap();
        assert_eq!(users.owner, Owner::Column("org_id"));
        assert!(t.iter().all(|s| !s.columns.is_empty()));
    }

    #[test]
    fn the_cursor_walks_each_table_then_the_next_and_ends() {
        assert_eq!(
            advance(3, 0, Some("k".into()), true),
            Some((0, Some("k".into())))
        );
        assert_eq!(advance(3, 0, Some("k".into()), false), Some((1, None)));
        assert_eq!(advance(3, 1, None, false), Some((2, None)));
        assert_eq!(advance(3, 2, Some("z".into()), false), None);
        assert_eq!(advance(3, 2, None, true), None);
    }

    #[test]
    fn progress_is_a_bounded_percentage() {
        let mut p = JobProgress {
            id: "j".into(),
            state: "running".into(),
            pass: 1,
            table_index: 0,
            cursor: None,
            done: 0,
            total: 0,
            resealed: 0,
            created_at: Utc::now(),
            finished_at: None,
        };
        assert_eq!(p.percent(), 100);
        p.total = 200;
        p.done = 50;
        assert_eq!(p.percent(), 25);
        p.done = 300;
        assert_eq!(p.percent(), 100);
    }
}
