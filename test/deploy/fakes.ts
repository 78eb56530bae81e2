// Test support for the deploy scripts: recording fakes of az, kubectl, helm and spin.
//
// Each fake is a small bash script written into a temporary bin directory that comes first on PATH.
// It appends one record per call to calls.log (tool, pid, stdin file, argv; fields separated by
// \x1f), keeps what it read from stdin (kubectl apply -f -, spin registry login --password-stdin)
// in a file of its own, and prints canned output. PATH holds nothing else but links to the few
// system tools the scripts use, so a "missing tool" really is missing.

import { spawnSync } from 'node:child_process';
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
  'tr', 'base64', 'cksum', 'id', 'uname', 'git', 'openssl', 'sleep',
];

export const FAKE_TOOLS = ['az', 'kubectl', 'helm', 'spin'] as const;
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
*" account show "*)
  [[ "\${FAKE_AZ_NOT_LOGGED_IN:-}" == 1 ]] && { echo "Please run 'az login' to setup account." >&2; exit 1; }
  echo "Fake Subscription" ;;
*" --only-show-errors -o none "*)
  [[ "\${FAKE_AZ_ALL_EXIST:-}" == 1 ]] && exit 0
  echo "(ResourceNotFound) not found" >&2; exit 3 ;;
*" redis show "*"--query provisioningState "*) echo Succeeded ;;
*" redis show "*"--query id "*) echo "/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Cache/Redis/fake" ;;
*" redis show "*"--query hostName "*) echo "${FAKE_REDIS_HOST}" ;;
*" redis list-keys "*) printf '%s\\n' "$FAKE_REDIS_KEY" ;;
*" redisenterprise show "*) echo "${FAKE_AMR_HOST}" ;;
*" redisenterprise database show "*) echo "\${FAKE_AMR_POLICY:-EnterpriseCluster}" ;;
*" redisenterprise database list-keys "*) printf '%s\\n' "$FAKE_REDIS_KEY" ;;
*" network vnet subnet show "*) echo "/subscriptions/${FAKE_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/fake" ;;
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
*" apply "*" -f - "*) stdin_file="$(save_stdin kubectl)" ;;
esac
record kubectl "$stdin_file" "$@"
case "$args" in
*" get secret "*)
  [[ -n "\${FAKE_KUBECTL_SECRET_TOKEN_B64:-}" ]] || { echo 'Error from server (NotFound): secrets not found' >&2; exit 1; }
  printf '%s' "$FAKE_KUBECTL_SECRET_TOKEN_B64" ;;
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

export interface Sandbox {
  root: string;
  home: string;
  bin: string;
  fakeDir: string;
  /** run a deploy script with the fakes first on PATH */
  run(script: string, args?: string[], opts?: { env?: Record<string, string | undefined>; input?: string; without?: FakeTool[] }): RunResult;
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

  return {
    root,
    home,
    bin: binFor([]),
    fakeDir,
    calls,
    run(script, args = [], opts = {}) {
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
      const res = spawnSync(BASH, [join(DEPLOY_DIR, script), ...args], {
        cwd: root,
        env,
        input: opts.input ?? '',
        encoding: 'utf8',
        timeout: 30_000,
      });
      if (res.error) throw res.error;
      return { status: res.status, stdout: res.stdout, stderr: res.stderr, calls: calls() };
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
