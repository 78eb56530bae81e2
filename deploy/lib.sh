#!/usr/bin/env bash
# Shared helpers and shared defaults for deploy/*.sh. Sourced by the scripts, never run directly.
#
# Conventions:
#   * progress and errors go to stderr; with --dry-run the commands go to stdout;
#   * a secret (Redis key, registry password, admin token) is never passed as an argument to a child
#     process: it travels on stdin or through a file with mode 600, so it never shows in `ps`,
#     in shell traces or in the --dry-run listing.
# shellcheck disable=SC2034  # the defaults below are used by the scripts that source this file

DRY_RUN="${DRY_RUN:-0}"

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

dry_run() { [[ "$DRY_RUN" == 1 ]]; }

# need_value FLAG ARGC: a flag that takes a value must have one after it.
need_value() { [[ $2 -ge 2 ]] || die "$1 needs a value"; }

# common_flag ARG: the flags every script takes (--dry-run, --help); anything else is an error.
common_flag() {
  case "$1" in
  --dry-run) DRY_RUN=1 ;;
  -h | --help)
    usage
    exit 0
    ;;
  *) die "unknown argument: $1 (see --help)" ;;
  esac
}

# require_tool NAME [HINT]: stop early, before any side effect, when NAME is not on PATH.
require_tool() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is required but was not found on PATH${2:+ ($2)}"
}

# require_var NAME [HINT]: stop when the variable NAME is unset or empty.
require_var() {
  [[ -n "${!1:-}" ]] || die "$1 must be set${2:+ ($2)}"
}

