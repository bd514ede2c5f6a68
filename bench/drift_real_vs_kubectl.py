#!/usr/bin/env python3
"""Whole-process benchmark: `driftlint drift` against `kubectl diff --server-side` on the same
N objects of a real kube-apiserver v1.36 + etcd (started by scripts/real-cluster.sh).

The repository is N objects (3/4 ConfigMaps, 1/4 Deployments) over 4 namespaces, applied
server-side as kustomize-controller; K of them then drift (`kubectl patch` of a ConfigMap value
or a Deployment's replicas). Each round runs, alternating in this one process:
  driftlint drift --mode server      (one server-side-apply dry-run per object; lists for reads)
  driftlint drift --mode read-only   (one paginated list per (kind, namespace))
  kubectl diff --server-side --force-conflicts --field-manager=kustomize-controller -f DIR
and the report gives each one's median wall time and driftlint's speed-up over kubectl. Both
tools must find the K drifted objects (checked: driftlint's DRIFT001 count, kubectl's exit 1
and the number of objects in its diff).

Usage: bench/drift_real_vs_kubectl.py [--objects N] [--drift K] [--rounds R]
                                      [--driftlint PATH] [--kubectl PATH]
Needs: a release build of driftlint (`cargo build --release`), kubectl, etcd, openssl and the
kube-apiserver archive (see scripts/real-cluster.sh). The machine is shared: run it once.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMESPACES = 4


def manifests(n):
    docs = [f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench-{i}\n" for i in range(NAMESPACES)]
    for i in range(n):
        ns = f"bench-{i % NAMESPACES}"
        if i % 4 == 3:
            docs.append(
                f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i:05}\n  namespace: {ns}\n"
                f"spec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: app-{i:05}\n"
                f"  template:\n    metadata:\n      labels:\n        app: app-{i:05}\n    spec:\n"
                f"      containers:\n      - name: app\n        image: nginx:1.27\n"
                f"        resources:\n          limits:\n            memory: 64Mi\n            cpu: 100m\n"
            )
        else:
            docs.append(
                f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:05}\n  namespace: {ns}\n"
                f"data:\n  index: \"{i}\"\n  mode: prod\n"
            )
    return "---\n".join(docs)


def kubectl(args, kubeconfig, binary, check=True, stdin=None):
    out = subprocess.run([binary, "--kubeconfig", kubeconfig] + args, input=stdin,
                         capture_output=True, text=True)
    if check and out.returncode != 0:
        sys.exit(f"kubectl {args[:3]} failed: {out.stderr[-2000:]}")
    return out


def inject(k, n, kubeconfig, binary):
    for j in range(k):
        i = j * (n // max(k, 1)) + j % 4  # a Deployment every 4th
        ns = f"bench-{i % NAMESPACES}"
        if i % 4 == 3:
            kubectl(["-n", ns, "scale", f"deployment/app-{i:05}", "--replicas=5"], kubeconfig, binary)
        else:
            kubectl(["-n", ns, "patch", f"configmap/cm-{i:05}", "--type=merge",
                     "-p", '{"data":{"mode":"debug"}}'], kubeconfig, binary)


def timed(cmd):
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    return time.perf_counter() - start, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=2000)
    ap.add_argument("--drift", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--driftlint", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target")), "release", "driftlint"))
    ap.add_argument("--kubectl", default="kubectl")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="driftlint-bench-")
    cluster = os.path.join(work, "cluster")
    subprocess.run([os.path.join(REPO, "scripts/real-cluster.sh"), "up", cluster,
                    "--owner", str(os.getpid())], check=True)
    kubeconfig = os.path.join(cluster, "admin.kubeconfig")
    repo = os.path.join(work, "repo")
    os.makedirs(os.path.join(repo, ".git"))
    os.makedirs(os.path.join(repo, "objects"))
    path = os.path.join(repo, "objects", "all.yaml")
    with open(path, "w") as f:
        f.write(manifests(a.objects))
    t0 = time.perf_counter()
    kubectl(["apply", "--server-side", "--field-manager=kustomize-controller", "-f", path],
            kubeconfig, a.kubectl)
    print(f"applied {a.objects} objects + {NAMESPACES} namespaces in {time.perf_counter() - t0:.1f} s")
    inject(a.drift, a.objects, kubeconfig, a.kubectl)
    runs = {"driftlint server": [], "driftlint read-only": [], "kubectl diff --server-side": []}
    for _ in range(a.rounds):
        for mode in ("server", "read-only"):
            wall, out = timed([a.driftlint, "drift", repo, "--kubeconfig", kubeconfig,
                               "--mode", mode, "--format", "json"])
            if out.returncode != 1:
                sys.exit(f"driftlint {mode} exit {out.returncode}: {out.stderr[-2000:]}")
            found = sum(1 for f in json.loads(out.stdout)["findings"] if f["code"] == "DRIFT001")
            if found != a.drift:
                sys.exit(f"driftlint {mode} found {found} field drifts, expected {a.drift}")
            runs[f"driftlint {mode}"].append(wall)
        wall, out = timed([a.kubectl, "--kubeconfig", kubeconfig, "diff", "--server-side",
                           "--force-conflicts", "--field-manager=kustomize-controller", "-f", path])
        if out.returncode != 1:
            sys.exit(f"kubectl diff exit {out.returncode}: {out.stderr[-2000:]}")
        objects = sum(1 for line in out.stdout.splitlines() if line.startswith("diff -u -N"))
        if objects != a.drift:
            sys.exit(f"kubectl diff showed {objects} objects, expected {a.drift}")
        runs["kubectl diff --server-side"].append(wall)
    subprocess.run([os.path.join(REPO, "scripts/real-cluster.sh"), "down", cluster])
    kube = statistics.median(runs["kubectl diff --server-side"])
    print(f"{a.objects} objects, {a.drift} drifted, {a.rounds} round(s), medians:")
    for name, walls in runs.items():
        med = statistics.median(walls)
        print(f"  {name:28} {med:7.2f} s   ({kube / med:.1f}x kubectl)")


if __name__ == "__main__":
    main()
