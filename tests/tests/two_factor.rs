//! Two-factor sign-in (issue 15, point 1; acceptance 2), over HTTP as a user's
//! authenticator application would be used: the codes are computed from the secret the
//! enrolment shows (`passerelle_core::two_factor::code_for_base32`, RFC 6238).
//!
//! - an organisation administrator (a role that must have one) is held at the enrolment
//!   until it is done; a wrong first code is refused naming `code`;
//! - sign-in then asks for a code (202), the session opens nothing before it; a current
//!   code opens it, the same code again is refused, a recovery code works once;
//! - re-authentication before the HTCDS export asks for the code as well;
//! - the pages: the password form leads to the code's page, the code to the start page,
//!   a wrong code is said in French.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use passerelle_core::two_factor::code_for_base32;
use passerelle_tests::{
    PASSWORD, TestApp, client, hidden_csrf, postgres_admin_url, send_json as send, spawn_app_with,
};
use reqwest::Client;
use serde_json::{Value, json};

const ADMIN: &str = "admin@ngo.test";

async fn app_requiring_two_factor() -> TestApp {
    spawn_app_with(postgres_admin_url(), |s| {
        s.security.two_factor_roles =
            "system_admin, org_admin, fund_manager, auditor, statistician".into();
    })
    .await
}

fn code_at(secret: &str, offset_seconds: i64) -> String {
    let t = u64::try_from(Utc::now().timestamp() + offset_seconds).unwrap();
    code_for_base32(secret, t).unwrap()
}

async fn password(app: &TestApp, email: &str) -> (Client, u16, Value) {
    let c = client();
    let r = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let st = r.status().as_u16();
    (c, st, r.json().await.unwrap_or(Value::Null))
}

