//! Unit tests of the after-return rules.

use super::*;
use crate::ports::{DefaultJurisdiction, Jurisdiction, PersonFacts};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn rule<T: fmt::Debug>(r: Result<T, Refusal>) -> String {
    r.err().map(|r| r.rule).unwrap_or_default()
}

// ---------------------------------------------------------------- schedule

#[test]
fn the_default_schedule_gives_four_dates_after_arrival() {
    let offsets = DefaultJurisdiction
        .follow_up_schedule_days(&PersonFacts {
            child: false,
            stateless: false,
            nationality: None,
        })
        .unwrap();
    // Dates counted by hand from 15 January 2026: +30, +90, +180, +365 days.
    assert_eq!(
        schedule(d("2026-01-15"), &offsets).unwrap(),
        [
            d("2026-02-14"),
            d("2026-04-15"),
            d("2026-07-14"),
            d("2027-01-15")
        ]
    );
    // Any order, repeats removed.
    assert_eq!(
        schedule(d("2026-01-15"), &[365, 30, 180, 90, 30]).unwrap(),
        schedule(d("2026-01-15"), &offsets).unwrap()
    );
    assert_eq!(schedule(d("2026-01-15"), &[0]).unwrap(), [d("2026-01-15")]);
}

#[test]
fn a_schedule_is_bounded() {
    let arrival = d("2026-01-15");
    assert_eq!(schedule(arrival, &[]).unwrap_err().field, "offsets_days");
    let many: Vec<u32> = (1..=MAX_VISITS as u32 + 1).collect();
    assert!(schedule(arrival, &many).is_err());
    assert_eq!(
        schedule(arrival, &many[..MAX_VISITS]).unwrap().len(),
        MAX_VISITS
    );
    // Repeats do not count against the bound.
    let mut repeated = many[..MAX_VISITS].to_vec();
    repeated.extend_from_slice(&many[..5]);
    assert!(schedule(arrival, &repeated).is_ok());
    assert!(schedule(arrival, &[MAX_OFFSET_DAYS]).is_ok());
    let e = schedule(arrival, &[30, MAX_OFFSET_DAYS + 1]).unwrap_err();
    assert!(e.message.contains("too far"), "{e}");
    assert!(schedule(NaiveDate::MAX, &[1]).is_err(), "date overflow");
}

#[test]
fn extending_adds_only_new_visits_due_today_or_later() {
    let arrival = d("2026-01-15");
    let existing = schedule(arrival, &[30, 90, 180, 365]).unwrap();
    let today = d("2026-05-01");
    // Day 180 is already planned; day 270 is 12 October 2026.
    assert_eq!(
        extend_schedule(arrival, &existing, &[270, 180], today).unwrap(),
        [d("2026-10-12")]
    );
    // Day 60 (16 March) is past.
    let e = extend_schedule(arrival, &existing, &[60, 270], today).unwrap_err();
    assert!(e.message.contains("2026-03-16"), "{e}");
    // Nothing new.
    assert!(extend_schedule(arrival, &existing, &[30, 365], today).is_err());
    // A visit due today is fine.
    assert_eq!(
        extend_schedule(arrival, &existing, &[106], today).unwrap(),
        [today]
    );
    // Too many in all.
    let full = schedule(arrival, &(1..=MAX_VISITS as u32).collect::<Vec<_>>()).unwrap();
    assert!(extend_schedule(arrival, &full, &[400], arrival).is_err());
}

// ---------------------------------------------------------------- visits

const ARRIVAL: &str = "2026-01-15";
const TODAY: &str = "2026-03-01";

fn planned() -> Visit {
    Visit {
        due_on: d("2026-02-14"),
        status: VisitStatus::Planned,
    }
}

fn done(on: &str, by: &str) -> VisitStatus {
    VisitStatus::Done {
        on: d(on),
        mode: VisitMode::Phone,
        by: by.into(),
    }
}

fn missed(on: &str, reason: &str) -> VisitStatus {
    VisitStatus::Missed {
        on: d(on),
        reason: reason.into(),
    }
}

fn record(v: &Visit, to: VisitStatus) -> Result<(), Refusal> {
    check_visit_change(v, &VisitChange::Record { to }, d(ARRIVAL), d(TODAY))
}

#[test]
fn a_done_visit_is_dated_between_arrival_and_today_and_says_who() {
    let v = planned();
    assert!(record(&v, done("2026-02-16", "origin service: A. Diallo")).is_ok());
    assert!(
        record(&v, done(TODAY, "A. Diallo")).is_ok(),
        "today is fine"
    );
    assert!(
        record(&v, done(ARRIVAL, "A. Diallo")).is_ok(),
        "arrival day is fine"
    );
    assert_eq!(
        rule(record(&v, done("2026-01-14", "x"))),
        "date_before_arrival"
    );
    assert_eq!(rule(record(&v, done("2026-03-02", "x"))), "date_in_future");
    assert_eq!(
        rule(record(&v, done("2026-02-16", "  "))),
        "visitor_required"
    );
    let after = apply_visit_change(
        &v,
        &VisitChange::Record {
            to: done("2026-02-16", "x"),
        },
        d(ARRIVAL),
        d(TODAY),
    )
    .unwrap();
    assert_eq!(after.due_on, v.due_on);
    assert_eq!(after.status, done("2026-02-16", "x"));
}

