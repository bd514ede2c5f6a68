#!/usr/bin/env python3
"""Generate driftlint's embedded schema data under schemas/.

Usage:
    python3 scripts/gen-schemas.py --flux-catalog DIR [--flux-npm DIR]
                                   [--flux-components FILE]... [--out DIR]

Inputs
  * The PyPI package `kubernetes-validate` (pinned to 1.37.0), found through
    `import kubernetes_validate`: its `kubernetes-json-schema/v1.NN.0-local/_definitions.json`
    for every Kubernetes minor 1.25 to 1.37 (JSON Schema 2020-12 converted from the Kubernetes
    OpenAPI documents, every type nullable).
  * Flux, from a checkout of the datreeio CRDs-catalog (`--flux-catalog DIR`, MIT, the commit
    pinned in scripts/gen-crd-catalog.py): the Flux controllers' and flux-operator's groups,
    JSON schemas converted from their CRDs, read back as gen-crd-catalog.py does.
  * Formerly (still accepted), Flux from the npm package `@kubernetes-models/flux-cd` (pinned to 4.0.0, MIT):
    `--flux-npm DIR` names the unpacked tarball (`npm pack ...; tar xzf ...` -> DIR/package) or
    an `npm install --prefix DIR` folder. The package ships ajv-compiled validator modules
    (`_schemas/*.js`), not JSON schemas: they are read back into OpenAPI v3 schemas (see the
    "Flux schemas from the npm package" section) and checked against the package's `.d.ts`
    declarations.
  * Optionally Flux CustomResourceDefinitions, read from YAML files (`--flux-components`, a
    `gotk-components.yaml` written by `flux install --export`, or the controllers' CRD files).
    Needs PyYAML (`pip install pyyaml`). A kind given by both inputs is an error.

Outputs (all deterministic: sorted keys, compact separators, gzip with mtime 0)
  * schemas/kubernetes-defs.jsonl.gz   one compact definition body per line; a body shared by
                                       several Kubernetes versions is stored once
  * schemas/kubernetes-index.json.gz   definition names, per version the pool line of every name
                                       (-1 when absent) and the GVK -> definition table
  * schemas/flux.json.gz               per Flux apiVersion/kind: an openAPIV3Schema with
                                       documentation keys dropped; `sources` records the package
                                       (name, version, license, Flux version) or CRD files
  * schemas/manifest.json              human-readable summary: sources, versions, sizes, sha256

Compaction drops documentation-only keys (description, default, example, title, externalDocs,
x-kubernetes-unions, x-kubernetes-validations) and fails on any key it does not know, so a new
upstream keyword is never dropped silently. A `oneOf` whose branches only name types
(IntOrString, Quantity) becomes one `type` list, and IntOrString gets
`x-kubernetes-int-or-string: true`. The package's `-strict` variant is checked to equal the
non-strict data plus `additionalProperties: false` on every schema with `properties` and no
`additionalProperties` -- the rule driftlint applies at run time (crates/driftlint_schema/src/validate.rs).
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
    Mirrors crates/driftlint_schema/src/validate.rs and the package's `-strict` variant."""
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


def build_flux(paths, repo, npm=None, catalog=None):
    """The Flux bundle: the kinds converted from the npm package (`npm`: kinds and source
    record from build_flux_npm), from the CRDs-catalog (`catalog`: from build_flux_catalog)
    and from CRD files; a kind defined twice is an error."""
    kinds, sources = {}, []
    for given in (npm, catalog):
        if given is None:
            continue
        for key, schema in given[0].items():
            if key in kinds:
                raise GenError("%s %s given by two Flux inputs" % key)
            kinds[key] = schema
        sources.append(given[1])
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


# --- Flux schemas from the npm package @kubernetes-models/flux-cd -------------------------------
#
# The package (MIT) is generated from the Flux controllers' Go API types by the upstream
# `go-generate` tool; it ships no JSON schema. Each `_schemas/<Name>.js` is an ajv "standalone"
# module: minified JavaScript validator functions, one per sub-schema, calling each other and the
# validators of other modules (the package's `$ref`s, compiled into `import`s). Every error
# object the code can raise names its keyword and carries the schema value in `params` (the
# type, the enum list, the limit, the pattern, the missing property), and the control flow
# around it says where it applies (nullability, property, items, map values). The functions
# below read that code back into OpenAPI v3 schemas, recognising only the code shapes listed
# here and failing on anything else, then check every object's property names and required set
# against the package's TypeScript declarations (`*.d.ts`), which list every field.

