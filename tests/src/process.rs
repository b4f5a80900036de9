//! Whole server processes for the tests that kill one (`kill -9`): `passerelle serve` on
//! the test app's database and key, in its own data directory, on a free port.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::TestApp;
use secrecy::ExposeSecret;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `passerelle serve`; killed (SIGKILL) when dropped.
pub struct ServerProcess {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Start `bin` (`env!("CARGO_BIN_EXE_passerelle-node")`) as `serve` on the test app's
    /// database and key, with `env` (`PASSERELLE__SECTION__KEY` settings) on top, and wait
    /// until it listens.
    pub fn start(bin: &Path, app: &TestApp, env: &[(&str, String)]) -> ServerProcess {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Command::new(bin);
        if app.settings.security.key.expose_secret().trim().is_empty() {
            // The test app's key file (its mode kept: private).
            std::fs::copy(app.settings.key_path(), dir.path().join("passerelle.key")).unwrap();
        } else {
            c.env(
                "PASSERELLE__SECURITY__KEY",
                app.settings.security.key.expose_secret(),
            );
        }
        c.args(["--data-dir", &dir.path().display().to_string()])
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env(
                "PASSERELLE__DATABASE__URL",
                app.settings.database_url().unwrap(),
            )
            .env("RUST_LOG", "warn")
            // As `spawn_app`: the second factor is tested apart (two_factor.rs).
            .env("PASSERELLE__SECURITY__TWO_FACTOR_ROLES", "")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = String::new();
        let port = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(addr) = line.strip_prefix("Passerelle listening on http://") {
                        break addr.rsplit(':').next().unwrap().parse::<u16>().unwrap();
                    }
                    seen.push_str(&line);
                    seen.push('\n');
                }
                _ => {
                    let _ = child.kill();
                    panic!("the server did not start:\n{seen}");
                }
            }
        };
        // Keep reading what it prints, so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        ServerProcess {
            child,
            port,
            _dir: dir,
        }
    }

    /// SIGKILL: the process ends at once, in the middle of whatever it was doing.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
