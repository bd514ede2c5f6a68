#!/usr/bin/env python3
"""Generate driftlint's embedded CRD catalog (schemas/crd-catalog-*) from a checkout of
the datreeio CRDs-catalog.

Usage:
    python3 scripts/gen-crd-catalog.py --catalog DIR [--out DIR]

Input: a checkout of datreeio/CRDs-catalog (MIT, "Copyright (c) 2022 datree.io") at the commit
pinned below (CATALOG_COMMIT; the checkout's SOURCE.md, if any, must name the same commit). Its
layout is `<group>/<kind>_<version>.json`, lower case, one JSON schema per served CRD version,
converted from the CRD's `openAPIV3Schema` by kubeconform's `openapi2jsonschema.py` in strict
mode. Only the API groups in GROUPS are read (those used by real GitOps repositories and the
widely used operators); the Flux groups are left to schemas/flux.json.gz (gen-schemas.py
--flux-catalog).

Conversion, per file:
  * strict mode is undone: `additionalProperties: false` is removed from every schema that lists
    `properties` (openapi2jsonschema adds it exactly there; a CRD structural schema cannot
    carry it), so driftlint's non-strict mode accepts unknown fields and its strict mode
    (crates/driftlint_schema/src/validate.rs) puts them back. The script checks that re-adding
    them (gen-schemas.py `strictify`) gives the file back;
  * documentation keys are dropped as for the Kubernetes schemas (gen-schemas.py `compact`,
    which fails on unknown keys); a file using a keyword driftlint cannot take from a CRD
    (`$ref`/`definitions`, `if`/`then`, `const`, `patternProperties`) is skipped and listed;
  * the kind's spelling: file names are lower case, so the kind is taken from the schema's own
    top-level `description` ("ExternalSecret is the Schema for ...") when a word of it equals
    the file's kind ignoring case; otherwise the kind stays lower case and the index marks it
    `caseKnown: false` (driftlint then matches it ignoring case, as kubeconform does).

Output (deterministic: sorted keys, compact separators, gzip mtime 0):
  * schemas/crd-catalog-index.json.gz  {"format", "source", "groups": [[group, offset, length]],
                                       "kinds": [[apiVersion, kind, caseKnown, group, line]],
                                       "skipped"}
  * schemas/crd-catalog-groups.bin     one gzip member per group at [offset, offset+length):
                                       one compact schema per line, a schema shared by several
                                       versions of the group stored once
  * schemas/crd-catalog.LICENSE   the catalog's LICENSE, unchanged (it must ship with the data)
  * schemas/crd-catalog.manifest.json  groups, counts, sizes, sha256
"""

import argparse
import hashlib
import importlib.util
import json
import os
import re
import shutil
import sys

CATALOG = "datreeio/CRDs-catalog"
CATALOG_COMMIT = "7b1e26ef9deea49293714d204c1a2270aab1178f"
CATALOG_LICENSE = "MIT"
FORMAT = 1

