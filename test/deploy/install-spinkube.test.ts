import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandLines, createSandbox, findCall, type Sandbox } from './fakes';

const SCRIPT = 'install-spinkube.sh';
const K = 'kubectl --context aks-cache-with-az-redis';
const H = 'helm --kube-context aks-cache-with-az-redis';
const CERT_MANAGER = 'https://github.com/cert-manager/cert-manager/releases/download/v1.20.0/cert-manager.yaml';
const CRDS = 'https://github.com/spinframework/spin-operator/releases/download/v0.6.1/spin-operator.crds.yaml';
const EXECUTOR = 'https://github.com/spinframework/spin-operator/releases/download/v0.6.1/spin-operator.shim-executor.yaml';
// The Shim the SpinKube documentation applies, published by runtime-class-manager at its own tag.
const SHIM = 'https://raw.githubusercontent.com/spinframework/runtime-class-manager/v0.2.0/config/samples/sample_shim_spin.yaml';

// The install sequence documented for spin-operator v0.6.1 ("Installing with Helm", SpinKube docs),
// after checking every artifact, pinned to the project's kubectl context.
const EXPECTED = [
  `curl -fsSLI --max-time 60 ${CERT_MANAGER}`,
  `curl -fsSLI --max-time 60 ${CRDS}`,
  `curl -fsSLI --max-time 60 ${EXECUTOR}`,
  `curl -fsSL --max-time 60 ${SHIM}`,
  'kubectl config current-context',
  `${K} apply -f ${CERT_MANAGER}`,
  `${K} wait --for=condition=available --timeout=300s deployment --all -n cert-manager`,
  `${H} upgrade --install runtime-class-manager --namespace runtime-class-manager --create-namespace --version 0.2.0 --wait oci://ghcr.io/spinframework/charts/runtime-class-manager`,
  `${K} apply -f -`,
  `${K} get nodes -l spin=true -o name`,
  `${K} get shim spin-v2 -o jsonpath={.status.nodesReady}`,
  `${K} apply -f ${CRDS}`,
  `${H} upgrade --install spin-operator --namespace spin-operator --create-namespace --version 0.6.1 --wait oci://ghcr.io/spinframework/charts/spin-operator`,
  `${K} apply --namespace default -f ${EXECUTOR}`,
];

let sb: Sandbox;
beforeEach(() => {
  sb = createSandbox();
});
afterEach(() => sb.cleanup());

