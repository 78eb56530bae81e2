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

# default_suffix: a short, stable suffix for the globally unique Azure names (Redis, ACR), derived
# from the local user and host so that every script computes the same names without shared state.
default_suffix() {
  local sum _
  read -r sum _ < <(printf '%s@%s' "$(id -un 2>/dev/null || echo user)" "$(uname -n 2>/dev/null || echo host)" | cksum)
  printf '%06x' $((sum % 16777216))
}

# Shared names: every script agrees on them; override any of them with an environment variable.
load_common_config() {
  RESOURCE_GROUP="${RESOURCE_GROUP:-rg-cache-with-az-redis}"
  LOCATION="${LOCATION:-germanywestcentral}"
  NAME_SUFFIX="${NAME_SUFFIX:-$(default_suffix)}"
  REDIS_NAME="${REDIS_NAME:-redis-cwar-${NAME_SUFFIX}}"
  ACR_NAME="${ACR_NAME:-acrcwar${NAME_SUFFIX}}"
  AKS_NAME="${AKS_NAME:-aks-cache-with-az-redis}"
  ACR_TOKEN_NAME="${ACR_TOKEN_NAME:-spin-push}"
  ACR_TOKEN_FILE="${ACR_TOKEN_FILE:-${XDG_CONFIG_HOME:-${HOME:?HOME must be set}/.config}/cache-with-az-redis/${ACR_NAME}-push-token}"
  APP_NAME="${APP_NAME:-cache-with-az-redis}"
  NAMESPACE="${NAMESPACE:-default}"
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

# write_private_file PATH CMD...: run CMD with its stdout going to PATH, which is created with mode
# 600 from the start (mktemp in the target directory, then an atomic rename). The directory is
# created with mode 700 when missing. Nothing is left behind on failure.
write_private_file() {
  local path=$1 dir tmp
  shift
  dir="$(dirname "$path")"
  (umask 077 && mkdir -p "$dir") || die "cannot create directory $dir"
  tmp="$(umask 077 && mktemp "$dir/.$(basename "$path").XXXXXX")" || die "cannot create a temporary file in $dir"
  if "$@" >"$tmp"; then
    chmod 600 "$tmp"
    mv -f "$tmp" "$path"
  else
    rm -f "$tmp"
    return 1
  fi
}
