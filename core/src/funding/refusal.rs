//! Refusals: the stable id of every funding rule, and why something was refused.

use super::*;

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
        // The jurisdiction's own funding rules (a plugin's optional hook).
        Jurisdiction => "jurisdiction",
    }
);

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
    pub(super) fn new(rule: FundRule, message: impl Into<String>) -> Self {
        Self {
            rule,
            args: Vec::new(),
            message: message.into(),
        }
    }
    pub(super) fn arg(mut self, name: &'static str, value: impl fmt::Display) -> Self {
        self.args.push(Arg {
            name,
            value: value.to_string(),
        });
        self
    }
    pub(super) fn money(self, name: &'static str, minor: i64, c: Currency) -> Self {
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

/// The jurisdiction's own funding rules refused (their reasons, in the plugin's words).
pub fn jurisdiction_refusal(fund: &str, reasons: &[String]) -> FundRefusal {
    let reasons = reasons.join("; ");
    FundRefusal::new(
        FundRule::Jurisdiction,
        format!("{fund}: the jurisdiction's own rules refuse it: {reasons}"),
    )
    .arg("fund", fund)
    .arg("reasons", reasons)
}

impl fmt::Display for FundRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FundRefusal {}
