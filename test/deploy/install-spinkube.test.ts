import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandLines, createSandbox, type Sandbox } from './fakes';

const SCRIPT = 'install-spinkube.sh';

// The install sequence documented for spin-operator v0.6.1 ("Installing with Helm", SpinKube docs).
const EXPECTED = [
  'kubectl apply -f https://github.com/cert-manager/cert-manager/releases/download/v1.20.0/cert-manager.yaml',
  'kubectl wait --for=condition=available --timeout=300s deployment --all -n cert-manager',
  'helm upgrade --install runtime-class-manager --namespace runtime-class-manager --create-namespace --version 0.2.0 --wait oci://ghcr.io/spinframework/charts/runtime-class-manager',
  'kubectl apply -f https://github.com/spinframework/containerd-shim-spin/releases/download/v0.25.1/runtime-class-manager-shim-v1alpha1-v0.25.1.yaml',
  'kubectl label node --all spin=true --overwrite',
  'kubectl get runtimeclass wasmtime-spin-v2 -o name',
  'kubectl apply -f https://github.com/spinframework/spin-operator/releases/download/v0.6.1/spin-operator.crds.yaml',
  'helm upgrade --install spin-operator --namespace spin-operator --create-namespace --version 0.6.1 --wait oci://ghcr.io/spinframework/charts/spin-operator',
  'kubectl apply --namespace default -f https://github.com/spinframework/spin-operator/releases/download/v0.6.1/spin-operator.shim-executor.yaml',
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
    for (const v of ['CERT_MANAGER_VERSION', 'RUNTIME_CLASS_MANAGER_VERSION', 'SPIN_SHIM_VERSION', 'SPIN_OPERATOR_VERSION', '0.6.1']) {
      expect(r.stdout).toContain(v);
    }
    expect(r.calls).toEqual([]);
  });

  it('installs cert-manager, the node installer, the CRDs, the operator and the executor in order', () => {
    const r = sb.run(SCRIPT);
    expect(r.stderr).not.toContain('error:');
    expect(r.status).toBe(0);
    expect(commandLines(r.calls)).toEqual(EXPECTED);
  });

  it('takes every version from an overridable variable', () => {
    const r = sb.run(SCRIPT, [], {
      env: { CERT_MANAGER_VERSION: 'v1.19.1', RUNTIME_CLASS_MANAGER_VERSION: '0.1.0', SPIN_SHIM_VERSION: 'v0.23.0', SPIN_OPERATOR_VERSION: '0.6.0', NAMESPACE: 'apps' },
    });
    expect(r.status).toBe(0);
    const lines = commandLines(r.calls);
    expect(lines).toContain('kubectl apply -f https://github.com/cert-manager/cert-manager/releases/download/v1.19.1/cert-manager.yaml');
    expect(lines.find((l) => l.includes('runtime-class-manager --namespace'))).toContain('--version 0.1.0');
    expect(lines).toContain('kubectl apply -f https://github.com/spinframework/containerd-shim-spin/releases/download/v0.23.0/runtime-class-manager-shim-v1alpha1-v0.23.0.yaml');
    expect(lines).toContain('kubectl apply -f https://github.com/spinframework/spin-operator/releases/download/v0.6.0/spin-operator.crds.yaml');
    expect(lines.find((l) => l.startsWith('helm upgrade --install spin-operator'))).toContain('--version 0.6.0');
    expect(lines.at(-1)).toBe('kubectl apply --namespace apps -f https://github.com/spinframework/spin-operator/releases/download/v0.6.0/spin-operator.shim-executor.yaml');
  });

  it('refuses a shim that embeds Spin older than 3.2, before touching the cluster', () => {
    const r = sb.run(SCRIPT, [], { env: { SPIN_SHIM_VERSION: 'v0.18.0' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Spin < 3\.2/);
    expect(r.calls).toEqual([]);
  });

  it('--dry-run runs nothing and prints the same commands', () => {
    const r = sb.run(SCRIPT, ['--dry-run']);
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([]);
    for (const line of EXPECTED) expect(r.stdout).toContain(line);
  });

  it.each(['kubectl', 'helm'] as const)('stops with a clear message when %s is missing', (tool) => {
    const r = sb.run(SCRIPT, [], { without: [tool] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`'${tool}' is required`);
    expect(r.calls).toEqual([]);
  });
});
