//! Tests of the k-anonymisation.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn c(code: &str) -> Option<Country> {
    Country::parse(code).ok()
}

fn case(age: u8, year: i32, cit: &str, coe: &str) -> Record {
    Record {
        age: Age::Years(age),
        registration_year: year,
        citizenship: c(cit),
        country_of_exploitation: c(coe),
        exploitation: [Exploitation::SexualExploitation].into(),
        means_of_control: [Control::DebtBondage].into(),
        gender: Gender::Female,
    }
}

fn at(level: u8) -> Levels {
    let mut a = [0; N];
    for attr in Attribute::ALL {
        a[attr.index()] = level.min(attr.top());
    }
    Levels::from_array(a)
}

fn value(row: &Row, a: Attribute) -> String {
    match a {
        Attribute::Age => row.age.to_string(),
        Attribute::RegistrationYear => row.registration_year.clone(),
        Attribute::Citizenship => row.citizenship.clone(),
        Attribute::CountryOfExploitation => row.country_of_exploitation.clone(),
        Attribute::Exploitation => row.exploitation.join(";"),
        Attribute::MeansOfControl => row.means_of_control.join(";"),
        Attribute::Gender => row.gender.to_string(),
    }
}

fn counts<'a>(rows: impl Iterator<Item = &'a Row>) -> BTreeMap<&'a Row, usize> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry(r).or_insert(0) += 1;
    }
    m
}

/// Rows in small groups, computed the slow way from the published text.
fn naive_small(records: &[Record], levels: Levels, k: usize) -> usize {
    let rows: Vec<Row> = records.iter().map(|r| generalise(r, levels)).collect();
    counts(rows.iter()).values().filter(|&&n| n < k).sum()
}

fn band(label: &str) -> Option<(u8, u8)> {
    AGE_BANDS
        .iter()
        .flat_map(|b| b.iter())
        .find(|b| b.2 == label)
        .map(|b| (b.0, b.1))
}

#[test]
fn age_bands_at_each_level() {
    let label = |age: Age, level: u8| {
        generalise(
            &Record {
                age,
                ..case(0, 2023, "NG", "IT")
            },
            at(level),
        )
        .age
    };
    let y = Age::Years;
    assert_eq!(
        [0, 4, 5, 14, 15, 17, 18, 24, 25, 59, 60, 101].map(|a| label(y(a), 0)),
        [
            "0-4", "0-4", "5-9", "10-14", "15-17", "15-17", "18-24", "18-24", "25-29", "55-59",
            "60+", "60+"
        ]
    );
    assert_eq!(
        [9, 10, 17, 18, 29, 30, 44, 45, 90].map(|a| label(y(a), 1)),
        [
            "0-9", "10-17", "10-17", "18-29", "18-29", "30-44", "30-44", "45+", "45+"
        ]
    );
    assert_eq!(
        [0, 17, 18, 255].map(|a| label(y(a), 2)),
        ["0-17", "0-17", "18+", "18+"]
    );
    assert_eq!(label(y(30), 3), SUPPRESSED);
    assert_eq!(label(Age::Unknown, 0), UNKNOWN);
    assert_eq!(label(Age::Unknown, 2), UNKNOWN);
    assert_eq!(label(Age::Unknown, 3), SUPPRESSED);
    assert_eq!(label(None.into(), 1), UNKNOWN);
    assert_eq!(label(Some(12).into(), 0), "10-14");
}

#[test]
fn estimated_ages_take_the_finest_band_that_holds_them() {
    let label = |from, to, level| {
        let r = Record {
            age: Age::Range { from, to },
            ..case(0, 2023, "NG", "IT")
        };
        generalise(&r, at(level)).age
    };
    assert_eq!(label(15, 17, 0), "15-17");
    assert_eq!(label(20, 27, 0), "18-29");
    assert_eq!(label(20, 27, 1), "18-29");
    assert_eq!(label(20, 50, 0), "18+");
    // A minor of unknown age stays a child at every level.
    assert_eq!([0, 1, 2].map(|l| label(0, 17, l)), ["0-17"; 3]);
    // Straddling 18 is not a band.
    assert_eq!([0, 1, 2].map(|l| label(16, 19, l)), [UNKNOWN; 3]);
}

