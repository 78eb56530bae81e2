// deploy/deploy-app.sh: registry login bytes, the credential check, --push-only, the kubectl context
// guard, rolling the pods when the Secret changes, and the Redis kind of the runtime config.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, SECRETS, commandLines, createDeploySandbox, DEPLOY_REDIS_URL, DEPLOY_REGISTRY, findCall, findLeaks, type Call, type Sandbox } from './fakes';

const SCRIPT = 'deploy-app.sh';
const REGISTRY = DEPLOY_REGISTRY;
const IMAGE = `${REGISTRY}/cache-with-az-redis:t1`;
const REDIS_URL = DEPLOY_REDIS_URL;

type Obj = Record<string, unknown>;

let sb: Sandbox;
let configFile: string;
let tokenFile: string;
beforeEach(() => {
  ({ sb, configFile, tokenFile } = createDeploySandbox());
});
afterEach(() => sb.cleanup());

const baseArgs = () => ['--tag', 't1', '--runtime-config', configFile];
const withToken = { CACHE_ADMIN_TOKEN: SECRETS.adminToken };
const tools = (calls: Call[], tool: string): string[] => commandLines(calls.filter((c) => c.tool === tool));
/** The checksum annotation of the last SpinApp applied (the call log spans every run of a test). */
const checksumOf = (calls: Call[]): string => {
  const app = parseYaml(calls.filter((c) => c.tool === 'kubectl' && c.stdin?.includes('kind: SpinApp')).at(-1)!.stdin!) as Obj;
  return ((app.spec as Obj).podAnnotations as Obj)['cache-with-az-redis/secret-checksum'] as string;
};

describe('registry login', () => {
  it.each([
    ['a trailing LF (az -o tsv)', `${SECRETS.registryPassword}\n`],
    ['a trailing CR LF', `${SECRETS.registryPassword}\r\n`],
    ['no line end', SECRETS.registryPassword],
  ])('sends exactly the password bytes on stdin when the token file has %s', (_label, content) => {
    writeFileSync(tokenFile, content, { mode: 0o600 });
    const r = sb.run(SCRIPT, [...baseArgs(), '--push-only']);
    expect(r.status).toBe(0);
    const login = findCall(r.calls, 'spin registry login');
    expect(Buffer.from(login!.stdin!)).toEqual(Buffer.from(SECRETS.registryPassword));
    expect(findLeaks(r, [SECRETS.registryPassword])).toEqual([]);
  });

  it('an empty password (a file of line ends) stops before logging in', () => {
    writeFileSync(tokenFile, '\r\n', { mode: 0o600 });
    const r = sb.run(SCRIPT, [...baseArgs(), '--push-only']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`the registry password from ${tokenFile} is empty`);
    expect(tools(r.calls, 'spin')).toEqual([]);
  });
});

