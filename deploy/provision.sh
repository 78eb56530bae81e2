#!/usr/bin/env bash
# Provision the Azure infrastructure for cache-with-az-redis: resource group, virtual network with
# three subnets, Azure Managed Redis (default) or Azure Cache for Redis behind a private endpoint
# (public access disabled), Azure Container Registry with a push-only token, and an AKS cluster
# using Azure CNI with a pod subnet. Every step checks what exists first, so a re-run (after an
# interruption, or to repair something) finishes the job without creating anything twice.
set -euo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$DEPLOY_DIR/lib.sh"

usage() {
  cat <<'USAGE'
Usage: deploy/provision.sh [--redis managed|cache] [--dry-run] [--help]

Creates the Azure resources for cache-with-az-redis, then runs `az aks get-credentials` so that
kubectl talks to the new cluster (the script says when that switches your kubectl context).
Requires the Azure CLI (`az`) 2.75.0 or newer and a logged-in session (`az login`).

Takes 20-40 minutes and costs money while the resources exist (roughly $0.3-0.5 an hour with the
defaults; see docs/azure.md). Needs 4 vCPUs of Standard_D-family quota in LOCATION for the
2 x Standard_D2s_v5 nodes. Remove everything with deploy/teardown.sh.

Options:
  --redis KIND  managed (default): Azure Managed Redis (az redisenterprise), TLS on port 10000
                cache: Azure Cache for Redis (az redis), TLS on port 6380 -- only for tenants
                that may still create it (new tenants cannot since 2026-04-01)
  --dry-run     print the az commands instead of running them (nothing is created)
  -h, --help    show this help

Names: the first run draws a random NAME_SUFFIX and saves the names it uses (and the Redis kind) in
~/.config/cache-with-az-redis/names.env; every later run of every deploy script reuses them.

Every name and address range is an environment variable (default in brackets):
  REDIS_KIND              [managed]      same as --redis
  RESOURCE_GROUP          [rg-cache-with-az-redis]
  LOCATION                [germanywestcentral]
  NAME_SUFFIX             [6 random hex digits, saved] makes the global names unique
  VNET_NAME               [vnet-cache-with-az-redis]
  VNET_PREFIX             [10.224.0.0/12]
  SUBNET_NODES_NAME       [sn-nodes]     SUBNET_NODES_PREFIX    [10.224.0.0/16]
  SUBNET_PODS_NAME        [sn-pods]      SUBNET_PODS_PREFIX     [10.225.0.0/16]
  SUBNET_BACKEND_NAME     [sn-backend]   SUBNET_BACKEND_PREFIX  [10.226.0.0/24]
  REDIS_NAME              [rediscwar$NAME_SUFFIX]  lowercase letters, digits, single hyphens
  AMR_SKU                 [Balanced_B0]  (managed) Azure Managed Redis SKU
  REDIS_SKU               [Standard]     REDIS_VM_SIZE [c1]   (cache)
  REDIS_API_VERSION       [2024-11-01]   (cache) ARM API used to disable public network access
  REDIS_WAIT_MINUTES      [45]           POLL_SECONDS           [30]
  PRIVATE_ENDPOINT_NAME   [pe-redis]
  ACR_NAME                [acrcwar$NAME_SUFFIX]  lowercase letters and digits
  ACR_SKU                 [Standard]
  ACR_TOKEN_NAME          [spin-push]    (scope map _repositories_push)
  ACR_TOKEN_FILE          [~/.config/cache-with-az-redis/$ACR_NAME-push-token]
  AKS_NAME                [aks-cache-with-az-redis]
  AKS_NODE_COUNT          [2]            AKS_NODE_VM_SIZE       [Standard_D2s_v5]
  AKS_KUBERNETES_VERSION  [AKS default]
  AKS_SERVICE_CIDR        [10.0.0.0/16]  AKS_DNS_SERVICE_IP     [10.0.0.10]
  SHIM_NODE_LABEL         [spin=true]    node pool label the containerd-shim-spin installer selects

The ACR token password is never printed: it is written to $ACR_TOKEN_FILE (mode 600, no trailing
newline), where deploy/deploy-app.sh reads it. To issue a new password later:
  umask 077; az acr token credential generate --name spin-push --registry <acr> --password1 \
    --query 'passwords[0].value' -o tsv | tr -d '\r\n' > <file>
USAGE
}

