//! `passerelle key …`: the data keys and the master key (issue 15, point 4). The procedure
//! is in README.md ("Rotating the keys"); the rules in `passerelle_core::keys`.

use crate::config::Settings;
use crate::startup::build_services;
use clap::Subcommand;
use passerelle_core::crypto::{KeyRing, write_key_file};
use passerelle_core::service::keys::Step;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// The master key this configuration runs with, the data keys, and the re-encryption
    /// job's progress.
    Status,
    /// Wrap every data key under a new master key too, while the servers run. Writes the
    /// new key to FILE (mode 0600) unless FILE exists (then it is used as it is). Then
    /// restart each node with the new key, and retire the old one with `key retire`.
    Rotate {
        #[arg(long = "new-key-file", value_name = "FILE")]
        new_key_file: PathBuf,
    },
    /// Drop every wrapping under the master key MASTER_ID (see `key status`). Run with the
    /// new key, once every node runs on it.
    Retire { master_id: String },
    /// After a master key was compromised and replaced (rotate, restart, retire): give
    /// every organisation a new data key, retire the old ones, and re-seal every field.
    /// Runs the job here, showing its progress; a job that was interrupted is resumed.
    /// With --detach, the servers run it in the background instead.
    Reencrypt {
        /// Rows per transaction.
        #[arg(long, default_value_t = 500)]
        batch: usize,
        #[arg(long)]
        detach: bool,
    },
    /// Open every sealed field in the database; exits 1 if one does not open.
    Verify,
}

/// The lease holder of a job run from the command line: a rerun takes its lease back at
/// once (the servers wait for it to lapse).
const CLI_WORKER: &str = "command-line";

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub async fn run(settings: &Settings, command: KeyCommand) -> anyhow::Result<ExitCode> {
    let services = build_services(settings).await?;
    match command {
        KeyCommand::Status => {
            println!("master key: {}", services.keys.master_id());
            for k in services.keys.data_keys() {
                let owner = match k.org {
                    Some(o) => format!("organisation {o}"),
                    None if k.id == passerelle_core::crypto::LEGACY_KEY => {
                        "legacy (format 1)".to_owned()
                    }
                    None => "deployment".to_owned(),
                };
                let state = if k.retired {
                    "retired".to_owned()
                } else if k.active_from > chrono::Utc::now() {
                    format!(
                        "seals from {}",
                        k.active_from.format("%Y-%m-%d %H:%M:%S UTC")
                    )
                } else {
                    "current".to_owned()
                };
                println!("data key {}\t{owner}\t{state}", k.id);
            }
            match services.key_job().await.map_err(err)? {
                Some(j) => println!(
                    "re-encryption job {}: {} (pass {}, {}/{} rows, {}%, {} fields re-sealed)",
                    j.id,
                    j.state,
                    j.pass,
                    j.done,
                    j.total,
                    j.percent(),
                    j.resealed
                ),
                None => println!("no re-encryption job has run"),
            }
            Ok(ExitCode::SUCCESS)
        }
        KeyCommand::Rotate { new_key_file } => {
            let new = if new_key_file.exists() {
                KeyRing::load_or_create(&new_key_file)?
            } else {
                let hex = services.keys.successor_hex()?;
                write_key_file(&new_key_file, &hex)?;
                println!("new master key written to {}", new_key_file.display());
                KeyRing::from_hex(&hex)?
            };
            let added = services.rotate_master_key(&new).await.map_err(err)?;
            println!(
                "{added} data keys wrapped under the new master key {} (the current one, {}, still opens them)",
                new.master_id(),
                services.keys.master_id()
            );
            println!(
                "next: restart every node with the new key, then run `passerelle key retire {}` with it",
                services.keys.master_id()
            );
            Ok(ExitCode::SUCCESS)
        }
        KeyCommand::Retire { master_id } => {
            let n = services
                .retire_master_key(master_id.trim())
                .await
                .map_err(err)?;
            println!("master key {master_id} retired: {n} wrappings removed");
            Ok(ExitCode::SUCCESS)
        }
        KeyCommand::Reencrypt { batch, detach } => {
            let worker = (!detach).then_some(CLI_WORKER);
            let before = services.key_job().await.map_err(err)?;
            let job = services.start_reencryption(worker).await.map_err(err)?;
            match before {
                Some(b) if b.id == job.id => println!(
                    "resuming the re-encryption job {} at pass {}, {}/{} rows",
                    job.id, job.pass, job.done, job.total
                ),
                _ => println!(
                    "re-encryption job {} started: new data keys seal from {}; {} rows to look at",
                    job.id,
                    passerelle_core::keys::ACTIVATION_DELAY,
                    job.total
                ),
            }
            if detach {
                println!(
                    "the servers run it in the background: follow it with `passerelle key status`"
                );
                return Ok(ExitCode::SUCCESS);
            }
            follow(&services, batch.clamp(1, 10_000)).await
        }
        KeyCommand::Verify => {
            let r = services.verify_sealed_fields().await.map_err(err)?;
            let keys: Vec<String> = r
                .by_key
                .iter()
                .map(|(k, n)| format!("key {k}: {n}"))
                .collect();
            println!("{} sealed fields open ({})", r.fields(), keys.join(", "));
            if r.failures.is_empty() {
                return Ok(ExitCode::SUCCESS);
            }
            for (t, c, n) in &r.failures {
                println!("DOES NOT OPEN: {t}.{c}: {n} fields");
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// Run the job here until it is done, one batch after another, with a progress bar.
async fn follow(services: &passerelle_core::Services, batch: usize) -> anyhow::Result<ExitCode> {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "re-encrypting, pass {msg} [{bar:40}] {pos}/{len} rows ({eta} left)",
        )
        .map_err(err)?
        .progress_chars("=> "),
    );
    loop {
        let t = std::time::Instant::now();
        match services
            .reencrypt_step(CLI_WORKER, batch)
            .await
            .map_err(err)?
        {
            Step::Idle => {
                bar.finish_and_clear();
                println!("no re-encryption job is running");
                return Ok(ExitCode::SUCCESS);
            }
            Step::Busy(until) => {
                bar.finish_and_clear();
                println!(
                    "another process runs the job (its hold lapses at {}); follow it with `passerelle key status`",
                    until.format("%H:%M:%S UTC")
                );
                return Ok(ExitCode::SUCCESS);
            }
            Step::Waiting(from) => {
                bar.set_message(format!(
                    "1 (the new keys seal from {})",
                    from.format("%H:%M:%S")
                ));
                let wait = (from - chrono::Utc::now())
                    .to_std()
                    .unwrap_or_default()
                    .min(std::time::Duration::from_secs(1));
                tokio::time::sleep(wait + std::time::Duration::from_millis(50)).await;
            }
            Step::Progress(j) => {
                bar.set_message(j.pass.to_string());
                bar.set_length(j.total.max(0) as u64);
                bar.set_position(j.done.max(0) as u64);
                // As long again without the write lock, for the servers' writes.
                tokio::time::sleep(t.elapsed().max(std::time::Duration::from_millis(5))).await;
                if j.state == "done" {
                    bar.finish_and_clear();
                    println!(
                        "re-encryption done: every field is sealed with the new data keys; the retired keys are destroyed ({} passes)",
                        j.pass
                    );
                    return Ok(ExitCode::SUCCESS);
                }
            }
        }
    }
}
