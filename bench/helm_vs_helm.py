#!/usr/bin/env python3
"""Whole-process benchmark: `driftlint helm template ...` against the real `helm template ...`.

Every Helm case of the shared corpus (`helm-*`, see shared/corpus/README.md) is copied to a
scratch directory; its case.yaml `command:` (one line, `helm template ...`, run from the case
directory) is split into words like a shell would and run with `helm` replaced by the binary
under test: `driftlint helm template ...` for driftlint (same arguments) and the real Helm
(v4.1.4) for the reference. Helm runs as the corpus was made: empty throw-away
HELM_CACHE_HOME/HELM_CONFIG_HOME/HELM_DATA_HOME directories (fresh for every run, made outside
the timed region) and no kubeconfig (KUBECONFIG=/dev/null). driftlint gets the same environment.

One warm-up run each, then N rounds; each round visits every case and runs both tools back to
back (which one goes first alternates per round). Each side's wall time per case is the median
of its N runs. While timing, every run's stdout is compared byte for byte: a case must print
the same stdout with exit status 0 on both sides, or fail on both sides. Disagreements are
reported as mismatches (exit status 1), except for cases listed in
tests/conformance/helm-ratchet.txt (known to differ): those are marked "known" in the table,
do not fail the run, and are kept out of the ratios. Cases where Helm fails (error cases) are
timed and checked for "both fail" but kept out of the ratios too, which are about rendering
charts.

Two times are taken per run: wall (elapsed) and cpu (user+sys of the child, from
getrusage(RUSAGE_CHILDREN) deltas; Helm's Go runtime may use several threads, so its cpu can
exceed its wall). On a loaded machine the wall time of a short process is mostly waiting for a
core; cpu time is the steadier measure then.

Output: a Markdown table per case (objects, wall and cpu medians in ms, helm/driftlint ratios,
identical or not), then for wall and for cpu the geometric mean of the per-case ratios
("driftlint is Nx faster per chart") and the total ratio (sum of Helm medians over sum of
driftlint medians).

Usage: bench/helm_vs_helm.py [--rounds N] [--helm PATH] [--driftlint PATH] [--corpus DIR]
                             [--only SUBSTRING]
Needs: Helm v4.1.4 (shared/tools/install-reference-tools), a release build of driftlint
(`cargo build --release`), PyYAML (to read case.yaml).
"""
import argparse
import math
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RATCHET = os.path.join(REPO, "tests", "conformance", "helm-ratchet.txt")


def first_existing(paths):
    for p in paths:
        if p and os.path.exists(p):
            return p
    return None


def default_corpus():
    return first_existing(
        [os.path.join(REPO, "..", "shared", "corpus"), os.path.join(REPO, "..", "..", "shared", "corpus")]
    )


def default_helm():
    found = first_existing(
        [
            os.path.join(REPO, ".reference-tools", "bin", "helm"),
            os.path.join(REPO, "..", ".reference-tools", "bin", "helm"),
            os.path.join(REPO, "..", "..", ".reference-tools", "bin", "helm"),
        ]
    )
    return found or shutil.which("helm")


def known_mismatches(path):
    """{case: reason} from the ratchet file (`case<TAB>reason`, `#` comments)."""
    known = {}
    if not os.path.exists(path):
        return known
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.strip() and not line.startswith("#"):
                name, _, reason = line.partition("\t")
                known[name.strip()] = reason.strip()
    return known


