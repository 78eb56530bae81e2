#!/usr/bin/env bash
# Delete everything deploy/provision.sh created by deleting its resource group.
set -euo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$DEPLOY_DIR/lib.sh"

usage() {
  cat <<'USAGE'
Usage: deploy/teardown.sh [--yes] [--wait] [--redis managed|cache] [--dry-run] [--help]

Deletes the resource group RESOURCE_GROUP [rg-cache-with-az-redis] and everything in it (AKS,
Azure Managed Redis or Azure Cache for Redis, ACR, network). This cannot be undone.

Billing stops only when Azure has finished deleting (5-15 minutes): without --wait the script
returns as soon as the deletion has started, and prints how to follow it
(az group exists --name <group> answers false once everything is gone).

Without --yes you are asked to type the resource group name; when stdin is not a terminal the
script refuses to run without --yes.

Options:
  --yes       do not ask for confirmation
  --wait      wait until Azure has finished deleting (default: return at once, --no-wait)
  --redis K   managed | cache: which Redis kind the group holds (only changes the messages)
              [REDIS_KIND, as saved by deploy/provision.sh]
  --dry-run   print the az command instead of running it
  -h, --help  show this help
USAGE
}

ASSUME_YES=0
WAIT=0
while (($#)); do
  case "$1" in
  --yes | -y) ASSUME_YES=1 ;;
  --wait) WAIT=1 ;;
  --redis)
    redis_flag $# "${2:-}"
    shift
    ;;
  *) common_flag "$1" ;;
  esac
  shift
done

load_common_config existing

if dry_run; then
  if ((WAIT)); then
    run az group delete --name "$RESOURCE_GROUP" --yes
  else
    run az group delete --name "$RESOURCE_GROUP" --yes --no-wait
  fi
  log "dry run: nothing was deleted"
  exit 0
fi

if ((!ASSUME_YES)) && [[ ! -t 0 ]]; then
  die "stdin is not a terminal: refusing to delete resource group '$RESOURCE_GROUP' without --yes"
fi

require_tool az "install the Azure CLI: https://learn.microsoft.com/cli/azure/install-azure-cli"
require_az_login

if [[ "$(az group exists --name "$RESOURCE_GROUP")" != true ]]; then
  log "resource group $RESOURCE_GROUP does not exist; nothing to delete"
  exit 0
fi

if ((!ASSUME_YES)); then
  printf 'This deletes resource group %s and everything in it. Type its name to confirm: ' "$RESOURCE_GROUP" >&2
  answer=""
  IFS= read -r answer || true
  [[ "$answer" == "$RESOURCE_GROUP" ]] || die "confirmation did not match '$RESOURCE_GROUP'; nothing was deleted"
fi

log "Deleting resource group $RESOURCE_GROUP (AKS $AKS_NAME, $(redis_kind_label)${REDIS_NAME:+ $REDIS_NAME}, ACR${ACR_NAME:+ $ACR_NAME}, network)"
if ((WAIT)); then
  az group delete --name "$RESOURCE_GROUP" --yes
  log "Deleted: nothing in $RESOURCE_GROUP is billed any more."
else
  az group delete --name "$RESOURCE_GROUP" --yes --no-wait
  log "Deletion started; billing stops when it has finished (usually 5-15 minutes). Follow it with:"
  log "  az group wait --deleted --name $RESOURCE_GROUP     # returns when it is gone"
  log "  az group exists --name $RESOURCE_GROUP             # prints false once it is gone"
fi
log "Local leftovers you may remove: kubectl config delete-context $AKS_NAME; rm -f $ACR_TOKEN_FILE $NAMES_FILE runtime-config/*.rendered.toml"
