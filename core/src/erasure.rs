//! Erasure of a person's data (GDPR art. 17) and the retention period after closing
//! (issue 15, point 3): pure rules, no I/O. The use case is `service::erasure`.
//!
//! **Who and why.** Only an administrator of the organisation that owns the case erases
//! ([`may_erase`]), giving why ([`ErasureReason`]): the person asked (`person_request`,
//! at any time), or the case was closed more than the configured `[retention]
//! erase_after_days` ago (`retention_expired`, checked by [`check_erasure`]). Nothing is
//! erased by itself: the administrator sees the cases past their retention and decides.
//!
//! **What is destroyed.** The fields are overwritten in place, in the erasure's
//! transaction (the keys stay: every other person's fields are encrypted with them):
//! every encrypted column of the person and of the case's records listed in [`TARGETS`]
//! is set to NULL, or, where the column may not be NULL, to a fresh encryption of an empty
//! value ([`Fill`]), so that every reader still decrypts what it finds and shows nothing.
//! The blind index of the name is emptied (an empty value matches no search), and the
//! person's flags (minor, stateless) are reset. Per table:
//!
//! - `persons`: name (overwritten), aliases, birth date, nationality, languages, contact,
//!   location, notes, gender; `name_idx` emptied; `is_minor`, `stateless` reset;
//! - `cases`: the closing note;
//! - identification: `case_elements` (elements overwritten with none, findings),
//!   `interviews` (answers), `trafficking_decisions` and `smuggling_decisions` (basis,
//!   overwritten);
//! - care: `referrals` (reason), `case_services` (outcome), `placements` (the shelter's
//!   location, overwritten), `consents` (the reason of a withdrawal);
//! - the legal track: `proceedings` (court, jurisdiction, case number overwritten;
//!   prosecutor, investigator, who decided on cooperation, closing reason), `hearings`
//!   (notes, cancellation reason), `measure_requests` (reason, decision reference),
//!   `planned_departures` (note);
//! - the return: `returns` (who explained it, overwritten; the partner's payload,
//!   guardian, best-interests and counselling authors, cancellation and early-departure
//!   reasons), `risk_assessments` (findings, overwritten; safety plan), `return_checks`,
//!   `return_estimates` (notes), `travel_documents` (number, end reason),
//!   `itinerary_legs` (from and to, overwritten; escort, end reason);
//! - the follow-up: `follow_up_visits` (visitor, reason, correction note),
//!   `follow_up_alerts` (details, action), `reintegration_assessments` (answers overwritten
//!   with none; note), `reintegration_plan_items` (provider overwritten; description).
//!
//! **What is kept.** The case row (its pseudonymous reference, organisation, stage, dates)
//! with when, by whom and why it was erased; consents and shares as records (purpose,
//! giver, dates: who was allowed what, not who the person is); the dates and states of
//! the records above; the fund ledger (`fund_entries`: an accounting record under its own
//! legal retention; its movements name a case id, amounts and categories, and its texts
//! are invoices and reasons about money); the audit log, which never held personal data,
//! untouched so that its chain still verifies, with one more entry saying that the case
//! was erased, by whom and why (the action: [`ErasureReason::audit_action`]). An open case
//! is closed by its erasure, so that it leaves every worklist.
//!
//! **Statistics.** If the organisation keeps the case for statistics, the values the
//! k-anonymised export reads are derived from the encrypted fields before they are
//! destroyed and stored generalised, in clear ([`StatisticalRecord`]): the finest age band
//! the export itself publishes (five years; never the birth date), citizenship and country
//! of exploitation (countries), exploitation types and means of control, gender. That is
//! one row of the export before k-anonymisation, with no name, date or place finer than a
//! country: it identifies no one by itself, and the export still k-anonymises it with the
//! rest. In clear because a record kept after erasure must not depend on a key that could
//! open it later (and key rotation leaves it alone). Otherwise the case leaves the export.
//!
//! **The bytes.** On SQLite, `secure_delete` is on for every connection (freed cells and
//! pages are zeroed) and the erasure ends with a `wal_checkpoint(TRUNCATE)`, so that the old
//! pages survive neither in the database file nor in the WAL. On PostgreSQL the old row
//! versions stay in the table files until they are rewritten: the erasure ends with
//! `VACUUM FULL` of the tables it changed (outside any transaction; it locks each table for
//! the time of its rewrite). What neither can reach: backups taken before, PostgreSQL's
//! write-ahead log segments until they are recycled, and blocks the file system freed;
//! a per-person data key (point 4's envelope encryption) would reach those too.

