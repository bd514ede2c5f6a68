#!/usr/bin/env python3
"""Whole-process benchmark: `driftlint diff` of a one-file change against one `driftlint check`
of the same repository (issue 18 aims at diff < 2x check).

A copy of REPO is committed into a fresh Git repository (fixed dates), one line of one file is
changed in the work tree (`--file`, `--old`, `--new`), then `driftlint check --format json` and
`driftlint diff --base HEAD --format json` alternate N rounds; the report gives the medians and
their ratio.

Usage: bench/diff_vs_check.py [--rounds N] [--driftlint PATH] --file REL --old TEXT --new TEXT REPO
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time


def run(cmd, cwd):
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, capture_output=True)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--driftlint", default=os.path.abspath("target/release/driftlint"))
    ap.add_argument("--file", required=True)
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    repo = os.path.join(tmp, "repo")
    shutil.copytree(a.repo, repo)
    env = dict(os.environ, GIT_AUTHOR_DATE="2026-01-01T00:00:00Z", GIT_COMMITTER_DATE="2026-01-01T00:00:00Z")
    git = ["git", "-c", "user.email=bench@example.com", "-c", "user.name=bench"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run(git + ["add", "-A"], cwd=repo, check=True)
    subprocess.run(git + ["commit", "-q", "-m", "base"], cwd=repo, check=True, env=env)
    path = os.path.join(repo, a.file)
    text = open(path, encoding="utf-8").read()
    assert a.old in text, f"{a.old!r} not in {a.file}"
    open(path, "w", encoding="utf-8").write(text.replace(a.old, a.new, 1))
    check, diff = [], []
    for _ in range(a.rounds):
        check.append(run([a.driftlint, "check", "--format", "json", "."], repo))
        diff.append(run([a.driftlint, "diff", "--base", "HEAD", "--format", "json", "."], repo))
    shutil.rmtree(tmp)
    c, d = statistics.median(check), statistics.median(diff)
    print(f"repository: {a.repo}; change: {a.file}: {a.old!r} -> {a.new!r}")
    print(f"driftlint check: median {c:.3f} s {['%.3f' % x for x in check]}")
    print(f"driftlint diff --base HEAD: median {d:.3f} s {['%.3f' % x for x in diff]}")
    print(f"ratio: diff costs {d / c:.2f}x a check (aim: under 2x)")


if __name__ == "__main__":
    main()
