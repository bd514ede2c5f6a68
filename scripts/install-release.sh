#!/usr/bin/env bash
# Downloads a driftlint release binary, verifies it against the release's SHA256SUMS and
# installs it. Used by action.yml when the action runs at a version tag; usable by hand.
#
# Usage: scripts/install-release.sh VERSION TARGET DEST_DIR
#   VERSION   release version, `1.2.3` or `v1.2.3` (the tag is `v` + version)
#   TARGET    target triple of the asset: x86_64-unknown-linux-musl,
#             aarch64-unknown-linux-musl, x86_64-apple-darwin or aarch64-apple-darwin
#   DEST_DIR  directory that receives the `driftlint` binary (created if missing)
#
# It fetches BASE/vVERSION/driftlint-TARGET.tar.gz and BASE/vVERSION/SHA256SUMS, where BASE is
#   $DRIFTLINT_RELEASE_BASE_URL if set (tests point it at a local server), else
#   https://github.com/$DRIFTLINT_REPOSITORY/releases/download
#   ($DRIFTLINT_REPOSITORY defaults to driftlint/driftlint),
# checks the archive with `sha256sum -c` (`shasum -a 256 -c` where sha256sum is absent) and
# only then extracts `driftlint` into DEST_DIR. Exits 1 with an `error:` line on stderr (and a
# GitHub `::error` annotation under GitHub Actions) when an asset cannot be downloaded, when
# SHA256SUMS has no line for the archive, when the checksum does not match, or when the archive
# holds no `driftlint` file; DEST_DIR is then left as it was. Exits 2 on usage errors.
set -euo pipefail

die() {
  echo "error: install-release: $*" >&2
  if [ "${GITHUB_ACTIONS:-}" = true ]; then
    echo "::error title=driftlint install::$*"
  fi
  exit 1
}

if [ "$#" -ne 3 ]; then
  echo "usage: $0 VERSION TARGET DEST_DIR" >&2
  exit 2
fi
version="${1#v}"
target="$2"
dest="$3"
semver_re='^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'
if ! [[ "$version" =~ $semver_re ]]; then
  echo "usage: $0 VERSION TARGET DEST_DIR (VERSION is x.y.z, not '$1')" >&2
  exit 2
fi
if [[ -z "$target" || "$target" == *[!A-Za-z0-9._-]* ]]; then
  echo "usage: $0 VERSION TARGET DEST_DIR (bad TARGET '$target')" >&2
  exit 2
fi
command -v curl >/dev/null 2>&1 || die "curl is needed to download the release"

tag="v$version"
asset="driftlint-$target.tar.gz"
base="${DRIFTLINT_RELEASE_BASE_URL:-https://github.com/${DRIFTLINT_REPOSITORY:-driftlint/driftlint}/releases/download}"
base="${base%/}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fetch() {
  local url="$1" out="$2" rc=0 msg
  # --fail: an HTTP error (404 for a missing asset) is an error, not a saved error page.
  # --retry retries only transient failures (timeouts, 408, 429, 5xx), never a 404.
  curl --fail --silent --show-error --location --retry 3 --connect-timeout 20 \
    --max-time 300 --output "$out" "$url" 2>"$work/curl.err" || rc=$?
  [ "$rc" -eq 0 ] && return 0
  msg="$(tr '\n' ' ' <"$work/curl.err")"
  if [ "$rc" -eq 22 ]; then
    die "could not download $url (${msg% }): the $tag release or its $(basename "$url") asset does not exist"
  fi
  die "could not download $url (${msg% })"
}

echo "install-release: downloading $asset and SHA256SUMS of $tag from $base" >&2
fetch "$base/$tag/$asset" "$work/$asset"
fetch "$base/$tag/SHA256SUMS" "$work/SHA256SUMS"

# The one line for our archive (`<hex>  <name>`, or `<hex> *<name>` in binary mode).
awk -v f="$asset" '($2 == f || $2 == "*" f) && $1 ~ /^[0-9a-fA-F]+$/ && length($1) == 64' \
  "$work/SHA256SUMS" >"$work/expected.sum"
case "$(wc -l <"$work/expected.sum" | tr -d ' ')" in
  1) ;;
  0) die "SHA256SUMS of $tag has no sha256 line for $asset" ;;
  *) die "SHA256SUMS of $tag has more than one line for $asset" ;;
esac
if command -v sha256sum >/dev/null 2>&1; then
  sha256=(sha256sum)
else
  sha256=(shasum -a 256)
fi
if ! (cd "$work" && "${sha256[@]}" -c expected.sum >"$work/check.out" 2>&1); then
  sed 's/^/  /' "$work/check.out" >&2
  got="$(cd "$work" && "${sha256[@]}" "$asset" | cut -d' ' -f1)"
  die "checksum mismatch for $asset of $tag: SHA256SUMS says $(cut -d' ' -f1 "$work/expected.sum"), the download is $got; refusing to install it"
fi
echo "install-release: $asset: sha256 OK ($(cut -d' ' -f1 "$work/expected.sum"))" >&2

mkdir -p "$work/x"
if ! tar -xzf "$work/$asset" -C "$work/x" driftlint 2>"$work/tar.err"; then
  sed 's/^/  /' "$work/tar.err" >&2
  die "$asset of $tag holds no driftlint binary"
fi
if [ -L "$work/x/driftlint" ] || [ ! -f "$work/x/driftlint" ]; then
  die "driftlint in $asset of $tag is not a regular file"
fi

mkdir -p "$dest"
cp "$work/x/driftlint" "$dest/.driftlint.tmp.$$"
chmod 0755 "$dest/.driftlint.tmp.$$"
mv -f "$dest/.driftlint.tmp.$$" "$dest/driftlint"
echo "install-release: installed driftlint $version ($target) to $dest/driftlint" >&2
