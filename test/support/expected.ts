// The wire contract, written out by hand on purpose: if src changes the catalog or its
// serialization, the tests must fail rather than follow along.
export const ITEMS_JSON =
  '[{"id":1,"title":"Black Coffee"},{"id":2,"title":"Latte"},{"id":3,"title":"Caramel Latte"},{"id":4,"title":"Cappuccino"},{"id":5,"title":"Americano"},{"id":6,"title":"Espresso"}]';

export const ITEMS_JSON_LENGTH = 178;

// `items:` and the first 16 hex digits of the SHA-256 of ITEMS_JSON.
export const ITEMS_KEY = 'items:3fe5576b38495813';

// The first 32 hex digits of the SHA-256 of ITEMS_JSON, quoted.
export const ITEMS_ETAG = '"3fe5576b38495813882981082a040241"';