#[test]
fn years() {
    let label = |year, level| generalise(&case(30, year, "NG", "IT"), at(level)).registration_year;
    assert_eq!(
        [0, 1, 2, 3].map(|l| label(2023, l)),
        ["2023", "2022-2023", "2020-2029", SUPPRESSED]
    );
    assert_eq!(label(2020, 1), "2020-2021");
    assert_eq!(label(2019, 2), "2010-2019");
    assert_eq!(label(1900, 0), "1900");
    assert_eq!(label(2999, 2), "2990-2999");
}

#[test]
fn countries_regions_and_unknowns() {
    let labels = |code: Option<Country>| {
        [0, 1, 2, 3].map(|l| {
            let r = Record {
                citizenship: code,
                ..case(30, 2023, "NG", "IT")
            };
            generalise(&r, at(l)).citizenship
        })
    };
    assert_eq!(
        labels(c("FR")),
        ["FR", "Western Europe", "Europe", SUPPRESSED]
    );
    assert_eq!(
        labels(c("ng")),
        ["NG", "Western Africa", "Africa", SUPPRESSED]
    );
    assert_eq!(
        labels(c("VN")),
        ["VN", "South-eastern Asia", "Asia", SUPPRESSED]
    );
    assert_eq!(labels(c("HT")), ["HT", "Caribbean", "Americas", SUPPRESSED]);
    assert_eq!(
        labels(c("US")),
        ["US", "Northern America", "Americas", SUPPRESSED]
    );
    assert_eq!(
        labels(c("UA")),
        ["UA", "Eastern Europe", "Europe", SUPPRESSED]
    );
    assert_eq!(
        labels(c("ER")),
        ["ER", "Eastern Africa", "Africa", SUPPRESSED]
    );
    assert_eq!(labels(c("SY")), ["SY", "Western Asia", "Asia", SUPPRESSED]);
    assert_eq!(labels(c("ZZ")), ["ZZ", OTHER, OTHER, SUPPRESSED]);
    assert_eq!(labels(None), [UNKNOWN, UNKNOWN, UNKNOWN, SUPPRESSED]);
    for bad in ["", "F", "FRA", "1A", "é"] {
        assert_eq!(
            Country::parse(bad).map_err(|e| e.field),
            Err("country"),
            "{bad}"
        );
    }
    assert_eq!(c(" fr ").map(|c| c.to_string()), Some("FR".into()));
}

#[test]
fn the_region_table_is_a_partition() {
    let mut seen = BTreeMap::new();
    for (name, region, members) in SUB_REGIONS {
        assert!(region < REGIONS.len(), "{name}");
        for code in members.split_whitespace() {
            let parsed = Country::parse(code).map(|c| c.to_string());
            assert_eq!(parsed.as_deref(), Ok(code), "{name}");
            assert_eq!(seen.insert(code, name), None, "{code} in two sub-regions");
        }
    }
    // Every ISO 3166-1 code but Antarctica's (checked against iso-codes), and Kosovo.
    assert_eq!(seen.len(), 249);
}

#[test]
fn exploitation_and_control_groups() {
    let r = Record {
        exploitation: [Exploitation::SexualExploitation, Exploitation::ForcedLabour].into(),
        means_of_control: [
            Control::WithholdsDocuments,
            Control::DebtBondage,
            Control::TakesEarnings,
        ]
        .into(),
        ..case(30, 2023, "NG", "IT")
    };
    let g = |l| generalise(&r, at(l));
    assert_eq!(g(0).exploitation, ["forced_labour", "sexual_exploitation"]);
    assert_eq!(
        g(1).exploitation,
        ["sexual_exploitation", "labour_exploitation"]
    );
    assert_eq!(g(2).exploitation, [SUPPRESSED]);
    assert_eq!(
        g(0).means_of_control,
        ["debt_bondage", "takes_earnings", "withholds_documents"]
    );
    assert_eq!(
        g(1).means_of_control,
        ["economic", "restriction_of_freedom"]
    );
    assert_eq!(g(2).means_of_control, [SUPPRESSED]);
    let empty = Record {
        exploitation: BTreeSet::new(),
        means_of_control: BTreeSet::new(),
        ..r
    };
    assert_eq!(generalise(&empty, at(0)).exploitation, [UNKNOWN]);
    assert_eq!(generalise(&empty, at(1)).means_of_control, [UNKNOWN]);
    let begging = Record {
        exploitation: [Exploitation::ForcedBegging].into(),
        ..empty
    };
    assert_eq!(
        generalise(&begging, at(1)).exploitation,
        ["other_exploitation"]
    );
    assert_eq!(
        generalise(&case(30, 2023, "NG", "IT"), at(0)).gender,
        "female"
    );
    assert_eq!(
        generalise(&case(30, 2023, "NG", "IT"), at(1)).gender,
        SUPPRESSED
    );
}

