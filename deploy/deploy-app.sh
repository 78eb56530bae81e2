#!/usr/bin/env bash
# Build and push cache-with-az-redis to the registry, then deploy it to the cluster as a SpinApp.
set -euo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEPLOY_DIR/.." && pwd)"
# shellcheck source=lib.sh
source "$DEPLOY_DIR/lib.sh"

usage() {
  cat <<'USAGE'
Usage: deploy/deploy-app.sh [--mode secret|scaffold] [--push-only] [--tag TAG] [--replicas N]
                            [--namespace NS] [--runtime-config PATH] [--redis managed|cache]
                            [--context NAME] [--skip-login] [--skip-push] [--no-build]
                            [--dry-run] [--help]

1. spin registry login <registry> --username <token name> --password-stdin   (password on stdin,
   without any trailing CR/LF), then a check that the registry accepts those credentials (spin
   stores them even when the registry refuses them): a refusal stops here, before any build
2. spin registry push --build <registry>/cache-with-az-redis:<tag>   (--no-build: push dist/ as built)
3. deploy, depending on --mode:
   secret (default)  a Secret <app>-secrets holding the Redis URL and the admin token, and a SpinApp
                     from deploy/spinapp.yaml that reads both from the Secret
                     (runtimeConfig.keyValueStores / variables with secretKeyRef); both are applied
                     server-side from stdin. The SpinApp's pods carry a checksum of the Secret, so a
                     new Redis key or admin token rolls the pods.
   scaffold          `spin kube scaffold --from <image> --runtime-config-file <file> --replicas N`
                     piped to `kubectl apply --server-side -f -` (the whole runtime config goes into
                     a Secret; cache_admin_token is not set, so DELETE /cache needs no token); the
                     pods are restarted when that Secret changed
   Step 3 acts only on the project's cluster: the current kubectl context must be AKS_NAME
   [aks-cache-with-az-redis], unless --context names the context to use.

Options:
  --mode MODE             secret | scaffold                        [secret]
  --push-only             steps 1 and 2 only: print the pushed image reference on stdout and touch
                          no cluster (no kubectl, no runtime config needed). Try the artifact with
                          spin up --from <reference>
  --tag TAG               image tag       [TAG, or the git short commit; <commit>-dirty-<UTC time>
                                           when tracked files have uncommitted changes]
  --replicas N            replicas                                 [REPLICAS=2]
  --namespace NS          Kubernetes namespace                     [NAMESPACE=default]
  --runtime-config PATH   rendered runtime config                  [runtime-config/azure.rendered.toml]
  --redis KIND            managed | cache: the Redis kind the runtime config must point at
                                                                   [REDIS_KIND, as saved; managed]
  --context NAME          the kubectl context to deploy to (instead of requiring AKS_NAME)
  --skip-login            do not run spin registry login (already logged in)
  --skip-push             do not build/push (deploy an image that is already in the registry)
  --no-build              push the component already built in dist/ (npm run build) as it is
  --dry-run               print the commands; nothing is pushed or applied
  -h, --help              show this help

Environment:
  REGISTRY            registry host[:port]          [$ACR_NAME.azurecr.io]
  REGISTRY_USERNAME   registry user                 [$ACR_TOKEN_NAME = spin-push]
  REGISTRY_PASSWORD   registry password; when unset it is read from ACR_TOKEN_FILE
                      [~/.config/cache-with-az-redis/$ACR_NAME-push-token, written by provision.sh]
  SSL_CERT_FILE       CA bundle to trust for the registry (Spin and the credential check both use it)
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
NO_BUILD=0
PUSH_ONLY=0
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
  --redis)
    redis_flag $# "${2:-}"
    shift
    ;;
  --context)
    context_flag $# "${2:-}"
    shift
    ;;
  --push-only) PUSH_ONLY=1 ;;
  --skip-login) SKIP_LOGIN=1 ;;
  --skip-push) SKIP_PUSH=1 ;;
  --no-build) NO_BUILD=1 ;;
  *) common_flag "$1" ;;
  esac
  shift
done

