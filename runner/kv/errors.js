/**
 * Errors shared by the key-value backends.
 *
 * Kept in its own module so that `index.js` (the factory) and the backend
 * modules can all import it without an import cycle.
 *
 * @module runner/kv/errors
 */

/**
 * A key-value backend operation failed. The message is short, human-readable
 * and never contains credentials; the WASI host maps it to the WIT
 * `error::other(<message>)` case of `fermyon:spin/key-value@2.0.0`.
 */
export class KvBackendError extends Error {
  /**
   * @param {string} message
   * @param {{ cause?: unknown }} [options]
   */
  constructor(message, options) {
    super(message, options);
    this.name = 'KvBackendError';
  }
}

/**
 * Best-effort scrubbing of credentials from free text that may come from a
 * third party (a driver error, a TOML parser excerpt, ...):
 *  - the userinfo part of any `redis://` / `rediss://` URL becomes `***`;
 *  - every literal occurrence of the given secrets (raw and percent-encoded)
 *    becomes `***`.
 *
 * @param {string} text
 * @param {Array<string | undefined | null>} [secrets]
 * @returns {string}
 */
export function redactSecrets(text, secrets = []) {
  let out = String(text).replace(/(rediss?:\/\/)[^\s"'@/]*@/gi, '$1***@');
  for (const secret of secrets) {
    if (!secret) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      out = out.split(form).join('***');
    }
  }
  return out;
}
