//! Eligibility: each rule, all reasons at once, and the offers of a form.

use super::*;
use proptest::prelude::*;

fn rich() -> Standing {
    Standing {
        available: 10_000_000,
        usage: CaseUsage::default(),
    }
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