FLUX_NPM_PACKAGE = "@kubernetes-models/flux-cd"
FLUX_NPM_VERSION = "4.0.0"
FLUX_NPM_LICENSE = "MIT"
# What the package was generated from. The tarball does not say; these are the Go API modules
# pinned by third-party/flux-cd/go.mod in the upstream repository (tommy351/kubernetes-models-ts)
# at the commit whose go-generate input list equals the one in the 4.0.0 package.json -- the
# controller versions of the Flux v2.8 series.
FLUX_NPM_ORIGIN = {
    "4.0.0": {
        "fluxVersion": "v2.8",
        "controllers": {
            "source-controller": "v1.8.4", "kustomize-controller": "v1.8.5",
            "helm-controller": "v1.5.4", "notification-controller": "v1.8.4",
            "image-reflector-controller": "v1.1.1", "image-automation-controller": "v1.1.3",
        },
    },
}
# Validators imported from other packages: what they stand for in a CRD-style schema.
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
APIMACHINERY = "@kubernetes-models/apimachinery/_schemas/IoK8sApimachineryPkgApisMetaV1"
NPM_EXTERNAL = {
    APIMACHINERY + "ObjectMeta": ("objectmeta", OBJECT_META),
    APIMACHINERY + "Condition": ("builtin", "io.k8s.apimachinery.pkg.apis.meta.v1.Condition"),
    APIMACHINERY + "LabelSelector": ("builtin",
                                     "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"),
    APIMACHINERY + "Time": ("builtin", "io.k8s.apimachinery.pkg.apis.meta.v1.Time"),
    # Only in the `...List` kinds, which are not bundled.
    APIMACHINERY + "ListMeta": ("builtin", "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"),
    # apiextensionsv1.JSON (HelmRelease values, ...): any JSON, as controller-gen writes it.
    "kubernetes-models/_schemas/IoK8sApiextensionsApiserverPkgApisApiextensionsV1JSON":
        ("json", None),
}
UCS2LENGTH = "@kubernetes-models/validate/runtime/ucs2length"
FORMATS_MODULE = "@kubernetes-models/validate"

JS_STRING = r'"(?:[^"\\]|\\.)*"'
FUNC_HEAD = ('function (validate\\d+)\\(data,\\{instancePath="",parentData,parentDataProperty,'
             'rootData=data\\}=\\{\\}\\)\\{let vErrors=null,errors=0;')
ERROR_BLOCK = re.compile(
    r'\{let (err\d+)=\{instancePath,schemaPath:(' + JS_STRING + r'),keyword:"(\w+)",'
    r'params:\{((?:' + JS_STRING + r'|[^{}"])*)\}\};null===vErrors\?vErrors=\[\1\]:'
    r'vErrors\.push\(\1\),errors\+\+\}')
CALL = re.compile(
    r'(validate\d+)\((data(?:\.[A-Za-z_$][\w$]*|\[' + JS_STRING + r'\]|\[i\d+\])?),'
    r'\{(instancePath(?::[^,]+)?,parentData(?::data)?,parentDataProperty(?::[^,]+)?,rootData)\}'
    r'\)\|\|\(errors=\(vErrors=null===vErrors\?\1\.errors:vErrors\.concat\(\1\.errors\)\)'
    r'\.length\)')
KEY_POINTER = ('.replace(/~/g,"~0").replace(/\\//g,"~1")')
# Type tests as ajv writes them: (test that data has the type, test that it has not).
TYPE_TESTS = {
    "string": ('"string"==typeof data', '"string"!=typeof data'),
    "boolean": ('"boolean"==typeof data', '"boolean"!=typeof data'),
    "integer": ('"number"==typeof data&&!(data%1)&&!isNaN(data)&&isFinite(data)', None),
    "number": ('"number"==typeof data&&isFinite(data)', None),
    "array": ("Array.isArray(data)", "!Array.isArray(data)"),
    "object": ('data&&"object"==typeof data&&!Array.isArray(data)', None),
}
TYPE_TESTS = {t: (pos, neg or "!(%s)" % pos) for t, (pos, neg) in TYPE_TESTS.items()}


def js_string(literal, where):
    """The value of a double-quoted JavaScript string literal (JSON escapes only)."""
    try:
        value = json.loads(literal)
    except ValueError:
        raise GenError("%s: string literal %s is not JSON-compatible" % (where, literal))
    if not isinstance(value, str):
        raise GenError("%s: %s is not a string" % (where, literal))
    return value


def matching_close(text, start, where):
    """Index of the bracket closing the one at `start`, skipping string literals."""
    pairs, stack, i = {"(": ")", "[": "]", "{": "}"}, [], start
    while i < len(text):
        c = text[i]
        if c == '"':
            m = re.compile(JS_STRING).match(text, i)
            if not m:
                raise GenError("%s: unterminated string at %d" % (where, i))
            i = m.end()
            continue
        if c in pairs:
            stack.append(pairs[c])
        elif c in ")]}":
            if not stack or stack.pop() != c:
                raise GenError("%s: unbalanced %r at %d" % (where, c, i))
            if not stack:
                return i
        i += 1
    raise GenError("%s: no bracket closes the one at %d" % (where, start))


