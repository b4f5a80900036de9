//! Sources, origins, fund settings.

use super::*;

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
        let o =
            parse_origin(source, " TJ Paris 24/0193 ").unwrap_or_else(|e| panic!("{source}: {e}"));
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

#[test]
fn a_fund_is_told_low_once_when_it_falls_below_its_threshold() {
    // From above to below, and from exactly the threshold to below: told.
    assert!(fell_below_low_balance(1_500, 900, Some(1_000)));
    assert!(fell_below_low_balance(1_000, 999, Some(1_000)));
    // Staying below, staying above, landing on it, going back up: not told.
    assert!(!fell_below_low_balance(900, 800, Some(1_000)));
    assert!(!fell_below_low_balance(5_000, 1_000, Some(1_000)));
    assert!(!fell_below_low_balance(1_000, 1_000, Some(1_000)));
    assert!(!fell_below_low_balance(800, 1_200, Some(1_000)));
    // No threshold: never.
    assert!(!fell_below_low_balance(1_000_000, 0, None));
}
