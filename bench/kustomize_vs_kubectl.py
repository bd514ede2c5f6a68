#!/usr/bin/env python3
"""Whole-process benchmark: `driftlint render DIR` against `kubectl kustomize DIR`.

Every kustomize case of the shared corpus (`kust-*`, see shared/corpus/README.md) is copied to
a scratch directory (with an empty `.git` marker at the case root, so driftlint takes the case
directory as the repository root, as the conformance test does; kubectl ignores it). Both
tools then run on the same copies in this one process: one warm-up run each, then N rounds,
each round visiting every case and running both tools back to back (which one goes first
alternates per round). Each side's wall time per case is the median of its N runs.

While timing, every run's stdout is compared byte for byte between the tools; mismatches
and exit-status disagreements are reported (and make the exit status 1). Cases whose
`command:` carries flags (`--enable-helm ...`) are skipped; cases where kubectl fails are
checked for "both fail" and timed, but kept out of the ratios, which are about rendering
overlays.

Output: a Markdown table per case (objects, medians in ms, kubectl/driftlint ratio, identical
or not), then the geometric mean of the per-case ratios and the total ratio (sum of kubectl
medians over sum of driftlint medians).

`--scale` adds two generated cases from issue 11 (hostile pull requests), timed the same
way with `driftlint kustomize build DIR` against `kubectl kustomize DIR`:
`gen-20000-objects` (20,000 small ConfigMaps in one file, with a namePrefix, a namespace
and a Deployment referring to the last ConfigMap) and `gen-200000-keys` (one ConfigMap
with 200,000 data keys). `--scale-only` runs just those two.

Usage: bench/kustomize_vs_kubectl.py [--rounds N] [--kubectl PATH] [--driftlint PATH]
                                     [--corpus DIR] [--only SUBSTRING]
                                     [--scale | --scale-only]
Needs: kubectl v1.35.2 (kustomize v5.7.1; shared/tools/install-reference-tools), a release
build of driftlint (`cargo build --release`).
"""
import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def first_existing(paths):
    for p in paths:
        if p and os.path.exists(p):
            return p
    return None


def default_corpus():
    return first_existing(
        [os.path.join(REPO, "..", "shared", "corpus"), os.path.join(REPO, "..", "..", "shared", "corpus")]
    )


def default_kubectl():
    found = first_existing(
        [
            os.path.join(REPO, ".reference-tools", "bin", "kubectl"),
            os.path.join(REPO, "..", ".reference-tools", "bin", "kubectl"),
            os.path.join(REPO, "..", "..", ".reference-tools", "bin", "kubectl"),
        ]
    )
    return found or shutil.which("kubectl")


