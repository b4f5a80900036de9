//! Funding over HTTP (issue 11): a fund, its allocations; a shelter placement and a
//! return's travel funded, part spent, the return cancelled and the rest released; every
//! refusal naming its rule with nothing written; concurrent commitments that can never
//! overdraw the fund; who sees which fund and which commitments.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_tests::{TestApp, contains, get_json as get, in_days, send_json as send, spawn_app};
use reqwest::Client;
use serde_json::{Value, json};

struct Setup {
    app: TestApp,
    ngo: i64,
    other: i64,
    adv: Client,
    manager: Client,
}

async fn setup() -> Setup {
    let app = spawn_app().await;
    let w = app.world().await;
    let other = app.org("Elsewhere", "victim_advocacy", "FR").await;
    app.user(w.ngo, "money@ngo.test", "fund_manager").await;
    app.user(w.ngo, "audit@ngo.test", "auditor").await;
    app.user(other, "adv@elsewhere.test", "advocate").await;
    let adv = app.api_login("advocate@ngo.test").await;
    let manager = app.api_login("money@ngo.test").await;
    Setup {
        app,
        ngo: w.ngo,
        other,
        adv,
        manager,
    }
}

impl Setup {
    fn url(&self, p: &str) -> String {
        self.app.url(&format!("/api/v1{p}"))
    }
    async fn fund(&self, body: Value) -> String {
        let (st, v) = send(&self.manager, "POST", self.url("/funds"), body).await;
        assert_eq!(st, 201, "{v}");
        v["id"].as_str().unwrap().to_owned()
    }
    async fn allocate(&self, fund: &str, minor: i64) {
        let (st, v) = send(
            &self.manager,
            "POST",
            self.url(&format!("/funds/{fund}/allocations")),
            json!({"amount_minor": minor, "currency": "EUR", "origin": "Budget line 2026-17"}),
        )
        .await;
        assert_eq!(st, 201, "{v}");
    }
    async fn balances(&self, fund: &str) -> Value {
        let (st, v) = get(&self.manager, self.url(&format!("/funds/{fund}"))).await;
        assert_eq!(st, 200, "{v}");
        v["balances"].clone()
    }
    async fn entries(&self, fund: &str) -> i64 {
        let (st, v) = get(&self.manager, self.url(&format!("/funds/{fund}/entries"))).await;
        assert_eq!(st, 200, "{v}");
        v["total"].as_i64().unwrap()
    }
    /// A case identified on reasonable grounds (the beneficiary the funds ask for).
    async fn victim(&self, c: &Client, name: &str) -> String {
        let reference = self.app.create_case(c, name).await;
        let (st, v) = send(
            c,
            "POST",
            self.url(&format!("/cases/{reference}/determinations/trafficking")),
            json!({"status": "presumed", "deciding_body": "police", "decided_on": in_days(0).to_string(), "basis": "interview"}),
        )
        .await;
        assert_eq!(st, 201, "{v}");
        reference
    }
}

fn rules_of(v: &Value) -> Vec<String> {
    v["message"]
        .as_str()
        .unwrap_or_default()
        .split('[')
        .skip(1)
        .filter_map(|p| p.split_once(']').map(|(r, _)| r.to_owned()))
        .collect()
}

