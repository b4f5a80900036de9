//! The column template: every column the import reads, its HTCDS name where one exists,
//! whether it is required, its kind and its maximum length. docs/import.md documents the
//! same table for the people who prepare the files; the tests check the two agree.

use std::fmt;

/// What a column holds, and so how its cells are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One line of text (the name): no control characters.
    Line,
    /// Optional free text.
    Text,
    /// An ISO 8601 calendar date, `YYYY-MM-DD`.
    Date,
    /// An ISO 3166-1 alpha-2 country code.
    Country,
    /// Yes or no; empty is no.
    Flag,
    /// A gender: ours (`female`, `male`, `other`, `unknown`) or its HTCDS v2.0 name
    /// ([`gender`]).
    Gender,
    /// An e-mail address.
    Email,
}

/// A column of the template, in the order of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Name,
    Aliases,
    Birthdate,
    Nationality,
    Stateless,
    IsMinor,
    Gender,
    Languages,
    Contact,
    Location,
    Notes,
    AdvocateEmail,
}

/// The lengths [`PersonInput::parse`](crate::service::cases::PersonInput::parse) allows,
/// in characters after trimming. They are written there as literals; they are repeated
/// here, in one place, and `tests::limits_match_person_parse` fails if the two drift
/// apart. (A row that passes these checks is still parsed by `PersonInput::parse`, so a
/// drift could never let a value through that a form would refuse.)
pub mod limits {
    pub const NAME: usize = 200;
    pub const ALIASES: usize = 500;
    pub const LANGUAGES: usize = 200;
    pub const CONTACT: usize = 500;
    pub const LOCATION: usize = 500;
    pub const NOTES: usize = 10_000;
    /// `domain::Email::parse`'s bound.
    pub const EMAIL: usize = 254;
}

impl Column {
    pub const ALL: [Column; 12] = [
        Column::Name,
        Column::Aliases,
        Column::Birthdate,
        Column::Nationality,
        Column::Stateless,
        Column::IsMinor,
        Column::Gender,
        Column::Languages,
        Column::Contact,
        Column::Location,
        Column::Notes,
        Column::AdvocateEmail,
    ];

