// Test support for the deploy scripts: recording fakes of az, kubectl, helm, spin and curl.
//
// Each fake is a small bash script written into a temporary bin directory that comes first on PATH.
// It appends one record per call to calls.log (tool, pid, stdin file, argv; fields separated by
// \x1f), keeps what it read from stdin (kubectl apply -f -, spin registry login --password-stdin)
// in a file of its own, and prints canned output. PATH holds nothing else but links to the few
// system tools the scripts use, so a "missing tool" really is missing.

import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEPLOY_DIR = join(REPO_ROOT, 'deploy');

/** Values the fakes hand out; none of them may ever show up in argv or in a script's output. */
export const SECRETS = {
  // shaped like an Azure access key: base64 with + / =
  redisKey: 'Zq3+Tk/9vXw2=Rm+Lp/8Hs4Jd6Nc0Ba1Ye5Wu7Oi=',
  registryPassword: 'acrPush+Pw/Zx9=Kq4+Vb',
  adminToken: 'adminTok3n+/=Qw8Er5Ty2',
} as const;

export const FAKE_SUBSCRIPTION_ID = '00000000-1111-2222-3333-444444444444';
export const FAKE_REDIS_HOST = 'redis-cwar-test01.redis.cache.windows.net';
export const FAKE_AMR_HOST = 'amr-cwar-test01.westeurope.redis.azure.net';

const SYSTEM_TOOLS = [
  'bash', 'cat', 'dirname', 'basename', 'mktemp', 'mv', 'chmod', 'rm', 'mkdir', 'sed', 'grep', 'head',
  'tr', 'base64', 'cksum', 'id', 'uname', 'git', 'openssl', 'sleep', 'date', 'sha256sum', 'kill',
  // the real curl, for tests that run without the fake (`without: ['curl']`)
  'curl',
];

export const FAKE_TOOLS = ['az', 'kubectl', 'helm', 'spin', 'curl'] as const;

/** The kubectl context the fakes report as current unless FAKE_KUBE_CONTEXT says otherwise. */
export const PROJECT_CONTEXT = 'aks-cache-with-az-redis';
export type FakeTool = (typeof FAKE_TOOLS)[number];