#[test]
fn missed_and_cancelled_visits_need_a_reason() {
    let v = planned();
    assert!(record(&v, missed("2026-02-14", "not at home, phone off")).is_ok());
    assert_eq!(
        rule(record(&v, missed("2026-02-14", ""))),
        "reason_required"
    );
    assert_eq!(
        rule(record(&v, missed("2026-03-05", "x"))),
        "date_in_future"
    );
    assert_eq!(
        rule(record(&v, missed("2026-01-01", "x"))),
        "date_before_arrival"
    );
    let cancel = |r: &str| VisitStatus::Cancelled { reason: r.into() };
    assert!(record(&v, cancel("replaced by the 90-day visit")).is_ok());
    assert_eq!(rule(record(&v, cancel(" \n "))), "reason_required");
    assert!(record(&v, cancel(&"x".repeat(MAX_TEXT))).is_ok());
    assert_eq!(
        rule(record(&v, cancel(&"x".repeat(MAX_TEXT + 1)))),
        "text_too_long"
    );
    assert_eq!(rule(record(&v, VisitStatus::Planned)), "no_change");
}

#[test]
fn a_recorded_visit_is_final_except_for_a_noted_correction() {
    let (arrival, today) = (d(ARRIVAL), d(TODAY));
    let was_missed = Visit {
        due_on: d("2026-02-14"),
        status: missed("2026-02-14", "no answer"),
    };
    assert_eq!(
        rule(record(&was_missed, done("2026-02-14", "x"))),
        "visit_final"
    );
    let move_to = VisitChange::Reschedule {
        due_on: d("2026-03-10"),
    };
    assert_eq!(
        rule(check_visit_change(&was_missed, &move_to, arrival, today)),
        "visit_final"
    );
    let correct = |to: VisitStatus, note: &str| VisitChange::Correct {
        to,
        note: note.into(),
    };
    // It turned out the visit took place by phone.
    let fix = correct(
        done("2026-02-14", "A. Diallo"),
        "the call was logged on the wrong case",
    );
    let fixed = apply_visit_change(&was_missed, &fix, arrival, today).unwrap();
    assert!(matches!(fixed.status, VisitStatus::Done { .. }));
    assert_eq!(
        rule(check_visit_change(
            &was_missed,
            &correct(done("2026-02-14", "x"), " "),
            arrival,
            today
        )),
        "correction_note"
    );
    assert_eq!(
        rule(check_visit_change(
            &was_missed,
            &correct(VisitStatus::Planned, "n"),
            arrival,
            today
        )),
        "correction_target"
    );
    assert_eq!(
        rule(check_visit_change(
            &was_missed,
            &correct(VisitStatus::Cancelled { reason: "r".into() }, "n"),
            arrival,
            today
        )),
        "correction_target"
    );
    assert_eq!(
        rule(check_visit_change(
            &was_missed,
            &correct(was_missed.status.clone(), "n"),
            arrival,
            today
        )),
        "no_change"
    );
    // A correction obeys the same date rules.
    assert_eq!(
        rule(check_visit_change(
            &was_missed,
            &correct(done("2026-04-01", "x"), "n"),
            arrival,
            today
        )),
        "date_in_future"
    );
    assert_eq!(
        rule(check_visit_change(
            &planned(),
            &correct(done("2026-02-14", "x"), "n"),
            arrival,
            today
        )),
        "nothing_to_correct"
    );
    let cancelled = Visit {
        due_on: d("2026-02-14"),
        status: VisitStatus::Cancelled { reason: "r".into() },
    };
    assert_eq!(
        rule(check_visit_change(
            &cancelled,
            &correct(done("2026-02-14", "x"), "n"),
            arrival,
            today
        )),
        "correction_not_allowed"
    );
}

#[test]
fn a_planned_visit_moves_to_today_or_later() {
    let (arrival, today) = (d(ARRIVAL), d(TODAY));
    let to = |s: &str| VisitChange::Reschedule { due_on: d(s) };
    let moved = apply_visit_change(&planned(), &to("2026-03-05"), arrival, today).unwrap();
    assert_eq!(moved.due_on, d("2026-03-05"));
    assert_eq!(moved.status, VisitStatus::Planned);
    assert!(check_visit_change(&planned(), &to(TODAY), arrival, today).is_ok());
    assert_eq!(
        rule(check_visit_change(
            &planned(),
            &to("2026-02-20"),
            arrival,
            today
        )),
        "reschedule_date"
    );
    assert_eq!(
        rule(check_visit_change(
            &planned(),
            &to("2026-02-14"),
            arrival,
            today
        )),
        "no_change"
    );
    // Before arrival (checked on a day when "today" does not already forbid it).
    assert_eq!(
        rule(check_visit_change(
            &planned(),
            &to("2026-01-10"),
            arrival,
            d("2026-01-01")
        )),
        "reschedule_date"
    );
}

