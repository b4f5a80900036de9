//! The crash test (issue 15): a real server process killed with SIGKILL, again and again,
//! while several clients write through the API. Afterwards every write it acknowledged
//! (a 201 with its reference) is there and reads back whole, the audit chain verifies,
//! and on SQLite the database passes `PRAGMA integrity_check`. 20 kills on SQLite, 10 on
//! PostgreSQL (the backend the suite runs on).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_core::service::audit::{Verified, verify_chain};
use passerelle_tests::process::ServerProcess;
use passerelle_tests::{Backend, get_json, spawn_app};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WRITERS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_repeated_kill_9_and_the_audit_chain_verifies() {
    let app = spawn_app().await;
    app.world().await;
    let kills = match app.backend {
        Backend::Sqlite => 20,
        Backend::Postgres { .. } => 10,
    };
    // The test app's session cookie is good on every node (sessions live in the database;
    // cookies do not tell ports apart).
    let adv = app.api_login("advocate@ngo.test").await;
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_passerelle-node"));
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let mut refused_or_cut = 0usize;
    for round in 0..kills {
        let node = ServerProcess::start(bin, &app, &[]);
        let url = format!("http://127.0.0.1:{}/api/v1/cases", node.port);
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            let (adv, url, acknowledged) = (adv.clone(), url.clone(), acknowledged.clone());
            writers.push(tokio::spawn(async move {
                let mut cut = 0usize;
                for i in 0.. {
                    let name = format!("Crash Person-{round:02}-{w}-{i:04}");
                    let r = adv
                        .post(&url)
                        .json(&json!({"person": {"name": name, "birth_date": "1990-05-04",
                            "nationality": "NG", "notes": "written before a crash"}}))
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status() == 201 => {
                            let v: serde_json::Value = r.json().await.unwrap_or_default();
                            if let Some(reference) = v["summary"]["reference"].as_str() {
                                acknowledged
                                    .lock()
                                    .unwrap()
                                    .push((reference.to_owned(), name));
                            }
                        }
                        // The server died under this request: not acknowledged.
                        _ => {
                            cut += 1;
                            break;
                        }
                    }
                }
                cut
            }));
        }
        // Let them write for a while (different each round), then SIGKILL.
        tokio::time::sleep(Duration::from_millis(300 + 37 * (round as u64 % 11))).await;
        node.kill();
        for w in writers {
            refused_or_cut += w.await.unwrap();
        }
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= kills * 2,
        "only {} writes acknowledged over {kills} rounds",
        acknowledged.len()
    );
    // Every acknowledged case is there, whole, read through the test server.
    for (reference, name) in &acknowledged {
        let (st, v) = get_json(&adv, app.url(&format!("/api/v1/cases/{reference}"))).await;
        assert_eq!(st, 200, "{reference} was acknowledged but is missing: {v}");
        assert_eq!(v["person"]["name"], name.as_str(), "{reference}");
    }
    match verify_chain(&app.services.db).await.unwrap() {
        Verified::Intact { entries } => assert!(entries as usize >= acknowledged.len()),
        Verified::Broken(b) => panic!("the audit chain is broken after the crashes: {b:?}"),
    }
    if let Backend::Sqlite = app.backend {
        let r = app
            .services
            .db
            .query_one_raw(Statement::from_string(
                app.services.db.get_database_backend(),
                "PRAGMA integrity_check",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.try_get_by_index::<String>(0).unwrap(), "ok");
    }
    eprintln!(
        "{kills} kills: {} writes acknowledged and found, {refused_or_cut} cut by a kill",
        acknowledged.len()
    );
}