fn state_fund() -> Value {
    json!({"name": "Fonds d'aide aux victimes 2026", "source": "state_budget", "currency": "EUR",
        "valid_from": in_days(-30).to_string(), "valid_until": in_days(365).to_string(),
        "approval_threshold_minor": 100_000, "low_balance_minor": 50_000,
        "categories": ["shelter", "travel", "escort", "documents", "legal"],
        "beneficiaries": ["victim_reasonable_grounds"], "case_cap_minor": 500_000})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_placement_and_a_return_funded_spent_and_released_when_the_return_is_cancelled() {
    let s = setup().await;
    let fund = s.fund(state_fund()).await;
    s.allocate(&fund, 1_000_000).await;
    let b = s.balances(&fund).await;
    assert_eq!(
        (b["allocated"].as_i64(), b["available"].as_i64()),
        (Some(1_000_000), Some(1_000_000))
    );
    let reference = s.victim(&s.adv, "Funded Person").await;
    let case = |p: &str| s.url(&format!("/cases/{reference}{p}"));

    // A shelter placement, funded above the threshold: pending until the manager approves.
    let (st, shelter_org) = get(&s.adv, s.url("/organisations")).await;
    assert_eq!(st, 200);
    let shelter = shelter_org["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "shelter")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (st, p) = send(
        &s.adv,
        "POST",
        case("/placements"),
        json!({"shelter_org_id": shelter,
        "location": "Foyer, room 2", "from_on": in_days(0).to_string()}),
    )
    .await;
    assert_eq!(st, 201, "{p}");
    // The funds this case could use for shelter: ours, with what it has left.
    let (st, offers) = get(&s.adv, case("/funding/offers?category=shelter")).await;
    assert_eq!(st, 200, "{offers}");
    assert_eq!(offers["items"][0]["eligible"], true, "{offers}");
    assert_eq!(offers["items"][0]["left_minor"], 500_000, "the case cap");
    let (st, offers) = get(&s.adv, case("/funding/offers?category=medical")).await;
    assert_eq!(st, 200);
    assert_eq!(offers["items"][0]["eligible"], false);
    assert_eq!(offers["items"][0]["refusals"][0]["rule"], "category");
    let (st, c) = send(&s.adv, "POST", s.url(&format!("/funds/{fund}/commitments")),
        json!({"reference": reference, "category": "shelter", "purpose": "placement", "record_id": p["id"],
            "amount_minor": 120_000, "currency": "EUR"})).await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["status"], "pending_approval");
    let placement_c = c["id"].as_str().unwrap().to_owned();
    let b = s.balances(&fund).await;
    assert_eq!(
        (b["pending"].as_i64(), b["available"].as_i64()),
        (Some(120_000), Some(880_000)),
        "reserved at once"
    );
    // The advocate cannot approve; the fund manager can.
    let approve = format!("/funds/{fund}/commitments/{placement_c}/approve");
    let (st, _) = send(&s.adv, "POST", s.url(&approve), json!({})).await;
    assert_eq!(st, 403);
    let (st, c) = send(&s.manager, "POST", s.url(&approve), json!({})).await;
    assert_eq!((st, c["status"].as_str()), (200, Some("approved")), "{c}");
    let (st, c) = send(
        &s.manager,
        "POST",
        s.url(&format!(
            "/funds/{fund}/commitments/{placement_c}/spendings"
        )),
        json!({"amount_minor": 50_000, "currency": "EUR", "invoice": "Foyer invoice 2026-117"}),
    )
    .await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(
        (c["spent_minor"].as_i64(), c["unspent_minor"].as_i64()),
        (Some(50_000), Some(70_000))
    );

    // A return's travel, then spend part and cancel the return: the rest is released.
    let (st, k) = send(&s.adv, "POST", case("/consents"), json!({"purpose": "return_assistance", "given_by": "person", "language": "en", "form_version": "v1"})).await;
    assert_eq!(st, 201, "{k}");
    let (st, r) = send(
        &s.adv,
        "POST",
        case("/return"),
        json!({"requested_by": "person", "consent_id": k["id"],
        "explained_by": "Ms Obi", "destination_country": "NG"}),
    )
    .await;
    assert_eq!(st, 201, "{r}");
    let (st, t) = send(&s.adv, "POST", s.url(&format!("/funds/{fund}/commitments")),
        json!({"reference": reference, "category": "travel", "purpose": "return", "record_id": r["id"],
            "amount_minor": 45_000, "currency": "EUR"})).await;
    assert_eq!((st, t["status"].as_str()), (201, Some("approved")), "{t}");
    let travel_c = t["id"].as_str().unwrap().to_owned();
    let (st, _) = send(
        &s.manager,
        "POST",
        s.url(&format!("/funds/{fund}/commitments/{travel_c}/spendings")),
        json!({"amount_minor": 10_000, "currency": "EUR", "invoice": "Booking fee"}),
    )
    .await;
    assert_eq!(st, 200);
    let (_, case_money) = get(&s.adv, case("/funding")).await;
    assert_eq!(
        case_money["totals"][0]["committed_minor"], 165_000,
        "{case_money}"
    );
    assert_eq!(case_money["totals"][0]["spent_minor"], 60_000);
    let (_, rv) = get(&s.adv, case("/return")).await;
    let (st, v) = send(
        &s.adv,
        "POST",
        case("/return/move"),
        json!({"to": "cancelled", "version": rv["version"], "reason": "the person chose to stay"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let (st, t) = get(
        &s.manager,
        s.url(&format!("/funds/{fund}/commitments/{travel_c}")),
    )
    .await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(
        (t["released_minor"].as_i64(), t["unspent_minor"].as_i64()),
        (Some(35_000), Some(0)),
        "{t}"
    );
    let b = s.balances(&fund).await;
    assert_eq!(b["spent"], 60_000);
    assert_eq!(b["committed_unspent"], 70_000);
    assert_eq!(b["available"], 1_000_000 - 60_000 - 70_000);

    // The report adds it up, per month and per category, naming no one.
    let (st, rep) = get(&s.manager, s.url(&format!("/funds/{fund}/report"))).await;
    assert_eq!(st, 200, "{rep}");
    assert_eq!(rep["cases_served"], 1);
    assert_eq!(rep["total_allocated_minor"], 1_000_000);
    assert_eq!(rep["total_spent_minor"], 60_000);
    assert_eq!(
        rep["months"].as_array().unwrap().last().unwrap()["available_end_minor"],
        870_000
    );
    let shelter_row = rep["by_category"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category"] == "shelter")
        .unwrap();
    assert_eq!(
        (
            shelter_row["committed_minor"].as_i64(),
            shelter_row["spent_minor"].as_i64()
        ),
        (Some(120_000), Some(50_000))
    );
    assert!(
        !rep.to_string().contains(&reference),
        "no reference in the report"
    );
    let r = s
        .manager
        .get(s.url(&format!("/funds/{fund}/report.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    assert!(
        csv.contains("category,committed,spent") && csv.contains("shelter,1200.00,500.00"),
        "{csv}"
    );
    // Invoices and origins are encrypted at rest.
    let bytes = s.app.raw_database_bytes().await;
    assert!(
        !contains(&bytes, "Foyer invoice 2026-117") && !contains(&bytes, "Budget line 2026-17")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_names_its_rule_and_writes_nothing() {
    let s = setup().await;
    let fund = s.fund(state_fund()).await;
    s.allocate(&fund, 100_000).await;
    let reference = s.victim(&s.adv, "Refused Requests").await;
    let commit = |body: Value| {
        send(
            &s.adv,
            "POST",
            s.url(&format!("/funds/{fund}/commitments")),
            body,
        )
    };
    let base = json!({"reference": reference, "category": "legal", "purpose": "other",
        "description": "lawyer's fees", "amount_minor": 20_000, "currency": "EUR"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let before = s.entries(&fund).await;
    for (body, rule) in [
        (with("category", json!("medical")), "category"),
        (with("currency", json!("USD")), "currency"),
        (with("amount_minor", json!(-500)), "non_positive"),
        (with("amount_minor", json!(0)), "non_positive"),
        (with("amount_minor", json!(150_000)), "balance"),
    ] {
        let (st, v) = commit(body.clone()).await;
        assert_eq!(st, 422, "{body}: {v}");
        assert!(rules_of(&v).contains(&rule.to_owned()), "{rule}: {v}");
    }
    // Not a number at all: the body cannot be read.
    let (st, v) = commit(with("amount_minor", json!("twenty"))).await;
    assert_eq!(st, 400, "{v}");
    // Not an identified victim.
    let plain = s.app.create_case(&s.adv, "Not Yet Identified").await;
    let (st, v) = commit(with("reference", json!(plain))).await;
    assert_eq!(st, 422);
    assert!(rules_of(&v).contains(&"beneficiary".to_owned()), "{v}");
    // An expired fund.
    let mut old = state_fund();
    old["name"] = json!("Fonds 2025");
    old["valid_from"] = json!("2025-01-01");
    old["valid_until"] = json!("2025-12-31");
    let expired = s.fund(old).await;
    s.allocate(&expired, 100_000).await;
    let (st, v) = send(
        &s.adv,
        "POST",
        s.url(&format!("/funds/{expired}/commitments")),
        base.clone(),
    )
    .await;
    assert_eq!(st, 422);
    assert!(rules_of(&v).contains(&"validity".to_owned()), "{v}");
    assert_eq!(s.entries(&fund).await, before, "nothing written");
    // An overspend: spending more than the commitment has left.
    let (st, c) = commit(base.clone()).await;
    assert_eq!(st, 201, "{c}");
    let cid = c["id"].as_str().unwrap();
    let (st, v) = send(
        &s.manager,
        "POST",
        s.url(&format!("/funds/{fund}/commitments/{cid}/spendings")),
        json!({"amount_minor": 20_001, "currency": "EUR", "invoice": "fees"}),
    )
    .await;
    assert_eq!(st, 422);
    assert!(rules_of(&v).contains(&"overspend".to_owned()), "{v}");
    let (st, v) = send(
        &s.manager,
        "POST",
        s.url(&format!("/funds/{fund}/commitments/{cid}/spendings")),
        json!({"amount_minor": 100, "currency": "GBP", "invoice": "fees"}),
    )
    .await;
    assert_eq!(st, 422);
    assert!(rules_of(&v).contains(&"currency".to_owned()), "{v}");
    assert_eq!(s.entries(&fund).await, before + 1, "only the commitment");
    let b = s.balances(&fund).await;
    assert_eq!(
        (b["spent"].as_i64(), b["available"].as_i64()),
        (Some(0), Some(80_000))
    );
    // A bad fund: unknown source, wrong currency code.
    let mut bad = state_fund();
    bad["source"] = json!("lottery");
    let (st, v) = send(&s.manager, "POST", s.url("/funds"), bad).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("source")), "{v}");
    let mut bad = state_fund();
    bad["currency"] = json!("EURO");
    let (st, v) = send(&s.manager, "POST", s.url("/funds"), bad).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("currency")), "{v}");
    // Only fund managers create funds.
    let (st, _) = send(&s.adv, "POST", s.url("/funds"), state_fund()).await;
    assert_eq!(st, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commitments_never_overdraw_the_fund() {
    let s = setup().await;
    let fund = s
        .fund(
            json!({"name": "Room for ten", "source": "business_contribution", "currency": "EUR",
        "categories": ["other"]}),
        )
        .await;
    let (st, v) = send(
        &s.manager,
        "POST",
        s.url(&format!("/funds/{fund}/allocations")),
        json!({"amount_minor": 1_000, "currency": "EUR", "origin": "Société Exemple SA"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let reference = s.app.create_case(&s.adv, "Many Requests").await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let c = s.adv.clone();
        let url = s.url(&format!("/funds/{fund}/commitments"));
        let reference = reference.clone();
        tasks.push(tokio::spawn(async move {
            send(
                &c,
                "POST",
                url,
                json!({"reference": reference, "category": "other", "purpose": "other",
                "description": format!("request {i}"), "amount_minor": 100, "currency": "EUR"}),
            )
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let (st, v) = t.await.unwrap();
        match st {
            201 => ok += 1,
            422 => assert!(
                rules_of(&v)
                    .iter()
                    .any(|r| r == "balance" || r == "overdraw"),
                "{v}"
            ),
            other => panic!("{other}: {v}"),
        }
    }
    assert_eq!(ok, 10, "exactly the ten that fit");
    let b = s.balances(&fund).await;
    assert_eq!(
        (b["committed_unspent"].as_i64(), b["available"].as_i64()),
        (Some(1_000), Some(0))
    );
    assert_eq!(
        s.entries(&fund).await,
        11,
        "one allocation and ten commitments"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_organisations_see_a_fund_only_once_opened_and_only_their_own_commitments() {
    let s = setup().await;
    let fund = s.fund(state_fund()).await;
    s.allocate(&fund, 1_000_000).await;
    let ours = s.victim(&s.adv, "Our Person").await;
    let (st, v) = send(&s.adv, "POST", s.url(&format!("/funds/{fund}/commitments")),
        json!({"reference": ours, "category": "legal", "purpose": "other", "description": "lawyer", "amount_minor": 10_000, "currency": "EUR"})).await;
    assert_eq!(st, 201, "{v}");
    let theirs_client = s.app.api_login("adv@elsewhere.test").await;
    // Not opened: the fund does not exist for them.
    for p in [
        format!("/funds/{fund}"),
        format!("/funds/{fund}/commitments"),
    ] {
        let (st, _) = get(&theirs_client, s.url(&p)).await;
        assert_eq!(st, 404, "{p}");
    }
    let (st, v) = get(&theirs_client, s.url("/funds")).await;
    assert_eq!((st, v["total"].as_i64()), (200, Some(0)), "{v}");
    // Opened to them: they see the fund and ask money for their own case...
    let (st, v) = send(
        &s.manager,
        "POST",
        s.url(&format!("/funds/{fund}/openings")),
        json!({"org_id": s.other}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let theirs = s.victim(&theirs_client, "Their Person").await;
    let (st, v) = send(&theirs_client, "POST", s.url(&format!("/funds/{fund}/commitments")),
        json!({"reference": theirs, "category": "legal", "purpose": "other", "description": "lawyer", "amount_minor": 5_000, "currency": "EUR"})).await;
    assert_eq!(st, 201, "{v}");
    // ...and see only that one; the holder sees both.
    let (st, v) = get(&theirs_client, s.url(&format!("/funds/{fund}/commitments"))).await;
    assert_eq!(st, 200);
    let refs: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, vec![theirs.as_str()]);
    let (_, v) = get(&s.manager, s.url(&format!("/funds/{fund}/commitments"))).await;
    assert_eq!(v["total"], 2);
    // They cannot manage it, see its entries, or ask money for our case.
    let (st, _) = get(&theirs_client, s.url(&format!("/funds/{fund}/entries"))).await;
    assert_eq!(st, 403);
    let (st, _) = send(
        &theirs_client,
        "POST",
        s.url(&format!("/funds/{fund}/allocations")),
        json!({"amount_minor": 1, "currency": "EUR", "origin": "x"}),
    )
    .await;
    assert_eq!(st, 403);
    let (st, _) = send(&theirs_client, "POST", s.url(&format!("/funds/{fund}/commitments")),
        json!({"reference": ours, "category": "legal", "purpose": "other", "description": "x", "amount_minor": 1, "currency": "EUR"})).await;
    assert_eq!(st, 404, "our case does not exist for them");
    let (st, _) = get(&theirs_client, s.url(&format!("/cases/{ours}/funding"))).await;
    assert_eq!(st, 404);
    // The holder's auditor reads everything and changes nothing.
    let auditor = s.app.api_login("audit@ngo.test").await;
    let (st, v) = get(&auditor, s.url(&format!("/funds/{fund}/entries"))).await;
    assert_eq!((st, v["total"].as_i64()), (200, Some(3)), "{v}");
    let (st, _) = send(
        &auditor,
        "POST",
        s.url(&format!("/funds/{fund}/allocations")),
        json!({"amount_minor": 1, "currency": "EUR", "origin": "x"}),
    )
    .await;
    assert_eq!(st, 403);
    // Reading a case's commitments is in the case's audit trail.
    let (_, trail) = get(&s.adv, s.url(&format!("/cases/{ours}/audit"))).await;
    assert!(
        trail["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["section"] == "funding"),
        "{trail}"
    );
    let _ = s.ngo;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_shows_its_estimated_costs_beside_what_is_committed_and_spent() {
    let s = setup().await;
    let fund = s.fund(state_fund()).await;
    s.allocate(&fund, 1_000_000).await;
    let reference = s.victim(&s.adv, "Costed Person").await;
    let case = |p: &str| s.url(&format!("/cases/{reference}{p}"));
    let (st, k) = send(&s.adv, "POST", case("/consents"), json!({"purpose": "return_assistance", "given_by": "person", "language": "en", "form_version": "v1"})).await;
    assert_eq!(st, 201, "{k}");
    let (st, r) = send(
        &s.adv,
        "POST",
        case("/return"),
        json!({"requested_by": "person", "consent_id": k["id"],
        "explained_by": "Ms Obi", "destination_country": "NG"}),
    )
    .await;
    assert_eq!(st, 201, "{r}");
    let return_id = r["id"].as_str().unwrap().to_owned();

    // Estimates: as typed (a French decimal comma) or in minor units; a new one of the same
    // category replaces the old, which stays in the history.
    for (body, want) in [
        (
            json!({"category": "travel", "amount": "450,00", "currency": "EUR", "note": "quote from the airline"}),
            45_000,
        ),
        (
            json!({"category": "escort", "amount_minor": 20_000, "currency": "EUR"}),
            20_000,
        ),
        (
            json!({"category": "travel", "amount": "500", "currency": "EUR"}),
            50_000,
        ),
    ] {
        let (st, v) = send(&s.adv, "POST", case("/return/estimates"), body).await;
        assert_eq!((st, v["amount_minor"].as_i64()), (201, Some(want)), "{v}");
        let (st, one) = get(
            &s.adv,
            case(&format!("/return/estimates/{}", v["id"].as_str().unwrap())),
        )
        .await;
        assert_eq!(
            (st, one["amount_minor"].as_i64()),
            (200, Some(want)),
            "{one}"
        );
    }
    // Bad input: a clear 4xx naming the field, and nothing written.
    for (body, field) in [
        (
            json!({"category": "shelter", "amount": "10", "currency": "EUR"}),
            "category",
        ),
        (
            json!({"category": "travel", "amount": "abc", "currency": "EUR"}),
            "amount",
        ),
        (
            json!({"category": "travel", "amount": "-5", "currency": "EUR"}),
            "amount",
        ),
        (
            json!({"category": "travel", "amount_minor": 0, "currency": "EUR"}),
            "amount_minor",
        ),
        (
            json!({"category": "travel", "amount": "10", "currency": "EURO"}),
            "currency",
        ),
    ] {
        let (st, v) = send(&s.adv, "POST", case("/return/estimates"), body.clone()).await;
        assert!((400..500).contains(&st), "{body} -> {st} {v}");
        assert_eq!(v["field"], field, "{body} -> {v}");
    }
    // Commit part of the travel, spend some of it.
    let (st, t) = send(&s.adv, "POST", s.url(&format!("/funds/{fund}/commitments")),
        json!({"reference": reference, "category": "travel", "purpose": "return", "record_id": return_id,
            "amount_minor": 45_000, "currency": "EUR"})).await;
    assert_eq!(st, 201, "{t}");
    let travel_c = t["id"].as_str().unwrap().to_owned();
    let (st, _) = send(
        &s.manager,
        "POST",
        s.url(&format!("/funds/{fund}/commitments/{travel_c}/spendings")),
        json!({"amount_minor": 10_000, "currency": "EUR", "invoice": "Booking fee"}),
    )
    .await;
    assert_eq!(st, 200);
    let (st, costs) = get(&s.adv, case("/return/costs")).await;
    assert_eq!(st, 200, "{costs}");
    assert_eq!(costs["estimates"].as_array().unwrap().len(), 3, "{costs}");
    let line = |c: &Value, cat: &str| {
        c["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["category"] == cat)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let travel = line(&costs, "travel");
    assert_eq!(
        (
            travel["estimated_minor"].as_i64(),
            travel["committed_minor"].as_i64(),
            travel["spent_minor"].as_i64()
        ),
        (Some(50_000), Some(45_000), Some(10_000)),
        "{costs}"
    );
    let escort = line(&costs, "escort");
    assert_eq!(
        (
            escort["estimated_minor"].as_i64(),
            escort["committed_minor"].as_i64()
        ),
        (Some(20_000), Some(0))
    );
    // The return page shows the card, in the reader's words, with links to fund each
    // category of this return.
    let html = s.app.html_login("advocate@ngo.test").await;
    let page = html
        .get(s.app.url(&format!("/cases/{reference}/return")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"costs\"") && page.contains("500.00 EUR") && page.contains("450.00 EUR"),
        "{page}"
    );
    assert!(
        page.contains(&format!("purpose=return&amp;record={return_id}")),
        "fund links for this return"
    );
    // A page form keeps what was typed on a bad amount.
    let csrf = s.app.csrf(&html).await;
    let r = html
        .post(s.app.url(&format!("/cases/{reference}/return/estimates")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("category", "documents"),
            ("amount", "douze"),
            ("currency", "EUR"),
            ("note", "passport fee"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("douze") && text.contains("passport fee"),
        "the form keeps what was typed"
    );
    // Another organisation does not know the case.
    let theirs = s.app.api_login("adv@elsewhere.test").await;
    let (st, _) = get(&theirs, case("/return/costs")).await;
    assert_eq!(st, 404);
    // Cancelled: the commitment's rest is released, and the return is no longer estimated.
    let (_, rv) = get(&s.adv, case("/return")).await;
    let (st, v) = send(
        &s.adv,
        "POST",
        case("/return/move"),
        json!({"to": "cancelled", "version": rv["version"], "reason": "the person chose to stay"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let (_, costs) = get(&s.adv, case("/return/costs")).await;
    let travel = line(&costs, "travel");
    assert_eq!(
        (
            travel["committed_minor"].as_i64(),
            travel["spent_minor"].as_i64()
        ),
        (Some(10_000), Some(10_000)),
        "only what was spent stays: {costs}"
    );
    assert_eq!(costs["can_estimate"], false);
    let (st, _) = send(
        &s.adv,
        "POST",
        case("/return/estimates"),
        json!({"category": "travel", "amount": "1", "currency": "EUR"}),
    )
    .await;
    assert_eq!(st, 409);
    // Notes are encrypted at rest.
    assert!(!contains(
        &s.app.raw_database_bytes().await,
        "quote from the airline"
    ));
}
