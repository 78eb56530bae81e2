#!/usr/bin/env bash
# Render a Spin runtime config for Azure Managed Redis (or Azure Cache for Redis) with the real
# access key, percent-encoded, into a git-ignored file with mode 600. The key is never printed and
# never passed as an argument to another program.
set -euo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DEPLOY_DIR/.." && pwd)"
# shellcheck source=lib.sh
source "$DEPLOY_DIR/lib.sh"

usage() {
  cat <<'USAGE'
Usage: deploy/render-runtime-config.sh [--redis managed|cache] [--name NAME] [--resource-group RG]
                                       [--out PATH] [--dry-run] [--help]

Reads the host name and primary access key of the cache with the Azure CLI and writes

  [key_value_store.default]
  type = "redis"
  url = "rediss://:<percent-encoded key>@<host>:<port>"

to PATH (mode 600, created that way). Azure keys contain + / = and Spin percent-decodes the
password, so the key is encoded with encodeURIComponent rules.

Options:
  --redis KIND           managed: Azure Managed Redis, <name>.<region>.redis.azure.net:10000 (the
                         database must use the EnterpriseCluster or NoCluster clustering policy)
                         cache: Azure Cache for Redis, <name>.redis.cache.windows.net:6380
                         [REDIS_KIND, as saved by deploy/provision.sh; managed]
  --managed              same as --redis managed
  --name NAME            cache (or Managed Redis cluster) name   [REDIS_NAME, as saved by provision.sh]
  --resource-group RG    resource group                          [RESOURCE_GROUP=rg-cache-with-az-redis]
  --out PATH             output file                             [runtime-config/azure.rendered.toml]
  --dry-run              print the az commands; write nothing
  -h, --help             show this help

Files named *.rendered.toml are git-ignored. Use the result with
  spin up --runtime-config-file runtime-config/azure.rendered.toml   (from inside the VNet), or
  deploy/deploy-app.sh, which reads the url from it.
USAGE
}

NAME=""
OUT=""
while (($#)); do
  case "$1" in
  --redis)
    redis_flag $# "${2:-}"
    shift
    ;;
  --managed) REDIS_KIND=managed ;;
  --name | -n)
    need_value "$1" $#
    NAME=$2
    shift
    ;;
  --resource-group | -g)
    need_value "$1" $#
    RESOURCE_GROUP=$2
    shift
    ;;
  --out | -o)
    need_value "$1" $#
    OUT=$2
    shift
    ;;
  *) common_flag "$1" ;;
  esac
  shift
done

load_common_config existing
[[ -n "$NAME" ]] && REDIS_NAME=$NAME
require_names REDIS_NAME
if [[ "$REDIS_KIND" == managed ]]; then
  MANAGED=1
  NAME="${NAME:-$REDIS_NAME}"
  PORT="${AMR_PORT:-10000}"
else
  MANAGED=0
  NAME="${NAME:-$REDIS_NAME}"
  PORT="${REDIS_TLS_PORT:-6380}"
fi
OUT="${OUT:-$REPO_ROOT/runtime-config/azure.rendered.toml}"

[[ "$NAME" =~ ^[A-Za-z0-9-]+$ ]] || die "invalid cache name '$NAME'"
[[ "$PORT" =~ ^[0-9]+$ ]] || die "invalid port '$PORT'"
[[ "$OUT" == *.rendered.toml ]] || warn "$OUT does not match *.rendered.toml: make sure git ignores it"

# urlencode STRING: percent-encode like JavaScript's encodeURIComponent, in pure bash (no child
# process sees the value).
urlencode() {
  local LC_ALL=C s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in
    [A-Za-z0-9_.!~*\'\(\)-]) out+=$c ;;
    *)
      printf -v c '%%%02X' "'$c"
      out+=$c
      ;;
    esac
  done
  printf '%s' "$out"
}

if ((MANAGED)); then
  KIND="Azure Managed Redis"
  HOST_CMD=(az redisenterprise show --resource-group "$RESOURCE_GROUP" --cluster-name "$NAME" --query hostName -o tsv)
  POLICY_CMD=(az redisenterprise database show --resource-group "$RESOURCE_GROUP" --cluster-name "$NAME" --query clusteringPolicy -o tsv)
  KEY_CMD=(az redisenterprise database list-keys --resource-group "$RESOURCE_GROUP" --cluster-name "$NAME" --query primaryKey -o tsv)
else
  KIND="Azure Cache for Redis"
  HOST_CMD=(az redis show --resource-group "$RESOURCE_GROUP" --name "$NAME" --query hostName -o tsv)
  POLICY_CMD=()
  KEY_CMD=(az redis list-keys --resource-group "$RESOURCE_GROUP" --name "$NAME" --query primaryKey -o tsv)
fi

if dry_run; then
  require_az_login
  print_cmd "HOST=\$($(quote_cmd "${HOST_CMD[@]}"))"
  ((MANAGED)) && print_cmd "# must print EnterpriseCluster or NoCluster: $(quote_cmd "${POLICY_CMD[@]}")"
  print_cmd "KEY=\$($(quote_cmd "${KEY_CMD[@]}"))  # kept in memory, never printed"
  print_cmd "# write $(quote_arg "$OUT") (mode 600): [key_value_store.default] type = \"redis\", url = \"rediss://:<percent-encoded KEY>@\$HOST:$PORT\""
  log "dry run: nothing was written"
  exit 0
fi

require_tool az "install the Azure CLI: https://learn.microsoft.com/cli/azure/install-azure-cli"
require_az_login

HOST="$("${HOST_CMD[@]}")" || die "could not read the host name of $KIND '$NAME' in resource group '$RESOURCE_GROUP'"
HOST="${HOST%$'\r'}"
[[ "$HOST" =~ ^[A-Za-z0-9.-]+$ ]] || die "unexpected host name '$HOST' for $KIND '$NAME'"

if ((MANAGED)); then
  POLICY="$("${POLICY_CMD[@]}")" || die "could not read the clustering policy of '$NAME'"
  POLICY="${POLICY%$'\r'}"
  case "$POLICY" in
  EnterpriseCluster | NoCluster) ;;
  *) die "database of '$NAME' uses clustering policy '$POLICY'; Spin's Redis client is not cluster-aware, so create the database with --clustering-policy EnterpriseCluster (or NoCluster)" ;;
  esac
fi

KEY="$("${KEY_CMD[@]}")" || die "could not read the access key of $KIND '$NAME' (are access keys enabled?)"
KEY="${KEY%$'\r'}"
[[ -n "$KEY" ]] || die "$KIND '$NAME' returned an empty access key (access-key authentication may be disabled)"

render() {
  printf '# Spin runtime config for %s %s, rendered by deploy/render-runtime-config.sh.\n' "$KIND" "$NAME"
  printf '# It holds an access key: keep it private (mode 600) and never commit it.\n'
  printf '[key_value_store.default]\n'
  printf 'type = "redis"\n'
  printf 'url = "rediss://:%s@%s:%s"\n' "$(urlencode "$KEY")" "$HOST" "$PORT"
}

write_private_file "$OUT" render || die "could not write $OUT"
unset KEY
log "wrote $OUT (mode 600) for $KIND $HOST:$PORT; the access key is not shown"
