//! Money: currencies, amounts, formatting.

use super::*;
use proptest::prelude::*;

#[test]
fn currencies_come_from_the_iso_table_with_their_exponents() {
    for (code, exp) in [
        ("EUR", 2),
        ("USD", 2),
        ("GBP", 2),
        ("CHF", 2),
        ("NGN", 2),
        ("RON", 2),
        ("XOF", 0),
        ("XAF", 0),
        ("GHS", 2),
        ("MAD", 2),
        ("TND", 3),
        ("DZD", 2),
        ("EGP", 2),
        ("ETB", 2),
        ("KES", 2),
        ("UAH", 2),
        ("MDL", 2),
        ("ALL", 2),
        ("BGN", 2),
        ("VND", 0),
        ("CNY", 2),
        ("INR", 2),
        ("PHP", 2),
        ("THB", 2),
        ("JPY", 0),
        ("BRL", 2),
        ("KWD", 3),
    ] {
        let c = cur(code);
        assert_eq!((c.code(), c.exponent()), (code, exp), "{code}");
    }
    assert_eq!(cur(" eur ").code(), "EUR");
    for bad in ["", "EU", "EURO", "E1R", "XYZ", "XAU", "€"] {
        let e = Currency::parse(bad).err();
        assert_eq!(e.map(|e| e.field), Some("currency"), "{bad}");
    }
    let codes: Vec<&str> = CURRENCIES.iter().map(|(c, _)| *c).collect();
    assert!(codes.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
    assert_eq!(Currency::all().count(), CURRENCIES.len());
    assert!(Currency::all().all(|c| Currency::parse(c.code()) == Ok(c)));
}

#[test]
fn a_currency_is_serialised_as_its_code() {
    let json = serde_json::to_string(&eur()).unwrap_or_default();
    assert_eq!(json, "\"EUR\"");
    let back: Result<Currency, _> = serde_json::from_str("\"TND\"");
    assert_eq!(back.ok(), Some(cur("TND")));
    assert!(serde_json::from_str::<Currency>("\"XYZ\"").is_err());
}

#[test]
fn amounts_accept_one_clear_format() {
    let ok = |text: &str, c: &str| {
        parse_amount("amount", text, cur(c)).unwrap_or_else(|e| panic!("{text}: {e}"))
    };
    assert_eq!(ok("1250", "EUR"), 125_000);
    assert_eq!(ok("1250.5", "EUR"), 125_050);
    assert_eq!(ok("1250,50", "EUR"), 125_050);
    assert_eq!(ok("1 250,50", "EUR"), 125_050);
    assert_eq!(ok("1\u{a0}250.50", "EUR"), 125_050);
    assert_eq!(ok("12\u{202f}500\u{202f}000", "EUR"), 1_250_000_000);
    assert_eq!(ok("  0.05 ", "EUR"), 5);
    assert_eq!(ok("007", "EUR"), 700);
    assert_eq!(ok("1250", "JPY"), 1250);
    assert_eq!(ok("1250", "XOF"), 1250);
    assert_eq!(ok("1,250", "TND"), 1250);
    assert_eq!(ok("1.5", "TND"), 1500);
    assert_eq!(parse_limit("cap", "0", eur()), Ok(0));
    assert_eq!(parse_limit("cap", "0,00", eur()), Ok(0));
}

#[test]
fn amounts_refuse_everything_else_and_name_the_field() {
    let err = |text: &str, c: &str| {
        parse_amount("amount", text, cur(c))
            .err()
            .unwrap_or_else(|| panic!("{text} was accepted"))
    };
    for (text, c, says) in [
        ("", "EUR", "is required"),
        ("   ", "EUR", "is required"),
        ("-5", "EUR", "must not be negative"),
        ("\u{2212}5", "EUR", "must not be negative"),
        ("0", "EUR", "more than zero"),
        ("0.00", "EUR", "more than zero"),
        ("abc", "EUR", "must be a number"),
        ("12a", "EUR", "must be a number"),
        ("1e5", "EUR", "must be a number"),
        ("+5", "EUR", "must be a number"),
        ("€5", "EUR", "must be a number"),
        ("5 EUR", "EUR", "must be a number"),
        ("5.x", "EUR", "must be a number"),
        ("1  250", "EUR", "must be a number"),
        ("1.250,50", "EUR", "more than one"),
        ("1.2.3", "EUR", "more than one"),
        (".5", "EUR", "digit before"),
        ("5.", "EUR", "without decimals"),
        ("12 50", "EUR", "groups thousands wrongly"),
        ("1234 567", "EUR", "groups thousands wrongly"),
        ("1,250", "EUR", "EUR has at most 2 decimals"),
        ("1.255", "EUR", "EUR has at most 2 decimals"),
        ("1250.5", "JPY", "JPY has no decimals"),
        ("1.2345", "TND", "TND has at most 3 decimals"),
        ("99999999999999999999999", "EUR", "too large"),
        ("10000000000000.01", "EUR", "too large"),
    ] {
        let e = err(text, c);
        assert_eq!(e.field, "amount", "{text}");
        assert!(e.message.contains(says), "{text}: {}", e.message);
        assert!(e.to_string().starts_with("amount: "));
    }
    assert_eq!(
        parse_amount("amount", "10000000000000", eur()),
        Ok(MAX_MINOR),
        "the largest amount itself is accepted"
    );
    assert_eq!(
        parse_limit("threshold", "-1", eur()).map_err(|e| e.field),
        Err("threshold")
    );
}

#[test]
fn amounts_are_formatted_with_their_minor_unit() {
    assert_eq!(format_minor(125_050, eur()), "1250.50 EUR");
    assert_eq!(format_minor(5, eur()), "0.05 EUR");
    assert_eq!(format_minor(0, eur()), "0.00 EUR");
    assert_eq!(format_minor(-300, eur()), "-3.00 EUR");
    assert_eq!(format_minor(1250, cur("JPY")), "1250 JPY");
    assert_eq!(format_minor(1250, cur("TND")), "1.250 TND");
    assert_eq!(format_decimal(i64::MIN, eur()), "-92233720368547758.08");
}

fn group(digits: &str, sep: char) -> String {
    let n = digits.len();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (n - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

proptest! {
    #[test]
    fn parsing_round_trips_with_formatting(
        i in 0usize..CURRENCIES.len(),
        minor in 0i64..=MAX_MINOR,
        comma in any::<bool>(),
        sep in prop::sample::select(vec![' ', '\u{a0}', '\u{202f}']),
    ) {
        let c = Currency::all().nth(i).unwrap_or_else(|| panic!("no currency {i}"));
        let text = format_decimal(minor, c);
        prop_assert_eq!(parse_limit("amount", &text, c), Ok(minor));
        let (whole, decimals) = text.split_once('.').unwrap_or((&text, ""));
        let mut local = group(whole, sep);
        if !decimals.is_empty() {
            local.push(if comma { ',' } else { '.' });
            local.push_str(decimals);
        }
        prop_assert_eq!(parse_limit("amount", &local, c), Ok(minor), "{}", local);
        prop_assert_eq!(format_minor(minor, c), format!("{} {}", text, c.code()));
    }

    #[test]
    fn negative_amounts_are_always_refused(minor in 1i64..=MAX_MINOR) {
        let text = format_decimal(-minor, eur());
        prop_assert!(parse_limit("amount", &text, eur()).is_err());
    }
}
