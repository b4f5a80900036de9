//! Erasure and retention (issue 15, point 3, acceptance 3), over HTTP as the users would,
//! on SQLite and (with `PASSERELLE_TEST_DATABASE_URL`) PostgreSQL, in the demo world:
//!
//! - the administrator of the owning organisation erases a returned person's data on the
//!   page (keeping the case for statistics) and another's through the API (not keeping
//!   it); nobody else may (the advocate 403, another organisation's administrator 404),
//!   and a missing or unknown reason is a 422 naming `reason`, in the reader's language;
//! - afterwards none of the person's ciphertexts (name, birth date, contact, places, the
//!   return's itinerary, the follow-up's texts) nor the name's blind index are left in the
//!   database's bytes: the SQLite file and its WAL, or every PostgreSQL table and index
//!   file read from disk after a checkpoint; nor the name in clear;
//! - the case shows as erased to the owner and to the organisation it was handed over to
//!   (pages and API), edits are refused with 409, lists and home pages still work;
//! - the statistics export still counts the case kept, and no longer the other;
//! - the audit chain verifies, with one entry per erasure saying who and why;
//! - the cases past their retention period are listed for the administrator only, and an
//!   erasure for that reason needs the period to be over.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle::demo::DEMO_PASSWORD;
use passerelle_core::service::audit::{Verified, verify_chain};
use passerelle_core::store::First;
use passerelle_core::store::entity::{audit_log, case, person};
use passerelle_tests::{
    Backend, TestApp, contains, get_json, hidden_csrf, html_login_with, send_json, spawn_demo_app,
};
use reqwest::Client;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement, Value as DbValue,
};
use serde_json::{Value, json};

async fn login(app: &TestApp, email: &str) -> Client {
    html_login_with(&app.address, email, DEMO_PASSWORD).await
}

/// The case of a demo person, found as the test's own look-up (by the blind index).
async fn case_of(app: &TestApp, name: &str) -> (case::Model, person::Model) {
    let idx = app.services.keys.blind_index("person-name", name);
    let p = person::Entity::find()
        .filter(person::Column::NameIdx.eq(idx))
        .first(&app.services.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("demo person {name} missing"));
    let c = case::Entity::find()
        .filter(case::Column::PersonId.eq(p.id.clone()))
        .first(&app.services.db)
        .await
        .unwrap()
        .unwrap();
    (c, p)
}

