// The wire contract, written out by hand on purpose: if src changes the catalog or its
// serialization, the tests must fail rather than follow along.
export const ITEMS_JSON =
  '[{"id":1,"title":"Black Coffee"},{"id":2,"title":"Latte"},{"id":3,"title":"Caramel Latte"},{"id":4,"title":"Cappuccino"},{"id":5,"title":"Americano"},{"id":6,"title":"Espresso"}]';

export const ITEMS_JSON_LENGTH = 178;

export const ITEMS_KEY = 'items:v1:all';
