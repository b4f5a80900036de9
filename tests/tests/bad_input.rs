//! Bad input that aims at the server rather than at a rule (issue 15): deeply nested JSON,
//! invalid UTF-8 in JSON and in a form, a huge header, an upload over its limit, and slow
//! clients that send their request a byte at a time. Each gets a 4xx (or its connection
//! closed), never a 500 and never a hang; meanwhile the others stay served.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_tests::spawn_app;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_and_headers_get_a_4xx_and_the_server_goes_on() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "admin@ngo.test", "org_admin").await;
    let api = app.api_login("advocate@ngo.test").await;
    let admin = app.api_login("admin@ngo.test").await;
    let post_raw = |c: &reqwest::Client, path: &str, ct: &str, body: Vec<u8>| {
        c.post(app.url(path))
            .header("content-type", ct.to_owned())
            .body(body)
            .send()
    };
    // JSON nested 20 000 deep (under the body limit): refused by the parser's depth
    // limit, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let r = post_raw(&api, "/api/v1/cases", "application/json", deep.into_bytes())
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "deep JSON");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "bad_request", "{body}");
    // Invalid UTF-8 inside a JSON string.
    let mut bad = br#"{"person": {"name": "Jos"#.to_vec();
    bad.extend_from_slice(&[0xE9, 0xFF]);
    bad.extend_from_slice(br#""}}"#);
    let r = post_raw(&api, "/api/v1/cases", "application/json", bad)
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "invalid UTF-8 in JSON");
    // Invalid UTF-8 in a page's form: the page says what is wrong.
    let html = app.html_login("advocate@ngo.test").await;
    let r = html
        .post(app.url("/cases/new"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"_csrf=x&name=Jos%E9%FF".to_vec())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    // A 100 KB header (under actix-http's 128 KiB buffer, over `limits.max_header_bytes`):
    // 431 before any handler runs.
    let r = api
        .get(app.url("/api/v1/cases"))
        .header("x-padding", "a".repeat(100_000))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431, "a 100 KB header");
    // A 200 KB header (past actix-http's 128 KiB buffer): refused before any handler runs.
    let r = api
        .get(app.url("/api/v1/cases"))
        .header("x-padding", "a".repeat(200_000))
        .send()
        .await;
    match r {
        Ok(r) => assert!(r.status().is_client_error(), "huge header: {}", r.status()),
        // Or the connection is closed on it.
        Err(e) => assert!(e.is_request() || e.is_connect() || e.is_body(), "{e}"),
    }
    // A caseload file over the upload limit (64 MiB): 413.
    let r = post_raw(
        &admin,
        "/api/v1/imports/cases/check",
        "text/csv",
        vec![b'a'; 65 * 1024 * 1024],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 413, "an upload over the limit");
    // Every answer was a 4xx; the server still serves a normal request.
    let r = api.get(app.url("/api/v1/cases")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_do_not_stop_the_others_being_served() {
    let app = spawn_app().await;
    app.world().await;
    let api = app.api_login("advocate@ngo.test").await;
    // 64 clients that open a connection and send their request a byte every 200 ms.
    let addr = format!("127.0.0.1:{}", app.port);
    let mut slow = Vec::new();
    for _ in 0..64 {
        let addr = addr.clone();
        slow.push(tokio::spawn(async move {
            let Ok(mut s) = TcpStream::connect(&addr).await else {
                return "refused";
            };
            let req = b"GET /api/v1/cases HTTP/1.1\r\nHost: x\r\nX-Slow: ";
            for b in req.iter().chain(std::iter::repeat_n(&b'a', 200)) {
                if s.write_all(&[*b]).await.is_err() {
                    return "closed by the server";
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let mut buf = [0u8; 64];
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => "closed by the server",
                Ok(_) => "answered",
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Meanwhile, normal requests are answered, each quickly.
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let t = Instant::now();
        let r = api.get(app.url("/api/v1/cases")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        slowest = slowest.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        slowest < Duration::from_secs(2),
        "a normal request waited {slowest:?} behind the slow clients"
    );
    // The slow ones are cut off by the server's request timeout, not left open forever.
    let mut cut = 0;
    for s in slow {
        if tokio::time::timeout(Duration::from_secs(60), s)
            .await
            .ok()
            .and_then(Result::ok)
            == Some("closed by the server")
        {
            cut += 1;
        }
    }
    assert_eq!(cut, 64, "every slow client is cut off by the server");
}