use crate::data::{Age, Country, Gender, Record};
use crate::domain::{AuditAction, Invalid, Relation, Role, str_enum};
use crate::identification::{Control, Elements, Exploitation};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

str_enum!(
    /// Why a person's data are erased.
    ErasureReason, "reason" {
        // The person asked (GDPR art. 17).
        PersonRequest => "person_request",
        // The case was closed longer ago than the retention period.
        RetentionExpired => "retention_expired",
    }
);

impl ErasureReason {
    /// The audit entry's action: what was done and why, in the chained log itself.
    pub fn audit_action(self) -> AuditAction {
        match self {
            ErasureReason::PersonRequest => AuditAction::EraseOnRequest,
            ErasureReason::RetentionExpired => AuditAction::EraseAfterRetention,
        }
    }
}

/// The reason given: required, one of [`ErasureReason`].
pub fn parse_reason(s: Option<&str>) -> Result<ErasureReason, Invalid> {
    match s.map(str::trim) {
        None | Some("") => Err(Invalid::new("reason", "is required")),
        Some(r) => ErasureReason::parse(r),
    }
}

/// Only an administrator of the owning organisation erases.
pub fn may_erase(role: Role, rel: Relation) -> bool {
    role == Role::OrgAdmin && rel == Relation::Owner
}

/// The bounds of `[retention] erase_after_days`: a day to a hundred years.
pub const RETENTION_DAYS: std::ops::RangeInclusive<i64> = 1..=36_500;

/// Check the configured retention period.
pub fn check_retention_days(days: i64) -> Result<i64, Invalid> {
    if RETENTION_DAYS.contains(&days) {
        Ok(days)
    } else {
        Err(Invalid::new(
            "erase_after_days",
            format!(
                "must be from {} to {} days",
                RETENTION_DAYS.start(),
                RETENTION_DAYS.end()
            ),
        ))
    }
}

/// When the retention period of a case closed at `closed_at` ends.
pub fn retention_ends(closed_at: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    closed_at + Duration::days(days)
}

/// Whether a case is past its retention period: closed, and `days` since.
pub fn past_retention(closed_at: Option<DateTime<Utc>>, now: DateTime<Utc>, days: i64) -> bool {
    closed_at.is_some_and(|c| retention_ends(c, days) <= now)
}

/// Whether this reason allows erasing a case closed at `closed_at` now: the person's
/// request always does; the end of retention only once it has come.
pub fn check_erasure(
    reason: ErasureReason,
    closed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    days: i64,
) -> Result<(), Invalid> {
    match (reason, closed_at) {
        (ErasureReason::PersonRequest, _) => Ok(()),
        (ErasureReason::RetentionExpired, None) => Err(Invalid::new(
            "reason",
            "the case is still open: its retention period begins when it is closed",
        )),
        (ErasureReason::RetentionExpired, Some(c)) if !past_retention(Some(c), now, days) => {
            Err(Invalid::new(
                "reason",
                format!(
                    "the retention period of this case ends on {}",
                    retention_ends(c, days).format("%Y-%m-%d")
                ),
            ))
        }
        (ErasureReason::RetentionExpired, Some(_)) => Ok(()),
    }
}

/// Which rows of a table belong to the erased case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `id` is the case's person id.
    Person,
    /// `id` is the case's id.
    Case,
    /// `case_id` is the case's id.
    CaseId,
    /// `return_id` is the id of one of the case's returns.
    Return,
}

