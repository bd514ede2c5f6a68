#!/usr/bin/env python3
"""Generate driftlint's embedded schema data under schemas/.

Usage:
    python3 scripts/gen-schemas.py [--flux-components FILE]... [--out DIR]

Inputs
  * The PyPI package `kubernetes-validate` (pinned to 1.37.0), found through
    `import kubernetes_validate`: its `kubernetes-json-schema/v1.NN.0-local/_definitions.json`
    for every Kubernetes minor 1.25 to 1.37 (JSON Schema 2020-12 converted from the Kubernetes
    OpenAPI documents, every type nullable).
  * Flux CustomResourceDefinitions, read from one or more YAML files (a `gotk-components.yaml`
    written by `flux install --export` / `flux bootstrap`, or the controllers' CRD files).
    Default: ../shared/gitops/flux2-kustomize-helm-example/clusters/staging/flux-system/
    gotk-components.yaml next to the repository. Needs PyYAML (`pip install pyyaml`).

Outputs (all deterministic: sorted keys, compact separators, gzip with mtime 0)
  * schemas/kubernetes-defs.jsonl.gz   one compact definition body per line; a body shared by
                                       several Kubernetes versions is stored once
  * schemas/kubernetes-index.json.gz   definition names, per version the pool line of every name
                                       (-1 when absent) and the GVK -> definition table
  * schemas/flux.json.gz               per served Flux CRD version: apiVersion, kind and the
                                       openAPIV3Schema with documentation keys dropped
  * schemas/manifest.json              human-readable summary: sources, versions, sizes, sha256

Compaction drops documentation-only keys (description, default, example, title, externalDocs,
x-kubernetes-unions, x-kubernetes-validations) and fails on any key it does not know, so a new
upstream keyword is never dropped silently. A `oneOf` whose branches only name types
(IntOrString, Quantity) becomes one `type` list, and IntOrString gets
`x-kubernetes-int-or-string: true`. The package's `-strict` variant is checked to equal the
non-strict data plus `additionalProperties: false` on every schema with `properties` and no
`additionalProperties` -- the rule driftlint applies at run time (src/schema/validate.rs).
"""

import argparse
import gzip
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import sys

FIRST_MINOR = 25
LAST_MINOR = 37
PACKAGE = "kubernetes-validate"
PACKAGE_VERSION = "1.37.0"
FORMAT = 1

# Keys of a schema object that validation, strategic merge or drift need.
KEEP = {
    "$ref", "type", "format", "enum", "required", "properties", "items", "additionalProperties",
    "oneOf", "anyOf", "allOf", "not", "pattern", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems", "uniqueItems",
    "minProperties", "maxProperties", "multipleOf", "nullable",
    "x-kubernetes-group-version-kind", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
    "x-kubernetes-patch-strategy", "x-kubernetes-patch-merge-key", "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
    "x-kubernetes-map-type",
}
# Documentation-only keys (no effect on validation or merging).
DROP = {
    "description", "default", "example", "title", "externalDocs", "x-kubernetes-unions",
    "x-kubernetes-validations", "$schema", "$id",
}
SCHEMA_MAPS = {"properties"}
SCHEMA_LISTS = {"oneOf", "anyOf", "allOf"}
SCHEMA_ONE = {"items", "additionalProperties", "not"}


class GenError(Exception):
    """A generation input is not what this script understands."""


def compact(node, where):
    """Return `node` (a schema object) without documentation keys; fail on unknown keys."""
    if isinstance(node, bool):
        return node
    if not isinstance(node, dict):
        raise GenError("%s: schema is %s, not an object" % (where, type(node).__name__))
    out = {}
    for key, value in node.items():
        if key in DROP:
            continue
        if key not in KEEP:
            raise GenError("%s: unknown schema key %r (add it to KEEP or DROP)" % (where, key))
        if key in SCHEMA_MAPS:
            value = {name: compact(sub, "%s/%s/%s" % (where, key, name))
                     for name, sub in value.items()}
        elif key in SCHEMA_LISTS:
            value = [compact(sub, "%s/%s/%d" % (where, key, i)) for i, sub in enumerate(value)]
        elif key in SCHEMA_ONE:
            value = compact(value, "%s/%s" % (where, key))
        out[key] = value
    return merge_type_only_one_of(out)


def merge_type_only_one_of(node):
    """`oneOf: [{type: A}, {type: B}]` -> `type: [A, B]` (IntOrString, Quantity).

    The package writes every type as nullable, so the `oneOf` rejects `null` (both branches
    match it); one type list accepts it like every other field, and gives plain messages.
    """
    branches = node.get("oneOf")
    if not branches or "type" in node or not all(
            isinstance(b, dict) and set(b) == {"type"} for b in branches):
        return node
    types = []
    for branch in branches:
        for t in branch["type"] if isinstance(branch["type"], list) else [branch["type"]]:
            if t not in types:
                types.append(t)
    types = [t for t in types if t != "null"] + (["null"] if "null" in types else [])
    out = {k: v for k, v in node.items() if k != "oneOf"}
    out["type"] = types
    if set(types) - {"null"} == {"string", "integer"}:
        out["x-kubernetes-int-or-string"] = True
    return out


