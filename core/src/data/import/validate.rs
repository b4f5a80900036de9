//! The checks of one data row: cell by cell, then the row as a whole, then
//! `PersonInput::parse` as the last word (so that the import never accepts what the case
//! form would refuse); and the duplicates within the file.

use super::columns::{self, Column, Kind};
use super::{ImportRow, Problem, Report, Rule, VALUE_CHARS};
use crate::domain::{self, CountryCode, Email};
use crate::service::cases::PersonInput;
use chrono::{Datelike, NaiveDate};
use std::collections::{HashMap, HashSet};

/// The earliest birth date `PersonInput::parse` accepts.
pub(super) const MIN_YEAR: i32 = 1900;

/// Which column each field of a row is (`None`: a column the template does not have).
pub(super) struct Header {
    pub(super) columns: Vec<Option<Column>>,
    /// The header cells as written, shortened, to name the column of a problem.
    pub(super) names: Vec<String>,
}

impl Header {
    pub(super) fn len(&self) -> usize {
        self.columns.len()
    }

    pub(super) fn has(&self, c: Column) -> bool {
        self.columns.contains(&Some(c))
    }

    /// The name to report for the field at `i`.
    pub(super) fn name_at(&self, i: usize) -> Option<String> {
        match self.columns.get(i) {
            Some(Some(c)) => Some(c.name().to_owned()),
            _ => self.names.get(i).cloned(),
        }
    }
}

/// The row checker: the day of the import, and the names and birth dates seen so far.
pub(super) struct Checker {
    today: NaiveDate,
    seen: HashMap<(String, NaiveDate), Seen>,
    duplicated: HashSet<usize>,
}

struct Seen {
    row: usize,
    reported: bool,
}

impl Checker {
    pub(super) fn new(today: NaiveDate) -> Self {
        Self {
            today,
            seen: HashMap::new(),
            duplicated: HashSet::new(),
        }
    }

    /// Rows found to be duplicates (to drop from the valid rows).
    pub(super) fn duplicated(&self) -> &HashSet<usize> {
        &self.duplicated
    }

    /// Check one row whose fields match the header's; the row to import if it passed.
    pub(super) fn row(
        &mut self,
        row: usize,
        header: &Header,
        cells: &[&str],
        report: &mut Report,
    ) -> Option<ImportRow> {
        let mut by_column: [Option<&str>; Column::ALL.len()] = [None; Column::ALL.len()];
        for (i, cell) in cells.iter().enumerate() {
            if let Some(Some(c)) = header.columns.get(i) {
                by_column[c.index()] = Some(cell);
            }
        }
        let mut found = 0;
        let mut push = |p: Problem| {
            found += 1;
            report.push(p);
        };
        let mut name = None;
        let mut birth = None;
        let mut nationality = None;
        let mut flags = [None; Column::ALL.len()];
        let mut email = None;
        let mut gender = None;
        for c in Column::ALL {
            let Some(raw) = by_column[c.index()] else {
                continue;
            };
            let problem = |rule| {
                Problem::new(row, rule)
                    .with_column(c.name())
                    .with_value(raw)
            };
            if let Some(character) = formula(raw) {
                push(problem(Rule::Formula).with_arg("character", character));
                continue;
            }
            let t = raw.trim();
            if t.is_empty() && c.value_required() {
                push(problem(Rule::EmptyRequired));
                continue;
            }
            if let Some(max) = c.max_chars() {
                let length = t.chars().count();
                if length > max {
                    push(
                        problem(Rule::TooLong)
                            .with_arg("max", max)
                            .with_arg("length", length),
                    );
                    continue;
                }
            }
            match c.kind() {
                Kind::Line if t.chars().any(char::is_control) => {
                    push(problem(Rule::ControlCharacter))
                }
                Kind::Line => name = Some(t),
                Kind::Text => {}
                Kind::Date if t.is_empty() => {}
                Kind::Date => match date(t, self.today) {
                    Ok(d) => birth = Some(d),
                    Err(Rule::FutureDate) => {
                        push(problem(Rule::FutureDate).with_arg("today", self.today))
                    }
                    Err(rule) => push(problem(rule)),
                },
                Kind::Country if t.is_empty() => {}
                Kind::Country => match CountryCode::parse(t) {
                    Ok(_) => nationality = Some(raw),
                    Err(_) => push(problem(Rule::UnknownCountry)),
                },
                Kind::Flag => match columns::flag(t) {
                    Some(v) => flags[c.index()] = v,
                    None => push(problem(Rule::BadFlag).with_arg("allowed", "yes, no")),
                },
                Kind::Gender => match columns::gender(t) {
                    Some(g) => gender = g,
                    None => push(
                        problem(Rule::UnknownGender).with_arg(
                            "allowed",
                            columns::GENDERS
                                .iter()
                                .map(|(name, _)| *name)
                                .collect::<Vec<_>>()
                                .join(", "),
                        ),
                    ),
                },
                Kind::Email if t.is_empty() => {}
                Kind::Email => match Email::parse(t) {
                    Ok(e) => email = Some(e),
                    Err(_) => push(problem(Rule::BadEmail)),
                },
            }
        }

        let flag = |c: Column| flags[c.index()];
        if flag(Column::Stateless) == Some(true)
            && let Some(n) = nationality
        {
            push(
                Problem::new(row, Rule::StatelessWithNationality)
                    .with_column(Column::Nationality.name())
                    .with_value(n),
            );
        }
        let minor_flag = flag(Column::IsMinor) == Some(true);
        if domain::is_child(birth, minor_flag, self.today) {
            for c in Column::ALL {
                if columns::adult_only(c, flag(c)) {
                    let age = birth.map(|b| domain::age_on(b, self.today));
                    let mut p = Problem::new(row, Rule::ChildAdultOnly).with_column(c.name());
                    if let Some(raw) = by_column[c.index()] {
                        p = p.with_value(raw);
                    }
                    if let Some(age) = age {
                        p = p.with_arg("age", age);
                    }
                    push(p);
                }
            }
        }
        if let (Some(n), Some(b)) = (name, birth) {
            match self.seen.get_mut(&(normalised(n), b)) {
                None => {
                    self.seen.insert(
                        (normalised(n), b),
                        Seen {
                            row,
                            reported: false,
                        },
                    );
                }
                Some(first) => {
                    if !first.reported {
                        first.reported = true;
                        self.duplicated.insert(first.row);
                        push(
                            Problem::new(first.row, Rule::DuplicateRow).with_arg("other_row", row),
                        );
                    }
                    self.duplicated.insert(row);
                    push(Problem::new(row, Rule::DuplicateRow).with_arg("other_row", first.row));
                }
            }
        }
        if found > 0 || !header.has(Column::Name) {
            return None;
        }

        let text = |c: Column| by_column[c.index()].map(str::to_owned);
        let input = PersonInput {
            name: text(Column::Name).unwrap_or_default(),
            aliases: text(Column::Aliases),
            birth_date: text(Column::Birthdate),
            nationality: text(Column::Nationality),
            stateless: flag(Column::Stateless).unwrap_or(false),
            languages: text(Column::Languages),
            contact: text(Column::Contact),
            location: text(Column::Location),
            notes: text(Column::Notes),
            is_minor: minor_flag,
            gender: gender.map(|g: crate::data::Gender| g.as_str().to_owned()),
        };
        match input.parse(self.today) {
            Ok(person) => Some(ImportRow {
                row,
                person,
                advocate_email: email,
            }),
            Err(invalid) => {
                let column = Column::of_field(invalid.field);
                let mut p = Problem::new(row, Rule::Invalid)
                    .with_column(column.map_or(invalid.field, Column::name))
                    .with_arg("message", invalid.message);
                if let Some(raw) = column.and_then(|c| by_column[c.index()]) {
                    p = p.with_value(raw);
                }
                report.push(p);
                None
            }
        }
    }
}