/// The column whose value is the `row` bound into each field's ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A text column (a random id, or the case reference).
    Text(&'static str),
    /// An integer column, bound as its decimal text.
    Int(&'static str),
}

/// What a column that may not be NULL is overwritten with (encrypted afresh).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// An empty text.
    Text,
    /// An empty JSON object (answers by indicator).
    EmptyObject,
    /// No identification elements.
    NoElements,
}

impl Fill {
    /// The plaintext encrypted in place of the erased value.
    pub fn plaintext(self) -> Vec<u8> {
        match self {
            Fill::Text => Vec::new(),
            Fill::EmptyObject => b"{}".to_vec(),
            Fill::NoElements => {
                serde_json::to_vec(&Elements::default()).unwrap_or_else(|_| b"{}".to_vec())
            }
        }
    }
}

/// One table's encrypted columns of the erased case, by field name (the stored column is
/// `<name>_enc`; the name is what the ciphertext is bound to).
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub table: &'static str,
    pub scope: Scope,
    pub key: Key,
    /// Set to NULL.
    pub cleared: &'static [&'static str],
    /// NOT NULL: overwritten with a fresh encryption of the fill, row by row.
    pub overwritten: &'static [(&'static str, Fill)],
}

const fn t(
    table: &'static str,
    scope: Scope,
    key: Key,
    cleared: &'static [&'static str],
    overwritten: &'static [(&'static str, Fill)],
) -> Target {
    Target {
        table,
        scope,
        key,
        cleared,
        overwritten,
    }
}

use Fill::{EmptyObject, NoElements, Text as Empty};
use Key::{Int, Text};
use Scope::{CaseId, Person, Return};

/// Every encrypted column an erasure destroys (see the module doc for what is kept).
pub const TARGETS: &[Target] = &[
    t(
        "persons",
        Person,
        Text("id"),
        &[
            "aliases",
            "birth_date",
            "nationality",
            "languages",
            "contact",
            "location",
            "notes",
            "gender",
        ],
        &[("name", Empty)],
    ),
    t(
        "cases",
        Scope::Case,
        Text("reference"),
        &["close_note"],
        &[],
    ),
    t(
        "case_elements",
        CaseId,
        Int("case_id"),
        &["findings"],
        &[("elements", NoElements)],
    ),
    t("interviews", CaseId, Text("id"), &["answers"], &[]),
    t(
        "trafficking_decisions",
        CaseId,
        Text("id"),
        &[],
        &[("basis", Empty)],
    ),
    t(
        "smuggling_decisions",
        CaseId,
        Text("id"),
        &[],
        &[("basis", Empty)],
    ),
    t("referrals", CaseId, Int("id"), &["reason"], &[]),
    t("case_services", CaseId, Text("id"), &["outcome"], &[]),
    t(
        "placements",
        CaseId,
        Text("id"),
        &[],
        &[("location", Empty)],
    ),
    t("consents", CaseId, Int("id"), &["withdraw_reason"], &[]),
    t(
        "proceedings",
        CaseId,
        Text("id"),
        &[
            "prosecutor",
            "investigator",
            "cooperation_decided_by",
            "close_reason",
        ],
        &[
            ("court", Empty),
            ("jurisdiction", Empty),
            ("case_number", Empty),
        ],
    ),
    t(
        "hearings",
        CaseId,
        Text("id"),
        &["notes", "cancel_reason"],
        &[],
    ),
    t(
        "measure_requests",
        CaseId,
        Text("id"),
        &["reason", "decision_ref"],
        &[],
    ),
    t("planned_departures", CaseId, Int("case_id"), &["note"], &[]),
    t(
        "returns",
        CaseId,
        Text("id"),
        &[
            "partner_payload",
            "guardian",
            "best_interests_by",
            "counselled_by",
            "cancelled_reason",
            "early_departure_reason",
        ],
        &[("explained_by", Empty)],
    ),
    t(
        "risk_assessments",
        Return,
        Text("id"),
        &["safety_plan"],
        &[("findings", Empty)],
    ),
    t("return_checks", Return, Text("id"), &["note"], &[]),
    t("return_estimates", Return, Text("id"), &["note"], &[]),
    t(
        "travel_documents",
        Return,
        Text("id"),
        &["number", "end_reason"],
        &[],
    ),
    t(
        "itinerary_legs",
        Return,
        Text("id"),
        &["escort", "end_reason"],
        &[("from", Empty), ("to", Empty)],
    ),
    t(
        "follow_up_visits",
        CaseId,
        Text("id"),
        &["visitor", "reason", "correction_note"],
        &[],
    ),
    t(
        "follow_up_alerts",
        CaseId,
        Text("id"),
        &["details", "action"],
        &[],
    ),
    t(
        "reintegration_assessments",
        CaseId,
        Text("id"),
        &["note"],
        &[("answers", EmptyObject)],
    ),
    t(
        "reintegration_plan_items",
        CaseId,
        Text("id"),
        &["description"],
        &[("provider", Empty)],
    ),
];