/// Every stored ciphertext of the person and of the case's records that name or place
/// them, listed here independently of the erasure's own list: (where, bytes).
async fn secrets(app: &TestApp, c: &case::Model, p: &person::Model) -> Vec<(String, Vec<u8>)> {
    let db = &app.services.db;
    let backend = db.get_database_backend();
    let param = |backend: DbBackend| {
        if backend == DbBackend::Postgres {
            "$1"
        } else {
            "?"
        }
    };
    let q = param(backend);
    let returns = format!("return_id IN (SELECT id FROM returns WHERE case_id = {q})");
    let by_case = format!("case_id = {q}");
    let queries: Vec<(&str, &str, String, DbValue)> = vec![
        (
            "persons",
            "name_enc",
            format!("id = {q}"),
            p.id.clone().into(),
        ),
        (
            "persons",
            "birth_date_enc",
            format!("id = {q}"),
            p.id.clone().into(),
        ),
        (
            "persons",
            "contact_enc",
            format!("id = {q}"),
            p.id.clone().into(),
        ),
        (
            "persons",
            "location_enc",
            format!("id = {q}"),
            p.id.clone().into(),
        ),
        (
            "persons",
            "nationality_enc",
            format!("id = {q}"),
            p.id.clone().into(),
        ),
        (
            "persons",
            "languages_enc",
            format!("id = {q}"),
            p.id.clone().into(),
        ),
        (
            "persons",
            "notes_enc",
            format!("id = {q}"),
            p.id.clone().into(),
        ),
        (
            "persons",
            "gender_enc",
            format!("id = {q}"),
            p.id.clone().into(),
        ),
        (
            "case_elements",
            "elements_enc",
            by_case.clone(),
            c.id.into(),
        ),
        (
            "case_elements",
            "findings_enc",
            by_case.clone(),
            c.id.into(),
        ),
        ("interviews", "answers_enc", by_case.clone(), c.id.into()),
        (
            "trafficking_decisions",
            "basis_enc",
            by_case.clone(),
            c.id.into(),
        ),
        ("placements", "location_enc", by_case.clone(), c.id.into()),
        ("returns", "explained_by_enc", by_case.clone(), c.id.into()),
        (
            "returns",
            "early_departure_reason_enc",
            by_case.clone(),
            c.id.into(),
        ),
        (
            "risk_assessments",
            "findings_enc",
            returns.clone(),
            c.id.into(),
        ),
        ("itinerary_legs", "from_enc", returns.clone(), c.id.into()),
        ("itinerary_legs", "to_enc", returns.clone(), c.id.into()),
        (
            "travel_documents",
            "number_enc",
            returns.clone(),
            c.id.into(),
        ),
        (
            "follow_up_visits",
            "reason_enc",
            by_case.clone(),
            c.id.into(),
        ),
        (
            "reintegration_assessments",
            "note_enc",
            by_case.clone(),
            c.id.into(),
        ),
        (
            "reintegration_plan_items",
            "provider_enc",
            by_case.clone(),
            c.id.into(),
        ),
        (
            "reintegration_plan_items",
            "description_enc",
            by_case.clone(),
            c.id.into(),
        ),
        (
            "follow_up_alerts",
            "details_enc",
            by_case.clone(),
            c.id.into(),
        ),
    ];
    let mut out = Vec::new();
    for (table, column, cond, v) in queries {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!("SELECT {column} AS v FROM {table} WHERE {cond}"),
                [v],
            ))
            .await
            .unwrap_or_else(|e| panic!("{table}.{column}: {e}"));
        for r in rows {
            if let Ok(Some(b)) = r.try_get::<Option<Vec<u8>>>("", "v") {
                out.push((format!("{table}.{column}"), b));
            }
        }
    }
    out.push(("persons.name_idx".into(), p.name_idx.clone().into_bytes()));
    out
}

/// The bytes the database keeps on disk: the SQLite file and its WAL; on PostgreSQL,
/// every table, index and TOAST file of the test database, read from the server's disk
/// after a checkpoint (dead row versions included, unlike a dump).
async fn disk_bytes(app: &TestApp) -> Vec<u8> {
    match &app.backend {
        Backend::Sqlite => app.raw_database_bytes().await,
        Backend::Postgres { .. } => {
            let db = &app.services.db;
            db.execute_unprepared("CHECKPOINT").await.unwrap();
            let files = db
                .query_all_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT pg_relation_filepath(c.oid) AS f FROM pg_class c \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 'i', 't') \
                     AND pg_relation_filepath(c.oid) IS NOT NULL",
                ))
                .await
                .unwrap();
            assert!(
                files.len() > 40,
                "expected every table's file: {}",
                files.len()
            );
            let mut all = Vec::new();
            for f in files {
                let path: String = f.try_get("", "f").unwrap();
                let b = db
                    .query_one_raw(Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        "SELECT pg_read_binary_file($1, 0, 268435456, true) AS b",
                        [path.clone().into()],
                    ))
                    .await
                    .unwrap_or_else(|e| panic!("{path}: {e}"));
                if let Some(Ok(Some(bytes))) = b.map(|r| r.try_get::<Option<Vec<u8>>>("", "b")) {
                    all.extend(bytes);
                }
            }
            all
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

