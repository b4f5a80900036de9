//! Funding (seed §32, issue #11): funds, what they may pay for and for whom, and the
//! ledger of their money. Pure: no I/O. The service gathers the facts, calls these rules
//! and stores what they accept.
//!
//! # The five sources (§32)
//! "Innovative mechanisms are being developed to finance and carry out the repatriation
//! of victims": a fund has one [`SourceKind`], and each kind names the origin of its
//! money differently ([`SourceKind::origin_kind`]):
//! 1. `state_budget`: the destination state's own funds, for services and counselling and
//!    also for repatriation and accompaniment home: a budget line or decision reference;
//! 2. `confiscated_assets`: confiscated criminal assets, increasingly used for
//!    repatriation: the number of the court order;
//! 3. `business_contribution`: voluntary contributions of businesses that unknowingly
//!    employed victims: the company;
//! 4. `permit_fees`: a share of the fees paid for migrant workers' permits and
//!    certificates, put into victim-support funds: a budget line or decision reference;
//! 5. `intergovernmental_programme`: direct intergovernmental repatriation programmes,
//!    bilateral or regional: the programme agreement.
//!
//! # Money
//! One currency per fund ([`Currency`], ISO 4217, with its minor-unit exponent). Amounts
//! are `i64` counts of minor units (cents for EUR, yen for JPY, millimes for TND), never
//! floats, at most [`MAX_MINOR`]. [`parse_amount`] reads what a person types: digits,
//! optionally grouped by spaces in threes, then optionally one decimal separator, `.` or
//! `,` (both mean the decimal separator, never a thousands separator), then at most the
//! currency's number of decimals. So `1250`, `1250.5`, `1 250,50` are 125 050 cents, and
//! `1,250` in EUR is refused (three decimals) rather than guessed. No sign, no
//! exponent, no currency symbol. [`format_minor`] writes `1250.50 EUR`; the web layer
//! localises the separator.
//!
//! # Eligibility
//! [`eligibility`] says whether a fund may pay an amount of a cost category for a case,
//! and if not, gives every reason ([`FundRefusal`], a stable [`FundRule`] id, named
//! arguments for translation and an English message). Rules, in order:
//! - `currency`: the amount is in the fund's currency (when it is not, the caps and the
//!   balance are not compared: the numbers would mean nothing);
//! - `validity`: the date is inside the fund's validity period (both ends inclusive);
//! - `non_positive`: the amount is more than zero;
//! - `category`: the fund lists the category; a fund pays only what it lists (an empty
//!   list pays nothing: money is never spent on something nobody decided);
//! - `beneficiary`: when the fund names beneficiary groups, the case is in one of them:
//!   a trafficking victim on reasonable grounds or more (identification status
//!   `presumed` or `confirmed`), on conclusive grounds (`confirmed`), or a smuggled
//!   migrant with protected-witness status. No group listed: any case;
//! - `child`: a fund for children pays only for a child;
//! - `nationality` / `destination`: when the fund lists countries, the person's
//!   nationality / the country of return is among them (unknown, stateless or no return
//!   planned: refused, since it cannot be shown to be among them);
//! - `stage`: when the fund lists case stages, the case is at one of them;
//! - `case_cap` / `category_cap`: what the case already uses from the fund (committed
//!   and not released, whether spent or not, pending approvals included), in total or in
//!   the category, plus the amount, stays within the cap. Caps are per case;
//! - `balance`: the fund has the amount available. This is the same test as the
//!   ledger's `overdraw`, given early so that a form can explain it; the ledger check
//!   under the row lock is the one that holds.
//!
//! [`offers`] runs the same rules without an amount, for the form that lists the funds
//! that can pay for a case and a category with what each has left, and why the others
//! are not offered.
//!
//! # The ledger
//! A fund's money moves only by appending a [`Movement`]; entries are never edited or
//! deleted. [`Ledger`] folds the entries into [`Balances`]:
//! - `allocated`: allocations (with their corrections);
//! - `committed_unspent`: what open commitments still set aside (amount − spent −
//!   released), pending approvals included;
//! - `spent`: spendings (with their corrections);
//! - `available` = allocated − committed_unspent − spent, never below zero.
//!
//! A commitment reserves money for a case, a category and a purpose. Spending draws on
//! an approved commitment (partial spending allowed, never more than it has unspent); a
//! release gives back part or all of what it has unspent ([`Ledger::release_rest`] builds
//! the release of all of it, with its exact amount, so that every entry states its
//! amount). Mistakes are fixed by a correction of an allocation, a commitment or a
//! spending (a signed delta with a reason), which obeys the same invariants: no fund
//! below zero, no commitment overspent, no entry below zero. A wrong release is fixed
//! by a new commitment; approvals and refusals are decisions, not amounts, and are not
//! corrected.
//!
//! # Approval above a threshold
//! A commitment above the fund's approval threshold ([`needs_approval`]: strictly above;
//! no threshold, no approval) is recorded `pending_approval` and a fund manager approves
//! or refuses it. **A pending commitment already reserves its money**: it counts in
//! `committed_unspent` (and is shown in `pending`) and lowers `available` at once. So
//! approving never overdraws a fund, whatever was committed meanwhile, and two requests
//! cannot both be promised the same money. Nothing can be spent on it until it is
//! approved; a refusal gives the money back. A correction may not raise an approved
//! commitment above the threshold (that would bypass the approval): a new commitment
//! for the difference goes through approval instead.
//!
//! What depends on the fund's current settings (the threshold, the source's origin, how
//! a purpose fits a category) is checked by [`Ledger::check_append`] only, not when the
//! history is replayed ([`Ledger::replay`]), so that changing a threshold never makes
//! past entries invalid; the money invariants are checked on both.
//!
//! # For the service
//! - Append in one transaction holding the fund's row lock: replay (or load) the
//!   ledger, [`Ledger::check_append`], insert, with strictly increasing entry ids.
//! - The ledger does not know dates, cases or caps: before a commitment, run
//!   [`eligibility`] (currency, validity, category, beneficiary, caps, balance) with
//!   [`Ledger::standing`]; for a correction that raises a commitment, run it again
//!   with the raise as the amount. An allocation in another currency is refused with
//!   [`check_currency`]; its origin is read with [`parse_origin`].
//! - Set a new commitment's status with [`needs_approval`] and the fund's threshold;
//!   record a release of the rest with [`Ledger::release_rest`].
//! - Every refusal carries a [`FundRule`] id: answer 4xx with it, its args and message.

use crate::domain::{CountryCode, Invalid, Stage, str_enum};
use crate::identification::TraffickingStatus;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

// ---------------------------------------------------------------------------------------
// Money
// ---------------------------------------------------------------------------------------

/// The largest amount, in minor units, that a single entry, cap or threshold may hold
/// (10^15: ten thousand billion euros). Sums are checked anyway.
pub const MAX_MINOR: i64 = 1_000_000_000_000_000;

/// Active ISO 4217 currencies in circulation, sorted by code, with their minor-unit
/// exponent (ISO 4217 list one; funds, metals and special units left out).
const CURRENCIES: &[(&str, u8)] = &[
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

// ---------------------------------------------------------------------------------------
// Vocabularies
// ---------------------------------------------------------------------------------------

/// Order by declaration, so that the enum can key a `BTreeMap`/`BTreeSet`.
macro_rules! declared_order {
    ($($t:ty),+) => {$(
        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $t {
            fn cmp(&self, other: &Self) -> Ordering {
                (*self as u8).cmp(&(*other as u8))
            }
        }
    )+};
}

str_enum!(
    /// The five kinds of source named by §32.
    SourceKind, "source" {
        StateBudget => "state_budget",
        ConfiscatedAssets => "confiscated_assets",
        BusinessContribution => "business_contribution",
        PermitFees => "permit_fees",
        IntergovernmentalProgramme => "intergovernmental_programme",
    }
);

str_enum!(
    /// What names the origin of an allocation.
    OriginKind, "origin_kind" {
        BudgetDecision => "budget_decision",
        CourtOrder => "court_order",
        Company => "company",
        ProgrammeAgreement => "programme_agreement",
    }
);

str_enum!(
    /// What a fund pays for.
    CostCategory, "category" {
        Shelter => "shelter",
        Medical => "medical",
        Psychological => "psychological",
        Legal => "legal",
        Interpretation => "interpretation",
        Counselling => "counselling",
        Travel => "travel",
        Escort => "escort",
        Documents => "documents",
        Reintegration => "reintegration",
        FollowUp => "follow_up",
        Other => "other",
    }
);

str_enum!(
    /// A group of persons a fund may pay for: a trafficking victim on reasonable grounds
    /// or more (identification status presumed or confirmed), on conclusive grounds
    /// (confirmed), or a smuggled migrant with protected-witness status.
    Beneficiary, "beneficiary" {
        VictimReasonableGrounds => "victim_reasonable_grounds",
        VictimConclusiveGrounds => "victim_conclusive_grounds",
        ProtectedWitness => "protected_witness",
    }
);

str_enum!(
    /// What a commitment pays for: a planned service, a shelter placement, a return (its
    /// travel, escort or documents), an item of a reintegration plan, or something else,
    /// described.
    PurposeKind, "purpose" {
        Service => "service",
        Placement => "placement",
        Return => "return",
        ReintegrationItem => "reintegration_item",
        Other => "other",
    }
);

str_enum!(
    /// Where a commitment stands.
    CommitmentStatus, "status" {
        PendingApproval => "pending_approval",
        Approved => "approved",
        Refused => "refused",
    }
);

str_enum!(
    /// The kinds of ledger entry (the stored `kind`).
    MovementKind, "kind" {
        Allocation => "allocation",
        Commitment => "commitment",
        Approval => "approval",
        Refusal => "refusal",
        Spending => "spending",
        Release => "release",
        Correction => "correction",
    }
);

str_enum!(
    /// The stable id of every funding rule that can refuse something.
    FundRule, "rule" {
        // Eligibility.
        Currency => "currency",
        Validity => "validity",
        NonPositive => "non_positive",
        Category => "category",
        Beneficiary => "beneficiary",
        Child => "child",
        Nationality => "nationality",
        Destination => "destination",
        Stage => "stage",
        CaseCap => "case_cap",
        CategoryCap => "category_cap",
        Balance => "balance",
        // Ledger.
        Overdraw => "overdraw",
        Overspend => "overspend",
        UnknownCommitment => "unknown_commitment",
        CommitmentClosed => "commitment_closed",
        NotPending => "not_pending",
        NotApproved => "not_approved",
        ReleaseMoreThanUnspent => "release_more_than_unspent",
        UnknownEntry => "unknown_entry",
        NotCorrectable => "not_correctable",
        EmptyCorrection => "empty_correction",
        CorrectionBelowZero => "correction_below_zero",
        Approval => "approval",
        Origin => "origin",
        Purpose => "purpose",
        Required => "required",
        Overflow => "overflow",
        EntryOrder => "entry_order",
        BalanceMismatch => "balance_mismatch",
    }
);

declared_order!(CostCategory, Beneficiary);

impl SourceKind {
    /// What an allocation from this kind of source names as its origin.
    pub fn origin_kind(self) -> OriginKind {
        match self {
            SourceKind::StateBudget | SourceKind::PermitFees => OriginKind::BudgetDecision,
            SourceKind::ConfiscatedAssets => OriginKind::CourtOrder,
            SourceKind::BusinessContribution => OriginKind::Company,
            SourceKind::IntergovernmentalProgramme => OriginKind::ProgrammeAgreement,
        }
    }
}

impl OriginKind {
    /// In words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            OriginKind::BudgetDecision => "the budget line or decision reference",
            OriginKind::CourtOrder => "the number of the court order",
            OriginKind::Company => "the contributing company",
            OriginKind::ProgrammeAgreement => "the programme agreement",
        }
    }
}

impl Beneficiary {
    /// Is the case in this group?
    pub fn covers(self, facts: &CaseFacts) -> bool {
        use TraffickingStatus::{Confirmed, Presumed};
        match self {
            Beneficiary::VictimReasonableGrounds => {
                matches!(facts.trafficking, Some(Presumed | Confirmed))
            }
            Beneficiary::VictimConclusiveGrounds => facts.trafficking == Some(Confirmed),
            Beneficiary::ProtectedWitness => facts.protected_witness,
        }
    }
    fn describe(self) -> &'static str {
        match self {
            Beneficiary::VictimReasonableGrounds => {
                "an identified victim (reasonable or conclusive grounds)"
            }
            Beneficiary::VictimConclusiveGrounds => "a victim identified on conclusive grounds",
            Beneficiary::ProtectedWitness => "a smuggled migrant with protected-witness status",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------

/// A named value of a refusal, for the translated message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Arg {
    pub name: &'static str,
    pub value: String,
}

/// Why something was refused: the rule, its named arguments (amounts as plain decimals
/// in the `currency` argument's currency), and an English message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FundRefusal {
    pub rule: FundRule,
    pub args: Vec<Arg>,
    pub message: String,
}