# API groups embedded: every custom group referenced in /work/shared/gitops at the time of
# writing that the catalog has, plus widely used operators.
GROUPS = sorted({
    # GitOps tooling besides Flux
    "argoproj.io", "infra.contrib.fluxcd.io",
    # certificates, secrets
    "cert-manager.io", "acme.cert-manager.io", "external-secrets.io",
    "generators.external-secrets.io", "bitnami.com",
    # monitoring
    "monitoring.coreos.com", "monitoring.grafana.com", "grafana.integreatly.org",
    # networking, service mesh, ingress
    "gateway.networking.k8s.io", "gateway.networking.x-k8s.io", "gateway.envoyproxy.io",
    "cilium.io", "networking.istio.io", "security.istio.io", "telemetry.istio.io",
    "extensions.istio.io", "traefik.io", "traefik.containo.us", "externaldns.k8s.io",
    "metallb.io", "k8s.cni.cncf.io",
    # databases, storage, backup
    "postgresql.cnpg.io", "barmancloud.cnpg.io", "dragonflydb.io", "velero.io", "longhorn.io",
    "snapshot.storage.k8s.io", "volsync.backube", "ceph.rook.io",
    # autoscaling, policy, upgrades
    "keda.sh", "eventing.keda.sh", "kyverno.io", "reports.kyverno.io", "wgpolicyk8s.io",
    "templates.gatekeeper.sh", "upgrade.cattle.io", "tuppr.home-operations.com", "talos.dev",
    "renovate-operator.mogenius.com", "autoscaling.k8s.io", "karpenter.sh", "karpenter.k8s.aws",
    "elbv2.k8s.aws", "nfd.k8s-sigs.io", "nvidia.com",
    # more widely used operators
    "serving.knative.dev", "kubevirt.io", "cluster.x-k8s.io", "opentelemetry.io",
    "jaegertracing.io", "tempo.grafana.com", "elasticsearch.k8s.elastic.co",
    "kibana.k8s.elastic.co", "kafka.strimzi.io", "rabbitmq.com", "acid.zalan.do",
    "postgres-operator.crunchydata.com", "redis.redis.opstreelabs.in",
    "mongodbcommunity.mongodb.com", "minio.min.io", "objectbucket.io",
    "secrets-store.csi.x-k8s.io", "secrets.hashicorp.com", "policy.linkerd.io", "linkerd.io",
    "actions.github.com", "pkg.crossplane.io", "apiextensions.crossplane.io",
})
# Kinds whose spelling the schemas' descriptions do not give (checked against the upstream
# CRDs' `spec.names.kind`); any other version of the same group/kind spelled in its
# description is used first.
SPELLINGS = {
    "analysisrun": "AnalysisRun", "analysistemplate": "AnalysisTemplate",
    "applicationset": "ApplicationSet", "clusteranalysistemplate": "ClusterAnalysisTemplate",
    "clusterworkflowtemplate": "ClusterWorkflowTemplate", "cronworkflow": "CronWorkflow",
    "eventbus": "EventBus", "eventsource": "EventSource", "experiment": "Experiment",
    "rollout": "Rollout", "sensor": "Sensor", "workflowtemplate": "WorkflowTemplate",
    "workflowartifactgctask": "WorkflowArtifactGCTask",
    "workfloweventbinding": "WorkflowEventBinding", "workflowtaskresult": "WorkflowTaskResult",
    "workflowtaskset": "WorkflowTaskSet",
    "ciliumbgppeerconfig": "CiliumBGPPeerConfig",
    "ciliumclusterwideenvoyconfig": "CiliumClusterwideEnvoyConfig",
    "ciliumegressgatewaypolicy": "CiliumEgressGatewayPolicy",
    "ciliumenvoyconfig": "CiliumEnvoyConfig",
    "clustercloudeventsource": "ClusterCloudEventSource", "wasmplugin": "WasmPlugin",
    "dnsendpoint": "DNSEndpoint", "grafana": "Grafana", "destinationrule": "DestinationRule",
    "gateway": "Gateway", "serviceentry": "ServiceEntry", "sidecar": "Sidecar",
    "virtualservice": "VirtualService", "workloadentry": "WorkloadEntry",
    "workloadgroup": "WorkloadGroup", "envoyfilter": "EnvoyFilter", "proxyconfig": "ProxyConfig",
    "cluster": "Cluster", "renovatejob": "RenovateJob",
    "authorizationpolicy": "AuthorizationPolicy", "peerauthentication": "PeerAuthentication",
    "requestauthentication": "RequestAuthentication", "serviceaccount": "ServiceAccount",
    "telemetry": "Telemetry", "plan": "Plan", "backuprepository": "BackupRepository",
    "podvolumebackup": "PodVolumeBackup", "podvolumerestore": "PodVolumeRestore",
}
FILE_NAME = re.compile(r"^([a-z0-9]+)_([a-z0-9]+)\.json$")
UNSUPPORTED = {"$ref", "definitions", "if", "then", "const", "patternProperties"}


