//! The command line, run as a user would run it: the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle::config::Settings;
use passerelle::startup::build_services;
use passerelle_core::service::cases::PersonInput;
use sea_orm::{ConnectionTrait, Statement};
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_passerelle");

fn run(data_dir: &Path, db_url: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(data_dir).args(args);
    c.env_remove("PASSERELLE__DATABASE__URL");
    if let Some(u) = db_url {
        c.env("PASSERELLE__DATABASE__URL", u);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A fresh PostgreSQL database when the suite runs on PostgreSQL, else None (SQLite).
async fn database_url() -> Option<String> {
    use sea_orm::ConnectionTrait;
    let admin = std::env::var("PASSERELLE_TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))?;
    let db = sea_orm::Database::connect(&admin).await.unwrap();
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    let name = format!("pt_cli_{}", hex::encode(b));
    db.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
    Some(format!("{base}/{name}"))
}

fn settings_for(dir: &Path, url: Option<&str>) -> Settings {
    let mut s = Settings::load(None).unwrap();
    s.server.data_dir = dir.to_path_buf();
    s.database.url = url.unwrap_or("").to_owned();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_names_the_altered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url().await;
    let o = run(dir.path(), url.as_deref(), &["migrate"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(
        dir.path(),
        url.as_deref(),
        &[
            "org",
            "add",
            "--name",
            "Passage",
            "--kind",
            "victim_advocacy",
            "--country",
            "FR",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(
        dir.path(),
        url.as_deref(),
        &[
            "user",
            "add",
            "--org",
            "1",
            "--email",
            "a@ngo.test",
            "--name",
            "A",
            "--role",
            "advocate",
        ],
        &[("PASSERELLE_PASSWORD", "correct horse battery")],
    );
    assert!(o.status.success(), "{}", text(&o));
    // Some audited activity: create and read cases through the services.
    let services = build_services(&settings_for(dir.path(), url.as_deref()))
        .await
        .unwrap();
    let actor = services.user_by_email("a@ngo.test").await.unwrap().unwrap();
    for i in 0..3 {
        let r = services
            .create_case(
                &actor,
                &PersonInput {
                    name: format!("Person {i}"),
                    ..Default::default()
                },
                None,
                "test",
            )
            .await
            .unwrap();
        services
            .get_case(&actor, &r.reference, "test")
            .await
            .unwrap();
    }
    let o = run(dir.path(), url.as_deref(), &["audit", "verify"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("intact"), "{}", text(&o));

    // Alter one row: verify exits non-zero and names it.
    let backend = services.db.get_database_backend();
    let sql = "UPDATE audit_log SET action = 'update' WHERE seq = 4";
    services
        .db
        .execute_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .unwrap();
    let o = run(dir.path(), url.as_deref(), &["audit", "verify"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("audit entry 4"), "{}", text(&o));

    // Deleting a row is caught too (at the gap).
    services
        .db
        .execute_raw(Statement::from_string(
            backend,
            "UPDATE audit_log SET action = 'read' WHERE seq = 4".to_owned(),
        ))
        .await
        .unwrap();
    assert!(
        run(dir.path(), url.as_deref(), &["audit", "verify"], &[])
            .status
            .success()
    );
    services
        .db
        .execute_raw(Statement::from_string(
            backend,
            "DELETE FROM audit_log WHERE seq = 2".to_owned(),
        ))
        .await
        .unwrap();
    let o = run(dir.path(), url.as_deref(), &["audit", "verify"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("audit entry 3"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_and_restore_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings_for(dir.path(), None);
    let services = build_services(&settings).await.unwrap();
    let org = services
        .create_org(
            None,
            passerelle_core::service::admin::NewOrg {
                name: "Passage",
                kind: "victim_advocacy",
                country: "FR",
            },
        )
        .await
        .unwrap();
    services
        .create_user(
            None,
            passerelle_core::service::admin::NewUser {
                org_id: org.id,
                email: "a@ngo.test",
                display_name: "A",
                role: "advocate",
                password: "correct horse battery",
            },
        )
        .await
        .unwrap();
    let actor = services.user_by_email("a@ngo.test").await.unwrap().unwrap();
    let r = services
        .create_case(
            &actor,
            &PersonInput {
                name: "Backed Up Person".into(),
                ..Default::default()
            },
            None,
            "test",
        )
        .await
        .unwrap();
    // Online backup while the database is open.
    let backup = dir.path().join("backup.db");
    let o = run(dir.path(), None, &["backup", backup.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("key file"),
        "the backup reminds to keep the key"
    );
    let o = run(dir.path(), None, &["backup", backup.to_str().unwrap()], &[]);
    assert!(
        !o.status.success(),
        "an existing backup file is not overwritten"
    );

    // Restore into a new data directory holding the same key.
    let other = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.path().join("passerelle.key"),
        other.path().join("passerelle.key"),
    )
    .unwrap();
    let o = run(
        other.path(),
        None,
        &["restore", backup.to_str().unwrap()],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(
        other.path(),
        None,
        &["restore", backup.to_str().unwrap()],
        &[],
    );
    assert!(
        !o.status.success(),
        "restore refuses to replace a database without --force"
    );
    assert!(text(&o).contains("--force"));
    let restored = build_services(&settings_for(other.path(), None))
        .await
        .unwrap();
    let actor = restored.user_by_email("a@ngo.test").await.unwrap().unwrap();
    let v = restored
        .get_case(&actor, &r.reference, "test")
        .await
        .unwrap();
    assert_eq!(v.person.unwrap().person.name, "Backed Up Person");

    // A corrupt backup is refused and leaves the data in place.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not a database").unwrap();
    let o = run(
        other.path(),
        None,
        &["restore", "--force", junk.to_str().unwrap()],
        &[],
    );
    assert!(!o.status.success());
    assert!(
        restored
            .get_case(&actor, &r.reference, "test")
            .await
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_seeding_is_refused_on_a_real_database() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        None,
        &[
            "org",
            "add",
            "--name",
            "Real NGO",
            "--kind",
            "victim_advocacy",
            "--country",
            "FR",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(
        dir.path(),
        None,
        &["serve", "--demo", "--bind", "127.0.0.1:0"],
        &[],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("refused"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_cli_input_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        None,
        &[
            "org",
            "add",
            "--name",
            "X",
            "--kind",
            "bakery",
            "--country",
            "FR",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("expected one of"), "{}", text(&o));
    let o = run(
        dir.path(),
        None,
        &[
            "user", "add", "--org", "99", "--email", "a@b.test", "--name", "A", "--role",
            "advocate",
        ],
        &[("PASSERELLE_PASSWORD", "correct horse battery")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("no such organisation"), "{}", text(&o));
    let o = run(
        dir.path(),
        None,
        &["serve"],
        &[("PASSERELLE__SECURITY__KEY", "abc")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("128 hex"), "{}", text(&o));
}

#[test]
fn the_demo_world_seeds_once_and_the_key_file_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let services = build_services(&settings_for(dir.path(), None))
            .await
            .unwrap();
        let accounts = passerelle::demo::seed(&services).await.unwrap();
        assert!(accounts.len() >= 7);
        let roles: std::collections::HashSet<_> = accounts.iter().map(|a| a.role).collect();
        for r in passerelle_core::domain::Role::ALL {
            assert!(roles.contains(r.as_str()), "no demo user with role {r}");
        }
        let orgs = services.list_orgs().await.unwrap();
        let kinds: std::collections::HashSet<_> = orgs.iter().map(|o| o.kind).collect();
        assert_eq!(
            kinds.len(),
            passerelle_core::domain::OrgKind::ALL.len(),
            "every kind"
        );
        let countries: std::collections::HashSet<_> =
            orgs.iter().map(|o| o.country.clone()).collect();
        assert!(countries.len() >= 2);
        // 50 cases at every stage, and two returned persons followed up at home.
        assert_eq!(services.count_cases().await.unwrap(), 52);
        // Seeding again on the demo database is a no-op.
        passerelle::demo::seed(&services).await.unwrap();
        assert_eq!(services.count_cases().await.unwrap(), 52);
        // Demo users sign in with the documented password.
        let s = services
            .login(
                "amelie@passage.example",
                secrecy::SecretString::from(passerelle::demo::DEMO_PASSWORD),
            )
            .await;
        assert!(s.is_ok());
        // The demo has identification work under way: deadlines, some overdue, and a referral.
        let amelie = services
            .user_by_email("amelie@passage.example")
            .await
            .unwrap()
            .unwrap();
        let deadlines = services
            .my_deadlines(
                &amelie,
                &Default::default(),
                passerelle_core::domain::Paging::default(),
                "test",
            )
            .await
            .unwrap()
            .items;
        assert!(deadlines.len() >= 5, "{}", deadlines.len());
        assert!(
            deadlines.iter().any(|d| d.overdue) && deadlines.iter().any(|d| !d.overdue),
            "{deadlines:?}"
        );
        let sophie = services
            .user_by_email("sophie@tilleuls.example")
            .await
            .unwrap()
            .unwrap();
        let (inbox, _) = services.referral_lists(&sophie, "test").await.unwrap();
        assert_eq!(inbox.iter().filter(|r| r.status == "accepted").count(), 2);
    });
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("passerelle.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the key file is readable by others: {mode:o}"
        );
    }
}

/// The demo tells the truth: a case at "return in progress" has a return (approved or
/// later); a follow-up share goes to the origin service of the person's own nationality;
/// after the return the person's contact and whereabouts are not French ones.
#[test]
fn the_demo_world_tells_the_truth() {
    use passerelle_core::domain::{Paging, Purpose, Stage};
    use passerelle_core::returns::ReturnStage;
    use passerelle_core::service::cases::Scope;
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let services = build_services(&settings_for(dir.path(), None))
            .await
            .unwrap();
        passerelle::demo::seed(&services).await.unwrap();
        let countries: std::collections::HashMap<i64, String> = services
            .list_orgs()
            .await
            .unwrap()
            .into_iter()
            .map(|o| (o.id, o.country))
            .collect();
        let mut in_progress = 0;
        let mut returned = 0;
        let mut follow_up_shares = 0;
        for owner in ["amelie@passage.example", "nadia@tilleuls.example"] {
            let a = services.user_by_email(owner).await.unwrap().unwrap();
            for stage in [Stage::ReturnInProgress, Stage::Returned, Stage::FollowUp] {
                let page = services
                    .caseload(&a, Scope::Organisation, Some(stage), 1, 200, "test")
                    .await
                    .unwrap();
                for c in page.items.iter().filter(|c| c.access == "owner") {
                    let r = c.reference.as_str();
                    if stage == Stage::ReturnInProgress {
                        in_progress += 1;
                        // The return page shows the return that put the case there.
                        let v = services
                            .return_view(&a, r, "en", "test")
                            .await
                            .unwrap_or_else(|e| panic!("{r} at return_in_progress: {e}"));
                        assert!(
                            v.stage.is_open()
                                && !matches!(
                                    v.stage,
                                    ReturnStage::Requested | ReturnStage::Assessed
                                ),
                            "{r}: at return_in_progress with a return at {}",
                            v.stage
                        );
                        continue;
                    }
                    returned += 1;
                    let case = services.get_case(&a, r, "test").await.unwrap();
                    let person = case.person.unwrap().person;
                    let contact = person.contact.unwrap_or_default();
                    let location = person.location.unwrap_or_default();
                    assert!(
                        !contact.starts_with("+33"),
                        "{r} returned, contact {contact}"
                    );
                    for city in [
                        "Lyon",
                        "Villeurbanne",
                        "Grenoble",
                        "Saint-Étienne",
                        "Vénissieux",
                    ] {
                        assert!(
                            !location.contains(city),
                            "{r} returned, location {location}"
                        );
                    }
                    for sh in case.shares.unwrap_or_default() {
                        if sh.purpose == Purpose::Reintegration {
                            follow_up_shares += 1;
                            assert_eq!(
                                countries.get(&sh.org_id).map(String::as_str),
                                person.nationality.as_deref(),
                                "{r}: a {:?} national shared with {} for follow-up",
                                person.nationality,
                                sh.org
                            );
                        }
                    }
                }
            }
        }
        assert!(
            in_progress >= 1,
            "no case at return_in_progress in the demo"
        );
        assert!(returned >= 5, "{returned} returned cases");
        assert!(follow_up_shares >= 1, "no follow-up share in the demo");
        // Karim's overdue citizenship confirmation is among his deadlines.
        let karim = services
            .user_by_email("karim@passage.example")
            .await
            .unwrap()
            .unwrap();
        let mine = services
            .my_deadlines(&karim, &Default::default(), Paging::default(), "test")
            .await
            .unwrap()
            .items;
        assert!(
            mine.iter()
                .any(|d| d.kind == "citizenship_confirmation_due" && d.overdue),
            "{mine:?}"
        );
    });
}

#[test]
fn plugin_check_and_run_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let fr =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/examples/fr-jurisdiction/plugin");
    let fr = fr.to_str().unwrap();
    let o = run(dir.path(), None, &["plugin", "check", fr], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("fr-jurisdiction") && text(&o).contains("ok"),
        "{}",
        text(&o)
    );
    let input = dir.path().join("child.json");
    std::fs::write(
        &input,
        r#"{"child": true, "stateless": false, "nationality": "NG"}"#,
    )
    .unwrap();
    let o = run(
        dir.path(),
        None,
        &[
            "plugin",
            "run",
            fr,
            "recovery-period",
            input.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.lines().next().unwrap_or("").contains("45"), "{out}");
    assert!(out.contains("fuel used:") && out.contains("time:"), "{out}");
    // A bad hook and a bad directory are explained.
    let o = run(
        dir.path(),
        None,
        &["plugin", "run", fr, "teleport", input.to_str().unwrap()],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("unknown hook"), "{}", text(&o));
    let o = run(
        dir.path(),
        None,
        &["plugin", "check", dir.path().to_str().unwrap()],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("NOT OK"));
}

#[test]
fn the_demo_server_starts_with_its_plugins_from_a_relative_data_dir() {
    // `cargo run --release -- serve --demo` runs from the repository root with ./data.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let data = format!("target-demo-test-{}", std::process::id());
    let mut child = Command::new(BIN)
        .current_dir(&root)
        .args([
            "--data-dir",
            &data,
            "serve",
            "--demo",
            "--bind",
            "127.0.0.1:0",
        ])
        .env_remove("PASSERELLE__DATABASE__URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the banner line that says it listens, or for an early exit.
    use std::io::{BufRead, BufReader};
    let stdout = child.stdout.take().unwrap();
    let mut listening = false;
    let mut seen = String::new();
    for line in BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .take(200)
    {
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("Passerelle listening on") {
            listening = true;
            break;
        }
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(root.join(&data));
    assert!(listening, "{seen}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        seen.contains("passerelle-demo") && seen.contains("amelie@passage.example"),
        "{seen}"
    );
    assert!(
        seen.contains("Plugins: the French jurisdiction and the IOM-style partner"),
        "{seen}"
    );
}

/// Start `serve --demo` from `bin` in `cwd` and return what it printed up to "listening".
fn demo_banner(bin: &Path, cwd: &Path) -> String {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(bin)
        .current_dir(cwd)
        .args([
            "--data-dir",
            "data",
            "serve",
            "--demo",
            "--bind",
            "127.0.0.1:0",
        ])
        .env_remove("PASSERELLE__DATABASE__URL")
        .env_remove("PASSERELLE__PLUGINS__DIR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut seen = String::new();
    for line in BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .take(200)
    {
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("Passerelle listening on") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    seen
}

#[test]
fn the_demo_outside_the_source_tree_says_loudly_that_its_plugins_are_off_or_finds_them_beside_the_binary()
 {
    // The binary copied to a directory of its own, started there: no plugins anywhere.
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("passerelle");
    std::fs::copy(BIN, &bin).unwrap();
    let seen = demo_banner(&bin, dir.path());
    assert!(seen.contains("Passerelle listening on"), "{seen}");
    assert!(seen.contains("PLUGINS ARE OFF"), "{seen}");
    assert!(
        seen.contains("PASSERELLE__PLUGINS__DIR"),
        "says how: {seen}"
    );
    // With the demo plugins beside the binary, they are found and named.
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/examples");
    for (name, src) in [("fr", "fr-jurisdiction"), ("iom", "iom-partner")] {
        let dst = dir.path().join("demo-plugins").join(name);
        std::fs::create_dir_all(&dst).unwrap();
        for f in std::fs::read_dir(examples.join(src).join("plugin")).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), dst.join(f.file_name())).unwrap();
        }
    }
    std::fs::remove_dir_all(dir.path().join("data")).unwrap();
    let seen = demo_banner(&bin, dir.path());
    assert!(seen.contains("Passerelle listening on"), "{seen}");
    assert!(!seen.contains("PLUGINS ARE OFF"), "{seen}");
    assert!(seen.contains("demo-plugins"), "{seen}");
}

/// `passerelle mail test --to ADDRESS` sends one message through the configured transport
/// (here the file outbox the demo uses), and says clearly when mail is off.
#[test]
fn the_cli_sends_a_test_mail_and_says_when_mail_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let off = run(
        dir.path(),
        None,
        &["mail", "test", "--to", "someone@example.org"],
        &[],
    );
    assert!(!off.status.success());
    assert!(text(&off).contains("mail is off"), "{}", text(&off));
    let o = run(
        dir.path(),
        None,
        &["mail", "test", "--to", "someone@example.org"],
        &[("PASSERELLE__MAIL__TRANSPORT", "file")],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("outbox"), "{}", text(&o));
    let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(files.len(), 1);
    let mail = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(
        mail.contains("someone@example.org") && mail.contains("[Passerelle] Test message"),
        "{mail}"
    );
    assert!(
        mail.contains("Message-ID: <") || mail.contains("Message-Id: <"),
        "{mail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_checks_then_imports_a_caseload_file_as_an_administrator() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url().await;
    let url = url.as_deref();
    let o = run(
        dir.path(),
        url,
        &[
            "org",
            "add",
            "--name",
            "Passage",
            "--kind",
            "victim_advocacy",
            "--country",
            "FR",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let pw = [("PASSERELLE_PASSWORD", "correct horse battery")];
    for (email, role) in [
        ("admin@ngo.test", "org_admin"),
        ("adv@ngo.test", "advocate"),
    ] {
        let o = run(
            dir.path(),
            url,
            &[
                "user", "add", "--org", "1", "--email", email, "--name", "A", "--role", role,
            ],
            &pw,
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    let file = dir.path().join("caseload.csv");
    std::fs::write(
        &file,
        "name,birthdate,is_minor,nationality,stateless\n\
         Imported One,1990-01-01,no,NG,no\n\
         Imported Two,1991-02-02,no,GH,no\n\
         Imported Three,,no,,yes\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let import = |extra: &[&str]| {
        let mut args = vec!["import", "cases", f, "--as", "admin@ngo.test"];
        args.extend_from_slice(extra);
        run(dir.path(), url, &args, &[])
    };
    let o = import(&["--check"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("3 rows, no problem"), "{}", text(&o));
    let o = import(&[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("3 cases imported"), "{}", text(&o));
    assert!(text(&o).contains("references PSG-"), "{}", text(&o));
    // The same file again: each person already has a case; a bad date; nothing written.
    std::fs::write(
        &file,
        "name,birthdate,is_minor,nationality,stateless\n\
         Imported One,1990-01-01,no,NG,no\n\
         Imported Four,1990-13-01,no,NG,no\n",
    )
    .unwrap();
    let o = import(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("row 2, name:") && t.contains("already exists"),
        "{t}"
    );
    assert!(t.contains("row 3, birthdate:"), "{t}");
    assert!(t.contains("nothing was imported"), "{t}");
    // Not an administrator: refused, said so.
    let o = run(
        dir.path(),
        url,
        &["import", "cases", f, "--as", "adv@ngo.test", "--check"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("administrator"), "{}", text(&o));
    let services = build_services(&settings_for(dir.path(), url))
        .await
        .unwrap();
    let n = services
        .db
        .query_one_raw(Statement::from_string(
            services.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM cases",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(n, 3, "the refused file added nothing");
}