/// A birth date: `YYYY-MM-DD` exactly, a real day, not after `today`, not before 1900.
pub(super) fn date(t: &str, today: NaiveDate) -> Result<NaiveDate, Rule> {
    let b = t.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err(Rule::BadDate);
    }
    let d = NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| Rule::BadDate)?;
    if d > today {
        Err(Rule::FutureDate)
    } else if d.year() < MIN_YEAR {
        Err(Rule::DateTooEarly)
    } else {
        Ok(d)
    }
}

/// The name as the blind index compares it (`crypto::KeyRing::blind_index`): runs of
/// whitespace as one space, trimmed, lower case.
pub(super) fn normalised(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The character that makes a cell a formula to a spreadsheet (OWASP, "CSV Injection"):
/// `=`, `+`, `-` or `@` first (after leading spaces, which the import trims away before
/// storing), or a tab or carriage return as the very first character. A `+` that starts a
/// telephone number (`+` then only digits, spaces, dots, hyphens and parentheses) is not
/// one: it cannot call a function, and contacts are written so. No column is numeric, so
/// a leading `-` is always refused.
pub(super) fn formula(raw: &str) -> Option<&'static str> {
    match raw.chars().next()? {
        '\t' => return Some("tab"),
        '\r' => return Some("carriage-return"),
        _ => {}
    }
    let t = raw.trim_start();
    match t.chars().next()? {
        '=' => Some("="),
        '@' => Some("@"),
        '-' => Some("-"),
        '+' if telephone(t) => None,
        '+' => Some("+"),
        _ => None,
    }
}

fn telephone(t: &str) -> bool {
    let rest = t.get(1..).unwrap_or("");
    rest.chars().any(|c| c.is_ascii_digit())
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')'))
}

/// A value as a problem shows it: at most [`VALUE_CHARS`] characters (the last one `…`
/// when cut), control characters as their visible symbols (␉ for a tab), and the
/// characters that reorder text (bidirectional controls) replaced, so the report shows
/// what is in the file.
pub(super) fn shown(s: &str) -> String {
    let cut = s.chars().nth(VALUE_CHARS).is_some();
    let keep = if cut { VALUE_CHARS - 1 } else { VALUE_CHARS };
    let mut out: String = s.chars().take(keep).map(visible).collect();
    if cut {
        out.push('…');
    }
    out
}

fn visible(c: char) -> char {
    match u32::from(c) {
        n @ 0..=0x1f => char::from_u32(0x2400 + n).unwrap_or('\u{fffd}'),
        0x7f => '\u{2421}',
        0x80..=0x9f | 0x200e | 0x200f | 0x202a..=0x202e | 0x2066..=0x2069 => '\u{fffd}',
        _ => c,
    }
}
