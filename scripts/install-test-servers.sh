#!/usr/bin/env bash
# Installs the Debian packages of the servers the test suite starts on 127.0.0.1, when missing:
# etcd-server (with the kube-apiserver binary in ../shared/tools/kube-apiserver, for
# tests/real_cluster.rs) and docker-registry (the CNCF distribution registry, for
# tests/charts_pull.rs). Uses sudo when not root. About 25 MB of downloads on a fresh machine.
set -euo pipefail
missing=()
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
{ command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ]; } || missing+=(docker-registry)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
  export DEBIAN_FRONTEND=noninteractive
  "${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { "${apt_get[@]}" update -qq && "${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi
etcd --version | head -1
echo "docker-registry: $(command -v docker-registry || echo /usr/bin/docker-registry)"