    /// The column's name in the header row of the template.
    pub fn name(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::Aliases => "aliases",
            Column::Birthdate => "birthdate",
            Column::Nationality => "nationality",
            Column::Stateless => "stateless",
            Column::IsMinor => "is_minor",
            Column::Gender => "gender",
            Column::Languages => "languages",
            Column::Contact => "contact",
            Column::Location => "location",
            Column::Notes => "notes",
            Column::AdvocateEmail => "advocate_email",
        }
    }

    /// The HTCDS v2.0 field the column is, where one exists (Person: `prs_Birthdate`,
    /// `prs_Nationality`, `prs_Gender`). HTCDS splits the name (`prs_FirstName`, `prs_SecondName`) and
    /// the contact (`prs_Email`, `prs_MobilePhone`, …), which a case holds as one field.
    pub fn htcds(self) -> Option<&'static str> {
        match self {
            Column::Birthdate => Some("prs_Birthdate"),
            Column::Nationality => Some("prs_Nationality"),
            Column::Gender => Some("prs_Gender"),
            _ => None,
        }
    }

    /// Other names accepted in the header for this column (compared without regard to
    /// case): the HTCDS field name, and the field's name in the JSON API.
    pub fn also_accepted(self) -> &'static [&'static str] {
        match self {
            Column::Birthdate => &["prs_Birthdate", "birth_date"],
            Column::Nationality => &["prs_Nationality"],
            Column::Gender => &["prs_Gender"],
            _ => &[],
        }
    }

    /// The field of [`PersonInput`](crate::service::cases::PersonInput) the column fills
    /// (`advocate_email` names the advocate the service looks up): the pages can label a
    /// column with their `field-<field>` words.
    pub fn field(self) -> &'static str {
        match self {
            Column::Birthdate => "birth_date",
            other => other.name(),
        }
    }

    /// Must the header row have this column? The name, and the four columns that decide
    /// how the person is protected: `birthdate` and `is_minor` (the child rules),
    /// `nationality` and `stateless` (citizenship confirmation or the statelessness path).
    /// Their cells may be empty ("not known"), but a column left out of the file would
    /// silently say "adult" or "not stateless" for every row, so it is refused.
    pub fn required(self) -> bool {
        matches!(
            self,
            Column::Name
                | Column::Birthdate
                | Column::IsMinor
                | Column::Nationality
                | Column::Stateless
        )
    }

    /// Must every row have a value in this column? Only the name.
    pub fn value_required(self) -> bool {
        self == Column::Name
    }

    pub fn kind(self) -> Kind {
        match self {
            Column::Name => Kind::Line,
            Column::Aliases
            | Column::Languages
            | Column::Contact
            | Column::Location
            | Column::Notes => Kind::Text,
            Column::Birthdate => Kind::Date,
            Column::Nationality => Kind::Country,
            Column::Stateless | Column::IsMinor => Kind::Flag,
            Column::Gender => Kind::Gender,
            Column::AdvocateEmail => Kind::Email,
        }
    }

    /// The most characters a cell may hold (after trimming), for the text columns.
    pub fn max_chars(self) -> Option<usize> {
        match self {
            Column::Name => Some(limits::NAME),
            Column::Aliases => Some(limits::ALIASES),
            Column::Languages => Some(limits::LANGUAGES),
            Column::Contact => Some(limits::CONTACT),
            Column::Location => Some(limits::LOCATION),
            Column::Notes => Some(limits::NOTES),
            Column::AdvocateEmail => Some(limits::EMAIL),
            Column::Birthdate
            | Column::Nationality
            | Column::Stateless
            | Column::IsMinor
            | Column::Gender => None,
        }
    }

    /// The column a header cell names, if any: its name, or one of
    /// [`also_accepted`](Self::also_accepted), trimmed, in any case.
    pub fn from_header(cell: &str) -> Option<Column> {
        let cell = cell.trim();
        Column::ALL.into_iter().find(|c| {
            c.name().eq_ignore_ascii_case(cell)
                || c.also_accepted()
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(cell))
        })
    }

    /// The column that fills a field of `PersonInput` (to place an `Invalid` it returns).
    pub fn of_field(field: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.field() == field)
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The values a yes-or-no column accepts, in any case (English and French, as the
/// pages are; `1`/`0` and `true`/`false` as spreadsheets write them). Empty is no.
pub const YES: &[&str] = &["yes", "y", "true", "1", "oui", "vrai"];
pub const NO: &[&str] = &["no", "n", "false", "0", "non", "faux"];

/// The values a gender cell accepts, in any case: the case form's, and the HTCDS v2.0
/// `prs_Gender` values that say the same (`Feminine`, `Masculine`, `NonConforming`,
/// `NonSpecifiedUnknown`). HTCDS's `TransgenderFeminine` and `TransgenderMasculine` are
/// finer than what a case records and are refused rather than guessed.
pub const GENDERS: &[(&str, crate::data::Gender)] = {
    use crate::data::Gender as G;
    &[
        ("female", G::Female),
        ("male", G::Male),
        ("other", G::Other),
        ("unknown", G::Unknown),
        ("Feminine", G::Female),
        ("Masculine", G::Male),
        ("NonConforming", G::Other),
        ("NonSpecifiedUnknown", G::Unknown),
    ]
};

/// A gender cell: `Some(None)` when empty, `None` when it is none of [`GENDERS`].
pub fn gender(cell: &str) -> Option<Option<crate::data::Gender>> {
    let t = cell.trim();
    if t.is_empty() {
        return Some(None);
    }
    GENDERS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(t))
        .map(|(_, g)| Some(*g))
}

/// A yes-or-no cell: `Some(None)` when empty, `None` when it is neither.
pub(super) fn flag(cell: &str) -> Option<Option<bool>> {
    let t = cell.trim();
    if t.is_empty() {
        Some(None)
    } else if YES.iter().any(|y| y.eq_ignore_ascii_case(t)) {
        Some(Some(true))
    } else if NO.iter().any(|n| n.eq_ignore_ascii_case(t)) {
        Some(Some(false))
    } else {
        None
    }
}

/// Values that only an adult can have (domain::is_child: a person under 18 on the day,
/// or flagged a minor, is a child, and when in doubt the child rules apply). Of what a
/// case holds at creation, only one value says "adult": `is_minor` answered *no*. A row
/// whose birth date makes the person a child on the day of the import and whose
/// `is_minor` says no contradicts itself, and is refused rather than imported with the
/// contradiction. When the core comes to hold adult-only fields (an occupation, a
/// spouse), they go here.
pub(super) fn adult_only(column: Column, flag_value: Option<bool>) -> bool {
    column == Column::IsMinor && flag_value == Some(false)
}
