//! Tests of the caseload import: one per rule, the ten kinds of error at once, a clean
//! file of 10 000 rows; `invariants`: the docs, the limits, and `parse` on arbitrary bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod invariants;

use super::*;

/// The required columns, in the template's order.
const HEAD: &str = "name,birthdate,nationality,stateless,is_minor\n";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
}

fn run_bytes(b: &[u8]) -> Parsed {
    parse(b, today(), &Options::default())
}

fn run(csv: &str) -> Parsed {
    run_bytes(csv.as_bytes())
}

/// The problems of a rule, as (row, column).
fn found(p: &Parsed, rule: Rule) -> Vec<(usize, Option<&str>)> {
    p.report()
        .problems()
        .iter()
        .filter(|x| x.rule == rule)
        .map(|x| (x.row, x.column.as_deref()))
        .collect()
}

fn only(p: &Parsed, rule: Rule) -> &Problem {
    let all: Vec<&Problem> = p.report().problems().iter().collect();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].rule, rule, "{all:?}");
    all[0]
}

#[test]
fn a_clean_file_gives_the_people_create_case_takes() {
    let p = run(concat!(
        "\u{feff}Name, BIRTHDATE ,nationality,stateless,is_minor,languages,contact,aliases,location,notes,advocate_email\n",
        "  Amina   Diallo ,1994-03-02,ng,no,,\"Igbo, English\",+234 803 555 0199,Ami,Lyon,\"said \"\"no\"\"\nthen left\",Obi@Example.org\n",
        "Kofi,,,yes,oui,,,,,,\n",
    ));
    assert!(p.is_clean(), "{:?}", p.report().problems());
    assert_eq!(p.report().data_rows(), 2);
    let rows = p.into_rows().unwrap();
    assert_eq!(rows.len(), 2);
    let a = &rows[0];
    assert_eq!(a.row, 2);
    assert_eq!(a.person.name, "Amina   Diallo");
    assert_eq!(a.person.birth_date, NaiveDate::from_ymd_opt(1994, 3, 2));
    assert_eq!(a.person.nationality.as_deref(), Some("NG"));
    assert_eq!(a.person.languages.as_deref(), Some("Igbo, English"));
    assert_eq!(a.person.contact.as_deref(), Some("+234 803 555 0199"));
    assert_eq!(a.person.notes.as_deref(), Some("said \"no\"\nthen left"));
    assert_eq!(
        a.advocate_email.as_ref().map(|e| e.as_str()),
        Some("obi@example.org")
    );
    assert_eq!(a.input().parse(today()).unwrap(), a.person);
    // The quoted cell over two lines is one row: the next is row 3, as a spreadsheet has it.
    let k = &rows[1];
    assert_eq!(k.row, 3);
    assert!(k.person.stateless && k.person.is_minor && k.person.birth_date.is_none());
    assert_eq!(k.advocate_email, None);
}

#[test]
fn a_semicolon_or_tab_file_is_read_and_a_given_delimiter_wins() {
    let p = run("name;birthdate;nationality;stateless;is_minor\nAmina;1994-03-02;NG;;\n");
    assert!(p.is_clean(), "{:?}", p.report());
    assert_eq!(p.report().delimiter(), ';');
    let p = run("name\tbirthdate\tnationality\tstateless\tis_minor\nAmina\t\t\t\t\n");
    assert!(p.is_clean(), "{:?}", p.report());
    let opts = Options {
        delimiter: Some(b','),
        ..Options::default()
    };
    let p = parse(
        b"name;birthdate;nationality;stateless;is_minor\n",
        today(),
        &opts,
    );
    only(&p, Rule::NoHeader);
}