while (($#)); do
  case "$1" in
  --redis)
    redis_flag $# "${2:-}"
    shift
    ;;
  *) common_flag "$1" ;;
  esac
  shift
done

load_common_config new
VNET_NAME="${VNET_NAME:-vnet-cache-with-az-redis}"
VNET_PREFIX="${VNET_PREFIX:-10.224.0.0/12}"
SUBNET_NODES_NAME="${SUBNET_NODES_NAME:-sn-nodes}"
SUBNET_NODES_PREFIX="${SUBNET_NODES_PREFIX:-10.224.0.0/16}"
SUBNET_PODS_NAME="${SUBNET_PODS_NAME:-sn-pods}"
SUBNET_PODS_PREFIX="${SUBNET_PODS_PREFIX:-10.225.0.0/16}"
SUBNET_BACKEND_NAME="${SUBNET_BACKEND_NAME:-sn-backend}"
SUBNET_BACKEND_PREFIX="${SUBNET_BACKEND_PREFIX:-10.226.0.0/24}"
AMR_SKU="${AMR_SKU:-Balanced_B0}"
REDIS_SKU="${REDIS_SKU:-Standard}"
REDIS_VM_SIZE="${REDIS_VM_SIZE:-c1}"
REDIS_API_VERSION="${REDIS_API_VERSION:-2024-11-01}"
REDIS_WAIT_MINUTES="${REDIS_WAIT_MINUTES:-45}"
POLL_SECONDS="${POLL_SECONDS:-30}"
PRIVATE_ENDPOINT_NAME="${PRIVATE_ENDPOINT_NAME:-pe-redis}"
ACR_SKU="${ACR_SKU:-Standard}"
AKS_NODE_COUNT="${AKS_NODE_COUNT:-2}"
AKS_NODE_VM_SIZE="${AKS_NODE_VM_SIZE:-Standard_D2s_v5}"
AKS_KUBERNETES_VERSION="${AKS_KUBERNETES_VERSION:-}"
AKS_SERVICE_CIDR="${AKS_SERVICE_CIDR:-10.0.0.0/16}"
AKS_DNS_SERVICE_IP="${AKS_DNS_SERVICE_IP:-10.0.0.10}"
SHIM_NODE_LABEL="${SHIM_NODE_LABEL:-spin=true}"

if [[ "$REDIS_KIND" == managed ]]; then
  # Private Link for Azure Managed Redis: group id redisEnterprise, zone privatelink.redis.azure.net.
  PE_GROUP_ID=redisEnterprise
  PRIVATE_DNS_ZONE="${PRIVATE_DNS_ZONE:-privatelink.redis.azure.net}"
  REDIS_SHOW=(az redisenterprise show --resource-group "$RESOURCE_GROUP" --cluster-name "$REDIS_NAME")
else
  PE_GROUP_ID=redisCache
  PRIVATE_DNS_ZONE="${PRIVATE_DNS_ZONE:-privatelink.redis.cache.windows.net}"
  REDIS_SHOW=(az redis show --resource-group "$RESOURCE_GROUP" --name "$REDIS_NAME")
fi
REDIS_LABEL="$(redis_kind_label)"

