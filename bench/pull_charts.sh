#!/usr/bin/env bash
# Pulling measured: 20 charts pushed to a loopback CNCF distribution registry (Debian
# docker-registry) with the reference `helm push`, pulled by `driftlint charts pull` into an
# empty cache, then pulled again (everything cached: one manifest GET per chart, no blob).
#
#   bench/pull_charts.sh [DRIFTLINT] [HELM] [REGISTRY]
# Needs: a release build (cargo build --release), Helm v4.1.4 (shared/tools/
# install-reference-tools), docker-registry. Prints the times (best of 3, milliseconds).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-target/release/driftlint}"
HELM="${2:-/tmp/reftools/bin/helm}"
REGISTRY="${3:-/usr/bin/docker-registry}"
N=20
work="$(mktemp -d)"
cleanup() { [ -n "${reg_pid:-}" ] && kill "$reg_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $work/data}
http:
  addr: 127.0.0.1:$port
YAML
"$REGISTRY" serve "$work/registry.yml" >/dev/null 2>&1 &
reg_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

# 20 distinct charts: the corpus podinfo chart renamed podinfo-1 .. podinfo-20
repo="$work/repo"; mkdir -p "$repo/.git" "$repo/apps"
printf 'charts:\n  allowInsecure: true\n' > "$repo/.driftlint.yaml"
for i in $(seq $N); do
  mkdir -p "$work/src-$i"
  tar -xzf tests/fixtures/chart-repo/podinfo-6.14.1.tgz -C "$work/src-$i"
  sed -i "s/^name: podinfo$/name: podinfo-$i/" "$work/src-$i/podinfo/Chart.yaml"
  HOME="$work" "$HELM" package "$work/src-$i/podinfo" -d "$work/pkg" >/dev/null
  HOME="$work" "$HELM" push "$work/pkg/podinfo-$i-6.14.1.tgz" "oci://127.0.0.1:$port/charts" --plain-http >/dev/null 2>&1
  cat >> "$repo/apps/releases.yaml" <<YAML
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: podinfo-$i, namespace: apps}
spec:
  interval: 10m
  url: oci://127.0.0.1:$port/charts/podinfo-$i
  insecure: true
  ref: {semver: ">=6.0.0"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo-$i, namespace: apps}
spec:
  interval: 10m
  chartRef: {kind: OCIRepository, name: podinfo-$i}
---
YAML
done

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
best() { sort -n | head -1; }
cold=(); warm=()
for _ in 1 2 3; do
  rm -rf "$work/cache"
  cold+=("$(ms "$BIN" charts pull "$repo" --cache-dir "$work/cache" --allow-private-registries)")
  grep -q "$N charts: $N pulled" "$work/err" || { cat "$work/err"; exit 1; }
  warm+=("$(ms "$BIN" charts pull "$repo" --cache-dir "$work/cache" --allow-private-registries)")
  grep -q "$N charts: 0 pulled, $N cached" "$work/err" || { cat "$work/err"; exit 1; }
done
# `check` with the cache filled: offline (`--cache-dir`), and as the GitHub Action runs it
# (`--pull-charts`: everything cached, the registry still asked for tags and manifests);
# against `check` on the same repository without the releases. The demo repository of
# fixtures/ is copied in so that "the rest of the repository" is not empty.
cp -r fixtures/demo/apps fixtures/demo/infrastructure "$repo/"
chk=(); chkpull=(); chkplain=()
for _ in 1 2 3; do
  chk+=("$(ms "$BIN" check "$repo" --cache-dir "$work/cache" --fail-on never)")
  chkpull+=("$(ms "$BIN" check "$repo" --cache-dir "$work/cache" --fail-on never --pull-charts --allow-private-registries)")
done
"$BIN" check "$repo" --cache-dir "$work/cache" --fail-on never --format json > "$work/report.json" || true
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; sys.exit(s.get("chartsNotAvailable",0))' "$work/report.json" \
  || { echo "cached check still reports charts not available"; exit 1; }
plain=()
rm "$repo/apps/releases.yaml"; echo 'apiVersion: v1
kind: ConfigMap
metadata: {name: x, namespace: apps}' > "$repo/apps/cm.yaml"
for _ in 1 2 3; do plain+=("$(ms "$BIN" charts pull "$repo" --cache-dir "$work/cache")")
  chkplain+=("$(ms "$BIN" check "$repo" --cache-dir "$work/cache" --fail-on never)")
done
echo "charts: $N (podinfo 6.14.1 renamed, 16.9 KB each), registry 127.0.0.1:$port"
echo "empty cache:  $(printf '%s\n' "${cold[@]}" | best) ms  (runs: ${cold[*]})"
echo "cached:       $(printf '%s\n' "${warm[@]}" | best) ms  (runs: ${warm[*]})"
echo "no charts:    $(printf '%s\n' "${plain[@]}" | best) ms  (runs: ${plain[*]}; render + collect only)"
b=$(printf '%s\n' "${chk[@]}" | best); p=$(printf '%s\n' "${chkpull[@]}" | best); a=$(printf '%s\n' "${chkplain[@]}" | best)
echo "check, cached, offline:          $b ms  (runs: ${chk[*]})"
echo "check --pull-charts, all cached: $p ms  (runs: ${chkpull[*]})"
echo "check without the releases:      $a ms  (runs: ${chkplain[*]})"
python3 -c 'import sys; b,p,a=map(int,sys.argv[1:]); print(f"ratios: offline {b/a:.2f}x, --pull-charts {p/a:.2f}x")' "$b" "$p" "$a"
