//! What holds of the whole module: the rules and the template against the docs, the
//! limits against `PersonInput::parse`, the duplicates against the blind index, personal
//! data out of `Debug`, and `parse` on any input.

use super::*;
use proptest::prelude::*;

#[test]
fn every_rule_has_a_stable_id_and_english_words_and_is_documented() {
    let doc = include_str!("../../../../../docs/import.md");
    let mut ids: Vec<&str> = Rule::ALL.iter().map(|r| r.as_str()).collect();
    for r in Rule::ALL {
        let id = r.as_str();
        assert!(id.starts_with("import-"), "{id}");
        assert!(
            id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{id}"
        );
        assert_eq!(Rule::parse(id), Some(*r));
        assert!(!r.english().is_empty());
        assert!(!Problem::new(1, *r).english().is_empty());
        assert!(
            doc.contains(&format!("`{id}`")),
            "{id} is not in docs/import.md"
        );
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), Rule::ALL.len());
    for c in Column::ALL {
        assert!(
            doc.contains(&format!("| `{}` |", c.name())),
            "{c} is not in docs/import.md"
        );
        assert_eq!(Column::from_header(&c.name().to_uppercase()), Some(c));
        if let Some(h) = c.htcds() {
            assert_eq!(Column::from_header(h), Some(c));
        }
    }
}

#[test]
fn limits_match_person_parse() {
    type Set = fn(&mut PersonInput, String);
    let cases: [(Column, Set); 6] = [
        (Column::Name, |p, v| p.name = v),
        (Column::Aliases, |p, v| p.aliases = Some(v)),
        (Column::Languages, |p, v| p.languages = Some(v)),
        (Column::Contact, |p, v| p.contact = Some(v)),
        (Column::Location, |p, v| p.location = Some(v)),
        (Column::Notes, |p, v| p.notes = Some(v)),
    ];
    for (c, set) in cases {
        let max = c.max_chars().unwrap();
        let mut p = PersonInput {
            name: "A".into(),
            ..PersonInput::default()
        };
        set(&mut p, "é".repeat(max));
        assert!(p.parse(today()).is_ok(), "{c}");
        set(&mut p, "é".repeat(max + 1));
        assert_eq!(
            p.parse(today()).err().map(|e| e.field),
            Some(c.field()),
            "{c}"
        );
    }
    assert!(
        crate::domain::Email::parse(&format!("{}@b.org", "a".repeat(limits::EMAIL - 6))).is_ok()
    );
    assert!(
        crate::domain::Email::parse(&format!("{}@b.org", "a".repeat(limits::EMAIL - 5))).is_err()
    );
    // The dates `parse` accepts are the dates the form accepts.
    for d in ["1900-01-01", "1899-12-31", "2026-11-27", "2026-11-28"] {
        let p = PersonInput {
            name: "A".into(),
            birth_date: Some(d.into()),
            ..PersonInput::default()
        };
        assert_eq!(
            validate::date(d, today()).is_ok(),
            p.parse(today()).is_ok(),
            "{d}"
        );
    }
}

#[test]
fn duplicates_are_compared_as_the_blind_index_compares_names() {
    use secrecy::SecretString;
    let keys = crate::crypto::KeyRing::from_hex(&SecretString::from("ab".repeat(64))).unwrap();
    for (a, b) in [
        ("Amina  Diallo", " amina diallo"),
        ("ÉLODIE Zoé", "élodie zoé"),
        ("A\u{3000}B", "a b"),
        ("Amina", "Amine"),
        ("Ali\tBaba", "ali baba"),
    ] {
        assert_eq!(
            validate::normalised(a) == validate::normalised(b),
            keys.blind_index("person-name", a) == keys.blind_index("person-name", b),
            "{a:?} {b:?}"
        );
    }
}

