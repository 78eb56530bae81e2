// The subset of a Spin manifest (v2) this runner understands: HTTP triggers, components with a
// local source, key_value_stores, and variables with `{{ name }}` templates.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';

export class ManifestError extends Error {}

/**
 * @typedef {{ id: string, source: string, keyValueStores: string[], variables: Record<string, string> }} Component
 * @typedef {{ route: string, component: Component }} HttpRoute
 * @typedef {{ file: string, dir: string, name: string, routes: HttpRoute[],
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
    throw new ManifestError(`${file}: ${error.code === 'ENOENT' ? 'not found' : error.message}`);
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

  return { file, dir, name: doc.application?.name ?? path.basename(dir), routes, variables: doc.variables ?? {} };
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
 * `--variable` first, then `SPIN_VARIABLE_<NAME>`, then the default.
 * @param {Manifest} manifest
 * @param {Component} component
 * @param {{ cli: Map<string, string>, env: NodeJS.ProcessEnv }} providers
 * @returns {Map<string, string>}
 */
export function resolveVariables(manifest, component, { cli, env }) {
  const appValue = (name) => {
    const spec = manifest.variables[name];
    if (!spec) throw new ManifestError(`${manifest.file}: component.${component.id}.variables refers to undefined variable "${name}"`);
    const value = cli.get(name) ?? env[`SPIN_VARIABLE_${name.toUpperCase()}`] ?? spec.default;
    if (value === undefined) {
      throw new ManifestError(`variable "${name}" is required: pass --variable ${name}=… or set SPIN_VARIABLE_${name.toUpperCase()}`);
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
