//! Funds: the five sources and their origins, what a fund pays for and for whom, its
//! settings, validity period and approval threshold.

use super::*;

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

declared_order!(CostCategory);

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

pub(super) fn origin_fits(
    fund: &str,
    source: SourceKind,
    origin: &Origin,
) -> Result<(), FundRefusal> {
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

/// Whether a movement took the fund's available amount from at or above its low-balance
/// threshold to below it (the moment its fund managers are told; not again while it stays
/// below, and not when there is no threshold).
pub fn fell_below_low_balance(before: i64, after: i64, low: Option<i64>) -> bool {
    low.is_some_and(|l| before >= l && after < l)
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