#[test]
fn rows_are_numbered_as_a_spreadsheet_shows_them() {
    // Empty lines count, a quoted cell over lines is one row, CR, LF and CRLF all end a row.
    for (csv, row) in [
        (
            "name,birthdate,nationality,stateless,is_minor\n\n\n=1,,,,\n",
            4,
        ),
        (
            "name,birthdate,nationality,stateless,is_minor\r\n\r\n=1,,,,\r\n",
            3,
        ),
        (
            "name,birthdate,nationality,stateless,is_minor\r\r=1,,,,\r",
            3,
        ),
        (
            "\n\nname,birthdate,nationality,stateless,is_minor\n=1,,,,",
            4,
        ),
        (
            "name,birthdate,nationality,stateless,is_minor\n\"a\r\nb\",,,,\n\"x\ny\nz\",,,,\n=1,,,,\n",
            4,
        ),
    ] {
        let p = run(csv);
        let rows: Vec<usize> = found(&p, Rule::Formula).iter().map(|x| x.0).collect();
        assert_eq!(rows, [row], "{csv:?}: {:?}", p.report().problems());
    }
}

// ---- One test per rule ------------------------------------------------------------------

#[test]
fn an_empty_file_is_refused() {
    for b in [&b""[..], b"\xEF\xBB\xBF", b"\n\n\r\n"] {
        assert_eq!(only(&run_bytes(b), Rule::EmptyFile).row, 1);
    }
}

#[test]
fn a_header_without_rows_is_refused() {
    assert_eq!(only(&run(HEAD), Rule::NoDataRows).row, 1);
    // Blank rows are no rows.
    assert_eq!(
        found(&run(&format!("{HEAD},,,,\n  ,,,,\n")), Rule::NoDataRows),
        [(1, None)]
    );
}

#[test]
fn too_many_rows_are_refused_and_the_rest_not_read() {
    let opts = Options {
        max_rows: 2,
        ..Options::default()
    };
    let p = parse(
        format!("{HEAD}A,,,,\nB,,,,\nC,,,,\n=D,,,,\n").as_bytes(),
        today(),
        &opts,
    );
    let pr = only(&p, Rule::TooManyRows);
    assert_eq!((pr.row, pr.get("max")), (4, Some("2")));
    assert_eq!(p.report().data_rows(), 2);
    assert!(p.into_rows().is_err());
}

#[test]
fn bad_encoding_names_the_first_bad_row_and_a_bom_is_accepted() {
    let mut b = format!("{HEAD}Amina,,,,\n").into_bytes();
    b.extend_from_slice(b"Jos\xE9,,,,\nRen\xE9,,,,\nKofi,,,,\n");
    let p = run_bytes(&b);
    let pr = only(&p, Rule::BadEncoding);
    assert_eq!((pr.row, pr.column.as_deref()), (3, Some("name")));
    assert_eq!((pr.get("byte"), pr.get("rows")), (Some("0xE9"), Some("2")));
    assert_eq!(pr.value, None);
    assert_eq!(p.rows().len(), 2);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(format!("{HEAD}Amina,,,,\n").as_bytes());
    assert!(run_bytes(&bom).is_clean());
}

#[test]
fn a_first_row_that_is_not_a_header_is_refused_without_echoing_it() {
    let p = run("Amina Diallo,1994-03-02,NG\nKofi,,GH\n");
    let pr = only(&p, Rule::NoHeader);
    assert_eq!((pr.row, &pr.column, &pr.value), (1, &None, &None));
    assert!(pr.get("allowed").unwrap().contains("birthdate"));
}

#[test]
fn a_missing_required_column_is_named() {
    let p = run("name,birthdate,nationality,is_minor\nAmina,,,\n");
    assert_eq!(
        only(&p, Rule::MissingColumn).column.as_deref(),
        Some("stateless")
    );
    assert_eq!(found(&run("aliases\nA\n"), Rule::MissingColumn).len(), 5);
}

