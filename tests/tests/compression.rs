//! Slow links (issue 17, point 9): pages and API answers are sent gzip-compressed to a
//! client that accepts it, and stay uncompressed for one that does not; case data keeps
//! `Cache-Control: no-store` either way. Measured on the demo world (the caseload page and
//! its API answer); the sizes are printed.
//!
//! Run: `cargo test -p passerelle-tests --test compression -- --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flate2::read::GzDecoder;
use passerelle::demo::DEMO_PASSWORD;
use passerelle_tests::{client, html_login_with, spawn_demo_app};
use reqwest::Client;
use std::io::Read;

/// The raw answer to GET `url` with or without `Accept-Encoding: gzip`: headers and bytes
/// as they crossed the wire.
async fn fetch(c: &Client, url: &str, gzip: bool) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let mut rq = c.get(url);
    rq = if gzip {
        rq.header("Accept-Encoding", "gzip")
    } else {
        rq.header("Accept-Encoding", "identity")
    };
    let r = rq.send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    let h = r.headers().clone();
    (h, r.bytes().await.unwrap().to_vec())
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Both answers of `url`: gzip when asked, the same bytes once decompressed, identity
/// otherwise, `no-store` on both. Returns (plain, compressed) sizes.
async fn compressed_like_plain(c: &Client, url: &str) -> (usize, usize) {
    let (plain_h, plain) = fetch(c, url, false).await;
    let (gz_h, gz) = fetch(c, url, true).await;
    assert_eq!(
        header(&plain_h, "content-encoding"),
        "",
        "{url} without gzip"
    );
    assert_eq!(header(&gz_h, "content-encoding"), "gzip", "{url}");
    for h in [&plain_h, &gz_h] {
        assert_eq!(header(h, "cache-control"), "no-store", "{url}");
    }
    assert!(
        header(&gz_h, "vary")
            .to_ascii_lowercase()
            .contains("accept-encoding"),
        "{url}: a cache must tell the two answers apart"
    );
    let mut back = Vec::new();
    GzDecoder::new(gz.as_slice())
        .read_to_end(&mut back)
        .unwrap_or_else(|e| panic!("{url}: not gzip: {e}"));
    assert_eq!(
        String::from_utf8_lossy(&back),
        String::from_utf8_lossy(&plain),
        "{url}: the compressed answer is the same page"
    );
    (plain.len(), gz.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_api_answers_are_gzip_compressed_when_accepted() {
    let (app, _) = spawn_demo_app().await;
    let pages = html_login_with(&app.address, "amelie@passage.example", DEMO_PASSWORD).await;
    let api = client();
    let r = api
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "amelie@passage.example", "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let (plain, gz) = compressed_like_plain(&pages, &app.url("/cases?scope=org")).await;
    eprintln!(
        "caseload page: {plain} bytes, {gz} gzip ({:.1}×)",
        plain as f64 / gz as f64
    );
    assert!(
        gz * 3 < plain,
        "the caseload page is at least 3× smaller: {plain} → {gz}"
    );

    let (plain, gz) = compressed_like_plain(&api, &app.url("/api/v1/cases?per_page=50")).await;
    eprintln!(
        "caseload API: {plain} bytes, {gz} gzip ({:.1}×)",
        plain as f64 / gz as f64
    );
    assert!(
        gz * 3 < plain,
        "the caseload answer is at least 3× smaller: {plain} → {gz}"
    );

    // A case file (page and API): case data, never cached, compressed too.
    let list: serde_json::Value = api
        .get(app.url("/api/v1/cases"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reference = list["items"][0]["reference"].as_str().unwrap().to_owned();
    let (plain, gz) = compressed_like_plain(&pages, &app.url(&format!("/cases/{reference}"))).await;
    eprintln!("case page: {plain} bytes, {gz} gzip");
    let (plain, gz) =
        compressed_like_plain(&api, &app.url(&format!("/api/v1/cases/{reference}"))).await;
    eprintln!("case API: {plain} bytes, {gz} gzip");

    // The stylesheet too (cached, so not no-store).
    let (h, _) = fetch(&pages, &app.url("/static/style.css"), true).await;
    assert_eq!(header(&h, "content-encoding"), "gzip");
}
