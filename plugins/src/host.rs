//! The wasmtime side: one `Engine` for all plugins, the linker (WASI p2 with an empty
//! context, plus the `passerelle:plugin/host` interface of every supported API version),
//! the epoch ticker, and the bounded call of a plugin hook on a fresh `Store`.
//!
//! Calls run on the calling thread. They are synchronous and may take up to the
//! plugin's `timeout_ms`: async callers must make them from a blocking pool
//! (`web::block` / `tokio::task::spawn_blocking`), never on an executor thread.

use crate::bindings::v0_1::jurisdiction::passerelle::plugin::host as host_v0_1;
use crate::bindings::v0_2::jurisdiction::passerelle::plugin::host as host_v0_2;
use crate::error::{PluginError, PluginName};
use crate::limits::{EngineSettings, Limits};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wasmtime::component::{Linker, Resource, ResourceTable};
use wasmtime::{Config, Engine, ResourceLimiter, Store, Trap};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Capacity of the captured stdout and stderr of one call. What is kept for the log is
/// cut at `log_bytes`; a guest that writes more than this in one call traps.
const STDIO_CAPACITY: usize = 64 << 10;
/// Table elements allowed per instance.
const TABLE_ELEMENTS: usize = 100_000;

/// The per-call state of a `Store`: created fresh for every call, dropped after it.
pub struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: Limiter,
    log: LogBuf,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl host_v0_1::Host for CallState {
    fn log(&mut self, level: host_v0_1::Level, message: String) {
        use host_v0_1::Level;
        let tag = match level {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        self.log.push(tag, &message);
    }
}

impl host_v0_2::Host for CallState {
    fn log(&mut self, level: host_v0_2::Level, message: String) {
        use host_v0_2::Level;
        let tag = match level {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        self.log.push(tag, &message);
    }
}

/// Memory and table bounds, remembering whether the memory bound was hit (so that the
/// trap it causes is reported as a memory error).
struct Limiter {
    memory_bytes: usize,
    memory_hit: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.memory_hit = true;
            return Err(wasmtime::format_err!(
                "memory limit of {} bytes reached",
                self.memory_bytes
            ));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > TABLE_ELEMENTS {
            self.memory_hit = true;
            return Err(wasmtime::format_err!(
                "table limit of {TABLE_ELEMENTS} elements reached"
            ));
        }
        Ok(true)
    }
}

/// The log text of one call, cut at a byte limit.
struct LogBuf {
    cap: usize,
    text: String,
    truncated: bool,
}

impl LogBuf {
    fn push(&mut self, tag: &str, message: &str) {
        let line = format!("[{tag}] {message}\n");
        self.push_raw(&line);
    }

    fn push_raw(&mut self, s: &str) {
        if self.truncated {
            return;
        }
        let room = self.cap.saturating_sub(self.text.len());
        if s.len() <= room {
            self.text.push_str(s);
        } else {
            let mut cut = room;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            self.text.push_str(&s[..cut]);
            self.text.push_str("…[truncated]");
            self.truncated = true;
        }
    }
}

/// What a call cost, and what the plugin logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStats {
    pub fuel_used: u64,
    pub elapsed: Duration,
    /// `log` lines, then stdout and stderr, cut at the plugin's `log_bytes`.
    pub log: String,
}