def case_command(case_dir):
    """(dir, flags) from case.yaml's single-line `command: 'kubectl kustomize [FLAGS] DIR'`."""
    with open(os.path.join(case_dir, "case.yaml"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("command:"):
                words = line.split(":", 1)[1].strip().strip("'\"").split()
                if words[:2] != ["kubectl", "kustomize"] or len(words) < 3:
                    raise ValueError(f"{case_dir}: unexpected command {line.strip()}")
                return words[-1], words[2:-1]
    raise ValueError(f"{case_dir}: case.yaml has no command")


def load_cases(corpus, scratch, only):
    cases, skipped = [], []
    for name in sorted(os.listdir(corpus)):
        src = os.path.join(corpus, name)
        if not name.startswith("kust-") or not os.path.isdir(src) or (only and only not in name):
            continue
        target, flags = case_command(src)
        if flags:
            skipped.append((name, "flags " + " ".join(flags)))
            continue
        dst = os.path.join(scratch, name)
        shutil.copytree(src, dst, symlinks=True)
        os.mkdir(os.path.join(dst, ".git"))
        cases.append({"name": name, "cwd": dst, "dir": target, "error_case": not os.path.exists(os.path.join(src, "expected.yaml"))})
    return cases, skipped


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def scale_cases(scratch):
    """The generated cases of issue 11: many objects, and one very large mapping."""
    cases = []
    root = os.path.join(scratch, "gen-20000-objects")
    parts = [
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:05d}\ndata:\n  k: v{i}\n"
        for i in range(20000)
    ]
    parts.append(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n"
        "    spec:\n      containers:\n      - name: c\n        image: nginx:1.27\n"
        "      volumes:\n      - name: v\n        configMap:\n          name: cm-19999\n"
    )
    write(os.path.join(root, "objects.yaml"), "---\n".join(parts))
    write(
        os.path.join(root, "kustomization.yaml"),
        "namePrefix: p-\nnamespace: team\nresources:\n- objects.yaml\n",
    )
    cases.append(root)
    root = os.path.join(scratch, "gen-200000-keys")
    lines = ["apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n"]
    lines.extend(f"  key-{i:07d}: value-{i}\n" for i in range(200000))
    write(os.path.join(root, "cm.yaml"), "".join(lines))
    write(os.path.join(root, "kustomization.yaml"), "resources:\n- cm.yaml\n")
    cases.append(root)
    out = []
    for root in cases:
        os.mkdir(os.path.join(root, ".git"))
        out.append(
            {
                "name": os.path.basename(root),
                "cwd": root,
                "dir": ".",
                "error_case": False,
                "driftlint": ["kustomize", "build"],
            }
        )
    return out


def run(argv, cwd, timeout=None):
    """(seconds, exit status, stdout, stderr); a run past `timeout` is killed and reported
    with exit status None and the timeout as its time (a lower bound)."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return timeout, None, b"", b"timed out"
    return time.perf_counter() - t0, p.returncode, p.stdout, p.stderr


def first_diff_line(a, b):
    al, bl = a.split(b"\n"), b.split(b"\n")
    for i, (x, y) in enumerate(zip(al, bl)):
        if x != y:
            return i + 1, x.decode("utf-8", "replace"), y.decode("utf-8", "replace")
    return min(len(al), len(bl)) + 1, "", ""


def check(case, ours, theirs, problems):
    """Record a problem when the two runs disagree (exit status or stdout bytes)."""
    (_, rc_d, out_d, err_d), (_, rc_k, out_k, err_k) = ours, theirs
    name = case["name"]
    if (rc_d == 0) != (rc_k == 0):
        why = err_d if rc_d else err_k
        problems.setdefault(name, f"exit status driftlint={rc_d} kubectl={rc_k}: {why.decode('utf-8', 'replace').strip()[:300]}")
    elif rc_k == 0 and out_d != out_k:
        line, x, y = first_diff_line(out_d, out_k)
        problems.setdefault(name, f"stdout differs at line {line}: driftlint {x!r} vs kubectl {y!r}")


def measure(cases, args, problems):
    times = {c["name"]: {"driftlint": [], "kubectl": []} for c in cases}
    outputs = {}
    for rnd in range(-1, args.rounds):  # round -1 is the warm-up, not timed
        for case in cases:
            cmds = {
                "driftlint": [args.driftlint, *case.get("driftlint", ["render"]), case["dir"]],
                "kubectl": [args.kubectl, "kustomize", case["dir"]],
            }
            order = ["driftlint", "kubectl"] if rnd % 2 == 0 else ["kubectl", "driftlint"]
            limits = {"driftlint": None, "kubectl": args.kubectl_timeout}
            res = {tool: run(cmds[tool], case["cwd"], limits[tool]) for tool in order}
            if res["kubectl"][1] is None:
                case["kubectl_timed_out"] = True
                print(f"{case['name']}: kubectl killed after {args.kubectl_timeout} s", file=sys.stderr)
            else:
                check(case, res["driftlint"], res["kubectl"], problems)
            outputs[case["name"]] = res["kubectl"]
            if rnd >= 0:
                for tool in order:
                    times[case["name"]][tool].append(res[tool][0])
        if rnd >= 0:
            print(f"round {rnd + 1}/{args.rounds} done", file=sys.stderr)
    return times, outputs


def objects(stdout):
    text = stdout.decode("utf-8", "replace")
    return 0 if not text.strip() else text.count("\n---\n") + 1


def report(cases, skipped, times, outputs, problems, args):
    ms = lambda s: s * 1000.0
    print(f"rounds: {args.rounds}; driftlint: {args.driftlint}; kubectl: {args.kubectl}\n")
    print("| case | objects | kubectl ms | driftlint ms | ratio | identical |")
    print("|---|---:|---:|---:|---:|---|")
    ratios, tot_k, tot_d = [], 0.0, 0.0
    for case in cases:
        n = case["name"]
        k, d = statistics.median(times[n]["kubectl"]), statistics.median(times[n]["driftlint"])
        rc_k, out_k = outputs[n][1], outputs[n][2]
        if case.get("kubectl_timed_out"):
            print(f"| {n} | - | > {ms(k):.0f} (killed) | {ms(d):.1f} | > {k / d:.0f}x | not compared |")
            continue
        same = "no" if n in problems else ("yes" if rc_k == 0 else "both fail")
        cell = f"{k / d:.1f}x" if d > 0 else "-"
        if rc_k == 0:
            ratios.append(k / d)
            tot_k, tot_d = tot_k + k, tot_d + d
        else:
            cell += " (error case, not in ratios)"
        print(f"| {n} | {objects(out_k) if rc_k == 0 else '-'} | {ms(k):.1f} | {ms(d):.1f} | {cell} | {same} |")
    for name, why in skipped:
        print(f"| {name} | skipped: {why} | | | | |")
    if ratios:
        geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"\noverlays timed: {len(ratios)} (plus {len(cases) - len(ratios)} error cases, {len(skipped)} skipped)")
        print(f"kubectl total {ms(tot_k):.1f} ms, driftlint total {ms(tot_d):.1f} ms (sums of per-case medians)")
        print(f"geometric mean ratio: driftlint is {geo:.1f}x faster per overlay")
        print(f"total ratio: driftlint is {tot_k / tot_d:.1f}x faster over the corpus")
        print(f"per-case ratio range: {min(ratios):.1f}x .. {max(ratios):.1f}x")
    if problems:
        print(f"\nmismatches ({len(problems)}):")
        for name in sorted(problems):
            print(f"- {name}: {problems[name]}")
    else:
        print("\nmismatches: none (every timed run's stdout was byte-identical, exit statuses agreed)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--kubectl", default=default_kubectl())
    ap.add_argument("--driftlint", default=os.path.join(REPO, "target", "release", "driftlint"))
    ap.add_argument("--corpus", default=default_corpus())
    ap.add_argument("--only", default=None, help="only cases whose name contains this")
    ap.add_argument("--scale", action="store_true", help="add the generated issue-11 cases")
    ap.add_argument("--kubectl-timeout", type=float, default=None, help="kill kubectl runs after this many seconds")
    ap.add_argument("--scale-only", action="store_true", help="run only the generated cases")
    args = ap.parse_args()
    for what, path in (("kubectl", args.kubectl), ("driftlint", args.driftlint), ("corpus", args.corpus)):
        if not path or not os.path.exists(path):
            sys.exit(f"{what} not found ({path}); see --help")
    args.kubectl, args.driftlint = os.path.abspath(args.kubectl), os.path.abspath(args.driftlint)
    with tempfile.TemporaryDirectory(prefix="kust-bench-") as scratch:
        cases, skipped = ([], []) if args.scale_only else load_cases(args.corpus, scratch, args.only)
        if args.scale or args.scale_only:
            cases.extend(scale_cases(scratch))
        if not cases:
            sys.exit("no kust-* cases to run")
        problems = {}
        times, outputs = measure(cases, args, problems)
        report(cases, skipped, times, outputs, problems, args)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
