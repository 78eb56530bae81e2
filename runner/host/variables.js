// fermyon:spin/variables@2.0.0: names are checked like Spin checks them, and only variables the
// component declares are visible. Values are resolved once at start-up (see manifest.js).

const VALID_NAME = /^[a-z][a-z0-9_]*$/;

/** @param {Map<string, string>} resolved the component's variables, already resolved */
export function variablesImport(resolved) {
  return {
    get(name) {
      if (!VALID_NAME.test(name) || name.includes('__') || name.endsWith('_')) {
        throw { tag: 'invalid-name', val: `invalid variable name "${name}"` };
      }
      const value = resolved.get(name);
      if (value === undefined) throw { tag: 'undefined', val: `no variable named "${name}"` };
      return value;
    },
  };
}