def case_args(case_dir):
    """The words after `helm` in case.yaml's `command:` (shell-split)."""
    with open(os.path.join(case_dir, "case.yaml"), encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    cmd = doc.get("command") if isinstance(doc, dict) else None
    words = shlex.split(cmd) if isinstance(cmd, str) else []
    if words[:2] != ["helm", "template"]:
        raise ValueError(f"{case_dir}: unexpected command {cmd!r}")
    return words[1:]


def load_cases(corpus, scratch, only):
    cases = []
    for name in sorted(os.listdir(corpus)):
        src = os.path.join(corpus, name)
        if not name.startswith("helm-") or not os.path.isdir(src) or (only and only not in name):
            continue
        dst = os.path.join(scratch, "cases", name)
        shutil.copytree(src, dst, symlinks=True)
        cases.append({"name": name, "cwd": dst, "args": case_args(src)})
    return cases


def helm_env(scratch):
    """A fresh environment with empty Helm home dirs and no kubeconfig."""
    home = tempfile.mkdtemp(prefix="helm-home-", dir=scratch)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_") and k != "KUBECONFIG"}
    for var, sub in (("HELM_CACHE_HOME", "cache"), ("HELM_CONFIG_HOME", "config"), ("HELM_DATA_HOME", "data")):
        os.mkdir(os.path.join(home, sub))
        env[var] = os.path.join(home, sub)
    env["KUBECONFIG"] = "/dev/null"
    return home, env


def run(argv, cwd, scratch):
    home, env = helm_env(scratch)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True)
    elapsed = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    shutil.rmtree(home)
    return (elapsed, cpu), p.returncode, p.stdout, p.stderr


def first_diff_line(a, b):
    al, bl = a.split(b"\n"), b.split(b"\n")
    for i, (x, y) in enumerate(zip(al, bl)):
        if x != y:
            return i + 1, x.decode("utf-8", "replace"), y.decode("utf-8", "replace")
    return min(len(al), len(bl)) + 1, "", ""


def check(name, ours, theirs, problems):
    """Record a problem when the two runs disagree (exit status or stdout bytes)."""
    (_, rc_d, out_d, err_d), (_, rc_h, out_h, err_h) = ours, theirs
    if (rc_d == 0) != (rc_h == 0):
        why = err_d if rc_d else err_h
        problems.setdefault(name, f"exit status driftlint={rc_d} helm={rc_h}: {why.decode('utf-8', 'replace').strip()[:300]}")
    elif rc_h == 0 and out_d != out_h:
        line, x, y = first_diff_line(out_d, out_h)
        problems.setdefault(name, f"stdout differs at line {line}: driftlint {x!r} vs helm {y!r}")


def measure(cases, args, scratch, problems):
    times = {c["name"]: {"driftlint": [], "helm": [], "driftlint-cpu": [], "helm-cpu": []} for c in cases}
    outputs = {}
    for rnd in range(-1, args.rounds):  # round -1 is the warm-up, not timed
        for case in cases:
            cmds = {
                "driftlint": [args.driftlint, "helm"] + case["args"],
                "helm": [args.helm] + case["args"],
            }
            order = ["driftlint", "helm"] if rnd % 2 == 0 else ["helm", "driftlint"]
            res = {tool: run(cmds[tool], case["cwd"], scratch) for tool in order}
            check(case["name"], res["driftlint"], res["helm"], problems)
            outputs[case["name"]] = res["helm"]
            if rnd >= 0:
                for tool in order:
                    wall, cpu = res[tool][0]
                    times[case["name"]][tool].append(wall)
                    times[case["name"]][tool + "-cpu"].append(cpu)
        if rnd >= 0:
            print(f"round {rnd + 1}/{args.rounds} done", file=sys.stderr)
    return times, outputs


def objects(stdout):
    """Documents in a `helm template` stream (`---` separator lines)."""
    return sum(1 for line in stdout.decode("utf-8", "replace").split("\n") if line == "---")


def geo_mean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def summary(label, unit, pairs):
    """Print totals and ratios for (helm, driftlint) median pairs (seconds)."""
    ratios = [h / d for h, d in pairs if d > 0]
    tot_h, tot_d = sum(h for h, _ in pairs), sum(d for _, d in pairs)
    print(f"{label}: helm total {tot_h * 1000:.1f} ms, driftlint total {tot_d * 1000:.1f} ms (sums of per-case medians)")
    print(f"{label}: geometric mean ratio: driftlint is {geo_mean(ratios):.1f}x faster per {unit}")
    print(f"{label}: total ratio: driftlint is {tot_h / tot_d:.1f}x faster over the corpus")
    print(f"{label}: per-case ratio range: {min(ratios):.1f}x .. {max(ratios):.1f}x")