def load_gen_schemas():
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("gen_schemas",
                                                  os.path.join(here, "gen-schemas.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = load_gen_schemas()


def unstrict(node):
    """Remove `additionalProperties: false` wherever `properties` is listed (the inverse of
    openapi2jsonschema's strict mode)."""
    if isinstance(node, list):
        return [unstrict(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "additionalProperties" and value is False and "properties" in node:
            continue
        if key in ("enum", "required", "default", "example", "x-kubernetes-list-map-keys"):
            out[key] = value
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: unstrict(sub) for name, sub in value.items()}
        else:
            out[key] = unstrict(value)
    return out


def uses_unsupported(node):
    if isinstance(node, list):
        return next((k for k in map(uses_unsupported, node) if k), None)
    if not isinstance(node, dict):
        return None
    for key, value in node.items():
        if key in UNSUPPORTED:
            return key
        if key in ("enum", "required", "default", "example", "x-kubernetes-validations"):
            continue
        if key == "properties" and isinstance(value, dict):
            found = next((k for k in map(uses_unsupported, value.values()) if k), None)
        else:
            found = uses_unsupported(value)
        if found:
            return found
    return None


def kind_spelling(schema, lower):
    """The kind as the CRD spells it, from the schema's top-level description, or None."""
    for word in re.findall(r"[A-Za-z0-9]+", schema.get("description") or ""):
        if word.lower() == lower and word != lower:
            return word
    return None


def read_catalog(root):
    kinds, skipped = [], []
    for group in GROUPS:
        folder = os.path.join(root, group)
        if not os.path.isdir(folder):
            raise GEN.GenError("%s: no folder for group %s" % (root, group))
        for name in sorted(os.listdir(folder)):
            match = FILE_NAME.match(name)
            if not match:
                continue
            where = "%s/%s" % (group, name)
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                schema = json.load(f)
            bad = uses_unsupported(schema)
            if bad:
                skipped.append({"file": where, "reason": "uses %s" % bad})
                continue
            plain = unstrict(schema)
            if restrict(plain) != restrict(schema):
                skipped.append({"file": where, "reason": "strict form is not openapi2jsonschema's"})
                continue
            lower, version = match.groups()
            kinds.append((group, version, lower, kind_spelling(schema, lower),
                          GEN.compact(plain, where)))
    return spell(kinds), skipped


def spell(kinds):
    """(apiVersion, kind, caseKnown, schema): a kind spelled by no description of any of its
    versions takes SPELLINGS, else stays lower case."""
    known = {(g, lower): s for g, _, lower, s, _ in kinds if s}
    out = []
    for group, version, lower, _, schema in kinds:
        spelled = known.get((group, lower)) or SPELLINGS.get(lower)
        out.append(("%s/%s" % (group, version), spelled or lower, spelled is not None, schema))
    return out


def restrict(node):
    """openapi2jsonschema's strict mode: `additionalProperties: false` on every schema with
    `properties` and no `additionalProperties`, at any depth."""
    if isinstance(node, list):
        return [restrict(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("enum", "required", "default", "example", "x-kubernetes-list-map-keys"):
            out[key] = value
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: restrict(sub) for name, sub in value.items()}
        else:
            out[key] = restrict(value)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def build(root):
    """(index JSON, concatenated per-group gzip members, head, unique bodies). Each group's
    schemas are one gzip member, so a run decompresses only the groups it looks up."""
    kinds, skipped = read_catalog(root)
    by_group = {}
    for av, kind, case_known, schema in sorted(kinds, key=lambda k: (k[0], k[1])):
        by_group.setdefault(av.rsplit("/", 1)[0], []).append((av, kind, case_known, schema))
    index, members, groups, offset, unique = [], [], [], 0, 0
    for gi, group in enumerate(sorted(by_group)):
        lines, line_of = [], {}
        for av, kind, case_known, schema in by_group[group]:
            body = GEN.dumps(schema)
            if body not in line_of:
                line_of[body] = len(lines)
                lines.append(body)
            index.append([av, kind, case_known, gi, line_of[body]])
        member = GEN.gzip_bytes(("\n".join(lines) + "\n").encode("utf-8"))
        groups.append([group, offset, len(member)])
        members.append(member)
        offset += len(member)
        unique += len(lines)
    source = {"catalog": CATALOG, "commit": CATALOG_COMMIT, "license": CATALOG_LICENSE}
    head = {"format": FORMAT, "source": source, "groups": groups, "kinds": index,
            "skipped": skipped}
    return GEN.dumps(head).encode("utf-8"), b"".join(members), head, unique


def check_source(root):
    source_md = os.path.join(root, "SOURCE.md")
    if os.path.exists(source_md):
        with open(source_md, encoding="utf-8") as f:
            if CATALOG_COMMIT not in f.read():
                raise GEN.GenError("%s does not name commit %s" % (source_md, CATALOG_COMMIT))
    if not os.path.exists(os.path.join(root, "LICENSE")):
        raise GEN.GenError("%s/LICENSE not found (it must ship with the data)" % root)


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", required=True, metavar="DIR",
                        help="checkout of %s at %s" % (CATALOG, CATALOG_COMMIT))
    parser.add_argument("--out", default=os.path.join(repo, "schemas"), metavar="DIR")
    args = parser.parse_args()
    check_source(args.catalog)
    index, blob, head, unique = build(args.catalog)
    packed = GEN.gzip_bytes(index)
    os.makedirs(args.out, exist_ok=True)
    GEN.write(os.path.join(args.out, "crd-catalog-index.json.gz"), packed)
    GEN.write(os.path.join(args.out, "crd-catalog-groups.bin"), blob)
    shutil.copyfile(os.path.join(args.catalog, "LICENSE"),
                    os.path.join(args.out, "crd-catalog.LICENSE"))
    files = {"crd-catalog-index.json.gz": packed, "crd-catalog-groups.bin": blob}
    manifest = {"format": FORMAT, "generator": "scripts/gen-crd-catalog.py",
                "source": head["source"], "groups": [g[0] for g in head["groups"]],
                "kinds": len(head["kinds"]), "uniqueSchemas": unique, "skipped": head["skipped"],
                "files": {name: {"bytes": len(data),
                                 "sha256": hashlib.sha256(data).hexdigest()}
                          for name, data in files.items()},
                "caseUnknown": sorted("%s %s" % (k[0], k[1]) for k in head["kinds"] if not k[2])}
    GEN.write(os.path.join(args.out, "crd-catalog.manifest.json"),
              (json.dumps(manifest, sort_keys=True, indent=2) + "\n").encode("utf-8"))
    print("crd-catalog-index.json.gz %d bytes, crd-catalog-groups.bin %d bytes: %d groups, "
          "%d apiVersion/kinds, %d unique schemas, %d skipped, %d kinds without known spelling"
          % (len(packed), len(blob), len(head["groups"]), len(head["kinds"]), unique,
             len(head["skipped"]), len(manifest["caseUnknown"])))


if __name__ == "__main__":
    try:
        main()
    except GEN.GenError as err:
        print("gen-crd-catalog: error: %s" % err, file=sys.stderr)
        sys.exit(1)