#[test]
fn a_planned_visit_is_overdue_after_its_grace_days() {
    let v = Visit {
        due_on: d("2026-03-01"),
        status: VisitStatus::Planned,
    };
    assert!(
        !is_overdue(&v, 7, d("2026-03-08")),
        "due + 7 = today: not yet"
    );
    assert_eq!(overdue_days(&v, 7, d("2026-03-09")), Some(8));
    assert!(!is_overdue(&v, 0, d("2026-03-01")));
    assert_eq!(overdue_days(&v, 0, d("2026-03-02")), Some(1));
    let grace = default_config().unwrap().visits.grace_days;
    assert!(is_overdue(&v, grace, d("2026-04-30")));
    for status in [
        done("2026-03-01", "x"),
        missed("2026-03-01", "x"),
        VisitStatus::Cancelled { reason: "r".into() },
    ] {
        let v = Visit {
            due_on: d("2026-03-01"),
            status,
        };
        assert_eq!(overdue_days(&v, 0, d("2027-01-01")), None, "{}", v.status);
    }
}

fn visit(due: &str, status: VisitStatus) -> Visit {
    Visit {
        due_on: d(due),
        status,
    }
}

#[test]
fn missed_visits_are_counted_since_the_last_contact() {
    let cancelled = || VisitStatus::Cancelled { reason: "r".into() };
    let mut visits = vec![
        visit("2026-04-15", missed("2026-04-15", "no answer")),
        visit("2026-02-14", done("2026-02-14", "x")),
        visit("2026-07-14", missed("2026-07-15", "moved away")),
        visit("2026-05-15", cancelled()),
        visit("2027-01-15", VisitStatus::Planned),
    ];
    // In schedule order: done, missed, cancelled, missed, planned.
    assert_eq!(missed_count(&visits), 2);
    assert_eq!(
        missed_since_last_done(&visits),
        2,
        "a cancellation is not contact"
    );
    let t = default_config().unwrap().alerts;
    let a = missed_visit_alert(&visits, &t).unwrap();
    assert_eq!(a.category, AlertCategory::MissedVisitsNoContact);
    assert_eq!(a.severity, t.missed_visits_severity);
    assert!(approx(a.value, 2.0));
    // Contact again: the run starts over, the total stays.
    visits.push(visit("2026-10-12", done("2026-10-12", "x")));
    assert_eq!(missed_count(&visits), 2);
    assert_eq!(missed_since_last_done(&visits), 0);
    assert!(missed_visit_alert(&visits, &t).is_none());
    // No contact ever: every miss counts.
    let never = [
        visit("2026-02-14", missed("2026-02-14", "x")),
        visit("2026-04-15", missed("2026-04-15", "x")),
        visit("2026-07-14", missed("2026-07-14", "x")),
    ];
    assert_eq!(missed_since_last_done(&never), 3);
    // One miss is below the default threshold of two; a threshold of one fires.
    let one = &never[..1];
    assert!(missed_visit_alert(one, &t).is_none());
    let strict = AlertThresholds {
        missed_visits: 1,
        ..t
    };
    assert!(missed_visit_alert(one, &strict).is_some());
}

// ---------------------------------------------------------------- config

#[test]
fn the_default_set_has_fifteen_indicators_over_three_dimensions() {
    let c = default_config().unwrap();
    let set = &c.indicators;
    assert_eq!(set.indicators.len(), 15);
    for dim in Dimension::ALL {
        assert_eq!(
            set.indicators
                .iter()
                .filter(|i| i.dimension == *dim)
                .count(),
            5,
            "{dim}"
        );
    }
    // Equal weights: the sources give none (see the file's comments).
    let w = set.indicators[0].weight;
    assert!(set.indicators.iter().all(|i| i.weight == w));
    let dw = set.dimension_weights;
    assert!(dw.economic == dw.social && dw.social == dw.psychosocial);
    for i in &set.indicators {
        assert!(!i.question_in("en").is_empty() && !i.question_in("fr").is_empty());
        assert_ne!(i.question_in("en"), i.question_in("fr"), "{}", i.id);
        assert_eq!(
            i.question_in("de"),
            i.question_in("en"),
            "falls back to English"
        );
        if let Scale::Options { options } = &i.scale {
            assert!(
                options.iter().any(|o| o.score.is_none()),
                "{}: a way to not answer",
                i.id
            );
            assert!(
                options.iter().all(|o| o.label.contains_key("fr")),
                "{}",
                i.id
            );
        }
    }
    assert!(
        set.source.contains("not IOM"),
        "the file says what is not IOM's"
    );
    assert!(c.alerts.low_score > 0.0 && c.alerts.sharp_drop > c.trend_epsilon);
}

