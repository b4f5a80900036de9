//! The CSV import of an existing caseload (issue #14, point 4): the pure part. [`parse`]
//! reads the bytes of a file, checks every row against the column template
//! (docs/import.md) and returns the rows it could validate, as the [`Person`] that
//! `create_case` stores, with a [`Report`] of every problem found: the dry run. Nothing
//! here touches a database, encrypts, logs or panics, whatever the bytes.
//!
//! # All or nothing
//!
//! A file with one problem imports nothing: [`Parsed::into_rows`] hands the rows over only
//! when the report is clean, and otherwise gives back the report. The service adds the
//! problems only it can find ([`Rule::ExistingCase`], [`Rule::UnknownAdvocate`]) with
//! [`Parsed::add_problem`] *before* calling `into_rows`, so that they block the import
//! the same way.
//!
//! # For the service layer
//!
//! - Refuse the import unless the actor may create cases (`domain::may_create_case`).
//! - Call [`parse`] with the day of the import (UTC, as `create_case` does).
//! - For each row, look for existing cases with the same name and birth date as
//!   `likely_duplicates` does (the blind index of the name, then the birth date
//!   decrypted), among the cases the actor may see; add [`Problem::existing_case`]
//!   (with the reference only of a case the actor may see; never hint at others).
//! - Resolve [`ImportRow::advocate_email`] to an active advocate of the actor's
//!   organisation (`check_advocate`), else add [`Problem::unknown_advocate`]; without an
//!   address the advocate is the actor if an advocate, as in `create_case`.
//! - Then, in one write transaction: per row, `random_token` for the person id, the
//!   person row (`person_model`: encryption and blind index), the next reference, the case
//!   at stage `referred`, one audit entry per case; commit once. Return the references
//!   with their row numbers for the administrator.
//! - The report holds personal data ([`Problem::value`], and a column name may be a cell
//!   of a file without a header row): show it to the uploader only, never log it, never
//!   store it. Log at most [`Report::counts`] (rule ids and numbers).
//! - If the report is ever offered as a CSV download, its values must be escaped against
//!   formula injection again ([`Rule::Formula`] values are formulas).

mod columns;
mod read;
mod rules;
mod validate;

#[cfg(test)]
mod tests;

pub use columns::{Column, Kind, NO, YES, limits};
pub use rules::Rule;

use crate::domain::Email;
use crate::service::cases::{Person, PersonInput};
use chrono::NaiveDate;
use serde::ser::{SerializeMap, SerializeStruct};
use std::collections::BTreeMap;
use std::fmt;

/// The most data rows a file may have by default.
pub const DEFAULT_MAX_ROWS: usize = 100_000;
/// The most problems a report lists by default (the others are counted).
pub const DEFAULT_MAX_PROBLEMS: usize = 1_000;
/// The most characters of a value a problem shows.
pub const VALUE_CHARS: usize = 60;

/// How to read a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The most data rows (the header and blank rows not counted); past it the file is
    /// refused with [`Rule::TooManyRows`] and the rest is not read.
    pub max_rows: usize,
    /// The most problems the report lists; the others are only counted.
    pub max_problems: usize,
    /// The field delimiter; `None` takes the most frequent of `,`, `;` and tab in the
    /// header row (a spreadsheet in French writes `;`), `,` when none.
    pub delimiter: Option<u8>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_rows: DEFAULT_MAX_ROWS,
            max_problems: DEFAULT_MAX_PROBLEMS,
            delimiter: None,
        }
    }
}

/// Read and check a caseload file (the dry run). Never panics; see the module's
/// documentation for what the caller does next.
pub fn parse(bytes: &[u8], today: NaiveDate, opts: &Options) -> Parsed {
    read::run(bytes, today, opts)
}

/// A row that passed every check: what `create_case` needs for one case.
#[derive(Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// The row in the file (the header is row 1).
    pub row: usize,
    /// The person, validated by `PersonInput::parse` on the day of the import.
    pub person: Person,
    /// The advocate to assign, for the service to resolve in the organisation.
    pub advocate_email: Option<Email>,
}

