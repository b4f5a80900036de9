//! Every rule of the import, with its stable id (a Fluent message key of the pages) and
//! its English sentence (the command line and the JSON API).

use super::Problem;
use std::fmt;

/// Why a file, a row or a cell is refused. The id ([`Rule::as_str`]) is stable: pages
/// translate it, API clients match on it. docs/import.md lists every rule with its
/// arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    // The file.
    EmptyFile,
    NoDataRows,
    TooManyRows,
    BadEncoding,
    Unreadable,
    // The header.
    NoHeader,
    MissingColumn,
    UnknownColumn,
    DuplicateColumn,
    UnnamedColumn,
    // A row.
    WrongFieldCount,
    DuplicateRow,
    // A cell.
    EmptyRequired,
    TooLong,
    ControlCharacter,
    Formula,
    BadDate,
    FutureDate,
    DateTooEarly,
    UnknownCountry,
    StatelessWithNationality,
    BadFlag,
    UnknownGender,
    BadEmail,
    ChildAdultOnly,
    Invalid,
    // Found by the service, against the database.
    ExistingCase,
    UnknownAdvocate,
}

impl Rule {
    pub const ALL: &'static [Rule] = &[
        Rule::EmptyFile,
        Rule::NoDataRows,
        Rule::TooManyRows,
        Rule::BadEncoding,
        Rule::Unreadable,
        Rule::NoHeader,
        Rule::MissingColumn,
        Rule::UnknownColumn,
        Rule::DuplicateColumn,
        Rule::UnnamedColumn,
        Rule::WrongFieldCount,
        Rule::DuplicateRow,
        Rule::EmptyRequired,
        Rule::TooLong,
        Rule::ControlCharacter,
        Rule::Formula,
        Rule::BadDate,
        Rule::FutureDate,
        Rule::DateTooEarly,
        Rule::UnknownCountry,
        Rule::StatelessWithNationality,
        Rule::BadFlag,
        Rule::UnknownGender,
        Rule::BadEmail,
        Rule::ChildAdultOnly,
        Rule::Invalid,
        Rule::ExistingCase,
        Rule::UnknownAdvocate,
    ];

    /// The stable id, `import-…`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::EmptyFile => "import-empty-file",
            Rule::NoDataRows => "import-no-data-rows",
            Rule::TooManyRows => "import-too-many-rows",
            Rule::BadEncoding => "import-bad-encoding",
            Rule::Unreadable => "import-unreadable",
            Rule::NoHeader => "import-no-header",
            Rule::MissingColumn => "import-missing-column",
            Rule::UnknownColumn => "import-unknown-column",
            Rule::DuplicateColumn => "import-duplicate-column",
            Rule::UnnamedColumn => "import-unnamed-column",
            Rule::WrongFieldCount => "import-wrong-field-count",
            Rule::DuplicateRow => "import-duplicate-row",
            Rule::EmptyRequired => "import-empty-required",
            Rule::TooLong => "import-too-long",
            Rule::ControlCharacter => "import-control-character",
            Rule::Formula => "import-formula",
            Rule::BadDate => "import-bad-date",
            Rule::FutureDate => "import-future-date",
            Rule::DateTooEarly => "import-date-too-early",
            Rule::UnknownCountry => "import-unknown-country",
            Rule::StatelessWithNationality => "import-stateless-with-nationality",
            Rule::BadFlag => "import-bad-flag",
            Rule::UnknownGender => "import-unknown-gender",
            Rule::BadEmail => "import-bad-email",
            Rule::ChildAdultOnly => "import-child-adult-only",
            Rule::Invalid => "import-invalid",
            Rule::ExistingCase => "import-existing-case",
            Rule::UnknownAdvocate => "import-unknown-advocate",
        }
    }

    pub fn parse(s: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.as_str() == s)
    }

    /// Does the service layer, not [`parse`](super::parse), find this one?
    pub fn is_found_by_service(self) -> bool {
        matches!(self, Rule::ExistingCase | Rule::UnknownAdvocate)
    }

    /// The English sentence without arguments (a heading, a legend).
    pub fn english(self) -> &'static str {
        match self {
            Rule::EmptyFile => "The file is empty.",
            Rule::NoDataRows => "The file has a header row but no case below it.",
            Rule::TooManyRows => "The file has too many rows; the rest was not read.",
            Rule::BadEncoding => "The file is not UTF-8 text.",
            Rule::Unreadable => "The file cannot be read as CSV after this row.",
            Rule::NoHeader => "The first row names none of the template's columns.",
            Rule::MissingColumn => "A required column is missing from the header row.",
            Rule::UnknownColumn => "The header row names a column the template does not have.",
            Rule::DuplicateColumn => "The header row names a column twice.",
            Rule::UnnamedColumn => "A column has no name in the header row.",
            Rule::WrongFieldCount => "The row does not have as many cells as the header row.",
            Rule::DuplicateRow => "Another row has the same name and birth date.",
            Rule::EmptyRequired => "A required value is empty.",
            Rule::TooLong => "The value is too long.",
            Rule::ControlCharacter => "The value contains a control character.",
            Rule::Formula => "The value starts like a spreadsheet formula.",
            Rule::BadDate => "The value is not a date written YYYY-MM-DD.",
            Rule::FutureDate => "The date is in the future.",
            Rule::DateTooEarly => "The date is before 1900.",
            Rule::UnknownCountry => "The value is not a two-letter ISO 3166-1 country code.",
            Rule::StatelessWithNationality => "A stateless person has no nationality.",
            Rule::BadFlag => "The value is neither yes nor no.",
            Rule::UnknownGender => "The value is not a gender the template knows.",
            Rule::BadEmail => "The value is not an e-mail address.",
            Rule::ChildAdultOnly => "The person is a child, and the value is for adults only.",
            Rule::Invalid => "The value is refused.",
            Rule::ExistingCase => "A case with the same name and birth date already exists.",
            Rule::UnknownAdvocate => "No active advocate of the organisation has this address.",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The English sentence of a problem, with its arguments (never its value).
pub(super) fn english(p: &Problem) -> String {
    let a = |name: &str| p.get(name).unwrap_or("?");
    let column = p.column.as_deref().unwrap_or("?");
    match p.rule {
        Rule::EmptyFile => "The file is empty: it must start with the header row.".into(),
        Rule::NoDataRows => "The file has a header row but no case below it.".into(),
        Rule::TooManyRows => format!(
            "The file has more than {} cases; import it in several files. The rows after this one were not read.",
            a("max")
        ),
        Rule::BadEncoding => format!(
            "The file is not UTF-8 text (byte {} is not UTF-8; {} row(s) affected). Save it as \"CSV UTF-8\" and try again.",
            a("byte"),
            a("rows")
        ),
        Rule::Unreadable => "The file cannot be read as CSV after this row.".into(),
        Rule::NoHeader => format!(
            "The first row names none of the template's columns ({}): the file must start with the header row.",
            a("allowed")
        ),
        Rule::MissingColumn => format!("The required column {column} is missing."),
        Rule::UnknownColumn => format!(
            "The template has no column {column}; remove it or rename it to one of: {}.",
            a("allowed")
        ),
        Rule::DuplicateColumn => format!(
            "The column {column} is named twice (also in position {}).",
            a("first")
        ),
        Rule::UnnamedColumn => format!(
            "The column in position {} has no name; remove it or name it.",
            a("position")
        ),
        Rule::WrongFieldCount => format!(
            "The row has {} cells where the header row has {}.",
            a("found"),
            a("expected")
        ),
        Rule::DuplicateRow => format!(
            "Row {} has the same name and birth date: a person must be in the file once.",
            a("other_row")
        ),
        Rule::EmptyRequired => format!("The {column} is required."),
        Rule::TooLong => format!(
            "The {column} has {} characters; at most {} are allowed.",
            a("length"),
            a("max")
        ),
        Rule::ControlCharacter => format!("The {column} must not contain control characters."),
        Rule::Formula => format!(
            "The {column} starts with {}, as a spreadsheet formula does; formulas are refused (remove the character or start the cell with another one).",
            a("character")
        ),
        Rule::BadDate => format!("The {column} must be a real date written YYYY-MM-DD."),
        Rule::FutureDate => format!(
            "The {column} is after today ({}): it cannot be in the future.",
            a("today")
        ),
        Rule::DateTooEarly => format!("The {column} must be in 1900 or later."),
        Rule::UnknownCountry => {
            format!("The {column} must be a two-letter ISO 3166-1 code such as NG.")
        }
        Rule::StatelessWithNationality => {
            "The row says the person is stateless and has a nationality: leave one of the two empty.".into()
        }
        Rule::BadFlag => format!(
            "The {column} must be yes or no ({}), or empty for no.",
            a("allowed")
        ),
        Rule::UnknownGender => format!(
            "The {column} must be one of {}, or empty if not recorded.",
            a("allowed")
        ),
        Rule::BadEmail => format!("The {column} is not a valid e-mail address."),
        Rule::ChildAdultOnly => match p.get("age") {
            Some(age) => format!(
                "The birth date makes the person a child ({age} years old today), and the {column} says adult; a child is never recorded as an adult."
            ),
            None => format!(
                "The person is a child, and the {column} holds a value for adults only; a child is never recorded as an adult."
            ),
        },
        Rule::Invalid => format!("The {column} is refused: {}.", a("message")),
        Rule::ExistingCase => match p.get("reference") {
            Some(r) => format!(
                "A case with the same name and birth date already exists ({r}); nothing is merged."
            ),
            None => "A case with the same name and birth date already exists; nothing is merged."
                .into(),
        },
        Rule::UnknownAdvocate => format!(
            "The {column} is not the address of an active advocate of your organisation."
        ),
    }
}
