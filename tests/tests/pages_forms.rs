//! The pages' forms over HTTP (issue 17): a failed form comes back as the same page with
//! what was typed and the error beside its field (422, 409), never with a password; a
//! message after every action, carried as a key in a short-lived cookie and shown once;
//! confirmations before harm, with reasons kept (encrypted) where the record keeps
//! history; and an expired session sends a form to the sign-in page and back, without
//! keeping what was typed anywhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_tests::{
    PASSWORD, client, contains, get_json, hidden_csrf, in_days, send_json, spawn_app,
};
use reqwest::Client;
use serde_json::json;

async fn text(c: &Client, url: String) -> (u16, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_form_comes_back_with_what_was_typed_and_the_error_beside_its_field() {
    let app = spawn_app().await;
    app.world().await;
    let c = app.html_login("advocate@ngo.test").await;
    let csrf = app.csrf(&c).await;
    let r = c
        .post(app.url("/cases"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("_back", "/cases/new"),
            ("name", "Amara <Quote\"field>"),
            ("nationality", "N1"),
            ("notes", "first line\nsecond line"),
            ("is_minor", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "a wrong value is the same form again");
    assert!(
        !set_cookies(&r)
            .iter()
            .any(|c| c.contains("Amara") || c.contains("first line")),
        "typed values never go into a cookie"
    );
    let t = r.text().await.unwrap();
    assert!(
        t.contains("id=\"new-case\""),
        "the form, not an error page: {t}"
    );
    assert!(!t.contains("id=\"error-detail\""));
    // The error beside the field, tied to it for screen readers.
    assert!(
        t.contains("<p class=\"field-error\" id=\"err-person-nationality\">"),
        "{t}"
    );
    assert!(t.contains("aria-describedby=\"err-person-nationality\""));
    // What was typed, escaped.
    assert!(
        t.contains("value=\"Amara &lt;Quote&quot;field&gt;\""),
        "{t}"
    );
    assert!(t.contains(">first line\nsecond line</textarea>"));
    assert!(t.contains("value=\"N1\""));
    assert!(t.contains("name=\"is_minor\" checked"));
    // The page is its own address again (the language switch comes back to the form).
    assert!(t.contains("/lang/fr?next=/cases/new"), "{t}");
    // In French, the message is French.
    let r = c
        .post(app.url("/cases"))
        .header("Accept-Language", "fr")
        .form(&[
            ("_csrf", csrf.as_str()),
            ("_back", "/cases/new"),
            ("name", "Amara"),
            ("nationality", "N1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let t = r.text().await.unwrap();
    assert!(
        t.contains("doit être un code ISO 3166-1 à deux lettres"),
        "{t}"
    );
    // Nothing was created.
    let (_, list) = get_json(
        &app.api_login("advocate@ngo.test").await,
        app.url("/api/v1/cases?scope=org"),
    )
    .await;
    assert_eq!(list["total"], 0, "{list}");

    // A duplicate (409) keeps the form too, and a password is never sent back.
    let w_admin = app.org("Admins", "victim_advocacy", "FR").await;
    app.user(w_admin, "admin@admins.test", "org_admin").await;
    let admin = app.html_login("admin@admins.test").await;
    let token = app.csrf(&admin).await;
    let r = admin
        .post(app.url("/admin/users"))
        .form(&[
            ("_csrf", token.as_str()),
            ("_back", "/admin/users"),
            ("email", "admin@admins.test"),
            ("display_name", "Second Admin"),
            ("role", "advocate"),
            ("password", "a secret password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let t = r.text().await.unwrap();
    assert!(t.contains("already exists"), "{t}");
    assert!(
        !t.contains("Someone else saved") && !t.contains("Saved meanwhile"),
        "a duplicate is not a stale edit: {t}"
    );
    assert!(t.contains("value=\"Second Admin\""), "{t}");
    assert!(
        !t.contains("a secret password"),
        "the password came back into the page"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_edit_is_the_form_again_with_both_versions() {
    let app = spawn_app().await;
    app.world().await;
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Ruth Stalefield").await;
    let (_, v) = get_json(&api, app.url(&format!("/api/v1/cases/{reference}"))).await;
    let read = v["summary"]["version"].as_i64().unwrap();
    // Someone saves first.
    let (st, v) = send_json(
        &api,
        "PUT",
        app.url(&format!("/api/v1/cases/{reference}/person")),
        json!({"version": read, "person": {"name": "Ruth Stalefield", "contact": "via the shelter only"}}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let now = v["version"].as_i64().unwrap();
    // The page's edit, from the version it read.
    let c = app.html_login("advocate@ngo.test").await;
    let csrf = app.csrf(&c).await;
    let back = format!("/cases/{reference}/edit");
    let read_s = read.to_string();
    let r = c
        .post(app.url(&format!("/cases/{reference}/person")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("_back", back.as_str()),
            ("version", read_s.as_str()),
            ("name", "Ruth Stalefield"),
            ("contact", "+33 6 11 11 11 11"),
            ("notes", "my long note"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let t = r.text().await.unwrap();
    assert!(t.contains("id=\"err-person-alert\""), "{t}");
    assert!(
        t.contains("value=\"+33 6 11 11 11 11\""),
        "mine is kept: {t}"
    );
    assert!(t.contains(">my long note</textarea>"));
    assert!(
        t.contains("id=\"err-person-saved-contact\"") && t.contains("via the shelter only"),
        "theirs beside it: {t}"
    );
    assert!(
        t.contains(&format!("name=\"version\" value=\"{now}\"")),
        "the form now carries the current version: {t}"
    );
    // Nothing of mine was written.
    let (_, v) = get_json(&api, app.url(&format!("/api/v1/cases/{reference}"))).await;
    assert_eq!(v["person"]["contact"], "via the shelter only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_message_after_an_action_is_a_key_in_a_short_lived_cookie_shown_once() {
    let app = spawn_app().await;
    app.world().await;
    let c = app.html_login("advocate@ngo.test").await;
    let csrf = app.csrf(&c).await;
    let r = c
        .post(app.url("/cases"))
        .form(&[("_csrf", csrf.as_str()), ("name", "Peace Flashfield")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    let cookies = set_cookies(&r);
    let flash = cookies
        .iter()
        .find(|c| c.starts_with("passerelle_flash="))
        .unwrap_or_else(|| panic!("no flash cookie in {cookies:?}"));
    assert!(
        flash.starts_with("passerelle_flash=flash-case-created;"),
        "{flash}"
    );
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(flash.contains(attr), "{attr} missing: {flash}");
    }
    assert!(!flash.contains("Peace"), "only a key, never data: {flash}");
    let r = c.get(app.url(&loc)).send().await.unwrap();
    let cleared = set_cookies(&r);
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("passerelle_flash=;") && c.contains("Max-Age=0")),
        "the page that shows it clears it: {cleared:?}"
    );
    let t = r.text().await.unwrap();
    assert!(
        t.contains("<p class=\"flash\" role=\"status\" id=\"flash\">Case created.</p>"),
        "{t}"
    );
    let (_, t) = text(&c, app.url(&loc)).await;
    assert!(!t.contains("id=\"flash\""), "shown once");
    // In French.
    let r = c
        .post(app.url(&format!("{loc}/consents")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("purpose", "medical"),
            ("given_by", "person"),
            ("language", "fr"),
            ("form_version", "v1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let t = c
        .get(app.url(&loc))
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(t.contains(">Consentement enregistré.</p>"), "{t}");
    // A cookie the browser sends back with anything but a known key shows nothing.
    for forged in ["<b>hello</b>", "flash-no-such-message", "case-title"] {
        let r = c
            .get(app.url(&loc))
            .header("Cookie", format!("passerelle_flash={forged}"))
            .send()
            .await
            .unwrap();
        let t = r.text().await.unwrap();
        assert!(!t.contains("id=\"flash\""), "{forged} was shown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_sends_a_form_to_sign_in_and_back_without_keeping_it() {
    let app = spawn_app().await;
    app.world().await;
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Faith Expiredfield").await;
    let page = format!("/cases/{reference}");
    // A session cookie that no longer opens a session (expired, or signed out elsewhere).
    let stale = client();
    let r = stale
        .post(app.url(&format!("{page}/consents")))
        .header("Cookie", "passerelle=0123456789abcdef")
        .form(&[
            ("_csrf", "whatever"),
            ("_back", page.as_str()),
            ("language", "Edo, typed before the session expired"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, format!("/login?next={page}&expired=form"));
    assert!(!to.contains("Edo") && set_cookies(&r).iter().all(|c| !c.contains("Edo")));
    // The sign-in page says why, and that what was typed was not kept.
    let (st, t) = text(&stale, app.url(&to)).await;
    assert_eq!(st, 200);
    assert!(t.contains("id=\"login-notice\""), "{t}");
    assert!(
        t.contains("Your session had expired before the form was sent"),
        "{t}"
    );
    assert!(t.contains("could not be kept"), "{t}");
    assert!(
        t.contains(&format!("name=\"next\" value=\"{page}\"")),
        "{t}"
    );
    assert!(!t.contains("Edo"));
    // Signing in goes back to the page.
    let token = hidden_csrf(&t);
    let r = stale
        .post(app.url("/login"))
        .form(&[
            ("email", "advocate@ngo.test"),
            ("password", PASSWORD),
            ("_csrf", token.as_str()),
            ("next", page.as_str()),
            ("expired", "form"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], page.as_str());
    // Nothing was recorded by the expired post.
    let (_, v) = get_json(&api, app.url(&format!("/api/v1/cases/{reference}"))).await;
    assert_eq!(v["consents"].as_array().unwrap().len(), 0, "{v}");

    // A page opened with an expired session comes back too, with its query.
    let other = client();
    let r = other
        .get(app.url("/cases?scope=org&stage=referred"))
        .header("Cookie", "passerelle=0123456789abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"],
        "/login?next=/cases%3Fscope%3Dorg%26stage%3Dreferred&expired=1"
    );
    let (_, t) = text(&other, app.url("/login?next=/cases&expired=1")).await;
    assert!(t.contains("Your session had expired. Sign in again"), "{t}");
    // Only local pages: another site, or the sign-in page itself, lands on the caseload.
    for next in ["//evil.example/", "https://evil.example/", "/login?next=/x"] {
        let c = client();
        let (_, t) = text(&c, app.url("/login")).await;
        let token = hidden_csrf(&t);
        let r = c
            .post(app.url("/login"))
            .form(&[
                ("email", "advocate@ngo.test"),
                ("password", PASSWORD),
                ("_csrf", token.as_str()),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        // Not back to another site: to the home.
        assert_eq!(r.headers()["location"], "/", "{next}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harmful_actions_ask_first_and_keep_their_reason() {
    let app = spawn_app().await;
    let w = app.world().await;
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Hope Reasonfield").await;
    let url = |p: &str| app.url(&format!("/api/v1/cases/{reference}{p}"));
    let (_, p) = send_json(
        &api,
        "POST",
        url("/proceedings"),
        json!({"court": "Tribunal de Lyon", "jurisdiction": "Lyon", "case_number": "TJ-1",
            "charges": ["trafficking"], "person_role": "victim_witness"}),
    )
    .await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let (_, h) = send_json(
        &api,
        "POST",
        url(&format!("/proceedings/{pid}/hearings")),
        json!({"kind": "trial_session", "held_on": in_days(40).to_string(), "presence_required": true}),
    )
    .await;
    let hid = h["id"].as_str().unwrap().to_owned();

    // The API: a hearing is cancelled only with a reason, which it then shows.
    let (st, v) = send_json(
        &api,
        "POST",
        url(&format!("/hearings/{hid}/cancel")),
        json!({}),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("reason")), "{v}");
    let (st, v) = send_json(
        &api,
        "POST",
        url(&format!("/hearings/{hid}/cancel")),
        json!({"reason": "the judge is ill; a new date will be set"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["cancelled"], true);
    assert_eq!(
        v["cancel_reason"],
        "the judge is ill; a new date will be set"
    );

    // The pages: a departure is cleared only from its confirmation page.
    let (st, _) = send_json(
        &api,
        "PUT",
        url("/departure"),
        json!({"departure_on": in_days(20).to_string()}),
    )
    .await;
    assert_eq!(st, 200);
    let c = app.html_login("advocate@ngo.test").await;
    let csrf = app.csrf(&c).await;
    let r = c
        .post(app.url(&format!("/cases/{reference}/departure")))
        .form(&[("_csrf", csrf.as_str()), ("clear", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/cases/{reference}/departure/clear").as_str()
    );
    let (_, v) = get_json(&api, url("/proceedings")).await;
    assert!(!v["departure"].is_null(), "cleared without a confirmation");
    let (st, t) = text(&c, app.url(&format!("/cases/{reference}/departure/clear"))).await;
    assert_eq!(st, 200);
    assert!(
        t.contains(&in_days(20).to_string()) && t.contains("id=\"confirm-submit\""),
        "{t}"
    );
    let r = c
        .post(app.url(&format!("/cases/{reference}/departure/clear")))
        .form(&[("_csrf", csrf.as_str()), ("confirmed", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, v) = get_json(&api, url("/proceedings")).await;
    assert!(v["departure"].is_null(), "{v}");

    // Closing a proceeding: its page asks why; a blank reason is the page again.
    let close = format!("/cases/{reference}/proceedings/{pid}/close");
    let (st, t) = text(&c, app.url(&close)).await;
    assert_eq!(st, 200);
    assert!(
        t.contains("Tribunal de Lyon") && t.contains("name=\"reason\"") && t.contains(" required"),
        "{t}"
    );
    let r = c
        .post(app.url(&close))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("_back", close.as_str()),
            ("confirmed", "yes"),
            ("reason", " "),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("id=\"err-confirm-reason\"")
    );
    let r = c
        .post(app.url(&close))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("confirmed", "yes"),
            ("reason", "case dismissed"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, v) = get_json(&api, url("/proceedings")).await;
    assert_eq!(v["proceedings"][0]["open"], false);
    assert_eq!(v["proceedings"][0]["close_reason"], "case dismissed");

    // A consent: its confirmation names what ends with it; the reason is optional, kept
    // and encrypted. The API takes the reason too (and no body at all still works).
    let (_, k) = send_json(
        &api,
        "POST",
        url("/consents"),
        json!({"purpose": "shelter", "given_by": "person", "language": "en", "form_version": "v1"}),
    )
    .await;
    let kid = k["id"].as_str().unwrap().to_owned();
    let (st, _) = send_json(
        &api,
        "POST",
        url("/shares"),
        json!({"org_id": w.shelter, "purpose": "shelter", "consent_id": kid}),
    )
    .await;
    assert_eq!(st, 201);
    let (st, t) = text(
        &c,
        app.url(&format!("/cases/{reference}/consents/{kid}/withdraw")),
    )
    .await;
    assert_eq!(st, 200);
    assert!(
        t.contains("Les Tilleuls") && t.contains("Optional: the person never has to give a reason"),
        "{t}"
    );
    let (st, v) = send_json(
        &api,
        "POST",
        url(&format!("/consents/{kid}/withdraw")),
        json!({"reason": "told her caseworker by phone on Monday"}),
    )
    .await;
    assert_eq!((st, v["shares_ended"].as_u64()), (200, Some(1)), "{v}");
    let (_, v) = get_json(&api, url(&format!("/consents/{kid}"))).await;
    assert_eq!(
        v["withdrawn_reason"], "told her caseworker by phone on Monday",
        "{v}"
    );
    let (_, k2) = send_json(
        &api,
        "POST",
        url("/consents"),
        json!({"purpose": "medical", "given_by": "person", "language": "en", "form_version": "v1"}),
    )
    .await;
    let r = api
        .post(url(&format!(
            "/consents/{}/withdraw",
            k2["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "an empty body still withdraws");
    let raw = app.raw_database_bytes().await;
    for clear in [
        "told her caseworker by phone on Monday",
        "the judge is ill; a new date will be set",
        "case dismissed",
    ] {
        assert!(!contains(&raw, clear), "{clear:?} is stored in clear");
    }

    // Another organisation's case: its confirmation pages are not found.
    let other_org = app.org("Elsewhere", "victim_advocacy", "FR").await;
    app.user(other_org, "advocate@elsewhere.test", "advocate")
        .await;
    let stranger = app.html_login("advocate@elsewhere.test").await;
    for p in [
        format!("/cases/{reference}/consents/{kid}/withdraw"),
        format!("/cases/{reference}/hearings/{hid}/cancel"),
        format!("/cases/{reference}/proceedings/{pid}/close"),
        format!("/cases/{reference}/departure/clear"),
    ] {
        let (st, t) = text(&stranger, app.url(&p)).await;
        assert_eq!(st, 404, "{p}");
        assert!(
            !t.contains("Hope Reasonfield") && !t.contains("Tribunal de Lyon"),
            "{p}"
        );
    }
}
