//! A real SMTP server for the tests: `tests/smtp/server.py` (aiosmtpd from PyPI) on a free
//! port, writing every accepted message to a directory. Without Python's aiosmtpd the
//! tests that need it say loudly that they skip, and fail when
//! `PASSERELLE_REQUIRE_EXTERNAL=1` (as `.ci/run` sets it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct SmtpServer {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
    _tmp: tempfile::TempDir,
}

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub envelope_to: String,
    /// The whole message (headers and body, as sent: possibly quoted-printable).
    pub raw: String,
}

impl Mail {
    /// A header's value (the first one), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or("");
        let mut out: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = out.as_mut()
                && (line.starts_with(' ') || line.starts_with('\t'))
            {
                v.push_str(line.trim_start());
                continue;
            }
            if out.is_some() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case(name)
            {
                out = Some(v.trim().to_owned());
            }
        }
        out
    }
    /// The message with quoted-printable soft line breaks and `=XX` escapes undone, for
    /// looking at the words of its parts.
    pub fn decoded(&self) -> String {
        let s = self.raw.replace("=\r\n", "");
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'='
                && i + 2 < b.len()
                && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
            {
                out.push(v);
                i += 3;
                continue;
            }
            out.push(b[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl SmtpServer {
    /// Start the server (`args`: e.g. `["--refuse-first", "2"]`); None when Python's
    /// aiosmtpd is not installed (after saying so, or failing in CI).
    pub fn start(args: &[&str]) -> Option<SmtpServer> {
        let ok = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            crate::skip_or_fail("an SMTP server (python3 -m pip install aiosmtpd)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("mail");
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("smtp/server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args([
                "--port",
                &port.to_string(),
                "--out",
                &dir.display().to_string(),
            ])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        Some(SmtpServer {
            port,
            dir,
            child,
            _tmp: tmp,
        })
    }

    /// Every message received so far.
    pub fn mails(&self) -> Vec<Mail> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return vec![];
        };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|p| std::fs::read(p).ok())
            .map(|b| {
                let raw = String::from_utf8_lossy(&b).into_owned();
                let first = raw.lines().next().unwrap_or("");
                Mail {
                    envelope_to: first
                        .strip_prefix("X-Envelope-To: ")
                        .unwrap_or("")
                        .to_owned(),
                    raw,
                }
            })
            .collect()
    }

    /// Wait until at least `n` messages arrived (at most `secs` seconds); what arrived.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Mail> {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let m = self.mails();
            if m.len() >= n || std::time::Instant::now() > end {
                return m;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Point the app's mail at this server, with quick polls and retries.
    pub fn configure(&self, s: &mut passerelle::config::Settings) {
        s.mail.transport = "smtp".into();
        s.mail.host = "127.0.0.1".into();
        s.mail.port = self.port;
        s.mail.security = "none".into();
        s.mail.poll_ms = 100;
        s.mail.first_retry_secs = 1;
        s.mail.max_retry_secs = 1;
        s.mail.lease_secs = 5;
        s.mail.base_url = "https://passerelle.test".into();
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
