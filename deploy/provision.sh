#!/usr/bin/env bash
# Provision the Azure infrastructure for cache-with-az-redis: resource group, virtual network with
# three subnets, Azure Cache for Redis behind a private endpoint (public access disabled), Azure
# Container Registry with a push-only token, and an AKS cluster using Azure CNI with a pod subnet.
set -euo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$DEPLOY_DIR/lib.sh"

usage() {
  cat <<'USAGE'
Usage: deploy/provision.sh [--dry-run] [--help]

Creates the Azure resources for cache-with-az-redis, then runs `az aks get-credentials` so that
kubectl talks to the new cluster. Requires the Azure CLI (`az`) and a logged-in session (`az login`).

Options:
  --dry-run   print the az commands instead of running them (nothing is created)
  -h, --help  show this help

Every name and address range is an environment variable (default in brackets):
  RESOURCE_GROUP          [rg-cache-with-az-redis]
  LOCATION                [germanywestcentral]
  NAME_SUFFIX             [6 hex chars derived from user@host] makes the global names unique
  VNET_NAME               [vnet-cache-with-az-redis]
  VNET_PREFIX             [10.224.0.0/12]
  SUBNET_NODES_NAME       [sn-nodes]     SUBNET_NODES_PREFIX    [10.224.0.0/16]
  SUBNET_PODS_NAME        [sn-pods]      SUBNET_PODS_PREFIX     [10.225.0.0/16]
  SUBNET_BACKEND_NAME     [sn-backend]   SUBNET_BACKEND_PREFIX  [10.226.0.0/24]
  REDIS_NAME              [redis-cwar-$NAME_SUFFIX]
  REDIS_SKU               [Standard]     REDIS_VM_SIZE          [c1]
  REDIS_API_VERSION       [2024-11-01]   (ARM API used to disable public network access)
  REDIS_WAIT_MINUTES      [45]           POLL_SECONDS           [30]
  PRIVATE_DNS_ZONE        [privatelink.redis.cache.windows.net]
  PRIVATE_ENDPOINT_NAME   [pe-redis]
  ACR_NAME                [acrcwar$NAME_SUFFIX]
  ACR_SKU                 [Standard]
  ACR_TOKEN_NAME          [spin-push]    (scope map _repositories_push)
  ACR_TOKEN_FILE          [~/.config/cache-with-az-redis/$ACR_NAME-push-token]
  AKS_NAME                [aks-cache-with-az-redis]
  AKS_NODE_COUNT          [2]            AKS_NODE_VM_SIZE       [Standard_D2s_v5]
  AKS_KUBERNETES_VERSION  [AKS default]
  AKS_SERVICE_CIDR        [10.0.0.0/16]  AKS_DNS_SERVICE_IP     [10.0.0.10]

The ACR token password is never printed: it is written to $ACR_TOKEN_FILE (mode 600), where
deploy/deploy-app.sh reads it. To issue a new password later:
  az acr token credential generate --name spin-push --registry <acr> --password1 \
    --query 'passwords[0].value' -o tsv > <file>    # after `umask 077`
USAGE
}

