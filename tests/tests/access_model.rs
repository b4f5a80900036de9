//! A state-machine property test of access (issue 15): random sequences of creating cases,
//! recording and withdrawing consents, sharing with other organisations and ending shares,
//! interleaved with reads by users of four organisations, all through the HTTP API, checked
//! after every step against a small model of who may see what: the owning organisation's
//! advocate sees its cases; a caseworker of another organisation sees a case only while
//! an active share to their organisation rests on a consent that is not withdrawn; anyone
//! else sees nothing (404). 0 forbidden reads over 10 000 steps; a write the model says
//! must fail (a share on a withdrawn consent, a second active share to the same
//! organisation on the same consent, ending an ended share) must fail, and nothing it refused may show later.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_tests::{TestApp, spawn_app};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::Client;
use serde_json::{Value, json};

/// The purposes a consent and a share name (a share uses its consent's purpose).
const PURPOSES: &[&str] = &["shelter", "return_assistance", "medical"];

#[derive(Debug, Clone)]
enum Op {
    Create,
    Consent {
        case: usize,
        purpose: usize,
    },
    /// Share with organisation `org` (0: the shelter, 1: the return agency) on consent
    /// `consent` of the case.
    Share {
        case: usize,
        org: usize,
        consent: usize,
    },
    EndShare {
        case: usize,
        share: usize,
    },
    Withdraw {
        case: usize,
        consent: usize,
    },
    /// A read by user `user` (0: the owner's advocate, 1: the shelter's coordinator, 2: the
    /// agency's return officer, 3: another organisation's advocate).
    Read {
        user: usize,
        case: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Create),
        2 => (any::<usize>(), 0..PURPOSES.len()).prop_map(|(case, purpose)| Op::Consent { case, purpose }),
        3 => (any::<usize>(), 0..2usize, any::<usize>()).prop_map(|(case, org, consent)| Op::Share { case, org, consent }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(case, share)| Op::EndShare { case, share }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(case, consent)| Op::Withdraw { case, consent }),
        8 => (0..4usize, any::<usize>()).prop_map(|(user, case)| Op::Read { user, case }),
    ]
}

#[derive(Debug, Clone)]
struct Consent {
    id: String,
    purpose: usize,
    withdrawn: bool,
}

#[derive(Debug, Clone)]
struct Share {
    id: String,
    org: usize,
    consent: usize,
    ended: bool,
}

#[derive(Debug, Clone)]
struct Case {
    reference: String,
    name: String,
    consents: Vec<Consent>,
    shares: Vec<Share>,
}

impl Case {
    /// May user `user` read this case, by the model?
    fn visible_to(&self, user: usize) -> bool {
        match user {
            0 => true,
            1 | 2 => self
                .shares
                .iter()
                .any(|s| s.org == user - 1 && !s.ended && !self.consents[s.consent].withdrawn),
            _ => false,
        }
    }
}

struct World {
    app: TestApp,
    /// The owner's advocate, the shelter's coordinator, the agency's officer, an outsider.
    users: Vec<Client>,
    /// The shelter's and the agency's organisation ids.
    orgs: [i64; 2],
}

async fn world() -> World {
    let app = spawn_app().await;
    let owner = app.org("Model Owner", "victim_advocacy", "FR").await;
    let shelter = app.org("Model Shelter", "shelter", "FR").await;
    let agency = app.org("Model Agency", "return_agency", "FR").await;
    let outsider = app.org("Model Outsider", "victim_advocacy", "FR").await;
    let mut users = Vec::new();
    for (org, email, role) in [
        (owner, "a@owner.test", "advocate"),
        (shelter, "c@shelter.test", "shelter_coordinator"),
        (agency, "r@agency.test", "return_officer"),
        (outsider, "x@outsider.test", "advocate"),
    ] {
        app.user(org, email, role).await;
        users.push(app.api_login(email).await);
    }
    World {
        app,
        users,
        orgs: [shelter, agency],
    }
}

fn fail(step: usize, what: String) -> TestCaseError {
    TestCaseError::fail(format!("step {step}: {what}"))
}

async fn send(c: &Client, url: String, body: Value) -> (u16, Value) {
    let r = c.post(url).json(&body).send().await.unwrap();
    let st = r.status().as_u16();
    (st, r.json().await.unwrap_or(Value::Null))
}