load_common_config existing
# Secrets handed in through the environment stay in this shell: spin and kubectl do not inherit them.
export -n REGISTRY_PASSWORD REDIS_URL CACHE_ADMIN_TOKEN 2>/dev/null || true
[[ -n "$NAMESPACE_ARG" ]] && NAMESPACE=$NAMESPACE_ARG
[[ -n "${REGISTRY:-}" ]] || require_names ACR_NAME
REGISTRY="${REGISTRY:-${ACR_NAME}.azurecr.io}"
REGISTRY_USERNAME="${REGISTRY_USERNAME:-$ACR_TOKEN_NAME}"
IMAGE_NAME="${IMAGE_NAME:-cache-with-az-redis}"
RUNTIME_CONFIG="$(abspath "${RUNTIME_CONFIG:-$REPO_ROOT/runtime-config/azure.rendered.toml}")"
ACR_TOKEN_FILE="$(abspath "$ACR_TOKEN_FILE")"
SECRET_NAME="${APP_NAME}-secrets"
TEMPLATE="$DEPLOY_DIR/spinapp.yaml"

# default_tag: the short commit; a tree with uncommitted changes to tracked files gets a tag of its
# own, so an image built from it never hides behind (or overwrites) the clean commit's tag.
default_tag() {
  local sha
  sha="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null)" || return 0
  if [[ -n "$(git -C "$REPO_ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    printf '%s-dirty-%s' "$sha" "$(date -u +%Y%m%d%H%M%S)"
  else
    printf '%s' "$sha"
  fi
}
if [[ -z "$TAG" ]]; then
  TAG="$(default_tag)"
  [[ -n "$TAG" ]] || die "set --tag (or TAG): no git commit to derive one from"
  [[ "$TAG" == *-dirty-* ]] && warn "tracked files have uncommitted changes: tagging the image $TAG"
fi
IMAGE="${REGISTRY}/${IMAGE_NAME}:${TAG}"

# ---- validation: everything is checked before the first side effect ----------------------------
case "$MODE" in secret | scaffold) ;; *) die "--mode must be 'secret' or 'scaffold' (got '$MODE')" ;; esac
((PUSH_ONLY && SKIP_PUSH)) && die "--push-only and --skip-push exclude each other"
if ((NO_BUILD && !SKIP_PUSH)) && [[ ! -f "$REPO_ROOT/dist/cache-with-az-redis.wasm" ]]; then
  die "--no-build: $REPO_ROOT/dist/cache-with-az-redis.wasm does not exist; run npm run build first"
