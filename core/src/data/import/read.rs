//! Reading the file: the `csv` crate on byte records (so that a cell that is not UTF-8 is
//! found in its row instead of failing the whole file), the header, the row numbers as a
//! spreadsheet shows them, the limits.

use super::validate::{Checker, Header, shown};
use super::{Column, Options, Parsed, Problem, Report, Rule};
use chrono::NaiveDate;
use csv::ByteRecord;

const BOM: &[u8] = b"\xEF\xBB\xBF";

pub(super) fn run(bytes: &[u8], today: NaiveDate, opts: &Options) -> Parsed {
    let body = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let delimiter = opts.delimiter.unwrap_or_else(|| delimiter_of(body));
    let mut report = Report::new(opts.max_problems, delimiter);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(body);
    let mut record = ByteRecord::new();
    let mut rows = Rows::new(body);
    let mut header: Option<Header> = None;
    let mut checker = Checker::new(today);
    let mut encoding = Encoding::default();
    let mut valid = Vec::new();
    let mut data_rows = 0usize;
    let mut no_header = false;
    let mut header_row = 1;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) => {
                report.push(Problem::new(rows.last.max(1), Rule::Unreadable));
                break;
            }
        }
        let row = rows.row_of(&record);
        let Some(h) = &header else {
            header_row = row;
            let h = read_header(&record, row, &mut report, &mut encoding);
            if !h.columns.iter().any(Option::is_some) {
                report
                    .push(Problem::new(row, Rule::NoHeader).with_arg("allowed", allowed_columns()));
                header = Some(h);
                no_header = true;
                break;
            }
            header = Some(h);
            continue;
        };
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        data_rows += 1;
        if data_rows > opts.max_rows {
            report.push(Problem::new(row, Rule::TooManyRows).with_arg("max", opts.max_rows));
            break;
        }
        if record.len() != h.len() {
            report.push(
                Problem::new(row, Rule::WrongFieldCount)
                    .with_arg("expected", h.len())
                    .with_arg("found", record.len()),
            );
            continue;
        }
        let mut cells = Vec::with_capacity(record.len());
        for (i, field) in record.iter().enumerate() {
            match std::str::from_utf8(field) {
                Ok(s) => cells.push(s),
                Err(e) => {
                    encoding.note(
                        row,
                        h.name_at(i),
                        field.get(e.valid_up_to()).copied(),
                        &mut report,
                    );
                    break;
                }
            }
        }
        if cells.len() != record.len() {
            continue;
        }
        if let Some(r) = checker.row(row, h, &cells, &mut report) {
            valid.push(r);
        }
    }
    encoding.finish(&mut report);
    match (&header, data_rows) {
        (None, _) => report.push(Problem::new(1, Rule::EmptyFile)),
        (Some(_), 0) if !no_header => report.push(Problem::new(header_row, Rule::NoDataRows)),
        _ => {}
    }
    report.data_rows = data_rows.min(opts.max_rows);
    let duplicated = checker.duplicated();
    valid.retain(|r| !duplicated.contains(&r.row));
    Parsed {
        rows: valid,
        report,
    }
}

