#!/usr/bin/env bash
# Install SpinKube on the current kubectl context: cert-manager, Runtime Class Manager with the
# containerd-shim-spin Shim (it installs the shim on the nodes and creates the wasmtime-spin-v2
# RuntimeClass), the spin-operator CRDs, the spin-operator Helm chart and the shim executor.
set -euo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$DEPLOY_DIR/lib.sh"

# Pinned versions (override with the environment variable of the same name).
CERT_MANAGER_VERSION="${CERT_MANAGER_VERSION:-v1.20.0}"
RUNTIME_CLASS_MANAGER_VERSION="${RUNTIME_CLASS_MANAGER_VERSION:-0.2.0}"
SPIN_SHIM_VERSION="${SPIN_SHIM_VERSION:-v0.25.1}" # embeds Spin 4.0.1; Azure Redis needs Spin >= 3.2 (shim >= v0.19.0)
SPIN_OPERATOR_VERSION="${SPIN_OPERATOR_VERSION:-0.6.1}"

usage() {
  cat <<'USAGE'
Usage: deploy/install-spinkube.sh [--dry-run] [--help]

Installs SpinKube into the cluster kubectl currently points at (after deploy/provision.sh that is
the AKS cluster). Requires kubectl and helm.

Steps, in order:
  1. cert-manager                 kubectl apply (cert-manager.yaml), wait for its deployments
  2. Runtime Class Manager        helm upgrade --install (oci://ghcr.io/spinframework/charts/runtime-class-manager)
  3. containerd-shim-spin Shim    kubectl apply; the manager installs the shim on nodes labelled
                                  spin=true and creates the RuntimeClass wasmtime-spin-v2
  4. node label                   kubectl label node --all spin=true
  5. RuntimeClass                 wait until wasmtime-spin-v2 exists
  6. spin-operator CRDs           kubectl apply (spin-operator.crds.yaml)
  7. spin-operator                helm upgrade --install (oci://ghcr.io/spinframework/charts/spin-operator)
  8. shim executor                kubectl apply (spin-operator.shim-executor.yaml) in NAMESPACE

Options:
  --dry-run   print the commands instead of running them
  -h, --help  show this help

Environment (default in brackets):
  CERT_MANAGER_VERSION           [v1.20.0]
  RUNTIME_CLASS_MANAGER_VERSION  [0.2.0]
  SPIN_SHIM_VERSION              [v0.25.1]  must be >= v0.19.0 (Spin >= 3.2, needed with Azure Redis)
  SPIN_OPERATOR_VERSION          [0.6.1]
  SHIM_MANIFEST_URL              [the Shim manifest of the containerd-shim-spin release]; its shim
                                 binary is for x86_64 nodes: use your own Shim manifest for arm64
  SHIM_NODE_LABEL                [spin=true] must match the Shim's nodeSelector
  NAMESPACE                      [default]  namespace of the SpinAppExecutor (same as the app)
  WAIT_TIMEOUT                   [300s]
USAGE
}

while (($#)); do
  common_flag "$1"
  shift
done

load_common_config
SHIM_MANIFEST_URL="${SHIM_MANIFEST_URL:-https://github.com/spinframework/containerd-shim-spin/releases/download/${SPIN_SHIM_VERSION}/runtime-class-manager-shim-v1alpha1-${SPIN_SHIM_VERSION}.yaml}"
SHIM_NODE_LABEL="${SHIM_NODE_LABEL:-spin=true}"
WAIT_TIMEOUT="${WAIT_TIMEOUT:-300s}"
RUNTIME_CLASS="wasmtime-spin-v2"
OPERATOR_RELEASES="https://github.com/spinframework/spin-operator/releases/download/v${SPIN_OPERATOR_VERSION}"

[[ "$SPIN_SHIM_VERSION" =~ ^v([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] ||
  die "SPIN_SHIM_VERSION must look like v0.25.1 (got '$SPIN_SHIM_VERSION')"
if ((BASH_REMATCH[1] == 0 && BASH_REMATCH[2] < 19)); then
  die "SPIN_SHIM_VERSION $SPIN_SHIM_VERSION embeds Spin < 3.2, which breaks on Azure Redis idle disconnects; use v0.19.0 or later"
fi
[[ "$SPIN_OPERATOR_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  die "SPIN_OPERATOR_VERSION must look like 0.6.1 (got '$SPIN_OPERATOR_VERSION')"
[[ "$SHIM_NODE_LABEL" =~ ^[A-Za-z0-9./_-]+=[A-Za-z0-9._-]*$ ]] || die "SHIM_NODE_LABEL must look like key=value"

if ! dry_run; then
  require_tool kubectl "https://kubernetes.io/docs/tasks/tools/"
  require_tool helm "https://helm.sh/docs/intro/install/"
fi

wait_for_runtime_class() {
  local tries=60
  if dry_run; then
    print_cmd "# wait until: $(quote_cmd kubectl get runtimeclass "$RUNTIME_CLASS" -o name) succeeds"
    return 0
  fi
  until kubectl get runtimeclass "$RUNTIME_CLASS" -o name >/dev/null 2>&1; do
    ((--tries > 0)) || die "RuntimeClass $RUNTIME_CLASS did not appear; check: kubectl logs -n runtime-class-manager -l app.kubernetes.io/name=runtime-class-manager"
    log "waiting for RuntimeClass $RUNTIME_CLASS (the shim is being installed on the nodes)"
    sleep 5
  done
}

log "1/8 cert-manager $CERT_MANAGER_VERSION"
run kubectl apply -f "https://github.com/cert-manager/cert-manager/releases/download/${CERT_MANAGER_VERSION}/cert-manager.yaml"
run kubectl wait --for=condition=available --timeout="$WAIT_TIMEOUT" deployment --all -n cert-manager

log "2/8 Runtime Class Manager $RUNTIME_CLASS_MANAGER_VERSION"
run helm upgrade --install runtime-class-manager \
  --namespace runtime-class-manager --create-namespace \
  --version "$RUNTIME_CLASS_MANAGER_VERSION" --wait \
  oci://ghcr.io/spinframework/charts/runtime-class-manager

log "3/8 containerd-shim-spin $SPIN_SHIM_VERSION (Shim resource)"
run kubectl apply -f "$SHIM_MANIFEST_URL"

log "4/8 label nodes $SHIM_NODE_LABEL"
run kubectl label node --all "$SHIM_NODE_LABEL" --overwrite

log "5/8 RuntimeClass $RUNTIME_CLASS"
wait_for_runtime_class

log "6/8 spin-operator $SPIN_OPERATOR_VERSION CRDs"
run kubectl apply -f "$OPERATOR_RELEASES/spin-operator.crds.yaml"

log "7/8 spin-operator $SPIN_OPERATOR_VERSION (Helm)"
run helm upgrade --install spin-operator \
  --namespace spin-operator --create-namespace \
  --version "$SPIN_OPERATOR_VERSION" --wait \
  oci://ghcr.io/spinframework/charts/spin-operator

log "8/8 shim executor (namespace $NAMESPACE)"
run kubectl apply --namespace "$NAMESPACE" -f "$OPERATOR_RELEASES/spin-operator.shim-executor.yaml"

if dry_run; then
  log "dry run: nothing was installed"
else
  log "SpinKube is installed. Next: deploy/render-runtime-config.sh, then deploy/deploy-app.sh"
fi