/// The engine and linker shared by all plugins, and the epoch ticker.
pub struct PluginHost {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<CallState>,
    limits: Limits,
    settings: EngineSettings,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("limits", &self.limits)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Drop for PluginHost {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn setup_err(detail: impl std::fmt::Display) -> PluginError {
    PluginError::Manifest {
        path: "(plugin host)".into(),
        detail: format!("cannot start the plugin engine: {detail}"),
    }
}

impl PluginHost {
    /// An engine with fuel, epochs, a stack bound and (if `settings.cache_dir` is set)
    /// wasmtime's own compilation cache, and a ticker thread advancing the epoch.
    ///
    /// The compilation cache is wasmtime's built-in one (`Config::cache`): it keys each
    /// entry by the component's content and the engine's compatibility hash (wasmtime
    /// version, compiler settings), so a stale entry is a miss, and it only ever reads
    /// files it wrote itself into the server-owned `cache_dir`. This avoids
    /// `Component::deserialize`, which is `unsafe` on untrusted bytes.
    pub fn new(limits: Limits, settings: EngineSettings) -> Result<Arc<Self>, PluginError> {
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .epoch_interruption(true)
            .max_wasm_stack(settings.max_wasm_stack)
            .wasm_component_model(true);
        if !settings.cache_dir.is_empty() {
            std::fs::create_dir_all(&settings.cache_dir).map_err(setup_err)?;
            let mut cache = wasmtime::CacheConfig::new();
            cache.with_directory(&settings.cache_dir);
            let cache = wasmtime::Cache::new(cache).map_err(setup_err)?;
            config.cache(Some(cache));
        }
        if settings.pooled_instances > 0 {
            let n = settings.pooled_instances;
            let mut pool = wasmtime::PoolingAllocationConfig::new();
            pool.total_component_instances(n)
                .total_core_instances(n.saturating_mul(8))
                .total_memories(n.saturating_mul(2))
                .total_tables(n.saturating_mul(8))
                .max_memory_size(limits.memory_bytes)
                .linear_memory_keep_resident(0)
                .table_keep_resident(64 << 10);
            config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&config).map_err(setup_err)?;
        let mut linker: Linker<CallState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(setup_err)?;
        forbid_waiting(&mut linker).map_err(setup_err)?;
        // `passerelle:plugin/host@0.1.0` and `@0.2.0`: each API version's guests import
        // their own (the linker matches patch versions, 0.1.x to 0.1.0).
        host_v0_1::add_to_linker::<CallState, wasmtime::component::HasSelf<CallState>>(
            &mut linker,
            |s| s,
        )
        .map_err(setup_err)?;
        host_v0_2::add_to_linker::<CallState, wasmtime::component::HasSelf<CallState>>(
            &mut linker,
            |s| s,
        )
        .map_err(setup_err)?;

        let stop = Arc::new(AtomicBool::new(false));
        let tick = Duration::from_millis(settings.epoch_tick_ms.max(1));
        {
            let engine = engine.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("plugin-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                    }
                })
                .map_err(setup_err)?;
        }
        Ok(Arc::new(PluginHost {
            engine,
            linker,
            limits,
            settings,
            stop,
        }))
    }

    /// The server's limits (a plugin gets these, or less if its manifest asks).
    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// A fresh store for one call, with every bound set (public for the benchmark).
    pub fn store(&self, limits: &Limits) -> Result<Store<CallState>, PluginError> {
        let stdout = MemoryOutputPipe::new(STDIO_CAPACITY);
        let stderr = MemoryOutputPipe::new(STDIO_CAPACITY);
        // Empty context: no preopened directories, no environment, no arguments, no
        // network, stdin closed; stdout and stderr captured.
        let wasi = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let state = CallState {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter {
                memory_bytes: limits.memory_bytes,
                memory_hit: false,
            },
            log: LogBuf {
                cap: limits.log_bytes,
                text: String::new(),
                truncated: false,
            },
            stdout,
            stderr,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_fuel(limits.fuel).map_err(setup_err)?;
        let tick = self.settings.epoch_tick_ms.max(1);
        store.set_epoch_deadline(limits.timeout_ms.div_ceil(tick).max(1));
        store.epoch_deadline_trap();
        Ok(store)
    }

    /// Run `f` (instantiate and call) on a fresh store for `plugin`, and map any failure
    /// to a [`PluginError`].
    pub(crate) fn run<R>(
        &self,
        plugin: &PluginName,
        limits: &Limits,
        f: impl FnOnce(&mut Store<CallState>) -> wasmtime::Result<Result<R, String>>,
    ) -> (Result<R, PluginError>, CallStats) {
        let started = Instant::now();
        let mut store = match self.store(limits) {
            Ok(s) => s,
            Err(e) => {
                let stats = CallStats {
                    fuel_used: 0,
                    elapsed: started.elapsed(),
                    log: String::new(),
                };
                return (Err(e), stats);
            }
        };
        let outcome = f(&mut store);
        let elapsed = started.elapsed();
        let fuel_used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let result = match outcome {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(message)) => Err(PluginError::Domain {
                plugin: plugin.clone(),
                message: cut(&message, 300),
            }),
            Err(e) => Err(classify(plugin, limits, &e, store.data())),
        };
        let data = store.into_data();
        let mut log = data.log;
        for (name, pipe) in [("stdout", &data.stdout), ("stderr", &data.stderr)] {
            let bytes = pipe.contents();
            if !bytes.is_empty() {
                log.push(name, &String::from_utf8_lossy(&bytes));
            }
        }
        (
            result,
            CallStats {
                fuel_used,
                elapsed,
                log: log.text,
            },
        )
    }
}

fn classify(
    plugin: &PluginName,
    limits: &Limits,
    e: &wasmtime::Error,
    state: &CallState,
) -> PluginError {
    if state.limiter.memory_hit {
        return PluginError::Memory {
            plugin: plugin.clone(),
            limit_bytes: limits.memory_bytes,
        };
    }
    if e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
        .is_some()
    {
        return PluginError::Busy {
            plugin: plugin.clone(),
        };
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => PluginError::OutOfFuel {
            plugin: plugin.clone(),
            fuel: limits.fuel,
        },
        Some(Trap::Interrupt) => PluginError::Timeout {
            plugin: plugin.clone(),
            timeout_ms: limits.timeout_ms,
        },
        Some(Trap::StackOverflow) => PluginError::Trap {
            plugin: plugin.clone(),
            detail: "call stack exhausted (too deep a recursion)".into(),
        },
        Some(Trap::UnreachableCodeReached) => PluginError::Trap {
            plugin: plugin.clone(),
            detail: "it panicked or reached unreachable code".into(),
        },
        Some(t) => PluginError::Trap {
            plugin: plugin.clone(),
            detail: t.to_string(),
        },
        None => PluginError::Trap {
            plugin: plugin.clone(),
            detail: cut(&e.root_cause().to_string(), 300),
        },
    }
}

/// Cut a text at `max` characters.
pub(crate) fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Epochs do not interrupt host calls, so plugins may not block in one: waiting on a
/// pollable (how a guest sleeps) traps instead of blocking the calling thread.
fn forbid_waiting(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut poll = linker.instance("wasi:io/poll@0.2.12")?;
    poll.func_wrap(
        "[method]pollable.block",
        |_store, (_p,): (Resource<DynPollable>,)| -> wasmtime::Result<()> {
            Err(wasmtime::format_err!("plugins may not wait or sleep"))
        },
    )?;
    poll.func_wrap(
        "poll",
        |_store, (_ps,): (Vec<Resource<DynPollable>>,)| -> wasmtime::Result<(Vec<u32>,)> {
            Err(wasmtime::format_err!("plugins may not wait or sleep"))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}