fn allowed_columns() -> String {
    Column::ALL
        .iter()
        .map(|c| c.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The header row: which column each field is; every cell that names none, or names one
/// already named, is a problem, and so is a required column missing.
fn read_header(
    record: &ByteRecord,
    row: usize,
    report: &mut Report,
    encoding: &mut Encoding,
) -> Header {
    let mut columns = Vec::with_capacity(record.len());
    let mut names = Vec::with_capacity(record.len());
    let mut problems = Vec::new();
    for (i, field) in record.iter().enumerate() {
        let text = match std::str::from_utf8(field) {
            Ok(s) => s.trim().to_owned(),
            Err(e) => {
                encoding.note(row, None, field.get(e.valid_up_to()).copied(), report);
                String::from_utf8_lossy(field).trim().to_owned()
            }
        };
        let position = i + 1;
        let column = match Column::from_header(&text) {
            _ if text.is_empty() => {
                problems
                    .push(Problem::new(row, Rule::UnnamedColumn).with_arg("position", position));
                None
            }
            Some(c) => match columns.iter().position(|x| *x == Some(c)) {
                Some(first) => {
                    problems.push(
                        Problem::new(row, Rule::DuplicateColumn)
                            .with_column(&text)
                            .with_arg("first", first + 1)
                            .with_arg("position", position),
                    );
                    None
                }
                None => Some(c),
            },
            None => {
                problems.push(
                    Problem::new(row, Rule::UnknownColumn)
                        .with_column(&text)
                        .with_arg("position", position)
                        .with_arg("allowed", allowed_columns()),
                );
                None
            }
        };
        columns.push(column);
        names.push(shown(&text));
    }
    let h = Header { columns, names };
    // A first row that names no column at all is not a header (it is probably data):
    // it is reported once, without echoing its cells.
    if h.columns.iter().any(Option::is_some) {
        for p in problems {
            report.push(p);
        }
        for c in Column::ALL {
            if c.required() && !h.has(c) {
                report.push(Problem::new(row, Rule::MissingColumn).with_column(c.name()));
            }
        }
    }
    h
}

/// The first cell that is not UTF-8, reported once with the number of rows affected.
#[derive(Default)]
struct Encoding {
    reported: bool,
    rows: usize,
    last_row: usize,
}

impl Encoding {
    fn note(&mut self, row: usize, column: Option<String>, byte: Option<u8>, report: &mut Report) {
        if self.rows == 0 || self.last_row != row {
            self.rows += 1;
            self.last_row = row;
        }
        if self.reported {
            return;
        }
        self.reported = true;
        let mut p = Problem::new(row, Rule::BadEncoding);
        if let Some(c) = column {
            p = p.with_column(c);
        }
        if let Some(b) = byte {
            p = p.with_arg("byte", format!("0x{b:02X}"));
        }
        report.push(p);
    }

    fn finish(&self, report: &mut Report) {
        if let Some(p) = report.problem_mut(Rule::BadEncoding) {
            p.args.push(("rows", self.rows.to_string()));
        }
    }
}

/// The most frequent of `,`, `;` and tab outside quotes in the first line; `,` when
/// none is there, or on a tie with it.
fn delimiter_of(body: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in body {
        match b {
            b'"' => quoted = !quoted,
            b'\r' | b'\n' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let mut best = (b',', counts[0]);
    for (d, n) in [(b';', counts[1]), (b'\t', counts[2])] {
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

/// Row numbers as a spreadsheet shows them: every line terminator (CR, LF or CRLF) of
/// the file starts a row, empty lines included, except those inside a quoted cell.
struct Rows<'a> {
    body: &'a [u8],
    /// How far the file has been scanned for terminators.
    pos: usize,
    after_cr: bool,
    terminators: usize,
    /// Terminators inside the cells of the records before.
    inside: usize,
    /// The row of the last record.
    last: usize,
}

impl<'a> Rows<'a> {
    fn new(body: &'a [u8]) -> Self {
        Self {
            body,
            pos: 0,
            after_cr: false,
            terminators: 0,
            inside: 0,
            last: 0,
        }
    }

    fn row_of(&mut self, record: &ByteRecord) -> usize {
        // Where the reader started on this record: after the previous one, before the
        // empty lines it skipped; the record starts at the first byte that ends no line.
        let from = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(self.pos)
            .max(self.pos)
            .min(self.body.len());
        let rest = self.body.get(from..).unwrap_or_default();
        let start = from
            + rest
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        for &b in self.body.get(self.pos..start).unwrap_or_default() {
            match b {
                b'\r' => self.terminators += 1,
                b'\n' if !self.after_cr => self.terminators += 1,
                _ => {}
            }
            self.after_cr = b == b'\r';
        }
        self.pos = start;
        let row = (1 + self.terminators).saturating_sub(self.inside).max(1);
        self.inside += record.iter().map(terminators).sum::<usize>();
        self.last = row;
        row
    }
}

/// Line terminators in a cell (CRLF counted once).
pub(super) fn terminators(s: &[u8]) -> usize {
    let mut n = 0;
    let mut after_cr = false;
    for &b in s {
        match b {
            b'\r' => n += 1,
            b'\n' if !after_cr => n += 1,
            _ => {}
        }
        after_cr = b == b'\r';
    }
    n
}
