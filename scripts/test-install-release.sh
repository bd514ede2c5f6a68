#!/usr/bin/env bash
# End-to-end test of scripts/install-release.sh (what action.yml runs at a version tag): packages
# a driftlint binary with scripts/package-release.sh exactly as .github/workflows/release.yml
# does, serves the release over a loopback HTTP server (`python3 -m http.server` on
# 127.0.0.1, a free port) and installs from it through DRIFTLINT_RELEASE_BASE_URL:
#   1. a good release                          -> installs; the installed binary runs and
#                                                 prints the same `--version`;
#   2. SHA256SUMS with a wrong checksum         -> fails (non-zero), says "checksum mismatch",
#                                                 installs nothing;
#   3. a replaced archive (old SHA256SUMS)      -> the same;
#   4. SHA256SUMS without a line for the asset  -> fails, says so, installs nothing;
#   5. the asset missing from the release       -> fails, "could not download", installs nothing;
#   6. a version that has no release            -> the same.
#
# Usage: scripts/test-install-release.sh
# Uses $DRIFTLINT_BIN if set, else builds and uses the dev binary (`cargo build`). Needs bash,
# python3, curl, tar, sha256sum (or shasum). Prints ok/FAIL lines and "N passed, N failed";
# exits 1 if any case failed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [ -z "${DRIFTLINT_BIN:-}" ]; then
  cargo build --quiet --bin driftlint
  DRIFTLINT_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/driftlint"
fi
[ -x "$DRIFTLINT_BIN" ] || { echo "FAIL: no driftlint binary at $DRIFTLINT_BIN" >&2; exit 1; }

# The asset name the action would ask for on this machine (the binary is the local one; the
# triple is only the asset's name).
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-musl ;;
  Darwin/x86_64) target=x86_64-apple-darwin ;;
  Darwin/arm64) target=aarch64-apple-darwin ;;
  *) target=unknown-target ;;
esac
want_version="$("$DRIFTLINT_BIN" --version)"
version="${want_version##* }"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# One release tree per case, each served under its own base URL: $work/www/<case>/v<version>/.
www="$work/www"
good="$www/good/v$version"
scripts/package-release.sh archive "$DRIFTLINT_BIN" "$target" "$good" >/dev/null
scripts/package-release.sh checksums "$good" >/dev/null
asset="driftlint-$target.tar.gz"

# 2. the checksum in SHA256SUMS is wrong (first hex digit changed).
mkdir -p "$www/badsum/v$version"
cp "$good/$asset" "$www/badsum/v$version/"
awk '{ c = substr($1, 1, 1); $1 = (c == "0" ? "1" : "0") substr($1, 2); print $1 "  " $2 }' \
  "$good/SHA256SUMS" >"$www/badsum/v$version/SHA256SUMS"
# 3. the archive was replaced after SHA256SUMS was written: a well-formed archive of another
#    program, which would install fine if the checksum were not checked.
mkdir -p "$work/other" "$www/badasset/v$version"
printf '#!/bin/sh\necho "not driftlint"\n' >"$work/other/driftlint"
chmod +x "$work/other/driftlint"
scripts/package-release.sh archive "$work/other/driftlint" "$target" "$www/badasset/v$version" >/dev/null
cp "$good/SHA256SUMS" "$www/badasset/v$version/"
# 4. SHA256SUMS lists other assets only.
mkdir -p "$www/nosumline/v$version"
cp "$good/$asset" "$www/nosumline/v$version/"
printf '%064d  driftlint-other-target.tar.gz\n' 0 >"$www/nosumline/v$version/SHA256SUMS"
# 5. the release has SHA256SUMS but not our archive.
mkdir -p "$www/noasset/v$version"
cp "$good/SHA256SUMS" "$www/noasset/v$version/"

# Port 0: the kernel picks a free port; http.server prints it.
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$www" >"$work/server.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port="$(sed -n 's/^Serving HTTP on 127\.0\.0\.1 port \([0-9][0-9]*\).*/\1/p' "$work/server.log")"
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  cat "$work/server.log" >&2
  echo "FAIL: the loopback HTTP server did not start" >&2
  exit 1
fi
url="http://127.0.0.1:$port"

passed=0
failed=0
ok() {
  echo "ok: $*"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL: $*"
  failed=$((failed + 1))
}

# install CASE VERSION: runs the install script against $url/CASE into a new empty directory;
# sets $code, $out (stderr + stdout) and $dest.
runs=0
install() {
  runs=$((runs + 1))
  dest="$work/dest-$runs-$1"
  set +e
  out="$(DRIFTLINT_RELEASE_BASE_URL="$url/$1" GITHUB_ACTIONS='' \
    scripts/install-release.sh "$2" "$target" "$dest" 2>&1)"
  code=$?
  set -e
}

# expect_failure LABEL CASE VERSION MESSAGE: the install from CASE must fail with MESSAGE.
expect_failure() {
  install "$2" "$3"
  if [ "$code" -eq 0 ]; then
    fail "$1: install exited 0"
  elif ! grep -q '^error: ' <<<"$out" || ! grep -qF "$4" <<<"$out"; then
    fail "$1: exit $code, but no 'error:' line with '$4' in:"$'\n'"$out"
  elif [ -e "$dest/driftlint" ]; then
    fail "$1: exit $code, but $dest/driftlint was installed"
  else
    ok "$1: exit $code, $(grep '^error: ' <<<"$out" | head -n 1)"
  fi
}

install good "$version"
if [ "$code" -ne 0 ]; then
  fail "good release: install exited $code:"$'\n'"$out"
elif ! grep -q ': sha256 OK' <<<"$out"; then
  fail "good release: the install did not report a verified checksum:"$'\n'"$out"
elif ! got="$("$dest/driftlint" --version 2>&1)"; then
  fail "good release: the installed driftlint does not run: $got"
elif [ "$got" != "$want_version" ]; then
  fail "good release: installed driftlint --version is '$got', want '$want_version'"
else
  ok "good release: installed and ran '$got' (sha256 verified)"
fi
# `v`-prefixed versions name the same release.
install good "v$version"
if [ "$code" -eq 0 ] && [ -x "$dest/driftlint" ]; then
  ok "good release: 'v$version' is accepted as the version"
else
  fail "good release: 'v$version': exit $code:"$'\n'"$out"
fi

expect_failure "wrong checksum" badsum "$version" "checksum mismatch"
expect_failure "replaced archive" badasset "$version" "checksum mismatch"
expect_failure "no SHA256SUMS line" nosumline "$version" "no sha256 line for $asset"
expect_failure "missing asset" noasset "$version" "could not download"
expect_failure "no such release" good "$version-missing.1" "could not download"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
