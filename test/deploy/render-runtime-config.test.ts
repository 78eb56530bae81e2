import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_AMR_HOST, FAKE_REDIS_HOST, SECRETS, commandLines, createSandbox, findLeaks, type Sandbox } from './fakes';

const SCRIPT = 'render-runtime-config.sh';

let sb: Sandbox;
let out: string;
beforeEach(() => {
  sb = createSandbox();
  out = join(sb.root, 'azure.rendered.toml');
});
afterEach(() => sb.cleanup());

function readUrl(path: string): URL {
  const toml = parseToml(readFileSync(path, 'utf8')) as { key_value_store?: { default?: { type?: string; url?: string } } };
  const store = toml.key_value_store?.default;
  expect(store?.type).toBe('redis');
  expect(typeof store?.url).toBe('string');
  return new URL(store!.url!);
}

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('deploy/render-runtime-config.sh', () => {
  it('--help exits 0 with usage', () => {
    const r = sb.run(SCRIPT, ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: deploy/render-runtime-config.sh');
    expect(r.calls).toEqual([]);
  });

  it('writes a mode-600 TOML file whose URL password decodes to the exact key (+ / = encoded)', () => {
    const r = sb.run(SCRIPT, ['--redis', 'cache', '--name', 'redis-cwar-test01', '--resource-group', 'rg-x', '--out', out]);
    expect(r.stderr).not.toContain('error:');
    expect(r.status).toBe(0);
    expect(mode(out)).toBe(0o600);

    const url = readUrl(out);
    expect(url.protocol).toBe('rediss:');
    expect(url.hostname).toBe(FAKE_REDIS_HOST);
    expect(url.port).toBe('6380');
    expect(url.username).toBe('');
    expect(decodeURIComponent(url.password)).toBe(SECRETS.redisKey);
    // encodeURIComponent semantics: none of + / = survives unencoded
    expect(url.password).not.toMatch(/[+/=]/);
    expect(readFileSync(out, 'utf8')).not.toContain(SECRETS.redisKey);

    expect(commandLines(r.calls)).toEqual([
      'az account show --query name -o tsv',
      'az redis show --resource-group rg-x --name redis-cwar-test01 --query hostName -o tsv',
      'az redis list-keys --resource-group rg-x --name redis-cwar-test01 --query primaryKey -o tsv',
    ]);
    expect(findLeaks(r, [SECRETS.redisKey])).toEqual([]);
  });

  it('round-trips a key with characters beyond base64', () => {
    const key = 'a b&c%d#e?f@g:h[i]j~k!l*m(n)o\'p"q\\r';
    const r = sb.run(SCRIPT, ['--out', out], { env: { FAKE_REDIS_KEY: key, REDIS_KIND: 'cache' } });
    expect(r.status).toBe(0);
    const url = readUrl(out);
    expect(url.hostname).toBe(FAKE_REDIS_HOST);
    expect(decodeURIComponent(url.password)).toBe(key);
    expect(url.password).toBe(encodeURIComponent(key));
  });

  it('replaces an existing world-readable file with a mode-600 one', () => {
    writeFileSync(out, 'old\n', { mode: 0o644 });
    const r = sb.run(SCRIPT, ['--out', out]);
    expect(r.status).toBe(0);
    expect(mode(out)).toBe(0o600);
    expect(decodeURIComponent(readUrl(out).password)).toBe(SECRETS.redisKey);
  });

  it.each([['--redis', 'managed'], ['--managed']])('%s targets Azure Managed Redis on port 10000 after checking the clustering policy', (...flag) => {
    const r = sb.run(SCRIPT, [...flag, '--name', 'amr-cwar-test01', '--out', out]);
    expect(r.status).toBe(0);
    const url = readUrl(out);
    expect(url.hostname).toBe(FAKE_AMR_HOST);
    expect(url.port).toBe('10000');
    expect(decodeURIComponent(url.password)).toBe(SECRETS.redisKey);
    const lines = commandLines(r.calls);
    expect(lines[1]).toContain('az redisenterprise show --resource-group rg-cache-with-az-redis --cluster-name amr-cwar-test01');
    expect(lines[2]).toContain('az redisenterprise database show');
    expect(lines[2]).toContain('--query clusteringPolicy');
    expect(lines[3]).toBe(
      'az redisenterprise database list-keys --resource-group rg-cache-with-az-redis --cluster-name amr-cwar-test01 --query primaryKey -o tsv',
    );
    expect(findLeaks(r, [SECRETS.redisKey])).toEqual([]);
  });

  it('--managed refuses the OSS cluster policy before reading the key', () => {
    const r = sb.run(SCRIPT, ['--managed', '--out', out], { env: { FAKE_AMR_POLICY: 'OSSCluster' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/clustering policy 'OSSCluster'/);
    expect(r.stderr).toMatch(/EnterpriseCluster/);
    expect(existsSync(out)).toBe(false);
    expect(commandLines(r.calls).some((l) => l.includes('list-keys'))).toBe(false);
  });

  it('--dry-run runs nothing, writes nothing and prints the commands of either kind', () => {
    const r = sb.run(SCRIPT, ['--dry-run', '--redis', 'cache', '--out', out]);
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([]);
    expect(existsSync(out)).toBe(false);
    expect(r.stdout).toContain('az redis show --resource-group rg-cache-with-az-redis --name rediscwartest01 --query hostName -o tsv');
    expect(r.stdout).toContain('az redis list-keys --resource-group rg-cache-with-az-redis --name rediscwartest01 --query primaryKey -o tsv');

    const managed = sb.run(SCRIPT, ['--dry-run', '--out', out]);
    expect(managed.status).toBe(0);
    expect(managed.calls).toEqual([]);
    expect(managed.stdout).toContain('az redisenterprise show --resource-group rg-cache-with-az-redis --cluster-name rediscwartest01 --query hostName -o tsv');
    expect(managed.stdout).toContain('# must print EnterpriseCluster or NoCluster');
    expect(managed.stdout).toContain(':10000');
  });

  it('defaults to Azure Managed Redis and to the names and kind saved by provision.sh', () => {
    const dir = join(sb.home, '.config', 'cache-with-az-redis');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'names.env'), 'NAME_SUFFIX=abc123\nRESOURCE_GROUP=rg-saved\nREDIS_KIND=managed\nREDIS_NAME=rediscwarabc123\n');
    const r = sb.run(SCRIPT, ['--out', out], { env: { NAME_SUFFIX: undefined } });
    expect(r.status).toBe(0);
    expect(commandLines(r.calls)[1]).toBe('az redisenterprise show --resource-group rg-saved --cluster-name rediscwarabc123 --query hostName -o tsv');
    expect(readUrl(out).port).toBe('10000');

    writeFileSync(join(dir, 'names.env'), 'NAME_SUFFIX=abc123\nREDIS_KIND=cache\n');
    const cache = sb.run(SCRIPT, ['--out', out], { env: { NAME_SUFFIX: undefined } });
    expect(cache.status).toBe(0);
    expect(readUrl(out).hostname).toBe(FAKE_REDIS_HOST);
    expect(readUrl(out).port).toBe('6380');
  });

  it('stops when no names were saved and none is given', () => {
    const r = sb.run(SCRIPT, ['--out', out], { env: { NAME_SUFFIX: undefined } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('REDIS_NAME is not known: run deploy/provision.sh first');
    expect(r.calls).toEqual([]);
  });

  it('stops with a clear message when az is missing', () => {
    const r = sb.run(SCRIPT, ['--out', out], { without: ['az'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/'az' is required/);
    expect(r.calls).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });

  it('stops when not logged in to Azure, before reading anything', () => {
    const r = sb.run(SCRIPT, ['--out', out], { env: { FAKE_AZ_NOT_LOGGED_IN: '1' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('az login');
    expect(commandLines(r.calls)).toEqual(['az account show --query name -o tsv']);
    expect(existsSync(out)).toBe(false);
  });

  it('rejects unknown arguments', () => {
    const r = sb.run(SCRIPT, ['--nope']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('unknown argument: --nope');
    expect(r.calls).toEqual([]);
  });
});
