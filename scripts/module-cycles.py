#!/usr/bin/env python3
"""Import circles between the top-level modules of each workspace crate.

For every crate under crates/ (and the CLI in src/), reads which top-level modules each
top-level module refers to (`crate::m`, `crate::{m, ...}`, or `super::m` from a direct child
file; `#[cfg(test)]` modules and imports are left out) and prints
every strongly connected component larger than one. Exit 1 when one exists.
"""
import os
import re
import sys


def top_modules(src):
    mods = set()
    for name in os.listdir(src):
        if name.endswith(".rs") and name not in ("lib.rs", "main.rs"):
            mods.add(name[:-3])
        elif os.path.isdir(os.path.join(src, name)) and os.path.exists(os.path.join(src, name, "mod.rs")):
            mods.add(name)
    return mods


def files_of(src, mod):
    path = os.path.join(src, mod)
    if os.path.isdir(path):
        for dp, _, fns in os.walk(path):
            for f in fns:
                if f.endswith(".rs"):
                    yield os.path.join(dp, f), os.path.relpath(dp, src) == mod and f == "mod.rs"
    else:
        yield path + ".rs", True


def strip_tests(text):
    """Drops `#[cfg(test)]` modules (tests may reach anywhere)."""
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(pub(\(crate\))?\s+)?mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def grouped(text, prefix):
    """The first path segment of every item of `prefix::{a, b::c, ...}` groups."""
    out = set()
    for m in re.finditer(r"\b" + prefix + r"::\{", text):
        depth, j, start = 1, m.end(), m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        body, level, item = text[start:j - 1], 0, ""
        for ch in body + ",":
            level += {"{": 1, "}": -1}.get(ch, 0)
            if ch == "," and level == 0:
                w = re.match(r"\s*(\w+)", item)
                if w:
                    out.add(w.group(1))
                item = ""
            else:
                item += ch
    return out


def edges(src):
    mods = top_modules(src)
    graph = {m: set() for m in mods}
    for m in mods:
        for path, top in files_of(src, m):
            text = strip_tests(open(path, encoding="utf-8").read())
            text = re.sub(r"#\[cfg\(test\)\]\s*use [^;]*;", "", text)
            text = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("//"))
            refs = set(re.findall(r"\bcrate::(\w+)", text)) | grouped(text, "crate")
            if top:
                refs |= set(re.findall(r"\bsuper::(\w+)", text)) | grouped(text, "super")
            graph[m] |= {r for r in refs if r in mods and r != m}
    return graph


def cycles(graph):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    srcs = [os.path.join(root, "src")]
    crates = os.path.join(root, "crates")
    srcs += [os.path.join(crates, c, "src") for c in sorted(os.listdir(crates))]
    bad = False
    for src in srcs:
        for comp in cycles(edges(src)):
            bad = True
            print(f"{os.path.relpath(src, root)}: import circle between {', '.join(comp)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