# Name rules, checked before anything is created: ACR names are 5-50 lowercase letters or digits
# (the login server is lowercase); Redis names (both kinds) are at most 60 lowercase letters, digits
# and single hyphens, neither first nor last (no "--").
[[ "$ACR_NAME" =~ ^[a-z0-9]{5,50}$ ]] || die "ACR_NAME must be 5-50 lowercase letters or digits (got '$ACR_NAME')"
[[ "$REDIS_NAME" =~ ^[a-z0-9]+(-[a-z0-9]+)*$ && ${#REDIS_NAME} -le 60 ]] ||
  die "REDIS_NAME must be at most 60 lowercase letters, digits and single hyphens, not at either end (got '$REDIS_NAME')"
[[ "$AKS_NODE_COUNT" =~ ^[1-9][0-9]*$ ]] || die "AKS_NODE_COUNT must be a positive integer"
[[ "$REDIS_WAIT_MINUTES" =~ ^[0-9]+$ && "$POLL_SECONDS" =~ ^[0-9]+$ ]] || die "REDIS_WAIT_MINUTES and POLL_SECONDS must be integers"
[[ "$SHIM_NODE_LABEL" =~ ^[A-Za-z0-9./_-]+=[A-Za-z0-9._-]*$ ]] || die "SHIM_NODE_LABEL must look like key=value"

if ! dry_run; then
  require_tool az "install the Azure CLI: https://learn.microsoft.com/cli/azure/install-azure-cli"
fi

# exists CMD...: true when the `az ... show` command finds the resource (never true with --dry-run).
exists() {
  dry_run && return 1
  "$@" --only-show-errors -o none >/dev/null 2>&1
}

# wait_for_redis: poll the provisioning state until Succeeded (creating takes 10-30 minutes; an
# update such as disabling public access puts it back into Updating for a while).
wait_for_redis() {
  local deadline state
  if dry_run; then
    print_cmd "# wait until: $(quote_cmd "${REDIS_SHOW[@]}" --query provisioningState -o tsv) prints Succeeded"
    return 0
  fi
  deadline=$((SECONDS + REDIS_WAIT_MINUTES * 60))
  while :; do
    state="$("${REDIS_SHOW[@]}" --query provisioningState -o tsv)"
    state="${state%$'\r'}"
    [[ "$state" == Succeeded ]] && return 0
    [[ "$state" == Failed ]] && die "$REDIS_LABEL $REDIS_NAME failed to provision (see the resource group's deployments and activity log in the portal)"
    ((SECONDS < deadline)) || die "$REDIS_LABEL $REDIS_NAME is still '$state' after ${REDIS_WAIT_MINUTES} minutes; run this script again later to carry on"
    log "Redis $REDIS_NAME is '$state'; checking again in ${POLL_SECONDS}s (creating one takes 10-30 minutes)"
    sleep "$POLL_SECONDS"
  done
}

# ---- network: each piece checked and created on its own -----------------------------------------
ensure_subnet() { # NAME PREFIX [extra az args...]
  local name=$1 prefix=$2
  shift 2
  if exists az network vnet subnet show --resource-group "$RESOURCE_GROUP" --vnet-name "$VNET_NAME" --name "$name"; then
    log "subnet $name exists"
  else
    run az network vnet subnet create --resource-group "$RESOURCE_GROUP" --vnet-name "$VNET_NAME" \
      --name "$name" --address-prefixes "$prefix" "$@" -o none
  fi
}

ensure_network() {
  log "Resource group and virtual network"
  run az group create --name "$RESOURCE_GROUP" --location "$LOCATION" -o none
  if exists az network vnet show --resource-group "$RESOURCE_GROUP" --name "$VNET_NAME"; then
    log "virtual network $VNET_NAME exists"
  else
    run az network vnet create --resource-group "$RESOURCE_GROUP" --name "$VNET_NAME" \
      --location "$LOCATION" --address-prefixes "$VNET_PREFIX" -o none
  fi
  ensure_subnet "$SUBNET_NODES_NAME" "$SUBNET_NODES_PREFIX"
  ensure_subnet "$SUBNET_PODS_NAME" "$SUBNET_PODS_PREFIX"
  ensure_subnet "$SUBNET_BACKEND_NAME" "$SUBNET_BACKEND_PREFIX" --private-endpoint-network-policies Disabled
}

# ---- Redis --------------------------------------------------------------------------------------
# Azure Managed Redis: one `az redisenterprise create` makes the cluster and its database "default".
# Spin's Redis client (redis-rs, not cluster-aware) needs a clustering policy that hides the shards
# (EnterpriseCluster; the default OSSCluster answers MOVED), access keys (off by default since
# the 2025 API versions) and TLS (Encrypted, port 10000). --public-network-access is required
# by recent API versions; Disabled keeps the cache reachable only through the private endpoint.
create_managed_redis() {
  run az redisenterprise create --resource-group "$RESOURCE_GROUP" --cluster-name "$REDIS_NAME" \
    --location "$LOCATION" --sku "$AMR_SKU" --minimum-tls-version 1.2 \
    --public-network-access Disabled --client-protocol Encrypted --port 10000 \
    --clustering-policy EnterpriseCluster --eviction-policy AllKeysLRU --access-keys-auth Enabled -o none
}

# A re-run over a cache made elsewhere (or before access keys were switched on) repairs the one
# setting that can change after creation; the clustering policy cannot, so it is only checked.
check_managed_database() {
  local policy keys
  if dry_run; then
    print_cmd "# check: $(quote_cmd az redisenterprise database show --resource-group "$RESOURCE_GROUP" --cluster-name "$REDIS_NAME" --query '[clusteringPolicy, accessKeysAuthentication]' -o tsv) prints EnterpriseCluster (or NoCluster) and Enabled"
    return 0
  fi
  { read -r policy && read -r keys; } < <(az redisenterprise database show --resource-group "$RESOURCE_GROUP" \
    --cluster-name "$REDIS_NAME" --query '[clusteringPolicy, accessKeysAuthentication]' -o tsv) ||
    die "could not read the database of $REDIS_NAME"
  policy="${policy%$'\r'}" keys="${keys%$'\r'}"
  case "$policy" in
  EnterpriseCluster | NoCluster) ;;
  *) die "the database of $REDIS_NAME uses clustering policy '$policy'; Spin's Redis client is not cluster-aware. The policy is fixed at creation: delete the database and create it with --clustering-policy EnterpriseCluster" ;;
  esac
  if [[ "$keys" != Enabled ]]; then
    log "enabling access-key authentication on $REDIS_NAME (Spin authenticates with the access key)"
    run az redisenterprise database update --resource-group "$RESOURCE_GROUP" --cluster-name "$REDIS_NAME" \
      --access-keys-auth Enabled -o none
  fi
}

# Azure Cache for Redis names are global DNS names: ask Azure before the long create.
check_cache_name() {
  local err
  if dry_run; then
    run az rest --method post --url "/subscriptions/{subscriptionId}/providers/Microsoft.Cache/CheckNameAvailability?api-version=${REDIS_API_VERSION}" \
      --body "{\"name\":\"$REDIS_NAME\",\"type\":\"Microsoft.Cache/redis\"}" -o none
    return 0
  fi
  # The URL has no host: az prefixes the Resource Manager endpoint of the current cloud and fills in
  # {subscriptionId}. The API answers 200 when the name is free and an error otherwise.
  err="$(az rest --method post --url "/subscriptions/{subscriptionId}/providers/Microsoft.Cache/CheckNameAvailability?api-version=${REDIS_API_VERSION}" \
    --body "{\"name\":\"$REDIS_NAME\",\"type\":\"Microsoft.Cache/redis\"}" -o none 2>&1)" ||
    die "the Redis name '$REDIS_NAME' is not available (${err//$'\n'/ }); choose another with REDIS_NAME=... or NAME_SUFFIX=..."
}

create_cache_redis() {
  local err
  if dry_run; then
    run az redis create --resource-group "$RESOURCE_GROUP" --name "$REDIS_NAME" --location "$LOCATION" \
      --sku "$REDIS_SKU" --vm-size "$REDIS_VM_SIZE" --minimum-tls-version 1.2 -o none
    return 0
  fi
  if ! err="$(az redis create --resource-group "$RESOURCE_GROUP" --name "$REDIS_NAME" --location "$LOCATION" \
    --sku "$REDIS_SKU" --vm-size "$REDIS_VM_SIZE" --minimum-tls-version 1.2 -o none 2>&1)"; then
    printf '%s\n' "$err" >&2
    # Since 2026-04-01 a tenant that had no Azure Cache for Redis before gets BadRequest here.
    if [[ "$err" =~ [Rr]etir|no\ longer\ supported|[Mm]anaged\ Redis ]]; then
      die "Azure refuses to create Azure Cache for Redis in this subscription (new creations stopped on 2026-04-01; the service retires on 2028-09-30). Use Azure Managed Redis: deploy/provision.sh --redis managed"
    fi
    die "az redis create failed for $REDIS_NAME"
  fi
}

# `az redis create` has no flag for public network access; the ARM PATCH is the documented way. The
# URL is the resource id alone, so az picks the Resource Manager endpoint of the current cloud.
disable_cache_public_access() {
  run az rest --method patch --url "${REDIS_ID}?api-version=${REDIS_API_VERSION}" \
    --body '{"properties":{"publicNetworkAccess":"Disabled"}}' -o none
  wait_for_redis
}

ensure_redis() {
  log "$REDIS_LABEL $REDIS_NAME (TLS only, no public access)"
  if ((REDIS_EXISTS)); then
    log "$REDIS_LABEL $REDIS_NAME exists"
  elif [[ "$REDIS_KIND" == managed ]]; then
    create_managed_redis
  else
    create_cache_redis
  fi
  wait_for_redis
  capture REDIS_ID "${REDIS_SHOW[@]}" --query id -o tsv
  REDIS_ID="${REDIS_ID%$'\r'}"
  if [[ "$REDIS_KIND" == managed ]]; then
    check_managed_database
  else
    disable_cache_public_access
  fi
}

# ---- private endpoint, DNS zone, link and zone group: four independent steps --------------------
ensure_private_endpoint() {
  log "Private DNS zone $PRIVATE_DNS_ZONE and private endpoint $PRIVATE_ENDPOINT_NAME ($SUBNET_BACKEND_NAME)"
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
      --group-id "$PE_GROUP_ID" --connection-name "$PRIVATE_ENDPOINT_NAME-connection" -o none
  fi
  # Checked on its own: an interrupted run can leave the endpoint without its DNS records, and then
  # the Redis host name does not resolve inside the VNet.
  if exists az network private-endpoint dns-zone-group show --resource-group "$RESOURCE_GROUP" \
    --endpoint-name "$PRIVATE_ENDPOINT_NAME" --name default; then
    log "DNS zone group of $PRIVATE_ENDPOINT_NAME exists"
  else
    run az network private-endpoint dns-zone-group create --resource-group "$RESOURCE_GROUP" \
      --endpoint-name "$PRIVATE_ENDPOINT_NAME" --name default \
      --private-dns-zone "$PRIVATE_DNS_ZONE" --zone-name redis -o none
  fi
}

# ---- names: checked before anything is created, so a taken name never costs the long Redis wait ---
REDIS_EXISTS=0
ACR_EXISTS=0
check_names() {
  local available
  log "Checking the global names $REDIS_NAME and $ACR_NAME"
  exists "${REDIS_SHOW[@]}" && REDIS_EXISTS=1
  exists az acr show --resource-group "$RESOURCE_GROUP" --name "$ACR_NAME" && ACR_EXISTS=1
  if ((!REDIS_EXISTS)); then
    if [[ "$REDIS_KIND" == cache ]]; then
      check_cache_name
    else
      # Azure offers no name check for Managed Redis: the name rules were checked above, and a name
      # taken in this region makes `az redisenterprise create` fail at once.
      log "Azure Managed Redis name $REDIS_NAME follows the name rules"
    fi
  fi
  if ((!ACR_EXISTS)); then
    capture available az acr check-name --name "$ACR_NAME" --query nameAvailable -o tsv
    if ! dry_run && [[ "${available%$'\r'}" != true ]]; then
      die "the registry name '$ACR_NAME' is not available: $(az acr check-name --name "$ACR_NAME" --query message -o tsv 2>/dev/null || true) Choose another with ACR_NAME=... or NAME_SUFFIX=..."
    fi
  fi
}

# ---- registry -----------------------------------------------------------------------------------
token_password() { # the new token's password, without the newline -o tsv adds
  az acr token create --name "$ACR_TOKEN_NAME" --registry "$ACR_NAME" --scope-map _repositories_push \
    --query 'credentials.passwords[0].value' -o tsv | strip_eol
}

create_push_token() {
  if exists az acr token show --name "$ACR_TOKEN_NAME" --registry "$ACR_NAME"; then
    log "ACR token $ACR_TOKEN_NAME already exists; its password is not shown again."
    [[ -s "$ACR_TOKEN_FILE" ]] ||
      log "For a new password: umask 077; az acr token credential generate --name $ACR_TOKEN_NAME --registry $ACR_NAME --password1 --query 'passwords[0].value' -o tsv | tr -d '\\r\\n' > $ACR_TOKEN_FILE"
    return 0
  fi
  if dry_run; then
    print_cmd "$(quote_cmd az acr token create --name "$ACR_TOKEN_NAME" --registry "$ACR_NAME" --scope-map _repositories_push --query 'credentials.passwords[0].value' -o tsv) | tr -d '\\r\\n' > $(quote_arg "$ACR_TOKEN_FILE")  # file mode 600"
    return 0
  fi
  write_private_file "$ACR_TOKEN_FILE" token_password || die "could not create the ACR token $ACR_TOKEN_NAME"
  [[ -s "$ACR_TOKEN_FILE" ]] || die "az acr token create returned no password"
  log "ACR push token password written to $ACR_TOKEN_FILE (mode 600)"
}

ensure_registry() {
  log "Azure Container Registry $ACR_NAME and push token"
  if ((ACR_EXISTS)); then
    log "registry $ACR_NAME exists"
  else
    run az acr create --resource-group "$RESOURCE_GROUP" --name "$ACR_NAME" --location "$LOCATION" \
      --sku "$ACR_SKU" -o none
  fi
  create_push_token
}

# ---- cluster ------------------------------------------------------------------------------------
ensure_cluster() {
  log "AKS cluster $AKS_NAME (Azure CNI, pods in $SUBNET_PODS_NAME, node pool labelled $SHIM_NODE_LABEL)"
  if exists az aks show --resource-group "$RESOURCE_GROUP" --name "$AKS_NAME"; then
    log "cluster $AKS_NAME exists"
  else
    capture NODES_SUBNET_ID az network vnet subnet show --resource-group "$RESOURCE_GROUP" \
      --vnet-name "$VNET_NAME" --name "$SUBNET_NODES_NAME" --query id -o tsv
    capture PODS_SUBNET_ID az network vnet subnet show --resource-group "$RESOURCE_GROUP" \
      --vnet-name "$VNET_NAME" --name "$SUBNET_PODS_NAME" --query id -o tsv
    local -a version_args=()
    [[ -n "$AKS_KUBERNETES_VERSION" ]] && version_args=(--kubernetes-version "$AKS_KUBERNETES_VERSION")
    # The label is set on the node pool, so nodes added later (scale-out, upgrades) carry it too and
    # the shim installer reaches them.
    run az aks create --resource-group "$RESOURCE_GROUP" --name "$AKS_NAME" --location "$LOCATION" \
      --tier free --node-count "$AKS_NODE_COUNT" --node-vm-size "$AKS_NODE_VM_SIZE" \
      --nodepool-labels "$SHIM_NODE_LABEL" \
      ${version_args[@]+"${version_args[@]}"} \
      --network-plugin azure --vnet-subnet-id "${NODES_SUBNET_ID%$'\r'}" --pod-subnet-id "${PODS_SUBNET_ID%$'\r'}" \
      --service-cidr "$AKS_SERVICE_CIDR" --dns-service-ip "$AKS_DNS_SERVICE_IP" \
      --generate-ssh-keys -o none
  fi
  # On every run: granting AcrPull is idempotent, and a role assignment that failed once (missing
  # rights, replication delay) is retried instead of being skipped forever.
  run az aks update --resource-group "$RESOURCE_GROUP" --name "$AKS_NAME" --attach-acr "$ACR_NAME" -o none
}

get_credentials() {
  local before="" after
  if ! dry_run && command -v kubectl >/dev/null 2>&1; then
    before="$(kubectl config current-context 2>/dev/null || true)"
  fi
  run az aks get-credentials --resource-group "$RESOURCE_GROUP" --name "$AKS_NAME" --overwrite-existing
  dry_run && return 0
  after="$AKS_NAME"
  if [[ "$before" != "$after" ]]; then
    log "kubectl context switched: '${before:-none}' -> '$after' (switch back with: kubectl config use-context ${before:-<name>})"
  else
    log "kubectl context: '$after' (unchanged)"
  fi
}

main() {
  log "Names: resource group $RESOURCE_GROUP, $REDIS_LABEL $REDIS_NAME, ACR $ACR_NAME, AKS $AKS_NAME (NAME_SUFFIX=$NAME_SUFFIX)"
  require_az_version
  require_az_login
  if ! dry_run; then
    save_names
    log "names saved in $NAMES_FILE; the other deploy scripts read them from there"
  fi
  check_names
  ensure_network
  ensure_redis
  ensure_private_endpoint
  ensure_registry
  ensure_cluster
  get_credentials

  if dry_run; then
    log "dry run: nothing was created"
  else
    log "Done. Next: deploy/install-spinkube.sh, then deploy/render-runtime-config.sh and deploy/deploy-app.sh"
    log "Billing runs until deploy/teardown.sh has finished (see docs/azure.md for the costs)."
  fi
}

main