def report(cases, times, outputs, problems, known, args):
    ms = lambda s: s * 1000.0
    ratio = lambda h, d: f"{h / d:.1f}x" if d > 0 else "-"
    print(f"rounds: {args.rounds}; driftlint: {args.driftlint}; helm: {args.helm}")
    print("wall = elapsed time; cpu = user+sys time of the process (less sensitive to machine load)\n")
    print("| case | objects | helm wall ms | driftlint wall ms | wall ratio | helm cpu ms | driftlint cpu ms | cpu ratio | identical |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    wall, cpu = [], []
    n_err, n_known = 0, 0
    for case in cases:
        n = case["name"]
        med = {k: statistics.median(v) for k, v in times[n].items()}
        h, d, hc, dc = med["helm"], med["driftlint"], med["helm-cpu"], med["driftlint-cpu"]
        rc_h, out_h = outputs[n][1], outputs[n][2]
        if n in problems:
            same = "no (known, ratchet)" if n in known else "**no**"
        else:
            same = "yes" if rc_h == 0 else "both fail"
        note = ""
        if n in problems:
            n_known += n in known
            note = " (mismatch, not in ratios)"
        elif rc_h != 0:
            n_err += 1
            note = " (error case, not in ratios)"
        else:
            wall.append((h, d))
            cpu.append((hc, dc))
        objs = objects(out_h) if rc_h == 0 else "-"
        print(f"| {n} | {objs} | {ms(h):.1f} | {ms(d):.1f} | {ratio(h, d)}{note} | {ms(hc):.1f} | {ms(dc):.1f} | {ratio(hc, dc)} | {same} |")
    if wall:
        print(f"\ncharts in ratios: {len(wall)} (plus {n_err} error cases, {len(problems)} mismatches of which {n_known} known)")
        summary("wall", "chart", wall)
        summary("cpu", "chart", cpu)
    stale = sorted(n for n in known if n not in problems and n in times)
    if stale:
        print(f"\nratchet cases that now match (remove them from {os.path.relpath(RATCHET, REPO)}): {', '.join(stale)}")
    if problems:
        print(f"\nmismatches ({len(problems)}):")
        for name in sorted(problems):
            tag = " [known: listed in helm-ratchet.txt]" if name in known else " [NEW]"
            print(f"- {name}{tag}: {problems[name]}")
    else:
        print("\nmismatches: none (every timed run's stdout was byte-identical, exit statuses agreed)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--helm", default=default_helm())
    ap.add_argument("--driftlint", default=os.path.join(REPO, "target", "release", "driftlint"))
    ap.add_argument("--corpus", default=default_corpus())
    ap.add_argument("--only", default=None, help="only cases whose name contains this")
    args = ap.parse_args()
    if args.rounds < 1:
        sys.exit("--rounds must be at least 1")
    for what, path in (("helm", args.helm), ("driftlint", args.driftlint), ("corpus", args.corpus)):
        if not path or not os.path.exists(path):
            sys.exit(f"{what} not found ({path}); see --help")
    args.helm, args.driftlint = os.path.abspath(args.helm), os.path.abspath(args.driftlint)
    known = known_mismatches(RATCHET)
    with tempfile.TemporaryDirectory(prefix="helm-bench-") as scratch:
        cases = load_cases(args.corpus, scratch, args.only)
        if not cases:
            sys.exit("no helm-* cases to run")
        problems = {}
        times, outputs = measure(cases, args, scratch, problems)
        report(cases, times, outputs, problems, known, args)
    return 1 if any(n not in known for n in problems) else 0


if __name__ == "__main__":
    sys.exit(main())
