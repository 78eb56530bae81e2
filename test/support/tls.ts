/**
 * Test TLS material made with the `openssl` CLI: a throw-away CA and a server
 * certificate it signs, valid for `IP:127.0.0.1` and `DNS:localhost`.
 *
 * Usage:
 *
 *     import { generateTlsFiles } from '../support/tls';
 *     const tls = generateTlsFiles();           // sync, ~50 ms (EC P-256 keys)
 *     // tls.caCert / tls.serverCert / tls.serverKey are file paths,
 *     // tls.caPem is the CA certificate text (e.g. for NODE_EXTRA_CA_CERTS or `ca:`)
 *     tls.cleanup();                            // removes the temp dir
 *
 * Pair with `startRedisServer({ tls })` from `./redis-server`.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TlsFiles {
  /** directory holding every file below */
  dir: string;
  /** CA certificate (PEM file): trust this to trust the server */
  caCert: string;
  /** CA private key (PEM file) */
  caKey: string;
  /** server certificate (PEM file), SAN IP:127.0.0.1, DNS:localhost */
  serverCert: string;
  /** server private key (PEM file) */
  serverKey: string;
  /** contents of caCert */
  caPem: string;
  /** removes `dir` (idempotent) */
  cleanup(): void;
}

export interface TlsOptions {
  /** where to write the files (default: a new temp dir, removed by cleanup()) */
  dir?: string;
  /** validity in days (default 2) */
  days?: number;
}

/** True when the `openssl` CLI can be run. */
export function hasOpenssl(): boolean {
  const r = spawnSync('openssl', ['version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

/** Generates a CA and a server certificate signed by it (synchronously). */
export function generateTlsFiles(options: TlsOptions = {}): TlsFiles {
  if (!hasOpenssl()) throw new Error('openssl not found on PATH (install the openssl package)');
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'kv-tls-'));
  fs.mkdirSync(dir, { recursive: true });
  const days = String(options.days ?? 2);
  const f = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  openssl(
    'req', '-x509', ...ecKey, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', days,
    '-subj', '/CN=kv test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  );
  openssl('req', '-new', ...ecKey, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost');
  fs.writeFileSync(
    f('server.ext'),
    [
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
    ].join('\n') + '\n',
  );
  openssl(
    'x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-out', f('server.crt'), '-days', days, '-extfile', f('server.ext'),
  );

  return {
    dir,
    caCert: f('ca.crt'),
    caKey: f('ca.key'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    caPem: fs.readFileSync(f('ca.crt'), 'utf8'),
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