def split_statements(text, where):
    """Top-level statements of a module: `;`-terminated, or a function declaration."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("function ", i):
            params = matching_close(text, text.index("(", i), where)
            end = matching_close(text, params + 1, where) + 1
        else:
            end = i
            while end < len(text) and text[end] != ";":
                end = matching_close(text, end, where) + 1 if text[end] in "([{" else end + 1
            end = min(end + 1, len(text))
        out.append(text[i:end].rstrip(";"))
        i = end
    return [s for s in out if s]


class AjvModule:
    """One `_schemas/<name>.js` module: its imports, constants and validator functions."""

    MODULE_ITEMS = [
        (r'import\{validate as (validate\d+)\}from"([^"]+)"', "import"),
        (r'import\{formats\}from"' + re.escape(FORMATS_MODULE) + '"', None),
        (r'import (func\d+) from"' + re.escape(UCS2LENGTH) + '"', "length"),
        (r"export const validate=(validate\d+)", "export"),
        (r"let (schema\d+_enum)=(\[.*\])", "enum"),
        (r'let (pattern\d+)=RegExp\((' + JS_STRING + r'),"u"\)', "pattern"),
        (r"let (formats\d+)=formats\.(\w+)", "format"),
        (FUNC_HEAD + r"(.*)\}", "function"),
    ]

    def __init__(self, name, text):
        self.name, self.imports, self.enums, self.patterns = name, {}, {}, {}
        self.formats, self.functions, self.length_funcs, self.export = {}, {}, set(), None
        for statement in split_statements(text.strip(), name):
            self.add(statement)
        if self.export not in self.functions:
            raise GenError("%s: exported validator %s not defined" % (name, self.export))

    def add(self, statement):
        for pattern, kind in self.MODULE_ITEMS:
            m = re.fullmatch(pattern, statement, re.DOTALL)
            if not m:
                continue
            if kind == "import":
                self.imports[m.group(1)] = m.group(2)
            elif kind == "length":
                self.length_funcs.add(m.group(1))
            elif kind == "export":
                self.export = m.group(1)
            elif kind == "enum":
                self.enums[m.group(1)] = json.loads(m.group(2))
            elif kind == "pattern":
                self.patterns[m.group(1)] = js_string(m.group(2), self.name)
            elif kind == "format":
                self.formats[m.group(1)] = m.group(2)
            elif kind == "function":
                self.functions[m.group(1)] = m.group(2)
            return
        raise GenError("%s: unknown module statement %.120s" % (self.name, statement))


class FunctionBody:
    """A validator function with its error blocks and calls replaced by tokens `«E0»`,
    `«C0»`, parsed into statements: ("if", cond, then, else), ("for", header, body),
    ("expr", text)."""

    def __init__(self, module, fname):
        self.where = "%s %s" % (module.name, fname)
        body = module.functions[fname]
        self.errors, self.calls = [], []
        body = ERROR_BLOCK.sub(self.error_token, body)
        body = CALL.sub(self.call_token, body)
        body = self.key_calls(body)
        suffix = "%s.errors=vErrors,0===errors" % fname
        if not body.endswith(suffix) or "return " not in body:
            raise GenError("%s: does not end with the usual return" % self.where)
        head, _, ret = body[:-len(suffix)].rpartition("return ")
        if re.search(r"validate\d+|vErrors|\berrors\b|\berr\d", head + ret):
            raise GenError("%s: code left after normalisation: %.200s" % (self.where, head + ret))
        self.ret = ret.rstrip(",")
        self.statements = self.parse(head)

    def error_token(self, m):
        params = {}
        for item in re.finditer(r'(\w+):(' + JS_STRING + r'|[^,]+)(?:,|$)', m.group(4)):
            params[item.group(1)] = item.group(2)
        self.errors.append((m.group(3), params))
        return "{«E%d»}" % (len(self.errors) - 1)

    def call_token(self, m):
        self.calls.append((m.group(1), m.group(2), m.group(3)))
        return "«C%d»" % (len(self.calls) - 1)

    def key_calls(self, body):
        """`for (key in data)` calls (map values), whose instancePath escapes the key."""
        pattern = re.compile(
            r'(validate\d+)\(data\[(key\d+)\],\{instancePath:instancePath\+"/"\+\2' +
            re.escape(KEY_POINTER) + r',parentData:data,parentDataProperty:\2,rootData\}\)'
            r'\|\|\(errors=\(vErrors=null===vErrors\?\1\.errors:vErrors\.concat\(\1\.errors\)\)'
            r'\.length\)')

        def token(m):
            self.calls.append((m.group(1), "data[%s]" % m.group(2), "map"))
            return "«C%d»" % (len(self.calls) - 1)
        return pattern.sub(token, body)

    def parse(self, text):
        out, i = [], 0
        while i < len(text):
            statement, i = self.parse_one(text, i)
            if statement is not None:
                out.append(statement)
        return out

    def parse_one(self, text, i):
        if text.startswith(";", i):
            return None, i + 1
        if text.startswith("{", i):
            end = matching_close(text, i, self.where)
            return ("block", self.parse(text[i + 1:end])), end + 1
        for keyword in ("if", "for"):
            if text.startswith(keyword + "(", i):
                close = matching_close(text, i + len(keyword), self.where)
                header = text[i + len(keyword) + 1:close]
                body, i = self.parse_one(text, close + 1)
                if keyword == "for":
                    return ("for", header, self.flat(body)), i
                other = None
                if text.startswith("else", i):
                    other, i = self.parse_one(text, i + 4)
                    other = self.flat(other)
                return ("if", header, self.flat(body), other), i
        end = i
        while end < len(text) and text[end] != ";":
            end = matching_close(text, end, self.where) + 1 if text[end] in "([{" else end + 1
        return ("expr", text[i:end]), end + 1 if end < len(text) else end

    @staticmethod
    def flat(statement):
        if statement is None:
            return []
        return list(statement[1]) if statement[0] == "block" else [statement]


class Decompiler:
    """Reads the validator modules of the package back into OpenAPI v3 schema objects.

    Calls into other modules become `{"$npm": MODULE}`; `"$nullguard": True` marks a call that
    is skipped for `null` (the field is nullable whatever the target says)."""

    def __init__(self, root):
        self.root = root
        self.modules = {}

    def module(self, name):
        if name not in self.modules:
            path = os.path.join(self.root, "_schemas", name + ".js")
            if not os.path.exists(path):
                raise GenError("%s: module %s not found" % (self.root, name))
            with open(path, encoding="utf-8") as f:
                self.modules[name] = AjvModule(name, f.read())
        return self.modules[name]

    def schema(self, name):
        module = self.module(name)
        return self.function(module, module.export, [])

    def function(self, module, fname, stack):
        if fname in stack:
            raise GenError("%s: %s calls itself" % (module.name, fname))
        body = FunctionBody(module, fname)
        out = {}
        for statement in body.statements:
            self.top_statement(module, body, statement, out, stack + [fname])
        if body.ret:
            m = re.fullmatch(r"(null!==data&&\()?«C(\d+)»\)?", body.ret)
            if not m or bool(m.group(1)) != body.ret.endswith(")"):
                raise GenError("%s: unknown return %r" % (body.where, body.ret))
            target = self.call(module, body, int(m.group(2)), "data", stack + [fname])
            if m.group(1):
                target = dict(target, **{"$nullguard": True})
            out = merge_all_of(out, target, body.where)
        return out

    def call(self, module, body, index, expected_arg, stack):
        fname, arg, options = body.calls[index]
        if arg != expected_arg or options != call_options(arg):
            raise GenError("%s: call %s on %s (%s), expected %s" % (body.where, fname, arg,
                                                                    options, expected_arg))
        if fname in module.functions:
            return self.function(module, fname, stack)
        target = module.imports.get(fname)
        if target is None:
            raise GenError("%s: %s is neither defined nor imported" % (body.where, fname))
        if target.startswith("./") and target.endswith(".js"):
            return {"$npm": target[2:-3]}
        if target in NPM_EXTERNAL:
            return {"$npm": target}
        raise GenError("%s: import from %s is not known (add it to NPM_EXTERNAL)" %
                       (body.where, target))

    def error(self, body, token, keyword):
        m = re.fullmatch(r"«E(\d+)»", token)
        if not m:
            raise GenError("%s: expected an error block, found %.80s" % (body.where, token))
        found, params = body.errors[int(m.group(1))]
        if found != keyword:
            raise GenError("%s: %s error where %s was expected" % (body.where, found, keyword))
        return params

    def single_error(self, body, statements, keyword):
        if len(statements) != 1 or statements[0][0] != "expr":
            raise GenError("%s: expected one %s error, found %r" % (body.where, keyword,
                                                                     statements))
        return self.error(body, statements[0][1], keyword)

    def top_statement(self, module, body, statement, out, stack):
        if statement[0] != "if":
            raise GenError("%s: unexpected statement %r" % (body.where, statement))
        _, cond, then, other = statement
        m = re.fullmatch(r"«C(\d+)»,(.*)", cond)
        while m:
            target = self.call(module, body, int(m.group(1)), "data", stack)
            out.update(merge_all_of(dict(out), target, body.where))
            cond = m.group(2)
            m = re.fullmatch(r"«C(\d+)»,(.*)", cond)
        for type_name, (positive, negative) in TYPE_TESTS.items():
            if cond in (negative, negative + "&&null!==data") and other is None:
                params = self.single_error(body, then, "type")
                self.set_type(body, out, type_name, params, cond != negative)
                return
            if cond == positive:
                if other is not None:
                    params = self.single_error(body, other, "type")
                    self.set_type(body, out, type_name, params, False)
                self.inner(module, body, type_name, then, out, stack)
                return
            if cond.startswith(positive + "&&") and other is None:
                self.inner(module, body, type_name,
                           [("if", cond[len(positive) + 2:], then, None)], out, stack)
                return
        self.enum(module, body, cond, then, out)

    def set_type(self, body, out, type_name, params, nullable):
        if js_string(params.get("type", '""'), body.where) != type_name or "type" in out:
            raise GenError("%s: type %s does not match the error %r" % (body.where, type_name,
                                                                        params))
        out["type"] = type_name
        if nullable:
            out["nullable"] = True

    def enum(self, module, body, cond, then, out):
        values = [js_string(v, body.where) for v in
                  re.findall(r'(' + JS_STRING + r')!==data', cond)]
        if not values or cond != "&&".join('%s!==data' % json.dumps(v) for v in values):
            raise GenError("%s: unknown condition %.200s" % (body.where, cond))
        params = self.single_error(body, then, "enum")
        listed = module.enums.get(params.get("allowedValues"))
        if listed != values:
            raise GenError("%s: enum %r differs from its list %r" % (body.where, values, listed))
        out["enum"] = values

    def inner(self, module, body, type_name, statements, out, stack):
        handler = {"object": self.object_inner, "array": self.array_inner}.get(
            type_name, self.scalar_inner)
        for statement in statements:
            handler(module, body, statement, out, stack)

    def object_inner(self, module, body, statement, out, stack):
        kind = statement[0]
        if kind == "if":
            m = re.fullmatch(r"void 0===data\.([A-Za-z_$][\w$]*)", statement[1])
            params = self.single_error(body, statement[2], "required")
            if not m or statement[3] is not None or \
                    js_string(params.get("missingProperty", '""'), body.where) != m.group(1):
                raise GenError("%s: unknown required check %r" % (body.where, statement))
            out.setdefault("required", []).append(m.group(1))
        elif kind == "for":
            m = re.fullmatch(r"let (key\d+) in data", statement[1])
            if not m or len(statement[2]) != 1 or statement[2][0][0] != "expr":
                raise GenError("%s: unknown loop %r" % (body.where, statement))
            out["additionalProperties"] = self.call_token(
                module, body, statement[2][0][1], "data[%s]" % m.group(1), stack)
        else:
            for part in split_commas(statement[1], body.where):
                m = re.fullmatch(r"void 0!==data\.([A-Za-z_$][\w$]*)&&\((«C\d+»)\)", part)
                if not m:
                    raise GenError("%s: unknown property check %.120s" % (body.where, part))
                name = m.group(1)
                out.setdefault("properties", {})[name] = self.call_token(
                    module, body, m.group(2), "data." + name, stack)

    def array_inner(self, module, body, statement, out, stack):
        kind = statement[0]
        if kind == "if":
            limits = [(r"data\.length>(\d+)", "maxItems"), (r"(\d+)>data\.length", "minItems")]
            self.limit(body, statement, limits, out)
        elif kind == "expr":
            if not re.fullmatch(r"let len\d+=data\.length", statement[1]):
                raise GenError("%s: unknown array statement %r" % (body.where, statement))
        elif re.fullmatch(r"let (i\d+)=0;\1<len\d+;\1\+\+", statement[1]) and \
                len(statement[2]) == 1 and statement[2][0][0] == "expr":
            index = re.match(r"let (i\d+)", statement[1]).group(1)
            out["items"] = self.call_token(module, body, statement[2][0][1],
                                           "data[%s]" % index, stack)
        else:
            raise GenError("%s: unknown array loop %r" % (body.where, statement))

    def scalar_inner(self, module, body, statement, out, stack):
        if statement[0] != "if" or statement[3] is not None:
            raise GenError("%s: unknown check %r" % (body.where, statement))
        cond = statement[1]
        m = re.fullmatch(r"!(pattern\d+)\.test\(data\)", cond)
        if m:
            params = self.single_error(body, statement[2], "pattern")
            pattern = module.patterns.get(m.group(1))
            if pattern is None or js_string(params.get("pattern", '""'), body.where) != pattern:
                raise GenError("%s: pattern %s does not match its error" % (body.where, cond))
            out["pattern"] = pattern
            return
        m = re.fullmatch(r"!(formats\d+)\.validate\(data\)", cond)
        if m:
            params = self.single_error(body, statement[2], "format")
            name = module.formats.get(m.group(1))
            if name is None or js_string(params.get("format", '""'), body.where) != name:
                raise GenError("%s: format %s does not match its error" % (body.where, cond))
            out["format"] = name
            return
        funcs = "|".join(sorted(module.length_funcs)) or "$^"
        limits = [(r"(?:%s)\(data\)>(\d+)" % funcs, "maxLength"),
                  (r"(\d+)>(?:%s)\(data\)" % funcs, "minLength")]
        self.limit(body, statement, limits, out)

    def limit(self, body, statement, limits, out):
        for pattern, keyword in limits:
            m = re.fullmatch(pattern, statement[1])
            if m and statement[3] is None:
                params = self.single_error(body, statement[2], keyword)
                if params.get("limit") != m.group(1):
                    raise GenError("%s: %s limit differs from its error" % (body.where, keyword))
                out[keyword] = int(m.group(1))
                return
        raise GenError("%s: unknown check %r" % (body.where, statement))

    def call_token(self, module, body, token, expected_arg, stack):
        m = re.fullmatch(r"«C(\d+)»", token)
        if not m:
            raise GenError("%s: expected a call, found %.80s" % (body.where, token))
        return self.call(module, body, int(m.group(1)), expected_arg, stack)


def call_options(arg):
    """The options ajv passes with a call on `arg`, so the error pointers name that field."""
    m = re.fullmatch(r"data(?:\.([A-Za-z_$][\w$]*)|\[(i\d+)\]|\[(key\d+)\])?", arg)
    if not m or m.group(3):
        return "map" if m else None
    if m.group(1):
        return ('instancePath:instancePath+"/%s",parentData:data,parentDataProperty:"%s",'
                'rootData' % (m.group(1), m.group(1)))
    if m.group(2):
        return ('instancePath:instancePath+"/"+%s,parentData:data,parentDataProperty:%s,'
                'rootData' % (m.group(2), m.group(2)))
    return "instancePath,parentData,parentDataProperty,rootData"


def split_commas(text, where):
    """Split an expression on its top-level commas."""
    parts, start, i = [], 0, 0
    while i < len(text):
        if text[i] in "([{":
            i = matching_close(text, i, where) + 1
            continue
        if text[i] == '"':
            i = re.compile(JS_STRING).match(text, i).end()
            continue
        if text[i] == ",":
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def accepts_null(schema):
    return "type" not in schema or schema.get("nullable") is True


def merge_all_of(outer, inner, where):
    """Both schemas must hold (a call made on the same value): one schema with the constraints
    of both. A `$nullguard`ed or `$npm` target is kept as a sub-schema to resolve later."""
    if "$npm" in inner or "$nullguard" in inner:
        return dict(outer, allOf=outer.get("allOf", []) + [inner])
    out = dict(outer)
    for key, value in inner.items():
        if key == "nullable" or key not in out:
            continue
        if key == "properties":
            for name, sub in value.items():
                if name in out[key] and out[key][name] != sub:
                    raise GenError("%s: property %s defined twice" % (where, name))
        elif key in ("required", "allOf"):
            pass
        elif out[key] != value:
            raise GenError("%s: %s is %r and %r" % (where, key, out[key], value))
    nullable = accepts_null(outer) and accepts_null(inner)
    for key, value in inner.items():
        if key == "properties":
            out[key] = dict(out.get(key, {}), **value)
        elif key == "required":
            out[key] = sorted(set(out.get(key, [])) | set(value))
        elif key == "allOf":
            out[key] = out.get(key, []) + value
        elif key != "nullable":
            out.setdefault(key, value)
    out.pop("nullable", None)
    if nullable and "type" in out:
        out["nullable"] = True
    return out


def openapi_from_builtin(name, defs, where, stack=()):
    """A built-in definition (JSON Schema form, every type nullable) as an inlined OpenAPI v3
    schema, as controller-gen inlines apimachinery types into a CRD."""
    if name in stack or name not in defs:
        raise GenError("%s: built-in %s is %s" % (where, name,
                                                  "recursive" if name in stack else "missing"))
    return builtin_node(defs[name], defs, where, stack + (name,))


def builtin_node(node, defs, where, stack):
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "$ref":
            target = openapi_from_builtin(value.rpartition("/")[2], defs, where, stack)
            out = merge_all_of(out, target, where)
        elif key == "type":
            types = value if isinstance(value, list) else [value]
            real = [t for t in types if t != "null"]
            if len(real) != 1:
                raise GenError("%s: %s has type %r" % (where, stack[-1], value))
            out["type"] = real[0]
            if "null" in types:
                out["nullable"] = True
        elif key == "properties":
            out[key] = {k: builtin_node(v, defs, where, stack) for k, v in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = builtin_node(value, defs, where, stack)
        elif key == "enum":
            out[key] = [v for v in value if v is not None]
        elif key in SCHEMA_LISTS or key == "not":
            raise GenError("%s: %s uses %s" % (where, stack[-1], key))
        else:
            out[key] = value
    return out


class NpmResolver:
    """Resolves the decompiled modules' `$npm` calls: package modules are inlined (cycles are an
    error), apimachinery types are inlined from the built-in definitions, ObjectMeta becomes a
    marker the kind root replaces with the catalog's built-in ObjectMeta."""

    def __init__(self, decompiler, builtin_defs):
        self.decompiler, self.builtin_defs, self.cache = decompiler, builtin_defs, {}

    def module(self, name, stack=()):
        if name in stack:
            raise GenError("%s: recursive type via %s" % (name, " -> ".join(stack)))
        if name not in self.cache:
            self.cache[name] = self.resolve(self.decompiler.schema(name), stack + (name,))
        return self.cache[name]

    def target(self, name, stack):
        external = NPM_EXTERNAL.get(name)
        if external is None:
            return self.module(name, stack)
        kind, builtin = external
        if kind == "objectmeta":
            return {"$objectmeta": True}
        if kind == "json":
            return {"x-kubernetes-preserve-unknown-fields": True}
        return openapi_from_builtin(builtin, self.builtin_defs, name)

    def resolve(self, node, stack):
        if "$npm" in node:
            out = dict(self.target(node["$npm"], stack))
        else:
            out = {}
            for key, value in node.items():
                if key == "properties":
                    out[key] = {k: self.resolve(v, stack) for k, v in value.items()}
                elif key in ("items", "additionalProperties"):
                    out[key] = self.resolve(value, stack)
                elif key not in ("allOf", "$nullguard"):
                    out[key] = value
            for branch in node.get("allOf", []):
                out = merge_all_of(out, self.resolve(branch, stack), stack[-1])
        if node.get("$nullguard") and "type" in out:
            out["nullable"] = True
        return out