async fn statistics_rows(app: &TestApp, stats: &Client) -> u64 {
    let (st, v) = get_json(stats, app.url("/api/v1/statistics?k=5")).await;
    assert_eq!(st, 200, "{v}");
    v["report"]["input_rows"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_erases_a_person_and_nothing_of_them_is_left() {
    let (app, _) = spawn_demo_app().await;
    let (osas, osas_p) = case_of(&app, "Osas Uwaifo").await;
    let (elena, elena_p) = case_of(&app, "Elena Dumitru").await;
    let reference = osas.reference.clone();
    let admin = login(&app, "olivia@passage.example").await;
    let advocate = login(&app, "karim@passage.example").await;
    let follow_up = login(&app, "chioma@edo-reintegration.example").await;
    let other_admin = login(&app, "julien@brigade.example").await;

    // The statistics count the owner's cases once it opts in (a statistician reads them).
    let (st, v) = send_json(
        &admin,
        "PATCH",
        app.url(&format!("/api/v1/organisations/{}", osas.owner_org_id)),
        json!({"statistics_opt_in": true}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let office = passerelle_core::store::entity::organisation::Entity::find()
        .filter(passerelle_core::store::entity::organisation::Column::Kind.eq("state_authority"))
        .first(&app.services.db)
        .await
        .unwrap()
        .unwrap();
    app.user(office.id, "stats@passage.example", "statistician")
        .await;
    let stats = app.api_login("stats@passage.example").await;
    let counted = statistics_rows(&app, &stats).await;

    // The case is visible to the organisation it was handed over to, person included.
    let (st, v) = get_json(&follow_up, app.url(&format!("/api/v1/cases/{reference}"))).await;
    assert_eq!(st, 200, "{v}");
    assert!(v["erasure"].is_null());
    let before = secrets(&app, &osas, &osas_p).await;
    let places = [
        "persons.location_enc",
        "itinerary_legs.from_enc",
        "itinerary_legs.to_enc",
    ];
    for p in [
        "persons.name_enc",
        "persons.birth_date_enc",
        "persons.name_idx",
    ]
    .iter()
    .chain(places.iter())
    {
        assert!(
            before.iter().any(|(w, _)| w == p),
            "{p} not seeded: the test would prove nothing"
        );
    }
    let bytes = disk_bytes(&app).await;
    assert!(
        before.iter().any(|(_, b)| find(&bytes, b)),
        "the ciphertexts are on disk before the erasure"
    );

    // Nobody but the owner's administrator erases; a reason is required.
    let url = app.url(&format!("/api/v1/cases/{reference}/erasure"));
    let body = json!({"reason": "person_request", "keep_statistics": true});
    let (st, v) = send_json(&advocate, "POST", url.clone(), body.clone()).await;
    assert_eq!(st, 403, "{v}");
    let (st, v) = send_json(&follow_up, "POST", url.clone(), body.clone()).await;
    assert_eq!(st, 403, "a shared organisation's officer: {v}");
    let (st, v) = send_json(&other_admin, "POST", url.clone(), body.clone()).await;
    assert_eq!(st, 404, "another organisation's administrator: {v}");
    for bad in [
        json!({}),
        json!({"reason": "bored"}),
        json!({"reason": " "}),
    ] {
        let (st, v) = send_json(&admin, "POST", url.clone(), bad.clone()).await;
        assert_eq!(
            (st, v["field"].as_str()),
            (422, Some("reason")),
            "{bad}: {v}"
        );
    }
    // The case is open: its retention period has not begun.
    let (st, v) = send_json(
        &admin,
        "POST",
        url.clone(),
        json!({"reason": "retention_expired"}),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("reason")), "{v}");

    // On the page: the confirmation, then a form without a reason (in French), then for good.
    let page = admin
        .get(app.url(&format!("/cases/{reference}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"erase-link\""),
        "the administrator sees the way to erase"
    );
    let confirm = admin
        .get(app.url(&format!("/cases/{reference}/erase")))
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), 200);
    let html = confirm.text().await.unwrap();
    assert!(html.contains("id=\"erase-form\""), "{html}");
    let csrf = hidden_csrf(&html);
    let r = admin
        .post(app.url(&format!("/cases/{reference}/erase")))
        .header("Accept-Language", "fr")
        .form(&[
            ("_csrf", csrf.as_str()),
            ("confirmed", "yes"),
            ("keep_statistics", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("aria-invalid"),
        "the reason is marked: {html}"
    );
    let advocate_page = advocate
        .get(app.url(&format!("/cases/{reference}/erase")))
        .send()
        .await
        .unwrap();
    assert_eq!(advocate_page.status(), 403);
    let r = admin
        .post(app.url(&format!("/cases/{reference}/erase")))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("confirmed", "yes"),
            ("reason", "person_request"),
            ("keep_statistics", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());

    // Nothing of the person is left in the database's bytes.
    let bytes = disk_bytes(&app).await;
    let left: Vec<&String> = before
        .iter()
        .filter(|(_, b)| find(&bytes, b))
        .map(|(w, _)| w)
        .collect();
    assert!(left.is_empty(), "still in the database's bytes: {left:?}");
    for clear in [
        "Osas Uwaifo",
        "1996-04-18",
        "Benin City (fictional address)",
    ] {
        assert!(!contains(&bytes, clear), "{clear} in clear");
    }

    // Erased, for everyone who could see it; edits refused; lists still work.
    let (st, v) = get_json(&admin, app.url(&format!("/api/v1/cases/{reference}"))).await;
    assert_eq!(st, 200, "{v}");
    assert!(v["person"].is_null(), "{v}");
    assert_eq!(v["erasure"]["reason"], json!("person_request"));
    assert_eq!(v["erasure"]["keep_statistics"], json!(true));
    assert!(v["summary"]["erased_at"].is_string());
    let (st, erasure) = get_json(&follow_up, url.clone()).await;
    assert_eq!(st, 200, "{erasure}");
    assert_eq!(erasure["reason"], json!("person_request"));
    let (st, v) = get_json(&follow_up, app.url(&format!("/api/v1/cases/{reference}"))).await;
    assert_eq!(st, 200, "{v}");
    assert!(v["person"].is_null() && v["erasure"].is_object(), "{v}");
    for c in [&admin, &advocate, &follow_up] {
        let r = c
            .get(app.url(&format!("/cases/{reference}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"erased\""), "{html}");
        assert!(!html.contains("Osas"), "{html}");
        assert!(!html.contains("erase-link"));
        for home in ["/", "/api/v1/cases"] {
            let r = c.get(app.url(home)).send().await.unwrap();
            assert!(r.status().as_u16() < 500, "{home}: {}", r.status());
        }
    }
    for section in ["return", "follow-up", "identification"] {
        let (st, v) = get_json(
            &follow_up,
            app.url(&format!("/api/v1/cases/{reference}/{section}")),
        )
        .await;
        assert!(matches!(st, 403 | 404 | 409), "{section}: {st} {v}");
    }
    let (st, v) = send_json(
        &advocate,
        "PUT",
        app.url(&format!("/api/v1/cases/{reference}/person")),
        json!({"version": v_version(&app, &reference).await, "person": {"name": "Someone"}}),
    )
    .await;
    assert_eq!(st, 409, "{v}");
    let (st, v) = send_json(&admin, "POST", url.clone(), body.clone()).await;
    assert_eq!(st, 409, "erased twice: {v}");

    // Kept for statistics: still counted.
    assert_eq!(statistics_rows(&app, &stats).await, counted);

    // The other through the API, not kept: no longer counted; its GET is its 201.
    let elena_before = secrets(&app, &elena, &elena_p).await;
    let elena_url = app.url(&format!("/api/v1/cases/{}/erasure", elena.reference));
    let r = admin
        .post(elena_url.clone())
        .json(&json!({"reason": "person_request"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.headers().get("location").and_then(|l| l.to_str().ok()),
        Some(format!("/api/v1/cases/{}/erasure", elena.reference).as_str())
    );
    let created: Value = r.json().await.unwrap();
    let (st, got) = get_json(&admin, elena_url).await;
    assert_eq!((st, &got), (200, &created));
    assert_eq!(statistics_rows(&app, &stats).await, counted - 1);
    let bytes = disk_bytes(&app).await;
    for (w, b) in &elena_before {
        assert!(!find(&bytes, b), "{w} of the second person still on disk");
    }

    // The chain verifies, and says who erased, and why.
    assert!(matches!(
        verify_chain(&app.services.db).await.unwrap(),
        Verified::Intact { .. }
    ));
    let olivia = app
        .services
        .user_by_email("olivia@passage.example")
        .await
        .unwrap()
        .unwrap();
    let entries = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("erase_on_request"))
        .all(&app.services.db)
        .await
        .unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e.user_id == Some(olivia.user_id)));
    assert!(
        entries
            .iter()
            .any(|e| e.case_ref.as_deref() == Some(reference.as_str()))
    );
}

async fn v_version(app: &TestApp, reference: &str) -> i64 {
    case::Entity::find()
        .filter(case::Column::Reference.eq(reference))
        .first(&app.services.db)
        .await
        .unwrap()
        .unwrap()
        .version
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_past_retention_are_listed_for_the_administrator_who_decides() {
    let (app, _) = spawn_demo_app().await;
    let admin = login(&app, "olivia@passage.example").await;
    let advocate = login(&app, "karim@passage.example").await;
    let (c, _) = case_of(&app, "Osas Uwaifo").await;
    let (st, v) = get_json(&admin, app.url("/api/v1/retention/cases")).await;
    assert_eq!(st, 200, "{v}");
    assert!(
        !v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["reference"] == json!(c.reference)),
        "{v}"
    );
    let (st, _) = get_json(&advocate, app.url("/api/v1/retention/cases")).await;
    assert_eq!(st, 403);
    let (st, v) = get_json(&admin, app.url("/api/v1/retention/cases?per_page=0")).await;
    assert_eq!(st, 400, "{v}");

    // Closed recently: not yet; closed longer ago than the period: listed, and erasable
    // for that reason.
    let url = app.url(&format!("/api/v1/cases/{}/erasure", c.reference));
    let set_closed = |days: i64| {
        let db = app.services.db.clone();
        let id = c.id;
        async move {
            case::Entity::update_many()
                .col_expr(
                    case::Column::ClosedAt,
                    sea_orm::sea_query::Expr::value(Some(
                        chrono::Utc::now() - chrono::Duration::days(days),
                    )),
                )
                .filter(case::Column::Id.eq(id))
                .exec(&db)
                .await
                .unwrap();
        }
    };
    set_closed(10).await;
    let (st, v) = send_json(
        &admin,
        "POST",
        url.clone(),
        json!({"reason": "retention_expired"}),
    )
    .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("reason")), "{v}");
    let days = app.services.retention_days;
    set_closed(days + 1).await;
    let (st, v) = get_json(&admin, app.url("/api/v1/retention/cases")).await;
    assert_eq!(st, 200, "{v}");
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["reference"] == json!(c.reference)),
        "{v}"
    );
    let page = admin.get(app.url("/retention")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(&c.reference));
    let (st, v) = send_json(&admin, "POST", url, json!({"reason": "retention_expired"})).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["reason"], json!("retention_expired"));
    let (_, v) = get_json(&admin, app.url("/api/v1/retention/cases")).await;
    assert_eq!(v["total"], json!(0), "an erased case leaves the list: {v}");
    assert!(matches!(
        verify_chain(&app.services.db).await.unwrap(),
        Verified::Intact { .. }
    ));
}