fi
[[ "$REPLICAS" =~ ^[1-9][0-9]*$ ]] || die "--replicas must be a positive integer (got '$REPLICAS')"
dns_label='^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
[[ "$APP_NAME" =~ $dns_label && ${#APP_NAME} -le 53 ]] || die "APP_NAME must be a DNS label of at most 53 characters (got '$APP_NAME')"
[[ "$NAMESPACE" =~ $dns_label ]] || die "invalid namespace '$NAMESPACE'"
[[ "$REGISTRY" =~ ^[A-Za-z0-9.-]+(:[0-9]+)?$ ]] || die "invalid REGISTRY '$REGISTRY'"
[[ "$IMAGE_NAME" =~ ^[a-z0-9]+([._/-][a-z0-9]+)*$ ]] || die "invalid IMAGE_NAME '$IMAGE_NAME'"
[[ "$TAG" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "invalid tag '$TAG'"
if [[ "$MODE" == scaffold && "$APP_NAME" != "${IMAGE_NAME##*/}" ]] && ((!PUSH_ONLY)); then
  warn "spin kube scaffold names the SpinApp after the image ('${IMAGE_NAME##*/}'), not APP_NAME ('$APP_NAME')"
fi

if ! dry_run; then
  require_tool spin "install Spin >= 3.2: https://spinframework.dev/install"
  ((SKIP_LOGIN)) || require_tool curl "needed to check the registry credentials"
  ((PUSH_ONLY)) || require_tool kubectl "https://kubernetes.io/docs/tasks/tools/"
fi

PASSWORD_SOURCE=""
if ((!SKIP_LOGIN)) && ! dry_run; then
  if [[ -n "${REGISTRY_PASSWORD:-}" ]]; then
    PASSWORD_SOURCE="the REGISTRY_PASSWORD environment variable"
  elif [[ -r "$ACR_TOKEN_FILE" && -s "$ACR_TOKEN_FILE" ]]; then
    PASSWORD_SOURCE="$ACR_TOKEN_FILE"
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

# check_redis_kind URL: an Azure Redis URL must be of the kind chosen (--redis / REDIS_KIND), so a
# stale runtime config never sends the app to the other cache.
check_redis_kind() {
  local host=${1#*@}
  host=${host%%/*}
  case "$REDIS_KIND:$host" in
  managed:*.redis.cache.windows.net:*)
    die "the Redis URL points at Azure Cache for Redis, but the Redis kind is 'managed': render the config again (deploy/render-runtime-config.sh --redis managed) or pass --redis cache"
    ;;
  cache:*.redis.azure.net:*)
    die "the Redis URL points at Azure Managed Redis, but the Redis kind is 'cache': render the config again (deploy/render-runtime-config.sh --redis cache) or pass --redis managed"
    ;;
  esac
}

if ((!PUSH_ONLY)) && ! dry_run; then
  if [[ "$MODE" == secret ]]; then
    if [[ -z "${REDIS_URL:-}" ]]; then
      check_rendered_config REDIS_URL
      REDIS_URL="$(read_url_from_config "$RUNTIME_CONFIG")"
      [[ -n "$REDIS_URL" ]] || die "no url line found in $RUNTIME_CONFIG"
    fi
    [[ "$REDIS_URL" =~ ^rediss?://[^[:space:]\"]+$ ]] || die "the Redis URL must start with rediss:// (or redis://) and contain no spaces or quotes"
    [[ "$REDIS_URL" == *'<'* ]] && die "the Redis URL still contains a placeholder"
    check_redis_kind "$REDIS_URL"
    [[ -f "$TEMPLATE" ]] || die "template $TEMPLATE is missing"
  else
    check_rendered_config
    check_redis_kind "$(read_url_from_config "$RUNTIME_CONFIG")"
    spin kube --help >/dev/null 2>&1 || die "the spin kube plugin is missing: spin plugins update && spin plugins install kube"
  fi
fi
((PUSH_ONLY)) || use_project_context

cd "$REPO_ROOT"

# ---- 1. registry login and credential check -----------------------------------------------------
# read_registry_password: the password in REGISTRY_PASSWORD, without CR or LF anywhere (a token file
# written by `az ... -o tsv` ends with a newline; Spin would send it as part of the password).
read_registry_password() {
  local pw
  if [[ -n "${REGISTRY_PASSWORD:-}" ]]; then
    pw=$REGISTRY_PASSWORD
  else
    pw="$(<"$ACR_TOKEN_FILE")"
  fi
  pw="${pw//$'\r'/}"
  REGISTRY_PASSWORD="${pw//$'\n'/}"
  [[ -n "$REGISTRY_PASSWORD" ]] || die "the registry password from $PASSWORD_SOURCE is empty"
}

# curl_config_user: a curl config line carrying USER:PASSWORD (fed to `curl -K -` on stdin, so the
# password never appears in argv).
curl_config_user() {
  local v="$REGISTRY_USERNAME:$REGISTRY_PASSWORD"
  v="${v//\\/\\\\}"
  printf 'user = "%s"\n' "${v//\"/\\\"}"
}

CURL_TLS=()
[[ -n "${SSL_CERT_FILE:-}" ]] && CURL_TLS=(--cacert "$SSL_CERT_FILE")

# check_registry_credentials: ask the registry whether it accepts the credentials, the way an OCI
# client does: GET /v2/ without them; on a Basic challenge repeat it with them; on a Bearer
# challenge (ACR) request a push token for the repository from the realm with them. 200 = accepted.
check_registry_credentials() {
  local headers line status="" challenge="" url code realm service
  headers="$(curl -sS -o /dev/null -D - --max-time 30 ${CURL_TLS[@]+"${CURL_TLS[@]}"} "https://$REGISTRY/v2/")" ||
    die "cannot reach the registry https://$REGISTRY/v2/ to check the credentials (is REGISTRY right, and its certificate trusted? set SSL_CERT_FILE for a private CA)"
  while IFS= read -r line; do
    line="${line%$'\r'}"
    if [[ "$line" =~ ^HTTP/[0-9.]+\ ([0-9]{3}) ]]; then
      status=${BASH_REMATCH[1]} challenge=""
    elif [[ "${line,,}" == www-authenticate:* ]]; then
      challenge="${line#*:}"
      challenge="${challenge# }"
    fi
  done <<<"$headers"
  case "$status:${challenge%% *}" in
  200:*)
    log "registry $REGISTRY asks for no credentials"
    return 0
    ;;
  401:[Bb]asic) url="https://$REGISTRY/v2/" ;;
  401:[Bb]earer)
    [[ "$challenge" =~ realm=\"([^\"]+)\" ]] || die "registry $REGISTRY sent a Bearer challenge without a realm"
    realm=${BASH_REMATCH[1]}
    service=""
    [[ "$challenge" =~ service=\"([^\"]+)\" ]] && service=${BASH_REMATCH[1]}
    [[ "$realm" =~ ^https://[A-Za-z0-9.:/_-]+$ && "$service" =~ ^[A-Za-z0-9.:_-]*$ ]] ||
      die "registry $REGISTRY sent an unexpected token realm"
    url="$realm?service=$service&scope=repository:$IMAGE_NAME:pull,push"
    ;;
  *) die "registry $REGISTRY answered /v2/ with HTTP ${status:-?}; cannot check the credentials" ;;
  esac
  code="$(curl_config_user | curl -sS -o /dev/null -w '%{http_code}' --max-time 30 -K - ${CURL_TLS[@]+"${CURL_TLS[@]}"} "$url")" ||
    die "could not check the credentials with registry $REGISTRY"
  case "$code" in
  200) log "registry $REGISTRY accepts user $REGISTRY_USERNAME" ;;
  401 | 403) die "registry $REGISTRY refused user $REGISTRY_USERNAME with the password from $PASSWORD_SOURCE (HTTP $code); nothing was built or pushed. Check the user and issue a new password (see deploy/provision.sh --help)" ;;
  *) die "registry $REGISTRY answered HTTP $code to the credential check for user $REGISTRY_USERNAME; nothing was built or pushed" ;;
  esac
}

if ((SKIP_LOGIN)); then
  log "skipping registry login"
elif dry_run; then
  print_cmd "$(quote_cmd spin registry login --username "$REGISTRY_USERNAME" --password-stdin "$REGISTRY") < $(quote_arg "$ACR_TOKEN_FILE")  # or REGISTRY_PASSWORD; CR/LF removed"
  print_cmd "# check the credentials: $(quote_cmd curl -sS -D - "https://$REGISTRY/v2/"), then the Basic or Bearer challenge with the credentials on stdin (curl -K -)"
else
  read_registry_password
  log "logging in to $REGISTRY as $REGISTRY_USERNAME (password from $PASSWORD_SOURCE)"
  printf '%s' "$REGISTRY_PASSWORD" | spin registry login --username "$REGISTRY_USERNAME" --password-stdin "$REGISTRY" >&2
  check_registry_credentials
fi

# ---- 2. build and push --------------------------------------------------------------------------
PUSH=(spin registry push --build "$IMAGE")
((NO_BUILD)) && PUSH=(spin registry push "$IMAGE")
if ((SKIP_PUSH)); then
  log "skipping build and push; deploying $IMAGE"
else
  log "$( ((NO_BUILD)) && echo "pushing dist/ as built" || echo "building and pushing") to $IMAGE"
  if dry_run; then
    run "${PUSH[@]}"
  else
    "${PUSH[@]}" >&2
  fi
fi

if ((PUSH_ONLY)); then
  dry_run && log "dry run: nothing was pushed"
  dry_run || log "pushed $IMAGE; try it locally with: spin up --from $IMAGE"
  printf '%s\n' "$IMAGE"
  exit 0
fi

# ---- 3. deploy ----------------------------------------------------------------------------------
b64() { base64 | tr -d '\n'; }

secret_data() { # values come from the variables of this shell, never from argv
  printf '  redis-url: %s\n' "$(printf '%s' "$REDIS_URL" | b64)"
  printf '  cache-admin-token: %s\n' "$(printf '%s' "$CACHE_ADMIN_TOKEN" | b64)"
}

secret_manifest() {
  printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n' "$SECRET_NAME" "$NAMESPACE"
  printf '  labels:\n    app.kubernetes.io/name: %s\ntype: Opaque\ndata:\n' "$APP_NAME"
  secret_data
}

# secret_checksum: the first 16 hex digits of the SHA-256 of the Secret's data; it only tells
# whether the data changed (the values are high-entropy keys and tokens).
secret_checksum() {
  local sum _
  read -r sum _ < <(secret_data | sha256sum)
  printf '%s' "${sum:0:16}"
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
  t="${t//'${SECRET_CHECKSUM}'/$SECRET_CHECKSUM}"
  [[ "$t" != *'${'* ]] || die "unfilled placeholder left in $TEMPLATE"
  printf '%s\n' "$t"
}

resolve_admin_token() {
  if [[ -n "${CACHE_ADMIN_TOKEN:-}" ]]; then
    log "admin token: from CACHE_ADMIN_TOKEN"
    return 0
  fi
  local existing
  existing="$("${KUBECTL[@]}" get secret "$SECRET_NAME" --namespace "$NAMESPACE" \
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

# Server-side apply: the Secret's data is not copied into a last-applied-configuration annotation.
APPLY=(apply --server-side --field-manager=cache-with-az-redis --namespace "$NAMESPACE" -f -)

deploy_secret_mode() {
  if dry_run; then
    print_cmd "$(quote_cmd "${KUBECTL[@]}" "${APPLY[@]}") <<< Secret $SECRET_NAME (redis-url from REDIS_URL or $(quote_arg "$RUNTIME_CONFIG"), cache-admin-token; values not shown)"
    print_cmd "$(quote_cmd "${KUBECTL[@]}" "${APPLY[@]}") <<'EOF'"
    SECRET_CHECKSUM="<sha256 of the Secret data>"
    spinapp_manifest
    printf 'EOF\n'
    return 0
  fi
  resolve_admin_token
  SECRET_CHECKSUM="$(secret_checksum)"
  log "applying Secret $SECRET_NAME"
  secret_manifest | "${KUBECTL[@]}" "${APPLY[@]}" >&2
  log "applying SpinApp $APP_NAME ($REPLICAS replicas, Secret checksum $SECRET_CHECKSUM)"
  spinapp_manifest | "${KUBECTL[@]}" "${APPLY[@]}" >&2
}

deploy_scaffold_mode() {
  local name=${IMAGE_NAME##*/} before after
  warn "--mode scaffold does not set cache_admin_token: DELETE /cache is open to anyone who can reach the app"
  if dry_run; then
    print_cmd "$(quote_cmd spin kube scaffold --from "$IMAGE" --runtime-config-file "$RUNTIME_CONFIG" --replicas "$REPLICAS") | $(quote_cmd "${KUBECTL[@]}" "${APPLY[@]}")"
    print_cmd "# when Secret $name-runtime-config changed: $(quote_cmd "${KUBECTL[@]}" rollout restart "deployment/$name" --namespace "$NAMESPACE")"
    return 0
  fi
  before="$("${KUBECTL[@]}" get secret "$name-runtime-config" --namespace "$NAMESPACE" \
    -o 'jsonpath={.data.runtime-config\.toml}' 2>/dev/null || true)"
  log "applying the scaffolded SpinApp and its runtime-config Secret"
  spin kube scaffold --from "$IMAGE" --runtime-config-file "$RUNTIME_CONFIG" --replicas "$REPLICAS" |
    "${KUBECTL[@]}" "${APPLY[@]}" >&2
  after="$(b64 <"$RUNTIME_CONFIG")"
  # The operator does not watch the Secret: running pods keep the old runtime config until restarted.
  if [[ -n "$before" && "$before" != "$after" ]]; then
    log "the runtime config changed: restarting the pods of $name"
    "${KUBECTL[@]}" rollout restart "deployment/$name" --namespace "$NAMESPACE" >&2
  fi
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
log "  deploy/verify.sh          # checks that two pods share the Redis cache"
log "  kubectl port-forward --namespace $NAMESPACE svc/$APP_SVC 8080:80"
if [[ "$MODE" == secret ]]; then
  log "  CACHE_ADMIN_TOKEN=\"\$(kubectl get secret $SECRET_NAME --namespace $NAMESPACE -o jsonpath='{.data.cache-admin-token}' | base64 -d)\" npm run smoke -- http://localhost:8080"
else
  log "  npm run smoke -- http://localhost:8080"
fi