def read_declarations(root):
    """Module name -> (properties {name: required}, extended module names) from the package's
    TypeScript declarations (every field of every generated interface). A declaration file's
    module is the one its sibling `.js` model imports (`ImageRef_1.d.ts` declares
    `...ReflectorControllerApiV1ImageRef` but validates with `..._1.js`)."""
    found, modules = {}, {}
    for dirpath, _, files in sorted(os.walk(root)):
        if os.path.relpath(dirpath, root).split(os.sep)[0] in ("_schemas", "node_modules"):
            continue
        for name in sorted(f for f in files if f.endswith(".d.ts") and f != "index.d.ts"):
            with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                text = f.read()
            with open(os.path.join(dirpath, name[:-5] + ".js"), encoding="utf-8") as f:
                module = re.search(r'from"[./]*/_schemas/(\w+)\.js"', f.read())
            interfaces = list(re.finditer(
                r"^export interface (I\w+)(?: extends ([\w, ]+))? \{$(.*?)^\}", text,
                re.MULTILINE | re.DOTALL))
            if not interfaces:
                continue
            alias = re.search(r"\b%s as (I\w+)\b" % interfaces[0].group(1), text)
            if len(interfaces) != 1 or not module or not alias:
                raise GenError("%s: not one interface with a module and an alias" % name)
            m = interfaces[0]
            props = {p: q != "?" for p, q in
                     re.findall(r'^    "([^"]+)"(\??):', m.group(3), re.MULTILINE)}
            extends = [e.strip() for e in (m.group(2) or "").split(",")
                       if e.strip() and e.strip() != "TypeMeta"]
            found[module.group(1)] = (props, extends)
            modules[alias.group(1)] = module.group(1)
    return {name: (props, [modules.get(e, e) for e in extends])
            for name, (props, extends) in found.items()}


