#!/usr/bin/env bash
# Build and push cache-with-az-redis to the registry, then deploy it to the cluster as a SpinApp.
set -euo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEPLOY_DIR/.." && pwd)"
# shellcheck source=lib.sh
source "$DEPLOY_DIR/lib.sh"

usage() {
  cat <<'USAGE'
Usage: deploy/deploy-app.sh [--mode secret|scaffold] [--tag TAG] [--replicas N] [--namespace NS]
                            [--runtime-config PATH] [--skip-login] [--skip-push] [--dry-run] [--help]

1. spin registry login <registry> --username <token name> --password-stdin   (password on stdin)
2. spin registry push --build <registry>/cache-with-az-redis:<tag>
3. deploy, depending on --mode:
   secret (default)  a Secret <app>-secrets holding the Redis URL and the admin token, created with
                     `kubectl apply -f -` from stdin, and a SpinApp from deploy/spinapp.yaml that
                     reads both from the Secret (runtimeConfig.keyValueStores / variables with
                     secretKeyRef), live on /healthz and ready on /readyz (which reads the store)
   scaffold          `spin kube scaffold --from <image> --runtime-config-file <file> --replicas N`
                     piped to `kubectl apply -f -` (the whole runtime config goes into a Secret;
                     cache_admin_token is not set, so DELETE /cache needs no token)

Options:
  --mode MODE             secret | scaffold                        [secret]
  --tag TAG               image tag                                [TAG, or the git short commit]
  --replicas N            replicas                                 [REPLICAS=2]
  --namespace NS          Kubernetes namespace                     [NAMESPACE=default]
  --runtime-config PATH   rendered runtime config                  [runtime-config/azure.rendered.toml]
  --skip-login            do not run spin registry login (already logged in)
  --skip-push             do not build/push (deploy an image that is already in the registry)
  --dry-run               print the commands; nothing is pushed or applied
  -h, --help              show this help

Environment:
  REGISTRY            registry host                 [$ACR_NAME.azurecr.io]
  REGISTRY_USERNAME   registry user                 [$ACR_TOKEN_NAME = spin-push]
  REGISTRY_PASSWORD   registry password; when unset it is read from ACR_TOKEN_FILE
                      [~/.config/cache-with-az-redis/$ACR_NAME-push-token, written by provision.sh]
  REDIS_URL           Redis URL for --mode secret; when unset it is read from the url line of the
                      rendered runtime config
  CACHE_ADMIN_TOKEN   admin token for DELETE /cache (--mode secret); when unset the token already
                      in the Secret is kept, or a new one is generated with `openssl rand -hex 32`
  APP_NAME [cache-with-az-redis]  IMAGE_NAME [cache-with-az-redis]  ACR_NAME, NAME_SUFFIX (see provision.sh)

Secrets are never printed nor passed as command-line arguments. Read the admin token back with
  kubectl get secret cache-with-az-redis-secrets -o jsonpath='{.data.cache-admin-token}' | base64 -d
USAGE
}

MODE=secret
TAG="${TAG:-}"
REPLICAS="${REPLICAS:-2}"
RUNTIME_CONFIG="${RUNTIME_CONFIG:-}"
SKIP_LOGIN=0
SKIP_PUSH=0
NAMESPACE_ARG=""
while (($#)); do
  case "$1" in
  --mode)
    need_value "$1" $#
    MODE=$2
    shift
    ;;
  --tag)
    need_value "$1" $#
    TAG=$2
    shift
    ;;
  --replicas)
    need_value "$1" $#
    REPLICAS=$2
    shift
    ;;
  --namespace | -n)
    need_value "$1" $#
    NAMESPACE_ARG=$2
    shift
    ;;
  --runtime-config)
    need_value "$1" $#
    RUNTIME_CONFIG=$2
    shift
    ;;
  --skip-login) SKIP_LOGIN=1 ;;
  --skip-push) SKIP_PUSH=1 ;;
  *) common_flag "$1" ;;
  esac
  shift
done

load_common_config
# Secrets handed in through the environment stay in this shell: spin and kubectl do not inherit them.
export -n REGISTRY_PASSWORD REDIS_URL CACHE_ADMIN_TOKEN 2>/dev/null || true
[[ -n "$NAMESPACE_ARG" ]] && NAMESPACE=$NAMESPACE_ARG
REGISTRY="${REGISTRY:-${ACR_NAME}.azurecr.io}"
REGISTRY_USERNAME="${REGISTRY_USERNAME:-$ACR_TOKEN_NAME}"
IMAGE_NAME="${IMAGE_NAME:-cache-with-az-redis}"
RUNTIME_CONFIG="$(abspath "${RUNTIME_CONFIG:-$REPO_ROOT/runtime-config/azure.rendered.toml}")"
ACR_TOKEN_FILE="$(abspath "$ACR_TOKEN_FILE")"
SECRET_NAME="${APP_NAME}-secrets"
TEMPLATE="$DEPLOY_DIR/spinapp.yaml"
if [[ -z "$TAG" ]]; then
  TAG="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || true)"
  [[ -n "$TAG" ]] || die "set --tag (or TAG): no git commit to derive one from"