impl FundRefusal {
    fn new(rule: FundRule, message: impl Into<String>) -> Self {
        Self {
            rule,
            args: Vec::new(),
            message: message.into(),
        }
    }
    fn arg(mut self, name: &'static str, value: impl fmt::Display) -> Self {
        self.args.push(Arg {
            name,
            value: value.to_string(),
        });
        self
    }
    fn money(self, name: &'static str, minor: i64, c: Currency) -> Self {
        self.arg(name, format_decimal(minor, c))
    }
    /// The value of a named argument.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.value.as_str())
    }
}

impl fmt::Display for FundRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FundRefusal {}

fn overflow() -> FundRefusal {
    FundRefusal::new(
        FundRule::Overflow,
        "the amounts are too large to add up safely",
    )
}

fn add(a: i64, b: i64) -> Result<i64, FundRefusal> {
    a.checked_add(b).ok_or_else(overflow)
}

fn sub(a: i64, b: i64) -> Result<i64, FundRefusal> {
    a.checked_sub(b).ok_or_else(overflow)
}

fn required(field: &'static str, text: &str) -> Result<(), FundRefusal> {
    if text.trim().is_empty() {
        Err(
            FundRefusal::new(FundRule::Required, format!("{field} is required"))
                .arg("field", field),
        )
    } else {
        Ok(())
    }
}

fn list<T: fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------------
// Funds and origins
// ---------------------------------------------------------------------------------------

/// The longest origin reference, invoice reference or reason.
pub const REFERENCE_MAX: usize = 200;

/// Where an allocation's money comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Origin {
    pub kind: OriginKind,
    pub reference: String,
}

/// Read the origin of an allocation to a fund of `source`: the reference the source
/// needs (court order number, company, programme agreement, budget reference).
pub fn parse_origin(source: SourceKind, reference: &str) -> Result<Origin, Invalid> {
    let kind = source.origin_kind();
    let reference = crate::domain::parse_line("origin", reference, REFERENCE_MAX).map_err(|e| {
        if reference.trim().is_empty() {
            Invalid::new(
                "origin",
                format!("an allocation from {source} names {}", kind.describe()),
            )
        } else {
            e
        }
    })?;
    Ok(Origin { kind, reference })
}

/// Does this origin fit the fund's source?
pub fn check_origin(fund: &Fund, origin: &Origin) -> Result<(), FundRefusal> {
    origin_fits(&fund.name, fund.source, origin)
}

fn origin_fits(fund: &str, source: SourceKind, origin: &Origin) -> Result<(), FundRefusal> {
    let want = source.origin_kind();
    if origin.kind == want && !origin.reference.trim().is_empty() {
        return Ok(());
    }
    Err(FundRefusal::new(
        FundRule::Origin,
        format!(
            "an allocation to fund {fund} ({source}) names {}",
            want.describe()
        ),
    )
    .arg("fund", fund)
    .arg("source", source)
    .arg("origin_kind", want))
}

/// Who a fund pays for, what, and how much (see the module doc for each rule).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FundRules {
    /// The categories the fund pays; nothing else.
    pub categories: BTreeSet<CostCategory>,
    /// The case must be in one of these groups; empty: any case.
    pub beneficiaries: BTreeSet<Beneficiary>,
    /// Only for a child.
    pub children_only: bool,
    /// The person's nationality must be one of these; empty: any.
    #[schema(value_type = Vec<String>)]
    pub nationalities: Vec<CountryCode>,
    /// The country of return must be one of these; empty: any (or none).
    #[schema(value_type = Vec<String>)]
    pub destinations: Vec<CountryCode>,
    /// The case must be at one of these stages; empty: any.
    pub stages: Vec<Stage>,
    /// At most this much for one case (minor units).
    pub case_cap: Option<i64>,
    /// At most this much of a category for one case (minor units).
    pub category_caps: BTreeMap<CostCategory, i64>,
}

/// A fund as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Fund {
    pub name: String,
    pub source: SourceKind,
    /// The organisation that holds the fund.
    pub holder_org: i64,
    pub currency: Currency,
    /// First day the fund may commit money.
    pub valid_from: NaiveDate,
    /// Last day (inclusive); none: open-ended.
    pub valid_until: Option<NaiveDate>,
    /// Commitments strictly above this (minor units) need a fund manager's approval;
    /// none: never.
    pub approval_threshold: Option<i64>,
    pub rules: FundRules,
}

/// Check a fund's settings before they are saved.
pub fn check_fund(fund: &Fund) -> Result<(), Invalid> {
    crate::domain::parse_line("name", &fund.name, REFERENCE_MAX)?;
    if fund.valid_until.is_some_and(|u| u < fund.valid_from) {
        return Err(Invalid::new(
            "valid_until",
            "cannot be before the fund opens",
        ));
    }
    let bad = |v: i64| !(0..=MAX_MINOR).contains(&v);
    if fund.approval_threshold.is_some_and(bad) {
        return Err(Invalid::new(
            "approval_threshold",
            "must be between zero and the largest amount",
        ));
    }
    if fund.rules.case_cap.is_some_and(bad) || fund.rules.category_caps.values().any(|v| bad(*v)) {
        return Err(Invalid::new(
            "caps",
            "must be between zero and the largest amount",
        ));
    }
    if let Some(c) = fund
        .rules
        .category_caps
        .keys()
        .find(|c| !fund.rules.categories.contains(c))
    {
        return Err(Invalid::new(
            "caps",
            format!("{c} has a cap but is not a category the fund pays"),
        ));
    }
    Ok(())
}

/// Does a commitment of `amount` need a fund manager's approval? Strictly above the
/// threshold; no threshold, never.
pub fn needs_approval(amount: i64, threshold: Option<i64>) -> bool {
    threshold.is_some_and(|t| amount > t)
}

/// Is the amount in the fund's currency?
pub fn check_currency(fund: &Fund, given: Currency) -> Result<(), FundRefusal> {
    if given == fund.currency {
        return Ok(());
    }
    Err(FundRefusal::new(
        FundRule::Currency,
        format!(
            "fund {} holds {}: an amount in {} cannot be paid from it",
            fund.name, fund.currency, given
        ),
    )
    .arg("fund", &fund.name)
    .arg("fund_currency", fund.currency)
    .arg("currency", given))
}

/// May the fund commit money on this day?
pub fn check_validity(fund: &Fund, on: NaiveDate) -> Result<(), FundRefusal> {
    let refusal = |message: String| {
        let r = FundRefusal::new(FundRule::Validity, message)
            .arg("fund", &fund.name)
            .arg("on", on)
            .arg("valid_from", fund.valid_from);
        match fund.valid_until {
            Some(u) => r.arg("valid_until", u),
            None => r,
        }
    };
    if on < fund.valid_from {
        return Err(refusal(format!(
            "fund {} is not open yet on {on}: it opens on {}",
            fund.name, fund.valid_from
        )));
    }
    if let Some(until) = fund.valid_until.filter(|u| on > *u) {
        return Err(refusal(format!(
            "fund {} expired on {until}: it commits nothing on {on}",
            fund.name
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Eligibility
// ---------------------------------------------------------------------------------------

/// What the eligibility rules know about a case, gathered by the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CaseFacts {
    /// The latest trafficking determination, if any.
    pub trafficking: Option<TraffickingStatus>,
    /// A smuggled migrant with protected-witness status
    /// (`identification::protected_witness`).
    pub protected_witness: bool,
    /// `domain::is_child` on the day.
    pub child: bool,
    /// None: unknown or stateless.
    #[schema(value_type = Option<String>)]
    pub nationality: Option<CountryCode>,
    /// The country of return, when a return is planned.
    #[schema(value_type = Option<String>)]
    pub destination: Option<CountryCode>,
    pub stage: Stage,
}

/// What a case already uses from a fund: committed and not released (spent or not,
/// pending approvals included), in total and per category. See [`Ledger::case_usage`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CaseUsage {
    pub total: i64,
    pub by_category: BTreeMap<CostCategory, i64>,
}

impl CaseUsage {
    pub fn category(&self, c: CostCategory) -> i64 {
        self.by_category.get(&c).copied().unwrap_or(0)
    }
}

/// A fund's position for one case: what the fund has available and what the case uses.
/// See [`Ledger::standing`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Standing {
    pub available: i64,
    pub usage: CaseUsage,
}

/// A request to pay an amount of a category on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ask {
    pub category: CostCategory,
    pub amount: i64,
    pub currency: Currency,
    pub on: NaiveDate,
}

/// May `fund` pay `ask` for this case? Every reason it may not, in the order of the
/// module doc; `Ok` when there is none.
pub fn eligibility(
    fund: &Fund,
    standing: &Standing,
    facts: &CaseFacts,
    ask: &Ask,
) -> Result<(), Vec<FundRefusal>> {
    let out = judge(
        fund,
        standing,
        facts,
        ask.category,
        Some((ask.amount, ask.currency)),
        ask.on,
    );
    if out.is_empty() { Ok(()) } else { Err(out) }
}

/// One fund in the list a form offers for a case and a category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Offer {
    pub fund: String,
    pub currency: Currency,
    /// The most it could pay now for this case and category: the least of what is
    /// available, what the case cap leaves and what the category cap leaves.
    pub left: i64,
    /// Why it is not offered; empty when it is.
    pub refusals: Vec<FundRefusal>,
}

impl Offer {
    pub fn eligible(&self) -> bool {
        self.refusals.is_empty()
    }
}

/// For a case and a category, each fund (in the order given) with what it has left and,
/// when it cannot pay, why. Without an amount, the caps and the balance refuse only
/// when nothing at all is left.
pub fn offers<'a>(
    funds: impl IntoIterator<Item = (&'a Fund, &'a Standing)>,
    facts: &CaseFacts,
    category: CostCategory,
    on: NaiveDate,
) -> Vec<Offer> {
    funds
        .into_iter()
        .map(|(fund, standing)| Offer {
            fund: fund.name.clone(),
            currency: fund.currency,
            left: left_for(fund, standing, category),
            refusals: judge(fund, standing, facts, category, None, on),
        })
        .collect()
}

fn left_for(fund: &Fund, standing: &Standing, category: CostCategory) -> i64 {
    let mut left = standing.available;
    if let Some(cap) = fund.rules.case_cap {
        left = left.min(cap.saturating_sub(standing.usage.total));
    }
    if let Some(cap) = fund.rules.category_caps.get(&category) {
        left = left.min(cap.saturating_sub(standing.usage.category(category)));
    }
    left.max(0)
}