#[test]
fn an_extra_column_is_refused_with_the_file() {
    let p = run("name,birthdate,nationality,stateless,is_minor,eye_colour\nAmina,,,,,brown\n");
    let pr = only(&p, Rule::UnknownColumn);
    assert_eq!(
        (pr.row, pr.column.as_deref(), pr.get("position")),
        (1, Some("eye_colour"), Some("6"))
    );
    assert!(p.rows().len() == 1 && !p.is_clean());
    assert!(p.into_rows().is_err());
}

#[test]
fn a_column_named_twice_is_refused() {
    let p = run("name,birthdate,nationality,stateless,is_minor,prs_Birthdate\nA,,,,,\n");
    let pr = only(&p, Rule::DuplicateColumn);
    assert_eq!(
        (pr.row, pr.column.as_deref(), pr.get("first")),
        (1, Some("prs_Birthdate"), Some("2"))
    );
}

#[test]
fn a_column_without_a_name_is_refused() {
    let p = run("name,birthdate,nationality,stateless,is_minor, \nA,,,,,\n");
    assert_eq!(only(&p, Rule::UnnamedColumn).get("position"), Some("6"));
}

#[test]
fn a_row_with_the_wrong_number_of_cells_is_refused() {
    let p = run(&format!("{HEAD}Amina\nKofi,,,,,\nAda,,,,\n"));
    let rows: Vec<_> = p
        .report()
        .problems()
        .iter()
        .map(|x| (x.row, x.get("found"), x.get("expected")))
        .collect();
    assert_eq!(rows, [(2, Some("1"), Some("5")), (3, Some("6"), Some("5"))]);
    assert_eq!(found(&p, Rule::WrongFieldCount).len(), 2);
    assert_eq!(p.rows().len(), 1);
}

#[test]
fn duplicates_within_the_file_name_both_rows() {
    let p = run(&format!(
        "{HEAD}Grace Eze,1991-03-03,,,\nKofi,,,,\n  grace   EZE ,1991-03-03,GH,,\nKofi,,,,\nGrace Eze,1991-03-04,,,\n"
    ));
    let d: Vec<_> = p
        .report()
        .problems()
        .iter()
        .map(|x| (x.rule, x.row, x.get("other_row")))
        .collect();
    assert_eq!(
        d,
        [
            (Rule::DuplicateRow, 2, Some("4")),
            (Rule::DuplicateRow, 4, Some("2"))
        ]
    );
    // Without a birth date a name alone is not a duplicate (as likely_duplicates has it).
    assert_eq!(
        p.rows().iter().map(|r| r.row).collect::<Vec<_>>(),
        [3, 5, 6]
    );
}

#[test]
fn an_empty_name_is_refused() {
    assert_eq!(
        found(
            &run(&format!("{HEAD}  ,1990-01-01,,,\n")),
            Rule::EmptyRequired
        ),
        [(2, Some("name"))]
    );
}

#[test]
fn too_long_values_are_refused_and_shown_shortened() {
    let long = "é".repeat(201);
    let p = run(&format!(
        "name,birthdate,nationality,stateless,is_minor,notes\n{long},,,,,{}\n",
        "n".repeat(10_001)
    ));
    let t: Vec<_> = p
        .report()
        .problems()
        .iter()
        .map(|x| (x.column.as_deref(), x.get("max"), x.get("length")))
        .collect();
    assert_eq!(
        t,
        [
            (Some("name"), Some("200"), Some("201")),
            (Some("notes"), Some("10000"), Some("10001"))
        ]
    );
    let v = p.report().problems()[0].value.clone().unwrap();
    assert_eq!(v.chars().count(), VALUE_CHARS);
    assert!(v.ends_with('…'));
    let ok = run(&format!("{HEAD}{},,,,\n", "é".repeat(200)));
    assert!(ok.is_clean());
}

#[test]
fn a_control_character_in_the_name_is_refused() {
    let pr = only(
        &run(&format!("{HEAD}Am\u{7}ina,,,,\n")),
        Rule::ControlCharacter,
    )
    .clone();
    assert_eq!(
        (pr.row, pr.column.as_deref(), pr.value.as_deref()),
        (2, Some("name"), Some("Am\u{2407}ina"))
    );
}

