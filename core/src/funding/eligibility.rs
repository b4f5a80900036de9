//! Eligibility: may a fund pay an amount of a category for a case, and the funds a
//! form offers (see the module doc of [`super`], "Eligibility").

use super::*;

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

declared_order!(Beneficiary);

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
