#!/usr/bin/env python3
"""Whole-process benchmark: `driftlint check` on a Flux repository against the script users
run today to check what Flux applies.

The script (as in the flux-local/`flux build` era of shell scripts): find every Flux
Kustomization (`kustomize.toolkit.fluxcd.io`) whose source is the bootstrap GitRepository
`flux-system`; for each, `kubectl kustomize --load-restrictor LoadRestrictionsNone` of its
`spec.path` (a `kustomization.yaml` is generated first where the folder has none, as Flux does;
the script works on a copy of the repository), then its `postBuild.substitute` variables
replaced with Drone-envsubst-style `${VAR}` / `${VAR:=default}` / `${VAR:-default}` (Python
`re`), then `kubernetes-validate --strict --quiet -` (PyPI) on the result. Failures of
individual units are counted, not fatal (driftlint reports them as findings).

Both sides run in this one process, alternating, N rounds; the report gives the median wall
time of each, their ratio, and driftlint's peak RSS (`/usr/bin/time -f %M`).

Usage: bench/flux_check_vs_script.py [--rounds N] [--kubectl PATH] [--driftlint PATH] REPO
Needs: kubectl (v1.35.2 from shared/tools/install-reference-tools, or any on PATH),
kubernetes-validate==1.37.0 and pyyaml (pip), a release build of driftlint.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

import yaml

KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
VAR = re.compile(r"\$\{([_a-zA-Z][_a-zA-Z0-9]*)(?::?[=-]([^}]*))?\}")


def flux_kustomizations(repo):
    """(path, substitute) of every Flux Kustomization reading the flux-system source."""
    units = []
    for root, subdirs, files in os.walk(repo):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for f in sorted(files):
            if not f.endswith((".yaml", ".yml")):
                continue
            try:
                docs = list(yaml.safe_load_all(open(os.path.join(root, f), encoding="utf-8")))
            except Exception:
                continue
            for d in docs:
                if not isinstance(d, dict) or d.get("kind") != "Kustomization":
                    continue
                if not str(d.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/"):
                    continue
                spec = d.get("spec") or {}
                if (spec.get("sourceRef") or {}).get("name") != "flux-system":
                    continue
                subst = (spec.get("postBuild") or {}).get("substitute") or {}
                units.append((str(spec.get("path", ".")), {str(k): str(v) for k, v in subst.items()}))
    return units


def generate_kustomizations(copy, units):
    """Writes the kustomization.yaml Flux generates into unit folders without one."""
    for path, _ in units:
        d = os.path.normpath(os.path.join(copy, path))
        if not os.path.isdir(d) or any(os.path.exists(os.path.join(d, k)) for k in KUSTOMIZATIONS):
            continue
        resources = []
        for root, subdirs, files in os.walk(d):
            subdirs.sort()
            keep = []
            for s in subdirs:
                if any(os.path.exists(os.path.join(root, s, k)) for k in KUSTOMIZATIONS):
                    resources.append(os.path.relpath(os.path.join(root, s), d))
                else:
                    keep.append(s)
            subdirs[:] = keep
            resources += [os.path.relpath(os.path.join(root, f), d) for f in sorted(files) if f.endswith((".yaml", ".yml"))]
        with open(os.path.join(d, "kustomization.yaml"), "w", encoding="utf-8") as out:
            yaml.safe_dump({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources}, out)


def substitute(text, variables):
    def repl(m):
        value = variables.get(m.group(1), "")
        return value if value or m.group(2) is None else m.group(2)
    return VAR.sub(repl, text)


def run_script(kubectl, copy, units):
    failed = 0
    for path, variables in units:
        d = os.path.normpath(os.path.join(copy, path))
        r = subprocess.run([kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsNone", d], capture_output=True)
        if r.returncode != 0:
            failed += 1
            continue
        rendered = substitute(r.stdout.decode("utf-8", "replace"), variables) if variables else r.stdout.decode("utf-8", "replace")
        subprocess.run(["kubernetes-validate", "--strict", "--quiet", "-"], input=rendered.encode(), capture_output=True)
    return failed


def run_driftlint(driftlint, repo):
    t = tempfile.NamedTemporaryFile(delete=False)
    t.close()
    subprocess.run(["/usr/bin/time", "-f", "%M", "-o", t.name, driftlint, "check", "--format", "json", repo], capture_output=True)
    rss = int(open(t.name).read().split()[-1])
    os.unlink(t.name)
    return rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--kubectl", default=shutil.which("kubectl"))
    ap.add_argument("--driftlint", default="target/release/driftlint")
    a = ap.parse_args()
    units = flux_kustomizations(a.repo)
    tmp = tempfile.mkdtemp()
    copy = os.path.join(tmp, "repo")
    shutil.copytree(a.repo, copy)
    generate_kustomizations(copy, units)
    script_times, drift_times, rss = [], [], []
    failed = 0
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        failed = run_script(a.kubectl, copy, units)
        script_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rss.append(run_driftlint(a.driftlint, a.repo))
        drift_times.append(time.perf_counter() - t0)
    shutil.rmtree(tmp)
    s, d = statistics.median(script_times), statistics.median(drift_times)
    print(f"repository: {a.repo}")
    print(f"Flux Kustomizations (flux-system source): {len(units)}; script failures per round: {failed}")
    print(f"script (kubectl kustomize + substitution + kubernetes-validate): median {s:.2f} s over {a.rounds} rounds {['%.2f' % x for x in script_times]}")
    print(f"driftlint check: median {d:.3f} s {['%.3f' % x for x in drift_times]}, peak RSS {max(rss) / 1024:.1f} MiB")
    print(f"ratio: driftlint is {s / d:.1f}x faster")


if __name__ == "__main__":
    main()
