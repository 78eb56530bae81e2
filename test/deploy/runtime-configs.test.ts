import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, hasTool } from './fakes';

interface RuntimeConfig {
  key_value_store?: Record<string, { type?: string; url?: string }>;
}

function store(file: string): { type?: string; raw: string } {
  const parsed = parseToml(readFileSync(join(REPO_ROOT, file), 'utf8')) as RuntimeConfig;
  expect(Object.keys(parsed.key_value_store ?? {})).toEqual(['default']);
  const def = parsed.key_value_store!.default!;
  return { type: def.type, raw: def.url! };
}

describe('runtime configs', () => {
  it('az.toml is the Azure Cache for Redis template (TLS port 6380, no real key)', () => {
    const { type, raw } = store('az.toml');
    expect(type).toBe('redis');
    expect(raw).toBe('rediss://:<URL-ENCODED-ACCESS-KEY>@<name>.redis.cache.windows.net:6380');
    expect(readFileSync(join(REPO_ROOT, 'az.toml'), 'utf8')).toContain('deploy/render-runtime-config.sh');
  });

  it('runtime-config/azure-managed-redis.toml is the Azure Managed Redis template (port 10000)', () => {
    const { type, raw } = store('runtime-config/azure-managed-redis.toml');
    expect(type).toBe('redis');
    expect(raw).toBe('rediss://:<URL-ENCODED-ACCESS-KEY>@<name>.<region>.redis.azure.net:10000');
    expect(readFileSync(join(REPO_ROOT, 'runtime-config/azure-managed-redis.toml'), 'utf8')).toMatch(/EnterpriseCluster/);
  });

  it('runtime-config/redis.toml points at a local Redis', () => {
    const { type, raw } = store('runtime-config/redis.toml');
    expect(type).toBe('redis');
    expect(raw).toBe('redis://127.0.0.1:6379');
    expect(new URL(raw).port).toBe('6379');
  });

  it.skipIf(!hasTool('git'))('rendered configs are git-ignored, the templates are not', () => {
    const ignored = (path: string) => spawnSync('git', ['-C', REPO_ROOT, 'check-ignore', '-q', path]).status === 0;
    expect(ignored('runtime-config/azure.rendered.toml')).toBe(true);
    expect(ignored('runtime-config/azure-managed-redis.rendered.toml')).toBe(true);
    expect(ignored('az.toml')).toBe(false);
    expect(ignored('runtime-config/redis.toml')).toBe(false);
  });
});