#[test]
fn formulas_are_refused_and_telephone_numbers_are_not() {
    let head = "name,birthdate,nationality,stateless,is_minor,contact,notes\n";
    let p = run(&format!(
        "{head}A,,,,,\"=cmd|' /C calc'!A0\",\nB,,,,,+1+cmd,\nC,,,,,,-2+3\nD,,,,,,@SUM(A1)\nE,,,,,\"\tx\",\nF,,,,,,\"\rx\"\nG,,,,,  =1,\n=H,,,,,,\n"
    ));
    let f: Vec<_> = p
        .report()
        .problems()
        .iter()
        .map(|x| (x.row, x.column.as_deref(), x.get("character")))
        .collect();
    assert_eq!(
        f,
        [
            (2, Some("contact"), Some("=")),
            (3, Some("contact"), Some("+")),
            (4, Some("notes"), Some("-")),
            (5, Some("notes"), Some("@")),
            (6, Some("contact"), Some("tab")),
            (7, Some("notes"), Some("carriage-return")),
            (8, Some("contact"), Some("=")),
            (9, Some("name"), Some("=")),
        ]
    );
    assert!(
        p.report()
            .problems()
            .iter()
            .all(|x| x.rule == Rule::Formula)
    );
    assert_eq!(p.report().problems()[4].value.as_deref(), Some("\u{2409}x"));
    let ok = run(&format!("{head}A,,,,,+234 (0)803-555.0199,\n"));
    assert!(ok.is_clean(), "{:?}", ok.report());
}

#[test]
fn a_bad_date_is_refused() {
    let p = run(&format!(
        "{HEAD}A,31/12/1990,,,\nB,1990-02-30,,,\nC,1990-1-5,,,\nD, 1990-01-05 ,,,\n"
    ));
    assert_eq!(
        found(&p, Rule::BadDate),
        [
            (2, Some("birthdate")),
            (3, Some("birthdate")),
            (4, Some("birthdate"))
        ]
    );
    assert_eq!(p.rows().len(), 1);
}

#[test]
fn a_date_in_the_future_is_refused() {
    let p = run(&format!("{HEAD}A,2026-11-28,,,\nB,2026-11-27,,,\n"));
    let pr = only(&p, Rule::FutureDate);
    assert_eq!((pr.row, pr.get("today")), (2, Some("2026-11-27")));
}

#[test]
fn a_date_before_1900_is_refused() {
    let p = run(&format!("{HEAD}A,1899-12-31,,,\nB,1900-01-01,,,\n"));
    assert_eq!(found(&p, Rule::DateTooEarly), [(2, Some("birthdate"))]);
}

#[test]
fn an_unknown_country_is_refused() {
    let p = run(&format!("{HEAD}A,,Nigeria,,\nB,,N1,,\nC,,ng,,\n"));
    assert_eq!(
        found(&p, Rule::UnknownCountry),
        [(2, Some("nationality")), (3, Some("nationality"))]
    );
    assert_eq!(p.rows()[0].person.nationality.as_deref(), Some("NG"));
}

#[test]
fn a_stateless_person_with_a_nationality_is_refused() {
    let p = run(&format!("{HEAD}A,,NG,yes,\nB,,,yes,\n"));
    let pr = only(&p, Rule::StatelessWithNationality);
    assert_eq!(
        (pr.row, pr.column.as_deref(), pr.value.as_deref()),
        (2, Some("nationality"), Some("NG"))
    );
}

#[test]
fn a_flag_that_is_neither_yes_nor_no_is_refused() {
    let p = run(&format!("{HEAD}A,,,maybe,\nB,,,TRUE,Non\n"));
    assert_eq!(found(&p, Rule::BadFlag), [(2, Some("stateless"))]);
}