def declared_fields(declarations, name, stack=()):
    if name not in declarations or name in stack:
        raise GenError("declarations: %s %s" % (name, "missing" if name not in declarations
                                                else "extends itself"))
    props, extends = declarations[name]
    out = dict(props)
    for parent in extends:
        out.update(declared_fields(declarations, parent, stack + (name,)))
    return out


def check_declarations(resolver, declarations):
    """Every resolved object schema lists exactly the declared fields, required as declared
    (catches a field whose schema compiled to no code). Returns the number of checked types."""
    for name, (_, _) in sorted(declarations.items()):
        schema = resolver.module(name)
        fields = declared_fields(declarations, name)
        props = set(schema.get("properties", {}))
        required = set(schema.get("required", []))
        if props != set(fields) or required != {p for p, req in fields.items() if req}:
            raise GenError("%s: schema fields %s (required %s) differ from the declarations %s" %
                           (name, sorted(props), sorted(required), fields))
    return len(declarations)


def npm_package_dir(path):
    """The package root: DIR itself (an unpacked `npm pack` tarball's `package/` folder), or
    DIR/package, or DIR/node_modules/@kubernetes-models/flux-cd (`npm install --prefix DIR`)."""
    for candidate in (path, os.path.join(path, "package"),
                      os.path.join(path, "node_modules", *FLUX_NPM_PACKAGE.split("/"))):
        manifest = os.path.join(candidate, "package.json")
        if os.path.exists(manifest):
            with open(manifest, encoding="utf-8") as f:
                meta = json.load(f)
            if meta.get("name") == FLUX_NPM_PACKAGE:
                if meta.get("version") != FLUX_NPM_VERSION:
                    raise GenError("%s: %s %s, %s expected" % (candidate, FLUX_NPM_PACKAGE,
                                                               meta.get("version"),
                                                               FLUX_NPM_VERSION))
                if meta.get("license") != FLUX_NPM_LICENSE:
                    raise GenError("%s: license %r, %s expected" % (candidate,
                                                                   meta.get("license"),
                                                                   FLUX_NPM_LICENSE))
                return candidate
    raise GenError("%s: no %s package here (npm pack %s@%s, then tar xzf)" %
                   (path, FLUX_NPM_PACKAGE, FLUX_NPM_PACKAGE, FLUX_NPM_VERSION))