fn judge(
    fund: &Fund,
    standing: &Standing,
    facts: &CaseFacts,
    category: CostCategory,
    amount: Option<(i64, Currency)>,
    on: NaiveDate,
) -> Vec<FundRefusal> {
    let rules = &fund.rules;
    let name = fund.name.as_str();
    let cur = fund.currency;
    let mut out = Vec::new();
    let same_currency = match amount {
        Some((_, given)) => match check_currency(fund, given) {
            Ok(()) => true,
            Err(r) => {
                out.push(r);
                false
            }
        },
        None => true,
    };
    if let Err(r) = check_validity(fund, on) {
        out.push(r);
    }
    if let Some((a, given)) = amount.filter(|(a, _)| *a <= 0) {
        out.push(
            FundRefusal::new(FundRule::NonPositive, "the amount must be more than zero")
                .arg("fund", name)
                .money("amount", a, given)
                .arg("currency", given),
        );
    }
    if !rules.categories.contains(&category) {
        out.push(
            FundRefusal::new(
                FundRule::Category,
                format!("fund {name} may not pay {category}: category not eligible"),
            )
            .arg("fund", name)
            .arg("category", category)
            .arg("allowed", list(&rules.categories)),
        );
    }
    if !rules.beneficiaries.is_empty() && !rules.beneficiaries.iter().any(|b| b.covers(facts)) {
        let groups: Vec<&str> = rules.beneficiaries.iter().map(|b| b.describe()).collect();
        out.push(
            FundRefusal::new(
                FundRule::Beneficiary,
                format!(
                    "fund {name} may not pay for this case: the case is not {}",
                    groups.join(" or ")
                ),
            )
            .arg("fund", name)
            .arg("accepted", list(&rules.beneficiaries)),
        );
    }
    if rules.children_only && !facts.child {
        out.push(
            FundRefusal::new(
                FundRule::Child,
                format!("fund {name} pays only for children: the person is not a child"),
            )
            .arg("fund", name),
        );
    }
    let country_rule = |rule: FundRule,
                        arg: &'static str,
                        allowed: &[CountryCode],
                        given: Option<&CountryCode>,
                        what: &str,
                        missing: &str|
     -> Option<FundRefusal> {
        if allowed.is_empty() || given.is_some_and(|g| allowed.contains(g)) {
            return None;
        }
        let allowed_list = list(allowed.iter().map(CountryCode::as_str));
        let message = match given {
            Some(g) => format!(
                "fund {name} may not pay for this case: {what} {} is not among {allowed_list}",
                g.as_str()
            ),
            None => format!(
                "fund {name} may not pay for this case: {missing} ({what} must be among {allowed_list})"
            ),
        };
        Some(
            FundRefusal::new(rule, message)
                .arg("fund", name)
                .arg(arg, given.map_or("", CountryCode::as_str))
                .arg("allowed", allowed_list),
        )
    };
    out.extend(country_rule(
        FundRule::Nationality,
        "nationality",
        &rules.nationalities,
        facts.nationality.as_ref(),
        "nationality",
        "the person's nationality is unknown or the person is stateless",
    ));
    out.extend(country_rule(
        FundRule::Destination,
        "destination",
        &rules.destinations,
        facts.destination.as_ref(),
        "country of return",
        "no return is planned",
    ));
    if !rules.stages.is_empty() && !rules.stages.contains(&facts.stage) {
        out.push(
            FundRefusal::new(
                FundRule::Stage,
                format!(
                    "fund {name} may not pay at stage {}: only at {}",
                    facts.stage,
                    list(&rules.stages)
                ),
            )
            .arg("fund", name)
            .arg("stage", facts.stage)
            .arg("allowed", list(&rules.stages)),
        );
    }
    if !same_currency {
        return out;
    }
    // Without an amount, "something must be left": one minor unit.
    let need = amount.map_or(1, |(a, _)| a.max(0));
    let asked = |r: FundRefusal| match amount {
        Some((a, _)) => r.money("amount", a, cur),
        None => r,
    };
    let asked_words = match amount {
        Some((a, _)) => format!("{} asked", format_minor(a, cur)),
        None => "nothing is left".to_owned(),
    };
    let cap_rule = |rule: FundRule, cap: i64, used: i64, what: String| -> Option<FundRefusal> {
        if used.checked_add(need).is_some_and(|total| total <= cap) {
            return None;
        }
        Some(asked(
            FundRefusal::new(
                rule,
                format!(
                    "fund {name} may pay at most {} {what}: {} already committed or spent, {asked_words}",
                    format_minor(cap, cur),
                    format_minor(used, cur)
                ),
            )
            .arg("fund", name)
            .arg("category", category)
            .money("cap", cap, cur)
            .money("used", used, cur)
            .arg("currency", cur),
        ))
    };
    if let Some(cap) = rules.case_cap {
        out.extend(cap_rule(
            FundRule::CaseCap,
            cap,
            standing.usage.total,
            "for one case".to_owned(),
        ));
    }
    if let Some(cap) = rules.category_caps.get(&category) {
        out.extend(cap_rule(
            FundRule::CategoryCap,
            *cap,
            standing.usage.category(category),
            format!("of {category} for one case"),
        ));
    }
    if standing.available < need {
        let message = match amount {
            Some((a, _)) => format!(
                "fund {name} has {} available: {} asked",
                format_minor(standing.available, cur),
                format_minor(a, cur)
            ),
            None => format!("fund {name} has nothing left"),
        };
        out.push(asked(
            FundRefusal::new(FundRule::Balance, message)
                .arg("fund", name)
                .money("available", standing.available, cur)
                .arg("currency", cur),
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------
// Ledger
// ---------------------------------------------------------------------------------------

/// The id of a ledger entry (assigned by the store, strictly increasing).
pub type EntryId = i64;

/// What a commitment pays for: a kind and, except for `other`, the record it pays
/// (the service, placement, return or reintegration plan item), with a description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CommitmentPurpose {
    pub kind: PurposeKind,
    pub record_id: Option<i64>,
    pub description: String,
}

/// Does a purpose fit the category it is committed under? A return pays its travel,
/// escort or documents; a placement is shelter; every purpose but `other` names its
/// record; `other` is described.
pub fn check_purpose(
    category: CostCategory,
    purpose: &CommitmentPurpose,
) -> Result<(), FundRefusal> {
    use CostCategory::{Documents, Escort, Shelter, Travel};
    let refuse = |message: String| {
        Err(FundRefusal::new(FundRule::Purpose, message)
            .arg("purpose", purpose.kind)
            .arg("category", category))
    };
    match purpose.kind {
        PurposeKind::Return if !matches!(category, Travel | Escort | Documents) => refuse(format!(
            "a return's commitment pays its travel, escort or documents, not {category}"
        )),
        PurposeKind::Placement if category != Shelter => refuse(format!(
            "a placement's commitment pays shelter, not {category}"
        )),
        PurposeKind::Other if purpose.description.trim().is_empty() => {
            refuse("describe what the commitment pays for".to_owned())
        }
        k if k != PurposeKind::Other && purpose.record_id.is_none() => {
            refuse(format!("a commitment for a {k} names the {k} it pays for"))
        }
        _ => Ok(()),
    }
}

/// One ledger entry. Amounts are positive minor units of the fund's currency, except a
/// correction's delta, which is signed and not zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Movement {
    /// Money put into the fund.
    Allocation { amount: i64, origin: Origin },
    /// Money set aside for a case, a category and a purpose; `status` is
    /// `pending_approval` exactly when [`needs_approval`], else `approved`.
    Commitment {
        case_id: i64,
        category: CostCategory,
        purpose: CommitmentPurpose,
        amount: i64,
        status: CommitmentStatus,
    },
    /// A fund manager approves a pending commitment.
    Approval { commitment: EntryId },
    /// A fund manager refuses a pending commitment: its money goes back to the fund.
    Refusal { commitment: EntryId, reason: String },
    /// An invoice paid from an approved commitment.
    Spending {
        commitment: EntryId,
        amount: i64,
        invoice: String,
    },
    /// Unspent money of a commitment given back to the fund.
    Release { commitment: EntryId, amount: i64 },
    /// A correction of an allocation, commitment or spending by a signed amount.
    Correction {
        of: EntryId,
        delta: i64,
        reason: String,
    },
}

impl Movement {
    pub fn kind(&self) -> MovementKind {
        match self {
            Movement::Allocation { .. } => MovementKind::Allocation,
            Movement::Commitment { .. } => MovementKind::Commitment,
            Movement::Approval { .. } => MovementKind::Approval,
            Movement::Refusal { .. } => MovementKind::Refusal,
            Movement::Spending { .. } => MovementKind::Spending,
            Movement::Release { .. } => MovementKind::Release,
            Movement::Correction { .. } => MovementKind::Correction,
        }
    }
}

/// A fund's balances, derived from its entries. `pending` is the part of
/// `committed_unspent` that awaits approval (already reserved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Balances {
    pub allocated: i64,
    pub committed_unspent: i64,
    pub pending: i64,
    pub spent: i64,
    /// allocated − committed_unspent − spent; never below zero.
    pub available: i64,
}

/// A commitment as its entries leave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CommitmentState {
    pub case_id: i64,
    pub category: CostCategory,
    pub purpose: CommitmentPurpose,
    /// The amount, with its corrections.
    pub amount: i64,
    pub spent: i64,
    pub released: i64,
    pub status: CommitmentStatus,
}

impl CommitmentState {
    /// What it still sets aside: nothing once refused.
    pub fn unspent(&self) -> i64 {
        if self.status == CommitmentStatus::Refused {
            0
        } else {
            self.amount - self.spent - self.released
        }
    }
    /// What the case uses from the fund through it (spent or still set aside).
    pub fn used(&self) -> i64 {
        if self.status == CommitmentStatus::Refused {
            0
        } else {
            self.amount - self.released
        }
    }
}

/// What the ledger remembers of an entry, for corrections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Posted {
    Allocation { amount: i64 },
    Commitment,
    Spending { commitment: EntryId, amount: i64 },
    Other(MovementKind),
}

/// What appending a movement would change.
struct Step {
    balances: Balances,
    posted: Posted,
    /// A commitment created (key None: the new entry) or changed.
    commitment: Option<(Option<EntryId>, CommitmentState)>,
    /// A corrected entry's new record.
    target: Option<(EntryId, Posted)>,
}

/// A fund's ledger: the fold of its entries, and the rule deciding what may be appended.
#[derive(Debug, Clone)]
pub struct Ledger {
    fund: String,
    currency: Currency,
    source: SourceKind,
    approval_threshold: Option<i64>,
    balances: Balances,
    entries: BTreeMap<EntryId, Posted>,
    commitments: BTreeMap<EntryId, CommitmentState>,
    last: Option<EntryId>,
}

impl Ledger {
    /// An empty ledger for this fund.
    pub fn new(fund: &Fund) -> Self {
        Self {
            fund: fund.name.clone(),
            currency: fund.currency,
            source: fund.source,
            approval_threshold: fund.approval_threshold,
            balances: Balances::default(),
            entries: BTreeMap::new(),
            commitments: BTreeMap::new(),
            last: None,
        }
    }

    /// Fold stored entries (in id order), checking the money invariants on each: a
    /// corrupted history is refused with the rule it breaks.
    pub fn replay(
        fund: &Fund,
        entries: impl IntoIterator<Item = (EntryId, Movement)>,
    ) -> Result<Self, FundRefusal> {
        let mut ledger = Ledger::new(fund);
        for (id, m) in entries {
            ledger.apply(id, &m)?;
        }
        Ok(ledger)
    }

    pub fn balances(&self) -> Balances {
        self.balances
    }

    pub fn commitment(&self, id: EntryId) -> Option<&CommitmentState> {
        self.commitments.get(&id)
    }

    pub fn commitments(&self) -> impl Iterator<Item = (EntryId, &CommitmentState)> {
        self.commitments.iter().map(|(id, c)| (*id, c))
    }

    /// What a case uses from this fund (commitments not refused: amount − released).
    pub fn case_usage(&self, case_id: i64) -> CaseUsage {
        let mut u = CaseUsage::default();
        for c in self.commitments.values().filter(|c| c.case_id == case_id) {
            u.total = u.total.saturating_add(c.used());
            let e = u.by_category.entry(c.category).or_insert(0);
            *e = e.saturating_add(c.used());
        }
        u
    }

    /// The fund's position for a case, for [`eligibility`] and [`offers`].
    pub fn standing(&self, case_id: i64) -> Standing {
        Standing {
            available: self.balances.available,
            usage: self.case_usage(case_id),
        }
    }

    /// The release of everything a commitment has unspent, with its exact amount.
    pub fn release_rest(&self, commitment: EntryId) -> Result<Movement, FundRefusal> {
        let c = self.open_commitment(commitment)?;
        if c.unspent() <= 0 {
            return Err(self.release_refusal(commitment, c.unspent(), 0));
        }
        Ok(Movement::Release {
            commitment,
            amount: c.unspent(),
        })
    }

    /// Do stored balances match the entries?
    pub fn check_balances(&self, stored: &Balances) -> Result<(), FundRefusal> {
        let b = self.balances;
        if *stored == b {
            return Ok(());
        }
        let c = self.currency;
        Err(FundRefusal::new(
            FundRule::BalanceMismatch,
            format!(
                "the stored balances of fund {} do not match its entries: stored {} available, the entries give {}",
                self.fund,
                format_minor(stored.available, c),
                format_minor(b.available, c)
            ),
        )
        .arg("fund", &self.fund)
        .money("stored_available", stored.available, c)
        .money("available", b.available, c)
        .arg("currency", c))
    }

    /// May this movement be appended now? The money invariants, then the rules that
    /// depend on the fund's current settings (approval threshold, origin, purpose).
    pub fn check_append(&self, m: &Movement) -> Result<(), FundRefusal> {
        self.step(m)?;
        self.policy(m)
    }

    /// Record an entry the store has kept under `id`, checking the money invariants
    /// only (not the fund's current settings: see the module doc).
    pub fn apply(&mut self, id: EntryId, m: &Movement) -> Result<(), FundRefusal> {
        if let Some(last) = self.last.filter(|l| id <= *l) {
            return Err(FundRefusal::new(
                FundRule::EntryOrder,
                format!("entry #{id} comes after entry #{last}: entries are appended in order"),
            )
            .arg("entry", id)
            .arg("last", last));
        }
        let s = self.step(m)?;
        self.balances = s.balances;
        if let Some((key, c)) = s.commitment {
            self.commitments.insert(key.unwrap_or(id), c);
        }
        if let Some((target, posted)) = s.target {
            self.entries.insert(target, posted);
        }
        self.entries.insert(id, s.posted);
        self.last = Some(id);
        Ok(())
    }

