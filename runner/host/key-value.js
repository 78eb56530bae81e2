// fermyon:spin/key-value@2.0.0 with Spin's rules: a component may only open the labels its
// manifest lists (`access-denied`), a listed label must be configured (`no-such-store`), and any
// backend failure reaches the guest as `other(message)` — thrown as a plain object, because jco
// traps the whole instance on a thrown Error.

/**
 * @typedef {{ get(key: string): Uint8Array | null, set(key: string, value: Uint8Array): void,
 *   delete(key: string): void, exists(key: string): boolean, getKeys(): string[] }} KvBackend
 * @param {{ allowedLabels: string[], backendFor: (label: string) => KvBackend | null }} options
 */
export function keyValueImport({ allowedLabels, backendFor }) {
  const allowed = new Set(allowedLabels);

  const guarded = (operation) => {
    try {
      return operation();
    } catch (error) {
      throw { tag: 'other', val: error instanceof Error ? error.message : String(error) };
    }
  };

  class Store {
    /** @param {KvBackend} backend */
    constructor(backend) {
      this.backend = backend;
    }
    static open(label) {
      if (!allowed.has(label)) throw { tag: 'access-denied' };
      const backend = guarded(() => backendFor(label));
      if (!backend) throw { tag: 'no-such-store' };
      return new Store(backend);
    }
    get(key) {
      return guarded(() => this.backend.get(key)) ?? undefined;
    }
    set(key, value) {
      guarded(() => this.backend.set(key, value));
    }
    delete(key) {
      guarded(() => this.backend.delete(key));
    }
    exists(key) {
      return guarded(() => this.backend.exists(key));
    }
    getKeys() {
      return guarded(() => this.backend.getKeys());
    }
  }

  return { Store };
}
