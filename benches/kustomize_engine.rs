//! In-process benchmark of the native Kustomize engine, one benchmark per overlay of the
//! shared corpus (`../shared/corpus/kust-*`, or `../../shared/corpus` from a worktree).
//!
//! * `overlay/<case>`: `driftlint_kustomize::build` + `render_yaml` of the case's directory
//!   with a pre-built, warm [`Catalog`] (files are read from disk on every iteration, as a
//!   render does; the OS page cache is warm). Cases whose `command:` carries flags (helm) or
//!   that our engine refuses are skipped with a message.
//! * `catalog/newest_warm`: `Catalog::newest()` once the embedded schema index is decoded
//!   (it is decoded once per process and cached).
//! * Cold catalog cost (first `Catalog::newest()` in a process, and the first strategic-merge
//!   metadata lookup it serves) cannot be sampled in one process, since the decoded schemas
//!   are process-wide; it is measured in `COLD_RUNS` fresh child processes of this binary and
//!   printed before divan's table (median, min, max).
//!
//! Run: `cargo bench --bench kustomize_engine` (add `-- overlay` to filter).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use divan::{black_box, Bencher};
use driftlint_kustomize::{build, render_yaml, BuildOptions, MergeInfo};
use driftlint_schema::Catalog;
use driftlint_yaml::fs::RepoFs;
use driftlint_yaml::{parse_documents, Node};

/// Environment variable that turns this binary into a one-shot cold-catalog probe.
const COLD_PROBE: &str = "DRIFTLINT_BENCH_COLD_CATALOG";
/// Child processes used for the cold catalog measurement.
const COLD_RUNS: usize = 15;

/// One corpus overlay that our engine builds.
struct Case {
    name: &'static str,
    /// The case directory: the repository root for [`RepoFs`], as in the conformance test.
    root: PathBuf,
    /// The kustomization directory, relative to `root`.
    dir: PathBuf,
    objects: usize,
    bytes: usize,
}

fn corpus() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        manifest.join("../shared/corpus"),
        manifest.join("../../shared/corpus"),
    ]
    .into_iter()
    .find(|p| p.is_dir())
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| match Catalog::newest() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot build the schema catalog: {e}");
            std::process::exit(2);
        }
    })
}

/// The directory of `command: 'kubectl kustomize DIR'`, or why the case is skipped.
fn command_dir(case: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(case.join("case.yaml")).map_err(|e| e.to_string())?;
    let docs = parse_documents("case.yaml".into(), &text).map_err(|e| e.to_string())?;
    let cmd = docs
        .first()
        .and_then(|d| d.get("command"))
        .and_then(Node::as_str)
        .ok_or("case.yaml has no command")?;
    let words: Vec<&str> = cmd.split_whitespace().collect();
    match words.as_slice() {
        ["kubectl", "kustomize", dir] => Ok(dir.to_string()),
        ["kubectl", "kustomize", flags @ .., _] => Err(format!("flags {}", flags.join(" "))),
        _ => Err(format!("unexpected command {cmd:?}")),
    }
}

/// The number of objects and the rendered YAML of one build.
fn render(root: &Path, dir: &Path) -> Result<(usize, String), String> {
    let fs = RepoFs::new(root).map_err(|e| e.to_string())?;
    let opts = BuildOptions {
        merge_info: Some(catalog()),
        ..Default::default()
    };
    let out = build(&fs, dir, &opts).map_err(|e| e.to_string())?;
    Ok((out.objects.len(), render_yaml(&out.objects)))
}

fn load_case(path: &Path) -> Result<Case, String> {
    let dir = PathBuf::from(command_dir(path)?);
    let (objects, yaml) = render(path, &dir)?;
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Ok(Case {
        name: Box::leak(name.into_boxed_str()),
        root: path.to_path_buf(),
        dir,
        objects,
        bytes: yaml.len(),
    })
}