fi
IMAGE="${REGISTRY}/${IMAGE_NAME}:${TAG}"

# ---- validation: everything is checked before the first side effect ----------------------------
case "$MODE" in secret | scaffold) ;; *) die "--mode must be 'secret' or 'scaffold' (got '$MODE')" ;; esac
[[ "$REPLICAS" =~ ^[1-9][0-9]*$ ]] || die "--replicas must be a positive integer (got '$REPLICAS')"
dns_label='^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
[[ "$APP_NAME" =~ $dns_label && ${#APP_NAME} -le 53 ]] || die "APP_NAME must be a DNS label of at most 53 characters (got '$APP_NAME')"
[[ "$NAMESPACE" =~ $dns_label ]] || die "invalid namespace '$NAMESPACE'"
[[ "$REGISTRY" =~ ^[A-Za-z0-9.-]+(:[0-9]+)?$ ]] || die "invalid REGISTRY '$REGISTRY'"
[[ "$IMAGE_NAME" =~ ^[a-z0-9]+([._/-][a-z0-9]+)*$ ]] || die "invalid IMAGE_NAME '$IMAGE_NAME'"
[[ "$TAG" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "invalid tag '$TAG'"
if [[ "$MODE" == scaffold && "$APP_NAME" != "${IMAGE_NAME##*/}" ]]; then
  warn "spin kube scaffold names the SpinApp after the image ('${IMAGE_NAME##*/}'), not APP_NAME ('$APP_NAME')"
fi

if ! dry_run; then
  require_tool spin "install Spin >= 3.2: https://spinframework.dev/install"
  require_tool kubectl "https://kubernetes.io/docs/tasks/tools/"
fi

PASSWORD_SOURCE=""
if ((!SKIP_LOGIN)) && ! dry_run; then
  if [[ -n "${REGISTRY_PASSWORD:-}" ]]; then
    PASSWORD_SOURCE="env"
  elif [[ -r "$ACR_TOKEN_FILE" && -s "$ACR_TOKEN_FILE" ]]; then
    PASSWORD_SOURCE="file"
  else
    die "no registry password: set REGISTRY_PASSWORD, create $ACR_TOKEN_FILE (deploy/provision.sh does), or pass --skip-login"
  fi
fi

# read_url_from_config FILE: print the url of [key_value_store.default] (first url line).
read_url_from_config() {
  sed -n 's/^[[:space:]]*url[[:space:]]*=[[:space:]]*"\([^"]*\)"[[:space:]]*$/\1/p' "$1" | head -n 1
}

check_rendered_config() {
  [[ -f "$RUNTIME_CONFIG" ]] || die "runtime config $RUNTIME_CONFIG not found: run deploy/render-runtime-config.sh first${1:+ (or set $1)}"
  if grep -q '<[A-Z-]*>' "$RUNTIME_CONFIG"; then
    die "$RUNTIME_CONFIG still contains placeholders; render it with deploy/render-runtime-config.sh"
  fi
}

if [[ "$MODE" == secret && -z "${REDIS_URL:-}" ]] && ! dry_run; then
  check_rendered_config REDIS_URL
  REDIS_URL="$(read_url_from_config "$RUNTIME_CONFIG")"
  [[ -n "$REDIS_URL" ]] || die "no url line found in $RUNTIME_CONFIG"
fi
if [[ "$MODE" == secret ]] && ! dry_run; then
  [[ "$REDIS_URL" =~ ^rediss?://[^[:space:]\"]+$ ]] || die "the Redis URL must start with rediss:// (or redis://) and contain no spaces or quotes"
  [[ "$REDIS_URL" == *'<'* ]] && die "the Redis URL still contains a placeholder"
  [[ -f "$TEMPLATE" ]] || die "template $TEMPLATE is missing"
fi
if [[ "$MODE" == scaffold ]] && ! dry_run; then
  check_rendered_config
  spin kube --help >/dev/null 2>&1 || die "the spin kube plugin is missing: spin plugins update && spin plugins install kube"
fi

cd "$REPO_ROOT"

# ---- 1. registry login --------------------------------------------------------------------------
if ((SKIP_LOGIN)); then
  log "skipping registry login"
elif dry_run; then
  print_cmd "$(quote_cmd spin registry login --username "$REGISTRY_USERNAME" --password-stdin "$REGISTRY") < $(quote_arg "$ACR_TOKEN_FILE")  # or REGISTRY_PASSWORD on stdin"
else
  log "logging in to $REGISTRY as $REGISTRY_USERNAME"
  if [[ "$PASSWORD_SOURCE" == env ]]; then
    printf '%s' "$REGISTRY_PASSWORD" | spin registry login --username "$REGISTRY_USERNAME" --password-stdin "$REGISTRY"
  else
    spin registry login --username "$REGISTRY_USERNAME" --password-stdin "$REGISTRY" <"$ACR_TOKEN_FILE"
  fi
fi

# ---- 2. build and push --------------------------------------------------------------------------
if ((SKIP_PUSH)); then
  log "skipping build and push; deploying $IMAGE"
else
  log "building and pushing $IMAGE"
  run spin registry push --build "$IMAGE"
fi

# ---- 3. deploy ----------------------------------------------------------------------------------
b64() { base64 | tr -d '\n'; }

secret_manifest() { # values come from the environment of this shell, never from argv
  printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n' "$SECRET_NAME" "$NAMESPACE"
  printf '  labels:\n    app.kubernetes.io/name: %s\ntype: Opaque\ndata:\n' "$APP_NAME"
  printf '  redis-url: %s\n' "$(printf '%s' "$REDIS_URL" | b64)"
  printf '  cache-admin-token: %s\n' "$(printf '%s' "$CACHE_ADMIN_TOKEN" | b64)"
}

# shellcheck disable=SC2016  # the ${...} placeholders are literal text in the template
spinapp_manifest() {
  local t
  t="$(<"$TEMPLATE")"
  t="${t//'${APP_NAME}'/$APP_NAME}"
  t="${t//'${NAMESPACE}'/$NAMESPACE}"
  t="${t//'${IMAGE}'/$IMAGE}"
  t="${t//'${REPLICAS}'/$REPLICAS}"
  t="${t//'${SECRET_NAME}'/$SECRET_NAME}"
  [[ "$t" != *'${'* ]] || die "unfilled placeholder left in $TEMPLATE"
  printf '%s\n' "$t"
}

resolve_admin_token() {
  if [[ -n "${CACHE_ADMIN_TOKEN:-}" ]]; then
    log "admin token: from CACHE_ADMIN_TOKEN"
    return 0
  fi
  local existing
  existing="$(kubectl get secret "$SECRET_NAME" --namespace "$NAMESPACE" \
    -o 'jsonpath={.data.cache-admin-token}' 2>/dev/null || true)"
  if [[ -n "$existing" ]]; then
    CACHE_ADMIN_TOKEN="$(printf '%s' "$existing" | base64 -d)"
    log "admin token: keeping the one already stored in Secret $SECRET_NAME"
    return 0
  fi
  require_tool openssl "or set CACHE_ADMIN_TOKEN"
  CACHE_ADMIN_TOKEN="$(openssl rand -hex 32)"
  log "admin token: generated a new one"
}

deploy_secret_mode() {
  if dry_run; then
    print_cmd "$(quote_cmd kubectl apply --namespace "$NAMESPACE" -f -) <<< Secret $SECRET_NAME (redis-url from REDIS_URL or $(quote_arg "$RUNTIME_CONFIG"), cache-admin-token; values not shown)"
    print_cmd "$(quote_cmd kubectl apply --namespace "$NAMESPACE" -f -) <<'EOF'"
    spinapp_manifest
    printf 'EOF\n'
    return 0
  fi
  resolve_admin_token
  log "applying Secret $SECRET_NAME"
  secret_manifest | kubectl apply --namespace "$NAMESPACE" -f -
  log "applying SpinApp $APP_NAME ($REPLICAS replicas)"
  spinapp_manifest | kubectl apply --namespace "$NAMESPACE" -f -
}

deploy_scaffold_mode() {
  warn "--mode scaffold does not set cache_admin_token: DELETE /cache is open to anyone who can reach the app"
  if dry_run; then
    print_cmd "$(quote_cmd spin kube scaffold --from "$IMAGE" --runtime-config-file "$RUNTIME_CONFIG" --replicas "$REPLICAS") | $(quote_cmd kubectl apply --namespace "$NAMESPACE" -f -)"
    return 0
  fi
  log "applying the scaffolded SpinApp and its runtime-config Secret"
  spin kube scaffold --from "$IMAGE" --runtime-config-file "$RUNTIME_CONFIG" --replicas "$REPLICAS" |
    kubectl apply --namespace "$NAMESPACE" -f -
}

if [[ "$MODE" == secret ]]; then
  deploy_secret_mode
  APP_SVC=$APP_NAME
else
  deploy_scaffold_mode
  APP_SVC=${IMAGE_NAME##*/}
fi

if dry_run; then
  log "dry run: nothing was pushed or applied"
  exit 0
fi
log "Deployed $IMAGE. Next:"
log "  kubectl get spinapp $APP_SVC --namespace $NAMESPACE        # READY should reach $REPLICAS"
log "  kubectl port-forward --namespace $NAMESPACE svc/$APP_SVC 8080:80"
if [[ "$MODE" == secret ]]; then
  log "  CACHE_ADMIN_TOKEN=\"\$(kubectl get secret $SECRET_NAME --namespace $NAMESPACE -o jsonpath='{.data.cache-admin-token}' | base64 -d)\" npm run smoke -- http://localhost:8080"
else
  log "  npm run smoke -- http://localhost:8080"
fi