#[test]
fn k_below_five_and_bad_config_are_refused() {
    let pop = vec![case(30, 2023, "NG", "IT"); 20];
    for k in 0..MIN_K {
        assert_eq!(
            anonymise(&pop, k, &Config::default()).map_err(|e| e.field),
            Err("k")
        );
    }
    assert!(anonymise(&pop, MIN_K, &Config::default()).is_ok());
    let too_much = Config {
        max_suppressed_percent: 101,
        ..Config::default()
    };
    assert_eq!(
        anonymise(&pop, 11, &too_much).map_err(|e| e.field),
        Err("max_suppressed_percent")
    );
    let no_level = Config {
        min_levels: Levels::FINEST.with(Attribute::Gender, 2),
        ..Config::default()
    };
    assert_eq!(
        anonymise(&pop, 11, &no_level).map_err(|e| e.field),
        Err("min_levels")
    );
    let mut bad = pop.clone();
    bad[3].registration_year = 1850;
    assert_eq!(
        anonymise(&bad, 11, &Config::default()).map_err(|e| e.field),
        Err("registration_year")
    );
    bad[3].registration_year = 2020;
    bad[3].age = Age::Range { from: 30, to: 20 };
    assert_eq!(
        anonymise(&bad, 11, &Config::default()).map_err(|e| e.field),
        Err("age")
    );
}

/// Six identical cases and one that differs only in its means of control, k = 5.
fn six_and_one(control: Control) -> Vec<Record> {
    let mut pop = vec![case(25, 2023, "NG", "IT"); 6];
    pop.push(Record {
        means_of_control: [control].into(),
        ..case(25, 2023, "NG", "IT")
    });
    pop
}

#[test]
fn hand_checked_generalisation() {
    // Debt bondage and taking earnings are both "economic": one step makes one group of 7.
    let e = anonymise(&six_and_one(Control::TakesEarnings), 5, &Config::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.levels, Levels::FINEST.with(Attribute::MeansOfControl, 1));
    let row = Row {
        age: "25-29",
        registration_year: "2023".into(),
        citizenship: "NG".into(),
        country_of_exploitation: "IT".into(),
        exploitation: vec!["sexual_exploitation"],
        means_of_control: vec!["economic"],
        gender: "female",
    };
    assert_eq!(e.rows, vec![row; 7]);
    let r = &e.report;
    assert_eq!((r.input_rows, r.output_rows, r.suppressed_rows), (7, 7, 0));
    assert_eq!(
        (r.groups, r.smallest_group, r.max_suppressed_rows),
        (1, Some(7), 0)
    );
    let controls = &r.attributes[Attribute::MeansOfControl.index()];
    assert_eq!(
        (controls.level_name, controls.suppressed_cells),
        ("groups", 0)
    );
}

#[test]
fn hand_checked_attribute_suppression() {
    // Physical abuse is another group: only dropping the means of control helps.
    let e = anonymise(&six_and_one(Control::PhysicalAbuse), 5, &Config::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.levels, Levels::FINEST.with(Attribute::MeansOfControl, 2));
    assert!(
        e.rows
            .iter()
            .all(|r| r.means_of_control == [SUPPRESSED] && r.citizenship == "NG")
    );
    assert_eq!(e.rows.len(), 7);
    let controls = &e.report.attributes[Attribute::MeansOfControl.index()];
    assert_eq!(
        (controls.level_name, controls.suppressed_cells),
        (SUPPRESSED, 7)
    );
    assert_eq!(
        e.report.attributes[Attribute::Gender.index()].suppressed_cells,
        0
    );
}

