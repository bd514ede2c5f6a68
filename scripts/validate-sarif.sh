#!/usr/bin/env bash
# Validates SARIF logs with Microsoft's SARIF Multitool: the SARIF 2.1.0 JSON schema, the SARIF
# rules (SARIF1xxx/2xxx) and GitHub code scanning's ingestion rules (GH1xxx/GH2xxx).
# Fails when any file has a result of level "error"; prints every error and warning.
#
# Usage: scripts/validate-sarif.sh FILE...
#
# The npm package @microsoft/sarif-multitool pulls in @microsoft/sarif-multitool-<platform>,
# which ships Sarif.Multitool as a self-contained single-file .NET executable (no dotnet SDK or
# runtime needed; linux-x64, darwin and win32 only). It is installed once into
# $DRIFTLINT_TOOLS_DIR (default: target/tools). npm 11 skips the package's postinstall script
# (`chmod u+x Sarif.Multitool`) unless install scripts are approved, so this script sets the
# executable bit itself.
set -euo pipefail

MULTITOOL_VERSION=5.7.0

if [ "$#" -eq 0 ]; then
  echo "usage: $0 FILE.sarif..." >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${DRIFTLINT_TOOLS_DIR:-$root/target/tools}"
case "$(uname -s)" in
  Linux) platform=linux ;;
  Darwin) platform=darwin ;;
  *) echo "validate-sarif: unsupported platform $(uname -s)" >&2; exit 2 ;;
esac
exe="$tools/node_modules/@microsoft/sarif-multitool-$platform/Sarif.Multitool"

if [ ! -f "$exe" ]; then
  echo "validate-sarif: installing @microsoft/sarif-multitool@$MULTITOOL_VERSION into $tools" >&2
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --no-save --loglevel=error \
    "@microsoft/sarif-multitool@$MULTITOOL_VERSION" >&2
fi
chmod u+x "$exe"

out_dir="$(mktemp -d)"
trap 'rm -rf "$out_dir"' EXIT

status=0
for file in "$@"; do
  if [ ! -f "$file" ]; then
    echo "validate-sarif: $file: no such file" >&2
    status=1
    continue
  fi
  out="$out_dir/$(basename "$file").validation.sarif"
  # --rule-kind Gh;Sarif adds GitHub's ingestion rules to the schema and SARIF checks.
  "$exe" validate "$file" --output "$out" --log ForceOverwrite --rule-kind "Gh;Sarif" \
    --level "Error;Warning" --quiet >/dev/null 2>&1 || true
  if ! python3 - "$file" "$out" <<'PY'
import json
import sys

source, out = sys.argv[1], sys.argv[2]
try:
    with open(out, encoding="utf-8-sig") as fh:
        log = json.load(fh)
except (OSError, ValueError) as err:
    print(f"{source}: the validator wrote no readable output ({err})")
    sys.exit(1)
errors = 0
for run in log.get("runs", []):
    for inv in run.get("invocations", []):
        if inv.get("executionSuccessful") is False:
            print(f"{source}: the validator did not run successfully")
            errors += 1
        for n in inv.get("toolExecutionNotifications", []) + inv.get(
            "toolConfigurationNotifications", []
        ):
            if n.get("level", "warning") == "error":
                print(f"{source}: validator: {n.get('message', {}).get('text', '')}")
                errors += 1
    rules = {r["id"]: r for r in run.get("tool", {}).get("driver", {}).get("rules", [])}
    for res in run.get("results", []):
        level = res.get("level", "warning")
        rule = res.get("ruleId", "?")
        msg = res.get("message", {})
        text = msg.get("text")
        if text is None:
            # Multitool results use message ids with arguments; expand them from the rule.
            tmpl = (
                rules.get(rule, {}).get("messageStrings", {}).get(msg.get("id", ""), {}).get("text")
            )
            args = msg.get("arguments", [])
            text = tmpl or " ".join(args)
            for i, a in enumerate(args):
                text = text.replace("{" + str(i) + "}", a)
        region = (
            (res.get("locations") or [{}])[0]
            .get("physicalLocation", {})
            .get("region", {})
        )
        where = f"{source}:{region.get('startLine', '?')}:{region.get('startColumn', '?')}"
        print(f"{where}: {level} {rule}: {text}")
        if level == "error":
            errors += 1
if errors:
    print(f"{source}: {errors} error(s)")
    sys.exit(1)
print(f"{source}: valid")
PY
  then
    status=1
  fi
done
exit "$status"
