/** One entry of the menu served by `GET /items`. */
export interface Item {
  readonly id: number;
  readonly title: string;
}

/** The source of truth the cache is filled from. */
export const CATALOG: readonly Item[] = [
  { id: 1, title: 'Black Coffee' },
  { id: 2, title: 'Latte' },
  { id: 3, title: 'Caramel Latte' },
  { id: 4, title: 'Cappuccino' },
  { id: 5, title: 'Americano' },
  { id: 6, title: 'Espresso' },
];

const encoder = new TextEncoder();

/** UTF-8 JSON bytes: the exact form that is stored in the cache and sent on the wire. */
export function serializeItems(items: readonly Item[]): Uint8Array {
  return encoder.encode(JSON.stringify(items));
}

/**
 * The catalog serialized once, at module load, so a request never pays for JSON.stringify.
 * (componentize-js runs top-level code while pre-initializing the component, so this is
 * usually paid at build time.) Treat it as read-only: it is shared by every response.
 */
export const CATALOG_JSON: Uint8Array = serializeItems(CATALOG);