#[test]
fn personal_data_stays_out_of_debug_and_is_in_the_json_for_the_uploader() {
    let p = run(&format!(
        "{HEAD}Secret Name,2099-01-01,,,\nOther Secret,,,,\n"
    ));
    let debug = format!("{p:?} {:?} {:?}", p.report().problems(), p.rows());
    assert!(
        !debug.contains("Secret") && !debug.contains("2099"),
        "{debug}"
    );
    let display = p.report().problems()[0].to_string();
    assert!(!display.contains("2099-01-01"), "{display}");
    let json = serde_json::to_value(p.report()).unwrap();
    assert_eq!(json["problems"][0]["rule"], "import-future-date");
    assert_eq!(json["problems"][0]["value"], "2099-01-01");
    assert_eq!(json["problems"][0]["args"]["today"], "2026-11-27");
    assert_eq!(json["counts"]["import-future-date"], 1);
    assert!(
        json["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("future")
    );
}

#[test]
fn the_report_lists_at_most_max_problems_and_counts_the_rest() {
    let opts = Options {
        max_problems: 2,
        ..Options::default()
    };
    let p = parse(
        format!("{HEAD}=a,,,,\n=b,,,,\n=c,,,,\n").as_bytes(),
        today(),
        &opts,
    );
    assert_eq!((p.report().problems().len(), p.report().omitted()), (2, 1));
    assert_eq!(p.report().counts(), [(Rule::Formula, 3)]);
    let none = Options {
        max_problems: 0,
        ..Options::default()
    };
    let p = parse(format!("{HEAD}=a,,,,\n").as_bytes(), today(), &none);
    assert!(p.report().problems().is_empty() && !p.is_clean());
}

// ---- Any input ----------------------------------------------------------------------------

/// Pieces of CSV that reach more of the checks than random bytes do.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop::sample::select(vec![
        &b"name"[..],
        b"birthdate",
        b"nationality",
        b"stateless",
        b"is_minor",
        b"notes",
        b"eye_colour",
        b",",
        b";",
        b"\t",
        b"\n",
        b"\r\n",
        b"\r",
        b"\"",
        b"=",
        b"+",
        b"-",
        b"@",
        b" ",
        b"Amina",
        b"1990-01-01",
        b"2015-02-30",
        b"2099-01-01",
        b"NG",
        b"yes",
        b"no",
        b"\xE9",
        b"\xEF\xBB\xBF",
        b"\xFF\xFE",
        b"\x00",
        b"+234 80",
    ]);
    prop::collection::vec(piece, 0..200).prop_map(|v| v.concat())
}

fn check_any(bytes: &[u8], max_rows: usize) -> Result<(), TestCaseError> {
    let opts = Options {
        max_rows,
        ..Options::default()
    };
    let p = parse(bytes, today(), &opts);
    let last_row = 1 + read::terminators(bytes);
    for x in p.report().problems() {
        prop_assert!(x.row >= 1 && x.row <= last_row, "{x:?} beyond {last_row}");
        prop_assert!(
            x.value
                .as_ref()
                .is_none_or(|v| v.chars().count() <= VALUE_CHARS)
        );
        prop_assert!(
            x.column
                .as_ref()
                .is_none_or(|v| v.chars().count() <= VALUE_CHARS)
        );
    }
    for r in p.rows() {
        prop_assert!(r.row >= 2 && r.row <= last_row);
    }
    prop_assert!(p.rows().len() <= p.report().data_rows());
    prop_assert!(p.report().data_rows() <= max_rows);
    let clean = p.is_clean();
    prop_assert_eq!(clean, p.report().problems().is_empty());
    prop_assert_eq!(clean, p.into_rows().is_ok());
    Ok(())
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2_000)) {
        check_any(&bytes, DEFAULT_MAX_ROWS)?;
    }

    #[test]
    fn parse_never_panics_on_csv_like_bytes(bytes in csvish(), max_rows in 1usize..5) {
        check_any(&bytes, max_rows)?;
    }
}
