//! The command line.

use crate::config::Settings;
use crate::startup::{Application, build_services, open_store};
use clap::{Parser, Subcommand};
use passerelle_core::service::admin::{NewOrg, NewUser};
use passerelle_core::service::audit::{Verified, verify_chain};
use std::path::PathBuf;
use std::process::ExitCode;

mod keys;

#[derive(Parser, Debug)]
#[command(
    name = "passerelle",
    version,
    about = "Passerelle: case management for the protection of victims of trafficking and smuggled migrants"
)]
pub struct Cli {
    /// Extra configuration file (TOML), layered over config/default.toml.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Data directory (SQLite database, key file). Default: ./data
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server.
    Serve {
        /// Seed a fictional demo world into an empty database (refused on a real one).
        #[arg(long)]
        demo: bool,
        /// Address to listen on, e.g. 127.0.0.1:8080
        #[arg(long)]
        bind: Option<String>,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Plugins: run a hook against a JSON input, or check a plugin directory.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Mail: send a test message through the configured transport.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Import an existing caseload from a CSV file (columns: docs/import.md), as an
    /// organisation administrator; `--check` reports every problem and writes nothing.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// The keys: status, rotation of the master key, re-encryption after a compromise,
    /// and a check that every sealed field opens.
    Key {
        #[command(subcommand)]
        command: keys::KeyCommand,
    },
    /// Write a consistent copy of the SQLite database to FILE while the server runs.
    Backup { file: PathBuf },
    /// Replace the SQLite database with a backup FILE (the server must be stopped).
    Restore {
        file: PathBuf,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Cases from a CSV file: all of its rows, or none if one has a problem.
    Cases {
        file: PathBuf,
        /// The organisation administrator to import as (the cases are their
        /// organisation's; the import is audited under their name).
        #[arg(long = "as", value_name = "EMAIL")]
        as_user: String,
        /// Only check the file: every problem, nothing written.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum MailCommand {
    /// Send a test message to ADDRESS at once (not through the outbox).
    Test {
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Add an organisation.
    Add {
        #[arg(long)]
        name: String,
        /// shelter, victim_advocacy, return_agency, origin_service, law_enforcement, state_authority
        #[arg(long)]
        kind: String,
        /// ISO 3166-1 alpha-2 code, e.g. FR
        #[arg(long)]
        country: String,
    },
    /// List organisations.
    List,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user. The password is read from the PASSERELLE_PASSWORD environment
    /// variable, or else from the first line of standard input.
    Add {
        /// Organisation id (see `passerelle org list`).
        #[arg(long)]
        org: i64,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// advocate, shelter_coordinator, return_officer, follow_up_officer, org_admin, system_admin, auditor
        #[arg(long)]
        role: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// Run HOOK of the plugin in DIR on the JSON in INPUT; prints the output, the fuel
    /// used and the time. Hooks: questions, recovery-period, decision-rules,
    /// protective-measures, return-requirements, follow-up-schedule, guard-transition,
    /// format-request, read-status, and the optional hooks of plugin API 0.2: fund-rules
    /// (INPUT: a FundingAsk), reintegration-indicators (a PersonFacts), measure-deciders
    /// (no input); on a plugin without the hook they print the core's default and say so.
    Run {
        dir: PathBuf,
        hook: String,
        input: PathBuf,
    },
    /// Check a plugin directory: manifest, digest, API version, compilation.
    Check { dir: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the hash chain; exits 1 and names the first broken entry.
    Verify,
}

fn settings(cli: &Cli) -> anyhow::Result<Settings> {
    let mut s = Settings::load(cli.config.as_deref())?;
    if let Some(d) = &cli.data_dir {
        s.server.data_dir = d.clone();
    }
    Ok(s)
}

pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PASSERELLE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Run the command line; returns the process exit code.
pub async fn run(cli: Cli) -> ExitCode {
    match dispatch(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut settings = settings(&cli)?;
    match cli.command {
        Command::Serve { demo, bind } => {
            if let Some(b) = bind {
                settings.server.bind = b;
            }
            let (services, plugins) =
                crate::startup::build_services_with_plugins(&settings, demo).await?;
            if demo {
                let accounts = crate::demo::seed(&services).await?;
                crate::demo::banner(
                    &accounts,
                    &settings.server.bind,
                    &crate::plugins::demo_plugins_line(&settings),
                );
            } else if crate::demo::is_demo(&services).await? {
                println!("note: this database holds the fictional demo world");
            }
            let app = Application::build_with_plugins(&settings, services, demo, plugins)?;
            println!(
                "Passerelle listening on http://{}",
                display_bind(&settings.server.bind, app.port)
            );
            app.server.await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            open_store(&settings).await?;
            println!("database schema is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Org { command } => {
            let services = build_services(&settings).await?;
            match command {
                OrgCommand::Add {
                    name,
                    kind,
                    country,
                } => {
                    let o = services
                        .create_org(
                            None,
                            NewOrg {
                                name: &name,
                                kind: &kind,
                                country: &country,
                            },
                        )
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    println!(
                        "organisation {} created: {} ({}, {})",
                        o.id, o.name, o.kind, o.country
                    );
                }
                OrgCommand::List => {
                    for o in services
                        .list_orgs()
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?
                    {
                        println!("{}\t{}\t{}\t{}", o.id, o.kind, o.country, o.name);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command } => {
            let UserCommand::Add {
                org,
                email,
                name,
                role,
            } = command;
            let password = match std::env::var("PASSERELLE_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    eprintln!("password (one line):");
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let services = build_services(&settings).await?;
            let u = services
                .create_user(
                    None,
                    NewUser {
                        org_id: org,
                        email: &email,
                        display_name: &name,
                        role: &role,
                        password: &password,
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "user {} created: {} ({}) in {}",
                u.id, u.email, u.role, u.org_name
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let db = open_store(&settings).await?;
            match verify_chain(&db)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                Verified::Intact { entries } => {
                    println!("audit log intact: {entries} entries verified");
                    Ok(ExitCode::SUCCESS)
                }
                Verified::Broken(b) => {
                    println!("AUDIT LOG BROKEN: {b}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Plugin { command } => plugin_command(command),
        Command::Mail {
            command: MailCommand::Test { to },
        } => {
            let said =
                crate::mail::send_test(&settings.mail, &settings.server.data_dir, &to).await?;
            println!("{said}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            command:
                ImportCommand::Cases {
                    file,
                    as_user,
                    check,
                },
        } => import_cases(&settings, &file, &as_user, check).await,
        Command::Key { command } => keys::run(&settings, command).await,
        Command::Backup { file } => {
            if !settings.is_sqlite() {
                anyhow::bail!(
                    "backup of PostgreSQL is done with pg_dump (see README, \"Backup and restore\"); this command backs up the SQLite database"
                );
            }
            if file.exists() {
                anyhow::bail!("{} already exists; choose a new file name", file.display());
            }
            let db = open_store(&settings).await?;
            passerelle_core::store::sqlite_backup(&db, &file).await?;
            println!("backup written to {}", file.display());
            println!(
                "keep the key file ({}) safe and apart: the backup cannot be read without it",
                settings.key_path().display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { file, force } => {
            if !settings.is_sqlite() {
                anyhow::bail!("restore of PostgreSQL is done with pg_restore/psql (see README)");
            }
            restore(&settings, &file, force).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Check the backup opens, migrates and has an intact audit chain, then move it into place.
async fn restore(settings: &Settings, file: &std::path::Path, force: bool) -> anyhow::Result<()> {
    if !file.exists() {
        anyhow::bail!("{} does not exist", file.display());
    }
    let target = settings.sqlite_path();
    if target.exists() && !force {
        anyhow::bail!(
            "{} exists; stop the server and pass --force to replace it",
            target.display()
        );
    }
    std::fs::create_dir_all(&settings.server.data_dir)?;
    let staging = settings.server.data_dir.join("passerelle.db.restoring");
    std::fs::copy(file, &staging)?;
    {
        let db = passerelle_core::store::connect(&passerelle_core::store::sqlite_url(&staging), 1)
            .await?;
        match verify_chain(&db)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
        {
            Verified::Intact { entries } => {
                println!("backup checked: audit log intact ({entries} entries)")
            }
            Verified::Broken(b) => {
                anyhow::bail!("the backup's audit log is broken ({b}); not restored")
            }
        }
        db.close().await?;
    }
    for ext in ["db-wal", "db-shm"] {
        let p = settings.server.data_dir.join(format!("passerelle.{ext}"));
        if p.exists() {
            std::fs::remove_file(p)?;
        }
    }
    let _ = std::fs::remove_file(settings.server.data_dir.join("passerelle.db.restoring-wal"));
    let _ = std::fs::remove_file(settings.server.data_dir.join("passerelle.db.restoring-shm"));
    std::fs::rename(&staging, &target)?;
    println!("restored {} into {}", file.display(), target.display());
    Ok(())
}

fn display_bind(bind: &str, port: u16) -> String {
    match bind.rsplit_once(':') {
        Some((host, _)) => format!("{host}:{port}"),
        None => format!("{bind}:{port}"),
    }
}

fn plugin_command(command: PluginCommand) -> anyhow::Result<ExitCode> {
    match command {
        PluginCommand::Run { dir, hook, input } => {
            let json = std::fs::read_to_string(&input)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", input.display()))?;
            match passerelle_plugins::runner::run(&dir, &hook, &json) {
                Ok(r) => {
                    println!("{}", r.output_json);
                    if let Some(note) = &r.note {
                        println!("note: {note}");
                    }
                    println!("fuel used: {}", r.fuel_used);
                    println!("time: {:.3} ms", r.elapsed.as_secs_f64() * 1000.0);
                    if !r.log.is_empty() {
                        println!("log:\n{}", r.log);
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("plugin call failed: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        PluginCommand::Check { dir } => {
            let r = passerelle_plugins::runner::check(&dir);
            if let Some(m) = &r.manifest {
                println!(
                    "plugin {} {} (API {}, world {:?})",
                    m.id, m.version, m.api_version, m.world
                );
            }
            println!("supported API: {}", r.supported_api);
            if !r.hooks.is_empty() {
                println!("optional hooks: {}", r.hooks.join(", "));
            }
            if let Some(d) = &r.sha256 {
                println!("sha256: {d}");
            }
            println!("load: {} ms", r.load_ms);
            for p in &r.problems {
                println!("problem: {p}");
            }
            println!("{}", if r.ok { "ok" } else { "NOT OK" });
            Ok(if r.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// `passerelle import cases`: read the file, check or import it with a progress bar, and
/// print the report (row, column, what is wrong; the values only on the terminal).
async fn import_cases(
    settings: &Settings,
    file: &std::path::Path,
    as_user: &str,
    check: bool,
) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let services = build_services(settings).await?;
    let actor = services
        .import_actor(as_user)
        .await
        .map_err(|e| anyhow::anyhow!("{as_user}: {e}"))?;
    // The check first: its whole report, or the import.
    let checked = services
        .import_cases(&actor, &bytes, true, "cli:import")
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    if !checked.problems.is_empty() || checked.omitted > 0 {
        for p in &checked.problems {
            let at = match &p.column {
                Some(c) => format!("row {}, {c}", p.row),
                None => format!("row {}", p.row),
            };
            match &p.value {
                Some(v) => eprintln!("{at}: {} ({v:?})", p.message),
                None => eprintln!("{at}: {}", p.message),
            }
        }
        if checked.omitted > 0 {
            eprintln!("… and {} more problems", checked.omitted);
        }
        eprintln!(
            "{}: {} problems; nothing was imported",
            file.display(),
            checked.problems.len() + checked.omitted
        );
        return Ok(ExitCode::from(2));
    }
    if check {
        println!(
            "{}: {} rows, no problem: ready to import",
            file.display(),
            checked.rows
        );
        return Ok(ExitCode::SUCCESS);
    }
    let bar = indicatif::ProgressBar::new(checked.valid_rows as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("importing [{bar:40}] {pos}/{len} ({eta} left)")
            .map_err(|e| anyhow::anyhow!("progress bar: {e}"))?
            .progress_chars("=> "),
    );
    let shown = bar.clone();
    let outcome = services
        .import_cases_showing(&actor, &bytes, false, "cli:import", &move |done, total| {
            shown.set_length(total as u64);
            shown.set_position(done as u64);
        })
        .await;
    bar.finish_and_clear();
    match outcome {
        Ok(o) => {
            println!("{}: {} cases imported", file.display(), o.imported.len());
            if let (Some(a), Some(b)) = (o.imported.first(), o.imported.last()) {
                println!("references {} to {}", a.reference, b.reference);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}: {e}; nothing was imported", file.display());
            Ok(ExitCode::from(2))
        }
    }
}
