//! Tests of the funding rules, one file per part; the helpers shared by several files.

use super::*;

mod eligibility;
mod funds;
mod ledger;
mod ledger_invariants;
mod money;

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

// ---- a fund, a case, an ask ------------------------------------------------------

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

// ---- ledger entries ----------------------------------------------------------------

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
