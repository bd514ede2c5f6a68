#!/usr/bin/env python3
"""Whole-process benchmark: `driftlint drift` over N objects against the fake API server.

The fake API server (`fake-apiserver`, a workspace member) generates N live objects (a mix of
ConfigMaps and Deployments across a few namespaces, with Flux inventory labels), writes the
matching repository (a plain manifest folder) and injects drift into K of them. Then
`driftlint drift` runs R times in each mode (server: one GET and one server-side-apply dry-run
per object; read-only: one GET per object) plus the inventory lists. The report gives the median
wall time, the peak RSS of the driftlint process (getrusage of the child) and the findings
count, which must equal K field drifts in both modes (checked).

Usage: bench/drift_5000.py [--objects N] [--drift K] [--rounds R] [--concurrency C]
                          [--driftlint PATH] [--fake-apiserver PATH]
Needs: release builds of both binaries (`cargo build --release --workspace`).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_server(binary, objects, drift, workdir):
    desired = os.path.join(workdir, "repo")
    kubeconfig = os.path.join(workdir, "kubeconfig")
    proc = subprocess.Popen(
        [binary, "--port", "0", "--kubeconfig", kubeconfig, "--context", "bench",
         "--synthetic", str(objects), "--write-desired", desired, "--drift", str(drift)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        sys.exit(f"fake-apiserver did not start: {url!r} {proc.stderr.read()}")
    return proc, desired, kubeconfig


def run_drift(binary, repo, kubeconfig, mode, concurrency):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(
        [binary, "drift", repo, "--kubeconfig", kubeconfig, "--context", "bench",
         "--mode", mode, "--concurrency", str(concurrency), "--format", "json"],
        capture_output=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode not in (0, 1):
        sys.exit(f"driftlint drift failed ({out.returncode}): {out.stderr.decode()[-2000:]}")
    findings = json.loads(out.stdout)["findings"]
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far (KiB on Linux).
    return wall, after.ru_maxrss, findings, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=5000)
    ap.add_argument("--drift", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--driftlint", default=os.path.join(REPO, "target/release/driftlint"))
    ap.add_argument("--fake-apiserver", default=os.path.join(REPO, "target/release/fake-apiserver"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        proc, repo, kubeconfig = start_server(args.fake_apiserver, args.objects, args.drift, work)
        try:
            print(f"| mode | objects | drifted fields found | median wall | cpu (user+sys) | peak RSS |")
            print("|---|---:|---:|---:|---:|---:|")
            for mode in ("server", "read-only"):
                walls, cpus, rss, count = [], [], 0, None
                for _ in range(args.rounds):
                    wall, maxrss, findings, cpu = run_drift(
                        args.driftlint, repo, kubeconfig, mode, args.concurrency)
                    walls.append(wall)
                    cpus.append(cpu)
                    rss = max(rss, maxrss)
                    drifted = sum(1 for f in findings if f["code"] == "DRIFT001")
                    if count is not None and drifted != count:
                        sys.exit(f"{mode}: findings differ between rounds ({count} vs {drifted})")
                    count = drifted
                if count != args.drift:
                    sys.exit(f"{mode}: expected {args.drift} drifted fields, found {count}")
                print(f"| {mode} | {args.objects} | {count} | {statistics.median(walls):.2f} s "
                      f"| {statistics.median(cpus):.2f} s | {rss / 1024:.0f} MiB |")
        finally:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