describe('credential check right after login', () => {
  it('asks an ACR-style (Bearer) registry for a push token with the credentials on stdin, then builds', () => {
    const r = sb.run(SCRIPT, [...baseArgs(), '--push-only']);
    expect(r.status).toBe(0);
    expect(commandLines(r.calls)).toEqual([
      `spin registry login --username spin-push --password-stdin ${REGISTRY}`,
      `curl -sS -o /dev/null -D - --max-time 30 https://${REGISTRY}/v2/`,
      `curl -sS -o /dev/null -w %{http_code} --max-time 30 -K - https://${REGISTRY}/oauth2/token?service=${REGISTRY}&scope=repository:cache-with-az-redis:pull,push`,
      `spin registry push --build ${IMAGE}`,
    ]);
    const check = r.calls[2]!;
    expect(check.stdin).toBe(`user = "spin-push:${SECRETS.registryPassword}"\n`);
    expect(r.stderr).toContain(`registry ${REGISTRY} accepts user spin-push`);
    expect(findLeaks(r, [SECRETS.registryPassword])).toEqual([]);
  });

  it('repeats /v2/ with the credentials on a Basic challenge, trusting SSL_CERT_FILE', () => {
    const r = sb.run(SCRIPT, [...baseArgs(), '--push-only'], { env: { FAKE_REGISTRY_AUTH: 'basic', SSL_CERT_FILE: '/tmp/ca.pem', REGISTRY: 'localhost:5443' } });
    expect(r.status).toBe(0);
    expect(tools(r.calls, 'curl')).toEqual([
      'curl -sS -o /dev/null -D - --max-time 30 --cacert /tmp/ca.pem https://localhost:5443/v2/',
      'curl -sS -o /dev/null -w %{http_code} --max-time 30 -K - --cacert /tmp/ca.pem https://localhost:5443/v2/',
    ]);
  });

  it('escapes quotes and backslashes of the password in the curl config', () => {
    const r = sb.run(SCRIPT, [...baseArgs(), '--push-only'], { env: { REGISTRY_PASSWORD: 'a"b\\c' } });
    expect(r.status).toBe(0);
    expect(findCall(r.calls, 'curl -sS -o /dev/null -w')!.stdin).toBe('user = "spin-push:a\\"b\\\\c"\n');
  });

  it.each(['401', '403'])('a refusal (HTTP %s) stops before any build or push, naming registry, user and password source', (code) => {
    const r = sb.run(SCRIPT, baseArgs(), { env: { FAKE_REGISTRY_CRED_STATUS: code, ...withToken } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`error: registry ${REGISTRY} refused user spin-push with the password from ${tokenFile} (HTTP ${code}); nothing was built or pushed`);
    expect(tools(r.calls, 'spin')).toEqual([`spin registry login --username spin-push --password-stdin ${REGISTRY}`]);
    expect(r.calls.filter((c) => c.tool === 'kubectl' && c.args.includes('apply'))).toEqual([]);
    expect(findLeaks(r, [SECRETS.registryPassword])).toEqual([]);
  });

  it('names the environment variable as the source when the password came from there', () => {
    const r = sb.run(SCRIPT, [...baseArgs(), '--push-only'], { env: { FAKE_REGISTRY_CRED_STATUS: '401', REGISTRY_PASSWORD: 'wrong-Pw+1' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('with the password from the REGISTRY_PASSWORD environment variable (HTTP 401)');
    expect(findLeaks(r, ['wrong-Pw+1'])).toEqual([]);
  });

  it('a registry that asks for no credentials is accepted as is', () => {
    const r = sb.run(SCRIPT, [...baseArgs(), '--push-only'], { env: { FAKE_REGISTRY_AUTH: 'open' } });
    expect(r.status).toBe(0);
    expect(tools(r.calls, 'curl')).toHaveLength(1);
    expect(r.stderr).toContain('asks for no credentials');
  });
});

describe('--push-only', () => {
  it('logs in, checks, builds and pushes, prints the reference on stdout and touches no cluster', () => {
    // no kubectl, no rendered runtime config, and a foreign kubectl context: none of it matters
    const r = sb.run(SCRIPT, ['--tag', 't1', '--push-only', '--runtime-config', join(sb.root, 'missing.toml')], { without: ['kubectl'] });
    expect(r.stderr).not.toContain('error:');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${IMAGE}\n`);
    expect(r.calls.map((c) => c.tool)).toEqual(['spin', 'curl', 'curl', 'spin']);
    expect(r.stderr).toContain(`spin up --from ${IMAGE}`);
  });

  it('--dry-run prints the steps and the reference', () => {
    const r = sb.run(SCRIPT, ['--tag', 't1', '--push-only', '--dry-run']);
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([]);
    expect(r.stdout).toContain(`+ spin registry login --username spin-push --password-stdin ${REGISTRY}`);
    expect(r.stdout).toContain(`+ spin registry push --build ${IMAGE}`);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(IMAGE);
    expect(r.stdout).not.toContain('kubectl');
  });

  it.skipIf(!existsSync(join(REPO_ROOT, 'dist', 'cache-with-az-redis.wasm')))('--no-build pushes dist/ as built', () => {
    const r = sb.run(SCRIPT, ['--tag', 't1', '--push-only', '--no-build']);
    expect(r.status).toBe(0);
    expect(tools(r.calls, 'spin').at(-1)).toBe(`spin registry push ${IMAGE}`);
  });

  it('refuses --skip-push with it', () => {
    const r = sb.run(SCRIPT, ['--tag', 't1', '--push-only', '--skip-push']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--push-only and --skip-push exclude each other');
    expect(r.calls).toEqual([]);
  });
});

describe('kubectl context guard', () => {
  it('refuses another current context before logging in, pushing or applying', () => {
    const r = sb.run(SCRIPT, baseArgs(), { env: { FAKE_KUBE_CONTEXT: 'prod-cluster', ...withToken } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("the current kubectl context is 'prod-cluster', not this project's cluster 'aks-cache-with-az-redis'");
    expect(commandLines(r.calls)).toEqual(['kubectl config current-context']);
  });

  it('--context NAME deploys there, with the context on every kubectl call', () => {
    const r = sb.run(SCRIPT, [...baseArgs(), '--context', 'other'], { env: { FAKE_KUBE_CONTEXT: 'prod-cluster', ...withToken } });
    expect(r.status).toBe(0);
    const cluster = r.calls.filter((c) => c.tool === 'kubectl' && c.args[0] !== 'config');
    expect(cluster).toHaveLength(2);
    for (const c of cluster) expect(c.args.slice(0, 2)).toEqual(['--context', 'other']);
  });
});

describe('secret rotation rolls the pods', () => {
  it('the pod checksum changes with the admin token or the Redis URL, and only then', () => {
    const first = checksumOf(sb.run(SCRIPT, baseArgs(), { env: withToken }).calls);
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    expect(checksumOf(sb.run(SCRIPT, baseArgs(), { env: withToken }).calls)).toBe(first);
    const newToken = sb.run(SCRIPT, baseArgs(), { env: { CACHE_ADMIN_TOKEN: 'another-token' } });
    expect(newToken.status).toBe(0);
    expect(checksumOf(newToken.calls)).not.toBe(first);
    const newKey = sb.run(SCRIPT, baseArgs(), { env: { ...withToken, REDIS_URL: REDIS_URL.replace('%2B', '%2F') } });
    expect(newKey.status).toBe(0);
    expect(checksumOf(newKey.calls)).not.toBe(first);
    expect(findLeaks(newKey, [SECRETS.adminToken, SECRETS.redisKey])).toEqual([]);
  });

  it('scaffold mode restarts the pods when the runtime-config Secret changed, and not otherwise', () => {
    const same = Buffer.from(`[key_value_store.default]\ntype = "redis"\nurl = "${REDIS_URL}"\n`).toString('base64');
    const unchanged = sb.run(SCRIPT, ['--mode', 'scaffold', ...baseArgs()], { env: { FAKE_KUBECTL_RUNTIME_CONFIG_B64: same } });
    expect(unchanged.status).toBe(0);
    expect(commandLines(unchanged.calls).some((l) => l.includes('rollout restart'))).toBe(false);

    const changed = sb.run(SCRIPT, ['--mode', 'scaffold', ...baseArgs()], { env: { FAKE_KUBECTL_RUNTIME_CONFIG_B64: Buffer.from('old').toString('base64') } });
    expect(changed.status).toBe(0);
    expect(commandLines(changed.calls).at(-1)).toBe('kubectl --context aks-cache-with-az-redis rollout restart deployment/cache-with-az-redis --namespace default');
  });
});

describe('Redis kind of the runtime config', () => {
  it('refuses an Azure Cache for Redis URL when the kind is managed, and the reverse', () => {
    const cacheUrl = 'rediss://:k%2B@old.redis.cache.windows.net:6380';
    const r = sb.run(SCRIPT, baseArgs(), { env: { REDIS_URL: cacheUrl, ...withToken } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("the Redis URL points at Azure Cache for Redis, but the Redis kind is 'managed'");
    expect(r.calls).toEqual([]);

    const reverse = sb.run(SCRIPT, [...baseArgs(), '--redis', 'cache'], { env: withToken });
    expect(reverse.status).not.toBe(0);
    expect(reverse.stderr).toContain('render-runtime-config.sh --redis cache');
    expect(findLeaks(reverse, [SECRETS.redisKey])).toEqual([]);

    expect(sb.run(SCRIPT, [...baseArgs(), '--redis', 'cache'], { env: { REDIS_URL: cacheUrl, ...withToken } }).status).toBe(0);
  });
});
