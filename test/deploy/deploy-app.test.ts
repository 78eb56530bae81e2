import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, SECRETS, commandLines, createDeploySandbox, DEPLOY_REDIS_URL, DEPLOY_REGISTRY, findCall, findLeaks, hasTool, indexOfCall, type Call, type Sandbox } from './fakes';

const SCRIPT = 'deploy-app.sh';
const REGISTRY = DEPLOY_REGISTRY;
const IMAGE = `${REGISTRY}/cache-with-az-redis:t1`;
const SECRET_NAME = 'cache-with-az-redis-secrets';
const REDIS_URL = DEPLOY_REDIS_URL;
const CTX = 'aks-cache-with-az-redis';
const APPLY_ARGS = ['--context', CTX, 'apply', '--server-side', '--field-manager=cache-with-az-redis', '--namespace', 'default', '-f', '-'];

// Facts copied from the spin-operator v0.6.1 SpinApp CRD (spinapps.core.spinkube.dev, v1alpha1):
// the fields this app uses, which of them are required, and the properties each object allows.
const CRD = {
  apiVersion: 'core.spinkube.dev/v1alpha1',
  kind: 'SpinApp',
  spec: {
    required: ['executor', 'image'],
    properties: [
      'checks', 'components', 'deploymentAnnotations', 'enableAutoscaling', 'executor', 'image', 'imagePullSecrets',
      'invocationLimits', 'podAnnotations', 'podLabels', 'replicas', 'resources', 'runtimeConfig', 'serviceAccountName',
      'serviceAnnotations', 'variables', 'volumeMounts', 'volumes',
    ],
  },
  runtimeConfig: { properties: ['keyValueStores', 'llmCompute', 'loadFromSecret', 'sqliteDatabases'] },
  keyValueStore: { required: ['name', 'type'], properties: ['name', 'options', 'type'] },
  option: { required: ['name'], properties: ['name', 'value', 'valueFrom'] },
  optionValueFrom: { properties: ['configMapKeyRef', 'secretKeyRef'] },
  variable: { required: ['name'], properties: ['name', 'value', 'valueFrom'] },
  variableValueFrom: { properties: ['configMapKeyRef', 'fieldRef', 'resourceFieldRef', 'secretKeyRef'] },
  secretKeyRef: { required: ['key'], properties: ['key', 'name', 'optional'] },
  checks: { properties: ['liveness', 'readiness'] },
  probe: { properties: ['failureThreshold', 'httpGet', 'initialDelaySeconds', 'periodSeconds', 'successThreshold', 'timeoutSeconds'] },
  httpGet: { required: ['path'], properties: ['httpHeaders', 'path'] },
} as const;

type Obj = Record<string, unknown>;

function conforms(value: unknown, schema: { required?: readonly string[]; properties: readonly string[] }, where: string): Obj {
  expect(value, where).toBeTypeOf('object');
  const obj = value as Obj;
  for (const key of schema.required ?? []) expect(obj, `${where} requires ${key}`).toHaveProperty(key);
  for (const key of Object.keys(obj)) expect(schema.properties, `${where} has unknown field ${key}`).toContain(key);
  return obj;
}

