//! Key rotation (issue 15, point 4, acceptance 4), on the backend the suite runs on: the
//! demo world plus 10 000 imported cases; the master key rotated with `key rotate` while a
//! server on the old key keeps answering; a second server started on the new key; the old
//! key retired (it then opens nothing); `key reencrypt` killed with SIGKILL half-way
//! through its first pass and run again: it resumes at its cursor, finishes, destroys the
//! retired keys, and every sealed field still opens (`key verify`), each person's fields
//! now sealed by the data key of the organisation that owns the case. A reader on the new
//! server sees no error from the rotation to the end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle::demo::DEMO_PASSWORD;
use passerelle_core::crypto::sealed_by;
use passerelle_core::keys::sealed_tables;
use passerelle_core::service::audit::{Verified, verify_chain};
use passerelle_tests::process::ServerProcess;
use passerelle_tests::{TestApp, client, get_json, spawn_demo_app};
use reqwest::Client;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use secrecy::ExposeSecret;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CASES: usize = 10_000;
const BIN: &str = env!("CARGO_BIN_EXE_passerelle-node");

fn import_file(rows: usize) -> Vec<u8> {
    let mut csv = String::from(
        "name,aliases,birthdate,is_minor,nationality,stateless,languages,contact,location,notes\n",
    );
    for i in 0..rows {
        csv.push_str(&format!(
            "Rotation Person-{i:05},R. P. {i},19{:02}-{:02}-{:02},no,NG,no,\"Edo, English\",+234 803 555 {:04},\"Foyer {}, Lyon\",note {i}\n",
            50 + i % 50,
            1 + i % 12,
            1 + i % 28,
            i % 10_000,
            i % 40,
        ));
    }
    csv.into_bytes()
}

/// The test app's master key, in hex.
fn current_key(app: &TestApp) -> String {
    let k = app.settings.security.key.expose_secret().trim().to_owned();
    if k.is_empty() {
        std::fs::read_to_string(app.settings.key_path())
            .unwrap()
            .trim()
            .to_owned()
    } else {
        k
    }
}

/// The command line on the test app's database, with the master key `key`.
fn cli(app: &TestApp, key: &str, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args([
        "--data-dir",
        &app.data_dir.join("cli").display().to_string(),
    ])
    .args(args)
    .env(
        "PASSERELLE__DATABASE__URL",
        app.settings.database_url().unwrap(),
    )
    .env("PASSERELLE__SECURITY__KEY", key)
    .env("PASSERELLE__SECURITY__TWO_FACTOR_ROLES", "")
    .env("PASSERELLE_LOG", "warn");
    c
}

fn run(app: &TestApp, key: &str, args: &[&str]) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cli(app, key, args).output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

fn ok(app: &TestApp, key: &str, args: &[&str]) -> String {
    let (code, out, err) = run(app, key, args);
    assert_eq!(code, 0, "passerelle {args:?} failed:\n{out}\n{err}");
    out
}