def strictify(node):
    """Add `additionalProperties: false` where a schema lists properties and says nothing else
    about extra keys, walking the structural skeleton (properties, items, additionalProperties).
    Mirrors src/schema/validate.rs and the package's `-strict` variant."""
    if not isinstance(node, dict):
        return node
    out = dict(node)
    if "properties" in out:
        out["properties"] = {k: strictify(v) for k, v in out["properties"].items()}
        if "additionalProperties" not in out and \
                out.get("x-kubernetes-preserve-unknown-fields") is not True:
            out["additionalProperties"] = False
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = strictify(out[key])
    return out


def dumps(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def gzip_bytes(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def package_dir():
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise GenError("python package kubernetes_validate not found: "
                       "pip install %s==%s" % (PACKAGE, PACKAGE_VERSION))
    version = importlib.metadata.version(PACKAGE)
    if version != PACKAGE_VERSION:
        raise GenError("%s %s installed, %s expected" % (PACKAGE, version, PACKAGE_VERSION))
    return os.path.join(list(spec.submodule_search_locations)[0], "kubernetes-json-schema")


def load_defs(root, minor, strict):
    name = "v1.%d.0-local%s" % (minor, "-strict" if strict else "")
    path = os.path.join(root, name, "_definitions.json")
    if not os.path.exists(path):
        raise GenError("%s missing from %s %s" % (path, PACKAGE, PACKAGE_VERSION))
    with open(path, encoding="utf-8") as f:
        defs = json.load(f)["$defs"]
    return {k: compact(v, "%s#/$defs/%s" % (name, k)) for k, v in defs.items()}


def api_version(gvk):
    return "%s/%s" % (gvk["group"], gvk["version"]) if gvk["group"] else gvk["version"]


def kinds_of(defs, minor):
    """GVK -> definition name. Definitions carrying several GVKs (DeleteOptions, WatchEvent:
    API machinery envelopes listed under every group) are not objects one applies: skipped."""
    kinds = {}
    for name in sorted(defs):
        gvks = defs[name].get("x-kubernetes-group-version-kind", [])
        if len(gvks) != 1:
            continue
        key = (api_version(gvks[0]), gvks[0]["kind"])
        if key in kinds:
            raise GenError("1.%d: %s %s defined by %s and %s" % (minor, key[0], key[1],
                                                                 kinds[key], name))
        kinds[key] = name
    return kinds


def build_kubernetes(root):
    per_version = {}
    for minor in range(FIRST_MINOR, LAST_MINOR + 1):
        defs = load_defs(root, minor, strict=False)
        strict = load_defs(root, minor, strict=True)
        for name in sorted(defs):
            if strictify(defs[name]) != strict.get(name):
                raise GenError("1.%d %s: the package's -strict variant is not the non-strict "
                               "schema plus additionalProperties: false" % (minor, name))
        if set(strict) != set(defs):
            raise GenError("1.%d: strict and non-strict definition names differ" % minor)
        per_version["1.%d" % minor] = ({n: dumps(b) for n, b in defs.items()},
                                       kinds_of(defs, minor))
    names = sorted({n for defs, _ in per_version.values() for n in defs})
    # Pool order: by name, then by first version using the body, so the versions of one
    # definition sit next to each other inside gzip's window.
    pool, pool_ids = [], {}
    for name in names:
        for version in sorted(per_version, key=minor_key):
            body = per_version[version][0].get(name)
            if body is not None and body not in pool_ids:
                pool_ids[body] = len(pool)
                pool.append(body)
    name_ids = {n: i for i, n in enumerate(names)}
    versions = {}
    for version, (defs, kinds) in sorted(per_version.items(), key=lambda kv: minor_key(kv[0])):
        versions[version] = {
            "defs": [pool_ids[defs[n]] if n in defs else -1 for n in names],
            "kinds": [[av, kind, name_ids[name]] for (av, kind), name in sorted(kinds.items())],
        }
    index = {"format": FORMAT, "source": "%s %s" % (PACKAGE, PACKAGE_VERSION),
             "names": names, "versions": versions}
    return "\n".join(pool).encode("utf-8") + b"\n", dumps(index).encode("utf-8"), per_version


def minor_key(version):
    return tuple(int(p) for p in version.split("."))


def load_yaml_documents(path):
    try:
        import yaml
    except ImportError:
        raise GenError("PyYAML is needed to read %s: pip install pyyaml" % path)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    docs = []
    for doc in yaml.load_all(text, Loader=loader):
        if isinstance(doc, dict) and doc.get("kind") == "List":
            docs.extend(doc.get("items") or [])
        elif doc is not None:
            docs.append(doc)
    return text, docs


def crd_versions(crd, where):
    """(apiVersion, kind, openAPIV3Schema) of every served version, v1 and v1beta1 CRDs."""
    spec = crd.get("spec") or {}
    group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
    if not group or not kind:
        raise GenError("%s: CRD without spec.group or spec.names.kind" % where)
    shared = (spec.get("validation") or {}).get("openAPIV3Schema")
    versions = spec.get("versions") or ([{"name": spec["version"], "served": True}]
                                        if spec.get("version") else [])
    out = []
    for v in versions:
        if not v.get("served"):
            continue
        schema = (v.get("schema") or {}).get("openAPIV3Schema", shared)
        if schema is None:
            raise GenError("%s: %s/%s %s has no openAPIV3Schema" % (where, group, v["name"], kind))
        out.append(("%s/%s" % (group, v["name"]), kind,
                    compact(schema, "%s %s/%s %s" % (where, group, v["name"], kind))))
    return out


def flux_version(text, crds):
    match = re.search(r"^#\s*Flux Version:\s*(\S+)", text, re.MULTILINE)
    if match:
        return match.group(1)
    labels = {((c.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/version")
              for c in crds}
    labels.discard(None)
    return ",".join(sorted(labels)) or None


def display_path(path, repo):
    """A checkout-independent name for an input file: repo-relative inside the repository,
    from the `shared/` folder for the project's shared data, else the file name."""
    path = os.path.abspath(path)
    if path.startswith(repo + os.sep):
        return os.path.relpath(path, repo)
    parts = path.split(os.sep)
    if "shared" in parts:
        return "/".join(parts[len(parts) - 1 - parts[::-1].index("shared"):])
    return os.path.basename(path)


def build_flux(paths, repo):
    kinds, sources = {}, []
    for path in paths:
        text, docs = load_yaml_documents(path)
        crds = [d for d in docs if isinstance(d, dict) and d.get("kind") ==
                "CustomResourceDefinition"]
        rel = display_path(path, repo)
        sources.append({"file": rel, "sha256": hashlib.sha256(text.encode()).hexdigest(),
                        "crds": len(crds), "fluxVersion": flux_version(text, crds)})
        if not crds:
            print("warning: %s holds no CustomResourceDefinition (a flux-bootstrap placeholder?);"
                  " pass --flux-components with the output of `flux install --export`" % rel,
                  file=sys.stderr)
        for crd in crds:
            where = "%s: CRD %s" % (rel, (crd.get("metadata") or {}).get("name"))
            for av, kind, schema in crd_versions(crd, where):
                if (av, kind) in kinds:
                    raise GenError("%s: %s %s defined twice" % (where, av, kind))
                kinds[(av, kind)] = schema
    bundle = {"format": FORMAT, "sources": sources,
              "kinds": [{"apiVersion": av, "kind": k, "schema": kinds[(av, k)]}
                        for av, k in sorted(kinds)]}
    return dumps(bundle).encode("utf-8"), bundle


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    default_flux = os.path.join(os.path.dirname(repo), "shared", "gitops",
                                "flux2-kustomize-helm-example", "clusters", "staging",
                                "flux-system", "gotk-components.yaml")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flux-components", action="append", metavar="FILE",
                        help="YAML file with Flux CRDs (repeatable; default: %s)" % default_flux)
    parser.add_argument("--out", default=os.path.join(repo, "schemas"), metavar="DIR")
    args = parser.parse_args()
    flux_paths = args.flux_components or [default_flux]
    for path in flux_paths:
        if not os.path.exists(path):
            raise GenError("%s not found: pass --flux-components FILE" % path)

    pool, index, per_version = build_kubernetes(package_dir())
    flux, bundle = build_flux(flux_paths, repo)
    os.makedirs(args.out, exist_ok=True)
    files = {"kubernetes-defs.jsonl.gz": pool, "kubernetes-index.json.gz": index,
             "flux.json.gz": flux}
    manifest = {"format": FORMAT, "generator": "scripts/gen-schemas.py",
                "kubernetes": {"source": "%s %s" % (PACKAGE, PACKAGE_VERSION),
                               "versions": {v: {"definitions": len(d), "kinds": len(k)}
                                            for v, (d, k) in per_version.items()},
                               "uniqueDefinitions": pool.count(b"\n")},
                "flux": {"sources": bundle["sources"], "kinds": [
                    "%s %s" % (k["apiVersion"], k["kind"]) for k in bundle["kinds"]]},
                "files": {}}
    for name, data in sorted(files.items()):
        packed = gzip_bytes(data)
        write(os.path.join(args.out, name), packed)
        manifest["files"][name] = {"bytes": len(packed), "uncompressedBytes": len(data),
                                   "sha256": hashlib.sha256(packed).hexdigest()}
        print("%-26s %8d bytes (%d uncompressed)" % (name, len(packed), len(data)))
    write(os.path.join(args.out, "manifest.json"),
          (json.dumps(manifest, sort_keys=True, indent=2) + "\n").encode("utf-8"))
    total = sum(f["bytes"] for f in manifest["files"].values())
    print("total embedded: %d bytes; %d Kubernetes versions, %d unique definitions, "
          "%d Flux kinds" % (total, len(per_version), manifest["kubernetes"]["uniqueDefinitions"],
                             len(bundle["kinds"])))


if __name__ == "__main__":
    try:
        main()
    except GenError as err:
        print("gen-schemas: error: %s" % err, file=sys.stderr)
        sys.exit(1)
