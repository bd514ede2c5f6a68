#!/usr/bin/env bash
# End-to-end test of .pre-commit-hooks.yaml: builds a throw-away git repository holding a small
# Kustomize base + overlay, installs this repository's hook through a .pre-commit-config.yaml
# (`repo:` = this checkout, `rev:` = its HEAD) and runs pre-commit:
#   1. clean fixture, `pre-commit run --all-files`          -> must pass;
#   2. unrelated file only, `--files README.md`              -> hook skipped, must pass;
#   3. planted `image: nginx:latest` in the base, --all-files -> must fail, naming PIN001;
#   4. the same, `--files base/deployment.yaml` (a base file: driftlint must map it to the
#      overlay that includes it)                             -> must fail, naming PIN001;
#   5. a committed file named `--output=victim.yaml` (a hostile pull request: without `--` in
#      the hook's entry it would be taken for the flag), --all-files -> no victim.yaml written.
#
# Usage: scripts/test-pre-commit.sh [--rust]
#   default  the `driftlint-system` hook, with a `cargo build --release` binary on PATH
#            (or $DRIFTLINT_BIN if set);
#   --rust   the `driftlint` hook (language: rust): pre-commit itself runs
#            `cargo install --path .` on a clone of HEAD (a full release build: minutes).
# pre-commit reads the hook manifest from the committed HEAD, so commit changes to
# .pre-commit-hooks.yaml before testing them. Needs git, python3 and pre-commit (installed with
# pip into a virtual environment under target/tools if missing).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
hook=driftlint-system
if [ "${1:-}" = "--rust" ]; then
  hook=driftlint
elif [ "$#" -gt 0 ]; then
  echo "usage: $0 [--rust]" >&2
  exit 2
fi

if ! command -v pre-commit >/dev/null 2>&1; then
  venv="$root/target/tools/pre-commit-venv"
  if [ ! -x "$venv/bin/pre-commit" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet pre-commit
  fi
  export PATH="$venv/bin:$PATH"
fi

if [ "$hook" = driftlint-system ]; then
  if [ -z "${DRIFTLINT_BIN:-}" ]; then
    (cd "$root" && cargo build --release --quiet --bin driftlint)
    DRIFTLINT_BIN="$root/target/release/driftlint"
  fi
  bin_dir="$(mktemp -d)"
  ln -s "$(cd "$(dirname "$DRIFTLINT_BIN")" && pwd)/$(basename "$DRIFTLINT_BIN")" "$bin_dir/driftlint"
  export PATH="$bin_dir:$PATH"
fi

work="$(mktemp -d)"
cleanup() { rm -rf "$work" "${bin_dir:-}"; }
trap cleanup EXIT
# Keep pre-commit's hook environments (the cargo install of --rust) across runs, but away
# from the user's own cache.
export PRE_COMMIT_HOME="${PRE_COMMIT_HOME:-$root/target/tools/pre-commit-home}"
export GIT_AUTHOR_NAME=test GIT_AUTHOR_EMAIL=test@localhost
export GIT_COMMITTER_NAME=test GIT_COMMITTER_EMAIL=test@localhost
rev="$(git -C "$root" rev-parse HEAD)"

repo="$work/repo"
mkdir -p "$repo/base" "$repo/overlays/prod"
cat > "$repo/base/kustomization.yaml" <<'YAML'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
YAML
cat > "$repo/base/deployment.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: web
          image: nginx:1.27.3
          ports:
            - containerPort: 8080
          securityContext:
            allowPrivilegeEscalation: false
            privileged: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            capabilities:
              drop: ["ALL"]
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
            limits:
              memory: 128Mi
          readinessProbe:
            httpGet:
              path: /healthz
              port: 8080
          livenessProbe:
            httpGet:
              path: /healthz
              port: 8080
YAML
cat > "$repo/overlays/prod/kustomization.yaml" <<'YAML'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: prod
resources:
  - ../../base
YAML
echo "fixture for driftlint's pre-commit hook test" > "$repo/README.md"
cat > "$repo/.pre-commit-config.yaml" <<YAML
repos:
  - repo: $root
    rev: $rev
    hooks:
      - id: $hook
YAML

cd "$repo"
git init --quiet
git add -A
git commit --quiet -m fixture

failures=0
# run NAME EXPECT(pass|fail) [PATTERN] -- pre-commit args...
run() {
  local name="$1" expect="$2" pattern="$3"
  shift 4
  local out code=0
  out="$(pre-commit run "$@" 2>&1)" || code=$?
  local ok=1
  if [ "$expect" = pass ] && [ "$code" -ne 0 ]; then ok=0; fi
  if [ "$expect" = fail ] && [ "$code" -eq 0 ]; then ok=0; fi
  if [ -n "$pattern" ] && ! grep -q -- "$pattern" <<< "$out"; then ok=0; fi
  if [ "$ok" -eq 1 ]; then
    echo "ok   $name (exit $code)"
  else
    local want="$expect"
    if [ -n "$pattern" ]; then want="$want with \"$pattern\""; fi
    echo "FAIL $name (exit $code, expected $want)"
    printf '%s\n' "$out" | sed 's/^/     | /'
    failures=$((failures + 1))
  fi
}

run "clean fixture passes" pass "Passed" -- --all-files
run "unrelated file skips the hook" pass "no files to check" -- --files README.md

sed -i 's|image: nginx:1.27.3|image: nginx:latest|' base/deployment.yaml
git add base/deployment.yaml
run "planted latest tag fails" fail "PIN001" -- --all-files
run "changed base file maps to its overlay" fail "PIN001" -- --files base/deployment.yaml

# A hostile file name: pre-commit passes it to the hook; after `--` it is a file, not a flag.
git checkout --quiet HEAD -- base/deployment.yaml
cat > ./--output=victim.yaml <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: prod
YAML
git add -- ./--output=victim.yaml
before=$failures
run "a file named like a flag is a file" pass "Passed" -- --all-files
if [ -e victim.yaml ] && [ "$failures" -eq "$before" ]; then
  echo "FAIL a file named like a flag is a file: victim.yaml was written"
  failures=$((failures + 1))
fi

passed=$((5 - failures))
echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
