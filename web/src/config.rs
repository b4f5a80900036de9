//! Layered configuration: embedded `config/default.toml`, then `--config FILE`, then
//! `PASSERELLE__SECTION__KEY` environment variables, then command-line flags.

use secrecy::SecretString;
use serde::Deserialize;
use std::path::{Path, PathBuf};

const DEFAULTS: &str = include_str!("../../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub security: SecuritySettings,
    pub ui: UiSettings,
    pub workflow: WorkflowSettings,
    pub plugins: PluginSettings,
    pub mail: crate::mail::MailSettings,
    pub limits: crate::limits::LimitSettings,
    pub retention: RetentionSettings,
}

/// `[retention]`: how long after closing a case becomes erasable for the end of its
/// retention (its organisation's administrator decides; nothing is erased by itself).
#[derive(Debug, Clone, Deserialize)]
pub struct RetentionSettings {
    pub erase_after_days: i64,
}

/// `[plugins]`: which plugins, which countries and partners they serve, their bounds.
#[derive(Debug, Clone, Deserialize)]
pub struct PluginSettings {
    pub dir: String,
    #[serde(default)]
    pub jurisdictions: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub partners: std::collections::BTreeMap<String, String>,
    /// Organisation name → partner id.
    #[serde(default)]
    pub organisations: std::collections::BTreeMap<String, String>,
    pub limits: passerelle_plugins::limits::Limits,
    pub engine: passerelle_plugins::limits::EngineSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowSettings {
    pub referral_answer_days: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub bind: String,
    pub data_dir: PathBuf,
    pub secure_cookies: String,
    pub max_body_bytes: usize,
    pub workers: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SecuritySettings {
    pub key: SecretString,
    pub idle_timeout_minutes: i64,
    pub absolute_timeout_hours: i64,
    pub max_login_failures: i32,
    pub failure_window_minutes: i64,
    pub lockout_minutes: i64,
    /// Comma-separated roles that must sign in with a second factor.
    pub two_factor_roles: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UiSettings {
    pub templates_dir: String,
    pub default_language: String,
}

impl Settings {
    /// Load the layers. `file` is an optional extra TOML file.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut b = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(f) = file {
            b = b.add_source(config::File::from(f).required(true));
        }
        b = b.add_source(
            config::Environment::with_prefix("PASSERELLE")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
        let s: Settings = b
            .build()
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))?
            .try_deserialize()
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        Ok(s)
    }

    pub fn database_url(&self) -> anyhow::Result<String> {
        if self.database.url.trim().is_empty() {
            std::fs::create_dir_all(&self.server.data_dir).map_err(|e| {
                anyhow::anyhow!(
                    "cannot create the data directory {}: {e}",
                    self.server.data_dir.display()
                )
            })?;
            Ok(passerelle_core::store::sqlite_url(&self.sqlite_path()))
        } else {
            Ok(self.database.url.trim().to_owned())
        }
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.server.data_dir.join("passerelle.db")
    }

    pub fn key_path(&self) -> PathBuf {
        self.server.data_dir.join("passerelle.key")
    }

    pub fn is_sqlite(&self) -> bool {
        let u = self.database.url.trim();
        u.is_empty() || u.starts_with("sqlite:")
    }

    /// Whether cookies get the Secure attribute (and the `__Host-` prefix).
    pub fn secure_cookies(&self) -> bool {
        match self.server.secure_cookies.as_str() {
            "on" | "true" => true,
            "off" | "false" => false,
            _ => !is_loopback(&self.server.bind),
        }
    }
}

fn is_loopback(bind: &str) -> bool {
    bind.parse::<std::net::SocketAddr>()
        .map(|a| a.ip().is_loopback())
        .unwrap_or_else(|_| bind.starts_with("localhost:"))
}
