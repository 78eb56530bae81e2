// The subset of a Spin manifest (v2) this runner understands: HTTP triggers, components with a
// local source, key_value_stores, and variables with `{{ name }}` templates.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';

export class ManifestError extends Error {}

/**
 * @typedef {{ id: string, source: string, keyValueStores: string[], variables: Record<string, string> }} Component
 * @typedef {{ route: string, component: Component }} HttpRoute
 * @typedef {{ file: string, dir: string, name: string, version?: string, routes: HttpRoute[],
 *   variables: Record<string, { default?: string, required?: boolean, secret?: boolean }> }} Manifest
 * @param {string} file path to spin.toml
 * @returns {Manifest}
 */
export function loadManifest(file) {
  const where = (key) => `${file}: ${key}`;
  let doc;
  try {
    doc = /** @type {any} */ (parseToml(readFileSync(file, 'utf8')));
  } catch (error) {
    if (error.code === 'ENOENT') throw new ManifestError(`${file}: not found`);
    // Only the parser's first line: the rest quotes the source, which may hold a secret.
    const reason = String(error.message).split('\n')[0].replace(/^Invalid TOML document:\s*/, '');
    const at = error.line ? ` at line ${error.line}, column ${error.column}` : '';
    throw new ManifestError(`${file}: ${error.code ? `cannot read (${error.code})` : `malformed TOML${at}: ${reason}`}`);
  }
  if (doc.spin_manifest_version !== 2) throw new ManifestError(where('spin_manifest_version must be 2'));
  const dir = path.dirname(path.resolve(file));

  const components = new Map(
    Object.entries(doc.component ?? {}).map(([id, spec]) => {
      if (typeof spec.source !== 'string') {
        throw new ManifestError(where(`component.${id}.source: only a local file path is supported`));
      }
      return [id, {
        id,
        source: path.resolve(dir, spec.source),
        keyValueStores: spec.key_value_stores ?? [],
        variables: spec.variables ?? {},
      }];
    }),
  );

  const triggers = doc.trigger?.http ?? [];
  if (triggers.length === 0) throw new ManifestError(where('no [[trigger.http]] found'));
  const routes = triggers.map((trigger, index) => {
    const key = `trigger.http[${index}]`;
    if (typeof trigger.route !== 'string' || !trigger.route.startsWith('/')) {
      throw new ManifestError(where(`${key}.route must be a path starting with "/"`));
    }
    if (/\/:|\.\.\.(?!$)/.test(trigger.route)) {
      throw new ManifestError(where(`${key}.route "${trigger.route}": only exact routes and a trailing "/..." are supported`));
    }
    const component = components.get(trigger.component);
    if (!component) throw new ManifestError(where(`${key}.component "${trigger.component}" is not defined`));
    return { route: trigger.route, component };
  });

  const version = typeof doc.application?.version === 'string' ? doc.application.version : undefined;
  return { file, dir, name: doc.application?.name ?? path.basename(dir), version, routes, variables: doc.variables ?? {} };
}

/**
 * Picks the route Spin would: an exact match first, then the longest wildcard prefix.
 * @param {HttpRoute[]} routes
 * @param {string} pathname
 * @returns {{ route: HttpRoute, basePath: string, pathInfo: string } | null}
 */
export function matchRoute(routes, pathname) {
  const exact = routes.find((r) => r.route === pathname);
  if (exact) return { route: exact, basePath: pathname, pathInfo: '' };
  let best = null;
  for (const route of routes) {
    if (!route.route.endsWith('/...')) continue;
    const prefix = route.route.slice(0, -'/...'.length);
    const matches = pathname === prefix || pathname.startsWith(`${prefix}/`) || prefix === '';
    if (matches && (!best || prefix.length > best.prefix.length)) best = { route, prefix };
  }
  return best && { route: best.route, basePath: best.prefix || '/', pathInfo: pathname.slice(best.prefix.length) };
}

/**
 * Resolves a component's variables from the application variables, with Spin's provider order:
 * `--variable` first, then `SPIN_VARIABLE_<NAME>` from the environment or, when the environment
 * does not have it, from the `.env` file in the current directory (spin
 * crates/variables-env/src/lib.rs: `dotenv_path` defaults to `.env`, read only for a variable the
 * environment lacks), then the default.
 * @param {Manifest} manifest
 * @param {Component} component
 * @param {{ cli: Map<string, string>, env: NodeJS.ProcessEnv, dotenv?: Map<string, string> }} providers
 * @returns {Map<string, string>}
 */
export function resolveVariables(manifest, component, { cli, env, dotenv = new Map() }) {
  const appValue = (name) => {
    const spec = manifest.variables[name];
    if (!spec) throw new ManifestError(`${manifest.file}: component.${component.id}.variables refers to undefined variable "${name}"`);
    const key = `SPIN_VARIABLE_${name.toUpperCase()}`;
    const value = cli.get(name) ?? env[key] ?? dotenv.get(key) ?? spec.default;
    if (value === undefined) {
      throw new ManifestError(`variable "${name}" is required: pass --variable ${name}=… or set ${key} (in the environment or .env)`);
    }
    return value;
  };
  return new Map(
    Object.entries(component.variables).map(([name, template]) => [
      name,
      String(template).replace(/\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/g, (_, ref) => appValue(ref)),
    ]),
  );
}