/// A small set with unequal weights and a reversed numeric scale, for worked examples.
const SMALL: &str = r#"
    [set]
    id = "small"
    version = "2"
    source = "test"
    [dimension_weights]
    economic = 2.0
    social = 1.0
    psychosocial = 1.0
    [scoring]
    trend_epsilon = 0.05
    [alerts]
    low_score = 0.4
    low_score_severity = "medium"
    sharp_drop = 0.2
    sharp_drop_severity = "high"
    missed_visits = 2
    missed_visits_severity = "high"
    [visits]
    grace_days = 7
    [scales.yn]
    kind = "options"
    options = [
      { id = "yes", score = 1.0, label = { en = "Yes" } },
      { id = "no", score = 0.0, label = { en = "No" } },
      { id = "dk", label = { en = "Don't know" } },
    ]
    [scales.abc]
    kind = "options"
    options = [
      { id = "a", score = 1.0, label = { en = "A" } },
      { id = "b", score = 0.4, label = { en = "B" } },
      { id = "c", score = 0.0, label = { en = "C" } },
    ]
    [scales.hungry_days]
    kind = "numeric"
    min = 0.0
    max = 30.0
    higher_is_better = false
    [[indicators]]
    id = "e1"
    dimension = "economic"
    weight = 3.0
    scale = "yn"
    question = { en = "E1?" }
    [[indicators]]
    id = "e2"
    dimension = "economic"
    weight = 1.0
    scale = "hungry_days"
    question = { en = "E2?" }
    [[indicators]]
    id = "s1"
    dimension = "social"
    weight = 1.0
    scale = "yn"
    question = { en = "S1?" }
    [[indicators]]
    id = "s2"
    dimension = "social"
    weight = 1.0
    scale = "abc"
    question = { en = "S2?" }
    [[indicators]]
    id = "p1"
    dimension = "psychosocial"
    weight = 2.0
    scale = "yn"
    question = { en = "P1?" }
    [[indicators]]
    id = "p2"
    dimension = "psychosocial"
    weight = 1.0
    scale = "yn"
    question = { en = "P2?" }
"#;

fn bad(from: &str, to: &str) -> Invalid {
    assert!(
        SMALL.contains(from),
        "the test edits something that exists: {from}"
    );
    parse_config(&SMALL.replacen(from, to, 1)).unwrap_err()
}

#[test]
fn a_configuration_is_checked_value_by_value() {
    assert!(parse_config(SMALL).is_ok());
    let cases: &[(&str, &str, &str, &str)] = &[
        ("id = \"e2\"", "id = \"e1\"", "indicators", "repeated"),
        (
            "scale = \"abc\"",
            "scale = \"xyz\"",
            "indicators",
            "unknown scale",
        ),
        ("weight = 3.0", "weight = 0.0", "indicators", "weight"),
        ("weight = 3.0", "weight = -1.0", "indicators", "weight"),
        (
            "score = 0.4, label",
            "score = 1.5, label",
            "scales",
            "outside 0–1",
        ),
        ("min = 0.0", "min = 30.0", "scales", "min must be below max"),
        (
            "{ id = \"c\", score = 0.0",
            "{ id = \"b\", score = 0.0",
            "scales",
            "repeated",
        ),
        (
            "question = { en = \"S1?\" }",
            "question = { fr = \"S1 ?\" }",
            "indicators",
            "English",
        ),
        ("low_score = 0.4", "low_score = 1.2", "alerts", "low_score"),
        (
            "sharp_drop = 0.2",
            "sharp_drop = 0.0",
            "alerts",
            "sharp_drop",
        ),
        (
            "missed_visits = 2",
            "missed_visits = 0",
            "alerts",
            "missed_visits",
        ),
        ("grace_days = 7", "grace_days = 91", "visits", "grace_days"),
        (
            "trend_epsilon = 0.05",
            "trend_epsilon = 0.5",
            "scoring",
            "trend_epsilon",
        ),
        (
            "economic = 2.0",
            "economic = 2.0\ncolour = 1.0",
            "config",
            "colour",
        ),
        (
            "low_score_severity = \"medium\"",
            "low_score_severity = \"mild\"",
            "config",
            "mild",
        ),
        (
            "dimension = \"social\"",
            "dimension = \"cultural\"",
            "config",
            "cultural",
        ),
    ];
    for (from, to, field, word) in cases {
        let e = bad(from, to);
        assert_eq!(e.field, *field, "{from} → {to}: {e}");
        assert!(e.message.contains(word), "{from} → {to}: {e}");
    }
    // A dimension without indicators: psychosocial's two become social.
    let no_psy = SMALL.replace("dimension = \"psychosocial\"", "dimension = \"social\"");
    let e = parse_config(&no_psy).unwrap_err();
    assert!(e.message.contains("psychosocial"), "{e}");
    // A scale where nothing scores (the yes/no scale loses both scores).
    let unscored = SMALL
        .replace("{ id = \"no\", score = 0.0,", "{ id = \"no\",")
        .replace("{ id = \"yes\", score = 1.0,", "{ id = \"yes\",");
    let e = parse_config(&unscored).unwrap_err();
    assert!(e.message.contains("no scored option"), "{e}");
    // No dimension counts.
    let zero = SMALL
        .replace("economic = 2.0", "economic = 0.0")
        .replace("social = 1.0\n", "social = 0.0\n")
        .replace("psychosocial = 1.0\n", "psychosocial = 0.0\n");
    assert_eq!(parse_config(&zero).unwrap_err().field, "dimension_weights");
    let huge = format!("{SMALL}\n#{}", "x".repeat(MAX_CONFIG_BYTES));
    assert_eq!(parse_config(&huge).unwrap_err().field, "config");
}

