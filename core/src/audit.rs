//! The audit log's hash chain: pure functions. Storage is in `store`, appending in `service::audit`.
//!
//! Each entry's hash is SHA-256 over the previous entry's hash and the entry's own fields,
//! in a fixed, unambiguous encoding. Altering, removing or reordering an entry breaks the
//! chain at that entry.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

/// The hash that precedes the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry. Never holds personal data: only who, which organisation, which case
/// (by its pseudonymous reference), which section, what, when and through which route.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub org_id: Option<i64>,
    pub case_ref: Option<String>,
    pub section: String,
    pub action: String,
    pub route: String,
}

fn push_field(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_be_bytes());
    h.update(s.as_bytes());
}

/// The hash of `entry` chained after `prev_hash`.
pub fn chain_hash(prev_hash: &str, e: &Entry) -> String {
    let mut h = Sha256::new();
    push_field(&mut h, prev_hash);
    push_field(&mut h, &e.seq.to_string());
    push_field(&mut h, &e.at.to_rfc3339_opts(SecondsFormat::Micros, true));
    push_field(
        &mut h,
        &e.user_id.map(|v| v.to_string()).unwrap_or_default(),
    );
    push_field(&mut h, &e.org_id.map(|v| v.to_string()).unwrap_or_default());
    push_field(&mut h, e.case_ref.as_deref().unwrap_or(""));
    push_field(&mut h, &e.section);
    push_field(&mut h, &e.action);
    push_field(&mut h, &e.route);
    hex::encode(h.finalize())
}

/// A stored entry with its links.
#[derive(Debug, Clone)]
pub struct Stored {
    pub entry: Entry,
    pub prev_hash: String,
    pub hash: String,
}

/// Why the chain is broken, naming the first bad entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    #[error("audit entry {seq}: its contents do not match its hash (altered)")]
    Altered { seq: i64 },
    #[error(
        "audit entry {seq}: it does not link to the entry before it (removed or reordered entries)"
    )]
    Unlinked { seq: i64 },
    #[error("audit entry {seq}: expected sequence number {expected} (entries missing)")]
    Gap { seq: i64, expected: i64 },
}

/// Incremental verifier: feed entries in sequence order.
pub struct Verifier {
    prev_hash: String,
    next_seq: i64,
    pub checked: u64,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            prev_hash: GENESIS.to_owned(),
            next_seq: 1,
            checked: 0,
        }
    }
}

impl Verifier {
    pub fn feed(&mut self, s: &Stored) -> Result<(), Broken> {
        let seq = s.entry.seq;
        if seq != self.next_seq {
            return Err(Broken::Gap {
                seq,
                expected: self.next_seq,
            });
        }
        if s.prev_hash != self.prev_hash {
            return Err(Broken::Unlinked { seq });
        }
        if chain_hash(&s.prev_hash, &s.entry) != s.hash {
            return Err(Broken::Altered { seq });
        }
        self.prev_hash.clone_from(&s.hash);
        self.next_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// Check the stored head (last sequence and hash) against what was verified:
    /// catches entries cut off the end.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<(), Broken> {
        if head_seq != self.next_seq - 1 {
            return Err(Broken::Gap {
                seq: head_seq,
                expected: self.next_seq - 1,
            });
        }
        if head_hash != self.prev_hash {
            return Err(Broken::Unlinked { seq: head_seq });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Stored> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let entry = Entry {
                    seq,
                    at: DateTime::from_timestamp(1_800_000_000 + seq, 0).unwrap_or_default(),
                    user_id: Some(7),
                    org_id: Some(1),
                    case_ref: Some(format!("PSG-2026-{seq:04}")),
                    section: "person".into(),
                    action: "read".into(),
                    route: "GET /cases/{reference}".into(),
                };
                let hash = chain_hash(&prev, &entry);
                let s = Stored {
                    entry,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                s
            })
            .collect()
    }

    fn verify(c: &[Stored]) -> Result<(), Broken> {
        let mut v = Verifier::default();
        for s in c {
            v.feed(s)?;
        }
        let last = c
            .last()
            .map(|s| (s.entry.seq, s.hash.clone()))
            .unwrap_or((0, GENESIS.into()));
        v.finish(last.0, &last.1)
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(()));
    }

    #[test]
    fn altered_entry_is_named() {
        let mut c = chain(5);
        c[2].entry.action = "update".into();
        assert_eq!(verify(&c), Err(Broken::Altered { seq: 3 }));
    }

    #[test]
    fn removed_entry_is_named() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(
            verify(&c),
            Err(Broken::Gap {
                seq: 3,
                expected: 2
            })
        );
    }

    #[test]
    fn rehashed_entry_breaks_the_next_link() {
        let mut c = chain(5);
        c[1].entry.user_id = Some(99);
        c[1].hash = chain_hash(&c[1].prev_hash, &c[1].entry);
        assert_eq!(verify(&c), Err(Broken::Unlinked { seq: 3 }));
    }

    #[test]
    fn truncated_tail_is_caught_by_head() {
        let c = chain(5);
        let mut v = Verifier::default();
        for s in &c[..3] {
            v.feed(s).unwrap();
        }
        assert!(v.finish(5, &c[4].hash).is_err());
    }
}
