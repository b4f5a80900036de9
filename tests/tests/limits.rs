//! Rate limits (issue 15, point 2; acceptance 5), over HTTP: the 7th failed sign-in from
//! one address within a minute gets 429 with `Retry-After`, on the API and on the page
//! (in the user's language); a forged `X-Forwarded-For` changes nothing without a trusted
//! proxy, and with one, what the proxy forwards is the address counted; the search is
//! limited per account as well as per address; sign-in links per address.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_tests::{
    PASSWORD, TestApp, World, client, hidden_csrf, postgres_admin_url, spawn_app, spawn_app_with,
};
use reqwest::Client;
use serde_json::{Value, json};

async fn api_attempt(
    app: &TestApp,
    c: &Client,
    email: &str,
    password: &str,
    forwarded: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut r = c
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}));
    if let Some(f) = forwarded {
        r = r.header("x-forwarded-for", f);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seventh_failed_sign_in_from_one_address_gets_429_and_a_forged_header_changes_nothing()
{
    let app = spawn_app().await;
    let _w: World = app.world().await;
    let c = client();
    // Six failures, each to another account (the accounts' own lock is not what stops
    // them), each claiming another address in a forged header: all 401.
    for i in 0..6 {
        let forged = format!("203.0.113.{i}");
        let (s, retry, _) = api_attempt(
            &app,
            &c,
            &format!("nobody{i}@ngo.test"),
            "wrong password",
            Some(&forged),
        )
        .await;
        assert_eq!((s, retry), (401, None), "failure {}", i + 1);
    }
    // The 7th, with yet another forged address and the right password of a real account:
    // 429, with how long to wait.
    let (s, retry, body) = api_attempt(
        &app,
        &c,
        "advocate@ngo.test",
        PASSWORD,
        Some("198.51.100.77"),
    )
    .await;
    assert_eq!(s, 429, "{body}");
    let secs: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&secs), "Retry-After: {secs}");
    assert_eq!(body["error"], "too_many_requests", "{body}");
    // The page says it in the user's language.
    let html = client();
    let page = html
        .get(app.url("/login"))
        .header("cookie", "lang=fr")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = hidden_csrf(&page);
    let r = html
        .post(app.url("/login"))
        .header("cookie", "lang=fr")
        .form(&[
            ("email", "advocate@ngo.test"),
            ("password", PASSWORD),
            ("_csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert!(
        r.headers().contains_key("content-security-policy"),
        "the refusal keeps the security headers"
    );
    let text = r.text().await.unwrap();
    assert!(
        text.contains("Trop de tentatives") && text.contains("Réessayez dans"),
        "{text}"
    );
    // Other requests from the address are served: only sign-in is limited.
    let r = c.get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_one_counted() {
    // The test client connects from 127.0.0.1: configured as the proxy.
    let app = spawn_app_with(postgres_admin_url(), |s| {
        s.limits.trusted_proxies = "127.0.0.1, ::1".into();
    })
    .await;
    app.world().await;
    let c = client();
    for i in 0..6 {
        let (s, _, _) = api_attempt(
            &app,
            &c,
            &format!("x{i}@ngo.test"),
            "wrong",
            Some("192.0.2.10"),
        )
        .await;
        assert_eq!(s, 401);
    }
    // That client is stopped, whatever it writes before the proxy's entry…
    let (s, _, _) = api_attempt(
        &app,
        &c,
        "advocate@ngo.test",
        PASSWORD,
        Some("10.9.9.9, 192.0.2.10"),
    )
    .await;
    assert_eq!(s, 429, "a client cannot get out by prepending an address");
    // …while another client behind the same proxy signs in.
    let (s, _, body) =
        api_attempt(&app, &c, "advocate@ngo.test", PASSWORD, Some("192.0.2.11")).await;
    assert_eq!(s, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_is_limited_per_account_and_sign_in_links_per_address() {
    let app = spawn_app_with(postgres_admin_url(), |s| {
        s.limits.search_per_account = 3;
        s.limits.sign_in_links_per_address = 2;
    })
    .await;
    let w = app.world().await;
    app.user(w.ngo, "second@ngo.test", "advocate").await;
    let api = app.api_login("advocate@ngo.test").await;
    let search = |c: Client| {
        let url = app.url("/api/v1/search");
        async move {
            let r = c
                .post(url)
                .json(&json!({"name": "Nobody"}))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.headers().contains_key("retry-after"))
        }
    };
    for _ in 0..3 {
        assert_eq!(search(api.clone()).await.0, 200);
    }
    assert_eq!(search(api.clone()).await, (429, true));
    // A second session of the same account is the same account.
    let again = app.api_login("advocate@ngo.test").await;
    assert_eq!(search(again).await.0, 429);
    // Another account searches.
    let other = app.api_login("second@ngo.test").await;
    assert_ne!(search(other).await.0, 429);
    // Sign-in links: the third request from the address is refused.
    let c = client();
    for _ in 0..2 {
        let r = c
            .post(app.url("/api/v1/auth/forgot"))
            .json(&json!({"email": "advocate@ngo.test"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
    let r = c
        .post(app.url("/api/v1/auth/forgot"))
        .json(&json!({"email": "advocate@ngo.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
}