function which(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

export const BASH = which('bash') ?? '/bin/bash';
export const hasTool = (tool: string): boolean => which(tool) !== undefined;

const RECORD = `
record() { # record TOOL STDIN_FILE ARGS...
  local tool=$1 stdin_file=$2 sep=$'\\x1f' line a
  shift 2
  line="$tool$sep$$$sep$stdin_file"
  for a in "$@"; do line+="$sep$a"; done
  printf '%s\\n' "$line" >>"$FAKE_DIR/calls.log"
}
save_stdin() { # save_stdin TOOL -> prints the file name
  local f="$FAKE_DIR/stdin/$1.$$.txt"
  cat >"$f"
  printf '%s' "$f"
}
`;

const FAKE_SCRIPTS: Record<FakeTool, string> = {
  az: `#!/usr/bin/env bash
${RECORD}
record az "" "$@"
args=" $* "
case "$args" in
" version "*) echo "\${FAKE_AZ_VERSION:-2.80.0}" ;;
*" account show "*)
  [[ "\${FAKE_AZ_NOT_LOGGED_IN:-}" == 1 ]] && { echo "Please run 'az login' to setup account." >&2; exit 1; }
  echo "Fake Subscription" ;;
*" --only-show-errors -o none "*)
  [[ "\${FAKE_AZ_ALL_EXIST:-}" == 1 ]] && exit 0
  # FAKE_AZ_EXISTING: '|'-separated starts of the show commands that find something
  IFS='|' read -ra existing <<<"\${FAKE_AZ_EXISTING:-}"
  for e in "\${existing[@]}"; do [[ -n "$e" && "$*" == "$e"* ]] && exit 0; done
  echo "(ResourceNotFound) not found" >&2; exit 3 ;;
*" redis show "*"--query provisioningState "*) echo Succeeded ;;
*" redis show "*"--query id "*) echo "/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Cache/Redis/fake" ;;
*" redis show "*"--query hostName "*) echo "${FAKE_REDIS_HOST}" ;;
*" redis create "*)
  [[ "\${FAKE_REDIS_CREATE_RETIRED:-}" == 1 ]] && {
    echo "(BadRequest) Creation of new Azure Cache for Redis resources is no longer supported. Azure Cache for Redis is retiring, please create Azure Managed Redis instead." >&2; exit 1; } ;;
*" redis list-keys "*) printf '%s\\n' "$FAKE_REDIS_KEY" ;;
*" redisenterprise show "*"--query provisioningState "*) echo Succeeded ;;
*" redisenterprise show "*"--query id "*) echo "/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Cache/redisEnterprise/fake" ;;
*" redisenterprise show "*) echo "${FAKE_AMR_HOST}" ;;
*" redisenterprise database show "*accessKeysAuthentication*) printf '%s\\n%s\\n' "\${FAKE_AMR_POLICY:-EnterpriseCluster}" "\${FAKE_AMR_ACCESS_KEYS:-Enabled}" ;;
*" redisenterprise database show "*) echo "\${FAKE_AMR_POLICY:-EnterpriseCluster}" ;;
*" redisenterprise database list-keys "*) printf '%s\\n' "$FAKE_REDIS_KEY" ;;
*" rest --method post "*)
  [[ "\${FAKE_REDIS_NAME_TAKEN:-}" == 1 ]] && { echo "(NameNotAvailable) The name is already in use." >&2; exit 1; } ;;
*" network vnet subnet show "*) echo "/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/fake" ;;
*" acr check-name "*"--query nameAvailable "*) echo "\${FAKE_ACR_NAME_AVAILABLE:-true}" ;;
*" acr check-name "*"--query message "*) echo "The registry name is already in use." ;;
*" acr token create "*) printf '%s\\n' "$FAKE_ACR_PASSWORD" ;;
*" group exists "*) echo "\${FAKE_AZ_GROUP_EXISTS:-true}" ;;
esac
exit 0
`,
  kubectl: `#!/usr/bin/env bash
${RECORD}
stdin_file=""
args=" $* "
case "$args" in
*" apply "*"-f - "*) stdin_file="$(save_stdin kubectl)" ;;
esac
record kubectl "$stdin_file" "$@"
current="\${FAKE_KUBE_CONTEXT-${PROJECT_CONTEXT}}"
case "$args" in
" config current-context ")
  [[ -n "$current" ]] || { echo "error: current-context is not set" >&2; exit 1; }
  echo "$current" ;;
" config get-contexts "*)
  for c in \${FAKE_KUBE_CONTEXTS:-${PROJECT_CONTEXT} other}; do [[ "$c" == "$3" ]] && { echo "* $c"; exit 0; }; done
  echo "error: context $3 not found" >&2; exit 1 ;;
*" get secret "*"runtime-config"*)
  [[ -n "\${FAKE_KUBECTL_RUNTIME_CONFIG_B64:-}" ]] || { echo 'Error from server (NotFound): secrets not found' >&2; exit 1; }
  printf '%s' "$FAKE_KUBECTL_RUNTIME_CONFIG_B64" ;;
*" get secret "*)
  [[ -n "\${FAKE_KUBECTL_SECRET_TOKEN_B64:-}" ]] || { echo 'Error from server (NotFound): secrets not found' >&2; exit 1; }
  printf '%s' "$FAKE_KUBECTL_SECRET_TOKEN_B64" ;;
*" get nodes "*) for ((i = 0; i < \${FAKE_NODE_COUNT:-2}; i++)); do echo "node/aks-nodepool1-$i"; done ;;
*" get shim "*) printf '%s' "\${FAKE_SHIM_READY:-2}" ;;
*" get pods "*) for p in \${FAKE_PODS:-}; do echo "$p"; done ;;
*" port-forward "*)
  # FAKE_PF_PORTS: pod=port pairs; the fake claims to forward there and stays up like kubectl does
  for pair in \${FAKE_PF_PORTS:-}; do
    [[ "$args" == *" pod/\${pair%%=*} "* ]] && { echo "Forwarding from 127.0.0.1:\${pair#*=} -> 80"; exec sleep 60; }
  done
  echo "error: unable to forward" >&2; exit 1 ;;
*" get runtimeclass "*) echo "runtimeclass.node.k8s.io/wasmtime-spin-v2" ;;
*" apply "*) echo "applied" ;;
esac
exit 0
`,
  helm: `#!/usr/bin/env bash
${RECORD}
record helm "" "$@"
echo "Release has been upgraded. Happy Helming!"
exit 0
`,
  spin: `#!/usr/bin/env bash
${RECORD}
stdin_file=""
args=" $* "
case "$args" in
*" --password-stdin "*) stdin_file="$(save_stdin spin)" ;;
esac
record spin "$stdin_file" "$@"
case "$args" in
" kube --help ") [[ "\${FAKE_SPIN_NO_KUBE:-}" == 1 ]] && { echo "Error: 'kube' is not a known command" >&2; exit 1; }; echo "spin kube plugin" ;;
" kube scaffold "*)
  from="" cfg="" replicas=2
  while (($#)); do
    case "$1" in
    --from | -f) from=$2; shift ;;
    --runtime-config-file | -c) cfg=$2; shift ;;
    --replicas | -r) replicas=$2; shift ;;
    esac
    shift
  done
  name="\${from%%:*}"; name="\${name##*/}"
  printf 'apiVersion: core.spinkube.dev/v1alpha1\\nkind: SpinApp\\nmetadata:\\n  name: %s\\nspec:\\n  image: "%s"\\n  executor: containerd-shim-spin\\n  replicas: %s\\n  runtimeConfig:\\n    loadFromSecret: %s-runtime-config\\n---\\napiVersion: v1\\nkind: Secret\\nmetadata:\\n  name: %s-runtime-config\\ntype: Opaque\\ndata:\\n  runtime-config.toml: %s\\n' \\
    "$name" "$from" "$replicas" "$name" "$name" "$(base64 <"$cfg" | tr -d '\\n')" ;;
*" registry login "*) echo "Successfully logged in as spin-push to registry" ;;
*" registry push "*) echo "Pushed with digest sha256:0000" ;;
esac
exit 0
`,
  curl: `#!/usr/bin/env bash
${RECORD}
stdin_file=""
args=" $* "
[[ "$args" == *" -K - "* ]] && stdin_file="$(save_stdin curl)"
record curl "$stdin_file" "$@"
url="\${!#}"
missing() { [[ -n "\${FAKE_CURL_MISSING:-}" && "$url" == *"$FAKE_CURL_MISSING"* ]]; }
case "$args" in
*" -fsSLI "*) missing && { echo "curl: (22) The requested URL returned error: 404" >&2; exit 22; }; exit 0 ;;
*" -fsSL "*)
  missing && { echo "curl: (22) The requested URL returned error: 404" >&2; exit 22; }
  printf 'apiVersion: runtime.spinkube.dev/v1alpha1\\nkind: Shim\\nmetadata:\\n  name: spin-v2\\nspec:\\n  nodeSelector:\\n    spin: "true"\\n  fetchStrategy:\\n    platforms:\\n      - os: linux\\n        arch: x86_64\\n        location: "https://github.com/spinframework/containerd-shim-spin/releases/download/%s/containerd-shim-spin-v2-linux-x86_64.tar.gz"\\n' "\${FAKE_SHIM_VERSION:-v0.23.0}" ;;
*" -D - "*)
  host="\${url#https://}"; host="\${host%%/*}"
  case "\${FAKE_REGISTRY_AUTH:-bearer}" in
  bearer) printf 'HTTP/1.1 401 Unauthorized\\r\\nWww-Authenticate: Bearer realm="https://%s/oauth2/token",service="%s"\\r\\n\\r\\n' "$host" "$host" ;;
  basic) printf 'HTTP/1.1 401 Unauthorized\\r\\nWww-Authenticate: Basic realm="registry"\\r\\n\\r\\n' ;;
  open) printf 'HTTP/1.1 200 OK\\r\\n\\r\\n' ;;
  esac ;;
*" -w "*) printf '%s' "\${FAKE_REGISTRY_CRED_STATUS:-200}" ;;
esac
exit 0
`,
};

export interface Call {
  tool: string;
  args: string[];
  /** what the fake read on stdin, when it read it */
  stdin?: string;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: Call[];
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  without?: FakeTool[];
}

export interface Sandbox {
  root: string;
  home: string;
  bin: string;
  fakeDir: string;
  /** run a deploy script with the fakes first on PATH */
  run(script: string, args?: string[], opts?: RunOptions): RunResult;
  /** the same without blocking the event loop (for tests that serve HTTP from this process) */
  runAsync(script: string, args?: string[], opts?: RunOptions): Promise<RunResult>;
  calls(): Call[];
  cleanup(): void;
}

export function createSandbox(): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'cwar-deploy-'));
  const home = join(root, 'home');
  const sysbin = join(root, 'sysbin');
  const fakeDir = join(root, 'fake');
  mkdirSync(home);
  mkdirSync(sysbin);
  mkdirSync(join(fakeDir, 'stdin'), { recursive: true });
  writeFileSync(join(fakeDir, 'calls.log'), '');
  for (const tool of SYSTEM_TOOLS) {
    const real = which(tool);
    if (real) symlinkSync(real, join(sysbin, tool));
  }
  const binFor = (without: FakeTool[]): string => {
    const key = without.slice().sort().join('-') || 'all';
    const bin = join(root, `bin-${key}`);
    if (!existsSync(bin)) {
      mkdirSync(bin);
      for (const tool of FAKE_TOOLS) {
        if (without.includes(tool)) continue;
        const path = join(bin, tool);
        writeFileSync(path, FAKE_SCRIPTS[tool]);
        chmodSync(path, 0o755);
      }
    }
    return bin;
  };

  const calls = (): Call[] => {
    const text = readFileSync(join(fakeDir, 'calls.log'), 'utf8');
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        const [tool = '', , stdinFile = '', ...args] = line.split('\x1f');
        const call: Call = { tool, args };
        if (stdinFile) call.stdin = readFileSync(stdinFile, 'utf8');
        return call;
      });
  };

  const envFor = (opts: RunOptions): Record<string, string> => {
    const env: Record<string, string> = {
      PATH: `${binFor(opts.without ?? [])}${delimiter}${sysbin}`,
      HOME: home,
      FAKE_DIR: fakeDir,
      FAKE_REDIS_KEY: SECRETS.redisKey,
      FAKE_ACR_PASSWORD: SECRETS.registryPassword,
      NAME_SUFFIX: 'test01',
      POLL_SECONDS: '0',
    };
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    return env;
  };

  return {
    root,
    home,
    bin: binFor([]),
    fakeDir,
    calls,
    run(script, args = [], opts = {}) {
      const res = spawnSync(BASH, [join(DEPLOY_DIR, script), ...args], {
        cwd: root,
        env: envFor(opts),
        input: opts.input ?? '',
        encoding: 'utf8',
        timeout: 30_000,
      });
      if (res.error) throw res.error;
      return { status: res.status, stdout: res.stdout, stderr: res.stderr, calls: calls() };
    },
    runAsync(script, args = [], opts = {}) {
      return new Promise((resolveRun, reject) => {
        const child = spawn(BASH, [join(DEPLOY_DIR, script), ...args], { cwd: root, env: envFor(opts), stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const timer = setTimeout(() => child.kill('SIGTERM'), 30_000);
        child.on('error', reject);
        child.on('close', (status) => {
          clearTimeout(timer);
          resolveRun({ status, stdout, stderr, calls: calls() });
        });
        child.stdin.end(opts.input ?? '');
      });
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The secrets in every form a leak could take: raw, percent-encoded and base64. */
export function secretForms(secret: string): string[] {
  return [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')];
}

/** Throws when a secret shows up in any argv of a recorded call or in the given texts. */
export function findLeaks(result: RunResult, secrets: string[]): string[] {
  const leaks: string[] = [];
  for (const secret of secrets) {
    for (const form of secretForms(secret)) {
      for (const call of result.calls) {
        if (call.args.some((a) => a.includes(form))) leaks.push(`${call.tool} argv contains ${JSON.stringify(form)}`);
      }
      if (result.stdout.includes(form)) leaks.push(`stdout contains ${JSON.stringify(form)}`);
      if (result.stderr.includes(form)) leaks.push(`stderr contains ${JSON.stringify(form)}`);
    }
  }
  return leaks;
}

/** "az redis create ..." style one-liners, for readable order assertions. */
export function commandLines(calls: Call[]): string[] {
  return calls.map((c) => [c.tool, ...c.args].join(' '));
}

/** Index of the first call whose command line starts with `prefix`; -1 when there is none. */
export function indexOfCall(calls: Call[], prefix: string): number {
  return commandLines(calls).findIndex((line) => line.startsWith(prefix));
}

export function findCall(calls: Call[], prefix: string): Call | undefined {
  const i = indexOfCall(calls, prefix);
  return i === -1 ? undefined : calls[i];
}

/** Value following `flag` in argv. */
export function flagValue(call: Call | undefined, flag: string): string | undefined {
  if (!call) return undefined;
  const i = call.args.indexOf(flag);
  return i === -1 ? undefined : call.args[i + 1];
}

export const DEPLOY_REGISTRY = 'acrcwartest01.azurecr.io';
export const DEPLOY_REDIS_URL = `rediss://:${encodeURIComponent(SECRETS.redisKey)}@rediscwartest01.westeurope.redis.azure.net:10000`;

/**
 * A sandbox as deploy-app.sh expects it after provisioning and rendering: a rendered runtime
 * config and the registry token file, written the way `az … -o tsv` writes it (trailing newline).
 */
export function createDeploySandbox(): { sb: Sandbox; configFile: string; tokenFile: string } {
  const sb = createSandbox();
  const configFile = join(sb.root, 'azure.rendered.toml');
  writeFileSync(configFile, `[key_value_store.default]\ntype = "redis"\nurl = "${DEPLOY_REDIS_URL}"\n`, { mode: 0o600 });
  const dir = join(sb.home, '.config', 'cache-with-az-redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tokenFile = join(dir, 'acrcwartest01-push-token');
  writeFileSync(tokenFile, `${SECRETS.registryPassword}\n`, { mode: 0o600 });
  return { sb, configFile, tokenFile };
}
