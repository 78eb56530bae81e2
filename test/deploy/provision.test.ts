import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_SUBSCRIPTION_ID, SECRETS, commandLines, createSandbox, findCall, findLeaks, flagValue, indexOfCall, type Call, type Sandbox } from './fakes';

const SCRIPT = 'provision.sh';
const RG = 'rg-cache-with-az-redis';
const ACR = 'acrcwartest01';
const REDIS = 'rediscwartest01';

let sb: Sandbox;
let tokenFile: string;
let namesFile: string;
beforeEach(() => {
  sb = createSandbox();
  tokenFile = join(sb.home, '.config', 'cache-with-az-redis', `${ACR}-push-token`);
  namesFile = join(sb.home, '.config', 'cache-with-az-redis', 'names.env');
});
afterEach(() => sb.cleanup());

/** Asserts that each prefix names a call, in this order; returns the calls found. */
function inOrder(calls: Call[], prefixes: string[]): Call[] {
  const positions = prefixes.map((prefix) => indexOfCall(calls, prefix));
  expect(prefixes.filter((_, i) => positions[i]! < 0), 'missing calls').toEqual([]);
  expect(positions).toEqual([...positions].sort((a, b) => a - b));
  return positions.map((p) => calls[p]!);
}

const creates = (calls: Call[]): string[] => commandLines(calls).filter((l) => / (create|update)( |$)|rest --method patch/.test(l));