/// What an erased case keeps for the statistics export: one export record before
/// k-anonymisation, generalised to the export's finest levels (see the module doc). The
/// year of registration stays on the case row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatisticalRecord {
    /// The finest age band the export publishes, both ends included; none when unknown.
    pub age: Option<(u8, u8)>,
    pub citizenship: Option<Country>,
    pub country_of_exploitation: Option<Country>,
    pub exploitation: BTreeSet<Exploitation>,
    pub means_of_control: BTreeSet<Control>,
    pub gender: Gender,
}

impl StatisticalRecord {
    /// Generalise a case's export record (derived from its fields before they go).
    pub fn of(r: &Record) -> Self {
        Self {
            age: r.age.finest_band(),
            citizenship: r.citizenship,
            country_of_exploitation: r.country_of_exploitation,
            exploitation: r.exploitation.clone(),
            means_of_control: r.means_of_control.clone(),
            gender: r.gender,
        }
    }

    /// The export record of the erased case, registered in `registration_year`.
    pub fn record(&self, registration_year: i32) -> Record {
        Record {
            age: match self.age {
                None => Age::Unknown,
                Some((from, to)) => Age::Range { from, to },
            },
            registration_year,
            citizenship: self.citizenship,
            country_of_exploitation: self.country_of_exploitation,
            exploitation: self.exploitation.clone(),
            means_of_control: self.means_of_control.clone(),
            gender: self.gender,
        }
    }
}

/// Codes joined by commas (how a set is stored).
pub fn join_codes<'a>(codes: impl IntoIterator<Item = &'a str>) -> String {
    codes.into_iter().collect::<Vec<_>>().join(",")
}

