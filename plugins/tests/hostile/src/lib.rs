//! A hostile jurisdiction plugin, for the host's tests. `recovery-period-days` misbehaves
//! according to the person's `nationality` field:
//!
//! - "loop": an infinite loop (out of fuel, or timeout);
//! - "oom": allocates without end (memory limit);
//! - "recurse": unbounded recursion (stack exhausted);
//! - "panic": panics (trap);
//! - "sleep": sleeps ten seconds (waiting is forbidden: trap);
//! - "print": writes 100 KiB to stdout (over the captured capacity: trap);
//! - "spin:N": N iterations of busy work, then answers 7 (a slow but bounded call);
//! - "log": logs 10 KiB (truncated by the host), then answers 7;
//! - anything else: answers 7.
//!
//! Other hooks: `questions` breaks the contract (an empty id), `protective-measures`
//! returns a huge list, `follow-up-schedule-days` is not ascending, `return-requirements`
//! is a domain error, `guard-transition` allows unless `to` is "panic".
//!
//! The optional hooks of API 0.2 misbehave too:
//! - `fund-rules`, by the ask's `category`: "other" loops without end, "legal" panics,
//!   "medical" refuses without a reason; anything else is allowed;
//! - `reintegration-indicators`, by the person's `nationality`: "huge" answers 2 MiB of
//!   text, "garbage" text that is not an indicator set, "loop" loops; anything else: none;
//! - `measure-deciders` names the same measure twice.

use passerelle_plugin_sdk::fund_rules::FundingAsk;
use passerelle_plugin_sdk::jurisdiction::{
    DecidingBody, DecisionRules, Guest, Level, Measure, PersonFacts, Question, QuestionSet,
    ReturnRequirement, Transition, Verdict, log,
};
use passerelle_plugin_sdk::measure_deciders::MeasureBodies;
use passerelle_plugin_sdk::{API_VERSION, en_fr};
use std::hint::black_box;

struct Hostile;

// Deliberately unbounded: the host must stop it (stack exhausted).
#[allow(unconditional_recursion)]
fn recurse(n: u64) -> u64 {
    let pad = black_box([n; 64]);
    black_box(recurse(black_box(n + 1))) + pad[(n % 64) as usize]
}

fn spin(n: u64) -> u64 {
    let mut acc = 0u64;
    for i in 0..n {
        acc = black_box(acc.wrapping_mul(31).wrapping_add(i));
    }
    acc
}

impl Guest for Hostile {
    fn api_version() -> String {
        API_VERSION.into()
    }

    fn questions() -> Result<Vec<Question>, String> {
        Ok(vec![Question {
            id: String::new(),
            set: QuestionSet::Trafficking,
            text: en_fr("?", "?"),
            indicator: vec![],
        }])
    }

    fn recovery_period_days(person: PersonFacts) -> Result<u32, String> {
        let cue = person.nationality.unwrap_or_default();
        match cue.as_str() {
            "loop" => loop {
                black_box(spin(1_000));
            },
            "oom" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(Vec::with_capacity(1 << 20));
                    black_box(&hoard);
                }
            }
            "recurse" => Ok(recurse(0) as u32),
            "panic" => panic!("the hostile plugin panics on purpose"),
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs(10));
                Ok(7)
            }
            "print" => {
                let line = "x".repeat(1023);
                for _ in 0..100 {
                    println!("{line}");
                }
                Ok(7)
            }
            "log" => {
                let line = "y".repeat(1000);
                for _ in 0..10 {
                    log(Level::Info, &line);
                }
                Ok(7)
            }
            other => {
                if let Some(n) = other.strip_prefix("spin:") {
                    let n: u64 = n.parse().map_err(|_| "bad spin count".to_owned())?;
                    black_box(spin(n));
                }
                Ok(7)
            }
        }
    }

    fn decision_rules() -> Result<DecisionRules, String> {
        Ok(DecisionRules {
            two_steps: false,
            bodies: vec![],
            reasonable_grounds_due_days: None,
        })
    }

    fn protective_measures() -> Result<Vec<Measure>, String> {
        let label = "z".repeat(400_000);
        Ok((0..4)
            .map(|i| Measure {
                id: format!("m{i}"),
                label: en_fr(&label, &label),
                replaces_presence: false,
            })
            .collect())
    }

    fn return_requirements(_person: PersonFacts) -> Result<Vec<ReturnRequirement>, String> {
        Err("this jurisdiction cannot say yet".into())
    }

    fn follow_up_schedule_days(_person: PersonFacts) -> Result<Vec<u32>, String> {
        Ok(vec![30, 10])
    }

    fn guard_transition(t: Transition) -> Result<Verdict, String> {
        if t.to == "panic" {
            panic!("the hostile guard panics on purpose");
        }
        Ok(Verdict::Allow)
    }
}

impl passerelle_plugin_sdk::fund_rules::Guest for Hostile {
    fn fund_rules(ask: FundingAsk) -> Result<Verdict, String> {
        match ask.category.as_str() {
            "other" => loop {
                black_box(spin(1_000));
            },
            "legal" => panic!("the hostile fund rules panic on purpose"),
            "medical" => Ok(Verdict::Refuse(vec![])),
            _ => Ok(Verdict::Allow),
        }
    }
}

impl passerelle_plugin_sdk::reintegration_indicators::Guest for Hostile {
    fn reintegration_indicators(person: PersonFacts) -> Result<Option<String>, String> {
        match person.nationality.as_deref() {
            Some("huge") => Ok(Some("#".repeat(2 << 20))),
            Some("garbage") => Ok(Some("[set]\nid = \"x\"\nnot = [valid".to_owned())),
            Some("loop") => loop {
                black_box(spin(1_000));
            },
            _ => Ok(None),
        }
    }
}

impl passerelle_plugin_sdk::measure_deciders::Guest for Hostile {
    fn measure_deciders() -> Result<Vec<MeasureBodies>, String> {
        let once = || MeasureBodies {
            measure_id: "m0".into(),
            bodies: vec![DecidingBody::Court],
        };
        Ok(vec![once(), once()])
    }
}

passerelle_plugin_sdk::jurisdiction::export_jurisdiction!(Hostile);
passerelle_plugin_sdk::fund_rules::export_fund_rules!(Hostile);
passerelle_plugin_sdk::reintegration_indicators::export_reintegration_indicators!(Hostile);
passerelle_plugin_sdk::measure_deciders::export_measure_deciders!(Hostile);
