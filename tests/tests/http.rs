//! Sessions, sign-in, CSRF, bad input, conflicts, languages, the API document.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_tests::{
    PASSWORD, client, hidden_csrf, postgres_admin_url, spawn_app, spawn_app_with,
};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_without_authentication() {
    let app = spawn_app().await;
    let r = client().get(app.url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_and_disabling_revoke_sessions_at_once() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "admin@ngo.test", "org_admin").await;
    let adv = app.api_login("advocate@ngo.test").await;
    assert_eq!(
        adv.get(app.url("/api/v1/cases"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Logout ends the session server-side: the old cookie no longer works.
    let jar_copy = app.api_login("advocate@ngo.test").await;
    assert_eq!(
        jar_copy
            .post(app.url("/api/v1/auth/logout"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        jar_copy
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    // Disabling the user ends their other sessions at once.
    let admin = app.api_login("admin@ngo.test").await;
    let users: Value = admin
        .get(app.url("/api/v1/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "advocate@ngo.test")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = admin
        .patch(app.url(&format!("/api/v1/users/{id}")))
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        adv.get(app.url("/api/v1/cases"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    // And they cannot sign in again.
    let r = client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "advocate@ngo.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_logout_ends_the_session() {
    let app = spawn_app().await;
    app.world().await;
    let c = app.html_login("advocate@ngo.test").await;
    let csrf = app.csrf(&c).await;
    assert_eq!(c.get(app.url("/cases")).send().await.unwrap().status(), 200);
    let r = c
        .post(app.url("/logout"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = c.get(app.url("/cases")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_after_six_failures_without_revealing_the_account() {
    // The account's own lock: the limit per address (tests/tests/limits.rs) set apart.
    let app = spawn_app_with(postgres_admin_url(), |s| {
        s.limits.sign_in_failures_per_address = 1000;
    })
    .await;
    app.world().await;
    let c = client();
    let attempt = |email: &'static str, password: &'static str| {
        let c = c.clone();
        let url = app.url("/api/v1/auth/login");
        async move {
            let r = c
                .post(url)
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s_known, body_known) = attempt("advocate@ngo.test", "wrong password").await;
    let (s_unknown, body_unknown) = attempt("nobody@ngo.test", "wrong password").await;
    assert_eq!((s_known, s_unknown), (401, 401));
    assert_eq!(
        body_known, body_unknown,
        "the answer must not reveal whether the account exists"
    );
    for _ in 0..5 {
        attempt("advocate@ngo.test", "wrong password").await;
        attempt("nobody@ngo.test", "wrong password").await;
    }
    // Now locked: even the right password is refused, with the same message.
    let (s, body) = attempt("advocate@ngo.test", PASSWORD).await;
    assert_eq!(s, 401);
    assert_eq!(body, body_unknown);
    // Other accounts are not affected.
    app.user(
        app.services.list_orgs().await.unwrap()[0].id,
        "other@ngo.test",
        "advocate",
    )
    .await;
    let (s, _) = attempt("other@ngo.test", PASSWORD).await;
    assert_eq!(s, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    app.world().await;
    let c = app.html_login("advocate@ngo.test").await;
    let r = c
        .post(app.url("/cases"))
        .form(&[("name", "No Token")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post(app.url("/cases"))
        .form(&[("name", "Bad Token"), ("_csrf", "0000")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("expired"));
    let list: Value = app
        .api_login("advocate@ngo.test")
        .await
        .get(app.url("/api/v1/cases"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0, "nothing was created");
    // The login form has its own token (login CSRF).
    let r = client()
        .post(app.url("/login"))
        .form(&[("email", "advocate@ngo.test"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // JSON calls must be JSON: a form post to the API is refused.
    let api = app.api_login("advocate@ngo.test").await;
    let r = api
        .post(app.url("/api/v1/cases"))
        .form(&[("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_cannot_change_their_own_role_or_organisation() {
    let app = spawn_app().await;
    let w = app.world().await;
    let admin_id = app.user(w.ngo, "admin@ngo.test", "org_admin").await;
    let admin = app.api_login("admin@ngo.test").await;
    let r = admin
        .patch(app.url(&format!("/api/v1/users/{admin_id}")))
        .json(&json!({"role": "system_admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "{}", r.text().await.unwrap());
    let r = admin
        .patch(app.url(&format!("/api/v1/users/{admin_id}")))
        .json(&json!({"role": "advocate"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // An org admin cannot create a system admin, nor users elsewhere.
    let r = admin
        .post(app.url("/api/v1/users"))
        .json(&json!({"org_id": w.ngo, "email": "x@ngo.test", "display_name": "X", "role": "system_admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = admin
        .post(app.url("/api/v1/users"))
        .json(&json!({"org_id": w.shelter, "email": "x@ngo.test", "display_name": "X", "role": "advocate", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The account page ignores anything but name and password.
    let html = app.html_login("advocate@ngo.test").await;
    let csrf = app.csrf(&html).await;
    let r = html
        .post(app.url("/account"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("display_name", "Renamed"),
            ("role", "system_admin"),
            ("org_id", "2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let me: Value = app
        .api_login("advocate@ngo.test")
        .await
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["display_name"], "Renamed");
    assert_eq!(me["role"], "advocate");
    assert_eq!(me["org_id"], w.ngo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_4xx() {
    let app = spawn_app().await;
    app.world().await;
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Bad Input Person").await;
    let post = |path: &str, body: Value| api.post(app.url(path)).json(&body).send();

    // Missing field.
    let r = post("/api/v1/cases", json!({"person": {}})).await.unwrap();
    assert_eq!(r.status(), 400);
    let b: Value = r.json().await.unwrap();
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("missing field `name`"),
        "{b}"
    );
    // Empty required field.
    let r = post("/api/v1/cases", json!({"person": {"name": "  "}}))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["field"], "name");
    assert!(b["message"].as_str().unwrap().contains("required"));
    // Wrong type.
    let r = post("/api/v1/cases", json!({"person": {"name": 42}}))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("invalid type"));
    // Bad values: a future birth date, a bad country, both nationality and stateless.
    for (person, field) in [
        (
            json!({"name": "A", "birth_date": "2999-01-01"}),
            "birth_date",
        ),
        (
            json!({"name": "A", "birth_date": "12/03/1990"}),
            "birth_date",
        ),
        (
            json!({"name": "A", "nationality": "Nigeria"}),
            "nationality",
        ),
        (
            json!({"name": "A", "nationality": "NG", "stateless": true}),
            "nationality",
        ),
    ] {
        let r = post("/api/v1/cases", json!({"person": person}))
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{person}");
        assert_eq!(r.json::<Value>().await.unwrap()["field"], field);
    }
    // Not JSON at all.
    let r = api
        .post(app.url("/api/v1/cases"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Oversized body.
    let big = "x".repeat(70_000);
    let r = post(
        "/api/v1/cases",
        json!({"person": {"name": "A", "notes": big}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("limit"));
    // Unknown ids: case, consent, share, user, endpoint.
    assert_eq!(
        api.get(app.url("/api/v1/cases/PSG-2026-9999"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        api.get(app.url("/api/v1/cases/not-a-reference"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        post(
            &format!("/api/v1/cases/{reference}/consents/999/withdraw"),
            json!({})
        )
        .await
        .unwrap()
        .status(),
        404
    );
    assert_eq!(
        post(
            &format!("/api/v1/cases/{reference}/shares/999/end"),
            json!({})
        )
        .await
        .unwrap()
        .status(),
        404
    );
    assert_eq!(
        post(
            &format!("/api/v1/cases/{reference}/consents/abc/withdraw"),
            json!({})
        )
        .await
        .unwrap()
        .status(),
        404
    );
    assert_eq!(
        api.get(app.url("/api/v1/nothing"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Bad query.
    let r = api
        .get(app.url("/api/v1/cases?scope=everything"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = api
        .get(app.url("/api/v1/cases?page=minus"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Share without consent, and to one's own organisation.
    let orgs: Value = api
        .get(app.url("/api/v1/organisations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shelter = orgs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "shelter")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = post(
        &format!("/api/v1/cases/{reference}/shares"),
        json!({"org_id": shelter, "purpose": "shelter"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("consent")
    );
    // Stale version.
    let v: Value = api
        .get(app.url(&format!("/api/v1/cases/{reference}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let version = v["summary"]["version"].as_i64().unwrap();
    let put = |ver: i64| {
        api.put(app.url(&format!("/api/v1/cases/{reference}/person")))
            .json(&json!({"version": ver, "person": {"name": "Bad Input Person", "notes": format!("v{ver}")}}))
            .send()
    };
    assert_eq!(put(version).await.unwrap().status(), 200);
    let r = put(version).await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(
        r.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("changed by someone else")
    );
    // Nothing half-written: the stale edit did not land.
    let v: Value = api
        .get(app.url(&format!("/api/v1/cases/{reference}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["summary"]["version"], version + 1);
    assert_eq!(v["person"]["notes"], format!("v{version}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_on_pages_is_explained_in_the_users_language() {
    let app = spawn_app().await;
    app.world().await;
    let c = app.html_login("advocate@ngo.test").await;
    let csrf = app.csrf(&c).await;
    let r = c
        .post(app.url("/cases"))
        .header("Accept-Language", "fr-FR,fr;q=0.9")
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", "Personne"),
            ("birth_date", "2999-01-01"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let t = r.text().await.unwrap();
    assert!(
        t.contains("Date de naissance") && t.contains("ne peut pas être dans le futur"),
        "{t}"
    );
    // The same in English.
    let r = c
        .post(app.url("/cases"))
        .header("Accept-Language", "en")
        .form(&[("_csrf", csrf.as_str()), ("name", ""), ("birth_date", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let t = r.text().await.unwrap();
    assert!(t.contains("Name — is required"), "{t}");
    // Stale version on the edit form: 409 with an explanation.
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Form Person").await;
    let edit = |v: &'static str| {
        c.post(app.url(&format!("/cases/{reference}/person")))
            .header("Accept-Language", "en")
            .form(&[
                ("_csrf", csrf.as_str()),
                ("version", v),
                ("name", "Form Person"),
            ])
            .send()
    };
    assert_eq!(edit("1").await.unwrap().status(), 303);
    let r = edit("1").await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("changed by someone else"));
    // Unknown pages and cases.
    let r = c
        .get(app.url("/cases/PSG-2026-9999"))
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Ce dossier n&#x27;existe pas")
    );
    let r = c.get(app.url("/nowhere")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = c.get(app.url("/cases?page=0")).send().await.unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_follow_the_browser_language_and_the_switch() {
    let app = spawn_app().await;
    let c = client();
    let fr = c
        .get(app.url("/login"))
        .header("Accept-Language", "fr-CH, fr;q=0.9, en;q=0.8")
        .send()
        .await
        .unwrap();
    let t = fr.text().await.unwrap();
    assert!(t.contains("<html lang=\"fr\">") && t.contains("Connexion"));
    let en = c
        .get(app.url("/login"))
        .header("Accept-Language", "de, en;q=0.5")
        .send()
        .await
        .unwrap();
    assert!(en.text().await.unwrap().contains("Sign in"));
    // The switch sets a cookie that wins over the header, and only redirects locally.
    let r = c.get(app.url("/lang/fr?next=/login")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
    let t = c
        .get(app.url("/login"))
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(t.contains("Connexion"));
    let r = c
        .get(app.url("/lang/en?next=//evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/");
    assert_eq!(
        c.get(app.url("/lang/xx")).send().await.unwrap().status(),
        404
    );
    // A filtered list comes back as it was after switching.
    let r = c
        .get(app.url("/lang/fr?next=%2Fcases%3Fscope%3Dorg%26stage%3Dclosed"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/cases?scope=org&stage=closed");
    app.world().await;
    let signed = app.html_login("advocate@ngo.test").await;
    let t = signed
        .get(app.url("/cases?scope=org&stage=closed"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        t.contains("next=/cases%3Fscope%3Dorg%26stage%3Dclosed"),
        "{t}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_caseload_filters_and_paginates() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "second@ngo.test", "advocate").await;
    let api = app.api_login("advocate@ngo.test").await;
    for i in 0..55 {
        app.create_case(&api, &format!("Person {i}")).await;
    }
    let other = app.api_login("second@ngo.test").await;
    app.create_case(&other, "Someone Else").await;
    let get = |q: &str| {
        let url = app.url(&format!("/api/v1/cases?{q}"));
        let api = api.clone();
        async move {
            api.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let mine = get("scope=mine&per_page=50").await;
    assert_eq!(mine["total"], 55);
    assert_eq!(mine["items"].as_array().unwrap().len(), 50);
    assert_eq!(mine["pages"], 2);
    let page2 = get("scope=mine&per_page=50&page=2").await;
    assert_eq!(page2["items"].as_array().unwrap().len(), 5);
    let org = get("scope=org").await;
    assert_eq!(org["total"], 56);
    assert_eq!(get("scope=org&stage=referred").await["total"], 56);
    assert_eq!(get("scope=org&stage=closed").await["total"], 0);
    let r = api
        .get(app.url("/api/v1/cases?stage=flying"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("referred"));
    // The HTML caseload, page 2, with its pager.
    let html = app.html_login("advocate@ngo.test").await;
    let t = html
        .get(app.url("/cases?scope=mine&page=2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        t.contains("Page 2 of 2") && t.contains("rel=\"prev\""),
        "{t}"
    );
    assert!(
        !t.contains("Person 54") && !t.contains("Person 0"),
        "no personal data in the caseload"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_case_page_flow_through_html_forms() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.shelter, "coord@shelter.test", "shelter_coordinator")
        .await;
    let c = app.html_login("advocate@ngo.test").await;
    let csrf = app.csrf(&c).await;
    let form = hidden_csrf(
        &c.get(app.url("/cases/new"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(form, csrf);
    let r = c
        .post(app.url("/cases"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", "Form Flow Person"),
            ("is_minor", "on"),
            ("birth_date", "2012-05-01"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(loc.starts_with("/cases/PSG-"), "{loc}");
    let reference = loc.trim_start_matches("/cases/").to_owned();
    let page = c.get(app.url(&loc)).send().await.unwrap();
    assert_eq!(page.headers()["cache-control"], "no-store");
    let t = page.text().await.unwrap();
    assert!(t.contains("Form Flow Person") && t.contains("Child"));
    // Consent, then share with the shelter: the coordinator sees the case; withdraw: gone.
    let r = c
        .post(app.url(&format!("/cases/{reference}/consents")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("purpose", "shelter"),
            ("given_by", "guardian"),
            ("language", "fr"),
            ("form_version", "2026-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let consent_id = c
        .get(app.url(&format!("/api/v1/cases/{reference}")))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["consents"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let shelter = w.shelter.to_string();
    let r = c
        .post(app.url(&format!("/cases/{reference}/shares")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("org_id", shelter.as_str()),
            ("purpose", "shelter"),
            ("consent_id", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "no consent chosen");
    let r = c
        .post(app.url(&format!("/cases/{reference}/shares")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("org_id", shelter.as_str()),
            ("purpose", "medical"),
            ("consent_id", consent_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "consent for another purpose");
    let r = c
        .post(app.url(&format!("/cases/{reference}/shares")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("org_id", shelter.as_str()),
            ("purpose", "shelter"),
            ("consent_id", consent_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let coord = app.html_login("coord@shelter.test").await;
    let t = coord
        .get(app.url(&format!("/cases/{reference}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(t.contains("Form Flow Person") && t.contains("shared with us"));
    // Withdrawing asks first, and says that the shelter's share ends.
    let withdraw = format!("/cases/{reference}/consents/{consent_id}/withdraw");
    let r = c
        .post(app.url(&withdraw))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], withdraw.as_str());
    let confirm = c.get(app.url(&withdraw)).send().await.unwrap();
    assert_eq!(confirm.status(), 200);
    let confirm = confirm.text().await.unwrap();
    assert!(
        confirm.contains("The share with Les Tilleuls") && confirm.contains("lose access"),
        "{confirm}"
    );
    assert!(
        coord
            .get(app.url(&format!("/cases/{reference}")))
            .send()
            .await
            .unwrap()
            .status()
            == 200,
        "nothing was withdrawn before the confirmation"
    );
    let r = c
        .post(app.url(&withdraw))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("confirmed", "yes"),
            ("reason", "she no longer wants the shelter to see her file"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/cases/{reference}#consents").as_str()
    );
    assert_eq!(
        coord
            .get(app.url(&format!("/cases/{reference}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let t = c
        .get(app.url(&format!("/cases/{reference}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(t.contains("withdrawn") && t.contains("ended"));
    assert!(
        t.contains("she no longer wants the shelter to see her file"),
        "the reason is kept with the consent"
    );
    // The audit page lists what happened.
    let t = c
        .get(app.url(&format!("/cases/{reference}/audit")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(t.contains("withdraw") && t.contains("coord"), "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_api_route() {
    let app = spawn_app().await;
    let doc: Value = client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/auth/login",
        "/api/v1/cases",
        "/api/v1/cases/{reference}",
        "/api/v1/cases/{reference}/person",
        "/api/v1/cases/{reference}/consents",
        "/api/v1/cases/{reference}/shares",
        "/api/v1/cases/{reference}/audit",
        "/api/v1/search",
        "/api/v1/users/{id}",
        "/api/v1/cases/{reference}/identification",
        "/api/v1/cases/{reference}/interviews/{id}/answers",
        "/api/v1/cases/{reference}/determinations/trafficking",
        "/api/v1/cases/{reference}/determinations/smuggling",
        "/api/v1/deadlines",
        "/api/v1/referrals",
        "/api/v1/referrals/{id}/accept",
        "/api/v1/cases/{reference}/care",
        "/api/v1/cases/{reference}/placements",
        "/api/v1/cases/{reference}/proceedings",
        "/api/v1/cases/{reference}/proceedings/{id}/hearings",
        "/api/v1/cases/{reference}/proceedings/{id}/measures",
        "/api/v1/cases/{reference}/measures/{id}/decision",
        "/api/v1/cases/{reference}/departure",
        "/api/v1/returns",
        "/api/v1/cases/{reference}/return",
        "/api/v1/cases/{reference}/return/move",
        "/api/v1/cases/{reference}/return/citizenship/{id}/answer",
        "/api/v1/cases/{reference}/return/legs",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from the OpenAPI document"
        );
    }
    assert_eq!(
        paths.len(),
        passerelle::routes::api::documented_paths().len()
    );
    assert!(doc["components"]["schemas"]["CaseView"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_for_every_role_in_both_languages() {
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
    let api = app.api_login("advocate@ngo.test").await;
    let reference = app.create_case(&api, "Rendered Person").await;
    let pages = [
        "/cases".to_owned(),
        "/cases?scope=org".to_owned(),
        "/cases/new".to_owned(),
        format!("/cases/{reference}"),
        format!("/cases/{reference}/edit"),
        format!("/cases/{reference}/audit"),
        "/admin/organisations".to_owned(),
        "/admin/users".to_owned(),
        "/account".to_owned(),
        "/deadlines".to_owned(),
        "/referrals".to_owned(),
        format!("/cases/{reference}/identification"),
        format!("/cases/{reference}/care"),
        format!("/cases/{reference}/proceedings"),
        format!("/cases/{reference}/return"),
        "/returns".to_owned(),
    ];
    let mut all = vec!["advocate".to_owned()];
    all.extend(roles.iter().map(|r| r.to_string()));
    for role in all {
        let c = app.html_login(&format!("{role}@ngo.test")).await;
        for lang in ["en", "fr"] {
            for p in &pages {
                let r = c
                    .get(app.url(p))
                    .header("Accept-Language", lang)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let text = r.text().await.unwrap();
                assert!(
                    matches!(status, 200 | 403),
                    "{role} {lang} {p}: {status} {text}"
                );
                assert!(
                    text.contains(&format!("<html lang=\"{lang}\">")),
                    "{role} {lang} {p}: {text}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_after_the_idle_and_absolute_timeouts() {
    for which in ["idle", "absolute"] {
        let app = passerelle_tests::spawn_app_with(passerelle_tests::postgres_admin_url(), |s| {
            if which == "idle" {
                s.security.idle_timeout_minutes = 0;
            } else {
                s.security.absolute_timeout_hours = 0;
            }
        })
        .await;
        app.world().await;
        let c = app.api_login("advocate@ngo.test").await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
        assert_eq!(r.status(), 401, "{which} timeout");
    }
    // With the defaults the same session lives on.
    let app = spawn_app().await;
    app.world().await;
    let c = app.api_login("advocate@ngo.test").await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(
        c.get(app.url("/api/v1/me")).send().await.unwrap().status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_lookup_touches_at_most_once_a_minute_and_ends_with_its_organisation() {
    use passerelle_core::store::First;
    use passerelle_core::store::entity::{organisation, session};
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let app = spawn_app().await;
    let w = app.world().await;
    let r = client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "advocate@ngo.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token = r
        .cookies()
        .find(|c| c.name() == "passerelle")
        .map(|c| c.value().to_owned())
        .unwrap();
    let db = &app.services.db;
    let found = app.services.session(&token).await.unwrap().unwrap();
    assert_eq!(found.actor.email, "advocate@ngo.test");
    assert_eq!(found.actor.org_id, w.ngo);
    assert_eq!(found.actor.role, passerelle_core::domain::Role::Advocate);
    assert!(!found.csrf_token.is_empty());
    let last_seen = || async {
        session::Entity::find_by_id(found.session_id)
            .first(db)
            .await
            .unwrap()
            .map(|s| s.last_seen_at)
    };
    let set_last_seen = |at: chrono::DateTime<chrono::Utc>| async move {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(at))
            .filter(session::Column::Id.eq(found.session_id))
            .exec(db)
            .await
            .unwrap();
    };
    // Seen 10 s ago: not touched. (Microseconds: what PostgreSQL keeps.)
    let recent = chrono::Utc::now() - chrono::Duration::seconds(10);
    let recent = chrono::DateTime::from_timestamp_micros(recent.timestamp_micros()).unwrap();
    set_last_seen(recent).await;
    assert!(app.services.session(&token).await.unwrap().is_some());
    assert_eq!(last_seen().await, Some(recent));
    // Seen 2 minutes ago: touched.
    let before = chrono::Utc::now();
    set_last_seen(before - chrono::Duration::minutes(2)).await;
    assert!(app.services.session(&token).await.unwrap().is_some());
    assert!(last_seen().await.unwrap() >= before);
    // A disabled organisation ends its users' sessions.
    organisation::Entity::update_many()
        .col_expr(organisation::Column::Active, Expr::value(false))
        .filter(organisation::Column::Id.eq(w.ngo))
        .exec(db)
        .await
        .unwrap();
    assert!(app.services.session(&token).await.unwrap().is_none());
    assert_eq!(last_seen().await, None, "the session row is deleted");
    assert!(app.services.session("not-a-token").await.unwrap().is_none());
}

/// The caseload page query reads the page's rows in index order (SQLite's plan has no
/// sort step) for "mine" and for the organisation scope of a non-caseworker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_caseload_page_query_reads_in_index_order() {
    use passerelle_core::Actor;
    use passerelle_core::domain::{Role, Stage};
    use passerelle_core::service::cases::{Scope, caseload_page_statement};
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    let app = spawn_app().await;
    let db = &app.services.db;
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let w = app.world().await;
    let actor = |role| Actor {
        user_id: 1,
        org_id: w.ngo,
        role,
        display_name: "x".into(),
        email: "x@ngo.test".into(),
    };
    for (who, scope, stage, index) in [
        (
            actor(Role::Advocate),
            Scope::Mine,
            None,
            // The open cases (closed ones leave the caseload, issue 16): migration 000010.
            "idx_cases_advocate_open",
        ),
        (
            actor(Role::Advocate),
            Scope::Mine,
            Some(Stage::Referred),
            "idx_cases_advocate_activity",
        ),
        (
            actor(Role::OrgAdmin),
            Scope::Organisation,
            None,
            "idx_cases_owner_open",
        ),
    ] {
        let st = caseload_page_statement(&who, scope, stage, 2, 50, DbBackend::Sqlite);
        // The limit and offset are in the SQL text, not bound: SQLite re-prepares a
        // statement with a bound LIMIT every time it runs (see store::First).
        assert!(st.sql.ends_with(" LIMIT 50 OFFSET 50"), "{}", st.sql);
        let bound = st.values.as_ref().map_or(0, |v| v.0.len());
        assert_eq!(bound, st.sql.matches('?').count(), "{}", st.sql);
        assert_eq!(bound, usize::from(stage.is_some()) + 1, "{}", st.sql);
        let plan = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                format!("EXPLAIN QUERY PLAN {}", st.sql),
                st.values.map(|v| v.0).unwrap_or_default(),
            ))
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String>("", "detail").unwrap())
            .collect::<Vec<_>>()
            .join(" / ");
        assert!(plan.contains(index), "{scope:?} {stage:?}: {plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{scope:?} {stage:?}: {plan}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_all_succeed_with_unique_references() {
    let app = spawn_app().await;
    app.world().await;
    let c = app.api_login("advocate@ngo.test").await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let c = c.clone();
        let url = app.url("/api/v1/cases");
        tasks.push(tokio::spawn(async move {
            let r = c
                .post(url)
                .json(&json!({"person": {"name": format!("Concurrent {i}")}}))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }));
    }
    let mut refs = std::collections::HashSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 201, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        refs.insert(v["summary"]["reference"].as_str().unwrap().to_owned());
    }
    assert_eq!(refs.len(), 24, "references are unique");
    // Concurrent edits of one case: exactly one wins per version, the others get 409.
    let reference = refs.iter().next().unwrap().clone();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let c = c.clone();
        let url = app.url(&format!("/api/v1/cases/{reference}/person"));
        tasks.push(tokio::spawn(async move {
            c.put(url)
                .json(&json!({"version": 1, "person": {"name": format!("Edit {i}")}}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
    match passerelle_core::service::audit::verify_chain(&app.services.db)
        .await
        .unwrap()
    {
        passerelle_core::service::audit::Verified::Intact { .. } => {}
        other => panic!("audit chain after concurrent writes: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_manages_users_through_the_pages() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "admin@ngo.test", "org_admin").await;
    let c = app.html_login("admin@ngo.test").await;
    let csrf = app.csrf(&c).await;
    let org = w.ngo.to_string();
    let r = c
        .post(app.url("/admin/users"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("org_id", org.as_str()),
            ("email", "new@ngo.test"),
            ("display_name", "New Colleague"),
            ("role", "advocate"),
            ("password", "another long one"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let list: Value = app
        .api_login("admin@ngo.test")
        .await
        .get(app.url("/api/v1/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "new@ngo.test")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let page = c
        .get(app.url("/admin/users"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("action=\"/admin/users/{id}\"")) && page.contains("Change role")
    );
    let r = c
        .post(app.url(&format!("/admin/users/{id}")))
        .form(&[("_csrf", csrf.as_str()), ("role", "auditor")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // Disabling asks first: without the confirmation nothing changes, and the browser
    // goes to the page that says what disabling does.
    let r = c
        .post(app.url(&format!("/admin/users/{id}")))
        .form(&[("_csrf", csrf.as_str()), ("active", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/admin/users/{id}/disable").as_str()
    );
    let confirm = c
        .get(app.url(&format!("/admin/users/{id}/disable")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        confirm.contains("New Colleague") && confirm.contains("no longer be able to sign in"),
        "{confirm}"
    );
    assert!(confirm.contains("name=\"confirmed\" value=\"yes\""));
    let r = c
        .post(app.url(&format!("/admin/users/{id}")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("active", "false"),
            ("confirmed", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/admin/users");
    let list: Value = app
        .api_login("admin@ngo.test")
        .await
        .get(app.url("/api/v1/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let u = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "new@ngo.test")
        .unwrap()
        .clone();
    assert_eq!(
        (u["role"].as_str(), u["active"].as_bool()),
        (Some("auditor"), Some(false))
    );
    // A bad value is explained, not a 500.
    let r = c
        .post(app.url(&format!("/admin/users/{id}")))
        .header("Accept-Language", "fr")
        .form(&[("_csrf", csrf.as_str()), ("role", "overlord")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("overlord"));
}
