//! Words, not ids (issue 17, point 6): every page of the demo, as each demo account, in
//! English and in French, is read as a person reads it (tags stripped), and fails on a raw
//! rule id (`[requirement:travel_document]`), a snake_case identifier (`until_on`), an
//! untranslated message key (`field-…`, `msg-…`), or a count without its plural form
//! ("1 days", "1 jours"). See `passerelle_tests::words` for the checks themselves.
//!
//! The crawl starts at `/` and follows every same-origin GET link (`<a href>`), redirects
//! included, except the language switch (the language is set once per pass), the JSON
//! API and the stylesheet. It is bounded per account and language ([`MAX_PAGES`]); the
//! test fails if a crawl reaches the bound, so the bound never hides pages silently.
//!
//! Run: `cargo test -p passerelle-tests --test words -- --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle::demo::DEMO_PASSWORD;
use passerelle_tests::words::{Checker, Kind, links, visible_text, vocabulary};
use passerelle_tests::{html_login_with, spawn_demo_app};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Pages one account may visit in one language before the crawl is stopped.
const MAX_PAGES: usize = 1500;

/// Where a finding was seen first, and how often.
struct Seen {
    account: String,
    lang: &'static str,
    url: String,
    context: String,
    count: usize,
}

/// A URL's path with every id-like segment (digits in it) replaced by `{}`: findings are
/// grouped by the kind of page, not by each case.
fn pattern(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.split('/')
        .map(|seg| {
            if seg.chars().any(|c| c.is_ascii_digit()) {
                "{}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The same-origin page a link leads to, or None for what the crawl does not follow.
fn follow(href: &str, address: &str) -> Option<String> {
    let href = href.strip_prefix(address).unwrap_or(href);
    let href = href.split('#').next().unwrap_or("");
    if !href.starts_with('/') || href.starts_with("//") {
        return None;
    }
    let path = href.split('?').next().unwrap_or(href);
    let skipped = ["/lang/", "/api/", "/static/", "/logout"];
    // CSV files are data for spreadsheets: their headers are column names by design.
    if skipped.iter().any(|s| path.starts_with(s)) || path.ends_with(".csv") {
        return None;
    }
    Some(href.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_demo_page_reads_in_words_for_every_role_in_english_and_french() {
    let (app, accounts) = spawn_demo_app().await;
    let french = include_str!("../../web/i18n/fr.ftl");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let english = include_str!("../../web/i18n/en.ftl");
    let checker = Checker::new(&[english, french])
        .with_vocabulary(
            vocabulary(&[root.join("core/src"), root.join("plugins/src")]),
            french,
        )
        .with_english(english, french);
    let mut findings: BTreeMap<(Kind, String, String), Seen> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    let mut visited_total = 0usize;
    let mut patterns: BTreeSet<String> = BTreeSet::new();
    for account in &accounts {
        let c = html_login_with(&app.address, account.email, DEMO_PASSWORD).await;
        for lang in ["en", "fr"] {
            let r = c
                .get(app.url(&format!("/lang/{lang}?next=/")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303, "switching {} to {lang}", account.email);
            let mut queue: VecDeque<String> = VecDeque::from(["/".to_owned()]);
            let mut seen: BTreeSet<String> = BTreeSet::from(["/".to_owned()]);
            let mut visited = 0usize;
            while let Some(url) = queue.pop_front() {
                visited += 1;
                if visited > MAX_PAGES {
                    failures.push(format!(
                        "{} ({lang}): the crawl reached {MAX_PAGES} pages; raise the bound",
                        account.email
                    ));
                    break;
                }
                let r = c.get(app.url(&url)).send().await.unwrap();
                let status = r.status().as_u16();
                if (300..400).contains(&status) {
                    let to = r
                        .headers()
                        .get("location")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    if let Some(next) = follow(&to, &app.address)
                        && seen.insert(next.clone())
                    {
                        queue.push_back(next);
                    }
                    continue;
                }
                let html = r.text().await.unwrap_or_default();
                if status >= 500 {
                    failures.push(format!("{} ({lang}) GET {url}: {status}", account.email));
                }
                patterns.insert(pattern(&url));
                let text = visible_text(&html);
                for f in checker.scan(&text, lang) {
                    // Ids differ on every page: one entry per kind of page.
                    let token = if f.kind == Kind::RawId {
                        "<id>".to_owned()
                    } else {
                        f.token
                    };
                    findings
                        .entry((f.kind, token, pattern(&url)))
                        .and_modify(|s| s.count += 1)
                        .or_insert(Seen {
                            account: account.email.to_owned(),
                            lang,
                            url: url.clone(),
                            context: f.context,
                            count: 1,
                        });
                }
                for href in links(&html) {
                    if let Some(next) = follow(&href, &app.address)
                        && seen.insert(next.clone())
                    {
                        queue.push_back(next);
                    }
                }
            }
            visited_total += visited;
        }
    }
    eprintln!(
        "words: {visited_total} pages read ({} kinds of page) for {} accounts in en and fr",
        patterns.len(),
        accounts.len()
    );
    for p in &patterns {
        eprintln!("  {p}");
    }
    // The crawl must reach the pages the issue names, or it proves nothing.
    for must in [
        "/cases",
        "/cases/{}",
        "/cases/{}/audit",
        "/cases/{}/care",
        "/cases/{}/identification",
        "/cases/{}/proceedings",
        "/cases/{}/return",
        "/deadlines",
        "/returns",
        "/admin/plugins",
        "/admin/users",
    ] {
        if !patterns.contains(must) {
            failures.push(format!("the crawl never reached a page {must}"));
        }
    }
    if !findings.is_empty() {
        let mut per_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for ((kind, _, _), s) in &findings {
            let e = per_kind.entry(kind.name()).or_default();
            e.0 += 1;
            e.1 += s.count;
        }
        let mut report = String::from("pages show ids instead of words:\n");
        for (kind, (distinct, total)) in &per_kind {
            report.push_str(&format!(
                "  {kind}: {distinct} distinct (token, page kind), {total} occurrences\n"
            ));
        }
        for ((kind, token, pat), s) in &findings {
            report.push_str(&format!(
                "- {}: {token:?} on {pat} ({}x; first as {} in {} at {}): …{}…\n",
                kind.name(),
                s.count,
                s.account,
                s.lang,
                s.url,
                s.context
            ));
        }
        failures.push(report);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The hidden and visible inputs of the form with `id` (name, value), entities decoded.
fn form_fields(html: &str, id: &str) -> Vec<(String, String)> {
    let Some(start) = html.find(&format!("id=\"{id}\"")) else {
        return vec![];
    };
    let form = &html[start
        ..html[start..]
            .find("</form>")
            .map_or(html.len(), |e| start + e)];
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find("<input ") {
        let tag = &rest[i + 1..i + rest[i..].find('>').unwrap_or(0)];
        if let Some(name) = passerelle_tests::words::attribute(tag, "name") {
            let value = passerelle_tests::words::attribute(tag, "value").unwrap_or_default();
            out.push((name, passerelle_tests::words::decode_entities(&value)));
        }
        rest = &rest[i + 7..];
    }
    out
}

/// The detail of an error, as read: the message above a form sent back with what was
/// typed, or an error page's detail.
fn error_detail(html: &str) -> String {
    let start = html
        .find("class=\"error form-alert\"")
        .or_else(|| html.find("id=\"error-detail\""))
        .unwrap_or_else(|| panic!("no error detail in {html}"));
    let p = &html[start..];
    let text = &p[p.find('>').unwrap() + 1..p.find("</p>").unwrap()];
    passerelle_tests::words::decode_entities(text)
}

/// What a person reads of `text`, checked: no finding of any kind.
fn assert_words(checker: &Checker, lang: &str, what: &str, text: &str) {
    let found = checker.scan(text, lang);
    assert!(
        found.is_empty(),
        "{what} ({lang}) shows ids: {found:?} in {text:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_move_and_a_wrong_date_read_in_words_in_english_and_french() {
    let (app, _) = spawn_demo_app().await;
    let checker = Checker::new(&[
        include_str!("../../web/i18n/en.ftl"),
        include_str!("../../web/i18n/fr.ftl"),
    ]);
    // The return officer of the agency approves the demo's return: refused while the
    // citizenship confirmation is missing.
    let officer = html_login_with(&app.address, "rachid@retour.example", DEMO_PASSWORD).await;
    let list = officer
        .get(app.url("/returns"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let page = links(&list)
        .into_iter()
        .find(|l| l.ends_with("/return"))
        .unwrap_or_else(|| panic!("no return on the returns page: {list}"));
    for (lang, missing) in [
        ("en", "missing: Citizenship confirmed by the origin state"),
        (
            "fr",
            "manquant : Nationalité confirmée par l'État d'origine",
        ),
    ] {
        officer
            .get(app.url(&format!("/lang/{lang}?next=/")))
            .send()
            .await
            .unwrap();
        let mut fields = Vec::new();
        // The demo's return waits at "requested" with its risk assessment: it moves on to
        // "assessed" first.
        for _ in 0..2 {
            let html = officer
                .get(app.url(&page))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            fields = form_fields(&html, "move-form");
            if fields.iter().any(|(n, v)| n == "to" && v == "approved") {
                break;
            }
            let r = officer
                .post(app.url(&format!("{page}/move")))
                .form(&fields)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303, "moving on: {fields:?}");
        }
        assert!(
            fields.iter().any(|(n, v)| n == "to" && v == "approved"),
            "the officer is offered the approval: {fields:?}"
        );
        let r = officer
            .post(app.url(&format!("{}/move", page)))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{lang}");
        let detail = error_detail(&r.text().await.unwrap());
        assert_words(&checker, lang, "the refused move", &detail);
        assert!(detail.contains(missing), "{lang}: {detail}");
        let heading = if lang == "fr" {
            "le retour ne peut pas passer à l'étape « Approuvé »"
        } else {
            "the return cannot move to “Approved”"
        };
        assert!(detail.starts_with(heading), "{lang}: {detail}");
    }
    // The same refusal on the API keeps the rule ids and English messages.
    let api = passerelle_tests::client();
    let r = api
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "rachid@retour.example", "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let reference = page
        .trim_start_matches("/cases/")
        .trim_end_matches("/return");
    let v: serde_json::Value = api
        .get(app.url(&format!("/api/v1/cases/{reference}/return")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = api
        .post(app.url(&format!("/api/v1/cases/{reference}/return/move")))
        .json(&serde_json::json!({"to": "approved", "version": v["version"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("[requirement:citizenship_confirmed] missing from the checklist"),
        "{body}"
    );

    // A shelter placement ending before it starts names the field in words.
    let shelter = html_login_with(&app.address, "sophie@tilleuls.example", DEMO_PASSWORD).await;
    let cases = shelter
        .get(app.url("/cases"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut placement_form = None;
    for case in links(&cases)
        .into_iter()
        .filter(|l| l.starts_with("/cases/PSG-"))
    {
        let care = shelter
            .get(app.url(&format!("{case}/care")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if care.contains(&format!("action=\"{case}/placements")) {
            placement_form = Some((case, passerelle_tests::hidden_csrf(&care), care));
            break;
        }
    }
    let (case, csrf, care) = placement_form.expect("a case where the shelter records placements");
    let shelter_id = care
        .split("name=\"shelter_org_id\"")
        .nth(1)
        .and_then(|s| s.split("value=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    for (lang, label) in [("en", "End date — "), ("fr", "Date de fin — ")] {
        shelter
            .get(app.url(&format!("/lang/{lang}?next=/")))
            .send()
            .await
            .unwrap();
        let r = shelter
            .post(app.url(&format!("{case}/placements")))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("shelter_org_id", shelter_id.as_str()),
                ("location", "Room 2 (fictional)"),
                ("from_on", "2026-05-10"),
                ("until_on", "2026-05-01"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{lang}");
        let detail = error_detail(&r.text().await.unwrap());
        assert_words(&checker, lang, "the wrong date", &detail);
        assert!(detail.starts_with(label), "{lang}: {detail}");
    }
}
