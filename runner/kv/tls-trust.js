// The CA certificates Spin trusts for `rediss://`: redis-rs connects through native-tls, which on
// Linux is OpenSSL with its default verify paths after openssl-probe has pointed SSL_CERT_FILE and
// SSL_CERT_DIR at the system store when they are unset. So the trust is the system store, or what
// those two variables name instead; Node's bundled Mozilla list plays no part.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { rootCertificates } from 'node:tls';

// openssl-probe's candidate locations (the directories it searches, most common first).
const PROBE_DIRS = ['/etc/ssl', '/etc/pki/tls', '/etc/pki/ca-trust/extracted/pem', '/usr/lib/ssl', '/usr/local/ssl',
  '/usr/ssl', '/usr/share/ssl', '/usr/local/etc/openssl', '/etc/openssl', '/var/ssl', '/opt/etc/ssl', '/etc/certs'];
const PROBE_FILES = ['cert.pem', 'certs.pem', 'ca-bundle.pem', 'cacert.pem', 'ca-certificates.crt',
  'certs/ca-certificates.crt', 'certs/ca-root-nss.crt', 'certs/ca-bundle.crt', 'CARootCertificates.pem', 'tls-ca-bundle.pem'];

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

const isFile = (p) => statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
const isDir = (p) => statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

function probeFile() {
  for (const dir of PROBE_DIRS) {
    for (const file of PROBE_FILES) if (isFile(path.join(dir, file))) return path.join(dir, file);
  }
  return undefined;
}

function probeDir() {
  return PROBE_DIRS.map((dir) => path.join(dir, 'certs')).find(isDir);
}

/** @param {string} file */
function certificatesIn(file) {
  try {
    return readFileSync(file, 'latin1').match(PEM) ?? [];
  } catch {
    return [];
  }
}

/**
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {{ ca: string[], sources: string[] }} the PEM certificates, and where they came from
 */
export function opensslTrust(env = process.env) {
  // openssl-probe keeps a variable that names an existing path and replaces one that does not.
  const file = env.SSL_CERT_FILE && isFile(env.SSL_CERT_FILE) ? env.SSL_CERT_FILE : probeFile();
  const dirs = env.SSL_CERT_DIR ? env.SSL_CERT_DIR.split(':').filter(isDir) : [];
  if (dirs.length === 0 && probeDir()) dirs.push(/** @type {string} */ (probeDir()));
  const ca = new Set(file ? certificatesIn(file) : []);
  for (const dir of dirs) {
    for (const name of readdirSync(dir)) {
      const entry = path.join(dir, name);
      if (isFile(entry)) for (const cert of certificatesIn(entry)) ca.add(cert);
    }
  }
  // Kept from Node for those who already rely on it.
  if (env.NODE_EXTRA_CA_CERTS) for (const cert of certificatesIn(env.NODE_EXTRA_CA_CERTS)) ca.add(cert);
  const sources = [file, ...dirs, env.NODE_EXTRA_CA_CERTS].filter((s) => typeof s === 'string' && s !== '');
  // No OpenSSL store at all (not Linux): the nearest thing is Node's own list.
  if (!file && dirs.length === 0) return { ca: [...rootCertificates, ...ca], sources: ['node'] };
  return { ca: [...ca], sources };
}
