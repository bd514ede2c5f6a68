#!/usr/bin/env bash
# Packages driftlint release assets the way .github/workflows/release.yml publishes them, so
# that the release workflow, scripts/install-release.sh and its test
# (scripts/test-install-release.sh) agree on one layout.
#
# Usage:
#   scripts/package-release.sh archive BINARY TARGET OUT_DIR
#       Writes OUT_DIR/driftlint-TARGET.tar.gz: a gzip'd tar whose top level holds `driftlint`
#       (mode 0755, from BINARY) and README.md / LICENSE* of this repository when present
#       (mode 0644). No leading directory, so `tar -xzf driftlint-TARGET.tar.gz driftlint`
#       extracts the binary, and cargo-binstall's `bin-dir = "{ bin }{ binary-ext }"` finds it.
#       Owner and group are 0/root; works with GNU tar (Linux) and bsdtar (macOS).
#   scripts/package-release.sh checksums DIR
#       Writes DIR/SHA256SUMS for DIR/driftlint-*.tar.gz in sha256sum format
#       (`<64 hex>  <file name>`, sorted by file name), which `sha256sum -c` and
#       `shasum -a 256 -c` both read.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() {
  echo "package-release: $*" >&2
  exit 1
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

archive() {
  local binary="$1" target="$2" out_dir="$3"
  [ -f "$binary" ] && [ -x "$binary" ] || die "not an executable file: $binary"
  case "$target" in
    *[!A-Za-z0-9._-]* | "") die "bad target triple: '$target'" ;;
  esac
  mkdir -p "$out_dir"
  out_dir="$(cd "$out_dir" && pwd)"

  stage="$(mktemp -d)"
  trap 'rm -rf "$stage"' EXIT
  cp "$binary" "$stage/driftlint"
  chmod 0755 "$stage/driftlint"
  local files=(driftlint) f
  for f in README.md LICENSE LICENSE-APACHE LICENSE-MIT LICENSE.md LICENSE.txt; do
    if [ -f "$root/$f" ]; then
      cp "$root/$f" "$stage/$f"
      chmod 0644 "$stage/$f"
      files+=("$f")
    fi
  done

  local owner_flags
  if tar --version 2>/dev/null | grep -q 'GNU tar'; then
    owner_flags=(--owner=0 --group=0 --numeric-owner)
  else
    owner_flags=(--uid 0 --gid 0 --uname root --gname root)
  fi
  local asset="$out_dir/driftlint-$target.tar.gz"
  # COPYFILE_DISABLE: macOS tar would add AppleDouble `._*` entries for extended attributes.
  COPYFILE_DISABLE=1 tar -czf "$asset.tmp" "${owner_flags[@]}" -C "$stage" "${files[@]}"
  mv "$asset.tmp" "$asset"
  echo "$asset"
}

checksums() {
  local dir="$1"
  [ -d "$dir" ] || die "not a directory: $dir"
  local assets=() a
  shopt -s nullglob
  for a in "$dir"/driftlint-*.tar.gz; do
    assets+=("$a")
  done
  shopt -u nullglob
  [ "${#assets[@]}" -gt 0 ] || die "no driftlint-*.tar.gz in $dir"
  : >"$dir/SHA256SUMS.tmp"
  while IFS= read -r a; do
    printf '%s  %s\n' "$(sha256_of "$dir/$a")" "$a" >>"$dir/SHA256SUMS.tmp"
  done < <(for a in "${assets[@]}"; do basename "$a"; done | LC_ALL=C sort)
  mv "$dir/SHA256SUMS.tmp" "$dir/SHA256SUMS"
  cat "$dir/SHA256SUMS"
}

case "${1:-}" in
  archive)
    [ "$#" -eq 4 ] || die "usage: $0 archive BINARY TARGET OUT_DIR"
    archive "$2" "$3" "$4"
    ;;
  checksums)
    [ "$#" -eq 2 ] || die "usage: $0 checksums DIR"
    checksums "$2"
    ;;
  *)
    echo "usage: $0 archive BINARY TARGET OUT_DIR | checksums DIR" >&2
    exit 2
    ;;
esac
