#!/usr/bin/env bash
# Install SpinKube on the project's cluster: cert-manager, Runtime Class Manager with the
# containerd-shim-spin Shim (it installs the shim on the labelled nodes and creates the
# wasmtime-spin-v2 RuntimeClass), the spin-operator CRDs, the spin-operator Helm chart and the
# shim executor. Only artifacts published at pinned tags are used, each checked before anything
# is applied.
set -euo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$DEPLOY_DIR/lib.sh"

# Pinned versions (override with the environment variable of the same name).
CERT_MANAGER_VERSION="${CERT_MANAGER_VERSION:-v1.20.0}"
RUNTIME_CLASS_MANAGER_VERSION="${RUNTIME_CLASS_MANAGER_VERSION:-0.2.0}"
SPIN_OPERATOR_VERSION="${SPIN_OPERATOR_VERSION:-0.6.1}"

usage() {
  cat <<'USAGE'
Usage: deploy/install-spinkube.sh [--context NAME] [--label-nodes] [--dry-run] [--help]

Installs SpinKube into the project's cluster. The current kubectl context must be AKS_NAME
[aks-cache-with-az-redis] (deploy/provision.sh sets it), unless --context names the context to use;
that context is then passed to every kubectl and helm call. Requires kubectl, helm and curl.
Takes 3-6 minutes.

Before touching the cluster, every manifest URL is checked (curl -fsSLI) and the Shim manifest is
downloaded; a missing one stops the script with its URL.

Steps, in order:
  1. cert-manager                 kubectl apply (cert-manager.yaml), wait for its deployments
  2. Runtime Class Manager        helm upgrade --install (oci://ghcr.io/spinframework/charts/runtime-class-manager)
  3. containerd-shim-spin Shim    kubectl apply of runtime-class-manager's own sample Shim at the
                                  same tag (config/samples/sample_shim_spin.yaml: shim v0.23.0 for
                                  x86_64 and aarch64 with checksums, nodeSelector spin=true,
                                  RuntimeClass wasmtime-spin-v2)
  4. nodes                        the node pool carries spin=true from creation (provision.sh);
                                  with --label-nodes, kubectl label node --all spin=true instead
  5. shim ready                   wait until the Shim's status.nodesReady equals the number of
                                  nodes labelled spin=true
  6. spin-operator CRDs           kubectl apply (spin-operator.crds.yaml)
  7. spin-operator                helm upgrade --install (oci://ghcr.io/spinframework/charts/spin-operator)
  8. shim executor                kubectl apply (spin-operator.shim-executor.yaml) in NAMESPACE

Options:
  --context NAME  the kubectl context to install into (instead of requiring AKS_NAME)
  --label-nodes   label every current node spin=true (for a cluster not made by provision.sh;
                  nodes added later miss the label: prefer az aks nodepool update --labels spin=true)
  --dry-run       print the commands instead of running them
  -h, --help      show this help

Environment (default in brackets):
  CERT_MANAGER_VERSION           [v1.20.0]
  RUNTIME_CLASS_MANAGER_VERSION  [0.2.0]
  SPIN_OPERATOR_VERSION          [0.6.1]
  SHIM_MANIFEST_URL              [runtime-class-manager's sample Shim at tag v$RUNTIME_CLASS_MANAGER_VERSION];
                                 its shim must be v0.19.0 or later (Spin >= 3.2, needed with Azure Redis)
  SHIM_NAME                      [spin-v2]    metadata.name of that Shim
  SHIM_NODE_LABEL                [spin=true]  must match the Shim's nodeSelector
  NAMESPACE                      [default]    namespace of the SpinAppExecutor (same as the app)
  WAIT_TIMEOUT                   [300s]       SHIM_WAIT_SECONDS [600]   POLL_SECONDS [10]
USAGE
}

LABEL_NODES=0
while (($#)); do
  case "$1" in
  --context)
    context_flag $# "${2:-}"
    shift
    ;;
  --label-nodes) LABEL_NODES=1 ;;
  *) common_flag "$1" ;;
  esac
  shift
done

load_common_config existing
[[ "$RUNTIME_CLASS_MANAGER_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  die "RUNTIME_CLASS_MANAGER_VERSION must look like 0.2.0 (got '$RUNTIME_CLASS_MANAGER_VERSION')"
[[ "$SPIN_OPERATOR_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  die "SPIN_OPERATOR_VERSION must look like 0.6.1 (got '$SPIN_OPERATOR_VERSION')"
# The manifest the SpinKube documentation applies, at the pinned Runtime Class Manager tag (the
# containerd-shim-spin releases publish no Shim manifest of their own).
SHIM_MANIFEST_URL="${SHIM_MANIFEST_URL:-https://raw.githubusercontent.com/spinframework/runtime-class-manager/v${RUNTIME_CLASS_MANAGER_VERSION}/config/samples/sample_shim_spin.yaml}"
SHIM_NAME="${SHIM_NAME:-spin-v2}"
SHIM_NODE_LABEL="${SHIM_NODE_LABEL:-spin=true}"
WAIT_TIMEOUT="${WAIT_TIMEOUT:-300s}"
SHIM_WAIT_SECONDS="${SHIM_WAIT_SECONDS:-600}"
POLL_SECONDS="${POLL_SECONDS:-10}"
CERT_MANAGER_URL="https://github.com/cert-manager/cert-manager/releases/download/${CERT_MANAGER_VERSION}/cert-manager.yaml"
OPERATOR_RELEASES="https://github.com/spinframework/spin-operator/releases/download/v${SPIN_OPERATOR_VERSION}"
CRDS_URL="$OPERATOR_RELEASES/spin-operator.crds.yaml"
EXECUTOR_URL="$OPERATOR_RELEASES/spin-operator.shim-executor.yaml"

[[ "$SHIM_NODE_LABEL" =~ ^[A-Za-z0-9./_-]+=[A-Za-z0-9._-]*$ ]] || die "SHIM_NODE_LABEL must look like key=value"
[[ "$SHIM_NAME" =~ ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$ ]] || die "invalid SHIM_NAME '$SHIM_NAME'"
[[ "$SHIM_WAIT_SECONDS" =~ ^[0-9]+$ && "$POLL_SECONDS" =~ ^[0-9]+$ ]] || die "SHIM_WAIT_SECONDS and POLL_SECONDS must be integers"

if ! dry_run; then
  require_tool kubectl "https://kubernetes.io/docs/tasks/tools/"
  require_tool helm "https://helm.sh/docs/intro/install/"
  require_tool curl
fi

# ---- artifacts: checked before the cluster is touched -------------------------------------------
check_url() {
  if dry_run; then
    print_cmd "$(quote_cmd curl -fsSLI --max-time 60 "$1") >/dev/null"
    return 0
  fi
  curl -fsSLI --max-time 60 "$1" >/dev/null 2>&1 || die "cannot fetch $1 (curl -fsSLI failed): check the pinned version, or your network"
}

SHIM_MANIFEST=""
fetch_shim_manifest() {
  local shim_version
  if dry_run; then
    print_cmd "SHIM_MANIFEST=\$($(quote_cmd curl -fsSL --max-time 60 "$SHIM_MANIFEST_URL"))  # must name containerd-shim-spin >= v0.19.0"
    return 0
  fi
  SHIM_MANIFEST="$(curl -fsSL --max-time 60 "$SHIM_MANIFEST_URL" 2>/dev/null)" ||
    die "cannot fetch the Shim manifest $SHIM_MANIFEST_URL (curl -fsSL failed)"
  [[ "$SHIM_MANIFEST" == *"kind: Shim"* ]] || die "$SHIM_MANIFEST_URL is not a Shim manifest"
  # Spin < 3.2 (shim < v0.19.0) does not survive Azure Redis idle disconnects.
  [[ "$SHIM_MANIFEST" =~ containerd-shim-spin/releases/download/v([0-9]+)\.([0-9]+)\.([0-9]+)/ ]] ||
    die "$SHIM_MANIFEST_URL names no containerd-shim-spin release"
  shim_version="v${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
  if ((BASH_REMATCH[1] == 0 && BASH_REMATCH[2] < 19)); then
    die "$SHIM_MANIFEST_URL installs containerd-shim-spin $shim_version, which embeds Spin < 3.2 and breaks on Azure Redis idle disconnects; use a Shim with v0.19.0 or later"
  fi
  log "Shim $SHIM_NAME installs containerd-shim-spin $shim_version"
}

# ---- the shim on the nodes ----------------------------------------------------------------------
# wait_for_shim: the RuntimeClass appears as soon as the Shim is accepted; the shim is usable only
# once it is installed on every labelled node (status.nodesReady, counted by runtime-class-manager).
wait_for_shim() {
  local deadline nodes ready
  local -a labelled
  if dry_run; then
    print_cmd "# wait until: $(quote_cmd "${KUBECTL[@]}" get shim "$SHIM_NAME" -o 'jsonpath={.status.nodesReady}') equals the count of $(quote_cmd "${KUBECTL[@]}" get nodes -l "$SHIM_NODE_LABEL" -o name)"
    return 0
  fi
  mapfile -t labelled < <("${KUBECTL[@]}" get nodes -l "$SHIM_NODE_LABEL" -o name)
  nodes=${#labelled[@]}
  ((nodes > 0)) || die "no node carries the label $SHIM_NODE_LABEL, so the shim is installed nowhere: label the node pool (az aks nodepool update --resource-group $RESOURCE_GROUP --cluster-name $AKS_NAME --name <pool> --labels $SHIM_NODE_LABEL), or run again with --label-nodes"
  deadline=$((SECONDS + SHIM_WAIT_SECONDS))
  while :; do
    ready="$("${KUBECTL[@]}" get shim "$SHIM_NAME" -o 'jsonpath={.status.nodesReady}' 2>/dev/null || true)"
    [[ "$ready" =~ ^[0-9]+$ ]] || ready=0
    ((ready >= nodes)) && break
    ((SECONDS < deadline)) || die "the shim is ready on $ready of $nodes nodes labelled $SHIM_NODE_LABEL after ${SHIM_WAIT_SECONDS}s; check: kubectl logs -n runtime-class-manager -l app.kubernetes.io/name=runtime-class-manager"
    log "shim ready on $ready of $nodes nodes; checking again in ${POLL_SECONDS}s"
    sleep "$POLL_SECONDS"
  done
  log "shim ready on all $nodes nodes labelled $SHIM_NODE_LABEL"
}

apply_shim() {
  if dry_run; then
    print_cmd "$(quote_cmd "${KUBECTL[@]}" apply -f -) <<< \"\$SHIM_MANIFEST\""
    return 0
  fi
  printf '%s\n' "$SHIM_MANIFEST" | "${KUBECTL[@]}" apply -f -
}

log "0/8 checking the artifacts"
check_url "$CERT_MANAGER_URL"
check_url "$CRDS_URL"
check_url "$EXECUTOR_URL"
fetch_shim_manifest
use_project_context

log "1/8 cert-manager $CERT_MANAGER_VERSION"
run "${KUBECTL[@]}" apply -f "$CERT_MANAGER_URL"
run "${KUBECTL[@]}" wait --for=condition=available --timeout="$WAIT_TIMEOUT" deployment --all -n cert-manager

log "2/8 Runtime Class Manager $RUNTIME_CLASS_MANAGER_VERSION"
run "${HELM[@]}" upgrade --install runtime-class-manager \
  --namespace runtime-class-manager --create-namespace \
  --version "$RUNTIME_CLASS_MANAGER_VERSION" --wait \
  oci://ghcr.io/spinframework/charts/runtime-class-manager

log "3/8 Shim $SHIM_NAME"
apply_shim

if ((LABEL_NODES)); then
  log "4/8 labelling the current nodes $SHIM_NODE_LABEL (nodes added later will not have it)"
  run "${KUBECTL[@]}" label node --all "$SHIM_NODE_LABEL" --overwrite
else
  log "4/8 nodes: the node pool carries $SHIM_NODE_LABEL (deploy/provision.sh --nodepool-labels)"
fi

log "5/8 waiting for the shim on the nodes"
wait_for_shim

log "6/8 spin-operator $SPIN_OPERATOR_VERSION CRDs"
run "${KUBECTL[@]}" apply -f "$CRDS_URL"

log "7/8 spin-operator $SPIN_OPERATOR_VERSION (Helm)"
run "${HELM[@]}" upgrade --install spin-operator \
  --namespace spin-operator --create-namespace \
  --version "$SPIN_OPERATOR_VERSION" --wait \
  oci://ghcr.io/spinframework/charts/spin-operator

log "8/8 shim executor (namespace $NAMESPACE)"
run "${KUBECTL[@]}" apply --namespace "$NAMESPACE" -f "$EXECUTOR_URL"

if dry_run; then
  log "dry run: nothing was installed"
else
  log "SpinKube is installed. Next: deploy/render-runtime-config.sh, then deploy/deploy-app.sh"
fi
