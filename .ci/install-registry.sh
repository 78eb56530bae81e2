#!/usr/bin/env bash
# Install what the registry end-to-end test (test/deploy/push-registry.e2e.test.ts) needs, pinned:
# the CNCF distribution registry, built from its Go module, and htpasswd (bcrypt password files).
# Each is skipped when already present. Run as root (apt-get); REGISTRY_BIN_DIR defaults to
# /usr/local/bin.
set -euo pipefail

REGISTRY_VERSION=v3.1.2
BIN_DIR="${REGISTRY_BIN_DIR:-/usr/local/bin}"

if command -v registry >/dev/null 2>&1 && [[ "$(registry --version 2>/dev/null)" == *" ${REGISTRY_VERSION}"* ]]; then
  echo "registry ${REGISTRY_VERSION} is installed: $(command -v registry)"
else
  go_bin="$(command -v go || true)"
  [[ -n "$go_bin" ]] || [[ ! -x /usr/local/go/bin/go ]] || go_bin=/usr/local/go/bin/go
  [[ -n "$go_bin" ]] || { echo "error: go is needed to install the registry" >&2; exit 1; }
  echo "installing the distribution registry ${REGISTRY_VERSION} into ${BIN_DIR}"
  GOBIN="$BIN_DIR" "$go_bin" install "github.com/distribution/distribution/v3/cmd/registry@${REGISTRY_VERSION}"
fi

if ! command -v htpasswd >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends apache2-utils
fi
