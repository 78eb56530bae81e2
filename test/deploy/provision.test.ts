import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_SUBSCRIPTION_ID, SECRETS, commandLines, createSandbox, findCall, findLeaks, flagValue, indexOfCall, type Sandbox } from './fakes';

const SCRIPT = 'provision.sh';
const RG = 'rg-cache-with-az-redis';
const ACR = 'acrcwartest01';
const REDIS = 'redis-cwar-test01';

let sb: Sandbox;
let tokenFile: string;
beforeEach(() => {
  sb = createSandbox();
  tokenFile = join(sb.home, '.config', 'cache-with-az-redis', `${ACR}-push-token`);
});
afterEach(() => sb.cleanup());

describe('deploy/provision.sh', () => {
  it('--help exits 0 with usage listing the variables', () => {
    const r = sb.run(SCRIPT, ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: deploy/provision.sh');
    for (const v of ['RESOURCE_GROUP', 'LOCATION', 'VNET_NAME', 'VNET_PREFIX', 'SUBNET_BACKEND_PREFIX', 'REDIS_NAME', 'ACR_NAME', 'ACR_TOKEN_FILE', 'AKS_NAME']) {
      expect(r.stdout).toContain(v);
    }
    expect(r.calls).toEqual([]);
  });

  it('creates the resources in order with the expected flags', () => {
    const r = sb.run(SCRIPT);
    expect(r.stderr).not.toContain('error:');
    expect(r.status).toBe(0);
    const calls = r.calls;
    const lines = commandLines(calls);

    // login check comes first
    expect(lines[0]).toBe('az account show --query name -o tsv');

    const order = [
      'az group create',
      'az network vnet create',
      'az network vnet subnet create --resource-group rg-cache-with-az-redis --vnet-name vnet-cache-with-az-redis --name sn-nodes',
      'az network vnet subnet create --resource-group rg-cache-with-az-redis --vnet-name vnet-cache-with-az-redis --name sn-pods',
      'az network vnet subnet create --resource-group rg-cache-with-az-redis --vnet-name vnet-cache-with-az-redis --name sn-backend',
      'az redis create',
      'az network private-dns zone create',
      'az network private-dns link vnet create',
      'az network private-endpoint create',
      'az network private-endpoint dns-zone-group create',
      'az rest --method patch',
      'az acr create',
      'az acr token create',
      'az aks create',
      'az aks get-credentials',
    ];
    const positions = order.map((prefix) => indexOfCall(calls, prefix));
    expect(positions.every((p) => p > 0), `missing: ${order.filter((_, i) => positions[i]! < 0).join(', ')}`).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));

    const backend = calls[positions[4]!]!;
    expect(flagValue(backend, '--private-endpoint-network-policies')).toBe('Disabled');

    const redis = findCall(calls, 'az redis create');
    expect(flagValue(redis, '--sku')).toBe('Standard');
    expect(flagValue(redis, '--vm-size')).toBe('c1');
    expect(flagValue(redis, '--name')).toBe(REDIS);
    expect(redis?.args).not.toContain('--enable-non-ssl-port');

    expect(flagValue(findCall(calls, 'az network private-dns zone create'), '--name')).toBe('privatelink.redis.cache.windows.net');
    const link = findCall(calls, 'az network private-dns link vnet create');
    expect(flagValue(link, '--virtual-network')).toBe('vnet-cache-with-az-redis');
    const pe = findCall(calls, 'az network private-endpoint create');
    expect(flagValue(pe, '--group-id')).toBe('redisCache');
    expect(flagValue(pe, '--subnet')).toBe('sn-backend');
    expect(flagValue(pe, '--private-connection-resource-id')).toContain(`/subscriptions/${FAKE_SUBSCRIPTION_ID}/`);
    const zoneGroup = findCall(calls, 'az network private-endpoint dns-zone-group create');
    expect(flagValue(zoneGroup, '--private-dns-zone')).toBe('privatelink.redis.cache.windows.net');

    const patch = findCall(calls, 'az rest --method patch');
    expect(flagValue(patch, '--url')).toMatch(/^https:\/\/management\.azure\.com\/subscriptions\/.+\/Redis\/fake\?api-version=/);
    expect(JSON.parse(flagValue(patch, '--body')!)).toEqual({ properties: { publicNetworkAccess: 'Disabled' } });

    const token = findCall(calls, 'az acr token create');
    expect(flagValue(token, '--scope-map')).toBe('_repositories_push');
    expect(flagValue(token, '--registry')).toBe(ACR);

    const aks = findCall(calls, 'az aks create');
    expect(flagValue(aks, '--network-plugin')).toBe('azure');
    expect(flagValue(aks, '--vnet-subnet-id')).toMatch(/\/subnets\//);
    expect(flagValue(aks, '--pod-subnet-id')).toMatch(/\/subnets\//);
    expect(flagValue(aks, '--attach-acr')).toBe(ACR);
    expect(flagValue(findCall(calls, 'az aks get-credentials'), '--name')).toBe('aks-cache-with-az-redis');
    expect(flagValue(findCall(calls, 'az group create'), '--name')).toBe(RG);
  });

  it('writes the ACR token password to a mode-600 file and never prints it', () => {
    const r = sb.run(SCRIPT);
    expect(r.status).toBe(0);
    expect(readFileSync(tokenFile, 'utf8').trim()).toBe(SECRETS.registryPassword);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(tokenFile)).mode & 0o777).toBe(0o700);
    expect(findLeaks(r, [SECRETS.registryPassword])).toEqual([]);
    expect(r.stderr).toContain(tokenFile);
  });

  it('honours overrides of names and address ranges', () => {
    const r = sb.run(SCRIPT, [], {
      env: { RESOURCE_GROUP: 'rg-other', LOCATION: 'westeurope', VNET_PREFIX: '10.50.0.0/16', SUBNET_BACKEND_PREFIX: '10.50.9.0/24', REDIS_NAME: 'my-cache', ACR_NAME: 'myacr12345' },
    });
    expect(r.status).toBe(0);
    const calls = r.calls;
    expect(flagValue(findCall(calls, 'az group create'), '--location')).toBe('westeurope');
    expect(flagValue(findCall(calls, 'az network vnet create'), '--address-prefixes')).toBe('10.50.0.0/16');
    expect(flagValue(findCall(calls, 'az network vnet subnet create --resource-group rg-other --vnet-name vnet-cache-with-az-redis --name sn-backend'), '--address-prefixes')).toBe('10.50.9.0/24');
    expect(flagValue(findCall(calls, 'az redis create'), '--name')).toBe('my-cache');
    expect(flagValue(findCall(calls, 'az aks create'), '--attach-acr')).toBe('myacr12345');
  });

  it('skips resources that already exist and does not mint a new token', () => {
    const r = sb.run(SCRIPT, [], { env: { FAKE_AZ_ALL_EXIST: '1' } });
    expect(r.status).toBe(0);
    for (const prefix of ['az network vnet create', 'az redis create', 'az network private-endpoint create', 'az acr create', 'az acr token create', 'az aks create']) {
      expect(indexOfCall(r.calls, prefix), prefix).toBe(-1);
    }
    expect(indexOfCall(r.calls, 'az aks get-credentials')).toBeGreaterThan(0);
    expect(existsSync(tokenFile)).toBe(false);
    expect(r.stderr).toContain('az acr token credential generate');
  });

  it('--dry-run runs nothing and prints every command, without the password', () => {
    const r = sb.run(SCRIPT, ['--dry-run']);
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([]);
    expect(existsSync(tokenFile)).toBe(false);
    for (const text of [
      '+ az account show',
      '+ az group create --name rg-cache-with-az-redis',
      '--private-endpoint-network-policies Disabled',
      `+ az redis create --resource-group ${RG} --name ${REDIS}`,
      '--sku Standard --vm-size c1',
      '--group-id redisCache',
      'publicNetworkAccess',
      '--scope-map _repositories_push',
      '--network-plugin azure --vnet-subnet-id "$NODES_SUBNET_ID" --pod-subnet-id "$PODS_SUBNET_ID"',
      `--attach-acr ${ACR}`,
      '+ az aks get-credentials',
    ]) {
      expect(r.stdout).toContain(text);
    }
    expect(r.stdout).not.toContain(SECRETS.registryPassword);
  });

  it('--dry-run works without the Azure CLI installed', () => {
    const r = sb.run(SCRIPT, ['--dry-run'], { without: ['az'] });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('+ az group create');
  });

  it('stops with a clear message when az is missing', () => {
    const r = sb.run(SCRIPT, [], { without: ['az'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/'az' is required/);
    expect(r.calls).toEqual([]);
  });

  it('stops when not logged in, before creating anything', () => {
    const r = sb.run(SCRIPT, [], { env: { FAKE_AZ_NOT_LOGGED_IN: '1' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('az login');
    expect(commandLines(r.calls)).toEqual(['az account show --query name -o tsv']);
  });

  it('rejects an invalid registry name before any az call', () => {
    const r = sb.run(SCRIPT, [], { env: { ACR_NAME: 'not-valid!' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('ACR_NAME');
    expect(r.calls).toEqual([]);
  });
});
