#!/usr/bin/env python3
"""Whole-process benchmark: `driftlint check` against the pipeline users run today.

The pipeline: `kubectl kustomize DIR` on every kustomization root of the repository, each
piped into `kubernetes-validate --strict -` (PyPI), plus `kubernetes-validate --strict` on the
plain manifest files. Both sides run in this one process, alternating, N rounds; the report
gives the median wall time of each and their ratio.

Usage: bench/check_vs_pipeline.py [--rounds N] [--kubectl PATH] [--driftlint PATH] REPO
Needs: kubectl (v1.35.2 from shared/tools/install-reference-tools, or any on PATH),
kubernetes-validate (pip install kubernetes-validate==1.37.0), a release build of driftlint.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time


def kustomization_dirs(repo):
    dirs = []
    for root, subdirs, files in os.walk(repo):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        if any(f in files for f in ("kustomization.yaml", "kustomization.yml", "Kustomization")):
            dirs.append(root)
    return dirs


def roots(dirs):
    """Kustomizations no other kustomization references (the ones a user deploys)."""
    referenced = set()
    for d in dirs:
        for f in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
            p = os.path.join(d, f)
            if os.path.exists(p):
                for line in open(p, encoding="utf-8"):
                    s = line.strip()
                    if s.startswith("- "):
                        target = os.path.normpath(os.path.join(d, s[2:].strip().strip("'\"")))
                        if os.path.isdir(target):
                            referenced.add(target)
    return [d for d in dirs if os.path.normpath(d) not in referenced]


def plain_manifests(repo, kdirs):
    out = []
    for root, subdirs, files in os.walk(repo):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        if root in kdirs or any(root.startswith(k + os.sep) for k in kdirs):
            continue
        out += [os.path.join(root, f) for f in sorted(files) if f.endswith((".yaml", ".yml"))]
    return out


def run_pipeline(kubectl, overlays, manifests):
    for d in overlays:
        rendered = subprocess.run([kubectl, "kustomize", d], check=True, capture_output=True).stdout
        subprocess.run(["kubernetes-validate", "--strict", "--quiet", "-"], input=rendered, capture_output=True)
    if manifests:
        subprocess.run(["kubernetes-validate", "--strict", "--quiet", *manifests], capture_output=True)


def run_driftlint(driftlint, repo):
    subprocess.run([driftlint, "check", repo, "--format", "json"], capture_output=True)


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--kubectl", default="kubectl")
    ap.add_argument("--driftlint", default="target/release/driftlint")
    a = ap.parse_args()
    kdirs = kustomization_dirs(a.repo)
    overlays = roots(kdirs)
    manifests = plain_manifests(a.repo, kdirs)
    ours, theirs = [], []
    for _ in range(a.rounds):
        theirs.append(timed(lambda: run_pipeline(a.kubectl, overlays, manifests)))
        ours.append(timed(lambda: run_driftlint(a.driftlint, a.repo)))
    t, o = statistics.median(theirs), statistics.median(ours)
    print(f"repository: {a.repo} ({len(overlays)} overlays, {len(manifests)} plain manifest files)")
    print(f"kubectl kustomize | kubernetes-validate: median {t * 1000:.1f} ms over {a.rounds} rounds")
    print(f"driftlint check:                         median {o * 1000:.1f} ms over {a.rounds} rounds")
    print(f"ratio: driftlint is {t / o:.1f}x faster")


if __name__ == "__main__":
    sys.exit(main())