def npm_kinds(root):
    """(apiVersion, kind) -> schema module of every model class with a TypeMeta, from the
    group/version folders; `...List` kinds are left out, as a CRD serves no List schema."""
    kinds = {}
    for dirpath, _, files in sorted(os.walk(root)):
        if os.path.relpath(dirpath, root).split(os.sep)[0] in ("_schemas", "node_modules"):
            continue
        for name in sorted(f for f in files if f.endswith(".js")):
            with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                text = f.read()
            av = re.search(r'this\.apiVersion="([^"]+)"', text)
            kind = re.search(r'this\.kind="([^"]+)"', text)
            module = re.search(r'import\{validate\}from"[./]*/_schemas/(\w+)\.js"', text)
            if not (av and kind):
                continue
            if not module:
                raise GenError("%s: model without a validator module" % name)
            kinds[(av.group(1), kind.group(1))] = module.group(1)
    return {k: m for k, m in kinds.items()
            if not (k[1].endswith("List") and (k[0], k[1][:-4]) in kinds)}


def npm_kind_schema(resolver, av, kind, module):
    """The kind's schema with `metadata` left to the catalog (built-in ObjectMeta)."""
    schema = json.loads(json.dumps(resolver.module(module)))
    props = schema.get("properties", {})
    if props.get("apiVersion", {}).get("enum") != [av] or \
            props.get("kind", {}).get("enum") != [kind]:
        raise GenError("%s: apiVersion/kind are not pinned to %s %s" % (module, av, kind))
    if props.pop("metadata", None) != {"$objectmeta": True}:
        raise GenError("%s: metadata is not ObjectMeta" % module)
    return compact(schema, "%s %s %s" % (module, av, kind))


