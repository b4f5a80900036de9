//! Plugin hook calls (each on a fresh store, as in the server) side by side with the same
//! rule in native Rust, and the start-up time of 10 plugins from wasmtime's compilation
//! cache and cold. Prints a Markdown table.
//!
//!     cargo bench -p passerelle-plugins --bench hooks
#![allow(clippy::unwrap_used, clippy::expect_used)]

use passerelle_core::ports::{DefaultJurisdiction, Jurisdiction, PersonFacts, Transition, Verdict};
use passerelle_plugins::registry::{Registry, RegistryConfig};
use passerelle_plugins::{EngineSettings, JurisdictionPlugin, Limits, LoadedPlugin, PluginHost};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const N: usize = 5_000;

/// Median and p99.
type Stat = (Duration, Duration);

fn stats(mut d: Vec<Duration>) -> Stat {
    d.sort_unstable();
    (d[d.len() / 2], d[d.len() * 99 / 100])
}

fn time(mut f: impl FnMut()) -> Stat {
    for _ in 0..200 {
        f();
    }
    let mut d = Vec::with_capacity(N);
    for _ in 0..N {
        let t = Instant::now();
        f();
        d.push(t.elapsed());
    }
    stats(d)
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// The French example's rules, written natively (the same logic as the plugin).
fn native_recovery(p: &PersonFacts) -> u32 {
    if p.child { 45 } else { 30 }
}

fn native_guard(t: &Transition) -> Verdict {
    let mut r = Vec::new();
    if t.to == "return_in_progress" {
        if !t.flags.iter().any(|f| f == "consent_present") {
            r.push("A return needs the person's recorded, informed consent (seed §37).".to_owned());
        }
        if t.flags.iter().any(|f| f == "risk_high") {
            r.push("The risk assessment is high: no return (non-refoulement).".to_owned());
        }
        if t.facts.child && !t.flags.iter().any(|f| f == "guardian_appointed") {
            r.push("A child's return needs an ad hoc administrator.".to_owned());
        }
    }
    if r.is_empty() {
        Verdict::Allow
    } else {
        Verdict::Refuse(r)
    }
}

fn plugin_dirs(n: usize) -> (tempfile::TempDir, Vec<PathBuf>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for i in 0..n {
        let src = if i % 2 == 0 {
            root.join("examples/fr-jurisdiction/plugin")
        } else {
            root.join("examples/iom-partner/plugin")
        };
        let dst = tmp.path().join(format!("p{i:02}"));
        std::fs::create_dir_all(&dst).unwrap();
        for f in std::fs::read_dir(&src).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), dst.join(f.file_name())).unwrap();
        }
        // Distinct countries / partner ids so that the registry maps each.
        let toml = std::fs::read_to_string(dst.join("plugin.toml")).unwrap();
        let toml = toml
            .replace(
                "[\"FR\"]",
                &format!("[\"{}\"]", ["FR", "BE", "LU", "CH", "MC"][i / 2]),
            )
            .replace("[\"iom-style-return\"]", &format!("[\"partner-{i}\"]"));
        std::fs::write(dst.join("plugin.toml"), toml).unwrap();
        dirs.push(dst);
    }
    (tmp, dirs)
}

fn start_up(dir: &Path, cache: Option<&Path>) -> Duration {
    let settings = EngineSettings {
        cache_dir: cache.map(|c| c.display().to_string()).unwrap_or_default(),
        ..EngineSettings::default()
    };
    let t = Instant::now();
    let host = PluginHost::new(Limits::default(), settings).unwrap();
    let r = Registry::load(
        host,
        RegistryConfig {
            dir: dir.to_owned(),
            ..RegistryConfig::default()
        },
    )
    .unwrap();
    let took = t.elapsed();
    assert!(r.statuses().iter().all(|s| s.state == "loaded"));
    assert_eq!(r.statuses().len(), 10);
    took
}

fn main() {
    let host = PluginHost::new(Limits::default(), EngineSettings::default()).unwrap();
    let fr_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/fr-jurisdiction/plugin");
    let fr = JurisdictionPlugin(LoadedPlugin::load(&host, &fr_dir).unwrap());
    let adult = PersonFacts {
        child: false,
        stateless: false,
        nationality: Some("NG".into()),
    };
    let t = Transition {
        from: "solution_planning".into(),
        to: "return_in_progress".into(),
        facts: adult.clone(),
        flags: vec!["consent_present".into()],
    };

    println!("| hook | plugin median | plugin p99 | native median | native p99 |");
    println!("| --- | --- | --- | --- | --- |");
    let rows: [(&str, Stat, Stat); 4] = [
        (
            "(a fresh store alone)",
            time(|| {
                black_box(host.store(&Limits::default()).unwrap());
            }),
            (Duration::ZERO, Duration::ZERO),
        ),
        (
            "recovery-period",
            time(|| {
                black_box(fr.recovery_period_days(black_box(&adult)).unwrap());
            }),
            time(|| {
                black_box(native_recovery(black_box(&adult)));
            }),
        ),
        (
            "guard-transition",
            time(|| {
                black_box(fr.guard_transition(black_box(&t)).unwrap());
            }),
            time(|| {
                black_box(native_guard(black_box(&t)));
            }),
        ),
        (
            "questions (20, en+fr)",
            time(|| {
                black_box(fr.questions().unwrap());
            }),
            time(|| {
                black_box(DefaultJurisdiction.questions().unwrap());
            }),
        ),
    ];
    for (hook, (pm, pp), (nm, np)) in rows {
        println!(
            "| {hook} | {} | {} | {} | {} |",
            us(pm),
            us(pp),
            us(nm),
            us(np)
        );
    }

    let (_tmp, dirs) = plugin_dirs(10);
    let dir = dirs[0].parent().unwrap().to_owned();
    let cache = tempfile::tempdir().unwrap();
    let cold = start_up(&dir, None);
    let _fill = start_up(&dir, Some(cache.path()));
    let cached = start_up(&dir, Some(cache.path()));
    println!();
    println!("| start-up, 10 plugins | time |");
    println!("| --- | --- |");
    println!(
        "| cold (compile every component) | {:.0} ms |",
        cold.as_secs_f64() * 1e3
    );
    println!(
        "| from the compilation cache | {:.0} ms |",
        cached.as_secs_f64() * 1e3
    );
}
