#!/usr/bin/env bash
# Delete everything deploy/provision.sh created by deleting its resource group.
set -euo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$DEPLOY_DIR/lib.sh"

usage() {
  cat <<'USAGE'
Usage: deploy/teardown.sh [--yes] [--wait] [--dry-run] [--help]

Deletes the resource group RESOURCE_GROUP [rg-cache-with-az-redis] and everything in it (AKS,
Azure Cache for Redis, ACR, network). This cannot be undone.

Without --yes you are asked to type the resource group name; when stdin is not a terminal the
script refuses to run without --yes.

Options:
  --yes       do not ask for confirmation
  --wait      wait until Azure has finished deleting (default: return at once, --no-wait)
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
  *) common_flag "$1" ;;
  esac
  shift
done

load_common_config

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

log "Deleting resource group $RESOURCE_GROUP"
if ((WAIT)); then
  az group delete --name "$RESOURCE_GROUP" --yes
else
  az group delete --name "$RESOURCE_GROUP" --yes --no-wait
  log "Deletion started; follow it with: az group show --name $RESOURCE_GROUP --query properties.provisioningState -o tsv"
fi
log "Local leftovers you may remove: kubectl config delete-context $AKS_NAME; rm -f $ACR_TOKEN_FILE runtime-config/*.rendered.toml"