/** Validate a SpinApp document against the CRD facts above; returns its spec. */
function validateSpinApp(doc: Obj): Obj {
  expect(doc.apiVersion).toBe(CRD.apiVersion);
  expect(doc.kind).toBe(CRD.kind);
  expect((doc.metadata as Obj | undefined)?.name).toBeTypeOf('string');
  const spec = conforms(doc.spec, CRD.spec, 'spec');
  if (spec.runtimeConfig !== undefined) {
    const rc = conforms(spec.runtimeConfig, CRD.runtimeConfig, 'spec.runtimeConfig');
    for (const [i, store] of ((rc.keyValueStores as unknown[]) ?? []).entries()) {
      const s = conforms(store, CRD.keyValueStore, `keyValueStores[${i}]`);
      for (const [j, option] of ((s.options as unknown[]) ?? []).entries()) {
        const o = conforms(option, CRD.option, `keyValueStores[${i}].options[${j}]`);
        if (o.valueFrom !== undefined) {
          const vf = conforms(o.valueFrom, CRD.optionValueFrom, 'option.valueFrom');
          if (vf.secretKeyRef !== undefined) conforms(vf.secretKeyRef, CRD.secretKeyRef, 'option.valueFrom.secretKeyRef');
        }
      }
    }
  }
  for (const [i, variable] of ((spec.variables as unknown[]) ?? []).entries()) {
    const v = conforms(variable, CRD.variable, `variables[${i}]`);
    if (v.valueFrom !== undefined) {
      const vf = conforms(v.valueFrom, CRD.variableValueFrom, 'variable.valueFrom');
      if (vf.secretKeyRef !== undefined) conforms(vf.secretKeyRef, CRD.secretKeyRef, 'variable.valueFrom.secretKeyRef');
    }
  }
  if (spec.checks !== undefined) {
    const checks = conforms(spec.checks, CRD.checks, 'spec.checks');
    for (const probe of ['liveness', 'readiness']) {
      if (checks[probe] === undefined) continue;
      const p = conforms(checks[probe], CRD.probe, `checks.${probe}`);
      if (p.httpGet !== undefined) conforms(p.httpGet, CRD.httpGet, `checks.${probe}.httpGet`);
    }
  }
  return spec;
}

let sb: Sandbox;
let configFile: string;
let tokenFile: string;
beforeEach(() => {
  ({ sb, configFile, tokenFile } = createDeploySandbox());
});
afterEach(() => sb.cleanup());

const applies = (calls: Call[]): Call[] => calls.filter((c) => c.tool === 'kubectl' && c.args.includes('apply'));
const b64 = (s: unknown): string => Buffer.from(String(s), 'base64').toString('utf8');