impl ImportRow {
    /// The person as `create_case` takes it.
    pub fn input(&self) -> PersonInput {
        let p = &self.person;
        PersonInput {
            name: p.name.clone(),
            aliases: p.aliases.clone(),
            birth_date: p.birth_date.map(|d| d.format("%Y-%m-%d").to_string()),
            nationality: p.nationality.clone(),
            stateless: p.stateless,
            languages: p.languages.clone(),
            contact: p.contact.clone(),
            location: p.location.clone(),
            notes: p.notes.clone(),
            is_minor: p.is_minor,
            gender: p.gender.map(|g| g.as_str().to_owned()),
        }
    }
}

/// Shows the row number only: the rest is personal data.
impl fmt::Debug for ImportRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportRow")
            .field("row", &self.row)
            .finish_non_exhaustive()
    }
}

/// One thing wrong with the file, a row or a cell.
#[derive(Clone, PartialEq, Eq)]
pub struct Problem {
    /// The row in the file, from 1 (the header row); a cell spanning several lines
    /// belongs to the row it starts on, and empty lines count, as a spreadsheet shows them.
    pub row: usize,
    /// The column's name in the template, or the header cell as written for a column
    /// the template does not have (shortened like `value`).
    pub column: Option<String>,
    /// The cell as written, shortened to [`VALUE_CHARS`] characters with control
    /// characters made visible. **Personal data**: for the report shown to the
    /// administrator who uploaded the file, and nowhere else. Never log it, never store
    /// it (`Debug` leaves it out).
    pub value: Option<String>,
    pub rule: Rule,
    /// Named arguments of the message (Fluent variables): docs/import.md lists them.
    pub args: Vec<(&'static str, String)>,
}

impl Problem {
    pub fn new(row: usize, rule: Rule) -> Self {
        Self {
            row,
            column: None,
            value: None,
            rule,
            args: Vec::new(),
        }
    }

    pub fn with_column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(validate::shown(&column.into()));
        self
    }

    /// The cell as written; it is shortened here.
    pub fn with_value(mut self, cell: &str) -> Self {
        self.value = Some(validate::shown(cell));
        self
    }

    pub fn with_arg(mut self, name: &'static str, value: impl fmt::Display) -> Self {
        self.args.push((name, value.to_string()));
        self
    }

    /// The value of a named argument.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The English sentence, with the arguments (never the value).
    pub fn english(&self) -> String {
        rules::english(self)
    }

    /// For the service: the row's person may already have a case (same blind index of
    /// the name, same birth date). `reference` only for a case the actor may see.
    pub fn existing_case(row: usize, reference: Option<&str>) -> Self {
        let p = Problem::new(row, Rule::ExistingCase).with_column(Column::Name.name());
        match reference {
            Some(r) => p.with_arg("reference", r),
            None => p,
        }
    }

    /// For the service: `advocate_email` names no active advocate of the organisation.
    pub fn unknown_advocate(row: usize, email: &Email) -> Self {
        Problem::new(row, Rule::UnknownAdvocate)
            .with_column(Column::AdvocateEmail.name())
            .with_value(email.as_str())
    }
}

/// Leaves the value out: it is personal data.
impl fmt::Debug for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Problem")
            .field("row", &self.row)
            .field("column", &self.column)
            .field("rule", &self.rule)
            .field("args", &self.args)
            .finish_non_exhaustive()
    }
}

/// "row 4, birthdate: …", for the command line (without the value).
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}", self.row)?;
        if let Some(c) = &self.column {
            write!(f, ", {c}")?;
        }
        write!(f, ": {}", self.english())
    }
}

struct Args<'a>(&'a [(&'static str, String)]);

impl serde::Serialize for Args<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// `{row, column, value, rule, args: {name: value}, message}` for the JSON API (the
/// uploader's answer only).
impl serde::Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Problem", 6)?;
        st.serialize_field("row", &self.row)?;
        st.serialize_field("column", &self.column)?;
        st.serialize_field("value", &self.value)?;
        st.serialize_field("rule", self.rule.as_str())?;
        st.serialize_field("args", &Args(&self.args))?;
        st.serialize_field("message", &self.english())?;
        st.end()
    }
}

