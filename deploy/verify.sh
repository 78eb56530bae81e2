#!/usr/bin/env bash
# Prove that the deployed pods share one key-value store (Redis): warm the cache through one pod and
# expect a cache hit from another. `npm run smoke` through `port-forward svc/...` cannot tell: the
# forward sticks to one pod, and a pod without a runtime config silently uses its own SQLite file.
set -euo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$DEPLOY_DIR/lib.sh"

usage() {
  cat <<'USAGE'
Usage: deploy/verify.sh [--namespace NS] [--context NAME] [--help]

Port-forwards to two different running pods of the SpinApp (A and B) and checks, with curl:
  1. DELETE /cache  through A    204 (start cold)
  2. GET /items     through A    200, x-served-from-cache: false (A stores the catalog)
  3. GET /items     through B    200, x-served-from-cache: true, the same bytes (B reads A's entry)
  4. DELETE /cache  through B    204
  5. GET /items     through A    200, x-served-from-cache: false (A sees B's clear)
Step 3 or 5 fails when the pods do not share the store (e.g. no runtime config: per-pod SQLite).

The admin token for DELETE /cache comes from CACHE_ADMIN_TOKEN or the Secret <app>-secrets
(--mode secret); it travels to curl on stdin and is never printed. Needs at least 2 replicas.
Acts only on the project's cluster (kubectl context AKS_NAME) unless --context names another.

Options:
  --namespace NS   namespace of the SpinApp          [NAMESPACE=default]
  --context NAME   kubectl context to use
  -h, --help       show this help

Environment: APP_NAME [cache-with-az-redis], CACHE_ADMIN_TOKEN, FORWARD_TIMEOUT [30] seconds.
USAGE
}

NAMESPACE_ARG=""
while (($#)); do
  case "$1" in
  --namespace | -n)
    need_value "$1" $#
    NAMESPACE_ARG=$2
    shift
    ;;
  --context)
    context_flag $# "${2:-}"
    shift
    ;;
  *) common_flag "$1" ;;
  esac
  shift
done

load_common_config existing
export -n CACHE_ADMIN_TOKEN 2>/dev/null || true
[[ -n "$NAMESPACE_ARG" ]] && NAMESPACE=$NAMESPACE_ARG
FORWARD_TIMEOUT="${FORWARD_TIMEOUT:-30}"
SECRET_NAME="${APP_NAME}-secrets"
# spin-operator v0.6.1 labels every pod of a SpinApp core.spinkube.dev/app-name=<name> and serves on
# container port 80.
POD_SELECTOR="core.spinkube.dev/app-name=$APP_NAME"
[[ "$FORWARD_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "FORWARD_TIMEOUT must be a positive integer"
dry_run && die "--dry-run is not supported: this script only reads"

require_tool kubectl "https://kubernetes.io/docs/tasks/tools/"
require_tool curl
use_project_context

mapfile -t PODS < <("${KUBECTL[@]}" get pods --namespace "$NAMESPACE" -l "$POD_SELECTOR" \
  --field-selector=status.phase=Running -o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}')
((${#PODS[@]} >= 2)) ||
  die "found ${#PODS[@]} running pod(s) of $APP_NAME in namespace $NAMESPACE; the check needs two (deploy with --replicas 2 or more, and wait for them: kubectl get spinapp $APP_NAME --namespace $NAMESPACE)"
POD_A=${PODS[0]} POD_B=${PODS[1]}

# The admin token: from the environment, or from the Secret (never printed, never in argv).
TOKEN="${CACHE_ADMIN_TOKEN:-}"
if [[ -z "$TOKEN" ]]; then
  token_b64="$("${KUBECTL[@]}" get secret "$SECRET_NAME" --namespace "$NAMESPACE" \
    -o 'jsonpath={.data.cache-admin-token}' 2>/dev/null || true)"
  [[ -n "$token_b64" ]] && TOKEN="$(printf '%s' "$token_b64" | base64 -d)"
fi

# forward POD VAR: port-forward a free local port to POD's port 80; VAR receives the local port.
forward() {
  local pod=$1 log port="" deadline
  log="$(mktemp)"
  TEMP_FILES+=("$log")
  "${KUBECTL[@]}" port-forward --namespace "$NAMESPACE" "pod/$pod" :80 >"$log" 2>&1 &
  BACKGROUND_PIDS+=($!)
  deadline=$((SECONDS + FORWARD_TIMEOUT))
  while ((SECONDS < deadline)); do
    if [[ "$(<"$log")" =~ Forwarding\ from\ 127\.0\.0\.1:([0-9]+) ]]; then
      port=${BASH_REMATCH[1]}
      break
    fi
    sleep 0.2
  done
  [[ -n "$port" ]] || die "kubectl port-forward to pod $pod did not start within ${FORWARD_TIMEOUT}s: $(<"$log")"
  printf -v "$2" '%s' "$port"
}

BODY_FILE="$(mktemp)"
TEMP_FILES+=("$BODY_FILE")
STATUS="" FROM_CACHE="" BODY=""

# request METHOD PORT PATH: sets STATUS, FROM_CACHE (x-served-from-cache) and BODY.
request() {
  local method=$1 port=$2 path=$3 headers line token=${TOKEN//\\/\\\\}
  local -a auth=()
  if [[ "$method" == DELETE && -n "$TOKEN" ]]; then
    auth=(-K -)
  fi
  headers="$(printf 'header = "Authorization: Bearer %s"\n' "${token//\"/\\\"}" |
    curl -sS --max-time 30 -X "$method" -D - -o "$BODY_FILE" ${auth[@]+"${auth[@]}"} "http://127.0.0.1:$port$path")" ||
    die "$method $path through port $port failed (curl)"
  STATUS="" FROM_CACHE=""
  while IFS= read -r line; do
    line="${line%$'\r'}"
    if [[ "$line" =~ ^HTTP/[0-9.]+\ ([0-9]{3}) ]]; then
      STATUS=${BASH_REMATCH[1]}
    elif [[ "${line,,}" =~ ^x-served-from-cache:\ *(.*)$ ]]; then
      FROM_CACHE=${BASH_REMATCH[1]}
    fi
  done <<<"$headers"
  BODY="$(<"$BODY_FILE")"
}

FAILED=0
pass() { printf 'PASS  %s\n' "$*"; }
fail() {
  printf 'FAIL  %s\n' "$*"
  FAILED=1
}

expect_items() { # STEP WHO PORT WANT_FROM_CACHE
  request GET "$3" /items
  if [[ "$STATUS" == 200 && "$FROM_CACHE" == "$4" ]]; then
    pass "$1 GET /items through $2: 200, x-served-from-cache: $4"
  else
    fail "$1 GET /items through $2: expected 200 with x-served-from-cache: $4, got ${STATUS:-no status} with '${FROM_CACHE:-no header}'"
  fi
}

expect_clear() { # STEP WHO PORT
  request DELETE "$3" /cache
  if [[ "$STATUS" == 204 ]]; then
    pass "$1 DELETE /cache through $2: 204"
  else
    fail "$1 DELETE /cache through $2: expected 204, got ${STATUS:-no status}${TOKEN:+ (token from CACHE_ADMIN_TOKEN or Secret $SECRET_NAME)}"
  fi
}

forward "$POD_A" PORT_A
forward "$POD_B" PORT_B
log "pod A: $POD_A (127.0.0.1:$PORT_A), pod B: $POD_B (127.0.0.1:$PORT_B)"

expect_clear 1 "A" "$PORT_A"
expect_items 2 "A" "$PORT_A" false
BODY_A=$BODY
expect_items 3 "B" "$PORT_B" true
SHARED=1
[[ "$FROM_CACHE" == true ]] || SHARED=0
if [[ "$FROM_CACHE" == true && "$BODY" != "$BODY_A" ]]; then
  fail "3 the body from B differs from the body A stored"
fi
expect_clear 4 "B" "$PORT_B"
expect_items 5 "A" "$PORT_A" false
[[ "$FROM_CACHE" == false ]] || SHARED=0

if ((!SHARED)); then
  printf 'The pods do not share one store: B missed what A stored, or A kept what B cleared. Without a\n' >&2
  printf 'runtime config each pod falls back to its own SQLite file: check spec.runtimeConfig of the SpinApp\n' >&2
  printf 'and the redis-url in Secret %s (deploy/render-runtime-config.sh, deploy/deploy-app.sh).\n' "$SECRET_NAME" >&2
fi
if ((FAILED)); then
  die "the pods of $APP_NAME do not behave as one shared cache"
fi
log "pods $POD_A and $POD_B share one cache"