describe('deploy/deploy-app.sh --mode secret (default)', () => {
  const baseArgs = () => ['--tag', 't1', '--runtime-config', configFile];

  it('logs in with the password on stdin, pushes, then applies the Secret and the SpinApp', () => {
    const r = sb.run(SCRIPT, baseArgs(), { env: { CACHE_ADMIN_TOKEN: SECRETS.adminToken } });
    expect(r.stderr).not.toContain('error:');
    expect(r.status).toBe(0);
    const calls = r.calls;

    const login = findCall(calls, 'spin registry login');
    expect(login?.args).toEqual(['registry', 'login', '--username', 'spin-push', '--password-stdin', REGISTRY]);
    expect(login?.stdin).toBe(SECRETS.registryPassword); // exact bytes: the token file ends with \n
    expect(commandLines(calls)).toContain(`spin registry push --build ${IMAGE}`);

    const [secretApply, appApply] = applies(calls);
    expect(secretApply?.args).toEqual(APPLY_ARGS);
    expect(appApply?.args).toEqual(APPLY_ARGS);
    const order = [indexOfCall(calls, 'spin registry login'), indexOfCall(calls, 'spin registry push'), calls.indexOf(secretApply!), calls.indexOf(appApply!)];
    expect(order).toEqual([...order].sort((a, b) => a - b));

    const secret = parseYaml(secretApply!.stdin!) as Obj;
    expect(secret.kind).toBe('Secret');
    expect((secret.metadata as Obj).name).toBe(SECRET_NAME);
    const data = secret.data as Obj;
    expect(b64(data['redis-url'])).toBe(REDIS_URL);
    expect(b64(data['cache-admin-token'])).toBe(SECRETS.adminToken);

    expect(findLeaks(r, [SECRETS.registryPassword, SECRETS.redisKey, SECRETS.adminToken, REDIS_URL])).toEqual([]);
  });

  it('applies a SpinApp that conforms to the v0.6.1 CRD and reads both secrets by reference', () => {
    const r = sb.run(SCRIPT, baseArgs(), { env: { CACHE_ADMIN_TOKEN: SECRETS.adminToken } });
    expect(r.status).toBe(0);
    const appApply = applies(r.calls)[1]!;
    const docs = parseAllDocuments(appApply.stdin!);
    expect(docs).toHaveLength(1);
    const app = docs[0]!.toJS() as Obj;
    const spec = validateSpinApp(app);

    expect((app.metadata as Obj).name).toBe('cache-with-az-redis');
    expect((app.metadata as Obj).namespace).toBe('default');
    expect(spec.image).toBe(IMAGE);
    expect(spec.executor).toBe('containerd-shim-spin');
    expect(spec.replicas).toBe(2);
    expect(spec.runtimeConfig).toEqual({
      keyValueStores: [
        { name: 'default', type: 'redis', options: [{ name: 'url', valueFrom: { secretKeyRef: { name: SECRET_NAME, key: 'redis-url' } } }] },
      ],
    });
    expect(spec.variables).toEqual([{ name: 'cache_admin_token', valueFrom: { secretKeyRef: { name: SECRET_NAME, key: 'cache-admin-token' } } }]);
    expect(Object.keys(spec.podAnnotations as Obj)).toEqual(['cache-with-az-redis/secret-checksum']);
    expect((spec.podAnnotations as Obj)['cache-with-az-redis/secret-checksum']).toMatch(/^[0-9a-f]{16}$/);
    expect(spec.checks).toEqual({
      liveness: { httpGet: { path: '/healthz' } },
      readiness: { httpGet: { path: '/readyz' }, timeoutSeconds: 2, periodSeconds: 10, failureThreshold: 2, successThreshold: 1 },
    });
    // nothing secret in the SpinApp itself
    expect(appApply.stdin).not.toContain(SECRETS.adminToken);
    expect(appApply.stdin).not.toContain(encodeURIComponent(SECRETS.redisKey));
  });

  it('honours --replicas, --namespace and APP_NAME', () => {
    const r = sb.run(SCRIPT, [...baseArgs(), '--replicas', '3', '--namespace', 'apps'], { env: { CACHE_ADMIN_TOKEN: SECRETS.adminToken, APP_NAME: 'cache-demo' } });
    expect(r.status).toBe(0);
    const [secretApply, appApply] = applies(r.calls);
    expect(secretApply!.args).toContain('apps');
    const app = parseYaml(appApply!.stdin!) as Obj;
    const spec = validateSpinApp(app);
    expect(spec.replicas).toBe(3);
    expect(app.metadata).toEqual({ name: 'cache-demo', namespace: 'apps' });
    expect(JSON.stringify(spec)).toContain('cache-demo-secrets');
  });

  it('keeps the admin token already stored in the Secret', () => {
    const existing = 'existing-Token+/=123';
    const r = sb.run(SCRIPT, baseArgs(), { env: { FAKE_KUBECTL_SECRET_TOKEN_B64: Buffer.from(existing).toString('base64') } });
    expect(r.status).toBe(0);
    expect(commandLines(r.calls)).toContain(`kubectl --context ${CTX} get secret ${SECRET_NAME} --namespace default -o jsonpath={.data.cache-admin-token}`);
    const secret = parseYaml(applies(r.calls)[0]!.stdin!) as Obj;
    expect(b64((secret.data as Obj)['cache-admin-token'])).toBe(existing);
    expect(findLeaks(r, [existing])).toEqual([]);
  });

  it.skipIf(!hasTool('openssl'))('generates an admin token when none exists and never prints it', () => {
    const r = sb.run(SCRIPT, baseArgs());
    expect(r.status).toBe(0);
    const secret = parseYaml(applies(r.calls)[0]!.stdin!) as Obj;
    const token = b64((secret.data as Obj)['cache-admin-token']);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(findLeaks(r, [token])).toEqual([]);
    expect(r.stderr).toContain(`kubectl get secret ${SECRET_NAME}`); // how to read it back
  });

  it('takes the registry password from REGISTRY_PASSWORD and the URL from REDIS_URL', () => {
    const url = 'rediss://:x%2By@other.redis.cache.windows.net:6380';
    const r = sb.run(SCRIPT, ['--tag', 't1', '--runtime-config', join(sb.root, 'missing.toml')], {
      env: { REGISTRY_PASSWORD: 'env-Pass+/=9\r\n', REDIS_URL: url, CACHE_ADMIN_TOKEN: SECRETS.adminToken, REGISTRY: 'example.azurecr.io', REDIS_KIND: 'cache' },
    });
    expect(r.status).toBe(0);
    const login = findCall(r.calls, 'spin registry login');
    expect(login?.stdin).toBe('env-Pass+/=9');
    expect(login?.args.at(-1)).toBe('example.azurecr.io');
    expect(b64(((parseYaml(applies(r.calls)[0]!.stdin!) as Obj).data as Obj)['redis-url'])).toBe(url);
    expect(findLeaks(r, ['env-Pass+/=9', url])).toEqual([]);
  });

  it('derives the tag from the git commit when --tag is not given, marking a dirty tree', () => {
    const git = (...args: string[]): string =>
      // same environment as the script gets, so git's view (safe.directory etc.) is the same
      execFileSync('git', ['-C', REPO_ROOT, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: sb.home }, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    let sha: string;
    let dirty: boolean;
    try {
      sha = git('rev-parse', '--short', 'HEAD');
      dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    } catch {
      return; // not a git checkout: nothing to compare with
    }
    const r = sb.run(SCRIPT, ['--runtime-config', configFile], { env: { CACHE_ADMIN_TOKEN: SECRETS.adminToken } });
    expect(r.status).toBe(0);
    const push = commandLines(r.calls).find((l) => l.startsWith('spin registry push'))!;
    if (dirty) {
      expect(push).toMatch(new RegExp(`^spin registry push --build ${REGISTRY}/cache-with-az-redis:${sha}-dirty-\\d{14}$`));
      expect(r.stderr).toContain('uncommitted changes');
    } else {
      expect(push).toBe(`spin registry push --build ${REGISTRY}/cache-with-az-redis:${sha}`);
    }
  });

  it('--skip-login and --skip-push deploy an existing image only', () => {
    const r = sb.run(SCRIPT, [...baseArgs(), '--skip-login', '--skip-push'], { env: { CACHE_ADMIN_TOKEN: SECRETS.adminToken } });
    expect(r.status).toBe(0);
    expect(r.calls.filter((c) => c.tool === 'spin')).toEqual([]);
    expect(applies(r.calls)).toHaveLength(2);
  });
});

describe('deploy/deploy-app.sh --mode scaffold', () => {
  it('pipes spin kube scaffold (runtime config in a Secret) into kubectl apply', () => {
    const r = sb.run(SCRIPT, ['--mode', 'scaffold', '--tag', 't1', '--runtime-config', configFile, '--replicas', '2']);
    expect(r.stderr).not.toContain('error:');
    expect(r.status).toBe(0);
    const lines = commandLines(r.calls);
    expect(lines).toContain(`spin registry push --build ${IMAGE}`);
    expect(lines).toContain(`spin kube scaffold --from ${IMAGE} --runtime-config-file ${configFile} --replicas 2`);
    expect(applies(r.calls)[0]!.args).toEqual(APPLY_ARGS);
    expect(lines.some((l) => l.includes('rollout restart'))).toBe(false); // no Secret existed before
    expect(indexOfCall(r.calls, 'spin registry login')).toBeLessThan(indexOfCall(r.calls, 'spin registry push'));
    expect(indexOfCall(r.calls, 'spin registry push')).toBeLessThan(indexOfCall(r.calls, 'spin kube scaffold'));

    const applied = applies(r.calls);
    expect(applied).toHaveLength(1);
    const docs = parseAllDocuments(applied[0]!.stdin!).map((d) => d.toJS() as Obj);
    const app = docs.find((d) => d.kind === 'SpinApp')!;
    const spec = validateSpinApp(app);
    expect(spec.image).toBe(IMAGE);
    expect(spec.replicas).toBe(2);
    expect(spec.runtimeConfig).toEqual({ loadFromSecret: 'cache-with-az-redis-runtime-config' });
    expect(r.stderr).toContain('does not set cache_admin_token');
    expect(findLeaks(r, [SECRETS.registryPassword, SECRETS.redisKey])).toEqual([]);
  });

  it('stops before logging in when the spin kube plugin is missing', () => {
    const r = sb.run(SCRIPT, ['--mode', 'scaffold', '--tag', 't1', '--runtime-config', configFile], { env: { FAKE_SPIN_NO_KUBE: '1' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('spin plugins install kube');
    expect(commandLines(r.calls)).toEqual(['spin kube --help']);
  });
});

describe('deploy/deploy-app.sh checks before any side effect', () => {
  it('--help exits 0 with usage', () => {
    const r = sb.run(SCRIPT, ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: deploy/deploy-app.sh');
    expect(r.stdout).toContain('--mode secret|scaffold');
    expect(r.calls).toEqual([]);
  });

  it('--dry-run runs nothing and prints the commands and the SpinApp', () => {
    const r = sb.run(SCRIPT, ['--dry-run', '--tag', 't1', '--runtime-config', configFile]);
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([]);
    expect(r.stdout).toContain(`+ spin registry login --username spin-push --password-stdin ${REGISTRY}`);
    expect(r.stdout).toContain(`+ spin registry push --build ${IMAGE}`);
    expect(r.stdout).toContain(`+ kubectl --context ${CTX} apply --server-side --field-manager=cache-with-az-redis --namespace default -f -`);
    expect(r.stdout).toContain('cache-with-az-redis/secret-checksum: "<sha256 of the Secret data>"');
    expect(r.stdout).toContain('kind: SpinApp');
    expect(findLeaks(r, [SECRETS.registryPassword, SECRETS.redisKey, REDIS_URL])).toEqual([]);

    const scaffold = sb.run(SCRIPT, ['--dry-run', '--mode', 'scaffold', '--tag', 't1', '--runtime-config', configFile]);
    expect(scaffold.status).toBe(0);
    expect(scaffold.calls).toEqual([]);
    expect(scaffold.stdout).toContain(`+ spin kube scaffold --from ${IMAGE} --runtime-config-file ${configFile} --replicas 2 | kubectl --context ${CTX} apply --server-side --field-manager=cache-with-az-redis --namespace default -f -`);
  });

  it.each(['spin', 'kubectl'] as const)('stops with a clear message when %s is missing', (tool) => {
    const r = sb.run(SCRIPT, ['--tag', 't1', '--runtime-config', configFile], { without: [tool] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`'${tool}' is required`);
    expect(r.calls).toEqual([]);
  });

  it('stops when there is no registry password', () => {
    const r = sb.run(SCRIPT, ['--tag', 't1', '--runtime-config', configFile], { env: { ACR_TOKEN_FILE: join(sb.root, 'none') } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('no registry password');
    expect(r.calls).toEqual([]);
  });

  it('stops when the runtime config has not been rendered', () => {
    const r = sb.run(SCRIPT, ['--tag', 't1', '--runtime-config', join(sb.root, 'missing.toml')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('render-runtime-config.sh');
    expect(r.calls).toEqual([]);
  });

  it.each(['secret', 'scaffold'])('refuses the unrendered template az.toml (--mode %s)', (mode) => {
    const r = sb.run(SCRIPT, ['--mode', mode, '--tag', 't1', '--runtime-config', join(REPO_ROOT, 'az.toml')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('placeholders');
    expect(r.calls).toEqual([]);
  });

  it('rejects a bad mode, bad replicas and a bad tag', () => {
    for (const args of [['--mode', 'yolo'], ['--replicas', '0'], ['--replicas', 'two'], ['--tag', 'bad tag']]) {
      const r = sb.run(SCRIPT, ['--tag', 't1', '--runtime-config', configFile, ...args]);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.calls).toEqual([]);
    }
  });
});

describe('deploy/deploy-app.sh paths', () => {
  it('resolves a relative --runtime-config against the directory it was started from', () => {
    // the sandbox runs scripts with cwd = sb.root, where the rendered config lives
    const r = sb.run(SCRIPT, ['--mode', 'scaffold', '--tag', 't1', '--runtime-config', 'azure.rendered.toml']);
    expect(r.stderr).not.toContain('error:');
    expect(r.status).toBe(0);
    expect(commandLines(r.calls)).toContain(`spin kube scaffold --from ${IMAGE} --runtime-config-file ${configFile} --replicas 2`);
  });
});