#[test]
fn hand_checked_record_suppression_within_budget() {
    // 1 row of 7 is within 20 %: nothing is generalised, the odd case is removed.
    let config = Config {
        max_suppressed_percent: 20,
        ..Config::default()
    };
    let e = anonymise(&six_and_one(Control::TakesEarnings), 5, &config)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.levels, Levels::FINEST);
    assert_eq!(e.rows.len(), 6);
    assert!(
        e.rows
            .iter()
            .all(|r| r.means_of_control == ["debt_bondage"])
    );
    let r = &e.report;
    assert_eq!(
        (
            r.suppressed_rows,
            r.suppressed_by.small_group,
            r.max_suppressed_rows
        ),
        (1, 1, 1)
    );
    assert!(r.adds_up());
}

#[test]
fn fewer_than_k_cases_export_nothing() {
    let pop = vec![case(25, 2023, "NG", "IT"); 10];
    let e = anonymise(&pop, 11, &Config::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(e.rows.is_empty());
    assert_eq!(e.levels, Levels::top());
    assert_eq!(
        e.report.suppressed_by,
        SuppressedBy {
            small_group: 0,
            population_below_k: 10
        }
    );
    assert!(e.report.adds_up());
    let none = anonymise(&[], 11, &Config::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((none.rows.len(), none.report.suppressed_rows), (0, 0));
}

#[test]
fn children_and_adults_are_never_merged_age_is_dropped_instead() {
    let mut pop = vec![case(17, 2023, "NG", "IT"); 6];
    pop.extend(vec![case(18, 2023, "NG", "IT"); 6]);
    let e = anonymise(&pop, 11, &Config::default()).unwrap_or_else(|e| panic!("{e}"));
    // Child/adult would leave two groups of 6: refused, and everything else is finest.
    assert_eq!(e.levels, Levels::FINEST.with(Attribute::Age, 3));
    assert_eq!(e.rows.len(), 12);
    assert!(
        e.rows
            .iter()
            .all(|r| r.age == SUPPRESSED && r.registration_year == "2023")
    );
}

#[test]
fn when_the_budget_runs_out_citizenship_keeps_its_detail_before_the_country_of_exploitation() {
    // Either country alone splits 10 cases into 5 + 5; both together make groups of 2 and 3.
    let mut pop = Vec::new();
    for (cit, coe, n) in [
        ("NG", "IT", 3),
        ("NG", "DE", 2),
        ("RO", "IT", 2),
        ("RO", "DE", 3),
    ] {
        pop.extend(vec![case(25, 2023, cit, coe); n]);
    }
    let e = anonymise(&pop, 5, &Config::default()).unwrap_or_else(|e| panic!("{e}"));
    // Italy and Germany are in different sub-regions, but both in Europe.
    assert_eq!(
        e.levels,
        Levels::FINEST.with(Attribute::CountryOfExploitation, 2)
    );
    assert_eq!(e.rows.len(), 10);
    assert!(e.rows.iter().all(|r| r.country_of_exploitation == "Europe"));
    assert_eq!(e.rows.iter().filter(|r| r.citizenship == "NG").count(), 5);
}

#[test]
fn minimum_levels_are_kept_even_when_finer_would_do() {
    let pop = vec![case(25, 2023, "NG", "IT"); 20];
    let config = Config {
        min_levels: Levels::FINEST.with(Attribute::RegistrationYear, 2),
        ..Config::default()
    };
    let e = anonymise(&pop, 11, &config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.levels, config.min_levels);
    assert!(e.rows.iter().all(|r| r.registration_year == "2020-2029"));
}

#[test]
fn small_cells_on_dashboards() {
    assert_eq!(small_cell(10, 11), CellValue::Below(11));
    assert_eq!(small_cell(10, 11).to_string(), "< 11");
    assert_eq!(small_cell(0, 11).to_string(), "< 11");
    assert_eq!(small_cell(11, 11), CellValue::Count(11));
    assert_eq!(small_cell(1234, 11).to_string(), "1234");
    // Never below 5.
    assert_eq!(small_cell(4, 1), CellValue::Below(5));
    assert_eq!(small_cell(5, 0), CellValue::Count(5));
}

#[test]
fn a_large_skewed_population_is_anonymised() {
    // Not a benchmark (no timing): 20 000 cases of a deterministic, skewed mix, to make
    // sure the search works on realistic sizes and keeps most rows.
    let codes = [
        "NG", "RO", "VN", "UA", "BR", "ER", "SY", "PH", "AL", "MA", "CN", "IN", "ZZ",
    ];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |m: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Skewed: the minimum of two draws favours small values.
        (x as usize % m).min((x >> 32) as usize % m)
    };
    let pop: Vec<Record> = (0..20_000)
        .map(|_| Record {
            age: if next(10) == 0 {
                Age::Unknown
            } else {
                Age::Years(10 + next(50) as u8)
            },
            registration_year: 2015 + next(10) as i32,
            citizenship: c(codes[next(codes.len())]),
            country_of_exploitation: c(["IT", "DE", "FR", "GB", "US", "TH"][next(6)]),
            exploitation: [Exploitation::ALL[next(Exploitation::ALL.len())]].into(),
            means_of_control: (0..next(3))
                .map(|_| Control::ALL[next(Control::ALL.len())])
                .collect(),
            gender: Gender::ALL[next(4)],
        })
        .collect();
    let e = anonymise(&pop, DEFAULT_K, &Config::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(counts(e.rows.iter()).values().all(|&n| n >= DEFAULT_K));
    assert!(e.report.adds_up());
    assert!(e.report.suppressed_rows <= 1000, "{:?}", e.report);
}

fn record() -> impl Strategy<Value = Record> {
    let age = prop_oneof![
        Just(Age::Unknown),
        (0u8..=90).prop_map(Age::Years),
        (0u8..=80, 0u8..=12).prop_map(|(from, d)| Age::Range { from, to: from + d }),
    ];
    let country = prop::option::weighted(
        0.9,
        prop::sample::select(vec![
            "NG", "RO", "VN", "UA", "BR", "US", "IT", "FR", "ZZ", "ER", "SY",
        ]),
    )
    .prop_map(|c| c.and_then(|c| Country::parse(c).ok()));
    (
        age,
        2010i32..=2025,
        country.clone(),
        country,
        prop::collection::btree_set(prop::sample::select(Exploitation::ALL.to_vec()), 0..3),
        prop::collection::btree_set(prop::sample::select(Control::ALL.to_vec()), 0..4),
        prop::sample::select(Gender::ALL.to_vec()),
    )
        .prop_map(
            |(age, year, cit, coe, exploitation, means_of_control, gender)| Record {
                age,
                registration_year: year,
                citizenship: cit,
                country_of_exploitation: coe,
                exploitation,
                means_of_control,
                gender,
            },
        )
}

/// Random (mostly unique), replicated templates (groups of every size), and identical.
fn population() -> impl Strategy<Value = Vec<Record>> {
    prop_oneof![
        prop::collection::vec(record(), 0..200),
        prop::collection::vec((record(), 1usize..30), 1..12).prop_map(|t| {
            t.into_iter()
                .flat_map(|(r, n)| std::iter::repeat_n(r, n))
                .collect()
        }),
        (record(), 0usize..40).prop_map(|(r, n)| vec![r; n]),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (0u8..=100, prop::array::uniform7(0u8..=3)).prop_map(|(pct, min)| {
        let mut a = [0; N];
        for attr in Attribute::ALL {
            a[attr.index()] = min[attr.index()].min(attr.top()) / 2;
        }
        Config {
            max_suppressed_percent: pct,
            min_levels: Levels::from_array(a),
        }
    })
}

proptest! {
    #[test]
    fn every_combination_occurs_at_least_k_times_and_the_report_adds_up(
        pop in population(), k in 5usize..=15, config in config(),
    ) {
        let e = anonymise(&pop, k, &config).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let groups = counts(e.rows.iter());
        prop_assert!(groups.values().all(|&n| n >= k), "{groups:?}");
        let r = &e.report;
        prop_assert!(r.adds_up());
        prop_assert_eq!(r.input_rows, pop.len());
        prop_assert_eq!(r.output_rows, e.rows.len());
        prop_assert!(r.output_rows <= r.input_rows);
        prop_assert_eq!(r.groups, groups.len());
        prop_assert_eq!(r.smallest_group, groups.values().copied().min());
        prop_assert_eq!(r.attributes.len(), N);
        for a in &r.attributes {
            prop_assert_eq!(a.level, e.levels.get(a.attribute));
            prop_assert!(a.level >= config.min_levels.get(a.attribute));
            let suppressed = e.rows.iter().filter(|row| value(row, a.attribute) == SUPPRESSED).count();
            prop_assert_eq!(a.suppressed_cells, suppressed);
        }
        // Rows come sorted by value (their packed codes): equal rows are adjacent.
        let runs = e.rows.windows(2).filter(|w| w[0] != w[1]).count() + usize::from(!e.rows.is_empty());
        prop_assert_eq!(runs, groups.len());
    }

    #[test]
    fn the_export_is_the_generalised_input_minus_exactly_its_small_groups(
        pop in population(), k in 5usize..=15, config in config(),
    ) {
        let e = anonymise(&pop, k, &config).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let generalised: Vec<Row> = pop.iter().map(|r| generalise(r, e.levels)).collect();
        let want: BTreeMap<&Row, usize> =
            counts(generalised.iter()).into_iter().filter(|&(_, n)| n >= k).collect();
        prop_assert_eq!(counts(e.rows.iter()), want);
    }

    #[test]
    fn suppression_stays_within_budget_and_levels_are_locally_minimal(
        pop in population(), k in 5usize..=15, config in config(),
    ) {
        let e = anonymise(&pop, k, &config).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let r = &e.report;
        prop_assert_eq!(r.max_suppressed_rows, pop.len() * usize::from(config.max_suppressed_percent) / 100);
        if pop.len() < k {
            prop_assert_eq!(r.suppressed_by.population_below_k, pop.len());
            prop_assert!(e.rows.is_empty());
        } else {
            prop_assert!(r.suppressed_rows <= r.max_suppressed_rows, "{r:?}");
            prop_assert_eq!(r.suppressed_by.population_below_k, 0);
            // No attribute could be one level finer within the budget.
            for a in Attribute::ALL {
                let l = e.levels.get(*a);
                if l > config.min_levels.get(*a) {
                    let finer = e.levels.with(*a, l - 1);
                    prop_assert!(naive_small(&pop, finer, k) > r.max_suppressed_rows, "{a}");
                }
            }
        }
    }

    #[test]
    fn the_input_order_does_not_matter(
        (pop, shuffled) in population().prop_flat_map(|p| (Just(p.clone()), Just(p).prop_shuffle())),
        k in 5usize..=15,
    ) {
        let a = anonymise(&pop, k, &Config::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let b = anonymise(&shuffled, k, &Config::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(a, b);
    }

    #[test]
    fn identical_populations_need_no_generalisation(r in record(), n in 0usize..40, k in 5usize..=15) {
        let e = anonymise(&vec![r; n], k, &Config::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        if n >= k {
            prop_assert_eq!(e.levels, Levels::FINEST);
            prop_assert_eq!(e.rows.len(), n);
        } else {
            prop_assert!(e.rows.is_empty());
        }
        prop_assert!(e.report.adds_up());
    }

    #[test]
    fn k_below_five_is_refused(pop in population(), k in 0usize..5) {
        prop_assert_eq!(anonymise(&pop, k, &Config::default()).map_err(|e| e.field), Err("k"));
    }

    #[test]
    fn hierarchies_nest_so_a_step_never_splits_a_group(a in record(), b in record()) {
        for attr in Attribute::ALL {
            for level in 0..attr.top() {
                let same = |l| value(&generalise(&a, at(l)), *attr) == value(&generalise(&b, at(l)), *attr);
                prop_assert!(!same(level) || same(level + 1), "{attr} level {level}");
            }
            // The top level is the same for everyone.
            prop_assert_eq!(value(&generalise(&a, at(attr.top())), *attr), value(&generalise(&b, at(attr.top())), *attr));
        }
    }

    #[test]
    fn an_age_band_never_mixes_children_and_adults(r in record(), level in 0u8..3) {
        let label = generalise(&r, at(level)).age;
        if label != UNKNOWN {
            let (from, to) = band(label).ok_or_else(|| TestCaseError::fail(label))?;
            prop_assert!(to <= 17 || from >= 18, "{label}");
            let (lo, hi) = match r.age {
                Age::Years(y) => (y, y),
                Age::Range { from, to } => (from, to),
                Age::Unknown => return Err(TestCaseError::fail("unknown age got a band")),
            };
            prop_assert!(from <= lo && hi <= to, "{label} for {:?}", r.age);
        }
    }
}