/// Every corpus kustomize case that renders, in name order; skipped cases are reported.
fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let Some(corpus) = corpus() else {
            eprintln!("skipped overlay benchmarks: the shared corpus (../shared/corpus) is absent");
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&corpus)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("kust-"))
            })
            .collect();
        paths.sort();
        let mut out = Vec::new();
        for p in &paths {
            match load_case(p) {
                Ok(c) => out.push(c),
                Err(e) => eprintln!("skip {}: {e}", p.display()),
            }
        }
        eprintln!(
            "{} of {} corpus kustomize cases render; benchmarking those",
            out.len(),
            paths.len()
        );
        out
    })
}

fn case_names() -> Vec<&'static str> {
    cases().iter().map(|c| c.name).collect()
}

/// `build` + `render_yaml` of one overlay, catalog pre-built and warm.
#[divan::bench(args = case_names(), sample_count = 60)]
fn overlay(bencher: Bencher, name: &str) {
    let Some(case) = cases().iter().find(|c| c.name == name) else {
        return;
    };
    let Ok(fs) = RepoFs::new(&case.root) else {
        return;
    };
    let opts = BuildOptions {
        merge_info: Some(catalog()),
        ..Default::default()
    };
    bencher
        .counter(divan::counter::BytesCount::new(case.bytes))
        .bench(|| {
            let out = build(black_box(&fs), black_box(&case.dir), &opts);
            out.map(|b| render_yaml(&b.objects).len())
        });
}

mod catalog {
    use super::*;

    /// `Catalog::newest()` once the process-wide schema index is decoded.
    #[divan::bench]
    fn newest_warm(bencher: Bencher) {
        let _ = catalog();
        bencher.bench(|| Catalog::newest().map(|c| black_box(c.kube_version())));
    }
}

/// Child mode: time the first `Catalog::newest()` and the first strategic-merge lookup in
/// this process, print both in nanoseconds.
fn cold_probe() {
    let t0 = Instant::now();
    let cat = catalog();
    let t1 = Instant::now();
    let meta = cat.list_meta(
        "apps/v1",
        "Deployment",
        &["spec", "template", "spec", "containers"],
    );
    let t2 = Instant::now();
    black_box(meta);
    println!("{} {}", (t1 - t0).as_nanos(), (t2 - t1).as_nanos());
}

fn median(v: &mut [u128]) -> u128 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// Runs [`cold_probe`] in `COLD_RUNS` child processes and prints the summary.
fn cold_catalog_report() {
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("cold catalog: cannot find this executable");
        return;
    };
    let (mut build_ns, mut lookup_ns) = (Vec::new(), Vec::new());
    for _ in 0..COLD_RUNS {
        let out = Command::new(&exe).env(COLD_PROBE, "1").output();
        let Ok(out) = out else { continue };
        let text = String::from_utf8_lossy(&out.stdout);
        let mut nums = text
            .split_whitespace()
            .filter_map(|w| w.parse::<u128>().ok());
        if let (Some(a), Some(b)) = (nums.next(), nums.next()) {
            build_ns.push(a);
            lookup_ns.push(b);
        }
    }
    if build_ns.is_empty() {
        eprintln!("cold catalog: the probe produced no numbers");
        return;
    }
    let ms = |ns: u128| ns as f64 / 1e6;
    let summary = |v: &mut Vec<u128>| {
        let m = median(v);
        format!(
            "median {:.3} ms (min {:.3}, max {:.3})",
            ms(m),
            ms(v[0]),
            ms(v[v.len() - 1])
        )
    };
    println!(
        "cold catalog, {} fresh processes: Catalog::newest() {}; first merge-key lookup {}",
        build_ns.len(),
        summary(&mut build_ns),
        summary(&mut lookup_ns)
    );
}

fn main() {
    if std::env::var_os(COLD_PROBE).is_some() {
        cold_probe();
        return;
    }
    let listing = std::env::args().any(|a| a == "--list");
    if !listing {
        cold_catalog_report();
        for c in cases() {
            println!(
                "case {}: {} objects, {} bytes of YAML",
                c.name, c.objects, c.bytes
            );
        }
    }
    divan::main();
}