/// The codes of a stored set; an unknown code is an error naming the field.
pub fn split_codes<T>(
    s: &str,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> Result<BTreeSet<T>, Invalid>
where
    T: Ord,
{
    s.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(parse)
        .collect()
}

impl fmt::Display for StatisticalRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Codes only (for logs of tests): nothing here names anyone.
        write!(
            f,
            "age {:?}, citizenship {:?}, exploitation {}, gender {}",
            self.age,
            self.citizenship.map(|c| c.to_string()),
            join_codes(self.exploitation.iter().map(|e| e.as_str())),
            self.gender
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Sections;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn a_reason_is_required_and_known() {
        assert_eq!(parse_reason(None).err().map(|e| e.field), Some("reason"));
        assert_eq!(
            parse_reason(Some(" ")).err().map(|e| e.field),
            Some("reason")
        );
        assert_eq!(
            parse_reason(Some("bored")).err().map(|e| e.field),
            Some("reason")
        );
        assert_eq!(
            parse_reason(Some(" person_request ")),
            Ok(ErasureReason::PersonRequest)
        );
        assert_eq!(
            ErasureReason::RetentionExpired.audit_action().as_str(),
            "erase_after_retention"
        );
    }

    #[test]
    fn only_the_owners_administrator_erases() {
        assert!(may_erase(Role::OrgAdmin, Relation::Owner));
        for role in Role::ALL.iter().filter(|r| **r != Role::OrgAdmin) {
            assert!(!may_erase(*role, Relation::Owner), "{role}");
        }
        let shared = Relation::SharedWith {
            sections: Sections::of(&[crate::domain::Section::Person]),
            advocate: false,
            agency: false,
        };
        assert!(!may_erase(Role::OrgAdmin, shared));
        assert!(!may_erase(Role::OrgAdmin, Relation::None));
    }

    #[test]
    fn retention_runs_from_the_closing() {
        let closed = at("2020-01-01T10:00:00Z");
        let now = at("2021-01-01T10:00:00Z");
        assert!(past_retention(Some(closed), now, 366));
        assert!(!past_retention(Some(closed), now, 367));
        assert!(!past_retention(None, now, 1));
        let r = ErasureReason::RetentionExpired;
        assert_eq!(check_erasure(r, Some(closed), now, 366), Ok(()));
        let e = check_erasure(r, Some(closed), now, 400).err();
        assert!(
            e.as_ref()
                .is_some_and(|e| e.field == "reason" && e.message.ends_with("2021-02-04")),
            "{e:?}"
        );
        assert_eq!(
            check_erasure(r, None, now, 1).err().map(|e| e.field),
            Some("reason")
        );
        // The person's request needs no closing and no wait.
        assert_eq!(
            check_erasure(ErasureReason::PersonRequest, None, now, 36_500),
            Ok(())
        );
    }

    #[test]
    fn retention_days_are_bounded() {
        assert_eq!(check_retention_days(1), Ok(1));
        assert_eq!(check_retention_days(36_500), Ok(36_500));
        for bad in [0, -1, 36_501] {
            assert_eq!(
                check_retention_days(bad).err().map(|e| e.field),
                Some("erase_after_days")
            );
        }
    }

    #[test]
    fn the_kept_record_is_no_finer_than_the_export_and_reads_back() {
        let r = Record {
            age: Age::Years(27),
            registration_year: 2026,
            citizenship: Country::parse("NG").ok(),
            country_of_exploitation: Country::parse("FR").ok(),
            exploitation: [Exploitation::SexualExploitation].into_iter().collect(),
            means_of_control: [Control::DebtBondage].into_iter().collect(),
            gender: Gender::Female,
        };
        let kept = StatisticalRecord::of(&r);
        assert_eq!(kept.age, Some((25, 29)));
        let back = kept.record(2026);
        assert_eq!(back.age, Age::Range { from: 25, to: 29 });
        assert_eq!(
            (back.citizenship, back.exploitation.len(), back.gender),
            (r.citizenship, 1, Gender::Female)
        );
        assert_eq!(
            StatisticalRecord::of(&Record {
                age: Age::Unknown,
                ..r.clone()
            })
            .age,
            None
        );
        // A minor of unknown age stays a minor.
        let minor = Record {
            age: Age::Range { from: 0, to: 17 },
            ..r
        };
        assert_eq!(StatisticalRecord::of(&minor).age, Some((0, 17)));
    }

    #[test]
    fn codes_round_trip() {
        let set: BTreeSet<Exploitation> =
            [Exploitation::ForcedLabour, Exploitation::SexualExploitation]
                .into_iter()
                .collect();
        let s = join_codes(set.iter().map(|e| e.as_str()));
        assert_eq!(split_codes(&s, Exploitation::parse), Ok(set));
        assert_eq!(split_codes("", Exploitation::parse), Ok(BTreeSet::new()));
        assert!(split_codes("nope", Exploitation::parse).is_err());
    }

    #[test]
    fn every_target_names_columns_once_and_fills_parse() {
        let mut tables = BTreeSet::new();
        for t in TARGETS {
            assert!(tables.insert(t.table), "{} twice", t.table);
            let mut cols = BTreeSet::new();
            for c in t.cleared.iter().chain(t.overwritten.iter().map(|(c, _)| c)) {
                assert!(cols.insert(*c), "{}.{c} twice", t.table);
            }
        }
        let e: Result<Elements, _> = serde_json::from_slice(&Fill::NoElements.plaintext());
        assert_eq!(e.ok(), Some(Elements::default()));
        let a: Result<crate::follow_up::Answers, _> =
            serde_json::from_slice(&Fill::EmptyObject.plaintext());
        assert!(a.is_ok_and(|a| a.is_empty()));
    }
}
