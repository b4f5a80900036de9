//! Where people start and how they find people (issue 17): each role's home, the complete
//! "my deadlines", the return agency's flags, no link that answers 403, the referral inbox
//! before acceptance, search by reference and the duplicate warning. Through the HTML
//! pages, with the set-up through the JSON API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_tests::{
    TestApp, World, client, contains, get_json as get, hidden_csrf, in_days, send_json as send,
    spawn_app,
};
use reqwest::Client;
use serde_json::{Value, json};

const ADVOCATE: &str = "advocate@ngo.test";
const NAME: &str = "Comfort Homefield-Osagie";

async fn html(c: &Client, url: String) -> (u16, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn consent(app: &TestApp, c: &Client, reference: &str, purpose: &str, lang: &str) -> String {
    let (st, v) = send(
        c,
        "POST",
        app.url(&format!("/api/v1/cases/{reference}/consents")),
        json!({"purpose": purpose, "given_by": "person", "language": lang, "form_version": "v1"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

/// A return requested 45 days ago (stuck at "requested"), assessed, with a citizenship
/// request sent 38 days ago and due 8 days ago: overdue.
async fn overdue_return(app: &TestApp, adv: &Client, reference: &str, agency: Option<i64>) {
    let k = consent(app, adv, reference, "return_assistance", "Edo").await;
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}/return{p}"));
    let (st, v) = send(
        adv,
        "POST",
        url(""),
        json!({"requested_by": "person", "consent_id": k, "explained_by": "Ms Obi, in Edo",
               "destination_country": "NG", "agency_org_id": agency,
               "requested_on": in_days(-45).to_string()}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = send(
        adv,
        "POST",
        url("/assessment"),
        json!({"persecution": "low", "re_trafficking": "low", "findings": "family waiting"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = send(
        adv,
        "POST",
        url("/citizenship"),
        json!({"authority": "Embassy of Nigeria, Paris", "sent_on": in_days(-38).to_string(),
               "due_on": in_days(-8).to_string()}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
}

/// A trial session in 60 days that needs the person's testimony, and a departure planned
/// in 30: a hearing conflict.
async fn hearing_conflict(app: &TestApp, adv: &Client, reference: &str) {
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}{p}"));
    let (st, v) = send(
        adv,
        "POST",
        url("/proceedings"),
        json!({"court": "Tribunal judiciaire de Lyon", "jurisdiction": "Lyon", "case_number": "TJ-24/0917",
               "charges": ["trafficking"], "person_role": "victim_witness"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let pid = v["id"].as_str().unwrap().to_owned();
    let (st, v) = send(
        adv,
        "POST",
        url(&format!("/proceedings/{pid}/hearings")),
        json!({"kind": "trial_session", "held_on": in_days(60).to_string(), "testimony_required": true}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let r = adv
        .put(url("/departure"))
        .json(&json!({"departure_on": in_days(30).to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn close(app: &TestApp, adv: &Client, reference: &str) {
    let (_, case) = get(adv, app.url(&format!("/api/v1/cases/{reference}"))).await;
    let (st, v) = send(
        adv,
        "POST",
        app.url(&format!("/api/v1/cases/{reference}/close")),
        json!({"version": case["summary"]["version"], "reason": "lost_contact"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
}

/// A presumed-victim decision 40 days ago: the 30-day recovery period ran out 10 days ago.
async fn overdue_recovery_period(app: &TestApp, adv: &Client, reference: &str) {
    let (st, v) = send(
        adv,
        "POST",
        app.url(&format!(
            "/api/v1/cases/{reference}/determinations/trafficking"
        )),
        json!({"status": "presumed", "deciding_body": "police", "decided_on": in_days(-40).to_string(),
               "basis": "interview"}),
    )
    .await;
    assert!(st == 200 || st == 201, "{st} {v}");
}

/// The section of the page that starts at `id` (up to the next section).
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\"");
    let Some(start) = page.find(&marker) else {
        return "";
    };
    let rest = &page[start..];
    let end = rest.find("</section>").unwrap_or(rest.len());
    &rest[..end]
}

/// Every `/cases/…` link of a page.
fn case_links(page: &str) -> Vec<String> {
    page.split("href=\"")
        .skip(1)
        .filter_map(|p| p.split_once('"').map(|(h, _)| h.replace("&#x3D;", "=")))
        .filter(|h| h.starts_with("/cases/") && !h.contains('#'))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_system_administrator_signs_in_to_their_own_start_page() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.authority, "sysadmin@ngo.test", "system_admin")
        .await;
    let c = app.html_login("sysadmin@ngo.test").await;
    // The sign-in leads to "/", and "/" is their start: no 403, no loop through /cases.
    let (st, page) = html(&c, app.url("/")).await;
    assert_eq!(st, 200, "{page}");
    assert!(page.contains("id=\"admin-start\""), "{page}");
    assert!(page.contains("href=\"/admin/organisations\""), "{page}");
    assert!(page.contains("5 active organisations"), "{page}");
    // An error page's "back to the start page" comes back here.
    let (st, err) = html(&c, app.url("/cases")).await;
    assert_eq!(st, 403);
    assert!(err.contains("<a href=\"/\">"), "{err}");
    // The sign-in form, signed in already, also goes home.
    let r = c.get(app.url("/login")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_lands_on_a_home_that_renders_in_both_languages() {
    let app = spawn_app().await;
    let w = app.world().await;
    let roles = [
        "shelter_coordinator",
        "return_officer",
        "follow_up_officer",
        "org_admin",
        "system_admin",
        "auditor",
    ];
    for r in roles {
        app.user(w.ngo, &format!("{r}@ngo.test"), r).await;
    }
    let api = app.api_login(ADVOCATE).await;
    let reference = app.create_case(&api, NAME).await;
    overdue_return(&app, &api, &reference, None).await;
    let mut all = vec!["advocate".to_owned()];
    all.extend(roles.iter().map(|r| r.to_string()));
    for role in all {
        let c = client();
        let page = c.get(app.url("/login")).send().await.unwrap();
        let token = hidden_csrf(&page.text().await.unwrap());
        let r = c
            .post(app.url("/login"))
            .form(&[
                ("email", format!("{role}@ngo.test").as_str()),
                ("password", passerelle_tests::PASSWORD),
                ("_csrf", &token),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["location"], "/", "{role} lands on its home");
        for lang in ["en", "fr"] {
            for sort in [
                "",
                "?sort=reference",
                "?sort=name",
                "?sort=stage",
                "?sort=updated",
            ] {
                let r = c
                    .get(app.url(&format!("/{sort}")))
                    .header("Accept-Language", lang)
                    .send()
                    .await
                    .unwrap();
                let st = r.status().as_u16();
                let body = r.text().await.unwrap();
                assert_eq!(st, 200, "{role} {lang} /{sort}: {body}");
                assert!(body.contains(&format!("<html lang=\"{lang}\">")));
                // Only the roles that may see the person see the name.
                let sees = matches!(
                    role.as_str(),
                    "advocate" | "shelter_coordinator" | "return_officer" | "follow_up_officer"
                );
                assert_eq!(body.contains(NAME), sees, "{role} {lang}: name shown?");
            }
        }
        let (st, _) = html(&c, app.url("/?sort=bogus")).await;
        assert_eq!(st, if role == "system_admin" { 200 } else { 400 }, "{role}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_advocates_home_opens_on_the_overdue_confirmation_and_the_hearing_conflict() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "admin@ngo.test", "org_admin").await;
    let api = app.api_login(ADVOCATE).await;
    let returning = app.create_case(&api, NAME).await;
    overdue_return(&app, &api, &returning, None).await;
    let witness = app.create_case(&api, "Witness Homefield").await;
    hearing_conflict(&app, &api, &witness).await;
    let quiet = app.create_case(&api, "Quiet Homefield").await;

    let c = app.html_login(ADVOCATE).await;
    let (st, page) = html(&c, app.url("/")).await;
    assert_eq!(st, 200, "{page}");
    let urgent = section(&page, "home-deadlines");
    let cases_at = page.find("id=\"home-cases\"").unwrap();
    assert!(page.find("id=\"home-deadlines\"").unwrap() < cases_at);
    assert!(
        urgent.contains(&format!(
            "class=\"overdue\" data-kind=\"citizenship_confirmation_due\" data-reference=\"{returning}\""
        )),
        "{urgent}"
    );
    assert!(urgent.contains("overdue by 8 days"), "{urgent}");
    assert!(
        urgent.contains(&format!("href=\"/cases/{returning}/return\"")),
        "{urgent}"
    );
    assert!(
        urgent.contains(&format!(
            "data-kind=\"hearing_conflict\" data-reference=\"{witness}\""
        )),
        "{urgent}"
    );
    assert!(
        urgent.contains(&format!("href=\"/cases/{witness}/proceedings\"")),
        "{urgent}"
    );
    // The return stuck at its stage is there too; the quiet case is not urgent.
    assert!(
        urgent.contains("data-kind=\"return_stage_target\""),
        "{urgent}"
    );
    assert!(!urgent.contains(&quiet));
    // Below, the cases with the name, the next deadline and the flags.
    let cases = section(&page, "home-cases");
    assert!(cases.contains(NAME), "{cases}");
    assert!(cases.contains("hearing conflict"), "{cases}");
    assert!(cases.contains("citizenship overdue"), "{cases}");
    // Sorted by next deadline: the overdue return first, the quiet case last.
    let pos = |r: &str| cases.find(&format!("data-reference=\"{r}\"")).unwrap();
    assert!(pos(&returning) < pos(&witness) && pos(&witness) < pos(&quiet));
    let (_, by_ref) = html(&c, app.url("/?sort=reference")).await;
    let cases = section(&by_ref, "home-cases");
    let pos = |r: &str| cases.find(&format!("data-reference=\"{r}\"")).unwrap();
    assert!(pos(&returning) < pos(&witness) && pos(&witness) < pos(&quiet));
    // Names never go into a URL; the reads of the names are on record.
    assert!(!page.contains("href=\"/?name") && !page.contains("Comfort%20"));
    let (_, trail) = get(&api, app.url(&format!("/api/v1/cases/{returning}/audit"))).await;
    assert!(
        trail["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["section"] == "person" && e["action"] == "read" && e["route"] == "GET /"),
        "{trail}"
    );

    // The organisation's administrator sees the same overdue work, without any name.
    let admin = app.html_login("admin@ngo.test").await;
    let (st, page) = html(&admin, app.url("/")).await;
    assert_eq!(st, 200);
    let urgent = section(&page, "home-deadlines");
    assert!(
        urgent.contains(&returning) && urgent.contains(&witness),
        "{urgent}"
    );
    assert!(!page.contains(NAME) && !page.contains("Witness Homefield"));
    assert!(page.contains("id=\"nav-deadlines\""), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_deadlines_is_complete_for_the_advocate_the_agency_and_the_administrator() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "admin@ngo.test", "org_admin").await;
    app.user(w.returns, "agent@retour.test", "return_officer")
        .await;
    let api = app.api_login(ADVOCATE).await;
    let returning = app.create_case(&api, NAME).await;
    overdue_return(&app, &api, &returning, Some(w.returns)).await;
    // A closed case whose recovery period ran out is history, not work.
    let closed = app.create_case(&api, "Closed Homefield").await;
    overdue_recovery_period(&app, &api, &closed).await;
    let open = app.create_case(&api, "Open Homefield").await;
    overdue_recovery_period(&app, &api, &open).await;
    close(&app, &api, &closed).await;

    let c = app.html_login(ADVOCATE).await;
    let (st, page) = html(&c, app.url("/deadlines")).await;
    assert_eq!(st, 200, "{page}");
    for (kind, reference, link) in [
        ("citizenship_confirmation_due", &returning, "return"),
        ("return_stage_target", &returning, "return"),
        ("recovery_reflection_period_end", &open, "identification"),
    ] {
        let row = format!("data-kind=\"{kind}\" data-reference=\"{reference}\"");
        let at = page
            .find(&row)
            .unwrap_or_else(|| panic!("no {kind} row: {page}"));
        assert!(
            page[at..].contains(&format!("href=\"/cases/{reference}/{link}\"")),
            "{kind}"
        );
    }
    assert!(page.contains("Citizenship confirmation due"), "{page}");
    assert!(page.contains("overdue by 8 days"), "{page}");
    assert!(!page.contains(&closed), "a closed case's row: {page}");
    assert!(
        !page.contains("deadline-citizenship"),
        "an untranslated kind"
    );

    // The return agency's officer sees the clocks of the return it is the agency of (and
    // nothing of the case's other deadlines).
    let agent = app.html_login("agent@retour.test").await;
    let (st, page) = html(&agent, app.url("/deadlines")).await;
    assert_eq!(st, 200);
    assert!(
        page.contains(&format!(
            "data-kind=\"citizenship_confirmation_due\" data-reference=\"{returning}\""
        )),
        "{page}"
    );
    assert!(!page.contains(&open));

    // The administrator has the organisation-wide view, in their menu and on the page.
    let admin = app.html_login("admin@ngo.test").await;
    let (st, page) = html(&admin, app.url("/deadlines")).await;
    assert_eq!(st, 200);
    assert!(page.contains("id=\"nav-deadlines\""));
    assert!(page.contains("every case of your organisation"), "{page}");
    assert!(page.contains(&returning) && page.contains(&open), "{page}");
    assert!(!page.contains(&closed));
    assert!(!page.contains(NAME));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agency_list_keeps_flagging_an_overdue_request_and_links_only_to_open_pages() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.returns, "agent@retour.test", "return_officer")
        .await;
    app.user(w.returns, "boss@retour.test", "org_admin").await;
    let api = app.api_login(ADVOCATE).await;
    let returning = app.create_case(&api, NAME).await;
    overdue_return(&app, &api, &returning, Some(w.returns)).await;
    // The return moves on a stage: its stage clock starts again, the request is still late.
    let url = app.url(&format!("/api/v1/cases/{returning}/return"));
    let (_, v) = get(&api, url.clone()).await;
    let (st, v) = send(
        &api,
        "POST",
        format!("{url}/move"),
        json!({"to": "assessed", "version": v["version"]}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    // Another return, cancelled: closed to the agency.
    let cancelled = app.create_case(&api, "Cancelled Homefield").await;
    overdue_return(&app, &api, &cancelled, Some(w.returns)).await;
    let url = app.url(&format!("/api/v1/cases/{cancelled}/return"));
    let (_, v) = get(&api, url.clone()).await;
    let (st, v) = send(
        &api,
        "POST",
        format!("{url}/move"),
        json!({"to": "cancelled", "version": v["version"], "reason": "the person changed their mind"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");

    for who in ["agent@retour.test", "boss@retour.test"] {
        let c = app.html_login(who).await;
        let (st, page) = html(&c, app.url("/returns")).await;
        assert_eq!(st, 200, "{page}");
        assert!(
            page.contains(&format!("data-reference=\"{returning}\" class=\"overdue\"")),
            "{who}: the overdue request is no longer flagged: {page}"
        );
        assert!(page.contains("id=\"returns-stuck\""), "{page}");
        assert!(
            !page.contains(&format!("href=\"/cases/{cancelled}/return\"")),
            "{who}: a link to a return page closed to them"
        );
        // No link of the list answers 403 (or 404).
        for link in case_links(&page) {
            let (st, body) = html(&c, app.url(&link)).await;
            assert_eq!(st, 200, "{who} {link}: {body}");
        }
        // Their home shows the late return first.
        let (_, home) = html(&c, app.url("/")).await;
        let returns = section(&home, "home-returns");
        assert!(returns.contains(&returning), "{who}: {home}");
        for link in case_links(&home) {
            let (st, _) = html(&c, app.url(&link)).await;
            assert_eq!(st, 200, "{who} home {link}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_link_on_a_case_page_answers_403_for_the_origin_service() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.origin, "followup@edo.test", "follow_up_officer")
        .await;
    let api = app.api_login(ADVOCATE).await;
    let reference = app.create_case(&api, NAME).await;
    let k = consent(&app, &api, &reference, "reintegration", "Edo").await;
    let (st, v) = send(
        &api,
        "POST",
        app.url(&format!("/api/v1/cases/{reference}/shares")),
        json!({"org_id": w.origin, "purpose": "reintegration", "consent_id": k}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let c = app.html_login("followup@edo.test").await;
    let (st, page) = html(&c, app.url(&format!("/cases/{reference}"))).await;
    assert_eq!(st, 200, "{page}");
    assert!(page.contains(NAME));
    for link in case_links(&page) {
        let (st, body) = html(&c, app.url(&link)).await;
        assert_eq!(st, 200, "{link}: {body}");
    }
    let (_, home) = html(&c, app.url("/")).await;
    for link in case_links(&home) {
        let (st, _) = html(&c, app.url(&link)).await;
        assert_eq!(st, 200, "home {link}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_return_page_says_what_holds_a_move_back_and_what_to_do_without_a_reception_org() {
    let app = spawn_app().await;
    app.world().await;
    let api = app.api_login(ADVOCATE).await;
    let reference = app.create_case(&api, NAME).await;
    let k = consent(&app, &api, &reference, "return_assistance", "Bambara").await;
    let (st, v) = send(
        &api,
        "POST",
        app.url(&format!("/api/v1/cases/{reference}/return")),
        json!({"requested_by": "person", "consent_id": k, "explained_by": "Ms Keita, in Bambara",
               "destination_country": "ML"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let c = app.html_login(ADVOCATE).await;
    let (st, page) = html(&c, app.url(&format!("/cases/{reference}/return"))).await;
    assert_eq!(st, 200);
    // The risk assessment is missing: the move is shown, disabled, with why.
    assert!(page.contains("data-rule=\"risk_assessment\""), "{page}");
    assert!(
        page.contains("id=\"move-button\" disabled aria-describedby=\"blockers move-blocked\""),
        "{page}"
    );
    // No origin-country organisation in Mali: the page says so and what to do.
    let hint = section(&page, "reception");
    assert!(hint.contains("id=\"no-reception-org\""), "{hint}");
    assert!(hint.contains("Ask your system administrator"), "{hint}");
    // Once assessed, nothing holds the move back: the button is enabled.
    let (st, v) = send(
        &api,
        "POST",
        app.url(&format!("/api/v1/cases/{reference}/return/assessment")),
        json!({"persecution": "low", "re_trafficking": "low", "findings": "family waiting"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let (_, page) = html(&c, app.url(&format!("/cases/{reference}/return"))).await;
    assert!(
        page.contains("<button type=\"submit\" id=\"move-button\">"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_referral_shows_child_language_and_answer_by_but_no_name() {
    let app = spawn_app().await;
    let w: World = app.world().await;
    app.user(w.shelter, "coord@tilleuls.test", "shelter_coordinator")
        .await;
    let api = app.api_login(ADVOCATE).await;
    let r = api
        .post(app.url("/api/v1/cases"))
        .json(
            &json!({"person": {"name": NAME, "birth_date": in_days(-365 * 15).to_string(),
              "nationality": "NG", "languages": "Kwa-Secretish", "location": "Lyon, rue Secrète"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let reference = r.json::<Value>().await.unwrap()["summary"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let k = consent(&app, &api, &reference, "shelter", "Tigrinya").await;
    let (st, v) = send(
        &api,
        "POST",
        app.url(&format!("/api/v1/cases/{reference}/referrals")),
        json!({"to_org_id": w.shelter, "service": "shelter", "sections": ["person", "placement"], "consent_id": k}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();

    let c = app.html_login("coord@tilleuls.test").await;
    for path in ["/referrals", "/"] {
        let (st, page) = html(&c, app.url(path)).await;
        assert_eq!(st, 200, "{page}");
        let row_at = page
            .find(&format!("data-referral=\"{id}\""))
            .unwrap_or_else(|| panic!("{path}: no row {page}"));
        let row = &page[row_at..page[row_at..].find("</tr>").unwrap() + row_at];
        assert!(row.contains("child"), "{path}: {row}");
        assert!(row.contains("Tigrinya"), "{path}: {row}");
        assert!(row.contains("days left"), "{path}: {row}");
        assert!(!page.contains(NAME), "{path}: a name before acceptance");
        assert!(
            !page.contains("Secrète") && !page.contains("Kwa-Secretish"),
            "{path}"
        );
    }
    // The home opens on it, before the cases.
    let (_, home) = html(&c, app.url("/")).await;
    assert!(home.find("id=\"home-referrals\"").unwrap() < home.find("id=\"home-cases\"").unwrap());
    // Accepted with the person section: now the name is the shelter's to see.
    let csrf = app.csrf(&c).await;
    let r = c
        .post(app.url(&format!("/referrals/{id}/answer")))
        .form(&[("_csrf", csrf.as_str()), ("answer", "accept")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, page) = html(&c, app.url("/referrals")).await;
    assert!(page.contains(NAME), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_by_reference_opens_a_visible_case_and_the_form_says_the_name_is_exact() {
    let app = spawn_app().await;
    app.world().await;
    let other = app.org("Elsewhere", "victim_advocacy", "FR").await;
    app.user(other, "other@else.test", "advocate").await;
    let api = app.api_login(ADVOCATE).await;
    let reference = app.create_case(&api, NAME).await;
    let c = app.html_login(ADVOCATE).await;
    let (_, home) = html(&c, app.url("/")).await;
    assert!(
        home.contains("reference, or a person by their exact full name"),
        "{home}"
    );
    let csrf = app.csrf(&c).await;
    let r = c
        .post(app.url("/search"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", &reference.to_lowercase()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/cases/{reference}").as_str()
    );
    // By name, still exact.
    let r = c
        .post(app.url("/search"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", " comfort  homefield-osagie "),
        ])
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!("href=\"/cases/{reference}\"")),
        "{page}"
    );
    // Another organisation's user learns nothing from the reference.
    let o = app.html_login("other@else.test").await;
    let csrf = app.csrf(&o).await;
    let r = o
        .post(app.url("/search"))
        .form(&[("_csrf", csrf.as_str()), ("name", &reference)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("No case with this reference"), "{page}");
    assert!(!page.contains(&format!("href=\"/cases/{reference}\"")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_likely_duplicate_is_shown_before_a_second_case_only_among_visible_cases() {
    let app = spawn_app().await;
    app.world().await;
    let other = app.org("Elsewhere", "victim_advocacy", "FR").await;
    app.user(other, "other@else.test", "advocate").await;
    let api = app.api_login(ADVOCATE).await;
    let existing = app.create_case(&api, NAME).await; // born 1994-03-02
    let form = |c: &Client, csrf: &str, name: &str, born: &str, confirm: bool| {
        let mut f = vec![
            ("_csrf".to_owned(), csrf.to_owned()),
            ("name".to_owned(), name.to_owned()),
            ("birth_date".to_owned(), born.to_owned()),
        ];
        if confirm {
            f.push(("confirm_duplicate".to_owned(), "on".to_owned()));
        }
        c.post(app.url("/cases")).form(&f).send()
    };
    let c = app.html_login(ADVOCATE).await;
    let csrf = app.csrf(&c).await;
    // Same name (spacing and case aside) and birth date: the existing case is shown.
    let r = form(&c, &csrf, " comfort HOMEFIELD-osagie", "1994-03-02", false)
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"duplicates\""), "{page}");
    assert!(
        page.contains(&format!("href=\"/cases/{existing}\"")),
        "{page}"
    );
    assert!(page.contains("id=\"confirm-duplicate\""), "{page}");
    assert!(
        page.contains("value=\" comfort HOMEFIELD-osagie\""),
        "the form keeps what was typed"
    );
    assert_eq!(app.services.count_cases().await.unwrap(), 1);
    // Another birth date: no warning.
    let r = form(&c, &csrf, NAME, "1995-03-02", false).await.unwrap();
    assert_eq!(r.status(), 303);
    // Confirmed as another person: created.
    let r = form(&c, &csrf, NAME, "1994-03-02", true).await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(app.services.count_cases().await.unwrap(), 3);
    // Another organisation's advocate is told nothing of this organisation's cases.
    let o = app.html_login("other@else.test").await;
    let csrf = app.csrf(&o).await;
    let r = form(&o, &csrf, NAME, "1994-03-02", false).await.unwrap();
    assert_eq!(r.status(), 303);
    let body = r.text().await.unwrap();
    assert!(!body.contains(&existing));
    assert!(!contains(body.as_bytes(), "duplicates"));
}
