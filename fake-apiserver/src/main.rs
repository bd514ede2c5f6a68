//! `fake-apiserver`: serve a fake Kubernetes API (see the library docs) until killed.
//!
//! ```text
//! fake-apiserver --seed DIR [--port 0] [--kubeconfig OUT --context NAME]
//!                [--synthetic N --write-desired DIR --drift K --namespaces NS]
//!                [--latency-ms MS] [--throttle-first N | --throttle-every N]
//!                [--forbid-patch [--forbid-patch-user USER]] [--die-after N] [--fixed-time UNIX]
//! ```
//! Prints the URL on stdout (one line), then serves.

use clap::Parser;
use fake_apiserver::synthetic::{generate, SyntheticSpec};
use fake_apiserver::FakeApiServer;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// A fake Kubernetes API server (discovery, get, list, server-side apply) for tests and
/// benchmarks of `driftlint drift`.
#[derive(Debug, Parser)]
#[command(name = "fake-apiserver", version)]
struct Args {
    /// Seed live objects from `*.json` files of this directory (repeatable).
    #[arg(long)]
    seed: Vec<PathBuf>,
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Write a kubeconfig for the server here.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Context name in the written kubeconfig.
    #[arg(long, default_value = "fake-apiserver")]
    context: String,
    /// Generate N synthetic objects (ConfigMaps and Deployments) and seed their live form.
    #[arg(long, value_name = "N")]
    synthetic: Option<usize>,
    /// With --synthetic: write the desired manifests and `.driftlint.yaml` here.
    #[arg(long, value_name = "DIR", requires = "synthetic")]
    write_desired: Option<PathBuf>,
    /// With --synthetic: inject drift into K objects.
    #[arg(long, value_name = "K", default_value_t = 0, requires = "synthetic")]
    drift: usize,
    /// With --synthetic: number of namespaces.
    #[arg(long, default_value_t = 4, requires = "synthetic")]
    namespaces: usize,
    /// Delay every answer by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Answer the first N requests with 429 TooManyRequests.
    #[arg(long, value_name = "N", conflicts_with = "throttle_every")]
    throttle_first: Option<u64>,
    /// Answer every Nth request with 429 TooManyRequests.
    #[arg(long, value_name = "N")]
    throttle_every: Option<u64>,
    /// Forbid every PATCH (RBAC 403).
    #[arg(long)]
    forbid_patch: bool,
    /// User named in the 403 message.
    #[arg(long, default_value = "lab-nobody")]
    forbid_patch_user: String,
    /// Answer N requests, then close every connection and exit.
    #[arg(long, value_name = "N")]
    die_after: Option<u64>,
    /// Fixed clock (Unix seconds) for timestamps the server writes.
    #[arg(long, value_name = "UNIX")]
    fixed_time: Option<i64>,
}

fn run(args: Args) -> Result<(), String> {
    let mut b = FakeApiServer::builder()
        .port(args.port)
        .latency(Duration::from_millis(args.latency_ms));
    for dir in &args.seed {
        b = b.seed_dir(dir);
    }
    if let Some(n) = args.synthetic {
        let spec = SyntheticSpec {
            objects: n,
            namespaces: args.namespaces,
            drift: args.drift,
        };
        let syn = generate(spec).map_err(|e| e.to_string())?;
        if let Some(dir) = &args.write_desired {
            syn.write_desired(dir).map_err(|e| e.to_string())?;
        }
        b = b.objects(syn.live);
    }
    if let Some(n) = args.throttle_first {
        b = b.throttle_first(n);
    }
    if let Some(n) = args.throttle_every {
        b = b.throttle_every(n);
    }
    if args.forbid_patch {
        b = b.forbid_patch_as(Some(args.forbid_patch_user.clone()));
    }
    if let Some(n) = args.die_after {
        b = b.die_after(n);
    }
    if let Some(t) = args.fixed_time {
        b = b.fixed_time(t);
    }
    let srv = b.start().map_err(|e| e.to_string())?;
    if let Some(path) = &args.kubeconfig {
        srv.write_kubeconfig(path, &args.context)
            .map_err(|e| e.to_string())?;
    }
    let mut out = std::io::stdout();
    writeln!(out, "{}", srv.url()).map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    srv.wait();
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fake-apiserver: {e}");
            ExitCode::from(2)
        }
    }
}
