//! Bounds on every plugin call. The server's [`Limits`] come from configuration
//! (`[plugins.limits]`); a plugin's `plugin.toml` may ask for less (or more), and gets
//! at most the server's values ([`Limits::capped_by`]).

use serde::{Deserialize, Serialize};

/// The bounds of one call. Defaults follow `shared/design/plugins.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Fuel per call (about one unit per WebAssembly instruction; Shopify allows 11 M).
    pub fuel: u64,
    /// Wall-clock bound per call, in milliseconds (enforced with epochs, so a call is
    /// stopped at most one epoch tick after it).
    pub timeout_ms: u64,
    /// Largest linear memory (and tables) of one instance, in bytes.
    pub memory_bytes: usize,
    /// Largest serialized input of one call (the JSON form of its arguments), in bytes.
    pub input_bytes: usize,
    /// Largest serialized output of one call, in bytes; larger is a contract error.
    pub output_bytes: usize,
    /// Log text kept per call (plugin `log` lines plus stdout/stderr), in bytes; the rest
    /// is cut.
    pub log_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: 10_000_000,
            timeout_ms: 200,
            memory_bytes: 64 << 20,
            input_bytes: 1 << 20,
            output_bytes: 1 << 20,
            log_bytes: 1024,
        }
    }
}

/// What a plugin's manifest may ask for; each value is capped by the server's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginLimits {
    pub fuel: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub memory_bytes: Option<usize>,
    pub input_bytes: Option<usize>,
    pub output_bytes: Option<usize>,
    pub log_bytes: Option<usize>,
}

impl Limits {
    /// The limits of a plugin: its own where it asks for less, the server's otherwise.
    pub fn capped_by(self, plugin: &PluginLimits) -> Limits {
        fn cap<T: Ord + Copy>(server: T, asked: Option<T>) -> T {
            asked.map_or(server, |a| a.min(server))
        }
        Limits {
            fuel: cap(self.fuel, plugin.fuel),
            timeout_ms: cap(self.timeout_ms, plugin.timeout_ms),
            memory_bytes: cap(self.memory_bytes, plugin.memory_bytes),
            input_bytes: cap(self.input_bytes, plugin.input_bytes),
            output_bytes: cap(self.output_bytes, plugin.output_bytes),
            log_bytes: cap(self.log_bytes, plugin.log_bytes),
        }
    }
}

/// Engine-wide settings (one wasmtime `Engine` serves all plugins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    /// Largest WebAssembly stack, in bytes (engine-wide: not per plugin).
    pub max_wasm_stack: usize,
    /// How often the epoch ticker thread advances, in milliseconds.
    pub epoch_tick_ms: u64,
    /// Directory of wasmtime's compilation cache (empty: no cache). The server's own
    /// directory: only wasmtime writes and reads it.
    pub cache_dir: String,
    /// Plugin calls that may run at the same time with pre-allocated instance slots
    /// (wasmtime's pooling allocator: instantiation without mmap, a few µs). A call
    /// beyond it fails as "busy". 0: allocate on demand (slower, unbounded).
    pub pooled_instances: u32,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            max_wasm_stack: 512 << 10,
            epoch_tick_ms: 10,
            cache_dir: String::new(),
            pooled_instances: 128,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn plugin_limits_are_capped_by_the_server() {
        let server = Limits::default();
        let asked = PluginLimits {
            fuel: Some(u64::MAX),
            timeout_ms: Some(50),
            ..PluginLimits::default()
        };
        let l = server.capped_by(&asked);
        assert_eq!(l.fuel, server.fuel);
        assert_eq!(l.timeout_ms, 50);
        assert_eq!(l.memory_bytes, server.memory_bytes);
    }

    #[test]
    fn limits_deserialize_from_partial_toml() {
        let l: Limits = toml::from_str("fuel = 5\n").unwrap();
        assert_eq!(l.fuel, 5);
        assert_eq!(l.log_bytes, 1024);
    }
}