// ---------------------------------------------------------------- scoring

fn choice(o: &str) -> Answer {
    Answer::Choice { option: o.into() }
}

fn number(v: f64) -> Answer {
    Answer::Number { value: v }
}

fn answers(list: &[(&str, Answer)]) -> Answers {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// Worked example A on the default set. The sources consulted give no example
/// respondent, so this one is computed by hand from the configuration's weights
/// (all equal) and answer scores:
///
/// economic     = (6/10 + 1 + 0.5 + 0 + 0.5) / 5 = 2.6 / 5 = 0.52
/// social       = (0.75 + 1 + 0.25 + 0.5 + 0) / 5 = 2.5 / 5 = 0.50
/// psychosocial = (0.5 + 1 + 0.75 + 0.25 + 0.5) / 5 = 3.0 / 5 = 0.60
/// composite    = (0.52 + 0.50 + 0.60) / 3 = 1.62 / 3 = 0.54
fn example_a() -> Answers {
    answers(&[
        ("economic_satisfaction", number(6.0)),
        ("economic_income", choice("yes")),
        ("economic_food", choice("sometimes")),
        ("economic_debt", choice("hard_to_repay")),
        ("economic_opportunities", choice("fair")),
        ("social_housing", choice("good")),
        ("social_documents", choice("yes")),
        ("social_health", choice("poor")),
        ("social_education", choice("fair")),
        ("social_justice", choice("very_poor")),
        ("psychosocial_support", choice("partly")),
        ("psychosocial_belonging", choice("yes")),
        ("psychosocial_safety", choice("rarely")),
        ("psychosocial_distress", choice("often")),
        ("psychosocial_staying", choice("partly")),
    ])
}

#[test]
fn worked_example_a_a_complete_assessment_on_the_default_set() {
    let set = default_config().unwrap().indicators;
    let s = score(&set, &example_a()).unwrap();
    assert!(approx(s.economic.score.unwrap(), 0.52), "{s:?}");
    assert!(approx(s.social.score.unwrap(), 0.50));
    assert!(approx(s.psychosocial.score.unwrap(), 0.60));
    assert!(approx(s.composite.unwrap(), 0.54));
    assert!(s.complete());
    assert_eq!((s.answered, s.total), (15, 15));
    assert!(approx(s.composite_coverage, 1.0));
    for dim in Dimension::ALL {
        assert_eq!((s.get(*dim).answered, s.get(*dim).total), (5, 5));
        assert!(approx(s.get(*dim).weight_coverage, 1.0));
    }
    assert_eq!(s.set_id, set.id);
}

/// Worked example B: example A with some indicators unanswered, by hand:
///
/// economic: satisfaction not asked, debt "don't know" → (1 + 0.5 + 0.5) / 3 = 0.6667,
///           3 of 5 answered, weight coverage 3/5
/// social: education "not applicable" → (0.75 + 1 + 0.25 + 0) / 4 = 0.5, 4 of 5
/// psychosocial: all "no answer" → no score, 0 of 5
/// composite over the two scored dimensions: (0.6667 + 0.5) / 2 = 0.5833, coverage 2/3
#[test]
fn worked_example_b_a_partial_assessment_is_scored_over_what_was_answered() {
    let set = default_config().unwrap().indicators;
    let mut a = example_a();
    a.remove("economic_satisfaction");
    a.insert("economic_debt".into(), choice("dont_know"));
    a.insert("social_education".into(), choice("not_applicable"));
    for i in set
        .indicators
        .iter()
        .filter(|i| i.dimension == Dimension::Psychosocial)
    {
        a.insert(i.id.clone(), Answer::NoAnswer);
    }
    let s = score(&set, &a).unwrap();
    assert!(approx(s.economic.score.unwrap(), 2.0 / 3.0), "{s:?}");
    assert_eq!((s.economic.answered, s.economic.total), (3, 5));
    assert!(approx(s.economic.weight_coverage, 0.6));
    assert!(approx(s.social.score.unwrap(), 0.5));
    assert_eq!(s.social.answered, 4);
    assert_eq!(s.psychosocial.score, None);
    assert_eq!(s.psychosocial.answered, 0);
    assert!(approx(s.psychosocial.weight_coverage, 0.0));
    assert!(approx(s.composite.unwrap(), (2.0 / 3.0 + 0.5) / 2.0));
    assert!(approx(s.composite_coverage, 2.0 / 3.0));
    assert!(!s.complete());
    assert_eq!((s.answered, s.total), (7, 15));
    // Nothing answered at all: no score anywhere, no error.
    let none = score(&set, &Answers::new()).unwrap();
    assert_eq!(none.composite, None);
    assert!(Dimension::ALL.iter().all(|d| none.get(*d).score.is_none()));
}

/// Worked example C on the small set (unequal weights, reversed numeric scale), by hand:
///
/// economic     = (3·1 + 1·(1 − 6/30)) / (3 + 1) = 3.8 / 4 = 0.95
/// social       = (1·0 + 1·0.4) / 2 = 0.2
/// psychosocial = p1 only: 2·1 / 2 = 1.0, weight coverage 2/3
/// composite    = (2·0.95 + 1·0.2 + 1·1.0) / 4 = 3.1 / 4 = 0.775
/// without e1   : economic = 0.8, composite = (1.6 + 0.2 + 1.0) / 4 = 0.7
#[test]
fn worked_example_c_weights_count_and_are_renormalised() {
    let set = parse_config(SMALL).unwrap().indicators;
    let mut a = answers(&[
        ("e1", choice("yes")),
        ("e2", number(6.0)),
        ("s1", choice("no")),
        ("s2", choice("b")),
        ("p1", choice("yes")),
        ("p2", choice("dk")),
    ]);
    let s = score(&set, &a).unwrap();
    assert!(approx(s.economic.score.unwrap(), 0.95), "{s:?}");
    assert!(approx(s.social.score.unwrap(), 0.2));
    assert!(approx(s.psychosocial.score.unwrap(), 1.0));
    assert!(approx(s.psychosocial.weight_coverage, 2.0 / 3.0));
    assert!(approx(s.composite.unwrap(), 0.775));
    a.remove("e1");
    let s = score(&set, &a).unwrap();
    assert!(approx(s.economic.score.unwrap(), 0.8));
    assert!(approx(s.economic.weight_coverage, 0.25));
    assert!(approx(s.composite.unwrap(), 0.7));
    // The ends of a numeric scale.
    for (days, expected) in [(0.0, 1.0), (30.0, 0.0), (15.0, 0.5)] {
        let s = score(&set, &answers(&[("e2", number(days))])).unwrap();
        assert!(approx(s.economic.score.unwrap(), expected), "{days}");
    }
}

#[test]
fn an_answer_outside_its_scale_is_refused_naming_the_indicator() {
    let set = default_config().unwrap().indicators;
    let cases = [
        ("economic_income", choice("maybe"), "economic_income"),
        ("economic_satisfaction", number(11.0), "0 to 10"),
        (
            "economic_satisfaction",
            number(-0.5),
            "economic_satisfaction",
        ),
        (
            "economic_satisfaction",
            number(f64::NAN),
            "economic_satisfaction",
        ),
        ("economic_satisfaction", choice("yes"), "with a number"),
        ("social_health", number(3.0), "choosing an option"),
        ("no_such_indicator", choice("yes"), "no_such_indicator"),
    ];
    for (id, answer, word) in cases {
        let mut a = example_a();
        a.insert(id.into(), answer.clone());
        let e = score(&set, &a).unwrap_err();
        assert_eq!(e.field, "answers");
        assert!(e.message.contains(word), "{id} {answer:?}: {e}");
    }
    let mut a = example_a();
    a.insert("economic_satisfaction".into(), number(10.0));
    assert!(score(&set, &a).is_ok(), "the top of the scale is inside it");
}

fn scores(e: Option<f64>, s: Option<f64>, p: Option<f64>, c: Option<f64>) -> Scores {
    let ds = |dimension, score| DimensionScore {
        dimension,
        score,
        answered: 5,
        total: 5,
        weight_coverage: 1.0,
    };
    Scores {
        set_id: "passerelle-default".into(),
        set_version: "1".into(),
        economic: ds(Dimension::Economic, e),
        social: ds(Dimension::Social, s),
        psychosocial: ds(Dimension::Psychosocial, p),
        composite: c,
        composite_coverage: 1.0,
        answered: 15,
        total: 15,
    }
}

#[test]
fn the_trend_says_up_down_or_stable_within_epsilon() {
    let eps = 0.05;
    let before = scores(Some(0.5), Some(0.5), Some(0.5), Some(0.5));
    let after = scores(Some(0.55), Some(0.56), Some(0.44), None);
    let t = trend(&before, &after, eps);
    assert_eq!(
        t.economic.direction,
        Some(Direction::Stable),
        "exactly epsilon"
    );
    assert_eq!(t.social.direction, Some(Direction::Up));
    assert!(approx(t.social.delta.unwrap(), 0.06));
    assert_eq!(t.psychosocial.direction, Some(Direction::Down));
    assert_eq!(t.composite.delta, None, "no current composite");
    assert_eq!(t.composite.direction, None);
    assert_eq!(t.composite.previous, Some(0.5));
    assert!(t.same_indicator_set);
    let mut other = after.clone();
    other.set_version = "2".into();
    assert!(!trend(&before, &other, eps).same_indicator_set);
    // Between two real assessments: example B (partial) → example A (complete).
    let set = default_config().unwrap().indicators;
    let a = score(&set, &example_a()).unwrap();
    let mut partial = example_a();
    partial.insert("economic_income".into(), choice("no"));
    let b = score(&set, &partial).unwrap();
    let t = trend(&b, &a, eps);
    // economic went from (0.6+0+0.5+0+0.5)/5 = 0.32 to 0.52.
    assert!(approx(t.economic.delta.unwrap(), 0.2));
    assert_eq!(t.economic.direction, Some(Direction::Up));
    assert_eq!(t.social.direction, Some(Direction::Stable));
}

// ---------------------------------------------------------------- alerts

#[test]
fn a_low_dimension_or_a_sharp_drop_raises_an_alert() {
    let t = default_config().unwrap().alerts;
    assert!(
        approx(t.low_score, 0.4) && approx(t.sharp_drop, 0.2),
        "the values used below"
    );
    let before = scores(Some(0.6), Some(0.5), Some(0.7), Some(0.6));
    let now = scores(Some(0.39), Some(0.4), Some(0.5), Some(0.43));
    let alerts = automatic_alerts(Some(&before), &now, &t);
    let got: Vec<(AlertCategory, Option<Dimension>)> =
        alerts.iter().map(|a| (a.category, a.dimension)).collect();
    assert_eq!(
        got,
        [
            // 0.39 < 0.4; social at exactly 0.4 is not below.
            (AlertCategory::LowScore, Some(Dimension::Economic)),
            // 0.6 → 0.39 falls 0.21; 0.7 → 0.5 falls exactly 0.2; social falls 0.1 and
            // the composite 0.17: no alert.
            (AlertCategory::SharpDrop, Some(Dimension::Economic)),
            (AlertCategory::SharpDrop, Some(Dimension::Psychosocial)),
        ]
    );
    assert_eq!(alerts[0].severity, t.low_score_severity);
    assert_eq!(alerts[1].severity, t.sharp_drop_severity);
    assert!(approx(alerts[1].value, 0.21));
    assert!(
        alerts[1].message.contains("0.60 to 0.39"),
        "{}",
        alerts[1].message
    );
    // The composite falls too.
    let crash = scores(Some(0.3), Some(0.3), Some(0.3), Some(0.3));
    let alerts = automatic_alerts(Some(&before), &crash, &t);
    assert!(
        alerts
            .iter()
            .any(|a| a.category == AlertCategory::SharpDrop && a.dimension.is_none())
    );
    assert_eq!(
        alerts
            .iter()
            .filter(|a| a.category == AlertCategory::LowScore)
            .count(),
        3
    );
    // A first assessment: only the low scores. A rise: nothing.
    assert_eq!(automatic_alerts(None, &now, &t).len(), 1);
    assert!(automatic_alerts(Some(&now), &before, &t).is_empty());
    // A dimension without a score raises nothing.
    let unknown = scores(None, Some(0.9), None, Some(0.9));
    assert!(automatic_alerts(Some(&before), &unknown, &t).is_empty());
    // The thresholds are the configuration's, not the code's.
    let lenient = AlertThresholds {
        low_score: 0.3,
        sharp_drop: 0.5,
        ..t
    };
    assert!(automatic_alerts(Some(&before), &now, &lenient).is_empty());
}

#[test]
fn alerts_go_open_acknowledged_closed_with_an_action() {
    use AlertStatus::*;
    let close = |a: &str| AlertChange::Close { action: a.into() };
    assert_eq!(
        check_alert_change(Open, &AlertChange::Acknowledge),
        Ok(Acknowledged)
    );
    assert_eq!(
        check_alert_change(Acknowledged, &close("called the person; family safe")),
        Ok(Closed)
    );
    assert_eq!(
        rule(check_alert_change(Open, &close("done"))),
        "alert_order"
    );
    assert_eq!(
        rule(check_alert_change(Acknowledged, &AlertChange::Acknowledge)),
        "alert_order"
    );
    assert_eq!(
        rule(check_alert_change(Acknowledged, &close("  "))),
        "action_required"
    );
    assert_eq!(
        rule(check_alert_change(
            Acknowledged,
            &close(&"x".repeat(MAX_TEXT + 1))
        )),
        "text_too_long"
    );
    for change in [AlertChange::Acknowledge, close("again")] {
        assert_eq!(rule(check_alert_change(Closed, &change)), "alert_closed");
    }
}

#[test]
fn threats_and_trafficker_contact_are_never_low() {
    for c in [
        AlertCategory::ThreatsToPersonOrFamily,
        AlertCategory::TraffickerOrRecruiterContact,
    ] {
        assert_eq!(rule(check_new_alert(c, Severity::Medium)), "severity_floor");
        assert!(check_new_alert(c, Severity::High).is_ok());
        assert!(check_new_alert(c, Severity::Critical).is_ok());
    }
    for c in [
        AlertCategory::Debt,
        AlertCategory::SanctionsOnReturn,
        AlertCategory::WishToRemigrateIrregularly,
    ] {
        assert!(check_new_alert(c, Severity::Low).is_ok(), "{c}");
    }
    assert_eq!(
        AlertCategory::parse("sanctions_on_return"),
        Ok(AlertCategory::SanctionsOnReturn)
    );
    assert_eq!(AlertCategory::ALL.len(), 8);
}

// ---------------------------------------------------------------- shapes

#[test]
fn the_json_shapes_are_stable() {
    let v = Visit {
        due_on: d("2026-02-14"),
        status: done("2026-02-16", "A. Diallo"),
    };
    let j = serde_json::to_value(&v).unwrap();
    assert_eq!(
        j,
        serde_json::json!({"due_on": "2026-02-14", "status": {"status": "done", "on": "2026-02-16", "mode": "phone", "by": "A. Diallo"}})
    );
    assert_eq!(serde_json::from_value::<Visit>(j).unwrap(), v);
    let a: Answers = serde_json::from_value(serde_json::json!({
        "economic_income": {"kind": "choice", "option": "yes"},
        "economic_satisfaction": {"kind": "number", "value": 7},
        "economic_debt": {"kind": "no_answer"}
    }))
    .unwrap();
    assert_eq!(a["economic_satisfaction"], number(7.0));
    let s = score(&default_config().unwrap().indicators, &example_a()).unwrap();
    let back: Scores = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(
        back, s,
        "scores are stored with the assessment and read back"
    );
}

proptest::proptest! {
    #[test]
    fn every_score_stays_within_zero_and_one(picks in proptest::collection::vec(0usize..8, 15)) {
        let set = default_config().unwrap().indicators;
        let mut a = Answers::new();
        for (ind, pick) in set.indicators.iter().zip(&picks) {
            let answer = match &ind.scale {
                Scale::Options { options } if *pick < options.len() => choice(&options[*pick].id),
                Scale::Numeric { min, max, .. } if *pick < 7 => number(min + (max - min) * (*pick as f64) / 6.0),
                _ => continue,
            };
            a.insert(ind.id.clone(), answer);
        }
        let s = score(&set, &a).unwrap();
        let dims: Vec<f64> = Dimension::ALL.iter().filter_map(|d| s.get(*d).score).collect();
        for x in &dims {
            proptest::prop_assert!((0.0..=1.0).contains(x));
        }
        match s.composite {
            None => proptest::prop_assert!(dims.is_empty()),
            Some(c) => {
                // A weighted mean lies between its smallest and largest part.
                let lo = dims.iter().copied().fold(1.0, f64::min);
                let hi = dims.iter().copied().fold(0.0, f64::max);
                proptest::prop_assert!(c >= lo - 1e-9 && c <= hi + 1e-9);
            }
        }
        proptest::prop_assert!((0.0..=1.0).contains(&s.composite_coverage));
    }

    #[test]
    fn a_schedule_is_strictly_ascending_and_keeps_every_offset(
        offsets in proptest::collection::vec(0u32..=MAX_OFFSET_DAYS, 1..30)
    ) {
        let arrival = d("2026-01-15");
        let dates = schedule(arrival, &offsets).unwrap();
        proptest::prop_assert!(dates.windows(2).all(|w| w[0] < w[1]));
        for o in &offsets {
            let date = arrival + Days::new(u64::from(*o));
            proptest::prop_assert!(dates.contains(&date));
        }
        proptest::prop_assert!(dates.len() <= offsets.len());
    }
}