def package_digest(root):
    """sha256 over the module and declaration files read, in path order."""
    digest = hashlib.sha256()
    for dirpath, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if name.endswith((".js", ".d.ts")) or name == "package.json":
                path = os.path.join(dirpath, name)
                digest.update(os.path.relpath(path, root).encode() + b"\0")
                with open(path, "rb") as f:
                    digest.update(f.read() + b"\0")
    return digest.hexdigest()


def build_flux_npm(path, builtin_defs, builtin_source):
    """Kinds and the source record of the Flux schemas in @kubernetes-models/flux-cd."""
    root = npm_package_dir(path)
    resolver = NpmResolver(Decompiler(root), builtin_defs)
    checked = check_declarations(resolver, read_declarations(root))
    kinds = {key: npm_kind_schema(resolver, key[0], key[1], module)
             for key, module in sorted(npm_kinds(root).items())}
    origin = FLUX_NPM_ORIGIN[FLUX_NPM_VERSION]
    source = {"package": FLUX_NPM_PACKAGE, "version": FLUX_NPM_VERSION,
              "license": FLUX_NPM_LICENSE, "fluxVersion": origin["fluxVersion"],
              "controllers": origin["controllers"], "sha256": package_digest(root),
              "modules": len(resolver.decompiler.modules), "declarationsChecked": checked,
              "inlined": "apimachinery Condition, LabelSelector, Time from %s" % builtin_source}
    return kinds, source


