//! `plugin.toml`: what a plugin directory declares about itself.

use crate::error::{PluginError, PluginName};
use crate::limits::PluginLimits;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The plugin API versions this host supports (the WIT package `passerelle:plugin`):
/// 0.1.x (`wit/0.1.0/plugin.wit`, frozen) and 0.2.x (`wit/plugin.wit`).
pub const SUPPORTED_API: &str = ">=0.1.0, <0.3.0";
/// The manifest's file name inside a plugin directory.
pub const MANIFEST_FILE: &str = "plugin.toml";

/// Which world a plugin's component targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum World {
    Jurisdiction,
    Partner,
}

impl World {
    pub fn as_str(self) -> &'static str {
        match self {
            World::Jurisdiction => "jurisdiction",
            World::Partner => "partner",
        }
    }
}

/// The API versions the host has bindings for. Under semver a `0.x` minor version is its
/// own compatibility track: 0.1.3 is a 0.1 plugin, 0.2.0 is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Api {
    /// 0.1.x: the required hooks only.
    #[serde(rename = "0.1")]
    V0_1,
    /// 0.2.x: the required hooks, and the optional ones the component exports.
    #[serde(rename = "0.2")]
    V0_2,
}

impl Api {
    /// The track of a version in [`SUPPORTED_API`] (None for any other version).
    pub fn of(version: &str) -> Option<Api> {
        let v = semver::Version::parse(version).ok()?;
        let supported = semver::VersionReq::parse(SUPPORTED_API).ok()?;
        if !supported.matches(&v) {
            return None;
        }
        match (v.major, v.minor) {
            (0, 1) => Some(Api::V0_1),
            (0, 2) => Some(Api::V0_2),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Api::V0_1 => "0.1",
            Api::V0_2 => "0.2",
        }
    }
}

/// The contents of `plugin.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Lower-case letters, digits and '-'.
    pub id: String,
    /// Semantic version of the plugin itself.
    pub version: String,
    /// The plugin API version it was built against, e.g. "0.1.0".
    pub api_version: String,
    pub world: World,
    /// ISO 3166-1 alpha-2 codes served by a jurisdiction plugin.
    #[serde(default)]
    pub jurisdictions: Vec<String>,
    /// Partner ids served by a partner plugin.
    #[serde(default)]
    pub partners: Vec<String>,
    /// The component's file name, inside the plugin directory.
    pub component: String,
    /// Lower-case hex sha256 of the component file.
    pub sha256: String,
    /// Per-plugin limits, capped by the server's.
    #[serde(default)]
    pub limits: PluginLimits,
}

impl Manifest {
    pub fn name(&self) -> PluginName {
        PluginName {
            id: self.id.clone(),
            version: self.version.clone(),
        }
    }

    /// Read and validate `<dir>/plugin.toml` (not the component: see [`read_component`]).
    pub fn load(dir: &Path) -> Result<Manifest, PluginError> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| manifest_err(dir, e))?;
        let m: Manifest = toml::from_str(&text).map_err(|e| PluginError::Manifest {
            path: path.display().to_string(),
            detail: format!("invalid plugin.toml: {}", e.message()),
        })?;
        m.validate().map_err(|detail| PluginError::Manifest {
            path: path.display().to_string(),
            detail,
        })?;
        Ok(m)
    }

    fn validate(&self) -> Result<(), String> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(format!(
                "id '{}' must be 1 to 64 lower-case letters, digits or '-'",
                short(&self.id)
            ));
        }
        semver::Version::parse(&self.version)
            .map_err(|e| format!("version '{}' is not semver: {e}", short(&self.version)))?;
        semver::Version::parse(&self.api_version).map_err(|e| {
            format!(
                "api_version '{}' is not semver: {e}",
                short(&self.api_version)
            )
        })?;
        match self.world {
            World::Jurisdiction => {
                if self.jurisdictions.is_empty() || !self.partners.is_empty() {
                    return Err(
                        "a jurisdiction plugin lists jurisdictions = [\"FR\", …] and no partners"
                            .into(),
                    );
                }
                for c in &self.jurisdictions {
                    if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                        return Err(format!(
                            "jurisdiction '{}' is not an ISO 3166-1 alpha-2 code such as \"FR\"",
                            short(c)
                        ));
                    }
                }
            }
            World::Partner => {
                if self.partners.is_empty() || !self.jurisdictions.is_empty() {
                    return Err(
                        "a partner plugin lists partners = [\"…\"] and no jurisdictions".into(),
                    );
                }
                for p in &self.partners {
                    if p.is_empty() || p.len() > 64 {
                        return Err("partner ids are 1 to 64 characters".into());
                    }
                }
            }
        }
        let file_ok = !self.component.is_empty()
            && Path::new(&self.component).file_name().map(|f| f.len())
                == Some(self.component.len())
            && self.component.ends_with(".wasm");
        if !file_ok {
            return Err(format!(
                "component '{}' must be a .wasm file name inside the plugin directory",
                short(&self.component)
            ));
        }
        if self.sha256.len() != 64
            || !self
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err("sha256 must be 64 lower-case hex digits".into());
        }
        Ok(())
    }

    /// Is this manifest's API version in the host's supported range? Which track?
    pub fn check_api(&self) -> Result<Api, PluginError> {
        check_api_version(&self.name(), &self.api_version)
    }

    /// The component's path.
    pub fn component_path(&self, dir: &Path) -> PathBuf {
        dir.join(&self.component)
    }
}

/// Refuse an API version outside [`SUPPORTED_API`], naming both; else its track.
pub fn check_api_version(plugin: &PluginName, found: &str) -> Result<Api, PluginError> {
    Api::of(found).ok_or_else(|| PluginError::IncompatibleApi {
        plugin: plugin.clone(),
        found: short(found).to_owned(),
        supported: SUPPORTED_API.to_owned(),
    })
}

/// Read the component and check its digest against the manifest.
pub fn read_component(dir: &Path, m: &Manifest) -> Result<Vec<u8>, PluginError> {
    let path = m.component_path(dir);
    let bytes = std::fs::read(&path).map_err(|e| manifest_err(&path, e))?;
    let actual = sha256_hex(&bytes);
    if actual != m.sha256 {
        return Err(PluginError::DigestMismatch {
            plugin: m.name(),
            expected: m.sha256.clone(),
            actual,
        });
    }
    Ok(bytes)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn manifest_err(path: &Path, e: std::io::Error) -> PluginError {
    PluginError::Manifest {
        path: path.display().to_string(),
        detail: format!("cannot read: {e}"),
    }
}

fn short(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn each_supported_minor_version_is_a_track_and_others_are_refused() {
        assert_eq!(Api::of("0.1.0"), Some(Api::V0_1));
        assert_eq!(Api::of("0.1.7"), Some(Api::V0_1));
        assert_eq!(Api::of("0.2.0"), Some(Api::V0_2));
        assert_eq!(Api::of("0.2.3"), Some(Api::V0_2));
        for v in ["0.0.9", "0.3.0", "1.0.0", "0.2.0-rc.1", "0.2", "x"] {
            assert_eq!(Api::of(v), None, "{v}");
        }
        let name = PluginName {
            id: "p".into(),
            version: "1.0.0".into(),
        };
        let e = check_api_version(&name, "0.3.0").unwrap_err();
        assert_eq!(
            e.to_string(),
            "plugin p 1.0.0 was built for plugin API 0.3.0, but this server supports \
             >=0.1.0, <0.3.0; rebuild the plugin with a supported SDK"
        );
    }
}