/// "N sealed fields open (…)" from `key verify`.
fn fields_open(out: &str) -> u64 {
    out.lines()
        .find_map(|l| l.split_once(" sealed fields open"))
        .and_then(|(n, _)| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count in {out}"))
}

async fn demo_login(address: &str, email: &str) -> Client {
    let c = client();
    let r = c
        .post(format!("{address}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "login of {email}");
    c
}

async fn query(app: &TestApp, sql: &str) -> Vec<sea_orm::QueryResult> {
    let db = &app.services.db;
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
}

/// Read `cases` through the server at `address`: every name as written.
async fn read_all(c: &Client, address: &str, cases: &[(String, String)]) {
    for (reference, name) in cases {
        let (st, v) = get_json(c, format!("{address}/api/v1/cases/{reference}")).await;
        assert_eq!(st, 200, "{reference} through {address}: {v}");
        assert_eq!(v["person"]["name"], name.as_str(), "{reference}");
    }
}

/// Read the sample in a loop until told to stop; counts the reads that failed.
fn reader(
    c: Client,
    address: String,
    cases: Vec<(String, String)>,
    stop: Arc<AtomicBool>,
) -> (
    tokio::task::JoinHandle<(usize, Vec<String>)>,
    Arc<AtomicUsize>,
) {
    let reads = Arc::new(AtomicUsize::new(0));
    let counted = reads.clone();
    let h = tokio::spawn(async move {
        let mut failed = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            for (reference, name) in &cases {
                let (st, v) = get_json(&c, format!("{address}/api/v1/cases/{reference}")).await;
                counted.fetch_add(1, Ordering::Relaxed);
                if st != 200 || v["person"]["name"] != name.as_str() {
                    failed.push(format!("{reference}: {st} {v}"));
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (counted.load(Ordering::Relaxed), failed)
    });
    (h, reads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_and_a_reencryption_killed_half_way_keep_every_field_readable() {
    let (app, _) = spawn_demo_app().await;
    // The demo's organisation administrator imports the caseload; its advocate reads.
    let admin = demo_login(&app.address, "olivia@passage.example").await;
    let r = admin
        .post(app.url("/api/v1/imports/cases"))
        .header("Content-Type", "text/csv")
        .timeout(Duration::from_secs(900))
        .body(import_file(CASES))
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "import: {}",
        r.text().await.unwrap()
    );
    let v: serde_json::Value = r.json().await.unwrap();
    let imported = v["imported"].as_array().unwrap();
    assert_eq!(imported.len(), CASES);
    let sample: Vec<(String, String)> = [0usize, 1, 2_500, 5_000, 7_777, CASES - 1]
        .iter()
        .map(|&i| {
            (
                imported[i]["reference"].as_str().unwrap().to_owned(),
                format!("Rotation Person-{i:05}"),
            )
        })
        .collect();
    let reader_client = demo_login(&app.address, "karim@passage.example").await;
    read_all(&reader_client, &app.address, &sample).await;

    // Every column the schema seals is one the job walks.
    let enc_columns = match app.services.db.get_database_backend() {
        DbBackend::Sqlite => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND p.name LIKE '%_enc'"
        }
        _ => {
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns WHERE table_schema = current_schema() AND column_name LIKE '%\\_enc'"
        }
    };
    let in_schema: BTreeSet<(String, String)> = query(&app, enc_columns)
        .await
        .iter()
        .map(|r| (r.try_get("", "t").unwrap(), r.try_get("", "c").unwrap()))
        .collect();
    let walked: BTreeSet<(String, String)> = sealed_tables()
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .map(|c| (t.table.to_owned(), format!("{c}_enc")))
        })
        .collect();
    assert_eq!(
        in_schema, walked,
        "the sealed columns and the job's list differ"
    );

    // Once its organisation's own key is active (30 s after the organisation was made), a
    // case written is sealed by that key, not the deployment's.
    let owner: i64 = query(
        &app,
        &format!(
            "SELECT owner_org_id FROM cases WHERE reference = '{}'",
            sample[0].0
        ),
    )
    .await[0]
        .try_get("", "owner_org_id")
        .unwrap();
    let active: chrono::DateTime<chrono::Utc> = query(
        &app,
        &format!("SELECT active_from FROM data_keys WHERE organisation_id = {owner}"),
    )
    .await[0]
        .try_get("", "active_from")
        .unwrap();
    if let Ok(wait) = (active - chrono::Utc::now()).to_std() {
        tokio::time::sleep(wait + Duration::from_secs(1)).await;
    }
    let r = reader_client
        .post(app.url("/api/v1/cases"))
        .json(&json!({"person": {"name": "Written After Activation", "birth_date": "1990-01-02"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let reference = r.json::<serde_json::Value>().await.unwrap()["summary"]["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = &query(
        &app,
        &format!(
            "SELECT p.name_enc FROM persons p JOIN cases c ON c.person_id = p.id WHERE c.reference = '{reference}'"
        ),
    )
    .await;
    let blob: Vec<u8> = r[0].try_get("", "name_enc").unwrap();
    let sealer = sealed_by(&blob).unwrap();
    let sealer_org: Option<i64> = query(
        &app,
        &format!("SELECT organisation_id FROM data_keys WHERE id = {sealer}"),
    )
    .await[0]
        .try_get("", "organisation_id")
        .unwrap();
    assert_eq!(sealer_org, Some(owner), "sealed by key {sealer}");

    let old = current_key(&app);
    let old_id = ok(&app, &old, &["key", "status"])
        .lines()
        .find_map(|l| l.strip_prefix("master key: ").map(str::to_owned))
        .unwrap();
    let before = fields_open(&ok(&app, &old, &["key", "verify"]));
    assert!(before >= CASES as u64 * 8, "only {before} sealed fields");

    // 1. Rotate while the server on the old key answers.
    let stop_old = Arc::new(AtomicBool::new(false));
    let (old_reader, _) = reader(
        reader_client.clone(),
        app.address.clone(),
        sample.clone(),
        stop_old.clone(),
    );
    let new_file = app.data_dir.join("new-master.key");
    let out = ok(
        &app,
        &old,
        &[
            "key",
            "rotate",
            "--new-key-file",
            &new_file.display().to_string(),
        ],
    );
    assert!(
        out.contains("data keys wrapped under the new master key"),
        "{out}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&new_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the new key file is private");
    }
    let new = std::fs::read_to_string(&new_file)
        .unwrap()
        .trim()
        .to_owned();
    assert_ne!(new, old);
    // Run again: nothing more to wrap.
    let again = ok(
        &app,
        &old,
        &[
            "key",
            "rotate",
            "--new-key-file",
            &new_file.display().to_string(),
        ],
    );
    assert!(again.starts_with("0 data keys wrapped"), "{again}");

    // 2. A node on the new key, beside the one on the old key: both read everything.
    let node = ServerProcess::start(
        Path::new(BIN),
        &app,
        &[("PASSERELLE__SECURITY__KEY", new.clone())],
    );
    let node_address = format!("http://127.0.0.1:{}", node.port);
    read_all(&reader_client, &node_address, &sample).await;
    read_all(&reader_client, &app.address, &sample).await;
    stop_old.store(true, Ordering::Relaxed);
    let (reads, failed) = old_reader.await.unwrap();
    assert!(
        failed.is_empty(),
        "reads failed during the rotation: {failed:?}"
    );
    assert!(reads >= sample.len(), "{reads} reads");

    // 3. Retire the old master key: run with it, nothing opens any more.
    let (code, _, err) = run(&app, &new, &["key", "retire", &new_id_of(&app, &new)]);
    assert_ne!(code, 0, "retiring the key it runs with is refused");
    assert!(err.contains("run it with the new key file"), "{err}");
    let out = ok(&app, &new, &["key", "retire", &old_id]);
    assert!(
        out.contains(&format!("master key {old_id} retired")),
        "{out}"
    );
    let (code, _, err) = run(&app, &old, &["key", "verify"]);
    assert_ne!(code, 0, "the retired key still opened the data keys");
    assert!(err.contains("unwraps none of the"), "{err}");
    assert_eq!(fields_open(&ok(&app, &new, &["key", "verify"])), before);

    // 4. Re-encrypt, read all along through the node on the new key; SIGKILL the job
    // half-way through its first pass.
    let stop = Arc::new(AtomicBool::new(false));
    let (new_reader, reads) = reader(
        reader_client.clone(),
        node_address.clone(),
        sample.clone(),
        stop.clone(),
    );
    let mut job = cli(&app, &new, &["key", "reencrypt", "--batch", "100"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let (done_at_kill, total) = loop {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the job did not get half-way in 10 minutes"
        );
        assert!(
            job.try_wait().unwrap().is_none(),
            "the job ended before half-way"
        );
        let rows = query(&app, "SELECT pass, done, total FROM key_jobs").await;
        if let Some(r) = rows.first() {
            let (pass, done, total): (i32, i64, i64) = (
                r.try_get("", "pass").unwrap(),
                r.try_get("", "done").unwrap(),
                r.try_get("", "total").unwrap(),
            );
            assert_eq!(pass, 1, "the first pass ended before the kill");
            if done * 2 >= total {
                job.kill().unwrap();
                job.wait().unwrap();
                break (done, total);
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let r = &query(&app, "SELECT state, done FROM key_jobs").await[0];
    assert_eq!(r.try_get::<String>("", "state").unwrap(), "running");
    let committed: i64 = r.try_get("", "done").unwrap();
    assert!(
        committed >= done_at_kill && committed < total,
        "{committed}/{total}"
    );
    // Half the fields are on the new keys, half still on the retired ones: all open.
    assert_eq!(fields_open(&ok(&app, &new, &["key", "verify"])), before);

    // 5. Run again: it resumes at its cursor and finishes.
    let out = ok(&app, &new, &["key", "reencrypt"]);
    let resumed_at: i64 = out
        .lines()
        .find_map(|l| l.strip_prefix("resuming the re-encryption job "))
        .and_then(|l| l.split(", ").nth(1))
        .and_then(|l| l.split('/').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not resumed: {out}"));
    assert_eq!(resumed_at, committed, "{out}");
    assert!(out.contains("re-encryption done"), "{out}");
    let r = &query(&app, "SELECT state FROM key_jobs").await[0];
    assert_eq!(r.try_get::<String>("", "state").unwrap(), "done");

    // Every field opens; only the new keys are left, one per organisation and the
    // deployment's; every field is sealed by one of them.
    let out = ok(&app, &new, &["key", "verify"]);
    assert_eq!(fields_open(&out), before);
    let keys = query(
        &app,
        "SELECT id, organisation_id, retired_at FROM data_keys",
    )
    .await;
    let orgs = query(&app, "SELECT id FROM organisations").await.len();
    assert_eq!(keys.len(), orgs + 1, "the retired keys are destroyed");
    let key_org: HashMap<u32, Option<i64>> = keys
        .iter()
        .map(|r| {
            assert!(
                r.try_get::<Option<chrono::DateTime<chrono::Utc>>>("", "retired_at")
                    .unwrap()
                    .is_none()
            );
            (
                r.try_get::<i64>("", "id").unwrap() as u32,
                r.try_get("", "organisation_id").unwrap(),
            )
        })
        .collect();
    for (k, _) in out
        .split_once('(')
        .unwrap()
        .1
        .trim_end_matches([')', '\n'])
        .split(", ")
        .map(|s| s.trim_start_matches("key ").split_once(": ").unwrap())
    {
        assert!(
            key_org.contains_key(&k.parse().unwrap()),
            "a field sealed by key {k}"
        );
    }
    // A person's fields are sealed by the key of the organisation that owns their case.
    let persons = query(
        &app,
        "SELECT p.name_enc, p.birth_date_enc, c.owner_org_id FROM persons p JOIN cases c ON c.person_id = p.id",
    )
    .await;
    assert!(persons.len() > CASES);
    for r in &persons {
        let owner: i64 = r.try_get("", "owner_org_id").unwrap();
        for col in ["name_enc", "birth_date_enc"] {
            if let Some(blob) = r.try_get::<Option<Vec<u8>>>("", col).unwrap() {
                let k = sealed_by(&blob).unwrap();
                assert_eq!(key_org[&k], Some(owner), "{col} sealed by key {k}");
            }
        }
    }

    // 6. Once more, left to the servers (--detach): the node on the new key runs the job in
    // the background; `key status` shows its progress.
    let out = ok(&app, &new, &["key", "reencrypt", "--detach"]);
    assert!(
        out.contains("the servers run it in the background"),
        "{out}"
    );
    let started = Instant::now();
    let mut seen_progress = false;
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the servers did not finish the job in 5 minutes"
        );
        let status = ok(&app, &new, &["key", "status"]);
        let line = status
            .lines()
            .find(|l| l.starts_with("re-encryption job "))
            .unwrap_or_else(|| panic!("{status}"));
        assert!(line.contains("rows") && line.contains('%'), "{line}");
        if line.contains(": done") {
            break;
        }
        seen_progress |= line.contains(": running");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(seen_progress, "the job was never seen running");
    let jobs = query(&app, "SELECT state, lease_owner FROM key_jobs").await;
    assert_eq!(jobs.len(), 2);
    assert!(
        jobs.iter()
            .all(|r| r.try_get::<String>("", "state").unwrap() == "done")
    );
    assert!(
        jobs.iter().any(|r| r
            .try_get::<Option<String>>("", "lease_owner")
            .unwrap()
            .is_some_and(|o| o.starts_with("node-"))),
        "no server ran the second job"
    );
    assert_eq!(fields_open(&ok(&app, &new, &["key", "verify"])), before);
    assert_eq!(
        query(&app, "SELECT id FROM data_keys").await.len(),
        orgs + 1,
        "the second job destroyed the keys it retired"
    );

    // The node on the new key read throughout, and still reads.
    read_all(&reader_client, &node_address, &sample).await;
    stop.store(true, Ordering::Relaxed);
    let (n, failed) = new_reader.await.unwrap();
    assert!(
        failed.is_empty(),
        "reads failed during the re-encryption: {failed:?}"
    );
    assert!(
        reads.load(Ordering::Relaxed) >= sample.len() * 2,
        "{n} reads"
    );
    // Each operation is in the audit log (no user, no case), and the chain verifies.
    let mut actions: HashMap<String, i64> = HashMap::new();
    for r in query(
        &app,
        "SELECT action, user_id, case_ref FROM audit_log WHERE action LIKE 'key%'",
    )
    .await
    {
        assert!(r.try_get::<Option<i64>>("", "user_id").unwrap().is_none());
        assert!(
            r.try_get::<Option<String>>("", "case_ref")
                .unwrap()
                .is_none()
        );
        *actions.entry(r.try_get("", "action").unwrap()).or_default() += 1;
    }
    let expected: HashMap<String, i64> = [
        ("key_rotate", 2),
        ("key_retire", 1),
        ("key_reencrypt_start", 2),
        ("key_reencrypt_done", 2),
    ]
    .into_iter()
    .map(|(a, n)| (a.to_owned(), n))
    .collect();
    assert_eq!(actions, expected);
    match verify_chain(&app.services.db).await.unwrap() {
        Verified::Intact { .. } => {}
        Verified::Broken(b) => panic!("the audit chain is broken: {b:?}"),
    }
    eprintln!(
        "key rotation: {before} sealed fields; job killed at {committed}/{total} rows, resumed, done; {n} reads during it, 0 failed"
    );
    node.kill();
}

/// The master key id `key status` prints when run with `key`.
fn new_id_of(app: &TestApp, key: &str) -> String {
    ok(app, key, &["key", "status"])
        .lines()
        .find_map(|l| l.strip_prefix("master key: ").map(str::to_owned))
        .unwrap()
}