async fn run(w: &World, ops: &[Op], seq: usize) -> Result<usize, TestCaseError> {
    let adv = &w.users[0];
    let api = |p: String| w.app.url(&format!("/api/v1{p}"));
    let mut cases: Vec<Case> = Vec::new();
    let mut reads = 0;
    for (step, op) in ops.iter().enumerate() {
        match op.clone() {
            Op::Create => {
                let name = format!("Model Person {seq}-{step}");
                let reference = w.app.create_case(adv, &name).await;
                cases.push(Case {
                    reference,
                    name,
                    consents: vec![],
                    shares: vec![],
                });
            }
            Op::Consent { case, purpose } => {
                if cases.is_empty() {
                    continue;
                }
                let c = case % cases.len();
                let (st, v) = send(
                    adv,
                    api(format!("/cases/{}/consents", cases[c].reference)),
                    json!({"purpose": PURPOSES[purpose], "given_by": "person", "language": "en", "form_version": "v1"}),
                )
                .await;
                if st != 201 {
                    return Err(fail(step, format!("consent refused: {st} {v}")));
                }
                cases[c].consents.push(Consent {
                    id: v["id"].as_str().unwrap().to_owned(),
                    purpose,
                    withdrawn: false,
                });
            }
            Op::Share { case, org, consent } => {
                if cases.is_empty() || cases[case % cases.len()].consents.is_empty() {
                    continue;
                }
                let c = case % cases.len();
                let k = consent % cases[c].consents.len();
                let purpose = cases[c].consents[k].purpose;
                let should = !cases[c].consents[k].withdrawn
                    && !cases[c]
                        .shares
                        .iter()
                        .any(|s| s.org == org && s.consent == k && !s.ended);
                let (st, v) = send(
                    adv,
                    api(format!("/cases/{}/shares", cases[c].reference)),
                    json!({"org_id": w.orgs[org], "purpose": PURPOSES[purpose], "consent_id": cases[c].consents[k].id}),
                )
                .await;
                match (should, st) {
                    (true, 201) => cases[c].shares.push(Share {
                        id: v["id"].to_string().trim_matches('"').to_owned(),
                        org,
                        consent: k,
                        ended: false,
                    }),
                    (false, 409 | 422) => {}
                    _ => {
                        return Err(fail(
                            step,
                            format!(
                                "share (model says {should}) answered {st} {v}; the model's case: {:?}",
                                cases[c]
                            ),
                        ));
                    }
                }
            }
            Op::EndShare { case, share } => {
                if cases.is_empty() || cases[case % cases.len()].shares.is_empty() {
                    continue;
                }
                let c = case % cases.len();
                let s = share % cases[c].shares.len();
                let should = !cases[c].shares[s].ended;
                let (st, v) = send(
                    adv,
                    api(format!(
                        "/cases/{}/shares/{}/end",
                        cases[c].reference, cases[c].shares[s].id
                    )),
                    json!({}),
                )
                .await;
                match (should, st) {
                    (true, 200 | 204) => cases[c].shares[s].ended = true,
                    (false, 409) => {}
                    _ => {
                        return Err(fail(
                            step,
                            format!("end share (model says {should}) answered {st} {v}"),
                        ));
                    }
                }
            }
            Op::Withdraw { case, consent } => {
                if cases.is_empty() || cases[case % cases.len()].consents.is_empty() {
                    continue;
                }
                let c = case % cases.len();
                let k = consent % cases[c].consents.len();
                let should = !cases[c].consents[k].withdrawn;
                let (st, v) = send(
                    adv,
                    api(format!(
                        "/cases/{}/consents/{}/withdraw",
                        cases[c].reference, cases[c].consents[k].id
                    )),
                    json!({}),
                )
                .await;
                match (should, st) {
                    (true, 200 | 204) => {
                        cases[c].consents[k].withdrawn = true;
                        // The shares resting on it end with it.
                        for s in cases[c].shares.iter_mut().filter(|s| s.consent == k) {
                            s.ended = true;
                        }
                    }
                    (false, 409) => {}
                    _ => {
                        return Err(fail(
                            step,
                            format!("withdrawal (model says {should}) answered {st} {v}"),
                        ));
                    }
                }
            }
            Op::Read { user, case } => {
                if cases.is_empty() {
                    continue;
                }
                let c = &cases[case % cases.len()];
                reads += 1;
                let r = w.users[user]
                    .get(api(format!("/cases/{}", c.reference)))
                    .send()
                    .await
                    .unwrap();
                let st = r.status().as_u16();
                let v: Value = r.json().await.unwrap_or(Value::Null);
                let may = c.visible_to(user);
                if may {
                    if st != 200 || v["summary"]["reference"] != c.reference.as_str() {
                        return Err(fail(
                            step,
                            format!("user {user} may read {} but got {st} {v}", c.reference),
                        ));
                    }
                } else if st != 404 || v.to_string().contains(&c.name) {
                    return Err(fail(
                        step,
                        format!(
                            "FORBIDDEN READ: user {user} read {} ({st}): {v}",
                            c.reference
                        ),
                    ));
                }
            }
        }
    }
    Ok(reads)
}

#[test]
fn random_sequences_of_shares_consents_and_reads_never_show_a_case_to_whom_the_model_forbids() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let w = rt.block_on(world());
    // 50 sequences of 200 steps: 10 000 steps.
    let mut runner = TestRunner::new(Config {
        cases: 50,
        failure_persistence: None,
        ..Config::default()
    });
    let seq = std::sync::atomic::AtomicUsize::new(0);
    let reads = std::sync::atomic::AtomicUsize::new(0);
    let result = runner.run(&proptest::collection::vec(op(), 200), |ops| {
        let n = seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let r = rt.block_on(run(&w, &ops, n))?;
        reads.fetch_add(r, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!(
        "{} sequences, {} reads checked against the model",
        seq.load(std::sync::atomic::Ordering::Relaxed),
        reads.load(std::sync::atomic::Ordering::Relaxed)
    );
}