/// Every problem found, in the order of the rows.
#[derive(Clone, PartialEq, Eq)]
pub struct Report {
    problems: Vec<Problem>,
    omitted: usize,
    counts: BTreeMap<Rule, usize>,
    data_rows: usize,
    max_problems: usize,
    delimiter: u8,
}

impl Report {
    fn new(max_problems: usize, delimiter: u8) -> Self {
        Self {
            problems: Vec::new(),
            omitted: 0,
            counts: BTreeMap::new(),
            data_rows: 0,
            max_problems,
            delimiter,
        }
    }

    /// The problems listed, by row (at most [`Options::max_problems`]).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Problems found but not listed, past [`Options::max_problems`].
    pub fn omitted(&self) -> usize {
        self.omitted
    }

    /// All the problems found, listed or not.
    pub fn total(&self) -> usize {
        self.problems.len() + self.omitted
    }

    pub fn is_clean(&self) -> bool {
        self.total() == 0
    }

    /// The data rows read (neither the header nor blank rows).
    pub fn data_rows(&self) -> usize {
        self.data_rows
    }

    /// The delimiter the file was read with.
    pub fn delimiter(&self) -> char {
        char::from(self.delimiter)
    }

    /// How many problems of each rule, listed or not: safe to log (no personal data).
    pub fn counts(&self) -> Vec<(Rule, usize)> {
        self.counts.iter().map(|(r, n)| (*r, *n)).collect()
    }

    /// Add a problem in its row's place (after those of the same row).
    pub fn push(&mut self, p: Problem) {
        *self.counts.entry(p.rule).or_default() += 1;
        if self.problems.len() < self.max_problems {
            let at = self.problems.partition_point(|q| q.row <= p.row);
            self.problems.insert(at, p);
        } else {
            self.omitted += 1;
        }
    }

    fn problem_mut(&mut self, rule: Rule) -> Option<&mut Problem> {
        self.problems.iter_mut().find(|p| p.rule == rule)
    }
}

/// Counts only: the problems hold personal data.
impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("data_rows", &self.data_rows)
            .field("counts", &self.counts)
            .field("omitted", &self.omitted)
            .finish_non_exhaustive()
    }
}

struct Counts<'a>(&'a BTreeMap<Rule, usize>);

impl serde::Serialize for Counts<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (r, n) in self.0 {
            m.serialize_entry(r.as_str(), n)?;
        }
        m.end()
    }
}

/// `{data_rows, problems: […], omitted, counts: {rule: n}}`.
impl serde::Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Report", 4)?;
        st.serialize_field("data_rows", &self.data_rows)?;
        st.serialize_field("problems", &self.problems)?;
        st.serialize_field("omitted", &self.omitted)?;
        st.serialize_field("counts", &Counts(&self.counts))?;
        st.end()
    }
}

/// What [`parse`] found: the valid rows and the report. The rows leave only through
/// [`into_rows`](Self::into_rows), and only all of them, from a clean report.
pub struct Parsed {
    rows: Vec<ImportRow>,
    report: Report,
}

impl Parsed {
    pub fn is_clean(&self) -> bool {
        self.report.is_clean()
    }

    pub fn report(&self) -> &Report {
        &self.report
    }

    /// How many rows passed every check (they are imported only through
    /// [`into_rows`](Self::into_rows), all of them or none).
    pub fn valid_rows(&self) -> usize {
        self.rows.len()
    }

    /// The rows that passed the file's checks, for the service's own checks (existing
    /// cases, advocates) before [`into_rows`](Self::into_rows).
    pub fn rows(&self) -> &[ImportRow] {
        &self.rows
    }

    /// A problem the service found (a duplicate of an existing case, an unknown
    /// advocate): the import is then refused like any other.
    pub fn add_problem(&mut self, p: Problem) {
        self.report.push(p);
    }

    /// Every row, if the report is clean; else the report, and no row at all.
    pub fn into_rows(self) -> Result<Vec<ImportRow>, Report> {
        if self.report.is_clean() {
            Ok(self.rows)
        } else {
            Err(self.report)
        }
    }

    pub fn into_report(self) -> Report {
        self.report
    }
}

impl fmt::Debug for Parsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parsed")
            .field("rows", &self.rows.len())
            .field("report", &self.report)
            .finish()
    }
}