#[test]
fn a_gender_is_read_in_our_words_or_htcds_ones_and_anything_else_is_refused() {
    use crate::data::Gender;
    let p = run(
        "name,birthdate,nationality,stateless,is_minor,prs_Gender\nA,,,,,female\nB,,,,,MASCULINE\nC,,,,,NonConforming\nD,,,,,\nE,,,,,unknown\n",
    );
    assert!(p.is_clean(), "{:?}", p.report().problems());
    let genders: Vec<Option<Gender>> = p.rows().iter().map(|r| r.person.gender).collect();
    assert_eq!(
        genders,
        vec![
            Some(Gender::Female),
            Some(Gender::Male),
            Some(Gender::Other),
            None,
            Some(Gender::Unknown)
        ]
    );
    // The row as `create_case` takes it says the same.
    assert_eq!(p.rows()[1].input().gender.as_deref(), Some("male"));
    for bad in ["f", "woman", "TransgenderFeminine"] {
        let p = run(&format!(
            "name,birthdate,nationality,stateless,is_minor,gender\nA,,,,,{bad}\n"
        ));
        let pr = only(&p, Rule::UnknownGender);
        assert_eq!(
            (pr.row, pr.column.as_deref(), pr.value.as_deref()),
            (2, Some("gender"), Some(bad))
        );
        assert!(pr.get("allowed").unwrap().contains("NonSpecifiedUnknown"));
        assert!(p.rows().is_empty());
    }
}

#[test]
fn a_bad_advocate_address_is_refused() {
    let p =
        run("name,birthdate,nationality,stateless,is_minor,advocate_email\nA,,,,,not-an-address\n");
    assert_eq!(found(&p, Rule::BadEmail), [(2, Some("advocate_email"))]);
}

#[test]
fn a_child_recorded_as_an_adult_is_refused() {
    let p = run(&format!(
        "{HEAD}Child,2015-06-01,,,no\nAdult,2000-06-01,,,no\nFlagged,2015-06-01,,,yes\nUnknown,,,,no\nTurns18Tomorrow,2008-11-28,,,false\n"
    ));
    let c: Vec<_> = p
        .report()
        .problems()
        .iter()
        .map(|x| (x.rule, x.row, x.column.as_deref(), x.get("age")))
        .collect();
    assert_eq!(
        c,
        [
            (Rule::ChildAdultOnly, 2, Some("is_minor"), Some("11")),
            (Rule::ChildAdultOnly, 6, Some("is_minor"), Some("17")),
        ]
    );
    assert_eq!(
        p.rows().iter().map(|r| r.row).collect::<Vec<_>>(),
        [3, 4, 5]
    );
}

#[test]
fn problems_found_by_the_service_block_the_import() {
    let mut p = run(&format!("{HEAD}Amina,1994-03-02,,,\n"));
    assert!(p.is_clean());
    p.add_problem(Problem::existing_case(2, Some("PSG-2026-0042")));
    p.add_problem(Problem::unknown_advocate(
        2,
        &crate::domain::Email::parse("a@b.org").unwrap(),
    ));
    let report = p.into_rows().unwrap_err();
    assert_eq!(report.total(), 2);
    assert!(report.problems()[0].english().contains("PSG-2026-0042"));
    assert!(Rule::ExistingCase.is_found_by_service() && !Rule::Formula.is_found_by_service());
}

// ---- The acceptance files ---------------------------------------------------------------