# --- Flux schemas from the datreeio CRDs-catalog ------------------------------------------------
#
# The catalog's Flux groups hold JSON schemas converted from the Flux controllers' and
# flux-operator's CRDs (patterns, enums, min/max kept) by kubeconform's openapi2jsonschema in
# strict mode. scripts/gen-crd-catalog.py reads them back (strict mode undone, checked) as it
# does for the other groups.

FLUX_CATALOG_GROUPS = [
    "fluxcd.controlplane.io", "helm.toolkit.fluxcd.io", "image.toolkit.fluxcd.io",
    "kustomize.toolkit.fluxcd.io", "notification.toolkit.fluxcd.io",
    "source.extensions.fluxcd.io", "source.toolkit.fluxcd.io",
]
# What the catalog's Flux files are: at the pinned commit they carry Flux v2.8's fields
# (HelmRelease `spec.waitStrategy`, Alert event sources of flux-operator kinds) and
# flux-operator's v1 CRDs.
FLUX_CATALOG_VERSION = "v2.8"
FLUX_KINDS = {
    "bucket": "Bucket", "externalartifact": "ExternalArtifact",
    "gitrepository": "GitRepository", "helmchart": "HelmChart",
    "helmrepository": "HelmRepository", "ocirepository": "OCIRepository",
    "kustomization": "Kustomization", "helmrelease": "HelmRelease", "alert": "Alert",
    "provider": "Provider", "receiver": "Receiver", "imagepolicy": "ImagePolicy",
    "imagerepository": "ImageRepository", "imageupdateautomation": "ImageUpdateAutomation",
    "artifactgenerator": "ArtifactGenerator", "fluxinstance": "FluxInstance",
    "fluxreport": "FluxReport", "resourceset": "ResourceSet",
    "resourcesetinputprovider": "ResourceSetInputProvider",
}


def build_flux_catalog(root):
    """Kinds and the source record of the Flux schemas in a CRDs-catalog checkout."""
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("gen_crd_catalog",
                                                  os.path.join(here, "gen-crd-catalog.py"))
    cat = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cat)
    cat.check_source(root)
    kinds, digest = {}, hashlib.sha256()
    for group in FLUX_CATALOG_GROUPS:
        folder = os.path.join(root, group)
        if not os.path.isdir(folder):
            raise GenError("%s: no folder for group %s" % (root, group))
        for name in sorted(os.listdir(folder)):
            match = cat.FILE_NAME.match(name)
            if not match:
                continue
            where = "%s/%s" % (group, name)
            with open(os.path.join(folder, name), "rb") as f:
                raw = f.read()
            digest.update(where.encode() + b"\0" + raw)
            schema = json.loads(raw)
            lower, version = match.groups()
            if lower not in FLUX_KINDS:
                raise GenError("%s: unknown Flux kind (add it to FLUX_KINDS)" % where)
            bad = cat.uses_unsupported(schema)
            plain = cat.unstrict(schema)
            if bad or cat.restrict(plain) != cat.restrict(schema):
                raise GenError("%s: cannot be read back (%s)" % (where, bad or "strict form"))
            kinds[("%s/%s" % (group, version), FLUX_KINDS[lower])] = compact(plain, where)
    source = {"catalog": cat.CATALOG, "commit": cat.CATALOG_COMMIT,
              "license": cat.CATALOG_LICENSE, "fluxVersion": FLUX_CATALOG_VERSION,
              "groups": FLUX_CATALOG_GROUPS, "sha256": digest.hexdigest()}
    return kinds, source


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flux-npm", metavar="DIR",
                        help="the unpacked npm package %s %s (its package/ folder, or an "
                             "`npm install --prefix` folder)" % (FLUX_NPM_PACKAGE,
                                                                 FLUX_NPM_VERSION))
    parser.add_argument("--flux-catalog", metavar="DIR",
                        help="a datreeio/CRDs-catalog checkout: its Flux and flux-operator "
                             "groups")
    parser.add_argument("--flux-components", action="append", default=[], metavar="FILE",
                        help="YAML file with Flux CRDs (repeatable)")
    parser.add_argument("--out", default=os.path.join(repo, "schemas"), metavar="DIR")
    args = parser.parse_args()
    if not args.flux_npm and not args.flux_components and not args.flux_catalog:
        raise GenError("no Flux input: pass --flux-catalog DIR, --flux-npm DIR (%s %s) and/or "
                       "--flux-components FILE" % (FLUX_NPM_PACKAGE, FLUX_NPM_VERSION))
    for path in args.flux_components + [p for p in (args.flux_npm, args.flux_catalog) if p]:
        if not os.path.exists(path):
            raise GenError("%s not found" % path)

    pool, index, per_version = build_kubernetes(package_dir())
    npm = None
    if args.flux_npm:
        newest = "1.%d" % LAST_MINOR
        builtin = {n: json.loads(b) for n, b in per_version[newest][0].items()}
        npm = build_flux_npm(args.flux_npm, builtin, "%s %s (Kubernetes %s)" % (
            PACKAGE, PACKAGE_VERSION, newest))
    catalog = build_flux_catalog(args.flux_catalog) if args.flux_catalog else None
    flux, bundle = build_flux(args.flux_components, repo, npm, catalog)
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