    /// [`check_append`](Self::check_append), then [`apply`](Self::apply).
    pub fn append(&mut self, id: EntryId, m: &Movement) -> Result<(), FundRefusal> {
        self.check_append(m)?;
        self.apply(id, m)
    }

    fn money(&self, minor: i64) -> String {
        format_minor(minor, self.currency)
    }

    fn positive(&self, amount: i64) -> Result<(), FundRefusal> {
        if amount > 0 && amount <= MAX_MINOR {
            return Ok(());
        }
        let message = if amount > 0 {
            format!("the amount is too large: at most {}", self.money(MAX_MINOR))
        } else {
            "the amount must be more than zero".to_owned()
        };
        Err(FundRefusal::new(FundRule::NonPositive, message)
            .money("amount", amount, self.currency)
            .arg("currency", self.currency))
    }

    fn overdraw(&self, amount: i64) -> FundRefusal {
        let available = self.balances.available;
        FundRefusal::new(
            FundRule::Overdraw,
            format!(
                "fund {} would go below zero: {} available, {} asked",
                self.fund,
                self.money(available),
                self.money(amount)
            ),
        )
        .arg("fund", &self.fund)
        .money("available", available, self.currency)
        .money("amount", amount, self.currency)
        .arg("currency", self.currency)
    }

    fn overspend(&self, id: EntryId, unspent: i64, amount: i64) -> FundRefusal {
        FundRefusal::new(
            FundRule::Overspend,
            format!(
                "commitment #{id} would be overspent: {} left on it, {} asked",
                self.money(unspent),
                self.money(amount)
            ),
        )
        .arg("commitment", id)
        .money("unspent", unspent, self.currency)
        .money("amount", amount, self.currency)
        .arg("currency", self.currency)
    }

    fn release_refusal(&self, id: EntryId, unspent: i64, amount: i64) -> FundRefusal {
        FundRefusal::new(
            FundRule::ReleaseMoreThanUnspent,
            format!(
                "commitment #{id} has {} unspent: {} cannot be released",
                self.money(unspent),
                self.money(amount)
            ),
        )
        .arg("commitment", id)
        .money("unspent", unspent, self.currency)
        .money("amount", amount, self.currency)
        .arg("currency", self.currency)
    }

    /// A commitment that exists and was not refused.
    fn open_commitment(&self, id: EntryId) -> Result<&CommitmentState, FundRefusal> {
        let c = self.commitments.get(&id).ok_or_else(|| {
            FundRefusal::new(
                FundRule::UnknownCommitment,
                format!("fund {} has no commitment #{id}", self.fund),
            )
            .arg("fund", &self.fund)
            .arg("commitment", id)
        })?;
        if c.status == CommitmentStatus::Refused {
            return Err(FundRefusal::new(
                FundRule::CommitmentClosed,
                format!("commitment #{id} was refused: nothing more is recorded against it"),
            )
            .arg("commitment", id));
        }
        Ok(c)
    }

    fn pending_only(&self, id: EntryId, c: &CommitmentState) -> Result<(), FundRefusal> {
        if c.status == CommitmentStatus::PendingApproval {
            return Ok(());
        }
        Err(FundRefusal::new(
            FundRule::NotPending,
            format!(
                "commitment #{id} is not awaiting approval: it is {}",
                c.status
            ),
        )
        .arg("commitment", id)
        .arg("status", c.status))
    }

    /// The money invariants: what appending `m` would leave, or why it may not.
    fn step(&self, m: &Movement) -> Result<Step, FundRefusal> {
        let mut b = self.balances;
        let posted_other = Posted::Other(m.kind());
        let step = match m {
            Movement::Allocation { amount, origin } => {
                self.positive(*amount)?;
                required("origin", &origin.reference)?;
                b.allocated = add(b.allocated, *amount)?;
                Step {
                    balances: b,
                    posted: Posted::Allocation { amount: *amount },
                    commitment: None,
                    target: None,
                }
            }
            Movement::Commitment {
                case_id,
                category,
                purpose,
                amount,
                status,
            } => {
                self.positive(*amount)?;
                if *status == CommitmentStatus::Refused {
                    return Err(FundRefusal::new(
                        FundRule::Approval,
                        "a commitment starts pending approval or approved, not refused",
                    ));
                }
                if *amount > b.available {
                    return Err(self.overdraw(*amount));
                }
                b.committed_unspent = add(b.committed_unspent, *amount)?;
                if *status == CommitmentStatus::PendingApproval {
                    b.pending = add(b.pending, *amount)?;
                }
                Step {
                    balances: b,
                    posted: Posted::Commitment,
                    commitment: Some((
                        None,
                        CommitmentState {
                            case_id: *case_id,
                            category: *category,
                            purpose: purpose.clone(),
                            amount: *amount,
                            spent: 0,
                            released: 0,
                            status: *status,
                        },
                    )),
                    target: None,
                }
            }
            Movement::Approval { commitment } | Movement::Refusal { commitment, .. } => {
                let c = self.open_commitment(*commitment)?;
                self.pending_only(*commitment, c)?;
                let mut c = c.clone();
                b.pending = sub(b.pending, c.unspent())?;
                if let Movement::Refusal { reason, .. } = m {
                    required("reason", reason)?;
                    b.committed_unspent = sub(b.committed_unspent, c.unspent())?;
                    c.status = CommitmentStatus::Refused;
                } else {
                    c.status = CommitmentStatus::Approved;
                }
                Step {
                    balances: b,
                    posted: posted_other,
                    commitment: Some((Some(*commitment), c)),
                    target: None,
                }
            }
            Movement::Spending {
                commitment,
                amount,
                invoice,
            } => {
                self.positive(*amount)?;
                required("invoice", invoice)?;
                let c = self.open_commitment(*commitment)?;
                if c.status == CommitmentStatus::PendingApproval {
                    return Err(FundRefusal::new(
                        FundRule::NotApproved,
                        format!(
                            "commitment #{commitment} awaits a fund manager's approval: nothing is spent on it before"
                        ),
                    )
                    .arg("commitment", commitment));
                }
                if *amount > c.unspent() {
                    return Err(self.overspend(*commitment, c.unspent(), *amount));
                }
                let mut c = c.clone();
                c.spent = add(c.spent, *amount)?;
                b.committed_unspent = sub(b.committed_unspent, *amount)?;
                b.spent = add(b.spent, *amount)?;
                Step {
                    balances: b,
                    posted: Posted::Spending {
                        commitment: *commitment,
                        amount: *amount,
                    },
                    commitment: Some((Some(*commitment), c)),
                    target: None,
                }
            }
            Movement::Release { commitment, amount } => {
                self.positive(*amount)?;
                let c = self.open_commitment(*commitment)?;
                if *amount > c.unspent() {
                    return Err(self.release_refusal(*commitment, c.unspent(), *amount));
                }
                let mut c = c.clone();
                c.released = add(c.released, *amount)?;
                b.committed_unspent = sub(b.committed_unspent, *amount)?;
                if c.status == CommitmentStatus::PendingApproval {
                    b.pending = sub(b.pending, *amount)?;
                }
                Step {
                    balances: b,
                    posted: posted_other,
                    commitment: Some((Some(*commitment), c)),
                    target: None,
                }
            }
            Movement::Correction { of, delta, reason } => {
                self.correction(b, *of, *delta, reason)?
            }
        };
        let mut b = step.balances;
        b.available = sub(sub(b.allocated, b.committed_unspent)?, b.spent)?;
        // Defence in depth: whatever the branch above, the invariants hold.
        if b.available < 0 {
            return Err(self.overdraw(sub(self.balances.available, b.available)?));
        }
        // (A new commitment, key None, starts with nothing spent: only an existing one,
        // with its own id, can be overspent.)
        if let Some((Some(id), c)) = &step.commitment
            && c.unspent() < 0
        {
            return Err(self.overspend(*id, 0, -c.unspent()));
        }
        Ok(Step {
            balances: b,
            ..step
        })
    }

    fn correction(
        &self,
        mut b: Balances,
        of: EntryId,
        delta: i64,
        reason: &str,
    ) -> Result<Step, FundRefusal> {
        required("reason", reason)?;
        if delta == 0 {
            return Err(FundRefusal::new(
                FundRule::EmptyCorrection,
                "a correction changes the amount: it cannot be zero",
            ));
        }
        if delta.unsigned_abs() > MAX_MINOR.unsigned_abs() {
            return Err(overflow());
        }
        let target = self.entries.get(&of).copied().ok_or_else(|| {
            FundRefusal::new(
                FundRule::UnknownEntry,
                format!("fund {} has no entry #{of}", self.fund),
            )
            .arg("fund", &self.fund)
            .arg("entry", of)
        })?;
        let below_zero = |amount: i64| {
            FundRefusal::new(
                FundRule::CorrectionBelowZero,
                format!(
                    "entry #{of} would go below zero: it is {}, the correction is {}",
                    self.money(amount),
                    self.money(delta)
                ),
            )
            .arg("entry", of)
            .money("amount", amount, self.currency)
            .money("delta", delta, self.currency)
            .arg("currency", self.currency)
        };
        let posted = Posted::Other(MovementKind::Correction);
        match target {
            Posted::Allocation { amount } => {
                let corrected = add(amount, delta)?;
                if corrected < 0 {
                    return Err(below_zero(amount));
                }
                if -delta > b.available {
                    return Err(self.overdraw(-delta));
                }
                b.allocated = add(b.allocated, delta)?;
                Ok(Step {
                    balances: b,
                    posted,
                    commitment: None,
                    target: Some((of, Posted::Allocation { amount: corrected })),
                })
            }
            Posted::Commitment => {
                let c = self.open_commitment(of)?;
                let corrected = add(c.amount, delta)?;
                let used = add(c.spent, c.released)?;
                if corrected < used {
                    return Err(FundRefusal::new(
                        FundRule::Overspend,
                        format!(
                            "commitment #{of} would be overspent: {} already spent or released, corrected amount {}",
                            self.money(used),
                            self.money(corrected)
                        ),
                    )
                    .arg("commitment", of)
                    .money("used", used, self.currency)
                    .money("amount", corrected, self.currency)
                    .arg("currency", self.currency));
                }
                if delta > b.available {
                    return Err(self.overdraw(delta));
                }
                let mut c = c.clone();
                c.amount = corrected;
                b.committed_unspent = add(b.committed_unspent, delta)?;
                if c.status == CommitmentStatus::PendingApproval {
                    b.pending = add(b.pending, delta)?;
                }
                Ok(Step {
                    balances: b,
                    posted,
                    commitment: Some((Some(of), c)),
                    target: None,
                })
            }
            Posted::Spending { commitment, amount } => {
                let corrected = add(amount, delta)?;
                if corrected < 0 {
                    return Err(below_zero(amount));
                }
                let c = self.open_commitment(commitment)?;
                if delta > c.unspent() {
                    return Err(self.overspend(commitment, c.unspent(), delta));
                }
                let mut c = c.clone();
                c.spent = add(c.spent, delta)?;
                b.spent = add(b.spent, delta)?;
                b.committed_unspent = sub(b.committed_unspent, delta)?;
                Ok(Step {
                    balances: b,
                    posted,
                    commitment: Some((Some(commitment), c)),
                    target: Some((
                        of,
                        Posted::Spending {
                            commitment,
                            amount: corrected,
                        },
                    )),
                })
            }
            Posted::Other(kind) => Err(FundRefusal::new(
                FundRule::NotCorrectable,
                format!(
                    "entry #{of} is a {kind}: only allocations, commitments and spendings are corrected (a wrong release is made good by a new commitment)"
                ),
            )
            .arg("entry", of)
            .arg("kind", kind)),
        }
    }