# abspath PATH: PATH made absolute against the current directory (the file need not exist).
abspath() {
  if [[ "$1" == /* ]]; then printf '%s' "$1"; else printf '%s/%s' "$PWD" "$1"; fi
}

# quote_arg ARG: print ARG so that the printed command line can be pasted into a shell.
quote_arg() {
  local a=$1
  if [[ "$a" =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then
    printf '%s' "$a"
  elif [[ "$a" == *'$'* && "$a" != *[\"\\\`]* ]]; then
    # a reference to a value captured earlier in the dry-run listing, e.g. "$REDIS_ID"
    printf '"%s"' "$a"
  else
    printf "'%s'" "${a//\'/\'\\\'\'}"
  fi
}

quote_cmd() {
  local out="" a
  for a in "$@"; do out+="$(quote_arg "$a") "; done
  printf '%s' "${out% }"
}

# print_cmd TEXT: show a command line in the dry-run listing.
print_cmd() { printf '+ %s\n' "$*"; }

# run CMD...: run a command, or print it with --dry-run.
run() {
  if dry_run; then
    print_cmd "$(quote_cmd "$@")"
  else
    "$@"
  fi
}

# capture VAR CMD...: VAR=$(CMD...); with --dry-run print the assignment and set VAR to "$VAR" so
# that later printed commands read like a script.
capture() {
  local __var=$1 __out
  shift
  if dry_run; then
    print_cmd "$__var=\$($(quote_cmd "$@"))"
    printf -v "$__var" '$%s' "$__var"
  else
    __out="$("$@")"
    printf -v "$__var" '%s' "$__out"
  fi
}

# ---- names -------------------------------------------------------------------------------------
# The globally unique names (Redis, ACR) carry a random suffix chosen once by deploy/provision.sh and
# saved, with the other names and the Redis kind, in NAMES_FILE; every later run of every script reads
# them back, so a re-run (another machine user, Cloud Shell, a container) never creates a second
# Redis or registry. An environment variable still overrides any saved value.
CONFIG_DIR="${XDG_CONFIG_HOME:-${HOME:?HOME must be set}/.config}/cache-with-az-redis"
NAMES_FILE="${NAMES_FILE:-$CONFIG_DIR/names.env}"
SAVED_NAMES=(NAME_SUFFIX RESOURCE_GROUP LOCATION REDIS_KIND REDIS_NAME ACR_NAME AKS_NAME)

# load_saved_names: set each SAVED_NAMES variable that is still unset from NAMES_FILE. The file is
# parsed, never sourced: only KEY=value lines with a known key and a plain value are taken.
load_saved_names() {
  [[ -f "$NAMES_FILE" ]] || return 0
  local line key value
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" =~ ^([A-Z_]+)=([A-Za-z0-9._-]*)$ ]] || continue
    key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
    [[ " ${SAVED_NAMES[*]} " == *" $key "* ]] || continue
    [[ -n "${!key:-}" ]] || printf -v "$key" '%s' "$value"
  done <"$NAMES_FILE"
}

# save_names: write the names in use to NAMES_FILE (mode 600), so that later runs reuse them.
print_names() {
  local key
  for key in "${SAVED_NAMES[@]}"; do printf '%s=%s\n' "$key" "${!key}"; done
}
save_names() { write_private_file "$NAMES_FILE" print_names || die "cannot write $NAMES_FILE"; }

# new_suffix: six random lowercase hex digits (bash's RANDOM: no external tool needed).
new_suffix() { printf '%06x' $(((RANDOM << 15 | RANDOM) & 0xffffff)); }

# load_common_config new|existing: the shared names. With "new" (deploy/provision.sh) a missing suffix is
# drawn at random; the other scripts take the saved names, and require_names stops them when a name
# they need is still unknown.
load_common_config() {
  load_saved_names
  if [[ -z "${NAME_SUFFIX:-}" ]]; then
    if [[ "${1:-}" == new ]]; then
      NAME_SUFFIX="$(new_suffix)"
    elif dry_run; then
      NAME_SUFFIX=xxxxxx
      warn "no saved names in $NAMES_FILE yet: showing NAME_SUFFIX=$NAME_SUFFIX"
    fi
  fi
  RESOURCE_GROUP="${RESOURCE_GROUP:-rg-cache-with-az-redis}"
  LOCATION="${LOCATION:-germanywestcentral}"
  REDIS_KIND="${REDIS_KIND:-managed}"
  if [[ -n "${NAME_SUFFIX:-}" ]]; then
    # no hyphen: some redisenterprise extension versions check database commands' --cluster-name
    # against ^[A-Za-z0-9]{1,60}$, stricter than the service's own rule
    REDIS_NAME="${REDIS_NAME:-rediscwar${NAME_SUFFIX}}"
    ACR_NAME="${ACR_NAME:-acrcwar${NAME_SUFFIX}}"
  fi
  AKS_NAME="${AKS_NAME:-aks-cache-with-az-redis}"
  ACR_TOKEN_NAME="${ACR_TOKEN_NAME:-spin-push}"
  ACR_TOKEN_FILE="${ACR_TOKEN_FILE:-$CONFIG_DIR/${ACR_NAME:-unknown}-push-token}"
  APP_NAME="${APP_NAME:-cache-with-az-redis}"
  NAMESPACE="${NAMESPACE:-default}"
  case "$REDIS_KIND" in
  managed | cache) ;;
  *) die "--redis (REDIS_KIND) must be 'managed' or 'cache' (got '$REDIS_KIND')" ;;
  esac
}

# require_names VAR...: stop when a name this script needs is unknown (no saved names, no variable).
require_names() {
  local var
  for var in "$@"; do
    [[ -n "${!var:-}" ]] ||
      die "$var is not known: run deploy/provision.sh first (it saves the names in $NAMES_FILE), or set $var (or NAME_SUFFIX) to the name you used"
  done
}

# redis_flag ARGC VALUE: handle `--redis managed|cache`.
redis_flag() {
  need_value --redis "$1"
  REDIS_KIND=$2
}

# ---- Redis kinds --------------------------------------------------------------------------------
# managed  Azure Managed Redis: `az redisenterprise` (CLI extension), <name>.<region>.redis.azure.net,
#          TLS on port 10000, private endpoint group id redisEnterprise, DNS zone
#          privatelink.redis.azure.net.
# cache    Azure Cache for Redis: `az redis`, <name>.redis.cache.windows.net, TLS on port 6380, group
#          id redisCache, DNS zone privatelink.redis.cache.windows.net. Tenants that had no Azure
#          Cache for Redis before 2026-04-01 cannot create one any more (it retires on 2028-09-30).
redis_kind_label() {
  if [[ "$REDIS_KIND" == managed ]]; then printf 'Azure Managed Redis'; else printf 'Azure Cache for Redis'; fi
}

# ---- Azure CLI ----------------------------------------------------------------------------------
# The redisenterprise extension's reference requires Azure CLI 2.75.0 or newer (older packaged
# versions, e.g. Debian's or Ubuntu's, lack the Managed Redis SKUs and --access-keys-auth).
AZ_MIN_VERSION="2.75.0"

# version_ge A B: true when dotted version A >= B.
version_ge() {
  local IFS=. i
  local -a a b
  read -ra a <<<"$1"
  read -ra b <<<"$2"
  for ((i = 0; i < 3; i++)); do
    ((10#${a[i]:-0} > 10#${b[i]:-0})) && return 0
    ((10#${a[i]:-0} < 10#${b[i]:-0})) && return 1
  done
  return 0
}

# require_az_version: stop unless `az version` reports AZ_MIN_VERSION or newer.
require_az_version() {
  local v
  if dry_run; then
    print_cmd "# needs Azure CLI >= $AZ_MIN_VERSION: $(quote_cmd az version --query '"azure-cli"' -o tsv)"
    return 0
  fi
  v="$(az version --query '"azure-cli"' -o tsv 2>/dev/null)" || v=""
  v="${v%$'\r'}"
  [[ "$v" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] ||
    die "could not read the Azure CLI version ('az version'); Azure CLI >= $AZ_MIN_VERSION is required: https://learn.microsoft.com/cli/azure/install-azure-cli"
  version_ge "${BASH_REMATCH[0]}" "$AZ_MIN_VERSION" ||
    die "Azure CLI $v is too old: $AZ_MIN_VERSION or newer is required (run 'az upgrade', or install it from https://learn.microsoft.com/cli/azure/install-azure-cli; distribution packages are often older)"
}

# require_az_login: the first Azure call of every Azure script; says which subscription is used.
require_az_login() {
  local sub
  if dry_run; then
    run az account show --query name -o tsv
    return 0
  fi
  sub="$(az account show --query name -o tsv 2>/dev/null)" ||
    die "not logged in to Azure: run 'az login' (and 'az account set --subscription <id>') first"
  log "Azure subscription: ${sub}"
}

# Temporary files to remove however the script ends (error, Ctrl-C, kill): nothing half-written
# (a token file, a rendered config) is left behind.
# Background processes (kubectl port-forward) are stopped the same way.
TEMP_FILES=()
BACKGROUND_PIDS=()
clean_up() {
  local pid
  for pid in ${BACKGROUND_PIDS[@]+"${BACKGROUND_PIDS[@]}"}; do kill "$pid" 2>/dev/null || true; done
  ((${#TEMP_FILES[@]} == 0)) || rm -f "${TEMP_FILES[@]}"
}
trap clean_up EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# write_private_file PATH CMD...: run CMD with its stdout going to PATH, which is created with mode
# 600 from the start (a new file in the target directory, then an atomic rename). The directory is
# created with mode 700 when missing. Nothing is left behind on failure or interruption.
write_private_file() {
  local path=$1 dir tmp
  shift
  dir="$(dirname "$path")"
  (umask 077 && mkdir -p "$dir") || die "cannot create directory $dir"
  # Registered for clean-up before it exists, so that a signal between creating and registering it
  # cannot leave it behind. $$ keeps the name apart from any other live run's; noclobber (O_EXCL)
  # refuses a file left by a run that was killed outright, which the clean-up then removes.
  tmp="$dir/.$(basename "$path").$$.$RANDOM"
  TEMP_FILES+=("$tmp")
  (umask 077 && set -o noclobber && : >"$tmp") || die "cannot create a temporary file in $dir"
  if "$@" >"$tmp"; then
    chmod 600 "$tmp"
    mv -f "$tmp" "$path"
  else
    rm -f "$tmp"
    return 1
  fi
}

# strip_eol: copy stdin to stdout without CR or LF. `az ... -o tsv` ends its output with a newline,
# and `spin registry login --password-stdin` keeps every byte it reads: a stored newline would
# become part of the password.
strip_eol() { tr -d '\r\n'; }

# ---- kubectl context ----------------------------------------------------------------------------
# The scripts that change a cluster act only on the project's cluster: the kubectl context named
# after AKS_NAME (what `az aks get-credentials` creates), unless --context names another one. The
# context is then pinned on every kubectl and helm call, so switching contexts in another terminal
# mid-run changes nothing.
KUBE_CONTEXT="${KUBE_CONTEXT:-}"
KUBECTL=(kubectl)
HELM=(helm)

# context_flag ARGC VALUE: handle `--context NAME`.
context_flag() {
  need_value --context "$1"
  KUBE_CONTEXT=$2
}

# use_project_context: check (or take from --context) the context to act on; sets KUBECTL and HELM.
use_project_context() {
  local ctx current=""
  if dry_run; then
    ctx="${KUBE_CONTEXT:-$AKS_NAME}"
  else
    current="$(kubectl config current-context 2>/dev/null)" || current=""
    if [[ -n "$KUBE_CONTEXT" ]]; then
      ctx=$KUBE_CONTEXT
      kubectl config get-contexts "$ctx" >/dev/null 2>&1 || die "kubectl has no context named '$ctx' (see: kubectl config get-contexts)"
      [[ "$ctx" == "$current" ]] || log "acting on kubectl context '$ctx' (--context); the current context stays '${current:-none}'"
    elif [[ -z "$current" ]]; then
      die "kubectl has no current context: run deploy/provision.sh (or az aks get-credentials --resource-group $RESOURCE_GROUP --name $AKS_NAME), or pass --context NAME"
    elif [[ "$current" != "$AKS_NAME" ]]; then
      die "the current kubectl context is '$current', not this project's cluster '$AKS_NAME': run 'kubectl config use-context $AKS_NAME', or pass --context $current to act on '$current' anyway"
    else
      ctx=$current
    fi
    log "kubectl context: $ctx"
  fi
  KUBECTL=(kubectl --context "$ctx")
  HELM=(helm --kube-context "$ctx")
}