describe('deploy/install-spinkube.sh', () => {
  it('--help exits 0 with usage and the pinned versions', () => {
    const r = sb.run(SCRIPT, ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: deploy/install-spinkube.sh');
    for (const v of ['CERT_MANAGER_VERSION', 'RUNTIME_CLASS_MANAGER_VERSION', 'SPIN_OPERATOR_VERSION', '0.6.1', '--context', 'nodesReady']) {
      expect(r.stdout).toContain(v);
    }
    expect(r.calls).toEqual([]);
  });

  it('checks every artifact, then installs cert-manager, the shim, the CRDs, the operator and the executor in order', () => {
    const r = sb.run(SCRIPT);
    expect(r.stderr).not.toContain('error:');
    expect(r.status).toBe(0);
    expect(commandLines(r.calls)).toEqual(EXPECTED);
    // the Shim applied is the manifest that was downloaded and checked
    const shim = findCall(r.calls, `${K} apply -f -`);
    expect(shim?.stdin).toContain('kind: Shim');
    expect(shim?.stdin).toContain('containerd-shim-spin/releases/download/v0.23.0/');
    expect(r.stderr).toContain('Shim spin-v2 installs containerd-shim-spin v0.23.0');
    expect(r.stderr).toContain('shim ready on all 2 nodes labelled spin=true');
  });

  it('stops, naming the URL, when an artifact is missing, before touching the cluster', () => {
    for (const missing of [CERT_MANAGER, EXECUTOR, SHIM]) {
      const r = sb.run(SCRIPT, [], { env: { FAKE_CURL_MISSING: missing } });
      expect(r.status, missing).not.toBe(0);
      expect(r.stderr).toContain(missing);
      expect(r.calls.filter((c) => c.tool !== 'curl'), missing).toEqual([]);
    }
  });

  it('refuses a Shim whose shim embeds Spin older than 3.2, before touching the cluster', () => {
    const r = sb.run(SCRIPT, [], { env: { FAKE_SHIM_VERSION: 'v0.18.0' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/containerd-shim-spin v0\.18\.0, which embeds Spin < 3\.2/);
    expect(r.calls.filter((c) => c.tool !== 'curl')).toEqual([]);
  });

  it('waits until the shim is ready on every labelled node, and gives up with a pointer to the logs', () => {
    const r = sb.run(SCRIPT, [], { env: { FAKE_NODE_COUNT: '3', FAKE_SHIM_READY: '2', SHIM_WAIT_SECONDS: '0' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('the shim is ready on 2 of 3 nodes labelled spin=true');
    expect(r.stderr).toContain('kubectl logs -n runtime-class-manager');
    expect(commandLines(r.calls.filter((c) => c.tool !== 'curl')).some((l) => l.includes('spin-operator'))).toBe(false);
  });

  it('stops when no node carries the label, and says how to label the node pool', () => {
    const r = sb.run(SCRIPT, [], { env: { FAKE_NODE_COUNT: '0' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('no node carries the label spin=true');
    expect(r.stderr).toContain('az aks nodepool update');
    expect(r.stderr).toContain('--label-nodes');
  });

  it('--label-nodes labels the current nodes (clusters not made by provision.sh)', () => {
    const r = sb.run(SCRIPT, ['--label-nodes']);
    expect(r.status).toBe(0);
    const lines = commandLines(r.calls);
    expect(lines.indexOf(`${K} label node --all spin=true --overwrite`)).toBe(lines.indexOf(`${K} apply -f -`) + 1);
  });

  it('takes every version from an overridable variable', () => {
    const r = sb.run(SCRIPT, [], {
      env: { CERT_MANAGER_VERSION: 'v1.19.1', RUNTIME_CLASS_MANAGER_VERSION: '0.1.0', SPIN_OPERATOR_VERSION: '0.6.0', NAMESPACE: 'apps' },
    });
    expect(r.status).toBe(0);
    const lines = commandLines(r.calls);
    expect(lines).toContain(`${K} apply -f https://github.com/cert-manager/cert-manager/releases/download/v1.19.1/cert-manager.yaml`);
    expect(lines.find((l) => l.includes('runtime-class-manager --namespace'))).toContain('--version 0.1.0');
    expect(lines).toContain('curl -fsSL --max-time 60 https://raw.githubusercontent.com/spinframework/runtime-class-manager/v0.1.0/config/samples/sample_shim_spin.yaml');
    expect(lines).toContain(`${K} apply -f https://github.com/spinframework/spin-operator/releases/download/v0.6.0/spin-operator.crds.yaml`);
    expect(lines.find((l) => l.startsWith(`${H} upgrade --install spin-operator`))).toContain('--version 0.6.0');
    expect(lines.at(-1)).toBe(`${K} apply --namespace apps -f https://github.com/spinframework/spin-operator/releases/download/v0.6.0/spin-operator.shim-executor.yaml`);
  });

  it('--dry-run runs nothing and prints the same commands', () => {
    const r = sb.run(SCRIPT, ['--dry-run']);
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([]);
    for (const line of EXPECTED.filter((l) => !l.startsWith('kubectl config') && !l.includes(' get '))) {
      expect(r.stdout).toContain(line.replace(/ -f -$/, ' -f - <<<').replace('{.status.nodesReady}', "'{.status.nodesReady}'"));
    }
    expect(r.stdout).toContain(`# wait until: ${K} get shim spin-v2 -o 'jsonpath={.status.nodesReady}'`);
  });

  it.each(['kubectl', 'helm'] as const)('stops with a clear message when %s is missing', (tool) => {
    const r = sb.run(SCRIPT, [], { without: [tool] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`'${tool}' is required`);
    expect(r.calls).toEqual([]);
  });
});

describe('deploy/install-spinkube.sh acts only on the project cluster', () => {
  it('refuses another current context, touching nothing, and says how to proceed', () => {
    const r = sb.run(SCRIPT, [], { env: { FAKE_KUBE_CONTEXT: 'prod-cluster' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("the current kubectl context is 'prod-cluster', not this project's cluster 'aks-cache-with-az-redis'");
    expect(r.stderr).toContain('kubectl config use-context aks-cache-with-az-redis');
    expect(r.stderr).toContain('--context prod-cluster');
    expect(r.calls.filter((c) => c.tool !== 'curl').map((c) => [c.tool, ...c.args].join(' '))).toEqual(['kubectl config current-context']);
  });

  it('refuses when there is no current context', () => {
    const r = sb.run(SCRIPT, [], { env: { FAKE_KUBE_CONTEXT: '' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('kubectl has no current context');
    expect(r.calls.filter((c) => c.tool === 'helm')).toEqual([]);
  });

  it('--context NAME acts on that context only, on every kubectl and helm call', () => {
    const r = sb.run(SCRIPT, ['--context', 'other'], { env: { FAKE_KUBE_CONTEXT: 'prod-cluster' } });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("acting on kubectl context 'other' (--context); the current context stays 'prod-cluster'");
    const cluster = r.calls.filter((c) => c.tool !== 'curl' && c.args[0] !== 'config');
    expect(cluster.length).toBeGreaterThan(8);
    for (const c of cluster) {
      expect(c.args.slice(0, 2), c.args.join(' ')).toEqual(c.tool === 'helm' ? ['--kube-context', 'other'] : ['--context', 'other']);
    }
  });

  it('--context with an unknown context stops', () => {
    const r = sb.run(SCRIPT, ['--context', 'nope']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("kubectl has no context named 'nope'");
    expect(r.calls.filter((c) => c.tool === 'helm')).toEqual([]);
  });
});
