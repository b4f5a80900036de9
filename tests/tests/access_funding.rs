//! The funding access matrix (issue 11, point 4): every role × (the fund's holder, an
//! organisation the fund was opened to, any other organisation) × every fund endpoint, on
//! the JSON API and the HTML pages. The expectations are written out here from the issue,
//! independently of the core's rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_tests::{TestApp, get_json as get, in_days, send_json as send, spawn_app};
use reqwest::Client;
use serde_json::{Value, json};

const ROLES: &[&str] = &[
    "advocate",
    "shelter_coordinator",
    "return_officer",
    "follow_up_officer",
    "org_admin",
    "system_admin",
    "auditor",
    "fund_manager",
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Rel {
    Holder,
    Opened,
    Other,
}

const RELS: &[Rel] = &[Rel::Holder, Rel::Opened, Rel::Other];

fn rel_name(r: Rel) -> &'static str {
    match r {
        Rel::Holder => "holder",
        Rel::Opened => "opened",
        Rel::Other => "other",
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ep {
    View,
    Update,
    Open,
    Allocate,
    Entries,
    Entry,
    Commitments,
    Commitment,
    Commit,
    Spend,
    Approve,
    Report,
    ReportCsv,
}

const EPS: &[Ep] = &[
    Ep::View,
    Ep::Update,
    Ep::Open,
    Ep::Allocate,
    Ep::Entries,
    Ep::Entry,
    Ep::Commitments,
    Ep::Commitment,
    Ep::Commit,
    Ep::Spend,
    Ep::Approve,
    Ep::Report,
    Ep::ReportCsv,
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Allowed,
    Forbidden,
    Hidden,
}

fn caseworker(role: &str) -> bool {
    matches!(
        role,
        "advocate" | "shelter_coordinator" | "return_officer" | "follow_up_officer"
    )
}

/// May the role see the fund at all? Otherwise the fund does not exist for it (404).
fn sees(role: &str, rel: Rel) -> bool {
    match rel {
        // The holder's caseworkers ask money from it; its managers, auditors and
        // administrators read it. The system administrator sees no money of cases.
        Rel::Holder => caseworker(role) || matches!(role, "fund_manager" | "auditor" | "org_admin"),
        // An organisation it was opened to: its caseworkers, who ask money for their cases.
        Rel::Opened => caseworker(role),
        Rel::Other => false,
    }
}

/// The rules, restated from the issue.
fn expected(role: &str, rel: Rel, ep: Ep) -> Outcome {
    use Outcome::*;
    // Asking money for a case: the case rule comes first (the caller's own case, and a
    // role that arranges services), then the fund must exist for the caller.
    if ep == Ep::Commit {
        if !matches!(role, "advocate" | "shelter_coordinator") {
            return Forbidden;
        }
        return if sees(role, rel) { Allowed } else { Hidden };
    }
    if !sees(role, rel) {
        return Hidden;
    }
    let ok = match ep {
        // Name, rules, balances, and the commitments of the caller's own cases.
        Ep::View | Ep::Commitments | Ep::Commitment => true,
        Ep::Entries | Ep::Entry | Ep::Report | Ep::ReportCsv => {
            rel == Rel::Holder && matches!(role, "fund_manager" | "auditor" | "org_admin")
        }
        Ep::Update | Ep::Open | Ep::Allocate | Ep::Spend | Ep::Approve => {
            rel == Rel::Holder && role == "fund_manager"
        }
        Ep::Commit => unreachable!(),
    };
    if ok { Allowed } else { Forbidden }
}

struct Fixture {
    app: TestApp,
    fund: String,
    spare_org: i64,
    /// A commitment on the holder's case, with room to spend on.
    spendable: String,
    /// Commitments waiting for approval, one per possible approval.
    pending: std::sync::Mutex<Vec<String>>,
    /// The commitment the opened organisation asked for its own case.
    opened_commitment: String,
    /// The holder's allocation entry.
    allocation: String,
    /// A case of each organisation, by relation.
    cases: Vec<(Rel, String)>,
}

fn fund_body(version: Option<i64>) -> Value {
    let mut v = json!({"name": "Programme de retour (matrice)", "source": "intergovernmental_programme",
        "currency": "EUR", "valid_from": in_days(-30).to_string(), "valid_until": in_days(365).to_string(),
        "approval_threshold_minor": 500_000,
        "categories": ["legal", "shelter", "travel"]});
    if let Some(n) = version {
        v["version"] = json!(n);
    }
    v
}

async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let holder = app.org("Holder Agency", "return_agency", "FR").await;
    let opened = app.org("Opened NGO", "victim_advocacy", "FR").await;
    let other = app.org("Other NGO", "victim_advocacy", "FR").await;
    let spare = app.org("Spare NGO", "victim_advocacy", "FR").await;
    for (rel, org) in [
        (Rel::Holder, holder),
        (Rel::Opened, opened),
        (Rel::Other, other),
    ] {
        for role in ROLES {
            app.user(org, &format!("{role}@{}.test", rel_name(rel)), role)
                .await;
        }
    }
    let manager = app.api_login("fund_manager@holder.test").await;
    let (st, v) = send(&manager, "POST", app.url("/api/v1/funds"), fund_body(None)).await;
    assert_eq!(st, 201, "{v}");
    let fund = v["id"].as_str().unwrap().to_owned();
    let (st, v) = send(
        &manager,
        "POST",
        app.url(&format!("/api/v1/funds/{fund}/allocations")),
        json!({"amount_minor": 100_000_000, "currency": "EUR", "origin": "Accord 2026/7"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let allocation = v["id"].as_str().unwrap().to_owned();
    let (st, v) = send(
        &manager,
        "POST",
        app.url(&format!("/api/v1/funds/{fund}/openings")),
        json!({"org_id": opened}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let mut cases = Vec::new();
    for rel in RELS {
        let adv = app
            .api_login(&format!("advocate@{}.test", rel_name(*rel)))
            .await;
        let reference = app
            .create_case(&adv, &format!("Matrix Person {}", rel_name(*rel)))
            .await;
        cases.push((*rel, reference));
    }
    let commit = |c: &Client, reference: &str, amount: i64| {
        let c = c.clone();
        let url = app.url(&format!("/api/v1/funds/{fund}/commitments"));
        let body = json!({"reference": reference, "category": "legal", "purpose": "other",
            "description": "lawyer", "amount_minor": amount, "currency": "EUR"});
        async move {
            let (st, v) = send(&c, "POST", url, body).await;
            assert_eq!(st, 201, "{v}");
            v["id"].as_str().unwrap().to_owned()
        }
    };
    let holder_adv = app.api_login("advocate@holder.test").await;
    let opened_adv = app.api_login("advocate@opened.test").await;
    let spendable = commit(&holder_adv, &cases[0].1, 100_000).await;
    let mut pending = Vec::new();
    for _ in 0..2 {
        pending.push(commit(&holder_adv, &cases[0].1, 600_000).await);
    }
    let opened_commitment = commit(&opened_adv, &cases[1].1, 1_000).await;
    Fixture {
        app,
        fund,
        spare_org: spare,
        spendable,
        pending: std::sync::Mutex::new(pending),
        opened_commitment,
        allocation,
        cases,
    }
}

impl Fixture {
    fn api(&self, p: &str) -> String {
        self.app.url(&format!("/api/v1/funds/{}{p}", self.fund))
    }
    fn case_of(&self, rel: Rel) -> &str {
        &self.cases.iter().find(|(r, _)| *r == rel).unwrap().1
    }
    async fn version(&self) -> i64 {
        let m = self.app.api_login("fund_manager@holder.test").await;
        let (_, v) = get(&m, self.api("")).await;
        v["version"].as_i64().unwrap()
    }
    fn next_pending(&self) -> String {
        // A refused approval leaves the commitment pending for the next caller.
        self.pending.lock().unwrap().last().cloned().unwrap()
    }
}

async fn json_call(f: &Fixture, c: &Client, rel: Rel, ep: Ep) -> (u16, Value) {
    match ep {
        Ep::View => get(c, f.api("")).await,
        Ep::Update => {
            let v = f.version().await;
            send(c, "PUT", f.api(""), fund_body(Some(v))).await
        }
        Ep::Open => {
            send(c, "POST", f.api("/openings"), json!({"org_id": f.spare_org})).await
        }
        Ep::Allocate => {
            send(c, "POST", f.api("/allocations"),
                json!({"amount_minor": 1, "currency": "EUR", "origin": "top-up"})).await
        }
        Ep::Entries => get(c, f.api("/entries")).await,
        Ep::Entry => get(c, f.api(&format!("/entries/{}", f.allocation))).await,
        Ep::Commitments => get(c, f.api("/commitments")).await,
        Ep::Commitment => {
            // Each organisation asks for a commitment of its own case.
            let id = if rel == Rel::Opened {
                &f.opened_commitment
            } else {
                &f.spendable
            };
            get(c, f.api(&format!("/commitments/{id}"))).await
        }
        Ep::Commit => {
            send(c, "POST", f.api("/commitments"),
                json!({"reference": f.case_of(rel), "category": "legal", "purpose": "other",
                    "description": "interpreter for the lawyer", "amount_minor": 10, "currency": "EUR"})).await
        }
        Ep::Spend => {
            send(c, "POST", f.api(&format!("/commitments/{}/spendings", f.spendable)),
                json!({"amount_minor": 1, "currency": "EUR", "invoice": "INV-1"})).await
        }
        Ep::Approve => {
            let id = f.next_pending();
            let r = send(c, "POST", f.api(&format!("/commitments/{id}/approve")), json!({})).await;
            if r.0 == 200 {
                f.pending.lock().unwrap().pop();
            }
            r
        }
        Ep::Report => get(c, f.api("/report")).await,
        Ep::ReportCsv => {
            let r = c.get(f.api("/report.csv")).send().await.unwrap();
            let st = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            (st, Value::String(text))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_and_organisation_sees_and_does_with_a_fund_what_the_rules_say() {
    let f = fixture().await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for rel in RELS {
        for role in ROLES {
            let email = format!("{role}@{}.test", rel_name(*rel));
            let api = f.app.api_login(&email).await;
            for ep in EPS {
                let want = expected(role, *rel, *ep);
                let (st, body) = json_call(&f, &api, *rel, *ep).await;
                checked += 1;
                let got = match st {
                    200 | 201 => Some(Outcome::Allowed),
                    403 => Some(Outcome::Forbidden),
                    404 => Some(Outcome::Hidden),
                    _ => None,
                };
                if got != Some(want) {
                    failures.push(format!(
                        "JSON {role}/{rel:?}/{ep:?}: got {st} {body}, want {want:?}"
                    ));
                }
                if want != Outcome::Allowed && body.to_string().contains("Matrix Person") {
                    failures.push(format!("JSON {role}/{rel:?}/{ep:?}: a name leaked"));
                }
                // An opened organisation sees only its own cases' commitments.
                if *ep == Ep::Commitments && want == Outcome::Allowed {
                    let refs: Vec<String> = body["items"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|c| c["reference"].as_str().unwrap_or("").to_owned())
                                .collect()
                        })
                        .unwrap_or_default();
                    let own = f.case_of(*rel);
                    let foreign = refs.iter().any(|r| r != own);
                    if *rel == Rel::Opened && (foreign || refs.is_empty()) {
                        failures.push(format!(
                            "JSON {role}/{rel:?}: commitments listed {refs:?}, want only {own}"
                        ));
                    }
                    if *rel == Rel::Holder
                        && !refs.iter().any(|r| r == f.case_of(Rel::Opened))
                        && matches!(*role, "fund_manager" | "auditor" | "org_admin")
                    {
                        failures.push(format!(
                            "JSON {role}/{rel:?}: the holder's readers miss the opened organisation's commitment"
                        ));
                    }
                }
            }
            // The list of funds holds this one exactly when the caller may see it.
            let (_, list) = get(&api, f.app.url("/api/v1/funds")).await;
            let listed = list.to_string().contains(&f.fund);
            if listed != sees(role, *rel) {
                failures.push(format!("list {role}/{rel:?}: listed = {listed}"));
            }
            // The pages: the fund, its report, its donor report, an allocation form.
            let html = f.app.html_login(&email).await;
            let csrf = f.app.csrf(&html).await;
            for (what, ep, rb) in [
                (
                    "page",
                    Ep::View,
                    html.get(f.app.url(&format!("/funds/{}", f.fund))),
                ),
                (
                    "report page",
                    Ep::Report,
                    html.get(f.app.url(&format!("/funds/{}/report", f.fund))),
                ),
                (
                    "donor report",
                    Ep::Report,
                    html.get(f.app.url(&format!("/funds/{}/donor-report", f.fund))),
                ),
                (
                    "allocation form",
                    Ep::Allocate,
                    html.post(f.app.url(&format!("/funds/{}/allocations", f.fund)))
                        .form(&[
                            ("_csrf", csrf.as_str()),
                            ("amount", "0.01"),
                            ("origin", "top-up"),
                        ]),
                ),
            ] {
                let want = expected(role, *rel, ep);
                let st = rb.send().await.unwrap().status().as_u16();
                checked += 1;
                let got = match st {
                    200 | 303 => Some(Outcome::Allowed),
                    403 => Some(Outcome::Forbidden),
                    404 => Some(Outcome::Hidden),
                    _ => None,
                };
                if got != Some(want) {
                    failures.push(format!(
                        "HTML {role}/{rel:?} {what}: got {st}, want {want:?}"
                    ));
                }
            }
        }
    }
    assert!(checked >= 3 * 8 * (13 + 4), "{checked}");
    assert!(
        failures.is_empty(),
        "{} funding access failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