    /// The rules that depend on the fund's current settings.
    fn policy(&self, m: &Movement) -> Result<(), FundRefusal> {
        let threshold = self.approval_threshold;
        let threshold_words = |t: Option<i64>| match t {
            Some(t) => self.money(t),
            None => "none".to_owned(),
        };
        match m {
            Movement::Allocation { origin, .. } => origin_fits(&self.fund, self.source, origin),
            Movement::Commitment {
                category,
                purpose,
                amount,
                status,
                ..
            } => {
                check_purpose(*category, purpose)?;
                let pending = needs_approval(*amount, threshold);
                if pending == (*status == CommitmentStatus::PendingApproval) {
                    return Ok(());
                }
                let message = if pending {
                    format!(
                        "a commitment of {} is above fund {}'s approval threshold of {}: it awaits a fund manager's approval",
                        self.money(*amount),
                        self.fund,
                        threshold_words(threshold)
                    )
                } else {
                    format!(
                        "a commitment of {} is within fund {}'s approval threshold ({}): it is approved without waiting",
                        self.money(*amount),
                        self.fund,
                        threshold_words(threshold)
                    )
                };
                let r = FundRefusal::new(FundRule::Approval, message)
                    .arg("fund", &self.fund)
                    .money("amount", *amount, self.currency)
                    .arg("currency", self.currency);
                Err(match threshold {
                    Some(t) => r.money("threshold", t, self.currency),
                    None => r,
                })
            }
            Movement::Correction { of, delta, .. } if *delta > 0 => {
                let Some(c) = self.commitments.get(of) else {
                    return Ok(());
                };
                let corrected = c.amount.saturating_add(*delta);
                if c.status == CommitmentStatus::Approved && needs_approval(corrected, threshold) {
                    let r = FundRefusal::new(
                        FundRule::Approval,
                        format!(
                            "raising approved commitment #{of} to {} goes above fund {}'s approval threshold of {}: commit the difference separately, for a fund manager to approve",
                            self.money(corrected),
                            self.fund,
                            threshold_words(threshold)
                        ),
                    )
                    .arg("fund", &self.fund)
                    .arg("commitment", of)
                    .money("amount", corrected, self.currency)
                    .arg("currency", self.currency);
                    return Err(match threshold {
                        Some(t) => r.money("threshold", t, self.currency),
                        None => r,
                    });
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cur(code: &str) -> Currency {
        Currency::parse(code).unwrap_or_else(|e| panic!("{e}"))
    }
    fn eur() -> Currency {
        cur("EUR")
    }
    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_else(|| panic!("bad date"))
    }
    fn cc(s: &str) -> CountryCode {
        CountryCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    // ---- money ----------------------------------------------------------------------

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

    // ---- sources, origins, fund settings ---------------------------------------------

    #[test]
    fn each_source_names_its_own_origin() {
        use SourceKind::*;
        for (source, kind) in [
            (StateBudget, OriginKind::BudgetDecision),
            (ConfiscatedAssets, OriginKind::CourtOrder),
            (BusinessContribution, OriginKind::Company),
            (PermitFees, OriginKind::BudgetDecision),
            (IntergovernmentalProgramme, OriginKind::ProgrammeAgreement),
        ] {
            let o = parse_origin(source, " TJ Paris 24/0193 ")
                .unwrap_or_else(|e| panic!("{source}: {e}"));
            assert_eq!(o.kind, kind, "{source}");
            assert_eq!(o.reference, "TJ Paris 24/0193");
        }
        assert_eq!(SourceKind::ALL.len(), 5, "the five sources of §32");
        let e = parse_origin(ConfiscatedAssets, "  ").err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some(
                "origin: an allocation from confiscated_assets names the number of the court order"
                    .to_owned()
            )
        );
        assert!(parse_origin(BusinessContribution, &"x".repeat(REFERENCE_MAX + 1)).is_err());
        let mut f = fund();
        f.source = ConfiscatedAssets;
        let company = Origin {
            kind: OriginKind::Company,
            reference: "Agro SA".into(),
        };
        let r = check_origin(&f, &company).err();
        assert_eq!(r.as_ref().map(|r| r.rule), Some(FundRule::Origin));
        assert_eq!(
            r.map(|r| r.message),
            Some(
                "an allocation to fund Retours NG (confiscated_assets) names the number of the court order"
                    .to_owned()
            )
        );
        let order = Origin {
            kind: OriginKind::CourtOrder,
            reference: "24/0193".into(),
        };
        assert_eq!(check_origin(&f, &order), Ok(()));
    }

    #[test]
    fn fund_settings_are_checked_before_they_are_saved() {
        assert_eq!(check_fund(&fund()), Ok(()));
        let mut f = fund();
        f.valid_until = Some(d(2025, 12, 31));
        assert_eq!(check_fund(&f).map_err(|e| e.field), Err("valid_until"));
        let mut f = fund();
        f.approval_threshold = Some(-1);
        assert_eq!(
            check_fund(&f).map_err(|e| e.field),
            Err("approval_threshold")
        );
        let mut f = fund();
        f.rules.category_caps.insert(CostCategory::Medical, 100);
        assert!(check_fund(&f).is_err_and(|e| e.message.contains("medical")));
        let mut f = fund();
        f.rules.case_cap = Some(MAX_MINOR + 1);
        assert_eq!(check_fund(&f).map_err(|e| e.field), Err("caps"));
        let mut f = fund();
        f.name = " ".into();
        assert_eq!(check_fund(&f).map_err(|e| e.field), Err("name"));
    }

    #[test]
    fn approval_is_needed_strictly_above_the_threshold() {
        assert!(!needs_approval(1_000_000, None));
        assert!(!needs_approval(100, Some(100)));
        assert!(needs_approval(101, Some(100)));
        assert!(needs_approval(1, Some(0)));
    }

    // ---- eligibility -----------------------------------------------------------------

    /// A bilateral return programme for Nigerian victims going home.
    fn fund() -> Fund {
        use CostCategory::*;
        Fund {
            name: "Retours NG".into(),
            source: SourceKind::IntergovernmentalProgramme,
            holder_org: 1,
            currency: eur(),
            valid_from: d(2026, 1, 1),
            valid_until: Some(d(2026, 12, 31)),
            approval_threshold: Some(100_000),
            rules: FundRules {
                categories: [Travel, Escort, Documents, Reintegration].into(),
                beneficiaries: [
                    Beneficiary::VictimReasonableGrounds,
                    Beneficiary::ProtectedWitness,
                ]
                .into(),
                children_only: false,
                nationalities: vec![cc("NG")],
                destinations: vec![cc("NG")],
                stages: vec![Stage::SolutionPlanning, Stage::ReturnInProgress],
                case_cap: Some(300_000),
                category_caps: [(Escort, 50_000)].into(),
            },
        }
    }

    fn facts() -> CaseFacts {
        CaseFacts {
            trafficking: Some(TraffickingStatus::Presumed),
            protected_witness: false,
            child: false,
            nationality: Some(cc("NG")),
            destination: Some(cc("NG")),
            stage: Stage::ReturnInProgress,
        }
    }

    fn rich() -> Standing {
        Standing {
            available: 10_000_000,
            usage: CaseUsage::default(),
        }
    }

    fn ask(category: CostCategory, amount: i64) -> Ask {
        Ask {
            category,
            amount,
            currency: eur(),
            on: d(2026, 6, 1),
        }
    }

    fn check(f: &Fund, s: &Standing, c: &CaseFacts, a: &Ask) -> Vec<FundRefusal> {
        eligibility(f, s, c, a).err().unwrap_or_default()
    }

    fn rules(r: &[FundRefusal]) -> Vec<FundRule> {
        r.iter().map(|r| r.rule).collect()
    }

    /// The single refusal, or a panic that shows what there was.
    fn only(r: Vec<FundRefusal>, rule: FundRule) -> FundRefusal {
        assert_eq!(rules(&r), [rule], "{r:?}");
        r.into_iter().next().unwrap_or_else(|| panic!("no refusal"))
    }

    #[test]
    fn an_eligible_case_passes() {
        assert_eq!(
            eligibility(
                &fund(),
                &rich(),
                &facts(),
                &ask(CostCategory::Travel, 80_000)
            ),
            Ok(())
        );
    }

    #[test]
    fn category_rule() {
        let mut f = fund();
        f.rules.categories.remove(&CostCategory::Escort);
        f.rules.category_caps.clear();
        let r = only(
            check(&f, &rich(), &facts(), &ask(CostCategory::Escort, 100)),
            FundRule::Category,
        );
        assert_eq!(
            r.to_string(),
            "fund Retours NG may not pay escort: category not eligible"
        );
        assert_eq!(r.get("fund"), Some("Retours NG"));
        assert_eq!(r.get("category"), Some("escort"));
        assert_eq!(r.get("allowed"), Some("travel, documents, reintegration"));
        // A fund pays only what it lists: no category, nothing.
        f.rules.categories.clear();
        let r = check(&f, &rich(), &facts(), &ask(CostCategory::Travel, 100));
        assert_eq!(rules(&r), [FundRule::Category]);
    }

    #[test]
    fn beneficiary_rule() {
        use TraffickingStatus::*;
        let f = fund();
        for status in [None, Some(Possible), Some(NotAVictim)] {
            let mut c = facts();
            c.trafficking = status;
            let r = only(
                check(&f, &rich(), &c, &ask(CostCategory::Travel, 100)),
                FundRule::Beneficiary,
            );
            assert_eq!(
                r.message,
                "fund Retours NG may not pay for this case: the case is not an identified victim (reasonable or conclusive grounds) or a smuggled migrant with protected-witness status",
                "{status:?}"
            );
            assert_eq!(
                r.get("accepted"),
                Some("victim_reasonable_grounds, protected_witness")
            );
        }
        let mut c = facts();
        c.trafficking = Some(Confirmed);
        assert!(check(&f, &rich(), &c, &ask(CostCategory::Travel, 100)).is_empty());
        // A smuggled migrant who is a protected witness, not a trafficking victim.
        c.trafficking = None;
        c.protected_witness = true;
        assert!(check(&f, &rich(), &c, &ask(CostCategory::Travel, 100)).is_empty());
        // Conclusive grounds only.
        let mut f = fund();
        f.rules.beneficiaries = [Beneficiary::VictimConclusiveGrounds].into();
        let r = check(&f, &rich(), &facts(), &ask(CostCategory::Travel, 100));
        assert!(
            r.first().is_some_and(|r| r
                .message
                .ends_with("the case is not a victim identified on conclusive grounds")),
            "{r:?}"
        );
        let mut c = facts();
        c.trafficking = Some(Confirmed);
        assert!(check(&f, &rich(), &c, &ask(CostCategory::Travel, 100)).is_empty());
        // No group named: any case.
        f.rules.beneficiaries.clear();
        c.trafficking = None;
        assert!(check(&f, &rich(), &c, &ask(CostCategory::Travel, 100)).is_empty());
    }

    #[test]
    fn child_rule() {
        let mut f = fund();
        f.rules.children_only = true;
        let r = only(
            check(&f, &rich(), &facts(), &ask(CostCategory::Travel, 100)),
            FundRule::Child,
        );
        assert_eq!(
            r.message,
            "fund Retours NG pays only for children: the person is not a child"
        );
        let mut c = facts();
        c.child = true;
        assert!(check(&f, &rich(), &c, &ask(CostCategory::Travel, 100)).is_empty());
    }

    #[test]
    fn nationality_rule() {
        let f = fund();
        let mut c = facts();
        c.nationality = Some(cc("FR"));
        let r = only(
            check(&f, &rich(), &c, &ask(CostCategory::Travel, 100)),
            FundRule::Nationality,
        );
        assert_eq!(
            r.message,
            "fund Retours NG may not pay for this case: nationality FR is not among NG"
        );
        assert_eq!(
            (r.get("nationality"), r.get("allowed")),
            (Some("FR"), Some("NG"))
        );
        c.nationality = None;
        let r = only(
            check(&f, &rich(), &c, &ask(CostCategory::Travel, 100)),
            FundRule::Nationality,
        );
        assert_eq!(
            r.message,
            "fund Retours NG may not pay for this case: the person's nationality is unknown or the person is stateless (nationality must be among NG)"
        );
        let mut f = fund();
        f.rules.nationalities.clear();
        assert!(check(&f, &rich(), &c, &ask(CostCategory::Travel, 100)).is_empty());
    }

    #[test]
    fn destination_rule() {
        let mut f = fund();
        f.rules.destinations.push(cc("GH"));
        let mut c = facts();
        c.destination = Some(cc("BJ"));
        let r = only(
            check(&f, &rich(), &c, &ask(CostCategory::Travel, 100)),
            FundRule::Destination,
        );
        assert_eq!(
            r.message,
            "fund Retours NG may not pay for this case: country of return BJ is not among NG, GH"
        );
        assert_eq!(r.get("destination"), Some("BJ"));
        c.destination = None;
        let r = only(
            check(&f, &rich(), &c, &ask(CostCategory::Travel, 100)),
            FundRule::Destination,
        );
        assert!(r.message.contains("no return is planned"), "{}", r.message);
        c.destination = Some(cc("GH"));
        assert!(check(&f, &rich(), &c, &ask(CostCategory::Travel, 100)).is_empty());
        f.rules.destinations.clear();
        c.destination = None;
        assert!(check(&f, &rich(), &c, &ask(CostCategory::Travel, 100)).is_empty());
    }

    #[test]
    fn stage_rule() {
        let mut c = facts();
        c.stage = Stage::Protection;
        let r = only(
            check(&fund(), &rich(), &c, &ask(CostCategory::Travel, 100)),
            FundRule::Stage,
        );
        assert_eq!(
            r.message,
            "fund Retours NG may not pay at stage protection: only at solution_planning, return_in_progress"
        );
        assert_eq!(r.get("stage"), Some("protection"));
        let mut f = fund();
        f.rules.stages.clear();
        assert!(check(&f, &rich(), &c, &ask(CostCategory::Travel, 100)).is_empty());
    }

    #[test]
    fn case_cap_rule() {
        let s = Standing {
            available: 10_000_000,
            usage: CaseUsage {
                total: 280_000,
                by_category: [(CostCategory::Travel, 280_000)].into(),
            },
        };
        let r = only(
            check(&fund(), &s, &facts(), &ask(CostCategory::Travel, 30_000)),
            FundRule::CaseCap,
        );
        assert_eq!(
            r.message,
            "fund Retours NG may pay at most 3000.00 EUR for one case: 2800.00 EUR already committed or spent, 300.00 EUR asked"
        );
        assert_eq!(
            (
                r.get("cap"),
                r.get("used"),
                r.get("amount"),
                r.get("currency")
            ),
            (
                Some("3000.00"),
                Some("2800.00"),
                Some("300.00"),
                Some("EUR")
            )
        );
        // Up to the cap exactly is fine.
        assert!(check(&fund(), &s, &facts(), &ask(CostCategory::Travel, 20_000)).is_empty());
    }

    #[test]
    fn category_cap_rule() {
        let s = Standing {
            available: 10_000_000,
            usage: CaseUsage {
                total: 40_000,
                by_category: [(CostCategory::Escort, 40_000)].into(),
            },
        };
        let r = only(
            check(&fund(), &s, &facts(), &ask(CostCategory::Escort, 20_000)),
            FundRule::CategoryCap,
        );
        assert_eq!(
            r.message,
            "fund Retours NG may pay at most 500.00 EUR of escort for one case: 400.00 EUR already committed or spent, 200.00 EUR asked"
        );
        assert_eq!(r.get("category"), Some("escort"));
        assert!(check(&fund(), &s, &facts(), &ask(CostCategory::Escort, 10_000)).is_empty());
        // The escort cap does not limit travel.
        assert!(check(&fund(), &s, &facts(), &ask(CostCategory::Travel, 200_000)).is_empty());
    }

    #[test]
    fn currency_rule() {
        let mut a = ask(CostCategory::Travel, 500_000_000);
        a.currency = cur("USD");
        let poor = Standing::default();
        // Caps and balance are in another currency: not compared.
        let r = only(check(&fund(), &poor, &facts(), &a), FundRule::Currency);
        assert_eq!(
            r.message,
            "fund Retours NG holds EUR: an amount in USD cannot be paid from it"
        );
        assert_eq!(
            (r.get("fund_currency"), r.get("currency")),
            (Some("EUR"), Some("USD"))
        );
    }

    #[test]
    fn validity_rule() {
        let mut a = ask(CostCategory::Travel, 100);
        a.on = d(2025, 12, 31);
        let r = only(check(&fund(), &rich(), &facts(), &a), FundRule::Validity);
        assert_eq!(
            r.message,
            "fund Retours NG is not open yet on 2025-12-31: it opens on 2026-01-01"
        );
        a.on = d(2027, 1, 1);
        let r = only(check(&fund(), &rich(), &facts(), &a), FundRule::Validity);
        assert_eq!(
            r.message,
            "fund Retours NG expired on 2026-12-31: it commits nothing on 2027-01-01"
        );
        assert_eq!(r.get("valid_until"), Some("2026-12-31"));
        for on in [d(2026, 1, 1), d(2026, 12, 31)] {
            a.on = on;
            assert!(check(&fund(), &rich(), &facts(), &a).is_empty(), "{on}");
        }
        let mut f = fund();
        f.valid_until = None;
        a.on = d(2040, 1, 1);
        assert!(check(&f, &rich(), &facts(), &a).is_empty());
    }

    #[test]
    fn balance_rule() {
        let s = Standing {
            available: 10_000,
            usage: CaseUsage::default(),
        };
        let r = only(
            check(&fund(), &s, &facts(), &ask(CostCategory::Travel, 20_000)),
            FundRule::Balance,
        );
        assert_eq!(
            r.message,
            "fund Retours NG has 100.00 EUR available: 200.00 EUR asked"
        );
        assert_eq!(r.get("available"), Some("100.00"));
        assert!(check(&fund(), &s, &facts(), &ask(CostCategory::Travel, 10_000)).is_empty());
    }

    #[test]
    fn non_positive_rule() {
        for amount in [0, -100] {
            only(
                check(
                    &fund(),
                    &rich(),
                    &facts(),
                    &ask(CostCategory::Travel, amount),
                ),
                FundRule::NonPositive,
            );
        }
    }

    #[test]
    fn every_reason_is_given_at_once_in_a_stable_order() {
        let c = CaseFacts {
            trafficking: Some(TraffickingStatus::Possible),
            protected_witness: false,
            child: false,
            nationality: Some(cc("RO")),
            destination: None,
            stage: Stage::Screening,
        };
        let mut f = fund();
        f.rules.children_only = true;
        let mut a = ask(CostCategory::Medical, 400_000);
        a.on = d(2027, 2, 1);
        let s = Standing {
            available: 1_000,
            usage: CaseUsage::default(),
        };
        assert_eq!(
            rules(&check(&f, &s, &c, &a)),
            [
                FundRule::Validity,
                FundRule::Category,
                FundRule::Beneficiary,
                FundRule::Child,
                FundRule::Nationality,
                FundRule::Destination,
                FundRule::Stage,
                FundRule::CaseCap,
                FundRule::Balance,
            ]
        );
    }

    #[test]
    fn a_refusal_serialises_with_its_rule_and_named_arguments() {
        let r = check(&fund(), &rich(), &facts(), &ask(CostCategory::Medical, 100));
        let v = serde_json::to_value(&r).unwrap_or_default();
        assert_eq!(v[0]["rule"], "category");
        assert_eq!(v[0]["args"][0]["name"], "fund");
        assert_eq!(v[0]["args"][1]["value"], "medical");
        assert_eq!(
            v[0]["message"],
            "fund Retours NG may not pay medical: category not eligible"
        );
        // Every rule id is distinct and round-trips.
        for rule in FundRule::ALL {
            assert_eq!(FundRule::parse(rule.as_str()), Ok(*rule));
        }
    }

    #[test]
    fn the_form_lists_every_fund_with_what_it_has_left_and_why_not() {
        let good = fund();
        let mut medical_only = fund();
        medical_only.name = "Soins".into();
        medical_only.source = SourceKind::StateBudget;
        medical_only.rules.categories = [CostCategory::Medical].into();
        medical_only.rules.category_caps.clear();
        let mut empty = fund();
        empty.name = "Avoirs saisis".into();
        let used = Standing {
            available: 500_000,
            usage: CaseUsage {
                total: 260_000,
                by_category: [(CostCategory::Escort, 45_000)].into(),
            },
        };
        let nothing = Standing::default();
        let list = offers(
            [(&good, &used), (&medical_only, &rich()), (&empty, &nothing)],
            &facts(),
            CostCategory::Escort,
            d(2026, 6, 1),
        );
        assert_eq!(
            list.iter().map(|o| o.fund.as_str()).collect::<Vec<_>>(),
            ["Retours NG", "Soins", "Avoirs saisis"]
        );
        assert!(list[0].eligible());
        assert_eq!(list[0].left, 5_000, "the escort cap leaves 50.00");
        assert_eq!(rules(&list[1].refusals), [FundRule::Category]);
        assert_eq!(rules(&list[2].refusals), [FundRule::Balance]);
        assert_eq!(
            list[2].refusals[0].message,
            "fund Avoirs saisis has nothing left"
        );
        assert_eq!(list[2].left, 0);
        // A cap used up refuses, with words fitting no amount.
        let full = Standing {
            available: 500_000,
            usage: CaseUsage {
                total: 300_000,
                by_category: BTreeMap::new(),
            },
        };
        let list = offers(
            [(&good, &full)],
            &facts(),
            CostCategory::Travel,
            d(2026, 6, 1),
        );
        assert_eq!(rules(&list[0].refusals), [FundRule::CaseCap]);
        assert!(
            list[0].refusals[0]
                .message
                .ends_with("3000.00 EUR already committed or spent, nothing is left"),
            "{}",
            list[0].refusals[0].message
        );
        assert_eq!(list[0].refusals[0].get("amount"), None);
    }

    proptest! {
        #[test]
        fn caps_and_balance_refuse_exactly_when_exceeded(
            available in 0i64..1_000_000,
            total in 0i64..400_000,
            escort in 0i64..60_000,
            amount in 1i64..400_000,
        ) {
            let s = Standing {
                available,
                usage: CaseUsage {
                    total,
                    by_category: [(CostCategory::Escort, escort)].into(),
                },
            };
            let got = rules(&check(&fund(), &s, &facts(), &ask(CostCategory::Escort, amount)));
            prop_assert_eq!(got.contains(&FundRule::Balance), amount > available);
            prop_assert_eq!(got.contains(&FundRule::CaseCap), total + amount > 300_000);
            prop_assert_eq!(got.contains(&FundRule::CategoryCap), escort + amount > 50_000);
            prop_assert_eq!(got.len(), usize::from(amount > available)
                + usize::from(total + amount > 300_000)
                + usize::from(escort + amount > 50_000));
            // What the form shows as left is what an ask may take.
            let left = offers([(&fund(), &s)], &facts(), CostCategory::Escort, d(2026, 6, 1))[0].left;
            if left > 0 {
                prop_assert!(check(&fund(), &s, &facts(), &ask(CostCategory::Escort, left)).is_empty());
            }
            prop_assert!(!check(&fund(), &s, &facts(), &ask(CostCategory::Escort, left + 1)).is_empty());
        }
    }

    // ---- ledger ----------------------------------------------------------------------

    fn origin() -> Origin {
        Origin {
            kind: OriginKind::ProgrammeAgreement,
            reference: "Accord FR-NG 2025".into(),
        }
    }
    fn alloc(amount: i64) -> Movement {
        Movement::Allocation {
            amount,
            origin: origin(),
        }
    }
    fn purpose(kind: PurposeKind) -> CommitmentPurpose {
        CommitmentPurpose {
            kind,
            record_id: Some(7),
            description: "Paris–Lagos".into(),
        }
    }
    fn commit(case_id: i64, category: CostCategory, amount: i64) -> Movement {
        Movement::Commitment {
            case_id,
            category,
            purpose: purpose(PurposeKind::Return),
            amount,
            status: if needs_approval(amount, fund().approval_threshold) {
                CommitmentStatus::PendingApproval
            } else {
                CommitmentStatus::Approved
            },
        }
    }
    fn spend(commitment: EntryId, amount: i64) -> Movement {
        Movement::Spending {
            commitment,
            amount,
            invoice: "INV-1".into(),
        }
    }
    fn release(commitment: EntryId, amount: i64) -> Movement {
        Movement::Release { commitment, amount }
    }
    fn correct(of: EntryId, delta: i64) -> Movement {
        Movement::Correction {
            of,
            delta,
            reason: "typing error".into(),
        }
    }

    /// A ledger and the id the store would give the next entry.
    struct Book {
        ledger: Ledger,
        next: EntryId,
    }

    impl Book {
        fn new() -> Self {
            Book {
                ledger: Ledger::new(&fund()),
                next: 1,
            }
        }
        /// Append; the new entry's id.
        fn add(&mut self, m: Movement) -> Result<EntryId, FundRefusal> {
            let id = self.next;
            self.ledger.append(id, &m)?;
            self.next += 1;
            Ok(id)
        }
        fn ok(&mut self, m: Movement) -> EntryId {
            self.add(m.clone())
                .unwrap_or_else(|e| panic!("{m:?} refused: {e}"))
        }
        fn refused(&mut self, m: Movement) -> FundRefusal {
            let before = self.ledger.balances();
            let r = self
                .add(m.clone())
                .err()
                .unwrap_or_else(|| panic!("{m:?} was accepted"));
            assert_eq!(self.ledger.balances(), before, "a refusal changes nothing");
            r
        }
        fn b(&self) -> Balances {
            self.ledger.balances()
        }
    }

    fn bal(allocated: i64, committed_unspent: i64, pending: i64, spent: i64) -> Balances {
        Balances {
            allocated,
            committed_unspent,
            pending,
            spent,
            available: allocated - committed_unspent - spent,
        }
    }

    #[test]
    fn the_life_of_a_commitment() {
        let mut k = Book::new();
        k.ok(alloc(500_000));
        let c = k.ok(commit(1, CostCategory::Travel, 200_000));
        assert_eq!(k.b(), bal(500_000, 200_000, 200_000, 0), "pending reserves");
        let r = k.refused(spend(c, 1_000));
        assert_eq!(r.rule, FundRule::NotApproved);
        k.ok(Movement::Approval { commitment: c });
        assert_eq!(k.b(), bal(500_000, 200_000, 0, 0));
        k.ok(spend(c, 120_000));
        k.ok(spend(c, 30_000));
        assert_eq!(k.b(), bal(500_000, 50_000, 0, 150_000));
        let rest = k.ledger.release_rest(c).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rest, release(c, 50_000));
        k.ok(rest);
        assert_eq!(k.b(), bal(500_000, 0, 0, 150_000));
        assert_eq!(k.b().available, 350_000);
        let state = k.ledger.commitment(c).cloned();
        assert_eq!(
            state.map(|s| (s.amount, s.spent, s.released, s.unspent(), s.status)),
            Some((200_000, 150_000, 50_000, 0, CommitmentStatus::Approved))
        );
        assert_eq!(
            k.ledger.release_rest(c).map_err(|r| r.rule),
            Err(FundRule::ReleaseMoreThanUnspent)
        );
    }

    #[test]
    fn a_fund_never_goes_below_zero() {
        let mut k = Book::new();
        let r = k.refused(commit(1, CostCategory::Travel, 1));
        assert_eq!(r.rule, FundRule::Overdraw);
        k.ok(alloc(10_000));
        let r = k.refused(commit(1, CostCategory::Travel, 10_001));
        assert_eq!(
            r.message,
            "fund Retours NG would go below zero: 100.00 EUR available, 100.01 EUR asked"
        );
        assert_eq!(
            (r.get("available"), r.get("amount")),
            (Some("100.00"), Some("100.01"))
        );
        k.ok(commit(1, CostCategory::Travel, 10_000));
        assert_eq!(k.b().available, 0);
    }

    #[test]
    fn a_pending_commitment_reserves_so_approval_cannot_overdraw() {
        let mut k = Book::new();
        k.ok(alloc(300_000));
        let big = k.ok(commit(1, CostCategory::Travel, 200_000));
        assert_eq!(
            k.ledger.commitment(big).map(|c| c.status),
            Some(CommitmentStatus::PendingApproval)
        );
        k.ok(commit(2, CostCategory::Travel, 90_000));
        assert_eq!(
            k.refused(commit(3, CostCategory::Travel, 20_000)).rule,
            FundRule::Overdraw,
            "the pending 2000.00 is not promised twice"
        );
        k.ok(Movement::Approval { commitment: big });
        assert_eq!(k.b(), bal(300_000, 290_000, 0, 0));
        assert_eq!(
            k.refused(Movement::Approval { commitment: big }).rule,
            FundRule::NotPending
        );
    }

    #[test]
    fn a_refused_commitment_gives_its_money_back_and_is_closed() {
        let mut k = Book::new();
        k.ok(alloc(300_000));
        let c = k.ok(commit(1, CostCategory::Travel, 200_000));
        let r = k.refused(Movement::Refusal {
            commitment: c,
            reason: " ".into(),
        });
        assert_eq!(
            (r.rule, r.get("field")),
            (FundRule::Required, Some("reason"))
        );
        k.ok(Movement::Refusal {
            commitment: c,
            reason: "another fund pays".into(),
        });
        assert_eq!(k.b(), bal(300_000, 0, 0, 0));
        for m in [
            Movement::Approval { commitment: c },
            spend(c, 1),
            release(c, 1),
            correct(c, 1),
            Movement::Refusal {
                commitment: c,
                reason: "again".into(),
            },
        ] {
            let r = k.refused(m);
            assert_eq!(r.rule, FundRule::CommitmentClosed);
            assert_eq!(
                r.message,
                format!("commitment #{c} was refused: nothing more is recorded against it")
            );
        }
        assert_eq!(k.ledger.case_usage(1).total, 0);
    }

    #[test]
    fn a_commitment_is_never_overspent() {
        let mut k = Book::new();
        k.ok(alloc(100_000));
        let c = k.ok(commit(1, CostCategory::Escort, 40_000));
        k.ok(spend(c, 25_000));
        let r = k.refused(spend(c, 15_001));
        assert_eq!(
            r.message,
            format!("commitment #{c} would be overspent: 150.00 EUR left on it, 150.01 EUR asked")
        );
        assert_eq!(r.rule, FundRule::Overspend);
        k.ok(spend(c, 15_000));
        assert_eq!(k.refused(spend(c, 1)).rule, FundRule::Overspend);
        let r = k.refused(release(c, 1));
        assert_eq!(r.rule, FundRule::ReleaseMoreThanUnspent);
        assert_eq!(
            r.message,
            format!("commitment #{c} has 0.00 EUR unspent: 0.01 EUR cannot be released")
        );
    }

    #[test]
    fn references_must_exist_and_amounts_be_positive() {
        let mut k = Book::new();
        let a = k.ok(alloc(100_000));
        let r = k.refused(spend(99, 1));
        assert_eq!(r.rule, FundRule::UnknownCommitment);
        assert_eq!(r.message, "fund Retours NG has no commitment #99");
        assert_eq!(k.refused(spend(a, 1)).rule, FundRule::UnknownCommitment);
        assert_eq!(
            k.refused(Movement::Approval { commitment: a }).rule,
            FundRule::UnknownCommitment
        );
        for m in [alloc(0), alloc(-5), alloc(MAX_MINOR + 1)] {
            assert_eq!(k.refused(m).rule, FundRule::NonPositive);
        }
        let c = k.ok(commit(1, CostCategory::Travel, 1_000));
        for m in [
            spend(c, 0),
            release(c, -1),
            commit(1, CostCategory::Travel, 0),
        ] {
            assert_eq!(k.refused(m).rule, FundRule::NonPositive);
        }
        let r = k.refused(Movement::Spending {
            commitment: c,
            amount: 10,
            invoice: "".into(),
        });
        assert_eq!(
            (r.rule, r.get("field")),
            (FundRule::Required, Some("invoice"))
        );
        let r = k.refused(Movement::Allocation {
            amount: 10,
            origin: Origin {
                kind: OriginKind::ProgrammeAgreement,
                reference: "".into(),
            },
        });
        assert_eq!(r.rule, FundRule::Required);
    }

    #[test]
    fn corrections_of_allocations_keep_the_fund_above_zero() {
        let mut k = Book::new();
        let a = k.ok(alloc(100_000));
        k.ok(commit(1, CostCategory::Travel, 70_000));
        assert_eq!(k.refused(correct(a, -30_001)).rule, FundRule::Overdraw);
        k.ok(correct(a, -30_000));
        assert_eq!(k.b(), bal(70_000, 70_000, 0, 0));
        k.ok(correct(a, 5_000));
        // Corrections add up: the allocation is now 75 000.
        let r = k.refused(correct(a, -75_001));
        assert_eq!(r.rule, FundRule::CorrectionBelowZero);
        assert!(
            r.message
                .starts_with(&format!("entry #{a} would go below zero: it is 750.00 EUR"))
        );
        assert_eq!(k.refused(correct(a, 0)).rule, FundRule::EmptyCorrection);
        assert_eq!(k.refused(correct(404, 1)).rule, FundRule::UnknownEntry);
        let r = k.refused(Movement::Correction {
            of: a,
            delta: 1,
            reason: "".into(),
        });
        assert_eq!(r.rule, FundRule::Required);
    }

    #[test]
    fn corrections_of_commitments_and_spendings_keep_every_invariant() {
        let mut k = Book::new();
        k.ok(alloc(100_000));
        let c = k.ok(commit(1, CostCategory::Travel, 50_000));
        let s = k.ok(spend(c, 30_000));
        // A commitment cannot drop below what is spent or released...
        let r = k.refused(correct(c, -20_001));
        assert_eq!(r.rule, FundRule::Overspend);
        assert_eq!(
            r.message,
            format!(
                "commitment #{c} would be overspent: 300.00 EUR already spent or released, corrected amount 299.99 EUR"
            )
        );
        // ...nor rise beyond what the fund has.
        assert_eq!(k.refused(correct(c, 50_001)).rule, FundRule::Overdraw);
        k.ok(correct(c, -10_000));
        assert_eq!(k.b(), bal(100_000, 10_000, 0, 30_000));
        // A spending cannot rise beyond its commitment's unspent part, nor below zero.
        assert_eq!(k.refused(correct(s, 10_001)).rule, FundRule::Overspend);
        assert_eq!(
            k.refused(correct(s, -30_001)).rule,
            FundRule::CorrectionBelowZero
        );
        // A lower invoice gives the money back to the commitment, not to the fund.
        k.ok(correct(s, -5_000));
        assert_eq!(k.b(), bal(100_000, 15_000, 0, 25_000));
        assert_eq!(k.ledger.commitment(c).map(|c| c.unspent()), Some(15_000));
        // Decisions, releases and corrections are not corrected.
        let rel = k.ok(release(c, 1_000));
        let fix = k.ok(correct(s, 1));
        for target in [rel, fix] {
            let r = k.refused(correct(target, 1));
            assert_eq!(r.rule, FundRule::NotCorrectable, "{target}");
        }
    }

    #[test]
    fn approval_follows_the_threshold_and_cannot_be_bypassed() {
        let mut k = Book::new();
        k.ok(alloc(1_000_000));
        let wrong_status = |amount: i64, status: CommitmentStatus| Movement::Commitment {
            case_id: 1,
            category: CostCategory::Travel,
            purpose: purpose(PurposeKind::Return),
            amount,
            status,
        };
        let r = k.refused(wrong_status(100_001, CommitmentStatus::Approved));
        assert_eq!(r.rule, FundRule::Approval);
        assert_eq!(
            r.message,
            "a commitment of 1000.01 EUR is above fund Retours NG's approval threshold of 1000.00 EUR: it awaits a fund manager's approval"
        );
        assert_eq!(r.get("threshold"), Some("1000.00"));
        assert_eq!(
            k.refused(wrong_status(100_000, CommitmentStatus::PendingApproval))
                .rule,
            FundRule::Approval
        );
        assert_eq!(
            k.refused(wrong_status(10, CommitmentStatus::Refused)).rule,
            FundRule::Approval
        );
        // An approved commitment is not raised above the threshold by a correction...
        let c = k.ok(commit(1, CostCategory::Travel, 90_000));
        let r = k.refused(correct(c, 10_001));
        assert_eq!(r.rule, FundRule::Approval);
        assert!(r.message.contains("commit the difference separately"));
        k.ok(correct(c, 10_000));
        // ...but a pending one may be, it still awaits approval.
        let p = k.ok(commit(2, CostCategory::Travel, 150_000));
        k.ok(correct(p, 50_000));
        assert_eq!(k.b().pending, 200_000);
        // With no threshold, nothing waits.
        let mut open = fund();
        open.approval_threshold = None;
        let mut l = Ledger::new(&open);
        let res = l
            .append(1, &alloc(1_000_000))
            .and_then(|()| l.check_append(&wrong_status(900_000, CommitmentStatus::Approved)));
        assert_eq!(res, Ok(()));
    }

    #[test]
    fn origins_and_purposes_must_fit() {
        let mut k = Book::new();
        let r = k.refused(Movement::Allocation {
            amount: 10,
            origin: Origin {
                kind: OriginKind::CourtOrder,
                reference: "24/0193".into(),
            },
        });
        assert_eq!(r.rule, FundRule::Origin);
        assert_eq!(
            r.message,
            "an allocation to fund Retours NG (intergovernmental_programme) names the programme agreement"
        );
        k.ok(alloc(100_000));
        let with = |category: CostCategory, purpose: CommitmentPurpose| Movement::Commitment {
            case_id: 1,
            category,
            purpose,
            amount: 100,
            status: CommitmentStatus::Approved,
        };
        let mut no_record = purpose(PurposeKind::Service);
        no_record.record_id = None;
        let mut undescribed = purpose(PurposeKind::Other);
        undescribed.description = " ".into();
        for (category, p, says) in [
            (
                CostCategory::Medical,
                purpose(PurposeKind::Return),
                "a return's commitment pays its travel, escort or documents, not medical",
            ),
            (
                CostCategory::Travel,
                purpose(PurposeKind::Placement),
                "a placement's commitment pays shelter, not travel",
            ),
            (
                CostCategory::Medical,
                no_record,
                "a commitment for a service names the service it pays for",
            ),
            (
                CostCategory::Other,
                undescribed,
                "describe what the commitment pays for",
            ),
        ] {
            let r = k.refused(with(category, p));
            assert_eq!((r.rule, r.message.as_str()), (FundRule::Purpose, says));
        }
        let mut other = purpose(PurposeKind::Other);
        other.record_id = None;
        k.ok(with(CostCategory::Other, other));
        k.ok(with(CostCategory::Shelter, purpose(PurposeKind::Placement)));
        k.ok(with(CostCategory::Documents, purpose(PurposeKind::Return)));
    }

    #[test]
    fn replay_checks_the_history_but_not_todays_settings() {
        let mut k = Book::new();
        k.ok(alloc(500_000));
        let c = k.ok(commit(1, CostCategory::Travel, 90_000));
        k.ok(spend(c, 40_000));
        let history = vec![
            (1, alloc(500_000)),
            (2, commit(1, CostCategory::Travel, 90_000)),
            (3, spend(c, 40_000)),
        ];
        // The threshold was lowered since: the approved 900.00 stays valid history.
        let mut stricter = fund();
        stricter.approval_threshold = Some(10_000);
        let replayed = Ledger::replay(&stricter, history.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(replayed.balances(), k.b());
        assert_eq!(replayed.check_balances(&k.b()), Ok(()));
        // ...but new entries follow it.
        assert_eq!(
            replayed
                .check_append(&commit(1, CostCategory::Travel, 20_000))
                .map_err(|r| r.rule),
            Err(FundRule::Approval)
        );
        // A corrupted history is refused with the rule it breaks.
        let mut bad = history.clone();
        bad.push((4, spend(c, 50_001)));
        assert_eq!(
            Ledger::replay(&fund(), bad)
                .map(|l| l.balances())
                .map_err(|r| r.rule),
            Err(FundRule::Overspend)
        );
        // Ids going backwards (the order check comes before any other).
        let mut shuffled = history.clone();
        shuffled[1].0 = 5;
        assert_eq!(
            Ledger::replay(&fund(), shuffled)
                .map(|l| l.balances())
                .map_err(|r| r.rule),
            Err(FundRule::EntryOrder)
        );
        let mut repeated = history;
        repeated[2].0 = 2;
        assert_eq!(
            Ledger::replay(&fund(), repeated)
                .map(|l| l.balances())
                .map_err(|r| r.rule),
            Err(FundRule::EntryOrder)
        );
    }

    #[test]
    fn stored_balances_are_checked_against_the_entries() {
        let mut k = Book::new();
        k.ok(alloc(500_000));
        let mut stored = k.b();
        assert_eq!(k.ledger.check_balances(&stored), Ok(()));
        stored.available += 1;
        let r = k.ledger.check_balances(&stored).err();
        assert_eq!(r.as_ref().map(|r| r.rule), Some(FundRule::BalanceMismatch));
        assert_eq!(
            r.map(|r| r.message),
            Some("the stored balances of fund Retours NG do not match its entries: stored 5000.01 EUR available, the entries give 5000.00 EUR".to_owned())
        );
    }

    #[test]
    fn case_usage_counts_what_is_set_aside_or_spent_for_the_case() {
        let mut k = Book::new();
        k.ok(alloc(1_000_000));
        let a = k.ok(commit(1, CostCategory::Travel, 80_000));
        let b = k.ok(commit(1, CostCategory::Escort, 30_000));
        let pending = k.ok(commit(1, CostCategory::Travel, 150_000));
        let other_case = k.ok(commit(2, CostCategory::Travel, 50_000));
        k.ok(spend(a, 60_000));
        k.ok(release(a, 20_000));
        k.ok(spend(b, 10_000));
        k.ok(spend(other_case, 50_000));
        let u = k.ledger.case_usage(1);
        assert_eq!(u.total, 60_000 + 30_000 + 150_000, "pending counts");
        assert_eq!(u.category(CostCategory::Travel), 210_000);
        assert_eq!(u.category(CostCategory::Escort), 30_000);
        assert_eq!(u.category(CostCategory::Medical), 0);
        k.ok(Movement::Refusal {
            commitment: pending,
            reason: "too much".into(),
        });
        assert_eq!(k.ledger.case_usage(1).total, 90_000);
        assert_eq!(k.ledger.case_usage(3), CaseUsage::default());
        // The standing feeds the eligibility caps: escort cap is 500.00 for a case.
        let st = k.ledger.standing(1);
        assert_eq!(st.available, k.b().available);
        let r = check(&fund(), &st, &facts(), &ask(CostCategory::Escort, 20_001));
        assert_eq!(rules(&r), [FundRule::CategoryCap]);
        assert_eq!(k.ledger.commitments().count(), 4);
    }

    #[test]
    fn movements_have_a_stored_kind_and_serialise_tagged() {
        assert_eq!(spend(1, 5).kind().as_str(), "spending");
        assert_eq!(correct(1, 5).kind(), MovementKind::Correction);
        let v = serde_json::to_value(release(3, 5)).unwrap_or_default();
        assert_eq!(v["kind"], "release");
        assert_eq!(v["commitment"], 3);
        let back: Result<Movement, _> = serde_json::from_value(v);
        assert_eq!(back.ok(), Some(release(3, 5)));
    }

    // ---- the ledger invariants, over any sequence --------------------------------------

    #[derive(Debug, Clone)]
    enum Op {
        Alloc(i64),
        Commit(i64, usize, i64, bool),
        Approve(usize),
        Refuse(usize),
        Spend(usize, i64),
        Release(usize, i64),
        ReleaseRest(usize),
        Correct(usize, i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            2 => (1i64..300_000).prop_map(Op::Alloc),
            4 => (0i64..3, 0usize..CostCategory::ALL.len(), 1i64..200_000, prop::bool::weighted(0.1))
                .prop_map(|(c, k, a, flip)| Op::Commit(c, k, a, flip)),
            2 => any::<usize>().prop_map(Op::Approve),
            1 => any::<usize>().prop_map(Op::Refuse),
            4 => (any::<usize>(), 1i64..80_000).prop_map(|(i, a)| Op::Spend(i, a)),
            2 => (any::<usize>(), 1i64..100_000).prop_map(|(i, a)| Op::Release(i, a)),
            1 => any::<usize>().prop_map(Op::ReleaseRest),
            3 => (any::<usize>(), -150_000i64..150_000).prop_map(|(i, d)| Op::Correct(i, d)),
        ]
    }

    fn movement(op: &Op, ledger: &Ledger, ids: &[EntryId]) -> Option<Movement> {
        // Point at an existing entry (any kind), or now and then at none.
        let pick = |i: usize| {
            if ids.is_empty() || i.is_multiple_of(17) {
                1_000_000
            } else {
                ids[i % ids.len()]
            }
        };
        // Mostly a commitment, sometimes any entry or none.
        let commitments: Vec<EntryId> = ledger.commitments().map(|(id, _)| id).collect();
        let pick_commitment = |i: usize| {
            if commitments.is_empty() || i.is_multiple_of(5) {
                pick(i / 5)
            } else {
                commitments[i % commitments.len()]
            }
        };
        Some(match *op {
            Op::Alloc(a) => alloc(a),
            Op::Commit(case_id, k, amount, flip) => {
                let category = CostCategory::ALL[k];
                let pending = needs_approval(amount, fund().approval_threshold) != flip;
                Movement::Commitment {
                    case_id,
                    category,
                    purpose: CommitmentPurpose {
                        kind: PurposeKind::Other,
                        record_id: None,
                        description: "test".into(),
                    },
                    amount,
                    status: if pending {
                        CommitmentStatus::PendingApproval
                    } else {
                        CommitmentStatus::Approved
                    },
                }
            }
            Op::Approve(i) => Movement::Approval {
                commitment: pick_commitment(i),
            },
            Op::Refuse(i) => Movement::Refusal {
                commitment: pick_commitment(i),
                reason: "no".into(),
            },
            Op::Spend(i, a) => spend(pick_commitment(i), a),
            Op::Release(i, a) => release(pick_commitment(i), a),
            Op::ReleaseRest(i) => return ledger.release_rest(pick_commitment(i)).ok(),
            Op::Correct(i, d) => correct(pick(i), d),
        })
    }

    /// The balances recomputed from the accepted entries alone, without the ledger.
    fn recompute(
        entries: &[(EntryId, Movement)],
    ) -> (Balances, BTreeMap<EntryId, (i64, i64, i64)>) {
        let kind_of: BTreeMap<EntryId, &Movement> =
            entries.iter().map(|(id, m)| (*id, m)).collect();
        // Per commitment: amount, spent, released.
        let mut c: BTreeMap<EntryId, (i64, i64, i64)> = BTreeMap::new();
        let mut pending: BTreeSet<EntryId> = BTreeSet::new();
        let mut refused: BTreeSet<EntryId> = BTreeSet::new();
        let (mut allocated, mut spent) = (0i64, 0i64);
        for (id, m) in entries {
            match m {
                Movement::Allocation { amount, .. } => allocated += amount,
                Movement::Commitment { amount, status, .. } => {
                    c.insert(*id, (*amount, 0, 0));
                    if *status == CommitmentStatus::PendingApproval {
                        pending.insert(*id);
                    }
                }
                Movement::Approval { commitment } => {
                    pending.remove(commitment);
                }
                Movement::Refusal { commitment, .. } => {
                    pending.remove(commitment);
                    refused.insert(*commitment);
                }
                Movement::Spending {
                    commitment, amount, ..
                } => {
                    spent += amount;
                    c.entry(*commitment).or_default().1 += amount;
                }
                Movement::Release { commitment, amount } => {
                    c.entry(*commitment).or_default().2 += amount;
                }
                Movement::Correction { of, delta, .. } => match kind_of.get(of) {
                    Some(Movement::Allocation { .. }) => allocated += delta,
                    Some(Movement::Commitment { .. }) => c.entry(*of).or_default().0 += delta,
                    Some(Movement::Spending { commitment, .. }) => {
                        spent += delta;
                        c.entry(*commitment).or_default().1 += delta;
                    }
                    other => panic!("a correction of {other:?} was accepted"),
                },
            }
        }
        let open = |id: &EntryId| !refused.contains(id);
        let unspent = |(a, s, r): &(i64, i64, i64)| a - s - r;
        let committed_unspent: i64 = c
            .iter()
            .filter(|(id, _)| open(id))
            .map(|(_, v)| unspent(v))
            .sum();
        let pending: i64 = c
            .iter()
            .filter(|(id, _)| pending.contains(id))
            .map(|(_, v)| unspent(v))
            .sum();
        c.retain(|id, _| open(id));
        (
            Balances {
                allocated,
                committed_unspent,
                pending,
                spent,
                available: allocated - committed_unspent - spent,
            },
            c,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn any_sequence_keeps_the_ledger_invariants(ops in prop::collection::vec(op(), 1..80)) {
            let mut ledger = Ledger::new(&fund());
            let mut accepted: Vec<(EntryId, Movement)> = Vec::new();
            let mut ids: Vec<EntryId> = Vec::new();
            for (n, op) in ops.iter().enumerate() {
                let Some(m) = movement(op, &ledger, &ids) else { continue };
                let id = i64::try_from(n).unwrap_or(i64::MAX) * 2 + 1;
                let before = ledger.balances();
                match ledger.check_append(&m) {
                    Ok(()) => {
                        let applied = ledger.apply(id, &m);
                        prop_assert_eq!(applied, Ok(()), "{:?}", m);
                        accepted.push((id, m));
                        ids.push(id);
                    }
                    Err(_) => prop_assert_eq!(ledger.balances(), before),
                }
                let b = ledger.balances();
                prop_assert_eq!(b.available, b.allocated - b.committed_unspent - b.spent);
                prop_assert!(b.available >= 0, "{:?}", b);
                prop_assert!(b.spent >= 0 && b.allocated >= 0);
                prop_assert!(b.committed_unspent >= b.pending && b.pending >= 0, "{:?}", b);
                for (cid, c) in ledger.commitments() {
                    prop_assert!(c.spent >= 0 && c.released >= 0, "#{}: {:?}", cid, c);
                    prop_assert!(c.spent + c.released <= c.amount, "#{} overspent: {:?}", cid, c);
                    prop_assert!(c.unspent() >= 0);
                    if c.status == CommitmentStatus::PendingApproval {
                        prop_assert_eq!(c.spent, 0, "spent before approval");
                    }
                }
            }
            // The balances are the sums of the entries, recomputed independently.
            let (want, per_commitment) = recompute(&accepted);
            prop_assert_eq!(ledger.balances(), want);
            for (cid, (amount, spent, released)) in &per_commitment {
                let c = ledger.commitment(*cid);
                prop_assert_eq!(c.map(|c| (c.amount, c.spent, c.released)), Some((*amount, *spent, *released)));
            }
            // What the cases use adds up to what is set aside plus what is spent.
            let used: i64 = (0..3).map(|case| ledger.case_usage(case).total).sum();
            prop_assert_eq!(used, want.committed_unspent + want.spent);
            // Replaying the stored entries gives the same balances.
            let replayed = Ledger::replay(&fund(), accepted.clone()).map(|l| l.balances());
            prop_assert_eq!(replayed, Ok(want));
        }
    }
}