describe('deploy/provision.sh --redis managed (the default)', () => {
  it('--help exits 0 with usage listing the variables, the kinds, time and cost', () => {
    const r = sb.run(SCRIPT, ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: deploy/provision.sh [--redis managed|cache]');
    for (const v of ['REDIS_KIND', 'RESOURCE_GROUP', 'LOCATION', 'VNET_NAME', 'SUBNET_BACKEND_PREFIX', 'REDIS_NAME', 'AMR_SKU', 'ACR_NAME', 'ACR_TOKEN_FILE', 'AKS_NAME', 'names.env', '20-40 minutes', 'vCPU']) {
      expect(r.stdout).toContain(v);
    }
    expect(r.calls).toEqual([]);
  });

  it('checks az and the names first, then creates everything in order with the expected flags', () => {
    const r = sb.run(SCRIPT);
    expect(r.stderr).not.toContain('error:');
    expect(r.status).toBe(0);
    const calls = r.calls;
    expect(commandLines(calls).slice(0, 2)).toEqual(['az version --query "azure-cli" -o tsv', 'az account show --query name -o tsv']);

    const [, , , , nodes, pods, backend, amr, , zone, link, pe, zoneGroup, , , , aks, attach, creds] = inOrder(calls, [
      'az redisenterprise show --resource-group rg-cache-with-az-redis --cluster-name rediscwartest01 --only-show-errors',
      'az acr check-name --name acrcwartest01 --query nameAvailable -o tsv',
      'az group create',
      'az network vnet create',
      'az network vnet subnet create --resource-group rg-cache-with-az-redis --vnet-name vnet-cache-with-az-redis --name sn-nodes',
      'az network vnet subnet create --resource-group rg-cache-with-az-redis --vnet-name vnet-cache-with-az-redis --name sn-pods',
      'az network vnet subnet create --resource-group rg-cache-with-az-redis --vnet-name vnet-cache-with-az-redis --name sn-backend',
      'az redisenterprise create',
      'az redisenterprise database show',
      'az network private-dns zone create',
      'az network private-dns link vnet create',
      'az network private-endpoint create',
      'az network private-endpoint dns-zone-group create',
      'az acr create',
      'az acr token create',
      'az network vnet subnet show --resource-group rg-cache-with-az-redis --vnet-name vnet-cache-with-az-redis --name sn-nodes --query id',
      'az aks create',
      'az aks update',
      'az aks get-credentials',
    ]);
    expect(flagValue(nodes, '--address-prefixes')).toBe('10.224.0.0/16');
    expect(flagValue(pods, '--address-prefixes')).toBe('10.225.0.0/16');
    expect(flagValue(backend, '--private-endpoint-network-policies')).toBe('Disabled');

    // what Spin needs from Azure Managed Redis
    expect(amr!.args).toEqual([
      'redisenterprise', 'create', '--resource-group', RG, '--cluster-name', REDIS, '--location', 'germanywestcentral',
      '--sku', 'Balanced_B0', '--minimum-tls-version', '1.2', '--public-network-access', 'Disabled',
      '--client-protocol', 'Encrypted', '--port', '10000', '--clustering-policy', 'EnterpriseCluster',
      '--eviction-policy', 'AllKeysLRU', '--access-keys-auth', 'Enabled', '-o', 'none',
    ]);
    expect(flagValue(zone, '--name')).toBe('privatelink.redis.azure.net');
    expect(flagValue(link, '--virtual-network')).toBe('vnet-cache-with-az-redis');
    expect(flagValue(pe, '--group-id')).toBe('redisEnterprise');
    expect(flagValue(pe, '--subnet')).toBe('sn-backend');
    expect(flagValue(pe, '--private-connection-resource-id')).toBe(`/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Cache/redisEnterprise/fake`);
    expect(flagValue(zoneGroup, '--private-dns-zone')).toBe('privatelink.redis.azure.net');
    // no Azure Cache for Redis, no hand-made ARM call on the managed path
    expect(commandLines(calls).filter((l) => l.startsWith('az redis ') || l.startsWith('az rest'))).toEqual([]);

    const token = findCall(calls, 'az acr token create');
    expect(flagValue(token, '--scope-map')).toBe('_repositories_push');
    expect(flagValue(token, '--registry')).toBe(ACR);

    expect(flagValue(aks, '--network-plugin')).toBe('azure');
    expect(flagValue(aks, '--nodepool-labels')).toBe('spin=true');
    expect(flagValue(aks, '--vnet-subnet-id')).toMatch(/\/subnets\/fake$/);
    expect(flagValue(aks, '--pod-subnet-id')).toMatch(/\/subnets\/fake$/);
    expect(aks!.args).not.toContain('--attach-acr');
    expect(attach!.args).toEqual(['aks', 'update', '--resource-group', RG, '--name', 'aks-cache-with-az-redis', '--attach-acr', ACR, '-o', 'none']);
    expect(flagValue(creds, '--name')).toBe('aks-cache-with-az-redis');
  });

  it('writes the ACR token password as its exact bytes (no newline) to a mode-600 file and never prints it', () => {
    const r = sb.run(SCRIPT);
    expect(r.status).toBe(0);
    expect(readFileSync(tokenFile)).toEqual(Buffer.from(SECRETS.registryPassword)); // the fake az printed it with "\n"
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(tokenFile)).mode & 0o777).toBe(0o700);
    expect(findLeaks(r, [SECRETS.registryPassword])).toEqual([]);
    expect(r.stderr).toContain(tokenFile);
  });

  it('saves the names it drew and reuses them on the next run', () => {
    const first = sb.run(SCRIPT, [], { env: { NAME_SUFFIX: undefined } });
    expect(first.status).toBe(0);
    const saved = readFileSync(namesFile, 'utf8');
    const suffix = /^NAME_SUFFIX=([0-9a-f]{6})$/m.exec(saved)?.[1];
    expect(suffix).toBeDefined();
    expect(saved).toBe(
      `NAME_SUFFIX=${suffix}\nRESOURCE_GROUP=${RG}\nLOCATION=germanywestcentral\nREDIS_KIND=managed\nREDIS_NAME=rediscwar${suffix}\nACR_NAME=acrcwar${suffix}\nAKS_NAME=aks-cache-with-az-redis\n`,
    );
    expect(statSync(namesFile).mode & 0o777).toBe(0o600);

    const second = sb.run(SCRIPT, [], { env: { NAME_SUFFIX: undefined } });
    expect(second.status).toBe(0);
    const second_calls = second.calls.slice(first.calls.length);
    expect(flagValue(findCall(second_calls, 'az redisenterprise create'), '--cluster-name')).toBe(`rediscwar${suffix}`);
    expect(flagValue(findCall(second_calls, 'az acr create'), '--name')).toBe(`acrcwar${suffix}`);
    expect(readFileSync(namesFile, 'utf8')).toBe(saved);
  });

  it('a saved Redis kind is reused: the next run without --redis stays on Azure Cache for Redis', () => {
    mkdirSync(dirname(namesFile), { recursive: true });
    writeFileSync(namesFile, 'NAME_SUFFIX=abc123\nREDIS_KIND=cache\nnot a name line\nPATH=/evil\n');
    const r = sb.run(SCRIPT, [], { env: { NAME_SUFFIX: undefined } });
    expect(r.status).toBe(0);
    expect(flagValue(findCall(r.calls, 'az redis create'), '--name')).toBe('rediscwarabc123');
    expect(indexOfCall(r.calls, 'az redisenterprise create')).toBe(-1);
  });

  it('on a re-run creates only what is missing, and always retries the AcrPull grant', () => {
    const r = sb.run(SCRIPT, [], { env: { FAKE_AZ_ALL_EXIST: '1' } });
    expect(r.status).toBe(0);
    expect(creates(r.calls)).toEqual([
      `az group create --name ${RG} --location germanywestcentral -o none`,
      `az aks update --resource-group ${RG} --name aks-cache-with-az-redis --attach-acr ${ACR} -o none`,
    ]);
    expect(indexOfCall(r.calls, 'az acr check-name')).toBe(-1);
    expect(indexOfCall(r.calls, 'az aks get-credentials')).toBeGreaterThan(0);
    expect(existsSync(tokenFile)).toBe(false);
    expect(r.stderr).toContain('az acr token credential generate');
  });

  it('after an interruption: the private endpoint exists but its DNS zone group does not, so it is created', () => {
    const existing = [
      'network vnet show', 'network vnet subnet show', 'redisenterprise show', 'network private-dns',
      'network private-endpoint show', 'acr show', 'acr token show', 'aks show',
    ].join('|');
    const r = sb.run(SCRIPT, [], { env: { FAKE_AZ_EXISTING: existing } });
    expect(r.status).toBe(0);
    expect(creates(r.calls)).toEqual([
      `az group create --name ${RG} --location germanywestcentral -o none`,
      `az network private-endpoint dns-zone-group create --resource-group ${RG} --endpoint-name pe-redis --name default --private-dns-zone privatelink.redis.azure.net --zone-name redis -o none`,
      `az aks update --resource-group ${RG} --name aks-cache-with-az-redis --attach-acr ${ACR} -o none`,
    ]);
  });

  it('switches access-key authentication on for an existing database that has it off', () => {
    const r = sb.run(SCRIPT, [], { env: { FAKE_AZ_ALL_EXIST: '1', FAKE_AMR_ACCESS_KEYS: 'Disabled' } });
    expect(r.status).toBe(0);
    expect(commandLines(r.calls)).toContain(`az redisenterprise database update --resource-group ${RG} --cluster-name ${REDIS} --access-keys-auth Enabled -o none`);
  });

  it('stops on an existing database with the OSS cluster policy', () => {
    const r = sb.run(SCRIPT, [], { env: { FAKE_AZ_ALL_EXIST: '1', FAKE_AMR_POLICY: 'OSSCluster' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("clustering policy 'OSSCluster'");
    expect(indexOfCall(r.calls, 'az aks')).toBe(-1);
  });

  it('a taken registry name stops the run before anything is created', () => {
    const r = sb.run(SCRIPT, [], { env: { FAKE_ACR_NAME_AVAILABLE: 'false' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`the registry name '${ACR}' is not available: The registry name is already in use.`);
    expect(creates(r.calls)).toEqual([]);
  });

  it.each([
    [{ REDIS_NAME: 'my--cache' }, 'REDIS_NAME'],
    [{ REDIS_NAME: '-cache' }, 'REDIS_NAME'],
    [{ REDIS_NAME: 'Cache1' }, 'REDIS_NAME'],
    [{ REDIS_NAME: 'a'.repeat(61) }, 'REDIS_NAME'],
    [{ ACR_NAME: 'AcrUpper1' }, 'ACR_NAME'],
    [{ ACR_NAME: 'not-valid!' }, 'ACR_NAME'],
  ])('rejects %o by the name rules before any az call', (env, name) => {
    const r = sb.run(SCRIPT, [], { env });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(name);
    expect(r.calls).toEqual([]);
  });

  it('honours overrides of names, SKU and address ranges', () => {
    const r = sb.run(SCRIPT, [], {
      env: { RESOURCE_GROUP: 'rg-other', LOCATION: 'westeurope', VNET_PREFIX: '10.50.0.0/16', SUBNET_BACKEND_PREFIX: '10.50.9.0/24', REDIS_NAME: 'my-cache', ACR_NAME: 'myacr12345', AMR_SKU: 'Balanced_B1' },
    });
    expect(r.status).toBe(0);
    const calls = r.calls;
    expect(flagValue(findCall(calls, 'az group create'), '--location')).toBe('westeurope');
    expect(flagValue(findCall(calls, 'az network vnet create'), '--address-prefixes')).toBe('10.50.0.0/16');
    expect(flagValue(findCall(calls, 'az network vnet subnet create --resource-group rg-other --vnet-name vnet-cache-with-az-redis --name sn-backend'), '--address-prefixes')).toBe('10.50.9.0/24');
    const amr = findCall(calls, 'az redisenterprise create');
    expect(flagValue(amr, '--cluster-name')).toBe('my-cache');
    expect(flagValue(amr, '--sku')).toBe('Balanced_B1');
    expect(flagValue(findCall(calls, 'az aks update'), '--attach-acr')).toBe('myacr12345');
  });

  it('says when it switches the kubectl context', () => {
    const r = sb.run(SCRIPT, [], { env: { FAKE_KUBE_CONTEXT: 'prod-cluster' } });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("kubectl context switched: 'prod-cluster' -> 'aks-cache-with-az-redis'");
    expect(r.stderr).toContain('kubectl config use-context prod-cluster');
  });
});

describe('deploy/provision.sh --redis cache (Azure Cache for Redis)', () => {
  it.each([
    ['--redis cache', ['--redis', 'cache'], {}],
    ['REDIS_KIND=cache', [], { REDIS_KIND: 'cache' }],
  ])('%s checks the name, creates the cache, its endpoint and turns public access off', (_label, args, env) => {
    const r = sb.run(SCRIPT, args, { env });
    expect(r.stderr).not.toContain('error:');
    expect(r.status).toBe(0);
    const [check, , redis, patch, , pe, zoneGroup] = inOrder(r.calls, [
      'az rest --method post',
      'az group create',
      'az redis create',
      'az rest --method patch',
      'az network private-dns zone create',
      'az network private-endpoint create',
      'az network private-endpoint dns-zone-group create',
    ]);
    // the URL has no host: az uses the Resource Manager endpoint of the current cloud
    expect(flagValue(check, '--url')).toBe('/subscriptions/{subscriptionId}/providers/Microsoft.Cache/CheckNameAvailability?api-version=2024-11-01');
    expect(JSON.parse(flagValue(check, '--body')!)).toEqual({ name: REDIS, type: 'Microsoft.Cache/redis' });
    expect(redis!.args).toEqual(['redis', 'create', '--resource-group', RG, '--name', REDIS, '--location', 'germanywestcentral', '--sku', 'Standard', '--vm-size', 'c1', '--minimum-tls-version', '1.2', '-o', 'none']);
    expect(flagValue(patch, '--url')).toBe(`/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Cache/Redis/fake?api-version=2024-11-01`);
    expect(JSON.parse(flagValue(patch, '--body')!)).toEqual({ properties: { publicNetworkAccess: 'Disabled' } });
    expect(flagValue(findCall(r.calls, 'az network private-dns zone create'), '--name')).toBe('privatelink.redis.cache.windows.net');
    expect(flagValue(pe, '--group-id')).toBe('redisCache');
    expect(flagValue(zoneGroup, '--private-dns-zone')).toBe('privatelink.redis.cache.windows.net');
    // the provisioning state is polled again after the PATCH
    const polls = commandLines(r.calls).filter((l) => l.includes('--query provisioningState'));
    expect(polls.length).toBe(2);
    expect(indexOfCall(r.calls, 'az redisenterprise')).toBe(-1);
  });

  it('stops with a pointer to --redis managed when Azure refuses to create Azure Cache for Redis', () => {
    const r = sb.run(SCRIPT, ['--redis', 'cache'], { env: { FAKE_REDIS_CREATE_RETIRED: '1' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('no longer supported'); // Azure's own message is shown
    expect(r.stderr).toMatch(/error: Azure refuses to create Azure Cache for Redis .*deploy\/provision\.sh --redis managed/);
    const lines = commandLines(r.calls);
    expect(lines.at(-1)).toMatch(/^az redis create /);
  });

  it('a taken Redis name stops the run before the network or the cache is created', () => {
    const r = sb.run(SCRIPT, ['--redis', 'cache'], { env: { FAKE_REDIS_NAME_TAKEN: '1' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`the Redis name '${REDIS}' is not available ((NameNotAvailable) The name is already in use.)`);
    expect(creates(r.calls)).toEqual([]);
  });
});

describe('deploy/provision.sh checks before any side effect', () => {
  it('--dry-run runs nothing and prints every command of the managed path, without the password', () => {
    const r = sb.run(SCRIPT, ['--dry-run']);
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([]);
    expect(existsSync(tokenFile)).toBe(false);
    expect(existsSync(namesFile)).toBe(false);
    for (const text of [
      '# needs Azure CLI >= 2.75.0: az version',
      '+ az account show',
      `+ available=$(az acr check-name --name ${ACR} --query nameAvailable -o tsv)`,
      '+ az group create --name rg-cache-with-az-redis',
      '--private-endpoint-network-policies Disabled',
      `+ az redisenterprise create --resource-group ${RG} --cluster-name ${REDIS}`,
      '--clustering-policy EnterpriseCluster --eviction-policy AllKeysLRU --access-keys-auth Enabled',
      '--group-id redisEnterprise',
      'privatelink.redis.azure.net',
      "--scope-map _repositories_push --query 'credentials.passwords[0].value' -o tsv | tr -d '\\r\\n' >",
      '--nodepool-labels spin=true',
      '--network-plugin azure --vnet-subnet-id "$NODES_SUBNET_ID" --pod-subnet-id "$PODS_SUBNET_ID"',
      `+ az aks update --resource-group ${RG} --name aks-cache-with-az-redis --attach-acr ${ACR} -o none`,
      '+ az aks get-credentials',
    ]) {
      expect(r.stdout).toContain(text);
    }
    expect(r.stdout).not.toContain('az redis create');
    expect(r.stdout).not.toContain(SECRETS.registryPassword);
  });

  it('--dry-run --redis cache prints the Azure Cache for Redis path', () => {
    const r = sb.run(SCRIPT, ['--dry-run', '--redis', 'cache']);
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([]);
    for (const text of ['+ az rest --method post --url', `+ az redis create --resource-group ${RG} --name ${REDIS}`, '--sku Standard --vm-size c1', '--group-id redisCache', 'privatelink.redis.cache.windows.net', 'publicNetworkAccess']) {
      expect(r.stdout).toContain(text);
    }
    expect(r.stdout).not.toContain('redisenterprise create');
  });

  it('--dry-run works without the Azure CLI installed', () => {
    const r = sb.run(SCRIPT, ['--dry-run'], { without: ['az'] });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('+ az group create');
  });

  it('rejects an unknown --redis kind before any az call', () => {
    const r = sb.run(SCRIPT, ['--redis', 'enterprise']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("--redis (REDIS_KIND) must be 'managed' or 'cache' (got 'enterprise')");
    expect(r.calls).toEqual([]);
    expect(sb.run(SCRIPT, ['--redis']).stderr).toContain('--redis needs a value');
  });

  it('stops with a clear message when az is missing', () => {
    const r = sb.run(SCRIPT, [], { without: ['az'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/'az' is required/);
    expect(r.calls).toEqual([]);
  });

  it('stops on an Azure CLI older than 2.75.0, before logging in', () => {
    const r = sb.run(SCRIPT, [], { env: { FAKE_AZ_VERSION: '2.46.0' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Azure CLI 2.46.0 is too old: 2.75.0 or newer is required');
    expect(commandLines(r.calls)).toEqual(['az version --query "azure-cli" -o tsv']);
    expect(sb.run(SCRIPT, [], { env: { FAKE_AZ_VERSION: '2.75.0' } }).status).toBe(0);
    expect(sb.run(SCRIPT, [], { env: { FAKE_AZ_VERSION: '2.100.1' } }).status).toBe(0);
  });

  it('stops when not logged in, before creating anything', () => {
    const r = sb.run(SCRIPT, [], { env: { FAKE_AZ_NOT_LOGGED_IN: '1' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('az login');
    expect(commandLines(r.calls)).toEqual(['az version --query "azure-cli" -o tsv', 'az account show --query name -o tsv']);
    expect(existsSync(namesFile)).toBe(false);
  });
});
