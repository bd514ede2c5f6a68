#!/usr/bin/env python3
"""Seeds fuzz/corpus/{kustomization_loader,patch_engine}/ from the shared Kustomize corpus.

The seeds are written at run time only (fuzz/corpus is gitignored), in the input formats the
two targets document:

* kustomization_loader: `DIR\\n<kustomization>` NUL `PATH\\n<content>` NUL ...: one seed per
  kustomization directory of every `kust-*` case, with the case's other text files (paths
  relative to the case root, small files first, at most MAX_SEED bytes in all).
* patch_engine: `MODE <target object> NUL <patch>`: every patch of every kustomization
  (`patches`, `patchesStrategicMerge`, `patchesJson6902`; files and inline), paired with
  the corpus document it targets (same kind, and name when known; targets over MAX_FILE
  bytes are left out); strategic merge patches
  get modes 0 and 2, JSON 6902 patches modes 1 and 3.

Usage: fuzz/seed_corpora.py [--corpus DIR]   (needs PyYAML: pip install pyyaml)
"""
import argparse
import hashlib
import os
import sys

try:
    import yaml
except ImportError:
    sys.exit("seed_corpora.py needs PyYAML (pip install pyyaml)")

HERE = os.path.dirname(os.path.abspath(__file__))
KFILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MAX_SEED = 48 * 1024
MAX_FILE = 16 * 1024


def default_corpus():
    for p in (os.path.join(HERE, "..", "..", "shared", "corpus"), os.path.join(HERE, "..", "..", "..", "shared", "corpus")):
        if os.path.isdir(p):
            return p
    return None


def save(target, data):
    out = os.path.join(HERE, "corpus", target)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def text_files(root):
    """(relative path, bytes) of every UTF-8 file without NUL under root."""
    out = []
    for d, subdirs, files in os.walk(root):
        subdirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            try:
                data = open(p, "rb").read()
                data.decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if b"\0" not in data:
                out.append((os.path.relpath(p, root), data))
    return out


def loader_seeds(case):
    files = text_files(case)
    count = 0
    for rel, data in files:
        d, name = os.path.split(rel)
        if name not in KFILES or not d:
            continue
        seed = d.encode() + b"\n" + data
        others = sorted((f for f in files if f[0] != rel and len(f[1]) <= MAX_FILE), key=lambda f: len(f[1]))
        for orel, odata in others:
            part = b"\0" + orel.encode() + b"\n" + odata
            if len(seed) + len(part) > MAX_SEED:
                break
            seed += part
        save("kustomization_loader", seed)
        count += 1
    return count


def documents(case):
    """(kind, name, text) of every YAML document in the case's files."""
    docs = []
    for rel, data in text_files(case):
        if not rel.endswith((".yaml", ".yml")):
            continue
        for text in data.decode("utf-8").split("\n---"):
            try:
                obj = yaml.safe_load(text)
            except yaml.YAMLError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get("metadata"), dict):
                docs.append((obj.get("kind"), obj["metadata"].get("name"), text.lstrip("-\n")))
    return docs


def patch_entries(kdir, kust):
    """(patch text, kind, name) of every patch in one kustomization."""
    def read(path):
        try:
            return open(os.path.join(kdir, path), encoding="utf-8").read()
        except (OSError, UnicodeDecodeError, TypeError):
            return None

    out = []
    for entry in (kust.get("patches") or []) + (kust.get("patchesJson6902") or []):
        if not isinstance(entry, dict):
            continue
        text = entry.get("patch") if isinstance(entry.get("patch"), str) else read(entry.get("path"))
        target = entry.get("target") if isinstance(entry.get("target"), dict) else {}
        if text:
            out.append((text, target.get("kind"), target.get("name")))
    for entry in kust.get("patchesStrategicMerge") or []:
        text = entry if isinstance(entry, str) and "\n" in entry else read(entry)
        if text:
            out.append((text, None, None))
    return out


def patch_seeds(case):
    docs = documents(case)
    count = 0
    for rel, data in text_files(case):
        if os.path.basename(rel) not in KFILES:
            continue
        try:
            kust = yaml.safe_load(data)
        except yaml.YAMLError:
            continue
        if not isinstance(kust, dict):
            continue
        for text, kind, name in patch_entries(os.path.join(case, os.path.dirname(rel)), kust):
            try:
                patch = yaml.safe_load(text)
            except yaml.YAMLError:
                continue
            if isinstance(patch, dict):
                kind = kind or patch.get("kind")
                name = name or (patch.get("metadata") or {}).get("name")
                modes = (0, 2, 1)
            else:
                modes = (1, 3)
            targets = [
                t for k, n, t in docs if k == kind and (name is None or n == name) and len(t) <= MAX_FILE
            ]
            for target in targets[:2]:
                for mode in modes:
                    save("patch_engine", bytes([mode]) + target.encode() + b"\0" + text.encode())
                    count += 1
    return count


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=default_corpus())
    args = ap.parse_args()
    if not args.corpus or not os.path.isdir(args.corpus):
        sys.exit(f"corpus not found ({args.corpus})")
    cases = sorted(os.path.join(args.corpus, c) for c in os.listdir(args.corpus) if c.startswith("kust-"))
    loader = sum(loader_seeds(c) for c in cases)
    patch = sum(patch_seeds(c) for c in cases)
    print(f"seeded {loader} kustomization_loader inputs and {patch} patch_engine inputs from {len(cases)} cases")


if __name__ == "__main__":
    main()
