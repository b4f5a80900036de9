//! One error type for everything a plugin can do wrong, with sentences for the user.

use passerelle_core::ports::PortError;

/// Which plugin failed: id and version, for every message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginName {
    pub id: String,
    pub version: String,
}

impl std::fmt::Display for PluginName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "plugin {} {}", self.id, self.version)
    }
}

/// A plugin failed. The `Display` text is a sentence for the user: it names the plugin
/// and what went wrong, never the data of a case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// The plugin answered with an error of its own (its words).
    #[error("{plugin} refused: {message}")]
    Domain { plugin: PluginName, message: String },
    /// The call used up its fuel (instructions budget).
    #[error("{plugin} was stopped: it used more than its budget of {fuel} fuel units")]
    OutOfFuel { plugin: PluginName, fuel: u64 },
    /// The call ran longer than its wall-clock bound.
    #[error("{plugin} was stopped: it ran longer than {timeout_ms} ms")]
    Timeout { plugin: PluginName, timeout_ms: u64 },
    /// The plugin tried to use more memory than allowed.
    #[error("{plugin} was stopped: it tried to use more than {limit_bytes} bytes of memory")]
    Memory {
        plugin: PluginName,
        limit_bytes: usize,
    },
    /// Too many plugin calls at once (the instance pool is full): try again.
    #[error("{plugin} is busy: too many plugin calls at the same time; try again")]
    Busy { plugin: PluginName },
    /// The plugin crashed (a trap: panic, unreachable, stack overflow, …).
    #[error("{plugin} crashed: {detail}")]
    Trap { plugin: PluginName, detail: String },
    /// The plugin's answer breaks the contract (empty id, output too large, bad JSON…),
    /// or the caller's input is too large to send.
    #[error("{plugin} broke the plugin contract: {detail}")]
    Contract { plugin: PluginName, detail: String },
    /// The plugin was built for an API version this host does not support.
    #[error(
        "{plugin} was built for plugin API {found}, but this server supports {supported}; rebuild the plugin with a supported SDK"
    )]
    IncompatibleApi {
        plugin: PluginName,
        found: String,
        supported: String,
    },
    /// The component's sha256 does not match its manifest.
    #[error(
        "{plugin} was refused: its component's sha256 is {actual}, but plugin.toml says {expected}"
    )]
    DigestMismatch {
        plugin: PluginName,
        expected: String,
        actual: String,
    },
    /// The plugin directory, its manifest or its component cannot be read or compiled.
    #[error("plugin at {path}: {detail}")]
    Manifest { path: String, detail: String },
    /// The input given to the runner does not parse as the hook's input type.
    #[error("invalid input for hook {hook}: {detail}")]
    Input { hook: String, detail: String },
    /// A plugin is configured here but is not available (it failed to load).
    #[error("{plugin} is configured but not available: {detail}")]
    Unavailable { plugin: PluginName, detail: String },
}

impl PluginError {
    /// The machine-readable kind, as in [`PortError::kind`].
    pub fn kind(&self) -> &'static str {
        match self {
            PluginError::Domain { .. } => "domain",
            PluginError::OutOfFuel { .. } => "out_of_fuel",
            PluginError::Timeout { .. } => "timeout",
            PluginError::Memory { .. } => "memory",
            PluginError::Trap { .. } => "trap",
            PluginError::Contract { .. } | PluginError::Input { .. } => "contract",
            PluginError::IncompatibleApi { .. } => "incompatible_api",
            PluginError::DigestMismatch { .. } => "digest_mismatch",
            PluginError::Manifest { .. }
            | PluginError::Unavailable { .. }
            | PluginError::Busy { .. } => "unavailable",
        }
    }
}

impl From<PluginError> for PortError {
    fn from(e: PluginError) -> Self {
        PortError::new(e.kind(), e.to_string())
    }
}