#[test]
fn a_file_with_ten_kinds_of_error_gets_a_report_naming_each() {
    let mut b = Vec::new();
    // No `stateless` column (missing), an `eye_colour` column (extra).
    b.extend_from_slice(b"name,birthdate,nationality,is_minor,notes,eye_colour\n");
    b.extend_from_slice(b"Amina Diallo,1990-02-30,NG,,,f\n"); // 2: bad date
    b.extend_from_slice(b"Joy Okafor,1992-01-01,Nigeria,,,f\n"); // 3: unknown country
    b.extend_from_slice(b"Blessing,2015-06-01,NG,no,,f\n"); // 4: a child as an adult
    b.extend_from_slice(b"Grace Eze,1991-03-03,NG,,,f\n"); // 5 and 6: duplicates
    b.extend_from_slice(b"grace  eze,1991-03-03,GH,,,f\n");
    b.extend_from_slice(b"Jos\xE9,1990-01-01,NG,,,f\n"); // 7: bad encoding
    b.extend_from_slice(b",1990-01-01,NG,,,f\n"); // 8: empty name
    b.extend_from_slice(format!("{},1990-01-01,NG,,,f\n", "x".repeat(201)).as_bytes()); // 9
    b.extend_from_slice(b"Ade,1990-01-01,NG,,=cmd|' /C calc'!A0,m\n"); // 10: formula
    let p = run_bytes(&b);
    let expected = [
        (Rule::MissingColumn, vec![(1, Some("stateless"))]),
        (Rule::UnknownColumn, vec![(1, Some("eye_colour"))]),
        (Rule::BadDate, vec![(2, Some("birthdate"))]),
        (Rule::UnknownCountry, vec![(3, Some("nationality"))]),
        (Rule::ChildAdultOnly, vec![(4, Some("is_minor"))]),
        (Rule::DuplicateRow, vec![(5, None), (6, None)]),
        (Rule::BadEncoding, vec![(7, Some("name"))]),
        (Rule::EmptyRequired, vec![(8, Some("name"))]),
        (Rule::TooLong, vec![(9, Some("name"))]),
        (Rule::Formula, vec![(10, Some("notes"))]),
    ];
    for (rule, at) in &expected {
        assert_eq!(&found(&p, *rule), at, "{rule}");
    }
    assert_eq!(p.report().total(), 11, "{:?}", p.report().problems());
    let rows: Vec<usize> = p.report().problems().iter().map(|x| x.row).collect();
    assert!(rows.is_sorted(), "{rows:?}");
    for x in p.report().problems() {
        assert!(x.to_string().starts_with(&format!("row {}", x.row)));
        assert!(!x.english().contains('?'), "{}", x.english());
    }
    assert!(p.into_rows().is_err());
}

fn big_file(n: usize) -> String {
    const COUNTRIES: [&str; 6] = ["NG", "GH", "CM", "CI", "AL", "VN"];
    let mut s =
        String::from("name,birthdate,nationality,stateless,is_minor,languages,contact,notes\n");
    for i in 0..n {
        let born = NaiveDate::from_ymd_opt(
            1950 + (i % 70) as i32,
            1 + (i % 12) as u32,
            1 + (i % 28) as u32,
        )
        .unwrap();
        let (birth, nat, stateless, minor) = match i % 10 {
            0 => (String::new(), "", "yes", "yes"),
            1 => (String::new(), COUNTRIES[i % 6], "no", ""),
            _ => (born.to_string(), COUNTRIES[i % 6], "", ""),
        };
        s.push_str(&format!(
            "Person {i} Example,{birth},{nat},{stateless},{minor},\"Edo, English\",+234 80 {i:07},\"Met on {i}; said \"\"help\"\"\"\n"
        ));
    }
    s
}

#[test]
fn a_clean_file_of_ten_thousand_rows_parses_whole() {
    let p = run(&big_file(10_000));
    assert!(
        p.is_clean(),
        "{:?}",
        &p.report().problems()[..p.report().problems().len().min(5)]
    );
    assert_eq!(p.report().data_rows(), 10_000);
    let rows = p.into_rows().unwrap();
    assert_eq!(rows.len(), 10_000);
    assert_eq!((rows[0].row, rows[9_999].row), (2, 10_001));
    assert!(rows[0].person.is_minor && rows[0].person.stateless);
}
