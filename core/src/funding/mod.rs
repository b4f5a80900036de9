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

mod access;
mod eligibility;
mod funds;
mod ledger;
mod money;
mod movements;
mod refusal;
#[cfg(test)]
mod tests;

pub use access::*;
pub use eligibility::*;
pub use funds::*;
pub use ledger::*;
pub use money::*;
pub use movements::*;
pub use refusal::*;

// Arithmetic and wording shared by the parts.

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