while (($#)); do
  common_flag "$1"
  shift
done

load_common_config
VNET_NAME="${VNET_NAME:-vnet-cache-with-az-redis}"
VNET_PREFIX="${VNET_PREFIX:-10.224.0.0/12}"
SUBNET_NODES_NAME="${SUBNET_NODES_NAME:-sn-nodes}"
SUBNET_NODES_PREFIX="${SUBNET_NODES_PREFIX:-10.224.0.0/16}"
SUBNET_PODS_NAME="${SUBNET_PODS_NAME:-sn-pods}"
SUBNET_PODS_PREFIX="${SUBNET_PODS_PREFIX:-10.225.0.0/16}"
SUBNET_BACKEND_NAME="${SUBNET_BACKEND_NAME:-sn-backend}"
SUBNET_BACKEND_PREFIX="${SUBNET_BACKEND_PREFIX:-10.226.0.0/24}"
REDIS_SKU="${REDIS_SKU:-Standard}"
REDIS_VM_SIZE="${REDIS_VM_SIZE:-c1}"
REDIS_API_VERSION="${REDIS_API_VERSION:-2024-11-01}"
REDIS_WAIT_MINUTES="${REDIS_WAIT_MINUTES:-45}"
POLL_SECONDS="${POLL_SECONDS:-30}"
PRIVATE_DNS_ZONE="${PRIVATE_DNS_ZONE:-privatelink.redis.cache.windows.net}"
PRIVATE_ENDPOINT_NAME="${PRIVATE_ENDPOINT_NAME:-pe-redis}"
ACR_SKU="${ACR_SKU:-Standard}"
AKS_NODE_COUNT="${AKS_NODE_COUNT:-2}"
AKS_NODE_VM_SIZE="${AKS_NODE_VM_SIZE:-Standard_D2s_v5}"
AKS_KUBERNETES_VERSION="${AKS_KUBERNETES_VERSION:-}"
AKS_SERVICE_CIDR="${AKS_SERVICE_CIDR:-10.0.0.0/16}"
AKS_DNS_SERVICE_IP="${AKS_DNS_SERVICE_IP:-10.0.0.10}"

[[ "$ACR_NAME" =~ ^[a-zA-Z0-9]{5,50}$ ]] || die "ACR_NAME must be 5-50 letters or digits (got '$ACR_NAME')"
[[ "$REDIS_NAME" =~ ^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$ ]] || die "REDIS_NAME is not a valid cache name (got '$REDIS_NAME')"
[[ "$AKS_NODE_COUNT" =~ ^[1-9][0-9]*$ ]] || die "AKS_NODE_COUNT must be a positive integer"
[[ "$REDIS_WAIT_MINUTES" =~ ^[0-9]+$ && "$POLL_SECONDS" =~ ^[0-9]+$ ]] || die "REDIS_WAIT_MINUTES and POLL_SECONDS must be integers"

if ! dry_run; then
  require_tool az "install the Azure CLI: https://learn.microsoft.com/cli/azure/install-azure-cli"
fi

# exists CMD...: true when the `az ... show` command finds the resource (never true with --dry-run).
exists() {
  dry_run && return 1
  "$@" --only-show-errors -o none >/dev/null 2>&1
}

wait_for_redis() {
  local deadline state
  if dry_run; then
    print_cmd "# wait until: $(quote_cmd az redis show --resource-group "$RESOURCE_GROUP" --name "$REDIS_NAME" --query provisioningState -o tsv) prints Succeeded"
    return 0
  fi
  deadline=$((SECONDS + REDIS_WAIT_MINUTES * 60))
  while :; do
    state="$(az redis show --resource-group "$RESOURCE_GROUP" --name "$REDIS_NAME" --query provisioningState -o tsv)"
    [[ "$state" == Succeeded ]] && return 0
    [[ "$state" == Failed ]] && die "Azure Cache for Redis $REDIS_NAME failed to provision"
    ((SECONDS < deadline)) || die "Azure Cache for Redis $REDIS_NAME is still '$state' after ${REDIS_WAIT_MINUTES} minutes"
    log "Redis $REDIS_NAME is '$state'; checking again in ${POLL_SECONDS}s (creating a cache takes 15-30 minutes)"
    sleep "$POLL_SECONDS"
  done
}

create_push_token() {
  if exists az acr token show --name "$ACR_TOKEN_NAME" --registry "$ACR_NAME"; then
    log "ACR token $ACR_TOKEN_NAME already exists; its password is not shown again."
    log "For a new password: umask 077; az acr token credential generate --name $ACR_TOKEN_NAME --registry $ACR_NAME --password1 --query 'passwords[0].value' -o tsv > $ACR_TOKEN_FILE"
    return 0
  fi
  if dry_run; then
    print_cmd "$(quote_cmd az acr token create --name "$ACR_TOKEN_NAME" --registry "$ACR_NAME" --scope-map _repositories_push --query 'credentials.passwords[0].value' -o tsv) > $(quote_arg "$ACR_TOKEN_FILE")  # file mode 600"
    return 0
  fi
  write_private_file "$ACR_TOKEN_FILE" \
    az acr token create --name "$ACR_TOKEN_NAME" --registry "$ACR_NAME" --scope-map _repositories_push \
    --query 'credentials.passwords[0].value' -o tsv ||
    die "could not create the ACR token $ACR_TOKEN_NAME"
  [[ -s "$ACR_TOKEN_FILE" ]] || die "az acr token create returned no password"
  log "ACR push token password written to $ACR_TOKEN_FILE (mode 600)"
}

main() {
  log "Names: resource group $RESOURCE_GROUP, Redis $REDIS_NAME, ACR $ACR_NAME, AKS $AKS_NAME (NAME_SUFFIX=$NAME_SUFFIX)"
  require_az_login

  log "Resource group and virtual network"
  run az group create --name "$RESOURCE_GROUP" --location "$LOCATION" -o none
  if exists az network vnet show --resource-group "$RESOURCE_GROUP" --name "$VNET_NAME"; then
    log "virtual network $VNET_NAME exists"
  else
    run az network vnet create --resource-group "$RESOURCE_GROUP" --name "$VNET_NAME" \
      --location "$LOCATION" --address-prefixes "$VNET_PREFIX" -o none
  fi
  run az network vnet subnet create --resource-group "$RESOURCE_GROUP" --vnet-name "$VNET_NAME" \
    --name "$SUBNET_NODES_NAME" --address-prefixes "$SUBNET_NODES_PREFIX" -o none
  run az network vnet subnet create --resource-group "$RESOURCE_GROUP" --vnet-name "$VNET_NAME" \
    --name "$SUBNET_PODS_NAME" --address-prefixes "$SUBNET_PODS_PREFIX" -o none
  run az network vnet subnet create --resource-group "$RESOURCE_GROUP" --vnet-name "$VNET_NAME" \
    --name "$SUBNET_BACKEND_NAME" --address-prefixes "$SUBNET_BACKEND_PREFIX" \
    --private-endpoint-network-policies Disabled -o none

  log "Azure Cache for Redis ($REDIS_SKU $REDIS_VM_SIZE, TLS only)"
  if exists az redis show --resource-group "$RESOURCE_GROUP" --name "$REDIS_NAME"; then
    log "cache $REDIS_NAME exists"
  else
    run az redis create --resource-group "$RESOURCE_GROUP" --name "$REDIS_NAME" --location "$LOCATION" \
      --sku "$REDIS_SKU" --vm-size "$REDIS_VM_SIZE" --minimum-tls-version 1.2 -o none
  fi
  wait_for_redis
  capture REDIS_ID az redis show --resource-group "$RESOURCE_GROUP" --name "$REDIS_NAME" --query id -o tsv

  log "Private DNS zone, private endpoint ($SUBNET_BACKEND_NAME), public network access off"
  if exists az network private-dns zone show --resource-group "$RESOURCE_GROUP" --name "$PRIVATE_DNS_ZONE"; then
    log "private DNS zone $PRIVATE_DNS_ZONE exists"
  else
    run az network private-dns zone create --resource-group "$RESOURCE_GROUP" --name "$PRIVATE_DNS_ZONE" -o none
  fi
  if exists az network private-dns link vnet show --resource-group "$RESOURCE_GROUP" \
    --zone-name "$PRIVATE_DNS_ZONE" --name "link-$VNET_NAME"; then
    log "private DNS zone link link-$VNET_NAME exists"
  else
    run az network private-dns link vnet create --resource-group "$RESOURCE_GROUP" \
      --zone-name "$PRIVATE_DNS_ZONE" --name "link-$VNET_NAME" --virtual-network "$VNET_NAME" \
      --registration-enabled false -o none
  fi
  if exists az network private-endpoint show --resource-group "$RESOURCE_GROUP" --name "$PRIVATE_ENDPOINT_NAME"; then
    log "private endpoint $PRIVATE_ENDPOINT_NAME exists"
  else
    run az network private-endpoint create --resource-group "$RESOURCE_GROUP" \
      --name "$PRIVATE_ENDPOINT_NAME" --location "$LOCATION" --vnet-name "$VNET_NAME" \
      --subnet "$SUBNET_BACKEND_NAME" --private-connection-resource-id "$REDIS_ID" \
      --group-id redisCache --connection-name "$PRIVATE_ENDPOINT_NAME-connection" -o none
    run az network private-endpoint dns-zone-group create --resource-group "$RESOURCE_GROUP" \
      --endpoint-name "$PRIVATE_ENDPOINT_NAME" --name default \
      --private-dns-zone "$PRIVATE_DNS_ZONE" --zone-name redis -o none
  fi
  # `az redis create` has no flag for this; the ARM PATCH is the documented way.
  run az rest --method patch \
    --url "https://management.azure.com${REDIS_ID}?api-version=${REDIS_API_VERSION}" \
    --body '{"properties":{"publicNetworkAccess":"Disabled"}}' -o none

  log "Azure Container Registry and push token"
  if exists az acr show --resource-group "$RESOURCE_GROUP" --name "$ACR_NAME"; then
    log "registry $ACR_NAME exists"
  else
    run az acr create --resource-group "$RESOURCE_GROUP" --name "$ACR_NAME" --location "$LOCATION" \
      --sku "$ACR_SKU" -o none
  fi
  create_push_token

  log "AKS cluster (Azure CNI, pods in $SUBNET_PODS_NAME)"
  if exists az aks show --resource-group "$RESOURCE_GROUP" --name "$AKS_NAME"; then
    log "cluster $AKS_NAME exists"
  else
    capture NODES_SUBNET_ID az network vnet subnet show --resource-group "$RESOURCE_GROUP" \
      --vnet-name "$VNET_NAME" --name "$SUBNET_NODES_NAME" --query id -o tsv
    capture PODS_SUBNET_ID az network vnet subnet show --resource-group "$RESOURCE_GROUP" \
      --vnet-name "$VNET_NAME" --name "$SUBNET_PODS_NAME" --query id -o tsv
    local -a version_args=()
    [[ -n "$AKS_KUBERNETES_VERSION" ]] && version_args=(--kubernetes-version "$AKS_KUBERNETES_VERSION")
    run az aks create --resource-group "$RESOURCE_GROUP" --name "$AKS_NAME" --location "$LOCATION" \
      --tier free --node-count "$AKS_NODE_COUNT" --node-vm-size "$AKS_NODE_VM_SIZE" \
      ${version_args[@]+"${version_args[@]}"} \
      --network-plugin azure --vnet-subnet-id "$NODES_SUBNET_ID" --pod-subnet-id "$PODS_SUBNET_ID" \
      --service-cidr "$AKS_SERVICE_CIDR" --dns-service-ip "$AKS_DNS_SERVICE_IP" \
      --attach-acr "$ACR_NAME" --generate-ssh-keys -o none
  fi
  run az aks get-credentials --resource-group "$RESOURCE_GROUP" --name "$AKS_NAME" --overwrite-existing

  if dry_run; then
    log "dry run: nothing was created"
  else
    log "Done. Next: deploy/install-spinkube.sh, then deploy/render-runtime-config.sh and deploy/deploy-app.sh"
    log "Keep these names for the next scripts: export NAME_SUFFIX=$NAME_SUFFIX RESOURCE_GROUP=$RESOURCE_GROUP"
  fi
}

main
