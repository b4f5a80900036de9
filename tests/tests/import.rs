//! The CSV import of an existing caseload over HTTP (issue 14, point 4): a check that
//! names every problem and writes nothing; an import refused whole when the file has one
//! problem; a clean file of 10 000 rows imported in one go, each case with its reference,
//! the names absent from the database bytes; a person who already has a case reported,
//! not merged; only the organisation's administrator imports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_tests::{get_json as get, spawn_app};
use reqwest::Client;
use serde_json::Value;

async fn post_csv(c: &Client, url: String, body: Vec<u8>) -> (u16, Value) {
    let r = c
        .post(url)
        .header("Content-Type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    let st = r.status().as_u16();
    (st, r.json().await.unwrap_or(Value::Null))
}

async fn total_cases(app: &passerelle_tests::TestApp, c: &Client) -> i64 {
    let (st, v) = get(c, app.url("/api/v1/cases?per_page=1")).await;
    assert_eq!(st, 200, "{v}");
    v["total"].as_i64().unwrap()
}

fn rules(v: &Value) -> Vec<(String, i64, Option<String>)> {
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["rule"].as_str().unwrap().to_owned(),
                p["row"].as_i64().unwrap(),
                p["column"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_with_ten_kinds_of_error_is_reported_and_nothing_is_imported() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "admin@ngo.test", "org_admin").await;
    let admin = app.api_login("admin@ngo.test").await;
    let adv = app.api_login("advocate@ngo.test").await;
    let mut b = Vec::new();
    // No `stateless` column (missing), an `eye_colour` column (not in the template).
    b.extend_from_slice(b"name,birthdate,nationality,is_minor,notes,eye_colour\n");
    b.extend_from_slice(b"Amina Diallo,1990-02-30,NG,,,f\n"); // 2: bad date
    b.extend_from_slice(b"Joy Okafor,1992-01-01,Nigeria,,,f\n"); // 3: unknown country
    b.extend_from_slice(b"Blessing,2015-06-01,NG,no,,f\n"); // 4: a child as an adult
    b.extend_from_slice(b"Grace Eze,1991-03-03,NG,,,f\n"); // 5 and 6: duplicates
    b.extend_from_slice(b"grace  eze,1991-03-03,GH,,,f\n");
    b.extend_from_slice(b"Jos\xE9,1990-01-01,NG,,,f\n"); // 7: bad encoding
    b.extend_from_slice(b",1990-01-01,NG,,,f\n"); // 8: empty name
    b.extend_from_slice(format!("{},1990-01-01,NG,,,f\n", "x".repeat(201)).as_bytes()); // 9
    b.extend_from_slice(b"Ade,1990-01-01,NG,,=cmd|' /C calc'!A0,m\n"); // 10: formula
    let before = total_cases(&app, &adv).await;
    let (st, v) = post_csv(&admin, app.url("/api/v1/imports/cases/check"), b.clone()).await;
    assert_eq!(st, 200, "{v}");
    let found = rules(&v);
    for (rule, row, column) in [
        ("import-missing-column", 1, Some("stateless")),
        ("import-unknown-column", 1, Some("eye_colour")),
        ("import-bad-date", 2, Some("birthdate")),
        ("import-unknown-country", 3, Some("nationality")),
        ("import-child-adult-only", 4, Some("is_minor")),
        ("import-duplicate-row", 5, None),
        ("import-duplicate-row", 6, None),
        ("import-bad-encoding", 7, Some("name")),
        ("import-empty-required", 8, Some("name")),
        ("import-too-long", 9, Some("name")),
        ("import-formula", 10, Some("notes")),
    ] {
        assert!(
            found.contains(&(rule.to_owned(), row, column.map(str::to_owned))),
            "{rule} at row {row}: {found:?}"
        );
    }
    // Each problem says what is wrong, and shows the (shortened) value.
    let formula = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["rule"] == "import-formula")
        .unwrap();
    assert!(formula["message"].as_str().unwrap().len() > 10, "{formula}");
    assert!(
        formula["value"].as_str().unwrap().starts_with("=cmd"),
        "{formula}"
    );
    assert_eq!(v["valid_rows"], 0);
    assert_eq!(v["imported"].as_array().unwrap().len(), 0);
    // The import is refused whole, saying why; nothing was written.
    let (st, e) = post_csv(&admin, app.url("/api/v1/imports/cases"), b).await;
    assert_eq!((st, e["error"].as_str()), (422, Some("invalid")), "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("nothing was imported"),
        "{e}"
    );
    assert_eq!(total_cases(&app, &adv).await, before);
    // Only the administrator imports.
    let (st, _) = post_csv(
        &adv,
        app.url("/api/v1/imports/cases/check"),
        b"name\n".to_vec(),
    )
    .await;
    assert_eq!(st, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_rows_import_in_one_go_and_a_person_with_a_case_is_reported_not_merged() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "admin@ngo.test", "org_admin").await;
    let admin = app.api_login("admin@ngo.test").await;
    let adv = app.api_login("advocate@ngo.test").await;
    let mut csv = String::from("name,birthdate,is_minor,nationality,stateless,advocate_email\n");
    for i in 0..10_000 {
        let country = ["NG", "GH", "AL", "VN"][i % 4];
        csv.push_str(&format!(
            "Imported Person-{i:05},19{:02}-0{}-1{},no,{country},no,{}\n",
            50 + i % 50,
            1 + i % 9,
            i % 10,
            if i % 2 == 0 { "advocate@ngo.test" } else { "" }
        ));
    }
    let (st, v) = post_csv(
        &admin,
        app.url("/api/v1/imports/cases/check"),
        csv.clone().into_bytes(),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["rows"].as_i64(), v["valid_rows"].as_i64()),
        (Some(10_000), Some(10_000)),
        "{}",
        v["problems"]
    );
    assert_eq!(v["problems"].as_array().unwrap().len(), 0);
    assert_eq!(total_cases(&app, &adv).await, 0, "a check writes nothing");

    let (st, v) = post_csv(
        &admin,
        app.url("/api/v1/imports/cases"),
        csv.clone().into_bytes(),
    )
    .await;
    assert_eq!(st, 200, "{}", v["message"]);
    let imported = v["imported"].as_array().unwrap();
    assert_eq!(imported.len(), 10_000);
    assert_eq!(imported[0]["row"], 2);
    let first = imported[0]["reference"].as_str().unwrap().to_owned();
    assert!(first.starts_with("PSG-"), "{first}");
    // Every row is a case of the organisation; the advocate named on every other row is
    // its advocate. The case reads back.
    assert_eq!(total_cases(&app, &adv).await, 10_000);
    let (st, c) = get(&adv, app.url(&format!("/api/v1/cases/{first}"))).await;
    assert_eq!(st, 200, "{c}");
    assert!(c["summary"]["advocate"].is_string(), "{}", c["summary"]);
    let second = imported[1]["reference"].as_str().unwrap();
    let (_, c2) = get(&adv, app.url(&format!("/api/v1/cases/{second}"))).await;
    assert!(c2["summary"]["advocate"].is_null(), "{}", c2["summary"]);
    assert_eq!(c["person"]["name"], "Imported Person-00000");
    assert_eq!(c["person"]["birth_date"], "1950-01-10");
    // Encrypted at rest, as create_case does.
    let bytes = app.raw_database_bytes().await;
    for name in ["Imported Person-00000", "Imported Person-09999"] {
        assert!(
            !bytes.windows(name.len()).any(|w| w == name.as_bytes()),
            "{name} is in the database bytes"
        );
    }
    // Importing the same file again: every row is a person who already has a case here,
    // reported with that case's reference, and nothing is merged or added.
    let (st, v) = post_csv(
        &admin,
        app.url("/api/v1/imports/cases/check"),
        csv.into_bytes(),
    )
    .await;
    assert_eq!(st, 200);
    let p = &v["problems"][0];
    assert_eq!(
        (p["rule"].as_str(), p["row"].as_i64()),
        (Some("import-existing-case"), Some(2)),
        "{p}"
    );
    assert_eq!(p["args"]["reference"], first, "{p}");
    assert!(
        v["omitted"].as_i64().unwrap() > 0,
        "more than a thousand listed: the rest counted"
    );
    assert_eq!(total_cases(&app, &adv).await, 10_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_during_an_import_leaves_no_case_and_the_import_runs_again() {
    // A real server process, killed with SIGKILL while it writes a 20 000-row import.
    let app = spawn_app().await;
    let w = app.world().await;
    app.user(w.ngo, "admin@ngo.test", "org_admin").await;
    let adv = app.api_login("advocate@ngo.test").await;
    let mut csv = String::from("name,birthdate,is_minor,nationality,stateless\n");
    for i in 0..20_000 {
        csv.push_str(&format!(
            "Killed Import-{i:05},1980-01-0{},no,NG,no\n",
            1 + i % 9
        ));
    }
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_passerelle-node"));
    let node = passerelle_tests::process::ServerProcess::start(bin, &app, &[]);
    let at = |p: &str| format!("http://127.0.0.1:{}{p}", node.port);
    let admin = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = admin
        .post(at("/api/v1/auth/login"))
        .json(
            &serde_json::json!({"email": "admin@ngo.test", "password": passerelle_tests::PASSWORD}),
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let upload = tokio::spawn({
        let admin = admin.clone();
        let url = at("/api/v1/imports/cases");
        let body = csv.clone().into_bytes();
        async move {
            admin
                .post(url)
                .header("Content-Type", "text/csv")
                .body(body)
                .send()
                .await
        }
    });
    // Kill it while it writes: the check of 20 000 rows and their inserts take seconds.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    node.kill();
    let answer = upload.await.unwrap();
    assert!(
        answer.as_ref().map_or(true, |r| !r.status().is_success()),
        "the import finished before the kill: make the file bigger ({:?})",
        answer.map(|r| r.status())
    );
    // Nothing half-written: no case and no person row.
    assert_eq!(total_cases(&app, &adv).await, 0);
    use sea_orm::{EntityTrait, PaginatorTrait};
    let persons = passerelle_core::store::entity::person::Entity::find()
        .count(&app.services.db)
        .await
        .unwrap();
    assert_eq!(persons, 0, "no person was left behind");
    // The same import through the test server now runs whole.
    let admin = app.api_login("admin@ngo.test").await;
    let (st, v) = post_csv(&admin, app.url("/api/v1/imports/cases"), csv.into_bytes()).await;
    assert_eq!(st, 200, "{}", v["message"]);
    assert_eq!(v["imported"].as_array().unwrap().len(), 20_000);
    assert_eq!(total_cases(&app, &adv).await, 20_000);
}