/// Enrol `email` through the API; answers the secret (base32) and the recovery codes.
async fn enrol(app: &TestApp, c: &Client) -> (String, Vec<String>) {
    let (st, e) = send(c, "POST", app.url("/api/v1/me/two-factor"), json!({})).await;
    assert_eq!(st, 200, "{e}");
    let secret = e["secret"].as_str().unwrap().to_owned();
    assert!(
        e["otpauth_url"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Passerelle:")
    );
    let (st, v) = send(
        c,
        "POST",
        app.url("/api/v1/me/two-factor/confirm"),
        json!({"code": code_at(&secret, 0)}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let codes: Vec<String> = v["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_then_sign_in_with_a_code_used_once_and_recovery_codes() {
    let app = app_requiring_two_factor().await;
    let w = app.world().await;
    app.user(w.ngo, ADMIN, "org_admin").await;

    // Not enrolled yet: signed in, but held at the enrolment.
    let (c, st, _) = password(&app, ADMIN).await;
    assert_eq!(st, 200);
    let (st, v) = send(&c, "GET", app.url("/api/v1/cases"), json!(null)).await;
    assert_eq!(st, 403, "{v}");
    assert!(v["message"].as_str().unwrap().contains("two-factor"), "{v}");
    let (st, v) = send(&c, "GET", app.url("/api/v1/me/two-factor"), json!(null)).await;
    assert_eq!(
        (st, v["required"].as_bool(), v["enabled"].as_bool()),
        (200, Some(true), Some(false)),
        "{v}"
    );
    // The pages send them to the enrolment.
    let html = app_html_password(&app, ADMIN).await;
    let r = html.get(app.url("/cases")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/account/two-factor");

    // A wrong first code is refused, naming the field.
    let (st, e) = send(&c, "POST", app.url("/api/v1/me/two-factor"), json!({})).await;
    assert_eq!(st, 200);
    let secret = e["secret"].as_str().unwrap().to_owned();
    let wrong = if code_at(&secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (st, v) = send(
        &c,
        "POST",
        app.url("/api/v1/me/two-factor/confirm"),
        json!({"code": wrong}),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("code")), "{v}");
    // The right one turns it on, with ten recovery codes.
    let (st, v) = send(
        &c,
        "POST",
        app.url("/api/v1/me/two-factor/confirm"),
        json!({"code": code_at(&secret, 0)}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let recovery: Vec<String> = v["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    let (st, _) = send(&c, "GET", app.url("/api/v1/cases"), json!(null)).await;
    assert_eq!(st, 200, "enrolled: the session opens");
    // No second enrolment over the first.
    let (st, _) = send(&c, "POST", app.url("/api/v1/me/two-factor"), json!({})).await;
    assert_eq!(st, 409);

    // Sign-in now asks for a code; the session opens nothing before it.
    let (c2, st, v) = password(&app, ADMIN).await;
    assert_eq!(
        (st, v["second_factor"].as_str()),
        (202, Some("required")),
        "{v}"
    );
    let (st, _) = send(&c2, "GET", app.url("/api/v1/me"), json!(null)).await;
    assert_eq!(st, 401, "waiting for the code, the session is not open");
    // The code the enrolment used is refused (used once)…
    let (st, _) = send(
        &c2,
        "POST",
        app.url("/api/v1/auth/code"),
        json!({"code": code_at(&secret, 0)}),
    )
    .await;
    assert_eq!(st, 401, "a code already used");
    // …the next step's code opens it (one step of drift)…
    let next = code_at(&secret, 30);
    let (st, v) = send(
        &c2,
        "POST",
        app.url("/api/v1/auth/code"),
        json!({"code": next}),
    )
    .await;
    assert_eq!((st, v["email"].as_str()), (200, Some(ADMIN)), "{v}");
    let (st, _) = send(&c2, "GET", app.url("/api/v1/cases"), json!(null)).await;
    assert_eq!(st, 200);
    // …and cannot be used again.
    let (c3, st, _) = password(&app, ADMIN).await;
    assert_eq!(st, 202);
    let (st, _) = send(
        &c3,
        "POST",
        app.url("/api/v1/auth/code"),
        json!({"code": next}),
    )
    .await;
    assert_eq!(st, 401, "the same code twice");
    // A recovery code works instead, once.
    let (st, v) = send(
        &c3,
        "POST",
        app.url("/api/v1/auth/code"),
        json!({"code": recovery[3].to_lowercase()}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let (c4, _, _) = password(&app, ADMIN).await;
    let (st, _) = send(
        &c4,
        "POST",
        app.url("/api/v1/auth/code"),
        json!({"code": recovery[3]}),
    )
    .await;
    assert_eq!(st, 401, "a recovery code twice");
    let (st, v) = send(&c3, "GET", app.url("/api/v1/me/two-factor"), json!(null)).await;
    assert_eq!(
        (st, v["recovery_codes_left"].as_u64()),
        (200, Some(9)),
        "{v}"
    );
    // An advocate (not required) signs in with the password alone, and works.
    let (adv, st, _) = password(&app, "advocate@ngo.test").await;
    assert_eq!(st, 200);
    let (st, _) = send(&adv, "GET", app.url("/api/v1/cases"), json!(null)).await;
    assert_eq!(st, 200);
    // Until the organisation requires it of everyone: then the advocate enrols first.
    let (st, v) = send(
        &c3,
        "PATCH",
        app.url(&format!("/api/v1/organisations/{}", w.ngo)),
        json!({"require_two_factor": true}),
    )
    .await;
    assert_eq!(
        (st, v["require_two_factor"].as_bool()),
        (200, Some(true)),
        "{v}"
    );
    let (st, v) = send(&adv, "GET", app.url("/api/v1/cases"), json!(null)).await;
    assert_eq!(st, 403, "{v}");
    let (st, _) = send(
        &adv,
        "PATCH",
        app.url(&format!("/api/v1/organisations/{}", w.ngo)),
        json!({"require_two_factor": false}),
    )
    .await;
    assert_eq!(
        st, 403,
        "held at the enrolment, and not an administrator anyway"
    );
}

/// Sign in through the password form; answers the client (whatever the next step).
async fn app_html_password(app: &TestApp, email: &str) -> Client {
    let c = client();
    let html = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = hidden_csrf(&html);
    let r = c
        .post(app.url("/login"))
        .form(&[("email", email), ("password", PASSWORD), ("_csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_ask_for_the_code_and_re_authentication_asks_for_it_before_an_export() {
    let app = app_requiring_two_factor().await;
    let w = app.world().await;
    app.user(w.ngo, ADMIN, "org_admin").await;
    let (api, _, _) = password(&app, ADMIN).await;
    let (secret, recovery) = enrol(&app, &api).await;

    // Changing a role needs a re-authentication too, once a second factor is on.
    let (st, users) = send(&api, "GET", app.url("/api/v1/users"), json!(null)).await;
    assert_eq!(st, 200, "{users}");
    let advocate = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "advocate@ngo.test")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let role_change = || {
        send(
            &api,
            "PATCH",
            app.url(&format!("/api/v1/users/{advocate}")),
            json!({"role": "shelter_coordinator"}),
        )
    };
    let (st, v) = role_change().await;
    assert_eq!(st, 403, "{v}");
    assert!(v["message"].as_str().unwrap().contains("code again"), "{v}");
    // Re-authentication for the export: the password alone is not enough.
    let (st, v) = send(
        &api,
        "POST",
        app.url("/api/v1/session/reauth"),
        json!({"password": PASSWORD}),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("code")), "{v}");
    let r = api
        .post(app.url("/api/v1/exports/htcds"))
        .json(&json!({"format": "json"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "no export before re-authentication");
    let (st, v) = send(
        &api,
        "POST",
        app.url("/api/v1/session/reauth"),
        json!({"password": PASSWORD, "code": code_at(&secret, 30)}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let r = api
        .post(app.url("/api/v1/exports/htcds"))
        .json(&json!({"format": "json"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "re-authenticated with the code");
    let (st, v) = role_change().await;
    assert!(
        (200..300).contains(&st),
        "re-authenticated: the role changes ({st} {v})"
    );

    // The pages: the password leads to the code's page, in French here.
    let c = client();
    // French, as the language switch sets it.
    c.get(app.url("/lang/fr")).send().await.unwrap();
    let html = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = hidden_csrf(&html);
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("email", ADMIN),
            ("password", PASSWORD),
            ("_csrf", &token),
            ("next", "/cases"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/login/code"), "{to}");
    // Nothing opens meanwhile.
    let r = c.get(app.url("/cases")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    let page = c
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Code de votre authentificateur"), "{page}");
    let token = hidden_csrf(&page);
    // A used code, said in French.
    let r = c
        .post(app.url("/login/code"))
        .form(&[
            ("code", code_at(&secret, 30).as_str()),
            ("_csrf", &token),
            ("next", "/cases"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let page = r.text().await.unwrap();
    assert!(page.contains("a déjà servi"), "{page}");
    let token = hidden_csrf(&page);
    // A recovery code opens it instead, and the page goes on to where it was going.
    let r = c
        .post(app.url("/login/code"))
        .form(&[
            ("code", recovery[0].as_str()),
            ("_csrf", &token),
            ("next", "/cases"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/cases");
    let r = c.get(app.url("/cases")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // The administrator asks it of every user, on the users' page; an advocate is then
    // taken to the enrolment.
    let page = c
        .get(app.url("/admin/users"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"two-factor-form\""), "{page}");
    let r = c
        .post(app.url(&format!("/admin/organisations/{}/two-factor", w.ngo)))
        .form(&[
            ("_csrf", hidden_csrf(&page).as_str()),
            ("require_two_factor", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let adv = app_html_password(&app, "advocate@ngo.test").await;
    let r = adv.get(app.url("/cases")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/account/two-factor");
    let page = c
        .get(app.url("/admin/users"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = c
        .post(app.url(&format!("/admin/organisations/{}/two-factor", w.ngo)))
        .form(&[("_csrf", hidden_csrf(&page).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = adv.get(app.url("/cases")).send().await.unwrap();
    assert_eq!(r.status(), 200, "no longer required of the advocate");

    // Enrolment through the pages, by another administrator: the QR code is drawn on
    // the server, the secret can be typed, the first code shows the recovery codes.
    app.user(w.ngo, "admin2@ngo.test", "org_admin").await;
    let c = app_html_password(&app, "admin2@ngo.test").await;
    let r = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/account/two-factor");
    let page = c
        .get(app.url("/account/two-factor"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"two-factor-missing\""), "{page}");
    let r = c
        .post(app.url("/account/two-factor/start"))
        .form(&[("_csrf", hidden_csrf(&page).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = c.get(app.url("/account/two-factor")).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    assert!(
        page.contains("<svg role=\"img\""),
        "the QR code, inline: {page}"
    );
    let secret2 = page
        .split("id=\"two-factor-secret\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_owned();
    let r = c
        .post(app.url("/account/two-factor/confirm"))
        .form(&[
            ("_csrf", hidden_csrf(&page).as_str()),
            ("code", code_at(&secret2, 0).as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert_eq!(
        page.matches("<li><code translate=\"no\">").count(),
        10,
        "{page}"
    );
    let r = c.get(app.url("/cases")).send().await.unwrap();
    assert_eq!(r.status(), 200, "enrolled: the pages open");
}
