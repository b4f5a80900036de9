//! Money: the ISO 4217 currency table, amounts as a person types them, and their
//! formatting (see the module doc of [`super`], "Money").

use super::*;

/// The largest amount, in minor units, that a single entry, cap or threshold may hold
/// (10^15: ten thousand billion euros). Sums are checked anyway.
pub const MAX_MINOR: i64 = 1_000_000_000_000_000;

/// Active ISO 4217 currencies in circulation, sorted by code, with their minor-unit
/// exponent (ISO 4217 list one; funds, metals and special units left out).
pub(super) const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

/// An ISO 4217 currency from the table of active codes. Serialised as its code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, utoipa::ToSchema)]
#[schema(value_type = String, example = "EUR")]
pub struct Currency(u16);

impl Currency {
    /// Parse a code such as `EUR` (surrounding blanks and lower case are accepted).
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let code = s.trim().to_ascii_uppercase();
        let shown: String = code.chars().take(8).collect();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(Invalid::new(
                "currency",
                format!(
                    "'{shown}' is not a currency code: use three letters (ISO 4217) such as EUR"
                ),
            ));
        }
        CURRENCIES
            .binary_search_by(|(c, _)| (*c).cmp(code.as_str()))
            .ok()
            .and_then(|i| u16::try_from(i).ok())
            .map(Currency)
            .ok_or_else(|| {
                Invalid::new(
                    "currency",
                    format!("'{shown}' is not an active ISO 4217 currency"),
                )
            })
    }
    fn entry(self) -> (&'static str, u8) {
        CURRENCIES
            .get(usize::from(self.0))
            .copied()
            .unwrap_or(("XXX", 0))
    }
    /// The three-letter code.
    pub fn code(self) -> &'static str {
        self.entry().0
    }
    /// How many decimals the minor unit has (2 for EUR, 0 for JPY, 3 for TND).
    pub fn exponent(self) -> u32 {
        u32::from(self.entry().1)
    }
    /// Every currency of the table, by code.
    pub fn all() -> impl Iterator<Item = Currency> {
        (0..CURRENCIES.len())
            .filter_map(|i| u16::try_from(i).ok())
            .map(Currency)
    }
    fn scale(self) -> i64 {
        10_i64.pow(self.exponent())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Parse an amount a person typed, in minor units of `currency`; more than zero.
/// See the module doc for the accepted format. Every error names `field`.
pub fn parse_amount(field: &'static str, text: &str, currency: Currency) -> Result<i64, Invalid> {
    match parse_money(field, text, currency)? {
        0 => Err(Invalid::new(field, "must be more than zero")),
        v => Ok(v),
    }
}

/// Like [`parse_amount`], but zero is allowed (a cap or a threshold of zero).
pub fn parse_limit(field: &'static str, text: &str, currency: Currency) -> Result<i64, Invalid> {
    parse_money(field, text, currency)
}

fn is_group_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}')
}

fn parse_money(field: &'static str, text: &str, currency: Currency) -> Result<i64, Invalid> {
    let t = text.trim_matches(|c: char| c.is_whitespace());
    let not_a_number = || {
        Invalid::new(
            field,
            "must be a number such as 1250 or 1250.50, without sign or currency",
        )
    };
    if t.is_empty() {
        return Err(Invalid::new(field, "is required"));
    }
    if t.starts_with(['-', '\u{2212}']) {
        return Err(Invalid::new(field, "must not be negative"));
    }
    let mut separators = t.match_indices(['.', ',']);
    let (whole, decimals) = match (separators.next(), separators.next()) {
        (None, _) => (t, None),
        (Some((i, sep)), None) => (&t[..i], Some(&t[i + sep.len()..])),
        (Some(_), Some(_)) => {
            return Err(Invalid::new(
                field,
                "has more than one '.' or ',': use one decimal separator and group thousands with spaces, e.g. 12 500.50",
            ));
        }
    };
    if whole.is_empty() {
        return Err(Invalid::new(
            field,
            "needs a digit before the decimal separator, e.g. 0.50",
        ));
    }
    let groups: Vec<&str> = whole.split(is_group_space).collect();
    if groups
        .iter()
        .any(|g| g.is_empty() || !g.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(not_a_number());
    }
    if groups.len() > 1
        && (groups.first().is_some_and(|g| g.len() > 3) || groups[1..].iter().any(|g| g.len() != 3))
    {
        return Err(Invalid::new(
            field,
            "groups thousands wrongly: use spaces between groups of three digits, e.g. 12 500",
        ));
    }
    let exp = currency.exponent();
    let decimals = match decimals {
        None => "",
        Some("") => {
            return Err(Invalid::new(
                field,
                "has a decimal separator without decimals: write 12 or 12.50",
            ));
        }
        Some(d) if !d.bytes().all(|b| b.is_ascii_digit()) => return Err(not_a_number()),
        Some(d) if d.len() > exp as usize => {
            return Err(Invalid::new(
                field,
                if exp == 0 {
                    format!("{currency} has no decimals: write a whole number")
                } else {
                    format!("{currency} has at most {exp} decimals")
                },
            ));
        }
        Some(d) => d,
    };
    let too_large = || {
        Invalid::new(
            field,
            format!(
                "is too large: at most {}",
                format_minor(MAX_MINOR, currency)
            ),
        )
    };
    let mut value: i64 = 0;
    let padded = decimals
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(exp as usize);
    for b in groups.iter().flat_map(|g| g.bytes()).chain(padded) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(b - b'0')))
            .filter(|v| *v <= MAX_MINOR)
            .ok_or_else(too_large)?;
    }
    Ok(value)
}

/// `minor` as a plain decimal number in `currency`: `1250.50`, `-3.00`, `1250` (JPY).
pub fn format_decimal(minor: i64, currency: Currency) -> String {
    let exp = currency.exponent();
    let scale = currency.scale().unsigned_abs();
    let abs = minor.unsigned_abs();
    let sign = if minor < 0 { "-" } else { "" };
    if exp == 0 {
        format!("{sign}{abs}")
    } else {
        format!(
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = exp as usize
        )
    }
}

/// `minor` with its currency code: `1250.50 EUR`.
pub fn format_minor(minor: i64, currency: Currency) -> String {
    format!("{} {}", format_decimal(minor, currency), currency.code())
}
