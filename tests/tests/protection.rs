//! Personal data at rest, integrity, and the audit trail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_tests::{
    Backend, contains, postgres_for_pg_only_tests, skip_or_fail, spawn_app, spawn_app_on,
};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

const NAME: &str = "Ngozi Quillfeather-Abara";
const ALIAS: &str = "Little Quillfeather";
const NOTE: &str = "recruited-in-Quillfeather-bar";

async fn create_distinctive(app: &passerelle_tests::TestApp) -> (reqwest::Client, String) {
    app.world().await;
    let adv = app.api_login("advocate@ngo.test").await;
    let r = adv
        .post(app.url("/api/v1/cases"))
        .json(
            &json!({"person": {"name": NAME, "aliases": ALIAS, "birth_date": "2001-07-14",
            "nationality": "NG", "languages": "Igbo", "contact": "+234 803 555 0199",
            "location": "Quillfeather street 12", "notes": NOTE}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let reference = r.json::<Value>().await.unwrap()["summary"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    // Read it back, so any cache or log of the read is in the database too.
    let v: Value = adv
        .get(app.url(&format!("/api/v1/cases/{reference}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["person"]["name"], NAME);
    (adv, reference)
}

fn assert_absent(bytes: &[u8], what: &str) {
    assert!(
        bytes.len() > 1000,
        "suspiciously little data: {} bytes",
        bytes.len()
    );
    for needle in [
        NAME,
        "Quillfeather",
        ALIAS,
        NOTE,
        "+234 803 555 0199",
        "2001-07-14",
    ] {
        assert!(
            !contains(bytes, needle),
            "{what}: found {needle:?} in clear"
        );
        assert!(
            !contains(bytes, &hex_of(needle)),
            "{what}: found {needle:?} hex-encoded"
        );
        assert!(
            !contains(bytes, &hex_of(needle).to_uppercase()),
            "{what}: found {needle:?} HEX-encoded"
        );
    }
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_fields_are_not_in_the_sqlite_file() {
    let app = spawn_app_on(None).await;
    let (_adv, _r) = create_distinctive(&app).await;
    // Make sure the WAL content is also in the main file for good measure, then read all.
    app.services
        .db
        .execute_unprepared("PRAGMA wal_checkpoint(FULL)")
        .await
        .unwrap();
    let bytes = app.raw_database_bytes().await;
    assert_absent(&bytes, "SQLite file");
    // The check can fail: the non-personal reference data is there in clear.
    assert!(contains(&bytes, "advocate@ngo.test"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_fields_are_not_in_the_postgresql_tables() {
    let url = postgres_for_pg_only_tests();
    if sea_orm::Database::connect(&url).await.is_err() {
        skip_or_fail("PostgreSQL");
        return;
    }
    let app = spawn_app_on(Some(url)).await;
    assert!(matches!(app.backend, Backend::Postgres { .. }));
    let (_adv, _r) = create_distinctive(&app).await;
    let bytes = app.raw_database_bytes().await;
    assert_absent(&bytes, "PostgreSQL tables");
    assert!(contains(&bytes, "advocate@ngo.test"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_ciphertext_fails_the_read_clearly() {
    let app = spawn_app().await;
    let (adv, reference) = create_distinctive(&app).await;
    let backend = app.services.db.get_database_backend();
    // Flip one byte of the encrypted name, in place.
    let row = app
        .services
        .db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT id, name_enc FROM persons".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    let id: String = row.try_get("", "id").unwrap();
    let mut blob: Vec<u8> = row.try_get("", "name_enc").unwrap();
    let last = blob.len() - 1;
    blob[last] ^= 0x01;
    let sql = match backend {
        DbBackend::Postgres => "UPDATE persons SET name_enc = $1 WHERE id = $2",
        _ => "UPDATE persons SET name_enc = ? WHERE id = ?",
    };
    app.services
        .db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [blob.into(), id.clone().into()],
        ))
        .await
        .unwrap();

    let r = adv
        .get(app.url(&format!("/api/v1/cases/{reference}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "integrity");
    let msg = body["message"].as_str().unwrap();
    assert!(
        msg.contains("persons.name") && msg.contains("integrity"),
        "{msg}"
    );
    assert!(!msg.contains("Ngozi"));

    // The page says so too, in the user's language, and shows nothing of the person.
    let html = app.html_login("advocate@ngo.test").await;
    let r = html
        .get(app.url(&format!("/cases/{reference}")))
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let text = r.text().await.unwrap();
    assert!(text.contains("contrôle d&#x27;intégrité"), "{text}");
    assert!(!text.contains("Ngozi") && !text.contains("Quillfeather"));

    // Moving a valid ciphertext to another person's row fails as well (row bound as AD).
    let other_ref = app.create_case(&adv, "Second Person").await;
    let rows = app
        .services
        .db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT id, aliases_enc FROM persons".to_owned(),
        ))
        .await
        .unwrap();
    let with_alias: Vec<_> = rows
        .iter()
        .filter_map(|r| {
            r.try_get::<Option<Vec<u8>>>("", "aliases_enc")
                .ok()
                .flatten()
        })
        .collect();
    assert_eq!(with_alias.len(), 1);
    let second_id: String = rows
        .iter()
        .map(|r| r.try_get::<String>("", "id").unwrap())
        .find(|x| *x != id)
        .unwrap();
    let sql = match backend {
        DbBackend::Postgres => "UPDATE persons SET aliases_enc = $1 WHERE id = $2",
        _ => "UPDATE persons SET aliases_enc = ? WHERE id = ?",
    };
    app.services
        .db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [with_alias[0].clone().into(), second_id.into()],
        ))
        .await
        .unwrap();
    let r = adv
        .get(app.url(&format!("/api/v1/cases/{other_ref}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(r.text().await.unwrap().contains("persons.aliases"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_name_search_uses_the_blind_index() {
    let app = spawn_app().await;
    let (adv, reference) = create_distinctive(&app).await;
    for q in [
        NAME,
        "  ngozi   quillfeather-abara ",
        "NGOZI QUILLFEATHER-ABARA",
    ] {
        let v: Value = adv
            .post(app.url("/api/v1/search"))
            .json(&json!({"name": q}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["items"].as_array().map(Vec::len), Some(1), "{q}: {v}");
        assert_eq!(v["items"][0]["reference"], reference.as_str());
        assert!(
            v["items"][0].get("person").is_none(),
            "search results carry no personal data"
        );
    }
    for q in ["Ngozi", "Quillfeather-Abara Ngozi"] {
        let v: Value = adv
            .post(app.url("/api/v1/search"))
            .json(&json!({"name": q}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            v["items"].as_array().map(Vec::len),
            Some(0),
            "{q}: exact match only"
        );
    }
    // The name never goes in a URL: the HTML search is a POST.
    let html = app.html_login("advocate@ngo.test").await;
    let csrf = app.csrf(&html).await;
    let page = html
        .post(app.url("/search"))
        .form(&[("_csrf", csrf.as_str()), ("name", NAME)])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(&reference));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_and_write_is_in_the_audit_trail() {
    let app = spawn_app().await;
    let (adv, reference) = create_distinctive(&app).await;
    let trail = |v: &Value| -> Vec<(String, String)> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["section"].as_str().unwrap().to_owned(),
                    e["action"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let v: Value = adv
        .get(app.url(&format!("/api/v1/cases/{reference}/audit")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = trail(&v);
    assert!(
        entries.contains(&("person".into(), "create".into())),
        "{entries:?}"
    );
    assert!(
        entries.contains(&("person".into(), "read".into())),
        "{entries:?}"
    );
    let reads_before = entries.iter().filter(|e| e.1 == "read").count();
    // An HTML read adds entries too, with its route and no personal data.
    let html = app.html_login("advocate@ngo.test").await;
    assert_eq!(
        html.get(app.url(&format!("/cases/{reference}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let v: Value = adv
        .get(app.url(&format!("/api/v1/cases/{reference}/audit")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = trail(&v);
    assert!(entries.iter().filter(|e| e.1 == "read").count() > reads_before);
    let text = v.to_string();
    assert!(text.contains("GET /cases/{reference}"), "{text}");
    assert!(
        text.contains("GET /api/v1/cases/{reference}/audit"),
        "the audit read is itself audited"
    );
    assert!(!text.contains("Ngozi") && !text.contains("Quillfeather"));
    // The whole chain verifies.
    match passerelle_core::service::audit::verify_chain(&app.services.db)
        .await
        .unwrap()
    {
        passerelle_core::service::audit::Verified::Intact { entries } => {
            assert!(entries >= 5, "{entries}")
        }
        other => panic!("{other:?}"),
    }
}
